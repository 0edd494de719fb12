/*
 * point.h - the harness side of contend_point() (declared in target.h).
 */
#ifndef CONTEND_POINT_H
#define CONTEND_POINT_H

#include <stdint.h>

/* Once per worker process: the maximum sleep in µs, 0 = off. */
void contend_point_setup(uint64_t max_us);
/* Before every op, in the thread that runs it. */
void contend_point_seed(uint64_t seed, uint32_t writer, uint64_t idx);
/* The fault plan's hook for one op (harness/ext/faults/inject.c): called at the
 * next perturbation point in this thread, before any sleep; NULL disarms. */
void contend_point_hook(void (*fn)(void *arg, const char *name), void *arg);

#endif /* CONTEND_POINT_H */
