/* tests for plugins/imap/parser.c (command parser, sequence sets), mutf7.c, match.c and
 * search_date.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/match.c"
#include "../../plugins/imap/mutf7.c"
#include "../../plugins/imap/parser.c"
#include "../../plugins/imap/search_date.c"

const struct petrel_host *imap_host; /* declared by imap_int.h; unused here */

static int line(struct imap_parser *p, const char *s)
{
    return imap_parser_line(p, s, strlen(s));
}

static const char *arg(struct imap_parser *p, uint32_t i)
{
    assert_true(i < p->nargs);
    return imap_arg_str(p, &p->args[i]);
}

static void test_simple_command(void **state)
{
    (void)state;
    struct imap_parser *p = imap_parser_new();
    assert_non_null(p);
    assert_int_equal(line(p, "a1 login alice \"se cr\\\"et\""), IMAP_PARSE_DONE);
    assert_string_equal(p->tag, "a1");
    assert_string_equal(p->name, "LOGIN");
    assert_int_equal(p->nargs, 2);
    assert_int_equal(p->args[0].type, IMAP_ARG_ATOM);
    assert_string_equal(arg(p, 0), "alice");
    assert_int_equal(p->args[1].type, IMAP_ARG_QUOTED);
    assert_string_equal(arg(p, 1), "se cr\"et");
    imap_parser_reset(p);
    assert_int_equal(line(p, "x NOOP"), IMAP_PARSE_DONE);
    assert_int_equal(p->nargs, 0);
    imap_parser_free(&p);
    assert_null(p);
}

static void test_lists_and_nil(void **state)
{
    (void)state;
    struct imap_parser *p = imap_parser_new();
    assert_int_equal(line(p, "t STATUS INBOX (MESSAGES (A NIL) UIDNEXT) nil"), IMAP_PARSE_DONE);
    /* INBOX, (, MESSAGES, (, A, NIL, UIDNEXT, nil */
    assert_int_equal(p->nargs, 8);
    assert_int_equal(p->args[1].type, IMAP_ARG_LIST);
    assert_int_equal(p->args[1].end, 7);
    assert_int_equal(p->args[3].type, IMAP_ARG_LIST);
    assert_int_equal(p->args[3].end, 6);
    assert_int_equal(p->args[5].type, IMAP_ARG_NIL);
    assert_int_equal(p->args[6].type, IMAP_ARG_ATOM);
    assert_int_equal(p->args[7].type, IMAP_ARG_NIL);
    assert_true(imap_arg_is_atom(p, &p->args[2], "messages"));
    /* members of list 1: 2, 3 (a list), 5 */
    uint32_t j = 2, seen = 0;
    while (j < p->args[1].end) {
        seen++;
        j = p->args[j].end;
    }
    assert_int_equal(seen, 3);
    imap_parser_reset(p);
    assert_int_equal(line(p, "t FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> UID)"),
                     IMAP_PARSE_DONE);
    assert_int_equal(p->nargs, 4);
    assert_string_equal(arg(p, 2), "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>");
    imap_parser_free(&p);
}

static void test_literals(void **state)
{
    (void)state;
    struct imap_parser *p = imap_parser_new();
    p->append_literal_max = 100;
    assert_int_equal(line(p, "A APPEND INBOX (\\Seen) {11}"), IMAP_PARSE_LITERAL);
    assert_int_equal(p->lit_size, 11);
    assert_int_equal(p->lit_sync, 1);
    assert_int_equal(imap_parser_literal(p, "Hello", 5), IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal(p, " w\0rld", 6), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " {3+}"), IMAP_PARSE_LITERAL);
    assert_int_equal(p->lit_sync, 0);
    assert_int_equal(imap_parser_literal(p, "abc", 3), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, ""), IMAP_PARSE_DONE);
    assert_int_equal(p->nargs, 5);
    assert_int_equal(p->args[3].type, IMAP_ARG_LITERAL);
    assert_int_equal(p->args[3].len, 11);
    assert_memory_equal(arg(p, 3), "Hello w\0rld", 11);
    assert_string_equal(arg(p, 4), "abc");
    /* literal8 (RFC 3516 ~{n}) is a literal too; a lone ~ stays an atom */
    imap_parser_reset(p);
    assert_int_equal(line(p, "L APPEND INBOX ~{4+}"), IMAP_PARSE_LITERAL);
    assert_int_equal(p->lit_sync, 0);
    assert_int_equal(imap_parser_literal(p, "a\0\0b", 4), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " ~"), IMAP_PARSE_DONE);
    assert_int_equal(p->args[1].type, IMAP_ARG_LITERAL);
    assert_memory_equal(arg(p, 1), "a\0\0b", 4);
    assert_int_equal(p->args[2].type, IMAP_ARG_ATOM);
    assert_string_equal(arg(p, 2), "~");
    imap_parser_reset(p);
    assert_int_equal(line(p, "L APPEND INBOX ~{x}"), IMAP_PARSE_EBAD);
    imap_parser_reset(p);
    /* the budget is for the whole command: 11 + 3 used, 86 left */
    imap_parser_reset(p);
    assert_int_equal(line(p, "B APPEND INBOX {101}"), IMAP_PARSE_ETOOBIG);
    assert_string_equal(p->tag, "B");
    imap_parser_reset(p);
    assert_int_equal(line(p, "B APPEND INBOX {60}"), IMAP_PARSE_LITERAL);
    char buf[60] = {0};
    assert_int_equal(imap_parser_literal(p, buf, 60), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " {41}"), IMAP_PARSE_ETOOBIG);
    /* MULTIAPPEND: each literal within append_literal_max, all within append_total_max,
       at most append_literals_max of them */
    p->append_total_max = 150;
    p->append_literals_max = 3;
    imap_parser_reset(p);
    assert_int_equal(line(p, "M APPEND INBOX {101}"), IMAP_PARSE_ETOOBIG);
    assert_string_equal(p->error, "Literal too big");
    imap_parser_reset(p);
    assert_int_equal(line(p, "M APPEND INBOX {100}"), IMAP_PARSE_LITERAL);
    char big[100] = {0};
    assert_int_equal(imap_parser_literal(p, big, 100), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " {51}"), IMAP_PARSE_ETOOBIG); /* 151 in all */
    assert_string_equal(p->error, "APPEND too big in total");
    imap_parser_reset(p);
    assert_int_equal(line(p, "M APPEND INBOX {1}"), IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal(p, "a", 1), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " (\\Seen) {1+}"), IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal(p, "b", 1), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " {1}"), IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal(p, "c", 1), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " {1}"), IMAP_PARSE_ELIMIT); /* a 4th literal */
    imap_parser_reset(p);
    assert_int_equal(line(p, "M APPEND INBOX {1}"), IMAP_PARSE_LITERAL); /* count reset */
    p->append_total_max = 0;
    p->append_literals_max = 0;
    /* other commands have the smaller literal_max */
    imap_parser_reset(p);
    p->literal_max = 10;
    assert_int_equal(line(p, "C LOGIN {11}"), IMAP_PARSE_ETOOBIG);
    imap_parser_reset(p);
    assert_int_equal(line(p, "C LOGIN {0}"), IMAP_PARSE_LITERAL);
    assert_int_equal(imap_parser_literal(p, NULL, 0), IMAP_PARSE_NEED_LINE);
    assert_int_equal(line(p, " x"), IMAP_PARSE_DONE);
    assert_int_equal(p->args[0].len, 0);
    /* huge declared sizes are refused, not allocated */
    imap_parser_reset(p);
    assert_int_equal(line(p, "D LOGIN {18446744073709551615}"), IMAP_PARSE_ETOOBIG);
    imap_parser_reset(p);
    assert_int_equal(line(p, "D LOGIN {99999999999999999999999}"), IMAP_PARSE_EBAD);
    imap_parser_free(&p);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "tag",
        "+tag NOOP",
        "t  NOOP",
        "t NO@OP",
        "t LOGIN \"x",
        "t LOGIN \"a\\b\"",
        "t X (a",
        "t X a)",
        "t X a  b",
        "t X ( a)",
        "t X {5",
        "t X {5} y",
        "t X {x}",
        "t X a\"b",
        "t X [a",
        "t X {}",
        "t X ((((((((((((((((((a))))))))))))))))))",
    };
    struct imap_parser *p = imap_parser_new();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        imap_parser_reset(p);
        int rc = line(p, bad[i]);
        if (rc >= 0) fail_msg("accepted: %s", bad[i]);
        assert_non_null(p->error);
    }
    /* a command after an error parses normally */
    imap_parser_reset(p);
    assert_int_equal(line(p, "ok NOOP "), IMAP_PARSE_DONE);
    /* feeding out of order is refused */
    assert_int_equal(imap_parser_literal(p, "x", 1), IMAP_PARSE_ESTATE);
    imap_parser_free(&p);
}

static void test_limits(void **state)
{
    (void)state;
    struct imap_parser *p = imap_parser_new();
    char big[IMAP_PARSER_MAX_ARGS * 2 + 16];
    size_t n = 0;
    n += (size_t)snprintf(big, sizeof(big), "t X");
    for (int i = 0; i <= IMAP_PARSER_MAX_ARGS && n + 3 < sizeof(big); i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, " a");
    assert_int_equal(imap_parser_line(p, big, n), IMAP_PARSE_ELIMIT);
    imap_parser_reset(p);
    p->text_max = 10;
    assert_int_equal(line(p, "t NOOP abcdef"), IMAP_PARSE_ELIMIT);
    p->text_max = IMAP_PARSER_TEXT_MAX;
    imap_parser_reset(p);
    char tag[IMAP_PARSER_MAX_TAG + 8];
    memset(tag, 'a', sizeof(tag));
    memcpy(tag + sizeof(tag) - 5, " NOOP", 5);
    assert_int_equal(imap_parser_line(p, tag, sizeof(tag)), IMAP_PARSE_EBAD);
    imap_parser_free(&p);
}

static void test_seqset(void **state)
{
    (void)state;
    struct imap_range r[8];
    size_t n = 0;
    assert_int_equal(imap_seqset_parse("1,3:5,7:*,*,4294967295", 22, r, 8, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(r[0].lo, 1);
    assert_int_equal(r[0].hi, 1);
    assert_int_equal(r[1].lo, 3);
    assert_int_equal(r[1].hi, 5);
    assert_int_equal(r[2].hi, IMAP_SEQ_STAR);
    assert_int_equal(r[3].lo, IMAP_SEQ_STAR);
    assert_int_equal(r[4].lo, 4294967295u);
    assert_int_equal(imap_seqset_parse("1:2,3", 5, NULL, 0, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(imap_seqset_parse("1,2,3", 5, r, 2, &n), IMAP_PARSE_ELIMIT);
    static const char *const bad[] = {"", "0", "1,", ",1", "1:", "a", "4294967296", "1::2", "1:0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(imap_seqset_parse(bad[i], strlen(bad[i]), r, 8, &n), IMAP_PARSE_EBAD);
}

static void test_mutf7(void **state)
{
    (void)state;
    char out[128];
    static const struct {
        const char *utf8, *mutf7;
    } pairs[] = {
        {"INBOX", "INBOX"},
        {"Caf\xc3\xa9", "Caf&AOk-"},
        {"A&B", "A&-B"},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-"},
        {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
         "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
        {"\xf0\x9f\x98\x80", "&2D3eAA-"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        assert_int_equal(imap_utf8_to_mutf7(pairs[i].utf8, strlen(pairs[i].utf8), out, sizeof(out)),
                         0);
        assert_string_equal(out, pairs[i].mutf7);
        assert_int_equal(
            imap_mutf7_to_utf8(pairs[i].mutf7, strlen(pairs[i].mutf7), out, sizeof(out)), 0);
        assert_string_equal(out, pairs[i].utf8);
    }
    static const char *const bad[] = {"&", "&AOk", "&-A&", "&AGE-", "&2D0-", "a\x80", "&A-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(imap_mutf7_to_utf8(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
    assert_int_equal(imap_utf8_to_mutf7("\xc3", 1, out, sizeof(out)), -1);
    assert_int_equal(imap_utf8_to_mutf7("Caf\xc3\xa9", 5, out, 5), -1);
}

static void test_list_match(void **state)
{
    (void)state;
    assert_true(imap_list_match("*", "a/b/c"));
    assert_true(imap_list_match("%", "a"));
    assert_false(imap_list_match("%", "a/b"));
    assert_true(imap_list_match("a/%", "a/b"));
    assert_false(imap_list_match("a/%", "a/b/c"));
    assert_true(imap_list_match("a*c", "a/b/c"));
    assert_true(imap_list_match("%/%/c", "a/b/c"));
    assert_true(imap_list_match("inbox", "INBOX"));
    assert_true(imap_list_match("Inbox/%", "INBOX/x"));
    assert_false(imap_list_match("work", "Work"));
    assert_false(imap_list_match("a", "ab"));
    assert_true(imap_list_match("a%", "ab"));
}

static int64_t day_of(const char *s)
{
    int64_t d = -12345;
    return imap_rfc5322_day(s, strlen(s), &d) ? -1 : d;
}

static void test_rfc5322_day(void **state)
{
    (void)state;
    const int64_t nov26 = 20418;                                         /* 2025-11-26 */
    assert_int_equal(day_of(" Wed, 26 Nov 2025 23:59:59 -0800"), nov26); /* zone disregarded */
    assert_int_equal(day_of("26 nov 2025 00:00 +1400"), nov26);
    assert_int_equal(day_of("Wed ,  26\r\n Nov  2025"), nov26);
    assert_int_equal(day_of("1 Jan 1970 00:00:00 +0000"), 0);
    assert_int_equal(day_of("26 Nov 25 10:00 GMT"), nov26); /* obsolete 2-digit year */
    assert_int_equal(day_of("1 Jan 99"), day_of("1 Jan 1999"));
    assert_int_equal(day_of("1 Jan 125"), day_of("1 Jan 2025"));
    assert_int_equal(day_of(""), -1);
    assert_int_equal(day_of("Wed 26 Nov 2025"), -1);
    assert_int_equal(day_of("32 Nov 2025"), -1);
    assert_int_equal(day_of("0 Nov 2025"), -1);
    assert_int_equal(day_of("26 Foo 2025"), -1);
    assert_int_equal(day_of("26 Nov"), -1);
    assert_int_equal(day_of("26 Nov 20255"), -1);
    assert_int_equal(day_of("123 Nov 2025"), -1);
    assert_int_equal(day_of("26Nov 2025"), -1);
    assert_int_equal(day_of("Wed, 26 No"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_command), cmocka_unit_test(test_lists_and_nil),
        cmocka_unit_test(test_literals),       cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_seqset),
        cmocka_unit_test(test_mutf7),          cmocka_unit_test(test_list_match),
        cmocka_unit_test(test_rfc5322_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
