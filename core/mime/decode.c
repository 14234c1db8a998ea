/*
 * decode.c - Content-Transfer-Encoding and RFC 2047 decoding, buffer to
 * buffer, bounded by the output buffer's maximum. Lenient as readers must
 * be: bad escapes are copied, characters outside the alphabet skipped.
 */
#include "mime/mime_int.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"

int mime_encoding_parse(const uint8_t *v, size_t n)
{
    const uint8_t *p = v, *end = v + n;
    mime_lex_cfws(&p, end, NULL);
    const uint8_t *tok = p;
    size_t tl = mime_lex_token(&p, end);
    static const struct {
        const char *name;
        int enc;
    } table[] = {{"7bit", MIME_ENC_7BIT},
                 {"8bit", MIME_ENC_8BIT},
                 {"binary", MIME_ENC_BINARY},
                 {"quoted-printable", MIME_ENC_QP},
                 {"base64", MIME_ENC_BASE64}};
    if (tl == 0) return MIME_ENC_7BIT;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (mime_bytes_ieq(tok, tl, table[i].name)) return table[i].enc;
    }
    return MIME_ENC_OTHER;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (uint8_t)str_ascii_upper((char)c);
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of [p, end) without the blanks before its line end. */
static size_t qp_trim(const uint8_t *p, const uint8_t *lend)
{
    while (lend > p && (lend[-1] == ' ' || lend[-1] == '\t'))
        lend--;
    return (size_t)(lend - p);
}

static int qp_line(const uint8_t *p, size_t n, int header_mode, buf_t *out)
{
    int rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '=' && i + 2 < n) {
            int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi * 16 + lo);
                i += 2;
            }
        } else if (c == '_' && header_mode) {
            c = ' ';
        }
        if ((rc = buf_append_byte(out, (char)c))) return rc;
    }
    return 0;
}

int mime_qp_decode(const uint8_t *in, size_t len, int header_mode, buf_t *out)
{
    size_t pos = 0;
    int rc;
    while (pos < len) {
        const uint8_t *lf = memchr(in + pos, '\n', len - pos);
        size_t lend = lf ? (size_t)(lf - in) : len, next = lf ? lend + 1 : len;
        if (lend > pos && in[lend - 1] == '\r') lend--;
        size_t n = qp_trim(in + pos, in + lend);
        bool soft = n > 0 && in[pos + n - 1] == '=';
        if ((rc = qp_line(in + pos, soft ? n - 1 : n, header_mode, out))) return rc;
        if (lf && !soft && (rc = buf_append(out, "\r\n", 2))) return rc;
        pos = next;
    }
    return 0;
}

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int mime_base64_decode(const uint8_t *in, size_t len, buf_t *out)
{
    uint32_t acc = 0;
    int bits = 0, rc;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=') break;
        int v = b64val(in[i]);
        if (v < 0) continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if ((rc = buf_append_byte(out, (char)((acc >> bits) & 0xff)))) return rc;
        }
    }
    return 0;
}

int mime_body_decode(const uint8_t *in, size_t len, int encoding, buf_t *out)
{
    switch (encoding) {
    case MIME_ENC_QP:
        return mime_qp_decode(in, len, 0, out);
    case MIME_ENC_BASE64:
        return mime_base64_decode(in, len, out);
    case MIME_ENC_OTHER:
        return PETREL_ENOTSUP;
    default:
        return buf_append(out, in, len);
    }
}
