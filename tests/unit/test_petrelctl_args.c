/* Unit tests for petrelctl's argument parsing and value parsers (tools/petrelctl/args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/petrelctl/args.c"

static void test_args_options_and_positionals(void **state)
{
    (void)state;
    char *argv[] = {"example.com", "--quota", "2G", "--protocols=imap,pop3", "--purge", "x"};
    args_opt_t opts[] = {{"quota", 1, NULL, 0}, {"protocols", 1, NULL, 0}, {"purge", 0, NULL, 0}};
    args_t a;
    char err[128];
    assert_int_equal(args_parse(6, argv, opts, 3, &a, err, sizeof(err)), 0);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "example.com");
    assert_string_equal(a.pos[1], "x");
    assert_string_equal(opts[0].value, "2G");
    assert_string_equal(opts[1].value, "imap,pop3");
    assert_int_equal(opts[2].set, 1);
    assert_null(opts[2].value);
    assert_int_equal(a.help, 0);
}

static void test_args_errors(void **state)
{
    (void)state;
    args_opt_t opts[] = {{"quota", 1, NULL, 0}, {"purge", 0, NULL, 0}};
    args_t a;
    char err[128];
    char *unknown[] = {"--nope"};
    assert_int_equal(args_parse(1, unknown, opts, 2, &a, err, sizeof(err)), PETREL_EINVAL);
    assert_non_null(strstr(err, "--nope"));
    char *missing[] = {"x", "--quota"};
    assert_int_equal(args_parse(2, missing, opts, 2, &a, err, sizeof(err)), PETREL_EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    char *flagval[] = {"--purge=yes"};
    assert_int_equal(args_parse(1, flagval, opts, 2, &a, err, sizeof(err)), PETREL_EINVAL);
    char *shortopt[] = {"-q"};
    assert_int_equal(args_parse(1, shortopt, opts, 2, &a, err, sizeof(err)), PETREL_EINVAL);
    /* a prefix is not the option */
    char *prefix[] = {"--quot", "1"};
    assert_int_equal(args_parse(2, prefix, opts, 2, &a, err, sizeof(err)), PETREL_EINVAL);
}

static void test_args_help_and_dashdash(void **state)
{
    (void)state;
    args_opt_t opts[] = {{"quota", 1, NULL, 0}};
    args_t a;
    char err[128];
    char *argv[] = {"--help", "--", "--quota", "-"};
    assert_int_equal(args_parse(4, argv, opts, 1, &a, err, sizeof(err)), 0);
    assert_int_equal(a.help, 1);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "--quota");
    assert_string_equal(a.pos[1], "-");
    assert_int_equal(opts[0].set, 0);
    char *many[ARGS_POS_MAX + 1];
    for (int i = 0; i <= ARGS_POS_MAX; i++)
        many[i] = "p";
    assert_int_equal(args_parse(ARGS_POS_MAX + 1, many, opts, 1, &a, err, sizeof(err)),
                     PETREL_EINVAL);
}

static void test_args_size(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(args_parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(args_parse_size("512B", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(args_parse_size("500M", &v), 0);
    assert_int_equal(v, 500ull << 20);
    assert_int_equal(args_parse_size("2G", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(args_parse_size("2g", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(args_parse_size("1.5T", &v), 0);
    assert_int_equal(v, 3ull << 39);
    assert_int_equal(args_parse_size("0.5k", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(args_parse_size("10MiB", &v), 0);
    assert_int_equal(v, 10ull << 20);
    assert_int_equal(args_parse_size("10MB", &v), 0);
    assert_int_equal(v, 10ull << 20);
    assert_int_equal(args_parse_size("16777215T", &v), 0);
    assert_int_equal(v, 16777215ull << 40);
    v = 7;
    const char *bad[] = {"",
                         "M",
                         "1.5",
                         "1.M",
                         "-1G",
                         "1X",
                         "1GG",
                         "1 G",
                         "2G ",
                         "16777216T",
                         "18446744073709551616",
                         "1e3",
                         ".5G",
                         "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(args_parse_size(bad[i], &v), PETREL_EINVAL);
        assert_int_equal(v, 7);
    }
    assert_int_equal(args_parse_quota("unlimited", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(args_parse_quota("UNLIMITED", &v), 0);
    assert_int_equal(args_parse_quota("1K", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(args_parse_quota("unlimit", &v), PETREL_EINVAL);
    assert_int_equal(args_parse_count("100", 0, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(args_parse_count("unlimited", 0, &v), PETREL_EINVAL);
    assert_int_equal(args_parse_count("unlimited", 1, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(args_parse_count("1k", 1, &v), PETREL_EINVAL);
}

static void test_args_date(void **state)
{
    (void)state;
    int64_t t = 0, now = 1800000000;
    assert_int_equal(args_parse_date("2024-02-29", now, &t), 0);
    assert_int_equal(t, 1709164800);
    assert_int_equal(args_parse_date("2024-02-29T12:30:15Z", now, &t), 0);
    assert_int_equal(t, 1709164800 + 12 * 3600 + 30 * 60 + 15);
    assert_int_equal(args_parse_date("2024-02-29 12:30", now, &t), 0);
    assert_int_equal(t, 1709164800 + 12 * 3600 + 30 * 60);
    assert_int_equal(args_parse_date("@1700000000", now, &t), 0);
    assert_int_equal(t, 1700000000);
    assert_int_equal(args_parse_date("30d", now, &t), 0);
    assert_int_equal(t, now - 30 * 86400);
    assert_int_equal(args_parse_date("12h", now, &t), 0);
    assert_int_equal(t, now - 12 * 3600);
    assert_int_equal(args_parse_date("2w", now, &t), 0);
    assert_int_equal(t, now - 14 * 86400);
    t = 5;
    const char *bad[] = {
        "",  "2023-02-29", "2024-13-01", "2024-1-01",   "2024-01-01T25:00", "yesterday",
        "@", "@12x",       "d",          "2024-01-01x", "1969-12-31",       "99999999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(args_parse_date(bad[i], now, &t), PETREL_EINVAL);
        assert_int_equal(t, 5);
    }
}

static void test_args_protocols(void **state)
{
    (void)state;
    uint32_t b = 99;
    char s[32];
    assert_int_equal(args_parse_protocols("smtp,pop3,imap", &b), 0);
    assert_int_equal(b, STORE_PROTO_ALL);
    assert_int_equal(args_parse_protocols("IMAP", &b), 0);
    assert_int_equal(b, STORE_PROTO_IMAP);
    assert_int_equal(args_parse_protocols("all", &b), 0);
    assert_int_equal(b, STORE_PROTO_ALL);
    assert_int_equal(args_parse_protocols("none", &b), 0);
    assert_int_equal(b, 0);
    b = 99;
    assert_int_equal(args_parse_protocols("imap,", &b), PETREL_EINVAL);
    assert_int_equal(args_parse_protocols("imap,ftp", &b), PETREL_EINVAL);
    assert_int_equal(args_parse_protocols("", &b), PETREL_EINVAL);
    assert_int_equal(args_parse_protocols("imaps", &b), PETREL_EINVAL);
    assert_int_equal(b, 99);
    assert_string_equal(args_format_protocols(STORE_PROTO_IMAP | STORE_PROTO_SMTP, s, sizeof(s)),
                        "smtp,imap");
    assert_string_equal(args_format_protocols(0, s, sizeof(s)), "none");
}

static void test_args_flags(void **state)
{
    (void)state;
    uint32_t f = 0;
    char kwbuf[256];
    const char *kws[ARGS_KEYWORDS_MAX];
    size_t nkw = 9;
    assert_int_equal(args_parse_flags("\\Seen,\\Flagged $Label1 draft", &f, kwbuf, sizeof(kwbuf),
                                      kws, ARGS_KEYWORDS_MAX, &nkw),
                     0);
    assert_int_equal(f, STORE_F_SEEN | STORE_F_FLAGGED | STORE_F_DRAFT);
    assert_int_equal(nkw, 1);
    assert_string_equal(kws[0], "$Label1");
    assert_int_equal(args_parse_flags("", &f, kwbuf, sizeof(kwbuf), kws, ARGS_KEYWORDS_MAX, &nkw),
                     0);
    assert_int_equal(f, 0);
    assert_int_equal(nkw, 0);
    assert_int_equal(
        args_parse_flags("\\Recent", &f, kwbuf, sizeof(kwbuf), kws, ARGS_KEYWORDS_MAX, &nkw),
        PETREL_EINVAL);
    assert_int_equal(
        args_parse_flags("bad(kw", &f, kwbuf, sizeof(kwbuf), kws, ARGS_KEYWORDS_MAX, &nkw),
        PETREL_EINVAL);
    assert_int_equal(args_parse_flags("a b c", &f, kwbuf, sizeof(kwbuf), kws, 2, &nkw),
                     PETREL_EINVAL);
}

static void test_args_format_size(void **state)
{
    (void)state;
    char s[32];
    assert_string_equal(args_format_size(0, s, sizeof(s)), "0 B");
    assert_string_equal(args_format_size(1023, s, sizeof(s)), "1023 B");
    assert_string_equal(args_format_size(1536, s, sizeof(s)), "1.5 KiB");
    assert_string_equal(args_format_size(2ull << 30, s, sizeof(s)), "2.0 GiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_options_and_positionals),
        cmocka_unit_test(test_args_errors),
        cmocka_unit_test(test_args_help_and_dashdash),
        cmocka_unit_test(test_args_size),
        cmocka_unit_test(test_args_date),
        cmocka_unit_test(test_args_protocols),
        cmocka_unit_test(test_args_flags),
        cmocka_unit_test(test_args_format_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
