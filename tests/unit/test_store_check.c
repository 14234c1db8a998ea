/* test_store_check.c - store_check finds and repairs broken invariants (core/store/check.c). */
#include "store_test_util.h"
#include "store/store_int.h"
#include "util/str.h"

typedef struct breaker {
    sfx_t *f;
    int what;
} breaker_t;

enum {
    BREAK_COUNTER,
    BREAK_USAGE,
    BREAK_REFCOUNT,
    BREAK_INDEX,
    BREAK_UIDNEXT,
    BREAK_ORPHAN_BLOB,
    BREAK_ORPHAN_INDEX,
    BREAK_ORPHAN_NAME,
    BREAK_VANISHED_HEAD,  /* an undecodable expunge sentinel */
    BREAK_VANISHED_FLOOR, /* a sentinel whose floor covers a kept record */
};

static int break_op(store_txn_t *txn, void *arg)
{
    breaker_t *b = arg;
    kv_txn_t *kv = store_txn_kv(txn);
    mbox_rec_t r;
    int rc = mbox_load(kv, b->f->user, b->f->inbox, &r, NULL);
    if (rc) return rc;
    switch (b->what) {
    case BREAK_COUNTER:
        r.messages += 5;
        r.unseen = 0;
        return mbox_save(kv, b->f->user, b->f->inbox, &r);
    case BREAK_UIDNEXT:
        r.uidnext = 1;
        r.highestmodseq = 1;
        return mbox_save(kv, b->f->user, b->f->inbox, &r);
    case BREAK_USAGE:
        return usage_adjust(kv, USAGE_USER, b->f->user, 1000, 3);
    case BREAK_REFCOUNT: {
        blob_rec_t br;
        rc = blob_load(kv, 1, &br);
        br.refcount = 7;
        return rc ? rc : blob_save(kv, 1, &br, 0);
    }
    case BREAK_INDEX: {
        uint8_t k[K_UMQ];
        key_umq(k, b->f->user, b->f->inbox, r.highestmodseq);
        rc = kv_del(kv, T_MODSEQ, KV_VAL(k, K_UMQ));
        return rc ? rc : modseq_index_put(kv, b->f->user, b->f->inbox, 12345, 1);
    }
    case BREAK_ORPHAN_INDEX: /* entries of a mailbox that does not exist */
        rc = modseq_index_put(kv, b->f->user, 77, 5, 1);
        if (!rc)
            rc = kv_put(kv, T_EXPUNGE, KV_VAL("\0\0\0\0\0\0\0\1\0\0\0\x4d\0\0\0\0\0\0\0\1", 20),
                        KV_VAL("\0\0\0\1", 4), 0);
        return rc;
    case BREAK_ORPHAN_NAME: { /* a name entry for a mailbox id that does not exist */
        uint8_t k[8 + 5], v[4];
        be64_put(k, b->f->user);
        memcpy(k + 8, "Ghost", 5);
        be32_put(v, 99);
        return kv_put(kv, T_MBNAME, KV_VAL(k, sizeof(k)), KV_VAL(v, 4), 0);
    }
    case BREAK_VANISHED_HEAD:
    case BREAK_VANISHED_FLOOR: {
        rc = store_msg_expunge(txn, b->f->user, b->f->inbox, 2);
        uint8_t k[K_UMQ];
        key_umq(k, b->f->user, b->f->inbox, 0);
        if (rc || b->what == BREAK_VANISHED_HEAD)
            return rc ? rc : kv_put(kv, T_EXPUNGE, KV_VAL(k, K_UMQ), KV_VAL("\0\0\0\1", 4), 0);
        vanished_head_t h = {.floor = 1000, .count = 7};
        return vanished_head_save(kv, b->f->user, b->f->inbox, &h);
    }
    case BREAK_ORPHAN_BLOB: {
        uint8_t h[BLOB_HASH_LEN];
        uint64_t id;
        return blob_hash("orphan", 6, h) ? PETREL_EIO : blob_put(txn, "orphan", 6, h, &id);
    }
    }
    return PETREL_EINVAL;
}

static void check_break_repair(void **state, int what, unsigned min_problems)
{
    sfx_t *f = *state;
    uint32_t uid;
    char msg[3000];
    sfx_msg(msg, sizeof(msg), 1);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "second", 6, &uid), 0);
    assert_int_equal(sfx_problems(f, 0), 0);
    breaker_t b = {f, what};
    assert_int_equal(store_write(f->st, break_op, &b), 0);
    unsigned found = sfx_problems(f, 0);
    assert_true(found >= min_problems);
    assert_true(found < 99999);
    /* a check without repair changes nothing */
    assert_int_equal(sfx_problems(f, 0), found);
    assert_int_equal(sfx_problems(f, 1), found);
    assert_int_equal(sfx_problems(f, 0), 0);
    /* repaired data is usable */
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "third", 5, &uid), 0);
    assert_int_equal(sfx_problems(f, 0), 0);
}

static void test_counter(void **state)
{
    check_break_repair(state, BREAK_COUNTER, 1);
    sfx_t *f = *state;
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m.messages, 3);
    assert_int_equal(m.unseen, 3);
}

static void test_uidnext(void **state)
{
    check_break_repair(state, BREAK_UIDNEXT, 2);
    sfx_t *f = *state;
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m.uidnext, 4); /* uid 3 went after the repaired uidnext 3 */
}

static void test_usage(void **state)
{
    check_break_repair(state, BREAK_USAGE, 1);
}

static void test_refcount(void **state)
{
    check_break_repair(state, BREAK_REFCOUNT, 1);
}

static void test_modseq_index(void **state)
{
    check_break_repair(state, BREAK_INDEX, 1);
}

/* After the repair the floor is just below the one kept record (the expunge of uid 2). */
static void check_vanished_repaired(sfx_t *f)
{
    store_txn_t *t;
    uint64_t floor;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_vanished_floor(t, f->user, f->inbox, &floor), 0);
    store_txn_abort(&t);
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(floor, m.highestmodseq - 2); /* then "third" was appended */
}

static void test_vanished_head(void **state)
{
    check_break_repair(state, BREAK_VANISHED_HEAD, 1);
    check_vanished_repaired(*state);
}

static void test_vanished_floor(void **state)
{
    check_break_repair(state, BREAK_VANISHED_FLOOR, 1);
    check_vanished_repaired(*state);
}

static void test_orphan_blob(void **state)
{
    check_break_repair(state, BREAK_ORPHAN_BLOB, 1);
    sfx_t *f = *state;
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.blobs, 3);
}

static void test_orphan_entries(void **state)
{
    check_break_repair(state, BREAK_ORPHAN_INDEX, 2);
}

static void test_orphan_name(void **state)
{
    check_break_repair(state, BREAK_ORPHAN_NAME, 1);
    sfx_t *f = *state;
    int rc;
    sfx_mbox(f, f->user, "Ghost", &rc);
    assert_int_equal(rc, PETREL_ENOTFOUND);
}

/* ------------------------------------------------------------ random operations */

typedef struct rnd {
    sfx_t *f;
    uint64_t s;
    uint32_t boxes[8];
    unsigned nboxes;
} rnd_t;

static uint32_t rnd_next(rnd_t *r, uint32_t n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s % n);
}

/* The uid of some message in box (0: none). */
static uint32_t rnd_uid(store_txn_t *t, rnd_t *r, uint64_t user, uint32_t box)
{
    store_mailbox_t m;
    if (store_mailbox_get_by_id(t, user, box, &m) || m.messages == 0) return 0;
    uint32_t lo = 1 + rnd_next(r, m.uidnext);
    store_msg_t msg;
    for (uint32_t uid = lo; uid < m.uidnext; uid++)
        if (store_msg_get(t, user, box, uid, &msg) == 0) return uid;
    for (uint32_t uid = 1; uid < lo; uid++)
        if (store_msg_get(t, user, box, uid, &msg) == 0) return uid;
    return 0;
}

static int rnd_op(store_txn_t *t, void *arg)
{
    rnd_t *r = arg;
    sfx_t *f = r->f;
    uint64_t user = rnd_next(r, 2) ? f->user : f->user2;
    uint32_t box = user == f->user ? r->boxes[rnd_next(r, r->nboxes)] : f->inbox2;
    uint32_t dst = user == f->user ? r->boxes[rnd_next(r, r->nboxes)] : f->inbox2;
    char msg[6000];
    size_t len = 1 + rnd_next(r, sizeof(msg) - 1);
    sfx_msg(msg, len, rnd_next(r, 6)); /* few distinct contents: blobs get shared */
    uint32_t uid = rnd_uid(t, r, user, box), nu;
    const char *kw[] = {"A", "b", "$C"};
    uint64_t ms;
    int rc = 0;
    switch (rnd_next(r, 8)) {
    case 0:
    case 1:
        rc = sfx_append(t, user, box, msg, len, rnd_next(r, 32), &nu);
        break;
    case 2: {
        store_target_t tg[2] = {{f->user, r->boxes[0]}, {f->user2, f->inbox2}};
        int res[2];
        uint32_t uids[2];
        store_append_t in = {.data = msg, .len = len};
        rc = store_msg_deliver(t, &in, tg, 2, res, uids);
        break;
    }
    case 3:
        rc = uid ? store_msg_copy(t, user, box, uid, dst, &nu) : 0;
        break;
    case 4:
        rc = uid ? store_msg_move(t, user, box, uid, dst, &nu) : 0;
        break;
    case 5:
        rc = uid ? store_msg_expunge(t, user, box, uid) : 0;
        break;
    default:
        rc = uid ? store_msg_set_flags(t, user, box, uid, (enum store_flag_op)rnd_next(r, 3),
                                       rnd_next(r, 32), kw, rnd_next(r, 4), 0, &ms)
                 : 0;
        break;
    }
    return rc == PETREL_EQUOTA ? 0 : rc;
}

static void test_random_ops_stay_consistent(void **state)
{
    sfx_t *f = *state;
    rnd_t r = {.f = f, .s = 0x9e3779b97f4a7c15ULL, .nboxes = 4};
    store_txn_t *t;
    store_user_t u;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    r.boxes[0] = f->inbox;
    assert_int_equal(store_mailbox_create(t, f->user, "A", 0, &r.boxes[1]), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "A/B", 0, &r.boxes[2]), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "C", 0, &r.boxes[3]), 0);
    assert_int_equal(store_user_get_by_id(t, f->user, &u), 0);
    u.quota_bytes = 150000; /* some appends hit the quota */
    assert_int_equal(store_user_update(t, &u), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < 10; i++)
            assert_int_equal(store_write(f->st, rnd_op, &r), 0);
        assert_int_equal(sfx_problems(f, 0), 0);
    }
    store_stats_t st;
    assert_int_equal(store_stats(f->st, &st), 0);
    assert_true(st.messages > 40);
    assert_true(st.blobs < st.messages); /* contents repeat: blobs are shared */
    /* renames and deletes over what is there */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "Z/A"), 0);
    assert_int_equal(store_mailbox_rename(t, f->user, "INBOX", "Old"), 0);
    assert_int_equal(store_mailbox_delete(t, f->user, "Z/A/B"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(sfx_problems(f, 0), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_user_del(t, "bob@example.com"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(sfx_problems(f, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_uidnext, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_usage, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_refcount, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_modseq_index, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_orphan_blob, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_vanished_head, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_vanished_floor, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_orphan_entries, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_orphan_name, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_random_ops_stay_consistent, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
