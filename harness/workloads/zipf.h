/*
 * zipf.h - Zipf-distributed keys, for workloads with hot and cold keys.
 *
 * Rank r in 1..n is drawn with probability proportional to 1 / r^s.  The
 * sampler is rejection-inversion (Hörmann and Derflinger, "Rejection-inversion
 * to generate variates from monotone discrete distributions", 1996): O(1)
 * per draw, no table, so gen() stays allocation-free and needs no set-up.
 * Every draw consumes the caller's stream only, so the same stream gives the
 * same keys.
 */
#ifndef CONTEND_ZIPF_H
#define CONTEND_ZIPF_H

#include <stdint.h>

#include "util.h"

/* A key in [0, n): key 0 is the hottest.  s <= 0 gives uniform keys. */
uint64_t contend_zipf(struct contend_rng *rng, uint64_t n, double s);

#endif /* CONTEND_ZIPF_H */
