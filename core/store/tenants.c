/* tenants.c - tenants (mail domains) and their alias domains. */
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

static int domain_put(kv_txn_t *kv, const char *domain, uint64_t tenant, int kind)
{
    uint8_t v[9];
    be64_put(v, tenant);
    v[8] = (uint8_t)kind;
    return kv_put(kv, T_DOMAIN, KV_VAL(domain, strlen(domain)), KV_VAL(v, 9), KV_NOOVERWRITE);
}

int store_tenant_add(store_txn_t *txn, const char *domain, uint32_t protocols, uint64_t quota_bytes,
                     uint64_t *id_r)
{
    char d[STORE_DOMAIN_MAX + 1];
    if (!txn->write || name_domain(domain, d) || (protocols & ~(uint32_t)STORE_PROTO_ALL))
        return PETREL_EINVAL;
    store_tenant_t t = {.protocols = protocols,
                        .status = STORE_ACTIVE,
                        .quota_bytes = quota_bytes,
                        .created = (int64_t)time(NULL)};
    memcpy(t.domain, d, sizeof(d));
    uint64_t other;
    int rc = domain_lookup(txn->kv, d, &other, NULL);
    if (rc != PETREL_ENOTFOUND)
        return rc == 0 ? PETREL_EEXIST : rc; /* checked first: a failed call writes nothing */
    rc = meta_next_id(txn->kv, "next_tenant", &t.id);
    if (!rc) rc = domain_put(txn->kv, d, t.id, DOMAIN_PRIMARY);
    if (!rc) rc = tenant_save(txn->kv, &t);
    if (rc) {
        if (rc != PETREL_EEXIST) store_kv_fail(rc, "tenant_add");
        return rc;
    }
    log_info("event=tenant_add tenant=%llu domain=%s", (unsigned long long)t.id, d);
    store_txn_changed(txn, 0, 0);
    if (id_r) *id_r = t.id;
    return 0;
}

int store_tenant_get(store_txn_t *txn, const char *domain, store_tenant_t *t_r)
{
    char d[STORE_DOMAIN_MAX + 1];
    if (name_domain(domain, d)) return PETREL_EINVAL;
    uint64_t id;
    int rc = domain_lookup(txn->kv, d, &id, NULL);
    return rc ? rc : tenant_load(txn->kv, id, t_r);
}

int store_tenant_get_by_id(store_txn_t *txn, uint64_t id, store_tenant_t *t_r)
{
    return tenant_load(txn->kv, id, t_r);
}

int store_tenant_update(store_txn_t *txn, const store_tenant_t *t)
{
    if (!txn->write || (t->protocols & ~(uint32_t)STORE_PROTO_ALL) || t->status > STORE_SUSPENDED)
        return PETREL_EINVAL;
    store_tenant_t cur;
    int rc = tenant_load(txn->kv, t->id, &cur);
    if (rc) return rc;
    cur.protocols = t->protocols;
    cur.status = t->status;
    cur.quota_bytes = t->quota_bytes;
    rc = tenant_save(txn->kv, &cur);
    if (!rc) {
        log_info("event=tenant_update tenant=%llu status=%u protocols=%u quota_bytes=%llu",
                 (unsigned long long)t->id, t->status, t->protocols,
                 (unsigned long long)t->quota_bytes);
        store_txn_changed(txn, 0, 0);
    }
    return rc;
}

/* Whether any key of table begins with the be64 tenant id. */
static int tenant_has(kv_txn_t *kv, unsigned table, uint64_t tenant, int *has_r)
{
    uint8_t k[8];
    be64_put(k, tenant);
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, table, &c);
    if (rc) return rc;
    kv_val_t key;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, NULL);
    *has_r = rc == 0 && key.len >= 8 && memcmp(key.data, k, 8) == 0;
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

/* Deletes every user of the tenant (with all their data). */
static int tenant_purge_users(store_txn_t *txn, uint64_t tenant)
{
    uint8_t k[8];
    be64_put(k, tenant);
    for (;;) {
        kv_cursor_t *c;
        int rc = kv_cursor_open(txn->kv, T_USERADDR, &c);
        if (rc) return rc;
        kv_val_t key, val;
        rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, &val);
        int mine = rc == 0 && key.len >= 8 && memcmp(key.data, k, 8) == 0 && val.len == 8;
        uint64_t uid = mine ? be64_get(val.data) : 0;
        kv_cursor_close(&c);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && !mine)) return 0;
        if (rc) return rc;
        rc = user_purge(txn, uid);
        if (rc) return rc;
    }
}

/* Deletes every domain entry (primary and alias) of the tenant. */
static int tenant_del_domains(kv_txn_t *kv, uint64_t tenant)
{
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_DOMAIN, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_first(c, &key, &val);
    while (rc == 0) {
        if (val.len == 9 && be64_get(val.data) == tenant) {
            rc = kv_cursor_del(c);
            if (rc) break;
            rc = kv_cursor_seek(c, key, &key, &val);
            continue;
        }
        rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_tenant_del(store_txn_t *txn, const char *domain, int purge)
{
    store_tenant_t t;
    if (!txn->write) return PETREL_EINVAL;
    int rc = store_tenant_get(txn, domain, &t);
    if (rc) return rc;
    if (strcmp(t.domain, domain) != 0 && str_casecmp(t.domain, domain) != 0)
        return PETREL_EINVAL; /* an alias domain: remove it with store_domain_alias_del */
    int users = 0, aliases = 0;
    rc = tenant_has(txn->kv, T_USERADDR, t.id, &users);
    if (!rc) rc = tenant_has(txn->kv, T_ALIAS, t.id, &aliases);
    if (rc) return rc;
    if ((users || aliases) && !purge) return PETREL_EBUSY;
    uint8_t k[9];
    be64_put(k, t.id);
    rc = tenant_purge_users(txn, t.id);
    if (!rc) rc = kvx_del_prefix(txn->kv, T_ALIAS, k, 8);
    if (!rc) rc = tenant_del_domains(txn->kv, t.id);
    k[0] = USAGE_TENANT;
    be64_put(k + 1, t.id);
    if (!rc) {
        rc = kv_del(txn->kv, T_USAGE, KV_VAL(k, 9));
        rc = rc == PETREL_ENOTFOUND ? 0 : rc;
    }
    be64_put(k, t.id);
    if (!rc) rc = kv_del(txn->kv, T_TENANT, KV_VAL(k, 8));
    if (rc) return store_kv_fail(rc, "tenant_del");
    log_info("event=tenant_del tenant=%llu domain=%s purge=%d", (unsigned long long)t.id, t.domain,
             purge);
    store_txn_changed(txn, 0, 0);
    return 0;
}

int store_tenant_list(store_txn_t *txn, store_tenant_cb cb, void *arg)
{
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_DOMAIN, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_first(c, &key, &val);
    while (rc == 0) {
        if (val.len == 9 && ((const uint8_t *)val.data)[8] == DOMAIN_PRIMARY) {
            store_tenant_t t;
            rc = tenant_load(txn->kv, be64_get(val.data), &t);
            if (rc) break;
            rc = cb(&t, arg);
            if (rc) break;
        }
        rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_domain_alias_add(store_txn_t *txn, const char *domain, const char *alias_domain)
{
    char a[STORE_DOMAIN_MAX + 1];
    store_tenant_t t;
    if (!txn->write || name_domain(alias_domain, a)) return PETREL_EINVAL;
    int rc = store_tenant_get(txn, domain, &t);
    if (rc) return rc;
    rc = domain_put(txn->kv, a, t.id, DOMAIN_ALIAS);
    if (rc) return store_kv_fail(rc == PETREL_EEXIST ? PETREL_EEXIST : rc, "domain_alias_add");
    log_info("event=domain_alias_add tenant=%llu alias=%s", (unsigned long long)t.id, a);
    store_txn_changed(txn, 0, 0);
    return 0;
}

int store_domain_alias_del(store_txn_t *txn, const char *domain, const char *alias_domain)
{
    char a[STORE_DOMAIN_MAX + 1];
    store_tenant_t t;
    if (!txn->write || name_domain(alias_domain, a)) return PETREL_EINVAL;
    int rc = store_tenant_get(txn, domain, &t);
    if (rc) return rc;
    uint64_t owner;
    int kind;
    rc = domain_lookup(txn->kv, a, &owner, &kind);
    if (rc) return rc;
    if (owner != t.id || kind != DOMAIN_ALIAS) return PETREL_ENOTFOUND;
    rc = kv_del(txn->kv, T_DOMAIN, KV_VAL(a, strlen(a)));
    if (rc) return store_kv_fail(rc, "domain_alias_del");
    log_info("event=domain_alias_del tenant=%llu alias=%s", (unsigned long long)t.id, a);
    store_txn_changed(txn, 0, 0);
    return 0;
}

int store_domain_alias_list(store_txn_t *txn, uint64_t tenant_id, store_name_cb cb, void *arg)
{
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_DOMAIN, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_first(c, &key, &val);
    while (rc == 0) {
        if (val.len == 9 && be64_get(val.data) == tenant_id &&
            ((const uint8_t *)val.data)[8] == DOMAIN_ALIAS && key.len <= STORE_DOMAIN_MAX) {
            char name[STORE_DOMAIN_MAX + 1];
            memcpy(name, key.data, key.len);
            name[key.len] = '\0';
            rc = cb(name, arg);
            if (rc) break;
        }
        rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}
