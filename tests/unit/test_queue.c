/*
 * test_queue.c - the queue checker on synthetic histories, one test where
 * each kind must be reported and one or more where it must not: lost-job,
 * double-delivery (two holders at once; delivered after its ack; acked but
 * still queued; a redelivery after a consumer's death, allowed on an
 * at-least-once target and not on another), phantom-job (never enqueued;
 * in the store only; a payload that is another job's) and out-of-order
 * (FIFO targets only).  And gen(): producers, consumers, the ack of the job
 * a consumer holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"
#include "result.h"
#include "synth.h"

/* file-queue:rename-claim is at-least-once, not FIFO; scan-read-delete is
 * neither; sqlite is both. */
static void init(struct synth *s, const char *target, const char *variant)
{
    synth_init(s, "queue", target, variant, 3, 1);
}

static uint64_t enq(struct synth *s, uint32_t w, uint8_t status, uint64_t t)
{
    uint64_t idx = s->w[w].n;
    uint64_t job = contend_op_id(w, idx);
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = status ? t + 5 : 0,
                     .kind = CONTEND_OP_ENQUEUE,
                     .status = status,
                     .key = job,
                 });
    return job;
}

/* A take that returned `job` (-1: empty), payload check `pay` (value2). */
static void take(struct synth *s, uint32_t w, int64_t job, uint8_t status, uint64_t t, uint64_t pay)
{
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = status ? t + 5 : 0,
                     .kind = CONTEND_OP_DEQUEUE,
                     .status = status,
                     .value = job,
                     .value2 = pay,
                 });
}

static void ack(struct synth *s, uint32_t w, uint64_t job, uint8_t status, uint64_t t)
{
    synth_append(s, w,
                 (struct contend_record){
                     .t_invoke = t,
                     .t_complete = status ? t + 5 : 0,
                     .kind = CONTEND_OP_ACK,
                     .status = status,
                     .key = job,
                 });
}

static void assert_clean(struct synth *s)
{
    for (size_t i = 0; i < s->rep.nv; i++)
        print_error("unexpected %s: %s\n", s->rep.v[i].kind, s->rep.v[i].message);
    assert_int_equal(s->rep.nv, 0);
}

static void test_clean_run(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    uint64_t b = enq(&s, 0, CONTEND_OK, 10);
    enq(&s, 0, CONTEND_FAIL, 20); /* certainly not enqueued: nowhere, fine */
    take(&s, 1, (int64_t)a, CONTEND_OK, 30, 1);
    take(&s, 2, -1, CONTEND_OK, 31, 0); /* empty */
    ack(&s, 1, a, CONTEND_OK, 40);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_state(&s, b, CONTEND_QUEUE_READY);
    synth_check(&s);
    assert_clean(&s);
    assert_true(synth_stat(&s, "queue_redelivered") == 0);
    contend_rep_free(&s.rep);
}

static void test_lost_never_taken(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    (void)a;
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "lost-job");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    contend_rep_free(&s.rep);
}

static void test_lost_with_its_consumer(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "delete-before-process");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    take(&s, 1, -1, CONTEND_OK, 50, 0); /* restarted: the ack never came */
    synth_check(&s);
    assert_non_null(synth_find(&s, "lost-job"));
    contend_rep_free(&s.rep);
}

static void test_not_lost(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    enq(&s, 0, CONTEND_INFO, 0);             /* may never have happened */
    uint64_t b = enq(&s, 0, CONTEND_OK, 10); /* held by a consumer at the end */
    uint64_t c = enq(&s, 0, CONTEND_OK, 20); /* its ack was cut short: may be done */
    take(&s, 1, (int64_t)b, CONTEND_OK, 30, 1);
    take(&s, 2, (int64_t)c, CONTEND_OK, 31, 1);
    ack(&s, 2, c, CONTEND_INFO, 40);
    synth_state(&s, b, 1);
    synth_check(&s);
    assert_null(synth_find(&s, "lost-job"));
    assert_clean(&s);
    contend_rep_free(&s.rep);
}

static void test_lost_needs_state(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    enq(&s, 0, CONTEND_OK, 0);
    s.has_state = false;
    synth_check(&s);
    assert_null(synth_find(&s, "lost-job"));
    contend_rep_free(&s.rep);
}

static void test_double_two_holders(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    take(&s, 2, (int64_t)a, CONTEND_OK, 11, 1);
    ack(&s, 1, a, CONTEND_OK, 20);
    ack(&s, 2, a, CONTEND_OK, 21);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "double-delivery");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    assert_int_equal(v->nwitness, 2);
    contend_rep_free(&s.rep);
}

/* A consumer died holding the job; the job came back once. */
static void redelivery(struct synth *s)
{
    uint64_t a = enq(s, 0, CONTEND_OK, 0);
    take(s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    take(s, 1, -1, CONTEND_OK, 30, 0); /* restarted: not the ack */
    take(s, 2, (int64_t)a, CONTEND_OK, 40, 1);
    ack(s, 2, a, CONTEND_OK, 50);
    synth_state(s, a, CONTEND_QUEUE_DONE);
}

static void test_redelivery_allowed_at_least_once(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    redelivery(&s);
    synth_check(&s);
    assert_clean(&s);
    assert_true(synth_stat(&s, "queue_redelivered") == 1);
    contend_rep_free(&s.rep);
}

static void test_redelivery_forbidden_exactly_once(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "scan-read-delete");
    redelivery(&s);
    synth_check(&s);
    assert_non_null(synth_find(&s, "double-delivery"));
    contend_rep_free(&s.rep);
}

/* Died holding it twice, came back twice: still fine.  Three holders for
 * one death: one too many. */
static void test_redelivery_counts_deaths(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "sqlite", NULL);
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    ack(&s, 1, a, CONTEND_INFO, 15); /* killed in its ack */
    take(&s, 2, (int64_t)a, CONTEND_OK, 40, 1);
    ack(&s, 2, a, CONTEND_OK, 50);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_null(synth_find(&s, "double-delivery"));

    contend_rep_free(&s.rep);
    init(&s, "sqlite", NULL);
    a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    take(&s, 1, -1, CONTEND_OK, 20, 0);
    take(&s, 2, (int64_t)a, CONTEND_OK, 30, 1);
    ack(&s, 2, a, CONTEND_FAIL, 40); /* alive, still holds it */
    take(&s, 0, (int64_t)a, CONTEND_OK, 50, 1);
    ack(&s, 0, a, CONTEND_OK, 60);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_non_null(synth_find(&s, "double-delivery"));
    contend_rep_free(&s.rep);
}

static void test_double_after_ack(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    ack(&s, 1, a, CONTEND_OK, 20);
    take(&s, 2, (int64_t)a, CONTEND_OK, 40, 1); /* and then it died holding it */
    synth_state(&s, a, CONTEND_QUEUE_READY);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "double-delivery");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "acknowledged"));
    contend_rep_free(&s.rep);
}

static void test_double_acked_still_queued(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    uint64_t b = enq(&s, 0, CONTEND_OK, 1);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    ack(&s, 1, a, CONTEND_OK, 20);
    synth_state(&s, a, CONTEND_QUEUE_READY); /* the ack did not stick */
    synth_state(&s, b, CONTEND_QUEUE_READY); /* in two places */
    synth_state(&s, b, CONTEND_QUEUE_DONE);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "double-delivery");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    contend_rep_free(&s.rep);
}

static void test_phantom_taken(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    take(&s, 1, 12345, CONTEND_OK, 10, 0);
    ack(&s, 1, 12345, CONTEND_OK, 20);
    synth_state(&s, 12345, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_non_null(synth_find(&s, "phantom-job"));
    assert_null(synth_find(&s, "lost-job"));
    contend_rep_free(&s.rep);
}

static void test_phantom_in_store_or_payload(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 2); /* another job's payload */
    ack(&s, 1, a, CONTEND_OK, 20);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_state(&s, 999, CONTEND_QUEUE_READY); /* nobody enqueued it */
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "phantom-job");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    contend_rep_free(&s.rep);
}

static void test_not_phantom(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    uint64_t a = enq(&s, 0, CONTEND_INFO, 0); /* cut short, but it happened */
    take(&s, 1, (int64_t)a, CONTEND_OK, 10, 1);
    ack(&s, 1, a, CONTEND_OK, 20);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_clean(&s);
    contend_rep_free(&s.rep);
}

/* Producer 0 enqueues a then b; b is taken and done before a's take began. */
static void out_of_order(struct synth *s)
{
    uint64_t a = enq(s, 0, CONTEND_OK, 0);
    uint64_t b = enq(s, 0, CONTEND_OK, 10);
    take(s, 1, (int64_t)b, CONTEND_OK, 20, 1);
    ack(s, 1, b, CONTEND_OK, 30);
    take(s, 2, (int64_t)a, CONTEND_OK, 40, 1);
    ack(s, 2, a, CONTEND_OK, 50);
    synth_state(s, a, CONTEND_QUEUE_DONE);
    synth_state(s, b, CONTEND_QUEUE_DONE);
}

static void test_out_of_order_fifo(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "sqlite", "wal-immediate");
    out_of_order(&s);
    synth_check(&s);
    const struct contend_violation *v = synth_find(&s, "out-of-order");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    contend_rep_free(&s.rep);
}

static void test_out_of_order_left_behind(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "sqlite", "wal-immediate");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    uint64_t b = enq(&s, 0, CONTEND_OK, 10);
    take(&s, 1, (int64_t)b, CONTEND_OK, 20, 1);
    ack(&s, 1, b, CONTEND_OK, 30);
    synth_state(&s, a, CONTEND_QUEUE_READY); /* never taken */
    synth_state(&s, b, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_non_null(synth_find(&s, "out-of-order"));
    contend_rep_free(&s.rep);
}

static void test_order_not_promised(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "file-queue", "rename-claim");
    out_of_order(&s);
    synth_check(&s);
    assert_clean(&s);
    contend_rep_free(&s.rep);
}

static void test_order_kept_or_excused(void **state)
{
    (void)state;
    struct synth s;
    init(&s, "sqlite", "wal-immediate");
    uint64_t a = enq(&s, 0, CONTEND_OK, 0);
    uint64_t b = enq(&s, 0, CONTEND_OK, 10);
    take(&s, 1, (int64_t)a, CONTEND_OK, 20, 1);
    take(&s, 2, (int64_t)b, CONTEND_OK, 21, 1); /* concurrent: either order */
    ack(&s, 1, a, CONTEND_OK, 30);
    ack(&s, 2, b, CONTEND_OK, 31);
    synth_state(&s, a, CONTEND_QUEUE_DONE);
    synth_state(&s, b, CONTEND_QUEUE_DONE);
    synth_check(&s);
    assert_clean(&s);

    /* A take cut short before b's may have taken a: a came back later. */
    contend_rep_free(&s.rep);
    init(&s, "sqlite", "wal-immediate");
    take(&s, 2, -1, CONTEND_INFO, 15, 0);
    out_of_order(&s);
    synth_check(&s);
    assert_null(synth_find(&s, "out-of-order"));
    contend_rep_free(&s.rep);
}

static void test_gen_roles(void **state)
{
    (void)state;
    const struct contend_workload *wl = contend_find_workload("queue");
    unsigned char buf[64];
    struct contend_gen g = {.seed = 3, .keys = 1, .writer = 0, .writers = 3};
    g.opt[0] = 50; /* produce_pct */
    g.opt[1] = 1;  /* producers: writer 0 only enqueues */
    g.opt[2] = 0;  /* no processing time */
    for (uint64_t i = 0; i < 20; i++) {
        struct contend_op op = synth_gen_twice(wl, &g, i);
        assert_int_equal(op.kind, CONTEND_OP_ENQUEUE);
        assert_int_equal(op.key, contend_op_id(0, i));
    }
    /* A consumer takes, then acks what it took, then takes again. */
    g.writer = 1;
    struct contend_rng r;
    struct contend_op op = {.buf = buf, .buf_cap = sizeof buf};
    contend_rng_init(&r, g.seed, g.writer, 0);
    wl->gen(&g, 0, &r, &op);
    assert_int_equal(op.kind, CONTEND_OP_DEQUEUE);
    op.value = 77;
    memcpy(buf, "job:77", 6);
    op.buf_len = 6;
    wl->complete(&g, &op, CONTEND_OK);
    assert_int_equal(op.value2, 1);
    memset(&op, 0, sizeof op);
    op.buf = buf;
    op.buf_cap = sizeof buf;
    contend_rng_init(&r, g.seed, g.writer, 1);
    wl->gen(&g, 1, &r, &op);
    assert_int_equal(op.kind, CONTEND_OP_ACK);
    assert_int_equal(op.key, 77);
    memset(&op, 0, sizeof op);
    contend_rng_init(&r, g.seed, g.writer, 2);
    wl->gen(&g, 2, &r, &op);
    assert_int_equal(op.kind, CONTEND_OP_DEQUEUE);
    /* A payload that is not the job's. */
    op.buf = buf;
    op.buf_cap = sizeof buf;
    op.value = 78;
    memcpy(buf, "job:77", 6);
    op.buf_len = 6;
    wl->complete(&g, &op, CONTEND_OK);
    assert_int_equal(op.value2, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_run),
        cmocka_unit_test(test_lost_never_taken),
        cmocka_unit_test(test_lost_with_its_consumer),
        cmocka_unit_test(test_not_lost),
        cmocka_unit_test(test_lost_needs_state),
        cmocka_unit_test(test_double_two_holders),
        cmocka_unit_test(test_redelivery_allowed_at_least_once),
        cmocka_unit_test(test_redelivery_forbidden_exactly_once),
        cmocka_unit_test(test_redelivery_counts_deaths),
        cmocka_unit_test(test_double_after_ack),
        cmocka_unit_test(test_double_acked_still_queued),
        cmocka_unit_test(test_phantom_taken),
        cmocka_unit_test(test_phantom_in_store_or_payload),
        cmocka_unit_test(test_not_phantom),
        cmocka_unit_test(test_out_of_order_fifo),
        cmocka_unit_test(test_out_of_order_left_behind),
        cmocka_unit_test(test_order_not_promised),
        cmocka_unit_test(test_order_kept_or_excused),
        cmocka_unit_test(test_gen_roles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
