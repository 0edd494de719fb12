/*
 * test_caseresult.c - the typed case result (caseresult.h): filled from
 * repetitions, written to run.json, read back.
 *
 * The fixtures cover every branch of a case entry: a case found with some
 * runs failing, a harness error, a gate, an inconclusive run, a run without
 * any latency.  With CONTEND_DUMP_CASES=PATH set, the dump test writes their
 * entries to PATH: that is how the entries written before and after a change
 * of the writer are compared byte for byte.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "caseresult.h"
#include "helpers.h"
#include "runjson.h"
#include "stats.h"

static struct contend_witness witness_at(uint32_t writer, uint64_t index, uint64_t t)
{
    return (struct contend_witness){
        .worker = writer,
        .thread = 0,
        .writer = writer,
        .index = index,
        .rec = {.t_invoke = t,
                .t_complete = t + 1500,
                .kind = CONTEND_OP_INCR,
                .status = CONTEND_OK,
                .key = 3,
                .value = 41},
    };
}

static void add_hist(struct contend_rep *r, uint64_t scale)
{
    r->hist = contend_calloc(1, sizeof *r->hist);
    for (uint64_t v = 1; v <= 500; v++)
        contend_hist_record(r->hist, v * scale + v * v % 97);
}

static void add_growth(struct contend_rep *r, double exponent, bool valid)
{
    struct contend_growth *g = &r->growth.fit[CONTEND_GROWTH_LATENCY];
    r->growth.decided_by = CONTEND_GROWTH_LATENCY;
    r->growth.valid = valid;
    r->growth.exponent = exponent;
    g->valid = valid;
    g->exponent = exponent;
    g->ops = 1234;
    g->size_max = 999;
    g->npoints = 2;
    g->size[0] = 10.12345;
    g->size[1] = 100.5;
    g->cost[0] = 2000.0004;
    g->cost[1] = 2100;
    for (int i = 0; i < CONTEND_GROWTH_PARTS; i++)
        g->part[i] = exponent + 0.01 * i;
    if (!valid)
        snprintf(g->why, sizeof g->why, "too few ops");
}

/* A found case over three runs: found, failed (an unexpected kind, a
 * missing one), and a harness error. */
static void fixture_found(struct contend_case *c, struct contend_rep *r)
{
    *c = (struct contend_case){.name = "found-case",
                               .description = "d\xff",
                               .workload = "counter",
                               .target = "json-doc",
                               .variant = "nolock",
                               .procs = 4,
                               .threads = 2,
                               .ops = 100,
                               .keys = 8,
                               .seed = 7,
                               .perturb_us = 50,
                               .expect = "lost-update",
                               .repeat = 3,
                               .min_tps = 10,
                               .max_p99_us = NAN,
                               .max_growth = 0.5};
    contend_settings_add(&c->settings, "workload", "counter", "f", 1);
    contend_settings_add(&c->settings, "procs", "4", "f", 2);
    for (int i = 0; i < 3; i++) {
        r[i].seed = 7 + (uint64_t)i;
        r[i].t0 = 1000000;
        r[i].n_ok = 100 + (uint64_t)i;
        r[i].n_fail = (uint64_t)i;
        r[i].n_info = 1;
        r[i].duration_s = 0.4123 + 0.1 * i;
        r[i].tps = 487.81234 - 13.3 * i;
        r[i].probed = true;
        r[i].probe_cpu[0] = 100.1234;
        r[i].probe_cpu[1] = 101;
        r[i].probe_fsync[0] = 500;
        r[i].probe_fsync[1] = 510.5;
    }
    struct contend_witness w[2] = {witness_at(0, 5, 1200000), witness_at(1, 6, 1300000)};
    /* Run 0: found, with context around the witnesses. */
    r[0].ok = true;
    add_hist(&r[0], 1000);
    contend_rep_add_violation(&r[0], "lost-update", 37, w, 2, "37 increments lost");
    r[0].v[0].context = contend_calloc(3, sizeof *r[0].v[0].context);
    r[0].v[0].context[0] = witness_at(0, 4, 1100000);
    r[0].v[0].context[1] = w[0];
    r[0].v[0].context[2] = witness_at(2, 9, 1250000);
    r[0].v[0].ncontext = 3;
    contend_rep_add_stat(&r[0], "fsyncs", 12.3456);
    contend_rep_add_event(&r[0], 2000000, 0, "kill", "worker 1");
    contend_rep_add_event(&r[0], 3000000, 500000, "pause", "worker 0");
    r[0].series = contend_calloc(3, sizeof *r[0].series);
    r[0].series[0] = 10;
    r[0].series[1] = 20;
    r[0].series[2] = 5;
    r[0].nseries = 3;
    add_growth(&r[0], 0.1234567, true);
    r[0].sched = (struct contend_sched_info){.mode = "random",
                                             .file = contend_strdup("s.sched"),
                                             .sha256 = "abc",
                                             .steps = 10,
                                             .handoffs = 4,
                                             .window_handoffs = 2,
                                             .block_yields = 1,
                                             .replayable = true};
    r[0].conc = (struct contend_concurrency){
        .valid = true, .ops = 100, .overlapping = 40, .overlap = 0.4, .floor = 0.05};
    /* Run 1: fails, an unexpected kind and the expected one, a repro. */
    r[1].ok = false;
    add_hist(&r[1], 1700);
    contend_rep_add_violation(&r[1], "phantom-update", 2, NULL, 0, NULL);
    contend_rep_add_violation(&r[1], "lost-update", 5, w, 1, "5 increments lost");
    contend_rep_add_event(&r[1], 2500000, 0, "kill", "worker 2");
    add_growth(&r[1], 0.3, true);
    r[1].missing = contend_strdup("torn-line");
    r[1].repro = contend_strdup("contend run x.ini --case found-case --seed 8");
    r[1].case_dir = contend_strdup("/tmp/run/found-case");
    r[1].conc = (struct contend_concurrency){.valid = true,
                                             .ops = 90,
                                             .overlapping = 1,
                                             .overlap = 1.0 / 90,
                                             .floor = 0.05,
                                             .below_floor = true,
                                             .inconclusive = contend_strdup("little overlap")};
    /* Run 2: the harness could not run it. */
    contend_rep_error(&r[2], "setup failed: %s", "no space");
    r[2].n_ok = r[2].n_fail = r[2].n_info = 0;
    r[2].probed = false;
}

/* One run: a gate failed (ok, but too slow). */
static void fixture_gate(struct contend_case *c, struct contend_rep *r)
{
    *c = (struct contend_case){.name = "gate-case",
                               .workload = "bank",
                               .target = "sqlite",
                               .variant = "wal",
                               .procs = 2,
                               .threads = 1,
                               .duration_ns = 1500000000,
                               .keys = 2,
                               .seed = 1,
                               .repeat = 1,
                               .min_tps = 1e6,
                               .max_p99_us = 50.5,
                               .max_growth = NAN};
    r->seed = 1;
    r->ok = true;
    r->n_ok = 50;
    r->duration_s = 1.5;
    r->tps = 33.3333;
    add_hist(r, 2000);
    add_growth(r, 0, false);
    r->gate_failed = true;
    r->gate_msg = contend_strdup("min_tps: 33.3 tx/s is below 1000000.0");
    r->retries = 3;
    r->busy = 4;
}

/* One run: inconclusive, no op acknowledged, no latency. */
static void fixture_inconclusive(struct contend_case *c, struct contend_rep *r)
{
    *c = (struct contend_case){.name = "thin-case",
                               .workload = "claim",
                               .target = "null",
                               .variant = "default",
                               .procs = 1,
                               .threads = 1,
                               .ops = 1,
                               .seed = 3,
                               .repeat = 1,
                               .min_tps = NAN,
                               .max_p99_us = NAN,
                               .max_growth = NAN};
    r->seed = 3;
    r->ok = false;
    r->inconclusive = contend_strdup("no acknowledged op");
    r->n_info = 1;
    add_growth(r, 0, false);
}

#define NFIX 3
typedef void (*fixture_fn)(struct contend_case *, struct contend_rep *);
static const fixture_fn fixtures[NFIX] = {fixture_found, fixture_gate, fixture_inconclusive};
static const uint32_t fixture_reps[NFIX] = {3, 1, 1};

static void free_fixture(struct contend_case *c, struct contend_rep *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free(r[i].sched.file);
        r[i].sched.file = NULL;
        contend_rep_free(&r[i]);
    }
    contend_settings_free(&c->settings);
}

/* The entries of every fixture, as run.json writes them. */
static char *dump_fixtures(void)
{
    json_t *all = json_array();
    for (int f = 0; f < NFIX; f++) {
        struct contend_case c;
        struct contend_rep r[3];
        memset(r, 0, sizeof r);
        fixtures[f](&c, r);
        json_t *o = contend_runjson_case(&c, r, fixture_reps[f]);
        assert_non_null(o);
        json_array_append_new(all, o);
        free_fixture(&c, r, fixture_reps[f]);
    }
    char *text = json_dumps(all, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(all);
    return text;
}

static void test_dump(void **state)
{
    (void)state;
    char *text = dump_fixtures();
    assert_non_null(text);
    const char *path = getenv("CONTEND_DUMP_CASES");
    if (path) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    free(text);
}

/* The aggregation over repetitions: sums, medians, merged violations, the
 * run shown, the verdict and exit code. */
static void test_of_repetitions(void **state)
{
    (void)state;
    struct contend_case c;
    struct contend_rep r[3];
    memset(r, 0, sizeof r);
    fixture_found(&c, r);
    struct contend_case_result res;
    contend_case_result_of(&c, r, 3, &res);
    assert_string_equal(res.name, "found-case");
    assert_int_equal(res.nruns, 3);
    assert_int_equal(res.failed_runs, 2);
    /* The first failed run is shown: it failed, the error of the third
     * decides the exit code. */
    assert_int_equal(res.shown, 1);
    assert_int_equal(res.verdict, CONTEND_VERDICT_FAIL);
    assert_int_equal(res.exit_code, CONTEND_EXIT_HARNESS);
    assert_false(res.ok);
    assert_string_equal(res.missing, "torn-line");
    assert_non_null(strstr(res.repro, "--seed 8"));
    assert_null(res.error);
    assert_int_equal(res.n_ok, 100 + 101);
    assert_int_equal(res.n_fail, 1);
    assert_int_equal(res.n_info, 2);
    /* The harness error has no latency: medians of the two others. */
    assert_true(res.fig[CONTEND_FIG_TPS] == 474.512);
    assert_int_equal(res.summary[CONTEND_FIG_TPS].n, 3);
    assert_int_equal(res.summary[CONTEND_FIG_P50].n, 2);
    assert_true(res.summary[CONTEND_FIG_TPS].min == 461.212);
    assert_true(res.summary[CONTEND_FIG_TPS].max == 487.812);
    assert_true(res.growth_exponent == round((0.1234567 + 0.3) / 2 * 1000) / 1000);
    assert_false(isnan(res.curve_us[CONTEND_CURVE_POINTS - 1]));
    assert_true(isnan(res.duration_target_s));
    assert_true(isnan(res.gates.max_p99_us));
    assert_true(res.gates.min_tps == 10);
    /* Merged by kind in order of first report: counts add up, the first
     * message and witnesses stand for the kind. */
    assert_int_equal(res.nviolations, 2);
    assert_string_equal(res.violations[0].kind, "lost-update");
    assert_int_equal(res.violations[0].count, 42);
    assert_int_equal(res.violations[0].runs, 2);
    assert_string_equal(res.violations[0].message, "37 increments lost");
    assert_ptr_equal(res.violations[0].first, &r[0].v[0]);
    assert_string_equal(res.violations[1].kind, "phantom-update");
    assert_int_equal(res.violations[1].runs, 1);
    assert_int_equal(res.violations[1].count, 2);
    assert_int_equal(res.nfaults, 2);
    assert_string_equal(res.faults[0].kind, "kill");
    assert_int_equal(res.faults[0].count, 2);
    assert_int_equal(res.faults[1].count, 1);
    contend_case_result_free(&res);
    assert_null(res.violations);
    assert_int_equal(res.exit_code, CONTEND_EXIT_HARNESS);
    free_fixture(&c, r, 3);
}

static void test_verdict_names(void **state)
{
    (void)state;
    static const char *const names[] = {"pass", "found", "fail", "gate", "error", "inconclusive"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        enum contend_verdict v = contend_verdict_parse(names[i]);
        assert_int_not_equal(v, CONTEND_VERDICT_UNKNOWN);
        assert_string_equal(contend_verdict_name(v), names[i]);
    }
    assert_int_equal(contend_verdict_parse("FAIL"), CONTEND_VERDICT_UNKNOWN);
    assert_int_equal(contend_verdict_parse(""), CONTEND_VERDICT_UNKNOWN);
    assert_int_equal(contend_verdict_parse(NULL), CONTEND_VERDICT_UNKNOWN);
    assert_string_equal(contend_verdict_name(CONTEND_VERDICT_UNKNOWN), "");
    assert_string_equal(contend_verdict_name((enum contend_verdict)99), "");
}

/* The run's exit code from its cases' results: 4 over 1 over 3 over 0. */
static void test_run_exit_code(void **state)
{
    (void)state;
    struct contend_case_result r[4];
    memset(r, 0, sizeof r);
    assert_int_equal(contend_case_results_exit_code(r, 0), CONTEND_EXIT_OK);
    assert_int_equal(contend_case_results_exit_code(r, 4), CONTEND_EXIT_OK);
    r[1].exit_code = CONTEND_EXIT_GATE;
    assert_int_equal(contend_case_results_exit_code(r, 4), CONTEND_EXIT_GATE);
    r[3].exit_code = CONTEND_EXIT_VIOLATION;
    assert_int_equal(contend_case_results_exit_code(r, 4), CONTEND_EXIT_VIOLATION);
    r[0].exit_code = CONTEND_EXIT_HARNESS;
    assert_int_equal(contend_case_results_exit_code(r, 4), CONTEND_EXIT_HARNESS);
    /* From the repetitions: a gate in one run, a pass in the other. */
    struct contend_case c = {.name = "g", .min_tps = NAN, .max_p99_us = NAN, .max_growth = NAN};
    struct contend_rep reps[2];
    memset(reps, 0, sizeof reps);
    reps[0].ok = reps[1].ok = true;
    reps[1].gate_failed = true;
    contend_case_result_of(&c, reps, 2, &r[0]);
    assert_int_equal(r[0].verdict, CONTEND_VERDICT_GATE);
    assert_int_equal(r[0].shown, 1);
    contend_case_result_free(&r[0]);
    assert_int_equal(contend_case_results_exit_code(r, 1), CONTEND_EXIT_GATE);
    assert_int_equal(contend_case_results_exit_code(r, 4), CONTEND_EXIT_VIOLATION);
}

static bool same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void same_str(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* struct -> JSON -> struct gives the same fields. */
static void test_round_trip(void **state)
{
    (void)state;
    for (int f = 0; f < NFIX; f++) {
        struct contend_case c;
        struct contend_rep r[3];
        memset(r, 0, sizeof r);
        fixtures[f](&c, r);
        struct contend_case_result a, b;
        contend_case_result_of(&c, r, fixture_reps[f], &a);
        json_t *j = contend_case_result_json(&a);
        assert_non_null(j);
        assert_int_equal(contend_case_result_read(j, &b), 0);
        same_str(a.name, b.name);
        same_str(a.workload, b.workload);
        same_str(a.target, b.target);
        same_str(a.variant, b.variant);
        same_str(a.expect, b.expect);
        assert_int_equal(a.procs, b.procs);
        assert_int_equal(a.threads, b.threads);
        assert_int_equal(a.ops_per_thread, b.ops_per_thread);
        assert_int_equal(a.keys, b.keys);
        assert_int_equal(a.seed, b.seed);
        assert_int_equal(a.perturb_us, b.perturb_us);
        assert_true(same_num(a.duration_target_s, b.duration_target_s));
        assert_true(same_num(a.gates.min_tps, b.gates.min_tps));
        assert_true(same_num(a.gates.max_p99_us, b.gates.max_p99_us));
        assert_true(same_num(a.gates.max_growth, b.gates.max_growth));
        assert_int_equal(a.verdict, b.verdict);
        assert_int_equal(a.ok, b.ok);
        assert_int_equal(a.exit_code, b.exit_code);
        assert_int_equal(a.nruns, b.nruns);
        assert_int_equal(a.failed_runs, b.failed_runs);
        same_str(a.error, b.error);
        same_str(a.missing, b.missing);
        same_str(a.inconclusive_reason, b.inconclusive_reason);
        same_str(a.gate, b.gate);
        same_str(a.case_dir, b.case_dir);
        same_str(a.repro, b.repro);
        assert_int_equal(a.n_ok, b.n_ok);
        assert_int_equal(a.n_fail, b.n_fail);
        assert_int_equal(a.n_info, b.n_info);
        assert_int_equal(a.busy, b.busy);
        assert_int_equal(a.retries, b.retries);
        for (int k = 0; k < CONTEND_FIGS; k++) {
            assert_true(same_num(a.fig[k], b.fig[k]));
            assert_int_equal(a.summary[k].n, b.summary[k].n);
            if (a.summary[k].n) {
                assert_true(same_num(a.summary[k].median, b.summary[k].median));
                assert_true(same_num(a.summary[k].min, b.summary[k].min));
                assert_true(same_num(a.summary[k].max, b.summary[k].max));
                assert_true(same_num(a.summary[k].spread_pct, b.summary[k].spread_pct));
            }
        }
        for (int p = 0; p < CONTEND_CURVE_POINTS; p++)
            assert_true(same_num(a.curve_us[p], b.curve_us[p]));
        assert_true(same_num(a.growth_exponent, b.growth_exponent));
        assert_int_equal(a.nviolations, b.nviolations);
        for (size_t i = 0; i < a.nviolations; i++) {
            same_str(a.violations[i].kind, b.violations[i].kind);
            same_str(a.violations[i].message, b.violations[i].message);
            assert_int_equal(a.violations[i].count, b.violations[i].count);
            assert_int_equal(a.violations[i].runs, b.violations[i].runs);
            assert_non_null(b.violations[i].entry);
        }
        assert_int_equal(a.nfaults, b.nfaults);
        for (size_t i = 0; i < a.nfaults; i++) {
            same_str(a.faults[i].kind, b.faults[i].kind);
            assert_int_equal(a.faults[i].count, b.faults[i].count);
        }
        assert_int_equal(json_array_size(b.runs), fixture_reps[f]);
        /* And written again from what was read: the same merged violations. */
        json_t *again = json_object_get(j, "violations");
        for (size_t i = 0; i < b.nviolations; i++)
            assert_true(json_equal(json_array_get(again, i), b.violations[i].entry));
        contend_case_result_free(&a);
        contend_case_result_free(&b);
        json_decref(j);
        free_fixture(&c, r, fixture_reps[f]);
    }
}

/* The members a case entry must have (docs/schema/run.schema.json). */
static const char *const required[] = {
    "name",       "workload",       "target",     "variant",    "procs",     "threads",
    "seed",       "expect",         "ok",         "verdict",    "exit_code", "ops",
    "duration_s", "throughput_tps", "latency_us", "violations", "repro",     "runs",
};

static json_t *found_entry(struct contend_case *c, struct contend_rep *r)
{
    memset(r, 0, 3 * sizeof *r);
    fixture_found(c, r);
    json_t *j = contend_runjson_case(c, r, 3);
    assert_non_null(j);
    return j;
}

/* A missing or mistyped member is refused, without a crash, and what is
 * there is still read. */
static void test_read_refuses(void **state)
{
    (void)state;
    struct contend_case c;
    struct contend_rep r[3];
    struct contend_case_result res;
    json_t *j = found_entry(&c, r);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        json_t *x = json_deep_copy(j);
        json_object_del(x, required[i]);
        assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
        contend_case_result_free(&res);
        /* Mistyped: a boolean, or a string where a boolean belongs. */
        bool is_bool = json_is_boolean(json_object_get(j, required[i]));
        json_object_set_new(x, required[i], is_bool ? json_string("true") : json_true());
        assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
        if (strcmp(required[i], "name") != 0)
            assert_string_equal(res.name, "found-case");
        contend_case_result_free(&res);
        json_decref(x);
    }
    /* Inside: an op count, a latency, a violation's kind or count. */
    static const char *const inner[][2] = {{"ops", "fail"}, {"latency_us", "p99"}};
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_deep_copy(j);
        json_object_set_new(json_object_get(x, inner[i][0]), inner[i][1], json_string("1"));
        assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
        contend_case_result_free(&res);
        json_decref(x);
    }
    json_t *x = json_deep_copy(j);
    json_object_del(json_array_get(json_object_get(x, "violations"), 0), "kind");
    json_object_set_new(json_array_get(json_object_get(x, "violations"), 1), "count",
                        json_integer(-1));
    assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
    assert_int_equal(res.nviolations, 1); /* the one without a kind is left out */
    contend_case_result_free(&res);
    json_object_set_new(x, "violations", json_loads("[1, null, \"x\"]", 0, NULL));
    assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
    assert_int_equal(res.nviolations, 0);
    contend_case_result_free(&res);
    json_object_set_new(x, "verdict", json_string("FAIL"));
    assert_int_equal(contend_case_result_read(x, &res), -EINVAL);
    assert_int_equal(res.verdict, CONTEND_VERDICT_UNKNOWN);
    contend_case_result_free(&res);
    json_decref(x);
    /* Not an entry at all. */
    json_t * not [] = {NULL, json_array(), json_string("case"), json_object()};
    for (size_t i = 0; i < sizeof not / sizeof not [0]; i++) {
        assert_int_equal(contend_case_result_read(not [i], &res), -EINVAL);
        assert_null(res.name);
        assert_int_equal(res.verdict, CONTEND_VERDICT_UNKNOWN);
        assert_true(isnan(res.fig[CONTEND_FIG_TPS]));
        contend_case_result_free(&res);
        json_decref(not [i]);
    }
    /* Optional members may be absent, or null where the schema allows it. */
    x = json_deep_copy(j);
    static const char *const optional[] = {
        "description", "ops_per_thread", "summary", "latency_curve_us", "growth",   "gates",
        "failed_runs", "stats",          "series",  "events",           "settings", "missing"};
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        json_object_del(x, optional[i]);
    json_object_set_new(x, "expect", json_null());
    json_object_set_new(x, "repro", json_null());
    json_object_set_new(x, "throughput_tps", json_null());
    assert_int_equal(contend_case_result_read(x, &res), 0);
    assert_null(res.expect);
    assert_true(isnan(res.fig[CONTEND_FIG_TPS]));
    assert_true(isnan(res.growth_exponent));
    assert_int_equal(res.summary[CONTEND_FIG_TPS].n, 0);
    contend_case_result_free(&res);
    json_decref(x);
    json_decref(j);
    free_fixture(&c, r, 3);
}

/* Each repetition read back from "runs": its verdict, figures and probes. */
static void test_run_round_trip(void **state)
{
    (void)state;
    for (int f = 0; f < NFIX; f++) {
        struct contend_case c;
        struct contend_rep r[3];
        memset(r, 0, sizeof r);
        fixtures[f](&c, r);
        json_t *j = contend_runjson_case(&c, r, fixture_reps[f]);
        for (uint32_t i = 0; i < fixture_reps[f]; i++) {
            struct contend_run_result rr;
            double fig[CONTEND_FIGS];
            contend_rep_figures(&r[i], fig);
            assert_int_equal(
                contend_run_result_read(json_array_get(json_object_get(j, "runs"), i), &rr), 0);
            assert_int_equal(rr.seed, r[i].seed);
            assert_int_equal(rr.verdict, contend_rep_verdict(&c, &r[i]));
            assert_int_equal(rr.ok, r[i].ok && !r[i].gate_failed);
            for (int k = 0; k < CONTEND_FIGS; k++)
                assert_true(same_num(rr.fig[k], fig[k]));
            assert_int_equal(rr.probed, r[i].probed);
            if (r[i].probed)
                assert_true(rr.probe_cpu[0] == round(r[i].probe_cpu[0] * 1000) / 1000 &&
                            rr.probe_fsync[1] == r[i].probe_fsync[1]);
        }
        struct contend_run_result rr;
        assert_int_equal(contend_run_result_read(json_object_get(j, "ops"), &rr), -EINVAL);
        assert_int_equal(contend_run_result_read(NULL, &rr), -EINVAL);
        assert_true(isnan(rr.fig[CONTEND_FIG_TPS]));
        json_decref(j);
        free_fixture(&c, r, fixture_reps[f]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump),           cmocka_unit_test(test_of_repetitions),
        cmocka_unit_test(test_verdict_names),  cmocka_unit_test(test_run_exit_code),
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_read_refuses),
        cmocka_unit_test(test_run_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
