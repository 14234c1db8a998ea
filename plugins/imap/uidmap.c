/*
 * uidmap.c - the selected mailbox's UID map as runs of consecutive UIDs
 * (declarations and ownership in imap_int.h). Pure: no host calls, so the
 * unit test compiles it in directly.
 */
#include "imap_int.h"

#include <stdlib.h>
#include <string.h>

/* Room for at least want runs. 0 or PETREL_ENOMEM (m unchanged). */
static int uidmap_reserve(struct imap_uidmap *m, uint32_t want)
{
    if (want <= m->cap) return 0;
    uint32_t cap = m->cap ? m->cap : 1;
    while (cap < want)
        cap = cap > UINT32_MAX / 2 ? want : cap * 2;
    struct imap_uidrun *nv = realloc(m->runs, (size_t)cap * sizeof(*nv));
    if (!nv) return PETREL_ENOMEM;
    m->runs = nv;
    m->cap = cap;
    return 0;
}

void imap_uidmap_clear(struct imap_uidmap *m)
{
    free(m->runs);
    memset(m, 0, sizeof(*m));
}

int imap_uidmap_build(struct imap_uidmap *m, const uint32_t *uids, uint32_t n)
{
    imap_uidmap_clear(m);
    uint32_t nruns = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (uids[i] == 0 || (i && uids[i] <= uids[i - 1])) return PETREL_EINVAL;
        if (!i || uids[i] != uids[i - 1] + 1) nruns++;
    }
    if (nruns) { /* exactly: an idle session keeps no slack */
        m->runs = malloc((size_t)nruns * sizeof(*m->runs));
        if (!m->runs) return PETREL_ENOMEM;
        m->cap = nruns;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct imap_uidrun *last = m->nruns ? &m->runs[m->nruns - 1] : NULL;
        if (last && uids[i] == last->first + last->count) {
            last->count++;
        } else {
            m->runs[m->nruns].first = uids[i];
            m->runs[m->nruns].count = 1;
            m->runs[m->nruns++].start = i;
        }
    }
    m->count = n;
    return 0;
}

uint32_t imap_uidmap_count(const struct imap_uidmap *m)
{
    return m->count;
}

uint32_t imap_uidmap_last(const struct imap_uidmap *m)
{
    if (!m->nruns) return 0;
    const struct imap_uidrun *r = &m->runs[m->nruns - 1];
    return r->first + r->count - 1;
}

/* The run holding 0-based position idx (< count). */
static uint32_t run_of_idx(const struct imap_uidmap *m, uint32_t idx)
{
    uint32_t lo = 0, hi = m->nruns; /* the last run with start <= idx */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].start <= idx)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The number of runs whose first UID is <= uid. */
static uint32_t runs_upto(const struct imap_uidmap *m, uint32_t uid)
{
    uint32_t lo = 0, hi = m->nruns;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->runs[mid].first <= uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t imap_uidmap_uid_at(const struct imap_uidmap *m, uint32_t seq)
{
    if (seq == 0 || seq > m->count) return 0;
    const struct imap_uidrun *r = &m->runs[run_of_idx(m, seq - 1)];
    return r->first + (seq - 1 - r->start);
}

uint32_t imap_uidmap_seq_of(const struct imap_uidmap *m, uint32_t uid)
{
    uint32_t k = runs_upto(m, uid);
    if (k == 0) return 0;
    const struct imap_uidrun *r = &m->runs[k - 1];
    if (uid - r->first >= r->count) return 0;
    return r->start + (uid - r->first) + 1;
}

uint32_t imap_uidmap_lower_seq(const struct imap_uidmap *m, uint32_t uid)
{
    uint32_t k = runs_upto(m, uid);
    if (k == 0) return 1; /* every UID is >= uid (or the map is empty) */
    const struct imap_uidrun *r = &m->runs[k - 1];
    if (uid - r->first < r->count) return r->start + (uid - r->first) + 1;
    return r->start + r->count + 1; /* the first UID of the next run, or count + 1 */
}

int imap_uidmap_append(struct imap_uidmap *m, uint32_t uid)
{
    if (uid == 0 || uid <= imap_uidmap_last(m) || m->count == UINT32_MAX) return PETREL_EINVAL;
    if (m->nruns && uid == imap_uidmap_last(m) + 1) {
        m->runs[m->nruns - 1].count++;
    } else {
        if (m->nruns == UINT32_MAX || uidmap_reserve(m, m->nruns + 1)) return PETREL_ENOMEM;
        m->runs[m->nruns].first = uid;
        m->runs[m->nruns].count = 1;
        m->runs[m->nruns++].start = m->count;
    }
    m->count++;
    return 0;
}

int imap_uidmap_remove(struct imap_uidmap *m, uint32_t seq)
{
    if (seq == 0 || seq > m->count) return PETREL_ENOTFOUND;
    uint32_t k = run_of_idx(m, seq - 1);
    struct imap_uidrun *r = &m->runs[k];
    uint32_t off = seq - 1 - r->start;
    if (r->count == 1) { /* the run goes */
        memmove(r, r + 1, (size_t)(m->nruns - k - 1) * sizeof(*r));
        m->nruns--;
    } else if (off == 0) {
        r->first++;
        r->count--;
        k++;
    } else if (off == r->count - 1) {
        r->count--;
        k++;
    } else { /* split: [first, first+off) and [first+off+1, end) */
        if (m->nruns == UINT32_MAX || uidmap_reserve(m, m->nruns + 1)) return PETREL_ENOMEM;
        r = &m->runs[k];
        memmove(r + 2, r + 1, (size_t)(m->nruns - k - 1) * sizeof(*r));
        m->nruns++;
        r[1].first = r->first + off + 1;
        r[1].count = r->count - off - 1;
        r[1].start = r->start + off + 1; /* decremented with the rest below */
        r->count = off;
        k++;
    }
    for (uint32_t j = k; j < m->nruns; j++)
        m->runs[j].start--;
    m->count--;
    if (m->nruns == 0) imap_uidmap_clear(m); /* an emptied map holds no memory */
    return 0;
}

void imap_uidmap_it_init(struct imap_uidmap_it *it, const struct imap_uidmap *m, uint32_t seq)
{
    it->m = m;
    if (seq == 0) seq = 1;
    if (seq > m->count) {
        it->run = m->nruns;
        it->off = 0;
        return;
    }
    it->run = run_of_idx(m, seq - 1);
    it->off = seq - 1 - m->runs[it->run].start;
}

int imap_uidmap_it_next(struct imap_uidmap_it *it, uint32_t *seq_r, uint32_t *uid_r)
{
    const struct imap_uidmap *m = it->m;
    if (it->run >= m->nruns) return 0;
    const struct imap_uidrun *r = &m->runs[it->run];
    *seq_r = r->start + it->off + 1;
    *uid_r = r->first + it->off;
    if (++it->off == r->count) {
        it->run++;
        it->off = 0;
    }
    return 1;
}
