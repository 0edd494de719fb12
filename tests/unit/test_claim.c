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

#define MAXREC 32
#define NW 3

struct synth {
    struct contend_case c;
    struct contend_record rec[NW][MAXREC];
    struct contend_writer_hist w[NW];
    struct contend_kv state[16];
    size_t nstate;
    bool has_state;
    struct contend_rep rep;
};

static void synth_init(struct synth *s)
{
    memset(s, 0, sizeof *s);
    s->c.keys = 8;
    s->c.tg = contend_find_target("sqlite");
    s->c.wl = contend_find_workload("claim");
    assert_non_null(s->c.wl);
    s->has_state = true;
    for (uint32_t i = 0; i < NW; i++)
        s->w[i] = (struct contend_writer_hist){.worker = 0, .thread = i, .writer = i,
                                               .rec = s->rec[i]};
}

/* Writer w claims id at time t; returns the op id (the owner a store records). */
static int64_t claim(struct synth *s, uint32_t w, uint64_t id, uint8_t status, int64_t won,
                     uint64_t t)
{
    struct contend_writer_hist *h = &s->w[w];
    uint64_t idx = h->n++;
    s->rec[w][idx] = (struct contend_record){
        .t_invoke = t, .t_complete = status ? t + 10 : 0, .kind = CONTEND_OP_CLAIM,
        .status = status, .key = id, .value = won,
    };
    return (int64_t)contend_op_id(w, idx);
}

/* The store records `owner` for `id`; keys must be added in order. */
static void owned(struct synth *s, uint64_t id, int64_t owner)
{
    s->state[s->nstate++] = (struct contend_kv){.key = id, .value = owner};
}

static void check(struct synth *s)
{
    struct contend_check chk = {
        .c = &s->c, .w = s->w, .nw = NW, .state = s->state, .nstate = s->nstate,
        .has_state = s->has_state, .t0 = 0, .rep = &s->rep,
    };
    assert_int_equal(s->c.wl->check(&chk), 0);
}

static const struct contend_violation *find(const struct synth *s, const char *kind)
{
    return test_violation(&s->rep, kind);
}

static void test_one_winner_is_clean(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    int64_t a = claim(&s, 0, 1, CONTEND_OK, 1, 0);
    claim(&s, 1, 1, CONTEND_OK, 0, 5);
    claim(&s, 2, 1, CONTEND_OK, 0, 20);
    int64_t b = claim(&s, 1, 2, CONTEND_OK, 1, 30);
    claim(&s, 2, 3, CONTEND_FAIL, 0, 40); /* failed: nothing happened */
    owned(&s, 1, a);
    owned(&s, 2, b);
    check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_double_claim(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    int64_t a = claim(&s, 0, 4, CONTEND_OK, 1, 0);
    claim(&s, 1, 4, CONTEND_OK, 1, 3);
    claim(&s, 2, 4, CONTEND_OK, 1, 6);
    claim(&s, 2, 5, CONTEND_OK, 1, 50);
    int64_t c = claim(&s, 1, 5, CONTEND_OK, 1, 52);
    owned(&s, 4, a);
    owned(&s, 5, c);
    check(&s);
    const struct contend_violation *v = find(&s, "double-claim");
    assert_non_null(v);
    assert_int_equal(v->count, 3); /* 2 extra winners of id 4, 1 of id 5 */
    assert_int_equal(v->nwitness, 2);
    assert_int_equal(v->witness[0].rec.key, 4);
    assert_int_equal(v->witness[1].rec.key, 4);
    assert_true(v->witness[0].writer != v->witness[1].writer);
    assert_non_null(strstr(v->message, "2 id(s) were won by more than one"));
    assert_non_null(strstr(v->message, "id k4 was won 3 times"));
    assert_non_null(strstr(v->message, "claim k4 = won"));
    assert_null(find(&s, "lost-claim"));
    contend_rep_free(&s.rep);
}

static void test_winner_not_in_store(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0); /* told it won, but the store lost it */
    check(&s);
    const struct contend_violation *v = find(&s, "lost-claim");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_non_null(strstr(v->message, "store does not have the id"));
    assert_null(find(&s, "double-claim"));
    contend_rep_free(&s.rep);
}

static void test_winner_not_the_owner(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0);
    int64_t b = claim(&s, 1, 2, CONTEND_OK, 0, 5); /* told it lost, yet the owner */
    owned(&s, 2, b);
    check(&s);
    const struct contend_violation *v = find(&s, "lost-claim");
    assert_non_null(v);
    assert_int_equal(v->nwitness, 2);
    assert_non_null(strstr(v->message, "but the store records worker 0.1 op #0"));
    contend_rep_free(&s.rep);

    /* An owner that is no op of this run. */
    synth_init(&s);
    claim(&s, 0, 2, CONTEND_OK, 1, 0);
    owned(&s, 2, 12345678901LL);
    check(&s);
    assert_non_null(strstr(find(&s, "lost-claim")->message, "which never claimed it"));
    contend_rep_free(&s.rep);
}

static void test_taken_but_nobody_won(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    int64_t a = claim(&s, 0, 6, CONTEND_OK, 0, 0);
    claim(&s, 1, 6, CONTEND_OK, 0, 5);
    owned(&s, 6, a);
    check(&s);
    const struct contend_violation *v = find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "was told it lost and no claim was told it won"));
    contend_rep_free(&s.rep);

    /* Told "taken" while the store has nothing at all. */
    synth_init(&s);
    claim(&s, 0, 6, CONTEND_OK, 0, 0);
    check(&s);
    v = find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "1 claim(s) were told it was taken"));
    contend_rep_free(&s.rep);

    /* In the store, claimed by no op. */
    synth_init(&s);
    owned(&s, 7, 99);
    check(&s);
    v = find(&s, "lost-claim");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "op id 99 as its owner, which never claimed it"));
    contend_rep_free(&s.rep);
}

static void test_indeterminate_may_have_won(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    int64_t a = claim(&s, 0, 3, CONTEND_INFO, 0, 0);
    claim(&s, 1, 3, CONTEND_OK, 0, 20);
    int64_t c = claim(&s, 2, 4, CONTEND_STATUS_INVOKED, 0, 30); /* its worker died */
    owned(&s, 3, a);
    owned(&s, 4, c);
    check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);

    /* An indeterminate claim that did not make it: the id is free. */
    synth_init(&s);
    claim(&s, 0, 3, CONTEND_INFO, 0, 0);
    check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_without_state(void **state)
{
    (void)state;
    struct synth s;
    synth_init(&s);
    s.has_state = false;
    claim(&s, 0, 1, CONTEND_OK, 1, 0); /* not checked against a store */
    claim(&s, 0, 2, CONTEND_OK, 0, 10);
    check(&s);
    assert_non_null(find(&s, "lost-claim")); /* id 2: taken, nobody won */
    assert_null(find(&s, "double-claim"));
    contend_rep_free(&s.rep);

    synth_init(&s);
    s.has_state = false;
    claim(&s, 0, 1, CONTEND_OK, 1, 0);
    claim(&s, 1, 1, CONTEND_OK, 1, 1);
    check(&s);
    assert_non_null(find(&s, "double-claim"));
    assert_null(find(&s, "lost-claim"));
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
