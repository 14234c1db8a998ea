#include "util/base64.h"

#include <stdint.h>

#include "util/err.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n, enum base64_pad pad)
{
    size_t full = n / 3 * 4;
    size_t rest = n % 3;
    if (rest == 0)
        return full;
    return full + (pad == BASE64_PAD_NONE ? rest + 1 : 4);
}

size_t base64_decoded_max(size_t len)
{
    return len / 4 * 3 + (len % 4 ? 2 : 0);
}

int base64_encode(const void *src, size_t len, enum base64_pad pad, char *dst, size_t dstsize,
                  size_t *len_r)
{
    const uint8_t *s = src;
    if (len > (SIZE_MAX - 4) / 4 * 3 || dstsize == 0 || base64_encoded_len(len, pad) > dstsize - 1)
        return PETREL_ETOOBIG;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        dst[o++] = base64_alphabet[v >> 18];
        dst[o++] = base64_alphabet[(v >> 12) & 63];
        dst[o++] = base64_alphabet[(v >> 6) & 63];
        dst[o++] = base64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        dst[o++] = base64_alphabet[v >> 18];
        dst[o++] = base64_alphabet[(v >> 12) & 63];
        if (i + 1 < len)
            dst[o++] = base64_alphabet[(v >> 6) & 63];
        else if (pad != BASE64_PAD_NONE)
            dst[o++] = '=';
        if (pad != BASE64_PAD_NONE)
            dst[o++] = '=';
    }
    dst[o] = '\0';
    if (len_r)
        *len_r = o;
    return 0;
}

/* The 6-bit value of c, or -1 when c is not in the alphabet. */
static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strips the trailing '=' allowed by pad; returns the data length or -1 on bad padding. */
static int base64_unpad(const char *src, size_t len, enum base64_pad pad, size_t *data_len_r)
{
    size_t n = len;
    while (n > 0 && len - n < 2 && src[n - 1] == '=')
        n--;
    size_t npad = len - n;
    if (npad > 0 && pad == BASE64_PAD_NONE)
        return -1;
    if (npad > 0 || pad == BASE64_PAD_REQUIRED) {
        /* padded form: whole quads, and exactly the '=' the last quad needs */
        if (len % 4 != 0 || (npad > 0 && (n % 4) + npad != 4))
            return -1;
    }
    if (n % 4 == 1)
        return -1;
    *data_len_r = n;
    return 0;
}

int base64_decode(const char *src, size_t len, enum base64_pad pad, void *dst, size_t dstsize,
                  size_t *len_r)
{
    size_t n;
    if (base64_unpad(src, len, pad, &n) < 0)
        return PETREL_EINVAL;
    size_t out_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    uint8_t *d = dst;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64_value(src[i]);
        if (v < 0)
            return PETREL_EINVAL;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= dstsize)
                return PETREL_ETOOBIG;
            d[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* the unused low bits of the last character must be zero (canonical form) */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return PETREL_EINVAL;
    if (o != out_len)
        return PETREL_EINVAL;
    *len_r = o;
    return 0;
}
