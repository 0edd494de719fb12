/*
 * test_concurrency.c - the concurrency measure (share of ops overlapping
 * another op on the same key) and the `inconclusive` verdict: reported for a
 * clean run under the floor, not for one above it, not for a case with
 * `expect`, not for one that found something, and not under a controlled
 * schedule that switched threads inside a critical window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "concurrency.h"
#include "synth.h"

static struct contend_record op(uint64_t key, uint64_t t0, uint64_t t1)
{
    return (struct contend_record){.t_invoke = t0,
                                   .t_complete = t1,
                                   .kind = CONTEND_OP_INCR,
                                   .status = CONTEND_OK,
                                   .key = key,
                                   .arg = 1};
}

static void measure(struct synth *s)
{
    s->c.workload = "counter";
    contend_concurrency_measure(&s->c, s->w, s->nw, &s->rep);
    s->rep.ok = true;
}

/* Two writers, one key: ops 0 of both overlap, the rest are one after the other. */
static void test_overlap_same_key(void **state)
{
    (void)state;
    static struct synth s;
    synth_init(&s, "counter", "json-doc", NULL, 2, 1);
    synth_append(&s, 0, op(0, 10, 20));
    synth_append(&s, 1, op(0, 15, 25));
    synth_append(&s, 0, op(0, 30, 40));
    synth_append(&s, 1, op(0, 50, 60));
    measure(&s);
    assert_true(s.rep.conc.valid);
    assert_int_equal(s.rep.conc.ops, 4);
    assert_int_equal(s.rep.conc.overlapping, 2);
    assert_true(s.rep.conc.overlap > 0.49 && s.rep.conc.overlap < 0.51);
    contend_rep_free(&s.rep);
}

/* Overlap in time on different keys is no overlap; an op in flight at the
 * end is open to the end; a short op inside a long one is found. */
static void test_overlap_other_keys_and_open(void **state)
{
    (void)state;
    static struct synth s;
    synth_init(&s, "counter", "json-doc", NULL, 3, 2);
    synth_append(&s, 0, op(0, 10, 100));
    synth_append(&s, 1, op(1, 20, 30));
    synth_append(&s, 2, op(0, 40, 50)); /* inside writer 0's op */
    measure(&s);
    assert_int_equal(s.rep.conc.overlapping, 2);
    contend_rep_free(&s.rep);
    synth_init(&s, "counter", "json-doc", NULL, 2, 1);
    synth_append(&s, 0, op(0, 10, 0)); /* never completed */
    synth_append(&s, 1, op(0, 500, 600));
    measure(&s);
    assert_int_equal(s.rep.conc.overlapping, 2);
    contend_rep_free(&s.rep);
}

static void serial(struct synth *s, unsigned n)
{
    synth_init(s, "counter", "json-doc", NULL, 2, 1);
    s->c.procs = 2;
    s->c.threads = 1;
    for (unsigned i = 0; i < n; i++)
        synth_append(s, i % 2, op(0, 100 * i, 100 * i + 50));
}

static void test_inconclusive_reported(void **state)
{
    (void)state;
    static struct synth s;
    serial(&s, 40);
    measure(&s);
    assert_int_equal(s.rep.conc.overlapping, 0);
    /* Under a controlled schedule that never switched inside a window, the
     * overlap is the seed's: a clean run under the floor is inconclusive. */
    s.rep.sched.mode = "pct";
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_non_null(s.rep.conc.inconclusive);
    assert_non_null(strstr(s.rep.conc.inconclusive, "0.0% of 40 ops"));
    assert_non_null(s.rep.inconclusive);
    assert_true(s.rep.conc.below_floor);
    assert_false(s.rep.ok);
    s.rep.sched.mode = NULL;
    contend_rep_free(&s.rep);
    /* Under the OS's schedule the overlap depends on the machine's load, so
     * the same history is a note (below_floor), and the verdict stands. */
    serial(&s, 40);
    measure(&s);
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    assert_null(s.rep.inconclusive);
    assert_true(s.rep.conc.below_floor);
    assert_true(s.rep.ok);
    contend_rep_free(&s.rep);
}

static void test_inconclusive_not_reported(void **state)
{
    (void)state;
    static struct synth s;
    /* Above the floor. */
    serial(&s, 40);
    synth_append(&s, 0, op(0, 10, 20));
    synth_append(&s, 1, op(0, 210, 220));
    measure(&s);
    assert_int_equal(s.rep.conc.overlapping, 4);
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    assert_true(s.rep.ok);
    contend_rep_free(&s.rep);
    /* With expect: the case says what it saw, and its own verdict stands. */
    serial(&s, 40);
    s.c.expect = "lost-update";
    measure(&s);
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    s.c.expect = NULL;
    contend_rep_free(&s.rep);
    /* Found something: a failure, not a doubt. */
    serial(&s, 40);
    measure(&s);
    contend_rep_add_violation(&s.rep, "lost-update", 1, NULL, 0, "x");
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    contend_rep_free(&s.rep);
    /* A controlled schedule that switched threads inside a window. */
    serial(&s, 40);
    measure(&s);
    s.rep.sched.mode = "pct";
    s.rep.sched.window_handoffs = 1;
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    s.rep.sched.mode = NULL;
    contend_rep_free(&s.rep);
    /* Paced ops study time, not races. */
    serial(&s, 40);
    s.c.thinktime_ns = 1000000;
    measure(&s);
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    contend_rep_free(&s.rep);
    /* A target without state measures, it cannot race. */
    serial(&s, 40);
    s.c.tg = contend_find_target("null");
    measure(&s);
    contend_judge_inconclusive(&s.c, &s.rep);
    assert_null(s.rep.conc.inconclusive);
    contend_rep_free(&s.rep);
}

static void test_floors(void **state)
{
    (void)state;
    assert_true(contend_overlap_floor("counter") > 0.04 && contend_overlap_floor("counter") < 0.06);
    assert_true(contend_overlap_floor("claim") < contend_overlap_floor("counter"));
    assert_true(contend_overlap_floor("unknown-workload") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlap_same_key),
        cmocka_unit_test(test_overlap_other_keys_and_open),
        cmocka_unit_test(test_inconclusive_reported),
        cmocka_unit_test(test_inconclusive_not_reported),
        cmocka_unit_test(test_floors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
