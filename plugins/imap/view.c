/*
 * view.c - bytes of a message view (struct petrel_view: the store's chunks)
 * as one contiguous block, for the host calls that take a flat buffer
 * (decode, header_fields) and for SEARCH's text.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

const char *imap_view_bytes(const struct petrel_view *v, uint64_t off, uint64_t len, char **tmp_r)
{
    *tmp_r = NULL;
    if (off > v->len || len > v->len - off) return NULL;
    uint64_t o = off;
    for (unsigned i = 0; i < v->nseg; i++) {
        if (o >= v->seg[i].n) {
            o -= v->seg[i].n;
            continue;
        }
        if (v->seg[i].n - o >= len) return (const char *)v->seg[i].p + o;
        break;
    }
    char *b = malloc(len ? len : 1);
    if (!b) return NULL;
    uint64_t done = 0;
    for (unsigned i = 0; i < v->nseg && done < len; i++) {
        if (off >= v->seg[i].n) {
            off -= v->seg[i].n;
            continue;
        }
        uint64_t n = v->seg[i].n - off < len - done ? v->seg[i].n - off : len - done;
        memcpy(b + done, v->seg[i].p + off, n);
        done += n;
        off = 0;
    }
    *tmp_r = b;
    return b;
}
