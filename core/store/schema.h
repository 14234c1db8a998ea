/*
 * schema.h - the on-disk layout of the Petrel store: every table, key and
 * record. A change here needs STORE_SCHEMA_VERSION bumped and a migration.
 *
 * Conventions:
 *  - Integers in keys are big-endian (be16/be32/be64 from util/str.h), so a
 *    range scan returns them in numeric order.
 *  - Every key of per-user data begins with the be64 user id: one user's
 *    data is one contiguous range in each table (and can live on one shard).
 *  - Records use unsigned LEB128 varints ("v" below) where a field is usually
 *    small, fixed big-endian fields where it is rewritten in place often and
 *    small anyway. Signed times are zig-zag varints ("z"). No padding.
 *  - Strings in keys are the lower-cased form used for case-insensitive
 *    lookups; records keep the form as given.
 *
 * Tables (number: name  key -> value):
 *
 *  T_META     "meta"       ASCII name -> value
 *      "magic"      -> STORE_MAGIC (the bytes, no NUL)
 *      "version"    -> be32 schema version
 *      "gen"        -> be64 generation, bumped by every committed write txn
 *      "next_tenant", "next_user", "next_blob" -> be64 next id to hand out
 *      "uidvalidity"-> be32 last UIDVALIDITY handed out (global, so a
 *                      value is never reused for any (user, name))
 *      "blob_bytes" -> be64 sum of the sizes of all blobs
 *  T_TENANT   "tenant"     be64 tenant id -> v protocols, v status,
 *                          v quota_bytes, z created, domain bytes (rest)
 *  T_DOMAIN   "domain"     lower-case domain -> be64 tenant id, u8 kind
 *                          (DOMAIN_PRIMARY | DOMAIN_ALIAS)
 *  T_USER     "user"       be64 user id -> v tenant, v status, v quota_bytes,
 *                          v quota_messages, z created, z last_login,
 *                          v next mailbox id, v address length, address,
 *                          pwhash (rest)
 *  T_USERADDR "useraddr"   be64 tenant id, lower-case local part -> be64 user id
 *                          (an alias domain maps to the same tenant, so it
 *                          finds the same key)
 *  T_ALIAS    "alias"      be64 tenant id, lower-case local part ("" for the
 *                          catch-all) -> targets, each NUL-terminated
 *  T_MBOX     "mbox"       be64 user, be32 mailbox id -> MBOX_REC_FIXED bytes
 *                          (see mbox_rec below), then the name
 *  T_MBNAME   "mbname"     be64 user, name bytes -> be32 mailbox id
 *  T_SUBS     "subs"       be64 user, name bytes -> "" (subscriptions)
 *  T_MSG      "msg"        be64 user, be32 mailbox, be32 uid ->
 *                          v blob id, v size, z internal date, v flags,
 *                          v modseq, keywords (each NUL-terminated, rest)
 *  T_MODSEQ   "modseq"     be64 user, be32 mailbox, be64 modseq -> be32 uid
 *  T_EXPUNGE  "expunge"    be64 user, be32 mailbox, be64 modseq -> be32 uid
 *                          and at modseq 0 (no real modseq) the mailbox's
 *                          sentinel -> be64 floor, be32 count (vanished.c):
 *                          records of modseqs <= floor were dropped. Added
 *                          without a version bump: older code never reads
 *                          modseq 0 and deletes it with the mailbox; a
 *                          mailbox without one is counted on its next expunge
 *  T_KEYWORD  "keyword"    be64 user, be32 mailbox, keyword -> ""
 *  T_USAGE    "usage"      'u' be64 user id | 't' be64 tenant id ->
 *                          v bytes, v messages
 *  T_BLOB     "blob"       be64 blob id -> v refcount, v size, then the
 *                          blob's last bytes (the "rest", see below). The hash
 *                          is not kept: freeing a blob (once in its life)
 *                          recomputes it to find the index entry, which
 *                          saves 16 bytes per blob.
 *  T_BLOBHASH "blobhash"   16-byte hash -> v blob id. A hit is shared only
 *                          when the bytes compare equal; a second content
 *                          with the same hash (a collision) gets a blob of
 *                          its own that is not indexed (it is not shared).
 *  T_BLOBDATA "blobdata"   be64 blob id -> the blob's first bytes, a whole
 *                          number of LMDB overflow pages
 *  T_BLOBPIECE "blobpiece" be64 blob id, u8 piece (1, 2) -> max-size inline piece
 *  T_BLOBCACHE "blobcache" be64 blob id -> structure cache from cache_fn
 *  T_OUTQ     "outq"       be64 item id -> an outbound work item (schema 2):
 *                          v kind (OUTQ_DSN), v action (store_dsn_action),
 *                          v ret, z arrival date, v blob id (holds one blob
 *                          reference: what the DSN returns, store.h),
 *                          v its size, then NUL-terminated strings:
 *                          status, envid, return path, orcpt, final
 *                          recipient, reporting MTA, diagnostic.
 *                          meta "next_outq" hands out the ids.
 *
 * Blob layout (what keeps the overhead per message low). LMDB stores a value
 * of n * page_size - 16 bytes in exactly n overflow pages, and keeps a node
 * of up to kv_max_inline() bytes (key + value) inside a leaf page; two
 * nodes of exactly that size fill a leaf page completely. Blob ids grow, so
 * every put is a KV_APPEND and leaf pages are filled to the end. A blob of
 * len bytes is cut into at most four segments (= STORE_VIEW_SEGS):
 *   1. T_BLOBDATA: the largest k * page_size - 16 <= len bytes (absent when
 *      len < page_size - 16): k overflow pages, not one byte wasted; its leaf
 *      node (26 bytes) sits in a table of only such nodes, densely packed;
 *   2./3. T_BLOBPIECE: while the rest is longer than rest_max (kv_max_inline()
 *      - 8 - BLOB_REC_HDR_MAX), a piece of exactly piece_max bytes
 *      (kv_max_inline() - 9): these pack two per
 *      leaf page with no slack (at most two are ever needed: the rest after
 *      segment 1 is < page_size);
 *   4. T_BLOB: the rest (<= rest_max bytes) inside the blob record,
 *      which is needed anyway: no node of its own.
 * Keeping full pieces and the variable-size rest in different tables is the
 * point: mixed in one table, a 2040-byte node after a small one no longer
 * fits the page and half of it would be wasted.
 */
#ifndef PETREL_STORE_SCHEMA_H
#define PETREL_STORE_SCHEMA_H

/*
 * Versions: 1 the first; 2 adds T_OUTQ (its items hold blob references, so a
 * version-1 binary, whose check would "repair" those refcounts down, must
 * not open a version-2 store). A version-1 store is migrated on its first
 * writable open: the new table is created empty and the version rewritten.
 */
#define STORE_SCHEMA_VERSION 2u
#define STORE_MAGIC "petrel-store"
#define STORE_DIR_NAME "store"

enum store_table {
    T_META,
    T_TENANT,
    T_DOMAIN,
    T_USER,
    T_USERADDR,
    T_ALIAS,
    T_MBOX,
    T_MBNAME,
    T_SUBS,
    T_MSG,
    T_MODSEQ,
    T_EXPUNGE,
    T_KEYWORD,
    T_USAGE,
    T_BLOB,
    T_BLOBHASH,
    T_BLOBDATA,
    T_BLOBPIECE,
    T_BLOBCACHE,
    T_OUTQ,
    T_COUNT
};

#define STORE_TABLE_NAMES                                                                          \
    {                                                                                              \
        "meta", "tenant", "domain", "user", "useraddr", "alias", "mbox", "mbname", "subs", "msg",  \
            "modseq", "expunge", "keyword", "usage", "blob", "blobhash", "blobdata", "blobpiece",  \
            "blobcache", "outq"                                                                    \
    }

enum { DOMAIN_PRIMARY = 0, DOMAIN_ALIAS = 1 };

enum { OUTQ_DSN = 1 }; /* kinds of T_OUTQ items */

#define USAGE_USER 'u'
#define USAGE_TENANT 't'

#define BLOB_HASH_LEN 16
#define BLOB_FULL_PIECES 2
/* blob record header: two varints, at most */
#define BLOB_REC_HDR_MAX (2 * 10)

/*
 * mbox record, fixed part (big-endian): uidvalidity be32, uidnext be32,
 * highestmodseq be64, messages be32, unseen be32, deleted be32,
 * first_recent_uid be32, bytes be64, special_use u8; then the name.
 */
#define MBOX_REC_FIXED 41

/* The first HIGHESTMODSEQ of a new mailbox (RFC 7162 wants it non-zero). */
#define MBOX_FIRST_MODSEQ 1

/*
 * LMDB keys are at most 511 bytes: a mailbox name (in T_MBNAME and T_SUBS
 * keys after the be64 user id) is therefore limited to 503 bytes, a little
 * below STORE_MAILBOX_NAME_MAX (store.h), which stays the buffer size.
 */
#define KEY_MAX 511
#define MBOX_NAME_KEY_MAX (KEY_MAX - 8)

/* Key sizes */
#define K_USER 8
#define K_UM 12
#define K_UMU 16
#define K_UMQ 20
#define K_BLOBPIECE 9

#endif
