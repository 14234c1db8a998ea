/* test_server_host_dsn.c - host->w_dsn's copy of the plugin's parameters and the RFC 3464
 * report (core/server/host_dsn.c). The store side runs in test_smtp_dsn.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/host_dsn.h"
#include "store_test_util.h"
#include "util/str.h"

static const uint64_t users[2] = {11, 12};

static struct petrel_dsn_rcpt rcpt1(void)
{
    return (struct petrel_dsn_rcpt){.rcpt = "a@example.com",
                                    .orcpt = "rfc822;a@example.com",
                                    .notify = PETREL_DSN_SUCCESS,
                                    .users = users,
                                    .nusers = 2};
}

static struct petrel_dsn dsn_of(const struct petrel_dsn_rcpt *r, size_t n)
{
    return (struct petrel_dsn){.struct_size = sizeof(struct petrel_dsn),
                               .return_path = "s@remote.test",
                               .envid = "E1",
                               .ret = PETREL_DSN_RET_NONE,
                               .rcpts = r,
                               .nrcpts = n,
                               .rcpt_size = sizeof(*r)};
}

static void test_copy(void **state)
{
    (void)state;
    struct petrel_dsn_rcpt r = rcpt1();
    struct petrel_dsn d = dsn_of(&r, 1);
    struct srv_dsn *c = NULL;
    assert_int_equal(srv_dsn_copy(&d, "mx.test", &c), 0);
    assert_string_equal(c->return_path, "s@remote.test");
    assert_string_equal(c->envid, "E1");
    assert_string_equal(c->reporting_mta, "mx.test");
    assert_int_equal(c->nrcpts, 1);
    assert_string_equal(c->rcpts[0].orcpt, "rfc822;a@example.com");
    assert_int_equal(c->rcpts[0].nusers, 2);
    assert_int_equal(c->rcpts[0].users[1], 12);
    assert_true(c->arrival > 0);
    srv_dsn_free(&c);
    assert_null(c);
}

static void test_copy_refuses_bad_input(void **state)
{
    (void)state;
    struct petrel_dsn_rcpt r = rcpt1();
    struct petrel_dsn d = dsn_of(&r, 1);
    struct srv_dsn *c = NULL;
    char longid[STORE_DSN_ENVID_MAX + 2];
    memset(longid, 'x', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    d.envid = longid;
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    d.envid = "a\r\nBcc: x"; /* it would become a header line */
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    d = dsn_of(&r, 1);
    d.ret = 7;
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    d = dsn_of(&r, 1);
    d.return_path = NULL;
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    d = dsn_of(&r, SRV_DSN_RCPTS_MAX + 1);
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    r.nusers = PETREL_RCPT_MAX + 1;
    d = dsn_of(&r, 1);
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), PETREL_EINVAL);
    assert_null(c);
}

/* srv_dsn_result_fn: user 11 delivered, 12 over quota. */
static int result(void *arg, uint64_t user, int *rc_r, const void **msg_r, size_t *len_r)
{
    (void)arg;
    if (user != 11 && user != 12) return PETREL_ENOTFOUND;
    *rc_r = user == 11 ? 0 : PETREL_EQUOTA;
    *msg_r = "Subject: s\r\n\r\nb\r\n";
    *len_r = 17;
    return 0;
}

static void test_due(void **state)
{
    (void)state;
    struct petrel_dsn_rcpt r[2] = {rcpt1(), rcpt1()};
    r[1].users = &users[1]; /* only the failing user */
    r[1].nusers = 1;
    r[1].notify = 0;        /* default: FAILURE */
    struct srv_dsn *c = NULL;
    struct petrel_dsn d = dsn_of(&r[1], 1);
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), 0);
    assert_int_equal(srv_dsn_due(c, 1, result, NULL), 1); /* failed after acceptance */
    assert_int_equal(srv_dsn_due(c, 0, result, NULL), 0); /* refused as a whole */
    srv_dsn_free(&c);
    r[1].notify = PETREL_DSN_SUCCESS; /* no FAILURE asked for */
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), 0);
    assert_int_equal(srv_dsn_due(c, 1, result, NULL), 0);
    srv_dsn_free(&c);
    d = dsn_of(&r[0], 1); /* one of its two users got it: delivered, SUCCESS asked */
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), 0);
    assert_int_equal(srv_dsn_due(c, 1, result, NULL), 1);
    srv_dsn_free(&c);
    d.return_path = ""; /* the null path */
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), 0);
    assert_int_equal(srv_dsn_due(c, 1, result, NULL), 0);
    srv_dsn_free(&c);
    r[0].notify = PETREL_DSN_NEVER;
    d = dsn_of(&r[0], 1);
    assert_int_equal(srv_dsn_copy(&d, "mx", &c), 0);
    assert_int_equal(srv_dsn_due(c, 1, result, NULL), 0);
    srv_dsn_free(&c);
}

static store_dsn_t item(uint32_t action, uint32_t ret)
{
    store_dsn_t it;
    memset(&it, 0, sizeof(it));
    it.action = action;
    it.ret = ret;
    it.arrival = 0;
    str_lcpy(it.status, action == STORE_DSN_DELIVERED ? "2.0.0" : "5.2.2", sizeof(it.status));
    str_lcpy(it.return_path, "s@remote.test", sizeof(it.return_path));
    str_lcpy(it.rcpt, "a@example.com", sizeof(it.rcpt));
    str_lcpy(it.reporting_mta, "mx.test", sizeof(it.reporting_mta));
    if (action == STORE_DSN_FAILED)
        str_lcpy(it.diagnostic, "smtp; 552 5.2.2 Mailbox full", sizeof(it.diagnostic));
    return it;
}

static void test_report(void **state)
{
    (void)state;
    const char msg[] = "Subject: s\r\nX: y\r\n\r\nsecret body\r\n";
    buf_t b;
    buf_init(&b, 1 << 16);
    store_dsn_t it = item(STORE_DSN_DELIVERED, STORE_DSN_RET_FULL);
    assert_int_equal(srv_dsn_report(&it, 1, msg, sizeof(msg) - 1, &b), 0);
    assert_non_null(strstr(b.data, "Content-Type: multipart/report; report-type=delivery-status;"));
    assert_non_null(strstr(b.data, "Arrival-Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(strstr(b.data, "\r\nAction: delivered\r\nStatus: 2.0.0\r\n"));
    assert_null(strstr(b.data, "Original-Envelope-Id")); /* none given */
    /* delivered: the headers only, even with RET=FULL (RFC 3461 4.3) */
    assert_non_null(strstr(b.data, "text/rfc822-headers\r\n"));
    assert_non_null(strstr(b.data, "\r\n\r\nSubject: s\r\nX: y\r\n\r\n--"));
    assert_null(strstr(b.data, "secret body"));
    buf_free(&b);

    buf_init(&b, 1 << 16);
    it = item(STORE_DSN_FAILED, STORE_DSN_RET_NONE);
    assert_int_equal(srv_dsn_report(&it, 1, msg, sizeof(msg) - 1, &b), 0);
    assert_non_null(strstr(b.data, "Content-Type: message/rfc822\r\n"));
    assert_non_null(strstr(b.data, "secret body\r\n\r\n--"));
    assert_non_null(strstr(b.data, "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"));
    buf_free(&b);

    /* a message without a body: the headers end the part cleanly */
    buf_init(&b, 1 << 16);
    it = item(STORE_DSN_FAILED, STORE_DSN_RET_HDRS);
    assert_int_equal(srv_dsn_report(&it, 1, "Subject: only", 13, &b), 0);
    assert_non_null(strstr(b.data, "\r\n\r\nSubject: only\r\n\r\n--"));
    size_t n = strlen(b.data);
    assert_true(n > 4 && strcmp(b.data + n - 4, "--\r\n") == 0);
    buf_free(&b);

    /* the maximum holds: a report that does not fit fails cleanly */
    buf_init(&b, 100);
    assert_int_equal(srv_dsn_report(&it, 1, msg, sizeof(msg) - 1, &b), PETREL_ENOMEM);
    buf_free(&b);
}

/* Every report part's boundary line, counted. */
static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* One report for several recipients: one field block each, "failed" wins the subject. */
static void test_report_several_recipients(void **state)
{
    (void)state;
    const char msg[] = "Subject: s\r\n\r\nbody\r\n";
    store_dsn_t it[3] = {item(STORE_DSN_DELIVERED, STORE_DSN_RET_NONE),
                         item(STORE_DSN_FAILED, STORE_DSN_RET_NONE),
                         item(STORE_DSN_DELIVERED, STORE_DSN_RET_NONE)};
    str_lcpy(it[1].rcpt, "b@example.com", sizeof(it[1].rcpt));
    str_lcpy(it[2].rcpt, "c@example.com", sizeof(it[2].rcpt));
    buf_t b;
    buf_init(&b, 1 << 16);
    assert_int_equal(srv_dsn_report(it, 3, msg, sizeof(msg) - 1, &b), 0);
    assert_int_equal(count_of(b.data, "\r\nFinal-Recipient: "), 3);
    assert_int_equal(count_of(b.data, "\r\nReporting-MTA: "), 1);
    assert_non_null(strstr(b.data, "Final-Recipient: rfc822; c@example.com\r\nAction: delivered"));
    assert_non_null(strstr(b.data, "Final-Recipient: rfc822; b@example.com\r\nAction: failed"));
    assert_non_null(strstr(b.data, "Subject: Undelivered Mail Returned to Sender\r\n"));
    assert_non_null(strstr(b.data, "\r\n  <c@example.com>: delivered\r\n"));
    assert_int_equal(srv_dsn_report(it, 0, msg, sizeof(msg) - 1, &b), PETREL_EINVAL);
    buf_free(&b);
}

/* The returned header block stops at STORE_DSN_HEADERS_MAX, at a line end. */
static void test_report_header_cap(void **state)
{
    (void)state;
    static char big[STORE_DSN_HEADERS_MAX + 4000];
    size_t o = 0;
    while (o + 200 < sizeof(big)) {
        memcpy(big + o, "X-H: ", 5);
        memset(big + o + 5, 'h', 93);
        memcpy(big + o + 98, "\r\n", 2);
        o += 100;
    }
    memcpy(big + o, "\r\nbody\r\n", 8);
    o += 8;
    buf_t b;
    buf_init(&b, 1 << 20);
    store_dsn_t it = item(STORE_DSN_DELIVERED, STORE_DSN_RET_NONE);
    assert_int_equal(srv_dsn_report(&it, 1, big, o, &b), 0);
    const char *start = strstr(b.data, "Content-Description: Message Headers\r\n\r\n");
    assert_non_null(start);
    start += strlen("Content-Description: Message Headers\r\n\r\n");
    const char *end = strstr(start, "\r\n--=_petrel_dsn_");
    assert_non_null(end);
    assert_int_equal((size_t)(end - start), (STORE_DSN_HEADERS_MAX / 100) * 100);
    buf_free(&b);
}

/* srv_dsn_rand that gives the same bytes twice, then others. */
static int rand_calls;
static int rand_fixed(void *buf, size_t n)
{
    memset(buf, rand_calls++ < 2 ? 0xab : 0xcd, n);
    return 0;
}

static void test_boundary(void **state)
{
    (void)state;
    char a[64], b2[64];
    assert_int_equal(srv_dsn_boundary(NULL, 0, a, sizeof(a)), 0);
    assert_int_equal(srv_dsn_boundary(NULL, 0, b2, sizeof(b2)), 0);
    assert_int_equal(strlen(a), strlen("=_petrel_dsn_") + 2 * SRV_DSN_BOUNDARY_RANDOM);
    assert_string_not_equal(a, b2); /* 128 random bits: never twice */
    assert_int_equal(srv_dsn_boundary(NULL, 0, a, 20), PETREL_EINVAL);
    /* a boundary found in the content is drawn again */
    srv_dsn_rand_fn saved = srv_dsn_rand;
    srv_dsn_rand = rand_fixed;
    rand_calls = 0;
    assert_int_equal(srv_dsn_boundary(NULL, 0, a, sizeof(a)), 0);
    char content[256];
    snprintf(content, sizeof(content), "Subject: x\r\n\r\n--%s\r\nforged part\r\n", a);
    assert_int_equal(srv_dsn_boundary(content, strlen(content), b2, sizeof(b2)), 0);
    assert_string_not_equal(a, b2);
    assert_null(strstr(content, b2));
    assert_int_equal(rand_calls, 3);
    /* the report uses it: its boundary is not the one in the message */
    rand_calls = 1;
    buf_t b;
    buf_init(&b, 1 << 16);
    store_dsn_t it = item(STORE_DSN_FAILED, STORE_DSN_RET_FULL);
    assert_int_equal(srv_dsn_report(&it, 1, content, strlen(content), &b), 0);
    assert_non_null(strstr(b.data, b2));
    assert_int_equal(count_of(b.data, a), 1); /* only inside the returned message */
    buf_free(&b);
    srv_dsn_rand = saved;
}

/* RFC 6533: no raw 8-bit in message/delivery-status; 8-bit headers as message/global-headers. */
static void test_report_utf8(void **state)
{
    (void)state;
    const char msg[] = "Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\nb\r\n";
    store_dsn_t it = item(STORE_DSN_DELIVERED, STORE_DSN_RET_NONE);
    str_lcpy(it.rcpt, "j\xc3\xb6rg+x@example.com", sizeof(it.rcpt));
    str_lcpy(it.orcpt, "utf-8;j\xc3\xb6rg+x@example.com", sizeof(it.orcpt));
    str_lcpy(it.envid, "id\xc3\xa9", sizeof(it.envid));
    buf_t b;
    buf_init(&b, 1 << 16);
    assert_int_equal(srv_dsn_report(&it, 1, msg, sizeof(msg) - 1, &b), 0);
    const char *ds = strstr(b.data, "Content-Type: message/delivery-status\r\n");
    assert_non_null(ds);
    const char *end = strstr(ds, "\r\n--=_petrel_dsn_");
    assert_non_null(end);
    for (const char *p = ds; p < end; p++)
        assert_true((unsigned char)*p < 0x80);
    assert_non_null(strstr(ds, "Final-Recipient: utf-8; j\\x{F6}rg\\x{2B}x@example.com\r\n"));
    assert_non_null(strstr(ds, "Original-Recipient: utf-8; j\\x{F6}rg\\x{2B}x@example.com\r\n"));
    assert_non_null(strstr(ds, "Original-Envelope-Id: id+C3+A9\r\n"));
    assert_non_null(strstr(b.data, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(b.data, "Content-Type: message/global-headers\r\n"));
    buf_free(&b);
    /* ASCII stays as it was */
    buf_init(&b, 1 << 16);
    it = item(STORE_DSN_DELIVERED, STORE_DSN_RET_NONE);
    assert_int_equal(srv_dsn_report(&it, 1, "Subject: a\r\n\r\nb\r\n", 17, &b), 0);
    assert_non_null(strstr(b.data, "Content-Type: text/plain; charset=us-ascii\r\n"));
    assert_non_null(strstr(b.data, "Final-Recipient: rfc822; a@example.com\r\n"));
    assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n"));
    buf_free(&b);
}

/* srv_dsn_result_fn: every user got the message. */
static int all_ok(void *arg, uint64_t user, int *rc_r, const void **msg_r, size_t *len_r)
{
    (void)arg;
    (void)user;
    *rc_r = 0;
    *msg_r = "Subject: s\r\n\r\nbody\r\n";
    *len_r = 20;
    return 0;
}

struct run_arg {
    struct srv_dsn *d;
};

static int run_op(store_txn_t *txn, void *arg)
{
    return srv_dsn_run(txn, ((struct run_arg *)arg)->d, 1, all_ok, NULL);
}

static int count_item(const store_dsn_t *d, void *arg)
{
    (void)d;
    (*(size_t *)arg)++;
    return 0;
}

static size_t queued(sfx_t *f)
{
    store_txn_t *t;
    size_t n = 0;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_dsn_list(t, count_item, &n), 0);
    store_txn_abort(&t);
    return n;
}

/* Runs srv_dsn_run for nr recipients to return_path; user of recipient i: users_of[i]. */
static void run(sfx_t *f, const char *return_path, size_t nr, const uint64_t *users_of)
{
    struct petrel_dsn_rcpt *r = calloc(nr, sizeof(*r));
    char (*names)[48] = calloc(nr, sizeof(*names));
    assert_non_null(r);
    assert_non_null(names);
    for (size_t i = 0; i < nr; i++) {
        snprintf(names[i], sizeof(names[i]), "u+%zu@example.com", i);
        r[i] = (struct petrel_dsn_rcpt){
            .rcpt = names[i], .notify = PETREL_DSN_SUCCESS, .users = &users_of[i], .nusers = 1};
    }
    struct petrel_dsn d = dsn_of(r, nr);
    d.return_path = return_path;
    struct run_arg a = {0};
    assert_int_equal(srv_dsn_copy(&d, "mx.test", &a.d), 0);
    assert_int_equal(store_write(f->st, run_op, &a), 0);
    srv_dsn_free(&a.d);
    free(r);
    free(names);
}

/* The flood: u+1..u+1000 of one user make one item, distinct users at most SRV_DSN_ITEMS_MAX. */
static void test_run_dedupes_and_caps(void **state)
{
    sfx_t *f = *state;
    static uint64_t same[1000], distinct[SRV_DSN_ITEMS_MAX + 50];
    for (size_t i = 0; i < 1000; i++)
        same[i] = 77;
    for (size_t i = 0; i < SRV_DSN_ITEMS_MAX + 50; i++)
        distinct[i] = 1000 + i;
    run(f, "s@remote.test", 1000, same);
    assert_int_equal(queued(f), 1);
    run(f, "s@remote.test", SRV_DSN_ITEMS_MAX + 50, distinct);
    assert_int_equal(queued(f), 1 + SRV_DSN_ITEMS_MAX);
    /* a local return path (bob): ONE report for the whole message */
    run(f, "bob@example.com", 1000, same);
    run(f, "bob@example.com", SRV_DSN_ITEMS_MAX + 50, distinct);
    store_txn_t *t;
    store_mailbox_t m;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_mailbox_get(t, f->user2, "INBOX", &m), 0);
    store_txn_abort(&t);
    assert_int_equal(m.messages, 2);
    assert_int_equal(queued(f), 1 + SRV_DSN_ITEMS_MAX); /* nothing more queued */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_refuses_bad_input),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_report_several_recipients),
        cmocka_unit_test(test_report_header_cap),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_report_utf8),
        cmocka_unit_test_setup_teardown(test_run_dedupes_and_caps, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
