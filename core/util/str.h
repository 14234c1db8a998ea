/* str.h - small string helpers: ASCII case folding, bounded copies, big-endian ints. */
#ifndef PETREL_UTIL_STR_H
#define PETREL_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

static inline char str_ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static inline char str_ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
}

/* ASCII case-insensitive comparisons (never locale-dependent). */
int str_casecmp(const char *a, const char *b);
int str_ncasecmp(const char *a, const char *b, size_t n);
/* Lower-cases ASCII letters in place. */
void str_lower(char *s, size_t len);
/* Copies at most dstsize-1 bytes and NUL-terminates; returns strlen(src). */
size_t str_lcpy(char *dst, const char *src, size_t dstsize);
/* Parses a decimal uint64 from [p, p+len) exactly; 0 or PETREL_EINVAL (also on overflow). */
int str_to_u64(const char *p, size_t len, uint64_t *v_r);

static inline void be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void be64_put(uint8_t *p, uint64_t v)
{
    be32_put(p, (uint32_t)(v >> 32));
    be32_put(p + 4, (uint32_t)v);
}
static inline uint16_t be16_get(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t be32_get(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t be64_get(const uint8_t *p)
{
    return ((uint64_t)be32_get(p) << 32) | be32_get(p + 4);
}

#endif
