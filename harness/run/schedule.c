/*
 * schedule.c - the controlled schedule: token hand-off between worker threads.
 *
 * See schedule.h for the model.  Only the token holder changes the shared block
 * (apart from the watchdog's `off`), so the block needs no lock: a decision is
 * written, the token word is stored with release order, and the chosen
 * writer's futex word is bumped and woken.  A thread that waits reads its
 * futex word, then the token, then sleeps on the word it read: a hand-off
 * between the two reads changes the word and the sleep returns at once.
 *
 * Blocked threads: a thread whose lock call would block gives the token up
 * marked blocked, and is not chosen again until some other thread has made a
 * step that was not itself a blocked retry (a step may have released the
 * lock).  When every live thread is blocked they are all retried, and a long
 * run of such rounds (a real deadlock, or a lock held outside the run) turns
 * the schedule off, so that the case ends as it would under the OS.
 *
 * PCT (Burckhardt et al., ASPLOS 2010) draws its d-1 change points over the
 * run's ops (k = ops per thread x (threads - 1): under PCT threads mostly run
 * one after the other, and a change while the last thread runs alone cannot
 * reorder anything), and a change point that is due fires at the next
 * perturbation point, not at an op boundary: a priority change at an op
 * boundary cannot open a race window, and a change at a point always does.
 * Ops that pass no point (a read, a no-op write) only delay it.
 *
 * Rounds.  PCT's bound, a bug of depth d found with probability at least
 * 1/(n k^(d-1)), is for one execution of a test, and a stress run is many
 * short tests back to back: 50 increments per thread are 50 chances for the
 * same one-preemption race.  Drawn once over the whole run, the one change
 * point of depth 2 lands where it can show a bug only if the bug's window is
 * still open there, and many are not: claims stop passing their window once
 * every id is taken, a cache's torn value needs the preemption at one point
 * of three.  So with round_ops = R (the default is 1) the run is cut into
 * rounds of R ops per live thread, and each round draws fresh priorities and
 * its own d-1 change points over its own k = R x (live - 1) ops: every round
 * is a PCT execution with its guarantee, and a thread lowered inside a window
 * stays there until the new priorities reach it, which is the preemption
 * the race needs.  round_ops = 0 is PCT as published, one round.
 */
#include "schedule.h"

#include <stdio.h>
#include <string.h>

#include "control.h"
#include "util.h"

#define STUCK_LIMIT 200000u
#define NONE16 0xffffu

int contend_sched_mode_of(const char *s)
{
    if (!s || !*s || strcmp(s, "os") == 0)
        return SCHED_OS;
    if (strcmp(s, "random") == 0)
        return SCHED_RANDOM;
    if (strcmp(s, "pct") == 0)
        return SCHED_PCT;
    return -1;
}

const char *contend_sched_mode_name(int mode)
{
    static const char *const names[] = {"os", "random", "pct"};
    return mode >= 0 && mode <= SCHED_PCT ? names[mode] : "?";
}

const char *contend_sched_reason_name(int reason)
{
    static const char *const names[] = {"start", "op", "point", "block", "exit"};
    return reason >= 0 && reason <= SCHED_EXIT ? names[reason] : "?";
}

void contend_pct_init(uint64_t seed, uint32_t n, uint32_t depth, uint64_t k, int64_t *prio,
                      uint64_t *change)
{
    struct contend_rng rng;
    contend_rng_init(&rng, seed ^ 0x706374ull, n, depth);
    for (uint32_t i = 0; i < n; i++)
        prio[i] = (int64_t)depth + i;
    for (uint32_t i = n; i > 1; i--) { /* Fisher-Yates */
        uint32_t j = (uint32_t)contend_rng_below(&rng, i);
        int64_t x = prio[i - 1];
        prio[i - 1] = prio[j];
        prio[j] = x;
    }
    if (k == 0)
        k = 1;
    for (uint32_t i = 0; i + 1 < depth; i++)
        change[i] = 1 + contend_rng_below(&rng, k);
    for (uint32_t i = 1; i + 1 < depth; i++) /* sort: a handful of values */
        for (uint32_t j = i; j > 0 && change[j - 1] > change[j]; j--) {
            uint64_t x = change[j];
            change[j] = change[j - 1];
            change[j - 1] = x;
        }
}

uint32_t contend_sched_pick(int mode, uint64_t seed, uint64_t step, uint32_t n,
                            const bool *eligible, const int64_t *prio)
{
    uint32_t count = 0, best = CONTEND_SCHED_NONE;
    for (uint32_t i = 0; i < n; i++) {
        if (!eligible[i])
            continue;
        count++;
        if (best == CONTEND_SCHED_NONE || prio[i] > prio[best])
            best = i;
    }
    if (count == 0 || mode == SCHED_PCT)
        return best;
    struct contend_rng rng;
    contend_rng_init(&rng, seed ^ 0x72616e64ull, step, n);
    uint64_t k = contend_rng_below(&rng, count);
    for (uint32_t i = 0; i < n; i++)
        if (eligible[i] && k-- == 0)
            return i;
    return best;
}

/* ---- decisions (token holder only) ------------------------------------------ */

static struct contend_sched_shared *S;
static struct contend_sched_entry *LOG;
static __thread uint32_t me = CONTEND_SCHED_NONE;

static uint8_t name_index(struct contend_sched_shared *s, const char *name)
{
    if (!name)
        return 0xff;
    for (uint32_t i = 0; i < s->nnames; i++)
        if (strncmp(s->names[i], name, CONTEND_SCHED_NAME_LEN - 1) == 0)
            return (uint8_t)i;
    if (s->nnames >= CONTEND_SCHED_MAX_NAMES)
        return 0xff;
    snprintf(s->names[s->nnames], CONTEND_SCHED_NAME_LEN, "%s", name);
    return (uint8_t)s->nnames++;
}

/* Only the token holder (or the runner, before the start) writes a thread's
 * state, and it reads the states it decides on plainly: the token's release
 * and acquire order them.  The stores are atomic all the same, because a
 * starting thread reads its own state without the token
 * (contend_sched_thread_begin). */
static void set_state(struct contend_sched_shared *s, uint32_t i, uint32_t state)
{
    __atomic_store_n(&s->t[i].state, state, __ATOMIC_RELAXED);
}

/* Who runs next, after `from` gave the token up for `reason`. */
static uint32_t decide(struct contend_sched_shared *s, uint32_t from, int reason)
{
    bool eligible[CONTEND_SCHED_MAX_WRITERS];
    int64_t prio[CONTEND_SCHED_MAX_WRITERS];
    uint32_t live = 0, runnable = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        prio[i] = s->t[i].prio;
        live += s->t[i].state != TS_DONE;
        runnable += s->t[i].state == TS_RUNNABLE;
    }
    for (uint32_t i = 0; i < s->n; i++)
        eligible[i] = runnable ? s->t[i].state == TS_RUNNABLE : s->t[i].state == TS_BLOCKED;
    if (live == 0)
        return CONTEND_SCHED_NONE;
    if (s->replay && s->step < s->replay_len) {
        uint32_t w = LOG[s->step].writer;
        if (w < s->n && s->t[w].state != TS_DONE)
            return w;
        s->diverged = 1;
    }
    (void)from;
    (void)reason;
    return contend_sched_pick((int)s->mode, s->seed, s->step, s->n, eligible, prio);
}

static void record(struct contend_sched_shared *s, uint32_t from, uint32_t to, int reason,
                   const char *name)
{
    if (s->step < s->log_cap)
        LOG[s->step] = (struct contend_sched_entry){
            .writer = (uint16_t)(to == CONTEND_SCHED_NONE ? NONE16 : to),
            .from = (uint16_t)(from == CONTEND_SCHED_NONE ? NONE16 : from),
            .reason = (uint8_t)reason,
            .name = name_index(s, name),
        };
    else
        s->log_full = 1;
    s->step++;
}

static void hand_to(struct contend_sched_shared *s, uint32_t to)
{
    __atomic_store_n(&s->token, to, __ATOMIC_RELEASE);
    if (to == CONTEND_SCHED_NONE)
        return;
    __atomic_add_fetch(&s->t[to].wake, 1, __ATOMIC_RELEASE);
    contend_futex_wake_all(&s->t[to].wake);
}

/* A PCT round: fresh priorities, and d-1 fresh change points drawn over the
 * round's k ops from now.  Round 0 is drawn from the seed itself, so a run
 * that is one round is PCT as published. */
static void start_round(struct contend_sched_shared *s, uint64_t k)
{
    int64_t prio[CONTEND_SCHED_MAX_WRITERS];
    uint64_t change[CONTEND_SCHED_MAX_DEPTH];
    contend_pct_init(s->seed ^ (s->round * 0x9e3779b97f4a7c15ull), s->n, s->depth, k, prio, change);
    for (uint32_t i = 0; i < s->n; i++)
        s->t[i].prio = prio[i];
    for (uint32_t i = 0; i < s->nchange; i++)
        s->change[i] = s->ops + change[i];
    s->fired = 0;
    s->probe = CONTEND_SCHED_NONE;
}

/* The next round over `live` threads: k as for a whole run (see the top of
 * the file), the ops before the last live thread would run alone. */
static void open_round(struct contend_sched_shared *s, uint32_t live)
{
    start_round(s, s->round_ops * (live > 1 ? live - 1 : 1));
    s->round_end = s->ops + s->round_ops * (live ? live : 1);
}

static void next_round(struct contend_sched_shared *s)
{
    uint32_t live = 0;
    for (uint32_t i = 0; i < s->n; i++)
        live += s->t[i].state != TS_DONE;
    s->round++;
    open_round(s, live);
}

void contend_sched_setup(struct contend_sched_shared *s, int mode, uint64_t seed, uint32_t n,
                         uint32_t depth, uint64_t expected_points, uint64_t round_ops,
                         struct contend_sched_entry *log, uint64_t log_cap)
{
    S = s;
    LOG = log;
    s->mode = (uint32_t)mode;
    s->n = n;
    s->seed = seed;
    s->depth = depth;
    s->nchange = depth > 0 ? depth - 1 : 0;
    s->log_cap = log_cap;
    s->round_ops = mode == SCHED_PCT ? round_ops : 0;
    s->round = 0;
    if (s->round_ops)
        open_round(s, n);
    else
        start_round(s, expected_points);
    for (uint32_t i = 0; i < n; i++) {
        set_state(s, i, TS_RUNNABLE);
        if (mode != SCHED_PCT)
            s->t[i].prio = 0;
    }
    uint32_t first = decide(s, CONTEND_SCHED_NONE, SCHED_START);
    record(s, CONTEND_SCHED_NONE, first, SCHED_START, NULL);
    s->token = first;
    S = NULL;
    LOG = NULL;
}

void contend_sched_fall_back(struct contend_sched_shared *s)
{
    __atomic_store_n(&s->off, 1, __ATOMIC_RELEASE);
    for (uint32_t i = 0; i < s->n && i < CONTEND_SCHED_MAX_WRITERS; i++) {
        __atomic_add_fetch(&s->t[i].wake, 1, __ATOMIC_RELEASE);
        contend_futex_wake_all(&s->t[i].wake);
    }
}

/* ---- the worker's side ---------------------------------------------------------- */

void contend_sched_attach(struct contend_sched_shared *s, struct contend_sched_entry *log)
{
    S = s && s->mode != SCHED_OS ? s : NULL;
    LOG = log;
}

static bool is_off(const struct contend_sched_shared *s)
{
    return __atomic_load_n(&s->off, __ATOMIC_ACQUIRE) != 0;
}

static void wait_turn(struct contend_sched_shared *s)
{
    for (;;) {
        uint32_t w = __atomic_load_n(&s->t[me].wake, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->token, __ATOMIC_ACQUIRE) == me || is_off(s))
            return;
        /* The timeout only bounds how late a missed fallback is noticed. */
        contend_futex_wait(&s->t[me].wake, w, 200000000ull);
    }
}

void contend_sched_thread_begin(uint32_t writer)
{
    if (!S || writer >= S->n)
        return;
    /* A thread of a restarted worker whose predecessor had finished every
     * op before the kill took the process: it has nothing to run, and the
     * token never comes back to a finished writer, so it stays outside the
     * schedule (waiting here was a hang reported against a correct target).
     * This reads without the token: the holder may be turning this writer
     * from blocked to runnable (a store of its own, set_state), but only the
     * writer itself marks itself done, so the answer is never stale. */
    if (__atomic_load_n(&S->t[writer].state, __ATOMIC_ACQUIRE) == TS_DONE)
        return;
    me = writer;
    wait_turn(S);
}

/* A change point spent while every other thread was blocked (the lowered
 * thread held the lock they wait for, so it runs on at once) reordered
 * nothing: it is given back and fires again at the next point of whichever
 * thread runs.  Decided by the token holder from shared state alone, so
 * replays and seeds stay exact. */
static void give_back(struct contend_sched_shared *s, uint32_t next)
{
    if (s->probe == CONTEND_SCHED_NONE)
        return;
    if (!s->probe_clean) {
        s->probe = CONTEND_SCHED_NONE;
        return;
    }
    if (next != s->probe)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        if (i != next && s->t[i].state == TS_RUNNABLE)
            return;
    s->fired--;
    s->rearmed++;
    s->probe = CONTEND_SCHED_NONE;
}

static void give_up(int reason, const char *name)
{
    struct contend_sched_shared *s = S;
    if (reason == SCHED_OP) {
        s->ops++;
        if (s->round_ops && s->ops >= s->round_end)
            next_round(s);
    }
    if (reason == SCHED_POINT) {
        s->points++;
        /* A change point that is due fires at the first point after it. */
        uint32_t j = s->fired;
        if (s->mode == SCHED_PCT && j < s->nchange && s->ops >= s->change[j]) {
            s->t[me].prio = (int64_t)j + 1 - (int64_t)s->depth; /* below every start value */
            s->fired++;
            s->probe = me;
            s->probe_clean = 1;
        }
    }
    if (me != s->probe && reason != SCHED_BLOCK)
        s->probe_clean = 0; /* another thread ran a step: the change took effect */
    if (reason == SCHED_BLOCK) {
        set_state(s, me, TS_BLOCKED);
        s->block_yields++;
    } else {
        for (uint32_t i = 0; i < s->n; i++)
            if (s->t[i].state == TS_BLOCKED)
                set_state(s, i, TS_RUNNABLE);
        set_state(s, me, reason == SCHED_EXIT ? TS_DONE : TS_RUNNABLE);
    }
    uint32_t next = decide(s, me, reason);
    give_back(s, next);
    bool all_blocked = next != CONTEND_SCHED_NONE && s->t[next].state == TS_BLOCKED;
    s->stuck_rounds = all_blocked ? s->stuck_rounds + 1 : 0;
    record(s, me, next, reason, name);
    if (next != me && next != CONTEND_SCHED_NONE) {
        s->handoffs++;
        s->window_handoffs += reason == SCHED_POINT;
    }
    if (s->stuck_rounds > STUCK_LIMIT) {
        contend_sched_fall_back(s);
        return;
    }
    if (next == me)
        return;
    hand_to(s, next);
    if (reason != SCHED_EXIT)
        wait_turn(s);
}

void contend_sched_yield(int reason, const char *name)
{
    if (!S || me == CONTEND_SCHED_NONE || is_off(S))
        return;
    give_up(reason, name);
}

void contend_sched_thread_end(void)
{
    if (S && me != CONTEND_SCHED_NONE && !is_off(S))
        give_up(SCHED_EXIT, NULL);
    me = CONTEND_SCHED_NONE;
}

int contend_sched_would_block(const char *what)
{
    if (!contend_sched_controlled())
        return SCHED_BLOCK_OS;
    give_up(SCHED_BLOCK, what);
    /* The decision that gave the token back is the last one made (only the
     * holder decides), so stuck_rounds describes it. */
    if (!is_off(S) && S->stuck_rounds > 0)
        return SCHED_BLOCK_STUCK;
    return SCHED_BLOCK_RETRY;
}

int contend_sched_controlled(void)
{
    return S && me != CONTEND_SCHED_NONE && !is_off(S);
}

bool contend_sched_active(void)
{
    return S && !is_off(S);
}
