/*
 * pop3_auth.c - the AUTHORIZATION state: CAPA, STLS (RFC 2595), USER/PASS,
 * AUTH (RFC 5034: SASL PLAIN and LOGIN through the host), APOP (refused:
 * only scrypt hashes are stored, no plaintext-equivalent secret), and the
 * maildrop view taken at login.
 */
#include "pop3_int.h"

#include <stdlib.h>
#include <string.h>

#define POP3_SASL_CHALLENGE_MAX 512

void pop3_cmd_capa(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    petrel_session *s = ps->s;
    int preauth = ps->state == POP3_ST_AUTH;
    int plain = preauth && pop3_host->plaintext_allowed(s);
    pop3_host->writef(s, "+OK capability list follows\r\n"
                         "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
                         "EXPIRE NEVER\r\n");
    if (plain) pop3_host->writef(s, "USER\r\nSASL PLAIN LOGIN\r\n");
    if (preauth && pop3_host->tls_available(s)) pop3_host->writef(s, "STLS\r\n");
    pop3_host->writef(s, "IMPLEMENTATION Petrel\r\n.\r\n");
}

void pop3_cmd_stls(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    if (!pop3_host->tls_available(ps->s)) {
        const char *v = NULL, *c = NULL;
        pop3_error(ps, pop3_host->tls_info(ps->s, &v, &c) ? "TLS already active"
                                                          : "STLS not available here");
        return;
    }
    ps->user[0] = '\0';
    pop3_host->writef(ps->s, "+OK begin TLS negotiation\r\n");
    if (pop3_host->starttls(ps->s) != 0) {
        pop3_host->log(ps->s, PETREL_LOG_WARN, "event=pop3_stls_failed");
        pop3_close(ps);
    }
}

void pop3_tls_done(struct pop3_session *ps, int rc)
{
    /* RFC 2595: forget everything learned before the handshake */
    ps->user[0] = '\0';
    pop3_host->log(ps->s, PETREL_LOG_DEBUG, "event=pop3_tls ok=%d", rc == 0);
}

static int pop3_plaintext_ok(struct pop3_session *ps)
{
    if (pop3_host->plaintext_allowed(ps->s)) return 1;
    pop3_host->writef(ps->s,
                      "-ERR [AUTH] plaintext authentication disallowed without TLS (use STLS)\r\n");
    return 0;
}

void pop3_cmd_user(struct pop3_session *ps, const struct pop3_req *r)
{
    if (!pop3_plaintext_ok(ps)) return;
    memcpy(ps->user, r->arg[0], r->arglen[0]); /* parser bounds it by POP3_USER_MAX */
    ps->user[r->arglen[0]] = '\0';
    pop3_host->writef(ps->s, "+OK send PASS\r\n");
}

void pop3_cmd_pass(struct pop3_session *ps, const struct pop3_req *r)
{
    if (!ps->user[0]) {
        pop3_error(ps, "send USER first");
        return;
    }
    if (!pop3_plaintext_ok(ps)) return;
    char pass[POP3_MAX_LINE + 1];
    size_t n = r->arglen[0] < POP3_MAX_LINE ? r->arglen[0] : POP3_MAX_LINE;
    memcpy(pass, r->arg[0], n);
    pass[n] = '\0';
    int rc = pop3_host->auth_plain(ps->s, PETREL_PROTO_POP3, ps->user, pass);
    memset(pass, 0, sizeof(pass)); /* the password does not linger on our stack */
    if (rc != PETREL_EPENDING) pop3_auth_done(ps, rc ? rc : PETREL_EIO);
}

void pop3_cmd_apop(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    pop3_host->writef(ps->s, "-ERR [AUTH] APOP is not supported, use USER/PASS or AUTH\r\n");
}

/* One result of host->sasl_step. */
static void pop3_sasl_result(struct pop3_session *ps, int rc, const char *challenge)
{
    if (rc == 1) {
        pop3_enter_state(ps, POP3_ST_SASL);
        pop3_host->writef(ps->s, "+ %s\r\n", challenge);
        return;
    }
    pop3_enter_state(ps, POP3_ST_AUTH);
    if (rc == PETREL_EPENDING) return; /* on_auth_done answers */
    if (rc == PETREL_ENOTSUP)
        pop3_error(ps, "unknown SASL mechanism");
    else if (rc == PETREL_ECLOSED)
        pop3_host->writef(ps->s, "-ERR [AUTH] authentication cancelled\r\n");
    else if (rc == PETREL_EINVAL)
        pop3_error(ps, "[AUTH] malformed SASL response");
    else
        pop3_auth_done(ps, rc ? rc : PETREL_EIO);
}

void pop3_cmd_auth(struct pop3_session *ps, const struct pop3_req *r)
{
    petrel_session *s = ps->s;
    if (r->nargs == 0) { /* the pre-RFC 5034 listing some clients probe with */
        if (pop3_host->plaintext_allowed(s))
            pop3_host->writef(s, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
        else
            pop3_host->writef(s, "+OK\r\n.\r\n");
        return;
    }
    if (!pop3_plaintext_ok(ps)) return;
    if (r->arglen[0] >= sizeof(ps->sasl_mech)) {
        pop3_error(ps, "unknown SASL mechanism");
        return;
    }
    memcpy(ps->sasl_mech, r->arg[0], r->arglen[0]);
    ps->sasl_mech[r->arglen[0]] = '\0';
    const char *init = NULL;
    size_t initlen = 0;
    if (r->nargs == 2) {
        /* "=" is an empty initial response (RFC 5034 section 4) */
        init = r->arglen[1] == 1 && r->arg[1][0] == '=' ? "" : r->arg[1];
        initlen = init[0] == '\0' ? 0 : r->arglen[1];
    }
    char ch[POP3_SASL_CHALLENGE_MAX];
    int rc =
        pop3_host->sasl_step(s, PETREL_PROTO_POP3, ps->sasl_mech, init, initlen, ch, sizeof(ch));
    pop3_sasl_result(ps, rc, ch);
}

void pop3_sasl_line(struct pop3_session *ps, const char *line, size_t len)
{
    char ch[POP3_SASL_CHALLENGE_MAX];
    int rc = pop3_host->sasl_step(ps->s, PETREL_PROTO_POP3, NULL, line, len, ch, sizeof(ch));
    pop3_sasl_result(ps, rc, ch);
}

/* ------------------------------------------------------------ the maildrop view */

struct pop3_load_ctx {
    struct pop3_session *ps;
    uint32_t cap;
    int rc;
};

static int pop3_load_msg(const struct petrel_msg_info *m, void *arg)
{
    struct pop3_load_ctx *c = arg;
    struct pop3_session *ps = c->ps;
    if (m->flags & PETREL_F_POP3_DELETED) return 0; /* deleted for POP3 in flag-only mode: hidden */
    if (ps->nmsgs == POP3_MAX_MESSAGES)
        return 1; /* the rest is shown in a later session, once these are gone */
    if (ps->nmsgs == c->cap) {
        uint32_t ncap = c->cap ? c->cap * 2 : 64;
        if (ncap > POP3_MAX_MESSAGES) ncap = POP3_MAX_MESSAGES;
        struct pop3_msg *n = realloc(ps->msgs, ncap * sizeof(*n));
        if (!n) {
            c->rc = PETREL_ENOMEM;
            return 1;
        }
        ps->msgs = n;
        c->cap = ncap;
    }
    ps->msgs[ps->nmsgs++] = (struct pop3_msg){.uid = m->uid, .size = m->size};
    return 0;
}

/* Lists INBOX as it is now. 0 or an error. */
static int pop3_maildrop_load(struct pop3_session *ps)
{
    petrel_read *r = pop3_host->read_begin(ps->s);
    if (!r) return PETREL_EIO;
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    int rc = pop3_host->mailbox_get(r, "INBOX", &mb);
    struct pop3_load_ctx c = {.ps = ps};
    if (rc == 0) {
        ps->mailbox_id = mb.id;
        ps->uidvalidity = mb.uidvalidity;
        c.cap = mb.messages < POP3_MAX_MESSAGES ? mb.messages : POP3_MAX_MESSAGES;
        if (c.cap && !(ps->msgs = malloc(c.cap * sizeof(*ps->msgs)))) c.cap = 0;
        rc = pop3_host->msg_list(r, mb.id, 1, UINT32_MAX, pop3_load_msg, &c);
        if (rc > 0) rc = 0; /* stopped at the cap */
        if (c.rc) rc = c.rc;
    }
    pop3_host->read_end(&r);
    return rc;
}

/* The address of the session's user, lower-cased, as the lock key. */
static void pop3_lock_key(struct pop3_session *ps, char *dst, size_t cap)
{
    const char *u = pop3_host->session_user(ps->s);
    size_t i = 0;
    for (; u[i] && i + 1 < cap; i++)
        dst[i] = u[i] >= 'A' && u[i] <= 'Z' ? (char)(u[i] - 'A' + 'a') : u[i];
    dst[i] = '\0';
}

static void pop3_login_ok(struct pop3_session *ps)
{
    char key[sizeof(ps->locked)];
    pop3_lock_key(ps, key, sizeof(key));
    int rc = pop3_lock_acquire(key);
    if (rc == PETREL_EBUSY) {
        pop3_host->log(ps->s, PETREL_LOG_INFO, "event=pop3_in_use user=%s", key);
        pop3_host->writef(ps->s, "-ERR [IN-USE] maildrop is in use by another POP3 session\r\n");
        pop3_close(ps); /* the host keeps a session logged in: a retry needs a new connection */
        return;
    }
    if (rc == 0) memcpy(ps->locked, key, sizeof(key));
    if (rc == 0) rc = pop3_maildrop_load(ps);
    if (rc) {
        pop3_host->log(ps->s, PETREL_LOG_ERROR, "event=pop3_maildrop_failed user=%s rc=%d", key,
                       rc);
        if (ps->locked[0]) pop3_lock_release(ps->locked);
        ps->locked[0] = '\0';
        free(ps->msgs);
        ps->msgs = NULL;
        ps->nmsgs = 0;
        pop3_host->writef(ps->s, "-ERR [SYS/TEMP] cannot open the maildrop, try again later\r\n");
        pop3_close(ps);
        return;
    }
    pop3_enter_state(ps, POP3_ST_TRANS);
    pop3_host->log(ps->s, PETREL_LOG_INFO, "event=pop3_login user=%s messages=%u", key, ps->nmsgs);
    pop3_host->writef(ps->s, "+OK logged in, %u messages\r\n", ps->nmsgs);
}

void pop3_auth_done(struct pop3_session *ps, int rc)
{
    ps->user[0] = '\0';
    if (ps->state == POP3_ST_CLOSING) return;
    pop3_enter_state(ps, POP3_ST_AUTH);
    if (rc == 0) {
        pop3_login_ok(ps);
        return;
    }
    if (rc == PETREL_EAGAIN)
        pop3_host->writef(ps->s, "-ERR [SYS/TEMP] try again later\r\n");
    else if (rc == PETREL_ENOTSUP)
        pop3_host->writef(ps->s, "-ERR [AUTH] POP3 is not enabled for this account\r\n");
    else if (rc == PETREL_ENEEDTLS)
        pop3_host->writef(ps->s, "-ERR [AUTH] plaintext authentication disallowed without TLS\r\n");
    else if (rc == PETREL_EPERM)
        pop3_host->writef(ps->s, "-ERR [AUTH] authentication failed\r\n");
    else
        pop3_host->writef(ps->s, "-ERR [SYS/TEMP] authentication unavailable, try later\r\n");
    if (++ps->auth_failures >= POP3_MAX_AUTH_FAILURES) {
        pop3_host->log(ps->s, PETREL_LOG_INFO, "event=pop3_too_many_auth_failures");
        pop3_close(ps); /* after the reply above */
    }
}
