/*
 * cmd_fetch.c - FETCH and UID FETCH. The response is streamed: one message
 * at a time, each in its own short read snapshot, literal bytes in chunks
 * while host->writable() says so; on_writable resumes where it stopped
 * (message, body item, byte offset). No EXPUNGE is sent during FETCH.
 * BINARY (RFC 3516) sends QP/base64 sections decoded by the host.
 */
#include "fetch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void imap_fetch_free(struct imap_session *is)
{
    if (!is->fetch) return;
    imap_host->resume(is->s);
    free(is->fetch->ranges);
    free(is->fetch->seen_uids);
    free(is->fetch);
    is->fetch = NULL;
}

/* Drops a FETCH that has not paused input yet (refused before any response). */
static void fetch_drop(struct imap_session *is)
{
    free(is->fetch->ranges);
    free(is->fetch);
    is->fetch = NULL;
}

/* Writes bytes [off, off + len) of a view. */
static void view_write(struct imap_session *is, const struct petrel_view *v, uint64_t off,
                       uint64_t len)
{
    for (unsigned i = 0; i < v->nseg && len; i++) {
        if (off >= v->seg[i].n) {
            off -= v->seg[i].n;
            continue;
        }
        uint64_t n = v->seg[i].n - off < len ? v->seg[i].n - off : len;
        imap_host->write(is->s, v->seg[i].p + off, (size_t)n);
        len -= n;
        off = 0;
    }
}

static void fetch_write_date(struct imap_session *is, int64_t t)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    imap_host->writef(is->s, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
                      mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The non-body items of one message: "* n FETCH (UID u FLAGS (...) ..." */
static int fetch_write_head(struct imap_session *is, petrel_read *r, uint32_t idx,
                            const struct petrel_msg_info *m)
{
    struct imap_fetch *f = is->fetch;
    const char *sep = "";
    imap_host->writef(is->s, "* %u FETCH (", idx + 1);
    if (f->items & FETCH_UID) {
        imap_host->writef(is->s, "UID %u", m->uid);
        sep = " ";
    }
    if (f->items & FETCH_FLAGS) {
        imap_host->writef(is->s, "%sFLAGS ", sep);
        imap_write_flags(is, m->flags, m->keywords, m->nkeywords);
        imap_selected_reported(is, m->uid, m->modseq);
        sep = " ";
    }
    if (f->items & FETCH_DATE) {
        imap_host->writef(is->s, "%s", sep);
        fetch_write_date(is, m->internal_date);
        sep = " ";
    }
    if (f->items & FETCH_MODSEQ) {
        imap_host->writef(is->s, "%sMODSEQ (%llu)", sep, (unsigned long long)m->modseq);
        sep = " ";
    }
    if (f->items & FETCH_SIZE) {
        imap_host->writef(is->s, "%sRFC822.SIZE %llu", sep, (unsigned long long)m->size);
        sep = " ";
    }
    const char *p;
    size_t n;
    if (f->items & FETCH_ENVELOPE) {
        if (imap_host->msg_envelope(r, is->sel.id, m->uid, &p, &n)) return -1;
        imap_host->writef(is->s, "%sENVELOPE ", sep);
        imap_host->write(is->s, p, n);
        sep = " ";
    }
    for (int ext = 0; ext < 2; ext++) {
        if (!(f->items & (ext ? FETCH_BODYSTRUCTURE : FETCH_BODY))) continue;
        if (imap_host->msg_bodystructure(r, is->sel.id, m->uid, ext, &p, &n)) return -1;
        imap_host->writef(is->s, "%s%s ", sep, ext ? "BODYSTRUCTURE" : "BODY");
        imap_host->write(is->s, p, n);
        sep = " ";
    }
    return 0;
}

/* 1 when bytes [off, off + len) of a view hold a NUL (BINARY answers with literal8). */
static int view_has_nul(const struct petrel_view *v, uint64_t off, uint64_t len)
{
    for (unsigned i = 0; i < v->nseg && len; i++) {
        if (off >= v->seg[i].n) {
            off -= v->seg[i].n;
            continue;
        }
        uint64_t n = v->seg[i].n - off < len ? v->seg[i].n - off : len;
        if (memchr(v->seg[i].p + off, '\0', (size_t)n)) return 1;
        len -= n;
        off = 0;
    }
    return 0;
}

/*
 * The content of a section for BINARY (RFC 3516): QP and base64 parts are
 * decoded by the host into *p_r (valid until read_end); for the others, and
 * the whole message (part ""), *p_r is NULL: the bytes are the content.
 * PETREL_ENOTSUP: an unknown Content-Transfer-Encoding.
 */
static int fetch_decoded(petrel_read *r, const struct fetch_body *b, const struct petrel_view *v,
                         uint64_t off, uint64_t len, int enc, const char **p_r, size_t *n_r)
{
    *p_r = NULL;
    *n_r = (size_t)len;
    if (!b->part[0] || (enc != PETREL_ENC_QP && enc != PETREL_ENC_BASE64))
        return b->part[0] && enc == PETREL_ENC_OTHER ? PETREL_ENOTSUP : 0;
    char *tmp;
    const char *raw = imap_view_bytes(v, off, len, &tmp);
    if (!raw) return PETREL_ENOMEM;
    int rc = imap_host->decode(r, enc, raw, (size_t)len, p_r, n_r);
    free(tmp);
    return rc;
}

/* 1 when some message of the FETCH has a BINARY section of unknown encoding. */
static int fetch_unknown_cte(struct imap_session *is)
{
    struct imap_fetch *f = is->fetch;
    int found = 0;
    for (size_t k = 0; k < f->nranges && !found; k++) {
        for (uint32_t i = f->ranges[k].lo;
             i <= f->ranges[k].hi && i < imap_uidmap_count(&is->sel.map); i++) {
            uint32_t uid = imap_uidmap_uid_at(&is->sel.map, i + 1);
            petrel_read *r = imap_host->read_begin(is->s);
            for (unsigned j = 0; r && j < f->nbodies && !found; j++) {
                const struct fetch_body *b = &f->bodies[j];
                uint64_t off, len;
                int enc = PETREL_ENC_7BIT;
                found = b->binary && b->part[0] &&
                        imap_host->msg_section(r, is->sel.id, uid, b->part, strlen(b->part),
                                               PETREL_SECTION_BODY, &off, &len, &enc) == 0 &&
                        enc == PETREL_ENC_OTHER;
            }
            imap_host->read_end(&r);
            if (found) break;
        }
    }
    return found;
}

/* BINARY[..] / BINARY.SIZE[..] of one message: 1 complete, 0 paused, -1 error. */
static int fetch_write_binary(struct imap_session *is, petrel_read *r, uint32_t uid,
                              const struct fetch_body *b, const char *sp)
{
    struct imap_fetch *f = is->fetch;
    struct petrel_view v;
    uint64_t off = 0, len = 0;
    int enc = PETREL_ENC_7BIT;
    const char *p = NULL;
    size_t n = 0;
    int rc = imap_host->msg_view(r, is->sel.id, uid, &v);
    if (rc == 0)
        rc = imap_host->msg_section(r, is->sel.id, uid, b->part, strlen(b->part),
                                    PETREL_SECTION_BODY, &off, &len, &enc);
    if (rc == PETREL_ENOTFOUND || rc == PETREL_EINVAL) {
        imap_host->writef(is->s, "%s%s NIL", sp, b->label);
        return 1;
    }
    if (rc || fetch_decoded(r, b, &v, off, len, enc, &p, &n)) return -1;
    if (b->binary == FETCH_BINARY_SIZE) {
        imap_host->writef(is->s, "%s%s %zu", sp, b->label, n);
        return 1;
    }
    size_t s0 = 0;
    if (b->partial) {
        s0 = b->p_off < n ? (size_t)b->p_off : n;
        n = n - s0 < b->p_len ? n - s0 : (size_t)b->p_len;
    }
    if (f->lit_off == 0) { /* literal8 when the content holds NUL bytes */
        int nul = p ? memchr(p + s0, '\0', n) != NULL : view_has_nul(&v, off + s0, n);
        imap_host->writef(is->s, "%s%s %s{%zu}\r\n", sp, b->label, nul ? "~" : "", n);
    }
    while (f->lit_off < n) {
        if (!imap_host->writable(is->s)) return 0;
        size_t k = n - f->lit_off < FETCH_CHUNK ? n - (size_t)f->lit_off : FETCH_CHUNK;
        if (p)
            imap_host->write(is->s, p + s0 + f->lit_off, k);
        else
            view_write(is, &v, off + s0 + f->lit_off, k);
        f->lit_off += k;
    }
    return 1;
}

/*
 * One body item, from lit_off on. Returns 1 when it is complete, 0 when
 * output is full (resume later), -1 on a store error.
 */
static int fetch_write_body(struct imap_session *is, petrel_read *r, uint32_t uid,
                            const struct fetch_body *b, int first)
{
    struct imap_fetch *f = is->fetch;
    if (b->binary) return fetch_write_binary(is, r, uid, b, first ? "" : " ");
    struct petrel_view v;
    uint64_t off = 0, len = 0;
    int rc = imap_host->msg_view(r, is->sel.id, uid, &v);
    if (rc == 0)
        rc = imap_host->msg_section(r, is->sel.id, uid, b->part, strlen(b->part), b->kind, &off,
                                    &len, NULL);
    if (rc == PETREL_ENOTFOUND || rc == PETREL_EINVAL) {
        imap_host->writef(is->s, "%s%s NIL", first ? "" : " ", b->label);
        return 1;
    }
    if (rc) return -1;
    if (b->fields) {
        char *tmp;
        const char *hdr = imap_view_bytes(&v, off, len, &tmp);
        const char *p;
        size_t n;
        if (!hdr || imap_host->header_fields(r, hdr, (size_t)len, b->names, b->nnames,
                                             b->fields == 2, &p, &n)) {
            free(tmp);
            return -1;
        }
        uint64_t s = b->partial ? (b->p_off < n ? b->p_off : n) : 0;
        uint64_t l = b->partial ? (n - s < b->p_len ? n - s : b->p_len) : n - s;
        imap_host->writef(is->s, "%s%s {%llu}\r\n", first ? "" : " ", b->label,
                          (unsigned long long)l);
        imap_host->write(is->s, p + s, (size_t)l);
        free(tmp);
        return 1;
    }
    if (b->partial) {
        uint64_t s = b->p_off < len ? b->p_off : len;
        off += s;
        len = len - s < b->p_len ? len - s : b->p_len;
    }
    if (f->lit_off == 0)
        imap_host->writef(is->s, "%s%s {%llu}\r\n", first ? "" : " ", b->label,
                          (unsigned long long)len);
    while (f->lit_off < len) {
        if (!imap_host->writable(is->s)) return 0;
        uint64_t n = len - f->lit_off < FETCH_CHUNK ? len - f->lit_off : FETCH_CHUNK;
        view_write(is, &v, off + f->lit_off, n);
        f->lit_off += n;
    }
    return 1;
}

/* The current message from where it stopped. 1 done, 0 paused, -1 error. */
static int fetch_one(struct imap_session *is, uint32_t idx)
{
    struct imap_fetch *f = is->fetch;
    uint32_t uid = imap_uidmap_uid_at(&is->sel.map, idx + 1);
    petrel_read *r = imap_host->read_begin(is->s);
    struct petrel_msg_info m = {.struct_size = sizeof(m)};
    int rc = r ? imap_host->msg_get(r, is->sel.id, uid, &m) : PETREL_EIO;
    if ((rc == PETREL_ENOTFOUND || (rc == 0 && f->changedsince && m.modseq <= f->changedsince)) &&
        f->cur_body < 0) {
        imap_host->read_end(&r); /* expunged meanwhile (its EXPUNGE comes later), or unchanged */
        return 1;
    }
    if (rc == 0 && f->cur_body < 0) {
        rc = fetch_write_head(is, r, idx, &m);
        f->cur_body = 0;
        f->lit_off = 0;
    }
    while (rc == 0 && (unsigned)f->cur_body < f->nbodies) {
        /* the first item of the response has no space before it */
        int first = f->items == 0 && f->cur_body == 0;
        int brc = fetch_write_body(is, r, uid, &f->bodies[f->cur_body], first);
        if (brc <= 0) {
            imap_host->read_end(&r);
            return brc;
        }
        f->cur_body++;
        f->lit_off = 0;
    }
    imap_host->read_end(&r);
    if (rc) return -1;
    imap_host->write(is->s, ")\r\n", 3);
    f->cur_body = -1;
    return 1;
}

/* Streams until done or the output is full. */
static void fetch_continue(struct imap_session *is)
{
    struct imap_fetch *f = is->fetch;
    while (f->cur_range < f->nranges) {
        if (f->cur_body < 0 && !imap_host->writable(is->s)) return; /* on_writable resumes */
        if (f->cur_idx >= imap_uidmap_count(&is->sel.map)) {
            f->cur_range = f->nranges;
            break;
        }
        int rc = fetch_one(is, f->cur_idx);
        if (rc == 0) return;
        if (rc < 0) {
            imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_fetch_failed uid=%u",
                           imap_uidmap_uid_at(&is->sel.map, f->cur_idx + 1));
            imap_host->close(is->s); /* mid-response: the stream cannot be repaired */
            imap_fetch_free(is);
            imap_state_enter(is, IMAP_STATE_LOGOUT);
            return;
        }
        if (f->cur_idx < f->ranges[f->cur_range].hi) {
            f->cur_idx++;
        } else if (++f->cur_range < f->nranges) {
            f->cur_idx = f->ranges[f->cur_range].lo;
        }
    }
    imap_fetch_free(is);
    imap_selected_sync(is, 0);
    imap_reply(is, "OK", "%sFETCH completed", is->p->name[0] == 'U' ? "UID " : "");
    imap_command_end(is);
}

void imap_fetch_on_writable(struct imap_session *is)
{
    /* not while its VANISHED (EARLIER) lines stream: their end starts the FETCHes */
    if (is->fetch && !is->stream.ops && is->mode == IMAP_MODE_WAIT && is->pending == IMAP_PEND_NONE)
        fetch_continue(is);
}

/* Non-PEEK body items of a read-write mailbox set \Seen first (one commit). */
static int fetch_set_seen(struct imap_session *is)
{
    struct imap_fetch *f = is->fetch;
    int need = 0;
    for (unsigned i = 0; i < f->nbodies; i++)
        need |= !f->bodies[i].peek;
    if (!need || is->sel.readonly) return 0;
    f->items |= FETCH_FLAGS;
    if (is->condstore) f->items |= FETCH_UID | FETCH_MODSEQ; /* RFC 7162 3.2.4 */
    size_t total = 0;
    for (size_t k = 0; k < f->nranges; k++)
        total += (size_t)(f->ranges[k].hi - f->ranges[k].lo) + 1;
    f->seen_uids = calloc(total, sizeof(uint32_t));
    petrel_write *w = f->seen_uids ? imap_host->write_new(is->s) : NULL;
    petrel_read *r = w ? imap_host->read_begin(is->s) : NULL;
    int ops = 0;
    for (size_t k = 0; w && r && k < f->nranges; k++) {
        for (uint32_t i = f->ranges[k].lo;
             i <= f->ranges[k].hi && i < imap_uidmap_count(&is->sel.map); i++) {
            struct petrel_msg_info m = {.struct_size = sizeof(m)};
            uint32_t uid = imap_uidmap_uid_at(&is->sel.map, i + 1);
            if (imap_host->msg_get(r, is->sel.id, uid, &m) == 0 && !(m.flags & PETREL_F_SEEN) &&
                imap_host->w_flags(w, is->sel.id, m.uid, PETREL_FLAGS_ADD, PETREL_F_SEEN, NULL, 0,
                                   0) >= 0) {
                ops++;
                f->seen_uids[f->nseen++] = m.uid;
            }
        }
    }
    imap_host->read_end(&r);
    if (!ops || imap_host->write_submit(w) != 0) {
        imap_host->write_free(&w);
        return 0;
    }
    is->pending = IMAP_PEND_FETCH_SEEN;
    return 1;
}

void imap_fetch_seen_done(struct imap_session *is, petrel_write *w, int rc)
{
    if (rc)
        imap_host->log(is->s, PETREL_LOG_WARN, "event=imap_fetch_seen_failed rc=%d", rc);
    else
        imap_selected_own(is, w, is->fetch->seen_uids, is->fetch->nseen);
    is->mode = IMAP_MODE_WAIT;
    fetch_continue(is);
}

/* The FETCH responses (after \Seen is set when a body is fetched without PEEK). */
static void fetch_messages(struct imap_session *is, uint32_t unused)
{
    (void)unused;
    struct imap_fetch *f = is->fetch;
    imap_host->pause(is->s); /* pipelined commands wait until the response is complete */
    f->cur_idx = f->nranges ? f->ranges[0].lo : 0;
    is->mode = IMAP_MODE_WAIT;      /* no input until the response is complete */
    if (fetch_set_seen(is)) return; /* imap_fetch_seen_done continues */
    fetch_continue(is);
}

/*
 * UID FETCH .. (CHANGEDSINCE m VANISHED): the UIDs of the set expunged after m, as
 * "* VANISHED (EARLIER)" lines before any FETCH response (RFC 7162 3.2.6), streamed;
 * the FETCHes follow. "$" is the saved search result (its UIDs as they were saved).
 * 0, or -1 after a NO (nothing was written).
 */
static int fetch_vanished(struct imap_session *is, const struct imap_arg *set)
{
    const struct imap_selected *sel = &is->sel;
    struct imap_uidset u = {0};
    const char *s = imap_arg_str(is->p, set);
    int rc = 0;
    if (set->len == 1 && s[0] == '$') {
        u.r = calloc(sel->nsaved ? sel->nsaved : 1, sizeof(*u.r));
        rc = u.r ? 0 : PETREL_ENOMEM;
        if (u.r) u.n = imap_ranges_from_uids(sel->saved, sel->nsaved, u.r);
    } else {
        /* '*' reaches past the last message: expunged UIDs above it are reported too */
        rc = imap_uidset_parse(s, set->len, 1, UINT32_MAX, &u) ? PETREL_ENOMEM : 0;
    }
    struct imap_resync *rs = rc == 0 ? calloc(1, sizeof(*rs)) : NULL;
    petrel_read *r = rs ? imap_host->read_begin(is->s) : NULL;
    rc = r ? imap_vanished_collect(is, r, is->fetch->changedsince, &u, rs) : PETREL_EIO;
    imap_host->read_end(&r);
    imap_uidset_free(&u);
    if (rc) {
        imap_resync_free(rs);
        fetch_drop(is);
        imap_reply(is, "NO", "[UNAVAILABLE] Cannot read the expunged messages");
        return -1;
    }
    rs->then = fetch_messages;
    imap_resync_start(is, rs);
    return 0;
}

void imap_fetch_start(struct imap_session *is, int uid_mode, uint32_t first_arg)
{
    struct imap_parser *p = is->p;
    if (p->nargs < first_arg + 2) {
        imap_reply_bad(is, "FETCH sequence-set items");
        return;
    }
    struct imap_fetch *f = calloc(1, sizeof(*f));
    if (!f) {
        imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    f->uid_mode = uid_mode;
    f->cur_body = -1;
    if (imap_fetch_parse(p, first_arg + 1, f)) {
        free(f);
        imap_reply_bad(is, "Invalid FETCH items");
        return;
    }
    if (f->vanished && (!uid_mode || !f->has_changedsince || !is->qresync)) {
        free(f); /* RFC 7162 3.2.3, 3.2.6 */
        imap_reply_bad(is, !uid_mode      ? "VANISHED is only allowed with UID FETCH"
                           : !is->qresync ? "VANISHED needs ENABLE QRESYNC first"
                                          : "VANISHED needs CHANGEDSINCE");
        return;
    }
    if (uid_mode) f->items |= FETCH_UID;
    if (f->items & FETCH_MODSEQ) imap_condstore_enable(is);
    if (is->condstore && (f->items & FETCH_FLAGS))
        f->items |= FETCH_MODSEQ; /* RFC 7162 3.1: with CONDSTORE on, FLAGS come with MODSEQ */
    int rc = imap_seqset_resolve(is, &p->args[first_arg], uid_mode, &f->ranges, &f->nranges);
    if (rc) {
        free(f);
        if (rc == -1)
            imap_reply_bad(is, "Invalid sequence set");
        else
            imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    is->fetch = f;
    if (imap_fetch_has_binary(f) && fetch_unknown_cte(is)) {
        fetch_drop(is);
        imap_reply(is, "NO", "[UNKNOWN-CTE] Cannot decode a section's transfer encoding");
        return;
    }
    if (f->vanished) {
        (void)fetch_vanished(is, &p->args[first_arg]); /* fetch_messages follows */
        return;
    }
    fetch_messages(is, 0);
}

void imap_cmd_fetch(struct imap_session *is)
{
    imap_fetch_start(is, 0, 0);
}
