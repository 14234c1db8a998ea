/* tests for core/auth/cache.c: hit, miss, expiry, password change, drop_user, eviction */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/cache.h"
#include "util/err.h"

static const char H1[] =
    "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U";
static const char H2[] =
    "$scrypt$ln=10,r=8,p=1$b3RoZXJzYWx0b3RoZXJzYQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U";

static struct auth_cache *make(uint32_t capacity, uint32_t ttl_ms)
{
    struct auth_cache_config cfg = {capacity, ttl_ms};
    struct auth_cache *c = NULL;
    assert_int_equal(auth_cache_new(&cfg, &c), 0);
    return c;
}

static int lookup(struct auth_cache *c, const char *u, const char *pw, const char *h, uint64_t now)
{
    return auth_cache_lookup(c, u, pw, strlen(pw), h, now);
}

static void add(struct auth_cache *c, const char *u, const char *pw, const char *h, uint64_t now)
{
    assert_int_equal(auth_cache_add(c, u, pw, strlen(pw), h, now), 0);
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    struct auth_cache *c = make(64, 300000);
    assert_int_equal(lookup(c, "bob@example.com", "secret", H1, 0), PETREL_ENOTFOUND);
    add(c, "bob@example.com", "secret", H1, 0);
    assert_int_equal(lookup(c, "bob@example.com", "secret", H1, 1), 0);
    assert_int_equal(lookup(c, "bob@example.com", "Secret", H1, 1), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "bob@example.com", "secre", H1, 1), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "alice@example.com", "secret", H1, 1), PETREL_ENOTFOUND);
    /* the separators keep (user, password) pairs apart: "ab"+"c" is not "a"+"bc" */
    add(c, "ab", "c", H1, 1);
    assert_int_equal(lookup(c, "a", "bc", H1, 2), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "ab", "c", H1, 2), 0);
    assert_int_equal(auth_cache_count(c), 2);
    /* binary password bytes are part of the key */
    assert_int_equal(auth_cache_add(c, "u", "p\0q", 3, H1, 3), 0);
    assert_int_equal(auth_cache_lookup(c, "u", "p\0q", 3, H1, 4), 0);
    assert_int_equal(auth_cache_lookup(c, "u", "p\0r", 3, H1, 4), PETREL_ENOTFOUND);
    assert_int_equal(auth_cache_lookup(c, "u", "p", 1, H1, 4), PETREL_ENOTFOUND);
    auth_cache_free(&c);
    assert_null(c);
    auth_cache_free(&c);
}

static void test_expiry(void **state)
{
    (void)state;
    struct auth_cache *c = make(64, 1000);
    add(c, "bob", "pw", H1, 5000);
    assert_int_equal(lookup(c, "bob", "pw", H1, 5999), 0);
    /* hits do not extend the lifetime */
    assert_int_equal(lookup(c, "bob", "pw", H1, 6000), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "bob", "pw", H1, 5500), PETREL_ENOTFOUND); /* and it is gone */
    assert_int_equal(auth_cache_count(c), 0);
    /* adding again starts a new lifetime */
    add(c, "bob", "pw", H1, 7000);
    add(c, "bob", "pw", H1, 7500);
    assert_int_equal(auth_cache_count(c), 1);
    assert_int_equal(lookup(c, "bob", "pw", H1, 8499), 0);
    auth_cache_free(&c);
}

static void test_password_change_misses(void **state)
{
    (void)state;
    struct auth_cache *c = make(64, 300000);
    add(c, "bob", "old", H1, 0);
    /* the stored hash changed (new password set, perhaps by petrelctl): the old one misses */
    assert_int_equal(lookup(c, "bob", "old", H2, 1), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "bob", "old", H1, 1), 0);
    add(c, "bob", "new", H2, 2);
    assert_int_equal(lookup(c, "bob", "new", H2, 3), 0);
    assert_int_equal(lookup(c, "bob", "new", H1, 3), PETREL_ENOTFOUND);
    auth_cache_free(&c);
}

static void test_drop_user(void **state)
{
    (void)state;
    struct auth_cache *c = make(64, 300000);
    add(c, "bob", "pw1", H1, 0);
    add(c, "bob", "pw2", H2, 0);
    add(c, "alice", "pw1", H1, 0);
    assert_int_equal(auth_cache_count(c), 3);
    assert_int_equal(auth_cache_drop_user(c, "bob"), 2);
    assert_int_equal(lookup(c, "bob", "pw1", H1, 1), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "bob", "pw2", H2, 1), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "alice", "pw1", H1, 1), 0);
    assert_int_equal(auth_cache_drop_user(c, "bob"), 0);
    assert_int_equal(auth_cache_drop_user(c, "bo"), 0);
    assert_int_equal(auth_cache_count(c), 1);
    /* the table still works after removals */
    add(c, "bob", "pw1", H1, 2);
    assert_int_equal(lookup(c, "bob", "pw1", H1, 3), 0);
    auth_cache_free(&c);
}

static void test_eviction(void **state)
{
    (void)state;
    struct auth_cache *c = make(8, 300000);
    char user[32];
    for (int i = 0; i < 8; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        add(c, user, "pw", H1, 0);
    }
    assert_int_equal(lookup(c, "user0", "pw", H1, 1), 0); /* user0 is now the most recent */
    for (int i = 8; i < 20; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        add(c, user, "pw", H1, 2);
        assert_true(auth_cache_count(c) <= 8);
        if (i == 14) /* 7 of user1..7 are evicted by now, user0 survives */
            assert_int_equal(lookup(c, "user0", "pw", H1, 2), 0);
    }
    assert_int_equal(auth_cache_count(c), 8);
    assert_int_equal(lookup(c, "user1", "pw", H1, 3), PETREL_ENOTFOUND);
    assert_int_equal(lookup(c, "user19", "pw", H1, 3), 0);
    auth_cache_free(&c);
}

static void test_config(void **state)
{
    (void)state;
    struct auth_cache_config cfg;
    struct auth_cache *c = NULL;
    auth_cache_config_default(&cfg);
    assert_int_equal(cfg.ttl_ms, 300000);
    cfg.ttl_ms = 0;
    assert_int_equal(auth_cache_new(&cfg, &c), PETREL_EINVAL);
    cfg.ttl_ms = 1;
    cfg.capacity = 0;
    assert_int_equal(auth_cache_new(&cfg, &c), PETREL_EINVAL);
    assert_null(c);
    assert_int_equal(auth_cache_new(NULL, &c), 0);
    add(c, "bob", "pw", H1, 0);
    assert_int_equal(lookup(c, "bob", "pw", H1, 299999), 0);
    assert_int_equal(lookup(c, "bob", "pw", H1, 300000), PETREL_ENOTFOUND);
    auth_cache_free(&c);
}

static void test_secret_is_per_instance(void **state)
{
    (void)state;
    /* two caches (two processes) never share entries */
    struct auth_cache *a = make(8, 1000), *b = make(8, 1000);
    add(a, "bob", "pw", H1, 0);
    assert_int_equal(lookup(b, "bob", "pw", H1, 0), PETREL_ENOTFOUND);
    auth_cache_free(&a);
    auth_cache_free(&b);
}

static void *hammer(void *p)
{
    struct auth_cache *c = p;
    char user[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(user, sizeof(user), "u%d", i % 50);
        auth_cache_add(c, user, "pw", 2, H1, (uint64_t)i);
        (void)auth_cache_lookup(c, user, "pw", 2, H1, (uint64_t)i);
        if (i % 10 == 0)
            auth_cache_drop_user(c, user);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct auth_cache *c = make(32, 100000);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, c), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(auth_cache_count(c) <= 32);
    add(c, "final", "pw", H1, 2000);
    assert_int_equal(lookup(c, "final", "pw", H1, 2001), 0);
    auth_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_password_change_misses),
        cmocka_unit_test(test_drop_user),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_secret_is_per_instance),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
