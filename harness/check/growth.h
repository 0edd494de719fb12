/*
 * growth.h - does an operation get slower as the store grows?
 *
 * For every workload: each acknowledged op's cost is set against the size
 * of the store when it started (the number of ops completed before it, from
 * the histories' completion times), and per-op cost is fitted as
 * cost ~ size^exponent.  0 means constant cost per op (total work linear in
 * N); 1 means cost proportional to the store (total work quadratic: the
 * re-read-the-whole-file bug).  `max_growth` gates the exponent, and a case
 * may `expect = superlinear-growth`.
 *
 * Cost is measured four ways.  Latency is what a user feels, but on a shared
 * machine it is also what the neighbours do: a verdict from it depends on
 * the load.  So when the case judges growth and the target runs inside the
 * worker, the worker also records each op's work in its thread: CPU time
 * (CLOCK_THREAD_CPUTIME_ID), bytes read and written and read/write syscalls
 * (/proc/thread-self/io).  None of these counts time spent waiting for the
 * CPU or the disk, so load does not move them; bytes and syscalls do not
 * move at all.  The verdict is then the largest work exponent (an op may
 * grow in CPU alone, or in I/O alone), and the latency exponent is reported
 * beside it.  A target that runs in another process (exec) does its work
 * where the worker cannot count it: there latency decides.
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

/* What a fit measured per op. */
enum contend_growth_measure {
    CONTEND_GROWTH_LATENCY,  /* ns, wall clock */
    CONTEND_GROWTH_CPU,      /* ns of the worker thread's CPU time */
    CONTEND_GROWTH_BYTES,    /* bytes read + written by the worker thread */
    CONTEND_GROWTH_SYSCALLS, /* read + write syscalls of the worker thread */
    CONTEND_GROWTH_MEASURES
};

/* One fit: per-op cost in one measure against store size. */
struct contend_growth {
    bool valid;      /* false: too few ops, or the store barely grew (see why) */
    double exponent; /* per-op cost ~ size^exponent */
    uint64_t ops;    /* ops fitted */
    uint64_t size_max;
    unsigned npoints;                    /* buckets with enough ops */
    double size[CONTEND_GROWTH_BUCKETS]; /* median store size of each bucket */
    double cost[CONTEND_GROWTH_BUCKETS]; /* median cost of each bucket (unit: the measure's) */
    double part[CONTEND_GROWTH_PARTS];   /* the slope of each part of the range */
    char why[96];
};

/* Every fit of a run, and the one that decides. */
struct contend_growths {
    bool valid;      /* the deciding fit is valid */
    double exponent; /* the deciding fit's exponent */
    enum contend_growth_measure decided_by;
    bool work; /* work was measured: the fits other than latency exist */
    struct contend_growth fit[CONTEND_GROWTH_MEASURES];
};

/* One op: the store's size when it started, and its cost. */
struct contend_growth_sample {
    uint64_t size;
    uint64_t cost;
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

/* Samples from the histories of a run, then one fit per measure, and which
 * decides (see the top). */
void contend_growth_of_run(const struct contend_history *h, uint32_t nwriters,
                           struct contend_growths *out);

/* "latency", "cpu", "bytes", "syscalls"; and the unit of a fit's cost. */
const char *contend_growth_measure_name(enum contend_growth_measure m);
const char *contend_growth_measure_unit(enum contend_growth_measure m);

/* Worker side.  Open the calling thread's I/O counters (a descriptor, or a
 * negative errno); read them and the thread's CPU time into *w.  Reading
 * costs two system calls and allocates nothing: it may run in the op loop. */
int contend_work_open(void);
void contend_work_now(int fd, struct contend_work *w);

#endif /* CONTEND_GROWTH_H */
