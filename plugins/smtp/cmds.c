/*
 * cmds.c - SMTP/LMTP commands but AUTH, STARTTLS, DATA and BDAT: greetings,
 * the envelope (MAIL, RCPT), RSET, NOOP, QUIT, VRFY, EXPN, HELP.
 */
#include "smtp.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ greetings */

static void smtp_cmd_hello(petrel_session *s, struct smtp_session *ss, const struct smtp_cmd *c)
{
    int lmtp = ss->cfg->mode == SMTP_MODE_LMTP;
    if (lmtp != (c->verb == SMTP_V_LHLO)) {
        smtp_reply(s, "500 5.5.1 %s", lmtp ? "This is LMTP: use LHLO" : "Unknown command: LHLO");
        smtp_error(s, ss);
        return;
    }
    if (c->arglen == 0 || c->arglen > SMTP_HELO_MAX || memchr(c->arg, ' ', c->arglen)) {
        smtp_reply(s, "501 5.5.4 Syntax: %s hostname",
                   c->verb == SMTP_V_HELO ? "HELO" : c->verb == SMTP_V_EHLO ? "EHLO" : "LHLO");
        smtp_error(s, ss);
        return;
    }
    /* kept for Received: — only printable ASCII, so the header stays well formed */
    for (size_t i = 0; i < c->arglen; i++) {
        unsigned char ch = (unsigned char)c->arg[i];
        ss->helo[i] = ch > 0x20 && ch < 0x7f && ch != '(' && ch != ')' ? (char)ch : '?';
    }
    ss->helo[c->arglen] = '\0';
    smtp_envelope_reset(ss);
    smtp_state_enter(s, ss, SMTP_S_READY);
    if (c->verb == SMTP_V_HELO) {
        ss->esmtp = 0;
        smtp_reply(s, "250 %s", smtp_host->hostname());
        return;
    }
    ss->esmtp = 1;
    smtp_reply(s, "250-%s", smtp_host->hostname());
    smtp_reply(s, "250-PIPELINING");
    smtp_reply(s, "250-SIZE %llu", (unsigned long long)ss->cfg->max_message_size);
    smtp_reply(s, "250-8BITMIME");
    smtp_reply(s, "250-SMTPUTF8");
    smtp_reply(s, "250-CHUNKING");
    smtp_reply(s, "250-BINARYMIME");
    smtp_reply(s, "250-DSN");
    if (smtp_host->tls_available(s))
        smtp_reply(s, "250-STARTTLS");
    if (ss->cfg->mode == SMTP_MODE_SUBMISSION && !ss->authed && smtp_host->plaintext_allowed(s))
        smtp_reply(s, "250-AUTH PLAIN LOGIN");
    smtp_reply(s, "250 ENHANCEDSTATUSCODES");
}

/* ------------------------------------------------------------ envelope */

static void smtp_cmd_mail(petrel_session *s, struct smtp_session *ss, const struct smtp_cmd *c)
{
    if (ss->state != SMTP_S_READY) {
        smtp_reply(s, "503 5.5.1 %s", ss->state == SMTP_S_GREETED ? "Send HELO/EHLO first"
                                                                  : "Nested MAIL command");
        smtp_error(s, ss);
        return;
    }
    if (ss->cfg->mode == SMTP_MODE_SUBMISSION && !ss->authed) {
        smtp_reply(s, "530 5.7.0 Authentication required");
        smtp_error(s, ss);
        return;
    }
    struct smtp_path *p = &ss->mail;
    int rc = smtp_path_parse(c->arg, c->arglen, 1, p);
    if (rc == 0 && !ss->esmtp && (p->has_size || p->body || p->smtputf8 || p->ret || p->envid[0]))
        rc = PETREL_ENOTSUP; /* parameters need EHLO */
    if (rc) {
        if (rc == PETREL_ENOTSUP)
            smtp_reply(s, "555 5.5.4 Unsupported or malformed MAIL parameter");
        else
            smtp_reply(s, "501 5.1.7 Bad sender address syntax");
        smtp_error(s, ss);
        return;
    }
    if (p->has_size && p->size > ss->cfg->max_message_size) {
        smtp_reply(s, "552 5.3.4 Message size exceeds fixed limit of %llu bytes",
                   (unsigned long long)ss->cfg->max_message_size);
        return;
    }
    if (p->non_ascii && !p->smtputf8) {
        smtp_reply(s, "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        return;
    }
    if (ss->cfg->mode == SMTP_MODE_SUBMISSION && smtp_host->sender_allowed(s, p->addr) != 0) {
        smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_sender_refused user=%s",
                       smtp_host->session_user(s));
        smtp_reply(s, "553 5.7.1 Sender address not owned by user %s", smtp_host->session_user(s));
        return;
    }
    ss->has_mail = 1;
    smtp_state_enter(s, ss, SMTP_S_MAIL);
    smtp_reply(s, "250 2.1.0 Ok");
}

/*
 * 1 when the domain is one of ours, 0 when not, -1 when the host cannot tell.
 * resolve_rcpt answers PETREL_ENOTFOUND both for an unknown user of a local
 * domain and for a foreign domain; the host function "domain_is_local" that
 * tells them apart is looked up by name (docs/smtp.md: until the host has
 * it, every unknown recipient gets 550 5.1.1, so nothing is ever relayed).
 */
static int smtp_domain_is_local(petrel_read *r, const char *domain)
{
    int (*fn)(petrel_read *, const char *);
    void *p = smtp_host->lookup("domain_is_local");
    if (!p || !r)
        return -1;
    memcpy(&fn, &p, sizeof(fn));
    return fn(r, domain) ? 1 : 0;
}

/* The reply for an address resolve_rcpt did not find. */
static void smtp_rcpt_unknown(petrel_session *s, struct smtp_session *ss, int local)
{
    if (local == 0 && ss->cfg->mode == SMTP_MODE_MX)
        smtp_reply(s, "554 5.7.1 Relay access denied");
    else if (local == 0 && ss->cfg->mode == SMTP_MODE_SUBMISSION)
        smtp_reply(s, "451 4.3.2 Outbound delivery is not available yet: remote recipients "
                      "cannot be accepted");
    else
        smtp_reply(s, "550 5.1.1 Recipient address rejected: no such user here");
}

static int smtp_rcpt_add(struct smtp_session *ss, const struct smtp_path *p,
                         const struct petrel_rcpt *users)
{
    if (ss->nrcpts == ss->caprcpts) {
        unsigned cap = ss->caprcpts ? ss->caprcpts * 2 : 8;
        struct smtp_rcpt *n = realloc(ss->rcpts, cap * sizeof(*n));
        if (!n)
            return PETREL_ENOMEM;
        ss->rcpts = n;
        ss->caprcpts = cap;
    }
    struct smtp_rcpt *r = &ss->rcpts[ss->nrcpts++];
    memcpy(r->addr, p->addr, p->addrlen + 1);
    r->users = *users;
    r->notify = p->notify;
    memcpy(r->orcpt, p->orcpt, sizeof(r->orcpt));
    return 0;
}

static void smtp_cmd_rcpt(petrel_session *s, struct smtp_session *ss, const struct smtp_cmd *c)
{
    if (ss->state != SMTP_S_MAIL && ss->state != SMTP_S_RCPT) {
        smtp_reply(s, "503 5.5.1 Need MAIL before RCPT");
        smtp_error(s, ss);
        return;
    }
    if (ss->nrcpts >= ss->cfg->max_recipients) {
        smtp_reply(s, "452 4.5.3 Too many recipients");
        return;
    }
    struct smtp_path p;
    int rc = smtp_path_parse(c->arg, c->arglen, 0, &p);
    if (rc == 0 && !ss->esmtp && (p.notify || p.orcpt[0]))
        rc = PETREL_ENOTSUP;
    if (rc) {
        if (rc == PETREL_ENOTSUP)
            smtp_reply(s, "555 5.5.4 Unsupported or malformed RCPT parameter");
        else
            smtp_reply(s, "501 5.1.3 Bad recipient address syntax");
        smtp_error(s, ss);
        return;
    }
    if (p.non_ascii && !ss->mail.smtputf8) {
        smtp_reply(s, "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter");
        return;
    }
    struct petrel_rcpt users;
    memset(&users, 0, sizeof(users));
    users.struct_size = sizeof(users);
    int local = -1;
    petrel_read *r = smtp_host->read_begin(s);
    rc = r ? smtp_host->resolve_rcpt(r, p.addr, &users) : PETREL_EIO;
    if (rc == PETREL_ENOTFOUND)
        local = smtp_domain_is_local(r, smtp_addr_domain(p.addr));
    smtp_host->read_end(&r);
    if (rc == 0 && users.n == 0)
        rc = PETREL_ENOTFOUND;
    if (rc == 0 && smtp_rcpt_add(ss, &p, &users) != 0)
        rc = PETREL_ENOMEM;
    switch (rc) {
    case 0:
        smtp_state_enter(s, ss, SMTP_S_RCPT);
        smtp_reply(s, "250 2.1.5 Ok");
        return;
    case PETREL_ENOTFOUND:
    case PETREL_EINVAL:
        smtp_rcpt_unknown(s, ss, local);
        if (local != 0)
            smtp_error(s, ss); /* unknown users count: slows down address harvesting */
        return;
    case PETREL_EPERM:
        smtp_reply(s, "550 5.2.1 Mailbox disabled, not accepting messages");
        return;
    case PETREL_EQUOTA:
        smtp_reply(s, "452 4.2.2 Mailbox full, try again later");
        return;
    case PETREL_ETOOBIG:
        smtp_reply(s, "452 4.5.3 Recipient expands to too many users");
        return;
    default:
        smtp_host->log(s, PETREL_LOG_WARN, "event=smtp_rcpt_failed error=%d", rc);
        smtp_reply(s, "451 4.3.0 Temporary failure looking up the recipient");
        return;
    }
}

/* ------------------------------------------------------------ the rest */

static void smtp_cmd_rset(petrel_session *s, struct smtp_session *ss)
{
    smtp_envelope_reset(ss);
    if (ss->state != SMTP_S_GREETED)
        smtp_state_enter(s, ss, SMTP_S_READY);
    smtp_reply(s, "250 2.0.0 Ok");
}

static void smtp_cmd_quit(petrel_session *s, struct smtp_session *ss)
{
    smtp_reply(s, "221 2.0.0 %s Bye", smtp_host->hostname());
    smtp_state_enter(s, ss, SMTP_S_QUIT);
    smtp_host->close(s);
}

void smtp_cmd_dispatch(petrel_session *s, struct smtp_session *ss, const struct smtp_cmd *c)
{
    /* while BDAT chunks are coming, only BDAT, RSET, NOOP and QUIT make sense */
    if (ss->state == SMTP_S_BDAT && c->verb != SMTP_V_BDAT && c->verb != SMTP_V_RSET &&
        c->verb != SMTP_V_NOOP && c->verb != SMTP_V_QUIT) {
        smtp_reply(s, "503 5.5.1 Only BDAT, RSET, NOOP or QUIT inside a BDAT transaction");
        smtp_error(s, ss);
        return;
    }
    switch (c->verb) {
    case SMTP_V_HELO:
    case SMTP_V_EHLO:
    case SMTP_V_LHLO:
        smtp_cmd_hello(s, ss, c);
        return;
    case SMTP_V_MAIL:
        smtp_cmd_mail(s, ss, c);
        return;
    case SMTP_V_RCPT:
        smtp_cmd_rcpt(s, ss, c);
        return;
    case SMTP_V_DATA:
        smtp_cmd_data(s, ss);
        return;
    case SMTP_V_BDAT:
        smtp_cmd_bdat(s, ss, c->arg, c->arglen);
        return;
    case SMTP_V_RSET:
        smtp_cmd_rset(s, ss);
        return;
    case SMTP_V_NOOP:
        smtp_reply(s, "250 2.0.0 Ok");
        return;
    case SMTP_V_QUIT:
        smtp_cmd_quit(s, ss);
        return;
    case SMTP_V_VRFY:
        smtp_reply(s, "252 2.5.0 VRFY is disabled; send some mail and it will be delivered");
        return;
    case SMTP_V_EXPN:
        smtp_reply(s, "502 5.5.1 EXPN is disabled");
        return;
    case SMTP_V_HELP:
        smtp_reply(s, "214 2.0.0 Commands: %s MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY%s",
                   ss->cfg->mode == SMTP_MODE_LMTP ? "LHLO" : "HELO EHLO",
                   ss->cfg->mode == SMTP_MODE_SUBMISSION ? " STARTTLS AUTH" : " STARTTLS");
        return;
    case SMTP_V_STARTTLS:
        smtp_cmd_starttls(s, ss);
        return;
    case SMTP_V_AUTH:
        smtp_cmd_auth(s, ss, c->arg, c->arglen);
        return;
    default:
        smtp_reply(s, "500 5.5.1 Command unrecognized");
        smtp_error(s, ss);
        return;
    }
}
