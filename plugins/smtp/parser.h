/*
 * parser.h - the SMTP plugin's pure parsers: command lines, MAIL/RCPT paths
 * with their parameters, and the DATA/BDAT message state machine.
 *
 * Nothing here does I/O or calls the host: every function takes a buffer and
 * a length (never relies on NUL termination of its input) and returns a
 * result, so tests/fuzz/fuzz_smtp.c compiles this file directly.
 * Results: 0 or a negative PETREL_E* code, as in the rest of Petrel.
 */
#ifndef SMTP_PARSER_H
#define SMTP_PARSER_H

#include <petrel/errors.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_LINE_MAX 998    /* RFC 5321 4.5.3.1.6: 1000 octets with the CRLF */
#define SMTP_PATH_MAX 256    /* RFC 5321 4.5.3.1.3: a path, with its <> */
#define SMTP_DOMAIN_MAX 255  /* RFC 5321 4.5.3.1.2 */
#define SMTP_ENVID_MAX 100   /* RFC 3461 4.4 */
#define SMTP_PARAMS_MAX 10   /* ESMTP parameters on one MAIL/RCPT */

enum smtp_verb {
    SMTP_V_UNKNOWN = 0,
    SMTP_V_HELO,
    SMTP_V_EHLO,
    SMTP_V_LHLO,
    SMTP_V_MAIL,
    SMTP_V_RCPT,
    SMTP_V_DATA,
    SMTP_V_BDAT,
    SMTP_V_RSET,
    SMTP_V_NOOP,
    SMTP_V_QUIT,
    SMTP_V_VRFY,
    SMTP_V_EXPN,
    SMTP_V_HELP,
    SMTP_V_STARTTLS,
    SMTP_V_AUTH,
    SMTP_V_COUNT
};

/* A command line split into its verb and argument (which points into the line). */
struct smtp_cmd {
    enum smtp_verb verb;
    const char *arg; /* after the verb and one space; not NUL-terminated */
    size_t arglen;
};

/*
 * Splits a command line. 0 with cmd_r filled (verb SMTP_V_UNKNOWN for a verb
 * we do not know); PETREL_EINVAL for an empty line or a NUL/control byte in it.
 */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd_r);

enum smtp_body { SMTP_BODY_7BIT = 0, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE = 0, SMTP_RET_FULL, SMTP_RET_HDRS };
enum smtp_notify { SMTP_NOTIFY_NEVER = 1, SMTP_NOTIFY_SUCCESS = 2, SMTP_NOTIFY_FAILURE = 4,
                   SMTP_NOTIFY_DELAY = 8 };

/* A MAIL FROM or RCPT TO path and its parameters (DSN ones kept for the outbound queue). */
struct smtp_path {
    char addr[SMTP_PATH_MAX + 1]; /* without <> and source route; "" = the null path */
    size_t addrlen;
    int non_ascii;                /* the address has UTF-8 (needs SMTPUTF8) */
    /* MAIL parameters */
    int has_size;
    uint64_t size;
    int body; /* enum smtp_body */
    int smtputf8;
    int ret;  /* enum smtp_ret */
    char envid[SMTP_ENVID_MAX + 1];
    /* RCPT parameters */
    unsigned notify; /* enum smtp_notify bits, 0 = not given */
    char orcpt[SMTP_PATH_MAX + 1];
};

/*
 * Parses the argument of MAIL ("FROM:<a@b> SIZE=10 ...", is_mail 1) or RCPT
 * ("TO:<a@b> NOTIFY=...", is_mail 0). The null path <> is allowed for MAIL
 * only; RCPT TO:<postmaster> is allowed (RFC 5321 4.1.1.3). Errors:
 * PETREL_EINVAL syntax of the path, PETREL_ETOOBIG the path is too long,
 * PETREL_ENOTSUP an unknown or malformed parameter.
 */
int smtp_path_parse(const char *arg, size_t len, int is_mail, struct smtp_path *p_r);

/* The domain part of an address (after the last '@'), or "" when none. */
const char *smtp_addr_domain(const char *addr);

/* A bounded growable byte buffer (curl's dynbuf): appends fail past max. */
struct smtp_buf {
    char *p;
    size_t len, cap, max;
};
/* PETREL_ENOMEM when len + n would pass max or memory runs out. */
int smtp_buf_append(struct smtp_buf *b, const void *p, size_t n);
void smtp_buf_reset(struct smtp_buf *b); /* frees the memory, keeps max */

/* Sticky errors of a message being received (answered once, at its end). */
enum smtp_data_err {
    SMTP_DERR_NONE = 0,
    SMTP_DERR_SIZE,      /* 552 5.3.4: larger than max_message_size */
    SMTP_DERR_LINE,      /* 500 5.5.2: a line over SMTP_LINE_MAX */
    SMTP_DERR_BARE_EOL,  /* 550 5.6.0: bare LF or bare CR (when refused) */
    SMTP_DERR_NUL,       /* 550 5.6.0: a NUL byte in DATA */
    SMTP_DERR_NOMEM,     /* 451 4.3.0: out of memory */
};

/* Line flags, the same values as petrel_line_flags. */
#define SMTP_LINE_BARE_LF 1
#define SMTP_LINE_TOO_LONG 2

/*
 * The message state machine. The message goes into buf (bounded by max:
 * the size limit; past it nothing more is stored and err sticks to SIZE,
 * while the rest is still drained).
 */
struct smtp_data {
    struct smtp_buf buf;
    uint64_t max;        /* max_message_size */
    uint64_t size;       /* bytes of the message so far, stored or not */
    int reject_bare_eol; /* refuse bare LF / bare CR (RFC 5321 2.3.8) */
    int err;             /* enum smtp_data_err, sticky */
};

/* Prepares d for a new message (frees any previous one). */
void smtp_data_begin(struct smtp_data *d, uint64_t max, int reject_bare_eol);
/*
 * One DATA line without its line ending (flags: SMTP_LINE_*). Undoes dot
 * stuffing, appends CRLF. Returns 1 when this was the terminating ".",
 * else 0. Errors stick in d->err and never stop the draining.
 */
int smtp_data_line(struct smtp_data *d, const char *line, size_t len, unsigned flags);
/* Raw BDAT bytes (BINARYMIME: stored as they are). Errors stick in d->err. */
void smtp_data_raw(struct smtp_data *d, const void *p, size_t n);
/* Frees the message. */
void smtp_data_free(struct smtp_data *d);

#endif
