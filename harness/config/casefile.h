/*
 * casefile.h - case.json: how a case travels from the runner to its workers.
 *
 * Workers are exec'd (so the runner can choose their environment, e.g.
 * LD_PRELOAD), which means they cannot inherit the parsed scenario.  The
 * runner writes the case's settings, already validated, to case.json in the
 * case directory; each worker resolves them again exactly as the runner did.
 */
#ifndef CONTEND_CASEFILE_H
#define CONTEND_CASEFILE_H

#include <stdint.h>

#include "scenario.h"

int contend_casefile_write(const char *path, const struct contend_case *c, uint64_t seed);
/* Resolves the case; prints a reason on failure. */
int contend_casefile_read(const char *path, struct contend_case *c);

#endif /* CONTEND_CASEFILE_H */
