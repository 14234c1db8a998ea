/* quota.c - petrelctl quota show|set|report. A target with an '@' is a user, else a tenant. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static unsigned quota_pct(uint64_t used, uint64_t limit)
{
    if (limit == 0) return 0;
    long double p = (long double)used * 100.0L / (long double)limit;
    return p > 999999.0L ? 999999u : (unsigned)p;
}

static void quota_print(ctl_t *c, const char *kind, const char *name, const store_usage_t *u,
                        uint64_t limit, uint64_t max_messages, int has_messages)
{
    char b[32], l[32];
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        out_json_kstr(&w, kind, name);
        out_json_ku64(&w, "used_bytes", u->bytes);
        out_json_ku64(&w, "quota_bytes", limit);
        out_json_ku64(&w, "percent", quota_pct(u->bytes, limit));
        out_json_ku64(&w, "messages", u->messages);
        if (has_messages) out_json_ku64(&w, "max_messages", max_messages);
        out_json_obj_end(&w);
        out_json_done(&w);
        return;
    }
    printf("%s %s\nstorage:  %s of %s", kind, name, args_format_size(u->bytes, b, sizeof(b)),
           limit ? args_format_size(limit, l, sizeof(l)) : "unlimited");
    if (limit) printf(" (%u%%)", quota_pct(u->bytes, limit));
    printf("\nmessages: %llu", (unsigned long long)u->messages);
    if (has_messages && max_messages)
        printf(" of %llu (%u%%)", (unsigned long long)max_messages,
               quota_pct(u->messages, max_messages));
    else if (has_messages)
        printf(" of unlimited");
    printf("\n");
}

int cmd_quota_show(ctl_t *c, int argc, char **argv)
{
    store_txn_t *txn;
    store_usage_t used;
    char what[STORE_ADDRESS_MAX + 32];
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &txn)) return CTL_FAIL;
    if (strchr(a.pos[0], '@')) {
        store_user_t u;
        snprintf(what, sizeof(what), "user '%s'", a.pos[0]);
        rc = store_user_get(txn, a.pos[0], &u);
        if (!rc) rc = store_quota_user(txn, u.id, &used);
        if (!rc) quota_print(c, "user", u.address, &used, u.quota_bytes, u.quota_messages, 1);
    } else {
        store_tenant_t t;
        snprintf(what, sizeof(what), "tenant '%s'", a.pos[0]);
        rc = store_tenant_get(txn, a.pos[0], &t);
        if (!rc) rc = store_quota_tenant(txn, t.id, &used);
        if (!rc) quota_print(c, "tenant", t.domain, &used, t.quota_bytes, 0, 0);
    }
    store_txn_abort(&txn);
    return rc ? ctl_store_fail(rc, what) : CTL_OK;
}

struct quota_set_op {
    const char *target;
    uint64_t bytes, messages;
    int set_messages;
    store_usage_t used;
};

static int quota_set_run(store_txn_t *txn, void *arg)
{
    struct quota_set_op *o = arg;
    int rc;
    if (strchr(o->target, '@')) {
        store_user_t u;
        rc = store_user_get(txn, o->target, &u);
        if (rc) return rc;
        u.quota_bytes = o->bytes;
        if (o->set_messages) u.quota_messages = o->messages;
        rc = store_quota_user(txn, u.id, &o->used);
        if (!rc) rc = store_user_update(txn, &u);
        explicit_bzero(&u, sizeof(u));
        return rc;
    }
    store_tenant_t t;
    rc = store_tenant_get(txn, o->target, &t);
    if (rc) return rc;
    t.quota_bytes = o->bytes;
    rc = store_quota_tenant(txn, t.id, &o->used);
    return rc ? rc : store_tenant_update(txn, &t);
}

int cmd_quota_set(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"messages", 1, NULL, 0}};
    struct quota_set_op o = {0};
    char what[STORE_ADDRESS_MAX + 32], q[32], u[32];
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 1, 2, 2, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.target = a.pos[0];
    int is_user = strchr(o.target, '@') != NULL;
    if (args_parse_quota(a.pos[1], &o.bytes)) return ctl_usage(c, "invalid size '%s'", a.pos[1]);
    if (opts[0].value && args_parse_count(opts[0].value, 1, &o.messages))
        return ctl_usage(c, "invalid message count '%s'", opts[0].value);
    o.set_messages = opts[0].set > 0;
    if (o.set_messages && !is_user)
        return ctl_usage(c, "--messages applies to users only (a tenant has a storage quota)");
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, quota_set_run, &o);
    snprintf(what, sizeof(what), "%s '%s'", is_user ? "user" : "tenant", o.target);
    if (rc) return ctl_store_fail(rc, what);
    if (o.bytes && o.bytes < o.used.bytes)
        out_warn("the quota of %s (%s) is below its current usage (%s): new mail is refused",
                 o.target, args_format_size(o.bytes, q, sizeof(q)),
                 args_format_size(o.used.bytes, u, sizeof(u)));
    if (o.set_messages && o.messages && o.messages < o.used.messages)
        out_warn("the message limit of %s (%llu) is below its current count (%llu)", o.target,
                 (unsigned long long)o.messages, (unsigned long long)o.used.messages);
    printf("quota of %s set to %s\n", o.target,
           o.bytes ? args_format_size(o.bytes, q, sizeof(q)) : "unlimited");
    return CTL_OK;
}

/* ------------------------------------------------------------------ report */
struct quota_report_ctx {
    ctl_t *c;
    store_txn_t *txn;
    out_json_t w;
    int rc;
    unsigned rows;
};

static void quota_report_row(struct quota_report_ctx *x, const char *kind, const char *name,
                             const char *what, uint64_t used, uint64_t limit)
{
    unsigned pct = quota_pct(used, limit);
    unsigned level = pct >= 100 ? 100 : pct >= 90 ? 90 : 80;
    char u[32], l[32];
    if (limit == 0 || pct < 80) return;
    x->rows++;
    if (x->c->json) {
        out_json_obj_begin(&x->w);
        out_json_kstr(&x->w, kind, name);
        out_json_kstr(&x->w, "resource", what);
        out_json_ku64(&x->w, "used", used);
        out_json_ku64(&x->w, "limit", limit);
        out_json_ku64(&x->w, "percent", pct);
        out_json_ku64(&x->w, "level", level);
        out_json_obj_end(&x->w);
        return;
    }
    if (what[0] == 'b')
        printf("%-6s %-40s %-8s %10s %10s %5u%% %3u\n", kind, name, what,
               args_format_size(used, u, sizeof(u)), args_format_size(limit, l, sizeof(l)), pct,
               level);
    else
        printf("%-6s %-40s %-8s %10llu %10llu %5u%% %3u\n", kind, name, what,
               (unsigned long long)used, (unsigned long long)limit, pct, level);
}

static int quota_report_user(const store_user_t *u, void *arg)
{
    struct quota_report_ctx *x = arg;
    store_usage_t used;
    x->rc = store_quota_user(x->txn, u->id, &used);
    if (x->rc) return 1;
    quota_report_row(x, "user", u->address, "bytes", used.bytes, u->quota_bytes);
    quota_report_row(x, "user", u->address, "messages", used.messages, u->quota_messages);
    return 0;
}

static int quota_report_tenant(const store_tenant_t *t, void *arg)
{
    struct quota_report_ctx *x = arg;
    store_usage_t used;
    x->rc = store_quota_tenant(x->txn, t->id, &used);
    if (x->rc) return 1;
    quota_report_row(x, "tenant", t->domain, "bytes", used.bytes, t->quota_bytes);
    return 0;
}

int cmd_quota_report(ctl_t *c, int argc, char **argv)
{
    struct quota_report_ctx x = {.c = c};
    store_tenant_t t = {0};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 0, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &x.txn)) return CTL_FAIL;
    if (ctl_tenant_filter(&x.txn, a.npos == 1 ? a.pos[0] : NULL, &t))
        return CTL_FAIL;
    out_json_init(&x.w, stdout);
    if (c->json)
        out_json_arr_begin(&x.w);
    else
        printf("%-6s %-40s %-8s %10s %10s %6s %3s\n", "KIND", "NAME", "RESOURCE", "USED", "LIMIT",
               "USE", "LVL");
    if (a.npos == 1)
        rc = quota_report_tenant(&t, &x) ? x.rc : 0;
    else
        rc = store_tenant_list(x.txn, quota_report_tenant, &x);
    if (!x.rc && rc >= 0) rc = store_user_list(x.txn, t.id, quota_report_user, &x);
    store_txn_abort(&x.txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    if (x.rc || rc < 0) return ctl_store_fail(x.rc ? x.rc : rc, "quota report");
    return CTL_OK;
}
