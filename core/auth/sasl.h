/*
 * sasl.h - SASL PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login) as a
 * pure, resumable state machine for IMAP AUTHENTICATE, SMTP AUTH and POP3 AUTH.
 *
 * No I/O and no allocation: the protocol code hands in the client's base64
 * lines and gets back either a challenge to send (AUTH_SASL_NEED_MORE), the
 * extracted credentials (AUTH_SASL_DONE), or an error. Afterwards the caller
 * verifies the credentials (auth/password.h) and calls auth_sasl_reset(),
 * which wipes the password from memory. Every field is at most
 * AUTH_SASL_FIELD_MAX bytes and never contains a NUL.
 *
 *   struct auth_sasl s; const char *ch;
 *   auth_sasl_init(&s);
 *   int rc = auth_sasl_start(&s, "PLAIN", NULL, 0, &ch);   // NEED_MORE, ch = ""
 *   rc = auth_sasl_step(&s, line, len, &ch);                // DONE
 *   ... s.authcid / s.password ...
 *   auth_sasl_reset(&s);
 *
 * Errors (the exchange is then over; start again after auth_sasl_reset()):
 *   PETREL_ENOTSUP  unknown mechanism (start only)
 *   PETREL_ECLOSED  the client cancelled with "*"
 *   PETREL_EINVAL   bad base64, a NUL in the wrong place, an empty authcid or
 *                   password, a missing field, a step in the wrong state
 *   PETREL_ETOOBIG  a line or a field over its bound
 * Not thread-safe per object; separate objects are independent.
 */
#ifndef PETREL_AUTH_SASL_H
#define PETREL_AUTH_SASL_H

#include <stddef.h>

#define AUTH_SASL_FIELD_MAX 1024
/* the longest client line: base64 of authzid NUL authcid NUL password, padded */
#define AUTH_SASL_LINE_MAX ((3 * AUTH_SASL_FIELD_MAX + 2 + 2) / 3 * 4)

enum auth_sasl_status {
    AUTH_SASL_DONE = 0,      /* credentials are in the struct */
    AUTH_SASL_NEED_MORE = 1, /* send *challenge_r (base64, may be "") and call step */
};

enum auth_sasl_mech { AUTH_SASL_MECH_NONE, AUTH_SASL_MECH_PLAIN, AUTH_SASL_MECH_LOGIN };

enum auth_sasl_state {
    AUTH_SASL_IDLE,         /* after init/reset: only start is valid */
    AUTH_SASL_WANT_PLAIN,   /* PLAIN sent the empty challenge */
    AUTH_SASL_WANT_USER,    /* LOGIN sent "Username:" */
    AUTH_SASL_WANT_PASS,    /* LOGIN sent "Password:" */
    AUTH_SASL_STATE_DONE,   /* credentials available */
    AUTH_SASL_STATE_FAILED, /* error or cancel; only reset is valid */
};

struct auth_sasl {
    enum auth_sasl_mech mech;
    enum auth_sasl_state state;
    /* NUL-terminated, valid until reset; authzid_len 0 means none was given */
    char authzid[AUTH_SASL_FIELD_MAX + 1];
    char authcid[AUTH_SASL_FIELD_MAX + 1];
    char password[AUTH_SASL_FIELD_MAX + 1];
    size_t authzid_len, authcid_len, password_len;
};

/* Makes s idle (no memory to free: the struct is all there is). */
void auth_sasl_init(struct auth_sasl *s);
/* Wipes every field (the password with OPENSSL_cleanse) and makes s idle. */
void auth_sasl_reset(struct auth_sasl *s);

/* 1 when the mechanism name (ASCII case-insensitive) is supported. */
int auth_sasl_mech_supported(const char *mech);

/*
 * Begins an exchange. mech is NUL-terminated, case-insensitive. initial is
 * the client's initial response, not NUL-terminated: NULL when the command
 * carried none, "=" (initial_len 1) for an empty one, else base64.
 * Returns AUTH_SASL_DONE, AUTH_SASL_NEED_MORE (*challenge_r set to a static
 * string) or an error above; PETREL_EINVAL also when s is not idle.
 */
int auth_sasl_start(struct auth_sasl *s, const char *mech, const char *initial, size_t initial_len,
                    const char **challenge_r);

/*
 * Feeds one client line (base64, not NUL-terminated; a trailing CR LF or LF
 * is ignored; "*" cancels; an empty line is an empty response).
 * Returns as auth_sasl_start().
 */
int auth_sasl_step(struct auth_sasl *s, const char *line, size_t len, const char **challenge_r);

#endif
