/*
 * buf.h - a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * Every append fails cleanly with PETREL_ENOMEM past the maximum, leaving the
 * buffer as it was. The bytes are always followed by a NUL that is not
 * counted in len, so text can be used as a C string.
 */
#ifndef PETREL_UTIL_BUF_H
#define PETREL_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;  /* owned; NULL until the first append */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t max;  /* the most len may ever be */
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
/* Forgets the content, keeps the memory. */
void buf_reset(buf_t *b);
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_append_str(buf_t *b, const char *s);
int buf_append_byte(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Removes the first n bytes (n <= len). */
void buf_consume(buf_t *b, size_t n);
/* Hands the allocation to the caller (NUL-terminated, may be NULL when empty) and resets b. */
char *buf_detach(buf_t *b, size_t *len_r);

#endif
