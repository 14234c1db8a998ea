/*
 * seqset.c - a sequence set or UID set of the command, resolved against the
 * session's UID map into sorted, merged ranges of map indices (0-based);
 * "$" is the saved SEARCH result (SEARCHRES, RFC 5182).
 */
#include "imap_int.h"

#include <stdlib.h>

/* The map index (0-based) of the first UID >= uid; the message count when none. */
static uint32_t idx_lower(const struct imap_selected *sel, uint32_t uid)
{
    return imap_uidmap_lower_seq(&sel->map, uid) - 1;
}

static int range_cmp(const void *a, const void *b)
{
    const struct imap_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int imap_set_parse_alloc(const char *s, size_t len, struct imap_range **r_r, size_t *n_r)
{
    size_t n = 0;
    *r_r = NULL;
    *n_r = 0;
    if (imap_seqset_parse(s, len, NULL, 0, &n)) return -1;
    struct imap_range *r = calloc(n ? n : 1, sizeof(*r));
    if (!r) return -2;
    if (imap_seqset_parse(s, len, r, n, &n)) {
        free(r);
        return -1;
    }
    *r_r = r;
    *n_r = n;
    return 0;
}

void imap_range_bounds(const struct imap_range *r, uint32_t star, uint32_t *lo_r, uint32_t *hi_r)
{
    uint32_t lo = r->lo == IMAP_SEQ_STAR ? star : r->lo;
    uint32_t hi = r->hi == IMAP_SEQ_STAR ? star : r->hi;
    *lo_r = lo < hi ? lo : hi;
    *hi_r = lo < hi ? hi : lo;
}

size_t imap_ranges_merge(struct imap_range *r, size_t n)
{
    qsort(r, n, sizeof(*r), range_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && (r[m - 1].hi == UINT32_MAX || r[i].lo <= r[m - 1].hi + 1)) {
            if (r[i].hi > r[m - 1].hi) r[m - 1].hi = r[i].hi;
        } else {
            r[m++] = r[i];
        }
    }
    return m;
}

/* "$" (RFC 5182): the saved UIDs that are still in the map, as merged ranges. */
static int seqset_saved(const struct imap_selected *sel, struct imap_range **ranges_r, size_t *n_r)
{
    struct imap_range *r = calloc(sel->nsaved ? sel->nsaved : 1, sizeof(*r));
    if (!r) return -2;
    size_t m = 0;
    for (uint32_t k = 0; k < sel->nsaved; k++) {
        uint32_t seq = imap_uidmap_seq_of(&sel->map, sel->saved[k]);
        if (!seq) continue; /* expunged */
        uint32_t i = seq - 1;
        if (m && r[m - 1].hi + 1 == i) {
            r[m - 1].hi = i;
        } else {
            r[m].lo = r[m].hi = i;
            m++;
        }
    }
    *ranges_r = r;
    *n_r = m;
    return 0;
}

int imap_seqset_resolve(struct imap_session *is, const struct imap_arg *a, int uid_mode,
                        struct imap_range **ranges_r, size_t *n_r)
{
    const struct imap_selected *sel = &is->sel;
    const char *s = imap_arg_str(is->p, a);
    size_t n = 0, out = 0;
    *ranges_r = NULL;
    *n_r = 0;
    if (a->type == IMAP_ARG_ATOM && a->len == 1 && s[0] == '$')
        return seqset_saved(sel, ranges_r, n_r);
    if (a->type != IMAP_ARG_ATOM) return -1;
    struct imap_range *r;
    int rc = imap_set_parse_alloc(s, a->len, &r, &n);
    if (rc) return rc;
    uint32_t count = imap_uidmap_count(&sel->map);
    uint32_t star = uid_mode ? imap_uidmap_last(&sel->map) : count;
    for (size_t i = 0; i < n; i++) {
        uint32_t lo, hi;
        imap_range_bounds(&r[i], star, &lo, &hi);
        if (!uid_mode) {
            if (lo == 0 || hi > count) {
                free(r);
                return -1; /* no such message number */
            }
            r[out].lo = lo - 1;
            r[out++].hi = hi - 1;
            continue;
        }
        if (hi == 0) continue; /* '*' of an empty mailbox */
        uint32_t ilo = idx_lower(sel, lo), ihi = idx_lower(sel, hi);
        if (imap_uidmap_uid_at(&sel->map, ihi + 1) == hi) ihi++;
        if (ilo < ihi) {
            r[out].lo = ilo;
            r[out++].hi = ihi - 1;
        }
    }
    *ranges_r = r;
    *n_r = imap_ranges_merge(r, out);
    return 0;
}
