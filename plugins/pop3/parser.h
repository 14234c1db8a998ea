/*
 * parser.h - the POP3 command parser and the RETR/TOP output encoder.
 *
 * Both are pure: no I/O, no host calls, no allocation, no reliance on NUL
 * termination. They are compiled into pop3.so and, directly, into the fuzz
 * target tests/fuzz/fuzz_pop3.c and the unit test tests/unit/test_pop3_parser.c.
 *
 * The host cuts input into lines, so a command is always one complete line;
 * what is resumable is the encoder: it walks a message in as many pieces as
 * the output back-pressure dictates, keeping its state in struct pop3_enc.
 */
#ifndef POP3_PARSER_H
#define POP3_PARSER_H

#include <stddef.h>
#include <stdint.h>

/* RFC 2449: keywords are 3-4 characters; arguments up to 40 (PASS: the rest of the line). */
#define POP3_KEYWORD_MAX 4
#define POP3_ARG_MAX 40
#define POP3_ARGS_MAX 2

enum pop3_cmd {
    POP3_CMD_USER,
    POP3_CMD_PASS,
    POP3_CMD_APOP,
    POP3_CMD_AUTH,
    POP3_CMD_STLS,
    POP3_CMD_CAPA,
    POP3_CMD_QUIT,
    POP3_CMD_STAT,
    POP3_CMD_LIST,
    POP3_CMD_RETR,
    POP3_CMD_DELE,
    POP3_CMD_NOOP,
    POP3_CMD_RSET,
    POP3_CMD_TOP,
    POP3_CMD_UIDL,
    POP3_CMD_COUNT
};

/* Parse results (negative); 0 is success. */
enum pop3_parse_err {
    POP3_PARSE_EMPTY = -1,   /* empty line */
    POP3_PARSE_UNKNOWN = -2, /* not a POP3 command */
    POP3_PARSE_SYNTAX = -3,  /* wrong number or shape of arguments */
};

/*
 * A parsed command. arg[i] point into the line given to pop3_parse and are
 * valid as long as it is; they are not NUL-terminated.
 */
struct pop3_req {
    enum pop3_cmd cmd;
    unsigned nargs;
    const char *arg[POP3_ARGS_MAX];
    size_t arglen[POP3_ARGS_MAX];
};

/*
 * Parses one command line (without its line ending). Keywords are
 * case-insensitive. Argument counts are checked per command: PASS takes the
 * rest of the line (a password may hold spaces), AUTH takes 0-2, the others
 * 0, 1 or 2 tokens of at most POP3_ARG_MAX bytes. NUL bytes are a syntax
 * error. 0 or a POP3_PARSE_* error.
 */
int pop3_parse(const char *line, size_t len, struct pop3_req *req_r);

/* The command's name ("RETR"), for logs. */
const char *pop3_cmd_name(enum pop3_cmd cmd);

/*
 * A decimal number of 1..10 digits without sign or spaces, at most max.
 * 0 or POP3_PARSE_SYNTAX (not a number, overflow, > max).
 */
int pop3_parse_num(const char *p, size_t n, uint32_t max, uint32_t *v_r);

/*
 * The RETR/TOP encoder: turns stored message bytes into the POP3 multi-line
 * form: bare LF becomes CRLF, a line starting with '.' gets another '.'
 * (byte-stuffing). For TOP it stops after the header, the blank line and
 * `lines` body lines.
 */
struct pop3_enc {
    uint64_t lines_left;  /* TOP: body lines still to send */
    unsigned top : 1;     /* stop after lines_left body lines */
    unsigned in_body : 1; /* past the blank line after the header */
    unsigned bol : 1;     /* the next byte starts a line */
    unsigned blank : 1;   /* the current line holds nothing but CRs so far */
    unsigned prev_cr : 1; /* the last byte consumed was CR */
    unsigned pending : 1; /* the insertion before the next byte was made */
    unsigned done : 1;    /* TOP: everything to send was consumed */
};

/* RETR: top = 0. TOP n: top = 1, lines = n. */
void pop3_enc_init(struct pop3_enc *e, int top, uint64_t lines);

/*
 * Walks in[0..n): returns k, the number of bytes to send unchanged. When
 * *ins_r is not NULL it is a string to send after those k bytes and before
 * in[k] (call again with in + k). When e->done is set after the call the k
 * bytes end the output and the rest of the message is not sent.
 */
size_t pop3_enc_scan(struct pop3_enc *e, const uint8_t *in, size_t n, const char **ins_r);

/* The terminator to send after the message: ".\r\n", or "\r\n.\r\n" when it did not end with LF. */
const char *pop3_enc_end(const struct pop3_enc *e);

/*
 * Size accounting without stuffing: the number of bare LFs in in[0..n)
 * (each becomes CRLF on the wire). Resumable over pieces of one message
 * with the same encoder (initialised for RETR).
 */
uint64_t pop3_enc_bare_lfs(struct pop3_enc *e, const uint8_t *in, size_t n);

#endif
