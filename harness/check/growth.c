/*
 * growth.c - fitting per-op cost against store size.
 *
 * Size.  The store's size when an op starts is the number of ops completed
 * before its invocation, over all writers.  Within one writer thread ops are
 * sequential, so its completion times rise with the record index (an op that
 * never completed - its worker died - is skipped, it never counts).  A sweep
 * over the sampled ops in invocation order, with a min-heap of each writer's
 * next completion time, counts completions in O(N log W) time and O(W)
 * memory, however large the run.
 *
 * Sampling.  At most SAMPLE_MAX ops are fitted (every k-th acknowledged op),
 * which bounds memory for multi-million-op runs and changes the bucket
 * medians by nothing that matters.
 *
 * Noise.  The machine this runs on is shared; a neighbour's burst makes a
 * stretch of consecutive ops slow, which is a stretch of sizes, and a
 * neighbour that starts (or stops) makes every later op slower (or faster):
 * a step.  Medians per bucket ignore bursts shorter than half a bucket.
 * Noise only adds time while the cost a store imposes never falls as it
 * grows, so each bucket is fitted at the smallest median at or after it: a
 * slow stretch followed by a faster one disappears.  The size range is cut
 * in three parts of equal log width, each gets its own Theil-Sen slope (the
 * median of its pairwise slopes, so one bad bucket does not tilt it), and
 * the exponent is the median of the three, so a step that lasts to the end
 * tilts one part and not the result.  Growth that belongs to the variant
 * tilts all three.  What is left is the cost trend of the variant itself: ~0 for a
 * tail scan, ~1 for a whole-file re-read.
 */
#include "growth.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SAMPLE_MAX 262144u

static int cmp_sample(const void *a, const void *b)
{
    const struct contend_growth_sample *x = a, *y = b;
    if (x->size != y->size)
        return (x->size > y->size) - (x->size < y->size);
    return (x->cost > y->cost) - (x->cost < y->cost);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Theil-Sen: the median of the pairwise slopes of points [from, to). */
static bool theil_sen(const double *lx, const double *ly, unsigned from, unsigned to, double *out)
{
    double slopes[CONTEND_GROWTH_BUCKETS * CONTEND_GROWTH_BUCKETS / 2];
    size_t k = 0;
    for (unsigned i = from; i < to; i++)
        for (unsigned j = i + 1; j < to; j++)
            if (lx[j] > lx[i])
                slopes[k++] = (ly[j] - ly[i]) / (lx[j] - lx[i]);
    if (k == 0)
        return false;
    qsort(slopes, k, sizeof slopes[0], cmp_dbl);
    *out = (k % 2) ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    return true;
}

void contend_growth_fit(struct contend_growth_sample *s, size_t n, struct contend_growth *out)
{
    memset(out, 0, sizeof *out);
    out->ops = n;
    if (n < CONTEND_GROWTH_MIN_OPS) {
        snprintf(out->why, sizeof out->why, "only %zu acknowledged ops (%u needed)", n,
                 CONTEND_GROWTH_MIN_OPS);
        return;
    }
    qsort(s, n, sizeof s[0], cmp_sample);
    out->size_max = s[n - 1].size;
    if (out->size_max < 4 * CONTEND_GROWTH_RANGE) {
        snprintf(out->why, sizeof out->why, "the store barely grew (to %llu ops)",
                 (unsigned long long)out->size_max);
        return;
    }

    /* Buckets of equal width in log(size), from size_max / RANGE up; sizes
     * below are the warm-up (cold caches, a store near empty): left out. */
    const double lo = (double)out->size_max / CONTEND_GROWTH_RANGE;
    const double width = log((double)CONTEND_GROWTH_RANGE) / CONTEND_GROWTH_BUCKETS;
    double lx[CONTEND_GROWTH_BUCKETS], ly[CONTEND_GROWTH_BUCKETS];
    unsigned part_of[CONTEND_GROWTH_BUCKETS];
    uint64_t *costs = contend_calloc(n, sizeof *costs);
    size_t i = 0;
    while (i < n && (double)s[i].size < lo)
        i++;
    for (unsigned b = 0; b < CONTEND_GROWTH_BUCKETS; b++) {
        double upper = lo * exp(width * (b + 1));
        size_t from = i;
        while (i < n && ((double)s[i].size < upper || b + 1 == CONTEND_GROWTH_BUCKETS))
            i++;
        size_t m = i - from;
        if (m < CONTEND_GROWTH_BUCKET_MIN)
            continue;
        for (size_t j = 0; j < m; j++)
            costs[j] = s[from + j].cost;
        qsort(costs, m, sizeof costs[0], cmp_u64);
        double size = (double)s[from + m / 2].size, cost = (double)costs[m / 2];
        unsigned k = out->npoints++;
        out->size[k] = size;
        out->cost[k] = cost;
        lx[k] = log(size);
        part_of[k] = b * CONTEND_GROWTH_PARTS / CONTEND_GROWTH_BUCKETS;
    }
    free(costs);

    /* Noise only ever adds time, and the cost an op owes to the store does
     * not fall as the store grows: so no bucket's own cost is above the
     * median of any bucket after it, and the fit uses that bound (the
     * minimum of this and every later median).  A stretch of slow ops that
     * is followed by a faster one is cut back to it. */
    double env = INFINITY;
    for (unsigned k = out->npoints; k-- > 0;) {
        double c = out->cost[k];
        env = c < env ? c : env;
        ly[k] = log(env > 1 ? env : 1);
    }

    /* One slope per part of the size range, and their median: a step in the
     * machine's speed during the run (a neighbour starts or stops) tilts
     * the one part it falls in, not the median; real growth tilts all. */
    unsigned from = 0;
    for (unsigned p = 0; p < CONTEND_GROWTH_PARTS; p++) {
        unsigned to = from;
        while (to < out->npoints && part_of[to] == p)
            to++;
        if (!theil_sen(lx, ly, from, to, &out->part[p])) {
            snprintf(out->why, sizeof out->why,
                     "too few ops at sizes %.0f..%.0f to fit (%u buckets)",
                     lo * exp(width * p * CONTEND_GROWTH_BUCKETS / CONTEND_GROWTH_PARTS),
                     lo * exp(width * (p + 1) * CONTEND_GROWTH_BUCKETS / CONTEND_GROWTH_PARTS),
                     to - from);
            return;
        }
        from = to;
    }
    double sorted[CONTEND_GROWTH_PARTS];
    memcpy(sorted, out->part, sizeof sorted);
    qsort(sorted, CONTEND_GROWTH_PARTS, sizeof sorted[0], cmp_dbl);
    out->exponent = sorted[CONTEND_GROWTH_PARTS / 2];
    out->valid = true;
}

/* ---- sizes from histories ------------------------------------------------- */

struct cursor {
    uint64_t key; /* completion time of the next completed record, or UINT64_MAX */
    uint64_t idx;
    uint32_t w;
};

static void cursor_next(const struct contend_history *h, struct cursor *c)
{
    uint64_t n = contend_history_count(&h[c->w]);
    const struct contend_record *r = h[c->w].rec;
    while (c->idx < n && r[c->idx].status == CONTEND_STATUS_INVOKED)
        c->idx++;
    c->key = c->idx < n ? r[c->idx].t_complete : UINT64_MAX;
}

static void heap_down(struct cursor *hp, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && hp[l].key < hp[m].key)
            m = l;
        if (r < n && hp[r].key < hp[m].key)
            m = r;
        if (m == i)
            return;
        struct cursor t = hp[i];
        hp[i] = hp[m];
        hp[m] = t;
        i = m;
    }
}

/* One sampled op: when it began, and where its record is. */
struct pick {
    uint64_t t_invoke;
    uint64_t idx;
    uint32_t w;
};

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    return (x->t_invoke > y->t_invoke) - (x->t_invoke < y->t_invoke);
}

/* The cost of one op in measure m. */
static uint64_t cost_of(const struct contend_history *h, const struct pick *p,
                        enum contend_growth_measure m)
{
    const struct contend_record *r = &h[p->w].rec[p->idx];
    const struct contend_work *wk = h[p->w].work ? &h[p->w].work[p->idx] : NULL;
    switch (m) {
    case CONTEND_GROWTH_CPU: return wk ? wk->cpu_ns : 0;
    case CONTEND_GROWTH_BYTES: return wk ? wk->read_bytes + wk->write_bytes : 0;
    case CONTEND_GROWTH_SYSCALLS: return wk ? wk->syscalls : 0;
    default: return r->t_complete > r->t_invoke ? r->t_complete - r->t_invoke : 0;
    }
}

/* Did every writer measure its ops' work? */
static bool work_measured(const struct contend_history *h, uint32_t nwriters)
{
    for (uint32_t w = 0; w < nwriters; w++)
        if (!h[w].work || !h[w].hdr->work_measured)
            return false;
    return nwriters > 0;
}

void contend_growth_of_run(const struct contend_history *h, uint32_t nwriters,
                           struct contend_growths *out)
{
    memset(out, 0, sizeof *out);
    uint64_t acked = 0;
    for (uint32_t w = 0; w < nwriters; w++) {
        uint64_t n = contend_history_count(&h[w]);
        for (uint64_t i = 0; i < n; i++)
            acked += (h[w].rec[i].status == CONTEND_OK);
    }
    uint64_t stride = acked > SAMPLE_MAX ? (acked + SAMPLE_MAX - 1) / SAMPLE_MAX : 1;
    struct pick *pk = contend_calloc(acked / stride + 1, sizeof *pk);
    uint64_t *size = contend_calloc(acked / stride + 1, sizeof *size);
    size_t ns = 0;
    uint64_t seen = 0;
    for (uint32_t w = 0; w < nwriters; w++) {
        uint64_t n = contend_history_count(&h[w]);
        for (uint64_t i = 0; i < n; i++) {
            const struct contend_record *r = &h[w].rec[i];
            if (r->status != CONTEND_OK || seen++ % stride != 0)
                continue;
            pk[ns++] = (struct pick){.t_invoke = r->t_invoke, .idx = i, .w = w};
        }
    }
    qsort(pk, ns, sizeof pk[0], cmp_pick);

    struct cursor *hp = contend_calloc(nwriters ? nwriters : 1, sizeof *hp);
    for (uint32_t w = 0; w < nwriters; w++) {
        hp[w] = (struct cursor){.w = w};
        cursor_next(h, &hp[w]);
    }
    for (size_t i = nwriters / 2 + 1; i-- > 0;)
        heap_down(hp, nwriters, i);
    uint64_t done = 0;
    for (size_t i = 0; i < ns; i++) {
        uint64_t t = pk[i].t_invoke;
        while (nwriters && hp[0].key <= t) {
            done++;
            hp[0].idx++;
            cursor_next(h, &hp[0]);
            heap_down(hp, nwriters, 0);
        }
        size[i] = done;
    }
    free(hp);

    out->work = work_measured(h, nwriters);
    struct contend_growth_sample *s = contend_calloc(ns + 1, sizeof *s);
    for (unsigned m = 0; m < CONTEND_GROWTH_MEASURES; m++) {
        struct contend_growth *g = &out->fit[m];
        if (m != CONTEND_GROWTH_LATENCY && !out->work) {
            snprintf(g->why, sizeof g->why, "work per op was not measured");
            continue;
        }
        for (size_t i = 0; i < ns; i++)
            s[i] = (struct contend_growth_sample){.size = size[i], .cost = cost_of(h, &pk[i], m)};
        contend_growth_fit(s, ns, g);
    }
    free(s);
    free(size);
    free(pk);

    /* The verdict: the steepest work measure, or latency without work. */
    out->decided_by = CONTEND_GROWTH_LATENCY;
    if (out->work) {
        out->decided_by = CONTEND_GROWTH_CPU;
        for (unsigned m = CONTEND_GROWTH_CPU; m < CONTEND_GROWTH_MEASURES; m++) {
            const struct contend_growth *g = &out->fit[m], *best = &out->fit[out->decided_by];
            if (g->valid && (!best->valid || g->exponent > best->exponent))
                out->decided_by = m;
        }
    }
    out->valid = out->fit[out->decided_by].valid;
    out->exponent = out->fit[out->decided_by].exponent;
}

const char *contend_growth_measure_name(enum contend_growth_measure m)
{
    static const char *const names[] = {
        [CONTEND_GROWTH_LATENCY] = "latency",
        [CONTEND_GROWTH_CPU] = "cpu",
        [CONTEND_GROWTH_BYTES] = "bytes",
        [CONTEND_GROWTH_SYSCALLS] = "syscalls",
    };
    return (unsigned)m < CONTEND_GROWTH_MEASURES ? names[m] : "?";
}

const char *contend_growth_measure_unit(enum contend_growth_measure m)
{
    static const char *const units[] = {
        [CONTEND_GROWTH_LATENCY] = "ns",
        [CONTEND_GROWTH_CPU] = "ns",
        [CONTEND_GROWTH_BYTES] = "bytes",
        [CONTEND_GROWTH_SYSCALLS] = "syscalls",
    };
    return (unsigned)m < CONTEND_GROWTH_MEASURES ? units[m] : "?";
}

/* ---- measuring work in the worker ------------------------------------------ */

int contend_work_open(void)
{
    int fd = open("/proc/thread-self/io", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/io", (long)syscall(SYS_gettid));
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    return fd < 0 ? -errno : fd;
}

/* The next number after the next ':' in [*p, end), or 0. */
static uint64_t next_field(const char **p, const char *end)
{
    const char *q = *p;
    while (q < end && *q != ':')
        q++;
    uint64_t v = 0;
    for (q++; q < end && (*q == ' ' || *q == '\t'); q++) {
    }
    for (; q < end && *q >= '0' && *q <= '9'; q++)
        v = v * 10 + (uint64_t)(*q - '0');
    *p = q;
    return v;
}

/*
 * Raw system calls: the fault shim (LD_PRELOAD) and libfaketime interpose
 * the libc wrappers, and neither may count, fault or fake these reads.
 * The io file is regenerated on every read at offset 0.  Its first four
 * fields are rchar, wchar, syscr and syscw; each read of it adds the same
 * few bytes and one syscall to every op, which does not tilt a fit.
 */
void contend_work_now(int fd, struct contend_work *w)
{
    struct timespec ts = {0, 0};
    syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts);
    w->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    w->read_bytes = w->write_bytes = w->syscalls = 0;
    if (fd < 0)
        return;
    char buf[256];
    long n = syscall(SYS_pread64, fd, buf, sizeof buf, 0L);
    if (n <= 0)
        return;
    const char *p = buf, *end = buf + n;
    w->read_bytes = next_field(&p, end);
    w->write_bytes = next_field(&p, end);
    w->syscalls = next_field(&p, end);
    w->syscalls += next_field(&p, end);
}
