/*
 * result.h - what one run of a case found: figures, violations, verdict.
 *
 * A case runs `repeat` times (seeds seed .. seed + repeat - 1); each run is a
 * struct contend_rep.  Checkers add violations through contend_check_report(),
 * which also records up to CONTEND_MAX_WITNESS ops from the history that show
 * the problem, for the explanation and the report's timeline.
 */
#ifndef CONTEND_RESULT_H
#define CONTEND_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "growth.h"
#include "history.h"
#include "scenario.h"
#include "stats.h"
#include "workload.h"

#define CONTEND_MAX_WITNESS 8

struct contend_witness {
    uint32_t worker, thread, writer;
    uint64_t index; /* record index in the writer's history */
    struct contend_record rec;
};

struct contend_violation {
    char *kind;
    uint64_t count;
    char *message;
    struct contend_witness witness[CONTEND_MAX_WITNESS];
    unsigned nwitness;
    /* The ops around the witnesses, lane by lane (context.c), or NULL. */
    struct contend_witness *context;
    unsigned ncontext;
};

struct contend_stat {
    char *name;
    double value;
};

/* Something that happened to the run, not in it: a fault, a clock jump.
 * Times are ns since the start barrier; dur_ns is 0 for an instant. */
struct contend_event {
    uint64_t t_ns;
    uint64_t dur_ns;
    char *kind;
    char *detail;
};

/* One repetition of a case. */
struct contend_rep {
    uint64_t seed;
    uint64_t t0; /* the start barrier, on the workers' clock */
    bool ok;     /* as expected */
    bool error;  /* the harness could not run it: see error_msg */
    char *error_msg;
    bool gate_failed;
    char *gate_msg;
    char *missing; /* expected kinds not found, comma-separated, or NULL */
    /* Why the run cannot be judged (too little evidence), or NULL.  Set by
     * contend_judge(); the verdict is then `inconclusive` and ok is false. */
    char *inconclusive;
    uint64_t n_ok, n_fail, n_info;
    uint64_t retries;
    uint64_t busy; /* ops that did not succeed because the store was busy (err EBUSY) */
    double duration_s, tps;
    struct contend_hist *hist;
    uint32_t *series;
    size_t nseries;
    struct contend_violation *v;
    size_t nv;
    struct contend_stat *stats;
    size_t nstats;
    struct contend_event *events;
    size_t nevents;
    char *case_dir; /* kept on failure or with --keep, else NULL */
    char *repro;
    struct contend_growths growth; /* per-op cost against store size */
    /* The controlled schedule (schedext.c), when schedule != os. */
    struct contend_sched_info {
        const char *mode; /* "random" or "pct"; NULL under the OS */
        char *file;       /* the schedule file, next to the case directory */
        char sha256[65];
        uint64_t steps, handoffs, window_handoffs, block_yields;
        bool replayable; /* the log held every decision */
        bool diverged;   /* a replay could not follow its schedule */
        char *fallback;  /* why the watchdog let the OS schedule, or NULL */
    } sched;
    /* How much concurrency the run saw (concurrency.c). */
    struct contend_concurrency {
        bool valid;
        uint64_t ops, overlapping; /* ops on a key, of which overlapped another on that key */
        double overlap;            /* overlapping / ops */
        double floor;              /* the workload's floor */
        bool below_floor;          /* judged, clean, and under the floor */
        char *inconclusive;        /* why a clean run proves little, or NULL */
    } conc;
    /* The machine probe before [0] and after [1] the repetition (probe.h);
     * `probed` is false when the repetition never started. */
    bool probed;
    double probe_cpu[2], probe_fsync[2];
};

/* What a workload's check() gets. */
struct contend_check {
    const struct contend_case *c;
    const struct contend_writer_hist *w;
    size_t nw;
    const struct contend_kv *state; /* sorted by key */
    size_t nstate;
    bool has_state; /* false for targets without state (null) */
    const char *store_dir;
    uint64_t t0; /* the start barrier, on the workers' clock */
    struct contend_rep *rep;
};

void contend_check_report(struct contend_check *chk, const char *kind, uint64_t count,
                          const struct contend_witness *w, unsigned nw, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void contend_rep_add_violation(struct contend_rep *rep, const char *kind, uint64_t count,
                               const struct contend_witness *w, unsigned nw, const char *msg);
void contend_rep_add_stat(struct contend_rep *rep, const char *name, double value);
void contend_rep_add_event(struct contend_rep *rep, uint64_t t_ns, uint64_t dur_ns,
                           const char *kind, const char *detail);
/* The harness could not run this repetition; the first reason is kept. */
void contend_rep_error(struct contend_rep *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool contend_rep_has(const struct contend_rep *rep, const char *kind);
void contend_rep_free(struct contend_rep *rep);

/* Witness for record `idx` of writer `w`. */
struct contend_witness contend_witness_of(const struct contend_writer_hist *w, uint64_t idx);
/* "worker 1 op #12 (incr k0 = 42, +1.250..1.300 ms)" into buf. */
const char *contend_witness_str(const struct contend_witness *w, uint64_t t0, char *buf,
                                size_t len);

/* The final state value of `key`, or `def` when the state does not have it. */
int64_t contend_state_get(const struct contend_check *chk, uint64_t key, int64_t def);

#endif /* CONTEND_RESULT_H */
