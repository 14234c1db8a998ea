/*
 * session.c - a plugin session on a connection: the connection's callbacks
 * turned into the plugin's, and the host functions for I/O.
 *
 * Lifetime: a session holds one reference for its connection and one per
 * completion in flight (a store write, a login). When the connection closes,
 * session_end is called at once (exactly once) and the connection's
 * reference dropped; completions that arrive later find `ended` set, clean
 * up without calling the plugin, and drop theirs. The last release frees
 * the session. All of this happens on the session's own loop thread.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/host_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

void srv_session_hold(struct petrel_session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

static void srv_session_free(struct petrel_session *s)
{
    if (s->sasl) {
        auth_sasl_reset(s->sasl);
        free(s->sasl);
    }
    free(s);
}

void srv_session_release(struct petrel_session *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1)
        srv_session_free(s);
}

void srv_session_pending_add(struct petrel_session *s)
{
    if (s->pending++ == 0 && s->conn)
        srv_conn_pause_input(s->conn);
}

void srv_session_pending_done(struct petrel_session *s)
{
    if (s->pending > 0 && --s->pending == 0 && s->conn) {
        srv_conn_resume_input(s->conn);
        /* stopping: it has answered its last command, now it goes */
        if (atomic_load(&s->host->stopping))
            srv_conn_close(s->conn, true);
    }
}

static void srv_session_post_run(void *p)
{
    struct srv_post *post = p;
    struct petrel_session *s = post->s;
    bool owned = post->owned; /* fn and drop may free the object holding a caller's post */
    if (!s->ended)
        post->fn(s, post->arg);
    else if (post->drop)
        post->drop(post->arg);
    if (owned)
        free(post);
    srv_session_release(s);
}

static void srv_session_post_link(struct petrel_session *s, struct srv_post *post,
                                  void (*fn)(struct petrel_session *s, void *arg), void *arg,
                                  void (*drop)(void *arg), bool owned)
{
    post->s = s;
    post->fn = fn;
    post->drop = drop;
    post->arg = arg;
    post->owned = owned;
    srv_session_hold(s);
    srv_loop_post_node(s->loop, &post->node, srv_session_post_run, post);
}

void srv_session_post_with(struct petrel_session *s, struct srv_post *post,
                           void (*fn)(struct petrel_session *s, void *arg), void *arg,
                           void (*drop)(void *arg))
{
    srv_session_post_link(s, post, fn, arg, drop, false);
}

int srv_session_post(struct petrel_session *s, void (*fn)(struct petrel_session *s, void *arg),
                     void *arg, void (*drop)(void *arg))
{
    struct srv_post *post = malloc(sizeof(*post));
    if (!post)
        return PETREL_ENOMEM;
    srv_session_post_link(s, post, fn, arg, drop, true);
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

static void srv_session_link(struct petrel_session *s)
{
    struct srv_host *h = s->host;
    pthread_mutex_lock(&h->sessions_lock);
    s->all_next = h->sessions;
    if (h->sessions)
        h->sessions->all_prev = s;
    h->sessions = s;
    h->n_sessions++;
    pthread_mutex_unlock(&h->sessions_lock);
}

static void srv_session_unlink(struct petrel_session *s)
{
    struct srv_host *h = s->host;
    pthread_mutex_lock(&h->sessions_lock);
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        h->sessions = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
    h->n_sessions--;
    pthread_mutex_unlock(&h->sessions_lock);
}

static void srv_session_timer_fire(srv_loop_t *loop, void *arg)
{
    (void)loop;
    struct petrel_session *s = arg;
    if (!s->ended && s->lst->plugin->desc->on_notify)
        s->lst->plugin->desc->on_notify(s, s->pdata, PETREL_NOTIFY_TIMER);
}

void srv_session_accept(struct petrel_listener *l, srv_loop_t *loop, const srv_accept_t *a)
{
    struct petrel_session *s = calloc(1, sizeof(*s));
    if (!s) {
        log_error("event=session_alloc_failed listener=%s", l->cfg->name);
        if (a->limits)
            srv_limits_release(a->limits, &a->limits_key);
        close(a->fd);
        return;
    }
    s->host = l->host;
    s->lst = l;
    s->loop = loop;
    atomic_init(&s->refs, 1);
    srv_timer_init(&s->timer, srv_session_timer_fire, s);
    srv_timer_init(&s->auth_delay, NULL, s); /* armed by host_auth.c */
    srv_timer_init(&s->rdns_timer, NULL, s); /* armed by host_rdns.c */
    int rc = srv_conn_new(loop, a, &l->conn_set, &srv_session_cbs, s,
                          a->tls_mode != SRV_TLS_NONE ? l->host->tls : NULL, &s->conn);
    if (rc) {
        log_warn("event=conn_failed listener=%s error=\"%s\"", l->cfg->name, petrel_strerror(rc));
        free(s);
        return;
    }
    s->id = srv_conn_id(s->conn);
    srv_conn_peer_str(s->conn, s->peer, sizeof(s->peer));
    srv_session_link(s);
    log_info("event=session_start session=%llu listener=%s peer=%s", (unsigned long long)s->id,
             l->cfg->name, s->peer);
    /* implicit TLS: the plugin greets once the handshake is done (on_tls);
     * reverse DNS: once the name is known (host_rdns.c) */
    s->tls_wait = a->tls_mode == SRV_TLS_IMPLICIT;
    if (srv_rdns_wanted(l) && srv_rdns_start(s) == 0 && !s->tls_wait)
        srv_rdns_pause(s); /* with TLS, the handshake must go on meanwhile */
    if (s->tls_wait || s->rdns_wait)
        return;
    srv_session_begin(s);
}

void srv_session_begin(struct petrel_session *s)
{
    if (s->started || s->ended || !s->conn)
        return;
    int rc = s->lst->plugin->desc->session_start(s, &s->pdata);
    if (rc) {
        log_warn("event=session_refused session=%llu error=\"%s\"", (unsigned long long)s->id,
                 petrel_strerror(rc));
        srv_conn_close(s->conn, true);
        return;
    }
    s->started = 1;
}

static void srv_cb_line(srv_conn_t *c, void *ud, const char *line, size_t len, unsigned flags)
{
    (void)c;
    struct petrel_session *s = ud;
    if (!s || !s->started || s->ended)
        return;
    unsigned pf = 0;
    if (!(flags & SRV_LINE_CRLF))
        pf |= PETREL_LINE_BARE_LF;
    if (flags & (SRV_LINE_TOO_LONG | SRV_LINE_OVERFLOW))
        pf |= PETREL_LINE_TOO_LONG;
    s->lst->plugin->desc->on_line(s, s->pdata, line, len, pf);
}

static void srv_cb_raw(srv_conn_t *c, void *ud, const char *p, size_t n, uint64_t remaining)
{
    (void)c;
    struct petrel_session *s = ud;
    if (!s || !s->started || s->ended)
        return;
    if (s->lst->plugin->desc->on_data)
        s->lst->plugin->desc->on_data(s, s->pdata, p, n, remaining == 0);
}

static void srv_cb_writable(srv_conn_t *c, void *ud)
{
    (void)c;
    struct petrel_session *s = ud;
    if (s && s->started && !s->ended && s->lst->plugin->desc->on_writable)
        s->lst->plugin->desc->on_writable(s, s->pdata);
}

static void srv_cb_tls(srv_conn_t *c, void *ud, int rc)
{
    struct petrel_session *s = ud;
    if (!s || s->ended)
        return;
    log_info("event=tls session=%llu ok=%d version=%s cipher=%s", (unsigned long long)s->id,
             rc == 0, rc == 0 ? srv_conn_tls_version(c) : "-",
             rc == 0 ? srv_conn_tls_cipher(c) : "-");
    if (!s->started) {
        /* implicit TLS: greet now, or once the reverse DNS answer is in */
        if (rc)
            return; /* the connection closes */
        s->tls_wait = 0;
        if (s->rdns_wait)
            srv_rdns_pause(s);
        else
            srv_session_begin(s);
        return;
    }
    if (s->lst->plugin->desc->on_tls_done)
        s->lst->plugin->desc->on_tls_done(s, s->pdata, rc);
}

static void srv_cb_timeout(srv_conn_t *c, void *ud, enum srv_timeout_kind kind)
{
    (void)c;
    struct petrel_session *s = ud;
    if (!s)
        return;
    log_info("event=session_timeout session=%llu kind=%s", (unsigned long long)s->id,
             kind == SRV_TIMEOUT_IDLE ? "idle" : "session");
    if (s->started && !s->ended && s->lst->plugin->desc->on_notify)
        s->lst->plugin->desc->on_notify(s, s->pdata, PETREL_NOTIFY_IDLE);
}

static void srv_cb_close(srv_conn_t *c, void *ud, enum srv_close_reason why)
{
    (void)c;
    struct petrel_session *s = ud;
    if (!s)
        return;
    /* ended first: a timer or watch asked for inside session_end is refused */
    int was_started = s->started && !s->ended;
    s->ended = 1;
    if (was_started)
        s->lst->plugin->desc->session_end(s, s->pdata);
    srv_timer_stop(s->loop, &s->timer);
    srv_rdns_cancel(s);
    if (srv_timer_armed(&s->auth_delay)) {
        /* a throttled login's late answer will not come: drop its reference */
        srv_timer_stop(s->loop, &s->auth_delay);
        srv_session_release(s);
    }
    srv_host_fns.unwatch(s);
    s->pdata = NULL;
    s->conn = NULL;
    log_info("event=session_end session=%llu reason=%s user=%s", (unsigned long long)s->id,
             srv_close_reason_str(why), s->user[0] ? s->user : "-");
    srv_session_unlink(s);
    srv_session_release(s);
}

const srv_conn_cbs_t srv_session_cbs = {
    .on_line = srv_cb_line,
    .on_raw = srv_cb_raw,
    .on_writable = srv_cb_writable,
    .on_tls = srv_cb_tls,
    .on_timeout = srv_cb_timeout,
    .on_close = srv_cb_close,
};
