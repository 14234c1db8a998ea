/* tests for plugins/imap/setfmt.c: a UID set cut into bounded pieces */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/setfmt.c"

static void test_ranges_from_uids(void **state)
{
    (void)state;
    const uint32_t uids[] = {1, 2, 3, 5, 7, 8, 8, 10, UINT32_MAX - 1, UINT32_MAX};
    struct imap_range r[10];
    size_t n = imap_ranges_from_uids(uids, 10, r);
    assert_int_equal(n, 5);
    const struct imap_range want[] = {
        {1, 3}, {5, 5}, {7, 8}, {10, 10}, {UINT32_MAX - 1, UINT32_MAX}};
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(r[k].lo, want[k].lo);
        assert_int_equal(r[k].hi, want[k].hi);
    }
    assert_int_equal(imap_ranges_from_uids(uids, 0, r), 0);
}

static void test_format_one_piece(void **state)
{
    (void)state;
    const struct imap_range r[] = {{1, 3}, {7, 7}, {9, 4294967295u}};
    char buf[128];
    size_t pos = 0;
    size_t len = imap_set_format(r, 3, &pos, buf, sizeof(buf));
    assert_int_equal(pos, 3);
    assert_int_equal(len, strlen("1:3,7,9:4294967295"));
    assert_memory_equal(buf, "1:3,7,9:4294967295", len);
    assert_int_equal(imap_set_format(r, 3, &pos, buf, sizeof(buf)), 0); /* nothing left */
}

/* Pieces are whole elements, within cap, and together give back every range. */
static void test_format_pieces(void **state)
{
    (void)state;
    enum { N = 5000 };
    static struct imap_range r[N];
    for (uint32_t k = 0; k < N; k++)
        r[k] = (struct imap_range){k * 1000003u + 1, k * 1000003u + 1 + (k % 3 ? 0 : k)};
    char buf[100];
    size_t pos = 0, got = 0, pieces = 0, len;
    while ((len = imap_set_format(r, N, &pos, buf, sizeof(buf))) > 0) {
        assert_true(len <= sizeof(buf));
        pieces++;
        char line[128];
        memcpy(line, buf, len);
        line[len] = '\0';
        for (char *save = NULL, *e = strtok_r(line, ",", &save); e;
             e = strtok_r(NULL, ",", &save)) {
            unsigned long lo = strtoul(e, NULL, 10), hi = lo;
            char *colon = strchr(e, ':');
            if (colon) hi = strtoul(colon + 1, NULL, 10);
            assert_true(got < N);
            assert_int_equal(lo, r[got].lo);
            assert_int_equal(hi, r[got].hi);
            got++;
        }
        assert_int_equal(got, pos);
    }
    assert_int_equal(got, N);
    assert_true(pieces > 1);
}

/* A cap below one element's room writes nothing and does not advance. */
static void test_format_small_cap(void **state)
{
    (void)state;
    const struct imap_range r[] = {{1, 2}};
    char buf[IMAP_SETFMT_ELEM_MAX];
    size_t pos = 0;
    assert_int_equal(imap_set_format(r, 1, &pos, buf, IMAP_SETFMT_ELEM_MAX - 1), 0);
    assert_int_equal(pos, 0);
    assert_int_equal(imap_set_format(r, 1, &pos, buf, sizeof(buf)), 3);
    assert_int_equal(pos, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_from_uids),
        cmocka_unit_test(test_format_one_piece),
        cmocka_unit_test(test_format_pieces),
        cmocka_unit_test(test_format_small_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
