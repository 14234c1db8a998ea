/* ctl.c - helpers shared by petrelctl's commands (see ctl.h). */
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth/password.h"
#include "mime/cache_adapter.h"
#include "util/err.h"
#include "util/str.h"

store_cache_fn ctl_cache_fn = mime_cache_for_store;

int ctl_store(ctl_t *c, store_t **st_r)
{
    if (!c->st) {
        /* expunges here never trim VANISHED history: petreld does, by its
         * own vanished_keep (which petrelctl does not read) */
        store_opts_t o = {.struct_size = sizeof(o), .cache_fn = ctl_cache_fn,
                          .vanished_keep = UINT32_MAX};
        int rc = store_open(c->data_dir, &o, &c->st);
        if (rc) {
            out_fail("cannot open the store in '%s': %s", c->data_dir, petrel_strerror(rc));
            return rc;
        }
    }
    *st_r = c->st;
    return 0;
}

int ctl_store_existing(ctl_t *c, store_t **st_r)
{
    char path[CTL_DIR_MAX + 32];
    struct stat sb;
    if (!c->st &&
        (ctl_path(path, sizeof(path), "%s/store/data.mdb", c->data_dir) || stat(path, &sb) != 0)) {
        out_fail("no Petrel store in '%s' (petrelctl tenant add creates one)", c->data_dir);
        return PETREL_ENOTFOUND;
    }
    return ctl_store(c, st_r);
}

int ctl_read(ctl_t *c, store_txn_t **txn_r)
{
    store_t *st;
    int rc;
    if (ctl_store_existing(c, &st)) return PETREL_EIO;
    rc = store_read_begin(st, txn_r);
    if (rc) out_fail("cannot read the store in '%s': %s", c->data_dir, petrel_strerror(rc));
    return rc;
}

int ctl_usage(ctl_t *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "petrelctl: %s\nusage: petrelctl %s\n(petrelctl %s --help for details)\n", line,
            c->cmd->usage, c->cmd->name);
    return CTL_USAGE;
}

int ctl_help(const ctl_cmd_t *cmd)
{
    printf("usage: petrelctl %s\n\n%s", cmd->usage, cmd->help);
    return CTL_OK;
}

int ctl_args(ctl_t *c, int argc, char **argv, args_opt_t *opts, size_t nopts, int min, int max,
             args_t *a)
{
    char err[256];
    if (args_parse(argc, argv, opts, nopts, a, err, sizeof(err))) return ctl_usage(c, "%s", err);
    if (a->help) {
        ctl_help(c->cmd);
        return -1;
    }
    if (a->npos < min) return ctl_usage(c, "missing argument");
    if (a->npos > max) return ctl_usage(c, "unexpected argument '%s'", a->pos[max]);
    return 0;
}

int ctl_tenant_filter(store_txn_t **txn, const char *domain, store_tenant_t *t_r)
{
    memset(t_r, 0, sizeof(*t_r));
    int rc = domain ? store_tenant_get(*txn, domain, t_r) : 0;
    if (rc == 0)
        return 0;
    char what[STORE_DOMAIN_MAX + 32];
    store_txn_abort(txn);
    snprintf(what, sizeof(what), "tenant '%s'", domain);
    return ctl_store_fail(rc, what);
}

int ctl_store_fail(int err, const char *what)
{
    switch (err) {
    case PETREL_ENOTFOUND:
        return out_fail("%s not found", what);
    case PETREL_EEXIST:
        return out_fail("%s already exists", what);
    case PETREL_EINVAL:
        return out_fail("invalid %s", what);
    case PETREL_EBUSY:
        return out_fail("%s is in use", what);
    case PETREL_EPERM:
        return out_fail("%s: not permitted", what);
    case PETREL_EQUOTA:
        return out_fail("%s: the user's quota would be exceeded", what);
    case PETREL_ETENANTQUOTA:
        return out_fail("%s: the tenant's quota would be exceeded", what);
    default:
        return out_fail("%s: %s", what, petrel_strerror(err));
    }
}

int ctl_path(char *dst, size_t dstsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, dstsize, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= dstsize ? PETREL_ETOOBIG : 0;
}

int ctl_dir_empty_or_absent(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int empty = 1;
    if (!d) return errno == ENOENT;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

int ctl_is_address(const char *s)
{
    const char *at = strrchr(s, '@');
    return at && at != s && at[1] != '\0';
}

/* ------------------------------------------------------------------ passwords */

static int ctl_line_read(int fd, char *buf, size_t bufsize)
{
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || ch == '\n') break;
        if (n + 1 >= bufsize) return PETREL_ETOOBIG;
        buf[n++] = ch;
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return 0;
}

static int ctl_prompt(int fd, const char *prompt, char *buf, size_t bufsize)
{
    struct termios old, quiet;
    int rc;
    if (tcgetattr(fd, &old)) return PETREL_EIO;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    /* echo off before the prompt: whatever is typed after it is kept */
    if (tcsetattr(fd, TCSAFLUSH, &quiet)) return PETREL_EIO;
    if (write(fd, prompt, strlen(prompt)) < 0) {
        tcsetattr(fd, TCSADRAIN, &old);
        return PETREL_EIO;
    }
    rc = ctl_line_read(fd, buf, bufsize);
    tcsetattr(fd, TCSADRAIN, &old);
    if (write(fd, "\n", 1) < 0) rc = rc ? rc : PETREL_EIO;
    return rc;
}

int ctl_password_read(int from_stdin, char *buf, size_t bufsize)
{
    int rc;
    if (from_stdin) {
        rc = ctl_line_read(0, buf, bufsize);
    } else {
        char again[AUTH_PASSWORD_MAX + 2];
        int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
        if (fd < 0 || !isatty(0)) {
            if (fd >= 0) close(fd);
            out_fail("no password given: use --password-stdin or --password-hash HASH "
                     "(there is no terminal to ask on)");
            return PETREL_EINVAL;
        }
        rc = ctl_prompt(fd, "Password: ", buf, bufsize);
        if (!rc) rc = ctl_prompt(fd, "Retype password: ", again, sizeof(again));
        close(fd);
        if (!rc && strcmp(buf, again) != 0) {
            explicit_bzero(again, sizeof(again));
            out_fail("the passwords do not match");
            return PETREL_EINVAL;
        }
        explicit_bzero(again, sizeof(again));
    }
    if (rc == PETREL_ETOOBIG) {
        out_fail("the password is longer than %d bytes", AUTH_PASSWORD_MAX);
        return PETREL_EINVAL;
    }
    if (rc) {
        out_fail("cannot read the password");
        return PETREL_EINVAL;
    }
    if (buf[0] == '\0') {
        out_fail("the password is empty");
        return PETREL_EINVAL;
    }
    return 0;
}

int ctl_hash_check(const char *hash)
{
    static const char *const prefixes[] = {"$scrypt$", "{SHA512-CRYPT}", "$6$",        "$2y$",
                                           "$2b$",     "$2a$",           "{BLF-CRYPT}"};
    size_t n = strlen(hash);
    int known = 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(hash, prefixes[i], strlen(prefixes[i])) == 0 && n > strlen(prefixes[i]))
            known = 1;
    if (!known) {
        out_fail("unsupported password hash scheme in '%.20s...': expected $scrypt$, "
                 "{SHA512-CRYPT}, $6$, $2y$, $2b$, $2a$ or {BLF-CRYPT}",
                 hash);
        return PETREL_EINVAL;
    }
    if (n > STORE_HASH_MAX) {
        out_fail("the password hash is longer than %d characters", STORE_HASH_MAX);
        return PETREL_EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)hash; *p; p++)
        if (*p <= ' ' || *p >= 0x7f) {
            out_fail("the password hash contains a space or control character");
            return PETREL_EINVAL;
        }
    return 0;
}

int ctl_password_opts(const char *hash_opt, int from_stdin, char *hash_r, size_t hashsize)
{
    char pw[AUTH_PASSWORD_MAX + 2];
    char *hash = NULL;
    int rc;
    if (hash_opt) {
        if (ctl_hash_check(hash_opt)) return PETREL_EINVAL;
        if (str_lcpy(hash_r, hash_opt, hashsize) >= hashsize) return PETREL_EINVAL;
        return 0;
    }
    if (ctl_password_read(from_stdin, pw, sizeof(pw))) return PETREL_EINVAL;
    rc = auth_password_hash(pw, strlen(pw), NULL, &hash);
    explicit_bzero(pw, sizeof(pw));
    if (rc) {
        out_fail("cannot hash the password: %s", petrel_strerror(rc));
        return rc;
    }
    rc = str_lcpy(hash_r, hash, hashsize) >= hashsize ? PETREL_ETOOBIG : 0;
    free(hash);
    if (rc) out_fail("the password hash is too long to store");
    return rc;
}
