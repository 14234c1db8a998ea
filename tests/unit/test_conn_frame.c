/* test_conn_frame.c - core/server/conn_frame.c: the input framing, unit by unit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/conn.h"
#include "server/conn_frame.h"

/* The next unit of s (a C string) from offset *off; *off advances by what it used. */
static struct srv_frame_unit next(struct srv_frame *f, const char *s, size_t *off)
{
    struct srv_frame_unit u;
    srv_frame_next(f, s + *off, strlen(s) - *off, &u);
    assert_true(u.used <= strlen(s) - *off);
    *off += u.used;
    return u;
}

static void expect_line(struct srv_frame *f, const char *s, size_t *off, const char *want,
                        unsigned flags)
{
    size_t start = *off;
    struct srv_frame_unit u = next(f, s, off);
    assert_int_equal(u.kind, SRV_FRAME_LINE);
    assert_int_equal(u.flags, flags);
    assert_int_equal(u.len, strlen(want));
    assert_memory_equal(s + start, want, u.len);
}

static void test_lines(void **state)
{
    (void)state;
    struct srv_frame f = {.raw_left = 0, .max_line = 8, .discarding = false};
    const char *s = "a1 NOOP\r\nbare\n\r\n\n12345678\r\n123456789\r\nab\r";
    size_t off = 0;
    expect_line(&f, s, &off, "a1 NOOP", SRV_LINE_CRLF);
    expect_line(&f, s, &off, "bare", 0);
    expect_line(&f, s, &off, "", SRV_LINE_CRLF);
    expect_line(&f, s, &off, "", 0);
    expect_line(&f, s, &off, "12345678", SRV_LINE_CRLF); /* exactly max_line */
    expect_line(&f, s, &off, "12345678", SRV_LINE_CRLF | SRV_LINE_TOO_LONG);
    /* "ab\r": no LF yet, nothing used */
    struct srv_frame_unit u = next(&f, s, &off);
    assert_int_equal(u.kind, SRV_FRAME_MORE);
    assert_int_equal(u.used, 0);
    assert_int_equal(off, strlen(s) - 3);
    u = next(&f, "", &(size_t){0});
    assert_int_equal(u.kind, SRV_FRAME_MORE);
}

static void test_overflow_then_discard(void **state)
{
    (void)state;
    struct srv_frame f = {.raw_left = 0, .max_line = 4, .discarding = false};
    size_t off = 0;
    /* 5 bytes without LF: still fewer than max_line + 2 */
    struct srv_frame_unit u = next(&f, "abcde", &off);
    assert_int_equal(u.kind, SRV_FRAME_MORE);
    assert_int_equal(u.used, 0);
    /* 6: the first 4 are a line, every byte is used, the rest of the line is dropped */
    off = 0;
    expect_line(&f, "abcdef", &off, "abcd", SRV_LINE_OVERFLOW);
    assert_int_equal(off, 6);
    assert_true(f.discarding);
    off = 0;
    u = next(&f, "ghij", &off); /* still no LF: dropped, more needed */
    assert_int_equal(u.kind, SRV_FRAME_MORE);
    assert_int_equal(u.used, 4);
    off = 0;
    const char *s = "kl\r\nnext\r\n";
    u = next(&f, s, &off);
    assert_int_equal(u.kind, SRV_FRAME_SKIP);
    assert_int_equal(u.used, 4);
    assert_false(f.discarding);
    expect_line(&f, s, &off, "next", SRV_LINE_CRLF);
}

static void test_raw(void **state)
{
    (void)state;
    struct srv_frame f = {.raw_left = 5, .max_line = 64, .discarding = false};
    size_t off = 0;
    const char *s = "ab\ncd";
    struct srv_frame_unit u = next(&f, s, &off); /* the LF is data while raw */
    assert_int_equal(u.kind, SRV_FRAME_RAW);
    assert_int_equal(u.len, 5);
    assert_int_equal(f.raw_left, 0);
    f.raw_left = 10;
    off = 0;
    u = next(&f, "1234", &off); /* fewer bytes than asked: all of them */
    assert_int_equal(u.kind, SRV_FRAME_RAW);
    assert_int_equal(u.len, 4);
    assert_int_equal(f.raw_left, 6);
    off = 0;
    s = "567890)\r\n";
    u = next(&f, s, &off);
    assert_int_equal(u.len, 6);
    assert_int_equal(f.raw_left, 0);
    expect_line(&f, s, &off, ")", SRV_LINE_CRLF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_overflow_then_discard),
        cmocka_unit_test(test_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
