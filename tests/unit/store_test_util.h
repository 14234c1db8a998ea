/*
 * store_test_util.h - fixtures shared by the tests of core/store: a fresh
 * store in a mkdtemp directory (removed afterwards), a tenant and users, a
 * message builder and "store_check finds nothing" after every test.
 */
#ifndef PETREL_STORE_TEST_UTIL_H
#define PETREL_STORE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "util/log.h"

typedef struct sfx {
    char dir[160];
    store_t *st;
    store_opts_t opts;
    uint64_t tenant, user, user2;
    uint32_t inbox, inbox2;
} sfx_t;

static inline void sfx_rmrf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static inline int sfx_open(sfx_t *f)
{
    return store_open(f->dir, &f->opts, &f->st);
}

static inline int sfx_reopen(sfx_t *f)
{
    store_close(&f->st);
    return sfx_open(f);
}

static int sfx_base_op(store_txn_t *txn, void *arg)
{
    sfx_t *f = arg;
    store_mailbox_t m;
    int rc = store_tenant_add(txn, "example.com", STORE_PROTO_ALL, 0, &f->tenant);
    if (!rc) rc = store_user_add(txn, "alice@example.com", "", 0, 0, &f->user);
    if (!rc) rc = store_user_add(txn, "bob@example.com", "", 0, 0, &f->user2);
    if (!rc) rc = store_mailbox_get(txn, f->user, "INBOX", &m);
    f->inbox = m.id;
    if (!rc) rc = store_mailbox_get(txn, f->user2, "INBOX", &m);
    f->inbox2 = m.id;
    return rc;
}

/* A fresh store with tenant example.com and users alice and bob. */
static inline int sfx_setup(void **state)
{
    sfx_t *f = calloc(1, sizeof(*f));
    if (!f) return -1;
    log_set_level(LOG_LVL_WARN);
    snprintf(f->dir, sizeof(f->dir), "/tmp/petrel-store-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    f->opts.struct_size = sizeof(f->opts);
    f->opts.no_sync = 1;
    if (sfx_open(f) || store_write(f->st, sfx_base_op, f)) {
        sfx_rmrf(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void sfx_check_cb(const char *problem, void *arg)
{
    (void)arg;
    fprintf(stderr, "store_check: %s\n", problem);
}

static inline unsigned sfx_problems(sfx_t *f, int repair)
{
    unsigned n = 99999;
    int rc = store_check(f->st, repair, sfx_check_cb, NULL, &n);
    if (rc) fprintf(stderr, "store_check failed: %d\n", rc);
    return rc ? 99999 : n;
}

/* Tears down; fails the test when store_check finds anything. */
static inline int sfx_teardown(void **state)
{
    sfx_t *f = *state;
    unsigned problems = f->st ? sfx_problems(f, 0) : 0;
    store_close(&f->st);
    sfx_rmrf(f->dir);
    free(f);
    return problems == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- txn helpers */

/* Runs fn in a write txn and commits (or returns its error, aborting). */
#define SFX_WRITE(f, body)                                                                         \
    do {                                                                                           \
        store_txn_t *txn_;                                                                         \
        assert_int_equal(store_write_begin((f)->st, &txn_), 0);                                    \
        int rc_ = (body);                                                                          \
        if (rc_ == 0)                                                                              \
            assert_int_equal(store_txn_commit(&txn_), 0);                                          \
        else                                                                                       \
            store_txn_abort(&txn_);                                                                \
        (void)rc_;                                                                                 \
    } while (0)

/* Fills p with len bytes that depend on seed (headers + body). */
static inline void sfx_msg(char *p, size_t len, unsigned seed)
{
    int h = snprintf(p, len, "Subject: m%u\r\n\r\n", seed);
    for (size_t i = h > 0 ? (size_t)h : 0; i < len; i++)
        p[i] = (char)('a' + (i * 7 + seed * 13) % 26);
}

static inline int sfx_append(store_txn_t *txn, uint64_t user, uint32_t mbox, const char *data,
                             size_t len, uint32_t flags, uint32_t *uid_r)
{
    store_append_t in = {.data = data, .len = len, .flags = flags};
    return store_msg_append(txn, user, mbox, &in, uid_r);
}

/* Appends in its own committed txn; returns the error. */
static inline int sfx_append1(sfx_t *f, uint64_t user, uint32_t mbox, const char *data, size_t len,
                              uint32_t *uid_r)
{
    store_txn_t *t;
    int rc = store_write_begin(f->st, &t);
    if (rc) return rc;
    rc = sfx_append(t, user, mbox, data, len, 0, uid_r);
    if (rc) {
        store_txn_abort(&t);
        return rc;
    }
    return store_txn_commit(&t);
}

/* Reads a message's bytes into a malloc'd buffer (caller frees). */
static inline char *sfx_read(sfx_t *f, uint64_t user, uint32_t mbox, uint32_t uid, size_t *len_r)
{
    store_txn_t *t;
    store_msg_t m;
    store_view_t v;
    char *out = NULL;
    *len_r = 0;
    if (store_read_begin(f->st, &t)) return NULL;
    if (store_msg_get(t, user, mbox, uid, &m) == 0 && store_msg_view(t, &m, &v) == 0) {
        out = malloc(v.len + 1);
        if (out && store_view_copy(&v, 0, out, v.len) == v.len) {
            *len_r = v.len;
        } else {
            free(out);
            out = NULL;
        }
    }
    store_txn_abort(&t);
    return out;
}

static inline store_mailbox_t sfx_mbox(sfx_t *f, uint64_t user, const char *name, int *rc_r)
{
    store_txn_t *t;
    store_mailbox_t m;
    memset(&m, 0, sizeof(m));
    *rc_r = store_read_begin(f->st, &t);
    if (*rc_r == 0) {
        *rc_r = store_mailbox_get(t, user, name, &m);
        store_txn_abort(&t);
    }
    return m;
}

#endif
