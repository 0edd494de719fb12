/*
 * test_schedule.c - the controlled schedule's choices from a seed (pure
 * functions), and the token hand-off between threads of one process: the
 * same seed gives the same decisions, every run.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "schedule.h"

static void test_mode_names(void **state)
{
    (void)state;
    assert_int_equal(contend_sched_mode_of("os"), SCHED_OS);
    assert_int_equal(contend_sched_mode_of(""), SCHED_OS);
    assert_int_equal(contend_sched_mode_of("random"), SCHED_RANDOM);
    assert_int_equal(contend_sched_mode_of("pct"), SCHED_PCT);
    assert_int_equal(contend_sched_mode_of("fifo"), -1);
    assert_string_equal(contend_sched_mode_name(SCHED_PCT), "pct");
    assert_string_equal(contend_sched_reason_name(SCHED_POINT), "point");
}

/* Priorities are a permutation of depth .. depth+n-1; change points lie in
 * [1, k], sorted; all of it a function of the seed. */
static void test_pct_init(void **state)
{
    (void)state;
    int64_t prio[8], prio2[8];
    uint64_t change[4], change2[4];
    unsigned differ = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        contend_pct_init(seed, 8, 4, 100, prio, change);
        contend_pct_init(seed, 8, 4, 100, prio2, change2);
        assert_memory_equal(prio, prio2, sizeof prio);
        assert_memory_equal(change, change2, 3 * sizeof change[0]);
        bool seen[8] = {false};
        for (int i = 0; i < 8; i++) {
            assert_true(prio[i] >= 4 && prio[i] < 12);
            assert_false(seen[prio[i] - 4]);
            seen[prio[i] - 4] = true;
        }
        for (int i = 0; i < 3; i++) {
            assert_true(change[i] >= 1 && change[i] <= 100);
            if (i)
                assert_true(change[i - 1] <= change[i]);
        }
        contend_pct_init(seed + 1000, 8, 4, 100, prio2, change2);
        differ += memcmp(prio, prio2, sizeof prio) != 0;
    }
    assert_true(differ > 150);
}

static void test_pct_pick_highest_eligible(void **state)
{
    (void)state;
    int64_t prio[4] = {5, 9, 7, 2};
    bool all[4] = {true, true, true, true};
    bool some[4] = {true, false, true, true};
    bool none[4] = {false, false, false, false};
    assert_int_equal(contend_sched_pick(SCHED_PCT, 1, 0, 4, all, prio), 1);
    assert_int_equal(contend_sched_pick(SCHED_PCT, 1, 0, 4, some, prio), 2);
    assert_int_equal(contend_sched_pick(SCHED_PCT, 1, 0, 4, none, prio), CONTEND_SCHED_NONE);
    assert_int_equal(contend_sched_pick(SCHED_RANDOM, 1, 0, 4, none, prio), CONTEND_SCHED_NONE);
}

/* Random: only eligible threads, the same thread for the same (seed, step),
 * and about uniform over the eligible ones. */
static void test_random_pick(void **state)
{
    (void)state;
    int64_t prio[4] = {0, 0, 0, 0};
    bool el[4] = {true, false, true, true};
    unsigned count[4] = {0};
    for (uint64_t step = 0; step < 30000; step++) {
        uint32_t w = contend_sched_pick(SCHED_RANDOM, 42, step, 4, el, prio);
        assert_true(w < 4 && el[w]);
        assert_int_equal(w, contend_sched_pick(SCHED_RANDOM, 42, step, 4, el, prio));
        count[w]++;
    }
    assert_int_equal(count[1], 0);
    for (int i = 0; i < 4; i += i == 0 ? 2 : 1)
        assert_true(count[i] > 9000 && count[i] < 11000);
}

/* ---- the token between threads of this process ---------------------------- */

#define NT 3
#define STEPS 20

static struct contend_sched_shared shared;
static struct contend_sched_entry logbuf[4096];
static uint32_t order[NT * STEPS * 3];
static unsigned norder;

static void *body(void *arg)
{
    uint32_t w = (uint32_t)(uintptr_t)arg;
    contend_sched_thread_begin(w);
    for (int i = 0; i < STEPS; i++) {
        contend_sched_yield(SCHED_OP, NULL);
        order[norder++] = w; /* only the token holder runs: no race */
        contend_sched_yield(SCHED_POINT, "test:window");
        order[norder++] = w;
    }
    contend_sched_thread_end();
    return NULL;
}

static void run_threads(int mode, uint64_t seed, uint64_t round_ops, uint32_t *out, unsigned *nout)
{
    memset(&shared, 0, sizeof shared);
    memset(logbuf, 0, sizeof logbuf);
    norder = 0;
    contend_sched_setup(&shared, mode, seed, NT, 2, STEPS * (NT - 1), round_ops, logbuf, 4096);
    contend_sched_attach(&shared, logbuf);
    pthread_t t[NT];
    for (uintptr_t i = 0; i < NT; i++)
        assert_int_equal(pthread_create(&t[i], NULL, body, (void *)i), 0);
    for (int i = 0; i < NT; i++)
        pthread_join(t[i], NULL);
    contend_sched_attach(NULL, NULL);
    memcpy(out, order, norder * sizeof *out);
    *nout = norder;
    assert_int_equal(shared.token, CONTEND_SCHED_NONE);
    assert_false(shared.off);
}

static void test_token_deterministic(void **state)
{
    (void)state;
    static uint32_t a[NT * STEPS * 3], b[NT * STEPS * 3];
    unsigned na, nb;
    for (int mode = SCHED_RANDOM; mode <= SCHED_PCT; mode++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            run_threads(mode, seed, 0, a, &na);
            uint64_t steps = shared.step;
            run_threads(mode, seed, 0, b, &nb);
            assert_int_equal(na, NT * STEPS * 2);
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na * sizeof *a);
            assert_int_equal(steps, shared.step);
        }
    }
}

/* PCT with depth 2 on three threads: exactly one priority change, inside a
 * window, so there is one hand-off at a point and the others at exits. */
static void test_pct_one_window_handoff(void **state)
{
    (void)state;
    static uint32_t a[NT * STEPS * 3];
    unsigned na;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        run_threads(SCHED_PCT, seed, 0, a, &na);
        assert_int_equal(shared.window_handoffs, 1);
    }
}

/* PCT in rounds (round_ops = 2: a round is 2 ops per live thread): every
 * round draws its own priorities and its own change point, so a run of 60 ops
 * switches threads inside a window many times, where one round switches once;
 * and the schedule is still a function of the seed. */
static void test_pct_rounds(void **state)
{
    (void)state;
    static uint32_t a[NT * STEPS * 3], b[NT * STEPS * 3];
    unsigned na, nb, most = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        run_threads(SCHED_PCT, seed, 2, a, &na);
        uint64_t windows = shared.window_handoffs, rounds = shared.round;
        assert_true(rounds >= NT * STEPS / (2 * NT) - 1);
        assert_true(windows >= 2 && windows <= rounds + 1);
        most = windows > most ? (unsigned)windows : most;
        run_threads(SCHED_PCT, seed, 2, b, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na * sizeof *a);
        assert_int_equal(shared.window_handoffs, windows);
    }
    assert_true(most >= 5);
}

/* A worker killed after one of its threads had finished is restarted with
 * that thread too: its begin must not wait for a token that never comes back
 * to a finished writer (it did: a `hang` in a correct case with kills), and
 * it runs outside the schedule.  A hang here is the test's failure (ctest's
 * timeout). */
static void test_restarted_finished_thread(void **state)
{
    (void)state;
    for (int mode = SCHED_RANDOM; mode <= SCHED_PCT; mode++) {
        memset(&shared, 0, sizeof shared);
        contend_sched_setup(&shared, mode, 5, 1, 2, 10, 1, logbuf, 4096);
        contend_sched_attach(&shared, logbuf);
        contend_sched_thread_begin(0);
        contend_sched_yield(SCHED_OP, NULL);
        contend_sched_thread_end();
        assert_int_equal(shared.token, CONTEND_SCHED_NONE);
        contend_sched_thread_begin(0); /* the restarted thread */
        assert_int_equal(contend_sched_controlled(), 0);
        contend_sched_yield(SCHED_OP, NULL);
        contend_sched_thread_end();
        contend_sched_attach(NULL, NULL);
        assert_false(shared.off);
    }
}

/* What contend_sched_would_block() tells the preload shim.  One thread alone
 * whose call would block: nobody under the schedule can free it (what can
 * runs outside the schedule), so SCHED_BLOCK_STUCK.  Two threads, the other
 * still running: the token went round, SCHED_BLOCK_RETRY.  Outside the
 * schedule (before begin, after end): SCHED_BLOCK_OS, the real call. */
static int answers[8];
static int released;

static void *lone(void *arg)
{
    (void)arg;
    answers[0] = contend_sched_would_block("test:early");
    contend_sched_thread_begin(0);
    answers[1] = contend_sched_controlled();
    answers[2] = contend_sched_would_block("test:outside");
    contend_sched_yield(SCHED_OP, NULL);
    contend_sched_thread_end();
    answers[3] = contend_sched_controlled();
    answers[4] = contend_sched_would_block("test:late");
    return NULL;
}

static void *blocker(void *arg)
{
    (void)arg;
    contend_sched_thread_begin(0);
    answers[5] = contend_sched_would_block("test:lock");
    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    contend_sched_thread_end();
    return NULL;
}

static void *holder(void *arg)
{
    (void)arg;
    contend_sched_thread_begin(1);
    while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
        contend_sched_yield(SCHED_OP, NULL);
    contend_sched_thread_end();
    return NULL;
}

static void test_would_block_answers(void **state)
{
    (void)state;
    for (int mode = SCHED_RANDOM; mode <= SCHED_PCT; mode++) {
        pthread_t t[2];
        memset(answers, 0xff, sizeof answers);
        memset(&shared, 0, sizeof shared);
        contend_sched_setup(&shared, mode, 3, 1, 2, 10, 0, logbuf, 4096);
        contend_sched_attach(&shared, logbuf);
        assert_int_equal(pthread_create(&t[0], NULL, lone, NULL), 0);
        pthread_join(t[0], NULL);
        assert_int_equal(answers[0], SCHED_BLOCK_OS);
        assert_int_equal(answers[1], 1);
        assert_int_equal(answers[2], SCHED_BLOCK_STUCK);
        assert_int_equal(answers[3], 0);
        assert_int_equal(answers[4], SCHED_BLOCK_OS);
        assert_int_equal(shared.block_yields, 1);

        contend_sched_attach(NULL, NULL);
        /* The holder spins on the token until the blocker has run: under
         * pct the higher priority would run alone for ever, so random only. */
        if (mode != SCHED_RANDOM)
            continue;
        memset(&shared, 0, sizeof shared);
        released = 0;
        contend_sched_setup(&shared, mode, 3, 2, 2, 10, 0, logbuf, 4096);
        contend_sched_attach(&shared, logbuf);
        assert_int_equal(pthread_create(&t[0], NULL, blocker, NULL), 0);
        assert_int_equal(pthread_create(&t[1], NULL, holder, NULL), 0);
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
        contend_sched_attach(NULL, NULL);
        assert_int_equal(answers[5], SCHED_BLOCK_RETRY);
        assert_false(shared.off);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_pct_init),
        cmocka_unit_test(test_pct_pick_highest_eligible),
        cmocka_unit_test(test_random_pick),
        cmocka_unit_test(test_token_deterministic),
        cmocka_unit_test(test_pct_one_window_handoff),
        cmocka_unit_test(test_pct_rounds),
        cmocka_unit_test(test_restarted_finished_thread),
        cmocka_unit_test(test_would_block_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
