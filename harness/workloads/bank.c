/*
 * bank.c - the bank workload: transfers between accounts, and reads of all
 * of them at once.
 *
 * There are `keys` accounts, numbered 0 .. keys-1, and setup() gives each
 * CONTEND_BANK_INITIAL (target.h), so the total is keys * CONTEND_BANK_INITIAL
 * and no transfer can change it: money only moves.  Ops:
 *
 *   transfer(key -> key2, arg)  move arg (1 .. max_amount) from account key
 *                               to account key2; value = 1 when it moved,
 *                               0 when the target declined because the
 *                               source held less than arg.
 *   read-all                    read every balance in one consistent read;
 *                               value = their sum, value2 = (uint64_t) the
 *                               smallest balance seen.
 *
 * Final state, as the target reports it through its sink: one pair per
 * account, key = account number, value = balance.
 *
 * The checker.  A transfer is conservation-neutral whether it happened or
 * not, so indeterminate ops do not widen anything: every acknowledged
 * read-all must see exactly the total, and so must the final state; else
 * `wrong-total` (a lost update created or destroyed money).  A store that
 * rewrites a whole consistent snapshot per op (a JSON document) loses whole
 * transfers instead, which keeps the total; so each account's final balance
 * is also reconciled with the transfers: CONTEND_BANK_INITIAL plus the
 * acknowledged credits minus the acknowledged debits, widened by the amounts
 * of indeterminate transfers; outside that range is `wrong-balance`.  Targets that
 * promise never to overdraw (CONTEND_TARGET_NO_OVERDRAFT) must never show a
 * negative balance, in any read or at the end; else `negative-balance`
 * (two transfers both checked the balance before either wrote it).  The
 * explanation names the first read that saw the problem and two transfers
 * of different writers that overlapped in time on a common account: the
 * race that did it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "workload.h"

enum { OPT_READ_PCT = 0, OPT_MAX_AMOUNT = 1 };

static const struct contend_option bank_options[] = {
    {"read_pct", "10", NULL, "percentage of ops that read all balances instead of transferring",
     CONTEND_OPT_INT, 0, 100},
    {"max_amount", "50", NULL, "a transfer moves 1 .. max_amount", CONTEND_OPT_INT, 1, 1e9},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind bank_kinds[] = {
    {"wrong-total", "a read or the final state does not sum to the money deposited"},
    {"wrong-balance", "an account's final balance is not what the acknowledged transfers make it"},
    {"negative-balance", "a balance below zero on a target that declines overdrafts"},
    {NULL, NULL},
};

static void bank_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                     struct contend_op *op)
{
    (void)seq;
    if (g->opt[OPT_READ_PCT] > 0 && contend_rng_below(rng, 100) < (uint64_t)g->opt[OPT_READ_PCT]) {
        op->kind = CONTEND_OP_READ_ALL;
        return;
    }
    uint64_t max = g->opt[OPT_MAX_AMOUNT] > 0 ? (uint64_t)g->opt[OPT_MAX_AMOUNT] : 1;
    op->kind = CONTEND_OP_TRANSFER;
    op->key = g->keys > 1 ? contend_rng_below(rng, g->keys) : 0;
    /* A different account, uniformly; with one account a transfer to itself. */
    op->key2 = g->keys > 1 ? (op->key + 1 + contend_rng_below(rng, g->keys - 1)) % g->keys : 0;
    op->arg = (int64_t)(1 + contend_rng_below(rng, max));
}

/* An applied transfer, for finding the race. */
struct xfer {
    uint32_t w;
    uint64_t idx;
};

static const struct contend_check *sort_chk;

static const struct contend_record *rec_of(const struct contend_check *chk, const struct xfer *x)
{
    return &chk->w[x->w].rec[x->idx];
}

static int cmp_invoke(const void *a, const void *b)
{
    uint64_t x = rec_of(sort_chk, a)->t_invoke, y = rec_of(sort_chk, b)->t_invoke;
    return (x > y) - (x < y);
}

/* Which pairs of transfers show a race. */
struct race_filter {
    uint64_t account; /* UINT64_MAX: any account the two share */
    bool debit_only;  /* both debited it */
};

static bool touches(const struct contend_record *r, uint64_t k, bool debit_only)
{
    return r->key == k || (!debit_only && r->key2 == k);
}

static bool shares_account(const struct contend_record *a, const struct contend_record *b,
                           struct race_filter f)
{
    if (f.account != UINT64_MAX)
        return touches(a, f.account, f.debit_only) && touches(b, f.account, f.debit_only);
    if (f.debit_only)
        return a->key == b->key;
    return a->key == b->key || a->key == b->key2 || a->key2 == b->key || a->key2 == b->key2;
}

/* Two applied transfers of different writers that overlapped in time and
 * touched a common account, as the filter says.  Returns 2 with out[]
 * filled, or 0. */
static unsigned find_race(const struct contend_check *chk, struct race_filter debited,
                          struct contend_witness out[2])
{
    struct xfer *v = NULL;
    size_t n = 0, cap = 0;
    unsigned found = 0;

    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_TRANSFER || r->status != CONTEND_OK || r->value == 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                v = contend_realloc(v, cap * sizeof v[0]);
            }
            v[n++] = (struct xfer){.w = (uint32_t)w, .idx = i};
        }
    }
    sort_chk = chk;
    if (n > 1)
        qsort(v, n, sizeof v[0], cmp_invoke);
    /* Ops that overlap op i begin before it completes; look a bounded way
     * ahead so that a long history stays linear. */
    for (size_t i = 0; i < n && !found; i++) {
        const struct contend_record *a = rec_of(chk, &v[i]);
        for (size_t j = i + 1; j < n && j < i + 256 && !found; j++) {
            const struct contend_record *b = rec_of(chk, &v[j]);
            if (b->t_invoke >= a->t_complete)
                break;
            if (v[i].w != v[j].w && shares_account(a, b, debited)) {
                out[0] = contend_witness_of(&chk->w[v[i].w], v[i].idx);
                out[1] = contend_witness_of(&chk->w[v[j].w], v[j].idx);
                found = 2;
            }
        }
    }
    free(v);
    return found;
}

struct reads {
    uint64_t n, wrong, negative;
    bool have_wrong, have_neg;
    struct contend_witness first_wrong, first_neg;
};

static void scan_reads(const struct contend_check *chk, int64_t total, struct reads *rd)
{
    memset(rd, 0, sizeof *rd);
    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_READ_ALL || r->status != CONTEND_OK)
                continue;
            rd->n++;
            if (r->value != total && rd->wrong++ == 0) {
                rd->first_wrong = contend_witness_of(&chk->w[w], i);
                rd->have_wrong = true;
            }
            if ((int64_t)r->value2 < 0 && rd->negative++ == 0) {
                rd->first_neg = contend_witness_of(&chk->w[w], i);
                rd->have_neg = true;
            }
        }
    }
}

static void report_wrong_total(struct contend_check *chk, int64_t total, const struct reads *rd,
                               bool final_bad, int64_t sum)
{
    struct contend_witness wit[3];
    unsigned nw = 0;
    char a[256], b[256], c[256];
    char *fin = NULL, *rds = NULL, *why = NULL;

    if (final_bad)
        fin = contend_asprintf("; the final balances total %lld (%lld %s)", (long long)sum,
                               (long long)(sum > total ? sum - total : total - sum),
                               sum > total ? "created" : "destroyed");
    if (rd->wrong) {
        wit[nw++] = rd->first_wrong;
        rds = contend_asprintf("; %llu of %llu read-alls saw a wrong total, the first %s",
                               (unsigned long long)rd->wrong, (unsigned long long)rd->n,
                               contend_witness_str(&rd->first_wrong, chk->t0, a, sizeof a));
    }
    if (find_race(chk, (struct race_filter){UINT64_MAX, false}, &wit[nw]) == 2) {
        why = contend_asprintf(". %s and %s overlapped in time on a common account, so one "
                               "could write a balance computed before the other's write",
                               contend_witness_str(&wit[nw], chk->t0, b, sizeof b),
                               contend_witness_str(&wit[nw + 1], chk->t0, c, sizeof c));
        nw += 2;
    }
    contend_check_report(chk, "wrong-total", rd->wrong + (final_bad ? 1 : 0), wit, nw,
                         "%llu accounts must always total %lld%s%s%s",
                         (unsigned long long)chk->c->keys, (long long)total, fin ? fin : "",
                         rds ? rds : "", why ? why : "");
    free(fin);
    free(rds);
    free(why);
}

static void report_negative(struct contend_check *chk, const struct reads *rd,
                            uint64_t neg_accounts, uint64_t first_key, int64_t first_value)
{
    struct contend_witness wit[3];
    unsigned nw = 0;
    char a[256], b[256], c[256];
    char *fin = NULL, *rds = NULL, *why = NULL;
    uint64_t debited = UINT64_MAX;

    if (neg_accounts) {
        fin = contend_asprintf("; %llu account(s) ended below zero, k%llu at %lld",
                               (unsigned long long)neg_accounts, (unsigned long long)first_key,
                               (long long)first_value);
        debited = first_key;
    }
    if (rd->negative) {
        wit[nw++] = rd->first_neg;
        rds = contend_asprintf("; %llu read-alls saw a negative balance, the first %s",
                               (unsigned long long)rd->negative,
                               contend_witness_str(&rd->first_neg, chk->t0, a, sizeof a));
    }
    if (find_race(chk, (struct race_filter){debited, true}, &wit[nw]) == 2) {
        why = contend_asprintf(". %s and %s overlapped in time%s, so both could check the "
                               "balance before either debited it",
                               contend_witness_str(&wit[nw], chk->t0, b, sizeof b),
                               contend_witness_str(&wit[nw + 1], chk->t0, c, sizeof c),
                               " debiting the same account");
        nw += 2;
    }
    contend_check_report(chk, "negative-balance", rd->negative + neg_accounts, wit, nw,
                         "the target declines transfers that overdraw, yet balances went "
                         "below zero%s%s%s",
                         fin ? fin : "", rds ? rds : "", why ? why : "");
    free(fin);
    free(rds);
    free(why);
}

/* Per account: what the acknowledged transfers make its balance. */
struct ledger_row {
    int64_t base;    /* initial + acknowledged credits - acknowledged debits */
    int64_t may_in;  /* credits of indeterminate transfers */
    int64_t may_out; /* debits of indeterminate transfers */
};

static void check_balances(struct contend_check *chk)
{
    uint64_t nkeys = chk->c->keys, bad = 0, worst = 0;
    if (nkeys > (1u << 22))
        return; /* beyond what a checker should hold in memory */
    struct ledger_row *row = contend_calloc(nkeys, sizeof *row);

    for (uint64_t k = 0; k < nkeys; k++)
        row[k].base = CONTEND_BANK_INITIAL;
    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_TRANSFER || r->key >= nkeys || r->key2 >= nkeys ||
                r->key == r->key2 || r->status == CONTEND_FAIL)
                continue;
            if (r->status == CONTEND_OK && r->value) {
                row[r->key].base -= r->arg;
                row[r->key2].base += r->arg;
            } else if (r->status != CONTEND_OK) {
                row[r->key].may_out += r->arg;
                row[r->key2].may_in += r->arg;
            }
        }
    }
    for (uint64_t k = 0; k < nkeys; k++) {
        /* INT64_MIN: the account is gone, which no range allows. */
        int64_t v = contend_state_get(chk, k, INT64_MIN);
        bool off =
            v == INT64_MIN || v < row[k].base - row[k].may_out || v > row[k].base + row[k].may_in;
        if (off && bad++ == 0)
            worst = k; /* the first is shown */
    }
    if (bad) {
        struct contend_witness wit[2];
        char a[256], b[256], *why = NULL, *range;
        const struct ledger_row *x = &row[worst];
        int64_t v = contend_state_get(chk, worst, INT64_MIN);
        if (x->may_in || x->may_out)
            range = contend_asprintf("%lld..%lld", (long long)(x->base - x->may_out),
                                     (long long)(x->base + x->may_in));
        else
            range = contend_asprintf("%lld", (long long)x->base);
        unsigned nw = find_race(chk, (struct race_filter){worst, false}, wit);
        if (nw)
            why = contend_asprintf(". %s and %s overlapped in time on it, so one could "
                                   "overwrite the other's write",
                                   contend_witness_str(&wit[0], chk->t0, a, sizeof a),
                                   contend_witness_str(&wit[1], chk->t0, b, sizeof b));
        char *got = v == INT64_MIN ? contend_strdup("is missing")
                                   : contend_asprintf("ended at %lld", (long long)v);
        contend_check_report(chk, "wrong-balance", bad, wit, nw,
                             "%llu of %llu accounts do not match their acknowledged transfers; "
                             "account k%llu %s but its transfers make it %s%s",
                             (unsigned long long)bad, (unsigned long long)nkeys,
                             (unsigned long long)worst, got, range, why ? why : "");
        free(got);
        free(range);
        free(why);
    }
    free(row);
}

static int bank_check(struct contend_check *chk)
{
    const int64_t total = (int64_t)chk->c->keys * CONTEND_BANK_INITIAL;
    bool promises = chk->c->tg->flags & CONTEND_TARGET_NO_OVERDRAFT;
    struct reads rd;
    int64_t sum = 0, first_value = 0;
    uint64_t neg_accounts = 0, first_key = 0;
    bool final_bad = false;

    scan_reads(chk, total, &rd);
    if (chk->has_state) {
        for (size_t i = 0; i < chk->nstate; i++) {
            sum += chk->state[i].value;
            if (chk->state[i].value < 0 && neg_accounts++ == 0) {
                first_key = chk->state[i].key;
                first_value = chk->state[i].value;
            }
        }
        final_bad = sum != total;
    }
    if (rd.wrong || final_bad)
        report_wrong_total(chk, total, &rd, final_bad, sum);
    if (chk->has_state)
        check_balances(chk);
    if (promises && (rd.negative || neg_accounts))
        report_negative(chk, &rd, neg_accounts, first_key, first_value);
    return 0;
}

const struct contend_workload contend_workload_bank = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "bank",
    .help = "transfers between `keys` accounts and reads of all; the total is conserved",
    .options = bank_options,
    .kinds = bank_kinds,
    .gen = bank_gen,
    .check = bank_check,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_bank)
