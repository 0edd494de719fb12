/*
 * runjson.c - run.json, the one result every report is rendered from.
 *
 * The fields docs/run-json.md lists (and docs/schema/run.schema.json requires)
 * are stable; others are added, never renamed.
 * Figures of a case are those of its repetitions (in "runs"): the median
 * for throughput, duration and latency, sums for op counts.  A case is ok
 * only when every repetition is.  "summary" gives the median, min, max and
 * spread of each figure over the repetitions; "latency_curve_us" the
 * percentile curve the HTML report plots; a violation's "context" the ops
 * around its witnesses, for the report's timeline.
 */
#include "runjson.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "history.h"
#include "util.h"

#ifndef CONTEND_VERSION
#define CONTEND_VERSION "0.0.0"
#endif

const char *contend_version(void)
{
    return CONTEND_VERSION;
}

/* Round to 3 decimals so that run.json does not carry float noise. */
static json_t *real3(double v)
{
    return json_real(round(v * 1000.0) / 1000.0);
}

static char *cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    char *model = NULL;
    while (f && !model && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon += 1 + strspn(colon + 1, " \t");
                colon[strcspn(colon, "\n")] = '\0';
                model = contend_strdup(colon);
            }
        }
    }
    if (f)
        fclose(f);
    return model ? model : contend_strdup("unknown");
}

static json_t *machine(void)
{
    struct utsname u;
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    uname(&u);
    char *model = cpu_model();
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "hostname", host, "os",
                          u.sysname, "kernel", u.release, "arch", u.machine, "cpus",
                          (int)sysconf(_SC_NPROCESSORS_ONLN), "cpu_model", model, "mem_bytes",
                          (json_int_t)pages * psize);
    free(model);
    return m;
}

json_t *contend_runjson_new(const char *scenario, const char *path, uint64_t seed, int argc,
                            char **argv, const char *run_dir)
{
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *cmd = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    return json_pack("{s:i, s:s, s:s, s:s, s:s?, s:I, s:o, s:s, s:o, s:s, s:b, s:[]}", "schema",
                     1, "tool", "contend", "version", contend_version(), "scenario", scenario,
                     "scenario_path", path, "seed", (json_int_t)seed, "machine", machine(),
                     "started_at", when, "command", cmd, "run_dir", run_dir, "ok", 1, "cases");
}

static json_t *latency(const struct contend_hist *h)
{
    if (!h || h->count == 0)
        return json_pack("{s:n, s:n, s:n, s:n, s:n, s:n}", "p50", "p90", "p99", "p999", "max",
                         "mean");
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "p50",
                     real3((double)contend_hist_quantile(h, 0.50) / 1e3), "p90",
                     real3((double)contend_hist_quantile(h, 0.90) / 1e3), "p99",
                     real3((double)contend_hist_quantile(h, 0.99) / 1e3), "p999",
                     real3((double)contend_hist_quantile(h, 0.999) / 1e3), "max",
                     real3((double)h->max / 1e3), "mean",
                     real3((double)h->sum / (double)h->count / 1e3));
}

/* Op times in ms to the nanosecond: a null op takes 30 ns, and a timeline of
 * ops rounded to the microsecond would draw them all at one instant. */
static json_t *real6(double v)
{
    return json_real(round(v * 1e6) / 1e6);
}

/* A JSON string of s.  json_string() refuses invalid UTF-8 and returns NULL,
 * and a NULL packed into a case makes the whole case vanish from run.json:
 * a message quoting what a store wrote may hold any bytes, so invalid ones
 * become U+FFFD here instead. */
static json_t *text(const char *s)
{
    size_t n = strlen(s), ok = contend_utf8_valid_len(s, n);
    if (ok == n)
        return json_stringn(s, n);
    char *fixed = contend_calloc(1, n * 3 + 1);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t k = contend_utf8_valid_len(s + i, n - i);
        memcpy(fixed + out, s + i, k);
        out += k;
        i += k;
        if (i < n) {
            memcpy(fixed + out, "\xef\xbf\xbd", 3);
            out += 3;
            i++;
        }
    }
    json_t *j = json_stringn(fixed, out);
    free(fixed);
    return j;
}

static json_t *text_or_null(const char *s)
{
    return s ? text(s) : json_null();
}

static json_t *witness(const struct contend_witness *w, uint64_t t0)
{
    const struct contend_record *r = &w->rec;
    json_t *o = json_pack("{s:i, s:i, s:i, s:I, s:s, s:I, s:s, s:o}", "worker", (int)w->worker,
                          "thread", (int)w->thread, "writer", (int)w->writer, "index",
                          (json_int_t)w->index, "op", contend_op_kind_name(r->kind), "key",
                          (json_int_t)r->key, "status", contend_status_name(r->status),
                          "t_invoke_ms",
                          real6(r->t_invoke > t0 ? (double)(r->t_invoke - t0) / 1e6 : 0));
    if (r->status != CONTEND_STATUS_INVOKED)
        json_object_set_new(o, "t_complete_ms",
                            real6(r->t_complete > t0 ? (double)(r->t_complete - t0) / 1e6 : 0));
    json_object_set_new(o, "value", json_integer(r->value));
    if (r->key2)
        json_object_set_new(o, "key2", json_integer((json_int_t)r->key2));
    if (r->arg)
        json_object_set_new(o, "arg", json_integer(r->arg));
    if (r->err)
        json_object_set_new(o, "err", json_string(strerror(r->err)));
    return o;
}

static bool is_witness(const struct contend_violation *v, const struct contend_witness *w)
{
    for (unsigned i = 0; i < v->nwitness; i++)
        if (v->witness[i].writer == w->writer && v->witness[i].index == w->index)
            return true;
    return false;
}

static json_t *violation(const struct contend_violation *v, uint64_t t0)
{
    json_t *ops = json_array();
    for (unsigned i = 0; i < v->nwitness; i++)
        json_array_append_new(ops, witness(&v->witness[i], t0));
    json_t *o = json_pack("{s:o, s:I, s:o, s:o}", "kind", text(v->kind), "count",
                          (json_int_t)v->count, "message", text_or_null(v->message), "ops", ops);
    /* The ops around the witnesses, for the report's timeline. */
    if (v->ncontext) {
        json_t *ctx = json_array();
        for (unsigned i = 0; i < v->ncontext; i++) {
            json_t *x = witness(&v->context[i], t0);
            json_object_set_new(x, "witness", json_boolean(is_witness(v, &v->context[i])));
            json_array_append_new(ctx, x);
        }
        json_object_set_new(o, "context", ctx);
    }
    return o;
}

/* The latency percentile curve, [[percent, us], ...], for the report's plot. */
static const double curve_pcts[] = {0,    10,    25,     50,     75,      90,  95,
                                    99,   99.5,  99.9,   99.95,  99.99,   99.999, 100};
#define NCURVE (sizeof curve_pcts / sizeof curve_pcts[0])

static json_t *latency_curve(const struct contend_hist *h)
{
    json_t *a = json_array();
    if (!h || h->count == 0)
        return a;
    for (size_t i = 0; i < NCURVE; i++) {
        double q = curve_pcts[i] / 100.0;
        json_array_append_new(a, json_pack("[f, o]", curve_pcts[i],
                                           real3((double)contend_hist_quantile(h, q) / 1e3)));
    }
    return a;
}

static json_t *series(const struct contend_rep *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nseries; i++)
        json_array_append_new(a, json_integer(r->series[i]));
    return json_pack("{s:I, s:o}", "interval_ms",
                     (json_int_t)(CONTEND_SERIES_INTERVAL_NS / 1000000), "ops", a);
}

static json_t *stats(const struct contend_rep *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "retries", json_integer((json_int_t)r->retries));
    json_object_set_new(o, "busy", json_integer((json_int_t)r->busy));
    for (size_t i = 0; i < r->nstats; i++)
        json_object_set_new(o, r->stats[i].name, real3(r->stats[i].value));
    return o;
}

static json_t *events(const struct contend_rep *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nevents; i++) {
        const struct contend_event *e = &r->events[i];
        json_array_append_new(a, json_pack("{s:o, s:o, s:s, s:s}", "t_ms",
                                           real3((double)e->t_ns / 1e6), "dur_ms",
                                           real3((double)e->dur_ns / 1e6), "kind", e->kind,
                                           "detail", e->detail));
    }
    return a;
}

/* One fit: its exponent and the bucket medians it came from. */
static json_t *growth_fit(const struct contend_growth *g, enum contend_growth_measure m)
{
    json_t *pts = json_array();
    for (unsigned i = 0; i < g->npoints; i++)
        json_array_append_new(pts, json_pack("[o, o]", real3(g->size[i]), real3(g->cost[i])));
    json_t *o = json_pack("{s:o, s:s, s:I, s:I, s:o}", "exponent",
                          g->valid ? real3(g->exponent) : json_null(), "unit",
                          contend_growth_measure_unit(m), "ops", (json_int_t)g->ops, "size_max",
                          (json_int_t)g->size_max, "points", pts);
    if (g->valid) {
        json_t *parts = json_array();
        for (unsigned i = 0; i < CONTEND_GROWTH_PARTS; i++)
            json_array_append_new(parts, real3(g->part[i]));
        json_object_set_new(o, "parts", parts);
    } else {
        json_object_set_new(o, "why", json_string(g->why));
    }
    return o;
}

/* "growth": the deciding fit at the top (as before work was measured), the
 * measure that decided, and every fit by measure ("latency", "cpu", ...). */
static json_t *growth(const struct contend_growths *gs)
{
    json_t *o = growth_fit(&gs->fit[gs->decided_by], gs->decided_by);
    json_object_set_new(o, "decided_by", json_string(contend_growth_measure_name(gs->decided_by)));
    json_t *by = json_object();
    for (unsigned m = 0; m < CONTEND_GROWTH_MEASURES; m++)
        if (m == CONTEND_GROWTH_LATENCY || gs->work)
            json_object_set_new(by, contend_growth_measure_name(m), growth_fit(&gs->fit[m], m));
    json_object_set_new(o, "measures", by);
    return o;
}

static const char *verdict(const struct contend_case *c, const struct contend_rep *r)
{
    if (r->error)
        return "error";
    if (r->inconclusive)
        return "inconclusive";
    if (!r->ok)
        return "fail";
    if (r->gate_failed)
        return "gate";
    return c->expect ? "found" : "pass";
}

static json_t *run_entry(const struct contend_case *c, const struct contend_rep *r)
{
    json_t *vs = json_array();
    for (size_t i = 0; i < r->nv; i++)
        json_array_append_new(vs, violation(&r->v[i], r->t0));
    json_t *o = json_pack("{s:I, s:b, s:s, s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o}",
                          "seed", (json_int_t)r->seed, "ok", r->ok && !r->gate_failed, "verdict",
                          verdict(c, r), "ops", "ok", (json_int_t)r->n_ok, "fail",
                          (json_int_t)r->n_fail, "info", (json_int_t)r->n_info, "duration_s",
                          real3(r->duration_s), "throughput_tps", real3(r->tps), "latency_us",
                          latency(r->hist), "violations", vs, "stats", stats(r), "series",
                          series(r));
    json_object_set_new(o, "events", events(r));
    if (!r->error)
        json_object_set_new(o, "growth", growth(&r->growth));
    if (r->probed)
        json_object_set_new(o, "probe",
                            json_pack("{s:[o, o], s:[o, o]}", "cpu_mops", real3(r->probe_cpu[0]),
                                      real3(r->probe_cpu[1]), "fsync_per_s",
                                      real3(r->probe_fsync[0]), real3(r->probe_fsync[1])));
    json_object_set_new(o, "latency_curve_us", latency_curve(r->hist));
    if (r->error_msg)
        json_object_set_new(o, "error", text(r->error_msg));
    if (r->missing)
        json_object_set_new(o, "missing", text(r->missing));
    if (r->inconclusive)
        json_object_set_new(o, "inconclusive_reason", text(r->inconclusive));
    if (r->gate_msg)
        json_object_set_new(o, "gate", text(r->gate_msg));
    if (r->case_dir)
        json_object_set_new(o, "case_dir", text(r->case_dir));
    if (r->repro)
        json_object_set_new(o, "repro", text(r->repro));
    if (r->sched.mode) {
        const struct contend_sched_info *si = &r->sched;
        json_t *s = json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:I, s:I, s:b, s:b}", "mode", si->mode,
                              "file", si->file, "sha256", si->file ? si->sha256 : NULL, "steps",
                              (json_int_t)si->steps, "handoffs", (json_int_t)si->handoffs,
                              "window_handoffs", (json_int_t)si->window_handoffs,
                              "block_yields", (json_int_t)si->block_yields, "replayable",
                              si->replayable, "diverged", si->diverged);
        json_object_set_new(s, "fallback", si->fallback ? text(si->fallback) : json_null());
        json_object_set_new(o, "schedule", s);
    }
    if (r->conc.valid) {
        const struct contend_concurrency *cc = &r->conc;
        json_t *x = json_pack("{s:I, s:I, s:o, s:o}", "ops", (json_int_t)cc->ops, "overlapping",
                              (json_int_t)cc->overlapping, "overlap", real3(cc->overlap),
                              "floor", real3(cc->floor));
        if (r->sched.mode)
            json_object_set_new(x, "window_handoffs", json_integer((json_int_t)r->sched.window_handoffs));
        json_object_set_new(x, "inconclusive",
                            cc->inconclusive ? text(cc->inconclusive) : json_null());
        json_object_set_new(x, "below_floor", json_boolean(cc->below_floor));
        json_object_set_new(o, "concurrency", x);
    }
    return o;
}

static double median_of(json_t *runs, const char *a, const char *b)
{
    size_t n = json_array_size(runs), k = 0;
    double *v = contend_calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_object_get(json_array_get(runs, i), a);
        if (b)
            x = json_object_get(x, b);
        if (json_is_number(x))
            v[k++] = json_number_value(x);
    }
    double m = k ? contend_median(v, k) : NAN;
    free(v);
    return m;
}

/* Violations of all runs merged by kind: counts add up, the first message
 * and witnesses stand for the kind. */
static json_t *merged_violations(json_t *runs)
{
    json_t *out = json_array();
    size_t i, j, k;
    json_t *run, *v, *have;
    json_array_foreach(runs, i, run) {
        json_array_foreach(json_object_get(run, "violations"), j, v) {
            const char *kind = json_string_value(json_object_get(v, "kind"));
            json_t *found = NULL;
            json_array_foreach(out, k, have) {
                if (strcmp(json_string_value(json_object_get(have, "kind")), kind) == 0)
                    found = have;
            }
            if (!found) {
                found = json_deep_copy(v);
                json_object_set_new(found, "runs", json_integer(0));
                json_object_set_new(found, "count", json_integer(0));
                json_array_append_new(out, found);
            }
            json_object_set_new(found, "runs",
                                json_integer(json_integer_value(json_object_get(found, "runs")) + 1));
            json_object_set_new(found, "count",
                                json_integer(json_integer_value(json_object_get(found, "count")) +
                                             json_integer_value(json_object_get(v, "count"))));
        }
    }
    return out;
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : real3(v);
}

/* The median of every point of the runs' latency curves. */
static json_t *median_curve(json_t *runs)
{
    json_t *out = json_array();
    size_t n = json_array_size(runs);
    double *v = contend_calloc(n ? n : 1, sizeof *v);
    for (size_t p = 0; p < NCURVE; p++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *pt = json_array_get(
                json_object_get(json_array_get(runs, i), "latency_curve_us"), p);
            if (json_is_number(json_array_get(pt, 1)))
                v[k++] = json_number_value(json_array_get(pt, 1));
        }
        if (k)
            json_array_append_new(out, json_pack("[f, o]", curve_pcts[p],
                                                 real3(contend_median(v, k))));
    }
    free(v);
    return out;
}

/*
 * The spread of the figures over the repetitions: median, min, max and
 * spread_pct = (max - min) / median in percent.  One glance says whether a
 * difference between two cases is larger than the noise of either.
 */
static json_t *summary(json_t *runs)
{
    static const struct {
        const char *name, *a, *b;
    } figs[] = {
        {"throughput_tps", "throughput_tps", NULL}, {"duration_s", "duration_s", NULL},
        {"p50_us", "latency_us", "p50"},            {"p90_us", "latency_us", "p90"},
        {"p99_us", "latency_us", "p99"},            {"p999_us", "latency_us", "p999"},
        {"max_us", "latency_us", "max"},            {"mean_us", "latency_us", "mean"},
    };
    json_t *o = json_object();
    size_t n = json_array_size(runs);
    double *v = contend_calloc(n ? n : 1, sizeof *v);
    for (size_t f = 0; f < sizeof figs / sizeof figs[0]; f++) {
        size_t k = 0;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_object_get(json_array_get(runs, i), figs[f].a);
            if (figs[f].b)
                x = json_object_get(x, figs[f].b);
            if (!json_is_number(x))
                continue;
            v[k] = json_number_value(x);
            lo = v[k] < lo ? v[k] : lo;
            hi = v[k] > hi ? v[k] : hi;
            k++;
        }
        if (k == 0)
            continue;
        double med = contend_median(v, k);
        json_object_set_new(o, figs[f].name,
                            json_pack("{s:i, s:o, s:o, s:o, s:o}", "n", (int)k, "median",
                                      real3(med), "min", real3(lo), "max", real3(hi),
                                      "spread_pct", real3(med > 0 ? (hi - lo) / med * 100 : 0)));
    }
    free(v);
    return o;
}

json_t *contend_runjson_case(const struct contend_case *c, const struct contend_rep *reps,
                             uint32_t nreps)
{
    json_t *runs = json_array();
    uint64_t n_ok = 0, n_fail = 0, n_info = 0;
    uint32_t failed = 0;
    const struct contend_rep *first_bad = NULL;
    int code = CONTEND_EXIT_OK;

    for (uint32_t i = 0; i < nreps; i++) {
        json_array_append_new(runs, run_entry(c, &reps[i]));
        n_ok += reps[i].n_ok;
        n_fail += reps[i].n_fail;
        n_info += reps[i].n_info;
        int rc = contend_rep_exit_code(&reps[i]);
        if (rc != CONTEND_EXIT_OK) {
            failed++;
            if (!first_bad)
                first_bad = &reps[i];
        }
        code = contend_exit_merge(code, rc);
    }
    const struct contend_rep *shown = first_bad ? first_bad : &reps[0];
    json_t *shown_run = json_array_get(runs, (size_t)(shown - reps));
    json_t *lat = json_object();
    static const char *const pcts[] = {"p50", "p90", "p99", "p999", "max", "mean"};
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        json_object_set_new(lat, pcts[i], num_or_null(median_of(runs, "latency_us", pcts[i])));

    json_t *o = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:I, s:o, s:I, s:I, s:I, s:o, s:b, s:s, s:i,"
        " s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:O, s:o}",
        "name", text(c->name), "description", text_or_null(c->description), "workload",
        text_or_null(c->workload), "target", text_or_null(c->target), "variant",
        text_or_null(c->variant), "procs", (int)c->procs, "threads", (int)c->threads,
        "ops_per_thread", (json_int_t)c->ops, "duration_target_s",
        c->duration_ns ? real3((double)c->duration_ns / 1e9) : json_null(), "keys",
        (json_int_t)c->keys, "seed", (json_int_t)c->seed, "perturb_us",
        (json_int_t)c->perturb_us, "expect", text_or_null(c->expect), "ok", code == CONTEND_EXIT_OK, "verdict",
        json_string_value(json_object_get(shown_run, "verdict")), "exit_code", code, "ops", "ok",
        (json_int_t)n_ok, "fail", (json_int_t)n_fail, "info", (json_int_t)n_info, "duration_s",
        num_or_null(median_of(runs, "duration_s", NULL)), "throughput_tps",
        num_or_null(median_of(runs, "throughput_tps", NULL)), "latency_us", lat, "violations",
        merged_violations(runs), "stats", json_object_get(shown_run, "stats"), "runs", runs);
    json_object_set_new(o, "failed_runs", json_integer(failed));
    json_object_set_new(o, "series", json_deep_copy(json_object_get(shown_run, "series")));
    json_object_set_new(o, "events", json_deep_copy(json_object_get(shown_run, "events")));
    /* The case's growth: the shown run's fit, with the median exponent of all
     * runs that could be fitted. */
    json_t *g = json_object_get(shown_run, "growth");
    if (g) {
        g = json_deep_copy(g);
        json_object_set_new(g, "exponent", num_or_null(median_of(runs, "growth", "exponent")));
        json_object_set_new(o, "growth", g);
    }
    json_object_set_new(o, "summary", summary(runs));
    json_object_set_new(o, "latency_curve_us", median_curve(runs));
    /* Every setting of the case, so that replay and shrink can rebuild it
     * without the scenario file. */
    json_t *settings = json_array();
    for (size_t i = 0; i < c->settings.n; i++)
        json_array_append_new(settings,
                              json_pack("[ss]", c->settings.v[i].key, c->settings.v[i].value));
    json_object_set_new(o, "settings", settings);
    static const char *const copy[] = {"error",    "missing",  "inconclusive_reason",
                                       "gate",     "case_dir", "repro",
                                       "schedule", "concurrency"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *x = json_object_get(shown_run, copy[i]);
        if (x)
            json_object_set(o, copy[i], x);
    }
    if (!json_object_get(o, "repro"))
        json_object_set_new(o, "repro", json_null());
    json_t *gates = json_object();
    if (!isnan(c->min_tps))
        json_object_set_new(gates, "min_tps", real3(c->min_tps));
    if (!isnan(c->max_p99_us))
        json_object_set_new(gates, "max_p99_us", real3(c->max_p99_us));
    if (!isnan(c->max_growth))
        json_object_set_new(gates, "max_growth", real3(c->max_growth));
    json_object_set_new(o, "gates", gates);
    return o;
}

int contend_runjson_exit_code(const json_t *run)
{
    int code = CONTEND_EXIT_OK;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(run, "cases"), i, c) {
        code = contend_exit_merge(code, (int)json_integer_value(json_object_get(c, "exit_code")));
    }
    return code;
}

int contend_runjson_write(json_t *run, const char *path)
{
    char *text = json_dumps(run, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text = contend_realloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    int rc = contend_write_atomic(path, text, len + 1);
    free(text);
    return rc;
}
