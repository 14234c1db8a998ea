/*
 * flags.c - flag/keyword changes (CONDSTORE), copy, move, expunge.
 *
 * Modseq rules (RFC 7162): a change that alters a message spends one modseq
 * (mailbox HIGHESTMODSEQ + 1, which becomes the message's MODSEQ); a no-op
 * spends none. An expunge spends one too and records (modseq -> uid) for
 * QRESYNC VANISHED. Values read from the store are copied before the first
 * write, which may move them.
 */
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

/* Keyword sets equal, ignoring order and case. */
static int kw_same(const kw_set_t *a, const kw_set_t *b)
{
    if (a->n != b->n) return 0;
    for (size_t off = 0; off < a->len; off += strlen(a->buf + off) + 1)
        if (!kw_has(b->buf, b->len, a->buf + off)) return 0;
    return 1;
}

static int kw_from_rec(const msg_rec_t *m, kw_set_t *s)
{
    if (m->keywords_len > sizeof(s->buf)) return PETREL_ECORRUPT;
    if (m->keywords_len) memcpy(s->buf, m->keywords, m->keywords_len);
    s->len = m->keywords_len;
    s->n = m->nkeywords;
    return 0;
}

static int kw_apply(const kw_set_t *old, enum store_flag_op op, const char *const *kws, size_t n,
                    kw_set_t *out)
{
    kw_set_t given;
    int rc = kw_pack(kws, n, &given);
    if (rc) return rc;
    if (op == STORE_FLAGS_SET) {
        *out = given;
        return 0;
    }
    *out = *old;
    if (op == STORE_FLAGS_ADD) {
        for (size_t off = 0; off < given.len; off += strlen(given.buf + off) + 1)
            if ((rc = kw_add(out, given.buf + off)) != 0) return rc;
        return 0;
    }
    out->len = 0;
    out->n = 0;
    for (size_t off = 0; off < old->len; off += strlen(old->buf + off) + 1)
        if (!kw_has(given.buf, given.len, old->buf + off) && (rc = kw_add(out, old->buf + off)))
            return rc;
    return 0;
}

static void mbox_count(mbox_rec_t *r, uint32_t flags, int sign)
{
    uint32_t unseen = !(flags & STORE_F_SEEN), del = (flags & STORE_F_DELETED) != 0;
    if (sign > 0) {
        r->unseen += unseen;
        r->deleted += del;
    } else {
        r->unseen -= r->unseen >= unseen ? unseen : r->unseen;
        r->deleted -= r->deleted >= del ? del : r->deleted;
    }
}

int store_msg_set_flags(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid,
                        enum store_flag_op op, uint32_t flags, const char *const *keywords,
                        size_t nkeywords, uint64_t unchangedsince, uint64_t *modseq_r)
{
    if (!txn->write || (flags & ~STORE_F_ALL) || op > STORE_FLAGS_REMOVE ||
        (nkeywords && !keywords))
        return PETREL_EINVAL;
    msg_rec_t m;
    kw_set_t oldkw, newkw;
    int rc = msg_load(txn->kv, user_id, mailbox_id, uid, &m);
    if (!rc) rc = kw_from_rec(&m, &oldkw);
    if (rc) return rc;
    if (unchangedsince && m.modseq > unchangedsince) return PETREL_EMODIFIED;
    uint32_t nf = op == STORE_FLAGS_SET   ? flags
                  : op == STORE_FLAGS_ADD ? (m.flags | flags)
                                          : (m.flags & ~flags);
    rc = kw_apply(&oldkw, op, keywords, nkeywords, &newkw);
    if (rc) return rc;
    if (nf == m.flags && kw_same(&oldkw, &newkw)) {
        if (modseq_r) *modseq_r = m.modseq;
        return 0;
    }
    mbox_rec_t r;
    rc = mbox_load(txn->kv, user_id, mailbox_id, &r, NULL);
    if (rc) return rc;
    uint64_t oldseq = m.modseq;
    mbox_count(&r, m.flags, -1);
    mbox_count(&r, nf, +1);
    m.flags = nf;
    m.modseq = ++r.highestmodseq;
    m.keywords = newkw.buf;
    m.keywords_len = newkw.len;
    m.nkeywords = newkw.n;
    uint8_t k[K_UMU], v[MSG_REC_MAX];
    key_umu(k, user_id, mailbox_id, uid);
    rc = kv_put(txn->kv, T_MSG, KV_VAL(k, K_UMU), KV_VAL(v, msg_rec_enc(v, &m)), 0);
    if (!rc) rc = modseq_index_del(txn->kv, user_id, mailbox_id, oldseq);
    if (!rc) rc = modseq_index_put(txn->kv, user_id, mailbox_id, m.modseq, uid);
    if (!rc) rc = mbox_save(txn->kv, user_id, mailbox_id, &r);
    if (!rc && newkw.len) {
        /* register new keyword names through an insert-free path */
        uint8_t kk[K_UM + STORE_KEYWORD_MAX];
        key_um(kk, user_id, mailbox_id);
        for (size_t off = 0; !rc && off < newkw.len; off += strlen(newkw.buf + off) + 1) {
            size_t n = strlen(newkw.buf + off);
            memcpy(kk + K_UM, newkw.buf + off, n);
            kv_val_t tmp;
            rc = kv_get(txn->kv, T_KEYWORD, KV_VAL(kk, K_UM + n), &tmp);
            if (rc == PETREL_ENOTFOUND)
                rc = kv_put(txn->kv, T_KEYWORD, KV_VAL(kk, K_UM + n), KV_VAL("", 0), 0);
        }
    }
    if (rc) return store_kv_fail(rc, "msg_set_flags");
    store_txn_changed(txn, user_id, mailbox_id);
    if (modseq_r) *modseq_r = m.modseq;
    return 0;
}

int msg_remove(store_txn_t *txn, uint64_t user, uint32_t mbox, uint32_t uid, int vanished)
{
    msg_rec_t m;
    mbox_rec_t r;
    user_rec_t u;
    int rc = msg_load(txn->kv, user, mbox, uid, &m);
    if (!rc) rc = mbox_load(txn->kv, user, mbox, &r, NULL);
    if (!rc) rc = user_load(txn->kv, user, &u);
    if (rc) return rc;
    uint8_t k[K_UMU];
    key_umu(k, user, mbox, uid);
    rc = kv_del(txn->kv, T_MSG, KV_VAL(k, K_UMU));
    if (!rc) rc = modseq_index_del(txn->kv, user, mbox, m.modseq);
    r.highestmodseq++;
    if (!rc && vanished) rc = vanished_record(txn, user, mbox, r.highestmodseq, uid);
    r.messages -= r.messages ? 1 : 0;
    mbox_count(&r, m.flags, -1);
    r.bytes -= r.bytes >= m.size ? m.size : r.bytes;
    if (!rc) rc = mbox_save(txn->kv, user, mbox, &r);
    if (!rc) rc = usage_add(txn->kv, user, u.tenant_id, -(int64_t)m.size, -1);
    if (!rc) rc = blob_unref(txn->kv, m.blob_id);
    if (rc) return store_kv_fail(rc, "msg_remove");
    store_txn_changed(txn, user, mbox);
    return 0;
}

int store_msg_expunge(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id, uint32_t uid)
{
    if (!txn->write) return PETREL_EINVAL;
    return msg_remove(txn, user_id, mailbox_id, uid, 1);
}

int msg_copy_int(store_txn_t *txn, uint64_t user, uint32_t src, uint32_t uid, uint32_t dst,
                 int check_quota, uint32_t *new_uid_r)
{
    msg_rec_t m;
    kw_set_t kw;
    user_rec_t u;
    int rc = msg_load(txn->kv, user, src, uid, &m);
    if (!rc) rc = kw_from_rec(&m, &kw);
    if (!rc) rc = mbox_load(txn->kv, user, dst, NULL, NULL);
    if (!rc) rc = user_load(txn->kv, user, &u);
    if (!rc && check_quota) rc = quota_check(txn->kv, user, &u, m.size, 1);
    if (rc) return rc;
    m.keywords = kw.buf;
    rc = blob_ref(txn->kv, m.blob_id);
    return rc ? rc : msg_insert(txn, user, dst, &m, new_uid_r);
}

int store_msg_copy(store_txn_t *txn, uint64_t user_id, uint32_t src_mailbox, uint32_t uid,
                   uint32_t dst_mailbox, uint32_t *new_uid_r)
{
    uint32_t nu = 0;
    if (!txn->write) return PETREL_EINVAL;
    int rc = msg_copy_int(txn, user_id, src_mailbox, uid, dst_mailbox, 1, &nu);
    if (!rc && new_uid_r) *new_uid_r = nu;
    return rc;
}

/* MOVE (RFC 6851) = copy + expunge; usage does not change, so no quota check. */
int store_msg_move(store_txn_t *txn, uint64_t user_id, uint32_t src_mailbox, uint32_t uid,
                   uint32_t dst_mailbox, uint32_t *new_uid_r)
{
    uint32_t nu = 0;
    if (!txn->write) return PETREL_EINVAL;
    int rc = msg_copy_int(txn, user_id, src_mailbox, uid, dst_mailbox, 0, &nu);
    if (!rc) rc = msg_remove(txn, user_id, src_mailbox, uid, 1);
    if (!rc && new_uid_r) *new_uid_r = nu;
    return rc;
}
