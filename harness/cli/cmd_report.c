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
#include "args.h"
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

/* The option ids are the indexes into formats[]. */
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

static const struct contend_argdef report_opts[] = {
    {"html", 0, true, 0}, {"markdown", 0, true, 1}, {"junit", 0, true, 2},
    {"text", 0, true, 3}, {NULL, 0, false, 0},
};

int contend_cmd_report(int argc, char **argv)
{
    const char *input = NULL, *paths[NFORMATS] = {NULL};
    bool any = false;
    json_t *run = NULL;
    int code = CONTEND_EXIT_OK;

    struct contend_args p;
    contend_args_init(&p, "report", report_usage, report_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        if (id == CONTEND_ARG_HELP)
            return CONTEND_EXIT_OK;
        if (id == CONTEND_ARG_ERROR)
            return CONTEND_EXIT_USAGE;
        if (id == CONTEND_ARG_POSITIONAL) {
            if (input)
                return contend_usage_error(&p, "one run.json at a time ('%s' and '%s')", input,
                                           p.value);
            input = p.value;
        } else {
            paths[id] = p.value;
            any = true;
        }
    }
    if (!input)
        return contend_usage_error(&p, "no run.json given");
    if (contend_report_load(input, &run) != 0)
        return CONTEND_EXIT_USAGE;
    if (!any)
        paths[NFORMATS - 1] = "-";
    /* A sweep.json has its own table and page, and no cases to judge. */
    bool sweep = json_is_array(json_object_get(run, "points"));
    if (sweep && (paths[1] || paths[2])) {
        json_decref(run);
        return contend_usage_error(&p, "%s is a sweep: only --html and --text apply", input);
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
