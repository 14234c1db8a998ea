/*
 * dsn.c - hands the envelope's DSN parameters (RFC 3461: RET, ENVID,
 * NOTIFY, ORCPT) to the host with the delivery (host->w_dsn, ABI 1.1), so
 * that the notifications are made in the same commit as the delivery.
 *
 * What each mode asks for (docs/smtp.md):
 *  - SMTP (mx, submission): NOTIFY=SUCCESS gets a "delivered" DSN; a
 *    recipient that fails after the message was accepted (250 sent for the
 *    others) gets a "failed" DSN unless NOTIFY says NEVER or lacks FAILURE;
 *  - LMTP answers every recipient itself (the client bounces a 5xx), so
 *    only "delivered" DSNs are asked for;
 *  - the null return path (MAIL FROM:<>) never gets one; a host without
 *    w_dsn gets nothing (as before ABI 1.1).
 */
#include "smtp.h"

#include <stdlib.h>
#include <string.h>

static int smtp_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * xtext (RFC 3461 4): "+XX" is the byte XX. Decodes in into out (cap bytes
 * with the NUL); an invalid "+" sequence is kept as it is. Control bytes are
 * never produced (they would end up in a header field).
 */
void smtp_xtext_decode(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < cap; i++) {
        int hi, lo;
        if (in[i] == '+' && (hi = smtp_hexval(in[i + 1])) >= 0 && in[i + 2] &&
            (lo = smtp_hexval(in[i + 2])) >= 0) {
            int c = hi * 16 + lo;
            out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = 0;
}

/* The NOTIFY bits this mode asks the host for; 0: nothing for this recipient. */
static unsigned smtp_dsn_notify(const struct smtp_session *ss, unsigned notify)
{
    if (notify & SMTP_NOTIFY_NEVER)
        return 0;
    if (ss->cfg->mode == SMTP_MODE_LMTP)
        return notify & SMTP_NOTIFY_SUCCESS ? PETREL_DSN_SUCCESS : 0;
    if (notify == 0)
        return PETREL_DSN_FAILURE; /* RFC 3461 4.1: the default */
    return notify & (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE);
}

_Static_assert((int)SMTP_NOTIFY_SUCCESS == (int)PETREL_DSN_SUCCESS &&
                   (int)SMTP_NOTIFY_FAILURE == (int)PETREL_DSN_FAILURE &&
                   (int)SMTP_RET_FULL == (int)PETREL_DSN_RET_FULL &&
                   (int)SMTP_RET_HDRS == (int)PETREL_DSN_RET_HDRS,
               "the parser's DSN values are the ABI's");

int smtp_dsn_ops(petrel_write *w, struct smtp_session *ss)
{
    ss->dsn_op = -1;
    if (!PETREL_HOST_HAS(smtp_host, w_dsn) || !ss->mail.addr[0])
        return 0;
    struct petrel_dsn_rcpt *r = calloc(ss->nrcpts ? ss->nrcpts : 1, sizeof(*r));
    char (*orcpt)[SMTP_PATH_MAX + 1] = calloc(ss->nrcpts ? ss->nrcpts : 1, sizeof(*orcpt));
    int rc = r && orcpt ? 0 : PETREL_ENOMEM;
    size_t n = 0;
    for (unsigned i = 0; rc == 0 && i < ss->nrcpts; i++) {
        const struct smtp_rcpt *sr = &ss->rcpts[i];
        unsigned notify = smtp_dsn_notify(ss, sr->notify);
        if (!notify)
            continue;
        smtp_xtext_decode(sr->orcpt, orcpt[n], sizeof(orcpt[n]));
        r[n] = (struct petrel_dsn_rcpt){.rcpt = sr->addr,
                                        .orcpt = orcpt[n][0] ? orcpt[n] : NULL,
                                        .notify = notify,
                                        .users = sr->users.users,
                                        .nusers = sr->users.n};
        n++;
    }
    if (rc == 0 && n > 0) {
        char envid[SMTP_ENVID_MAX + 1];
        smtp_xtext_decode(ss->mail.envid, envid, sizeof(envid));
        struct petrel_dsn d = {.struct_size = sizeof(d),
                               .return_path = ss->mail.addr,
                               .envid = envid[0] ? envid : NULL,
                               .ret = ss->mail.ret,
                               .rcpts = r,
                               .nrcpts = n,
                               .rcpt_size = sizeof(*r)};
        int op = smtp_host->w_dsn(w, &d);
        if (op < 0)
            rc = op;
        else
            ss->dsn_op = op;
    }
    free(r);
    free(orcpt);
    return rc;
}
