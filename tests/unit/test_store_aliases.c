/* test_store_aliases.c - aliases and recipient resolution (core/store/aliases.c). */
#include "store_test_util.h"

static int set_alias(sfx_t *f, const char *addr, const char *const *targets, size_t n)
{
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    int rc = store_alias_set(t, addr, targets, n);
    if (rc == 0)
        assert_int_equal(store_txn_commit(&t), 0);
    else
        store_txn_abort(&t);
    return rc;
}

static int resolve(sfx_t *f, const char *addr, store_rcpt_t *r)
{
    store_txn_t *t;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    int rc = store_resolve_rcpt(t, addr, r);
    store_txn_abort(&t);
    return rc;
}

static int has(const store_rcpt_t *r, uint64_t id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->user_ids[i] == id) return 1;
    return 0;
}

static int target_cb(const char *name, void *arg)
{
    strcat((char *)arg, name);
    strcat((char *)arg, ";");
    return 0;
}

static int list_cb(const char *address, const char *const *targets, size_t n, void *arg)
{
    char *out = arg;
    strcat(out, address);
    strcat(out, "=");
    for (size_t i = 0; i < n; i++) {
        strcat(out, targets[i]);
        strcat(out, ",");
    }
    strcat(out, ";");
    return 0;
}

static void test_alias_crud(void **state)
{
    sfx_t *f = *state;
    const char *tg[] = {"alice@example.com", "Someone@Outside.ORG"};
    assert_int_equal(set_alias(f, "Team@example.com", tg, 2), 0);
    assert_int_equal(set_alias(f, "x@nosuch.org", tg, 1), PETREL_ENOTFOUND);
    assert_int_equal(set_alias(f, "bad alias@example.com", tg, 1), PETREL_EINVAL);
    const char *bad[] = {"not an address"};
    assert_int_equal(set_alias(f, "t2@example.com", bad, 1), PETREL_EINVAL);
    assert_int_equal(set_alias(f, "t2@example.com", tg, 0), PETREL_EINVAL);
    store_txn_t *t;
    char out[512] = "";
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_alias_get(t, "TEAM@example.com", target_cb, out), 0);
    assert_string_equal(out, "alice@example.com;Someone@outside.org;");
    assert_int_equal(store_alias_get(t, "none@example.com", target_cb, out), PETREL_ENOTFOUND);
    store_txn_abort(&t);
    const char *tg2[] = {"bob@example.com"};
    assert_int_equal(set_alias(f, "team@example.com", tg2, 1), 0); /* replaces */
    assert_int_equal(set_alias(f, "@example.com", tg2, 1), 0);
    out[0] = 0;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_alias_list(t, f->tenant, list_cb, out), 0);
    assert_string_equal(out, "@example.com=bob@example.com,;team@example.com=bob@example.com,;");
    store_txn_abort(&t);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_alias_del(t, "team@EXAMPLE.com"), 0);
    assert_int_equal(store_alias_del(t, "team@example.com"), PETREL_ENOTFOUND);
    assert_int_equal(store_alias_del(t, "@example.com"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
}

static void test_resolve(void **state)
{
    sfx_t *f = *state;
    store_rcpt_t r;
    assert_int_equal(resolve(f, "ALICE@Example.Com", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.user_ids[0], f->user);
    assert_int_equal(r.tenant_id, f->tenant);
    assert_string_equal(r.tag, "");
    /* +tag */
    assert_int_equal(resolve(f, "alice+Lists@example.com", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.user_ids[0], f->user);
    assert_string_equal(r.tag, "Lists");
    assert_int_equal(resolve(f, "nobody@example.com", &r), PETREL_ENOTFOUND);
    assert_int_equal(resolve(f, "nobody+x@example.com", &r), PETREL_ENOTFOUND);
    assert_int_equal(resolve(f, "alice@not-local.org", &r), PETREL_ENOTFOUND);
    assert_int_equal(resolve(f, "bad address", &r), PETREL_EINVAL);
    /* alias to two users, with a duplicate and an outside address */
    const char *tg[] = {"alice@example.com", "BOB@example.com", "alice@EXAMPLE.com",
                        "x@outside.org"};
    assert_int_equal(set_alias(f, "team@example.com", tg, 4), 0);
    assert_int_equal(resolve(f, "team@example.com", &r), 0);
    assert_int_equal(r.n, 2);
    assert_true(has(&r, f->user) && has(&r, f->user2));
    /* chain: all -> team -> users; loop: l1 -> l2 -> l1 */
    const char *all[] = {"team@example.com"};
    assert_int_equal(set_alias(f, "all@example.com", all, 1), 0);
    assert_int_equal(resolve(f, "all+x@example.com", &r), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.tag, "x");
    const char *l1[] = {"l2@example.com"}, *l2[] = {"l1@example.com", "bob@example.com"};
    assert_int_equal(set_alias(f, "l1@example.com", l1, 1), 0);
    assert_int_equal(set_alias(f, "l2@example.com", l2, 2), 0);
    assert_int_equal(resolve(f, "l1@example.com", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.user_ids[0], f->user2);
    const char *self[] = {"me@example.com"};
    assert_int_equal(set_alias(f, "me@example.com", self, 1), 0);
    assert_int_equal(resolve(f, "me@example.com", &r), PETREL_ENOTFOUND);
    /* a chain deeper than STORE_ALIAS_DEPTH_MAX stops */
    for (int i = 0; i < STORE_ALIAS_DEPTH_MAX + 3; i++) {
        char a[64], b[64];
        snprintf(a, sizeof(a), "d%d@example.com", i);
        snprintf(b, sizeof(b), "d%d@example.com", i + 1);
        const char *tb[] = {b};
        assert_int_equal(set_alias(f, a, tb, 1), 0);
    }
    const char *end[] = {"alice@example.com"};
    char last[64];
    snprintf(last, sizeof(last), "d%d@example.com", STORE_ALIAS_DEPTH_MAX + 3);
    assert_int_equal(set_alias(f, last, end, 1), 0);
    assert_int_equal(resolve(f, "d0@example.com", &r), PETREL_ENOTFOUND);
    snprintf(last, sizeof(last), "d%d@example.com", 5);
    assert_int_equal(resolve(f, last, &r), 0);
    /* catch-all, only when nothing else matches */
    const char *ca[] = {"bob@example.com"};
    assert_int_equal(set_alias(f, "@example.com", ca, 1), 0);
    assert_int_equal(resolve(f, "random@example.com", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.user_ids[0], f->user2);
    assert_true(r.via_catchall);
    assert_int_equal(resolve(f, "alice@example.com", &r), 0);
    assert_int_equal(r.user_ids[0], f->user);
    assert_false(r.via_catchall);
    assert_int_equal(resolve(f, "team@example.com", &r), 0);
    assert_false(r.via_catchall);
}

static void test_resolve_alias_domain_and_suspended(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    store_rcpt_t r;
    const char *tg[] = {"alice@example.com"};
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_domain_alias_add(t, "example.com", "example.net"), 0);
    assert_int_equal(store_alias_set(t, "sales@example.net", tg, 1), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(resolve(f, "Bob@EXAMPLE.NET", &r), 0);
    assert_int_equal(r.user_ids[0], f->user2);
    assert_int_equal(resolve(f, "sales@example.com", &r), 0); /* same tenant */
    assert_int_equal(r.user_ids[0], f->user);
    /* suspended user: direct EPERM; via an alias skipped */
    store_user_t u;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_get_by_id(t, f->user, &u), 0);
    u.status = STORE_SUSPENDED;
    assert_int_equal(store_user_update(t, &u), 0);
    const char *both[] = {"alice@example.com", "bob@example.com"};
    assert_int_equal(store_alias_set(t, "both@example.com", both, 2), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(resolve(f, "alice@example.com", &r), PETREL_EPERM);
    assert_int_equal(resolve(f, "sales@example.com", &r), PETREL_EPERM);
    assert_int_equal(resolve(f, "both@example.com", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.user_ids[0], f->user2);
    /* suspended tenant */
    store_tenant_t tn;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_tenant_get_by_id(t, f->tenant, &tn), 0);
    tn.status = STORE_SUSPENDED;
    assert_int_equal(store_tenant_update(t, &tn), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(resolve(f, "bob@example.com", &r), PETREL_EPERM);
    assert_int_equal(r.tenant_id, f->tenant);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alias_crud, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_alias_domain_and_suspended, sfx_setup,
                                        sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
