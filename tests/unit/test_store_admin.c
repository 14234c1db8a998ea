/* test_store_admin.c - store_stats and store_backup (core/store/admin.c). */
#include <sys/stat.h>

#include "store_test_util.h"

static void test_stats(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    char msg[10000];
    sfx_msg(msg, sizeof(msg), 2);
    assert_int_equal(sfx_append1(f, f->user, f->inbox, msg, sizeof(msg), &uid), 0);
    assert_int_equal(sfx_append1(f, f->user2, f->inbox2, msg, sizeof(msg), &uid), 0);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.tenants, 1);
    assert_int_equal(s.users, 2);
    assert_int_equal(s.mailboxes, 2);
    assert_int_equal(s.messages, 2);
    assert_int_equal(s.blobs, 1);
    assert_int_equal(s.message_bytes, 2 * sizeof(msg));
    assert_int_equal(s.blob_bytes, sizeof(msg));
    assert_true(s.page_size >= 4096);
    assert_true(s.used_pages > 0);
    assert_true(s.map_size >= s.used_pages * s.page_size);
    assert_true(s.file_bytes > 0);
    assert_true(s.max_readers >= 126);
}

static void test_backup(void **state)
{
    sfx_t *f = *state;
    uint32_t uid;
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "backed up", 9, &uid), 0);
    char dir[sizeof(f->dir)];
    assert_true(strlen(f->dir) + 8 < sizeof(dir));
    memcpy(dir, f->dir, strlen(f->dir));
    strcpy(dir + strlen(f->dir), "/backup");
    assert_int_equal(store_backup(f->st, dir), 0);
    assert_int_equal(store_backup(f->st, dir), PETREL_EEXIST);
    /* the live store goes on; the copy opens as a store of its own */
    assert_int_equal(sfx_append1(f, f->user, f->inbox, "after", 5, &uid), 0);
    sfx_t g = *f;
    snprintf(g.dir, sizeof(g.dir), "%s", dir);
    g.st = NULL;
    assert_int_equal(sfx_open(&g), 0);
    int rc;
    store_mailbox_t m = sfx_mbox(&g, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, 1);
    size_t len;
    char *got = sfx_read(&g, f->user, f->inbox, 1, &len);
    assert_non_null(got);
    assert_int_equal(len, 9);
    assert_memory_equal(got, "backed up", 9);
    free(got);
    assert_int_equal(sfx_problems(&g, 0), 0);
    store_close(&g.st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stats, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_backup, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
