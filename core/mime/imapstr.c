/* imapstr.c - IMAP strings and the ENVELOPE (RFC 3501 7.4.2, RFC 9051 7.5.2). */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"

/* As Dovecot: a quoted string unless a byte needs a literal (8-bit, CR, LF,
 * and also '"' and '\\', which Dovecot sends as literals too). */
static bool needs_literal(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x80 || c == '\r' || c == '\n' || c == '"' || c == '\\') return true;
    }
    return false;
}

static size_t count_nul(const uint8_t *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == 0;
    return k;
}

/* Appends s without its NUL bytes. */
static int append_no_nul(buf_t *out, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *z = memchr(s + i, 0, n - i);
        size_t run = z ? (size_t)(z - (s + i)) : n - i;
        int rc = buf_append(out, s + i, run);
        if (rc) return rc;
        i += run + (z ? 1 : 0);
    }
    return 0;
}

int mime_imap_append_string(buf_t *out, const uint8_t *s, size_t n)
{
    int rc;
    if (needs_literal(s, n)) {
        if ((rc = buf_printf(out, "{%zu}\r\n", n - count_nul(s, n)))) return rc;
        return append_no_nul(out, s, n);
    }
    if ((rc = buf_append_byte(out, '"')) || (rc = append_no_nul(out, s, n))) return rc;
    return buf_append_byte(out, '"');
}

int mime_imap_nstring(buf_t *out, const uint8_t *s, size_t n, bool present)
{
    if (!present) return buf_append(out, "NIL", 3);
    return mime_imap_append_string(out, s, n);
}

/* A header value unfolded for humans, or NIL when the field is absent. */
static int env_text(const uint8_t *hdr, size_t hlen, const char *name, buf_t *tmp, buf_t *out)
{
    bool humans = name[0] == 'S'; /* Subject; Date and the ids keep their blanks */
    struct mime_field f;
    if (mime_hdr_find(hdr, hlen, name, strlen(name), &f) != 0) return buf_append(out, "NIL", 3);
    buf_reset(tmp);
    int rc = humans ? mime_unfold(f.value, f.value_len, tmp)
                    : mime_unfold_nolf(f.value, f.value_len, tmp);
    if (rc) return rc;
    return mime_imap_append_string(out, (const uint8_t *)tmp->data, tmp->len);
}

/* An address list; *count_r is 0 when absent or empty (written as NIL). */
static int env_addrs(const uint8_t *hdr, size_t hlen, const char *name, buf_t *out, size_t *count_r)
{
    struct mime_field f;
    *count_r = 0;
    if (mime_hdr_find(hdr, hlen, name, strlen(name), &f) != 0) return buf_append(out, "NIL", 3);
    return mime_imap_addresses(f.value, f.value_len, out, count_r);
}

static int env_addrs_or_from(const uint8_t *hdr, size_t hlen, const char *name, const buf_t *from,
                             buf_t *out)
{
    size_t start = out->len, count;
    int rc = env_addrs(hdr, hlen, name, out, &count);
    if (rc || count > 0) return rc;
    out->len = start; /* absent or empty: the same as From (RFC 3501) */
    return buf_append(out, from->data, from->len);
}

int mime_imap_envelope(const uint8_t *hdr, size_t hdr_len, buf_t *out)
{
    buf_t tmp, from;
    size_t n;
    int rc;
    buf_init(&tmp, out->max);
    buf_init(&from, out->max);
    if ((rc = buf_append_byte(out, '(')) || (rc = env_text(hdr, hdr_len, "Date", &tmp, out)) ||
        (rc = buf_append_byte(out, ' ')) || (rc = env_text(hdr, hdr_len, "Subject", &tmp, out)) ||
        (rc = buf_append_byte(out, ' ')) || (rc = env_addrs(hdr, hdr_len, "From", &from, &n)) ||
        (rc = buf_append(out, from.data, from.len)) || (rc = buf_append_byte(out, ' ')) ||
        (rc = env_addrs_or_from(hdr, hdr_len, "Sender", &from, out)) ||
        (rc = buf_append_byte(out, ' ')) ||
        (rc = env_addrs_or_from(hdr, hdr_len, "Reply-To", &from, out)))
        goto out;
    static const char *const lists[] = {"To", "Cc", "Bcc"};
    for (size_t i = 0; i < 3; i++) {
        if ((rc = buf_append_byte(out, ' ')) || (rc = env_addrs(hdr, hdr_len, lists[i], out, &n)))
            goto out;
    }
    if ((rc = buf_append_byte(out, ' ')) ||
        (rc = env_text(hdr, hdr_len, "In-Reply-To", &tmp, out)) ||
        (rc = buf_append_byte(out, ' ')) || (rc = env_text(hdr, hdr_len, "Message-ID", &tmp, out)))
        goto out;
    rc = buf_append_byte(out, ')');
out:
    buf_free(&tmp);
    buf_free(&from);
    return rc;
}

int mime_imap_envelope_part(const struct mime_tree *t, uint32_t idx, buf_t *out)
{
    const struct mime_part *p = &t->parts[idx];
    return mime_imap_envelope(t->msg + p->hdr_off, p->hdr_len, out);
}
