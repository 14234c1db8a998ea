/*
 * import.c - petrelctl import ADDRESS mbox FILE | maildir DIR [--mailbox NAME].
 *
 * The whole import is one write transaction: a corrupt file, a quota
 * refusal or an unreadable message changes nothing. Input is checked before
 * the transaction begins (the mbox is parsed, the Maildir tree listed), so a
 * corrupt mbox is reported without touching the store. Target mailboxes are
 * created when missing. A progress line goes to stderr when it is a terminal.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "maildir.h"
#include "mbox.h"
#include "util/err.h"
#include "util/str.h"

#define IMPORT_MSG_MAX (256u * 1024 * 1024)
#define IMPORT_PATH_MAX 4096

typedef struct imp_file {
    char *path;
    char *base; /* the name up to ':' (dovecot-uidlist key) */
    int64_t mtime;
    uint32_t flags;
    char kw[MAILDIR_KEYWORDS_MAX + 1];
    uint64_t order; /* uid from dovecot-uidlist, or UINT64_MAX */
} imp_file_t;

typedef struct imp_folder {
    char mailbox[STORE_MAILBOX_NAME_MAX + 1];
    char *kwnames[MAILDIR_KEYWORDS_MAX];
    imp_file_t *files;
    size_t n, cap;
} imp_folder_t;

typedef struct imp {
    ctl_t *c;
    const char *address, *src;
    int is_mbox;
    /* mbox */
    const uint8_t *map;
    size_t maplen;
    /* maildir */
    imp_folder_t *folders;
    size_t nfolders;
    size_t total;       /* messages */
    const char *target; /* --mailbox NAME or NULL */
    /* results and error context */
    size_t done;
    char failed[IMPORT_PATH_MAX + 64];
    int progress;
} imp_t;

static void imp_progress(imp_t *m, int final)
{
    if (!m->progress || (!final && m->done % 100 != 0)) return;
    fprintf(stderr, "\rimporting: %zu/%zu messages%s", m->done, m->total, final ? "\n" : "");
}

/* The target mailbox's id for name, created when missing. */
static int imp_mailbox(store_txn_t *txn, uint64_t user, const char *name, uint32_t *id_r)
{
    store_mailbox_t mb;
    int rc = store_mailbox_get(txn, user, name, &mb);
    if (rc == PETREL_ENOTFOUND) return store_mailbox_create(txn, user, name, 0, id_r);
    if (!rc) *id_r = mb.id;
    return rc;
}

/* ------------------------------------------------------------------ mbox */
static int imp_mbox_run(store_txn_t *txn, void *arg)
{
    imp_t *m = arg;
    store_user_t u;
    uint32_t mbid;
    mbox_reader_t r;
    mbox_msg_t *msg = malloc(sizeof(*msg));
    buf_t b;
    int rc;
    m->done = 0;
    if (!msg) return PETREL_ENOMEM;
    rc = store_user_get(txn, m->address, &u);
    if (!rc) rc = imp_mailbox(txn, u.id, m->target ? m->target : "INBOX", &mbid);
    buf_init(&b, IMPORT_MSG_MAX);
    mbox_reader_init(&r, m->map, m->maplen);
    while (!rc && (rc = mbox_next(&r, msg)) == 0) {
        store_append_t in = {0};
        uint32_t uid;
        buf_reset(&b);
        rc = mbox_unquote(msg, &b);
        if (rc) {
            snprintf(m->failed, sizeof(m->failed), "the message at line %u is too big", msg->line);
            break;
        }
        in.data = b.data ? b.data : "";
        in.len = b.len;
        in.internal_date = msg->date;
        in.flags =
            msg->has_flags ? msg->flags : mbox_status_flags((const uint8_t *)in.data, in.len);
        in.keywords = msg->kws;
        in.nkeywords = msg->nkw;
        rc = store_msg_append(txn, u.id, mbid, &in, &uid);
        if (rc) snprintf(m->failed, sizeof(m->failed), "the message at line %u", msg->line);
        m->done++;
        imp_progress(m, 0);
    }
    buf_free(&b);
    free(msg);
    return rc == PETREL_ENOTFOUND ? 0 : rc;
}

static int imp_mbox_open(imp_t *m)
{
    struct stat sb;
    mbox_reader_t r;
    mbox_msg_t *msg;
    int fd = open(m->src, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) return out_fail("cannot open '%s': %s", m->src, strerror(errno));
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        close(fd);
        return out_fail("'%s' is not a regular file", m->src);
    }
    m->maplen = (size_t)sb.st_size;
    if (m->maplen) {
        void *p = mmap(NULL, m->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return out_fail("cannot read '%s': %s", m->src, strerror(errno));
        }
        m->map = p;
    }
    close(fd);
    msg = malloc(sizeof(*msg));
    if (!msg) return out_fail("out of memory");
    mbox_reader_init(&r, m->map, m->maplen);
    while ((rc = mbox_next(&r, msg)) == 0)
        m->total++;
    free(msg);
    if (rc == PETREL_ECORRUPT)
        return out_fail("'%s' is not an mbox: line %u does not begin with \"From \"", m->src,
                        r.line);
    return 0;
}

/* ------------------------------------------------------------------ maildir listing */
static void imp_free(imp_t *m)
{
    for (size_t i = 0; i < m->nfolders; i++) {
        imp_folder_t *f = &m->folders[i];
        for (size_t k = 0; k < f->n; k++) {
            free(f->files[k].path);
            free(f->files[k].base);
        }
        for (int k = 0; k < MAILDIR_KEYWORDS_MAX; k++)
            free(f->kwnames[k]);
        free(f->files);
    }
    free(m->folders);
    if (m->map) munmap((void *)m->map, m->maplen);
}

static int imp_file_cmp(const void *a, const void *b)
{
    const imp_file_t *x = a, *y = b;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    uint64_t nx = strtoull(x->base, NULL, 10), ny = strtoull(y->base, NULL, 10);
    if (nx != ny) return nx < ny ? -1 : 1;
    return strcmp(x->base, y->base);
}

static void imp_keywords_read(imp_folder_t *f, const char *dir)
{
    char path[IMPORT_PATH_MAX], line[512];
    ctl_path(path, sizeof(path), "%s/dovecot-keywords", dir);
    FILE *fp = fopen(path, "re");
    while (fp && fgets(line, sizeof(line), fp)) {
        char *end;
        unsigned long idx = strtoul(line, &end, 10);
        if (end == line || *end != ' ' || idx >= MAILDIR_KEYWORDS_MAX) continue;
        end[strcspn(end, "\r\n")] = '\0';
        free(f->kwnames[idx]);
        f->kwnames[idx] = strdup(end + 1);
    }
    if (fp) fclose(fp);
}

static int imp_base_cmp(const void *a, const void *b)
{
    return strcmp(((const imp_file_t *)a)->base, ((const imp_file_t *)b)->base);
}

/*
 * Gives f's files the uids of the folder's dovecot-uidlist, when it has one
 * ("3 V... N..." header, then "UID [ext] :BASENAME" lines), so that the
 * import keeps the exported order. f->files must be sorted by imp_base_cmp.
 */
static void imp_uidlist_read(imp_folder_t *f, const char *dir)
{
    char path[IMPORT_PATH_MAX], line[1024];
    ctl_path(path, sizeof(path), "%s/dovecot-uidlist", dir);
    FILE *fp = fopen(path, "re");
    if (fp && !fgets(line, sizeof(line), fp)) /* the header line */
        line[0] = '\0';
    while (fp && fgets(line, sizeof(line), fp)) {
        char *end, *name = strchr(line, ':');
        unsigned long long uid = strtoull(line, &end, 10);
        if (end == line || !name) continue;
        name++;
        name[strcspn(name, ":\r\n")] = '\0';
        imp_file_t key = {.base = name};
        imp_file_t *hit = f->n ? bsearch(&key, f->files, f->n, sizeof(key), imp_base_cmp) : NULL;
        if (hit) hit->order = uid;
    }
    if (fp) fclose(fp);
}

static int imp_folder_add_files(imp_folder_t *f, const char *dir, const char *sub)
{
    char path[IMPORT_PATH_MAX];
    struct dirent *de;
    ctl_path(path, sizeof(path), "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT ? 0 : out_fail("cannot read '%s': %s", path, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        imp_file_t *fl;
        if (de->d_name[0] == '.') continue;
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 64;
            imp_file_t *p = realloc(f->files, cap * sizeof(*p));
            if (!p) {
                closedir(d);
                return out_fail("out of memory");
            }
            f->files = p;
            f->cap = cap;
        }
        fl = &f->files[f->n];
        memset(fl, 0, sizeof(*fl));
        if (asprintf(&fl->path, "%s/%s", path, de->d_name) < 0) {
            closedir(d);
            return out_fail("out of memory");
        }
        if (stat(fl->path, &sb) || !S_ISREG(sb.st_mode)) {
            free(fl->path);
            continue;
        }
        fl->base = strndup(de->d_name, strcspn(de->d_name, ":"));
        if (!fl->base) {
            free(fl->path);
            closedir(d);
            return out_fail("out of memory");
        }
        fl->mtime = (int64_t)sb.st_mtime;
        fl->flags = maildir_flags_parse(de->d_name, fl->kw, sizeof(fl->kw), NULL);
        fl->order = UINT64_MAX;
        f->n++;
    }
    closedir(d);
    return 0;
}

static int imp_folder_add(imp_t *m, const char *dir, const char *folder)
{
    char name[STORE_MAILBOX_NAME_MAX + 1];
    int rc = 0;
    imp_folder_t *f, *p = realloc(m->folders, (m->nfolders + 1) * sizeof(*p));
    if (!p) return out_fail("out of memory");
    m->folders = p;
    f = &m->folders[m->nfolders];
    memset(f, 0, sizeof(*f));
    if (maildir_folder_to_mailbox(folder, name, sizeof(name)))
        return out_fail("cannot map Maildir folder '%s' to a mailbox name", folder);
    m->nfolders++;
    if (m->target && folder[0])
        rc = ctl_path(f->mailbox, sizeof(f->mailbox), "%s/%s", m->target, name);
    else
        str_lcpy(f->mailbox, m->target ? m->target : name, sizeof(f->mailbox));
    if (rc) return out_fail("mailbox name '%s/%s' is too long", m->target, name);
    if (imp_folder_add_files(f, dir, "cur") || imp_folder_add_files(f, dir, "new")) return CTL_FAIL;
    imp_keywords_read(f, dir);
    if (f->n) {
        qsort(f->files, f->n, sizeof(f->files[0]), imp_base_cmp);
        imp_uidlist_read(f, dir);
        qsort(f->files, f->n, sizeof(f->files[0]), imp_file_cmp);
    }
    m->total += f->n;
    return 0;
}

static int imp_maildir_list(imp_t *m)
{
    char path[IMPORT_PATH_MAX];
    struct stat sb;
    struct dirent *de;
    ctl_path(path, sizeof(path), "%s/cur", m->src);
    if (stat(path, &sb) || !S_ISDIR(sb.st_mode))
        return out_fail("'%s' is not a Maildir (it has no cur/ directory)", m->src);
    if (imp_folder_add(m, m->src, "")) return CTL_FAIL;
    DIR *d = opendir(m->src);
    if (!d) return out_fail("cannot read '%s': %s", m->src, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        ctl_path(path, sizeof(path), "%s/%s/cur", m->src, de->d_name);
        if (stat(path, &sb) || !S_ISDIR(sb.st_mode)) continue;
        ctl_path(path, sizeof(path), "%s/%s", m->src, de->d_name);
        if (imp_folder_add(m, path, de->d_name)) {
            closedir(d);
            return CTL_FAIL;
        }
    }
    closedir(d);
    return 0;
}

static int imp_file_read(const char *path, buf_t *b)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PETREL_EIO;
    buf_reset(b);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || buf_append(b, chunk, (size_t)n)) {
            close(fd);
            return n == 0 ? 0 : n < 0 ? PETREL_EIO : PETREL_ETOOBIG;
        }
    }
}

static int imp_maildir_run(store_txn_t *txn, void *arg)
{
    imp_t *m = arg;
    store_user_t u;
    buf_t b;
    int rc = store_user_get(txn, m->address, &u);
    m->done = 0;
    buf_init(&b, IMPORT_MSG_MAX);
    for (size_t i = 0; !rc && i < m->nfolders; i++) {
        imp_folder_t *f = &m->folders[i];
        uint32_t mbid;
        rc = imp_mailbox(txn, u.id, f->mailbox, &mbid);
        if (rc) {
            snprintf(m->failed, sizeof(m->failed), "mailbox '%s'", f->mailbox);
            break;
        }
        for (size_t k = 0; !rc && k < f->n; k++) {
            imp_file_t *fl = &f->files[k];
            const char *kws[MAILDIR_KEYWORDS_MAX];
            store_append_t in = {0};
            uint32_t uid;
            for (const char *p = fl->kw; *p; p++)
                if (f->kwnames[*p - 'a']) kws[in.nkeywords++] = f->kwnames[*p - 'a'];
            rc = imp_file_read(fl->path, &b);
            in.data = b.data ? b.data : "";
            in.len = b.len;
            in.internal_date = fl->mtime;
            in.flags = fl->flags;
            in.keywords = kws;
            if (!rc) rc = store_msg_append(txn, u.id, mbid, &in, &uid);
            if (rc) snprintf(m->failed, sizeof(m->failed), "'%s'", fl->path);
            m->done++;
            imp_progress(m, 0);
        }
    }
    buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ command */
int cmd_import(ctl_t *c, int argc, char **argv)
{
    args_opt_t opts[] = {{"mailbox", 1, NULL, 0}};
    imp_t m = {.c = c};
    store_txn_t *txn;
    store_user_t u;
    store_t *st;
    args_t a;
    int rc = ctl_args(c, argc, argv, opts, 1, 3, 3, &a);
    if (rc) return rc < 0 ? CTL_OK : rc;
    m.address = a.pos[0];
    m.src = a.pos[2];
    m.target = opts[0].value;
    if (strcmp(a.pos[1], "mbox") != 0 && strcmp(a.pos[1], "maildir") != 0)
        return ctl_usage(c, "unknown format '%s' (mbox or maildir)", a.pos[1]);
    m.is_mbox = a.pos[1][1] == 'b';
    if (strlen(m.src) > CTL_DIR_MAX) return out_fail("path '%.40s...' is too long", m.src);
    if (ctl_read(c, &txn)) return CTL_FAIL;
    rc = store_user_get(txn, m.address, &u);
    store_txn_abort(&txn);
    explicit_bzero(&u, sizeof(u));
    if (rc) {
        char what[STORE_ADDRESS_MAX + 32];
        snprintf(what, sizeof(what), "user '%s'", m.address);
        return ctl_store_fail(rc, what);
    }
    rc = m.is_mbox ? imp_mbox_open(&m) : imp_maildir_list(&m);
    if (rc || ctl_store(c, &st)) {
        imp_free(&m);
        return CTL_FAIL;
    }
    m.progress = isatty(2);
    rc = store_write(st, m.is_mbox ? imp_mbox_run : imp_maildir_run, &m);
    imp_progress(&m, 1);
    imp_free(&m);
    if (rc == PETREL_EQUOTA || rc == PETREL_ETENANTQUOTA)
        return out_fail("import into %s refused at %s: the %s quota would be exceeded; nothing "
                        "was imported",
                        m.address, m.failed, rc == PETREL_EQUOTA ? "user's" : "tenant's");
    if (rc)
        return out_fail("import into %s failed at %s: %s; nothing was imported", m.address,
                        m.failed[0] ? m.failed : "the start", petrel_strerror(rc));
    if (c->json) {
        out_json_t w;
        out_json_init(&w, stdout);
        out_json_obj_begin(&w);
        out_json_ku64(&w, "imported", m.done);
        out_json_obj_end(&w);
        out_json_done(&w);
    } else {
        printf("%zu message%s imported into %s\n", m.done, m.done == 1 ? "" : "s", m.address);
    }
    return CTL_OK;
}
