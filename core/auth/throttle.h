/*
 * throttle.h - failed-login throttling per client IP and per account.
 *
 * Each failure recorded for a key (an IP, an account) grows the delay the
 * caller should wait before answering that key's next attempt:
 *   failures 1..free_failures -> 0, then delay_base_ms, doubling, at most delay_max_ms.
 * After max_failures within window_ms the key is refused (PETREL_EAGAIN) for
 * block_ms; then its record starts over. A window with no failure for
 * window_ms also starts over. A successful login clears the account's record
 * but not the IP's (an attacker with one valid account must not reset the
 * IP's count). Accounts compare ASCII case-insensitively.
 *
 * Memory is fixed at creation: `capacity` records, keyed by HMAC-SHA256 of the
 * key with a per-process secret (no IPs or accounts are kept, and clients
 * cannot aim at one hash bucket). When full, the least recently touched record
 * is evicted. Known weakness: an attacker spraying more than `capacity`
 * distinct IPs can push a blocked account's record out of the table; size it
 * above the expected number of concurrently failing keys.
 *
 * Time is passed in (now_ms, any monotonic millisecond clock) so tests are
 * deterministic. All functions are thread-safe (one mutex).
 */
#ifndef PETREL_AUTH_THROTTLE_H
#define PETREL_AUTH_THROTTLE_H

#include <stdint.h>

struct auth_throttle;

struct auth_throttle_config {
    uint32_t capacity;             /* records (IPs + accounts); default 8192 */
    uint32_t free_failures;        /* failures without a delay; default 2 */
    uint32_t delay_base_ms;        /* first non-zero delay; default 1000 */
    uint32_t delay_max_ms;         /* delay cap; default 8000 */
    uint32_t ip_max_failures;      /* failures in a window before an IP is refused; default 30 */
    uint32_t account_max_failures; /* same for an account; default 10 */
    uint32_t window_ms;            /* failure counting window; default 15 min */
    uint32_t block_ms;             /* refusal time; default 15 min */
};

void auth_throttle_config_default(struct auth_throttle_config *cfg);

/*
 * Creates a throttle; cfg NULL means the defaults. *t_r is owned by the
 * caller (auth_throttle_free). Errors: PETREL_EINVAL (capacity 0 or over
 * 16M, a zero max_failures or window), PETREL_ENOMEM, PETREL_EIO.
 */
int auth_throttle_new(const struct auth_throttle_config *cfg, struct auth_throttle **t_r);
/* Frees *t and sets it to NULL; NULL-safe. No other thread may be using it. */
void auth_throttle_free(struct auth_throttle **t);

/*
 * Before a login attempt: ip and account are NUL-terminated, either may be
 * NULL or "" (not known yet). Returns 0 with *delay_ms_r (may be NULL) set to
 * how long to wait before answering (the larger of the two keys' delays), or
 * PETREL_EAGAIN when either key is refused (logged, *delay_ms_r = 0).
 */
int auth_throttle_check(struct auth_throttle *t, const char *ip, const char *account,
                        uint64_t now_ms, uint32_t *delay_ms_r);
/* Records a failed attempt for both keys; logs when a key becomes refused. */
void auth_throttle_failed(struct auth_throttle *t, const char *ip, const char *account,
                          uint64_t now_ms);
/* Records a success: forgets the account's record (the IP's stays). */
void auth_throttle_succeeded(struct auth_throttle *t, const char *ip, const char *account,
                             uint64_t now_ms);
/* Records currently held (for tests and stats). */
uint32_t auth_throttle_count(struct auth_throttle *t);

#endif
