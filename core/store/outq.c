/*
 * outq.c - the outbound work queue (table T_OUTQ, schema.h): delivery status
 * notifications waiting for an outbound relay. Each item holds one blob
 * reference (what the report will return: the header block, or the whole
 * message for a failure with RET=FULL), taken in the transaction that
 * queues it, dropped in the one that deletes it; store_check counts it.
 * At most STORE_OUTQ_ITEMS_MAX items are queued (PETREL_ETOOBIG beyond).
 */
#include <string.h>

#include "store/store_int.h"
#include "util/str.h"

/* Fixed part (7 varints) and the seven strings with their NULs. */
#define OUTQ_REC_MAX                                                                               \
    (7 * VARINT_MAX + STORE_DSN_STATUS_MAX + STORE_DSN_ENVID_MAX + 3 * STORE_DSN_ADDR_MAX +        \
     2 * STORE_DSN_TEXT_MAX + 7)

static int outq_str_put(uint8_t *rec, size_t *off, const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max) return PETREL_EINVAL;
    memcpy(rec + *off, s, n);
    rec[*off + n] = 0;
    *off += n + 1;
    return 0;
}

static size_t outq_enc(uint8_t *rec, const store_dsn_t *d, int *rc_r)
{
    size_t off = 0;
    off += varint_put(rec + off, OUTQ_DSN);
    off += varint_put(rec + off, d->action);
    off += varint_put(rec + off, d->ret);
    off += varint_put(rec + off, zigzag_enc(d->arrival));
    off += varint_put(rec + off, d->blob_id);
    off += varint_put(rec + off, d->size);
    int rc = outq_str_put(rec, &off, d->status, STORE_DSN_STATUS_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->envid, STORE_DSN_ENVID_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->return_path, STORE_DSN_ADDR_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->orcpt, STORE_DSN_ADDR_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->rcpt, STORE_DSN_ADDR_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->reporting_mta, STORE_DSN_TEXT_MAX);
    if (!rc) rc = outq_str_put(rec, &off, d->diagnostic, STORE_DSN_TEXT_MAX);
    *rc_r = rc;
    return off;
}

/* Copies one NUL-terminated string of the record into dst (cap bytes with the NUL). */
static int outq_str_get(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    if (!nul || (size_t)(nul - *p) >= cap) return PETREL_ECORRUPT;
    memcpy(dst, *p, (size_t)(nul - *p) + 1);
    *p = nul + 1;
    return 0;
}

static int outq_dec(uint64_t id, const uint8_t *p, size_t n, store_dsn_t *d)
{
    const uint8_t *end = p + n;
    uint64_t v[6];
    memset(d, 0, sizeof(*d));
    d->id = id;
    for (int i = 0; i < 6; i++)
        if (varint_get(&p, end, &v[i])) return PETREL_ECORRUPT;
    if (v[0] != OUTQ_DSN || v[1] > STORE_DSN_FAILED || v[2] > STORE_DSN_RET_HDRS)
        return PETREL_ECORRUPT;
    d->action = (uint32_t)v[1];
    d->ret = (uint32_t)v[2];
    d->arrival = zigzag_dec(v[3]);
    d->blob_id = v[4];
    d->size = v[5];
    int rc = outq_str_get(&p, end, d->status, sizeof(d->status));
    if (!rc) rc = outq_str_get(&p, end, d->envid, sizeof(d->envid));
    if (!rc) rc = outq_str_get(&p, end, d->return_path, sizeof(d->return_path));
    if (!rc) rc = outq_str_get(&p, end, d->orcpt, sizeof(d->orcpt));
    if (!rc) rc = outq_str_get(&p, end, d->rcpt, sizeof(d->rcpt));
    if (!rc) rc = outq_str_get(&p, end, d->reporting_mta, sizeof(d->reporting_mta));
    if (!rc) rc = outq_str_get(&p, end, d->diagnostic, sizeof(d->diagnostic));
    return rc;
}

size_t store_dsn_header_len(const void *msg, size_t len)
{
    const char *m = msg;
    size_t hl = len;
    if (!m) return 0;
    if (len >= 2 && m[0] == '\r' && m[1] == '\n') return 0;
    for (size_t i = 0; i + 3 < len; i++)
        if (m[i] == '\r' && m[i + 1] == '\n' && m[i + 2] == '\r' && m[i + 3] == '\n') {
            hl = i + 2;
            break;
        }
    if (hl <= STORE_DSN_HEADERS_MAX) return hl;
    for (hl = STORE_DSN_HEADERS_MAX; hl > 0 && m[hl - 1] != '\n'; hl--)
        ;
    return hl; /* whole lines only: 0 when the first line alone is too long */
}

int store_dsn_add(store_txn_t *txn, const store_dsn_t *d, const void *msg, size_t len,
                  uint64_t *id_r)
{
    if (!txn || !d || (!msg && len) || !d->return_path[0] ||
        (d->action != STORE_DSN_DELIVERED && d->action != STORE_DSN_FAILED) ||
        d->ret > STORE_DSN_RET_HDRS)
        return PETREL_EINVAL;
    store_dsn_t c = *d;
    uint8_t hash[BLOB_HASH_LEN], key[8], rec[OUTQ_REC_MAX];
    uint64_t queued = 0;
    int rc = kv_count(txn->kv, T_OUTQ, &queued);
    if (rc) return rc;
    if (queued >= STORE_OUTQ_ITEMS_MAX) return PETREL_ETOOBIG;
    /* RFC 3461 4.3: the whole message only for a failure with RET=FULL */
    if (!(d->action == STORE_DSN_FAILED && d->ret == STORE_DSN_RET_FULL))
        len = store_dsn_header_len(msg, len);
    c.size = len;
    rc = blob_hash(msg ? msg : "", len, hash);
    if (!rc) rc = blob_put(txn, msg ? msg : "", len, hash, &c.blob_id);
    if (!rc) rc = meta_next_id(txn->kv, "next_outq", &c.id);
    if (rc) return rc;
    size_t n = outq_enc(rec, &c, &rc);
    if (rc) return rc;
    be64_put(key, c.id);
    rc = kv_put(txn->kv, T_OUTQ, KV_VAL(key, 8), KV_VAL(rec, n), KV_APPEND);
    if (!rc && id_r) *id_r = c.id;
    return rc;
}

int store_dsn_get(store_txn_t *txn, uint64_t id, store_dsn_t *d_r)
{
    uint8_t key[8];
    kv_val_t v;
    be64_put(key, id);
    int rc = kv_get(txn->kv, T_OUTQ, KV_VAL(key, 8), &v);
    if (rc) return store_kv_fail(rc, "outq_get");
    return outq_dec(id, v.data, v.len, d_r);
}

int store_dsn_list(store_txn_t *txn, store_dsn_cb cb, void *arg)
{
    kv_cursor_t *cur;
    kv_val_t k, v;
    int rc = kv_cursor_open(txn->kv, T_OUTQ, &cur);
    if (rc == PETREL_ENOTFOUND) return 0; /* an older store opened read-only */
    if (rc) return rc;
    for (rc = kv_cursor_first(cur, &k, &v); rc == 0; rc = kv_cursor_next(cur, &k, &v)) {
        store_dsn_t d;
        if (k.len != 8) {
            rc = PETREL_ECORRUPT;
            break;
        }
        rc = outq_dec(be64_get(k.data), v.data, v.len, &d);
        if (!rc) rc = cb(&d, arg);
        if (rc) break;
    }
    kv_cursor_close(&cur);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_dsn_view(store_txn_t *txn, const store_dsn_t *d, store_view_t *v_r)
{
    return blob_view(txn->kv, d->blob_id, d->size, v_r);
}

int store_dsn_del(store_txn_t *txn, uint64_t id)
{
    store_dsn_t d;
    uint8_t key[8];
    int rc = store_dsn_get(txn, id, &d);
    if (rc) return rc;
    be64_put(key, id);
    rc = kv_del(txn->kv, T_OUTQ, KV_VAL(key, 8));
    if (!rc) rc = blob_unref(txn->kv, d.blob_id);
    return rc;
}
