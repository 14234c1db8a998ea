/*
 * host_life.c - the host's lifecycle: plugins bound to listeners, the store
 * and its writer, the login machinery, workers and accepting, graceful stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime/cache_adapter.h"
#include "server/host_int.h"
#include "server/listener.h"
#include "store/writer.h"
#include "util/err.h"
#include "util/log.h"

#define SRV_GEN_POLL_MS 1000 /* other processes' commits are noticed within this */
#define SRV_AUTH_QUEUE 4096  /* logins waiting for a hashing thread */

static struct srv_host *srv_the_host;

static int srv_host_selfsigned(const struct srv_config *cfg, char *err, size_t errlen);

struct srv_host *srv_host_current(void)
{
    return srv_the_host;
}

/* Loads (once) the plugin a listener names. */
static int srv_host_plugin(struct srv_host *h, const char *name, srv_plugin_t **p_r, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < h->n_plugins; i++) {
        if (strcmp(h->plugins[i]->name, name) == 0) {
            *p_r = h->plugins[i];
            return 0;
        }
    }
    char path[4096];
    int rc = srv_plugin_path(h->cfg->plugin_dir, name, path, sizeof(path));
    if (rc) {
        snprintf(err, errlen, "plugin name '%s' is not valid", name);
        return rc;
    }
    srv_plugin_t **more = realloc(h->plugins, (h->n_plugins + 1) * sizeof(*more));
    if (!more)
        return PETREL_ENOMEM;
    h->plugins = more;
    rc = srv_plugin_open(path, name, &srv_host_fns, p_r, err, errlen);
    if (rc)
        return rc;
    h->plugins[h->n_plugins++] = *p_r;
    return 0;
}

/* The development default runs whatever protocol plugins are built. */
static int srv_host_plugin_exists(struct srv_host *h, const char *name)
{
    char path[4096];
    return srv_plugin_path(h->cfg->plugin_dir, name, path, sizeof(path)) == 0 &&
           access(path, R_OK) == 0;
}

/* Plugins loaded, listener keys checked, listener_open called. */
static int srv_host_listeners(struct srv_host *h, char *err, size_t errlen)
{
    const struct srv_config *cfg = h->cfg;
    h->listeners = calloc(cfg->n_listeners ? cfg->n_listeners : 1, sizeof(*h->listeners));
    if (!h->listeners)
        return PETREL_ENOMEM;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct petrel_listener *l = &h->listeners[h->n_listeners];
        l->host = h;
        l->cfg = &cfg->listeners[i];
        const struct srv_listen_limits *lim = &l->cfg->limits;
        uint64_t limit_vals[SRV_LIMIT_KEYS] = {lim->max_message_size, lim->max_line_length,
                                               lim->idle_timeout, lim->max_connections};
        for (size_t k = 0; k < SRV_LIMIT_KEYS; k++)
            snprintf(l->limit_text[k], sizeof(l->limit_text[k]), "%llu",
                     (unsigned long long)limit_vals[k]);
        char perr[512];
        if (cfg->dev_default && !srv_host_plugin_exists(h, l->cfg->plugin)) {
            log_warn("event=listener_skipped listener=%s plugin=%s reason=\"plugin not built\"",
                     l->cfg->name, l->cfg->plugin);
            continue;
        }
        h->n_listeners++;
        int rc = srv_host_plugin(h, l->cfg->plugin, &l->plugin, perr, sizeof(perr));
        if (rc) {
            snprintf(err, errlen, "%s:%u: %s", cfg->file, l->cfg->line, perr);
            return rc;
        }
        static const char *const none[] = {NULL};
        rc = srv_config_check_listener_keys(cfg, l->cfg,
                                            l->plugin->desc->config_keys
                                                ? l->plugin->desc->config_keys
                                                : none,
                                            err, errlen);
        if (rc)
            return rc;
        if (l->plugin->desc->listener_open) {
            perr[0] = '\0';
            rc = l->plugin->desc->listener_open(l, &l->data, perr, sizeof(perr));
            if (rc) {
                snprintf(err, errlen, "%s:%u: [listener %s]: %s", cfg->file, l->cfg->line,
                         l->cfg->name, perr[0] ? perr : petrel_strerror(rc));
                return rc < 0 ? rc : PETREL_EINVAL;
            }
        }
        l->opened = 1;
        srv_conn_settings_default(&l->conn_set);
        l->conn_set.idle_ms = l->cfg->limits.idle_timeout * 1000u;
        l->conn_set.session_ms = cfg->session_timeout * 1000u;
        if (l->conn_set.max_line > l->cfg->limits.max_line_length)
            l->conn_set.max_line = l->cfg->limits.max_line_length;
        rc = srv_limits_new(l->cfg->limits.max_connections, cfg->max_connections_per_ip,
                            &l->limits);
        if (rc)
            return rc;
    }
    return 0;
}

static void srv_host_listeners_close(struct srv_host *h)
{
    for (size_t i = 0; i < h->n_listeners; i++) {
        struct petrel_listener *l = &h->listeners[i];
        if (l->net) {
            srv_listener_t *net = l->net;
            srv_listener_free(&net);
            l->net = NULL;
        }
        if (l->opened && l->plugin->desc->listener_close)
            l->plugin->desc->listener_close(l, l->data);
        l->opened = 0;
        srv_limits_free(&l->limits);
    }
    free(h->listeners);
    h->listeners = NULL;
    h->n_listeners = 0;
    for (size_t i = 0; i < h->n_plugins; i++)
        srv_plugin_close(&h->plugins[i]);
    free(h->plugins);
    h->plugins = NULL;
    h->n_plugins = 0;
}

int srv_host_check(const struct srv_config *cfg, char *err, size_t errlen)
{
    struct srv_host h;
    memset(&h, 0, sizeof(h));
    h.cfg = cfg;
    int rc = srv_host_selfsigned(cfg, err, errlen);
    if (rc == 0)
        rc = srv_config_validate(cfg, err, errlen);
    if (rc == 0)
        rc = srv_host_listeners(&h, err, errlen);
    srv_host_listeners_close(&h);
    return rc;
}

/* tls_self_signed (the development default): make the pair if it is missing. */
static int srv_host_selfsigned(const struct srv_config *cfg, char *err, size_t errlen)
{
    if (cfg->tls_self_signed && cfg->tls_cert) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", cfg->tls_cert);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        if ((cfg->data && mkdir(cfg->data, 0700) != 0 && errno != EEXIST) ||
            (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
            snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
            return PETREL_EIO;
        }
        int rc = srv_tls_make_selfsigned(dir, cfg->hostname ? cfg->hostname : "localhost");
        if (rc) {
            snprintf(err, errlen, "%s: cannot create a self-signed certificate", dir);
            return rc;
        }
    }
    return 0;
}

static int srv_host_tls(struct srv_host *h, char *err, size_t errlen)
{
    const struct srv_config *cfg = h->cfg;
    int need = 0;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        need |= cfg->listeners[i].tls != SRV_TLS_NONE;
    if (!need && !cfg->tls_cert)
        return 0;
    return srv_tls_new(cfg->tls_cert, cfg->tls_key, &h->tls, err, errlen);
}

int srv_host_new(const struct srv_config *cfg, srv_host_t **h_r, char *err, size_t errlen)
{
    if (srv_the_host) {
        snprintf(err, errlen, "a host already exists in this process");
        return PETREL_EBUSY;
    }
    struct srv_host *h = calloc(1, sizeof(*h));
    if (!h)
        return PETREL_ENOMEM;
    h->cfg = cfg;
    pthread_mutex_init(&h->sessions_lock, NULL);
    pthread_mutex_init(&h->watch_lock, NULL);
    srv_the_host = h;
    h->scrypt.ln = cfg->auth_scrypt_ln;
    h->scrypt.r = cfg->auth_scrypt_r;
    h->scrypt.p = cfg->auth_scrypt_p;

    int rc = srv_host_selfsigned(cfg, err, errlen);
    if (rc == 0)
        rc = srv_config_validate(cfg, err, errlen);
    if (rc == 0)
        rc = srv_host_tls(h, err, errlen);
    if (rc == 0)
        rc = srv_host_listeners(h, err, errlen);
    if (rc) {
        srv_host_free(&h);
        return rc;
    }
    *h_r = h;
    return 0;
}

static size_t srv_host_refuse(void *ud, char *buf, size_t len, int why)
{
    (void)why;
    struct petrel_listener *l = ud;
    const char *line = l->plugin->desc->refuse_line ? l->plugin->desc->refuse_line(l) : NULL;
    if (!line)
        return 0;
    size_t n = strlen(line);
    if (n > len)
        return 0;
    memcpy(buf, line, n);
    return n;
}

static void srv_host_accept(void *ud, srv_loop_t *loop, const srv_accept_t *a)
{
    srv_session_accept(ud, loop, a);
}

static const srv_listener_cbs_t srv_host_listener_cbs = {
    .on_accept = srv_host_accept,
    .on_refuse = srv_host_refuse,
};

int srv_host_bind(srv_host_t *h, char *err, size_t errlen)
{
    unsigned workers = h->cfg->workers ? h->cfg->workers : 1;
    for (size_t i = 0; i < h->n_listeners; i++) {
        struct petrel_listener *l = &h->listeners[i];
        srv_listener_cfg_t lc = {.name = l->cfg->name,
                                 .address = l->cfg->addr.text,
                                 .sa = &l->cfg->addr.ss,
                                 .salen = l->cfg->addr.sslen,
                                 .dual_stack = l->cfg->addr.dual_stack,
                                 .tls = l->cfg->tls,
                                 .nsockets = workers};
        srv_listener_t *net;
        int rc = srv_listener_bind(&lc, &net);
        if (rc) {
            snprintf(err, errlen, "%s:%u: [listener %s]: cannot listen on %s: %s", h->cfg->file,
                     l->cfg->line, l->cfg->name, l->cfg->addr.text,
                     rc == PETREL_EBUSY ? "address in use" : petrel_strerror(rc));
            return rc;
        }
        l->net = net;
        log_info("event=listen listener=%s address=%s port=%u tls=%s plugin=%s", l->cfg->name,
                 l->cfg->addr.text, srv_listener_port(net), srv_tls_mode_name(l->cfg->tls),
                 l->cfg->plugin);
    }
    return 0;
}

/* Every SRV_GEN_POLL_MS on loop 0: did another process commit? */
static void srv_host_gen_poll(srv_loop_t *loop, void *arg)
{
    struct srv_host *h = arg;
    uint64_t gen, own;
    if (store_generation_own(h->store, &gen, &own) == 0) {
        if (gen - h->gen_seen > own - h->own_seen)
            srv_watch_notify_all(h); /* someone else changed something */
        h->gen_seen = gen;
        h->own_seen = own;
    }
    if (!atomic_load(&h->stopping))
        srv_timer_start(loop, &h->gen_timer, SRV_GEN_POLL_MS);
}

static void srv_host_gen_start(void *arg)
{
    struct srv_host *h = arg;
    /* what is in the store now is not news: the first poll compares with this */
    if (store_generation_own(h->store, &h->gen_seen, &h->own_seen) != 0)
        h->gen_seen = h->own_seen = 0;
    srv_timer_init(&h->gen_timer, srv_host_gen_poll, h);
    srv_timer_start(srv_workers_loop(h->workers, 0), &h->gen_timer, SRV_GEN_POLL_MS);
}

/* The store, its writer and the login machinery: after the privilege drop,
 * so the store's files belong to the user petreld runs as. */
static int srv_host_open_store(struct srv_host *h, char *err, size_t errlen)
{
    const struct srv_config *cfg = h->cfg;
    store_opts_t so = {.struct_size = sizeof(so),
                       .cache_fn = mime_cache_for_store,
                       .on_commit = srv_host_on_commit,
                       .on_commit_arg = h,
                       .vanished_keep = cfg->vanished_keep};
    int rc = store_open(cfg->data, &so, &h->store);
    if (rc) {
        snprintf(err, errlen, "%s: cannot open the store: %s", cfg->data, store_strerror(rc));
        return rc;
    }
    if ((rc = store_writer_start(h->store, &h->writer)) != 0) {
        snprintf(err, errlen, "cannot start the store writer: %s", petrel_strerror(rc));
        return rc;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ncpu > 0 ? (unsigned)ncpu : 1;
    rc = auth_pool_new(threads, SRV_AUTH_QUEUE, &h->auth_pool);
    if (rc == 0) /* its own threads: a slow resolver never delays logins */
        rc = auth_pool_new(SRV_RDNS_THREADS, SRV_RDNS_QUEUE, &h->rdns_pool);
    if (rc == 0)
        rc = auth_throttle_new(NULL, &h->throttle);
    if (rc == 0 && cfg->auth_cache_ttl > 0) {
        struct auth_cache_config cc;
        auth_cache_config_default(&cc);
        cc.ttl_ms = cfg->auth_cache_ttl * 1000u;
        rc = auth_cache_new(&cc, &h->auth_cache);
    }
    /* unknown users are verified against this, at the cost of a real one */
    if (rc == 0)
        rc = auth_password_hash("petrel-dummy", 12, &h->scrypt, &h->dummy_hash);
    if (rc)
        snprintf(err, errlen, "cannot start authentication: %s", petrel_strerror(rc));
    return rc;
}

int srv_host_run(srv_host_t *h, char *err, size_t errlen)
{
    int rc = srv_host_open_store(h, err, errlen);
    if (rc)
        return rc;
    rc = srv_workers_start(h->cfg->workers, &h->workers);
    if (rc) {
        snprintf(err, errlen, "cannot start worker threads: %s", petrel_strerror(rc));
        return rc;
    }
    unsigned n = srv_workers_count(h->workers);
    srv_loop_t *loops[1024];
    for (unsigned i = 0; i < n && i < 1024; i++)
        loops[i] = srv_workers_loop(h->workers, i);
    for (size_t i = 0; i < h->n_listeners; i++) {
        struct petrel_listener *l = &h->listeners[i];
        rc = srv_listener_start(l->net, loops, n < 1024 ? n : 1024, l->limits,
                                &srv_host_listener_cbs, l);
        if (rc) {
            snprintf(err, errlen, "[listener %s]: cannot accept: %s", l->cfg->name,
                     petrel_strerror(rc));
            return rc;
        }
    }
    store_generation_own(h->store, &h->gen_seen, &h->own_seen);
    srv_loop_post(loops[0], srv_host_gen_start, h);
    log_info("event=started workers=%u listeners=%zu", n, h->n_listeners);
    return 0;
}

int srv_host_reload_tls(srv_host_t *h)
{
    if (!h->tls)
        return 0;
    char err[512];
    int rc = srv_tls_reload(h->tls, h->cfg->tls_cert, h->cfg->tls_key, err, sizeof(err));
    if (rc)
        log_error("event=tls_reload ok=0 error=\"%s\"", err);
    else
        log_info("event=tls_reload ok=1 cert=%s", h->cfg->tls_cert);
    return rc;
}

unsigned srv_host_sessions(srv_host_t *h)
{
    pthread_mutex_lock(&h->sessions_lock);
    unsigned n = h->n_sessions;
    pthread_mutex_unlock(&h->sessions_lock);
    return n;
}

static void srv_host_bye(struct petrel_session *s, void *arg)
{
    (void)arg;
    if (s->started && s->lst->plugin->desc->on_notify)
        s->lst->plugin->desc->on_notify(s, s->pdata, PETREL_NOTIFY_SHUTDOWN);
    /* a session waiting for a commit is closed when it has answered */
    if (s->conn && !s->pending)
        srv_conn_close(s->conn, true);
}

/* Past the grace period: close at once, whatever is pending. */
static void srv_host_kill(struct petrel_session *s, void *arg)
{
    (void)arg;
    if (s->conn)
        srv_conn_close(s->conn, false);
}

static void srv_host_gen_stop(void *arg)
{
    struct srv_host *h = arg;
    srv_timer_stop(srv_workers_loop(h->workers, 0), &h->gen_timer);
}

void srv_host_stop(srv_host_t *h, unsigned grace_ms)
{
    if (atomic_exchange(&h->stopping, 1))
        return;
    log_info("event=stopping sessions=%u", srv_host_sessions(h));
    for (size_t i = 0; i < h->n_listeners; i++)
        if (h->listeners[i].net)
            srv_listener_stop(h->listeners[i].net);
    if (h->workers) {
        srv_loop_post(srv_workers_loop(h->workers, 0), srv_host_gen_stop, h);
        pthread_mutex_lock(&h->sessions_lock);
        for (struct petrel_session *s = h->sessions; s; s = s->all_next)
            srv_session_post(s, srv_host_bye, NULL, NULL);
        pthread_mutex_unlock(&h->sessions_lock);
        /* sessions answer, flush and close; in-flight commits complete */
        for (unsigned waited = 0; srv_host_sessions(h) > 0 && waited < grace_ms; waited += 20)
            usleep(20 * 1000);
        if (srv_host_sessions(h) > 0) {
            log_warn("event=stop_grace_over sessions=%u", srv_host_sessions(h));
            pthread_mutex_lock(&h->sessions_lock);
            for (struct petrel_session *s = h->sessions; s; s = s->all_next)
                srv_session_post(s, srv_host_kill, NULL, NULL);
            pthread_mutex_unlock(&h->sessions_lock);
            for (unsigned waited = 0; srv_host_sessions(h) > 0 && waited < 2000; waited += 20)
                usleep(20 * 1000);
        }
    }
    /* finish every commit already submitted (their answers still reach the
     * loops), then the logins in flight, then the loops; the writer is freed
     * last, so a late submit meets PETREL_ECLOSED, not freed memory */
    store_writer_quiesce(h->writer);
    auth_pool_free(&h->auth_pool);
    auth_pool_free(&h->rdns_pool);
    srv_workers_stop(&h->workers);
    store_writer_stop(&h->writer);
    log_info("event=stopped");
}

void srv_host_free(srv_host_t **hp)
{
    struct srv_host *h = *hp;
    if (!h)
        return;
    if (h->workers || h->writer)
        srv_host_stop(h, 0);
    srv_host_listeners_close(h);
    auth_pool_free(&h->auth_pool);
    auth_pool_free(&h->rdns_pool);
    auth_throttle_free(&h->throttle);
    auth_cache_free(&h->auth_cache);
    free(h->dummy_hash);
    store_close(&h->store);
    srv_tls_free(&h->tls);
    pthread_mutex_destroy(&h->sessions_lock);
    pthread_mutex_destroy(&h->watch_lock);
    if (srv_the_host == h)
        srv_the_host = NULL;
    free(h);
    *hp = NULL;
}
