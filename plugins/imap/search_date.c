/*
 * search_date.c - the day of an RFC 5322 Date: value for SEARCH SENTBEFORE /
 * SENTON / SENTSINCE, which disregard time and timezone (RFC 3501 6.4.4):
 * "[Day ,] d Mon yyyy ..." -> days since the epoch of that calendar date.
 * Pure (no host calls): the unit tests include it.
 */
#include "imap_int.h"

#include <strings.h>
#include <time.h>

static size_t date_skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* Up to max digits at s[*i]: the value, or -1 when there is none. */
static int date_number(const char *s, size_t n, size_t *i, int max)
{
    int v = 0, k = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k == 0 || (*i < n && s[*i] >= '0' && s[*i] <= '9')) return -1;
    return v;
}

int imap_rfc5322_day(const char *s, size_t n, int64_t *day_r)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    size_t i = date_skip_ws(s, n, 0);
    if (i + 3 < n && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) { /* day-of-week "," */
        i += 3;
        i = date_skip_ws(s, n, i);
        if (i >= n || s[i] != ',') return -1;
        i = date_skip_ws(s, n, i + 1);
    }
    int day = date_number(s, n, &i, 2);
    size_t m0 = date_skip_ws(s, n, i);
    if (day < 1 || day > 31 || m0 == i || m0 + 3 > n) return -1;
    int mon = -1;
    for (int k = 0; k < 12; k++)
        if (strncasecmp(s + m0, months + 3 * k, 3) == 0) mon = k;
    i = m0 + 3;
    size_t y0 = date_skip_ws(s, n, i);
    if (mon < 0 || y0 == i) return -1;
    i = y0;
    int year = date_number(s, n, &i, 4);
    if (year < 0) return -1;
    if (i - y0 == 2) /* RFC 5322 4.3 obsolete years */
        year += year < 50 ? 2000 : 1900;
    else if (i - y0 == 3)
        year += 1900;
    if (year < 1900 || year > 9999) return -1;
    struct tm tm = {.tm_mday = day, .tm_mon = mon, .tm_year = year - 1900};
    *day_r = (int64_t)timegm(&tm) / 86400;
    return 0;
}
