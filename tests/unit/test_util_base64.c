/* tests for core/util/base64.c: RFC 4648 vectors, padding modes, strictness, bounds */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/base64.h"
#include "util/err.h"

static const struct {
    const char *plain, *padded, *bare;
} vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void test_encode_vectors(void **state)
{
    (void)state;
    char out[32];
    size_t n;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t len = strlen(vectors[i].plain);
        assert_int_equal(
            base64_encode(vectors[i].plain, len, BASE64_PAD_REQUIRED, out, sizeof(out), &n), 0);
        assert_string_equal(out, vectors[i].padded);
        assert_int_equal(n, strlen(vectors[i].padded));
        assert_int_equal(base64_encoded_len(len, BASE64_PAD_REQUIRED), n);
        assert_int_equal(
            base64_encode(vectors[i].plain, len, BASE64_PAD_NONE, out, sizeof(out), &n), 0);
        assert_string_equal(out, vectors[i].bare);
        assert_int_equal(base64_encoded_len(len, BASE64_PAD_NONE), n);
    }
}

static void test_decode_vectors(void **state)
{
    (void)state;
    char out[32];
    size_t n;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *p = vectors[i].padded, *b = vectors[i].bare, *plain = vectors[i].plain;
        assert_int_equal(base64_decode(p, strlen(p), BASE64_PAD_REQUIRED, out, sizeof(out), &n), 0);
        assert_int_equal(n, strlen(plain));
        assert_memory_equal(out, plain, n);
        assert_int_equal(base64_decode(b, strlen(b), BASE64_PAD_NONE, out, sizeof(out), &n), 0);
        assert_int_equal(n, strlen(plain));
        assert_memory_equal(out, plain, n);
        assert_int_equal(base64_decode(p, strlen(p), BASE64_PAD_OPTIONAL, out, sizeof(out), &n), 0);
        assert_int_equal(n, strlen(plain));
        assert_int_equal(base64_decode(b, strlen(b), BASE64_PAD_OPTIONAL, out, sizeof(out), &n), 0);
        assert_int_equal(n, strlen(plain));
        assert_true(base64_decoded_max(strlen(p)) >= n);
    }
}

static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    uint8_t in[256], back[256];
    char enc[400];
    size_t n, m;
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    for (size_t len = 0; len <= sizeof(in); len += 17) {
        assert_int_equal(base64_encode(in, len, BASE64_PAD_REQUIRED, enc, sizeof(enc), &n), 0);
        assert_int_equal(base64_decode(enc, n, BASE64_PAD_REQUIRED, back, sizeof(back), &m), 0);
        assert_int_equal(m, len);
        assert_memory_equal(in, back, len);
    }
}

static void expect_invalid(const char *s, enum base64_pad pad)
{
    char out[64];
    size_t n = 12345;
    assert_int_equal(base64_decode(s, strlen(s), pad, out, sizeof(out), &n), PETREL_EINVAL);
}

static void test_decode_rejects(void **state)
{
    (void)state;
    expect_invalid("Zm9v!", BASE64_PAD_OPTIONAL);    /* not in the alphabet */
    expect_invalid("Zm9v\n", BASE64_PAD_OPTIONAL);   /* no line breaks */
    expect_invalid("Zm 9v", BASE64_PAD_OPTIONAL);    /* no spaces */
    expect_invalid("Zm9-", BASE64_PAD_OPTIONAL);     /* url alphabet is not ours */
    expect_invalid("Z", BASE64_PAD_OPTIONAL);        /* length % 4 == 1 */
    expect_invalid("Zm9vY", BASE64_PAD_NONE);        /* length % 4 == 1 */
    expect_invalid("Zg=", BASE64_PAD_OPTIONAL);      /* half padding */
    expect_invalid("Zg", BASE64_PAD_REQUIRED);       /* padding missing */
    expect_invalid("Zg==", BASE64_PAD_NONE);         /* padding forbidden */
    expect_invalid("Zm8==", BASE64_PAD_OPTIONAL);    /* too much padding */
    expect_invalid("Zm9v====", BASE64_PAD_OPTIONAL); /* a whole quad of padding */
    expect_invalid("Zg==Zg==", BASE64_PAD_OPTIONAL); /* padding in the middle */
    expect_invalid("=Zg=", BASE64_PAD_OPTIONAL);     /* padding first */
    expect_invalid("Zh==", BASE64_PAD_OPTIONAL);     /* non-zero unused bits */
    expect_invalid("Zm9=", BASE64_PAD_OPTIONAL);     /* non-zero unused bits */
    /* an embedded NUL is a bad character, not an end */
    char out[8];
    size_t n;
    assert_int_equal(base64_decode("Zm\0v", 4, BASE64_PAD_OPTIONAL, out, sizeof(out), &n),
                     PETREL_EINVAL);
}

static void test_bounds(void **state)
{
    (void)state;
    char small[4];
    size_t n;
    /* "foo" needs 4 characters and the NUL */
    assert_int_equal(base64_encode("foo", 3, BASE64_PAD_REQUIRED, small, 4, &n), PETREL_ETOOBIG);
    assert_int_equal(base64_encode("foo", 3, BASE64_PAD_REQUIRED, small, 0, &n), PETREL_ETOOBIG);
    char enc[5];
    assert_int_equal(base64_encode("foo", 3, BASE64_PAD_REQUIRED, enc, sizeof(enc), &n), 0);
    uint8_t two[2];
    assert_int_equal(base64_decode("Zm9v", 4, BASE64_PAD_REQUIRED, two, sizeof(two), &n),
                     PETREL_ETOOBIG);
    uint8_t three[3];
    assert_int_equal(base64_decode("Zm9v", 4, BASE64_PAD_REQUIRED, three, sizeof(three), &n), 0);
    assert_int_equal(n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_decode_vectors),
        cmocka_unit_test(test_round_trip_all_bytes),
        cmocka_unit_test(test_decode_rejects),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
