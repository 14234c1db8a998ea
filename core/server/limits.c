/* limits.c - total and per-address connection counts. See limits.h. */
#include "server/limits.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define LIMITS_BUCKETS 1024u

struct lim_entry {
    struct lim_entry *next;
    srv_limits_key_t key;
    unsigned count;
};

struct srv_limits {
    pthread_mutex_t mu;
    unsigned max_total, max_per_ip, total;
    struct lim_entry *bucket[LIMITS_BUCKETS];
};

int srv_limits_new(unsigned max_total, unsigned max_per_ip, srv_limits_t **lim_r)
{
    srv_limits_t *lim = calloc(1, sizeof(*lim));
    if (!lim) return PETREL_ENOMEM;
    pthread_mutex_init(&lim->mu, NULL);
    lim->max_total = max_total;
    lim->max_per_ip = max_per_ip;
    *lim_r = lim;
    return 0;
}

void srv_limits_free(srv_limits_t **limp)
{
    srv_limits_t *lim = *limp;
    if (!lim) return;
    for (unsigned i = 0; i < LIMITS_BUCKETS; i++) {
        struct lim_entry *e = lim->bucket[i];
        while (e) {
            struct lim_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&lim->mu);
    free(lim);
    *limp = NULL;
}

void srv_limits_key_from(const struct sockaddr_storage *peer, srv_limits_key_t *key_r)
{
    memset(key_r, 0, sizeof(*key_r));
    if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
        key_r->addr[10] = key_r->addr[11] = 0xff;
        memcpy(key_r->addr + 12, &s4->sin_addr, 4);
    } else if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
        memcpy(key_r->addr, &s6->sin6_addr, 16);
    }
}

static unsigned lim_hash(const srv_limits_key_t *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key->addr[i]) * 16777619u;
    return h % LIMITS_BUCKETS;
}

static struct lim_entry **lim_find(srv_limits_t *lim, const srv_limits_key_t *key)
{
    struct lim_entry **pp = &lim->bucket[lim_hash(key)];
    while (*pp && memcmp((*pp)->key.addr, key->addr, 16) != 0)
        pp = &(*pp)->next;
    return pp;
}

int srv_limits_acquire(srv_limits_t *lim, const srv_limits_key_t *key)
{
    int rc = 0;
    pthread_mutex_lock(&lim->mu);
    struct lim_entry **pp = lim_find(lim, key);
    if (lim->max_total && lim->total >= lim->max_total) {
        rc = PETREL_EAGAIN;
    } else if (*pp && lim->max_per_ip && (*pp)->count >= lim->max_per_ip) {
        rc = PETREL_EBUSY;
    } else if (!*pp && lim->max_per_ip == 0) {
        lim->total++; /* no per-address limit: no entry needed */
    } else {
        if (!*pp) {
            *pp = calloc(1, sizeof(**pp));
            if (*pp) (*pp)->key = *key;
        }
        if (*pp) {
            (*pp)->count++;
            lim->total++;
        } else {
            rc = PETREL_ENOMEM;
        }
    }
    pthread_mutex_unlock(&lim->mu);
    return rc;
}

void srv_limits_release(srv_limits_t *lim, const srv_limits_key_t *key)
{
    pthread_mutex_lock(&lim->mu);
    struct lim_entry **pp = lim_find(lim, key);
    if (*pp && --(*pp)->count == 0) {
        struct lim_entry *e = *pp;
        *pp = e->next;
        free(e);
    }
    if (lim->total > 0) lim->total--;
    pthread_mutex_unlock(&lim->mu);
}

unsigned srv_limits_total(srv_limits_t *lim)
{
    pthread_mutex_lock(&lim->mu);
    unsigned t = lim->total;
    pthread_mutex_unlock(&lim->mu);
    return t;
}

unsigned srv_limits_count(srv_limits_t *lim, const srv_limits_key_t *key)
{
    pthread_mutex_lock(&lim->mu);
    struct lim_entry **pp = lim_find(lim, key);
    unsigned c = *pp ? (*pp)->count : 0;
    pthread_mutex_unlock(&lim->mu);
    return c;
}
