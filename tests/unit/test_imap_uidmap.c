/* tests for plugins/imap/uidmap.c: the selected mailbox's UID map as runs */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/uidmap.c"

/* The runs are well formed: ascending, a gap between two, starts = prefix sums. */
static void check_runs(const struct imap_uidmap *m)
{
    uint32_t total = 0;
    assert_true(m->nruns <= m->cap);
    for (uint32_t k = 0; k < m->nruns; k++) {
        const struct imap_uidrun *r = &m->runs[k];
        assert_true(r->count >= 1);
        assert_true(r->first >= 1);
        assert_int_equal(r->start, total);
        if (k) assert_true(r->first > m->runs[k - 1].first + m->runs[k - 1].count);
        total += r->count;
    }
    assert_int_equal(total, m->count);
}

/* How many of ref[0..n) are below uid (a plain linear count). */
static uint32_t ref_below(const uint32_t *ref, uint32_t n, uint32_t uid)
{
    uint32_t k = 0;
    while (k < n && ref[k] < uid)
        k++;
    return k;
}

/* Every lookup of m agrees with the plain ascending array ref[0..n). */
static void check_against(const struct imap_uidmap *m, const uint32_t *ref, uint32_t n)
{
    check_runs(m);
    assert_int_equal(imap_uidmap_count(m), n);
    assert_int_equal(imap_uidmap_last(m), n ? ref[n - 1] : 0);
    assert_int_equal(imap_uidmap_uid_at(m, 0), 0);
    assert_int_equal(imap_uidmap_uid_at(m, n + 1), 0);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(imap_uidmap_uid_at(m, i + 1), ref[i]);
        assert_int_equal(imap_uidmap_seq_of(m, ref[i]), i + 1);
    }
    /* absent UIDs and lower bounds: 1 and the neighbours of every UID */
    for (uint32_t i = 0; i <= n; i++) {
        uint32_t base = i < n ? ref[i] : (n ? ref[n - 1] : 0);
        for (int d = -1; d <= 1; d++) {
            if ((d < 0 && base <= 1) || (d > 0 && base == UINT32_MAX)) continue;
            uint32_t uid = d < 0 ? base - 1 : d > 0 ? base + 1 : base;
            if (uid == 0) uid = 1;
            uint32_t below = ref_below(ref, n, uid);
            assert_int_equal(imap_uidmap_lower_seq(m, uid), below + 1);
            int present = below < n && ref[below] == uid;
            assert_int_equal(imap_uidmap_seq_of(m, uid), present ? below + 1 : 0);
        }
    }
    assert_int_equal(imap_uidmap_seq_of(m, 0), 0);
    assert_int_equal(imap_uidmap_seq_of(m, UINT32_MAX), n && ref[n - 1] == UINT32_MAX ? n : 0);
    /* iteration from every start */
    for (uint32_t from = 0; from <= n + 1; from++) {
        struct imap_uidmap_it it;
        uint32_t seq, uid, want = from ? from : 1;
        imap_uidmap_it_init(&it, m, from);
        while (imap_uidmap_it_next(&it, &seq, &uid)) {
            assert_true(want <= n);
            assert_int_equal(seq, want);
            assert_int_equal(uid, ref[want - 1]);
            want++;
        }
        assert_int_equal(want, from <= n ? n + 1 : from);
    }
}

static void test_build_and_lookup(void **state)
{
    (void)state;
    struct imap_uidmap m = {0};
    static const uint32_t uids[] = {1, 2, 3, 4, 7, 9, 10, 11, 100, UINT32_MAX - 1, UINT32_MAX};
    const uint32_t n = sizeof(uids) / sizeof(uids[0]);
    assert_int_equal(imap_uidmap_build(&m, uids, n), 0);
    assert_int_equal(m.nruns, 5);
    assert_int_equal(m.cap, 5); /* exact: no idle slack */
    check_against(&m, uids, n);
    assert_int_equal(imap_uidmap_lower_seq(&m, 5), 5);  /* 7 is seq 5 */
    assert_int_equal(imap_uidmap_lower_seq(&m, 12), 9); /* 100 */
    assert_int_equal(imap_uidmap_seq_of(&m, 8), 0);
    /* nothing after UINT32_MAX */
    assert_int_equal(imap_uidmap_append(&m, UINT32_MAX), PETREL_EINVAL);

    /* a dense mailbox is one run */
    uint32_t dense[1000];
    for (uint32_t i = 0; i < 1000; i++)
        dense[i] = i + 5;
    assert_int_equal(imap_uidmap_build(&m, dense, 1000), 0);
    assert_int_equal(m.nruns, 1);
    check_against(&m, dense, 1000);

    /* empty, and bad input leaves an empty map */
    assert_int_equal(imap_uidmap_build(&m, NULL, 0), 0);
    check_against(&m, NULL, 0);
    assert_null(m.runs);
    static const uint32_t unsorted[] = {1, 3, 2}, dup[] = {1, 1}, zero[] = {0, 1};
    assert_int_equal(imap_uidmap_build(&m, unsorted, 3), PETREL_EINVAL);
    check_against(&m, NULL, 0);
    assert_int_equal(imap_uidmap_build(&m, dup, 2), PETREL_EINVAL);
    assert_int_equal(imap_uidmap_build(&m, zero, 2), PETREL_EINVAL);
    assert_int_equal(imap_uidmap_count(&m), 0);
    assert_int_equal(imap_uidmap_remove(&m, 1), PETREL_ENOTFOUND);
    imap_uidmap_clear(&m);
}

static void test_append_merges(void **state)
{
    (void)state;
    struct imap_uidmap m = {0};
    assert_int_equal(imap_uidmap_append(&m, 0), PETREL_EINVAL);
    assert_int_equal(imap_uidmap_append(&m, 5), 0);
    assert_int_equal(imap_uidmap_append(&m, 6), 0); /* extends the run */
    assert_int_equal(m.nruns, 1);
    assert_int_equal(imap_uidmap_append(&m, 6), PETREL_EINVAL);
    assert_int_equal(imap_uidmap_append(&m, 4), PETREL_EINVAL);
    assert_int_equal(imap_uidmap_append(&m, 9), 0); /* a gap: a new run */
    assert_int_equal(imap_uidmap_append(&m, 10), 0);
    assert_int_equal(m.nruns, 2);
    static const uint32_t want[] = {5, 6, 9, 10};
    check_against(&m, want, 4);
    imap_uidmap_clear(&m);
}

static void test_remove_splits(void **state)
{
    (void)state;
    struct imap_uidmap m = {0};
    static const uint32_t uids[] = {1, 2, 3, 4, 5, 6, 10, 11, 12};
    assert_int_equal(imap_uidmap_build(&m, uids, 9), 0);
    assert_int_equal(imap_uidmap_remove(&m, 3), 0); /* uid 3: the run splits */
    assert_int_equal(m.nruns, 3);
    static const uint32_t w1[] = {1, 2, 4, 5, 6, 10, 11, 12};
    check_against(&m, w1, 8);
    assert_int_equal(imap_uidmap_remove(&m, 1), 0); /* a run's first */
    assert_int_equal(imap_uidmap_remove(&m, 4), 0); /* uid 6: a run's last */
    static const uint32_t w2[] = {2, 4, 5, 10, 11, 12};
    check_against(&m, w2, 6);
    assert_int_equal(imap_uidmap_remove(&m, 1), 0); /* the run {2} goes */
    assert_int_equal(m.nruns, 2);
    static const uint32_t w3[] = {4, 5, 10, 11, 12};
    check_against(&m, w3, 5);
    assert_int_equal(imap_uidmap_remove(&m, 6), PETREL_ENOTFOUND);
    assert_int_equal(imap_uidmap_remove(&m, 0), PETREL_ENOTFOUND);
    /* appending the UID after the last after a removal at the end merges again */
    assert_int_equal(imap_uidmap_remove(&m, 5), 0);
    assert_int_equal(imap_uidmap_append(&m, 13), 0);
    assert_int_equal(m.nruns, 3);
    assert_int_equal(imap_uidmap_append(&m, 14), 0);
    static const uint32_t w4[] = {4, 5, 10, 11, 13, 14};
    check_against(&m, w4, 6);
    while (imap_uidmap_count(&m))
        assert_int_equal(imap_uidmap_remove(&m, 1), 0);
    assert_null(m.runs); /* an emptied map holds no memory */
    check_against(&m, NULL, 0);
    imap_uidmap_clear(&m);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

/* Random appends, removals and rebuilds, checked against a plain array after each step. */
static void test_random_against_array(void **state)
{
    (void)state;
    enum { CAP = 300, STEPS = 3000 };
    uint32_t ref[CAP], n = 0;
    struct imap_uidmap m = {0};
    for (int step = 0; step < STEPS; step++) {
        uint32_t op = rnd(100);
        if (op < 50 && n < CAP) { /* new mail, often consecutive */
            uint32_t last = n ? ref[n - 1] : 0, uid = last + 1 + (rnd(3) == 0 ? rnd(5) : 0);
            assert_int_equal(imap_uidmap_append(&m, uid), 0);
            ref[n++] = uid;
        } else if (op < 95 && n) { /* EXPUNGE of a random message */
            uint32_t seq = rnd(n) + 1;
            assert_int_equal(imap_uidmap_remove(&m, seq), 0);
            memmove(ref + seq - 1, ref + seq, (n - seq) * sizeof(*ref));
            n--;
        } else { /* SELECT again: a rebuild from the array */
            assert_int_equal(imap_uidmap_build(&m, ref, n), 0);
        }
        if (step % 7 == 0 || n < 20) {
            check_against(&m, ref, n);
        } else { /* cheaper: a few probes */
            check_runs(&m);
            assert_int_equal(imap_uidmap_count(&m), n);
            for (int p = 0; p < 5 && n; p++) {
                uint32_t i = rnd(n);
                assert_int_equal(imap_uidmap_uid_at(&m, i + 1), ref[i]);
                assert_int_equal(imap_uidmap_seq_of(&m, ref[i]), i + 1);
            }
        }
    }
    check_against(&m, ref, n);
    imap_uidmap_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_lookup),
        cmocka_unit_test(test_append_merges),
        cmocka_unit_test(test_remove_splits),
        cmocka_unit_test(test_random_against_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
