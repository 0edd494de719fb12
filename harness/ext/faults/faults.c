/*
 * faults.c - the faults extension: kill -9 and restart, pause, I/O errors
 * and power cuts, from scenario keys (`contend list` shows their syntax).
 *
 * The parts:
 *   inject.c    the worker's side: at seeded op indices it kills itself,
 *               stops itself, or freezes every worker and asks for a power
 *               cut, at a seeded place in the op;
 *   shim.c      an LD_PRELOAD library in every worker: fails chosen calls on
 *               the store (io), keeps the undo log of what was not fsynced
 *               (powercut), and fires kills and cuts inside a write;
 *   powercut.c  the rollback of the store to its durable state;
 *   this file   the runner's side: the control block they share, the
 *               workers' environment, restarts, the end of pauses, and the
 *               power cut itself: kill every worker, check the state as the
 *               page cache held it, roll back, run the target's recovery in
 *               a fresh worker, check again, restart.
 *
 * The rule a power cut enforces: whatever the checker found wrong after the
 * cut and recovery, and not before it, the cut caused.  For a variant that
 * promises durability (CONTEND_VARIANT_DURABLE, or the target's durable()
 * for the case's options) that is `lost-durable`: an op acknowledged as
 * durable did not survive.  A corrupt store after recovery is
 * `corrupt-store` whatever the variant promises.  A variant that
 * promises nothing may lose acknowledged ops; the final check still reports
 * them (lost-update), and its scenario says it expects that.
 *
 * A death the plan caused (the worker marked it in the control block before
 * it SIGKILLed itself) is not a crash: the worker is restarted, runs the
 * target's recover() and continues its ops.
 */
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "extension.h"
#include "registry.h"
#include "runner.h"
#include "util.h"
#include "ctl.h"
#include "inject.h"
#include "iorule.h"
#include "powercut.h"
#include "undolog.h"

#define SHIM_NAME "contend-faultshim.so"

static const struct contend_option fault_keys[] = {
    {"kill", "0", NULL,
     "SIGKILL a seeded-random worker about every N ops (all workers together), restart it, "
     "it recovers and carries on; 0 = off"},
    {"pause", "0", NULL,
     "SIGSTOP a worker about every N ops, inside its critical section when it reaches a "
     "perturbation point, for `pause_for`, then SIGCONT; 0 = off"},
    {"pause_for", "20ms", NULL, "how long a paused worker stays stopped"},
    {"io", "", NULL,
     "fail store calls: CALL[+CALL]:ERROR@WHEN[, ...]; CALL write|pwrite|fsync|fdatasync|"
     "rename|open|ftruncate|unlink; ERROR EIO|ENOSPC|EDQUOT|EFBIG|EROFS|short; WHEN N (the "
     "N-th call of each writer), N+ (from the N-th on) or P% (seeded); e.g. fsync:EIO@3"},
    {"powercut", "0", NULL,
     "cut the power about every N ops: kill every worker, undo what was not fsynced, recover "
     "in a fresh worker, check, restart; 0 = off"},
    {"powercut_policy", "drop", "drop|prefix|torn",
     "what a cut loses: every non-durable change, all but a seeded prefix of them, or writes "
     "torn at `powercut_sector` boundaries"},
    {"powercut_sector", "512", "512|4096", "sector size for powercut_policy = torn"},
    {"fault_at", "any", "any|before|point|write|after",
     "where in an op kills and power cuts land: before the target is called, at its first "
     "perturbation point, inside a store-changing call, after it returned; any = seeded"},
    {NULL, NULL, NULL, NULL},
};

struct event {
    uint64_t t, dur;
    char *kind, *detail;
};

struct fstate {
    const struct contend_case *c;
    char dir[PATH_MAX], ctl_path[PATH_MAX];
    struct contend_fault_ctl *ctl;
    size_t ctl_len;
    char *shim;
    uint64_t pause_ns;
    int policy;
    unsigned sector;
    bool track, cutting, corrupt_reported;
    bool *was_alive;
    uint32_t kills, restarts, pauses, cuts, io_faults;
    uint64_t undone, undone_bytes, undone_names, lost_ops;
    struct event *ev;
    size_t nev;
};

/* ---- keys ----------------------------------------------------------------- */

static int faults_validate(const char *key, const char *value, char **why)
{
    uint64_t v;
    if (strcmp(key, "kill") == 0 || strcmp(key, "pause") == 0 || strcmp(key, "powercut") == 0) {
        if (contend_parse_u64(value, &v) != 0) {
            *why = contend_strdup("expected a whole number of ops (0 = off)");
            return -EINVAL;
        }
    } else if (strcmp(key, "pause_for") == 0) {
        if (contend_parse_duration_ns(value, &v) != 0 || v == 0) {
            *why = contend_strdup("expected a positive duration such as 20ms");
            return -EINVAL;
        }
    } else if (strcmp(key, "io") == 0) {
        struct contend_io_rule r[CONTEND_FAULTS_MAX_RULES];
        size_t n;
        char buf[256];
        if (strlen(value) >= CONTEND_FAULTS_IO_TEXT) {
            *why = contend_strdup("too long");
            return -EINVAL;
        }
        if (contend_io_rules_parse(value, r, CONTEND_FAULTS_MAX_RULES, &n, buf, sizeof buf) != 0) {
            *why = contend_strdup(buf);
            return -EINVAL;
        }
    }
    return 0;
}

static uint64_t count_of(const struct contend_case *c, const char *key)
{
    const char *v = contend_case_opt(c, key);
    uint64_t n = 0;
    return v && contend_parse_u64(v, &n) == 0 ? n : 0;
}

static bool faults_active(const struct contend_case *c)
{
    const char *io = contend_case_opt(c, "io");
    return count_of(c, "kill") || count_of(c, "pause") || count_of(c, "powercut") ||
           (io && io[strspn(io, " \t,")]);
}

/* ---- the shim and the environment ------------------------------------------ */

static char *readable(char *path)
{
    if (access(path, R_OK) == 0)
        return path;
    free(path);
    return NULL;
}

char *contend_faults_shim_path(void)
{
    const char *env = getenv("CONTEND_FAULT_SHIM");
    char exe[PATH_MAX];
    if (env && *env)
        return readable(contend_strdup(env));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    char *p = readable(contend_asprintf("%s/%s", exe, SHIM_NAME));
    if (!p)
        p = readable(contend_asprintf("%s/../lib/contend/%s", exe, SHIM_NAME));
    return p;
}

/* The sanitizer runtime mapped into this process, if any: a worker runs the
 * same binary, and the runtime must precede every preloaded library. */
static char *sanitizer_runtime(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[PATH_MAX + 128];
    char *found = NULL;
    while (f && !found && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (!path)
            continue;
        path[strcspn(path, "\n")] = '\0';
        const char *base = strrchr(path, '/') + 1;
        if (strncmp(base, "libasan.so", 10) == 0 || strncmp(base, "libtsan.so", 10) == 0)
            found = contend_strdup(path);
    }
    if (f)
        fclose(f);
    return found;
}

char *contend_faults_preload(const char *shim, const char *existing)
{
    char *rt = sanitizer_runtime();
    char *s = contend_asprintf("%s%s%s%s%s", rt ? rt : "", rt ? " " : "", shim,
                               existing && *existing ? " " : "", existing ? existing : "");
    free(rt);
    return s;
}

static void faults_environ(void *state, const struct contend_run_info *ri,
                           struct contend_envlist *env)
{
    struct fstate *s = state;
    (void)ri;
    char *pre = contend_faults_preload(s->shim, contend_envlist_get(env, "LD_PRELOAD"));
    contend_envlist_set(env, "LD_PRELOAD", pre);
    contend_envlist_set(env, CONTEND_FAULTS_ENV, s->ctl_path);
    free(pre);
}

/* ---- prepare and finish ------------------------------------------------------ */

static void absolute(const char *path, char *out, size_t len)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", cwd, path);
}

static int create_ctl(struct fstate *s, const struct contend_run_info *ri)
{
    const struct contend_case *c = ri->c;
    size_t len = contend_fault_ctl_size(c->procs, c->threads);
    int fd = open(s->ctl_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = contend_file_reserve(fd, len);
    void *p = rc ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!rc && p == MAP_FAILED)
        rc = -errno;
    close(fd);
    if (rc)
        return rc;
    s->ctl = p;
    s->ctl_len = len;
    struct contend_fault_ctl *ctl = s->ctl;
    ctl->magic = CONTEND_FAULTS_CTL_MAGIC;
    ctl->version = CONTEND_FAULTS_CTL_VERSION;
    ctl->flags = s->track ? CONTEND_FAULTS_TRACK : 0;
    ctl->seed = ri->seed;
    ctl->procs = c->procs;
    ctl->threads = c->threads;
    ctl->map_len = len;
    absolute(ri->store_dir, ctl->store, sizeof ctl->store);
    char p2[PATH_MAX];
    snprintf(p2, sizeof p2, "%s/undo.log", s->dir);
    absolute(p2, ctl->ulog, sizeof ctl->ulog);
    snprintf(p2, sizeof p2, "%s/ino", s->dir);
    absolute(p2, ctl->farm, sizeof ctl->farm);
    const char *io = contend_case_opt(c, "io");
    snprintf(ctl->io, sizeof ctl->io, "%s", io ? io : "");
    return 0;
}

static int faults_prepare(struct contend_run_info *ri, void **state)
{
    const struct contend_case *c = ri->c;
    struct fstate *s = contend_calloc(1, sizeof *s);
    int rc;
    *state = s;
    s->c = c;
    s->track = count_of(c, "powercut") > 0;
    contend_parse_duration_ns(contend_case_opt(c, "pause_for"), &s->pause_ns);
    contend_cut_policy_parse(contend_case_opt(c, "powercut_policy"), &s->policy);
    s->sector = (unsigned)count_of(c, "powercut_sector");
    s->was_alive = contend_calloc(c->procs, sizeof *s->was_alive);
    if ((uint64_t)c->procs * c->threads > CONTEND_FAULTS_MAX_WRITERS) {
        contend_rep_error(ri->out, "faults: at most %u writers (procs x threads)",
                          CONTEND_FAULTS_MAX_WRITERS);
        return -E2BIG;
    }
    if (!(s->shim = contend_faults_shim_path())) {
        contend_rep_error(ri->out,
                          "faults: cannot find the fault shim %s next to the contend "
                          "executable, in ../lib/contend from it, or in "
                          "$CONTEND_FAULT_SHIM",
                          SHIM_NAME);
        return -ENOENT;
    }
    snprintf(s->dir, sizeof s->dir, "%s/faults", ri->case_dir);
    snprintf(s->ctl_path, sizeof s->ctl_path, "%s/ctl", s->dir);
    char farm[PATH_MAX + 8];
    snprintf(farm, sizeof farm, "%s/ino", s->dir);
    if ((rc = contend_mkdir_p(farm, 0755)) != 0 || (rc = create_ctl(s, ri)) != 0 ||
        (s->track && (rc = contend_ulog_create(s->ctl->ulog, CONTEND_ULOG_DEFAULT_SLOTS,
                                               CONTEND_ULOG_DEFAULT_DATA)) != 0)) {
        contend_rep_error(ri->out, "faults: cannot set up %s: %s", s->dir, strerror(-rc));
        return rc;
    }
    return 0;
}

static void add_event(struct fstate *s, const struct contend_run_info *ri, uint64_t t, uint64_t dur,
                      const char *kind, char *detail)
{
    s->ev = contend_realloc(s->ev, (s->nev + 1) * sizeof s->ev[0]);
    s->ev[s->nev++] = (struct event){
        .t = t > ri->t_go ? t - ri->t_go : 0,
        .dur = dur,
        .kind = contend_strdup(kind),
        .detail = detail,
    };
}

static const char *site_name(unsigned site)
{
    static const char *const names[] = {"any", "before", "point", "write", "after"};
    return site < 5 ? names[site] : "?";
}

static char *who(const struct contend_run_info *ri, uint32_t writer)
{
    uint32_t t = ri->c->threads;
    if (t > 1)
        return contend_asprintf("worker %u.%u", writer / t, writer % t);
    return contend_asprintf("worker %u", writer);
}

/* Faults recorded by the workers and the shim in the control block. */
static void drain_ring(struct fstate *s, const struct contend_run_info *ri)
{
    uint64_t n = __atomic_load_n(&s->ctl->nevents, __ATOMIC_ACQUIRE);
    if (n > CONTEND_FAULTS_MAX_EVENTS) {
        contend_rep_add_stat(ri->out, "fault_events_dropped",
                             (double)(n - CONTEND_FAULTS_MAX_EVENTS));
        n = CONTEND_FAULTS_MAX_EVENTS;
    }
    for (uint64_t i = 0; i < n; i++) {
        const struct contend_fault_event *e = &s->ctl->ev[i];
        if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE))
            continue;
        char *w = who(ri, e->writer);
        if (e->type == CONTEND_EV_KILL) {
            bool in_write = e->call == CONTEND_CALL_WRITE || e->call == CONTEND_CALL_PWRITE;
            char *d =
                e->site != CONTEND_SITE_WRITE
                    ? contend_asprintf("%s op #%llu: SIGKILL at %s", w, (unsigned long long)e->idx,
                                       site_name(e->site))
                : in_write
                    ? contend_asprintf("%s op #%llu: SIGKILL in %s, %llu bytes "
                                       "of it written",
                                       w, (unsigned long long)e->idx, contend_io_call_name(e->call),
                                       (unsigned long long)e->aux)
                    : contend_asprintf("%s op #%llu: SIGKILL in %s", w, (unsigned long long)e->idx,
                                       contend_io_call_name(e->call));
            add_event(s, ri, e->t_ns, 0, "kill", d);
        } else if (e->type == CONTEND_EV_IO) {
            char *d =
                e->err ? contend_asprintf("%s op #%llu: %s -> %s", w, (unsigned long long)e->idx,
                                          contend_io_call_name(e->call), strerrorname_np(e->err))
                       : contend_asprintf("%s op #%llu: %s short (%llu bytes)", w,
                                          (unsigned long long)e->idx, contend_io_call_name(e->call),
                                          (unsigned long long)e->aux);
            add_event(s, ri, e->t_ns, 0, "io", d);
            s->io_faults++;
        }
        free(w);
    }
}

static int cmp_event(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static uint64_t busy_errors(const struct contend_run_info *ri)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < ri->nwriters; i++) {
        uint64_t k = contend_history_count(&ri->h[i]);
        for (uint64_t j = 0; j < k; j++) {
            int32_t e = ri->h[i].rec[j].err;
            n += e == EBUSY || e == ETIMEDOUT || e == EAGAIN;
        }
    }
    return n;
}

static void faults_finish(void *state, struct contend_run_info *ri)
{
    struct fstate *s = state;
    if (s->ctl) {
        drain_ring(s, ri);
        /* qsort with a NULL base is undefined even for zero elements (UBSan
         * aborts on it), and a case that drew no fault has no event array. */
        if (s->nev > 1)
            qsort(s->ev, s->nev, sizeof s->ev[0], cmp_event);
        for (size_t i = 0; i < s->nev; i++)
            contend_rep_add_event(ri->out, s->ev[i].t, s->ev[i].dur, s->ev[i].kind,
                                  s->ev[i].detail);
        static const char *const names[] = {"kills", "restarts", "pauses", "powercuts",
                                            "io_faults"};
        uint32_t v[] = {s->kills, s->restarts, s->pauses, s->cuts, s->io_faults};
        for (size_t i = 0; i < 5; i++)
            contend_rep_add_stat(ri->out, names[i], v[i]);
        contend_rep_add_stat(ri->out, "busy_errors", (double)busy_errors(ri));
        if (s->track) {
            contend_rep_add_stat(ri->out, "powercut_undone", (double)s->undone);
            contend_rep_add_stat(ri->out, "powercut_undone_bytes", (double)s->undone_bytes);
            contend_rep_add_stat(ri->out, "powercut_undone_names", (double)s->undone_names);
            if (s->lost_ops)
                contend_rep_add_stat(ri->out, "powercut_lost_ops", (double)s->lost_ops);
        }
        munmap(s->ctl, s->ctl_len);
    }
    /* The undo log and the farm of hard links are worth nothing after the run. */
    if (s->dir[0])
        contend_rm_rf(s->dir);
    for (size_t i = 0; i < s->nev; i++) {
        free(s->ev[i].kind);
        free(s->ev[i].detail);
    }
    free(s->ev);
    free(s->was_alive);
    free(s->shim);
    free(s);
}

/* ---- kills and pauses ---------------------------------------------------------- */

static bool faults_exited(void *state, struct contend_run_info *ri, uint32_t worker, int status)
{
    struct fstate *s = state;
    if (!s->ctl)
        return false;
    struct contend_fault_worker *w = contend_fault_ctl_worker(s->ctl, worker);
    __atomic_store_n(&w->pause_t, 0, __ATOMIC_RELAXED);
    uint32_t planned = __atomic_exchange_n(&w->planned, 0, __ATOMIC_ACQ_REL);
    if (s->cutting)
        return true;
    if (!planned || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        return false;
    s->kills++;
    if (contend_run_restart(ri, worker) == 0)
        s->restarts++;
    return true;
}

/* Stopped, as /proc says: SIGCONT before the stop landed would be lost. */
static bool is_stopped(pid_t pid)
{
    char buf[256];
    if (contend_read_proc(pid, "stat", buf, sizeof buf) <= 0)
        return false;
    const char *paren = strrchr(buf, ')');
    return paren && (paren[2] == 'T' || paren[2] == 't');
}

static void end_pauses(struct fstate *s, struct contend_run_info *ri, uint64_t now)
{
    for (uint32_t w = 0; w < ri->c->procs; w++) {
        struct contend_fault_worker *fw = contend_fault_ctl_worker(s->ctl, w);
        uint64_t since = __atomic_load_n(&fw->pause_t, __ATOMIC_ACQUIRE);
        if (!since || since == UINT64_MAX || !ri->pids[w] || now - since < s->pause_ns ||
            !is_stopped(ri->pids[w]))
            continue;
        __atomic_store_n(&fw->pause_t, 0, __ATOMIC_RELAXED);
        kill(ri->pids[w], SIGCONT);
        char *wn = who(ri, __atomic_load_n(&fw->pause_writer, __ATOMIC_RELAXED));
        add_event(
            s, ri, since, now - since, "pause",
            contend_asprintf("%s op #%llu: SIGSTOP for %.1f ms", wn,
                             (unsigned long long)__atomic_load_n(&fw->pause_idx, __ATOMIC_RELAXED),
                             (double)(now - since) / 1e6));
        free(wn);
        s->pauses++;
    }
}

/* ---- power cuts ------------------------------------------------------------------ */

static uint64_t kind_count(const struct contend_rep *r, const char *kind)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->nv; i++)
        if (strcmp(r->v[i].kind, kind) == 0)
            n += r->v[i].count ? r->v[i].count : 1;
    return n;
}

static bool corruption(const char *kind)
{
    return strcmp(kind, "corrupt-store") == 0 || strcmp(kind, "integrity") == 0;
}

/* What the checker found after the cut and recovery and not before the cut:
 * the cut's doing.  A corrupt store after recovery counts whatever the page
 * cache held before. */
static void judge_cut(struct fstate *s, struct contend_run_info *ri, const struct contend_env *env,
                      const struct contend_rep *pre, const struct contend_rep *post,
                      const char *what)
{
    /* The variant's flag, or the target's answer for these options. */
    bool durable = contend_target_durable(ri->c->tg, env);
    for (size_t i = 0; i < post->nv; i++) {
        const struct contend_violation *v = &post->v[i];
        bool first = true;
        for (size_t j = 0; j < i; j++)
            first = first && strcmp(post->v[j].kind, v->kind) != 0;
        if (!first)
            continue;
        /* Recovery must leave a readable store, whatever the page cache held. */
        uint64_t before = corruption(v->kind) ? 0 : kind_count(pre, v->kind);
        uint64_t after = kind_count(post, v->kind);
        if (after <= before || (corruption(v->kind) && s->corrupt_reported))
            continue; /* a store that stays corrupt is reported at its first cut */
        s->corrupt_reported |= corruption(v->kind);
        uint64_t n = after - before;
        if (corruption(v->kind) || durable) {
            const char *kind = corruption(v->kind) ? v->kind : "lost-durable";
            char *msg = contend_asprintf("%s: after recovery, %s (%llu): %s", what, v->kind,
                                         (unsigned long long)n, v->message);
            contend_rep_add_violation(ri->out, kind, n, v->witness, v->nwitness, msg);
            free(msg);
        } else {
            s->lost_ops += n; /* not promised: the final check reports the loss */
        }
    }
}

static void recover_after_cut(struct fstate *s, struct contend_run_info *ri, const char *what)
{
    int code = 0;
    int rc = contend_run_recover(ri, &code);
    (void)s;
    if (rc == -ECANCELED)
        return;
    if (rc) {
        contend_rep_error(ri->out, "%s: the recovery worker did not finish: %s", what,
                          strerror(-rc));
    } else if (code == CONTEND_EXIT_VIOLATION) {
        char *msg = contend_asprintf("%s: the target's recovery failed (its message is on "
                                     "stderr)",
                                     what);
        contend_rep_add_violation(ri->out, "corrupt-store", 1, NULL, 0, msg);
        free(msg);
    } else if (code != 0) {
        contend_rep_error(ri->out, "%s: the recovery worker exited with status %d", what, code);
    }
}

static void power_cut(struct fstate *s, struct contend_run_info *ri)
{
    const struct contend_case *c = ri->c;
    struct contend_fault_ctl *ctl = s->ctl;
    struct contend_env env;
    struct contend_rep pre, post;
    struct contend_cut_report cut;
    uint32_t n = ++s->cuts;

    s->cutting = true;
    contend_run_stop_all(ri, s->was_alive);
    memset(&pre, 0, sizeof pre);
    memset(&post, 0, sizeof post);
    contend_run_parent_env(ri, &env);
    contend_check_run(c, &env, ri->h, ri->nwriters, ri->t_go, &pre);

    int rc = contend_powercut_rollback(ctl->ulog, ctl->farm, s->policy, s->sector,
                                       ri->seed ^ ((uint64_t)n << 40), &cut);
    char *wn = who(ri, ctl->cut_writer);
    char *what =
        contend_asprintf("power cut #%u (%s op #%llu at %s, +%.3f ms, policy %s)", n, wn,
                         (unsigned long long)ctl->cut_idx, site_name(ctl->cut_site),
                         ctl->cut_t > ri->t_go ? (double)(ctl->cut_t - ri->t_go) / 1e6 : 0.0,
                         contend_cut_policy_name(s->policy));
    free(wn);
    if (rc || cut.overflow) {
        contend_rep_error(ri->out, "%s: %s", what,
                          rc ? strerror(-rc)
                          : cut.overflow == CONTEND_ULOG_NOSPACE
                              ? "no space left on the device for the undo log (the changes "
                                "it could not save cannot be undone: no verdict)"
                              : "the undo log is full (more than 1 GiB of un-fsynced changes "
                                "between two cuts)");
    } else if (cut.errors) {
        contend_rep_error(ri->out, "%s: %llu undo steps failed; first: %s", what,
                          (unsigned long long)cut.errors, cut.first_error);
    } else if ((rc = contend_powercut_reset(ctl->ulog, ctl->farm)) != 0) {
        contend_rep_error(ri->out, "%s: cannot reset the undo log: %s", what, strerror(-rc));
    }
    add_event(s, ri, ctl->cut_t, 0, "powercut",
              contend_asprintf("%s: %llu of %llu changes were not durable, %llu undone "
                               "(%llu bytes, %llu names)",
                               what, (unsigned long long)cut.volatile_,
                               (unsigned long long)cut.entries, (unsigned long long)cut.undone,
                               (unsigned long long)cut.bytes, (unsigned long long)cut.names));
    s->undone += cut.undone;
    s->undone_bytes += cut.bytes;
    s->undone_names += cut.names;

    if (!ri->out->error) {
        recover_after_cut(s, ri, what);
        contend_check_run(c, &env, ri->h, ri->nwriters, ri->t_go, &post);
        judge_cut(s, ri, &env, &pre, &post, what);
    }
    contend_rep_free(&pre);
    contend_rep_free(&post);
    free(what);

    __atomic_store_n(&ctl->cut_req, 0, __ATOMIC_RELEASE);
    s->cutting = false;
    if (ri->out->error)
        return; /* the case ends: the monitor sees no worker left */
    for (uint32_t w = 0; w < c->procs; w++)
        if (s->was_alive[w])
            contend_run_restart(ri, w);
}

static void faults_tick(void *state, struct contend_run_info *ri, uint64_t now)
{
    struct fstate *s = state;
    if (!s->ctl)
        return;
    if (s->pause_ns)
        end_pauses(s, ri, now);
    if (__atomic_load_n(&s->ctl->cut_req, __ATOMIC_ACQUIRE) == 1)
        power_cut(s, ri);
}

static const struct contend_extension faults_extension = {
    .name = "faults",
    .help = "kill -9 and restart, pause, I/O errors, power cuts (README \"Faults\")",
    .keys = fault_keys,
    .validate = faults_validate,
    .active = faults_active,
    .prepare = faults_prepare,
    .environ = faults_environ,
    .tick = faults_tick,
    .finish = faults_finish,
    .exited = faults_exited,
};
CONTEND_EXTENSION_REGISTER(faults_extension)
