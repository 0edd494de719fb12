/*
 * runjson.h - building and writing run.json.
 */
#ifndef CONTEND_RUNJSON_H
#define CONTEND_RUNJSON_H

#include <jansson.h>
#include <stdint.h>

#include "caseresult.h"
#include "result.h"
#include "scenario.h"

const char *contend_version(void);
json_t *contend_runjson_new(const char *scenario, const char *path, uint64_t seed, int argc,
                            char **argv, const char *run_dir);
/* The case's entry from its result (built by contend_case_result_of): its
 * figures, verdict, violations and every repetition.  NULL when it cannot
 * be serialized. */
json_t *contend_case_result_json(const struct contend_case_result *r);
/* The same from the repetitions, through a struct contend_case_result. */
json_t *contend_runjson_case(const struct contend_case *c, const struct contend_rep *reps,
                             uint32_t nreps);
/* Atomically (temp + fsync + rename). */
int contend_runjson_write(json_t *run, const char *path);

#endif /* CONTEND_RUNJSON_H */
