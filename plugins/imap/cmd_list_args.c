/*
 * cmd_list_args.c - the arguments of LIST (RFC 3501, LIST-EXTENDED RFC 5258,
 * LIST-STATUS RFC 5819):
 *   LIST [(selection-opts)] reference (pattern | (pattern ...)) [RETURN (return-opts)]
 * selection: SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE (RFC 6154);
 * return: SUBSCRIBED CHILDREN SPECIAL-USE STATUS (items).
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

int imap_list_pattern(struct imap_session *is, const struct imap_arg *ref,
                      const struct imap_arg *pat, char *out, size_t cap)
{
    struct imap_parser *p = is->p;
    const char *rs = imap_arg_str(p, ref), *ps = imap_arg_str(p, pat);
    char joined[IMAP_MAX_NAME * 2 + 2];
    size_t rn = ref->len, pn = pat->len;
    if (rn + pn >= sizeof(joined) || strlen(rs) != rn || strlen(ps) != pn) return -1;
    memcpy(joined, rs, rn);
    memcpy(joined + rn, ps, pn + 1);
    size_t wild = 0;
    for (size_t i = 0; joined[i]; i++)
        wild += joined[i] == '*' || joined[i] == '%';
    if (wild > IMAP_LIST_MAX_WILDCARDS) return -1;
    if (imap_utf8_names(is)) {
        if (rn + pn >= cap) return -1;
        memcpy(out, joined, rn + pn + 1);
        return 0;
    }
    return imap_mutf7_to_utf8(joined, rn + pn, out, cap);
}

void imap_list_req_free(struct list_req *rq)
{
    for (size_t k = 0; k < rq->npatterns; k++)
        free(rq->patterns[k]);
    rq->npatterns = 0;
}

/* (SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE) at args[i]: 0 or -1. */
static int list_sel_parse(struct imap_parser *p, uint32_t i, unsigned *sel_r)
{
    unsigned sel = 0;
    for (uint32_t k = i + 1; k < p->args[i].end; k++) {
        const struct imap_arg *a = &p->args[k];
        if (imap_arg_is_atom(p, a, "SUBSCRIBED"))
            sel |= LIST_SEL_SUBSCRIBED;
        else if (imap_arg_is_atom(p, a, "REMOTE"))
            sel |= LIST_SEL_REMOTE;
        else if (imap_arg_is_atom(p, a, "RECURSIVEMATCH"))
            sel |= LIST_SEL_RECURSIVE;
        else if (imap_arg_is_atom(p, a, "SPECIAL-USE"))
            sel |= LIST_SEL_SPECIALUSE;
        else
            return -1;
    }
    /* RFC 5258 3: RECURSIVEMATCH needs a selection option it can recurse on:
     * SUBSCRIBED or SPECIAL-USE (CHILDINFO names them); REMOTE alone is not one */
    if (sel & LIST_SEL_RECURSIVE && !(sel & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIALUSE))) return -1;
    *sel_r = sel;
    return 0;
}

/* RETURN (...) at args[i]: the list ends the command. 0 or -1. */
static int list_ret_parse(struct imap_session *is, uint32_t i, struct list_req *rq)
{
    struct imap_parser *p = is->p;
    if (i + 1 >= p->nargs || !imap_arg_is_atom(p, &p->args[i], "RETURN") ||
        p->args[i + 1].type != IMAP_ARG_LIST || p->args[i + 1].end != p->nargs)
        return -1;
    for (uint32_t k = i + 2; k < p->nargs; k++) {
        const struct imap_arg *a = &p->args[k];
        if (imap_arg_is_atom(p, a, "CHILDREN") || imap_arg_is_atom(p, a, "SPECIAL-USE"))
            continue; /* those attributes are always sent */
        if (imap_arg_is_atom(p, a, "SUBSCRIBED")) {
            rq->ret |= LIST_RET_SUBSCRIBED;
            continue;
        }
        if (!imap_arg_is_atom(p, a, "STATUS") || k + 1 >= p->nargs ||
            p->args[k + 1].type != IMAP_ARG_LIST || rq->st_end)
            return -1;
        rq->st_first = k + 2;
        rq->st_end = p->args[k + 1].end;
        if (imap_status_items_check(is, rq->st_first, rq->st_end)) return -1;
        k = rq->st_end - 1;
    }
    return 0;
}

/* Pattern args [first, end): converted, the ones that cannot match left out. 0 or -1. */
static int list_patterns(struct imap_session *is, uint32_t ref, uint32_t first, uint32_t end,
                         struct list_req *rq)
{
    struct imap_parser *p = is->p;
    char pattern[IMAP_MAX_NAME * 3];
    if (first >= end || end - first > IMAP_LIST_MAX_PATTERNS) return -1;
    for (uint32_t k = first; k < end; k++)
        if (!imap_arg_is_string(&p->args[k])) return -1;
    for (uint32_t k = first; k < end; k++) {
        if (imap_list_pattern(is, &p->args[ref], &p->args[k], pattern, sizeof(pattern))) continue;
        rq->patterns[rq->npatterns] = strdup(pattern);
        if (!rq->patterns[rq->npatterns]) return -2;
        rq->npatterns++;
    }
    return 0;
}

int imap_list_args(struct imap_session *is, struct list_req *rq)
{
    struct imap_parser *p = is->p;
    memset(rq, 0, sizeof(*rq));
    uint32_t i = 0;
    int ok = p->nargs >= 2, extended = 0;
    if (ok && p->args[0].type == IMAP_ARG_LIST) {
        ok = list_sel_parse(p, 0, &rq->sel) == 0;
        i = p->args[0].end;
        extended = 1;
    }
    ok = ok && i + 1 < p->nargs && imap_arg_is_string(&p->args[i]);
    uint32_t ref = i, pfirst = i + 1, pend = i + 2;
    if (ok && p->args[pfirst].type == IMAP_ARG_LIST) {
        pend = p->args[pfirst].end;
        pfirst++;
        extended = 1;
    }
    if (ok && pend < p->nargs) {
        ok = list_ret_parse(is, pend, rq) == 0;
        extended = 1;
    }
    int rc = ok ? list_patterns(is, ref, pfirst, pend, rq) : -1;
    if (rc) {
        imap_list_req_free(rq);
        if (rc == -2)
            imap_reply(is, "NO", "[SERVERBUG] Out of memory");
        else
            imap_reply_bad(is, "LIST [(options)] reference pattern(s) [RETURN (options)]");
        return -1;
    }
    /* LIST "" "" asks for the delimiter (RFC 3501 6.3.8) */
    rq->root = !extended && p->args[pfirst].len == 0;
    return 0;
}
