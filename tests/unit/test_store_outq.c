/* test_store_outq.c - the outbound queue of DSN items (core/store/outq.c): records,
 * blob references counted by store_check, schema 1 -> 2 migration. */
#include <sys/stat.h>

#include "store_test_util.h"
#include "store/store_int.h"
#include "util/str.h"

static store_dsn_t item(uint32_t action, const char *rcpt)
{
    store_dsn_t d;
    memset(&d, 0, sizeof(d));
    d.action = action;
    d.ret = STORE_DSN_RET_HDRS;
    d.arrival = 1700000000;
    str_lcpy(d.status, action == STORE_DSN_DELIVERED ? "2.0.0" : "5.2.2", sizeof(d.status));
    str_lcpy(d.envid, "env-1", sizeof(d.envid));
    str_lcpy(d.return_path, "sender@remote.test", sizeof(d.return_path));
    str_lcpy(d.orcpt, "rfc822;orig@example.com", sizeof(d.orcpt));
    str_lcpy(d.rcpt, rcpt, sizeof(d.rcpt));
    str_lcpy(d.reporting_mta, "mail.test", sizeof(d.reporting_mta));
    return d;
}

static int count_cb(const store_dsn_t *d, void *arg)
{
    (void)d;
    (*(unsigned *)arg)++;
    return 0;
}

static unsigned count(sfx_t *f)
{
    store_txn_t *t;
    unsigned n = 0;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_dsn_list(t, count_cb, &n), 0);
    store_txn_abort(&t);
    return n;
}

static void test_add_get_list_del(void **state)
{
    sfx_t *f = *state;
    const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
    store_dsn_t a = item(STORE_DSN_DELIVERED, "alice@example.com");
    store_dsn_t b = item(STORE_DSN_FAILED, "bob@example.com");
    uint64_t ida = 0, idb = 0;
    SFX_WRITE(f, store_dsn_add(txn_, &a, msg, sizeof(msg) - 1, &ida)
                     ?: store_dsn_add(txn_, &b, msg, sizeof(msg) - 1, &idb));
    assert_true(ida > 0 && idb > ida);
    assert_int_equal(count(f), 2);
    store_txn_t *t;
    store_dsn_t got;
    store_view_t v;
    char copy[64];
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_dsn_get(t, idb, &got), 0);
    assert_int_equal(got.id, idb);
    assert_int_equal(got.action, STORE_DSN_FAILED);
    assert_int_equal(got.ret, STORE_DSN_RET_HDRS);
    assert_int_equal(got.arrival, 1700000000);
    assert_string_equal(got.status, "5.2.2");
    assert_string_equal(got.envid, "env-1");
    assert_string_equal(got.orcpt, "rfc822;orig@example.com");
    assert_string_equal(got.rcpt, "bob@example.com");
    /* a failure with RET=HDRS keeps the header block only (as a "delivered" one) */
    assert_int_equal(got.size, strlen("Subject: hi\r\n"));
    assert_int_equal(store_dsn_view(t, &got, &v), 0);
    assert_int_equal(store_view_copy(&v, 0, copy, sizeof(copy)), got.size);
    assert_memory_equal(copy, "Subject: hi\r\n", got.size);
    store_txn_abort(&t);
    /* both items share one blob with two references: the check agrees */
    assert_int_equal(sfx_problems(f, 0), 0);
    SFX_WRITE(f, store_dsn_del(txn_, ida));
    assert_int_equal(count(f), 1);
    assert_int_equal(sfx_problems(f, 0), 0);
    SFX_WRITE(f, store_dsn_del(txn_, idb));
    assert_int_equal(count(f), 0);
    assert_int_equal(sfx_problems(f, 0), 0); /* the blob went with its last reference */
    int rc = -1;
    SFX_WRITE(f, (rc = store_dsn_del(txn_, idb)));
    assert_int_equal(rc, PETREL_ENOTFOUND);
}

static void test_blob_outlives_the_message(void **state)
{
    sfx_t *f = *state;
    char msg[3000];
    sfx_msg(msg, sizeof(msg), 7);
    uint32_t uid;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    store_dsn_t d = item(STORE_DSN_FAILED, "alice@example.com");
    d.ret = STORE_DSN_RET_FULL; /* the only item that keeps the whole message */
    uint64_t id;
    SFX_WRITE(f, store_dsn_add(txn_, &d, msg, sizeof(msg), &id));
    SFX_WRITE(f, store_msg_expunge(txn_, f->user, f->inbox, uid));
    store_txn_t *t;
    store_view_t v;
    static char copy[3000];
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_dsn_get(t, id, &d), 0);
    assert_int_equal(store_dsn_view(t, &d, &v), 0);
    assert_int_equal(store_view_copy(&v, 0, copy, sizeof(copy)), sizeof(msg));
    assert_memory_equal(copy, msg, sizeof(msg));
    store_txn_abort(&t);
    assert_int_equal(sfx_problems(f, 0), 0);
}

/* Adds d with msg, returns the bytes the item keeps in kept (cap bytes) and their length. */
static size_t kept_of(sfx_t *f, store_dsn_t d, const char *msg, size_t len, char *kept, size_t cap)
{
    uint64_t id = 0;
    SFX_WRITE(f, store_dsn_add(txn_, &d, msg, len, &id));
    assert_true(id > 0);
    store_txn_t *t;
    store_view_t v;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_dsn_get(t, id, &d), 0);
    assert_int_equal(store_dsn_view(t, &d, &v), 0);
    size_t n = store_view_copy(&v, 0, kept, cap);
    assert_int_equal(n, d.size);
    store_txn_abort(&t);
    return n;
}

/* RFC 3461 4.3: only a failure with RET=FULL keeps the body; the header block is capped. */
static void test_kept_content(void **state)
{
    sfx_t *f = *state;
    static const char msg[] = "Subject: hi\r\nX: y\r\n\r\nsecret body\r\n";
    static char kept[STORE_DSN_HEADERS_MAX + 4096];
    store_dsn_t d = item(STORE_DSN_DELIVERED, "a@example.com");
    d.ret = STORE_DSN_RET_FULL;
    size_t n = kept_of(f, d, msg, sizeof(msg) - 1, kept, sizeof(kept));
    assert_int_equal(n, strlen("Subject: hi\r\nX: y\r\n"));
    assert_memory_equal(kept, msg, n);
    d = item(STORE_DSN_FAILED, "a@example.com");
    d.ret = STORE_DSN_RET_NONE;
    assert_int_equal(kept_of(f, d, msg, sizeof(msg) - 1, kept, sizeof(kept)), n);
    d.ret = STORE_DSN_RET_FULL;
    assert_int_equal(kept_of(f, d, msg, sizeof(msg) - 1, kept, sizeof(kept)), sizeof(msg) - 1);
    assert_memory_equal(kept, msg, sizeof(msg) - 1);
    /* a header block over the cap: cut at the last line end within it */
    static char big[STORE_DSN_HEADERS_MAX + 3000];
    size_t o = 0;
    while (o + 100 < sizeof(big) - 200) {
        memcpy(big + o, "X-Long: ", 8);
        memset(big + o + 8, 'a', 89);
        memcpy(big + o + 97, "\r\n", 2);
        o += 99;
    }
    memcpy(big + o, "\r\nbody\r\n", 8);
    o += 8;
    d = item(STORE_DSN_DELIVERED, "a@example.com");
    n = kept_of(f, d, big, o, kept, sizeof(kept));
    assert_int_equal(n, (STORE_DSN_HEADERS_MAX / 99) * 99);
    assert_true(n <= STORE_DSN_HEADERS_MAX && kept[n - 1] == '\n');
    assert_int_equal(store_dsn_header_len(big, o), n);
    assert_int_equal(sfx_problems(f, 0), 0);
}

/* The queue is outside every quota: STORE_OUTQ_ITEMS_MAX items, then PETREL_ETOOBIG. */
static int fill(store_txn_t *txn, unsigned n)
{
    store_dsn_t d = item(STORE_DSN_DELIVERED, "a@example.com");
    int rc = 0;
    for (unsigned i = 0; !rc && i < n; i++)
        rc = store_dsn_add(txn, &d, "S: x\r\n", 6, NULL);
    return rc;
}

static void test_queue_cap(void **state)
{
    sfx_t *f = *state;
    int rc = -1;
    SFX_WRITE(f, fill(txn_, STORE_OUTQ_ITEMS_MAX));
    assert_int_equal(count(f), STORE_OUTQ_ITEMS_MAX);
    SFX_WRITE(f, (rc = fill(txn_, 1)));
    assert_int_equal(rc, PETREL_ETOOBIG);
    assert_int_equal(count(f), STORE_OUTQ_ITEMS_MAX);
    SFX_WRITE(f, store_dsn_del(txn_, 1)); /* room again */
    SFX_WRITE(f, (rc = fill(txn_, 1)));
    assert_int_equal(rc, 0);
    assert_int_equal(count(f), STORE_OUTQ_ITEMS_MAX);
}

static void test_bad_items_refused(void **state)
{
    sfx_t *f = *state;
    store_dsn_t d = item(STORE_DSN_DELIVERED, "a@example.com");
    int rc = 0;
    d.return_path[0] = 0; /* the null path never gets a DSN */
    SFX_WRITE(f, (rc = store_dsn_add(txn_, &d, "x", 1, NULL)));
    assert_int_equal(rc, PETREL_EINVAL);
    d = item(7, "a@example.com");
    SFX_WRITE(f, (rc = store_dsn_add(txn_, &d, "x", 1, NULL)));
    assert_int_equal(rc, PETREL_EINVAL);
    assert_int_equal(count(f), 0);
}

/* A version-1 store: no outq table, version 1. */
static void make_v1(const char *dir)
{
    static const char *const names[T_COUNT] = STORE_TABLE_NAMES;
    char path[256];
    snprintf(path, sizeof(path), "%s/store", dir);
    kv_opts_t ko = {.struct_size = sizeof(ko), .tables = names, .ntables = T_OUTQ};
    kv_env_t *kv;
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(kv_open(path, &ko, &kv), 0);
    kv_txn_t *t;
    uint8_t b[4];
    be32_put(b, 1);
    assert_int_equal(kv_begin(kv, NULL, 0, &t), 0);
    assert_int_equal(kv_put(t, T_META, KV_VAL("magic", 5), KV_VAL(STORE_MAGIC, 12), 0), 0);
    assert_int_equal(kv_put(t, T_META, KV_VAL("version", 7), KV_VAL(b, 4), 0), 0);
    assert_int_equal(kv_commit(&t), 0);
    kv_close(&kv);
}

static uint32_t version_of(store_t *st)
{
    store_txn_t *t;
    kv_val_t v;
    assert_int_equal(store_read_begin(st, &t), 0);
    assert_int_equal(kv_get(store_txn_kv(t), T_META, KV_VAL("version", 7), &v), 0);
    uint32_t ver = v.len == 4 ? be32_get(v.data) : 0;
    store_txn_abort(&t);
    return ver;
}

static void test_v1_store_migrates(void **state)
{
    (void)state;
    char dir[] = "/tmp/petrel-v1-XXXXXX";
    assert_non_null(mkdtemp(dir));
    make_v1(dir);
    /* read-only: opens as it is, the queue reads empty */
    store_opts_t ro = {.struct_size = sizeof(ro), .read_only = 1};
    store_t *st = NULL;
    assert_int_equal(store_open(dir, &ro, &st), 0);
    assert_int_equal(version_of(st), 1);
    store_txn_t *t;
    unsigned n = 0;
    assert_int_equal(store_read_begin(st, &t), 0);
    assert_int_equal(store_dsn_list(t, count_cb, &n), 0);
    assert_int_equal(store_dsn_get(t, 1, &(store_dsn_t){0}), PETREL_ENOTFOUND);
    store_txn_abort(&t);
    assert_int_equal(n, 0);
    store_close(&st);
    /* writable: migrated to the current version, the queue usable */
    store_opts_t rw = {.struct_size = sizeof(rw), .no_sync = 1};
    assert_int_equal(store_open(dir, &rw, &st), 0);
    assert_int_equal(version_of(st), STORE_SCHEMA_VERSION);
    store_dsn_t d = item(STORE_DSN_FAILED, "x@example.com");
    assert_int_equal(store_write_begin(st, &t), 0);
    assert_int_equal(store_dsn_add(t, &d, "m", 1, NULL), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    unsigned problems = 99;
    assert_int_equal(store_check(st, 0, NULL, NULL, &problems), 0);
    assert_int_equal(problems, 0);
    store_close(&st);
    sfx_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_get_list_del, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_blob_outlives_the_message, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_kept_content, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_queue_cap, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_items_refused, sfx_setup, sfx_teardown),
        cmocka_unit_test(test_v1_store_migrates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
