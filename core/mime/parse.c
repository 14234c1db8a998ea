/*
 * parse.c - the MIME structure of a message: one mime_part per entity, in
 * preorder, with header/body offsets and line counts.
 *
 * Bounded: nesting by lim.max_depth (recursion depth too), entities by
 * lim.max_parts. Lenient: CRLF or bare LF; a missing close delimiter ends
 * the last part at the end of its parent; header lines without a colon are
 * kept in the header block; a bad or missing Content-Type is text/plain
 * (message/rfc822 inside multipart/digest).
 */
#include "mime/mime_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void mime_limits_default(struct mime_limits *lim_r)
{
    lim_r->max_depth = MIME_DEFAULT_MAX_DEPTH;
    lim_r->max_parts = MIME_DEFAULT_MAX_PARTS;
    lim_r->max_imap = MIME_DEFAULT_MAX_IMAP;
}

static size_t count_lf(const uint8_t *p, size_t n)
{
    size_t lines = 0;
    const uint8_t *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

static int part_new(struct mime_tree *t, uint32_t parent, uint32_t *idx_r)
{
    if (t->nparts >= t->lim.max_parts) return PETREL_ETOOBIG;
    if (t->nparts == t->cap) {
        uint32_t cap = t->cap > UINT32_MAX / 2 ? UINT32_MAX : t->cap ? t->cap * 2 : 8;
        if (cap > t->lim.max_parts) cap = t->lim.max_parts;
        struct mime_part *np = realloc(t->parts, (size_t)cap * sizeof(*np));
        if (!np) return PETREL_ENOMEM;
        t->parts = np;
        t->cap = cap;
    }
    uint32_t idx = t->nparts++;
    struct mime_part *p = &t->parts[idx];
    memset(p, 0, sizeof(*p));
    p->parent = parent;
    p->first_child = p->next_sibling = MIME_NONE;
    p->depth = parent == MIME_NONE ? 0 : (uint8_t)(t->parts[parent].depth + 1);
    *idx_r = idx;
    return 0;
}

/* Is the line at ls a delimiter "--boundary[--]" (transport padding allowed)?
 * 0 no, 1 delimiter, 2 close delimiter. */
static int delimiter_kind(const uint8_t *ls, const uint8_t *end, const uint8_t *b, size_t bl)
{
    if ((size_t)(end - ls) < bl + 2 || ls[0] != '-' || ls[1] != '-' || memcmp(ls + 2, b, bl) != 0)
        return 0;
    const uint8_t *p = ls + 2 + bl;
    int kind = 1;
    if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
        kind = 2;
        p += 2;
    }
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return (p == end || *p == '\n') ? kind : 0;
}

/* Finds the next delimiter line at or after pos; returns its start (or end). */
static const uint8_t *delimiter_find(const uint8_t *pos, const uint8_t *end, const uint8_t *b,
                                     size_t bl, int *kind_r)
{
    while (pos < end) {
        int k = delimiter_kind(pos, end, b, bl);
        if (k) {
            *kind_r = k;
            return pos;
        }
        const uint8_t *lf = memchr(pos, '\n', (size_t)(end - pos));
        pos = lf ? lf + 1 : end;
    }
    *kind_r = 0;
    return end;
}

static const uint8_t *line_after(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
    return lf ? lf + 1 : end;
}

static int parse_entity(struct mime_tree *t, uint32_t idx, size_t start, size_t end, bool digest);

static int link_child(struct mime_tree *t, uint32_t parent, uint32_t *last, uint32_t child)
{
    if (*last == MIME_NONE)
        t->parts[parent].first_child = child;
    else
        t->parts[*last].next_sibling = child;
    *last = child;
    t->parts[parent].nchildren++;
    return 0;
}

static int parse_multipart(struct mime_tree *t, uint32_t idx, const uint8_t *b, size_t bl,
                           bool digest)
{
    const uint8_t *base = t->msg;
    const uint8_t *body = base + t->parts[idx].body_off;
    const uint8_t *end = body + t->parts[idx].body_len;
    uint32_t last = MIME_NONE;
    int kind;
    const uint8_t *d = delimiter_find(body, end, b, bl, &kind);
    while (kind == 1) {
        const uint8_t *pstart = line_after(d, end);
        d = delimiter_find(pstart, end, b, bl, &kind);
        const uint8_t *pend = d;
        if (kind && pend > pstart && pend[-1] == '\n') pend--;
        if (kind && pend > pstart && pend[-1] == '\r') pend--;
        uint32_t child;
        int rc = part_new(t, idx, &child);
        if (rc == PETREL_ETOOBIG) return 0; /* the rest stays inside this body */
        if (rc) return rc;
        link_child(t, idx, &last, child);
        if ((rc = parse_entity(t, child, (size_t)(pstart - base), (size_t)(pend - base), digest)))
            return rc;
    }
    return 0;
}

struct entity_type {
    bool text, multipart, message, digest;
    const uint8_t *boundary;
    size_t boundary_len;
};

static int entity_type_get(const uint8_t *hdr, size_t hlen, bool digest, struct mime_params *ps,
                           struct entity_type *et)
{
    struct mime_field f;
    struct mime_ctype ct;
    memset(et, 0, sizeof(*et));
    if (mime_hdr_find(hdr, hlen, "Content-Type", 12, &f) != 0) {
        et->message = digest;
        et->text = !digest;
        return 0;
    }
    if (mime_ctype_parse(f.value, f.value_len, &ct) != 0) {
        et->text = true;
        return 0;
    }
    et->text = mime_bytes_ieq(ct.type, ct.type_len, "text");
    et->message = mime_bytes_ieq(ct.type, ct.type_len, "message") &&
                  mime_bytes_ieq(ct.subtype, ct.subtype_len, "rfc822");
    et->multipart = mime_bytes_ieq(ct.type, ct.type_len, "multipart");
    et->digest = et->multipart && mime_bytes_ieq(ct.subtype, ct.subtype_len, "digest");
    if (et->multipart) {
        int rc = mime_params_parse(ct.params_at, f.value + f.value_len, ps);
        if (rc) return rc;
        et->boundary = mime_params_get(ps, "boundary", &et->boundary_len);
    }
    return 0;
}

static int parse_entity(struct mime_tree *t, uint32_t idx, size_t start, size_t end, bool digest)
{
    struct mime_part *p = &t->parts[idx];
    const uint8_t *hdr = t->msg + start;
    p->hdr_off = start;
    p->hdr_len = mime_hdr_block_len(hdr, end - start);
    p->body_off = start + p->hdr_len;
    p->body_len = end - p->body_off;
    p->body_lines = count_lf(t->msg + p->body_off, p->body_len);
    struct mime_field f;
    if (mime_hdr_find(hdr, p->hdr_len, "Content-Transfer-Encoding", 25, &f) == 0)
        p->encoding = (uint8_t)mime_encoding_parse(f.value, f.value_len);
    struct mime_params ps;
    struct entity_type et;
    mime_params_init(&ps);
    int rc = entity_type_get(hdr, p->hdr_len, digest, &ps, &et);
    if (rc) goto out;
    p->flags = et.text ? MIME_PF_TEXT : 0;
    bool deep = (uint32_t)p->depth + 1 >= t->lim.max_depth;
    if ((et.multipart || et.message) && deep) {
        p->flags = MIME_PF_TEXT | MIME_PF_DEMOTED;
    } else if (et.multipart) {
        p->kind = MIME_PART_MULTIPART;
        if (et.boundary && et.boundary_len > 0)
            rc = parse_multipart(t, idx, et.boundary, et.boundary_len, et.digest);
    } else if (et.message) {
        uint32_t child;
        rc = part_new(t, idx, &child);
        if (rc == PETREL_ETOOBIG) {
            t->parts[idx].flags = MIME_PF_TEXT | MIME_PF_DEMOTED;
            rc = 0;
        } else if (rc == 0) {
            uint32_t last = MIME_NONE;
            t->parts[idx].kind = MIME_PART_MESSAGE;
            link_child(t, idx, &last, child);
            rc = parse_entity(t, child, t->parts[idx].body_off, end, false);
        }
    }
out:
    mime_params_free(&ps);
    return rc;
}

/* MIME_MF_8BIT and MIME_MF_NUL of n bytes, eight at a time (this runs on every delivery). */
static uint32_t bytes_flags(const uint8_t *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint32_t flags = 0;
    size_t i = 0;
    for (; i + 8 <= n && flags != (MIME_MF_8BIT | MIME_MF_NUL); i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & highs) flags |= MIME_MF_8BIT;
        if ((w - ones) & ~w & highs) flags |= MIME_MF_NUL; /* exact: some byte is 0 */
    }
    if (flags == (MIME_MF_8BIT | MIME_MF_NUL)) return flags;
    for (; i < n; i++) {
        if (p[i] >= 0x80)
            flags |= MIME_MF_8BIT;
        else if (p[i] == 0)
            flags |= MIME_MF_NUL;
    }
    return flags;
}

/* LFs not preceded by CR (the first byte counts as not preceded). */
static uint64_t count_bare_lf(const uint8_t *p, size_t n)
{
    uint64_t bare = 0;
    const uint8_t *q = p, *end = p + n;
    while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
        if (q == p || q[-1] != '\r') bare++;
        q++;
    }
    return bare;
}

static void facts_fill(struct mime_tree *t)
{
    struct mime_facts *f = &t->facts;
    const struct mime_part *r = &t->parts[0];
    memset(f, 0, sizeof(*f));
    f->size = t->len;
    f->hdr_len = r->hdr_len;
    f->hdr_lines = count_lf(t->msg, r->hdr_len);
    f->body_off = r->body_off;
    f->body_len = r->body_len;
    f->body_lines = r->body_lines;
    f->nparts = t->nparts;
    f->flags |= bytes_flags(t->msg, t->len);
    uint64_t bare = count_bare_lf(t->msg, t->len);
    if (bare) f->flags |= MIME_MF_BARELF;
    f->virtual_size = t->len + bare;
}

int mime_parse(const uint8_t *msg, size_t len, const struct mime_limits *lim,
               struct mime_tree **tree_r)
{
    static const uint8_t empty[1];
    if (!msg && len) return PETREL_EINVAL;
    struct mime_tree *t = calloc(1, sizeof(*t));
    if (!t) return PETREL_ENOMEM;
    t->msg = msg ? msg : empty;
    t->len = len;
    if (lim)
        t->lim = *lim;
    else
        mime_limits_default(&t->lim);
    if (t->lim.max_parts == 0) t->lim.max_parts = 1;
    if (t->lim.max_depth == 0 || t->lim.max_depth > 255)
        t->lim.max_depth = t->lim.max_depth ? 255 : 1;
    uint32_t root;
    int rc = part_new(t, MIME_NONE, &root);
    if (!rc) rc = parse_entity(t, root, 0, len, false);
    if (rc) {
        mime_tree_free(&t);
        return rc;
    }
    facts_fill(t);
    *tree_r = t;
    return 0;
}

void mime_tree_free(struct mime_tree **tree)
{
    if (!*tree) return;
    free((*tree)->parts);
    free(*tree);
    *tree = NULL;
}
