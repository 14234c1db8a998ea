/* lex.c - RFC 5322 / RFC 2045 lexical helpers: CFWS, tokens, atoms, quoted strings. */
#include "mime/mime_int.h"

#include "util/err.h"
#include "util/str.h"

bool mime_is_wsp(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool mime_bytes_ieq(const uint8_t *p, size_t n, const char *s)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (!s[i] || str_ascii_lower((char)p[i]) != str_ascii_lower(s[i])) return false;
    }
    return s[i] == '\0';
}

/* Skips one comment starting at '('; nesting is followed up to a cap. */
static void lex_comment(const uint8_t **pp, const uint8_t *end, buf_t *comment)
{
    const uint8_t *p = *pp + 1;
    unsigned depth = 1;
    if (comment) buf_reset(comment);
    while (p < end && depth > 0) {
        uint8_t c = *p++;
        if (c == '\\' && p < end) {
            c = *p++;
        } else if (c == '(') {
            if (depth < MIME_MAX_COMMENT_DEPTH) depth++;
            continue;
        } else if (c == ')') {
            depth--;
            continue;
        }
        if (comment && depth == 1 && c != '\r' && c != '\n')
            (void)buf_append_byte(comment, (char)c); /* a comment is best effort */
    }
    *pp = p;
}

void mime_lex_cfws(const uint8_t **pp, const uint8_t *end, buf_t *comment)
{
    const uint8_t *p = *pp;
    while (p < end) {
        if (mime_is_wsp(*p)) {
            p++;
        } else if (*p == '(') {
            lex_comment(&p, end, comment);
        } else {
            break;
        }
    }
    *pp = p;
}

static bool is_tspecial(uint8_t c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
        return true;
    default:
        return false;
    }
}

size_t mime_lex_token(const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    while (p<end && * p> ' ' && *p != 0x7f && !is_tspecial(*p))
        p++;
    size_t n = (size_t)(p - *pp);
    *pp = p;
    return n;
}

static bool is_special(uint8_t c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case ':':
    case ';':
    case '@':
    case '\\':
    case ',':
    case '.':
    case '"':
        return true;
    default:
        return false;
    }
}

size_t mime_lex_atom(const uint8_t **pp, const uint8_t *end, bool dot)
{
    const uint8_t *p = *pp;
    while (p<end && * p> ' ' && *p != 0x7f && (!is_special(*p) || (dot && *p == '.')))
        p++;
    size_t n = (size_t)(p - *pp);
    *pp = p;
    return n;
}

int mime_lex_quoted(const uint8_t **pp, const uint8_t *end, buf_t *out)
{
    const uint8_t *p = *pp + 1;
    int rc = 0;
    while (p < end && *p != '"') {
        uint8_t c = *p++;
        if (c == '\\' && p < end)
            c = *p++;
        else if (c == '\r' || c == '\n')
            continue; /* folding inside a quoted string */
        if (!rc) rc = buf_append_byte(out, (char)c);
    }
    if (p < end) p++; /* the closing quote */
    *pp = p;
    return rc;
}
