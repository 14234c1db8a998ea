/*
 * section.c - IMAP section part numbers (RFC 3501 / RFC 9051 6.4.5) over a
 * preorder part array, shared by the parse tree and the cache reader.
 */
#include "mime/mime_int.h"

#include "util/err.h"

/* Child number k (1-based) of a multipart, or MIME_NONE. */
static uint32_t child_nth(const struct mime_part *parts, uint32_t idx, uint32_t k)
{
    uint32_t ch = parts[idx].first_child;
    while (ch != MIME_NONE && --k > 0)
        ch = parts[ch].next_sibling;
    return ch;
}

/* Part k of a message entity m: its children when multipart, else itself as 1. */
static uint32_t message_part(const struct mime_part *parts, uint32_t m, uint32_t k)
{
    if (parts[m].kind == MIME_PART_MULTIPART) return child_nth(parts, m, k);
    return k == 1 ? m : MIME_NONE;
}

/* Next number of "1.2.3" at *pos: 0, or PETREL_EINVAL. */
static int spec_number(const char *s, size_t n, size_t *pos, uint32_t *k_r)
{
    uint64_t v = 0;
    size_t i = *pos, start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 10)
        v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == start || v == 0 || v > UINT32_MAX || (i < n && s[i] != '.')) return PETREL_EINVAL;
    if (i < n && ++i == n) return PETREL_EINVAL; /* a trailing dot */
    *pos = i;
    *k_r = (uint32_t)v;
    return 0;
}

static int section_of_node(const struct mime_part *parts, uint32_t node,
                           enum mime_section_kind kind, struct mime_section *sec_r)
{
    const struct mime_part *p = &parts[node];
    sec_r->encoding = p->encoding;
    sec_r->kind = p->kind;
    switch (kind) {
    case MIME_SECTION_BODY:
        sec_r->off = p->body_off;
        sec_r->len = p->body_len;
        return 0;
    case MIME_SECTION_MIME:
        sec_r->off = p->hdr_off;
        sec_r->len = p->hdr_len;
        return 0;
    case MIME_SECTION_HEADER:
    case MIME_SECTION_TEXT:
        if (p->kind != MIME_PART_MESSAGE || p->first_child == MIME_NONE) return PETREL_ENOTFOUND;
        p = &parts[p->first_child];
        sec_r->off = kind == MIME_SECTION_HEADER ? p->hdr_off : p->body_off;
        sec_r->len = kind == MIME_SECTION_HEADER ? p->hdr_len : p->body_len;
        return 0;
    }
    return PETREL_EINVAL;
}

int mime_section_resolve(const struct mime_part *parts, uint32_t nparts, uint64_t msg_len,
                         const char *spec, size_t spec_len, enum mime_section_kind kind,
                         struct mime_section *sec_r)
{
    if (nparts == 0 || (unsigned)kind > MIME_SECTION_MIME) return PETREL_EINVAL;
    if (spec_len == 0) {
        const struct mime_part *r = &parts[0];
        sec_r->encoding = r->encoding;
        sec_r->kind = r->kind;
        switch (kind) {
        case MIME_SECTION_BODY:
            sec_r->off = 0;
            sec_r->len = msg_len;
            return 0;
        case MIME_SECTION_HEADER:
            sec_r->off = r->hdr_off;
            sec_r->len = r->hdr_len;
            return 0;
        case MIME_SECTION_TEXT:
            sec_r->off = r->body_off;
            sec_r->len = r->body_len;
            return 0;
        default:
            return PETREL_EINVAL;
        }
    }
    uint32_t node = 0, k;
    bool at_message = true;
    size_t pos = 0;
    while (pos < spec_len) {
        int rc = spec_number(spec, spec_len, &pos, &k);
        if (rc) return rc;
        const struct mime_part *c = &parts[node];
        if (at_message)
            node = message_part(parts, node, k);
        else if (c->kind == MIME_PART_MULTIPART)
            node = child_nth(parts, node, k);
        else if (c->kind == MIME_PART_MESSAGE && c->first_child != MIME_NONE)
            node = message_part(parts, c->first_child, k);
        else
            node = MIME_NONE;
        if (node == MIME_NONE) return PETREL_ENOTFOUND;
        at_message = false;
    }
    return section_of_node(parts, node, kind, sec_r);
}

int mime_tree_section(const struct mime_tree *t, const char *spec, size_t spec_len,
                      enum mime_section_kind kind, struct mime_section *sec_r)
{
    return mime_section_resolve(t->parts, t->nparts, t->len, spec, spec_len, kind, sec_r);
}
