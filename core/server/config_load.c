/*
 * server/config_load.c - reading the config file, and the checks that need the
 * file system (run by petreld before it drops privileges).
 */
#include "server/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"

static int cfg_load_fail(char *err, size_t errlen, const char *path, int e)
{
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return e == ENOENT ? PETREL_ENOTFOUND : PETREL_EIO;
}

/* Reads the whole of fd into b (bounded by b's maximum). */
static int cfg_load_read(int fd, buf_t *b)
{
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return 0;
        if (buf_append(b, chunk, (size_t)n) < 0) return PETREL_ETOOBIG;
    }
}

int srv_config_load(const char *path, struct srv_config **cfg_r, char *err, size_t errlen)
{
    *cfg_r = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cfg_load_fail(err, errlen, path, errno);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return cfg_load_fail(err, errlen, path, EISDIR);
    }
    buf_t b;
    buf_init(&b, SRV_CONFIG_FILE_MAX);
    int rc = cfg_load_read(fd, &b);
    close(fd);
    if (rc == PETREL_ETOOBIG) {
        snprintf(err, errlen, "%s: file too large (at most %d bytes)", path, SRV_CONFIG_FILE_MAX);
    } else if (rc < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
        rc = PETREL_EIO;
    } else {
        rc = srv_config_parse(path, b.data ? b.data : "", b.len, cfg_r, err, errlen);
    }
    buf_free(&b);
    return rc;
}

/* Opening (not access(2)) answers for the effective ids, which is what TLS setup uses. */
static int cfg_check_readable(const struct srv_config *cfg, const char *key, const char *path,
                              unsigned line, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    int e = errno;
    if (line)
        snprintf(err, errlen, "%s:%u: %s '%s' is not readable: %s", cfg->file, line, key, path,
                 strerror(e));
    else
        snprintf(err, errlen, "%s: %s '%s' is not readable: %s", cfg->file, key, path, strerror(e));
    return PETREL_EIO;
}

int srv_config_validate(const struct srv_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls_cert || !cfg->tls_key) return 0;
    int rc = cfg_check_readable(cfg, "tls_cert", cfg->tls_cert, cfg->tls_cert_line, err, errlen);
    if (rc == 0)
        rc = cfg_check_readable(cfg, "tls_key", cfg->tls_key, cfg->tls_key_line, err, errlen);
    return rc;
}
