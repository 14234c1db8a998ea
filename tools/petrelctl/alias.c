/* alias.c - petrelctl alias add|del|list (catch-all: "@domain"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util/str.h"

#define ALIAS_TARGETS_BUF (STORE_ALIAS_TARGETS_MAX * (STORE_ADDRESS_MAX + 1))

struct alias_add_op {
    const char *address;
    const char *targets[STORE_ALIAS_TARGETS_MAX];
    size_t n;     /* targets from the command line */
    size_t total; /* with the existing ones, after a run */
    char *old;    /* copies of the existing targets (ALIAS_TARGETS_BUF bytes) */
    size_t oldlen;
    int too_many;
};

static int alias_collect(const char *name, void *arg)
{
    struct alias_add_op *o = arg;
    size_t n = strlen(name) + 1;
    if (o->total >= STORE_ALIAS_TARGETS_MAX || o->oldlen + n > ALIAS_TARGETS_BUF) {
        o->too_many = 1;
        return 1;
    }
    for (size_t i = 0; i < o->total; i++)
        if (str_casecmp(o->targets[i], name) == 0) return 0;
    memcpy(o->old + o->oldlen, name, n);
    o->targets[o->total++] = o->old + o->oldlen;
    o->oldlen += n;
    return 0;
}

static int alias_add_run(store_txn_t *txn, void *arg)
{
    struct alias_add_op *o = arg;
    /* the existing targets go after the new ones: move them in by name, de-duplicated */
    const char *mine[STORE_ALIAS_TARGETS_MAX];
    int rc;
    memcpy(mine, o->targets, o->n * sizeof(mine[0]));
    o->total = 0;
    o->oldlen = 0;
    o->too_many = 0;
    for (size_t i = 0; i < o->n; i++)
        alias_collect(mine[i], o);
    rc = store_alias_get(txn, o->address, alias_collect, o);
    if (rc && rc != PETREL_ENOTFOUND) return rc;
    if (o->too_many) return PETREL_ETOOBIG;
    rc = store_alias_set(txn, o->address, o->targets, o->total);
    memcpy(o->targets, mine, o->n * sizeof(mine[0]));
    return rc;
}

int cmd_alias_add(ctl_t *c, int argc, char **argv)
{
    struct alias_add_op o = {0};
    char *save = NULL;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 2, ARGS_POS_MAX, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    if (!strchr(o.address, '@') || strchr(o.address, '@')[1] == '\0')
        return out_fail("invalid alias address '%s' (local@domain or @domain)", o.address);
    /* targets: "a,b" or "a b" or both; split in place (argv strings are writable) */
    for (int i = 1; i < a.npos; i++) {
        for (char *t = strtok_r((char *)a.pos[i], ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            if (!ctl_is_address(t)) return out_fail("invalid target address '%s'", t);
            if (o.n >= STORE_ALIAS_TARGETS_MAX)
                return out_fail("more than %d targets", STORE_ALIAS_TARGETS_MAX);
            o.targets[o.n++] = t;
        }
    }
    if (o.n == 0) return ctl_usage(c, "no target given");
    o.old = malloc(ALIAS_TARGETS_BUF);
    if (!o.old || ctl_store(c, &st)) {
        free(o.old);
        return out_fail("cannot open the store");
    }
    rc = store_write(st, alias_add_run, &o);
    free(o.old);
    if (rc == PETREL_ETOOBIG)
        return out_fail("alias '%s' would have more than %d targets", o.address,
                        STORE_ALIAS_TARGETS_MAX);
    if (rc == PETREL_ENOTFOUND) return out_fail("no tenant for the domain of '%s'", o.address);
    if (rc == PETREL_EINVAL) return out_fail("invalid alias '%s' or target", o.address);
    if (rc) {
        char what[STORE_ADDRESS_MAX + 32];
        snprintf(what, sizeof(what), "alias '%s'", o.address);
        return ctl_store_fail(rc, what);
    }
    printf("alias %s now has %zu target%s\n", o.address, o.total, o.total == 1 ? "" : "s");
    return CTL_OK;
}

static int alias_del_run(store_txn_t *txn, void *arg)
{
    return store_alias_del(txn, arg);
}

int cmd_alias_del(ctl_t *c, int argc, char **argv)
{
    char what[STORE_ADDRESS_MAX + 32];
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, alias_del_run, (void *)a.pos[0]);
    snprintf(what, sizeof(what), "alias '%s'", a.pos[0]);
    if (rc) return ctl_store_fail(rc, what);
    printf("alias %s deleted\n", a.pos[0]);
    return CTL_OK;
}

struct alias_list_ctx {
    ctl_t *c;
    out_json_t w;
};

static int alias_list_one(const char *address, const char *const *targets, size_t n, void *arg)
{
    struct alias_list_ctx *x = arg;
    if (x->c->json) {
        out_json_obj_begin(&x->w);
        out_json_kstr(&x->w, "address", address);
        out_json_kbool(&x->w, "catch_all", address[0] == '@');
        out_json_key(&x->w, "targets");
        out_json_arr_begin(&x->w);
        for (size_t i = 0; i < n; i++)
            out_json_str(&x->w, targets[i]);
        out_json_arr_end(&x->w);
        out_json_obj_end(&x->w);
        return 0;
    }
    printf("%-40s", address);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? "," : " ", targets[i]);
    printf("\n");
    return 0;
}

struct alias_ids {
    uint64_t *v;
    size_t n, cap;
    int nomem;
};

static int alias_tenant_id(const store_tenant_t *t, void *arg)
{
    struct alias_ids *ids = arg;
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        uint64_t *p = realloc(ids->v, cap * sizeof(*p));
        if (!p) {
            ids->nomem = 1;
            return 1;
        }
        ids->v = p;
        ids->cap = cap;
    }
    ids->v[ids->n++] = t->id;
    return 0;
}

int cmd_alias_list(ctl_t *c, int argc, char **argv)
{
    struct alias_list_ctx x = {.c = c};
    store_txn_t *txn;
    store_tenant_t t = {0};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 0, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &txn)) return CTL_FAIL;
    if (ctl_tenant_filter(&txn, a.npos == 1 ? a.pos[0] : NULL, &t))
        return CTL_FAIL;
    out_json_init(&x.w, stdout);
    if (c->json) out_json_arr_begin(&x.w);
    if (a.npos == 1) {
        rc = store_alias_list(txn, t.id, alias_list_one, &x);
    } else {
        /* store_alias_list is per tenant: walk them all */
        struct alias_ids ids = {0};
        rc = store_tenant_list(txn, alias_tenant_id, &ids);
        if (ids.nomem) rc = PETREL_ENOMEM;
        for (size_t i = 0; rc >= 0 && i < ids.n; i++)
            rc = store_alias_list(txn, ids.v[i], alias_list_one, &x);
        free(ids.v);
    }
    store_txn_abort(&txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    return rc < 0 ? ctl_store_fail(rc, "alias list") : CTL_OK;
}
