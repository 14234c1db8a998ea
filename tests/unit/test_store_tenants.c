/* test_store_tenants.c - tenants and alias domains (core/store/tenants.c). */
#include "store_test_util.h"

static int count_cb(const store_tenant_t *t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
    return 0;
}

static int name_cb(const char *name, void *arg)
{
    strcat((char *)arg, name);
    strcat((char *)arg, ";");
    return 0;
}

static void test_tenant_add_get(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint64_t id;
    store_tenant_t tn;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_add(t, "Other.ORG", STORE_PROTO_IMAP, 5000, &id), 0);
    assert_int_equal(store_tenant_add(t, "other.org", STORE_PROTO_IMAP, 0, NULL), PETREL_EEXIST);
    assert_int_equal(store_tenant_add(t, "bad..org", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_tenant_add(t, "bad\x01.org", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_tenant_add(t, "-bad.org", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_tenant_add(t, "", 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_tenant_add(t, "x.org", 99, 0, NULL), PETREL_EINVAL);
    char longd[300];
    memset(longd, 'a', sizeof(longd) - 1);
    longd[sizeof(longd) - 1] = 0;
    assert_int_equal(store_tenant_add(t, longd, 0, 0, NULL), PETREL_EINVAL);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_get(t, "OTHER.org", &tn), 0);
    assert_int_equal(tn.id, id);
    assert_string_equal(tn.domain, "other.org");
    assert_int_equal(tn.protocols, STORE_PROTO_IMAP);
    assert_int_equal(tn.quota_bytes, 5000);
    assert_int_equal(tn.status, STORE_ACTIVE);
    assert_true(tn.created > 0);
    assert_int_equal(store_tenant_get_by_id(t, id, &tn), 0);
    assert_string_equal(tn.domain, "other.org");
    assert_int_equal(store_tenant_get(t, "none.org", &tn), PETREL_ENOTFOUND);
    assert_int_equal(store_tenant_get_by_id(t, 999, &tn), PETREL_ENOTFOUND);
    int n = 0;
    assert_int_equal(store_tenant_list(t, count_cb, &n), 0);
    assert_int_equal(n, 2);
    store_txn_abort(&t);
}

static void test_tenant_update(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    store_tenant_t tn;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_get(t, "example.com", &tn), 0);
    tn.status = STORE_SUSPENDED;
    tn.protocols = STORE_PROTO_POP3;
    tn.quota_bytes = 123;
    strcpy(tn.domain, "ignored.org");
    assert_int_equal(store_tenant_update(t, &tn), 0);
    tn.status = 7;
    assert_int_equal(store_tenant_update(t, &tn), PETREL_EINVAL);
    tn.status = 0;
    tn.id = 999;
    assert_int_equal(store_tenant_update(t, &tn), PETREL_ENOTFOUND);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_get(t, "example.com", &tn), 0);
    assert_int_equal(tn.status, STORE_SUSPENDED);
    assert_int_equal(tn.protocols, STORE_PROTO_POP3);
    assert_int_equal(tn.quota_bytes, 123);
    assert_string_equal(tn.domain, "example.com");
    store_txn_abort(&t);
}

static void test_domain_alias(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    store_tenant_t tn;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_domain_alias_add(t, "example.com", "Example.NET"), 0);
    assert_int_equal(store_domain_alias_add(t, "example.com", "example.org"), 0);
    assert_int_equal(store_domain_alias_add(t, "example.com", "example.net"), PETREL_EEXIST);
    assert_int_equal(store_domain_alias_add(t, "example.com", "example.com"), PETREL_EEXIST);
    assert_int_equal(store_domain_alias_add(t, "nope.com", "x.com"), PETREL_ENOTFOUND);
    assert_int_equal(store_tenant_get(t, "EXAMPLE.net", &tn), 0);
    assert_int_equal(tn.id, f->tenant);
    assert_string_equal(tn.domain, "example.com");
    char names[256] = "";
    assert_int_equal(store_domain_alias_list(t, f->tenant, name_cb, names), 0);
    assert_string_equal(names, "example.net;example.org;");
    /* users are found through the alias domain */
    store_user_t u;
    assert_int_equal(store_user_get(t, "ALICE@example.net", &u), 0);
    assert_int_equal(u.id, f->user);
    assert_string_equal(u.address, "alice@example.com");
    assert_int_equal(store_domain_alias_del(t, "example.com", "example.net"), 0);
    assert_int_equal(store_domain_alias_del(t, "example.com", "example.net"), PETREL_ENOTFOUND);
    assert_int_equal(store_domain_alias_del(t, "example.com", "example.com"), PETREL_ENOTFOUND);
    assert_int_equal(store_user_get(t, "alice@example.net", &u), PETREL_ENOTFOUND);
    /* the tenant cannot be deleted by its alias name */
    assert_int_equal(store_tenant_del(t, "example.org", 1), PETREL_EINVAL);
    assert_int_equal(store_txn_commit(&t), 0);
}

static void test_tenant_del(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint64_t id;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_add(t, "empty.org", STORE_PROTO_ALL, 0, &id), 0);
    assert_int_equal(store_tenant_del(t, "empty.org", 0), 0);
    assert_int_equal(store_tenant_del(t, "empty.org", 0), PETREL_ENOTFOUND);
    assert_int_equal(store_tenant_del(t, "example.com", 0), PETREL_EBUSY);
    assert_int_equal(store_txn_commit(&t), 0);
    /* an alias alone keeps a tenant busy too */
    const char *tg[] = {"x@elsewhere.org"};
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_add(t, "aliased.org", STORE_PROTO_ALL, 0, &id), 0);
    assert_int_equal(store_domain_alias_add(t, "aliased.org", "aliased.net"), 0);
    assert_int_equal(store_alias_set(t, "a@aliased.org", tg, 1), 0);
    assert_int_equal(store_tenant_del(t, "aliased.org", 0), PETREL_EBUSY);
    assert_int_equal(store_tenant_del(t, "aliased.org", 1), 0);
    store_tenant_t tn;
    assert_int_equal(store_tenant_get(t, "aliased.net", &tn), PETREL_ENOTFOUND);
    assert_int_equal(store_txn_commit(&t), 0);
    /* purge: users, messages, blobs, usage all go */
    uint32_t uid;
    char msg[5000];
    sfx_msg(msg, sizeof(msg), 1);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, msg, sizeof(msg), &uid), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_del(t, "EXAMPLE.com", 1), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.tenants, 0);
    assert_int_equal(s.users, 0);
    assert_int_equal(s.mailboxes, 0);
    assert_int_equal(s.messages, 0);
    assert_int_equal(s.blobs, 0);
    assert_int_equal(s.blob_bytes, 0);
    assert_int_equal(s.message_bytes, 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    store_usage_t us;
    assert_int_equal(store_quota_tenant(t, f->tenant, &us), PETREL_ENOTFOUND);
    store_user_t u;
    assert_int_equal(store_user_get(t, "alice@example.com", &u), PETREL_ENOTFOUND);
    store_txn_abort(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tenant_add_get, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_update, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_domain_alias, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_tenant_del, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
