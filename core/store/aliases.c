/*
 * aliases.c - aliases (local@domain or the catch-all "@domain" -> addresses)
 * and recipient resolution for local delivery.
 *
 * Resolution of local@domain in the domain's tenant, first match wins:
 *   1. a user with that local part (any case; alias domains included);
 *   2. an alias with that local part;
 *   3. local+tag: the same two lookups for the part before the first '+'
 *      (the tag is returned for the top-level address only);
 *   4. the domain's catch-all alias.
 * Alias targets are resolved the same way, recursively, up to
 * STORE_ALIAS_DEPTH_MAX levels; an address already visited is skipped (so a
 * loop ends), targets outside the local domains are skipped (this store does
 * no forwarding), suspended users and tenants reached through an alias are
 * skipped. Users are de-duplicated. The result is PETREL_ENOTFOUND when no
 * user was found, PETREL_EPERM when the only users found were suspended,
 * PETREL_ETOOBIG when more than STORE_RCPT_MAX_USERS users were found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

#define ALIAS_VALUE_MAX (STORE_ALIAS_TARGETS_MAX * (STORE_ADDRESS_MAX + 1))
#define RESOLVE_VISITED_MAX 256

/* Parses "local@domain" or "@domain": tenant id and local ("" for the catch-all). */
static int alias_parse(kv_txn_t *kv, const char *address, uint64_t *tenant_r, char *local)
{
    char domain[STORE_DOMAIN_MAX + 1];
    if (!address) return PETREL_EINVAL;
    if (address[0] == '@') {
        local[0] = '\0';
        if (name_domain(address + 1, domain)) return PETREL_EINVAL;
    } else if (name_address(address, local, domain)) {
        return PETREL_EINVAL;
    }
    return domain_lookup(kv, domain, tenant_r, NULL);
}

int store_alias_set(store_txn_t *txn, const char *address, const char *const *targets, size_t n)
{
    char local[STORE_LOCAL_MAX + 1];
    uint64_t tenant;
    if (!txn->write || n == 0 || n > STORE_ALIAS_TARGETS_MAX || !targets) return PETREL_EINVAL;
    char *val = malloc(ALIAS_VALUE_MAX);
    if (!val) return PETREL_ENOMEM;
    size_t len = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        char tl[STORE_LOCAL_MAX + 1], td[STORE_DOMAIN_MAX + 1];
        if (!targets[i] || name_address(targets[i], tl, td)) {
            rc = PETREL_EINVAL;
            break;
        }
        int w = snprintf(val + len, ALIAS_VALUE_MAX - len, "%s@%s", tl, td);
        if (w < 0 || (size_t)w >= ALIAS_VALUE_MAX - len)
            rc = PETREL_ETOOBIG;
        else
            len += (size_t)w + 1;
    }
    if (!rc) rc = alias_parse(txn->kv, address, &tenant, local);
    uint8_t k[8 + STORE_LOCAL_MAX];
    if (!rc)
        rc = kv_put(txn->kv, T_ALIAS, KV_VAL(k, key_tenant_local(k, tenant, local)),
                    KV_VAL(val, len), 0);
    free(val);
    if (rc == PETREL_EINVAL || rc == PETREL_ENOTFOUND || rc == PETREL_ETOOBIG) return rc;
    if (rc) return store_kv_fail(rc, "alias_set");
    log_info("event=alias_set tenant=%llu local=%s targets=%zu", (unsigned long long)tenant,
             local[0] ? local : "*", n);
    return 0;
}

int store_alias_del(store_txn_t *txn, const char *address)
{
    char local[STORE_LOCAL_MAX + 1];
    uint64_t tenant;
    if (!txn->write) return PETREL_EINVAL;
    int rc = alias_parse(txn->kv, address, &tenant, local);
    if (rc) return rc;
    uint8_t k[8 + STORE_LOCAL_MAX];
    rc = kv_del(txn->kv, T_ALIAS, KV_VAL(k, key_tenant_local(k, tenant, local)));
    if (rc) return store_kv_fail(rc, "alias_del");
    log_info("event=alias_del tenant=%llu local=%s", (unsigned long long)tenant,
             local[0] ? local : "*");
    return 0;
}

static int alias_lookup(kv_txn_t *kv, uint64_t tenant, const char *local, kv_val_t *v_r)
{
    uint8_t k[8 + STORE_LOCAL_MAX];
    int rc = kv_get(kv, T_ALIAS, KV_VAL(k, key_tenant_local(k, tenant, local)), v_r);
    return store_kv_fail(rc, "alias_get");
}

int store_alias_get(store_txn_t *txn, const char *address, store_name_cb cb, void *arg)
{
    char local[STORE_LOCAL_MAX + 1];
    uint64_t tenant;
    kv_val_t v;
    int rc = alias_parse(txn->kv, address, &tenant, local);
    if (!rc) rc = alias_lookup(txn->kv, tenant, local, &v);
    if (rc) return rc;
    const char *p = v.data, *end = p + v.len;
    if (v.len == 0 || end[-1] != '\0') return PETREL_ECORRUPT;
    for (; p < end && rc == 0; p += strlen(p) + 1)
        rc = cb(p, arg);
    return rc;
}

int store_alias_list(store_txn_t *txn, uint64_t tenant_id, store_alias_cb cb, void *arg)
{
    store_tenant_t t;
    int rc = tenant_load(txn->kv, tenant_id, &t);
    if (rc) return rc;
    uint8_t k[8];
    be64_put(k, tenant_id);
    kv_cursor_t *c;
    rc = kv_cursor_open(txn->kv, T_ALIAS, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, &val);
    while (rc == 0 && key.len >= 8 && key.len <= 8 + STORE_LOCAL_MAX &&
           memcmp(key.data, k, 8) == 0) {
        char address[STORE_ADDRESS_MAX + 1];
        const char *targets[STORE_ALIAS_TARGETS_MAX];
        size_t n = 0;
        snprintf(address, sizeof(address), "%.*s@%s", (int)(key.len - 8),
                 (const char *)key.data + 8, t.domain);
        const char *p = val.data, *end = p + val.len;
        if (val.len == 0 || end[-1] != '\0') {
            rc = PETREL_ECORRUPT;
            break;
        }
        for (; p < end && n < STORE_ALIAS_TARGETS_MAX; p += strlen(p) + 1)
            targets[n++] = p;
        rc = cb(address, targets, n, arg);
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- resolution */

typedef struct resolve {
    kv_txn_t *kv;
    store_rcpt_t *r;
    int suspended; /* a suspended user or tenant was skipped */
    int too_many;
    size_t nvisited;
    struct {
        uint64_t tenant;
        char local[STORE_LOCAL_MAX + 1];
    } visited[RESOLVE_VISITED_MAX];
} resolve_t;

static int resolve_seen(resolve_t *rs, uint64_t tenant, const char *local)
{
    for (size_t i = 0; i < rs->nvisited; i++)
        if (rs->visited[i].tenant == tenant && str_casecmp(rs->visited[i].local, local) == 0)
            return 1;
    if (rs->nvisited == RESOLVE_VISITED_MAX)
        return 1; /* enough: treat as seen so expansion stops */
    rs->visited[rs->nvisited].tenant = tenant;
    str_lcpy(rs->visited[rs->nvisited].local, local, STORE_LOCAL_MAX + 1);
    rs->nvisited++;
    return 0;
}

static int resolve_add_user(resolve_t *rs, uint64_t id)
{
    user_rec_t u;
    int rc = user_load(rs->kv, id, &u);
    if (rc) return rc;
    if (u.status != STORE_ACTIVE) {
        rs->suspended = 1;
        return 0;
    }
    for (size_t i = 0; i < rs->r->n; i++)
        if (rs->r->user_ids[i] == id) return 0;
    if (rs->r->n == STORE_RCPT_MAX_USERS) {
        rs->too_many = 1;
        return 0;
    }
    rs->r->user_ids[rs->r->n++] = id;
    return 0;
}

static int resolve_local(resolve_t *rs, uint64_t tenant, const char *local, int depth,
                         int *found_r);

static int resolve_targets(resolve_t *rs, kv_val_t v, int depth)
{
    if (depth >= STORE_ALIAS_DEPTH_MAX) {
        log_warn("event=alias_too_deep depth=%d", depth);
        return 0;
    }
    if (v.len == 0 || v.len > ALIAS_VALUE_MAX || ((const char *)v.data)[v.len - 1] != '\0')
        return PETREL_ECORRUPT;
    char *buf = malloc(v.len); /* the value may move while we look further */
    if (!buf) return PETREL_ENOMEM;
    memcpy(buf, v.data, v.len);
    int rc = 0;
    for (size_t off = 0; !rc && off < v.len; off += strlen(buf + off) + 1) {
        char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
        uint64_t tenant;
        if (name_address(buf + off, local, domain)) continue;
        rc = domain_lookup(rs->kv, domain, &tenant, NULL);
        if (rc == PETREL_ENOTFOUND) {
            rc = 0;
            continue; /* not local */
        }
        store_tenant_t t;
        if (!rc) rc = tenant_load(rs->kv, tenant, &t);
        if (rc) break;
        if (t.status != STORE_ACTIVE) {
            rs->suspended = 1;
            continue;
        }
        int found;
        rc = resolve_local(rs, tenant, local, depth + 1, &found);
    }
    free(buf);
    return rc;
}

/* Exact user or alias for local. */
static int resolve_exact(resolve_t *rs, uint64_t tenant, const char *local, int depth, int *found_r)
{
    uint64_t id;
    *found_r = 0;
    if (resolve_seen(rs, tenant, local)) {
        *found_r = 1;
        return 0;
    }
    int rc = local[0] ? useraddr_lookup(rs->kv, tenant, local, &id) : PETREL_ENOTFOUND;
    if (rc == 0) {
        *found_r = 1;
        return resolve_add_user(rs, id);
    }
    if (rc != PETREL_ENOTFOUND) return rc;
    kv_val_t v;
    rc = alias_lookup(rs->kv, tenant, local, &v);
    if (rc == PETREL_ENOTFOUND) return 0;
    if (rc) return rc;
    *found_r = 1;
    return resolve_targets(rs, v, depth);
}

static int resolve_local(resolve_t *rs, uint64_t tenant, const char *local, int depth, int *found_r)
{
    int rc = resolve_exact(rs, tenant, local, depth, found_r);
    if (rc || *found_r) return rc;
    const char *plus = strchr(local, '+');
    if (plus && plus != local) {
        char base[STORE_LOCAL_MAX + 1];
        size_t n = (size_t)(plus - local);
        memcpy(base, local, n);
        base[n] = '\0';
        rc = resolve_exact(rs, tenant, base, depth, found_r);
        if (rc || *found_r) {
            if (depth == 0 && *found_r) str_lcpy(rs->r->tag, plus + 1, sizeof(rs->r->tag));
            return rc;
        }
    }
    rc = resolve_exact(rs, tenant, "", depth, found_r);
    if (!rc && *found_r && depth == 0) rs->r->via_catchall = 1;
    return rc;
}

int store_resolve_rcpt(store_txn_t *txn, const char *address, store_rcpt_t *r_r)
{
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    if (!r_r || name_address(address, local, domain)) return PETREL_EINVAL;
    memset(r_r, 0, sizeof(*r_r));
    uint64_t tenant;
    store_tenant_t t;
    int rc = domain_lookup(txn->kv, domain, &tenant, NULL);
    if (!rc) rc = tenant_load(txn->kv, tenant, &t);
    if (rc) return rc;
    r_r->tenant_id = tenant;
    if (t.status != STORE_ACTIVE) return PETREL_EPERM;
    /* not calloc: visited[] (18 KB) is only read below nvisited; zeroing it cost every RCPT */
    resolve_t *rs = malloc(sizeof(*rs));
    if (!rs) return PETREL_ENOMEM;
    rs->kv = txn->kv;
    rs->r = r_r;
    rs->suspended = 0;
    rs->too_many = 0;
    rs->nvisited = 0;
    int found;
    rc = resolve_local(rs, tenant, local, 0, &found);
    if (!rc && rs->too_many) {
        log_warn("event=resolve_rcpt error=\"too many users\" max=%d", STORE_RCPT_MAX_USERS);
        rc = PETREL_ETOOBIG;
    }
    if (!rc && r_r->n == 0) rc = rs->suspended ? PETREL_EPERM : PETREL_ENOTFOUND;
    free(rs);
    return rc;
}
