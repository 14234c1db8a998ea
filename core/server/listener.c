/* listener.c - SO_REUSEPORT sockets, one per worker loop. See listener.h. */
#define _GNU_SOURCE /* accept4 */
#include "server/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define ACCEPT_BATCH 32
#define ACCEPT_PAUSE_MS 100 /* after EMFILE/ENFILE: stop accepting this long */

struct lsock {
    srv_listener_t *l;
    int fd;
    srv_io_t io;
    srv_timer_t pause;
    srv_loop_t *loop;
};

struct srv_net_listener {
    char name[32];
    char address[80];
    enum srv_tls_mode tls;
    int dual_stack; /* an IPv6 socket that takes IPv4 clients too ("*:port") */
    uint16_t port;
    unsigned n;
    struct lsock *socks;
    srv_limits_t *limits;
    const srv_listener_cbs_t *cbs;
    void *ud;
};

/* An IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d: make it
 * plain IPv4, so logs, loopback checks and per-IP limits see one address. */
static void listener_unmap_v4(struct sockaddr_storage *ss)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_port = s6->sin6_port;
    memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, &s4, sizeof(s4));
}

int srv_addr_parse(const char *s, struct sockaddr_storage *ss_r, socklen_t *len_r)
{
    char host[64];
    const char *port;
    size_t hl;
    memset(ss_r, 0, sizeof(*ss_r));
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') return PETREL_EINVAL;
        hl = (size_t)(end - s - 1);
        if (hl >= sizeof(host)) return PETREL_EINVAL;
        memcpy(host, s + 1, hl);
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) return PETREL_EINVAL;
        hl = (size_t)(colon - s);
        if (hl >= sizeof(host)) return PETREL_EINVAL;
        memcpy(host, s, hl);
        port = colon + 1;
    }
    host[hl] = '\0';
    uint64_t p;
    if (str_to_u64(port, strlen(port), &p) != 0 || p > 65535) return PETREL_EINVAL;
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss_r;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss_r;
    if (s[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)p);
        *len_r = sizeof(*s4);
    } else if (s[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)p);
        *len_r = sizeof(*s6);
    } else {
        return PETREL_EINVAL;
    }
    return 0;
}

static int listener_socket(srv_listener_t *l, struct sockaddr_storage *ss, socklen_t len,
                           int backlog)
{
    int one = 1, v6only = !l->dual_stack;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail;
    if (ss->ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)ss, len) < 0 || listen(fd, backlog) < 0) goto fail;
    return fd;
fail:
    log_error("event=listener_bind_failed listener=%s address=%s errno=%d error=\"%s\"", l->name,
              l->address, errno, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

int srv_listener_bind(const srv_listener_cfg_t *cfg, srv_listener_t **l_r)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (cfg->sa) {
        memcpy(&ss, cfg->sa, sizeof(ss));
        len = cfg->salen;
    } else if (!cfg->address || srv_addr_parse(cfg->address, &ss, &len) != 0) {
        log_error("event=listener_bad_address listener=%s address=\"%s\"",
                  cfg->name ? cfg->name : "", cfg->address ? cfg->address : "");
        return PETREL_EINVAL;
    }
    srv_listener_t *l = calloc(1, sizeof(*l));
    unsigned n = cfg->nsockets ? cfg->nsockets : 1;
    if (!l || !(l->socks = calloc(n, sizeof(*l->socks)))) {
        free(l);
        return PETREL_ENOMEM;
    }
    str_lcpy(l->name, cfg->name ? cfg->name : "", sizeof(l->name));
    str_lcpy(l->address, cfg->address ? cfg->address : "", sizeof(l->address));
    l->dual_stack = cfg->dual_stack && ss.ss_family == AF_INET6;
    l->tls = cfg->tls;
    for (unsigned i = 0; i < n; i++) {
        l->socks[i].fd = -1;
        l->socks[i].io.fd = -1;
    }
    l->n = n;
    for (unsigned i = 0; i < n; i++) {
        int fd = listener_socket(l, &ss, len, cfg->backlog > 0 ? cfg->backlog : 511);
        if (fd < 0) {
            int busy = errno == EADDRINUSE;
            srv_listener_free(&l);
            return busy ? PETREL_EBUSY : PETREL_EIO;
        }
        l->socks[i].fd = fd;
        l->socks[i].l = l;
        if (i == 0) { /* port 0: the others bind to the port the kernel chose */
            struct sockaddr_storage got;
            socklen_t gl = sizeof(got);
            getsockname(fd, (struct sockaddr *)&got, &gl);
            uint16_t port = got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                      : ((struct sockaddr_in *)&got)->sin_port;
            if (ss.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&ss)->sin6_port = port;
            else
                ((struct sockaddr_in *)&ss)->sin_port = port;
            l->port = ntohs(port);
        }
    }
    log_info("event=listener_bound listener=%s address=%s port=%u sockets=%u", l->name, l->address,
             l->port, n);
    *l_r = l;
    return 0;
}

uint16_t srv_listener_port(const srv_listener_t *l)
{
    return l->port;
}

enum srv_tls_mode srv_listener_tls_mode(const srv_listener_t *l)
{
    return l->tls;
}

static void listener_refuse(srv_listener_t *l, int fd, int why)
{
    char line[256];
    log_info("event=conn_refused listener=%s reason=%s", l->name,
             why == PETREL_EBUSY    ? "per_ip_limit"
             : why == PETREL_EAGAIN ? "total_limit"
                                    : "nomem");
    if (l->tls != SRV_TLS_IMPLICIT && l->cbs->on_refuse) {
        size_t n = l->cbs->on_refuse(l->ud, line, sizeof(line), why);
        if (n > 0 && n <= sizeof(line)) {
            ssize_t w = send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            (void)w;
        }
    }
    close(fd);
}

static void listener_resume(srv_loop_t *loop, void *arg)
{
    struct lsock *s = arg;
    if (s->io.fd >= 0) srv_io_update(loop, &s->io, SRV_EV_IN);
}

static void listener_accept_cb(srv_loop_t *loop, uint32_t events, void *arg)
{
    struct lsock *s = arg;
    srv_listener_t *l = s->l;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        srv_accept_t a;
        memset(&a, 0, sizeof(a));
        socklen_t plen = sizeof(a.peer);
        a.fd = accept4(s->fd, (struct sockaddr *)&a.peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (a.fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_error("event=accept_failed listener=%s errno=%d pause_ms=%d", l->name, errno,
                          ACCEPT_PAUSE_MS);
                srv_io_update(loop, &s->io, 0);
                srv_timer_start(loop, &s->pause, ACCEPT_PAUSE_MS);
            }
            return; /* EAGAIN, ECONNABORTED, EINTR...: wait for the next event */
        }
        listener_unmap_v4(&a.peer);
        a.tls_mode = l->tls;
        /* replies are small and pipelined: do not let Nagle hold them back */
        int one = 1;
        setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (l->limits) {
            srv_limits_key_from(&a.peer, &a.limits_key);
            int rc = srv_limits_acquire(l->limits, &a.limits_key);
            if (rc) {
                listener_refuse(l, a.fd, rc);
                continue;
            }
            a.limits = l->limits;
        }
        l->cbs->on_accept(l->ud, loop, &a);
    }
}

int srv_listener_start(srv_listener_t *l, srv_loop_t *const *loops, unsigned nloops,
                       srv_limits_t *limits, const srv_listener_cbs_t *cbs, void *ud)
{
    if (nloops == 0 || !cbs || !cbs->on_accept) return PETREL_EINVAL;
    l->limits = limits;
    l->cbs = cbs;
    l->ud = ud;
    for (unsigned i = 0; i < l->n; i++) {
        struct lsock *s = &l->socks[i];
        s->loop = loops[i % nloops];
        srv_timer_init(&s->pause, listener_resume, s);
        int rc = srv_io_start(s->loop, &s->io, s->fd, SRV_EV_IN, listener_accept_cb, s);
        if (rc) return rc;
    }
    log_info("event=listener_started listener=%s port=%u loops=%u", l->name, l->port, nloops);
    return 0;
}

static void lsock_unwatch(struct lsock *s)
{
    if (s->loop) {
        srv_io_stop(s->loop, &s->io);
        srv_timer_stop(s->loop, &s->pause);
    }
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

static void lsock_unwatch_post(void *arg)
{
    lsock_unwatch(arg);
}

void srv_listener_stop(srv_listener_t *l)
{
    for (unsigned i = 0; i < l->n; i++) {
        struct lsock *s = &l->socks[i];
        if (s->loop)
            srv_loop_post(s->loop, lsock_unwatch_post, s);
        else
            lsock_unwatch(s);
    }
    log_info("event=listener_stopping listener=%s", l->name);
}

void srv_listener_free(srv_listener_t **lp)
{
    srv_listener_t *l = *lp;
    if (!l) return;
    for (unsigned i = 0; i < l->n; i++)
        lsock_unwatch(&l->socks[i]);
    free(l->socks);
    free(l);
    *lp = NULL;
}
