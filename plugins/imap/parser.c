/*
 * parser.c - the IMAP command parser (see parser.h). No I/O, no host calls:
 * the fuzz target tests/fuzz/fuzz_imap_parser.c compiles this file directly.
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

enum { ST_START = 0, ST_ARGS, ST_LITERAL, ST_AFTER_LITERAL, ST_DONE, ST_ERROR };

static int parser_fail(struct imap_parser *p, int rc, const char *why)
{
    p->error = why;
    p->state = ST_ERROR;
    return rc;
}

struct imap_parser *imap_parser_new(void)
{
    struct imap_parser *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->text_max = IMAP_PARSER_TEXT_MAX;
    p->literal_max = IMAP_PARSER_LITERAL_MAX;
    p->append_literal_max = IMAP_PARSER_LITERAL_MAX;
    p->append_total_max = 0;    /* the whole APPEND within append_literal_max */
    p->append_literals_max = 0; /* no count cap */
    return p;
}

void imap_parser_free(struct imap_parser **pp)
{
    if (!pp || !*pp) return;
    free((*pp)->buf);
    free((*pp)->args);
    free(*pp);
    *pp = NULL;
}

void imap_parser_reset(struct imap_parser *p)
{
    p->tag[0] = '\0';
    p->name[0] = '\0';
    p->nargs = 0;
    p->error = NULL;
    p->lit_size = p->lit_got = 0;
    p->lit_sync = 0;
    p->lit_count = 0;
    p->state = ST_START;
    p->need_sp = 0;
    p->text_used = 0;
    p->depth = 0;
    p->buf_len = 0;
    if (p->buf_cap > IMAP_PARSER_KEEP_BYTES) { /* a big APPEND does not stay resident */
        free(p->buf);
        p->buf = NULL;
        p->buf_cap = 0;
    }
    if (p->args_cap > IMAP_PARSER_KEEP_ARGS) {
        free(p->args);
        p->args = NULL;
        p->args_cap = 0;
    }
}

/* Room for n more bytes in the buffer (growth by doubling, bounded by the budgets). */
static int parser_reserve(struct imap_parser *p, size_t n)
{
    if (n > SIZE_MAX / 2 - p->buf_len) return IMAP_PARSE_ENOMEM;
    size_t need = p->buf_len + n;
    if (need <= p->buf_cap) return 0;
    size_t cap = p->buf_cap ? p->buf_cap : 256;
    while (cap < need)
        cap *= 2;
    uint8_t *nb = realloc(p->buf, cap);
    if (!nb) return IMAP_PARSE_ENOMEM;
    p->buf = nb;
    p->buf_cap = cap;
    return 0;
}

static int parser_add_arg(struct imap_parser *p, uint8_t type, struct imap_arg **a_r)
{
    if (p->nargs >= IMAP_PARSER_MAX_ARGS)
        return parser_fail(p, IMAP_PARSE_ELIMIT, "Too many arguments");
    if (p->nargs == p->args_cap) {
        uint32_t cap = p->args_cap ? p->args_cap * 2 : 16;
        struct imap_arg *na = realloc(p->args, cap * sizeof(*na));
        if (!na) return parser_fail(p, IMAP_PARSE_ENOMEM, "Out of memory");
        p->args = na;
        p->args_cap = cap;
    }
    struct imap_arg *a = &p->args[p->nargs];
    memset(a, 0, sizeof(*a));
    a->type = type;
    a->end = ++p->nargs;
    a->off = p->buf_len;
    *a_r = a;
    return 0;
}

/* Appends bytes (and a NUL) as the value of a. */
static int parser_store(struct imap_parser *p, struct imap_arg *a, const char *s, size_t n)
{
    if (parser_reserve(p, n + 1)) return parser_fail(p, IMAP_PARSE_ENOMEM, "Out of memory");
    a->off = p->buf_len;
    memcpy(p->buf + p->buf_len, s, n);
    p->buf[p->buf_len + n] = '\0';
    a->len = n;
    p->buf_len += n + 1;
    return 0;
}

static int is_atom_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) return 0;
    return c != '(' && c != ')' && c != '{' && c != '"';
}

static int is_tag_char(unsigned char c)
{
    return is_atom_char(c) && c != '+' && c != '%' && c != '*' && c != '\\';
}

/* tag SP name: returns the position after the name. */
static int parser_read_head(struct imap_parser *p, const char *l, size_t len, size_t *pos_r)
{
    size_t i = 0;
    while (i < len && is_tag_char((unsigned char)l[i]))
        i++;
    if (i == 0 || i > IMAP_PARSER_MAX_TAG)
        return parser_fail(p, IMAP_PARSE_EBAD, i ? "Tag too long" : "Missing or invalid tag");
    memcpy(p->tag, l, i);
    p->tag[i] = '\0';
    if (i == len || l[i] != ' ')
        return parser_fail(p, IMAP_PARSE_EBAD, i == len ? "Missing command" : "Invalid tag");
    size_t s = ++i;
    while (i < len && ((l[i] >= 'A' && l[i] <= 'Z') || (l[i] >= 'a' && l[i] <= 'z') ||
                       (l[i] >= '0' && l[i] <= '9') || l[i] == '-' || l[i] == '.'))
        i++;
    if (i == s || i - s > IMAP_PARSER_MAX_NAME || (i < len && l[i] != ' '))
        return parser_fail(p, IMAP_PARSE_EBAD, "Invalid command name");
    for (size_t k = s; k < i; k++)
        p->name[k - s] = (char)(l[k] >= 'a' && l[k] <= 'z' ? l[k] - 32 : l[k]);
    p->name[i - s] = '\0';
    if (strcmp(p->name, "APPEND") != 0)
        p->lit_budget = p->literal_max;
    else
        p->lit_budget = p->append_total_max ? p->append_total_max : p->append_literal_max;
    p->need_sp = 1;
    *pos_r = i;
    return 0;
}

size_t imap_utf8_next(const unsigned char *s, size_t n, uint32_t *c_r)
{
    unsigned char b = s[0];
    size_t len;
    uint32_t c, min;
    if (b < 0x80) {
        *c_r = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf)
        len = 2, c = b & 0x1fu, min = 0x80;
    else if (b >= 0xe0 && b <= 0xef)
        len = 3, c = b & 0x0fu, min = 0x800;
    else if (b >= 0xf0 && b <= 0xf4)
        len = 4, c = b & 0x07u, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *c_r = c;
    return len;
}

int imap_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = imap_utf8_next(u + i, n - i, &c);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static int parser_read_quoted(struct imap_parser *p, const char *l, size_t len, size_t *pos)
{
    struct imap_arg *a;
    int rc = parser_add_arg(p, IMAP_ARG_QUOTED, &a);
    if (rc) return rc;
    size_t i = *pos + 1;
    if (parser_reserve(p, len - i + 1)) return parser_fail(p, IMAP_PARSE_ENOMEM, "Out of memory");
    a->off = p->buf_len;
    size_t n = 0;
    for (;;) {
        if (i >= len) return parser_fail(p, IMAP_PARSE_EBAD, "Unterminated quoted string");
        unsigned char c = (unsigned char)l[i++];
        if (c == '"') break;
        if (c == '\\') {
            if (i >= len || (l[i] != '"' && l[i] != '\\'))
                return parser_fail(p, IMAP_PARSE_EBAD, "Invalid escape in quoted string");
            c = (unsigned char)l[i++];
        } else if (c == '\0') {
            return parser_fail(p, IMAP_PARSE_EBAD, "NUL in quoted string");
        }
        p->buf[a->off + n++] = c;
    }
    p->buf[a->off + n] = '\0';
    if (p->utf8 && !imap_utf8_valid((const char *)p->buf + a->off, n))
        return parser_fail(p, IMAP_PARSE_EBAD, "Invalid UTF-8 in quoted string");
    a->len = n;
    p->buf_len += n + 1;
    *pos = i;
    return 0;
}

/* An atom; "[...]" inside it may hold spaces and parentheses (BODY[HEADER.FIELDS (A B)]). */
static int parser_read_atom(struct imap_parser *p, const char *l, size_t len, size_t *pos)
{
    size_t s = *pos, i = s;
    int bracket = 0;
    while (i < len) {
        unsigned char c = (unsigned char)l[i];
        if (bracket) {
            if (c == ']')
                bracket = 0;
            else if (c < 0x20 || c >= 0x7f)
                break;
        } else if (c == '[') {
            bracket = 1;
        } else if (!is_atom_char(c)) {
            break;
        }
        i++;
    }
    if (bracket) return parser_fail(p, IMAP_PARSE_EBAD, "Missing ']'");
    if (i == s) return parser_fail(p, IMAP_PARSE_EBAD, "Invalid characters in atom");
    int nil =
        i - s == 3 && (l[s] | 0x20) == 'n' && (l[s + 1] | 0x20) == 'i' && (l[s + 2] | 0x20) == 'l';
    struct imap_arg *a;
    int rc = parser_add_arg(p, nil ? IMAP_ARG_NIL : IMAP_ARG_ATOM, &a);
    if (rc || (rc = parser_store(p, a, l + s, i - s))) return rc;
    *pos = i;
    return 0;
}

/* "{n}" or "{n+}" ending the line. */
static int parser_read_literal_head(struct imap_parser *p, const char *l, size_t len, size_t i)
{
    uint64_t n = 0;
    size_t d = ++i;
    while (i < len && l[i] >= '0' && l[i] <= '9') {
        uint64_t d10 = (uint64_t)(l[i] - '0');
        if (n > (UINT64_MAX - d10) / 10)
            return parser_fail(p, IMAP_PARSE_EBAD, "Literal size overflow");
        n = n * 10 + d10;
        i++;
    }
    int sync = 1;
    if (i < len && l[i] == '+') {
        sync = 0;
        i++;
    }
    if (i == d || i >= len || l[i] != '}' || i + 1 != len)
        return parser_fail(p, IMAP_PARSE_EBAD, "Invalid literal");
    p->lit_size = n;
    p->lit_sync = sync;
    p->lit_got = 0;
    int append = strcmp(p->name, "APPEND") == 0; /* per message; the budget is the total */
    if (n > p->lit_budget || (append && n > p->append_literal_max))
        return parser_fail(p, IMAP_PARSE_ETOOBIG,
                           append && n <= p->append_literal_max ? "APPEND too big in total"
                                                                : "Literal too big");
    if (append && p->append_literals_max && p->lit_count >= p->append_literals_max)
        return parser_fail(p, IMAP_PARSE_ELIMIT, "Too many messages in one APPEND");
    p->lit_count++;
    p->lit_budget -= n;
    struct imap_arg *a;
    int rc = parser_add_arg(p, IMAP_ARG_LITERAL, &a);
    if (rc) return rc;
    p->state = ST_LITERAL;
    return IMAP_PARSE_LITERAL;
}

static int parser_close_list(struct imap_parser *p)
{
    if (p->depth == 0) return parser_fail(p, IMAP_PARSE_EBAD, "Unexpected ')'");
    p->depth--;
    p->args[p->stack[p->depth]].end = p->nargs;
    p->need_sp = 1;
    return 0;
}

static int parser_open_list(struct imap_parser *p)
{
    if (p->depth >= IMAP_PARSER_MAX_DEPTH)
        return parser_fail(p, IMAP_PARSE_ELIMIT, "Lists nested too deep");
    struct imap_arg *a;
    int rc = parser_add_arg(p, IMAP_ARG_LIST, &a);
    if (rc) return rc;
    p->stack[p->depth++] = p->nargs - 1;
    p->need_sp = 0;
    return 0;
}

/* Arguments from l[i..len). */
static int parser_read_args(struct imap_parser *p, const char *l, size_t len, size_t i)
{
    int rc;
    for (;;) {
        if (i == len || (i + 1 == len && l[i] == ' ' && p->need_sp)) {
            if (p->depth) return parser_fail(p, IMAP_PARSE_EBAD, "Missing ')'");
            p->state = ST_DONE;
            return IMAP_PARSE_DONE;
        }
        char c = l[i];
        if (c == ')') {
            if ((rc = parser_close_list(p))) return rc;
            i++;
            continue;
        }
        if (p->need_sp) {
            if (c != ' ') return parser_fail(p, IMAP_PARSE_EBAD, "Missing space between arguments");
            i++;
            p->need_sp = 0;
            if (i == len || l[i] == ' ' || l[i] == ')')
                return parser_fail(p, IMAP_PARSE_EBAD, "Unexpected space");
            continue;
        }
        if (c == '(') {
            rc = parser_open_list(p);
            i++;
            if (rc) return rc;
            continue;
        }
        if (c == '{') return parser_read_literal_head(p, l, len, i);
        if (c == '~' && i + 1 < len && l[i + 1] == '{') /* literal8 (RFC 3516) */
            return parser_read_literal_head(p, l, len, i + 1);
        if (c == '"')
            rc = parser_read_quoted(p, l, len, &i);
        else
            rc = parser_read_atom(p, l, len, &i);
        if (rc) return rc;
        p->need_sp = 1;
    }
}

int imap_parser_line(struct imap_parser *p, const char *line, size_t len)
{
    size_t i = 0;
    int rc;
    if (p->state != ST_START && p->state != ST_AFTER_LITERAL)
        return parser_fail(p, IMAP_PARSE_ESTATE, "Parser misuse");
    if (len > p->text_max - p->text_used || len > p->text_max)
        return parser_fail(p, IMAP_PARSE_ELIMIT, "Command too long");
    p->text_used += len;
    if (p->state == ST_START) {
        if ((rc = parser_read_head(p, line, len, &i))) return rc;
        p->state = ST_ARGS;
    } else {
        p->state = ST_ARGS;
        p->need_sp = 1;
    }
    return parser_read_args(p, line, len, i);
}

int imap_parser_literal(struct imap_parser *p, const void *data, size_t n)
{
    if (p->state != ST_LITERAL || n > p->lit_size - p->lit_got)
        return parser_fail(p, IMAP_PARSE_ESTATE, "Parser misuse");
    struct imap_arg *a = &p->args[p->nargs - 1];
    if (p->lit_got == 0) {
        a->off = p->buf_len;
        a->len = 0;
    }
    /* +1: room for the NUL written when the literal is complete */
    if (parser_reserve(p, n + 1)) return parser_fail(p, IMAP_PARSE_ENOMEM, "Out of memory");
    if (n) memcpy(p->buf + p->buf_len, data, n);
    p->buf_len += n;
    a->len += n;
    p->lit_got += n;
    if (p->lit_got < p->lit_size) return IMAP_PARSE_LITERAL;
    p->buf[p->buf_len++] = '\0';
    p->state = ST_AFTER_LITERAL;
    return IMAP_PARSE_NEED_LINE;
}

void imap_parser_peek_tag(struct imap_parser *p, const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && i < IMAP_PARSER_MAX_TAG && is_tag_char((unsigned char)line[i]))
        i++;
    if (i < len && line[i] == ' ') {
        memcpy(p->tag, line, i);
        p->tag[i] = '\0';
    } else {
        p->tag[0] = '\0';
    }
}

const char *imap_arg_str(const struct imap_parser *p, const struct imap_arg *a)
{
    if (!imap_arg_is_string(a)) return NULL;
    return p->buf ? (const char *)p->buf + a->off : "";
}

int imap_arg_is_string(const struct imap_arg *a)
{
    return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL ||
           a->type == IMAP_ARG_NIL;
}

int imap_arg_is_atom(const struct imap_parser *p, const struct imap_arg *a, const char *word)
{
    if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NIL) return 0;
    size_t n = strlen(word);
    if (a->len != n) return 0;
    const char *s = imap_arg_str(p, a);
    for (size_t i = 0; i < n; i++) {
        char x = s[i], y = word[i];
        if (x >= 'a' && x <= 'z') x = (char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (char)(y - 32);
        if (x != y) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ sequence sets */

static int seq_number(const char *s, size_t n, size_t *i, uint32_t *v_r)
{
    if (*i < n && s[*i] == '*') {
        (*i)++;
        *v_r = IMAP_SEQ_STAR;
        return 0;
    }
    uint64_t v = 0;
    size_t d = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (uint64_t)(s[*i] - '0');
        if (v > UINT32_MAX) return IMAP_PARSE_EBAD;
        (*i)++;
    }
    if (*i == d || v == 0) return IMAP_PARSE_EBAD;
    *v_r = (uint32_t)v;
    return 0;
}

int imap_seqset_parse(const char *s, size_t n, struct imap_range *ranges, size_t cap,
                      size_t *count_r)
{
    size_t i = 0, count = 0;
    if (n == 0) return IMAP_PARSE_EBAD;
    for (;;) {
        struct imap_range r;
        if (seq_number(s, n, &i, &r.lo)) return IMAP_PARSE_EBAD;
        r.hi = r.lo;
        if (i < n && s[i] == ':') {
            i++;
            if (seq_number(s, n, &i, &r.hi)) return IMAP_PARSE_EBAD;
        }
        if (ranges) {
            if (count >= cap) return IMAP_PARSE_ELIMIT;
            ranges[count] = r;
        }
        count++;
        if (i == n) break;
        if (s[i] != ',') return IMAP_PARSE_EBAD;
        i++;
    }
    *count_r = count;
    return 0;
}
