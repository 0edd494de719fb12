/*
 * context.c - the ops around a violation, for the report's timeline.
 *
 * A checker names a few witnesses (two increments that wrote the same value,
 * the op a worker died in).  A reader understands them only next to what the
 * other workers did at the same time, and run.json is all a report may read,
 * so the runner copies that neighbourhood out of the histories while they are
 * still mapped: in every lane (writer) that holds a witness, the ops a few
 * indices either side of it; in up to CONTEND_CONTEXT_LANES lanes in all, the
 * ops that overlap the witnesses' time span (padded by its own length, at
 * least 50 µs), at most CONTEND_CONTEXT_PER_LANE per lane nearest its middle.
 *
 * Records of one writer are in invocation order, and on one machine's
 * monotonic clock their times ascend, so a binary search finds the span.
 * Under a faked clock they may not; then the neighbourhood is merely less
 * apt, never out of bounds.
 */
#include "context.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define AROUND_WITNESS 3
#define MIN_PAD_NS 50000ull

struct span {
    uint64_t lo, hi;
};

/* First record with t_invoke >= t. */
static uint64_t lower_bound(const struct contend_writer_hist *w, uint64_t t)
{
    uint64_t a = 0, b = w->n;
    while (a < b) {
        uint64_t m = a + (b - a) / 2;
        if (w->rec[m].t_invoke < t)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

static void add_op(struct contend_violation *v, size_t *cap, const struct contend_writer_hist *w,
                   uint64_t idx)
{
    if (v->ncontext == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        v->context = contend_realloc(v->context, *cap * sizeof v->context[0]);
    }
    v->context[v->ncontext++] = contend_witness_of(w, idx);
}

/* The ops of one lane: around its witnesses, or overlapping the span. */
static void lane(struct contend_violation *v, size_t *cap, const struct contend_writer_hist *w,
                 struct span s)
{
    uint64_t from = UINT64_MAX, to = 0;
    bool has_witness = false;

    for (unsigned i = 0; i < v->nwitness; i++) {
        if (v->witness[i].writer != w->writer || v->witness[i].index >= w->n)
            continue;
        uint64_t x = v->witness[i].index;
        has_witness = true;
        if (x < from)
            from = x;
        if (x + 1 > to)
            to = x + 1;
    }
    if (has_witness) {
        from = from > AROUND_WITNESS ? from - AROUND_WITNESS : 0;
        to = to + AROUND_WITNESS < w->n ? to + AROUND_WITNESS : w->n;
        bool *mark = contend_calloc(to - from, sizeof *mark);
        for (unsigned i = 0; i < v->nwitness; i++) {
            if (v->witness[i].writer != w->writer || v->witness[i].index >= w->n)
                continue;
            uint64_t x = v->witness[i].index;
            uint64_t a = x > from + AROUND_WITNESS ? x - AROUND_WITNESS : from;
            uint64_t b = x + AROUND_WITNESS + 1 < to ? x + AROUND_WITNESS + 1 : to;
            for (uint64_t j = a; j < b; j++)
                mark[j - from] = true;
        }
        for (uint64_t j = from; j < to; j++)
            if (mark[j - from])
                add_op(v, cap, w, j);
        free(mark);
        return;
    }
    /* No witness here: what this writer did during the span. */
    uint64_t a = lower_bound(w, s.lo);
    if (a > 0 && (w->rec[a - 1].t_complete == 0 || w->rec[a - 1].t_complete >= s.lo))
        a--; /* began before the span and still ran in it */
    uint64_t b = lower_bound(w, s.hi + 1);
    if (b <= a)
        return;
    if (b - a > CONTEND_CONTEXT_PER_LANE) {
        uint64_t mid = lower_bound(w, s.lo + (s.hi - s.lo) / 2);
        uint64_t half = CONTEND_CONTEXT_PER_LANE / 2;
        a = mid > a + half ? mid - half : a;
        if (b > a + CONTEND_CONTEXT_PER_LANE)
            b = a + CONTEND_CONTEXT_PER_LANE;
    }
    for (uint64_t j = a; j < b; j++)
        add_op(v, cap, w, j);
}

static void one(struct contend_violation *v, const struct contend_writer_hist *w, size_t nw)
{
    struct span s = {UINT64_MAX, 0};
    for (unsigned i = 0; i < v->nwitness; i++) {
        const struct contend_record *r = &v->witness[i].rec;
        uint64_t end = r->t_complete > r->t_invoke ? r->t_complete : r->t_invoke;
        if (r->t_invoke < s.lo)
            s.lo = r->t_invoke;
        if (end > s.hi)
            s.hi = end;
    }
    uint64_t pad = s.hi - s.lo > MIN_PAD_NS ? s.hi - s.lo : MIN_PAD_NS;
    s.lo = s.lo > pad ? s.lo - pad : 0;
    s.hi += pad;

    /* Lanes with witnesses first, then the others, in writer order. */
    bool *chosen = contend_calloc(nw ? nw : 1, sizeof *chosen);
    size_t lanes = 0, cap = 0;
    for (size_t i = 0; i < nw; i++)
        for (unsigned k = 0; k < v->nwitness && !chosen[i]; k++)
            if (v->witness[k].writer == w[i].writer && lanes < CONTEND_CONTEXT_LANES) {
                chosen[i] = true;
                lanes++;
            }
    for (size_t i = 0; i < nw && lanes < CONTEND_CONTEXT_LANES; i++)
        if (!chosen[i]) {
            chosen[i] = true;
            lanes++;
        }
    for (size_t i = 0; i < nw; i++)
        if (chosen[i])
            lane(v, &cap, &w[i], s);
    free(chosen);
}

void contend_context_collect(struct contend_rep *rep, const struct contend_writer_hist *w,
                             size_t nw)
{
    for (size_t i = 0; i < rep->nv; i++)
        if (rep->v[i].nwitness && !rep->v[i].context)
            one(&rep->v[i], w, nw);
}
