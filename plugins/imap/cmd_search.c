/*
 * cmd_search.c - SEARCH / UID SEARCH over what the message records hold:
 * flags, keywords, sequence and UID sets, sizes, internal dates, with NOT, OR
 * and parenthesised groups, and header / body / text substring keys
 * (case-insensitive with the folding of search_fold.c; header values RFC
 * 2047-decoded, every text part decoded: search_text.c),
 * SENTBEFORE/SENTON/SENTSINCE on the Date: header.
 * Record-only searches run in one msg_list pass;
 * searches with text keys read each message in its own short snapshot.
 * The result is streamed (search_out.c).
 * No EXPUNGE responses during SEARCH (RFC 3501 7.4.1).
 */
#include "imap_int.h"
#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_MAX_NODES 256
#define SEARCH_MAX_DEPTH 32

/* RFC 4731 RETURN options */
#define SEARCH_RET_MIN 1u
#define SEARCH_RET_MAX 2u
#define SEARCH_RET_COUNT 4u
#define SEARCH_RET_ALL 8u
#define SEARCH_RET_SAVE 16u /* SEARCHRES (RFC 5182) */

enum search_op {
    S_ALL,
    S_FLAG,
    S_NOFLAG,
    S_KEYWORD,
    S_UNKEYWORD,
    S_LARGER,
    S_SMALLER,
    S_BEFORE,
    S_ON,
    S_SINCE,
    S_SET,
    S_NOT,
    S_OR,
    S_AND,
    S_RECENT,
    S_NEW,
    S_OLD,
    S_HEADER,
    S_BODY,
    S_TEXT,
    S_MODSEQ,
    S_SENTBEFORE,
    S_SENTON,
    S_SENTSINCE,
};

struct search_node {
    enum search_op op;
    uint32_t flag;
    uint64_t num;   /* size, or a day number */
    const char *kw; /* keyword, or the substring of a text key */
    size_t kwlen;
    char *fold; /* text keys: kw folded (search_fold.c), malloc'd */
    size_t foldlen;
    const char *field;         /* S_HEADER: the field name */
    struct imap_range *ranges; /* S_SET: index ranges */
    size_t nranges;
    int a, b; /* children (NOT: a; OR: a, b; AND: a .. b-1 as a list) */
    int next; /* next sibling in an AND list, -1 */
};

struct search {
    struct imap_session *is;
    struct search_node n[SEARCH_MAX_NODES];
    int count;
    const char *err; /* BAD text */
    int has_text;    /* header/body/text keys: per-message reads */
    int modseq;      /* a MODSEQ key: the response ends with (MODSEQ highest) */
    uint64_t maxmodseq;
    petrel_read *r;             /* the snapshot of the message being evaluated */
    struct imap_search_msg msg; /* its text, decoded once for all the text keys */
    uint32_t *hits;
    uint32_t nhits, cap;
};

static int search_key(struct search *s, uint32_t *i, uint32_t end, int depth);

static int node_new(struct search *s, enum search_op op)
{
    if (s->count >= SEARCH_MAX_NODES) {
        s->err = "Search too complex";
        return -1;
    }
    memset(&s->n[s->count], 0, sizeof(s->n[0]));
    s->n[s->count].op = op;
    s->n[s->count].next = -1;
    s->n[s->count].a = s->n[s->count].b = -1;
    return s->count++;
}

/* "1-Feb-1994" -> days since the epoch; -1 when malformed. */
static int64_t search_day(const char *str, size_t len)
{
    int64_t t;
    char buf[40];
    if (len < 10 || len > 11) return -1;
    int w = snprintf(buf, sizeof(buf), "%.*s 00:00:00 +0000", (int)len, str);
    if (w < 0 || imap_date_time_parse(buf, (size_t)w, &t)) return -1;
    return t / 86400;
}

/* Keys until end (an AND list); returns the AND node. */
static int search_list(struct search *s, uint32_t *i, uint32_t end, int depth)
{
    int and = node_new(s, S_AND), last = -1;
    if (and < 0) return -1;
    while (*i < end) {
        int k = search_key(s, i, end, depth + 1);
        if (k < 0) return -1;
        if (last < 0)
            s->n[and].a = k;
        else
            s->n[last].next = k;
        last = k;
    }
    if (last < 0) {
        s->err = "Empty search";
        return -1;
    }
    return and;
}

static const struct {
    const char *name;
    enum search_op op;
    uint32_t flag;
} search_simple[] = {
    {"ALL", S_ALL, 0},
    {"ANSWERED", S_FLAG, PETREL_F_ANSWERED},
    {"UNANSWERED", S_NOFLAG, PETREL_F_ANSWERED},
    {"DELETED", S_FLAG, PETREL_F_DELETED},
    {"UNDELETED", S_NOFLAG, PETREL_F_DELETED},
    {"DRAFT", S_FLAG, PETREL_F_DRAFT},
    {"UNDRAFT", S_NOFLAG, PETREL_F_DRAFT},
    {"FLAGGED", S_FLAG, PETREL_F_FLAGGED},
    {"UNFLAGGED", S_NOFLAG, PETREL_F_FLAGGED},
    {"SEEN", S_FLAG, PETREL_F_SEEN},
    {"UNSEEN", S_NOFLAG, PETREL_F_SEEN},
    {"RECENT", S_RECENT, 0},
    {"NEW", S_NEW, 0},
    {"OLD", S_OLD, 0},
};

static const char *const search_fields[] = {"BCC", "CC", "FROM", "SUBJECT", "TO"};

/* FROM x, HEADER name x, BODY x, TEXT x */
static int search_text_key(struct search *s, const char *w, uint32_t *i, uint32_t end)
{
    struct imap_parser *p = s->is->p;
    enum search_op op = S_HEADER;
    const char *field = NULL;
    for (size_t k = 0; k < sizeof(search_fields) / sizeof(search_fields[0]); k++)
        if (strcasecmp(w, search_fields[k]) == 0) field = search_fields[k];
    if (!field && strcasecmp(w, "HEADER") == 0) {
        if (*i >= end || !imap_arg_is_string(&p->args[*i]) || p->args[*i].len == 0 ||
            p->args[*i].len > 100)
            return -2;
        field = imap_arg_str(p, &p->args[(*i)++]);
    } else if (!field) {
        if (strcasecmp(w, "BODY") == 0)
            op = S_BODY;
        else if (strcasecmp(w, "TEXT") == 0)
            op = S_TEXT;
        else
            return -3; /* not a text key */
    }
    if (*i >= end || !imap_arg_is_string(&p->args[*i])) return -2;
    int n = node_new(s, op);
    if (n < 0) return -1;
    s->n[n].field = field;
    s->n[n].kw = imap_arg_str(p, &p->args[*i]);
    s->n[n].kwlen = p->args[(*i)++].len;
    s->n[n].fold = malloc(IMAP_FOLD_MAX(s->n[n].kwlen) + 1);
    if (!s->n[n].fold) {
        s->err = "Out of memory";
        return -1;
    }
    s->n[n].foldlen = imap_fold(IMAP_CS_UTF8, s->n[n].kw, s->n[n].kwlen, s->n[n].fold);
    s->has_text = 1;
    return n;
}

static int search_key(struct search *s, uint32_t *i, uint32_t end, int depth)
{
    struct imap_parser *p = s->is->p;
    const struct imap_arg *a = &p->args[*i];
    if (depth > SEARCH_MAX_DEPTH) {
        s->err = "Search nested too deep";
        return -1;
    }
    if (a->type == IMAP_ARG_LIST) {
        uint32_t j = *i + 1;
        *i = a->end;
        return search_list(s, &j, a->end, depth);
    }
    if (a->type != IMAP_ARG_ATOM) {
        s->err = "Invalid search key";
        return -1;
    }
    const char *w = imap_arg_str(p, a);
    (*i)++;
    for (size_t k = 0; k < sizeof(search_simple) / sizeof(search_simple[0]); k++) {
        if (strcasecmp(w, search_simple[k].name) == 0) {
            enum search_op op = search_simple[k].op;
            if (s->is->rev2 && (op == S_RECENT || op == S_NEW || op == S_OLD)) {
                s->err = "RECENT, NEW and OLD are not IMAP4rev2 search keys"; /* RFC 9051 */
                return -1;
            }
            int n = node_new(s, search_simple[k].op);
            if (n >= 0) s->n[n].flag = search_simple[k].flag;
            return n;
        }
    }
    if (strcasecmp(w, "NOT") == 0 || strcasecmp(w, "OR") == 0) {
        int n = node_new(s, w[0] == 'N' || w[0] == 'n' ? S_NOT : S_OR);
        if (n < 0 || *i >= end || (s->n[n].a = search_key(s, i, end, depth + 1)) < 0) goto need_arg;
        if (s->n[n].op == S_OR && (*i >= end || (s->n[n].b = search_key(s, i, end, depth + 1)) < 0))
            goto need_arg;
        return n;
    }
    int tn = search_text_key(s, w, i, end);
    if (tn == -2) goto need_arg;
    if (tn != -3) return tn;
    if (strcasecmp(w, "MODSEQ") == 0) {
        /* MODSEQ ["entry-name" entry-type] n (RFC 7162 3.4); per-flag entries are not kept,
         * so the entry is accepted and ignored: the message's modseq is compared */
        if (*i + 2 < end && p->args[*i].type == IMAP_ARG_QUOTED &&
            p->args[*i + 1].type == IMAP_ARG_ATOM)
            *i += 2;
        if (*i >= end || p->args[*i].type != IMAP_ARG_ATOM) goto need_arg;
        const char *vs = imap_arg_str(p, &p->args[(*i)++]);
        char *e;
        unsigned long long x = strtoull(vs, &e, 10);
        int n;
        if (*e || !*vs || vs[0] == '-' || (n = node_new(s, S_MODSEQ)) < 0) goto need_arg;
        s->n[n].num = x;
        s->modseq = 1;
        imap_condstore_enable(s->is);
        return n;
    }
    int uid = strcasecmp(w, "UID") == 0;
    if (!uid && ((w[0] >= '0' && w[0] <= '9') || w[0] == '*' || strcmp(w, "$") == 0)) {
        (*i)--; /* a sequence set */
    } else if (*i >= end || !imap_arg_is_string(&p->args[*i])) {
        goto need_arg;
    }
    const struct imap_arg *v = &p->args[*i];
    const char *vs = imap_arg_str(p, v);
    (*i)++;
    int n;
    if (uid || vs == w) {
        if ((n = node_new(s, S_SET)) < 0) return -1;
        if (imap_seqset_resolve(s->is, v, uid, &s->n[n].ranges, &s->n[n].nranges)) {
            s->err = "Invalid sequence set";
            return -1;
        }
        return n;
    }
    if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
        if ((n = node_new(s, w[0] == 'K' || w[0] == 'k' ? S_KEYWORD : S_UNKEYWORD)) >= 0)
            s->n[n].kw = vs;
        return n;
    }
    if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
        char *e;
        unsigned long long x = strtoull(vs, &e, 10);
        if (*e || !*vs || vs[0] == '-' ||
            (n = node_new(s, w[0] == 'L' || w[0] == 'l' ? S_LARGER : S_SMALLER)) < 0)
            goto need_arg;
        s->n[n].num = x;
        return n;
    }
    enum search_op dop = strcasecmp(w, "BEFORE") == 0       ? S_BEFORE
                         : strcasecmp(w, "ON") == 0         ? S_ON
                         : strcasecmp(w, "SINCE") == 0      ? S_SINCE
                         : strcasecmp(w, "SENTBEFORE") == 0 ? S_SENTBEFORE
                         : strcasecmp(w, "SENTON") == 0     ? S_SENTON
                         : strcasecmp(w, "SENTSINCE") == 0  ? S_SENTSINCE
                                                            : S_ALL;
    int64_t day = search_day(vs, v->len);
    if (dop == S_ALL) {
        s->err = "Unknown search key";
        return -1;
    }
    if (day < 0 || (n = node_new(s, dop)) < 0) goto need_arg;
    s->n[n].num = (uint64_t)day;
    if (dop == S_SENTBEFORE || dop == S_SENTON || dop == S_SENTSINCE)
        s->has_text = 1; /* the Date: header is read per message */
    return n;
need_arg:
    if (!s->err) s->err = "Missing or invalid search argument";
    return -1;
}

static int in_ranges(const struct search_node *n, uint32_t idx)
{
    for (size_t k = 0; k < n->nranges; k++)
        if (idx >= n->ranges[k].lo && idx <= n->ranges[k].hi) return 1;
    return 0;
}

static int has_keyword(const struct petrel_msg_info *m, const char *kw)
{
    const char *k = m->keywords;
    for (unsigned i = 0; k && i < m->nkeywords; i++, k += strlen(k) + 1)
        if (strcasecmp(k, kw) == 0) return 1;
    return 0;
}

/* The day of the message's Date: header; -1 when it has none that parses (no SENT* match). */
static int64_t search_sent_day(const struct search *s, uint32_t uid)
{
    struct petrel_view v;
    uint64_t hoff, hlen;
    uint32_t mb = s->is->sel.id;
    const char *names[1] = {"Date"}, *f, *colon;
    size_t fn;
    char *tmp = NULL;
    int64_t day = -1;
    if (imap_host->msg_view(s->r, mb, uid, &v) ||
        imap_host->msg_section(s->r, mb, uid, "", 0, PETREL_SECTION_HEADER, &hoff, &hlen, NULL))
        return -1;
    const char *h = imap_view_bytes(&v, hoff, hlen, &tmp);
    if (h && imap_host->header_fields(s->r, h, (size_t)hlen, names, 1, 0, &f, &fn) == 0 && fn &&
        (colon = memchr(f, ':', fn)) != NULL &&
        imap_rfc5322_day(colon + 1, fn - (size_t)(colon + 1 - f), &day))
        day = -1;
    free(tmp);
    return day;
}

static int search_text(struct search *s, const struct search_node *n)
{
    if (n->op == S_HEADER) return imap_search_msg_header(&s->msg, n->field, n->fold, n->foldlen);
    return imap_search_msg_text(&s->msg, n->op == S_TEXT, n->fold, n->foldlen);
}

static int search_eval(struct search *s, int ni, const struct petrel_msg_info *m, uint32_t idx)
{
    const struct search_node *n = &s->n[ni];
    int64_t day = m->internal_date >= 0 ? m->internal_date / 86400 : -1;
    int recent = m->uid >= s->is->sel.first_recent_uid;
    switch (n->op) {
    case S_ALL:
        return 1;
    case S_FLAG:
        return (m->flags & n->flag) != 0;
    case S_NOFLAG:
        return (m->flags & n->flag) == 0;
    case S_KEYWORD:
        return has_keyword(m, n->kw);
    case S_UNKEYWORD:
        return !has_keyword(m, n->kw);
    case S_LARGER:
        return m->size > n->num;
    case S_SMALLER:
        return m->size < n->num;
    case S_BEFORE:
        return day < (int64_t)n->num;
    case S_ON:
        return day == (int64_t)n->num;
    case S_SINCE:
        return day >= (int64_t)n->num;
    case S_SET:
        return in_ranges(n, idx);
    case S_NOT:
        return !search_eval(s, n->a, m, idx);
    case S_OR:
        return search_eval(s, n->a, m, idx) || search_eval(s, n->b, m, idx);
    case S_RECENT:
        return recent;
    case S_NEW:
        return recent && !(m->flags & PETREL_F_SEEN);
    case S_OLD:
        return !recent;
    case S_MODSEQ:
        return m->modseq >= n->num;
    case S_SENTBEFORE:
    case S_SENTON:
    case S_SENTSINCE: {
        int64_t sd = search_sent_day(s, m->uid);
        if (sd < 0) return 0;
        return n->op == S_SENTBEFORE ? sd < (int64_t)n->num
               : n->op == S_SENTON   ? sd == (int64_t)n->num
                                     : sd >= (int64_t)n->num;
    }
    case S_HEADER:
    case S_BODY:
    case S_TEXT:
        return search_text(s, n);
    case S_AND:
        for (int k = n->a; k >= 0; k = s->n[k].next)
            if (!search_eval(s, k, m, idx)) return 0;
        return 1;
    }
    return 0;
}

struct search_run {
    struct search *s;
    int root;
    int uid_mode;
    int failed;
};

static int search_cb(const struct petrel_msg_info *m, void *arg)
{
    struct search_run *r = arg;
    struct search *s = r->s;
    const struct imap_selected *sel = &s->is->sel;
    uint32_t seq = imap_uidmap_seq_of(&sel->map, m->uid);
    if (!seq) return 0; /* not announced to this session yet */
    if (!search_eval(s, r->root, m, seq - 1)) return 0;
    if (s->nhits == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        uint32_t *nv = realloc(s->hits, cap * sizeof(*nv));
        if (!nv) {
            r->failed = 1;
            return 1;
        }
        s->hits = nv;
        s->cap = cap;
    }
    s->hits[s->nhits++] = r->uid_mode ? m->uid : seq;
    if (m->modseq > s->maxmodseq) s->maxmodseq = m->modseq;
    return 0;
}

static void search_free(struct search *s)
{
    for (int k = 0; k < s->count; k++) {
        free(s->n[k].ranges);
        free(s->n[k].fold);
    }
    free(s->hits);
    free(s);
}

/*
 * RFC 4731 RETURN (...): the option bits. An empty list means ALL; SAVE
 * keeps the result for "$" (RFC 5182). 0, or -1 for a bad option.
 */
static int search_return_parse(struct imap_session *is, const struct imap_arg *l, unsigned *ret_r)
{
    struct imap_parser *p = is->p;
    if (l->type != IMAP_ARG_LIST) return -1;
    unsigned ret = 0;
    uint32_t first = (uint32_t)(l - p->args) + 1;
    for (uint32_t k = first; k < l->end; k++) {
        const struct imap_arg *a = &p->args[k];
        if (imap_arg_is_atom(p, a, "MIN"))
            ret |= SEARCH_RET_MIN;
        else if (imap_arg_is_atom(p, a, "MAX"))
            ret |= SEARCH_RET_MAX;
        else if (imap_arg_is_atom(p, a, "COUNT"))
            ret |= SEARCH_RET_COUNT;
        else if (imap_arg_is_atom(p, a, "ALL"))
            ret |= SEARCH_RET_ALL;
        else if (imap_arg_is_atom(p, a, "SAVE"))
            ret |= SEARCH_RET_SAVE;
        else
            return -1;
    }
    *ret_r = ret ? ret : SEARCH_RET_ALL;
    return 0;
}

/*
 * "* ESEARCH (TAG "t") [UID] MIN a MAX b COUNT n ALL set [MODSEQ m]" or
 * "* SEARCH n n .. [(MODSEQ m)]": the start of the line here, the numbers and
 * the tagged OK through search_out.c (streamed). Takes s->hits.
 */
static void search_respond(struct search *s, unsigned ret, int uid_mode)
{
    struct imap_session *is = s->is;
    char tail[64];
    int esearch = (ret & ~SEARCH_RET_SAVE) != 0, list = 0;
    if (s->modseq && s->nhits)
        snprintf(tail, sizeof(tail), esearch ? " MODSEQ %llu\r\n" : " (MODSEQ %llu)\r\n",
                 (unsigned long long)s->maxmodseq);
    else
        snprintf(tail, sizeof(tail), "\r\n");
    if (esearch) {
        imap_host->writef(is->s, "* ESEARCH (TAG \"%s\")%s", is->p->tag, uid_mode ? " UID" : "");
        if (s->nhits && (ret & SEARCH_RET_MIN)) imap_host->writef(is->s, " MIN %u", s->hits[0]);
        if (s->nhits && (ret & SEARCH_RET_MAX))
            imap_host->writef(is->s, " MAX %u", s->hits[s->nhits - 1]);
        if (ret & SEARCH_RET_COUNT) imap_host->writef(is->s, " COUNT %u", s->nhits);
        if (s->nhits && (ret & SEARCH_RET_ALL)) {
            imap_host->write(is->s, " ALL ", 5);
            list = 1;
        }
    } else if (!ret) {
        imap_host->write(is->s, "* SEARCH", 8);
        list = 1;
    } else { /* SAVE alone: no ESEARCH response (RFC 5182 2.1) */
        tail[0] = '\0';
    }
    uint32_t *hits = s->hits, n = s->nhits;
    if (!list) n = 0;
    s->hits = NULL;
    s->nhits = 0;
    imap_search_out_start(is, hits, n, esearch, uid_mode, tail);
}

/*
 * RFC 5182: the saved result ("$") becomes this search's UIDs: all hits, or
 * only MIN and/or MAX when those come without ALL or COUNT. 0 or -1 (no memory).
 */
static int search_save(struct search *s, unsigned ret, int uid_mode)
{
    struct imap_selected *sel = &s->is->sel;
    free(sel->saved);
    sel->saved = NULL;
    sel->nsaved = 0;
    int minmax =
        (ret & (SEARCH_RET_MIN | SEARCH_RET_MAX)) && !(ret & (SEARCH_RET_ALL | SEARCH_RET_COUNT));
    if (!s->nhits) return 0;
    sel->saved = malloc(s->nhits * sizeof(uint32_t));
    if (!sel->saved) return -1;
    for (uint32_t k = 0; k < s->nhits; k++) {
        if (minmax &&
            !((k == 0 && (ret & SEARCH_RET_MIN)) || (k == s->nhits - 1 && (ret & SEARCH_RET_MAX))))
            continue;
        uint32_t h = s->hits[k];
        sel->saved[sel->nsaved++] = uid_mode ? h : imap_uidmap_uid_at(&sel->map, h);
    }
    return 0;
}

/* A failed SEARCH ... RETURN (SAVE) leaves the saved result empty (RFC 5182 2.1). */
static void search_save_clear(struct imap_session *is)
{
    free(is->sel.saved);
    is->sel.saved = NULL;
    is->sel.nsaved = 0;
}

void imap_search_start(struct imap_session *is, int uid_mode, uint32_t a0)
{
    struct imap_parser *p = is->p;
    struct search *s = calloc(1, sizeof(*s));
    if (!s) {
        imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        return;
    }
    s->is = is;
    uint32_t i = a0;
    unsigned ret = 0;
    if (i + 1 < p->nargs && imap_arg_is_atom(p, &p->args[i], "RETURN")) {
        if (search_return_parse(is, &p->args[i + 1], &ret) < 0) {
            search_free(s);
            imap_reply_bad(is, "RETURN takes a list of MIN MAX COUNT ALL SAVE");
            return;
        }
        i = p->args[i + 1].end;
    }
    if (is->rev2 && !ret) ret = SEARCH_RET_ALL; /* RFC 9051 has no * SEARCH response */
    if (i + 1 < p->nargs && imap_arg_is_atom(p, &p->args[i], "CHARSET")) {
        const char *cs = imap_arg_str(p, &p->args[i + 1]);
        if (is->utf8_accept) { /* RFC 6855 3 (RFC 9755): conflicting charset labels */
            if (ret & SEARCH_RET_SAVE) search_save_clear(is);
            search_free(s);
            imap_reply_bad(is, "CHARSET is not allowed after ENABLE UTF8=ACCEPT");
            return;
        }
        if (!cs || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)) {
            if (ret & SEARCH_RET_SAVE) search_save_clear(is);
            search_free(s);
            imap_reply(is, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
            return;
        }
        i += 2;
    }
    struct search_run run = {s, -1, uid_mode, 0};
    run.root = i < p->nargs ? search_list(s, &i, p->nargs, 0) : -1;
    /* "$" among the keys was resolved above with the previous result */
    if (ret & SEARCH_RET_SAVE) search_save_clear(is);
    if (run.root < 0) {
        imap_reply_bad(is, s->err ? s->err : "SEARCH needs keys");
        search_free(s);
        return;
    }
    int rc = 0;
    if (!s->has_text) {
        petrel_read *r = imap_host->read_begin(is->s);
        rc = r ? imap_host->msg_list(r, is->sel.id, 1, UINT32_MAX, search_cb, &run) : PETREL_EIO;
        imap_host->read_end(&r);
    }
    /* text keys: one short snapshot per message (decoded text is kept until read_end) */
    for (uint32_t k = 0; s->has_text && !rc && !run.failed && k < imap_uidmap_count(&is->sel.map);
         k++) {
        uint32_t uid = imap_uidmap_uid_at(&is->sel.map, k + 1);
        s->r = imap_host->read_begin(is->s);
        struct petrel_msg_info m = {.struct_size = sizeof(m)};
        int grc = s->r ? imap_host->msg_get(s->r, is->sel.id, uid, &m) : PETREL_EIO;
        imap_search_msg_init(&s->msg, s->r, is->sel.id, uid);
        if (grc == 0)
            search_cb(&m, &run);
        else if (grc != PETREL_ENOTFOUND)
            rc = grc;
        imap_search_msg_clear(&s->msg);
        imap_host->read_end(&s->r);
    }
    if ((rc && rc != 1) || run.failed ||
        ((ret & SEARCH_RET_SAVE) && search_save(s, ret, uid_mode))) {
        search_free(s);
        imap_reply(is, "NO", "[UNAVAILABLE] Search failed");
        return;
    }
    search_respond(s, ret, uid_mode);
    search_free(s);
}

void imap_cmd_search(struct imap_session *is)
{
    imap_search_start(is, 0, 0);
}
