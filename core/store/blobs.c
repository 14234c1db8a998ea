/*
 * blobs.c - content-addressed, refcounted message bytes (layout: schema.h).
 *
 * One copy per distinct content: blob_put hashes (SHA-256, 16 bytes kept),
 * looks the hash up and compares the bytes of every candidate before sharing,
 * so a hash collision can never hand out the wrong message; otherwise it
 * stores a new blob under the next sequential id (KV_APPEND: pages fill
 * completely). The last unref frees the bytes, the cache and the index entry.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/str.h"

#define BLOB_CACHE_MAX (4u << 20)

/*
 * SHA-256 fetched once for the process: EVP_sha256() makes every digest look
 * the provider's implementation up again (a locked property query, about 5k
 * instructions per delivered message). Never freed: it lives as long as the
 * process. NULL if the fetch failed; then EVP_sha256() is used.
 */
static EVP_MD *blob_sha256;
static pthread_once_t blob_sha256_once = PTHREAD_ONCE_INIT;

static void blob_sha256_fetch(void)
{
    blob_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *blob_sha256_md(void)
{
    pthread_once(&blob_sha256_once, blob_sha256_fetch);
    return blob_sha256 ? blob_sha256 : EVP_sha256();
}

static int blob_hash_segs(const store_view_t *v, uint8_t hash[BLOB_HASH_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, blob_sha256_md(), NULL);
    for (unsigned i = 0; ok && i < v->nseg; i++)
        ok = EVP_DigestUpdate(ctx, v->seg[i].p, v->seg[i].n);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= BLOB_HASH_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        log_error("event=blob_hash error=\"EVP digest failed\"");
        return PETREL_EIO;
    }
    memcpy(hash, md, BLOB_HASH_LEN);
    return 0;
}

int blob_hash_stored(kv_txn_t *kv, uint64_t blob_id, uint64_t size, uint8_t hash[BLOB_HASH_LEN])
{
    store_view_t v;
    int rc = blob_view(kv, blob_id, size, &v);
    return rc ? rc : blob_hash_segs(&v, hash);
}

int blob_hash(const void *data, size_t len, uint8_t hash[BLOB_HASH_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, blob_sha256_md(), NULL) || mdlen < BLOB_HASH_LEN) {
        log_error("event=blob_hash error=\"EVP_Digest failed\"");
        return PETREL_EIO;
    }
    memcpy(hash, md, BLOB_HASH_LEN);
    return 0;
}

int blob_load(kv_txn_t *kv, uint64_t blob_id, blob_rec_t *r)
{
    uint8_t k[8];
    be64_put(k, blob_id);
    kv_val_t v;
    int rc = kv_get(kv, T_BLOB, KV_VAL(k, 8), &v);
    if (rc) return store_kv_fail(rc, "blob_load");
    const uint8_t *p = v.data, *end = p + v.len;
    rc = varint_get(&p, end, &r->refcount);
    if (!rc) rc = varint_get(&p, end, &r->size);
    if (rc || (size_t)(end - p) > r->size) {
        log_error("event=store_corrupt table=blob blob=%llu", (unsigned long long)blob_id);
        return PETREL_ECORRUPT;
    }
    r->rest = p;
    r->rest_len = (size_t)(end - r->rest);
    return 0;
}

int blob_save(kv_txn_t *kv, uint64_t blob_id, const blob_rec_t *r, unsigned flags)
{
    uint8_t k[8];
    be64_put(k, blob_id);
    if (r->rest_len > 4096 - BLOB_REC_HDR_MAX) /* far above rest_max: a caller bug */
        return PETREL_EINVAL;
    uint8_t v[4096];
    size_t n = varint_put(v, r->refcount);
    n += varint_put(v + n, r->size);
    if (r->rest_len) memmove(v + n, r->rest, r->rest_len); /* rest may point into the old record */
    return kv_put(kv, T_BLOB, KV_VAL(k, 8), KV_VAL(v, n + r->rest_len), flags);
}

static int view_add(store_view_t *v, const void *p, size_t n)
{
    if (n == 0) return 0;
    if (v->nseg == STORE_VIEW_SEGS)
        return PETREL_ECORRUPT; /* the layout never needs more (schema.h) */
    v->seg[v->nseg].p = p;
    v->seg[v->nseg].n = n;
    v->nseg++;
    v->len += n;
    return 0;
}

/* The overflow run (if any) and the full pieces, in order. */
static int blob_view_pieces(kv_txn_t *kv, uint64_t blob_id, store_view_t *v)
{
    uint8_t k[K_BLOBPIECE];
    be64_put(k, blob_id);
    kv_val_t val;
    int rc = kv_get(kv, T_BLOBDATA, KV_VAL(k, 8), &val);
    if (rc == 0)
        rc = view_add(v, val.data, val.len);
    else if (rc == PETREL_ENOTFOUND)
        rc = 0;
    if (rc) return rc;
    for (uint8_t piece = 1; piece <= BLOB_FULL_PIECES; piece++) {
        k[8] = piece;
        rc = kv_get(kv, T_BLOBPIECE, KV_VAL(k, K_BLOBPIECE), &val);
        if (rc == PETREL_ENOTFOUND) return 0;
        if (rc || (rc = view_add(v, val.data, val.len)) != 0) return rc;
    }
    return 0;
}

int blob_view(kv_txn_t *kv, uint64_t blob_id, uint64_t size, store_view_t *v)
{
    memset(v, 0, sizeof(*v));
    blob_rec_t b;
    int rc = blob_load(kv, blob_id, &b);
    if (!rc) rc = blob_view_pieces(kv, blob_id, v);
    if (!rc) rc = view_add(v, b.rest, b.rest_len);
    if (rc && rc != PETREL_ECORRUPT) return store_kv_fail(rc, "blob_view");
    if (rc || v->len != size || b.size != size) {
        log_error("event=store_corrupt table=blobdata blob=%llu size=%llu found=%zu",
                  (unsigned long long)blob_id, (unsigned long long)size, v->len);
        return PETREL_ECORRUPT;
    }
    return 0;
}

size_t store_view_copy(const store_view_t *v, size_t off, void *dst, size_t n)
{
    size_t done = 0;
    for (unsigned i = 0; i < v->nseg && done < n; i++) {
        if (off >= v->seg[i].n) {
            off -= v->seg[i].n;
            continue;
        }
        size_t take = v->seg[i].n - off;
        if (take > n - done) take = n - done;
        memcpy((uint8_t *)dst + done, v->seg[i].p + off, take);
        done += take;
        off = 0;
    }
    return done;
}

static int blob_same(kv_txn_t *kv, uint64_t blob_id, uint64_t size, const void *data, size_t len,
                     int *same_r)
{
    *same_r = 0;
    if (size != len) return 0;
    store_view_t v;
    int rc = blob_view(kv, blob_id, size, &v);
    if (rc) return rc;
    size_t off = 0;
    for (unsigned i = 0; i < v.nseg; i++) {
        if (memcmp(v.seg[i].p, (const uint8_t *)data + off, v.seg[i].n) != 0) return 0;
        off += v.seg[i].n;
    }
    *same_r = 1;
    return 0;
}

/* The blob id the hash index names for hash (ENOTFOUND: none). */
int blobhash_get(kv_txn_t *kv, const uint8_t hash[BLOB_HASH_LEN], uint64_t *id_r)
{
    kv_val_t v;
    int rc = kv_get(kv, T_BLOBHASH, KV_VAL(hash, BLOB_HASH_LEN), &v);
    if (rc) return store_kv_fail(rc, "blobhash_get");
    const uint8_t *p = v.data;
    return varint_get(&p, p + v.len, id_r);
}

int blobhash_put(kv_txn_t *kv, const uint8_t hash[BLOB_HASH_LEN], uint64_t id)
{
    uint8_t v[VARINT_MAX];
    return kv_put(kv, T_BLOBHASH, KV_VAL(hash, BLOB_HASH_LEN), KV_VAL(v, varint_put(v, id)), 0);
}

/*
 * Looks for a blob with these bytes; *blob_r 0 when there is none.
 * *indexed_r: the hash is in the index already (then for another content:
 * a collision, and the new blob stays out of the index).
 */
static int blob_find(kv_txn_t *kv, const void *data, size_t len, const uint8_t hash[BLOB_HASH_LEN],
                     uint64_t *blob_r, int *indexed_r)
{
    uint64_t id;
    *blob_r = 0;
    *indexed_r = 0;
    int rc = blobhash_get(kv, hash, &id);
    if (rc == PETREL_ENOTFOUND) return 0;
    blob_rec_t b;
    int same = 0;
    if (!rc) rc = blob_load(kv, id, &b);
    if (!rc) rc = blob_same(kv, id, b.size, data, len, &same);
    if (rc) return rc;
    *indexed_r = 1;
    if (same)
        *blob_r = id;
    else
        log_warn("event=blob_hash_collision blob=%llu size=%zu", (unsigned long long)id, len);
    return 0;
}

static int blob_put_bytes(kv_txn_t *kv, unsigned table, const uint8_t *k, size_t klen,
                          const uint8_t *p, size_t n)
{
    void *dst;
    int rc = kv_reserve(kv, table, KV_VAL(k, klen), n, KV_APPEND, &dst);
    if (!rc) memcpy(dst, p, n);
    return rc;
}

/*
 * Writes the overflow run and the full pieces (schema.h); returns in
 * *rest_off where the rest (kept in the blob record) begins.
 */
static int blob_write_pieces(const store_t *st, kv_txn_t *kv, uint64_t blob_id, const uint8_t *data,
                             size_t len, size_t *rest_off)
{
    size_t ps = st->page_size, off = 0;
    uint8_t k[K_BLOBPIECE];
    be64_put(k, blob_id);
    int rc = 0;
    if (len + 16 >= ps) {
        off = ((len + 16) / ps) * ps - 16;
        rc = blob_put_bytes(kv, T_BLOBDATA, k, 8, data, off);
    }
    for (uint8_t piece = 1; rc == 0 && len - off > st->rest_max; piece++) {
        if (piece > BLOB_FULL_PIECES) {
            log_error("event=blob_layout error=\"rest too long\" rest=%zu", len - off);
            return PETREL_EIO;
        }
        /* a full piece, or all of a rest just above rest_max (a near-full piece) */
        size_t n = len - off < st->piece_max ? len - off : st->piece_max;
        k[8] = piece;
        rc = blob_put_bytes(kv, T_BLOBPIECE, k, K_BLOBPIECE, data + off, n);
        off += n;
    }
    *rest_off = off;
    return rc;
}

static int blob_cache_append(void *out, const void *p, size_t n)
{
    return buf_append(out, p, n);
}

/* The structure cache is optional: a failing cache_fn is logged and the blob has none. */
static int blob_cache_build(const store_t *st, kv_txn_t *kv, uint64_t blob_id, const void *data,
                            size_t len)
{
    if (!st->opts.cache_fn) return 0;
    buf_t b;
    buf_init(&b, BLOB_CACHE_MAX);
    int rc = st->opts.cache_fn(data, len, blob_cache_append, &b);
    if (rc) {
        log_warn("event=blob_cache blob=%llu error=\"%d\"", (unsigned long long)blob_id, rc);
        buf_free(&b);
        return 0;
    }
    uint8_t k[8];
    be64_put(k, blob_id);
    rc = kv_put(kv, T_BLOBCACHE, KV_VAL(k, 8), KV_VAL(b.data ? b.data : "", b.len), KV_APPEND);
    buf_free(&b);
    return rc;
}

static int blob_bytes_adjust(kv_txn_t *kv, int64_t d)
{
    uint64_t v;
    int rc = meta_get_u64(kv, "blob_bytes", &v);
    if (rc) return rc;
    v = d < 0 ? (v >= (uint64_t)(-d) ? v - (uint64_t)(-d) : 0) : v + (uint64_t)d;
    return meta_put_u64(kv, "blob_bytes", v);
}

int blob_put(store_txn_t *txn, const void *data, size_t len, const uint8_t hash[BLOB_HASH_LEN],
             uint64_t *blob_r)
{
    uint64_t id;
    int indexed;
    int rc = blob_find(txn->kv, data, len, hash, &id, &indexed);
    if (rc) return rc;
    if (id) {
        *blob_r = id;
        return blob_ref(txn->kv, id);
    }
    rc = meta_next_id(txn->kv, "next_blob", &id);
    size_t rest = 0;
    if (!rc) rc = blob_write_pieces(txn->st, txn->kv, id, data, len, &rest);
    blob_rec_t b = {
        .refcount = 1, .size = len, .rest = (const uint8_t *)data + rest, .rest_len = len - rest};
    if (!rc) rc = blob_save(txn->kv, id, &b, KV_APPEND);
    if (!rc && !indexed) rc = blobhash_put(txn->kv, hash, id);
    if (!rc) rc = blob_cache_build(txn->st, txn->kv, id, data, len);
    if (!rc) rc = blob_bytes_adjust(txn->kv, (int64_t)len);
    if (rc) return store_kv_fail(rc, "blob_put");
    *blob_r = id;
    return 0;
}

int blob_ref(kv_txn_t *kv, uint64_t blob_id)
{
    blob_rec_t b;
    int rc = blob_load(kv, blob_id, &b);
    if (rc) return rc;
    b.refcount++;
    return blob_save(kv, blob_id, &b, 0);
}

int blob_free(kv_txn_t *kv, uint64_t blob_id)
{
    blob_rec_t b;
    uint8_t k[BLOB_HASH_LEN];
    int rc = blob_load(kv, blob_id, &b);
    if (!rc) rc = blob_hash_stored(kv, blob_id, b.size, k); /* before the bytes go */
    if (rc) return rc;
    uint64_t indexed;
    rc = blobhash_get(kv, k, &indexed);
    if (rc == 0 && indexed == blob_id) /* else another content owns the entry (collision) */
        rc = kv_del(kv, T_BLOBHASH, KV_VAL(k, BLOB_HASH_LEN));
    rc = rc == PETREL_ENOTFOUND ? 0 : rc;
    be64_put(k, blob_id);
    if (!rc) {
        rc = kv_del(kv, T_BLOBDATA, KV_VAL(k, 8));
        rc = rc == PETREL_ENOTFOUND ? 0 : rc;
    }
    if (!rc) rc = kvx_del_prefix(kv, T_BLOBPIECE, k, 8);
    if (!rc) {
        rc = kv_del(kv, T_BLOBCACHE, KV_VAL(k, 8));
        rc = rc == PETREL_ENOTFOUND ? 0 : rc;
    }
    if (!rc) rc = kv_del(kv, T_BLOB, KV_VAL(k, 8));
    if (!rc) rc = blob_bytes_adjust(kv, -(int64_t)b.size);
    return store_kv_fail(rc, "blob_free");
}

int blob_unref(kv_txn_t *kv, uint64_t blob_id)
{
    blob_rec_t b;
    int rc = blob_load(kv, blob_id, &b);
    if (rc) return rc;
    if (b.refcount <= 1) return blob_free(kv, blob_id);
    b.refcount--;
    return blob_save(kv, blob_id, &b, 0);
}

int store_msg_view(store_txn_t *txn, const store_msg_t *m, store_view_t *v_r)
{
    return blob_view(txn->kv, m->blob_id, m->size, v_r);
}

int store_msg_cache(store_txn_t *txn, const store_msg_t *m, const void **p_r, size_t *n_r)
{
    uint8_t k[8];
    be64_put(k, m->blob_id);
    kv_val_t v;
    int rc = kv_get(txn->kv, T_BLOBCACHE, KV_VAL(k, 8), &v);
    if (rc) return store_kv_fail(rc, "msg_cache");
    *p_r = v.data;
    *n_r = v.len;
    return 0;
}
