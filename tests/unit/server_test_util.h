/*
 * server_test_util.h - a tiny line protocol served by core/server for the
 * test_server_* tests, and blocking loopback client helpers.
 *
 * Commands (one per line): RAW n | PAUSE ms | BIG n | FLOOD n | STARTTLS |
 * INFO | QUIT; anything else is echoed as "L <crlf> <line>".
 */
#ifndef PETREL_TEST_SERVER_UTIL_H
#define PETREL_TEST_SERVER_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/conn.h"
#include "server/limits.h"
#include "server/listener.h"
#include "server/loop.h"
#include "server/tls.h"
#include "util/err.h"

struct ts_sess {
    srv_conn_t *c;
    uint64_t big_left;
    srv_timer_t resume;
    char raw[256];
    size_t raw_len;
};

struct ts_server {
    srv_loop_t *loop;
    pthread_t thread;
    srv_listener_t *lst;
    srv_limits_t *limits;
    srv_tls_t *tls;
    srv_conn_settings_t set;
    uint16_t port;
    atomic_size_t max_out; /* largest output backlog seen */
    atomic_uint lines;     /* lines delivered */
    atomic_uint closes;
    atomic_uint opens;
    atomic_uint tls_fail;
    atomic_int last_close_reason;
};

static void ts_write_big(struct ts_sess *s)
{
    static const char chunk[8192] = {[0 ... 8191] = 'x'};
    struct ts_server *srv = NULL;
    (void)srv;
    while (s->big_left > 0 && srv_conn_writable(s->c)) {
        size_t n = s->big_left < sizeof(chunk) ? (size_t)s->big_left : sizeof(chunk);
        if (srv_conn_write(s->c, chunk, n) != 0) return;
        s->big_left -= n;
    }
}

static struct ts_server *ts_current;
static const char *ts_address; /* listen address for ts_start; NULL: 127.0.0.1:0 */

static void ts_note_out(srv_conn_t *c)
{
    size_t p = srv_conn_out_pending(c), m = atomic_load(&ts_current->max_out);
    while (p > m && !atomic_compare_exchange_weak(&ts_current->max_out, &m, p))
        ;
}

static void ts_resume_cb(srv_loop_t *loop, void *arg)
{
    (void)loop;
    struct ts_sess *s = arg;
    srv_conn_resume_input(s->c);
}

static void ts_on_line(srv_conn_t *c, void *ud, const char *line, size_t len, unsigned flags)
{
    struct ts_sess *s = ud;
    char cmd[64];
    atomic_fetch_add(&ts_current->lines, 1);
    if (flags & SRV_LINE_OVERFLOW) {
        srv_conn_writef(c, "OVERFLOW %zu\r\n", len);
        return;
    }
    if (flags & SRV_LINE_TOO_LONG) {
        srv_conn_writef(c, "TOOLONG %zu\r\n", len);
        return;
    }
    size_t n = len < sizeof(cmd) - 1 ? len : sizeof(cmd) - 1;
    memcpy(cmd, line, n);
    cmd[n] = '\0';
    unsigned long v = 0;
    if (sscanf(cmd, "RAW %lu", &v) == 1) {
        srv_conn_write(c, "+ go\r\n", 6);
        s->raw_len = 0;
        srv_conn_read_raw(c, v);
    } else if (sscanf(cmd, "PAUSE %lu", &v) == 1) {
        srv_conn_pause_input(c);
        srv_timer_start(srv_conn_loop(c), &s->resume, v);
        srv_conn_write(c, "PAUSED\r\n", 8);
    } else if (sscanf(cmd, "BIG %lu", &v) == 1) {
        s->big_left = v;
        ts_write_big(s);
        ts_note_out(c);
    } else if (sscanf(cmd, "FLOOD %lu", &v) == 1) {
        static const char chunk[65536];
        while (v > 0) {
            size_t k = v < sizeof(chunk) ? v : sizeof(chunk);
            ts_note_out(c);
            if (srv_conn_write(c, chunk, k) != 0) break;
            v -= k;
        }
    } else if (strcmp(cmd, "STARTTLS") == 0) {
        srv_conn_write(c, "OK go\r\n", 7);
        if (srv_conn_starttls(c) != 0)
            srv_conn_write(c, "NO\r\n", 4);
        else if (srv_conn_write(c, "LEAK\r\n", 6) != PETREL_EINVAL) /* must not go out */
            atomic_fetch_add(&ts_current->tls_fail, 100);
    } else if (strcmp(cmd, "INFO") == 0) {
        const char *ver = srv_conn_tls_version(c), *ciph = srv_conn_tls_cipher(c);
        srv_conn_writef(c, "INFO tls=%d version=%s cipher=%s loopback=%d\r\n", srv_conn_is_tls(c),
                        ver ? ver : "-", ciph ? ciph : "-", srv_conn_is_loopback(c));
    } else if (strcmp(cmd, "QUIT") == 0) {
        srv_conn_write(c, "BYE\r\n", 5);
        srv_conn_close(c, true);
    } else {
        srv_conn_writef(c, "L %d %.*s\r\n", (flags & SRV_LINE_CRLF) ? 1 : 0, (int)len, line);
    }
}

static void ts_on_raw(srv_conn_t *c, void *ud, const char *p, size_t n, uint64_t remaining)
{
    struct ts_sess *s = ud;
    size_t room = sizeof(s->raw) - s->raw_len, k = n < room ? n : room;
    memcpy(s->raw + s->raw_len, p, k);
    s->raw_len += k;
    if (remaining == 0) srv_conn_writef(c, "RAW %.*s\r\n", (int)s->raw_len, s->raw);
}

static void ts_on_writable(srv_conn_t *c, void *ud)
{
    struct ts_sess *s = ud;
    ts_write_big(s);
    ts_note_out(c);
}

static void ts_on_tls(srv_conn_t *c, void *ud, int rc)
{
    (void)c;
    (void)ud;
    if (rc) atomic_fetch_add(&ts_current->tls_fail, 1);
}

static void ts_on_timeout(srv_conn_t *c, void *ud, enum srv_timeout_kind kind)
{
    (void)ud;
    srv_conn_writef(c, "TIMEOUT %s\r\n", kind == SRV_TIMEOUT_IDLE ? "idle" : "session");
}

static void ts_on_close(srv_conn_t *c, void *ud, enum srv_close_reason why)
{
    struct ts_sess *s = ud;
    srv_timer_stop(srv_conn_loop(c), &s->resume);
    free(s);
    atomic_store(&ts_current->last_close_reason, (int)why);
    atomic_fetch_add(&ts_current->closes, 1);
}

static const srv_conn_cbs_t ts_cbs = {ts_on_line, ts_on_raw,     ts_on_writable,
                                      ts_on_tls,  ts_on_timeout, ts_on_close};

static void ts_on_accept(void *ud, srv_loop_t *loop, const srv_accept_t *a)
{
    struct ts_server *srv = ud;
    struct ts_sess *s = calloc(1, sizeof(*s));
    srv_conn_t *c;
    if (srv_conn_new(loop, a, &srv->set, &ts_cbs, s, srv->tls, &c) != 0) {
        free(s);
        return;
    }
    atomic_fetch_add(&srv->opens, 1);
    s->c = c;
    srv_timer_init(&s->resume, ts_resume_cb, s);
}

static size_t ts_on_refuse(void *ud, char *buf, size_t len, int why)
{
    (void)ud;
    int n = snprintf(buf, len, "TOO MANY %s\r\n", why == PETREL_EBUSY ? "ip" : "total");
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static const srv_listener_cbs_t ts_lcbs = {ts_on_accept, ts_on_refuse};

static void *ts_thread(void *arg)
{
    srv_loop_run(arg);
    return NULL;
}

/* Starts a one-loop server on 127.0.0.1:0. set may be NULL (defaults). */
static inline struct ts_server *ts_start(const srv_conn_settings_t *set, enum srv_tls_mode mode,
                                         srv_tls_t *tls, unsigned max_total, unsigned max_ip)
{
    struct ts_server *srv = calloc(1, sizeof(*srv));
    signal(SIGPIPE, SIG_IGN);
    ts_current = srv;
    if (set)
        srv->set = *set;
    else
        srv_conn_settings_default(&srv->set);
    srv->tls = tls;
    if (srv_loop_new(&srv->loop) != 0) return NULL;
    if (max_total || max_ip) srv_limits_new(max_total, max_ip, &srv->limits);
    srv_listener_cfg_t cfg = {.name = "test",
                              .address = ts_address ? ts_address : "127.0.0.1:0",
                              .tls = mode,
                              .nsockets = 1};
    if (srv_listener_bind(&cfg, &srv->lst) != 0) return NULL;
    srv->port = srv_listener_port(srv->lst);
    if (srv_listener_start(srv->lst, &srv->loop, 1, srv->limits, &ts_lcbs, srv) != 0) return NULL;
    pthread_create(&srv->thread, NULL, ts_thread, srv->loop);
    return srv;
}

static inline void ts_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void ts_stop(struct ts_server **srvp)
{
    struct ts_server *srv = *srvp;
    /* every client has closed: let the server see it before stopping */
    for (int i = 0; i < 300 && atomic_load(&srv->closes) != atomic_load(&srv->opens); i++)
        ts_sleep_ms(10);
    srv_loop_stop(srv->loop);
    pthread_join(srv->thread, NULL);
    srv_listener_free(&srv->lst);
    srv_loop_free(&srv->loop);
    srv_limits_free(&srv->limits);
    free(srv);
    ts_current = NULL;
    *srvp = NULL;
}

/* A blocking client socket to 127.0.0.1:port from source address src (NULL: any). */
static inline int tc_connect(uint16_t port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (src) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &sa.sin_addr);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int tc_send(int fd, const char *s)
{
    size_t n = strlen(s);
    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Reads one line (up to LF, CRLF stripped) into buf. Length, or -1 on EOF/timeout. */
static inline int tc_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = recv(fd, &ch, 1, 0);
        if (r <= 0) return -1;
        if (ch == '\n') break;
        if (n + 1 < len) buf[n++] = ch;
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return (int)n;
}

#endif
