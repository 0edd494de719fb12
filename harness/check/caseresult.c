/*
 * caseresult.c - a case's result from its repetitions, and from run.json.
 *
 * The figures are aggregated from each run's figures as run.json rounds
 * them (3 decimals), then rounded again: the case's median is the median of
 * the numbers a reader sees in "runs", whether it is computed here or by
 * anyone from the file.  The reader is the one place that knows which fields
 * a case entry must have and of which type (docs/schema/run.schema.json);
 * whatever is missing or mistyped reads as nothing, and the caller learns
 * that the entry was not a complete case.
 */
#include "caseresult.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stats.h"
#include "util.h"

static const char *const verdict_names[] = {
    [CONTEND_VERDICT_UNKNOWN] = "",
    [CONTEND_VERDICT_PASS] = "pass",
    [CONTEND_VERDICT_FOUND] = "found",
    [CONTEND_VERDICT_FAIL] = "fail",
    [CONTEND_VERDICT_GATE] = "gate",
    [CONTEND_VERDICT_ERROR] = "error",
    [CONTEND_VERDICT_INCONCLUSIVE] = "inconclusive",
};
#define NVERDICTS (sizeof verdict_names / sizeof verdict_names[0])

const char *contend_verdict_name(enum contend_verdict v)
{
    return (size_t)v < NVERDICTS ? verdict_names[v] : "";
}

enum contend_verdict contend_verdict_parse(const char *s)
{
    for (size_t i = 1; s && i < NVERDICTS; i++)
        if (strcmp(s, verdict_names[i]) == 0)
            return (enum contend_verdict)i;
    return CONTEND_VERDICT_UNKNOWN;
}

enum contend_verdict contend_rep_verdict(const struct contend_case *c, const struct contend_rep *r)
{
    if (r->error)
        return CONTEND_VERDICT_ERROR;
    if (r->inconclusive)
        return CONTEND_VERDICT_INCONCLUSIVE;
    if (!r->ok)
        return CONTEND_VERDICT_FAIL;
    if (r->gate_failed)
        return CONTEND_VERDICT_GATE;
    return c->expect ? CONTEND_VERDICT_FOUND : CONTEND_VERDICT_PASS;
}

static const char *const fig_names[CONTEND_FIGS] = {
    "throughput_tps", "duration_s", "p50", "p90", "p99", "p999", "max", "mean",
};
static const char *const fig_summary_names[CONTEND_FIGS] = {
    "throughput_tps", "duration_s", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us",
};

const char *contend_fig_name(enum contend_fig f)
{
    return (unsigned)f < CONTEND_FIGS ? fig_names[f] : "";
}

const char *contend_fig_summary_name(enum contend_fig f)
{
    return (unsigned)f < CONTEND_FIGS ? fig_summary_names[f] : "";
}

const double contend_curve_pcts[CONTEND_CURVE_POINTS] = {
    0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100,
};

static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

void contend_rep_figures(const struct contend_rep *r, double fig[CONTEND_FIGS])
{
    static const double q[] = {0.50, 0.90, 0.99, 0.999};
    const struct contend_hist *h = r->hist;
    fig[CONTEND_FIG_TPS] = round3(r->tps);
    fig[CONTEND_FIG_DURATION] = round3(r->duration_s);
    for (int f = CONTEND_FIG_LATENCY; f < CONTEND_FIGS; f++)
        fig[f] = NAN;
    if (!h || h->count == 0)
        return;
    for (int i = 0; i < 4; i++)
        fig[CONTEND_FIG_P50 + i] = round3((double)contend_hist_quantile(h, q[i]) / 1e3);
    fig[CONTEND_FIG_MAX] = round3((double)h->max / 1e3);
    fig[CONTEND_FIG_MEAN] = round3((double)h->sum / (double)h->count / 1e3);
}

/* Median, min, max and spread of the numbers among v[0..n) (NAN = none). */
static struct contend_spread spread_of(const double *v, size_t n, double *scratch)
{
    struct contend_spread s = {.median = NAN, .min = NAN, .max = NAN};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        scratch[s.n++] = v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    if (s.n == 0)
        return s;
    s.median = round3(contend_median(scratch, s.n));
    s.min = round3(lo);
    s.max = round3(hi);
    /* From the unrounded median, as the summary has always been computed. */
    double med = contend_median(scratch, s.n);
    s.spread_pct = round3(med > 0 ? (hi - lo) / med * 100 : 0);
    return s;
}

/* The run whose details stand for the case: the first that failed. */
static size_t shown_run(const struct contend_rep *reps, uint32_t nreps)
{
    for (uint32_t i = 0; i < nreps; i++)
        if (contend_rep_exit_code(&reps[i]) != CONTEND_EXIT_OK)
            return i;
    return 0;
}

static void merge_violations(const struct contend_rep *reps, uint32_t nreps,
                             struct contend_case_result *out)
{
    size_t total = 0;
    for (uint32_t i = 0; i < nreps; i++)
        total += reps[i].nv;
    out->violations = total ? contend_calloc(total, sizeof *out->violations) : NULL;
    for (uint32_t i = 0; i < nreps; i++) {
        for (size_t j = 0; j < reps[i].nv; j++) {
            const struct contend_violation *v = &reps[i].v[j];
            size_t k = 0;
            while (k < out->nviolations && strcmp(out->violations[k].kind, v->kind) != 0)
                k++;
            struct contend_case_violation *m = &out->violations[k];
            if (k == out->nviolations) {
                out->nviolations++;
                *m = (struct contend_case_violation){
                    .kind = v->kind, .message = v->message, .first = v, .t0 = reps[i].t0};
            }
            m->count += v->count;
            m->runs++;
        }
    }
}

static void count_fault(struct contend_case_result *out, const char *kind)
{
    size_t x = 0;
    while (x < out->nfaults && strcmp(out->faults[x].kind, kind) != 0)
        x++;
    if (x == out->nfaults && out->nfaults < CONTEND_FAULT_KINDS)
        out->faults[out->nfaults++] = (struct contend_fault_count){.kind = kind};
    if (x < out->nfaults)
        out->faults[x].count++;
}

/* Figures over the runs: each figure's median and spread; the curve's
 * medians point by point; the growth exponent's median. */
static void aggregate_figures(const struct contend_rep *reps, uint32_t nreps,
                              struct contend_case_result *out)
{
    double *fig = contend_calloc((size_t)nreps * CONTEND_FIGS, sizeof *fig);
    double *v = contend_calloc(nreps, sizeof *v), *scratch = contend_calloc(nreps, sizeof *v);
    for (uint32_t i = 0; i < nreps; i++)
        contend_rep_figures(&reps[i], &fig[(size_t)i * CONTEND_FIGS]);
    for (int f = 0; f < CONTEND_FIGS; f++) {
        for (uint32_t i = 0; i < nreps; i++)
            v[i] = fig[(size_t)i * CONTEND_FIGS + f];
        out->summary[f] = spread_of(v, nreps, scratch);
        out->fig[f] = out->summary[f].median;
    }
    for (size_t p = 0; p < CONTEND_CURVE_POINTS; p++) {
        for (uint32_t i = 0; i < nreps; i++) {
            const struct contend_hist *h = reps[i].hist;
            v[i] =
                h && h->count
                    ? round3((double)contend_hist_quantile(h, contend_curve_pcts[p] / 100.0) / 1e3)
                    : NAN;
        }
        out->curve_us[p] = spread_of(v, nreps, scratch).median;
    }
    for (uint32_t i = 0; i < nreps; i++) {
        const struct contend_growths *g = &reps[i].growth;
        const struct contend_growth *fit = &g->fit[g->decided_by];
        v[i] = !reps[i].error && fit->valid ? round3(fit->exponent) : NAN;
    }
    out->growth_exponent = spread_of(v, nreps, scratch).median;
    free(fig);
    free(v);
    free(scratch);
}

void contend_case_result_of(const struct contend_case *c, const struct contend_rep *reps,
                            uint32_t nreps, struct contend_case_result *out)
{
    *out = (struct contend_case_result){
        .name = c->name,
        .description = c->description,
        .workload = c->workload,
        .target = c->target,
        .variant = c->variant,
        .expect = c->expect,
        .procs = c->procs,
        .threads = c->threads,
        .ops_per_thread = c->ops,
        .keys = c->keys,
        .seed = c->seed,
        .perturb_us = c->perturb_us,
        .duration_target_s = c->duration_ns ? round3((double)c->duration_ns / 1e9) : NAN,
        .gates = {c->min_tps, c->max_p99_us, c->max_growth},
        .exit_code = CONTEND_EXIT_OK,
        .nruns = nreps,
        .c = c,
        .reps = reps,
    };
    for (uint32_t i = 0; i < nreps; i++) {
        int rc = contend_rep_exit_code(&reps[i]);
        out->failed_runs += rc != CONTEND_EXIT_OK;
        out->exit_code = contend_exit_merge(out->exit_code, rc);
        out->n_ok += reps[i].n_ok;
        out->n_fail += reps[i].n_fail;
        out->n_info += reps[i].n_info;
        for (size_t e = 0; e < reps[i].nevents; e++)
            count_fault(out, reps[i].events[e].kind);
    }
    out->ok = out->exit_code == CONTEND_EXIT_OK;
    out->shown = shown_run(reps, nreps);
    const struct contend_rep *s = &reps[out->shown];
    out->verdict = contend_rep_verdict(c, s);
    out->error = s->error_msg;
    out->missing = s->missing;
    out->inconclusive_reason = s->inconclusive;
    out->gate = s->gate_msg;
    out->case_dir = s->case_dir;
    out->repro = s->repro;
    out->busy = s->busy;
    out->retries = s->retries;
    aggregate_figures(reps, nreps, out);
    merge_violations(reps, nreps, out);
}

/* ---- reading a case entry ------------------------------------------------ */

/* Each reader fills its field when the member has the type, and clears
 * *ok when a required member does not. */
static const char *get_str(const json_t *o, const char *key, bool nullable, bool *ok)
{
    const json_t *x = json_object_get(o, key);
    if (json_is_string(x))
        return json_string_value(x);
    if (ok && !(nullable && json_is_null(x)))
        *ok = false;
    return NULL;
}

static double get_num(const json_t *o, const char *key, bool *ok)
{
    const json_t *x = json_object_get(o, key);
    if (json_is_number(x))
        return json_number_value(x);
    if (ok && !json_is_null(x))
        *ok = false;
    return NAN;
}

/* A count: a non-negative integer. */
static uint64_t get_count(const json_t *o, const char *key, bool *ok)
{
    const json_t *x = json_object_get(o, key);
    if (json_is_integer(x) && json_integer_value(x) >= 0)
        return (uint64_t)json_integer_value(x);
    if (ok)
        *ok = false;
    return 0;
}

static void read_violations(const json_t *vs, struct contend_case_result *out, bool *ok)
{
    size_t n = json_array_size(vs), i;
    const json_t *v;
    if (!json_is_array(vs))
        *ok = false;
    out->violations = n ? contend_calloc(n, sizeof *out->violations) : NULL;
    json_array_foreach (vs, i, v) {
        bool good = json_is_object(v);
        struct contend_case_violation m = {.entry = v};
        m.kind = get_str(v, "kind", false, &good);
        m.count = get_count(v, "count", &good);
        m.message = get_str(v, "message", true, &good);
        if (json_object_get(v, "runs"))
            m.runs = (uint32_t)get_count(v, "runs", &good);
        /* A violation without a kind cannot be named: it is left out. */
        if (m.kind)
            out->violations[out->nviolations++] = m;
        *ok &= good;
    }
}

static void read_faults(const json_t *entry, const json_t *runs, struct contend_case_result *out)
{
    size_t n = json_array_size(runs), i, j;
    const json_t *e;
    for (i = 0; i < n || (i == 0 && n == 0); i++) {
        const json_t *events = n ? json_object_get(json_array_get(runs, i), "events")
                                 : json_object_get(entry, "events");
        json_array_foreach (events, j, e) {
            const char *k = json_string_value(json_object_get(e, "kind"));
            count_fault(out, k ? k : "");
        }
    }
}

static void read_summary(const json_t *sum, struct contend_case_result *out)
{
    for (int f = 0; f < CONTEND_FIGS; f++) {
        const json_t *x = json_object_get(sum, fig_summary_names[f]);
        struct contend_spread *s = &out->summary[f];
        *s = (struct contend_spread){.median = NAN, .min = NAN, .max = NAN, .spread_pct = NAN};
        if (!json_is_object(x))
            continue;
        json_int_t n = json_integer_value(json_object_get(x, "n"));
        s->n = n > 0 && n < 1000000000 ? (unsigned)n : 0;
        s->median = get_num(x, "median", NULL);
        s->min = get_num(x, "min", NULL);
        s->max = get_num(x, "max", NULL);
        s->spread_pct = get_num(x, "spread_pct", NULL);
    }
}

static void read_curve(const json_t *curve, struct contend_case_result *out)
{
    for (size_t p = 0; p < CONTEND_CURVE_POINTS; p++)
        out->curve_us[p] = NAN;
    size_t i;
    const json_t *pt;
    json_array_foreach (curve, i, pt) {
        const json_t *pct = json_array_get(pt, 0), *us = json_array_get(pt, 1);
        if (!json_is_number(pct) || !json_is_number(us))
            continue;
        for (size_t p = 0; p < CONTEND_CURVE_POINTS; p++)
            if (contend_curve_pcts[p] == json_number_value(pct))
                out->curve_us[p] = json_number_value(us);
    }
}

int contend_case_result_read(const json_t *entry, struct contend_case_result *out)
{
    bool ok = json_is_object(entry);
    memset(out, 0, sizeof *out);
    out->entry = entry;
    out->name = get_str(entry, "name", false, &ok);
    out->description = get_str(entry, "description", true, NULL);
    out->workload = get_str(entry, "workload", false, &ok);
    out->target = get_str(entry, "target", false, &ok);
    out->variant = get_str(entry, "variant", false, &ok);
    out->expect = get_str(entry, "expect", true, &ok);
    uint64_t procs = get_count(entry, "procs", &ok), threads = get_count(entry, "threads", &ok);
    out->procs = procs <= UINT32_MAX ? (uint32_t)procs : 0;
    out->threads = threads <= UINT32_MAX ? (uint32_t)threads : 0;
    out->ops_per_thread = get_count(entry, "ops_per_thread", NULL);
    out->keys = get_count(entry, "keys", NULL);
    out->seed = get_count(entry, "seed", &ok);
    out->perturb_us = get_count(entry, "perturb_us", NULL);
    out->duration_target_s = get_num(entry, "duration_target_s", NULL);
    const json_t *gates = json_object_get(entry, "gates");
    out->gates =
        (struct contend_gates){get_num(gates, "min_tps", NULL), get_num(gates, "max_p99_us", NULL),
                               get_num(gates, "max_growth", NULL)};

    const json_t *x = json_object_get(entry, "ok");
    if (!json_is_boolean(x))
        ok = false;
    out->ok = json_is_true(x);
    out->verdict = contend_verdict_parse(get_str(entry, "verdict", false, &ok));
    ok &= out->verdict != CONTEND_VERDICT_UNKNOWN;
    x = json_object_get(entry, "exit_code");
    if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
        ok = false;
    else
        out->exit_code = (int)json_integer_value(x);
    out->runs = json_object_get(entry, "runs");
    if (!json_is_array(out->runs))
        ok = false;
    out->nruns = (uint32_t)json_array_size(out->runs);
    out->failed_runs = (uint32_t)get_count(entry, "failed_runs", NULL);
    out->error = get_str(entry, "error", false, NULL);
    out->missing = get_str(entry, "missing", false, NULL);
    out->inconclusive_reason = get_str(entry, "inconclusive_reason", false, NULL);
    out->gate = get_str(entry, "gate", false, NULL);
    out->case_dir = get_str(entry, "case_dir", false, NULL);
    out->repro = get_str(entry, "repro", true, &ok);

    const json_t *ops = json_object_get(entry, "ops");
    if (!json_is_object(ops))
        ok = false;
    out->n_ok = get_count(ops, "ok", &ok);
    out->n_fail = get_count(ops, "fail", &ok);
    out->n_info = get_count(ops, "info", &ok);
    const json_t *stats = json_object_get(entry, "stats");
    out->busy = get_count(stats, "busy", NULL);
    out->retries = get_count(stats, "retries", NULL);
    out->fig[CONTEND_FIG_TPS] = get_num(entry, "throughput_tps", &ok);
    out->fig[CONTEND_FIG_DURATION] = get_num(entry, "duration_s", &ok);
    const json_t *lat = json_object_get(entry, "latency_us");
    if (!json_is_object(lat))
        ok = false;
    /* "mean" came later than the others: it is not required. */
    for (int f = CONTEND_FIG_LATENCY; f < CONTEND_FIGS; f++)
        out->fig[f] = get_num(lat, fig_names[f], f == CONTEND_FIG_MEAN ? NULL : &ok);
    out->growth_exponent = get_num(json_object_get(entry, "growth"), "exponent", NULL);
    read_summary(json_object_get(entry, "summary"), out);
    read_curve(json_object_get(entry, "latency_curve_us"), out);
    read_violations(json_object_get(entry, "violations"), out, &ok);
    read_faults(entry, out->runs, out);
    return ok ? 0 : -EINVAL;
}

/* A pair [before, after] of numbers; false when it is not one. */
static bool get_pair(const json_t *o, const char *key, double out[2])
{
    const json_t *a = json_object_get(o, key);
    bool ok = json_array_size(a) == 2;
    for (size_t i = 0; i < 2; i++) {
        const json_t *x = json_array_get(a, i);
        out[i] = json_is_number(x) ? json_number_value(x) : NAN;
        ok &= json_is_number(x);
    }
    return ok;
}

int contend_run_result_read(const json_t *entry, struct contend_run_result *out)
{
    bool ok = json_is_object(entry);
    memset(out, 0, sizeof *out);
    out->seed = get_count(entry, "seed", &ok);
    const json_t *x = json_object_get(entry, "ok");
    ok &= json_is_boolean(x);
    out->ok = json_is_true(x);
    out->verdict = contend_verdict_parse(get_str(entry, "verdict", false, &ok));
    ok &= out->verdict != CONTEND_VERDICT_UNKNOWN;
    const json_t *ops = json_object_get(entry, "ops");
    ok &= json_is_object(ops);
    out->fig[CONTEND_FIG_TPS] = get_num(entry, "throughput_tps", &ok);
    out->fig[CONTEND_FIG_DURATION] = get_num(entry, "duration_s", &ok);
    const json_t *lat = json_object_get(entry, "latency_us");
    ok &= json_is_object(lat);
    for (int f = CONTEND_FIG_LATENCY; f < CONTEND_FIGS; f++)
        out->fig[f] = get_num(lat, fig_names[f], f == CONTEND_FIG_MEAN ? NULL : &ok);
    ok &= json_is_array(json_object_get(entry, "violations"));
    const json_t *probe = json_object_get(entry, "probe");
    bool cpu = get_pair(probe, "cpu_mops", out->probe_cpu);
    bool fsync = get_pair(probe, "fsync_per_s", out->probe_fsync);
    out->probed = cpu && fsync;
    return ok ? 0 : -EINVAL;
}

void contend_case_result_free(struct contend_case_result *r)
{
    free(r->violations);
    /* What is borrowed goes too: it may be gone soon after. */
    r->violations = NULL;
    r->nviolations = 0;
    r->name = r->description = r->workload = r->target = r->variant = r->expect = NULL;
    r->error = r->missing = r->inconclusive_reason = r->gate = r->case_dir = r->repro = NULL;
    r->nfaults = 0;
    r->c = NULL;
    r->reps = NULL;
    r->runs = r->entry = NULL;
}

int contend_case_results_exit_code(const struct contend_case_result *r, size_t n)
{
    int code = CONTEND_EXIT_OK;
    for (size_t i = 0; i < n; i++)
        code = contend_exit_merge(code, r[i].exit_code);
    return code;
}
