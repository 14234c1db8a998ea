#include "auth/throttle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/mac.h"
#include "auth/table.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define AUTH_THROTTLE_KEY_MAX 1024 /* longer keys are hashed on their first bytes */
#define AUTH_THROTTLE_LOG_MAX 64   /* bytes of an account name in a log line */

enum auth_throttle_kind { AUTH_THROTTLE_IP = 'I', AUTH_THROTTLE_ACCOUNT = 'A' };

struct auth_throttle_rec {
    uint32_t failures;
    uint64_t window_start_ms;
    uint64_t blocked_until_ms; /* 0: not blocked */
};

struct auth_throttle {
    pthread_mutex_t lock;
    struct auth_throttle_config cfg;
    struct auth_table table;
    struct auth_throttle_rec *recs; /* one per table slot */
    uint8_t secret[AUTH_MAC_LEN];
};

void auth_throttle_config_default(struct auth_throttle_config *cfg)
{
    cfg->capacity = 8192;
    cfg->free_failures = 2;
    cfg->delay_base_ms = 1000;
    cfg->delay_max_ms = 8000;
    cfg->ip_max_failures = 30;
    cfg->account_max_failures = 10;
    cfg->window_ms = 15 * 60 * 1000;
    cfg->block_ms = 15 * 60 * 1000;
}

int auth_throttle_new(const struct auth_throttle_config *cfg, struct auth_throttle **t_r)
{
    struct auth_throttle_config def;
    if (!cfg) {
        auth_throttle_config_default(&def);
        cfg = &def;
    }
    if (cfg->ip_max_failures == 0 || cfg->account_max_failures == 0 || cfg->window_ms == 0)
        return PETREL_EINVAL;
    struct auth_throttle *t = calloc(1, sizeof(*t));
    if (!t)
        return PETREL_ENOMEM;
    int rc = auth_table_init(&t->table, cfg->capacity);
    if (rc == 0)
        rc = auth_mac_secret_new(t->secret);
    if (rc == 0 && !(t->recs = calloc(cfg->capacity, sizeof(*t->recs))))
        rc = PETREL_ENOMEM;
    if (rc < 0) {
        auth_table_destroy(&t->table);
        free(t->recs);
        free(t);
        return rc;
    }
    t->cfg = *cfg;
    pthread_mutex_init(&t->lock, NULL);
    *t_r = t;
    return 0;
}

void auth_throttle_free(struct auth_throttle **tp)
{
    struct auth_throttle *t = tp ? *tp : NULL;
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    auth_table_destroy(&t->table);
    free(t->recs);
    free(t);
    *tp = NULL;
}

/*
 * Fills key with the table key of (kind, name), accounts lower-cased first.
 * Returns key, or NULL when name is absent (or on a MAC failure: not throttled then).
 */
static const uint8_t *auth_throttle_key(const struct auth_throttle *t, enum auth_throttle_kind kind,
                                        const char *name, uint8_t *key)
{
    if (!name || !*name)
        return NULL;
    char norm[AUTH_THROTTLE_KEY_MAX];
    size_t n = strnlen(name, sizeof(norm));
    memcpy(norm, name, n);
    if (kind == AUTH_THROTTLE_ACCOUNT)
        str_lower(norm, n);
    uint8_t k = (uint8_t)kind;
    struct auth_mac_part parts[] = {{&k, 1}, {norm, n}};
    return auth_mac_compute(t->secret, parts, 2, key) == 0 ? key : NULL;
}

/* A copy of s fit for a key=value log line: printable, no spaces, bounded. */
static void auth_throttle_log_safe(const char *s, char *out, size_t outsize)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsize; i++)
        out[i] = (s[i] > ' ' && s[i] < 0x7f && s[i] != '=') ? s[i] : '?';
    out[i] = '\0';
}

static uint32_t auth_throttle_max(const struct auth_throttle *t, enum auth_throttle_kind kind)
{
    return kind == AUTH_THROTTLE_IP ? t->cfg.ip_max_failures : t->cfg.account_max_failures;
}

/* Starts a record over when its block or its window has run out. */
static void auth_throttle_expire(const struct auth_throttle *t, struct auth_throttle_rec *r,
                                 uint64_t now_ms)
{
    if (r->blocked_until_ms != 0) {
        if (now_ms >= r->blocked_until_ms)
            memset(r, 0, sizeof(*r));
    } else if (r->failures > 0 && now_ms - r->window_start_ms >= t->cfg.window_ms) {
        memset(r, 0, sizeof(*r));
    }
}

static uint32_t auth_throttle_delay(const struct auth_throttle *t, uint32_t failures)
{
    if (failures <= t->cfg.free_failures)
        return 0;
    uint32_t steps = failures - t->cfg.free_failures - 1;
    uint64_t d = steps >= 32 ? UINT64_MAX : (uint64_t)t->cfg.delay_base_ms << steps;
    return d > t->cfg.delay_max_ms ? t->cfg.delay_max_ms : (uint32_t)d;
}

/* One key's verdict, under the lock: 0 and a delay, or PETREL_EAGAIN. */
static int auth_throttle_check_key(struct auth_throttle *t, enum auth_throttle_kind kind,
                                   const char *name, const uint8_t *key, uint64_t now_ms,
                                   uint32_t *delay_ms_r)
{
    *delay_ms_r = 0;
    if (!key)
        return 0;
    uint32_t slot = auth_table_find(&t->table, key);
    if (slot == AUTH_TABLE_NONE)
        return 0;
    struct auth_throttle_rec *r = &t->recs[slot];
    auth_throttle_expire(t, r, now_ms);
    if (r->blocked_until_ms != 0) {
        char safe[AUTH_THROTTLE_LOG_MAX];
        auth_throttle_log_safe(name, safe, sizeof(safe));
        log_info("event=auth_throttle_refused %s=%s failures=%u retry_in_ms=%llu",
                 kind == AUTH_THROTTLE_IP ? "ip" : "account", safe, r->failures,
                 (unsigned long long)(r->blocked_until_ms - now_ms));
        return PETREL_EAGAIN;
    }
    *delay_ms_r = auth_throttle_delay(t, r->failures);
    return 0;
}

int auth_throttle_check(struct auth_throttle *t, const char *ip, const char *account,
                        uint64_t now_ms, uint32_t *delay_ms_r)
{
    uint32_t d_ip = 0, d_acct = 0;
    uint8_t kip[AUTH_MAC_LEN], kacct[AUTH_MAC_LEN];
    const uint8_t *pip = auth_throttle_key(t, AUTH_THROTTLE_IP, ip, kip);
    const uint8_t *pacct = auth_throttle_key(t, AUTH_THROTTLE_ACCOUNT, account, kacct);
    pthread_mutex_lock(&t->lock);
    int rc = auth_throttle_check_key(t, AUTH_THROTTLE_IP, ip, pip, now_ms, &d_ip);
    if (rc == 0)
        rc = auth_throttle_check_key(t, AUTH_THROTTLE_ACCOUNT, account, pacct, now_ms, &d_acct);
    pthread_mutex_unlock(&t->lock);
    if (delay_ms_r)
        *delay_ms_r = rc < 0 ? 0 : (d_ip > d_acct ? d_ip : d_acct);
    return rc;
}

static void auth_throttle_fail_key(struct auth_throttle *t, enum auth_throttle_kind kind,
                                   const char *name, const uint8_t *key, uint64_t now_ms)
{
    if (!key)
        return;
    uint32_t slot = auth_table_find(&t->table, key);
    int evicted = 0;
    if (slot == AUTH_TABLE_NONE) {
        slot = auth_table_insert(&t->table, key, &evicted);
        memset(&t->recs[slot], 0, sizeof(t->recs[slot]));
    }
    struct auth_throttle_rec *r = &t->recs[slot];
    auth_throttle_expire(t, r, now_ms);
    if (r->blocked_until_ms != 0)
        return; /* already refused: failures while blocked do not extend the block */
    if (r->failures == 0)
        r->window_start_ms = now_ms;
    if (r->failures < UINT32_MAX)
        r->failures++;
    if (r->failures >= auth_throttle_max(t, kind)) {
        r->blocked_until_ms = now_ms + t->cfg.block_ms;
        if (r->blocked_until_ms == 0)
            r->blocked_until_ms = 1;
        char safe[AUTH_THROTTLE_LOG_MAX];
        auth_throttle_log_safe(name, safe, sizeof(safe));
        log_warn("event=auth_throttle_block %s=%s failures=%u block_ms=%u",
                 kind == AUTH_THROTTLE_IP ? "ip" : "account", safe, r->failures, t->cfg.block_ms);
    }
}

void auth_throttle_failed(struct auth_throttle *t, const char *ip, const char *account,
                          uint64_t now_ms)
{
    uint8_t kip[AUTH_MAC_LEN], kacct[AUTH_MAC_LEN];
    const uint8_t *pip = auth_throttle_key(t, AUTH_THROTTLE_IP, ip, kip);
    const uint8_t *pacct = auth_throttle_key(t, AUTH_THROTTLE_ACCOUNT, account, kacct);
    pthread_mutex_lock(&t->lock);
    auth_throttle_fail_key(t, AUTH_THROTTLE_IP, ip, pip, now_ms);
    auth_throttle_fail_key(t, AUTH_THROTTLE_ACCOUNT, account, pacct, now_ms);
    pthread_mutex_unlock(&t->lock);
}

void auth_throttle_succeeded(struct auth_throttle *t, const char *ip, const char *account,
                             uint64_t now_ms)
{
    (void)ip;
    (void)now_ms;
    uint8_t key[AUTH_MAC_LEN];
    if (!auth_throttle_key(t, AUTH_THROTTLE_ACCOUNT, account, key))
        return;
    pthread_mutex_lock(&t->lock);
    uint32_t slot = auth_table_find(&t->table, key);
    if (slot != AUTH_TABLE_NONE)
        auth_table_remove(&t->table, slot);
    pthread_mutex_unlock(&t->lock);
}

uint32_t auth_throttle_count(struct auth_throttle *t)
{
    pthread_mutex_lock(&t->lock);
    uint32_t n = t->table.count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
