/* out.c - JSON writer and error lines for petrelctl (see out.h). */
#include "out.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

void out_json_init(out_json_t *w, FILE *f)
{
    memset(w, 0, sizeof(*w));
    w->f = f;
}

/* Writes the comma that separates this value from the previous one. */
static void out_json_sep(out_json_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->count[w->depth]++ > 0) fputc(',', w->f);
}

static void out_json_open(out_json_t *w, char c)
{
    out_json_sep(w);
    if (w->depth + 1 >= OUT_JSON_DEPTH_MAX) {
        w->err = 1;
        return;
    }
    fputc(c, w->f);
    w->count[++w->depth] = 0;
}

static void out_json_close(out_json_t *w, char c)
{
    if (w->depth == 0) {
        w->err = 1;
        return;
    }
    fputc(c, w->f);
    w->depth--;
}

void out_json_obj_begin(out_json_t *w)
{
    out_json_open(w, '{');
}
void out_json_obj_end(out_json_t *w)
{
    out_json_close(w, '}');
}
void out_json_arr_begin(out_json_t *w)
{
    out_json_open(w, '[');
}
void out_json_arr_end(out_json_t *w)
{
    out_json_close(w, ']');
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t out_utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

static void out_json_raw_str(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t l = out_utf8_len(p + i, n - i);
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c < 0x20 || c == 0x7f || l == 0) {
            fprintf(f, "\\u%04x", c); /* invalid UTF-8 bytes appear as U+0080..U+00FF */
            i++;
            continue;
        } else {
            fwrite(p + i, 1, l, f);
            i += l;
            continue;
        }
        i++;
    }
    fputc('"', f);
}

void out_json_key(out_json_t *w, const char *key)
{
    out_json_sep(w);
    out_json_raw_str(w->f, key, strlen(key));
    fputc(':', w->f);
    w->after_key = 1;
}

void out_json_strn(out_json_t *w, const char *s, size_t n)
{
    out_json_sep(w);
    out_json_raw_str(w->f, s, n);
}

void out_json_str(out_json_t *w, const char *s)
{
    if (!s) {
        out_json_null(w);
        return;
    }
    out_json_strn(w, s, strlen(s));
}

void out_json_u64(out_json_t *w, uint64_t v)
{
    out_json_sep(w);
    fprintf(w->f, "%llu", (unsigned long long)v);
}

void out_json_i64(out_json_t *w, int64_t v)
{
    out_json_sep(w);
    fprintf(w->f, "%lld", (long long)v);
}

void out_json_bool(out_json_t *w, int v)
{
    out_json_sep(w);
    fputs(v ? "true" : "false", w->f);
}

void out_json_null(out_json_t *w)
{
    out_json_sep(w);
    fputs("null", w->f);
}

void out_json_kstr(out_json_t *w, const char *key, const char *s)
{
    out_json_key(w, key);
    out_json_str(w, s);
}
void out_json_ku64(out_json_t *w, const char *key, uint64_t v)
{
    out_json_key(w, key);
    out_json_u64(w, v);
}
void out_json_ki64(out_json_t *w, const char *key, int64_t v)
{
    out_json_key(w, key);
    out_json_i64(w, v);
}
void out_json_kbool(out_json_t *w, const char *key, int v)
{
    out_json_key(w, key);
    out_json_bool(w, v);
}

void out_json_done(out_json_t *w)
{
    fputc('\n', w->f);
}

char *out_time(int64_t t, char *dst, size_t dstsize)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t == 0 || !gmtime_r(&tt, &tm)) {
        snprintf(dst, dstsize, "never");
        return dst;
    }
    strftime(dst, dstsize, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return dst;
}

int out_fail(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "petrelctl: %s\n", line);
    return 1;
}

void out_warn(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "petrelctl: warning: %s\n", line);
}
