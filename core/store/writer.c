/*
 * writer.c - the group-commit writer (store.h "writer", writer.h).
 *
 * One thread owns every write transaction petreld makes. Sessions submit ops
 * into a bounded ring; the thread takes whatever has queued up while the
 * previous commit was in flight (no timer ever waits for a batch to fill, so
 * a lone op pays one commit and nothing more) and runs it as one batch:
 *
 *   store_write_begin            one write transaction
 *     store_txn_nest + op        each op in its own nested transaction:
 *     commit or abort the child  a failing op is rolled back alone
 *   store_txn_commit_lazy        one commit per batch: data synced, meta unsynced
 *   done(rc, arg) per op         in submit order, only once the commit is durable
 *
 * Pipelined acknowledgement: LMDB's commit is two flushes, the data pages
 * (fdatasync) and then the meta page that makes them current. The writer
 * commits each batch lazily (MDB_NOMETASYNC: the meta page is written but
 * not flushed) and holds its done() calls. The next batch's commit begins
 * with a data sync of the same file, which makes the held batch's meta page
 * durable too: once that commit returns 0 the held batch is acknowledged and
 * the new one is held in its place. When nothing is queued (or the queued
 * batch is large, STORE_WRITER_PIPELINE_BYTES) the held batch gets a
 * store_sync of its own. So a lone op still pays two flushes, as before,
 * and a busy writer pays one per batch instead of two; an op is never
 * acknowledged before a flush that follows its batch's meta page write.
 * Watchers (on_commit) are told at the same point (store.c defers them).
 *
 * PETREL_ECONFLICT (the map was full and has been grown, or another process
 * resized it) from any op, nest or the commit aborts the whole batch and runs
 * it again from the start: ops are idempotent per store.h, and a rolled-back
 * batch left nothing behind. A commit error other than that is given to every
 * op of the batch: none of them is durable, so none may be acknowledged.
 *
 * Locking: one mutex guards the ring, the flags and the counters; it is never
 * held while ops or done callbacks run, so done() may submit again (it gets
 * PETREL_EAGAIN rather than a deadlock when the ring is full).
 */
#include "store/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

typedef struct writer_op {
    store_op_fn op;
    store_done_fn done;
    void *arg;
    size_t size_hint;
    int rc;
} writer_op_t;

struct store_writer {
    store_t *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* signalled when an op is queued or stop begins */
    writer_op_t *ring;   /* STORE_WRITER_QUEUE_MAX slots */
    size_t head;         /* index of the oldest queued op */
    size_t count;        /* ops queued */
    int stopping;
    int joined; /* the thread has been (or is being) joined: quiesce once */
    store_writer_stats_t stats; /* guarded by mu */
    /* the writer thread's own: the batch being run, and the one committed
     * lazily whose done() calls wait for the next flush (nheld ops) */
    writer_op_t *batch, *held;
    size_t nheld;
    writer_op_t bufs[2][STORE_WRITER_BATCH_OPS];
};

/* Moves the next batch out of the ring (called with mu held); its hint bytes in *bytes_r. */
static size_t writer_batch_take(store_writer_t *w, size_t *bytes_r)
{
    size_t n = 0, bytes = 0;
    while (w->count > 0 && n < STORE_WRITER_BATCH_OPS) {
        writer_op_t *o = &w->ring[w->head];
        if (n > 0 &&
            (bytes >= STORE_WRITER_BATCH_BYTES || o->size_hint > STORE_WRITER_BATCH_BYTES - bytes))
            break; /* the byte cap is reached: the rest waits for the next batch */
        bytes += o->size_hint < STORE_WRITER_BATCH_BYTES ? o->size_hint : STORE_WRITER_BATCH_BYTES;
        w->batch[n++] = *o;
        w->head = (w->head + 1) % STORE_WRITER_QUEUE_MAX;
        w->count--;
    }
    *bytes_r = bytes;
    return n;
}

/* Runs one op in its own nested transaction; PETREL_ECONFLICT dooms the batch. */
static int writer_op_run(store_txn_t *txn, writer_op_t *o)
{
    store_txn_t *child = NULL;
    int rc = store_txn_nest(txn, &child);
    if (rc) return rc; /* the parent is unusable: the batch fails */
    o->rc = o->op(child, o->arg);
    if (o->rc == 0) {
        o->rc = store_txn_commit(&child);
    } else {
        store_txn_abort(&child);
    }
    return o->rc == PETREL_ECONFLICT ? PETREL_ECONFLICT : 0;
}

/* One attempt at the batch: 0 when committed, else the batch's error. */
static int writer_batch_try(store_writer_t *w, size_t n)
{
    store_txn_t *txn = NULL;
    int rc = store_write_begin(w->st, &txn);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        rc = writer_op_run(txn, &w->batch[i]);
        if (rc) {
            store_txn_abort(&txn);
            return rc;
        }
    }
    return store_txn_commit_lazy(&txn);
}

/* Runs the batch, re-running it on PETREL_ECONFLICT; 0 or the batch's error. */
static int writer_batch_run(store_writer_t *w, size_t n)
{
    int rc = PETREL_ECONFLICT;
    for (unsigned attempt = 0; attempt < STORE_WRITER_RETRIES; attempt++) {
        rc = writer_batch_try(w, n);
        if (rc != PETREL_ECONFLICT) break;
        pthread_mutex_lock(&w->mu);
        w->stats.retries++;
        pthread_mutex_unlock(&w->mu);
        log_info("event=writer_batch_retry ops=%zu attempt=%u", n, attempt + 1);
    }
    if (rc) log_error("event=writer_batch_failed ops=%zu error=\"%s\"", n, store_strerror(rc));
    return rc;
}

/*
 * Completes a batch: the counters first (so a done() that looks at the
 * stats sees its own batch counted), then done() for each op in order.
 */
static void writer_batch_finish(store_writer_t *w, writer_op_t *b, size_t n, int batch_rc,
                                int synced)
{
    uint64_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += (batch_rc ? batch_rc : b[i].rc) != 0;
    pthread_mutex_lock(&w->mu);
    w->stats.ops += n;
    w->stats.ops_failed += failed;
    w->stats.batches += batch_rc == 0;
    w->stats.syncs += synced != 0;
    if (n > w->stats.max_batch) w->stats.max_batch = n;
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        writer_op_t *o = &b[i];
        if (o->done) o->done(batch_rc ? batch_rc : o->rc, o->arg);
    }
}

/*
 * Acknowledges the held batch. made_durable: a later commit returned 0 (its
 * data sync covered the held batch's meta page); else a sync of its own.
 */
static void writer_held_finish(store_writer_t *w, int made_durable)
{
    if (!w->nheld) return;
    int rc = 0;
    if (!made_durable) {
        rc = store_sync(w->st);
        if (rc)
            log_error("event=writer_sync_failed ops=%zu error=\"%s\"", w->nheld,
                      store_strerror(rc));
    } /* else store_txn_commit_lazy has already told the held batch's watchers */
    size_t n = w->nheld;
    w->nheld = 0;
    writer_batch_finish(w, w->held, n, rc, !made_durable);
}

/* Runs a batch taken from the ring; it becomes the held one when committed. */
static void writer_batch_process(store_writer_t *w, size_t n, size_t bytes)
{
    if (w->nheld && bytes > STORE_WRITER_PIPELINE_BYTES)
        writer_held_finish(w, 0); /* no waiting behind a large batch's writes */
    int rc = writer_batch_run(w, n);
    writer_held_finish(w, rc == 0);
    if (rc) {
        writer_batch_finish(w, w->batch, n, rc, 0);
        return;
    }
    writer_op_t *t = w->held;
    w->held = w->batch;
    w->batch = t;
    w->nheld = n;
}

static void *writer_thread_main(void *arg)
{
    store_writer_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->count == 0 && !w->stopping && !w->nheld)
            pthread_cond_wait(&w->wake, &w->mu);
        if (w->count == 0 && w->nheld) { /* nothing will sync it for us */
            pthread_mutex_unlock(&w->mu);
            writer_held_finish(w, 0);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (w->count == 0) break; /* stopping and drained */
        size_t bytes = 0;
        size_t n = writer_batch_take(w, &bytes);
        pthread_mutex_unlock(&w->mu);
        writer_batch_process(w, n, bytes);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void writer_free(store_writer_t *w)
{
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w->ring);
    free(w);
}

int store_writer_start(store_t *st, store_writer_t **w_r)
{
    if (!st || !w_r) return PETREL_EINVAL;
    store_writer_t *w = calloc(1, sizeof(*w));
    if (!w) return PETREL_ENOMEM;
    w->st = st;
    w->batch = w->bufs[0];
    w->held = w->bufs[1];
    w->ring = calloc(STORE_WRITER_QUEUE_MAX, sizeof(*w->ring));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (!w->ring) {
        writer_free(w);
        return PETREL_ENOMEM;
    }
    int err = pthread_create(&w->thread, NULL, writer_thread_main, w);
    if (err) {
        log_error("event=writer_start error=\"%s\"", strerror(err));
        writer_free(w);
        return PETREL_EIO;
    }
    log_info("event=writer_start queue_max=%u batch_ops=%u", (unsigned)STORE_WRITER_QUEUE_MAX,
             (unsigned)STORE_WRITER_BATCH_OPS);
    *w_r = w;
    return 0;
}

int store_writer_submit_sized(store_writer_t *w, store_op_fn op, store_done_fn done, void *arg,
                              size_t size_hint)
{
    if (!w || !op) return PETREL_EINVAL;
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    if (w->stopping) {
        rc = PETREL_ECLOSED;
    } else if (w->count >= STORE_WRITER_QUEUE_MAX) {
        rc = PETREL_EAGAIN;
    } else {
        size_t tail = (w->head + w->count) % STORE_WRITER_QUEUE_MAX;
        w->ring[tail] = (writer_op_t){op, done, arg, size_hint, 0};
        w->count++;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int store_writer_submit(store_writer_t *w, store_op_fn op, store_done_fn done, void *arg)
{
    return store_writer_submit_sized(w, op, done, arg, 0);
}

void store_writer_stats(store_writer_t *w, store_writer_stats_t *s_r)
{
    pthread_mutex_lock(&w->mu);
    *s_r = w->stats;
    s_r->queued = w->count;
    pthread_mutex_unlock(&w->mu);
}

void store_writer_quiesce(store_writer_t *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    int joined = w->joined;
    w->stopping = 1;
    w->joined = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    if (joined) return;
    pthread_join(w->thread, NULL);
    log_info("event=writer_stop ops=%llu failed=%llu batches=%llu retries=%llu max_batch=%llu",
             (unsigned long long)w->stats.ops, (unsigned long long)w->stats.ops_failed,
             (unsigned long long)w->stats.batches, (unsigned long long)w->stats.retries,
             (unsigned long long)w->stats.max_batch);
}

void store_writer_stop(store_writer_t **wp)
{
    store_writer_t *w = wp ? *wp : NULL;
    if (!w) return;
    store_writer_quiesce(w);
    writer_free(w);
    *wp = NULL;
}
