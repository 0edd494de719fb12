/*
 * test_cache_check.c - the cache checker on synthetic histories: it must
 * find over-capacity, torn-value, phantom-read, stale-read and
 * hit-miss-mismatch, each where it happened and nowhere else; and the
 * workload's values must round-trip through gen() and complete().
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"
#include "result.h"
#include "synth.h"

#define MS 1000000ull
#define TTL (1000 * MS)

static const struct contend_workload *wl;

/* Eight keys in an lru-cache, three writers.  No final state until one is
 * added: without it the checker takes the TTL from the target's options. */
static void cache_init(struct synth *s)
{
    synth_init(s, "cache", "lru-cache", NULL, 3, 8);
    s->has_state = false;
    wl = s->c.wl;
}

/* Capacity 4, TTL 1 s, and the counters the target reports. */
static void final(struct synth *s, int64_t hits, int64_t misses, int64_t resident)
{
    synth_state(s, CONTEND_CACHE_CAPACITY, 4);
    synth_state(s, CONTEND_CACHE_TTL_NS, (int64_t)TTL);
    synth_state(s, CONTEND_CACHE_HITS, hits);
    synth_state(s, CONTEND_CACHE_MISSES, misses);
    synth_state(s, CONTEND_CACHE_HIGH_WATER, resident);
    synth_state(s, CONTEND_CACHE_RESIDENT, resident);
}

static uint64_t rec(struct synth *s, uint32_t w, uint8_t kind, uint64_t key, uint8_t status,
                    int64_t value, uint64_t value2, uint64_t t)
{
    return synth_append(s, w,
                        (struct contend_record){
                            .t_invoke = t,
                            .t_complete = status ? t + MS : 0,
                            .kind = kind,
                            .status = status,
                            .key = key,
                            .value = value,
                            .value2 = value2,
                        });
}

static uint64_t put(struct synth *s, uint32_t w, uint64_t key, uint64_t t)
{
    return rec(s, w, CONTEND_OP_PUT, key, CONTEND_OK, 0, 0, t);
}

static void get_of(struct synth *s, uint32_t w, uint64_t key, uint32_t pw, uint64_t pi, uint64_t t)
{
    rec(s, w, CONTEND_OP_GET, key, CONTEND_OK, 1, ((uint64_t)pw << 32) | pi, t);
}

static void miss(struct synth *s, uint32_t w, uint64_t key, uint64_t t)
{
    rec(s, w, CONTEND_OP_GET, key, CONTEND_OK, 0, 0, t);
}

/* gen() options: get_pct, zipf, sample_every, value_size. */
static void gen_opts(struct contend_gen *g, int64_t get_pct)
{
    memset(g, 0, sizeof *g);
    g->seed = 5;
    g->keys = 8;
    g->writer = 2;
    g->writers = 3;
    g->opt[0] = get_pct;
    g->opt[1] = 1;
    g->optf[1] = 1.0;
    g->opt[2] = 0;
    g->opt[3] = 64;
}

/* The value complete() records for a get that returned `buf`. */
static int64_t recorded(const struct contend_gen *g, uint64_t key, const void *buf, uint32_t len,
                        uint64_t *value2)
{
    unsigned char copy[64];
    struct contend_op op = {.kind = CONTEND_OP_GET,
                            .key = key,
                            .value = 1,
                            .buf = copy,
                            .buf_len = len,
                            .buf_cap = sizeof copy};
    memcpy(copy, buf, len);
    wl->complete(g, &op, CONTEND_OK);
    if (value2)
        *value2 = op.value2;
    return op.value;
}

/* A put's value, made by gen(). */
static void make_value(const struct contend_gen *g, uint64_t seq, unsigned char *buf,
                       struct contend_op *op)
{
    struct contend_rng r;
    memset(op, 0, sizeof *op);
    op->buf = buf;
    op->buf_cap = 64;
    contend_rng_init(&r, g->seed, g->writer, seq);
    wl->gen(g, seq, &r, op);
}

static void test_values_round_trip(void **state)
{
    (void)state;
    struct synth s;
    struct contend_gen g;
    struct contend_op a, b;
    unsigned char va[64], vb[64], mix[64];
    uint64_t id;
    cache_init(&s);
    gen_opts(&g, 0);
    make_value(&g, 17, va, &a);
    make_value(&g, 17, vb, &b);
    assert_int_equal(a.kind, CONTEND_OP_PUT);
    assert_int_equal(a.buf_len, 64);
    assert_memory_equal(va, vb, 64); /* deterministic */
    assert_true(a.key < 8);

    assert_int_equal(recorded(&g, a.key, va, 64, &id), 1); /* whole and right */
    assert_int_equal(id, ((uint64_t)2 << 32) | 17);

    make_value(&g, 18, vb, &b);
    memcpy(mix, va, 32);
    memcpy(mix + 32, vb + 32, 32); /* half of one put, half of another */
    assert_int_not_equal(recorded(&g, a.key, mix, 64, NULL), 1);
    assert_int_not_equal(recorded(&g, a.key + 1, va, 64, NULL), 1); /* another key's value */
    assert_int_not_equal(recorded(&g, a.key, va, 32, NULL), 1);     /* short */

    /* Misses and failures are left alone. */
    struct contend_op m = {.kind = CONTEND_OP_GET, .value = 0};
    wl->complete(&g, &m, CONTEND_OK);
    assert_int_equal(m.value, 0);

    /* Size samples come every sample_every-th op. */
    g.opt[2] = 4;
    make_value(&g, 3, va, &a);
    assert_int_equal(a.kind, CONTEND_OP_SIZE);
    make_value(&g, 4, va, &a);
    assert_int_equal(a.kind, CONTEND_OP_PUT);
    gen_opts(&g, 100);
    make_value(&g, 4, va, &a);
    assert_int_equal(a.kind, CONTEND_OP_GET);
}

static void test_clean_history(void **state)
{
    (void)state;
    struct synth s;
    cache_init(&s);
    uint64_t p = put(&s, 0, 1, 0);
    get_of(&s, 1, 1, 0, p, 500 * MS);
    get_of(&s, 2, 1, 0, p, TTL); /* began TTL after the put began: 1 ms before it ended + TTL */
    miss(&s, 1, 2, 600 * MS);
    rec(&s, 2, CONTEND_OP_SIZE, 0, CONTEND_OK, 3, 4, 700 * MS); /* at capacity, not over */
    final(&s, 2, 1, 4);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    assert_true(fabs(synth_stat(&s, "cache_hit_ratio") - 2.0 / 3.0) < 1e-9);
    assert_int_equal((int)synth_stat(&s, "cache_hits"), 2);
    contend_rep_free(&s.rep);
}

static void test_over_capacity(void **state)
{
    (void)state;
    struct synth s;
    /* A sample over capacity. */
    cache_init(&s);
    rec(&s, 0, CONTEND_OP_SIZE, 0, CONTEND_OK, 5, 5, 10);
    rec(&s, 1, CONTEND_OP_SIZE, 0, CONTEND_OK, 4, 4, 20);
    final(&s, 0, 0, 4);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "over-capacity");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->nwitness, 1);
    assert_int_equal(v->witness[0].rec.value, 5);
    contend_rep_free(&s.rep);

    /* Only the high-water mark saw it (between samples). */
    cache_init(&s);
    rec(&s, 0, CONTEND_OP_SIZE, 0, CONTEND_OK, 2, 6, 10);
    final(&s, 0, 0, 2);
    synth_check(&s);
    assert_non_null(synth_find(&s, "over-capacity"));
    contend_rep_free(&s.rep);

    /* Only the end state: no samples at all. */
    cache_init(&s);
    final(&s, 0, 0, 7);
    synth_check(&s);
    v = synth_find(&s, "over-capacity");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "At the end cache 0 held 7"));
    contend_rep_free(&s.rep);

    /* A failed sample says nothing. */
    cache_init(&s);
    rec(&s, 0, CONTEND_OP_SIZE, 0, CONTEND_FAIL, 9, 9, 10);
    final(&s, 0, 0, 1);
    synth_check(&s);
    assert_null(synth_find(&s, "over-capacity"));
    contend_rep_free(&s.rep);
}

static void test_torn_value(void **state)
{
    (void)state;
    struct synth s;
    struct contend_gen g;
    struct contend_op a, b;
    unsigned char va[64], vb[64], mix[64];
    cache_init(&s);
    gen_opts(&g, 0);
    make_value(&g, 0, va, &a);
    make_value(&g, 1, vb, &b);
    memcpy(mix, va, 32);
    memcpy(mix + 32, vb + 32, 32);
    uint64_t id;
    int64_t torn = recorded(&g, a.key, mix, 64, &id);
    uint64_t p = put(&s, 2, a.key, 0);
    rec(&s, 0, CONTEND_OP_GET, a.key, CONTEND_OK, torn, id, 5 * MS);
    get_of(&s, 1, a.key, 2, p, 6 * MS);
    final(&s, 2, 0, 1);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "torn-value");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->witness[0].writer, 0);
    assert_non_null(strstr(v->message, "checksum does not match"));
    assert_null(synth_find(&s, "phantom-read"));
    assert_null(synth_find(&s, "hit-miss-mismatch")); /* a torn hit is still a hit */
    contend_rep_free(&s.rep);

    /* Another key's value. */
    cache_init(&s);
    int64_t other = recorded(&g, a.key + 1, va, 64, &id);
    rec(&s, 0, CONTEND_OP_GET, a.key + 1, CONTEND_OK, other, id, 5 * MS);
    final(&s, 1, 0, 1);
    synth_check(&s);
    v = synth_find(&s, "torn-value");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "value of another key"));
    contend_rep_free(&s.rep);
}

static void test_phantom_read(void **state)
{
    (void)state;
    static const char *const whys[] = {"no such op", "not a put", "a put of another key",
                                       "a put that failed", "a put that began after the get"};
    for (int c = 0; c < 5; c++) {
        struct synth s;
        cache_init(&s);
        uint64_t p = put(&s, 0, 1, 0);
        uint64_t g = rec(&s, 0, CONTEND_OP_GET, 1, CONTEND_OK, 0, 0, MS);
        uint64_t o = put(&s, 0, 2, 2 * MS);
        uint64_t f = rec(&s, 0, CONTEND_OP_PUT, 1, CONTEND_FAIL, 0, 0, 3 * MS);
        uint64_t late = put(&s, 0, 1, 900 * MS);
        switch (c) {
        case 0: get_of(&s, 1, 1, 0, 40, 10 * MS); break;
        case 1: get_of(&s, 1, 1, 0, g, 10 * MS); break;
        case 2: get_of(&s, 1, 1, 0, o, 10 * MS); break;
        case 3: get_of(&s, 1, 1, 0, f, 10 * MS); break;
        case 4: get_of(&s, 1, 1, 0, late, 10 * MS); break;
        }
        get_of(&s, 2, 1, 0, p, 11 * MS); /* a good one */
        final(&s, 2, 1, 1);
        synth_check(&s);
        const struct contend_violation *v = synth_find(&s, "phantom-read");
        assert_non_null(v);
        assert_int_equal(v->count, 1);
        assert_non_null(strstr(v->message, whys[c]));
        assert_int_equal(s.rep.nv, 1);
        contend_rep_free(&s.rep);
    }
}

static void test_stale_read(void **state)
{
    (void)state;
    struct synth s;
    cache_init(&s);
    uint64_t p = put(&s, 0, 3, 0);               /* completes at 1 ms */
    get_of(&s, 1, 3, 0, p, MS + TTL + MS / 2);   /* within the 1 ms tolerance */
    get_of(&s, 1, 3, 0, p, MS + TTL + 2 * MS);   /* 2 ms past the TTL */
    get_of(&s, 2, 3, 0, p, MS + TTL + 500 * MS); /* 0.5 s past */
    final(&s, 3, 0, 1);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "stale-read");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    assert_int_equal(v->nwitness, 2);
    assert_int_equal(v->witness[0].rec.kind, CONTEND_OP_PUT); /* the put, then the worst get */
    assert_int_equal(v->witness[1].writer, 2);
    assert_non_null(strstr(v->message, "0.500 s too late"));
    assert_int_equal(s.rep.nv, 1);
    contend_rep_free(&s.rep);

    /* A put that never completed cannot be judged. */
    cache_init(&s);
    p = rec(&s, 0, CONTEND_OP_PUT, 3, CONTEND_STATUS_INVOKED, 0, 0, 0);
    get_of(&s, 1, 3, 0, p, 10 * TTL);
    final(&s, 1, 0, 1);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);

    /* Without state the TTL comes from the target's option. */
    cache_init(&s);
    const char *names[] = {"capacity", "ttl"}, *values[] = {"4", "1s"};
    s.c.topt_names = names;
    s.c.topt_values = values;
    s.c.ntopts = 2;
    p = put(&s, 0, 3, 0);
    get_of(&s, 1, 3, 0, p, 3 * TTL);
    synth_check(&s);
    assert_non_null(synth_find(&s, "stale-read"));
    contend_rep_free(&s.rep);
}

static void test_hit_miss_counts(void **state)
{
    (void)state;
    for (int c = 0; c < 6; c++) {
        struct synth s;
        cache_init(&s);
        uint64_t p = put(&s, 0, 1, 0);
        get_of(&s, 1, 1, 0, p, MS);
        get_of(&s, 1, 1, 0, p, 2 * MS);
        miss(&s, 1, 2, 3 * MS);
        rec(&s, 2, CONTEND_OP_GET, 1, CONTEND_INFO, 0, 0, 4 * MS); /* either, or neither */
        rec(&s, 2, CONTEND_OP_GET, 1, CONTEND_FAIL, 0, 0, 5 * MS); /* neither */
        /* History: 2 hits, 1 miss, 1 unknown. */
        static const int64_t hits[] = {2, 3, 2, 1, 2, 3}, misses[] = {1, 1, 2, 1, 0, 2};
        static const bool bad[] = {false, false, false, true, true, true};
        final(&s, hits[c], misses[c], 1);
        synth_check(&s);
        assert_int_equal(synth_find(&s, "hit-miss-mismatch") != NULL, bad[c]);
        contend_rep_free(&s.rep);
    }
    /* A target that could not count (a worker died with its cache): skipped. */
    struct synth s;
    cache_init(&s);
    miss(&s, 1, 2, 3 * MS);
    synth_state(&s, CONTEND_CACHE_CAPACITY, 4);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_round_trip), cmocka_unit_test(test_clean_history),
        cmocka_unit_test(test_over_capacity),     cmocka_unit_test(test_torn_value),
        cmocka_unit_test(test_phantom_read),      cmocka_unit_test(test_stale_read),
        cmocka_unit_test(test_hit_miss_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
