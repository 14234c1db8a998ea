/*
 * store_bench.c - the store's throughput against a Maildir baseline.
 *
 *   build/bench/store_bench [--quick] [--small] [--seconds N] [--dir DIR] [--keep]
 *
 * Phases, in this order (each runs for --seconds; --quick: 1.5 s each, the whole
 * run < 60 s); each store append phase is paired with the Maildir phase of
 * the same concurrency right after it, so both see the same machine load:
 *   append C     durable appends through the group-commit writer with C = 1, 8
 *                and 64 submitters, each waiting for its done() (as a session
 *                waits before "250 OK"), messages spread over 64 users' INBOXes;
 *                also commits (= fsync rounds) per second
 *   overhead     ((pages in use - free pages) * page size - the same after
 *                the setup, before any message - message bytes) / messages,
 *                measured after the appends (before the flag phase)
 *   lookups      store_msg_get of random (user, uid) on one thread, in one read
 *                transaction renewed every 1000 lookups
 *   flags        durable \Seen toggles through the writer, 64 submitters
 *   maildir C    the same messages the way a Maildir MDA delivers them, C = 1, 8,
 *                64 threads: open(tmp/NAME, O_CREAT|O_EXCL), write, fsync(file),
 *                close, rename(tmp/NAME, new/NAME), fsync(the new/ directory)
 *
 * Messages: RFC 5322 text, 70% ~2 KB, 25% ~20 KB, 5% ~200 KB (text plus a
 * base64 attachment). Every message has its own headers (Message-ID, Date,
 * Received, Subject with a counter), so no two are identical and none dedup.
 * --small: every message ~2 KB (where the per-message cost, not the bytes,
 * decides). --dir DIR: the run works in a new DIR/petrel-bench.XXXXXX, removed
 * at the end unless --keep (default DIR: /tmp). The last line is the machine-readable summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/writer.h"
#include "util/log.h"

#define BENCH_USERS 64
#define BENCH_MAX_THREADS 64
#define BENCH_POOL 8 /* bodies per size class */
#define BENCH_MSG_MAX (220u << 10)

/* ------------------------------------------------------------------ messages */

static const char *const words[] = {
    "the",      "meeting",  "schedule", "project",  "report",  "please",   "review",
    "attached", "quarter",  "budget",   "thanks",   "regards", "update",   "server",
    "deploy",   "customer", "invoice",  "tomorrow", "agenda",  "question", "details",
    "team",     "release",  "notes",    "should",   "would",   "could",    "before",
    "after",    "friday",   "monday",   "office",   "call",    "draft",    "final",
    "version",  "numbers",  "figures",  "contract", "support", "ticket",
};

typedef struct corpus {
    int small_only; /* --small: every message from the ~2 KB class */
    char *body[3][BENCH_POOL];
    size_t len[3][BENCH_POOL];
} corpus_t;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Wrapped prose of about n bytes. */
static size_t text_fill(char *p, size_t n, uint64_t *rs)
{
    size_t len = 0, col = 0;
    while (len + 16 < n) {
        const char *w = words[rng_next(rs) % (sizeof(words) / sizeof(words[0]))];
        size_t wl = strlen(w);
        if (col + wl > 72) {
            memcpy(p + len, "\r\n", 2);
            len += 2;
            col = 0;
        }
        memcpy(p + len, w, wl);
        len += wl;
        p[len++] = ' ';
        col += wl + 1;
    }
    memcpy(p + len, "\r\n", 2);
    return len + 2;
}

/* base64-looking lines (76 columns) of about n bytes. */
static size_t b64_fill(char *p, size_t n, uint64_t *rs)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = 0;
    while (len + 78 <= n) {
        for (int i = 0; i < 76; i++)
            p[len++] = a[rng_next(rs) & 63];
        p[len++] = '\r';
        p[len++] = '\n';
    }
    return len;
}

static char *body_make(int cls, uint64_t seed, size_t *len_r)
{
    static const size_t target[3] = {1500, 19500, 199500};
    char *p = malloc(target[cls] + 512);
    if (!p) return NULL;
    uint64_t rs = seed;
    size_t len = 0;
    if (cls < 2) {
        len = text_fill(p, target[cls], &rs);
    } else {
        len += (size_t)sprintf(p, "This is a multi-part message in MIME format.\r\n\r\n"
                                  "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        len += text_fill(p + len, 3000, &rs);
        len += (size_t)sprintf(p + len, "--b1\r\nContent-Type: application/pdf; name=r.pdf\r\n"
                                        "Content-Transfer-Encoding: base64\r\n\r\n");
        len += b64_fill(p + len, target[cls] - len - 16, &rs);
        len += (size_t)sprintf(p + len, "--b1--\r\n");
    }
    *len_r = len;
    return p;
}

static int corpus_init(corpus_t *c)
{
    for (int cls = 0; cls < 3; cls++)
        for (int i = 0; i < BENCH_POOL; i++) {
            c->body[cls][i] = body_make(cls, (uint64_t)(cls * 100 + i + 1), &c->len[cls][i]);
            if (!c->body[cls][i]) return -1;
        }
    return 0;
}

static void corpus_free(corpus_t *c)
{
    for (int cls = 0; cls < 3; cls++)
        for (int i = 0; i < BENCH_POOL; i++)
            free(c->body[cls][i]);
}

/* Message number n (unique headers + a pooled body) into out; returns its length. */
static size_t msg_build(const corpus_t *c, uint64_t n, char *out)
{
    uint64_t rs = n * 7919 + 17;
    uint64_t r = rng_next(&rs) % 100;
    int cls = c->small_only || r < 70 ? 0 : r < 95 ? 1 : 2;
    int pick = (int)(rng_next(&rs) % BENCH_POOL);
    int h = snprintf(
        out, 1024,
        "Received: from mx.example.org (mx.example.org [192.0.2.%u])\r\n"
        "\tby mail.example.com with ESMTPS id %016llx; Thu, 26 Nov 2026 12:%02u:%02u +0000\r\n"
        "From: Sender %u <sender%u@example.org>\r\nTo: user%u@bench.example\r\n"
        "Subject: Report %llu for the %s\r\nDate: Thu, 26 Nov 2026 12:%02u:%02u +0000\r\n"
        "Message-ID: <%llu.%016llx@example.org>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: %s\r\n\r\n",
        (unsigned)(n % 250), (unsigned long long)rng_next(&rs), (unsigned)(n % 60),
        (unsigned)(n / 60 % 60), (unsigned)(n % 97), (unsigned)(n % 97),
        (unsigned)(n % BENCH_USERS), (unsigned long long)n,
        words[n % (sizeof(words) / sizeof(words[0]))], (unsigned)(n % 60), (unsigned)(n / 60 % 60),
        (unsigned long long)n, (unsigned long long)rng_next(&rs),
        cls == 2 ? "multipart/mixed; boundary=b1" : "text/plain; charset=utf-8");
    memcpy(out + h, c->body[cls][pick], c->len[cls][pick]);
    return (size_t)h + c->len[cls][pick];
}

/* ------------------------------------------------------------------ common */

typedef struct bench {
    corpus_t corpus;
    char root[512];
    store_t *st;
    store_writer_t *w;
    uint64_t users[BENCH_USERS];
    uint32_t inbox[BENCH_USERS];
    double seconds;
    uint64_t next_msg;  /* message counter shared by all phases (atomic) */
    int stop;           /* set by the timer (atomic) */
    uint64_t msg_bytes; /* bytes appended successfully (atomic) */
    uint64_t msgs;
    int errors;
    int keep;          /* --keep: leave the directory for inspection */
    uint64_t baseline; /* bytes in use after the setup, before any message */
} bench_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(path);
}

/* Runs fn on n threads for b->seconds; returns the elapsed time. */
static double bench_threads(bench_t *b, int n, void *(*fn)(void *), void *args, size_t argsize)
{
    pthread_t t[BENCH_MAX_THREADS];
    /* start clean: the previous phase's dirty pages must not be flushed on our time */
    int fd = open(b->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
    __atomic_store_n(&b->stop, 0, __ATOMIC_RELEASE);
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, (char *)args + (size_t)i * argsize) != 0) {
            fprintf(stderr, "store_bench: pthread_create failed\n");
            exit(1);
        }
    struct timespec ts = {(time_t)b->seconds,
                          (long)((b->seconds - (double)(time_t)b->seconds) * 1e9)};
    nanosleep(&ts, NULL);
    __atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return now_s() - t0;
}

/* ------------------------------------------------------------------ store setup */

static int setup_op(store_txn_t *txn, void *arg)
{
    bench_t *b = arg;
    uint64_t tid;
    int rc = store_tenant_add(txn, "bench.example", STORE_PROTO_ALL, 0, &tid);
    for (int i = 0; rc == 0 && i < BENCH_USERS; i++) {
        char addr[64];
        store_mailbox_t m;
        snprintf(addr, sizeof(addr), "user%d@bench.example", i);
        rc = store_user_add(txn, addr, "", 0, 0, &b->users[i]);
        if (rc == 0) rc = store_mailbox_get(txn, b->users[i], "INBOX", &m);
        if (rc == 0) b->inbox[i] = m.id;
    }
    return rc;
}

/* ------------------------------------------------------------------ writer jobs */

typedef struct job {
    bench_t *b;
    int id;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished, rc;
    int kind; /* 0 append, 1 flag toggle */
    int user;
    store_append_t in;
    uint32_t uid;
    uint64_t modseq;
    uint64_t done_ops;
    char *buf;
} job_t;

static int job_op(store_txn_t *txn, void *arg)
{
    job_t *j = arg;
    bench_t *b = j->b;
    if (j->kind == 1)
        return store_msg_set_flags(txn, b->users[j->user], b->inbox[j->user], j->uid,
                                   (j->uid & 1) ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE,
                                   STORE_F_SEEN, NULL, 0, 0, &j->modseq);
    return store_msg_append(txn, b->users[j->user], b->inbox[j->user], &j->in, &j->uid);
}

static void job_done(int rc, void *arg)
{
    job_t *j = arg;
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->finished = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int job_run(job_t *j, size_t hint)
{
    j->finished = 0;
    int rc;
    while ((rc = store_writer_submit_sized(j->b->w, job_op, job_done, j, hint)) == PETREL_EAGAIN)
        usleep(50);
    if (rc) return rc;
    pthread_mutex_lock(&j->mu);
    while (!j->finished)
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
    return j->rc;
}

static void *append_thread(void *arg)
{
    job_t *j = arg;
    bench_t *b = j->b;
    while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
        uint64_t n = __atomic_fetch_add(&b->next_msg, 1, __ATOMIC_RELAXED);
        j->kind = 0;
        j->user = (int)(n % BENCH_USERS);
        j->in = (store_append_t){.data = j->buf, .len = msg_build(&b->corpus, n, j->buf)};
        int rc = job_run(j, j->in.len);
        if (rc) {
            __atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        j->done_ops++;
        __atomic_add_fetch(&b->msg_bytes, j->in.len, __ATOMIC_RELAXED);
        __atomic_add_fetch(&b->msgs, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static uint32_t user_count(bench_t *b, int user)
{
    store_txn_t *txn = NULL;
    store_mailbox_t m = {0};
    if (store_read_begin(b->st, &txn) == 0) {
        if (store_mailbox_get_by_id(txn, b->users[user], b->inbox[user], &m) != 0) m.messages = 0;
        store_txn_abort(&txn);
    }
    return m.messages;
}

static void *flag_thread(void *arg)
{
    job_t *j = arg;
    bench_t *b = j->b;
    uint64_t rs = (uint64_t)j->id + 99;
    j->user = j->id % BENCH_USERS;
    uint32_t n = user_count(b, j->user); /* uids 1..n: appends only, no expunge */
    while (n > 0 && !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
        j->kind = 1;
        j->uid = 1 + (uint32_t)(rng_next(&rs) % n);
        if (job_run(j, 0) == 0)
            j->done_ops++;
        else
            __atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static job_t *jobs_new(bench_t *b, int n)
{
    job_t *j = calloc((size_t)n, sizeof(*j));
    for (int i = 0; j && i < n; i++) {
        j[i].b = b;
        j[i].id = i;
        pthread_mutex_init(&j[i].mu, NULL);
        pthread_cond_init(&j[i].cv, NULL);
        j[i].buf = malloc(BENCH_MSG_MAX);
        if (!j[i].buf) {
            fprintf(stderr, "store_bench: out of memory\n");
            exit(1);
        }
    }
    return j;
}

static uint64_t jobs_free(job_t *j, int n)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        total += j[i].done_ops;
        free(j[i].buf);
        pthread_mutex_destroy(&j[i].mu);
        pthread_cond_destroy(&j[i].cv);
    }
    free(j);
    return total;
}

/* Runs n writer-submitter threads of fn; returns ops per second, commits/s in *fsync_r. */
static double phase_writer(bench_t *b, int n, void *(*fn)(void *), double *fsync_r, double *batch_r)
{
    store_writer_stats_t s0, s1;
    job_t *j = jobs_new(b, n);
    if (!j) exit(1);
    store_writer_stats(b->w, &s0);
    double el = bench_threads(b, n, fn, j, sizeof(*j));
    store_writer_stats(b->w, &s1);
    uint64_t ops = jobs_free(j, n);
    uint64_t batches = s1.batches - s0.batches;
    *fsync_r = (double)batches / el;
    *batch_r = batches ? (double)(s1.ops - s0.ops) / (double)batches : 0;
    return (double)ops / el;
}

/* ------------------------------------------------------------------ lookups */

static double phase_lookups(bench_t *b)
{
    uint32_t counts[BENCH_USERS];
    for (int i = 0; i < BENCH_USERS; i++)
        counts[i] = user_count(b, i);
    store_txn_t *txn = NULL;
    if (store_read_begin(b->st, &txn) != 0) return 0;
    uint64_t rs = 4242, n = 0, miss = 0;
    double t0 = now_s(), el = 0;
    while (el < b->seconds) {
        for (int k = 0; k < 1000; k++) {
            int u = (int)(rng_next(&rs) % BENCH_USERS);
            if (!counts[u]) continue;
            uint32_t uid = 1 + (uint32_t)(rng_next(&rs) % counts[u]);
            store_msg_t m;
            miss += store_msg_get(txn, b->users[u], b->inbox[u], uid, &m) != 0;
            n++;
        }
        store_txn_reset(txn);
        if (store_txn_renew(txn) != 0) break;
        el = now_s() - t0;
    }
    store_txn_abort(&txn);
    if (miss)
        printf("lookups: %llu of %llu uids not found (error)\n", (unsigned long long)miss,
               (unsigned long long)n);
    b->errors += miss > 0;
    return (double)(n - miss) / el;
}

/* ------------------------------------------------------------------ overhead */

static double phase_overhead(bench_t *b)
{
    store_stats_t s;
    if (store_stats(b->st, &s) != 0 || s.messages == 0) return -1;
    double used = (double)(s.used_pages - s.free_pages) * s.page_size - (double)b->baseline;
    double ovh = (used - (double)s.message_bytes) / (double)s.messages;
    printf("overhead: messages=%llu message_bytes=%llu used_pages=%llu free_pages=%llu "
           "page_size=%u file_bytes=%llu baseline=%llu -> %.0f bytes/message\n",
           (unsigned long long)s.messages, (unsigned long long)s.message_bytes,
           (unsigned long long)s.used_pages, (unsigned long long)s.free_pages, s.page_size,
           (unsigned long long)s.file_bytes, (unsigned long long)b->baseline, ovh);
    return ovh;
}

/* ------------------------------------------------------------------ maildir */

typedef struct md_job {
    bench_t *b;
    int id;
    uint64_t done_ops;
    char *buf;
} md_job_t;

/* One Maildir delivery: tmp file, fsync, rename into new/, fsync new/. */
static int md_deliver(const char *udir, int newfd, const char *name, const char *p, size_t len)
{
    char tmp[800], dst[800];
    snprintf(tmp, sizeof(tmp), "%s/tmp/%s", udir, name);
    snprintf(dst, sizeof(dst), "%s/new/%s", udir, name);
    int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    int rc = fsync(fd);
    rc |= close(fd);
    rc |= rename(tmp, dst);
    rc |= fsync(newfd);
    return rc ? -1 : 0;
}

static void *md_thread(void *arg)
{
    md_job_t *j = arg;
    bench_t *b = j->b;
    int user = j->id % BENCH_USERS;
    char udir[600], name[128];
    snprintf(udir, sizeof(udir), "%s/maildir/user%d", b->root, user);
    char newdir[620];
    snprintf(newdir, sizeof(newdir), "%s/new", udir);
    int newfd = open(newdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (newfd < 0) {
        __atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    for (uint64_t k = 0; !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE); k++) {
        uint64_t n = __atomic_fetch_add(&b->next_msg, 1, __ATOMIC_RELAXED);
        size_t len = msg_build(&b->corpus, n, j->buf);
        snprintf(name, sizeof(name), "%ld.P%dT%dQ%llu.bench", (long)time(NULL), (int)getpid(),
                 j->id, (unsigned long long)k);
        if (md_deliver(udir, newfd, name, j->buf, len) == 0)
            j->done_ops++;
        else
            __atomic_add_fetch(&b->errors, 1, __ATOMIC_RELAXED);
    }
    close(newfd);
    return NULL;
}

static int md_setup(bench_t *b)
{
    char p[700];
    snprintf(p, sizeof(p), "%s/maildir", b->root);
    if (mkdir(p, 0700) != 0) return -1;
    static const char *const sub[] = {"", "/tmp", "/new", "/cur"};
    for (int u = 0; u < BENCH_USERS; u++)
        for (int s = 0; s < 4; s++) {
            snprintf(p, sizeof(p), "%s/maildir/user%d%s", b->root, u, sub[s]);
            if (mkdir(p, 0700) != 0) return -1;
        }
    return 0;
}

static double phase_maildir(bench_t *b, int n)
{
    md_job_t *j = calloc((size_t)n, sizeof(*j));
    if (!j) exit(1);
    for (int i = 0; i < n; i++) {
        j[i] = (md_job_t){.b = b, .id = i, .buf = malloc(BENCH_MSG_MAX)};
        if (!j[i].buf) exit(1);
    }
    double el = bench_threads(b, n, md_thread, j, sizeof(*j));
    uint64_t ops = 0;
    for (int i = 0; i < n; i++) {
        ops += j[i].done_ops;
        free(j[i].buf);
    }
    free(j);
    return (double)ops / el;
}

/* ------------------------------------------------------------------ main */

typedef struct results {
    double append[3], fsyncs[3], batch[3], maildir[3];
    double lookups, flags, flags_fsync, overhead;
} results_t;

static const int conc[3] = {1, 8, 64};

static int parse_args(int argc, char **argv, bench_t *b, const char **dir_r)
{
    b->seconds = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            b->seconds = 1.5;
        } else if (strcmp(argv[i], "--keep") == 0) {
            b->keep = 1;
        } else if (strcmp(argv[i], "--small") == 0) {
            b->corpus.small_only = 1;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            b->seconds = atof(argv[++i]);
            if (b->seconds <= 0 || b->seconds > 3600) return -1;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            *dir_r = argv[++i];
        } else {
            return -1;
        }
    }
    return 0;
}

/*
 * Each store append phase is followed at once by the Maildir phase of the same
 * concurrency, so that both see the same machine (the disk is shared with
 * whatever else runs: paired phases keep the ratio fair when the load drifts).
 */
static void run_append_phases(bench_t *b, results_t *r)
{
    for (int i = 0; i < 3; i++) {
        r->append[i] = phase_writer(b, conc[i], append_thread, &r->fsyncs[i], &r->batch[i]);
        printf(
            "append %2d submitters: %10.0f appends/s  %8.0f commits(fsync)/s  %6.1f ops/commit\n",
            conc[i], r->append[i], r->fsyncs[i], r->batch[i]);
        fflush(stdout);
        r->maildir[i] = phase_maildir(b, conc[i]);
        printf("maildir %2d threads:   %10.0f deliveries/s  store/maildir = %.2f\n", conc[i],
               r->maildir[i], r->maildir[i] > 0 ? r->append[i] / r->maildir[i] : 0);
        fflush(stdout);
    }
}

static void run_read_flag_phases(bench_t *b, results_t *r)
{
    r->overhead = phase_overhead(b);
    r->lookups = phase_lookups(b);
    printf("lookups 1 thread:     %10.0f store_msg_get/s\n", r->lookups);
    double batch;
    r->flags = phase_writer(b, 64, flag_thread, &r->flags_fsync, &batch);
    printf("flags 64 submitters:  %10.0f updates/s    %8.0f commits(fsync)/s  %6.1f ops/commit\n",
           r->flags, r->flags_fsync, batch);
    fflush(stdout);
}

static int bench_open(bench_t *b)
{
    store_opts_t o = {.struct_size = sizeof(o)};
    int rc = store_open(b->root, &o, &b->st);
    if (rc == 0) rc = store_write(b->st, setup_op, b);
    store_stats_t s;
    if (rc == 0) rc = store_stats(b->st, &s);
    if (rc == 0) b->baseline = (s.used_pages - s.free_pages) * s.page_size;
    if (rc == 0) rc = store_writer_start(b->st, &b->w);
    if (rc) fprintf(stderr, "store_bench: store setup: %s\n", store_strerror(rc));
    return rc;
}

int main(int argc, char **argv)
{
    static bench_t b;
    const char *dir = "/tmp";
    if (parse_args(argc, argv, &b, &dir) != 0) {
        fprintf(stderr,
                "usage: store_bench [--quick] [--small] [--seconds N] [--dir DIR] [--keep]\n");
        return 2;
    }
    log_set_level(LOG_LVL_WARN);
    snprintf(b.root, sizeof(b.root), "%s/petrel-bench.XXXXXX", dir);
    if (!mkdtemp(b.root) || corpus_init(&b.corpus) != 0) {
        fprintf(stderr, "store_bench: cannot create %s: %s\n", b.root, strerror(errno));
        return 1;
    }
    printf("store_bench: dir=%s seconds_per_phase=%.1f users=%d mix=%s\n", b.root, b.seconds,
           BENCH_USERS, b.corpus.small_only ? "100%x2KB" : "70%x2KB,25%x20KB,5%x200KB");
    results_t r = {0};
    int rc = md_setup(&b) != 0;
    if (rc)
        fprintf(stderr, "store_bench: maildir setup failed: %s\n", strerror(errno));
    else
        rc = bench_open(&b);
    if (rc == 0) {
        run_append_phases(&b, &r);
        run_read_flag_phases(&b, &r);
    }
    store_writer_stop(&b.w);
    store_close(&b.st);
    if (b.keep)
        printf("kept: %s\n", b.root);
    else
        nftw(b.root, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
    corpus_free(&b.corpus);
    if (rc) return 1;
    if (b.errors) printf("errors: %d operations failed\n", b.errors);
    printf("summary: append64_vs_maildir=%.2f lookups_per_s=%.0f overhead_bytes=%.0f "
           "append1_per_s=%.0f append8_per_s=%.0f append64_per_s=%.0f maildir64_per_s=%.0f "
           "flag_updates_per_s=%.0f\n",
           r.maildir[2] > 0 ? r.append[2] / r.maildir[2] : 0, r.lookups, r.overhead, r.append[0],
           r.append[1], r.append[2], r.maildir[2], r.flags);
    return b.errors ? 1 : 0;
}
