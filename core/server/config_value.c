#include "server/config_value.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util/err.h"
#include "util/str.h"

int cfg_value_uint(const char *v, size_t len, uint64_t min, uint64_t max, uint64_t *n_r)
{
    uint64_t n;
    if (str_to_u64(v, len, &n) < 0) {
        /* all digits but too long for uint64: out of range, not malformed */
        for (size_t i = 0; i < len; i++)
            if (v[i] < '0' || v[i] > '9') return PETREL_EINVAL;
        return len ? PETREL_ETOOBIG : PETREL_EINVAL;
    }
    if (n < min || n > max) return PETREL_ETOOBIG;
    *n_r = n;
    return 0;
}

int cfg_value_size(const char *v, size_t len, uint64_t min, uint64_t max, uint64_t *n_r)
{
    uint64_t mult = 1;
    if (len > 1) {
        switch (str_ascii_upper(v[len - 1])) {
        case 'K':
            mult = 1024;
            break;
        case 'M':
            mult = 1024 * 1024;
            break;
        case 'G':
            mult = 1024 * 1024 * 1024;
            break;
        default:
            break;
        }
        if (mult > 1) len--;
    }
    uint64_t n;
    int rc = cfg_value_uint(v, len, 0, UINT64_MAX, &n);
    if (rc < 0) return rc;
    if (n > UINT64_MAX / mult) return PETREL_ETOOBIG;
    n *= mult;
    if (n < min || n > max) return PETREL_ETOOBIG;
    *n_r = n;
    return 0;
}

int cfg_value_enum(const char *v, size_t len, const char *const *names, int *idx_r)
{
    for (int i = 0; names[i]; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], v, len) == 0) {
            *idx_r = i;
            return 0;
        }
    }
    return PETREL_EINVAL;
}

/* Copies [v, v+len) into a NUL-terminated dst of size dstsize, or fails. */
static int cfg_value_copy(char *dst, size_t dstsize, const char *v, size_t len)
{
    if (len >= dstsize) return PETREL_EINVAL;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

static int cfg_address_host(const char *h, size_t hlen, struct srv_address *a)
{
    char ip[INET6_ADDRSTRLEN];
    memset(&a->ss, 0, sizeof(a->ss));
    if (hlen == 1 && h[0] == '*') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        a->sslen = sizeof(*s6);
        a->dual_stack = true;
        return 0;
    }
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        if (cfg_value_copy(ip, sizeof(ip), h + 1, hlen - 2) < 0 ||
            inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
            return PETREL_EINVAL;
        s6->sin6_family = AF_INET6;
        a->sslen = sizeof(*s6);
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
    /* inet_pton(AF_INET) takes dotted quads only: "1.2.3" and host names fail */
    if (cfg_value_copy(ip, sizeof(ip), h, hlen) < 0 || inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
        return PETREL_EINVAL;
    s4->sin_family = AF_INET;
    a->sslen = sizeof(*s4);
    return 0;
}

int cfg_value_address(const char *v, size_t len, struct srv_address *a_r)
{
    struct srv_address a = {0};
    size_t colon = len;
    while (colon > 0 && v[colon - 1] != ':')
        colon--;
    if (colon < 2 || len - colon == 0 || len >= sizeof(a.text)) return PETREL_EINVAL;
    uint64_t port;
    if (cfg_value_uint(v + colon, len - colon, 1, 65535, &port) < 0) return PETREL_EINVAL;
    if (cfg_address_host(v, colon - 1, &a) < 0) return PETREL_EINVAL;
    if (a.ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a.ss)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)&a.ss)->sin_port = htons((uint16_t)port);
    memcpy(a.text, v, len);
    a.text[len] = '\0';
    *a_r = a;
    return 0;
}

static uint16_t cfg_address_port(const struct srv_address *a)
{
    if (a->ss.ss_family == AF_INET6) return ((const struct sockaddr_in6 *)&a->ss)->sin6_port;
    return ((const struct sockaddr_in *)&a->ss)->sin_port;
}

static bool cfg_address_is_any(const struct srv_address *a)
{
    if (a->ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

bool cfg_address_overlap(const struct srv_address *a, const struct srv_address *b)
{
    if (cfg_address_port(a) != cfg_address_port(b)) return false;
    if (a->dual_stack || b->dual_stack) return true;
    if (a->ss.ss_family != b->ss.ss_family) return false;
    if (cfg_address_is_any(a) || cfg_address_is_any(b)) return true;
    if (a->ss.ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
                      &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)&b->ss)->sin_addr.s_addr;
}
