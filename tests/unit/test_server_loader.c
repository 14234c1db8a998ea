/* The plugin loader: a good plugin loads; every kind of bad one is refused
 * with a message naming the file and, where it applies, the versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/host.h"
#include "server/loader.h"

static char fixture_dir[4096];

static void fixture_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.so", fixture_dir, name);
}

static int open_fixture(const char *file, const char *want, srv_plugin_t **p, char *err,
                        size_t errlen)
{
    char path[4200];
    fixture_path(file, path, sizeof(path));
    return srv_plugin_open(path, want, srv_host_table(), p, err, errlen);
}

static void test_good_plugin_loads(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_good", "fx_good", &p, err, sizeof(err)), 0);
    assert_non_null(p);
    assert_string_equal(p->desc->name, "fx_good");
    assert_int_equal(PETREL_ABI_MAJOR_OF(p->desc->abi_version), PETREL_ABI_MAJOR);
    srv_plugin_close(&p);
    assert_null(p);
}

static void test_wrong_abi_refused(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_wrongabi", "fx_wrongabi", &p, err, sizeof(err)),
                     PETREL_EVERSION);
    assert_null(p);
    assert_non_null(strstr(err, "fx_wrongabi.so"));
    assert_non_null(strstr(err, "plugin ABI 2.0"));
    assert_non_null(strstr(err, "host speaks ABI 1."));
}

static void test_missing_symbol_refused(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_nosym", "fx_nosym", &p, err, sizeof(err)), PETREL_EINVAL);
    assert_non_null(strstr(err, "fx_nosym.so"));
    assert_non_null(strstr(err, "no symbol petrel_plugin_entry"));
}

static void test_short_descriptor_refused(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_short", "fx_short", &p, err, sizeof(err)),
                     PETREL_EVERSION);
    assert_non_null(strstr(err, "fx_short.so"));
    assert_non_null(strstr(err, "descriptor is 16 bytes"));
}

static void test_failing_load_refused_with_its_message(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_failload", "fx_failload", &p, err, sizeof(err)),
                     PETREL_EINVAL);
    assert_non_null(strstr(err, "licence file missing"));
}

static void test_name_mismatch_refused(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("fx_badname", "fx_badname", &p, err, sizeof(err)),
                     PETREL_EINVAL);
    assert_non_null(strstr(err, "somebody_else"));
    assert_non_null(strstr(err, "fx_badname"));
}

static void test_missing_file_refused(void **state)
{
    (void)state;
    srv_plugin_t *p = NULL;
    char err[512] = "";
    assert_int_equal(open_fixture("no_such_plugin", "no_such_plugin", &p, err, sizeof(err)),
                     PETREL_ENOTFOUND);
    assert_non_null(strstr(err, "no_such_plugin.so"));
}

static void test_plugin_path(void **state)
{
    (void)state;
    char path[4096];
    assert_int_equal(srv_plugin_path("/opt/p", "imap", path, sizeof(path)), 0);
    assert_string_equal(path, "/opt/p/imap.so");
    assert_int_equal(srv_plugin_path("/opt/p", "../evil", path, sizeof(path)), PETREL_EINVAL);
    assert_int_equal(srv_plugin_path(NULL, "", path, sizeof(path)), PETREL_EINVAL);
}

static void test_lookup_by_name(void **state)
{
    (void)state;
    const struct petrel_host *h = srv_host_table();
    assert_ptr_equal(h->lookup("write"), (void *)h->write);
    assert_ptr_equal(h->lookup("unwatch"), (void *)h->unwatch);
    assert_null(h->lookup("no_such_function"));
    assert_true(PETREL_HOST_HAS(h, unwatch));
    assert_int_equal(h->struct_size, sizeof(struct petrel_host));
}

int main(void)
{
    const char *b = getenv("PETREL_BUILD_DIR");
    snprintf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures", b ? b : "build");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plugin_loads),
        cmocka_unit_test(test_wrong_abi_refused),
        cmocka_unit_test(test_missing_symbol_refused),
        cmocka_unit_test(test_short_descriptor_refused),
        cmocka_unit_test(test_failing_load_refused_with_its_message),
        cmocka_unit_test(test_name_mismatch_refused),
        cmocka_unit_test(test_missing_file_refused),
        cmocka_unit_test(test_plugin_path),
        cmocka_unit_test(test_lookup_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
