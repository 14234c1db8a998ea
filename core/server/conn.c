/* conn.c - connection state, I/O and timeouts. See conn.h.
 *
 * States: HANDSHAKE (TLS accept running; output waits), OPEN, STARTTLS_FLUSH
 * (the "go ahead" reply drains; input read meanwhile is dropped), CLOSING
 * (flushing before close; input dropped), CLOSED (fd closed; on_close and
 * free run from the defer node).
 *
 * Every callback is called from conn_service()/conn_timer_cb()/the defer
 * handler, i.e. from the loop's top level; srv_conn_* functions called from
 * callbacks only set state and queue the defer node, so callbacks never nest.
 */
#include "server/conn.h"
#include "server/conn_frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>

#include "util/err.h"
#include "util/log.h"

/* One read takes a whole small message (SMTP DATA of a few KB): fewer recv calls.
 * The buffer is freed whenever it is drained, so idle connections hold none. */
#define IN_CHUNK 16384u
#define OUT_CHUNK 16384u
/* A connection's first output chunk: small enough for malloc's per-thread cache,
 * room for a batch of replies; most replies never need another. */
#define OUT_FIRST (1024u - (unsigned)sizeof(struct out_chunk))
#define OUT_IOV 8

enum conn_state { ST_HANDSHAKE, ST_OPEN, ST_STARTTLS_FLUSH, ST_CLOSING, ST_CLOSED };

struct out_chunk {
    struct out_chunk *next;
    uint32_t start, end, cap;
    char data[];
};

struct srv_conn {
    srv_io_t io;
    srv_timer_t timer;
    srv_defer_t defer;
    srv_loop_t *loop;
    const srv_conn_cbs_t *cbs;
    const srv_conn_settings_t *set;
    void *ud;
    SSL *ssl;
    srv_tls_t *tls;
    srv_limits_t *limits;
    uint64_t id;
    /* input */
    char *in;
    size_t in_off, in_len, in_cap;
    size_t max_line;
    uint64_t raw_left;
    /* output */
    struct out_chunk *out_head, *out_tail;
    size_t out_len;
    /* timeouts */
    uint64_t started_ms, active_ms, close_deadline_ms;
    uint32_t idle_ms, session_ms;
    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
    uint8_t state;
    uint8_t close_reason;
    uint8_t defer_ev;
    unsigned paused : 1, throttled : 1, peer_eof : 1, discarding : 1, tls_done : 1,
        hs_want_write : 1, rd_wants_write : 1, wr_wants_read : 1;
    /* input became readable while paused: the read interest is dropped until the
     * resume (until then a pause keeps it, saving two epoll_ctl per pause) */
    unsigned paused_woke : 1;
};

static atomic_uint_fast64_t conn_next_id = 1;

static void conn_service(srv_conn_t *c, uint32_t ev);
static void conn_finish(srv_conn_t *c, enum srv_close_reason why);
static void conn_begin_close(srv_conn_t *c, bool flush, enum srv_close_reason why);
static void conn_free(srv_conn_t *c);
static void conn_io_cb(srv_loop_t *loop, uint32_t events, void *arg);
static void conn_defer_cb(srv_loop_t *loop, void *arg);
static void conn_timer_cb(srv_loop_t *loop, void *arg);

const char *srv_close_reason_str(enum srv_close_reason r)
{
    static const char *const names[] = {"local", "eof",     "error",    "tls",
                                        "idle",  "session", "overflow", "flush_timeout"};
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

void srv_conn_settings_default(srv_conn_settings_t *s)
{
    s->max_line = 8192;
    s->out_high = 256 * 1024;
    s->out_low = 64 * 1024;
    s->out_max = 1024 * 1024;
    s->idle_ms = 10 * 60 * 1000;
    s->session_ms = 0;
    s->flush_ms = 5000;
}

size_t srv_conn_sizeof(void)
{
    return sizeof(struct srv_conn);
}

/* ---------------------------------------------------------------- helpers */
static void conn_kick(srv_conn_t *c, uint8_t ev)
{
    c->defer_ev |= ev;
    srv_defer_queue(c->loop, &c->defer);
}

static bool conn_want_read(const srv_conn_t *c)
{
    return c->state == ST_OPEN && !c->paused && !c->peer_eof && !c->throttled;
}

/* A pause leaves the read interest registered (lazily) until input actually
 * arrives: a client that waits for the reply costs no epoll_ctl either way. */
static bool conn_keep_read_interest(const srv_conn_t *c)
{
    return c->state == ST_OPEN && c->paused && !c->paused_woke && !c->peer_eof &&
           !c->throttled && !c->rd_wants_write && (c->io.events & SRV_EV_IN);
}

static void conn_update_interest(srv_conn_t *c)
{
    uint32_t ev = 0;
    switch (c->state) {
    case ST_HANDSHAKE:
        ev = c->hs_want_write ? SRV_EV_OUT : SRV_EV_IN;
        break;
    case ST_STARTTLS_FLUSH:
        ev = SRV_EV_IN | (c->out_len ? SRV_EV_OUT : 0);
        break;
    case ST_OPEN:
    case ST_CLOSING:
        if (conn_want_read(c))
            ev |= c->rd_wants_write ? SRV_EV_OUT : SRV_EV_IN;
        else if (conn_keep_read_interest(c))
            ev |= SRV_EV_IN;
        if (c->out_len && (c->state == ST_CLOSING || !c->ssl || c->tls_done))
            ev |= c->wr_wants_read ? SRV_EV_IN : SRV_EV_OUT;
        break;
    default:
        return;
    }
    srv_io_update(c->loop, &c->io, ev);
}

static void conn_timer_arm(srv_conn_t *c)
{
    uint64_t when = UINT64_MAX;
    if (c->state == ST_CLOSING) {
        when = c->close_deadline_ms; /* only the flush deadline counts now */
    } else {
        if (c->idle_ms) when = c->active_ms + c->idle_ms;
        if (c->session_ms && c->started_ms + c->session_ms < when)
            when = c->started_ms + c->session_ms;
    }
    if (when == UINT64_MAX) {
        srv_timer_stop(c->loop, &c->timer);
        return;
    }
    uint64_t now = srv_clock_ms();
    srv_timer_start(c->loop, &c->timer, when > now ? when - now : 0);
}

static void conn_log_tls_error(srv_conn_t *c, const char *what)
{
    char reason[200] = "none";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    log_info("event=%s conn=%llu reason=\"%s\"", what, (unsigned long long)c->id, reason);
}

/* ---------------------------------------------------------------- output */
static void conn_out_consume(srv_conn_t *c, size_t n)
{
    c->out_len -= n;
    while (n > 0) {
        struct out_chunk *h = c->out_head;
        size_t avail = h->end - h->start;
        size_t take = n < avail ? n : avail;
        h->start += (uint32_t)take;
        n -= take;
        if (h->start == h->end) {
            c->out_head = h->next;
            if (!c->out_head) c->out_tail = NULL;
            free(h);
        }
    }
}

static void conn_out_free(srv_conn_t *c)
{
    while (c->out_head) {
        struct out_chunk *h = c->out_head;
        c->out_head = h->next;
        free(h);
    }
    c->out_tail = NULL;
    c->out_len = 0;
}

int srv_conn_write(srv_conn_t *c, const void *p, size_t n)
{
    if (c->state >= ST_CLOSING) return PETREL_ECLOSED;
    if (c->state == ST_STARTTLS_FLUSH)
        return PETREL_EINVAL; /* would leave in plaintext: wait for on_tls */
    if (n > c->set->out_max || c->out_len > c->set->out_max - n) {
        log_warn("event=conn_output_overflow conn=%llu pending=%zu add=%zu max=%zu",
                 (unsigned long long)c->id, c->out_len, n, c->set->out_max);
        conn_begin_close(c, false, SRV_CLOSE_OVERFLOW);
        return PETREL_ENOMEM;
    }
    const char *s = p;
    while (n > 0) {
        struct out_chunk *t = c->out_tail;
        if (!t || t->end == t->cap) {
            uint32_t cap = !c->out_head && n <= OUT_FIRST ? OUT_FIRST : OUT_CHUNK;
            t = malloc(sizeof(*t) + cap);
            if (!t) {
                conn_begin_close(c, false, SRV_CLOSE_ERROR);
                return PETREL_ENOMEM;
            }
            t->next = NULL;
            t->start = t->end = 0;
            t->cap = cap;
            if (c->out_tail)
                c->out_tail->next = t;
            else
                c->out_head = t;
            c->out_tail = t;
        }
        size_t room = t->cap - t->end, take = n < room ? n : room;
        memcpy(t->data + t->end, s, take);
        t->end += (uint32_t)take;
        s += take;
        n -= take;
        c->out_len += take;
    }
    if (c->out_len >= c->set->out_high) c->throttled = 1;
    conn_kick(c, 0);
    return 0;
}

int srv_conn_writef(srv_conn_t *c, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) return PETREL_EINVAL;
    if ((size_t)n < sizeof(small)) return srv_conn_write(c, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return PETREL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = srv_conn_write(c, big, (size_t)n);
    free(big);
    return rc;
}

bool srv_conn_writable(const srv_conn_t *c)
{
    return c->state < ST_CLOSING && !c->throttled;
}

size_t srv_conn_in_pending(const srv_conn_t *c)
{
    return c->in ? c->in_len - c->in_off : 0;
}

size_t srv_conn_out_pending(const srv_conn_t *c)
{
    return c->out_len;
}

/* Writes what the socket takes. 0 or a close reason (already closing). */
static int conn_flush_once(srv_conn_t *c, size_t *wrote_r)
{
    *wrote_r = 0;
    if (c->ssl && c->tls_done) {
        struct out_chunk *h = c->out_head;
        ERR_clear_error();
        int r = SSL_write(c->ssl, h->data + h->start, (int)(h->end - h->start));
        if (r > 0) {
            *wrote_r = (size_t)r;
            c->wr_wants_read = 0;
            return 0;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            c->wr_wants_read = e == SSL_ERROR_WANT_READ;
            return 0;
        }
        conn_log_tls_error(c, "tls_write_failed");
        return -1;
    }
    struct iovec iov[OUT_IOV];
    int n = 0;
    for (struct out_chunk *h = c->out_head; h && n < OUT_IOV; h = h->next, n++) {
        iov[n].iov_base = h->data + h->start;
        iov[n].iov_len = h->end - h->start;
    }
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t w = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0) {
        *wrote_r = (size_t)w;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    log_info("event=conn_write_failed conn=%llu errno=%d", (unsigned long long)c->id, errno);
    return -1;
}

/* Flushes; fires on_writable on the way down. Returns false when the
 * connection got closed. */
static bool conn_flush(srv_conn_t *c)
{
    bool progress = false;
    while (c->out_head) {
        size_t wrote;
        if (conn_flush_once(c, &wrote) != 0) {
            conn_finish(c, c->tls_done ? SRV_CLOSE_TLS : SRV_CLOSE_ERROR);
            return false;
        }
        if (wrote == 0) break;
        conn_out_consume(c, wrote);
        progress = true;
    }
    if (progress) c->active_ms = srv_loop_now_ms(c->loop);
    if (c->throttled && c->out_len <= c->set->out_low) {
        c->throttled = 0;
        if (c->state == ST_OPEN && c->cbs->on_writable) c->cbs->on_writable(c, c->ud);
        if (c->state == ST_OPEN) conn_kick(c, 0); /* deliver held input */
    }
    return c->state != ST_CLOSED;
}

/* ---------------------------------------------------------------- input */
static void conn_in_compact(srv_conn_t *c)
{
    if (c->in && c->in_off == c->in_len) {
        free(c->in);
        c->in = NULL;
        c->in_off = c->in_len = c->in_cap = 0;
    } else if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
}

/* Makes room for a read; returns the free space (0 on ENOMEM). */
static size_t conn_in_reserve(srv_conn_t *c)
{
    size_t cap_max = c->max_line + 2 > IN_CHUNK ? c->max_line + 2 : IN_CHUNK;
    conn_in_compact(c);
    if (!c->in) {
        size_t cap = cap_max < IN_CHUNK ? cap_max : IN_CHUNK;
        c->in = malloc(cap);
        if (!c->in) return 0;
        c->in_cap = cap;
    } else if (c->in_cap - c->in_len < IN_CHUNK / 4 && c->in_cap < cap_max) {
        size_t cap = c->in_cap * 2 < cap_max ? c->in_cap * 2 : cap_max;
        char *p = realloc(c->in, cap);
        if (!p) return 0;
        c->in = p;
        c->in_cap = cap;
    }
    return c->in_cap - c->in_len;
}

/* One read into dst. >0 bytes, 0 nothing now, -1 EOF, -2 error (logged). */
static ssize_t conn_recv(srv_conn_t *c, char *dst, size_t n)
{
    if (c->ssl && c->tls_done) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, dst, n > INT32_MAX ? INT32_MAX : (int)n);
        c->rd_wants_write = 0;
        if (r > 0) return r;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) return 0;
        if (e == SSL_ERROR_WANT_WRITE) {
            c->rd_wants_write = 1;
            return 0;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
            return -1;
        conn_log_tls_error(c, "tls_read_failed");
        return -2;
    }
    ssize_t r = recv(c->io.fd, dst, n, MSG_DONTWAIT);
    if (r > 0) return r;
    if (r == 0) return -1;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    if (errno == ECONNRESET) return -1;
    log_info("event=conn_read_failed conn=%llu errno=%d", (unsigned long long)c->id, errno);
    return -2;
}

/* Reads once into the input buffer. Returns false when closed. */
static bool conn_read(srv_conn_t *c)
{
    size_t room = conn_in_reserve(c);
    if (room == 0) {
        conn_finish(c, SRV_CLOSE_ERROR);
        return false;
    }
    ssize_t r = conn_recv(c, c->in + c->in_len, room);
    if (r > 0) {
        c->in_len += (size_t)r;
        c->active_ms = srv_loop_now_ms(c->loop);
    } else if (r == -1) {
        c->peer_eof = 1;
    } else if (r == -2) {
        conn_finish(c, c->tls_done ? SRV_CLOSE_TLS : SRV_CLOSE_ERROR);
        return false;
    }
    return true;
}

/* Drops whatever arrives while a STARTTLS reply drains. */
static void conn_read_discard(srv_conn_t *c)
{
    char sink[1024];
    for (int i = 0; i < 16; i++) {
        ssize_t r = recv(c->io.fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (r > 0) {
            log_info("event=starttls_input_discarded conn=%llu bytes=%zd",
                     (unsigned long long)c->id, r);
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            conn_finish(c, r == 0 ? SRV_CLOSE_EOF : SRV_CLOSE_ERROR);
        return;
    }
}

static bool conn_can_deliver(const srv_conn_t *c)
{
    return c->state == ST_OPEN && !c->paused && !c->throttled;
}

/* Delivers one unit (raw chunk or line; conn_frame.h frames it). Returns false when more
 * input is needed. The state is stored before the callback, which may change it
 * (srv_conn_read_raw, srv_conn_set_max_line). */
static bool conn_deliver_one(srv_conn_t *c)
{
    char *p = c->in + c->in_off;
    struct srv_frame f = {
        .raw_left = c->raw_left, .max_line = c->max_line, .discarding = c->discarding};
    struct srv_frame_unit u;
    srv_frame_next(&f, p, c->in_len - c->in_off, &u);
    c->raw_left = f.raw_left;
    c->discarding = f.discarding;
    c->in_off += u.used;
    switch (u.kind) {
    case SRV_FRAME_RAW:
        if (c->cbs->on_raw) c->cbs->on_raw(c, c->ud, p, u.len, c->raw_left);
        return true;
    case SRV_FRAME_LINE:
        c->cbs->on_line(c, c->ud, p, u.len, u.flags);
        return true;
    case SRV_FRAME_SKIP:
        return true;
    case SRV_FRAME_MORE:
        break;
    }
    return false;
}

static void conn_process(srv_conn_t *c)
{
    while (c->in && conn_can_deliver(c) && conn_deliver_one(c))
        ;
    if (c->state == ST_CLOSED) return;
    conn_in_compact(c);
    /* EOF: once nothing more can be delivered, flush and close */
    if (c->peer_eof && c->state == ST_OPEN && !c->paused && !c->throttled)
        conn_begin_close(c, true, SRV_CLOSE_EOF);
}

/* ---------------------------------------------------------------- TLS */
static void conn_handshake(srv_conn_t *c)
{
    ERR_clear_error();
    int r = SSL_accept(c->ssl);
    if (r == 1) {
        c->tls_done = 1;
        c->state = ST_OPEN;
        c->active_ms = srv_loop_now_ms(c->loop);
        log_debug("event=tls_established conn=%llu version=%s cipher=%s", (unsigned long long)c->id,
                 SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
        if (c->cbs->on_tls) c->cbs->on_tls(c, c->ud, 0);
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->hs_want_write = e == SSL_ERROR_WANT_WRITE;
        return;
    }
    conn_log_tls_error(c, "tls_handshake_failed");
    if (c->cbs->on_tls) c->cbs->on_tls(c, c->ud, PETREL_EIO);
    conn_finish(c, SRV_CLOSE_TLS);
}

static int conn_ssl_make(srv_conn_t *c)
{
    c->ssl = srv_tls_ssl_new(c->tls);
    if (!c->ssl) return PETREL_ENOMEM;
    if (SSL_set_fd(c->ssl, c->io.fd) != 1) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return PETREL_EIO;
    }
    SSL_set_accept_state(c->ssl);
    return 0;
}

int srv_conn_starttls(srv_conn_t *c)
{
    if (c->state != ST_OPEN || c->ssl || !c->tls) return PETREL_EINVAL;
    int rc = conn_ssl_make(c);
    if (rc) return rc;
    /* RFC 3207 / CVE-2011-0411: nothing sent before the handshake survives it */
    if (c->in_len > c->in_off)
        log_info("event=starttls_input_discarded conn=%llu bytes=%zu", (unsigned long long)c->id,
                 c->in_len - c->in_off);
    c->in_off = c->in_len;
    c->raw_left = 0;
    c->discarding = 0;
    c->state = ST_STARTTLS_FLUSH;
    conn_kick(c, 0);
    return 0;
}

int srv_conn_new(srv_loop_t *loop, const srv_accept_t *a, const srv_conn_settings_t *set,
                 const srv_conn_cbs_t *cbs, void *ud, srv_tls_t *tls, srv_conn_t **conn_r)
{
    srv_conn_t *c = calloc(1, sizeof(*c));
    int rc = c ? 0 : PETREL_ENOMEM;
    if (rc == 0 && a->tls_mode != SRV_TLS_NONE && !tls) rc = PETREL_EINVAL;
    if (rc) {
        close(a->fd);
        if (a->limits) srv_limits_release(a->limits, &a->limits_key);
        free(c);
        return rc;
    }
    c->loop = loop;
    c->cbs = cbs;
    c->set = set;
    c->ud = ud;
    c->tls = tls;
    c->limits = a->limits;
    c->id = atomic_fetch_add(&conn_next_id, 1);
    c->max_line = set->max_line ? set->max_line : 1;
    c->idle_ms = set->idle_ms;
    c->session_ms = set->session_ms;
    c->started_ms = c->active_ms = srv_clock_ms();
    size_t plen =
        a->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memcpy(&c->peer, &a->peer, plen);
    c->io.fd = -1;
    srv_timer_init(&c->timer, conn_timer_cb, c);
    srv_defer_init(&c->defer, conn_defer_cb, c);
    c->state = a->tls_mode == SRV_TLS_IMPLICIT ? ST_HANDSHAKE : ST_OPEN;
    rc = srv_io_start(loop, &c->io, a->fd, SRV_EV_IN, conn_io_cb, c);
    if (rc == 0 && a->tls_mode == SRV_TLS_IMPLICIT) rc = conn_ssl_make(c);
    if (rc) {
        srv_io_stop(loop, &c->io);
        close(a->fd);
        if (c->limits) srv_limits_release(c->limits, &a->limits_key);
        conn_free(c);
        return rc;
    }
    conn_timer_arm(c);
    char addr[INET6_ADDRSTRLEN];
    log_debug("event=conn_open conn=%llu peer=%s tls=%s", (unsigned long long)c->id,
             srv_conn_peer_str(c, addr, sizeof(addr)),
             a->tls_mode == SRV_TLS_IMPLICIT   ? "implicit"
             : a->tls_mode == SRV_TLS_STARTTLS ? "starttls"
                                               : "none");
    *conn_r = c;
    return 0;
}

/* ---------------------------------------------------------------- service */
static void conn_service(srv_conn_t *c, uint32_t ev)
{
    if (ev & SRV_EV_ERR) {
        /* error or hang-up: epoll reports these whatever the interest set,
         * so a paused connection would spin; the peer is gone anyway */
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &el);
        log_info("event=conn_hangup conn=%llu errno=%d", (unsigned long long)c->id, err);
        conn_finish(c, SRV_CLOSE_ERROR);
        return;
    }
    if (c->state == ST_HANDSHAKE) conn_handshake(c);
    if (c->state == ST_STARTTLS_FLUSH) {
        if (ev & (SRV_EV_IN | SRV_EV_ERR)) conn_read_discard(c);
        if (c->state == ST_STARTTLS_FLUSH && conn_flush(c) && c->out_len == 0) {
            c->state = ST_HANDSHAKE;
            conn_handshake(c);
        }
    }
    if (c->state == ST_OPEN) {
        if (c->paused && (ev & SRV_EV_IN)) c->paused_woke = 1; /* level-triggered: drop it */
        bool ready = (ev & (SRV_EV_IN | SRV_EV_ERR)) || (c->rd_wants_write && (ev & SRV_EV_OUT)) ||
                     (c->ssl && c->tls_done && SSL_pending(c->ssl) > 0);
        if (ready && conn_want_read(c) && !conn_read(c)) return;
        conn_process(c);
        if (c->state == ST_OPEN || c->state == ST_CLOSING)
            if (!conn_flush(c)) return;
        if (c->state == ST_OPEN && conn_want_read(c) && c->ssl && c->tls_done &&
            SSL_pending(c->ssl) > 0)
            conn_kick(c, SRV_EV_IN);
    } else if (c->state == ST_CLOSING) {
        if (!conn_flush(c)) return;
        if (c->out_len == 0) {
            conn_finish(c, c->close_reason);
            return;
        }
    }
    if (c->state == ST_CLOSING && c->out_len == 0) {
        conn_finish(c, c->close_reason);
        return;
    }
    if (c->state != ST_CLOSED) conn_update_interest(c);
}

static void conn_io_cb(srv_loop_t *loop, uint32_t events, void *arg)
{
    (void)loop;
    conn_service(arg, events);
}

static void conn_free(srv_conn_t *c)
{
    if (c->ssl) SSL_free(c->ssl);
    conn_out_free(c);
    free(c->in);
    free(c);
}

static void conn_defer_cb(srv_loop_t *loop, void *arg)
{
    (void)loop;
    srv_conn_t *c = arg;
    if (c->state == ST_CLOSED) {
        if (c->cbs->on_close) c->cbs->on_close(c, c->ud, (enum srv_close_reason)c->close_reason);
        conn_free(c);
        return;
    }
    uint8_t ev = c->defer_ev;
    c->defer_ev = 0;
    conn_service(c, ev);
}

static void conn_timer_cb(srv_loop_t *loop, void *arg)
{
    srv_conn_t *c = arg;
    uint64_t now = srv_clock_ms();
    (void)loop;
    if (c->state == ST_CLOSING && now >= c->close_deadline_ms) {
        conn_finish(c, SRV_CLOSE_FLUSH_TIMEOUT);
        return;
    }
    int kind = -1;
    if (c->session_ms && now >= c->started_ms + c->session_ms)
        kind = SRV_TIMEOUT_SESSION;
    else if (c->idle_ms && now >= c->active_ms + c->idle_ms)
        kind = SRV_TIMEOUT_IDLE;
    if (kind < 0 || c->state == ST_CLOSING) {
        conn_timer_arm(c);
        return;
    }
    log_info("event=conn_timeout conn=%llu kind=%s", (unsigned long long)c->id,
             kind == SRV_TIMEOUT_IDLE ? "idle" : "session");
    if (c->state == ST_OPEN && c->cbs->on_timeout)
        c->cbs->on_timeout(c, c->ud, (enum srv_timeout_kind)kind);
    conn_begin_close(c, c->state == ST_OPEN,
                     kind == SRV_TIMEOUT_IDLE ? SRV_CLOSE_IDLE : SRV_CLOSE_SESSION);
}

/* ---------------------------------------------------------------- close */
/* Closes the socket now; on_close and the free follow from the defer node. */
static void conn_finish(srv_conn_t *c, enum srv_close_reason why)
{
    if (c->state == ST_CLOSED) return;
    if (c->state != ST_CLOSING)
        c->close_reason = (uint8_t)why;
    else if (why == SRV_CLOSE_FLUSH_TIMEOUT || why == SRV_CLOSE_ERROR || why == SRV_CLOSE_TLS)
        c->close_reason = (uint8_t)why;
    if (c->ssl && c->tls_done && why != SRV_CLOSE_TLS && why != SRV_CLOSE_ERROR) {
        ERR_clear_error();
        SSL_shutdown(c->ssl); /* one try: send close_notify, do not wait */
        ERR_clear_error();
    }
    int fd = c->io.fd;
    srv_io_stop(c->loop, &c->io);
    srv_timer_stop(c->loop, &c->timer);
    if (fd >= 0) close(fd);
    if (c->limits) {
        srv_limits_key_t key;
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, &c->peer, sizeof(c->peer));
        srv_limits_key_from(&ss, &key);
        srv_limits_release(c->limits, &key);
        c->limits = NULL;
    }
    c->state = ST_CLOSED;
    log_debug("event=conn_closed conn=%llu reason=%s", (unsigned long long)c->id,
             srv_close_reason_str((enum srv_close_reason)c->close_reason));
    srv_defer_queue(c->loop, &c->defer);
}

static void conn_begin_close(srv_conn_t *c, bool flush, enum srv_close_reason why)
{
    if (c->state == ST_CLOSED) return;
    if (c->state == ST_CLOSING) {
        if (!flush) conn_finish(c, why);
        return;
    }
    if (!flush || c->out_len == 0 || c->state == ST_HANDSHAKE) {
        c->close_reason = (uint8_t)why;
        conn_finish(c, why);
        return;
    }
    c->close_reason = (uint8_t)why;
    c->state = ST_CLOSING;
    c->close_deadline_ms = srv_clock_ms() + c->set->flush_ms;
    conn_timer_arm(c);
    conn_kick(c, 0);
}

void srv_conn_close(srv_conn_t *c, bool flush)
{
    conn_begin_close(c, flush, SRV_CLOSE_LOCAL);
}

/* ---------------------------------------------------------------- public */
int srv_conn_read_raw(srv_conn_t *c, uint64_t n)
{
    if (n == 0 || c->state >= ST_CLOSING) return PETREL_EINVAL;
    c->raw_left = n;
    conn_kick(c, 0);
    return 0;
}

void srv_conn_set_max_line(srv_conn_t *c, size_t max_line)
{
    c->max_line = max_line ? max_line : 1;
}

void srv_conn_pause_input(srv_conn_t *c)
{
    c->paused = 1;
    conn_kick(c, 0);
}

void srv_conn_resume_input(srv_conn_t *c)
{
    if (!c->paused) return;
    c->paused = 0;
    c->paused_woke = 0;
    conn_kick(c, 0);
}

void srv_conn_set_timeouts(srv_conn_t *c, uint32_t idle_ms, uint32_t session_ms)
{
    c->idle_ms = idle_ms;
    c->session_ms = session_ms;
    if (c->state != ST_CLOSED) conn_timer_arm(c);
}

void srv_conn_set_ud(srv_conn_t *c, void *ud)
{
    c->ud = ud;
}

void *srv_conn_ud(const srv_conn_t *c)
{
    return c->ud;
}

uint64_t srv_conn_id(const srv_conn_t *c)
{
    return c->id;
}

srv_loop_t *srv_conn_loop(const srv_conn_t *c)
{
    return c->loop;
}

bool srv_conn_is_tls(const srv_conn_t *c)
{
    return c->ssl && c->tls_done;
}

const char *srv_conn_tls_version(const srv_conn_t *c)
{
    return srv_conn_is_tls(c) ? SSL_get_version(c->ssl) : NULL;
}

const char *srv_conn_tls_cipher(const srv_conn_t *c)
{
    return srv_conn_is_tls(c) ? SSL_get_cipher_name(c->ssl) : NULL;
}

const struct sockaddr *srv_conn_peer(const srv_conn_t *c)
{
    return &c->peer.sa;
}

const char *srv_conn_peer_str(const srv_conn_t *c, char *buf, size_t len)
{
    const void *a = c->peer.sa.sa_family == AF_INET6 ? (const void *)&c->peer.in6.sin6_addr
                                                     : (const void *)&c->peer.in4.sin_addr;
    if (len == 0) return buf;
    if (!inet_ntop(c->peer.sa.sa_family, a, buf, (socklen_t)len)) buf[0] = '\0';
    return buf;
}

bool srv_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

bool srv_conn_is_loopback(const srv_conn_t *c)
{
    return srv_addr_is_loopback(&c->peer.sa);
}
