/* tests for plugins/imap/search_fold.c (charsets, case folding), search_bs.c (BODYSTRUCTURE
 * walk) and the UTF-8 quoted strings of parser.c (UTF8=ACCEPT / IMAP4rev2) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/parser.c"
#include "../../plugins/imap/search_bs.c"
#include "../../plugins/imap/search_fold.c"

/* s folded as charset cs, NUL-terminated in a static buffer */
static const char *fold(int cs, const char *s)
{
    static char out[512];
    size_t n = strlen(s);
    assert_true(IMAP_FOLD_MAX(n) < sizeof(out));
    out[imap_fold(cs, s, n, out)] = '\0';
    return out;
}

static void test_fold_latin_greek_cyrillic(void **state)
{
    (void)state;
    assert_string_equal(fold(IMAP_CS_UTF8, "Hello WORLD"), "hello world");
    assert_string_equal(fold(IMAP_CS_UTF8, "ÄÖÜ ÀÉÎ Ø Þ ÿ Ÿ"), "äöü àéî ø þ ÿ ÿ");
    assert_string_equal(fold(IMAP_CS_UTF8, "×÷ß"), "×÷ß"); /* no case, no full folding */
    assert_string_equal(fold(IMAP_CS_UTF8, "ŁÓDŹ ŠŽČ ĲŒ Ŋ"), "łódź šžč ĳœ ŋ");
    assert_string_equal(fold(IMAP_CS_UTF8, "ſ µ"), "s μ");
    assert_string_equal(fold(IMAP_CS_UTF8, "ΣΊΣΥΦΟΣ σίσυφος"), "σίσυφοσ σίσυφοσ");
    assert_string_equal(fold(IMAP_CS_UTF8, "ΆΈΉΊΌΎΏ"), "άέήίόύώ");
    assert_string_equal(fold(IMAP_CS_UTF8, "ПРИВЕТ Ёж ЇҐ Ӂ Ӏ"), "привет ёж їґ ӂ ӏ");
    assert_string_equal(fold(IMAP_CS_UTF8, "ẞ Ạ Ỹ \xe2\x84\xaa \xe2\x84\xab"), "ß ạ ỹ k å");
    assert_string_equal(fold(IMAP_CS_UTF8, "İı"), "İı"); /* Turkish: left alone */
    /* not UTF-8: bytes as they are, ASCII around them still folded */
    assert_string_equal(fold(IMAP_CS_UTF8, "A\xc4Z\xff\xed\xa0\x80"), "a\xc4z\xff\xed\xa0\x80");
    /* UTF-8 input never grows */
    const char *s = "\xe2\x84\xaa\xe1\xba\x9e";
    char out[16];
    assert_true(imap_fold(IMAP_CS_UTF8, s, strlen(s), out) <= strlen(s));
}

static void test_fold_charsets(void **state)
{
    (void)state;
    assert_string_equal(fold(IMAP_CS_LATIN1, "\xc4rger \xe9t\xe9 \xb5"), "ärger été μ");
    assert_string_equal(fold(IMAP_CS_CP1252, "\x80 \x8a\x9a \x93x\x94 \x9f"), "€ šš “x” ÿ");
    assert_string_equal(fold(IMAP_CS_LATIN1, "\x80"), "\xc2\x80"); /* C1 as is */
    assert_string_equal(fold(IMAP_CS_LATIN9, "\xa4 \xa6\xa8 \xbc \xe4"), "€ šš œ ä");
    char out[8];
    assert_int_equal(imap_fold(IMAP_CS_CP1252, "\x80", 1, out), 3); /* the worst case */
    assert_int_equal(imap_charset_find("UTF-8", 5), IMAP_CS_UTF8);
    assert_int_equal(imap_charset_find("us-ascii", 8), IMAP_CS_UTF8);
    assert_int_equal(imap_charset_find("ISO-8859-1", 10), IMAP_CS_LATIN1);
    assert_int_equal(imap_charset_find("Windows-1252", 12), IMAP_CS_CP1252);
    assert_int_equal(imap_charset_find("iso-8859-15", 11), IMAP_CS_LATIN9);
    assert_int_equal(imap_charset_find("koi8-r", 6), IMAP_CS_UNKNOWN);
    assert_int_equal(imap_charset_find("utf-8x", 5), IMAP_CS_UTF8); /* length given */
    assert_int_equal(imap_charset_find("utf-8x", 6), IMAP_CS_UNKNOWN);
}

static void test_utf8_valid_and_memmem(void **state)
{
    (void)state;
    assert_true(imap_utf8_valid("abc", 3));
    assert_true(imap_utf8_valid("Grüße €𝄞", strlen("Grüße €𝄞")));
    assert_false(imap_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(imap_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
    assert_false(imap_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(imap_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(imap_utf8_valid("\xe4rger", 5));         /* Latin-1 */
    const char *h = "abcabd";
    assert_ptr_equal(imap_memmem(h, 6, "abd", 3), h + 3);
    assert_null(imap_memmem(h, 6, "abe", 3));
    assert_null(imap_memmem(h, 2, "abc", 3));
    assert_ptr_equal(imap_memmem(h, 6, "", 0), h);
    assert_null(imap_memmem(h, 0, "a", 1));
}

/* ------------------------------------------------------------ BODYSTRUCTURE */

struct seen {
    char out[1024];
    int stop_at;
    int count;
};

static int collect(const struct imap_bs_part *pt, void *arg)
{
    struct seen *s = arg;
    size_t n = strlen(s->out);
    snprintf(s->out + n, sizeof(s->out) - n, "%s%s=%.*s/%.*s;%.*s%s", n ? " " : "", pt->spec,
             (int)pt->type_len, pt->type ? pt->type : "", (int)pt->subtype_len,
             pt->subtype ? pt->subtype : "", (int)pt->charset_len, pt->charset ? pt->charset : "",
             pt->message ? "(msg)" : "");
    return ++s->count == s->stop_at ? 7 : 0;
}

static int walk(const char *bs, struct seen *s)
{
    memset(s->out, 0, sizeof(s->out));
    s->count = 0;
    return imap_bs_walk(bs, strlen(bs), collect, s);
}

static void test_bs_single_and_multipart(void **state)
{
    (void)state;
    struct seen s = {.stop_at = -1};
    assert_int_equal(walk("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1 "
                          "NIL NIL NIL NIL)",
                          &s),
                     0);
    assert_string_equal(s.out, "1=text/plain;us-ascii");
    const char *mixed =
        "((\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"UTF-8\") NIL NIL \"base64\" "
        "40 1 NIL NIL NIL NIL)"
        "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)"
        "(\"text\" \"html\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 30 2 NIL "
        "NIL NIL NIL) \"alternative\" (\"boundary\" \"b2\") NIL NIL NIL)"
        "(\"application\" \"pdf\" (\"name\" {5}\r\na)b\"c) \"<id>\" NIL \"base64\" 100 NIL "
        "(\"attachment\" (\"filename\" \"x.pdf\")) NIL NIL)"
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 300 (\"date\" \"subj\" ((NIL NIL \"a\" "
        "\"b.c\")) NIL NIL NIL NIL NIL NIL NIL) ((\"text\" \"plain\" (\"charset\" \"koi8-r\") NIL "
        "NIL \"8bit\" 5 1 NIL NIL NIL NIL)(\"image\" \"png\" NIL NIL NIL \"base64\" 5 NIL NIL NIL "
        "NIL) \"mixed\" NIL NIL NIL NIL) 12 NIL NIL NIL NIL)"
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 30 NIL (\"text\" \"plain\" NIL NIL NIL "
        "\"7bit\" 5 1) 3)"
        " \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)";
    assert_int_equal(walk(mixed, &s), 0);
    assert_string_equal(s.out, "1=text/plain;UTF-8 2.1=text/plain; 2.2=text/html;iso-8859-1 "
                               "3=application/pdf; 4=message/rfc822;(msg) 4.1=text/plain;koi8-r "
                               "4.2=image/png; 5=message/rfc822;(msg) 5.1=text/plain;");
    s.stop_at = 2; /* the callback's nonzero result stops the walk */
    assert_int_equal(walk(mixed, &s), 7);
    assert_int_equal(s.count, 2);
}

static void test_bs_malformed_and_caps(void **state)
{
    (void)state;
    struct seen s = {.stop_at = -1};
    assert_int_equal(walk("", &s), -1);
    assert_int_equal(walk("(\"text\" \"plain\" NIL", &s), -1);
    assert_int_equal(walk("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)", &s), -1);
    assert_int_equal(walk("(\"text\" \"plain\" (\"name\" {99}\r\nab) NIL NIL \"7bit\" 1 1)", &s),
                     -1);
    assert_int_equal(walk("(\"text\" \"pl\\\"ain\" NIL NIL NIL \"7bit\" 1 1)", &s), 0);
    /* nesting deeper than IMAP_BS_MAX_DEPTH: -1, what came before stands */
    char deep[4096] = "";
    for (int k = 0; k < IMAP_BS_MAX_DEPTH + 4; k++)
        strcat(deep, "(");
    strcat(deep, "\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
    for (int k = 0; k < IMAP_BS_MAX_DEPTH + 3; k++)
        strcat(deep, " \"mixed\")");
    assert_int_equal(walk(deep, &s), -1);
    assert_int_equal(s.count, 0);
    /* more than IMAP_BS_MAX_PARTS leaves */
    size_t cap = (IMAP_BS_MAX_PARTS + 2) * 48 + 64;
    char *many = calloc(1, cap);
    assert_non_null(many);
    strcat(many, "(");
    for (int k = 0; k < IMAP_BS_MAX_PARTS + 1; k++)
        strcat(many, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
    strcat(many, " \"mixed\")");
    assert_int_equal(walk(many, &s), -1);
    assert_int_equal(s.count, IMAP_BS_MAX_PARTS);
    free(many);
}

/* ------------------------------------------------------------ UTF-8 quoted strings */

static void test_parser_utf8_quoted(void **state)
{
    (void)state;
    struct imap_parser *p = imap_parser_new();
    assert_non_null(p);
    const char *ok = "a CREATE \"Ünïcödé €\"";
    assert_int_equal(imap_parser_line(p, ok, strlen(ok)), IMAP_PARSE_DONE);
    imap_parser_reset(p);
    const char *latin1 = "a SEARCH SUBJECT \"\xe4rger\"";
    /* rev1 without UTF8=ACCEPT: 8-bit bytes pass as before */
    assert_int_equal(imap_parser_line(p, latin1, strlen(latin1)), IMAP_PARSE_DONE);
    imap_parser_reset(p);
    p->utf8 = 1;
    assert_int_equal(imap_parser_line(p, latin1, strlen(latin1)), IMAP_PARSE_EBAD);
    assert_string_equal(p->error, "Invalid UTF-8 in quoted string");
    imap_parser_reset(p);
    assert_int_equal(p->utf8, 1); /* kept across commands */
    assert_int_equal(imap_parser_line(p, ok, strlen(ok)), IMAP_PARSE_DONE);
    assert_string_equal(imap_arg_str(p, &p->args[0]), "Ünïcödé €");
    imap_parser_reset(p);
    const char *overlong = "a LIST \"\" \"\xc0\xaf\"";
    assert_int_equal(imap_parser_line(p, overlong, strlen(overlong)), IMAP_PARSE_EBAD);
    imap_parser_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_latin_greek_cyrillic),
        cmocka_unit_test(test_fold_charsets),
        cmocka_unit_test(test_utf8_valid_and_memmem),
        cmocka_unit_test(test_bs_single_and_multipart),
        cmocka_unit_test(test_bs_malformed_and_caps),
        cmocka_unit_test(test_parser_utf8_quoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
