/*
 * clock.h - the real clock, for when the worker's clock is not.
 *
 * Under time control (harness/ext/time/timectl.c) a worker runs with libfaketime
 * preloaded, and clock_gettime() answers with the faked time: sped up, or
 * stepped.  That is the point for the history, whose times must be the ones
 * the target saw; it is wrong for latencies and throughput, which must stay
 * honest.  contend_real_now_ns() reads CLOCK_MONOTONIC through the C
 * library's own clock_gettime, found by handle in libc.so.6, which an
 * LD_PRELOAD'ed interposer does not intercept (it still uses the vDSO, so it
 * costs what an ordinary clock read costs).
 */
#ifndef CONTEND_CLOCK_H
#define CONTEND_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC as the kernel keeps it, whatever is preloaded. */
uint64_t contend_real_now_ns(void);

/* True when clock_gettime(CLOCK_MONOTONIC) in this process differs from the
 * real one (by more than a second: libfaketime puts it on the wall clock's
 * scale, decades away from the time since boot). */
bool contend_clock_is_faked(void);

#endif /* CONTEND_CLOCK_H */
