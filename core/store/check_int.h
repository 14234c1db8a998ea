/*
 * check_int.h - shared state of store_check (check.c: users, mailboxes,
 * usage; check_refs.c: orphans, blobs, the hash index).
 */
#ifndef PETREL_STORE_CHECK_INT_H
#define PETREL_STORE_CHECK_INT_H

#include "store/store_int.h"

typedef struct ids {
    uint64_t *v;
    size_t n, cap;
} ids_t;

typedef struct tsum {
    uint64_t id, bytes, messages;
} tsum_t;

typedef struct chk {
    store_txn_t *txn;
    kv_txn_t *kv;
    int repair;
    store_check_cb cb;
    void *arg;
    unsigned problems;
    ids_t blobs;
    tsum_t *tenants;
    size_t ntenants;
} chk_t;

__attribute__((format(printf, 2, 3))) void chk_report(chk_t *c, const char *fmt, ...);
int ids_push(ids_t *s, uint64_t v);
/* First key >= seek in table (copied into key_r, up to cap bytes); ENOTFOUND past the end. */
int chk_seek(kv_txn_t *kv, unsigned table, const void *seek, size_t slen, uint8_t *key_r,
             size_t cap, size_t *klen_r);
/* Counts keys of table that begin with prefix. */
int chk_count(kv_txn_t *kv, unsigned table, const void *prefix, size_t plen, uint64_t *n_r);
int chk_orphans(chk_t *c);
/* Adds the blob references of the outbound queue's items to c->blobs. */
int chk_outq(chk_t *c);
int chk_blobs(chk_t *c);
int chk_hash_index(chk_t *c);

#endif
