/*
 * host_rdns.c - the client's reverse DNS name (host->peer_name, ABI 1.1),
 * looked up before session_start, off the event loops.
 *
 * Like Postfix's smtpd, the greeting waits for the answer (the name is then
 * fixed for the session's life): the address is looked up (PTR) in a small
 * thread pool of its own (a slow resolver never delays logins), and the name
 * is kept only when it is forward-confirmed: one of its addresses is the
 * client's. The session waits at most SRV_RDNS_TIMEOUT_MS; a lookup
 * answering later is ignored (the thread keeps running until the resolver
 * gives up: getnameinfo has no timeout of its own, which is the known cost;
 * jobs still queued when their session timed out or went away skip the
 * resolver, so a burst of short connections cannot fill the pool with them).
 *
 * Who gets it: listeners whose plugin declares the key `reverse_dns` in its
 * config_keys, unless the listener says `reverse_dns = no`.
 * Input is paused while waiting (early talkers' bytes are kept, not lost).
 */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/host_int.h"
#include "util/log.h"
#include "util/str.h"

struct srv_rdns_job {
    struct petrel_session *s;
    char addr[64];
    char name[sizeof(((struct petrel_session *)0)->peer_name)];
    int found;
    struct srv_post done; /* hands the result to the session's loop */
};

int srv_rdns_wanted(const struct petrel_listener *l)
{
    const char *const *k = l->plugin->desc->config_keys;
    int declared = 0;
    for (size_t i = 0; k && k[i] && !declared; i++)
        declared = strcmp(k[i], "reverse_dns") == 0;
    const char *v = declared ? srv_listener_setting(l->cfg, "reverse_dns") : NULL;
    return declared &&
           !(v && (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0));
}

/* A name fit for a header: letters, digits, '-', '.', '_', at most 253 bytes. */
static int srv_rdns_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return 1;
}

/* 1 when one of name's addresses is addr (both as numeric text). */
static int srv_rdns_confirm(const char *name, const char *addr, int family)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return 0;
    int ok = 0;
    for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
        char num[NI_MAXHOST];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST) ==
            0)
            ok = strcmp(num, addr) == 0;
    }
    freeaddrinfo(res);
    return ok;
}

/* On a pool thread: PTR, then forward confirmation. */
static void srv_rdns_run(void *arg)
{
    struct srv_rdns_job *j = arg;
    if (atomic_load(&j->s->rdns_stale))
        return; /* the client left or the wait timed out while this job was queued */
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(j->addr, NULL, &hints, &ai) != 0 || !ai)
        return;
    char name[NI_MAXHOST], num[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST) ==
            0 &&
        getnameinfo(ai->ai_addr, ai->ai_addrlen, name, sizeof(name), NULL, 0, NI_NAMEREQD) == 0 &&
        srv_rdns_name_ok(name) && !atomic_load(&j->s->rdns_stale) &&
        srv_rdns_confirm(name, num, ai->ai_family)) {
        str_lcpy(j->name, name, sizeof(j->name));
        j->found = 1;
    }
    freeaddrinfo(ai);
}

/* On the session's loop: the wait is over (answer, timeout or no lookup). */
static void srv_rdns_done(struct petrel_session *s, const char *why)
{
    s->rdns_wait = 0;
    srv_timer_stop(s->loop, &s->rdns_timer);
    log_info("event=rdns session=%llu peer=%s name=%s result=%s", (unsigned long long)s->id,
             s->peer, s->peer_name[0] ? s->peer_name : "-", why);
    if (!s->tls_wait)
        srv_session_begin(s); /* greet first: resuming may hand over buffered lines at once */
    if (s->rdns_paused) {
        s->rdns_paused = 0;
        srv_session_pending_done(s);
    }
}

static void srv_rdns_finish(struct petrel_session *s, void *arg)
{
    struct srv_rdns_job *j = arg;
    if (s->rdns_wait) {
        if (j->found)
            str_lcpy(s->peer_name, j->name, sizeof(s->peer_name));
        srv_rdns_done(s, j->found ? "confirmed" : "none");
    }
    free(j);
}

static void srv_rdns_drop(void *arg)
{
    free(arg);
}

/* On the pool thread after the job (status PETREL_ECLOSED: cancelled at shutdown). */
static void srv_rdns_job_done(void *arg, int status)
{
    struct srv_rdns_job *j = arg;
    struct petrel_session *s = j->s;
    if (status)
        j->found = 0;
    srv_session_post_with(s, &j->done, srv_rdns_finish, j, srv_rdns_drop);
    srv_session_release(s); /* the job's reference */
}

static void srv_rdns_timeout(srv_loop_t *loop, void *arg)
{
    (void)loop;
    struct petrel_session *s = arg;
    atomic_store(&s->rdns_stale, 1);
    if (s->rdns_wait && !s->ended)
        srv_rdns_done(s, "timeout");
}

int srv_rdns_start(struct petrel_session *s)
{
    struct srv_host *h = s->host;
    srv_timer_init(&s->rdns_timer, srv_rdns_timeout, s);
    if (!h->rdns_pool)
        return PETREL_ENOTSUP;
    struct srv_rdns_job *j = calloc(1, sizeof(*j));
    if (!j)
        return PETREL_ENOMEM;
    j->s = s;
    str_lcpy(j->addr, s->peer, sizeof(j->addr));
    int rc = srv_timer_start(s->loop, &s->rdns_timer, SRV_RDNS_TIMEOUT_MS);
    srv_session_hold(s);
    if (rc == 0)
        rc = auth_pool_submit(h->rdns_pool, srv_rdns_run, srv_rdns_job_done, j);
    if (rc) {
        srv_session_release(s);
        srv_timer_stop(s->loop, &s->rdns_timer);
        free(j);
        log_warn("event=rdns_skipped session=%llu error=%d", (unsigned long long)s->id, rc);
        return rc;
    }
    s->rdns_wait = 1;
    return 0;
}

void srv_rdns_pause(struct petrel_session *s)
{
    if (s->rdns_wait && !s->rdns_paused) {
        s->rdns_paused = 1;
        srv_session_pending_add(s);
    }
}

void srv_rdns_cancel(struct petrel_session *s)
{
    atomic_store(&s->rdns_stale, 1);
    if (s->rdns_wait) {
        s->rdns_wait = 0;
        srv_timer_stop(s->loop, &s->rdns_timer);
    }
}
