/*
 * test_mwu.c - the Mann-Whitney U test against known values: the exact
 * distribution for small samples (published critical values, R's worked
 * example), the exact conditional distribution with ties (enumerated by
 * brute force, independently, in Python), and the normal approximation
 * against the exact values it approximates.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "compare.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.12g, want %.12g (+- %g)", got, want, tol);
}

/* x against y = {0, 2, 4, ..., 2(n-1)}, no ties, with exactly U pairs
 * x > y: x_i = 2 a_i + 1 beats the a_i + 1 values of y up to 2 a_i. */
static struct contend_mwu with_u(size_t n, const int *a, size_t m)
{
    double x[32], y[32];
    struct contend_mwu r;
    for (size_t i = 0; i < m; i++)
        y[i] = 2.0 * (double)i;
    for (size_t i = 0; i < n; i++)
        x[i] = a[i] < 0 ? -1.0 - 0.01 * (double)i : 2.0 * a[i] + 1 + 0.001 * (double)i;
    assert_int_equal(contend_mwu(x, n, y, m, &r), 0);
    return r;
}

/* Complete separation: the smallest p there is, 2 / C(n+m, n). */
static void test_separation(void **state)
{
    (void)state;
    double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    struct contend_mwu r;
    assert_int_equal(contend_mwu(a, 3, b, 3, &r), 0);
    assert_true(r.exact);
    near(r.u, 0, 0);
    near(r.p, 0.1, 1e-12); /* 2 / 20: three against three can never reach 0.05 */

    double x[9], y[9];
    for (int i = 0; i < 9; i++) {
        x[i] = i;
        y[i] = 10 + i;
    }
    assert_int_equal(contend_mwu(x, 9, y, 9, &r), 0);
    near(r.p, 2.0 / 48620.0, 1e-15);
    assert_int_equal(contend_mwu(y, 9, x, 9, &r), 0);
    near(r.u, 81, 0);
    near(r.p, 2.0 / 48620.0, 1e-15);
}

/* The published two-sided alpha = 0.05 critical values: U <= 17 for 9 and 9,
 * U <= 2 for 5 and 5.  Exact tails: P(U <= 17) = 0.019992, P(U <= 18) =
 * 0.025154 for 9 and 9; P(U <= 2) = 0.015873, P(U <= 3) = 0.027778 for 5. */
static void test_critical_values(void **state)
{
    (void)state;
    /* 9 x 9: a_i sums to U - 9 (each x beats a_i + 1 values of y). */
    int a17[] = {-1, -1, -1, -1, -1, -1, 4, 4, 6}; /* 5 + 5 + 7 = 17 */
    int a18[] = {-1, -1, -1, -1, -1, -1, 4, 5, 6}; /* 5 + 6 + 7 = 18 */
    struct contend_mwu r = with_u(9, a17, 9);
    near(r.u, 17, 1e-9);
    near(r.p, 2 * 0.019991772932949403, 1e-12);
    assert_true(r.p < 0.05);
    r = with_u(9, a18, 9);
    near(r.u, 18, 1e-9);
    near(r.p, 2 * 0.025154257507198685, 1e-12);
    assert_true(r.p > 0.05);

    int b2[] = {-1, -1, -1, -1, 1}; /* 2 */
    int b3[] = {-1, -1, -1, 0, 1};  /* 1 + 2 = 3 */
    r = with_u(5, b2, 5);
    near(r.u, 2, 1e-9);
    near(r.p, 2 * 0.015873015873015872, 1e-12);
    r = with_u(5, b3, 5);
    near(r.u, 3, 1e-9);
    near(r.p, 2 * 0.027777777777777776, 1e-12);
}

/* R's wilcox.test example (Hollander & Wolfe): W = 35, one-sided p 0.1272,
 * so two-sided 0.2544. */
static void test_r_example(void **state)
{
    (void)state;
    double x[] = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    double y[] = {1.15, 0.88, 0.90, 0.74, 1.21};
    struct contend_mwu r;
    assert_int_equal(contend_mwu(x, N(x), y, N(y), &r), 0);
    assert_true(r.exact);
    near(r.u, 35, 0);
    near(r.p, 0.2544122544122544, 1e-12);
}

/* With ties, the exact conditional distribution of the mid-rank sum,
 * enumerated over all C(n+m, n) splits. */
static void test_ties_exact(void **state)
{
    (void)state;
    double a[] = {1, 2, 2, 3}, b[] = {2, 3, 3, 4};
    struct contend_mwu r;
    assert_int_equal(contend_mwu(a, N(a), b, N(b), &r), 0);
    near(r.u, 3, 0);
    near(r.p, 0.2857142857142857, 1e-12);

    double c[] = {10, 10, 10, 12, 12}, d[] = {10, 12, 12, 12, 14, 14};
    assert_int_equal(contend_mwu(c, N(c), d, N(d), &r), 0);
    near(r.u, 6.5, 0);
    near(r.p, 0.20346320346320346, 1e-12);

    /* Identical figures, as a latency histogram reports them: no evidence. */
    double e[] = {5.104, 5.104, 5.104}, f[] = {5.104, 5.104, 5.104};
    assert_int_equal(contend_mwu(e, 3, f, 3, &r), 0);
    near(r.p, 1, 0);
    assert_int_equal(contend_mwu_normal(e, 3, f, 3, &r), 0);
    near(r.p, 1, 0);
}

/* The normal approximation with continuity correction, against the exact
 * values: close for 9 and 9, and the formula itself for a hand example. */
static void test_normal(void **state)
{
    (void)state;
    int a17[] = {-1, -1, -1, -1, -1, -1, 4, 4, 6};
    double x[9], y[9];
    for (size_t i = 0; i < 9; i++) {
        y[i] = 2.0 * (double)i;
        x[i] = a17[i] < 0 ? -1.0 - 0.01 * (double)i : 2.0 * a17[i] + 1 + 0.001 * (double)i;
    }
    struct contend_mwu r;
    assert_int_equal(contend_mwu_normal(x, 9, y, 9, &r), 0);
    assert_false(r.exact);
    near(r.u, 17, 0);
    /* z = (|17 - 40.5| - 0.5) / sqrt(81 * 19 / 12) = 23 / 11.325; p = erfc(z / sqrt 2). */
    near(r.p, erfc(23.0 / sqrt(81.0 * 19.0 / 12.0) / sqrt(2.0)), 1e-12);
    near(r.p, 0.0399835, 0.003); /* the exact value */

    /* Ties shrink the variance: sum(t^3 - t) / (N (N - 1)). */
    double c[] = {10, 10, 10, 12, 12}, d[] = {10, 12, 12, 12, 14, 14};
    assert_int_equal(contend_mwu_normal(c, 5, d, 6, &r), 0);
    double ties = (4 * 4 * 4 - 4) + (5 * 5 * 5 - 5) + (2 * 2 * 2 - 2);
    double var = 30.0 / 12 * (12 - ties / (11.0 * 10));
    near(r.p, erfc((fabs(6.5 - 15) - 0.5) / sqrt(var) / sqrt(2.0)), 1e-12);
}

/* Above CONTEND_MWU_EXACT_MAX values the approximation takes over, and
 * agrees with the exact test where both apply. */
static void test_large_uses_normal(void **state)
{
    (void)state;
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = i * 1.3;
        y[i] = i * 1.3 + 4.1;
    }
    struct contend_mwu r, e;
    assert_int_equal(contend_mwu(x, 40, y, 40, &r), 0);
    assert_false(r.exact);
    assert_int_equal(contend_mwu(x, 30, y, 30, &e), 0);
    assert_true(e.exact);
    struct contend_mwu n;
    assert_int_equal(contend_mwu_normal(x, 30, y, 30, &n), 0);
    near(n.p, e.p, 0.01);
}

static void test_rejects_empty_and_nan(void **state)
{
    (void)state;
    double a[] = {1, 2}, b[] = {NAN, 1};
    struct contend_mwu r;
    assert_int_equal(contend_mwu(a, 0, a, 2, &r), -EINVAL);
    assert_int_equal(contend_mwu(a, 2, b, 2, &r), -EINVAL);
    assert_int_equal(contend_mwu_normal(a, 2, a, 0, &r), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separation),
        cmocka_unit_test(test_critical_values),
        cmocka_unit_test(test_r_example),
        cmocka_unit_test(test_ties_exact),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_large_uses_normal),
        cmocka_unit_test(test_rejects_empty_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
