/*
 * counter.c - the counter workload: increments and reads of a few counters.
 *
 * The checker uses Jepsen's counter rule.  For each key, let A be the number
 * of increments the target acknowledged and I the number whose outcome is
 * unknown (indeterminate, or in flight when a worker died).  Increments that
 * failed certainly did not happen.  The final value V must satisfy
 * A <= V <= A + I.  Below: acknowledged increments were lost (lost-update,
 * count A - V).  Above: increments appeared that nobody made (phantom-update).
 *
 * A count alone does not convince anyone, so the checker also names a pair of
 * increments that shows the race.  Targets return the value they wrote: two
 * acknowledged increments that both wrote the same value both read the same
 * old value, which is the lost update itself.  Without values it names two
 * acknowledged increments of different writers that overlapped in time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "workload.h"

enum { OPT_READ_PCT = 0 };

static const struct contend_option counter_options[] = {
    {"read_pct", "0", NULL, "percentage of ops that read the counter instead of incrementing it",
     CONTEND_OPT_INT, 0, 100},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind counter_kinds[] = {
    {"lost-update", "final value below the number of acknowledged increments"},
    {"phantom-update", "final value above the increments that may have happened"},
    {"non-monotonic-read", "a worker read a smaller value than it had seen before"},
    {NULL, NULL},
};

static void counter_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                        struct contend_op *op)
{
    (void)seq;
    bool read =
        g->opt[OPT_READ_PCT] > 0 && contend_rng_below(rng, 100) < (uint64_t)g->opt[OPT_READ_PCT];
    op->kind = read ? CONTEND_OP_READ : CONTEND_OP_INCR;
    op->key = g->keys > 1 ? contend_rng_below(rng, g->keys) : 0;
}

struct key_count {
    uint64_t acked, unknown;
};

/* An acknowledged increment, for finding witnesses. */
struct incr {
    uint32_t w; /* index into chk->w */
    uint64_t idx;
};

static const struct contend_record *rec_of(const struct contend_check *chk, const struct incr *x)
{
    return &chk->w[x->w].rec[x->idx];
}

static const struct contend_check *sort_chk;

static int cmp_by_value(const void *a, const void *b)
{
    int64_t x = rec_of(sort_chk, a)->value, y = rec_of(sort_chk, b)->value;
    return (x > y) - (x < y);
}

static int cmp_by_invoke(const void *a, const void *b)
{
    uint64_t x = rec_of(sort_chk, a)->t_invoke, y = rec_of(sort_chk, b)->t_invoke;
    return (x > y) - (x < y);
}

/* Two acknowledged increments of `key` that show the race; returns how many
 * witnesses it wrote (0 or 2) and whether they wrote the same value. */
static unsigned find_witness(const struct contend_check *chk, uint64_t key,
                             struct contend_witness out[2], bool *same_value)
{
    struct incr *v = NULL;
    size_t n = 0, cap = 0;
    unsigned found = 0;

    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_INCR || r->status != CONTEND_OK || r->key != key)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                v = contend_realloc(v, cap * sizeof v[0]);
            }
            v[n++] = (struct incr){.w = (uint32_t)w, .idx = i};
        }
    }
    if (n < 2) {
        free(v);
        return 0;
    }
    sort_chk = chk;
    qsort(v, n, sizeof v[0], cmp_by_value);
    for (size_t i = 1; i < n && !found; i++) {
        const struct contend_record *a = rec_of(chk, &v[i - 1]), *b = rec_of(chk, &v[i]);
        if (a->value >= 0 && a->value == b->value) {
            out[0] = contend_witness_of(&chk->w[v[i - 1].w], v[i - 1].idx);
            out[1] = contend_witness_of(&chk->w[v[i].w], v[i].idx);
            *same_value = true;
            found = 2;
        }
    }
    if (!found) {
        /* Sweep by invocation time for two writers whose ops overlapped. */
        qsort(v, n, sizeof v[0], cmp_by_invoke);
        size_t open = 0; /* the op with the latest completion so far */
        for (size_t i = 1; i < n && !found; i++) {
            const struct contend_record *a = rec_of(chk, &v[open]), *b = rec_of(chk, &v[i]);
            if (v[open].w != v[i].w && b->t_invoke < a->t_complete) {
                out[0] = contend_witness_of(&chk->w[v[open].w], v[open].idx);
                out[1] = contend_witness_of(&chk->w[v[i].w], v[i].idx);
                *same_value = false;
                found = 2;
            }
            if (b->t_complete > a->t_complete)
                open = i;
        }
    }
    free(v);
    return found;
}

static void report_lost(struct contend_check *chk, const struct key_count *kc, uint64_t nkeys,
                        uint64_t worst, uint64_t total, uint64_t bad_keys)
{
    struct contend_witness w[2];
    bool same = false;
    char a[256], b[256], keys[96] = "";
    int64_t v = contend_state_get(chk, worst, 0);
    unsigned nw = find_witness(chk, worst, w, &same);

    if (bad_keys > 1)
        snprintf(keys, sizeof keys, " (%llu of %llu keys lost updates; the worst is shown)",
                 (unsigned long long)bad_keys, (unsigned long long)nkeys);
    char *why = NULL;
    if (nw && same)
        why = contend_asprintf(" %s and %s both wrote %lld: both read %lld, so one increment "
                               "overwrote the other.",
                               contend_witness_str(&w[0], chk->t0, a, sizeof a),
                               contend_witness_str(&w[1], chk->t0, b, sizeof b),
                               (long long)w[0].rec.value, (long long)w[0].rec.value - 1);
    else if (nw)
        why = contend_asprintf(" %s and %s overlapped in time, so both could read the same "
                               "value.",
                               contend_witness_str(&w[0], chk->t0, a, sizeof a),
                               contend_witness_str(&w[1], chk->t0, b, sizeof b));
    contend_check_report(chk, "lost-update", total, w, nw,
                         "key k%llu ended at %lld but %llu increments were acknowledged "
                         "(%llu indeterminate): %llu updates lost%s.%s",
                         (unsigned long long)worst, (long long)v,
                         (unsigned long long)kc[worst].acked, (unsigned long long)kc[worst].unknown,
                         (unsigned long long)(kc[worst].acked - (uint64_t)(v < 0 ? 0 : v)), keys,
                         why ? why : "");
    free(why);
}

static void check_totals(struct contend_check *chk, const struct key_count *kc, uint64_t nkeys)
{
    uint64_t lost = 0, lost_keys = 0, worst_lost = 0, worst = 0;
    uint64_t phantom = 0, phantom_keys = 0, pkey = 0;

    for (uint64_t k = 0; k < nkeys; k++) {
        int64_t v = contend_state_get(chk, k, 0);
        uint64_t uv = v < 0 ? 0 : (uint64_t)v;
        if (uv < kc[k].acked) {
            uint64_t d = kc[k].acked - uv;
            lost += d;
            lost_keys++;
            if (d > worst_lost) {
                worst_lost = d;
                worst = k;
            }
        } else if (uv > kc[k].acked + kc[k].unknown) {
            if (phantom_keys++ == 0)
                pkey = k;
            phantom += uv - kc[k].acked - kc[k].unknown;
        }
    }
    if (lost)
        report_lost(chk, kc, nkeys, worst, lost, lost_keys);
    if (phantom)
        contend_check_report(chk, "phantom-update", phantom, NULL, 0,
                             "key k%llu ended at %lld but at most %llu increments can have "
                             "happened (%llu acknowledged + %llu indeterminate)%s",
                             (unsigned long long)pkey, (long long)contend_state_get(chk, pkey, 0),
                             (unsigned long long)(kc[pkey].acked + kc[pkey].unknown),
                             (unsigned long long)kc[pkey].acked,
                             (unsigned long long)kc[pkey].unknown,
                             phantom_keys > 1 ? "; other keys too" : "");
}

/* Per writer, per key: values read (or written by its own increments) never
 * go backwards.  Only for variants that promise it. */
static void check_monotonic(struct contend_check *chk, uint64_t nkeys)
{
    int64_t *seen = contend_calloc(nkeys, sizeof *seen);
    uint64_t *seen_idx = contend_calloc(nkeys, sizeof *seen_idx);
    uint64_t bad = 0;
    struct contend_witness w[2];

    for (size_t i = 0; i < chk->nw; i++) {
        for (uint64_t k = 0; k < nkeys; k++)
            seen[k] = -1;
        for (uint64_t j = 0; j < chk->w[i].n; j++) {
            const struct contend_record *r = &chk->w[i].rec[j];
            if (r->status != CONTEND_OK || r->value < 0 || r->key >= nkeys ||
                (r->kind != CONTEND_OP_READ && r->kind != CONTEND_OP_INCR))
                continue;
            if (r->value < seen[r->key]) {
                if (bad++ == 0) {
                    w[0] = contend_witness_of(&chk->w[i], seen_idx[r->key]);
                    w[1] = contend_witness_of(&chk->w[i], j);
                }
            }
            seen[r->key] = r->value;
            seen_idx[r->key] = j;
        }
    }
    if (bad) {
        char a[256], b[256];
        contend_check_report(
            chk, "non-monotonic-read", bad, w, 2, "%llu reads went backwards; first: %s, then %s",
            (unsigned long long)bad, contend_witness_str(&w[0], chk->t0, a, sizeof a),
            contend_witness_str(&w[1], chk->t0, b, sizeof b));
    }
    free(seen);
    free(seen_idx);
}

#define MAX_CHECKED_KEYS (1u << 22)

static int counter_check(struct contend_check *chk)
{
    uint64_t nkeys = chk->c->keys;
    if (nkeys > MAX_CHECKED_KEYS)
        nkeys = MAX_CHECKED_KEYS;
    struct key_count *kc = contend_calloc(nkeys, sizeof *kc);

    for (size_t i = 0; i < chk->nw; i++) {
        for (uint64_t j = 0; j < chk->w[i].n; j++) {
            const struct contend_record *r = &chk->w[i].rec[j];
            if (r->kind != CONTEND_OP_INCR || r->key >= nkeys)
                continue;
            if (r->status == CONTEND_OK)
                kc[r->key].acked++;
            else if (r->status != CONTEND_FAIL)
                kc[r->key].unknown++;
        }
    }
    if (chk->has_state)
        check_totals(chk, kc, nkeys);
    if (chk->c->tg->variants[chk->c->variant_index].flags & CONTEND_VARIANT_MONOTONIC)
        check_monotonic(chk, nkeys);
    free(kc);
    return 0;
}

const struct contend_workload contend_workload_counter = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "counter",
    .help = "increment and read counters; no lost update, no phantom",
    .options = counter_options,
    .kinds = counter_kinds,
    .gen = counter_gen,
    .check = counter_check,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_counter)
