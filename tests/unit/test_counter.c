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
#include "synth.h"

/* Two counters in one json document, four writers, on `variant`. */
static void counter_init(struct synth *s, const char *variant)
{
    synth_init(s, "counter", "json-doc", variant, 4, 2);
}

/* Writer w does an op on key k from time t to t+10, with this status and value. */
static void op(struct synth *s, uint32_t w, uint8_t kind, uint64_t k, uint8_t status, int64_t value,
               uint64_t t)
{
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = status ? t + 10 : 0,
                     .kind = kind,
                     .status = status,
                     .key = k,
                     .value = value,
                 });
}

static void incr(struct synth *s, uint32_t w, uint8_t status, int64_t value, uint64_t t)
{
    op(s, w, CONTEND_OP_INCR, 0, status, value, t);
}

static void test_lost_update_with_same_value_witness(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "nolock");
    /* Writers 0 and 1 both read 4 and wrote 5. */
    for (int i = 0; i < 4; i++)
        incr(&s, 0, CONTEND_OK, i + 1, 100 * (uint64_t)i);
    incr(&s, 0, CONTEND_OK, 5, 1000);
    incr(&s, 1, CONTEND_OK, 5, 1005);
    incr(&s, 1, CONTEND_OK, 6, 2000);
    synth_state(&s, 0, 6);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-update");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->nwitness, 2);
    assert_int_equal(v->witness[0].rec.value, 5);
    assert_int_equal(v->witness[1].rec.value, 5);
    assert_true(v->witness[0].writer != v->witness[1].writer);
    assert_non_null(strstr(v->message, "ended at 6 but 7 increments were acknowledged"));
    assert_non_null(strstr(v->message, "both wrote 5"));
    assert_null(synth_find(&s, "phantom-update"));
    contend_rep_free(&s.rep);
}

static void test_lost_update_overlap_witness(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "nolock");
    /* No values returned: the witness is two overlapping ops. */
    incr(&s, 0, CONTEND_OK, -1, 100);
    incr(&s, 1, CONTEND_OK, -1, 105);
    incr(&s, 2, CONTEND_OK, -1, 500);
    synth_state(&s, 0, 2);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-update");
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
    counter_init(&s, "flock");
    incr(&s, 0, CONTEND_OK, 1, 0);
    incr(&s, 0, CONTEND_OK, 2, 100);
    incr(&s, 1, CONTEND_INFO, 0, 200);
    incr(&s, 1, CONTEND_FAIL, 0, 300); /* failed: certainly not applied */
    synth_state(&s, 0, 5);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "phantom-update");
    assert_non_null(v);
    assert_int_equal(v->count, 2); /* at most 3 could have happened */
    assert_null(synth_find(&s, "lost-update"));
    contend_rep_free(&s.rep);
}

static void test_exact_is_clean(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "flock");
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 10; i++)
            incr(&s, (uint32_t)w, CONTEND_OK, w * 10 + i + 1, (uint64_t)(w * 1000 + i * 50));
    synth_state(&s, 0, 40);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_indeterminate_widens_bounds(void **state)
{
    (void)state;
    for (int64_t fin = 4; fin <= 9; fin++) {
        struct synth s;
        counter_init(&s, "nolock");
        for (int i = 0; i < 5; i++)
            incr(&s, 0, CONTEND_OK, -1, (uint64_t)i * 100);
        incr(&s, 1, CONTEND_INFO, -1, 50);
        incr(&s, 2, CONTEND_INFO, -1, 60);
        incr(&s, 3, CONTEND_STATUS_INVOKED, 0, 70); /* in flight when its worker died */
        synth_state(&s, 0, fin);
        synth_check(&s);
        /* 5 acknowledged + 3 unknown: anything in 5..8 is possible. */
        bool lost = synth_find(&s, "lost-update") != NULL,
             phantom = synth_find(&s, "phantom-update") != NULL;
        assert_int_equal(lost, fin < 5);
        assert_int_equal(phantom, fin > 8);
        if (lost)
            assert_int_equal(synth_find(&s, "lost-update")->count, 5 - fin);
        contend_rep_free(&s.rep);
    }
}

static void test_missing_key_counts_as_zero(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "nolock");
    op(&s, 0, CONTEND_OP_INCR, 1, CONTEND_OK, 1, 0);
    op(&s, 0, CONTEND_OP_INCR, 1, CONTEND_OK, 2, 100);
    synth_state(&s, 0, 0); /* key 1 never made it to the store */
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-update");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    assert_non_null(strstr(v->message, "key k1"));
    contend_rep_free(&s.rep);
}

static void test_monotonic_reads(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "flock"); /* promises monotonic reads */
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 3, 0);
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 2, 100);
    op(&s, 1, CONTEND_OP_READ, 0, CONTEND_OK, 1, 0);
    op(&s, 1, CONTEND_OP_READ, 0, CONTEND_OK, 3, 100);
    synth_state(&s, 0, 0);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "non-monotonic-read");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->witness[0].rec.value, 3);
    assert_int_equal(v->witness[1].rec.value, 2);
    contend_rep_free(&s.rep);

    /* The same history on a variant that promises nothing: not checked. */
    counter_init(&s, "nolock");
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 3, 0);
    op(&s, 0, CONTEND_OP_READ, 0, CONTEND_OK, 2, 100);
    synth_state(&s, 0, 0);
    synth_check(&s);
    assert_null(synth_find(&s, "non-monotonic-read"));
    contend_rep_free(&s.rep);
}

static void test_no_state_skips_totals(void **state)
{
    (void)state;
    struct synth s;
    counter_init(&s, "nolock");
    incr(&s, 0, CONTEND_OK, -1, 0);
    s.has_state = false;
    synth_check(&s);
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
        struct contend_op a = synth_gen_twice(wl, &g, i);
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
