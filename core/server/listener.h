/*
 * listener.h - listening sockets spread over the worker loops.
 *
 * Design: one SO_REUSEPORT socket per worker loop, all bound to the same
 * address, each watched only by its own loop. The kernel spreads new
 * connections over them by hash (no thundering herd, no cross-thread
 * hand-off, an accepted fd is served by the loop that accepted it).
 * Known weakness: a busy loop's queue is not drained by idle ones; with
 * long-lived mail sessions the hash spread is what matters.
 *
 * srv_listener_bind() creates and binds every socket (before the privilege
 * drop); srv_listener_start() begins accepting later. IPv6 sockets have
 * IPV6_V6ONLY set, so "[::]:143" and "0.0.0.0:143" can both be bound.
 *
 * Limits (srv_limits_t, shared by all listeners and workers) are checked at
 * accept: over the limit the client gets the refusal line from on_refuse
 * (plain-text listeners only; an implicit-TLS client is just closed) with
 * one non-blocking send, then the socket is closed.
 */
#ifndef PETREL_SERVER_LISTENER_H
#define PETREL_SERVER_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/conn.h"
#include "server/limits.h"
#include "server/loop.h"

typedef struct srv_net_listener srv_listener_t; /* struct srv_listener is the config section */

/* Parses "127.0.0.1:2143", "[::1]:2143", "0.0.0.0:143", "[::]:143" (port
 * 0 = ephemeral). 0 or PETREL_EINVAL. */
int srv_addr_parse(const char *s, struct sockaddr_storage *ss_r, socklen_t *len_r);

typedef struct srv_listener_cbs {
    /* A new connection accepted on `loop` (the loop's own thread). The
     * callee owns everything in *a (usually: srv_conn_new()). Required. */
    void (*on_accept)(void *ud, srv_loop_t *loop, const srv_accept_t *a);
    /* Fills buf with the protocol's "too many connections" line (with its
     * CRLF); returns its length (<= len, 0 for none). why: PETREL_EAGAIN
     * (total limit), PETREL_EBUSY (per-address limit) or PETREL_ENOMEM.
     * Called on the accepting loop's thread (any worker). Optional. */
    size_t (*on_refuse)(void *ud, char *buf, size_t len, int why);
} srv_listener_cbs_t;

typedef struct srv_listener_cfg {
    const char *name;    /* for logs ("imap"); copied */
    const char *address; /* see srv_addr_parse; for logs only when sa is set */
    /* an address already parsed (the config file's): used instead of address */
    const struct sockaddr_storage *sa;
    socklen_t salen;
    int dual_stack;      /* with an IPv6 sa: IPV6_V6ONLY off (also IPv4 clients) */
    enum srv_tls_mode tls;
    unsigned nsockets; /* one per worker loop (>= 1) */
    int backlog;       /* 0: 511 */
} srv_listener_cfg_t;

/* Creates and binds cfg->nsockets sockets. 0, PETREL_EINVAL (bad address),
 * PETREL_EIO (socket/bind/listen failed: logged with the address and errno),
 * PETREL_ENOMEM. */
int srv_listener_bind(const srv_listener_cfg_t *cfg, srv_listener_t **l_r);
/* The bound port (useful with port 0). */
uint16_t srv_listener_port(const srv_listener_t *l);
enum srv_tls_mode srv_listener_tls_mode(const srv_listener_t *l);

/* Starts accepting: socket i is watched by loops[i % nloops]. `limits`
 * may be NULL; `cbs` must outlive the listener. Call once, from any thread
 * (epoll_ctl is thread-safe and the watchers are not yet visible). */
int srv_listener_start(srv_listener_t *l, srv_loop_t *const *loops, unsigned nloops,
                       srv_limits_t *limits, const srv_listener_cbs_t *cbs, void *ud);
/* Stops accepting (SIGTERM): posts to each loop to unwatch and close its
 * socket. Any thread; returns at once. */
void srv_listener_stop(srv_listener_t *l);
/* Frees the listener; the loops must not be running (srv_loop_run returned
 * or never started). Sets *l to NULL. */
void srv_listener_free(srv_listener_t **l);

#endif
