/*
 * mbox.h - the mbox format as petrelctl reads and writes it. Pure functions
 * over memory (no I/O); unit-tested in tests/unit/test_petrelctl_mbox.c.
 *
 * Writing (mboxrd): each message is a From_ line, the message with every
 * line that matches ^>*From  given one more '>', then one "\n". Reading
 * undoes exactly that (one '>' less on ^>+From  lines, the final "\n"
 * dropped), so a message without a trailing newline comes back byte for
 * byte. A From_ line starts a message wherever it begins a line.
 *
 * The From_ line is "From MAILER-DAEMON <asctime date, UTC>", optionally
 * followed by petrelctl's flags: " flags=<DFRST letters>" and one
 * " kw=<keyword>" per IMAP keyword. Other readers take them for trailing
 * junk after the date, as they do with time zones. Foreign mboxes without
 * them get their flags from the Status: and X-Status: headers.
 */
#ifndef PETRELCTL_MBOX_H
#define PETRELCTL_MBOX_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MBOX_FROM_LINE_MAX 4096
#define MBOX_KEYWORDS_MAX 32

/* Appends a From_ line (with its "\n") for a message of date/flags/keywords to out. */
int mbox_from_line_write(buf_t *out, int64_t date, uint32_t flags, const char *const *kws,
                         size_t nkw);
/* Appends msg with mboxrd quoting and the separating "\n". */
int mbox_body_write(buf_t *out, const uint8_t *msg, size_t len);

typedef struct mbox_msg {
    const uint8_t *raw; /* the quoted body (after the From_ line), pointing into the input */
    size_t raw_len;
    unsigned line; /* the From_ line's line number (1-based) */
    int64_t date;  /* from the From_ line; 0 when it has none that parses */
    int has_flags; /* the From_ line carried flags= */
    uint32_t flags;
    char kwbuf[MBOX_FROM_LINE_MAX]; /* keywords, NUL-separated */
    const char *kws[MBOX_KEYWORDS_MAX];
    size_t nkw;
} mbox_msg_t;

typedef struct mbox_reader {
    const uint8_t *p;
    size_t len, off;
    unsigned line;
} mbox_reader_t;

void mbox_reader_init(mbox_reader_t *r, const uint8_t *p, size_t len);
/*
 * The next message: 0, PETREL_ENOTFOUND at the end, PETREL_ECORRUPT when the
 * input does not begin with a From_ line (r->line names the line).
 */
int mbox_next(mbox_reader_t *r, mbox_msg_t *m);
/* Appends the message bytes of m (unquoted, separator dropped) to out. */
int mbox_unquote(const mbox_msg_t *m, buf_t *out);
/* Flags from Status: (R = seen) and X-Status: (A answered, F flagged, T draft, D deleted). */
uint32_t mbox_status_flags(const uint8_t *msg, size_t len);
/* Parses "Www Mmm dd hh:mm:ss yyyy" at p; 0 and *t_r, or PETREL_EINVAL. *used_r: bytes. */
int mbox_date_parse(const char *p, size_t n, int64_t *t_r, size_t *used_r);

#endif
