/*
 * markdown.c - the verdict and figures table in GitHub-flavoured Markdown,
 * for a CI step summary ($GITHUB_STEP_SUMMARY) or a merge request comment.
 *
 * Step summaries render Markdown *and* inline HTML, so text from run.json is
 * escaped twice over: HTML's & < > become entities, and Markdown's own
 * punctuation (| * _ ` [ ] \ ~ # !) gets a backslash, so a case name can
 * neither break the table nor become a link or markup.  Commands go into
 * fenced code blocks whose fence is longer than any run of backticks inside.
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "report.h"

static void md(FILE *out, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '\n':
        case '\r':
        case '\t': fputc(' ', out); break;
        case '|': case '*': case '_': case '`': case '[': case ']':
        case '\\': case '~': case '#': case '!':
            fputc('\\', out);
            fputc(*p, out);
            break;
        default:
            if ((unsigned char)*p >= 0x20)
                fputc(*p, out);
        }
    }
}

static void code_block(FILE *out, const char *s)
{
    size_t run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    for (size_t i = 0; i < fence; i++)
        fputc('`', out);
    fputs("sh\n", out);
    fputs(s, out);
    fputc('\n', out);
    for (size_t i = 0; i < fence; i++)
        fputc('`', out);
    fputc('\n', out);
}

static const char *icon(const json_t *c)
{
    const char *v = contend_js(c, "verdict");
    if (strcmp(v, "pass") == 0 || strcmp(v, "found") == 0)
        return "✅";
    if (strcmp(v, "gate") == 0)
        return "⚠️";
    if (strcmp(v, "inconclusive") == 0)
        return "❔";
    return "❌";
}

static void fig(FILE *out, const json_t *c, const char *skey, double v, bool latency)
{
    char a[48];
    const json_t *s = json_object_get(json_object_get(c, "summary"), skey);
    fputs(latency ? contend_fmt_us(a, sizeof a, v) : contend_fmt_fig(a, sizeof a, v), out);
    if (contend_ji(s, "n") > 1)
        fprintf(out, " ±%.0f%%", contend_jn(s, "spread_pct") / 2);
    fputs(" | ", out);
}

static void details(const json_t *c, FILE *out)
{
    const json_t *vs = json_object_get(c, "violations");
    bool bad = !json_is_true(json_object_get(c, "ok"));
    size_t j;
    json_t *v;
    if (!bad && json_array_size(vs) == 0)
        return;
    fprintf(out, "\n#### %s ", icon(c));
    md(out, contend_js(c, "name"));
    fputs("\n\n", out);
    json_array_foreach(vs, j, v) {
        fputs("- **", out);
        md(out, contend_js(v, "kind"));
        fprintf(out, "** (%lld): ", contend_ji(v, "count"));
        md(out, contend_js(v, "message"));
        fputc('\n', out);
    }
    static const struct {
        const char *key, *label;
    } items[] = {{"error", "error"},
                 {"inconclusive_reason", "inconclusive"},
                 {"missing", "expected, not found"},
                 {"gate", "gate failed"}};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (!json_is_string(json_object_get(c, items[i].key)))
            continue;
        fprintf(out, "- %s: ", items[i].label);
        md(out, contend_js(c, items[i].key));
        fputc('\n', out);
    }
    if (bad && json_is_string(json_object_get(c, "repro"))) {
        fputs("\nReproduce:\n\n", out);
        code_block(out, contend_js(c, "repro"));
    }
}

void contend_report_markdown(const json_t *run, FILE *out)
{
    const json_t *cases = json_object_get(run, "cases");
    bool ok = json_is_true(json_object_get(run, "ok"));
    size_t i, npass = 0;
    json_t *c;
    char buf[256];

    json_array_foreach(cases, i, c) {
        npass += json_is_true(json_object_get(c, "ok"));
    }
    fprintf(out, "### %s contend: ", ok ? "✅" : "❌");
    md(out, contend_js(run, "scenario"));
    fprintf(out, " — %s, %zu of %zu cases as expected (exit %lld)\n\n", ok ? "PASS" : "FAIL",
            npass, json_array_size(cases), contend_ji(run, "exit_code"));
    fputs("| | case | target | p×t | ops ok/fail/info | tx/s | p50 | p99 | gates | verdict |\n"
          "|---|---|---|--:|--:|--:|--:|--:|---|---|\n",
          out);
    json_array_foreach(cases, i, c) {
        const json_t *ops = json_object_get(c, "ops");
        fprintf(out, "| %s | ", icon(c));
        md(out, contend_js(c, "name"));
        fputs(" | ", out);
        snprintf(buf, sizeof buf, "%s:%s", contend_js(c, "target"), contend_js(c, "variant"));
        md(out, buf);
        fprintf(out, " | %lld×%lld | %lld/%lld/%lld | ", contend_ji(c, "procs"),
                contend_ji(c, "threads"), contend_ji(ops, "ok"), contend_ji(ops, "fail"),
                contend_ji(ops, "info"));
        fig(out, c, "throughput_tps", contend_jn(c, "throughput_tps"), false);
        fig(out, c, "p50_us", contend_jn2(c, "latency_us", "p50"), true);
        fig(out, c, "p99_us", contend_jn2(c, "latency_us", "p99"), true);
        const char *k;
        json_t *g;
        size_t ng = 0;
        json_object_foreach(json_object_get(c, "gates"), k, g) {
            char a[48];
            fputs(ng++ ? ", " : "", out);
            md(out, k);
            fprintf(out, " %s", contend_fmt_fig(a, sizeof a, json_number_value(g)));
        }
        fputs(" | ", out);
        contend_report_verdict(c, buf, sizeof buf);
        md(out, buf);
        fputs(" |\n", out);
    }
    json_array_foreach(cases, i, c) {
        details(c, out);
    }
    size_t runs = 0;
    json_array_foreach(cases, i, c) {
        size_t r = json_array_size(json_object_get(c, "runs"));
        runs = r > runs ? r : runs;
    }
    fputs("\n<sub>", out);
    if (runs > 1)
        fputs("Figures are medians over the repetitions, ± half their range. ", out);
    fputs("contend ", out);
    md(out, contend_js(run, "version"));
    fputs(", seed ", out);
    fprintf(out, "%lld, ", contend_ji(run, "seed"));
    md(out, contend_js(json_object_get(run, "machine"), "cpu_model"));
    fputs("</sub>\n", out);
}
