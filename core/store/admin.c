/* admin.c - statistics and live backup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

/* Sum of the 'u' (user) usage records: the bytes of every message copy. */
static int stats_message_bytes(kv_txn_t *kv, uint64_t *bytes_r)
{
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_USAGE, &c);
    if (rc) return rc;
    uint8_t k[1] = {USAGE_USER};
    kv_val_t key;
    *bytes_r = 0;
    rc = kv_cursor_seek(c, KV_VAL(k, 1), &key, NULL);
    while (rc == 0 && key.len == 9 && ((const uint8_t *)key.data)[0] == USAGE_USER) {
        store_usage_t u;
        rc = usage_get(kv, USAGE_USER, be64_get((const uint8_t *)key.data + 1), &u);
        if (rc) break;
        *bytes_r += u.bytes;
        rc = kv_cursor_next(c, &key, NULL);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_stats(store_t *st, store_stats_t *s_r)
{
    kv_stat_t ks;
    int rc = kv_stat(st->kv, &ks);
    if (rc) return rc;
    memset(s_r, 0, sizeof(*s_r));
    s_r->tenants = ks.entries[T_TENANT];
    s_r->users = ks.entries[T_USER];
    s_r->mailboxes = ks.entries[T_MBOX];
    s_r->messages = ks.entries[T_MSG];
    s_r->blobs = ks.entries[T_BLOB];
    s_r->file_bytes = ks.file_bytes;
    s_r->map_size = ks.map_size;
    s_r->used_pages = ks.used_pages;
    s_r->free_pages = ks.free_pages;
    s_r->page_size = ks.page_size;
    s_r->readers = ks.readers_used;
    s_r->max_readers = ks.max_readers;
    kv_txn_t *t;
    rc = kv_begin(st->kv, NULL, KV_RDONLY, &t);
    if (rc) return rc;
    rc = meta_get_u64(t, "blob_bytes", &s_r->blob_bytes);
    if (!rc) rc = stats_message_bytes(t, &s_r->message_bytes);
    kv_abort(&t);
    return rc;
}

/*
 * Writes a compacted copy that store_open(dir) opens: dir/store/data.mdb.
 * dir/store must not hold a store already (PETREL_EEXIST).
 */
int store_backup(store_t *st, const char *dir)
{
    char path[4200];
    if (!dir || snprintf(path, sizeof(path), "%s/%s", dir, STORE_DIR_NAME) >= (int)sizeof(path))
        return PETREL_EINVAL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error("event=store_backup path=%s error=\"%s\"", dir, strerror(errno));
        return PETREL_EIO;
    }
    struct stat sb;
    char file[4300];
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    if (stat(file, &sb) == 0) {
        log_error("event=store_backup path=%s error=\"a store is already there\"", path);
        return PETREL_EEXIST;
    }
    int rc = kv_backup(st->kv, path);
    if (!rc) log_info("event=store_backup path=%s", path);
    return rc;
}
