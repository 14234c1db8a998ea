/* users.c - users: add, look up (case-insensitive, alias domains), update, rename, delete. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

static int user_hash_ok(const char *h)
{
    size_t n = strnlen(h, STORE_HASH_MAX + 1);
    if (n > STORE_HASH_MAX) return PETREL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] == 0x7f) return PETREL_EINVAL;
    return 0;
}

static void user_to_public(uint64_t id, const user_rec_t *r, store_user_t *u)
{
    memset(u, 0, sizeof(*u));
    u->id = id;
    u->tenant_id = r->tenant_id;
    memcpy(u->address, r->address, sizeof(u->address));
    memcpy(u->pwhash, r->pwhash, sizeof(u->pwhash));
    u->status = r->status;
    u->quota_bytes = r->quota_bytes;
    u->quota_messages = r->quota_messages;
    u->created = r->created;
    u->last_login = r->last_login;
}

/* Resolves an address to (tenant, user id); the domain may be an alias domain. */
static int user_find(kv_txn_t *kv, const char *address, uint64_t *tenant_r, uint64_t *id_r)
{
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    if (name_address(address, local, domain)) return PETREL_EINVAL;
    int rc = domain_lookup(kv, domain, tenant_r, NULL);
    return rc ? rc : useraddr_lookup(kv, *tenant_r, local, id_r);
}

static int useraddr_put(kv_txn_t *kv, uint64_t tenant, const char *local, uint64_t id)
{
    uint8_t k[8 + STORE_LOCAL_MAX], v[8];
    size_t kn = key_tenant_local(k, tenant, local);
    be64_put(v, id);
    return kv_put(kv, T_USERADDR, KV_VAL(k, kn), KV_VAL(v, 8), KV_NOOVERWRITE);
}

static int useraddr_del(kv_txn_t *kv, uint64_t tenant, const char *local)
{
    uint8_t k[8 + STORE_LOCAL_MAX];
    size_t kn = key_tenant_local(k, tenant, local);
    return kv_del(kv, T_USERADDR, KV_VAL(k, kn));
}

int store_user_add(store_txn_t *txn, const char *address, const char *pwhash, uint64_t quota_bytes,
                   uint64_t quota_messages, uint64_t *id_r)
{
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    if (!txn->write || name_address(address, local, domain) || user_hash_ok(pwhash ? pwhash : ""))
        return PETREL_EINVAL;
    uint64_t tenant_id, id;
    int rc = domain_lookup(txn->kv, domain, &tenant_id, NULL);
    if (rc) return rc;
    store_tenant_t t;
    rc = tenant_load(txn->kv, tenant_id, &t);
    if (!rc) {
        rc = useraddr_lookup(txn->kv, tenant_id, local, &id);
        rc = rc == 0 ? PETREL_EEXIST : rc == PETREL_ENOTFOUND ? 0 : rc;
    }
    if (!rc) rc = meta_next_id(txn->kv, "next_user", &id);
    if (!rc) rc = useraddr_put(txn->kv, tenant_id, local, id);
    if (rc) return rc == PETREL_EEXIST ? rc : store_kv_fail(rc, "user_add");
    user_rec_t r = {.tenant_id = tenant_id,
                    .status = STORE_ACTIVE,
                    .quota_bytes = quota_bytes,
                    .quota_messages = quota_messages,
                    .created = (int64_t)time(NULL),
                    .next_mbox = 1};
    snprintf(r.address, sizeof(r.address), "%s@%s", local, t.domain);
    str_lcpy(r.pwhash, pwhash ? pwhash : "", sizeof(r.pwhash));
    rc = user_save(txn->kv, id, &r);
    uint32_t inbox;
    if (!rc) rc = mbox_create_one(txn, id, "INBOX", 0, &inbox);
    if (rc) return store_kv_fail(rc, "user_add");
    log_info("event=user_add user=%llu tenant=%llu address=%s", (unsigned long long)id,
             (unsigned long long)tenant_id, r.address);
    store_txn_changed(txn, id, 0);
    if (id_r) *id_r = id;
    return 0;
}

int store_user_get(store_txn_t *txn, const char *address, store_user_t *u_r)
{
    uint64_t tenant, id;
    int rc = user_find(txn->kv, address, &tenant, &id);
    return rc ? rc : store_user_get_by_id(txn, id, u_r);
}

int store_user_get_by_id(store_txn_t *txn, uint64_t id, store_user_t *u_r)
{
    user_rec_t r;
    int rc = user_load(txn->kv, id, &r);
    if (!rc) user_to_public(id, &r, u_r);
    return rc;
}

int store_user_update(store_txn_t *txn, const store_user_t *u)
{
    if (!txn->write || user_hash_ok(u->pwhash) || u->status > STORE_SUSPENDED) return PETREL_EINVAL;
    user_rec_t r;
    int rc = user_load(txn->kv, u->id, &r);
    if (rc) return rc;
    /* what a session can see (suspension, quota) wakes the user's watchers;
     * a login's last_login or a re-hashed password does not */
    int visible = r.status != u->status || r.quota_bytes != u->quota_bytes ||
                  r.quota_messages != u->quota_messages;
    str_lcpy(r.pwhash, u->pwhash, sizeof(r.pwhash));
    r.status = u->status;
    r.quota_bytes = u->quota_bytes;
    r.quota_messages = u->quota_messages;
    r.last_login = u->last_login;
    rc = user_save(txn->kv, u->id, &r);
    if (rc) return store_kv_fail(rc, "user_update");
    if (visible) store_txn_changed(txn, u->id, 0);
    return 0;
}

int store_user_rename(store_txn_t *txn, const char *old_address, const char *new_address)
{
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    if (!txn->write || name_address(new_address, local, domain)) return PETREL_EINVAL;
    uint64_t old_tenant, id, new_tenant;
    int rc = user_find(txn->kv, old_address, &old_tenant, &id);
    if (rc) return rc;
    rc = domain_lookup(txn->kv, domain, &new_tenant, NULL);
    if (rc) return rc;
    user_rec_t r;
    store_tenant_t t;
    rc = user_load(txn->kv, id, &r);
    if (!rc) rc = tenant_load(txn->kv, new_tenant, &t);
    if (rc) return rc;
    char old_local[STORE_LOCAL_MAX + 1], old_domain[STORE_DOMAIN_MAX + 1];
    if (name_address(r.address, old_local, old_domain)) return PETREL_ECORRUPT;
    uint64_t taken;
    rc = useraddr_lookup(txn->kv, new_tenant, local, &taken);
    if (rc == 0 && taken != id) return PETREL_EEXIST;
    if (rc && rc != PETREL_ENOTFOUND) return rc;
    rc = useraddr_del(txn->kv, old_tenant, old_local);
    if (!rc) rc = useraddr_put(txn->kv, new_tenant, local, id);
    if (rc) return rc == PETREL_EEXIST ? rc : store_kv_fail(rc, "user_rename");
    if (new_tenant != old_tenant) {
        store_usage_t u;
        rc = usage_get(txn->kv, USAGE_USER, id, &u);
        if (!rc)
            rc = usage_adjust(txn->kv, USAGE_TENANT, old_tenant, -(int64_t)u.bytes,
                              -(int64_t)u.messages);
        if (!rc)
            rc = usage_adjust(txn->kv, USAGE_TENANT, new_tenant, (int64_t)u.bytes,
                              (int64_t)u.messages);
        if (rc) return rc;
    }
    char old[STORE_ADDRESS_MAX + 1];
    memcpy(old, r.address, sizeof(old));
    r.tenant_id = new_tenant;
    snprintf(r.address, sizeof(r.address), "%s@%s", local, t.domain);
    rc = user_save(txn->kv, id, &r);
    if (rc) return store_kv_fail(rc, "user_rename");
    log_info("event=user_rename user=%llu from=%s to=%s", (unsigned long long)id, old, r.address);
    store_txn_changed(txn, id, 0);
    return 0;
}

/* Drops the blob reference of every message of the user. */
static int user_unref_blobs(kv_txn_t *kv, uint64_t user_id)
{
    uint8_t k[8];
    be64_put(k, user_id);
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_MSG, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, &val);
    while (rc == 0 && key.len == K_UMU && memcmp(key.data, k, 8) == 0) {
        msg_rec_t m;
        rc = msg_rec_dec(val.data, val.len, &m);
        if (!rc) rc = blob_unref(kv, m.blob_id);
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int user_purge(store_txn_t *txn, uint64_t user_id)
{
    static const unsigned tables[] = {T_MSG,  T_MODSEQ, T_EXPUNGE, T_KEYWORD,
                                      T_MBOX, T_MBNAME, T_SUBS};
    user_rec_t r;
    int rc = user_load(txn->kv, user_id, &r);
    if (rc) return rc;
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    if (name_address(r.address, local, domain)) return PETREL_ECORRUPT;
    store_usage_t u;
    rc = usage_get(txn->kv, USAGE_USER, user_id, &u);
    if (!rc)
        rc = usage_adjust(txn->kv, USAGE_TENANT, r.tenant_id, -(int64_t)u.bytes,
                          -(int64_t)u.messages);
    if (!rc) rc = user_unref_blobs(txn->kv, user_id);
    uint8_t k[9];
    be64_put(k, user_id);
    for (size_t i = 0; !rc && i < sizeof(tables) / sizeof(tables[0]); i++)
        rc = kvx_del_prefix(txn->kv, tables[i], k, 8);
    if (!rc) rc = kv_del(txn->kv, T_USER, KV_VAL(k, 8));
    if (!rc) rc = useraddr_del(txn->kv, r.tenant_id, local);
    k[0] = USAGE_USER;
    be64_put(k + 1, user_id);
    if (!rc) {
        rc = kv_del(txn->kv, T_USAGE, KV_VAL(k, 9));
        rc = rc == PETREL_ENOTFOUND ? 0 : rc;
    }
    if (rc) return store_kv_fail(rc, "user_purge");
    log_info("event=user_del user=%llu address=%s messages=%llu bytes=%llu",
             (unsigned long long)user_id, r.address, (unsigned long long)u.messages,
             (unsigned long long)u.bytes);
    store_txn_changed(txn, user_id, 0);
    return 0;
}

int store_user_del(store_txn_t *txn, const char *address)
{
    uint64_t tenant, id;
    if (!txn->write) return PETREL_EINVAL;
    int rc = user_find(txn->kv, address, &tenant, &id);
    return rc ? rc : user_purge(txn, id);
}

static int user_list_tenant(store_txn_t *txn, uint64_t tenant_id, store_user_cb cb, void *arg)
{
    uint8_t k[8];
    be64_put(k, tenant_id);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_USERADDR, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, &val);
    while (rc == 0 && key.len >= 8 && memcmp(key.data, k, 8) == 0) {
        store_user_t u;
        rc = val.len == 8 ? store_user_get_by_id(txn, be64_get(val.data), &u) : PETREL_ECORRUPT;
        if (!rc) rc = cb(&u, arg);
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

struct user_list_all {
    store_txn_t *txn;
    store_user_cb cb;
    void *arg;
};

static int user_list_tenant_cb(const store_tenant_t *t, void *arg)
{
    struct user_list_all *a = arg;
    return user_list_tenant(a->txn, t->id, a->cb, a->arg);
}

int store_user_list(store_txn_t *txn, uint64_t tenant_id, store_user_cb cb, void *arg)
{
    if (tenant_id) return user_list_tenant(txn, tenant_id, cb, arg);
    struct user_list_all a = {txn, cb, arg};
    return store_tenant_list(txn, user_list_tenant_cb, &a);
}
