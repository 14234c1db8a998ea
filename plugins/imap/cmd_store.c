/*
 * cmd_store.c - STORE / UID STORE, EXPUNGE / UID EXPUNGE (UIDPLUS), CLOSE's
 * silent expunge, and the UID prefix. Changes are one write each; replies
 * follow the durable commit. No EXPUNGE responses during STORE (7.4.1).
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct imap_store {
    uint32_t *uids; /* messages changed, in order */
    uint32_t n;
    int silent;
    int uid_mode;
    int conditional; /* UNCHANGEDSINCE given */
    int close;       /* CLOSE: expunge silently, then leave the mailbox */
};

void imap_store_free(struct imap_session *is)
{
    if (!is->store) return;
    free(is->store->uids);
    free(is->store);
    is->store = NULL;
}

static struct imap_store *store_new(struct imap_session *is, size_t max)
{
    struct imap_store *st = calloc(1, sizeof(*st));
    if (st && max && !(st->uids = calloc(max, sizeof(uint32_t)))) {
        free(st);
        st = NULL;
    }
    if (!st) imap_reply(is, "NO", "[SERVERBUG] Out of memory");
    is->store = st;
    return st;
}

static size_t ranges_count(const struct imap_range *r, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (size_t)(r[i].hi - r[i].lo) + 1;
    return c;
}

/* "tag OK [MODIFIED set]": UIDs for UID STORE, sequence numbers otherwise. */
static void store_reply_modified(struct imap_session *is, const uint32_t *uids, uint32_t n,
                                 int uid_mode)
{
    imap_host->writef(is->s, "%s OK [MODIFIED ", is->p->tag);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = uids[k];
        imap_host->writef(is->s, "%s%u", k ? "," : "",
                          uid_mode ? v : imap_uidmap_lower_seq(&is->sel.map, v));
    }
    imap_host->writef(is->s, "] Conditional %sSTORE failed\r\n", uid_mode ? "UID " : "");
}

static void store_start(struct imap_session *is, int uid_mode, uint32_t a0)
{
    struct imap_parser *p = is->p;
    struct imap_flags fl;
    int op;
    uint64_t unchangedsince = 0;
    int conditional = 0;
    uint32_t set = a0;
    if (p->nargs > a0 + 1 && p->args[a0 + 1].type == IMAP_ARG_LIST) {
        /* (UNCHANGEDSINCE n), RFC 7162 3.2 */
        const struct imap_arg *m = &p->args[a0 + 1];
        if (m->end != a0 + 4 || !imap_arg_is_atom(p, &p->args[a0 + 2], "UNCHANGEDSINCE") ||
            p->args[a0 + 3].type != IMAP_ARG_ATOM)
            goto bad;
        const char *v = imap_arg_str(p, &p->args[a0 + 3]);
        for (; *v; v++) {
            if (*v < '0' || *v > '9' || unchangedsince > (UINT64_MAX - 9) / 10) goto bad;
            unchangedsince = unchangedsince * 10 + (uint64_t)(*v - '0');
        }
        conditional = 1;
        imap_condstore_enable(is);
        a0 += 3; /* the rest as if the modifier were not there */
    }
    if (p->nargs < a0 + 3 || p->args[a0 + 1].type != IMAP_ARG_ATOM) goto bad;
    const char *what = imap_arg_str(p, &p->args[a0 + 1]);
    op = what[0] == '+'   ? PETREL_FLAGS_ADD
         : what[0] == '-' ? PETREL_FLAGS_REMOVE
                          : PETREL_FLAGS_SET;
    const char *w = what + (op != PETREL_FLAGS_SET);
    int silent = strcasecmp(w, "FLAGS.SILENT") == 0;
    if (!silent && strcasecmp(w, "FLAGS") != 0) goto bad;
    const struct imap_arg *fa = &p->args[a0 + 2];
    int rc = fa->type == IMAP_ARG_LIST ? imap_flags_parse(is, a0 + 3, fa->end, &fl)
                                       : imap_flags_parse(is, a0 + 2, p->nargs, &fl);
    if (rc || (fa->type == IMAP_ARG_LIST && fa->end != p->nargs)) goto bad;
    if (is->sel.readonly) {
        imap_reply(is, "NO", "[READ-ONLY] Mailbox is read-only");
        return;
    }
    struct imap_range *r;
    size_t nr;
    rc = imap_seqset_resolve(is, &p->args[set], uid_mode, &r, &nr);
    if (rc) {
        if (rc == -1)
            imap_reply_bad(is, "Invalid sequence set");
        else
            imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    struct imap_store *st = store_new(is, ranges_count(r, nr));
    petrel_write *wr = st ? imap_host->write_new(is->s) : NULL;
    for (size_t k = 0; wr && k < nr; k++)
        for (uint32_t i = r[k].lo; i <= r[k].hi; i++) {
            uint32_t uid = imap_uidmap_uid_at(&is->sel.map, i + 1);
            st->uids[st->n++] = uid;
            imap_host->w_flags(wr, is->sel.id, uid, op, fl.flags, fl.kw, fl.nkw, unchangedsince);
        }
    free(r);
    if (!st) return;
    st->silent = silent;
    st->uid_mode = uid_mode;
    st->conditional = conditional;
    if (conditional && unchangedsince == 0 && st->n) {
        /* UNCHANGEDSINCE 0 never holds (every modseq is > 0); the store reads 0 as "no check" */
        imap_host->write_free(&wr);
        store_reply_modified(is, st->uids, st->n, uid_mode);
        imap_store_free(is);
        return;
    }
    if (!wr || st->n == 0 || imap_host->write_submit(wr) != 0) {
        uint32_t n = st->n;
        imap_host->write_free(&wr);
        imap_store_free(is);
        if (n == 0)
            imap_reply(is, "OK", "STORE completed");
        else
            imap_reply(is, "NO", "[SERVERBUG] Cannot start the change");
        return;
    }
    is->pending = IMAP_PEND_STORE;
    is->mode = IMAP_MODE_WAIT;
    return;
bad:
    imap_reply_bad(is, "STORE set (+|-)FLAGS[.SILENT] (flags)");
}

/*
 * STORE's FETCH responses as a stream (stream.c): IMAP_STORE_OUT_BATCH messages per step,
 * each batch in a read of its own, so a STORE on tens of thousands of messages does not
 * pass the host's 1 MiB output limit. A message's flags are read when its line is written
 * (never older than the commit this STORE made). The job owns both UID lists.
 */
#define IMAP_STORE_OUT_BATCH 256

struct store_out {
    uint32_t *ok; /* changed messages to answer for, in order */
    uint32_t nok, pos;
    uint32_t *mod; /* UNCHANGEDSINCE failures: [MODIFIED set] */
    uint32_t nmod;
    int silent, uid_mode;
};

static void store_out_free(void *job)
{
    struct store_out *o = job;
    free(o->ok);
    free(o->mod);
    free(o);
}

static int store_out_step(struct imap_session *is, void *job)
{
    struct store_out *o = job;
    petrel_read *r = imap_host->read_begin(is->s);
    for (unsigned k = 0; r && k < IMAP_STORE_OUT_BATCH && o->pos < o->nok; k++, o->pos++) {
        if (k && !imap_host->writable(is->s)) break;
        struct petrel_msg_info m = {.struct_size = sizeof(m)};
        if (imap_host->msg_get(r, is->sel.id, o->ok[o->pos], &m) != 0) continue;
        const char *sep = "";
        imap_host->writef(is->s, "* %u FETCH (", imap_uidmap_lower_seq(&is->sel.map, m.uid));
        if (!o->silent) {
            imap_host->write(is->s, "FLAGS ", 6);
            imap_write_flags(is, m.flags, m.keywords, m.nkeywords);
            sep = " ";
        }
        if (o->uid_mode || is->condstore) {
            imap_host->writef(is->s, "%sUID %u", sep, m.uid);
            sep = " ";
        }
        if (is->condstore)
            imap_host->writef(is->s, "%sMODSEQ (%llu)", sep, (unsigned long long)m.modseq);
        imap_host->write(is->s, ")\r\n", 3);
    }
    if (!r) o->pos = o->nok; /* no snapshot: the responses are left out, the reply stands */
    imap_host->read_end(&r);
    return o->pos < o->nok ? 0 : 1;
}

static void store_out_finish(struct imap_session *is, void *job)
{
    struct store_out *o = job;
    imap_selected_sync(is, 0); /* appends only: the numbers of [MODIFIED] stay valid */
    if (o->nmod)
        store_reply_modified(is, o->mod, o->nmod, o->uid_mode);
    else
        imap_reply(is, "OK", "%sSTORE completed", o->uid_mode ? "UID " : "");
}

static const struct imap_stream_ops store_out_ops = {
    .step = store_out_step,
    .finish = store_out_finish,
    .free = store_out_free,
};

void imap_store_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    struct imap_store *st = is->store;
    if (rc) {
        imap_store_free(is);
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_store_failed rc=%d", rc);
        imap_reply(is, "NO", "[UNAVAILABLE] Temporary failure, try again");
        return;
    }
    imap_selected_own(is, w, st->uids, st->n);
    /* RFC 7162: with CONDSTORE on, every untagged FETCH carries UID and MODSEQ (3.2.4); a
     * conditional STORE answers with FETCH (MODSEQ) even when .SILENT (3.1.3) */
    int answer = !st->silent || st->conditional;
    struct store_out *o = calloc(1, sizeof(*o));
    if (o && answer) o->ok = calloc(st->n ? st->n : 1, sizeof(uint32_t));
    if (!o || (answer && !o->ok)) {
        free(o);
        imap_store_free(is);
        imap_reply(is, "NO", "[SERVERBUG] Out of memory"); /* the change itself is done */
        return;
    }
    for (uint32_t k = 0; k < st->n; k++) {
        int orc = imap_host->w_result(w, (int)k, 0, NULL, NULL);
        if (orc == PETREL_EMODIFIED) st->uids[o->nmod++] = st->uids[k]; /* k >= nmod */
        if (orc == 0 && answer) o->ok[o->nok++] = st->uids[k];
    }
    o->mod = st->uids; /* the first nmod entries */
    st->uids = NULL;
    o->silent = st->silent;
    o->uid_mode = st->uid_mode;
    imap_store_free(is);
    imap_stream_start(is, &store_out_ops, o);
}

void imap_cmd_store(struct imap_session *is)
{
    store_start(is, 0, 0);
}

struct deleted_ctx {
    struct imap_session *is;
    petrel_write *w;
    const struct imap_range *r; /* UID EXPUNGE: only these indices */
    size_t nr;
    uint32_t n;
};

static int expunge_cb(const struct petrel_msg_info *m, void *arg)
{
    struct deleted_ctx *c = arg;
    if (!(m->flags & PETREL_F_DELETED)) return 0;
    if (c->r) {
        int in = 0;
        for (size_t k = 0; k < c->nr && !in; k++)
            in = m->uid >= imap_uidmap_uid_at(&c->is->sel.map, c->r[k].lo + 1) &&
                 m->uid <= imap_uidmap_uid_at(&c->is->sel.map, c->r[k].hi + 1);
        if (!in) return 0;
    }
    if (imap_host->w_expunge(c->w, c->is->sel.id, m->uid) >= 0) c->n++;
    return 0;
}

/* Submits the expunge of \Deleted messages (of ranges when not NULL); 1 pending, 0 none, -1. */
static int expunge_start(struct imap_session *is, const struct imap_range *r, size_t nr)
{
    struct deleted_ctx c = {is, imap_host->write_new(is->s), r, nr, 0};
    petrel_read *rd = c.w ? imap_host->read_begin(is->s) : NULL;
    int rc = rd ? imap_host->msg_list(rd, is->sel.id, 1, UINT32_MAX, expunge_cb, &c) : PETREL_EIO;
    imap_host->read_end(&rd);
    if (rc || c.n == 0 || imap_host->write_submit(c.w) != 0) {
        imap_host->write_free(&c.w);
        return rc ? -1 : 0;
    }
    is->store->n = c.n; /* operations: the reply says whether one succeeded */
    is->pending = IMAP_PEND_EXPUNGE;
    is->mode = IMAP_MODE_WAIT;
    return 1;
}

static void expunge_cmd(struct imap_session *is, int uid_mode, uint32_t a0)
{
    struct imap_parser *p = is->p;
    struct imap_range *r = NULL;
    size_t nr = 0;
    if (p->nargs != a0 + (uid_mode ? 1 : 0)) {
        imap_reply_bad(is, uid_mode ? "UID EXPUNGE uid-set" : "EXPUNGE takes no arguments");
        return;
    }
    if (is->sel.readonly) {
        imap_reply(is, "NO", "[READ-ONLY] Mailbox is read-only");
        return;
    }
    if (uid_mode) {
        int rc = imap_seqset_resolve(is, &p->args[a0], 1, &r, &nr);
        if (rc) {
            imap_reply_bad(is, "Invalid UID set");
            return;
        }
        if (nr == 0) {
            free(r);
            imap_reply(is, "OK", "UID EXPUNGE completed");
            return;
        }
    }
    if (!store_new(is, 0)) {
        free(r);
        return;
    }
    is->store->uid_mode = uid_mode;
    int rc = expunge_start(is, r, nr);
    free(r);
    if (rc == 1) return;
    imap_store_free(is);
    if (rc < 0) {
        imap_reply(is, "NO", "[UNAVAILABLE] Cannot expunge now");
        return;
    }
    imap_selected_sync(is, 1);
    imap_reply(is, "OK", "%sEXPUNGE completed", uid_mode ? "UID " : "");
}

void imap_cmd_expunge(struct imap_session *is)
{
    expunge_cmd(is, 0, 0);
}

int imap_close_expunge(struct imap_session *is)
{
    if (is->sel.readonly || !store_new(is, 0)) return 0;
    is->store->close = 1;
    int rc = expunge_start(is, NULL, 0);
    if (rc != 1) imap_store_free(is);
    return rc == 1;
}

void imap_expunge_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    int close = is->store && is->store->close;
    int uid_mode = is->store && is->store->uid_mode;
    int expunged = 0;
    for (uint32_t k = 0; rc == 0 && is->store && k < is->store->n && !expunged; k++)
        expunged = imap_host->w_result(w, (int)k, 0, NULL, NULL) == 0;
    imap_store_free(is);
    if (rc) imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_expunge_failed rc=%d", rc);
    if (close) {
        imap_state_enter(is, IMAP_STATE_AUTH); /* CLOSE sends no EXPUNGE responses */
        imap_reply(is, "OK", "CLOSE completed");
        return;
    }
    if (rc) {
        imap_reply(is, "NO", "[UNAVAILABLE] Temporary failure, try again");
        return;
    }
    imap_selected_sync(is, 1);
    if (is->qresync && expunged) /* RFC 7162 3.2.7, 3.2.9 (never for CLOSE: 3.2.8) */
        imap_reply(is, "OK", "[HIGHESTMODSEQ %llu] %sEXPUNGE completed",
                   (unsigned long long)is->sel.synced_modseq, uid_mode ? "UID " : "");
    else
        imap_reply(is, "OK", "%sEXPUNGE completed", uid_mode ? "UID " : "");
}

void imap_cmd_uid(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    if (p->nargs < 1 || p->args[0].type != IMAP_ARG_ATOM) {
        imap_reply_bad(is, "UID FETCH|STORE|EXPUNGE|COPY|MOVE|SEARCH ...");
        return;
    }
    if (imap_arg_is_atom(p, &p->args[0], "FETCH"))
        imap_fetch_start(is, 1, 1);
    else if (imap_arg_is_atom(p, &p->args[0], "STORE"))
        store_start(is, 1, 1);
    else if (imap_arg_is_atom(p, &p->args[0], "EXPUNGE"))
        expunge_cmd(is, 1, 1);
    else if (imap_arg_is_atom(p, &p->args[0], "SEARCH"))
        imap_search_start(is, 1, 1);
    else if (imap_arg_is_atom(p, &p->args[0], "COPY"))
        imap_uid_copy(is, 0);
    else if (imap_arg_is_atom(p, &p->args[0], "MOVE"))
        imap_uid_copy(is, 1);
    else
        imap_reply_bad(is, "Unknown UID command");
}
