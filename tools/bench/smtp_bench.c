/*
 * smtp_bench.c - inbound SMTP delivery: Postfix's smtp-source against petreld
 * in mx mode (durable delivery into real users), against Postfix's smtp-sink
 * (the protocol-only ceiling: nothing stored) and against Dovecot's LMTP
 * (durable delivery into Maildir, smtp-source -L), on loopback only.
 *
 *   build/bench/smtp_bench [--quick] [--messages N] [--sessions N] [--size N]
 *                          [--users N] [--rounds N] [--petreld PATH]
 *                          [--petrelctl PATH] [--keep]
 *
 * Setup, in a temp dir from mkdtemp under /tmp:
 *  - petreld: workers = 2, log_level = warn, one mx listener (tls none),
 *    --users (10) users u1..uN@bench.test made with petrelctl, no quota;
 *  - smtp-sink -u nobody on a free port (backlog 256);
 *  - Dovecot (`dovecot -F -c FILE`): LMTP only, process_min_avail = --sessions
 *    and service_count = 1000 (pre-started, reused lmtp processes), userdb
 *    static (uid/gid of nobody, home per user), Maildir with
 *    mailbox_list_index = yes, the default mail_fsync = optimized (it fsyncs
 *    each delivery before its 250), info_log_path = /dev/null (petreld logs
 *    at warn: neither writes a line per delivery).
 * Load (every phase the same): --users smtp-source processes run at once,
 * process i sending to ui@bench.test with -s sessions/users parallel
 * sessions (--sessions, 20 in all), -d (a session sends many messages), -l
 * --size (4096) bytes, --messages (5000; --quick 1000) in all. Phases
 * alternate petrel, sink, dovecot for --rounds (3); the medians are reported
 * with the server's CPU time per message (utime + stime of the server's
 * process group, from /proc, before and after the phase). smtp-source exits
 * non-zero on any unexpected reply, which fails the run. Each petrel and
 * dovecot phase is checked against the store: the messages must be there.
 *
 * Last line:
 *   summary: petrel_msgs_per_s=N dovecot_lmtp_msgs_per_s=N sink_msgs_per_s=N
 *            vs_dovecot=X vs_sink=X
 * Exit status 0 only when setup, every phase and the shutdowns succeeded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SB_DOMAIN "bench.test"
#define SB_MAX_USERS 50
#define SB_MAX_ROUNDS 15
#define SB_START_TIMEOUT_MS 15000
#define SB_STOP_TIMEOUT_MS 15000
#define SB_PHASE_TIMEOUT_S 300

struct sb_opts {
    unsigned messages, sessions, size, users, rounds;
    int keep;
    char petreld[PATH_MAX], petrelctl[PATH_MAX];
};

struct sb_server {
    const char *name;
    pid_t pid;
    int port;
    int lmtp; /* smtp-source -L */
};

static char sb_tmp[PATH_MAX];
static struct sb_server *sb_servers[3];

static double sb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sb_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* SIGTERM, wait; 0 when it exited 0 (smtp-sink dies by the signal: that counts as clean). */
static int sb_stop(struct sb_server *s)
{
    if (!s || s->pid <= 0)
        return 0;
    kill(s->pid, SIGTERM);
    double end = sb_now() + SB_STOP_TIMEOUT_MS / 1000.0;
    int st = 0, rc = 0;
    while (waitpid(s->pid, &st, WNOHANG) == 0) {
        if (sb_now() > end) {
            kill(-s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            rc = -1;
            break;
        }
        usleep(20000);
    }
    if (rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0)
        rc = -1;
    kill(-s->pid, SIGTERM); /* whatever of its group is left (dovecot's children) */
    s->pid = 0;
    return rc;
}

static void sb_cleanup(int keep)
{
    for (int i = 0; i < 3; i++)
        sb_stop(sb_servers[i]);
    if (sb_tmp[0] && !keep)
        nftw(sb_tmp, sb_rm_cb, 32, FTW_DEPTH | FTW_PHYS);
    else if (sb_tmp[0])
        fprintf(stderr, "kept %s\n", sb_tmp);
}

static void sb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void sb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "smtp_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    sb_cleanup(1);
    exit(1);
}

static void sb_path(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sb_path(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        sb_die("path too long");
}

static void sb_mkdir(const char *p, uid_t uid, gid_t gid)
{
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        sb_die("mkdir %s: %s", p, strerror(errno));
    if (chown(p, uid, gid) != 0)
        sb_die("chown %s: %s", p, strerror(errno));
}

static void sb_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        sb_die("write %s: %s", path, strerror(errno));
}

/* fork + exec with stdout/stderr to log (or /dev/null) and stdin from text; no wait. */
static pid_t sb_spawn(char *const argv[], const char *log, const char *stdin_text, int group)
{
    int fds[2];
    if (pipe(fds) != 0)
        sb_die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        sb_die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (group)
            setpgid(0, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[0]);
    if (stdin_text && write(fds[1], stdin_text, strlen(stdin_text)) < 0)
        sb_die("write to %s: %s", argv[0], strerror(errno));
    close(fds[1]);
    return pid;
}

static int sb_wait(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

static void sb_run(char *const argv[], const char *stdin_text)
{
    if (sb_wait(sb_spawn(argv, NULL, stdin_text, 0)) != 0)
        sb_die("%s %s %s failed", argv[0], argv[1] ? argv[1] : "", argv[2] ? argv[2] : "");
}

static int sb_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        sb_die("free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* Waits until the server greets with "220". */
static void sb_wait_ready(struct sb_server *s)
{
    double end = sb_now() + SB_START_TIMEOUT_MS / 1000.0;
    while (sb_now() < end) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            sb_die("%s exited during start (see its log in %s)", s->name, sb_tmp);
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        char buf[256];
        struct timeval tv = {.tv_sec = 2};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            if (n >= 3 && memcmp(buf, "220", 3) == 0)
                return;
        } else if (fd >= 0) {
            close(fd);
        }
        usleep(50000);
    }
    sb_die("%s does not answer on port %d", s->name, s->port);
}

/* CPU seconds (utime + stime) of every process in the group of pid. */
static double sb_group_cpu(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    double total = 0;
    long hz = sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char p[300], buf[1024];
        snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        if (!rp)
            continue;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        char state;
        int ppid, pgrp;
        unsigned long skip, ut, st;
        if (sscanf(rp + 2, "%c %d %d %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", &state, &ppid,
                   &pgrp, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &ut, &st) == 13 &&
            pgrp == pgid)
            total += (double)(ut + st) / (double)hz;
    }
    closedir(d);
    return total;
}

/* ------------------------------------------------------------ servers */

static void sb_start_petrel(const struct sb_opts *o, struct sb_server *s)
{
    char dir[PATH_MAX], data[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], text[2048];
    sb_path(dir, sizeof(dir), "%s/petrel", sb_tmp);
    sb_mkdir(dir, getuid(), getgid());
    sb_path(data, sizeof(data), "%s/data", dir);
    sb_path(conf, sizeof(conf), "%s/petrel.conf", dir);
    sb_path(log, sizeof(log), "%s/petreld.log", dir);
    int tn = snprintf(text, sizeof(text),
                      "data = %s\nhostname = bench.test\nworkers = 2\nlog_level = warn\n"
                      "log_file = %s\nmax_connections_per_ip = 0\n\n[listener mx]\nplugin = smtp\n"
                      "mode = mx\naddress = 127.0.0.1:%d\ntls = none\nmax_connections = 1000\n",
                      data, log, s->port);
    if (tn < 0 || (size_t)tn >= sizeof(text))
        sb_die("config too long");
    sb_write_file(conf, text);
    char *tadd[] = {(char *)o->petrelctl, "-d", data, "tenant", "add", SB_DOMAIN, NULL};
    sb_run((char *const *)tadd, NULL);
    for (unsigned u = 1; u <= o->users; u++) {
        char addr[64];
        snprintf(addr, sizeof(addr), "u%u@%s", u, SB_DOMAIN);
        char *uadd[] = {(char *)o->petrelctl, "-d", data, "user", "add", addr, "--password-stdin", NULL};
        sb_run((char *const *)uadd, "bench-password\n");
    }
    char *argv[] = {(char *)o->petreld, "-c", conf, "--foreground", NULL};
    s->pid = sb_spawn(argv, log, NULL, 1);
    sb_wait_ready(s);
}

static void sb_start_sink(struct sb_server *s)
{
    char addr[64], log[PATH_MAX];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
    sb_path(log, sizeof(log), "%s/sink.log", sb_tmp);
    char *argv[] = {"/usr/sbin/smtp-sink", "-u", "nobody", addr, "256", NULL};
    s->pid = sb_spawn(argv, log, NULL, 1);
    sb_wait_ready(s);
}

static void sb_start_dovecot(const struct sb_opts *o, struct sb_server *s)
{
    char dir[PATH_MAX], conf[PATH_MAX], log[PATH_MAX], home[PATH_MAX], run[PATH_MAX];
    char text[4096];
    struct passwd *nobody = getpwnam("nobody");
    if (!nobody)
        sb_die("no user nobody");
    sb_path(dir, sizeof(dir), "%s/dovecot", sb_tmp);
    sb_mkdir(dir, getuid(), getgid());
    sb_path(conf, sizeof(conf), "%s/dovecot.conf", dir);
    sb_path(log, sizeof(log), "%s/dovecot.log", dir);
    sb_path(home, sizeof(home), "%s/home", dir);
    sb_path(run, sizeof(run), "%s/run", dir);
    sb_mkdir(home, nobody->pw_uid, nobody->pw_gid);
    sb_mkdir(run, getuid(), getgid());
    for (unsigned u = 1; u <= o->users; u++) {
        char uh[PATH_MAX];
        sb_path(uh, sizeof(uh), "%s/u%u", home, u);
        sb_mkdir(uh, nobody->pw_uid, nobody->pw_gid);
    }
    int tn = snprintf(
        text, sizeof(text),
        "base_dir = %s\nstate_dir = %s/state\nlog_path = %s\ninfo_log_path = /dev/null\n"
        "instance_name = smtpbench\n"
        "protocols = lmtp\nlisten = 127.0.0.1\nssl = no\n"
        "passdb {\n  driver = static\n  args = nopassword=y\n}\n"
        "userdb {\n  driver = static\n  args = uid=%u gid=%u home=%s/%%n\n}\n"
        "mail_location = maildir:~/Maildir\nmailbox_list_index = yes\nmail_fsync = optimized\n"
        "lmtp_rcpt_check_quota = no\nrecipient_delimiter = +\n"
        "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
        "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = %d\n  }\n"
        "  unix_listener lmtp {\n    mode = 0600\n  }\n"
        "  service_count = 1000\n  process_min_avail = %u\n  client_limit = 1\n}\n",
        run, dir, log, (unsigned)nobody->pw_uid, (unsigned)nobody->pw_gid, home, s->port,
        o->sessions);
    if (tn < 0 || (size_t)tn >= sizeof(text))
        sb_die("config too long");
    sb_write_file(conf, text);
    char *argv[] = {"/usr/sbin/dovecot", "-F", "-c", conf, NULL};
    s->pid = sb_spawn(argv, log, NULL, 1);
    sb_wait_ready(s);
}

/* ------------------------------------------------------------ load */

struct sb_result {
    double msgs_per_s;
    double cpu_us_per_msg;
};

static struct sb_result sb_phase(const struct sb_opts *o, struct sb_server *s, unsigned round)
{
    pid_t kids[SB_MAX_USERS];
    unsigned per = o->messages / o->users;
    unsigned sess = o->sessions / o->users ? o->sessions / o->users : 1;
    char srv[64], msgs[16], sessions[16], size[16], from[64];
    snprintf(srv, sizeof(srv), "127.0.0.1:%d", s->port);
    snprintf(msgs, sizeof(msgs), "%u", per);
    snprintf(sessions, sizeof(sessions), "%u", sess);
    snprintf(size, sizeof(size), "%u", o->size);
    snprintf(from, sizeof(from), "sender%u@remote.test", round);
    double cpu0 = sb_group_cpu(s->pid), t0 = sb_now();
    for (unsigned u = 0; u < o->users; u++) {
        char to[64];
        snprintf(to, sizeof(to), "u%u@%s", u + 1, SB_DOMAIN);
        char *argv[24];
        int a = 0;
        argv[a++] = "/usr/sbin/smtp-source";
        if (s->lmtp)
            argv[a++] = "-L";
        argv[a++] = "-d";
        argv[a++] = "-s", argv[a++] = sessions;
        argv[a++] = "-m", argv[a++] = msgs;
        argv[a++] = "-l", argv[a++] = size;
        argv[a++] = "-f", argv[a++] = from;
        argv[a++] = "-t", argv[a++] = to;
        argv[a++] = "-M", argv[a++] = "client.bench.test";
        argv[a++] = srv;
        argv[a] = NULL;
        kids[u] = sb_spawn(argv, NULL, NULL, 0);
    }
    int failed = 0;
    for (unsigned u = 0; u < o->users; u++)
        failed |= sb_wait(kids[u]) != 0;
    double dt = sb_now() - t0, cpu = sb_group_cpu(s->pid) - cpu0;
    if (failed)
        sb_die("smtp-source against %s failed in round %u", s->name, round + 1);
    struct sb_result r = {.msgs_per_s = (double)(per * o->users) / dt,
                          .cpu_us_per_msg = cpu * 1e6 / (double)(per * o->users)};
    printf("round %u %-8s %7u msgs %6.2f s %8.0f msgs/s  server cpu %6.0f us/msg\n", round + 1,
           s->name, per * o->users, dt, r.msgs_per_s, r.cpu_us_per_msg);
    fflush(stdout);
    return r;
}

/* Messages in petrel's INBOX of u1 (petrelctl mailbox list), or in Dovecot's Maildir of u1. */
static unsigned long sb_count_petrel(const struct sb_opts *o)
{
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof(cmd), "%s -d %s/petrel/data --json mailbox list u1@%s", o->petrelctl,
             sb_tmp, SB_DOMAIN);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    pclose(p);
    const char *m = strstr(buf, "\"messages\"");
    return m ? strtoul(m + strcspn(m, "0123456789"), NULL, 10) : 0;
}

static unsigned long sb_count_dovecot(void)
{
    char p[PATH_MAX];
    unsigned long n = 0;
    const char *subs[] = {"new", "cur"};
    for (int k = 0; k < 2; k++) {
        sb_path(p, sizeof(p), "%s/dovecot/home/u1/Maildir/%s", sb_tmp, subs[k]);
        DIR *d = opendir(p);
        struct dirent *e;
        while (d && (e = readdir(d)))
            n += e->d_name[0] != '.';
        if (d)
            closedir(d);
    }
    return n;
}

/* ------------------------------------------------------------ main */

static int sb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double sb_median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), sb_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned sb_num(const char *s, unsigned lo, unsigned hi, const char *what)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || *end || v < lo || v > hi)
        sb_die("%s must be %u..%u", what, lo, hi);
    return (unsigned)v;
}

static void sb_parse(int argc, char **argv, struct sb_opts *o)
{
    *o = (struct sb_opts){.messages = 5000, .sessions = 20, .size = 4096, .users = 10, .rounds = 3};
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    sb_path(o->petreld, sizeof(o->petreld), "%s/../petreld", self);
    sb_path(o->petrelctl, sizeof(o->petrelctl), "%s/../petrelctl", self);
    int messages_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            if (!messages_set)
                o->messages = 1000;
        } else if (!strcmp(a, "--keep")) {
            o->keep = 1;
        } else if (!strcmp(a, "--messages")) {
            o->messages = sb_num(v, 10, 1000000, a), messages_set = 1, i++;
        } else if (!strcmp(a, "--sessions")) {
            o->sessions = sb_num(v, 1, 500, a), i++;
        } else if (!strcmp(a, "--size")) {
            o->size = sb_num(v, 100, 10000000, a), i++;
        } else if (!strcmp(a, "--users")) {
            o->users = sb_num(v, 1, SB_MAX_USERS, a), i++;
        } else if (!strcmp(a, "--rounds")) {
            o->rounds = sb_num(v, 1, SB_MAX_ROUNDS, a), i++;
        } else if (!strcmp(a, "--petreld") && v) {
            sb_path(o->petreld, sizeof(o->petreld), "%s", v), i++;
        } else if (!strcmp(a, "--petrelctl") && v) {
            sb_path(o->petrelctl, sizeof(o->petrelctl), "%s", v), i++;
        } else {
            sb_die("usage: smtp_bench [--quick] [--messages N] [--sessions N] [--size N] "
                   "[--users N] [--rounds N] [--petreld PATH] [--petrelctl PATH] [--keep]");
        }
    }
    if (o->messages < o->users)
        sb_die("--messages must be at least --users");
    const char *need[] = {o->petreld, o->petrelctl, "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink",
                          "/usr/sbin/dovecot", "/usr/lib/dovecot/lmtp"};
    for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
        if (access(need[k], X_OK))
            sb_die("%s not found (build first; Postfix and Dovecot: `make bench-deps`)", need[k]);
}

int main(int argc, char **argv)
{
    struct sb_opts o;
    sb_parse(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(strcpy(sb_tmp, "/tmp/smtp-bench-XXXXXX")))
        sb_die("mkdtemp: %s", strerror(errno));
    chmod(sb_tmp, 0755);
    static struct sb_server petrel = {.name = "petrel"}, sink = {.name = "sink"},
                            dovecot = {.name = "dovecot", .lmtp = 1};
    sb_servers[0] = &petrel, sb_servers[1] = &sink, sb_servers[2] = &dovecot;
    petrel.port = sb_free_port();
    sink.port = sb_free_port();
    dovecot.port = sb_free_port();
    sb_start_petrel(&o, &petrel);
    sb_start_sink(&sink);
    sb_start_dovecot(&o, &dovecot);
    printf("smtp_bench: %u messages of %u bytes per phase, %u sessions over %u users, "
           "%u rounds\n", o.messages / o.users * o.users, o.size, o.sessions, o.users, o.rounds);
    double pr[SB_MAX_ROUNDS], sr[SB_MAX_ROUNDS], dr[SB_MAX_ROUNDS];
    double pc[SB_MAX_ROUNDS], sc[SB_MAX_ROUNDS], dc[SB_MAX_ROUNDS];
    for (unsigned r = 0; r < o.rounds; r++) {
        struct sb_result a = sb_phase(&o, &petrel, r), b = sb_phase(&o, &sink, r),
                         c = sb_phase(&o, &dovecot, r);
        pr[r] = a.msgs_per_s, pc[r] = a.cpu_us_per_msg;
        sr[r] = b.msgs_per_s, sc[r] = b.cpu_us_per_msg;
        dr[r] = c.msgs_per_s, dc[r] = c.cpu_us_per_msg;
    }
    unsigned long want = (unsigned long)(o.messages / o.users) * o.rounds;
    unsigned long got_p = sb_count_petrel(&o), got_d = sb_count_dovecot();
    if (got_p != want || got_d != want)
        sb_die("stored messages of u1: petrel %lu, dovecot %lu, expected %lu", got_p, got_d, want);
    int bad = sb_stop(&petrel);
    sb_stop(&sink);
    sb_stop(&dovecot);
    if (bad)
        sb_die("petreld did not shut down cleanly");
    double p = sb_median(pr, o.rounds), s = sb_median(sr, o.rounds), d = sb_median(dr, o.rounds);
    printf("medians: petrel %.0f msgs/s (cpu %.0f us/msg), dovecot lmtp %.0f msgs/s (cpu %.0f "
           "us/msg), smtp-sink %.0f msgs/s (cpu %.0f us/msg); u1 holds %lu messages in each store\n",
           p, sb_median(pc, o.rounds), d, sb_median(dc, o.rounds), s, sb_median(sc, o.rounds),
           want);
    sb_cleanup(o.keep);
    printf("summary: petrel_msgs_per_s=%.0f dovecot_lmtp_msgs_per_s=%.0f sink_msgs_per_s=%.0f "
           "vs_dovecot=%.2f vs_sink=%.2f\n",
           p, d, s, d > 0 ? p / d : 0, s > 0 ? p / s : 0);
    return 0;
}
