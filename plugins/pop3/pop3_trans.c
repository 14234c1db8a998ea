/*
 * pop3_trans.c - the TRANSACTION state's small commands and the UPDATE
 * state (QUIT commits every DELE in one store write; a dropped connection
 * commits nothing).
 *
 * Sizes: POP3 octet counts are of the message as sent, with CRLF line ends
 * and before byte-stuffing. Messages are stored as received; one stored with
 * bare LFs is sent with CRLF, so its size is the stored size plus its bare
 * LFs. Counting them needs a pass over the bytes, done lazily (STAT/LIST
 * for all shown messages, LIST n / RETR / TOP for one), kept for the
 * session and in the process-wide cache of pop3_sizes.c.
 */
#include "pop3_int.h"

#include <stdio.h>

int pop3_msg_arg(struct pop3_session *ps, const char *p, size_t n)
{
    uint32_t v;
    if (pop3_parse_num(p, n, UINT32_MAX, &v) != 0) {
        pop3_error(ps, "invalid message number");
        return -1;
    }
    if (v == 0 || v > ps->nmsgs) {
        pop3_error(ps, "no such message");
        return -1;
    }
    if (ps->msgs[v - 1].deleted) {
        pop3_error(ps, "message already deleted");
        return -1;
    }
    return (int)(v - 1);
}

int pop3_msg_size(struct pop3_session *ps, petrel_read *r, uint32_t i)
{
    struct pop3_msg *m = &ps->msgs[i];
    if (m->exact) return 0;
    uint64_t key = pop3_size_key(ps->locked, ps->mailbox_id, ps->uidvalidity, m->uid);
    if (pop3_size_get(key, &m->size)) {
        m->exact = 1;
        return 0;
    }
    struct petrel_view v;
    int rc = pop3_host->msg_view(r, ps->mailbox_id, m->uid, &v);
    if (rc) return rc;
    struct pop3_enc e;
    pop3_enc_init(&e, 0, 0);
    uint64_t lfs = 0;
    for (unsigned k = 0; k < v.nseg && k < PETREL_VIEW_SEGS; k++)
        lfs += pop3_enc_bare_lfs(&e, v.seg[k].p, v.seg[k].n);
    m->size = (uint64_t)v.len + lfs;
    m->exact = 1;
    pop3_size_put(key, m->size);
    return 0;
}

void pop3_cmd_stat(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    petrel_read *rd = pop3_host->read_begin(ps->s);
    if (!rd) {
        pop3_host->writef(ps->s, "-ERR [SYS/TEMP] cannot read the maildrop\r\n");
        return;
    }
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < ps->nmsgs; i++) {
        if (ps->msgs[i].deleted) continue;
        (void)pop3_msg_size(ps, rd, i); /* gone meanwhile: its stored size stands */
        n++;
        bytes += ps->msgs[i].size;
    }
    pop3_host->read_end(&rd);
    pop3_host->writef(ps->s, "+OK %u %llu\r\n", n, (unsigned long long)bytes);
}

void pop3_cmd_list(struct pop3_session *ps, const struct pop3_req *r)
{
    if (r->nargs == 0) {
        pop3_listing_start(ps, POP3_OUT_LIST);
        return;
    }
    int i = pop3_msg_arg(ps, r->arg[0], r->arglen[0]);
    if (i < 0) return;
    petrel_read *rd = pop3_host->read_begin(ps->s);
    if (rd) (void)pop3_msg_size(ps, rd, (uint32_t)i);
    pop3_host->read_end(&rd);
    pop3_host->writef(ps->s, "+OK %d %llu\r\n", i + 1, (unsigned long long)ps->msgs[i].size);
}

void pop3_cmd_uidl(struct pop3_session *ps, const struct pop3_req *r)
{
    if (r->nargs == 0) {
        pop3_listing_start(ps, POP3_OUT_UIDL);
        return;
    }
    int i = pop3_msg_arg(ps, r->arg[0], r->arglen[0]);
    if (i < 0) return;
    /* stable and unique per mailbox: UIDVALIDITY and UID (RFC 1939 section 7) */
    pop3_host->writef(ps->s, "+OK %d %u.%u\r\n", i + 1, ps->uidvalidity, ps->msgs[i].uid);
}

void pop3_cmd_dele(struct pop3_session *ps, const struct pop3_req *r)
{
    int i = pop3_msg_arg(ps, r->arg[0], r->arglen[0]);
    if (i < 0) return;
    ps->msgs[i].deleted = 1;
    ps->ndeleted++;
    pop3_host->writef(ps->s, "+OK message %d deleted\r\n", i + 1);
}

void pop3_cmd_rset(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    for (uint32_t i = 0; i < ps->nmsgs; i++)
        ps->msgs[i].deleted = 0;
    ps->ndeleted = 0;
    pop3_host->writef(ps->s, "+OK maildrop has %u messages\r\n", ps->nmsgs);
}

void pop3_cmd_noop(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    pop3_host->writef(ps->s, "+OK\r\n");
}

static void pop3_unlock(struct pop3_session *ps)
{
    if (ps->locked[0]) pop3_lock_release(ps->locked);
    ps->locked[0] = '\0';
}

/* Builds the UPDATE write: one operation per DELE. 0 or an error. */
static int pop3_update_build(struct pop3_session *ps, petrel_write *w)
{
    ps->update_ops = 0;
    for (uint32_t i = 0; i < ps->nmsgs; i++) {
        if (!ps->msgs[i].deleted) continue;
        int op = ps->l->delete_mode == POP3_DELETE_FLAG_ONLY
                     ? pop3_host->w_flags(w, ps->mailbox_id, ps->msgs[i].uid, PETREL_FLAGS_ADD,
                                          PETREL_F_POP3_DELETED, NULL, 0, 0)
                     : pop3_host->w_expunge(w, ps->mailbox_id, ps->msgs[i].uid);
        if (op < 0) return op;
        ps->update_ops++;
    }
    return 0;
}

void pop3_cmd_quit(struct pop3_session *ps, const struct pop3_req *r)
{
    (void)r;
    if (ps->state != POP3_ST_TRANS || ps->ndeleted == 0) {
        pop3_unlock(ps); /* before the reply: a client may reconnect at once */
        pop3_host->writef(ps->s, "+OK bye\r\n");
        pop3_close(ps);
        return;
    }
    pop3_enter_state(ps, POP3_ST_UPDATE);
    petrel_write *w = pop3_host->write_new(ps->s);
    int rc = w ? pop3_update_build(ps, w) : PETREL_ENOMEM;
    if (rc == 0) rc = pop3_host->write_submit(w);
    if (rc == 0) return; /* on_write_done answers, after the commit */
    pop3_host->write_free(&w);
    pop3_unlock(ps);
    pop3_host->log(ps->s, PETREL_LOG_ERROR, "event=pop3_update_failed rc=%d", rc);
    pop3_host->writef(ps->s, "-ERR [SYS/TEMP] deleted messages not removed, try again\r\n");
    pop3_close(ps);
}

void pop3_write_done(struct pop3_session *ps, petrel_write *w, int rc)
{
    unsigned failed = 0;
    for (uint32_t op = 0; rc == 0 && op < ps->update_ops; op++) {
        int orc = pop3_host->w_result(w, (int)op, 0, NULL, NULL);
        if (orc != 0 && orc != PETREL_ENOTFOUND) /* gone already: that is deleted too */
            failed++;
    }
    pop3_host->write_free(&w);
    pop3_unlock(ps);
    pop3_host->log(ps->s, PETREL_LOG_INFO, "event=pop3_update mode=%s deleted=%u failed=%u rc=%d",
                   ps->l->delete_mode == POP3_DELETE_FLAG_ONLY ? "flag-only" : "allow",
                   ps->update_ops, failed, rc);
    if (rc || failed)
        pop3_host->writef(ps->s, "-ERR [SYS/TEMP] some deleted messages not removed\r\n");
    else
        pop3_host->writef(ps->s, "+OK bye, %u messages deleted\r\n", ps->update_ops);
    pop3_close(ps);
}
