/*
 * bench_proc.h - small helpers the benchmark programs share: a monotonic clock,
 * loopback ports and connections, child processes (spawn, run, stop), a
 * process's memory and CPU time, the disk's flush latency, removing a temp tree,
 * a median. Header-only (static
 * functions), no global state; every function returns 0 / a value, or -1 with
 * errno set, and never exits, so each program keeps its own error policy.
 */
#ifndef PETREL_BENCH_PROC_H
#define PETREL_BENCH_PROC_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
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

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A free TCP port on 127.0.0.1 (bound to port 0, then released), or -1. */
static inline int bench_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* A blocking connection to 127.0.0.1:port with timeout_s send/receive timeouts and
 * TCP_NODELAY; the caller closes it. -1 on failure. */
static inline int bench_connect(int port, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = timeout_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Starts argv[0] (an absolute path) in its own process group with stdout and stderr
 * appended to log; its pid, or -1. */
static inline pid_t bench_spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid != 0) return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    setpgid(0, 0);
    execv(argv[0], argv);
    _exit(127);
}

/* Runs argv with stdin_text (may be NULL) on its stdin, stdout to /dev/null;
 * 0 when it exited 0, else -1. */
static inline int bench_run(char *const argv[], const char *stdin_text)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[0]);
    int rc = 0;
    if (stdin_text && write(fds[1], stdin_text, strlen(stdin_text)) < 0) rc = -1;
    close(fds[1]);
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = -1;
    return rc;
}

/* SIGTERM, then SIGKILL after timeout_s. 0 when the process exited 0 on SIGTERM. */
static inline int bench_stop(pid_t pid, double timeout_s)
{
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    double end = bench_now() + timeout_s;
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
        if (bench_now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(20000);
    }
    return w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Resident set of pid in bytes (smaps_rollup Rss, else status VmRSS), or 0. */
static inline uint64_t bench_rss(pid_t pid)
{
    char path[64], line[256];
    uint64_t kb = 0, v;
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    int rollup = f != NULL;
    if (!f) {
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
    }
    if (!f) return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, rollup ? "Rss: %" SCNu64 : "VmRSS: %" SCNu64, &v) == 1) kb = v;
    fclose(f);
    return kb * 1024;
}

static inline int bench_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* Removes the tree at dir (not following symlinks). */
static inline int bench_rm_tree(const char *dir)
{
    return nftw(dir, bench_rm_cb, 32, FTW_DEPTH | FTW_PHYS);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n-1] (sorts v in place); 0 for n == 0. */
static inline double bench_median(double *v, unsigned n)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* CPU seconds (utime + stime) of every live process in pid's process group
 * (bench_spawn makes each server a group leader), from /proc; 0 when unreadable. */
static inline double bench_group_cpu(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d) return 0;
    double total = 0;
    long hz = sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char p[300], buf[1024];
        snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        if (!rp) continue;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime stime */
        char state;
        int ppid, pgrp;
        unsigned long skip, ut, st;
        if (sscanf(rp + 2, "%c %d %d %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", &state, &ppid, &pgrp,
                   &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip, &ut, &st) == 13 &&
            pgrp == pgid)
            total += (double)(ut + st) / (double)hz;
    }
    closedir(d);
    return total;
}

/* Median time in microseconds of n (1..64) rounds of a 4 KiB overwrite and
 * fdatasync of a scratch file `path` (created, removed again): what one flush of
 * the disk costs right now. -1 on an I/O error. */
static inline double bench_flush_us(const char *path, unsigned n)
{
    double t[64];
    char page[4096];
    if (n == 0 || n > 64) return -1;
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    memset(page, 'f', sizeof(page));
    for (unsigned i = 0; i < n; i++) {
        double t0 = bench_now();
        if (pwrite(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page) || fdatasync(fd) != 0) {
            close(fd);
            unlink(path);
            return -1;
        }
        t[i] = (bench_now() - t0) * 1e6;
    }
    close(fd);
    unlink(path);
    return bench_median(t, n);
}

#endif
