/*
 * probe.h - a small measure of the machine's speed, taken before and after
 * every repetition of a case, so that `contend compare` can tell a machine
 * that got slower between two runs from code that got slower.
 */
#ifndef CONTEND_PROBE_H
#define CONTEND_PROBE_H

#include <stdbool.h>

struct contend_probe {
    double cpu_mops;    /* millions of iterations of a fixed integer loop per wall second */
    double fsync_per_s; /* 4 KiB write + fdatasync pairs per wall second, in `dir` */
};

/* Measure both, about 25 ms in all.  `dir` is where the fsync probe writes
 * its scratch file (the case directory: the file system the store is on).
 * A figure that could not be measured is 0. */
void contend_probe_measure(const char *dir, struct contend_probe *out);

#endif /* CONTEND_PROBE_H */
