/*
 * store.h - Petrel's mailbox store: tenants, users, aliases, mailboxes,
 * messages, blobs, quota and IMAP sync state, in one transactional store.
 *
 * Shape (after LMDB): opaque handles, every call returns 0 or a negative
 * PETREL_E* code (include/petrel/errors.h), results through `_r` out-params.
 * Common errors: PETREL_EINVAL (malformed name/address/argument),
 * PETREL_ENOTFOUND, PETREL_EEXIST, PETREL_EQUOTA / PETREL_ETENANTQUOTA,
 * PETREL_ECONFLICT (retryable: run the whole transaction again; store_write()
 * and the writer do that for you), PETREL_EIO (logged with its cause).
 *
 * Transactions: every read is a short read transaction (never hold one across
 * a network wait: it pins old pages); every change is one write transaction
 * and a reader never sees half of one. Anything a call returns by pointer
 * (names inside records, message bytes, caches) points into the store and is
 * valid only until the end of the transaction (or the next write in it),
 * unless a function says it copies.
 *
 * Threads: a store_t is shared by all threads. A transaction is used by one
 * thread at a time. There is one writer at a time (petreld: the group-commit
 * writer thread, store_writer_*; petrelctl and tests: store_write()).
 * A thread holding a read transaction must not begin a write transaction.
 *
 * Names and case: domains are matched case-insensitively and stored lower-
 * case; local parts are stored as given and matched case-insensitively.
 * Mailbox names are UTF-8, hierarchy separator '/', case-sensitive except
 * INBOX (any case means INBOX; it always exists and cannot be deleted).
 */
#ifndef PETREL_STORE_H
#define PETREL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <petrel/errors.h>

typedef struct store store_t;
typedef struct store_txn store_txn_t;

/* ------------------------------------------------------------------ limits */
#define STORE_DOMAIN_MAX 253      /* RFC 1035 */
#define STORE_LOCAL_MAX 64        /* RFC 5321 */
#define STORE_ADDRESS_MAX 320     /* local@domain */
#define STORE_MAILBOX_NAME_MAX 512 /* buffer size; names are refused above 503 bytes (schema.h) */
#define STORE_HASH_MAX 255        /* stored password hash string */
#define STORE_KEYWORD_MAX 128     /* one keyword's length */
#define STORE_ALIAS_TARGETS_MAX 256
#define STORE_ALIAS_DEPTH_MAX 8   /* alias -> alias chains */

/* ------------------------------------------------------------------ open */

/*
 * Builds the parsed-structure cache for a message (core/mime provides one:
 * the store itself does not depend on the MIME parser). Appends the cache
 * bytes to out via out_append. Called once per new blob, inside the write.
 */
typedef int (*store_cache_fn)(const void *msg, size_t len,
                              int (*out_append)(void *out, const void *p, size_t n), void *out);

/*
 * A committed change to a mailbox, reported to the on_commit hook.
 * mailbox_id 0 covers every mailbox of the user (a txn that changed many
 * mailboxes reports them this way); user_id 0 and mailbox_id 0 together
 * mean "anything may have changed".
 */
typedef struct store_change {
    uint64_t user_id;
    uint32_t mailbox_id; /* 0: the user's mailbox list or account changed */
} store_change_t;

typedef void (*store_commit_fn)(const store_change_t *changes, size_t n, void *arg);

typedef struct store_opts {
    size_t struct_size;        /* sizeof(store_opts_t) */
    uint64_t map_size;         /* initial map size (0: default); it grows when full */
    int read_only;
    int no_sync;               /* benchmarks of non-durable mode only */
    store_cache_fn cache_fn;   /* NULL: messages get no structure cache */
    store_commit_fn on_commit; /* called after each committed write txn, on the committing thread */
    void *on_commit_arg;
    uint32_t vanished_keep;    /* expunge records kept per mailbox (0: STORE_VANISHED_KEEP_DEFAULT) */
} store_opts_t;

/* Past this many expunge records a mailbox drops its oldest tenth (vanished.c). */
#define STORE_VANISHED_KEEP_DEFAULT 100000u

/*
 * Opens the store in <data_dir>/store, creating it (and data_dir) when absent.
 * PETREL_ENOTSTORE: the directory holds something that is not a Petrel store;
 * PETREL_EVERSION: written by a newer schema. Both are logged naming the path.
 */
int store_open(const char *data_dir, const store_opts_t *opts, store_t **st_r);
void store_close(store_t **st);
const char *store_strerror(int err);

int store_read_begin(store_t *st, store_txn_t **txn_r);
int store_write_begin(store_t *st, store_txn_t **txn_r);
/* A nested write transaction inside parent (rolled back alone on abort). */
int store_txn_nest(store_txn_t *parent, store_txn_t **child_r);
/* Commits; a top-level write commit is durable (fsync) when it returns 0. */
int store_txn_commit(store_txn_t **txn);
/*
 * Commits a top-level write txn whose durability is deferred (kv.h
 * kv_commit_lazy): atomic and visible to readers at once, durable once the
 * next top-level write commit of this store returns 0 (every one writes the
 * generation, so it syncs the data file) or store_sync returns 0; an OS crash
 * before then may undo it. Its on_commit call waits until then too, so that
 * watchers hear only of durable changes. For the group-commit writer, which
 * acknowledges a batch only after that point. Errors as store_txn_commit.
 */
int store_txn_commit_lazy(store_txn_t **txn);
/*
 * Makes every commit durable (one fdatasync) and runs the on_commit of a
 * lazy commit that was waiting for it. 0, or PETREL_EIO when the sync failed
 * (on_commit still runs: readers already see the change).
 */
int store_sync(store_t *st);
void store_txn_abort(store_txn_t **txn);
/* Cheap reuse of a read transaction: reset when done, renew before reading again. */
void store_txn_reset(store_txn_t *txn);
int store_txn_renew(store_txn_t *txn);

typedef int (*store_op_fn)(store_txn_t *txn, void *arg);
/*
 * The synchronous write path (petrelctl, tests): runs op in a write
 * transaction and commits, running it again on PETREL_ECONFLICT (map growth).
 * op's error aborts the transaction and is returned. op may run more than once.
 */
int store_write(store_t *st, store_op_fn op, void *arg);

/*
 * A counter bumped by every committed write transaction of any process.
 * petreld polls it to notice changes made by petrelctl.
 */
int store_generation(store_t *st, uint64_t *gen_r);
/*
 * The generation and, read consistently with it, how many write
 * transactions this process (this store_t) has committed: the difference of
 * two readings tells whether another process committed in between.
 */
int store_generation_own(store_t *st, uint64_t *gen_r, uint64_t *own_r);

/* ------------------------------------------------------------------ tenants */
enum store_proto { STORE_PROTO_SMTP = 1, STORE_PROTO_POP3 = 2, STORE_PROTO_IMAP = 4 };
#define STORE_PROTO_ALL (STORE_PROTO_SMTP | STORE_PROTO_POP3 | STORE_PROTO_IMAP)
enum store_status { STORE_ACTIVE = 0, STORE_SUSPENDED = 1 };

typedef struct store_tenant {
    uint64_t id;
    char domain[STORE_DOMAIN_MAX + 1]; /* primary domain, lower case */
    uint32_t protocols;                /* STORE_PROTO_* bits */
    uint32_t status;                   /* enum store_status */
    uint64_t quota_bytes;              /* 0: unlimited */
    int64_t created;                   /* unix time */
} store_tenant_t;

int store_tenant_add(store_txn_t *txn, const char *domain, uint32_t protocols,
                     uint64_t quota_bytes, uint64_t *id_r);
/* Finds a tenant by its primary domain or one of its alias domains. */
int store_tenant_get(store_txn_t *txn, const char *domain, store_tenant_t *t_r);
int store_tenant_get_by_id(store_txn_t *txn, uint64_t id, store_tenant_t *t_r);
/* Updates protocols, status and quota_bytes of t->id (domain is ignored). */
int store_tenant_update(store_txn_t *txn, const store_tenant_t *t);
/* PETREL_EBUSY while users or aliases exist, unless purge (which deletes them all). */
int store_tenant_del(store_txn_t *txn, const char *domain, int purge);
typedef int (*store_tenant_cb)(const store_tenant_t *t, void *arg); /* nonzero stops */
int store_tenant_list(store_txn_t *txn, store_tenant_cb cb, void *arg);

int store_domain_alias_add(store_txn_t *txn, const char *domain, const char *alias_domain);
int store_domain_alias_del(store_txn_t *txn, const char *domain, const char *alias_domain);
typedef int (*store_name_cb)(const char *name, void *arg);
int store_domain_alias_list(store_txn_t *txn, uint64_t tenant_id, store_name_cb cb, void *arg);

/* ------------------------------------------------------------------ users */
typedef struct store_user {
    uint64_t id;
    uint64_t tenant_id;
    char address[STORE_ADDRESS_MAX + 1]; /* local part as given, domain lower case */
    char pwhash[STORE_HASH_MAX + 1];     /* self-describing hash string, or "" */
    uint32_t status;                     /* enum store_status */
    uint64_t quota_bytes;                /* 0: unlimited */
    uint64_t quota_messages;             /* 0: unlimited */
    int64_t created;
    int64_t last_login; /* 0: never */
} store_user_t;

/* The tenant of the address's domain must exist. Creates INBOX. */
int store_user_add(store_txn_t *txn, const char *address, const char *pwhash,
                   uint64_t quota_bytes, uint64_t quota_messages, uint64_t *id_r);
/* Case-insensitive; an alias domain finds the user of the primary domain. */
int store_user_get(store_txn_t *txn, const char *address, store_user_t *u_r);
int store_user_get_by_id(store_txn_t *txn, uint64_t id, store_user_t *u_r);
/* Updates pwhash, status, quotas and last_login of u->id. Only a change of
 * status or quota is reported to on_commit (the user's watchers wake). */
int store_user_update(store_txn_t *txn, const store_user_t *u);
int store_user_rename(store_txn_t *txn, const char *old_address, const char *new_address);
/* Deletes the user, every mailbox and message, frees blobs and quota usage. */
int store_user_del(store_txn_t *txn, const char *address);
typedef int (*store_user_cb)(const store_user_t *u, void *arg);
/* tenant_id 0: all users. In address order. */
int store_user_list(store_txn_t *txn, uint64_t tenant_id, store_user_cb cb, void *arg);

/* ------------------------------------------------------------------ aliases */
/* address is local@domain or "@domain" (catch-all); targets are addresses. Replaces. */
int store_alias_set(store_txn_t *txn, const char *address, const char *const *targets, size_t n);
int store_alias_del(store_txn_t *txn, const char *address);
/* Calls cb once per target. */
int store_alias_get(store_txn_t *txn, const char *address, store_name_cb cb, void *arg);
typedef int (*store_alias_cb)(const char *address, const char *const *targets, size_t n,
                              void *arg);
int store_alias_list(store_txn_t *txn, uint64_t tenant_id, store_alias_cb cb, void *arg);

/*
 * Resolves an envelope recipient for local delivery: an exact user (also via
 * alias domain), local+tag@domain (the tag is returned), an alias (followed
 * through chains up to STORE_ALIAS_DEPTH_MAX, targets de-duplicated), then the
 * domain's catch-all. PETREL_ENOTFOUND: no such local recipient (also for a
 * domain that is not local); PETREL_EPERM: the tenant or user is suspended.
 */
#define STORE_RCPT_MAX_USERS 64
typedef struct store_rcpt {
    size_t n;
    uint64_t user_ids[STORE_RCPT_MAX_USERS];
    uint64_t tenant_id;       /* the tenant of the recipient's domain */
    char tag[STORE_LOCAL_MAX + 1]; /* "" when the address had no +tag */
    int via_catchall;         /* reached only through the domain's catch-all */
} store_rcpt_t;
int store_resolve_rcpt(store_txn_t *txn, const char *address, store_rcpt_t *r_r);

/* ------------------------------------------------------------------ mailboxes */
enum store_special_use {
    STORE_SU_SENT = 1,
    STORE_SU_DRAFTS = 2,
    STORE_SU_TRASH = 4,
    STORE_SU_JUNK = 8,
    STORE_SU_ARCHIVE = 16,
    STORE_SU_ALL = 32,
    STORE_SU_FLAGGED = 64,
};

typedef struct store_mailbox {
    uint64_t user_id;
    uint32_t id;                 /* never reused for this user */
    char name[STORE_MAILBOX_NAME_MAX + 1];
    uint32_t uidvalidity;
    uint32_t uidnext;
    uint64_t highestmodseq;
    uint32_t messages;
    uint32_t unseen;
    uint32_t deleted;            /* messages with \Deleted */
    uint32_t first_recent_uid;   /* uids >= this are \Recent (IMAP4rev1) */
    uint64_t bytes;
    uint32_t special_use;        /* STORE_SU_* bits */
    int subscribed;
} store_mailbox_t;

/* Creates missing parents too (RFC 3501 CREATE). PETREL_EEXIST if it exists. */
int store_mailbox_create(store_txn_t *txn, uint64_t user_id, const char *name,
                         uint32_t special_use, uint32_t *id_r);
int store_mailbox_get(store_txn_t *txn, uint64_t user_id, const char *name, store_mailbox_t *m_r);
int store_mailbox_get_by_id(store_txn_t *txn, uint64_t user_id, uint32_t id, store_mailbox_t *m_r);
/* Deletes the mailbox and its messages (children stay). INBOX: PETREL_EPERM. */
int store_mailbox_delete(store_txn_t *txn, uint64_t user_id, const char *name);
/*
 * Renames a mailbox and all its children. PETREL_EEXIST if new_name exists.
 * Renaming INBOX (RFC 3501) moves its messages to a new mailbox new_name and
 * leaves INBOX empty.
 */
int store_mailbox_rename(store_txn_t *txn, uint64_t user_id, const char *old_name,
                         const char *new_name);
typedef int (*store_mailbox_cb)(const store_mailbox_t *m, void *arg);
/* Every mailbox of the user, in name order (INBOX included). */
int store_mailbox_list(store_txn_t *txn, uint64_t user_id, store_mailbox_cb cb, void *arg);
int store_mailbox_set_special_use(store_txn_t *txn, uint64_t user_id, const char *name,
                                  uint32_t special_use);
/* Subscriptions are names (RFC 3501 allows subscribing to names that do not exist). */
int store_subscribe(store_txn_t *txn, uint64_t user_id, const char *name, int on);
int store_subscription_list(store_txn_t *txn, uint64_t user_id, store_name_cb cb, void *arg);
/* Marks uids < uid as no longer \Recent (a rev1 SELECT does this). */
int store_mailbox_clear_recent(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                               uint32_t uid);
/* Every keyword ever set in the mailbox (for the FLAGS response). */
int store_mailbox_keywords(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                           store_name_cb cb, void *arg);

/* ------------------------------------------------------------------ messages */
enum store_flag {
    STORE_F_SEEN = 1,
    STORE_F_ANSWERED = 2,
    STORE_F_FLAGGED = 4,
    STORE_F_DELETED = 8,
    STORE_F_DRAFT = 16,
    STORE_F_POP3_DELETED = 32, /* pop3_delete = flag-only: hidden from POP3, kept for IMAP */
};
#define STORE_F_ALL 63u

typedef struct store_msg {
    uint64_t user_id;
    uint32_t mailbox_id;
    uint32_t uid;
    uint64_t blob_id;
    uint64_t size;           /* bytes of the message */
    int64_t internal_date;   /* unix time */
    uint32_t flags;          /* STORE_F_* */
    uint64_t modseq;
    /* keywords: nkeywords NUL-terminated names packed one after the other */
    const char *keywords;
    size_t keywords_len;
    unsigned nkeywords;
} store_msg_t;

typedef struct store_append {
    const void *data;
    size_t len;
    int64_t internal_date;          /* 0: now */
    uint32_t flags;
    const char *const *keywords;
    size_t nkeywords;
} store_append_t;

/* Appends one message; the user's and the tenant's quota are checked inside. */
int store_msg_append(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                     const store_append_t *in, uint32_t *uid_r);

/*
 * Delivers one message to several mailboxes (one blob for all): each target
 * in its own nested transaction, so a target over quota fails alone (a lone
 * target needs none: its checks come before any write).
 * results[i] gets 0 or the error of target i, uids_r[i] the new UID.
 * Returns 0 when at least the transaction itself is fine (look at results);
 * any other return leaves txn with partial writes: the caller aborts it.
 */
typedef struct store_target {
    uint64_t user_id;
    uint32_t mailbox_id;
} store_target_t;
int store_msg_deliver(store_txn_t *txn, const store_append_t *in, const store_target_t *targets,
                      size_t n, int *results, uint32_t *uids_r);

int store_msg_get(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid,
                  store_msg_t *m_r);
typedef int (*store_msg_cb)(const store_msg_t *m, void *arg); /* nonzero stops (returned) */
/*
 * The UIDs of a mailbox in ascending order into uids[0..cap), from one walk
 * of the message keys that reads nothing of each record but its flags (and
 * those only until the first unseen message): a session's UID map at SELECT
 * without a callback per message. *n_r: how many; *first_unseen_r (may be
 * NULL): 1-based position of the first message without \Seen, 0 when none.
 * PETREL_ETOOBIG when the mailbox holds more than cap messages (size cap
 * from store_mailbox_get's messages in the same txn); PETREL_ECORRUPT for a
 * record that does not decode.
 */
int store_msg_uids(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t *uids,
                   size_t cap, size_t *n_r, uint32_t *first_unseen_r);
/* Messages with uid_lo <= uid <= uid_hi, in UID order. */
int store_msg_list(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid_lo,
                   uint32_t uid_hi, store_msg_cb cb, void *arg);
/* Messages whose modseq > modseq (CONDSTORE CHANGEDSINCE), in modseq order. */
int store_msg_changed_since(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                            uint64_t modseq, store_msg_cb cb, void *arg);
typedef int (*store_uid_cb)(uint32_t uid, uint64_t modseq, void *arg);
/* UIDs expunged with a modseq > modseq (QRESYNC VANISHED), in modseq order.
 * Complete only when modseq >= the mailbox's floor (store_msg_vanished_floor). */
int store_msg_vanished_since(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                             uint64_t modseq, store_uid_cb cb, void *arg);
/* The newest modseq whose expunge record was dropped (0: none ever was): the
 * records of expunges with a modseq <= floor are gone. */
int store_msg_vanished_floor(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                             uint64_t *floor_r);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };
/*
 * Changes flags and keywords of one message. unchangedsince != 0: fail with
 * PETREL_EMODIFIED when the message's modseq is greater (CONDSTORE
 * UNCHANGEDSINCE). *modseq_r: the message's modseq after (unchanged if
 * nothing changed: no modseq is spent on a no-op).
 */
int store_msg_set_flags(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid,
                        enum store_flag_op op, uint32_t flags, const char *const *keywords,
                        size_t nkeywords, uint64_t unchangedsince, uint64_t *modseq_r);
/* New UID in the target, same blob. Quota is checked. */
int store_msg_copy(store_txn_t *txn, uint64_t user_id, uint32_t src_mailbox, uint32_t uid,
                   uint32_t dst_mailbox, uint32_t *new_uid_r);
int store_msg_move(store_txn_t *txn, uint64_t user_id, uint32_t src_mailbox, uint32_t uid,
                   uint32_t dst_mailbox, uint32_t *new_uid_r);
/* Removes the message, records (modseq, uid) for VANISHED, frees quota and the blob ref. */
int store_msg_expunge(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid);

/*
 * A zero-copy view of a message's bytes: a few segments that together are
 * the message, pointing into the map; valid until the end of the transaction.
 */
#define STORE_VIEW_SEGS 4
typedef struct store_view {
    size_t len;
    unsigned nseg;
    struct {
        const uint8_t *p;
        size_t n;
    } seg[STORE_VIEW_SEGS];
} store_view_t;
int store_msg_view(store_txn_t *txn, const store_msg_t *m, store_view_t *v_r);
/* Copies bytes [off, off+n) of the view to dst; returns how many were copied. */
size_t store_view_copy(const store_view_t *v, size_t off, void *dst, size_t n);
/* The structure cache built by cache_fn at append (PETREL_ENOTFOUND if none). */
int store_msg_cache(store_txn_t *txn, const store_msg_t *m, const void **p_r, size_t *n_r);

/* ------------------------------------------------------------------ quota */
typedef struct store_usage {
    uint64_t bytes;
    uint64_t messages;
} store_usage_t;
int store_quota_user(store_txn_t *txn, uint64_t user_id, store_usage_t *used_r);
int store_quota_tenant(store_txn_t *txn, uint64_t tenant_id, store_usage_t *used_r);

/* ------------------------------------------------------------------ outbound queue */
/*
 * Outbound work items (core/store/outq.c, table T_OUTQ). Today the only kind
 * is a delivery status notification (RFC 3461/3464) to a remote return path,
 * kept with what RFC 3464 needs to build the report later. Nothing sends
 * them yet (no outbound relay): operators list and delete them (petrelctl).
 * Each item holds one reference to a blob with what the report returns:
 * the message's header block (at most STORE_DSN_HEADERS_MAX bytes, whole
 * lines) for a "delivered" item or a failure without RET=FULL (RFC 3461
 * 4.3), the whole message only for a failure with RET=FULL. The queue holds
 * at most STORE_OUTQ_ITEMS_MAX items: it is outside every quota.
 */
enum store_dsn_action { STORE_DSN_DELIVERED = 1, STORE_DSN_FAILED = 2 };
enum store_dsn_ret { STORE_DSN_RET_NONE = 0, STORE_DSN_RET_FULL = 1, STORE_DSN_RET_HDRS = 2 };
#define STORE_DSN_ENVID_MAX 100  /* RFC 3461 4.4 */
#define STORE_DSN_ADDR_MAX 500   /* a return path, recipient or "type;address" ORCPT */
#define STORE_DSN_STATUS_MAX 15  /* "5.2.2" */
#define STORE_DSN_TEXT_MAX 255   /* reporting MTA name, diagnostic */
#define STORE_DSN_HEADERS_MAX (64u << 10) /* returned header block, cut at a line end */
#define STORE_OUTQ_ITEMS_MAX 100000u      /* queued items; store_dsn_add refuses more */

typedef struct store_dsn {
    uint64_t id;           /* set by store_dsn_add */
    uint32_t action;       /* enum store_dsn_action */
    uint32_t ret;          /* enum store_dsn_ret: what of the message to return */
    int64_t arrival;       /* unix time the message arrived */
    uint64_t blob_id;      /* set by store_dsn_add */
    uint64_t size;         /* bytes kept (header block, or the message: see above) */
    char status[STORE_DSN_STATUS_MAX + 1];         /* "2.0.0", "5.2.2" */
    char envid[STORE_DSN_ENVID_MAX + 1];           /* "" when none */
    char return_path[STORE_DSN_ADDR_MAX + 1];      /* where the DSN goes */
    char orcpt[STORE_DSN_ADDR_MAX + 1];            /* "rfc822;addr", or "" when none */
    char rcpt[STORE_DSN_ADDR_MAX + 1];             /* the final recipient */
    char reporting_mta[STORE_DSN_TEXT_MAX + 1];
    char diagnostic[STORE_DSN_TEXT_MAX + 1];       /* "smtp; 552 5.2.2 Mailbox full" or "" */
} store_dsn_t;

/*
 * Queues d (its id, blob_id and size are ignored) with what it returns of
 * the message msg (the header block, or all of it for a failure with
 * RET=FULL): the blob with these bytes is shared (one more reference) or
 * stored. The new item's id in *id_r (may be NULL). PETREL_EINVAL: an empty
 * return path or a bad action; PETREL_ETOOBIG: STORE_OUTQ_ITEMS_MAX queued.
 */
int store_dsn_add(store_txn_t *txn, const store_dsn_t *d, const void *msg, size_t len,
                  uint64_t *id_r);
/*
 * Length of msg's header block (each line with its CRLF, the empty line
 * that ends it excluded; all of msg when it has no body), cut to at most
 * STORE_DSN_HEADERS_MAX bytes at a line end.
 */
size_t store_dsn_header_len(const void *msg, size_t len);
int store_dsn_get(store_txn_t *txn, uint64_t id, store_dsn_t *d_r);
typedef int (*store_dsn_cb)(const store_dsn_t *d, void *arg); /* nonzero stops (returned) */
/* Every item in id (= queueing) order. */
int store_dsn_list(store_txn_t *txn, store_dsn_cb cb, void *arg);
/* The reported message's bytes (zero-copy, valid until the end of the txn). */
int store_dsn_view(store_txn_t *txn, const store_dsn_t *d, store_view_t *v_r);
/* Deletes the item and drops its blob reference. PETREL_ENOTFOUND when absent. */
int store_dsn_del(store_txn_t *txn, uint64_t id);

/* ------------------------------------------------------------------ check */
/*
 * Verifies every invariant: mailbox counters (messages, unseen, deleted,
 * bytes), highestmodseq >= every message modseq, uidnext > every uid, the
 * modseq index matches the messages, blob refcounts match references, quota
 * usage matches the messages, every record refers to something that exists.
 * cb gets one line per violation. repair: fix what can be recomputed
 * (counters, quota usage, refcounts, the modseq index) in one write txn.
 * *problems_r: violations found.
 */
typedef void (*store_check_cb)(const char *problem, void *arg);
int store_check(store_t *st, int repair, store_check_cb cb, void *arg, unsigned *problems_r);

/* ------------------------------------------------------------------ admin */
typedef struct store_stats {
    uint64_t tenants, users, mailboxes, messages, blobs;
    uint64_t message_bytes; /* sum of message sizes (every copy) */
    uint64_t blob_bytes;    /* sum of blob sizes (each stored once) */
    uint64_t file_bytes, map_size, used_pages, free_pages;
    uint32_t page_size;
    unsigned readers, max_readers;
} store_stats_t;
int store_stats(store_t *st, store_stats_t *s_r);
/* A consistent, compacted copy into dir (live: other writers keep going). */
int store_backup(store_t *st, const char *dir);

/* ------------------------------------------------------------------ writer */
/*
 * Group commit (petreld): one writer thread. Submitted ops are run in
 * batches: one write transaction per batch, each op in its own nested
 * transaction (an op that fails is rolled back alone), one durable commit,
 * then done(rc, arg) for each op, on the writer thread, after the commit.
 * rc is the op's result, or the commit's error for every op of the batch.
 * An op may run more than once (a batch is re-run after a map growth), so it
 * must keep its results in arg and set them idempotently.
 */
typedef struct store_writer store_writer_t;
typedef void (*store_done_fn)(int rc, void *arg);
int store_writer_start(store_t *st, store_writer_t **w_r);
/* PETREL_ECLOSED once stopping; PETREL_EAGAIN when the queue is full. */
int store_writer_submit(store_writer_t *w, store_op_fn op, store_done_fn done, void *arg);
/* Runs every op already submitted, then stops the thread. */
void store_writer_stop(store_writer_t **w);

#endif
