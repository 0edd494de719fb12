/*
 * cmd_replay.c - `contend replay` and `contend shrink`: a failing run again,
 * exactly, and smaller.
 *
 * Both start from run.json, which names for every case its settings and,
 * under a controlled schedule, the schedule file of each run with its
 * SHA-256.  Replay rebuilds the case from those settings with the run's seed
 * and `schedule_file` set, so every worker thread gets the token exactly when
 * it got it before: the same ops, in the same order at every point, and the
 * same violations and counts.
 *
 * Shrink searches for a smaller case that fails the same way (one of the
 * same violation kinds), one dimension at a time (procs, threads, ops per
 * thread, keys, faults), trying the smallest value first, then half, then
 * one less, and keeping a candidate as soon as it fails: a greedy form of
 * delta debugging that ends when no single step makes the case smaller.
 * Each candidate runs under a controlled schedule (the run's, or pct when
 * the run had none) on a few seeds; the first that fails is kept, so the
 * smallest case comes with the schedule file that reproduces it.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "report.h"
#include "runjson.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"

#define SHRINK_SEEDS 5

#define REPLAY_LINE "contend replay RUN.json [--case NAME] [--json PATH] [--dir DIR] [--quiet]\n"
#define SHRINK_LINE "contend shrink RUN.json [--case NAME] [--json PATH] [--dir DIR] [--quiet]\n"
#define REPLAY_HELP                                                                                \
    "\n"                                                                                           \
    "replay runs a case of a run again under the schedule that run recorded\n"                     \
    "(schedule = random or pct): the same decisions, violations and counts.\n"                     \
    "shrink searches for a smaller case (fewer processes, threads, ops, keys,\n"                   \
    "faults) that fails the same way under a controlled schedule, prints it as\n"                  \
    "an INI section with its replay command, and writes its run.json.\n"                           \
    "\n"                                                                                           \
    "  --case NAME   the case (default: the first failing one, else the first)\n"                  \
    "  --json PATH   also write the resulting run.json to PATH\n"                                  \
    "  --dir DIR     run directory (default: a new one under $TMPDIR)\n"

/* Each command's usage names that command first (the convention of args.h). */
static const char replay_usage[] = "usage: " REPLAY_LINE "       " SHRINK_LINE REPLAY_HELP;
static const char shrink_usage[] = "usage: " SHRINK_LINE "       " REPLAY_LINE REPLAY_HELP;

struct rargs {
    const char *run_json, *only_case, *json_path, *dir;
    bool quiet;
};

enum { OPT_CASE, OPT_JSON, OPT_DIR, OPT_QUIET };

static const struct contend_argdef replay_opts[] = {
    {"case", 0, true, OPT_CASE},      {"json", 0, true, OPT_JSON}, {"dir", 0, true, OPT_DIR},
    {"quiet", 'q', false, OPT_QUIET}, {NULL, 0, false, 0},
};

/* Returns 0 to go on, else the exit code (--help: 0 after printing the usage,
 * so the caller tells them apart by `*done`). */
static int parse(int argc, char **argv, struct rargs *a, bool *done)
{
    struct contend_args p;
    memset(a, 0, sizeof *a);
    *done = false;
    const char *usage = strcmp(argv[0], "shrink") == 0 ? shrink_usage : replay_usage;
    contend_args_init(&p, argv[0], usage, replay_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        switch (id) {
        case CONTEND_ARG_HELP: *done = true; return CONTEND_EXIT_OK;
        case CONTEND_ARG_ERROR: *done = true; return CONTEND_EXIT_USAGE;
        case OPT_CASE: a->only_case = p.value; break;
        case OPT_JSON: a->json_path = p.value; break;
        case OPT_DIR: a->dir = p.value; break;
        case OPT_QUIET: a->quiet = true; break;
        case CONTEND_ARG_POSITIONAL:
            if (a->run_json) {
                *done = true;
                return contend_usage_error(&p, "one run.json at a time, got '%s' after '%s'",
                                           p.value, a->run_json);
            }
            a->run_json = p.value;
            break;
        }
    }
    if (!a->run_json) {
        *done = true;
        return contend_usage_error(&p, "which run.json?");
    }
    return 0;
}

/* The case entry: by name, else the first that failed, else the first. */
static json_t *pick_case(json_t *run, const char *name)
{
    json_t *cases = json_object_get(run, "cases"), *c, *first_bad = NULL;
    size_t i;
    json_array_foreach (cases, i, c) {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (name && n && strcmp(n, name) == 0)
            return c;
        if (!first_bad && !json_is_true(json_object_get(c, "ok")))
            first_bad = c;
    }
    if (name)
        return NULL;
    return first_bad ? first_bad : json_array_get(cases, 0);
}

/* The run of the case that the case entry shows (its schedule is copied up). */
static json_t *shown_run(json_t *kase)
{
    json_t *sched = json_object_get(kase, "schedule"), *r;
    const char *file = json_string_value(json_object_get(sched, "file"));
    size_t i;
    json_array_foreach (json_object_get(kase, "runs"), i, r) {
        const char *f = json_string_value(json_object_get(json_object_get(r, "schedule"), "file"));
        if (!file || (f && strcmp(f, file) == 0))
            return r;
    }
    return json_array_get(json_object_get(kase, "runs"), 0);
}

static void settings_from(json_t *kase, struct contend_settings *out)
{
    json_t *kv;
    size_t i;
    json_array_foreach (json_object_get(kase, "settings"), i, kv) {
        const char *k = json_string_value(json_array_get(kv, 0));
        const char *v = json_string_value(json_array_get(kv, 1));
        if (k && v)
            contend_settings_add(out, k, v, "run.json", 0);
    }
}

static void set_u64(struct contend_settings *s, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    contend_settings_add(s, key, buf, "shrink", 0);
}

static int make_dir(const struct rargs *a, const char *what, char *out, size_t len)
{
    if (a->dir) {
        int rc = contend_mkdir_p(a->dir, 0755);
        if (rc)
            contend_err("cannot create %s: %s", a->dir, strerror(-rc));
        snprintf(out, len, "%s", a->dir);
        return rc;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(out, len, "%s/contend-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
    if (!mkdtemp(out)) {
        contend_err("cannot create a run directory: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* One run of a case built from settings, into dir; the case entry, or NULL
 * when the settings do not resolve (the reason is on stderr).  *code_out is
 * the run's exit code, from the case's result. */
static json_t *run_once(const char *name, const struct contend_settings *s, const char *dir,
                        int argc, char **argv, json_t **run_out, int *code_out)
{
    struct contend_case c;
    memset(&c, 0, sizeof c);
    if (contend_case_resolve(&c, name, "run.json", 0, s) != 0) {
        contend_case_free(&c);
        return NULL;
    }
    struct contend_run_opts opts = {.root_dir = dir};
    struct contend_rep rep;
    json_t *run = contend_runjson_new(name, NULL, c.seed, argc, argv, dir);
    int rc = contend_run_case(&c, 0, &opts, &rep);
    json_t *entry = NULL;
    *code_out = CONTEND_EXIT_INTERRUPTED;
    if (rc != CONTEND_EXIT_INTERRUPTED) {
        struct contend_case_result res;
        contend_case_result_of(&c, &rep, 1, &res);
        entry = contend_case_result_json(&res);
        if (!entry)
            res.exit_code = CONTEND_EXIT_HARNESS;
        *code_out = contend_case_results_exit_code(&res, 1);
        contend_case_result_free(&res);
        json_array_append_new(json_object_get(run, "cases"), entry);
        json_object_set_new(run, "ok", json_boolean(*code_out == CONTEND_EXIT_OK));
        json_object_set_new(run, "exit_code", json_integer(*code_out));
    }
    contend_rep_free(&rep);
    contend_case_free(&c);
    *run_out = run;
    return entry;
}

/* Write run.json (exit code `code`) and print its table; the exit code. */
static int finish_run(const struct rargs *a, json_t *run, int code, const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (contend_runjson_write(run, path) != 0 ||
        (a->json_path && contend_runjson_write(run, a->json_path) != 0)) {
        contend_err("cannot write run.json");
        return CONTEND_EXIT_HARNESS;
    }
    contend_report_text(run, stdout);
    printf("\nrun.json: %s\n", a->json_path ? a->json_path : path);
    return code;
}

/* "lost-update 150, ..." of a case entry's violations. */
static char *counts_of(json_t *kase)
{
    char *s = contend_strdup("");
    struct contend_case_result r;
    contend_case_result_read(kase, &r);
    for (size_t i = 0; i < r.nviolations; i++) {
        char *n = contend_asprintf("%s%s%s %llu", s, *s ? ", " : "", r.violations[i].kind,
                                   (unsigned long long)r.violations[i].count);
        free(s);
        s = n;
    }
    contend_case_result_free(&r);
    return s;
}

static json_t *load(const struct rargs *a, json_t **kase)
{
    json_error_t err;
    json_t *run = json_load_file(a->run_json, 0, &err);
    if (!run) {
        contend_err("%s:%d: %s", a->run_json, err.line, err.text);
        return NULL;
    }
    *kase = pick_case(run, a->only_case);
    if (!*kase || !json_object_get(*kase, "settings")) {
        contend_err("%s: %s", a->run_json,
                    *kase ? "this run.json does not carry the case's settings (an older contend?)"
                          : "no such case");
        json_decref(run);
        return NULL;
    }
    return run;
}

int contend_cmd_replay(int argc, char **argv)
{
    struct rargs a;
    json_t *kase;
    char dir[PATH_MAX];
    bool done;
    int rc = parse(argc, argv, &a, &done);
    if (done)
        return rc;
    json_t *orig = load(&a, &kase);
    if (!orig)
        return CONTEND_EXIT_USAGE;
    const char *name = json_string_value(json_object_get(kase, "name"));
    json_t *r = shown_run(kase);
    json_t *sched = json_object_get(r, "schedule");
    const char *file = json_string_value(json_object_get(sched, "file"));
    if (!file) {
        contend_err("%s: case %s ran under the OS's schedule, which cannot be replayed; run it "
                    "with --set schedule=pct (or random)",
                    a.run_json, name);
        json_decref(orig);
        return CONTEND_EXIT_USAGE;
    }
    if (!json_is_true(json_object_get(sched, "replayable")))
        contend_err("warning: the schedule of case %s is incomplete (the log overflowed or the "
                    "watchdog fell back to the OS); the replay may differ",
                    name);
    struct contend_settings s = {0};
    settings_from(kase, &s);
    set_u64(&s, "seed", (uint64_t)json_integer_value(json_object_get(r, "seed")));
    set_u64(&s, "repeat", 1);
    contend_settings_add(&s, "schedule_file", file, "replay", 0);

    json_t *run = NULL;
    int code = CONTEND_EXIT_HARNESS;
    if (contend_runner_init() == 0 && make_dir(&a, "replay", dir, sizeof dir) == 0) {
        int run_code;
        json_t *entry = run_once(name, &s, dir, argc, argv, &run, &run_code);
        if (entry) {
            code = finish_run(&a, run, run_code, dir);
            char *was = counts_of(kase), *now = counts_of(entry);
            bool same = strcmp(was, now) == 0;
            json_t *ns = json_object_get(entry, "schedule");
            bool diverged = json_is_true(json_object_get(ns, "diverged"));
            printf("replay of %s: recorded [%s], replayed [%s]: %s%s\n", name, was, now,
                   same ? "same violations and counts" : "DIFFERENT",
                   diverged ? " (the schedule diverged)" : "");
            free(was);
            free(now);
        } else if (!run) {
            code = CONTEND_EXIT_USAGE;
        }
    }
    json_decref(run);
    contend_settings_free(&s);
    json_decref(orig);
    return code;
}

/* ---- shrink ------------------------------------------------------------------- */

struct shrink {
    const struct rargs *a;
    const char *name;
    struct contend_settings base; /* the case's own settings */
    const char *kinds[16];        /* the violation kinds it failed with */
    size_t nkinds;
    uint64_t seed;
    char root[PATH_MAX];
    unsigned tried;
    json_t *best_run; /* the run.json of the smallest failing candidate */
    int best_code;    /* and its exit code */
    int argc;
    char **argv;
};

static bool same_failure(const struct shrink *sh, json_t *entry)
{
    struct contend_case_result r;
    bool same = false;
    contend_case_result_read(entry, &r);
    for (size_t i = 0; i < r.nviolations && !same; i++)
        for (size_t j = 0; j < sh->nkinds && !same; j++)
            same = strcmp(sh->kinds[j], r.violations[i].kind) == 0;
    contend_case_result_free(&r);
    return same;
}

/* Does the case with these extra settings fail the same way on one of a few
 * seeds?  On success the run is kept as the best so far. */
static bool try_candidate(struct shrink *sh, const struct contend_settings *extra)
{
    for (uint64_t k = 0; k < SHRINK_SEEDS; k++) {
        struct contend_settings s = {0};
        for (size_t i = 0; i < sh->base.n; i++)
            contend_settings_add(&s, sh->base.v[i].key, sh->base.v[i].value, "run.json", 0);
        for (size_t i = 0; i < extra->n; i++)
            contend_settings_add(&s, extra->v[i].key, extra->v[i].value, "shrink", 0);
        set_u64(&s, "seed", sh->seed + k);
        set_u64(&s, "repeat", 1);
        char dir[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s/try%u", sh->root, ++sh->tried);
        json_t *run = NULL, *entry = NULL;
        int code = CONTEND_EXIT_HARNESS;
        if (contend_mkdir_p(dir, 0755) == 0)
            entry = run_once(sh->name, &s, dir, sh->argc, sh->argv, &run, &code);
        bool fails = entry && same_failure(sh, entry);
        contend_settings_free(&s);
        if (fails) {
            json_decref(sh->best_run);
            sh->best_run = run;
            sh->best_code = code;
            sh->seed += k; /* keep the seed that failed: later candidates start there */
            return true;
        }
        json_decref(run);
        if (!entry)
            return false; /* does not resolve: no other seed will */
    }
    return false;
}

static uint64_t setting_u64(const struct contend_settings *base, const struct contend_settings *x,
                            const char *key, uint64_t def)
{
    uint64_t v = def;
    for (size_t i = 0; i < base->n; i++)
        if (strcmp(base->v[i].key, key) == 0)
            contend_parse_u64(base->v[i].value, &v);
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->v[i].key, key) == 0)
            contend_parse_u64(x->v[i].value, &v);
    return v;
}

/* One dimension: smallest first, then half, then one less. */
static bool shrink_dim(struct shrink *sh, struct contend_settings *cur, const char *key,
                       uint64_t min, uint64_t def)
{
    uint64_t v = setting_u64(&sh->base, cur, key, def);
    uint64_t cand[3] = {min, v / 2, v - 1};
    for (int i = 0; i < 3; i++) {
        if (v == 0 || cand[i] >= v || cand[i] < min || (i > 0 && cand[i] == cand[i - 1]))
            continue;
        struct contend_settings x = {0};
        for (size_t j = 0; j < cur->n; j++)
            contend_settings_add(&x, cur->v[j].key, cur->v[j].value, "shrink", 0);
        set_u64(&x, key, cand[i]);
        if (!sh->a->quiet)
            fprintf(stderr, "shrink: %s = %llu ... ", key, (unsigned long long)cand[i]);
        bool ok = try_candidate(sh, &x);
        if (!sh->a->quiet)
            fprintf(stderr, "%s\n", ok ? "still fails" : "passes");
        if (ok) {
            contend_settings_free(cur);
            *cur = x;
            return true;
        }
        contend_settings_free(&x);
    }
    return false;
}

/* The final case as an INI section: every key once, its last value. */
static void print_section(const struct shrink *sh, const struct contend_settings *cur)
{
    printf("\n[%s.shrunk]\n", sh->name);
    const struct contend_settings *lists[2] = {&sh->base, cur};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *k = lists[l]->v[i].key;
            bool later = false;
            for (int m = l; m < 2 && !later; m++)
                for (size_t j = m == l ? i + 1 : 0; j < lists[m]->n && !later; j++)
                    later = strcmp(lists[m]->v[j].key, k) == 0;
            if (!later && strcmp(k, "repeat") != 0 && strcmp(k, "schedule_file") != 0 &&
                strcmp(k, "seed") != 0)
                printf("%s = %s\n", k, lists[l]->v[i].value);
        }
    printf("seed = %llu\n", (unsigned long long)sh->seed);
}

int contend_cmd_shrink(int argc, char **argv)
{
    struct rargs a;
    json_t *kase;
    struct shrink sh;
    bool done;
    int rc = parse(argc, argv, &a, &done);
    if (done)
        return rc;
    json_t *orig = load(&a, &kase);
    if (!orig)
        return CONTEND_EXIT_USAGE;
    memset(&sh, 0, sizeof sh);
    sh.a = &a;
    sh.argc = argc;
    sh.argv = argv;
    /* The names are orig's strings: they outlive the result read here. */
    struct contend_case_result kr;
    contend_case_result_read(kase, &kr);
    sh.name = kr.name;
    for (size_t i = 0; i < kr.nviolations && sh.nkinds < sizeof sh.kinds / sizeof sh.kinds[0]; i++)
        sh.kinds[sh.nkinds++] = kr.violations[i].kind;
    contend_case_result_free(&kr);
    if (sh.nkinds == 0) {
        contend_err("%s: case %s found no violation: nothing to shrink", a.run_json, sh.name);
        json_decref(orig);
        return CONTEND_EXIT_USAGE;
    }
    settings_from(kase, &sh.base);
    sh.seed = (uint64_t)json_integer_value(json_object_get(shown_run(kase), "seed"));
    struct contend_settings cur = {0};
    /* Every candidate under a controlled schedule, and no sleeps. */
    const char *mode =
        json_string_value(json_object_get(json_object_get(kase, "schedule"), "mode"));
    contend_settings_add(&cur, "schedule", mode ? mode : "pct", "shrink", 0);
    contend_settings_add(&cur, "perturb", "0", "shrink", 0);

    int code = CONTEND_EXIT_HARNESS;
    if (contend_runner_init() != 0 || make_dir(&a, "shrink", sh.root, sizeof sh.root) != 0)
        goto out;
    if (!try_candidate(&sh, &cur)) {
        contend_err("shrink: case %s does not fail the same way under schedule = %s on seeds "
                    "%llu..%llu; nothing to shrink from",
                    sh.name, mode ? mode : "pct", (unsigned long long)sh.seed,
                    (unsigned long long)sh.seed + SHRINK_SEEDS - 1);
        code = CONTEND_EXIT_VIOLATION;
        goto out;
    }
    static const struct {
        const char *key;
        uint64_t min, def;
    } dims[] = {{"procs", 1, 1}, {"threads", 1, 1}, {"ops", 1, 0},     {"keys", 1, 1},
                {"kill", 0, 0},  {"pause", 0, 0},   {"powercut", 0, 0}};
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            while (shrink_dim(&sh, &cur, dims[d].key, dims[d].min, dims[d].def))
                progress = true;
    }
    code = finish_run(&a, sh.best_run, sh.best_code, sh.root);
    print_section(&sh, &cur);
    char abs[PATH_MAX];
    printf("\nreplay: contend replay %s/run.json\n", realpath(sh.root, abs) ? abs : sh.root);
    printf("(%u candidate runs)\n", sh.tried);
    /* A shrunk case that fails is what was asked for. */
    code = code == CONTEND_EXIT_HARNESS ? code : CONTEND_EXIT_OK;
out:
    json_decref(sh.best_run);
    contend_settings_free(&cur);
    contend_settings_free(&sh.base);
    json_decref(orig);
    return code;
}
