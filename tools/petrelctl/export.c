/*
 * export.c - petrelctl export ADDRESS [--mailbox NAME] mbox FILE | maildir DIR.
 *
 * One read transaction gives a consistent snapshot (it pins old pages for
 * as long as the export runs; petreld keeps working). mbox: one mailbox as
 * mboxrd (mbox.h); FILE must not exist ("-" is stdout). maildir: a
 * Maildir++ tree (maildir.h) with a dovecot-uidlist (order) and a
 * dovecot-keywords (keyword letters) per folder; file mtimes are the
 * internal dates. Files are written to tmp/ and renamed into cur/.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "maildir.h"
#include "mbox.h"
#include "util/err.h"
#include "util/str.h"

#define EXPORT_PATH_MAX 4096
#define EXPORT_MSG_MAX (1024u * 1024 * 1024)

typedef struct exp {
    store_txn_t *txn;
    uint64_t user;
    int fd; /* mbox output */
    buf_t b;
    size_t done;
    int err; /* sticky: first error */
    char failed[EXPORT_PATH_MAX + 64];
    /* maildir folder being written */
    char dir[EXPORT_PATH_MAX];
    char *kwnames[MAILDIR_KEYWORDS_MAX];
    FILE *uidlist;
    int kw_dropped;
    int progress; /* stderr is a terminal */
} exp_t;

static void exp_progress(exp_t *x, int final)
{
    if (x->progress && (final || x->done % 100 == 0))
        fprintf(stderr, "\rexporting: %zu messages%s", x->done, final ? "\n" : "");
}

static int exp_write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return PETREL_EIO;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The message bytes of m into x->b. */
static int exp_msg_bytes(exp_t *x, const store_msg_t *m)
{
    store_view_t v;
    int rc = store_msg_view(x->txn, m, &v);
    buf_reset(&x->b);
    for (unsigned i = 0; !rc && i < v.nseg; i++)
        rc = buf_append(&x->b, v.seg[i].p, v.seg[i].n);
    return rc;
}

static size_t exp_keywords(const store_msg_t *m, const char **kws, size_t max)
{
    size_t n = 0;
    const char *p = m->keywords;
    for (unsigned i = 0; p && i < m->nkeywords && n < max; i++) {
        kws[n++] = p;
        p += strlen(p) + 1;
    }
    return n;
}

/* ------------------------------------------------------------------ mbox */
static int exp_mbox_one(const store_msg_t *m, void *arg)
{
    exp_t *x = arg;
    const char *kws[MBOX_KEYWORDS_MAX];
    size_t nkw = exp_keywords(m, kws, MBOX_KEYWORDS_MAX);
    buf_t out;
    int rc = exp_msg_bytes(x, m);
    buf_init(&out, EXPORT_MSG_MAX + MBOX_FROM_LINE_MAX);
    if (!rc)
        rc = mbox_from_line_write(&out, m->internal_date,
                                  m->flags & ~(uint32_t)STORE_F_POP3_DELETED, kws, nkw);
    if (!rc) rc = mbox_body_write(&out, (const uint8_t *)x->b.data, x->b.len);
    if (!rc) rc = exp_write_all(x->fd, out.data, out.len);
    buf_free(&out);
    if (rc) {
        x->err = rc;
        snprintf(x->failed, sizeof(x->failed), "message UID %u", m->uid);
        return 1;
    }
    x->done++;
    exp_progress(x, 0);
    return 0;
}

static int exp_mbox(ctl_t *c, exp_t *x, const char *mailbox, const char *file)
{
    store_mailbox_t mb;
    int to_stdout = strcmp(file, "-") == 0;
    int rc = store_mailbox_get(x->txn, x->user, mailbox, &mb);
    (void)c;
    if (rc) {
        char what[STORE_MAILBOX_NAME_MAX + 32];
        snprintf(what, sizeof(what), "mailbox '%s'", mailbox);
        return ctl_store_fail(rc, what);
    }
    x->fd = to_stdout ? 1 : open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (x->fd < 0)
        return out_fail("cannot create '%s': %s", file,
                        errno == EEXIST ? "it exists (export never overwrites)" : strerror(errno));
    rc = store_msg_list(x->txn, x->user, mb.id, 1, UINT32_MAX, exp_mbox_one, x);
    if (!x->err && rc < 0) x->err = rc;
    if (!to_stdout) {
        if (!x->err && fsync(x->fd)) x->err = PETREL_EIO;
        close(x->fd);
        if (x->err) unlink(file);
    }
    if (x->err)
        return out_fail("export to '%s' failed at %s: %s", file,
                        x->failed[0] ? x->failed : "the start", petrel_strerror(x->err));
    return 0;
}

/* ------------------------------------------------------------------ maildir */
static int exp_mkdirs(const char *dir)
{
    static const char *const subs[] = {"", "/cur", "/new", "/tmp"};
    char path[EXPORT_PATH_MAX];
    for (size_t i = 0; i < 4; i++) {
        ctl_path(path, sizeof(path), "%s%s", dir, subs[i]);
        if (mkdir(path, 0700) && errno != EEXIST)
            return out_fail("cannot create '%s': %s", path, strerror(errno));
    }
    return 0;
}

/* The letter of keyword kw in the current folder (assigned on first use), or 0. */
static char exp_kw_letter(exp_t *x, const char *kw)
{
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
        if (!x->kwnames[i]) {
            x->kwnames[i] = strdup(kw);
            return x->kwnames[i] ? (char)('a' + i) : 0;
        }
        if (strcmp(x->kwnames[i], kw) == 0) return (char)('a' + i);
    }
    x->kw_dropped = 1;
    return 0;
}

static int exp_maildir_one(const store_msg_t *m, void *arg)
{
    exp_t *x = arg;
    const char *kws[MAILDIR_KEYWORDS_MAX + 8];
    char letters[MAILDIR_KEYWORDS_MAX + 1], flags[48], base[96], tmp[EXPORT_PATH_MAX],
        dst[EXPORT_PATH_MAX];
    size_t nkw = exp_keywords(m, kws, MAILDIR_KEYWORDS_MAX + 8), nl = 0;
    int fd, rc;
    for (size_t i = 0; i < nkw; i++) {
        char l = exp_kw_letter(x, kws[i]);
        if (l) letters[nl++] = l;
    }
    letters[nl] = '\0';
    maildir_flags_format(m->flags & ~(uint32_t)STORE_F_POP3_DELETED, letters, flags, sizeof(flags));
    snprintf(base, sizeof(base), "%lld.U%010u.petrel", (long long)m->internal_date, m->uid);
    ctl_path(tmp, sizeof(tmp), "%s/tmp/%s", x->dir, base);
    ctl_path(dst, sizeof(dst), "%s/cur/%s:2,%s", x->dir, base, flags);
    rc = exp_msg_bytes(x, m);
    fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) rc = rc ? rc : PETREL_EIO;
    if (!rc) rc = exp_write_all(fd, x->b.data, x->b.len);
    if (fd >= 0) {
        struct timespec ts[2] = {{.tv_sec = (time_t)m->internal_date},
                                 {.tv_sec = (time_t)m->internal_date}};
        if (!rc && (futimens(fd, ts) || fsync(fd))) rc = PETREL_EIO;
        close(fd);
    }
    if (!rc && rename(tmp, dst)) rc = PETREL_EIO;
    if (rc) {
        x->err = rc;
        snprintf(x->failed, sizeof(x->failed), "'%s'", dst);
        return 1;
    }
    fprintf(x->uidlist, "%u :%s\n", m->uid, base);
    x->done++;
    exp_progress(x, 0);
    return 0;
}

static int exp_folder_finish(exp_t *x)
{
    char path[EXPORT_PATH_MAX];
    FILE *fp;
    int any = 0;
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
        any |= x->kwnames[i] != NULL;
    if (any) {
        ctl_path(path, sizeof(path), "%s/dovecot-keywords", x->dir);
        fp = fopen(path, "we");
        for (int i = 0; fp && i < MAILDIR_KEYWORDS_MAX; i++)
            if (x->kwnames[i]) fprintf(fp, "%d %s\n", i, x->kwnames[i]);
        if (!fp || fclose(fp)) return PETREL_EIO;
    }
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
        free(x->kwnames[i]);
        x->kwnames[i] = NULL;
    }
    return 0;
}

static int exp_folder(exp_t *x, const char *root, const store_mailbox_t *mb, int as_root)
{
    char folder[EXPORT_PATH_MAX];
    int rc;
    if (as_root)
        folder[0] = '\0';
    else if (maildir_mailbox_to_folder(mb->name, folder, sizeof(folder)))
        return out_fail("mailbox name '%s' cannot be a Maildir folder", mb->name);
    ctl_path(x->dir, sizeof(x->dir), "%s%s%s", root, folder[0] ? "/" : "", folder);
    if (exp_mkdirs(x->dir)) return CTL_FAIL;
    if (folder[0]) {
        ctl_path(folder, sizeof(folder), "%s/maildirfolder", x->dir);
        int fd = open(folder, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
    }
    ctl_path(folder, sizeof(folder), "%s/dovecot-uidlist", x->dir);
    x->uidlist = fopen(folder, "we");
    if (!x->uidlist) return out_fail("cannot create '%s': %s", folder, strerror(errno));
    fprintf(x->uidlist, "3 V%u N%u\n", mb->uidvalidity, mb->uidnext);
    rc = store_msg_list(x->txn, x->user, mb->id, 1, UINT32_MAX, exp_maildir_one, x);
    if (!x->err && rc < 0) x->err = rc;
    if (fclose(x->uidlist) && !x->err) x->err = PETREL_EIO;
    x->uidlist = NULL;
    if (!x->err) x->err = exp_folder_finish(x);
    if (x->err)
        return out_fail("export of mailbox '%s' failed at %s: %s", mb->name,
                        x->failed[0] ? x->failed : "the start", petrel_strerror(x->err));
    return 0;
}

struct exp_names {
    store_mailbox_t *v;
    size_t n, cap;
};

static int exp_collect(const store_mailbox_t *m, void *arg)
{
    struct exp_names *ns = arg;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        store_mailbox_t *p = realloc(ns->v, cap * sizeof(*p));
        if (!p) return 1;
        ns->v = p;
        ns->cap = cap;
    }
    ns->v[ns->n++] = *m;
    return 0;
}

static int exp_maildir(exp_t *x, const char *mailbox, const char *dir)
{
    struct exp_names ns = {0};
    int rc = 0;
    if (!ctl_dir_empty_or_absent(dir))
        return out_fail("'%s' exists and is not an empty directory", dir);
    if (exp_mkdirs(dir)) return CTL_FAIL;
    if (mailbox) {
        store_mailbox_t mb;
        rc = store_mailbox_get(x->txn, x->user, mailbox, &mb);
        if (rc) {
            char what[STORE_MAILBOX_NAME_MAX + 32];
            snprintf(what, sizeof(what), "mailbox '%s'", mailbox);
            return ctl_store_fail(rc, what);
        }
        return exp_folder(x, dir, &mb, 1);
    }
    rc = store_mailbox_list(x->txn, x->user, exp_collect, &ns);
    if (rc < 0 || rc > 0) {
        free(ns.v);
        return out_fail("cannot list the mailboxes: %s",
                        petrel_strerror(rc < 0 ? rc : PETREL_ENOMEM));
    }
    for (size_t i = 0; !rc && i < ns.n; i++)
        rc = exp_folder(x, dir, &ns.v[i], str_casecmp(ns.v[i].name, "INBOX") == 0);
    free(ns.v);
    if (x->kw_dropped)
        out_warn("some folders have more than %d keywords: the rest were not exported",
                 MAILDIR_KEYWORDS_MAX);
    return rc;
}

int cmd_export(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"mailbox", 1, NULL, 0}};
    exp_t x = {.fd = -1};
    store_user_t u;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 1, 3, 3, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    if (strcmp(a.pos[1], "mbox") != 0 && strcmp(a.pos[1], "maildir") != 0)
        return ctl_usage(c, "unknown format '%s' (mbox or maildir)", a.pos[1]);
    if (strlen(a.pos[2]) > CTL_DIR_MAX) return out_fail("path '%.40s...' is too long", a.pos[2]);
    if (ctl_read(c, &x.txn)) return CTL_FAIL;
    rc = store_user_get(x.txn, a.pos[0], &u);
    if (rc) {
        char what[STORE_ADDRESS_MAX + 32];
        store_txn_abort(&x.txn);
        snprintf(what, sizeof(what), "user '%s'", a.pos[0]);
        return ctl_store_fail(rc, what);
    }
    x.user = u.id;
    explicit_bzero(&u, sizeof(u));
    buf_init(&x.b, EXPORT_MSG_MAX);
    x.progress = isatty(2);
    if (a.pos[1][1] == 'b')
        rc = exp_mbox(c, &x, opts[0].value ? opts[0].value : "INBOX", a.pos[2]);
    else
        rc = exp_maildir(&x, opts[0].value, a.pos[2]);
    store_txn_abort(&x.txn);
    exp_progress(&x, 1);
    buf_free(&x.b);
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
        free(x.kwnames[i]);
    if (rc) return CTL_FAIL;
    if (strcmp(a.pos[2], "-") != 0)
        printf("%zu message%s exported to %s\n", x.done, x.done == 1 ? "" : "s", a.pos[2]);
    return CTL_OK;
}
