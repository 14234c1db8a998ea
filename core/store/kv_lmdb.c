/*
 * kv_lmdb.c - the kv.h interface on LMDB. The only file that calls LMDB.
 *
 * Map growth: LMDB fails a write with MDB_MAP_FULL when the map is too
 * small. The map can only be resized while no transaction of this process
 * is open, so every top-level transaction holds env->resize (a rwlock) for
 * reading, and growing takes it for writing. The failed transaction returns
 * PETREL_ECONFLICT and remembers that the map must grow; the next write
 * transaction grows it first. The same path adopts a map grown by another
 * process (MDB_MAP_RESIZED). Known weakness: a thread that holds a read
 * transaction must not begin a write transaction (it would wait for itself
 * during a resize); the store never does.
 *
 * Meta sync: a writable durable environment runs with MDB_NOMETASYNC, so a
 * commit syncs the data file once (fdatasync) and writes its meta page
 * without a sync of its own. LMDB (lmdb.h, MDB_NOMETASYNC) keeps ACI that
 * way and defers D to the next commit's data sync or mdb_env_sync. kv_commit
 * therefore follows the commit with mdb_env_sync, which costs what the
 * O_DSYNC meta write it replaces cost; kv_commit_lazy leaves that sync to
 * the caller (the group-commit writer acknowledges a batch after the next
 * batch's commit or a kv_sync). The flag is the environment's, set once at
 * open (LMDB 0.9 ignores it per transaction).
 */
#include "store/kv.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/err.h"
#include "util/log.h"

#define KV_DEFAULT_MAP (16ULL << 30)
#define KV_DEFAULT_READERS 1024

struct kv_env {
    MDB_env *env;
    MDB_dbi dbi[KV_MAX_TABLES];
    unsigned ntables;
    pthread_rwlock_t resize;
    int must_grow;  /* set when a write hit MDB_MAP_FULL; guarded by resize (write) */
    int read_only;
    int lazy_meta;   /* opened with MDB_NOMETASYNC: kv_commit syncs after the commit */
    uint32_t absent; /* tables missing from an older store opened read-only */
};

struct kv_txn {
    kv_env_t *env;
    MDB_txn *txn;
    kv_txn_t *parent;
    unsigned flags;
    int locked; /* holds env->resize for reading */
};

struct kv_cursor {
    MDB_cursor *cur;
    kv_txn_t *txn;
};

static int kv_err(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS: return 0;
    case MDB_NOTFOUND: return PETREL_ENOTFOUND;
    case MDB_KEYEXIST: return PETREL_EEXIST;
    case MDB_MAP_FULL:
    case MDB_MAP_RESIZED: return PETREL_ECONFLICT;
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID: return PETREL_ENOTSTORE;
    case ENOMEM: return PETREL_ENOMEM;
    default:
        log_error("event=kv_error op=%s code=%d error=\"%s\"", what, rc, mdb_strerror(rc));
        return PETREL_EIO;
    }
}

static MDB_val kv_mdb(kv_val_t v)
{
    MDB_val m = {v.len, (void *)(uintptr_t)v.data};
    return m;
}

static kv_val_t kv_from(MDB_val m)
{
    return KV_VAL(m.mv_data, m.mv_size);
}

int kv_open(const char *dir, const kv_opts_t *opts, kv_env_t **env_r)
{
    if (!opts || opts->struct_size < sizeof(kv_opts_t) || opts->ntables > KV_MAX_TABLES)
        return PETREL_EINVAL;
    if (!opts->read_only && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("event=kv_open path=%s error=\"%s\"", dir, strerror(errno));
        return PETREL_EIO;
    }
    kv_env_t *e = calloc(1, sizeof(*e));
    if (!e)
        return PETREL_ENOMEM;
    e->ntables = opts->ntables;
    e->read_only = opts->read_only;
    pthread_rwlock_init(&e->resize, NULL);
    int rc = mdb_env_create(&e->env);
    if (rc)
        goto fail;
    mdb_env_set_maxdbs(e->env, KV_MAX_TABLES);
    mdb_env_set_maxreaders(e->env, opts->max_readers ? opts->max_readers : KV_DEFAULT_READERS);
    mdb_env_set_mapsize(e->env, opts->map_size ? opts->map_size : KV_DEFAULT_MAP);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    if (opts->read_only)
        flags |= MDB_RDONLY;
    if (opts->no_sync)
        flags |= MDB_NOSYNC;
    else if (!opts->read_only)
        flags |= MDB_NOMETASYNC;
    e->lazy_meta = (flags & MDB_NOMETASYNC) != 0;
    rc = mdb_env_open(e->env, dir, flags, 0600);
    if (rc) {
        if (rc == ENOENT) {
            log_error("event=kv_open path=%s error=\"no store here\"", dir);
            rc = kv_err(MDB_INVALID, "open");
            goto fail_rc;
        }
        goto fail;
    }
    MDB_txn *txn;
    rc = mdb_txn_begin(e->env, NULL, opts->read_only ? MDB_RDONLY : 0, &txn);
    if (rc)
        goto fail;
    for (unsigned i = 0; i < opts->ntables; i++) {
        rc = mdb_dbi_open(txn, opts->tables[i], opts->read_only ? 0 : MDB_CREATE, &e->dbi[i]);
        if (rc == MDB_NOTFOUND && opts->read_only && i > 0) {
            /* a table added by a newer schema, opened read-only: it reads as absent */
            e->absent |= 1u << i;
            rc = 0;
        }
        if (rc) {
            mdb_txn_abort(txn);
            goto fail;
        }
    }
    rc = mdb_txn_commit(txn);
    if (!rc && e->lazy_meta)
        rc = mdb_env_sync(e->env, 1);
    if (rc)
        goto fail;
    *env_r = e;
    return 0;
fail:
    log_error("event=kv_open path=%s error=\"%s\"", dir, mdb_strerror(rc));
    rc = kv_err(rc, "open");
fail_rc:
    if (e->env)
        mdb_env_close(e->env);
    pthread_rwlock_destroy(&e->resize);
    free(e);
    return rc == PETREL_ENOTFOUND ? PETREL_ENOTSTORE : rc;
}

void kv_close(kv_env_t **envp)
{
    kv_env_t *e = *envp;
    if (!e)
        return;
    mdb_env_close(e->env);
    pthread_rwlock_destroy(&e->resize);
    free(e);
    *envp = NULL;
}

/* Grows the map (or adopts another process's size) with no transaction open. */
static int kv_grow(kv_env_t *e, int adopt_only)
{
    pthread_rwlock_wrlock(&e->resize);
    int rc = 0;
    if (adopt_only) {
        rc = mdb_env_set_mapsize(e->env, 0);
    } else if (e->must_grow) {
        MDB_envinfo info;
        mdb_env_info(e->env, &info);
        size_t next = info.me_mapsize * 2;
        rc = mdb_env_set_mapsize(e->env, next);
        if (!rc)
            log_info("event=kv_map_grow from=%zu to=%zu", info.me_mapsize, next);
        e->must_grow = 0;
    }
    pthread_rwlock_unlock(&e->resize);
    return rc ? kv_err(rc, "grow") : 0;
}

int kv_begin(kv_env_t *e, kv_txn_t *parent, unsigned flags, kv_txn_t **txn_r)
{
    kv_txn_t *t = calloc(1, sizeof(*t));
    if (!t)
        return PETREL_ENOMEM;
    t->env = e;
    t->parent = parent;
    t->flags = flags;
    int rdonly = (flags & KV_RDONLY) != 0;
    if (parent && rdonly) {
        free(t);
        return PETREL_EINVAL;
    }
    if (!parent) {
        if (!rdonly && __atomic_load_n(&e->must_grow, __ATOMIC_ACQUIRE)) {
            int grc = kv_grow(e, 0);
            if (grc) {
                free(t);
                return grc;
            }
        }
        pthread_rwlock_rdlock(&e->resize);
        t->locked = 1;
    }
    for (int attempt = 0;; attempt++) {
        int rc = mdb_txn_begin(e->env, parent ? parent->txn : NULL, rdonly ? MDB_RDONLY : 0,
                               &t->txn);
        if (rc == MDB_MAP_RESIZED && !parent && attempt < 3) {
            pthread_rwlock_unlock(&e->resize);
            int grc = kv_grow(e, 1);
            pthread_rwlock_rdlock(&e->resize);
            if (grc == 0)
                continue;
            rc = MDB_MAP_RESIZED;
        }
        if (rc) {
            if (t->locked)
                pthread_rwlock_unlock(&e->resize);
            free(t);
            return kv_err(rc, "begin");
        }
        break;
    }
    *txn_r = t;
    return 0;
}

static void kv_txn_free(kv_txn_t *t)
{
    if (t->locked)
        pthread_rwlock_unlock(&t->env->resize);
    free(t);
}

/* A write failed because the map is full: the next write txn grows it. */
static int kv_note(kv_txn_t *t, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        __atomic_store_n(&t->env->must_grow, 1, __ATOMIC_RELEASE);
    return kv_err(rc, what);
}

static int kv_commit_mode(kv_txn_t **tp, int lazy)
{
    kv_txn_t *t = *tp;
    if (!t)
        return PETREL_EINVAL;
    int top_write = !t->parent && !(t->flags & KV_RDONLY);
    int rc = mdb_txn_commit(t->txn);
    *tp = NULL;
    if (rc == 0 && top_write && !lazy && t->env->lazy_meta)
        rc = mdb_env_sync(t->env->env, 1); /* the meta page's sync */
    rc = kv_note(t, rc, "commit");
    kv_txn_free(t);
    return rc;
}

int kv_commit(kv_txn_t **tp)
{
    return kv_commit_mode(tp, 0);
}

int kv_commit_lazy(kv_txn_t **tp)
{
    return kv_commit_mode(tp, 1);
}

int kv_sync(kv_env_t *e)
{
    if (!e->lazy_meta)
        return 0;
    int rc = mdb_env_sync(e->env, 1);
    return rc ? kv_err(rc, "sync") : 0;
}

void kv_abort(kv_txn_t **tp)
{
    kv_txn_t *t = *tp;
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    *tp = NULL;
    kv_txn_free(t);
}

void kv_reset(kv_txn_t *t)
{
    mdb_txn_reset(t->txn);
    if (t->locked) {
        pthread_rwlock_unlock(&t->env->resize);
        t->locked = 0;
    }
}

int kv_renew(kv_txn_t *t)
{
    if (!t->locked && !t->parent) {
        pthread_rwlock_rdlock(&t->env->resize);
        t->locked = 1;
    }
    int rc = mdb_txn_renew(t->txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&t->env->resize);
        t->locked = 0;
        int grc = kv_grow(t->env, 1);
        if (grc)
            return grc;
        pthread_rwlock_rdlock(&t->env->resize);
        t->locked = 1;
        rc = mdb_txn_renew(t->txn);
    }
    return kv_err(rc, "renew");
}

static int kv_table(kv_txn_t *t, unsigned table, MDB_dbi *dbi_r)
{
    if (table >= t->env->ntables)
        return PETREL_EINVAL;
    if (t->env->absent & (1u << table))
        return PETREL_ENOTFOUND;
    *dbi_r = t->env->dbi[table];
    return 0;
}

int kv_get(kv_txn_t *t, unsigned table, kv_val_t key, kv_val_t *val_r)
{
    MDB_dbi dbi;
    int rc = kv_table(t, table, &dbi);
    if (rc)
        return rc;
    MDB_val k = kv_mdb(key), v;
    rc = mdb_get(t->txn, dbi, &k, &v);
    if (rc)
        return kv_err(rc, "get");
    *val_r = kv_from(v);
    return 0;
}

static int kv_put_flags(kv_txn_t *t, unsigned table, kv_val_t key, MDB_val *v, unsigned flags,
                        unsigned mflags)
{
    MDB_dbi dbi;
    int rc = kv_table(t, table, &dbi);
    if (rc)
        return rc;
    if (flags & KV_NOOVERWRITE)
        mflags |= MDB_NOOVERWRITE;
    MDB_val k = kv_mdb(key);
    if (flags & KV_APPEND) {
        /* MDB_APPEND fills pages completely; it fails if the key is not the largest */
        rc = mdb_put(t->txn, dbi, &k, v, mflags | MDB_APPEND);
        if (rc != MDB_KEYEXIST)
            return kv_note(t, rc, "put");
    }
    rc = mdb_put(t->txn, dbi, &k, v, mflags);
    return kv_note(t, rc, "put");
}

int kv_put(kv_txn_t *t, unsigned table, kv_val_t key, kv_val_t val, unsigned flags)
{
    MDB_val v = kv_mdb(val);
    return kv_put_flags(t, table, key, &v, flags, 0);
}

int kv_reserve(kv_txn_t *t, unsigned table, kv_val_t key, size_t len, unsigned flags,
               void **ptr_r)
{
    MDB_val v = {len, NULL};
    int rc = kv_put_flags(t, table, key, &v, flags, MDB_RESERVE);
    if (rc == 0)
        *ptr_r = v.mv_data;
    return rc;
}

int kv_del(kv_txn_t *t, unsigned table, kv_val_t key)
{
    MDB_dbi dbi;
    int rc = kv_table(t, table, &dbi);
    if (rc)
        return rc;
    MDB_val k = kv_mdb(key);
    return kv_note(t, mdb_del(t->txn, dbi, &k, NULL), "del");
}

int kv_count(kv_txn_t *t, unsigned table, uint64_t *n_r)
{
    MDB_dbi dbi;
    MDB_stat ds;
    *n_r = 0;
    int rc = kv_table(t, table, &dbi);
    if (rc)
        return rc;
    rc = kv_note(t, mdb_stat(t->txn, dbi, &ds), "stat");
    if (!rc)
        *n_r = (uint64_t)ds.ms_entries;
    return rc;
}

int kv_cursor_open(kv_txn_t *t, unsigned table, kv_cursor_t **cur_r)
{
    MDB_dbi dbi;
    int rc = kv_table(t, table, &dbi);
    if (rc)
        return rc;
    kv_cursor_t *c = malloc(sizeof(*c));
    if (!c)
        return PETREL_ENOMEM;
    c->txn = t;
    rc = mdb_cursor_open(t->txn, dbi, &c->cur);
    if (rc) {
        free(c);
        return kv_err(rc, "cursor_open");
    }
    *cur_r = c;
    return 0;
}

void kv_cursor_close(kv_cursor_t **cp)
{
    if (!*cp)
        return;
    mdb_cursor_close((*cp)->cur);
    free(*cp);
    *cp = NULL;
}

static int kv_cursor_get(kv_cursor_t *c, MDB_val *k, kv_val_t *key_r, kv_val_t *val_r,
                         MDB_cursor_op op)
{
    MDB_val v;
    int rc = mdb_cursor_get(c->cur, k, &v, op);
    if (rc)
        return kv_err(rc, "cursor_get");
    if (key_r)
        *key_r = kv_from(*k);
    if (val_r)
        *val_r = kv_from(v);
    return 0;
}

int kv_cursor_seek(kv_cursor_t *c, kv_val_t key, kv_val_t *key_r, kv_val_t *val_r)
{
    MDB_val k = kv_mdb(key);
    return kv_cursor_get(c, &k, key_r, val_r, MDB_SET_RANGE);
}

int kv_cursor_first(kv_cursor_t *c, kv_val_t *key_r, kv_val_t *val_r)
{
    MDB_val k = {0, NULL};
    return kv_cursor_get(c, &k, key_r, val_r, MDB_FIRST);
}

int kv_cursor_last(kv_cursor_t *c, kv_val_t *key_r, kv_val_t *val_r)
{
    MDB_val k = {0, NULL};
    return kv_cursor_get(c, &k, key_r, val_r, MDB_LAST);
}

int kv_cursor_next(kv_cursor_t *c, kv_val_t *key_r, kv_val_t *val_r)
{
    MDB_val k = {0, NULL};
    return kv_cursor_get(c, &k, key_r, val_r, MDB_NEXT);
}

int kv_cursor_prev(kv_cursor_t *c, kv_val_t *key_r, kv_val_t *val_r)
{
    MDB_val k = {0, NULL};
    return kv_cursor_get(c, &k, key_r, val_r, MDB_PREV);
}

int kv_cursor_del(kv_cursor_t *c)
{
    return kv_note(c->txn, mdb_cursor_del(c->cur, 0), "cursor_del");
}

int kv_stat(kv_env_t *e, kv_stat_t *st)
{
    memset(st, 0, sizeof(*st));
    MDB_envinfo info;
    MDB_stat ms;
    int rc = mdb_env_info(e->env, &info);
    if (!rc)
        rc = mdb_env_stat(e->env, &ms);
    if (rc)
        return kv_err(rc, "stat");
    st->map_size = info.me_mapsize;
    st->used_pages = info.me_last_pgno + 1;
    st->page_size = ms.ms_psize;
    st->readers_used = info.me_numreaders;
    st->max_readers = info.me_maxreaders;
    const char *path;
    if (mdb_env_get_path(e->env, &path) == 0) {
        char file[4096];
        struct stat sb;
        snprintf(file, sizeof(file), "%s/data.mdb", path);
        if (stat(file, &sb) == 0)
            st->file_bytes = (uint64_t)sb.st_size;
    }
    kv_txn_t *t;
    rc = kv_begin(e, NULL, KV_RDONLY, &t);
    if (rc)
        return rc;
    for (unsigned i = 0; i < e->ntables; i++) {
        MDB_stat ds;
        if (!(e->absent & (1u << i)) && mdb_stat(t->txn, e->dbi[i], &ds) == 0)
            st->entries[i] = ds.ms_entries;
    }
    /* free pages: the free-list DB (dbi 0) holds page-number lists */
    MDB_cursor *cur;
    if (mdb_cursor_open(t->txn, 0, &cur) == 0) {
        MDB_val k, v;
        while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0)
            st->free_pages += *(size_t *)v.mv_data; /* first word: count of pages in list */
        mdb_cursor_close(cur);
    }
    kv_abort(&t);
    return 0;
}

int kv_backup(kv_env_t *e, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("event=kv_backup path=%s error=\"%s\"", dir, strerror(errno));
        return PETREL_EIO;
    }
    int rc = mdb_env_copy2(e->env, dir, MDB_CP_COMPACT);
    if (rc) {
        log_error("event=kv_backup path=%s error=\"%s\"", dir, mdb_strerror(rc));
        return rc == EEXIST ? PETREL_EEXIST : PETREL_EIO;
    }
    return 0;
}

size_t kv_max_inline(kv_env_t *e)
{
    /*
     * LMDB keeps a node (8-byte header + key + value) in the leaf while it is
     * at most ((page - 16) / 2 rounded down to even) - 2 bytes; larger values
     * take whole overflow pages (16-byte header each run).
     */
    size_t nodemax = (((size_t)kv_page_size(e) - 16) / 2 & ~(size_t)1) - 2;
    return nodemax - 8;
}

uint32_t kv_page_size(kv_env_t *e)
{
    MDB_stat ms;
    if (mdb_env_stat(e->env, &ms))
        return 4096;
    return ms.ms_psize;
}
