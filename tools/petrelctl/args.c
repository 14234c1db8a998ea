/* args.c - petrelctl's option parser and value parsers (pure; see args.h). */
#define _GNU_SOURCE
#include "args.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <petrel/errors.h>

#include "store/store.h"
#include "util/str.h"

args_opt_t *args_find(args_opt_t *opts, size_t nopts, const char *name)
{
    for (size_t i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0) return &opts[i];
    return NULL;
}

static int args_long(const char *arg, int argc, char *const *argv, int *i, args_opt_t *opts,
                     size_t nopts, char *err, size_t errlen)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    args_opt_t *o = NULL;
    for (size_t k = 0; k < nopts; k++)
        if (strlen(opts[k].name) == nlen && memcmp(opts[k].name, name, nlen) == 0) o = &opts[k];
    if (!o) {
        snprintf(err, errlen, "unknown option '%.*s'", (int)(nlen + 2), arg);
        return PETREL_EINVAL;
    }
    if (!o->has_arg && eq) {
        snprintf(err, errlen, "option '--%s' takes no value", o->name);
        return PETREL_EINVAL;
    }
    if (o->has_arg && eq) {
        o->value = eq + 1;
    } else if (o->has_arg) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "option '--%s' needs a value", o->name);
            return PETREL_EINVAL;
        }
        o->value = argv[++*i];
    }
    o->set++;
    return 0;
}

int args_parse(int argc, char *const *argv, args_opt_t *opts, size_t nopts, args_t *a, char *err,
               size_t errlen)
{
    int only_pos = 0;
    memset(a, 0, sizeof(*a));
    for (size_t k = 0; k < nopts; k++) {
        opts[k].value = NULL;
        opts[k].set = 0;
    }
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            a->help = 1;
        } else if (!only_pos && arg[0] == '-' && arg[1] == '-') {
            int rc = args_long(arg, argc, argv, &i, opts, nopts, err, errlen);
            if (rc) return rc;
        } else if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
            snprintf(err, errlen, "unknown option '%s'", arg);
            return PETREL_EINVAL;
        } else {
            if (a->npos >= ARGS_POS_MAX) {
                snprintf(err, errlen, "too many arguments");
                return PETREL_EINVAL;
            }
            a->pos[a->npos++] = arg;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ numbers */

static int args_digits(const char **p, uint64_t *v_r, unsigned *ndigits_r)
{
    uint64_t v = 0;
    unsigned n = 0;
    while (**p >= '0' && **p <= '9') {
        unsigned d = (unsigned)(**p - '0');
        if (v > (UINT64_MAX - d) / 10) return PETREL_EINVAL;
        v = v * 10 + d;
        n++;
        (*p)++;
    }
    *v_r = v;
    *ndigits_r = n;
    return 0;
}

static int args_suffix_shift(const char *p, unsigned *shift_r)
{
    static const char units[] = "KMGT";
    unsigned shift = 0;
    if (*p == '\0' || ((*p == 'b' || *p == 'B') && p[1] == '\0')) {
        *shift_r = 0;
        return 0;
    }
    const char *u = strchr(units, str_ascii_upper(*p));
    if (!u) return PETREL_EINVAL;
    shift = 10u * (unsigned)(u - units + 1);
    p++;
    if (*p == 'i' || *p == 'I') p++;
    if (*p == 'b' || *p == 'B') p++;
    if (*p != '\0') return PETREL_EINVAL;
    *shift_r = shift;
    return 0;
}

int args_parse_size(const char *s, uint64_t *bytes_r)
{
    const char *p = s;
    uint64_t ip = 0, fp = 0, scale = 1;
    unsigned nd = 0, nf = 0, shift;
    if (!s || args_digits(&p, &ip, &nd) || nd == 0) return PETREL_EINVAL;
    if (*p == '.') {
        p++;
        /* at most 9 fraction digits: enough for a byte at T scale */
        while (*p >= '0' && *p <= '9') {
            if (nf < 9) {
                fp = fp * 10 + (uint64_t)(*p - '0');
                scale *= 10;
                nf++;
            }
            p++;
        }
        if (nf == 0) return PETREL_EINVAL;
    }
    if (args_suffix_shift(p, &shift)) return PETREL_EINVAL;
    if (shift == 0 && fp != 0) return PETREL_EINVAL; /* "1.5" bytes */
    if (shift && ip > (UINT64_MAX >> shift)) return PETREL_EINVAL;
    uint64_t v = ip << shift;
    /* fp < scale <= 1e9 < 2^30 and shift <= 40: fp << shift fits in 2^70? no: use division */
    uint64_t frac = (fp << (shift > 30 ? 30 : shift)) / scale;
    if (shift > 30) frac <<= (shift - 30);
    if (v > UINT64_MAX - frac) return PETREL_EINVAL;
    *bytes_r = v + frac;
    return 0;
}

int args_parse_quota(const char *s, uint64_t *bytes_r)
{
    if (s && str_casecmp(s, "unlimited") == 0) {
        *bytes_r = 0;
        return 0;
    }
    return args_parse_size(s, bytes_r);
}

int args_parse_count(const char *s, int allow_unlimited, uint64_t *n_r)
{
    if (!s || !*s) return PETREL_EINVAL;
    if (allow_unlimited && str_casecmp(s, "unlimited") == 0) {
        *n_r = 0;
        return 0;
    }
    return str_to_u64(s, strlen(s), n_r);
}

/* ------------------------------------------------------------------ dates */

static int args_fixed(const char **p, unsigned n, int *v_r)
{
    int v = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return PETREL_EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *v_r = v;
    return 0;
}

static int args_parse_iso(const char *s, int64_t *t_r)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (args_fixed(&p, 4, &y) || *p++ != '-' || args_fixed(&p, 2, &mo) || *p++ != '-' ||
        args_fixed(&p, 2, &d))
        return PETREL_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (args_fixed(&p, 2, &h) || *p++ != ':' || args_fixed(&p, 2, &mi)) return PETREL_EINVAL;
        if (*p == ':') {
            p++;
            if (args_fixed(&p, 2, &sec)) return PETREL_EINVAL;
        }
        if (*p == 'Z' || *p == 'z') p++;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        y < 1970)
        return PETREL_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (tm.tm_mday != d) /* 2024-02-31 normalised into March */
        return PETREL_EINVAL;
    *t_r = (int64_t)t;
    return 0;
}

int args_parse_date(const char *s, int64_t now, int64_t *t_r)
{
    uint64_t v;
    if (!s || !*s) return PETREL_EINVAL;
    if (s[0] == '@') {
        if (str_to_u64(s + 1, strlen(s + 1), &v) || v > INT64_MAX) return PETREL_EINVAL;
        *t_r = (int64_t)v;
        return 0;
    }
    size_t n = strlen(s);
    char unit = str_ascii_lower(s[n - 1]);
    if (n >= 2 && (unit == 'd' || unit == 'h' || unit == 'w') && s[n - 2] >= '0' &&
        s[n - 2] <= '9' && strchr(s, '-') == NULL) {
        uint64_t mult = unit == 'h' ? 3600 : unit == 'd' ? 86400 : 7 * 86400;
        if (str_to_u64(s, n - 1, &v) || v > (uint64_t)INT64_MAX / mult || (int64_t)(v * mult) > now)
            return PETREL_EINVAL;
        *t_r = now - (int64_t)(v * mult);
        return 0;
    }
    return args_parse_iso(s, t_r);
}

/* ------------------------------------------------------------------ protocols, flags */

static const struct {
    const char *name;
    uint32_t bit;
} args_protos[] = {
    {"smtp", STORE_PROTO_SMTP}, {"pop3", STORE_PROTO_POP3}, {"imap", STORE_PROTO_IMAP}};

int args_parse_protocols(const char *s, uint32_t *bits_r)
{
    uint32_t bits = 0;
    const char *p = s;
    if (!s || !*s) return PETREL_EINVAL;
    if (str_casecmp(s, "none") == 0) {
        *bits_r = 0;
        return 0;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = 0;
        if (n == 3 && str_ncasecmp(p, "all", 3) == 0) {
            bits |= STORE_PROTO_ALL;
            found = 1;
        }
        for (size_t i = 0; i < sizeof(args_protos) / sizeof(args_protos[0]); i++)
            if (strlen(args_protos[i].name) == n && str_ncasecmp(p, args_protos[i].name, n) == 0) {
                bits |= args_protos[i].bit;
                found = 1;
            }
        if (!found) return PETREL_EINVAL;
        p += n;
        if (*p == ',') {
            p++;
            if (!*p) return PETREL_EINVAL;
        }
    }
    *bits_r = bits;
    return 0;
}

char *args_format_protocols(uint32_t bits, char *dst, size_t dstsize)
{
    size_t off = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < sizeof(args_protos) / sizeof(args_protos[0]); i++)
        if (bits & args_protos[i].bit)
            off += (size_t)snprintf(dst + off, off < dstsize ? dstsize - off : 0, "%s%s",
                                    off ? "," : "", args_protos[i].name);
    if (off == 0) snprintf(dst, dstsize, "none");
    return dst;
}

static const struct {
    const char *name;
    uint32_t bit;
} args_flags[] = {{"seen", STORE_F_SEEN},
                  {"answered", STORE_F_ANSWERED},
                  {"flagged", STORE_F_FLAGGED},
                  {"deleted", STORE_F_DELETED},
                  {"draft", STORE_F_DRAFT}};

static int args_atom_ok(const char *w)
{
    if (!*w || strlen(w) > STORE_KEYWORD_MAX) return 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p)) return 0;
    return 1;
}

int args_parse_flags(const char *s, uint32_t *flags_r, char *kwbuf, size_t kwbufsize,
                     const char **kws_r, size_t kwmax, size_t *nkw_r)
{
    uint32_t flags = 0;
    size_t nkw = 0;
    if (!s || str_lcpy(kwbuf, s, kwbufsize) >= kwbufsize) return PETREL_EINVAL;
    char *save = NULL;
    for (char *w = strtok_r(kwbuf, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
        int sys = w[0] == '\\';
        const char *name = sys ? w + 1 : w;
        int found = 0;
        for (size_t i = 0; i < sizeof(args_flags) / sizeof(args_flags[0]); i++)
            if (str_casecmp(name, args_flags[i].name) == 0) {
                flags |= args_flags[i].bit;
                found = 1;
            }
        if (found) continue;
        if (sys || !args_atom_ok(w) || nkw >= kwmax) return PETREL_EINVAL;
        kws_r[nkw++] = w;
    }
    *flags_r = flags;
    *nkw_r = nkw;
    return 0;
}

char *args_format_size(uint64_t bytes, char *dst, size_t dstsize)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(dst, dstsize, "%llu B", (unsigned long long)bytes);
        return dst;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(dst, dstsize, "%.1f %s", v, units[u]);
    return dst;
}
