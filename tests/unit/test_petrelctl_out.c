/* Unit tests for petrelctl's JSON writer and time formatting (tools/petrelctl/out.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/petrelctl/out.c"

/* Runs the writer into a memory stream; returns the malloc'ed text. */
static char *json_of(void (*fill)(out_json_t *w))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    out_json_t w;
    assert_non_null(f);
    out_json_init(&w, f);
    fill(&w);
    assert_int_equal(w.err, 0);
    fclose(f);
    return text;
}

static void fill_nested(out_json_t *w)
{
    out_json_obj_begin(w);
    out_json_kstr(w, "name", "a\"b\\c\n\t\x01");
    out_json_ku64(w, "big", UINT64_MAX);
    out_json_ki64(w, "neg", -5);
    out_json_kbool(w, "t", 1);
    out_json_kstr(w, "none", NULL);
    out_json_key(w, "list");
    out_json_arr_begin(w);
    out_json_str(w, "x");
    out_json_obj_begin(w);
    out_json_obj_end(w);
    out_json_arr_begin(w);
    out_json_arr_end(w);
    out_json_u64(w, 0);
    out_json_arr_end(w);
    out_json_obj_end(w);
    out_json_done(w);
}

static void test_out_json_nested(void **state)
{
    (void)state;
    char *t = json_of(fill_nested);
    assert_string_equal(t, "{\"name\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"big\":18446744073709551615,"
                           "\"neg\":-5,\"t\":true,\"none\":null,\"list\":[\"x\",{},[],0]}\n");
    free(t);
}

static void fill_utf8(out_json_t *w)
{
    out_json_arr_begin(w);
    out_json_str(w, "Gr\xc3\xbc\xc3\x9f\x65"); /* valid UTF-8 kept */
    out_json_strn(w, "bad\xff\xc3", 5);        /* invalid bytes escaped */
    out_json_strn(w, "nul\0x", 5);             /* NUL escaped */
    out_json_arr_end(w);
}

static void test_out_json_utf8(void **state)
{
    (void)state;
    char *t = json_of(fill_utf8);
    assert_string_equal(t, "[\"Gr\xc3\xbc\xc3\x9f\x65\",\"bad\\u00ff\\u00c3\",\"nul\\u0000x\"]");
    free(t);
}

static void fill_unbalanced(out_json_t *w)
{
    out_json_arr_end(w);
}

static void test_out_json_unbalanced(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    out_json_t w;
    out_json_init(&w, f);
    fill_unbalanced(&w);
    assert_int_equal(w.err, 1);
    out_json_init(&w, f);
    for (int i = 0; i < OUT_JSON_DEPTH_MAX + 2; i++)
        out_json_arr_begin(&w);
    assert_int_equal(w.err, 1);
    assert_true(w.depth < OUT_JSON_DEPTH_MAX);
    fclose(f);
    free(text);
}

static void test_out_time(void **state)
{
    (void)state;
    char s[32];
    assert_string_equal(out_time(0, s, sizeof(s)), "never");
    assert_string_equal(out_time(1700000000, s, sizeof(s)), "2023-11-14T22:13:20Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_json_nested),
        cmocka_unit_test(test_out_json_utf8),
        cmocka_unit_test(test_out_json_unbalanced),
        cmocka_unit_test(test_out_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
