/*
 * runner.h - running one repetition of a case.
 */
#ifndef CONTEND_RUNNER_H
#define CONTEND_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "result.h"
#include "scenario.h"

struct contend_run_info;

struct contend_run_opts {
    const char *root_dir; /* the run directory; each case gets a subdirectory */
    bool keep;            /* keep case directories of passing cases */
    /* Optional: called every few ms while the workers run, with their
     * progress in ri->h[i].hdr->done (a progress line on a terminal). */
    void (*progress)(void *ctx, const struct contend_run_info *ri, uint64_t now);
    void *progress_ctx;
};

/* Once per process: signal handlers, the path of our own executable. */
int contend_runner_init(void);
/* The signal that interrupted the run, or 0. */
int contend_runner_interrupted(void);

/* Run repetition `rep` (seed c->seed + rep).  Returns 0 with the result in
 * *out, or CONTEND_EXIT_INTERRUPTED (out->case_dir says what was kept). */
int contend_run_case(const struct contend_case *c, uint32_t rep, const struct contend_run_opts *o,
                     struct contend_rep *out);

#endif /* CONTEND_RUNNER_H */
