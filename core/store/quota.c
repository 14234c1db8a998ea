/*
 * quota.c - usage records (per user and per tenant) and the quota check.
 *
 * Usage counts every message copy (a blob shared by three users counts for
 * each of them). The check runs in the transaction that adds the bytes, so
 * concurrent deliveries cannot overrun it (writers are serialized).
 */
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

static void usage_key(uint8_t *k, char kind, uint64_t id)
{
    k[0] = (uint8_t)kind;
    be64_put(k + 1, id);
}

int usage_get(kv_txn_t *kv, char kind, uint64_t id, store_usage_t *u_r)
{
    uint8_t k[9];
    usage_key(k, kind, id);
    kv_val_t v;
    memset(u_r, 0, sizeof(*u_r));
    int rc = kv_get(kv, T_USAGE, KV_VAL(k, 9), &v);
    if (rc == PETREL_ENOTFOUND) return 0;
    if (rc) return store_kv_fail(rc, "usage_get");
    const uint8_t *p = v.data, *end = p + v.len;
    rc = varint_get(&p, end, &u_r->bytes);
    if (!rc) rc = varint_get(&p, end, &u_r->messages);
    if (rc)
        log_error("event=store_corrupt table=usage kind=%c id=%llu", kind, (unsigned long long)id);
    return rc;
}

static uint64_t usage_apply(uint64_t v, int64_t d)
{
    if (d < 0 && (uint64_t)(-d) > v) return 0;
    return d < 0 ? v - (uint64_t)(-d) : v + (uint64_t)d;
}

int usage_adjust(kv_txn_t *kv, char kind, uint64_t id, int64_t bytes, int64_t messages)
{
    store_usage_t u;
    int rc = usage_get(kv, kind, id, &u);
    if (rc) return rc;
    if ((bytes < 0 && (uint64_t)(-bytes) > u.bytes) ||
        (messages < 0 && (uint64_t)(-messages) > u.messages))
        log_warn("event=usage_underflow kind=%c id=%llu", kind, (unsigned long long)id);
    u.bytes = usage_apply(u.bytes, bytes);
    u.messages = usage_apply(u.messages, messages);
    uint8_t k[9], v[2 * VARINT_MAX];
    usage_key(k, kind, id);
    size_t n = varint_put(v, u.bytes);
    n += varint_put(v + n, u.messages);
    return kv_put(kv, T_USAGE, KV_VAL(k, 9), KV_VAL(v, n), 0);
}

int usage_add(kv_txn_t *kv, uint64_t user, uint64_t tenant, int64_t bytes, int64_t messages)
{
    int rc = usage_adjust(kv, USAGE_USER, user, bytes, messages);
    return rc ? rc : usage_adjust(kv, USAGE_TENANT, tenant, bytes, messages);
}

int quota_check(kv_txn_t *kv, uint64_t user, const user_rec_t *u, uint64_t bytes, uint64_t messages)
{
    store_usage_t used;
    int rc = usage_get(kv, USAGE_USER, user, &used);
    if (rc) return rc;
    if ((u->quota_bytes && (used.bytes + bytes > u->quota_bytes || bytes > u->quota_bytes)) ||
        (u->quota_messages && used.messages + messages > u->quota_messages))
        return PETREL_EQUOTA;
    store_tenant_t t;
    rc = tenant_load(kv, u->tenant_id, &t);
    if (rc) return rc;
    if (!t.quota_bytes) return 0;
    rc = usage_get(kv, USAGE_TENANT, u->tenant_id, &used);
    if (rc) return rc;
    if (used.bytes + bytes > t.quota_bytes || bytes > t.quota_bytes) return PETREL_ETENANTQUOTA;
    return 0;
}

int store_quota_user(store_txn_t *txn, uint64_t user_id, store_usage_t *used_r)
{
    user_rec_t r;
    int rc = user_load(txn->kv, user_id, &r);
    return rc ? rc : usage_get(txn->kv, USAGE_USER, user_id, used_r);
}

int store_quota_tenant(store_txn_t *txn, uint64_t tenant_id, store_usage_t *used_r)
{
    store_tenant_t t;
    int rc = tenant_load(txn->kv, tenant_id, &t);
    return rc ? rc : usage_get(txn->kv, USAGE_TENANT, tenant_id, used_r);
}
