/*
 * mac.h - internal to core/auth: HMAC-SHA256 over several parts, for the
 * keys of the throttle and cache tables (a per-process random secret, so
 * clients cannot predict or collide the keys, and no input is kept).
 */
#ifndef PETREL_AUTH_MAC_H
#define PETREL_AUTH_MAC_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_MAC_LEN 32

struct auth_mac_part {
    const void *p;
    size_t len;
};

/* Fills secret with AUTH_MAC_LEN random bytes: 0 or PETREL_EIO. */
int auth_mac_secret_new(uint8_t *secret);
/* out = HMAC-SHA256(secret, part[0] || part[1] || ...): 0 or PETREL_EIO. */
int auth_mac_compute(const uint8_t *secret, const struct auth_mac_part *parts, size_t nparts,
                     uint8_t *out);

#endif
