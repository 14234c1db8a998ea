/*
 * host_auth.c - logins for plugins: plaintext user+password and SASL.
 *
 * The checks (user exists and is active, tenant active, the protocol enabled
 * for the tenant, password) run on the auth pool, off the event loops,
 * because password hashing is slow on purpose. A successful verification is
 * cached (auth/cache.h) so reconnecting clients skip the hash. Failures feed
 * the throttle (per IP and per account) and are answered after its delay.
 * The answer reaches the plugin on the session's own loop (on_auth_done).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/password.h"
#include "server/host_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

struct srv_login {
    struct petrel_session *s;
    unsigned proto;
    char user[STORE_ADDRESS_MAX + 1];
    char pass[AUTH_PASSWORD_MAX + 1];
    size_t passlen;
    char peer[64];
    /* results */
    int rc;
    uint64_t user_id;
    char address[STORE_ADDRESS_MAX + 1]; /* canonical */
    char *new_hash;                      /* re-hashed to scrypt, to store */
    int64_t last_login;                  /* as stored before this login */
    struct srv_post done;                /* hands the result to the session's loop */
};

static void srv_login_free(struct srv_login *l)
{
    OPENSSL_cleanse(l->pass, sizeof(l->pass));
    free(l->new_hash);
    free(l);
}

static uint64_t srv_now_ms(void)
{
    return srv_clock_ms();
}

/* Runs on a pool thread. */
static void srv_login_job(void *arg)
{
    struct srv_login *l = arg;
    struct srv_host *h = l->s->host;
    /* checked when it was queued, but a burst of attempts all queue before the
     * first of them fails: ask again before the costly part, so a refused key
     * stops costing password hashes once its limit is reached */
    if (auth_throttle_check(h->throttle, l->peer, l->user, srv_now_ms(), NULL) == PETREL_EAGAIN) {
        l->rc = PETREL_EAGAIN;
        return;
    }
    char stored[STORE_HASH_MAX + 1] = "";
    store_user_t u;
    store_tenant_t t;
    store_txn_t *txn = NULL;
    int rc = store_read_begin(h->store, &txn);
    int known = 0;
    if (rc == 0) {
        rc = store_user_get(txn, l->user, &u);
        if (rc == 0)
            rc = store_tenant_get_by_id(txn, u.tenant_id, &t);
        known = rc == 0; /* a user without its tenant cannot log in */
        store_txn_abort(&txn);
    }
    if (rc && rc != PETREL_ENOTFOUND && rc != PETREL_EINVAL) {
        l->rc = PETREL_EAGAIN; /* a store error: temporary */
        log_error("event=login_store_error user=%s error=\"%s\"", l->user, petrel_strerror(rc));
        return;
    }
    if (!known || !u.pwhash[0]) {
        /* verify anyway, so the answer takes as long as for a known user */
        auth_password_verify(l->pass, l->passlen, h->dummy_hash, NULL);
        l->rc = PETREL_EPERM;
        return;
    }
    memcpy(stored, u.pwhash, sizeof(stored));
    uint64_t now = srv_now_ms();
    int ok;
    int rehash = 0;
    if (h->auth_cache &&
        auth_cache_lookup(h->auth_cache, u.address, l->pass, l->passlen, stored, now) == 0) {
        ok = 1;
    } else {
        int vrc = auth_password_verify_with(l->pass, l->passlen, stored, &h->scrypt, &rehash);
        if (vrc && vrc != PETREL_EPERM)
            log_warn("event=login_hash_error user=%s error=\"%s\"", u.address,
                     petrel_strerror(vrc));
        ok = vrc == 0;
        if (ok && h->auth_cache)
            auth_cache_add(h->auth_cache, u.address, l->pass, l->passlen, stored, now);
    }
    if (!ok) {
        l->rc = PETREL_EPERM;
        return;
    }
    /* the password is right: now what the account may do */
    if (u.status != STORE_ACTIVE || t.status != STORE_ACTIVE)
        l->rc = PETREL_EPERM;
    else if (l->proto && !(t.protocols & l->proto))
        l->rc = PETREL_ENOTSUP;
    else
        l->rc = 0;
    l->user_id = u.id;
    l->last_login = u.last_login;
    memcpy(l->address, u.address, sizeof(l->address));
    if (l->rc == 0 && rehash &&
        auth_password_hash(l->pass, l->passlen, &h->scrypt, &l->new_hash) != 0)
        l->new_hash = NULL;
}

/* Stores last_login (at most once a minute) and a re-hashed password. */
#define SRV_LAST_LOGIN_SECS 60
struct srv_login_update {
    uint64_t user_id;
    int64_t now;
    char *new_hash;
};

static int srv_login_update_op(store_txn_t *txn, void *arg)
{
    struct srv_login_update *up = arg;
    store_user_t u;
    int rc = store_user_get_by_id(txn, up->user_id, &u);
    if (rc)
        return rc;
    u.last_login = up->now;
    if (up->new_hash && strlen(up->new_hash) <= STORE_HASH_MAX)
        memcpy(u.pwhash, up->new_hash, strlen(up->new_hash) + 1);
    return store_user_update(txn, &u);
}

static void srv_login_update_done(int rc, void *arg)
{
    struct srv_login_update *up = arg;
    if (rc)
        log_warn("event=login_update_failed user_id=%llu error=\"%s\"",
                 (unsigned long long)up->user_id, petrel_strerror(rc));
    else if (up->new_hash)
        log_info("event=password_rehashed user_id=%llu scheme=scrypt",
                 (unsigned long long)up->user_id);
    free(up->new_hash);
    free(up);
}

static void srv_login_answer(struct petrel_session *s, int rc)
{
    if (s->lst->plugin->desc->on_auth_done)
        s->lst->plugin->desc->on_auth_done(s, s->pdata, rc);
    srv_session_pending_done(s);
}

static void srv_login_delayed(srv_loop_t *loop, void *arg)
{
    (void)loop;
    struct petrel_session *s = arg;
    if (!s->ended)
        srv_login_answer(s, s->auth_delayed_rc);
    srv_session_release(s);
}

/* On the session's loop: record the outcome and answer the plugin. */
static void srv_login_finish(struct petrel_session *s, void *arg)
{
    struct srv_login *l = arg;
    struct srv_host *h = s->host;
    uint64_t now = srv_now_ms();
    if (l->rc == 0) {
        auth_throttle_succeeded(h->throttle, l->peer, l->user, now);
        s->user_id = l->user_id;
        memcpy(s->user, l->address, sizeof(s->user));
        log_info("event=login session=%llu user=%s ok=1", (unsigned long long)s->id, s->user);
        /* a write per login would cost a commit per reconnect: last_login is
         * kept to the minute (it wakes no watcher: store_user_update) */
        int64_t now_s = (int64_t)time(NULL);
        int stale = now_s - l->last_login >= SRV_LAST_LOGIN_SECS || now_s < l->last_login;
        struct srv_login_update *up =
            (stale || l->new_hash) ? calloc(1, sizeof(*up)) : NULL;
        if (up) {
            up->user_id = l->user_id;
            up->now = now_s;
            up->new_hash = l->new_hash;
            l->new_hash = NULL;
            if (!h->writer ||
                store_writer_submit(h->writer, srv_login_update_op, srv_login_update_done, up))
                srv_login_update_done(PETREL_EAGAIN, up);
        }
        srv_login_answer(s, 0);
        srv_login_free(l);
        return;
    }
    log_info("event=login session=%llu user=%s ok=0 error=\"%s\"", (unsigned long long)s->id,
             l->user, petrel_strerror(l->rc));
    uint32_t delay = 0;
    if (l->rc == PETREL_EPERM &&
        auth_throttle_check(h->throttle, l->peer, l->user, now, &delay) == PETREL_EAGAIN)
        delay = 0; /* refused from now on; answer this one at once */
    int rc = l->rc;
    srv_login_free(l);
    if (delay > 0) {
        s->auth_delayed_rc = rc;
        srv_session_hold(s);
        srv_timer_init(&s->auth_delay, srv_login_delayed, s);
        if (srv_timer_start(s->loop, &s->auth_delay, delay) == 0)
            return;
        srv_session_release(s);
    }
    srv_login_answer(s, rc);
}

static void srv_login_drop(void *arg)
{
    srv_login_free(arg);
}

/* Runs on the pool thread after the job (or on cancel): hand over to the loop. */
static void srv_login_done(void *arg, int status)
{
    struct srv_login *l = arg;
    struct petrel_session *s = l->s;
    if (status)
        l->rc = PETREL_EAGAIN;
    /* counted here, not on the loop: a client that hangs up before the
     * answer still pays for the failure */
    if (l->rc == PETREL_EPERM)
        auth_throttle_failed(s->host->throttle, l->peer, l->user, srv_now_ms());
    srv_session_post_with(s, &l->done, srv_login_finish, l, srv_login_drop);
    srv_session_release(s);  /* the job's reference */
}

int srv_auth_start(struct petrel_session *s, unsigned proto, const char *user, const char *pass,
                   size_t passlen)
{
    struct srv_host *h = s->host;
    if (s->user[0] || s->pending)
        return PETREL_EINVAL;
    if (!srv_host_fns.plaintext_allowed(s))
        return PETREL_ENEEDTLS;
    size_t ulen = strlen(user);
    if (ulen == 0 || ulen > STORE_ADDRESS_MAX || passlen > AUTH_PASSWORD_MAX)
        return PETREL_EPERM;
    uint32_t delay = 0;
    if (auth_throttle_check(h->throttle, s->peer, user, srv_now_ms(), &delay) == PETREL_EAGAIN)
        return PETREL_EAGAIN;
    struct srv_login *l = calloc(1, sizeof(*l));
    if (!l)
        return PETREL_ENOMEM;
    l->s = s;
    l->proto = proto;
    memcpy(l->user, user, ulen + 1);
    memcpy(l->pass, pass, passlen);
    l->passlen = passlen;
    memcpy(l->peer, s->peer, sizeof(l->peer));
    srv_session_hold(s);
    srv_session_pending_add(s);
    int rc = auth_pool_submit(h->auth_pool, srv_login_job, srv_login_done, l);
    if (rc) {
        srv_session_pending_done(s);
        srv_session_release(s);
        srv_login_free(l);
        log_warn("event=login_queue_full session=%llu", (unsigned long long)s->id);
        return PETREL_EAGAIN;
    }
    return PETREL_EPENDING;
}

int srv_sasl_step(struct petrel_session *s, unsigned proto, const char *mech, const char *data,
                  size_t len, char *challenge_r, size_t cap)
{
    const char *ch = NULL;
    int rc;
    if (mech) {
        if (!s->sasl && !(s->sasl = malloc(sizeof(*s->sasl))))
            return PETREL_ENOMEM;
        auth_sasl_init(s->sasl);
        rc = auth_sasl_start(s->sasl, mech, data, data ? len : 0, &ch);
    } else {
        if (!s->sasl)
            return PETREL_EINVAL;
        rc = auth_sasl_step(s->sasl, data, len, &ch);
    }
    if (rc == AUTH_SASL_NEED_MORE) {
        if (strlen(ch) + 1 > cap) {
            auth_sasl_reset(s->sasl);
            return PETREL_ETOOBIG;
        }
        memcpy(challenge_r, ch, strlen(ch) + 1);
        return 1;
    }
    if (rc == AUTH_SASL_DONE) {
        struct auth_sasl *a = s->sasl;
        /* no proxy authorization: an authzid must name the same account */
        if (a->authzid_len && str_casecmp(a->authzid, a->authcid) != 0)
            rc = PETREL_EPERM;
        else
            rc = srv_auth_start(s, proto, a->authcid, a->password, a->password_len);
    }
    auth_sasl_reset(s->sasl);
    free(s->sasl);
    s->sasl = NULL;
    return rc;
}
