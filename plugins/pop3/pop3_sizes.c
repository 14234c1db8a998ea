/*
 * pop3_sizes.c - a process-wide cache of POP3 message sizes.
 *
 * A POP3 size is of the message as sent: CRLF line ends, so a message
 * stored with bare LFs (imported from a Maildir, say) is bigger on the wire
 * than in the store, and finding out needs a pass over its bytes. STAT and
 * LIST need every size, and clients send them at every poll; without a cache
 * a 10,000-message maildrop would be read whole at each login. Messages are
 * immutable under (user, mailbox, UIDVALIDITY, UID), so an entry never goes
 * stale: an expunged message's entry is simply never asked for again.
 *
 * Direct-mapped with a short probe, POP3_SIZE_CACHE_SLOTS entries of 16
 * bytes (4 MiB, in BSS: pages are only touched when used), one mutex. A full
 * neighbourhood overwrites its first slot, so the cache never grows. Keys
 * are 64-bit hashes; a collision (about 2^-64 per pair) would report a
 * wrong size, never wrong bytes. Lost on restart: the first STAT after it
 * reads the messages once.
 * Known weakness: this belongs in the store (the size with CRLF computed at
 * append, kept in the message record); see docs/pop3.md.
 */
#include "pop3_int.h"

#include <pthread.h>

#define POP3_SIZE_CACHE_SLOTS (1u << 18)
#define POP3_SIZE_CACHE_PROBE 4

struct pop3_size_slot {
    uint64_t key; /* 0: empty */
    uint64_t size;
};

static pthread_mutex_t pop3_sizes_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pop3_size_slot pop3_sizes[POP3_SIZE_CACHE_SLOTS];

static uint64_t pop3_size_mix(uint64_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
    return h;
}

uint64_t pop3_size_key(const char *user, uint32_t mailbox_id, uint32_t uidvalidity, uint32_t uid)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)user; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h = pop3_size_mix(pop3_size_mix(pop3_size_mix(h, mailbox_id), uidvalidity), uid);
    h ^= h >> 29; /* spread the high bits into the slot index */
    return h ? h : 1;
}

int pop3_size_get(uint64_t key, uint64_t *size_r)
{
    int found = 0;
    uint32_t at = (uint32_t)key & (POP3_SIZE_CACHE_SLOTS - 1);
    pthread_mutex_lock(&pop3_sizes_mu);
    for (uint32_t i = 0; i < POP3_SIZE_CACHE_PROBE && !found; i++) {
        const struct pop3_size_slot *s = &pop3_sizes[(at + i) & (POP3_SIZE_CACHE_SLOTS - 1)];
        if (s->key == key) {
            *size_r = s->size;
            found = 1;
        }
    }
    pthread_mutex_unlock(&pop3_sizes_mu);
    return found;
}

void pop3_size_put(uint64_t key, uint64_t size)
{
    uint32_t at = (uint32_t)key & (POP3_SIZE_CACHE_SLOTS - 1);
    pthread_mutex_lock(&pop3_sizes_mu);
    struct pop3_size_slot *dst = &pop3_sizes[at];
    for (uint32_t i = 0; i < POP3_SIZE_CACHE_PROBE; i++) {
        struct pop3_size_slot *s = &pop3_sizes[(at + i) & (POP3_SIZE_CACHE_SLOTS - 1)];
        if (s->key == 0 || s->key == key) {
            dst = s;
            break;
        }
    }
    dst->key = key;
    dst->size = size;
    pthread_mutex_unlock(&pop3_sizes_mu);
}
