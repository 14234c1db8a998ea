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
    assert_int_equal(srv_dsn_report(&it, msg, sizeof(msg) - 1, &b), 0);
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
    assert_int_equal(srv_dsn_report(&it, msg, sizeof(msg) - 1, &b), 0);
    assert_non_null(strstr(b.data, "Content-Type: message/rfc822\r\n"));
    assert_non_null(strstr(b.data, "secret body\r\n\r\n--"));
    assert_non_null(strstr(b.data, "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"));
    buf_free(&b);

    /* a message without a body: the headers end the part cleanly */
    buf_init(&b, 1 << 16);
    it = item(STORE_DSN_FAILED, STORE_DSN_RET_HDRS);
    assert_int_equal(srv_dsn_report(&it, "Subject: only", 13, &b), 0);
    assert_non_null(strstr(b.data, "\r\n\r\nSubject: only\r\n\r\n--"));
    size_t n = strlen(b.data);
    assert_true(n > 4 && strcmp(b.data + n - 4, "--\r\n") == 0);
    buf_free(&b);

    /* the maximum holds: a report that does not fit fails cleanly */
    buf_init(&b, 100);
    assert_int_equal(srv_dsn_report(&it, msg, sizeof(msg) - 1, &b), PETREL_ENOMEM);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_refuses_bad_input),
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
