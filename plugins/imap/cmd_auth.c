/*
 * cmd_auth.c - STARTTLS, LOGIN, AUTHENTICATE (PLAIN, LOGIN, SASL-IR). The
 * host checks the credentials (asynchronously: imap_auth_done answers).
 */
#include "imap_int.h"

#include <string.h>

void imap_cmd_starttls(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "STARTTLS takes no arguments");
        return;
    }
    if (!imap_host->tls_available(is->s)) {
        imap_reply(is, "NO", "TLS not available");
        return;
    }
    imap_reply(is, "OK", "Begin TLS negotiation now");
    /* the host discards input sent before the handshake (command injection) */
    if (imap_host->starttls(is->s) != 0) imap_host->close(is->s);
}

/* Overwrites an argument's bytes (a password) once it has been used. */
static void imap_arg_wipe(struct imap_session *is, const struct imap_arg *a)
{
    const char *p = imap_arg_str(is->p, a);
    if (p && a->len) memset((char *)p, 0, a->len);
}

void imap_cmd_login(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs != 2 || !imap_arg_is_string(&p->args[0]) || !imap_arg_is_string(&p->args[1])) {
        imap_reply_bad(is, "LOGIN user password");
        return;
    }
    const char *user = imap_arg_str(p, &p->args[0]), *pass = imap_arg_str(p, &p->args[1]);
    if (strlen(user) != p->args[0].len || strlen(pass) != p->args[1].len) {
        imap_arg_wipe(is, &p->args[1]);
        imap_reply_bad(is, "NUL in LOGIN arguments");
        return;
    }
    if (!imap_host->plaintext_allowed(is->s)) {
        imap_arg_wipe(is, &p->args[1]);
        imap_reply(is, "NO", "[PRIVACYREQUIRED] LOGIN disabled: use STARTTLS first");
        return;
    }
    int rc = imap_host->auth_plain(is->s, PETREL_PROTO_IMAP, user, pass);
    imap_arg_wipe(is, &p->args[1]);
    if (rc == PETREL_EPENDING)
        is->mode = IMAP_MODE_WAIT;
    else
        imap_auth_done(is, rc ? rc : PETREL_EAGAIN);
}

/* One sasl_step result: a challenge, pending verification, or the end of the exchange. */
static void imap_sasl_result(struct imap_session *is, int rc, const char *challenge)
{
    if (rc == 1) {
        imap_host->writef(is->s, "+ %s\r\n", challenge);
        is->mode = IMAP_MODE_SASL;
        return;
    }
    if (rc == PETREL_EPENDING) {
        is->mode = IMAP_MODE_WAIT;
        return;
    }
    is->mode = IMAP_MODE_COMMAND;
    if (rc == PETREL_ENOTSUP)
        imap_reply(is, "NO", "Unsupported authentication mechanism");
    else if (rc == PETREL_ECLOSED)
        imap_reply(is, "BAD", "AUTHENTICATE cancelled");
    else if (rc == PETREL_EINVAL)
        imap_reply(is, "BAD", "Malformed SASL response");
    else
        imap_reply(is, "NO", "[UNAVAILABLE] Authentication failed, try again later");
    imap_command_end(is);
}

void imap_cmd_authenticate(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char challenge[IMAP_SASL_CHALLENGE_MAX];
    if (p->nargs < 1 || p->nargs > 2 || p->args[0].type != IMAP_ARG_ATOM ||
        (p->nargs == 2 && p->args[1].type != IMAP_ARG_ATOM) ||
        p->args[0].len >= sizeof(is->sasl_mech)) {
        imap_reply_bad(is, "AUTHENTICATE mechanism [initial-response]");
        return;
    }
    if (!imap_host->plaintext_allowed(is->s)) {
        imap_reply(is, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
        return;
    }
    const char *mech = imap_arg_str(p, &p->args[0]);
    const char *ir = NULL;
    size_t irlen = 0;
    if (p->nargs == 2) {
        ir = imap_arg_str(p, &p->args[1]);
        irlen = p->args[1].len;
        if (irlen == 1 && ir[0] == '=') /* SASL-IR: an empty initial response */
            irlen = 0;
    }
    memcpy(is->sasl_mech, mech, p->args[0].len + 1);
    challenge[0] = '\0';
    int rc = imap_host->sasl_step(is->s, PETREL_PROTO_IMAP, is->sasl_mech, ir, irlen, challenge,
                                  sizeof(challenge));
    if (p->nargs == 2) imap_arg_wipe(is, &p->args[1]);
    imap_sasl_result(is, rc, challenge);
}

void imap_sasl_line(struct imap_session *is, const char *line, size_t len)
{
    char challenge[IMAP_SASL_CHALLENGE_MAX];
    challenge[0] = '\0';
    int rc = imap_host->sasl_step(is->s, PETREL_PROTO_IMAP, NULL, line, len, challenge,
                                  sizeof(challenge));
    imap_sasl_result(is, rc, challenge);
}

void imap_auth_done(struct imap_session *is, int rc)
{
    is->mode = IMAP_MODE_COMMAND;
    if (rc == 0) {
        imap_state_enter(is, IMAP_STATE_AUTH);
        imap_host->writef(is->s, "%s OK [", is->p->tag);
        imap_write_capability(is);
        imap_host->writef(is->s, "] Logged in\r\n");
        imap_command_end(is);
        return;
    }
    if (rc == PETREL_EAGAIN)
        imap_reply(is, "NO", "[UNAVAILABLE] Temporary failure, try again later");
    else if (rc == PETREL_ENOTSUP)
        imap_reply(is, "NO", "[AUTHORIZATIONFAILED] IMAP is not enabled for this account");
    else if (rc == PETREL_ENEEDTLS)
        imap_reply(is, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
    else
        imap_reply(is, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
    imap_host->log(is->s, PETREL_LOG_INFO, "event=imap_auth_failed rc=%d", rc);
    if (++is->auth_failures >= IMAP_MAX_AUTH_FAILURES) {
        imap_host->writef(is->s, "* BYE Too many authentication failures\r\n");
        imap_state_enter(is, IMAP_STATE_LOGOUT);
        imap_host->close(is->s);
    }
    imap_command_end(is);
}
