/*
 * check_refs.c - store_check's passes over references: entries whose owner
 * does not exist (orphans), blob refcounts against the messages that refer
 * to them, blob bytes and the hash index.
 */
#include <stdlib.h>
#include <string.h>

#include "store/check_int.h"
#include "util/str.h"

static const char *const chk_table_names[T_COUNT] = STORE_TABLE_NAMES;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* First key >= seek in table (copied into key_r, up to cap bytes); ENOTFOUND past the end. */
/* ---------------------------------------------------------------- orphans */

static const unsigned chk_mbox_tables[] = {T_MSG, T_MODSEQ, T_EXPUNGE, T_KEYWORD};

static int chk_exists(kv_txn_t *kv, unsigned table, const uint8_t *k, size_t n, int *yes_r)
{
    kv_val_t v;
    int rc = kv_get(kv, table, KV_VAL(k, n), &v);
    *yes_r = rc == 0;
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

/*
 * Entries keyed (user, mailbox, ...) of a mailbox that does not exist, and
 * mailboxes (T_MBOX) of a user that does not: one report per mailbox; repair
 * deletes them (their messages' blob references were not counted, so the
 * blob pass then frees what only they referred to).
 */
static int chk_orphan_range(chk_t *c, unsigned table)
{
    uint8_t seek[K_UM], key[K_UMQ + STORE_KEYWORD_MAX];
    size_t slen = 0, klen;
    for (;;) {
        int rc = chk_seek(c->kv, table, seek, slen, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND) return 0;
        if (rc) return rc;
        if (klen < K_UM) return PETREL_ECORRUPT;
        uint64_t user = be64_get(key);
        uint32_t mbox = be32_get(key + 8);
        int yes;
        rc = table == T_MBOX ? chk_exists(c->kv, T_USER, key, 8, &yes)
                             : chk_exists(c->kv, T_MBOX, key, K_UM, &yes);
        if (rc) return rc;
        if (!yes) {
            chk_report(c, "table %s user=%llu mailbox=%u: its %s does not exist",
                       chk_table_names[table], (unsigned long long)user, mbox,
                       table == T_MBOX ? "user" : "mailbox");
            if (c->repair && table != T_MBOX) rc = kvx_del_prefix(c->kv, table, key, K_UM);
            for (size_t i = 0; c->repair && table == T_MBOX && !rc && i < 4; i++)
                rc = kvx_del_prefix(c->kv, chk_mbox_tables[i], key, K_UM);
            if (!rc && c->repair && table == T_MBOX) rc = kv_del(c->kv, T_MBOX, KV_VAL(key, K_UM));
            if (rc) return rc;
        }
        if (mbox == UINT32_MAX) return 0;
        key_um(seek, user, mbox + 1);
        slen = K_UM;
    }
}

/*
 * Name entries pointing at nothing: T_MBNAME (-> mailbox), T_USERADDR
 * (-> user), T_DOMAIN (-> tenant), T_USAGE (-> user or tenant).
 */
static int chk_orphan_name(chk_t *c, unsigned table, const uint8_t *key, size_t klen, kv_val_t val,
                           int *yes_r)
{
    uint8_t k[K_UM];
    switch (table) {
    case T_MBNAME:
        if (val.len != 4 || klen < 8) return PETREL_ECORRUPT;
        key_um(k, be64_get(key), be32_get(val.data));
        return chk_exists(c->kv, T_MBOX, k, K_UM, yes_r);
    case T_USERADDR:
        if (val.len != 8) return PETREL_ECORRUPT;
        return chk_exists(c->kv, T_USER, val.data, 8, yes_r);
    case T_DOMAIN:
        if (val.len != 9) return PETREL_ECORRUPT;
        return chk_exists(c->kv, T_TENANT, val.data, 8, yes_r);
    default: /* T_USAGE */
        if (klen != 9) return PETREL_ECORRUPT;
        return chk_exists(c->kv, key[0] == USAGE_USER ? T_USER : T_TENANT, key + 1, 8, yes_r);
    }
}

static int chk_orphan_names(chk_t *c, unsigned table)
{
    uint8_t seek[KEY_MAX + 1], key[KEY_MAX + 1];
    size_t slen = 0, klen;
    for (;;) {
        int rc = chk_seek(c->kv, table, seek, slen, key, KEY_MAX, &klen);
        if (rc == PETREL_ENOTFOUND) return 0;
        kv_val_t v;
        if (!rc) rc = kv_get(c->kv, table, KV_VAL(key, klen), &v);
        int yes = 1;
        if (!rc) rc = chk_orphan_name(c, table, key, klen, v, &yes);
        if (rc == PETREL_ECORRUPT) {
            chk_report(c, "table %s: malformed entry", chk_table_names[table]);
            rc = 0;
        } else if (!rc && !yes) {
            chk_report(c, "table %s: entry refers to nothing", chk_table_names[table]);
            if (c->repair) rc = kv_del(c->kv, table, KV_VAL(key, klen));
        }
        if (rc) return rc;
        memcpy(seek, key, klen); /* the next key: this one with a 0 byte appended */
        seek[klen] = 0;
        slen = klen + 1;
    }
}

int chk_orphans(chk_t *c)
{
    int rc = chk_orphan_range(c, T_MBOX);
    for (size_t i = 0; !rc && i < sizeof(chk_mbox_tables) / sizeof(chk_mbox_tables[0]); i++)
        rc = chk_orphan_range(c, chk_mbox_tables[i]);
    static const unsigned names[] = {T_MBNAME, T_USERADDR, T_DOMAIN, T_USAGE};
    for (size_t i = 0; !rc && i < sizeof(names) / sizeof(names[0]); i++)
        rc = chk_orphan_names(c, names[i]);
    return rc;
}

/* ---------------------------------------------------------------- blobs */

static int chk_outq_item(const store_dsn_t *d, void *arg)
{
    chk_t *c = arg;
    return ids_push(&c->blobs, d->blob_id);
}

int chk_outq(chk_t *c)
{
    int rc = store_dsn_list(c->txn, chk_outq_item, c);
    /* stop rather than count too few references (a repair would then free blobs in use) */
    if (rc == PETREL_ECORRUPT) chk_report(c, "table outq: an item cannot be read");
    return rc;
}

static int chk_blob(chk_t *c, uint64_t id, const blob_rec_t *b, uint64_t refs, uint64_t *bytes)
{
    int rc = 0;
    *bytes += b->size; /* blob_bytes counts every stored blob (blob_free subtracts) */
    if (refs == 0) {
        chk_report(c, "blob %llu: no message refers to it (refcount %llu)", (unsigned long long)id,
                   (unsigned long long)b->refcount);
        return c->repair ? blob_free(c->kv, id) : 0;
    }
    store_view_t v;
    if (blob_view(c->kv, id, b->size, &v) != 0)
        chk_report(c, "blob %llu: bytes missing or of the wrong size", (unsigned long long)id);
    uint8_t hk[BLOB_HASH_LEN];
    uint64_t indexed;
    rc = blob_hash_stored(c->kv, id, b->size, hk);
    if (rc == PETREL_ECORRUPT) return 0;             /* reported above */
    if (!rc) rc = blobhash_get(c->kv, hk, &indexed); /* another id: a collision, allowed */
    if (rc == PETREL_ENOTFOUND) {
        chk_report(c, "blob %llu: hash index entry missing", (unsigned long long)id);
        rc = c->repair ? blobhash_put(c->kv, hk, id) : 0;
    }
    if (rc || b->refcount == refs) return rc;
    chk_report(c, "blob %llu: refcount %llu, referenced %llu times", (unsigned long long)id,
               (unsigned long long)b->refcount, (unsigned long long)refs);
    if (!c->repair) return 0;
    blob_rec_t nb;
    rc = blob_load(c->kv, id, &nb); /* fresh: a repair above may have written */
    if (rc) return rc;
    nb.refcount = refs;
    return blob_save(c->kv, id, &nb, 0);
}

int chk_blobs(chk_t *c)
{
    if (c->blobs.n > 1) qsort(c->blobs.v, c->blobs.n, sizeof(uint64_t), cmp_u64);
    size_t i = 0;
    uint64_t next = 0, bytes = 0, stored;
    int rc = meta_get_u64(c->kv, "blob_bytes", &stored); /* before repairs change it */
    if (rc) return rc;
    for (;;) {
        uint8_t seek[8], key[8];
        size_t klen;
        be64_put(seek, next);
        rc = chk_seek(c->kv, T_BLOB, seek, 8, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND) {
            rc = 0;
            break;
        }
        if (rc || klen != 8) return rc ? rc : PETREL_ECORRUPT;
        uint64_t id = be64_get(key);
        for (; i < c->blobs.n && c->blobs.v[i] < id; i++)
            chk_report(c, "message refers to missing blob %llu", (unsigned long long)c->blobs.v[i]);
        uint64_t refs = 0;
        for (; i < c->blobs.n && c->blobs.v[i] == id; i++)
            refs++;
        blob_rec_t b;
        rc = blob_load(c->kv, id, &b);
        if (!rc) rc = chk_blob(c, id, &b, refs, &bytes);
        if (rc || id == UINT64_MAX) break;
        next = id + 1;
    }
    for (; !rc && i < c->blobs.n; i++)
        chk_report(c, "message refers to missing blob %llu", (unsigned long long)c->blobs.v[i]);
    if (!rc && stored != bytes) {
        chk_report(c, "blob_bytes %llu, blobs hold %llu", (unsigned long long)stored,
                   (unsigned long long)bytes);
        uint64_t now;
        rc = c->repair ? meta_get_u64(c->kv, "blob_bytes", &now) : 0;
        if (!rc && c->repair) /* keep what blob_free subtracted meanwhile */
            rc = meta_put_u64(c->kv, "blob_bytes", now + bytes - stored);
    }
    return rc;
}

/* Every hash index entry names an existing blob with that hash. */
int chk_hash_index(chk_t *c)
{
    uint8_t seek[BLOB_HASH_LEN], key[BLOB_HASH_LEN];
    size_t slen = 0, klen;
    for (;;) {
        int rc = chk_seek(c->kv, T_BLOBHASH, seek, slen, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND) return 0;
        if (rc || klen != sizeof(key)) return rc ? rc : PETREL_ECORRUPT;
        uint64_t id;
        blob_rec_t b;
        uint8_t h[BLOB_HASH_LEN];
        rc = blobhash_get(c->kv, key, &id);
        if (rc == 0) rc = blob_load(c->kv, id, &b);
        if (rc == 0) rc = blob_hash_stored(c->kv, id, b.size, h);
        if (rc == PETREL_ECORRUPT)
            rc = 0, memcpy(h, key, BLOB_HASH_LEN); /* bytes broken: reported by chk_blob */
        if (rc == PETREL_ENOTFOUND || (rc == 0 && memcmp(h, key, BLOB_HASH_LEN) != 0)) {
            chk_report(c, "hash index entry for blob %llu is stale", (unsigned long long)id);
            if (c->repair && (rc = kv_del(c->kv, T_BLOBHASH, KV_VAL(key, klen))) != 0) return rc;
            rc = 0;
        }
        if (rc) return rc;
        /* next key: key + 1 (append a zero byte: the smallest longer key) */
        memcpy(seek, key, klen);
        slen = klen;
        int i = (int)klen - 1;
        while (i >= 0 && seek[i] == 0xff)
            seek[i--] = 0;
        if (i < 0) return 0;
        seek[i]++;
    }
}
