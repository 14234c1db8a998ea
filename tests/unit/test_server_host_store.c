/*
 * test_server_host_store.c - host writes (core/server/host_store.c) run by
 * the real group-commit writer: an atomic write (w_atomic, ABI 1.1) whose
 * second operation fails leaves nothing stored, while a plain write with the
 * same failure keeps its other operations and an unrelated write committed in
 * the same batch is untouched.
 */
#include <pthread.h>

#include "server/host_int.h"
#include "store/writer.h"
#include "store_test_util.h"

#define NO_SUCH_MAILBOX 999999u

/* The first batch: holds the writer thread until released, so that what is
 * submitted meanwhile is taken as one next batch. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open;
};

static int gate_op(store_txn_t *txn, void *arg)
{
    (void)txn;
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

/* A write as the writer sees it, with the rc its done() got (on_write_done's rc). */
struct job {
    petrel_write *w;
    int rc;
    int called;
};

static int job_op(store_txn_t *txn, void *arg)
{
    return srv_write_op(txn, ((struct job *)arg)->w);
}

static void job_done(int rc, void *arg)
{
    struct job *j = arg;
    j->rc = rc;
    j->called++;
}

/* A write of three appends; the middle one targets a mailbox that does not exist. */
static petrel_write *three_appends(struct petrel_session *s, uint32_t inbox, int atomic)
{
    static const char m1[] = "Subject: one\r\n\r\nfirst\r\n";
    static const char m3[] = "Subject: three\r\n\r\nthird\r\n";
    petrel_write *w = srv_write_new(s);
    assert_non_null(w);
    assert_int_equal(srv_w_append(w, inbox, m1, sizeof(m1) - 1, 0, 0, NULL, 0), 0);
    assert_int_equal(srv_w_append(w, NO_SUCH_MAILBOX, m1, sizeof(m1) - 1, 0, 0, NULL, 0), 1);
    assert_int_equal(srv_w_append(w, inbox, m3, sizeof(m3) - 1, 0, 0, NULL, 0), 2);
    if (atomic) assert_int_equal(srv_w_atomic(w), 0);
    return w;
}

static uint64_t usage_bytes(sfx_t *f, uint64_t user)
{
    store_txn_t *t;
    store_usage_t u = {0};
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_quota_user(t, user, &u), 0);
    store_txn_abort(&t);
    return u.bytes;
}

static void test_atomic_write_rolls_back_alone(void **state)
{
    sfx_t *f = *state;
    struct petrel_session alice, bob;
    memset(&alice, 0, sizeof(alice));
    memset(&bob, 0, sizeof(bob));
    alice.user_id = f->user;
    bob.user_id = f->user2;

    petrel_write *wa = three_appends(&alice, f->inbox, 1); /* atomic */
    petrel_write *wp = three_appends(&alice, f->inbox, 0); /* plain */
    static const char mb[] = "Subject: bob\r\n\r\nunrelated\r\n";
    petrel_write *wb = srv_write_new(&bob);
    assert_int_equal(srv_w_append(wb, f->inbox2, mb, sizeof(mb) - 1, 0, 0, NULL, 0), 0);

    store_writer_t *wr = NULL;
    assert_int_equal(store_writer_start(f->st, &wr), 0);
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    assert_int_equal(store_writer_submit(wr, gate_op, NULL, &g), 0);
    pthread_mutex_lock(&g.mu);
    while (!g.entered)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);

    struct job ja = {wa, 1, 0}, jp = {wp, 1, 0}, jb = {wb, 1, 0};
    assert_int_equal(store_writer_submit(wr, job_op, job_done, &ja), 0);
    assert_int_equal(store_writer_submit(wr, job_op, job_done, &jp), 0);
    assert_int_equal(store_writer_submit(wr, job_op, job_done, &jb), 0);
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    store_writer_quiesce(wr);
    store_writer_stats_t st;
    store_writer_stats(wr, &st);
    store_writer_stop(&wr);
    assert_int_equal(st.batches, 2); /* the gate, then the three writes together */
    assert_int_equal(st.max_batch, 3);
    assert_int_equal(st.ops_failed, 1); /* only the atomic write failed as a whole */

    assert_int_equal(ja.called + jp.called + jb.called, 3);
    /* the atomic write: its result is the first failure; every op reports it, no UID */
    int err = ja.rc;
    assert_int_equal(err, PETREL_ENOTFOUND);
    assert_int_equal(jp.rc, 0);
    assert_int_equal(jb.rc, 0);
    uint32_t uid;
    for (int i = 0; i < 3; i++) {
        uid = 77;
        assert_int_equal(srv_w_result(wa, i, 0, &uid, NULL), err);
        assert_int_equal(uid, 0);
    }
    /* the plain write: ops 0 and 2 committed, op 1 failed alone */
    uint32_t u0 = 0, u2 = 0;
    assert_int_equal(srv_w_result(wp, 0, 0, &u0, NULL), 0);
    assert_int_equal(srv_w_result(wp, 1, 0, NULL, NULL), err);
    assert_int_equal(srv_w_result(wp, 2, 0, &u2, NULL), 0);
    assert_int_equal(u2, u0 + 1);
    assert_int_equal(u0, 1); /* the atomic write spent no UID that stayed */
    assert_int_equal(srv_w_result(wb, 0, 0, &uid, NULL), 0);
    assert_int_equal(uid, 1);

    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, 2); /* the plain write's two, nothing of the atomic one */
    assert_int_equal(usage_bytes(f, f->user), m.bytes);
    m = sfx_mbox(f, f->user2, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, 1);
    assert_int_equal(usage_bytes(f, f->user2), sizeof(mb) - 1);

    srv_write_free(&wa);
    srv_write_free(&wp);
    srv_write_free(&wb);
    assert_null(wa);
}

/*
 * Deliveries run without a nested transaction of their own: a delivery to a
 * user that does not exist fails for each of its users (never 0 for a message
 * not kept) and leaves the deliveries before and after it in the same write.
 */
static void test_deliver_results(void **state)
{
    sfx_t *f = *state;
    struct petrel_session s;
    memset(&s, 0, sizeof(s));
    static const char m1[] = "Subject: one\r\n\r\nfirst\r\n";
    static const char m2[] = "Subject: two\r\n\r\nsecond\r\n";
    uint64_t alice[1] = {f->user}, nobody[2] = {f->user2, 424242}, both[2] = {f->user, f->user2};
    petrel_write *w = srv_write_new(&s);
    assert_non_null(w);
    assert_int_equal(srv_w_deliver(w, m1, sizeof(m1) - 1, alice, 1, NULL), 0);
    assert_int_equal(srv_w_deliver(w, m1, sizeof(m1) - 1, nobody, 2, NULL), 1);
    assert_int_equal(srv_w_deliver(w, m2, sizeof(m2) - 1, both, 2, "NoSuchFolder"), 2);

    store_writer_t *wr = NULL;
    assert_int_equal(store_writer_start(f->st, &wr), 0);
    struct job j = {w, 1, 0};
    assert_int_equal(store_writer_submit(wr, job_op, job_done, &j), 0);
    store_writer_quiesce(wr);
    store_writer_stop(&wr);
    assert_int_equal(j.called, 1);
    assert_int_equal(j.rc, 0);

    uint32_t uid = 0;
    assert_int_equal(srv_w_result(w, 0, 0, &uid, NULL), 0);
    assert_int_equal(uid, 1);
    for (unsigned k = 0; k < 2; k++) {
        uid = 77;
        assert_int_equal(srv_w_result(w, 1, k, &uid, NULL), PETREL_ENOTFOUND);
        assert_int_equal(uid, 0);
    }
    assert_int_equal(srv_w_result(w, 2, 0, &uid, NULL), 0);
    assert_int_equal(uid, 2);
    assert_int_equal(srv_w_result(w, 2, 1, &uid, NULL), 0);
    assert_int_equal(uid, 1);

    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, 2);
    assert_int_equal(usage_bytes(f, f->user), m.bytes);
    m = sfx_mbox(f, f->user2, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, 1); /* op 1 kept nothing for bob */
    assert_int_equal(usage_bytes(f, f->user2), sizeof(m2) - 1);
    srv_write_free(&w);
}

static void test_atomic_after_submit_refused(void **state)
{
    sfx_t *f = *state;
    struct petrel_session s;
    memset(&s, 0, sizeof(s));
    s.user_id = f->user;
    petrel_write *w = srv_write_new(&s);
    assert_non_null(w);
    assert_int_equal(srv_w_atomic(w), 0);
    assert_int_equal(srv_w_atomic(w), 0); /* idempotent */
    assert_int_equal(srv_w_atomic(NULL), PETREL_EINVAL);
    srv_write_free(&w);
}

/* msg_uids (ABI 1.1): the UID map at SELECT in one call, through a real read snapshot. */
static void test_msg_uids(void **state)
{
    sfx_t *f = *state;
    struct srv_host h;
    memset(&h, 0, sizeof(h));
    h.store = f->st;
    struct petrel_session s;
    memset(&s, 0, sizeof(s));
    s.host = &h;
    s.user_id = f->user;
    uint32_t uid;
    for (int i = 0; i < 3; i++)
        assert_int_equal(sfx_append1(f, f->user, f->inbox, "x", 1, &uid), 0);
    petrel_read *r = srv_read_begin(&s);
    assert_non_null(r);
    uint32_t uids[4] = {0}, n = 9, first_unseen = 9;
    assert_int_equal(srv_msg_uids(r, f->inbox, uids, 4, &n, &first_unseen), 0);
    assert_int_equal(n, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(uids[i], i + 1);
    assert_int_equal(first_unseen, 1);
    assert_int_equal(srv_msg_uids(r, f->inbox, uids, 2, &n, NULL), PETREL_ETOOBIG);
    assert_int_equal(srv_msg_uids(r, f->inbox, NULL, 4, &n, NULL), PETREL_EINVAL);
    srv_read_end(&r);
    assert_true(PETREL_HOST_HAS(srv_host_table(), msg_uids));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msg_uids, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write_rolls_back_alone, sfx_setup,
                                        sfx_teardown),
        cmocka_unit_test_setup_teardown(test_atomic_after_submit_refused, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_deliver_results, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
