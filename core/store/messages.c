/*
 * messages.c - append, deliver, get, list, CONDSTORE/QRESYNC queries.
 *
 * Every message change spends one modseq from its mailbox: the mailbox's
 * HIGHESTMODSEQ is incremented and becomes the message's MODSEQ (and the key
 * of its modseq-index entry), in the same write as the change and the
 * mailbox counters, so STATUS/SELECT never scan.
 */
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

int kw_has(const char *packed, size_t len, const char *kw)
{
    for (size_t off = 0; off < len;) {
        const char *k = packed + off;
        if (str_casecmp(k, kw) == 0) return 1;
        off += strlen(k) + 1;
    }
    return 0;
}

int kw_add(kw_set_t *s, const char *kw)
{
    if (name_keyword_ok(kw)) return PETREL_EINVAL;
    if (kw_has(s->buf, s->len, kw)) return 0;
    size_t n = strlen(kw) + 1;
    if (s->n >= MSG_KEYWORDS_MAX || s->len + n > sizeof(s->buf)) return PETREL_ETOOBIG;
    memcpy(s->buf + s->len, kw, n);
    s->len += n;
    s->n++;
    return 0;
}

int kw_pack(const char *const *kws, size_t n, kw_set_t *s)
{
    s->len = 0;
    s->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kws[i]) return PETREL_EINVAL;
        int rc = kw_add(s, kws[i]);
        if (rc) return rc;
    }
    return 0;
}

/* Adds every keyword of the set to the mailbox's keyword names. */
static int kw_register(kv_txn_t *kv, uint64_t user, uint32_t mbox, const char *packed, size_t len)
{
    uint8_t k[K_UM + STORE_KEYWORD_MAX];
    key_um(k, user, mbox);
    for (size_t off = 0; off < len;) {
        size_t n = strlen(packed + off);
        memcpy(k + K_UM, packed + off, n);
        kv_val_t v;
        int rc = kv_get(kv, T_KEYWORD, KV_VAL(k, K_UM + n), &v);
        if (rc == PETREL_ENOTFOUND)
            rc = kv_put(kv, T_KEYWORD, KV_VAL(k, K_UM + n), KV_VAL("", 0), 0);
        if (rc) return rc;
        off += n + 1;
    }
    return 0;
}

int modseq_index_put(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint64_t modseq, uint32_t uid)
{
    uint8_t k[K_UMQ], v[4];
    key_umq(k, user, mbox, modseq);
    be32_put(v, uid);
    /* a new modseq is the mailbox's largest: KV_APPEND fills pages when it is the table's too */
    return kv_put(kv, T_MODSEQ, KV_VAL(k, K_UMQ), KV_VAL(v, 4), KV_APPEND);
}

int modseq_index_del(kv_txn_t *kv, uint64_t user, uint32_t mbox, uint64_t modseq)
{
    uint8_t k[K_UMQ];
    key_umq(k, user, mbox, modseq);
    int rc = kv_del(kv, T_MODSEQ, KV_VAL(k, K_UMQ));
    if (rc == PETREL_ENOTFOUND)
        log_warn("event=store_inconsistent table=modseq user=%llu mailbox=%u modseq=%llu",
                 (unsigned long long)user, mbox, (unsigned long long)modseq);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int msg_insert(store_txn_t *txn, uint64_t user, uint32_t mbox, const msg_rec_t *in, uint32_t *uid_r)
{
    mbox_rec_t r;
    int rc = mbox_load(txn->kv, user, mbox, &r, NULL);
    if (rc) return rc;
    if (r.uidnext == UINT32_MAX)
        return PETREL_ETOOBIG; /* UID space exhausted: the mailbox needs a new UIDVALIDITY */
    uint32_t uid = r.uidnext++;
    msg_rec_t m = *in;
    m.modseq = ++r.highestmodseq;
    r.messages++;
    r.unseen += !(m.flags & STORE_F_SEEN);
    r.deleted += (m.flags & STORE_F_DELETED) != 0;
    r.bytes += m.size;
    uint8_t k[K_UMU], v[MSG_REC_MAX];
    key_umu(k, user, mbox, uid);
    user_rec_t u;
    rc = user_load(txn->kv, user, &u);
    if (!rc)
        rc = kv_put(txn->kv, T_MSG, KV_VAL(k, K_UMU), KV_VAL(v, msg_rec_enc(v, &m)), KV_APPEND);
    if (!rc) rc = modseq_index_put(txn->kv, user, mbox, m.modseq, uid);
    if (!rc) rc = mbox_save(txn->kv, user, mbox, &r);
    if (!rc) rc = usage_add(txn->kv, user, u.tenant_id, (int64_t)m.size, 1);
    if (!rc) rc = kw_register(txn->kv, user, mbox, m.keywords, m.keywords_len);
    if (rc) return store_kv_fail(rc, "msg_insert");
    store_txn_changed(txn, user, mbox);
    *uid_r = uid;
    return 0;
}

/*
 * The checks of an append, which write nothing: the user, the mailbox, its
 * UID space and the quotas. A failure here leaves txn as it was.
 */
static int msg_append_prepare(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                              const store_append_t *in)
{
    user_rec_t u;
    mbox_rec_t r;
    int rc = user_load(txn->kv, user_id, &u);
    if (!rc) rc = mbox_load(txn->kv, user_id, mailbox_id, &r, NULL);
    if (!rc && r.uidnext == UINT32_MAX) rc = PETREL_ETOOBIG; /* as msg_insert would say */
    if (!rc) rc = quota_check(txn->kv, user_id, &u, in->len, 1);
    return rc;
}

/* The writes of an append, once msg_append_prepare said yes. */
static int msg_append_write(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                            const store_append_t *in, const kw_set_t *kw,
                            const uint8_t hash[BLOB_HASH_LEN], uint32_t *uid_r)
{
    msg_rec_t m = {.size = in->len,
                   .internal_date = in->internal_date ? in->internal_date : (int64_t)time(NULL),
                   .flags = in->flags,
                   .keywords = kw->buf,
                   .keywords_len = kw->len,
                   .nkeywords = kw->n};
    int rc = blob_put(txn, in->data, in->len, hash, &m.blob_id);
    if (!rc) rc = msg_insert(txn, user_id, mailbox_id, &m, uid_r);
    return rc;
}

static int msg_append_hashed(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                             const store_append_t *in, const kw_set_t *kw,
                             const uint8_t hash[BLOB_HASH_LEN], uint32_t *uid_r)
{
    int rc = msg_append_prepare(txn, user_id, mailbox_id, in);
    return rc ? rc : msg_append_write(txn, user_id, mailbox_id, in, kw, hash, uid_r);
}

static int msg_append_check(const store_txn_t *txn, const store_append_t *in, kw_set_t *kw)
{
    if (!txn->write || !in || (!in->data && in->len) || (in->flags & ~STORE_F_ALL) ||
        (in->nkeywords && !in->keywords))
        return PETREL_EINVAL;
    return kw_pack(in->keywords, in->nkeywords, kw);
}

int store_msg_append(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                     const store_append_t *in, uint32_t *uid_r)
{
    kw_set_t kw;
    uint8_t hash[BLOB_HASH_LEN];
    int rc = msg_append_check(txn, in, &kw);
    if (!rc) rc = blob_hash(in->data, in->len, hash);
    uint32_t uid = 0;
    if (!rc) rc = msg_append_hashed(txn, user_id, mailbox_id, in, &kw, hash, &uid);
    if (!rc && uid_r) *uid_r = uid;
    return rc;
}

/* Errors that concern one target only; anything else fails the whole delivery. */
static int msg_deliver_local_err(int rc)
{
    return rc == PETREL_EQUOTA || rc == PETREL_ETENANTQUOTA || rc == PETREL_ENOTFOUND ||
           rc == PETREL_EINVAL || rc == PETREL_ETOOBIG || rc == PETREL_EPERM;
}

static void msg_deliver_log_failed(const store_target_t *t, int rc)
{
    log_info("event=deliver_target_failed user=%llu mailbox=%u error=\"%s\"",
             (unsigned long long)t->user_id, t->mailbox_id, store_strerror(rc));
}

/*
 * A single target needs no nested transaction (most deliveries: one nest
 * less, about 7k instructions and a 3 MB malloc/free in LMDB): its checks
 * write nothing, so a failure there is the target's own and leaves txn as it
 * was; a failure once the writes began is returned, so the caller aborts txn
 * (store.h: a nonzero return means the transaction is unusable).
 */
static int msg_deliver_one(store_txn_t *txn, const store_append_t *in, const store_target_t *t,
                           const kw_set_t *kw, const uint8_t hash[BLOB_HASH_LEN], int *result,
                           uint32_t *uid_r)
{
    *uid_r = 0;
    int rc = msg_append_prepare(txn, t->user_id, t->mailbox_id, in);
    *result = rc;
    if (rc) {
        if (!msg_deliver_local_err(rc)) return rc;
        msg_deliver_log_failed(t, rc);
        return 0;
    }
    rc = msg_append_write(txn, t->user_id, t->mailbox_id, in, kw, hash, uid_r);
    *result = rc;
    if (rc) *uid_r = 0;
    return rc;
}

int store_msg_deliver(store_txn_t *txn, const store_append_t *in, const store_target_t *targets,
                      size_t n, int *results, uint32_t *uids_r)
{
    kw_set_t kw;
    uint8_t hash[BLOB_HASH_LEN];
    if (!targets || !results || !uids_r) return PETREL_EINVAL;
    int rc = msg_append_check(txn, in, &kw);
    if (!rc) rc = blob_hash(in->data, in->len, hash);
    if (rc) return rc;
    if (n == 1) return msg_deliver_one(txn, in, &targets[0], &kw, hash, &results[0], &uids_r[0]);
    for (size_t i = 0; i < n; i++) {
        store_txn_t *child;
        uids_r[i] = 0;
        rc = store_txn_nest(txn, &child);
        if (rc) return rc;
        rc = msg_append_hashed(child, targets[i].user_id, targets[i].mailbox_id, in, &kw, hash,
                               &uids_r[i]);
        if (rc == 0)
            rc = store_txn_commit(&child);
        else
            store_txn_abort(&child);
        results[i] = rc;
        if (rc && !msg_deliver_local_err(rc)) return rc;
        if (rc) msg_deliver_log_failed(&targets[i], rc);
    }
    return 0;
}

int store_msg_get(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid,
                  store_msg_t *m_r)
{
    msg_rec_t r;
    int rc = msg_load(txn->kv, user_id, mailbox_id, uid, &r);
    if (!rc) msg_to_public(user_id, mailbox_id, uid, &r, m_r);
    return rc;
}

int store_msg_list(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid_lo,
                   uint32_t uid_hi, store_msg_cb cb, void *arg)
{
    uint8_t k[K_UMU];
    key_umu(k, user_id, mailbox_id, uid_lo);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_MSG, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, K_UMU), &key, &val);
    while (rc == 0 && key.len == K_UMU && memcmp(key.data, k, K_UM) == 0) {
        uint32_t uid = be32_get((const uint8_t *)key.data + K_UM);
        if (uid > uid_hi) break;
        msg_rec_t r;
        store_msg_t m;
        rc = msg_rec_dec(val.data, val.len, &r);
        if (rc) break;
        msg_to_public(user_id, mailbox_id, uid, &r, &m);
        rc = cb(&m, arg);
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

/* The flags of an encoded message record: the fourth varint (codec.c msg_rec_enc). */
static int msg_rec_flags(const uint8_t *p, size_t len, uint32_t *flags_r)
{
    const uint8_t *end = p + len;
    uint64_t v = 0;
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = varint_get(&p, end, &v);
    *flags_r = (uint32_t)v;
    return rc;
}

int store_msg_uids(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t *uids,
                   size_t cap, size_t *n_r, uint32_t *first_unseen_r)
{
    uint8_t k[K_UMU];
    key_umu(k, user_id, mailbox_id, 0);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_MSG, &c);
    if (rc) return rc;
    size_t n = 0;
    uint32_t first_unseen = 0;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, K_UMU), &key, &val);
    while (rc == 0 && key.len == K_UMU && memcmp(key.data, k, K_UM) == 0) {
        if (n == cap) {
            rc = PETREL_ETOOBIG;
            break;
        }
        uids[n++] = be32_get((const uint8_t *)key.data + K_UM);
        if (!first_unseen) {
            uint32_t flags;
            rc = msg_rec_flags(val.data, val.len, &flags);
            if (rc) break;
            if (!(flags & STORE_F_SEEN)) first_unseen = (uint32_t)n;
        }
        rc = kv_cursor_next(c, &key, first_unseen ? NULL : &val);
    }
    kv_cursor_close(&c);
    if (rc == PETREL_ENOTFOUND) rc = 0;
    *n_r = n;
    if (first_unseen_r) *first_unseen_r = first_unseen;
    return rc;
}

/*
 * Walks a (user, mailbox, modseq) -> uid table (the modseq index or the
 * expunge records) from modseq + 1 on, in modseq order, calling fn for each
 * entry; fn's nonzero result stops the walk and is returned.
 */
static int msg_modseq_walk(store_txn_t *txn, unsigned table, uint64_t user_id,
                           uint32_t mailbox_id, uint64_t modseq,
                           int (*fn)(store_txn_t *txn, uint32_t uid, uint64_t modseq, void *arg),
                           void *arg)
{
    if (modseq == UINT64_MAX) return 0;
    uint8_t k[K_UMQ];
    key_umq(k, user_id, mailbox_id, modseq + 1);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, table, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, K_UMQ), &key, &val);
    while (rc == 0 && key.len == K_UMQ && memcmp(key.data, k, K_UM) == 0) {
        rc = val.len == 4 ? fn(txn, be32_get(val.data),
                               be64_get((const uint8_t *)key.data + K_UM), arg)
                          : PETREL_ECORRUPT;
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

struct msg_changed_ctx {
    uint64_t user_id;
    uint32_t mailbox_id;
    store_msg_cb cb;
    void *arg;
};

static int msg_changed_one(store_txn_t *txn, uint32_t uid, uint64_t modseq, void *arg)
{
    (void)modseq;
    struct msg_changed_ctx *x = arg;
    store_msg_t m;
    int rc = store_msg_get(txn, x->user_id, x->mailbox_id, uid, &m);
    return rc ? rc : x->cb(&m, x->arg);
}

int store_msg_changed_since(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                            uint64_t modseq, store_msg_cb cb, void *arg)
{
    struct msg_changed_ctx x = {user_id, mailbox_id, cb, arg};
    return msg_modseq_walk(txn, T_MODSEQ, user_id, mailbox_id, modseq, msg_changed_one, &x);
}

struct msg_vanished_ctx {
    store_uid_cb cb;
    void *arg;
};

static int msg_vanished_one(store_txn_t *txn, uint32_t uid, uint64_t modseq, void *arg)
{
    (void)txn;
    struct msg_vanished_ctx *x = arg;
    return x->cb(uid, modseq, x->arg);
}

int store_msg_vanished_since(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                             uint64_t modseq, store_uid_cb cb, void *arg)
{
    struct msg_vanished_ctx x = {cb, arg};
    return msg_modseq_walk(txn, T_EXPUNGE, user_id, mailbox_id, modseq, msg_vanished_one, &x);
}
