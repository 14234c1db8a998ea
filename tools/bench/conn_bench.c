/*
 * conn_bench.c - connection throughput and idle-connection memory of petreld
 * serving the example plugin, on 127.0.0.1 only.
 *
 *   build/bench/conn_bench [--quick] [--seconds N] [--idle N] [--threads N]
 *                          [--petreld PATH]
 *
 * It starts its own petreld (PATH, default ../petreld beside this program):
 * a temp dir from mkdtemp under /tmp with a config file, a self-signed P-256
 * certificate from `openssl req -x509 -newkey ec`, a plain and an implicit-TLS
 * listener on free loopback ports (found by binding port 0), workers = 2.
 * Then, after checking both listeners answer as expected:
 *
 *   plain conn   --threads clients loop connect -> greeting -> QUIT ->
 *                "+OK bye" -> EOF -> close, for --seconds
 *   tls conn     the same over TLS 1.3 (OpenSSL client, certificate verified
 *                against the generated one). No session resumption: the client
 *                has no session cache, every connection is a full handshake.
 *   round trips  --threads persistent plain connections, each ECHO/"+OK ..." in
 *                a loop (one request in flight per connection)
 *   idle memory  petreld's Rss (smaps_rollup; VmRSS if absent) after a warm-up,
 *                then --idle connections opened (each reads its greeting) and
 *                held ~1 s, Rss again; idle_conn_bytes = delta / connections
 *
 * At the end petreld gets SIGTERM (SIGKILL after 15 s) and the temp dir is
 * removed. Every socket has a 5 s timeout and every loop a deadline or a
 * count, so the run is bounded; --quick keeps it under a minute on 2 cores.
 * Client and server share the machine, so the rates are floors; each phase
 * also prints the CPU time per operation of petreld (/proc/PID/stat) and of
 * the clients (getrusage), steadier than rates on a shared machine, and the
 * load average before and after. RLIMIT_NOFILE is raised to its hard limit
 * (petreld inherits it); --idle must fit in it.
 *
 * Exit status 0 only if setup, every phase and petreld's shutdown succeeded.
 * The last line is the machine-readable summary:
 *   summary: idle_conn_bytes=N conn_per_s=N tls_conn_per_s=N rtt_per_s=N
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CB_HOSTNAME "bench.test"
#define CB_MAX_THREADS 64
#define CB_MAX_SECONDS 600
#define CB_MAX_IDLE 100000
#define CB_FD_RESERVE 256         /* fds the bench keeps for itself beside idle ones */
#define CB_LINE_MAX 512           /* longest reply line we accept */
#define CB_IO_TIMEOUT_S 5         /* per send/recv/connect */
#define CB_START_TIMEOUT_MS 15000 /* petreld must accept within this */
#define CB_STOP_TIMEOUT_MS 15000  /* then SIGKILL */
#define CB_SPAWN_TIMEOUT_MS 30000 /* openssl req */
#define CB_WARMUP_CONNS 32
#define CB_MAX_ERRORS 1000 /* a client thread gives up after this many */
#define CB_IDLE_SETTLE_MS 1000

typedef struct cb_opts {
    int quick;
    unsigned seconds;
    unsigned idle;
    unsigned threads;
    char petreld[PATH_MAX];
} cb_opts_t;

typedef struct cb_server {
    char dir[64];
    char conf[PATH_MAX];
    char log[PATH_MAX];
    char cert[PATH_MAX];
    char key[PATH_MAX];
    pid_t pid;
    uint16_t port_plain;
    uint16_t port_tls;
} cb_server_t;

/* One client connection: a socket, optionally TLS, and a reply buffer. */
typedef struct cb_io {
    int fd;
    SSL *ssl;
    size_t len;
    char buf[CB_LINE_MAX];
} cb_io_t;

typedef enum cb_kind { CB_CONNECT, CB_ECHO } cb_kind_t;

/* A timed phase shared by its client threads; deadline is set under mu. */
typedef struct cb_phase {
    cb_kind_t kind;
    uint16_t port;
    SSL_CTX *ctx; /* NULL: plain */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    double deadline;
} cb_phase_t;

typedef struct cb_worker {
    cb_phase_t *ph;
    unsigned id;
    uint64_t ok;
    uint64_t errors;
    char err[160]; /* the first error */
} cb_worker_t;

typedef struct cb_results {
    double conn_per_s, tls_conn_per_s, rtt_per_s;
    uint64_t idle_conn_bytes;
    uint64_t errors;
} cb_results_t;

/* ------------------------------------------------------------------ helpers */

__attribute__((format(printf, 3, 4))) static int cb_fail(char *err, size_t errlen, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static double cb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cb_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *cb_errno_str(int e, char *buf, size_t cap)
{
    if (e == EAGAIN) return "timed out";
    return strerror_r(e, buf, cap);
}

/* The OpenSSL error for a failed call, e.g. "SSL_connect: error=1 ...". */
static int cb_ssl_fail(char *err, size_t errlen, const char *what, SSL *ssl, int r)
{
    int e = SSL_get_error(ssl, r);
    unsigned long q = ERR_get_error();
    char qs[128] = "";
    if (q)
        ERR_error_string_n(q, qs, sizeof(qs));
    else if (e == SSL_ERROR_SYSCALL)
        cb_errno_str(errno, qs, sizeof(qs));
    ERR_clear_error();
    return cb_fail(err, errlen, "%s: ssl_error=%d %s", what, e, qs);
}

/* --------------------------------------------------------------- client I/O */

static int cb_tcp_connect(uint16_t port, int *fd_r, char *err, size_t errlen)
{
    char eb[64];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return cb_fail(err, errlen, "socket: %s", cb_errno_str(errno, eb, sizeof(eb)));
    struct timeval tv = {.tv_sec = CB_IO_TIMEOUT_S};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* also bounds connect() */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return cb_fail(err, errlen, "connect: %s", cb_errno_str(e, eb, sizeof(eb)));
    }
    *fd_r = fd;
    return 0;
}

static void cb_io_close(cb_io_t *io)
{
    if (io->ssl) {
        SSL_shutdown(io->ssl); /* sends close_notify, does not wait for the peer's */
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0) close(io->fd);
    io->fd = -1;
}

/* Connects to 127.0.0.1:port; with ctx, also a full TLS handshake (verified). */
static int cb_io_open(cb_io_t *io, uint16_t port, SSL_CTX *ctx, char *err, size_t errlen)
{
    io->fd = -1;
    io->ssl = NULL;
    io->len = 0;
    if (cb_tcp_connect(port, &io->fd, err, errlen) != 0) return -1;
    if (!ctx) return 0;
    ERR_clear_error();
    io->ssl = SSL_new(ctx);
    if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1 ||
        SSL_set_tlsext_host_name(io->ssl, CB_HOSTNAME) != 1 ||
        SSL_set1_host(io->ssl, CB_HOSTNAME) != 1) {
        cb_io_close(io);
        return cb_fail(err, errlen, "SSL_new/SSL_set_fd failed");
    }
    int r = SSL_connect(io->ssl);
    if (r != 1) {
        cb_ssl_fail(err, errlen, "SSL_connect", io->ssl, r);
        cb_io_close(io);
        return -1;
    }
    if (SSL_session_reused(io->ssl)) {
        cb_io_close(io);
        return cb_fail(err, errlen, "TLS session was resumed; the bench wants full handshakes");
    }
    return 0;
}

/* Reads some bytes: >0 count, 0 EOF (TCP FIN or TLS close), -1 error in err. */
static long cb_io_recv(cb_io_t *io, char *p, size_t n, char *err, size_t errlen)
{
    char eb[64];
    if (!io->ssl) {
        ssize_t r;
        do
            r = recv(io->fd, p, n, 0);
        while (r < 0 && errno == EINTR);
        if (r < 0) return cb_fail(err, errlen, "recv: %s", cb_errno_str(errno, eb, sizeof(eb)));
        return (long)r;
    }
    ERR_clear_error();
    int r = SSL_read(io->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0) return r;
    if (SSL_get_error(io->ssl, r) == SSL_ERROR_ZERO_RETURN) return 0;
    return cb_ssl_fail(err, errlen, "SSL_read", io->ssl, r);
}

static int cb_io_write(cb_io_t *io, const char *p, size_t n, char *err, size_t errlen)
{
    char eb[64];
    if (io->ssl) {
        ERR_clear_error();
        int r = SSL_write(io->ssl, p, (int)n); /* n is a short command line */
        return r == (int)n ? 0 : cb_ssl_fail(err, errlen, "SSL_write", io->ssl, r);
    }
    while (n > 0) {
        ssize_t r = send(io->fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return cb_fail(err, errlen, "send: %s", cb_errno_str(errno, eb, sizeof(eb)));
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One reply line without its CRLF into line[cap] (NUL-terminated). */
static int cb_io_line(cb_io_t *io, char *line, size_t cap, char *err, size_t errlen)
{
    for (;;) {
        char *nl = memchr(io->buf, '\n', io->len);
        if (nl) {
            size_t used = (size_t)(nl - io->buf) + 1, l = used - 1;
            if (l > 0 && io->buf[l - 1] == '\r') l--;
            if (l >= cap) return cb_fail(err, errlen, "reply line of %zu bytes is too long", l);
            memcpy(line, io->buf, l);
            line[l] = '\0';
            memmove(io->buf, io->buf + used, io->len - used);
            io->len -= used;
            return 0;
        }
        if (io->len == sizeof(io->buf))
            return cb_fail(err, errlen, "no newline in %zu reply bytes", io->len);
        long r = cb_io_recv(io, io->buf + io->len, sizeof(io->buf) - io->len, err, errlen);
        if (r == 0) return cb_fail(err, errlen, "server closed the connection mid-reply");
        if (r < 0) return -1;
        io->len += (size_t)r;
    }
}

/* Reads a line and checks it starts with prefix (exact if exact). */
static int cb_io_expect(cb_io_t *io, const char *prefix, int exact, char *err, size_t errlen)
{
    char line[CB_LINE_MAX];
    if (cb_io_line(io, line, sizeof(line), err, errlen) != 0) return -1;
    size_t n = strlen(prefix);
    if (strncmp(line, prefix, n) != 0 || (exact && line[n] != '\0'))
        return cb_fail(err, errlen, "expected \"%s\", got \"%.80s\"", prefix, line);
    return 0;
}

/* After "+OK bye" the server must close: the next read is EOF. */
static int cb_io_expect_eof(cb_io_t *io, char *err, size_t errlen)
{
    char c;
    if (io->len > 0) return cb_fail(err, errlen, "unexpected bytes after the last reply");
    long r = cb_io_recv(io, &c, 1, err, errlen);
    if (r > 0) return cb_fail(err, errlen, "unexpected bytes after \"+OK bye\"");
    return r == 0 ? 0 : -1;
}

/* QUIT, "+OK bye", EOF. */
static int cb_io_quit(cb_io_t *io, char *err, size_t errlen)
{
    if (cb_io_write(io, "QUIT\r\n", 6, err, errlen) != 0 ||
        cb_io_expect(io, "+OK bye", 1, err, errlen) != 0)
        return -1;
    return cb_io_expect_eof(io, err, errlen);
}

/* ------------------------------------------------------------ client phases */

/* One short-lived connection: connect, greeting, QUIT, bye, EOF, close. */
static int cb_cycle_connect(const cb_phase_t *ph, char *err, size_t errlen)
{
    cb_io_t io;
    if (cb_io_open(&io, ph->port, ph->ctx, err, errlen) != 0) return -1;
    int rc = cb_io_expect(&io, "+OK ", 0, err, errlen);
    if (rc == 0) rc = cb_io_quit(&io, err, errlen);
    cb_io_close(&io);
    return rc;
}

static void cb_worker_error(cb_worker_t *w, const char *err)
{
    if (w->errors++ == 0) snprintf(w->err, sizeof(w->err), "%s", err);
}

static void cb_worker_connect(cb_worker_t *w, double deadline)
{
    char err[160];
    while (cb_now() < deadline && w->errors < CB_MAX_ERRORS) {
        if (cb_cycle_connect(w->ph, err, sizeof(err)) == 0) {
            w->ok++;
        } else {
            cb_worker_error(w, err);
            cb_sleep_ms(1); /* no hot loop against a failing server */
        }
    }
}

/* One persistent connection doing ECHO round trips until the deadline. */
static void cb_worker_echo(cb_worker_t *w, double deadline)
{
    char err[160], req[64], want[64];
    cb_io_t io;
    if (cb_io_open(&io, w->ph->port, w->ph->ctx, err, sizeof(err)) != 0 ||
        cb_io_expect(&io, "+OK ", 0, err, sizeof(err)) != 0) {
        cb_worker_error(w, err);
        cb_io_close(&io);
        return;
    }
    for (uint64_t i = 0; cb_now() < deadline; i++) {
        int n = snprintf(req, sizeof(req), "ECHO rt%u.%" PRIu64 "\r\n", w->id, i);
        snprintf(want, sizeof(want), "+OK rt%u.%" PRIu64, w->id, i);
        if (cb_io_write(&io, req, (size_t)n, err, sizeof(err)) != 0 ||
            cb_io_expect(&io, want, 1, err, sizeof(err)) != 0) {
            cb_worker_error(w, err);
            cb_io_close(&io);
            return;
        }
        w->ok++;
    }
    if (cb_io_quit(&io, err, sizeof(err)) != 0) cb_worker_error(w, err);
    cb_io_close(&io);
}

static void *cb_worker_main(void *arg)
{
    cb_worker_t *w = arg;
    cb_phase_t *ph = w->ph;
    pthread_mutex_lock(&ph->mu);
    while (!ph->started)
        pthread_cond_wait(&ph->cv, &ph->mu);
    double deadline = ph->deadline;
    pthread_mutex_unlock(&ph->mu);
    if (ph->kind == CB_CONNECT)
        cb_worker_connect(w, deadline);
    else
        cb_worker_echo(w, deadline);
    ERR_clear_error();
    return NULL;
}

static void cb_phase_go(cb_phase_t *ph, double deadline)
{
    pthread_mutex_lock(&ph->mu);
    ph->deadline = deadline;
    ph->started = 1;
    pthread_cond_broadcast(&ph->cv);
    pthread_mutex_unlock(&ph->mu);
}

/* CPU seconds (user + system) used so far by pid (from /proc) and by this process. */
static void cb_cpu_read(pid_t pid, double *server_r, double *client_r)
{
    char path[64], buf[1024];
    unsigned long long ut = 0, st = 0;
    struct rusage ru;
    *server_r = 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        const char *p = strrchr(buf, ')'); /* the command name may hold blanks */
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt */
        if (p &&
            sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            *server_r = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    getrusage(RUSAGE_SELF, &ru);
    *client_r = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Runs one timed phase on `threads` client threads and prints its line.
 * *rate_r = successful cycles (connections or round trips) per second of
 * wall time from the start signal until the last thread finished.
 */
static int cb_phase_run(const char *name, cb_phase_t *ph, const cb_opts_t *o, pid_t server,
                        double *rate_r, uint64_t *errors_r)
{
    double scpu0, ccpu0, scpu1, ccpu1;
    cb_worker_t w[CB_MAX_THREADS];
    pthread_t tid[CB_MAX_THREADS];
    unsigned made = 0;
    pthread_mutex_init(&ph->mu, NULL);
    pthread_cond_init(&ph->cv, NULL);
    ph->started = 0;
    for (; made < o->threads; made++) {
        w[made] = (cb_worker_t){.ph = ph, .id = made};
        if (pthread_create(&tid[made], NULL, cb_worker_main, &w[made]) != 0) break;
    }
    cb_cpu_read(server, &scpu0, &ccpu0);
    double t0 = cb_now();
    cb_phase_go(ph, made == o->threads ? t0 + o->seconds : t0); /* short: stop at once */
    uint64_t ok = 0, errors = 0;
    const char *first = NULL;
    for (unsigned i = 0; i < made; i++) {
        pthread_join(tid[i], NULL);
        ok += w[i].ok;
        errors += w[i].errors;
        if (w[i].errors && !first) first = w[i].err;
    }
    double secs = cb_now() - t0;
    cb_cpu_read(server, &scpu1, &ccpu1);
    pthread_cond_destroy(&ph->cv);
    pthread_mutex_destroy(&ph->mu);
    if (made < o->threads) {
        fprintf(stderr, "conn_bench: %s: could not start %u threads\n", name, o->threads);
        return -1;
    }
    *rate_r = secs > 0 ? (double)ok / secs : 0;
    *errors_r += errors;
    double per = ok ? 1e6 / (double)ok : 0; /* CPU microseconds per cycle */
    printf("%-12s %u threads %.1f s: %" PRIu64 " ok, %.0f/s, errors=%" PRIu64
           "; cpu petreld %.1f s (%.0f us/op), clients %.1f s (%.0f us/op)%s%s\n",
           name, o->threads, secs, ok, *rate_r, errors, scpu1 - scpu0, (scpu1 - scpu0) * per,
           ccpu1 - ccpu0, (ccpu1 - ccpu0) * per, first ? ", first error: " : "",
           first ? first : "");
    fflush(stdout);
    return errors || ok == 0 ? -1 : 0;
}

/* ----------------------------------------------------------- idle memory */

/* petreld's Rss and Pss in bytes: smaps_rollup, or status VmRSS (pss = rss). */
static int cb_mem_read(pid_t pid, uint64_t *rss_r, uint64_t *pss_r)
{
    char path[64], line[256];
    uint64_t rss = 0, pss = 0, kb;
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    int rollup = f != NULL;
    if (!f) {
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
    }
    if (!f) return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, rollup ? "Rss: %" SCNu64 : "VmRSS: %" SCNu64, &kb) == 1)
            rss = kb * 1024;
        else if (rollup && sscanf(line, "Pss: %" SCNu64, &kb) == 1)
            pss = kb * 1024;
    }
    fclose(f);
    *rss_r = rss;
    *pss_r = rollup ? pss : rss;
    return rss ? 0 : -1;
}

/* Opens n plain connections that each read their greeting; fds into fds[]. */
static unsigned cb_idle_open(uint16_t port, int *fds, unsigned n, char *err, size_t errlen)
{
    unsigned i = 0;
    for (; i < n; i++) {
        cb_io_t io;
        if (cb_io_open(&io, port, NULL, err, errlen) != 0) break;
        if (cb_io_expect(&io, "+OK ", 0, err, errlen) != 0) {
            cb_io_close(&io);
            break;
        }
        fds[i] = io.fd;
    }
    return i;
}

/* Connections the server closed (or wrote to) while they should sit idle. */
static unsigned cb_idle_dropped(const int *fds, unsigned n)
{
    unsigned dropped = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN};
        if (poll(&p, 1, 0) != 0) dropped++;
    }
    return dropped;
}

static void cb_idle_close(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
}

/* A few connections that talk, so allocator arenas and caches exist before "before". */
static int cb_idle_warmup(uint16_t port)
{
    cb_io_t io[CB_WARMUP_CONNS];
    char err[160];
    unsigned n = 0;
    int rc = 0;
    for (; n < CB_WARMUP_CONNS; n++) {
        if (cb_io_open(&io[n], port, NULL, err, sizeof(err)) != 0) {
            rc = -1;
            break;
        }
        if (cb_io_expect(&io[n], "+OK ", 0, err, sizeof(err)) != 0 ||
            cb_io_write(&io[n], "ECHO warm\r\n", 11, err, sizeof(err)) != 0 ||
            cb_io_expect(&io[n], "+OK warm", 1, err, sizeof(err)) != 0) {
            rc = -1;
            n++; /* io[n] is open: close it below */
            break;
        }
    }
    for (unsigned i = 0; i < n; i++)
        cb_io_close(&io[i]);
    if (rc != 0) fprintf(stderr, "conn_bench: idle warm-up: %s\n", err);
    cb_sleep_ms(300);
    return rc;
}

static int cb_idle_run(const cb_server_t *srv, unsigned n, cb_results_t *res)
{
    uint64_t rss0, pss0, rss1, pss1;
    char err[160] = "";
    if (n == 0) return 0;
    int *fds = calloc(n, sizeof(*fds));
    if (!fds || cb_idle_warmup(srv->port_plain) != 0 || cb_mem_read(srv->pid, &rss0, &pss0) != 0) {
        fprintf(stderr, "conn_bench: idle: setup or reading petreld's memory failed\n");
        free(fds);
        return -1;
    }
    double t0 = cb_now();
    unsigned open = cb_idle_open(srv->port_plain, fds, n, err, sizeof(err));
    double topen = cb_now() - t0;
    cb_sleep_ms(CB_IDLE_SETTLE_MS);
    unsigned dropped = cb_idle_dropped(fds, open);
    int mrc = cb_mem_read(srv->pid, &rss1, &pss1);
    cb_idle_close(fds, open);
    free(fds);
    if (open < n || mrc != 0 || dropped) {
        fprintf(stderr, "conn_bench: idle: opened %u of %u, %u dropped%s%s\n", open, n, dropped,
                open < n ? ": " : "", open < n ? err : "");
        return -1;
    }
    uint64_t drss = rss1 > rss0 ? rss1 - rss0 : 0, dpss = pss1 > pss0 ? pss1 - pss0 : 0;
    res->idle_conn_bytes = drss / n;
    printf("%-12s %u connections opened in %.1f s, held %u ms: petreld Rss %" PRIu64 " -> %" PRIu64
           " KiB, Pss %" PRIu64 " -> %" PRIu64 " KiB\n",
           "idle memory", n, topen, CB_IDLE_SETTLE_MS, rss0 >> 10, rss1 >> 10, pss0 >> 10,
           pss1 >> 10);
    printf("%-12s %" PRIu64 " bytes/connection by Rss, %" PRIu64
           " by Pss (target < 16384; kernel socket memory not included)\n",
           "idle memory", drss / n, dpss / n);
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------ the server */

/* fork + exec argv[0] (PATH searched) with stdin /dev/null, stdout+stderr to log. */
static int cb_spawn(char *const argv[], const char *log, pid_t *pid_r)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the bench */
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    *pid_r = pid;
    return 0;
}

/* Waits up to ms for pid; 0 and *status_r when it exited, -1 on timeout. */
static int cb_wait(pid_t pid, unsigned ms, int *status_r)
{
    for (unsigned waited = 0;; waited += 20) {
        pid_t r = waitpid(pid, status_r, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) return r == pid ? 0 : -1;
        if (waited >= ms) return -1;
        cb_sleep_ms(20);
    }
}

static void cb_log_head(const char *path, unsigned max_lines)
{
    char line[512];
    FILE *f = fopen(path, "r");
    unsigned n = 0;
    if (!f) return;
    while (n < max_lines && fgets(line, sizeof(line), f)) {
        fprintf(stderr, "  | %s", line);
        n++;
    }
    fclose(f);
}

static int cb_free_port(uint16_t *port_r)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                     getsockname(fd, (struct sockaddr *)&sa, &len) == 0
                 ? 0
                 : -1;
    close(fd);
    *port_r = ntohs(sa.sin_port);
    return rc;
}

static int cb_path(char *dst, size_t cap, const char *dir, const char *name)
{
    return snprintf(dst, cap, "%s/%s", dir, name) < (int)cap ? 0 : -1;
}

static int cb_make_cert(const cb_server_t *srv)
{
    char log[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
    snprintf(cert, sizeof(cert), "%s", srv->cert);
    snprintf(key, sizeof(key), "%s", srv->key);
    char *argv[] = {"openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=" CB_HOSTNAME,
                    "-addext",
                    "subjectAltName=DNS:" CB_HOSTNAME,
                    "-keyout",
                    key,
                    "-out",
                    cert,
                    NULL};
    pid_t pid;
    int status = 0;
    if (cb_path(log, sizeof(log), srv->dir, "openssl.log") != 0 || cb_spawn(argv, log, &pid) != 0)
        return -1;
    if (cb_wait(pid, CB_SPAWN_TIMEOUT_MS, &status) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "conn_bench: openssl req failed:\n");
        cb_log_head(log, 10);
        return -1;
    }
    return 0;
}

static int cb_write_config(const cb_server_t *srv)
{
    FILE *f = fopen(srv->conf, "w");
    if (!f) return -1;
    fprintf(f,
            "# written by conn_bench\n"
            "data = %s/data\nhostname = " CB_HOSTNAME "\nworkers = 2\nlog_level = warn\n"
            "max_connections_per_ip = 0\ntls_cert = %s\ntls_key = %s\n\n"
            "[listener plain]\nplugin = example\naddress = 127.0.0.1:%u\ntls = none\n"
            "max_connections = 20000\n\n"
            "[listener tls]\nplugin = example\naddress = 127.0.0.1:%u\ntls = implicit\n"
            "max_connections = 20000\n",
            srv->dir, srv->cert, srv->key, srv->port_plain, srv->port_tls);
    return fclose(f) == 0 ? 0 : -1;
}

/* Temp dir, certificate, ports, config. srv->dir is set (to remove) once made. */
static int cb_server_prepare(cb_server_t *srv)
{
    snprintf(srv->dir, sizeof(srv->dir), "/tmp/conn_bench.XXXXXX");
    if (!mkdtemp(srv->dir)) {
        srv->dir[0] = '\0';
        fprintf(stderr, "conn_bench: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    if (cb_path(srv->conf, sizeof(srv->conf), srv->dir, "petrel.conf") != 0 ||
        cb_path(srv->log, sizeof(srv->log), srv->dir, "petreld.log") != 0 ||
        cb_path(srv->cert, sizeof(srv->cert), srv->dir, "cert.pem") != 0 ||
        cb_path(srv->key, sizeof(srv->key), srv->dir, "key.pem") != 0)
        return -1;
    if (cb_make_cert(srv) != 0) {
        fprintf(stderr, "conn_bench: could not make a certificate with openssl\n");
        return -1;
    }
    do {
        if (cb_free_port(&srv->port_plain) != 0 || cb_free_port(&srv->port_tls) != 0) {
            fprintf(stderr, "conn_bench: no free loopback port\n");
            return -1;
        }
    } while (srv->port_plain == srv->port_tls);
    if (cb_write_config(srv) != 0) {
        fprintf(stderr, "conn_bench: cannot write %s\n", srv->conf);
        return -1;
    }
    return 0;
}

/* Starts petreld and waits until the plain listener accepts (both bind together). */
static int cb_server_start(cb_server_t *srv, const cb_opts_t *o)
{
    char *argv[] = {(char *)o->petreld, "-c", srv->conf, "--foreground", NULL};
    char err[160];
    int status;
    if (cb_spawn(argv, srv->log, &srv->pid) != 0) {
        fprintf(stderr, "conn_bench: fork: %s\n", strerror(errno));
        return -1;
    }
    for (double end = cb_now() + CB_START_TIMEOUT_MS / 1000.0; cb_now() < end;) {
        int fd;
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            srv->pid = -1;
            fprintf(stderr, "conn_bench: petreld exited at start-up (%s %d):\n",
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            cb_log_head(srv->log, 20);
            return -1;
        }
        if (cb_tcp_connect(srv->port_plain, &fd, err, sizeof(err)) == 0) {
            close(fd);
            return 0;
        }
        cb_sleep_ms(50);
    }
    fprintf(stderr, "conn_bench: petreld did not accept within %d ms\n", CB_START_TIMEOUT_MS);
    cb_log_head(srv->log, 20);
    return -1;
}

/* SIGTERM, wait, SIGKILL; 0 only if petreld exited by itself with status 0. */
static int cb_server_stop(cb_server_t *srv)
{
    int status = 0;
    if (srv->pid <= 0) return -1;
    kill(srv->pid, SIGTERM);
    double t0 = cb_now();
    if (cb_wait(srv->pid, CB_STOP_TIMEOUT_MS, &status) != 0) {
        fprintf(stderr, "conn_bench: petreld ignored SIGTERM for %d ms, killing it\n",
                CB_STOP_TIMEOUT_MS);
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
        srv->pid = -1;
        return -1;
    }
    srv->pid = -1;
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("petreld      stopped by SIGTERM in %.2f s, %s %d\n", cb_now() - t0,
           WIFEXITED(status) ? "exit status" : "killed by signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return clean ? 0 : -1;
}

static int cb_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cb_server_cleanup(cb_server_t *srv, int failed)
{
    if (!srv->dir[0]) return;
    struct stat st;
    if (failed || (stat(srv->log, &st) == 0 && st.st_size > 0)) {
        fprintf(stderr, "conn_bench: petreld log (first lines):\n");
        cb_log_head(srv->log, 20);
    }
    if (nftw(srv->dir, cb_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "conn_bench: could not remove %s\n", srv->dir);
}

/* --------------------------------------------------------------------- TLS */

static SSL_CTX *cb_tls_ctx(const cb_server_t *srv)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, srv->cert, NULL) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* no client session cache and no tickets kept: every connection a full handshake */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/* Both listeners answer the example protocol as configured before we measure. */
static int cb_sanity(const cb_server_t *srv, SSL_CTX *ctx)
{
    char err[160], line[CB_LINE_MAX];
    cb_io_t io;
    int rc = cb_io_open(&io, srv->port_plain, NULL, err, sizeof(err));
    if (rc == 0)
        rc = cb_io_expect(&io, "+OK petrel-example ready on " CB_HOSTNAME, 1, err, sizeof(err));
    if (rc == 0) rc = cb_io_write(&io, "ECHO hello\r\n", 12, err, sizeof(err));
    if (rc == 0) rc = cb_io_expect(&io, "+OK hello", 1, err, sizeof(err));
    if (rc == 0) rc = cb_io_quit(&io, err, sizeof(err));
    cb_io_close(&io);
    if (rc != 0) return fprintf(stderr, "conn_bench: plain listener check: %s\n", err), -1;
    rc = cb_io_open(&io, srv->port_tls, ctx, err, sizeof(err));
    if (rc == 0) rc = cb_io_expect(&io, "+OK ", 0, err, sizeof(err));
    if (rc == 0) rc = cb_io_write(&io, "INFO\r\n", 6, err, sizeof(err));
    if (rc == 0) rc = cb_io_line(&io, line, sizeof(line), err, sizeof(err));
    if (rc == 0 && strncmp(line, "+OK tls=TLSv1.3 ", 16) != 0)
        rc = cb_fail(err, sizeof(err), "INFO answered \"%.80s\"", line);
    if (rc == 0)
        printf("tls          %s %s, full handshake per connection (no resumption)\n",
               SSL_get_version(io.ssl), SSL_get_cipher_name(io.ssl));
    if (rc == 0) rc = cb_io_quit(&io, err, sizeof(err));
    cb_io_close(&io);
    if (rc != 0) return fprintf(stderr, "conn_bench: tls listener check: %s\n", err), -1;
    return 0;
}

/* ------------------------------------------------------------------- main */

static void cb_usage(FILE *f)
{
    fprintf(f,
            "usage: conn_bench [--quick] [--seconds N] [--idle N] [--threads N] "
            "[--petreld PATH]\n"
            "  --quick        3 s phases (default 10 s); the whole run under a minute\n"
            "  --seconds N    seconds per timed phase, 1..%d\n"
            "  --idle N       idle connections for the memory phase, 0..%d (default 10000)\n"
            "  --threads N    client threads / persistent connections, 1..%d (default 8)\n"
            "  --petreld PATH the daemon (default: ../petreld beside this program)\n",
            CB_MAX_SECONDS, CB_MAX_IDLE, CB_MAX_THREADS);
}

static int cb_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *v_r)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) return -1;
    *v_r = (unsigned)v;
    return 0;
}

static int cb_default_petreld(char *dst, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = '\0';
    return snprintf(dst, cap, "%s/../petreld", self) < (int)cap ? 0 : -1;
}

static int cb_opts_parse(int argc, char **argv, cb_opts_t *o)
{
    int have_seconds = 0;
    *o = (cb_opts_t){.seconds = 10, .idle = 10000, .threads = 8};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            continue;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cb_usage(stdout);
            exit(0);
        } else if (!v) {
            bad = 1;
        } else if (strcmp(a, "--seconds") == 0) {
            bad = cb_parse_uint(v, 1, CB_MAX_SECONDS, &o->seconds);
            have_seconds = 1;
        } else if (strcmp(a, "--idle") == 0) {
            bad = cb_parse_uint(v, 0, CB_MAX_IDLE, &o->idle);
        } else if (strcmp(a, "--threads") == 0) {
            bad = cb_parse_uint(v, 1, CB_MAX_THREADS, &o->threads);
        } else if (strcmp(a, "--petreld") == 0) {
            bad = snprintf(o->petreld, sizeof(o->petreld), "%s", v) >= (int)sizeof(o->petreld);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "conn_bench: bad option or value: %s\n", a);
            cb_usage(stderr);
            return -1;
        }
        i++;
    }
    if (o->quick && !have_seconds) o->seconds = 3;
    if (!o->petreld[0] && cb_default_petreld(o->petreld, sizeof(o->petreld)) != 0)
        return fprintf(stderr, "conn_bench: cannot locate petreld; use --petreld\n"), -1;
    if (access(o->petreld, X_OK) != 0)
        return fprintf(stderr, "conn_bench: %s: %s\n", o->petreld, strerror(errno)), -1;
    return 0;
}

/* Soft RLIMIT_NOFILE to hard (petreld inherits it); --idle must fit in it. */
static int cb_nofile_raise(const cb_opts_t *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)o->idle + CB_FD_RESERVE > rl.rlim_cur) {
        fprintf(stderr, "conn_bench: --idle %u needs %u file descriptors, the limit is %llu\n",
                o->idle, o->idle + CB_FD_RESERVE, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

/* The machine's load, printed so a reader can judge how shared the cores were. */
static void cb_print_load(const char *when)
{
    double la[3] = {0, 0, 0};
    if (getloadavg(la, 3) == 3)
        printf("host         %s: %ld cpus online, load average %.2f %.2f %.2f\n", when,
               sysconf(_SC_NPROCESSORS_ONLN), la[0], la[1], la[2]);
}

static int cb_run(const cb_server_t *srv, SSL_CTX *ctx, const cb_opts_t *o, cb_results_t *res)
{
    cb_phase_t plain = {.kind = CB_CONNECT, .port = srv->port_plain};
    cb_phase_t tls = {.kind = CB_CONNECT, .port = srv->port_tls, .ctx = ctx};
    cb_phase_t echo = {.kind = CB_ECHO, .port = srv->port_plain};
    int rc = 0;
    cb_print_load("before");
    rc |= cb_phase_run("plain conn", &plain, o, srv->pid, &res->conn_per_s, &res->errors);
    rc |= cb_phase_run("tls conn", &tls, o, srv->pid, &res->tls_conn_per_s, &res->errors);
    rc |= cb_phase_run("round trips", &echo, o, srv->pid, &res->rtt_per_s, &res->errors);
    rc |= cb_idle_run(srv, o->idle, res);
    cb_print_load("after");
    return rc;
}

int main(int argc, char **argv)
{
    cb_opts_t o;
    cb_server_t srv = {.pid = -1};
    cb_results_t res = {0};
    SSL_CTX *ctx = NULL;
    if (cb_opts_parse(argc, argv, &o) != 0 || cb_nofile_raise(&o) != 0) return 2;
    signal(SIGPIPE, SIG_IGN);
    int rc = cb_server_prepare(&srv);
    if (rc == 0) rc = cb_server_start(&srv, &o);
    if (rc == 0) {
        printf("conn_bench   petreld %s pid %d, plain 127.0.0.1:%u, tls 127.0.0.1:%u, "
               "workers 2, %u s per phase, %u idle\n",
               o.petreld, (int)srv.pid, srv.port_plain, srv.port_tls, o.seconds, o.idle);
        ctx = cb_tls_ctx(&srv);
        rc = ctx ? cb_sanity(&srv, ctx) : -1;
    }
    int measured = rc == 0;
    if (measured) rc = cb_run(&srv, ctx, &o, &res);
    int stop = srv.pid > 0 ? cb_server_stop(&srv) : 0;
    cb_server_cleanup(&srv, rc != 0 || stop != 0);
    SSL_CTX_free(ctx);
    if (measured)
        printf("summary: idle_conn_bytes=%" PRIu64 " conn_per_s=%.0f tls_conn_per_s=%.0f "
               "rtt_per_s=%.0f\n",
               res.idle_conn_bytes, res.conn_per_s, res.tls_conn_per_s, res.rtt_per_s);
    return rc != 0 || stop != 0 ? 1 : 0;
}
