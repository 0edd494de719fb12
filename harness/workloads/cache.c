/*
 * cache.c - the cache workload: get and put on a bounded cache with a TTL.
 *
 * Ops.  put(k, v) and get(k) over `keys` keys drawn from a Zipf
 * distribution (`zipf`, the skew; 0 is uniform), so that hot keys hit, cold
 * ones miss and the cache has to evict.  Every `sample_every`-th op of a
 * thread is a size sample instead: the target reports how many entries it
 * holds and the most it ever held (CONTEND_OP_SIZE).  Samples are ops in
 * the history like any other, so they survive a killed worker, carry the
 * time they were taken on the worker's clock, and need no side channel.
 *
 * Values.  A value is `value_size` bytes, in 64-bit words:
 *
 *   word 0         the key
 *   word 1         writer << 32 | the writer's op index: which put wrote it
 *   words 2..n-2   filler derived from word 1
 *   word n-1       a checksum of words 0..n-2
 *
 * The history keeps no payload, so complete() checks a get's value in the
 * worker, where the bytes are: op->value is 1 for a hit (0 for a miss), with
 * TORN_* flags above bit 8 when the checksum or the key does not match, and
 * op->value2 is word 1, naming the put the value claims to come from.
 *
 * The checker, from the history and the final state (target.h's
 * contend_cache_state_key):
 *
 *   over-capacity      a size sample, or the end state, shows more resident
 *                      entries than the capacity (now or as the most ever);
 *   torn-value         a get returned a value whose checksum or key is wrong:
 *                      half of one put and half of another;
 *   phantom-read       a get returned a well-formed value that no put wrote:
 *                      the put it names does not exist, failed, was for
 *                      another key, or began after the get ended;
 *   stale-read         a get returned the value of a put that completed more
 *                      than TTL + ttl_tolerance before the get began.  Both
 *                      times are on the workers' clock, the clock the target
 *                      measured the TTL on (faked under time control), so a
 *                      correct cache can never trip it: the target read its
 *                      clock inside the put and inside the get;
 *   hit-miss-mismatch  the target's hit and miss counters disagree with the
 *                      gets the history saw (with indeterminate gets allowed
 *                      either way).
 *
 * It also reports the hit ratio (cache_hit_ratio) and the counts it used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "workload.h"
#include "zipf.h"

enum { OPT_GET_PCT = 0, OPT_ZIPF, OPT_SAMPLE_EVERY, OPT_VALUE_SIZE, OPT_TTL_TOLERANCE };

/* Bits of a get's recorded value above the hit bit. */
#define TORN_CHECKSUM (1 << 8)
#define TORN_KEY (1 << 9)
#define TORN_SHORT (1 << 10)

static const struct contend_option cache_options[] = {
    [OPT_GET_PCT] = {"get_pct", "80", NULL, "percentage of ops that are gets (the rest put)",
                     CONTEND_OPT_INT, 0, 100},
    [OPT_ZIPF] = {"zipf", "1.0", NULL, "skew of the key distribution (Zipf s; 0 = uniform)",
                  CONTEND_OPT_NUMBER, 0, 100},
    [OPT_SAMPLE_EVERY] = {"sample_every", "64", NULL,
                          "every N-th op of a thread samples the cache's size (0 = never)",
                          CONTEND_OPT_INT, 0, 1e9},
    [OPT_VALUE_SIZE] = {"value_size", "64", NULL,
                        "bytes per value, a multiple of 8 from 32 to 4096", CONTEND_OPT_INT, 32,
                        4096, 8},
    [OPT_TTL_TOLERANCE] = {"ttl_tolerance", "1ms", NULL,
                           "stale-read: how far past the TTL a get may still see a value",
                           CONTEND_OPT_DURATION, 0, 3600e9},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind cache_kinds[] = {
    {"over-capacity", "the cache held more entries than its capacity"},
    {"stale-read", "a get returned an entry past its time to live"},
    {"torn-value", "a get returned a value mixed from two puts, or for another key"},
    {"phantom-read", "a get returned a value no put wrote"},
    {"hit-miss-mismatch", "the target's hit/miss counts disagree with the history"},
    {NULL, NULL},
};

static uint64_t value_checksum(const uint64_t *w, uint32_t n)
{
    uint64_t h = 0x6361636865ull; /* "cache" */
    for (uint32_t i = 0; i + 1 < n; i++)
        h = contend_mix64(h ^ w[i]);
    return h;
}

static uint32_t value_words(const struct contend_gen *g)
{
    int64_t vs = g->opt[OPT_VALUE_SIZE];
    if (vs < 32)
        vs = 32;
    if (vs > 4096)
        vs = 4096;
    return (uint32_t)(vs / 8);
}

static void cache_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                      struct contend_op *op)
{
    int64_t every = g->opt[OPT_SAMPLE_EVERY];
    if (every > 0 && seq % (uint64_t)every == (uint64_t)every - 1) {
        op->kind = CONTEND_OP_SIZE;
        return;
    }
    op->key = contend_zipf(rng, g->keys, g->optf[OPT_ZIPF]);
    if ((int64_t)contend_rng_below(rng, 100) < g->opt[OPT_GET_PCT]) {
        op->kind = CONTEND_OP_GET;
        return;
    }
    op->kind = CONTEND_OP_PUT;
    uint32_t n = value_words(g);
    if (n * 8 > op->buf_cap)
        n = op->buf_cap / 8;
    uint64_t *w = op->buf;
    w[0] = op->key;
    w[1] = ((uint64_t)g->writer << 32) | (seq & 0xffffffffull);
    for (uint32_t i = 2; i + 1 < n; i++)
        w[i] = contend_mix64(w[1] ^ (i * 0x9e3779b97f4a7c15ull));
    w[n - 1] = value_checksum(w, n);
    op->buf_len = n * 8;
}

static void cache_complete(const struct contend_gen *g, struct contend_op *op, int status)
{
    if (op->kind != CONTEND_OP_GET || status != CONTEND_OK || op->value != 1)
        return;
    uint32_t n = value_words(g);
    const uint64_t *w = op->buf;
    int64_t flags = 0;
    if (op->buf_len < n * 8) {
        flags |= TORN_SHORT;
        n = op->buf_len / 8;
    }
    if (n < 4 || w[n - 1] != value_checksum(w, n))
        flags |= TORN_CHECKSUM;
    if (n < 1 || w[0] != op->key)
        flags |= TORN_KEY;
    op->value2 = n >= 2 ? w[1] : 0;
    op->value = 1 | flags;
}

/* ---- the checker ---------------------------------------------------------- */

struct tally {
    uint64_t hits, misses, unknown;
    uint64_t over, torn, phantom, stale;
    uint64_t worst_over, worst_stale;
    struct contend_witness over_w[1], torn_w[1], phantom_w[2], stale_w[2];
    unsigned n_phantom_w;
    const char *phantom_why;
    uint64_t stale_by; /* how long past the TTL the worst stale read was */
};

/* The put a well-formed value names, or why there is none. */
static const char *find_put(const struct contend_check *chk, const struct contend_record *get,
                            uint64_t tol, uint32_t *pw, uint64_t *pi)
{
    uint64_t id = (uint64_t)get->value2;
    uint32_t w = (uint32_t)(id >> 32);
    uint64_t i = id & 0xffffffffull;
    *pw = w;
    *pi = i;
    if (w >= chk->nw || i >= chk->w[w].n)
        return "no such op";
    const struct contend_record *put = &chk->w[w].rec[i];
    if (put->kind != CONTEND_OP_PUT)
        return "not a put";
    if (put->key != get->key)
        return "a put of another key";
    if (put->status == CONTEND_FAIL)
        return "a put that failed";
    if (get->t_complete && put->t_invoke > get->t_complete + tol)
        return "a put that began after the get ended";
    return NULL;
}

static void check_get(const struct contend_check *chk, size_t w, uint64_t j, uint64_t ttl,
                      uint64_t tol, struct tally *t)
{
    const struct contend_record *r = &chk->w[w].rec[j];
    if (r->status != CONTEND_OK) {
        if (r->status != CONTEND_FAIL)
            t->unknown++;
        return;
    }
    if (!(r->value & 1)) {
        t->misses++;
        return;
    }
    t->hits++;
    if (r->value & (TORN_CHECKSUM | TORN_KEY | TORN_SHORT)) {
        if (t->torn++ == 0)
            t->torn_w[0] = contend_witness_of(&chk->w[w], j);
        return;
    }
    uint32_t pw;
    uint64_t pi;
    const char *why = find_put(chk, r, tol, &pw, &pi);
    if (why) {
        if (t->phantom++ == 0) {
            t->phantom_w[0] = contend_witness_of(&chk->w[w], j);
            t->n_phantom_w = 1;
            t->phantom_why = why;
            if (pw < chk->nw && pi < chk->w[pw].n)
                t->phantom_w[t->n_phantom_w++] = contend_witness_of(&chk->w[pw], pi);
        }
        return;
    }
    const struct contend_record *put = &chk->w[pw].rec[pi];
    if (ttl && put->status == CONTEND_OK && r->t_invoke > put->t_complete + ttl + tol) {
        uint64_t by = r->t_invoke - put->t_complete - ttl;
        t->stale++;
        if (by > t->worst_stale) {
            t->worst_stale = by;
            t->stale_w[0] = contend_witness_of(&chk->w[pw], pi);
            t->stale_w[1] = contend_witness_of(&chk->w[w], j);
            t->stale_by = by;
        }
    }
}

static const char *topt(const struct contend_case *c, const char *name)
{
    for (size_t i = 0; i < c->ntopts; i++)
        if (strcmp(c->topt_names[i], name) == 0)
            return c->topt_values[i];
    return NULL;
}

static const char *wopt(const struct contend_case *c, const char *name, const char *def)
{
    for (size_t i = 0; i < c->nwopts; i++)
        if (strcmp(c->wopt_names[i], name) == 0)
            return c->wopt_values[i];
    return def;
}

/* Capacity and TTL: what the target reported, else its options. */
static void limits(const struct contend_check *chk, int64_t *cap, uint64_t *ttl)
{
    int64_t v;
    uint64_t u;
    *cap = contend_state_get(chk, CONTEND_CACHE_CAPACITY, -1);
    *ttl = (uint64_t)contend_state_get(chk, CONTEND_CACHE_TTL_NS, 0);
    const char *s = topt(chk->c, "capacity");
    if (*cap < 0 && s && contend_parse_i64(s, &v) == 0)
        *cap = v;
    s = topt(chk->c, "ttl");
    if (*ttl == 0 && s && contend_parse_duration_ns(s, &u) == 0)
        *ttl = u;
}

static void report_over(struct contend_check *chk, const struct tally *t, int64_t cap)
{
    char a[256] = "";
    uint64_t end_over = 0, end_worst = 0, end_cache = 0;
    for (size_t i = 0; i < chk->nstate; i++) {
        const struct contend_kv *kv = &chk->state[i];
        if (kv->key >= CONTEND_CACHE_RESIDENT && kv->value > cap) {
            end_over++;
            if ((uint64_t)kv->value > end_worst) {
                end_worst = (uint64_t)kv->value;
                end_cache = kv->key - CONTEND_CACHE_RESIDENT;
            }
        }
    }
    int64_t hw = contend_state_get(chk, CONTEND_CACHE_HIGH_WATER, 0);
    if (t->over == 0 && end_over == 0 && hw <= cap)
        return;
    char *sample = t->over
                       ? contend_asprintf(
                             " %llu size samples saw more; the worst: %s held %lld (most ever "
                             "%lld).",
                             (unsigned long long)t->over,
                             contend_witness_str(&t->over_w[0], chk->t0, a, sizeof a),
                             (long long)t->over_w[0].rec.value, (long long)t->over_w[0].rec.value2)
                       : contend_strdup("");
    char *end = end_over
                    ? contend_asprintf(" At the end cache %llu held %llu.",
                                       (unsigned long long)end_cache, (unsigned long long)end_worst)
                    : contend_strdup("");
    contend_check_report(
        chk, "over-capacity", t->over + end_over + (t->over + end_over == 0),
        t->over ? t->over_w : NULL, t->over ? 1 : 0,
        "capacity is %lld entries, but the cache held up to %lld.%s%s", (long long)cap,
        (long long)(hw > (int64_t)t->worst_over ? hw : (int64_t)t->worst_over), sample, end);
    free(sample);
    free(end);
}

static void report_reads(struct contend_check *chk, const struct tally *t, uint64_t ttl,
                         uint64_t tol)
{
    char a[256], b[256];
    if (t->torn) {
        const struct contend_record *r = &t->torn_w[0].rec;
        const char *what = (r->value & TORN_CHECKSUM) && (r->value & TORN_KEY)
                               ? "its checksum and its key are wrong"
                           : (r->value & TORN_KEY) ? "it is the value of another key"
                                                   : "its checksum does not match";
        contend_check_report(chk, "torn-value", t->torn, t->torn_w, 1,
                             "%llu gets returned a value no single put wrote; first: %s: %s "
                             "(its header names worker %llu op #%llu): a put was rewriting "
                             "it while the get copied it",
                             (unsigned long long)t->torn,
                             contend_witness_str(&t->torn_w[0], chk->t0, a, sizeof a), what,
                             (unsigned long long)(r->value2 >> 32),
                             (unsigned long long)(r->value2 & 0xffffffffull));
    }
    if (t->phantom) {
        const struct contend_record *r = &t->phantom_w[0].rec;
        contend_check_report(chk, "phantom-read", t->phantom, t->phantom_w, t->n_phantom_w,
                             "%llu gets returned a value no put wrote; first: %s returned the "
                             "value of writer %llu op #%llu, which is %s",
                             (unsigned long long)t->phantom,
                             contend_witness_str(&t->phantom_w[0], chk->t0, a, sizeof a),
                             (unsigned long long)(r->value2 >> 32),
                             (unsigned long long)(r->value2 & 0xffffffffull), t->phantom_why);
    }
    if (t->stale) {
        contend_check_report(chk, "stale-read", t->stale, t->stale_w, 2,
                             "%llu gets returned an entry past its TTL (%.3f s, tolerance "
                             "%.3f ms); the worst: %s returned the value of %s, which "
                             "completed %.3f s before the get began: %.3f s too late",
                             (unsigned long long)t->stale, (double)ttl / 1e9, (double)tol / 1e6,
                             contend_witness_str(&t->stale_w[1], chk->t0, a, sizeof a),
                             contend_witness_str(&t->stale_w[0], chk->t0, b, sizeof b),
                             (double)(t->stale_by + ttl) / 1e9, (double)t->stale_by / 1e9);
    }
}

static void report_counts(struct contend_check *chk, const struct tally *t)
{
    int64_t th = contend_state_get(chk, CONTEND_CACHE_HITS, -1);
    int64_t tm = contend_state_get(chk, CONTEND_CACHE_MISSES, -1);
    if (th < 0 || tm < 0)
        return;
    uint64_t h = (uint64_t)th, m = (uint64_t)tm;
    bool ok = h >= t->hits && m >= t->misses && h + m <= t->hits + t->misses + t->unknown;
    if (ok)
        return;
    uint64_t off =
        (h > t->hits ? h - t->hits : t->hits - h) + (m > t->misses ? m - t->misses : t->misses - m);
    contend_check_report(chk, "hit-miss-mismatch", off ? off : 1, NULL, 0,
                         "the target counted %llu hits and %llu misses, but the history has "
                         "%llu hits and %llu misses acknowledged (%llu gets indeterminate): "
                         "its counters lost or invented updates",
                         (unsigned long long)h, (unsigned long long)m, (unsigned long long)t->hits,
                         (unsigned long long)t->misses, (unsigned long long)t->unknown);
}

static int cache_check(struct contend_check *chk)
{
    struct tally t;
    int64_t cap;
    uint64_t ttl, tol = 0;
    memset(&t, 0, sizeof t);
    limits(chk, &cap, &ttl);
    if (contend_parse_duration_ns(wopt(chk->c, "ttl_tolerance", "1ms"), &tol) != 0)
        tol = 1000000;

    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t j = 0; j < chk->w[w].n; j++) {
            const struct contend_record *r = &chk->w[w].rec[j];
            if (r->kind == CONTEND_OP_GET) {
                check_get(chk, w, j, ttl, tol, &t);
            } else if (r->kind == CONTEND_OP_SIZE && r->status == CONTEND_OK && cap >= 0) {
                int64_t most = r->value2 > (uint64_t)r->value ? (int64_t)r->value2 : r->value;
                if (most > cap) {
                    t.over++;
                    if ((uint64_t)most > t.worst_over) {
                        t.worst_over = (uint64_t)most;
                        t.over_w[0] = contend_witness_of(&chk->w[w], j);
                    }
                }
            }
        }
    }
    if (cap >= 0)
        report_over(chk, &t, cap);
    report_reads(chk, &t, ttl, tol);
    if (chk->has_state)
        report_counts(chk, &t);
    contend_rep_add_stat(chk->rep, "cache_hits", (double)t.hits);
    contend_rep_add_stat(chk->rep, "cache_misses", (double)t.misses);
    if (t.hits + t.misses)
        contend_rep_add_stat(chk->rep, "cache_hit_ratio",
                             (double)t.hits / (double)(t.hits + t.misses));
    return 0;
}

const struct contend_workload contend_workload_cache = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "cache",
    .help = "get and put on a bounded TTL cache; never over capacity, never stale, never torn",
    .options = cache_options,
    .kinds = cache_kinds,
    .gen = cache_gen,
    .check = cache_check,
    .complete = cache_complete,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_cache)
