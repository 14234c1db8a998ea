/*
 * cmd_qresync.c - QRESYNC (RFC 7162 3.2): UID sets of the client, the
 * VANISHED (EARLIER) response from the store's expunge records, and the
 * (QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])) parameter of
 * SELECT/EXAMINE. The live "* VANISHED uids" that replaces EXPUNGE is sent by
 * imap_selected_sync (cmd_select.c).
 *
 * The store keeps every expunge record ((mailbox, modseq) -> uid) for the
 * mailbox's life, so VANISHED (EARLIER) is exact: only UIDs expunged after
 * the client's modseq. The message-sequence match data (3.2.5.2) exists for
 * servers with a shorter history: it is checked and otherwise ignored. If a
 * collection would pass IMAP_MAX_VANISHED records, the RFC's fallback is
 * used instead: every UID of the client's set that is not in the mailbox.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

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

/* The fallback: UIDs of a range that are not in the mailbox (gaps between present UIDs). */
struct gap_ctx {
    struct imap_session *is;
    struct imap_setw *w;
    uint32_t next; /* the next UID not yet known to be present or reported */
};

static int gap_cb(const struct petrel_msg_info *m, void *arg)
{
    struct gap_ctx *g = arg;
    for (uint32_t u = g->next; u < m->uid; u++)
        imap_setw_add(g->is, g->w, u);
    g->next = m->uid + 1;
    return 0;
}

static int vanished_max_uid_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    (void)modseq;
    uint32_t *max = arg;
    if (uid > *max) *max = uid;
    return 0;
}

void imap_vanished_earlier(struct imap_session *is, petrel_read *r, uint64_t modseq,
                           const struct imap_uidset *u)
{
    struct imap_setw w = {.prefix = "* VANISHED (EARLIER) "};
    struct vanished_vec vv = {0};
    int rc = imap_host->msg_vanished_since(r, is->sel.id, modseq, vanished_collect_cb, &vv);
    if (rc == 0 && !vv.over) {
        if (vv.n > 1) qsort(vv.v, vv.n, sizeof(uint32_t), u32_cmp);
        for (uint32_t k = 0; k < vv.n; k++)
            if (uidset_has(u, vv.v[k])) imap_setw_add(is, &w, vv.v[k]);
    } else if (vv.over) {
        /* RFC 7162 3.2.5.1 / 3.2.6: report every UID of the set that is not there */
        uint32_t umax = imap_uidmap_last(&is->sel.map); /* no UID past */
        imap_host->msg_vanished_since(r, is->sel.id, modseq, vanished_max_uid_cb, &umax);
        imap_host->log(is->s, PETREL_LOG_INFO, "event=imap_vanished_fallback records=%u", vv.n);
        for (size_t k = 0; k < u->n && u->r[k].lo <= umax; k++) {
            uint32_t hi = u->r[k].hi < umax ? u->r[k].hi : umax;
            struct gap_ctx g = {is, &w, u->r[k].lo};
            if (imap_host->msg_list(r, is->sel.id, u->r[k].lo, hi, gap_cb, &g) < 0) break;
            for (uint64_t x = g.next; x <= hi; x++)
                imap_setw_add(is, &w, (uint32_t)x);
        }
    } else {
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_vanished_failed rc=%d", rc);
    }
    free(vv.v);
    imap_setw_end(is, &w);
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

struct qr_fetch_ctx {
    struct imap_session *is;
    const struct imap_uidset *known;
};

static int qr_changed_cb(const struct petrel_msg_info *m, void *arg)
{
    struct qr_fetch_ctx *c = arg;
    struct imap_session *is = c->is;
    uint32_t seq = uidset_has(c->known, m->uid) ? imap_uidmap_seq_of(&is->sel.map, m->uid) : 0;
    if (!seq) return 0;
    imap_host->writef(is->s, "* %u FETCH (UID %u FLAGS ", seq, m->uid);
    imap_write_flags(is, m->flags, m->keywords, m->nkeywords);
    imap_host->writef(is->s, " MODSEQ (%llu))\r\n", (unsigned long long)m->modseq);
    return 0;
}

void imap_qresync_select(struct imap_session *is, petrel_read *r, const struct imap_qresync_req *q,
                         uint32_t uidnext)
{
    if (!q->on || q->uidvalidity != is->sel.uidvalidity) return; /* 3.2.5: ignored */
    struct imap_range all = {1, uidnext > 1 ? uidnext - 1 : 1};
    struct imap_uidset every = {&all, uidnext > 1 ? 1 : 0};
    const struct imap_uidset *known = q->known.n ? &q->known : &every;
    /* VANISHED (EARLIER) first, then the FETCHes (3.2.5.1, 3.2.6) */
    imap_vanished_earlier(is, r, q->modseq, known);
    struct qr_fetch_ctx c = {is, known};
    int rc = imap_host->msg_changed_since(r, is->sel.id, q->modseq, qr_changed_cb, &c);
    if (rc < 0) imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_qresync_failed rc=%d", rc);
}
