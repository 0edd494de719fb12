/*
 * check.h - from histories and final state to a verdict.
 */
#ifndef CONTEND_CHECK_H
#define CONTEND_CHECK_H

#include "history.h"
#include "result.h"
#include "scenario.h"

/* Figures from the histories, the target's final state, the workload's
 * checker.  `t0` is the start barrier on the workers' clock. */
void contend_check_run(const struct contend_case *c, const struct contend_env *env,
                       const struct contend_history *h, uint32_t nwriters, uint64_t t0,
                       struct contend_rep *out);

/* The verdict: expected kinds found, no unexpected violation, gates. */
void contend_judge(const struct contend_case *c, struct contend_rep *out);

/* The exit code one repetition asks for (enum contend_exit). */
int contend_rep_exit_code(const struct contend_rep *rep);

/* The more severe of two exit codes: 4 over 1 over 3 over 0. */
int contend_exit_merge(int a, int b);

#endif /* CONTEND_CHECK_H */
