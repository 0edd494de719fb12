/*
 * test_bank.c - the bank checker on synthetic histories: it must find a
 * wrong total in a read and in the final state, an account that does not
 * match its transfers, and overdrafts where the target promises none; it
 * must accept consistent histories, widen only for indeterminate transfers,
 * and ignore failed and declined ones.
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

/* Three accounts of 100 on `target` (sqlite promises no overdraft, null does
 * not). */
static void bank_init(struct synth *s, const char *target)
{
    synth_init(s, "bank", target, NULL, NW, 3);
}

/* Writer w moves amount from -> to during [t, t+10]; value 1 moved, 0 declined. */
static void xfer(struct synth *s, uint32_t w, uint64_t from, uint64_t to, int64_t amount,
                 uint8_t status, int64_t value, uint64_t t)
{
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = status ? t + 10 : 0,
                     .kind = CONTEND_OP_TRANSFER,
                     .status = status,
                     .key = from,
                     .key2 = to,
                     .arg = amount,
                     .value = value,
                 });
}

static void read_all(struct synth *s, uint32_t w, int64_t total, int64_t min, uint64_t t)
{
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = t + 5,
                     .kind = CONTEND_OP_READ_ALL,
                     .status = CONTEND_OK,
                     .value = total,
                     .value2 = (uint64_t)min,
                 });
}

static void final(struct synth *s, int64_t a0, int64_t a1, int64_t a2)
{
    synth_state(s, 0, a0);
    synth_state(s, 1, a1);
    synth_state(s, 2, a2);
}

static void test_consistent_is_clean(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    xfer(&s, 0, 0, 1, 30, CONTEND_OK, 1, 0);
    xfer(&s, 1, 1, 2, 50, CONTEND_OK, 1, 100);
    xfer(&s, 2, 2, 0, 500, CONTEND_OK, 0, 200);  /* declined: no effect */
    xfer(&s, 2, 2, 0, 20, CONTEND_FAIL, 0, 300); /* failed: no effect */
    read_all(&s, 0, 300, 70, 400);
    final(&s, 70, 80, 150);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_wrong_total_in_a_read(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    xfer(&s, 0, 0, 1, 30, CONTEND_OK, 1, 0);
    xfer(&s, 1, 0, 2, 20, CONTEND_OK, 1, 5); /* overlaps writer 0 on account 0 */
    read_all(&s, 2, 300, 50, 50);
    read_all(&s, 2, 330, 50, 100);
    final(&s, 50, 130, 120);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "wrong-total");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->witness[0].rec.kind, CONTEND_OP_READ_ALL);
    assert_int_equal(v->witness[0].rec.value, 330);
    assert_int_equal(v->nwitness, 3);
    assert_non_null(strstr(v->message, "1 of 2 read-alls saw a wrong total"));
    assert_non_null(strstr(v->message, "overlapped in time on a common account"));
    assert_null(synth_find(&s, "wrong-balance"));
    contend_rep_free(&s.rep);
}

static void test_wrong_total_at_the_end(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    xfer(&s, 0, 0, 1, 30, CONTEND_OK, 1, 0);
    xfer(&s, 1, 0, 1, 30, CONTEND_OK, 1, 5);
    /* Both read 100 and wrote 70: account 0 lost one debit, money appeared. */
    final(&s, 70, 160, 100);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "wrong-total");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_non_null(strstr(v->message, "total 330 (30 created)"));
    const struct contend_violation *b = synth_find(&s, "wrong-balance");
    assert_non_null(b);
    assert_non_null(strstr(b->message, "account k0 ended at 70 but its transfers make it 40"));
    contend_rep_free(&s.rep);
}

static void test_lost_transfer_keeps_total(void **state)
{
    (void)state;
    /* A whole-document rewrite loses a transfer, not money. */
    struct synth s;
    bank_init(&s, "json-doc");
    xfer(&s, 0, 0, 1, 30, CONTEND_OK, 1, 0);
    xfer(&s, 1, 2, 0, 10, CONTEND_OK, 1, 5);
    final(&s, 70, 130, 100); /* writer 1's transfer is gone */
    synth_check(&s);
    assert_null(synth_find(&s, "wrong-total"));
    const struct contend_violation *v = synth_find(&s, "wrong-balance");
    assert_non_null(v);
    assert_int_equal(v->count, 2); /* accounts 0 and 2 */
    assert_int_equal(v->nwitness, 2);
    assert_non_null(strstr(v->message, "account k0 ended at 70 but its transfers make it 80"));
    contend_rep_free(&s.rep);
}

static void test_indeterminate_widens_balances(void **state)
{
    (void)state;
    /* An indeterminate transfer of 25 from 0 to 1: either outcome is fine,
     * and nothing else is. */
    static const int64_t finals[][3] = {{100, 100, 100}, {75, 125, 100}, {90, 110, 100}};
    for (size_t i = 0; i < 3; i++) {
        struct synth s;
        bank_init(&s, "sqlite");
        xfer(&s, 0, 0, 1, 25, CONTEND_INFO, 0, 0);
        xfer(&s, 1, 1, 2, 5, CONTEND_STATUS_INVOKED, 0, 10); /* its worker died */
        final(&s, finals[i][0], finals[i][1], finals[i][2]);
        synth_check(&s);
        assert_int_equal(s.rep.nv, 0);
        contend_rep_free(&s.rep);
    }
    struct synth s;
    bank_init(&s, "sqlite");
    xfer(&s, 0, 0, 1, 25, CONTEND_INFO, 0, 0);
    final(&s, 60, 140, 100); /* 40 moved: more than the transfer could */
    synth_check(&s);
    assert_non_null(synth_find(&s, "wrong-balance"));
    assert_non_null(strstr(synth_find(&s, "wrong-balance")->message, "make it 75..100"));
    contend_rep_free(&s.rep);
}

static void test_missing_account(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    synth_state(&s, 0, 100);
    synth_state(&s, 1, 200);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "wrong-balance");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "account k1 ended at 200"));
    assert_null(synth_find(&s, "wrong-total"));
    contend_rep_free(&s.rep);

    bank_init(&s, "sqlite");
    synth_state(&s, 0, 150);
    synth_state(&s, 1, 150);
    synth_check(&s);
    assert_non_null(strstr(synth_find(&s, "wrong-balance")->message, "account k0 ended at 150"));
    contend_rep_free(&s.rep);
}

static void test_negative_balance(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    /* Both checked 100 >= 60 before either debited. */
    xfer(&s, 0, 0, 1, 60, CONTEND_OK, 1, 0);
    xfer(&s, 1, 0, 2, 60, CONTEND_OK, 1, 3);
    read_all(&s, 2, 300, -20, 50);
    final(&s, -20, 160, 160);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "negative-balance");
    assert_non_null(v);
    assert_int_equal(v->count, 2); /* one read, one account */
    assert_int_equal(v->nwitness, 3);
    assert_non_null(strstr(v->message, "k0 at -20"));
    assert_non_null(strstr(v->message, "debiting the same account"));
    assert_null(synth_find(&s, "wrong-total"));
    assert_null(synth_find(&s, "wrong-balance"));
    contend_rep_free(&s.rep);

    /* A target that does not promise it: not a violation. */
    bank_init(&s, "null");
    xfer(&s, 0, 0, 1, 60, CONTEND_OK, 1, 0);
    xfer(&s, 1, 0, 2, 60, CONTEND_OK, 1, 3);
    final(&s, -20, 160, 160);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    contend_rep_free(&s.rep);
}

static void test_without_state(void **state)
{
    (void)state;
    struct synth s;
    bank_init(&s, "sqlite");
    s.has_state = false;
    xfer(&s, 0, 0, 1, 30, CONTEND_OK, 1, 0);
    read_all(&s, 1, 300, 70, 50);
    synth_check(&s);
    assert_int_equal(s.rep.nv, 0);
    read_all(&s, 1, 299, -1, 100);
    synth_check(&s);
    assert_non_null(synth_find(&s, "wrong-total"));
    assert_non_null(synth_find(&s, "negative-balance"));
    assert_null(synth_find(&s, "wrong-balance"));
    contend_rep_free(&s.rep);
}

static void test_gen(void **state)
{
    (void)state;
    const struct contend_workload *wl = contend_find_workload("bank");
    struct contend_gen g = {.seed = 3, .keys = 4, .writer = 1, .writers = 2};
    g.opt[0] = 20; /* read_pct */
    g.opt[1] = 7;  /* max_amount */
    unsigned reads = 0;
    for (uint64_t i = 0; i < 2000; i++) {
        struct contend_op a = synth_gen_twice(wl, &g, i);
        if (a.kind == CONTEND_OP_READ_ALL) {
            reads++;
            continue;
        }
        assert_int_equal(a.kind, CONTEND_OP_TRANSFER);
        assert_true(a.key < 4 && a.key2 < 4 && a.key != a.key2);
        assert_true(a.arg >= 1 && a.arg <= 7);
    }
    assert_true(reads > 300 && reads < 500);
    /* One account: transfers to itself. */
    g.keys = 1;
    struct contend_rng r;
    struct contend_op op = {0};
    g.opt[0] = 0;
    contend_rng_init(&r, 1, 0, 0);
    wl->gen(&g, 0, &r, &op);
    assert_int_equal(op.key, 0);
    assert_int_equal(op.key2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consistent_is_clean),
        cmocka_unit_test(test_wrong_total_in_a_read),
        cmocka_unit_test(test_wrong_total_at_the_end),
        cmocka_unit_test(test_lost_transfer_keeps_total),
        cmocka_unit_test(test_indeterminate_widens_balances),
        cmocka_unit_test(test_missing_account),
        cmocka_unit_test(test_negative_balance),
        cmocka_unit_test(test_without_state),
        cmocka_unit_test(test_gen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
