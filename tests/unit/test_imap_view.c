/* tests for plugins/imap/view.c: a range of a chunked message view as one block */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/view.c"

static const char text[] = "0123456789abcdefghijKLMNOPQRSTuvwxyz";

/* The text in chunks of 10, 10, 10 and 6 bytes, like the store's page chunks. */
static struct petrel_view chunked(void)
{
    struct petrel_view v = {.len = sizeof(text) - 1, .nseg = 4};
    for (unsigned i = 0; i < 4; i++) {
        v.seg[i].p = (const uint8_t *)text + 10 * i;
        v.seg[i].n = i < 3 ? 10 : 6;
    }
    return v;
}

static void check(uint64_t off, uint64_t len, int copied)
{
    struct petrel_view v = chunked();
    char *tmp;
    const char *p = imap_view_bytes(&v, off, len, &tmp);
    assert_non_null(p);
    assert_memory_equal(p, text + off, (size_t)len);
    if (copied)
        assert_ptr_equal(p, tmp);
    else
        assert_null(tmp);
    free(tmp);
}

static void test_inside_one_chunk(void **state)
{
    (void)state;
    check(0, 10, 0);
    check(12, 5, 0);
    check(30, 6, 0);
}

static void test_across_chunks(void **state)
{
    (void)state;
    check(5, 10, 1);
    check(15, 10, 1); /* starts in the second chunk, ends in the third */
    check(25, 11, 1); /* third into fourth, to the end */
    check(0, 36, 1);
}

static void test_outside_the_view(void **state)
{
    (void)state;
    struct petrel_view v = chunked();
    char *tmp;
    assert_null(imap_view_bytes(&v, 30, 7, &tmp));
    assert_null(imap_view_bytes(&v, 37, 0, &tmp));
    assert_non_null(imap_view_bytes(&v, 36, 0, &tmp));
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_one_chunk),
        cmocka_unit_test(test_across_chunks),
        cmocka_unit_test(test_outside_the_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
