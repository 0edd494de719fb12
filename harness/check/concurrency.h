/*
 * concurrency.h - how much concurrency a run saw, and when a clean run
 * proves too little (verdict `inconclusive`).
 */
#ifndef CONTEND_CONCURRENCY_H
#define CONTEND_CONCURRENCY_H

#include "history.h"
#include "result.h"
#include "scenario.h"

/* The overlap floor of a workload: below it a clean run is inconclusive. */
double contend_overlap_floor(const char *workload);
/* Fill rep->conc from the histories: the share of ops whose
 * [invocation, completion] overlaps another op's on the same key. */
void contend_concurrency_measure(const struct contend_case *c, const struct contend_writer_hist *w,
                                 size_t nw, struct contend_rep *rep);
/* A case without `expect` that found nothing with overlap under the floor,
 * and (under a controlled schedule) no hand-off inside a critical window, is
 * inconclusive: rep->conc.inconclusive says why and rep->ok turns false. */
void contend_judge_inconclusive(const struct contend_case *c, struct contend_rep *rep);

#endif /* CONTEND_CONCURRENCY_H */
