/*
 * main.c - petreld: the mail server daemon.
 *
 *   petreld [-c FILE] [--data DIR] [--check-config] [--foreground]
 *
 * Without -c it serves the development default (loopback ports, a
 * self-signed certificate in the data dir). Start-up is all or nothing:
 * any error (config, plugin, certificate, address in use, store) is printed
 * with its cause and petreld exits 1 before accepting anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config.h"
#include "server/host.h"
#include "server/priv.h"
#include "util/err.h"
#include "util/log.h"

#define PETRELD_GRACE_MS 10000 /* how long SIGTERM waits for sessions to finish */

static void usage(FILE *f)
{
    fprintf(f, "usage: petreld [-c FILE] [--data DIR] [--check-config] [--foreground]\n"
               "  -c, --config FILE   configuration file (default: the development setup:\n"
               "                      loopback ports 2525/2587/2465/2110/2995/2143/2993)\n"
               "  -d, --data DIR      data directory (overrides the file's data =; default ./var)\n"
               "  --check-config      validate the configuration and plugins, then exit\n"
               "  -f, --foreground    stay in the foreground (default: detach)\n"
               "  -h, --help          this text\n");
}

/*
 * One petreld per data directory: it holds an exclusive flock on
 * <data>/petreld.lock while it runs (petrelctl restore checks the same lock).
 */
static int petreld_lock(const char *data, const char *user, char *err, size_t errlen)
{
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the data directory: %s", data, strerror(errno));
        return -1;
    }
    /* started as root to run as `user`: a root-owned data dir is handed over,
     * since the store is opened after the privilege drop */
    struct stat st;
    struct passwd *pw = user && geteuid() == 0 ? getpwnam(user) : NULL;
    if (pw && stat(data, &st) == 0 && st.st_uid == 0 && chown(data, pw->pw_uid, pw->pw_gid) != 0) {
        snprintf(err, errlen, "%s: cannot give the data directory to %s: %s", data, user,
                 strerror(errno));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/petreld.lock", data);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "%s: another petreld is running on this data directory", path);
        close(fd);
        return -1;
    }
    if (pw && fchown(fd, pw->pw_uid, pw->pw_gid) != 0)
        log_warn("event=lock_chown path=%s error=\"%s\"", path, strerror(errno));
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0)
        log_warn("event=lock_write path=%s error=\"%s\"", path, strerror(errno));
    return fd; /* kept open (and locked) for the process's life */
}

static int petreld_log(const struct srv_config *cfg)
{
    log_set_level(cfg->log_level);
    if (!cfg->log_file)
        return 0;
    int fd = open(cfg->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "petreld: %s: %s\n", cfg->log_file, strerror(errno));
        return -1;
    }
    log_set_fd(fd);
    return 0;
}

static int petreld_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "petreld: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -1;
}

/* Every connection is a descriptor: take all the kernel lets us have. */
static void petreld_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("event=rlimit_nofile error=\"%s\"", strerror(errno));
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"check-config", no_argument, NULL, 'k'}, {"foreground", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *data = NULL;
    int check = 0, foreground = 0, c;
    while ((c = getopt_long(argc, argv, "c:d:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': file = optarg; break;
        case 'd': data = optarg; break;
        case 'k': check = 1; break;
        case 'f': foreground = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }

    char err[8192] = "";
    struct srv_config *cfg = NULL;
    int rc = file ? srv_config_load(file, &cfg, err, sizeof(err))
                  : srv_config_default_dev(data ? data : "var", &cfg);
    if (rc) {
        fprintf(stderr, "%s\n", err[0] ? err : petrel_strerror(rc));
        return 1;
    }
    if (data && file && srv_config_set_data(cfg, data) != 0) {
        fprintf(stderr, "petreld: out of memory\n");
        return 1;
    }
    if (check) {
        rc = srv_host_check(cfg, err, sizeof(err));
        if (rc)
            fprintf(stderr, "%s\n", err[0] ? err : petrel_strerror(rc));
        else
            printf("%s: configuration OK (%zu listeners)\n", cfg->file, cfg->n_listeners);
        srv_config_free(&cfg);
        return rc ? 1 : 0;
    }
    if (petreld_log(cfg))
        return 1;
    petreld_raise_nofile();

    /* signals go to the main thread only: block them before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (petreld_lock(cfg->data, cfg->user, err, sizeof(err)) < 0) {
        fprintf(stderr, "petreld: %s\n", err);
        return 1;
    }
    srv_host_t *host = NULL;
    rc = srv_host_new(cfg, &host, err, sizeof(err));
    if (rc == 0)
        rc = srv_host_bind(host, err, sizeof(err));
    if (rc == 0 && cfg->user && srv_priv_drop(cfg->user, cfg->group, err, sizeof(err)) != 0)
        rc = PETREL_EPERM;
    if (rc == 0 && !foreground && daemon(1, 1) != 0) {
        snprintf(err, sizeof(err), "cannot detach: %s", strerror(errno));
        rc = PETREL_EIO;
    }
    if (rc == 0 && cfg->pid_file && petreld_pidfile(cfg->pid_file) != 0)
        rc = PETREL_EIO;
    if (rc == 0)
        rc = srv_host_run(host, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "petreld: %s\n", err[0] ? err : petrel_strerror(rc));
        log_error("event=start_failed error=\"%s\"", err[0] ? err : petrel_strerror(rc));
        srv_host_free(&host);
        srv_config_free(&cfg);
        return 1;
    }

    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log_info("event=signal signal=HUP action=reload_tls");
            srv_host_reload_tls(host);
            continue;
        }
        log_info("event=signal signal=%s action=stop", sig == SIGTERM ? "TERM" : "INT");
        break;
    }
    srv_host_stop(host, PETRELD_GRACE_MS);
    srv_host_free(&host);
    if (cfg->pid_file)
        unlink(cfg->pid_file);
    srv_config_free(&cfg);
    return 0;
}
