/*
 * data.c - DATA and BDAT (RFC 5321, RFC 3030), delivery into the store and
 * the replies that promise durability, sent only from on_write_done.
 *
 * Delivery decisions (docs/smtp.md):
 *  - every local user reached by the accepted recipients gets the message
 *    once (deduplicated), in one store write: one w_deliver operation per
 *    target folder (and per SMTP_DELIVER_CHUNK users), the same bytes, so one
 *    blob and one commit;
 *  - local+tag@domain goes to the folder named tag when the user has it
 *    (plus_folder = yes, the default), else to INBOX;
 *  - SMTP answers once: 250 when at least one user got the message; the
 *    recipients that failed after RCPT (a quota race) get a "failed" DSN
 *    made in the same commit (dsn.c, host->w_dsn). 552 5.2.2 when every
 *    user was over quota, 451 4.3.0 for any other failure. LMTP answers per
 *    recipient.
 */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SMTP_DELIVER_CHUNK 1000 /* users per w_deliver operation (host cap: 1024) */
#define SMTP_HEADER_MAX 2048    /* Return-Path: + Received: */

/* ------------------------------------------------------------ DATA */

void smtp_cmd_data(petrel_session *s, struct smtp_session *ss)
{
    if (ss->state != SMTP_S_RCPT) {
        smtp_reply(s, "503 5.5.1 %s", ss->has_mail ? "No valid recipients" : "Need MAIL first");
        smtp_error(s, ss);
        return;
    }
    if (ss->mail.body == SMTP_BODY_BINARYMIME) {
        smtp_reply(s, "503 5.5.1 BODY=BINARYMIME needs BDAT, not DATA");
        smtp_error(s, ss);
        return;
    }
    /* RFC 2920 3.1: DATA ends a pipelined batch; bytes already sent behind it
     * were sent before our 354 (a smuggling attempt or a broken client) */
    if (smtp_host->input_pending(s)) {
        smtp_reply(s, "554 5.5.0 Improper pipelining after DATA, closing");
        smtp_host->close(s);
        return;
    }
    smtp_data_begin(&ss->data, ss->cfg->max_message_size, ss->cfg->reject_bare_eol);
    smtp_state_enter(s, ss, SMTP_S_DATA);
    smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void smtp_message_end(petrel_session *s, struct smtp_session *ss);

void smtp_data_on_line(petrel_session *s, struct smtp_session *ss, const char *line, size_t n,
                       unsigned flags)
{
    unsigned f = 0;
    if (flags & PETREL_LINE_BARE_LF)
        f |= SMTP_LINE_BARE_LF;
    if (flags & PETREL_LINE_TOO_LONG)
        f |= SMTP_LINE_TOO_LONG;
    if (smtp_data_line(&ss->data, line, n, f))
        smtp_message_end(s, ss);
}

/* ------------------------------------------------------------ BDAT */

static int smtp_bdat_parse(const char *arg, size_t n, uint64_t *size_r, int *last_r)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < n && arg[i] >= '0' && arg[i] <= '9') {
        unsigned d = (unsigned)(arg[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return PETREL_EINVAL;
        v = v * 10 + d;
        i++;
    }
    if (i == 0 || i > 20)
        return PETREL_EINVAL;
    *last_r = 0;
    if (i < n) {
        if (n - i != 5 || arg[i] != ' ' || strncasecmp(arg + i + 1, "LAST", 4) != 0)
            return PETREL_EINVAL;
        *last_r = 1;
    }
    *size_r = v;
    return 0;
}

void smtp_cmd_bdat(petrel_session *s, struct smtp_session *ss, const char *arg, size_t n)
{
    uint64_t size;
    int last;
    if (smtp_bdat_parse(arg, n, &size, &last)) {
        /* the chunk's length is unknown: its bytes cannot be told from commands */
        smtp_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]; closing connection");
        smtp_state_enter(s, ss, SMTP_S_QUIT);
        smtp_host->close(s);
        return;
    }
    if (ss->state == SMTP_S_RCPT) {
        smtp_data_begin(&ss->data, ss->cfg->max_message_size, 0);
        smtp_state_enter(s, ss, SMTP_S_BDAT);
    } else if (ss->state != SMTP_S_BDAT) {
        /* RFC 3030 3: a refused chunk is still read, and thrown away */
        ss->bdat_last = -1; /* marks the refused chunk for smtp_on_data */
        if (size == 0 || smtp_host->read_raw(s, size) != 0) {
            ss->bdat_last = 0;
            smtp_reply(s, "503 5.5.1 %s", ss->has_mail ? "No valid recipients" : "Need MAIL first");
            smtp_error(s, ss);
            return;
        }
        return;
    }
    ss->bdat_chunk = size;
    ss->bdat_last = last;
    if (size == 0) {
        if (last)
            smtp_message_end(s, ss);
        else
            smtp_reply(s, "250 2.0.0 0 octets received");
        return;
    }
    if (smtp_host->read_raw(s, size) != 0) {
        smtp_reply(s, "451 4.3.0 Cannot read the chunk");
        smtp_envelope_reset(ss);
        smtp_state_enter(s, ss, SMTP_S_READY);
    }
}

void smtp_on_data(petrel_session *s, void *data, const void *p, size_t n, int last)
{
    struct smtp_session *ss = data;
    if (ss->bdat_last == -1) {
        if (last) {
            ss->bdat_last = 0;
            smtp_reply(s, "503 5.5.1 %s", ss->has_mail ? "No valid recipients" : "Need MAIL first");
            smtp_error(s, ss);
        }
        return;
    }
    if (ss->state != SMTP_S_BDAT)
        return;
    smtp_data_raw(&ss->data, p, n);
    if (!last)
        return;
    if (ss->bdat_last)
        smtp_message_end(s, ss);
    else
        smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)ss->bdat_chunk);
}

/* ------------------------------------------------------------ the message */

static void smtp_transaction_done(petrel_session *s, struct smtp_session *ss)
{
    smtp_envelope_reset(ss);
    smtp_state_enter(s, ss, SMTP_S_READY);
}

/* Answers a message refused by a sticky error (once, after draining it). */
static void smtp_message_refuse(petrel_session *s, struct smtp_session *ss)
{
    int err = ss->data.err;
    smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_message_refused error=%d size=%llu", err,
                   (unsigned long long)ss->data.size);
    switch (err) {
    case SMTP_DERR_SIZE:
        smtp_reply(s, "552 5.3.4 Message size exceeds fixed limit of %llu bytes",
                   (unsigned long long)ss->cfg->max_message_size);
        break;
    case SMTP_DERR_LINE:
        smtp_reply(s, "500 5.5.2 Message line too long (max %u bytes with CRLF)",
                   SMTP_LINE_MAX + 2);
        break;
    case SMTP_DERR_NUL:
        smtp_reply(s, "550 5.6.0 NUL bytes are not allowed in a message sent with DATA");
        break;
    case SMTP_DERR_BARE_EOL:
        /* the end of this message is ambiguous (SMTP smuggling): hang up after refusing */
        smtp_reply(s, "550 5.6.0 Bare LF or CR in message refused (RFC 5321 2.3.8); closing "
                      "connection");
        smtp_envelope_reset(ss);
        smtp_state_enter(s, ss, SMTP_S_QUIT);
        smtp_host->close(s);
        return;
    default:
        smtp_reply(s, "451 4.3.0 Out of memory, try again later");
        break;
    }
    smtp_transaction_done(s, ss);
}

/* Return-Path: and Received: (RFC 5321 4.4), into hdr; returns the length. */
static size_t smtp_trace_headers(petrel_session *s, struct smtp_session *ss, char *hdr,
                                 size_t cap)
{
    const char *version = NULL, *cipher = NULL;
    int tls = smtp_host->tls_info(s, &version, &cipher) == 1;
    char proto[16];
    if (ss->cfg->mode == SMTP_MODE_LMTP)
        snprintf(proto, sizeof(proto), "LMTP%s%s", tls ? "S" : "", ss->authed ? "A" : "");
    else
        snprintf(proto, sizeof(proto), "%s%s%s", ss->esmtp ? "ESMTP" : "SMTP",
                 tls ? "S" : "", ss->authed ? "A" : "");
    char tlsinfo[160] = "";
    if (tls)
        snprintf(tlsinfo, sizeof(tlsinfo), "\r\n\t(using %.40s with cipher %.80s)",
                 version ? version : "TLS", cipher ? cipher : "unknown");
    char forwho[SMTP_PATH_MAX + 16] = "";
    if (ss->nrcpts == 1) /* never list several recipients: they would see each other */
        snprintf(forwho, sizeof(forwho), "\r\n\tfor <%s>", ss->rcpts[0].addr);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    /* Postfix's form: from HELO (NAME [ADDR]), NAME forward-confirmed or "unknown" */
    const char *name = PETREL_HOST_HAS(smtp_host, peer_name) ? smtp_host->peer_name(s) : NULL;
    int n = snprintf(hdr, cap,
                     "Return-Path: <%s>\r\n"
                     "Received: from %s (%s [%s])\r\n\tby %s (Petrel) with %s id %llx.%llu%s%s;"
                     "\r\n\t%s\r\n",
                     ss->mail.addr, ss->helo[0] ? ss->helo : "unknown", name ? name : "unknown",
                     smtp_host->peer_addr(s), smtp_host->hostname(), proto,
                     (unsigned long long)smtp_host->session_id(s),
                     (unsigned long long)ss->msg_id, tlsinfo, forwho, date);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static int smtp_target_by_user(const void *a, const void *b)
{
    const struct smtp_target *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->rcpt < y->rcpt ? -1 : x->rcpt > y->rcpt;
}

/*
 * Builds the deduplicated target list: every user once, with the first
 * recipient that reached it. 0 or PETREL_ENOMEM.
 */
static int smtp_targets_build(struct smtp_session *ss)
{
    size_t n = 0;
    for (unsigned i = 0; i < ss->nrcpts; i++)
        n += ss->rcpts[i].users.n;
    struct smtp_target *t = calloc(n ? n : 1, sizeof(*t));
    if (!t)
        return PETREL_ENOMEM;
    size_t k = 0;
    for (unsigned i = 0; i < ss->nrcpts; i++)
        for (unsigned j = 0; j < ss->rcpts[i].users.n; j++)
            t[k++] = (struct smtp_target){.user = ss->rcpts[i].users.users[j], .rcpt = i};
    qsort(t, n, sizeof(*t), smtp_target_by_user);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || t[u - 1].user != t[i].user)
            t[u++] = t[i];
    ss->targets = t;
    ss->ntargets = u;
    return 0;
}

static const char *smtp_target_folder(const struct smtp_session *ss, const struct smtp_target *t)
{
    const char *tag = ss->rcpts[t->rcpt].users.tag;
    return ss->cfg->plus_folder && tag[0] ? tag : NULL;
}

/*
 * Adds the w_deliver operations: targets grouped by folder (they are sorted
 * by user; a small per-folder pass keeps this O(targets x folders), and the
 * folders are few: the distinct +tags of one message).
 */
static int smtp_deliver_ops(petrel_write *w, struct smtp_session *ss, const char *msg,
                            size_t len)
{
    /* sized by the targets (one for most messages), not by the chunk cap */
    size_t cap = ss->ntargets < SMTP_DELIVER_CHUNK ? (ss->ntargets ? ss->ntargets : 1)
                                                   : SMTP_DELIVER_CHUNK;
    uint64_t *users = malloc(cap * sizeof(*users));
    unsigned char *done = calloc(ss->ntargets ? ss->ntargets : 1, 1);
    size_t *idx = malloc(cap * sizeof(*idx));
    int rc = users && done && idx ? 0 : PETREL_ENOMEM;
    for (size_t first = 0; rc == 0 && first < ss->ntargets; first++) {
        if (done[first])
            continue;
        const char *folder = smtp_target_folder(ss, &ss->targets[first]);
        size_t nu = 0;
        for (size_t i = first; i < ss->ntargets && rc == 0; i++) {
            const char *f = smtp_target_folder(ss, &ss->targets[i]);
            if (done[i] || !((f == NULL && folder == NULL) || (f && folder && !strcmp(f, folder))))
                continue;
            done[i] = 1;
            idx[nu] = i;
            users[nu++] = ss->targets[i].user;
            if (nu == SMTP_DELIVER_CHUNK) {
                int op = smtp_host->w_deliver(w, msg, len, users, nu, folder);
                if (op < 0)
                    rc = op;
                for (size_t j = 0; j < nu && op >= 0; j++) {
                    ss->targets[idx[j]].op = op;
                    ss->targets[idx[j]].sub = (unsigned)j;
                }
                nu = 0;
            }
        }
        if (rc == 0 && nu > 0) {
            int op = smtp_host->w_deliver(w, msg, len, users, nu, folder);
            if (op < 0)
                rc = op;
            for (size_t j = 0; j < nu && op >= 0; j++) {
                ss->targets[idx[j]].op = op;
                ss->targets[idx[j]].sub = (unsigned)j;
            }
        }
    }
    free(users);
    free(done);
    free(idx);
    return rc;
}

static void smtp_message_end(petrel_session *s, struct smtp_session *ss)
{
    if (ss->data.err != SMTP_DERR_NONE) {
        smtp_message_refuse(s, ss);
        return;
    }
    ss->msg_id++;
    char hdr[SMTP_HEADER_MAX];
    size_t hl = smtp_trace_headers(s, ss, hdr, sizeof(hdr));
    size_t bl = ss->data.buf.len;
    char *msg = malloc(hl + bl + 1);
    petrel_write *w = NULL;
    int rc = msg ? smtp_targets_build(ss) : PETREL_ENOMEM;
    if (rc == 0) {
        memcpy(msg, hdr, hl);
        if (bl)
            memcpy(msg + hl, ss->data.buf.p, bl);
        smtp_data_free(&ss->data); /* w_deliver copies: keep one copy at a time */
        w = smtp_host->write_new(s);
        rc = w ? smtp_deliver_ops(w, ss, msg, hl + bl) : PETREL_ENOMEM;
        if (rc == 0)
            rc = smtp_dsn_ops(w, ss); /* the notifications commit with the delivery */
    }
    free(msg);
    if (rc == 0)
        rc = smtp_host->write_submit(w);
    if (rc != 0 && rc != PETREL_EPENDING) {
        smtp_host->log(s, PETREL_LOG_WARN, "event=smtp_deliver_failed error=%d", rc);
        if (w)
            smtp_host->write_free(&w);
        smtp_reply(s, "451 4.3.0 Temporary failure storing the message, try again later");
        smtp_transaction_done(s, ss);
        return;
    }
    smtp_state_enter(s, ss, SMTP_S_WAIT);
}

/* ------------------------------------------------------------ after the commit */

static int smtp_user_result(const struct smtp_session *ss, const int *res, uint64_t user)
{
    struct smtp_target key = {.user = user};
    size_t lo = 0, hi = ss->ntargets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ss->targets[mid].user < key.user)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ss->ntargets && ss->targets[lo].user == user ? res[lo] : PETREL_EIO;
}

/* The reply for a recipient all of whose users failed with err. */
static void smtp_reply_failure(petrel_session *s, const char *who, int err)
{
    if (err == PETREL_EQUOTA || err == PETREL_ETENANTQUOTA)
        smtp_reply(s, "552 5.2.2 %s%sMailbox full", who, who[0] ? " " : "");
    else if (err == PETREL_ETOOBIG)
        smtp_reply(s, "552 5.3.4 %s%sMessage too big for the mailbox", who, who[0] ? " " : "");
    else
        smtp_reply(s, "451 4.3.0 %s%sTemporary failure storing the message", who,
                   who[0] ? " " : "");
}

static void smtp_replies_lmtp(petrel_session *s, struct smtp_session *ss, const int *res)
{
    for (unsigned i = 0; i < ss->nrcpts; i++) {
        const struct smtp_rcpt *r = &ss->rcpts[i];
        int first_err = 0, ok = 0;
        for (unsigned j = 0; j < r->users.n; j++) {
            int e = smtp_user_result(ss, res, r->users.users[j]);
            if (e == 0)
                ok = 1;
            else if (!first_err)
                first_err = e;
        }
        char who[SMTP_PATH_MAX + 3];
        snprintf(who, sizeof(who), "<%s>", r->addr);
        if (ok)
            smtp_reply(s, "250 2.1.5 %s Delivered", who);
        else
            smtp_reply_failure(s, who, first_err);
    }
}

static void smtp_reply_smtp(petrel_session *s, struct smtp_session *ss, const int *res)
{
    size_t ok = 0, quota = 0;
    int other = 0;
    for (size_t i = 0; i < ss->ntargets; i++) {
        if (res[i] == 0)
            ok++;
        else if (res[i] == PETREL_EQUOTA || res[i] == PETREL_ETENANTQUOTA)
            quota++;
        else if (!other)
            other = res[i];
    }
    if (ok > 0) {
        if (ok < ss->ntargets) /* the failed ones got a DSN in the same commit (dsn.c) */
            smtp_host->log(s, PETREL_LOG_WARN, "event=smtp_deliver_partial delivered=%zu "
                           "failed=%zu", ok, ss->ntargets - ok);
        smtp_reply(s, "250 2.0.0 Ok: delivered as %llx.%llu",
                   (unsigned long long)smtp_host->session_id(s), (unsigned long long)ss->msg_id);
    } else {
        smtp_reply_failure(s, "", quota == ss->ntargets ? PETREL_EQUOTA : other);
    }
}

void smtp_on_write_done(petrel_session *s, void *data, petrel_write *w, int rc)
{
    struct smtp_session *ss = data;
    int *res = calloc(ss->ntargets ? ss->ntargets : 1, sizeof(*res));
    size_t ok = 0;
    for (size_t i = 0; i < ss->ntargets; i++) {
        int r = rc ? rc : PETREL_ENOMEM;
        if (rc == 0)
            r = smtp_host->w_result(w, ss->targets[i].op, ss->targets[i].sub, NULL, NULL);
        if (res)
            res[i] = r;
        ok += r == 0;
    }
    int dsn_rc = ss->dsn_op >= 0 ? smtp_host->w_result(w, ss->dsn_op, 0, NULL, NULL) : 0;
    if (dsn_rc && rc == 0) /* rolled back alone: the delivery stands, the notices are lost */
        smtp_host->log(s, PETREL_LOG_WARN, "event=smtp_dsn_failed error=%d", dsn_rc);
    ss->dsn_op = -1;
    smtp_host->write_free(&w);
    smtp_host->log(s, PETREL_LOG_INFO,
                   "event=smtp_delivered id=%llx.%llu from=<%s> rcpts=%u users=%zu ok=%zu rc=%d",
                   (unsigned long long)smtp_host->session_id(s), (unsigned long long)ss->msg_id,
                   ss->mail.addr, ss->nrcpts, ss->ntargets, ok, rc);
    if (!res) {
        smtp_reply(s, "451 4.3.0 Out of memory; the message may have been delivered");
    } else if (ss->cfg->mode == SMTP_MODE_LMTP) {
        smtp_replies_lmtp(s, ss, res);
    } else {
        smtp_reply_smtp(s, ss, res);
    }
    free(res);
    smtp_transaction_done(s, ss);
}
