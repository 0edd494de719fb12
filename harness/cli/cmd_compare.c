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
#include "commands.h"
#include "runjson.h"
#include "util.h"

static const char compare_usage[] =
    "usage: contend compare BASE.json NEW.json [--max-slowdown PCT] [--alpha A]\n"
    "                       [--markdown F] [--json F] [--quiet]\n"
    "\n"
    "Matches the cases of two runs by name and compares tx/s, p50 and p99 over\n"
    "their repetitions (run both with --repeat 9 or more).  A figure is `slower`\n"
    "only when the change is beyond the noise threshold AND a Mann-Whitney U\n"
    "test finds it significant; beyond the threshold but not significant it is\n"
    "`noisy — re-run`.\n"
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
    "  --quiet             no table on stdout\n"
    "\n"
    "Exit: 0 no case regressed, 3 a case regressed, 2 bad usage or input.\n";

static void write_json(const json_t *cmp, FILE *out)
{
    json_dumpf(cmp, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', out);
}

/* Load "a.json,b.json,...": the first run, with the repetitions of the
 * others' cases added to its same-named cases (or their cases appended). */
static int load_pooled(const char *spec, json_t **out)
{
    char *copy = contend_strdup(spec);
    json_t *pooled = NULL;
    int rc = 0;
    for (char *save = NULL, *f = strtok_r(copy, ",", &save); f && rc == 0;
         f = strtok_r(NULL, ",", &save)) {
        json_t *run;
        if ((rc = contend_report_load(f, &run)) != 0)
            break;
        if (!pooled) {
            pooled = run;
            continue;
        }
        size_t i, j;
        json_t *c, *have;
        json_array_foreach(json_object_get(run, "cases"), i, c) {
            json_t *same = NULL;
            json_array_foreach(json_object_get(pooled, "cases"), j, have) {
                if (json_equal(json_object_get(have, "name"), json_object_get(c, "name")))
                    same = have;
            }
            if (!same) {
                json_array_append(json_object_get(pooled, "cases"), c);
                continue;
            }
            json_array_extend(json_object_get(same, "runs"), json_object_get(c, "runs"));
            if (!json_is_true(json_object_get(c, "ok")))
                json_object_set_new(same, "ok", json_false());
        }
        json_decref(run);
    }
    free(copy);
    if (rc == 0 && !pooled) {
        contend_err("compare: no file in '%s'", spec);
        rc = -EINVAL;
    }
    if (rc)
        json_decref(pooled);
    *out = rc ? NULL : pooled;
    return rc;
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

int contend_cmd_compare(int argc, char **argv)
{
    struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
    const char *files[2] = {NULL, NULL}, *md_path = NULL, *json_path = NULL;
    bool quiet = false;
    size_t nfiles = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(compare_usage, stdout);
            return CONTEND_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = true;
        } else if (strcmp(a, "--max-slowdown") == 0) {
            if (number_arg(a, val, 0, 1e6, &o.max_slowdown_pct))
                return CONTEND_EXIT_USAGE;
            i++;
        } else if (strcmp(a, "--alpha") == 0) {
            if (number_arg(a, val, 1e-12, 0.5, &o.alpha))
                return CONTEND_EXIT_USAGE;
            i++;
        } else if (strcmp(a, "--markdown") == 0 || strcmp(a, "--json") == 0) {
            if (!val) {
                contend_err("compare: %s needs a file name", a);
                return CONTEND_EXIT_USAGE;
            }
            *(strcmp(a, "--json") == 0 ? &json_path : &md_path) = val;
            i++;
        } else if (a[0] == '-' && a[1]) {
            contend_err("compare: unknown option %s (see contend compare --help)", a);
            return CONTEND_EXIT_USAGE;
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            contend_err("compare: two files, BASE and NEW ('%s' is a third)", a);
            return CONTEND_EXIT_USAGE;
        }
    }
    if (nfiles != 2) {
        fputs(compare_usage, stderr);
        return CONTEND_EXIT_USAGE;
    }

    json_t *base = NULL, *new_run = NULL, *cmp = NULL;
    int code = CONTEND_EXIT_USAGE;
    if (load_pooled(files[0], &base) || load_pooled(files[1], &new_run))
        goto out;
    cmp = contend_compare(base, new_run, files[0], files[1], &o);
    code = (int)json_integer_value(json_object_get(cmp, "exit_code"));

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
    if (!quiet && !(md_path && strcmp(md_path, "-") == 0) &&
        !(json_path && strcmp(json_path, "-") == 0))
        contend_compare_text(cmp, stdout);
    if (md_path) {
        int rc = contend_report_write(md_path, contend_compare_markdown, cmp);
        if (rc) {
            contend_err("cannot write %s: %s", md_path, strerror(-rc));
            code = CONTEND_EXIT_HARNESS;
        }
    }
    if (json_path) {
        int rc = contend_report_write(json_path, write_json, cmp);
        if (rc) {
            contend_err("cannot write %s: %s", json_path, strerror(-rc));
            code = CONTEND_EXIT_HARNESS;
        }
    }
out:
    json_decref(cmp);
    json_decref(base);
    json_decref(new_run);
    return code;
}
