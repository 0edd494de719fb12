/*
 * test_counter.c - the counter checker on synthetic histories: it must find
 * lost and phantom updates, accept exact results, and widen its bounds for
 * indeterminate ops and only for them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"
#include "result.h"

#define MAXREC 64

struct synth {
    struct contend_case c;
    struct contend_record rec[4][MAXREC];
    struct contend_writer_hist w[4];
    struct contend_kv state[4];
    size_t nstate;
    struct contend_rep rep;
};

static void synth_init(struct synth *s, const char *variant)
{
    memset(s, 0, sizeof *s);
    s->c.keys = 2;
    s->c.tg = contend_find_target("json-doc");
    s->c.wl = contend_find_workload("counter");
    s->c.variant_index = contend_variant_index(s->c.tg, variant);
    assert_true(s->c.variant_index >= 0);
    for (uint32_t i = 0; i < 4; i++)
        s->w[i] = (struct contend_writer_hist){.worker = i, .writer = i, .rec = s->rec[i]};
}

/* Writer w does an op on key k from time t to t+10, with this status and value. */
static void op(struct synth *s, uint32_t w, uint8_t kind, uint64_t k, uint8_t status,
               int64_t value, uint64_t t)
{
    struct contend_writer_hist *h = &s->w[w];
    s->rec[w][h->n++] = (struct contend_record){
        .t_invoke = t, .t_complete = status ? t + 10 : 0, .kind = kind, .status = status,
        .key = k, .value = value,
    };
}

static void incr(struct synth *s, uint32_t w, uint8_t status, int64_t value, uint64_t t)
{
    op(s, w, CONTEND_OP_INCR, 0, status, value, t);
}

static void final(struct synth *s, uint64_t key, int64_t v)
{
    s->state[s->nstate++] = (struct contend_kv){.key = key, .value = v};
}

static void check(struct synth *s)
{
    struct contend_check chk = {
        .c = &s->c, .w = s->w, .nw = 4, .state = s->state, .nstate = s->nstate,
        .has_state = true, .t0 = 0, .rep = &s->rep,
    };
    assert_int_equal(s->c.wl->check(&chk), 0);
}

static const struct contend_violation *find(const struct synth *s, const char *kind)
{
    return test_violation(&s->rep, kind);
}

static void test_lost_update_with_same_value_witness(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "nolock");
    /* Writers 0 and 1 both read 4 and wrote 5. */
    for (int i = 0; i < 4; i++)
        incr(&s, 0, CONTEND_OK, i + 1, 100 * (uint64_t)i);
    incr(&s, 0, CONTEND_OK, 5, 1000);
    incr(&s, 1, CONTEND_OK, 5, 1005);
    incr(&s, 1, CONTEND_OK, 6, 2000);
    final(&s, 0, 6);
    check(&s);
    const struct contend_violation *v = find(&s, "lost-update");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->nwitness, 2);
    assert_int_equal(v->witness[0].rec.value, 5);
    assert_int_equal(v->witness[1].rec.value, 5);
    assert_true(v->witness[0].writer != v->witness[1].writer);
    assert_non_null(strstr(v->message, "ended at 6 but 7 increments were acknowledged"));
    assert_non_null(strstr(v->message, "both wrote 5"));
    assert_null(find(&s, "phantom-update"));
    contend_rep_free(&s.rep);
}

static void test_lost_update_overlap_witness(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "nolock");
    /* No values returned: the witness is two overlapping ops. */
    incr(&s, 0, CONTEND_OK, -1, 100);
    incr(&s, 1, CONTEND_OK, -1, 105);
    incr(&s, 2, CONTEND_OK, -1, 500);
    final(&s, 0, 2);
    check(&s);
    const struct contend_violation *v = find(&s, "lost-update");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->nwitness, 2);
    assert_non_null(strstr(v->message, "overlapped in time"));
    contend_rep_free(&s.rep);
}

static void test_phantom(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "flock");
    incr(&s, 0, CONTEND_OK, 1, 0);
    incr(&s, 0, CONTEND_OK, 2, 100);
    incr(&s, 1, CONTEND_INFO, 0, 200);
    incr(&s, 1, CONTEND_FAIL, 0, 300); /* failed: certainly not applied */
    final(&s, 0, 5);
    check(&s);
    const struct contend_violation *v = find(&s, "phantom-update");
    assert_non_null(v);
    assert_int_equal(v->count, 2); /* at most 3 could have happened */
    assert_null(find(&s, "lost-update"));
    contend_rep_free(&s.rep);
}

static void test_exact_is_clean(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "flock");
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 10; i++)
            incr(&s, (uint32_t)w, CONTEND_OK, w * 10 + i + 1, (uint64_t)(w * 1000 + i * 50));
    final(&s, 0, 40);
    check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_indeterminate_widens_bounds(void **state)
{
    (void)state;
    for (int64_t fin = 4; fin <= 9; fin++) {
        struct synth s;
        synth_init(&s, "nolock");
        for (int i = 0; i < 5; i++)
            incr(&s, 0, CONTEND_OK, -1, (uint64_t)i * 100);
        incr(&s, 1, CONTEND_INFO, -1, 50);
        incr(&s, 2, CONTEND_INFO, -1, 60);
        incr(&s, 3, CONTEND_STATUS_INVOKED, 0, 70); /* in flight when its worker died */
        final(&s, 0, fin);
        check(&s);
        /* 5 acknowledged + 3 unknown: anything in 5..8 is possible. */
        bool lost = find(&s, "lost-update") != NULL, phantom = find(&s, "phantom-update") != NULL;
        assert_int_equal(lost, fin < 5);
        assert_int_equal(phantom, fin > 8);
        if (lost)
            assert_int_equal(find(&s, "lost-update")->count, 5 - fin);
        contend_rep_free(&s.rep);
    }
}

static void test_missing_key_counts_as_zero(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "nolock");
    op(&s, 0, CONTEND_OP_INCR, 1, CONTEND_OK, 1, 0);
    op(&s, 0, CONTEND_OP_INCR, 1, CONTEND_OK, 2, 100);
    final(&s, 0, 0); /* key 1 never made it to the store */
    check(&s);
    const struct contend_violation *v = find(&s, "lost-update");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    assert_non_null(strstr(v->message, "key k1"));
    contend_rep_free(&s.rep);
}

static void test_monotonic_reads(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "flock"); /* promises monotonic reads */
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 3, 0);
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 2, 100);
    op(&s, 1, CONTEND_OP_READ, 0, CONTEND_OK, 1, 0);
    op(&s, 1, CONTEND_OP_READ, 0, CONTEND_OK, 3, 100);
    final(&s, 0, 0);
    check(&s);
    const struct contend_violation *v = find(&s, "non-monotonic-read");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->witness[0].rec.value, 3);
    assert_int_equal(v->witness[1].rec.value, 2);
    contend_rep_free(&s.rep);

    /* The same history on a variant that promises nothing: not checked. */
    synth_init(&s, "nolock");
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 3, 0);
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 2, 100);
    final(&s, 0, 0);
    check(&s);
    assert_null(find(&s, "non-monotonic-read"));
    contend_rep_free(&s.rep);
}

static void test_no_state_skips_totals(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s, "nolock");
    incr(&s, 0, CONTEND_OK, -1, 0);
    struct contend_check chk = {
        .c = &s.c, .w = s.w, .nw = 4, .has_state = false, .rep = &s.rep,
    };
    assert_int_equal(s.c.wl->check(&chk), 0);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_gen_is_deterministic(void **state)
{
    (void)state;
    const struct contend_workload *wl = contend_find_workload("counter");
    struct contend_gen g = {.seed = 7, .keys = 10, .writer = 3, .writers = 4};
    g.opt[0] = 30; /* read_pct */
    unsigned reads = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        struct contend_rng r1, r2;
        struct contend_op a = {0}, b = {0};
        contend_rng_init(&r1, g.seed, g.writer, i);
        contend_rng_init(&r2, g.seed, g.writer, i);
        wl->gen(&g, i, &r1, &a);
        wl->gen(&g, i, &r2, &b);
        assert_int_equal(a.kind, b.kind);
        assert_int_equal(a.key, b.key);
        assert_true(a.key < 10);
        reads += a.kind == CONTEND_OP_READ;
    }
    assert_true(reads > 200 && reads < 400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_update_with_same_value_witness),
        cmocka_unit_test(test_lost_update_overlap_witness),
        cmocka_unit_test(test_phantom),
        cmocka_unit_test(test_exact_is_clean),
        cmocka_unit_test(test_indeterminate_widens_bounds),
        cmocka_unit_test(test_missing_key_counts_as_zero),
        cmocka_unit_test(test_monotonic_reads),
        cmocka_unit_test(test_no_state_skips_totals),
        cmocka_unit_test(test_gen_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
