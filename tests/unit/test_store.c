/* test_store.c - open/close, schema checks, txns, on_commit, generation, map growth
 * (core/store/store.c). */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_test_util.h"
#include "store/store_int.h"
#include "util/str.h"

static void test_reopen_keeps_data(void **state)
{
    sfx_t *f = *state;
    int rc;
    store_mailbox_t before = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_not_equal(before.uidvalidity, 0);
    assert_int_equal(sfx_reopen(f), 0);
    store_mailbox_t after = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(after.uidvalidity, before.uidvalidity);
    assert_int_equal(after.id, before.id);
}

static int write_meta_version(store_txn_t *txn, void *arg)
{
    uint8_t v[4];
    be32_put(v, *(uint32_t *)arg);
    return kv_put(store_txn_kv(txn), T_META, KV_VAL("version", 7), KV_VAL(v, 4), 0);
}

static void test_newer_schema_refused(void **state)
{
    sfx_t *f = *state;
    uint32_t v = STORE_SCHEMA_VERSION + 1;
    assert_int_equal(store_write(f->st, write_meta_version, &v), 0);
    store_close(&f->st);
    assert_int_equal(sfx_open(f), PETREL_EVERSION);
    assert_null(f->st);
    /* put it back so the teardown check can run */
    kv_env_t *kv;
    static const char *const names[T_COUNT] = STORE_TABLE_NAMES;
    kv_opts_t ko = {.struct_size = sizeof(ko), .tables = names, .ntables = T_COUNT};
    char path[256];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    assert_int_equal(kv_open(path, &ko, &kv), 0);
    kv_txn_t *t;
    uint8_t b[4];
    be32_put(b, STORE_SCHEMA_VERSION);
    assert_int_equal(kv_begin(kv, NULL, 0, &t), 0);
    assert_int_equal(kv_put(t, T_META, KV_VAL("version", 7), KV_VAL(b, 4), 0), 0);
    assert_int_equal(kv_commit(&t), 0);
    kv_close(&kv);
    assert_int_equal(sfx_open(f), 0);
}

static void test_not_a_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/petrel-nostore-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    store_opts_t o = {.struct_size = sizeof(o), .no_sync = 1};
    store_t *st = NULL;
    /* a store directory holding foreign files */
    snprintf(path, sizeof(path), "%s/store", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/store/notes.txt", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(store_open(dir, &o, &st), PETREL_ENOTSTORE);
    assert_null(st);
    /* a data.mdb that is not LMDB */
    unlink(path);
    snprintf(path, sizeof(path), "%s/store/data.mdb", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    char junk[16384];
    memset(junk, 'x', sizeof(junk));
    assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    assert_int_equal(store_open(dir, &o, &st), PETREL_ENOTSTORE);
    unlink(path);
    snprintf(path, sizeof(path), "%s/store/lock.mdb", dir);
    unlink(path);
    /* an LMDB environment without the magic */
    snprintf(path, sizeof(path), "%s/store", dir);
    static const char *const names[] = {"other"};
    kv_opts_t ko = {.struct_size = sizeof(ko), .tables = names, .ntables = 1};
    kv_env_t *kv;
    assert_int_equal(kv_open(path, &ko, &kv), 0);
    kv_txn_t *t;
    assert_int_equal(kv_begin(kv, NULL, 0, &t), 0);
    assert_int_equal(kv_put(t, 0, KV_VAL("k", 1), KV_VAL("v", 1), 0), 0);
    assert_int_equal(kv_commit(&t), 0);
    kv_close(&kv);
    assert_int_equal(store_open(dir, &o, &st), PETREL_ENOTSTORE);
    /* read-only open of a missing store */
    store_opts_t ro = {.struct_size = sizeof(ro), .read_only = 1};
    snprintf(path, sizeof(path), "%s/nothing", dir);
    assert_int_not_equal(store_open(path, &ro, &st), 0);
    sfx_rmrf(dir);
}

static int noop(store_txn_t *txn, void *arg)
{
    (void)txn;
    (void)arg;
    return 0;
}

static void test_generation(void **state)
{
    sfx_t *f = *state;
    uint64_t g1, g2, g3;
    assert_int_equal(store_generation(f->st, &g1), 0);
    assert_true(g1 >= 1);
    assert_int_equal(store_write(f->st, noop, NULL), 0);
    assert_int_equal(store_generation(f->st, &g2), 0);
    assert_int_equal(g2, g1 + 1);
    /* an aborted write does not count */
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    store_txn_abort(&t);
    assert_int_equal(store_generation(f->st, &g3), 0);
    assert_int_equal(g3, g2);
}

typedef struct seen {
    size_t calls, n;
    store_change_t c[STORE_TXN_CHANGES_MAX];
} seen_t;

static void on_commit(const store_change_t *c, size_t n, void *arg)
{
    seen_t *s = arg;
    s->calls++;
    s->n = n;
    memcpy(s->c, c, n * sizeof(*c));
}

static void test_on_commit_changes(void **state)
{
    sfx_t *f = *state;
    seen_t seen = {0};
    f->opts.on_commit = on_commit;
    f->opts.on_commit_arg = &seen;
    assert_int_equal(sfx_reopen(f), 0);
    uint32_t uid;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "hello", 5, &uid), 0);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.c[0].user_id, f->user);
    assert_int_equal(seen.c[0].mailbox_id, f->inbox);
    /* a nested txn that aborts takes its changes with it */
    store_txn_t *t, *child;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "a", 1, 0, &uid), 0);
    assert_int_equal(store_txn_nest(t, &child), 0);
    assert_int_equal(sfx_append(child, f->user2, f->inbox2, "b", 1, 0, &uid), 0);
    store_txn_abort(&child);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.c[0].user_id, f->user);
    /* creating a mailbox reports the user's list (mailbox 0), which covers its mailboxes */
    uint32_t ids[STORE_TXN_CHANGES_MAX + 5];
    assert_int_equal(store_write_begin(f->st, &t), 0);
    for (unsigned i = 0; i < STORE_TXN_CHANGES_MAX + 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "box%u", i);
        assert_int_equal(store_mailbox_create(t, f->user, name, 0, &ids[i]), 0);
        assert_int_equal(sfx_append(t, f->user, ids[i], "c", 1, 0, &uid), 0);
    }
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(seen.calls, 3);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.c[0].user_id, f->user);
    assert_int_equal(seen.c[0].mailbox_id, 0);
    /* more mailboxes than the list holds: collapses to one entry per user */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(sfx_append(t, f->user2, f->inbox2, "d", 1, 0, &uid), 0);
    for (unsigned i = 0; i < STORE_TXN_CHANGES_MAX + 5; i++)
        assert_int_equal(sfx_append(t, f->user, ids[i], "c", 1, 0, &uid), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(seen.calls, 4);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.c[0].user_id, f->user2);
    assert_int_equal(seen.c[0].mailbox_id, 0);
    assert_int_equal(seen.c[1].user_id, f->user);
    assert_int_equal(seen.c[1].mailbox_id, 0);
    /* no callback for an aborted txn */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "e", 1, 0, &uid), 0);
    store_txn_abort(&t);
    assert_int_equal(seen.calls, 4);
}

static int conflict_once(store_txn_t *txn, void *arg)
{
    int *runs = arg;
    (*runs)++;
    (void)txn;
    return *runs == 1 ? PETREL_ECONFLICT : 0;
}

static int fail_op(store_txn_t *txn, void *arg)
{
    sfx_t *f = arg;
    uint32_t uid;
    int rc = sfx_append(txn, f->user, f->inbox, "zz", 2, 0, &uid);
    return rc ? rc : PETREL_EQUOTA;
}

static void test_store_write_retry_and_error(void **state)
{
    sfx_t *f = *state;
    int runs = 0;
    assert_int_equal(store_write(f->st, conflict_once, &runs), 0);
    assert_int_equal(runs, 2);
    assert_int_equal(store_write(f->st, fail_op, f), PETREL_EQUOTA);
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m.messages, 0); /* the failed op's append was rolled back */
}

static void test_read_only(void **state)
{
    sfx_t *f = *state;
    store_close(&f->st);
    f->opts.read_only = 1;
    assert_int_equal(sfx_open(f), 0);
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), PETREL_EPERM);
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(m.name, "INBOX");
}

typedef struct grow {
    sfx_t *f;
    const char *data;
    size_t len;
} grow_t;

static int grow_op(store_txn_t *txn, void *arg)
{
    grow_t *g = arg;
    uint32_t uid;
    return sfx_append(txn, g->f->user, g->f->inbox, g->data, g->len, 0, &uid);
}

static void test_map_growth(void **state)
{
    sfx_t *f = *state;
    store_close(&f->st);
    sfx_rmrf(f->dir);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    f->opts.map_size = 256 * 1024;
    assert_int_equal(sfx_open(f), 0);
    assert_int_equal(store_write(f->st, sfx_base_op, f), 0);
    store_stats_t s0, s1;
    assert_int_equal(store_stats(f->st, &s0), 0);
    static char buf[30000];
    for (unsigned i = 0; i < 120; i++) {
        sfx_msg(buf, sizeof(buf), i);
        grow_t g = {f, buf, sizeof(buf)};
        assert_int_equal(store_write(f->st, grow_op, &g), 0);
    }
    assert_int_equal(store_stats(f->st, &s1), 0);
    assert_true(s1.map_size >= s0.map_size * 8); /* grown at least three times */
    for (unsigned i = 0; i < 120; i++) {
        size_t len = 0;
        char *got = sfx_read(f, f->user, f->inbox, i + 1, &len);
        assert_non_null(got);
        sfx_msg(buf, sizeof(buf), i);
        assert_int_equal(len, sizeof(buf));
        assert_int_equal(memcmp(got, buf, len), 0);
        free(got);
    }
    assert_int_equal(sfx_reopen(f), 0);
    size_t len;
    char *got = sfx_read(f, f->user, f->inbox, 120, &len);
    assert_non_null(got);
    free(got);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_not_equal(store_strerror(PETREL_EQUOTA), store_strerror(PETREL_ENOTFOUND));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, sfx_setup, sfx_teardown),
        cmocka_unit_test(test_not_a_store),
        cmocka_unit_test_setup_teardown(test_generation, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_on_commit_changes, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_store_write_retry_and_error, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_read_only, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_map_growth, sfx_setup, sfx_teardown),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
