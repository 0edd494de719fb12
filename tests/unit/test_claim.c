/*
 * test_claim.c - the claim checker on synthetic histories: two acknowledged
 * winners of one id are a double claim; an id taken without exactly one
 * acknowledged winner as its owner in the store is a lost claim; failed
 * claims count for nothing and indeterminate ones may have won.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"
#include "result.h"
#include "synth.h"

#define NW 3

/* Eight ids on sqlite.  The writers are threads of one worker, so that
 * witnesses name them "worker 0.<thread>". */
static void claim_init(struct synth *s)
{
    synth_init(s, "claim", "sqlite", NULL, NW, 8);
    for (uint32_t i = 0; i < NW; i++) {
        s->w[i].worker = 0;
        s->w[i].thread = i;
    }
}

/* Writer w claims id at time t; returns the op id (the owner a store records). */
static int64_t claim(struct synth *s, uint32_t w, uint64_t id, uint8_t status, int64_t won,
                     uint64_t t)
{
    uint64_t idx = synth_append(s, w,
                                (struct contend_record){
                                    .t_invoke = t,
                                    .t_complete = status ? t + 10 : 0,
                                    .kind = CONTEND_OP_CLAIM,
                                    .status = status,
                                    .key = id,
                                    .value = won,
                                });
    return (int64_t)contend_op_id(w, idx);
}

/* The store records `owner` for `id`. */
static void owned(struct synth *s, uint64_t id, int64_t owner)
{
    synth_state(s, id, owner);
}

static void test_one_winner_is_clean(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    int64_t a = claim(&s, 0, 1, CONTEND_OK, 1, 0);
    claim(&s, 1, 1, CONTEND_OK, 0, 5);
    claim(&s, 2, 1, CONTEND_OK, 0, 20);
    int64_t b = claim(&s, 1, 2, CONTEND_OK, 1, 30);
    claim(&s, 2, 3, CONTEND_FAIL, 0, 40); /* failed: nothing happened */
    owned(&s, 1, a);
    owned(&s, 2, b);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_double_claim(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    int64_t a = claim(&s, 0, 4, CONTEND_OK, 1, 0);
    claim(&s, 1, 4, CONTEND_OK, 1, 3);
    claim(&s, 2, 4, CONTEND_OK, 1, 6);
    claim(&s, 2, 5, CONTEND_OK, 1, 50);
    int64_t c = claim(&s, 1, 5, CONTEND_OK, 1, 52);
    owned(&s, 4, a);
    owned(&s, 5, c);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "double-claim");
    assert_non_null(v);
    assert_int_equal(v->count, 3); /* 2 extra winners of id 4, 1 of id 5 */
    assert_int_equal(v->nwitness, 2);
    assert_int_equal(v->witness[0].rec.key, 4);
    assert_int_equal(v->witness[1].rec.key, 4);
    assert_true(v->witness[0].writer != v->witness[1].writer);
    assert_non_null(strstr(v->message, "2 id(s) were won by more than one"));
    assert_non_null(strstr(v->message, "id k4 was won 3 times"));
    assert_non_null(strstr(v->message, "claim k4 = won"));
    assert_null(synth_find(&s, "lost-claim"));
    contend_rep_free(&s.rep);
}

static void test_winner_not_in_store(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0); /* told it won, but the store lost it */
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-claim");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_non_null(strstr(v->message, "store does not have the id"));
    assert_null(synth_find(&s, "double-claim"));
    contend_rep_free(&s.rep);
}

static void test_winner_not_the_owner(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0);
    int64_t b = claim(&s, 1, 2, CONTEND_OK, 0, 5); /* told it lost, yet the owner */
    owned(&s, 2, b);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-claim");
    assert_non_null(v);
    assert_int_equal(v->nwitness, 2);
    assert_non_null(strstr(v->message, "but the store records worker 0.1 op #0"));
    contend_rep_free(&s.rep);

    /* An owner that is no op of this run. */
    claim_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0);
    owned(&s, 2, 12345678901LL);
    synth_check(&s);
    assert_non_null(strstr(synth_find(&s, "lost-claim")->message, "which never claimed it"));
    contend_rep_free(&s.rep);
}

static void test_taken_but_nobody_won(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    int64_t a = claim(&s, 0, 6, CONTEND_OK, 0, 0);
    claim(&s, 1, 6, CONTEND_OK, 0, 5);
    owned(&s, 6, a);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "was told it lost and no claim was told it won"));
    contend_rep_free(&s.rep);

    /* Told "taken" while the store has nothing at all. */
    claim_init(&s);
    claim(&s, 0, 6, CONTEND_OK, 0, 0);
    synth_check(&s);
    v = synth_find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "1 claim(s) were told it was taken"));
    contend_rep_free(&s.rep);

    /* In the store, claimed by no op. */
    claim_init(&s);
    owned(&s, 7, 99);
    synth_check(&s);
    v = synth_find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "op id 99 as its owner, which never claimed it"));
    contend_rep_free(&s.rep);
}

static void test_indeterminate_may_have_won(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    int64_t a = claim(&s, 0, 3, CONTEND_INFO, 0, 0);
    claim(&s, 1, 3, CONTEND_OK, 0, 20);
    int64_t c = claim(&s, 2, 4, CONTEND_STATUS_INVOKED, 0, 30); /* its worker died */
    owned(&s, 3, a);
    owned(&s, 4, c);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);

    /* An indeterminate claim that did not make it: the id is free. */
    claim_init(&s);
    claim(&s, 0, 3, CONTEND_INFO, 0, 0);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_without_state(void **state)
{
    (void)state;
    struct synth s;
    claim_init(&s);
    s.has_state = false;
    claim(&s, 0, 1, CONTEND_OK, 1, 0); /* not checked against a store */
    claim(&s, 0, 2, CONTEND_OK, 0, 10);
    synth_check(&s);
    assert_non_null(synth_find(&s, "lost-claim")); /* id 2: taken, nobody won */
    assert_null(synth_find(&s, "double-claim"));
    contend_rep_free(&s.rep);

    claim_init(&s);
    s.has_state = false;
    claim(&s, 0, 1, CONTEND_OK, 1, 0);
    claim(&s, 1, 1, CONTEND_OK, 1, 1);
    synth_check(&s);
    assert_non_null(synth_find(&s, "double-claim"));
    assert_null(synth_find(&s, "lost-claim"));
    contend_rep_free(&s.rep);
}

static void test_gen_walks_the_ids(void **state)
{
    (void)state;
    const struct contend_workload *wl = contend_find_workload("claim");
    struct contend_gen g = {.seed = 9, .keys = 50, .writer = 2, .writers = 4};
    g.opt[0] = 4; /* window */
    for (uint64_t i = 0; i < 200; i++) {
        struct contend_rng r;
        struct contend_op op = {0};
        contend_rng_init(&r, g.seed, g.writer, i);
        wl->gen(&g, i, &r, &op);
        assert_int_equal(op.kind, CONTEND_OP_CLAIM);
        assert_true(op.key < 50);
        uint64_t lo = i % 50, d = (op.key + 50 - lo) % 50;
        assert_true(d < 4); /* seq .. seq+3, wrapped */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_winner_is_clean),
        cmocka_unit_test(test_double_claim),
        cmocka_unit_test(test_winner_not_in_store),
        cmocka_unit_test(test_winner_not_the_owner),
        cmocka_unit_test(test_taken_but_nobody_won),
        cmocka_unit_test(test_indeterminate_may_have_won),
        cmocka_unit_test(test_without_state),
        cmocka_unit_test(test_gen_walks_the_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
