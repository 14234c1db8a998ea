/*
 * pop3_retr.c - multi-line answers produced under back-pressure: RETR and
 * TOP (the message streamed from the store's zero-copy view, byte-stuffed,
 * bare LF sent as CRLF), and LIST / UIDL without argument.
 *
 * We write while host->writable() says 1 and go on in on_writable, so a
 * 50 MB message is never copied whole: at most the host's output buffer
 * (its high-water mark plus one POP3_CHUNK) holds a part of it. Every
 * continuation opens its own short read (a snapshot is never kept across
 * callbacks) and finds the message again by UID; input is paused until the
 * answer is complete so pipelined commands wait their turn.
 *
 * A message expunged by another session (IMAP) before RETR/TOP gets
 * "-ERR message was deleted on the server". Expunged in the middle of the
 * transfer (its bytes gone between two continuations), the answer cannot
 * be completed: we log it and close without the final ".", so the client
 * sees a truncated transfer rather than a wrong message.
 */
#include "pop3_int.h"

#include <stdio.h>
#include <string.h>

static void pop3_stream_finish(struct pop3_session *ps)
{
    ps->out.kind = POP3_OUT_NONE;
    pop3_host->resume(ps->s);
}

static void pop3_stream_abort(struct pop3_session *ps, int rc)
{
    pop3_host->log(ps->s, PETREL_LOG_WARN, "event=pop3_stream_aborted uid=%u rc=%d",
                   ps->out.kind == POP3_OUT_MSG ? ps->msgs[ps->out.idx].uid : 0, rc);
    ps->out.kind = POP3_OUT_NONE;
    pop3_close(ps);
}

/* Writes from the view while the host takes more. 0 or a write error. */
static int pop3_stream_view(struct pop3_session *ps, const struct petrel_view *v)
{
    struct pop3_stream *o = &ps->out;
    while (pop3_host->writable(ps->s)) {
        if (o->off >= v->len || o->enc.done) {
            const char *end = pop3_enc_end(&o->enc);
            int rc = pop3_host->write(ps->s, end, strlen(end));
            pop3_stream_finish(ps);
            return rc;
        }
        size_t base = 0;
        unsigned k = 0;
        while (k + 1 < v->nseg && o->off >= base + v->seg[k].n)
            base += v->seg[k++].n;
        const uint8_t *p = v->seg[k].p + (o->off - base);
        size_t n = base + v->seg[k].n - o->off;
        if (n > POP3_CHUNK) n = POP3_CHUNK;
        const char *ins;
        size_t run = pop3_enc_scan(&o->enc, p, n, &ins);
        int rc = run ? pop3_host->write(ps->s, p, run) : 0;
        if (rc == 0 && ins) rc = pop3_host->write(ps->s, ins, strlen(ins));
        if (rc) return rc;
        o->off += run;
    }
    return 0;
}

/* RETR (top = 0) or TOP n. */
static void pop3_msg_start(struct pop3_session *ps, int i, int top, uint32_t lines)
{
    petrel_read *rd = pop3_host->read_begin(ps->s);
    struct petrel_view v;
    int rc = rd ? pop3_host->msg_view(rd, ps->mailbox_id, ps->msgs[i].uid, &v) : PETREL_EIO;
    if (rc == 0) rc = pop3_msg_size(ps, rd, (uint32_t)i);
    if (rc) {
        pop3_host->read_end(&rd);
        if (rc == PETREL_ENOTFOUND)
            pop3_host->writef(ps->s, "-ERR message %d was deleted on the server\r\n", i + 1);
        else
            pop3_host->writef(ps->s, "-ERR [SYS/TEMP] cannot read message %d\r\n", i + 1);
        return;
    }
    if (top)
        pop3_host->writef(ps->s, "+OK top of message follows\r\n");
    else
        pop3_host->writef(ps->s, "+OK %llu octets\r\n", (unsigned long long)ps->msgs[i].size);
    ps->out = (struct pop3_stream){.kind = POP3_OUT_MSG, .idx = (uint32_t)i};
    pop3_enc_init(&ps->out.enc, top, lines);
    pop3_host->pause(ps->s);
    rc = pop3_stream_view(ps, &v);
    pop3_host->read_end(&rd);
    if (rc) pop3_stream_abort(ps, rc);
}

void pop3_cmd_retr(struct pop3_session *ps, const struct pop3_req *r)
{
    int i = pop3_msg_arg(ps, r->arg[0], r->arglen[0]);
    if (i >= 0) pop3_msg_start(ps, i, 0, 0);
}

void pop3_cmd_top(struct pop3_session *ps, const struct pop3_req *r)
{
    uint32_t lines;
    if (pop3_parse_num(r->arg[1], r->arglen[1], UINT32_MAX, &lines) != 0) {
        pop3_error(ps, "invalid number of lines");
        return;
    }
    int i = pop3_msg_arg(ps, r->arg[0], r->arglen[0]);
    if (i >= 0) pop3_msg_start(ps, i, 1, lines);
}

/* LIST / UIDL lines from out.idx on, batched into buf, while the host takes more. */
static int pop3_stream_listing(struct pop3_session *ps)
{
    struct pop3_stream *o = &ps->out;
    petrel_read *rd = o->kind == POP3_OUT_LIST ? pop3_host->read_begin(ps->s) : NULL;
    char buf[16384];
    size_t used = 0;
    int rc = 0;
    while (rc == 0 && o->idx < ps->nmsgs && pop3_host->writable(ps->s)) {
        for (; o->idx < ps->nmsgs && used + 64 < sizeof(buf); o->idx++) {
            const struct pop3_msg *m = &ps->msgs[o->idx];
            if (m->deleted) continue;
            int n;
            if (o->kind == POP3_OUT_LIST) {
                if (rd) (void)pop3_msg_size(ps, rd, o->idx); /* gone: stored size stands */
                n = snprintf(buf + used, sizeof(buf) - used, "%u %llu\r\n", o->idx + 1,
                             (unsigned long long)m->size);
            } else {
                n = snprintf(buf + used, sizeof(buf) - used, "%u %u.%u\r\n", o->idx + 1,
                             ps->uidvalidity, m->uid);
            }
            used += (size_t)n; /* < 64 bytes: fits */
        }
        rc = pop3_host->write(ps->s, buf, used);
        used = 0;
    }
    pop3_host->read_end(&rd);
    if (rc == 0 && o->idx >= ps->nmsgs && pop3_host->writable(ps->s)) {
        rc = pop3_host->write(ps->s, ".\r\n", 3);
        pop3_stream_finish(ps);
    }
    return rc;
}

void pop3_listing_start(struct pop3_session *ps, enum pop3_out_kind kind)
{
    pop3_host->writef(ps->s, "+OK %u messages\r\n", ps->nmsgs - ps->ndeleted);
    ps->out = (struct pop3_stream){.kind = kind, .idx = 0};
    pop3_host->pause(ps->s);
    int rc = pop3_stream_listing(ps);
    if (rc) pop3_stream_abort(ps, rc);
}

void pop3_stream_continue(struct pop3_session *ps)
{
    int rc;
    if (ps->out.kind == POP3_OUT_MSG) {
        petrel_read *rd = pop3_host->read_begin(ps->s);
        struct petrel_view v;
        rc = rd ? pop3_host->msg_view(rd, ps->mailbox_id, ps->msgs[ps->out.idx].uid, &v)
                : PETREL_EIO;
        if (rc == 0) rc = pop3_stream_view(ps, &v);
        pop3_host->read_end(&rd);
    } else {
        rc = pop3_stream_listing(ps);
    }
    if (rc) pop3_stream_abort(ps, rc);
}
