/*
 * smtp.h - the SMTP plugin's shared declarations (mx, submission, lmtp).
 *
 * Files: smtp.c (descriptor, listener settings, session life, dispatch),
 * cmds.c (HELO/EHLO/LHLO, MAIL, RCPT, RSET, ...), auth.c (AUTH, STARTTLS),
 * data.c (DATA/BDAT, delivery, replies after the commit), parser.c (pure).
 */
#ifndef SMTP_SMTP_H
#define SMTP_SMTP_H

#include <petrel/plugin.h>

#include "parser.h"

/* Defaults of the listener keys (docs/smtp.md). */
#define SMTP_DEF_MAX_RECIPIENTS 1000 /* Postfix's smtpd_recipient_limit */
#define SMTP_DEF_MAX_ERRORS 10       /* bad commands before 421 and close */
#define SMTP_DEF_MAX_AUTH_FAILURES 3 /* failed AUTH before 421 and close */
#define SMTP_MAX_RECIPIENTS_CAP 10000 /* a recipient costs about 900 bytes */
#define SMTP_HELO_MAX 255            /* the HELO name kept for Received: */
#define SMTP_SASL_CHALLENGE_MAX 512

enum smtp_mode { SMTP_MODE_MX, SMTP_MODE_SUBMISSION, SMTP_MODE_LMTP };

/* Per-listener settings, read in listener_open. */
struct smtp_listener {
    int mode;
    unsigned max_recipients;
    unsigned max_errors;
    unsigned max_auth_failures;
    uint64_t max_message_size;
    int reject_bare_eol;
    int plus_folder; /* deliver local+tag@ into folder "tag" when it exists */
    int reverse_dns; /* the host looks the client up before the greeting (peer_name) */
};

/* Session states; smtp_state_enter() is the one place they change. */
enum smtp_state {
    SMTP_S_GREETED, /* before HELO/EHLO/LHLO */
    SMTP_S_READY,   /* after HELO: MAIL allowed */
    SMTP_S_MAIL,    /* after MAIL: RCPT allowed */
    SMTP_S_RCPT,    /* at least one recipient: DATA/BDAT allowed */
    SMTP_S_DATA,    /* receiving DATA lines */
    SMTP_S_BDAT,    /* receiving BDAT chunks (between chunks too) */
    SMTP_S_AUTH,    /* an AUTH exchange: lines are SASL responses */
    SMTP_S_WAIT,    /* a login or a store write is in flight */
    SMTP_S_QUIT,    /* closing */
};

/* Where one delivered user's result is found after the commit (data.c). */
struct smtp_target {
    uint64_t user;
    unsigned rcpt; /* the first recipient that reached the user */
    int op;        /* the w_deliver operation */
    unsigned sub;  /* the user's index in that operation */
};

/* One accepted recipient. */
struct smtp_rcpt {
    char addr[SMTP_PATH_MAX + 1];
    struct petrel_rcpt users; /* resolved local users, +tag */
    unsigned notify;          /* DSN NOTIFY (enum smtp_notify bits), 0 = not given */
    char orcpt[SMTP_PATH_MAX + 1]; /* DSN ORCPT as given (xtext), "" = not given */
};

struct smtp_session {
    struct smtp_listener *cfg;
    int state;
    int esmtp;
    int authed;
    unsigned errors;
    unsigned auth_failures;
    char helo[SMTP_HELO_MAX + 1];
    /* the envelope */
    int has_mail;
    struct smtp_path mail;
    struct smtp_rcpt *rcpts;
    unsigned nrcpts, caprcpts;
    /* the message */
    struct smtp_data data;
    uint64_t bdat_left;  /* bytes of the current BDAT chunk still to come */
    int bdat_last;       /* the current chunk is the LAST one */
    uint64_t bdat_chunk; /* size of the current chunk, for its reply */
    uint64_t msg_id;     /* per-session message counter for the queue id */
    struct smtp_target *targets; /* of the write in flight */
    size_t ntargets;
    int dsn_op; /* the w_dsn operation of the write in flight, or -1 */
};

extern const struct petrel_host *smtp_host;

/* smtp.c */
void smtp_state_enter(petrel_session *s, struct smtp_session *ss, int state);
void smtp_reply(petrel_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Counts a client error; 1 when the session was closed for too many. */
int smtp_error(petrel_session *s, struct smtp_session *ss);
void smtp_envelope_reset(struct smtp_session *ss);

/* cmds.c */
void smtp_cmd_dispatch(petrel_session *s, struct smtp_session *ss, const struct smtp_cmd *c);

/* auth.c */
void smtp_cmd_auth(petrel_session *s, struct smtp_session *ss, const char *arg, size_t n);
void smtp_auth_line(petrel_session *s, struct smtp_session *ss, const char *line, size_t n);
void smtp_on_auth_done(petrel_session *s, void *data, int rc);
void smtp_cmd_starttls(petrel_session *s, struct smtp_session *ss);
void smtp_on_tls_done(petrel_session *s, void *data, int rc);

/* data.c */
void smtp_cmd_data(petrel_session *s, struct smtp_session *ss);
void smtp_cmd_bdat(petrel_session *s, struct smtp_session *ss, const char *arg, size_t n);
void smtp_data_on_line(petrel_session *s, struct smtp_session *ss, const char *line, size_t n,
                       unsigned flags);
void smtp_on_data(petrel_session *s, void *data, const void *p, size_t n, int last);
void smtp_on_write_done(petrel_session *s, void *data, petrel_write *w, int rc);

/* dsn.c */
/* Decodes RFC 3461 xtext into out (cap bytes with the NUL; truncates). */
void smtp_xtext_decode(const char *in, char *out, size_t cap);
/* Adds the w_dsn operation of the message (after its w_deliver ones). 0 or an error. */
int smtp_dsn_ops(petrel_write *w, struct smtp_session *ss);

#endif
