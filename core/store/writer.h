/*
 * writer.h - additions to the group-commit writer declared in store.h
 * (store_writer_start / submit / stop). Kept in its own header so the
 * writer's extras never touch the declarations in store.h.
 *
 * How a batch is formed (the classic group commit, no timers): the writer
 * thread sleeps until an op is queued, then takes everything queued so far
 * (up to STORE_WRITER_BATCH_OPS ops and STORE_WRITER_BATCH_BYTES size-hint
 * bytes) as one batch. While that batch commits, new ops queue up and become
 * the next batch. A lone op is therefore committed at once; under load the
 * batches grow by themselves and one fsync serves many ops.
 *
 * One fsync per batch (writer.c "Pipelined acknowledgement"): a batch is
 * committed lazily (store_txn_commit_lazy: data synced, meta page written
 * unsynced) and acknowledged after the NEXT batch's commit, whose data sync
 * makes it durable, or after a store_sync when nothing else is queued. A
 * lone op still costs two flushes; a busy writer pays one per batch.
 */
#ifndef PETREL_STORE_WRITER_H
#define PETREL_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Ops waiting in the queue at most; submit fails with PETREL_EAGAIN past it. */
#define STORE_WRITER_QUEUE_MAX 4096
/* Ops per batch (one write transaction, one fsync) at most. */
#define STORE_WRITER_BATCH_OPS 256
/*
 * Size-hint bytes per batch at most (a batch always takes at least one op,
 * whatever its hint). Bounds the dirty pages of one transaction.
 */
#define STORE_WRITER_BATCH_BYTES (32u << 20)
/*
 * A batch waiting for its acknowledgement is synced on its own rather than
 * made to wait for a next batch of more size-hint bytes than this (whose
 * page writes would delay it).
 */
#define STORE_WRITER_PIPELINE_BYTES (4u << 20)
/* A batch that keeps failing with PETREL_ECONFLICT (map growth) is run this often at most. */
#define STORE_WRITER_RETRIES 8

/*
 * store_writer_submit with a size hint: about how many bytes op will write
 * (the message size of an append; 0 when unknown or small). Used only to cap
 * the bytes of one batch. Errors as store_writer_submit: PETREL_ECLOSED once
 * stopping, PETREL_EAGAIN when the queue is full, PETREL_EINVAL for a NULL
 * writer or op. On success done(rc, arg) is called exactly once (done may be
 * NULL), on the writer thread, after the batch's commit returned; arg must
 * stay valid until then. done may submit again but must not stop the writer.
 */
int store_writer_submit_sized(store_writer_t *w, store_op_fn op, store_done_fn done, void *arg,
                              size_t size_hint);

typedef struct store_writer_stats {
    uint64_t ops;        /* ops completed, successful or not (counted before their done()) */
    uint64_t ops_failed; /* ops whose rc was not 0 */
    uint64_t batches;    /* batches committed durably (each one data fsync) */
    uint64_t retries;    /* batch re-runs after PETREL_ECONFLICT */
    uint64_t max_batch;  /* the most ops one batch held */
    size_t queued;       /* ops waiting now */
    uint64_t syncs;      /* store_syncs for a batch that no next batch made durable */
} store_writer_stats_t;

/*
 * The first half of store_writer_stop: refuses new ops (PETREL_ECLOSED),
 * runs every op already queued, joins the thread, but keeps the writer
 * allocated so that threads racing to submit get PETREL_ECLOSED instead of
 * touching freed memory. store_writer_stop frees it later. Idempotent.
 */
void store_writer_quiesce(store_writer_t *w);

/* A snapshot of the counters; thread-safe. */
void store_writer_stats(store_writer_t *w, store_writer_stats_t *s_r);

#endif
