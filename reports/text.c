/*
 * text.c - the terminal table.
 *
 * One row per case: workload, target:variant, processes x threads, ops
 * ok/fail/info, tx/s, p50 and p99 latency, busy/retry counts (only when
 * some case has them: stores with locks that can be busy), verdict.  Below it, every
 * violation with its explanation, every kept case directory and the command
 * that reproduces each failure.  Column widths follow the content.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report.h"
#include "util.h"

#define NCOLS 11
#define COL_BUSY 8 /* shown only when some case was busy or retried */
#define COL_FAULTS 9 /* shown only when some case had faults injected */

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void fmt_num(char *buf, size_t len, const json_t *v, int decimals)
{
    if (!json_is_number(v)) {
        snprintf(buf, len, "-");
        return;
    }
    double d = json_number_value(v);
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

/* With alternatives ("double-claim|crash") say which were found. */
static void found_alternatives(char *buf, size_t len, const json_t *c)
{
    size_t i, used = (size_t)snprintf(buf, len, "found");
    const json_t *v;
    const char *sep = " ";
    json_array_foreach(json_object_get(c, "violations"), i, v) {
        if (used < len && expected_kind(str(c, "expect"), str(v, "kind"))) {
            used += (size_t)snprintf(buf + used, len - used, "%s%s", sep, str(v, "kind"));
            sep = ",";
        }
    }
}

static void concurrency_lines(const json_t *c, FILE *out);

/* "found lost-update", "FAIL lost-update", "FAIL missing torn-line", ... */
static void fmt_verdict(char *buf, size_t len, const json_t *c)
{
    const char *v = str(c, "verdict");
    const json_t *vs = json_object_get(c, "violations");
    const char *first = json_array_size(vs) ? str(json_array_get(vs, 0), "kind") : "";
    if (strcmp(v, "found") == 0 && strchr(str(c, "expect"), '|'))
        found_alternatives(buf, len, c);
    else if (strcmp(v, "found") == 0)
        snprintf(buf, len, "found %s", str(c, "expect"));
    else if (strcmp(v, "pass") == 0)
        snprintf(buf, len, "pass");
    else if (strcmp(v, "error") == 0)
        snprintf(buf, len, "ERROR");
    else if (strcmp(v, "gate") == 0)
        snprintf(buf, len, "GATE");
    else if (strcmp(v, "inconclusive") == 0)
        snprintf(buf, len, "INCONCLUSIVE");
    else if (json_object_get(c, "missing"))
        snprintf(buf, len, "FAIL missing %s", str(c, "missing"));
    else
        snprintf(buf, len, "FAIL %s", first);
    long failed = (long)json_integer_value(json_object_get(c, "failed_runs"));
    size_t runs = json_array_size(json_object_get(c, "runs"));
    if (runs > 1) {
        size_t n = strlen(buf);
        if (failed)
            snprintf(buf + n, len - n, " (%ld of %zu runs failed)", failed, runs);
        else
            snprintf(buf + n, len - n, " (all %zu runs)", runs);
    }
}

static void row_cells(const json_t *c, char cells[NCOLS][96])
{
    const json_t *ops = json_object_get(c, "ops");
    const json_t *lat = json_object_get(c, "latency_us");
    snprintf(cells[0], 96, "%s", str(c, "name"));
    snprintf(cells[1], 96, "%s", str(c, "workload"));
    snprintf(cells[2], 96, "%s:%s", str(c, "target"), str(c, "variant"));
    snprintf(cells[3], 96, "%lldx%lld", (long long)json_integer_value(json_object_get(c, "procs")),
             (long long)json_integer_value(json_object_get(c, "threads")));
    snprintf(cells[4], 96, "%lld/%lld/%lld",
             (long long)json_integer_value(json_object_get(ops, "ok")),
             (long long)json_integer_value(json_object_get(ops, "fail")),
             (long long)json_integer_value(json_object_get(ops, "info")));
    fmt_num(cells[5], 96, json_object_get(c, "throughput_tps"), 1);
    fmt_num(cells[6], 96, json_object_get(lat, "p50"), 1);
    fmt_num(cells[7], 96, json_object_get(lat, "p99"), 1);
    const json_t *st = json_object_get(c, "stats");
    snprintf(cells[COL_BUSY], 96, "%lld/%lld",
             (long long)json_integer_value(json_object_get(st, "busy")),
             (long long)json_integer_value(json_object_get(st, "retries")));
    contend_fmt_faults(cells[COL_FAULTS], 96, c);
    fmt_verdict(cells[10], 96, c);
}

static bool busy_or_retried(const json_t *c)
{
    const json_t *st = json_object_get(c, "stats");
    return json_integer_value(json_object_get(st, "busy")) > 0 ||
           json_integer_value(json_object_get(st, "retries")) > 0;
}

static void text_table(const json_t *run, FILE *out)
{
    static const char *const head[NCOLS] = {"case", "workload", "target",    "p x t",  "ok/fail/info",
                                            "tx/s", "p50 us",   "p99 us",    "busy/retry",
                                            "faults", "verdict"};
    static const int right[NCOLS] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0};
    bool show_busy = false, show_faults = false;
    const json_t *cases = json_object_get(run, "cases");
    size_t n = json_array_size(cases);
    char (*cells)[NCOLS][96] = calloc(n ? n : 1, sizeof *cells);
    int width[NCOLS];

    if (!cells)
        return;
    for (int k = 0; k < NCOLS; k++)
        width[k] = (int)strlen(head[k]);
    for (size_t i = 0; i < n; i++) {
        row_cells(json_array_get(cases, i), cells[i]);
        show_busy = show_busy || busy_or_retried(json_array_get(cases, i));
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
                fprintf(out, "%s%*s", k ? "  " : "", right[k] ? width[k] : -width[k],
                        cells[i][k]);
        }
        fputc('\n', out);
    }
    free(cells);

    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(cases, i);
        const json_t *vs = json_object_get(c, "violations");
        size_t j;
        json_t *v;
        bool bad = !json_is_true(json_object_get(c, "ok"));
        bool thin = json_is_true(json_object_get(json_object_get(c, "concurrency"), "below_floor"));
        if (json_array_size(vs) == 0 && !bad && !thin)
            continue;
        fprintf(out, "\n%s:\n", str(c, "name"));
        json_array_foreach(vs, j, v) {
            fprintf(out, "  %s (%lld): %s\n", str(v, "kind"),
                    (long long)json_integer_value(json_object_get(v, "count")), str(v, "message"));
        }
        if (json_object_get(c, "error"))
            fprintf(out, "  error: %s\n", str(c, "error"));
        if (json_object_get(c, "inconclusive_reason"))
            fprintf(out, "  inconclusive: %s\n", str(c, "inconclusive_reason"));
        else if (json_object_get(c, "missing"))
            fprintf(out, "  expected %s, not found\n", str(c, "missing"));
        if (json_object_get(c, "gate"))
            fprintf(out, "  gate failed: %s\n", str(c, "gate"));
        if (json_object_get(c, "case_dir"))
            fprintf(out, "  kept: %s\n", str(c, "case_dir"));
        if (bad && json_is_string(json_object_get(c, "repro")))
            fprintf(out, "  repro: %s\n", str(c, "repro"));
        concurrency_lines(c, out);
        if (thin && !bad)
            fprintf(out, "  note: a pass that saw little concurrency; `schedule = random` or "
                         "`pct` (or `perturb`) makes races likelier\n");
    }
}

/* How much concurrency the case saw, and its schedule (schedext.c,
 * concurrency.c): why a clean run proves little, or what a miss saw. */
static void concurrency_lines(const json_t *c, FILE *out)
{
    const json_t *cc = json_object_get(c, "concurrency");
    const json_t *sc = json_object_get(c, "schedule");
    /* The reason itself is the case's inconclusive_reason, printed above. */
    if (cc)
        fprintf(out, "  concurrency: %.1f%% of %lld ops overlapped another op on the same key "
                     "(floor %.0f%%)%s\n",
                100 * json_number_value(json_object_get(cc, "overlap")),
                (long long)json_integer_value(json_object_get(cc, "ops")),
                100 * json_number_value(json_object_get(cc, "floor")),
                sc ? "" : ", under the OS's schedule");
    if (sc) {
        fprintf(out, "  schedule: %s, %lld decisions, %lld hand-offs (%lld inside critical windows, "
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
    fmt_verdict(verdict, sizeof verdict, c);
    fmt_num(tps, sizeof tps, json_object_get(c, "throughput_tps"), 1);
    fprintf(out, "[%zu/%zu] %-24s %s:%s  %s tx/s  %s\n", index, total, str(c, "name"),
            str(c, "target"), str(c, "variant"), tps, verdict);
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
    fmt_verdict(buf, len, c);
}
