/*
 * test_store_writer.c - the group-commit writer (core/store/writer.c):
 * completion order and timing, rollback of a failing op alone, draining on
 * stop, the queue bound and batch cap, re-runs after map growth, concurrent
 * submitters against concurrent readers, and SIGKILL crash rounds.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/writer.h"
#include "util/log.h"

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: deterministic from the seed, so content can be regenerated */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A message of exactly len bytes (len >= 200) whose content is a function of seed. */
static void msg_fill(char *p, size_t len, uint64_t seed)
{
    int h = snprintf(p, len,
                     "From: a@example.org\r\nTo: u@example.com\r\nSubject: seed %016llx\r\n"
                     "Message-ID: <%016llx@test>\r\n\r\n",
                     (unsigned long long)seed, (unsigned long long)seed);
    uint64_t s = seed;
    for (size_t i = (size_t)h; i < len; i++) {
        if (i % 72 == 70)
            p[i] = '\r';
        else if (i % 72 == 71)
            p[i] = '\n';
        else
            p[i] = (char)('a' + rng_next(&s) % 26);
    }
}

static char *msg_make(size_t len, uint64_t seed)
{
    char *p = malloc(len + 1);
    assert_non_null(p);
    msg_fill(p, len, seed);
    return p;
}

/* 0 when the stored message (user, mbox, uid) is byte for byte msg_make(len, seed). */
static int msg_verify(store_t *st, uint64_t user, uint32_t mbox, uint32_t uid, uint64_t seed,
                      size_t len)
{
    store_txn_t *txn = NULL;
    int rc = store_read_begin(st, &txn);
    if (rc) return rc;
    store_msg_t m;
    store_view_t v;
    rc = store_msg_get(txn, user, mbox, uid, &m);
    if (rc == 0 && m.size != len) rc = PETREL_ECORRUPT;
    if (rc == 0) rc = store_msg_view(txn, &m, &v);
    if (rc == 0) {
        char *want = malloc(len), *got = malloc(len);
        if (!want || !got || store_view_copy(&v, 0, got, len) != len) rc = PETREL_ECORRUPT;
        if (rc == 0) {
            msg_fill(want, len, seed);
            rc = memcmp(want, got, len) ? PETREL_ECORRUPT : 0;
        }
        free(want);
        free(got);
    }
    store_txn_abort(&txn);
    return rc;
}

static void check_cb(const char *problem, void *arg)
{
    (void)arg;
    print_error("store_check: %s\n", problem);
}

static void assert_store_clean(store_t *st)
{
    unsigned problems = 99;
    assert_int_equal(store_check(st, 0, check_cb, NULL, &problems), 0);
    assert_int_equal(problems, 0);
}

/* ------------------------------------------------------------------ fixture */

typedef struct fx {
    char dir[64];
    store_t *st;
    uint64_t user;
    uint32_t inbox;
} fx_t;

static int fx_setup_op(store_txn_t *txn, void *arg)
{
    fx_t *fx = arg;
    uint64_t tid;
    store_mailbox_t m;
    int rc = store_tenant_add(txn, "example.com", STORE_PROTO_ALL, 0, &tid);
    if (rc == 0) rc = store_user_add(txn, "u@example.com", "", 0, 0, &fx->user);
    if (rc == 0) rc = store_mailbox_get(txn, fx->user, "INBOX", &m);
    if (rc == 0) fx->inbox = m.id;
    return rc;
}

static int fx_open(fx_t *fx, uint64_t map_size)
{
    store_opts_t o = {.struct_size = sizeof(o), .map_size = map_size};
    return store_open(fx->dir, &o, &fx->st);
}

static fx_t *fx_new(uint64_t map_size)
{
    fx_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/petrel-writer-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(fx_open(fx, map_size), 0);
    assert_int_equal(store_write(fx->st, fx_setup_op, fx), 0);
    return fx;
}

static int fx_setup(void **state)
{
    *state = fx_new(0);
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *fx = *state;
    store_close(&fx->st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) print_error("could not remove %s\n", fx->dir);
    free(fx);
    return 0;
}

/* ------------------------------------------------------------------ ops */

/* Completion bookkeeping shared by the ops of one test. */
typedef struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int next_order;
    int done;
} tally_t;

static void tally_init(tally_t *t)
{
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->next_order = 0;
    t->done = 0;
}

static void tally_wait(tally_t *t, int n)
{
    pthread_mutex_lock(&t->mu);
    while (t->done < n)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

typedef struct app {
    fx_t *fx;
    tally_t *tally;
    store_writer_t *w; /* set: done() tries to submit again and records the result */
    uint32_t mbox;
    uint64_t seed;
    size_t len;
    char *data;
    uint32_t flags;
    int fail_after; /* return PETREL_EQUOTA after a successful append */
    uint32_t uid;
    int runs;
    int rc;
    int done_calls;
    int order;
    int visible; /* the message was readable from inside done() */
    int resubmit_rc;
} app_t;

static int op_append(store_txn_t *txn, void *arg)
{
    app_t *a = arg;
    a->runs++;
    store_append_t in = {.data = a->data, .len = a->len, .flags = a->flags};
    int rc = store_msg_append(txn, a->fx->user, a->mbox, &in, &a->uid);
    if (rc == 0 && a->fail_after) rc = PETREL_EQUOTA;
    return rc;
}

static int op_noop(store_txn_t *txn, void *arg)
{
    (void)txn;
    (void)arg;
    return 0;
}

static void done_append(int rc, void *arg)
{
    app_t *a = arg;
    if (rc == 0) {
        store_txn_t *txn = NULL;
        store_msg_t m;
        if (store_read_begin(a->fx->st, &txn) == 0) {
            a->visible = store_msg_get(txn, a->fx->user, a->mbox, a->uid, &m) == 0;
            store_txn_abort(&txn);
        }
    }
    if (a->w) a->resubmit_rc = store_writer_submit(a->w, op_noop, NULL, NULL);
    pthread_mutex_lock(&a->tally->mu);
    a->rc = rc;
    a->done_calls++;
    a->order = a->tally->next_order++;
    a->tally->done++;
    pthread_cond_broadcast(&a->tally->cv);
    pthread_mutex_unlock(&a->tally->mu);
}

static void app_init(app_t *a, fx_t *fx, tally_t *t, size_t len, uint64_t seed)
{
    memset(a, 0, sizeof(*a));
    a->fx = fx;
    a->tally = t;
    a->mbox = fx->inbox;
    a->len = len;
    a->seed = seed;
    a->data = msg_make(len, seed);
    a->order = -1;
}

/* An op that holds the writer thread until the test opens the gate. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;
    int open;
} gate_t;

static int op_gate(store_txn_t *txn, void *arg)
{
    (void)txn;
    gate_t *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static void gate_init(gate_t *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->entered = g->open = 0;
}

static void gate_wait_entered(gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate_t *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ------------------------------------------------------------------ pipelined ack */

typedef struct pipe_probe {
    fx_t *fx;
    store_writer_t *w;
    gate_t gate;
    int later_visible; /* UID 1, appended by the next batch, was committed before done() */
    uint64_t syncs_at_done;
    uint64_t batches_at_done;
    int rc;
    tally_t *tally;
} pipe_probe_t;

static int op_probe_gate(store_txn_t *txn, void *arg)
{
    return op_gate(txn, &((pipe_probe_t *)arg)->gate);
}

static void done_probe(int rc, void *arg)
{
    pipe_probe_t *pp = arg;
    store_txn_t *txn = NULL;
    store_msg_t m;
    if (store_read_begin(pp->fx->st, &txn) == 0) {
        pp->later_visible = store_msg_get(txn, pp->fx->user, pp->fx->inbox, 1, &m) == 0;
        store_txn_abort(&txn);
    }
    store_writer_stats_t s;
    store_writer_stats(pp->w, &s);
    pp->syncs_at_done = s.syncs;
    pp->batches_at_done = s.batches;
    pthread_mutex_lock(&pp->tally->mu);
    pp->rc = rc;
    pp->tally->next_order++;
    pp->tally->done++;
    pthread_cond_broadcast(&pp->tally->cv);
    pthread_mutex_unlock(&pp->tally->mu);
}

/*
 * A batch committed while the next one waits is acknowledged after the
 * next batch's commit (whose data sync makes it durable), without a sync of
 * its own; the last batch, with nothing behind it, gets one store_sync.
 */
static void test_pipelined_ack(void **state)
{
    fx_t *fx = *state;
    enum { N = 3 };
    tally_t t;
    tally_init(&t);
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    app_t a[N];
    pipe_probe_t pp = {.fx = fx, .w = w, .tally = &t};
    gate_init(&pp.gate);
    /* batch 1: the gate, whose done() looks at the store and the counters */
    assert_int_equal(store_writer_submit(w, op_probe_gate, done_probe, &pp), 0);
    gate_wait_entered(&pp.gate);
    /* batch 2: N appends queued while batch 1 runs */
    for (int i = 0; i < N; i++) {
        app_init(&a[i], fx, &t, 500 + (size_t)i, 7000 + (uint64_t)i);
        assert_int_equal(store_writer_submit(w, op_append, done_append, &a[i]), 0);
    }
    gate_open(&pp.gate);
    tally_wait(&t, N + 1);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    store_writer_stop(&w);
    assert_int_equal(pp.rc, 0);
    assert_true(pp.later_visible);          /* batch 2 had committed before batch 1's ack */
    assert_int_equal(pp.syncs_at_done, 0);  /* ... which needed no sync of its own */
    assert_int_equal(pp.batches_at_done, 1);
    assert_int_equal(s.batches, 2);
    assert_int_equal(s.syncs, 1); /* batch 2: nothing behind it */
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i].rc, 0);
        assert_int_equal(a[i].order, i + 1); /* after the gate's done */
        assert_true(a[i].visible);
        free(a[i].data);
    }
    assert_int_equal(a[0].uid, 1);
}

/* on_commit of a lazy commit waits for the sync (or the next commit) that makes it durable. */
typedef struct hook_count {
    int calls;
    size_t changes;
} hook_count_t;

static void hook_count_cb(const store_change_t *changes, size_t n, void *arg)
{
    (void)changes;
    hook_count_t *h = arg;
    h->calls++;
    h->changes += n;
}

typedef struct mkbox {
    uint64_t user;
    const char *name;
} mkbox_t;

static int op_mkbox(store_txn_t *txn, void *arg)
{
    const mkbox_t *mk = arg;
    uint32_t id;
    return store_mailbox_create(txn, mk->user, mk->name, 0, &id);
}

static void test_lazy_commit_watchers(void **state)
{
    fx_t *fx = *state;
    store_close(&fx->st);
    hook_count_t h = {0, 0};
    store_opts_t o = {.struct_size = sizeof(o), .on_commit = hook_count_cb, .on_commit_arg = &h};
    assert_int_equal(store_open(fx->dir, &o, &fx->st), 0);
    mkbox_t b1 = {fx->user, "lazy1"}, b2 = {fx->user, "lazy2"}, b3 = {fx->user, "plain3"},
            b4 = {fx->user, "lazy4"};
    store_txn_t *txn = NULL;
    assert_int_equal(store_write_begin(fx->st, &txn), 0);
    assert_int_equal(op_mkbox(txn, &b1), 0);
    assert_int_equal(store_txn_commit_lazy(&txn), 0);
    assert_null(txn);
    assert_int_equal(h.calls, 0); /* not durable yet: nobody is told */
    assert_int_equal(store_sync(fx->st), 0);
    assert_int_equal(h.calls, 1);
    assert_int_equal(store_sync(fx->st), 0); /* nothing pending: no second call */
    assert_int_equal(h.calls, 1);
    /* a lazy commit made durable by the next (ordinary) commit */
    assert_int_equal(store_write_begin(fx->st, &txn), 0);
    assert_int_equal(op_mkbox(txn, &b2), 0);
    assert_int_equal(store_txn_commit_lazy(&txn), 0);
    assert_int_equal(h.calls, 1);
    assert_int_equal(store_write(fx->st, op_mkbox, &b3), 0);
    assert_int_equal(h.calls, 3); /* lazy2's, then plain3's own */
    /* committed data is there after a reopen */
    assert_int_equal(store_write_begin(fx->st, &txn), 0);
    assert_int_equal(op_mkbox(txn, &b4), 0);
    assert_int_equal(store_txn_commit_lazy(&txn), 0);
    store_close(&fx->st); /* syncs what is pending */
    assert_int_equal(fx_open(fx, 0), 0);
    assert_int_equal(store_read_begin(fx->st, &txn), 0);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(txn, fx->user, "lazy1", &m), 0);
    assert_int_equal(store_mailbox_get(txn, fx->user, "lazy2", &m), 0);
    assert_int_equal(store_mailbox_get(txn, fx->user, "lazy4", &m), 0);
    store_txn_abort(&txn);
}

/* ------------------------------------------------------------------ basic */

static void test_done_after_commit_in_order(void **state)
{
    fx_t *fx = *state;
    enum { N = 12 };
    tally_t t;
    tally_init(&t);
    app_t a[N];
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    for (int i = 0; i < N; i++) {
        app_init(&a[i], fx, &t, 300 + (size_t)i * 977, 1000 + (uint64_t)i);
        assert_int_equal(store_writer_submit(w, op_append, done_append, &a[i]), 0);
    }
    tally_wait(&t, N);
    store_writer_stop(&w);
    assert_null(w);
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i].rc, 0);
        assert_int_equal(a[i].done_calls, 1);
        assert_int_equal(a[i].order, i); /* done in submit order */
        assert_true(a[i].visible);       /* committed before done was called */
        if (i > 0) assert_true(a[i].uid > a[i - 1].uid);
        assert_int_equal(msg_verify(fx->st, fx->user, fx->inbox, a[i].uid, a[i].seed, a[i].len), 0);
        free(a[i].data);
    }
    assert_store_clean(fx->st);
}

static int count_cb(const store_msg_t *m, void *arg)
{
    (void)m;
    (*(unsigned *)arg)++;
    return 0;
}

static void test_failing_op_rolled_back_alone(void **state)
{
    fx_t *fx = *state;
    tally_t t;
    tally_init(&t);
    gate_t g;
    gate_init(&g);
    app_t a[3];
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    assert_int_equal(store_writer_submit(w, op_gate, NULL, &g), 0);
    gate_wait_entered(&g); /* the writer is busy: the next three queue up as one batch */
    for (int i = 0; i < 3; i++) {
        app_init(&a[i], fx, &t, 5000 + (size_t)i, 77 + (uint64_t)i);
        a[i].fail_after = i == 1;
        assert_int_equal(store_writer_submit(w, op_append, done_append, &a[i]), 0);
    }
    gate_open(&g);
    tally_wait(&t, 3);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    store_writer_stop(&w);
    assert_true(s.max_batch >= 3);
    assert_int_equal(s.ops_failed, 1);
    assert_int_equal(a[0].rc, 0);
    assert_int_equal(a[1].rc, PETREL_EQUOTA);
    assert_int_equal(a[2].rc, 0);
    assert_true(a[1].runs >= 1);
    assert_int_equal(msg_verify(fx->st, fx->user, fx->inbox, a[0].uid, a[0].seed, a[0].len), 0);
    assert_int_equal(msg_verify(fx->st, fx->user, fx->inbox, a[2].uid, a[2].seed, a[2].len), 0);
    /* the failed append left nothing: two messages, counters agree */
    store_txn_t *txn = NULL;
    store_mailbox_t m;
    unsigned n = 0;
    assert_int_equal(store_read_begin(fx->st, &txn), 0);
    assert_int_equal(store_mailbox_get_by_id(txn, fx->user, fx->inbox, &m), 0);
    assert_int_equal(store_msg_list(txn, fx->user, fx->inbox, 1, UINT32_MAX, count_cb, &n), 0);
    store_txn_abort(&txn);
    assert_int_equal(n, 2);
    assert_int_equal(m.messages, 2);
    assert_int_equal(m.bytes, a[0].len + a[2].len);
    for (int i = 0; i < 3; i++)
        free(a[i].data);
    assert_store_clean(fx->st);
}

static void test_stop_drains_then_closed(void **state)
{
    fx_t *fx = *state;
    enum { N = 40 };
    tally_t t;
    tally_init(&t);
    app_t a[N];
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    for (int i = 0; i < N; i++) {
        app_init(&a[i], fx, &t, 1000, 5000 + (uint64_t)i);
        if (i == N - 1) a[i].w = w; /* runs during stop: its submit must be refused */
        assert_int_equal(store_writer_submit(w, op_append, done_append, &a[i]), 0);
    }
    store_writer_stop(&w); /* no wait: stop itself must run them all */
    assert_null(w);
    assert_int_equal(t.done, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i].rc, 0);
        assert_int_equal(a[i].done_calls, 1);
        assert_int_equal(msg_verify(fx->st, fx->user, fx->inbox, a[i].uid, a[i].seed, a[i].len), 0);
        free(a[i].data);
    }
    assert_int_equal(a[N - 1].resubmit_rc, PETREL_ECLOSED);
    store_writer_stop(&w); /* NULL is fine */
}

static int op_count(store_txn_t *txn, void *arg)
{
    (void)txn;
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_RELAXED);
    return 0;
}

static void test_queue_bound_and_batch_cap(void **state)
{
    fx_t *fx = *state;
    gate_t g;
    gate_init(&g);
    int ran = 0;
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    assert_int_equal(store_writer_submit(w, NULL, NULL, NULL), PETREL_EINVAL);
    assert_int_equal(store_writer_submit(w, op_gate, NULL, &g), 0);
    gate_wait_entered(&g);
    for (int i = 0; i < STORE_WRITER_QUEUE_MAX; i++)
        assert_int_equal(store_writer_submit(w, op_count, NULL, &ran), 0);
    assert_int_equal(store_writer_submit(w, op_count, NULL, &ran), PETREL_EAGAIN);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    assert_int_equal(s.queued, STORE_WRITER_QUEUE_MAX);
    gate_open(&g);
    store_writer_stop(&w);
    assert_int_equal(ran, STORE_WRITER_QUEUE_MAX);
}

static void test_batch_stats(void **state)
{
    fx_t *fx = *state;
    gate_t g;
    gate_init(&g);
    int ran = 0;
    enum { N = STORE_WRITER_BATCH_OPS * 2 + 10 };
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    assert_int_equal(store_writer_submit(w, op_gate, NULL, &g), 0);
    gate_wait_entered(&g);
    for (int i = 0; i < N; i++)
        assert_int_equal(store_writer_submit(w, op_count, NULL, &ran), 0);
    gate_open(&g);
    /* wait for completion through a final op's done */
    tally_t t;
    tally_init(&t);
    app_t last;
    app_init(&last, fx, &t, 400, 99);
    assert_int_equal(store_writer_submit(w, op_append, done_append, &last), 0);
    tally_wait(&t, 1);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    store_writer_stop(&w);
    assert_int_equal(ran, N);
    assert_int_equal(s.ops, N + 2);
    assert_int_equal(s.max_batch, STORE_WRITER_BATCH_OPS); /* the cap held */
    /* gate alone, then >= 3 batches for N + 1 ops (cap 256): 4..N+2 commits */
    assert_true(s.batches >= 4);
    assert_true(s.batches < (uint64_t)N);
    free(last.data);
}

static void test_size_hint_batch_count(void **state)
{
    fx_t *fx = *state;
    gate_t g;
    gate_init(&g);
    int ran = 0;
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    assert_int_equal(store_writer_submit(w, op_gate, NULL, &g), 0);
    gate_wait_entered(&g);
    size_t hint = STORE_WRITER_BATCH_BYTES / 5 * 2;
    for (int i = 0; i < 6; i++)
        assert_int_equal(store_writer_submit_sized(w, op_count, NULL, &ran, hint), 0);
    /* an op bigger than the whole cap still runs (alone) */
    assert_int_equal(store_writer_submit_sized(w, op_count, NULL, &ran, SIZE_MAX), 0);
    gate_open(&g);
    tally_t t;
    tally_init(&t);
    app_t last;
    app_init(&last, fx, &t, 400, 98);
    assert_int_equal(store_writer_submit(w, op_append, done_append, &last), 0);
    tally_wait(&t, 1);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    store_writer_stop(&w);
    assert_int_equal(ran, 7);
    assert_int_equal(s.max_batch, 2);
    assert_int_equal(s.batches, 1 + 3 + 1 + 1); /* gate, 3 pairs, the huge one, last */
    free(last.data);
}

/* A small map: appends overflow it, the batch is re-run after growth. */
static void test_rerun_after_map_growth(void **state)
{
    (void)state;
    fx_t *fx = fx_new(1u << 20);
    enum { N = 48 };
    tally_t t;
    tally_init(&t);
    app_t a[N];
    store_writer_t *w = NULL;
    assert_int_equal(store_writer_start(fx->st, &w), 0);
    for (int i = 0; i < N; i++) {
        app_init(&a[i], fx, &t, 90000 + (size_t)i, 7000 + (uint64_t)i);
        assert_int_equal(store_writer_submit_sized(w, op_append, done_append, &a[i], a[i].len), 0);
    }
    tally_wait(&t, N);
    store_writer_stats_t s;
    store_writer_stats(w, &s);
    store_writer_stop(&w);
    assert_true(s.retries >= 1);
    int reran = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i].rc, 0);
        assert_int_equal(a[i].done_calls, 1);
        reran += a[i].runs > 1;
        assert_int_equal(msg_verify(fx->st, fx->user, fx->inbox, a[i].uid, a[i].seed, a[i].len), 0);
        free(a[i].data);
    }
    assert_true(reran >= 1);
    assert_store_clean(fx->st);
    void *p = fx;
    fx_teardown(&p);
}

/* ------------------------------------------------------------------ concurrency */

#define CC_MBOXES 4
#define CC_WRITERS 8
#define CC_READERS 3
#define CC_PER_WRITER 50

typedef struct cc_ack {
    uint32_t mbox, uid;
    uint64_t seed;
    size_t len;
} cc_ack_t;

typedef struct cc {
    fx_t *fx;
    store_writer_t *w;
    uint32_t mbox[CC_MBOXES];
    int stop_readers;
    int violations;
    int reader_rounds;
    char first_violation[256];
    pthread_mutex_t mu;
    cc_ack_t acks[CC_WRITERS * CC_PER_WRITER];
    int nacks;
} cc_t;

static void cc_violation(cc_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cc_violation(cc_t *c, const char *fmt, ...)
{
    pthread_mutex_lock(&c->mu);
    if (c->violations++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->first_violation, sizeof(c->first_violation), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&c->mu);
}

typedef struct cc_sum {
    uint32_t n, unseen, maxuid;
    uint64_t bytes;
} cc_sum_t;

static int cc_sum_cb(const store_msg_t *m, void *arg)
{
    cc_sum_t *s = arg;
    s->n++;
    s->unseen += !(m->flags & STORE_F_SEEN);
    s->bytes += m->size;
    if (m->uid > s->maxuid) s->maxuid = m->uid;
    return 0;
}

/* One consistent snapshot: every mailbox's counters match its messages. */
static uint32_t cc_read_once(cc_t *c, store_txn_t *txn)
{
    uint32_t total = 0;
    for (int i = 0; i < CC_MBOXES; i++) {
        store_mailbox_t m;
        cc_sum_t s = {0};
        if (store_mailbox_get_by_id(txn, c->fx->user, c->mbox[i], &m) != 0 ||
            store_msg_list(txn, c->fx->user, c->mbox[i], 1, UINT32_MAX, cc_sum_cb, &s) != 0) {
            cc_violation(c, "read failed mailbox=%u", c->mbox[i]);
            continue;
        }
        if (s.n != m.messages || s.unseen != m.unseen || s.bytes != m.bytes ||
            s.maxuid >= m.uidnext)
            cc_violation(c, "mailbox=%u counters messages=%u/%u unseen=%u/%u bytes=%llu/%llu",
                         c->mbox[i], m.messages, s.n, m.unseen, s.unseen,
                         (unsigned long long)m.bytes, (unsigned long long)s.bytes);
        total += s.n;
    }
    store_usage_t u;
    if (store_quota_user(txn, c->fx->user, &u) != 0 || u.messages != total)
        cc_violation(c, "quota usage messages=%llu seen=%u", (unsigned long long)u.messages, total);
    return total;
}

static void *cc_reader(void *arg)
{
    cc_t *c = arg;
    uint32_t last = 0;
    while (!__atomic_load_n(&c->stop_readers, __ATOMIC_ACQUIRE)) {
        store_txn_t *txn = NULL;
        if (store_read_begin(c->fx->st, &txn) != 0) {
            cc_violation(c, "read_begin failed");
            break;
        }
        uint32_t total = cc_read_once(c, txn);
        store_txn_abort(&txn);
        if (total < last) cc_violation(c, "messages went backwards %u -> %u", last, total);
        last = total;
        __atomic_add_fetch(&c->reader_rounds, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

typedef struct cc_job {
    cc_t *c;
    int id;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished;
    int rc;
    /* the op's arguments, results (idempotent) */
    int kind; /* 0: append, 1: mark an earlier message seen */
    store_append_t in;
    uint32_t mbox, uid;
    uint64_t modseq;
} cc_job_t;

static int cc_op(store_txn_t *txn, void *arg)
{
    cc_job_t *j = arg;
    uint64_t user = j->c->fx->user;
    if (j->kind == 1)
        return store_msg_set_flags(txn, user, j->mbox, j->uid, STORE_FLAGS_ADD, STORE_F_SEEN, NULL,
                                   0, 0, &j->modseq);
    return store_msg_append(txn, user, j->mbox, &j->in, &j->uid);
}

static void cc_done(int rc, void *arg)
{
    cc_job_t *j = arg;
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->finished = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* Submits the job (retrying on a full queue) and waits for its completion. */
static int cc_run(cc_job_t *j)
{
    j->finished = 0;
    int rc;
    while ((rc = store_writer_submit(j->c->w, cc_op, cc_done, j)) == PETREL_EAGAIN)
        usleep(100);
    if (rc) return rc;
    pthread_mutex_lock(&j->mu);
    while (!j->finished)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    return j->rc;
}

static void *cc_writer(void *arg)
{
    cc_job_t *j = arg;
    cc_t *c = j->c;
    uint64_t rs = (uint64_t)j->id * 1000003u;
    for (int i = 0; i < CC_PER_WRITER; i++) {
        uint64_t seed = ((uint64_t)j->id << 32) | (uint64_t)i;
        size_t len = 200 + rng_next(&rs) % 30000;
        char *data = msg_make(len, seed);
        j->kind = 0;
        j->mbox = c->mbox[(j->id + i) % CC_MBOXES];
        j->in = (store_append_t){
            .data = data, .len = len, .flags = (rng_next(&rs) & 1) ? STORE_F_SEEN : 0};
        int rc = cc_run(j);
        free(data);
        if (rc) {
            cc_violation(c, "append failed: %d", rc);
            continue;
        }
        pthread_mutex_lock(&c->mu);
        c->acks[c->nacks++] = (cc_ack_t){j->mbox, j->uid, seed, len};
        pthread_mutex_unlock(&c->mu);
        if (i % 4 == 3) { /* mark this one seen: the unseen counter moves */
            j->kind = 1;
            rc = cc_run(j);
            if (rc) cc_violation(c, "set_flags failed: %d", rc);
        }
    }
    return NULL;
}

static int cc_setup_op(store_txn_t *txn, void *arg)
{
    cc_t *c = arg;
    static const char *const names[CC_MBOXES - 1] = {"Archive", "Lists/dev", "Sent"};
    c->mbox[0] = c->fx->inbox;
    for (int i = 1; i < CC_MBOXES; i++) {
        int rc = store_mailbox_create(txn, c->fx->user, names[i - 1], 0, &c->mbox[i]);
        if (rc) return rc;
    }
    return 0;
}

static void test_concurrent_submitters_and_readers(void **state)
{
    fx_t *fx = *state;
    cc_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->fx = fx;
    pthread_mutex_init(&c->mu, NULL);
    assert_int_equal(store_write(fx->st, cc_setup_op, c), 0);
    assert_int_equal(store_writer_start(fx->st, &c->w), 0);
    pthread_t rt[CC_READERS], wt[CC_WRITERS];
    cc_job_t jobs[CC_WRITERS];
    for (int i = 0; i < CC_READERS; i++)
        assert_int_equal(pthread_create(&rt[i], NULL, cc_reader, c), 0);
    for (int i = 0; i < CC_WRITERS; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].c = c;
        jobs[i].id = i;
        pthread_mutex_init(&jobs[i].mu, NULL);
        pthread_cond_init(&jobs[i].cv, NULL);
        assert_int_equal(pthread_create(&wt[i], NULL, cc_writer, &jobs[i]), 0);
    }
    for (int i = 0; i < CC_WRITERS; i++)
        pthread_join(wt[i], NULL);
    __atomic_store_n(&c->stop_readers, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < CC_READERS; i++)
        pthread_join(rt[i], NULL);
    store_writer_stats_t s;
    store_writer_stats(c->w, &s);
    store_writer_stop(&c->w);
    if (c->violations) print_error("first violation: %s\n", c->first_violation);
    assert_int_equal(c->violations, 0);
    assert_true(c->reader_rounds >= CC_READERS);
    assert_int_equal(c->nacks, CC_WRITERS * CC_PER_WRITER);
    assert_true(s.batches < s.ops); /* concurrent submitters shared commits */
    for (int i = 0; i < c->nacks; i++) {
        cc_ack_t *k = &c->acks[i];
        assert_int_equal(msg_verify(fx->st, fx->user, k->mbox, k->uid, k->seed, k->len), 0);
    }
    assert_store_clean(fx->st);
    free(c);
}

/* ------------------------------------------------------------------ crash */

#define CR_ROUNDS 24
#define CR_THREADS 4
#define CR_MAX_ACKS 200000

typedef struct cr_rec {
    uint32_t mbox, uid;
    uint64_t seed;
    uint64_t len;
} cr_rec_t;

typedef struct cr_child {
    store_writer_t *w;
    fx_t *fx;
    int fd;
    int round;
} cr_child_t;

typedef struct cr_job {
    cr_child_t *ch;
    int id;
    cc_job_t sync; /* reuses the submit-and-wait plumbing: only mu/cv/finished/rc */
    store_append_t in;
    uint64_t seed;
    uint32_t uid;
} cr_job_t;

static int cr_op(store_txn_t *txn, void *arg)
{
    cr_job_t *j = arg;
    return store_msg_append(txn, j->ch->fx->user, j->ch->fx->inbox, &j->in, &j->uid);
}

/* Reports an acknowledged append: only here, after the commit returned. */
static void cr_done(int rc, void *arg)
{
    cr_job_t *j = arg;
    if (rc == 0) {
        cr_rec_t r = {j->ch->fx->inbox, j->uid, j->seed, j->in.len};
        if (write(j->ch->fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) _exit(4);
    }
    cc_done(rc, &j->sync);
}

static void *cr_thread(void *arg)
{
    cr_job_t *j = arg;
    uint64_t rs = ((uint64_t)j->ch->round << 40) ^ ((uint64_t)j->id << 20) ^ 0x5eed;
    for (uint64_t i = 0;; i++) {
        j->seed = ((uint64_t)j->ch->round << 48) | ((uint64_t)j->id << 40) | i;
        size_t len = 200 + rng_next(&rs) % 60000;
        char *data = msg_make(len, j->seed);
        j->in = (store_append_t){.data = data, .len = len};
        j->sync.finished = 0;
        int rc;
        while ((rc = store_writer_submit(j->ch->w, cr_op, cr_done, j)) == PETREL_EAGAIN)
            usleep(100);
        if (rc) _exit(5);
        pthread_mutex_lock(&j->sync.mu);
        while (!j->sync.finished)
            pthread_cond_wait(&j->sync.cv, &j->sync.mu);
        pthread_mutex_unlock(&j->sync.mu);
        free(data);
        if (j->sync.rc) _exit(6);
    }
    return NULL;
}

static void cr_child_main(fx_t *fx, int fd, int round)
{
    log_set_level(LOG_LVL_ERROR);
    cr_child_t ch = {.fx = fx, .fd = fd, .round = round};
    if (fx_open(fx, 0) != 0 || store_writer_start(fx->st, &ch.w) != 0) _exit(3);
    static cr_job_t jobs[CR_THREADS];
    pthread_t t[CR_THREADS];
    for (int i = 0; i < CR_THREADS; i++) {
        jobs[i].ch = &ch;
        jobs[i].id = i;
        pthread_mutex_init(&jobs[i].sync.mu, NULL);
        pthread_cond_init(&jobs[i].sync.cv, NULL);
        if (pthread_create(&t[i], NULL, cr_thread, &jobs[i]) != 0) _exit(7);
    }
    for (;;)
        pause(); /* until SIGKILL */
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads whole records from fd into recs until deadline (or EOF when deadline < 0). */
static void cr_collect(int fd, int64_t deadline, cr_rec_t *recs, size_t *n, char *part,
                       size_t *partlen)
{
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) return;
            timeout = (int)left;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, timeout) <= 0) continue;
        ssize_t r = read(fd, part + *partlen, sizeof(cr_rec_t) * 64 - *partlen);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            return; /* EOF: the child is gone */
        }
        *partlen += (size_t)r;
        size_t whole = *partlen / sizeof(cr_rec_t);
        for (size_t i = 0; i < whole && *n < CR_MAX_ACKS; i++)
            memcpy(&recs[(*n)++], part + i * sizeof(cr_rec_t), sizeof(cr_rec_t));
        *partlen -= whole * sizeof(cr_rec_t);
        memmove(part, part + whole * sizeof(cr_rec_t), *partlen);
    }
}

static void test_crash_rounds(void **state)
{
    fx_t *fx = *state;
    store_close(&fx->st); /* the child owns the store while it runs */
    cr_rec_t *recs = calloc(CR_MAX_ACKS, sizeof(*recs));
    assert_non_null(recs);
    size_t n = 0;
    int rounds_with_acks = 0;
    srand((unsigned)time(NULL));
    for (int round = 0; round < CR_ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            cr_child_main(fx, p[1], round);
        }
        close(p[1]);
        size_t before = n, partlen = 0;
        char part[sizeof(cr_rec_t) * 64];
        int64_t kill_at = now_ms() + 30 + rand() % 400;
        cr_collect(p[0], kill_at, recs, &n, part, &partlen);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* it did not die on its own */
        cr_collect(p[0], -1, recs, &n, part, &partlen);
        close(p[0]);
        rounds_with_acks += n > before;
        assert_int_equal(fx_open(fx, 0), 0);
        for (size_t i = 0; i < n; i++) /* every acknowledged message so far, byte for byte */
            assert_int_equal(msg_verify(fx->st, fx->user, recs[i].mbox, recs[i].uid, recs[i].seed,
                                        (size_t)recs[i].len),
                             0);
        assert_store_clean(fx->st);
        store_close(&fx->st);
    }
    print_message("crash: rounds=%d with_acks=%d acknowledged=%zu\n", CR_ROUNDS, rounds_with_acks,
                  n);
    assert_true(rounds_with_acks >= CR_ROUNDS / 2);
    free(recs);
    assert_int_equal(fx_open(fx, 0), 0); /* for the teardown */
}

int main(void)
{
    log_set_level(LOG_LVL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_done_after_commit_in_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_failing_op_rolled_back_alone, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_drains_then_closed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound_and_batch_cap, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_batch_stats, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_size_hint_batch_count, fx_setup, fx_teardown),
        cmocka_unit_test(test_rerun_after_map_growth),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters_and_readers, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_crash_rounds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_ack, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lazy_commit_watchers, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
