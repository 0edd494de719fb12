/*
 * worker.c - a worker process: open the target, wait at the barrier, run ops.
 *
 * The runner execs `contend __worker CASE_DIR INDEX` in an environment of its
 * choosing.  The worker reads case.json, starts one pthread per configured
 * thread, and each thread maps its own history file.  Once every thread has
 * opened the target it reports OPEN in its history header and sleeps on the
 * control block's `go` futex; the runner starts the clock for all workers at
 * once.
 *
 * The op loop is the hot path.  Per op it derives a random stream from
 * (seed, writer, index), lets the workload fill the op, writes the
 * invocation, calls the target, writes the completion and records the
 * latency.  It allocates nothing and takes no lock of its own: everything it
 * touches is per thread or read-only.
 *
 * With faults configured (harness/ext/faults/), the worker runs its part of the
 * fault plan around each op, and a worker started again after a planned
 * kill or a power cut runs the target's recover() before opening it, as the
 * real program does at start-up; `contend __worker CASE_DIR N --recover`
 * runs only that, for the runner after a power cut.
 * Under time control the worker's clock is faked (libfaketime).  The history
 * keeps the faked times, because checkers judge expiry on the clock the
 * target saw; latencies and the throughput series are measured on the real
 * clock as well, so that a worker running at 100x does not report its ops
 * as 100x slower than they were.
 */
#include "worker.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "casefile.h"
#include "clock.h"
#include "control.h"
#include "fatal.h"
#include "growth.h"
#include "inject.h"
#include "history.h"
#include "point.h"
#include "schedule.h"
#include "util.h"

#define OP_BUF_SIZE 4096

struct wthread {
    pthread_t tid;
    uint32_t thread, writer;
    int rc;
    struct contend_history h;
    void *handle;
    struct contend_env env;
    struct contend_gen gen;
    struct contend_fault_thread faults;
    int work_fd;  /* the thread's /proc io counters, or negative */
    bool measure; /* record each op's work (growth.h) */
    /* Workloads store words in the op's payload (the cache's values are
     * uint64_t), so it is aligned whatever fields come before it. */
    _Alignas(16) unsigned char buf[OP_BUF_SIZE];
};

struct wproc {
    struct contend_case c;
    const char *case_dir;
    char store_dir[PATH_MAX];
    uint32_t worker;
    struct contend_control *ctl;
    bool faked;          /* the clock is not the real one: see the top */
    void *shared_handle; /* when the target opens once per worker */
    struct wthread *t;
    struct contend_fault_proc *faults; /* NULL without faults */
    /* Started again after a kill or a power cut.  Then a store that cannot
     * be recovered or opened is the store's failure, not the harness's: the
     * worker exits with CONTEND_EXIT_VIOLATION and the runner reports
     * corrupt-store (store_failed, atomic: threads open concurrently). */
    bool restarted;
    bool store_failed;
};

static void thread_error(struct contend_history *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record why this thread cannot run where the runner will look for it. */
static void thread_error(struct contend_history *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->hdr->error, sizeof h->hdr->error, fmt, ap);
    va_end(ap);
    __atomic_store_n(&h->hdr->state, CONTEND_THREAD_ERROR, __ATOMIC_RELEASE);
}

static void init_env(struct wproc *p, struct contend_env *env, uint32_t thread)
{
    const struct contend_case *c = &p->c;
    *env = (struct contend_env){
        .store_dir = p->store_dir,
        .variant = c->variant,
        .variant_index = c->variant_index,
        .workload = c->workload,
        .seed = c->seed,
        .procs = c->procs,
        .threads = c->threads,
        .worker = p->worker,
        .thread = thread,
        .keys = c->keys,
        .opt_names = c->topt_names,
        .opt_values = c->topt_values,
        .nopts = c->ntopts,
    };
}

static void init_gen(const struct contend_case *c, struct contend_gen *g, uint32_t writer)
{
    memset(g, 0, sizeof *g);
    g->seed = c->seed;
    g->keys = c->keys;
    g->writer = writer;
    g->writers = c->procs * c->threads;
    for (size_t i = 0; i < c->nwopts && i < CONTEND_MAX_OPTS; i++) {
        int64_t iv = 0;
        double dv = 0;
        if (contend_parse_i64(c->wopt_values[i], &iv) == 0)
            dv = (double)iv;
        else if (contend_parse_double(c->wopt_values[i], &dv) == 0)
            iv = (int64_t)dv;
        g->opt[i] = iv;
        g->optf[i] = dv;
    }
}

/* Does every thread open its own handle?  The target says so for all its
 * variants; a variant may ask for one handle per worker shared by its
 * threads (CONTEND_VARIANT_OPEN_PER_WORKER). */
static bool open_per_thread(const struct contend_case *c)
{
    return (c->tg->flags & CONTEND_TARGET_OPEN_PER_THREAD) &&
           !(c->tg->variants[c->variant_index].flags & CONTEND_VARIANT_OPEN_PER_WORKER);
}

static void wait_for_go(struct contend_control *ctl)
{
    while (__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE) == 0)
        contend_futex_wait(&ctl->go, 0, 100000000ull);
}

/* `thinktime` between ops, on the worker's clock (so sped up with it). */
static void think(uint64_t ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(ns / CONTEND_NS_PER_SEC),
        .tv_nsec = (long)(ns % CONTEND_NS_PER_SEC),
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
        /* A signal: sleep the rest. */
    }
}

/* The hot path. */
static void run_ops(struct wproc *p, struct wthread *t)
{
    const struct contend_case *c = &p->c;
    const struct contend_target *tg = c->tg;
    const struct contend_workload *wl = c->wl;
    struct contend_history *h = &t->h;
    struct contend_hist *hist = h->hist;
    uint32_t *series = h->series;
    void *handle = t->handle ? t->handle : p->shared_handle;
    const uint64_t t0 = p->ctl->t_go;
    const uint64_t seed = c->seed;
    const bool timed = c->duration_ns != 0;
    struct contend_fault_thread *ft = p->faults ? &t->faults : NULL;
    const bool faked = p->faked;
    const uint64_t think_ns = c->thinktime_ns;
    const bool measure = t->measure;
    struct contend_work w0 = {0}, w1 = {0};
    uint64_t limit = timed ? h->hdr->capacity : c->ops;
    struct contend_op op;
    struct contend_rng rng;

    if (limit > h->hdr->capacity)
        limit = h->hdr->capacity;
    memset(&op, 0, sizeof op);
    op.writer = t->writer;
    op.buf = t->buf;
    op.buf_cap = sizeof t->buf;

    /* A restarted worker continues after the last op its predecessor began. */
    for (uint64_t idx = contend_history_count(h); idx < limit; idx++) {
        /* An op boundary: under a controlled schedule, another thread's turn? */
        contend_sched_yield(SCHED_OP, NULL);
        if (timed && __atomic_load_n(&p->ctl->stop, __ATOMIC_RELAXED))
            break;
        contend_rng_init(&rng, seed, t->writer, idx);
        op.id = contend_op_id(t->writer, idx);
        op.key = op.key2 = 0;
        op.arg = op.value = 0;
        op.value2 = 0;
        op.retries = 0;
        op.err = 0;
        op.buf_len = 0;
        wl->gen(&t->gen, idx, &rng, &op);
        contend_point_seed(seed, t->writer, idx);

        if (measure)
            contend_work_now(t->work_fd, &w0);
        uint64_t start = contend_now_ns();
        uint64_t real_start = faked ? contend_real_now_ns() : start;
        struct contend_record *r = contend_history_invoke(h, idx, &op, start);
        if (ft)
            contend_faults_before(ft, idx);
        int status = tg->apply(handle, &op);
        if (status != CONTEND_OK && status != CONTEND_FAIL)
            status = CONTEND_INFO; /* a target that cannot say is indeterminate */
        if (ft)
            contend_faults_after(ft, idx);
        uint64_t end = contend_now_ns();
        uint64_t real_end = faked ? contend_real_now_ns() : end;
        if (measure) {
            contend_work_now(t->work_fd, &w1);
            h->work[idx] = (struct contend_work){
                .cpu_ns = w1.cpu_ns - w0.cpu_ns,
                .read_bytes = w1.read_bytes - w0.read_bytes,
                .write_bytes = w1.write_bytes - w0.write_bytes,
                .syscalls = w1.syscalls - w0.syscalls,
            };
        }
        if (wl->complete)
            wl->complete(&t->gen, &op, status);
        contend_history_complete(h, r, &op, status, end);

        contend_hist_record(hist, real_end - real_start);
        uint64_t slot = (real_end - t0) / CONTEND_SERIES_INTERVAL_NS;
        series[slot < CONTEND_SERIES_LEN ? slot : CONTEND_SERIES_LEN - 1]++;
        if (think_ns)
            think(think_ns);
    }
    if (timed && contend_history_count(h) >= h->hdr->capacity &&
        !__atomic_load_n(&p->ctl->stop, __ATOMIC_RELAXED))
        h->hdr->full = 1;
}

/*
 * Touch every page of the records this thread is going to write, before the
 * start barrier.  The first write to a page of the MAP_SHARED history is a
 * page fault (several µs on ext4), one op in 64 would pay it inside its
 * measured latency, and p99 would be the harness's page faults rather than
 * the target.  Only records at or after `from` are written: those before it
 * belong to a predecessor of a restarted worker.  Only in ops mode, where the
 * records to come are known; a duration run would dirty up to history_cap.
 */
static void prefault_history(struct contend_history *h, uint64_t from, uint64_t to)
{
    const uint64_t per_page = 4096 / sizeof(struct contend_record);
    for (uint64_t i = from; i < to; i = (i / per_page + 1) * per_page)
        h->rec[i].t_complete = 0;
}

/* Measure each op's work when the verdict on growth will use it: the case
 * judges growth, and the target works in this thread, not in a process of
 * its own (growth.h). */
static bool measures_work(const struct contend_case *c)
{
    bool judged = !isnan(c->max_growth) || contend_case_expects(c, "superlinear-growth");
    return judged && !(c->tg->flags & CONTEND_TARGET_OUT_OF_PROCESS);
}

/* Every thread's state at once, for the phases before the threads exist. */
static void set_threads_state(struct wproc *p, uint32_t state)
{
    for (uint32_t i = 0; i < p->c.threads; i++)
        __atomic_store_n(&p->t[i].h.hdr->state, state, __ATOMIC_RELEASE);
}

struct thread_arg {
    struct wproc *p;
    struct wthread *t;
};

static void *thread_run(void *arg)
{
    struct thread_arg *a = arg;
    struct wproc *p = a->p;
    struct wthread *t = a->t;
    const struct contend_target *tg = p->c.tg;

    contend_fatal_bind(t->h.hdr);
    if (open_per_thread(&p->c)) {
        int rc = tg->open(&t->env, &t->handle);
        if (rc != 0) {
            thread_error(&t->h, "cannot open target %s: %s", tg->name,
                         strerror(rc < 0 ? -rc : EIO));
            t->rc = rc;
            if (p->restarted)
                __atomic_store_n(&p->store_failed, true, __ATOMIC_RELAXED);
            return NULL;
        }
    }
    if (p->c.duration_ns == 0)
        prefault_history(&t->h, contend_history_count(&t->h),
                         p->c.ops < t->h.hdr->capacity ? p->c.ops : t->h.hdr->capacity);
    t->work_fd = -1;
    t->measure = measures_work(&p->c);
    if (t->measure) {
        t->work_fd = contend_work_open();
        t->h.hdr->work_measured = 1;
    }
    __atomic_store_n(&t->h.hdr->state, CONTEND_THREAD_OPEN, __ATOMIC_RELEASE);
    wait_for_go(p->ctl);
    __atomic_store_n(&t->h.hdr->state, CONTEND_THREAD_RUNNING, __ATOMIC_RELEASE);
    if (t->h.hdr->t_first == 0)
        t->h.hdr->t_first = contend_now_ns();
    contend_faults_thread_init(p->faults, &t->faults, t->writer, contend_history_count(&t->h));
    contend_sched_thread_begin(t->writer);

    run_ops(p, t);

    t->h.hdr->t_end = contend_now_ns();
    t->h.hdr->t_end_real = contend_real_now_ns();
    /* Close under the schedule too: closing may take the store's locks. */
    if (t->handle)
        tg->close(t->handle);
    if (t->work_fd >= 0)
        close(t->work_fd);
    contend_sched_thread_end();
    __atomic_store_n(&t->h.hdr->state, CONTEND_THREAD_DONE, __ATOMIC_RELEASE);
    return NULL;
}

static int open_histories(struct wproc *p)
{
    const struct contend_case *c = &p->c;
    char path[PATH_MAX];
    for (uint32_t i = 0; i < c->threads; i++) {
        struct wthread *t = &p->t[i];
        t->thread = i;
        t->writer = p->worker * c->threads + i;
        snprintf(path, sizeof path, "%s/history/w%u.t%u", p->case_dir, p->worker, i);
        int rc = contend_history_open(path, true, &t->h);
        if (rc) {
            contend_err("worker %u: cannot map history %s: %s", p->worker, path, strerror(-rc));
            return rc;
        }
        t->h.hdr->starts++;
        t->h.hdr->clock_faked = p->faked;
        init_env(p, &t->env, i);
        init_gen(c, &t->gen, t->writer);
    }
    return 0;
}

static int run_threads(struct wproc *p)
{
    const struct contend_case *c = &p->c;
    struct thread_arg *args = contend_calloc(c->threads, sizeof *args);
    int rc = 0;
    uint32_t started = 0;

    for (; started < c->threads; started++) {
        args[started] = (struct thread_arg){.p = p, .t = &p->t[started]};
        int e = pthread_create(&p->t[started].tid, NULL, thread_run, &args[started]);
        if (e) {
            thread_error(&p->t[started].h, "cannot start thread: %s", strerror(e));
            rc = -e;
            break;
        }
    }
    for (uint32_t i = 0; i < started; i++) {
        pthread_join(p->t[i].tid, NULL);
        if (p->t[i].rc)
            rc = p->t[i].rc;
    }
    free(args);
    return rc;
}

/* The case this worker belongs to, from its case.json. */
static int load_case(struct wproc *p, const char *case_dir, uint32_t worker)
{
    char path[PATH_MAX];
    int rc;
    memset(p, 0, sizeof *p);
    p->case_dir = case_dir;
    p->worker = worker;
    snprintf(p->store_dir, sizeof p->store_dir, "%s/store", case_dir);
    snprintf(path, sizeof path, "%s/case.json", case_dir);
    if ((rc = contend_casefile_read(path, &p->c)) != 0)
        return rc;
    if (worker >= p->c.procs) {
        contend_err("worker index %u out of range (procs = %u)", worker, p->c.procs);
        return -EINVAL;
    }
    return 0;
}

/* Under a controlled schedule: map the decision log the runner created
 * (schedext.c) and join the schedule.  Unmapped at exit by the kernel. */
static int attach_schedule(struct wproc *p)
{
    struct contend_sched_shared *s = &p->ctl->sched;
    char path[PATH_MAX];
    if (s->mode == SCHED_OS)
        return 0;
    snprintf(path, sizeof path, "%s/schedule.log", p->case_dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    void *log = mmap(NULL, s->log_cap * sizeof(struct contend_sched_entry), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd, 0);
    int rc = log == MAP_FAILED ? -errno : 0;
    close(fd);
    if (rc == 0)
        contend_sched_attach(s, log);
    return rc;
}

/* Why none of this worker's threads can run, where the runner looks. */
static void all_threads_error(struct wproc *p, const char *what, int rc)
{
    char why[512];
    if (!contend_fatal_take(why, sizeof why))
        snprintf(why, sizeof why, "%s", strerror(rc < 0 ? -rc : EIO));
    for (uint32_t i = 0; i < p->c.threads; i++)
        thread_error(&p->t[i].h, "%s: %s", what, why);
}

int contend_worker_main(const char *case_dir, uint32_t worker)
{
    struct wproc p;
    char path[PATH_MAX];
    int rc;

    if ((rc = load_case(&p, case_dir, worker)) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/control", case_dir);
    if ((rc = contend_control_open(path, &p.ctl)) != 0) {
        contend_err("worker %u: cannot map %s: %s", worker, path, strerror(-rc));
        goto out;
    }
    p.t = contend_calloc(p.c.threads, sizeof *p.t);
    p.faked = contend_clock_is_faked();
    if ((rc = open_histories(&p)) != 0)
        goto out;
    contend_point_setup(p.c.perturb_us);
    if ((rc = attach_schedule(&p)) != 0) {
        all_threads_error(&p, "cannot map the schedule log", rc);
        goto out;
    }
    if ((rc = contend_faults_proc_open(&p.c, worker, &p.faults)) != 0) {
        all_threads_error(&p, "cannot set up faults", rc);
        goto out;
    }
    struct contend_env env;
    init_env(&p, &env, UINT32_MAX);
    /* Started again after a planned kill or a power cut: recover first. */
    p.restarted = p.t[0].h.hdr->starts > 1;
    /* The runner's watchdog sees each phase of a restart (recover, open)
     * as progress when it begins: a program over exec that takes seconds to
     * start (an interpreter behind a wrapper, a sanitizer runtime preloaded
     * into every process it forks) gets `timeout` for its recovery and
     * `timeout` again for its open, each already bounded by the target. */
    if (p.restarted) {
        set_threads_state(&p, CONTEND_THREAD_RECOVERING);
        if (p.c.tg->recover && (rc = p.c.tg->recover(&env)) != 0) {
            p.store_failed = true;
            all_threads_error(&p, "target recovery failed", rc);
            goto out;
        }
        set_threads_state(&p, CONTEND_THREAD_CREATED);
    }
    if (!open_per_thread(&p.c) && (rc = p.c.tg->open(&env, &p.shared_handle)) != 0) {
        p.store_failed = p.restarted;
        all_threads_error(&p, "cannot open target", rc);
        goto out;
    }
    rc = run_threads(&p);
    if (p.shared_handle)
        p.c.tg->close(p.shared_handle);
out:
    for (uint32_t i = 0; p.t && i < p.c.threads; i++)
        contend_history_close(&p.t[i].h);
    free(p.t);
    contend_faults_proc_close(p.faults);
    contend_control_close(p.ctl);
    contend_case_free(&p.c);
    if (rc && __atomic_load_n(&p.store_failed, __ATOMIC_RELAXED))
        return CONTEND_EXIT_VIOLATION;
    return rc ? CONTEND_EXIT_HARNESS : CONTEND_EXIT_OK;
}

int contend_worker_recover(const char *case_dir, uint32_t worker)
{
    struct wproc p;
    struct contend_env env;
    int rc;

    if ((rc = load_case(&p, case_dir, worker)) != 0) {
        contend_case_free(&p.c);
        return CONTEND_EXIT_HARNESS;
    }
    init_env(&p, &env, UINT32_MAX);
    rc = p.c.tg->recover ? p.c.tg->recover(&env) : 0;
    if (rc)
        contend_err("target %s: recovery failed: %s", p.c.tg->name, strerror(rc < 0 ? -rc : EIO));
    contend_case_free(&p.c);
    /* 1 is the store's failure, not the harness's: the runner reports it. */
    return rc ? CONTEND_EXIT_VIOLATION : CONTEND_EXIT_OK;
}
