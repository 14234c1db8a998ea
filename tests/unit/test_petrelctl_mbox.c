/* Unit tests for petrelctl's mbox reader and writer (tools/petrelctl/mbox.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/petrelctl/maildir.c"
#include "../../tools/petrelctl/mbox.c"

/* Writes msgs as an mbox into out. */
static void mbox_build(buf_t *out, const char *const *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *kw[] = {"$Label1"};
        assert_int_equal(mbox_from_line_write(out, 1700000000 + (int64_t)i, STORE_F_SEEN,
                                              i == 0 ? kw : NULL, i == 0 ? 1 : 0),
                         0);
        assert_int_equal(mbox_body_write(out, (const uint8_t *)msgs[i], strlen(msgs[i])), 0);
    }
}

static void test_mbox_round_trip(void **state)
{
    (void)state;
    const char *msgs[] = {
        "Subject: a\n\nFrom here on\n>From quoted\n>>From twice\nFromage\n",
        "Subject: no newline at the end\n\nlast line",
        "Subject: crlf\r\n\r\nFrom crlf\r\n",
        "Subject: ends with blank\n\nx\n\n",
        "From the first line\n",
    };
    size_t n = sizeof(msgs) / sizeof(msgs[0]);
    buf_t file, m;
    mbox_reader_t r;
    mbox_msg_t msg;
    buf_init(&file, 1 << 20);
    buf_init(&m, 1 << 20);
    mbox_build(&file, msgs, n);
    /* quoting happened on the way out */
    assert_non_null(strstr(file.data, "\n>From here on\n>>From quoted\n>>>From twice\nFromage\n"));
    assert_non_null(strstr(file.data, "\n>From crlf\r\n"));
    mbox_reader_init(&r, (const uint8_t *)file.data, file.len);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mbox_next(&r, &msg), 0);
        buf_reset(&m);
        assert_int_equal(mbox_unquote(&msg, &m), 0);
        assert_int_equal(m.len, strlen(msgs[i]));
        assert_memory_equal(m.data, msgs[i], m.len);
        assert_int_equal(msg.date, 1700000000 + (int64_t)i);
        assert_int_equal(msg.has_flags, 1);
        assert_int_equal(msg.flags, STORE_F_SEEN);
        assert_int_equal(msg.nkw, i == 0 ? 1 : 0);
        if (i == 0) assert_string_equal(msg.kws[0], "$Label1");
    }
    assert_int_equal(mbox_next(&r, &msg), PETREL_ENOTFOUND);
    buf_free(&file);
    buf_free(&m);
}

static void test_mbox_from_line(void **state)
{
    (void)state;
    buf_t b;
    const char *kw[] = {"$Forwarded", "work"};
    buf_init(&b, 4096);
    assert_int_equal(mbox_from_line_write(&b, 1700000000, STORE_F_SEEN | STORE_F_ANSWERED, kw, 2),
                     0);
    assert_string_equal(
        b.data, "From MAILER-DAEMON Tue Nov 14 22:13:20 2023 flags=RS kw=$Forwarded kw=work\n");
    buf_reset(&b);
    assert_int_equal(mbox_from_line_write(&b, 1700000000, 0, NULL, 0), 0);
    assert_string_equal(b.data, "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n");
    buf_free(&b);
}

static void test_mbox_foreign(void **state)
{
    (void)state;
    /* a classic mbox: blank separator lines, Status headers, a time zone after the date */
    const char *file = "From alice@example.com Mon Jan  1 10:00:00 2024\n"
                       "Status: RO\nX-Status: AF\nSubject: one\n\nbody one\n\n"
                       "From bob@example.com Tue Jan  2 11:00:00 2024 +0100\n"
                       "Subject: two\n\nbody two\n";
    mbox_reader_t r;
    mbox_msg_t msg;
    buf_t m;
    buf_init(&m, 4096);
    mbox_reader_init(&r, (const uint8_t *)file, strlen(file));
    assert_int_equal(mbox_next(&r, &msg), 0);
    assert_int_equal(msg.line, 1);
    assert_int_equal(msg.has_flags, 0);
    assert_int_equal(msg.date, 1704103200);
    assert_int_equal(mbox_unquote(&msg, &m), 0);
    assert_string_equal(m.data, "Status: RO\nX-Status: AF\nSubject: one\n\nbody one\n");
    assert_int_equal(mbox_status_flags((const uint8_t *)m.data, m.len),
                     STORE_F_SEEN | STORE_F_ANSWERED | STORE_F_FLAGGED);
    assert_int_equal(mbox_next(&r, &msg), 0);
    assert_int_equal(msg.line, 8);
    assert_int_equal(msg.date, 1704193200);
    buf_reset(&m);
    assert_int_equal(mbox_unquote(&msg, &m), 0);
    assert_string_equal(m.data, "Subject: two\n\nbody two");
    assert_int_equal(mbox_status_flags((const uint8_t *)m.data, m.len), 0);
    assert_int_equal(mbox_next(&r, &msg), PETREL_ENOTFOUND);
    buf_free(&m);
}

static void test_mbox_corrupt(void **state)
{
    (void)state;
    const char *file = "Subject: not an mbox\n\nFrom x Mon Jan  1 10:00:00 2024\n";
    mbox_reader_t r;
    mbox_msg_t msg;
    mbox_reader_init(&r, (const uint8_t *)file, strlen(file));
    assert_int_equal(mbox_next(&r, &msg), PETREL_ECORRUPT);
    assert_int_equal(r.line, 1);
    mbox_reader_init(&r, (const uint8_t *)"", 0);
    assert_int_equal(mbox_next(&r, &msg), PETREL_ENOTFOUND);
    /* a From_ line without a date parses, with date 0 */
    mbox_reader_init(&r, (const uint8_t *)"From \nx\n", 8);
    assert_int_equal(mbox_next(&r, &msg), 0);
    assert_int_equal(msg.date, 0);
}

static void test_mbox_date_parse(void **state)
{
    (void)state;
    int64_t t;
    size_t used;
    assert_int_equal(mbox_date_parse("Thu Nov 26 12:57:17 2026", 24, &t, &used), 0);
    assert_int_equal(used, 24);
    assert_int_equal(mbox_date_parse("Thu Foo 26 12:57:17 2026", 24, &t, &used), PETREL_EINVAL);
    assert_int_equal(mbox_date_parse("Thu Nov 26 25:57:17 2026", 24, &t, &used), PETREL_EINVAL);
    assert_int_equal(mbox_date_parse("Thu Nov 26", 10, &t, &used), PETREL_EINVAL);
    assert_int_equal(mbox_date_parse("Thu ovN 26 12:57:17 2026", 24, &t, &used), PETREL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbox_round_trip), cmocka_unit_test(test_mbox_from_line),
        cmocka_unit_test(test_mbox_foreign),    cmocka_unit_test(test_mbox_corrupt),
        cmocka_unit_test(test_mbox_date_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
