/*
 * table.h - internal to core/auth: a fixed-capacity hash index with LRU order.
 *
 * Keys are AUTH_TABLE_KEY_LEN-byte digests (keyed HMACs made by the caller,
 * so a client cannot aim keys at one bucket). The table never grows: when it is
 * full, inserting evicts the least recently used slot. It stores only keys and
 * the order; callers keep their per-slot values in their own array indexed by
 * the slot number. Not thread-safe: callers hold their own mutex.
 */
#ifndef PETREL_AUTH_TABLE_H
#define PETREL_AUTH_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TABLE_KEY_LEN 32
#define AUTH_TABLE_MAX_CAPACITY (1u << 24)
#define AUTH_TABLE_NONE UINT32_MAX

struct auth_table_slot {
    uint8_t key[AUTH_TABLE_KEY_LEN];
    uint32_t hnext; /* next slot in the bucket chain */
    uint32_t prev;  /* LRU list: towards the most recently used */
    uint32_t next;  /* LRU list: towards the least recently used (or the free list) */
    uint8_t used;
};

struct auth_table {
    struct auth_table_slot *slots; /* owned, capacity entries */
    uint32_t *buckets;             /* owned, nbuckets heads */
    uint32_t capacity;
    uint32_t nbuckets; /* a power of two */
    uint32_t count;
    uint32_t head, tail; /* most / least recently used */
    uint32_t free_head;
};

/* 0, PETREL_EINVAL (capacity 0 or above the maximum), PETREL_ENOMEM. */
int auth_table_init(struct auth_table *t, uint32_t capacity);
void auth_table_destroy(struct auth_table *t);

/* The slot holding key (and marks it most recently used), or AUTH_TABLE_NONE. */
uint32_t auth_table_find(struct auth_table *t, const uint8_t *key);
/*
 * Inserts key (which must not be present) and returns its slot. When the
 * table is full the least recently used slot is reused: *evicted_r is set to 1
 * and the caller must treat that slot's old value as gone.
 */
uint32_t auth_table_insert(struct auth_table *t, const uint8_t *key, int *evicted_r);
void auth_table_remove(struct auth_table *t, uint32_t slot);

#endif
