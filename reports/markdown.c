/*
 * markdown.c - the verdict and figures table in GitHub-flavoured Markdown,
 * for a CI step summary ($GITHUB_STEP_SUMMARY) or a merge request comment.
 *
 * Step summaries render Markdown *and* inline HTML, so text from run.json is
 * escaped twice over: HTML's & < > become entities, and Markdown's own
 * punctuation (| * _ ` [ ] \ ~ # !) gets a backslash, so a case name can
 * neither break the table nor become a link or markup.  Commands go into
 * fenced code blocks whose fence is longer than any run of backticks inside.
 * Each case is read through contend_case_result_read (caseresult.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
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
        case '|':
        case '*':
        case '_':
        case '`':
        case '[':
        case ']':
        case '\\':
        case '~':
        case '#':
        case '!':
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

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static const char *icon(const struct contend_case_result *c)
{
    switch (c->verdict) {
    case CONTEND_VERDICT_PASS:
    case CONTEND_VERDICT_FOUND: return "✅";
    case CONTEND_VERDICT_GATE: return "⚠️";
    case CONTEND_VERDICT_INCONCLUSIVE: return "❔";
    default: return "❌";
    }
}

static void fig(FILE *out, const struct contend_case_result *c, enum contend_fig f, bool latency)
{
    char a[48];
    double v = c->fig[f];
    fputs(latency ? contend_fmt_us(a, sizeof a, v) : contend_fmt_fig(a, sizeof a, v), out);
    if (c->summary[f].n > 1)
        fprintf(out, " ±%.0f%%", c->summary[f].spread_pct / 2);
    fputs(" | ", out);
}

static void details(const struct contend_case_result *c, FILE *out)
{
    bool bad = !c->ok;
    if (!bad && c->nviolations == 0)
        return;
    fprintf(out, "\n#### %s ", icon(c));
    md(out, or_empty(c->name));
    fputs("\n\n", out);
    for (size_t j = 0; j < c->nviolations; j++) {
        const struct contend_case_violation *v = &c->violations[j];
        fputs("- **", out);
        md(out, v->kind);
        fprintf(out, "** (%llu): ", (unsigned long long)v->count);
        md(out, or_empty(v->message));
        fputc('\n', out);
    }
    const struct {
        const char *value, *label;
    } items[] = {{c->error, "error"},
                 {c->inconclusive_reason, "inconclusive"},
                 {c->missing, "expected, not found"},
                 {c->gate, "gate failed"}};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (!items[i].value)
            continue;
        fprintf(out, "- %s: ", items[i].label);
        md(out, items[i].value);
        fputc('\n', out);
    }
    if (bad && c->repro) {
        fputs("\nReproduce:\n\n", out);
        code_block(out, c->repro);
    }
}

void contend_report_markdown(const json_t *run, FILE *out)
{
    const json_t *cases = json_object_get(run, "cases");
    bool ok = json_is_true(json_object_get(run, "ok"));
    size_t i, npass = 0, n = json_array_size(cases);
    char buf[256];
    struct contend_case_result *res = calloc(n ? n : 1, sizeof *res);

    if (!res)
        return;
    for (i = 0; i < n; i++) {
        contend_case_result_read(json_array_get(cases, i), &res[i]);
        npass += res[i].ok;
    }
    fprintf(out, "### %s contend: ", ok ? "✅" : "❌");
    md(out, contend_js(run, "scenario"));
    fprintf(out, " — %s, %zu of %zu cases as expected (exit %lld)\n\n", ok ? "PASS" : "FAIL", npass,
            n, contend_ji(run, "exit_code"));
    fputs("| | case | target | p×t | ops ok/fail/info | tx/s | p50 | p99 | gates | verdict |\n"
          "|---|---|---|--:|--:|--:|--:|--:|---|---|\n",
          out);
    for (i = 0; i < n; i++) {
        const struct contend_case_result *c = &res[i];
        fprintf(out, "| %s | ", icon(c));
        md(out, or_empty(c->name));
        fputs(" | ", out);
        snprintf(buf, sizeof buf, "%s:%s", or_empty(c->target), or_empty(c->variant));
        md(out, buf);
        fprintf(out, " | %lu×%lu | %llu/%llu/%llu | ", (unsigned long)c->procs,
                (unsigned long)c->threads, (unsigned long long)c->n_ok,
                (unsigned long long)c->n_fail, (unsigned long long)c->n_info);
        fig(out, c, CONTEND_FIG_TPS, false);
        fig(out, c, CONTEND_FIG_P50, true);
        fig(out, c, CONTEND_FIG_P99, true);
        /* Every gate the file names, known to this version or not. */
        const char *k;
        json_t *g;
        size_t ng = 0;
        json_object_foreach (json_object_get(c->entry, "gates"), k, g) {
            char a[48];
            fputs(ng++ ? ", " : "", out);
            md(out, k);
            fprintf(out, " %s", contend_fmt_fig(a, sizeof a, json_number_value(g)));
        }
        fputs(" | ", out);
        contend_report_verdict(c->entry, buf, sizeof buf);
        md(out, buf);
        fputs(" |\n", out);
    }
    size_t runs = 0;
    for (i = 0; i < n; i++) {
        details(&res[i], out);
        runs = res[i].nruns > runs ? res[i].nruns : runs;
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
    for (i = 0; i < n; i++)
        contend_case_result_free(&res[i]);
    free(res);
}
