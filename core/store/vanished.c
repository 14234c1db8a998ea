/*
 * vanished.c - the expunge records of QRESYNC (RFC 7162 VANISHED) and their
 * trimming.
 *
 * Each expunge leaves (user, mailbox, modseq) -> uid in T_EXPUNGE so that a
 * client coming back with an old MODSEQ learns exactly which UIDs went. Kept
 * forever they would grow without bound (one record per message ever
 * expunged), so a mailbox keeps at most `keep` of them (store_opts
 * vanished_keep): past that the oldest tenth are dropped and the mailbox's
 * floor rises to the newest dropped modseq. History is then complete only
 * for modseqs >= floor; a client asking from below gets the RFC's fallback
 * (every UID it knows of that is not there any more).
 *
 * The floor and the record count live in a sentinel entry of the same table
 * at modseq 0 (never a real modseq): value be64 floor, be32 count. A mailbox
 * of an older store without one is counted once, on its first expunge.
 */
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

#define VANISHED_TRIM_MAX 10000 /* records dropped by one expunge at most */


static uint32_t vanished_keep(const store_txn_t *txn)
{
    uint32_t keep = txn->st->opts.vanished_keep;
    return keep ? keep : STORE_VANISHED_KEEP_DEFAULT;
}

int vanished_scan(kv_txn_t *kv, uint64_t user, uint32_t mbox, vanished_stat_t *st)
{
    uint8_t k[K_UMQ];
    key_umq(k, user, mbox, 1);
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_EXPUNGE, &c);
    if (rc) return rc;
    kv_val_t key;
    memset(st, 0, sizeof(*st));
    rc = kv_cursor_seek(c, KV_VAL(k, K_UMQ), &key, NULL);
    while (rc == 0 && key.len == K_UMQ && memcmp(key.data, k, K_UM) == 0) {
        st->max = be64_get((const uint8_t *)key.data + K_UM);
        if (!st->min) st->min = st->max;
        if (st->n < UINT32_MAX) st->n++;
        rc = kv_cursor_next(c, &key, NULL);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int vanished_head_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, vanished_head_t *h,
                       int *found_r)
{
    uint8_t k[K_UMQ];
    key_umq(k, user, mbox, 0);
    kv_val_t v;
    int rc = kv_get(kv, T_EXPUNGE, KV_VAL(k, K_UMQ), &v);
    *found_r = rc == 0;
    memset(h, 0, sizeof(*h));
    if (rc == PETREL_ENOTFOUND) return 0;
    if (rc) return rc;
    if (v.len != VANISHED_SENTINEL_LEN) {
        log_error("event=store_corrupt table=expunge user=%llu mailbox=%u what=sentinel",
                  (unsigned long long)user, mbox);
        return PETREL_ECORRUPT;
    }
    h->floor = be64_get(v.data);
    h->count = be32_get((const uint8_t *)v.data + 8);
    return 0;
}

int vanished_head_save(kv_txn_t *kv, uint64_t user, uint32_t mbox, const vanished_head_t *h)
{
    uint8_t k[K_UMQ], v[VANISHED_SENTINEL_LEN];
    key_umq(k, user, mbox, 0);
    be64_put(v, h->floor);
    be32_put(v + 8, h->count);
    return kv_put(kv, T_EXPUNGE, KV_VAL(k, K_UMQ), KV_VAL(v, sizeof(v)), 0);
}

/* Drops the oldest records until `target` are left; the floor follows. */
static int vanished_trim(kv_txn_t *kv, uint64_t user, uint32_t mbox, vanished_head_t *h,
                         uint32_t target)
{
    uint8_t k[K_UMQ];
    key_umq(k, user, mbox, 1);
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_EXPUNGE, &c);
    if (rc) return rc;
    uint32_t dropped = 0;
    kv_val_t key;
    while (rc == 0 && h->count > target) {
        rc = kv_cursor_seek(c, KV_VAL(k, K_UMQ), &key, NULL);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && (key.len < K_UM || memcmp(key.data, k, K_UM) != 0))) {
            h->count = 0; /* none left: the count was high (a repaired store) */
            rc = 0;
            break;
        }
        if (rc == 0 && key.len != K_UMQ) rc = PETREL_ECORRUPT;
        if (rc) break;
        h->floor = be64_get((const uint8_t *)key.data + K_UM);
        rc = kv_cursor_del(c);
        h->count--;
        dropped++;
    }
    kv_cursor_close(&c);
    if (rc) return rc;
    log_info("event=store_vanished_trim user=%llu mailbox=%u dropped=%u floor=%llu",
             (unsigned long long)user, mbox, dropped, (unsigned long long)h->floor);
    return 0;
}

int vanished_record(store_txn_t *txn, uint64_t user, uint32_t mbox, uint64_t modseq, uint32_t uid)
{
    uint8_t k[K_UMQ], v[4];
    key_umq(k, user, mbox, modseq);
    be32_put(v, uid);
    int rc = kv_put(txn->kv, T_EXPUNGE, KV_VAL(k, K_UMQ), KV_VAL(v, 4), 0);
    vanished_head_t h;
    int found = 0;
    if (!rc) rc = vanished_head_load(txn->kv, user, mbox, &h, &found);
    if (!rc && !found) { /* a mailbox of a store written before the sentinel */
        vanished_stat_t st;
        rc = vanished_scan(txn->kv, user, mbox, &st);
        h.count = st.n;
    }
    else if (!rc && h.count < UINT32_MAX) h.count++;
    if (rc) return rc;
    uint32_t keep = vanished_keep(txn), target = keep - keep / 10;
    /* a backlog (a store from before trimming, or a lowered vanished_keep) goes a
     * slice per expunge, so no one transaction of the shared writer grows huge */
    if (h.count > keep)
        rc = vanished_trim(txn->kv, user, mbox, &h,
                           h.count - target > VANISHED_TRIM_MAX ? h.count - VANISHED_TRIM_MAX
                                                                : target);
    if (!rc) rc = vanished_head_save(txn->kv, user, mbox, &h);
    return rc;
}

int store_msg_vanished_floor(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                             uint64_t *floor_r)
{
    vanished_head_t h;
    int found;
    int rc = vanished_head_load(txn->kv, user_id, mailbox_id, &h, &found);
    *floor_r = rc ? 0 : h.floor;
    return rc ? store_kv_fail(rc, "msg_vanished_floor") : 0;
}
