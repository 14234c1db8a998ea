/*
 * maildir.h - Maildir++ names as petrelctl reads and writes them (pure; the
 * file-system walking is in import.c / export.c). Unit-tested in
 * tests/unit/test_petrelctl_maildir.c.
 *
 * Flags: the ":2,LETTERS" info suffix: D draft, F flagged, P passed
 * (ignored), R replied (\Answered), S seen, T trashed (\Deleted); lower-case
 * letters a..z are keywords, numbered by the folder's dovecot-keywords file
 * ("0 $Forwarded" -> 'a'). Letters are written in ASCII order.
 *
 * Folders (Dovecot's Maildir++ layout): the root is INBOX, ".Sent" is Sent,
 * ".Lists.foo" is Lists/foo (Petrel's separator is '/'). A '.' or '%' inside
 * a mailbox name is written as %2E or %25 and read back; other bytes are
 * kept as they are (no modified-UTF-7 conversion).
 */
#ifndef PETRELCTL_MAILDIR_H
#define PETRELCTL_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

#define MAILDIR_KEYWORDS_MAX 26

/*
 * The STORE_F_* flags of a file name (0 when it has no ":2," suffix).
 * kw_r (may be NULL) gets the keyword letters present, NUL-terminated
 * (kwsize >= 27 holds them all); *nkw_r their number.
 */
uint32_t maildir_flags_parse(const char *name, char *kw_r, size_t kwsize, size_t *nkw_r);
/* "DFRST..." + keyword letters (sorted) for flags; returns dst. */
char *maildir_flags_format(uint32_t flags, const char *kwletters, char *dst, size_t dstsize);

/* ".Lists.foo" -> "Lists/foo", "" -> "INBOX". 0 or PETREL_EINVAL (no leading '.', empty part). */
int maildir_folder_to_mailbox(const char *folder, char *dst, size_t dstsize);
/* "Lists/foo" -> ".Lists.foo", "INBOX" (any case) -> "". 0 or PETREL_EINVAL / PETREL_ETOOBIG. */
int maildir_mailbox_to_folder(const char *mailbox, char *dst, size_t dstsize);

#endif
