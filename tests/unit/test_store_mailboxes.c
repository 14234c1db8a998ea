/* test_store_mailboxes.c - mailboxes (core/store/mailboxes.c). */
#include "store_test_util.h"

static int names_cb(const store_mailbox_t *m, void *arg)
{
    strcat((char *)arg, m->name);
    strcat((char *)arg, m->subscribed ? "*;" : ";");
    return 0;
}

static int str_cb(const char *name, void *arg)
{
    strcat((char *)arg, name);
    strcat((char *)arg, ";");
    return 0;
}

static void list_names(sfx_t *f, uint64_t user, char *out)
{
    store_txn_t *t;
    out[0] = 0;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_list(t, user, names_cb, out), 0);
    store_txn_abort(&t);
}

static void test_create_get(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t id, id2;
    char names[1024];
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Archive/2024/Q1", STORE_SU_ARCHIVE, &id), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Archive/2024", 0, &id2), PETREL_EEXIST);
    assert_int_equal(store_mailbox_create(t, f->user, "inbox", 0, &id2), PETREL_EEXIST);
    assert_int_equal(store_mailbox_create(t, f->user, "Sent", STORE_SU_SENT, &id2), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "sent", 0, &id2), 0); /* case-sensitive */
    assert_int_equal(store_mailbox_create(t, f->user, "Caf\xc3\xa9", 0, &id2), 0);
    assert_int_equal(store_mailbox_create(t, 4242, "X", 0, &id2), PETREL_ENOTFOUND);
    const char *bad[] = {"",      "/a",      "a/",           "a//b",     "a\x01",
                         "a\x7f", "bad\xc3", "\xed\xa0\x80", "\xc0\xaf", "a\xc2\x85"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(store_mailbox_create(t, f->user, bad[i], 0, &id2), PETREL_EINVAL);
    char longname[STORE_MAILBOX_NAME_MAX + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    assert_int_equal(store_mailbox_create(t, f->user, longname, 0, &id2), PETREL_EINVAL);
    longname[504] = 0; /* keys hold at most 503 bytes of name */
    assert_int_equal(store_mailbox_create(t, f->user, longname, 0, &id2), PETREL_EINVAL);
    longname[503] = 0;
    assert_int_equal(store_mailbox_create(t, f->user, longname, 0, &id2), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    int rc;
    store_mailbox_t m = sfx_mbox(f, f->user, "Archive/2024/Q1", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.id, id);
    assert_int_equal(m.special_use, STORE_SU_ARCHIVE);
    assert_int_equal(m.uidnext, 1);
    assert_int_equal(m.messages, 0);
    assert_true(m.highestmodseq >= 1);
    m = sfx_mbox(f, f->user, "Archive/2024", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(m.special_use, 0);
    sfx_mbox(f, f->user, "Nope", &rc);
    assert_int_equal(rc, PETREL_ENOTFOUND);
    list_names(f, f->user, names);
    assert_non_null(strstr(names, "Archive;Archive/2024;Archive/2024/Q1;Caf\xc3\xa9;INBOX;Sent;"));
    /* get_by_id */
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_get_by_id(t, f->user, id, &m), 0);
    assert_string_equal(m.name, "Archive/2024/Q1");
    assert_int_equal(store_mailbox_get_by_id(t, f->user, 999, &m), PETREL_ENOTFOUND);
    store_txn_abort(&t);
}

static void test_uidvalidity(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t id;
    int rc;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Box", 0, &id), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    store_mailbox_t a = sfx_mbox(f, f->user, "Box", &rc);
    assert_int_equal(sfx_reopen(f), 0);
    store_mailbox_t b = sfx_mbox(f, f->user, "Box", &rc);
    assert_int_equal(a.uidvalidity, b.uidvalidity);
    assert_int_equal(a.id, b.id);
    /* delete + create: a new id and a new UIDVALIDITY */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_delete(t, f->user, "Box"), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Box", 0, &id), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    store_mailbox_t c = sfx_mbox(f, f->user, "Box", &rc);
    assert_int_not_equal(c.uidvalidity, a.uidvalidity);
    assert_int_not_equal(c.id, a.id);
    /* two mailboxes never share one */
    store_mailbox_t inbox = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_not_equal(inbox.uidvalidity, c.uidvalidity);
}

static void test_delete(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t id, uid;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_delete(t, f->user, "INBOX"), PETREL_EPERM);
    assert_int_equal(store_mailbox_delete(t, f->user, "inBox"), PETREL_EPERM);
    assert_int_equal(store_mailbox_delete(t, f->user, "Nope"), PETREL_ENOTFOUND);
    assert_int_equal(store_mailbox_create(t, f->user, "P/C", 0, &id), 0);
    assert_int_equal(sfx_append(t, f->user, id, "child msg", 9, 0, &uid), 0);
    uint32_t pid;
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, f->user, "P", &m), 0);
    pid = m.id;
    assert_int_equal(sfx_append(t, f->user, pid, "parent msg", 10, 0, &uid), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_delete(t, f->user, "P"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    char names[512];
    list_names(f, f->user, names);
    assert_string_equal(names, "INBOX;P/C;");
    assert_int_equal(store_read_begin(f->st, &t), 0);
    store_usage_t us;
    assert_int_equal(store_quota_user(t, f->user, &us), 0);
    assert_int_equal(us.messages, 1);
    assert_int_equal(us.bytes, 9);
    store_msg_t msg;
    assert_int_equal(store_msg_get(t, f->user, pid, 1, &msg), PETREL_ENOTFOUND);
    store_txn_abort(&t);
    store_stats_t s;
    assert_int_equal(store_stats(f->st, &s), 0);
    assert_int_equal(s.blobs, 1);
}

static void test_rename(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t a, ab, abc, x, uid;
    char names[1024];
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "A/B/C", 0, &abc), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "AB", 0, &x), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "X", 0, &x), 0);
    assert_int_equal(store_subscribe(t, f->user, "A/B", 1), 0);
    assert_int_equal(sfx_append(t, f->user, abc, "deep", 4, 0, &uid), 0);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, f->user, "A", &m), 0);
    a = m.id;
    assert_int_equal(store_mailbox_get(t, f->user, "A/B", &m), 0);
    ab = m.id;
    assert_int_equal(store_txn_commit(&t), 0);
    int rc;
    store_mailbox_t before = sfx_mbox(f, f->user, "A/B/C", &rc);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "X"), PETREL_EEXIST);
    assert_int_equal(store_mailbox_rename(t, f->user, "Nope", "Y"), PETREL_ENOTFOUND);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "A/B/D"), PETREL_EINVAL);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "a//b"), PETREL_EINVAL);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "inbox"), PETREL_EEXIST);
    assert_int_equal(store_mailbox_rename(t, f->user, "A", "New/Top"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    list_names(f, f->user, names);
    assert_string_equal(names, "AB;INBOX;New;New/Top;New/Top/B*;New/Top/B/C;X;");
    store_mailbox_t after = sfx_mbox(f, f->user, "New/Top/B/C", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(after.id, abc);
    assert_int_equal(after.uidvalidity, before.uidvalidity);
    assert_int_equal(after.messages, 1);
    after = sfx_mbox(f, f->user, "New/Top", &rc);
    assert_int_equal(after.id, a);
    after = sfx_mbox(f, f->user, "New/Top/B", &rc);
    assert_int_equal(after.id, ab);
    assert_true(after.subscribed);
    /* a child whose new name exists makes the whole rename fail */
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "Z/B", 0, &x), 0);
    assert_int_equal(store_mailbox_delete(t, f->user, "Z"), 0);
    assert_int_equal(store_mailbox_rename(t, f->user, "New/Top", "Z"), PETREL_EEXIST);
    assert_int_equal(store_txn_commit(&t), 0);
    list_names(f, f->user, names);
    assert_string_equal(names, "AB;INBOX;New;New/Top;New/Top/B*;New/Top/B/C;X;Z/B;");
}

static void test_rename_inbox(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t uid, child;
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_create(t, f->user, "INBOX/Sub", 0, &child), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "one", 3, STORE_F_SEEN, &uid), 0);
    assert_int_equal(sfx_append(t, f->user, f->inbox, "two", 3, 0, &uid), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    int rc;
    store_mailbox_t inbox0 = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_rename(t, f->user, "inbox", "Old Mail"), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    store_mailbox_t inbox = sfx_mbox(f, f->user, "INBOX", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(inbox.id, inbox0.id);
    assert_int_equal(inbox.uidvalidity, inbox0.uidvalidity);
    assert_int_equal(inbox.messages, 0);
    assert_int_equal(inbox.uidnext, 3); /* UIDs are not reused */
    store_mailbox_t old = sfx_mbox(f, f->user, "Old Mail", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(old.messages, 2);
    assert_int_equal(old.unseen, 1);
    sfx_mbox(f, f->user, "INBOX/Sub", &rc);
    assert_int_equal(rc, 0); /* children of INBOX stay */
    size_t len;
    char *got = sfx_read(f, f->user, old.id, 2, &len);
    assert_non_null(got);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "two", 3);
    free(got);
}

static void test_subscriptions_special_use(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    char names[256] = "";
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_subscribe(t, f->user, "Ghost", 1), 0); /* need not exist */
    assert_int_equal(store_subscribe(t, f->user, "inbox", 1), 0);
    assert_int_equal(store_subscribe(t, f->user, "Other", 1), 0);
    assert_int_equal(store_subscribe(t, f->user, "Other", 0), 0);
    assert_int_equal(store_subscribe(t, f->user, "a//b", 1), PETREL_EINVAL);
    assert_int_equal(store_subscribe(t, 999, "x", 1), PETREL_ENOTFOUND);
    assert_int_equal(store_subscription_list(t, f->user, str_cb, names), 0);
    assert_string_equal(names, "Ghost;INBOX;");
    assert_int_equal(store_mailbox_set_special_use(t, f->user, "INBOX", STORE_SU_ALL), 0);
    assert_int_equal(store_mailbox_set_special_use(t, f->user, "Nope", STORE_SU_ALL),
                     PETREL_ENOTFOUND);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, f->user, "INBOX", &m), 0);
    assert_int_equal(m.special_use, STORE_SU_ALL);
    assert_true(m.subscribed);
    assert_int_equal(store_txn_commit(&t), 0);
}

static void test_recent_keywords(void **state)
{
    sfx_t *f = *state;
    store_txn_t *t;
    uint32_t uid;
    const char *kw[] = {"$Forwarded", "Work"};
    store_append_t in = {.data = "x", .len = 1, .keywords = kw, .nkeywords = 2};
    assert_int_equal(store_write_begin(f->st, &t), 0);
    assert_int_equal(store_msg_append(t, f->user, f->inbox, &in, &uid), 0);
    assert_int_equal(store_msg_append(t, f->user, f->inbox, &in, &uid), 0);
    assert_int_equal(store_mailbox_clear_recent(t, f->user, f->inbox, 2), 0);
    assert_int_equal(store_mailbox_clear_recent(t, f->user, f->inbox, 1), 0); /* never goes back */
    assert_int_equal(store_mailbox_clear_recent(t, f->user, 77, 1), PETREL_ENOTFOUND);
    store_mailbox_t m;
    assert_int_equal(store_mailbox_get(t, f->user, "INBOX", &m), 0);
    assert_int_equal(m.first_recent_uid, 2);
    char names[256] = "";
    assert_int_equal(store_mailbox_keywords(t, f->user, f->inbox, str_cb, names), 0);
    assert_string_equal(names, "$Forwarded;Work;");
    names[0] = 0;
    assert_int_equal(store_mailbox_keywords(t, f->user2, f->inbox2, str_cb, names), 0);
    assert_string_equal(names, "");
    assert_int_equal(store_txn_commit(&t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_uidvalidity, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_delete, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_rename, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_rename_inbox, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions_special_use, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_recent_keywords, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
