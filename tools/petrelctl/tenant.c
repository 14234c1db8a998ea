/* tenant.c - petrelctl tenant add|list|show|set|alias-domain|del. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "util/str.h"

/* ------------------------------------------------------------------ add */
struct tenant_add_op {
    const char *domain;
    uint32_t protocols;
    uint64_t quota;
    uint64_t id;
};

static int tenant_add_run(store_txn_t *txn, void *arg)
{
    struct tenant_add_op *o = arg;
    return store_tenant_add(txn, o->domain, o->protocols, o->quota, &o->id);
}

int cmd_tenant_add(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"protocols", 1, NULL, 0}, {"quota", 1, NULL, 0}};
    struct tenant_add_op o = {.protocols = STORE_PROTO_ALL};
    char what[STORE_DOMAIN_MAX + 32];
    args_t a;
    store_t *st;
    int rc = ctl_args(c, argc, argv, opts, 2, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.domain = a.pos[0];
    if (opts[0].value && args_parse_protocols(opts[0].value, &o.protocols))
        return ctl_usage(c, "invalid protocol list '%s' (smtp,pop3,imap)", opts[0].value);
    if (opts[1].value && args_parse_quota(opts[1].value, &o.quota))
        return ctl_usage(c, "invalid size '%s'", opts[1].value);
    if (ctl_store(c, &st)) return CTL_FAIL;
    snprintf(what, sizeof(what), "tenant '%s'", o.domain);
    rc = store_write(st, tenant_add_run, &o);
    if (rc == PETREL_EINVAL) return out_fail("invalid domain '%s'", o.domain);
    if (rc) return ctl_store_fail(rc, what);
    str_lcpy(what, o.domain, sizeof(what));
    str_lower(what, strlen(what));
    printf("tenant %s added\n", what);
    return CTL_OK;
}

/* ------------------------------------------------------------------ list, show */
struct tenant_info {
    store_tenant_t t;
    store_usage_t used;
    uint64_t users;
};

static int tenant_count_user(const store_user_t *u, void *arg)
{
    (void)u;
    (*(uint64_t *)arg)++;
    return 0;
}

static int tenant_info_get(store_txn_t *txn, const store_tenant_t *t, struct tenant_info *ti)
{
    int rc;
    memset(ti, 0, sizeof(*ti));
    ti->t = *t;
    rc = store_quota_tenant(txn, t->id, &ti->used);
    if (!rc) rc = store_user_list(txn, t->id, tenant_count_user, &ti->users);
    return rc;
}

static void tenant_json(out_json_t *w, const struct tenant_info *ti)
{
    char protos[32], when[32];
    out_json_kstr(w, "domain", ti->t.domain);
    out_json_ku64(w, "id", ti->t.id);
    out_json_kstr(w, "status", ti->t.status == STORE_SUSPENDED ? "suspended" : "active");
    out_json_kstr(w, "protocols", args_format_protocols(ti->t.protocols, protos, sizeof(protos)));
    out_json_ku64(w, "quota_bytes", ti->t.quota_bytes);
    out_json_ku64(w, "used_bytes", ti->used.bytes);
    out_json_ku64(w, "used_messages", ti->used.messages);
    out_json_ku64(w, "users", ti->users);
    out_json_kstr(w, "created", out_time(ti->t.created, when, sizeof(when)));
}

struct tenant_list_ctx {
    ctl_t *c;
    store_txn_t *txn;
    out_json_t w;
    int rc;
};

static int tenant_list_one(const store_tenant_t *t, void *arg)
{
    struct tenant_list_ctx *x = arg;
    struct tenant_info ti;
    char protos[32], q[32], u[32];
    x->rc = tenant_info_get(x->txn, t, &ti);
    if (x->rc) return 1;
    if (x->c->json) {
        out_json_obj_begin(&x->w);
        tenant_json(&x->w, &ti);
        out_json_obj_end(&x->w);
        return 0;
    }
    printf("%-30s %-9s %-14s %10s %10s %6llu\n", t->domain,
           t->status == STORE_SUSPENDED ? "suspended" : "active",
           args_format_protocols(t->protocols, protos, sizeof(protos)),
           t->quota_bytes ? args_format_size(t->quota_bytes, q, sizeof(q)) : "unlimited",
           args_format_size(ti.used.bytes, u, sizeof(u)), (unsigned long long)ti.users);
    return 0;
}

int cmd_tenant_list(ctl_t *c, int argc, char **argv)
{
    struct tenant_list_ctx x = {.c = c};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 0, 0, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &x.txn)) return CTL_FAIL;
    out_json_init(&x.w, stdout);
    if (c->json)
        out_json_arr_begin(&x.w);
    else
        printf("%-30s %-9s %-14s %10s %10s %6s\n", "DOMAIN", "STATUS", "PROTOCOLS", "QUOTA", "USED",
               "USERS");
    rc = store_tenant_list(x.txn, tenant_list_one, &x);
    store_txn_abort(&x.txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    if (x.rc || rc < 0) return ctl_store_fail(x.rc ? x.rc : rc, "tenant list");
    return CTL_OK;
}

static int tenant_alias_print(const char *name, void *arg)
{
    out_json_t *w = arg;
    if (w)
        out_json_str(w, name);
    else
        printf(" %s", name);
    return 0;
}

int cmd_tenant_show(ctl_t *c, int argc, char **argv)
{
    store_txn_t *txn = NULL;
    store_tenant_t t;
    struct tenant_info ti;
    char what[STORE_DOMAIN_MAX + 32], protos[32], q[32], u[32], when[32];
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    snprintf(what, sizeof(what), "tenant '%s'", a.pos[0]);
    if (ctl_read(c, &txn)) return CTL_FAIL;
    rc = store_tenant_get(txn, a.pos[0], &t);
    if (!rc) rc = tenant_info_get(txn, &t, &ti);
    if (rc) {
        store_txn_abort(&txn);
        return ctl_store_fail(rc, what);
    }
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        tenant_json(&w, &ti);
        out_json_key(&w, "alias_domains");
        out_json_arr_begin(&w);
        rc = store_domain_alias_list(txn, t.id, tenant_alias_print, &w);
        out_json_arr_end(&w);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else {
        printf("domain:        %s\nid:            %llu\nstatus:        %s\nprotocols:     %s\n"
               "quota:         %s\nused:          %s, %llu messages\nusers:         %llu\n"
               "created:       %s\nalias domains:",
               t.domain, (unsigned long long)t.id,
               t.status == STORE_SUSPENDED ? "suspended" : "active",
               args_format_protocols(t.protocols, protos, sizeof(protos)),
               t.quota_bytes ? args_format_size(t.quota_bytes, q, sizeof(q)) : "unlimited",
               args_format_size(ti.used.bytes, u, sizeof(u)), (unsigned long long)ti.used.messages,
               (unsigned long long)ti.users, out_time(t.created, when, sizeof(when)));
        rc = store_domain_alias_list(txn, t.id, tenant_alias_print, NULL);
        printf("\n");
    }
    store_txn_abort(&txn);
    return rc < 0 ? ctl_store_fail(rc, what) : CTL_OK;
}

/* ------------------------------------------------------------------ set */
struct tenant_set_op {
    const char *domain;
    int set_protocols;
    uint32_t protocols, enable, disable;
    int set_quota;
    uint64_t quota;
    int status;    /* -1: unchanged */
    uint64_t used; /* out: usage, for the below-usage warning */
};

static int tenant_set_run(store_txn_t *txn, void *arg)
{
    struct tenant_set_op *o = arg;
    store_tenant_t t;
    store_usage_t used = {0};
    int rc = store_tenant_get(txn, o->domain, &t);
    if (rc) return rc;
    if (o->set_protocols) t.protocols = o->protocols;
    t.protocols = (t.protocols | o->enable) & ~o->disable;
    if (o->set_quota) t.quota_bytes = o->quota;
    if (o->status >= 0) t.status = (uint32_t)o->status;
    rc = store_quota_tenant(txn, t.id, &used);
    o->used = used.bytes;
    return rc ? rc : store_tenant_update(txn, &t);
}

int cmd_tenant_set(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"protocols", 1, NULL, 0}, {"enable", 1, NULL, 0},
                         {"disable", 1, NULL, 0},   {"quota", 1, NULL, 0},
                         {"suspend", 0, NULL, 0},   {"resume", 0, NULL, 0}};
    struct tenant_set_op o = {.status = -1};
    char what[STORE_DOMAIN_MAX + 32], q[32], u[32];
    args_t a;
    store_t *st;
    int rc = ctl_args(c, argc, argv, opts, 6, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.domain = a.pos[0];
    if (opts[0].value && args_parse_protocols(opts[0].value, &o.protocols))
        return ctl_usage(c, "invalid protocol list '%s'", opts[0].value);
    o.set_protocols = opts[0].set > 0;
    if (opts[1].value && args_parse_protocols(opts[1].value, &o.enable))
        return ctl_usage(c, "invalid protocol '%s'", opts[1].value);
    if (opts[2].value && args_parse_protocols(opts[2].value, &o.disable))
        return ctl_usage(c, "invalid protocol '%s'", opts[2].value);
    if (opts[3].value && args_parse_quota(opts[3].value, &o.quota))
        return ctl_usage(c, "invalid size '%s'", opts[3].value);
    o.set_quota = opts[3].set > 0;
    if (opts[4].set && opts[5].set)
        return ctl_usage(c, "--suspend and --resume exclude each other");
    if (opts[4].set || opts[5].set) o.status = opts[4].set ? STORE_SUSPENDED : STORE_ACTIVE;
    if (!o.set_protocols && !opts[1].set && !opts[2].set && !o.set_quota && o.status < 0)
        return ctl_usage(c, "nothing to change");
    if (ctl_store(c, &st)) return CTL_FAIL;
    snprintf(what, sizeof(what), "tenant '%s'", o.domain);
    rc = store_write(st, tenant_set_run, &o);
    if (rc) return ctl_store_fail(rc, what);
    if (o.set_quota && o.quota && o.quota < o.used)
        out_warn("the quota of %s (%s) is below its current usage (%s): new mail is refused",
                 o.domain, args_format_size(o.quota, q, sizeof(q)),
                 args_format_size(o.used, u, sizeof(u)));
    printf("tenant %s updated\n", o.domain);
    return CTL_OK;
}

/* ------------------------------------------------------------------ alias-domain, del */
struct tenant_ad_op {
    int add;
    const char *domain, *alias;
};

static int tenant_ad_run(store_txn_t *txn, void *arg)
{
    struct tenant_ad_op *o = arg;
    return o->add ? store_domain_alias_add(txn, o->domain, o->alias)
                  : store_domain_alias_del(txn, o->domain, o->alias);
}

int cmd_tenant_alias_domain(ctl_t *c, int argc, char **argv)
{
    struct tenant_ad_op o;
    char what[2 * STORE_DOMAIN_MAX + 64];
    args_t a;
    store_t *st;
    int rc = ctl_args(c, argc, argv, NULL, 0, 3, 3, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (strcmp(a.pos[0], "add") != 0 && strcmp(a.pos[0], "del") != 0)
        return ctl_usage(c, "expected add or del, not '%s'", a.pos[0]);
    o.add = a.pos[0][0] == 'a';
    o.domain = a.pos[1];
    o.alias = a.pos[2];
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, tenant_ad_run, &o);
    if (rc == PETREL_ENOTFOUND && o.add) {
        snprintf(what, sizeof(what), "tenant '%s'", o.domain);
    } else if (rc == PETREL_EINVAL) {
        return out_fail("invalid domain '%s' or '%s'", o.domain, o.alias);
    } else {
        snprintf(what, sizeof(what), "alias domain '%s' of '%s'", o.alias, o.domain);
    }
    if (rc == PETREL_EEXIST)
        return out_fail("domain '%s' already exists (as a tenant or an alias domain)", o.alias);
    if (rc) return ctl_store_fail(rc, what);
    printf("alias domain %s %s %s\n", o.alias, o.add ? "added to" : "removed from", o.domain);
    return CTL_OK;
}

struct tenant_del_op {
    const char *domain;
    int purge;
};

static int tenant_del_run(store_txn_t *txn, void *arg)
{
    struct tenant_del_op *o = arg;
    return store_tenant_del(txn, o->domain, o->purge);
}

int cmd_tenant_del(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"purge", 0, NULL, 0}};
    struct tenant_del_op o;
    char what[STORE_DOMAIN_MAX + 32];
    args_t a;
    store_t *st;
    int rc = ctl_args(c, argc, argv, opts, 1, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.domain = a.pos[0];
    o.purge = opts[0].set > 0;
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, tenant_del_run, &o);
    if (rc == PETREL_EBUSY)
        return out_fail("tenant '%s' still has users or aliases (--purge deletes them)", o.domain);
    snprintf(what, sizeof(what), "tenant '%s'", o.domain);
    if (rc) return ctl_store_fail(rc, what);
    printf("tenant %s deleted\n", o.domain);
    return CTL_OK;
}
