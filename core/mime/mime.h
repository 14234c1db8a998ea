/*
 * mime.h - RFC 5322 / MIME parser, IMAP ENVELOPE / BODY / BODYSTRUCTURE, the
 * serialized structure cache, header-field lookup and body decoding.
 *
 * Everything here is pure: bytes in, bytes or offsets out, no I/O, no
 * reliance on NUL termination. Every function returns 0 or a negative
 * PETREL_E* code (PETREL_EINVAL, PETREL_ENOMEM, PETREL_ENOTFOUND,
 * PETREL_ECORRUPT, PETREL_EVERSION as documented per function).
 *
 * Decisions (see docs/mime.md for the longer version):
 * - Sizes and line counts are those of the bytes given: a message stored
 *   with bare LF reports bare-LF sizes; body_lines counts LF bytes. The
 *   CRLF-normalized size is reported separately (mime_facts.virtual_size).
 * - Type/subtype/parameter names keep the case they have in the message,
 *   defaults are "text" "plain" ("charset" "us-ascii") and "7bit", as Dovecot.
 * - RFC 2231: continuations are merged; an extended value stays encoded
 *   under the name "name*" ("utf-8''%C3%A9"), as Dovecot returns it.
 * - RFC 2047 encoded words stay encoded in ENVELOPE and BODYSTRUCTURE.
 * - A multipart without boundary, or whose boundary never occurs, has no
 *   parts; its BODYSTRUCTURE shows one empty text/plain part (Dovecot).
 * - Past max_depth, a multipart or message/rfc822 entity is a leaf and is
 *   described as "text" "plain" (its type is not trusted any more); past
 *   max_parts the remaining parts of a multipart are not split out (their
 *   bytes stay inside the parent's body, not addressable as sections).
 */
#ifndef PETREL_MIME_H
#define PETREL_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MIME_DEFAULT_MAX_DEPTH 32
#define MIME_DEFAULT_MAX_PARTS 10000
/* The cap on one IMAP string produced (ENVELOPE, BODYSTRUCTURE). */
#define MIME_DEFAULT_MAX_IMAP (4u * 1024 * 1024)
/* Version byte of the serialized cache; a reader refuses other versions. */
#define MIME_CACHE_VERSION 1
/* The most a cache may grow to (mime_cache_build appends at most this). */
#define MIME_CACHE_MAX (16u * 1024 * 1024)

struct mime_limits {
    uint32_t max_depth; /* nesting of multipart / message entities */
    uint32_t max_parts; /* entities in the whole tree, root included */
    size_t max_imap;    /* bytes of one ENVELOPE/BODY/BODYSTRUCTURE string */
};

void mime_limits_default(struct mime_limits *lim_r);

/* ------------------------------------------------------------ parse tree */

enum mime_part_kind {
    MIME_PART_LEAF = 0,
    MIME_PART_MULTIPART = 1,
    MIME_PART_MESSAGE = 2, /* message/rfc822: one child, the encapsulated message */
};

/* Content-Transfer-Encoding, as far as decoding needs it. */
enum mime_encoding {
    MIME_ENC_7BIT = 0, /* also: absent or unknown-but-identity */
    MIME_ENC_8BIT = 1,
    MIME_ENC_BINARY = 2,
    MIME_ENC_QP = 3,
    MIME_ENC_BASE64 = 4,
    MIME_ENC_OTHER = 5, /* unknown token: BINARY[] cannot decode it */
};

#define MIME_NONE UINT32_MAX

/* Flags of a part. */
#define MIME_PF_TEXT 0x01    /* text/ *: BODYSTRUCTURE carries a line count */
#define MIME_PF_DEMOTED 0x02 /* a container turned leaf by a limit */

struct mime_part {
    size_t hdr_off, hdr_len; /* header block, including the blank line ending it */
    size_t body_off,
        body_len;      /* body; for a multipart child, up to the CRLF before the delimiter */
    size_t body_lines; /* LF bytes in the body */
    uint32_t parent, first_child, next_sibling; /* indexes into parts, MIME_NONE */
    uint32_t nchildren;
    uint8_t kind;     /* enum mime_part_kind */
    uint8_t encoding; /* enum mime_encoding */
    uint8_t flags;    /* MIME_PF_* */
    uint8_t depth;    /* 0 for the root */
};

/* Facts about the whole message. */
#define MIME_MF_8BIT 0x01   /* some byte >= 0x80 */
#define MIME_MF_NUL 0x02    /* some NUL byte */
#define MIME_MF_BARELF 0x04 /* some LF not preceded by CR */
/* The IMAP strings outgrew their bounds (lim.max_imap, MIME_CACHE_MAX): the
 * cache describes the message as one text/plain part, ENVELOPE all NIL. */
#define MIME_MF_DEGRADED 0x08

struct mime_facts {
    uint64_t size;         /* bytes of the message */
    uint64_t virtual_size; /* bytes with every bare LF counted as CRLF */
    uint64_t hdr_len;      /* the header block, blank line included; starts at 0 */
    uint64_t hdr_lines;    /* LF bytes in it */
    uint64_t body_off, body_len, body_lines;
    uint32_t nparts;
    uint32_t flags; /* MIME_MF_* */
};

/* A parsed message. parts[0] is the root (the message itself, its header is
 * the RFC 5322 header). The tree points into msg: it is valid as long as the
 * caller keeps msg alive and unchanged. */
struct mime_tree {
    const uint8_t *msg;
    size_t len;
    struct mime_part *parts; /* owned */
    uint32_t nparts;
    uint32_t cap;
    struct mime_limits lim;
    struct mime_facts facts;
};

/* Parses msg[0..len). lim may be NULL for the defaults. Never fails on bad
 * MIME (it degrades as documented above); errors: PETREL_ENOMEM,
 * PETREL_EINVAL (msg NULL with len > 0). Free with mime_tree_free(). */
int mime_parse(const uint8_t *msg, size_t len, const struct mime_limits *lim,
               struct mime_tree **tree_r);
void mime_tree_free(struct mime_tree **tree);

/* ------------------------------------------------------------ IMAP strings */

/* ENVELOPE of a header block (RFC 3501 7.4.2), appended to out. */
int mime_imap_envelope(const uint8_t *hdr, size_t hdr_len, buf_t *out);
/* BODY (extended = 0) or BODYSTRUCTURE (extended = 1) of a tree's root. */
int mime_imap_bodystructure(const struct mime_tree *t, int extended, buf_t *out);
/* Appends s as an IMAP string: quoted when it can be, else a literal {n}\r\n.
 * NUL bytes are dropped (IMAP strings cannot carry them). */
int mime_imap_append_string(buf_t *out, const uint8_t *s, size_t n);

/* ------------------------------------------------------------ sections */

enum mime_section_kind {
    MIME_SECTION_BODY = 0,   /* BODY[n] (BODY[] for an empty section) */
    MIME_SECTION_HEADER = 1, /* BODY[n.HEADER] / BODY[HEADER] */
    MIME_SECTION_TEXT = 2,   /* BODY[n.TEXT] / BODY[TEXT] */
    MIME_SECTION_MIME = 3,   /* BODY[n.MIME]; needs a non-empty part number */
};

struct mime_section {
    uint64_t off, len;
    uint8_t encoding; /* of the addressed part (for BINARY[]) */
    uint8_t kind;     /* enum mime_part_kind of the addressed part */
};

/* Resolves a part number ("", "1", "1.2.3"; bytes, not NUL-terminated) as RFC
 * 3501 6.4.5: part 1 of a non-multipart message is its body; the parts of a
 * message/rfc822 part are those of the encapsulated message; HEADER and TEXT
 * need the empty section or a message/rfc822 part (then: the encapsulated
 * message's header / text). Errors: PETREL_EINVAL (syntax, or MIME with an
 * empty section), PETREL_ENOTFOUND (no such part, or HEADER/TEXT of a part
 * that is not a message). */
int mime_tree_section(const struct mime_tree *t, const char *spec, size_t spec_len,
                      enum mime_section_kind kind, struct mime_section *sec_r);

/* ------------------------------------------------------------ cache */

/* Builds the serialized cache of a message and appends it to out (at most
 * MIME_CACHE_MAX bytes, and out->max). Errors: PETREL_ENOMEM, PETREL_EINVAL. */
int mime_cache_build(const uint8_t *msg, size_t len, buf_t *out);
int mime_cache_build_ex(const uint8_t *msg, size_t len, const struct mime_limits *lim, buf_t *out);

/* Accessors on cache bytes only. Each validates the whole cache first
 * (checksum and structure): PETREL_ECORRUPT for bad bytes, PETREL_EVERSION
 * for another version. Returned pointers point into cache and live as long
 * as it does. */
int mime_cache_validate(const uint8_t *cache, size_t len);
int mime_cache_envelope(const uint8_t *cache, size_t len, const uint8_t **p_r, size_t *n_r);
int mime_cache_bodystructure(const uint8_t *cache, size_t len, const uint8_t **p_r, size_t *n_r);
/* BODY is not stored whole (it is BODYSTRUCTURE less its extension data,
 * which the cache marks): it is rebuilt and appended to out; on error out
 * is left as it was. */
int mime_cache_body(const uint8_t *cache, size_t len, buf_t *out);
int mime_cache_facts(const uint8_t *cache, size_t len, struct mime_facts *facts_r);
/* As mime_tree_section; offsets are into the message the cache was built from. */
int mime_cache_section(const uint8_t *cache, size_t len, const char *spec, size_t spec_len,
                       enum mime_section_kind kind, uint64_t *off_r, uint64_t *len_r);
int mime_cache_section_info(const uint8_t *cache, size_t len, const char *spec, size_t spec_len,
                            enum mime_section_kind kind, struct mime_section *sec_r);

/* ------------------------------------------------------------ header fields */

struct mime_field {
    const uint8_t *name; /* without the colon and trailing blanks */
    size_t name_len;
    const uint8_t *value; /* raw: after the colon, folding kept, final line ending not */
    size_t value_len;
    const uint8_t *raw; /* the whole field, final line ending included */
    size_t raw_len;
};

struct mime_hdr_iter {
    const uint8_t *p;
    size_t len, pos;
};

/* Iterates the fields of a header block (it stops at the blank line). A line
 * without a colon is a field whose name is the whole line and value empty. */
void mime_hdr_iter_init(struct mime_hdr_iter *it, const uint8_t *hdr, size_t len);
/* 1 and *f_r filled, or 0 at the end. */
int mime_hdr_iter_next(struct mime_hdr_iter *it, struct mime_field *f_r);
/* The first field named name (ASCII case-insensitive): 0 or PETREL_ENOTFOUND. */
int mime_hdr_find(const uint8_t *hdr, size_t len, const char *name, size_t name_len,
                  struct mime_field *f_r);
/* HEADER.FIELDS (not_ = 0) or HEADER.FIELDS.NOT (not_ = 1): appends the
 * matching fields byte for byte, then the blank line "\r\n". */
int mime_hdr_fields_subset(const uint8_t *hdr, size_t len, const char *const *names, size_t nnames,
                           int not_, buf_t *out);

/* ------------------------------------------------------------ decoding */

/* Appends the decoded bytes; lenient (bad input is copied or skipped, never
 * an error); PETREL_ENOMEM when out is full. */
int mime_qp_decode(const uint8_t *in, size_t len, int header_mode, buf_t *out);
int mime_base64_decode(const uint8_t *in, size_t len, buf_t *out);
/* Decodes per enum mime_encoding (7bit/8bit/binary copied);
 * PETREL_ENOTSUP for MIME_ENC_OTHER. */
int mime_body_decode(const uint8_t *in, size_t len, int encoding, buf_t *out);
/* Unfolds a header value and decodes RFC 2047 encoded words to UTF-8 for
 * the charsets UTF-8, US-ASCII and ISO-8859-1; other encoded words are kept
 * as they are. Whitespace between two encoded words is dropped. */
int mime_rfc2047_decode(const uint8_t *in, size_t len, buf_t *out);
/* The enum mime_encoding of a Content-Transfer-Encoding value. */
int mime_encoding_parse(const uint8_t *v, size_t n);

#endif
