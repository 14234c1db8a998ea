/*
 * search_bs.c - walks a BODYSTRUCTURE string (the store's cached one, RFC
 * 9051 7.5.2 syntax) to list a message's parts with their part numbers,
 * types and charsets, so SEARCH reads only the text parts. Pure (no host
 * calls); bounded by IMAP_BS_MAX_DEPTH / _MAX_PARTS / _SPEC_MAX.
 */
#include "search.h"

#include <stdio.h>
#include <string.h>

struct bs_walk {
    const char *p;
    size_t n, i;
    unsigned parts;
    imap_bs_cb cb;
    void *arg;
};

static void bs_ws(struct bs_walk *b)
{
    while (b->i < b->n && (b->p[b->i] == ' ' || b->p[b->i] == '\r' || b->p[b->i] == '\n'))
        b->i++;
}

/* {n}CRLF + n bytes at b->i: the bytes. 0 or -1. */
static int bs_literal(struct bs_walk *b, const char **s_r, size_t *len_r)
{
    size_t j = b->i + 1, len = 0;
    while (j < b->n && b->p[j] >= '0' && b->p[j] <= '9') {
        if (len > b->n / 10) return -1; /* cannot fit in the text anyway */
        len = len * 10 + (size_t)(b->p[j] - '0');
        j++;
    }
    if (j == b->i + 1 || b->n - j < 3 || memcmp(b->p + j, "}\r\n", 3) != 0) return -1;
    j += 3;
    if (len > b->n - j) return -1;
    *s_r = b->p + j;
    *len_r = len;
    b->i = j + len;
    return 0;
}

/* A quoted string, literal, number or NIL (*s_r NULL). 0 or -1. */
static int bs_string(struct bs_walk *b, const char **s_r, size_t *len_r)
{
    bs_ws(b);
    if (b->i >= b->n) return -1;
    char c = b->p[b->i];
    if (c == '"') {
        size_t j = b->i + 1;
        while (j < b->n && b->p[j] != '"')
            j += b->p[j] == '\\' ? 2 : 1;
        if (j >= b->n) return -1;
        *s_r = b->p + b->i + 1;
        *len_r = j - b->i - 1;
        b->i = j + 1;
        return 0;
    }
    if (c == '{') return bs_literal(b, s_r, len_r);
    size_t j = b->i;
    while (j < b->n && b->p[j] != ' ' && b->p[j] != '(' && b->p[j] != ')')
        j++;
    if (j == b->i) return -1;
    *s_r = j - b->i == 3 && memcmp(b->p + b->i, "NIL", 3) == 0 ? NULL : b->p + b->i;
    *len_r = *s_r ? j - b->i : 0;
    b->i = j;
    return 0;
}

static int bs_rest(struct bs_walk *b, int depth);

/* Skips one item (a list with everything in it). */
static int bs_skip(struct bs_walk *b, int depth)
{
    const char *s;
    size_t n;
    bs_ws(b);
    if (b->i >= b->n) return -1;
    if (b->p[b->i] != '(') return bs_string(b, &s, &n);
    if (depth > IMAP_BS_MAX_DEPTH * 4) return -1; /* envelopes and params nest a little */
    b->i++;
    return bs_rest(b, depth);
}

/* The rest of a body up to and including its ')'. */
static int bs_rest(struct bs_walk *b, int depth)
{
    for (;;) {
        bs_ws(b);
        if (b->i >= b->n) return -1;
        if (b->p[b->i] == ')') {
            b->i++;
            return 0;
        }
        if (bs_skip(b, depth + 1)) return -1;
    }
}

int imap_bs_ieq(const char *s, size_t n, const char *word)
{
    if (!s || strlen(word) != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != word[i]) return 0;
    }
    return 1;
}

/* ("name" "value" ...) or NIL: the charset's value into pt. */
static int bs_params(struct bs_walk *b, struct imap_bs_part *pt, int depth)
{
    bs_ws(b);
    if (b->i < b->n && b->p[b->i] != '(') {
        const char *s;
        size_t n;
        return bs_string(b, &s, &n);
    }
    b->i++;
    for (;;) {
        const char *name, *val;
        size_t nn, vn;
        bs_ws(b);
        if (b->i >= b->n) return -1;
        if (b->p[b->i] == ')') {
            b->i++;
            return 0;
        }
        if (b->p[b->i] == '(') { /* not a name: be lenient */
            if (bs_skip(b, depth + 1)) return -1;
            continue;
        }
        if (bs_string(b, &name, &nn) || bs_string(b, &val, &vn)) return -1;
        if (imap_bs_ieq(name, nn, "charset") && val) {
            pt->charset = val;
            pt->charset_len = vn;
        }
    }
}

static int bs_spec(char *out, const char *prefix, unsigned k)
{
    int w = prefix[0] ? snprintf(out, IMAP_BS_SPEC_MAX, "%s.%u", prefix, k)
                      : snprintf(out, IMAP_BS_SPEC_MAX, "%u", k);
    return w < 0 || w >= IMAP_BS_SPEC_MAX ? -1 : 0;
}

/*
 * One body at b->i. single: its part number if it is not a multipart;
 * prefix: the part number its children extend if it is one.
 */
static int bs_body(struct bs_walk *b, const char *single, const char *prefix, int depth)
{
    if (depth > IMAP_BS_MAX_DEPTH) return -1;
    bs_ws(b);
    if (b->i >= b->n || b->p[b->i] != '(') return -1;
    b->i++;
    bs_ws(b);
    if (b->i < b->n && b->p[b->i] == '(') { /* multipart: children, then subtype etc. */
        char spec[IMAP_BS_SPEC_MAX];
        for (unsigned k = 1; b->i < b->n && b->p[b->i] == '('; k++) {
            if (bs_spec(spec, prefix, k)) return -1;
            int rc = bs_body(b, spec, spec, depth + 1);
            if (rc) return rc;
            bs_ws(b);
        }
        return bs_rest(b, depth);
    }
    struct imap_bs_part pt;
    memset(&pt, 0, sizeof(pt));
    snprintf(pt.spec, sizeof(pt.spec), "%s", single);
    if (bs_string(b, &pt.type, &pt.type_len) || bs_string(b, &pt.subtype, &pt.subtype_len) ||
        bs_params(b, &pt, depth))
        return -1;
    for (int k = 0; k < 4; k++) /* id, description, encoding, size */
        if (bs_skip(b, depth + 1)) return -1;
    pt.message = imap_bs_ieq(pt.type, pt.type_len, "message") &&
                 (imap_bs_ieq(pt.subtype, pt.subtype_len, "rfc822") ||
                  imap_bs_ieq(pt.subtype, pt.subtype_len, "global"));
    if (++b->parts > IMAP_BS_MAX_PARTS) return -1;
    int rc = b->cb(&pt, b->arg);
    if (rc) return rc;
    if (pt.message) {
        char inner[IMAP_BS_SPEC_MAX];
        if (bs_spec(inner, pt.spec, 1) || bs_skip(b, depth + 1) /* envelope */) return -1;
        bs_ws(b);
        if (b->i < b->n && b->p[b->i] == '(' && (rc = bs_body(b, inner, pt.spec, depth + 1)))
            return rc;
    }
    return bs_rest(b, depth);
}

int imap_bs_walk(const char *bs, size_t n, imap_bs_cb cb, void *arg)
{
    struct bs_walk b = {bs, n, 0, 0, cb, arg};
    return bs_body(&b, "1", "", 0);
}
