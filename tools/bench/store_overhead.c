/*
 * store_overhead - bytes of store overhead per message beyond the message
 * bytes: ((used pages - free pages) * page size - baseline - message bytes) / messages,
 * for distinct messages of a few sizes, appended 100 per transaction
 * (as the group-commit writer batches them) into one mailbox.
 *
 *   build/bench/store_overhead [count-scale [keep]]   (1 = the default counts;
 *   keep: leave the stores in /tmp for `mdb_stat -a`)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"

typedef struct ctx {
    uint64_t user;
    uint32_t mbox;
    char *buf;
    size_t size; /* 0: log-uniform random sizes from 1 KiB to 256 KiB */
    unsigned first, n;
    uint64_t bytes; /* message bytes appended */
} ctx_t;

/* Log-uniform size in [1 KiB, 256 KiB) from the message number. */
static size_t random_size(unsigned seed)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dULL + 7;
    s ^= s >> 29;
    s *= 0xbf58476d1ce4e5b9ULL;
    s ^= s >> 32;
    double u = (double)(s % 1000000) / 1000000.0; /* [0, 1) */
    size_t n = (size_t)(1024.0 * __builtin_pow(256.0, u));
    return n < 1024 ? 1024 : n;
}

static int setup_op(store_txn_t *txn, void *arg)
{
    ctx_t *c = arg;
    store_mailbox_t m;
    int rc = store_tenant_add(txn, "example.com", STORE_PROTO_ALL, 0, NULL);
    if (!rc) rc = store_user_add(txn, "u@example.com", "", 0, 0, &c->user);
    if (!rc) rc = store_mailbox_get(txn, c->user, "INBOX", &m);
    c->mbox = m.id;
    return rc;
}

static void fill(char *p, size_t len, unsigned seed)
{
    int h = snprintf(p, len, "From: a@example.org\r\nSubject: %u\r\n\r\n", seed);
    uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = (size_t)h; i < len; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (i % 78 == 77) ? '\n' : (char)('!' + s % 90);
    }
}

static int batch_op(store_txn_t *txn, void *arg)
{
    ctx_t *c = arg;
    c->bytes = 0;
    for (unsigned i = 0; i < c->n; i++) {
        size_t len = c->size ? c->size : random_size(c->first + i);
        fill(c->buf, len, c->first + i);
        c->bytes += len;
        store_append_t in = {.data = c->buf, .len = len};
        uint32_t uid;
        int rc = store_msg_append(txn, c->user, c->mbox, &in, &uid);
        if (rc) return rc;
    }
    return 0;
}

static int keep;

static int measure(size_t size, unsigned count)
{
    char dir[] = "/tmp/petrel-overhead-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    store_opts_t o = {.struct_size = sizeof(o), .no_sync = 1};
    store_t *st;
    ctx_t c = {.size = size};
    store_stats_t s0, s1;
    int rc = store_open(dir, &o, &st);
    if (rc) return 1;
    c.buf = malloc(size ? size : 256 * 1024);
    uint64_t total = 0;
    rc = c.buf ? store_write(st, setup_op, &c) : PETREL_ENOMEM;
    if (!rc) rc = store_stats(st, &s0);
    for (unsigned done = 0; !rc && done < count; done += c.n) {
        c.first = done;
        c.n = count - done < 100 ? count - done : 100;
        rc = store_write(st, batch_op, &c);
        total += c.bytes;
    }
    if (!rc) rc = store_stats(st, &s1);
    if (!rc) {
        double used = (double)(s1.used_pages - s1.free_pages) * s1.page_size;
        double base = (double)(s0.used_pages - s0.free_pages) * s0.page_size;
        double msg = (double)total;
        double all = (double)s1.used_pages * s1.page_size - (double)s0.used_pages * s0.page_size;
        printf("size=%s%zu messages=%u overhead_per_msg=%.1f (counting free pages too: %.1f) "
               "file=%llu\n",
               size ? "" : "random(1K..256K) avg=", size ? size : (size_t)(total / count), count,
               (used - base - msg) / count, (all - msg) / count, (unsigned long long)s1.file_bytes);
    }
    free(c.buf);
    store_close(&st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (keep)
        printf("kept %s (mdb_stat -a %s/store shows pages per table)\n", dir, dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    if (rc) fprintf(stderr, "size=%zu error=%s\n", size, store_strerror(rc));
    return rc != 0;
}

int main(int argc, char **argv)
{
    unsigned scale = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
    if (scale == 0) scale = 1;
    keep = argc > 2 && strcmp(argv[2], "keep") == 0;
    log_set_level(LOG_LVL_WARN);
    int bad = 0;
    bad |= measure(2048, 20000 * scale);
    bad |= measure(20480, 5000 * scale);
    bad |= measure(204800, 1000 * scale);
    bad |= measure(0, 3000 * scale);
    return bad;
}
