/* maildir.c - Maildir++ flag suffixes and folder names (pure; see maildir.h). */
#include "maildir.h"

#include <string.h>

#include <petrel/errors.h>

#include "store/store.h"
#include "util/str.h"

static const struct {
    char letter;
    uint32_t flag;
} maildir_letters[] = {{'D', STORE_F_DRAFT},
                       {'F', STORE_F_FLAGGED},
                       {'R', STORE_F_ANSWERED},
                       {'S', STORE_F_SEEN},
                       {'T', STORE_F_DELETED}};
#define MAILDIR_NLETTERS (sizeof(maildir_letters) / sizeof(maildir_letters[0]))

uint32_t maildir_flags_parse(const char *name, char *kw_r, size_t kwsize, size_t *nkw_r)
{
    const char *info = strstr(name, ":2,");
    uint32_t flags = 0;
    int seen_kw[MAILDIR_KEYWORDS_MAX] = {0};
    size_t nkw = 0;
    if (kw_r && kwsize) kw_r[0] = '\0';
    if (nkw_r) *nkw_r = 0;
    if (!info) return 0;
    for (const char *p = info + 3; *p; p++) {
        for (size_t i = 0; i < MAILDIR_NLETTERS; i++)
            if (*p == maildir_letters[i].letter) flags |= maildir_letters[i].flag;
        if (*p >= 'a' && *p <= 'z') seen_kw[*p - 'a'] = 1;
    }
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
        if (seen_kw[i] && kw_r && nkw + 1 < kwsize) kw_r[nkw++] = (char)('a' + i);
    if (kw_r && kwsize) kw_r[nkw] = '\0';
    if (nkw_r) *nkw_r = nkw;
    return flags;
}

char *maildir_flags_format(uint32_t flags, const char *kwletters, char *dst, size_t dstsize)
{
    size_t n = 0;
    int kw[MAILDIR_KEYWORDS_MAX] = {0};
    for (const char *p = kwletters; p && *p; p++)
        if (*p >= 'a' && *p <= 'z') kw[*p - 'a'] = 1;
    for (size_t i = 0; i < MAILDIR_NLETTERS && n + 1 < dstsize; i++)
        if (flags & maildir_letters[i].flag) dst[n++] = maildir_letters[i].letter;
    for (int i = 0; i < MAILDIR_KEYWORDS_MAX && n + 1 < dstsize; i++)
        if (kw[i]) dst[n++] = (char)('a' + i);
    if (dstsize) dst[n] = '\0';
    return dst;
}

static int maildir_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = str_ascii_upper(c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int maildir_folder_to_mailbox(const char *folder, char *dst, size_t dstsize)
{
    size_t n = 0;
    if (folder[0] == '\0') return str_lcpy(dst, "INBOX", dstsize) < dstsize ? 0 : PETREL_ETOOBIG;
    if (folder[0] != '.' || folder[1] == '\0') return PETREL_EINVAL;
    for (const char *p = folder + 1; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (p[1] == '\0' || p[1] == '.' || p == folder + 1) return PETREL_EINVAL;
            c = '/';
        } else if (c == '/') {
            return PETREL_EINVAL;
        } else if (c == '%' && maildir_hex(p[1]) >= 0 && maildir_hex(p[2]) >= 0) {
            int v = maildir_hex(p[1]) * 16 + maildir_hex(p[2]);
            if (v == '.' || v == '%') {
                c = (char)v;
                p += 2;
            }
        }
        if (n + 1 >= dstsize) return PETREL_ETOOBIG;
        dst[n++] = c;
    }
    dst[n] = '\0';
    return 0;
}

int maildir_mailbox_to_folder(const char *mailbox, char *dst, size_t dstsize)
{
    size_t n = 0;
    if (dstsize == 0) return PETREL_ETOOBIG;
    if (str_casecmp(mailbox, "INBOX") == 0) {
        dst[0] = '\0';
        return 0;
    }
    if (!mailbox[0]) return PETREL_EINVAL;
    if (n + 1 >= dstsize) return PETREL_ETOOBIG;
    dst[n++] = '.';
    for (const char *p = mailbox; *p; p++) {
        const char *put;
        char one[2] = {*p, '\0'};
        if (*p == '.')
            put = "%2E";
        else if (*p == '%')
            put = "%25";
        else if (*p == '/')
            put = ".";
        else
            put = one;
        size_t l = strlen(put);
        if (n + l >= dstsize) return PETREL_ETOOBIG;
        memcpy(dst + n, put, l);
        n += l;
    }
    dst[n] = '\0';
    return 0;
}
