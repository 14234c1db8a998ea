/* test_store_messages.c - append, deliver, get, list, view, changed/vanished
 * (core/store/messages.c). */
#include "store_test_util.h"

static void test_append_view(void **state)
{
    sfx_t *f = *state;
    static char big[300000];
    /* around every boundary of the layout (schema.h) for 4 KiB pages */
    size_t sizes[] = {0,    1,    100,  1985, 1986, 1987, 2000, 2021, 2022,  2048,  4007,   4008,
                      4042, 4043, 4079, 4080, 4081, 6100, 8176, 8177, 20000, 65536, 204800, 300000};
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    uint32_t uids[N];
    for (size_t i = 0; i < N; i++) {
        sfx_msg(big, sizes[i], (unsigned)i);
        assert_int_equal(sfx_append1(f, f->user, f->inbox, big, sizes[i], &uids[i]), 0);
        assert_int_equal(uids[i], i + 1);
    }
    for (size_t i = 0; i < N; i++) {
        size_t len = 99;
        char *got = sfx_read(f, f->user, f->inbox, uids[i], &len);
        assert_non_null(got);
        assert_int_equal(len, sizes[i]);
        sfx_msg(big, sizes[i], (unsigned)i);
        assert_int_equal(memcmp(got, big, len), 0);
        free(got);
    }
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "inbox", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.messages, N);
    assert_int_equal(m.unseen, N);
    assert_int_equal(m.uidnext, N + 1);
    assert_int_equal(m.highestmodseq, 1 + N);
}

static int store_mailbox_create_for_test(sfx_t *f, const char *name, uint32_t *id_r)
{
    store_txn_t *t;
    int rc = store_write_begin(f->st, &t);
    if (rc) return rc;
    rc = store_mailbox_create(t, f->user, name, 0, id_r);
    if (rc) {
        store_txn_abort(&t);
        return rc;
    }
    return store_txn_commit(&t);
}

static void test_append_errors(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t uid;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(sfx_append(t, f->user, 999, "x", 1, 0, &uid), PETREL_ENOTFOUND);
    assert_int_equal(sfx_append(t, 12345, f->inbox, "x", 1, 0, &uid), PETREL_ENOTFOUND);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "x", 1, 1u << 10, &uid), PETREL_EINVAL);
    const char *bad[] = {"ok", "b(d"};
    store_append_t in = {.data = "x", .len = 1, .keywords = bad, .nkeywords = 2};
    assert_int_equal(store_msg_append(t, f->user, f->inbox, &in, &uid), PETREL_EINVAL);
    store_txn_abort(&t);
    /* a read txn cannot write */
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "x", 1, 0, &uid), PETREL_EINVAL);
    store_txn_abort(&t);
}

/* store_msg_uids: every UID of the mailbox and no other's, the first unseen, the cap. */
static void test_msg_uids(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t uid, other;
    assert_int_equal(store_mailbox_create_for_test(f, "Other", &other), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    /* INBOX: 1 2 seen, 3 4 5 6 unseen but 3 expunged below; Other: 1 2 */
    for (int i = 0; i < 6; i++)
        assert_int_equal(sfx_append(t, f->user, f->inbox, "m", 1, i < 2 ? STORE_F_SEEN : 0, &uid), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(sfx_append(t, f->user, other, "o", 1, 0, &uid), 0);
    assert_int_equal(store_msg_expunge(t, f->user, f->inbox, 3), 0);
    assert_int_equal(store_txn_commit(&t), 0);

    assert_int_equal(store_read_begin(f->st, &t), 0);
    uint32_t uids[8], first_unseen = 99;
    size_t n = 99;
    assert_int_equal(store_msg_uids(t, f->user, f->inbox, uids, 8, &n, &first_unseen), 0);
    assert_int_equal(n, 5);
    const uint32_t want[] = {1, 2, 4, 5, 6};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(uids[i], want[i]);
    assert_int_equal(first_unseen, 3); /* UID 4 is the third message */
    /* exactly as many as there are fits; one fewer does not */
    assert_int_equal(store_msg_uids(t, f->user, f->inbox, uids, 5, &n, NULL), 0);
    assert_int_equal(n, 5);
    assert_int_equal(store_msg_uids(t, f->user, f->inbox, uids, 4, &n, NULL), PETREL_ETOOBIG);
    assert_int_equal(store_msg_uids(t, f->user, other, uids, 8, &n, &first_unseen), 0);
    assert_int_equal(n, 2);
    assert_int_equal(first_unseen, 1);
    /* an empty or unknown mailbox: nothing */
    assert_int_equal(store_msg_uids(t, f->user, 999, uids, 8, &n, &first_unseen), 0);
    assert_int_equal(n, 0);
    assert_int_equal(first_unseen, 0);
    store_txn_abort(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msg_uids, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_view, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_errors, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
