/*
 * growth.h - does an operation get slower as the store grows?
 *
 * For every workload: each acknowledged op's latency is set against the size
 * of the store when it started (the number of ops completed before it, from
 * the histories' completion times), and per-op cost is fitted as
 * cost ~ size^exponent.  0 means constant cost per op (total work linear in
 * N); 1 means cost proportional to the store (total work quadratic: the
 * re-read-the-whole-file bug).  `max_growth` gates the exponent, and a case
 * may `expect = superlinear-growth`.
 */
#ifndef CONTEND_GROWTH_H
#define CONTEND_GROWTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"

#define CONTEND_GROWTH_BUCKETS 15      /* in log(size), over the range below */
#define CONTEND_GROWTH_PARTS 3         /* slopes fitted separately; the median wins */
#define CONTEND_GROWTH_RANGE 64        /* sizes from size_max / 64 to size_max */
#define CONTEND_GROWTH_BUCKET_MIN 5    /* ops for a bucket's median to count */
#define CONTEND_GROWTH_MIN_OPS 1000    /* fewer acknowledged ops: no fit */
#define CONTEND_GROWTH_DEFAULT_MAX 0.2 /* threshold when only `expect` asks */

struct contend_growth {
    bool valid;       /* false: too few ops, or the store barely grew (see why) */
    double exponent;  /* per-op cost ~ size^exponent */
    uint64_t ops;     /* ops fitted */
    uint64_t size_max;
    unsigned npoints; /* buckets with enough ops */
    double size[CONTEND_GROWTH_BUCKETS];    /* median store size of each bucket */
    double cost_us[CONTEND_GROWTH_BUCKETS]; /* median latency of each bucket */
    double part[CONTEND_GROWTH_PARTS];      /* the slope of each part of the range */
    char why[96];
};

/* One op: the store's size when it started, and its latency. */
struct contend_growth_sample {
    uint64_t size;
    uint64_t cost_ns;
};

/* Fit the exponent from samples (any order; they are sorted in place).
 * Sizes from size_max / 64 to size_max (smaller ones are the warm-up) are cut
 * into 15 buckets of equal width in log(size); each bucket gives (median
 * size, median cost), so a burst of slow ops from a noisy neighbour moves a
 * median little and a single op not at all; a bucket slower than a later one
 * is fitted at the later one's cost (noise adds time; growth never removes
 * it).  The range is fitted in three parts of 5 buckets, each by Theil-Sen
 * (the median of its pairwise slopes of log cost against log size), and the
 * exponent is the median of the three: a step in the machine's speed tilts
 * one part, real growth all. */
void contend_growth_fit(struct contend_growth_sample *s, size_t n, struct contend_growth *out);

/* Samples from the histories of a run, then the fit. */
void contend_growth_of_run(const struct contend_history *h, uint32_t nwriters,
                           struct contend_growth *out);

#endif /* CONTEND_GROWTH_H */
