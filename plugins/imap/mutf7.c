/*
 * mutf7.c - modified UTF-7 mailbox names (RFC 3501 5.1.3) <-> UTF-8.
 * Used at the protocol edge only: the store keeps UTF-8 names.
 */
#include "imap_int.h"

#include <string.h>

static const char mutf7_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mutf7_put(char *out, size_t cap, size_t *o, char c)
{
    if (*o + 1 >= cap) return -1;
    out[(*o)++] = c;
    return 0;
}

/* Appends code point cp as UTF-8. */
static int utf8_put(char *out, size_t cap, size_t *o, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    for (size_t i = 0; i < n; i++)
        if (mutf7_put(out, cap, o, b[i])) return -1;
    return 0;
}

/* Decodes one "&...-" run starting after '&'; *i ends after '-'. */
static int mutf7_run(const char *in, size_t n, size_t *i, char *out, size_t cap, size_t *o)
{
    uint32_t bits = 0, hi = 0;
    unsigned nbits = 0, units = 0;
    for (; *i < n && in[*i] != '-'; (*i)++) {
        const char *q = memchr(mutf7_b64, in[*i], 64);
        if (!q || in[*i] == '\0') return -1;
        bits = (bits << 6) | (uint32_t)(q - mutf7_b64);
        nbits += 6;
        if (nbits < 16) continue;
        nbits -= 16;
        uint32_t u = (bits >> nbits) & 0xffff;
        units++;
        if (hi) {
            if (u < 0xdc00 || u > 0xdfff) return -1;
            if (utf8_put(out, cap, o, 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00))) return -1;
            hi = 0;
        } else if (u >= 0xd800 && u <= 0xdbff) {
            hi = u;
        } else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u < 0x7f)) {
            return -1; /* a lone low surrogate, or ASCII that should not be encoded */
        } else if (utf8_put(out, cap, o, u)) {
            return -1;
        }
    }
    if (*i >= n || hi || units == 0 || (bits & ((1u << nbits) - 1)) || nbits >= 6) return -1;
    (*i)++;
    return 0;
}

int imap_mutf7_to_utf8(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c >= 0x7f) return -1;
        if (c != '&') {
            if (mutf7_put(out, cap, &o, (char)c)) return -1;
            i++;
        } else if (i + 1 < n && in[i + 1] == '-') {
            if (mutf7_put(out, cap, &o, '&')) return -1;
            i += 2;
        } else {
            i++;
            if (mutf7_run(in, n, &i, out, cap, &o)) return -1;
        }
    }
    if (o >= cap) return -1;
    out[o] = '\0';
    return 0;
}

/* Next code point of UTF-8 input; -1 on invalid UTF-8. */
static int utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || *i + len > n) return -1;
    uint32_t v = len == 1 ? c : (uint32_t)(c & (0x7f >> len));
    for (size_t k = 1; k < len; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) return -1;
        v = (v << 6) | (s[*i + k] & 0x3f);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return -1;
    *i += len;
    *cp = v;
    return 0;
}

static int mutf7_flush(char *out, size_t cap, size_t *o, uint32_t *bits, unsigned *nbits)
{
    while (*nbits >= 6) {
        *nbits -= 6;
        if (mutf7_put(out, cap, o, mutf7_b64[(*bits >> *nbits) & 0x3f])) return -1;
    }
    return 0;
}

int imap_utf8_to_mutf7(const char *in, size_t n, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, i = 0;
    while (i < n) {
        if (s[i] >= 0x20 && s[i] < 0x7f) {
            if (mutf7_put(out, cap, &o, (char)s[i]) ||
                (s[i] == '&' && mutf7_put(out, cap, &o, '-')))
                return -1;
            i++;
            continue;
        }
        if (mutf7_put(out, cap, &o, '&')) return -1;
        uint32_t bits = 0;
        unsigned nbits = 0;
        while (i < n && !(s[i] >= 0x20 && s[i] < 0x7f)) {
            uint32_t cp;
            if (utf8_next(s, n, &i, &cp)) return -1;
            uint32_t u[2] = {cp, 0};
            int nu = 1;
            if (cp >= 0x10000) {
                u[0] = 0xd800 + ((cp - 0x10000) >> 10);
                u[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
                nu = 2;
            }
            for (int k = 0; k < nu; k++) {
                bits = (bits << 16) | u[k];
                nbits += 16;
                if (mutf7_flush(out, cap, &o, &bits, &nbits)) return -1;
            }
        }
        if (nbits && mutf7_put(out, cap, &o, mutf7_b64[(bits << (6 - nbits)) & 0x3f])) return -1;
        if (mutf7_put(out, cap, &o, '-')) return -1;
    }
    if (o >= cap) return -1;
    out[o] = '\0';
    return 0;
}
