/* tests for core/auth/throttle.c: delay growth, refusal and expiry, success, eviction */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/throttle.h"
#include "util/err.h"
#include "util/log.h"

static struct auth_throttle *make(uint32_t capacity, uint32_t ip_max, uint32_t acct_max)
{
    struct auth_throttle_config cfg = {
        .capacity = capacity,
        .free_failures = 2,
        .delay_base_ms = 1000,
        .delay_max_ms = 8000,
        .ip_max_failures = ip_max,
        .account_max_failures = acct_max,
        .window_ms = 60000,
        .block_ms = 30000,
    };
    struct auth_throttle *t = NULL;
    assert_int_equal(auth_throttle_new(&cfg, &t), 0);
    assert_non_null(t);
    return t;
}

static uint32_t delay_of(struct auth_throttle *t, const char *ip, const char *acct, uint64_t now)
{
    uint32_t d = 12345;
    assert_int_equal(auth_throttle_check(t, ip, acct, now, &d), 0);
    return d;
}

static void test_delay_growth(void **state)
{
    (void)state;
    struct auth_throttle *t = make(64, 100, 100);
    static const uint32_t want[] = {0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000};
    assert_int_equal(delay_of(t, "192.0.2.1", "bob@example.com", 0), want[0]);
    for (uint32_t i = 1; i < sizeof(want) / sizeof(want[0]); i++) {
        auth_throttle_failed(t, "192.0.2.1", "bob@example.com", i);
        assert_int_equal(delay_of(t, "192.0.2.1", "bob@example.com", i), want[i]);
        /* each key alone carries the same count here */
        assert_int_equal(delay_of(t, NULL, "bob@example.com", i), want[i]);
        assert_int_equal(delay_of(t, "192.0.2.1", "", i), want[i]);
    }
    /* an unrelated IP and account are not delayed */
    assert_int_equal(delay_of(t, "192.0.2.2", "alice@example.com", 10), 0);
    auth_throttle_free(&t);
    assert_null(t);
    auth_throttle_free(&t); /* NULL-safe */
}

static void test_refusal_and_expiry(void **state)
{
    (void)state;
    struct auth_throttle *t = make(64, 100, 4);
    uint32_t d = 7;
    for (int i = 0; i < 3; i++)
        auth_throttle_failed(t, "192.0.2.1", "bob", 1000);
    assert_int_equal(auth_throttle_check(t, "192.0.2.9", "bob", 1000, &d), 0);
    assert_int_equal(d, 1000);
    auth_throttle_failed(t, "192.0.2.1", "bob", 1000); /* the 4th: refused from now */
    assert_int_equal(auth_throttle_check(t, "192.0.2.9", "bob", 1000, &d), PETREL_EAGAIN);
    assert_int_equal(d, 0);
    assert_int_equal(auth_throttle_check(t, NULL, "BOB", 1000 + 29999, &d), PETREL_EAGAIN);
    /* failures while refused do not extend the block */
    auth_throttle_failed(t, NULL, "bob", 20000);
    assert_int_equal(auth_throttle_check(t, NULL, "bob", 1000 + 29999, &d), PETREL_EAGAIN);
    /* the block ends after block_ms and the record starts over */
    assert_int_equal(auth_throttle_check(t, NULL, "bob", 1000 + 30000, &d), 0);
    assert_int_equal(d, 0);
    auth_throttle_failed(t, NULL, "bob", 31001);
    assert_int_equal(delay_of(t, NULL, "bob", 31001), 0);
    auth_throttle_free(&t);
}

static void test_window_expiry(void **state)
{
    (void)state;
    struct auth_throttle *t = make(64, 100, 100);
    for (int i = 0; i < 3; i++)
        auth_throttle_failed(t, "198.51.100.7", NULL, 5000);
    assert_int_equal(delay_of(t, "198.51.100.7", NULL, 5000 + 59999), 1000);
    assert_int_equal(delay_of(t, "198.51.100.7", NULL, 5000 + 60000), 0);
    /* the count starts over: one more failure is the first of a new window */
    auth_throttle_failed(t, "198.51.100.7", NULL, 5000 + 60001);
    auth_throttle_failed(t, "198.51.100.7", NULL, 5000 + 60002);
    assert_int_equal(delay_of(t, "198.51.100.7", NULL, 5000 + 60003), 0);
    auth_throttle_free(&t);
}

static void test_ip_refusal(void **state)
{
    (void)state;
    struct auth_throttle *t = make(64, 6, 100);
    char acct[32];
    for (int i = 0; i < 6; i++) {
        snprintf(acct, sizeof(acct), "user%d@example.com", i);
        auth_throttle_failed(t, "203.0.113.5", acct, 100);
    }
    uint32_t d;
    assert_int_equal(auth_throttle_check(t, "203.0.113.5", "new@example.com", 101, &d),
                     PETREL_EAGAIN);
    assert_int_equal(auth_throttle_check(t, "203.0.113.5", NULL, 101, &d), PETREL_EAGAIN);
    /* the accounts themselves are not refused from another IP */
    assert_int_equal(auth_throttle_check(t, "203.0.113.6", "user0@example.com", 101, &d), 0);
    assert_int_equal(d, 0);
    auth_throttle_free(&t);
}

static void test_success_clears_account_only(void **state)
{
    (void)state;
    struct auth_throttle *t = make(64, 100, 100);
    for (int i = 0; i < 3; i++)
        auth_throttle_failed(t, "192.0.2.1", "Bob@Example.com", 10);
    assert_int_equal(delay_of(t, NULL, "bob@example.com", 11), 1000); /* case-insensitive */
    auth_throttle_succeeded(t, "192.0.2.1", "BOB@example.COM", 12);
    assert_int_equal(delay_of(t, NULL, "bob@example.com", 13), 0);
    assert_int_equal(delay_of(t, "192.0.2.1", NULL, 13), 1000); /* the IP keeps it */
    assert_int_equal(delay_of(t, "192.0.2.1", "bob@example.com", 13), 1000);
    /* IPs are not case-folded, but they are compared whole */
    assert_int_equal(delay_of(t, "192.0.2.10", NULL, 13), 0);
    auth_throttle_free(&t);
}

static void test_eviction_bound(void **state)
{
    (void)state;
    struct auth_throttle *t = make(16, 100, 100);
    for (int i = 0; i < 3; i++)
        auth_throttle_failed(t, "10.0.0.1", NULL, 1);
    assert_int_equal(delay_of(t, "10.0.0.1", NULL, 1), 1000);
    char ip[32];
    for (int i = 0; i < 200; i++) {
        snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
        auth_throttle_failed(t, ip, NULL, 2);
        assert_true(auth_throttle_count(t) <= 16);
    }
    assert_int_equal(auth_throttle_count(t), 16);
    /* the oldest record was evicted: its delay is gone */
    assert_int_equal(delay_of(t, "10.0.0.1", NULL, 3), 0);
    /* the most recent ones are still there */
    for (int i = 0; i < 3; i++)
        auth_throttle_failed(t, "10.1.0.199", NULL, 4);
    assert_int_equal(delay_of(t, "10.1.0.199", NULL, 4), 2000); /* 4 failures */
    auth_throttle_free(&t);
}

static void test_refusal_is_logged(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_fd(fileno(f));
    struct auth_throttle *t = make(16, 100, 2);
    auth_throttle_failed(t, NULL, "eve x=1@example.com", 1);
    auth_throttle_failed(t, NULL, "eve x=1@example.com", 1);
    uint32_t d;
    assert_int_equal(auth_throttle_check(t, NULL, "eve x=1@example.com", 2, &d), PETREL_EAGAIN);
    log_set_fd(2);
    char text[2048] = {0};
    rewind(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    assert_true(n > 0);
    assert_non_null(strstr(text, "event=auth_throttle_block account=eve?x?1@example.com"));
    assert_non_null(strstr(text, "event=auth_throttle_refused account=eve?x?1@example.com"));
    assert_non_null(strstr(text, "retry_in_ms=29999"));
    fclose(f);
    auth_throttle_free(&t);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct auth_throttle_config cfg;
    struct auth_throttle *t = NULL;
    auth_throttle_config_default(&cfg);
    cfg.capacity = 0;
    assert_int_equal(auth_throttle_new(&cfg, &t), PETREL_EINVAL);
    auth_throttle_config_default(&cfg);
    cfg.account_max_failures = 0;
    assert_int_equal(auth_throttle_new(&cfg, &t), PETREL_EINVAL);
    assert_null(t);
    assert_int_equal(auth_throttle_new(NULL, &t), 0); /* defaults */
    auth_throttle_failed(t, "192.0.2.1", "a", 0);
    assert_int_equal(auth_throttle_count(t), 2);
    auth_throttle_free(&t);
}

struct hammer_arg {
    struct auth_throttle *t;
    int id;
};

static void *hammer(void *p)
{
    struct hammer_arg *a = p;
    char ip[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", a->id, i / 256, i % 256);
        uint32_t d;
        auth_throttle_failed(a->t, ip, "shared@example.com", (uint64_t)i);
        (void)auth_throttle_check(a->t, ip, "shared@example.com", (uint64_t)i, &d);
        if (i % 7 == 0)
            auth_throttle_succeeded(a->t, ip, "shared@example.com", (uint64_t)i);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct auth_throttle *t = make(128, 1000, 1000000);
    pthread_t th[4];
    struct hammer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct hammer_arg){t, i};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(auth_throttle_count(t) <= 128);
    assert_true(auth_throttle_count(t) > 0);
    auth_throttle_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_growth),
        cmocka_unit_test(test_refusal_and_expiry),
        cmocka_unit_test(test_window_expiry),
        cmocka_unit_test(test_ip_refusal),
        cmocka_unit_test(test_success_clears_account_only),
        cmocka_unit_test(test_eviction_bound),
        cmocka_unit_test(test_refusal_is_logged),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
