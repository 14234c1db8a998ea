/* mailbox.c - petrelctl mailbox list|create|delete|rename|expunge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "util/str.h"

static const struct {
    const char *name;
    uint32_t bit;
} mailbox_uses[] = {{"sent", STORE_SU_SENT},       {"drafts", STORE_SU_DRAFTS},
                    {"trash", STORE_SU_TRASH},     {"junk", STORE_SU_JUNK},
                    {"archive", STORE_SU_ARCHIVE}, {"all", STORE_SU_ALL},
                    {"flagged", STORE_SU_FLAGGED}};
#define MAILBOX_NUSES (sizeof(mailbox_uses) / sizeof(mailbox_uses[0]))

static char *mailbox_use_format(uint32_t bits, char *dst, size_t dstsize)
{
    size_t off = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < MAILBOX_NUSES; i++)
        if (bits & mailbox_uses[i].bit) {
            int n = snprintf(dst + off, dstsize - off, "%s\\%c%s", off ? " " : "",
                             str_ascii_upper(mailbox_uses[i].name[0]), mailbox_uses[i].name + 1);
            if (n < 0 || (size_t)n >= dstsize - off) break;
            off += (size_t)n;
        }
    return dst;
}

/* The user's id; prints the failure. */
static int mailbox_user(store_txn_t *txn, const char *address, uint64_t *id_r)
{
    store_user_t u;
    char what[STORE_ADDRESS_MAX + 32];
    int rc = store_user_get(txn, address, &u);
    if (rc) {
        snprintf(what, sizeof(what), "user '%s'", address);
        ctl_store_fail(rc, what);
        return rc;
    }
    *id_r = u.id;
    explicit_bzero(&u, sizeof(u));
    return 0;
}

/* ------------------------------------------------------------------ list */
struct mailbox_list_ctx {
    ctl_t *c;
    out_json_t w;
};

static int mailbox_list_one(const store_mailbox_t *m, void *arg)
{
    struct mailbox_list_ctx *x = arg;
    char use[96], b[32];
    mailbox_use_format(m->special_use, use, sizeof(use));
    if (x->c->json) {
        out_json_obj_begin(&x->w);
        out_json_kstr(&x->w, "name", m->name);
        out_json_ku64(&x->w, "messages", m->messages);
        out_json_ku64(&x->w, "unseen", m->unseen);
        out_json_ku64(&x->w, "bytes", m->bytes);
        out_json_kstr(&x->w, "special_use", use);
        out_json_ku64(&x->w, "uidvalidity", m->uidvalidity);
        out_json_ku64(&x->w, "uidnext", m->uidnext);
        out_json_kbool(&x->w, "subscribed", m->subscribed);
        out_json_obj_end(&x->w);
        return 0;
    }
    printf("%-32s %8u %8u %10s %s\n", m->name, m->messages, m->unseen,
           args_format_size(m->bytes, b, sizeof(b)), use);
    return 0;
}

int cmd_mailbox_list(ctl_t *c, int argc, char **argv)
{
    struct mailbox_list_ctx x = {.c = c};
    store_txn_t *txn;
    uint64_t uid;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_read(c, &txn)) return CTL_FAIL;
    if (mailbox_user(txn, a.pos[0], &uid)) {
        store_txn_abort(&txn);
        return CTL_FAIL;
    }
    out_json_init(&x.w, stdout);
    if (c->json)
        out_json_arr_begin(&x.w);
    else
        printf("%-32s %8s %8s %10s %s\n", "NAME", "MESSAGES", "UNSEEN", "SIZE", "SPECIAL-USE");
    rc = store_mailbox_list(txn, uid, mailbox_list_one, &x);
    store_txn_abort(&txn);
    if (c->json) {
        out_json_arr_end(&x.w);
        out_json_done(&x.w);
    }
    return rc < 0 ? ctl_store_fail(rc, "mailbox list") : CTL_OK;
}

/* ------------------------------------------------------------------ create, delete, rename */
enum mailbox_verb { MB_CREATE, MB_DELETE, MB_RENAME };

struct mailbox_op {
    enum mailbox_verb verb;
    const char *address, *name, *new_name;
    uint32_t special_use;
    int user_missing; /* out */
};

static int mailbox_run(store_txn_t *txn, void *arg)
{
    struct mailbox_op *o = arg;
    store_user_t u;
    uint32_t id;
    int rc = store_user_get(txn, o->address, &u);
    o->user_missing = rc == PETREL_ENOTFOUND;
    if (rc) return rc;
    switch (o->verb) {
    case MB_CREATE:
        return store_mailbox_create(txn, u.id, o->name, o->special_use, &id);
    case MB_DELETE:
        return store_mailbox_delete(txn, u.id, o->name);
    case MB_RENAME:
        return store_mailbox_rename(txn, u.id, o->name, o->new_name);
    }
    return PETREL_EINVAL;
}

static int mailbox_change(ctl_t *c, struct mailbox_op *o)
{
    static const char *const done[] = {"created", "deleted", "renamed"};
    char what[STORE_ADDRESS_MAX + STORE_MAILBOX_NAME_MAX + 64];
    store_t *st;
    int rc;
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, mailbox_run, o);
    if (rc && o->user_missing)
        snprintf(what, sizeof(what), "user '%s'", o->address);
    else if (rc == PETREL_EEXIST && o->verb == MB_RENAME)
        snprintf(what, sizeof(what), "mailbox '%s' of %s", o->new_name, o->address);
    else
        snprintf(what, sizeof(what), "mailbox '%s' of %s", o->name, o->address);
    if (rc == PETREL_EPERM) return out_fail("%s cannot be deleted", what);
    if (rc == PETREL_EINVAL)
        return out_fail("invalid mailbox name '%s'", o->verb == MB_RENAME ? o->new_name : o->name);
    if (rc) return ctl_store_fail(rc, what);
    if (o->verb == MB_RENAME)
        printf("mailbox %s of %s renamed to %s\n", o->name, o->address, o->new_name);
    else
        printf("mailbox %s of %s %s\n", o->name, o->address, done[o->verb]);
    return CTL_OK;
}

int cmd_mailbox_create(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"special-use", 1, NULL, 0}};
    struct mailbox_op o = {.verb = MB_CREATE};
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 1, 2, 2, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (opts[0].value) {
        const char *v = opts[0].value[0] == '\\' ? opts[0].value + 1 : opts[0].value;
        for (size_t i = 0; i < MAILBOX_NUSES; i++)
            if (str_casecmp(v, mailbox_uses[i].name) == 0) o.special_use = mailbox_uses[i].bit;
        if (!o.special_use) return ctl_usage(c, "unknown special-use '%s'", opts[0].value);
    }
    o.address = a.pos[0];
    o.name = a.pos[1];
    return mailbox_change(c, &o);
}

int cmd_mailbox_delete(ctl_t *c, int argc, char **argv)
{
    struct mailbox_op o = {.verb = MB_DELETE};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 2, 2, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    o.name = a.pos[1];
    return mailbox_change(c, &o);
}

int cmd_mailbox_rename(ctl_t *c, int argc, char **argv)
{
    struct mailbox_op o = {.verb = MB_RENAME};
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 3, 3, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    o.name = a.pos[1];
    o.new_name = a.pos[2];
    return mailbox_change(c, &o);
}

/* ------------------------------------------------------------------ expunge */
struct expunge_op {
    const char *address, *name;
    int have_before, seen;
    int64_t before;
    uint32_t *uids; /* scratch: matching uids */
    size_t n, cap;
    int nomem;
    int user_missing;
};

static int expunge_match(const store_msg_t *m, void *arg)
{
    struct expunge_op *o = arg;
    int match;
    if (!o->have_before && !o->seen)
        match = (m->flags & STORE_F_DELETED) != 0;
    else
        match = (!o->have_before || m->internal_date < o->before) &&
                (!o->seen || (m->flags & STORE_F_SEEN));
    if (!match) return 0;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        uint32_t *p = realloc(o->uids, cap * sizeof(*p));
        if (!p) {
            o->nomem = 1;
            return 1;
        }
        o->uids = p;
        o->cap = cap;
    }
    o->uids[o->n++] = m->uid;
    return 0;
}

static int expunge_run(store_txn_t *txn, void *arg)
{
    struct expunge_op *o = arg;
    store_user_t u;
    store_mailbox_t mb;
    int rc = store_user_get(txn, o->address, &u);
    o->user_missing = rc == PETREL_ENOTFOUND;
    o->n = 0;
    if (!rc) rc = store_mailbox_get(txn, u.id, o->name, &mb);
    if (!rc) rc = store_msg_list(txn, u.id, mb.id, 1, UINT32_MAX, expunge_match, o);
    if (o->nomem) return PETREL_ENOMEM;
    if (rc < 0) return rc;
    for (size_t i = 0; i < o->n; i++) {
        rc = store_msg_expunge(txn, u.id, mb.id, o->uids[i]);
        if (rc) return rc;
    }
    return 0;
}

int cmd_mailbox_expunge(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"before", 1, NULL, 0}, {"seen", 0, NULL, 0}};
    struct expunge_op o = {0};
    char what[STORE_ADDRESS_MAX + STORE_MAILBOX_NAME_MAX + 64];
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 2, 2, 2, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    o.address = a.pos[0];
    o.name = a.pos[1];
    if (opts[0].value) {
        if (args_parse_date(opts[0].value, (int64_t)time(NULL), &o.before))
            return ctl_usage(c, "invalid date '%s'", opts[0].value);
        o.have_before = 1;
    }
    o.seen = opts[1].set > 0;
    if (ctl_store(c, &st)) return CTL_FAIL;
    rc = store_write(st, expunge_run, &o);
    free(o.uids);
    if (o.user_missing)
        snprintf(what, sizeof(what), "user '%s'", o.address);
    else
        snprintf(what, sizeof(what), "mailbox '%s' of %s", o.name, o.address);
    if (rc) return ctl_store_fail(rc, what);
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        out_json_ku64(&w, "expunged", o.n);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else {
        printf("%zu message%s expunged from %s of %s\n", o.n, o.n == 1 ? "" : "s", o.name,
               o.address);
    }
    return CTL_OK;
}
