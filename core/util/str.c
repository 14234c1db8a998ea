#include "util/str.h"

#include <string.h>

#include "util/err.h"

int str_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = str_ascii_lower(*a), y = str_ascii_lower(*b);
        if (x != y || !x)
            return (unsigned char)x - (unsigned char)y;
    }
}

int str_ncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = str_ascii_lower(a[i]), y = str_ascii_lower(b[i]);
        if (x != y || !x)
            return (unsigned char)x - (unsigned char)y;
    }
    return 0;
}

void str_lower(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        s[i] = str_ascii_lower(s[i]);
}

size_t str_lcpy(char *dst, const char *src, size_t dstsize)
{
    size_t n = strlen(src);
    if (dstsize) {
        size_t c = n < dstsize - 1 ? n : dstsize - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int str_to_u64(const char *p, size_t len, uint64_t *v_r)
{
    if (len == 0 || len > 20)
        return PETREL_EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return PETREL_EINVAL;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return PETREL_EINVAL;
        v = v * 10 + d;
    }
    *v_r = v;
    return 0;
}
