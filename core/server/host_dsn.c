/*
 * host_dsn.c - delivery status notifications (RFC 3461 / RFC 3464) made in
 * the same transaction as the delivery they report on (host->w_dsn).
 *
 * Decisions (docs/smtp.md):
 *  - the due recipients of one message are deduplicated (one per action and
 *    set of resolved users: u+1@d .. u+1000@d are one) and capped at
 *    SRV_DSN_ITEMS_MAX, the rest logged (event=dsn_limited): the sender of
 *    an mx message is not authenticated and must not make a flood of them;
 *  - a local return path gets ONE report per message, with a field block
 *    per recipient (RFC 3464 2.1); a remote one gets one queue item per
 *    recipient kept (store_dsn_t is a per-recipient record);
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
 *    RET=HDRS, the whole message for a "failed" one otherwise; the header
 *    block at most STORE_DSN_HEADERS_MAX bytes (whole lines). The queue
 *    keeps the whole message only for a failure with RET=FULL (outq.c);
 *  - the MIME boundary is 128 random bits, drawn again if it occurs in the
 *    returned content;
 *  - non-ASCII (SMTPUTF8) addresses: the us-ascii message/delivery-status
 *    gets RFC 6533's "utf-8" address type with utf-8-addr-xtext (\x{FC});
 *    the text part turns charset=utf-8, returned content with 8-bit
 *    headers is message/global-headers or message/global (RFC 6533 6).
 */
#include "server/host_dsn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/log.h"
#include "util/str.h"

#define SRV_DSN_REPORT_EXTRA (64u << 10) /* report bytes besides the message and blocks */
#define SRV_DSN_BLOCK_EXTRA (8u << 10)   /* one recipient's lines (utf-8 xtext grows 6x) */

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

static int srv_dsn_getrandom(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return PETREL_EIO;
        got += (size_t)r;
    }
    return 0;
}

srv_dsn_rand_fn srv_dsn_rand = srv_dsn_getrandom;

/* 1 when needle occurs in hay (hl bytes). */
static int srv_dsn_memmem(const void *hay, size_t hl, const char *needle)
{
    size_t nl = strlen(needle);
    const char *h = hay, *end = h + hl;
    if (!h || nl == 0 || hl < nl)
        return 0;
    for (const char *p = h; (p = memchr(p, needle[0], (size_t)(end - p) - nl + 1)) != NULL; p++)
        if (memcmp(p, needle, nl) == 0)
            return 1;
        else if ((size_t)(end - p) <= nl)
            break;
    return 0;
}

int srv_dsn_boundary(const void *content, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    if (cap < sizeof("=_petrel_dsn_") + 2 * SRV_DSN_BOUNDARY_RANDOM)
        return PETREL_EINVAL;
    for (int attempt = 0; attempt < SRV_DSN_BOUNDARY_TRIES; attempt++) {
        unsigned char r[SRV_DSN_BOUNDARY_RANDOM];
        int rc = srv_dsn_rand(r, sizeof(r));
        if (rc)
            return rc;
        size_t o = str_lcpy(out, "=_petrel_dsn_", cap);
        for (size_t i = 0; i < sizeof(r); i++) {
            out[o++] = hex[r[i] >> 4];
            out[o++] = hex[r[i] & 15];
        }
        out[o] = 0;
        if (!content || !srv_dsn_memmem(content, len, out))
            return 0;
    }
    return PETREL_EIO; /* the random source repeats itself */
}

static void srv_dsn_date(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static int srv_dsn_has8bit(const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        if (s[i] & 0x80)
            return 1;
    return 0;
}

/* One UTF-8 sequence at s (n bytes left): its code point, *used_r its length;
 * an invalid byte stands for itself (length 1). */
static uint32_t srv_dsn_utf8(const unsigned char *s, size_t n, size_t *used_r)
{
    size_t len = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    uint32_t cp = len == 4 ? s[0] & 7u : len == 3 ? s[0] & 15u : s[0] & 31u;
    *used_r = 1;
    if (!len || len > n)
        return s[0];
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return s[0];
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return s[0];
    *used_r = len;
    return cp;
}

/*
 * An address for Final-Recipient / Original-Recipient: "rfc822; addr" when
 * it is ASCII, else "utf-8; " and RFC 6533's utf-8-addr-xtext (every
 * character outside QCHAR as \x{HEX}), so message/delivery-status stays
 * us-ascii.
 */
static int srv_dsn_addr_put(buf_t *out, const char *type, const char *addr)
{
    size_t n = strlen(addr);
    if (!srv_dsn_has8bit(addr, n))
        return buf_printf(out, "%s; %s", type, addr);
    int rc = buf_append_str(out, "utf-8; ");
    const unsigned char *s = (const unsigned char *)addr;
    for (size_t i = 0; !rc && i < n;) {
        size_t used;
        uint32_t cp = srv_dsn_utf8(s + i, n - i, &used);
        if (cp > 0x20 && cp < 0x7f && cp != '+' && cp != '=' && cp != '\\')
            rc = buf_append(out, s + i, 1);
        else
            rc = buf_printf(out, "\\x{%02X}", (unsigned)cp);
        i += used;
    }
    return rc;
}

/* An ORCPT as given ("type;addr"): kept when ASCII, else its address as above. */
static int srv_dsn_orcpt_put(buf_t *out, const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');
    if (!srv_dsn_has8bit(orcpt, strlen(orcpt)))
        return buf_append_str(out, orcpt);
    const char *a = semi ? semi + 1 : orcpt;
    while (*a == ' ')
        a++;
    return srv_dsn_addr_put(out, "utf-8", a);
}

/* The ENVID, with any 8-bit byte back in xtext (+XX): the field is us-ascii. */
static int srv_dsn_envid_put(buf_t *out, const char *envid)
{
    int rc = 0;
    for (const unsigned char *s = (const unsigned char *)envid; !rc && *s; s++)
        rc = *s & 0x80 ? buf_printf(out, "+%02X", (unsigned)*s) : buf_append(out, s, 1);
    return rc;
}

static const char *srv_dsn_word(uint32_t action)
{
    return action == STORE_DSN_DELIVERED ? "delivered" : "failed";
}

/* The top-level header and the text/plain notification. */
static int srv_dsn_head(const store_dsn_t *items, size_t n, int failed, const char *bnd,
                        const char *rnd, buf_t *out)
{
    const store_dsn_t *it = &items[0];
    char now[64];
    int utf8 = srv_dsn_has8bit(it->return_path, strlen(it->return_path));
    for (size_t i = 0; i < n; i++)
        utf8 |= srv_dsn_has8bit(items[i].rcpt, strlen(items[i].rcpt));
    srv_dsn_date((int64_t)time(NULL), now, sizeof(now));
    int rc = buf_printf(
        out,
        "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
        "To: <%s>\r\n"
        "Subject: %s\r\n"
        "Date: %s\r\n"
        "Message-ID: <dsn.%s@%s>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"%s\"\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        "\r\n--%s\r\n"
        "Content-Type: text/plain; charset=%s\r\n%s"
        "Content-Description: Notification\r\n"
        "\r\n"
        "This is the mail system at host %s.\r\n\r\n",
        it->reporting_mta, it->return_path,
        failed ? "Undelivered Mail Returned to Sender" : "Successful Mail Delivery Report", now,
        rnd, it->reporting_mta, bnd, bnd, utf8 ? "utf-8" : "us-ascii",
        utf8 ? "Content-Transfer-Encoding: 8bit\r\n" : "", it->reporting_mta);
    if (!rc && failed)
        rc = buf_append_str(out, "Your message could not be delivered to one or more recipients:"
                                 " it was\r\naccepted, but storing it failed afterwards.\r\n");
    if (!rc && !failed)
        rc = buf_append_str(out, "Your message was successfully delivered to the destinations"
                                 " listed below.\r\nThis is a delivery status notification you"
                                 " asked for (NOTIFY=SUCCESS).\r\n");
    for (size_t i = 0; !rc && i < n; i++)
        rc = buf_printf(out, "\r\n  <%s>: %s%s%s\r\n", items[i].rcpt, srv_dsn_word(items[i].action),
                        items[i].diagnostic[0] ? ": " : "", items[i].diagnostic);
    return rc;
}

/* The per-recipient field block of item i. */
static int srv_dsn_block(const store_dsn_t *it, buf_t *out)
{
    int rc = buf_append_str(out, "\r\nFinal-Recipient: ");
    if (!rc)
        rc = srv_dsn_addr_put(out, "rfc822", it->rcpt);
    if (!rc && it->orcpt[0]) {
        rc = buf_append_str(out, "\r\nOriginal-Recipient: ");
        if (!rc)
            rc = srv_dsn_orcpt_put(out, it->orcpt);
    }
    if (!rc)
        rc = buf_printf(out, "\r\nAction: %s\r\nStatus: %s\r\n", srv_dsn_word(it->action),
                        it->status);
    if (!rc && it->diagnostic[0])
        rc = buf_printf(out, "Diagnostic-Code: %s\r\n", it->diagnostic);
    return rc;
}

int srv_dsn_report(const store_dsn_t *items, size_t n, const void *msg, size_t len, buf_t *out)
{
    if (!items || n == 0 || (!msg && len))
        return PETREL_EINVAL;
    const store_dsn_t *it = &items[0];
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed |= items[i].action == STORE_DSN_FAILED;
    size_t hl = store_dsn_header_len(msg, len);
    /* the whole message for a failure unless RET=HDRS, when it has a body (a queued item
     * keeps only its header block unless RET=FULL) */
    int body = len >= 2 && (memcmp(msg, "\r\n", 2) == 0 || srv_dsn_memmem(msg, len, "\r\n\r\n"));
    int full = failed && it->ret != STORE_DSN_RET_HDRS && body;
    size_t rl = full ? len : hl;
    int global = srv_dsn_has8bit(msg, rl); /* RFC 6532 headers: RFC 6533's types */
    char arrival[64], bnd[96], rnd[96];
    int rc = srv_dsn_boundary(msg, rl, bnd, sizeof(bnd));
    if (!rc)
        rc = srv_dsn_boundary(NULL, 0, rnd, sizeof(rnd));
    if (rc)
        return rc;
    srv_dsn_date(it->arrival, arrival, sizeof(arrival));
    rc = srv_dsn_head(items, n, failed, bnd, rnd + sizeof("=_petrel_dsn_") - 1, out);
    if (!rc)
        rc = buf_printf(out,
                        "\r\n--%s\r\n"
                        "Content-Type: message/delivery-status\r\n"
                        "Content-Description: Delivery report\r\n"
                        "\r\n"
                        "Reporting-MTA: dns; %s\r\n",
                        bnd, it->reporting_mta);
    if (!rc && it->envid[0]) {
        rc = buf_append_str(out, "Original-Envelope-Id: ");
        if (!rc)
            rc = srv_dsn_envid_put(out, it->envid);
        if (!rc)
            rc = buf_append_str(out, "\r\n");
    }
    if (!rc)
        rc = buf_printf(out, "Arrival-Date: %s\r\n", arrival);
    for (size_t i = 0; !rc && i < n; i++)
        rc = srv_dsn_block(&items[i], out);
    if (!rc)
        rc = buf_printf(out, "\r\n--%s\r\nContent-Type: %s\r\nContent-Description: %s\r\n\r\n",
                        bnd,
                        full ? (global ? "message/global" : "message/rfc822")
                             : (global ? "message/global-headers" : "text/rfc822-headers"),
                        full ? "Undelivered Message" : "Message Headers");
    if (!rc)
        rc = buf_append(out, msg, rl);
    if (!rc)
        rc = buf_printf(out, "%s--%s--\r\n",
                        rl >= 2 && ((const char *)msg)[rl - 1] == '\n' ? "\r\n" : "\r\n\r\n", bnd);
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

/* The due items of one write: at most SRV_DSN_ITEMS_MAX, one per action and user set. */
struct srv_dsn_batch {
    store_dsn_t *items;
    const struct srv_dsn_rcpt **rcpts; /* the recipient of each item (its user set) */
    const void **msgs;
    size_t *lens;
    size_t n, duplicates, over_cap;
};

/* Delivers ONE report on every item into the INBOX of the local users of the return path. */
static int srv_dsn_local(store_txn_t *txn, const store_rcpt_t *to, const struct srv_dsn_batch *bt)
{
    const store_dsn_t *it = &bt->items[0];
    size_t len = bt->lens[0];
    buf_t b;
    buf_init(&b, len + SRV_DSN_REPORT_EXTRA + bt->n * SRV_DSN_BLOCK_EXTRA);
    /* a DSN is sent with the null return path (RFC 3461 6.2): never answered by another */
    int rc = buf_append_str(&b, "Return-Path: <>\r\n");
    if (!rc)
        rc = srv_dsn_report(bt->items, bt->n, bt->msgs[0], len, &b);
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
        log_info("event=dsn_delivered_local action=%s rcpts=%zu first_rcpt=<%s> to=<%s> "
                 "user_id=%llu uid=%u rc=%d",
                 srv_dsn_word(it->action), bt->n, it->rcpt, it->return_path,
                 (unsigned long long)t[i].user_id, uids[i], res[i]);
    buf_free(&b);
    return rc;
}

/* Queues every item of bt for the remote return path; a full queue drops (logged). */
static int srv_dsn_queue(store_txn_t *txn, const struct srv_dsn_batch *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        const store_dsn_t *it = &bt->items[i];
        uint64_t id = 0;
        int rc = store_dsn_add(txn, it, bt->msgs[i], bt->lens[i], &id);
        if (rc == PETREL_ETOOBIG) {
            log_warn("event=dsn_dropped reason=\"outbound queue full\" max=%u to=<%s> "
                     "rcpt=<%s> action=%s",
                     STORE_OUTQ_ITEMS_MAX, it->return_path, it->rcpt, srv_dsn_word(it->action));
            continue;
        }
        if (rc)
            return rc;
        log_info("event=dsn_queued id=%llu action=%s rcpt=<%s> to=<%s> status=%s",
                 (unsigned long long)id, srv_dsn_word(it->action), it->rcpt, it->return_path,
                 it->status);
    }
    return 0;
}

/* Sends the batch where it goes: a local INBOX, the outbound queue, or nowhere. */
static int srv_dsn_emit(store_txn_t *txn, const struct srv_dsn_batch *bt)
{
    const char *rp = bt->items[0].return_path;
    store_rcpt_t to;
    int rc = store_resolve_rcpt(txn, rp, &to);
    if (rc == 0 && to.n > 0)
        return srv_dsn_local(txn, &to, bt);
    if (rc == PETREL_ECONFLICT)
        return rc;
    const char *at = strrchr(rp, '@');
    store_tenant_t t;
    if (rc == PETREL_EPERM || (at && store_tenant_get(txn, at + 1, &t) == 0)) {
        log_warn("event=dsn_dropped reason=\"local return path cannot receive\" to=<%s> "
                 "items=%zu rc=%d",
                 rp, bt->n, rc);
        return 0;
    }
    return srv_dsn_queue(txn, bt);
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

/* 1 when the batch already has an item of this action for the same users. */
static int srv_dsn_batch_has(const struct srv_dsn_batch *bt, uint32_t action,
                             const struct srv_dsn_rcpt *r)
{
    for (size_t i = 0; i < bt->n; i++)
        if (bt->items[i].action == action && bt->rcpts[i]->nusers == r->nusers &&
            memcmp(bt->rcpts[i]->users, r->users, r->nusers * sizeof(*r->users)) == 0)
            return 1;
    return 0;
}

static void srv_dsn_rcpt_add(struct srv_dsn_batch *bt, const struct srv_dsn *d,
                             const struct srv_dsn_rcpt *r, int accepted, srv_dsn_result_fn fn,
                             void *arg)
{
    uint32_t action;
    int err;
    const void *msg;
    size_t len;
    srv_dsn_rcpt_outcome(r, accepted, fn, arg, &action, &err, &msg, &len);
    if (!action)
        return;
    if (srv_dsn_batch_has(bt, action, r)) {
        bt->duplicates++;
        return;
    }
    if (bt->n == SRV_DSN_ITEMS_MAX) {
        bt->over_cap++;
        return;
    }
    store_dsn_t *it = &bt->items[bt->n];
    memset(it, 0, sizeof(*it));
    it->action = action;
    it->ret = (uint32_t)d->ret;
    it->arrival = d->arrival;
    if (action == STORE_DSN_DELIVERED)
        str_lcpy(it->status, "2.0.0", sizeof(it->status));
    else
        srv_dsn_failure(err, it);
    str_lcpy(it->envid, d->envid ? d->envid : "", sizeof(it->envid));
    str_lcpy(it->return_path, d->return_path, sizeof(it->return_path));
    str_lcpy(it->orcpt, r->orcpt ? r->orcpt : "", sizeof(it->orcpt));
    str_lcpy(it->rcpt, r->rcpt, sizeof(it->rcpt));
    str_lcpy(it->reporting_mta, d->reporting_mta, sizeof(it->reporting_mta));
    bt->rcpts[bt->n] = r;
    bt->msgs[bt->n] = msg;
    bt->lens[bt->n] = len;
    bt->n++;
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
    size_t cap = d->nrcpts < SRV_DSN_ITEMS_MAX ? d->nrcpts : SRV_DSN_ITEMS_MAX;
    struct srv_dsn_batch bt = {.items = calloc(cap ? cap : 1, sizeof(*bt.items)),
                               .rcpts = calloc(cap ? cap : 1, sizeof(*bt.rcpts)),
                               .msgs = calloc(cap ? cap : 1, sizeof(*bt.msgs)),
                               .lens = calloc(cap ? cap : 1, sizeof(*bt.lens))};
    int rc = bt.items && bt.rcpts && bt.msgs && bt.lens ? 0 : PETREL_ENOMEM;
    for (size_t i = 0; !rc && i < d->nrcpts; i++)
        srv_dsn_rcpt_add(&bt, d, &d->rcpts[i], accepted, fn, arg);
    if (!rc && (bt.duplicates || bt.over_cap))
        log_warn("event=dsn_limited to=<%s> kept=%zu duplicates=%zu over_cap=%zu max=%u",
                 d->return_path, bt.n, bt.duplicates, bt.over_cap, SRV_DSN_ITEMS_MAX);
    if (!rc && bt.n)
        rc = srv_dsn_emit(txn, &bt);
    free(bt.items);
    free(bt.rcpts);
    free(bt.msgs);
    free(bt.lens);
    return rc;
}
