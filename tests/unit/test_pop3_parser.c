/*
 * test_pop3_parser.c - the POP3 plugin's pure parser and output encoder
 * (plugins/pop3/parser.c, compiled in directly: plugins link nothing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../plugins/pop3/parser.c"

static int parse(const char *s, struct pop3_req *r)
{
    return pop3_parse(s, strlen(s), r);
}

static void test_parse_commands(void **state)
{
    (void)state;
    struct pop3_req r;
    assert_int_equal(parse("stat", &r), 0);
    assert_int_equal(r.cmd, POP3_CMD_STAT);
    assert_int_equal(r.nargs, 0);
    assert_int_equal(parse("RETR 12", &r), 0);
    assert_int_equal(r.cmd, POP3_CMD_RETR);
    assert_int_equal(r.nargs, 1);
    assert_memory_equal(r.arg[0], "12", 2);
    assert_int_equal(parse("Top 3 10", &r), 0);
    assert_int_equal(r.cmd, POP3_CMD_TOP);
    assert_int_equal(r.nargs, 2);
    assert_int_equal(r.arglen[1], 2);
    assert_int_equal(parse("LIST", &r), 0);
    assert_int_equal(r.nargs, 0);
    assert_int_equal(parse("UIDL 1 ", &r), 0); /* a trailing space is tolerated */
    assert_int_equal(r.nargs, 1);
    assert_int_equal(parse("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", &r), 0);
    assert_int_equal(r.cmd, POP3_CMD_AUTH);
    assert_int_equal(r.nargs, 2);
    assert_int_equal(parse("AUTH", &r), 0);
    assert_int_equal(r.nargs, 0);
}

static void test_parse_pass_keeps_spaces(void **state)
{
    (void)state;
    struct pop3_req r;
    assert_int_equal(parse("PASS  two words ", &r), 0);
    assert_int_equal(r.cmd, POP3_CMD_PASS);
    assert_int_equal(r.arglen[0], 11);
    assert_memory_equal(r.arg[0], " two words ", 11);
    assert_int_equal(parse("PASS", &r), POP3_PARSE_SYNTAX);
    assert_int_equal(parse("USER a@b.example", &r), 0);
    assert_int_equal(r.arglen[0], 11);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct pop3_req r;
    assert_int_equal(parse("", &r), POP3_PARSE_EMPTY);
    assert_int_equal(parse(" STAT", &r), POP3_PARSE_EMPTY);
    assert_int_equal(parse("FROB", &r), POP3_PARSE_UNKNOWN);
    assert_int_equal(parse("STATS", &r), POP3_PARSE_UNKNOWN);
    assert_int_equal(parse("RETR", &r), POP3_PARSE_SYNTAX);
    assert_int_equal(parse("RETR 1 2", &r), POP3_PARSE_SYNTAX);
    assert_int_equal(parse("TOP 1", &r), POP3_PARSE_SYNTAX);
    assert_int_equal(parse("STAT 1", &r), POP3_PARSE_SYNTAX);
    char longarg[64] = "DELE ";
    memset(longarg + 5, '1', 41);
    assert_int_equal(parse(longarg, &r), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse("NOOP\0x", 6, &r), POP3_PARSE_SYNTAX);
}

static void test_parse_num(void **state)
{
    (void)state;
    uint32_t v = 7;
    assert_int_equal(pop3_parse_num("42", 2, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(pop3_parse_num("4294967295", 10, UINT32_MAX, &v), 0);
    assert_int_equal(v, UINT32_MAX);
    assert_int_equal(pop3_parse_num("4294967296", 10, UINT32_MAX, &v), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse_num("99999999999", 11, UINT32_MAX, &v), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse_num("-1", 2, 100, &v), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse_num("1x", 2, 100, &v), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse_num("", 0, 100, &v), POP3_PARSE_SYNTAX);
    assert_int_equal(pop3_parse_num("101", 3, 100, &v), POP3_PARSE_SYNTAX);
}

/* Encodes msg in pieces of `step` bytes, as the streaming code does. */
static size_t encode(const char *msg, size_t step, int top, uint64_t lines, char *out, size_t cap)
{
    struct pop3_enc e;
    pop3_enc_init(&e, top, lines);
    size_t len = strlen(msg), off = 0, used = 0;
    while (off < len && !e.done) {
        size_t n = len - off < step ? len - off : step;
        const char *ins;
        size_t k = pop3_enc_scan(&e, (const uint8_t *)msg + off, n, &ins);
        assert_true(used + k + 2 < cap);
        memcpy(out + used, msg + off, k);
        used += k;
        off += k;
        if (ins) {
            memcpy(out + used, ins, strlen(ins));
            used += strlen(ins);
        }
    }
    const char *end = pop3_enc_end(&e);
    assert_true(used + strlen(end) < cap);
    memcpy(out + used, end, strlen(end));
    used += strlen(end);
    out[used] = '\0';
    return used;
}

static void test_enc_stuffing_and_crlf(void **state)
{
    (void)state;
    char out[512];
    const char *msg = "Subject: x\n\n.hidden\r\n..two\nend\r\n";
    const char *want = "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n";
    for (size_t step = 1; step <= 40; step++) {
        encode(msg, step, 0, 0, out, sizeof(out));
        assert_string_equal(out, want);
    }
    encode("no final newline", 5, 0, 0, out, sizeof(out));
    assert_string_equal(out, "no final newline\r\n.\r\n");
    encode("", 5, 0, 0, out, sizeof(out));
    assert_string_equal(out, ".\r\n");
    encode(".", 5, 0, 0, out, sizeof(out));
    assert_string_equal(out, "..\r\n.\r\n");
    encode("a\r\rb\n", 1, 0, 0, out, sizeof(out)); /* a lone CR is kept as it is */
    assert_string_equal(out, "a\r\rb\r\n.\r\n");
}

static void test_enc_top(void **state)
{
    (void)state;
    char out[512];
    const char *msg = "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n";
    for (size_t step = 1; step <= 30; step++) {
        encode(msg, step, 1, 0, out, sizeof(out));
        assert_string_equal(out, "A: 1\r\nB: 2\r\n\r\n.\r\n");
        encode(msg, step, 1, 2, out, sizeof(out));
        assert_string_equal(out, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n");
        encode(msg, step, 1, 99, out, sizeof(out));
        assert_string_equal(out, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n");
    }
    encode("A: 1\nB: 2\n\nbody\n", 3, 1, 0, out, sizeof(out)); /* bare LF header end */
    assert_string_equal(out, "A: 1\r\nB: 2\r\n\r\n.\r\n");
    encode("A: 1\r\nno body", 3, 1, 0, out, sizeof(out));
    assert_string_equal(out, "A: 1\r\nno body\r\n.\r\n");
}

static void test_enc_bare_lfs(void **state)
{
    (void)state;
    struct pop3_enc e;
    pop3_enc_init(&e, 0, 0);
    const char *a = "x\ny\r", *b = "\nz\n.\n";
    uint64_t n = pop3_enc_bare_lfs(&e, (const uint8_t *)a, strlen(a));
    n += pop3_enc_bare_lfs(&e, (const uint8_t *)b, strlen(b)); /* CR|LF across pieces */
    assert_int_equal(n, 3);
    pop3_enc_init(&e, 0, 0);
    assert_int_equal(pop3_enc_bare_lfs(&e, (const uint8_t *)"a\r\nb\r\n", 6), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_commands),
        cmocka_unit_test(test_parse_pass_keeps_spaces),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_num),
        cmocka_unit_test(test_enc_stuffing_and_crlf),
        cmocka_unit_test(test_enc_top),
        cmocka_unit_test(test_enc_bare_lfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
