/*
 * mailboxes.c - mailbox create/get/list/delete/rename, special-use, recent.
 *
 * UIDVALIDITY comes from one global counter in meta ("uidvalidity"): each new
 * mailbox takes max(last + 1, now), so no (user, name) incarnation ever sees a
 * value twice, also after delete + create or a user re-created under the same
 * address. A rename keeps the mailbox id and its UIDVALIDITY: that value was
 * never handed to any mailbox of the new name.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_int.h"
#include "util/log.h"
#include "util/str.h"

static size_t mbname_key(uint8_t *k, uint64_t user, const char *name)
{
    size_t n = strlen(name);
    be64_put(k, user);
    memcpy(k + 8, name, n);
    return 8 + n;
}

static int mbname_lookup(kv_txn_t *kv, uint64_t user, const char *name, uint32_t *id_r)
{
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX];
    kv_val_t v;
    int rc = kv_get(kv, T_MBNAME, KV_VAL(k, mbname_key(k, user, name)), &v);
    if (rc) return store_kv_fail(rc, "mbname_lookup");
    if (v.len != 4) return PETREL_ECORRUPT;
    *id_r = be32_get(v.data);
    return 0;
}

/* Writes the whole mailbox record (fixed part + name). */
static int mbox_put_full(kv_txn_t *kv, uint64_t user, uint32_t id, const mbox_rec_t *r,
                         const char *name)
{
    uint8_t k[K_UM], v[MBOX_REC_FIXED + STORE_MAILBOX_NAME_MAX];
    size_t n = strlen(name);
    key_um(k, user, id);
    mbox_rec_enc(v, r);
    memcpy(v + MBOX_REC_FIXED, name, n);
    return kv_put(kv, T_MBOX, KV_VAL(k, K_UM), KV_VAL(v, MBOX_REC_FIXED + n), 0);
}

static int mbox_next_uidvalidity(kv_txn_t *kv, uint32_t *v_r)
{
    uint64_t last;
    int rc = meta_get_u64(kv, "uidvalidity", &last);
    if (rc) return rc;
    uint64_t now = (uint64_t)time(NULL) & 0xffffffffu;
    uint64_t v = last + 1 > now ? last + 1 : now;
    if (v > 0xffffffffu) v = 1; /* wrapped after 4e9 mailboxes or in 2106: start over */
    *v_r = (uint32_t)v;
    uint8_t b[4];
    be32_put(b, (uint32_t)v);
    return kv_put(kv, T_META, KV_VAL("uidvalidity", 11), KV_VAL(b, 4), 0);
}

int mbox_create_one(store_txn_t *txn, uint64_t user, const char *name, uint32_t special_use,
                    uint32_t *id_r)
{
    user_rec_t u;
    int rc = user_load(txn->kv, user, &u);
    if (rc) return rc;
    uint32_t id = u.next_mbox ? u.next_mbox : 1;
    u.next_mbox = id + 1;
    mbox_rec_t r = {.uidnext = 1,
                    .highestmodseq = MBOX_FIRST_MODSEQ,
                    .first_recent = 1,
                    .special_use = special_use};
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX], v[4];
    be32_put(v, id);
    rc = kv_put(txn->kv, T_MBNAME, KV_VAL(k, mbname_key(k, user, name)), KV_VAL(v, 4),
                KV_NOOVERWRITE);
    if (!rc) rc = mbox_next_uidvalidity(txn->kv, &r.uidvalidity);
    if (!rc) rc = user_save(txn->kv, user, &u);
    if (!rc) rc = mbox_put_full(txn->kv, user, id, &r, name);
    if (rc) return rc == PETREL_EEXIST ? rc : store_kv_fail(rc, "mailbox_create");
    store_txn_changed(txn, user, 0);
    *id_r = id;
    return 0;
}

int store_mailbox_create(store_txn_t *txn, uint64_t user_id, const char *name, uint32_t special_use,
                         uint32_t *id_r)
{
    char n[STORE_MAILBOX_NAME_MAX + 1];
    if (!txn->write || name_mailbox(name, n) || special_use >= 128) return PETREL_EINVAL;
    uint32_t id;
    int rc = mbname_lookup(txn->kv, user_id, n, &id);
    if (rc == 0) return PETREL_EEXIST;
    if (rc != PETREL_ENOTFOUND) return rc;
    user_rec_t u;
    rc = user_load(txn->kv, user_id, &u);
    if (rc) return rc;
    /* parents first (RFC 3501 CREATE creates the missing levels) */
    for (char *s = strchr(n, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        rc = mbname_lookup(txn->kv, user_id, n, &id);
        if (rc == PETREL_ENOTFOUND) rc = mbox_create_one(txn, user_id, n, 0, &id);
        *s = '/';
        if (rc) return rc;
    }
    rc = mbox_create_one(txn, user_id, n, special_use, &id);
    if (rc) return rc;
    log_info("event=mailbox_create user=%llu mailbox=%u", (unsigned long long)user_id, id);
    if (id_r) *id_r = id;
    return 0;
}

static int subs_has(kv_txn_t *kv, uint64_t user, const char *name, int *on_r)
{
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX];
    kv_val_t v;
    int rc = kv_get(kv, T_SUBS, KV_VAL(k, mbname_key(k, user, name)), &v);
    *on_r = rc == 0;
    return rc == PETREL_ENOTFOUND ? 0 : store_kv_fail(rc, "subs_get");
}

int store_mailbox_get_by_id(store_txn_t *txn, uint64_t user_id, uint32_t id, store_mailbox_t *m_r)
{
    int rc = mbox_load(txn->kv, user_id, id, NULL, m_r);
    return rc ? rc : subs_has(txn->kv, user_id, m_r->name, &m_r->subscribed);
}

int store_mailbox_get(store_txn_t *txn, uint64_t user_id, const char *name, store_mailbox_t *m_r)
{
    char n[STORE_MAILBOX_NAME_MAX + 1];
    uint32_t id;
    if (name_mailbox(name, n)) return PETREL_EINVAL;
    int rc = mbname_lookup(txn->kv, user_id, n, &id);
    return rc ? rc : store_mailbox_get_by_id(txn, user_id, id, m_r);
}

int mbox_purge(store_txn_t *txn, uint64_t user, uint32_t mbox, const user_rec_t *u)
{
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_MSG, &c);
    if (rc) return rc;
    uint64_t bytes = 0, count = 0;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, K_UM), &key, &val);
    while (rc == 0 && key.len == K_UMU && memcmp(key.data, k, K_UM) == 0) {
        msg_rec_t m;
        rc = msg_rec_dec(val.data, val.len, &m);
        if (!rc) rc = blob_unref(txn->kv, m.blob_id);
        bytes += m.size;
        count++;
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    if (rc && rc != PETREL_ENOTFOUND) return rc;
    static const unsigned tables[] = {T_MSG, T_MODSEQ, T_EXPUNGE, T_KEYWORD};
    rc = 0;
    for (size_t i = 0; !rc && i < sizeof(tables) / sizeof(tables[0]); i++)
        rc = kvx_del_prefix(txn->kv, tables[i], k, K_UM);
    if (!rc && count) rc = usage_add(txn->kv, user, u->tenant_id, -(int64_t)bytes, -(int64_t)count);
    return rc;
}

int store_mailbox_delete(store_txn_t *txn, uint64_t user_id, const char *name)
{
    char n[STORE_MAILBOX_NAME_MAX + 1];
    if (!txn->write || name_mailbox(name, n)) return PETREL_EINVAL;
    if (strcmp(n, "INBOX") == 0) return PETREL_EPERM;
    uint32_t id;
    user_rec_t u;
    int rc = mbname_lookup(txn->kv, user_id, n, &id);
    if (!rc) rc = user_load(txn->kv, user_id, &u);
    if (!rc) rc = mbox_purge(txn, user_id, id, &u);
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX];
    if (!rc) rc = kv_del(txn->kv, T_MBNAME, KV_VAL(k, mbname_key(k, user_id, n)));
    key_um(k, user_id, id);
    if (!rc) rc = kv_del(txn->kv, T_MBOX, KV_VAL(k, K_UM));
    if (rc) return store_kv_fail(rc, "mailbox_delete");
    log_info("event=mailbox_delete user=%llu mailbox=%u", (unsigned long long)user_id, id);
    store_txn_changed(txn, user_id, id);
    store_txn_changed(txn, user_id, 0);
    return 0;
}

/* ---------------------------------------------------------------- rename */

typedef struct mbox_ren {
    uint32_t id;
    char old[STORE_MAILBOX_NAME_MAX + 1];
    char new[STORE_MAILBOX_NAME_MAX + 1];
} mbox_ren_t;

/* Collects old_name and its children with their new names. */
static int mbox_ren_collect(kv_txn_t *kv, uint64_t user, const char *old_name, const char *new_name,
                            mbox_ren_t **list_r, size_t *n_r)
{
    size_t olen = strlen(old_name), nlen = strlen(new_name), n = 0, cap = 0;
    mbox_ren_t *list = NULL;
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX];
    size_t kn = mbname_key(k, user, old_name);
    kv_cursor_t *c;
    int rc = kv_cursor_open(kv, T_MBNAME, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, kn), &key, &val);
    while (rc == 0 && key.len >= kn && memcmp(key.data, k, kn) == 0) {
        const char *name = (const char *)key.data + 8;
        size_t len = key.len - 8;
        if (len == olen || name[olen] == '/') {
            if (nlen + len - olen > MBOX_NAME_KEY_MAX || val.len != 4) {
                rc = val.len != 4 ? PETREL_ECORRUPT : PETREL_EINVAL;
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                mbox_ren_t *nl = realloc(list, cap * sizeof(*list));
                if (!nl) {
                    rc = PETREL_ENOMEM;
                    break;
                }
                list = nl;
            }
            mbox_ren_t *e = &list[n++];
            e->id = be32_get(val.data);
            memcpy(e->old, name, len);
            e->old[len] = '\0';
            memcpy(e->new, new_name, nlen);
            memcpy(e->new + nlen, name + olen, len - olen);
            e->new[nlen + len - olen] = '\0';
        }
        rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    if (rc && rc != PETREL_ENOTFOUND) {
        free(list);
        return rc;
    }
    *list_r = list;
    *n_r = n;
    return 0;
}

static int mbox_ren_one(store_txn_t *txn, uint64_t user, const mbox_ren_t *e)
{
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX], v[4];
    mbox_rec_t r;
    int rc = mbox_load(txn->kv, user, e->id, &r, NULL);
    if (!rc) rc = kv_del(txn->kv, T_MBNAME, KV_VAL(k, mbname_key(k, user, e->old)));
    be32_put(v, e->id);
    if (!rc)
        rc = kv_put(txn->kv, T_MBNAME, KV_VAL(k, mbname_key(k, user, e->new)), KV_VAL(v, 4),
                    KV_NOOVERWRITE);
    if (!rc) rc = mbox_put_full(txn->kv, user, e->id, &r, e->new);
    int on = 0;
    if (!rc) rc = subs_has(txn->kv, user, e->old, &on);
    if (!rc && on) {
        rc = kv_del(txn->kv, T_SUBS, KV_VAL(k, mbname_key(k, user, e->old)));
        if (!rc)
            rc = kv_put(txn->kv, T_SUBS, KV_VAL(k, mbname_key(k, user, e->new)), KV_VAL("", 0), 0);
    }
    store_txn_changed(txn, user, e->id);
    return rc;
}

/* RFC 3501: renaming INBOX moves its messages to a new mailbox; INBOX stays, empty. */
static int mbox_rename_inbox(store_txn_t *txn, uint64_t user, const char *new_name)
{
    uint32_t inbox, dst;
    int rc = mbname_lookup(txn->kv, user, "INBOX", &inbox);
    if (!rc) rc = store_mailbox_create(txn, user, new_name, 0, &dst);
    while (!rc) {
        uint8_t k[K_UM];
        key_um(k, user, inbox);
        kv_cursor_t *c;
        rc = kv_cursor_open(txn->kv, T_MSG, &c);
        if (rc) break;
        kv_val_t key;
        rc = kv_cursor_seek(c, KV_VAL(k, K_UM), &key, NULL);
        int more = rc == 0 && key.len == K_UMU && memcmp(key.data, k, K_UM) == 0;
        uint32_t uid = more ? be32_get((const uint8_t *)key.data + K_UM) : 0;
        kv_cursor_close(&c);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && !more)) return 0;
        uint32_t nu;
        if (!rc) rc = msg_copy_int(txn, user, inbox, uid, dst, 0, &nu);
        if (!rc) rc = msg_remove(txn, user, inbox, uid, 1);
    }
    return rc;
}

int store_mailbox_rename(store_txn_t *txn, uint64_t user_id, const char *old_name,
                         const char *new_name)
{
    char o[STORE_MAILBOX_NAME_MAX + 1], n[STORE_MAILBOX_NAME_MAX + 1];
    if (!txn->write || name_mailbox(old_name, o) || name_mailbox(new_name, n)) return PETREL_EINVAL;
    uint32_t id;
    int rc = mbname_lookup(txn->kv, user_id, o, &id);
    if (rc) return rc;
    rc = mbname_lookup(txn->kv, user_id, n, &id);
    if (rc == 0) return PETREL_EEXIST;
    if (rc != PETREL_ENOTFOUND) return rc;
    if (strcmp(o, "INBOX") == 0) return mbox_rename_inbox(txn, user_id, n);
    size_t olen = strlen(o);
    if (strcmp(n, "INBOX") == 0 || (strncmp(n, o, olen) == 0 && n[olen] == '/'))
        return PETREL_EINVAL;
    mbox_ren_t *list;
    size_t cnt;
    rc = mbox_ren_collect(txn->kv, user_id, o, n, &list, &cnt);
    if (rc) return rc;
    for (size_t i = 0; !rc && i < cnt; i++) {
        uint32_t other;
        rc = mbname_lookup(txn->kv, user_id, list[i].new, &other);
        rc = rc == 0 ? PETREL_EEXIST : (rc == PETREL_ENOTFOUND ? 0 : rc);
    }
    /* parents of the new name */
    for (char *s = strchr(n, '/'); !rc && s; s = strchr(s + 1, '/')) {
        *s = '\0';
        uint32_t pid;
        rc = mbname_lookup(txn->kv, user_id, n, &pid);
        if (rc == PETREL_ENOTFOUND) rc = mbox_create_one(txn, user_id, n, 0, &pid);
        *s = '/';
    }
    for (size_t i = 0; !rc && i < cnt; i++)
        rc = mbox_ren_one(txn, user_id, &list[i]);
    free(list);
    if (rc) return rc == PETREL_EEXIST ? rc : store_kv_fail(rc, "mailbox_rename");
    log_info("event=mailbox_rename user=%llu mailboxes=%zu", (unsigned long long)user_id, cnt);
    store_txn_changed(txn, user_id, 0);
    return 0;
}

int store_mailbox_list(store_txn_t *txn, uint64_t user_id, store_mailbox_cb cb, void *arg)
{
    uint8_t k[8];
    be64_put(k, user_id);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_MBNAME, &c);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, &val);
    while (rc == 0 && key.len > 8 && memcmp(key.data, k, 8) == 0) {
        store_mailbox_t m;
        rc = val.len == 4 ? store_mailbox_get_by_id(txn, user_id, be32_get(val.data), &m)
                          : PETREL_ECORRUPT;
        if (!rc) rc = cb(&m, arg);
        if (!rc) rc = kv_cursor_next(c, &key, &val);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_mailbox_set_special_use(store_txn_t *txn, uint64_t user_id, const char *name,
                                  uint32_t special_use)
{
    char n[STORE_MAILBOX_NAME_MAX + 1];
    if (!txn->write || name_mailbox(name, n) || special_use >= 128) return PETREL_EINVAL;
    uint32_t id;
    mbox_rec_t r;
    int rc = mbname_lookup(txn->kv, user_id, n, &id);
    if (!rc) rc = mbox_load(txn->kv, user_id, id, &r, NULL);
    if (rc) return rc;
    r.special_use = special_use;
    rc = mbox_save(txn->kv, user_id, id, &r);
    if (!rc) store_txn_changed(txn, user_id, 0);
    return rc;
}

int store_subscribe(store_txn_t *txn, uint64_t user_id, const char *name, int on)
{
    char n[STORE_MAILBOX_NAME_MAX + 1];
    if (!txn->write || name_mailbox(name, n)) return PETREL_EINVAL;
    user_rec_t u;
    int rc = user_load(txn->kv, user_id, &u);
    if (rc) return rc;
    uint8_t k[8 + STORE_MAILBOX_NAME_MAX];
    size_t kn = mbname_key(k, user_id, n);
    if (on)
        rc = kv_put(txn->kv, T_SUBS, KV_VAL(k, kn), KV_VAL("", 0), 0);
    else
        rc = kv_del(txn->kv, T_SUBS, KV_VAL(k, kn));
    if (rc) return store_kv_fail(rc, "subscribe");
    store_txn_changed(txn, user_id, 0);
    return 0;
}

int store_subscription_list(store_txn_t *txn, uint64_t user_id, store_name_cb cb, void *arg)
{
    uint8_t k[8];
    be64_put(k, user_id);
    kv_cursor_t *c;
    int rc = kv_cursor_open(txn->kv, T_SUBS, &c);
    if (rc) return rc;
    kv_val_t key;
    rc = kv_cursor_seek(c, KV_VAL(k, 8), &key, NULL);
    while (rc == 0 && key.len > 8 && key.len <= 8 + STORE_MAILBOX_NAME_MAX &&
           memcmp(key.data, k, 8) == 0) {
        char name[STORE_MAILBOX_NAME_MAX + 1];
        memcpy(name, (const char *)key.data + 8, key.len - 8);
        name[key.len - 8] = '\0';
        rc = cb(name, arg);
        if (!rc) rc = kv_cursor_next(c, &key, NULL);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

int store_mailbox_clear_recent(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                               uint32_t uid)
{
    if (!txn->write) return PETREL_EINVAL;
    mbox_rec_t r;
    int rc = mbox_load(txn->kv, user_id, mailbox_id, &r, NULL);
    if (rc || uid <= r.first_recent) return rc;
    r.first_recent = uid;
    return mbox_save(txn->kv, user_id, mailbox_id, &r);
}

int store_mailbox_keywords(store_txn_t *txn, uint64_t user_id, uint32_t mailbox_id,
                           store_name_cb cb, void *arg)
{
    uint8_t k[K_UM];
    key_um(k, user_id, mailbox_id);
    int rc = mbox_load(txn->kv, user_id, mailbox_id, NULL, NULL);
    if (rc) return rc;
    kv_cursor_t *c;
    rc = kv_cursor_open(txn->kv, T_KEYWORD, &c);
    if (rc) return rc;
    kv_val_t key;
    rc = kv_cursor_seek(c, KV_VAL(k, K_UM), &key, NULL);
    while (rc == 0 && key.len > K_UM && key.len <= K_UM + STORE_KEYWORD_MAX &&
           memcmp(key.data, k, K_UM) == 0) {
        char kw[STORE_KEYWORD_MAX + 1];
        memcpy(kw, (const char *)key.data + K_UM, key.len - K_UM);
        kw[key.len - K_UM] = '\0';
        rc = cb(kw, arg);
        if (!rc) rc = kv_cursor_next(c, &key, NULL);
    }
    kv_cursor_close(&c);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}
