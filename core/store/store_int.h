/*
 * store_int.h - internals shared by the files of core/store (not for other
 * modules). Record codecs, key builders, the txn structure and the helpers
 * each part of the store uses from the others. Tests may include it to
 * reach the kv layer directly (e.g. to break a counter on purpose).
 */
#ifndef PETREL_STORE_INT_H
#define PETREL_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store/kv.h"
#include "store/schema.h"
#include "store/store.h"

/* Changes kept per top-level txn before collapsing to user-level or "all". */
#define STORE_TXN_CHANGES_MAX 64

struct store {
    kv_env_t *kv;
    /* held across each top-level commit and the own_gens update, so that
     * store_generation_own() reads a generation and the count of this
     * process's commits that agree with each other */
    pthread_mutex_t gen_mu;
    uint64_t own_gens;
    /* a lazy commit (store_txn_commit_lazy) not yet known durable, and its
     * changes for on_commit; guarded by gen_mu */
    int lazy_pending;
    size_t lazy_nchg;
    store_change_t lazy_chg[STORE_TXN_CHANGES_MAX];
    store_opts_t opts;
    char path[4096];
    size_t piece_max; /* size of a full inline blob piece (T_BLOBPIECE value) */
    size_t rest_max;  /* most bytes kept in a blob record (schema.h) */
    uint32_t page_size;
};

enum { CHG_EXACT = 0, CHG_USERS = 1, CHG_ALL = 2 };

struct store_txn {
    store_t *st;
    kv_txn_t *kv;
    store_txn_t *parent;
    store_txn_t *root;
    int write;
    /* root only: the changed (user, mailbox) list for on_commit */
    unsigned chg_mode;
    size_t nchg;
    store_change_t chg[STORE_TXN_CHANGES_MAX];
    /* child only: root's state when the child began */
    unsigned mark_mode;
    size_t mark_nchg;
};

/* The kv transaction under a store transaction (tests, store internals). */
kv_txn_t *store_txn_kv(store_txn_t *txn);
/* Records a change for on_commit (mailbox_id 0: the user's account/list). */
void store_txn_changed(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id);
int store_txn_is_write(const store_txn_t *txn);

/* ---------------------------------------------------------------- varints */
#define VARINT_MAX 10
/* Encodes v at p (room for VARINT_MAX); returns bytes written. */
size_t varint_put(uint8_t *p, uint64_t v);
/* Decodes from [*p, end); advances *p. PETREL_ECORRUPT when truncated. */
int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v_r);
static inline uint64_t zigzag_enc(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t zigzag_dec(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---------------------------------------------------------------- keys */
void key_um(uint8_t *k, uint64_t user, uint32_t mbox);
void key_umu(uint8_t *k, uint64_t user, uint32_t mbox, uint32_t uid);
void key_umq(uint8_t *k, uint64_t user, uint32_t mbox, uint64_t modseq);

/* Deletes every key of table that begins with prefix. */
int kvx_del_prefix(kv_txn_t *kv, unsigned table, const void *prefix, size_t plen);
/* Reads / writes a be64 / be32 meta value (absent reads as 0). */
int meta_get_u64(kv_txn_t *kv, const char *name, uint64_t *v_r);
int meta_put_u64(kv_txn_t *kv, const char *name, uint64_t v);
/* Hands out the next id of a meta counter (first id is 1). */
int meta_next_id(kv_txn_t *kv, const char *name, uint64_t *id_r);
/* Maps a kv error for a lookup: ENOTFOUND passes, others are logged. */
int store_kv_fail(int rc, const char *what);

/* ---------------------------------------------------------------- names */
/* Lower-cases and validates a domain into out (STORE_DOMAIN_MAX + 1). */
int name_domain(const char *in, char *out);
/* Splits and validates local@domain: local as given, domain lower-cased. */
int name_address(const char *in, char *local, char *domain);
int name_local_ok(const char *local, size_t len);
/* Validates a mailbox name and canonicalizes INBOX (any case) into out. */
int name_mailbox(const char *in, char *out);
int name_keyword_ok(const char *kw);
/* Key for T_USERADDR / T_ALIAS: be64 tenant + lower-case local. Returns length. */
size_t key_tenant_local(uint8_t *k, uint64_t tenant, const char *local);

/* ---------------------------------------------------------------- records */
typedef struct mbox_rec {
    uint32_t uidvalidity, uidnext;
    uint64_t highestmodseq;
    uint32_t messages, unseen, deleted, first_recent;
    uint64_t bytes;
    uint32_t special_use;
} mbox_rec_t;

void mbox_rec_enc(uint8_t *p, const mbox_rec_t *r);
void mbox_rec_dec(const uint8_t *p, mbox_rec_t *r);
/* Reads the mailbox record (and its name into m, if m). */
int mbox_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, mbox_rec_t *r, store_mailbox_t *m);
int mbox_save(kv_txn_t *kv, uint64_t user, uint32_t mbox, const mbox_rec_t *r);
/* Creates one mailbox record + name entry (no parents). */
int mbox_create_one(store_txn_t *txn, uint64_t user, const char *name, uint32_t special_use,
                    uint32_t *id_r);

typedef struct msg_rec {
    uint64_t blob_id, size;
    int64_t internal_date;
    uint32_t flags;
    uint64_t modseq;
    const char *keywords;
    size_t keywords_len;
    unsigned nkeywords;
} msg_rec_t;

/* Max encoded message record (5 varints + keywords). */
#define MSG_KEYWORDS_MAX 64
#define MSG_KEYWORDS_BYTES 2048
#define MSG_REC_MAX (5 * VARINT_MAX + MSG_KEYWORDS_BYTES)
size_t msg_rec_enc(uint8_t *p, const msg_rec_t *r);
int msg_rec_dec(const uint8_t *p, size_t n, msg_rec_t *r);
int msg_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint32_t uid, msg_rec_t *r);
void msg_to_public(uint64_t user, uint32_t mbox, uint32_t uid, const msg_rec_t *r, store_msg_t *m);

typedef struct user_rec {
    uint64_t tenant_id;
    uint32_t status;
    uint64_t quota_bytes, quota_messages;
    int64_t created, last_login;
    uint32_t next_mbox;
    char address[STORE_ADDRESS_MAX + 1];
    char pwhash[STORE_HASH_MAX + 1];
} user_rec_t;
int user_load(kv_txn_t *kv, uint64_t id, user_rec_t *r);
int user_save(kv_txn_t *kv, uint64_t id, const user_rec_t *r);
int tenant_load(kv_txn_t *kv, uint64_t id, store_tenant_t *t);
int tenant_save(kv_txn_t *kv, const store_tenant_t *t);
/* Finds the tenant id of a (lower-case) domain, and whether it is an alias. */
int domain_lookup(kv_txn_t *kv, const char *domain, uint64_t *tenant_r, int *kind_r);
/* The user id for local in tenant (case-insensitive). */
int useraddr_lookup(kv_txn_t *kv, uint64_t tenant, const char *local, uint64_t *user_r);

/* ---------------------------------------------------------------- usage/quota */
int usage_get(kv_txn_t *kv, char kind, uint64_t id, store_usage_t *u_r);
/* Adds (sign > 0) or subtracts bytes and messages from user's and tenant's usage. */
int usage_add(kv_txn_t *kv, uint64_t user, uint64_t tenant, int64_t bytes, int64_t messages);
/* Adjusts one usage record ('u' user / 't' tenant), clamping at 0. */
int usage_adjust(kv_txn_t *kv, char kind, uint64_t id, int64_t bytes, int64_t messages);
/* Checks that adding bytes/messages fits the user's and the tenant's quota. */
int quota_check(kv_txn_t *kv, uint64_t user, const user_rec_t *u, uint64_t bytes,
                uint64_t messages);

/* ---------------------------------------------------------------- blobs */
/* SHA-256 of the bytes, first BLOB_HASH_LEN bytes. */
int blob_hash(const void *data, size_t len, uint8_t hash[BLOB_HASH_LEN]);
/* Finds a blob with these bytes (shares it: refcount + 1) or stores a new one. */
int blob_put(store_txn_t *txn, const void *data, size_t len, const uint8_t hash[BLOB_HASH_LEN],
             uint64_t *blob_r);
int blob_ref(kv_txn_t *kv, uint64_t blob_id);
/* Drops one reference; frees the blob with its last. */
int blob_unref(kv_txn_t *kv, uint64_t blob_id);
int blob_free(kv_txn_t *kv, uint64_t blob_id);
typedef struct blob_rec {
    uint64_t refcount, size;
    const uint8_t *rest; /* the last bytes, inside the record (valid as a kv value) */
    size_t rest_len;
} blob_rec_t;
int blob_load(kv_txn_t *kv, uint64_t blob_id, blob_rec_t *r);
/* Writes the record; r->rest may point into the store (it is copied first). */
int blob_save(kv_txn_t *kv, uint64_t blob_id, const blob_rec_t *r, unsigned flags);
int blob_view(kv_txn_t *kv, uint64_t blob_id, uint64_t size, store_view_t *v);
int blobhash_get(kv_txn_t *kv, const uint8_t hash[BLOB_HASH_LEN], uint64_t *id_r);
int blobhash_put(kv_txn_t *kv, const uint8_t hash[BLOB_HASH_LEN], uint64_t id);
/* The hash of a blob's stored bytes. */
int blob_hash_stored(kv_txn_t *kv, uint64_t blob_id, uint64_t size, uint8_t hash[BLOB_HASH_LEN]);

/* ---------------------------------------------------------------- messages */
/*
 * Adds a message record for an existing blob (refcount already taken by the
 * caller): uid, modseq, counters, usage, keywords. quota: check quota first.
 */
int msg_insert(store_txn_t *txn, uint64_t user, uint32_t mbox, const msg_rec_t *in,
               uint32_t *uid_r);
/* A packed keyword set: NUL-terminated names, case-insensitively unique. */
typedef struct kw_set {
    char buf[MSG_KEYWORDS_BYTES];
    size_t len;
    unsigned n;
} kw_set_t;
int kw_has(const char *packed, size_t len, const char *kw);
int kw_add(kw_set_t *s, const char *kw);
int kw_pack(const char *const *kws, size_t n, kw_set_t *s);
int modseq_index_put(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint64_t modseq, uint32_t uid);
int modseq_index_del(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint64_t modseq);
/* vanished.c: the expunge records' sentinel (schema.h T_EXPUNGE, modseq 0) */
#define VANISHED_SENTINEL_LEN 12
typedef struct vanished_head {
    uint64_t floor; /* newest dropped modseq, 0: none */
    uint32_t count; /* records (modseq >= 1) of the mailbox */
} vanished_head_t;
/* *found_r 0 and a zeroed head when there is none; PETREL_ECORRUPT for a bad one. */
int vanished_head_load(kv_txn_t *kv, uint64_t user, uint32_t mbox, vanished_head_t *h,
                       int *found_r);
int vanished_head_save(kv_txn_t *kv, uint64_t user, uint32_t mbox, const vanished_head_t *h);
/* The expunge records of a mailbox (modseq >= 1): how many, oldest and newest
 * modseq (0 when none). One cursor walk. */
typedef struct vanished_stat {
    uint32_t n;
    uint64_t min, max;
} vanished_stat_t;
int vanished_scan(kv_txn_t *kv, uint64_t user, uint32_t mbox, vanished_stat_t *st);
/* vanished.c: records (modseq -> uid) of an expunge, trimming old ones. */
int vanished_record(store_txn_t *txn, uint64_t user, uint32_t mbox, uint64_t modseq, uint32_t uid);
/* Removes a message; vanished: record (modseq, uid) for VANISHED. */
int msg_remove(store_txn_t *txn, uint64_t user, uint32_t mbox, uint32_t uid, int vanished);
/* Copies a message (same blob); check_quota 0 for MOVE. */
int msg_copy_int(store_txn_t *txn, uint64_t user, uint32_t src, uint32_t uid, uint32_t dst,
                 int check_quota, uint32_t *new_uid_r);
/* Deletes every message of a mailbox (no VANISHED records), its indexes. */
int mbox_purge(store_txn_t *txn, uint64_t user, uint32_t mbox, const user_rec_t *u);
/* Deletes every mailbox and message of a user and the user's usage. */
int user_purge(store_txn_t *txn, uint64_t user_id);

#endif
