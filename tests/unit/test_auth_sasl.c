/* tests for core/auth/sasl.c: PLAIN (RFC 4616) and LOGIN exchanges and their errors */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "util/base64.h"
#include "util/err.h"

/* base64 of [p, p+n) into a static-per-call buffer owned by the caller */
static char *b64(const void *p, size_t n)
{
    size_t cap = base64_encoded_len(n, BASE64_PAD_REQUIRED) + 1;
    char *out = malloc(cap);
    assert_int_equal(base64_encode(p, n, BASE64_PAD_REQUIRED, out, cap, NULL), 0);
    return out;
}

static int start(struct auth_sasl *s, const char *mech, const char *initial, const char **ch)
{
    return auth_sasl_start(s, mech, initial, initial ? strlen(initial) : 0, ch);
}

static int step(struct auth_sasl *s, const char *line, const char **ch)
{
    return auth_sasl_step(s, line, strlen(line), ch);
}

static void test_plain_initial_response(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch = "x";
    auth_sasl_init(&s);
    /* "\0user\0pass" */
    assert_int_equal(start(&s, "PLAIN", "AHVzZXIAcGFzcw==", &ch), AUTH_SASL_DONE);
    assert_null(ch);
    assert_int_equal(s.mech, AUTH_SASL_MECH_PLAIN);
    assert_int_equal(s.authzid_len, 0);
    assert_string_equal(s.authcid, "user");
    assert_int_equal(s.authcid_len, 4);
    assert_string_equal(s.password, "pass");
    assert_int_equal(s.password_len, 4);
    /* unpadded initial response is accepted too */
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "plain", "AHVzZXIAcGFzcw", &ch), AUTH_SASL_DONE);
    assert_string_equal(s.password, "pass");
    auth_sasl_reset(&s);
}

static void test_plain_with_authzid(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    static const char msg[] = "admin@example.com\0user@example.com\0p4ss word";
    char *enc = b64(msg, sizeof(msg) - 1);
    assert_int_equal(start(&s, "PLAIN", enc, &ch), AUTH_SASL_DONE);
    assert_string_equal(s.authzid, "admin@example.com");
    assert_int_equal(s.authzid_len, 17);
    assert_string_equal(s.authcid, "user@example.com");
    assert_string_equal(s.password, "p4ss word");
    free(enc);
    auth_sasl_reset(&s);
}

static void test_plain_without_initial_response(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch = NULL;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_non_null(ch);
    assert_string_equal(ch, ""); /* empty challenge: "+ " / "334 " */
    /* a trailing CR LF is tolerated */
    assert_int_equal(step(&s, "AHVzZXIAcGFzcw==\r\n", &ch), AUTH_SASL_DONE);
    assert_string_equal(s.authcid, "user");
    assert_string_equal(s.password, "pass");
    /* no more steps once done */
    assert_int_equal(step(&s, "AHVzZXIAcGFzcw==", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
}

static void test_login_two_steps(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch = NULL;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_string_equal(ch, "VXNlcm5hbWU6");
    assert_int_equal(step(&s, "dXNlckBleGFtcGxlLmNvbQ==", &ch), AUTH_SASL_NEED_MORE);
    assert_string_equal(ch, "UGFzc3dvcmQ6");
    assert_string_equal(s.authcid, "user@example.com");
    assert_int_equal(step(&s, "c2VjcmV0", &ch), AUTH_SASL_DONE);
    assert_null(ch);
    assert_int_equal(s.mech, AUTH_SASL_MECH_LOGIN);
    assert_string_equal(s.password, "secret");
    assert_int_equal(s.password_len, 6);
    assert_int_equal(s.authzid_len, 0);
    auth_sasl_reset(&s);
    /* SMTP "AUTH LOGIN <username>": the initial response is the user name */
    assert_int_equal(start(&s, "login", "dXNlcg==", &ch), AUTH_SASL_NEED_MORE);
    assert_string_equal(ch, "UGFzc3dvcmQ6");
    assert_int_equal(step(&s, "c2VjcmV0", &ch), AUTH_SASL_DONE);
    assert_string_equal(s.authcid, "user");
    auth_sasl_reset(&s);
}

static void test_cancel(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "*", &ch), PETREL_ECLOSED);
    assert_int_equal(s.state, AUTH_SASL_STATE_FAILED);
    assert_int_equal(step(&s, "AHVzZXIAcGFzcw==", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "*\r\n", &ch), PETREL_ECLOSED);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "dXNlcg==", &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "*", &ch), PETREL_ECLOSED);
    assert_int_equal(s.password_len, 0);
    auth_sasl_reset(&s);
}

static void test_unknown_mechanism(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "CRAM-MD5", NULL, &ch), PETREL_ENOTSUP);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "", NULL, &ch), PETREL_ENOTSUP);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "PLAINX", "AHVzZXIAcGFzcw==", &ch), PETREL_ENOTSUP);
    assert_true(auth_sasl_mech_supported("plain"));
    assert_true(auth_sasl_mech_supported("LOGIN"));
    assert_false(auth_sasl_mech_supported("XOAUTH2"));
    auth_sasl_reset(&s);
}

static void test_bad_base64(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", "AHVzZXIAcGFzcw=!", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "PLAIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "AHVz ZXIAcGFzcw==", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "dXNlcg=", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    /* "=" is only the empty initial response, not a step */
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "=", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
}

static void expect_plain(const void *msg, size_t n, int want)
{
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    char *enc = b64(msg, n);
    assert_int_equal(start(&s, "PLAIN", enc, &ch), want);
    free(enc);
    auth_sasl_reset(&s);
}

static void test_plain_nul_placement(void **state)
{
    (void)state;
    expect_plain("userpass", 8, PETREL_EINVAL);        /* no NUL at all */
    expect_plain("\0userpass", 9, PETREL_EINVAL);      /* one NUL */
    expect_plain("\0user\0pa\0ss", 12, PETREL_EINVAL); /* NUL inside the password */
    expect_plain("\0\0pass", 6, PETREL_EINVAL);        /* empty authcid */
    expect_plain("\0user\0", 6, PETREL_EINVAL);        /* empty password */
    expect_plain("\0user\0p", 7, AUTH_SASL_DONE);      /* the shortest valid */
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", "=", &ch), PETREL_EINVAL); /* empty message */
    auth_sasl_reset(&s);
    /* LOGIN: a NUL in the user name, an empty user name or password */
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "dQBy", &ch), PETREL_EINVAL); /* "u\0r" */
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", "=", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    assert_int_equal(start(&s, "LOGIN", "dXNlcg==", &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "\r\n", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
}

static void test_too_long(void **state)
{
    (void)state;
    size_t f = AUTH_SASL_FIELD_MAX;
    char *msg = malloc(3 * f + 3);
    /* every field at its maximum: accepted */
    memset(msg, 'z', f);
    msg[f] = '\0';
    memset(msg + f + 1, 'u', f);
    msg[2 * f + 1] = '\0';
    memset(msg + 2 * f + 2, 'p', f);
    expect_plain(msg, 3 * f + 2, AUTH_SASL_DONE);
    /* one byte more in the password: refused */
    msg[3 * f + 2] = 'p';
    expect_plain(msg, 3 * f + 3, PETREL_ETOOBIG);
    /* an authzid of FIELD_MAX + 1 */
    memset(msg, 'z', f + 1);
    msg[f + 1] = '\0';
    memcpy(msg + f + 2, "u\0p", 3);
    expect_plain(msg, f + 5, PETREL_ETOOBIG);
    expect_plain(msg + 1, f + 4, AUTH_SASL_DONE); /* FIELD_MAX exactly */
    char *m2 = malloc(f + 10);
    m2[0] = '\0';
    memset(m2 + 1, 'u', f + 1);
    m2[f + 2] = '\0';
    m2[f + 3] = 'p';
    expect_plain(m2, f + 4, PETREL_ETOOBIG); /* authcid of FIELD_MAX + 1 */
    /* a line over AUTH_SASL_LINE_MAX is refused before decoding */
    struct auth_sasl s;
    const char *ch;
    char *line = malloc(AUTH_SASL_LINE_MAX + 4);
    memset(line, 'A', AUTH_SASL_LINE_MAX + 4);
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(auth_sasl_step(&s, line, AUTH_SASL_LINE_MAX + 4, &ch), PETREL_ETOOBIG);
    auth_sasl_reset(&s);
    assert_int_equal(auth_sasl_start(&s, "LOGIN", line, AUTH_SASL_LINE_MAX + 4, &ch),
                     PETREL_ETOOBIG);
    auth_sasl_reset(&s);
    /* LOGIN user name of FIELD_MAX + 1 */
    char *enc = b64(m2 + 1, f + 1);
    assert_int_equal(start(&s, "LOGIN", NULL, &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, enc, &ch), PETREL_ETOOBIG);
    auth_sasl_reset(&s);
    free(enc);
    free(line);
    free(m2);
    free(msg);
}

static void test_reset_wipes(void **state)
{
    (void)state;
    struct auth_sasl s;
    const char *ch;
    auth_sasl_init(&s);
    assert_int_equal(start(&s, "PLAIN", "AHVzZXIAcGFzcw==", &ch), AUTH_SASL_DONE);
    /* a second start without reset is refused */
    assert_int_equal(start(&s, "PLAIN", "AHVzZXIAcGFzcw==", &ch), PETREL_EINVAL);
    auth_sasl_reset(&s);
    static const char zeros[sizeof(s.password)];
    assert_memory_equal(s.password, zeros, sizeof(zeros));
    assert_memory_equal(s.authcid, zeros, sizeof(zeros));
    assert_int_equal(s.password_len, 0);
    assert_int_equal(s.state, AUTH_SASL_IDLE);
    /* a failed exchange wipes the password it may have read */
    assert_int_equal(start(&s, "LOGIN", "dXNlcg==", &ch), AUTH_SASL_NEED_MORE);
    assert_int_equal(step(&s, "!!", &ch), PETREL_EINVAL);
    assert_memory_equal(s.password, zeros, sizeof(zeros));
    auth_sasl_reset(&s);
    /* usable again after reset */
    assert_int_equal(start(&s, "PLAIN", "AHVzZXIAcGFzcw==", &ch), AUTH_SASL_DONE);
    assert_string_equal(s.password, "pass");
    auth_sasl_reset(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_initial_response),
        cmocka_unit_test(test_plain_with_authzid),
        cmocka_unit_test(test_plain_without_initial_response),
        cmocka_unit_test(test_login_two_steps),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_unknown_mechanism),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_plain_nul_placement),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_reset_wipes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
