/* codec.c - varints, key builders, meta counters and record codecs (schema.h). */
#include <string.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *v_r)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end) return PETREL_ECORRUPT;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *v_r = v;
            return 0;
        }
    }
    return PETREL_ECORRUPT;
}

void key_um(uint8_t *k, uint64_t user, uint32_t mbox)
{
    be64_put(k, user);
    be32_put(k + 8, mbox);
}

void key_umu(uint8_t *k, uint64_t user, uint32_t mbox, uint32_t uid)
{
    key_um(k, user, mbox);
    be32_put(k + 12, uid);
}

void key_umq(uint8_t *k, uint64_t user, uint32_t mbox, uint64_t modseq)
{
    key_um(k, user, mbox);
    be64_put(k + 12, modseq);
}

int store_kv_fail(int rc, const char *what)
{
    if (rc && rc != PETREL_ENOTFOUND && rc != PETREL_ECONFLICT)
        log_error("event=store_error op=%s error=\"%s\"", what, petrel_strerror(rc));
    return rc;
}

int kvx_del_prefix(kv_txn_t *kv, unsigned table, const void *prefix, size_t plen)
{
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, table, &c);
    if (rc) return rc;
    kv_val_t k;
    rc = kv_cursor_seek(c, KV_VAL(prefix, plen), &k, NULL);
    while (rc == 0 && k.len >= plen && memcmp(k.data, prefix, plen) == 0) {
        rc = kv_cursor_del(c);
        if (rc) break;
        /* after a delete the cursor stands before the next entry */
        rc = kv_cursor_seek(c, KV_VAL(prefix, plen), &k, NULL);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int meta_get_u64(kv_txn_t *kv, const char *name, uint64_t *v_r)
{
    kv_val_t v;
    int rc = kv_get(kv, T_META, KV_VAL(name, strlen(name)), &v);
    if (rc == PETREL_ENOTFOUND) {
        *v_r = 0;
        return 0;
    }
    if (rc) return store_kv_fail(rc, "meta_get");
    if (v.len == 8)
        *v_r = be64_get(v.data);
    else if (v.len == 4)
        *v_r = be32_get(v.data);
    else
        return PETREL_ECORRUPT;
    return 0;
}

int meta_put_u64(kv_txn_t *kv, const char *name, uint64_t v)
{
    uint8_t b[8];
    be64_put(b, v);
    return kv_put(kv, T_META, KV_VAL(name, strlen(name)), KV_VAL(b, 8), 0);
}

int meta_next_id(kv_txn_t *kv, const char *name, uint64_t *id_r)
{
    uint64_t v;
    int rc = meta_get_u64(kv, name, &v);
    if (rc) return rc;
    if (v == 0) v = 1;
    rc = meta_put_u64(kv, name, v + 1);
    if (!rc) *id_r = v;
    return rc;
}

/* ---------------------------------------------------------------- mailbox */

void mbox_rec_enc(uint8_t *p, const mbox_rec_t *r)
{
    be32_put(p, r->uidvalidity);
    be32_put(p + 4, r->uidnext);
    be64_put(p + 8, r->highestmodseq);
    be32_put(p + 16, r->messages);
    be32_put(p + 20, r->unseen);
    be32_put(p + 24, r->deleted);
    be32_put(p + 28, r->first_recent);
    be64_put(p + 32, r->bytes);
    p[40] = (uint8_t)r->special_use;
}

void mbox_rec_dec(const uint8_t *p, mbox_rec_t *r)
{
    r->uidvalidity = be32_get(p);
    r->uidnext = be32_get(p + 4);
    r->highestmodseq = be64_get(p + 8);
    r->messages = be32_get(p + 16);
    r->unseen = be32_get(p + 20);
    r->deleted = be32_get(p + 24);
    r->first_recent = be32_get(p + 28);
    r->bytes = be64_get(p + 32);
    r->special_use = p[40];
}

int mbox_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, mbox_rec_t *r, store_mailbox_t *m)
{
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    kv_val_t v;
    int rc = kv_get(kv, T_MBOX, KV_VAL(k, sizeof(k)), &v);
    if (rc) return store_kv_fail(rc, "mbox_load");
    if (v.len < MBOX_REC_FIXED || v.len - MBOX_REC_FIXED > STORE_MAILBOX_NAME_MAX) {
        log_error("event=store_corrupt table=mbox user=%llu mailbox=%u", (unsigned long long)user,
                  mbox);
        return PETREL_ECORRUPT;
    }
    mbox_rec_t tmp;
    if (!r) r = &tmp;
    mbox_rec_dec(v.data, r);
    if (m) {
        memset(m, 0, sizeof(*m));
        m->user_id = user;
        m->id = mbox;
        memcpy(m->name, (const uint8_t *)v.data + MBOX_REC_FIXED, v.len - MBOX_REC_FIXED);
        m->name[v.len - MBOX_REC_FIXED] = '\0';
        m->uidvalidity = r->uidvalidity;
        m->uidnext = r->uidnext;
        m->highestmodseq = r->highestmodseq;
        m->messages = r->messages;
        m->unseen = r->unseen;
        m->deleted = r->deleted;
        m->first_recent_uid = r->first_recent;
        m->bytes = r->bytes;
        m->special_use = r->special_use;
    }
    return 0;
}

int mbox_save(kv_txn_t *kv, uint64_t user, uint32_t mbox, const mbox_rec_t *r)
{
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    kv_val_t v;
    int rc = kv_get(kv, T_MBOX, KV_VAL(k, sizeof(k)), &v);
    if (rc) return store_kv_fail(rc, "mbox_save");
    if (v.len < MBOX_REC_FIXED) return PETREL_ECORRUPT;
    uint8_t buf[MBOX_REC_FIXED + STORE_MAILBOX_NAME_MAX];
    size_t n = v.len > sizeof(buf) ? sizeof(buf) : v.len;
    memcpy(buf, v.data, n);
    mbox_rec_enc(buf, r);
    return kv_put(kv, T_MBOX, KV_VAL(k, sizeof(k)), KV_VAL(buf, n), 0);
}

/* ---------------------------------------------------------------- message */

size_t msg_rec_enc(uint8_t *p, const msg_rec_t *r)
{
    size_t n = 0;
    n += varint_put(p + n, r->blob_id);
    n += varint_put(p + n, r->size);
    n += varint_put(p + n, zigzag_enc(r->internal_date));
    n += varint_put(p + n, r->flags);
    n += varint_put(p + n, r->modseq);
    if (r->keywords_len) memcpy(p + n, r->keywords, r->keywords_len);
    return n + r->keywords_len;
}

int msg_rec_dec(const uint8_t *p, size_t len, msg_rec_t *r)
{
    const uint8_t *end = p + len;
    uint64_t date, flags;
    int rc = varint_get(&p, end, &r->blob_id);
    if (!rc) rc = varint_get(&p, end, &r->size);
    if (!rc) rc = varint_get(&p, end, &date);
    if (!rc) rc = varint_get(&p, end, &flags);
    if (!rc) rc = varint_get(&p, end, &r->modseq);
    if (rc) return rc;
    r->internal_date = zigzag_dec(date);
    r->flags = (uint32_t)flags;
    r->keywords = (const char *)p;
    r->keywords_len = (size_t)(end - p);
    r->nkeywords = 0;
    for (const uint8_t *q = p; q < end; q++)
        if (*q == 0) r->nkeywords++;
    if (r->keywords_len && end[-1] != 0) return PETREL_ECORRUPT;
    if (!r->keywords_len) r->keywords = NULL;
    return 0;
}

int msg_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint32_t uid, msg_rec_t *r)
{
    uint8_t k[K_UMU];
    key_umu(k, user, mbox, uid);
    kv_val_t v;
    int rc = kv_get(kv, T_MSG, KV_VAL(k, sizeof(k)), &v);
    if (rc) return store_kv_fail(rc, "msg_load");
    rc = msg_rec_dec(v.data, v.len, r);
    if (rc)
        log_error("event=store_corrupt table=msg user=%llu mailbox=%u uid=%u",
                  (unsigned long long)user, mbox, uid);
    return rc;
}

void msg_to_public(uint64_t user, uint32_t mbox, uint32_t uid, const msg_rec_t *r, store_msg_t *m)
{
    m->user_id = user;
    m->mailbox_id = mbox;
    m->uid = uid;
    m->blob_id = r->blob_id;
    m->size = r->size;
    m->internal_date = r->internal_date;
    m->flags = r->flags;
    m->modseq = r->modseq;
    m->keywords = r->keywords;
    m->keywords_len = r->keywords_len;
    m->nkeywords = r->nkeywords;
}

/* ---------------------------------------------------------------- user */

int user_load(kv_txn_t *kv, uint64_t id, user_rec_t *r)
{
    uint8_t k[8];
    be64_put(k, id);
    kv_val_t v;
    int rc = kv_get(kv, T_USER, KV_VAL(k, 8), &v);
    if (rc) return store_kv_fail(rc, "user_load");
    const uint8_t *p = v.data, *end = p + v.len;
    uint64_t f[8];
    for (int i = 0; i < 8 && rc == 0; i++)
        rc = varint_get(&p, end, &f[i]);
    if (rc || f[7] > STORE_ADDRESS_MAX || (size_t)(end - p) < f[7] ||
        (size_t)(end - p) - f[7] > STORE_HASH_MAX) {
        log_error("event=store_corrupt table=user user=%llu", (unsigned long long)id);
        return PETREL_ECORRUPT;
    }
    r->tenant_id = f[0];
    r->status = (uint32_t)f[1];
    r->quota_bytes = f[2];
    r->quota_messages = f[3];
    r->created = zigzag_dec(f[4]);
    r->last_login = zigzag_dec(f[5]);
    r->next_mbox = (uint32_t)f[6];
    memcpy(r->address, p, f[7]);
    r->address[f[7]] = '\0';
    p += f[7];
    memcpy(r->pwhash, p, (size_t)(end - p));
    r->pwhash[end - p] = '\0';
    return 0;
}

int user_save(kv_txn_t *kv, uint64_t id, const user_rec_t *r)
{
    uint8_t buf[8 * VARINT_MAX + STORE_ADDRESS_MAX + STORE_HASH_MAX];
    size_t n = 0, alen = strlen(r->address), hlen = strlen(r->pwhash);
    n += varint_put(buf + n, r->tenant_id);
    n += varint_put(buf + n, r->status);
    n += varint_put(buf + n, r->quota_bytes);
    n += varint_put(buf + n, r->quota_messages);
    n += varint_put(buf + n, zigzag_enc(r->created));
    n += varint_put(buf + n, zigzag_enc(r->last_login));
    n += varint_put(buf + n, r->next_mbox);
    n += varint_put(buf + n, alen);
    memcpy(buf + n, r->address, alen);
    n += alen;
    memcpy(buf + n, r->pwhash, hlen);
    n += hlen;
    uint8_t k[8];
    be64_put(k, id);
    return kv_put(kv, T_USER, KV_VAL(k, 8), KV_VAL(buf, n), 0);
}

/* ---------------------------------------------------------------- tenant */

int tenant_load(kv_txn_t *kv, uint64_t id, store_tenant_t *t)
{
    uint8_t k[8];
    be64_put(k, id);
    kv_val_t v;
    int rc = kv_get(kv, T_TENANT, KV_VAL(k, 8), &v);
    if (rc) return store_kv_fail(rc, "tenant_load");
    const uint8_t *p = v.data, *end = p + v.len;
    uint64_t f[4];
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = varint_get(&p, end, &f[i]);
    if (rc || (size_t)(end - p) > STORE_DOMAIN_MAX) {
        log_error("event=store_corrupt table=tenant tenant=%llu", (unsigned long long)id);
        return PETREL_ECORRUPT;
    }
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->protocols = (uint32_t)f[0];
    t->status = (uint32_t)f[1];
    t->quota_bytes = f[2];
    t->created = zigzag_dec(f[3]);
    memcpy(t->domain, p, (size_t)(end - p));
    return 0;
}

int tenant_save(kv_txn_t *kv, const store_tenant_t *t)
{
    uint8_t buf[4 * VARINT_MAX + STORE_DOMAIN_MAX];
    size_t n = 0, dlen = strnlen(t->domain, STORE_DOMAIN_MAX);
    n += varint_put(buf + n, t->protocols);
    n += varint_put(buf + n, t->status);
    n += varint_put(buf + n, t->quota_bytes);
    n += varint_put(buf + n, zigzag_enc(t->created));
    memcpy(buf + n, t->domain, dlen);
    n += dlen;
    uint8_t k[8];
    be64_put(k, t->id);
    return kv_put(kv, T_TENANT, KV_VAL(k, 8), KV_VAL(buf, n), 0);
}

int domain_lookup(kv_txn_t *kv, const char *domain, uint64_t *tenant_r, int *kind_r)
{
    kv_val_t v;
    int rc = kv_get(kv, T_DOMAIN, KV_VAL(domain, strlen(domain)), &v);
    if (rc) return store_kv_fail(rc, "domain_lookup");
    if (v.len != 9) return PETREL_ECORRUPT;
    *tenant_r = be64_get(v.data);
    if (kind_r) *kind_r = ((const uint8_t *)v.data)[8];
    return 0;
}

size_t key_tenant_local(uint8_t *k, uint64_t tenant, const char *local)
{
    be64_put(k, tenant);
    size_t n = strnlen(local, STORE_LOCAL_MAX);
    for (size_t i = 0; i < n; i++)
        k[8 + i] = (uint8_t)str_ascii_lower(local[i]);
    return 8 + n;
}

int useraddr_lookup(kv_txn_t *kv, uint64_t tenant, const char *local, uint64_t *user_r)
{
    uint8_t k[8 + STORE_LOCAL_MAX];
    size_t kn = key_tenant_local(k, tenant, local);
    kv_val_t v;
    int rc = kv_get(kv, T_USERADDR, KV_VAL(k, kn), &v);
    if (rc) return store_kv_fail(rc, "useraddr_lookup");
    if (v.len != 8) return PETREL_ECORRUPT;
    *user_r = be64_get(v.data);
    return 0;
}
