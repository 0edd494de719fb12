/*
 * exec.c - a target that is someone else's program, over a line protocol.
 *
 * The user's program (any language) is started with `/bin/sh -c "$cmd"`, once
 * per worker thread, with stdin and stdout connected to the harness.  Each
 * request is one line, each reply one line:
 *
 *   harness -> program              program -> harness
 *   setup                           ok                       (once, in the runner)
 *   open                            ok | fail REASON         (per thread, at start)
 *   incr KEY KEY2 ARG ID            ok VALUE | fail REASON | info REASON
 *   read KEY KEY2 ARG ID            ok VALUE | ...
 *   transfer FROM TO AMOUNT ID      ok 1 (moved) | ok 0 (declined) | ...
 *   read-all 0 0 0 ID               ok TOTAL MIN_BALANCE | ...
 *   claim ITEM 0 0 ID               ok 1 (won) | ok 0 (taken) | ...
 *   state                           KEY VALUE ... lines, then `end`
 *
 * Every op kind goes by its name (contend_op_kind_name); VALUE and the
 * optional second number are the op's value and value2 as target.h defines
 * them for that kind.  The state lines are what read_state() would report:
 * counters (key, value), balances (account, balance), claims (item, the ID
 * of the claim the store recorded as owner).  The ledger and the cache are
 * not offered: their ops carry a payload, which this protocol does not.
 *
 * While it works on a request the program may write `point NAME`; the harness
 * then runs the perturbation point (a seeded sleep when `perturb` is on) and
 * answers `go`.  A program that puts a point between its read and its write
 * gets the same race amplification as a built-in target.
 *
 * The environment tells the program where it is: CONTEND_STORE_DIR,
 * CONTEND_WORKER, CONTEND_THREAD, CONTEND_WORKLOAD, CONTEND_SEED, and
 * CONTEND_KEYS (counters, accounts or items; a bank's `setup` gives each of
 * its accounts CONTEND_BANK_INITIAL = 100).
 *
 * What a reply means is the target ABI's rule: `ok` only when the op took
 * effect.  If the program dies or writes garbage in the middle of an op, the
 * op is indeterminate (it may have written before dying), and every later op
 * of that thread fails: the harness cannot know more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "history.h"
#include "target.h"

#define LINE_MAX_LEN 4096

static const struct contend_variant exec_variants[] = {
    {"default", "whatever the program does (say `expect` for a broken one)", 0, NULL},
    {NULL, NULL, 0, NULL},
};

static const char *const exec_workloads[] = {"counter", "bank", "claim", NULL};

static const struct contend_option exec_options[] = {
    {"cmd", NULL, NULL, "the program, run with /bin/sh -c (required)"},
    {NULL, NULL, NULL, NULL},
};

struct proc {
    pid_t pid;
    FILE *in;  /* to the program */
    FILE *out; /* from the program */
    bool dead;
    char line[LINE_MAX_LEN];
};

extern char **environ;

/* The CONTEND_ variables the program gets (build_env). */
#define NOWN 6

/* The program's environment: ours plus where it is.  Built before fork(),
 * because after fork() in a threaded worker only async-signal-safe calls are
 * allowed, and setenv() allocates. */
static char **build_env(const struct contend_env *env)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **v = calloc(n + NOWN + 1, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "CONTEND_", 8) != 0)
            v[k++] = environ[i];
    char *own[NOWN] = {NULL};
    if (asprintf(&own[0], "CONTEND_STORE_DIR=%s", env->store_dir) < 0 ||
        asprintf(&own[1], "CONTEND_WORKLOAD=%s", env->workload) < 0 ||
        asprintf(&own[2], "CONTEND_WORKER=%u", env->worker) < 0 ||
        asprintf(&own[3], "CONTEND_THREAD=%u", env->thread) < 0 ||
        asprintf(&own[4], "CONTEND_SEED=%" PRIu64, env->seed) < 0 ||
        asprintf(&own[5], "CONTEND_KEYS=%" PRIu64, env->keys) < 0) {
        for (int i = 0; i < NOWN; i++)
            free(own[i]);
        free(v);
        return NULL;
    }
    for (int i = 0; i < NOWN; i++)
        v[k++] = own[i];
    v[k] = NULL;
    return v;
}

static void free_env(char **v)
{
    /* Only our own NOWN entries were allocated: the inherited CONTEND_
     * variables were left out, so every CONTEND_ entry is ours. */
    for (size_t i = 0; v && v[i]; i++)
        if (strncmp(v[i], "CONTEND_", 8) == 0)
            free(v[i]);
    free(v);
}

static int proc_start(const struct contend_env *env, struct proc *p)
{
    const char *cmd = contend_opt(env, "cmd", NULL);
    int to[2], from[2];
    if (!cmd || !*cmd)
        return -EINVAL;
    char **envp = build_env(env);
    if (!envp)
        return -ENOMEM;
    if (pipe2(to, O_CLOEXEC) < 0) {
        free_env(envp);
        return -errno;
    }
    if (pipe2(from, O_CLOEXEC) < 0) {
        int e = -errno;
        close(to[0]);
        close(to[1]);
        free_env(envp);
        return e;
    }
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    p->pid = fork();
    if (p->pid == 0) {
        /* dup2() clears FD_CLOEXEC on the copies, so only these survive exec. */
        dup2(to[0], 0);
        dup2(from[1], 1);
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    int e = p->pid < 0 ? -errno : 0;
    free_env(envp);
    close(to[0]);
    close(from[1]);
    if (e) {
        close(to[1]);
        close(from[0]);
        return e;
    }
    p->in = fdopen(to[1], "w");
    p->out = fdopen(from[0], "r");
    if (!p->in || !p->out)
        return -ENOMEM;
    return 0;
}

static void proc_stop(struct proc *p)
{
    if (p->in)
        fclose(p->in); /* EOF tells the program to exit */
    if (p->out)
        fclose(p->out);
    if (p->pid > 0) {
        int st;
        while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
}

/* Send one request line. */
static int send_line(struct proc *p, const char *line)
{
    if (p->dead)
        return -ENOTCONN;
    if (fputs(line, p->in) < 0 || fputc('\n', p->in) < 0 || fflush(p->in) != 0) {
        p->dead = true;
        return -EPIPE;
    }
    return 0;
}

/* Read the reply, serving `point NAME` requests on the way.  Returns the
 * reply line (without newline) or NULL when the program is gone. */
static const char *read_reply(struct proc *p)
{
    for (;;) {
        if (!fgets(p->line, sizeof p->line, p->out)) {
            p->dead = true;
            return NULL;
        }
        p->line[strcspn(p->line, "\r\n")] = '\0';
        if (strncmp(p->line, "point", 5) != 0 || (p->line[5] != ' ' && p->line[5] != '\0'))
            return p->line;
        contend_point(p->line[5] ? p->line + 6 : "exec");
        if (send_line(p, "go") != 0)
            return NULL;
    }
}

/* "ok 42" -> CONTEND_OK with value = 42; "ok 500 -3": value2 = -3 too.
 * setup and open pass no op: only the status matters. */
static int parse_reply(const char *reply, struct contend_op *op, int32_t *err)
{
    if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\0' || reply[2] == ' ')) {
        char *end = (char *)reply + 2;
        int64_t v = *end ? strtoll(end, &end, 10) : 0;
        int64_t v2 = *end ? strtoll(end, NULL, 10) : 0;
        if (op) {
            op->value = v;
            op->value2 = (uint64_t)v2;
        }
        return CONTEND_OK;
    }
    if (strncmp(reply, "fail", 4) == 0) {
        *err = EIO;
        return CONTEND_FAIL;
    }
    *err = EPROTO; /* info, or anything we do not understand */
    return CONTEND_INFO;
}

/* One request and its reply; a dead or confused program is indeterminate. */
static int request(struct proc *p, const char *line, struct contend_op *op, int32_t *err)
{
    if (p->dead) {
        *err = ENOTCONN;
        return CONTEND_FAIL;
    }
    if (send_line(p, line) != 0) {
        *err = EPIPE;
        return CONTEND_INFO;
    }
    const char *reply = read_reply(p);
    if (!reply) {
        *err = EPIPE;
        return CONTEND_INFO;
    }
    return parse_reply(reply, op, err);
}

static int exec_setup(const struct contend_env *env)
{
    struct proc p = {0};
    int32_t err = 0;
    int rc = proc_start(env, &p);
    if (rc == 0 && request(&p, "setup", NULL, &err) != CONTEND_OK)
        rc = -(err ? err : EIO);
    proc_stop(&p);
    return rc;
}

static int exec_open(const struct contend_env *env, void **handle)
{
    /* A program that dies must show up as EPIPE on our write, not kill the
     * worker with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    struct proc *p = calloc(1, sizeof *p);
    int32_t err = 0;
    if (!p)
        return -ENOMEM;
    int rc = proc_start(env, p);
    if (rc == 0 && request(p, "open", NULL, &err) != CONTEND_OK)
        rc = -(err ? err : EIO);
    if (rc) {
        proc_stop(p);
        free(p);
        return rc;
    }
    *handle = p;
    return 0;
}

static int exec_apply(void *handle, struct contend_op *op)
{
    struct proc *p = handle;
    char line[160];
    snprintf(line, sizeof line, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu64,
             contend_op_kind_name(op->kind), op->key, op->key2, op->arg, op->id);
    return request(p, line, op, &op->err);
}

static void exec_close(void *handle)
{
    struct proc *p = handle;
    proc_stop(p);
    free(p);
}

static int exec_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    struct proc p = {0};
    int rc = proc_start(env, &p);
    if (rc == 0)
        rc = send_line(&p, "state");
    while (rc == 0) {
        const char *line = read_reply(&p);
        if (!line) {
            rc = -EPIPE;
            break;
        }
        if (strcmp(line, "end") == 0)
            break;
        unsigned long long k;
        long long v;
        if (sscanf(line, "%llu %lld", &k, &v) != 2) {
            rc = -EPROTO;
            break;
        }
        sink->value(sink->ctx, k, v);
    }
    proc_stop(&p);
    return rc;
}

const struct contend_target contend_target_exec = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "exec",
    .help = "your own program over a line protocol (see targets/exec.c, examples/exec/)",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_OUT_OF_PROCESS,
    .variants = exec_variants,
    .workloads = exec_workloads,
    .options = exec_options,
    .setup = exec_setup,
    .open = exec_open,
    .apply = exec_apply,
    .close = exec_close,
    .read_state = exec_read_state,
};
CONTEND_TARGET_REGISTER(contend_target_exec)
