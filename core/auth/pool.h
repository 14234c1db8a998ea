/*
 * pool.h - a small thread pool for password hashing, off the event loops.
 *
 * auth_pool_submit() queues (job_fn, done_fn, arg); a pool thread runs
 * job_fn(arg) and then done_fn(arg, 0) on that same pool thread (the server
 * forwards the result to the session's loop from done_fn, finding the session
 * by id). The queue is bounded: a full queue is PETREL_EAGAIN at once, never
 * a wait, so an event loop never blocks here.
 *
 * Shutdown (auth_pool_free): stops accepting, lets the jobs already running
 * finish, and CANCELS the jobs still queued: their job_fn never runs and their
 * done_fn(arg, PETREL_ECLOSED) is called on the thread calling
 * auth_pool_free(), so every arg is handed back exactly once. It then joins
 * every thread. It must not be called from a job or done callback.
 */
#ifndef PETREL_AUTH_POOL_H
#define PETREL_AUTH_POOL_H

struct auth_pool;

typedef void (*auth_pool_job_fn)(void *arg);
/* status: 0 after job_fn ran, PETREL_ECLOSED when cancelled at shutdown. */
typedef void (*auth_pool_done_fn)(void *arg, int status);

#define AUTH_POOL_MAX_THREADS 64
#define AUTH_POOL_MAX_QUEUE 65536

/*
 * threads 1..AUTH_POOL_MAX_THREADS, queue_max 1..AUTH_POOL_MAX_QUEUE.
 * Errors: PETREL_EINVAL, PETREL_ENOMEM, PETREL_EIO (thread creation failed).
 */
int auth_pool_new(unsigned threads, unsigned queue_max, struct auth_pool **pool_r);

/*
 * Queues a job. job_fn and done_fn must not be NULL; arg is the caller's and
 * passed back untouched. Errors: PETREL_EINVAL, PETREL_EAGAIN (queue full),
 * PETREL_ECLOSED (shutting down). On error neither callback will be called.
 */
int auth_pool_submit(struct auth_pool *pool, auth_pool_job_fn job_fn, auth_pool_done_fn done_fn,
                     void *arg);

/* Jobs queued and not yet started. */
unsigned auth_pool_queued(struct auth_pool *pool);

/* Shuts down as described above, frees *pool and sets it to NULL; NULL-safe. */
void auth_pool_free(struct auth_pool **pool);

#endif
