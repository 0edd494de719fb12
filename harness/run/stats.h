/*
 * stats.h - latency histograms and throughput series.
 *
 * The histogram is log-linear, the scheme fio uses: values below 2^7 ns get a
 * bucket each; every power-of-two range above is split into 2^7 equal
 * sub-buckets.  A bucket's width is at most 1/128 of its lower bound, so
 * reporting a bucket's midpoint is within 0.4 % of any value in it.
 * Recording is an index computation and an increment: no allocation, no
 * lock.  Histograms of different threads merge by adding buckets.
 */
#ifndef CONTEND_STATS_H
#define CONTEND_STATS_H

#include <stddef.h>
#include <stdint.h>

#define CONTEND_HIST_SUB_BITS 7
#define CONTEND_HIST_SUB (1u << CONTEND_HIST_SUB_BITS)
#define CONTEND_HIST_MAX_MSB 44 /* values >= 2^45 ns (~9.8 h) land in the last bucket */
#define CONTEND_HIST_BUCKETS ((CONTEND_HIST_MAX_MSB - CONTEND_HIST_SUB_BITS + 2) * CONTEND_HIST_SUB)

struct contend_hist {
    uint64_t count;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
    uint64_t buckets[CONTEND_HIST_BUCKETS];
};

static inline unsigned contend_hist_index(uint64_t v)
{
    if (v < CONTEND_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    if (msb > CONTEND_HIST_MAX_MSB)
        return CONTEND_HIST_BUCKETS - 1;
    unsigned group = msb - CONTEND_HIST_SUB_BITS + 1;
    unsigned sub = (unsigned)(v >> (msb - CONTEND_HIST_SUB_BITS)) & (CONTEND_HIST_SUB - 1);
    return group * CONTEND_HIST_SUB + sub;
}

/* The hot-path record: no allocation, no lock (one histogram per thread). */
static inline void contend_hist_record(struct contend_hist *h, uint64_t v)
{
    h->buckets[contend_hist_index(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
    if (h->count == 1 || v < h->min)
        h->min = v;
}

/* Midpoint of a bucket, the value reported for it. */
uint64_t contend_hist_bucket_value(unsigned idx);
void contend_hist_merge(struct contend_hist *into, const struct contend_hist *from);
/* The q-quantile (0 <= q <= 1), clamped to the recorded min and max. */
uint64_t contend_hist_quantile(const struct contend_hist *h, double q);

/* Ops completed per interval since the start barrier. */
#define CONTEND_SERIES_INTERVAL_NS 100000000ull /* 100 ms */
#define CONTEND_SERIES_LEN 36000u               /* one hour; later ops count in the last slot */

/* Statistics of a small sample (repetitions of a case). */
double contend_median(const double *v, size_t n);

#endif /* CONTEND_STATS_H */
