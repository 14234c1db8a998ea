/*
 * mime_int.h - internals shared by the core/mime files (not for callers).
 *
 * Lexing works on [*pp, end) and moves *pp; nothing relies on NUL bytes.
 */
#ifndef PETREL_MIME_INT_H
#define PETREL_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime/mime.h"
#include "util/buf.h"

/* Nesting of RFC 822 comments we follow; deeper ones are skipped flat. */
#define MIME_MAX_COMMENT_DEPTH 64
/* Parameters kept per Content-Type / Content-Disposition field. */
#define MIME_MAX_PARAMS 64
/* The most bytes of parameter names and values kept per field. */
#define MIME_MAX_PARAM_BYTES (256u * 1024)
/* Addresses written per address list of an ENVELOPE. */
#define MIME_MAX_ADDRS 10000

/* ---- lex.c */
bool mime_is_wsp(uint8_t c);
/* Skips spaces, tabs, CR, LF and comments. When comment is not NULL the
 * text of the last comment skipped is left in it (reset first). */
void mime_lex_cfws(const uint8_t **pp, const uint8_t *end, buf_t *comment);
/* An RFC 2045 token (tspecials excluded; 8-bit bytes allowed, as real mail). */
size_t mime_lex_token(const uint8_t **pp, const uint8_t *end);
/* An RFC 5322 atom (specials excluded, '.' allowed when dot is true). */
size_t mime_lex_atom(const uint8_t **pp, const uint8_t *end, bool dot);
/* A quoted string starting at *pp == '"': appends its unescaped content;
 * an unterminated one ends at end. */
int mime_lex_quoted(const uint8_t **pp, const uint8_t *end, buf_t *out);
/* ASCII case-insensitive compare of bytes with a C string. */
bool mime_bytes_ieq(const uint8_t *p, size_t n, const char *s);

/* ---- params.c: Content-Type / Content-Disposition values */
struct mime_param {
    size_t name_off, name_len, val_off, val_len; /* into mime_params.store */
};
struct mime_params {
    uint32_t n;
    struct mime_param p[MIME_MAX_PARAMS];
    buf_t store;
};
void mime_params_init(struct mime_params *ps);
void mime_params_free(struct mime_params *ps);
/* Parses "; a=b; c*0*=..." from [p, end), merging RFC 2231 continuations. */
int mime_params_parse(const uint8_t *p, const uint8_t *end, struct mime_params *ps);
/* The value of a parameter, or NULL. */
const uint8_t *mime_params_get(const struct mime_params *ps, const char *name, size_t *len_r);

struct mime_ctype {
    const uint8_t *type, *subtype; /* into the header; NULL when absent or invalid */
    size_t type_len, subtype_len;
    const uint8_t *params_at; /* where the parameters start */
};
/* Parses "type/subtype" of a Content-Type value: 0, or PETREL_EINVAL. */
int mime_ctype_parse(const uint8_t *v, size_t n, struct mime_ctype *ct_r);

/* ---- hdr.c */
/* Length of the header block at p (blank line included) or len when none. */
size_t mime_hdr_block_len(const uint8_t *p, size_t len);
/* Unfolds for humans (Dovecot's rule): CR/LF dropped, TABs become spaces,
 * runs of spaces become one, leading and trailing spaces trimmed. */
int mime_unfold(const uint8_t *v, size_t n, buf_t *out);
/* Unfolds as Dovecot does for Date, Message-ID, In-Reply-To: blanks after
 * the colon skipped, CR/LF removed (a space put where a line break had no
 * blank after it), everything else kept. */
int mime_unfold_nolf(const uint8_t *v, size_t n, buf_t *out);

/* ---- imapstr.c */
int mime_imap_nstring(buf_t *out, const uint8_t *s, size_t n, bool present);
/* ENVELOPE of the header of a part of t. */
int mime_imap_envelope_part(const struct mime_tree *t, uint32_t idx, buf_t *out);

/* ---- bodystruct.c */
/* BODYSTRUCTURE, and in spans pairs of size_t (start, end): the extension
 * data to cut out to get BODY. */
int mime_imap_bodystructure_spans(const struct mime_tree *t, buf_t *out, buf_t *spans);

/* ---- addr.c */
/* Appends an address list "((...)(...))" or NIL; *count_r addresses written. */
int mime_imap_addresses(const uint8_t *v, size_t n, buf_t *out, size_t *count_r);

/* ---- section.c: resolution over a flat preorder part array */
int mime_section_resolve(const struct mime_part *parts, uint32_t nparts, uint64_t msg_len,
                         const char *spec, size_t spec_len, enum mime_section_kind kind,
                         struct mime_section *sec_r);

#endif
