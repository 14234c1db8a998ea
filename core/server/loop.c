/* loop.c - epoll loop, timer heap, post queue, defer list. See loop.h. */
#include "server/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"

#define LOOP_MAX_EVENTS 64

struct srv_loop {
    int epfd;
    int evfd;
    srv_io_t wake_io;
    atomic_bool stop;
    pthread_t thread;
    atomic_bool running;
    uint64_t now_ms;
    /* timers */
    srv_timer_t **heap;
    size_t heap_len, heap_cap;
    uint64_t timer_seq;
    /* defer list: head is a sentinel */
    srv_defer_t defer_head;
    /* current batch, so srv_io_stop can drop stale events */
    struct epoll_event *batch;
    int batch_n;
    /* posts */
    pthread_mutex_t post_mu;
    srv_post_node_t *post_head, *post_tail;
};

uint64_t srv_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t srv_loop_now_ms(srv_loop_t *loop)
{
    return loop->now_ms;
}

bool srv_loop_in_thread(const srv_loop_t *loop)
{
    return atomic_load(&loop->running) && pthread_equal(loop->thread, pthread_self());
}

/* ---------------------------------------------------------------- watchers */
static uint32_t io_epoll_mask(uint32_t ev)
{
    uint32_t m = 0;
    if (ev & SRV_EV_IN) m |= EPOLLIN | EPOLLRDHUP;
    if (ev & SRV_EV_OUT) m |= EPOLLOUT;
    return m;
}

int srv_io_start(srv_loop_t *loop, srv_io_t *io, int fd, uint32_t events, srv_io_fn fn, void *arg)
{
    struct epoll_event ee = {.events = io_epoll_mask(events), .data.ptr = io};
    io->fd = fd;
    io->events = events;
    io->fn = fn;
    io->arg = arg;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
        log_error("event=epoll_add_failed fd=%d errno=%d", fd, errno);
        io->fd = -1;
        return PETREL_EIO;
    }
    return 0;
}

int srv_io_update(srv_loop_t *loop, srv_io_t *io, uint32_t events)
{
    if (io->fd < 0) return PETREL_EINVAL;
    if (io->events == events) return 0;
    struct epoll_event ee = {.events = io_epoll_mask(events), .data.ptr = io};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ee) < 0) {
        log_error("event=epoll_mod_failed fd=%d errno=%d", io->fd, errno);
        return PETREL_EIO;
    }
    io->events = events;
    return 0;
}

void srv_io_stop(srv_loop_t *loop, srv_io_t *io)
{
    if (io->fd < 0) return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->fd = -1;
    io->events = 0;
    for (int i = 0; i < loop->batch_n; i++)
        if (loop->batch[i].data.ptr == io) loop->batch[i].data.ptr = NULL;
}

/* ---------------------------------------------------------------- timers */
void srv_timer_init(srv_timer_t *t, srv_timer_fn fn, void *arg)
{
    memset(t, 0, sizeof(*t));
    t->heap_idx = SIZE_MAX;
    t->fn = fn;
    t->arg = arg;
}

bool srv_timer_armed(const srv_timer_t *t)
{
    return t->heap_idx != SIZE_MAX;
}

static bool timer_before(const srv_timer_t *a, const srv_timer_t *b)
{
    return a->when_ms < b->when_ms || (a->when_ms == b->when_ms && a->seq < b->seq);
}

static void heap_set(srv_loop_t *loop, size_t i, srv_timer_t *t)
{
    loop->heap[i] = t;
    t->heap_idx = i;
}

static void heap_up(srv_loop_t *loop, size_t i)
{
    srv_timer_t *t = loop->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_before(t, loop->heap[p])) break;
        heap_set(loop, i, loop->heap[p]);
        i = p;
    }
    heap_set(loop, i, t);
}

static void heap_down(srv_loop_t *loop, size_t i)
{
    srv_timer_t *t = loop->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= loop->heap_len) break;
        if (c + 1 < loop->heap_len && timer_before(loop->heap[c + 1], loop->heap[c])) c++;
        if (!timer_before(loop->heap[c], t)) break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, t);
}

void srv_timer_stop(srv_loop_t *loop, srv_timer_t *t)
{
    size_t i = t->heap_idx;
    if (i == SIZE_MAX) return;
    t->heap_idx = SIZE_MAX;
    srv_timer_t *last = loop->heap[--loop->heap_len];
    if (i == loop->heap_len) return;
    heap_set(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->heap_idx);
}

int srv_timer_start(srv_loop_t *loop, srv_timer_t *t, uint64_t ms)
{
    srv_timer_stop(loop, t);
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        srv_timer_t **h = realloc(loop->heap, cap * sizeof(*h));
        if (!h) return PETREL_ENOMEM;
        loop->heap = h;
        loop->heap_cap = cap;
    }
    t->when_ms = srv_clock_ms() + ms;
    t->seq = ++loop->timer_seq;
    loop->heap[loop->heap_len] = t;
    t->heap_idx = loop->heap_len++;
    heap_up(loop, t->heap_idx);
    return 0;
}

static void timers_run(srv_loop_t *loop)
{
    while (loop->heap_len > 0 && loop->heap[0]->when_ms <= loop->now_ms) {
        srv_timer_t *t = loop->heap[0];
        srv_timer_stop(loop, t);
        t->fn(loop, t->arg); /* may free t's owner or re-arm t */
    }
}

static int timers_timeout(srv_loop_t *loop)
{
    if (loop->heap_len == 0) return -1;
    uint64_t when = loop->heap[0]->when_ms;
    if (when <= loop->now_ms) return 0;
    uint64_t d = when - loop->now_ms;
    return d > 60000 ? 60000 : (int)d;
}

/* ---------------------------------------------------------------- defer */
void srv_defer_init(srv_defer_t *d, srv_defer_fn fn, void *arg)
{
    d->next = d->prev = NULL;
    d->queued = false;
    d->fn = fn;
    d->arg = arg;
}

void srv_defer_queue(srv_loop_t *loop, srv_defer_t *d)
{
    if (d->queued) return;
    srv_defer_t *h = &loop->defer_head;
    d->prev = h->prev;
    d->next = h;
    h->prev->next = d;
    h->prev = d;
    d->queued = true;
}

void srv_defer_cancel(srv_loop_t *loop, srv_defer_t *d)
{
    (void)loop;
    if (!d->queued) return;
    d->prev->next = d->next;
    d->next->prev = d->prev;
    d->next = d->prev = NULL;
    d->queued = false;
}

static bool defer_pending(srv_loop_t *loop)
{
    return loop->defer_head.next != &loop->defer_head;
}

/* Runs the nodes queued before this call; nodes queued meanwhile wait for
 * the next iteration. The pending nodes are spliced onto a local list first,
 * so a callback may cancel (or free the owner of) any node, queued or not. */
static void defer_run(srv_loop_t *loop)
{
    srv_defer_t *h = &loop->defer_head, local;
    if (h->next == h) return;
    local.next = h->next;
    local.prev = h->prev;
    local.next->prev = &local;
    local.prev->next = &local;
    h->next = h->prev = h;
    while (local.next != &local) {
        srv_defer_t *d = local.next;
        srv_defer_cancel(loop, d);
        d->fn(loop, d->arg); /* may free d's owner */
    }
}

/* ---------------------------------------------------------------- posts */
static void loop_post_link(srv_loop_t *loop, srv_post_node_t *n, srv_post_fn fn, void *arg,
                           bool owned)
{
    n->next = NULL;
    n->fn = fn;
    n->arg = arg;
    n->owned = owned;
    pthread_mutex_lock(&loop->post_mu);
    bool was_empty = loop->post_head == NULL;
    if (loop->post_tail)
        loop->post_tail->next = n;
    else
        loop->post_head = n;
    loop->post_tail = n;
    pthread_mutex_unlock(&loop->post_mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(loop->evfd, &one, sizeof(one));
        (void)w; /* EAGAIN: the counter is already non-zero, a wake-up is pending */
    }
}

void srv_loop_post_node(srv_loop_t *loop, srv_post_node_t *n, srv_post_fn fn, void *arg)
{
    loop_post_link(loop, n, fn, arg, false);
}

int srv_loop_post(srv_loop_t *loop, srv_post_fn fn, void *arg)
{
    srv_post_node_t *n = malloc(sizeof(*n));
    if (!n) return PETREL_ENOMEM;
    loop_post_link(loop, n, fn, arg, true);
    return 0;
}

static void posts_run(srv_loop_t *loop)
{
    pthread_mutex_lock(&loop->post_mu);
    srv_post_node_t *n = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    pthread_mutex_unlock(&loop->post_mu);
    while (n) {
        srv_post_node_t *next = n->next;
        bool owned = n->owned; /* read first: fn may free the object holding the node */
        n->fn(n->arg);
        if (owned)
            free(n);
        n = next;
    }
}

static void wake_cb(srv_loop_t *loop, uint32_t events, void *arg)
{
    (void)events;
    (void)arg;
    uint64_t v;
    ssize_t r = read(loop->evfd, &v, sizeof(v));
    (void)r;
    posts_run(loop);
}

void srv_loop_stop(srv_loop_t *loop)
{
    atomic_store(&loop->stop, true);
    uint64_t one = 1;
    ssize_t w = write(loop->evfd, &one, sizeof(one));
    (void)w;
}

/* ---------------------------------------------------------------- loop */
int srv_loop_new(srv_loop_t **loop_r)
{
    srv_loop_t *loop = calloc(1, sizeof(*loop));
    if (!loop) return PETREL_ENOMEM;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->wake_io.fd = -1;
    loop->defer_head.next = loop->defer_head.prev = &loop->defer_head;
    pthread_mutex_init(&loop->post_mu, NULL);
    loop->now_ms = srv_clock_ms();
    if (loop->epfd < 0 || loop->evfd < 0 ||
        srv_io_start(loop, &loop->wake_io, loop->evfd, SRV_EV_IN, wake_cb, NULL) != 0) {
        log_error("event=loop_create_failed errno=%d", errno);
        srv_loop_free(&loop);
        return PETREL_EIO;
    }
    *loop_r = loop;
    return 0;
}

void srv_loop_free(srv_loop_t **loopp)
{
    srv_loop_t *loop = *loopp;
    if (!loop) return;
    srv_post_node_t *n = loop->post_head;
    while (n) {
        srv_post_node_t *next = n->next;
        if (n->owned) /* a caller's node belongs to its object */
            free(n);
        n = next;
    }
    if (loop->epfd >= 0) close(loop->epfd);
    if (loop->evfd >= 0) close(loop->evfd);
    pthread_mutex_destroy(&loop->post_mu);
    free(loop->heap);
    free(loop);
    *loopp = NULL;
}

static void loop_dispatch(srv_loop_t *loop, struct epoll_event *evs, int n)
{
    loop->batch = evs;
    loop->batch_n = n;
    for (int i = 0; i < n; i++) {
        srv_io_t *io = evs[i].data.ptr;
        if (!io) continue; /* stopped by an earlier callback of this batch */
        uint32_t e = evs[i].events, ev = 0;
        if (e & (EPOLLIN | EPOLLRDHUP)) ev |= SRV_EV_IN;
        if (e & EPOLLOUT) ev |= SRV_EV_OUT;
        if (e & (EPOLLERR | EPOLLHUP)) ev |= SRV_EV_ERR;
        io->fn(loop, ev, io->arg);
    }
    loop->batch = NULL;
    loop->batch_n = 0;
}

int srv_loop_run(srv_loop_t *loop)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    loop->thread = pthread_self();
    atomic_store(&loop->running, true);
    while (!atomic_load(&loop->stop)) {
        loop->now_ms = srv_clock_ms();
        int timeout = defer_pending(loop) ? 0 : timers_timeout(loop);
        int n = epoll_wait(loop->epfd, evs, LOOP_MAX_EVENTS, timeout);
        if (n < 0) {
            if (errno != EINTR) {
                log_error("event=epoll_wait_failed errno=%d", errno);
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            n = 0;
        }
        loop->now_ms = srv_clock_ms();
        loop_dispatch(loop, evs, n);
        timers_run(loop);
        defer_run(loop);
    }
    posts_run(loop);
    defer_run(loop);
    atomic_store(&loop->stop, false);
    atomic_store(&loop->running, false);
    return 0;
}

/* ---------------------------------------------------------------- workers */
struct srv_workers {
    unsigned n;
    srv_loop_t **loops;
    pthread_t *threads;
};

static void *worker_main(void *arg)
{
    srv_loop_run(arg);
    return NULL;
}

unsigned srv_workers_count(const srv_workers_t *w)
{
    return w->n;
}

srv_loop_t *srv_workers_loop(srv_workers_t *w, unsigned i)
{
    return i < w->n ? w->loops[i] : NULL;
}

int srv_workers_start(unsigned n, srv_workers_t **w_r)
{
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 && c < 1024 ? (unsigned)c : 1;
    }
    srv_workers_t *w = calloc(1, sizeof(*w));
    if (!w) return PETREL_ENOMEM;
    w->loops = calloc(n, sizeof(*w->loops));
    w->threads = calloc(n, sizeof(*w->threads));
    if (!w->loops || !w->threads) {
        srv_workers_stop(&w);
        return PETREL_ENOMEM;
    }
    for (unsigned i = 0; i < n; i++) {
        int rc = srv_loop_new(&w->loops[i]);
        if (rc == 0 && pthread_create(&w->threads[i], NULL, worker_main, w->loops[i]) != 0) {
            srv_loop_free(&w->loops[i]);
            rc = PETREL_EIO;
        }
        if (rc) {
            srv_workers_stop(&w);
            return rc;
        }
        w->n = i + 1;
    }
    log_info("event=workers_started count=%u", n);
    *w_r = w;
    return 0;
}

void srv_workers_stop(srv_workers_t **wp)
{
    srv_workers_t *w = *wp;
    if (!w) return;
    for (unsigned i = 0; i < w->n; i++)
        srv_loop_stop(w->loops[i]);
    for (unsigned i = 0; i < w->n; i++) {
        pthread_join(w->threads[i], NULL);
        srv_loop_free(&w->loops[i]);
    }
    free(w->loops);
    free(w->threads);
    free(w);
    *wp = NULL;
}
