/* Unit tests for petrelctl's Maildir++ names (tools/petrelctl/maildir.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/petrelctl/maildir.c"

static void test_maildir_flags_parse(void **state)
{
    (void)state;
    char kw[MAILDIR_KEYWORDS_MAX + 1];
    size_t n = 9;
    assert_int_equal(maildir_flags_parse("123.abc.host:2,FS", kw, sizeof(kw), &n),
                     STORE_F_FLAGGED | STORE_F_SEEN);
    assert_int_equal(n, 0);
    assert_string_equal(kw, "");
    assert_int_equal(maildir_flags_parse("1.x:2,DFPRSTca", kw, sizeof(kw), &n),
                     STORE_F_DRAFT | STORE_F_FLAGGED | STORE_F_ANSWERED | STORE_F_SEEN |
                         STORE_F_DELETED);
    assert_int_equal(n, 2);
    assert_string_equal(kw, "ac");
    assert_int_equal(maildir_flags_parse("1.x.host", kw, sizeof(kw), &n), 0);
    assert_int_equal(maildir_flags_parse("1.x.host:1,S", NULL, 0, NULL), 0);
    assert_int_equal(maildir_flags_parse("1.x.host:2,", NULL, 0, NULL), 0);
}

static void test_maildir_flags_format(void **state)
{
    (void)state;
    char s[48];
    assert_string_equal(maildir_flags_format(STORE_F_SEEN | STORE_F_FLAGGED, "", s, sizeof(s)),
                        "FS");
    assert_string_equal(maildir_flags_format(STORE_F_ALL, "cab", s, sizeof(s)), "DFRSTabc");
    assert_string_equal(maildir_flags_format(0, NULL, s, sizeof(s)), "");
    assert_string_equal(maildir_flags_format(STORE_F_ALL, "", s, 3), "DF");
    /* parse(format(x)) == x */
    for (uint32_t f = 0; f < 32; f++) {
        maildir_flags_format(f, "", s + 3, sizeof(s) - 3);
        memcpy(s, ":2,", 3);
        assert_int_equal(maildir_flags_parse(s, NULL, 0, NULL), f);
    }
}

static void test_maildir_folder_names(void **state)
{
    (void)state;
    char s[64];
    assert_int_equal(maildir_folder_to_mailbox("", s, sizeof(s)), 0);
    assert_string_equal(s, "INBOX");
    assert_int_equal(maildir_folder_to_mailbox(".Sent", s, sizeof(s)), 0);
    assert_string_equal(s, "Sent");
    assert_int_equal(maildir_folder_to_mailbox(".Lists.foo", s, sizeof(s)), 0);
    assert_string_equal(s, "Lists/foo");
    assert_int_equal(maildir_folder_to_mailbox(".v1%2E2", s, sizeof(s)), 0);
    assert_string_equal(s, "v1.2");
    assert_int_equal(maildir_folder_to_mailbox(".100%25.%41", s, sizeof(s)), 0);
    assert_string_equal(s, "100%/%41");
    assert_int_equal(maildir_folder_to_mailbox("Sent", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox(".", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox(".a..b", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox(".a.", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox("..a", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox(".a/b", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_folder_to_mailbox(".abcdef", s, 4), PETREL_ETOOBIG);

    assert_int_equal(maildir_mailbox_to_folder("INBOX", s, sizeof(s)), 0);
    assert_string_equal(s, "");
    assert_int_equal(maildir_mailbox_to_folder("inbox", s, sizeof(s)), 0);
    assert_string_equal(s, "");
    assert_int_equal(maildir_mailbox_to_folder("Lists/foo", s, sizeof(s)), 0);
    assert_string_equal(s, ".Lists.foo");
    assert_int_equal(maildir_mailbox_to_folder("v1.2/100%", s, sizeof(s)), 0);
    assert_string_equal(s, ".v1%2E2.100%25");
    assert_int_equal(maildir_mailbox_to_folder("", s, sizeof(s)), PETREL_EINVAL);
    assert_int_equal(maildir_mailbox_to_folder("abcdef", s, 4), PETREL_ETOOBIG);
    /* round trip */
    const char *names[] = {"Sent", "Lists/foo", "a.b/c%d", "Archive/2024/Q1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char f[64], back[64];
        assert_int_equal(maildir_mailbox_to_folder(names[i], f, sizeof(f)), 0);
        assert_int_equal(maildir_folder_to_mailbox(f, back, sizeof(back)), 0);
        assert_string_equal(back, names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maildir_flags_parse),
        cmocka_unit_test(test_maildir_flags_format),
        cmocka_unit_test(test_maildir_folder_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
