/* test_server_loop.c - core/server/loop.c: timers, cross-thread posts, stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/loop.h"

static int fired[8];
static int nfired;

struct tctx {
    srv_timer_t t;
    int id;
};

static void timer_cb(srv_loop_t *loop, void *arg)
{
    struct tctx *c = arg;
    (void)loop;
    fired[nfired++] = c->id;
}

static void stop_cb(srv_loop_t *loop, void *arg)
{
    (void)arg;
    srv_loop_stop(loop);
}

static void test_timers_order_and_cancel(void **state)
{
    (void)state;
    srv_loop_t *loop = NULL;
    assert_int_equal(srv_loop_new(&loop), 0);
    struct tctx a = {.id = 30}, b = {.id = 10}, c = {.id = 20}, d = {.id = 11}, e = {.id = 12};
    srv_timer_t stop;
    srv_timer_init(&a.t, timer_cb, &a);
    srv_timer_init(&b.t, timer_cb, &b);
    srv_timer_init(&c.t, timer_cb, &c);
    srv_timer_init(&d.t, timer_cb, &d);
    srv_timer_init(&e.t, timer_cb, &e);
    srv_timer_init(&stop, stop_cb, NULL);
    nfired = 0;
    assert_int_equal(srv_timer_start(loop, &a.t, 60), 0);
    assert_int_equal(srv_timer_start(loop, &b.t, 10), 0);
    assert_int_equal(srv_timer_start(loop, &c.t, 40), 0);
    assert_int_equal(srv_timer_start(loop, &d.t, 25), 0);
    assert_int_equal(srv_timer_start(loop, &e.t, 5), 0);
    assert_int_equal(srv_timer_start(loop, &e.t, 30), 0); /* re-arm moves it */
    assert_int_equal(srv_timer_start(loop, &stop, 100), 0);
    assert_true(srv_timer_armed(&c.t));
    srv_timer_stop(loop, &c.t); /* cancelled: never fires */
    assert_false(srv_timer_armed(&c.t));
    uint64_t t0 = srv_clock_ms();
    srv_loop_run(loop);
    uint64_t took = srv_clock_ms() - t0;
    assert_int_equal(nfired, 4);
    assert_int_equal(fired[0], 10);
    assert_int_equal(fired[1], 11);
    assert_int_equal(fired[2], 12);
    assert_int_equal(fired[3], 30);
    assert_true(took >= 95);
    srv_loop_free(&loop);
    assert_null(loop);
}

#define POSTERS 4
#define POSTS 2000

static atomic_int counter;
static atomic_int wrong_thread;
static srv_loop_t *post_loop;

static void post_fn(void *arg)
{
    (void)arg;
    if (!srv_loop_in_thread(post_loop)) atomic_fetch_add(&wrong_thread, 1);
    if (atomic_fetch_add(&counter, 1) + 1 == POSTERS * POSTS) srv_loop_stop(post_loop);
}

static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < POSTS; i++)
        while (srv_loop_post(post_loop, post_fn, NULL) != 0)
            ;
    return NULL;
}

static void *runner(void *arg)
{
    srv_loop_run(arg);
    return NULL;
}

static void test_post_across_threads(void **state)
{
    (void)state;
    assert_int_equal(srv_loop_new(&post_loop), 0);
    atomic_store(&counter, 0);
    pthread_t rt, pt[POSTERS];
    assert_int_equal(pthread_create(&rt, NULL, runner, post_loop), 0);
    for (int i = 0; i < POSTERS; i++)
        assert_int_equal(pthread_create(&pt[i], NULL, poster, NULL), 0);
    for (int i = 0; i < POSTERS; i++)
        pthread_join(pt[i], NULL);
    pthread_join(rt, NULL); /* returns only once every post ran */
    assert_int_equal(atomic_load(&counter), POSTERS * POSTS);
    assert_int_equal(atomic_load(&wrong_thread), 0);
    srv_loop_free(&post_loop);
}

/* A completion that carries its own node: posting cannot fail, the callback
 * may free the object holding the node, and order with malloc'd posts is FIFO. */
struct job {
    srv_post_node_t node;
    int id;
};
static int order[4], n_order;

static void job_done(void *arg)
{
    struct job *j = arg;
    order[n_order++] = j->id;
    free(j); /* frees the node the loop is running */
}

static void plain_done(void *arg)
{
    order[n_order++] = (int)(intptr_t)arg;
    if (n_order == 4)
        srv_loop_stop(post_loop);
}

static void test_post_node_owned_by_caller(void **state)
{
    (void)state;
    assert_int_equal(srv_loop_new(&post_loop), 0);
    n_order = 0;
    for (int i = 0; i < 4; i++) {
        if (i % 2 == 0) {
            struct job *j = calloc(1, sizeof(*j));
            assert_non_null(j);
            j->id = i;
            srv_loop_post_node(post_loop, &j->node, job_done, j);
        } else {
            assert_int_equal(srv_loop_post(post_loop, plain_done, (void *)(intptr_t)i), 0);
        }
    }
    assert_int_equal(srv_loop_run(post_loop), 0);
    assert_int_equal(n_order, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(order[i], i);
    srv_loop_free(&post_loop);
}

static void test_workers_stop_from_other_thread(void **state)
{
    (void)state;
    srv_workers_t *w = NULL;
    assert_int_equal(srv_workers_start(3, &w), 0);
    assert_int_equal(srv_workers_count(w), 3);
    assert_non_null(srv_workers_loop(w, 2));
    assert_null(srv_workers_loop(w, 3));
    atomic_store(&counter, 0);
    post_loop = srv_workers_loop(w, 1);
    assert_int_equal(srv_loop_post(post_loop, post_fn, NULL), 0);
    srv_workers_stop(&w); /* posts queued before the stop still run */
    assert_null(w);
    assert_int_equal(atomic_load(&counter), 1);
}

static int defer_runs;
static void defer_fn(srv_loop_t *loop, void *arg)
{
    srv_defer_t *d = arg;
    if (++defer_runs < 3)
        srv_defer_queue(loop, d); /* re-queued: runs next iteration, no livelock */
    else
        srv_loop_stop(loop);
}

static void test_defer_requeue(void **state)
{
    (void)state;
    srv_loop_t *loop = NULL;
    assert_int_equal(srv_loop_new(&loop), 0);
    srv_defer_t d, never;
    srv_defer_init(&d, defer_fn, &d);
    srv_defer_init(&never, stop_cb, NULL);
    defer_runs = 0;
    srv_defer_queue(loop, &d);
    srv_defer_queue(loop, &never);
    srv_defer_cancel(loop, &never);
    srv_loop_run(loop);
    assert_int_equal(defer_runs, 3);
    srv_loop_free(&loop);
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static void *signaller(void *arg)
{
    pthread_t *target = arg;
    for (int i = 0; i < 20; i++) {
        pthread_kill(*target, SIGUSR1);
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* epoll_wait interrupted by signals (no SA_RESTART): the loop goes on. */
static void test_survives_eintr(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);
    srv_loop_t *loop = NULL;
    assert_int_equal(srv_loop_new(&loop), 0);
    struct tctx a = {.id = 7};
    srv_timer_t stop;
    srv_timer_init(&a.t, timer_cb, &a);
    srv_timer_init(&stop, stop_cb, NULL);
    nfired = 0;
    srv_timer_start(loop, &a.t, 150);
    srv_timer_start(loop, &stop, 200);
    pthread_t self = pthread_self(), sig;
    pthread_create(&sig, NULL, signaller, &self);
    uint64_t t0 = srv_clock_ms();
    srv_loop_run(loop);
    pthread_join(sig, NULL);
    assert_true(usr1_count > 0);
    assert_int_equal(nfired, 1);
    assert_int_equal(fired[0], 7);
    assert_true(srv_clock_ms() - t0 >= 195);
    srv_loop_free(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_order_and_cancel),
        cmocka_unit_test(test_post_across_threads),
        cmocka_unit_test(test_post_node_owned_by_caller),
        cmocka_unit_test(test_workers_stop_from_other_thread),
        cmocka_unit_test(test_defer_requeue),
        cmocka_unit_test(test_survives_eintr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
