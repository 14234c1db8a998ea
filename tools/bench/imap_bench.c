/*
 * imap_bench.c - IMAP load of petreld + imap.so against Dovecot's imapd on the
 * same machine, the same messages, the same load; loopback only (issue 7).
 *
 *   build/bench/imap_bench [--quick] [--only store] [--clients N] [--messages N] [--big N]
 *                          [--idle N] [--seconds N] [--rounds N] [--loops N]
 *                          [--petreld PATH] [--petrelctl PATH] [--dovecot PATH]
 *                          [--dovecot-fsync always|optimized] [--keep]
 *
 * Setup, in a temp dir from mkdtemp under /tmp:
 *  - a Maildir of --messages (2,000; --quick 300) messages (CRLF, a fixed mix of
 *    text/plain and multipart/alternative with 1.5-20 KB, fixed PRNG seed), and
 *    one of --big (200,000; --quick 20,000) small messages for user "big";
 *  - users u1..uN@bench.test (--clients, 8; --quick 4), each with the Maildir,
 *    and big@bench.test with the big one;
 *  - petreld: workers = 2, one plain imap listener, log_level = warn, users
 *    made with petrelctl and filled with `petrelctl import USER maildir DIR`;
 *  - Dovecot (`dovecot -F -c FILE`) in the high-performance mode of
 *    /work/shared/BENCHMARKS.md (imap-login service_count = 0, imap
 *    service_count = 1000, process_min_avail = 2 and clients + 1), Maildir with
 *    mailbox_list_index = yes, passwd-file SHA512-CRYPT, auth_cache_size = 10M;
 *    each user's Maildir is hard links to the same files, owned by nobody.
 *  Both servers cache the verified password (Petrel's auth cache, Dovecot's
 *  auth_cache), and both are warmed up (one login + SELECT + FETCH 1:* per user).
 *
 * Mixed load (--seconds, 10; --quick 2, per phase): --clients threads, one
 * user each, run sessions until the phase ends:
 *   login (connect, greeting, LOGIN), SELECT INBOX, FETCH 1:* (FLAGS), then
 *   --loops (5) times: APPEND (LITERAL+, APPENDUID), NOOP, UID FETCH of the new
 *   message (ENVELOPE BODY.PEEK[]), UID STORE +FLAGS (\Flagged), IDLE + DONE;
 *   then UID STORE +FLAGS.SILENT (\Deleted) of the new ones, EXPUNGE, LOGOUT.
 * Every command's latency is timed; its rate is clients / mean latency, the
 * operations per second a closed loop of that command alone would see at this
 * concurrency under this mix. Phases alternate Petrel, Dovecot, ... for
 * --rounds (3) rounds; medians are reported, ratio = petrel / dovecot.
 *
 * --only store: each phase is one session per client, a closed loop of UID
 * STORE +FLAGS / -FLAGS (\Flagged) on its own INBOX; the summary gives the store
 * rates and CPU per STORE only (no large mailbox, no IDLE part).
 *
 * Every phase line also gives the server's CPU time (utime + stime of its process
 * group from /proc) per session (per STORE with --only store), and disk_flush_us:
 * the median of 16 4 KiB overwrite + fdatasync rounds in the temp dir just
 * before the phase, the price of one flush at that moment (Petrel's STORE waits
 * for its commit's flushes, Dovecot's does not fsync; see docs/benchmarks.md).
 *
 * Large mailbox: SELECT big INBOX and FETCH 1:* (FLAGS UID) in ms, one client,
 * alternating, --rounds times each, medians.
 *
 * IDLE memory (petreld only): Rss after a warm-up, then --idle (10,000; --quick
 * 1,000) sessions that each LOGIN, SELECT INBOX and IDLE, held 1 s, Rss again:
 * idle_session_bytes = delta / sessions.
 *
 * Last line:
 *   summary: vs_dovecot_login=X vs_dovecot_select=X ... vs_dovecot_min=X
 *            big_select_ms=.. idle_session_bytes=N
 * Exit status 0 only when setup, every phase and both shutdowns succeeded.
 */
#define _GNU_SOURCE
#include "bench_proc.h"

#include <crypt.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/resource.h>

#define IB_MAX_CLIENTS 64
#define IB_MAX_ROUNDS 15
#define IB_MAX_LOOPS 100
#define IB_MAX_IDLE 18000
#define IB_IO_TIMEOUT_S 20
#define IB_BUF (512 * 1024)
#define IB_PASSWORD "bench-pass-1"
#define IB_DOMAIN "bench.test"

enum ib_cmd {
    IB_LOGIN,
    IB_SELECT,
    IB_FETCH_FLAGS,
    IB_APPEND,
    IB_NOOP,
    IB_FETCH_NEW,
    IB_STORE,
    IB_IDLE,
    IB_EXPUNGE,
    IB_NCMD
};
static const char *const ib_cmd_name[IB_NCMD] = {
    "login", "select", "fetch_flags", "append", "noop", "fetch_new", "store", "idle", "expunge"};

struct ib_opts {
    int quick, keep;
    int only_store; /* --only store: phases of UID STORE alone, no big/IDLE parts */
    /* --dovecot-fsync always: Dovecot's mail_fsync = always (a flag change is fsynced
     * like Petrel's) instead of the default optimized of the fair setup; opt-in only */
    int dovecot_fsync_always;
    unsigned clients, messages, big, idle, seconds, rounds, loops;
    char petreld[PATH_MAX], petrelctl[PATH_MAX], dovecot[PATH_MAX];
};

struct ib_server {
    const char *name;
    int port;
    pid_t pid;
};

struct ib_conn {
    int fd;
    char *buf;
    size_t off, len;
    unsigned tag;
    uint64_t bytes;          /* literal bytes skipped in the last response */
    unsigned long appenduid; /* from the last tagged OK, 0 if none */
    unsigned long exists;    /* last "* N EXISTS" */
    unsigned long expunged;  /* "* N EXPUNGE" lines in the last response */
};

struct ib_client {
    const struct ib_opts *o;
    int port, user;
    double deadline;
    uint64_t seed;
    uint64_t count[IB_NCMD];
    double lat[IB_NCMD];
    uint64_t sessions;
    int failed;
    char err[400]; /* a command name and a 300-byte server line */
};

static char ib_tmp[PATH_MAX];
static struct ib_server *ib_servers[2];
static int ib_keep;

static void ib_cleanup(void)
{
    for (int i = 0; i < 2; i++)
        if (ib_servers[i] && ib_servers[i]->pid > 0) {
            bench_stop(ib_servers[i]->pid, 15);
            ib_servers[i]->pid = 0;
        }
    if (ib_tmp[0] && !ib_keep)
        bench_rm_tree(ib_tmp);
    else if (ib_tmp[0])
        fprintf(stderr, "kept %s\n", ib_tmp);
    ib_tmp[0] = '\0';
}

static void ib_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void ib_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "imap_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    ib_cleanup();
    exit(1);
}

static void ib_path(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ib_path(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) ib_die("path or text too long");
}

static void ib_mkdir(const char *p, uid_t uid, gid_t gid)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST) ib_die("mkdir %s: %s", p, strerror(errno));
    chmod(p, 0755);
    if (uid != (uid_t)-1 && chown(p, uid, gid) != 0) ib_die("chown %s: %s", p, strerror(errno));
}

static void ib_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) ib_die("write %s: %s", path, strerror(errno));
}

static uint64_t ib_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ------------------------------------------------------------ an IMAP client */

static int ib_fill(struct ib_conn *c)
{
    if (c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == IB_BUF) return errno = EMSGSIZE, -1;
    ssize_t n = recv(c->fd, c->buf + c->len, IB_BUF - c->len, 0);
    if (n <= 0) return errno = n == 0 ? ECONNRESET : errno, -1;
    c->len += (size_t)n;
    return 0;
}

/* The next line (without CRLF) in place: *line_r points into the buffer until the next call. */
static int ib_line(struct ib_conn *c, char **line_r, size_t *len_r)
{
    for (;;) {
        char *p = c->buf + c->off;
        char *nl = memchr(p, '\n', c->len - c->off);
        if (nl) {
            size_t n = (size_t)(nl - p);
            c->off += n + 1;
            if (n > 0 && p[n - 1] == '\r') n--;
            p[n] = '\0';
            *line_r = p;
            *len_r = n;
            return 0;
        }
        if (ib_fill(c) != 0) return -1;
    }
}

static int ib_skip(struct ib_conn *c, uint64_t n)
{
    while (n > 0) {
        if (c->off == c->len && ib_fill(c) != 0) return -1;
        size_t take = c->len - c->off;
        if (take > n) take = (size_t)n;
        c->off += take;
        n -= take;
        c->bytes += take;
    }
    return 0;
}

/* A literal announced at the end of a line ("{123}"): its size, or -1. */
static long long ib_literal(const char *line, size_t n)
{
    if (n < 3 || line[n - 1] != '}') return -1;
    size_t i = n - 1;
    while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
        i--;
    if (i == 0 || i == n - 1 || line[i - 1] != '{') return -1;
    return strtoll(line + i, NULL, 10);
}

static int ib_send(struct ib_conn *c, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads responses up to the tagged one for tag tN; 0 when it is OK. The tagged line
 * (or the error) into last. */
static int ib_resp(struct ib_conn *c, unsigned tag, char *last, size_t cap)
{
    char want[24];
    int wn = snprintf(want, sizeof(want), "t%u ", tag);
    c->bytes = 0;
    c->appenduid = 0;
    c->expunged = 0;
    for (;;) {
        char *line;
        size_t n;
        if (ib_line(c, &line, &n) != 0) return snprintf(last, cap, "read: %s", strerror(errno)), -1;
        if (strncmp(line, want, (size_t)wn) == 0) {
            snprintf(last, cap, "%.250s", line);
            const char *a = strstr(line, "[APPENDUID ");
            if (a) {
                unsigned long v, u;
                if (sscanf(a, "[APPENDUID %lu %lu]", &v, &u) == 2) c->appenduid = u;
            }
            return strncmp(line + wn, "OK", 2) == 0 ? 0 : -1;
        }
        if (line[0] == '*') {
            unsigned long e;
            size_t ln = strlen(line);
            int end = 0; /* sscanf counts %lu of "* 0 RECENT" too: the whole line must match */
            if (sscanf(line, "* %lu EXISTS%n", &e, &end) == 1 && end > 0 && line[end] == '\0')
                c->exists = e;
            if (ln > 8 && strcmp(line + ln - 8, " EXPUNGE") == 0) c->expunged++;
        }
        for (;;) { /* a line may end in several literals */
            long long lit = ib_literal(line, n);
            if (lit < 0) break;
            if (ib_skip(c, (uint64_t)lit) != 0 || ib_line(c, &line, &n) != 0)
                return snprintf(last, cap, "literal: %s", strerror(errno)), -1;
        }
    }
}

/* Sends "tN <fmt>\r\n" and reads its response; 0 on OK. */
static int ib_cmd(struct ib_conn *c, char *last, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ib_cmd(struct ib_conn *c, char *last, size_t cap, const char *fmt, ...)
{
    char cmd[1024];
    unsigned tag = ++c->tag;
    int n = snprintf(cmd, sizeof(cmd), "t%u ", tag);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(cmd + n, sizeof(cmd) - (size_t)n - 2, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m) >= sizeof(cmd) - 2) return snprintf(last, cap, "cmd long"), -1;
    memcpy(cmd + n + m, "\r\n", 2);
    if (ib_send(c, cmd, (size_t)(n + m + 2)) != 0)
        return snprintf(last, cap, "send: %s", strerror(errno)), -1;
    return ib_resp(c, tag, last, cap);
}

/* Connects, reads the greeting and logs in as user. */
static int ib_login(struct ib_conn *c, int port, const char *user, char *last, size_t cap)
{
    c->off = c->len = 0;
    c->tag = 0;
    c->fd = bench_connect(port, IB_IO_TIMEOUT_S);
    if (c->fd < 0) return snprintf(last, cap, "connect: %s", strerror(errno)), -1;
    char *line;
    size_t n;
    if (ib_line(c, &line, &n) != 0 || strncmp(line, "* OK", 4) != 0)
        return snprintf(last, cap, "greeting"), -1;
    return ib_cmd(c, last, cap, "LOGIN %s@" IB_DOMAIN " " IB_PASSWORD, user);
}

/* ------------------------------------------------------------ messages */

/* Message i into dst: text/plain or multipart/alternative, 1.5-20 KB, CRLF. */
static size_t ib_message(char *dst, size_t cap, unsigned i, uint64_t *seed, int small)
{
    static const size_t sizes[] = {1500, 3000, 5000, 8000, 20000};
    size_t target = small ? 1200 : sizes[ib_rand(seed) % 5];
    int multi = !small && ib_rand(seed) % 3 == 0;
    int n = snprintf(dst, cap,
                     "Return-Path: <sender%u@example.test>\r\n"
                     "From: Sender %u <sender%u@example.test>\r\n"
                     "To: User <user@" IB_DOMAIN ">\r\nCc: other@example.test\r\n"
                     "Subject: benchmark message %u about things\r\n"
                     "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                     "Message-ID: <bench.%u@example.test>\r\nMIME-Version: 1.0\r\n%s\r\n%s",
                     i % 97, i % 97, i % 97, i, i,
                     multi ? "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
                           : "Content-Type: text/plain; charset=us-ascii\r\n",
                     multi ? "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" : "");
    size_t len = (size_t)n;
    for (unsigned l = 0; len + 200 < target && len + 200 < cap; l++) {
        if (multi && l == 8)
            len += (size_t)snprintf(dst + len, cap - len,
                                    "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n");
        n = snprintf(dst + len, cap - len, "%u line %05u of message %u: %.*s\r\n", i, l, i, 40,
                     "the quick brown fox jumps over the lazy dog, again and again");
        len += (size_t)n;
    }
    if (multi) len += (size_t)snprintf(dst + len, cap - len, "--b1--\r\n");
    return len;
}

static void ib_make_maildir(const char *dir, unsigned count, int small, uid_t uid, gid_t gid)
{
    char p[PATH_MAX], *msg = malloc(32768);
    if (!msg) ib_die("out of memory");
    ib_mkdir(dir, uid, gid);
    const char *subs[] = {"cur", "new", "tmp"};
    for (int k = 0; k < 3; k++) {
        ib_path(p, sizeof(p), "%s/%s", dir, subs[k]);
        ib_mkdir(p, uid, gid);
    }
    uint64_t seed = small ? 7 : 42;
    for (unsigned i = 0; i < count; i++) {
        size_t n = ib_message(msg, 32768, i, &seed, small);
        ib_path(p, sizeof(p), "%s/cur/%u.M%uP1.bench,S=%zu,W=%zu:2,%s", dir, 1700000000u + i, i, n,
                n, i % 2 ? "S" : "");
        FILE *f = fopen(p, "w");
        if (!f || fwrite(msg, 1, n, f) != n || fclose(f) != 0) ib_die("write %s", p);
        if (chown(p, uid, gid) != 0) ib_die("chown %s", p);
    }
    free(msg);
}

/* dst/{cur,new,tmp} as hard links to src's files, owned by uid. */
static void ib_link_maildir(const char *src, const char *dst, uid_t uid, gid_t gid)
{
    char from[PATH_MAX], to[PATH_MAX];
    ib_mkdir(dst, uid, gid);
    const char *subs[] = {"cur", "new", "tmp"};
    for (int k = 0; k < 3; k++) {
        ib_path(to, sizeof(to), "%s/%s", dst, subs[k]);
        ib_mkdir(to, uid, gid);
    }
    ib_path(from, sizeof(from), "%s/cur", src);
    DIR *d = opendir(from);
    if (!d) ib_die("opendir %s", from);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        ib_path(from, sizeof(from), "%s/cur/%s", src, e->d_name);
        ib_path(to, sizeof(to), "%s/cur/%s", dst, e->d_name);
        if (link(from, to) != 0 && errno != EEXIST) ib_die("link %s: %s", to, strerror(errno));
    }
    closedir(d);
}

/* ------------------------------------------------------------ servers */

static void ib_wait_ready(struct ib_server *s)
{
    double end = bench_now() + 30;
    char *buf = malloc(IB_BUF);
    if (!buf) ib_die("out of memory");
    while (bench_now() < end) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            ib_die("%s exited during start (see its log in %s)", s->name, ib_tmp);
        }
        struct ib_conn c = {.fd = bench_connect(s->port, 5), .buf = buf};
        if (c.fd >= 0) {
            char *line;
            size_t n;
            int ok = ib_line(&c, &line, &n) == 0 && strncmp(line, "* OK", 4) == 0;
            close(c.fd);
            if (ok) return free(buf);
        }
        usleep(50000);
    }
    ib_die("%s does not answer on port %d", s->name, s->port);
}

static void ib_ctl(const struct ib_opts *o, const char *data, const char *a1, const char *a2,
                   const char *a3, const char *a4, const char *a5, const char *in)
{
    char *argv[] = {(char *)o->petrelctl, "-d",       (char *)data, (char *)a1, (char *)a2,
                    (char *)a3,           (char *)a4, (char *)a5,   NULL};
    if (bench_run(argv, in) != 0) ib_die("petrelctl %s %s %s failed", a1, a2, a3);
}

static void ib_start_petrel(const struct ib_opts *o, struct ib_server *s)
{
    char dir[PATH_MAX], data[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], text[2048];
    char src[PATH_MAX], big[PATH_MAX], addr[128];
    ib_path(dir, sizeof(dir), "%s/petrel", ib_tmp);
    ib_mkdir(dir, (uid_t)-1, 0);
    ib_path(data, sizeof(data), "%s/data", dir);
    ib_path(conf, sizeof(conf), "%s/petrel.conf", dir);
    ib_path(log, sizeof(log), "%s/petreld.log", dir);
    ib_path(src, sizeof(src), "%s/maildir", ib_tmp);
    ib_path(big, sizeof(big), "%s/bigdir", ib_tmp);
    ib_path(text, sizeof(text),
            "data = %s\nhostname = bench.test\nworkers = 2\nlog_level = warn\nlog_file = %s\n"
            "max_connections_per_ip = 0\n\n[listener imap]\nplugin = imap\n"
            "address = 127.0.0.1:%d\ntls = none\nmax_connections = 20000\n",
            data, log, s->port);
    ib_write_file(conf, text);
    ib_ctl(o, data, "tenant", "add", IB_DOMAIN, NULL, NULL, NULL);
    for (unsigned u = 0; u <= o->clients; u++) {
        if (u == 0)
            snprintf(addr, sizeof(addr), "big@%s", IB_DOMAIN);
        else
            snprintf(addr, sizeof(addr), "u%u@%s", u, IB_DOMAIN);
        ib_ctl(o, data, "user", "add", addr, "--password-stdin", NULL, IB_PASSWORD "\n");
        ib_ctl(o, data, "import", addr, "maildir", u == 0 ? big : src, NULL, NULL);
    }
    char *argv[] = {(char *)o->petreld, "-c", conf, "--foreground", NULL};
    s->pid = bench_spawn(argv, log);
    if (s->pid < 0) ib_die("fork: %s", strerror(errno));
    ib_wait_ready(s);
}

static void ib_start_dovecot(const struct ib_opts *o, struct ib_server *s)
{
    char dir[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], pw[PATH_MAX], home[PATH_MAX];
    char src[PATH_MAX], big[PATH_MAX], text[4096], uh[PATH_MAX];
    struct passwd *nobody = getpwnam("nobody");
    if (!nobody) ib_die("no user nobody");
    uid_t uid = nobody->pw_uid;
    gid_t gid = nobody->pw_gid;
    ib_path(dir, sizeof(dir), "%s/dovecot", ib_tmp);
    ib_mkdir(dir, (uid_t)-1, 0);
    ib_path(conf, sizeof(conf), "%s/dovecot.conf", dir);
    ib_path(log, sizeof(log), "%s/dovecot.log", dir);
    ib_path(pw, sizeof(pw), "%s/passwd", dir);
    ib_path(src, sizeof(src), "%s/maildir", ib_tmp);
    ib_path(big, sizeof(big), "%s/bigdir", ib_tmp);
    ib_path(home, sizeof(home), "%s/home", dir);
    ib_mkdir(home, (uid_t)-1, 0);
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *hash = crypt_r(IB_PASSWORD, "$6$petrelbenchsalt$", &cd);
    if (!hash || hash[0] != '$') ib_die("crypt failed");
    FILE *f = fopen(pw, "w");
    if (!f) ib_die("write %s", pw);
    for (unsigned u = 0; u <= o->clients; u++) {
        char name[32];
        if (u == 0)
            snprintf(name, sizeof(name), "big");
        else
            snprintf(name, sizeof(name), "u%u", u);
        fprintf(f, "%s@%s:{SHA512-CRYPT}%s\n", name, IB_DOMAIN, hash);
        ib_path(uh, sizeof(uh), "%s/%s", home, name);
        ib_mkdir(uh, uid, gid);
        ib_path(uh, sizeof(uh), "%s/%s/Maildir", home, name);
        ib_link_maildir(u == 0 ? big : src, uh, uid, gid);
    }
    if (fclose(f) != 0) ib_die("write %s", pw);
    ib_path(text, sizeof(text),
            "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s\ninstance_name = imapbench\n"
            "protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n"
            "auth_mechanisms = plain\nauth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"
            "passdb {\n  driver = passwd-file\n  args = username_format=%%u %s\n}\n"
            "userdb {\n  driver = static\n  args = uid=%u gid=%u home=%s/%%n\n}\n"
            "mail_location = maildir:~/Maildir\nmailbox_list_index = yes\n"
            "mail_max_userip_connections = 1000\nmail_fsync = %s\n"
            "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
            "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n"
            "    port = %d\n  }\n  inet_listener imaps {\n    port = 0\n  }\n"
            "  service_count = 0\n  process_min_avail = 2\n}\n"
            "service imap {\n  service_count = 1000\n  process_min_avail = %u\n}\n",
            dir, dir, log, pw, (unsigned)uid, (unsigned)gid, home,
            o->dovecot_fsync_always ? "always" : "optimized", s->port, o->clients + 1);
    ib_write_file(conf, text);
    ib_path(uh, sizeof(uh), "%s/run", dir);
    ib_mkdir(uh, (uid_t)-1, 0);
    char *argv[] = {(char *)o->dovecot, "-F", "-c", conf, NULL};
    s->pid = bench_spawn(argv, log);
    if (s->pid < 0) ib_die("fork: %s", strerror(errno));
    ib_wait_ready(s);
}

/* One session per user: SELECT (indexes, caches) and FETCH 1:* checked. */
static void ib_warm_up(const struct ib_opts *o, struct ib_server *s)
{
    struct ib_conn c = {.buf = malloc(IB_BUF)};
    char last[300], user[32];
    if (!c.buf) ib_die("out of memory");
    for (unsigned u = 0; u <= o->clients; u++) {
        unsigned want = u == 0 ? o->big : o->messages;
        if (u == 0)
            snprintf(user, sizeof(user), "big");
        else
            snprintf(user, sizeof(user), "u%u", u);
        c.exists = 0;
        if (ib_login(&c, s->port, user, last, sizeof(last)) != 0 ||
            ib_cmd(&c, last, sizeof(last), "SELECT INBOX") != 0)
            ib_die("%s warm-up %s: %s", s->name, user, last);
        if (c.exists != want)
            ib_die("%s: %s has %lu messages, not %u", s->name, user, c.exists, want);
        if (ib_cmd(&c, last, sizeof(last), "FETCH 1:* (FLAGS UID)") != 0 ||
            ib_cmd(&c, last, sizeof(last), "FETCH 1 (BODY.PEEK[])") != 0 || c.bytes < 1000)
            ib_die("%s warm-up %s FETCH: %s (%llu bytes)", s->name, user, last,
                   (unsigned long long)c.bytes);
        ib_cmd(&c, last, sizeof(last), "LOGOUT");
        close(c.fd);
    }
    free(c.buf);
}

/* ------------------------------------------------------------ mixed load */

#define IB_TIMED(cl, id, expr)                                                                     \
    do {                                                                                           \
        double t0_ = bench_now();                                                                  \
        if ((expr) != 0) {                                                                         \
            snprintf((cl)->err, sizeof((cl)->err), "%s: %s", ib_cmd_name[id], last);               \
            goto fail;                                                                             \
        }                                                                                          \
        (cl)->lat[id] += bench_now() - t0_;                                                        \
        (cl)->count[id]++;                                                                         \
    } while (0)

static int ib_append(struct ib_conn *c, const char *msg, size_t n, char *last, size_t cap)
{
    char head[128];
    unsigned tag = ++c->tag;
    int h = snprintf(head, sizeof(head), "t%u APPEND INBOX (\\Seen) {%zu+}\r\n", tag, n);
    if (ib_send(c, head, (size_t)h) != 0 || ib_send(c, msg, n) != 0 || ib_send(c, "\r\n", 2) != 0)
        return snprintf(last, cap, "send: %s", strerror(errno)), -1;
    if (ib_resp(c, tag, last, cap) != 0) return -1;
    return c->appenduid ? 0 : (snprintf(last, cap, "no APPENDUID"), -1);
}

static int ib_idle(struct ib_conn *c, char *last, size_t cap)
{
    unsigned tag = ++c->tag;
    char cmd[32];
    int n = snprintf(cmd, sizeof(cmd), "t%u IDLE\r\n", tag);
    if (ib_send(c, cmd, (size_t)n) != 0) return snprintf(last, cap, "send"), -1;
    for (;;) {
        char *line;
        size_t len;
        if (ib_line(c, &line, &len) != 0) return snprintf(last, cap, "read"), -1;
        if (line[0] == '+') break;
        if (line[0] != '*') return snprintf(last, cap, "%.200s", line), -1;
    }
    if (ib_send(c, "DONE\r\n", 6) != 0) return snprintf(last, cap, "send"), -1;
    return ib_resp(c, tag, last, cap);
}

/* LOGOUT and close: a session counts once its LOGOUT is answered. 0, or -1 (cl->err). */
static int ib_session_end(struct ib_client *cl, struct ib_conn *c, char *last, size_t lastlen)
{
    int rc = ib_cmd(c, last, lastlen, "LOGOUT");
    if (rc != 0)
        snprintf(cl->err, sizeof(cl->err), "logout: %s", last);
    else
        cl->sessions++;
    close(c->fd);
    c->fd = -1;
    return rc != 0 ? -1 : 0;
}

static int ib_session(struct ib_client *cl, struct ib_conn *c, char *msg)
{
    char last[300] = "", user[32];
    unsigned long uids[IB_MAX_LOOPS];
    unsigned nuid = 0;
    snprintf(user, sizeof(user), "u%d", cl->user);
    c->fd = -1;
    IB_TIMED(cl, IB_LOGIN, ib_login(c, cl->port, user, last, sizeof(last)));
    IB_TIMED(cl, IB_SELECT, ib_cmd(c, last, sizeof(last), "SELECT INBOX"));
    IB_TIMED(cl, IB_FETCH_FLAGS, ib_cmd(c, last, sizeof(last), "FETCH 1:* (FLAGS)"));
    for (unsigned i = 0; i < cl->o->loops; i++) {
        size_t n = ib_message(msg, 32768, (unsigned)(ib_rand(&cl->seed) % 100000), &cl->seed, 0);
        IB_TIMED(cl, IB_APPEND, ib_append(c, msg, n, last, sizeof(last)));
        unsigned long uid = c->appenduid;
        uids[nuid++] = uid;
        IB_TIMED(cl, IB_NOOP, ib_cmd(c, last, sizeof(last), "NOOP"));
        IB_TIMED(cl, IB_FETCH_NEW,
                 ib_cmd(c, last, sizeof(last), "UID FETCH %lu (ENVELOPE BODY.PEEK[])", uid));
        if (c->bytes < 1000) {
            snprintf(cl->err, sizeof(cl->err), "fetch_new: %llu bytes: %s",
                     (unsigned long long)c->bytes, last);
            goto fail;
        }
        IB_TIMED(cl, IB_STORE,
                 ib_cmd(c, last, sizeof(last), "UID STORE %lu +FLAGS (\\Flagged)", uid));
        IB_TIMED(cl, IB_IDLE, ib_idle(c, last, sizeof(last)));
    }
    char set[IB_MAX_LOOPS * 12];
    size_t sl = 0;
    for (unsigned i = 0; i < nuid; i++)
        sl += (size_t)snprintf(set + sl, sizeof(set) - sl, "%s%lu", i ? "," : "", uids[i]);
    IB_TIMED(cl, IB_STORE,
             ib_cmd(c, last, sizeof(last), "UID STORE %s +FLAGS.SILENT (\\Deleted)", set));
    IB_TIMED(cl, IB_EXPUNGE, ib_cmd(c, last, sizeof(last), "EXPUNGE"));
    if (c->expunged != nuid) { /* the mailbox must be back to its size */
        snprintf(cl->err, sizeof(cl->err), "expunge: %lu EXPUNGE responses, not %u", c->expunged,
                 nuid);
        goto fail;
    }
    return ib_session_end(cl, c, last, sizeof(last));
fail:
    if (c->fd >= 0) close(c->fd);
    return -1;
}

/*
 * --only store: one session per phase on the client's own INBOX, a closed loop
 * of UID STORE +FLAGS / -FLAGS (\\Flagged) on pseudo-random UIDs of the first
 * 200 (both servers number the imported messages 1..N) until the deadline.
 */
static int ib_store_session(struct ib_client *cl, struct ib_conn *c)
{
    char last[300] = "", user[32];
    snprintf(user, sizeof(user), "u%d", cl->user);
    c->fd = -1;
    IB_TIMED(cl, IB_LOGIN, ib_login(c, cl->port, user, last, sizeof(last)));
    IB_TIMED(cl, IB_SELECT, ib_cmd(c, last, sizeof(last), "SELECT INBOX"));
    unsigned long span = c->exists < 200 ? c->exists : 200;
    if (span == 0) {
        snprintf(cl->err, sizeof(cl->err), "store: empty INBOX");
        goto fail;
    }
    for (unsigned k = 0; bench_now() < cl->deadline; k++) {
        unsigned long uid = 1 + ib_rand(&cl->seed) % span;
        IB_TIMED(cl, IB_STORE,
                 ib_cmd(c, last, sizeof(last), "UID STORE %lu %cFLAGS (\\Flagged)", uid,
                        k % 2 ? '-' : '+'));
    }
    return ib_session_end(cl, c, last, sizeof(last));
fail:
    if (c->fd >= 0) close(c->fd);
    return -1;
}

static void *ib_client_run(void *arg)
{
    struct ib_client *cl = arg;
    struct ib_conn c = {.buf = malloc(IB_BUF)};
    char *msg = malloc(32768);
    if (!c.buf || !msg) {
        cl->failed = 1;
        snprintf(cl->err, sizeof(cl->err), "out of memory");
    }
    while (!cl->failed && bench_now() < cl->deadline)
        if ((cl->o->only_store ? ib_store_session(cl, &c) : ib_session(cl, &c, msg)) != 0)
            cl->failed = 1;
    free(c.buf);
    free(msg);
    return NULL;
}

/* What a phase measured besides the rates. */
struct ib_phase_extra {
    double cpu_us;   /* server CPU per session (mixed) or per STORE (--only store) */
    double flush_us; /* the disk's 4 KiB fdatasync just before the phase (median of 16) */
};

/* One phase; rates[cmd] = clients / mean latency. */
static void ib_phase(const struct ib_opts *o, struct ib_server *s, unsigned round,
                     double rates[IB_NCMD], struct ib_phase_extra *x)
{
    static struct ib_client cl[IB_MAX_CLIENTS];
    pthread_t th[IB_MAX_CLIENTS];
    char flush_path[PATH_MAX];
    ib_path(flush_path, sizeof(flush_path), "%s/flush-probe", ib_tmp);
    x->flush_us = bench_flush_us(flush_path, 16);
    double cpu0 = bench_group_cpu(s->pid);
    double start = bench_now();
    for (unsigned i = 0; i < o->clients; i++) {
        cl[i] = (struct ib_client){.o = o,
                                   .port = s->port,
                                   .user = (int)i + 1,
                                   .deadline = start + o->seconds,
                                   .seed = 0x9E3779B97F4A7C15ull * (i + 1) + round};
        if (pthread_create(&th[i], NULL, ib_client_run, &cl[i]) != 0) ib_die("pthread_create");
    }
    uint64_t count[IB_NCMD] = {0}, sessions = 0;
    double lat[IB_NCMD] = {0};
    for (unsigned i = 0; i < o->clients; i++)
        pthread_join(th[i], NULL);
    for (unsigned i = 0; i < o->clients; i++) {
        if (cl[i].failed) ib_die("%s: client %u: %s", s->name, i + 1, cl[i].err);
        for (int k = 0; k < IB_NCMD; k++)
            count[k] += cl[i].count[k], lat[k] += cl[i].lat[k];
        sessions += cl[i].sessions;
    }
    double el = bench_now() - start, cpu = bench_group_cpu(s->pid) - cpu0;
    uint64_t per = o->only_store ? count[IB_STORE] : sessions;
    x->cpu_us = per ? cpu * 1e6 / (double)per : 0;
    printf("round %u %-8s %llu sessions in %.1f s:", round + 1, s->name,
           (unsigned long long)sessions, el);
    for (int k = 0; k < IB_NCMD; k++) {
        rates[k] = lat[k] > 0 ? (double)count[k] * o->clients / lat[k] : 0;
        if (!o->only_store || k == IB_LOGIN || k == IB_SELECT || k == IB_STORE)
            printf(" %s=%.0f", ib_cmd_name[k], rates[k]);
    }
    printf(" cpu_us_per_%s=%.0f disk_flush_us=%.0f\n", o->only_store ? "store" : "session",
           x->cpu_us, x->flush_us);
    fflush(stdout);
}

/* ------------------------------------------------------------ large mailbox */

static void ib_big(struct ib_server *s, double *select_ms, double *fetch_ms)
{
    struct ib_conn c = {.buf = malloc(IB_BUF)};
    char last[300];
    if (!c.buf) ib_die("out of memory");
    if (ib_login(&c, s->port, "big", last, sizeof(last)) != 0) ib_die("%s big: %s", s->name, last);
    double t0 = bench_now();
    if (ib_cmd(&c, last, sizeof(last), "SELECT INBOX") != 0)
        ib_die("%s big SELECT: %s", s->name, last);
    double t1 = bench_now();
    if (ib_cmd(&c, last, sizeof(last), "FETCH 1:* (FLAGS UID)") != 0)
        ib_die("%s big FETCH: %s", s->name, last);
    double t2 = bench_now();
    ib_cmd(&c, last, sizeof(last), "LOGOUT");
    close(c.fd);
    free(c.buf);
    *select_ms = (t1 - t0) * 1000;
    *fetch_ms = (t2 - t1) * 1000;
}

/* ------------------------------------------------------------ IDLE memory */

/* n sessions on petreld that LOGIN, SELECT INBOX and IDLE; bytes per session by Rss. */
static uint64_t ib_idle_memory(const struct ib_opts *o, struct ib_server *s)
{
    /* the warm-up opens 32 sessions, so fds holds at least that many (--idle may be fewer) */
    int *fds = calloc(o->idle > 32 ? o->idle : 32, sizeof(int));
    struct ib_conn c = {.buf = malloc(IB_BUF)};
    if (!fds || !c.buf) ib_die("out of memory");
    /* warm-up: a few sessions through the same path, closed again */
    for (unsigned round = 0; round < 2; round++) {
        unsigned n = round == 0 ? 32 : o->idle;
        uint64_t rss0 = 0;
        if (round == 1) {
            usleep(300000);
            rss0 = bench_rss(s->pid);
        }
        double t0 = bench_now();
        unsigned opened = 0;
        for (unsigned base = 0; base < n; base += 100) {
            unsigned end = base + 100 < n ? base + 100 : n;
            for (unsigned i = base; i < end; i++) {
                char cmd[256];
                fds[i] = bench_connect(s->port, IB_IO_TIMEOUT_S);
                if (fds[i] < 0) ib_die("idle: connect %u: %s", i, strerror(errno));
                int len = snprintf(cmd, sizeof(cmd),
                                   "a LOGIN u%u@" IB_DOMAIN " " IB_PASSWORD "\r\n"
                                   "b SELECT INBOX\r\nc IDLE\r\n",
                                   i % o->clients + 1);
                c.fd = fds[i];
                if (ib_send(&c, cmd, (size_t)len) != 0) ib_die("idle: send %u", i);
            }
            for (unsigned i = base; i < end; i++) {
                c.fd = fds[i];
                c.off = c.len = 0;
                for (;;) {
                    char *line;
                    size_t len;
                    if (ib_line(&c, &line, &len) != 0) ib_die("idle: session %u: no IDLE", i);
                    if (line[0] == '+') break;
                    if (line[0] != '*' && strncmp(line, "a OK", 4) && strncmp(line, "b OK", 4))
                        ib_die("idle: session %u: %.200s", i, line);
                }
                opened++;
            }
        }
        double topen = bench_now() - t0;
        if (round == 1) {
            sleep(1);
            uint64_t rss1 = bench_rss(s->pid);
            unsigned dropped = 0;
            for (unsigned i = 0; i < n; i++) {
                char b;
                ssize_t r = recv(fds[i], &b, 1, MSG_DONTWAIT | MSG_PEEK);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) dropped++;
            }
            for (unsigned i = 0; i < n; i++)
                close(fds[i]);
            if (dropped) ib_die("idle: %u of %u sessions closed by petreld", dropped, n);
            uint64_t per = rss1 > rss0 ? (rss1 - rss0) / n : 0;
            printf("idle memory: %u IDLE sessions (LOGIN, SELECT INBOX of %u messages, IDLE) in "
                   "%.1f s: petreld Rss %llu -> %llu KiB, %llu bytes/session\n",
                   n, o->messages, topen, (unsigned long long)(rss0 >> 10),
                   (unsigned long long)(rss1 >> 10), (unsigned long long)per);
            free(fds);
            free(c.buf);
            return per;
        }
        for (unsigned i = 0; i < n; i++)
            close(fds[i]);
        (void)opened;
    }
    return 0;
}

/* ------------------------------------------------------------ main */

static const char ib_usage[] =
    "usage: imap_bench [--quick] [--only store] [--clients N] [--messages N] [--big N]\n"
    "                  [--idle N] [--seconds N] [--rounds N] [--loops N] [--petreld PATH]\n"
    "                  [--petrelctl PATH] [--dovecot PATH] [--dovecot-fsync always] [--keep]\n"
    "  --quick        4 clients, 300-message INBOXes, 20,000-message big mailbox,\n"
    "                 1,000 IDLE sessions, 2 s phases (defaults: 8, 2,000, 200,000,\n"
    "                 10,000, 10 s)\n"
    "  --only store   phases of UID STORE +FLAGS/-FLAGS (\\Flagged) alone, one session\n"
    "                 per client; no large-mailbox or IDLE part\n"
    "  --dovecot-fsync always|optimized\n"
    "                 Dovecot's mail_fsync (optimized, its default and the fair setup's;\n"
    "                 always also fsyncs flag changes, as Petrel does)\n"
    "  --rounds N     alternating petrel/dovecot phases (3); --loops N: APPEND..IDLE\n"
    "                 loops per mixed session (5)\n"
    "  --keep         keep the temp dir (logs, configs, stores)\n"
    "Each phase line also gives the server's CPU (its process group, /proc) per\n"
    "session (per STORE with --only store) and disk_flush_us, the median 4 KiB\n"
    "fdatasync of the temp dir's disk measured just before the phase.\n";

static unsigned ib_num(const char *s, unsigned lo, unsigned hi, const char *what)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) ib_die("%s must be %u..%u", what, lo, hi);
    return (unsigned)v;
}

static void ib_parse(int argc, char **argv, struct ib_opts *o)
{
    *o = (struct ib_opts){.clients = 8,
                          .messages = 2000,
                          .big = 200000,
                          .idle = 10000,
                          .seconds = 10,
                          .rounds = 3,
                          .loops = 5};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    ib_path(o->petreld, sizeof(o->petreld), "%s/../petreld", self);
    ib_path(o->petrelctl, sizeof(o->petrelctl), "%s/../petrelctl", self);
    snprintf(o->dovecot, sizeof(o->dovecot), "/usr/sbin/dovecot");
    int set[5] = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", ib_usage);
            exit(0);
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
        } else if (!v) {
            ib_die("unknown option or missing value: %s", a);
        } else if (strcmp(a, "--dovecot-fsync") == 0) {
            if (strcmp(v, "always") != 0 && strcmp(v, "optimized") != 0)
                ib_die("--dovecot-fsync takes always or optimized");
            o->dovecot_fsync_always = strcmp(v, "always") == 0, i++;
        } else if (strcmp(a, "--only") == 0) {
            if (strcmp(v, "store") != 0) ib_die("--only takes \"store\"");
            o->only_store = 1, i++;
        } else if (strcmp(a, "--clients") == 0) {
            o->clients = ib_num(v, 1, IB_MAX_CLIENTS, a), i++, set[0] = 1;
        } else if (strcmp(a, "--messages") == 0) {
            o->messages = ib_num(v, 1, 100000, a), i++, set[1] = 1;
        } else if (strcmp(a, "--big") == 0) {
            o->big = ib_num(v, 1, 500000, a), i++, set[2] = 1;
        } else if (strcmp(a, "--idle") == 0) {
            o->idle = ib_num(v, 1, IB_MAX_IDLE, a), i++, set[3] = 1;
        } else if (strcmp(a, "--seconds") == 0) {
            o->seconds = ib_num(v, 1, 600, a), i++, set[4] = 1;
        } else if (strcmp(a, "--rounds") == 0) {
            o->rounds = ib_num(v, 1, IB_MAX_ROUNDS, a), i++;
        } else if (strcmp(a, "--loops") == 0) {
            o->loops = ib_num(v, 1, IB_MAX_LOOPS, a), i++;
        } else if (strcmp(a, "--petreld") == 0) {
            ib_path(o->petreld, sizeof(o->petreld), "%s", v), i++;
        } else if (strcmp(a, "--petrelctl") == 0) {
            ib_path(o->petrelctl, sizeof(o->petrelctl), "%s", v), i++;
        } else if (strcmp(a, "--dovecot") == 0) {
            ib_path(o->dovecot, sizeof(o->dovecot), "%s", v), i++;
        } else {
            ib_die("unknown option %s", a);
        }
    }
    if (o->quick) {
        if (!set[0]) o->clients = 4;
        if (!set[1]) o->messages = 300;
        if (!set[2]) o->big = 20000;
        if (!set[3]) o->idle = 1000;
        if (!set[4]) o->seconds = 2;
    }
    ib_keep = o->keep;
    if (access(o->petreld, X_OK) || access(o->petrelctl, X_OK))
        ib_die("petreld/petrelctl not found beside the program (build first)");
    if (access(o->dovecot, X_OK))
        ib_die("%s not found: install Dovecot with `make bench-deps`", o->dovecot);
    if (geteuid() != 0) ib_die("Dovecot needs root to switch to its mail user: run as root");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)o->idle + 256 > rl.rlim_cur)
        ib_die("--idle %u needs %u file descriptors, the limit is %llu", o->idle, o->idle + 256,
               (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
    struct ib_opts o;
    signal(SIGPIPE, SIG_IGN);
    ib_parse(argc, argv, &o);
    snprintf(ib_tmp, sizeof(ib_tmp), "/tmp/imap-bench.XXXXXX");
    if (!mkdtemp(ib_tmp)) ib_die("mkdtemp: %s", strerror(errno));
    chmod(ib_tmp, 0755); /* Dovecot's mail processes run as nobody */
    double t0 = bench_now();
    char src[PATH_MAX], big[PATH_MAX];
    ib_path(src, sizeof(src), "%s/maildir", ib_tmp);
    ib_path(big, sizeof(big), "%s/bigdir", ib_tmp);
    ib_make_maildir(src, o.messages, 0, (uid_t)-1, 0);
    ib_make_maildir(big, o.big, 1, (uid_t)-1, 0);
    static struct ib_server petrel = {.name = "petrel"}, dovecot = {.name = "dovecot"};
    ib_servers[0] = &petrel;
    ib_servers[1] = &dovecot;
    petrel.port = bench_free_port();
    dovecot.port = bench_free_port();
    if (petrel.port < 0 || dovecot.port < 0) ib_die("free port: %s", strerror(errno));
    ib_start_petrel(&o, &petrel);
    ib_start_dovecot(&o, &dovecot);
    ib_warm_up(&o, &petrel);
    ib_warm_up(&o, &dovecot);
    printf("setup: %u messages x %u users, big mailbox %u messages%s, %.1f s; %u rounds of %u s, "
           "%u clients, %u loops per session%s; dovecot mail_fsync = %s\n",
           o.messages, o.clients, o.big, o.quick ? " (--quick: not 200,000)" : "", bench_now() - t0,
           o.rounds, o.seconds, o.clients, o.loops, o.only_store ? " (--only store)" : "",
           o.dovecot_fsync_always ? "always" : "optimized");
    fflush(stdout);
    double pr[IB_NCMD][IB_MAX_ROUNDS], dr[IB_NCMD][IB_MAX_ROUNDS];
    double psel[IB_MAX_ROUNDS], dsel[IB_MAX_ROUNDS], pfet[IB_MAX_ROUNDS], dfet[IB_MAX_ROUNDS];
    double pcpu[IB_MAX_ROUNDS], dcpu[IB_MAX_ROUNDS], flush[2 * IB_MAX_ROUNDS];
    for (unsigned r = 0; r < o.rounds; r++) {
        double a[IB_NCMD], b[IB_NCMD];
        struct ib_phase_extra xa, xb;
        ib_phase(&o, &petrel, r, a, &xa);
        ib_phase(&o, &dovecot, r, b, &xb);
        for (int k = 0; k < IB_NCMD; k++)
            pr[k][r] = a[k], dr[k][r] = b[k];
        pcpu[r] = xa.cpu_us, dcpu[r] = xb.cpu_us;
        flush[2 * r] = xa.flush_us, flush[2 * r + 1] = xb.flush_us;
    }
    double pc = bench_median(pcpu, o.rounds), dc = bench_median(dcpu, o.rounds);
    double fl = bench_median(flush, 2 * o.rounds); /* sorted: [0] and [2n-1] are the range */
    double fl_lo = flush[0], fl_hi = flush[2 * o.rounds - 1];
    if (o.only_store) {
        double p = bench_median(pr[IB_STORE], o.rounds), d = bench_median(dr[IB_STORE], o.rounds);
        int pstop = bench_stop(petrel.pid, 15);
        petrel.pid = 0;
        bench_stop(dovecot.pid, 15);
        dovecot.pid = 0;
        ib_cleanup();
        if (pstop != 0) ib_die("petreld did not exit 0 on SIGTERM");
        printf("summary: only=store petrel_store_per_s=%.0f dovecot_store_per_s=%.0f "
               "vs_dovecot_store=%.2f petrel_cpu_us_per_store=%.0f dovecot_cpu_us_per_store=%.0f "
               "disk_flush_us=%.0f disk_flush_us_min=%.0f disk_flush_us_max=%.0f\n",
               p, d, d > 0 ? p / d : 0, pc, dc, fl, fl_lo, fl_hi);
        return 0;
    }
    for (unsigned r = 0; r < o.rounds; r++) {
        ib_big(&petrel, &psel[r], &pfet[r]);
        ib_big(&dovecot, &dsel[r], &dfet[r]);
        printf("round %u big mailbox (%u): petrel select_ms=%.1f fetch_flags_uid_ms=%.1f  "
               "dovecot select_ms=%.1f fetch_flags_uid_ms=%.1f\n",
               r + 1, o.big, psel[r], pfet[r], dsel[r], dfet[r]);
    }
    uint64_t idle_bytes = ib_idle_memory(&o, &petrel);
    char summary[2048];
    size_t sl = 0;
    double vmin = 0;
    printf("%-12s %12s %12s %8s\n", "command", "petrel/s", "dovecot/s", "ratio");
    for (int k = 0; k < IB_NCMD; k++) {
        double p = bench_median(pr[k], o.rounds), d = bench_median(dr[k], o.rounds);
        double v = d > 0 ? p / d : 0;
        if (k == 0 || v < vmin) vmin = v;
        printf("%-12s %12.0f %12.0f %8.2f\n", ib_cmd_name[k], p, d, v);
        sl += (size_t)snprintf(summary + sl, sizeof(summary) - sl, "vs_dovecot_%s=%.2f ",
                               ib_cmd_name[k], v);
    }
    double ps = bench_median(psel, o.rounds), ds = bench_median(dsel, o.rounds);
    double pf = bench_median(pfet, o.rounds), df = bench_median(dfet, o.rounds);
    int pstop = bench_stop(petrel.pid, 15);
    petrel.pid = 0;
    bench_stop(dovecot.pid, 15); /* dovecot -F exits non-zero on SIGTERM on some versions */
    dovecot.pid = 0;
    ib_cleanup();
    if (pstop != 0) ib_die("petreld did not exit 0 on SIGTERM");
    printf("summary: %svs_dovecot_min=%.2f big_messages=%u petrel_big_select_ms=%.1f "
           "dovecot_big_select_ms=%.1f petrel_big_fetch_ms=%.1f dovecot_big_fetch_ms=%.1f "
           "idle_session_bytes=%llu petrel_cpu_us_per_session=%.0f dovecot_cpu_us_per_session=%.0f "
           "disk_flush_us=%.0f disk_flush_us_min=%.0f disk_flush_us_max=%.0f\n",
           summary, vmin, o.big, ps, ds, pf, df, (unsigned long long)idle_bytes, pc, dc, fl, fl_lo,
           fl_hi);
    return 0;
}
