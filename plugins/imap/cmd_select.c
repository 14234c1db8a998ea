/*
 * cmd_select.c - SELECT, EXAMINE, CLOSE, UNSELECT, CHECK and the session's
 * view of the selected mailbox: the UID map (sequence number = index + 1),
 * brought up to date only at the legal points (RFC 3501 5.2, 7.4.1).
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_MAX_MESSAGES 10000000u /* UID map entries of one mailbox */

struct uid_vec {
    uint32_t *v;
    uint32_t n, cap;
    uint32_t first_unseen; /* sequence number, 0 = none */
    int failed;
};

static int uid_collect_cb(const struct petrel_msg_info *m, void *arg)
{
    struct uid_vec *uv = arg;
    if (uv->n == uv->cap) {
        uint32_t cap = uv->cap ? uv->cap * 2 : 64;
        uint32_t *nv = uv->n < IMAP_MAX_MESSAGES ? realloc(uv->v, cap * sizeof(*nv)) : NULL;
        if (!nv) {
            uv->failed = 1;
            return 1;
        }
        uv->v = nv;
        uv->cap = cap;
    }
    uv->v[uv->n++] = m->uid;
    if (!uv->first_unseen && !(m->flags & PETREL_F_SEEN)) uv->first_unseen = uv->n;
    return 0;
}

/*
 * The session's UID map at SELECT: one host call into an array sized from
 * the mailbox's message count in the same read (ABI 1.1 msg_uids), else a
 * callback per message. 0, 1 (stopped: uv->failed) or the host's error.
 */
static int uid_vec_load(petrel_read *r, const struct petrel_mailbox_info *mb, struct uid_vec *uv)
{
    if (PETREL_HOST_HAS(imap_host, msg_uids) && mb->messages <= IMAP_MAX_MESSAGES) {
        uint32_t cap = mb->messages + 16; /* temporary: imap_select builds the runs from it */
        uv->v = malloc(cap * sizeof(*uv->v));
        if (uv->v) {
            uv->cap = cap;
            int rc = imap_host->msg_uids(r, mb->id, uv->v, cap, &uv->n, &uv->first_unseen);
            if (rc != PETREL_ETOOBIG) return rc;
            uv->n = 0; /* the count did not match the messages: the slow way */
            uv->first_unseen = 0;
        }
    }
    return imap_host->msg_list(r, mb->id, 1, UINT32_MAX, uid_collect_cb, uv);
}

/* \Recent messages (UID >= first_recent_uid) from the UID map just built: no second walk. */
static uint32_t uid_vec_recent(const struct uid_vec *uv, const struct petrel_mailbox_info *mb)
{
    if (!mb->first_recent_uid || mb->first_recent_uid >= mb->uidnext) return 0;
    uint32_t lo = 0, hi = uv->n; /* the first index whose UID is >= first_recent_uid */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (uv->v[mid] < mb->first_recent_uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return uv->n - lo;
}

void imap_selected_clear(struct imap_session *is)
{
    if (is->sel.id) imap_host->unwatch(is->s);
    imap_uidmap_clear(&is->sel.map);
    free(is->sel.own);
    free(is->sel.saved);
    free(is->sel.name);
    memset(&is->sel, 0, sizeof(is->sel));
}

static int keyword_cb(const char *name, void *arg)
{
    struct imap_session *is = arg;
    imap_host->writef(is->s, " %s", name);
    return 0;
}

/*
 * The SELECT/EXAMINE parameters (RFC 4466 2.1): CONDSTORE (RFC 7162 3.1.8) and
 * QRESYNC (...) (3.2.5), in a list after the name. 0, or -1 (reply sent).
 */
static int select_params(struct imap_session *is, int *cs_r, struct imap_qresync_req *q)
{
    struct imap_parser *p = is->p;
    *cs_r = 0;
    memset(q, 0, sizeof(*q));
    if (p->nargs < 1 || !imap_arg_is_string(&p->args[0])) goto bad;
    if (p->nargs == 1) return 0;
    if (p->args[1].type != IMAP_ARG_LIST || p->args[1].end != p->nargs || p->nargs == 2) goto bad;
    for (uint32_t j = 2; j < p->nargs;) {
        if (imap_arg_is_atom(p, &p->args[j], "CONDSTORE") && !*cs_r) {
            *cs_r = 1;
            j++;
        } else if (imap_arg_is_atom(p, &p->args[j], "QRESYNC") && !q->on && j + 1 < p->nargs) {
            if (imap_qresync_parse(is, j + 1, q)) return -1;
            j = p->args[j + 1].type == IMAP_ARG_LIST ? p->args[j + 1].end : j + 2;
        } else {
            imap_uidset_free(&q->known);
            goto bad;
        }
    }
    return 0;
bad:
    imap_reply_bad(is, "SELECT/EXAMINE mailbox [(CONDSTORE) | (QRESYNC (uidvalidity modseq ..))]");
    return -1;
}

/*
 * The end of SELECT/EXAMINE, after any QRESYNC output: this session takes \Recent of
 * the messages below clear_below (0: none) in a commit, then the tagged OK.
 */
static void select_finish(struct imap_session *is, uint32_t clear_below)
{
    if (clear_below) {
        petrel_write *w = imap_host->write_new(is->s);
        if (w && imap_host->w_clear_recent(w, is->sel.id, clear_below) >= 0 &&
            imap_host->write_submit(w) == 0) {
            is->pending = IMAP_PEND_SELECT;
            is->mode = IMAP_MODE_WAIT;
            return;
        }
        imap_host->write_free(&w);
    }
    imap_reply(is, "OK", "[%s] %s completed", is->sel.readonly ? "READ-ONLY" : "READ-WRITE",
               is->p->name);
}

static void imap_select(struct imap_session *is, int readonly)
{
    struct imap_parser *p = is->p;
    char name[IMAP_MAX_NAME * 2];
    int cs;
    struct imap_qresync_req q;
    if (select_params(is, &cs, &q)) return;
    if (cs || q.on) imap_condstore_enable(is);
    if (is->state == IMAP_STATE_SELECTED) {
        /* a failed SELECT leaves nothing selected; [CLOSED] (RFC 9051 7.1, RFC 7162
         * 3.2.11) separates the old mailbox's responses from the new one's */
        imap_state_enter(is, IMAP_STATE_AUTH);
        imap_host->writef(is->s, "* OK [CLOSED] Previous mailbox closed\r\n");
    }
    if (imap_mailbox_arg(is, &p->args[0], name, sizeof(name))) {
        imap_uidset_free(&q.known);
        return;
    }
    petrel_read *r = imap_host->read_begin(is->s);
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    struct uid_vec uv = {0};
    int rc = r ? imap_host->mailbox_get(r, name, &mb) : PETREL_EIO;
    if (rc == 0) rc = uid_vec_load(r, &mb, &uv);
    if (rc == 1) rc = 0;
    if (rc == 0 && !uv.failed) rc = imap_uidmap_build(&is->sel.map, uv.v, uv.n);
    if (rc || uv.failed) {
        imap_uidmap_clear(&is->sel.map);
        imap_host->read_end(&r);
        free(uv.v);
        imap_uidset_free(&q.known);
        imap_reply(is, "NO",
                   rc == PETREL_ENOTFOUND ? "[NONEXISTENT] No such mailbox"
                                          : "[UNAVAILABLE] Cannot open the mailbox");
        return;
    }
    uint32_t recent = uid_vec_recent(&uv, &mb);
    uint32_t exists = uv.n;
    free(uv.v); /* the map holds the UIDs now, as runs */
    imap_host->writef(is->s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
    imap_host->mailbox_keywords(r, mb.id, keyword_cb, is);
    imap_host->writef(is->s, ")\r\n* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n",
                      readonly ? "" : "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*");
    imap_host->writef(is->s, "* %u EXISTS\r\n", exists);
    if (is->rev2) { /* RFC 9051 6.3.2: no RECENT / UNSEEN; the mailbox's name in a LIST */
        imap_host->write(is->s, "* LIST () \"/\" ", 14);
        imap_write_mailbox(is, name);
        imap_host->write(is->s, "\r\n", 2);
        recent = 0; /* \Recent is left to IMAP4rev1 sessions */
    } else {
        imap_host->writef(is->s, "* %u RECENT\r\n", recent);
        if (uv.first_unseen)
            imap_host->writef(is->s, "* OK [UNSEEN %u] First unseen\r\n", uv.first_unseen);
    }
    imap_host->writef(is->s,
                      "* OK [UIDVALIDITY %u] UIDs valid\r\n* OK [UIDNEXT %u] Predicted next UID\r\n"
                      "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
                      mb.uidvalidity, mb.uidnext, (unsigned long long)mb.highestmodseq);
    is->sel.id = mb.id;
    is->sel.uidvalidity = mb.uidvalidity;
    is->sel.highestmodseq = mb.highestmodseq;
    is->sel.synced_modseq = mb.highestmodseq;
    is->sel.readonly = readonly;
    is->sel.first_recent_uid = recent ? mb.first_recent_uid : UINT32_MAX;
    is->sel.name = strdup(name); /* NULL: every sync lists the UIDs */
    struct imap_resync *rs = NULL;
    rc = imap_qresync_collect(is, r, &q, mb.uidnext, &rs); /* same snapshot as above */
    imap_host->read_end(&r);
    imap_uidset_free(&q.known);
    if (rc) { /* nothing is selected: the client must not take the resync as done */
        imap_selected_clear(is);
        imap_reply(is, "NO", "[UNAVAILABLE] Cannot resynchronise the mailbox");
        return;
    }
    imap_state_enter(is, IMAP_STATE_SELECTED);
    imap_host->watch(is->s, mb.id);
    uint32_t clear_below = !readonly && recent ? mb.uidnext : 0;
    if (rs) { /* VANISHED (EARLIER) and the changed FLAGS, streamed; then the rest */
        rs->then = select_finish;
        rs->then_arg = clear_below;
        imap_resync_start(is, rs);
        return;
    }
    select_finish(is, clear_below);
}

void imap_select_write_done(struct imap_session *is, petrel_write *w, int rc)
{
    (void)w;
    if (rc) imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_clear_recent_failed rc=%d", rc);
    imap_reply(is, "OK", "[READ-WRITE] %s completed", is->p->name);
}

void imap_cmd_select(struct imap_session *is)
{
    imap_select(is, 0);
}

void imap_cmd_examine(struct imap_session *is)
{
    imap_select(is, 1);
}

void imap_cmd_unselect(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "UNSELECT takes no arguments");
        return;
    }
    imap_state_enter(is, IMAP_STATE_AUTH);
    imap_reply(is, "OK", "UNSELECT completed");
}

/* CLOSE expunges \Deleted messages of a read-write mailbox silently. */
void imap_cmd_close(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "CLOSE takes no arguments");
        return;
    }
    if (imap_close_expunge(is)) return; /* imap_expunge_write_done answers */
    imap_state_enter(is, IMAP_STATE_AUTH);
    imap_reply(is, "OK", "CLOSE completed");
}

void imap_cmd_check(struct imap_session *is)
{
    if (is->p->nargs) {
        imap_reply_bad(is, "CHECK takes no arguments");
        return;
    }
    imap_selected_sync(is, 1);
    imap_reply(is, "OK", "CHECK completed");
}

/* ------------------------------------------------------------ sync */

static int uid_find(const uint32_t *v, uint32_t n, uint32_t uid, uint32_t *idx_r)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *idx_r = lo;
    return lo < n && v[lo] == uid;
}

struct flag_ctx {
    struct imap_session *is;
    uint64_t maxmodseq;
    uint32_t last_uid;
};

static int flag_changed_cb(const struct petrel_msg_info *m, void *arg)
{
    struct flag_ctx *fc = arg;
    struct imap_session *is = fc->is;
    if (m->modseq > fc->maxmodseq) fc->maxmodseq = m->modseq;
    if (m->uid > fc->last_uid) /* new to the client: it fetches what it needs */
        return 0;
    uint32_t lo = 0, hi = is->sel.nown; /* own changes are sorted by uid (the sync sorts) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (is->sel.own[mid].uid < m->uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < is->sel.nown && is->sel.own[lo].uid == m->uid; lo++)
        if (is->sel.own[lo].modseq == m->modseq) return 0; /* already reported */
    uint32_t seq = imap_uidmap_seq_of(&is->sel.map, m->uid);
    if (!seq) return 0;
    imap_host->writef(is->s, "* %u FETCH (UID %u FLAGS ", seq, m->uid);
    imap_write_flags(is, m->flags, m->keywords, m->nkeywords);
    if (is->condstore) imap_host->writef(is->s, " MODSEQ (%llu)", (unsigned long long)m->modseq);
    imap_host->write(is->s, ")\r\n", 3);
    return 0;
}

static int own_cmp(const void *a, const void *b)
{
    const struct imap_own_change *x = a, *y = b;
    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

struct held_ctx {
    const struct imap_selected *sel;
    uint64_t min; /* the lowest modseq of an expunge still in the map */
};

static int held_min_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    struct held_ctx *hc = arg;
    if (modseq < hc->min && imap_uidmap_seq_of(&hc->sel->map, uid)) hc->min = modseq;
    return 0;
}

static int vanished_max_cb(uint32_t uid, uint64_t modseq, void *arg)
{
    (void)uid;
    uint64_t *max = arg;
    if (modseq > *max) *max = modseq;
    return 0;
}

/*
 * The expunges of a legal point: the UIDs of the map that are not in now (the
 * store's, ascending) leave it, and the client hears of each in ascending order,
 * its number valid after the previous removal. A removal that splits a run can
 * fail for memory: then the remaining expunges wait for the next legal point.
 */
static void sync_expunges(struct imap_session *is, const struct uid_vec *now)
{
    struct imap_selected *sel = &is->sel;
    /* QRESYNC (RFC 7162 3.2.10.2): one "* VANISHED uids" instead of the EXPUNGEs */
    struct imap_setw vw = {.prefix = "* VANISHED "};
    uint32_t idx;
    for (uint32_t seq = 1; seq <= imap_uidmap_count(&sel->map);) {
        uint32_t uid = imap_uidmap_uid_at(&sel->map, seq);
        if (uid_find(now->v, now->n, uid, &idx)) {
            seq++;
            continue;
        }
        if (imap_uidmap_remove(&sel->map, seq)) break;
        if (is->qresync)
            imap_setw_add(is, &vw, uid);
        else
            imap_host->writef(is->s, "* %u EXPUNGE\r\n", seq);
    }
    imap_setw_end(is, &vw);
}

/*
 * 1 when no UID came or went since the last full sync: the store's uidnext and
 * message count (mb, this read's) are what that sync saw (UIDs are only ever
 * assigned from uidnext, so an unchanged uidnext means no new UID and an
 * unchanged count then means none left) and, for a sync that may expunge,
 * the map holds no expunged UID back. The map is then already right.
 */
static int sync_uids_unchanged(const struct imap_selected *sel,
                               const struct petrel_mailbox_info *mb, int have_mb, int expunge_ok)
{
    return have_mb && sel->sync_uidnext && mb->uidnext == sel->sync_uidnext &&
           mb->messages == sel->sync_messages &&
           (!expunge_ok || imap_uidmap_count(&sel->map) == sel->sync_messages);
}

/*
 * Lists every UID of the store: expunges (expunge_ok) and new UIDs go into the
 * map (and to the client). *held_r: expunged UIDs the map keeps for now. 0, or
 * -1 when the listing failed (nothing changed).
 */
static int sync_uids_full(struct imap_session *is, petrel_read *r,
                          const struct petrel_mailbox_info *mb, int have_mb, int expunge_ok,
                          uint32_t *held_r)
{
    struct imap_selected *sel = &is->sel;
    struct uid_vec now = {0};
    sel->sync_uidnext = 0;
    int rc = imap_host->msg_list(r, sel->id, 1, UINT32_MAX, uid_collect_cb, &now);
    if ((rc && rc != 1) || now.failed) {
        free(now.v);
        return -1;
    }
    uint32_t last = imap_uidmap_last(&sel->map), idx;
    if (expunge_ok) sync_expunges(is, &now);
    uid_find(now.v, now.n, last + 1, &idx);
    /* expunged, still in the map (!expunge_ok, or no memory for a run split) */
    *held_r = imap_uidmap_count(&sel->map) - idx;
    uint32_t added = 0;
    while (idx + added < now.n && imap_uidmap_append(&sel->map, now.v[idx + added]) == 0)
        added++;
    if (have_mb && idx + added == now.n && mb->messages == now.n) {
        sel->sync_uidnext = mb->uidnext; /* the map has every UID of this snapshot */
        sel->sync_messages = now.n;
    }
    if (added) {
        imap_host->writef(is->s, "* %u EXISTS\r\n", imap_uidmap_count(&sel->map));
        if (!is->rev2) {
            /* RFC 3501 2.3.2 / 7.3.2: new messages are \Recent in this IMAP4rev1 session
             * (docs/imap.md: they are not taken from the store, the next SELECT sees them too) */
            uint32_t first_new = now.v[idx];
            if (first_new < sel->first_recent_uid) sel->first_recent_uid = first_new;
            uint32_t k = imap_uidmap_lower_seq(&sel->map, sel->first_recent_uid);
            imap_host->writef(is->s, "* %u RECENT\r\n", imap_uidmap_count(&sel->map) + 1 - k);
        }
    }
    free(now.v);
    return 0;
}

/*
 * Compares the store's UIDs with the session's map. Expunges are sent (in
 * ascending order, each number valid after the previous removal) only when
 * expunge_ok; otherwise the expunged UIDs stay in the map for now.
 */
void imap_selected_sync(struct imap_session *is, int expunge_ok)
{
    struct imap_selected *sel = &is->sel;
    petrel_read *r = imap_host->read_begin(is->s);
    if (!r) return;
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    int have_mb = sel->name && imap_host->mailbox_get(r, sel->name, &mb) == 0 && mb.id == sel->id &&
                  mb.uidvalidity == sel->uidvalidity;
    uint32_t last = imap_uidmap_last(&sel->map), held;
    if (sync_uids_unchanged(sel, &mb, have_mb, expunge_ok)) {
        held = imap_uidmap_count(&sel->map) - sel->sync_messages;
    } else if (sync_uids_full(is, r, &mb, have_mb, expunge_ok, &held)) {
        imap_host->read_end(&r);
        return;
    }
    uint64_t before = sel->highestmodseq;
    if (sel->nown > 1) qsort(sel->own, sel->nown, sizeof(*sel->own), own_cmp);
    struct flag_ctx fc = {is, 0, last};
    imap_host->msg_changed_since(r, sel->id, sel->highestmodseq, flag_changed_cb, &fc);
    if (fc.maxmodseq > sel->highestmodseq) sel->highestmodseq = fc.maxmodseq;
    if (expunge_ok) {
        /* every change of this snapshot is reported now: its highest modseq is the
         * messages' (reported above) or an expunge record's */
        uint64_t vmax = 0;
        imap_host->msg_vanished_since(r, sel->id, before, vanished_max_cb, &vmax);
        sel->synced_modseq = vmax > sel->highestmodseq ? vmax : sel->highestmodseq;
    } else if (held && is->qresync) {
        /* expunges held back while MODSEQs past them went out: a HIGHESTMODSEQ below the
         * first of them, which the client must prefer (RFC 7162 6; RFC 5162 erratum 1810) */
        struct held_ctx hc = {sel, UINT64_MAX};
        imap_host->msg_vanished_since(r, sel->id, sel->synced_modseq, held_min_cb, &hc);
        /* records past synced_modseq dropped (vanished_keep): a held one may be older */
        uint64_t floor = have_mb ? imap_floor_of(&mb) : imap_vanished_floor(is, r, NULL);
        if (floor > sel->synced_modseq) hc.min = sel->synced_modseq + 1;
        if (hc.min != UINT64_MAX && hc.min > 1)
            imap_host->writef(is->s, "* OK [HIGHESTMODSEQ %llu] Expunges pending\r\n",
                              (unsigned long long)(hc.min - 1));
    }
    sel->nown = 0;
    imap_host->read_end(&r);
}

/* Appends (uid, modseq) to the changes the next sync does not echo. 0, or -1 (no memory). */
static int own_add(struct imap_selected *sel, uint32_t uid, uint64_t modseq)
{
    if (sel->nown == sel->owncap) {
        uint32_t cap = sel->owncap ? sel->owncap * 2 : 16;
        struct imap_own_change *nv = realloc(sel->own, cap * sizeof(*nv));
        if (!nv) return -1; /* the change is echoed once more: harmless */
        sel->own = nv;
        sel->owncap = cap;
    }
    sel->own[sel->nown].uid = uid;
    sel->own[sel->nown++].modseq = modseq;
    return 0;
}

void imap_selected_own(struct imap_session *is, petrel_write *w, const uint32_t *uids, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint64_t modseq = 0;
        if (imap_host->w_result(w, (int)k, 0, NULL, &modseq) != 0 || modseq == 0) continue;
        if (own_add(&is->sel, uids[k], modseq)) return;
    }
}

void imap_selected_reported(struct imap_session *is, uint32_t uid, uint64_t modseq)
{
    if (modseq > is->sel.highestmodseq) (void)own_add(&is->sel, uid, modseq);
}
