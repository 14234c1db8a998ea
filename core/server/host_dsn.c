/*
 * host_dsn.c - delivery status notifications (RFC 3461 / RFC 3464) made in
 * the same transaction as the delivery they report on (host->w_dsn).
 *
 * Decisions (docs/smtp.md):
 *  - one DSN per recipient (RFC 3464 allows several recipients per report;
 *    one each keeps a queue item self-contained);
 *  - a recipient is "delivered" when one of its users got the message (an
 *    alias reaching several users counts as delivered, as LMTP answers it);
 *  - "failed" only when the message was accepted for someone else: a message
 *    refused as a whole got a 5xx and the client bounces it itself;
 *  - the null return path never gets a DSN (RFC 3461 5.2.1 / RFC 5321 4.5.5);
 *  - a local return path gets the report in its INBOX at once, a remote one
 *    is queued (store_dsn_add) with a blob reference; a local address that
 *    does not resolve (unknown user, suspended) is dropped with a log line,
 *    as relaying it to ourselves later could never succeed;
 *  - content returned: the headers for "delivered" (RFC 3461 4.3) and for
 *    RET=HDRS, the whole message for a "failed" one otherwise.
 */
#include "server/host_dsn.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"

#define SRV_DSN_REPORT_EXTRA (64u << 10) /* report bytes besides the returned message */

/* ------------------------------------------------------------ copy */

static int srv_dsn_strdup(const char *in, size_t max, int optional, char **out_r)
{
    *out_r = NULL;
    if (!in)
        return optional ? 0 : PETREL_EINVAL;
    size_t n = strnlen(in, max + 1);
    if (n > max || memchr(in, '\r', n) || memchr(in, '\n', n))
        return PETREL_EINVAL;
    if (optional && n == 0)
        return 0;
    *out_r = strdup(in);
    return *out_r ? 0 : PETREL_ENOMEM;
}

void srv_dsn_free(struct srv_dsn **dp)
{
    struct srv_dsn *d = *dp;
    if (!d)
        return;
    for (size_t i = 0; i < d->nrcpts; i++) {
        free(d->rcpts[i].rcpt);
        free(d->rcpts[i].orcpt);
        free(d->rcpts[i].users);
    }
    free(d->rcpts);
    free(d->return_path);
    free(d->envid);
    free(d);
    *dp = NULL;
}

static int srv_dsn_rcpt_copy(const struct petrel_dsn_rcpt *in, struct srv_dsn_rcpt *r)
{
    int rc = srv_dsn_strdup(in->rcpt, STORE_DSN_ADDR_MAX, 0, &r->rcpt);
    if (!rc)
        rc = srv_dsn_strdup(in->orcpt, STORE_DSN_ADDR_MAX, 1, &r->orcpt);
    if (rc)
        return rc;
    if (in->nusers > PETREL_RCPT_MAX || (in->nusers && !in->users))
        return PETREL_EINVAL;
    r->notify = in->notify;
    r->nusers = in->nusers;
    if (in->nusers) {
        if (!(r->users = malloc(in->nusers * sizeof(*r->users))))
            return PETREL_ENOMEM;
        memcpy(r->users, in->users, in->nusers * sizeof(*r->users));
    }
    return 0;
}

int srv_dsn_copy(const struct petrel_dsn *d, const char *reporting_mta, struct srv_dsn **out_r)
{
    *out_r = NULL;
    if (!d || d->struct_size < offsetof(struct petrel_dsn, rcpt_size) + sizeof(size_t) ||
        d->nrcpts > SRV_DSN_RCPTS_MAX || (d->nrcpts && !d->rcpts) ||
        d->rcpt_size < offsetof(struct petrel_dsn_rcpt, nusers) + sizeof(size_t) ||
        d->ret < PETREL_DSN_RET_NONE || d->ret > PETREL_DSN_RET_HDRS)
        return PETREL_EINVAL;
    struct srv_dsn *c = calloc(1, sizeof(*c));
    if (!c)
        return PETREL_ENOMEM;
    int rc = srv_dsn_strdup(d->return_path, STORE_DSN_ADDR_MAX, 0, &c->return_path);
    if (!rc)
        rc = srv_dsn_strdup(d->envid, STORE_DSN_ENVID_MAX, 1, &c->envid);
    if (!rc && d->nrcpts && !(c->rcpts = calloc(d->nrcpts, sizeof(*c->rcpts))))
        rc = PETREL_ENOMEM;
    for (size_t i = 0; !rc && i < d->nrcpts; i++) {
        const struct petrel_dsn_rcpt *in =
            (const void *)((const char *)d->rcpts + i * d->rcpt_size);
        c->nrcpts = i + 1;
        rc = srv_dsn_rcpt_copy(in, &c->rcpts[i]);
    }
    if (rc) {
        srv_dsn_free(&c);
        return rc;
    }
    c->ret = d->ret;
    c->arrival = (int64_t)time(NULL);
    str_lcpy(c->reporting_mta, reporting_mta ? reporting_mta : "localhost",
             sizeof(c->reporting_mta));
    *out_r = c;
    return 0;
}

/* ------------------------------------------------------------ the report */

static void srv_dsn_date(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* Length of the header block of msg, its closing empty line excluded. */
static size_t srv_dsn_header_len(const char *msg, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (msg[i] == '\r' && msg[i + 1] == '\n' && msg[i + 2] == '\r' && msg[i + 3] == '\n')
            return i + 2;
    if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
        return 0;
    return len;
}

static const char *srv_dsn_human(const store_dsn_t *it)
{
    if (it->action == STORE_DSN_DELIVERED)
        return "Your message was successfully delivered to the destination listed below.\r\n"
               "This is a delivery status notification you asked for (NOTIFY=SUCCESS).";
    return "Your message could not be delivered to the recipient listed below: it was\r\n"
           "accepted, but storing it for that recipient failed afterwards.";
}

int srv_dsn_report(const store_dsn_t *it, const void *msg, size_t len, buf_t *out)
{
    static atomic_uint_fast64_t seq;
    uint64_t n = (uint64_t)atomic_fetch_add(&seq, 1) + 1;
    int full = it->action == STORE_DSN_FAILED && it->ret != STORE_DSN_RET_HDRS;
    size_t hl = srv_dsn_header_len(msg, len);
    char now[64], arrival[64], bnd[96];
    srv_dsn_date((int64_t)time(NULL), now, sizeof(now));
    srv_dsn_date(it->arrival, arrival, sizeof(arrival));
    snprintf(bnd, sizeof(bnd), "=_petrel_dsn_%lld_%d_%llu", (long long)time(NULL), (int)getpid(),
             (unsigned long long)n);
    const char *what = it->action == STORE_DSN_DELIVERED ? "delivered" : "failed";
    int rc = buf_printf(
        out,
        "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
        "To: <%s>\r\n"
        "Subject: %s\r\n"
        "Date: %s\r\n"
        "Message-ID: <dsn.%lld.%d.%llu@%s>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"%s\"\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        "\r\n--%s\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Content-Description: Notification\r\n"
        "\r\n"
        "This is the mail system at host %s.\r\n\r\n%s\r\n\r\n  <%s>: %s%s%s\r\n"
        "\r\n--%s\r\n"
        "Content-Type: message/delivery-status\r\n"
        "Content-Description: Delivery report\r\n"
        "\r\n"
        "Reporting-MTA: dns; %s\r\n",
        it->reporting_mta, it->return_path,
        it->action == STORE_DSN_DELIVERED ? "Successful Mail Delivery Report"
                                          : "Undelivered Mail Returned to Sender",
        now, (long long)time(NULL), (int)getpid(), (unsigned long long)n, it->reporting_mta, bnd,
        bnd, it->reporting_mta, srv_dsn_human(it), it->rcpt, what,
        it->diagnostic[0] ? ": " : "", it->diagnostic, bnd, it->reporting_mta);
    if (!rc && it->envid[0])
        rc = buf_printf(out, "Original-Envelope-Id: %s\r\n", it->envid);
    if (!rc)
        rc = buf_printf(out, "Arrival-Date: %s\r\n\r\nFinal-Recipient: rfc822; %s\r\n", arrival,
                        it->rcpt);
    if (!rc && it->orcpt[0])
        rc = buf_printf(out, "Original-Recipient: %s\r\n", it->orcpt);
    if (!rc)
        rc = buf_printf(out, "Action: %s\r\nStatus: %s\r\n", what, it->status);
    if (!rc && it->diagnostic[0])
        rc = buf_printf(out, "Diagnostic-Code: %s\r\n", it->diagnostic);
    if (!rc)
        rc = buf_printf(out, "\r\n--%s\r\nContent-Type: %s\r\nContent-Description: %s\r\n\r\n",
                        bnd, full ? "message/rfc822" : "text/rfc822-headers",
                        full ? "Undelivered Message" : "Message Headers");
    if (!rc)
        rc = buf_append(out, msg, full ? len : hl);
    if (!rc)
        rc = buf_printf(out, "%s--%s--\r\n",
                        (full ? len : hl) >= 2 && ((const char *)msg)[(full ? len : hl) - 1] == '\n'
                            ? "\r\n"
                            : "\r\n\r\n",
                        bnd);
    return rc;
}

/* ------------------------------------------------------------ per recipient */

static void srv_dsn_failure(int err, store_dsn_t *it)
{
    const char *status = "5.3.0", *text = "554 5.3.0 Storing the message failed";
    if (err == PETREL_EQUOTA || err == PETREL_ETENANTQUOTA) {
        status = "5.2.2";
        text = "552 5.2.2 Mailbox full";
    } else if (err == PETREL_ETOOBIG) {
        status = "5.3.4";
        text = "552 5.3.4 Message too big for the mailbox";
    }
    str_lcpy(it->status, status, sizeof(it->status));
    snprintf(it->diagnostic, sizeof(it->diagnostic), "smtp; %s", text);
}

/* Delivers the report into the INBOX of the local users of the return path. */
static int srv_dsn_local(store_txn_t *txn, const store_rcpt_t *to, const store_dsn_t *it,
                         const void *msg, size_t len)
{
    buf_t b;
    buf_init(&b, len + SRV_DSN_REPORT_EXTRA);
    /* a DSN is sent with the null return path (RFC 3461 6.2): never answered by another */
    int rc = buf_append_str(&b, "Return-Path: <>\r\n");
    if (!rc)
        rc = srv_dsn_report(it, msg, len, &b);
    store_target_t t[STORE_RCPT_MAX_USERS];
    int res[STORE_RCPT_MAX_USERS];
    uint32_t uids[STORE_RCPT_MAX_USERS];
    for (size_t i = 0; !rc && i < to->n; i++) {
        store_mailbox_t m;
        t[i].user_id = to->user_ids[i];
        rc = store_mailbox_get(txn, to->user_ids[i], "INBOX", &m);
        t[i].mailbox_id = m.id;
    }
    if (!rc) {
        store_append_t in = {.data = b.data, .len = b.len, .internal_date = (int64_t)time(NULL)};
        rc = store_msg_deliver(txn, &in, t, to->n, res, uids);
    }
    for (size_t i = 0; !rc && i < to->n; i++)
        log_info("event=dsn_delivered_local action=%s rcpt=<%s> to=<%s> user_id=%llu uid=%u "
                 "rc=%d",
                 it->action == STORE_DSN_DELIVERED ? "delivered" : "failed", it->rcpt,
                 it->return_path, (unsigned long long)t[i].user_id, uids[i], res[i]);
    buf_free(&b);
    return rc;
}

/* Sends item where it goes: a local INBOX, the outbound queue, or nowhere. */
static int srv_dsn_emit(store_txn_t *txn, const store_dsn_t *it, const void *msg, size_t len)
{
    store_rcpt_t to;
    int rc = store_resolve_rcpt(txn, it->return_path, &to);
    if (rc == 0 && to.n > 0)
        return srv_dsn_local(txn, &to, it, msg, len);
    if (rc == PETREL_ECONFLICT)
        return rc;
    const char *at = strrchr(it->return_path, '@');
    store_tenant_t t;
    if (rc == PETREL_EPERM || (at && store_tenant_get(txn, at + 1, &t) == 0)) {
        log_warn("event=dsn_dropped reason=\"local return path cannot receive\" to=<%s> "
                 "rcpt=<%s> rc=%d",
                 it->return_path, it->rcpt, rc);
        return 0;
    }
    uint64_t id = 0;
    rc = store_dsn_add(txn, it, msg, len, &id);
    if (rc == 0)
        log_info("event=dsn_queued id=%llu action=%s rcpt=<%s> to=<%s> status=%s",
                 (unsigned long long)id, it->action == STORE_DSN_DELIVERED ? "delivered" : "failed",
                 it->rcpt, it->return_path, it->status);
    return rc;
}

/* What NOTIFY asks for this outcome; 0 for nothing. */
static uint32_t srv_dsn_action(unsigned notify, int ok, int accepted)
{
    if (notify & PETREL_DSN_NEVER)
        return 0;
    if (ok)
        return (notify & PETREL_DSN_SUCCESS) ? STORE_DSN_DELIVERED : 0;
    if (!accepted)
        return 0;
    return notify == 0 || (notify & PETREL_DSN_FAILURE) ? STORE_DSN_FAILED : 0;
}

/* How recipient r fared: *action_r 0 (no DSN due) or a store_dsn_action. */
static void srv_dsn_rcpt_outcome(const struct srv_dsn_rcpt *r, int accepted, srv_dsn_result_fn fn,
                                 void *arg, uint32_t *action_r, int *err_r, const void **msg_r,
                                 size_t *len_r)
{
    int ok = 0, err = 0;
    *msg_r = NULL;
    *len_r = 0;
    for (size_t j = 0; j < r->nusers; j++) {
        int urc;
        const void *m;
        size_t ml;
        if (fn(arg, r->users[j], &urc, &m, &ml) != 0)
            continue;
        if (!*msg_r) {
            *msg_r = m;
            *len_r = ml;
        }
        if (urc == 0)
            ok = 1;
        else if (!err)
            err = urc;
    }
    *err_r = ok ? 0 : err;
    *action_r = *msg_r ? srv_dsn_action(r->notify, ok, accepted) : 0;
}

static int srv_dsn_rcpt_run(store_txn_t *txn, const struct srv_dsn *d,
                            const struct srv_dsn_rcpt *r, int accepted, srv_dsn_result_fn fn,
                            void *arg)
{
    uint32_t action;
    int err;
    const void *msg;
    size_t len;
    srv_dsn_rcpt_outcome(r, accepted, fn, arg, &action, &err, &msg, &len);
    if (!action)
        return 0;
    store_dsn_t it;
    memset(&it, 0, sizeof(it));
    it.action = action;
    it.ret = (uint32_t)d->ret;
    it.arrival = d->arrival;
    if (action == STORE_DSN_DELIVERED)
        str_lcpy(it.status, "2.0.0", sizeof(it.status));
    else
        srv_dsn_failure(err, &it);
    str_lcpy(it.envid, d->envid ? d->envid : "", sizeof(it.envid));
    str_lcpy(it.return_path, d->return_path, sizeof(it.return_path));
    str_lcpy(it.orcpt, r->orcpt ? r->orcpt : "", sizeof(it.orcpt));
    str_lcpy(it.rcpt, r->rcpt, sizeof(it.rcpt));
    str_lcpy(it.reporting_mta, d->reporting_mta, sizeof(it.reporting_mta));
    return srv_dsn_emit(txn, &it, msg, len);
}

int srv_dsn_due(const struct srv_dsn *d, int accepted, srv_dsn_result_fn fn, void *arg)
{
    if (!d->return_path[0]) /* the null path: never a DSN */
        return 0;
    for (size_t i = 0; i < d->nrcpts; i++) {
        uint32_t action;
        int err;
        const void *msg;
        size_t len;
        srv_dsn_rcpt_outcome(&d->rcpts[i], accepted, fn, arg, &action, &err, &msg, &len);
        if (action)
            return 1;
    }
    return 0;
}

int srv_dsn_run(store_txn_t *txn, const struct srv_dsn *d, int accepted, srv_dsn_result_fn fn,
                void *arg)
{
    if (!d->return_path[0]) /* the null path: never a DSN */
        return 0;
    int rc = 0;
    for (size_t i = 0; i < d->nrcpts && !rc; i++)
        rc = srv_dsn_rcpt_run(txn, d, &d->rcpts[i], accepted, fn, arg);
    return rc;
}
