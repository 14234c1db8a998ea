/*
 * cache_adapter.c - mime_cache_build in the shape the store's cache hook
 * (store_opts_t.cache_fn) expects, so whoever opens the store (petreld,
 * petrelctl) passes mime_cache_for_store and the store stays free of MIME.
 */
#include "mime/cache_adapter.h"
#include "mime/mime.h"

#include "util/buf.h"

int mime_cache_for_store(const void *msg, size_t len,
                         int (*out_append)(void *out, const void *p, size_t n), void *out)
{
    buf_t b;
    buf_init(&b, MIME_CACHE_MAX);
    int rc = mime_cache_build(msg, len, &b);
    if (rc == 0)
        rc = out_append(out, b.data, b.len);
    buf_free(&b);
    return rc;
}
