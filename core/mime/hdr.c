/* hdr.c - header blocks: iterate fields, find by name, HEADER.FIELDS subsets, unfolding. */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"

/* Position after the line starting at pos (after its LF, or len). */
static size_t line_next(const uint8_t *p, size_t len, size_t pos)
{
    const uint8_t *lf = memchr(p + pos, '\n', len - pos);
    return lf ? (size_t)(lf - p) + 1 : len;
}

static bool line_is_blank(const uint8_t *p, size_t len, size_t pos)
{
    return p[pos] == '\n' || (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n');
}

size_t mime_hdr_block_len(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        if (line_is_blank(p, len, pos)) return line_next(p, len, pos);
        pos = line_next(p, len, pos);
    }
    return len;
}

void mime_hdr_iter_init(struct mime_hdr_iter *it, const uint8_t *hdr, size_t len)
{
    it->p = hdr;
    it->len = len;
    it->pos = 0;
}

/* Length of the line ending (CRLF, LF or none) of [start, end). */
static size_t eol_len(const uint8_t *start, const uint8_t *end)
{
    if (end > start && end[-1] == '\n') return (end - 1 > start && end[-2] == '\r') ? 2 : 1;
    return 0;
}

int mime_hdr_iter_next(struct mime_hdr_iter *it, struct mime_field *f_r)
{
    const uint8_t *p = it->p;
    size_t len = it->len, start = it->pos;
    if (start >= len || line_is_blank(p, len, start)) return 0;
    size_t first_end = line_next(p, len, start), end = first_end;
    while (end < len && (p[end] == ' ' || p[end] == '\t'))
        end = line_next(p, len, end);
    it->pos = end;
    f_r->raw = p + start;
    f_r->raw_len = end - start;
    const uint8_t *colon = memchr(p + start, ':', first_end - start);
    const uint8_t *name_end = colon ? colon : p + first_end - eol_len(p + start, p + first_end);
    while (name_end > p + start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    f_r->name = p + start;
    f_r->name_len = (size_t)(name_end - (p + start));
    if (colon) {
        f_r->value = colon + 1;
        f_r->value_len = (size_t)(p + end - f_r->value) - eol_len(f_r->value, p + end);
    } else {
        f_r->value = p + end;
        f_r->value_len = 0;
    }
    return 1;
}

int mime_hdr_find(const uint8_t *hdr, size_t len, const char *name, size_t name_len,
                  struct mime_field *f_r)
{
    struct mime_hdr_iter it;
    mime_hdr_iter_init(&it, hdr, len);
    while (mime_hdr_iter_next(&it, f_r)) {
        if (f_r->name_len == name_len && str_ncasecmp((const char *)f_r->name, name, name_len) == 0)
            return 0;
    }
    return PETREL_ENOTFOUND;
}

static bool name_listed(const struct mime_field *f, const char *const *names, size_t nnames)
{
    for (size_t i = 0; i < nnames; i++) {
        if (mime_bytes_ieq(f->name, f->name_len, names[i])) return true;
    }
    return false;
}

int mime_hdr_fields_subset(const uint8_t *hdr, size_t len, const char *const *names, size_t nnames,
                           int not_, buf_t *out)
{
    struct mime_hdr_iter it;
    struct mime_field f;
    int rc;
    mime_hdr_iter_init(&it, hdr, len);
    while (mime_hdr_iter_next(&it, &f)) {
        if (name_listed(&f, names, nnames) != (not_ != 0) &&
            (rc = buf_append(out, f.raw, f.raw_len)))
            return rc;
    }
    return buf_append(out, "\r\n", 2);
}

int mime_unfold(const uint8_t *v, size_t n, buf_t *out)
{
    bool space = false, any = false;
    int rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = v[i];
        if (c == '\r' || c == '\n') continue;
        if (c == ' ' || c == '\t') {
            space = true;
            continue;
        }
        if (space && any && (rc = buf_append_byte(out, ' '))) return rc;
        if ((rc = buf_append_byte(out, (char)c))) return rc;
        space = false;
        any = true;
    }
    return 0;
}

int mime_unfold_nolf(const uint8_t *v, size_t n, buf_t *out)
{
    size_t i = 0;
    int rc;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    for (; i < n; i++) {
        uint8_t c = v[i];
        if (c != '\r' && c != '\n') {
            rc = buf_append_byte(out, (char)c);
        } else if (i + 1 < n && v[i + 1] != ' ' && v[i + 1] != '\t' && v[i + 1] != '\r' &&
                   v[i + 1] != '\n') {
            rc = buf_append_byte(out, ' '); /* keep lines apart */
        } else {
            rc = 0;
        }
        if (rc) return rc;
    }
    return 0;
}
