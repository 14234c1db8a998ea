/*
 * search_out.c - sends the numbers of a SEARCH result ("* SEARCH 1 2 3" or
 * the ALL set of "* ESEARCH") through the host's back-pressure: batches of
 * at most IMAP_SEARCH_OUT_BATCH numbers while host->writable(); when the
 * output is full, input is paused and on_writable goes on. A 200,000-hit
 * result (1.4 MB as one line) would otherwise pass the host's hard output
 * limit (1 MiB) and close the connection.
 */
#include "imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_SEARCH_OUT_BATCH 512 /* numbers per write: at most ~12 KB */

struct imap_search_out {
    uint32_t *hits; /* ascending */
    uint32_t n, pos;
    int set;      /* 1: a sequence set (1:3,7), 0: " 1 2 3" */
    int uid_mode; /* for the tagged OK's text */
    int paused;
    char tail[64]; /* the rest of the line, CRLF included */
};

void imap_search_out_free(struct imap_session *is)
{
    struct imap_search_out *o = is->search_out;
    if (!o) return;
    if (o->paused) imap_host->resume(is->s);
    free(o->hits);
    free(o);
    is->search_out = NULL;
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

/* Writes until done (1) or the output is full (0). */
static int search_out_continue(struct imap_session *is)
{
    struct imap_search_out *o = is->search_out;
    char buf[IMAP_SEARCH_OUT_BATCH * 24];
    while (o->pos < o->n) {
        if (!imap_host->writable(is->s)) return 0;
        size_t len = search_out_batch(o, buf, sizeof(buf));
        if (imap_host->write(is->s, buf, len)) { /* the connection is closing: stop */
            imap_search_out_free(is);
            return 1;
        }
    }
    imap_host->write(is->s, o->tail, strlen(o->tail));
    int uid_mode = o->uid_mode;
    imap_search_out_free(is);
    imap_selected_sync(is, 0);
    imap_reply(is, "OK", "%sSEARCH completed", uid_mode ? "UID " : "");
    return 1;
}

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
    imap_search_out_free(is); /* none is left: input waits while one streams */
    is->search_out = o;
    if (search_out_continue(is)) return;
    o->paused = 1;
    imap_host->pause(is->s); /* pipelined commands wait until the response is complete */
    is->mode = IMAP_MODE_WAIT;
}

void imap_search_on_writable(struct imap_session *is)
{
    if (!is->search_out || is->mode != IMAP_MODE_WAIT || is->pending != IMAP_PEND_NONE) return;
    if (search_out_continue(is)) imap_command_end(is);
}
