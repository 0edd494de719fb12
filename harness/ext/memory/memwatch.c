/*
 * memwatch.c - resident memory of the workers over a run.
 *
 * A cache that expires entries only when they are read grows with the
 * number of distinct keys, a few bytes at a time: the leak is in the memory
 * curve, not in any single op.  This extension samples /proc/PID/statm of
 * every worker from the runner's tick (every SAMPLE_NS, from the start
 * barrier to the end) and reports, summed over the workers, in KiB:
 *
 *   rss_start_kib, rss_peak_kib  resident memory at the first sample, and the
 *                                most any sample saw
 *   rss_growth_kib               peak minus start
 *   anon_growth_kib              the same for private memory only
 *                                (resident - shared), which leaves out the
 *                                history files the harness itself maps and
 *                                fills; a heap or anonymous-memory leak of
 *                                the target shows here
 *
 * Growth is measured to the peak, not to the last sample: threads that have
 * finished give their stacks back (glibc drops an exiting thread's stack
 * pages), which would hide a leak behind a drop at the very end.
 *
 * A restarted worker starts a new baseline; the growth of its predecessor
 * is kept.  Nothing is configured: it is always on, reads one small file per
 * worker per sample, and touches neither the workers nor their hot path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extension.h"
#include "util.h"

#define SAMPLE_NS (20 * 1000000ull)

struct wmem {
    pid_t pid;
    int64_t base_res, base_anon, peak_res, peak_anon; /* pages */
};

struct memwatch {
    struct wmem *w;
    uint32_t n;
    uint64_t last;
    bool sampled;
    int64_t gone_res, gone_anon; /* growth of workers that were replaced */
};

static bool mem_active(const struct contend_case *c)
{
    (void)c;
    return true;
}

static int mem_prepare(struct contend_run_info *ri, void **state)
{
    struct memwatch *m = contend_calloc(1, sizeof *m);
    m->n = ri->c->procs;
    m->w = contend_calloc(m->n, sizeof *m->w);
    *state = m;
    return 0;
}

/* statm: size resident shared text lib data dt, in pages. */
static bool read_statm(pid_t pid, int64_t *res, int64_t *shared)
{
    char buf[256];
    if (contend_read_proc(pid, "statm", buf, sizeof buf) <= 0)
        return false;
    long long size, r, s;
    if (sscanf(buf, "%lld %lld %lld", &size, &r, &s) != 3)
        return false;
    *res = r;
    *shared = s;
    return true;
}

static void mem_tick(void *state, struct contend_run_info *ri, uint64_t now)
{
    struct memwatch *m = state;
    if (m->sampled && now - m->last < SAMPLE_NS)
        return;
    m->last = now;
    for (uint32_t i = 0; i < m->n; i++) {
        int64_t res, shared;
        pid_t pid = ri->pids[i];
        if (pid <= 0 || !read_statm(pid, &res, &shared))
            continue;
        struct wmem *w = &m->w[i];
        if (w->pid != pid) {
            if (w->pid) {
                m->gone_res += w->peak_res - w->base_res;
                m->gone_anon += w->peak_anon - w->base_anon;
            }
            w->pid = pid;
            w->base_res = w->peak_res = res;
            w->base_anon = w->peak_anon = res - shared;
        }
        if (res > w->peak_res)
            w->peak_res = res;
        if (res - shared > w->peak_anon)
            w->peak_anon = res - shared;
        m->sampled = true;
    }
}

static void mem_finish(void *state, struct contend_run_info *ri)
{
    struct memwatch *m = state;
    if (!m)
        return;
    if (m->sampled) {
        int64_t start = 0, peak = 0, growth = m->gone_res, anon = m->gone_anon;
        for (uint32_t i = 0; i < m->n; i++) {
            if (!m->w[i].pid)
                continue;
            start += m->w[i].base_res;
            peak += m->w[i].peak_res;
            growth += m->w[i].peak_res - m->w[i].base_res;
            anon += m->w[i].peak_anon - m->w[i].base_anon;
        }
        double kib = (double)sysconf(_SC_PAGESIZE) / 1024.0;
        contend_rep_add_stat(ri->out, "rss_start_kib", (double)start * kib);
        contend_rep_add_stat(ri->out, "rss_peak_kib", (double)peak * kib);
        contend_rep_add_stat(ri->out, "rss_growth_kib", (double)growth * kib);
        contend_rep_add_stat(ri->out, "anon_growth_kib", (double)anon * kib);
    }
    free(m->w);
    free(m);
}

static const struct contend_extension memwatch_extension = {
    .name = "memory",
    .help = "resident memory of the workers (rss_*_kib stats); always on",
    .active = mem_active,
    .prepare = mem_prepare,
    .tick = mem_tick,
    .finish = mem_finish,
};
CONTEND_EXTENSION_REGISTER(memwatch_extension)
