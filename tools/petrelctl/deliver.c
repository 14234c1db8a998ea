/*
 * deliver.c - petrelctl deliver: local delivery of the message on stdin,
 * usable as an MDA from another MTA (Postfix mailbox_command, Exim pipe).
 *
 * Exit codes follow sysexits(3), as an LDA's do: 0 delivered (committed,
 * fsync'ed), 64 usage, 65 empty message, 67 unknown user, 73 over quota or
 * too big (EX_CANTCREAT: the MTA bounces), 75 temporary failure (suspended
 * tenant or user, store error: the MTA retries).
 *
 * With several recipients (an alias), each user's copy is its own nested
 * transaction: a user over quota is skipped with a warning while the others
 * get the message; only when every copy is refused does the command fail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "util/buf.h"
#include "util/err.h"

#define DELIVER_MAX (50u * 1024 * 1024) /* as petreld's default max_message_size */

enum { EX_USAGE_ = 64, EX_DATAERR_ = 65, EX_NOUSER_ = 67, EX_CANTCREAT_ = 73, EX_TEMPFAIL_ = 75 };

struct deliver_op {
    const char *address, *mailbox;
    store_append_t in;
    store_target_t targets[STORE_RCPT_MAX_USERS];
    int results[STORE_RCPT_MAX_USERS];
    uint32_t uids[STORE_RCPT_MAX_USERS];
    size_t n;
    int fallback; /* --mailbox did not exist for some user: INBOX used */
    int too_many; /* the address expands to more than STORE_RCPT_MAX_USERS users */
};

static int deliver_run(store_txn_t *txn, void *arg)
{
    struct deliver_op *o = arg;
    store_rcpt_t r;
    int rc = store_resolve_rcpt(txn, o->address, &r);
    o->too_many = rc == PETREL_ETOOBIG;
    if (rc) return rc;
    o->n = 0;
    o->fallback = 0;
    for (size_t i = 0; i < r.n && o->n < STORE_RCPT_MAX_USERS; i++) {
        store_mailbox_t m;
        rc = o->mailbox ? store_mailbox_get(txn, r.user_ids[i], o->mailbox, &m) : PETREL_ENOTFOUND;
        if (rc == PETREL_ENOTFOUND) {
            o->fallback |= o->mailbox != NULL;
            rc = store_mailbox_get(txn, r.user_ids[i], "INBOX", &m);
        }
        if (rc) return rc;
        o->targets[o->n].user_id = r.user_ids[i];
        o->targets[o->n].mailbox_id = m.id;
        o->n++;
    }
    rc = store_msg_deliver(txn, &o->in, o->targets, o->n, o->results, o->uids);
    if (rc) return rc;
    /* anything but a quota refusal is a reason to retry the whole delivery */
    for (size_t i = 0; i < o->n; i++)
        if (o->results[i] && o->results[i] != PETREL_EQUOTA && o->results[i] != PETREL_ETENANTQUOTA)
            return o->results[i];
    return 0;
}

static int deliver_read(buf_t *b)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(0, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return PETREL_EIO;
        if (n == 0) return 0;
        if (buf_append(b, chunk, (size_t)n)) return PETREL_ETOOBIG;
    }
}

int cmd_deliver(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"mailbox", 1, NULL, 0}, {"flags", 1, NULL, 0}};
    struct deliver_op o = {0};
    char kwbuf[1024];
    const char *kws[ARGS_KEYWORDS_MAX];
    size_t nkw = 0, ok = 0;
    buf_t msg;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 2, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : EX_USAGE_;
    o.address = a.pos[0];
    o.mailbox = opts[0].value;
    if (opts[1].value && args_parse_flags(opts[1].value, &o.in.flags, kwbuf, sizeof(kwbuf), kws,
                                          ARGS_KEYWORDS_MAX, &nkw)) {
        ctl_usage(c, "invalid flags '%s'", opts[1].value);
        return EX_USAGE_;
    }
    o.in.keywords = kws;
    o.in.nkeywords = nkw;
    buf_init(&msg, DELIVER_MAX);
    rc = deliver_read(&msg);
    if (rc == PETREL_ETOOBIG) {
        buf_free(&msg);
        out_fail("message to %s is larger than %u bytes", o.address, DELIVER_MAX);
        return EX_CANTCREAT_;
    }
    if (rc || msg.len == 0) {
        buf_free(&msg);
        out_fail(rc ? "cannot read the message from stdin" : "empty message");
        return rc ? EX_TEMPFAIL_ : EX_DATAERR_;
    }
    o.in.data = msg.data;
    o.in.len = msg.len;
    if (ctl_store(c, &st)) {
        buf_free(&msg);
        return EX_TEMPFAIL_;
    }
    rc = store_write(st, deliver_run, &o);
    buf_free(&msg);
    switch (rc) {
    case 0:
        break;
    case PETREL_ENOTFOUND:
    case PETREL_EINVAL:
        out_fail("unknown user '%s'", o.address);
        return EX_NOUSER_;
    case PETREL_EPERM:
        out_fail("mailbox of '%s' is suspended", o.address);
        return EX_TEMPFAIL_;
    case PETREL_ETOOBIG:
        if (o.too_many)
            out_fail("%s expands to more than %d users", o.address, STORE_RCPT_MAX_USERS);
        else
            out_fail("message to %s is too big", o.address);
        return EX_CANTCREAT_;
    default:
        out_fail("delivery to %s failed: %s", o.address, petrel_strerror(rc));
        return EX_TEMPFAIL_;
    }
    for (size_t i = 0; i < o.n; i++)
        if (o.results[i] == 0) ok++;
    if (ok == 0) {
        out_fail("%s is over quota", o.address);
        return EX_CANTCREAT_;
    }
    if (ok < o.n)
        out_warn("%zu of %zu recipients of %s are over quota and did not get the message", o.n - ok,
                 o.n, o.address);
    if (o.fallback) out_warn("mailbox '%s' does not exist: delivered to INBOX", o.mailbox);
    return CTL_OK;
}
