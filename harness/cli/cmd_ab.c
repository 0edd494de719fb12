/*
 * cmd_ab.c - `contend ab`: is B slower than A, measured on this machine now?
 *
 * Two runs measured one after the other differ by whatever the machine did
 * in between (another job started, the disk got busy).  So ab measures the
 * two sides interleaved, in rounds: A B, B A, A B, ... (the order swapped
 * every round, so neither side always runs first, after the other warmed
 * the caches).  A drift of the machine then falls on both sides alike, and
 * what is left between them is the change.  Each side of a round is one
 * `contend run` (of its binary, with its settings) into DIR/SIDE-ROUND.json;
 * at the end the rounds of each side are pooled and compared exactly as
 * `contend compare` does (reports/compare.c), with the same exit codes.
 *
 * The two sides are two builds (--a BIN --b BIN, each a contend executable)
 * or two settings of one scenario (--a-set K=V --b-set K=V), or both.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "compare.h"
#include "report.h"
#include "util.h"

static const char ab_usage[] =
    "usage: contend ab SCENARIO.ini [--a BIN] [--b BIN] [--a-set K=V]... [--b-set K=V]...\n"
    "                  [--set K=V]... [--case NAME] [--rounds N] [--repeat R] [--dir DIR]\n"
    "                  [--max-slowdown PCT] [--alpha A] [--json F] [--markdown F]\n"
    "                  [--html F] [--quiet]\n"
    "\n"
    "Runs the scenario as A and as B, interleaved (A B, B A, A B, ...), for N\n"
    "rounds, then compares B against A as `contend compare` does.  A and B are\n"
    "two builds (--a / --b: contend executables; default this one) or two\n"
    "settings (--a-set / --b-set, like run's --set), or both.\n"
    "\n"
    "  --a BIN, --b BIN    the contend executable of each side\n"
    "  --a-set, --b-set    a scenario setting of one side (repeatable)\n"
    "  --set K=V           a setting of both sides (repeatable)\n"
    "  --case NAME         only this case\n"
    "  --rounds N          rounds (default 9): each side gets N x R repetitions\n"
    "  --repeat R          repetitions of each side per round (default 1)\n"
    "  --dir DIR           where the rounds' run.json files go (default: a new\n"
    "                      directory under $TMPDIR)\n"
    "  --max-slowdown PCT, --alpha A, --json F, --markdown F, --html F, --quiet\n"
    "                      as for contend compare\n"
    "\n"
    "Exit: 0 B is not slower, 3 B is slower, 2 bad usage, 4 a run could not run.\n";

struct ab_args {
    const char *scenario, *bin[2], *only_case, *dir;
    const char **sets[3]; /* A's, B's, both */
    size_t nsets[3];
    unsigned long rounds, repeat;
};

static void add_set(struct ab_args *a, int side, const char *kv)
{
    a->sets[side] = contend_realloc(a->sets[side], (a->nsets[side] + 1) * sizeof *a->sets[side]);
    a->sets[side][a->nsets[side]++] = kv;
}

/* One side of one round: `BIN run SCENARIO --set ... --json OUT`, its
 * output in OUT with .txt for .json.  Returns the child's exit code, or
 * CONTEND_EXIT_HARNESS when it could not be started. */
static int run_side(const struct ab_args *a, int side, unsigned long round, const char *json)
{
    size_t cap = 16 + 2 * (a->nsets[side] + a->nsets[2]), n = 0;
    char **argv = contend_calloc(cap, sizeof *argv);
    char *seed = contend_asprintf("seed=%lu", round);
    char *repeat = contend_asprintf("repeat=%lu", a->repeat);
    argv[n++] = (char *)a->bin[side];
    argv[n++] = "run";
    argv[n++] = (char *)a->scenario;
    if (a->only_case) {
        argv[n++] = "--case";
        argv[n++] = (char *)a->only_case;
    }
    for (int k = 2;; k = side) {
        for (size_t i = 0; i < a->nsets[k]; i++) {
            argv[n++] = "--set";
            argv[n++] = (char *)a->sets[k][i];
        }
        if (k == side)
            break;
    }
    argv[n++] = "--set";
    argv[n++] = seed;
    argv[n++] = "--set";
    argv[n++] = repeat;
    argv[n++] = "--json";
    argv[n++] = (char *)json;
    argv[n++] = "--quiet";
    argv[n] = NULL;

    char *log = contend_asprintf("%.*s.txt", (int)(strlen(json) - 5), json);
    int rc = CONTEND_EXIT_HARNESS;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(CONTEND_EXIT_HARNESS);
    }
    if (pid > 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (rc != 0 && rc != 1 && rc != 3)
        contend_err("ab: %s %s exited %d (see %s)", side ? "B" : "A", a->bin[side], rc, log);
    free(log);
    free(seed);
    free(repeat);
    free(argv);
    return rc;
}

/* "DIR/a-1.json,DIR/a-2.json,...": the rounds of one side, for pooling. */
static char *side_files(const char *dir, char side, unsigned long rounds)
{
    char *list = contend_strdup("");
    for (unsigned long r = 1; r <= rounds; r++) {
        char *next = contend_asprintf("%s%s%s/%c-%lu.json", list, r > 1 ? "," : "", dir, side, r);
        free(list);
        list = next;
    }
    return list;
}

static int parse_count(const struct contend_args *p, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(p->value, &end, 10);
    if (errno || *end || end == p->value || v < 1 || v > 10000)
        return contend_usage_error(p, "--%s expects a count from 1 to 10000, got '%s'", p->name,
                                   p->value);
    *out = v;
    return 0;
}

static bool has_eq(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq && eq != kv;
}

enum {
    OPT_A,
    OPT_B,
    OPT_ASET,
    OPT_BSET,
    OPT_SET,
    OPT_CASE,
    OPT_ROUNDS,
    OPT_REPEAT,
    OPT_DIR,
    OPT_MAX,
    OPT_ALPHA,
    OPT_JSON,
    OPT_MD,
    OPT_HTML,
    OPT_QUIET
};

static const struct contend_argdef ab_opts[] = {
    {"a", 0, true, OPT_A},
    {"b", 0, true, OPT_B},
    {"a-set", 0, true, OPT_ASET},
    {"b-set", 0, true, OPT_BSET},
    {"set", 0, true, OPT_SET},
    {"case", 0, true, OPT_CASE},
    {"rounds", 0, true, OPT_ROUNDS},
    {"repeat", 0, true, OPT_REPEAT},
    {"dir", 0, true, OPT_DIR},
    {"max-slowdown", 0, true, OPT_MAX},
    {"alpha", 0, true, OPT_ALPHA},
    {"json", 0, true, OPT_JSON},
    {"markdown", 0, true, OPT_MD},
    {"html", 0, true, OPT_HTML},
    {"quiet", 'q', false, OPT_QUIET},
    {NULL, 0, false, 0},
};

int contend_cmd_ab(int argc, char **argv)
{
    struct ab_args a = {.rounds = 9, .repeat = 1};
    struct contend_compare_opts co = {.alpha = 0.05, .max_slowdown_pct = 5};
    struct contend_compare_out out = {0};
    static char self[PATH_MAX];
    char *made_dir = NULL, *fa = NULL, *fb = NULL;
    json_t *base = NULL, *new_run = NULL;
    int code = CONTEND_EXIT_USAGE;
    bool quiet = false;
    struct contend_args p;

    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        contend_err("ab: cannot find my own executable: %s", strerror(errno));
        return CONTEND_EXIT_HARNESS;
    }
    self[len] = '\0';
    a.bin[0] = a.bin[1] = self;

    contend_args_init(&p, "ab", ab_usage, ab_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        switch (id) {
        case CONTEND_ARG_HELP: code = CONTEND_EXIT_OK; goto out;
        case CONTEND_ARG_ERROR: goto out;
        case OPT_A: a.bin[0] = p.value; break;
        case OPT_B: a.bin[1] = p.value; break;
        case OPT_ASET:
        case OPT_BSET:
        case OPT_SET:
            if (!has_eq(p.value)) {
                contend_usage_error(&p, "--%s expects KEY=VALUE, got '%s'", p.name, p.value);
                goto out;
            }
            add_set(&a, id == OPT_ASET ? 0 : id == OPT_BSET ? 1 : 2, p.value);
            break;
        case OPT_CASE: a.only_case = p.value; break;
        case OPT_ROUNDS:
            if (parse_count(&p, &a.rounds))
                goto out;
            break;
        case OPT_REPEAT:
            if (parse_count(&p, &a.repeat))
                goto out;
            break;
        case OPT_DIR: a.dir = p.value; break;
        case OPT_MAX:
            if (contend_args_number(&p, 0, 1e6, &co.max_slowdown_pct))
                goto out;
            break;
        case OPT_ALPHA:
            if (contend_args_number(&p, 1e-12, 0.5, &co.alpha))
                goto out;
            break;
        case OPT_JSON: out.json = p.value; break;
        case OPT_MD: out.markdown = p.value; break;
        case OPT_HTML: out.html = p.value; break;
        case OPT_QUIET: quiet = true; break;
        case CONTEND_ARG_POSITIONAL:
            if (a.scenario) {
                contend_usage_error(&p, "one scenario, got '%s' after '%s'", p.value, a.scenario);
                goto out;
            }
            a.scenario = p.value;
            break;
        }
    }
    if (!a.scenario) {
        contend_usage_error(&p, "which scenario?");
        goto out;
    }
    if (access(a.scenario, R_OK) != 0) {
        contend_err("ab: cannot read %s: %s", a.scenario, strerror(errno));
        goto out;
    }
    for (int s = 0; s < 2; s++) {
        if (access(a.bin[s], X_OK) != 0) {
            contend_err("ab: --%c %s is not an executable: %s", 'a' + s, a.bin[s], strerror(errno));
            goto out;
        }
    }
    if (!a.dir) {
        const char *tmp = getenv("TMPDIR");
        made_dir = contend_asprintf("%s/contend-ab.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(made_dir)) {
            contend_err("ab: cannot create %s: %s", made_dir, strerror(errno));
            code = CONTEND_EXIT_HARNESS;
            goto out;
        }
        a.dir = made_dir;
    } else if (contend_mkdir_p(a.dir, 0755) != 0) {
        contend_err("ab: cannot create %s", a.dir);
        code = CONTEND_EXIT_HARNESS;
        goto out;
    }

    for (unsigned long r = 1; r <= a.rounds; r++) {
        /* A B in odd rounds, B A in even ones. */
        for (int k = 0; k < 2; k++) {
            int side = (int)((r + 1) % 2) ^ k;
            char *json = contend_asprintf("%s/%c-%lu.json", a.dir, 'a' + side, r);
            if (!quiet)
                fprintf(stderr, "ab: round %lu/%lu: %c\n", r, a.rounds, 'A' + side);
            int rc = run_side(&a, side, r, json);
            free(json);
            if (rc != 0 && rc != 1 && rc != 3) {
                code = rc == CONTEND_EXIT_USAGE ? CONTEND_EXIT_USAGE : CONTEND_EXIT_HARNESS;
                goto out;
            }
        }
    }
    fa = side_files(a.dir, 'a', a.rounds);
    fb = side_files(a.dir, 'b', a.rounds);
    if (contend_compare_load(fa, &base) || contend_compare_load(fb, &new_run)) {
        code = CONTEND_EXIT_HARNESS;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "ab: %lu rounds in %s\n", a.rounds, a.dir);
    out.quiet = quiet;
    code = contend_compare_emit(base, new_run, "A", "B", &co, &out);
out:
    json_decref(base);
    json_decref(new_run);
    free(fa);
    free(fb);
    free(made_dir);
    for (int s = 0; s < 3; s++)
        free(a.sets[s]);
    return code;
}
