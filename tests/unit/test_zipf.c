/*
 * test_zipf.c - the Zipf key generator: the same stream gives the same keys,
 * keys stay in range, and the frequencies follow 1 / rank^s.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "zipf.h"

#define DRAWS 200000

static void histogram(uint64_t n, double s, uint64_t seed, uint64_t *freq)
{
    memset(freq, 0, n * sizeof *freq);
    for (uint64_t i = 0; i < DRAWS; i++) {
        struct contend_rng r;
        contend_rng_init(&r, seed, 0, i);
        uint64_t k = contend_zipf(&r, n, s);
        assert_true(k < n);
        freq[k]++;
    }
}

static double harmonic(uint64_t n, double s)
{
    double h = 0;
    for (uint64_t k = 1; k <= n; k++)
        h += 1.0 / pow((double)k, s);
    return h;
}

static void test_deterministic_per_seed(void **state)
{
    (void)state;
    unsigned differ = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        struct contend_rng a, b, c;
        contend_rng_init(&a, 7, 3, i);
        contend_rng_init(&b, 7, 3, i);
        contend_rng_init(&c, 8, 3, i);
        uint64_t x = contend_zipf(&a, 1000, 1.1);
        assert_int_equal(x, contend_zipf(&b, 1000, 1.1));
        differ += x != contend_zipf(&c, 1000, 1.1);
    }
    assert_true(differ > 300); /* another seed, other keys */
}

/* Every rank's frequency within 5 standard deviations of n / (k^s H). */
static void expect_zipf(uint64_t n, double s)
{
    uint64_t *freq = calloc(n, sizeof *freq);
    histogram(n, s, 42, freq);
    double h = harmonic(n, s);
    for (uint64_t k = 0; k < n; k++) {
        double p = 1.0 / (pow((double)(k + 1), s) * h);
        double want = p * DRAWS, sd = sqrt(DRAWS * p * (1 - p));
        if (fabs((double)freq[k] - want) > 5 * sd + 1) {
            fprintf(stderr, "n=%llu s=%g rank %llu: %llu draws, expected %.1f\n",
                    (unsigned long long)n, s, (unsigned long long)k + 1,
                    (unsigned long long)freq[k], want);
            fail();
        }
    }
    free(freq);
}

static void test_skewed(void **state)
{
    (void)state;
    expect_zipf(100, 1.0);
    expect_zipf(50, 0.5);
    expect_zipf(20, 2.0);
    expect_zipf(1000, 0.99);
    /* The hot key is hot: rank 1 gets about twice rank 2 at s = 1. */
    uint64_t freq[100];
    histogram(100, 1.0, 1, freq);
    assert_true(freq[0] > freq[1] && freq[1] > freq[9] && freq[9] > freq[99]);
    double ratio = (double)freq[0] / (double)freq[1];
    assert_true(ratio > 1.8 && ratio < 2.2);
}

static void test_uniform_and_edges(void **state)
{
    (void)state;
    uint64_t freq[10];
    histogram(10, 0.0, 3, freq);
    for (int k = 0; k < 10; k++)
        assert_true(freq[k] > DRAWS / 10 * 0.9 && freq[k] < DRAWS / 10 * 1.1);
    struct contend_rng r;
    contend_rng_init(&r, 1, 1, 1);
    assert_int_equal(contend_zipf(&r, 1, 1.0), 0);
    assert_int_equal(contend_zipf(&r, 0, 1.0), 0);
    for (int i = 0; i < 1000; i++)
        assert_true(contend_zipf(&r, 3, 5.0) < 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_per_seed),
        cmocka_unit_test(test_skewed),
        cmocka_unit_test(test_uniform_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
