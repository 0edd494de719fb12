/*
 * extension.h - runner extensions: faults, time control, anything that must
 * act on the workers of a case from outside them.
 *
 * An extension owns some scenario keys (validated with file:line like every
 * other key), may own an INI section whose keys it receives as
 * "SECTION.KEY" (so `[time]` + `speed = 100` is the setting `time.speed`),
 * and gets called by the runner at fixed points of every run:
 *
 *   prepare   before any worker starts: create files, decide a plan;
 *   environ   add variables to the workers' environment (LD_PRELOAD, ...);
 *   tick      every few milliseconds while workers run, with their progress;
 *   exited    a worker died or exited while the case ran (planned or not);
 *   finish    always, after the workers are gone: clean up, report.
 *
 * Extensions register themselves like targets (CONTEND_EXTENSION_REGISTER),
 * and are active for a case only when `active` says so, so an extension with
 * nothing configured costs nothing.
 */
#ifndef CONTEND_EXTENSION_H
#define CONTEND_EXTENSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "history.h"
#include "result.h"
#include "scenario.h"

/* Variables for the workers' environment, built per run. */
struct contend_envlist {
    char **v; /* "NAME=value", NULL-terminated */
    size_t n, cap;
};
/* Set NAME=value, replacing an earlier NAME. */
void contend_envlist_set(struct contend_envlist *e, const char *name, const char *value);
/* The value of NAME, or NULL.  Several extensions may add to one variable
 * (LD_PRELOAD): read it, extend it, set it. */
const char *contend_envlist_get(const struct contend_envlist *e, const char *name);

/* What an extension sees of the run in progress. */
struct contend_run_info {
    const struct contend_case *c;
    const char *case_dir;
    const char *store_dir;
    uint64_t seed;                   /* this repetition's seed */
    uint64_t t_go;                   /* the start barrier; 0 before the start */
    const struct contend_history *h; /* one per writer: progress is h[i].hdr->done */
    uint32_t nwriters;
    const pid_t *pids;       /* one per worker process; 0 when not running */
    struct contend_rep *out; /* add violations, stats and events here */
};

struct contend_extension {
    const char *name;
    const char *help;
    const char *section;               /* INI section mapped to "section.key", or NULL */
    const struct contend_option *keys; /* full key names, e.g. "time.speed" */
    /* Optional: check a value; return 0, or -EINVAL with *why malloc'ed. */
    int (*validate)(const char *key, const char *value, char **why);
    /* Is this extension configured for the case? */
    bool (*active)(const struct contend_case *c);
    /* 0, or a negative errno with a reason in ri->out (via contend_rep_error). */
    int (*prepare)(struct contend_run_info *ri, void **state);
    void (*environ)(void *state, const struct contend_run_info *ri, struct contend_envlist *env);
    void (*tick)(void *state, struct contend_run_info *ri, uint64_t now);
    void (*finish)(void *state, struct contend_run_info *ri);
    /* Optional: worker `worker` was reaped with wait status `status` while the
     * case ran.  Return true when the extension caused it (a planned kill):
     * the runner then does not report it as a crash.  The extension may
     * start it again with contend_run_restart() (runner.h). */
    bool (*exited)(void *state, struct contend_run_info *ri, uint32_t worker, int status);
};

void contend_register_extension(const struct contend_extension *x);
size_t contend_all_extensions(const struct contend_extension *const **out);
#define CONTEND_EXTENSION_REGISTER(sym)                                                            \
    __attribute__((constructor)) static void contend_register_ext_##sym(void)                      \
    {                                                                                              \
        contend_register_extension(&(sym));                                                        \
    }

#endif /* CONTEND_EXTENSION_H */
