/*
 * runjson.c - run.json, the one result every report is rendered from.
 *
 * The fields docs/run-json.md lists (and docs/schema/run.schema.json requires)
 * are stable; others are added, never renamed.
 * A case's entry is written from its struct contend_case_result
 * (caseresult.h), which holds the aggregation over repetitions: the median
 * for throughput, duration and latency, sums for op counts.  A case is ok
 * only when every repetition is.  "summary" gives the median, min, max and
 * spread of each figure over the repetitions; "latency_curve_us" the
 * percentile curve the HTML report plots; a violation's "context" the ops
 * around its witnesses, for the report's timeline.  Each repetition (in
 * "runs") is written from its struct contend_rep.
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

#include "caseresult.h"
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
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "hostname", host, "os", u.sysname,
                          "kernel", u.release, "arch", u.machine, "cpus",
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
    return json_pack("{s:i, s:s, s:s, s:s, s:s?, s:I, s:o, s:s, s:o, s:s, s:b, s:[]}", "schema", 1,
                     "tool", "contend", "version", contend_version(), "scenario", scenario,
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
    json_t *o =
        json_pack("{s:i, s:i, s:i, s:I, s:s, s:I, s:s, s:o}", "worker", (int)w->worker, "thread",
                  (int)w->thread, "writer", (int)w->writer, "index", (json_int_t)w->index, "op",
                  contend_op_kind_name(r->kind), "key", (json_int_t)r->key, "status",
                  contend_status_name(r->status), "t_invoke_ms",
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

/* The latency percentile curve, [[percent, us], ...], for the report's plot;
 * the percentiles are contend_curve_pcts (caseresult.c). */
static json_t *latency_curve(const struct contend_hist *h)
{
    json_t *a = json_array();
    if (!h || h->count == 0)
        return a;
    for (size_t i = 0; i < CONTEND_CURVE_POINTS; i++) {
        double q = contend_curve_pcts[i] / 100.0;
        json_array_append_new(a, json_pack("[f, o]", contend_curve_pcts[i],
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
        json_array_append_new(
            a, json_pack("{s:o, s:o, s:s, s:s}", "t_ms", real3((double)e->t_ns / 1e6), "dur_ms",
                         real3((double)e->dur_ns / 1e6), "kind", e->kind, "detail", e->detail));
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

/* "schedule": the controlled schedule of a run, when schedule != os. */
static json_t *schedule(const struct contend_rep *r)
{
    const struct contend_sched_info *si = &r->sched;
    json_t *s =
        json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:I, s:I, s:b, s:b}", "mode", si->mode, "file",
                  si->file, "sha256", si->file ? si->sha256 : NULL, "steps", (json_int_t)si->steps,
                  "handoffs", (json_int_t)si->handoffs, "window_handoffs",
                  (json_int_t)si->window_handoffs, "block_yields", (json_int_t)si->block_yields,
                  "replayable", si->replayable, "diverged", si->diverged);
    json_object_set_new(s, "fallback", si->fallback ? text(si->fallback) : json_null());
    return s;
}

/* "concurrency": how much of it the run saw. */
static json_t *concurrency(const struct contend_rep *r)
{
    const struct contend_concurrency *cc = &r->conc;
    json_t *x = json_pack("{s:I, s:I, s:o, s:o}", "ops", (json_int_t)cc->ops, "overlapping",
                          (json_int_t)cc->overlapping, "overlap", real3(cc->overlap), "floor",
                          real3(cc->floor));
    if (r->sched.mode)
        json_object_set_new(x, "window_handoffs",
                            json_integer((json_int_t)r->sched.window_handoffs));
    json_object_set_new(x, "inconclusive", cc->inconclusive ? text(cc->inconclusive) : json_null());
    json_object_set_new(x, "below_floor", json_boolean(cc->below_floor));
    return x;
}

static json_t *run_entry(const struct contend_case *c, const struct contend_rep *r)
{
    json_t *vs = json_array();
    for (size_t i = 0; i < r->nv; i++)
        json_array_append_new(vs, violation(&r->v[i], r->t0));
    const char *v = contend_verdict_name(contend_rep_verdict(c, r));
    json_t *o =
        json_pack("{s:I, s:b, s:s, s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o}", "seed",
                  (json_int_t)r->seed, "ok", r->ok && !r->gate_failed, "verdict", v, "ops", "ok",
                  (json_int_t)r->n_ok, "fail", (json_int_t)r->n_fail, "info", (json_int_t)r->n_info,
                  "duration_s", real3(r->duration_s), "throughput_tps", real3(r->tps), "latency_us",
                  latency(r->hist), "violations", vs, "stats", stats(r), "series", series(r));
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
    if (r->sched.mode)
        json_object_set_new(o, "schedule", schedule(r));
    if (r->conc.valid)
        json_object_set_new(o, "concurrency", concurrency(r));
    return o;
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : real3(v);
}

/* A violation kind merged over the runs: the first report of the kind with
 * its witnesses, the runs that reported it and the summed count. */
static json_t *merged_violation(const struct contend_case_violation *m)
{
    json_t *o;
    if (m->first)
        o = violation(m->first, m->t0);
    else if (json_is_object(m->entry))
        o = json_deep_copy(m->entry);
    else
        o = json_pack("{s:o, s:I, s:o}", "kind", text(m->kind), "count", (json_int_t)m->count,
                      "message", text_or_null(m->message));
    json_object_set_new(o, "runs", json_integer(m->runs));
    json_object_set_new(o, "count", json_integer((json_int_t)m->count));
    return o;
}

static json_t *merged_violations(const struct contend_case_result *r)
{
    json_t *out = json_array();
    for (size_t i = 0; i < r->nviolations; i++)
        json_array_append_new(out, merged_violation(&r->violations[i]));
    return out;
}

static json_t *case_latency(const struct contend_case_result *r)
{
    json_t *lat = json_object();
    for (int f = CONTEND_FIG_LATENCY; f < CONTEND_FIGS; f++)
        json_object_set_new(lat, contend_fig_name(f), num_or_null(r->fig[f]));
    return lat;
}

static json_t *case_curve(const struct contend_case_result *r)
{
    json_t *out = json_array();
    for (size_t p = 0; p < CONTEND_CURVE_POINTS; p++)
        if (!isnan(r->curve_us[p]))
            json_array_append_new(
                out, json_pack("[f, o]", contend_curve_pcts[p], real3(r->curve_us[p])));
    return out;
}

/*
 * The spread of the figures over the repetitions: median, min, max and
 * spread_pct = (max - min) / median in percent.  One glance says whether a
 * difference between two cases is larger than the noise of either.
 */
static json_t *summary(const struct contend_case_result *r)
{
    json_t *o = json_object();
    for (int f = 0; f < CONTEND_FIGS; f++) {
        const struct contend_spread *s = &r->summary[f];
        if (s->n == 0)
            continue;
        json_object_set_new(o, contend_fig_summary_name(f),
                            json_pack("{s:i, s:o, s:o, s:o, s:o}", "n", (int)s->n, "median",
                                      real3(s->median), "min", real3(s->min), "max", real3(s->max),
                                      "spread_pct", real3(s->spread_pct)));
    }
    return o;
}

static json_t *gates(const struct contend_gates *g)
{
    json_t *o = json_object();
    if (!isnan(g->min_tps))
        json_object_set_new(o, "min_tps", real3(g->min_tps));
    if (!isnan(g->max_p99_us))
        json_object_set_new(o, "max_p99_us", real3(g->max_p99_us));
    if (!isnan(g->max_growth))
        json_object_set_new(o, "max_growth", real3(g->max_growth));
    return o;
}

json_t *contend_case_result_json(const struct contend_case_result *r)
{
    const struct contend_case *c = r->c;
    const struct contend_rep *shown = &r->reps[r->shown];
    json_t *runs = json_array();
    for (uint32_t i = 0; i < r->nruns; i++)
        json_array_append_new(runs, run_entry(c, &r->reps[i]));

    json_t *o = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:I, s:o, s:I, s:I, s:I, s:o, s:b, s:s, s:i,"
        " s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o}",
        "name", text(r->name), "description", text_or_null(r->description), "workload",
        text_or_null(r->workload), "target", text_or_null(r->target), "variant",
        text_or_null(r->variant), "procs", (int)r->procs, "threads", (int)r->threads,
        "ops_per_thread", (json_int_t)r->ops_per_thread, "duration_target_s",
        num_or_null(r->duration_target_s), "keys", (json_int_t)r->keys, "seed", (json_int_t)r->seed,
        "perturb_us", (json_int_t)r->perturb_us, "expect", text_or_null(r->expect), "ok", r->ok,
        "verdict", contend_verdict_name(r->verdict), "exit_code", r->exit_code, "ops", "ok",
        (json_int_t)r->n_ok, "fail", (json_int_t)r->n_fail, "info", (json_int_t)r->n_info,
        "duration_s", num_or_null(r->fig[CONTEND_FIG_DURATION]), "throughput_tps",
        num_or_null(r->fig[CONTEND_FIG_TPS]), "latency_us", case_latency(r), "violations",
        merged_violations(r), "stats", stats(shown), "runs", runs);
    if (!o)
        return NULL;
    json_object_set_new(o, "failed_runs", json_integer(r->failed_runs));
    json_object_set_new(o, "series", series(shown));
    json_object_set_new(o, "events", events(shown));
    /* The case's growth: the shown run's fit, with the median exponent of all
     * runs that could be fitted. */
    if (!shown->error) {
        json_t *g = growth(&shown->growth);
        json_object_set_new(g, "exponent", num_or_null(r->growth_exponent));
        json_object_set_new(o, "growth", g);
    }
    json_object_set_new(o, "summary", summary(r));
    json_object_set_new(o, "latency_curve_us", case_curve(r));
    /* Every setting of the case, so that replay and shrink can rebuild it
     * without the scenario file. */
    json_t *settings = json_array();
    for (size_t i = 0; i < c->settings.n; i++)
        json_array_append_new(settings,
                              json_pack("[ss]", c->settings.v[i].key, c->settings.v[i].value));
    json_object_set_new(o, "settings", settings);
    /* The shown run's story: why it failed, where it is kept, how to rerun. */
    const struct {
        const char *key, *value;
    } story[] = {{"error", r->error},
                 {"missing", r->missing},
                 {"inconclusive_reason", r->inconclusive_reason},
                 {"gate", r->gate},
                 {"case_dir", r->case_dir},
                 {"repro", r->repro}};
    for (size_t i = 0; i < sizeof story / sizeof story[0]; i++)
        if (story[i].value)
            json_object_set_new(o, story[i].key, text(story[i].value));
    if (shown->sched.mode)
        json_object_set_new(o, "schedule", schedule(shown));
    if (shown->conc.valid)
        json_object_set_new(o, "concurrency", concurrency(shown));
    if (!r->repro)
        json_object_set_new(o, "repro", json_null());
    json_object_set_new(o, "gates", gates(&r->gates));
    return o;
}

json_t *contend_runjson_case(const struct contend_case *c, const struct contend_rep *reps,
                             uint32_t nreps)
{
    struct contend_case_result r;
    contend_case_result_of(c, reps, nreps, &r);
    json_t *o = contend_case_result_json(&r);
    contend_case_result_free(&r);
    return o;
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
