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
        if (c == '\r' || c == '\n' || c == '\0' || (c >= 0x80 && !is->rev2)) quotable = 0;
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
    if (strcmp(name, "INBOX") == 0 || is->rev2 || imap_utf8_to_mutf7(name, n, enc, sizeof(enc))) {
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
