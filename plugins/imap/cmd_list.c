/*
 * cmd_list.c - LIST and LSUB (RFC 3501 6.3.8/6.3.9, CHILDREN RFC 3348,
 * SPECIAL-USE RFC 6154 attributes). The hierarchy delimiter is "/".
 * LIST-EXTENDED selection/return options are not implemented yet.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

#define IMAP_LIST_MAX_WILDCARDS 16

struct list_entry {
    char *name;
    uint32_t special_use;
    int noselect; /* an implied parent ("a" of "a/b") that does not exist */
};

struct list_vec {
    struct list_entry *v;
    size_t n, cap;
    int failed;
};

static int list_add(struct list_vec *lv, const char *name, uint32_t su)
{
    if (lv->n >= IMAP_MAX_MAILBOXES) {
        lv->failed = 1;
        return 1;
    }
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 32;
        struct list_entry *nv = realloc(lv->v, cap * sizeof(*nv));
        if (!nv) {
            lv->failed = 1;
            return 1;
        }
        lv->v = nv;
        lv->cap = cap;
    }
    lv->v[lv->n].name = strdup(name);
    if (!lv->v[lv->n].name) {
        lv->failed = 1;
        return 1;
    }
    lv->v[lv->n].noselect = 0;
    lv->v[lv->n++].special_use = su;
    return 0;
}

static void list_free(struct list_vec *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->v[i].name);
    free(lv->v);
}

static int list_mailbox_cb(const struct petrel_mailbox_info *m, void *arg)
{
    return list_add(arg, m->name, m->special_use);
}

static int list_name_cb(const char *name, void *arg)
{
    return list_add(arg, name, 0);
}

static int list_cmp(const void *a, const void *b)
{
    return strcmp(((const struct list_entry *)a)->name, ((const struct list_entry *)b)->name);
}

/* 1 when some entry is a child of v[i] ("name/..."); v is sorted. */
static int list_has_children(const struct list_vec *lv, size_t i)
{
    size_t n = strlen(lv->v[i].name);
    for (size_t j = i + 1; j < lv->n; j++) {
        int c = strncmp(lv->v[j].name, lv->v[i].name, n);
        if (c != 0) return 0;
        if (lv->v[j].name[n] == '/') return 1;
        if ((unsigned char)lv->v[j].name[n] > '/') return 0;
    }
    return 0;
}

static void list_write_attrs(struct imap_session *is, const struct list_vec *lv, size_t i)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } su[] = {{PETREL_SU_SENT, "\\Sent"},       {PETREL_SU_DRAFTS, "\\Drafts"},
              {PETREL_SU_TRASH, "\\Trash"},     {PETREL_SU_JUNK, "\\Junk"},
              {PETREL_SU_ARCHIVE, "\\Archive"}, {PETREL_SU_ALL, "\\All"},
              {PETREL_SU_FLAGGED, "\\Flagged"}};
    imap_host->writef(is->s, "(%s%s", lv->v[i].noselect ? "\\Noselect " : "",
                      list_has_children(lv, i) ? "\\HasChildren" : "\\HasNoChildren");
    for (size_t k = 0; k < sizeof(su) / sizeof(su[0]); k++)
        if (lv->v[i].special_use & su[k].bit) imap_host->writef(is->s, " %s", su[k].name);
    imap_host->write(is->s, ")", 1);
}

/* The reference + pattern in UTF-8; -1 when it cannot match anything. */
static int list_pattern(struct imap_session *is, char *out, size_t cap)
{
    struct imap_parser *p = is->p;
    const char *ref = imap_arg_str(p, &p->args[0]), *pat = imap_arg_str(p, &p->args[1]);
    char joined[IMAP_MAX_NAME * 2 + 2];
    size_t rn = p->args[0].len, pn = p->args[1].len;
    if (rn + pn >= sizeof(joined) || strlen(ref) != rn || strlen(pat) != pn) return -1;
    memcpy(joined, ref, rn);
    memcpy(joined + rn, pat, pn + 1);
    size_t wild = 0;
    for (size_t i = 0; joined[i]; i++)
        wild += joined[i] == '*' || joined[i] == '%';
    if (wild > IMAP_LIST_MAX_WILDCARDS) return -1;
    if (is->rev2) {
        if (rn + pn >= cap) return -1;
        memcpy(out, joined, rn + pn + 1);
        return 0;
    }
    return imap_mutf7_to_utf8(joined, rn + pn, out, cap);
}

/* name among v[0..sorted) (sorted) or v[sorted..n) (appended, unsorted) */
static int list_find(const struct list_vec *lv, size_t sorted, const char *name)
{
    for (size_t k = sorted; k < lv->n; k++)
        if (strcmp(lv->v[k].name, name) == 0) return 1;
    size_t lo = 0, hi = sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(lv->v[mid].name, name);
        if (c == 0) return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/*
 * RFC 3501 6.3.8: with a trailing '%', levels of hierarchy that are not
 * mailboxes themselves ("a" when only "a/b" exists) are listed \Noselect.
 */
static void list_add_parents(struct list_vec *lv)
{
    size_t n = lv->n;
    char parent[IMAP_MAX_NAME * 3];
    for (size_t i = 0; i < n && !lv->failed; i++) {
        const char *name = lv->v[i].name;
        for (const char *sl = strchr(name, '/'); sl && !lv->failed; sl = strchr(sl + 1, '/')) {
            size_t pn = (size_t)(sl - name);
            if (pn >= sizeof(parent)) break;
            memcpy(parent, name, pn);
            parent[pn] = '\0';
            if (!list_find(lv, n, parent) && list_add(lv, parent, 0) == 0)
                lv->v[lv->n - 1].noselect = 1;
        }
    }
    if (lv->n > n) qsort(lv->v, lv->n, sizeof(lv->v[0]), list_cmp);
}

static void imap_list_common(struct imap_session *is, int lsub)
{
    struct imap_parser *p = is->p;
    const char *verb = lsub ? "LSUB" : "LIST";
    if (p->nargs != 2 || !imap_arg_is_string(&p->args[0]) || !imap_arg_is_string(&p->args[1])) {
        imap_reply_bad(is, lsub ? "LSUB reference pattern"
                                : "LIST reference pattern (extended forms not supported)");
        return;
    }
    if (!lsub && p->args[1].len == 0) { /* the delimiter and root */
        imap_host->writef(is->s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
        imap_reply(is, "OK", "LIST completed");
        return;
    }
    char pattern[IMAP_MAX_NAME * 3];
    struct list_vec lv = {0};
    if (list_pattern(is, pattern, sizeof(pattern)) == 0) {
        petrel_read *r = imap_host->read_begin(is->s);
        int rc = !r     ? PETREL_EIO
                 : lsub ? imap_host->subscription_list(r, list_name_cb, &lv)
                        : imap_host->mailbox_list(r, list_mailbox_cb, &lv);
        imap_host->read_end(&r);
        if ((rc && rc != 1) || lv.failed) {
            list_free(&lv);
            imap_reply(is, "NO", "[UNAVAILABLE] Cannot list mailboxes");
            return;
        }
        if (lv.n) qsort(lv.v, lv.n, sizeof(lv.v[0]), list_cmp);
        size_t pl = strlen(pattern);
        if (!lsub && pl && pattern[pl - 1] == '%') list_add_parents(&lv);
    }
    for (size_t i = 0; i < lv.n; i++) {
        if (!imap_list_match(pattern, lv.v[i].name)) continue;
        imap_host->writef(is->s, "* %s ", verb);
        if (lsub)
            imap_host->write(is->s, "()", 2);
        else
            list_write_attrs(is, &lv, i);
        imap_host->write(is->s, " \"/\" ", 5);
        imap_write_mailbox(is, lv.v[i].name);
        imap_host->write(is->s, "\r\n", 2);
    }
    list_free(&lv);
    imap_reply(is, "OK", "%s completed", verb);
}

void imap_cmd_list(struct imap_session *is)
{
    imap_list_common(is, 0);
}

void imap_cmd_lsub(struct imap_session *is)
{
    imap_list_common(is, 1);
}
