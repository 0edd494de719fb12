/*
 * runner.h - running one repetition of a case.
 */
#ifndef CONTEND_RUNNER_H
#define CONTEND_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "extension.h"
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

/* Run repetition `rep` (seed c->seed + rep).  Returns 0 with the result in
 * *out, or CONTEND_EXIT_INTERRUPTED (out->case_dir says what was kept). */
int contend_run_case(const struct contend_case *c, uint32_t rep, const struct contend_run_opts *o,
                     struct contend_rep *out);

/* For extensions, from their tick and exited hooks while the case runs. */

/* Start worker `worker` again (after it died); its threads continue their
 * histories.  -ECANCELED once the case is ending. */
int contend_run_restart(struct contend_run_info *ri, uint32_t worker);
/* SIGKILL every worker and reap them; was_alive[procs] says which were
 * running.  Their deaths go through the extensions' exited hooks. */
void contend_run_stop_all(struct contend_run_info *ri, bool *was_alive);
/* Run the target's recover() in a fresh worker (`__worker ... --recover`,
 * same environment) and wait for it; *code is its exit status. */
int contend_run_recover(struct contend_run_info *ri, int *code);
/* The environment the target's parent-side hooks (read_state) get. */
void contend_run_parent_env(struct contend_run_info *ri, struct contend_env *env);

#endif /* CONTEND_RUNNER_H */
