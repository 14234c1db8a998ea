/* tests for core/auth/pool.c: concurrency, bounded queue, shutdown cancelling queued jobs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "auth/pool.h"
#include "util/err.h"

/* shared state of one test, guarded by lock */
struct world {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int running, max_running, ran, done_ok, done_cancelled, gate_open, timed_out;
    int want_concurrent;
    pthread_t main_thread;
    int done_on_main, done_on_pool;
};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->main_thread = pthread_self();
}

static void world_destroy(struct world *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

/* waits for pred under the lock, at most 10 s; returns 0 on timeout */
#define WAIT_UNTIL(w, pred)                                                                        \
    ({                                                                                             \
        struct timespec dl;                                                                        \
        clock_gettime(CLOCK_REALTIME, &dl);                                                        \
        dl.tv_sec += 10;                                                                           \
        int ok_ = 1;                                                                               \
        while (!(pred) && ok_)                                                                     \
            ok_ = pthread_cond_timedwait(&(w)->cond, &(w)->lock, &dl) != ETIMEDOUT || (pred);      \
        ok_;                                                                                       \
    })

/* a job that waits until want_concurrent jobs run at once (proves they overlap) */
static void job_overlap(void *arg)
{
    struct world *w = arg;
    pthread_mutex_lock(&w->lock);
    w->running++;
    if (w->running > w->max_running)
        w->max_running = w->running;
    pthread_cond_broadcast(&w->cond);
    if (!WAIT_UNTIL(w, w->max_running >= w->want_concurrent))
        w->timed_out = 1;
    w->running--;
    w->ran++;
    pthread_mutex_unlock(&w->lock);
}

/* a job that waits for the gate */
static void job_gate(void *arg)
{
    struct world *w = arg;
    pthread_mutex_lock(&w->lock);
    w->running++;
    pthread_cond_broadcast(&w->cond);
    if (!WAIT_UNTIL(w, w->gate_open))
        w->timed_out = 1;
    w->running--;
    w->ran++;
    pthread_mutex_unlock(&w->lock);
}

static void job_count(void *arg)
{
    struct world *w = arg;
    pthread_mutex_lock(&w->lock);
    w->ran++;
    pthread_mutex_unlock(&w->lock);
}

static void done_count(void *arg, int status)
{
    struct world *w = arg;
    pthread_mutex_lock(&w->lock);
    if (status == 0)
        w->done_ok++;
    else if (status == PETREL_ECLOSED)
        w->done_cancelled++;
    if (pthread_equal(pthread_self(), w->main_thread))
        w->done_on_main++;
    else
        w->done_on_pool++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void test_jobs_run_concurrently(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    w.want_concurrent = 3;
    struct auth_pool *pool = NULL;
    assert_int_equal(auth_pool_new(3, 8, &pool), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_pool_submit(pool, job_overlap, done_count, &w), 0);
    pthread_mutex_lock(&w.lock);
    assert_true(WAIT_UNTIL(&w, w.done_ok == 3));
    assert_int_equal(w.max_running, 3);
    assert_int_equal(w.timed_out, 0);
    assert_int_equal(w.done_on_pool, 3); /* done_fn runs on the pool thread */
    pthread_mutex_unlock(&w.lock);
    auth_pool_free(&pool);
    assert_null(pool);
    auth_pool_free(&pool);
    world_destroy(&w);
}

static void test_queue_full(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct auth_pool *pool = NULL;
    assert_int_equal(auth_pool_new(1, 2, &pool), 0);
    assert_int_equal(auth_pool_submit(pool, job_gate, done_count, &w), 0);
    pthread_mutex_lock(&w.lock);
    assert_true(WAIT_UNTIL(&w, w.running == 1)); /* the only thread is busy */
    pthread_mutex_unlock(&w.lock);
    assert_int_equal(auth_pool_submit(pool, job_count, done_count, &w), 0);
    assert_int_equal(auth_pool_submit(pool, job_count, done_count, &w), 0);
    assert_int_equal(auth_pool_queued(pool), 2);
    assert_int_equal(auth_pool_submit(pool, job_count, done_count, &w), PETREL_EAGAIN);
    pthread_mutex_lock(&w.lock);
    w.gate_open = 1;
    pthread_cond_broadcast(&w.cond);
    assert_true(WAIT_UNTIL(&w, w.done_ok == 3));
    assert_int_equal(w.ran, 3);
    pthread_mutex_unlock(&w.lock);
    /* room again */
    assert_int_equal(auth_pool_submit(pool, job_count, done_count, &w), 0);
    pthread_mutex_lock(&w.lock);
    assert_true(WAIT_UNTIL(&w, w.done_ok == 4)); /* before free, which would cancel it */
    pthread_mutex_unlock(&w.lock);
    auth_pool_free(&pool);
    assert_int_equal(w.ran, 4);
    assert_int_equal(w.done_ok, 4);
    assert_int_equal(w.done_cancelled, 0);
    world_destroy(&w);
}

struct freer {
    struct auth_pool *pool;
};

static void *free_in_thread(void *p)
{
    struct freer *f = p;
    auth_pool_free(&f->pool);
    return NULL;
}

static void test_shutdown_cancels_queued(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct freer f = {NULL};
    assert_int_equal(auth_pool_new(1, 3, &f.pool), 0);
    assert_int_equal(auth_pool_submit(f.pool, job_gate, done_count, &w), 0);
    pthread_mutex_lock(&w.lock);
    assert_true(WAIT_UNTIL(&w, w.running == 1));
    pthread_mutex_unlock(&w.lock);
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_pool_submit(f.pool, job_count, done_count, &w), 0);
    struct auth_pool *pool = f.pool;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, free_in_thread, &f), 0);
    /* the pool refuses new work once shutdown began (EAGAIN before: the queue is full) */
    int rc, spins = 0;
    struct timespec ms = {0, 1000000};
    while ((rc = auth_pool_submit(pool, job_count, done_count, &w)) == PETREL_EAGAIN &&
           spins++ < 10000)
        nanosleep(&ms, NULL);
    assert_int_equal(rc, PETREL_ECLOSED);
    /* the running job is allowed to finish */
    pthread_mutex_lock(&w.lock);
    w.gate_open = 1;
    pthread_cond_broadcast(&w.cond);
    pthread_mutex_unlock(&w.lock);
    pthread_join(th, NULL);
    assert_null(f.pool);
    assert_int_equal(w.ran, 1); /* only the running job ran */
    assert_int_equal(w.done_ok, 1);
    assert_int_equal(w.done_cancelled, 3); /* every queued arg came back once */
    assert_int_equal(w.timed_out, 0);
    world_destroy(&w);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct auth_pool *pool = NULL;
    assert_int_equal(auth_pool_new(0, 4, &pool), PETREL_EINVAL);
    assert_int_equal(auth_pool_new(2, 0, &pool), PETREL_EINVAL);
    assert_int_equal(auth_pool_new(AUTH_POOL_MAX_THREADS + 1, 4, &pool), PETREL_EINVAL);
    assert_null(pool);
    assert_int_equal(auth_pool_new(1, 1, &pool), 0);
    assert_int_equal(auth_pool_submit(pool, NULL, done_count, NULL), PETREL_EINVAL);
    assert_int_equal(auth_pool_submit(pool, job_count, NULL, NULL), PETREL_EINVAL);
    auth_pool_free(&pool); /* idle pool shuts down */
}

/* the real use: scrypt hashing on the pool */
struct hash_job {
    char pw[16];
    char *hash;
    int rc;
    struct world *w;
};

static void job_hash(void *arg)
{
    struct hash_job *j = arg;
    struct auth_scrypt_params p = {10, 8, 1};
    j->rc = auth_password_hash(j->pw, strlen(j->pw), &p, &j->hash);
}

static void done_hash(void *arg, int status)
{
    struct hash_job *j = arg;
    done_count(j->w, status);
}

static void test_hashing_on_pool(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct auth_pool *pool = NULL;
    struct hash_job jobs[6];
    assert_int_equal(auth_pool_new(2, 8, &pool), 0);
    for (int i = 0; i < 6; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].pw[0] = (char)('a' + i);
        jobs[i].w = &w;
        assert_int_equal(auth_pool_submit(pool, job_hash, done_hash, &jobs[i]), 0);
    }
    pthread_mutex_lock(&w.lock);
    assert_true(WAIT_UNTIL(&w, w.done_ok == 6));
    pthread_mutex_unlock(&w.lock);
    auth_pool_free(&pool);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(jobs[i].rc, 0);
        assert_int_equal(auth_password_verify(jobs[i].pw, 1, jobs[i].hash, NULL), 0);
        assert_int_equal(auth_password_verify("z", 1, jobs[i].hash, NULL), PETREL_EPERM);
        free(jobs[i].hash);
    }
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_concurrently),   cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_shutdown_cancels_queued), cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_hashing_on_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
