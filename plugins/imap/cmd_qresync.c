/*
 * cmd_qresync.c - QRESYNC (RFC 7162 3.2): UID sets of the client, the
 * VANISHED (EARLIER) response from the store's expunge records, and the
 * (QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])) parameter of
 * SELECT/EXAMINE. The live "* VANISHED uids" that replaces EXPUNGE is sent by
 * imap_selected_sync (cmd_select.c). The resync output (SELECT's and UID FETCH's)
 * is collected under one read snapshot and streamed (struct imap_resync, stream.c).
 *
 * The store keeps the last vanished_keep expunge records ((mailbox, modseq) ->
 * uid) of a mailbox, so VANISHED (EARLIER) is exact (only UIDs expunged after
 * the client's modseq) while the client's modseq is at or past the mailbox's
 * floor. Below it, or if a collection would pass IMAP_MAX_VANISHED records,
 * the RFC's fallback is used: every UID of the client's set (below UIDNEXT)
 * that is not in the mailbox. The message-sequence match data (3.2.5.2) is
 * checked and otherwise ignored.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_RESYNC_LINE 8192 /* bytes of one "* VANISHED (EARLIER)" line */
#define IMAP_RESYNC_BATCH 256 /* changed messages per read snapshot */

void imap_uidset_free(struct imap_uidset *u)
{
    free(u->r);
    u->r = NULL;
    u->n = 0;
}

int imap_uidset_parse(const char *s, size_t len, int star_ok, uint32_t star,
                      struct imap_uidset *u_r)
{
    size_t n = 0;
    u_r->r = NULL;
    u_r->n = 0;
    struct imap_range *r;
    int rc = imap_set_parse_alloc(s, len, &r, &n);
    if (rc) return rc;
    if (n == 0) {
        free(r);
        return -1;
    }
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if ((r[i].lo == IMAP_SEQ_STAR || r[i].hi == IMAP_SEQ_STAR) && !star_ok) {
            free(r);
            return -1;
        }
        uint32_t lo, hi;
        imap_range_bounds(&r[i], star, &lo, &hi);
        if (hi == 0) continue; /* '*' of an empty mailbox */
        r[out].lo = lo ? lo : 1;
        r[out++].hi = hi;
    }
    size_t m = imap_ranges_merge(r, out);
    u_r->r = r;
    u_r->n = m;
    return 0;
}

static int uidset_has(const struct imap_uidset *u, uint32_t uid)
{
    size_t lo = 0, hi = u->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->r[mid].hi < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < u->n && u->r[lo].lo <= uid;
}

struct vanished_vec {
    uint32_t *v;
    uint32_t n, cap;
    int over; /* past IMAP_MAX_VANISHED or out of memory: use the fallback */
};

static int vanished_collect_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    (void)modseq;
    struct vanished_vec *vv = arg;
    if (vv->n == vv->cap) {
        uint32_t cap = vv->cap ? vv->cap * 2 : 64;
        uint32_t *nv =
            vv->cap < IMAP_MAX_VANISHED ? realloc(vv->v, (size_t)cap * sizeof(*nv)) : NULL;
        if (!nv) {
            vv->over = 1;
            return 1;
        }
        vv->v = nv;
        vv->cap = cap;
    }
    vv->v[vv->n++] = uid;
    return 0;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Growable merged UID ranges (the pending VANISHED set). */
struct range_vec {
    struct imap_range *r;
    size_t n, cap;
    int failed; /* out of memory */
};

static void range_vec_add(struct range_vec *v, uint32_t lo, uint32_t hi)
{
    if (v->failed) return;
    if (v->n && v->r[v->n - 1].hi + 1 == lo) {
        v->r[v->n - 1].hi = hi;
        return;
    }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        struct imap_range *nr = realloc(v->r, cap * sizeof(*nr));
        if (!nr) {
            v->failed = 1;
            return;
        }
        v->r = nr;
        v->cap = cap;
    }
    v->r[v->n++] = (struct imap_range){lo, hi};
}

/* The fallback: UIDs of a range that are not in the mailbox (gaps between present UIDs). */
struct gap_ctx {
    struct range_vec *v;
    uint32_t next; /* the next UID not yet known to be present or reported */
};

static int gap_cb(const struct petrel_msg_info *m, void *arg)
{
    struct gap_ctx *g = arg;
    if (g->next < m->uid) range_vec_add(g->v, g->next, m->uid - 1);
    g->next = m->uid + 1;
    return g->v->failed;
}

static int vanished_max_uid_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    (void)modseq;
    uint32_t *max = arg;
    if (uid > *max) *max = uid;
    return 0;
}

/* RFC 7162 3.2.5.1 / 3.2.6: every UID of the set that is not in the mailbox.
 * uidnext: the mailbox's (no UID at or past it ever existed), 0 when unknown. */
static int vanished_fallback(struct imap_session *is, petrel_read *r, uint64_t modseq,
                             const struct imap_uidset *u, uint32_t uidnext, struct range_vec *v)
{
    uint32_t umax = imap_uidmap_last(&is->sel.map);
    if (uidnext && uidnext != UINT32_MAX)
        umax = uidnext - 1; /* covers expunges whose records were dropped */
    else
        imap_host->msg_vanished_since(r, is->sel.id, modseq, vanished_max_uid_cb, &umax);
    for (size_t k = 0; k < u->n && u->r[k].lo <= umax && !v->failed; k++) {
        uint32_t hi = u->r[k].hi < umax ? u->r[k].hi : umax;
        struct gap_ctx g = {v, u->r[k].lo};
        int rc = imap_host->msg_list(r, is->sel.id, u->r[k].lo, hi, gap_cb, &g);
        if (rc < 0) return rc;
        if (g.next <= hi && g.next != 0) range_vec_add(v, g.next, hi);
    }
    return v->failed ? PETREL_ENOMEM : 0;
}

int imap_vanished_collect(struct imap_session *is, petrel_read *r, uint64_t modseq,
                          const struct imap_uidset *u, struct imap_resync *rs)
{
    struct vanished_vec vv = {0};
    struct range_vec v = {0};
    uint32_t uidnext = 0;
    /* records of older expunges dropped (vanished_keep): the list would be short */
    int trimmed = modseq < imap_vanished_floor(is, r, &uidnext);
    int rc = trimmed ? 0 : imap_host->msg_vanished_since(r, is->sel.id, modseq,
                                                         vanished_collect_cb, &vv);
    if (rc == 1) rc = 0;
    if (rc == 0 && !vv.over && !trimmed) {
        if (vv.n > 1) qsort(vv.v, vv.n, sizeof(uint32_t), u32_cmp);
        uint32_t m = 0;
        for (uint32_t k = 0; k < vv.n; k++)
            if (uidset_has(u, vv.v[k])) vv.v[m++] = vv.v[k];
        v.r = m ? malloc(m * sizeof(*v.r)) : NULL;
        if (m && !v.r) rc = PETREL_ENOMEM;
        if (v.r) v.n = imap_ranges_from_uids(vv.v, m, v.r);
    } else if (rc == 0) {
        imap_host->log(is->s, PETREL_LOG_INFO, "event=imap_vanished_fallback records=%u trimmed=%d",
                       vv.n, trimmed);
        rc = vanished_fallback(is, r, modseq, u, uidnext, &v);
    }
    free(vv.v);
    if (rc) {
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_vanished_failed rc=%d", rc);
        free(v.r);
        return rc < 0 ? rc : PETREL_EIO;
    }
    rs->van = v.r;
    rs->nvan = v.n;
    return 0;
}

/* A decimal atom into *v_r, at most max. 0 or -1. */
static int arg_number(const struct imap_parser *p, const struct imap_arg *a, uint64_t max,
                      uint64_t *v_r)
{
    if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 20) return -1;
    const char *s = imap_arg_str(p, a);
    uint64_t v = 0;
    for (size_t i = 0; i < a->len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *v_r = v;
    return 0;
}

/* Elements of a sequence set without '*' (for the match data); 0 when invalid. */
static uint64_t set_count(const struct imap_parser *p, const struct imap_arg *a)
{
    uint64_t c = 0;
    if (a->type != IMAP_ARG_ATOM) return 0;
    const char *s = imap_arg_str(p, a);
    size_t n = 0;
    struct imap_range *r;
    if (imap_set_parse_alloc(s, a->len, &r, &n)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].lo == IMAP_SEQ_STAR || r[i].hi == IMAP_SEQ_STAR) {
            free(r);
            return 0;
        }
        uint32_t lo, hi;
        imap_range_bounds(&r[i], 0, &lo, &hi);
        c += (uint64_t)(hi - lo) + 1;
    }
    free(r);
    return c;
}

int imap_qresync_parse(struct imap_session *is, uint32_t i, struct imap_qresync_req *q)
{
    struct imap_parser *p = is->p;
    const struct imap_arg *a = &p->args[i];
    uint64_t v;
    memset(q, 0, sizeof(*q));
    if (!is->qresync) {
        imap_reply_bad(is, "QRESYNC is not enabled (ENABLE QRESYNC first)");
        return -1;
    }
    if (a->type != IMAP_ARG_LIST) goto bad;
    uint32_t j = i + 1, end = a->end;
    if (j >= end || arg_number(p, &p->args[j], UINT32_MAX, &v) || v == 0) goto bad;
    q->uidvalidity = (uint32_t)v;
    if (++j >= end || arg_number(p, &p->args[j], INT64_MAX, &q->modseq)) goto bad;
    j++;
    if (j < end && p->args[j].type == IMAP_ARG_ATOM) {
        int rc = imap_uidset_parse(imap_arg_str(p, &p->args[j]), p->args[j].len, 0, 0, &q->known);
        if (rc == -2) {
            imap_reply(is, "NO", "[SERVERBUG] Out of memory");
            return -1;
        }
        if (rc) goto bad;
        j++;
    }
    if (j < end) { /* (known-sequence-set known-uid-set), RFC 7162 3.2.5.2 */
        const struct imap_arg *m = &p->args[j];
        if (m->type != IMAP_ARG_LIST || m->end != end || m->end != j + 3) goto bad;
        uint64_t cs = set_count(p, &p->args[j + 1]), cu = set_count(p, &p->args[j + 2]);
        if (cs == 0 || cs != cu) goto bad;
        j = m->end;
    }
    if (j != end) goto bad;
    q->on = 1;
    return 0;
bad:
    imap_uidset_free(&q->known);
    imap_reply_bad(is, "QRESYNC (uidvalidity modseq [known-uids [(seq-set uid-set)]])");
    return -1;
}

/* The changed messages of SELECT's resync: their UIDs, in the SELECT's snapshot. */
struct qr_changed {
    const struct imap_session *is;
    const struct imap_uidset *known;
    uint32_t *v;
    uint32_t n, cap;
    int failed;
};

static int qr_changed_cb(const struct petrel_msg_info *m, void *arg)
{
    struct qr_changed *c = arg;
    if (!uidset_has(c->known, m->uid) || !imap_uidmap_seq_of(&c->is->sel.map, m->uid)) return 0;
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 64;
        /* each UID is in the map once: the map's count bounds the array */
        uint32_t *nv = c->n < imap_uidmap_count(&c->is->sel.map)
                           ? realloc(c->v, (size_t)cap * sizeof(*nv))
                           : NULL;
        if (!nv) {
            c->failed = 1;
            return 1;
        }
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = m->uid;
    return 0;
}

int imap_qresync_collect(struct imap_session *is, petrel_read *r, const struct imap_qresync_req *q,
                         uint32_t uidnext, struct imap_resync **rs_r)
{
    *rs_r = NULL;
    if (!q->on || q->uidvalidity != is->sel.uidvalidity) return 0; /* 3.2.5: ignored */
    struct imap_range all = {1, uidnext > 1 ? uidnext - 1 : 1};
    struct imap_uidset every = {&all, uidnext > 1 ? 1 : 0};
    const struct imap_uidset *known = q->known.n ? &q->known : &every;
    struct imap_resync *rs = calloc(1, sizeof(*rs));
    if (!rs) return PETREL_ENOMEM;
    int rc = imap_vanished_collect(is, r, q->modseq, known, rs);
    struct qr_changed c = {.is = is, .known = known};
    if (rc == 0) rc = imap_host->msg_changed_since(r, is->sel.id, q->modseq, qr_changed_cb, &c);
    if (rc >= 0 && c.failed) rc = PETREL_ENOMEM;
    if (rc == 1) rc = 0; /* a callback's stop: only c.failed stops it */
    if (rc) {
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_qresync_failed rc=%d", rc);
        free(c.v);
        imap_resync_free(rs);
        return rc < 0 ? rc : PETREL_EIO;
    }
    if (c.n > 1) qsort(c.v, c.n, sizeof(uint32_t), u32_cmp);
    rs->changed = c.v;
    rs->nchanged = c.n;
    *rs_r = rs;
    return 0;
}

void imap_resync_free(void *job)
{
    struct imap_resync *rs = job;
    if (!rs) return;
    free(rs->van);
    free(rs->changed);
    free(rs);
}

/* One "* VANISHED (EARLIER) set" line of at most IMAP_RESYNC_LINE bytes. */
static int resync_vanished_line(struct imap_session *is, struct imap_resync *rs)
{
    static const char prefix[] = "* VANISHED (EARLIER) ";
    char buf[IMAP_RESYNC_LINE];
    size_t len = sizeof(prefix) - 1;
    memcpy(buf, prefix, len);
    len += imap_set_format(rs->van, rs->nvan, &rs->vpos, buf + len, sizeof(buf) - len - 2);
    buf[len++] = '\r';
    buf[len++] = '\n';
    return imap_host->write(is->s, buf, len) ? -1 : 0;
}

/*
 * FETCH (UID FLAGS MODSEQ) of up to IMAP_RESYNC_BATCH changed messages, in a read of
 * their own, while the output has room. The rule: a message's flags are read when its
 * line is written, so they are never older than the snapshot the SELECT's
 * HIGHESTMODSEQ came from (a later change is sent with its own, higher MODSEQ and not
 * repeated by the next sync); a message expunged meanwhile is left to the VANISHED of
 * the next sync.
 */
static int resync_changed_batch(struct imap_session *is, struct imap_resync *rs)
{
    petrel_read *r = imap_host->read_begin(is->s);
    int rc = r ? 0 : PETREL_EIO;
    for (unsigned k = 0; rc == 0 && k < IMAP_RESYNC_BATCH && rs->cpos < rs->nchanged; k++) {
        if (k && !imap_host->writable(is->s)) break;
        uint32_t uid = rs->changed[rs->cpos];
        uint32_t seq = imap_uidmap_seq_of(&is->sel.map, uid);
        struct petrel_msg_info m = {.struct_size = sizeof(m)};
        rc = imap_host->msg_get(r, is->sel.id, uid, &m);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && !seq)) {
            rc = 0;
        } else if (rc == 0) {
            imap_host->writef(is->s, "* %u FETCH (UID %u FLAGS ", seq, uid);
            imap_write_flags(is, m.flags, m.keywords, m.nkeywords);
            imap_host->writef(is->s, " MODSEQ (%llu))\r\n", (unsigned long long)m.modseq);
            imap_selected_reported(is, uid, m.modseq);
        }
        if (rc == 0) rs->cpos++;
    }
    imap_host->read_end(&r);
    if (rc) { /* mid-response: the client must not take a partial resync for a whole one */
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_resync_failed rc=%d", rc);
        imap_host->close(is->s);
        imap_state_enter(is, IMAP_STATE_LOGOUT);
        return -1;
    }
    return 0;
}

static int resync_step(struct imap_session *is, void *job)
{
    struct imap_resync *rs = job;
    int rc = 0;
    if (rs->vpos < rs->nvan)
        rc = resync_vanished_line(is, rs);
    else if (rs->cpos < rs->nchanged)
        rc = resync_changed_batch(is, rs);
    if (rc) return rc;
    return rs->vpos < rs->nvan || rs->cpos < rs->nchanged ? 0 : 1;
}

static void resync_finish(struct imap_session *is, void *job)
{
    struct imap_resync *rs = job;
    rs->then(is, rs->then_arg);
}

static const struct imap_stream_ops resync_ops = {
    .step = resync_step,
    .finish = resync_finish,
    .free = imap_resync_free,
};

void imap_resync_start(struct imap_session *is, struct imap_resync *rs)
{
    imap_stream_start(is, &resync_ops, rs);
}
