/* test_store_blobs.c - shared, content-addressed blobs and their cache (core/store/blobs.c). */
#include "store_test_util.h"
#include "store/store_int.h"
#include "util/str.h"

static uint64_t nblobs(sfx_t *f)
{
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    return s.blobs;
}

static void test_deliver_shares_one_blob(void **state)
{
    sfx_t *f = *state;
    uint64_t carol;
    store_txn_t *t;
    store_mailbox_t m;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_add(t, "carol@example.com", "", 0, 0, &carol), 0);
    assert_int_equal(store_mailbox_get(t, carol, "INBOX", &m), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    static char msg[50000];
    sfx_msg(msg, sizeof(msg), 9);
    store_append_t in = {.data = msg, .len = sizeof(msg)};
    store_target_t tg[3] = {{f->user, f->inbox}, {f->user2, f->inbox2}, {carol, m.id}};
    int res[3];
    uint32_t uids[3];
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_deliver(t, &in, tg, 3, res, uids), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(res[i], 0);
        assert_int_equal(uids[i], 1);
    }
    assert_int_equal(nblobs(f), 1);
    /* the same bytes appended later still share it; a COPY too */
    uint32_t uid, nu, box;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Copy", 0, &box), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, uid, box, &nu), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(nblobs(f), 1);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.blob_bytes, sizeof(msg));
    assert_int_equal(s.message_bytes, 5 * sizeof(msg));
    /* every copy reads back the bytes */
    size_t len;
    char *got = sfx_read(f, carol, m.id, 1, &len);
    assert_non_null(got);
    assert_int_equal(len, sizeof(msg));
    assert_int_equal(memcmp(got, msg, len), 0);
    free(got);
    /* expunging all but the last keeps it; the last frees it */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, 1), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid), 0);
    assert_int_equal(store_msg_expunge(t, f->user, box, nu), 0);
    assert_int_equal(store_msg_expunge(t, f->user2, f->inbox2, 1), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(nblobs(f), 1);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, carol, m.id, 1), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(nblobs(f), 0);
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.blob_bytes, 0);
    /* and a new append stores it again */
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    assert_int_equal(nblobs(f), 1);
}

/* Points the hash-index entry of b's hash at the blob of a: a forged collision. */
typedef struct plant {
    const char *b;
    size_t blen;
    uint64_t blob_a;
    uint64_t saved; /* the entry's old value (0: none) */
} plant_t;

static int plant_op(store_txn_t *txn, void *arg)
{
    plant_t *p = arg;
    uint8_t h[BLOB_HASH_LEN];
    int rc = blob_hash(p->b, p->blen, h);
    if (!rc) {
        rc = blobhash_get(store_txn_kv(txn), h, &p->saved);
        rc = rc == PETREL_ENOTFOUND ? (p->saved = 0, 0) : rc;
    }
    return rc ? rc : blobhash_put(store_txn_kv(txn), h, p->blob_a);
}

static int unplant_op(store_txn_t *txn, void *arg)
{
    plant_t *p = arg;
    uint8_t h[BLOB_HASH_LEN];
    int rc = blob_hash(p->b, p->blen, h);
    if (rc) return rc;
    return p->saved ? blobhash_put(store_txn_kv(txn), h, p->saved)
                    : kv_del(store_txn_kv(txn), T_BLOBHASH, KV_VAL(h, BLOB_HASH_LEN));
}

static void test_hash_collision_never_shares(void **state)
{
    sfx_t *f = *state;
    const char *a = "message A: the original";
    const char *b = "message B: same length!";
    assert_int_equal(strlen(a), strlen(b));
    uint32_t ua, ub;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, a, strlen(a), &ua), 0);
    store_txn_t *t;
    store_msg_t m;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_get(t, f->user, f->inbox, ua, &m), 0);
    store_txn_abort(&t);
    plant_t p = {b, strlen(b), m.blob_id, 0};
    assert_int_equal(store_write(f->st, plant_op, &p), 0);
    /* B's hash now leads to A's blob: the byte comparison must refuse it */
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, b, strlen(b), &ub), 0);
    size_t len;
    char *got = sfx_read(f, f->user2, f->inbox2, ub, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(b));
    assert_memory_equal(got, b, len);
    free(got);
    assert_int_equal(nblobs(f), 2);
    /* a second B is compared with A again, and not shared with it */
    uint32_t ub2;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, b, strlen(b), &ub2), 0);
    assert_int_equal(nblobs(f), 3);
    got = sfx_read(f, f->user, f->inbox, ub2, &len);
    assert_non_null(got);
    assert_memory_equal(got, b, strlen(b));
    free(got);
    /* store_check: the forged entry is stale, B's blobs are not indexed */
    assert_true(sfx_problems(f, 0) >= 1);
    assert_int_equal(store_write(f->st, unplant_op, &p), 0);
    assert_int_equal(sfx_problems(f, 1), 1); /* B's first blob gets the entry again */
}

static int cache_fn(const void *msg, size_t len, int (*out_append)(void *, const void *, size_t),
                    void *out)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "len=%zu first=%c", len, len ? *(const char *)msg : '-');
    return out_append(out, tmp, (size_t)n);
}

static void test_cache(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    store_txn_t *t;
    store_msg_t m;
    const void *p;
    size_t n;
    /* no cache_fn: no cache */
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "Xyz", 3, &uid), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_get(t, f->user, f->inbox, uid, &m), 0);
    assert_int_equal(store_msg_cache(t, &m, &p, &n), PETREL_ENOTFOUND);
    store_txn_abort(&t);
    f->opts.cache_fn = cache_fn;
    assert_int_equal(sfx_reopen(f), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "Hello", 5, &uid), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_get(t, f->user, f->inbox, uid, &m), 0);
    assert_int_equal(store_msg_cache(t, &m, &p, &n), 0);
    assert_int_equal(n, strlen("len=5 first=H"));
    assert_memory_equal(p, "len=5 first=H", n);
    store_txn_abort(&t);
}

static void test_view_copy(void **state)
{
    (void)state;
    const uint8_t a[] = "abc", b[] = "defg";
    store_view_t v = {.len = 7, .nseg = 2, .seg = {{a, 3}, {b, 4}}};
    char out[8] = {0};
    assert_int_equal(store_view_copy(&v, 2, out, 4), 4);
    assert_string_equal(out, "cdef");
    assert_int_equal(store_view_copy(&v, 5, out, 10), 2);
    assert_int_equal(store_view_copy(&v, 9, out, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deliver_shares_one_blob, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_hash_collision_never_shares, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_cache, sfx_setup, sfx_teardown),
        cmocka_unit_test(test_view_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
