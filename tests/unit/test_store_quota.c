/* test_store_quota.c - user and tenant quota on append, copy, deliver (core/store/quota.c). */
#include "store_test_util.h"

static void set_quota(sfx_t *f, uint64_t user, uint64_t bytes, uint64_t messages,
                      uint64_t tenant_bytes)
{
    store_txn_t *t;
    store_user_t u;
    store_tenant_t tn;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_get_by_id(t, user, &u), 0);
    u.quota_bytes = bytes;
    u.quota_messages = messages;
    assert_int_equal(store_user_update(t, &u), 0);
    assert_int_equal(store_tenant_get_by_id(t, f->tenant, &tn), 0);
    tn.quota_bytes = tenant_bytes;
    assert_int_equal(store_tenant_update(t, &tn), 0);
    assert_int_equal(store_txn_commit(&t), 0);
}

static store_usage_t usage(sfx_t *f, uint64_t user)
{
    store_txn_t *t;
    store_usage_t u;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_quota_user(t, user, &u), 0);
    store_txn_abort(&t);
    return u;
}

static void test_user_bytes(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    set_quota(f, f->user, 100, 0, 0);
    char msg[60];
    memset(msg, 'a', sizeof(msg));
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 60, &uid), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 41, &uid), PETREL_EQUOTA);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 40, &uid), 0); /* exactly full */
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 1, &uid), PETREL_EQUOTA);
    store_usage_t u = usage(f, f->user);
    assert_int_equal(u.bytes, 100);
    assert_int_equal(u.messages, 2);
    /* the failed appends left nothing behind */
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m.messages, 2);
    /* copy is checked too */
    store_txn_t *t;
    uint32_t nu;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, 1, f->inbox, &nu), PETREL_EQUOTA);
    /* move is not (usage does not change) */
    uint32_t box;
    assert_int_equal(store_mailbox_create(t, f->user, "B", 0, &box), 0);
    assert_int_equal(store_msg_move(t, f->user, f->inbox, 1, box, &nu), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    /* expunge frees room */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f->user, box, nu), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 60, &uid), 0);
    /* other users are not affected */
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, msg, 60, &uid), 0);
}

static void test_user_messages(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    set_quota(f, f->user, 0, 2, 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "1", 1, &uid), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "2", 1, &uid), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "3", 1, &uid), PETREL_EQUOTA);
    store_txn_t *t;
    uint32_t nu;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, 1, f->inbox, &nu), PETREL_EQUOTA);
    store_txn_abort(&t);
    assert_int_equal(usage(f, f->user).messages, 2);
}

static void test_tenant_quota(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    set_quota(f, f->user, 0, 0, 100);
    char msg[70];
    memset(msg, 'b', sizeof(msg));
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 70, &uid), 0);
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, msg, 31, &uid), PETREL_ETENANTQUOTA);
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, msg, 30, &uid), 0);
    store_txn_t *t;
    store_usage_t tu;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_quota_tenant(t, f->tenant, &tu), 0);
    assert_int_equal(store_quota_tenant(t, 999, &tu), PETREL_ENOTFOUND);
    assert_int_equal(store_quota_user(t, 999, &tu), PETREL_ENOTFOUND);
    store_txn_abort(&t);
    assert_int_equal(tu.bytes, 100);
    assert_int_equal(tu.messages, 2);
    uint32_t nu;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, 1, f->inbox, &nu), PETREL_ETENANTQUOTA);
    store_txn_abort(&t);
    /* user quota is reported before tenant quota */
    set_quota(f, f->user, 50, 0, 100);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, 1, &uid), PETREL_EQUOTA);
}

static void test_deliver_partial(void **state)
{
    sfx_t *f = *state;
    uint64_t carol;
    store_txn_t *t;
    store_mailbox_t m;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_add(t, "carol@example.com", "", 0, 0, &carol), 0);
    assert_int_equal(store_mailbox_get(t, carol, "INBOX", &m), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    set_quota(f, f->user2, 10, 0, 0); /* bob is nearly out of room */
    char msg[200];
    sfx_msg(msg, sizeof(msg), 1);
    store_append_t in = {.data = msg, .len = sizeof(msg)};
    store_target_t tg[4] = {{f->user, f->inbox}, {f->user2, f->inbox2}, {carol, m.id}, {999, 1}};
    int res[4];
    uint32_t uids[4];
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_deliver(t, &in, tg, 4, res, uids), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(res[0], 0);
    assert_int_equal(res[1], PETREL_EQUOTA);
    assert_int_equal(res[2], 0);
    assert_int_equal(res[3], PETREL_ENOTFOUND);
    assert_int_equal(uids[0], 1);
    assert_int_equal(uids[2], 1);
    int rc;
    store_mailbox_t b = sfx_mbox(f, f->user2, "INBOX", &rc);
    assert_int_equal(b.messages, 0);
    assert_int_equal(usage(f, f->user2).bytes, 0);
    assert_int_equal(usage(f, carol).bytes, sizeof(msg));
    /* tenant over quota: every target of the tenant fails, nothing is written */
    set_quota(f, f->user2, 0, 0, 300);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_deliver(t, &in, tg, 3, res, uids), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(res[0], PETREL_ETENANTQUOTA);
    assert_int_equal(res[1], PETREL_ETENANTQUOTA);
    assert_int_equal(res[2], PETREL_ETENANTQUOTA);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.messages, 2);
    assert_int_equal(s.blobs, 1);
}

/* One target (no nested transaction): a refused one leaves the caller's transaction as it was. */
static void test_deliver_one(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    char msg[200];
    sfx_msg(msg, sizeof(msg), 1);
    store_append_t in = {.data = msg, .len = sizeof(msg)};
    int res[1] = {-1};
    uint32_t uids[1] = {7};
    set_quota(f, f->user2, 10, 0, 0);
    store_target_t over[1] = {{f->user2, f->inbox2}};
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_deliver(t, &in, over, 1, res, uids), 0);
    assert_int_equal(res[0], PETREL_EQUOTA);
    assert_int_equal(uids[0], 0);
    store_target_t none[1] = {{999, 1}};
    assert_int_equal(store_msg_deliver(t, &in, none, 1, res, uids), 0);
    assert_int_equal(res[0], PETREL_ENOTFOUND);
    store_target_t ok[1] = {{f->user, f->inbox}};
    assert_int_equal(store_msg_deliver(t, &in, ok, 1, res, uids), 0);
    assert_int_equal(res[0], 0);
    assert_int_equal(uids[0], 1);
    assert_int_equal(store_txn_commit(&t), 0);
    int rc;
    store_mailbox_t b = sfx_mbox(f, f->user2, "INBOX", &rc);
    assert_int_equal(b.messages, 0);
    assert_int_equal(usage(f, f->user2).bytes, 0);
    store_mailbox_t a = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(a.messages, 1);
    assert_int_equal(usage(f, f->user).bytes, sizeof(msg));
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.messages, 1);
    assert_int_equal(s.blobs, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_bytes, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_user_messages, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_quota, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_partial, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_one, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
