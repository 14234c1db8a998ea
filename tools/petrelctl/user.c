/* user.c - petrelctl user add|del|passwd|list|show|set|rename. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char *user_status(uint32_t s)
{
    return s == STORE_SUSPENDED ? "suspended" : "active";
}

/* ------------------------------------------------------------------ add */
struct user_add_op {
    const char *address;
    char hash[STORE_HASH_MAX + 1];
    uint64_t quota, max_messages, id;
};

static int user_add_run(store_txn_t *txn, void *arg)
{
    struct user_add_op *o = arg;
    return store_user_add(txn, o->address, o->hash, o->quota, o->max_messages, &o->id);
}

/* Message for a failed user add/rename: names the value at fault. */
static int user_fail(int rc, const char *address)
{
    char what[STORE_ADDRESS_MAX + 32];
    const char *at = strrchr(address, '@');
    if (rc == PETREL_EINVAL) return out_fail("invalid address '%s'", address);
    if (rc == PETREL_ENOTFOUND && at)
        return out_fail("no tenant for domain '%s' (petrelctl tenant add %s)", at + 1, at + 1);
    snprintf(what, sizeof(what), "user '%s'", address);
    return ctl_store_fail(rc, what);
}

int cmd_user_add(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"password-stdin", 0, NULL, 0},
                         {"password-hash", 1, NULL, 0},
                         {"quota", 1, NULL, 0},
                         {"max-messages", 1, NULL, 0}};
    struct user_add_op o = {0};
    args_t a;
    store_t *st;
    int rc = ctl_args(c, argc, argv, opts, 4, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    if (opts[0].set && opts[1].set)
        return ctl_usage(c, "--password-stdin and --password-hash exclude each other");
    if (opts[2].value && args_parse_quota(opts[2].value, &o.quota))
        return ctl_usage(c, "invalid size '%s'", opts[2].value);
    if (opts[3].value && args_parse_count(opts[3].value, 1, &o.max_messages))
        return ctl_usage(c, "invalid message count '%s'", opts[3].value);
    if (!ctl_is_address(o.address) || strlen(o.address) > STORE_ADDRESS_MAX)
        return out_fail("invalid address '%s' (expected local@domain)", o.address);
    if (ctl_store(c, &st)) return CTL_FAIL;
    /* fail early on an unknown tenant or a duplicate: hashing takes a while */
    {
        store_txn_t *txn;
        store_user_t u;
        store_tenant_t t;
        if (ctl_read(c, &txn)) return CTL_FAIL;
        rc = store_tenant_get(txn, strrchr(o.address, '@') + 1, &t);
        if (!rc) rc = store_user_get(txn, o.address, &u) == 0 ? PETREL_EEXIST : 0;
        store_txn_abort(&txn);
        if (rc) return user_fail(rc, o.address);
    }
    if (ctl_password_opts(opts[1].value, opts[0].set > 0, o.hash, sizeof(o.hash))) return CTL_FAIL;
    rc = store_write(st, user_add_run, &o);
    explicit_bzero(o.hash, sizeof(o.hash));
    if (rc) return user_fail(rc, o.address);
    printf("user %s added\n", o.address);
    return CTL_OK;
}

/* ------------------------------------------------------------------ del, passwd, set */
struct user_upd_op {
    const char *address;
    int del;
    int set_hash;
    char hash[STORE_HASH_MAX + 1];
    int set_quota, set_messages, status;
    uint64_t quota, messages;
    store_usage_t used; /* out */
};

static int user_upd_run(store_txn_t *txn, void *arg)
{
    struct user_upd_op *o = arg;
    store_user_t u;
    int rc;
    if (o->del) return store_user_del(txn, o->address);
    rc = store_user_get(txn, o->address, &u);
    if (rc) return rc;
    if (o->set_hash) memcpy(u.pwhash, o->hash, sizeof(u.pwhash));
    if (o->set_quota) u.quota_bytes = o->quota;
    if (o->set_messages) u.quota_messages = o->messages;
    if (o->status >= 0) u.status = (uint32_t)o->status;
    rc = store_quota_user(txn, u.id, &o->used);
    if (!rc) rc = store_user_update(txn, &u);
    explicit_bzero(&u, sizeof(u));
    return rc;
}

static int user_upd(ctl_t *c, struct user_upd_op *o, const char *done)
{
    store_t *st;
    char what[STORE_ADDRESS_MAX + 32], q[32], u[32];
    int rc;
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, user_upd_run, o);
    explicit_bzero(o->hash, sizeof(o->hash));
    snprintf(what, sizeof(what), "user '%s'", o->address);
    if (rc) return ctl_store_fail(rc, what);
    if (o->set_quota && o->quota && o->quota < o->used.bytes)
        out_warn("the quota of %s (%s) is below its current usage (%s): new mail is refused",
                 o->address, args_format_size(o->quota, q, sizeof(q)),
                 args_format_size(o->used.bytes, u, sizeof(u)));
    if (o->set_messages && o->messages && o->messages < o->used.messages)
        out_warn("the message limit of %s (%llu) is below its current count (%llu)", o->address,
                 (unsigned long long)o->messages, (unsigned long long)o->used.messages);
    printf("user %s %s\n", o->address, done);
    return CTL_OK;
}

int cmd_user_del(ctl_t *c, int argc, char **argv)
{
    struct user_upd_op o = {.del = 1, .status = -1};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    return user_upd(c, &o, "deleted");
}

int cmd_user_passwd(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"password-stdin", 0, NULL, 0}, {"password-hash", 1, NULL, 0}};
    struct user_upd_op o = {.set_hash = 1, .status = -1};
    store_txn_t *txn;
    store_user_t u;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 2, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    if (opts[0].set && opts[1].set)
        return ctl_usage(c, "--password-stdin and --password-hash exclude each other");
    if (ctl_read(c, &txn)) return CTL_FAIL;
    rc = store_user_get(txn, o.address, &u);
    store_txn_abort(&txn);
    explicit_bzero(&u, sizeof(u));
    if (rc) {
        char what[STORE_ADDRESS_MAX + 32];
        snprintf(what, sizeof(what), "user '%s'", o.address);
        return ctl_store_fail(rc, what);
    }
    if (ctl_password_opts(opts[1].value, opts[0].set > 0, o.hash, sizeof(o.hash))) return CTL_FAIL;
    return user_upd(c, &o, "password changed");
}

int cmd_user_set(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"quota", 1, NULL, 0},
                         {"max-messages", 1, NULL, 0},
                         {"suspend", 0, NULL, 0},
                         {"resume", 0, NULL, 0}};
    struct user_upd_op o = {.status = -1};
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 4, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    if (opts[0].value && args_parse_quota(opts[0].value, &o.quota))
        return ctl_usage(c, "invalid size '%s'", opts[0].value);
    if (opts[1].value && args_parse_count(opts[1].value, 1, &o.messages))
        return ctl_usage(c, "invalid message count '%s'", opts[1].value);
    o.set_quota = opts[0].set > 0;
    o.set_messages = opts[1].set > 0;
    if (opts[2].set && opts[3].set)
        return ctl_usage(c, "--suspend and --resume exclude each other");
    if (opts[2].set || opts[3].set) o.status = opts[2].set ? STORE_SUSPENDED : STORE_ACTIVE;
    if (!o.set_quota && !o.set_messages && o.status < 0) return ctl_usage(c, "nothing to change");
    return user_upd(c, &o, "updated");
}

/* ------------------------------------------------------------------ rename */
struct user_rename_op {
    const char *from, *to;
};

static int user_rename_run(store_txn_t *txn, void *arg)
{
    struct user_rename_op *o = arg;
    return store_user_rename(txn, o->from, o->to);
}

int cmd_user_rename(ctl_t *c, int argc, char **argv)
{
    struct user_rename_op o;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 2, 2, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.from = a.pos[0];
    o.to = a.pos[1];
    if (!ctl_is_address(o.to))
        return out_fail("invalid address '%s' (expected local@domain)", o.to);
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, user_rename_run, &o);
    if (rc == PETREL_EEXIST) return out_fail("user '%s' already exists", o.to);
    if (rc == PETREL_ENOTFOUND) {
        store_txn_t *txn;
        store_user_t u;
        int r2;
        if (ctl_read(c, &txn)) return CTL_FAIL;
        r2 = store_user_get(txn, o.from, &u);
        store_txn_abort(&txn);
        if (r2 == PETREL_ENOTFOUND) return out_fail("user '%s' not found", o.from);
        return user_fail(rc, o.to);
    }
    if (rc) return user_fail(rc, rc == PETREL_EINVAL ? o.to : o.from);
    printf("user %s renamed to %s\n", o.from, o.to);
    return CTL_OK;
}

/* ------------------------------------------------------------------ list, show */
struct user_list_ctx {
    ctl_t *c;
    store_txn_t *txn;
    out_json_t w;
    int rc;
};

static void user_json(out_json_t *w, const store_user_t *u, const store_usage_t *used)
{
    char when[32];
    out_json_kstr(w, "address", u->address);
    out_json_ku64(w, "id", u->id);
    out_json_kstr(w, "status", user_status(u->status));
    out_json_ku64(w, "quota_bytes", u->quota_bytes);
    out_json_ku64(w, "used_bytes", used->bytes);
    out_json_ku64(w, "max_messages", u->quota_messages);
    out_json_ku64(w, "messages", used->messages);
    out_json_kstr(w, "created", out_time(u->created, when, sizeof(when)));
    if (u->last_login)
        out_json_kstr(w, "last_login", out_time(u->last_login, when, sizeof(when)));
    else
        out_json_kstr(w, "last_login", NULL);
}

static int user_list_one(const store_user_t *u, void *arg)
{
    struct user_list_ctx *x = arg;
    store_usage_t used;
    char q[32], b[32];
    x->rc = store_quota_user(x->txn, u->id, &used);
    if (x->rc) return 1;
    if (x->c->json) {
        out_json_obj_begin(&x->w);
        user_json(&x->w, u, &used);
        out_json_obj_end(&x->w);
        return 0;
    }
    printf("%-40s %-9s %10s %10s %8llu\n", u->address, user_status(u->status),
           args_format_size(used.bytes, b, sizeof(b)),
           u->quota_bytes ? args_format_size(u->quota_bytes, q, sizeof(q)) : "unlimited",
           (unsigned long long)used.messages);
    return 0;
}

int cmd_user_list(ctl_t *c, int argc, char **argv)
{
    struct user_list_ctx x = {.c = c};
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
        printf("%-40s %-9s %10s %10s %8s\n", "ADDRESS", "STATUS", "USED", "QUOTA", "MESSAGES");
    rc = store_user_list(x.txn, t.id, user_list_one, &x);
    store_txn_abort(&x.txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    if (x.rc || rc < 0) return ctl_store_fail(x.rc ? x.rc : rc, "user list");
    return CTL_OK;
}

static int user_mailbox_one(const store_mailbox_t *m, void *arg)
{
    out_json_t *w = arg;
    char b[32];
    if (w) {
        out_json_obj_begin(w);
        out_json_kstr(w, "name", m->name);
        out_json_ku64(w, "messages", m->messages);
        out_json_ku64(w, "unseen", m->unseen);
        out_json_ku64(w, "bytes", m->bytes);
        out_json_obj_end(w);
    } else {
        printf("  %-30s %8u messages %8u unseen %10s\n", m->name, m->messages, m->unseen,
               args_format_size(m->bytes, b, sizeof(b)));
    }
    return 0;
}

int cmd_user_show(ctl_t *c, int argc, char **argv)
{
    store_txn_t *txn;
    store_user_t u;
    store_usage_t used;
    char what[STORE_ADDRESS_MAX + 32], q[32], b[32], cr[32], ll[32], ml[32] = "unlimited";
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    snprintf(what, sizeof(what), "user '%s'", a.pos[0]);
    if (ctl_read(c, &txn)) return CTL_FAIL;
    rc = store_user_get(txn, a.pos[0], &u);
    if (!rc) rc = store_quota_user(txn, u.id, &used);
    if (rc) {
        store_txn_abort(&txn);
        return ctl_store_fail(rc, what);
    }
    if (u.quota_messages) snprintf(ml, sizeof(ml), "%llu", (unsigned long long)u.quota_messages);
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        user_json(&w, &u, &used);
        out_json_key(&w, "mailboxes");
        out_json_arr_begin(&w);
        rc = store_mailbox_list(txn, u.id, user_mailbox_one, &w);
        out_json_arr_end(&w);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else {
        printf("address:     %s\nid:          %llu\nstatus:      %s\nquota:       %s of %s\n"
               "messages:    %llu of %s\ncreated:     %s\nlast login:  %s\nmailboxes:\n",
               u.address, (unsigned long long)u.id, user_status(u.status),
               args_format_size(used.bytes, b, sizeof(b)),
               u.quota_bytes ? args_format_size(u.quota_bytes, q, sizeof(q)) : "unlimited",
               (unsigned long long)used.messages, ml, out_time(u.created, cr, sizeof(cr)),
               out_time(u.last_login, ll, sizeof(ll)));
        rc = store_mailbox_list(txn, u.id, user_mailbox_one, NULL);
    }
    store_txn_abort(&txn);
    explicit_bzero(&u, sizeof(u));
    return rc < 0 ? ctl_store_fail(rc, what) : CTL_OK;
}
