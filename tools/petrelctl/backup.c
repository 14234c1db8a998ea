/*
 * backup.c - petrelctl backup DIR, restore DIR, stats.
 *
 * A backup directory is itself a data directory: DIR/store/data.mdb, a
 * compacted copy made by store_backup() (mdb_env_copy2 with MDB_CP_COMPACT)
 * from one read transaction, so it is consistent while petreld and other
 * petrelctl processes keep writing.
 *
 * Restore refuses while petreld runs on the data directory. petreld holds an
 * exclusive flock(2) on DATA/petreld.lock for as long as it runs; restore
 * takes the same lock without waiting (and keeps it, so petreld cannot start
 * meanwhile) and fails with "in use" when it is held. The store is replaced
 * by renaming: the copy is written and fsync'ed beside the store
 * (DATA/store.restore), the old store is moved aside and removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "ctl.h"
#include "util/err.h"

#define BACKUP_PATH_MAX 4096

int cmd_backup(ctl_t *c, int argc, char **argv)
{
    char path[BACKUP_PATH_MAX];
    struct stat sb;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (strlen(a.pos[0]) > CTL_DIR_MAX) return out_fail("path '%.40s...' is too long", a.pos[0]);
    if (!ctl_dir_empty_or_absent(a.pos[0]))
        return out_fail("'%s' exists and is not an empty directory", a.pos[0]);
    if (ctl_store_existing(c, &st)) return CTL_FAIL;
    rc = store_backup(st, a.pos[0]); /* writes DIR/store/data.mdb */
    if (rc) return out_fail("backup to '%s' failed: %s", a.pos[0], petrel_strerror(rc));
    ctl_path(path, sizeof(path), "%s/store/data.mdb", a.pos[0]);
    if (stat(path, &sb))
        return out_fail("backup to '%s' failed: no %s was written", a.pos[0], path);
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        out_json_kstr(&w, "backup", a.pos[0]);
        out_json_ku64(&w, "bytes", (uint64_t)sb.st_size);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else {
        char sz[32];
        printf("backup written to %s (%s)\n", a.pos[0],
               args_format_size((uint64_t)sb.st_size, sz, sizeof(sz)));
    }
    return CTL_OK;
}

/* ------------------------------------------------------------------ restore */
static int restore_copy(const char *src, const char *dst)
{
    char chunk[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC), out, rc = 0;
    if (in < 0) return PETREL_EIO;
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return PETREL_EIO;
    }
    for (;;) {
        ssize_t n = read(in, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? PETREL_EIO : 0;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                rc = PETREL_EIO;
                break;
            }
            off += w;
        }
        if (rc) break;
    }
    if (!rc && fsync(out)) rc = PETREL_EIO;
    close(in);
    if (close(out) && !rc) rc = PETREL_EIO;
    return rc;
}

/* Removes dir/data.mdb, dir/lock.mdb and dir (a store directory). */
static void restore_rm_store(const char *dir)
{
    char p[BACKUP_PATH_MAX];
    ctl_path(p, sizeof(p), "%s/data.mdb", dir);
    unlink(p);
    ctl_path(p, sizeof(p), "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

static void restore_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Checks that dir holds a store this build can open. */
static int restore_validate(const char *dir)
{
    store_opts_t o = {.struct_size = sizeof(o), .read_only = 1};
    store_t *bst = NULL;
    char p[BACKUP_PATH_MAX];
    struct stat sb;
    ctl_path(p, sizeof(p), "%s/store/data.mdb", dir);
    if (stat(p, &sb)) return out_fail("'%s' is not a petrelctl backup (no store/data.mdb)", dir);
    int rc = store_open(dir, &o, &bst);
    store_close(&bst);
    if (rc) return out_fail("'%s' cannot be restored: %s", dir, petrel_strerror(rc));
    return 0;
}

int cmd_restore(ctl_t *c, int argc, char **argv)
{
    char lock[BACKUP_PATH_MAX], store[BACKUP_PATH_MAX], tmp[BACKUP_PATH_MAX], old[BACKUP_PATH_MAX],
        src[BACKUP_PATH_MAX], dst[BACKUP_PATH_MAX];
    args_t a;
    int fd, rc = ctl_args(c, argc, argv, NULL, 0, 1, 1, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (strlen(a.pos[0]) > CTL_DIR_MAX || strlen(c->data_dir) > CTL_DIR_MAX)
        return out_fail("path too long");
    if (restore_validate(a.pos[0])) return CTL_FAIL;
    if (mkdir(c->data_dir, 0700) && errno != EEXIST)
        return out_fail("cannot create '%s': %s", c->data_dir, strerror(errno));
    ctl_path(lock, sizeof(lock), "%s/petreld.lock", c->data_dir);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return out_fail("cannot open '%s': %s", lock, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return out_fail("refusing to restore: petreld is running on '%s' (it holds %s)",
                        c->data_dir, lock);
    }
    ctl_path(store, sizeof(store), "%s/store", c->data_dir);
    ctl_path(tmp, sizeof(tmp), "%s/store.restore", c->data_dir);
    ctl_path(old, sizeof(old), "%s/store.old", c->data_dir);
    ctl_path(src, sizeof(src), "%s/store/data.mdb", a.pos[0]);
    ctl_path(dst, sizeof(dst), "%s/data.mdb", tmp);
    restore_rm_store(tmp);
    restore_rm_store(old);
    if (mkdir(tmp, 0700) || (rc = restore_copy(src, dst)) != 0) {
        restore_rm_store(tmp);
        close(fd);
        return out_fail("cannot copy '%s' to '%s': %s", src, dst, strerror(errno));
    }
    if (rename(store, old) && errno != ENOENT) {
        restore_rm_store(tmp);
        close(fd);
        return out_fail("cannot move '%s' aside: %s", store, strerror(errno));
    }
    if (rename(tmp, store)) {
        int e = errno;
        rename(old, store);
        close(fd);
        return out_fail("cannot move the restored store into place: %s", strerror(e));
    }
    restore_sync_dir(c->data_dir);
    restore_rm_store(old);
    close(fd);
    printf("store in %s restored from %s\n", c->data_dir, a.pos[0]);
    return CTL_OK;
}

/* ------------------------------------------------------------------ stats */
int cmd_stats(ctl_t *c, int argc, char **argv)
{
    store_stats_t s;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, NULL, 0, 0, 0, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (ctl_store_existing(c, &st)) return CTL_FAIL;
    rc = store_stats(st, &s);
    if (rc) return out_fail("cannot read the store statistics: %s", petrel_strerror(rc));
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        out_json_ku64(&w, "tenants", s.tenants);
        out_json_ku64(&w, "users", s.users);
        out_json_ku64(&w, "mailboxes", s.mailboxes);
        out_json_ku64(&w, "messages", s.messages);
        out_json_ku64(&w, "blobs", s.blobs);
        out_json_ku64(&w, "message_bytes", s.message_bytes);
        out_json_ku64(&w, "blob_bytes", s.blob_bytes);
        out_json_ku64(&w, "file_bytes", s.file_bytes);
        out_json_ku64(&w, "map_size", s.map_size);
        out_json_ku64(&w, "page_size", s.page_size);
        out_json_ku64(&w, "used_pages", s.used_pages);
        out_json_ku64(&w, "free_pages", s.free_pages);
        out_json_ku64(&w, "readers", s.readers);
        out_json_ku64(&w, "max_readers", s.max_readers);
        out_json_obj_end(&w);
        out_json_done(&w);
        return CTL_OK;
    }
    char b1[32], b2[32], b3[32], b4[32];
    printf("tenants:        %llu\nusers:          %llu\nmailboxes:      %llu\n"
           "messages:       %llu (%s)\nblobs:          %llu (%s stored once)\n"
           "store file:     %s (map %s)\npages:          %llu used, %llu free (%u bytes each)\n"
           "readers:        %u of %u\n",
           (unsigned long long)s.tenants, (unsigned long long)s.users,
           (unsigned long long)s.mailboxes, (unsigned long long)s.messages,
           args_format_size(s.message_bytes, b1, sizeof(b1)), (unsigned long long)s.blobs,
           args_format_size(s.blob_bytes, b2, sizeof(b2)),
           args_format_size(s.file_bytes, b3, sizeof(b3)),
           args_format_size(s.map_size, b4, sizeof(b4)), (unsigned long long)s.used_pages,
           (unsigned long long)s.free_pages, s.page_size, s.readers, s.max_readers);
    return CTL_OK;
}
