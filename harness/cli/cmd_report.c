/*
 * cmd_report.c - `contend report RUN.json`: render a past run's reports.
 *
 * Every report is rendered from run.json alone, so any run can be rendered
 * again later, elsewhere, by a newer contend.  Without an output option the
 * terminal table goes to stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "commands.h"
#include "util.h"

static const char report_usage[] =
    "usage: contend report RUN.json [--html F] [--markdown F] [--junit F] [--text F]\n"
    "\n"
    "Renders the reports of a run from its run.json.  F may be - for stdout.\n"
    "Without options, prints the terminal table.  Given the sweep.json of\n"
    "`contend sweep`, renders its scaling table (--text) and plot (--html).\n"
    "\n"
    "  --html F       one self-contained HTML page with plots (no script, no network)\n"
    "  --markdown F   the verdict and figures table, for a CI step summary\n"
    "  --junit F      JUnit XML: a testsuite per scenario, a testcase per case\n"
    "  --text F       the terminal table\n"
    "\n"
    "Exit: 0 rendered, 2 bad usage or not a run.json, 4 cannot write a report.\n";

static const struct {
    const char *flag;
    void (*render)(const json_t *, FILE *);
} formats[] = {
    {.flag = "--html", .render = contend_report_html},
    {.flag = "--markdown", .render = contend_report_markdown},
    {.flag = "--junit", .render = contend_report_junit},
    {.flag = "--text", .render = contend_report_text},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

int contend_cmd_report(int argc, char **argv)
{
    const char *input = NULL, *paths[NFORMATS] = {NULL};
    bool any = false;
    json_t *run = NULL;
    int code = CONTEND_EXIT_OK;

    for (int i = 1; i < argc; i++) {
        size_t f = 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(report_usage, stdout);
            return CONTEND_EXIT_OK;
        }
        while (f < NFORMATS && strcmp(argv[i], formats[f].flag) != 0)
            f++;
        if (f < NFORMATS) {
            if (i + 1 >= argc) {
                contend_err("report: %s needs a file name", argv[i]);
                return CONTEND_EXIT_USAGE;
            }
            paths[f] = argv[++i];
            any = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            contend_err("report: unknown option %s (see contend report --help)", argv[i]);
            return CONTEND_EXIT_USAGE;
        } else if (!input) {
            input = argv[i];
        } else {
            contend_err("report: one run.json at a time ('%s' and '%s')", input, argv[i]);
            return CONTEND_EXIT_USAGE;
        }
    }
    if (!input) {
        fputs(report_usage, stderr);
        return CONTEND_EXIT_USAGE;
    }
    if (contend_report_load(input, &run) != 0)
        return CONTEND_EXIT_USAGE;
    if (!any)
        paths[NFORMATS - 1] = "-";
    /* A sweep.json has its own table and page, and no cases to judge. */
    bool sweep = json_is_array(json_object_get(run, "points"));
    if (sweep && (paths[1] || paths[2])) {
        contend_err("report: %s is a sweep: only --html and --text apply", input);
        json_decref(run);
        return CONTEND_EXIT_USAGE;
    }
    for (size_t f = 0; f < NFORMATS; f++) {
        if (!paths[f])
            continue;
        void (*render)(const json_t *, FILE *) = formats[f].render;
        if (sweep)
            render = f == 0 ? contend_sweep_html : contend_sweep_text;
        int rc = contend_report_write(paths[f], render, run);
        if (rc) {
            contend_err("cannot write %s: %s", paths[f], strerror(-rc));
            code = CONTEND_EXIT_HARNESS;
        } else if (strcmp(paths[f], "-") != 0) {
            fprintf(stderr, "contend: %s report: %s\n", formats[f].flag + 2, paths[f]);
        }
    }
    json_decref(run);
    return code;
}
