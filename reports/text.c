/*
 * text.c - the terminal table.
 *
 * One row per case: workload, target:variant, processes x threads, ops
 * ok/fail/info, tx/s, p50 and p99 latency, busy/retry counts (only when
 * some case has them: stores with locks that can be busy), verdict.  Below it, every
 * violation with its explanation, every kept case directory and the command
 * that reproduces each failure.  Column widths follow the content.  Each
 * case is read through contend_case_result_read (caseresult.h); what a file
 * lacks shows as "-" or nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
#include "common.h"
#include "report.h"
#include "util.h"

#define NCOLS 11
#define COL_BUSY 8   /* shown only when some case was busy or retried */
#define COL_FAULTS 9 /* shown only when some case had faults injected */

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void fmt_num(char *buf, size_t len, double d, int decimals)
{
    if (isnan(d)) {
        snprintf(buf, len, "-");
        return;
    }
    if (d >= 100000 || decimals == 0)
        snprintf(buf, len, "%.0f", d);
    else if (d < 10)
        snprintf(buf, len, "%.*f", decimals + 1, d); /* sub-microsecond latencies */
    else
        snprintf(buf, len, "%.*f", decimals, d);
}

/* Is `kind` one of the words of an expectation such as "a|b, c"? */
static bool expected_kind(const char *expect, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = expect; *p;) {
        p += strspn(p, ", |");
        size_t len = strcspn(p, ", |");
        if (len == n && len && strncmp(p, kind, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* A string of the result, "" for none. */
static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* With alternatives ("double-claim|crash") say which were found. */
static void found_alternatives(char *buf, size_t len, const struct contend_case_result *r)
{
    size_t used = (size_t)snprintf(buf, len, "found");
    const char *sep = " ";
    for (size_t i = 0; i < r->nviolations; i++) {
        const char *kind = r->violations[i].kind;
        if (used < len && expected_kind(or_empty(r->expect), kind)) {
            used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, kind);
            sep = ",";
        }
    }
}

static void concurrency_lines(const json_t *c, FILE *out);

/* "found lost-update", "FAIL lost-update", "FAIL missing torn-line", ... */
static void fmt_verdict(char *buf, size_t len, const struct contend_case_result *r)
{
    const char *first = r->nviolations ? r->violations[0].kind : "";
    switch (r->verdict) {
    case CONTEND_VERDICT_FOUND:
        if (strchr(or_empty(r->expect), '|'))
            found_alternatives(buf, len, r);
        else
            snprintf(buf, len, "found %s", or_empty(r->expect));
        break;
    case CONTEND_VERDICT_PASS: snprintf(buf, len, "pass"); break;
    case CONTEND_VERDICT_ERROR: snprintf(buf, len, "ERROR"); break;
    case CONTEND_VERDICT_GATE: snprintf(buf, len, "GATE"); break;
    case CONTEND_VERDICT_INCONCLUSIVE: snprintf(buf, len, "INCONCLUSIVE"); break;
    default:
        if (r->missing)
            snprintf(buf, len, "FAIL missing %s", r->missing);
        else
            snprintf(buf, len, "FAIL %s", first);
    }
    if (r->nruns > 1) {
        size_t n = strlen(buf);
        if (r->failed_runs)
            snprintf(buf + n, len - n, " (%lu of %lu runs failed)", (unsigned long)r->failed_runs,
                     (unsigned long)r->nruns);
        else
            snprintf(buf + n, len - n, " (all %lu runs)", (unsigned long)r->nruns);
    }
}

static void row_cells(const struct contend_case_result *r, char cells[NCOLS][96])
{
    snprintf(cells[0], 96, "%s", or_empty(r->name));
    snprintf(cells[1], 96, "%s", or_empty(r->workload));
    snprintf(cells[2], 96, "%s:%s", or_empty(r->target), or_empty(r->variant));
    snprintf(cells[3], 96, "%lux%lu", (unsigned long)r->procs, (unsigned long)r->threads);
    snprintf(cells[4], 96, "%llu/%llu/%llu", (unsigned long long)r->n_ok,
             (unsigned long long)r->n_fail, (unsigned long long)r->n_info);
    fmt_num(cells[5], 96, r->fig[CONTEND_FIG_TPS], 1);
    fmt_num(cells[6], 96, r->fig[CONTEND_FIG_P50], 1);
    fmt_num(cells[7], 96, r->fig[CONTEND_FIG_P99], 1);
    snprintf(cells[COL_BUSY], 96, "%llu/%llu", (unsigned long long)r->busy,
             (unsigned long long)r->retries);
    contend_fmt_fault_counts(cells[COL_FAULTS], 96, r);
    fmt_verdict(cells[10], 96, r);
}

static void text_table(const json_t *run, FILE *out)
{
    static const char *const head[NCOLS] = {"case",         "workload", "target", "p x t",
                                            "ok/fail/info", "tx/s",     "p50 us", "p99 us",
                                            "busy/retry",   "faults",   "verdict"};
    static const int right[NCOLS] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
    bool show_busy = false, show_faults = false;
    const json_t *cases = json_object_get(run, "cases");
    size_t n = json_array_size(cases);
    char(*cells)[NCOLS][96] = calloc(n ? n : 1, sizeof *cells);
    struct contend_case_result *res = calloc(n ? n : 1, sizeof *res);
    int width[NCOLS];

    if (!cells || !res) {
        free(cells);
        free(res);
        return;
    }
    for (int k = 0; k < NCOLS; k++)
        width[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        contend_case_result_read(json_array_get(cases, i), &res[i]);
        row_cells(&res[i], cells[i]);
        show_busy = show_busy || res[i].busy > 0 || res[i].retries > 0;
        show_faults = show_faults || strcmp(cells[i][COL_FAULTS], "-") != 0;
        for (int k = 0; k < NCOLS; k++)
            if ((int)strlen(cells[i][k]) > width[k])
                width[k] = (int)strlen(cells[i][k]);
    }
    for (int k = 0; k < NCOLS - 1; k++)
        if ((k != COL_BUSY || show_busy) && (k != COL_FAULTS || show_faults))
            fprintf(out, "%s%*s", k ? "  " : "", right[k] ? width[k] : -width[k], head[k]);
    fprintf(out, "  %s\n", head[NCOLS - 1]);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < NCOLS; k++) {
            /* The last column is not padded: no trailing blanks. */
            if (k == NCOLS - 1)
                fprintf(out, "  %s", cells[i][k]);
            else if ((k == COL_BUSY && !show_busy) || (k == COL_FAULTS && !show_faults))
                continue;
            else
                fprintf(out, "%s%*s", k ? "  " : "", right[k] ? width[k] : -width[k], cells[i][k]);
        }
        fputc('\n', out);
    }
    free(cells);

    for (size_t i = 0; i < n; i++) {
        const struct contend_case_result *r = &res[i];
        const json_t *c = json_array_get(cases, i);
        bool bad = !r->ok;
        bool thin = json_is_true(json_object_get(json_object_get(c, "concurrency"), "below_floor"));
        if (r->nviolations == 0 && !bad && !thin)
            continue;
        fprintf(out, "\n%s:\n", or_empty(r->name));
        for (size_t j = 0; j < r->nviolations; j++) {
            const struct contend_case_violation *v = &r->violations[j];
            fprintf(out, "  %s (%llu): %s\n", v->kind, (unsigned long long)v->count,
                    or_empty(v->message));
        }
        if (r->error)
            fprintf(out, "  error: %s\n", r->error);
        if (r->inconclusive_reason)
            fprintf(out, "  inconclusive: %s\n", r->inconclusive_reason);
        else if (r->missing)
            fprintf(out, "  expected %s, not found\n", r->missing);
        if (r->gate)
            fprintf(out, "  gate failed: %s\n", r->gate);
        if (r->case_dir)
            fprintf(out, "  kept: %s\n", r->case_dir);
        if (bad && r->repro)
            fprintf(out, "  repro: %s\n", r->repro);
        concurrency_lines(c, out);
        if (thin && !bad)
            fprintf(out, "  note: a pass that saw little concurrency; `schedule = random` or "
                         "`pct` (or `perturb`) makes races likelier\n");
    }
    for (size_t i = 0; i < n; i++)
        contend_case_result_free(&res[i]);
    free(res);
}

/* How much concurrency the case saw, and its schedule (schedext.c,
 * concurrency.c): why a clean run proves little, or what a miss saw. */
static void concurrency_lines(const json_t *c, FILE *out)
{
    const json_t *cc = json_object_get(c, "concurrency");
    const json_t *sc = json_object_get(c, "schedule");
    /* The reason itself is the case's inconclusive_reason, printed above. */
    if (cc)
        fprintf(out,
                "  concurrency: %.1f%% of %lld ops overlapped another op on the same key "
                "(floor %.0f%%)%s\n",
                100 * json_number_value(json_object_get(cc, "overlap")),
                (long long)json_integer_value(json_object_get(cc, "ops")),
                100 * json_number_value(json_object_get(cc, "floor")),
                sc ? "" : ", under the OS's schedule");
    if (sc) {
        fprintf(out,
                "  schedule: %s, %lld decisions, %lld hand-offs (%lld inside critical windows, "
                "%lld at blocking calls)\n",
                str(sc, "mode"), (long long)json_integer_value(json_object_get(sc, "steps")),
                (long long)json_integer_value(json_object_get(sc, "handoffs")),
                (long long)json_integer_value(json_object_get(sc, "window_handoffs")),
                (long long)json_integer_value(json_object_get(sc, "block_yields")));
        if (json_is_string(json_object_get(sc, "fallback")))
            fprintf(out, "  schedule fell back to the OS: %s\n", str(sc, "fallback"));
        if (json_is_string(json_object_get(sc, "file")))
            fprintf(out, "  schedule file: %s (sha256 %.16s...)\n", str(sc, "file"),
                    str(sc, "sha256"));
    }
}

static void case_line(const json_t *c, size_t index, size_t total, FILE *out)
{
    char verdict[128], tps[32];
    struct contend_case_result r;
    contend_case_result_read(c, &r);
    fmt_verdict(verdict, sizeof verdict, &r);
    fmt_num(tps, sizeof tps, r.fig[CONTEND_FIG_TPS], 1);
    fprintf(out, "[%zu/%zu] %-24s %s:%s  %s tx/s  %s\n", index, total, or_empty(r.name),
            or_empty(r.target), or_empty(r.variant), tps, verdict);
    contend_case_result_free(&r);
}

/* Names, messages and paths come from run.json, which anyone may have
 * written: rendered to memory first, then printed with every control
 * character shown as '?', so an escape sequence never reaches a terminal. */
static void put_clean(FILE *out, char *buf, size_t len)
{
    if (buf)
        contend_put_terminal(out, buf, len);
    free(buf);
}

void contend_report_text(const json_t *run, FILE *out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    text_table(run, mem);
    fclose(mem);
    put_clean(out, buf, len);
}

void contend_report_case_line(const json_t *c, size_t index, size_t total, FILE *out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    case_line(c, index, total, mem);
    fclose(mem);
    put_clean(out, buf, len);
}

void contend_report_verdict(const json_t *c, char *buf, size_t len)
{
    struct contend_case_result r;
    contend_case_result_read(c, &r);
    fmt_verdict(buf, len, &r);
    contend_case_result_free(&r);
}
