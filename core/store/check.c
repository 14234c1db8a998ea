/*
 * check.c - store_check: verifies every invariant of schema.h and repairs
 * what can be recomputed (mailbox counters, UIDNEXT/HIGHESTMODSEQ floors, the
 * modseq index, usage records, blob refcounts, unreferenced blobs, the
 * blob_bytes total) in one write transaction.
 *
 * Passes: tenants are loaded into a sorted array (usage sums); then per user
 * (T_USER order) its mailboxes and their messages; then orphans (mailboxes of
 * no user, messages of no mailbox); then tenants' usage; then blobs against
 * the sorted list of blob ids that messages reference. Iteration re-seeks
 * after each step, so repairs written meanwhile never upset a cursor.
 * Memory: 8 bytes per message (the blob id list) and 24 per tenant.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/check_int.h"
#include "util/log.h"
#include "util/str.h"

void chk_report(chk_t *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->problems++;
    log_warn("event=store_check problem=\"%s\" repair=%d", line, c->repair);
    if (c->cb) c->cb(line, c->arg);
}

int ids_push(ids_t *s, uint64_t v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *nv = realloc(s->v, cap * sizeof(*nv));
        if (!nv) return PETREL_ENOMEM;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    return 0;
}

int chk_seek(kv_txn_t *kv, unsigned table, const void *seek, size_t slen, uint8_t *key_r,
             size_t cap, size_t *klen_r)
{
    kv_cursor_t *cur;
    int rc = kv_cursor_open(kv, table, &cur);
    if (rc) return rc;
    kv_val_t k;
    rc = slen ? kv_cursor_seek(cur, KV_VAL(seek, slen), &k, NULL) : kv_cursor_first(cur, &k, NULL);
    if (!rc) {
        *klen_r = k.len < cap ? k.len : cap;
        memcpy(key_r, k.data, *klen_r);
    }
    kv_cursor_close(&cur);
    return rc;
}

/* Counts keys of table that begin with prefix. */
int chk_count(kv_txn_t *kv, unsigned table, const void *prefix, size_t plen, uint64_t *n_r)
{
    kv_cursor_t *cur;
    int rc = kv_cursor_open(kv, table, &cur);
    if (rc) return rc;
    kv_val_t k;
    *n_r = 0;
    rc = kv_cursor_seek(cur, KV_VAL(prefix, plen), &k, NULL);
    while (rc == 0 && k.len >= plen && memcmp(k.data, prefix, plen) == 0) {
        (*n_r)++;
        rc = kv_cursor_next(cur, &k, NULL);
    }
    kv_cursor_close(&cur);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- tenants */

static int chk_load_tenants(chk_t *c)
{
    uint8_t key[64], seek[8];
    size_t klen, cap = 0;
    uint64_t next = 0;
    for (;;) {
        be64_put(seek, next);
        int rc = chk_seek(c->kv, T_TENANT, seek, 8, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND) return 0;
        if (rc) return rc;
        if (klen != 8) return PETREL_ECORRUPT;
        uint64_t id = be64_get(key);
        if (c->ntenants == cap) {
            cap = cap ? cap * 2 : 64;
            tsum_t *nt = realloc(c->tenants, cap * sizeof(*nt));
            if (!nt) return PETREL_ENOMEM;
            c->tenants = nt;
        }
        c->tenants[c->ntenants++] = (tsum_t){id, 0, 0};
        if (id == UINT64_MAX) return 0;
        next = id + 1;
    }
}

static tsum_t *chk_tenant(chk_t *c, uint64_t id)
{
    size_t lo = 0, hi = c->ntenants;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->tenants[mid].id == id) return &c->tenants[mid];
        if (c->tenants[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---------------------------------------------------------------- mailboxes */

typedef struct mstat {
    uint32_t messages, unseen, deleted, max_uid, bad_index;
    uint64_t bytes, max_modseq;
} mstat_t;

static int chk_scan_messages(chk_t *c, uint64_t user, uint32_t mbox, mstat_t *s)
{
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    memset(s, 0, sizeof(*s));
    kv_cursor_t *cur;
    int rc = kv_cursor_open(c->kv, T_MSG, &cur);
    if (rc) return rc;
    kv_val_t key, val;
    rc = kv_cursor_seek(cur, KV_VAL(k, K_UM), &key, &val);
    while (rc == 0 && key.len == K_UMU && memcmp(key.data, k, K_UM) == 0) {
        uint32_t uid = be32_get((const uint8_t *)key.data + K_UM);
        msg_rec_t m;
        if (msg_rec_dec(val.data, val.len, &m)) {
            chk_report(c, "message user=%llu mailbox=%u uid=%u: undecodable record",
                       (unsigned long long)user, mbox, uid);
            rc = kv_cursor_next(cur, &key, &val);
            continue;
        }
        s->messages++;
        s->unseen += !(m.flags & STORE_F_SEEN);
        s->deleted += (m.flags & STORE_F_DELETED) != 0;
        s->bytes += m.size;
        s->max_uid = uid > s->max_uid ? uid : s->max_uid;
        s->max_modseq = m.modseq > s->max_modseq ? m.modseq : s->max_modseq;
        rc = ids_push(&c->blobs, m.blob_id);
        uint8_t qk[K_UMQ];
        kv_val_t qv;
        key_umq(qk, user, mbox, m.modseq);
        int grc = rc ? rc : kv_get(c->kv, T_MODSEQ, KV_VAL(qk, K_UMQ), &qv);
        if (grc == PETREL_ENOTFOUND || (grc == 0 && (qv.len != 4 || be32_get(qv.data) != uid)))
            s->bad_index++;
        else if (grc)
            rc = grc;
        if (!rc) rc = kv_cursor_next(cur, &key, &val);
    }
    kv_cursor_close(&cur);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

static int chk_rebuild_index(chk_t *c, uint64_t user, uint32_t mbox)
{
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    int rc = kvx_del_prefix(c->kv, T_MODSEQ, k, K_UM);
    uint32_t next = 0;
    while (!rc) {
        uint8_t seek[K_UMU], key[K_UMU];
        size_t klen;
        key_umu(seek, user, mbox, next);
        rc = chk_seek(c->kv, T_MSG, seek, K_UMU, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && (klen != K_UMU || memcmp(key, k, K_UM))))
            return 0;
        uint32_t uid = be32_get(key + K_UM);
        msg_rec_t m;
        if (!rc) rc = msg_load(c->kv, user, mbox, uid, &m);
        if (!rc) rc = modseq_index_put(c->kv, user, mbox, m.modseq, uid);
        if (uid == UINT32_MAX) break;
        next = uid + 1;
    }
    return rc;
}

/* The expunge records' sentinel (vanished.c) agrees with the records. A lost
 * floor is rebuilt as "everything before the oldest record is gone": at worst
 * a resyncing client gets the longer QRESYNC fallback, never a short list. */
static int chk_vanished_head(chk_t *c, uint64_t user, uint32_t mbox, const vanished_stat_t *e,
                             uint64_t highestmodseq)
{
    vanished_head_t h;
    int found = 0;
    int rc = vanished_head_load(c->kv, user, mbox, &h, &found);
    if (rc && rc != PETREL_ECORRUPT) return rc;
    vanished_head_t want = h;
    if (rc == PETREL_ECORRUPT)
        want.floor = e->n ? e->min - 1 : highestmodseq;
    else if (!found)
        return 0; /* counted on the next expunge */
    else if (e->n && h.floor >= e->min)
        want.floor = e->min - 1;
    want.count = e->n;
    if (rc == 0 && want.floor == h.floor && want.count == h.count) return 0;
    chk_report(c, "mailbox user=%llu id=%u: expunge sentinel %s (floor %llu count %u, %u records)",
               (unsigned long long)user, mbox, rc ? "undecodable" : "disagrees",
               (unsigned long long)h.floor, h.count, e->n);
    return c->repair ? vanished_head_save(c->kv, user, mbox, &want) : 0;
}

static int chk_mailbox(chk_t *c, uint64_t user, uint32_t mbox, store_usage_t *usage)
{
    mbox_rec_t r;
    store_mailbox_t m;
    int rc = mbox_load(c->kv, user, mbox, &r, &m);
    if (rc) return rc;
    uint8_t nk[8 + STORE_MAILBOX_NAME_MAX];
    kv_val_t nv;
    be64_put(nk, user);
    size_t nl = strlen(m.name);
    memcpy(nk + 8, m.name, nl);
    rc = kv_get(c->kv, T_MBNAME, KV_VAL(nk, 8 + nl), &nv);
    if (rc == PETREL_ENOTFOUND || (rc == 0 && (nv.len != 4 || be32_get(nv.data) != mbox)))
        chk_report(c, "mailbox user=%llu id=%u: name entry missing or wrong",
                   (unsigned long long)user, mbox);
    else if (rc)
        return rc;
    mstat_t s;
    rc = chk_scan_messages(c, user, mbox, &s);
    if (rc) return rc;
    usage->bytes += s.bytes;
    usage->messages += s.messages;
    uint64_t nindex;
    uint8_t k[K_UM];
    key_um(k, user, mbox);
    rc = chk_count(c->kv, T_MODSEQ, k, K_UM, &nindex);
    if (rc) return rc;
    int fix = 0;
    if (s.messages != r.messages || s.unseen != r.unseen || s.deleted != r.deleted ||
        s.bytes != r.bytes) {
        chk_report(c,
                   "mailbox user=%llu id=%u: counters messages=%u/%u unseen=%u/%u "
                   "deleted=%u/%u bytes=%llu/%llu (stored/actual)",
                   (unsigned long long)user, mbox, r.messages, s.messages, r.unseen, s.unseen,
                   r.deleted, s.deleted, (unsigned long long)r.bytes, (unsigned long long)s.bytes);
        r.messages = s.messages;
        r.unseen = s.unseen;
        r.deleted = s.deleted;
        r.bytes = s.bytes;
        fix = 1;
    }
    if (s.max_uid && r.uidnext <= s.max_uid) {
        chk_report(c, "mailbox user=%llu id=%u: uidnext %u <= uid %u", (unsigned long long)user,
                   mbox, r.uidnext, s.max_uid);
        r.uidnext = s.max_uid + 1;
        fix = 1;
    }
    if (r.highestmodseq < s.max_modseq) {
        chk_report(c, "mailbox user=%llu id=%u: highestmodseq %llu < modseq %llu",
                   (unsigned long long)user, mbox, (unsigned long long)r.highestmodseq,
                   (unsigned long long)s.max_modseq);
        r.highestmodseq = s.max_modseq;
        fix = 1;
    }
    /* the newest expunge record must not be above HIGHESTMODSEQ either */
    vanished_stat_t e;
    rc = vanished_scan(c->kv, user, mbox, &e);
    if (!rc) rc = chk_vanished_head(c, user, mbox, &e, r.highestmodseq);
    if (rc) return rc;
    uint64_t max_exp = e.max;
    if (max_exp > r.highestmodseq) {
        chk_report(c, "mailbox user=%llu id=%u: highestmodseq %llu < expunge modseq %llu",
                   (unsigned long long)user, mbox, (unsigned long long)r.highestmodseq,
                   (unsigned long long)max_exp);
        r.highestmodseq = max_exp;
        fix = 1;
    }
    if (s.bad_index || nindex != s.messages) {
        chk_report(
            c, "mailbox user=%llu id=%u: modseq index has %llu entries, %u wrong, %u messages",
            (unsigned long long)user, mbox, (unsigned long long)nindex, s.bad_index, s.messages);
        if (c->repair && (rc = chk_rebuild_index(c, user, mbox)) != 0) return rc;
    }
    if (fix && c->repair) rc = mbox_save(c->kv, user, mbox, &r);
    return rc;
}

static int chk_usage(chk_t *c, char kind, uint64_t id, const store_usage_t *actual)
{
    store_usage_t u;
    int rc = usage_get(c->kv, kind, id, &u);
    if (rc || (u.bytes == actual->bytes && u.messages == actual->messages)) return rc;
    chk_report(c, "usage %s=%llu: bytes=%llu/%llu messages=%llu/%llu (stored/actual)",
               kind == USAGE_USER ? "user" : "tenant", (unsigned long long)id,
               (unsigned long long)u.bytes, (unsigned long long)actual->bytes,
               (unsigned long long)u.messages, (unsigned long long)actual->messages);
    if (!c->repair) return 0;
    return usage_adjust(c->kv, kind, id, (int64_t)actual->bytes - (int64_t)u.bytes,
                        (int64_t)actual->messages - (int64_t)u.messages);
}

static int chk_user(chk_t *c, uint64_t id)
{
    user_rec_t u;
    int rc = user_load(c->kv, id, &u);
    if (rc) return rc;
    tsum_t *t = chk_tenant(c, u.tenant_id);
    if (!t)
        chk_report(c, "user %llu: tenant %llu does not exist", (unsigned long long)id,
                   (unsigned long long)u.tenant_id);
    char local[STORE_LOCAL_MAX + 1], domain[STORE_DOMAIN_MAX + 1];
    uint64_t found = 0;
    if (name_address(u.address, local, domain) ||
        useraddr_lookup(c->kv, u.tenant_id, local, &found) || found != id)
        chk_report(c, "user %llu: address entry missing or wrong", (unsigned long long)id);
    store_usage_t usage = {0, 0};
    uint32_t next = 0;
    for (;;) {
        uint8_t seek[K_UM], key[K_UM];
        size_t klen;
        key_um(seek, id, next);
        rc = chk_seek(c->kv, T_MBOX, seek, K_UM, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND || (rc == 0 && (klen != K_UM || be64_get(key) != id))) {
            rc = 0;
            break;
        }
        uint32_t mbox = be32_get(key + 8);
        if (!rc) rc = chk_mailbox(c, id, mbox, &usage);
        if (rc || mbox == UINT32_MAX) break;
        if (mbox >= u.next_mbox)
            chk_report(c, "mailbox user=%llu id=%u: id >= next id %u", (unsigned long long)id, mbox,
                       u.next_mbox);
        next = mbox + 1;
    }
    if (!rc) rc = chk_usage(c, USAGE_USER, id, &usage);
    if (!rc && t) {
        t->bytes += usage.bytes;
        t->messages += usage.messages;
    }
    return rc;
}

static int chk_all(chk_t *c)
{
    int rc = chk_load_tenants(c);
    uint64_t next = 0;
    while (!rc) {
        uint8_t seek[8], key[8];
        size_t klen;
        be64_put(seek, next);
        rc = chk_seek(c->kv, T_USER, seek, 8, key, sizeof(key), &klen);
        if (rc == PETREL_ENOTFOUND) {
            rc = 0;
            break;
        }
        uint64_t id = be64_get(key);
        if (!rc) rc = chk_user(c, id);
        if (id == UINT64_MAX) break;
        next = id + 1;
    }
    if (!rc) rc = chk_orphans(c);
    for (size_t i = 0; !rc && i < c->ntenants; i++) {
        store_usage_t u = {c->tenants[i].bytes, c->tenants[i].messages};
        rc = chk_usage(c, USAGE_TENANT, c->tenants[i].id, &u);
    }
    if (!rc) rc = chk_outq(c); /* queued items hold blob references too */
    if (!rc) rc = chk_blobs(c);
    if (!rc) rc = chk_hash_index(c);
    return rc;
}

int store_check(store_t *st, int repair, store_check_cb cb, void *arg, unsigned *problems_r)
{
    chk_t c = {.repair = repair, .cb = cb, .arg = arg};
    int rc = repair ? store_write_begin(st, &c.txn) : store_read_begin(st, &c.txn);
    if (rc) return rc;
    c.kv = store_txn_kv(c.txn);
    rc = chk_all(&c);
    if (!rc && repair && c.problems) {
        store_txn_changed(c.txn, 0, 0);
        rc = store_txn_commit(&c.txn);
    } else {
        store_txn_abort(&c.txn);
    }
    free(c.blobs.v);
    free(c.tenants);
    if (rc)
        log_error("event=store_check error=\"%s\"", store_strerror(rc));
    else
        log_info("event=store_check problems=%u repair=%d", c.problems, repair);
    if (problems_r) *problems_r = c.problems;
    return rc;
}
