/*
 * inject.c - kills, pauses and power cuts from inside the worker (inject.h).
 *
 * The worker, not the runner, pulls the trigger, because only the worker
 * knows exactly which op it is in and where: a runner polling progress
 * every few milliseconds would hit a different op on every run.  Before
 * dying the worker marks the death as planned in the fault control block,
 * so that the runner restarts it instead of reporting a crash.  For a pause
 * it records when it stopped and raises SIGSTOP; the runner sends SIGCONT
 * when the pause is over.  For a power cut it stops its whole process group
 * at once (every worker freezes where it is, as at a real power loss) and
 * the runner takes over: kill, roll back, recover, check, restart.
 */
#include "inject.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "point.h"
#include "util.h"
#include "ctl.h"

#define SALT_PLAN 0x706c616e00000000ull /* "plan" */
#define SALT_SITE 0x7369746500000000ull /* "site" */

struct contend_fault_proc {
    struct contend_fault_ctl *ctl;
    size_t ctl_len;
    uint32_t worker;
    uint64_t every[CONTEND_PLAN_N]; /* 0 = off */
    int site;                       /* fault_at */
    contend_shim_op_fn shim_op;
};

uint64_t contend_fault_plan_at(uint64_t seed, int kind, uint32_t writer, uint32_t k, uint64_t every)
{
    /* Gaps uniform in [1, 2N - 1], mean N: every writer sees one fault per N
     * of its ops, so all of them together one per N ops. */
    uint64_t g = every;
    uint64_t at = 0;
    for (uint32_t i = 0; i <= k; i++) {
        struct contend_rng rng;
        contend_rng_init(&rng, seed ^ SALT_PLAN ^ (uint64_t)kind, writer, i);
        at += 1 + contend_rng_below(&rng, 2 * g - 1);
    }
    return at - 1;
}

static uint64_t count_opt(const struct contend_case *c, const char *key)
{
    const char *v = contend_case_opt(c, key);
    uint64_t n = 0;
    return v && contend_parse_u64(v, &n) == 0 ? n : 0;
}

static int site_opt(const struct contend_case *c)
{
    static const char *const names[] = {"any", "before", "point", "write", "after"};
    const char *v = contend_case_opt(c, "fault_at");
    for (int i = 0; v && i < 5; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return CONTEND_SITE_ANY;
}

int contend_faults_proc_open(const struct contend_case *c, uint32_t worker,
                             struct contend_fault_proc **out)
{
    const char *path = getenv(CONTEND_FAULTS_ENV);
    struct stat st;
    *out = NULL;
    if (!path || !*path)
        return 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if ((size_t)st.st_size < contend_fault_ctl_size(c->procs, c->threads))
        rc = -EINVAL;
    else if ((map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) ==
             MAP_FAILED)
        rc = -errno;
    close(fd);
    if (rc)
        return rc;
    struct contend_fault_proc *p = contend_calloc(1, sizeof *p);
    p->ctl = map;
    p->ctl_len = (size_t)st.st_size;
    p->worker = worker;
    p->every[CONTEND_PLAN_KILL] = count_opt(c, "kill");
    p->every[CONTEND_PLAN_PAUSE] = count_opt(c, "pause");
    p->every[CONTEND_PLAN_CUT] = count_opt(c, "powercut");
    p->site = site_opt(c);
    /* The shim is in the process when the runner preloaded it; without it
     * the io rules and the write site would silently do nothing. */
    p->shim_op = (contend_shim_op_fn)dlsym(RTLD_DEFAULT, CONTEND_SHIM_OP_SYMBOL);
    if (p->ctl->magic != CONTEND_FAULTS_CTL_MAGIC || !p->shim_op) {
        contend_err("worker %u: %s", worker,
                    p->shim_op ? "bad fault control block" : "the fault shim is not loaded");
        contend_faults_proc_close(p);
        return -ENOENT;
    }
    *out = p;
    return 0;
}

void contend_faults_proc_close(struct contend_fault_proc *p)
{
    if (!p)
        return;
    munmap(p->ctl, p->ctl_len);
    free(p);
}

static void plan_next(struct contend_fault_thread *t, int kind)
{
    const struct contend_fault_proc *p = t->p;
    if (!p->every[kind]) {
        t->next[kind] = UINT64_MAX;
        return;
    }
    t->next[kind] =
        contend_fault_plan_at(p->ctl->seed, kind, t->writer, t->k[kind]++, p->every[kind]);
}

void contend_faults_thread_init(struct contend_fault_proc *p, struct contend_fault_thread *t,
                                uint32_t writer, uint64_t first)
{
    memset(t, 0, sizeof *t);
    t->p = p;
    t->writer = writer;
    if (!p)
        return;
    for (int kind = 0; kind < CONTEND_PLAN_N; kind++) {
        do
            plan_next(t, kind);
        while (t->next[kind] < first);
    }
}

/* The action now.  Kills and power cuts do not return. */
static void fire(struct contend_fault_thread *t)
{
    struct contend_fault_proc *p = t->p;
    struct contend_fault_ctl *ctl = p->ctl;
    struct contend_fault_worker *w = contend_fault_ctl_worker(ctl, p->worker);
    int kind = t->pending - 1;
    t->pending = 0;
    contend_point_hook(NULL, NULL);
    if (kind == CONTEND_PLAN_PAUSE) {
        /* One pause per process at a time: a thread that finds another one
         * pausing the process is stopped with it anyway. */
        uint64_t idle = 0;
        if (!__atomic_compare_exchange_n(&w->pause_t, &idle, UINT64_MAX, false, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED))
            return;
        __atomic_store_n(&w->pause_writer, t->writer, __ATOMIC_RELAXED);
        __atomic_store_n(&w->pause_idx, t->idx, __ATOMIC_RELAXED);
        __atomic_store_n(&w->pause_t, contend_now_ns(), __ATOMIC_RELEASE);
        raise(SIGSTOP); /* the whole process; the runner continues it */
        return;
    }
    if (kind == CONTEND_PLAN_KILL) {
        struct contend_fault_event *e = contend_fault_event_new(ctl);
        if (e) {
            e->t_ns = contend_now_ns();
            e->idx = t->idx;
            e->type = CONTEND_EV_KILL;
            e->writer = t->writer;
            e->site = (uint8_t)t->site;
            __atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
        }
        __atomic_store_n(&w->planned, 1, __ATOMIC_RELEASE);
        kill(getpid(), SIGKILL);
    } else {
        contend_fault_request_cut(ctl, t->writer, t->idx, (uint32_t)t->site, contend_now_ns());
        kill(0, SIGSTOP); /* every worker freezes where it is */
    }
    for (;;)
        pause();
}

static void at_point(void *arg, const char *name)
{
    (void)name;
    fire(arg);
}

void contend_faults_before(struct contend_fault_thread *t, uint64_t idx)
{
    struct contend_fault_proc *p = t->p;
    int shim_action = CONTEND_ACT_NONE;
    /* One fault per op: a power cut over a kill over a pause. */
    static const int order[] = {CONTEND_PLAN_CUT, CONTEND_PLAN_KILL, CONTEND_PLAN_PAUSE};
    t->pending = 0;
    for (int i = 0; i < CONTEND_PLAN_N; i++) {
        int kind = order[i];
        if (t->next[kind] != idx)
            continue;
        plan_next(t, kind);
        if (t->pending)
            continue;
        t->pending = kind + 1;
        t->idx = idx;
        if (kind == CONTEND_PLAN_PAUSE) {
            t->site = CONTEND_SITE_POINT; /* preferably while it holds its lock */
        } else if (p->site != CONTEND_SITE_ANY) {
            t->site = p->site;
        } else {
            struct contend_rng rng;
            contend_rng_init(&rng, p->ctl->seed ^ SALT_SITE ^ (uint64_t)kind, t->writer, idx);
            t->site = 1 + (int)contend_rng_below(&rng, 4);
        }
    }
    if (t->pending && t->site == CONTEND_SITE_WRITE)
        shim_action = t->pending - 1 == CONTEND_PLAN_KILL ? CONTEND_ACT_KILL : CONTEND_ACT_CUT;
    p->shim_op(p->worker, t->writer, idx, shim_action);
    if (!t->pending)
        return;
    if (t->site == CONTEND_SITE_BEFORE)
        fire(t);
    else if (t->site == CONTEND_SITE_POINT)
        contend_point_hook(at_point, t);
}

void contend_faults_after(struct contend_fault_thread *t, uint64_t idx)
{
    struct contend_fault_proc *p = t->p;
    (void)idx;
    /* The shim says whether its action is still waiting for a call. */
    int shim_pending = p->shim_op(p->worker, t->writer, UINT64_MAX, CONTEND_ACT_NONE);
    if (!t->pending)
        return;
    contend_point_hook(NULL, NULL);
    if (t->site != CONTEND_SITE_WRITE || shim_pending) {
        t->site = CONTEND_SITE_AFTER; /* the op reached no point, or no store change */
        fire(t);
    }
    t->pending = 0;
}
