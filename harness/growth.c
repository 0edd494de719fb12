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
 * stretch of consecutive ops slow, which is a stretch of sizes.  Medians per
 * bucket ignore bursts shorter than half a bucket (1/32 of the run), and the
 * Theil-Sen slope ignores a minority of bad buckets.  What is left is the
 * cost trend of the variant itself: ~0 for a tail scan, ~1 for a whole-file
 * re-read.
 */
#include "growth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SAMPLE_MAX 262144u

static int cmp_sample(const void *a, const void *b)
{
    const struct contend_growth_sample *x = a, *y = b;
    if (x->size != y->size)
        return (x->size > y->size) - (x->size < y->size);
    return (x->cost_ns > y->cost_ns) - (x->cost_ns < y->cost_ns);
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

    const size_t per = n / CONTEND_GROWTH_BUCKETS;
    uint64_t *costs = contend_calloc(per + CONTEND_GROWTH_BUCKETS, sizeof *costs);
    double lx[CONTEND_GROWTH_BUCKETS], ly[CONTEND_GROWTH_BUCKETS];
    unsigned np = 0;
    /* Bucket 0 is the warm-up (cold caches, sizes near zero): left out. */
    for (unsigned b = 1; b < CONTEND_GROWTH_BUCKETS; b++) {
        size_t from = b * per, to = (b + 1 == CONTEND_GROWTH_BUCKETS) ? n : from + per;
        size_t m = to - from;
        for (size_t i = 0; i < m; i++)
            costs[i] = s[from + i].cost_ns;
        qsort(costs, m, sizeof costs[0], cmp_u64);
        double size = (double)s[from + m / 2].size;
        double cost = (double)costs[m / 2];
        if (size < 1)
            continue;
        out->size[np] = size;
        out->cost_us[np] = cost / 1e3;
        lx[np] = log(size);
        ly[np] = log(cost > 1 ? cost : 1);
        np++;
    }
    free(costs);
    out->npoints = np;
    if (np < 4 || out->size[np - 1] < 4 * out->size[0]) {
        snprintf(out->why, sizeof out->why, "the store barely grew (%.0f to %.0f ops)",
                 np ? out->size[0] : 0.0, np ? out->size[np - 1] : 0.0);
        return;
    }
    double slopes[CONTEND_GROWTH_BUCKETS * CONTEND_GROWTH_BUCKETS / 2];
    size_t k = 0;
    for (unsigned i = 0; i < np; i++)
        for (unsigned j = i + 1; j < np; j++)
            if (lx[j] > lx[i])
                slopes[k++] = (ly[j] - ly[i]) / (lx[j] - lx[i]);
    if (k == 0) {
        snprintf(out->why, sizeof out->why, "no two buckets of different size");
        return;
    }
    qsort(slopes, k, sizeof slopes[0], cmp_dbl);
    out->exponent = (k % 2) ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
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

void contend_growth_of_run(const struct contend_history *h, uint32_t nwriters,
                           struct contend_growth *out)
{
    uint64_t acked = 0;
    for (uint32_t w = 0; w < nwriters; w++) {
        uint64_t n = contend_history_count(&h[w]);
        for (uint64_t i = 0; i < n; i++)
            acked += (h[w].rec[i].status == CONTEND_OK);
    }
    uint64_t stride = acked > SAMPLE_MAX ? (acked + SAMPLE_MAX - 1) / SAMPLE_MAX : 1;
    struct contend_growth_sample *s = contend_calloc(acked / stride + 1, sizeof *s);
    size_t ns = 0;
    uint64_t seen = 0;
    /* First pass: t_invoke goes in .size until the sweep replaces it. */
    for (uint32_t w = 0; w < nwriters; w++) {
        uint64_t n = contend_history_count(&h[w]);
        for (uint64_t i = 0; i < n; i++) {
            const struct contend_record *r = &h[w].rec[i];
            if (r->status != CONTEND_OK || seen++ % stride != 0)
                continue;
            s[ns++] = (struct contend_growth_sample){
                .size = r->t_invoke,
                .cost_ns = r->t_complete > r->t_invoke ? r->t_complete - r->t_invoke : 0,
            };
        }
    }
    qsort(s, ns, sizeof s[0], cmp_sample);

    struct cursor *hp = contend_calloc(nwriters ? nwriters : 1, sizeof *hp);
    for (uint32_t w = 0; w < nwriters; w++) {
        hp[w] = (struct cursor){.w = w};
        cursor_next(h, &hp[w]);
    }
    for (size_t i = nwriters / 2 + 1; i-- > 0;)
        heap_down(hp, nwriters, i);
    uint64_t done = 0;
    for (size_t i = 0; i < ns; i++) {
        uint64_t t = s[i].size;
        while (nwriters && hp[0].key <= t) {
            done++;
            hp[0].idx++;
            cursor_next(h, &hp[0]);
            heap_down(hp, nwriters, 0);
        }
        s[i].size = done;
    }
    free(hp);
    contend_growth_fit(s, ns, out);
    free(s);
}
