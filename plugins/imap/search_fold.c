/*
 * search_fold.c - text normalisation for SEARCH substring matching (pure: no
 * host calls, unit-tested in tests/unit/test_imap_parser.c).
 *
 * Both the search string and the searched text are turned into "folded
 * UTF-8": the text's charset converted to UTF-8 (UTF-8/US-ASCII as is,
 * ISO-8859-1, ISO-8859-15, windows-1252), then every code point replaced by
 * its simple case folding where our small table knows one, so a plain byte
 * substring search (memmem) compares case-insensitively.
 *
 * The table's extent (Unicode CaseFolding.txt, status C and S, for these
 * blocks only): ASCII; Latin-1 Supplement (U+00C0-U+00DE, U+00B5 micro sign);
 * Latin Extended-A (U+0100-U+017F, U+0178 -> U+00FF, long s -> s); Latin
 * Extended Additional (U+1E00-U+1EFF pairs, capital sharp s U+1E9E ->
 * U+00DF); Greek (U+0386-U+03AB, final sigma -> sigma); Cyrillic (U+0400-U+052F);
 * Kelvin and Angstrom signs. Not folded: everything else (Armenian,
 * Georgian, Cherokee, full-width Latin, Deseret ...), and full foldings
 * ("ss" for U+00DF, Turkish dotted I): those compare byte for byte.
 *
 * Bytes that are not valid UTF-8 in UTF-8 text are copied as they are, so an
 * ASCII search string still matches around them.
 */
#include "parser.h" /* imap_utf8_next */
#include "search.h"

#include <string.h>

int imap_charset_find(const char *name, size_t n)
{
    static const struct {
        const char *name;
        int cs;
    } names[] = {
        {"utf-8", IMAP_CS_UTF8},          {"utf8", IMAP_CS_UTF8},
        {"us-ascii", IMAP_CS_UTF8},       {"ascii", IMAP_CS_UTF8},
        {"iso-8859-1", IMAP_CS_LATIN1},   {"iso8859-1", IMAP_CS_LATIN1},
        {"latin1", IMAP_CS_LATIN1},       {"iso_8859-1", IMAP_CS_LATIN1},
        {"windows-1252", IMAP_CS_CP1252}, {"cp1252", IMAP_CS_CP1252},
        {"iso-8859-15", IMAP_CS_LATIN9},  {"iso8859-15", IMAP_CS_LATIN9},
        {"latin9", IMAP_CS_LATIN9},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t k = strlen(names[i].name);
        if (k != n) continue;
        size_t j = 0;
        while (j < n) {
            char c = name[j];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            if (c != names[i].name[j]) break;
            j++;
        }
        if (j == n) return names[i].cs;
    }
    return IMAP_CS_UNKNOWN;
}

/* Simple case folding of one code point (see the table's extent above). */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c < 0x100) {
        if (c == 0xb5) return 0x3bc;
        if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
        return c;
    }
    if (c < 0x180) {
        if (c == 0x130) return c; /* Turkish dotted I: full folding only */
        if (c == 0x178) return 0xff;
        if (c == 0x17f) return 's';
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c & 1 ? c + 1 : c;
        if (c == 0x138 || c == 0x149) return c;
        return c & 1 ? c : c + 1;
    }
    if (c >= 0x386 && c <= 0x3ab) {
        if (c == 0x386) return 0x3ac;
        if (c >= 0x388 && c <= 0x38a) return c + 37;
        if (c == 0x38c) return 0x3cc;
        if (c == 0x38e || c == 0x38f) return c + 63;
        if (c >= 0x391 && c != 0x3a2) return c + 32;
        return c;
    }
    if (c == 0x3c2) return 0x3c3;
    if (c >= 0x400 && c <= 0x40f) return c + 80;
    if (c >= 0x410 && c <= 0x42f) return c + 32;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) || (c >= 0x4d0 && c <= 0x52f))
        return c & 1 ? c : c + 1;
    if (c == 0x4c0) return 0x4cf;
    if (c >= 0x4c1 && c <= 0x4ce) return c & 1 ? c + 1 : c;
    if (c == 0x1e9e) return 0xdf;
    if ((c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff)) return c & 1 ? c : c + 1;
    if (c == 0x212a) return 'k';
    if (c == 0x212b) return 0xe5;
    return c;
}

static size_t put_utf8(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* windows-1252 0x80..0x9f (undefined bytes keep their C1 code point) */
static const uint16_t cp1252_c1[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178,
};

static uint32_t latin9_cp(unsigned char b)
{
    switch (b) {
    case 0xa4:
        return 0x20ac;
    case 0xa6:
        return 0x160;
    case 0xa8:
        return 0x161;
    case 0xb4:
        return 0x17d;
    case 0xb8:
        return 0x17e;
    case 0xbc:
        return 0x152;
    case 0xbd:
        return 0x153;
    case 0xbe:
        return 0x178;
    default:
        return b;
    }
}

size_t imap_fold(int cs, const char *in, size_t n, char *out)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c = u[i];
        if (c < 0x80) { /* the common case */
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        if (cs == IMAP_CS_LATIN1 || cs == IMAP_CS_CP1252 || cs == IMAP_CS_LATIN9) {
            if (cs == IMAP_CS_CP1252 && c < 0xa0) c = cp1252_c1[c - 0x80];
            if (cs == IMAP_CS_LATIN9) c = latin9_cp(u[i]);
            o += put_utf8(fold_cp(c), out + o);
            i++;
            continue;
        }
        size_t k = imap_utf8_next(u + i, n - i, &c);
        if (!k) { /* not UTF-8: the byte as it is */
            out[o++] = (char)u[i++];
            continue;
        }
        o += put_utf8(fold_cp(c), out + o);
        i += k;
    }
    return o;
}

const char *imap_memmem(const char *h, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0) return h;
    if (nn > hn) return NULL;
    const char *end = h + (hn - nn) + 1;
    for (const char *p = h; p < end;) {
        const char *q = memchr(p, needle[0], (size_t)(end - p));
        if (!q) return NULL;
        if (memcmp(q, needle, nn) == 0) return q;
        p = q + 1;
    }
    return NULL;
}
