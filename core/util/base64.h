/*
 * base64.h - RFC 4648 standard base64 ("A-Z a-z 0-9 + /"), bounded and strict.
 *
 * Neither function allocates: the caller passes the output buffer and its size,
 * and a result that does not fit is PETREL_ETOOBIG with nothing promised about
 * the buffer's content. The decoder is strict: any character outside the
 * alphabet (whitespace and CR/LF included), a misplaced or excess '=', a length
 * that cannot be base64, or non-zero unused bits in the last character are
 * PETREL_EINVAL, so one byte string has exactly one accepted encoding.
 * Used for password hashes ($scrypt$..., no padding) and SASL (padded).
 */
#ifndef PETREL_UTIL_BASE64_H
#define PETREL_UTIL_BASE64_H

#include <stddef.h>

enum base64_pad {
    BASE64_PAD_REQUIRED, /* encode with '=', decode demands it (length % 4 == 0) */
    BASE64_PAD_NONE,     /* encode without '=', decode rejects any '=' */
    BASE64_PAD_OPTIONAL, /* decode only: accepts both forms (encodes with '=') */
};

/* Characters base64_encode() writes for n input bytes, not counting the NUL. */
size_t base64_encoded_len(size_t n, enum base64_pad pad);
/* An upper bound of the bytes base64_decode() writes for len input characters. */
size_t base64_decoded_max(size_t len);

/*
 * Encodes [src, src+len) into dst (dstsize bytes, NUL-terminated on success).
 * *len_r (may be NULL) gets the characters written without the NUL.
 * Errors: PETREL_ETOOBIG when dstsize < base64_encoded_len() + 1.
 */
int base64_encode(const void *src, size_t len, enum base64_pad pad, char *dst, size_t dstsize,
                  size_t *len_r);

/*
 * Decodes the len characters at src (no NUL needed) into dst (dstsize bytes).
 * *len_r gets the number of bytes decoded. Errors: PETREL_EINVAL (not strict
 * base64 under the given padding rule), PETREL_ETOOBIG (dst too small).
 */
int base64_decode(const char *src, size_t len, enum base64_pad pad, void *dst, size_t dstsize,
                  size_t *len_r);

#endif
