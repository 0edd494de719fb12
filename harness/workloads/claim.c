/*
 * claim.c - the claim workload: insert-if-absent, the seen-store pattern.
 *
 * A "seen store" decides which of several consumers handles an item: each
 * calls claim(id), and exactly one may be told it won (then it sends the
 * alert, charges the card, processes the job).  Done right it is one atomic
 * insert-if-absent whose own result says whether it inserted (SQLite:
 * INSERT OR IGNORE, then changes()).  Done wrong it is is_seen() followed by
 * mark_seen(): two consumers both see "absent" and both win.
 *
 * Ops: claim(key) with op->id as the claimant; value = 1 won, 0 lost (the id
 * was taken).  Writers walk the ids in order, each op taking id
 * (seq + jitter) mod keys with a jitter below `window`, so that all writers
 * race for every fresh id, as consumers of one feed do.
 *
 * Final state, through the target's sink: one pair per claimed id, key = the
 * id, value = the op id (op->id) of the claim the store recorded as owner.
 *
 * The checker, per id.  Acknowledged winners W, acknowledged losers L,
 * indeterminate claims I (failed claims certainly did nothing):
 *   W >= 2                          double-claim: two callers were both told
 *                                   they won (the duplicate alert).
 *   W == 1, the store has no owner  lost-claim: an acknowledged claim is not
 *     or another owner              in the store (overwritten, rolled back),
 *                                   so the id will be won again.
 *   W == 0, I == 0, and L > 0 or    lost-claim: the id is taken but nobody was
 *     the store has an owner        told they won it; nobody handles the item.
 * Indeterminate claims may have won, so they excuse an id without a winner.
 * The store is consulted only when the target has state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "workload.h"

enum { OPT_WINDOW = 0, OPT_IDS };

/* The id range is its own key: `keys` defaults to 1, and a claim run over
 * one id claims it once and then learns nothing.  A case that sets `keys`
 * (and not `ids`) keeps its range. */
#define CLAIM_IDS_DEFAULT 100

static const struct contend_option claim_options[] = {
    {"window", "4", NULL, "writers claim ids in order with a random jitter below this",
     CONTEND_OPT_INT, 0, 1e9},
    [OPT_IDS] = {"ids", "0", NULL,
                 "ids to claim, 0..ids-1 (0: `keys` when the case sets it above 1, else 100)",
                 CONTEND_OPT_INT, 0, 1e12},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind claim_kinds[] = {
    {"double-claim", "two acknowledged claims of one id were both told they won"},
    {"lost-claim", "an id is taken but no acknowledged claim owns it in the store"},
    {NULL, NULL},
};

static void claim_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                      struct contend_op *op)
{
    uint64_t window = g->opt[OPT_WINDOW] > 1 ? (uint64_t)g->opt[OPT_WINDOW] : 1;
    op->kind = CONTEND_OP_CLAIM;
    uint64_t ids = g->opt[OPT_IDS] > 0 ? (uint64_t)g->opt[OPT_IDS]
                   : g->keys > 1       ? g->keys
                                       : CLAIM_IDS_DEFAULT;
    op->key = (seq + contend_rng_below(rng, window)) % ids;
}

/* One claim in the history. */
struct ref {
    uint64_t key;
    uint32_t w;
    uint64_t idx;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    if (x->w != y->w)
        return (x->w > y->w) - (x->w < y->w);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* What happened to one id. */
struct verdict {
    uint64_t key;
    uint32_t winners, losers, unknown;
    struct ref win[2], lose;
    bool owned;    /* the store records an owner */
    int64_t owner; /* its op id */
};

struct findings {
    uint64_t dbl_ids, dbl_extra, lost_ids;
    bool have_dbl, have_lost;
    struct verdict dbl, lost;
};

static uint64_t op_id_of(const struct ref *r)
{
    return contend_op_id(r->w, r->idx);
}

/* The owner recorded in the store as a witness, when it is an op of this run. */
static bool owner_witness(const struct contend_check *chk, int64_t owner,
                          struct contend_witness *out)
{
    uint64_t w = (uint64_t)owner >> 32, idx = (uint64_t)owner & 0xffffffffull;
    if (owner < 0 || w >= chk->nw || idx >= chk->w[w].n)
        return false;
    *out = contend_witness_of(&chk->w[w], idx);
    return true;
}

static void judge_id(const struct verdict *v, bool has_state, struct findings *f)
{
    bool lost = false;
    if (v->winners >= 2) {
        if (f->dbl_ids++ == 0) {
            f->dbl = *v;
            f->have_dbl = true;
        }
        f->dbl_extra += v->winners - 1;
        return;
    }
    if (v->winners == 1)
        lost = has_state && (!v->owned || (uint64_t)v->owner != op_id_of(&v->win[0]));
    else
        lost = v->unknown == 0 && (v->losers > 0 || v->owned);
    if (lost && f->lost_ids++ == 0) {
        f->lost = *v;
        f->have_lost = true;
    }
}

static void report_double(struct contend_check *chk, const struct findings *f)
{
    struct contend_witness w[2];
    char a[256], b[256];
    const struct verdict *v = &f->dbl;
    w[0] = contend_witness_of(&chk->w[v->win[0].w], v->win[0].idx);
    w[1] = contend_witness_of(&chk->w[v->win[1].w], v->win[1].idx);
    contend_check_report(chk, "double-claim", f->dbl_extra, w, 2,
                         "%llu id(s) were won by more than one acknowledged claim (%llu extra "
                         "winners); id k%llu was won %u times: %s and %s were both told they "
                         "won it",
                         (unsigned long long)f->dbl_ids, (unsigned long long)f->dbl_extra,
                         (unsigned long long)v->key, v->winners,
                         contend_witness_str(&w[0], chk->t0, a, sizeof a),
                         contend_witness_str(&w[1], chk->t0, b, sizeof b));
}

static void report_lost(struct contend_check *chk, const struct findings *f)
{
    struct contend_witness w[2];
    unsigned nw = 0;
    char a[256], b[256];
    char *why;
    const struct verdict *v = &f->lost;
    bool have_owner = v->owned && owner_witness(chk, v->owner, &w[1]);

    if (v->winners == 1) {
        w[nw++] = contend_witness_of(&chk->w[v->win[0].w], v->win[0].idx);
        contend_witness_str(&w[0], chk->t0, a, sizeof a);
        if (!v->owned)
            why = contend_asprintf("%s was told it won, but the store does not have the id: "
                                   "the claim was lost and the id can be won again",
                                   a);
        else if (have_owner)
            why = contend_asprintf("%s was told it won, but the store records %s as its "
                                   "owner",
                                   a, contend_witness_str(&w[nw++], chk->t0, b, sizeof b));
        else
            why = contend_asprintf("%s was told it won, but the store records op id %lld, "
                                   "which never claimed it",
                                   a, (long long)v->owner);
    } else if (have_owner) {
        w[nw++] = w[1];
        why = contend_asprintf("the store records %s as its owner, but that op was told %s and "
                               "no claim was told it won",
                               contend_witness_str(&w[0], chk->t0, a, sizeof a),
                               w[0].rec.status == CONTEND_OK ? "it lost" : "it failed");
    } else if (v->losers == 0) {
        why = contend_asprintf("the store records op id %lld as its owner, which never "
                               "claimed it",
                               (long long)v->owner);
    } else {
        w[nw++] = contend_witness_of(&chk->w[v->lose.w], v->lose.idx);
        why = contend_asprintf("%u claim(s) were told it was taken (the first %s), but no "
                               "claim was told it won",
                               v->losers, contend_witness_str(&w[0], chk->t0, a, sizeof a));
    }
    contend_check_report(chk, "lost-claim", f->lost_ids, w, nw,
                         "%llu id(s) are taken without exactly one acknowledged winner in the "
                         "store; id k%llu: %s",
                         (unsigned long long)f->lost_ids, (unsigned long long)v->key, why);
    free(why);
}

/* Ids the store has that no op claimed: taken, and nobody was told. */
static void check_unclaimed(const struct contend_check *chk, const struct ref *refs, size_t n,
                            struct findings *f)
{
    for (size_t i = 0; i < chk->nstate; i++) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (refs[mid].key < chk->state[i].key)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && refs[lo].key == chk->state[i].key)
            continue;
        struct verdict v = {.key = chk->state[i].key, .owned = true, .owner = chk->state[i].value};
        judge_id(&v, true, f);
    }
}

static int claim_check(struct contend_check *chk)
{
    struct ref *refs = NULL;
    size_t n = 0, cap = 0;
    struct findings f;

    memset(&f, 0, sizeof f);
    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            if (chk->w[w].rec[i].kind != CONTEND_OP_CLAIM)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                refs = contend_realloc(refs, cap * sizeof refs[0]);
            }
            refs[n++] = (struct ref){.key = chk->w[w].rec[i].key, .w = (uint32_t)w, .idx = i};
        }
    }
    if (n > 1)
        qsort(refs, n, sizeof refs[0], cmp_ref);
    for (size_t i = 0; i < n;) {
        struct verdict v = {.key = refs[i].key};
        size_t j = i;
        for (; j < n && refs[j].key == v.key; j++) {
            const struct contend_record *r = &chk->w[refs[j].w].rec[refs[j].idx];
            if (r->status == CONTEND_OK && r->value) {
                if (v.winners < 2)
                    v.win[v.winners] = refs[j];
                v.winners++;
            } else if (r->status == CONTEND_OK) {
                if (v.losers++ == 0)
                    v.lose = refs[j];
            } else if (r->status != CONTEND_FAIL) {
                v.unknown++;
            }
        }
        if (chk->has_state) {
            /* INT64_MIN never is an op id: "not in the store". */
            v.owner = contend_state_get(chk, v.key, INT64_MIN);
            v.owned = v.owner != INT64_MIN;
        }
        judge_id(&v, chk->has_state, &f);
        i = j;
    }
    if (chk->has_state)
        check_unclaimed(chk, refs, n, &f);
    if (f.have_dbl)
        report_double(chk, &f);
    if (f.have_lost)
        report_lost(chk, &f);
    free(refs);
    return 0;
}

const struct contend_workload contend_workload_claim = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "claim",
    .help = "insert-if-absent of ids (the seen-store pattern); each id won exactly once",
    .options = claim_options,
    .kinds = claim_kinds,
    .gen = claim_gen,
    .check = claim_check,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_claim)
