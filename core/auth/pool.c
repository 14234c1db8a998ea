#include "auth/pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/log.h"

struct auth_pool_job {
    auth_pool_job_fn job_fn;
    auth_pool_done_fn done_fn;
    void *arg;
};

struct auth_pool {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct auth_pool_job *queue; /* ring of queue_max */
    unsigned queue_max, head, count;
    int stopping;
    pthread_t *threads;
    unsigned nthreads; /* started */
};

static void *auth_pool_main(void *p)
{
    struct auth_pool *pool = p;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->count == 0 && !pool->stopping)
            pthread_cond_wait(&pool->nonempty, &pool->lock);
        if (pool->stopping)
            break;
        struct auth_pool_job job = pool->queue[pool->head];
        pool->head = (pool->head + 1) % pool->queue_max;
        pool->count--;
        pthread_mutex_unlock(&pool->lock);
        job.job_fn(job.arg);
        job.done_fn(job.arg, 0);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int auth_pool_new(unsigned threads, unsigned queue_max, struct auth_pool **pool_r)
{
    if (threads == 0 || threads > AUTH_POOL_MAX_THREADS || queue_max == 0 ||
        queue_max > AUTH_POOL_MAX_QUEUE)
        return PETREL_EINVAL;
    struct auth_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return PETREL_ENOMEM;
    pool->queue = calloc(queue_max, sizeof(*pool->queue));
    pool->threads = calloc(threads, sizeof(*pool->threads));
    if (!pool->queue || !pool->threads) {
        free(pool->queue);
        free(pool->threads);
        free(pool);
        return PETREL_ENOMEM;
    }
    pool->queue_max = queue_max;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->nonempty, NULL);
    for (unsigned i = 0; i < threads; i++) {
        int err = pthread_create(&pool->threads[i], NULL, auth_pool_main, pool);
        if (err != 0) {
            log_error("event=auth_pool_thread_failed errno=%d started=%u", err, i);
            auth_pool_free(&pool);
            return PETREL_EIO;
        }
        pool->nthreads++;
    }
    *pool_r = pool;
    return 0;
}

int auth_pool_submit(struct auth_pool *pool, auth_pool_job_fn job_fn, auth_pool_done_fn done_fn,
                     void *arg)
{
    if (!job_fn || !done_fn)
        return PETREL_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        rc = PETREL_ECLOSED;
    } else if (pool->count == pool->queue_max) {
        rc = PETREL_EAGAIN;
    } else {
        unsigned tail = (pool->head + pool->count) % pool->queue_max;
        pool->queue[tail] = (struct auth_pool_job){job_fn, done_fn, arg};
        pool->count++;
        pthread_cond_signal(&pool->nonempty);
    }
    pthread_mutex_unlock(&pool->lock);
    return rc;
}

unsigned auth_pool_queued(struct auth_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    unsigned n = pool->count;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

void auth_pool_free(struct auth_pool **poolp)
{
    struct auth_pool *pool = poolp ? *poolp : NULL;
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->nonempty);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    /* no thread is left: hand the cancelled jobs back without the lock */
    while (pool->count > 0) {
        struct auth_pool_job job = pool->queue[pool->head];
        pool->head = (pool->head + 1) % pool->queue_max;
        pool->count--;
        job.done_fn(job.arg, PETREL_ECLOSED);
    }
    pthread_cond_destroy(&pool->nonempty);
    pthread_mutex_destroy(&pool->lock);
    free(pool->queue);
    free(pool->threads);
    free(pool);
    *poolp = NULL;
}
