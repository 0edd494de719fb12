/*
 * html.c - the report a person opens and shares: one self-contained HTML
 * file rendered from run.json alone.
 *
 * Self-contained means: no script, no stylesheet, font or image from
 * anywhere; plots are inline SVG, styles one inline <style>.  A
 * Content-Security-Policy meta tag forbids scripts and every fetch, so even
 * a renderer bug that let markup through could not run or phone home.  It is
 * readable without JavaScript because there is none: hover titles are SVG
 * <title> elements.
 *
 * Every string from run.json is data (a case may be named `<script>`), so
 * each one goes through contend_put_escaped(); ids and anchors are built from
 * indices, never from names.
 *
 * Per case: facts, figures (with the spread over repetitions), gates,
 * throughput over time with the run's events (faults) shaded, the latency
 * percentile curve on log axes, the repetitions, and for every violation its
 * explanation and a timeline of the ops around it, one lane per worker
 * thread, the witnesses highlighted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
#include "common.h"
#include "report.h"

#define esc contend_put_escaped

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* pass / found / fail / gate / error / inconclusive: also the CSS class. */
static const char *vclass_of(enum contend_verdict v, bool ok)
{
    if (v != CONTEND_VERDICT_UNKNOWN)
        return contend_verdict_name(v);
    return ok ? "pass" : "fail";
}

static const char *vclass(const struct contend_case_result *c)
{
    return vclass_of(c->verdict, c->ok);
}

static void td_num(FILE *out, const char *s)
{
    fputs("<td class=\"num\">", out);
    esc(out, s);
    fputs("</td>", out);
}

static void td(FILE *out, const char *s)
{
    fputs("<td>", out);
    esc(out, s);
    fputs("</td>", out);
}

static const char *exit_meaning(long long code)
{
    switch (code) {
    case 0: return "every case as expected";
    case 1: return "an invariant broke, or an expected violation was not found";
    case 2: return "bad usage or scenario";
    case 3: return "a performance gate failed";
    case 4: return "the harness could not run";
    case 130: return "interrupted";
    default: return "unknown";
    }
}

/* ---- the page head and the verdict table -------------------------------- */

static void head(const json_t *run, FILE *out)
{
    const json_t *m = json_object_get(run, "machine");
    bool ok = json_is_true(json_object_get(run, "ok"));
    long long code = contend_ji(run, "exit_code");
    char buf[64];

    contend_html_begin(out, "contend: ", contend_js(run, "scenario"));
    fputs("<header>\n<h1>contend report: ", out);
    esc(out, contend_js(run, "scenario"));
    contend_putf(out, "</h1>\n<p class=\"overall %s\">%s &mdash; exit %lld: %s%s</p>\n",
                 ok ? "pass" : (code == 3 ? "gate" : "fail"), ok ? "PASS" : "FAIL", code,
                 exit_meaning(code),
                 json_is_true(json_object_get(run, "interrupted")) ? " (interrupted)" : "");
    fputs("<dl class=\"facts\">\n", out);
    fputs("<dt>scenario file</dt><dd>", out);
    esc(out, json_is_string(json_object_get(run, "scenario_path"))
                 ? contend_js(run, "scenario_path")
                 : "(from the command line)");
    fputs("</dd>\n<dt>started</dt><dd>", out);
    esc(out, contend_js(run, "started_at"));
    fputs("</dd>\n<dt>seed</dt><dd>", out);
    snprintf(buf, sizeof buf, "%lld", contend_ji(run, "seed"));
    esc(out, buf);
    fputs("</dd>\n<dt>machine</dt><dd>", out);
    contend_html_machine(out, m);
    fputs("</dd>\n<dt>command</dt><dd><code>", out);
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(run, "command"), i, a) {
        if (i)
            fputc(' ', out);
        esc(out, json_string_value(a));
    }
    fputs("</code></dd>\n<dt>run directory</dt><dd><code>", out);
    esc(out, contend_js(run, "run_dir"));
    fputs("</code></dd>\n<dt>contend</dt><dd>", out);
    esc(out, contend_js(run, "version"));
    fputs("</dd>\n</dl>\n</header>\n", out);
}

/* "x (± 3.1 %)" when the case was repeated. */
static void fig_cell(FILE *out, const struct contend_case_result *c, enum contend_fig f,
                     bool latency)
{
    char a[48], b[48];
    if (latency)
        contend_fmt_us(a, sizeof a, c->fig[f]);
    else
        contend_fmt_fig(a, sizeof a, c->fig[f]);
    if (c->summary[f].n > 1) {
        snprintf(b, sizeof b, "%s (spread %.1f %%)", a, c->summary[f].spread_pct);
        td_num(out, b);
    } else {
        td_num(out, a);
    }
}

static void gates_text(const json_t *c, char *buf, size_t len)
{
    const char *k;
    json_t *v;
    size_t n = 0;
    buf[0] = '\0';
    json_object_foreach ((json_t *)json_object_get(c, "gates"), k, v) {
        char num[32];
        n += (size_t)snprintf(
            buf + n, n < len ? len - n : 0, "%s%s %s", n ? ", " : "", k,
            json_is_number(v) ? contend_fmt_fig(num, sizeof num, json_number_value(v)) : "?");
        if (n >= len)
            break;
    }
}

static void verdict_table(const json_t *run, FILE *out)
{
    const json_t *cases = json_object_get(run, "cases");
    size_t i;
    json_t *entry;
    char buf[256];

    fputs(
        "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table>\n<thead><tr><th>case</th>"
        "<th>workload</th><th>target</th><th>p&times;t</th><th>ops ok/fail/info</th>"
        "<th>tx/s</th><th>p50</th><th>p99</th><th>gates</th><th>faults</th><th>verdict</th></tr></thead>"
        "\n<tbody>\n",
        out);
    json_array_foreach (cases, i, entry) {
        struct contend_case_result r, *c = &r;
        contend_case_result_read(entry, &r);
        contend_putf(out, "<tr class=\"%s\"><td><a href=\"#case-%zu\">", vclass(c), i + 1);
        esc(out, or_empty(c->name));
        fputs("</a>", out);
        if (c->description) {
            fputs("<br><span class=\"muted\">", out);
            esc(out, c->description);
            fputs("</span>", out);
        }
        fputs("</td>", out);
        td(out, or_empty(c->workload));
        snprintf(buf, sizeof buf, "%s:%s", or_empty(c->target), or_empty(c->variant));
        td(out, buf);
        snprintf(buf, sizeof buf, "%lu×%lu", (unsigned long)c->procs, (unsigned long)c->threads);
        td_num(out, buf);
        snprintf(buf, sizeof buf, "%llu/%llu/%llu", (unsigned long long)c->n_ok,
                 (unsigned long long)c->n_fail, (unsigned long long)c->n_info);
        td_num(out, buf);
        fig_cell(out, c, CONTEND_FIG_TPS, false);
        fig_cell(out, c, CONTEND_FIG_P50, true);
        fig_cell(out, c, CONTEND_FIG_P99, true);
        gates_text(entry, buf, sizeof buf);
        td(out, buf);
        td(out, contend_fmt_fault_counts(buf, sizeof buf, c));
        contend_report_verdict(entry, buf, sizeof buf);
        td(out, buf);
        fputs("</tr>\n", out);
        contend_case_result_free(&r);
    }
    fputs("</tbody>\n</table>\n</section>\n", out);
}

/* 1500000 -> "1.5M": axis labels. */
static const char *compact(char *buf, size_t len, double v)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.3gG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.3gM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.3gk", v / 1e3);
    else
        snprintf(buf, len, "%.3g", v);
    return buf;
}

/* Median tx/s of every case side by side, log scale (the harness's own
 * overhead and a locked file differ by four orders of magnitude). */
static void overview(const json_t *run, FILE *out)
{
    const json_t *cases = json_object_get(run, "cases");
    size_t n = json_array_size(cases), i;
    json_t *c;
    double lo = INFINITY, hi = -INFINITY;
    const double left = 16, width = 760, bar_x = 16, bar_w = width - 140, row = 34;
    char a[48];

    json_array_foreach (cases, i, c) {
        double v = contend_jn(c, "throughput_tps");
        const json_t *s = json_object_get(json_object_get(c, "summary"), "throughput_tps");
        double mn = contend_jn(s, "min"), mx = contend_jn(s, "max");
        if (v > 0) {
            lo = fmin(lo, fmin(v, mn > 0 ? mn : v));
            hi = fmax(hi, fmax(v, mx > 0 ? mx : v));
        }
    }
    if (!isfinite(lo) || n == 0)
        return;
    double dlo = floor(log10(lo)), dhi = ceil(log10(hi));
    if (dhi - dlo < 1)
        dhi = dlo + 1;
#define XOF(v) (bar_x + (log10(v) - dlo) / (dhi - dlo) * bar_w)
    double h = 30 + row * (double)n + 24;
    fputs("<section id=\"overview\">\n<h2>Throughput by case</h2>\n", out);
    contend_putf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" role=\"img\" "
                 "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n"
                 "<title>median throughput by case, tx/s, log scale</title>\n"
                 "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n",
                 width, h, width, h, width, h);
    for (double d = dlo; d <= dhi + 1e-9; d += 1) {
        double x = XOF(pow(10, d));
        contend_putf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"20\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                     "<text x=\"%.1f\" y=\"14\" text-anchor=\"%s\">%s</text>\n",
                     x, x, h - 24, x, d == dlo ? "start" : "middle",
                     compact(a, sizeof a, pow(10, d)));
    }
    json_array_foreach (cases, i, c) {
        double v = contend_jn(c, "throughput_tps");
        double y = 30 + row * (double)i;
        contend_putf(out, "<text x=\"%.0f\" y=\"%.1f\">", left, y + 8);
        esc(out, contend_js(c, "name"));
        fputs("</text>\n", out);
        if (!(v > 0))
            continue;
        contend_putf(out,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" "
                     "fill=\"%s\"><title>",
                     bar_x, y + 12, fmax(XOF(v) - bar_x, 1), contend_plot_color(0));
        esc(out, contend_js(c, "name"));
        contend_putf(out, ": %s tx/s</title></rect>\n", contend_fmt_fig(a, sizeof a, v));
        const json_t *s = json_object_get(json_object_get(c, "summary"), "throughput_tps");
        double mn = contend_jn(s, "min"), mx = contend_jn(s, "max");
        if (contend_ji(s, "n") > 1 && mn > 0 && mx > 0)
            contend_putf(out,
                         "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                         "stroke=\"#222\" stroke-width=\"1.5\"/>\n",
                         XOF(mn), XOF(mx), y + 18, y + 18);
        contend_putf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", XOF(v) + 6, y + 22,
                     contend_fmt_fig(a, sizeof a, v));
    }
#undef XOF
    fputs("</svg>\n<p class=\"muted\">tx/s, log scale. Bars are medians over the "
          "repetitions; a black line spans min to max.</p>\n</section>\n",
          out);
}

/* ---- one case ---------------------------------------------------------- */

static void fact(FILE *out, const char *name, const char *value)
{
    fputs("<dt>", out);
    esc(out, name);
    fputs("</dt><dd>", out);
    esc(out, value);
    fputs("</dd>\n", out);
}

static void facts(const struct contend_case_result *c, FILE *out)
{
    char buf[256];
    fputs("<dl class=\"facts\">\n", out);
    fact(out, "workload", or_empty(c->workload));
    snprintf(buf, sizeof buf, "%s, variant %s", or_empty(c->target), or_empty(c->variant));
    fact(out, "target", buf);
    unsigned long np = c->procs, nt = c->threads;
    snprintf(buf, sizeof buf, "%lu process%s × %lu thread%s", np, np == 1 ? "" : "es", nt,
             nt == 1 ? "" : "s");
    fact(out, "workers", buf);
    if (!isnan(c->duration_target_s))
        snprintf(buf, sizeof buf, "for %g s", c->duration_target_s);
    else
        snprintf(buf, sizeof buf, "%llu per thread", (unsigned long long)c->ops_per_thread);
    fact(out, "ops", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->keys);
    fact(out, "keys", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)c->seed);
    fact(out, "seed", buf);
    if (c->perturb_us) {
        snprintf(buf, sizeof buf, "up to %llu µs", (unsigned long long)c->perturb_us);
        fact(out, "perturb", buf);
    }
    fact(out, "expect", c->expect ? c->expect : "no violation");
    snprintf(buf, sizeof buf, "%lu (%lu failed)", (unsigned long)c->nruns,
             (unsigned long)c->failed_runs);
    fact(out, "repetitions", buf);
    fputs("</dl>\n", out);
}

static void figures(const json_t *c, FILE *out)
{
    static const struct {
        const char *key, *label;
        bool latency;
    } figs[] = {
        {"throughput_tps", "throughput (tx/s)", false},
        {"p50_us", "latency p50", true},
        {"p90_us", "latency p90", true},
        {"p99_us", "latency p99", true},
        {"p999_us", "latency p99.9", true},
        {"max_us", "latency max", true},
        {"duration_s", "duration (s)", false},
    };
    const json_t *sum = json_object_get(c, "summary");
    char a[48];
    if (!json_object_size(sum))
        return;
    if (contend_ji(json_object_get(sum, "throughput_tps"), "n") < 2) {
        fputs("<table class=\"figures\">\n<thead><tr><th>figure</th><th>value</th></tr>"
              "</thead>\n<tbody>\n",
              out);
        for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
            const json_t *s = json_object_get(sum, figs[i].key);
            if (!s)
                continue;
            double v = contend_jn(s, "median");
            fputs("<tr>", out);
            td(out, figs[i].label);
            td_num(out, figs[i].latency ? contend_fmt_us(a, sizeof a, v)
                                        : contend_fmt_fig(a, sizeof a, v));
            fputs("</tr>\n", out);
        }
        fputs("</tbody>\n</table>\n", out);
        return;
    }
    fputs("<table class=\"figures\">\n<thead><tr><th>figure</th><th>median</th><th>min</th>"
          "<th>max</th><th>spread</th></tr></thead>\n<tbody>\n",
          out);
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
        const json_t *s = json_object_get(sum, figs[i].key);
        if (!s)
            continue;
        fputs("<tr>", out);
        td(out, figs[i].label);
        static const char *const cols[] = {"median", "min", "max"};
        for (size_t k = 0; k < 3; k++) {
            double v = contend_jn(s, cols[k]);
            td_num(out, figs[i].latency ? contend_fmt_us(a, sizeof a, v)
                                        : contend_fmt_fig(a, sizeof a, v));
        }
        snprintf(a, sizeof a, "%.1f %%", contend_jn(s, "spread_pct"));
        td_num(out, a);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n<p class=\"muted\">Over the repetitions; spread is "
          "(max &minus; min) / median.</p>\n",
          out);
}

/* Whatever gates the case has; a gate failed when the gate message names it. */
static void gates(const struct contend_case_result *c, FILE *out)
{
    /* Every gate the file names, known to this version or not. */
    const json_t *g = json_object_get(c->entry, "gates");
    const char *gate_msg = or_empty(c->gate);
    const char *k;
    json_t *v;
    char a[48], key[80];
    if (!json_object_size(g))
        return;
    fputs("<h3>Gates</h3>\n<table>\n<thead><tr><th>gate</th><th>limit</th><th>measured</th>"
          "<th>result</th></tr></thead>\n<tbody>\n",
          out);
    json_object_foreach ((json_t *)g, k, v) {
        double measured = NAN;
        bool latency = false;
        if (strcmp(k, "min_tps") == 0)
            measured = c->fig[CONTEND_FIG_TPS];
        else if (strcmp(k, "max_p99_us") == 0) {
            measured = c->fig[CONTEND_FIG_P99];
            latency = true;
        }
        snprintf(key, sizeof key, "%s:", k);
        bool failed = strstr(gate_msg, key) != NULL;
        contend_putf(out, "<tr class=\"%s\">", failed ? "gate" : "pass");
        td(out, k);
        td_num(out, json_is_number(v) ? contend_fmt_fig(a, sizeof a, json_number_value(v)) : "?");
        td_num(out, latency ? contend_fmt_us(a, sizeof a, measured)
                            : contend_fmt_fig(a, sizeof a, measured));
        td(out, failed ? "FAILED"
                : (c->verdict == CONTEND_VERDICT_FAIL || c->verdict == CONTEND_VERDICT_ERROR)
                    ? "not judged (the case failed)"
                    : "passed");
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* Throughput over time from the case's 100 ms series; events shaded. */
void contend_html_throughput_plot(const json_t *c, FILE *out)
{
    const json_t *se = json_object_get(c, "series");
    const json_t *ops = json_object_get(se, "ops");
    const json_t *events = json_object_get(c, "events");
    double interval = contend_jn(se, "interval_ms") / 1e3;
    double dur = contend_jn(c, "duration_s");
    /* The series is one repetition's (the first failing one): its duration,
     * not the median, cuts the last interval short. */
    size_t ri;
    json_t *r;
    json_array_foreach (json_object_get(c, "runs"), ri, r) {
        if (json_equal(json_object_get(r, "series"), (json_t *)se)) {
            dur = contend_jn(r, "duration_s");
            break;
        }
    }
    size_t n = json_array_size(ops), ne = json_array_size(events);
    if (n == 0 || !(interval > 0))
        return;
    if (n < 2) {
        contend_putf(out,
                     "<p class=\"muted\">Throughput over time: the run took %.3f s, "
                     "less than two %.0f ms intervals; run longer (duration = 2s) for "
                     "a time series.</p>\n",
                     isnan(dur) ? 0 : dur, interval * 1e3);
        return;
    }

    double *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
    struct contend_plot_band *b = calloc(ne ? ne : 1, sizeof *b);
    char **labels = calloc(ne ? ne : 1, sizeof *labels);
    if (!x || !y || !b || !labels)
        goto out;
    for (size_t i = 0; i < n; i++) {
        double t0 = (double)i * interval, len = interval;
        /* The last interval is cut short by the end of the run. */
        if (dur > t0 && dur < t0 + interval)
            len = dur - t0;
        x[i] = t0 + len / 2;
        y[i] =
            len >= interval * 0.1 ? (double)json_integer_value(json_array_get(ops, i)) / len : NAN;
    }
    for (size_t i = 0; i < ne; i++) {
        const json_t *e = json_array_get(events, i);
        double t = contend_jn(e, "t_ms") / 1e3, d = contend_jn(e, "dur_ms") / 1e3;
        b[i].x0 = isnan(t) ? 0 : t;
        b[i].x1 = b[i].x0 + (isnan(d) ? 0 : d);
        labels[i] = malloc(strlen(contend_js(e, "kind")) + strlen(contend_js(e, "detail")) + 4);
        if (labels[i])
            sprintf(labels[i], "%s: %s", contend_js(e, "kind"), contend_js(e, "detail"));
        b[i].label = labels[i] ? labels[i] : "";
    }
    struct contend_plot_series s = {.label = contend_js(c, "name"), .x = x, .y = y, .n = n};
    struct contend_plot p = {
        .title = ne ? "throughput over time (faults shaded)" : "throughput over time",
        .xlabel = "seconds since the start",
        .ylabel = "tx/s",
        .x_from_zero = true,
        .width = 520,
        .height = 260,
        .series = &s,
        .nseries = 1,
        .bands = b,
        .nbands = ne,
    };
    contend_svg_plot(out, &p);
out:
    for (size_t i = 0; labels && i < ne; i++)
        free(labels[i]);
    free(labels);
    free(b);
    free(x);
    free(y);
}

/* The percentile curve on a "nines" axis: x = -log10(1 - q), y log. */
static double nines(double pct)
{
    return pct >= 100 ? NAN : -log10(1 - pct / 100);
}

void contend_html_latency_plot(const json_t *c, FILE *out)
{
    const json_t *curve = json_object_get(c, "latency_curve_us");
    size_t n = json_array_size(curve), k = 0;
    double x[32], y[32], top = 3;
    if (n == 0) {
        /* An older run.json: the fixed percentiles. */
        static const struct {
            const char *k;
            double pct;
        } pts[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};
        for (size_t i = 0; i < 4; i++) {
            x[k] = nines(pts[i].pct);
            y[k++] = contend_jn2(c, "latency_us", pts[i].k);
        }
    }
    for (size_t i = 0; i < n && k < 31; i++) {
        const json_t *pt = json_array_get(curve, i);
        double pct = json_number_value(json_array_get(pt, 0));
        double v = json_number_value(json_array_get(pt, 1));
        if (pct >= 100)
            continue;
        x[k] = nines(pct);
        y[k++] = v;
        if (x[k - 1] > top)
            top = ceil(x[k - 1]);
    }
    double mx = contend_jn2(c, "latency_us", "max");
    if (!isnan(mx)) {
        x[k] = top + 0.6;
        y[k++] = mx;
    }
    if (k == 0)
        return;
    static const char *const tl[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};
    double ticks[9];
    const char *labels[9];
    size_t nt = 0;
    for (int d = 0; d <= (int)top && nt < 7; d++) {
        ticks[nt] = d;
        labels[nt++] = tl[d];
    }
    ticks[nt] = top + 0.6;
    labels[nt++] = "max";
    struct contend_plot_series s = {.label = contend_js(c, "name"), .x = x, .y = y, .n = k};
    struct contend_plot p = {
        .title = "latency by percentile (log scales)",
        .xlabel = "percentile",
        .ylabel = "latency",
        .ylog = true,
        .ytick_us = true,
        .width = 520,
        .height = 260,
        .series = &s,
        .nseries = 1,
        .xticks = ticks,
        .xtick_labels = labels,
        .nxticks = nt,
    };
    contend_svg_plot(out, &p);
}

static void repetitions(const json_t *c, FILE *out)
{
    const json_t *runs = json_object_get(c, "runs");
    size_t i;
    json_t *r;
    char a[64];
    if (json_array_size(runs) < 2)
        return;
    fputs("<h3>Repetitions</h3>\n<table>\n<thead><tr><th>seed</th><th>tx/s</th><th>p50</th>"
          "<th>p99</th><th>violations</th><th>verdict</th></tr></thead>\n<tbody>\n",
          out);
    json_array_foreach (runs, i, r) {
        struct contend_run_result rr;
        contend_run_result_read(r, &rr);
        contend_putf(out, "<tr class=\"%s\">", vclass_of(rr.verdict, rr.ok));
        snprintf(a, sizeof a, "%llu", (unsigned long long)rr.seed);
        td_num(out, a);
        td_num(out, contend_fmt_fig(a, sizeof a, rr.fig[CONTEND_FIG_TPS]));
        td_num(out, contend_fmt_us(a, sizeof a, rr.fig[CONTEND_FIG_P50]));
        td_num(out, contend_fmt_us(a, sizeof a, rr.fig[CONTEND_FIG_P99]));
        fputs("<td>", out);
        size_t j;
        json_t *v;
        json_array_foreach (json_object_get(r, "violations"), j, v) {
            if (j)
                fputs(", ", out);
            esc(out, contend_js(v, "kind"));
            contend_putf(out, " (%lld)", contend_ji(v, "count"));
        }
        fputs("</td>", out);
        td(out, contend_verdict_name(rr.verdict));
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

/* ---- the timeline of a violation ---------------------------------------- */

static void op_title(FILE *out, const json_t *op)
{
    char buf[256];
    const json_t *tc = json_object_get(op, "t_complete_ms");
    snprintf(buf, sizeof buf, "worker %lld.%lld op #%lld: %s k%lld", contend_ji(op, "worker"),
             contend_ji(op, "thread"), contend_ji(op, "index"), contend_js(op, "op"),
             contend_ji(op, "key"));
    esc(out, buf);
    if (strcmp(contend_js(op, "status"), "ok") == 0 &&
        json_is_integer(json_object_get(op, "value")))
        contend_putf(out, " = %lld", contend_ji(op, "value"));
    fputs(" (", out);
    esc(out, contend_js(op, "status"));
    if (json_is_number(tc))
        contend_putf(out, "), +%.3f..%.3f ms", contend_jn(op, "t_invoke_ms"),
                     json_number_value(tc));
    else
        contend_putf(out, "), +%.3f ms, never completed", contend_jn(op, "t_invoke_ms"));
    if (json_is_string(json_object_get(op, "err"))) {
        fputs(": ", out);
        esc(out, contend_js(op, "err"));
    }
    if (json_is_true(json_object_get(op, "witness")))
        fputs(" — named by the checker", out);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void timeline(const json_t *c, const json_t *v, FILE *out)
{
    const json_t *ops = json_object_get(v, "context");
    bool has_context = json_array_size(ops) > 0;
    if (!has_context)
        ops = json_object_get(v, "ops");
    size_t n = json_array_size(ops), i, nl = 0;
    json_t *op;
    if (n == 0)
        return;

    long long *lanes = calloc(n, sizeof *lanes);
    if (!lanes)
        return;
    double t0 = INFINITY, t1 = -INFINITY;
    json_array_foreach (ops, i, op) {
        long long w = contend_ji(op, "writer");
        bool seen = false;
        for (size_t k = 0; k < nl; k++)
            seen |= lanes[k] == w;
        if (!seen)
            lanes[nl++] = w;
        double a = contend_jn(op, "t_invoke_ms"), b = contend_jn(op, "t_complete_ms");
        t0 = fmin(t0, a);
        t1 = fmax(t1, isnan(b) ? a : b);
    }
    qsort(lanes, nl, sizeof *lanes, cmp_ll);
    if (!(t1 > t0))
        t1 = t0 + 0.001;
    double span = t1 - t0;
    t1 += span * 0.06; /* room for ops that never completed */

    const double left = 96, width = 780, lane_h = 30, top = 24;
    double plot_w = width - left - 12, h = top + lane_h * (double)nl + 40;
    long long threads = contend_ji(c, "threads");
#define TX(t) (left + ((t)-t0) / (t1 - t0) * plot_w)
    contend_putf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" "
                 "role=\"img\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n<title>ops around the ",
                 width, h, width, h);
    esc(out, contend_js(v, "kind"));
    fputs(", one lane per worker thread</title>\n", out);
    contend_putf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n",
                 width, h);
    for (size_t l = 0; l < nl; l++) {
        double y = top + lane_h * (double)l;
        /* The lane's label: worker (and thread) of its first op. */
        json_array_foreach (ops, i, op) {
            if (contend_ji(op, "writer") != lanes[l])
                continue;
            if (threads > 1)
                contend_putf(out, "<text x=\"6\" y=\"%.1f\">worker %lld.%lld</text>\n", y + 17,
                             contend_ji(op, "worker"), contend_ji(op, "thread"));
            else
                contend_putf(out, "<text x=\"6\" y=\"%.1f\">worker %lld</text>\n", y + 17,
                             contend_ji(op, "worker"));
            break;
        }
        contend_putf(out,
                     "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#eee\"/>\n",
                     left, width - 12, y + lane_h, y + lane_h);
    }
    /* Time axis in ms since the start barrier. */
    double base = top + lane_h * (double)nl;
    /* Enough decimals that neighbouring ticks differ (30 ns ops). */
    /* Clamp in floating point before the cast: a run.json edited by hand or
     * fuzzed can hold times whose span is infinite or NaN, and converting
     * such a value to int is undefined. */
    double want = ceil(-log10(span / 4)) + 1;
    int decimals = !(want > 3) ? 3 : want > 6 ? 6 : (int)want;
    for (int k = 0; k <= 4; k++) {
        double t = t0 + span * k / 4.0;
        contend_putf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.1f\" "
                     "stroke=\"#ccc\" stroke-dasharray=\"2 3\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f ms</text>\n",
                     TX(t), TX(t), top, base + 4, TX(t), base + 18, decimals, t);
    }
    json_array_foreach (ops, i, op) {
        size_t l = 0;
        while (l < nl && lanes[l] != contend_ji(op, "writer"))
            l++;
        double a = contend_jn(op, "t_invoke_ms"), b = contend_jn(op, "t_complete_ms");
        bool open = isnan(b);
        bool hot = has_context ? json_is_true(json_object_get(op, "witness")) : true;
        bool failed = !open && strcmp(contend_js(op, "status"), "ok") != 0;
        double x = TX(a), w = fmax(TX(open ? t1 : b) - x, 2), y = top + lane_h * (double)l + 7;
        contend_putf(out,
                     "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"14\" fill=\"%s\" stroke=\"%s\"%s><title>",
                     hot ? "op witness" : "op", x, y, w,
                     hot      ? "#d55e00"
                     : failed ? "#bbbbbb"
                              : "#9cc3e6",
                     hot ? "#000" : "#4a7fb0",
                     open ? " stroke-dasharray=\"3 2\" fill-opacity=\"0.5\"" : "");
        op_title(out, op);
        fputs("</title></rect>\n", out);
        if (!hot && w >= 28 && strcmp(contend_js(op, "status"), "ok") == 0 &&
            json_is_integer(json_object_get(op, "value")) && contend_ji(op, "value") >= 0)
            contend_putf(out,
                         "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" "
                         "fill=\"#234\">=%lld</text>\n",
                         x + 3, y + 10.5, contend_ji(op, "value"));
        if (hot) {
            /* Near the right edge the label ends at the op instead of starting there. */
            bool right = x > left + plot_w * 0.85;
            contend_putf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\"%s>#%lld ",
                         right ? x + w : x, y - 1, right ? " text-anchor=\"end\"" : "",
                         contend_ji(op, "index"));
            esc(out, contend_js(op, "op"));
            if (strcmp(contend_js(op, "status"), "ok") == 0 &&
                json_is_integer(json_object_get(op, "value")))
                contend_putf(out, " =%lld", contend_ji(op, "value"));
            fputs("</text>\n", out);
        }
    }
#undef TX
    contend_putf(out,
                 "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"8\" fill=\"#d55e00\" "
                 "stroke=\"#000\"/><text x=\"%.0f\" y=\"%.1f\">named by the checker</text>"
                 "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"8\" fill=\"#9cc3e6\"/>"
                 "<text x=\"%.0f\" y=\"%.1f\">other ops (hover for details)</text>\n",
                 left, base + 26, left + 16, base + 34, left + 170, base + 26, left + 186,
                 base + 34);
    fputs("</svg>\n", out);
    free(lanes);
}

static void violations(const json_t *c, FILE *out)
{
    const json_t *vs = json_object_get(c, "violations");
    size_t i;
    json_t *v;
    if (json_array_size(vs) == 0)
        return;
    fputs("<h3>Violations</h3>\n", out);
    json_array_foreach (vs, i, v) {
        fputs("<div class=\"violation\">\n<h4>", out);
        esc(out, contend_js(v, "kind"));
        contend_putf(out, " <span class=\"muted\">(count %lld", contend_ji(v, "count"));
        if (contend_ji(v, "runs") > 1)
            contend_putf(out, ", in %lld runs", contend_ji(v, "runs"));
        fputs(")</span></h4>\n<p class=\"msg\">", out);
        esc(out, contend_js(v, "message"));
        fputs("</p>\n", out);
        timeline(c, v, out);
        fputs("</div>\n", out);
    }
}

static void events_table(const json_t *c, FILE *out)
{
    const json_t *ev = json_object_get(c, "events");
    size_t i;
    json_t *e;
    char a[48];
    if (json_array_size(ev) == 0)
        return;
    fputs("<h3>Events</h3>\n<table>\n<thead><tr><th>at</th><th>for</th><th>kind</th>"
          "<th>detail</th></tr></thead>\n<tbody>\n",
          out);
    json_array_foreach (ev, i, e) {
        fputs("<tr>", out);
        snprintf(a, sizeof a, "%.3f s", contend_jn(e, "t_ms") / 1e3);
        td_num(out, a);
        snprintf(a, sizeof a, "%.3f s", contend_jn(e, "dur_ms") / 1e3);
        td_num(out, a);
        td(out, contend_js(e, "kind"));
        td(out, contend_js(e, "detail"));
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

static void trouble(const struct contend_case_result *c, FILE *out)
{
    const struct {
        const char *value, *label;
    } items[] = {
        {c->error, "error"},
        {c->inconclusive_reason, "inconclusive"},
        {c->missing, "expected but not found"},
        {c->gate, "gate failed"},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (!items[i].value)
            continue;
        fputs("<p><strong>", out);
        esc(out, items[i].label);
        fputs(":</strong> ", out);
        esc(out, items[i].value);
        fputs("</p>\n", out);
    }
    if (c->repro) {
        fputs("<p>Reproduce:</p>\n<pre><code>", out);
        esc(out, c->repro);
        fputs("</code></pre>\n", out);
    }
    if (c->case_dir) {
        fputs("<p class=\"muted\">Kept: <code>", out);
        esc(out, c->case_dir);
        fputs("</code></p>\n", out);
    }
}

static void one_case(const json_t *c, size_t idx, FILE *out)
{
    char buf[256];
    struct contend_case_result r;
    contend_case_result_read(c, &r);
    contend_putf(out, "<section class=\"case\" id=\"case-%zu\">\n<h2>", idx);
    esc(out, or_empty(r.name));
    contend_report_verdict(c, buf, sizeof buf);
    contend_putf(out, " <span class=\"badge %s\">", vclass(&r));
    esc(out, buf);
    fputs("</span></h2>\n", out);
    if (r.description) {
        fputs("<p>", out);
        esc(out, r.description);
        fputs("</p>\n", out);
    }
    facts(&r, out);
    figures(c, out);
    gates(&r, out);
    trouble(&r, out);
    fputs("<div class=\"plots\">\n", out);
    contend_html_throughput_plot(c, out);
    contend_html_latency_plot(c, out);
    fputs("</div>\n", out);
    events_table(c, out);
    violations(c, out);
    repetitions(c, out);
    fputs("</section>\n", out);
    contend_case_result_free(&r);
}

void contend_report_html(const json_t *run, FILE *out)
{
    size_t i;
    json_t *c;
    head(run, out);
    fputs("<main>\n", out);
    verdict_table(run, out);
    overview(run, out);
    json_array_foreach (json_object_get(run, "cases"), i, c) {
        one_case(c, i + 1, out);
    }
    fputs("</main>\n<footer>Rendered from run.json by contend ", out);
    esc(out, contend_js(run, "version"));
    fputs(". Self-contained: no scripts, no network.</footer>\n</body>\n</html>\n", out);
}
