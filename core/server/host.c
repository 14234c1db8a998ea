/*
 * host.c - the host table handed to plugins, and the host's lifecycle:
 * plugins loaded and bound to listeners, the store and its writer, the auth
 * pool, workers, accepting, graceful stop.
 *
 * There is one host per process (srv_host_current): the table's functions
 * find it through the session or the listener they are given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/password.h"
#include "server/host_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define srv_current (srv_host_current())

/* ------------------------------------------------------------ table: misc */

static const char *srv_fn_hostname(void)
{
    return srv_current && srv_current->cfg->hostname ? srv_current->cfg->hostname : "localhost";
}

static void srv_fn_log(petrel_session *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void srv_fn_log(petrel_session *s, int level, const char *fmt, ...)
{
    enum log_level l = level <= PETREL_LOG_DEBUG  ? LOG_LVL_DEBUG
                       : level == PETREL_LOG_INFO ? LOG_LVL_INFO
                       : level == PETREL_LOG_WARN ? LOG_LVL_WARN
                                                  : LOG_LVL_ERROR;
    if (l < log_get_level())
        return; /* below the threshold: not even formatted (several a message in SMTP) */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (s)
        log_write(l, "session=%llu plugin=%s %s", (unsigned long long)s->id,
                  s->lst->plugin->name, line);
    else
        log_write(l, "%s", line);
}

const char *const srv_limit_keys[SRV_LIMIT_KEYS] = {"max_message_size", "max_line_length",
                                                     "idle_timeout", "max_connections"};

static const char *srv_fn_config_get(petrel_listener *l, const char *key, const char *def)
{
    const char *v = srv_listener_setting(l->cfg, key);
    if (v)
        return v;
    /* the host's limits of this listener, as text (made once at listener set-up) */
    for (size_t i = 0; i < SRV_LIMIT_KEYS; i++)
        if (strcmp(key, srv_limit_keys[i]) == 0)
            return l->limit_text[i];
    return def;
}

static petrel_listener *srv_fn_session_listener(petrel_session *s)
{
    return s->lst;
}

static void *srv_fn_listener_data(petrel_listener *l)
{
    return l->data;
}

/* ------------------------------------------------------------ table: I/O */

static int srv_fn_write(petrel_session *s, const void *p, size_t n)
{
    return s->conn ? srv_conn_write(s->conn, p, n) : PETREL_ECLOSED;
}

static int srv_fn_writef(petrel_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int srv_fn_writef(petrel_session *s, const char *fmt, ...)
{
    if (!s->conn)
        return PETREL_ECLOSED;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return PETREL_EINVAL;
    if ((size_t)n < sizeof(small))
        return srv_conn_write(s->conn, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return PETREL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = srv_conn_write(s->conn, big, (size_t)n);
    free(big);
    return rc;
}

static int srv_fn_writable(petrel_session *s)
{
    return s->conn && srv_conn_writable(s->conn);
}

static int srv_fn_read_raw(petrel_session *s, uint64_t n)
{
    return s->conn ? srv_conn_read_raw(s->conn, n) : PETREL_ECLOSED;
}

static int srv_fn_set_max_line(petrel_session *s, size_t max)
{
    if (!s->conn)
        return PETREL_ECLOSED;
    if (max < 1)
        return PETREL_EINVAL;
    size_t cap = s->lst->cfg->limits.max_line_length;
    srv_conn_set_max_line(s->conn, max < cap ? max : cap);
    return 0;
}

static void srv_fn_pause(petrel_session *s)
{
    srv_session_pending_add(s);
}

static void srv_fn_resume(petrel_session *s)
{
    srv_session_pending_done(s);
}

static int srv_fn_starttls(petrel_session *s)
{
    if (!s->conn)
        return PETREL_ECLOSED;
    if (!srv_current->tls || s->lst->cfg->tls != SRV_TLS_STARTTLS || srv_conn_is_tls(s->conn))
        return PETREL_ENOTSUP;
    if (s->pending)
        return PETREL_EINVAL; /* a login or write is in flight */
    /* a half-done SASL exchange ends here: nothing said in plaintext carries over
     * (RFC 3207 4.2, RFC 2595 3.1) */
    if (s->sasl) {
        auth_sasl_reset(s->sasl);
        free(s->sasl);
        s->sasl = NULL;
    }
    return srv_conn_starttls(s->conn);
}

static void srv_fn_close(petrel_session *s)
{
    if (s->conn)
        srv_conn_close(s->conn, true);
}

static uint64_t srv_fn_session_id(petrel_session *s)
{
    return s->id;
}

static const char *srv_fn_peer_addr(petrel_session *s)
{
    return s->peer;
}

/* The forward-confirmed reverse DNS name found before session_start (host_rdns.c). */
static const char *srv_fn_peer_name(petrel_session *s)
{
    return s->peer_name[0] ? s->peer_name : NULL;
}

static int srv_fn_peer_is_loopback(petrel_session *s)
{
    return s->conn && srv_conn_is_loopback(s->conn);
}

static int srv_fn_tls_info(petrel_session *s, const char **version_r, const char **cipher_r)
{
    if (!s->conn || !srv_conn_is_tls(s->conn))
        return 0;
    if (version_r)
        *version_r = srv_conn_tls_version(s->conn);
    if (cipher_r)
        *cipher_r = srv_conn_tls_cipher(s->conn);
    return 1;
}

static int srv_fn_tls_available(petrel_session *s)
{
    return s->conn && srv_current->tls && s->lst->cfg->tls == SRV_TLS_STARTTLS &&
           !srv_conn_is_tls(s->conn);
}

static int srv_fn_plaintext_allowed(petrel_session *s)
{
    if (!s->conn)
        return 0;
    switch (srv_current->cfg->auth_plaintext) {
    case SRV_AUTH_PLAIN_ALWAYS: return 1;
    case SRV_AUTH_PLAIN_NEVER: return srv_conn_is_tls(s->conn);
    default: return srv_conn_is_tls(s->conn) || srv_conn_is_loopback(s->conn);
    }
}

static int srv_fn_input_pending(petrel_session *s)
{
    return s->conn && srv_conn_in_pending(s->conn) > 0;
}

static int srv_fn_timer(petrel_session *s, uint32_t ms)
{
    if (s->ended)
        return PETREL_ECLOSED;
    srv_timer_stop(s->loop, &s->timer);
    return ms ? srv_timer_start(s->loop, &s->timer, ms) : 0;
}

/* ------------------------------------------------------------ table: auth */

static int srv_fn_auth_plain(petrel_session *s, unsigned proto, const char *user,
                             const char *pass)
{
    return srv_auth_start(s, proto, user, pass, strlen(pass));
}

static const char *srv_fn_session_user(petrel_session *s)
{
    return s->user;
}

/* ------------------------------------------------------------ table: store (host_store.c) */

static void *srv_fn_lookup(const char *name);

const struct petrel_host srv_host_fns = {
    .abi_version = PETREL_ABI_VERSION,
    .struct_size = sizeof(struct petrel_host),
    .lookup = srv_fn_lookup,
    .hostname = srv_fn_hostname,
    .log = srv_fn_log,
    .config_get = srv_fn_config_get,
    .session_listener = srv_fn_session_listener,
    .listener_data = srv_fn_listener_data,
    .write = srv_fn_write,
    .writef = srv_fn_writef,
    .writable = srv_fn_writable,
    .read_raw = srv_fn_read_raw,
    .set_max_line = srv_fn_set_max_line,
    .pause = srv_fn_pause,
    .resume = srv_fn_resume,
    .starttls = srv_fn_starttls,
    .close = srv_fn_close,
    .session_id = srv_fn_session_id,
    .peer_addr = srv_fn_peer_addr,
    .peer_is_loopback = srv_fn_peer_is_loopback,
    .tls_info = srv_fn_tls_info,
    .tls_available = srv_fn_tls_available,
    .plaintext_allowed = srv_fn_plaintext_allowed,
    .timer = srv_fn_timer,
    .auth_plain = srv_fn_auth_plain,
    .sasl_step = srv_sasl_step,
    .session_user = srv_fn_session_user,
    .read_begin = srv_read_begin,
    .read_end = srv_read_end,
    .mailbox_list = srv_mailbox_list,
    .mailbox_get = srv_mailbox_get,
    .subscription_list = srv_subscription_list,
    .mailbox_keywords = srv_mailbox_keywords,
    .msg_list = srv_msg_list,
    .msg_get = srv_msg_get,
    .msg_view = srv_msg_view,
    .msg_changed_since = srv_msg_changed_since,
    .msg_vanished_since = srv_msg_vanished_since,
    .quota_get = srv_quota_get,
    .resolve_rcpt = srv_resolve_rcpt,
    .write_new = srv_write_new,
    .w_mailbox_create = srv_w_mailbox_create,
    .w_mailbox_delete = srv_w_mailbox_delete,
    .w_mailbox_rename = srv_w_mailbox_rename,
    .w_subscribe = srv_w_subscribe,
    .w_append = srv_w_append,
    .w_flags = srv_w_flags,
    .w_copy = srv_w_copy,
    .w_move = srv_w_move,
    .w_expunge = srv_w_expunge,
    .w_clear_recent = srv_w_clear_recent,
    .w_deliver = srv_w_deliver,
    .write_submit = srv_write_submit,
    .w_result = srv_w_result,
    .write_free = srv_write_free,
    .watch = srv_watch,
    .unwatch = srv_unwatch,
    .sender_allowed = srv_sender_allowed,
    .msg_envelope = srv_msg_envelope,
    .msg_bodystructure = srv_msg_bodystructure,
    .msg_section = srv_msg_section,
    .header_fields = srv_header_fields,
    .decode = srv_decode,
    .domain_is_local = srv_domain_is_local,
    .input_pending = srv_fn_input_pending,
    .w_atomic = srv_w_atomic,
    .w_dsn = srv_w_dsn,
    .peer_name = srv_fn_peer_name,
    .msg_uids = srv_msg_uids,
};

const struct petrel_host *srv_host_table(void)
{
    return &srv_host_fns;
}

/* Every host function by its field name (plugins probe for newer ones). */
#define SRV_FN(f) {#f, offsetof(struct petrel_host, f)}
static const struct {
    const char *name;
    size_t off;
} srv_fn_names[] = {
    SRV_FN(lookup),         SRV_FN(hostname),          SRV_FN(log),
    SRV_FN(config_get),     SRV_FN(session_listener),  SRV_FN(listener_data),
    SRV_FN(write),          SRV_FN(writef),            SRV_FN(writable),
    SRV_FN(read_raw),       SRV_FN(set_max_line),      SRV_FN(pause),
    SRV_FN(resume),         SRV_FN(starttls),          SRV_FN(close),
    SRV_FN(session_id),     SRV_FN(peer_addr),         SRV_FN(peer_is_loopback),
    SRV_FN(tls_info),       SRV_FN(tls_available),     SRV_FN(plaintext_allowed),
    SRV_FN(timer),          SRV_FN(auth_plain),        SRV_FN(sasl_step),
    SRV_FN(session_user),   SRV_FN(read_begin),        SRV_FN(read_end),
    SRV_FN(mailbox_list),   SRV_FN(mailbox_get),       SRV_FN(subscription_list),
    SRV_FN(mailbox_keywords), SRV_FN(msg_list),        SRV_FN(msg_get),
    SRV_FN(msg_view),       SRV_FN(msg_changed_since), SRV_FN(msg_vanished_since),
    SRV_FN(quota_get),      SRV_FN(resolve_rcpt),      SRV_FN(write_new),
    SRV_FN(w_mailbox_create), SRV_FN(w_mailbox_delete), SRV_FN(w_mailbox_rename),
    SRV_FN(w_subscribe),    SRV_FN(w_append),          SRV_FN(w_flags),
    SRV_FN(w_copy),         SRV_FN(w_move),            SRV_FN(w_expunge),
    SRV_FN(w_clear_recent), SRV_FN(w_deliver),         SRV_FN(write_submit),
    SRV_FN(w_result),       SRV_FN(write_free),        SRV_FN(watch),
    SRV_FN(unwatch),        SRV_FN(sender_allowed),    SRV_FN(msg_envelope),
    SRV_FN(msg_bodystructure), SRV_FN(msg_section),    SRV_FN(header_fields),
    SRV_FN(decode),         SRV_FN(domain_is_local),   SRV_FN(input_pending),
    SRV_FN(w_atomic),       SRV_FN(w_dsn),             SRV_FN(peer_name),
    SRV_FN(msg_uids),
};

static void *srv_fn_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof(srv_fn_names) / sizeof(srv_fn_names[0]); i++) {
        if (strcmp(srv_fn_names[i].name, name) == 0) {
            void *fn;
            memcpy(&fn, (const char *)&srv_host_fns + srv_fn_names[i].off, sizeof(fn));
            return fn;
        }
    }
    return NULL;
}
