/*
 * compare_html.c - the page of `contend compare --html` (and `contend ab
 * --html`): the verdict of every case and figure, why it is what it is, the
 * machine probe's drift, and per case the plots of both sides side by side,
 * base on the left, new on the right, drawn by the run report's own plot
 * functions (html.c) so that the two pages read alike.
 *
 * Like the run report it is self-contained and script-free, and every
 * string from the run.json files goes through the escaper.
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "compare.h"
#include "report.h"

#define esc contend_put_escaped

static const json_t *case_of(const json_t *run, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(run, "cases"), i, c) {
        if (strcmp(contend_js(c, "name"), name) == 0)
            return c;
    }
    return NULL;
}

/* slower: the gate's colour; faster and no change: pass; the rest: muted. */
static const char *verdict_class(const char *v)
{
    if (strcmp(v, "slower") == 0)
        return "fail";
    if (strcmp(v, "faster") == 0 || strcmp(v, "no change") == 0)
        return "pass";
    return "gate";
}

static void cell(FILE *out, const char *cls, const char *s)
{
    contend_putf(out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    esc(out, s);
    fputs("</td>", out);
}

static void side_line(FILE *out, const char *what, const json_t *side)
{
    contend_putf(out, "<dt>%s</dt><dd>", what);
    esc(out, contend_js(side, "path"));
    fputs(" (", out);
    esc(out, contend_js(side, "scenario"));
    fputs(", ", out);
    esc(out, contend_js(side, "started_at"));
    fputs(")</dd>\n", out);
}

static void figure_row(FILE *out, const json_t *c, size_t idx, const json_t *f, bool first)
{
    char buf[64];
    fputs("<tr>", out);
    if (first) {
        contend_putf(out, "<td rowspan=\"%zu\"><a href=\"#case-%zu\">",
                     json_array_size(json_object_get(c, "figures")), idx);
        esc(out, contend_js(c, "name"));
        fputs("</a></td>", out);
    }
    cell(out, NULL, contend_js(f, "label"));
    snprintf(buf, sizeof buf, "%lld v %lld", contend_ji(f, "runs_base"), contend_ji(f, "runs_new"));
    cell(out, "num", buf);
    bool us = strcmp(contend_js(f, "better"), "lower") == 0;
    for (int k = 0; k < 2; k++) {
        double v = contend_jn(f, k ? "new_median" : "base_median");
        if (us)
            contend_fmt_us(buf, sizeof buf, v);
        else
            contend_fmt_fig(buf, sizeof buf, v);
        cell(out, "num", buf);
    }
    double ch = contend_jn(f, "change_pct"), p = contend_jn(f, "p_adjusted");
    snprintf(buf, sizeof buf, isnan(ch) ? "-" : "%+.1f %%", ch);
    cell(out, "num", buf);
    snprintf(buf, sizeof buf, "±%.1f / ±%.1f %%", contend_jn(f, "spread_base_pct") / 2,
             contend_jn(f, "spread_new_pct") / 2);
    cell(out, "num", buf);
    snprintf(buf, sizeof buf, isnan(p) ? "-" : p < 0.0001 ? "<0.0001" : "%.4f", p);
    cell(out, "num", buf);
    const char *v = contend_js(f, "verdict");
    contend_putf(out, "<td><span class=\"badge %s\">", verdict_class(v));
    esc(out, v);
    fputs("</span></td>", out);
    cell(out, NULL, json_is_string(json_object_get(f, "why")) ? contend_js(f, "why") : "");
    fputs("</tr>\n", out);
}

static void verdicts(const json_t *cmp, FILE *out)
{
    size_t i, j;
    json_t *c, *f;
    fputs(
        "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table>\n<thead><tr><th>case</th><th>figure</th><th>runs</th>"
        "<th>base</th><th>new</th><th>change</th><th>spread (IQR/2)</th><th>p</th>"
        "<th>verdict</th><th>why</th></tr></thead>\n<tbody>\n",
        out);
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        const json_t *figs = json_object_get(c, "figures");
        if (!figs) {
            contend_putf(out, "<tr><td><a href=\"#case-%zu\">", i + 1);
            esc(out, contend_js(c, "name"));
            fputs("</a></td><td colspan=\"9\">", out);
            esc(out, contend_js(c, "status"));
            fputs("</td></tr>\n", out);
            continue;
        }
        json_array_foreach (figs, j, f) {
            figure_row(out, c, i + 1, f, j == 0);
        }
    }
    fputs("</tbody>\n</table>\n</section>\n", out);
}

static void probe_line(const json_t *c, FILE *out)
{
    const json_t *pr = json_object_get(c, "probe");
    double dc = contend_jn2(pr, "cpu_mops", "drift_pct");
    double df = contend_jn2(pr, "fsync_per_s", "drift_pct");
    if (isnan(dc) && isnan(df)) {
        fputs("<p class=\"muted\">No machine probe in these runs.</p>\n", out);
        return;
    }
    contend_putf(out,
                 "<p>Machine probe, base &rarr; new: CPU loop %.0f &rarr; %.0f M/s (%+.1f %%), "
                 "fsync %.0f &rarr; %.0f /s (%+.1f %%).</p>\n",
                 contend_jn2(pr, "cpu_mops", "base"), contend_jn2(pr, "cpu_mops", "new"), dc,
                 contend_jn2(pr, "fsync_per_s", "base"), contend_jn2(pr, "fsync_per_s", "new"), df);
}

static void one_case(const json_t *c, const json_t *cb, const json_t *cn, size_t idx, FILE *out)
{
    const char *v = contend_js(c, "verdict");
    contend_putf(out, "<section class=\"case\" id=\"case-%zu\">\n<h2>", idx);
    esc(out, contend_js(c, "name"));
    contend_putf(out, " <span class=\"badge %s\">", verdict_class(v));
    esc(out, v);
    fputs("</span></h2>\n", out);
    probe_line(c, out);
    if (json_is_string(json_object_get(c, "warning"))) {
        fputs("<p class=\"muted\">", out);
        esc(out, contend_js(c, "warning"));
        fputs("</p>\n", out);
    }
    fputs("<div class=\"plots\">\n", out);
    for (int k = 0; k < 2; k++) {
        const json_t *x = k ? cn : cb;
        contend_putf(out, "<div><h3>%s</h3>\n", k ? "new" : "base");
        if (x) {
            contend_html_throughput_plot(x, out);
            contend_html_latency_plot(x, out);
        } else {
            fputs("<p class=\"muted\">not in this run</p>\n", out);
        }
        fputs("</div>\n", out);
    }
    fputs("</div>\n</section>\n", out);
}

void contend_compare_html(const json_t *cmp, const json_t *base_run, const json_t *new_run,
                          FILE *out)
{
    size_t i;
    json_t *c;
    bool reg = json_array_size(json_object_get(cmp, "regressed")) > 0;
    contend_html_begin(out,
                       "contend compare: ", contend_js(json_object_get(cmp, "new"), "scenario"));
    fputs("<header>\n<h1>contend compare</h1>\n", out);
    contend_putf(out, "<p class=\"overall %s\">%s &mdash; exit %lld</p>\n", reg ? "fail" : "pass",
                 reg ? "a case regressed" : "no case regressed", contend_ji(cmp, "exit_code"));
    fputs("<dl class=\"facts\">\n", out);
    side_line(out, "base", json_object_get(cmp, "base"));
    side_line(out, "new", json_object_get(cmp, "new"));
    fputs("<dt>machine</dt><dd>", out);
    contend_html_machine(out, json_object_get(new_run, "machine"));
    contend_putf(out,
                 "</dd>\n<dt>rule</dt><dd>slower = beyond %g %% also after the machine "
                 "probe's drift, beyond the spread of either side, and significant "
                 "(Mann-Whitney U over repetitions, &alpha; %g, Holm-adjusted)</dd>\n</dl>\n"
                 "</header>\n<main>\n",
                 contend_jn(cmp, "max_slowdown_pct"), contend_jn(cmp, "alpha"));
    verdicts(cmp, out);
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        const char *name = contend_js(c, "name");
        one_case(c, case_of(base_run, name), case_of(new_run, name), i + 1, out);
    }
    fputs("</main>\n<footer>Rendered by contend ", out);
    esc(out, contend_js(cmp, "version"));
    fputs(". Self-contained: no scripts, no network.</footer>\n</body>\n</html>\n", out);
}
