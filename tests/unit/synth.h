/*
 * synth.h - synthetic histories for the checker unit tests.  A test builds
 * the records its writers would have left and the final state a target
 * would have reported, hands both to the workload's check() and looks at the
 * violations and stats that came back.  Each test file keeps its own small
 * helpers (a transfer, a claim, an increment) on top of synth_append().
 *
 * The capacities are the largest any test needs; a file may define smaller
 * ones before including this.  A struct synth is about 18 KiB, fine on the
 * stack of a test.
 */
#ifndef CONTEND_TEST_SYNTH_H
#define CONTEND_TEST_SYNTH_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"
#include "result.h"

#ifndef SYNTH_MAX_WRITERS
#define SYNTH_MAX_WRITERS 4
#endif
#ifndef SYNTH_MAX_RECORDS
#define SYNTH_MAX_RECORDS 64
#endif
#ifndef SYNTH_MAX_STATE
#define SYNTH_MAX_STATE 32
#endif

struct synth {
    struct contend_case c;
    struct contend_record rec[SYNTH_MAX_WRITERS][SYNTH_MAX_RECORDS];
    struct contend_writer_hist w[SYNTH_MAX_WRITERS];
    size_t nw;
    struct contend_kv state[SYNTH_MAX_STATE];
    size_t nstate;
    bool has_state;
    const char *store_dir; /* for checkers that read the store's files */
    struct contend_rep rep;
};

/* An empty history of `writers` writers, each its own worker process, of
 * `workload` on `target` (and `variant` when not NULL) over `keys` keys.
 * It has a final state, empty until synth_state() adds to it. */
static inline void synth_init(struct synth *s, const char *workload, const char *target,
                              const char *variant, uint32_t writers, uint64_t keys)
{
    assert_true(writers <= SYNTH_MAX_WRITERS);
    memset(s, 0, sizeof *s);
    s->c.keys = keys;
    s->c.wl = contend_find_workload(workload);
    s->c.tg = contend_find_target(target);
    assert_non_null(s->c.wl);
    assert_non_null(s->c.tg);
    if (variant) {
        s->c.variant_index = contend_variant_index(s->c.tg, variant);
        assert_true(s->c.variant_index >= 0);
    }
    s->nw = writers;
    s->has_state = true;
    for (uint32_t i = 0; i < writers; i++)
        s->w[i] = (struct contend_writer_hist){.worker = i, .writer = i, .rec = s->rec[i]};
}

/* Writer w's next record; returns its index in that writer's history. */
static inline uint64_t synth_append(struct synth *s, uint32_t w, struct contend_record r)
{
    assert_true(w < s->nw);
    struct contend_writer_hist *h = &s->w[w];
    assert_true(h->n < SYNTH_MAX_RECORDS);
    s->rec[w][h->n] = r;
    return h->n++;
}

/* One (key, value) of the final state, in any order. */
static inline void synth_state(struct synth *s, uint64_t key, int64_t value)
{
    assert_true(s->nstate < SYNTH_MAX_STATE);
    s->state[s->nstate++] = (struct contend_kv){.key = key, .value = value};
    s->has_state = true;
}

/* Checkers expect the state sorted by key, as check.c hands it over; an
 * insertion sort keeps equal keys in the order they were added. */
static inline void synth_sort_state(struct synth *s)
{
    for (size_t i = 1; i < s->nstate; i++)
        for (size_t j = i; j > 0 && s->state[j].key < s->state[j - 1].key; j--) {
            struct contend_kv x = s->state[j];
            s->state[j] = s->state[j - 1];
            s->state[j - 1] = x;
        }
}

/* Run the workload's checker; what it found is in s->rep. */
static inline void synth_check(struct synth *s)
{
    synth_sort_state(s);
    struct contend_check chk = {
        .c = &s->c,
        .w = s->w,
        .nw = s->nw,
        .state = s->state,
        .nstate = s->nstate,
        .has_state = s->has_state,
        .store_dir = s->store_dir,
        .t0 = 0,
        .rep = &s->rep,
    };
    assert_int_equal(s->c.wl->check(&chk), 0);
}

static inline const struct contend_violation *synth_find(const struct synth *s, const char *kind)
{
    return test_violation(&s->rep, kind);
}

static inline double synth_stat(const struct synth *s, const char *name)
{
    return test_stat(&s->rep, name);
}

/* gen() must depend on (seed, writer, sequence number) alone, so that a
 * restarted worker continues the same stream: generate op `seq` twice from
 * two fresh streams, require the same op and return it. */
static inline struct contend_op synth_gen_twice(const struct contend_workload *wl,
                                                const struct contend_gen *g, uint64_t seq)
{
    struct contend_rng r1, r2;
    struct contend_op a, b;
    /* Zeroed whole, padding too, so that comparing the bytes is fair. */
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    contend_rng_init(&r1, g->seed, g->writer, seq);
    contend_rng_init(&r2, g->seed, g->writer, seq);
    wl->gen(g, seq, &r1, &a);
    wl->gen(g, seq, &r2, &b);
    assert_memory_equal(&a, &b, sizeof a);
    return a;
}

#endif
