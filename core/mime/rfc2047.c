/*
 * rfc2047.c - decoding of RFC 2047 encoded words in header values to UTF-8
 * (for SEARCH). UTF-8 and US-ASCII are copied, ISO-8859-1 converted; words in
 * other charsets stay as they are. Blanks between two decoded words vanish.
 */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"

enum cs { CS_UTF8, CS_LATIN1, CS_OTHER };

static enum cs charset_kind(const uint8_t *p, size_t n)
{
    const uint8_t *star = memchr(p, '*', n); /* RFC 2231 language suffix */
    if (star) n = (size_t)(star - p);
    if (mime_bytes_ieq(p, n, "utf-8") || mime_bytes_ieq(p, n, "us-ascii") ||
        mime_bytes_ieq(p, n, "utf8") || mime_bytes_ieq(p, n, "ascii"))
        return CS_UTF8;
    if (mime_bytes_ieq(p, n, "iso-8859-1") || mime_bytes_ieq(p, n, "latin1")) return CS_LATIN1;
    return CS_OTHER;
}

struct ew {
    const uint8_t *charset, *text;
    size_t charset_len, text_len, total;
    uint8_t enc; /* 'B' or 'Q' */
};

/* "=?charset?E?text?=" at p (no blanks inside): 0 or -1. */
static int ew_parse(const uint8_t *p, const uint8_t *end, struct ew *w)
{
    if (end - p < 8 || p[0] != '=' || p[1] != '?') return -1;
    const uint8_t *q = p + 2, *cs = q;
    while (q < end && *q != '?' && *q > ' ')
        q++;
    if (q == cs || end - q < 5 || *q != '?' || q[2] != '?') return -1;
    w->charset = cs;
    w->charset_len = (size_t)(q - cs);
    w->enc = (uint8_t)str_ascii_upper((char)q[1]);
    if (w->enc != 'B' && w->enc != 'Q') return -1;
    const uint8_t *t = q + 3;
    for (q = t; q + 1 < end; q++) {
        if (*q <= ' ') return -1;
        if (q[0] == '?' && q[1] == '=') {
            w->text = t;
            w->text_len = (size_t)(q - t);
            w->total = (size_t)(q + 2 - p);
            return 0;
        }
    }
    return -1;
}

static int latin1_to_utf8(const uint8_t *p, size_t n, buf_t *out)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (p[i] < 0x80) {
            rc = buf_append_byte(out, (char)p[i]);
        } else {
            char u[2] = {(char)(0xc0 | (p[i] >> 6)), (char)(0x80 | (p[i] & 0x3f))};
            rc = buf_append(out, u, 2);
        }
    }
    return rc;
}

/* Decodes one word into out: 1 decoded, 0 charset not handled. */
static int ew_decode(const struct ew *w, buf_t *tmp, buf_t *out)
{
    enum cs k = charset_kind(w->charset, w->charset_len);
    if (k == CS_OTHER) return 0;
    buf_reset(tmp);
    int rc = w->enc == 'B' ? mime_base64_decode(w->text, w->text_len, tmp)
                           : mime_qp_decode(w->text, w->text_len, 1, tmp);
    if (rc) return rc;
    const uint8_t *d = (const uint8_t *)tmp->data;
    rc = k == CS_LATIN1 ? latin1_to_utf8(d, tmp->len, out) : buf_append(out, d, tmp->len);
    return rc ? rc : 1;
}

static int rfc2047_run(const uint8_t *u, size_t n, buf_t *tmp, buf_t *out)
{
    const uint8_t *p = u, *end = u + n, *ws = NULL;
    bool last_ew = false;
    int rc;
    while (p < end) {
        struct ew w;
        if (*p == ' ' || *p == '\t') {
            if (!ws) ws = p;
            p++;
            continue;
        }
        if (ew_parse(p, end, &w) == 0) {
            size_t mark = out->len;
            bool drop_ws = last_ew && ws;
            if (ws && !drop_ws && (rc = buf_append(out, ws, (size_t)(p - ws)))) return rc;
            rc = ew_decode(&w, tmp, out);
            if (rc < 0) return rc;
            if (rc == 0) { /* kept encoded: blanks before it are kept too */
                out->len = mark;
                if ((ws && (rc = buf_append(out, ws, (size_t)(p - ws)))) ||
                    (rc = buf_append(out, p, w.total)))
                    return rc;
            }
            last_ew = rc == 1;
            ws = NULL;
            p += w.total;
            continue;
        }
        if (ws && (rc = buf_append(out, ws, (size_t)(p - ws)))) return rc;
        ws = NULL;
        last_ew = false;
        if ((rc = buf_append_byte(out, (char)*p))) return rc;
        p++;
    }
    if (ws) return buf_append(out, ws, (size_t)(end - ws));
    return 0;
}

int mime_rfc2047_decode(const uint8_t *in, size_t len, buf_t *out)
{
    buf_t u, tmp;
    buf_init(&u, len + 1);
    buf_init(&tmp, len + 1);
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        if (in[i] != '\r' && in[i] != '\n') rc = buf_append_byte(&u, (char)in[i]);
    }
    if (!rc && u.len) rc = rfc2047_run((const uint8_t *)u.data, u.len, &tmp, out);
    buf_free(&u);
    buf_free(&tmp);
    return rc;
}
