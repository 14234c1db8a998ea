/*
 * cmd_list.c - LIST and LSUB (RFC 3501 6.3.8/6.3.9, CHILDREN RFC 3348,
 * SPECIAL-USE RFC 6154 attributes), LIST-EXTENDED (RFC 5258: selection
 * options SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE, return options
 * SUBSCRIBED CHILDREN SPECIAL-USE, several patterns) and LIST-STATUS
 * (RFC 5819: RETURN (STATUS (..))). The hierarchy delimiter is "/".
 * RECURSIVEMATCH recurses on SUBSCRIBED and/or SPECIAL-USE: a name with a
 * descendant meeting those criteria is listed with CHILDINFO naming them
 * (as Dovecot does). LSUB with a '%' pattern lists the unsubscribed parents
 * of subscribed names as \Noselect (RFC 3501 6.3.9).
 * The argument syntax is in cmd_list_args.c.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

struct list_entry {
    char *name;
    uint32_t special_use;
    int noselect;   /* an implied parent ("a" of "a/b") that does not exist */
    int subscribed; /* filled for LIST (SUBSCRIBED ..) / RETURN (SUBSCRIBED) */
    int exists;
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
    struct list_entry *e = &lv->v[lv->n];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    if (!e->name) {
        lv->failed = 1;
        return 1;
    }
    e->special_use = su;
    e->exists = 1;
    lv->n++;
    return 0;
}

static void list_free(struct list_vec *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->v[i].name);
    free(lv->v);
    memset(lv, 0, sizeof(*lv));
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

/* The index of the first entry >= name in v[0..n) (sorted). */
static size_t list_lower(const struct list_vec *lv, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(lv->v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The entry named name among v[0..sorted) (sorted) or v[sorted..n) (unsorted), or NULL. */
static struct list_entry *list_find(const struct list_vec *lv, size_t sorted, const char *name)
{
    for (size_t k = sorted; k < lv->n; k++)
        if (strcmp(lv->v[k].name, name) == 0) return &lv->v[k];
    size_t i = list_lower(lv, sorted, name);
    return i < sorted && strcmp(lv->v[i].name, name) == 0 ? &lv->v[i] : NULL;
}

/* 1 when lv (sorted) holds a name below name ("name/..."). */
static int list_has_child(const struct list_vec *lv, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = list_lower(lv, lv->n, name); i < lv->n; i++) {
        int c = strncmp(lv->v[i].name, name, n);
        if (c != 0) return 0;
        if (lv->v[i].name[n] == '/') return 1;
        if ((unsigned char)lv->v[i].name[n] > '/') return 0;
    }
    return 0;
}

/*
 * Adds the levels of hierarchy of v[0..n) that are not in the vector
 * themselves ("a" when only "a/b" exists) with noselect set, then sorts.
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
            if (!list_find(lv, n, parent) && list_add(lv, parent, 0) == 0) {
                lv->v[lv->n - 1].noselect = 1;
                lv->v[lv->n - 1].exists = 0;
            }
        }
    }
    if (lv->n > n) qsort(lv->v, lv->n, sizeof(lv->v[0]), list_cmp);
}

/* ------------------------------------------------------------ output */

static void list_write_attrs(struct imap_session *is, const struct list_req *rq,
                             const struct list_vec *mbx, const struct list_entry *e)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } su[] = {{PETREL_SU_SENT, "\\Sent"},       {PETREL_SU_DRAFTS, "\\Drafts"},
              {PETREL_SU_TRASH, "\\Trash"},     {PETREL_SU_JUNK, "\\Junk"},
              {PETREL_SU_ARCHIVE, "\\Archive"}, {PETREL_SU_ALL, "\\All"},
              {PETREL_SU_FLAGGED, "\\Flagged"}};
    const char *missing = "";
    if (!e->exists) missing = rq->sel & LIST_SEL_SUBSCRIBED ? "\\NonExistent " : "\\Noselect ";
    imap_host->writef(is->s, "(%s%s", missing,
                      list_has_child(mbx, e->name) ? "\\HasChildren" : "\\HasNoChildren");
    if (e->subscribed && (rq->sel & LIST_SEL_SUBSCRIBED || rq->ret & LIST_RET_SUBSCRIBED))
        imap_host->writef(is->s, " \\Subscribed");
    for (size_t k = 0; k < sizeof(su) / sizeof(su[0]); k++)
        if (e->special_use & su[k].bit) imap_host->writef(is->s, " %s", su[k].name);
    imap_host->write(is->s, ")", 1);
}

/* The STATUS of a listed mailbox (LIST-STATUS); a mailbox gone meanwhile is skipped. */
static void list_write_status(struct imap_session *is, const struct list_req *rq, const char *name)
{
    petrel_read *r = imap_host->read_begin(is->s);
    struct petrel_mailbox_info mb = {.struct_size = sizeof(mb)};
    if (r && imap_host->mailbox_get(r, name, &mb) == 0)
        imap_status_write(is, r, &mb, rq->st_first, rq->st_end);
    imap_host->read_end(&r);
}

/* The CHILDINFO extended item (RFC 5258 3.5): the selection criteria a descendant met. */
static void list_write_childinfo(struct imap_session *is, const struct list_req *rq)
{
    int sub = (rq->sel & LIST_SEL_SUBSCRIBED) != 0, su = (rq->sel & LIST_SEL_SPECIALUSE) != 0;
    imap_host->writef(is->s, " (\"CHILDINFO\" (%s%s%s))", sub ? "\"SUBSCRIBED\"" : "",
                      sub && su ? " " : "", su ? "\"SPECIAL-USE\"" : "");
}

/* match: the names meeting the selection criteria (RECURSIVEMATCH's CHILDINFO). */
static void list_write_entry(struct imap_session *is, const struct list_req *rq,
                             const struct list_vec *mbx, const struct list_vec *match,
                             const struct list_entry *e)
{
    imap_host->writef(is->s, "* LIST ");
    list_write_attrs(is, rq, mbx, e);
    imap_host->write(is->s, " \"/\" ", 5);
    imap_write_mailbox(is, e->name);
    if (rq->sel & LIST_SEL_RECURSIVE && list_has_child(match, e->name))
        list_write_childinfo(is, rq);
    imap_host->write(is->s, "\r\n", 2);
    if (rq->st_end > rq->st_first && e->exists) list_write_status(is, rq, e->name);
}

/* ------------------------------------------------------------ selection */

/* 1 when name matches one of the patterns (only those ending in '%' for an implied parent). */
static int list_matches(const struct list_req *rq, const struct list_entry *e)
{
    for (size_t k = 0; k < rq->npatterns; k++) {
        size_t pl = strlen(rq->patterns[k]);
        if (!e->exists && !(rq->sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_RECURSIVE)) &&
            !(pl && rq->patterns[k][pl - 1] == '%'))
            continue;
        if (imap_list_match(rq->patterns[k], e->name)) return 1;
    }
    return 0;
}

/* 1 when e meets the selection criteria or (RECURSIVEMATCH) has a descendant in match. */
static int list_selected(const struct list_req *rq, const struct list_vec *match,
                         const struct list_entry *e)
{
    if (!(rq->sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIALUSE))) return 1;
    int meets = (!(rq->sel & LIST_SEL_SPECIALUSE) || e->special_use) &&
                (!(rq->sel & LIST_SEL_SUBSCRIBED) || e->subscribed);
    return meets || (rq->sel & LIST_SEL_RECURSIVE && list_has_child(match, e->name));
}

/* match = the names of base (sorted) meeting every selection criterion; stays sorted. 0 or -1. */
static int list_collect_match(const struct list_req *rq, const struct list_vec *mbx,
                              const struct list_vec *base, struct list_vec *match)
{
    for (size_t i = 0; i < base->n; i++) {
        const struct list_entry *m = list_find(mbx, mbx->n, base->v[i].name);
        if (rq->sel & LIST_SEL_SPECIALUSE && !(m && m->special_use)) continue;
        if (list_add(match, base->v[i].name, 0)) return -1;
    }
    return 0;
}

/*
 * The names LIST looks at: the mailboxes (and their implied parents when a
 * pattern ends in '%'), or for LIST (SUBSCRIBED) the subscriptions (and, with
 * RECURSIVEMATCH, their parents). 0, or -1 (store error / too many).
 */
static int list_collect(struct imap_session *is, const struct list_req *rq, struct list_vec *mbx,
                        struct list_vec *subs, struct list_vec *match, struct list_vec *out)
{
    petrel_read *r = imap_host->read_begin(is->s);
    int rc = r ? imap_host->mailbox_list(r, list_mailbox_cb, mbx) : PETREL_EIO;
    if ((rc == 0 || rc == 1) && (rq->sel & LIST_SEL_SUBSCRIBED || rq->ret & LIST_RET_SUBSCRIBED))
        rc = imap_host->subscription_list(r, list_name_cb, subs);
    imap_host->read_end(&r);
    if ((rc && rc != 1) || mbx->failed || subs->failed) return -1;
    if (mbx->n) qsort(mbx->v, mbx->n, sizeof(mbx->v[0]), list_cmp); /* v is NULL when empty */
    if (subs->n) qsort(subs->v, subs->n, sizeof(subs->v[0]), list_cmp);
    const struct list_vec *base = rq->sel & LIST_SEL_SUBSCRIBED ? subs : mbx;
    for (size_t i = 0; i < base->n; i++)
        if (list_add(out, base->v[i].name, 0)) return -1;
    if (rq->sel & LIST_SEL_RECURSIVE && list_collect_match(rq, mbx, base, match)) return -1;
    int parents = rq->sel & LIST_SEL_RECURSIVE;
    for (size_t k = 0; k < rq->npatterns && !(rq->sel & LIST_SEL_SUBSCRIBED); k++) {
        size_t pl = strlen(rq->patterns[k]);
        parents |= pl && rq->patterns[k][pl - 1] == '%';
    }
    if (parents) list_add_parents(out);
    if (out->failed) return -1;
    for (size_t i = 0; i < out->n; i++) {
        const struct list_entry *m = list_find(mbx, mbx->n, out->v[i].name);
        out->v[i].exists = m != NULL;
        out->v[i].noselect = m == NULL;
        out->v[i].special_use = m ? m->special_use : 0;
        out->v[i].subscribed = list_find(subs, subs->n, out->v[i].name) != NULL;
    }
    return 0;
}

/*
 * A LIST response as a stream (stream.c): up to IMAP_LIST_BATCH entries per step, so
 * that a user with tens of thousands of mailboxes (IMAP_MAX_MAILBOXES names, ~100 bytes a
 * line, more with LIST-STATUS) does not pass the host's 1 MiB output limit. The job owns
 * the collected names and the request; LIST-STATUS reads each STATUS when it is written.
 */
#define IMAP_LIST_BATCH 64

struct list_job {
    struct list_req rq;
    struct list_vec mbx, subs, match, out;
    size_t pos;
};

static void list_job_free(void *job)
{
    struct list_job *j = job;
    list_free(&j->mbx);
    list_free(&j->subs);
    list_free(&j->match);
    list_free(&j->out);
    imap_list_req_free(&j->rq);
    free(j);
}

static int list_job_step(struct imap_session *is, void *job)
{
    struct list_job *j = job;
    for (unsigned k = 0; k < IMAP_LIST_BATCH && j->pos < j->out.n; j->pos++) {
        const struct list_entry *e = &j->out.v[j->pos];
        if (!list_matches(&j->rq, e) || !list_selected(&j->rq, &j->match, e)) continue;
        list_write_entry(is, &j->rq, &j->mbx, &j->match, e);
        k++;
    }
    return j->pos < j->out.n ? 0 : 1;
}

static void list_job_finish(struct imap_session *is, void *job)
{
    (void)job;
    imap_reply(is, "OK", "LIST completed");
}

static const struct imap_stream_ops list_job_ops = {
    .step = list_job_step,
    .finish = list_job_finish,
    .free = list_job_free,
};

/* Takes rq's patterns over (rq is left empty). */
static void imap_list_run(struct imap_session *is, struct list_req *rq)
{
    if (rq->npatterns == 0) { /* no pattern can match a name */
        imap_reply(is, "OK", "LIST completed");
        return;
    }
    struct list_job *j = calloc(1, sizeof(*j));
    if (!j) {
        imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    j->rq = *rq;
    rq->npatterns = 0;
    if (list_collect(is, &j->rq, &j->mbx, &j->subs, &j->match, &j->out)) {
        list_job_free(j);
        imap_reply(is, "NO", "[UNAVAILABLE] Cannot list mailboxes");
        return;
    }
    imap_stream_start(is, &list_job_ops, j);
}

void imap_cmd_list(struct imap_session *is)
{
    struct list_req rq;
    if (imap_list_args(is, &rq)) return; /* replied */
    if (rq.root) {                       /* LIST "" "": the delimiter and root */
        imap_host->writef(is->s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
        imap_reply(is, "OK", "LIST completed");
    } else {
        imap_list_run(is, &rq);
    }
    imap_list_req_free(&rq);
}

/*
 * LSUB: the subscriptions matching the pattern, attributes "()" (RFC 3501
 * 6.3.9). With a '%' in the pattern, a level above a subscribed name that is
 * not subscribed itself ("foo" of "foo/bar") is listed as \Noselect when it
 * matches, whether or not it exists as a mailbox.
 */
void imap_cmd_lsub(struct imap_session *is)
{
    struct imap_parser *p = is->p;
    char pattern[IMAP_MAX_NAME * 3];
    if (p->nargs != 2 || !imap_arg_is_string(&p->args[0]) || !imap_arg_is_string(&p->args[1])) {
        imap_reply_bad(is, "LSUB reference pattern");
        return;
    }
    struct list_vec lv = {0};
    if (imap_list_pattern(is, &p->args[0], &p->args[1], pattern, sizeof(pattern)) == 0) {
        petrel_read *r = imap_host->read_begin(is->s);
        int rc = r ? imap_host->subscription_list(r, list_name_cb, &lv) : PETREL_EIO;
        imap_host->read_end(&r);
        if ((rc && rc != 1) || lv.failed) {
            list_free(&lv);
            imap_reply(is, "NO", "[UNAVAILABLE] Cannot list mailboxes");
            return;
        }
        if (lv.n) qsort(lv.v, lv.n, sizeof(lv.v[0]), list_cmp);
        if (strchr(pattern, '%')) list_add_parents(&lv);
        if (lv.failed) {
            list_free(&lv);
            imap_reply(is, "NO", "[UNAVAILABLE] Cannot list mailboxes");
            return;
        }
    }
    for (size_t i = 0; i < lv.n; i++) {
        if (!imap_list_match(pattern, lv.v[i].name)) continue;
        imap_host->writef(is->s, "* LSUB (%s) \"/\" ", lv.v[i].noselect ? "\\Noselect" : "");
        imap_write_mailbox(is, lv.v[i].name);
        imap_host->write(is->s, "\r\n", 2);
    }
    list_free(&lv);
    imap_reply(is, "OK", "LSUB completed");
}
