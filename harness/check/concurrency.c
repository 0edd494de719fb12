/*
 * concurrency.c - how much concurrency a run saw.
 *
 * A clean run means something only if ops could have interfered.  The
 * measure is the share of ops whose interval [invocation, completion]
 * overlaps the interval of another op on the same key: two ops that never
 * overlapped cannot have raced, whatever the target does.  An op still in
 * flight at the end counts as open to the end.  Keys are the workload's
 * resource: the record's key (and key2 for a bank transfer, which touches
 * two accounts); every ledger append goes to one chain, so the ledger has
 * one resource.
 *
 * Floors (README "Controlled schedule"): counter, bank and ledger 0.05;
 * claim and cache 0.01 (many ids or keys, each touched by a few ops: a
 * correct run under the OS sees 2-5 % there); others 0.05.  Under the OS a
 * clean run below its floor is a note (below_floor), never a verdict: the
 * OS's interleaving, and so the overlap, depends on the machine's load, and
 * no verdict may (CI runs on loaded machines).  Under a controlled schedule
 * the overlap is a function of the seed; ops overlap rarely by design (PCT
 * runs threads one after another between its priority changes), so there
 * the run is inconclusive when it is under the floor *and* no hand-off
 * happened inside a critical window.
 * Not judged: targets without state, a single writer, cases with
 * `thinktime` (they pace their ops on purpose to study time).
 */
#include "concurrency.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct span {
    uint64_t key, t0, t1;
    size_t op;
};

static int by_key_start(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    return 0;
}

double contend_overlap_floor(const char *workload)
{
    static const struct {
        const char *name;
        double floor;
    } floors[] = {
        {"counter", 0.05}, {"bank", 0.05}, {"claim", 0.01}, {"ledger", 0.05}, {"cache", 0.01}};
    for (size_t i = 0; workload && i < sizeof floors / sizeof floors[0]; i++)
        if (strcmp(floors[i].name, workload) == 0)
            return floors[i].floor;
    return 0.05;
}

void contend_concurrency_measure(const struct contend_case *c, const struct contend_writer_hist *w,
                                 size_t nw, struct contend_rep *rep)
{
    const bool one_chain = c->workload && strcmp(c->workload, "ledger") == 0;
    const bool two_keys = c->workload && strcmp(c->workload, "bank") == 0;
    size_t nops = 0, n = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < nw; i++) {
        nops += w[i].n;
        for (uint64_t j = 0; j < w[i].n; j++)
            if (w[i].rec[j].t_complete > end)
                end = w[i].rec[j].t_complete;
    }
    struct contend_concurrency *cc = &rep->conc;
    cc->floor = contend_overlap_floor(c->workload);
    cc->valid = true;
    cc->ops = nops;
    if (nops == 0)
        return;
    struct span *s = contend_calloc(nops * 2, sizeof *s);
    bool *hit = contend_calloc(nops, sizeof *hit);
    size_t op = 0;
    for (size_t i = 0; i < nw; i++)
        for (uint64_t j = 0; j < w[i].n; j++, op++) {
            const struct contend_record *r = &w[i].rec[j];
            uint64_t t1 = r->t_complete ? r->t_complete : end + 1;
            s[n++] = (struct span){one_chain ? 0 : r->key, r->t_invoke, t1, op};
            if (two_keys && r->key2 != r->key)
                s[n++] = (struct span){r->key2, r->t_invoke, t1, op};
        }
    qsort(s, n, sizeof *s, by_key_start);
    /* Sweep each key in start order: an op that starts before the latest
     * end so far overlaps the op owning that end (and both count). */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t max_end = 0;
        size_t owner = 0;
        for (; j < n && s[j].key == s[i].key; j++) {
            if (j > i && s[j].t0 < max_end) {
                hit[s[j].op] = true;
                hit[owner] = true;
            }
            if (s[j].t1 > max_end) {
                max_end = s[j].t1;
                owner = s[j].op;
            }
        }
        i = j;
    }
    for (size_t i = 0; i < nops; i++)
        cc->overlapping += hit[i];
    cc->overlap = (double)cc->overlapping / (double)nops;
    free(s);
    free(hit);
}

void contend_judge_inconclusive(const struct contend_case *c, struct contend_rep *rep)
{
    const struct contend_concurrency *cc = &rep->conc;
    if (c->expect || rep->error || !rep->ok || rep->nv || !cc->valid)
        return;
    /* A target without state (null) has nothing to race on: it measures.
     * One writer cannot race, and a case that paces its ops (thinktime)
     * studies time (expiry, clock steps), not interleavings. */
    if ((c->tg->flags & CONTEND_TARGET_NO_STATE) || !c->tg->read_state)
        return;
    if ((uint64_t)c->procs * c->threads < 2 || c->thinktime_ns)
        return;
    if (cc->overlap >= cc->floor)
        return;
    if (rep->sched.mode && rep->sched.window_handoffs > 0)
        return;
    rep->conc.below_floor = true;
    /* Under the OS's schedule the overlap depends on the machine's load: a
     * verdict fitted on it would turn a clean run inconclusive on a busy CI
     * machine and pass it on an idle one.  So there it is a note in the
     * reports (below_floor), and only a controlled schedule, where the
     * overlap is a function of the seed, makes the run inconclusive. */
    if (!rep->sched.mode)
        return;
    free(rep->conc.inconclusive);
    rep->conc.inconclusive = contend_asprintf(
        "found nothing, but only %.1f%% of %llu ops overlapped another op on the same key "
        "(floor for %s: %.0f%%) and the schedule never switched threads inside a critical "
        "window",
        100 * cc->overlap, (unsigned long long)cc->ops, c->workload, 100 * cc->floor);
    /* One reason field for every cause of `inconclusive` (check.c sets it
     * for a run without evidence): reports and the verdict read only it. */
    if (!rep->inconclusive)
        rep->inconclusive = contend_strdup(rep->conc.inconclusive);
    rep->ok = false;
}
