/*
 * store.c - opening the store, transactions, the synchronous write path and
 * the generation counter.
 *
 * Opening: <data>/store is an LMDB environment whose meta table carries
 * STORE_MAGIC and STORE_SCHEMA_VERSION. A new directory (no data.mdb yet) is
 * initialized; an existing one must carry the magic (else PETREL_ENOTSTORE)
 * and a version we know (else PETREL_EVERSION). Known weakness: a crash
 * between LMDB creating data.mdb and the first commit writing the magic
 * leaves a store that is refused as ENOTSTORE; it holds no data and can be
 * removed by hand.
 *
 * Changes for on_commit: the root txn keeps up to STORE_TXN_CHANGES_MAX
 * (user, mailbox) pairs. On overflow the list collapses to one entry per user
 * (mailbox 0), and when even that overflows, to the single entry {0, 0}:
 * "anything may have changed". A nested txn that aborts truncates the list
 * back to where it began (if it had collapsed meanwhile, the over-report
 * stays, which is harmless).
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define STORE_WRITE_RETRIES 8

static const char *const store_tables[T_COUNT] = STORE_TABLE_NAMES;

const char *store_strerror(int err)
{
    return petrel_strerror(err);
}

static int store_mkdir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("event=store_open path=%s error=\"%s\"", dir, strerror(errno));
        return PETREL_EIO;
    }
    return 0;
}

/* Writes magic + version into a fresh environment. */
static int store_init_meta(kv_env_t *kv)
{
    kv_txn_t *t;
    int rc = kv_begin(kv, NULL, 0, &t);
    if (rc) return rc;
    uint8_t v[4];
    be32_put(v, STORE_SCHEMA_VERSION);
    rc = kv_put(t, T_META, KV_VAL("magic", 5), KV_VAL(STORE_MAGIC, strlen(STORE_MAGIC)), 0);
    if (!rc) rc = kv_put(t, T_META, KV_VAL("version", 7), KV_VAL(v, 4), 0);
    if (rc) {
        kv_abort(&t);
        return rc;
    }
    return kv_commit(&t);
}

/* Removes a half-made store directory (its LMDB files only). */
static void store_remove_dir(const char *dir)
{
    char file[4200];
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    unlink(file);
    snprintf(file, sizeof(file), "%s/lock.mdb", dir);
    unlink(file);
    rmdir(dir);
}

static int store_dir_state(const char *dir, int *fresh_r);

/* fsync of a directory, so that a rename in it survives a power loss. */
static int store_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : PETREL_EIO;
    if (rc) log_error("event=store_create path=%s error=\"fsync: %s\"", dir, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

/* Makes the store in tmp and renames it to st->path (creation lock held). */
static int store_create_locked(const store_t *st, const kv_opts_t *ko, const char *tmp,
                               const char *data_dir)
{
    store_remove_dir(tmp); /* a leftover of a crashed creator */
    kv_env_t *kv = NULL;
    int rc = kv_open(tmp, ko, &kv);
    if (!rc) rc = store_init_meta(kv);
    kv_close(&kv);
    if (!rc) {
        /* a directory with a stale lock.mdb alone (store_dir_state calls it new) would
         * block the rename; nobody uses it: it has no data.mdb, and creators hold our lock */
        char lock[sizeof(st->path) + 16];
        snprintf(lock, sizeof(lock), "%s/lock.mdb", st->path);
        unlink(lock);
        rmdir(st->path);
        if (rename(tmp, st->path) != 0) {
            log_error("event=store_create path=%s error=\"%s\"", st->path, strerror(errno));
            rc = PETREL_EIO;
        }
    }
    if (!rc) rc = store_sync_dir(data_dir);
    if (rc) store_remove_dir(tmp);
    return rc;
}

/*
 * Creates a new store so that nobody ever sees it half-made: the environment
 * and its magic are written in a private directory that is then renamed to
 * the store's path (an opener that finds data.mdb finds a complete store).
 * Creators serialise on flock(<data>/store.create.lock): petreld binds its
 * ports before it opens the store, so a petrelctl started at the same moment
 * may race it; the second creator finds the first one's store and uses it.
 */
static int store_create(const store_t *st, const kv_opts_t *ko, const char *data_dir)
{
    char tmp[sizeof(st->path) + 32], lockpath[sizeof(st->path) + 32];
    int n = snprintf(tmp, sizeof(tmp), "%s.new", st->path);
    int m = snprintf(lockpath, sizeof(lockpath), "%s.create.lock", st->path);
    if (n < 0 || (size_t)n >= sizeof(tmp) || m < 0 || (size_t)m >= sizeof(lockpath))
        return PETREL_EINVAL;
    int fd = open(lockpath, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        log_error("event=store_create path=%s error=\"%s\"", lockpath, strerror(errno));
        if (fd >= 0) close(fd);
        return PETREL_EIO;
    }
    int fresh = 0;
    int rc = store_dir_state(st->path, &fresh); /* again, under the lock */
    if (!rc && fresh) rc = store_create_locked(st, ko, tmp, data_dir);
    close(fd); /* releases the lock */
    return rc;
}

static int store_check_meta(kv_env_t *kv, const char *path, uint32_t *ver_r)
{
    kv_txn_t *t;
    int rc = kv_begin(kv, NULL, KV_RDONLY, &t);
    if (rc) return rc;
    kv_val_t v;
    rc = kv_get(t, T_META, KV_VAL("magic", 5), &v);
    if (rc || v.len != strlen(STORE_MAGIC) || memcmp(v.data, STORE_MAGIC, v.len) != 0) {
        kv_abort(&t);
        log_error("event=store_open path=%s error=\"not a petrel store (no magic)\"", path);
        return PETREL_ENOTSTORE;
    }
    rc = kv_get(t, T_META, KV_VAL("version", 7), &v);
    uint32_t ver = (rc == 0 && v.len == 4) ? be32_get(v.data) : 0;
    kv_abort(&t);
    if (ver == 0) {
        log_error("event=store_open path=%s error=\"no schema version\"", path);
        return PETREL_ENOTSTORE;
    }
    if (ver > STORE_SCHEMA_VERSION) {
        log_error("event=store_open path=%s error=\"newer schema\" version=%u supported=%u", path,
                  ver, STORE_SCHEMA_VERSION);
        return PETREL_EVERSION;
    }
    *ver_r = ver;
    return 0;
}

/*
 * Migrations (schema.h): 1 -> 2 only adds T_OUTQ, which kv_open has just
 * created empty; the version is rewritten so older binaries refuse the store.
 * A read-only open leaves an old store as it is (a missing table reads empty).
 */
static int store_migrate(kv_env_t *kv, const char *path, uint32_t ver)
{
    kv_txn_t *t;
    int rc = kv_begin(kv, NULL, 0, &t);
    if (rc) return rc;
    uint8_t v[4];
    be32_put(v, STORE_SCHEMA_VERSION);
    rc = kv_put(t, T_META, KV_VAL("version", 7), KV_VAL(v, 4), 0);
    if (rc) {
        kv_abort(&t);
        return rc;
    }
    rc = kv_commit(&t);
    if (rc == 0)
        log_info("event=store_migrated path=%s from=%u to=%u", path, ver, STORE_SCHEMA_VERSION);
    return rc;
}

/*
 * A new store is a missing or empty directory (a stale lock.mdb is allowed);
 * a directory with other files but no data.mdb is something else.
 */
static int store_dir_state(const char *dir, int *fresh_r)
{
    char file[4200];
    struct stat sb;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    *fresh_r = stat(file, &sb) != 0;
    if (!*fresh_r) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0; /* absent: kv_open creates it (or fails with the cause) */
    struct dirent *e;
    int foreign = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "lock.mdb"))
            foreign = 1;
    closedir(d);
    if (foreign) {
        log_error("event=store_open path=%s error=\"directory holds files but no store\"", dir);
        return PETREL_ENOTSTORE;
    }
    return 0;
}

static void store_set_sizes(store_t *st)
{
    st->page_size = kv_page_size(st->kv);
    st->piece_max = kv_max_inline(st->kv) - K_BLOBPIECE;
    st->rest_max = kv_max_inline(st->kv) - 8 - BLOB_REC_HDR_MAX;
}

int store_open(const char *data_dir, const store_opts_t *opts, store_t **st_r)
{
    if (!data_dir || !opts || opts->struct_size < sizeof(store_opts_t) || !st_r)
        return PETREL_EINVAL;
    store_t *st = calloc(1, sizeof(*st));
    if (st)
        pthread_mutex_init(&st->gen_mu, NULL);
    if (!st) return PETREL_ENOMEM;
    st->opts = *opts;
    int n = snprintf(st->path, sizeof(st->path), "%s/%s", data_dir, STORE_DIR_NAME);
    int rc = (n < 0 || (size_t)n >= sizeof(st->path)) ? PETREL_EINVAL : 0;
    if (!rc && !opts->read_only) rc = store_mkdir(data_dir);
    int fresh = 0;
    if (!rc) rc = store_dir_state(st->path, &fresh);
    if (!rc) {
        kv_opts_t ko = {.struct_size = sizeof(ko),
                        .tables = store_tables,
                        .ntables = T_COUNT,
                        .map_size = opts->map_size,
                        .read_only = opts->read_only,
                        .no_sync = opts->no_sync};
        if (fresh && !opts->read_only) rc = store_create(st, &ko, data_dir);
        if (!rc) rc = kv_open(st->path, &ko, &st->kv);
    }
    uint32_t ver = 0;
    if (!rc) rc = store_check_meta(st->kv, st->path, &ver);
    if (!rc && ver < STORE_SCHEMA_VERSION && !opts->read_only)
        rc = store_migrate(st->kv, st->path, ver);
    if (rc) {
        log_error("event=store_open path=%s error=\"%s\"", st->path, petrel_strerror(rc));
        kv_close(&st->kv);
        free(st);
        return rc;
    }
    store_set_sizes(st);
    log_info("event=store_open path=%s page_size=%u", st->path, st->page_size);
    *st_r = st;
    return 0;
}

void store_close(store_t **stp)
{
    if (!stp || !*stp) return;
    if ((*stp)->lazy_pending) kv_sync((*stp)->kv);
    kv_close(&(*stp)->kv);
    pthread_mutex_destroy(&(*stp)->gen_mu);
    free(*stp);
    *stp = NULL;
}

/* ---------------------------------------------------------------- txns */

static int store_txn_begin(store_t *st, store_txn_t *parent, int write, store_txn_t **txn_r)
{
    if (write && st->opts.read_only) return PETREL_EPERM;
    store_txn_t *t = calloc(1, sizeof(*t));
    if (!t) return PETREL_ENOMEM;
    int rc = kv_begin(st->kv, parent ? parent->kv : NULL, write ? 0 : KV_RDONLY, &t->kv);
    if (rc) {
        free(t);
        return rc;
    }
    t->st = st;
    t->write = write;
    t->parent = parent;
    t->root = parent ? parent->root : t;
    if (parent) {
        t->mark_mode = t->root->chg_mode;
        t->mark_nchg = t->root->nchg;
    }
    *txn_r = t;
    return 0;
}

int store_read_begin(store_t *st, store_txn_t **txn_r)
{
    return store_txn_begin(st, NULL, 0, txn_r);
}

int store_write_begin(store_t *st, store_txn_t **txn_r)
{
    return store_txn_begin(st, NULL, 1, txn_r);
}

int store_txn_nest(store_txn_t *parent, store_txn_t **child_r)
{
    if (!parent || !parent->write) return PETREL_EINVAL;
    return store_txn_begin(parent->st, parent, 1, child_r);
}

kv_txn_t *store_txn_kv(store_txn_t *txn)
{
    return txn->kv;
}

int store_txn_is_write(const store_txn_t *txn)
{
    return txn->write;
}

static void store_chg_collapse(store_txn_t *r)
{
    store_change_t users[STORE_TXN_CHANGES_MAX];
    size_t nu = 0;
    for (size_t i = 0; i < r->nchg; i++) {
        size_t j = 0;
        while (j < nu && users[j].user_id != r->chg[i].user_id)
            j++;
        if (j == nu) users[nu++] = (store_change_t){r->chg[i].user_id, 0};
    }
    memcpy(r->chg, users, nu * sizeof(users[0]));
    r->nchg = nu;
    r->chg_mode = CHG_USERS;
}

void store_txn_changed(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id)
{
    store_txn_t *r = txn->root;
    if (r->chg_mode == CHG_ALL) return;
    if (r->chg_mode == CHG_USERS) mailbox_id = 0;
    for (size_t i = 0; i < r->nchg; i++)
        if (r->chg[i].user_id == user_id &&
            (r->chg[i].mailbox_id == mailbox_id || r->chg[i].mailbox_id == 0))
            return;
    if (r->nchg == STORE_TXN_CHANGES_MAX && r->chg_mode == CHG_EXACT) {
        store_chg_collapse(r);
        store_txn_changed(txn, user_id, 0);
        return;
    }
    if (r->nchg == STORE_TXN_CHANGES_MAX) {
        r->chg_mode = CHG_ALL;
        r->chg[0] = (store_change_t){0, 0};
        r->nchg = 1;
        return;
    }
    r->chg[r->nchg++] = (store_change_t){user_id, mailbox_id};
}

static int store_gen_bump(kv_txn_t *kv)
{
    uint64_t g;
    int rc = meta_get_u64(kv, "gen", &g);
    return rc ? rc : meta_put_u64(kv, "gen", g + 1);
}

/* Runs on_commit for the pending lazy commit, which has just become durable. */
static void store_lazy_flush(store_t *st)
{
    store_change_t chg[STORE_TXN_CHANGES_MAX];
    size_t n = 0;
    pthread_mutex_lock(&st->gen_mu);
    if (st->lazy_pending) {
        n = st->lazy_nchg;
        memcpy(chg, st->lazy_chg, n * sizeof(chg[0]));
        st->lazy_pending = 0;
        st->lazy_nchg = 0;
    }
    pthread_mutex_unlock(&st->gen_mu);
    if (n && st->opts.on_commit) st->opts.on_commit(chg, n, st->opts.on_commit_arg);
}

/* After a lazy commit: its changes wait for the sync that makes them durable. */
static void store_lazy_keep(store_txn_t *t)
{
    store_t *st = t->st;
    pthread_mutex_lock(&st->gen_mu);
    st->lazy_pending = 1;
    st->lazy_nchg = t->nchg;
    memcpy(st->lazy_chg, t->chg, t->nchg * sizeof(t->chg[0]));
    pthread_mutex_unlock(&st->gen_mu);
}

int store_sync(store_t *st)
{
    if (!st) return PETREL_EINVAL;
    int rc = kv_sync(st->kv);
    store_lazy_flush(st);
    return rc;
}

static int store_txn_commit_mode(store_txn_t **tp, int lazy)
{
    if (!tp || !*tp) return PETREL_EINVAL;
    store_txn_t *t = *tp;
    *tp = NULL;
    int rc = 0;
    if (t->write && !t->parent) {
        rc = store_gen_bump(t->kv);
        if (rc) {
            kv_abort(&t->kv);
            free(t);
            return rc;
        }
    }
    if (t->write && !t->parent) {
        pthread_mutex_lock(&t->st->gen_mu);
        rc = lazy ? kv_commit_lazy(&t->kv) : kv_commit(&t->kv);
        t->st->own_gens += rc == 0;
        pthread_mutex_unlock(&t->st->gen_mu);
        if (rc == 0) store_lazy_flush(t->st); /* this commit's data sync made it durable */
        if (rc == 0 && lazy) store_lazy_keep(t);
    } else {
        rc = kv_commit(&t->kv);
    }
    if (rc == 0 && t->write && !t->parent && !lazy && t->nchg && t->st->opts.on_commit)
        t->st->opts.on_commit(t->chg, t->nchg, t->st->opts.on_commit_arg);
    if (rc && rc != PETREL_ECONFLICT)
        log_error("event=store_commit error=\"%s\"", petrel_strerror(rc));
    free(t);
    return rc;
}

int store_txn_commit(store_txn_t **tp)
{
    return store_txn_commit_mode(tp, 0);
}

int store_txn_commit_lazy(store_txn_t **tp)
{
    return store_txn_commit_mode(tp, 1);
}

void store_txn_abort(store_txn_t **tp)
{
    if (!tp || !*tp) return;
    store_txn_t *t = *tp;
    if (t->parent && t->root->chg_mode == t->mark_mode) t->root->nchg = t->mark_nchg;
    kv_abort(&t->kv);
    free(t);
    *tp = NULL;
}

void store_txn_reset(store_txn_t *txn)
{
    kv_reset(txn->kv);
}

int store_txn_renew(store_txn_t *txn)
{
    return kv_renew(txn->kv);
}

int store_write(store_t *st, store_op_fn op, void *arg)
{
    int rc = PETREL_ECONFLICT;
    for (int attempt = 0; attempt < STORE_WRITE_RETRIES && rc == PETREL_ECONFLICT; attempt++) {
        store_txn_t *t;
        rc = store_write_begin(st, &t);
        if (rc == PETREL_ECONFLICT) continue;
        if (rc) return rc;
        rc = op(t, arg);
        if (rc) {
            store_txn_abort(&t);
            continue;
        }
        rc = store_txn_commit(&t);
    }
    if (rc == PETREL_ECONFLICT)
        log_error("event=store_write error=\"still conflicting after retries\"");
    return rc;
}

int store_generation_own(store_t *st, uint64_t *gen_r, uint64_t *own_r)
{
    pthread_mutex_lock(&st->gen_mu);
    int rc = store_generation(st, gen_r);
    *own_r = st->own_gens;
    pthread_mutex_unlock(&st->gen_mu);
    return rc;
}

int store_generation(store_t *st, uint64_t *gen_r)
{
    kv_txn_t *t;
    int rc = kv_begin(st->kv, NULL, KV_RDONLY, &t);
    if (rc) return rc;
    rc = meta_get_u64(t, "gen", gen_r);
    kv_abort(&t);
    if (rc == PETREL_ENOTFOUND) { /* nothing committed yet */
        *gen_r = 0;
        rc = 0;
    }
    return rc;
}
