/*
 * host_int.h - what the host's files share: the session, the listener, the
 * process-wide host. Not visible to plugins (they see opaque handles).
 */
#ifndef PETREL_SERVER_HOST_INT_H
#define PETREL_SERVER_HOST_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <petrel/plugin.h>

#include "auth/cache.h"
#include "auth/password.h"
#include "auth/pool.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "server/config.h"
#include "server/conn.h"
#include "server/host.h"
#include "server/limits.h"
#include "server/loader.h"
#include "server/loop.h"
#include "server/tls.h"
#include "store/store.h"

struct srv_host;

/* The host's per-listener limits a plugin reads with config_get. */
#define SRV_LIMIT_KEYS 4
extern const char *const srv_limit_keys[SRV_LIMIT_KEYS];

/* A [listener NAME] section bound to its plugin. petrel_listener to plugins. */
struct petrel_listener {
    struct srv_host *host;
    const struct srv_listener *cfg;
    srv_plugin_t *plugin;       /* shared by listeners of the same plugin */
    void *data;                 /* the plugin's listener_open result */
    int opened;                 /* listener_open succeeded */
    srv_conn_settings_t conn_set;
    srv_limits_t *limits;       /* max_connections of this listener (+ per-ip) */
    void *net;                  /* the bound listener (server/listener.h) */
    char limit_text[SRV_LIMIT_KEYS][24]; /* config_get of the host's limits */
};

#define SRV_WATCH_BITS 10
#define SRV_WATCH_BUCKETS (1u << SRV_WATCH_BITS)

/* A post to a session's loop. Completions (writes, logins, lookups) keep one
 * inside their own object so that handing the result back cannot fail: a
 * failed post would leave the session paused until its idle timeout. */
struct petrel_session;
struct srv_post {
    srv_post_node_t node;
    struct petrel_session *s;
    void (*fn)(struct petrel_session *s, void *arg);
    void (*drop)(void *arg);
    void *arg;
    bool owned; /* malloc'd by srv_session_post */
};

/* One client connection with its plugin session. petrel_session to plugins. */
struct petrel_session {
    struct srv_host *host;
    struct petrel_listener *lst;
    srv_conn_t *conn;           /* NULL once the connection is gone */
    srv_loop_t *loop;
    void *pdata;                /* the plugin's session data */
    uint64_t id;
    atomic_int refs;            /* the connection's + one per pending completion */
    unsigned pending;           /* writes and logins in flight: input is paused */
    int started;                /* session_start returned 0 */
    int ended;                  /* session_end was called */
    /* the logged-in user */
    uint64_t user_id;
    char user[STORE_ADDRESS_MAX + 1];
    struct auth_sasl *sasl;     /* only during an AUTHENTICATE exchange */
    srv_timer_t timer;          /* the plugin's timer */
    srv_timer_t auth_delay;     /* a throttled failure is answered late */
    int auth_delayed_rc;
    /* mailbox watching (guarded by the host's watch_lock) */
    uint32_t watch_mbox;
    struct petrel_session *watch_next, *watch_prev;
    struct srv_post watch_post; /* the wake-up, queued at most once at a time */
    atomic_bool watch_queued;
    /* every session of the process (guarded by sessions_lock) */
    struct petrel_session *all_next, *all_prev;
    char peer[64];
    char peer_name[256];        /* forward-confirmed reverse DNS name, "" for none */
    /* before session_start (host_rdns.c): waiting for the name and/or the implicit TLS handshake */
    int rdns_wait, rdns_paused, tls_wait;
    srv_timer_t rdns_timer;
    /* set on the loop when nobody waits for the name any more (timeout, session gone):
     * a lookup job still queued in the pool then skips its resolver calls */
    atomic_int rdns_stale;
};

struct srv_host {
    const struct srv_config *cfg;
    struct petrel_listener *listeners;
    size_t n_listeners;
    srv_plugin_t **plugins;     /* distinct plugins */
    size_t n_plugins;
    srv_tls_t *tls;
    store_t *store;
    store_writer_t *writer;
    srv_workers_t *workers;
    srv_limits_t *ip_limits;    /* max_connections_per_ip across listeners */
    struct auth_pool *auth_pool;
    struct auth_pool *rdns_pool; /* reverse DNS lookups (host_rdns.c) */
    struct auth_throttle *throttle;
    struct auth_cache *auth_cache;
    struct auth_scrypt_params scrypt;
    char *dummy_hash;           /* verified for unknown users (equal timing) */

    pthread_mutex_t sessions_lock;
    struct petrel_session *sessions;
    unsigned n_sessions;
    atomic_int stopping;

    pthread_mutex_t watch_lock;
    /* sessions watching a mailbox, chained per bucket of their user id: a
     * commit looks only at the buckets of the users it changed */
    struct petrel_session *watchers[SRV_WATCH_BUCKETS];
    srv_timer_t gen_timer;           /* notices other processes' commits */
    uint64_t gen_seen;
    uint64_t own_seen;
};

/* session.c */
void srv_session_hold(struct petrel_session *s);
void srv_session_release(struct petrel_session *s);
/* Input pauses while anything is pending; resumes when the count drops to 0. */
void srv_session_pending_add(struct petrel_session *s);
void srv_session_pending_done(struct petrel_session *s);
/* Runs fn(s, arg) on s's loop, or drop(arg) (if set) when the session has
 * ended. `post` stays the caller's; it must live until fn/drop starts, which
 * may free it. Any thread; cannot fail. */
void srv_session_post_with(struct petrel_session *s, struct srv_post *post,
                           void (*fn)(struct petrel_session *s, void *arg), void *arg,
                           void (*drop)(void *arg));
/* The same with a malloc'd post. 0 or PETREL_ENOMEM (nothing posted). */
int srv_session_post(struct petrel_session *s, void (*fn)(struct petrel_session *s, void *arg),
                     void *arg, void (*drop)(void *arg));
extern const srv_conn_cbs_t srv_session_cbs;
void srv_session_accept(struct petrel_listener *l, srv_loop_t *loop, const srv_accept_t *a);
/* Calls the plugin's session_start (once; closes on its refusal). */
void srv_session_begin(struct petrel_session *s);

/* host_rdns.c: the client's name, looked up before session_start */
#define SRV_RDNS_TIMEOUT_MS 5000 /* the greeting waits this long at most */
#define SRV_RDNS_THREADS 4
#define SRV_RDNS_QUEUE 4096
/* 1 when the listener's plugin declares reverse_dns and the listener does not say no. */
int srv_rdns_wanted(const struct petrel_listener *l);
/* Starts the lookup (s->rdns_wait set). An error: no lookup, start the session now. */
int srv_rdns_start(struct petrel_session *s);
/* Pauses input until the lookup is over. */
void srv_rdns_pause(struct petrel_session *s);
/* The connection closed: forget the wait (a late answer is dropped). */
void srv_rdns_cancel(struct petrel_session *s);

/* host_store.c */
void srv_host_on_commit(const store_change_t *changes, size_t n, void *arg);
void srv_watch_notify_all(struct srv_host *h);

/* host_auth.c */
int srv_auth_start(struct petrel_session *s, unsigned proto, const char *user, const char *pass,
                   size_t passlen);
int srv_sasl_step(struct petrel_session *s, unsigned proto, const char *mech, const char *data,
                  size_t len, char *challenge_r, size_t cap);


/* host_store.c: the store functions of the table */
petrel_read *srv_read_begin(petrel_session *s);
void srv_read_end(petrel_read **r);
int srv_mailbox_list(petrel_read *r, petrel_mailbox_cb cb, void *arg);
int srv_mailbox_get(petrel_read *r, const char *name, struct petrel_mailbox_info *m_r);
int srv_subscription_list(petrel_read *r, petrel_name_cb cb, void *arg);
int srv_mailbox_keywords(petrel_read *r, uint32_t mailbox_id, petrel_name_cb cb, void *arg);
int srv_msg_uids(petrel_read *r, uint32_t mailbox_id, uint32_t *uids, uint32_t cap,
                 uint32_t *n_r, uint32_t *first_unseen_r);
int srv_msg_list(petrel_read *r, uint32_t mailbox_id, uint32_t lo, uint32_t hi, petrel_msg_cb cb,
                 void *arg);
int srv_msg_get(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_msg_info *m_r);
int srv_msg_view(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_view *v_r);
int srv_msg_changed_since(petrel_read *r, uint32_t mailbox_id, uint64_t modseq, petrel_msg_cb cb,
                          void *arg);
int srv_msg_vanished_since(petrel_read *r, uint32_t mailbox_id, uint64_t modseq, petrel_uid_cb cb,
                           void *arg);
int srv_quota_get(petrel_read *r, uint64_t *used_bytes_r, uint64_t *limit_bytes_r,
                  uint64_t *used_msgs_r, uint64_t *limit_msgs_r);
int srv_resolve_rcpt(petrel_read *r, const char *address, struct petrel_rcpt *rcpt_r);
petrel_write *srv_write_new(petrel_session *s);
int srv_w_mailbox_create(petrel_write *w, const char *name, uint32_t special_use);
int srv_w_mailbox_delete(petrel_write *w, const char *name);
int srv_w_mailbox_rename(petrel_write *w, const char *from, const char *to);
int srv_w_subscribe(petrel_write *w, const char *name, int on);
int srv_w_append(petrel_write *w, uint32_t mailbox_id, const void *p, size_t n, int64_t date,
                 uint32_t flags, const char *const *keywords, size_t nkw);
int srv_w_flags(petrel_write *w, uint32_t mailbox_id, uint32_t uid, int op, uint32_t flags,
                const char *const *keywords, size_t nkw, uint64_t unchangedsince);
int srv_w_copy(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst);
int srv_w_move(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst);
int srv_w_expunge(petrel_write *w, uint32_t mailbox_id, uint32_t uid);
int srv_w_clear_recent(petrel_write *w, uint32_t mailbox_id, uint32_t below_uid);
int srv_w_deliver(petrel_write *w, const void *p, size_t n, const uint64_t *users, size_t nusers,
                  const char *folder);
int srv_write_submit(petrel_write *w);
int srv_w_result(petrel_write *w, int op, unsigned sub, uint32_t *uid_r, uint64_t *modseq_r);
int srv_w_atomic(petrel_write *w);
int srv_w_dsn(petrel_write *w, const struct petrel_dsn *d);
/* The store_op_fn write_submit hands the writer for a petrel_write (arg); for tests too. */
int srv_write_op(store_txn_t *txn, void *arg);
void srv_write_free(petrel_write **w);
int srv_watch(petrel_session *s, uint32_t mailbox_id);
int srv_sender_allowed(petrel_session *s, const char *address);
int srv_domain_is_local(petrel_read *r, const char *domain);
int srv_msg_envelope(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char **p_r,
                     size_t *n_r);
int srv_msg_bodystructure(petrel_read *r, uint32_t mailbox_id, uint32_t uid, int extended,
                          const char **p_r, size_t *n_r);
int srv_msg_section(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char *spec,
                    size_t spec_len, int kind, uint64_t *off_r, uint64_t *len_r, int *encoding_r);
int srv_header_fields(petrel_read *r, const void *hdr, size_t len, const char *const *names,
                      size_t nnames, int not_, const char **p_r, size_t *n_r);
int srv_decode(petrel_read *r, int how, const void *in, size_t len, const char **p_r,
               size_t *n_r);
void srv_unwatch(petrel_session *s);


/* the table */
extern const struct petrel_host srv_host_fns;
struct srv_host *srv_host_current(void);

#endif
