/*
 * setfmt.c - a UID set cut into pieces for responses that may be split
 * (several "* VANISHED (EARLIER) set" lines, RFC 7162 3.2.10). Pure: no host
 * calls, unit-tested in tests/unit/test_imap_setfmt.c.
 */
#include "imap_int.h"

#include <stdio.h>

size_t imap_set_format(const struct imap_range *r, size_t n, size_t *pos, char *buf, size_t cap)
{
    size_t len = 0;
    while (*pos < n && cap - len >= IMAP_SETFMT_ELEM_MAX) {
        const struct imap_range *e = &r[*pos];
        const char *sep = len ? "," : "";
        int w = e->lo == e->hi ? snprintf(buf + len, cap - len, "%s%u", sep, e->lo)
                               : snprintf(buf + len, cap - len, "%s%u:%u", sep, e->lo, e->hi);
        if (w <= 0 || (size_t)w >= cap - len) break; /* cannot happen: ELEM_MAX is room enough */
        len += (size_t)w;
        (*pos)++;
    }
    return len;
}

size_t imap_ranges_from_uids(const uint32_t *uids, size_t n, struct imap_range *out)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m && out[m - 1].hi + 1 == uids[k] && uids[k] != 0)
            out[m - 1].hi = uids[k];
        else if (!m || uids[k] > out[m - 1].hi)
            out[m++] = (struct imap_range){uids[k], uids[k]};
    }
    return m;
}
