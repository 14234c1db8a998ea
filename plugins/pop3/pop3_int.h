/*
 * pop3_int.h - the POP3 plugin's internals, shared by its files (hidden
 * symbols: only petrel_plugin_entry leaves pop3.so).
 *
 * Files: pop3.c (descriptor, listener, session life, dispatch, state),
 * pop3_auth.c (CAPA, STLS, USER/PASS, AUTH, the maildrop view at login),
 * pop3_trans.c (STAT, LIST, UIDL, DELE, RSET, NOOP, QUIT and UPDATE),
 * pop3_retr.c (RETR/TOP streaming), pop3_lock.c (one session per maildrop),
 * pop3_sizes.c (cache of on-the-wire sizes),
 * parser.c (pure command parser and output encoder).
 */
#ifndef POP3_INT_H
#define POP3_INT_H

#include <petrel/plugin.h>

#include "parser.h"

#define POP3_MAX_LINE 1024       /* command / SASL line (host caps it further) */
#define POP3_MAX_MESSAGES 100000 /* messages shown in one session; the rest wait */
#define POP3_MAX_ERRORS 20       /* bad commands before we hang up */
#define POP3_MAX_AUTH_FAILURES 3 /* failed logins before we hang up */
#define POP3_MAX_PREAUTH_CMDS 50 /* commands before login */
#define POP3_USER_MAX 255
#define POP3_CHUNK (64 * 1024) /* bytes handed to host->write at once while streaming */

extern const struct petrel_host *pop3_host;

enum pop3_delete_mode { POP3_DELETE_ALLOW, POP3_DELETE_FLAG_ONLY };

struct pop3_listener {
    enum pop3_delete_mode delete_mode;
};

enum pop3_state {
    POP3_ST_AUTH,    /* AUTHORIZATION */
    POP3_ST_SASL,    /* AUTHORIZATION, an AUTH exchange is running */
    POP3_ST_TRANS,   /* TRANSACTION */
    POP3_ST_UPDATE,  /* QUIT: the deletions are being committed */
    POP3_ST_CLOSING, /* the last reply is written, the host closes */
};

struct pop3_msg {
    uint32_t uid;
    uint32_t deleted : 1; /* DELE in this session */
    uint32_t exact : 1;   /* size is the on-the-wire size (bare LFs counted) */
    uint64_t size;
};

/* A multi-line answer being produced under back-pressure (input is paused meanwhile). */
enum pop3_out_kind { POP3_OUT_NONE, POP3_OUT_MSG, POP3_OUT_LIST, POP3_OUT_UIDL };
struct pop3_stream {
    enum pop3_out_kind kind;
    uint32_t idx; /* MSG: the message's index; LIST/UIDL: the next index to list */
    size_t off;   /* MSG: bytes of the stored message consumed */
    struct pop3_enc enc;
};

struct pop3_session {
    petrel_session *s;
    const struct pop3_listener *l;
    enum pop3_state state;
    unsigned errors, auth_failures, preauth_cmds;
    char user[POP3_USER_MAX + 1]; /* from USER, "" when none */
    char sasl_mech[16];
    char locked[POP3_USER_MAX + 1]; /* the maildrop we hold, "" when none */
    /* the maildrop: INBOX as it was at login */
    uint32_t mailbox_id, uidvalidity;
    struct pop3_msg *msgs;
    uint32_t nmsgs, ndeleted;
    uint32_t update_ops; /* operations of the QUIT write */
    struct pop3_stream out;
};

/* pop3.c */
void pop3_enter_state(struct pop3_session *ps, enum pop3_state st);
/* Writes "-ERR text" and counts a protocol error; hangs up past POP3_MAX_ERRORS. */
void pop3_error(struct pop3_session *ps, const char *text);
void pop3_close(struct pop3_session *ps);

/* pop3_auth.c */
void pop3_cmd_capa(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_stls(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_user(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_pass(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_apop(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_auth(struct pop3_session *ps, const struct pop3_req *r);
void pop3_sasl_line(struct pop3_session *ps, const char *line, size_t len);
void pop3_auth_done(struct pop3_session *ps, int rc);
void pop3_tls_done(struct pop3_session *ps, int rc);

/* pop3_trans.c */
void pop3_cmd_stat(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_list(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_uidl(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_dele(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_rset(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_noop(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_quit(struct pop3_session *ps, const struct pop3_req *r);
void pop3_write_done(struct pop3_session *ps, petrel_write *w, int rc);
/* The message of argument text p[0..n): its index, or -1 after answering -ERR. */
int pop3_msg_arg(struct pop3_session *ps, const char *p, size_t n);
/* Makes msgs[i].size exact (within read r). 0 or an error (message gone: PETREL_ENOTFOUND). */
int pop3_msg_size(struct pop3_session *ps, petrel_read *r, uint32_t i);

/* pop3_retr.c */
void pop3_cmd_retr(struct pop3_session *ps, const struct pop3_req *r);
void pop3_cmd_top(struct pop3_session *ps, const struct pop3_req *r);
/* LIST / UIDL without argument (may be long: 100,000 lines). */
void pop3_listing_start(struct pop3_session *ps, enum pop3_out_kind kind);
void pop3_stream_continue(struct pop3_session *ps);

/* pop3_sizes.c: the process-wide cache of on-the-wire sizes (1 when found). */
uint64_t pop3_size_key(const char *user, uint32_t mailbox_id, uint32_t uidvalidity, uint32_t uid);
int pop3_size_get(uint64_t key, uint64_t *size_r);
void pop3_size_put(uint64_t key, uint64_t size);

/* pop3_lock.c: one POP3 session per maildrop in this process (RFC 1939 exclusive lock). */
/* 0, PETREL_EBUSY (held by another session), PETREL_ENOMEM. */
int pop3_lock_acquire(const char *user);
void pop3_lock_release(const char *user);

#endif
