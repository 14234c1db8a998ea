/* test_store_flags.c - flags/keywords with CONDSTORE rules, copy, move, expunge
 * (core/store/flags.c). */
#include "store_test_util.h"

static store_msg_t get_msg(sfx_t *f, uint64_t user, uint32_t mbox, uint32_t uid, int *rc_r)
{
    store_txn_t *t;
    store_msg_t m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(store_read_begin(f->st, &t), 0);
    *rc_r = store_msg_get(t, user, mbox, uid, &m);
    m.keywords = NULL; /* not valid after the txn */
    store_txn_abort(&t);
    return m;
}

static int set_flags(sfx_t *f, uint32_t uid, enum store_flag_op op, uint32_t flags,
                     const char *const *kw, size_t nkw, uint64_t unchangedsince, uint64_t *ms)
{
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    int rc = store_msg_set_flags(t, f->user, f->inbox, uid, op, flags, kw, nkw, unchangedsince, ms);
    if (rc == 0)
        assert_int_equal(store_txn_commit(&t), 0);
    else
        store_txn_abort(&t);
    return rc;
}

static void test_modseq_rules(void **state)
{
    sfx_t *f = *state;
    uint32_t u1, u2;
    int rc;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "one", 3, &u1), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "two", 3, &u2), 0);
    store_mailbox_t m0 = sfx_mbox(f, f->user, "INBOX", &rc);
    store_msg_t a = get_msg(f, f->user, f->inbox, u1, &rc);
    store_msg_t b = get_msg(f, f->user, f->inbox, u2, &rc);
    assert_true(b.modseq > a.modseq);
    assert_int_equal(m0.highestmodseq, b.modseq);
    uint64_t ms;
    /* a change spends exactly one modseq */
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, STORE_F_SEEN, NULL, 0, 0, &ms), 0);
    assert_int_equal(ms, m0.highestmodseq + 1);
    store_mailbox_t m1 = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m1.highestmodseq, ms);
    assert_int_equal(m1.unseen, 1);
    /* a no-op spends none */
    uint64_t ms2;
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, STORE_F_SEEN, NULL, 0, 0, &ms2), 0);
    assert_int_equal(ms2, ms);
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_REMOVE, STORE_F_FLAGGED, NULL, 0, 0, &ms2), 0);
    assert_int_equal(ms2, ms);
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_SET, STORE_F_SEEN, NULL, 0, 0, &ms2), 0);
    assert_int_equal(ms2, ms);
    store_mailbox_t m2 = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m2.highestmodseq, m1.highestmodseq);
    /* UNCHANGEDSINCE */
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL, 0, ms - 1, &ms2),
                     PETREL_EMODIFIED);
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, STORE_F_FLAGGED, NULL, 0, ms, &ms2), 0);
    assert_int_equal(ms2, ms + 1);
    /* keywords: add, same set in another order/case is a no-op, remove */
    const char *kw[] = {"Work", "$Label1"};
    const char *kw2[] = {"$label1", "work"};
    uint64_t ms3, ms4;
    assert_int_equal(set_flags(f, u2, STORE_FLAGS_ADD, 0, kw, 2, 0, &ms3), 0);
    assert_int_equal(ms3, ms2 + 1);
    assert_int_equal(set_flags(f, u2, STORE_FLAGS_SET, 0, kw2, 2, 0, &ms4), 0);
    assert_int_equal(ms4, ms3);
    assert_int_equal(set_flags(f, u2, STORE_FLAGS_REMOVE, 0, kw, 1, 0, &ms4), 0);
    assert_int_equal(ms4, ms3 + 1);
    store_txn_t *t;
    store_msg_t mm;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_get(t, f->user, f->inbox, u2, &mm), 0);
    assert_int_equal(mm.nkeywords, 1);
    assert_string_equal(mm.keywords, "$Label1");
    assert_int_equal(mm.modseq, ms4);
    store_txn_abort(&t);
    /* errors */
    assert_int_equal(set_flags(f, 99, STORE_FLAGS_ADD, STORE_F_SEEN, NULL, 0, 0, &ms),
                     PETREL_ENOTFOUND);
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, 1u << 20, NULL, 0, 0, &ms), PETREL_EINVAL);
    const char *badkw[] = {"\\Seen"};
    assert_int_equal(set_flags(f, u1, STORE_FLAGS_ADD, 0, badkw, 1, 0, &ms), PETREL_EINVAL);
}

typedef struct seq {
    unsigned n;
    uint32_t uids[16];
    uint64_t modseqs[16];
} seq_t;

static int msg_cb(const store_msg_t *m, void *arg)
{
    seq_t *s = arg;
    s->uids[s->n] = m->uid;
    s->modseqs[s->n++] = m->modseq;
    return 0;
}

static int uid_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    seq_t *s = arg;
    s->uids[s->n] = uid;
    s->modseqs[s->n++] = modseq;
    return 0;
}

static void test_expunge_vanished_changed(void **state)
{
    sfx_t *f = *state;
    uint32_t uid[4];
    int rc;
    for (int i = 0; i < 4; i++)
        assert_int_equal(sfx_append1(f, f->user, f->inbox, "msg", 3, &uid[i]), 0);
    store_mailbox_t m0 = sfx_mbox(f, f->user, "INBOX", &rc);
    uint64_t base = m0.highestmodseq, ms;
    assert_int_equal(set_flags(f, uid[0], STORE_FLAGS_ADD, STORE_F_DELETED, NULL, 0, 0, &ms), 0);
    store_mailbox_t m1 = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m1.deleted, 1);
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[0]), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[0]), PETREL_ENOTFOUND);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, 999), PETREL_ENOTFOUND);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[2]), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    store_mailbox_t m2 = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(m2.messages, 2);
    assert_int_equal(m2.deleted, 0);
    assert_int_equal(m2.unseen, 2);
    assert_int_equal(m2.bytes, 6);
    assert_int_equal(m2.highestmodseq, base + 3);
    seq_t s = {0};
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_vanished_since(t, f->user, f->inbox, base, uid_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.uids[0], uid[0]);
    assert_int_equal(s.modseqs[0], base + 2);
    assert_int_equal(s.uids[1], uid[2]);
    assert_int_equal(s.modseqs[1], base + 3);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_msg_vanished_since(t, f->user, f->inbox, base + 2, uid_cb, &s), 0);
    assert_int_equal(s.n, 1);
    /* changed since: only messages that still exist, in modseq order */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_msg_changed_since(t, f->user, f->inbox, 0, msg_cb, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.uids[0], uid[1]);
    assert_int_equal(s.uids[1], uid[3]);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_msg_changed_since(t, f->user, f->inbox, s.modseqs[0] + 100, msg_cb, &s),
                     0);
    assert_int_equal(s.n, 0);
    /* list */
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_msg_list(t, f->user, f->inbox, 1, UINT32_MAX, msg_cb, &s), 0);
    assert_int_equal(s.n, 2);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_msg_list(t, f->user, f->inbox, 3, 4, msg_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.uids[0], 4);
    store_txn_abort(&t);
    /* a flag change moves the message to the end of changed_since */
    assert_int_equal(set_flags(f, uid[1], STORE_FLAGS_ADD, STORE_F_SEEN, NULL, 0, 0, &ms), 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_changed_since(t, f->user, f->inbox, base + 3, msg_cb, &s), 0);
    store_txn_abort(&t);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.uids[0], uid[1]);
    assert_int_equal(s.modseqs[0], ms);
}

struct vcount {
    unsigned n;
    uint32_t first_uid;
    uint64_t first_modseq;
};

static int count_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    struct vcount *c = arg;
    if (c->n++ == 0) {
        c->first_uid = uid;
        c->first_modseq = modseq;
    }
    return 0;
}

/* Past vanished_keep records a mailbox drops its oldest tenth; the floor says
 * from which modseq on the history is still complete. */
static void test_vanished_records_are_trimmed(void **state)
{
    sfx_t *f = *state;
    f->opts.vanished_keep = 20;
    assert_int_equal(sfx_reopen(f), 0);
    uint32_t uid[30];
    for (int i = 0; i < 30; i++)
        assert_int_equal(sfx_append1(f, f->user, f->inbox, "msg", 3, &uid[i]), 0);
    int rc;
    uint64_t base = sfx_mbox(f, f->user, "INBOX", &rc).highestmodseq, floor;
    store_txn_t *t;
    /* 20 expunges: all kept, floor 0 */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(store_write_begin(f->st, &t), 0);
        assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[i]), 0);
        assert_int_equal(store_txn_commit(&t), 0);
    }
    struct vcount c = {0};
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_vanished_since(t, f->user, f->inbox, 0, count_cb, &c), 0);
    assert_int_equal(c.n, 20);
    assert_int_equal(store_msg_vanished_floor(t, f->user, f->inbox, &floor), 0);
    assert_int_equal(floor, 0);
    store_txn_abort(&t);
    /* the 21st drops the oldest down to 18 (keep - keep/10): modseqs base+1..base+3 */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[20]), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_vanished_floor(t, f->user, f->inbox, &floor), 0);
    assert_int_equal(floor, base + 3);
    /* from the floor on the history is whole: uid[3] (modseq base+4) is the oldest kept */
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_msg_vanished_since(t, f->user, f->inbox, 0, count_cb, &c), 0);
    assert_int_equal(c.n, 18);
    assert_int_equal(c.first_uid, uid[3]);
    assert_int_equal(c.first_modseq, base + 4);
    store_txn_abort(&t);
    /* a whole mailbox expunged in one txn keeps the cap too */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    for (int i = 21; i < 30; i++)
        assert_int_equal(store_msg_expunge(t, f->user, f->inbox, uid[i]), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    memset(&c, 0, sizeof(c));
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_msg_vanished_since(t, f->user, f->inbox, 0, count_cb, &c), 0);
    assert_true(c.n <= 20 && c.n >= 18);
    assert_int_equal(store_msg_vanished_floor(t, f->user, f->inbox, &floor), 0);
    assert_int_equal(floor, c.first_modseq - 1);
    assert_int_equal(floor, base + 30 - c.n);
    store_txn_abort(&t);
    assert_int_equal(sfx_mbox(f, f->user, "INBOX", &rc).messages, 0);
}

static void test_uids_not_reused(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "a", 1, &uid), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "b", 1, &uid), 0);
    assert_int_equal(uid, 2);
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, 2), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(sfx_reopen(f), 0);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "c", 1, &uid), 0);
    assert_int_equal(uid, 3);
}

static void test_copy_move(void **state)
{
    sfx_t *f = *state;
    uint32_t uid, box, nu, nu2;
    const char *kw[] = {"Keep"};
    store_append_t in = {.data = "copy me",
                         .len = 7,
                         .flags = STORE_F_FLAGGED | STORE_F_SEEN,
                         .keywords = kw,
                         .nkeywords = 1,
                         .internal_date = 1600000000};
    store_txn_t *t;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Dest", 0, &box), 0);
    assert_int_equal(store_msg_append(t, f->user, f->inbox, &in, &uid), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, uid, box, &nu), 0);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, 99, box, &nu2), PETREL_ENOTFOUND);
    assert_int_equal(store_msg_copy(t, f->user, f->inbox, uid, 99, &nu2), PETREL_ENOTFOUND);
    store_msg_t a, b;
    assert_int_equal(store_msg_get(t, f->user, f->inbox, uid, &a), 0);
    assert_int_equal(store_msg_get(t, f->user, box, nu, &b), 0);
    assert_int_equal(a.blob_id, b.blob_id);
    assert_int_equal(b.flags, STORE_F_FLAGGED | STORE_F_SEEN);
    assert_int_equal(b.internal_date, 1600000000);
    assert_int_equal(b.nkeywords, 1);
    assert_string_equal(b.keywords, "Keep");
    assert_int_equal(store_msg_move(t, f->user, f->inbox, uid, box, &nu2), 0);
    assert_int_equal(nu2, nu + 1);
    assert_int_equal(store_msg_get(t, f->user, f->inbox, uid, &a), PETREL_ENOTFOUND);
    assert_int_equal(store_msg_move(t, f->user, f->inbox, uid, box, &nu2), PETREL_ENOTFOUND);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get_by_id(t, f->user, box, &m), 0);
    assert_int_equal(m.messages, 2);
    assert_int_equal(m.unseen, 0);
    assert_int_equal(m.bytes, 14);
    assert_int_equal(store_mailbox_get_by_id(t, f->user, f->inbox, &m), 0);
    assert_int_equal(m.messages, 0);
    store_usage_t us;
    assert_int_equal(store_quota_user(t, f->user, &us), 0);
    assert_int_equal(us.messages, 2);
    assert_int_equal(us.bytes, 14);
    assert_int_equal(store_txn_commit(&t), 0);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.blobs, 1);
    assert_int_equal(s.message_bytes, 14);
    assert_int_equal(s.blob_bytes, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_modseq_rules, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_expunge_vanished_changed, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_vanished_records_are_trimmed, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_uids_not_reused, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_copy_move, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
