/*
 * caseresult.h - the result of a case in C: what run.json says about it.
 *
 * run.json is the data model every report is rendered from.  This struct is
 * that model for one case, so that its shape is written down once, in C,
 * rather than spread over string literals: the runner fills it from the
 * case's repetitions (contend_case_result_of: medians, sums, merged
 * violations, the verdict and exit code), runjson.c writes the case's entry
 * from it, and the reports, compare and sweep read an entry back into it
 * (contend_case_result_read).
 *
 * Strings and per-run data are borrowed, never copied: from the case and
 * its repetitions when the result is built, from the JSON entry when it is
 * read.  The result is valid while they are; contend_case_result_free()
 * releases what the result itself allocated and keeps the scalars (verdict,
 * exit code, counts, figures), so that a run's exit code is computed from
 * the results of cases whose repetitions are gone (cmd_run.c, cmd_replay.c).
 */
#ifndef CONTEND_CASERESULT_H
#define CONTEND_CASERESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "scenario.h"

/* The verdict of a case or of one run, as docs/run-json.md names it. */
enum contend_verdict {
    CONTEND_VERDICT_UNKNOWN, /* read: missing, or a name this version does not know */
    CONTEND_VERDICT_PASS,
    CONTEND_VERDICT_FOUND, /* the expected violation was found */
    CONTEND_VERDICT_FAIL,
    CONTEND_VERDICT_GATE,  /* a performance gate failed */
    CONTEND_VERDICT_ERROR, /* the harness could not run it */
    CONTEND_VERDICT_INCONCLUSIVE,
};

/* "pass", "found", "fail", "gate", "error", "inconclusive"; "" for unknown. */
const char *contend_verdict_name(enum contend_verdict v);
/* The verdict named s, or CONTEND_VERDICT_UNKNOWN (also for NULL). */
enum contend_verdict contend_verdict_parse(const char *s);
/* The verdict of one repetition of c. */
enum contend_verdict contend_rep_verdict(const struct contend_case *c, const struct contend_rep *r);

/* The figures of a run or a case, as run.json rounds them (3 decimals);
 * NAN where there is none (no latency without an acknowledged op). */
enum contend_fig {
    CONTEND_FIG_TPS,
    CONTEND_FIG_DURATION,
    CONTEND_FIG_P50,
    CONTEND_FIG_P90,
    CONTEND_FIG_P99,
    CONTEND_FIG_P999,
    CONTEND_FIG_MAX,
    CONTEND_FIG_MEAN,
    CONTEND_FIGS
};
#define CONTEND_FIG_LATENCY CONTEND_FIG_P50 /* the first latency figure */

/* Names: "throughput_tps", "duration_s", then the latency_us members "p50"
 * ... "mean"; and the names of "summary" ("p50_us", ...). */
const char *contend_fig_name(enum contend_fig f);
const char *contend_fig_summary_name(enum contend_fig f);

/* The figures of one repetition, rounded as run.json writes them. */
void contend_rep_figures(const struct contend_rep *r, double fig[CONTEND_FIGS]);

/* A figure over the repetitions: n of them had it. */
struct contend_spread {
    unsigned n;
    double median, min, max;
    double spread_pct; /* (max - min) / median, in percent; 0 when the median is not > 0 */
};

/* The latency percentile curve: these percentiles, the value in µs. */
#define CONTEND_CURVE_POINTS 14
extern const double contend_curve_pcts[CONTEND_CURVE_POINTS];

/* A violation kind over the case's repetitions. */
struct contend_case_violation {
    const char *kind;
    const char *message; /* the first run's message, or NULL */
    uint64_t count;      /* summed over the runs */
    uint32_t runs;       /* runs that reported it; 0 when an entry does not say */
    /* Built: the first report of the kind, whose witnesses stand for it. */
    const struct contend_violation *first;
    uint64_t t0; /* its run's start barrier */
    /* Read: the JSON entry, for its "ops" and "context". */
    const json_t *entry;
};

/* Faults injected into the case over its repetitions, by kind. */
#define CONTEND_FAULT_KINDS 16
struct contend_fault_count {
    const char *kind;
    uint64_t count;
};

struct contend_case_result {
    /* The case as it was run. */
    const char *name, *description, *workload, *target, *variant, *expect;
    uint32_t procs, threads;
    uint64_t ops_per_thread, keys, seed, perturb_us;
    double duration_target_s; /* NAN: the case ran by op count */
    struct contend_gates {
        double min_tps, max_p99_us, max_growth; /* NAN when unset */
    } gates;

    /* The verdict: that of the first failed run, or of the first run. */
    enum contend_verdict verdict;
    bool ok;       /* every run as expected */
    int exit_code; /* enum contend_exit, the worst of the runs' */
    uint32_t nruns, failed_runs;
    /* Of the run shown (the first failed one, or the first); NULL when none. */
    const char *error, *missing, *inconclusive_reason, *gate, *case_dir, *repro;

    /* Figures: op counts summed, the others the median of the runs'. */
    uint64_t n_ok, n_fail, n_info;
    uint64_t busy, retries;   /* of the run shown (its "stats") */
    double fig[CONTEND_FIGS]; /* NAN when no run had it */
    struct contend_spread summary[CONTEND_FIGS];
    double curve_us[CONTEND_CURVE_POINTS]; /* NAN when no run had a curve */
    double growth_exponent;                /* median of the runs' fits, NAN when none */

    struct contend_case_violation *violations; /* merged by kind, in order of first report */
    size_t nviolations;
    struct contend_fault_count faults[CONTEND_FAULT_KINDS]; /* the first 16 kinds */
    size_t nfaults;

    /* Per repetition: when built, the case, its runs and the one shown;
     * when read, the entry's "runs" array and the entry itself. */
    const struct contend_case *c;
    const struct contend_rep *reps;
    size_t shown;
    const json_t *runs;
    const json_t *entry;
};

/* Fill *out from the repetitions of c (nreps >= 1): the aggregation over
 * repetitions.  Free with contend_case_result_free(). */
void contend_case_result_of(const struct contend_case *c, const struct contend_rep *reps,
                            uint32_t nreps, struct contend_case_result *out);

/* Read a case entry of run.json.  Every field that is there and well typed
 * is filled, the others read as NULL / NAN / 0 / UNKNOWN, so a report can
 * render whatever is there.  0 when the entry has every field the schema
 * requires of a case, well typed; -EINVAL otherwise (and for a NULL or
 * non-object entry).  Free with contend_case_result_free() either way. */
int contend_case_result_read(const json_t *entry, struct contend_case_result *out);

/* One repetition as a case entry's "runs" has it: what compare weighs. */
struct contend_run_result {
    uint64_t seed;
    bool ok;
    enum contend_verdict verdict;
    double fig[CONTEND_FIGS]; /* NAN when none */
    /* The machine probe before [0] and after [1]; NAN when none. */
    double probe_cpu[2], probe_fsync[2];
    bool probed; /* both probes have two numbers */
};

/* Read one entry of "runs"; the same rules as contend_case_result_read
 * (0, or -EINVAL with what is there filled). */
int contend_run_result_read(const json_t *entry, struct contend_run_result *out);

/* Release what the result allocated and forget what it borrowed; the
 * scalars (verdict, ok, exit code, counts, figures) stay valid. */
void contend_case_result_free(struct contend_case_result *r);

/* The exit code of a run: the worst of its cases' (4 over 1 over 3 over 0). */
int contend_case_results_exit_code(const struct contend_case_result *r, size_t n);

#endif /* CONTEND_CASERESULT_H */
