/*
 * test_growth.c - the growth fit on synthetic data.  It must flag per-op cost
 * that rises with the store (even through noise), must not flag a flat cost
 * (even with a neighbour's burst of slow ops), and must refuse to guess from
 * too little.  Then the same through histories and the verdict.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "check.h"
#include "growth.h"
#include "helpers.h"
#include "registry.h"

#define N 20000

static uint64_t run_seed; /* the regime pattern of the run being fitted */

/* Multiplicative noise in [1 - a, 1 + a], plus a 1-in-20 slow op (x3..x10):
 * what a loaded machine does to latencies. */
static double noisy(struct contend_rng *rng, double v, double a)
{
    double u = (double)contend_rng_below(rng, 1000000) / 1e6;
    v *= 1 - a + 2 * a * u;
    if (contend_rng_below(rng, 20) == 0)
        v *= 3 + (double)contend_rng_below(rng, 8);
    return v;
}

static void fit(double (*cost)(uint64_t size, struct contend_rng *rng), uint64_t seed,
                struct contend_growth *g)
{
    struct contend_growth_sample *s = calloc(N, sizeof *s);
    struct contend_rng rng;
    contend_rng_init(&rng, seed, 0, 0);
    run_seed = seed;
    for (uint64_t i = 0; i < N; i++)
        s[i] = (struct contend_growth_sample){.size = i, .cost = (uint64_t)cost(i, &rng)};
    contend_growth_fit(s, N, g);
    free(s);
}

static double flat(uint64_t size, struct contend_rng *rng)
{
    (void)size;
    return noisy(rng, 8000, 0.4);
}

/* A neighbour's burst: 1/16 of the run five times slower, near the end. */
static double flat_burst(uint64_t size, struct contend_rng *rng)
{
    double v = noisy(rng, 8000, 0.3);
    return (size > N * 13 / 16 && size < N * 14 / 16) ? v * 5 : v;
}

/* The whole-file re-read: a fixed part plus 50 ns per record. */
static double linear(uint64_t size, struct contend_rng *rng)
{
    return noisy(rng, 20000 + 50.0 * (double)size, 0.4);
}

/* A mild but real dependency: 20 us fixed + 5 ns per record (x6 over the run). */
static double gentle(uint64_t size, struct contend_rng *rng)
{
    return noisy(rng, 20000 + 5.0 * (double)size, 0.2);
}

/* A neighbour starts halfway through (everything after is 2x slower), or
 * during the middle part of the range. */
static double flat_step(uint64_t size, struct contend_rng *rng)
{
    return noisy(rng, 8000, 0.3) * (size > N / 2 ? 2 : 1);
}

static double flat_step_early(uint64_t size, struct contend_rng *rng)
{
    return noisy(rng, 8000, 0.3) * (size > N / 10 ? 2 : 1);
}

/* The machine's speed switches between 1x and 2x at random moments, several
 * times a run (a regime lasts 1500 ops): what a shared, oversubscribed VM
 * does.  Which regime a stretch is in follows from the run's seed. */
static double regimes(uint64_t size)
{
    return (contend_mix64(size / 1500 + run_seed * 7919) & 1) ? 2.0 : 1.0;
}

static double flat_regimes(uint64_t size, struct contend_rng *rng)
{
    return noisy(rng, 8000, 0.2) * regimes(size);
}

static double linear_regimes(uint64_t size, struct contend_rng *rng)
{
    return linear(size, rng) * regimes(size);
}

/* ... or stops halfway through a run that really grows. */
static double linear_step_down(uint64_t size, struct contend_rng *rng)
{
    return linear(size, rng) / (size > N / 2 ? 2 : 1);
}

static void test_flat_is_not_flagged(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct contend_growth g;
        fit(flat, seed, &g);
        assert_true(g.valid);
        if (fabs(g.exponent) >= 0.05)
            fail_msg("seed %llu: flat cost fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(flat_burst, seed, &g);
        if (g.exponent >= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: a burst fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(flat_step, seed, &g);
        if (g.exponent >= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: a step at N/2 fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(flat_regimes, seed, &g);
        if (g.exponent >= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: switching speed fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(flat_step_early, seed, &g);
        if (g.exponent >= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: a step at N/10 fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
    }
}

static void test_linear_is_flagged(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        struct contend_growth g;
        fit(linear, seed, &g);
        assert_true(g.valid);
        if (g.exponent < 0.6 || g.exponent > 1.1)
            fail_msg("seed %llu: linear cost fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(gentle, seed, &g);
        if (g.exponent <= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: 5 ns/record fitted as size^%.3f", (unsigned long long)seed,
                     g.exponent);
        fit(linear_regimes, seed, &g);
        if (g.exponent <= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: growth at switching speed fitted as size^%.3f",
                     (unsigned long long)seed, g.exponent);
        fit(linear_step_down, seed, &g);
        if (g.exponent <= CONTEND_GROWTH_DEFAULT_MAX)
            fail_msg("seed %llu: growth with a step down fitted as size^%.3f",
                     (unsigned long long)seed, g.exponent);
    }
}

static void test_refuses_to_guess(void **state)
{
    (void)state;
    struct contend_growth g;
    struct contend_growth_sample s[CONTEND_GROWTH_MIN_OPS] = {{0}};
    contend_growth_fit(s, 10, &g);
    assert_false(g.valid);
    assert_non_null(strstr(g.why, "only 10"));
    /* Enough ops, but the store did not grow. */
    for (size_t i = 0; i < CONTEND_GROWTH_MIN_OPS; i++)
        s[i] = (struct contend_growth_sample){.size = 5, .cost = 100 + i};
    contend_growth_fit(s, CONTEND_GROWTH_MIN_OPS, &g);
    assert_false(g.valid);
    assert_non_null(strstr(g.why, "barely grew"));
    /* It grew, but every op but a few happened at the end. */
    for (size_t i = 0; i < CONTEND_GROWTH_MIN_OPS; i++)
        s[i] = (struct contend_growth_sample){.size = i < 3 ? 300 * i : 900, .cost = 100};
    contend_growth_fit(s, CONTEND_GROWTH_MIN_OPS, &g);
    assert_false(g.valid);
    assert_non_null(strstr(g.why, "too few ops at sizes"));
}

/* Histories of two writers whose op latency is 1 us per op completed before
 * it: sizes must come out right from completion times alone. */
struct fake {
    struct contend_history_header hdr[2];
    struct contend_record rec[2][2000];
    struct contend_work work[2][2000];
    struct contend_hist hist[2];
    uint32_t series[2][CONTEND_SERIES_LEN];
    struct contend_history h[2];
};

static void fake_run(struct fake *f, bool grows)
{
    memset(f, 0, sizeof *f);
    uint64_t t[2] = {1000, 1500}, done = 0;
    uint64_t idx[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        f->hdr[i].capacity = 2000;
        f->h[i] = (struct contend_history){
            .hdr = &f->hdr[i], .rec = f->rec[i], .hist = &f->hist[i], .series = f->series[i]};
    }
    /* Interleave: whichever writer's clock is behind runs its next op. */
    while (idx[0] < 2000 || idx[1] < 2000) {
        int w = (idx[1] >= 2000 || (idx[0] < 2000 && t[0] <= t[1])) ? 0 : 1;
        struct contend_record *r = &f->rec[w][idx[w]];
        uint64_t lat = grows ? 1000 + 1000 * done : 5000 + (idx[w] % 7) * 100;
        r->t_invoke = t[w];
        r->kind = CONTEND_OP_INCR;
        if (idx[w] == 700 && w == 1) {
            r->status = CONTEND_STATUS_INVOKED; /* died mid-op: never completes */
        } else {
            r->status = CONTEND_OK;
            r->t_complete = t[w] + lat;
            done++;
        }
        t[w] += lat + 10;
        idx[w]++;
    }
    f->hdr[0].count = f->hdr[1].count = 2000;
}

/* Give the fake run each op's work, as a worker that measures it records:
 * bytes and/or CPU time that grow with the store (record idx of a writer
 * starts at about 2 * idx ops stored), else flat with a little jitter. */
static void fake_work(struct fake *f, bool bytes_grow, bool cpu_grow)
{
    for (int w = 0; w < 2; w++) {
        f->h[w].work = f->work[w];
        f->hdr[w].work_measured = 1;
        for (uint64_t i = 0; i < 2000; i++)
            f->work[w][i] = (struct contend_work){
                .cpu_ns = cpu_grow ? 2000 + 500 * 2 * i : 4000 + (i % 5) * 50,
                .read_bytes = bytes_grow ? 150 * 2 * i : 4096,
                .write_bytes = 150,
                .syscalls = 3,
            };
    }
}

static void test_growth_of_run(void **state)
{
    (void)state;
    struct fake *f = calloc(1, sizeof *f);
    struct contend_growths gs;
    fake_run(f, true);
    contend_growth_of_run(f->h, 2, &gs);
    const struct contend_growth *g = &gs.fit[CONTEND_GROWTH_LATENCY];
    assert_false(gs.work);
    assert_int_equal(gs.decided_by, CONTEND_GROWTH_LATENCY);
    assert_true(gs.valid && g->valid);
    assert_int_equal(g->ops, 3999);
    assert_true(g->size_max > 3900 && g->size_max < 4000);
    assert_true(g->exponent > 0.8);
    assert_true(gs.exponent == g->exponent);
    assert_false(gs.fit[CONTEND_GROWTH_BYTES].valid);
    fake_run(f, false);
    contend_growth_of_run(f->h, 2, &gs);
    assert_true(gs.valid);
    assert_true(fabs(gs.exponent) < 0.05);
    free(f);
}

/* With work measured, work decides and latency is only reported: latency
 * that grows (a neighbour's load rising through the run) over flat work is
 * no growth; bytes or CPU time that grow under flat latency are. */
static void test_work_decides(void **state)
{
    (void)state;
    struct fake *f = calloc(1, sizeof *f);
    struct contend_growths gs;

    fake_run(f, true);
    fake_work(f, false, false);
    contend_growth_of_run(f->h, 2, &gs);
    assert_true(gs.work && gs.valid);
    assert_int_not_equal(gs.decided_by, CONTEND_GROWTH_LATENCY);
    assert_true(fabs(gs.exponent) < 0.05);
    assert_true(gs.fit[CONTEND_GROWTH_LATENCY].exponent > 0.8);

    fake_run(f, false);
    fake_work(f, true, false);
    contend_growth_of_run(f->h, 2, &gs);
    assert_int_equal(gs.decided_by, CONTEND_GROWTH_BYTES);
    assert_true(gs.exponent > 0.8);
    assert_true(fabs(gs.fit[CONTEND_GROWTH_CPU].exponent) < 0.05);
    assert_true(fabs(gs.fit[CONTEND_GROWTH_SYSCALLS].exponent) < 0.05);

    fake_run(f, false);
    fake_work(f, false, true);
    contend_growth_of_run(f->h, 2, &gs);
    assert_int_equal(gs.decided_by, CONTEND_GROWTH_CPU);
    assert_true(gs.exponent > 0.8);

    /* One writer that did not measure: latency decides. */
    fake_run(f, false);
    fake_work(f, true, true);
    f->hdr[1].work_measured = 0;
    contend_growth_of_run(f->h, 2, &gs);
    assert_false(gs.work);
    assert_int_equal(gs.decided_by, CONTEND_GROWTH_LATENCY);
    assert_true(fabs(gs.exponent) < 0.05);
    free(f);
}

/* The worker's own counters: reading a file shows up as its bytes, and
 * CPU time runs. */
static void test_work_now(void **state)
{
    (void)state;
    int fd = contend_work_open();
    assert_true(fd >= 0);
    struct contend_work a, b;
    contend_work_now(fd, &a);
    char buf[4096];
    FILE *f = fopen("/proc/self/exe", "rb");
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0);
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    volatile double x = 1;
    for (int i = 0; i < 200000; i++)
        x = x * 1.0000001;
    contend_work_now(fd, &b);
    close(fd);
    assert_true(b.read_bytes - a.read_bytes >= got);
    assert_true(b.syscalls > a.syscalls);
    assert_true(b.cpu_ns > a.cpu_ns);
    assert_string_equal(contend_growth_measure_name(CONTEND_GROWTH_BYTES), "bytes");
    assert_string_equal(contend_growth_measure_unit(CONTEND_GROWTH_CPU), "ns");
}

/* superlinear-growth is a gate unless expected, and `expect` alone judges
 * growth at the default threshold: the fake runs through the real check. */
static void judge(const char *expect, const char *max_growth, bool grows, struct fake *f,
                  struct contend_rep *rep, struct contend_case *c)
{
    struct contend_settings ss = {0};
    contend_settings_add(&ss, "workload", "counter", "test", 1);
    contend_settings_add(&ss, "target", "null", "test", 2);
    if (expect)
        contend_settings_add(&ss, "expect", expect, "test", 3);
    if (max_growth)
        contend_settings_add(&ss, "max_growth", max_growth, "test", 4);
    assert_int_equal(contend_case_resolve(c, "c", "test", 1, &ss), 0);
    contend_settings_free(&ss);
    fake_run(f, grows);
    struct contend_env env = {.store_dir = "/nonexistent", .variant = "default"};
    memset(rep, 0, sizeof *rep);
    contend_check_run(c, &env, f->h, 2, 0, rep);
    contend_judge(c, rep);
}

static void test_verdicts(void **state)
{
    (void)state;
    struct fake *f = calloc(1, sizeof *f);
    struct contend_rep rep;
    struct contend_case c;

    judge(NULL, "0.2", true, f, &rep, &c); /* gate set, exceeded: exit 3 */
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_GATE);
    assert_true(contend_rep_has(&rep, "superlinear-growth"));
    assert_non_null(strstr(rep.gate_msg, "max_growth"));
    contend_rep_free(&rep);
    contend_case_free(&c);

    judge(NULL, "0.2", false, f, &rep, &c); /* gate set, flat */
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_OK);
    contend_rep_free(&rep);
    contend_case_free(&c);

    judge(NULL, NULL, true, f, &rep, &c); /* no gate: reported in run.json only */
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_OK);
    assert_true(rep.growth.valid && rep.growth.exponent > 0.8);
    contend_rep_free(&rep);
    contend_case_free(&c);

    judge("superlinear-growth", NULL, true, f, &rep, &c); /* expected, found */
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_OK);
    contend_rep_free(&rep);
    contend_case_free(&c);

    judge("superlinear-growth", "0.2", false, f, &rep, &c); /* expected, not there */
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_VIOLATION);
    assert_string_equal(rep.missing, "superlinear-growth");
    contend_rep_free(&rep);
    contend_case_free(&c);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_is_not_flagged),
        cmocka_unit_test(test_linear_is_flagged),
        cmocka_unit_test(test_refuses_to_guess),
        cmocka_unit_test(test_growth_of_run),
        cmocka_unit_test(test_work_decides),
        cmocka_unit_test(test_work_now),
        cmocka_unit_test(test_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
