/* tests for plugins/smtp/parser.c: command split, MAIL/RCPT paths and parameters, DATA/BDAT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* the plugin's parser is pure and compiled straight into this test */
#include "../../plugins/smtp/parser.c"

#define S(x) x, strlen(x)

static void test_cmd_parse(void **state)
{
    (void)state;
    struct smtp_cmd c;
    assert_int_equal(smtp_cmd_parse(S("ehlo client.example"), &c), 0);
    assert_int_equal(c.verb, SMTP_V_EHLO);
    assert_int_equal(c.arglen, strlen("client.example"));
    assert_memory_equal(c.arg, "client.example", c.arglen);
    assert_int_equal(smtp_cmd_parse(S("DATA"), &c), 0);
    assert_int_equal(c.verb, SMTP_V_DATA);
    assert_int_equal(c.arglen, 0);
    assert_int_equal(smtp_cmd_parse(S("NOOP   "), &c), 0); /* trailing spaces dropped */
    assert_int_equal(c.verb, SMTP_V_NOOP);
    assert_int_equal(c.arglen, 0);
    assert_int_equal(smtp_cmd_parse(S("STARTTLSX"), &c), 0);
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_int_equal(smtp_cmd_parse(S("MAI"), &c), 0);
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_int_equal(smtp_cmd_parse("", 0, &c), PETREL_EINVAL);
    assert_int_equal(smtp_cmd_parse("NOOP \0x", 7, &c), PETREL_EINVAL);
    assert_int_equal(smtp_cmd_parse(S("NOOP \rx"), &c), PETREL_EINVAL);
}

static void test_path_mail(void **state)
{
    (void)state;
    struct smtp_path p;
    assert_int_equal(smtp_path_parse(S("FROM:<a@b.example>"), 1, &p), 0);
    assert_string_equal(p.addr, "a@b.example");
    assert_int_equal(p.addrlen, 11);
    assert_int_equal(smtp_path_parse(S("from: <>"), 1, &p), 0);
    assert_string_equal(p.addr, "");
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS "
                                       "ENVID=QQ314159 AUTH=<>"), 1, &p), 0);
    assert_true(p.has_size);
    assert_int_equal(p.size, 1000);
    assert_int_equal(p.body, SMTP_BODY_8BITMIME);
    assert_true(p.smtputf8);
    assert_int_equal(p.ret, SMTP_RET_HDRS);
    assert_string_equal(p.envid, "QQ314159");
    assert_int_equal(smtp_path_parse(S("FROM:<\"john doe\"@b.example>"), 1, &p), 0);
    assert_string_equal(p.addr, "\"john doe\"@b.example");
    assert_int_equal(smtp_path_parse(S("FROM:<@relay1,@relay2:u@d.example>"), 1, &p), 0);
    assert_string_equal(p.addr, "u@d.example");
    assert_int_equal(smtp_path_parse(S("FROM:<jörg@d.example>"), 1, &p), 0);
    assert_true(p.non_ascii);
    /* syntax */
    assert_int_equal(smtp_path_parse(S("FROM:a@b"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("TO:<a@b>"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<a b@c>"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b@c>"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<@b>"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<a@>"), 1, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b>SIZE=1"), 1, &p), PETREL_EINVAL);
    /* parameters */
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SIZE=x"), 1, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SIZE=99999999999999999999999"), 1, &p),
                     PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SIZE=18446744073709551616"), 1, &p),
                     PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SIZE=18446744073709551615"), 1, &p), 0);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> BODY=9BIT"), 1, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> SMTPUTF8=yes"), 1, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> NOTIFY=NEVER"), 1, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> X=1 X=1 X=1"), 1, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("FROM:<a@b> A B C D E F G H I J K"), 1, &p),
                     PETREL_ENOTSUP);
}

static void test_path_rcpt(void **state)
{
    (void)state;
    struct smtp_path p;
    assert_int_equal(smtp_path_parse(S("TO:<u+tag@d.example> NOTIFY=SUCCESS,DELAY "
                                       "ORCPT=rfc822;u@d.example"), 0, &p), 0);
    assert_string_equal(p.addr, "u+tag@d.example");
    assert_int_equal(p.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
    assert_string_equal(p.orcpt, "rfc822;u@d.example");
    assert_string_equal(smtp_addr_domain(p.addr), "d.example");
    assert_int_equal(smtp_path_parse(S("TO:<Postmaster>"), 0, &p), 0);
    assert_string_equal(smtp_addr_domain(p.addr), "");
    assert_int_equal(smtp_path_parse(S("TO:<>"), 0, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("TO:<nobody>"), 0, &p), PETREL_EINVAL);
    assert_int_equal(smtp_path_parse(S("TO:<a@b> NOTIFY=NEVER,SUCCESS"), 0, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("TO:<a@b> NOTIFY="), 0, &p), PETREL_ENOTSUP);
    assert_int_equal(smtp_path_parse(S("TO:<a@b> SIZE=10"), 0, &p), PETREL_ENOTSUP);
    /* a path over 256 octets */
    char big[400];
    memcpy(big, "TO:<", 4);
    memset(big + 4, 'a', 300);
    memcpy(big + 304, "@b>", 3);
    assert_int_equal(smtp_path_parse(big, 307, 0, &p), PETREL_ETOOBIG);
}

static void test_data_unstuff(void **state)
{
    (void)state;
    struct smtp_data d;
    memset(&d, 0, sizeof(d));
    smtp_data_begin(&d, 1000, 1);
    assert_int_equal(smtp_data_line(&d, S("Subject: x"), 0), 0);
    assert_int_equal(smtp_data_line(&d, "", 0, 0), 0);
    assert_int_equal(smtp_data_line(&d, S(".."), 0), 0);
    assert_int_equal(smtp_data_line(&d, S("..x"), 0), 0);
    assert_int_equal(smtp_data_line(&d, S(".y"), 0), 0);
    assert_int_equal(smtp_data_line(&d, S("."), 0), 1);
    assert_int_equal(d.err, SMTP_DERR_NONE);
    const char want[] = "Subject: x\r\n\r\n.\r\n.x\r\ny\r\n";
    assert_int_equal(d.buf.len, strlen(want));
    assert_int_equal(d.size, strlen(want));
    assert_memory_equal(d.buf.p, want, d.buf.len);
    smtp_data_free(&d);
}

static void test_data_errors_stick(void **state)
{
    (void)state;
    struct smtp_data d;
    memset(&d, 0, sizeof(d));
    /* size: the rest is drained, nothing kept, the first error stays */
    smtp_data_begin(&d, 10, 1);
    assert_int_equal(smtp_data_line(&d, S("0123456789"), 0), 0);
    assert_int_equal(d.err, SMTP_DERR_SIZE);
    assert_int_equal(smtp_data_line(&d, S("a\rb"), 0), 0);
    assert_int_equal(d.err, SMTP_DERR_SIZE);
    assert_int_equal(d.buf.len, 0);
    assert_int_equal(smtp_data_line(&d, S("."), 0), 1);
    /* bare LF, bare CR, NUL, long line */
    smtp_data_begin(&d, 1000, 1);
    smtp_data_line(&d, S("x"), SMTP_LINE_BARE_LF);
    assert_int_equal(d.err, SMTP_DERR_BARE_EOL);
    smtp_data_begin(&d, 1000, 1);
    smtp_data_line(&d, S("x\ry"), 0);
    assert_int_equal(d.err, SMTP_DERR_BARE_EOL);
    smtp_data_begin(&d, 1000, 0); /* accepted when configured: LF becomes CRLF */
    smtp_data_line(&d, S("x"), SMTP_LINE_BARE_LF);
    assert_int_equal(smtp_data_line(&d, S("."), SMTP_LINE_BARE_LF), 1);
    assert_int_equal(d.err, SMTP_DERR_NONE);
    assert_memory_equal(d.buf.p, "x\r\n", 3);
    smtp_data_begin(&d, 1000, 1);
    smtp_data_line(&d, "a\0b", 3, 0);
    assert_int_equal(d.err, SMTP_DERR_NUL);
    smtp_data_begin(&d, 1000, 1);
    smtp_data_line(&d, S("xxxx"), SMTP_LINE_TOO_LONG);
    smtp_data_line(&d, S("y"), SMTP_LINE_BARE_LF);
    assert_int_equal(d.err, SMTP_DERR_LINE);
    /* BDAT: raw bytes kept as they are, bounded */
    smtp_data_begin(&d, 8, 1);
    smtp_data_raw(&d, "a\nb\0c", 5);
    assert_int_equal(d.err, SMTP_DERR_NONE);
    assert_memory_equal(d.buf.p, "a\nb\0c", 5);
    smtp_data_raw(&d, "1234", 4);
    assert_int_equal(d.err, SMTP_DERR_SIZE);
    assert_true(d.size > d.max);
    smtp_data_free(&d);
}

static void test_buf_bounds(void **state)
{
    (void)state;
    struct smtp_buf b = {.max = 5000};
    char x[3000];
    memset(x, 'x', sizeof(x));
    assert_int_equal(smtp_buf_append(&b, x, sizeof(x)), 0);
    assert_int_equal(smtp_buf_append(&b, x, 2000), 0);
    assert_int_equal(b.len, 5000);
    assert_true(b.cap <= 5000);
    assert_int_equal(smtp_buf_append(&b, x, 1), PETREL_ENOMEM);
    assert_int_equal(smtp_buf_append(&b, x, SIZE_MAX), PETREL_ENOMEM);
    smtp_buf_reset(&b);
    assert_null(b.p);
    assert_int_equal(b.max, 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_parse),        cmocka_unit_test(test_path_mail),
        cmocka_unit_test(test_path_rcpt),        cmocka_unit_test(test_data_unstuff),
        cmocka_unit_test(test_data_errors_stick), cmocka_unit_test(test_buf_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
