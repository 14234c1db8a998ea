/*
 * search.h - the pieces of SEARCH's text matching (plugins/imap/search_*.c).
 *
 *   search_fold.c   charset conversion + case folding to "folded UTF-8" (pure)
 *   search_bs.c     walks a cached BODYSTRUCTURE string to find the parts (pure)
 *   search_text.c   one message's header/body text, decoded and folded (host calls)
 */
#ifndef IMAP_SEARCH_H
#define IMAP_SEARCH_H

#include <petrel/plugin.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ search_fold.c */
enum imap_charset {
    IMAP_CS_UTF8 = 0, /* also US-ASCII */
    IMAP_CS_LATIN1,   /* ISO-8859-1 */
    IMAP_CS_CP1252,   /* windows-1252 */
    IMAP_CS_LATIN9,   /* ISO-8859-15 */
    IMAP_CS_UNKNOWN,  /* searched as if UTF-8: ASCII still matches */
};

/* The charset called name (n bytes, any case): an IMAP_CS_*. */
int imap_charset_find(const char *name, size_t n);

/* Output room imap_fold needs for n input bytes. */
#define IMAP_FOLD_MAX(n) ((n)*3)
/*
 * in (n bytes of charset cs) as folded UTF-8 into out, which has room for
 * IMAP_FOLD_MAX(n) bytes (UTF-8 input never grows). Returns the bytes written.
 */
size_t imap_fold(int cs, const char *in, size_t n, char *out);
/* The first needle in h, or NULL (an empty needle is found at h). */
const char *imap_memmem(const char *h, size_t hn, const char *needle, size_t nn);

/* ------------------------------------------------------------ search_bs.c */
#define IMAP_BS_MAX_DEPTH 16  /* nesting of multiparts / message/rfc822 */
#define IMAP_BS_MAX_PARTS 256 /* leaves reported per message */
#define IMAP_BS_SPEC_MAX 64   /* "1.2.3" part numbers */

/* A part of the structure. Strings point into the BODYSTRUCTURE text (quoted
 * strings' contents, escapes left as they are), valid as long as it is. */
struct imap_bs_part {
    char spec[IMAP_BS_SPEC_MAX]; /* NUL-terminated part number, "1" for a single part */
    const char *type, *subtype, *charset;
    size_t type_len, subtype_len, charset_len; /* charset_len 0: none given */
    int message; /* message/rfc822: its contents' parts follow as spec.N */
};
/* Returns nonzero to stop the walk (that value is returned). */
typedef int (*imap_bs_cb)(const struct imap_bs_part *pt, void *arg);
/*
 * Calls cb for every non-multipart part of BODYSTRUCTURE text bs[0..n), in
 * order (a message/rfc822 part first, then its contents). 0 when the whole
 * structure was walked, cb's nonzero result, or -1 on malformed text or a
 * cap (depth, parts, spec length) reached: the parts reported so far stand.
 */
int imap_bs_walk(const char *bs, size_t n, imap_bs_cb cb, void *arg);
/* 1 when s[0..n) (may be NULL) equals the lower-case word, ASCII case-insensitively. */
int imap_bs_ieq(const char *s, size_t n, const char *word);

/* ------------------------------------------------------------ search_text.c */
#define IMAP_SEARCH_TEXT_MAX (16u << 20) /* folded body text searched per message */

/*
 * One message's text for the text keys of a SEARCH, built lazily and kept
 * until imap_search_msg_clear: the header block and the text parts (each
 * text/ * part decoded from its Content-Transfer-Encoding and charset), all
 * folded. r is the message's read snapshot; clear before read_end.
 */
struct imap_search_msg {
    petrel_read *r;
    uint32_t mailbox, uid;
    char *hdr, *body; /* folded; NULL until needed */
    size_t hdr_len, body_len;
    int hdr_done, body_done;
};
void imap_search_msg_init(struct imap_search_msg *m, petrel_read *r, uint32_t mailbox,
                          uint32_t uid);
void imap_search_msg_clear(struct imap_search_msg *m);
/* 1 when a field called name holds needle (folded) in its RFC 2047-decoded value;
 * an empty needle: 1 when the field exists. */
int imap_search_msg_header(struct imap_search_msg *m, const char *name, const char *needle,
                           size_t nn);
/* 1 when needle (folded) is in the text parts (and, with_header, in the header block). */
int imap_search_msg_text(struct imap_search_msg *m, int with_header, const char *needle, size_t nn);

#endif
