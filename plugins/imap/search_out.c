/*
 * search_out.c - the numbers of a SEARCH result ("* SEARCH 1 2 3" or the ALL
 * set of "* ESEARCH") as a stream (stream.c): batches of at most
 * IMAP_SEARCH_OUT_BATCH numbers. A 200,000-hit result (1.4 MB as one line)
 * would otherwise pass the host's hard output limit (1 MiB) and close the
 * connection.
 */
#include "imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_SEARCH_OUT_BATCH 512 /* numbers per write: at most ~12 KB */

struct imap_search_out {
    uint32_t *hits; /* ascending */
    uint32_t n, pos;
    int set;       /* 1: a sequence set (1:3,7), 0: " 1 2 3" */
    int uid_mode;  /* for the tagged OK's text */
    char tail[64]; /* the rest of the line, CRLF included */
};

static void search_out_free(void *job)
{
    struct imap_search_out *o = job;
    free(o->hits);
    free(o);
}

/* One batch into buf; returns its length. */
static size_t search_out_batch(struct imap_search_out *o, char *buf, size_t cap)
{
    size_t len = 0;
    for (unsigned k = 0; k < IMAP_SEARCH_OUT_BATCH && o->pos < o->n && cap - len > 32; k++) {
        uint32_t a = o->hits[o->pos], b = a;
        int w;
        if (o->set) {
            uint32_t j = o->pos;
            while (j + 1 < o->n && o->hits[j + 1] == o->hits[j] + 1)
                j++;
            b = o->hits[j];
            const char *sep = o->pos ? "," : "";
            w = a == b ? snprintf(buf + len, cap - len, "%s%u", sep, a)
                       : snprintf(buf + len, cap - len, "%s%u:%u", sep, a, b);
            o->pos = j + 1;
        } else {
            w = snprintf(buf + len, cap - len, " %u", a);
            o->pos++;
        }
        if (w > 0) len += (size_t)w;
    }
    return len;
}

static int search_out_step(struct imap_session *is, void *job)
{
    struct imap_search_out *o = job;
    char buf[IMAP_SEARCH_OUT_BATCH * 24];
    if (o->pos < o->n) {
        size_t len = search_out_batch(o, buf, sizeof(buf));
        if (imap_host->write(is->s, buf, len)) return -1; /* the connection is closing */
        if (o->pos < o->n) return 0;
    }
    imap_host->write(is->s, o->tail, strlen(o->tail));
    return 1;
}

static void search_out_finish(struct imap_session *is, void *job)
{
    struct imap_search_out *o = job;
    imap_selected_sync(is, 0);
    imap_reply(is, "OK", "%sSEARCH completed", o->uid_mode ? "UID " : "");
}

static const struct imap_stream_ops search_out_ops = {
    .step = search_out_step,
    .finish = search_out_finish,
    .free = search_out_free,
};

void imap_search_out_start(struct imap_session *is, uint32_t *hits, uint32_t n, int set,
                           int uid_mode, const char *tail)
{
    struct imap_search_out *o = calloc(1, sizeof(*o));
    if (!o) { /* the response line has begun: end it as well as we can */
        free(hits);
        imap_host->write(is->s, tail, strlen(tail));
        imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    o->hits = hits;
    o->n = n;
    o->set = set;
    o->uid_mode = uid_mode;
    snprintf(o->tail, sizeof(o->tail), "%s", tail);
    imap_stream_start(is, &search_out_ops, o);
}
