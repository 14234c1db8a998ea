/* tests for core/mime header-field helpers and decoders (QP, base64, RFC 2047), addresses */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mime/mime.h"
#include "util/err.h"

#define U8(s) ((const uint8_t *)(s))

static const char hdr[] = "From: a@example.com\r\n"
                          "Subject: one\r\n"
                          "  two\r\n"
                          "no colon here\r\n"
                          "X-Empty:\r\n"
                          "subject: second\r\n"
                          "To : b@example.com\n"
                          "\r\n"
                          "Body: not a header\r\n";

static void test_hdr_iter(void **state)
{
    (void)state;
    struct mime_hdr_iter it;
    struct mime_field f;
    static const struct {
        const char *name, *value, *raw;
    } want[] = {
        {"From", " a@example.com", "From: a@example.com\r\n"},
        {"Subject", " one\r\n  two", "Subject: one\r\n  two\r\n"},
        {"no colon here", "", "no colon here\r\n"},
        {"X-Empty", "", "X-Empty:\r\n"},
        {"subject", " second", "subject: second\r\n"},
        {"To", " b@example.com", "To : b@example.com\n"},
    };
    size_t n = 0;
    mime_hdr_iter_init(&it, U8(hdr), sizeof(hdr) - 1);
    while (mime_hdr_iter_next(&it, &f)) {
        assert_true(n < 6);
        assert_int_equal(f.name_len, strlen(want[n].name));
        assert_memory_equal(f.name, want[n].name, f.name_len);
        assert_int_equal(f.value_len, strlen(want[n].value));
        assert_memory_equal(f.value, want[n].value, f.value_len);
        assert_int_equal(f.raw_len, strlen(want[n].raw));
        assert_memory_equal(f.raw, want[n].raw, f.raw_len);
        n++;
    }
    assert_int_equal(n, 6);
    /* a header without final line ending */
    mime_hdr_iter_init(&it, U8("A: b"), 4);
    assert_int_equal(mime_hdr_iter_next(&it, &f), 1);
    assert_int_equal(f.value_len, 2);
    assert_int_equal(f.raw_len, 4);
    assert_int_equal(mime_hdr_iter_next(&it, &f), 0);
}

static void test_hdr_find(void **state)
{
    (void)state;
    struct mime_field f;
    assert_int_equal(mime_hdr_find(U8(hdr), sizeof(hdr) - 1, "SUBJECT", 7, &f), 0);
    assert_memory_equal(f.value, " one\r\n  two", f.value_len);
    assert_int_equal(mime_hdr_find(U8(hdr), sizeof(hdr) - 1, "to", 2, &f), 0);
    assert_int_equal(mime_hdr_find(U8(hdr), sizeof(hdr) - 1, "Body", 4, &f), PETREL_ENOTFOUND);
    assert_int_equal(mime_hdr_find(U8(hdr), sizeof(hdr) - 1, "Subj", 4, &f), PETREL_ENOTFOUND);
}

static void test_hdr_fields_subset(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out, 4096);
    const char *names[] = {"subject", "TO", "Date"};
    assert_int_equal(mime_hdr_fields_subset(U8(hdr), sizeof(hdr) - 1, names, 3, 0, &out), 0);
    assert_string_equal(out.data,
                        "Subject: one\r\n  two\r\nsubject: second\r\nTo : b@example.com\n\r\n");
    buf_reset(&out);
    assert_int_equal(mime_hdr_fields_subset(U8(hdr), sizeof(hdr) - 1, names, 3, 1, &out), 0);
    assert_string_equal(out.data, "From: a@example.com\r\nno colon here\r\nX-Empty:\r\n\r\n");
    buf_reset(&out);
    /* nothing matches: only the blank line */
    const char *none[] = {"X-None"};
    assert_int_equal(mime_hdr_fields_subset(U8(hdr), sizeof(hdr) - 1, none, 1, 0, &out), 0);
    assert_string_equal(out.data, "\r\n");
    buf_free(&out);
}

static void check_qp(const char *in, int header_mode, const char *want)
{
    buf_t out;
    buf_init(&out, 4096);
    assert_int_equal(mime_qp_decode(U8(in), strlen(in), header_mode, &out), 0);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data ? out.data : "", want, out.len);
    buf_free(&out);
}

static void test_qp(void **state)
{
    (void)state;
    check_qp("Caf=C3=A9 =3D ok", 0, "Caf\xc3\xa9 = ok");
    check_qp("soft=\r\nbreak\r\nhard  \r\nend", 0, "softbreak\r\nhard\r\nend");
    check_qp("lf soft=\nbreak\n", 0, "lf softbreak\r\n");
    check_qp("bad =ZZ and =4", 0, "bad =ZZ and =4");
    check_qp("lower =c3=a9", 0, "lower \xc3\xa9");
    check_qp("a_b", 1, "a b");
    check_qp("a_b", 0, "a_b");
    check_qp("=", 0, "");
}

static void check_b64(const char *in, const char *want, size_t want_len)
{
    buf_t out;
    buf_init(&out, 4096);
    assert_int_equal(mime_base64_decode(U8(in), strlen(in), &out), 0);
    assert_int_equal(out.len, want_len);
    assert_memory_equal(out.data ? out.data : "", want, want_len);
    buf_free(&out);
}

static void test_base64(void **state)
{
    (void)state;
    check_b64("Zm9vYmFy", "foobar", 6);
    check_b64("Zm9v\r\nYmE=\r\n", "fooba", 5);
    check_b64("Zg==", "f", 1);
    check_b64("Z m 9 v !!", "foo", 3);
    check_b64("AAECAw==", "\0\1\2\3", 4);
    check_b64("", "", 0);
    /* bounded output */
    buf_t out;
    buf_init(&out, 2);
    assert_int_equal(mime_base64_decode(U8("Zm9vYmFy"), 8, &out), PETREL_ENOMEM);
    buf_free(&out);
    buf_init(&out, 100);
    assert_int_equal(mime_body_decode(U8("x"), 1, MIME_ENC_OTHER, &out), PETREL_ENOTSUP);
    assert_int_equal(mime_body_decode(U8("raw\r\n"), 5, MIME_ENC_8BIT, &out), 0);
    assert_string_equal(out.data, "raw\r\n");
    buf_free(&out);
}

static void test_encoding_parse(void **state)
{
    (void)state;
    assert_int_equal(mime_encoding_parse(U8(" Base64 "), 8), MIME_ENC_BASE64);
    assert_int_equal(mime_encoding_parse(U8("Quoted-Printable"), 16), MIME_ENC_QP);
    assert_int_equal(mime_encoding_parse(U8("8BIT"), 4), MIME_ENC_8BIT);
    assert_int_equal(mime_encoding_parse(U8("binary (c)"), 10), MIME_ENC_BINARY);
    assert_int_equal(mime_encoding_parse(U8(""), 0), MIME_ENC_7BIT);
    assert_int_equal(mime_encoding_parse(U8("x-uuencode"), 10), MIME_ENC_OTHER);
}

static void check_2047(const char *in, const char *want)
{
    buf_t out;
    buf_init(&out, 4096);
    assert_int_equal(mime_rfc2047_decode(U8(in), strlen(in), &out), 0);
    if (out.len != strlen(want) || memcmp(out.data ? out.data : "", want, out.len) != 0)
        fail_msg("rfc2047 '%s': got '%.*s' want '%s'", in, (int)out.len, out.data, want);
    buf_free(&out);
}

static void test_rfc2047(void **state)
{
    (void)state;
    check_2047("=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9");
    check_2047("=?UTF-8?B?4oKs?=", "\xe2\x82\xac");
    check_2047("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?=", "Patrik F\xc3\xa4ltstr\xc3\xb6m");
    check_2047("=?us-ascii?q?plain?= text", "plain text");
    /* blanks (and folding) between two encoded words vanish */
    check_2047("=?utf-8?q?Hello_?=\r\n =?utf-8?q?world?=", "Hello world");
    check_2047("=?utf-8?q?a?= =?utf-8?q?b?= c =?utf-8?q?d?=", "ab c d");
    /* other charsets stay encoded; so do broken words */
    check_2047("=?koi8-r?b?8NLJ18XU?= x", "=?koi8-r?b?8NLJ18XU?= x");
    check_2047("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
    check_2047("=?utf-8?q?no end", "=?utf-8?q?no end");
    check_2047("=?utf-8*en?q?lang?=", "lang");
    check_2047("plain\r\n folded", "plain folded");
    check_2047("", "");
}

static void check_env(const char *header, const char *want)
{
    buf_t out;
    buf_init(&out, 8192);
    assert_int_equal(mime_imap_envelope(U8(header), strlen(header), &out), 0);
    if (strcmp(out.data, want) != 0) fail_msg("envelope:\n got  %s\n want %s", out.data, want);
    buf_free(&out);
}

/* The envelope takes the first field of each name, whatever the case and order. */
static void test_envelope_fields(void **state)
{
    (void)state;
    check_env("message-id: <m1@x>\r\nSUBJECT: one\r\nSubject: two\r\nNo colon line\r\n"
              "cc: c@x\r\nFrom: f@x\r\nfrom: g@x\r\nReply-To:\r\nTo: t@x\r\n"
              "date: Mon, 1 Jan 2024 00:00:00 +0000\r\nIn-Reply-To: <r@x>\r\nBcc: b@x\r\n\r\n",
              "(\"Mon, 1 Jan 2024 00:00:00 +0000\" \"one\" ((NIL NIL \"f\" \"x\")) "
              "((NIL NIL \"f\" \"x\")) ((NIL NIL \"f\" \"x\")) ((NIL NIL \"t\" \"x\")) "
              "((NIL NIL \"c\" \"x\")) ((NIL NIL \"b\" \"x\")) \"<r@x>\" \"<m1@x>\")");
    check_env("Sender: s@x\r\nFrom: f@x\r\n\r\n",
              "(NIL NIL ((NIL NIL \"f\" \"x\")) ((NIL NIL \"s\" \"x\")) "
              "((NIL NIL \"f\" \"x\")) NIL NIL NIL NIL NIL)");
}

/* Address lists, worked out by hand from RFC 5322 / RFC 3501 (and checked with Dovecot). */
static void test_addresses(void **state)
{
    (void)state;
    check_env("To: undisclosed-recipients:;\r\n\r\n",
              "(NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
              "NIL NIL NIL NIL)");
    check_env("From: joe\r\nCc: <@r1,@r2:u@h.com>, bob@h (Bob Smith)\r\n\r\n",
              "(NIL NIL ((NIL NIL \"joe\" \"MISSING_DOMAIN\")) ((NIL NIL \"joe\" "
              "\"MISSING_DOMAIN\")) ((NIL NIL \"joe\" \"MISSING_DOMAIN\")) NIL ((NIL \"@r1,@r2\" "
              "\"u\" \"h.com\")(\"Bob Smith\" NIL \"bob\" \"h\")) NIL NIL NIL)");
    /* a quote in a name makes a literal; quoted local parts are unquoted */
    check_env("From: \"Q \\\"u\\\"\" <\"a b\"@x.y>\r\n\r\n",
              "(NIL NIL (({5}\r\nQ \"u\" NIL \"a b\" \"x.y\")) (({5}\r\nQ \"u\" NIL \"a b\" "
              "\"x.y\")) (({5}\r\nQ \"u\" NIL \"a b\" \"x.y\")) NIL NIL NIL NIL NIL)");
    /* an unterminated group is closed; empty Reply-To falls back to From */
    check_env("From: a@b.c\r\nReply-To:  \r\nTo: G: x@y.z\r\n\r\n",
              "(NIL NIL ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" "
              "\"b.c\")) ((NIL NIL \"G\" NIL)(NIL NIL \"x\" \"y.z\")(NIL NIL NIL NIL)) NIL NIL NIL "
              "NIL)");
    /* garbage does not loop or crash */
    check_env("To: >>,,<<@;;:\"\r\n\r\n",
              "(NIL NIL NIL NIL NIL ((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL "
              "NIL NIL)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_iter),
        cmocka_unit_test(test_hdr_find),
        cmocka_unit_test(test_hdr_fields_subset),
        cmocka_unit_test(test_qp),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_encoding_parse),
        cmocka_unit_test(test_rfc2047),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_envelope_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
