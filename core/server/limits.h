/*
 * limits.h - connection limits shared by every worker: a total and a
 * per-client-address count, behind one mutex (held for a hash lookup only).
 *
 * Per-address means the full address (IPv4, or the full IPv6 address; an
 * IPv4-mapped IPv6 address counts as its IPv4 address). Entries are freed
 * when their count drops to zero, so memory follows the live connections.
 */
#ifndef PETREL_SERVER_LIMITS_H
#define PETREL_SERVER_LIMITS_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct srv_limits srv_limits_t;

/* The address key a slot was counted under. */
typedef struct srv_limits_key {
    uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
} srv_limits_key_t;

/* max_total / max_per_ip == 0 means unlimited. 0 or PETREL_ENOMEM. */
int srv_limits_new(unsigned max_total, unsigned max_per_ip, srv_limits_t **lim_r);
/* All slots must have been released. Sets *lim to NULL. */
void srv_limits_free(srv_limits_t **lim);

void srv_limits_key_from(const struct sockaddr_storage *peer, srv_limits_key_t *key_r);

/* Takes one slot for key. 0; PETREL_EAGAIN over the total limit;
 * PETREL_EBUSY over the per-address limit; PETREL_ENOMEM. Thread-safe. */
int srv_limits_acquire(srv_limits_t *lim, const srv_limits_key_t *key);
/* Gives back a slot taken by srv_limits_acquire. Thread-safe. */
void srv_limits_release(srv_limits_t *lim, const srv_limits_key_t *key);

unsigned srv_limits_total(srv_limits_t *lim);
unsigned srv_limits_count(srv_limits_t *lim, const srv_limits_key_t *key);

#endif
