/* tests for core/auth/password.c and password_crypt.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "util/err.h"

/* fast parameters for tests; the defaults (ln=14) are exercised once */
static const struct auth_scrypt_params fast = {10, 8, 1};

/* RFC 7914 section 12, second vector: P="password" S="NaCl" N=1024 r=8 p=16, 64 bytes */
static const char rfc7914[] =
    "$scrypt$ln=10,r=8,p=16$TmFDbA$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3"
    "MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA";
/* `openssl passwd -6 -salt saltsalt password` */
static const char sha512_pw[] = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
                                "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/";
/* Drepper's SHA-crypt specification, rounds=10000 vector, password "Hello world!" */
static const char sha512_rounds[] =
    "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeq"
    "h0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.";
/* Openwall crypt_blowfish test vector, password "U*U" */
static const char bcrypt_2a[] = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

static int verify(const char *pw, const char *stored, int *rehash)
{
    *rehash = -1;
    return auth_password_verify(pw, strlen(pw), stored, rehash);
}

static void test_hash_round_trip(void **state)
{
    (void)state;
    char *h1 = NULL, *h2 = NULL;
    assert_int_equal(auth_password_hash("secret", 6, &fast, &h1), 0);
    assert_int_equal(auth_password_hash("secret", 6, &fast, &h2), 0);
    /* $scrypt$ln=10,r=8,p=1$ + 22 salt characters + $ + 43 key characters */
    assert_int_equal(strncmp(h1, "$scrypt$ln=10,r=8,p=1$", 22), 0);
    assert_int_equal(strlen(h1), 22 + 22 + 1 + 43);
    assert_int_equal(h1[44], '$');
    assert_null(strchr(h1 + 22, '=')); /* no base64 padding */
    assert_string_not_equal(h1, h2);   /* fresh salt each time */
    int rehash;
    assert_int_equal(verify("secret", h1, &rehash), 0);
    assert_int_equal(rehash, 1); /* ln=10 is weaker than the default ln=14 */
    assert_int_equal(verify("secret", h2, &rehash), 0);
    rehash = -1;
    assert_int_equal(auth_password_verify_with("secret", 6, h1, &fast, &rehash), 0);
    assert_int_equal(rehash, 0); /* as strong as the current parameters */
    struct auth_scrypt_params more_r = {10, 9, 1}, more_p = {10, 8, 2};
    assert_int_equal(auth_password_verify_with("secret", 6, h1, &more_r, &rehash), 0);
    assert_int_equal(rehash, 1);
    assert_int_equal(auth_password_verify_with("secret", 6, h1, &more_p, &rehash), 0);
    assert_int_equal(rehash, 1);
    free(h1);
    free(h2);
}

static void test_hash_defaults(void **state)
{
    (void)state;
    char *h = NULL;
    assert_int_equal(auth_password_hash("pw", 2, NULL, &h), 0);
    assert_int_equal(strncmp(h, "$scrypt$ln=14,r=8,p=1$", 22), 0);
    int rehash;
    assert_int_equal(verify("pw", h, &rehash), 0);
    assert_int_equal(rehash, 0);
    free(h);
}

static void test_wrong_password(void **state)
{
    (void)state;
    char *h = NULL;
    int rehash;
    assert_int_equal(auth_password_hash("secret", 6, &fast, &h), 0);
    assert_int_equal(verify("Secret", h, &rehash), PETREL_EPERM);
    assert_int_equal(rehash, 0);
    assert_int_equal(verify("", h, &rehash), PETREL_EPERM);
    assert_int_equal(auth_password_verify("secret\1", 7, h, &rehash), PETREL_EPERM);
    /* scrypt's PBKDF2-HMAC pads the password (the HMAC key) with zeros, so trailing NULs
     * are equivalent: a property of scrypt itself, recorded here so nobody "fixes" it */
    assert_int_equal(auth_password_verify("secret\0", 7, h, &rehash), 0);
    assert_int_equal(auth_password_verify("secre", 5, h, NULL), PETREL_EPERM);
    free(h);
}

static void test_binary_and_empty_passwords(void **state)
{
    (void)state;
    char *h = NULL;
    const char bin[] = {'a', '\0', 'b', (char)0xff};
    assert_int_equal(auth_password_hash(bin, sizeof(bin), &fast, &h), 0);
    assert_int_equal(auth_password_verify(bin, sizeof(bin), h, NULL), 0);
    assert_int_equal(auth_password_verify(bin, 1, h, NULL), PETREL_EPERM);
    free(h);
    assert_int_equal(auth_password_hash("", 0, &fast, &h), 0);
    assert_int_equal(auth_password_verify("", 0, h, NULL), 0);
    assert_int_equal(auth_password_verify("x", 1, h, NULL), PETREL_EPERM);
    free(h);
}

static void test_rfc7914_vector(void **state)
{
    (void)state;
    int rehash;
    assert_int_equal(verify("password", rfc7914, &rehash), 0);
    assert_int_equal(rehash, 1);
    assert_int_equal(verify("passwore", rfc7914, &rehash), PETREL_EPERM);
}

static void test_bad_params(void **state)
{
    (void)state;
    const struct auth_scrypt_params bad[] = {
        {0, 8, 1},
        {21, 1, 1},
        {10, 0, 1},
        {10, 8, 0},
        {10, 33, 1},
        {10, 8, 17},
        {20, 8, 1} /* 1 GiB */,
        {18, 8, 16} /* too much work */,
    };
    char *h = NULL;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(auth_scrypt_params_check(&bad[i]), PETREL_EINVAL);
        assert_int_equal(auth_password_hash("x", 1, &bad[i], &h), PETREL_EINVAL);
    }
    assert_null(h);
    struct auth_scrypt_params def;
    auth_scrypt_params_default(&def);
    assert_int_equal(def.ln, 14);
    assert_int_equal(def.r, 8);
    assert_int_equal(def.p, 1);
    assert_int_equal(auth_scrypt_params_check(&def), 0);
}

static void test_too_long_password(void **state)
{
    (void)state;
    char *pw = malloc(AUTH_PASSWORD_MAX + 1);
    memset(pw, 'a', AUTH_PASSWORD_MAX + 1);
    char *h = NULL;
    assert_int_equal(auth_password_hash(pw, AUTH_PASSWORD_MAX + 1, &fast, &h), PETREL_ETOOBIG);
    assert_int_equal(auth_password_hash(pw, AUTH_PASSWORD_MAX, &fast, &h), 0);
    assert_int_equal(auth_password_verify(pw, AUTH_PASSWORD_MAX, h, NULL), 0);
    assert_int_equal(auth_password_verify(pw, AUTH_PASSWORD_MAX + 1, h, NULL), PETREL_ETOOBIG);
    free(h);
    free(pw);
}

/* Copies tmpl into out, replacing '@' '^' '#' '~' as described in test_malformed_hashes. */
static void expand(char *out, size_t outsize, const char *tmpl, const char *salt, const char *key)
{
    size_t o = 0;
    for (const char *t = tmpl; *t; t++) {
        const char *part = NULL;
        size_t n = 1;
        if (*t == '@')
            part = salt, n = 22;
        else if (*t == '^')
            part = salt, n = 4;
        else if (*t == '#')
            part = key, n = 43;
        else if (*t == '~')
            part = key, n = 20;
        else
            part = t;
        assert_true(o + n < outsize);
        memcpy(out + o, part, n);
        o += n;
    }
    out[o] = '\0';
}

static void test_malformed_hashes(void **state)
{
    (void)state;
    char *good = NULL;
    assert_int_equal(auth_password_hash("pw", 2, &fast, &good), 0);
    const char *salt = good + 22;     /* 22 characters */
    const char *key = good + 22 + 23; /* 43 characters */
    char buf[600];
    const char *fixed[] = {
        "",
        "pw",
        "$",
        "$scrypt",
        "$scrypt$",
        "$scrypt$ln=10,r=8,p=1",
        "$scrypt$ln=10,r=8,p=1$",
        "$scrypt$ln=10,r=8,p=1$$",
        "$1$saltsalt$abcdefghijklmnopqrstuv",
        "$5$salt$abc",
        "$7$abc",
        "$y$j9T$abc$def",
        "{PLAIN}pw",
        "{SHA512-CRYPT}",
        "{BLF-CRYPT}",
        "{SHA512-CRYPT}$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "{BLF-CRYPT}$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        "{SHA512-CRYPT",
        "$6$",
        "$6$saltsalt",
        "$6$saltsalt$",
        "$6$saltsalt$tooshort",
        "$6$$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", /* empty salt */
        "$6$rounds=2000000$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", /* over our rounds bound */
        "$6$rounds=abc$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
        "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
        "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh!",                   /* bad character */
        "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",   /* short */
        "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW", /* long */
        "$2y$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  /* over cost bound */
        "$2y$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",  /* under bcrypt's 4 */
        "$2y$x5$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2y$05$CCCCCCCCCCCCCCCCCCCCC!E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", /* $2x$ not accepted */
    };
    int rehash;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        rehash = -1;
        if (verify("pw", fixed[i], &rehash) != PETREL_EINVAL)
            fail_msg("accepted as well-formed: %s", fixed[i]);
        assert_int_equal(rehash, 0);
    }
    /* scrypt strings built around a valid salt and key: in the templates '@' is the
     * salt (22 characters), '^' its first 4, '#' the key (43), '~' its first 20 */
    const char *tmpl[] = {
        "$scrypt$ln=10,r=8$@$#",             /* p missing */
        "$scrypt$r=8,ln=10,p=1$@$#",         /* order */
        "$scrypt$ln=010,r=8,p=1$@$#",        /* leading zero */
        "$scrypt$ln=+10,r=8,p=1$@$#",        /* sign */
        "$scrypt$ln=,r=8,p=1$@$#",           /* empty number */
        "$scrypt$ln=10,r=8,p=1,x=1$@$#",     /* extra field */
        "$scrypt$LN=10,r=8,p=1$@$#",         /* case */
        "$scrypt$ln=10, r=8,p=1$@$#",        /* space */
        "$scrypt$ln=9999999999,r=8,p=1$@$#", /* overflow */
        "$scrypt$ln=0,r=8,p=1$@$#",          /* bad ln */
        "$scrypt$ln=21,r=1,p=1$@$#",         /* over ln bound */
        "$scrypt$ln=20,r=8,p=1$@$#",         /* 1 GiB of memory */
        "$scrypt$ln=10,r=0,p=1$@$#",         /* r zero */
        "$scrypt$ln=10,r=8,p=0$@$#",         /* p zero */
        "$scrypt$ln=10,r=8,p=1$@!$#",        /* bad salt character */
        "$scrypt$ln=10,r=8,p=1$@==$#",       /* padded salt */
        "$scrypt$ln=10,r=8,p=1$^$#",         /* salt of 3 bytes */
        "$scrypt$ln=10,r=8,p=1$@$#$",        /* trailing $ */
        "$scrypt$ln=10,r=8,p=1$@$#=",        /* padded key */
        "$scrypt$ln=10,r=8,p=1$@$~",         /* key of 15 bytes */
        "$scrypt$ln=10,r=8,p=1$@$###",       /* key of over 64 bytes */
        "$scrypt$ln=10,r=8,p=1$@",           /* key missing */
        "$scrypt$$ln=10,r=8,p=1$@$#",
        "$scrypt$ln=10,r=8,p=1$@$#\n",
    };
    for (size_t i = 0; i < sizeof(tmpl) / sizeof(tmpl[0]); i++) {
        expand(buf, sizeof(buf), tmpl[i], salt, key);
        rehash = -1;
        if (verify("pw", buf, &rehash) != PETREL_EINVAL)
            fail_msg("accepted as well-formed: %s", buf);
        assert_int_equal(rehash, 0);
    }
    /* the same template with good parts is accepted: the cases above fail for their reason */
    expand(buf, sizeof(buf), "$scrypt$ln=10,r=8,p=1$@$#", salt, key);
    assert_int_equal(verify("pw", buf, &rehash), 0);
    /* over-long stored string */
    char *longh = malloc(AUTH_HASH_MAX + 2);
    memset(longh, 'A', AUTH_HASH_MAX + 1);
    memcpy(longh, good, strlen(good));
    longh[AUTH_HASH_MAX + 1] = '\0';
    assert_int_equal(verify("pw", longh, &rehash), PETREL_EINVAL);
    assert_int_equal(auth_password_verify("pw", 2, NULL, &rehash), PETREL_EINVAL);
    free(longh);
    free(good);
}

static void test_sha512_crypt(void **state)
{
    (void)state;
    int rehash;
    char buf[200];
    assert_int_equal(verify("password", sha512_pw, &rehash), 0);
    assert_int_equal(rehash, 1); /* not scrypt: store a fresh hash */
    assert_int_equal(verify("Password", sha512_pw, &rehash), PETREL_EPERM);
    assert_int_equal(rehash, 0);
    snprintf(buf, sizeof(buf), "{SHA512-CRYPT}%s", sha512_pw);
    assert_int_equal(verify("password", buf, &rehash), 0);
    assert_int_equal(rehash, 1);
    assert_int_equal(verify("passwor", buf, &rehash), PETREL_EPERM);
    snprintf(buf, sizeof(buf), "{sha512-crypt}%s", sha512_pw); /* scheme names are caseless */
    assert_int_equal(verify("password", buf, &rehash), 0);
    assert_int_equal(verify("Hello world!", sha512_rounds, &rehash), 0);
    assert_int_equal(verify("Hello world", sha512_rounds, &rehash), PETREL_EPERM);
    /* crypt(3) stops at a NUL: "password\0x" must not match "password" */
    assert_int_equal(auth_password_verify("password\0x", 10, sha512_pw, &rehash), PETREL_EPERM);
}

static void test_bcrypt(void **state)
{
    (void)state;
    int rehash;
    char buf[200];
    const char *variants[] = {"$2a$", "$2b$", "$2y$"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "%s%s", variants[i], bcrypt_2a + 4);
        assert_int_equal(verify("U*U", buf, &rehash), 0);
        assert_int_equal(rehash, 1);
        assert_int_equal(verify("U*V", buf, &rehash), PETREL_EPERM);
        assert_int_equal(rehash, 0);
        char pref[260];
        snprintf(pref, sizeof(pref), "{BLF-CRYPT}%s", buf);
        assert_int_equal(verify("U*U", pref, &rehash), 0);
        assert_int_equal(rehash, 1);
        assert_int_equal(verify("U*u", pref, &rehash), PETREL_EPERM);
    }
    /* a $2y$ hash made by libxcrypt at test time */
    char setting[64];
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    assert_non_null(crypt_gensalt_rn("$2y$", 4, NULL, 0, setting, sizeof(setting)));
    const char *made = crypt_rn("correct horse", setting, cd, (int)sizeof(*cd));
    assert_non_null(made);
    assert_int_equal(strncmp(made, "$2y$04$", 7), 0);
    snprintf(buf, sizeof(buf), "{BLF-CRYPT}%s", made);
    assert_int_equal(verify("correct horse", buf, &rehash), 0);
    assert_int_equal(rehash, 1);
    assert_int_equal(verify("correct horsf", buf, &rehash), PETREL_EPERM);
    free(cd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_round_trip),   cmocka_unit_test(test_hash_defaults),
        cmocka_unit_test(test_wrong_password),    cmocka_unit_test(test_binary_and_empty_passwords),
        cmocka_unit_test(test_rfc7914_vector),    cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_too_long_password), cmocka_unit_test(test_malformed_hashes),
        cmocka_unit_test(test_sha512_crypt),      cmocka_unit_test(test_bcrypt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
