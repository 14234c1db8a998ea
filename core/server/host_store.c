/*
 * host_store.c - the store for plugins: read snapshots, writes built as a
 * list of operations and run by the group-commit writer, and mailbox
 * watchers woken by commits.
 *
 * A petrel_write is built on the session's loop, runs on the writer thread
 * (each operation in its own nested transaction, so one failing operation
 * is rolled back alone), and comes back to the loop for on_write_done. The
 * session is held (and its input paused) while the write is in flight.
 *
 * An atomic write (w_atomic, ABI 1.1) needs no writer change: the writer
 * already runs the whole write (srv_write_op) in one nested transaction of
 * the batch and aborts it when srv_write_op fails. So an atomic write stops
 * at its first failing operation and returns that error: everything the
 * write did is rolled back, the batch's other writes still commit.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime/mime.h"
#include "server/host_dsn.h"
#include "server/host_int.h"
#include "store/writer.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

/* ------------------------------------------------------------ reads */

struct petrel_read {
    struct petrel_session *s;
    store_txn_t *txn;
    char **strs; /* strings handed out, freed at read_end */
    size_t nstrs, capstrs;
};

static const char *srv_read_keep(struct petrel_read *r, const char *str)
{
    if (r->nstrs == r->capstrs) {
        size_t cap = r->capstrs ? r->capstrs * 2 : 8;
        char **p = realloc(r->strs, cap * sizeof(*p));
        if (!p)
            return NULL;
        r->strs = p;
        r->capstrs = cap;
    }
    char *c = strdup(str);
    if (c)
        r->strs[r->nstrs++] = c;
    return c;
}

petrel_read *srv_read_begin(petrel_session *s)
{
    struct petrel_read *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->s = s;
    int rc = store_read_begin(s->host->store, &r->txn);
    if (rc) {
        log_error("event=read_begin_failed session=%llu error=\"%s\"", (unsigned long long)s->id,
                  petrel_strerror(rc));
        free(r);
        return NULL;
    }
    return r;
}

void srv_read_end(petrel_read **rp)
{
    struct petrel_read *r = *rp;
    if (!r)
        return;
    store_txn_abort(&r->txn);
    for (size_t i = 0; i < r->nstrs; i++)
        free(r->strs[i]);
    free(r->strs);
    free(r);
    *rp = NULL;
}

/* Fills the plugin's struct up to the size it knows. */
static void srv_mailbox_fill(struct petrel_read *r, const store_mailbox_t *m, const char *name,
                             struct petrel_mailbox_info *out)
{
    uint64_t floor = 0;
    if (out->struct_size >= offsetof(struct petrel_mailbox_info, vanished_floor) + sizeof(floor) &&
        store_msg_vanished_floor(r->txn, m->user_id, m->id, &floor) != 0)
        floor = UINT64_MAX; /* unknown: the plugin falls back as if all history were gone */
    struct petrel_mailbox_info full = {
        .struct_size = out->struct_size,
        .id = m->id,
        .name = name,
        .uidvalidity = m->uidvalidity,
        .uidnext = m->uidnext,
        .highestmodseq = m->highestmodseq,
        .messages = m->messages,
        .unseen = m->unseen,
        .deleted = m->deleted,
        .first_recent_uid = m->first_recent_uid,
        .bytes = m->bytes,
        .special_use = m->special_use,
        .subscribed = m->subscribed,
        .vanished_floor = floor,
    };
    size_t n = out->struct_size < sizeof(full) ? out->struct_size : sizeof(full);
    memcpy(out, &full, n);
}

static void srv_msg_fill(const store_msg_t *m, struct petrel_msg_info *out)
{
    struct petrel_msg_info full = {
        .struct_size = out->struct_size,
        .uid = m->uid,
        .size = m->size,
        .internal_date = m->internal_date,
        .flags = m->flags,
        .modseq = m->modseq,
        .keywords = m->keywords,
        .nkeywords = m->nkeywords,
    };
    size_t n = out->struct_size < sizeof(full) ? out->struct_size : sizeof(full);
    memcpy(out, &full, n);
}

static int srv_need_user(struct petrel_read *r)
{
    return r && r->s->user_id ? 0 : PETREL_EPERM;
}

struct srv_mbcb {
    struct petrel_read *r;
    petrel_mailbox_cb cb;
    void *arg;
};

static int srv_mailbox_list_cb(const store_mailbox_t *m, void *arg)
{
    struct srv_mbcb *c = arg;
    struct petrel_mailbox_info info = {.struct_size = sizeof(info)};
    const char *name = srv_read_keep(c->r, m->name); /* valid until read_end, as promised */
    if (!name)
        return PETREL_ENOMEM;
    srv_mailbox_fill(c->r, m, name, &info);
    return c->cb(&info, c->arg);
}

int srv_mailbox_list(petrel_read *r, petrel_mailbox_cb cb, void *arg)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    struct srv_mbcb c = {r, cb, arg};
    return store_mailbox_list(r->txn, r->s->user_id, srv_mailbox_list_cb, &c);
}

int srv_mailbox_get(petrel_read *r, const char *name, struct petrel_mailbox_info *m_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    store_mailbox_t m;
    rc = store_mailbox_get(r->txn, r->s->user_id, name, &m);
    if (rc)
        return rc;
    const char *kept = srv_read_keep(r, m.name);
    if (!kept)
        return PETREL_ENOMEM;
    srv_mailbox_fill(r, &m, kept, m_r);
    return 0;
}

int srv_subscription_list(petrel_read *r, petrel_name_cb cb, void *arg)
{
    int rc = srv_need_user(r);
    return rc ? rc : store_subscription_list(r->txn, r->s->user_id, cb, arg);
}

int srv_mailbox_keywords(petrel_read *r, uint32_t mailbox_id, petrel_name_cb cb, void *arg)
{
    int rc = srv_need_user(r);
    return rc ? rc : store_mailbox_keywords(r->txn, r->s->user_id, mailbox_id, cb, arg);
}

struct srv_msgcb {
    petrel_msg_cb cb;
    void *arg;
};

static int srv_msg_list_cb(const store_msg_t *m, void *arg)
{
    struct srv_msgcb *c = arg;
    struct petrel_msg_info info = {.struct_size = sizeof(info)};
    srv_msg_fill(m, &info);
    return c->cb(&info, c->arg);
}

int srv_msg_list(petrel_read *r, uint32_t mailbox_id, uint32_t lo, uint32_t hi, petrel_msg_cb cb,
                 void *arg)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    struct srv_msgcb c = {cb, arg};
    return store_msg_list(r->txn, r->s->user_id, mailbox_id, lo, hi, srv_msg_list_cb, &c);
}

int srv_msg_uids(petrel_read *r, uint32_t mailbox_id, uint32_t *uids, uint32_t cap,
                 uint32_t *n_r, uint32_t *first_unseen_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    if (!n_r || (cap && !uids))
        return PETREL_EINVAL;
    size_t n = 0;
    rc = store_msg_uids(r->txn, r->s->user_id, mailbox_id, uids, cap, &n, first_unseen_r);
    *n_r = (uint32_t)n;
    return rc;
}

int srv_msg_get(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_msg_info *m_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    store_msg_t m;
    rc = store_msg_get(r->txn, r->s->user_id, mailbox_id, uid, &m);
    if (rc == 0)
        srv_msg_fill(&m, m_r);
    return rc;
}

int srv_msg_view(petrel_read *r, uint32_t mailbox_id, uint32_t uid, struct petrel_view *v_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    store_msg_t m;
    store_view_t v;
    rc = store_msg_get(r->txn, r->s->user_id, mailbox_id, uid, &m);
    if (rc == 0)
        rc = store_msg_view(r->txn, &m, &v);
    if (rc)
        return rc;
    _Static_assert(STORE_VIEW_SEGS <= PETREL_VIEW_SEGS, "view segments");
    memset(v_r, 0, sizeof(*v_r));
    v_r->len = v.len;
    v_r->nseg = v.nseg;
    for (unsigned i = 0; i < v.nseg; i++) {
        v_r->seg[i].p = v.seg[i].p;
        v_r->seg[i].n = v.seg[i].n;
    }
    return 0;
}

int srv_msg_changed_since(petrel_read *r, uint32_t mailbox_id, uint64_t modseq, petrel_msg_cb cb,
                          void *arg)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    struct srv_msgcb c = {cb, arg};
    return store_msg_changed_since(r->txn, r->s->user_id, mailbox_id, modseq, srv_msg_list_cb,
                                   &c);
}

int srv_msg_vanished_since(petrel_read *r, uint32_t mailbox_id, uint64_t modseq, petrel_uid_cb cb,
                           void *arg)
{
    int rc = srv_need_user(r);
    return rc ? rc
              : store_msg_vanished_since(r->txn, r->s->user_id, mailbox_id, modseq, cb, arg);
}

int srv_quota_get(petrel_read *r, uint64_t *used_bytes_r, uint64_t *limit_bytes_r,
                  uint64_t *used_msgs_r, uint64_t *limit_msgs_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    store_usage_t used;
    store_user_t u;
    rc = store_quota_user(r->txn, r->s->user_id, &used);
    if (rc == 0)
        rc = store_user_get_by_id(r->txn, r->s->user_id, &u);
    if (rc)
        return rc;
    if (used_bytes_r)
        *used_bytes_r = used.bytes;
    if (limit_bytes_r)
        *limit_bytes_r = u.quota_bytes;
    if (used_msgs_r)
        *used_msgs_r = used.messages;
    if (limit_msgs_r)
        *limit_msgs_r = u.quota_messages;
    return 0;
}

int srv_resolve_rcpt(petrel_read *r, const char *address, struct petrel_rcpt *rcpt_r)
{
    store_rcpt_t rc_;
    int rc = store_resolve_rcpt(r->txn, address, &rc_);
    if (rc)
        return rc;
    /* a user already over quota is refused now (RCPT time), not after DATA */
    for (size_t i = 0; i < rc_.n; i++) {
        store_user_t u;
        store_usage_t used;
        if (store_user_get_by_id(r->txn, rc_.user_ids[i], &u) == 0 &&
            store_quota_user(r->txn, u.id, &used) == 0 &&
            ((u.quota_bytes && used.bytes >= u.quota_bytes) ||
             (u.quota_messages && used.messages >= u.quota_messages)))
            return PETREL_EQUOTA;
    }
    struct petrel_rcpt full;
    memset(&full, 0, sizeof(full));
    full.struct_size = rcpt_r->struct_size;
    full.n = (unsigned)(rc_.n < PETREL_RCPT_MAX ? rc_.n : PETREL_RCPT_MAX);
    for (unsigned i = 0; i < full.n; i++)
        full.users[i] = rc_.user_ids[i];
    str_lcpy(full.tag, rc_.tag, sizeof(full.tag));
    size_t n = rcpt_r->struct_size < sizeof(full) ? rcpt_r->struct_size : sizeof(full);
    memcpy(rcpt_r, &full, n);
    return 0;
}

int srv_domain_is_local(petrel_read *r, const char *domain)
{
    store_tenant_t t;
    return r && store_tenant_get(r->txn, domain, &t) == 0;
}

int srv_sender_allowed(petrel_session *s, const char *address)
{
    if (!s->user_id)
        return PETREL_EPERM;
    store_txn_t *txn;
    int rc = store_read_begin(s->host->store, &txn);
    if (rc)
        return rc;
    store_rcpt_t r;
    rc = store_resolve_rcpt(txn, address, &r);
    store_txn_abort(&txn);
    if (rc == 0) {
        /* own address (maybe +tag, alias domain) or an alias reaching this user;
           a catch-all does not make every address of the domain the user's */
        for (size_t i = 0; i < r.n; i++)
            if (r.user_ids[i] == s->user_id && !r.via_catchall)
                return 0;
    }
    return PETREL_EPERM;
}

/* ------------------------------------------------------------ structure */

#define SRV_DECODE_MAX (256u << 20) /* a decoded body or header we hand out */

/* Keeps a buffer's bytes until read_end; hands out a pointer to them. */
static int srv_read_keep_buf(struct petrel_read *r, buf_t *b, const char **p_r, size_t *n_r)
{
    if (r->nstrs == r->capstrs) {
        size_t cap = r->capstrs ? r->capstrs * 2 : 8;
        char **p = realloc(r->strs, cap * sizeof(*p));
        if (!p) {
            buf_free(b);
            return PETREL_ENOMEM;
        }
        r->strs = p;
        r->capstrs = cap;
    }
    size_t n;
    char *data = buf_detach(b, &n);
    if (!data && !(data = calloc(1, 1)))
        return PETREL_ENOMEM;
    r->strs[r->nstrs++] = data;
    *p_r = data;
    *n_r = n;
    return 0;
}

static int srv_msg_cache_get(struct petrel_read *r, uint32_t mailbox_id, uint32_t uid,
                             const uint8_t **c_r, size_t *n_r)
{
    int rc = srv_need_user(r);
    if (rc)
        return rc;
    store_msg_t m;
    const void *p;
    rc = store_msg_get(r->txn, r->s->user_id, mailbox_id, uid, &m);
    if (rc == 0)
        rc = store_msg_cache(r->txn, &m, &p, n_r);
    if (rc == PETREL_ENOTFOUND) {
        /* a message stored without a cache (cache_fn was off): say it plainly */
        log_warn("event=msg_cache_missing user_id=%llu mailbox=%u uid=%u",
                 (unsigned long long)r->s->user_id, mailbox_id, uid);
        return PETREL_ECORRUPT;
    }
    if (rc == 0)
        *c_r = p;
    return rc;
}

int srv_msg_envelope(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char **p_r,
                     size_t *n_r)
{
    const uint8_t *c, *p;
    size_t cn;
    int rc = srv_msg_cache_get(r, mailbox_id, uid, &c, &cn);
    if (rc == 0)
        rc = mime_cache_envelope(c, cn, &p, n_r);
    if (rc == 0)
        *p_r = (const char *)p;
    return rc;
}

int srv_msg_bodystructure(petrel_read *r, uint32_t mailbox_id, uint32_t uid, int extended,
                          const char **p_r, size_t *n_r)
{
    const uint8_t *c, *p;
    size_t cn;
    int rc = srv_msg_cache_get(r, mailbox_id, uid, &c, &cn);
    if (rc)
        return rc;
    if (extended) {
        rc = mime_cache_bodystructure(c, cn, &p, n_r);
        if (rc == 0)
            *p_r = (const char *)p;
        return rc;
    }
    buf_t b;
    buf_init(&b, MIME_CACHE_MAX);
    rc = mime_cache_body(c, cn, &b);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    return srv_read_keep_buf(r, &b, p_r, n_r);
}

int srv_msg_section(petrel_read *r, uint32_t mailbox_id, uint32_t uid, const char *spec,
                    size_t spec_len, int kind, uint64_t *off_r, uint64_t *len_r, int *encoding_r)
{
    const uint8_t *c;
    size_t cn;
    if (kind < PETREL_SECTION_BODY || kind > PETREL_SECTION_MIME)
        return PETREL_EINVAL;
    int rc = srv_msg_cache_get(r, mailbox_id, uid, &c, &cn);
    if (rc)
        return rc;
    struct mime_section sec;
    rc = mime_cache_section_info(c, cn, spec, spec_len, (enum mime_section_kind)kind, &sec);
    if (rc)
        return rc;
    *off_r = sec.off;
    *len_r = sec.len;
    if (encoding_r)
        *encoding_r = sec.encoding; /* enum mime_encoding has PETREL_ENC_*'s values */
    return 0;
}

int srv_header_fields(petrel_read *r, const void *hdr, size_t len, const char *const *names,
                      size_t nnames, int not_, const char **p_r, size_t *n_r)
{
    buf_t b;
    buf_init(&b, len + 2);
    int rc = mime_hdr_fields_subset(hdr, len, names, nnames, not_, &b);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    return srv_read_keep_buf(r, &b, p_r, n_r);
}

int srv_decode(petrel_read *r, int how, const void *in, size_t len, const char **p_r,
               size_t *n_r)
{
    buf_t b;
    buf_init(&b, len < SRV_DECODE_MAX ? len * 2 + 16 : SRV_DECODE_MAX);
    int rc = how == PETREL_DECODE_RFC2047 ? mime_rfc2047_decode(in, len, &b)
                                          : mime_body_decode(in, len, how, &b);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    return srv_read_keep_buf(r, &b, p_r, n_r);
}

_Static_assert((int)MIME_ENC_QP == (int)PETREL_ENC_QP && (int)MIME_ENC_BASE64 == PETREL_ENC_BASE64 &&
                   (int)MIME_ENC_OTHER == PETREL_ENC_OTHER,
               "the ABI's encodings are the MIME module's");
_Static_assert((int)MIME_SECTION_MIME == (int)PETREL_SECTION_MIME &&
                   (int)MIME_SECTION_TEXT == (int)PETREL_SECTION_TEXT,
               "the ABI's sections are the MIME module's");

/* ------------------------------------------------------------ writes */

enum srv_wop_kind {
    WOP_CREATE,
    WOP_DELETE,
    WOP_RENAME,
    WOP_SUBSCRIBE,
    WOP_APPEND,
    WOP_FLAGS,
    WOP_COPY,
    WOP_MOVE,
    WOP_EXPUNGE,
    WOP_CLEAR_RECENT,
    WOP_DELIVER,
    WOP_DSN, /* w_dsn: runs after the deliveries of its write (host_dsn.c) */
};

struct srv_wop {
    enum srv_wop_kind kind;
    uint32_t mbox, uid, dst;
    uint32_t flags;
    int op; /* flag op, subscribe on/off */
    uint64_t unchangedsince;
    int64_t date;
    char *name, *name2;  /* owned */
    void *data;          /* owned message bytes */
    size_t len;
    char **kw;           /* owned keywords */
    size_t nkw;
    uint64_t *users;     /* owned (deliver) */
    size_t nusers;
    /* results */
    int rc;
    uint32_t out_uid;
    uint64_t out_modseq;
    int *sub_rc;         /* deliver: per user */
    uint32_t *sub_uid;
    struct srv_dsn *dsn;         /* owned (dsn) */
    struct petrel_write *w;      /* dsn: its write, to read the deliveries' results */
};

#define SRV_WRITE_MAX_OPS 100000

struct petrel_write {
    struct petrel_session *s;
    uint64_t user_id;
    struct srv_wop *ops;
    size_t n, cap;
    int submitted;
    int atomic; /* w_atomic: one failing op fails them all */
    int rc;
    struct srv_post done; /* hands the result to the session's loop */
};

petrel_write *srv_write_new(petrel_session *s)
{
    struct petrel_write *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->s = s;
    w->user_id = s->user_id;
    return w;
}

static void srv_wop_free(struct srv_wop *o)
{
    free(o->name);
    free(o->name2);
    free(o->data);
    for (size_t i = 0; i < o->nkw; i++)
        free(o->kw[i]);
    free(o->kw);
    free(o->users);
    free(o->sub_rc);
    free(o->sub_uid);
    srv_dsn_free(&o->dsn);
}

void srv_write_free(petrel_write **wp)
{
    struct petrel_write *w = *wp;
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        srv_wop_free(&w->ops[i]);
    free(w->ops);
    free(w);
    *wp = NULL;
}

static struct srv_wop *srv_wop_add(struct petrel_write *w, enum srv_wop_kind kind, int *idx_r)
{
    if (w->submitted || w->n >= SRV_WRITE_MAX_OPS)
        return NULL;
    if (kind != WOP_DELIVER && kind != WOP_DSN && !w->user_id)
        return NULL;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4;
        struct srv_wop *p = realloc(w->ops, cap * sizeof(*p));
        if (!p)
            return NULL;
        w->ops = p;
        w->cap = cap;
    }
    struct srv_wop *o = &w->ops[w->n];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    *idx_r = (int)w->n++;
    return o;
}

/* Drops the half-built last op after an allocation failure. */
static int srv_wop_undo(struct petrel_write *w)
{
    srv_wop_free(&w->ops[--w->n]);
    return PETREL_ENOMEM;
}

static int srv_wop_names(struct petrel_write *w, struct srv_wop *o, const char *a, const char *b)
{
    if (!(o->name = strdup(a)) || (b && !(o->name2 = strdup(b))))
        return srv_wop_undo(w);
    return 0;
}

static int srv_wop_keywords(struct srv_wop *o, const char *const *kw, size_t nkw)
{
    if (!nkw)
        return 0;
    o->kw = calloc(nkw, sizeof(*o->kw));
    if (!o->kw)
        return PETREL_ENOMEM;
    for (size_t i = 0; i < nkw; i++) {
        if (!(o->kw[i] = strdup(kw[i])))
            return PETREL_ENOMEM;
        o->nkw = i + 1;
    }
    return 0;
}

int srv_w_mailbox_create(petrel_write *w, const char *name, uint32_t special_use)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, WOP_CREATE, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->flags = special_use;
    return srv_wop_names(w, o, name, NULL) ?: idx;
}

int srv_w_mailbox_delete(petrel_write *w, const char *name)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, WOP_DELETE, &idx);
    if (!o)
        return PETREL_EINVAL;
    return srv_wop_names(w, o, name, NULL) ?: idx;
}

int srv_w_mailbox_rename(petrel_write *w, const char *from, const char *to)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, WOP_RENAME, &idx);
    if (!o)
        return PETREL_EINVAL;
    return srv_wop_names(w, o, from, to) ?: idx;
}

int srv_w_subscribe(petrel_write *w, const char *name, int on)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, WOP_SUBSCRIBE, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->op = on;
    return srv_wop_names(w, o, name, NULL) ?: idx;
}

int srv_w_append(petrel_write *w, uint32_t mailbox_id, const void *p, size_t n, int64_t date,
                 uint32_t flags, const char *const *keywords, size_t nkw)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, WOP_APPEND, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->mbox = mailbox_id;
    o->date = date;
    o->flags = flags;
    o->len = n;
    if (!(o->data = malloc(n ? n : 1)) || srv_wop_keywords(o, keywords, nkw))
        return srv_wop_undo(w);
    memcpy(o->data, p, n);
    return idx;
}

int srv_w_flags(petrel_write *w, uint32_t mailbox_id, uint32_t uid, int op, uint32_t flags,
                const char *const *keywords, size_t nkw, uint64_t unchangedsince)
{
    int idx;
    if (op < PETREL_FLAGS_SET || op > PETREL_FLAGS_REMOVE)
        return PETREL_EINVAL;
    struct srv_wop *o = srv_wop_add(w, WOP_FLAGS, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->mbox = mailbox_id;
    o->uid = uid;
    o->op = op;
    o->flags = flags;
    o->unchangedsince = unchangedsince;
    if (srv_wop_keywords(o, keywords, nkw))
        return srv_wop_undo(w);
    return idx;
}

static int srv_w_simple(petrel_write *w, enum srv_wop_kind kind, uint32_t mbox, uint32_t uid,
                        uint32_t dst)
{
    int idx;
    struct srv_wop *o = srv_wop_add(w, kind, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->mbox = mbox;
    o->uid = uid;
    o->dst = dst;
    return idx;
}

int srv_w_copy(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst)
{
    return srv_w_simple(w, WOP_COPY, mailbox_id, uid, dst);
}

int srv_w_move(petrel_write *w, uint32_t mailbox_id, uint32_t uid, uint32_t dst)
{
    return srv_w_simple(w, WOP_MOVE, mailbox_id, uid, dst);
}

int srv_w_expunge(petrel_write *w, uint32_t mailbox_id, uint32_t uid)
{
    return srv_w_simple(w, WOP_EXPUNGE, mailbox_id, uid, 0);
}

int srv_w_clear_recent(petrel_write *w, uint32_t mailbox_id, uint32_t below_uid)
{
    return srv_w_simple(w, WOP_CLEAR_RECENT, mailbox_id, below_uid, 0);
}

int srv_w_deliver(petrel_write *w, const void *p, size_t n, const uint64_t *users, size_t nusers,
                  const char *folder)
{
    int idx;
    if (nusers == 0 || nusers > STORE_RCPT_MAX_USERS * 16)
        return PETREL_EINVAL;
    struct srv_wop *o = srv_wop_add(w, WOP_DELIVER, &idx);
    if (!o)
        return PETREL_EINVAL;
    o->len = n;
    o->nusers = nusers;
    if (!(o->data = malloc(n ? n : 1)) || !(o->users = malloc(nusers * sizeof(*users))) ||
        !(o->sub_rc = calloc(nusers, sizeof(int))) ||
        !(o->sub_uid = calloc(nusers, sizeof(uint32_t))) || (folder && !(o->name = strdup(folder))))
        return srv_wop_undo(w);
    memcpy(o->data, p, n);
    memcpy(o->users, users, nusers * sizeof(*users));
    return idx;
}

int srv_w_dsn(petrel_write *w, const struct petrel_dsn *d)
{
    int idx;
    struct srv_dsn *c;
    int rc = srv_dsn_copy(d, w->s->host->cfg->hostname, &c);
    if (rc)
        return rc;
    struct srv_wop *o = srv_wop_add(w, WOP_DSN, &idx);
    if (!o) {
        srv_dsn_free(&c);
        return PETREL_EINVAL;
    }
    o->dsn = c;
    o->w = w;
    return idx;
}

/* srv_dsn_result_fn over the deliveries that ran before the dsn op. */
struct srv_dsn_scan {
    struct petrel_write *w;
    size_t upto;
};

static int srv_dsn_result(void *arg, uint64_t user, int *rc_r, const void **msg_r, size_t *len_r)
{
    struct srv_dsn_scan *sc = arg;
    for (size_t i = 0; i < sc->upto; i++) {
        const struct srv_wop *o = &sc->w->ops[i];
        if (o->kind != WOP_DELIVER)
            continue;
        for (size_t k = 0; k < o->nusers; k++) {
            if (o->users[k] != user)
                continue;
            *rc_r = o->rc ? o->rc : o->sub_rc[k]; /* a failed op kept nothing */
            *msg_r = o->data;
            *len_r = o->len;
            return 0;
        }
    }
    return PETREL_ENOTFOUND;
}

/* txn NULL: 1 when a DSN is due (srv_write_op then opens a nested txn), else 0. */
static int srv_wop_dsn(store_txn_t *txn, struct srv_wop *o)
{
    struct srv_dsn_scan sc = {o->w, (size_t)(o - o->w->ops)};
    int accepted = 0;
    for (size_t i = 0; i < sc.upto && !accepted; i++)
        accepted = sc.w->ops[i].kind == WOP_DELIVER && sc.w->ops[i].rc == 0;
    if (!txn)
        return srv_dsn_due(o->dsn, accepted, srv_dsn_result, &sc);
    return srv_dsn_run(txn, o->dsn, accepted, srv_dsn_result, &sc);
}

/* Every user of a delivery op failed with rc (nothing of it is kept). */
static void srv_wop_deliver_fail(struct srv_wop *o, int rc)
{
    for (size_t k = 0; k < o->nusers; k++) {
        o->sub_rc[k] = rc;
        o->sub_uid[k] = 0;
    }
}

/*
 * Delivery: INBOX, or the named folder when the user has it. Runs in the
 * write's own transaction, without a nested one (one LMDB nest less per
 * message): the mailbox look-ups write nothing and store_msg_deliver keeps
 * nothing of a target that failed (store.h), so a failure leaves txn as it
 * was, except when store_msg_deliver itself fails: then *dirty_r is 1 and
 * the caller must roll the whole write back.
 */
static int srv_wop_deliver(store_txn_t *txn, struct srv_wop *o, int *dirty_r)
{
    *dirty_r = 0;
    store_target_t *t = calloc(o->nusers, sizeof(*t));
    if (!t) {
        srv_wop_deliver_fail(o, PETREL_ENOMEM);
        return PETREL_ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < o->nusers && !rc; i++) {
        store_mailbox_t m;
        t[i].user_id = o->users[i];
        if (!o->name || store_mailbox_get(txn, o->users[i], o->name, &m) != 0)
            rc = store_mailbox_get(txn, o->users[i], "INBOX", &m);
        t[i].mailbox_id = m.id;
    }
    if (rc == 0) {
        store_append_t in = {.data = o->data, .len = o->len, .internal_date = (int64_t)time(NULL)};
        rc = store_msg_deliver(txn, &in, t, o->nusers, o->sub_rc, o->sub_uid);
        *dirty_r = rc != 0;
    }
    free(t);
    if (rc) {
        /* no user got it: never let a user's result say 0 for a message not kept */
        srv_wop_deliver_fail(o, rc);
        return rc;
    }
    /* the op fails only if every recipient failed */
    int any_ok = 0;
    for (size_t i = 0; i < o->nusers; i++)
        any_ok |= o->sub_rc[i] == 0;
    return any_ok ? 0 : o->sub_rc[0];
}

static int srv_wop_run(store_txn_t *txn, uint64_t user, struct srv_wop *o)
{
    switch (o->kind) {
    case WOP_CREATE:
        return store_mailbox_create(txn, user, o->name, o->flags, &o->out_uid);
    case WOP_DELETE:
        return store_mailbox_delete(txn, user, o->name);
    case WOP_RENAME:
        return store_mailbox_rename(txn, user, o->name, o->name2);
    case WOP_SUBSCRIBE:
        return store_subscribe(txn, user, o->name, o->op);
    case WOP_APPEND: {
        store_append_t in = {.data = o->data,
                             .len = o->len,
                             .internal_date = o->date,
                             .flags = o->flags,
                             .keywords = (const char *const *)o->kw,
                             .nkeywords = o->nkw};
        return store_msg_append(txn, user, o->mbox, &in, &o->out_uid);
    }
    case WOP_FLAGS:
        return store_msg_set_flags(txn, user, o->mbox, o->uid, (enum store_flag_op)o->op,
                                   o->flags, (const char *const *)o->kw, o->nkw,
                                   o->unchangedsince, &o->out_modseq);
    case WOP_COPY:
        return store_msg_copy(txn, user, o->mbox, o->uid, o->dst, &o->out_uid);
    case WOP_MOVE:
        return store_msg_move(txn, user, o->mbox, o->uid, o->dst, &o->out_uid);
    case WOP_EXPUNGE:
        return store_msg_expunge(txn, user, o->mbox, o->uid);
    case WOP_CLEAR_RECENT:
        return store_mailbox_clear_recent(txn, user, o->mbox, o->uid);
    case WOP_DELIVER: /* srv_write_op runs it without a nested transaction */
        return PETREL_EINVAL;
    case WOP_DSN:
        return srv_wop_dsn(txn, o);
    }
    return PETREL_EINVAL;
}

/* An atomic write failed: no op keeps an output (the writer rolls them all back). */
static int srv_write_fail_all(struct petrel_write *w, int rc)
{
    for (size_t i = 0; i < w->n; i++) {
        struct srv_wop *o = &w->ops[i];
        o->rc = rc;
        o->out_uid = 0;
        o->out_modseq = 0;
        for (size_t k = 0; k < o->nusers && o->sub_rc; k++) {
            o->sub_rc[k] = rc;
            o->sub_uid[k] = 0;
        }
    }
    return rc;
}

/* An atomic write fails with its first failed op, or a delivery that missed one user. */
static int srv_write_op_failed(const struct petrel_write *w, struct srv_wop *o)
{
    if (!w->atomic)
        return 0;
    if (o->rc)
        return 1;
    for (size_t k = 0; o->kind == WOP_DELIVER && k < o->nusers; k++)
        if (o->sub_rc[k]) {
            o->rc = o->sub_rc[k];
            return 1;
        }
    return 0;
}

/*
 * On the writer thread; may run more than once (idempotent results). txn is
 * the writer's nested transaction for this write: a nonzero return rolls
 * back everything the write did (an atomic write's first failure).
 */
int srv_write_op(store_txn_t *txn, void *arg)
{
    struct petrel_write *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        struct srv_wop *o = &w->ops[i];
        o->out_uid = 0;
        o->out_modseq = 0;
        if (o->kind == WOP_DSN && !srv_wop_dsn(NULL, o)) {
            o->rc = 0; /* no notification due: no nested transaction either */
            continue;
        }
        int rc;
        if (o->kind == WOP_DELIVER) {
            int dirty;
            o->rc = srv_wop_deliver(txn, o, &dirty);
            /* partial writes in txn (or the batch must run again): the writer
             * rolls the whole write back and every result says o->rc */
            if (dirty || o->rc == PETREL_ECONFLICT)
                return o->rc;
            if (srv_write_op_failed(w, o))
                return srv_write_fail_all(w, o->rc);
            continue;
        }
        store_txn_t *nested;
        rc = store_txn_nest(txn, &nested);
        if (rc)
            return rc;
        o->rc = srv_wop_run(nested, w->user_id, o);
        if (o->rc == PETREL_ECONFLICT) {
            store_txn_abort(&nested);
            return PETREL_ECONFLICT; /* the whole batch runs again */
        }
        if (o->rc == 0)
            rc = store_txn_commit(&nested);
        else
            store_txn_abort(&nested);
        if (rc)
            return rc;
        if (srv_write_op_failed(w, o))
            return srv_write_fail_all(w, o->rc);
    }
    return 0;
}

static void srv_write_finish(struct petrel_session *s, void *arg)
{
    struct petrel_write *w = arg;
    /* answer first, then let input (or a stopping server's close) go on */
    if (s->lst->plugin->desc->on_write_done)
        s->lst->plugin->desc->on_write_done(s, s->pdata, w, w->rc);
    else
        srv_write_free(&w);
    srv_session_pending_done(s);
}

static void srv_write_drop(void *arg)
{
    struct petrel_write *w = arg;
    srv_write_free(&w);
}

/* On the writer thread, after the commit. */
static void srv_write_done(int rc, void *arg)
{
    struct petrel_write *w = arg;
    struct petrel_session *s = w->s;
    w->rc = rc;
    srv_session_post_with(s, &w->done, srv_write_finish, w, srv_write_drop);
    srv_session_release(s); /* the submit's reference */
}

int srv_write_submit(petrel_write *w)
{
    struct petrel_session *s = w->s;
    if (w->submitted)
        return PETREL_EINVAL;
    if (!s->host->writer)
        return PETREL_EAGAIN;
    w->submitted = 1;
    srv_session_hold(s);
    srv_session_pending_add(s);
    size_t bytes = 0; /* the writer's batch and pipelining byte caps go by this */
    for (size_t i = 0; i < w->n; i++)
        bytes += w->ops[i].len;
    int rc = store_writer_submit_sized(s->host->writer, srv_write_op, srv_write_done, w, bytes);
    if (rc) {
        w->submitted = 0;
        srv_session_pending_done(s);
        srv_session_release(s);
    }
    return rc;
}

int srv_w_atomic(petrel_write *w)
{
    if (!w || w->submitted)
        return PETREL_EINVAL;
    w->atomic = 1;
    return 0;
}

int srv_w_result(petrel_write *w, int op, unsigned sub, uint32_t *uid_r, uint64_t *modseq_r)
{
    if (op < 0 || (size_t)op >= w->n)
        return PETREL_EINVAL;
    struct srv_wop *o = &w->ops[op];
    if (o->kind == WOP_DELIVER) {
        if (sub >= o->nusers)
            return PETREL_EINVAL;
        if (uid_r)
            *uid_r = o->sub_uid[sub];
        return w->rc ? w->rc : o->sub_rc[sub];
    }
    if (uid_r)
        *uid_r = o->out_uid;
    if (modseq_r)
        *modseq_r = o->out_modseq;
    return w->rc ? w->rc : o->rc;
}

/* ------------------------------------------------------------ watchers */

static struct petrel_session **srv_watch_bucket(struct srv_host *h, uint64_t user_id)
{
    /* Fibonacci hashing: user ids are consecutive, the top bits spread them */
    uint64_t x = user_id * 0x9E3779B97F4A7C15ull;
    return &h->watchers[x >> (64 - SRV_WATCH_BITS)];
}

int srv_watch(petrel_session *s, uint32_t mailbox_id)
{
    struct srv_host *h = s->host;
    if (s->ended)
        return PETREL_ECLOSED;
    if (!s->user_id || !mailbox_id)
        return PETREL_EINVAL;
    pthread_mutex_lock(&h->watch_lock);
    if (!s->watch_mbox) {
        struct petrel_session **head = srv_watch_bucket(h, s->user_id);
        s->watch_prev = NULL;
        s->watch_next = *head;
        if (*head)
            (*head)->watch_prev = s;
        *head = s;
    }
    s->watch_mbox = mailbox_id;
    pthread_mutex_unlock(&h->watch_lock);
    return 0;
}

void srv_unwatch(petrel_session *s)
{
    struct srv_host *h = s->host;
    pthread_mutex_lock(&h->watch_lock);
    if (s->watch_mbox) {
        if (s->watch_prev)
            s->watch_prev->watch_next = s->watch_next;
        else
            *srv_watch_bucket(h, s->user_id) = s->watch_next;
        if (s->watch_next)
            s->watch_next->watch_prev = s->watch_prev;
        s->watch_mbox = 0;
        s->watch_next = s->watch_prev = NULL;
    }
    pthread_mutex_unlock(&h->watch_lock);
}

static void srv_watch_fire(struct petrel_session *s, void *arg)
{
    (void)arg;
    /* cleared before the plugin looks: a commit from now on queues a new wake-up */
    atomic_exchange(&s->watch_queued, false); /* pairs with the committer's exchange */
    if (s->watch_mbox && s->lst->plugin->desc->on_notify)
        s->lst->plugin->desc->on_notify(s, s->pdata, PETREL_NOTIFY_MAILBOX);
}

/* Under watch_lock. A wake-up already queued covers this commit too: the
 * plugin reads the mailbox's state when it runs, not the change that woke it. */
static void srv_watch_poke(struct petrel_session *s)
{
    if (!atomic_exchange(&s->watch_queued, true))
        srv_session_post_with(s, &s->watch_post, srv_watch_fire, NULL, NULL);
}

/* Wakes the watchers of the changed mailboxes (all of them when changes is
 * NULL or holds the store's "anything" entry, user 0): O(changes x watchers
 * of those users), not O(all watchers). */
static void srv_watch_wake(struct srv_host *h, const store_change_t *changes, size_t n)
{
    int all = !changes;
    for (size_t i = 0; i < n && !all; i++)
        all = changes[i].user_id == 0; /* store.h: "anything may have changed" */
    pthread_mutex_lock(&h->watch_lock);
    if (all) {
        for (size_t b = 0; b < SRV_WATCH_BUCKETS; b++)
            for (struct petrel_session *s = h->watchers[b]; s; s = s->watch_next)
                srv_watch_poke(s);
    }
    for (size_t i = 0; !all && i < n; i++) {
        const store_change_t *c = &changes[i];
        for (struct petrel_session *s = *srv_watch_bucket(h, c->user_id); s; s = s->watch_next)
            if (s->user_id == c->user_id && (c->mailbox_id == 0 || c->mailbox_id == s->watch_mbox))
                srv_watch_poke(s);
    }
    pthread_mutex_unlock(&h->watch_lock);
}

/* The store's on_commit hook: on the committing thread (the writer). */
void srv_host_on_commit(const store_change_t *changes, size_t n, void *arg)
{
    struct srv_host *h = arg;
    srv_watch_wake(h, changes, n);
}

void srv_watch_notify_all(struct srv_host *h)
{
    srv_watch_wake(h, NULL, 0);
}
