/*
 * out.c - response building blocks: strings (quoted or literal), mailbox
 * names (modified UTF-7 for IMAP4rev1 clients), flag lists.
 */
#include "imap_int.h"

#include <string.h>

void imap_write_string(struct imap_session *is, const char *s, size_t n)
{
    int quotable = n <= 1024;
    for (size_t i = 0; quotable && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == '\0' || (c >= 0x80 && !imap_utf8_names(is)))
            quotable = 0;
    }
    if (!quotable) {
        imap_host->writef(is->s, "{%zu}\r\n", n);
        imap_host->write(is->s, s, n);
        return;
    }
    imap_host->write(is->s, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            imap_host->write(is->s, s + start, i - start);
            imap_host->write(is->s, "\\", 1);
            start = i;
        }
    }
    imap_host->write(is->s, s + start, n - start);
    imap_host->write(is->s, "\"", 1);
}

void imap_write_mailbox(struct imap_session *is, const char *name)
{
    char enc[IMAP_MAX_NAME * 3];
    size_t n = strlen(name);
    if (strcmp(name, "INBOX") == 0 || imap_utf8_names(is) ||
        imap_utf8_to_mutf7(name, n, enc, sizeof(enc))) {
        imap_write_string(is, name, n);
        return;
    }
    imap_write_string(is, enc, strlen(enc));
}

void imap_write_flags(struct imap_session *is, uint32_t flags, const char *kw, unsigned nkw)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } sys[] = {{PETREL_F_ANSWERED, "\\Answered"},
               {PETREL_F_FLAGGED, "\\Flagged"},
               {PETREL_F_DELETED, "\\Deleted"},
               {PETREL_F_SEEN, "\\Seen"},
               {PETREL_F_DRAFT, "\\Draft"}};
    const char *sep = "";
    imap_host->write(is->s, "(", 1);
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
        if (flags & sys[i].bit) {
            imap_host->writef(is->s, "%s%s", sep, sys[i].name);
            sep = " ";
        }
    }
    for (unsigned i = 0; kw && i < nkw; i++) {
        imap_host->writef(is->s, "%s%s", sep, kw);
        sep = " ";
        kw += strlen(kw) + 1;
    }
    imap_host->write(is->s, ")", 1);
}

static void setw_flush(struct imap_session *is, struct imap_setw *w)
{
    const char *sep = w->any ? "," : w->prefix;
    if (w->hi > w->lo)
        imap_host->writef(is->s, "%s%u:%u", sep, w->lo, w->hi);
    else
        imap_host->writef(is->s, "%s%u", sep, w->lo);
    w->any = 1;
}

void imap_setw_add(struct imap_session *is, struct imap_setw *w, uint32_t uid)
{
    if (w->open && uid == w->hi + 1 && w->hi != UINT32_MAX) {
        w->hi = uid;
        return;
    }
    if (w->open && uid <= w->hi) return; /* not ascending: a duplicate */
    if (w->open) setw_flush(is, w);
    w->lo = w->hi = uid;
    w->open = 1;
}

void imap_setw_end(struct imap_session *is, struct imap_setw *w)
{
    if (w->open) setw_flush(is, w);
    if (w->any) imap_host->write(is->s, "\r\n", 2);
    w->open = 0;
    w->any = 0;
}
