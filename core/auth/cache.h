/*
 * cache.h - a cache of successful password verifications.
 *
 * Verifying a password costs tens of milliseconds on purpose; clients that
 * log in again and again (IMAP clients open several connections, POP3 polls)
 * would make that the server's main cost. An entry records only
 *   HMAC-SHA256(secret, user || 0 || password || 0 || stored_hash)
 * with a per-process random secret: the password is never kept, and when the
 * stored hash changes (a password change, also by another process such as
 * petrelctl) the key changes and the old entry simply misses. Callers look up
 * with the hash they just read from the store, never with a remembered one.
 * Each entry also keeps HMAC(secret, user) so auth_cache_drop_user() can drop
 * a user's entries (account deleted or suspended) without knowing passwords.
 *
 * Entries expire ttl_ms after they were added (a hit does not extend them);
 * the table has a fixed capacity and evicts the least recently used entry.
 * Time is passed in (now_ms, monotonic ms). Thread-safe (one mutex).
 * Users compare exactly (callers pass the canonical stored address).
 */
#ifndef PETREL_AUTH_CACHE_H
#define PETREL_AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct auth_cache;

#define AUTH_CACHE_DEFAULT_TTL_MS (300u * 1000)
#define AUTH_CACHE_DEFAULT_CAPACITY 4096u

struct auth_cache_config {
    uint32_t capacity; /* entries, 1..16M */
    uint32_t ttl_ms;   /* > 0 */
};

void auth_cache_config_default(struct auth_cache_config *cfg);

/* cfg NULL: defaults. Errors: PETREL_EINVAL, PETREL_ENOMEM, PETREL_EIO. */
int auth_cache_new(const struct auth_cache_config *cfg, struct auth_cache **cache_r);
/* Frees *cache (wiping its secret) and sets it to NULL; NULL-safe. */
void auth_cache_free(struct auth_cache **cache);

/*
 * 0 when (user, password, stored) was added less than ttl_ms ago, else
 * PETREL_ENOTFOUND (also on an internal MAC failure). user and stored are
 * NUL-terminated; the password is [pw, pw+pwlen).
 */
int auth_cache_lookup(struct auth_cache *cache, const char *user, const char *pw, size_t pwlen,
                      const char *stored, uint64_t now_ms);
/* Records a successful verification. 0 or PETREL_EIO. */
int auth_cache_add(struct auth_cache *cache, const char *user, const char *pw, size_t pwlen,
                   const char *stored, uint64_t now_ms);
/* Drops every entry of user. Returns how many were dropped. O(capacity). */
uint32_t auth_cache_drop_user(struct auth_cache *cache, const char *user);
/* Entries currently held (expired ones included until they are found or evicted). */
uint32_t auth_cache_count(struct auth_cache *cache);

#endif
