#include "auth/table.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/str.h"

int auth_table_init(struct auth_table *t, uint32_t capacity)
{
    memset(t, 0, sizeof(*t));
    if (capacity == 0 || capacity > AUTH_TABLE_MAX_CAPACITY)
        return PETREL_EINVAL;
    uint32_t nb = 1;
    while (nb < capacity)
        nb <<= 1;
    t->slots = calloc(capacity, sizeof(*t->slots));
    t->buckets = malloc((size_t)nb * sizeof(*t->buckets));
    if (!t->slots || !t->buckets) {
        auth_table_destroy(t);
        return PETREL_ENOMEM;
    }
    for (uint32_t i = 0; i < nb; i++)
        t->buckets[i] = AUTH_TABLE_NONE;
    for (uint32_t i = 0; i < capacity; i++)
        t->slots[i].next = i + 1 < capacity ? i + 1 : AUTH_TABLE_NONE;
    t->capacity = capacity;
    t->nbuckets = nb;
    t->head = t->tail = AUTH_TABLE_NONE;
    t->free_head = 0;
    return 0;
}

void auth_table_destroy(struct auth_table *t)
{
    free(t->slots);
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static uint32_t auth_table_bucket(const struct auth_table *t, const uint8_t *key)
{
    return be32_get(key) & (t->nbuckets - 1);
}

static void auth_table_lru_unlink(struct auth_table *t, uint32_t i)
{
    struct auth_table_slot *s = &t->slots[i];
    if (s->prev != AUTH_TABLE_NONE)
        t->slots[s->prev].next = s->next;
    else
        t->head = s->next;
    if (s->next != AUTH_TABLE_NONE)
        t->slots[s->next].prev = s->prev;
    else
        t->tail = s->prev;
}

static void auth_table_lru_push(struct auth_table *t, uint32_t i)
{
    struct auth_table_slot *s = &t->slots[i];
    s->prev = AUTH_TABLE_NONE;
    s->next = t->head;
    if (t->head != AUTH_TABLE_NONE)
        t->slots[t->head].prev = i;
    t->head = i;
    if (t->tail == AUTH_TABLE_NONE)
        t->tail = i;
}

uint32_t auth_table_find(struct auth_table *t, const uint8_t *key)
{
    for (uint32_t i = t->buckets[auth_table_bucket(t, key)]; i != AUTH_TABLE_NONE;
         i = t->slots[i].hnext) {
        if (memcmp(t->slots[i].key, key, AUTH_TABLE_KEY_LEN) == 0) {
            auth_table_lru_unlink(t, i);
            auth_table_lru_push(t, i);
            return i;
        }
    }
    return AUTH_TABLE_NONE;
}

static void auth_table_chain_unlink(struct auth_table *t, uint32_t slot)
{
    uint32_t *pp = &t->buckets[auth_table_bucket(t, t->slots[slot].key)];
    while (*pp != AUTH_TABLE_NONE && *pp != slot)
        pp = &t->slots[*pp].hnext;
    if (*pp == slot)
        *pp = t->slots[slot].hnext;
}

void auth_table_remove(struct auth_table *t, uint32_t slot)
{
    if (slot >= t->capacity || !t->slots[slot].used)
        return;
    auth_table_chain_unlink(t, slot);
    auth_table_lru_unlink(t, slot);
    memset(&t->slots[slot], 0, sizeof(t->slots[slot]));
    t->slots[slot].next = t->free_head;
    t->free_head = slot;
    t->count--;
}

uint32_t auth_table_insert(struct auth_table *t, const uint8_t *key, int *evicted_r)
{
    *evicted_r = 0;
    if (t->free_head == AUTH_TABLE_NONE) {
        auth_table_remove(t, t->tail);
        *evicted_r = 1;
    }
    uint32_t i = t->free_head;
    struct auth_table_slot *s = &t->slots[i];
    t->free_head = s->next;
    memcpy(s->key, key, AUTH_TABLE_KEY_LEN);
    s->used = 1;
    uint32_t b = auth_table_bucket(t, key);
    s->hnext = t->buckets[b];
    t->buckets[b] = i;
    auth_table_lru_push(t, i);
    t->count++;
    return i;
}
