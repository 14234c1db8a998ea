/*
 * match.c - LIST/LSUB pattern matching: '*' matches anything, '%' anything
 * but the hierarchy delimiter '/'. INBOX is case-insensitive (RFC 3501 5.1).
 *
 * Dynamic programming over (pattern prefix, name prefix), one row at a time:
 * O(pattern x name) time whatever the wildcards (a backtracking matcher is
 * exponential on patterns like "%*%*%*...b", which the fuzzer finds).
 */
#include "imap_int.h"

#include <string.h>
#include <strings.h>

#define MATCH_MAX_PATTERN 4096

static int match_plain(const char *p, const char *n)
{
    unsigned char rows[2][MATCH_MAX_PATTERN + 1];
    size_t m = strlen(p);
    if (m > MATCH_MAX_PATTERN) return 0;
    unsigned char *cur = rows[0], *nxt = rows[1];
    cur[0] = 1;
    for (size_t j = 0; j < m; j++)
        cur[j + 1] = cur[j] && (p[j] == '*' || p[j] == '%');
    for (; *n; n++) {
        char c = *n;
        nxt[0] = 0;
        for (size_t j = 0; j < m; j++) {
            if (p[j] == '*')
                nxt[j + 1] = nxt[j] || cur[j + 1];
            else if (p[j] == '%')
                nxt[j + 1] = nxt[j] || (cur[j + 1] && c != '/');
            else
                nxt[j + 1] = cur[j] && p[j] == c;
        }
        unsigned char *t = cur;
        cur = nxt;
        nxt = t;
    }
    return cur[m];
}

int imap_list_match(const char *pattern, const char *name)
{
    /* "inbox" in any case names INBOX */
    if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/') &&
        strncasecmp(pattern, "INBOX", 5) == 0) {
        return match_plain(pattern + 5, name + 5);
    }
    return match_plain(pattern, name);
}
