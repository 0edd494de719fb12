/*
 * runner.c - one run of one case: directories, workers, barrier, watchdog.
 *
 * Process hygiene is the point of this file.  Every worker is exec'd from a
 * fork into one process group per case, with PR_SET_PDEATHSIG so that it dies
 * if the runner dies, however it dies.  SIGINT, SIGTERM and SIGHUP make the
 * runner kill the whole group (from the signal handler: kill() is
 * async-signal-safe) and then reap every worker before it returns, so no
 * contend process outlives the command.
 *
 * Workers run in their own process group, not the terminal's, so a Ctrl-C
 * reaches only the runner, which decides what happens to them.  The group's
 * leader is an anchor process that only sleeps: workers die and are
 * restarted under faults, and a process group lives only as long as some
 * member does, so without an anchor a worker restarted after every other
 * one died (a power cut) would have no group to join.
 *
 * Extensions (faults) may restart a worker, kill them all and run the
 * target's recovery in a fresh worker while the case runs (runner.h); a
 * death an extension says it caused is not a crash.
 */
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "casefile.h"
#include "check.h"
#include "concurrency.h"
#include "control.h"
#include "extension.h"
#include "fatal.h"
#include "registry.h"
#include "history.h"
#include "probe.h"
#include "util.h"

extern char **environ;

static volatile sig_atomic_t interrupted;
static volatile pid_t current_pgid;
static char self_exe[PATH_MAX];

static void on_signal(int sig)
{
    interrupted = sig;
    if (current_pgid > 0)
        kill(-current_pgid, SIGKILL);
}

int contend_runner_init(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, 0};
    contend_catch_signals(on_signal, sigs);
    signal(SIGPIPE, SIG_IGN);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) {
        contend_err("cannot find my own executable: %s", strerror(errno));
        return -errno;
    }
    self_exe[n] = '\0';
    return 0;
}

struct wslot {
    pid_t pid;
    bool alive;
    bool planned; /* its last death was caused by an extension */
    int status;
};

struct runctx {
    const struct contend_case *c;
    const struct contend_run_opts *o;
    struct contend_rep *out;
    char case_dir[PATH_MAX];
    char store_dir[PATH_MAX];
    struct contend_control *ctl;
    struct wslot *w;           /* procs */
    struct contend_history *h; /* procs * threads, indexed by writer */
    uint32_t nwriters;
    pid_t pgid; /* the anchor's: every worker's group */
    pid_t anchor;
    uint64_t t_go;
    bool hung;
    bool finishing;             /* no more restarts */
    struct contend_envlist env; /* the workers' environment, kept for restarts */
    /* Extensions configured for this case, their state, and what they see. */
    const struct contend_extension *ext[16];
    void *ext_state[16];
    size_t next;
    pid_t *pids;
    struct contend_run_info ri;
};

/* Directory names from case names: keep them readable, never a path. */
static void safe_name(const char *name, char *out, size_t len)
{
    size_t i = 0;
    for (; name[i] && i + 1 < len && i < 64; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        out[i] = ok ? ch : '_';
    }
    out[i] = '\0';
    if (i == 0 || out[0] == '.')
        out[0] = '_';
}

static int make_dirs(struct runctx *r, uint32_t rep)
{
    char name[80], path[PATH_MAX];
    int rc;
    safe_name(r->c->name, name, sizeof name);
    if (r->c->repeat > 1)
        snprintf(r->case_dir, sizeof r->case_dir, "%s/%s.r%u", r->o->root_dir, name, rep);
    else
        snprintf(r->case_dir, sizeof r->case_dir, "%s/%s", r->o->root_dir, name);
    /* Two sections may sanitize to the same name: number them apart. */
    for (int n = 2; access(r->case_dir, F_OK) == 0; n++) {
        snprintf(path, sizeof path, "%s~%d", r->case_dir, n);
        if (access(path, F_OK) != 0) {
            snprintf(r->case_dir, sizeof r->case_dir, "%s", path);
            break;
        }
    }
    snprintf(r->store_dir, sizeof r->store_dir, "%s/store", r->case_dir);
    snprintf(path, sizeof path, "%s/history", r->case_dir);
    if ((rc = contend_mkdir_p(r->store_dir, 0755)) || (rc = contend_mkdir_p(path, 0755)))
        contend_rep_error(r->out, "cannot create %s: %s", r->case_dir, strerror(-rc));
    return rc;
}

static void parent_env(const struct runctx *r, struct contend_env *env)
{
    const struct contend_case *c = r->c;
    *env = (struct contend_env){
        .store_dir = r->store_dir,
        .variant = c->variant,
        .variant_index = c->variant_index,
        .workload = c->workload,
        .seed = r->out->seed,
        .procs = c->procs,
        .threads = c->threads,
        .worker = UINT32_MAX,
        .thread = UINT32_MAX,
        .keys = c->keys,
        .opt_names = c->topt_names,
        .opt_values = c->topt_values,
        .nopts = c->ntopts,
    };
}

static int prepare(struct runctx *r)
{
    const struct contend_case *c = r->c;
    char path[PATH_MAX];
    struct contend_env env;
    int rc;

    snprintf(path, sizeof path, "%s/case.json", r->case_dir);
    if ((rc = contend_casefile_write(path, c, r->out->seed)) != 0) {
        contend_rep_error(r->out, "cannot write %s: %s", path, strerror(-rc));
        return rc;
    }
    snprintf(path, sizeof path, "%s/control", r->case_dir);
    if ((rc = contend_control_create(path, &r->ctl)) != 0) {
        contend_rep_error(r->out, "cannot create %s: %s", path, strerror(-rc));
        return rc;
    }
    parent_env(r, &env);
    if (c->tg->setup && (rc = c->tg->setup(&env)) != 0) {
        char why[1024];
        if (!contend_fatal_take(why, sizeof why))
            snprintf(why, sizeof why, "%s", strerror(rc < 0 ? -rc : EIO));
        contend_rep_error(r->out, "target %s: setup failed: %s", c->tg->name, why);
        return rc;
    }
    r->nwriters = c->procs * c->threads;
    r->h = contend_calloc(r->nwriters, sizeof *r->h);
    uint64_t cap = c->duration_ns ? c->history_cap : c->ops;
    uint64_t need = (uint64_t)r->nwriters * contend_history_file_size(cap);
    for (uint32_t w = 0; w < c->procs; w++) {
        for (uint32_t t = 0; t < c->threads; t++) {
            uint32_t writer = w * c->threads + t;
            snprintf(path, sizeof path, "%s/history/w%u.t%u", r->case_dir, w, t);
            rc = contend_history_create(path, w, t, writer, cap);
            if (rc == 0)
                rc = contend_history_open(path, false, &r->h[writer]);
            if (rc == -ENOSPC || rc == -EDQUOT || rc == -EFBIG) {
                /* Before any worker starts: the run cannot be recorded. */
                contend_rep_error(r->out,
                                  "no space left for the history in %s/history: need %llu MiB "
                                  "(%s)%s",
                                  r->case_dir, (unsigned long long)((need + (1 << 20) - 1) >> 20),
                                  strerror(-rc),
                                  c->duration_ns ? "; a duration run reserves history_cap "
                                                   "records of 64 bytes per thread"
                                                 : "");
                return rc;
            }
            if (rc) {
                contend_rep_error(r->out, "cannot create history %s: %s", path, strerror(-rc));
                return rc;
            }
        }
    }
    return 0;
}

/* The environment a worker starts with: the runner's own, plus what the
 * active extensions add (libfaketime, the fault shim, ...). */
static void worker_environ(struct runctx *r, struct contend_envlist *env)
{
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char *name = strndup(*e, (size_t)(eq - *e));
        contend_envlist_set(env, name, eq + 1);
        free(name);
    }
    for (size_t i = 0; i < r->next; i++)
        if (r->ext[i]->environ)
            r->ext[i]->environ(r->ext_state[i], &r->ri, env);
}

/* The group leader: sleeps until the case is over, so that the group
 * outlives any worker.  Dies with the runner like the workers. */
static int start_group(struct runctx *r)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        contend_rep_error(r->out, "cannot fork: %s", strerror(errno));
        return -errno;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        prctl(PR_SET_NAME, "contend-group");
        if (getppid() != parent)
            _exit(CONTEND_EXIT_HARNESS);
        for (;;)
            pause();
    }
    /* Both sides call setpgid, so the group exists whichever runs first. */
    setpgid(pid, pid);
    r->anchor = r->pgid = pid;
    current_pgid = pid;
    return 0;
}

/* Fork and exec `contend __worker CASE_DIR w [mode]` in the case's group. */
static pid_t spawn(struct runctx *r, uint32_t w, const char *mode)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%u", w);
    char *argv[] = {self_exe, "__worker", r->case_dir, idx, (char *)mode, NULL};
    pid_t parent = getpid();

    pid_t pid = fork();
    if (pid < 0) {
        contend_rep_error(r->out, "cannot fork worker %u: %s", w, strerror(errno));
        return -errno;
    }
    if (pid == 0) {
        /* The child: join the case's group, die with the runner, exec.  Never
         * run in the runner's own group: a power cut stops a worker's group. */
        if (setpgid(0, r->pgid) < 0)
            _exit(CONTEND_EXIT_HARNESS);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(CONTEND_EXIT_HARNESS);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        execve(self_exe, argv, r->env.v);
        _exit(127);
    }
    /* EACCES: the child has exec'd, after joining the group itself. */
    setpgid(pid, r->pgid);
    return pid;
}

static int spawn_worker(struct runctx *r, uint32_t w)
{
    pid_t pid = spawn(r, w, NULL);
    if (pid < 0)
        return (int)pid;
    r->w[w].pid = pid;
    r->w[w].alive = true;
    r->w[w].planned = false;
    r->pids[w] = pid;
    return 0;
}

static int spawn_all(struct runctx *r)
{
    int rc = start_group(r);
    worker_environ(r, &r->env);
    for (uint32_t w = 0; w < r->c->procs && rc == 0; w++)
        rc = spawn_worker(r, w);
    return rc;
}

/* ---- extensions --------------------------------------------------------- */

static int ext_prepare(struct runctx *r)
{
    const struct contend_extension *const *all;
    size_t n = contend_all_extensions(&all);
    r->ri = (struct contend_run_info){
        .c = r->c,
        .case_dir = r->case_dir,
        .store_dir = r->store_dir,
        .seed = r->out->seed,
        .h = r->h,
        .nwriters = r->nwriters,
        .pids = r->pids,
        .out = r->out,
    };
    for (size_t i = 0; i < n && r->next < sizeof r->ext / sizeof r->ext[0]; i++) {
        if (!all[i]->active || !all[i]->active(r->c))
            continue;
        r->ext[r->next] = all[i];
        int rc = all[i]->prepare ? all[i]->prepare(&r->ri, &r->ext_state[r->next]) : 0;
        r->next++;
        if (rc) {
            if (!r->out->error)
                contend_rep_error(r->out, "%s: cannot prepare: %s", all[i]->name,
                                  strerror(rc < 0 ? -rc : EIO));
            return rc;
        }
    }
    return 0;
}

static void ext_tick(struct runctx *r, uint64_t now)
{
    for (size_t i = 0; i < r->next; i++)
        if (r->ext[i]->tick)
            r->ext[i]->tick(r->ext_state[i], &r->ri, now);
}

static void ext_finish(struct runctx *r)
{
    for (size_t i = r->next; i-- > 0;)
        if (r->ext[i]->finish)
            r->ext[i]->finish(r->ext_state[i], &r->ri);
    r->next = 0;
}

static void kill_all(struct runctx *r)
{
    if (r->pgid > 0)
        kill(-r->pgid, SIGKILL);
    for (uint32_t w = 0; w < r->c->procs; w++)
        if (r->w[w].alive)
            kill(r->w[w].pid, SIGKILL);
}

/* A worker is gone: ask the extensions whether they caused it.  One of
 * them may restart it (contend_run_restart) before this returns. */
static void worker_gone(struct runctx *r, uint32_t w)
{
    r->pids[w] = 0;
    for (size_t i = 0; i < r->next; i++)
        if (r->ext[i]->exited && r->ext[i]->exited(r->ext_state[i], &r->ri, w, r->w[w].status) &&
            !r->w[w].alive)
            r->w[w].planned = true;
    /* A worker the extension restarted is a new process, alive, with
     * planned = false: its own death, later, is reported like any other. */
}

/* Reap what has exited; returns how many workers are still alive. */
static uint32_t reap(struct runctx *r, bool block)
{
    uint32_t alive = 0;
    for (uint32_t w = 0; w < r->c->procs; w++) {
        if (!r->w[w].alive)
            continue;
        int st;
        pid_t p;
        do {
            p = waitpid(r->w[w].pid, &st, block ? 0 : WNOHANG);
        } while (p < 0 && errno == EINTR);
        if (p == r->w[w].pid || (p < 0 && errno == ECHILD)) {
            r->w[w].alive = false;
            r->w[w].status = p < 0 ? 0 : st;
            worker_gone(r, w);
        }
        if (r->w[w].alive)
            alive++;
    }
    return alive;
}

/* ---- what extensions may do while the case runs (runner.h) -------------- */

static struct runctx *ctx_of(struct contend_run_info *ri)
{
    return (struct runctx *)((char *)ri - offsetof(struct runctx, ri));
}

int contend_run_restart(struct contend_run_info *ri, uint32_t worker)
{
    struct runctx *r = ctx_of(ri);
    if (r->finishing || interrupted || worker >= r->c->procs || r->w[worker].alive)
        return -ECANCELED;
    return spawn_worker(r, worker);
}

/*
 * Kill every member of the workers' process group but its anchor.  The
 * workers' own children die with them (PR_SET_PDEATHSIG), but not what those
 * children forked: an interpreter behind a wrapper (pyenv's python3 is a
 * shell script that runs subshells) leaves the wrapper's subshells behind,
 * and after a power cut's SIGSTOP they would stay stopped, orphaned, until
 * the case ends.  No other process can be in this group: the anchor holds
 * the group id for the whole case.
 */
static void kill_strays(const struct runctx *r)
{
    DIR *d = r->pgid > 0 ? opendir("/proc") : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char buf[512];
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0 || pid == r->anchor || contend_read_proc(pid, "stat", buf, sizeof buf) <= 0)
            continue;
        /* "pid (comm) state ppid pgrp ...": comm may hold anything but
         * ends at the last ')'. */
        const char *p = strrchr(buf, ')');
        long ppid, pgrp;
        char state;
        if (p && sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == r->pgid)
            kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
}

void contend_run_stop_all(struct contend_run_info *ri, bool *was_alive)
{
    struct runctx *r = ctx_of(ri);
    for (uint32_t w = 0; w < r->c->procs; w++) {
        was_alive[w] = r->w[w].alive;
        if (r->w[w].alive)
            kill(r->w[w].pid, SIGKILL);
    }
    kill_strays(r);
    reap(r, true);
}

int contend_run_recover(struct contend_run_info *ri, int *code)
{
    struct runctx *r = ctx_of(ri);
    if (r->finishing || interrupted)
        return -ECANCELED;
    pid_t pid = spawn(r, 0, "--recover");
    if (pid < 0)
        return (int)pid;
    uint64_t start = contend_now_ns();
    int st = 0;
    for (;;) {
        pid_t p = waitpid(pid, &st, WNOHANG);
        if (p == pid)
            break;
        if (p < 0 && errno != EINTR)
            return -errno;
        if (interrupted || contend_now_ns() - start > r->c->timeout_ns) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            return interrupted ? -ECANCELED : -ETIMEDOUT;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&ts, NULL);
    }
    *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

void contend_run_parent_env(struct contend_run_info *ri, struct contend_env *env)
{
    parent_env(ctx_of(ri), env);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static uint32_t thread_state(const struct runctx *r, uint32_t writer)
{
    return __atomic_load_n(&r->h[writer].hdr->state, __ATOMIC_ACQUIRE);
}

/* The most one pass of a waiting loop adds to the watchdog's clock (see
 * monitor()). */
#define WATCH_STEP_MAX_NS (100 * CONTEND_NS_PER_SEC / 1000)

/* Advance a watchdog clock by the wall time since *prev, capped per pass. */
static void watch_step(uint64_t *watch, uint64_t *prev)
{
    uint64_t wall = contend_now_ns();
    uint64_t step = wall > *prev ? wall - *prev : 0;
    *prev = wall;
    *watch += step < WATCH_STEP_MAX_NS ? step : WATCH_STEP_MAX_NS;
}

/* Wait until every thread has opened the target.  Returns 0, or -1 when the
 * case cannot start (the reason is in out->error_msg).  The wait is measured
 * from the last thread that opened, on the watchdog's clock: workers that
 * start one after another on a loaded machine are progress, not a hang.  It
 * is the case's `timeout`, but never under OPEN_WAIT_MIN_NS: `timeout` is
 * about ops (a case may set 500 ms to catch a hang quickly), and starting a
 * worker process on a loaded machine can take longer than that. */
#define OPEN_WAIT_MIN_NS (30 * CONTEND_NS_PER_SEC)

static int barrier(struct runctx *r)
{
    const struct contend_case *c = r->c;
    const uint64_t limit = c->timeout_ns > OPEN_WAIT_MIN_NS ? c->timeout_ns : OPEN_WAIT_MIN_NS;
    uint64_t prev = contend_now_ns(), watch = 0, since = 0;
    uint32_t last_open = 0;
    for (;;) {
        uint32_t open = 0;
        for (uint32_t i = 0; i < r->nwriters; i++) {
            uint32_t st = thread_state(r, i);
            if (st == CONTEND_THREAD_ERROR) {
                contend_rep_error(r->out, "worker %u thread %u: %s", r->h[i].hdr->worker,
                                  r->h[i].hdr->thread, r->h[i].hdr->error);
                return -1;
            }
            open += (st == CONTEND_THREAD_OPEN);
        }
        if (open == r->nwriters)
            return 0;
        if (interrupted)
            return -1;
        if (reap(r, false) < c->procs) {
            for (uint32_t w = 0; w < c->procs; w++) {
                if (r->w[w].alive)
                    continue;
                int st = r->w[w].status;
                /* The thread's own words are the best reason, when it left some. */
                for (uint32_t t = 0; t < c->threads; t++) {
                    const struct contend_history *h = &r->h[w * c->threads + t];
                    if (h->hdr->error[0]) {
                        contend_rep_error(r->out, "worker %u thread %u: %s", w, t, h->hdr->error);
                        return -1;
                    }
                }
                if (WIFSIGNALED(st))
                    contend_rep_error(r->out, "worker %u died of signal %d (%s) before the start",
                                      w, WTERMSIG(st), strsignal(WTERMSIG(st)));
                else
                    contend_rep_error(r->out, "worker %u exited with status %d before the start", w,
                                      WEXITSTATUS(st));
                return -1;
            }
        }
        watch_step(&watch, &prev);
        if (open > last_open) {
            last_open = open;
            since = watch;
        }
        if (watch - since > limit) {
            contend_rep_error(r->out,
                              "workers did not open the target within the timeout "
                              "(%.1f s; %u of %u threads open)",
                              (double)limit / 1e9, open, r->nwriters);
            return -1;
        }
        sleep_ms(1);
    }
}

static void start_clock(struct runctx *r)
{
    r->t_go = contend_now_ns();
    r->ctl->t_go = r->t_go;
    r->out->t0 = r->t_go;
    r->ri.t_go = r->t_go;
    __atomic_store_n(&r->ctl->go, 1, __ATOMIC_RELEASE);
    contend_futex_wake_all(&r->ctl->go);
}

/* The last op a writer began, for hang and crash messages. */
static bool last_op(const struct runctx *r, uint32_t writer, struct contend_witness *out)
{
    const struct contend_history *h = &r->h[writer];
    uint64_t n = contend_history_count(h);
    if (n == 0)
        return false;
    struct contend_writer_hist wh = {
        .worker = h->hdr->worker,
        .thread = h->hdr->thread,
        .writer = writer,
        .rec = h->rec,
        .n = n,
    };
    *out = contend_witness_of(&wh, n - 1);
    return true;
}

static void report_hang(struct runctx *r, uint32_t writer, uint64_t idle_ns)
{
    struct contend_witness w;
    char op[256];
    const struct contend_history_header *hd = r->h[writer].hdr;
    uint32_t st = thread_state(r, writer);
    /* A restarted worker stuck before its first op: say in which phase. */
    const char *phase = st == CONTEND_THREAD_RECOVERING
                            ? " while recovering the store after a restart"
                        : st == CONTEND_THREAD_CREATED && hd->starts > 1
                            ? " while opening the target after a restart"
                            : "";
    if (last_op(r, writer, &w)) {
        contend_witness_str(&w, r->t_go, op, sizeof op);
        char *msg = contend_asprintf("worker %u thread %u made no progress for %.1f s%s; its last "
                                     "op: %s",
                                     hd->worker, hd->thread, (double)idle_ns / 1e9, phase, op);
        contend_rep_add_violation(r->out, "hang", 1, &w, 1, msg);
        free(msg);
    } else {
        char *msg = contend_asprintf("worker %u thread %u made no progress for %.1f s%s and "
                                     "never began an op",
                                     hd->worker, hd->thread, (double)idle_ns / 1e9, phase);
        contend_rep_add_violation(r->out, "hang", 1, NULL, 0, msg);
        free(msg);
    }
}

static void report_exit(struct runctx *r, uint32_t w)
{
    const struct contend_case *c = r->c;
    int st = r->w[w].status;
    if (r->w[w].planned)
        return;
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        struct contend_witness wit[CONTEND_MAX_WITNESS];
        unsigned nw = 0;
        char op[256] = "";
        for (uint32_t t = 0; t < c->threads && nw < CONTEND_MAX_WITNESS; t++) {
            struct contend_witness x;
            uint32_t writer = w * c->threads + t;
            if (last_op(r, writer, &x) && x.rec.status == CONTEND_STATUS_INVOKED) {
                if (nw == 0)
                    contend_witness_str(&x, r->t_go, op, sizeof op);
                wit[nw++] = x;
            }
        }
        char *msg = nw ? contend_asprintf("worker %u died of signal %d (%s) during %s", w, sig,
                                          strsignal(sig), op)
                       : contend_asprintf("worker %u died of signal %d (%s) between ops", w, sig,
                                          strsignal(sig));
        contend_rep_add_violation(r->out, "crash", 1, wit, nw, msg);
        free(msg);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
        const char *why = NULL;
        for (uint32_t t = 0; t < c->threads && !why; t++)
            if (r->h[w * c->threads + t].hdr->error[0])
                why = r->h[w * c->threads + t].hdr->error;
        if (WEXITSTATUS(st) == CONTEND_EXIT_VIOLATION) {
            /* Started again after a fault, it could not recover or open the
             * store (worker.c): the store's failure, not the harness's. */
            char *msg = contend_asprintf("worker %u could not start again after a fault: %s", w,
                                         why ? why : "its store cannot be opened");
            contend_rep_add_violation(r->out, "corrupt-store", 1, NULL, 0, msg);
            free(msg);
            return;
        }
        contend_rep_error(r->out, "worker %u exited with status %d%s%s", w, WEXITSTATUS(st),
                          why ? ": " : "", why ? why : "");
    }
}

/*
 * Watch the workers until they are all gone.
 *
 * The hang watchdog does not run on wall time.  Its clock advances by the
 * time between two passes of this loop, at most WATCH_STEP_MAX_NS a pass
 * (a pass sleeps 2-5 ms): when the machine is so loaded that the runner
 * itself waits seconds for a CPU, or the host is suspended, the workers were
 * as starved as the runner and those seconds are not their lack of
 * progress.  A real hang still ends the case: a thread stuck for good makes
 * no progress for `timeout` of this clock on any machine.
 */
static void monitor(struct runctx *r)
{
    const struct contend_case *c = r->c;
    uint64_t *last_done = contend_calloc(r->nwriters, sizeof *last_done);
    uint64_t *last_change = contend_calloc(r->nwriters, sizeof *last_change);
    uint32_t *last_state = contend_calloc(r->nwriters, sizeof *last_state);
    uint64_t watch = 0, prev = r->t_go;

    while (reap(r, false) > 0) {
        watch_step(&watch, &prev);
        uint64_t wall = prev, now = watch;
        if (interrupted)
            break;
        if (c->duration_ns && wall - r->t_go >= c->duration_ns)
            __atomic_store_n(&r->ctl->stop, 1, __ATOMIC_RELAXED);
        ext_tick(r, wall);
        if (r->o->progress)
            r->o->progress(r->o->progress_ctx, &r->ri, wall);
        for (uint32_t i = 0; i < r->nwriters && !r->hung; i++) {
            uint64_t done = __atomic_load_n(&r->h[i].hdr->done, __ATOMIC_ACQUIRE);
            uint32_t st = thread_state(r, i);
            /* A new phase is progress: a restarted worker's recovery, its
             * open, its first op (worker.c). */
            if (done != last_done[i] || st != last_state[i] || st == CONTEND_THREAD_DONE ||
                !r->w[r->h[i].hdr->worker].alive) {
                last_done[i] = done;
                last_state[i] = st;
                last_change[i] = now;
            } else if (now - last_change[i] > c->timeout_ns) {
                /* Name every stuck thread, then end the case. */
                for (uint32_t j = i; j < r->nwriters; j++)
                    if (now - last_change[j] > c->timeout_ns &&
                        thread_state(r, j) != CONTEND_THREAD_DONE &&
                        __atomic_load_n(&r->h[j].hdr->done, __ATOMIC_ACQUIRE) == last_done[j])
                        report_hang(r, j, now - last_change[j]);
                r->hung = true;
                kill_all(r);
            }
        }
        sleep_ms(c->duration_ns || r->hung ? 5 : 2);
    }
    free(last_done);
    free(last_change);
    free(last_state);
}

static void finish_processes(struct runctx *r)
{
    r->finishing = true;
    kill_all(r);
    reap(r, true);
    if (r->anchor > 0) {
        while (waitpid(r->anchor, NULL, 0) < 0 && errno == EINTR) {
        }
        r->anchor = 0;
    }
    current_pgid = 0;
    for (uint32_t w = 0; w < r->c->procs; w++)
        r->pids[w] = 0;
    if (r->hung || interrupted)
        return;
    for (uint32_t w = 0; w < r->c->procs; w++)
        report_exit(r, w);
}

static void release(struct runctx *r)
{
    for (uint32_t i = 0; r->h && i < r->nwriters; i++)
        contend_history_close(&r->h[i]);
    free(r->h);
    free(r->w);
    free(r->pids);
    for (size_t i = 0; i < r->env.n; i++)
        free(r->env.v[i]);
    free(r->env.v);
    contend_control_close(r->ctl);
}

/* The share of ops that overlapped another on the same key (concurrency.c). */
static void measure_concurrency(struct runctx *r)
{
    struct contend_writer_hist *wh = contend_calloc(r->nwriters, sizeof *wh);
    for (uint32_t i = 0; i < r->nwriters; i++)
        wh[i] = (struct contend_writer_hist){
            .worker = r->h[i].hdr->worker,
            .thread = r->h[i].hdr->thread,
            .writer = i,
            .rec = r->h[i].rec,
            .n = contend_history_count(&r->h[i]),
        };
    contend_concurrency_measure(r->c, wh, r->nwriters, r->out);
    free(wh);
}

int contend_run_case(const struct contend_case *c, uint32_t rep, const struct contend_run_opts *o,
                     struct contend_rep *out)
{
    struct runctx r;
    memset(&r, 0, sizeof r);
    memset(out, 0, sizeof *out);
    r.c = c;
    r.o = o;
    r.out = out;
    out->seed = c->seed + rep;
    r.w = contend_calloc(c->procs, sizeof *r.w);
    r.pids = contend_calloc(c->procs, sizeof *r.pids);

    bool started = false, probed = false;
    struct contend_probe before, after;
    if (make_dirs(&r, rep) == 0 && prepare(&r) == 0) {
        /* Before the workers exist, so the probe measures the machine, not us. */
        contend_probe_measure(r.case_dir, &before);
        probed = true;
        if (ext_prepare(&r) == 0 && spawn_all(&r) == 0 && barrier(&r) == 0 && !interrupted) {
            start_clock(&r);
            started = true;
            monitor(&r);
        }
    }
    finish_processes(&r);
    ext_finish(&r);
    if (probed && started && !interrupted) {
        contend_probe_measure(r.case_dir, &after);
        out->probed = true;
        out->probe_cpu[0] = before.cpu_mops;
        out->probe_cpu[1] = after.cpu_mops;
        out->probe_fsync[0] = before.fsync_per_s;
        out->probe_fsync[1] = after.fsync_per_s;
    }

    if (interrupted) {
        out->case_dir = contend_strdup(r.case_dir);
        release(&r);
        return CONTEND_EXIT_INTERRUPTED;
    }
    if (started && !out->error) {
        struct contend_env env;
        parent_env(&r, &env);
        contend_check_run(c, &env, r.h, r.nwriters, r.t_go, out);
    }
    contend_judge(c, out);
    if (started && !out->error) {
        measure_concurrency(&r);
        contend_judge_inconclusive(c, out);
    }
    release(&r);

    if (contend_rep_exit_code(out) == CONTEND_EXIT_OK && !o->keep)
        contend_rm_rf(r.case_dir);
    else
        out->case_dir = contend_strdup(r.case_dir);
    return 0;
}
