/*
 * cmd_sweep.c - `contend sweep FILE.ini --param KEY=V1,V2,...`: run a
 * scenario at every point of a grid of settings and show how it scales.
 *
 * Each point is a complete `contend run FILE.ini --set KEY=V ...` in a child
 * process (this executable, exec'd), with its own run directory and
 * run.json under the sweep's directory.  A child is the unit of isolation
 * the runner already has: its signal handling, its process groups, its exit
 * code.  A Ctrl-C reaches the child too, which stops its workers and exits
 * 130; the sweep then stops and says where everything is.
 *
 * Several --param options make a grid (every combination); the first one is
 * the x axis of the plot, and each combination of the others is a line per
 * case.  The sweep's own result, sweep.json, is built from the points'
 * run.json files alone, and the table and the HTML plot from sweep.json.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "common.h"
#include "report.h"
#include "caseresult.h"
#include "check.h"
#include "args.h"
#include "commands.h"
#include "runjson.h"
#include "util.h"

static const char sweep_usage[] =
    "usage: contend sweep FILE.ini --param KEY=V1,V2,... [--param ...] [--case NAME]\n"
    "                     [--set KEY=VALUE]... [--repeat N] [--dir DIR] [--json F]\n"
    "                     [--html F] [--quiet]\n"
    "\n"
    "Runs the scenario once per value of KEY (every combination, with several\n"
    "--param), then prints a scaling table: tx/s and p99 of every case against\n"
    "the parameter.  Writes sweep.json and sweep.html (the plot) into the sweep\n"
    "directory; each point's run.json is in point-N/ beside them.\n"
    "\n"
    "  --param KEY=V1,V2,...  a scenario key and its values (repeatable)\n"
    "  --case NAME            only this case\n"
    "  --set KEY=VALUE        override KEY at every point (repeatable)\n"
    "  --repeat N             repetitions per point (figures are medians)\n"
    "  --dir DIR              the sweep directory (default: a new one under $TMPDIR)\n"
    "  --json F, --html F     also write sweep.json / the HTML plot to F\n"
    "  --quiet                no progress on stderr\n"
    "\n"
    "Exit: the worst exit code of the points (see contend run --help), 2 bad usage.\n";

struct param {
    char *key;
    char **values;
    size_t n;
};

struct sweep_args {
    const char *file, *dir, *json, *html, *only_case, *repeat;
    bool quiet;
    struct param *p;
    size_t np;
    const char **sets;
    size_t nsets;
};

static volatile sig_atomic_t stop;
static volatile pid_t child;

/* A Ctrl-C reaches the child through the terminal's process group; a
 * SIGTERM sent to the sweep alone is passed on (kill is async-signal-safe). */
static void on_signal(int sig)
{
    stop = sig;
    if (child > 0)
        kill(child, sig);
}

static void free_args(struct sweep_args *a)
{
    for (size_t i = 0; i < a->np; i++) {
        for (size_t k = 0; k < a->p[i].n; k++)
            free(a->p[i].values[k]);
        free(a->p[i].values);
        free(a->p[i].key);
    }
    free(a->p);
    free(a->sets);
}

static int add_param(const struct contend_args *args, struct sweep_args *a, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        contend_usage_error(args, "--param expects KEY=V1,V2,..., got '%s'", spec);
        return -EINVAL;
    }
    struct param p = {.key = strndup(spec, (size_t)(eq - spec))};
    char *copy = contend_strdup(eq + 1);
    for (char *save = NULL, *v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        p.values = contend_realloc(p.values, (p.n + 1) * sizeof *p.values);
        p.values[p.n++] = contend_strdup(v);
    }
    free(copy);
    if (p.n == 0) {
        contend_usage_error(args, "--param %s has no values", spec);
        free(p.key);
        return -EINVAL;
    }
    a->p = contend_realloc(a->p, (a->np + 1) * sizeof *a->p);
    a->p[a->np++] = p;
    return 0;
}

enum { OPT_PARAM, OPT_CASE, OPT_SET, OPT_REPEAT, OPT_DIR, OPT_JSON, OPT_HTML, OPT_QUIET };

static const struct contend_argdef sweep_opts[] = {
    {"param", 0, true, OPT_PARAM},   {"case", 0, true, OPT_CASE},      {"set", 0, true, OPT_SET},
    {"repeat", 0, true, OPT_REPEAT}, {"dir", 0, true, OPT_DIR},        {"json", 0, true, OPT_JSON},
    {"html", 0, true, OPT_HTML},     {"quiet", 'q', false, OPT_QUIET}, {NULL, 0, false, 0},
};

/* 0, -1 after --help (exit 0), or -EINVAL (already said, exit 2). */
static int parse_args(int argc, char **argv, struct sweep_args *a)
{
    struct contend_args p;
    contend_args_init(&p, "sweep", sweep_usage, sweep_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        switch (id) {
        case CONTEND_ARG_HELP: return -1;
        case CONTEND_ARG_ERROR: return -EINVAL;
        case OPT_PARAM:
            if (add_param(&p, a, p.value))
                return -EINVAL;
            break;
        case OPT_SET:
            a->sets = contend_realloc(a->sets, (a->nsets + 1) * sizeof *a->sets);
            a->sets[a->nsets++] = p.value;
            break;
        case OPT_CASE: a->only_case = p.value; break;
        case OPT_REPEAT: a->repeat = p.value; break;
        case OPT_DIR: a->dir = p.value; break;
        case OPT_JSON: a->json = p.value; break;
        case OPT_HTML: a->html = p.value; break;
        case OPT_QUIET: a->quiet = true; break;
        case CONTEND_ARG_POSITIONAL:
            if (a->file) {
                contend_usage_error(&p, "one scenario file at a time ('%s' and '%s')", a->file,
                                    p.value);
                return -EINVAL;
            }
            a->file = p.value;
            break;
        }
    }
    const char *wrong = a->np > 16   ? "at most 16 --param options"
                        : !a->file   ? "no scenario file given"
                        : a->np == 0 ? "no --param KEY=V1,V2,... given"
                                     : NULL;
    if (wrong) {
        contend_usage_error(&p, "%s", wrong);
        return -EINVAL;
    }
    return 0;
}

static int make_dir(const struct sweep_args *a, char *out, size_t len)
{
    if (a->dir) {
        int rc = contend_mkdir_p(a->dir, 0755);
        if (rc)
            contend_err("cannot create %s: %s", a->dir, strerror(-rc));
        snprintf(out, len, "%s", a->dir);
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    const char *base = strrchr(a->file, '/') ? strrchr(a->file, '/') + 1 : a->file;
    char stem[48];
    size_t i = 0;
    for (; base[i] && base[i] != '.' && i < sizeof stem - 1; i++)
        stem[i] = (base[i] == ' ') ? '_' : base[i];
    stem[i] = '\0';
    snprintf(out, len, "%s/contend-sweep-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", stem);
    if (!mkdtemp(out)) {
        contend_err("cannot create a sweep directory: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* Run one point as a child `contend run`; its exit code, or -errno. */
static int run_point(const struct sweep_args *a, const size_t *at, const char *dir,
                     const char *self, bool child_quiet)
{
    size_t cap = 16 + 2 * (a->nsets + a->np), n = 0;
    char **argv = contend_calloc(cap, sizeof *argv);
    char *owned[16];
    size_t nowned = 0;
    argv[n++] = (char *)self;
    argv[n++] = "run";
    argv[n++] = (char *)a->file;
    if (a->only_case) {
        argv[n++] = "--case";
        argv[n++] = (char *)a->only_case;
    }
    for (size_t i = 0; i < a->nsets; i++) {
        argv[n++] = "--set";
        argv[n++] = (char *)a->sets[i];
    }
    if (a->repeat) {
        argv[n++] = "--repeat";
        argv[n++] = (char *)a->repeat;
    }
    for (size_t i = 0; i < a->np; i++) {
        argv[n++] = "--set";
        argv[n++] = owned[nowned++] = contend_asprintf("%s=%s", a->p[i].key, a->p[i].values[at[i]]);
    }
    argv[n++] = "--dir";
    argv[n++] = (char *)dir;
    if (child_quiet)
        argv[n++] = "--quiet";
    argv[n] = NULL;

    char *log = contend_asprintf("%s.txt", dir);
    int rc;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
            dup2(fd, 1);
        execv(self, argv);
        _exit(127);
    }
    if (pid < 0) {
        rc = -errno;
    } else {
        int st;
        child = pid;
        if (stop)
            kill(pid, (int)stop); /* the signal came between fork and here */
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        child = 0;
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(argv);
    free(log);
    return rc;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

/* The point's figures, from its run.json: its parameters, exit code, and
 * each case read back (contend_case_result_read) to what the table and the
 * plot show. */
static json_t *point_entry(const struct sweep_args *a, const size_t *at, size_t index,
                           const char *dir, int code, json_t **machine, json_t **scenario)
{
    json_t *params = json_object();
    for (size_t i = 0; i < a->np; i++)
        json_object_set_new(params, a->p[i].key, json_string(a->p[i].values[at[i]]));
    char *path = contend_asprintf("%s/run.json", dir);
    json_t *e = json_pack("{s:I, s:o, s:i, s:s}", "index", (json_int_t)index, "params", params,
                          "exit_code", code, "run_json", path);
    json_t *run = json_load_file(path, 0, NULL);
    json_t *cases = json_array();
    size_t i;
    json_t *c;
    if (run && !*machine)
        *machine = json_deep_copy(json_object_get(run, "machine"));
    if (run && !*scenario)
        *scenario = json_deep_copy(json_object_get(run, "scenario"));
    json_array_foreach (run ? json_object_get(run, "cases") : NULL, i, c) {
        struct contend_case_result r;
        contend_case_result_read(c, &r);
        const char *verdict = contend_verdict_name(r.verdict);
        json_t *x = json_pack(
            "{s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "name", str_or_null(r.name), "target",
            str_or_null(r.target), "variant", str_or_null(r.variant), "ok", r.ok, "verdict",
            str_or_null(*verdict ? verdict : NULL), "throughput_tps",
            num_or_null(r.fig[CONTEND_FIG_TPS]), "p50_us", num_or_null(r.fig[CONTEND_FIG_P50]),
            "p99_us", num_or_null(r.fig[CONTEND_FIG_P99]));
        if (r.summary[CONTEND_FIG_TPS].n && !isnan(r.summary[CONTEND_FIG_TPS].spread_pct))
            json_object_set_new(x, "tps_spread_pct",
                                json_real(r.summary[CONTEND_FIG_TPS].spread_pct));
        json_array_append_new(cases, x);
        contend_case_result_free(&r);
    }
    json_object_set_new(e, "cases", cases);
    if (!run)
        json_object_set_new(e, "error", json_string("no run.json: the run did not finish"));
    json_decref(run);
    free(path);
    return e;
}

static void write_doc(const json_t *doc, FILE *out)
{
    json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    fputc('\n', out);
}

/* The next grid point, in odometer order: the last parameter turns
 * fastest. */
static bool next_point(const struct sweep_args *a, size_t *at)
{
    for (size_t i = a->np; i-- > 0;) {
        if (++at[i] < a->p[i].n)
            return true;
        at[i] = 0;
    }
    return false;
}

static int write_outputs(const struct sweep_args *a, const json_t *doc, const char *dir)
{
    char path[PATH_MAX];
    int code = 0, rc;
    const struct {
        const char *name, *extra;
        void (*render)(const json_t *, FILE *);
    } outs[] = {{"sweep.json", a->json, write_doc}, {"sweep.html", a->html, contend_sweep_html}};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, outs[i].name);
        const char *targets[2] = {path, outs[i].extra};
        for (size_t k = 0; k < 2; k++) {
            if (!targets[k])
                continue;
            if ((rc = contend_report_write(targets[k], outs[i].render, doc)) != 0) {
                contend_err("cannot write %s: %s", targets[k], strerror(-rc));
                code = CONTEND_EXIT_HARNESS;
            } else {
                printf("%s: %s\n", outs[i].name, targets[k]);
            }
        }
    }
    return code;
}

int contend_cmd_sweep(int argc, char **argv)
{
    struct sweep_args a;
    char dir[PATH_MAX - 64], self[PATH_MAX], started[64];
    int code = CONTEND_EXIT_OK, rc;

    memset(&a, 0, sizeof a);
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        free_args(&a);
        return rc == -1 ? CONTEND_EXIT_OK : CONTEND_EXIT_USAGE;
    }
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0 || make_dir(&a, dir, sizeof dir) != 0) {
        free_args(&a);
        return CONTEND_EXIT_HARNESS;
    }
    self[sn] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);

    static const int sigs[] = {SIGINT, SIGTERM, 0};
    contend_catch_signals(on_signal, sigs);

    size_t total = 1, index = 0;
    for (size_t i = 0; i < a.np; i++)
        total *= a.p[i].n;
    size_t *at = contend_calloc(a.np, sizeof *at);
    json_t *points = json_array(), *machine = NULL, *scenario = NULL;
    bool child_quiet = a.quiet || !isatty(STDERR_FILENO);
    if (!a.quiet)
        fprintf(stderr, "contend: sweep of %zu point%s, directory %s\n", total,
                total == 1 ? "" : "s", dir);
    do {
        char pdir[PATH_MAX];
        snprintf(pdir, sizeof pdir, "%s/point-%zu", dir, ++index);
        if (!a.quiet) {
            fprintf(stderr, "[%zu/%zu]", index, total);
            for (size_t i = 0; i < a.np; i++)
                fprintf(stderr, " %s=%s", a.p[i].key, a.p[i].values[at[i]]);
            fprintf(stderr, "\n");
        }
        rc = run_point(&a, at, pdir, self, child_quiet);
        if (rc < 0 || rc == 127) {
            contend_err("sweep: cannot run %s: %s", self, rc < 0 ? strerror(-rc) : "exec failed");
            code = CONTEND_EXIT_HARNESS;
            break;
        }
        if (rc == CONTEND_EXIT_USAGE) {
            /* The child said why on stderr: a bad value of the parameter. */
            code = CONTEND_EXIT_USAGE;
            break;
        }
        if (rc == CONTEND_EXIT_INTERRUPTED || stop) {
            code = CONTEND_EXIT_INTERRUPTED;
            break;
        }
        if (rc != CONTEND_EXIT_OK && rc != CONTEND_EXIT_VIOLATION && rc != CONTEND_EXIT_GATE &&
            rc != CONTEND_EXIT_HARNESS) {
            contend_err("sweep: the run of point %zu ended with status %d", index, rc);
            rc = CONTEND_EXIT_HARNESS;
        }
        code = contend_exit_merge(code, rc);
        json_array_append_new(points, point_entry(&a, at, index, pdir, rc, &machine, &scenario));
    } while (next_point(&a, at));

    json_t *params = json_array();
    for (size_t i = 0; i < a.np; i++) {
        json_t *vals = json_array();
        for (size_t k = 0; k < a.p[i].n; k++)
            json_array_append_new(vals, json_string(a.p[i].values[k]));
        json_array_append_new(params, json_pack("{s:s, s:o}", "key", a.p[i].key, "values", vals));
    }
    json_t *doc =
        json_pack("{s:i, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:i}", "schema", 1,
                  "tool", "contend", "kind", "sweep", "version", contend_version(), "scenario",
                  scenario ? scenario : json_string(""), "scenario_path", a.file, "started_at",
                  started, "sweep_dir", dir, "machine", machine ? machine : json_object(), "params",
                  params, "points", points, "exit_code", code);
    if (code == CONTEND_EXIT_INTERRUPTED)
        fprintf(stderr, "contend: sweep interrupted; directory kept: %s\n", dir);
    if (code != CONTEND_EXIT_USAGE && json_array_size(points)) {
        contend_sweep_text(doc, stdout);
        putchar('\n');
        int wc = write_outputs(&a, doc, dir);
        if (wc && code != CONTEND_EXIT_INTERRUPTED)
            code = contend_exit_merge(code, wc);
    }
    fflush(stdout);
    json_decref(doc);
    free(at);
    free_args(&a);
    return code;
}
