/*
 * faults.h - the faults extension's helpers that tests use.
 */
#ifndef CONTEND_FAULTS_H
#define CONTEND_FAULTS_H

#include <stddef.h>

/* The shim library: $CONTEND_FAULT_SHIM, or next to the contend executable
 * (the build tree), or in ../lib/contend/ (installed).  malloc'ed, or NULL
 * when it is nowhere. */
char *contend_faults_shim_path(void);

/* LD_PRELOAD for a worker: the sanitizer runtime this process runs with (a
 * sanitizer insists on being first), the shim, then `existing` (may be NULL).
 * malloc'ed. */
char *contend_faults_preload(const char *shim, const char *existing);

#endif /* CONTEND_FAULTS_H */
