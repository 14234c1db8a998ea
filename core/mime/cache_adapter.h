/* cache_adapter.h - the MIME structure cache as the store's cache_fn hook. */
#ifndef PETREL_MIME_CACHE_ADAPTER_H
#define PETREL_MIME_CACHE_ADAPTER_H

#include <stddef.h>

/* Builds mime_cache_build's cache of msg and hands it to out_append(out, ...). */
int mime_cache_for_store(const void *msg, size_t len,
                         int (*out_append)(void *out, const void *p, size_t n), void *out);

#endif
