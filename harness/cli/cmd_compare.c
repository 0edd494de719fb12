/*
 * cmd_compare.c - `contend compare BASE.json NEW.json`: did NEW get slower?
 *
 * The statistics are in reports/compare.c.  This file reads the two runs,
 * prints the table and writes the Markdown and JSON forms.  Exit 3 when a
 * case regressed (the same code as a failed performance gate: to CI it is
 * one), 0 otherwise, 2 on bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"
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

static int number_arg(const char *flag, const char *val, double lo, double hi, double *out)
{
    if (!val || contend_parse_double(val, out) != 0 || !(*out >= lo && *out <= hi)) {
        contend_err("compare: %s expects a number in [%g, %g], got '%s'", flag, lo, hi,
                    val ? val : "");
        return -EINVAL;
    }
    return 0;
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
    json_array_foreach(json_object_get(cmp, "cases"), i, c) {
        compared += strcmp(json_string_value(json_object_get(c, "status")), "compared") == 0;
    }
    if (compared == 0) {
        contend_err("compare: no case could be compared: each needs the same name in both "
                    "runs and at least 2 repetitions on each side (--repeat 9)");
        code = CONTEND_EXIT_USAGE;
    }
    if (!out->quiet && !(out->markdown && strcmp(out->markdown, "-") == 0) &&
        !(out->json && strcmp(out->json, "-") == 0) &&
        !(out->html && strcmp(out->html, "-") == 0))
        contend_compare_text(cmp, stdout);
    if (out->markdown && write_one(out->markdown, contend_compare_markdown, cmp))
        code = CONTEND_EXIT_HARNESS;
    if (out->json && write_one(out->json, write_json, cmp))
        code = CONTEND_EXIT_HARNESS;
    if (out->html) {
        json_t *page = json_pack("{s:O, s:O, s:O}", "compare", cmp, "base_run", base,
                                 "new_run", new_run);
        if (write_one(out->html, write_html, page))
            code = CONTEND_EXIT_HARNESS;
        json_decref(page);
    }
    json_decref(cmp);
    return code;
}

int contend_cmd_compare(int argc, char **argv)
{
    enum { O_MAX = 256, O_ALPHA, O_MD, O_JSON, O_HTML };
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},          {"quiet", no_argument, NULL, 'q'},
        {"max-slowdown", required_argument, NULL, O_MAX},
        {"alpha", required_argument, NULL, O_ALPHA}, {"markdown", required_argument, NULL, O_MD},
        {"json", required_argument, NULL, O_JSON},  {"html", required_argument, NULL, O_HTML},
        {NULL, 0, NULL, 0},
    };
    struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
    struct contend_compare_out out = {0};
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(compare_usage, stdout);
            return CONTEND_EXIT_OK;
        case 'q':
            out.quiet = true;
            break;
        case O_MAX:
            if (number_arg("--max-slowdown", optarg, 0, 1e6, &o.max_slowdown_pct))
                return CONTEND_EXIT_USAGE;
            break;
        case O_ALPHA:
            if (number_arg("--alpha", optarg, 1e-12, 0.5, &o.alpha))
                return CONTEND_EXIT_USAGE;
            break;
        case O_MD:
            out.markdown = optarg;
            break;
        case O_JSON:
            out.json = optarg;
            break;
        case O_HTML:
            out.html = optarg;
            break;
        case ':':
            contend_err("compare: %s needs a file name", argv[optind - 1]);
            return CONTEND_EXIT_USAGE;
        default:
            contend_err("compare: unknown option %s (see contend compare --help)",
                        argv[optind - 1]);
            return CONTEND_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        if (argc - optind > 2)
            contend_err("compare: two files, BASE and NEW ('%s' is a third)", argv[optind + 2]);
        else
            fputs(compare_usage, stderr);
        return CONTEND_EXIT_USAGE;
    }

    json_t *base = NULL, *new_run = NULL;
    int code = CONTEND_EXIT_USAGE;
    if (contend_compare_load(argv[optind], &base) == 0 &&
        contend_compare_load(argv[optind + 1], &new_run) == 0)
        code = contend_compare_emit(base, new_run, argv[optind], argv[optind + 1], &o, &out);
    json_decref(base);
    json_decref(new_run);
    return code;
}
