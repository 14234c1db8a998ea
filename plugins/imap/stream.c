/*
 * stream.c - a response too large to buffer whole, written through the
 * host's back-pressure. The owner (SEARCH, SELECT's QRESYNC, UID FETCH's
 * VANISHED) hands over a job with three operations: step writes one bounded
 * batch, finish ends the command (its tagged reply, or the next phase), free
 * releases the job. Steps run while host->writable(); when the output is
 * above its high-water mark, input is paused and on_writable goes on. The
 * session takes no other command meanwhile (mode WAIT), as for FETCH.
 *
 * Why: the host closes a connection whose output passes its hard limit
 * (1 MiB); a one-shot writer of a 200,000-number SEARCH or a QRESYNC
 * resync after 100,000 expunges would be disconnected on every retry.
 */
#include "imap_int.h"

#include <string.h>

void imap_stream_free(struct imap_session *is)
{
    struct imap_stream st = is->stream;
    if (!st.ops) return;
    memset(&is->stream, 0, sizeof(is->stream));
    if (st.paused) imap_host->resume(is->s);
    st.ops->free(st.job);
}

/* Steps until the job is done (1: finish ran) or the output is full (0). */
static int stream_run(struct imap_session *is)
{
    int rc = 0;
    while (rc == 0) {
        if (!imap_host->writable(is->s)) return 0;
        rc = is->stream.ops->step(is, is->stream.job);
    }
    struct imap_stream st = is->stream;
    memset(&is->stream, 0, sizeof(is->stream));
    if (st.paused) imap_host->resume(is->s);
    is->mode = IMAP_MODE_COMMAND; /* finish may start another phase (mode WAIT again) */
    if (rc > 0) st.ops->finish(is, st.job);
    st.ops->free(st.job);
    return 1;
}

void imap_stream_start(struct imap_session *is, const struct imap_stream_ops *ops, void *job)
{
    imap_stream_free(is); /* none is left: input waits while one streams */
    is->stream.ops = ops;
    is->stream.job = job;
    is->mode = IMAP_MODE_WAIT;
    if (stream_run(is)) return;
    is->stream.paused = 1;
    imap_host->pause(is->s); /* pipelined commands wait until the response is complete */
}

void imap_stream_on_writable(struct imap_session *is)
{
    if (!is->stream.ops || is->mode != IMAP_MODE_WAIT || is->pending != IMAP_PEND_NONE) return;
    if (stream_run(is) && is->mode == IMAP_MODE_COMMAND) imap_command_end(is);
}
