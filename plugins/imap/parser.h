/*
 * parser.h - the IMAP command parser: pure, bounded, resumable (no I/O).
 *
 * Modelled on Dovecot's imap-parser. The host frames input into lines and
 * hands literal bytes over separately (read_raw/on_data), so the parser is
 * resumable at those boundaries: a command is one or more lines with literals
 * between them.
 *
 *   imap_parser_reset(p)                      start of every command
 *   rc = imap_parser_line(p, line, len)       a line without its CRLF
 *     IMAP_PARSE_DONE     the command is complete: p->tag, p->name, p->args
 *     IMAP_PARSE_LITERAL  a literal of p->lit_size bytes follows. Its size was
 *                         already checked against the command's remaining
 *                         budget, so a synchronising literal ({n}, p->lit_sync)
 *                         may be answered with "+" now. Feed its bytes with
 *                         imap_parser_literal(), then the next line.
 *     < 0                 an IMAP_PARSE_E* error; p->error says why (a static
 *                         string, safe to send after "BAD"), p->tag is set when
 *                         the tag could be read. p->lit_sync == 0 with
 *                         p->lit_size > 0 means the client announced a
 *                         non-synchronising literal that it is sending anyway.
 *   rc = imap_parser_literal(p, data, n)      bytes of the literal, in chunks:
 *                         IMAP_PARSE_LITERAL while more is expected, then
 *                         IMAP_PARSE_NEED_LINE (feed the rest of the command).
 *
 * Limits (named caps): IMAP_PARSER_MAX_TAG, _MAX_NAME, _MAX_ARGS, _MAX_DEPTH,
 * p->text_max (bytes of command text outside literals, all lines together),
 * p->literal_max (total literal bytes of a command); for APPEND instead:
 * p->append_literal_max (bytes of one literal, normally the listener's
 * max_message_size), p->append_total_max (literal bytes of the whole command:
 * MULTIAPPEND, RFC 3502; 0: append_literal_max) and p->append_literals_max
 * (literals in one APPEND; 0: no count cap).
 *
 * Memory: the parser owns one growable buffer holding every argument's bytes
 * (each NUL-terminated for convenience; literals may contain NULs, use len)
 * and the growable argument array. Argument pointers are valid until the
 * next imap_parser_reset/free. Reset shrinks both back to a small size, so
 * an idle session holds about 3 KiB here.
 */
#ifndef IMAP_PARSER_H
#define IMAP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#define IMAP_PARSER_MAX_TAG 64
#define IMAP_PARSER_MAX_NAME 32
#define IMAP_PARSER_MAX_ARGS 512
#define IMAP_PARSER_MAX_DEPTH 16
#define IMAP_PARSER_TEXT_MAX (256u * 1024u)   /* default text_max */
#define IMAP_PARSER_LITERAL_MAX (64u * 1024u) /* default literal_max (non-APPEND) */
#define IMAP_PARSER_KEEP_BYTES 2048u          /* buffer kept across commands */
#define IMAP_PARSER_KEEP_ARGS 32u             /* argument slots kept across commands */

enum imap_parse_rc {
    IMAP_PARSE_DONE = 0,
    IMAP_PARSE_LITERAL = 1,
    IMAP_PARSE_NEED_LINE = 2,
    IMAP_PARSE_EBAD = -1,    /* syntax error */
    IMAP_PARSE_ELIMIT = -2,  /* too many args, too deep, too much text */
    IMAP_PARSE_ETOOBIG = -3, /* literal larger than the remaining budget */
    IMAP_PARSE_ENOMEM = -4,
    IMAP_PARSE_ESTATE = -5, /* called out of order (a bug of the caller) */
};

enum imap_arg_type {
    IMAP_ARG_ATOM = 1,
    IMAP_ARG_QUOTED = 2,
    IMAP_ARG_LITERAL = 3,
    IMAP_ARG_NIL = 4,
    IMAP_ARG_LIST = 5,
};

/*
 * One argument. Args are stored flat in order; a list is followed by its
 * members and `end` is the index after its last descendant (for other types
 * index + 1). Members of list i: j = i + 1; while (j < args[i].end) j = args[j].end.
 */
struct imap_arg {
    uint8_t type;
    uint32_t end;
    size_t off; /* into the parser's buffer (strings) */
    size_t len;
};

struct imap_parser {
    /* limits: set by the owner, kept by reset */
    size_t text_max;
    uint64_t literal_max;
    uint64_t append_literal_max;
    uint64_t append_total_max;
    uint32_t append_literals_max;
    /* 1: quoted strings may hold UTF-8 and must be valid UTF-8 (IMAP4rev2 / UTF8=ACCEPT,
     * RFC 6855 3: "MUST reject ... invalid UTF-8 ... with a BAD"); 0: 8-bit bytes pass */
    int utf8;

    /* the command */
    char tag[IMAP_PARSER_MAX_TAG + 1];
    char name[IMAP_PARSER_MAX_NAME + 1]; /* upper-cased */
    struct imap_arg *args;               /* grows up to IMAP_PARSER_MAX_ARGS */
    uint32_t nargs, args_cap;
    const char *error;

    /* literal in progress */
    uint64_t lit_size;
    uint64_t lit_got;
    int lit_sync;

    /* internal */
    int state;
    int need_sp;
    uint64_t lit_budget;
    uint32_t lit_count; /* literals of this command so far */
    size_t text_used;
    uint32_t stack[IMAP_PARSER_MAX_DEPTH];
    unsigned depth;
    uint8_t *buf;
    size_t buf_len, buf_cap;
};

/* A parser with the default limits. NULL on out of memory. */
struct imap_parser *imap_parser_new(void);
void imap_parser_free(struct imap_parser **p);
/* Forgets the current command (limits are kept). */
void imap_parser_reset(struct imap_parser *p);
int imap_parser_line(struct imap_parser *p, const char *line, size_t len);
int imap_parser_literal(struct imap_parser *p, const void *data, size_t n);

/* Sets p->tag from the start of a line that will not be parsed (too long), or "". */
void imap_parser_peek_tag(struct imap_parser *p, const char *line, size_t len);

/* Bytes of a string argument (NUL-terminated), NULL for lists. */
const char *imap_arg_str(const struct imap_parser *p, const struct imap_arg *a);
/* 1 for an atom, quoted string, literal or NIL (an astring; NIL reads "NIL"). */
int imap_arg_is_string(const struct imap_arg *a);
/* 1 when the arg is an atom equal (ASCII case-insensitively) to word. */
int imap_arg_is_atom(const struct imap_parser *p, const struct imap_arg *a, const char *word);

/* ------------------------------------------------------------ sequence sets */
/* One range of a sequence set; 0 stands for '*'. lo <= hi is NOT guaranteed. */
struct imap_range {
    uint32_t lo, hi;
};
#define IMAP_SEQ_STAR 0u
/*
 * Parses a sequence-set ("1,3:5,7:*", "$" is not supported) of n bytes.
 * ranges may be NULL to count only. 0 and *count_r; IMAP_PARSE_EBAD on bad
 * syntax, IMAP_PARSE_ELIMIT when more than cap ranges (cap ignored if NULL).
 */
int imap_seqset_parse(const char *s, size_t n, struct imap_range *ranges, size_t cap,
                      size_t *count_r);

/*
 * The UTF-8 sequence at s[0..n) (n >= 1): its length (1..4) and code point
 * in *c_r, or 0 when it is not valid (RFC 3629: overlong, surrogate, beyond
 * U+10FFFF, truncated).
 */
size_t imap_utf8_next(const unsigned char *s, size_t n, uint32_t *c_r);
/* 1 when s[0..n) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int imap_utf8_valid(const char *s, size_t n);

#endif
