/*
 * schedule.h - the controlled schedule (`schedule = random | pct`).
 *
 * Under a controlled schedule every worker thread of every process runs only
 * while it holds the run's token.  The token lives in the shared control file
 * (control.h, struct contend_sched_shared): one writer index, and one futex
 * word per writer on which that writer sleeps until the token is handed to it.
 * A thread gives the token up at every perturbation point, before every op,
 * when a preloaded lock or sleep call would block, and when it finishes.  The
 * thread that gives it up decides who gets it next, from the seed alone, and
 * appends the decision to the schedule log, so a run is one sequence of
 * decisions that can be written down and replayed.
 *
 * The choice itself is a pure function (contend_sched_pick) so that it can be
 * tested without processes.
 */
#ifndef CONTEND_SCHEDULE_H
#define CONTEND_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define CONTEND_SCHED_MAX_WRITERS 256
#define CONTEND_SCHED_MAX_DEPTH 8
#define CONTEND_SCHED_MAX_NAMES 64
#define CONTEND_SCHED_NAME_LEN 48
#define CONTEND_SCHED_NONE UINT32_MAX

enum contend_sched_mode { SCHED_OS = 0, SCHED_RANDOM = 1, SCHED_PCT = 2 };

/* Why a thread gave the token up. */
enum contend_sched_reason {
    SCHED_START = 0, /* the first decision, made by the runner at the barrier */
    SCHED_OP,        /* an op boundary */
    SCHED_POINT,     /* a perturbation point: inside a critical window */
    SCHED_BLOCK,     /* a lock or sleep call that would block */
    SCHED_EXIT,      /* the thread finished its ops */
};

enum contend_sched_tstate { TS_RUNNABLE = 0, TS_BLOCKED = 1, TS_DONE = 2 };

/* One decision as stored in the shared log: 8 bytes. */
struct contend_sched_entry {
    uint16_t writer; /* the thread chosen */
    uint16_t from;   /* the thread that gave the token up (or NONE16) */
    uint8_t reason;
    uint8_t name; /* index into the point-name table, 0xff none */
    uint16_t pad;
};

/* What the control file carries for the scheduler. */
struct contend_sched_shared {
    uint32_t mode;  /* enum contend_sched_mode; SCHED_OS = not controlled */
    uint32_t n;     /* writers */
    uint32_t off;   /* the watchdog fell back to the OS: everyone runs */
    uint32_t token; /* the writer that may run, CONTEND_SCHED_NONE when all are done */
    uint64_t seed;
    uint32_t depth, nchange;
    uint64_t change[CONTEND_SCHED_MAX_DEPTH]; /* PCT: once this many ops began, ... */
    uint32_t fired;                           /* ... the next point lowers a priority */
    uint64_t ops;                             /* ops begun so far (op boundaries) */
    uint64_t round_ops;       /* PCT: ops per live thread in a round, 0 = the run is one round */
    uint64_t round_end;       /* ... the op count at which the next round begins */
    uint64_t round;           /* ... rounds begun before this one */
    uint32_t probe;           /* the thread lowered by the last change point, or NONE */
    uint32_t probe_clean;     /* ... and no other thread has made a step since */
    uint64_t rearmed;         /* change points given back (schedule.c) */
    uint64_t points;          /* perturbation points passed so far */
    uint64_t step;            /* decisions made so far */
    uint64_t handoffs;        /* decisions that moved the token to another thread */
    uint64_t window_handoffs; /* of those, at a perturbation point */
    uint64_t block_yields;    /* yields because a call would block */
    uint64_t stuck_rounds;    /* consecutive decisions with every live thread blocked */
    uint64_t log_cap;         /* entries the schedule log holds */
    uint32_t log_full;        /* the log overflowed: the schedule cannot be replayed */
    uint32_t replay;          /* decisions come from the log (contend replay) */
    uint64_t replay_len;
    uint32_t diverged; /* a replayed decision named a thread that could not run */
    uint32_t nnames;
    struct {
        uint32_t wake;  /* futex: bumped when the token is handed to this writer */
        uint32_t state; /* enum contend_sched_tstate */
        int64_t prio;
    } t[CONTEND_SCHED_MAX_WRITERS];
    char names[CONTEND_SCHED_MAX_NAMES][CONTEND_SCHED_NAME_LEN];
};

/* ---- pure functions (tests/unit/test_sched.c) ---------------------------- */

/* `schedule` value to mode; -1 when unknown. */
int contend_sched_mode_of(const char *s);
const char *contend_sched_mode_name(int mode);
const char *contend_sched_reason_name(int reason);
/* PCT's start: distinct priorities depth .. depth+n-1 as a seeded random
 * permutation, and depth-1 change points drawn uniformly in [1, k],
 * sorted.  k is the number of ops over which they are drawn. */
void contend_pct_init(uint64_t seed, uint32_t n, uint32_t depth, uint64_t k, int64_t *prio,
                      uint64_t *change);
/* The next thread: among those with eligible[i], uniformly from (seed, step)
 * for random, the highest priority for pct.  CONTEND_SCHED_NONE if none. */
uint32_t contend_sched_pick(int mode, uint64_t seed, uint64_t step, uint32_t n,
                            const bool *eligible, const int64_t *prio);

/* ---- the runner's side ---------------------------------------------------- */

/* Set the shared block up before the start barrier; the first decision is
 * logged in log[0].  expected_points is PCT's k, in ops, when round_ops is 0
 * (the run is one PCT round); otherwise every round_ops ops per live thread
 * begin a new round, and k is a round's (schedule.c). */
void contend_sched_setup(struct contend_sched_shared *s, int mode, uint64_t seed, uint32_t n,
                         uint32_t depth, uint64_t expected_points, uint64_t round_ops,
                         struct contend_sched_entry *log, uint64_t log_cap);
/* The watchdog: let every thread run freely from now on. */
void contend_sched_fall_back(struct contend_sched_shared *s);

/* ---- the worker's side ------------------------------------------------------ */

/* Once per worker process, after mapping the control file and the log;
 * NULL s = not controlled. */
void contend_sched_attach(struct contend_sched_shared *s, struct contend_sched_entry *log);
/* A worker thread: from now on it is `writer`; waits for its first turn. */
void contend_sched_thread_begin(uint32_t writer);
/* Give the token up (op boundary, point) and wait until it comes back. */
void contend_sched_yield(int reason, const char *name);
/* The thread is done: it leaves the run set and passes the token on. */
void contend_sched_thread_end(void);
/* The two functions below are what the preload shim (harness/ext/faults/
 * shim.c) looks up with dlsym in the contend executable, which is built with
 * hidden visibility: they must stay exported, or every blocking call under a
 * schedule silently waits for the watchdog's fallback (it did, until
 * schedule.flock-clean rejected a fallback). */
#define CONTEND_SCHED_EXPORT __attribute__((visibility("default")))

/* What contend_sched_would_block() returns. */
enum contend_sched_block {
    SCHED_BLOCK_OS = 0,    /* not under a controlled schedule: make the real call */
    SCHED_BLOCK_RETRY = 1, /* the token went round and came back: try again */
    SCHED_BLOCK_STUCK = 2, /* ... but every live thread was blocked: what can free
                              the caller runs outside the schedule (another
                              thread of the process, a process outside the run),
                              so wait for it briefly on the real clock, then try */
};

/* For the preload shim: a call of this thread would block.  Gives the token
 * up marked blocked, gets it back, and says how (enum contend_sched_block);
 * SCHED_BLOCK_OS at once when the thread is not under a controlled schedule. */
CONTEND_SCHED_EXPORT int contend_sched_would_block(const char *what);
/* For the preload shim: whether the calling thread runs under a controlled
 * schedule now (it holds the token, and the schedule is not off). */
CONTEND_SCHED_EXPORT int contend_sched_controlled(void);
/* For targets that serve another process's blocking calls (exec.c): whether
 * this worker process is under a controlled schedule at all. */
bool contend_sched_active(void);

#endif /* CONTEND_SCHEDULE_H */
