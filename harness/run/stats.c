/*
 * stats.c - histogram queries and small-sample statistics.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

uint64_t contend_hist_bucket_value(unsigned idx)
{
    unsigned group = idx / CONTEND_HIST_SUB;
    unsigned sub = idx % CONTEND_HIST_SUB;
    if (group == 0)
        return sub;
    unsigned msb = group + CONTEND_HIST_SUB_BITS - 1;
    uint64_t width = 1ull << (msb - CONTEND_HIST_SUB_BITS);
    uint64_t lower = (1ull << msb) + (uint64_t)sub * width;
    return lower + width / 2;
}

void contend_hist_merge(struct contend_hist *into, const struct contend_hist *from)
{
    if (from->count == 0)
        return;
    if (into->count == 0 || from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
    into->count += from->count;
    into->sum += from->sum;
    for (unsigned i = 0; i < CONTEND_HIST_BUCKETS; i++)
        into->buckets[i] += from->buckets[i];
}

uint64_t contend_hist_quantile(const struct contend_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* The smallest value with at least ceil(q * count) values at or below it. */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < CONTEND_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = contend_hist_bucket_value(i);
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double contend_median(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return v[0];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = (n % 2) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}
