#include "auth/cache.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/mac.h"
#include "auth/table.h"
#include "util/err.h"

struct auth_cache_entry {
    uint8_t user_mac[AUTH_MAC_LEN];
    uint64_t expires_ms;
};

struct auth_cache {
    pthread_mutex_t lock;
    struct auth_cache_config cfg;
    struct auth_table table;
    struct auth_cache_entry *entries; /* one per table slot */
    uint8_t secret[AUTH_MAC_LEN];
};

static const uint8_t auth_cache_zero = 0;
static const uint8_t auth_cache_tag_entry = 'E';
static const uint8_t auth_cache_tag_user = 'U';

void auth_cache_config_default(struct auth_cache_config *cfg)
{
    cfg->capacity = AUTH_CACHE_DEFAULT_CAPACITY;
    cfg->ttl_ms = AUTH_CACHE_DEFAULT_TTL_MS;
}

int auth_cache_new(const struct auth_cache_config *cfg, struct auth_cache **cache_r)
{
    struct auth_cache_config def;
    if (!cfg) {
        auth_cache_config_default(&def);
        cfg = &def;
    }
    if (cfg->ttl_ms == 0)
        return PETREL_EINVAL;
    struct auth_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return PETREL_ENOMEM;
    int rc = auth_table_init(&c->table, cfg->capacity);
    if (rc == 0)
        rc = auth_mac_secret_new(c->secret);
    if (rc == 0 && !(c->entries = calloc(cfg->capacity, sizeof(*c->entries))))
        rc = PETREL_ENOMEM;
    if (rc < 0) {
        auth_table_destroy(&c->table);
        free(c->entries);
        free(c);
        return rc;
    }
    c->cfg = *cfg;
    pthread_mutex_init(&c->lock, NULL);
    *cache_r = c;
    return 0;
}

void auth_cache_free(struct auth_cache **cachep)
{
    struct auth_cache *c = cachep ? *cachep : NULL;
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    auth_table_destroy(&c->table);
    free(c->entries);
    OPENSSL_cleanse(c->secret, sizeof(c->secret));
    free(c);
    *cachep = NULL;
}

static int auth_cache_entry_key(const struct auth_cache *c, const char *user, const char *pw,
                                size_t pwlen, const char *stored, uint8_t *key)
{
    struct auth_mac_part parts[] = {
        {&auth_cache_tag_entry, 1}, {user, strlen(user)},     {&auth_cache_zero, 1}, {pw, pwlen},
        {&auth_cache_zero, 1},      {stored, strlen(stored)},
    };
    return auth_mac_compute(c->secret, parts, sizeof(parts) / sizeof(parts[0]), key);
}

static int auth_cache_user_key(const struct auth_cache *c, const char *user, uint8_t *key)
{
    struct auth_mac_part parts[] = {{&auth_cache_tag_user, 1}, {user, strlen(user)}};
    return auth_mac_compute(c->secret, parts, 2, key);
}

int auth_cache_lookup(struct auth_cache *c, const char *user, const char *pw, size_t pwlen,
                      const char *stored, uint64_t now_ms)
{
    uint8_t key[AUTH_MAC_LEN];
    if (auth_cache_entry_key(c, user, pw, pwlen, stored, key) < 0)
        return PETREL_ENOTFOUND;
    int rc = PETREL_ENOTFOUND;
    pthread_mutex_lock(&c->lock);
    uint32_t slot = auth_table_find(&c->table, key);
    if (slot != AUTH_TABLE_NONE) {
        if (now_ms < c->entries[slot].expires_ms)
            rc = 0;
        else
            auth_table_remove(&c->table, slot);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int auth_cache_add(struct auth_cache *c, const char *user, const char *pw, size_t pwlen,
                   const char *stored, uint64_t now_ms)
{
    uint8_t key[AUTH_MAC_LEN], ukey[AUTH_MAC_LEN];
    if (auth_cache_entry_key(c, user, pw, pwlen, stored, key) < 0 ||
        auth_cache_user_key(c, user, ukey) < 0)
        return PETREL_EIO;
    pthread_mutex_lock(&c->lock);
    uint32_t slot = auth_table_find(&c->table, key);
    if (slot == AUTH_TABLE_NONE) {
        int evicted;
        slot = auth_table_insert(&c->table, key, &evicted);
    }
    memcpy(c->entries[slot].user_mac, ukey, sizeof(ukey));
    c->entries[slot].expires_ms = now_ms + c->cfg.ttl_ms;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

uint32_t auth_cache_drop_user(struct auth_cache *c, const char *user)
{
    uint8_t ukey[AUTH_MAC_LEN];
    if (auth_cache_user_key(c, user, ukey) < 0)
        return 0;
    uint32_t dropped = 0;
    pthread_mutex_lock(&c->lock);
    for (uint32_t i = 0; i < c->table.capacity; i++) {
        if (c->table.slots[i].used && memcmp(c->entries[i].user_mac, ukey, sizeof(ukey)) == 0) {
            auth_table_remove(&c->table, i);
            dropped++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return dropped;
}

uint32_t auth_cache_count(struct auth_cache *c)
{
    pthread_mutex_lock(&c->lock);
    uint32_t n = c->table.count;
    pthread_mutex_unlock(&c->lock);
    return n;
}
