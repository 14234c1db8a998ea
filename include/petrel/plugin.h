/*
 * petrel/plugin.h - the Petrel protocol plugin ABI, version 1.
 *
 * This is the only header a plugin includes (it pulls in petrel/errors.h).
 * A plugin is a shared object exporting one function:
 *
 *     PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void);
 *
 * returning a descriptor that lives as long as the plugin is loaded.
 *
 * Stability rules (after SQLite's extension API and Redis modules):
 *  - struct petrel_plugin and struct petrel_host begin with abi_version and
 *    struct_size. The host refuses a plugin whose major version differs, or
 *    whose descriptor is smaller than ABI 1.0's.
 *  - struct petrel_host only grows at its end: functions are never removed,
 *    reordered or changed. A plugin built against 1.N that wants a function
 *    added in 1.M > N checks PETREL_HOST_HAS(host, field) first, or looks it
 *    up by name with host->lookup("name") (NULL when absent).
 *  - Everything the host hands out is an opaque handle. Structs that may grow
 *    carry struct_size, set by whoever allocates them: the host fills only
 *    the fields that fit, so old plugins keep working.
 *
 * Threading rules:
 *  - The host runs a few event-loop threads. One session's callbacks never
 *    run concurrently, and always on the same thread; different sessions'
 *    callbacks do run concurrently, so plugin-global state needs locking.
 *  - Store reads are synchronous: read_begin .. read_end is a short read
 *    snapshot (never keep one across callbacks: it pins old data).
 *  - Store writes are asynchronous: build a write with write_new and its
 *    w_* calls, submit it, and on_write_done is called once it is committed
 *    (durably) or failed. Authentication is asynchronous too (on_auth_done).
 *    While a write or an authentication is pending the host delivers no
 *    further input to the session (pipelined input waits, it is not lost).
 *  - A session handle is valid from session_start until session_end returns.
 *    host->close() only asks for the close: the handle stays valid until
 *    session_end, which is always called exactly once.
 *
 * Lifetimes of pointers the host returns are written at each function.
 */
#ifndef PETREL_PLUGIN_H
#define PETREL_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <petrel/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PETREL_ABI_MAJOR 1
#define PETREL_ABI_MINOR 2
#define PETREL_ABI_VERSION ((uint32_t)((PETREL_ABI_MAJOR << 16) | PETREL_ABI_MINOR))
#define PETREL_ABI_MAJOR_OF(v) ((v) >> 16)

#define PETREL_PLUGIN_EXPORT __attribute__((visibility("default")))
#define PETREL_PLUGIN_ENTRY "petrel_plugin_entry"

/* True when the host table has the field (it was added before this host was built). */
#define PETREL_HOST_HAS(host, field)                                                             \
    ((host)->struct_size >= offsetof(struct petrel_host, field) + sizeof((host)->field) &&     \
     (host)->field != NULL)

typedef struct petrel_session petrel_session;   /* one client connection */
typedef struct petrel_listener petrel_listener; /* one [listener NAME] section */
typedef struct petrel_read petrel_read;         /* a store read snapshot */
typedef struct petrel_write petrel_write;       /* a store write being built / submitted */

/* Log levels for host->log. */
enum petrel_log_level { PETREL_LOG_DEBUG, PETREL_LOG_INFO, PETREL_LOG_WARN, PETREL_LOG_ERROR };

/* The tenant protocols a login may need enabled. */
enum petrel_proto {
    PETREL_PROTO_NONE = 0, /* a plugin of another kind: no tenant protocol check */
    PETREL_PROTO_SMTP = 1, /* submission */
    PETREL_PROTO_POP3 = 2,
    PETREL_PROTO_IMAP = 4,
};

/* Flags of on_line. */
enum petrel_line_flags {
    PETREL_LINE_BARE_LF = 1,  /* the line ended in LF without CR */
    PETREL_LINE_TOO_LONG = 2, /* longer than the maximum: line holds its first part only,
                                 the rest up to the next LF was discarded */
};

/* Reasons of on_notify. */
enum petrel_notify {
    PETREL_NOTIFY_MAILBOX = 1,  /* a watched mailbox changed */
    PETREL_NOTIFY_TIMER = 2,    /* the session's timer fired */
    PETREL_NOTIFY_IDLE = 3,     /* idle timeout: say goodbye, the host closes after */
    PETREL_NOTIFY_SHUTDOWN = 4, /* the server stops: say goodbye, the host closes after */
};

/* System flags of messages (IMAP). */
enum petrel_flag {
    PETREL_F_SEEN = 1,
    PETREL_F_ANSWERED = 2,
    PETREL_F_FLAGGED = 4,
    PETREL_F_DELETED = 8,
    PETREL_F_DRAFT = 16,
    PETREL_F_POP3_DELETED = 32,
};
enum petrel_flag_op { PETREL_FLAGS_SET, PETREL_FLAGS_ADD, PETREL_FLAGS_REMOVE };

enum petrel_special_use {
    PETREL_SU_SENT = 1,
    PETREL_SU_DRAFTS = 2,
    PETREL_SU_TRASH = 4,
    PETREL_SU_JUNK = 8,
    PETREL_SU_ARCHIVE = 16,
    PETREL_SU_ALL = 32,
    PETREL_SU_FLAGGED = 64,
};

/* A mailbox's state (filled by the host; set struct_size first). */
struct petrel_mailbox_info {
    size_t struct_size;
    uint32_t id;
    const char *name; /* UTF-8, '/' separated; valid until read_end */
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint64_t highestmodseq;
    uint32_t messages;
    uint32_t unseen;
    uint32_t deleted;
    uint32_t first_recent_uid;
    uint64_t bytes;
    uint32_t special_use; /* PETREL_SU_* */
    int subscribed;
    /* (ABI 1.2) msg_vanished_since is complete only for modseqs >= this: the
     * records of older expunges were dropped (0: none ever was, and what a
     * 1.1 host leaves in a zeroed struct, which never drops any). */
    uint64_t vanished_floor;
};

/* A message's record (filled by the host; set struct_size first). */
struct petrel_msg_info {
    size_t struct_size;
    uint32_t uid;
    uint64_t size;
    int64_t internal_date; /* unix time */
    uint32_t flags;        /* PETREL_F_* */
    uint64_t modseq;
    const char *keywords;  /* nkeywords NUL-terminated names, packed; valid until read_end */
    unsigned nkeywords;
};

/* A zero-copy view of a message's bytes, valid until read_end. */
#define PETREL_VIEW_SEGS 4
struct petrel_view {
    size_t len;
    unsigned nseg;
    struct {
        const uint8_t *p;
        size_t n;
    } seg[PETREL_VIEW_SEGS];
};

/* Where a recipient of an inbound message goes (resolve_rcpt). */
#define PETREL_RCPT_MAX 64
struct petrel_rcpt {
    size_t struct_size;
    unsigned n;                       /* local users reached (aliases expand) */
    uint64_t users[PETREL_RCPT_MAX];  /* opaque user tokens for w_deliver */
    char tag[65];                     /* the +tag of local+tag@domain, or "" */
};

/* Sections of a message (IMAP BODY[section]), for msg_section. */
enum petrel_section {
    PETREL_SECTION_BODY = 0,   /* BODY[] or BODY[1.2] */
    PETREL_SECTION_HEADER = 1, /* BODY[HEADER] / BODY[n.HEADER] of a message/rfc822 part */
    PETREL_SECTION_TEXT = 2,   /* BODY[TEXT] / BODY[n.TEXT] */
    PETREL_SECTION_MIME = 3,   /* BODY[n.MIME]: the part's own MIME header */
};

/* Content-Transfer-Encodings (msg_section) and what decode() can undo. */
enum petrel_encoding {
    PETREL_ENC_7BIT = 0,
    PETREL_ENC_8BIT = 1,
    PETREL_ENC_BINARY = 2,
    PETREL_ENC_QP = 3,
    PETREL_ENC_BASE64 = 4,
    PETREL_ENC_OTHER = 5,    /* unknown: cannot be decoded */
    PETREL_DECODE_RFC2047 = 16, /* decode(): a header value, encoded words to UTF-8 */
};

/* DSN parameters (RFC 3461) of a delivery, for w_dsn (ABI 1.1). */
enum petrel_dsn_notify {
    PETREL_DSN_NEVER = 1,
    PETREL_DSN_SUCCESS = 2,
    PETREL_DSN_FAILURE = 4,
    PETREL_DSN_DELAY = 8,
};
enum petrel_dsn_ret { PETREL_DSN_RET_NONE = 0, PETREL_DSN_RET_FULL = 1, PETREL_DSN_RET_HDRS = 2 };

/* One recipient (RCPT TO) of the message and the users it reached. */
struct petrel_dsn_rcpt {
    const char *rcpt;      /* the address as given in RCPT TO */
    const char *orcpt;     /* ORCPT, xtext-decoded "type;address", or NULL */
    unsigned notify;       /* PETREL_DSN_* bits; 0 = not given (FAILURE only) */
    const uint64_t *users; /* struct petrel_rcpt users of this recipient */
    size_t nusers;
};

/* The envelope's DSN parameters (set struct_size; rcpt_size = sizeof(struct petrel_dsn_rcpt)). */
struct petrel_dsn {
    size_t struct_size;
    const char *return_path; /* MAIL FROM address; "" = the null path (never gets a DSN) */
    const char *envid;       /* ENVID, xtext-decoded, or NULL */
    int ret;                 /* PETREL_DSN_RET_* */
    const struct petrel_dsn_rcpt *rcpts;
    size_t nrcpts;
    size_t rcpt_size;        /* stride of rcpts */
};

typedef int (*petrel_mailbox_cb)(const struct petrel_mailbox_info *m, void *arg);
typedef int (*petrel_msg_cb)(const struct petrel_msg_info *m, void *arg);
typedef int (*petrel_uid_cb)(uint32_t uid, uint64_t modseq, void *arg);
typedef int (*petrel_name_cb)(const char *name, void *arg);

/*
 * The host table. Append-only: new entries go at the end, forever.
 * Return values: 0 or a negative PETREL_E* code unless said otherwise.
 */
struct petrel_host {
    uint32_t abi_version;
    uint32_t struct_size;

    /* --- discovery */
    /* Any host function by its field name, or NULL if this host lacks it. */
    void *(*lookup)(const char *name);
    /* The server's hostname (for greetings), valid for the process lifetime. */
    const char *(*hostname)(void);
    /* One key=value line to the log; never log passwords or message bodies. s may be NULL. */
    void (*log)(petrel_session *s, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* --- listener configuration (inside listener_open and later) */
    /*
     * A key of the listener's own section, or def when absent. Valid for the
     * listener's life. The host's per-listener limits are readable too, as
     * decimal strings: "max_message_size", "max_line_length", "idle_timeout",
     * "max_connections".
     */
    const char *(*config_get)(petrel_listener *l, const char *key, const char *def);
    /* The listener of a session. */
    petrel_listener *(*session_listener)(petrel_session *s);
    /* Data returned by the plugin's listener_open. */
    void *(*listener_data)(petrel_listener *l);

    /* --- output */
    /* Queues bytes. PETREL_ENOMEM past the hard output limit (the session is then closed). */
    int (*write)(petrel_session *s, const void *p, size_t n);
    int (*writef)(petrel_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
    /*
     * 1 while the output buffer is below its high-water mark. A plugin that
     * produces a large response stops when this is 0 and goes on in on_writable.
     */
    int (*writable)(petrel_session *s);

    /* --- input */
    /* The next n bytes go to on_data in chunks instead of on_line (literals, DATA, BDAT). */
    int (*read_raw)(petrel_session *s, uint64_t n);
    /* Changes the maximum line length of this session (bounded by the host's own cap). */
    int (*set_max_line)(petrel_session *s, size_t max);
    /* Stops/resumes delivering input (already buffered input is kept). */
    void (*pause)(petrel_session *s);
    void (*resume)(petrel_session *s);

    /* --- connection */
    /*
     * Starts TLS after the bytes queued so far (the protocol's "go ahead"
     * reply) are flushed. Input that arrived before the handshake is
     * discarded. on_tls_done reports the result.
     */
    int (*starttls)(petrel_session *s);
    /* Closes after flushing queued output. session_end follows. */
    void (*close)(petrel_session *s);
    /* Per-session unique id (also in the host's log lines). */
    uint64_t (*session_id)(petrel_session *s);
    /* The peer address as text ("127.0.0.1", "::1"), valid for the session's life. */
    const char *(*peer_addr)(petrel_session *s);
    /* 1 when the peer is a loopback address. */
    int (*peer_is_loopback)(petrel_session *s);
    /* 1 when TLS is on; then version and cipher names (valid for the session's life). */
    int (*tls_info)(petrel_session *s, const char **version_r, const char **cipher_r);
    /* 1 when TLS can be started (listener is starttls and TLS not yet on). */
    int (*tls_available)(petrel_session *s);
    /* 1 when a plaintext password may be sent now (TLS, loopback, or auth_plaintext=always). */
    int (*plaintext_allowed)(petrel_session *s);
    /* A one-shot timer: on_notify(PETREL_NOTIFY_TIMER) after ms; 0 cancels. */
    int (*timer)(petrel_session *s, uint32_t ms);

    /* --- authentication (asynchronous: result in on_auth_done) */
    /*
     * Verifies user + password for protocol proto: user exists and is active,
     * tenant active, proto enabled for the tenant, plaintext allowed here,
     * throttling. Returns PETREL_EPENDING when started (the usual case).
     * on_auth_done rc: 0 ok, PETREL_EPERM bad credentials or account/tenant
     * suspended, PETREL_EAGAIN throttled or temporary failure, PETREL_ENOTSUP
     * protocol disabled for the tenant, PETREL_ENEEDTLS plaintext not allowed
     * here (check plaintext_allowed first to advertise it).
     */
    int (*auth_plain)(petrel_session *s, unsigned proto, const char *user, const char *pass);
    /*
     * SASL (PLAIN, LOGIN). Call with mech and the initial response (or NULL)
     * first, then with mech NULL and each client line. Returns 1 with a
     * base64 challenge in challenge_r (NUL-terminated, cap bytes) to send,
     * PETREL_EPENDING when verification started (on_auth_done follows),
     * PETREL_ENOTSUP for an unknown mechanism, PETREL_ECLOSED when the
     * client cancelled ("*"), PETREL_EINVAL for a malformed response.
     */
    int (*sasl_step)(petrel_session *s, unsigned proto, const char *mech, const char *data,
                     size_t len, char *challenge_r, size_t cap);
    /* The logged-in address ("" before login), valid for the session's life. */
    const char *(*session_user)(petrel_session *s);

    /* --- store reads (synchronous; pointers valid until read_end) */
    petrel_read *(*read_begin)(petrel_session *s);
    void (*read_end)(petrel_read **r);
    /* The logged-in user's mailboxes in name order. */
    int (*mailbox_list)(petrel_read *r, petrel_mailbox_cb cb, void *arg);
    int (*mailbox_get)(petrel_read *r, const char *name, struct petrel_mailbox_info *m_r);
    int (*subscription_list)(petrel_read *r, petrel_name_cb cb, void *arg);
    int (*mailbox_keywords)(petrel_read *r, uint32_t mailbox_id, petrel_name_cb cb, void *arg);
    /* Messages with uid_lo <= uid <= uid_hi in UID order. cb returning nonzero stops. */
    int (*msg_list)(petrel_read *r, uint32_t mailbox_id, uint32_t uid_lo, uint32_t uid_hi,
                    petrel_msg_cb cb, void *arg);
    int (*msg_get)(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_msg_info *m_r);
    int (*msg_view)(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_view *v_r);
    int (*msg_changed_since)(petrel_read *r, uint32_t mailbox_id, uint64_t modseq,
                             petrel_msg_cb cb, void *arg);
    int (*msg_vanished_since)(petrel_read *r, uint32_t mailbox_id, uint64_t modseq,
                              petrel_uid_cb cb, void *arg);
    /* Quota of the logged-in user: used and limit (0 = unlimited). */
    int (*quota_get)(petrel_read *r, uint64_t *used_bytes_r, uint64_t *limit_bytes_r,
                     uint64_t *used_msgs_r, uint64_t *limit_msgs_r);
    /*
     * Inbound mail (no login needed): resolves an envelope recipient. 0 and
     * rcpt filled; PETREL_ENOTFOUND unknown; PETREL_EPERM tenant/user
     * suspended; PETREL_EQUOTA a user it reaches is already over quota.
     */
    int (*resolve_rcpt)(petrel_read *r, const char *address, struct petrel_rcpt *rcpt_r);

    /* --- store writes (asynchronous) */
    /* A new write for the session's user (or for deliveries). NULL on out of memory. */
    petrel_write *(*write_new)(petrel_session *s);
    /*
     * Operations, run in order in one transaction when submitted. Each has its
     * own result (w_result); an operation that fails is rolled back alone.
     * They return the operation's index, or a negative error (bad argument).
     */
    int (*w_mailbox_create)(petrel_write *w, const char *name, uint32_t special_use);
    int (*w_mailbox_delete)(petrel_write *w, const char *name);
    int (*w_mailbox_rename)(petrel_write *w, const char *from, const char *to);
    int (*w_subscribe)(petrel_write *w, const char *name, int on);
    /* Copies the bytes. date 0: now. keywords: nkw NUL-terminated strings. */
    int (*w_append)(petrel_write *w, uint32_t mailbox_id, const void *p, size_t n, int64_t date,
                    uint32_t flags, const char *const *keywords, size_t nkw);
    int (*w_flags)(petrel_write *w, uint32_t mailbox_id, uint32_t uid, int op, uint32_t flags,
                   const char *const *keywords, size_t nkw, uint64_t unchangedsince);
    int (*w_copy)(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst_mailbox_id);
    int (*w_move)(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst_mailbox_id);
    int (*w_expunge)(petrel_write *w, uint32_t mailbox_id, uint32_t uid);
    int (*w_clear_recent)(petrel_write *w, uint32_t mailbox_id, uint32_t below_uid);
    /*
     * Inbound delivery of one message (copied) to the users of resolved
     * recipients (struct petrel_rcpt users), into INBOX or, when folder is not
     * NULL and exists, into that folder. One blob, one commit for all.
     */
    int (*w_deliver)(petrel_write *w, const void *p, size_t n, const uint64_t *users,
                     size_t nusers, const char *folder);
    /*
     * Submits the write; on_write_done(s, w, rc) follows after the durable
     * commit (rc: 0, or the transaction's error). Input pauses meanwhile.
     */
    int (*write_submit)(petrel_write *w);
    /*
     * After on_write_done: the result (0 or an error) of operation op and its
     * output: the new UID (append, copy, move; for w_deliver, of recipient
     * user number sub) and the message's new modseq (flags). Either output
     * pointer may be NULL. sub is 0 except for w_deliver.
     */
    int (*w_result)(petrel_write *w, int op, unsigned sub, uint32_t *uid_r, uint64_t *modseq_r);
    void (*write_free)(petrel_write **w);

    /* --- notifications */
    /* Calls on_notify(PETREL_NOTIFY_MAILBOX) when the mailbox changes (any process). */
    int (*watch)(petrel_session *s, uint32_t mailbox_id);
    void (*unwatch)(petrel_session *s);

    /*
     * 0 when the logged-in user may use address as an envelope sender: it is
     * the user's own address (any case, alias domains too) or an alias that
     * delivers to the user. PETREL_EPERM otherwise (or before login).
     */
    int (*sender_allowed)(petrel_session *s, const char *address);

    /* --- message structure: from the cache built once at delivery, never re-parsed.
     * Strings are IMAP syntax, valid until read_end. */
    int (*msg_envelope)(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char **p_r,
                        size_t *n_r);
    /* BODYSTRUCTURE (extended = 1) or BODY (extended = 0). */
    int (*msg_bodystructure)(petrel_read *r, uint32_t mailbox_id, uint32_t uid, int extended,
                             const char **p_r, size_t *n_r);
    /*
     * Where a section is in the message's bytes (see msg_view): spec is the
     * part number ("" for the whole message, "1.2"), kind a PETREL_SECTION_*.
     * *encoding_r (may be NULL): the part's PETREL_ENC_*. PETREL_ENOTFOUND:
     * no such part; PETREL_EINVAL: a malformed spec.
     */
    int (*msg_section)(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char *spec,
                       size_t spec_len, int kind, uint64_t *off_r, uint64_t *len_r,
                       int *encoding_r);
    /*
     * HEADER.FIELDS (not_ = 0) / HEADER.FIELDS.NOT (not_ = 1) of a header
     * block: the matching fields byte for byte and the closing blank line.
     */
    int (*header_fields)(petrel_read *r, const void *hdr, size_t len, const char *const *names,
                         size_t nnames, int not_, const char **p_r, size_t *n_r);
    /* Decodes a body (PETREL_ENC_QP, PETREL_ENC_BASE64; others copy) or a header value
     * (PETREL_DECODE_RFC2047) for SEARCH and BINARY[]. PETREL_ENOTSUP: PETREL_ENC_OTHER. */
    int (*decode)(petrel_read *r, int how, const void *in, size_t len, const char **p_r,
                  size_t *n_r);

    /* 1 when domain is a tenant's primary or alias domain (whatever its status), else 0. */
    int (*domain_is_local)(petrel_read *r, const char *domain);
    /*
     * 1 when the client has sent bytes that are not delivered yet (beyond the
     * line being handled): SMTP's rule against pipelining past DATA, say.
     */
    int (*input_pending)(petrel_session *s);

    /*
     * (ABI 1.1) Makes the write all-or-nothing: from now on, if any operation
     * of this write fails, none of them commits; the write's result
     * (on_write_done rc) is the first failing operation's error, and w_result
     * reports that error (and no UID/modseq) for every operation. Other writes
     * committed in the same batch are not affected. A w_deliver that fails for
     * any one of its users counts as failed. Call before write_submit.
     * 0, or PETREL_EINVAL after submit.
     */
    int (*w_atomic)(petrel_write *w);

    /*
     * (ABI 1.1) Delivery status notifications (RFC 3461) for a delivery:
     * call after the write's w_deliver operations; adds one operation that
     * runs after them in the same transaction. For each recipient it looks at
     * the results of its users (struct petrel_dsn_rcpt users) and, when the
     * return path is not null: a "delivered" DSN when one of its users got the
     * message and NOTIFY has SUCCESS; a "failed" DSN when all its users
     * failed while the write delivered to some other user (the message was
     * accepted) and NOTIFY is absent or has FAILURE. A DSN to a local return
     * path goes straight into that user's INBOX (multipart/report, RFC 3464);
     * one to a remote address is queued for the outbound work (petrelctl
     * queue list). The host copies everything. Returns the operation's index
     * (w_result: 0, or the error of queueing), or PETREL_EINVAL.
     */
    int (*w_dsn)(petrel_write *w, const struct petrel_dsn *d);
    /*
     * (ABI 1.1) The client's host name from reverse DNS, forward-confirmed
     * (the name resolves back to the address), or NULL when there is none,
     * the lookup failed or took too long, or the listener has
     * reverse_dns = no. The lookup runs off the event loops before
     * session_start, so the answer is final; valid for the session's life.
     */
    const char *(*peer_name)(petrel_session *s);
    /*
     * (ABI 1.1) The UIDs of mailbox_id in ascending order into uids[0..cap),
     * from one walk of the store without a callback per message (a session's
     * UID map at SELECT). *n_r: how many; *first_unseen_r (may be NULL): the
     * sequence number of the first message without \Seen, 0 when none.
     * PETREL_ETOOBIG when the mailbox holds more than cap messages (size cap
     * from mailbox_get's messages in the same read).
     */
    int (*msg_uids)(petrel_read *r, uint32_t mailbox_id, uint32_t *uids, uint32_t cap,
                    uint32_t *n_r, uint32_t *first_unseen_r);
};

/* The plugin descriptor. All callbacks but the session ones may be NULL. */
struct petrel_plugin {
    uint32_t abi_version; /* PETREL_ABI_VERSION the plugin was built against */
    uint32_t struct_size; /* sizeof(struct petrel_plugin) */
    const char *name;     /* must match the listener's `plugin =` */
    const char *version;  /* the plugin's own version, for the log */
    /* Listener keys the plugin accepts besides the host's own; NULL-terminated. */
    const char *const *config_keys;

    /* Once per process, before any listener. err: a message for the operator. */
    int (*load)(const struct petrel_host *host, char *err, size_t errlen);
    void (*unload)(void);
    /* Once per listener using the plugin; *data_r is returned by host->listener_data. */
    int (*listener_open)(petrel_listener *l, void **data_r, char *err, size_t errlen);
    void (*listener_close)(petrel_listener *l, void *data);

    /* A new connection: greet here. *data_r is passed to every later callback. */
    int (*session_start)(petrel_session *s, void **data_r);
    /* Always called once; free the session's data. */
    void (*session_end)(petrel_session *s, void *data);
    /* One line of input without its line ending. line is not NUL-terminated. */
    void (*on_line)(petrel_session *s, void *data, const char *line, size_t len, unsigned flags);
    /* Raw bytes asked for with read_raw; last = 1 on the final chunk. */
    void (*on_data)(petrel_session *s, void *data, const void *p, size_t n, int last);
    /* The output buffer fell below its low-water mark. */
    void (*on_writable)(petrel_session *s, void *data);
    void (*on_notify)(petrel_session *s, void *data, int what);
    /* STARTTLS handshake result: 0 or an error (the host then closes). */
    void (*on_tls_done)(petrel_session *s, void *data, int rc);
    void (*on_auth_done)(petrel_session *s, void *data, int rc);
    void (*on_write_done)(petrel_session *s, void *data, petrel_write *w, int rc);
    /*
     * The line to send before closing a connection refused for limits (too
     * many connections), e.g. "421 4.7.0 too many connections\r\n". May be NULL.
     */
    const char *(*refuse_line)(petrel_listener *l);
};

typedef const struct petrel_plugin *(*petrel_plugin_entry_fn)(void);

/* What a plugin exports (and nothing else: build with -fvisibility=hidden). */
PETREL_PLUGIN_EXPORT const struct petrel_plugin *petrel_plugin_entry(void);

#ifdef __cplusplus
}
#endif
#endif
