/*
 * loop.h - one epoll event loop per worker thread.
 *
 * A loop owns: fd watchers (level-triggered epoll), timers (a binary min-heap,
 * O(log n) start/stop, ties fire in start order), a cross-thread post queue
 * woken by an eventfd, and a "defer" list of callbacks that run after the
 * current batch of events (used for deferred frees and for re-processing
 * input without re-entering a callback).
 *
 * Threading: everything here except srv_loop_post() and srv_loop_stop() must
 * be called on the loop's own thread (or before srv_loop_run() started / after
 * it returned). Watchers, timers and defer nodes are embedded in the caller's
 * objects: the loop never allocates or frees them; the caller keeps them
 * alive while they are registered.
 *
 * Errors: epoll_wait() EINTR is retried; any other epoll error is logged and
 * the loop sleeps briefly and goes on (never aborts).
 */
#ifndef PETREL_SERVER_LOOP_H
#define PETREL_SERVER_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_loop srv_loop_t;

/* ---------------------------------------------------------------- watchers */
#define SRV_EV_IN 0x1u
#define SRV_EV_OUT 0x2u
#define SRV_EV_ERR 0x4u /* error or hang-up (always reported) */

typedef void (*srv_io_fn)(srv_loop_t *loop, uint32_t events, void *arg);

typedef struct srv_io {
    int fd;          /* -1 when not registered */
    uint32_t events; /* SRV_EV_IN | SRV_EV_OUT currently asked for */
    srv_io_fn fn;
    void *arg;
} srv_io_t;

/* Registers fd with interest `events` (may be 0). 0 or PETREL_EIO. */
int srv_io_start(srv_loop_t *loop, srv_io_t *io, int fd, uint32_t events, srv_io_fn fn, void *arg);
/* Changes the interest set; a no-op when unchanged. 0 or PETREL_EIO. */
int srv_io_update(srv_loop_t *loop, srv_io_t *io, uint32_t events);
/* Unregisters (does not close the fd). Safe on a watcher that is not started.
 * Events already fetched for it in the current batch are dropped. */
void srv_io_stop(srv_loop_t *loop, srv_io_t *io);

/* ---------------------------------------------------------------- timers */
typedef void (*srv_timer_fn)(srv_loop_t *loop, void *arg);

typedef struct srv_timer {
    uint64_t when_ms; /* monotonic deadline */
    uint64_t seq;     /* start order, breaks ties */
    size_t heap_idx;  /* SIZE_MAX when not armed */
    srv_timer_fn fn;
    void *arg;
} srv_timer_t;

void srv_timer_init(srv_timer_t *t, srv_timer_fn fn, void *arg);
/* Arms (or re-arms) t to fire once after ms. 0 or PETREL_ENOMEM (heap growth). */
int srv_timer_start(srv_loop_t *loop, srv_timer_t *t, uint64_t ms);
/* Disarms; a no-op when not armed. A stopped timer never fires. */
void srv_timer_stop(srv_loop_t *loop, srv_timer_t *t);
bool srv_timer_armed(const srv_timer_t *t);

/* The loop's cached monotonic clock in ms (updated each iteration). */
uint64_t srv_loop_now_ms(srv_loop_t *loop);
/* A fresh monotonic clock reading in ms. */
uint64_t srv_clock_ms(void);

/* ---------------------------------------------------------------- defer */
typedef void (*srv_defer_fn)(srv_loop_t *loop, void *arg);

typedef struct srv_defer {
    struct srv_defer *next, *prev;
    bool queued;
    srv_defer_fn fn;
    void *arg;
} srv_defer_t;

void srv_defer_init(srv_defer_t *d, srv_defer_fn fn, void *arg);
/* Queues d to run once, on this loop, after the current event batch; a
 * no-op when already queued. A node queued while the defer list runs runs in
 * the next iteration (no starvation of I/O). */
void srv_defer_queue(srv_loop_t *loop, srv_defer_t *d);
void srv_defer_cancel(srv_loop_t *loop, srv_defer_t *d);

/* ---------------------------------------------------------------- loop */
/* Creates a loop (epoll fd + eventfd). 0, PETREL_ENOMEM or PETREL_EIO. */
int srv_loop_new(srv_loop_t **loop_r);
/* Frees the loop; it must not be running. Posted functions never run are
 * dropped (their args leak if they own memory: stop loops only after the
 * producers are quiet). Sets *loop to NULL. */
void srv_loop_free(srv_loop_t **loop);

/* Runs until srv_loop_stop(); returns 0. Posts queued before the stop
 * request are all run before it returns. */
int srv_loop_run(srv_loop_t *loop);
/* Asks the loop to return from srv_loop_run(). Any thread; async-signal-unsafe. */
void srv_loop_stop(srv_loop_t *loop);

typedef void (*srv_post_fn)(void *arg);
/* A post node the caller owns, usually inside the object the post is about,
 * so that posting a completion cannot fail. Opaque: filled by the calls below. */
typedef struct srv_post_node {
    struct srv_post_node *next;
    srv_post_fn fn;
    void *arg;
    bool owned; /* malloc'd by srv_loop_post: freed after fn */
} srv_post_node_t;

/* Runs fn(arg) on the loop's thread soon. Any thread; FIFO with every other
 * post. `node` must stay valid until fn starts; fn may free it. Cannot fail.
 * The loop must outlive every poster. */
void srv_loop_post_node(srv_loop_t *loop, srv_post_node_t *node, srv_post_fn fn, void *arg);
/* The same with a node of its own (malloc'd). 0 or PETREL_ENOMEM. */
int srv_loop_post(srv_loop_t *loop, srv_post_fn fn, void *arg);

/* True when called on the thread currently running this loop. */
bool srv_loop_in_thread(const srv_loop_t *loop);

/* ---------------------------------------------------------------- workers */
/* N loops, each run by its own thread. */
typedef struct srv_workers srv_workers_t;

/* n == 0 means one per online CPU. Loops are created and threads started.
 * 0, PETREL_ENOMEM or PETREL_EIO. */
int srv_workers_start(unsigned n, srv_workers_t **w_r);
unsigned srv_workers_count(const srv_workers_t *w);
srv_loop_t *srv_workers_loop(srv_workers_t *w, unsigned i);
/* Stops every loop, joins the threads, frees the loops. Sets *w to NULL. */
void srv_workers_stop(srv_workers_t **w);

#endif
