/*
 * auth.c - STARTTLS (RFC 3207) and AUTH PLAIN/LOGIN (RFC 4954) for the
 * submission mode. The host decodes SASL and checks the password (the
 * tenant must have smtp enabled: PETREL_PROTO_SMTP); lines of an AUTH
 * exchange are never logged.
 */
#include "smtp.h"

#include <string.h>

/* ------------------------------------------------------------ STARTTLS */

void smtp_cmd_starttls(petrel_session *s, struct smtp_session *ss)
{
    if (!smtp_host->tls_available(s)) {
        smtp_reply(s, "454 4.7.0 TLS not available");
        smtp_error(s, ss);
        return;
    }
    if (ss->state != SMTP_S_READY && ss->state != SMTP_S_GREETED) {
        smtp_reply(s, "503 5.5.1 STARTTLS not allowed inside a mail transaction");
        smtp_error(s, ss);
        return;
    }
    if (ss->authed) {
        smtp_reply(s, "503 5.5.1 Already authenticated");
        return;
    }
    smtp_reply(s, "220 2.0.0 Ready to start TLS");
    if (smtp_host->starttls(s) != 0) {
        smtp_host->close(s);
        smtp_state_enter(s, ss, SMTP_S_QUIT);
        return;
    }
    /* RFC 3207 4.2: forget everything learnt in plaintext; no line counts until the handshake */
    smtp_envelope_reset(ss);
    ss->helo[0] = '\0';
    ss->esmtp = 0;
    smtp_state_enter(s, ss, SMTP_S_WAIT);
}

void smtp_on_tls_done(petrel_session *s, void *data, int rc)
{
    struct smtp_session *ss = data;
    smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_starttls ok=%d", rc == 0);
    smtp_state_enter(s, ss, rc == 0 ? SMTP_S_GREETED : SMTP_S_QUIT);
}

/* ------------------------------------------------------------ AUTH */

/* Answers a sasl_step result; the session leaves SMTP_S_AUTH unless a challenge follows. */
static void smtp_auth_result(petrel_session *s, struct smtp_session *ss, int rc, const char *ch)
{
    switch (rc) {
    case 1:
        smtp_state_enter(s, ss, SMTP_S_AUTH);
        smtp_reply(s, "334 %s", ch);
        return;
    case PETREL_EPENDING:
        smtp_state_enter(s, ss, SMTP_S_WAIT);
        return;
    case PETREL_ENOTSUP:
        smtp_reply(s, "504 5.5.4 Unrecognized authentication type");
        break;
    case PETREL_ECLOSED:
        smtp_reply(s, "501 5.0.0 Authentication aborted");
        break;
    case PETREL_EINVAL:
    case PETREL_ETOOBIG:
        smtp_reply(s, "501 5.5.2 Cannot decode the response");
        break;
    case PETREL_EPERM:
        smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
        break;
    default:
        smtp_reply(s, "454 4.7.0 Temporary authentication failure");
        break;
    }
    smtp_state_enter(s, ss, SMTP_S_READY);
    smtp_error(s, ss);
}

void smtp_cmd_auth(petrel_session *s, struct smtp_session *ss, const char *arg, size_t n)
{
    if (ss->cfg->mode != SMTP_MODE_SUBMISSION) {
        smtp_reply(s, "503 5.5.1 AUTH not available on this service");
        smtp_error(s, ss);
        return;
    }
    if (ss->authed || ss->state != SMTP_S_READY || !ss->esmtp) {
        smtp_reply(s, "503 5.5.1 %s", ss->authed ? "Already authenticated"
                                     : !ss->esmtp ? "Send EHLO first"
                                                  : "AUTH not allowed inside a mail transaction");
        smtp_error(s, ss);
        return;
    }
    if (!smtp_host->plaintext_allowed(s)) {
        smtp_reply(s, "538 5.7.11 Encryption required: use STARTTLS first");
        smtp_error(s, ss);
        return;
    }
    char mech[32];
    size_t m = 0;
    while (m < n && arg[m] != ' ')
        m++;
    if (m == 0 || m >= sizeof(mech)) {
        smtp_reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
        smtp_error(s, ss);
        return;
    }
    memcpy(mech, arg, m);
    mech[m] = '\0';
    const char *init = m < n ? arg + m + 1 : NULL;
    size_t initlen = m < n ? n - m - 1 : 0;
    char ch[SMTP_SASL_CHALLENGE_MAX];
    int rc = smtp_host->sasl_step(s, PETREL_PROTO_SMTP, mech, init, initlen, ch, sizeof(ch));
    smtp_auth_result(s, ss, rc, ch);
}

void smtp_auth_line(petrel_session *s, struct smtp_session *ss, const char *line, size_t n)
{
    char ch[SMTP_SASL_CHALLENGE_MAX];
    int rc = smtp_host->sasl_step(s, PETREL_PROTO_SMTP, NULL, line, n, ch, sizeof(ch));
    smtp_auth_result(s, ss, rc, ch);
}

void smtp_on_auth_done(petrel_session *s, void *data, int rc)
{
    struct smtp_session *ss = data;
    smtp_state_enter(s, ss, SMTP_S_READY);
    if (rc == 0) {
        ss->authed = 1;
        smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_auth ok=1 user=%s",
                       smtp_host->session_user(s));
        smtp_reply(s, "235 2.7.0 Authentication successful");
        return;
    }
    smtp_host->log(s, PETREL_LOG_INFO, "event=smtp_auth ok=0 error=%d", rc);
    if (rc == PETREL_EAGAIN) {
        smtp_reply(s, "454 4.7.0 Temporary authentication failure, try again later");
        return;
    }
    if (rc == PETREL_ENEEDTLS)
        smtp_reply(s, "538 5.7.11 Encryption required: use STARTTLS first");
    else if (rc == PETREL_ENOTSUP)
        smtp_reply(s, "535 5.7.8 Mail submission is not enabled for this account");
    else
        smtp_reply(s, "535 5.7.8 Authentication credentials invalid");
    if (++ss->auth_failures >= ss->cfg->max_auth_failures) {
        smtp_reply(s, "421 4.7.0 %s Too many authentication failures, closing connection",
                   smtp_host->hostname());
        smtp_state_enter(s, ss, SMTP_S_QUIT);
        smtp_host->close(s);
    }
}
