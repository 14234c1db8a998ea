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

/* The envelope's fields, in its order; found in one pass over the header. */
enum env_field { ENV_DATE, ENV_SUBJECT, ENV_FROM, ENV_SENDER, ENV_REPLY_TO, ENV_TO, ENV_CC,
                 ENV_BCC, ENV_IN_REPLY_TO, ENV_MESSAGE_ID, ENV_NFIELDS };
static const char *const env_names[ENV_NFIELDS] = {
    "Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "In-Reply-To", "Message-ID",
};

/* The first field of each envelope name (as mime_hdr_find would find it); NULL value: absent. */
static void env_fields_find(const uint8_t *hdr, size_t hlen, struct mime_field fields[ENV_NFIELDS])
{
    memset(fields, 0, ENV_NFIELDS * sizeof(*fields));
    struct mime_hdr_iter it;
    struct mime_field f;
    mime_hdr_iter_init(&it, hdr, hlen);
    while (mime_hdr_iter_next(&it, &f)) {
        for (size_t i = 0; i < ENV_NFIELDS; i++) {
            if (!fields[i].value && mime_bytes_ieq(f.name, f.name_len, env_names[i])) {
                fields[i] = f;
                break;
            }
        }
    }
}

/* A header value unfolded for humans, or NIL when the field is absent. */
static int env_text(const struct mime_field *f, bool humans, buf_t *tmp, buf_t *out)
{
    /* humans: Subject; Date and the ids keep their blanks */
    if (!f->value) return buf_append(out, "NIL", 3);
    buf_reset(tmp);
    int rc = humans ? mime_unfold(f->value, f->value_len, tmp)
                    : mime_unfold_nolf(f->value, f->value_len, tmp);
    if (rc) return rc;
    return mime_imap_append_string(out, (const uint8_t *)tmp->data, tmp->len);
}

/* An address list; *count_r is 0 when absent or empty (written as NIL). */
static int env_addrs(const struct mime_field *f, buf_t *out, size_t *count_r)
{
    *count_r = 0;
    if (!f->value) return buf_append(out, "NIL", 3);
    return mime_imap_addresses(f->value, f->value_len, out, count_r);
}

static int env_addrs_or_from(const struct mime_field *f, const buf_t *from, buf_t *out)
{
    size_t start = out->len, count;
    int rc = env_addrs(f, out, &count);
    if (rc || count > 0) return rc;
    out->len = start; /* absent or empty: the same as From (RFC 3501) */
    return buf_append(out, from->data, from->len);
}

int mime_imap_envelope(const uint8_t *hdr, size_t hdr_len, buf_t *out)
{
    buf_t tmp, from;
    size_t n;
    int rc;
    struct mime_field fl[ENV_NFIELDS];
    env_fields_find(hdr, hdr_len, fl);
    buf_init(&tmp, out->max);
    buf_init(&from, out->max);
    if ((rc = buf_append_byte(out, '(')) || (rc = env_text(&fl[ENV_DATE], false, &tmp, out)) ||
        (rc = buf_append_byte(out, ' ')) ||
        (rc = env_text(&fl[ENV_SUBJECT], true, &tmp, out)) || (rc = buf_append_byte(out, ' ')) ||
        (rc = env_addrs(&fl[ENV_FROM], &from, &n)) ||
        (rc = buf_append(out, from.data, from.len)) || (rc = buf_append_byte(out, ' ')) ||
        (rc = env_addrs_or_from(&fl[ENV_SENDER], &from, out)) ||
        (rc = buf_append_byte(out, ' ')) ||
        (rc = env_addrs_or_from(&fl[ENV_REPLY_TO], &from, out)))
        goto out;
    for (size_t i = ENV_TO; i <= ENV_BCC; i++) {
        if ((rc = buf_append_byte(out, ' ')) || (rc = env_addrs(&fl[i], out, &n)))
            goto out;
    }
    if ((rc = buf_append_byte(out, ' ')) ||
        (rc = env_text(&fl[ENV_IN_REPLY_TO], false, &tmp, out)) ||
        (rc = buf_append_byte(out, ' ')) ||
        (rc = env_text(&fl[ENV_MESSAGE_ID], false, &tmp, out)))
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
