/*
 * names.c - validation and canonical forms of domains, addresses, mailbox
 * names and keywords. Everything rejected here is PETREL_EINVAL.
 *
 * Domains: 1..253 bytes, labels of 1..63 letters, digits, '-' and '_'
 * (IDNs as A-labels), not starting or ending with '-', lower-cased.
 * Local parts: 1..64 bytes of RFC 5322 atext and '.', no leading, trailing
 * or double dot (quoted local parts are not supported).
 * Mailbox names: valid UTF-8 (no overlongs or surrogates), no control
 * characters, 1..MBOX_NAME_KEY_MAX bytes (schema.h: the name is part of an
 * LMDB key, at most 511 bytes with the user id, so 503 < STORE_MAILBOX_NAME_MAX), no leading or
 * trailing '/', no empty level; "INBOX" in any case (also as the first level) becomes "INBOX".
 */
#include <string.h>

#include "store/store_int.h"
#include "util/str.h"

static int name_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int name_domain(const char *in, char *out)
{
    if (!in) return PETREL_EINVAL;
    size_t n = strnlen(in, STORE_DOMAIN_MAX + 1);
    if (n == 0 || n > STORE_DOMAIN_MAX) return PETREL_EINVAL;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '.') {
            if (label == 0 || in[i - 1] == '-') return PETREL_EINVAL;
            label = 0;
        } else if (name_label_char(c)) {
            if (label == 0 && c == '-') return PETREL_EINVAL;
            if (++label > 63) return PETREL_EINVAL;
        } else {
            return PETREL_EINVAL;
        }
        out[i] = str_ascii_lower(c);
    }
    if (label == 0 || in[n - 1] == '-') return PETREL_EINVAL;
    out[n] = '\0';
    return 0;
}

static int name_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

int name_local_ok(const char *local, size_t len)
{
    if (len == 0 || len > STORE_LOCAL_MAX || local[0] == '.' || local[len - 1] == '.')
        return PETREL_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)local[i];
        if (c == '.') {
            if (local[i + 1] == '.') return PETREL_EINVAL;
        } else if (!name_atext(c)) {
            return PETREL_EINVAL;
        }
    }
    return 0;
}

int name_address(const char *in, char *local, char *domain)
{
    if (!in) return PETREL_EINVAL;
    size_t n = strnlen(in, STORE_ADDRESS_MAX + 1);
    if (n > STORE_ADDRESS_MAX) return PETREL_EINVAL;
    const char *at = memchr(in, '@', n);
    if (!at) return PETREL_EINVAL;
    size_t ln = (size_t)(at - in);
    if (name_local_ok(in, ln)) return PETREL_EINVAL;
    memcpy(local, in, ln);
    local[ln] = '\0';
    return name_domain(at + 1, domain);
}

/* Length of the UTF-8 sequence at p (strict), or 0 when invalid. */
static size_t name_utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int name_mailbox(const char *in, char *out)
{
    if (!in) return PETREL_EINVAL;
    size_t n = strnlen(in, STORE_MAILBOX_NAME_MAX + 1);
    if (n == 0 || n > MBOX_NAME_KEY_MAX || in[0] == '/' || in[n - 1] == '/') return PETREL_EINVAL;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x20 || p[i] == 0x7f) return PETREL_EINVAL;
        if (p[i] == '/' && p[i + 1] == '/') return PETREL_EINVAL;
        size_t l = name_utf8_len(p + i, n - i);
        if (l == 0) return PETREL_EINVAL;
        if (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) return PETREL_EINVAL; /* C1 controls */
        i += l;
    }
    memcpy(out, in, n);
    out[n] = '\0';
    if (str_ncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
        memcpy(out, "INBOX", 5);
    return 0;
}

int name_keyword_ok(const char *kw)
{
    size_t n = strnlen(kw, STORE_KEYWORD_MAX + 1);
    if (n == 0 || n > STORE_KEYWORD_MAX || kw[0] == '\\') return PETREL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)kw[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c)) return PETREL_EINVAL;
    }
    return 0;
}
