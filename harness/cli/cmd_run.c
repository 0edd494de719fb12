/*
 * cmd_run.c - `contend run`: load a scenario, run its cases, report.
 *
 * Every `--KEY VALUE` that is not one of run's own options is a setting,
 * exactly like `--set KEY=VALUE`: with a scenario file it overrides every
 * case, and without one the settings make a one-case scenario.  Whether KEY
 * exists is decided when the case is resolved, where the workload's and the
 * target's own keys are known.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "args.h"
#include "check.h"
#include "commands.h"
#include "registry.h"
#include "extension.h"
#include "runjson.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

static const char run_usage[] =
    "usage: contend run FILE.ini [--case NAME] [--set key=value]... [--json PATH]\n"
    "                   [--keep] [--quiet] [--dir DIR] [--html F] [--markdown F]\n"
    "                   [--junit F]\n"
    "       contend run --workload W --target T[:VARIANT] [--procs N] [--threads M]\n"
    "                   [--ops K | --duration S] [--seed S] [--perturb US] [--expect V]\n"
    "                   [--json PATH]\n"
    "\n"
    "Runs every case of the scenario (or the one case the flags describe) and\n"
    "prints a table.  Any scenario key can be given as --KEY VALUE or --set KEY=VALUE;\n"
    "`contend list` shows the keys.\n"
    "\n"
    "  --case NAME      run only this case\n"
    "  --set KEY=VALUE  override KEY in every case (repeatable)\n"
    "  --json PATH      also write run.json to PATH\n"
    "  --keep           keep case directories of passing cases too\n"
    "  --quiet          no progress lines on stderr\n"
    "  --html F         also write the HTML report (plots, timelines) to F\n"
    "  --markdown F     also write the Markdown summary to F (for CI step summaries)\n"
    "  --junit F        also write JUnit XML to F\n"
    "  --dir DIR        run directory (default: a new one under $TMPDIR)\n"
    "\n"
    "Exit: 0 as expected, 1 invariant broken or expected violation missing,\n"
    "2 bad usage or scenario, 3 performance gate failed, 4 harness error,\n"
    "130 interrupted.\n";

struct run_args {
    const char *file, *only_case, *json_path, *dir;
    const char *html, *markdown, *junit; /* reports rendered from run.json */
    bool keep, quiet;
    struct contend_settings sets; /* --set and --KEY flags, in order */
};

enum {
    OPT_CASE,
    OPT_SET,
    OPT_JSON,
    OPT_DIR,
    OPT_HTML,
    OPT_MARKDOWN,
    OPT_JUNIT,
    OPT_KEEP,
    OPT_QUIET
};

static const struct contend_argdef run_opts[] = {
    {"case", 0, true, OPT_CASE},      {"set", 0, true, OPT_SET},
    {"json", 0, true, OPT_JSON},      {"dir", 0, true, OPT_DIR},
    {"html", 0, true, OPT_HTML},      {"markdown", 0, true, OPT_MARKDOWN},
    {"junit", 0, true, OPT_JUNIT},    {"keep", 0, false, OPT_KEEP},
    {"quiet", 'q', false, OPT_QUIET}, {NULL, 0, false, 0},
};

/* 0, -1 after --help (exit 0), or CONTEND_EXIT_USAGE (already said). */
static int parse_args(int argc, char **argv, struct run_args *a)
{
    struct contend_args p;
    int id, rc = 0;
    contend_args_init(&p, "run", run_usage, run_opts, true, argc, argv);
    while (rc == 0 && (id = contend_args_next(&p)) != CONTEND_ARG_END) {
        switch (id) {
        case CONTEND_ARG_HELP: rc = -1; break;
        case CONTEND_ARG_ERROR: rc = CONTEND_EXIT_USAGE; break;
        case OPT_CASE: a->only_case = p.value; break;
        case OPT_JSON: a->json_path = p.value; break;
        case OPT_DIR: a->dir = p.value; break;
        case OPT_HTML: a->html = p.value; break;
        case OPT_MARKDOWN: a->markdown = p.value; break;
        case OPT_JUNIT: a->junit = p.value; break;
        case OPT_KEEP: a->keep = true; break;
        case OPT_QUIET: a->quiet = true; break;
        case OPT_SET: {
            const char *eq = strchr(p.value, '=');
            if (!eq || eq == p.value) {
                rc = contend_usage_error(&p, "--set expects KEY=VALUE, got '%s'", p.value);
                break;
            }
            char *k = contend_strdup(p.value);
            k[eq - p.value] = '\0';
            contend_settings_add(&a->sets, k, eq + 1, "--set", 0);
            free(k);
            break;
        }
        case CONTEND_ARG_OTHER: {
            /* Any other --KEY is a setting; resolution rejects unknown keys. */
            char *origin = contend_asprintf("--%s", p.name);
            contend_settings_add(&a->sets, p.name, p.value, origin, 0);
            free(origin);
            break;
        }
        case CONTEND_ARG_POSITIONAL:
            if (a->file)
                rc = contend_usage_error(&p, "one scenario file at a time ('%s' and '%s')", a->file,
                                         p.value);
            else
                a->file = p.value;
            break;
        }
    }
    if (rc == 0 && !a->file && a->sets.n == 0)
        rc = contend_usage_error(&p, "no scenario file, and no --workload and --target");
    contend_args_free(&p);
    return rc;
}

/* Quote for a POSIX shell when needed. */
static char *shell_quote(const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./:=,+@%") == strlen(s))
        return contend_strdup(s);
    size_t n = 2;
    for (const char *p = s; *p; p++)
        n += (*p == '\'') ? 4 : 1;
    char *q = contend_calloc(1, n + 1), *o = q;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o = '\'';
    return q;
}

static void append(char **s, const char *piece)
{
    char *n = contend_asprintf("%s %s", *s, piece);
    free(*s);
    *s = n;
}

static void append_quoted(char **s, const char *prefix, const char *value)
{
    char *q = shell_quote(value);
    char *piece = contend_asprintf("%s%s", prefix, q);
    append(s, piece);
    free(piece);
    free(q);
}

static bool given(const struct run_args *a, const char *key)
{
    for (size_t i = 0; i < a->sets.n; i++)
        if (strcmp(a->sets.v[i].key, key) == 0)
            return true;
    return false;
}

/* The one line that runs this repetition again: same case, same seed, and
 * the extensions' settings (the fault plan is a function of them and the
 * seed) spelled out even when the scenario file has them. */
static char *repro_line(const struct run_args *a, const struct contend_case *c, uint64_t seed)
{
    char *s = contend_strdup("contend run");
    if (a->file) {
        append_quoted(&s, "", a->file);
        append_quoted(&s, "--case ", c->name);
    }
    for (size_t i = 0; a->file && i < c->settings.n; i++) {
        const struct contend_setting *x = &c->settings.v[i];
        if (!contend_find_extension_key(x->key, NULL) || given(a, x->key) ||
            contend_case_opt(c, x->key) != x->value)
            continue; /* not an extension's, on the command line already, or overridden */
        char *kv = contend_asprintf("%s=%s", x->key, x->value);
        append_quoted(&s, "--set ", kv);
        free(kv);
    }
    for (size_t i = 0; i < a->sets.n; i++) {
        const struct contend_setting *x = &a->sets.v[i];
        if (strcmp(x->key, "seed") == 0 || strcmp(x->key, "repeat") == 0)
            continue;
        char *kv = contend_asprintf("%s=%s", x->key, x->value);
        if (strcmp(x->origin, "--set") == 0)
            append_quoted(&s, "--set ", kv);
        else {
            char *flag = contend_asprintf("--%s ", x->key);
            append_quoted(&s, flag, x->value);
            free(flag);
        }
        free(kv);
    }
    char seedbuf[64];
    snprintf(seedbuf, sizeof seedbuf, "--seed %llu", (unsigned long long)seed);
    append(&s, seedbuf);
    if (c->repeat > 1)
        append(&s, "--repeat 1");
    return s;
}

/* Case paths add at most a few hundred bytes to the run directory. */
#define MAX_RUN_DIR (PATH_MAX - 512)

/* The scenario's name as it appears in its run directories' names. */
static void safe_name(const char *name, char safe[48])
{
    size_t i = 0;
    for (; name[i] && i < 47; i++)
        safe[i] = (name[i] == '/' || name[i] == ' ') ? '_' : name[i];
    safe[i] = '\0';
}

struct old_run {
    char *path;
    struct timespec mtime;
};

static int newest_first(const void *a, const void *b)
{
    const struct old_run *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
    return (x->mtime.tv_nsec < y->mtime.tv_nsec) - (x->mtime.tv_nsec > y->mtime.tv_nsec);
}

/*
 * Run directories under $TMPDIR pile up, one per run, and a failed run keeps
 * its stores: keep the newest CONTEND_KEEP_RUNS (default 20; 0 = keep all) of
 * this scenario and remove the rest.  Only finished runs (with a run.json)
 * that this user owns are candidates, so a run still going in another shell
 * is never touched; --dir is the user's own directory and never pruned.
 */
static void prune_old_runs(const char *name, const char *current)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    uint64_t keep = 20;
    const char *env = getenv("CONTEND_KEEP_RUNS");
    if (env && *env && contend_parse_u64(env, &keep) != 0)
        return;
    if (keep == 0)
        return;
    char safe[48], prefix[64];
    safe_name(name, safe);
    snprintf(prefix, sizeof prefix, "contend-%s-", safe);
    size_t plen = strlen(prefix);
    DIR *d = opendir(tmp);
    if (!d)
        return;
    struct old_run *runs = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        struct stat st;
        /* mkdtemp's XXXXXX: exactly six characters after the prefix. */
        if (strncmp(e->d_name, prefix, plen) != 0 || strlen(e->d_name) != plen + 6)
            continue;
        char *path = contend_asprintf("%s/%s", tmp, e->d_name);
        char *json = contend_asprintf("%s/run.json", path);
        bool ok = strcmp(path, current) != 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
                  st.st_uid == getuid() && access(json, F_OK) == 0;
        free(json);
        if (!ok) {
            free(path);
            continue;
        }
        runs = contend_realloc(runs, (n + 1) * sizeof *runs);
        runs[n++] = (struct old_run){path, st.st_mtim};
    }
    closedir(d);
    /* The current run is one of the `keep`. */
    if (n >= keep) {
        qsort(runs, n, sizeof *runs, newest_first);
        for (size_t i = keep - 1; i < n; i++)
            contend_rm_rf(runs[i].path);
    }
    for (size_t i = 0; i < n; i++)
        free(runs[i].path);
    free(runs);
}

static int make_run_dir(const struct run_args *a, const char *name, char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (strlen(a->dir ? a->dir : tmp) > MAX_RUN_DIR) {
        contend_err("run directory path is too long");
        return -ENAMETOOLONG;
    }
    if (a->dir) {
        int rc = contend_mkdir_p(a->dir, 0755);
        if (rc) {
            contend_err("cannot create run directory %s: %s", a->dir, strerror(-rc));
            return rc;
        }
        snprintf(out, len, "%s", a->dir);
        return 0;
    }
    char safe[48];
    safe_name(name, safe);
    snprintf(out, len, "%s/contend-%s-XXXXXX", tmp, safe);
    if (!mkdtemp(out)) {
        contend_err("cannot create a run directory under %s: %s", tmp, strerror(errno));
        return -errno;
    }
    return 0;
}

/*
 * The progress line on a terminal: which case, how many ops so far, tx/s,
 * violations found so far.  It appears once a repetition has run for half
 * a second, is redrawn at most four times a second (with \r, so it stays one
 * line), and is erased before anything else is printed.  Called from the
 * runner's monitor loop; it only reads the histories' progress counters.
 */
struct progress {
    const char *name;
    size_t index, total;
    uint32_t rep, reps;
    uint64_t violations; /* in the repetitions finished so far */
    uint64_t last;       /* when the line was last drawn */
    bool visible;
};

static void progress_line(void *ctx, const struct contend_run_info *ri, uint64_t now)
{
    struct progress *p = ctx;
    if (!ri->t_go || now - ri->t_go < 500000000ull || now - p->last < 250000000ull)
        return;
    uint64_t done = 0;
    for (uint32_t i = 0; i < ri->nwriters; i++)
        done += __atomic_load_n(&ri->h[i].hdr->done, __ATOMIC_ACQUIRE);
    double secs = (double)(now - ri->t_go) / 1e9;
    char ops[64], rep[32] = "";
    if (ri->c->duration_ns)
        snprintf(ops, sizeof ops, "%llu ops in %.1f/%.1f s", (unsigned long long)done, secs,
                 (double)ri->c->duration_ns / 1e9);
    else
        snprintf(ops, sizeof ops, "%llu/%llu ops", (unsigned long long)done,
                 (unsigned long long)ri->c->ops * ri->c->procs * ri->c->threads);
    if (p->reps > 1)
        snprintf(rep, sizeof rep, " run %u/%u", p->rep + 1, p->reps);
    fprintf(stderr, "\r\033[K[%zu/%zu] %.40s%s: %s, %.0f tx/s, %llu violation%s so far", p->index,
            p->total, p->name, rep, ops, secs > 0 ? (double)done / secs : 0.0,
            (unsigned long long)p->violations, p->violations == 1 ? "" : "s");
    fflush(stderr);
    p->last = now;
    p->visible = true;
}

static void progress_clear(struct progress *p)
{
    if (p->visible)
        fputs("\r\033[K", stderr);
    p->visible = false;
}

/* Run every case into run's "cases"; each case's result (its scalars:
 * verdict, exit code, counts) into results[i], *nresults of them. */
static int run_cases(const struct run_args *a, const struct contend_scenario *sc,
                     const char *run_dir, json_t *run, struct contend_case_result *results,
                     size_t *nresults)
{
    struct contend_run_opts opts = {.root_dir = run_dir, .keep = a->keep};
    json_t *cases = json_object_get(run, "cases");
    struct progress prog = {.total = sc->ncases};

    if (!a->quiet && isatty(STDERR_FILENO)) {
        opts.progress = progress_line;
        opts.progress_ctx = &prog;
    }

    for (size_t i = 0; i < sc->ncases; i++) {
        const struct contend_case *c = &sc->cases[i];
        struct contend_rep *reps = contend_calloc(c->repeat, sizeof *reps);
        uint32_t done = 0;
        int rc = 0;
        for (; done < c->repeat; done++) {
            prog.name = c->name;
            prog.index = i + 1;
            prog.rep = done;
            prog.reps = c->repeat;
            rc = contend_run_case(c, done, &opts, &reps[done]);
            progress_clear(&prog);
            prog.violations += reps[done].nv;
            if (rc == CONTEND_EXIT_INTERRUPTED) {
                fprintf(stderr, "contend: interrupted; run directory kept: %s\n", run_dir);
                contend_rep_free(&reps[done]);
                break;
            }
            if (contend_rep_exit_code(&reps[done]) != CONTEND_EXIT_OK)
                reps[done].repro = repro_line(a, c, reps[done].seed);
        }
        if (done > 0) {
            struct contend_case_result *res = &results[(*nresults)++];
            contend_case_result_of(c, reps, done, res);
            json_t *entry = contend_case_result_json(res);
            if (!entry) {
                /* A case that cannot be written must not vanish from run.json
                 * (its verdict would be lost, and the run look clean): it is
                 * a harness error, recorded as such. */
                contend_err("case %zu: cannot be written to run.json", i + 1);
                res->verdict = CONTEND_VERDICT_ERROR;
                res->exit_code = CONTEND_EXIT_HARNESS;
                res->ok = false;
                entry = json_pack("{s:s, s:b, s:s, s:i, s:s}", "name", "(unwritable case)", "ok", 0,
                                  "verdict", contend_verdict_name(res->verdict), "exit_code",
                                  res->exit_code, "error",
                                  "the case's results could not be serialized");
            }
            contend_case_result_free(res);
            json_array_append_new(cases, entry);
            if (!a->quiet && rc != CONTEND_EXIT_INTERRUPTED)
                contend_report_case_line(entry, i + 1, sc->ncases, stderr);
        }
        for (uint32_t r = 0; r < done; r++)
            contend_rep_free(&reps[r]);
        free(reps);
        if (rc == CONTEND_EXIT_INTERRUPTED)
            return rc;
    }
    return 0;
}

int contend_cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct contend_scenario sc;
    char run_dir[PATH_MAX], path[PATH_MAX + 16];
    int rc;

    memset(&a, 0, sizeof a);
    memset(&sc, 0, sizeof sc);
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        contend_settings_free(&a.sets);
        return rc == -1 ? CONTEND_EXIT_OK : CONTEND_EXIT_USAGE;
    }
    if (a.file)
        rc = contend_scenario_load(a.file, &a.sets, a.only_case, &sc);
    else
        rc = contend_scenario_from_settings("cli", &a.sets, &sc);
    if (rc) {
        contend_settings_free(&a.sets);
        return CONTEND_EXIT_USAGE; /* unreadable or invalid: the input is wrong */
    }
    if (contend_runner_init() != 0 || make_run_dir(&a, sc.name, run_dir, sizeof run_dir) != 0) {
        contend_scenario_free(&sc);
        contend_settings_free(&a.sets);
        return CONTEND_EXIT_HARNESS;
    }
    if (!a.quiet)
        fprintf(stderr, "contend: %s: %zu case%s, run directory %s\n", sc.name, sc.ncases,
                sc.ncases == 1 ? "" : "s", run_dir);

    json_t *run = contend_runjson_new(sc.name, a.file, sc.cases[0].seed, argc, argv, run_dir);
    struct contend_case_result *results = contend_calloc(sc.ncases, sizeof *results);
    size_t nresults = 0;
    rc = run_cases(&a, &sc, run_dir, run, results, &nresults);
    int code =
        rc == CONTEND_EXIT_INTERRUPTED ? rc : contend_case_results_exit_code(results, nresults);
    free(results);
    json_object_set_new(run, "ok", json_boolean(code == CONTEND_EXIT_OK));
    json_object_set_new(run, "exit_code", json_integer(code));
    if (rc == CONTEND_EXIT_INTERRUPTED)
        json_object_set_new(run, "interrupted", json_true());

    snprintf(path, sizeof path, "%s/run.json", run_dir);
    const char *written = NULL; /* the run.json to point the user at */
    if ((rc = contend_runjson_write(run, path)) != 0) {
        contend_err("cannot write %s: %s", path, strerror(-rc));
        code = CONTEND_EXIT_HARNESS;
    } else {
        written = path;
    }
    if (a.json_path && (rc = contend_runjson_write(run, a.json_path)) != 0) {
        contend_err("cannot write %s: %s", a.json_path, strerror(-rc));
        code = CONTEND_EXIT_HARNESS;
    } else if (a.json_path) {
        written = a.json_path;
    }
    if (code != CONTEND_EXIT_INTERRUPTED) {
        contend_report_text(run, stdout);
        if (written)
            printf("\nrun.json: %s\n", written);
    }
    /* The other reports, rendered from run.json like `contend report` does. */
    const struct {
        const char *path, *what;
        void (*render)(const json_t *, FILE *);
    } reports[] = {{a.html, "html", contend_report_html},
                   {a.markdown, "markdown", contend_report_markdown},
                   {a.junit, "junit", contend_report_junit}};
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
        if (!reports[i].path)
            continue;
        if ((rc = contend_report_write(reports[i].path, reports[i].render, run)) != 0) {
            contend_err("cannot write %s: %s", reports[i].path, strerror(-rc));
            code = CONTEND_EXIT_HARNESS;
        } else if (strcmp(reports[i].path, "-") != 0) {
            printf("%s report: %s\n", reports[i].what, reports[i].path);
        }
    }
    fflush(stdout);
    if (!a.dir && code != CONTEND_EXIT_INTERRUPTED)
        prune_old_runs(sc.name, run_dir);
    json_decref(run);
    contend_scenario_free(&sc);
    contend_settings_free(&a.sets);
    return code;
}
