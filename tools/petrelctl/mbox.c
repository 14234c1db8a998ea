/* mbox.c - mboxrd reading and writing (see mbox.h). */
#define _GNU_SOURCE
#include "mbox.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <petrel/errors.h>

#include "maildir.h"
#include "store/store.h"
#include "util/str.h"

static const char mbox_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

int mbox_from_line_write(buf_t *out, int64_t date, uint32_t flags, const char *const *kws,
                         size_t nkw)
{
    struct tm tm;
    time_t t = (time_t)date;
    char d[64], letters[16];
    int rc;
    if (!gmtime_r(&t, &tm)) return PETREL_EINVAL;
    strftime(d, sizeof(d), "%a %b %e %H:%M:%S %Y", &tm);
    rc = buf_printf(out, "From MAILER-DAEMON %s", d);
    maildir_flags_format(flags, "", letters, sizeof(letters));
    if (!rc && letters[0]) rc = buf_printf(out, " flags=%s", letters);
    for (size_t i = 0; !rc && i < nkw; i++)
        rc = buf_printf(out, " kw=%s", kws[i]);
    return rc ? rc : buf_append_byte(out, '\n');
}

/* 1 when the line at p (n bytes left) matches ^>*From  */
static int mbox_is_from(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == '>')
        i++;
    return n - i >= 5 && memcmp(p + i, "From ", 5) == 0;
}

int mbox_body_write(buf_t *out, const uint8_t *msg, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *nl = memchr(msg + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - msg) + 1 : len;
        int rc = 0;
        if (mbox_is_from(msg + off, len - off)) rc = buf_append_byte(out, '>');
        if (!rc) rc = buf_append(out, msg + off, end - off);
        if (rc) return rc;
        off = end;
    }
    return buf_append_byte(out, '\n');
}

void mbox_reader_init(mbox_reader_t *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->line = 1;
}

int mbox_date_parse(const char *p, size_t n, int64_t *t_r, size_t *used_r)
{
    /* "Thu Nov 26 12:57:17 2026": weekday, month, day (1-2 digits, maybe space-padded) */
    char wd[4], mon[4];
    int day, h, mi, s, y, used = 0;
    char tmp[64];
    if (n >= sizeof(tmp)) n = sizeof(tmp) - 1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (sscanf(tmp, "%3s %3s %d %d:%d:%d %d%n", wd, mon, &day, &h, &mi, &s, &y, &used) != 7)
        return PETREL_EINVAL;
    const char *m = strstr(mbox_months, mon);
    if (!m || (m - mbox_months) % 3 || strlen(mon) != 3 || day < 1 || day > 31 || h > 23 ||
        mi > 59 || s > 60 || y < 1970 || y > 9999 || h < 0 || mi < 0 || s < 0)
        return PETREL_EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = (int)(m - mbox_months) / 3,
                    .tm_mday = day,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    *t_r = (int64_t)timegm(&tm);
    *used_r = (size_t)used;
    return 0;
}

/* Parses the From_ line [p, p+n) (without "\n") into m. */
static void mbox_from_parse(const char *p, size_t n, mbox_msg_t *m)
{
    size_t i = 5, used = 0;
    m->date = 0;
    m->has_flags = 0;
    m->flags = 0;
    m->nkw = 0;
    while (i < n && p[i] == ' ')
        i++;
    while (i < n && p[i] != ' ') /* the envelope sender */
        i++;
    while (i < n && p[i] == ' ')
        i++;
    if (mbox_date_parse(p + i, n - i, &m->date, &used)) return;
    i += used;
    /* petrelctl's tokens; anything else (a time zone, junk) is ignored */
    size_t kwoff = 0;
    while (i < n) {
        while (i < n && p[i] == ' ')
            i++;
        size_t s = i;
        while (i < n && p[i] != ' ')
            i++;
        size_t tl = i - s;
        if (tl > 6 && memcmp(p + s, "flags=", 6) == 0) {
            char letters[32];
            snprintf(letters, sizeof(letters), ":2,%.*s", (int)(tl - 6), p + s + 6);
            m->flags = maildir_flags_parse(letters, NULL, 0, NULL);
            m->has_flags = 1;
        } else if (tl > 3 && memcmp(p + s, "kw=", 3) == 0 && m->nkw < MBOX_KEYWORDS_MAX &&
                   kwoff + tl - 2 <= sizeof(m->kwbuf) && tl - 3 <= STORE_KEYWORD_MAX) {
            memcpy(m->kwbuf + kwoff, p + s + 3, tl - 3);
            m->kwbuf[kwoff + tl - 3] = '\0';
            m->kws[m->nkw++] = m->kwbuf + kwoff;
            kwoff += tl - 2;
            m->has_flags = 1;
        }
    }
}

int mbox_next(mbox_reader_t *r, mbox_msg_t *m)
{
    const uint8_t *p = r->p;
    if (r->off >= r->len) return PETREL_ENOTFOUND;
    if (r->len - r->off < 5 || memcmp(p + r->off, "From ", 5) != 0) return PETREL_ECORRUPT;
    const uint8_t *nl = memchr(p + r->off, '\n', r->len - r->off);
    size_t line_end = nl ? (size_t)(nl - p) : r->len;
    size_t fl = line_end - r->off;
    if (fl > 0 && p[line_end - 1] == '\r') fl--;
    m->line = r->line;
    mbox_from_parse((const char *)p + r->off, fl < MBOX_FROM_LINE_MAX ? fl : MBOX_FROM_LINE_MAX, m);
    size_t body = nl ? line_end + 1 : r->len;
    size_t off = body;
    r->line++;
    /* the body runs to the next line that begins with "From " */
    while (off < r->len) {
        if (r->len - off >= 5 && memcmp(p + off, "From ", 5) == 0) break;
        const uint8_t *e = memchr(p + off, '\n', r->len - off);
        off = e ? (size_t)(e - p) + 1 : r->len;
        r->line++;
    }
    m->raw = p + body;
    m->raw_len = off - body;
    r->off = off;
    return 0;
}

int mbox_unquote(const mbox_msg_t *m, buf_t *out)
{
    size_t len = m->raw_len;
    size_t off = 0;
    if (len > 0 && m->raw[len - 1] == '\n') len--; /* the separator */
    while (off < len) {
        const uint8_t *nl = memchr(m->raw + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - m->raw) + 1 : len;
        size_t skip = (m->raw[off] == '>' && mbox_is_from(m->raw + off, len - off)) ? 1 : 0;
        int rc = buf_append(out, m->raw + off + skip, end - off - skip);
        if (rc) return rc;
        off = end;
    }
    return 0;
}

/* The value of header name in the header section of msg, or NULL; *n_r its length. */
static const uint8_t *mbox_header(const uint8_t *msg, size_t len, const char *name, size_t *n_r)
{
    size_t nl = strlen(name), off = 0;
    while (off < len) {
        const uint8_t *e = memchr(msg + off, '\n', len - off);
        size_t end = e ? (size_t)(e - msg) : len;
        size_t ll = end - off;
        if (ll == 0 || (ll == 1 && msg[off] == '\r')) return NULL; /* end of the header */
        if (ll > nl && msg[off + nl] == ':' &&
            str_ncasecmp((const char *)msg + off, name, nl) == 0) {
            *n_r = ll - nl - 1;
            return msg + off + nl + 1;
        }
        off = end + 1;
    }
    return NULL;
}

uint32_t mbox_status_flags(const uint8_t *msg, size_t len)
{
    uint32_t f = 0;
    size_t n;
    const uint8_t *v = mbox_header(msg, len, "Status", &n);
    for (size_t i = 0; v && i < n; i++)
        if (v[i] == 'R') f |= STORE_F_SEEN;
    v = mbox_header(msg, len, "X-Status", &n);
    for (size_t i = 0; v && i < n; i++) {
        if (v[i] == 'A')
            f |= STORE_F_ANSWERED;
        else if (v[i] == 'F')
            f |= STORE_F_FLAGGED;
        else if (v[i] == 'T')
            f |= STORE_F_DRAFT;
        else if (v[i] == 'D')
            f |= STORE_F_DELETED;
    }
    return f;
}
