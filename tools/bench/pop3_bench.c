/*
 * pop3_bench.c - POP3 RETR throughput of petreld + pop3.so against Dovecot's
 * pop3 on the same machine, the same messages, the same load; loopback only.
 *
 *   build/bench/pop3_bench [--quick] [--messages N] [--clients N] [--seconds N]
 *                          [--rounds N] [--retr N] [--petreld PATH]
 *                          [--petrelctl PATH] [--dovecot PATH] [--keep]
 *
 * Setup, in a temp dir from mkdtemp under /tmp:
 *  - a Maildir of --messages (10,000) messages written as files: CRLF line
 *    ends, sizes from a fixed mix (1.5, 3, 5, 8, 20 KB; mean about 7.5 KB),
 *    a fixed PRNG seed so every run has the same; named as Dovecot's own
 *    delivery names them (",S=size,W=vsize", no flags: with a ":2,S" suffix
 *    Dovecot 2.3 looked the file up without it at every RETR and rescanned
 *    cur/, about 0.3 s per session);
 *  - --clients (4) users u1..uN@bench.test, each with all the messages (one
 *    user per client: both servers hold one POP3 session per maildrop at a
 *    time, and Dovecot's own lock is per maildrop too);
 *  - petreld: workers = 2, one plain pop3 listener, log_level = warn; the
 *    users made with petrelctl and filled with `petrelctl import USER maildir`
 *    from that Maildir (the store keeps one blob per message for all users);
 *  - Dovecot (`dovecot -F -c FILE`): its high-performance process mode from
 *    /work/shared/BENCHMARKS.md (pop3-login service_count = 0, pop3
 *    service_count = 1000, process_min_avail = 2 each), Maildir with
 *    mailbox_list_index = yes, passwd-file with SHA512-CRYPT and
 *    auth_cache_size = 10M, pop3_no_flag_updates = yes (RETR leaves flags
 *    alone, as Petrel's POP3 does, so every round sees the same files); each user's Maildir is hard
 * links to the same files, owned by nobody (Dovecot does not deliver mail as root). Both are warmed
 * up: one session per user logs in and sends STAT (Dovecot builds its index and size cache, Petrel
 * its auth and size caches), and message 1 from each server is compared with the file.
 *
 * Load: --clients threads, each on its own user, run sessions until the phase
 * ends (--seconds, 10; --quick 3): connect, greeting, USER, PASS, STAT, then
 * --retr (20) RETRs of random message numbers, QUIT. A message counts when
 * its terminating "." arrived. Phases alternate Petrel, Dovecot, ... for
 * --rounds (3) rounds; the medians are reported.
 *
 * Last line:
 *   summary: petrel_retr_per_s=N dovecot_retr_per_s=N vs_dovecot=X
 *            petrel_mb_per_s=X dovecot_mb_per_s=X petrel_logins_per_s=X dovecot_logins_per_s=X
 * Exit status 0 only when setup, every phase and both shutdowns succeeded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"

#define PB_MAX_CLIENTS 64
#define PB_MAX_MESSAGES 100000
#define PB_MAX_ROUNDS 15
#define PB_MAX_SECONDS 600
#define PB_IO_TIMEOUT_S 10
#define PB_START_TIMEOUT_MS 20000
#define PB_STOP_TIMEOUT_MS 15000
#define PB_BUF (256 * 1024)
#define PB_PASSWORD "bench-pass-1"
#define PB_DOMAIN "bench.test"

struct pb_opts {
    int quick, keep;
    unsigned messages, clients, seconds, rounds, retr;
    char petreld[PATH_MAX], petrelctl[PATH_MAX], dovecot[PATH_MAX];
};

struct pb_server {
    const char *name;
    int port;
    pid_t pid;
};

/* one client thread's phase */
struct pb_client {
    const struct pb_opts *o;
    int port, user;
    double deadline;
    uint64_t seed;
    uint64_t msgs, bytes, sessions, errors;
    char err[256];
};

static char pb_tmp[PATH_MAX];

static void pb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static struct pb_server *pb_servers[2];

static void pb_stop(struct pb_server *s)
{
    if (!s || s->pid <= 0) return;
    bench_stop(s->pid, PB_STOP_TIMEOUT_MS / 1000.0);
    s->pid = 0;
}

static void pb_cleanup(int keep)
{
    pb_stop(pb_servers[0]);
    pb_stop(pb_servers[1]);
    if (pb_tmp[0] && !keep)
        bench_rm_tree(pb_tmp);
    else if (pb_tmp[0])
        fprintf(stderr, "kept %s\n", pb_tmp);
}

static void pb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pop3_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    pb_cleanup(0);
    exit(1);
}

static void pb_path(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pb_path(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) pb_die("path too long");
}

static void pb_mkdir(const char *p)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST) pb_die("mkdir %s: %s", p, strerror(errno));
    chmod(p, 0755);
}

static void pb_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) pb_die("write %s: %s", path, strerror(errno));
}

/* bench_proc.h's helpers, dying on failure. */
static void pb_run(char *const argv[], const char *stdin_text)
{
    if (bench_run(argv, stdin_text) != 0)
        pb_die("%s %s %s failed", argv[0], argv[1] ? argv[1] : "", argv[2] ? argv[2] : "");
}

static pid_t pb_spawn(char *const argv[], const char *log)
{
    pid_t pid = bench_spawn(argv, log);
    if (pid < 0) pb_die("fork: %s", strerror(errno));
    return pid;
}

static int pb_free_port(void)
{
    int port = bench_free_port();
    if (port < 0) pb_die("free port: %s", strerror(errno));
    return port;
}

/* ------------------------------------------------------------ a POP3 client */

struct pb_conn {
    int fd;
    char *buf;
    size_t off, len;
};

static int pb_fill(struct pb_conn *c)
{
    if (c->off > 0 && c->off == c->len) c->off = c->len = 0;
    if (c->len == PB_BUF) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, PB_BUF - c->len, 0);
    if (n <= 0) return -1;
    c->len += (size_t)n;
    return 0;
}

/* One reply line into line (NUL-terminated, CRLF removed). 0 or -1. */
static int pb_line(struct pb_conn *c, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->off));
            size_t keep = n > 0 && nl[-1] == '\r' ? n - 1 : n;
            if (keep >= cap) keep = cap - 1;
            memcpy(line, c->buf + c->off, keep);
            line[keep] = '\0';
            c->off += n + 1;
            return 0;
        }
        if (pb_fill(c) != 0) return -1;
    }
}

/* Skips a multi-line body up to and including "\r\n.\r\n" (the +OK line already read). */
static int pb_body(struct pb_conn *c, uint64_t *bytes_r)
{
    uint64_t n = 0;
    int bol = 1;
    for (;;) {
        while (c->off < c->len) {
            char *p = c->buf + c->off;
            size_t avail = c->len - c->off;
            if (bol && avail >= 3 && memcmp(p, ".\r\n", 3) == 0) {
                c->off += 3;
                *bytes_r = n;
                return 0;
            }
            if (bol && avail < 3 && p[0] == '.') break; /* need more to decide */
            char *nl = memchr(p, '\n', avail);
            size_t take = nl ? (size_t)(nl - p) + 1 : avail;
            n += take;
            c->off += take;
            bol = nl != NULL;
        }
        if (pb_fill(c) != 0) return -1;
    }
}

static int pb_cmd(struct pb_conn *c, const char *cmd, char *line, size_t cap)
{
    size_t n = strlen(cmd);
    if (send(c->fd, cmd, n, MSG_NOSIGNAL) != (ssize_t)n) return -1;
    if (pb_line(c, line, cap) != 0) return -1;
    return strncmp(line, "+OK", 3) == 0 ? 0 : -1;
}

/* Logs in as user uN; *count_r gets STAT's message count. */
static int pb_login(struct pb_conn *c, int user, unsigned *count_r, char *err, size_t errcap)
{
    char line[512], cmd[256];
    if (pb_line(c, line, sizeof(line)) != 0 || strncmp(line, "+OK", 3) != 0)
        return snprintf(err, errcap, "greeting: %.200s", line), -1;
    snprintf(cmd, sizeof(cmd), "USER u%d@%s\r\n", user, PB_DOMAIN);
    if (pb_cmd(c, cmd, line, sizeof(line)) != 0)
        return snprintf(err, errcap, "USER: %.200s", line), -1;
    if (pb_cmd(c, "PASS " PB_PASSWORD "\r\n", line, sizeof(line)) != 0)
        return snprintf(err, errcap, "PASS: %.200s", line), -1;
    if (pb_cmd(c, "STAT\r\n", line, sizeof(line)) != 0 || sscanf(line, "+OK %u", count_r) != 1)
        return snprintf(err, errcap, "STAT: %.200s", line), -1;
    return 0;
}

static uint64_t pb_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int pb_session(struct pb_client *cl, struct pb_conn *c)
{
    char line[512], cmd[64];
    unsigned count;
    c->fd = bench_connect(cl->port, PB_IO_TIMEOUT_S);
    c->off = c->len = 0;
    if (c->fd < 0) return snprintf(cl->err, sizeof(cl->err), "connect: %s", strerror(errno)), -1;
    int rc = pb_login(c, cl->user, &count, cl->err, sizeof(cl->err));
    if (rc == 0 && count == 0) rc = -1, snprintf(cl->err, sizeof(cl->err), "empty maildrop");
    for (unsigned i = 0; rc == 0 && i < cl->o->retr; i++) {
        snprintf(cmd, sizeof(cmd), "RETR %u\r\n", (unsigned)(pb_rand(&cl->seed) % count) + 1);
        uint64_t bytes = 0;
        if (pb_cmd(c, cmd, line, sizeof(line)) != 0 || pb_body(c, &bytes) != 0) {
            snprintf(cl->err, sizeof(cl->err), "%.20s: %.200s", cmd, line);
            rc = -1;
            break;
        }
        cl->msgs++;
        cl->bytes += bytes;
        if (bench_now() > cl->deadline) break;
    }
    if (rc == 0 && pb_cmd(c, "QUIT\r\n", line, sizeof(line)) != 0)
        rc = -1, snprintf(cl->err, sizeof(cl->err), "QUIT: %.200s", line);
    close(c->fd);
    if (rc == 0) cl->sessions++;
    return rc;
}

static void *pb_client_run(void *arg)
{
    struct pb_client *cl = arg;
    struct pb_conn c = {.buf = malloc(PB_BUF)};
    if (!c.buf) {
        cl->errors++;
        return NULL;
    }
    while (bench_now() < cl->deadline) {
        if (pb_session(cl, &c) != 0) {
            cl->errors++;
            break; /* any error fails the run */
        }
    }
    free(c.buf);
    return NULL;
}

struct pb_result {
    double msgs_per_s, mb_per_s, logins_per_s;
};

static struct pb_result pb_phase(const struct pb_opts *o, struct pb_server *s, unsigned round)
{
    struct pb_client cl[PB_MAX_CLIENTS];
    pthread_t th[PB_MAX_CLIENTS];
    double start = bench_now();
    for (unsigned i = 0; i < o->clients; i++) {
        cl[i] = (struct pb_client){.o = o,
                                   .port = s->port,
                                   .user = (int)i + 1,
                                   .deadline = start + o->seconds,
                                   .seed = 0x9E3779B97F4A7C15ull * (i + 1) + round};
        if (pthread_create(&th[i], NULL, pb_client_run, &cl[i]) != 0) pb_die("pthread_create");
    }
    uint64_t msgs = 0, bytes = 0, sessions = 0;
    for (unsigned i = 0; i < o->clients; i++) {
        pthread_join(th[i], NULL);
        if (cl[i].errors) pb_die("%s: client %u: %s", s->name, i + 1, cl[i].err);
        msgs += cl[i].msgs;
        bytes += cl[i].bytes;
        sessions += cl[i].sessions;
    }
    double el = bench_now() - start;
    struct pb_result r = {(double)msgs / el, (double)bytes / el / 1e6, (double)sessions / el};
    printf("round %u %-8s retr_per_s=%.0f mb_per_s=%.1f sessions_per_s=%.1f (%llu messages, "
           "%.1f s)\n",
           round + 1, s->name, r.msgs_per_s, r.mb_per_s, r.logins_per_s, (unsigned long long)msgs,
           el);
    fflush(stdout);
    return r;
}

/* ------------------------------------------------------------ setup */

static size_t pb_message(char *dst, size_t cap, unsigned i, uint64_t *seed)
{
    static const size_t sizes[] = {1500, 3000, 5000, 8000, 20000};
    size_t target = sizes[pb_rand(seed) % 5];
    int n = snprintf(dst, cap,
                     "Return-Path: <sender@example.test>\r\nFrom: Sender <sender@example.test>\r\n"
                     "To: user@" PB_DOMAIN "\r\nSubject: benchmark message %u\r\n"
                     "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
                     "Message-ID: <bench.%u@example.test>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
                     i, i);
    size_t len = (size_t)n;
    for (unsigned l = 0; len + 80 < target && len + 80 < cap; l++) {
        n = snprintf(dst + len, cap - len, "%u line %05u of message %u: %.*s\r\n", i, l, i, 40,
                     "the quick brown fox jumps over the lazy dog, again and again");
        len += (size_t)n;
    }
    return len;
}

static void pb_make_maildir(const struct pb_opts *o, const char *dir)
{
    char p[PATH_MAX], *msg = malloc(32768);
    if (!msg) pb_die("out of memory");
    pb_mkdir(dir);
    const char *subs[] = {"cur", "new", "tmp"};
    for (int k = 0; k < 3; k++) {
        pb_path(p, sizeof(p), "%s/%s", dir, subs[k]);
        pb_mkdir(p);
    }
    uint64_t seed = 42;
    for (unsigned i = 0; i < o->messages; i++) {
        size_t n = pb_message(msg, 32768, i, &seed);
        pb_path(p, sizeof(p), "%s/cur/%u.M%uP1.bench,S=%zu,W=%zu", dir, 1700000000u + i, i, n, n);
        FILE *f = fopen(p, "w");
        if (!f || fwrite(msg, 1, n, f) != n || fclose(f) != 0) pb_die("write %s", p);
    }
    free(msg);
}

/* Dovecot's copy for user u: hard links to the source files, owned by nobody. */
static void pb_link_maildir(const struct pb_opts *o, const char *src, const char *home, uid_t uid,
                            gid_t gid)
{
    char d[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    pb_mkdir(home);
    if (chown(home, uid, gid) != 0) pb_die("chown %s: %s", home, strerror(errno));
    pb_path(d, sizeof(d), "%s/Maildir", home);
    pb_mkdir(d);
    const char *subs[] = {"cur", "new", "tmp"};
    for (int k = 0; k < 3; k++) {
        pb_path(to, sizeof(to), "%s/%s", d, subs[k]);
        pb_mkdir(to);
        if (chown(to, uid, gid) != 0) pb_die("chown %s", to);
    }
    if (chown(d, uid, gid) != 0) pb_die("chown %s", d);
    uint64_t seed = 42;
    char scratch[32768];
    for (unsigned i = 0; i < o->messages; i++) {
        size_t n = pb_message(scratch, sizeof(scratch), i, &seed);
        pb_path(from, sizeof(from), "%s/cur/%u.M%uP1.bench,S=%zu,W=%zu", src, 1700000000u + i, i, n,
                n);
        pb_path(to, sizeof(to), "%s/cur/%u.M%uP1.bench,S=%zu,W=%zu", d, 1700000000u + i, i, n, n);
        if (link(from, to) != 0 && errno != EEXIST) pb_die("link %s: %s", to, strerror(errno));
        if (chown(to, uid, gid) != 0) pb_die("chown %s", to);
    }
}

static void pb_wait_ready(struct pb_server *s)
{
    double end = bench_now() + PB_START_TIMEOUT_MS / 1000.0;
    while (bench_now() < end) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            pb_die("%s exited during start (see its log in %s)", s->name, pb_tmp);
        }
        int fd = bench_connect(s->port, PB_IO_TIMEOUT_S);
        if (fd >= 0) {
            char line[256];
            struct pb_conn c = {.fd = fd, .buf = malloc(PB_BUF)};
            int ok = c.buf && pb_line(&c, line, sizeof(line)) == 0 && strncmp(line, "+OK", 3) == 0;
            free(c.buf);
            close(fd);
            if (ok) return;
        }
        usleep(50000);
    }
    pb_die("%s does not answer on port %d", s->name, s->port);
}

static void pb_start_petrel(const struct pb_opts *o, struct pb_server *s)
{
    char dir[PATH_MAX], data[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], text[4096], src[PATH_MAX];
    pb_path(dir, sizeof(dir), "%s/petrel", pb_tmp);
    pb_mkdir(dir);
    pb_path(data, sizeof(data), "%s/data", dir);
    pb_path(conf, sizeof(conf), "%s/petrel.conf", dir);
    pb_path(log, sizeof(log), "%s/petreld.log", dir);
    pb_path(src, sizeof(src), "%s/maildir", pb_tmp);
    int tn =
        snprintf(text, sizeof(text),
                 "data = %s\nhostname = bench.test\nworkers = 2\nlog_level = warn\nlog_file = %s\n"
                 "max_connections_per_ip = 0\n\n[listener pop3]\nplugin = pop3\n"
                 "address = 127.0.0.1:%d\ntls = none\nmax_connections = 1000\n",
                 data, log, s->port);
    if (tn < 0 || (size_t)tn >= sizeof(text)) pb_die("config too long");
    pb_write_file(conf, text);
    char *tadd[] = {(char *)o->petrelctl, "-d", data, "tenant", "add", PB_DOMAIN, NULL};
    pb_run(tadd, NULL);
    for (unsigned u = 1; u <= o->clients; u++) {
        char addr[128];
        snprintf(addr, sizeof(addr), "u%u@%s", u, PB_DOMAIN);
        char *uadd[] = {(char *)o->petrelctl, "-d", data, "user", "add", addr,
                        "--password-stdin",   NULL};
        pb_run(uadd, PB_PASSWORD "\n");
        char *imp[] = {(char *)o->petrelctl, "-d", data, "import", addr, "maildir", src, NULL};
        pb_run(imp, NULL);
    }
    char *argv[] = {(char *)o->petreld, "-c", conf, "--foreground", NULL};
    s->pid = pb_spawn(argv, log);
    pb_wait_ready(s);
}

static void pb_start_dovecot(const struct pb_opts *o, struct pb_server *s)
{
    char dir[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], pw[PATH_MAX], home[PATH_MAX];
    char src[PATH_MAX], text[8192];
    struct passwd *nobody = getpwnam("nobody");
    if (!nobody) pb_die("no user nobody");
    pb_path(dir, sizeof(dir), "%s/dovecot", pb_tmp);
    pb_mkdir(dir);
    pb_path(conf, sizeof(conf), "%s/dovecot.conf", dir);
    pb_path(log, sizeof(log), "%s/dovecot.log", dir);
    pb_path(pw, sizeof(pw), "%s/passwd", dir);
    pb_path(src, sizeof(src), "%s/maildir", pb_tmp);
    pb_path(home, sizeof(home), "%s/home", dir);
    pb_mkdir(home);
    /* passwd-file, SHA512-CRYPT (a hash either way; both servers cache the result) */
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *hash = crypt_r(PB_PASSWORD, "$6$petrelbenchsalt$", &cd);
    if (!hash || hash[0] != '$') pb_die("crypt failed");
    FILE *f = fopen(pw, "w");
    if (!f) pb_die("write %s", pw);
    for (unsigned u = 1; u <= o->clients; u++) {
        fprintf(f, "u%u@%s:{SHA512-CRYPT}%s\n", u, PB_DOMAIN, hash);
        char uh[PATH_MAX];
        pb_path(uh, sizeof(uh), "%s/u%u", home, u);
        pb_link_maildir(o, src, uh, nobody->pw_uid, nobody->pw_gid);
    }
    fclose(f);
    int tn = snprintf(
        text, sizeof(text),
        "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s\ninstance_name = pop3bench\n"
        "protocols = pop3\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n"
        "auth_mechanisms = plain\nauth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"
        "passdb {\n  driver = passwd-file\n  args = username_format=%%u %s\n}\n"
        "userdb {\n  driver = static\n  args = uid=%u gid=%u home=%s/%%n\n}\n"
        "mail_location = maildir:~/Maildir\nmailbox_list_index = yes\n"
        "mail_max_userip_connections = 1000\npop3_no_flag_updates = yes\n"
        "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
        "service pop3-login {\n  inet_listener pop3 {\n    address = 127.0.0.1\n"
        "    port = %d\n  }\n  service_count = 0\n  process_min_avail = 2\n}\n"
        "service pop3 {\n  service_count = 1000\n  process_min_avail = 2\n}\n",
        dir, dir, log, pw, (unsigned)nobody->pw_uid, (unsigned)nobody->pw_gid, home, s->port);
    if (tn < 0 || (size_t)tn >= sizeof(text)) pb_die("config too long");
    pb_write_file(conf, text);
    char run[PATH_MAX];
    pb_path(run, sizeof(run), "%s/run", dir);
    pb_mkdir(run);
    char *argv[] = {(char *)o->dovecot, "-F", "-c", conf, NULL};
    s->pid = pb_spawn(argv, log);
    pb_wait_ready(s);
}

/* One session per user (indexes, caches): STAT, LIST, RETR 1 checked. */
static void pb_warm_up(const struct pb_opts *o, struct pb_server *s)
{
    struct pb_conn c = {.buf = malloc(PB_BUF)};
    char line[512], err[256] = "";
    if (!c.buf) pb_die("out of memory");
    for (unsigned u = 1; u <= o->clients; u++) {
        unsigned count = 0;
        c.fd = bench_connect(s->port, PB_IO_TIMEOUT_S);
        c.off = c.len = 0;
        if (c.fd < 0 || pb_login(&c, (int)u, &count, err, sizeof(err)) != 0)
            pb_die("%s warm-up u%u: %s", s->name, u, err);
        if (count != o->messages)
            pb_die("%s: u%u has %u messages, not %u", s->name, u, count, o->messages);
        if (pb_cmd(&c, "LIST\r\n", line, sizeof(line)) != 0) pb_die("%s: LIST: %s", s->name, line);
        uint64_t bytes;
        if (pb_body(&c, &bytes) != 0) pb_die("%s: LIST body", s->name);
        if (pb_cmd(&c, "RETR 1\r\n", line, sizeof(line)) != 0)
            pb_die("%s: RETR 1: %s", s->name, line);
        unsigned long long octets = 0;
        sscanf(line, "+OK %llu", &octets);
        if (pb_body(&c, &bytes) != 0) pb_die("%s: RETR 1 body", s->name);
        if (bytes < 1000 || (octets && octets != bytes))
            pb_die("%s: RETR 1: %llu bytes, %llu announced", s->name, (unsigned long long)bytes,
                   octets);
        if (pb_cmd(&c, "QUIT\r\n", line, sizeof(line)) != 0) pb_die("%s: QUIT: %s", s->name, line);
        close(c.fd);
    }
    free(c.buf);
}

static unsigned pb_num(const char *s, unsigned lo, unsigned hi, const char *what)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) pb_die("%s must be %u..%u", what, lo, hi);
    return (unsigned)v;
}

static void pb_parse(int argc, char **argv, struct pb_opts *o)
{
    *o = (struct pb_opts){.messages = 10000, .clients = 4, .seconds = 10, .rounds = 3, .retr = 20};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    pb_path(o->petreld, sizeof(o->petreld), "%s/../petreld", self);
    pb_path(o->petrelctl, sizeof(o->petrelctl), "%s/../petrelctl", self);
    snprintf(o->dovecot, sizeof(o->dovecot), "/usr/sbin/dovecot");
    int seconds_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(a, "--keep") == 0) {
            o->keep = 1;
        } else if (!v) {
            pb_die("unknown option or missing value: %s", a);
        } else if (strcmp(a, "--messages") == 0) {
            o->messages = pb_num(v, 1, PB_MAX_MESSAGES, a), i++;
        } else if (strcmp(a, "--clients") == 0) {
            o->clients = pb_num(v, 1, PB_MAX_CLIENTS, a), i++;
        } else if (strcmp(a, "--seconds") == 0) {
            o->seconds = pb_num(v, 1, PB_MAX_SECONDS, a), i++, seconds_set = 1;
        } else if (strcmp(a, "--rounds") == 0) {
            o->rounds = pb_num(v, 1, PB_MAX_ROUNDS, a), i++;
        } else if (strcmp(a, "--retr") == 0) {
            o->retr = pb_num(v, 1, 100000, a), i++;
        } else if (strcmp(a, "--petreld") == 0) {
            pb_path(o->petreld, sizeof(o->petreld), "%s", v), i++;
        } else if (strcmp(a, "--petrelctl") == 0) {
            pb_path(o->petrelctl, sizeof(o->petrelctl), "%s", v), i++;
        } else if (strcmp(a, "--dovecot") == 0) {
            pb_path(o->dovecot, sizeof(o->dovecot), "%s", v), i++;
        } else {
            pb_die("unknown option %s", a);
        }
    }
    if (o->quick && !seconds_set) o->seconds = 3;
    if (access(o->petreld, X_OK) || access(o->petrelctl, X_OK))
        pb_die("petreld/petrelctl not found beside the program (build first)");
    if (access(o->dovecot, X_OK))
        pb_die("%s not found: install Dovecot with `make bench-deps`", o->dovecot);
    if (geteuid() != 0) pb_die("Dovecot needs root to switch to its mail user: run as root");
}

int main(int argc, char **argv)
{
    struct pb_opts o;
    signal(SIGPIPE, SIG_IGN);
    pb_parse(argc, argv, &o);
    snprintf(pb_tmp, sizeof(pb_tmp), "/tmp/pop3-bench.XXXXXX");
    if (!mkdtemp(pb_tmp)) pb_die("mkdtemp: %s", strerror(errno));
    chmod(pb_tmp, 0755); /* Dovecot's mail processes run as nobody */
    double t0 = bench_now();
    char src[PATH_MAX];
    pb_path(src, sizeof(src), "%s/maildir", pb_tmp);
    pb_make_maildir(&o, src);
    static struct pb_server petrel = {.name = "petrel"}, dovecot = {.name = "dovecot"};
    pb_servers[0] = &petrel;
    pb_servers[1] = &dovecot;
    petrel.port = pb_free_port();
    dovecot.port = pb_free_port();
    pb_start_petrel(&o, &petrel);
    pb_start_dovecot(&o, &dovecot);
    pb_warm_up(&o, &petrel);
    pb_warm_up(&o, &dovecot);
    printf("setup: %u messages x %u users, %.1f s; %u rounds of %u s, %u clients, %u RETR per "
           "session\n",
           o.messages, o.clients, bench_now() - t0, o.rounds, o.seconds, o.clients, o.retr);
    double pm[PB_MAX_ROUNDS], dm[PB_MAX_ROUNDS], pb[PB_MAX_ROUNDS], db[PB_MAX_ROUNDS];
    double pl[PB_MAX_ROUNDS], dl[PB_MAX_ROUNDS];
    for (unsigned r = 0; r < o.rounds; r++) {
        struct pb_result a = pb_phase(&o, &petrel, r), b = pb_phase(&o, &dovecot, r);
        pm[r] = a.msgs_per_s, pb[r] = a.mb_per_s, pl[r] = a.logins_per_s;
        dm[r] = b.msgs_per_s, db[r] = b.mb_per_s, dl[r] = b.logins_per_s;
    }
    double p = bench_median(pm, o.rounds), d = bench_median(dm, o.rounds);
    double pmb = bench_median(pb, o.rounds), dmb = bench_median(db, o.rounds);
    double plg = bench_median(pl, o.rounds), dlg = bench_median(dl, o.rounds);
    pb_stop(&petrel);
    pb_stop(&dovecot);
    pb_cleanup(o.keep);
    printf("summary: petrel_retr_per_s=%.0f dovecot_retr_per_s=%.0f vs_dovecot=%.2f "
           "petrel_mb_per_s=%.1f dovecot_mb_per_s=%.1f petrel_sessions_per_s=%.1f "
           "dovecot_sessions_per_s=%.1f\n",
           p, d, d > 0 ? p / d : 0.0, pmb, dmb, plg, dlg);
    return 0;
}
