/* test_store_users.c - users (core/store/users.c). */
#include "store_test_util.h"

static int addr_cb(const store_user_t *u, void *arg)
{
    strcat((char *)arg, u->address);
    strcat((char *)arg, ";");
    return 0;
}

static int mbox_count_cb(const store_mailbox_t *m, void *arg)
{
    (void)m;
    (*(int *)arg)++;
    return 0;
}

static void test_user_add_get(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint64_t id;
    store_user_t u;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_add(t, "Carol.Smith@EXAMPLE.com", "$scrypt$x", 100, 10, &id), 0);
    assert_int_equal(store_user_add(t, "carol.smith@example.com", "", 0, 0, NULL), PETREL_EEXIST);
    assert_int_equal(store_user_add(t, "x@nosuch.org", "", 0, 0, NULL), PETREL_ENOTFOUND);
    assert_int_equal(store_user_add(t, "no-at-sign", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, "a b@example.com", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, ".a@example.com", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, "a..b@example.com", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, "a\n@example.com", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, "@example.com", "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_user_add(t, "a@example.com", "bad hash", 0, 0, NULL), PETREL_EINVAL);
    char local[80];
    memset(local, 'l', 65);
    strcpy(local + 65, "@example.com");
    assert_int_equal(store_user_add(t, local, "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_user_get(t, "CAROL.SMITH@example.COM", &u), 0);
    assert_int_equal(u.id, id);
    assert_int_equal(u.tenant_id, f->tenant);
    assert_string_equal(u.address, "Carol.Smith@example.com");
    assert_string_equal(u.pwhash, "$scrypt$x");
    assert_int_equal(u.quota_bytes, 100);
    assert_int_equal(u.quota_messages, 10);
    assert_int_equal(u.status, STORE_ACTIVE);
    assert_int_equal(u.last_login, 0);
    assert_int_equal(store_user_get_by_id(t, id, &u), 0);
    assert_int_equal(store_user_get_by_id(t, 9999, &u), PETREL_ENOTFOUND);
    assert_int_equal(store_user_get(t, "nobody@example.com", &u), PETREL_ENOTFOUND);
    /* INBOX was created */
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, id, "inbox", &m), 0);
    assert_string_equal(m.name, "INBOX");
    char list[512] = "";
    assert_int_equal(store_user_list(t, f->tenant, addr_cb, list), 0);
    assert_string_equal(list, "alice@example.com;bob@example.com;Carol.Smith@example.com;");
    list[0] = 0;
    assert_int_equal(store_user_list(t, 0, addr_cb, list), 0);
    assert_string_equal(list, "alice@example.com;bob@example.com;Carol.Smith@example.com;");
    store_txn_abort(&t);
}

static void test_user_update(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    store_user_t u;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_get_by_id(t, f->user, &u), 0);
    strcpy(u.pwhash, "$scrypt$new");
    u.status = STORE_SUSPENDED;
    u.quota_bytes = 77;
    u.quota_messages = 7;
    u.last_login = 1700000000;
    strcpy(u.address, "ignored@example.com");
    assert_int_equal(store_user_update(t, &u), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_user_get(t, "alice@example.com", &u), 0);
    assert_string_equal(u.pwhash, "$scrypt$new");
    assert_int_equal(u.status, STORE_SUSPENDED);
    assert_int_equal(u.quota_bytes, 77);
    assert_int_equal(u.quota_messages, 7);
    assert_int_equal(u.last_login, 1700000000);
    store_txn_abort(&t);
    /* mailboxes survive an update (the record keeps the next mailbox id) */
    uint32_t id;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Later", 0, &id), 0);
    assert_int_equal(id, 2);
    assert_int_equal(store_txn_commit(&t), 0);
}

static void test_user_rename(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    store_user_t u;
    uint32_t uid;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "hello", 5, &uid), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_rename(t, "alice@example.com", "bob@example.com"), PETREL_EEXIST);
    assert_int_equal(store_user_rename(t, "nobody@example.com", "x@example.com"), PETREL_ENOTFOUND);
    assert_int_equal(store_user_rename(t, "alice@example.com", "bad address"), PETREL_EINVAL);
    assert_int_equal(store_user_rename(t, "ALICE@example.com", "Alicia@example.com"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_user_get(t, "alice@example.com", &u), PETREL_ENOTFOUND);
    assert_int_equal(store_user_get(t, "alicia@example.com", &u), 0);
    assert_int_equal(u.id, f->user);
    assert_string_equal(u.address, "Alicia@example.com");
    store_msg_t m;
    assert_int_equal(store_msg_get(t, f->user, f->inbox, uid, &m), 0);
    store_txn_abort(&t);
    /* to another tenant: its usage moves along */
    uint64_t other;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_add(t, "other.org", STORE_PROTO_ALL, 0, &other), 0);
    assert_int_equal(store_user_rename(t, "alicia@example.com", "a@other.org"), 0);
    store_usage_t us;
    assert_int_equal(store_quota_tenant(t, other, &us), 0);
    assert_int_equal(us.bytes, 5);
    assert_int_equal(us.messages, 1);
    assert_int_equal(store_quota_tenant(t, f->tenant, &us), 0);
    assert_int_equal(us.bytes, 0);
    assert_int_equal(store_txn_commit(&t), 0);
}

static void test_user_del(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t uid, box;
    char msg[3000];
    sfx_msg(msg, sizeof(msg), 3);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Work/Old", 0, &box), 0);
    assert_int_equal(store_subscribe(t, f->user, "Work", 1), 0);
    assert_int_equal(sfx_append(t, f->user, box, msg, sizeof(msg), 0, &uid), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "only alice", 10, 0, &uid), 0);
    assert_int_equal(sfx_append(t, f->user2, f->inbox2, msg, sizeof(msg), 0, &uid), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_del(t, "Alice@Example.com"), 0);
    assert_int_equal(store_user_del(t, "alice@example.com"), PETREL_ENOTFOUND);
    assert_int_equal(store_txn_commit(&t), 0);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.users, 1);
    assert_int_equal(s.messages, 1);
    assert_int_equal(s.blobs, 1); /* bob's copy keeps the shared blob */
    assert_int_equal(s.blob_bytes, sizeof(msg));
    assert_int_equal(store_read_begin(f->st, &t), 0);
    store_usage_t us;
    assert_int_equal(store_quota_tenant(t, f->tenant, &us), 0);
    assert_int_equal(us.bytes, sizeof(msg));
    assert_int_equal(us.messages, 1);
    assert_int_equal(store_quota_user(t, f->user, &us), PETREL_ENOTFOUND);
    int n = 0;
    assert_int_equal(store_mailbox_list(t, f->user, mbox_count_cb, &n), 0);
    assert_int_equal(n, 0);
    store_txn_abort(&t);
    /* re-created under the same address: a new id, an empty INBOX, a new UIDVALIDITY */
    uint64_t again;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_add(t, "alice@example.com", "", 0, 0, &again), 0);
    assert_int_not_equal(again, f->user);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, again, "INBOX", &m), 0);
    assert_int_equal(m.messages, 0);
    assert_int_equal(store_txn_commit(&t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_add_get, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_user_update, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_user_rename, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_user_del, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
