/*
 * test_reports.c - the renderers and the comparison on synthetic run.json:
 * escaping of hostile names in every format, the repetition summary, the
 * ops around a violation, compare's verdicts (no change, slower, faster,
 * noisy, not compared), and the sweep table.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common.h"
#include "compare.h"
#include "report.h"
#include "context.h"
#include "helpers.h"
#include "runjson.h"

static const char *const hostile = "<script>alert(1)</script>";

/* Render into a string. */
/* Not inlined: GCC would take the memstream's buffer for a dangling local. */
__attribute__((noinline)) static char *render(void (*fn)(const json_t *, FILE *), const json_t *doc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(doc, f);
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A run.json with a case named <script>, a violation with a timeline, a
 * gate that failed, an event, and a second case named "&'. */
static const char hostile_json[] =
    "{\"schema\": 1, \"tool\": \"contend\", \"version\": \"0.1.0\","
    " \"scenario\": \"<script>alert(1)</script>\", \"started_at\": \"2024-05-01T12:00:00Z\","
    " \"seed\": 7, \"machine\": {\"hostname\": \"h<o>st\", \"cpus\": 2,"
    " \"cpu_model\": \"cpu & co\"}, \"ok\": false, \"exit_code\": 1,"
    " \"command\": [\"run\", \"x.ini\"], \"run_dir\": \"/tmp/r\", \"cases\": ["
    "  {\"name\": \"<script>alert(1)</script>\","
    "   \"description\": \"\\\"quoted\\\" & 'single' </td>\", \"workload\": \"counter\","
    "   \"target\": \"json-doc\", \"variant\": \"nolock\", \"procs\": 2, \"threads\": 1,"
    "   \"seed\": 7, \"ok\": false, \"verdict\": \"fail\", \"exit_code\": 1,"
    "   \"ops\": {\"ok\": 10, \"fail\": 0, \"info\": 0}, \"duration_s\": 0.25,"
    "   \"throughput_tps\": 40.0, \"latency_us\": {\"p50\": 10.0, \"p90\": 20.0,"
    "   \"p99\": 30.0, \"p999\": 31.0, \"max\": 32.0},"
    "   \"latency_curve_us\": [[50, 10.0], [99, 30.0], [100, 32.0]],"
    "   \"violations\": [{\"kind\": \"lost-update\", \"count\": 3,"
    "     \"message\": \"a <b>message</b> | with pipes\","
    "     \"ops\": [{\"worker\": 0, \"thread\": 0, \"writer\": 0, \"index\": 0, \"op\": \"incr\","
    "       \"key\": 0, \"status\": \"ok\", \"t_invoke_ms\": 0.1, \"t_complete_ms\": 0.5,"
    "       \"value\": 1}],"
    "     \"context\": ["
    "      {\"worker\": 0, \"thread\": 0, \"writer\": 0, \"index\": 0, \"op\": \"incr\","
    "       \"key\": 0, \"status\": \"ok\", \"t_invoke_ms\": 0.1, \"t_complete_ms\": 0.5,"
    "       \"value\": 1, \"witness\": true},"
    "      {\"worker\": 1, \"thread\": 0, \"writer\": 1, \"index\": 0, \"op\": \"incr\","
    "       \"key\": 0, \"status\": \"ok\", \"t_invoke_ms\": 0.2, \"t_complete_ms\": 0.6,"
    "       \"value\": 1, \"witness\": false},"
    "      {\"worker\": 1, \"thread\": 0, \"writer\": 1, \"index\": 1, \"op\": \"incr\","
    "       \"key\": 0, \"status\": \"in-flight\", \"t_invoke_ms\": 0.7, \"witness\": false}]}],"
    "   \"series\": {\"interval_ms\": 100, \"ops\": [4, 4, 2]},"
    "   \"events\": [{\"t_ms\": 50.0, \"dur_ms\": 100.0, \"kind\": \"pause\","
    "     \"detail\": \"SIGSTOP <worker 1>\"}],"
    "   \"repro\": \"contend run x.ini --case '<script>' --seed 7\", \"case_dir\": \"/tmp/r/x\","
    "   \"gates\": {\"max_p99_us\": 1000.0}, \"runs\": []},"
    "  {\"name\": \"\\\"&'\", \"workload\": \"counter\", \"target\": \"null\","
    "   \"variant\": \"default\", \"procs\": 1, \"threads\": 1, \"ok\": false,"
    "   \"verdict\": \"gate\", \"exit_code\": 3, \"ops\": {\"ok\": 100, \"fail\": 0, \"info\": 0},"
    "   \"duration_s\": 0.001, \"throughput_tps\": 100000.0,"
    "   \"latency_us\": {\"p50\": 0.03, \"p99\": 0.04}, \"violations\": [],"
    "   \"gate\": \"min_tps: 100000.0 tx/s is below 1e15\", \"gates\": {\"min_tps\": 1e15}}]}";

static json_t *hostile_run(void)
{
    json_error_t err;
    json_t *run = json_loads(hostile_json, 0, &err);
    if (!run)
        fail_msg("hostile_json:%d:%d: %s", err.line, err.column, err.text);
    return run;
}

static void test_html_escapes_everything(void **state)
{
    (void)state;
    json_t *run = hostile_run();
    char *html = render(contend_report_html, run);
    assert_int_equal(count(html, "<script"), 0);
    assert_int_equal(count(html, "<b>"), 0);
    assert_true(count(html, "&lt;script&gt;alert(1)&lt;/script&gt;") >= 3);
    assert_non_null(strstr(html, "&quot;&amp;&#39;"));
    assert_non_null(strstr(html, "&quot;quoted&quot; &amp; &#39;single&#39; &lt;/td&gt;"));
    assert_non_null(strstr(html, "default-src 'none'"));
    /* A timeline with the witness highlighted and the in-flight op dashed. */
    assert_non_null(strstr(html, "class=\"timeline\""));
    assert_int_equal(count(html, "class=\"op witness\""), 1);
    assert_int_equal(count(html, "class=\"op\""), 2);
    assert_non_null(strstr(html, "never completed"));
    /* The event is shaded in the throughput plot, its detail escaped. */
    assert_non_null(strstr(html, "class=\"band\""));
    assert_non_null(strstr(html, "pause: SIGSTOP &lt;worker 1&gt;"));
    /* Both gates are shown; the failed one named. */
    assert_non_null(strstr(html, "max_p99_us"));
    assert_non_null(strstr(html, "FAILED"));
    free(html);
    json_decref(run);
}

static void test_markdown_escapes_everything(void **state)
{
    (void)state;
    json_t *run = hostile_run();
    char *md = render(contend_report_markdown, run);
    /* Only inside the fenced code block (checked below), which is verbatim. */
    assert_int_equal(count(md, "<script"), 1);
    assert_int_equal(count(md, "<b>"), 0);
    assert_non_null(strstr(md, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(md, "with pipes"));
    assert_non_null(strstr(md, "\\| with pipes"));
    /* Every table row has the header's 11 pipes: no cell broke out. */
    char *line = strstr(md, "| | case");
    assert_non_null(line);
    for (int row = 0; row < 4; row++) {
        char *end = strchr(line, '\n');
        size_t pipes = 0;
        for (char *p = line; p < end; p++)
            pipes += *p == '|' && (p == line || p[-1] != '\\');
        assert_int_equal(pipes, 11);
        line = end + 1;
    }
    /* The repro is in a code block, verbatim. */
    assert_non_null(strstr(md, "```sh\ncontend run x.ini --case '<script>' --seed 7\n```"));
    free(md);
    json_decref(run);
}

static void test_junit_escapes_and_counts(void **state)
{
    (void)state;
    json_t *run = hostile_run();
    char *x = render(contend_report_junit, run);
    assert_int_equal(count(x, "<script"), 0);
    assert_non_null(strstr(x, "tests=\"2\" failures=\"2\" errors=\"0\""));
    assert_non_null(strstr(x, "timestamp=\"2024-05-01T12:00:00\""));
    assert_non_null(strstr(x, "hostname=\"h&lt;o&gt;st\""));
    assert_non_null(strstr(x, "<testcase name=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert_non_null(strstr(x, "<failure type=\"lost-update\""));
    assert_non_null(strstr(x, "<failure type=\"gate\""));
    assert_int_equal(count(x, "<failure"), 2);
    assert_int_equal(count(x, "<system-out>"), 1);
    assert_int_equal(count(x, "<system-err>"), 1);
    free(x);

    /* A case the harness could not run is an error; no timestamp, no zone. */
    json_t *c = json_array_get(json_object_get(run, "cases"), 1);
    json_object_set_new(c, "verdict", json_string("error"));
    json_object_set_new(c, "error", json_string("setup failed\n\x01"));
    json_object_set_new(run, "started_at", json_string("garbage"));
    x = render(contend_report_junit, run);
    assert_non_null(strstr(x, "failures=\"1\" errors=\"1\""));
    assert_non_null(strstr(x, "<error type=\"error\" message=\"setup failed&#10;\xef\xbf\xbd\""));
    assert_non_null(strstr(x, "timestamp=\"1970-01-01T00:00:00\""));
    free(x);
    json_decref(run);
}

/* ---- run.json: summary and context ---------------------------------------- */

static void test_summary_over_repetitions(void **state)
{
    (void)state;
    struct contend_case c;
    struct contend_rep reps[3];
    memset(&c, 0, sizeof c);
    memset(reps, 0, sizeof reps);
    c.name = "c";
    c.workload = "counter";
    c.target = "null";
    c.variant = "default";
    c.min_tps = NAN;
    c.max_p99_us = NAN;
    c.max_growth = NAN;
    static const double tps[] = {100, 110, 90};
    for (int i = 0; i < 3; i++) {
        reps[i].ok = true;
        reps[i].tps = tps[i];
        reps[i].duration_s = 1;
        reps[i].hist = contend_calloc(1, sizeof *reps[i].hist);
        for (uint64_t v = 1; v <= 1000; v++)
            contend_hist_record(reps[i].hist, v * 1000 * (uint64_t)(i + 1));
    }
    json_t *o = contend_runjson_case(&c, reps, 3);
    json_t *s = json_object_get(json_object_get(o, "summary"), "throughput_tps");
    assert_int_equal(json_integer_value(json_object_get(s, "n")), 3);
    assert_true(json_real_value(json_object_get(s, "median")) == 100);
    assert_true(json_real_value(json_object_get(s, "min")) == 90);
    assert_true(json_real_value(json_object_get(s, "max")) == 110);
    assert_true(fabs(json_real_value(json_object_get(s, "spread_pct")) - 20) < 1e-9);
    /* p50 of the runs: 500, 1000, 1500 us (within the histogram's 0.4 %). */
    s = json_object_get(json_object_get(o, "summary"), "p50_us");
    assert_true(fabs(json_real_value(json_object_get(s, "median")) - 1000) < 5);
    assert_true(fabs(json_real_value(json_object_get(s, "spread_pct")) - 100) < 1);
    /* The percentile curve: medians, ending at the max. */
    json_t *curve = json_object_get(o, "latency_curve_us");
    assert_true(json_array_size(curve) >= 10);
    json_t *last = json_array_get(curve, json_array_size(curve) - 1);
    assert_true(json_real_value(json_array_get(last, 0)) == 100);
    assert_true(fabs(json_real_value(json_array_get(last, 1)) - 2000) < 10);
    json_decref(o);
    for (int i = 0; i < 3; i++)
        contend_rep_free(&reps[i]);
}

/* Writer w's i-th op runs from t0 + i * step to + step - 1 (ns). */
static void fill(struct contend_record *rec, uint64_t n, uint64_t t0, uint64_t step)
{
    for (uint64_t i = 0; i < n; i++)
        rec[i] = (struct contend_record){.t_invoke = t0 + i * step,
                                         .t_complete = t0 + i * step + step - 1,
                                         .kind = CONTEND_OP_INCR,
                                         .status = CONTEND_OK,
                                         .value = (int64_t)i};
}

static void test_context_around_witnesses(void **state)
{
    (void)state;
    static struct contend_record rec[10][1000];
    struct contend_writer_hist w[10];
    for (uint32_t i = 0; i < 10; i++) {
        fill(rec[i], 1000, 1000000, 10000); /* 10 us ops, all writers alike */
        w[i] = (struct contend_writer_hist){.worker = i, .writer = i, .rec = rec[i], .n = 1000};
    }
    struct contend_rep rep;
    memset(&rep, 0, sizeof rep);
    struct contend_witness wit[2] = {contend_witness_of(&w[3], 500),
                                     contend_witness_of(&w[9], 501)};
    contend_rep_add_violation(&rep, "lost-update", 1, wit, 2, "m");
    contend_rep_add_violation(&rep, "no-witness", 1, NULL, 0, "m");
    contend_context_collect(&rep, w, 10);

    const struct contend_violation *v = &rep.v[0];
    assert_true(v->ncontext > 0);
    assert_null(rep.v[1].context);
    bool lane[10] = {false}, saw[2] = {false};
    size_t per[10] = {0};
    for (unsigned i = 0; i < v->ncontext; i++) {
        const struct contend_witness *x = &v->context[i];
        lane[x->writer] = true;
        per[x->writer]++;
        saw[0] |= x->writer == 3 && x->index == 500;
        saw[1] |= x->writer == 9 && x->index == 501;
        /* Ops near the witnesses only: 500 +- 3 by index, or within the padded span. */
        assert_true(x->index >= 490 && x->index <= 510);
    }
    assert_true(saw[0] && saw[1]);
    /* At most CONTEND_CONTEXT_LANES lanes, the witnesses' among them. */
    size_t lanes = 0;
    for (int i = 0; i < 10; i++) {
        lanes += lane[i];
        assert_true(per[i] <= CONTEND_CONTEXT_PER_LANE);
    }
    assert_int_equal(lanes, CONTEND_CONTEXT_LANES);
    assert_true(lane[3] && lane[9]);
    assert_int_equal(per[3], 7); /* 497 .. 503 */

    json_t *j = contend_runjson_case(&(struct contend_case){.name = "c",
                                                            .workload = "w",
                                                            .target = "t",
                                                            .variant = "v",
                                                            .min_tps = NAN,
                                                            .max_p99_us = NAN},
                                     &rep, 1);
    json_t *ctx = json_object_get(json_array_get(json_object_get(j, "violations"), 0), "context");
    assert_int_equal(json_array_size(ctx), v->ncontext);
    size_t witnesses = 0, i;
    json_t *op;
    json_array_foreach (ctx, i, op) {
        witnesses += json_is_true(json_object_get(op, "witness"));
    }
    assert_int_equal(witnesses, 2);
    json_decref(j);
    contend_rep_free(&rep);
}

/* ---- compare ------------------------------------------------------------- */

/* A run.json whose cases have `n` runs with tx/s and p50/p99 from the
 * given bases and a deterministic jitter of +-`jitter` (fraction). */
static json_t *runs_doc(const char *name, size_t n, double tps, double p50, double jitter,
                        unsigned salt)
{
    json_t *runs = json_array();
    for (size_t i = 0; i < n; i++) {
        double j = 1 + jitter * (double)((int)((i * 7 + salt * 3) % 9) - 4) / 4;
        json_array_append_new(runs, json_pack("{s:s, s:f, s:{s:f, s:f}}", "verdict", "pass",
                                              "throughput_tps", tps * j, "latency_us", "p50",
                                              p50 / j, "p99", 2 * p50 / j));
    }
    return json_pack("{s:s, s:b, s:o}", "name", name, "ok", 1, "runs", runs);
}

static json_t *run_of(json_t *c1, json_t *c2)
{
    json_t *cases = json_array();
    json_array_append_new(cases, c1);
    if (c2)
        json_array_append_new(cases, c2);
    return json_pack("{s:s, s:s, s:s, s:o}", "scenario", "s", "version", "0.1.0", "started_at", "t",
                     "cases", cases);
}

static const char *verdict_of(const json_t *cmp, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return json_string_value(json_object_get(c, "verdict"));
    }
    return "absent";
}

static void test_compare_verdicts(void **state)
{
    (void)state;
    struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
    /* Same: 2 % jitter either side, no shift. */
    json_t *a =
        run_of(runs_doc("same", 9, 1000, 10, 0.02, 1), runs_doc("slow", 9, 1000, 10, 0.02, 2));
    json_t *b =
        run_of(runs_doc("same", 9, 1000, 10, 0.02, 5), runs_doc("slow", 9, 700, 13, 0.02, 6));
    json_t *cmp = contend_compare(a, b, "a.json", "b.json", &o);
    assert_string_equal(verdict_of(cmp, "same"), "no change");
    assert_string_equal(verdict_of(cmp, "slow"), "slower");
    assert_int_equal(json_integer_value(json_object_get(cmp, "exit_code")), 3);
    assert_int_equal(json_array_size(json_object_get(cmp, "regressed")), 1);
    char *text = render(contend_compare_text, cmp);
    assert_non_null(strstr(text, "1 case regressed: slow (tx/s -30.0 %"));
    free(text);
    char *md = render(contend_compare_markdown, cmp);
    assert_non_null(strstr(md, "**slower**"));
    free(md);
    json_decref(cmp);

    /* The other way round it is faster, and nothing regressed. */
    cmp = contend_compare(b, a, "b.json", "a.json", &o);
    assert_string_equal(verdict_of(cmp, "slow"), "faster");
    assert_int_equal(json_integer_value(json_object_get(cmp, "exit_code")), 0);
    json_decref(cmp);

    /* A larger threshold absorbs the change. */
    o.max_slowdown_pct = 50;
    cmp = contend_compare(a, b, "a.json", "b.json", &o);
    assert_string_equal(verdict_of(cmp, "slow"), "no change");
    json_decref(cmp);
    o.max_slowdown_pct = 5;
    json_decref(a);
    json_decref(b);

    /* 30 % apart but with 60 % jitter: not significant, so noisy. */
    a = run_of(runs_doc("n", 9, 1000, 10, 0.6, 1), NULL);
    b = run_of(runs_doc("n", 9, 1300, 10, 0.6, 4), NULL);
    cmp = contend_compare(a, b, "a", "b", &o);
    assert_string_equal(verdict_of(cmp, "n"), "noisy — re-run");
    assert_int_equal(json_integer_value(json_object_get(cmp, "exit_code")), 0);
    json_decref(cmp);
    json_decref(a);
    json_decref(b);

    /* Three runs a side: a clear shift, but never significant (p >= 0.1). */
    a = run_of(runs_doc("few", 3, 1000, 10, 0.01, 1), runs_doc("one", 1, 1000, 10, 0, 1));
    b = run_of(runs_doc("few", 3, 500, 20, 0.01, 2), runs_doc("new-only", 9, 1, 1, 0, 1));
    cmp = contend_compare(a, b, "a", "b", &o);
    assert_string_equal(verdict_of(cmp, "few"), "noisy — re-run");
    assert_string_equal(verdict_of(cmp, "one"), "not compared");
    assert_string_equal(verdict_of(cmp, "new-only"), "not compared");
    text = render(contend_compare_text, cmp);
    assert_non_null(strstr(text, "fewer than 9 repetitions"));
    assert_non_null(strstr(text, "only in new"));
    free(text);
    json_decref(cmp);
    json_decref(a);
    json_decref(b);
}

/* tx/s 9.4 % lower at raw p = 0.024: significant alone, but one of three
 * tests, so Holm makes it 0.073 and the verdict noisy, not slower. */
static void test_compare_holm(void **state)
{
    (void)state;
    struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
    json_t *rb = json_array(), *rn = json_array();
    /* Four repetitions a side, completely separated and each side tight
     * (spread 1.5 %, far below the 11 % change, so the noise rules let it
     * through): the exact two-sided p is 2 / C(8,4) = 2/70.  Three figures
     * are tested (tx/s, p50, p99; the latencies are equal, p = 1), so Holm
     * multiplies the smallest p by 3: 0.0857, not significant at 0.05. */
    for (int i = 0; i < 4; i++) {
        json_array_append_new(rb, json_pack("{s:s, s:f, s:{s:f, s:f}}", "verdict", "pass",
                                            "throughput_tps", 100.0 + 0.5 * i, "latency_us", "p50",
                                            1.0, "p99", 2.0));
        json_array_append_new(rn, json_pack("{s:s, s:f, s:{s:f, s:f}}", "verdict", "pass",
                                            "throughput_tps", 89.0 + 0.5 * i, "latency_us", "p50",
                                            1.0, "p99", 2.0));
    }
    json_t *a = run_of(json_pack("{s:s, s:b, s:o}", "name", "c", "ok", 1, "runs", rb), NULL);
    json_t *b = run_of(json_pack("{s:s, s:b, s:o}", "name", "c", "ok", 1, "runs", rn), NULL);
    json_t *cmp = contend_compare(a, b, "a", "b", &o);
    json_t *tps = json_array_get(
        json_object_get(json_array_get(json_object_get(cmp, "cases"), 0), "figures"), 0);
    assert_true(fabs(json_real_value(json_object_get(tps, "p_value")) - 2.0 / 70) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(tps, "p_adjusted")) - 3 * 2.0 / 70) < 1e-12);
    assert_string_equal(json_string_value(json_object_get(tps, "verdict")), "noisy — re-run");
    assert_string_equal(verdict_of(cmp, "c"), "noisy — re-run");
    json_decref(cmp);
    /* With a family-wise alpha of 0.1 the same data is slower. */
    o.alpha = 0.1;
    cmp = contend_compare(a, b, "a", "b", &o);
    assert_string_equal(verdict_of(cmp, "c"), "slower");
    json_decref(cmp);
    json_decref(a);
    json_decref(b);
}

/* ---- sweep ---------------------------------------------------------------- */

static void test_sweep_table_and_page(void **state)
{
    (void)state;
    json_t *points = json_array();
    static const char *const procs[] = {"1", "2", "4"};
    for (int i = 0; i < 3; i++) {
        json_t *cases =
            json_pack("[{s:s, s:f, s:f, s:f, s:s}, {s:s, s:f, s:f, s:f, s:s}]", "name", "null",
                      "throughput_tps", 1e6 * (i + 1), "p50_us", 0.03, "p99_us", 0.05, "verdict",
                      "pass", "name", hostile, "throughput_tps", 1000.0 / (i + 1), "p50_us", 1000.0,
                      "p99_us", 5000.0 * (i + 1), "verdict", "pass");
        json_array_append_new(points,
                              json_pack("{s:i, s:{s:s}, s:i, s:o}", "index", i + 1, "params",
                                        "procs", procs[i], "exit_code", 0, "cases", cases));
    }
    json_t *sweep = json_pack("{s:s, s:s, s:s, s:[{s:s, s:[s, s, s]}], s:o}", "kind", "sweep",
                              "scenario", "s", "version", "0.1.0", "params", "key", "procs",
                              "values", "1", "2", "4", "points", points);
    char *text = render(contend_sweep_text, sweep);
    assert_non_null(strstr(text, "  2  2000000     2.00  30.0 ns  50.0 ns  pass\n"));
    assert_non_null(strstr(text, "  4      333     0.33  1.00 ms  15.0 ms  pass\n"));
    free(text);
    char *html = render(contend_sweep_html, sweep);
    assert_int_equal(count(html, "<script"), 0);
    assert_int_equal(count(html, "<svg"), 3);
    assert_non_null(strstr(html, "throughput (log scale) against procs"));
    free(html);
    json_decref(sweep);
}

/* Band labels: every <text> with the band style, as x, y and characters. */
struct label_at {
    double x, y;
    size_t chars;
};

static size_t band_label_list(const char *svg, struct label_at *out, size_t cap)
{
    static const char mark[] = " font-size=\"10\" fill=\"#8a3b00\">";
    size_t n = 0;
    for (const char *t = strstr(svg, "<text x=\""); t; t = strstr(t + 1, "<text x=\"")) {
        const char *end = strchr(t, '>');
        if (!end || end + 1 - t < (long)sizeof mark ||
            strncmp(end + 1 - (sizeof mark - 1), mark, sizeof mark - 1) != 0)
            continue;
        assert_true(n < cap);
        assert_int_equal(sscanf(t, "<text x=\"%lf\" y=\"%lf\"", &out[n].x, &out[n].y), 2);
        out[n].chars = (size_t)(strchr(end, '<') - end - 1);
        n++;
    }
    return n;
}

/* Dozens of kills a few pixels apart (what a run with a kill every few ops
 * draws): no two labels may share a row where they overlap (widths as the
 * renderer estimates them, 6 px a character), the labels left out are
 * counted on the plot, and every band keeps its tooltip.  Spread out, every
 * band is labelled. */
static void test_band_labels_do_not_overlap(void **state)
{
    (void)state;
    enum { NB = 40 };
    struct contend_plot_band bands[NB];
    char names[NB][64];
    double x[2] = {0, 100}, y[2] = {1, 2};
    struct contend_plot_series se = {.label = "s", .x = x, .y = y, .n = 2};
    struct label_at at[NB + 1];
    for (int spread = 0; spread < 2; spread++) {
        for (int i = 0; i < NB; i++) {
            if (spread)
                snprintf(names[i], sizeof names[i], "kill #%d", i);
            else
                snprintf(names[i], sizeof names[i], "kill: worker %d at op %d", i % 4, 50 * i);
            double t = spread ? 100.0 * i / 8 : 40 + 0.05 * i;
            bands[i] = (struct contend_plot_band){.x0 = t, .x1 = t, .label = names[i]};
        }
        struct contend_plot p = {.title = "t",
                                 .xlabel = "x",
                                 .ylabel = "y",
                                 .series = &se,
                                 .nseries = 1,
                                 .bands = bands,
                                 .nbands = spread ? 8 : NB};
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        contend_svg_plot(f, &p);
        fclose(f);
        size_t n = band_label_list(buf, at, NB + 1), shown = n;
        const char *more = strstr(buf, "more (hover the bands)");
        if (spread) {
            assert_null(more);
            assert_int_equal(n, 8);
        } else {
            unsigned long hidden = 0;
            assert_non_null(more);
            const char *num = more;
            while (num > buf && num[-1] != '+')
                num--;
            hidden = strtoul(num, NULL, 10);
            shown = n - 1; /* the "+N more" line is one of them */
            assert_true(shown >= 4);
            assert_int_equal(shown + hidden, NB);
        }
        assert_int_equal(count(buf, "<g class=\"band\">"), p.nbands);
        for (size_t i = 0; i < shown; i++)
            for (size_t j = i + 1; j < shown; j++)
                if (at[i].y == at[j].y)
                    assert_true(at[i].x + 6.0 * (double)at[i].chars <= at[j].x ||
                                at[j].x + 6.0 * (double)at[j].chars <= at[i].x);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escapes_everything),
        cmocka_unit_test(test_markdown_escapes_everything),
        cmocka_unit_test(test_junit_escapes_and_counts),
        cmocka_unit_test(test_summary_over_repetitions),
        cmocka_unit_test(test_context_around_witnesses),
        cmocka_unit_test(test_compare_verdicts),
        cmocka_unit_test(test_compare_holm),
        cmocka_unit_test(test_sweep_table_and_page),
        cmocka_unit_test(test_band_labels_do_not_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
