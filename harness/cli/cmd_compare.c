/*
 * cmd_compare.c - `contend compare BASE.json NEW.json`: did NEW get slower?
 *
 * The statistics are in reports/compare.c.  This file reads the two runs,
 * prints the table and writes the Markdown and JSON forms.  Exit 3 when a
 * case regressed (the same code as a failed performance gate: to CI it is
 * one), 0 otherwise, 2 on bad usage or input.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"
#include "args.h"
#include "commands.h"
#include "runjson.h"
#include "util.h"

static const char compare_usage[] =
    "usage: contend compare BASE.json NEW.json [--max-slowdown PCT] [--alpha A]\n"
    "                       [--markdown F] [--json F] [--html F] [--quiet]\n"
    "\n"
    "Matches the cases of two runs by name and compares tx/s, p50 and p99 over\n"
    "their repetitions (run both with --repeat 9 or more).  A figure is `slower`\n"
    "only when the change is beyond the floor (--max-slowdown) also after the\n"
    "machine probe's drift between the runs is taken out, larger than the spread\n"
    "of the repetitions of either side, AND significant by a Mann-Whitney U test;\n"
    "else `no change` (within the floor, or explained by the machine's drift) or\n"
    "`noisy — re-run` (within the spread, or not significant), with the reason.\n"
    "To gate a change, prefer `contend ab` (both sides interleaved).\n"
    "\n"
    "BASE and NEW may each be several run.json files, comma-separated: the\n"
    "repetitions of same-named cases are pooled.  On a machine whose load drifts,\n"
    "run base and new alternately (a few repetitions each, several rounds) and\n"
    "pool the rounds: the drift then hits both sides alike.\n"
    "\n"
    "  --max-slowdown PCT  noise threshold in percent (default 5)\n"
    "  --alpha A           significance level (default 0.05)\n"
    "  --markdown F        also write the table as Markdown (- for stdout)\n"
    "  --json F            also write the comparison as JSON (- for stdout)\n"
    "  --html F            also write a page: both sides' plots side by side, the\n"
    "                      verdict per case and figure\n"
    "  --quiet             no table on stdout\n"
    "\n"
    "Exit: 0 no case regressed, 3 a case regressed, 2 bad usage or input.\n";

static void write_json(const json_t *cmp, FILE *out)
{
    json_dumpf(cmp, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', out);
}

static void write_html(const json_t *page, FILE *out)
{
    contend_compare_html(json_object_get(page, "compare"), json_object_get(page, "base_run"),
                         json_object_get(page, "new_run"), out);
}

static int write_one(const char *path, void (*render)(const json_t *, FILE *), const json_t *doc)
{
    int rc = contend_report_write(path, render, doc);
    if (rc)
        contend_err("cannot write %s: %s", path, strerror(-rc));
    return rc;
}

int contend_compare_emit(const json_t *base, const json_t *new_run, const char *base_name,
                         const char *new_name, const struct contend_compare_opts *o,
                         const struct contend_compare_out *out)
{
    json_t *cmp = contend_compare(base, new_run, base_name, new_name, o);
    int code = (int)json_integer_value(json_object_get(cmp, "exit_code"));

    size_t i, compared = 0;
    json_t *c;
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        compared += strcmp(json_string_value(json_object_get(c, "status")), "compared") == 0;
    }
    if (compared == 0) {
        contend_err("compare: no case could be compared: each needs the same name in both "
                    "runs and at least 2 repetitions on each side (--repeat 9)");
        code = CONTEND_EXIT_USAGE;
    }
    if (!out->quiet && !(out->markdown && strcmp(out->markdown, "-") == 0) &&
        !(out->json && strcmp(out->json, "-") == 0) && !(out->html && strcmp(out->html, "-") == 0))
        contend_compare_text(cmp, stdout);
    if (out->markdown && write_one(out->markdown, contend_compare_markdown, cmp))
        code = CONTEND_EXIT_HARNESS;
    if (out->json && write_one(out->json, write_json, cmp))
        code = CONTEND_EXIT_HARNESS;
    if (out->html) {
        json_t *page =
            json_pack("{s:O, s:O, s:O}", "compare", cmp, "base_run", base, "new_run", new_run);
        if (write_one(out->html, write_html, page))
            code = CONTEND_EXIT_HARNESS;
        json_decref(page);
    }
    json_decref(cmp);
    return code;
}

enum { OPT_MAX, OPT_ALPHA, OPT_MD, OPT_JSON, OPT_HTML, OPT_QUIET };

static const struct contend_argdef compare_opts[] = {
    {"max-slowdown", 0, true, OPT_MAX},
    {"alpha", 0, true, OPT_ALPHA},
    {"markdown", 0, true, OPT_MD},
    {"json", 0, true, OPT_JSON},
    {"html", 0, true, OPT_HTML},
    {"quiet", 'q', false, OPT_QUIET},
    {NULL, 0, false, 0},
};

int contend_cmd_compare(int argc, char **argv)
{
    struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
    struct contend_compare_out out = {0};
    const char *files[2] = {NULL, NULL};
    struct contend_args p;
    int nfiles = 0;

    contend_args_init(&p, "compare", compare_usage, compare_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        switch (id) {
        case CONTEND_ARG_HELP: return CONTEND_EXIT_OK;
        case CONTEND_ARG_ERROR: return CONTEND_EXIT_USAGE;
        case OPT_QUIET: out.quiet = true; break;
        case OPT_MAX:
            if (contend_args_number(&p, 0, 1e6, &o.max_slowdown_pct))
                return CONTEND_EXIT_USAGE;
            break;
        case OPT_ALPHA:
            if (contend_args_number(&p, 1e-12, 0.5, &o.alpha))
                return CONTEND_EXIT_USAGE;
            break;
        case OPT_MD: out.markdown = p.value; break;
        case OPT_JSON: out.json = p.value; break;
        case OPT_HTML: out.html = p.value; break;
        case CONTEND_ARG_POSITIONAL:
            if (nfiles == 2)
                return contend_usage_error(&p, "two files, BASE and NEW ('%s' is a third)",
                                           p.value);
            files[nfiles++] = p.value;
            break;
        }
    }
    if (nfiles != 2)
        return contend_usage_error(&p, "two files, BASE and NEW (got %d)", nfiles);

    json_t *base = NULL, *new_run = NULL;
    int code = CONTEND_EXIT_USAGE;
    if (contend_compare_load(files[0], &base) == 0 && contend_compare_load(files[1], &new_run) == 0)
        code = contend_compare_emit(base, new_run, files[0], files[1], &o, &out);
    json_decref(base);
    json_decref(new_run);
    return code;
}
