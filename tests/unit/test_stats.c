/*
 * test_stats.c - the log-linear histogram against exact percentiles of a
 * sorted array, and its merge.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "stats.h"
#include "util.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The exact q-quantile with the histogram's definition: the smallest value
 * with at least ceil(q * n) values at or below it. */
static uint64_t exact(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

static void check_against_sorted(uint64_t *v, size_t n)
{
    struct contend_hist *h = contend_calloc(1, sizeof *h);
    for (size_t i = 0; i < n; i++)
        contend_hist_record(h, v[i]);
    qsort(v, n, sizeof v[0], cmp_u64);
    static const double qs[] = {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = (double)exact(v, n, qs[i]);
        double got = (double)contend_hist_quantile(h, qs[i]);
        /* The design promises <= 1 % (a bucket is 1/128 wide, we report its middle). */
        if (fabs(got - want) > 0.01 * want + 0.5)
            fail_msg("q=%.3f: histogram says %.0f, exact is %.0f", qs[i], got, want);
    }
    assert_int_equal(h->count, n);
    assert_int_equal(h->min, v[0]);
    assert_int_equal(h->max, v[n - 1]);
    free(h);
}

static void test_log_uniform(void **state)
{
    (void)state;
    struct contend_rng r;
    contend_rng_init(&r, 42, 0, 0);
    size_t n = 100000;
    uint64_t *v = contend_calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        /* 10 ns .. 10 s, uniform in log: every bucket group gets values. */
        double e = 1.0 + 9.0 * (double)contend_rng_next(&r) / 18446744073709551616.0;
        v[i] = (uint64_t)pow(10.0, e);
    }
    check_against_sorted(v, n);
    free(v);
}

static void test_small_and_exact(void **state)
{
    (void)state;
    uint64_t v[] = {5, 1, 3, 2, 4, 127, 0, 64};
    check_against_sorted(v, sizeof v / sizeof v[0]);
}

static void test_single_value_and_empty(void **state)
{
    (void)state;
    struct contend_hist *h = contend_calloc(1, sizeof *h);
    assert_int_equal(contend_hist_quantile(h, 0.5), 0);
    contend_hist_record(h, 123456789);
    assert_int_equal(contend_hist_quantile(h, 0.5), 123456789); /* clamped to min = max */
    free(h);
}

static void test_huge_value_last_bucket(void **state)
{
    (void)state;
    assert_int_equal(contend_hist_index(UINT64_MAX), CONTEND_HIST_BUCKETS - 1);
    assert_true(contend_hist_index(1ull << 44) < CONTEND_HIST_BUCKETS);
}

static void test_merge(void **state)
{
    (void)state;
    struct contend_hist *a = contend_calloc(1, sizeof *a), *b = contend_calloc(1, sizeof *b);
    for (uint64_t i = 1; i <= 1000; i++)
        contend_hist_record(i % 2 ? a : b, i * 1000);
    contend_hist_merge(a, b);
    assert_int_equal(a->count, 1000);
    assert_int_equal(a->min, 1000);
    assert_int_equal(a->max, 1000000);
    double p50 = (double)contend_hist_quantile(a, 0.5);
    assert_true(fabs(p50 - 500000) <= 5000);
    free(a);
    free(b);
}

static void test_median(void **state)
{
    (void)state;
    double odd[] = {3, 1, 2};
    double even[] = {4, 1, 3, 2};
    assert_true(contend_median(odd, 3) == 2);
    assert_true(contend_median(even, 4) == 2.5);
    assert_true(contend_median(odd, 0) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_uniform),
        cmocka_unit_test(test_small_and_exact),
        cmocka_unit_test(test_single_value_and_empty),
        cmocka_unit_test(test_huge_value_last_bucket),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
