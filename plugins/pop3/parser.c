/*
 * parser.c - POP3 command lines (RFC 1939, 2449, 2595, 5034) and the
 * RETR/TOP encoder. Pure: see parser.h.
 */
#include "parser.h"

#include <string.h>

#define POP3_USER_MAX 255 /* an address (RFC 5321 path limit) */

struct pop3_cmd_def {
    const char *name;
    unsigned min, max; /* argument count */
    int rest;          /* the single argument is the rest of the line */
    size_t argmax[POP3_ARGS_MAX];
};

/* Indexed by enum pop3_cmd. (size_t)-1: bounded by the line only. */
static const struct pop3_cmd_def pop3_cmds[POP3_CMD_COUNT] = {
    [POP3_CMD_USER] = {"USER", 1, 1, 1, {POP3_USER_MAX, 0}},
    [POP3_CMD_PASS] = {"PASS", 1, 1, 1, {(size_t)-1, 0}},
    [POP3_CMD_APOP] = {"APOP", 2, 2, 0, {POP3_USER_MAX, POP3_ARG_MAX}},
    [POP3_CMD_AUTH] = {"AUTH", 0, 2, 0, {POP3_ARG_MAX, (size_t)-1}},
    [POP3_CMD_STLS] = {"STLS", 0, 0, 0, {0, 0}},
    [POP3_CMD_CAPA] = {"CAPA", 0, 0, 0, {0, 0}},
    [POP3_CMD_QUIT] = {"QUIT", 0, 0, 0, {0, 0}},
    [POP3_CMD_STAT] = {"STAT", 0, 0, 0, {0, 0}},
    [POP3_CMD_LIST] = {"LIST", 0, 1, 0, {POP3_ARG_MAX, 0}},
    [POP3_CMD_RETR] = {"RETR", 1, 1, 0, {POP3_ARG_MAX, 0}},
    [POP3_CMD_DELE] = {"DELE", 1, 1, 0, {POP3_ARG_MAX, 0}},
    [POP3_CMD_NOOP] = {"NOOP", 0, 0, 0, {0, 0}},
    [POP3_CMD_RSET] = {"RSET", 0, 0, 0, {0, 0}},
    [POP3_CMD_TOP] = {"TOP", 2, 2, 0, {POP3_ARG_MAX, POP3_ARG_MAX}},
    [POP3_CMD_UIDL] = {"UIDL", 0, 1, 0, {POP3_ARG_MAX, 0}},
};

const char *pop3_cmd_name(enum pop3_cmd cmd)
{
    return (unsigned)cmd < POP3_CMD_COUNT ? pop3_cmds[cmd].name : "?";
}

static char pop3_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The command whose name is kw[0..n), or -1. */
static int pop3_cmd_find(const char *kw, size_t n)
{
    if (n == 0 || n > POP3_KEYWORD_MAX) return -1;
    for (int i = 0; i < POP3_CMD_COUNT; i++) {
        const char *name = pop3_cmds[i].name;
        if (strlen(name) != n) continue;
        size_t j = 0;
        while (j < n && pop3_upper(kw[j]) == name[j])
            j++;
        if (j == n) return i;
    }
    return -1;
}

/* Splits p[0..n) at spaces into at most max tokens. POP3_PARSE_SYNTAX on too many/too long. */
static int pop3_split(const char *p, size_t n, const struct pop3_cmd_def *d, struct pop3_req *r)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == ' ') {
            i++;
            continue;
        }
        if (r->nargs == d->max) return POP3_PARSE_SYNTAX;
        size_t start = i;
        while (i < n && p[i] != ' ')
            i++;
        if (i - start > d->argmax[r->nargs]) return POP3_PARSE_SYNTAX;
        r->arg[r->nargs] = p + start;
        r->arglen[r->nargs] = i - start;
        r->nargs++;
    }
    return 0;
}

int pop3_parse(const char *line, size_t len, struct pop3_req *req_r)
{
    memset(req_r, 0, sizeof(*req_r));
    if (len == 0) return POP3_PARSE_EMPTY;
    if (memchr(line, '\0', len)) return POP3_PARSE_SYNTAX;
    size_t kw = 0;
    while (kw < len && line[kw] != ' ')
        kw++;
    int c = pop3_cmd_find(line, kw);
    if (c < 0) return kw == 0 ? POP3_PARSE_EMPTY : POP3_PARSE_UNKNOWN;
    const struct pop3_cmd_def *d = &pop3_cmds[c];
    req_r->cmd = (enum pop3_cmd)c;
    const char *rest = kw < len ? line + kw + 1 : line + len;
    size_t restlen = kw < len ? len - kw - 1 : 0;
    if (d->rest) {
        if (restlen == 0 || restlen > d->argmax[0]) return POP3_PARSE_SYNTAX;
        req_r->nargs = 1;
        req_r->arg[0] = rest;
        req_r->arglen[0] = restlen;
        return 0;
    }
    int rc = pop3_split(rest, restlen, d, req_r);
    if (rc) return rc;
    return req_r->nargs < d->min ? POP3_PARSE_SYNTAX : 0;
}

int pop3_parse_num(const char *p, size_t n, uint32_t max, uint32_t *v_r)
{
    if (n == 0 || n > 10) return POP3_PARSE_SYNTAX;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return POP3_PARSE_SYNTAX;
        v = v * 10 + (uint64_t)(p[i] - '0'); /* 10 digits cannot overflow 64 bits */
    }
    if (v > max) return POP3_PARSE_SYNTAX;
    *v_r = (uint32_t)v;
    return 0;
}

/* ------------------------------------------------------------ encoder */

void pop3_enc_init(struct pop3_enc *e, int top, uint64_t lines)
{
    memset(e, 0, sizeof(*e));
    e->top = top ? 1 : 0;
    e->lines_left = lines;
    e->bol = 1;
    e->blank = 1;
}

/* The LF that ends a line was consumed. */
static void pop3_enc_eol(struct pop3_enc *e)
{
    if (e->in_body) {
        if (e->top && e->lines_left > 0 && --e->lines_left == 0) e->done = 1;
    } else if (e->blank) {
        e->in_body = 1; /* the blank line between header and body */
        if (e->top && e->lines_left == 0) e->done = 1;
    }
    e->bol = 1;
    e->blank = 1;
    e->prev_cr = 0;
}

size_t pop3_enc_scan(struct pop3_enc *e, const uint8_t *in, size_t n, const char **ins_r)
{
    *ins_r = NULL;
    size_t i = 0;
    while (i < n && !e->done) {
        if (e->pending) {
            e->pending = 0; /* in[i] was already given its insertion */
        } else if (e->bol && in[i] == '.') {
            e->pending = 1;
            *ins_r = ".";
            return i;
        } else if (in[i] == '\n' && !e->prev_cr) {
            e->pending = 1;
            *ins_r = "\r";
            return i;
        }
        if (in[i] == '\n') {
            pop3_enc_eol(e);
            i++;
            continue;
        }
        /* a run of bytes without LF: only its last byte and blankness matter */
        const uint8_t *nl = i + 1 < n ? memchr(in + i + 1, '\n', n - i - 1) : NULL;
        size_t j = nl ? (size_t)(nl - in) : n;
        for (size_t k = i; e->blank && k < j; k++)
            if (in[k] != '\r') e->blank = 0;
        e->bol = 0;
        e->prev_cr = in[j - 1] == '\r';
        i = j;
    }
    return i;
}

const char *pop3_enc_end(const struct pop3_enc *e)
{
    return e->bol ? ".\r\n" : "\r\n.\r\n";
}

uint64_t pop3_enc_bare_lfs(struct pop3_enc *e, const uint8_t *in, size_t n)
{
    uint64_t lfs = 0;
    while (n > 0) {
        const char *ins;
        size_t k = pop3_enc_scan(e, in, n, &ins);
        if (ins && ins[0] == '\r')
            lfs++;
        else if (k == 0 && !ins)
            break; /* cannot happen for a RETR encoder; never loop */
        in += k;
        n -= k;
    }
    return lfs;
}
