/*
 * zipf.c - rejection-inversion sampling of a Zipf distribution.
 *
 * With h(x) = x^-s and H its antiderivative, H(x) = (x^(1-s) - 1) / (1-s)
 * (ln x when s = 1), a draw is: u uniform in [H(n + 1/2), H(3/2) - h(1)),
 * x = H^-1(u), k = x rounded.  The area of h over [k - 1/2, k + 1/2] bounds
 * P(k) from above, so k is accepted when u lies in the part of the strip
 * that belongs to k, and drawn again otherwise; fewer than 2 draws are
 * needed on average for any s.  The helpers expm1(y)/y and log1p(y)/y keep
 * H and H^-1 accurate when s is close to 1, where (1 - s) vanishes.
 */
#include "zipf.h"

#include <math.h>

/* expm1(y) / y, continuous at 0. */
static double expm1_over(double y)
{
    return fabs(y) > 1e-8 ? expm1(y) / y : 1.0 + y / 2.0;
}

/* log1p(y) / y, continuous at 0. */
static double log1p_over(double y)
{
    return fabs(y) > 1e-8 ? log1p(y) / y : 1.0 - y / 2.0;
}

static double h(double x, double s)
{
    return exp(-s * log(x));
}

static double big_h(double x, double s)
{
    double lx = log(x);
    return expm1_over((1.0 - s) * lx) * lx;
}

static double big_h_inv(double u, double s)
{
    double t = u * (1.0 - s);
    if (t < -1.0)
        t = -1.0; /* rounding at the lower edge */
    return exp(log1p_over(t) * u);
}

static double uniform01(struct contend_rng *rng)
{
    return (double)(contend_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t contend_zipf(struct contend_rng *rng, uint64_t n, double s)
{
    if (n <= 1)
        return 0;
    if (!(s > 0))
        return contend_rng_below(rng, n);
    const double nd = (double)n;
    const double hx1 = big_h(1.5, s) - 1.0;
    const double hn = big_h(nd + 0.5, s);
    const double sq = 2.0 - big_h_inv(big_h(2.5, s) - h(2.0, s), s);
    for (;;) {
        double u = hn + uniform01(rng) * (hx1 - hn);
        double x = big_h_inv(u, s);
        double kd = floor(x + 0.5);
        if (kd < 1)
            kd = 1;
        else if (kd > nd)
            kd = nd;
        if (kd - x <= sq || u >= big_h(kd + 0.5, s) - h(kd, s))
            return (uint64_t)kd - 1;
    }
}
