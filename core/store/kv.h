/*
 * kv.h - the small ordered key-value interface the store is written against.
 *
 * The mailbox logic (the rest of core/store) never calls LMDB: it sees tables of
 * byte-string keys kept in memcmp order, transactions (read-only or read-
 * write, and nested write transactions so one failing operation of a batch
 * can be rolled back alone), point reads and writes, and range cursors. The
 * embedded implementation is kv_lmdb.c; a distributed backend can implement
 * the same calls later without touching the mailbox logic.
 *
 * Errors: every call returns 0 or a negative PETREL_E* code:
 *   PETREL_ENOTFOUND  no such key (get, del, cursor positioning past the end)
 *   PETREL_EEXIST     put with KV_NOOVERWRITE on an existing key
 *   PETREL_ECONFLICT  retryable: the map was full (it has been grown) or the
 *                     environment was resized by another process; abort the
 *                     whole transaction and run it again
 *   PETREL_EIO        any other storage error (logged with its cause)
 *   PETREL_EVERSION / PETREL_ENOTSTORE   from kv_open
 *
 * Lifetimes: a value returned by get or a cursor points into the database
 * map and is valid until the end of the transaction or the next write in it.
 *
 * Threads: an environment is shared by all threads. A transaction belongs to
 * one thread at a time (it may move between threads, never be used by two at
 * once). At most one write transaction is open at a time per environment
 * (writers serialize); read transactions never block and are never blocked.
 */
#ifndef PETREL_STORE_KV_H
#define PETREL_STORE_KV_H

#include <stddef.h>
#include <stdint.h>

typedef struct kv_env kv_env_t;
typedef struct kv_txn kv_txn_t;
typedef struct kv_cursor kv_cursor_t;

typedef struct kv_val {
    const void *data;
    size_t len;
} kv_val_t;

#define KV_VAL(p, n) ((kv_val_t){(p), (n)})

/* Tables: numbered by the caller, named at open time (schema.h lists them). */
#define KV_MAX_TABLES 32

typedef struct kv_opts {
    size_t struct_size;           /* sizeof(kv_opts_t) */
    const char *const *tables;    /* table names, tables[i] is table number i */
    unsigned ntables;
    uint64_t map_size;            /* initial map size in bytes (0: default, 8 GiB) */
    unsigned max_readers;         /* 0: default 1024 */
    int read_only;                /* open without write access (no create) */
    int no_sync;                  /* tests and benchmarks of non-durable mode only */
} kv_opts_t;

/* Opens (creating if absent, unless read_only) the environment in directory dir. */
int kv_open(const char *dir, const kv_opts_t *opts, kv_env_t **env_r);
/* Closes the environment; all transactions must be finished. Sets *env to NULL. */
void kv_close(kv_env_t **env);

enum { KV_RDONLY = 1 };

/*
 * Begins a transaction. parent != NULL begins a nested write transaction
 * inside parent (flags must be 0): its changes become part of the parent on
 * commit, or vanish on abort, and parent must not be used while it is open.
 */
int kv_begin(kv_env_t *env, kv_txn_t *parent, unsigned flags, kv_txn_t **txn_r);
/* Commits (durably, for a top-level write transaction) and frees the txn. */
int kv_commit(kv_txn_t **txn);
/*
 * Commits a top-level write transaction without waiting for its meta page
 * to reach the disk: its data pages are synced (fdatasync) and the meta
 * page that makes them current is written but not synced. The commit is
 * atomic, consistent and visible to readers at once; it becomes durable when
 * the next top-level write commit of this environment (kv_commit or
 * kv_commit_lazy) that had something to write returns 0, since that commit
 * syncs the data file first, or when kv_sync returns 0. Until then an OS
 * crash (not a process crash) may undo it, never corrupt the store. On a
 * read-only or no_sync environment it is kv_commit. Errors as kv_commit.
 */
int kv_commit_lazy(kv_txn_t **txn);
/*
 * Makes every commit of this environment durable (one fdatasync of the data
 * file). PETREL_EIO when the sync fails; 0 (nothing done) on a read-only or
 * no_sync environment.
 */
int kv_sync(kv_env_t *env);
/* Abandons all changes and frees the txn. Safe on *txn == NULL. */
void kv_abort(kv_txn_t **txn);
/*
 * A read-only transaction can be parked between uses (reset) and renewed,
 * which is cheaper than abort + begin. Values read before reset are invalid.
 */
void kv_reset(kv_txn_t *txn);
int kv_renew(kv_txn_t *txn);

int kv_get(kv_txn_t *txn, unsigned table, kv_val_t key, kv_val_t *val_r);

enum {
    KV_NOOVERWRITE = 1, /* fail with PETREL_EEXIST when the key exists */
    KV_APPEND = 2,      /* hint: the key is probably the largest in the table */
};
int kv_put(kv_txn_t *txn, unsigned table, kv_val_t key, kv_val_t val, unsigned flags);
/*
 * Like kv_put, but reserves len bytes for the value and returns where to
 * write them (*ptr_r), avoiding a copy of large values. The space must be
 * filled before the next call on this transaction.
 */
int kv_reserve(kv_txn_t *txn, unsigned table, kv_val_t key, size_t len, unsigned flags,
               void **ptr_r);
int kv_del(kv_txn_t *txn, unsigned table, kv_val_t key);

/* Range cursors: positions return PETREL_ENOTFOUND past either end. */
/* Entries in table as seen by txn (O(1): the B-tree's own count). */
int kv_count(kv_txn_t *txn, unsigned table, uint64_t *n_r);
int kv_cursor_open(kv_txn_t *txn, unsigned table, kv_cursor_t **cur_r);
void kv_cursor_close(kv_cursor_t **cur);
/* First key >= key. */
int kv_cursor_seek(kv_cursor_t *cur, kv_val_t key, kv_val_t *key_r, kv_val_t *val_r);
int kv_cursor_first(kv_cursor_t *cur, kv_val_t *key_r, kv_val_t *val_r);
int kv_cursor_last(kv_cursor_t *cur, kv_val_t *key_r, kv_val_t *val_r);
int kv_cursor_next(kv_cursor_t *cur, kv_val_t *key_r, kv_val_t *val_r);
int kv_cursor_prev(kv_cursor_t *cur, kv_val_t *key_r, kv_val_t *val_r);
/* Deletes the entry under the cursor; the cursor then stands before the next entry. */
int kv_cursor_del(kv_cursor_t *cur);

typedef struct kv_stat {
    uint64_t map_size;      /* current map size */
    uint64_t file_bytes;    /* size of the data file on disk */
    uint64_t used_pages;    /* pages in use (last page number + 1) */
    uint64_t free_pages;    /* pages on the free list */
    uint32_t page_size;
    unsigned readers_used;  /* reader slots in use */
    unsigned max_readers;
    uint64_t entries[KV_MAX_TABLES]; /* entries per table */
} kv_stat_t;

int kv_stat(kv_env_t *env, kv_stat_t *st_r);
/* Consistent, compacted copy of the environment into an empty directory (live). */
int kv_backup(kv_env_t *env, const char *dir);
/*
 * The largest key + value size kept inline in a leaf page; a bigger value
 * takes whole overflow pages, n pages holding at most n * page_size - 16 bytes.
 */
size_t kv_max_inline(kv_env_t *env);
uint32_t kv_page_size(kv_env_t *env);

#endif
