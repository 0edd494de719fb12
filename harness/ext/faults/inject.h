/*
 * inject.h - the worker's side of the fault plan: kills, pauses and power
 * cuts at seeded op indices.
 *
 * Every planned fault is a pair (writer, op index), drawn from the seed:
 * fault k of writer w comes N of its ops (on average) after fault k - 1,
 * where N is the scenario's value, so that all writers together see one
 * fault about every N ops and which writer is hit is seeded.  The worker runs its own plan:
 * when op `idx` is planned it kills itself (kill), stops itself (pause), or
 * stops its whole process group and asks the runner for a power cut
 * (powercut), at the op's seeded site: before the target is called, at the
 * target's first perturbation point (inside its critical section), inside
 * one of its store-changing calls (through the shim), or after the target
 * returned but before the completion is recorded.  A site the op never
 * reaches falls back to "after".  Because the plan is a function of (seed,
 * writer, op index) and ops are too, a failing run replays: with one thread
 * per worker, the same faults hit the same ops at the same places.
 *
 * A restarted worker continues its history at the op after the one that was
 * in flight, and its plan at the first fault at or after that op.
 */
#ifndef CONTEND_FAULTS_INJECT_H
#define CONTEND_FAULTS_INJECT_H

#include <stdint.h>

#include "scenario.h"

enum { CONTEND_PLAN_KILL = 0, CONTEND_PLAN_PAUSE = 1, CONTEND_PLAN_CUT = 2, CONTEND_PLAN_N = 3 };

struct contend_fault_proc;

struct contend_fault_thread {
    struct contend_fault_proc *p; /* NULL: no faults in this case */
    uint32_t writer;
    uint64_t next[CONTEND_PLAN_N]; /* op index of the next planned fault, UINT64_MAX = none */
    uint32_t k[CONTEND_PLAN_N];    /* faults planned before next[] */
    int pending;                   /* the action waiting for its site, CONTEND_PLAN_* + 1 */
    int site;                      /* enum contend_fault_site of the pending action */
    uint64_t idx;                  /* the op it belongs to */
};

/* The op index of planned fault k of `writer` (`kind`: CONTEND_PLAN_*), for a
 * case whose scenario asks for one every `every` ops. */
uint64_t contend_fault_plan_at(uint64_t seed, int kind, uint32_t writer, uint32_t k,
                               uint64_t every);

/* Per worker process: map the fault control block when the runner set one
 * up (*out stays NULL otherwise).  Returns 0 or a negative errno. */
int contend_faults_proc_open(const struct contend_case *c, uint32_t worker,
                             struct contend_fault_proc **out);
void contend_faults_proc_close(struct contend_fault_proc *p);

/* Per thread, before its first op (`first` = the history's count). */
void contend_faults_thread_init(struct contend_fault_proc *p, struct contend_fault_thread *t,
                                uint32_t writer, uint64_t first);
/* Around the target's apply(): after the invocation is recorded, and after
 * apply() returned (before the completion is recorded). */
void contend_faults_before(struct contend_fault_thread *t, uint64_t idx);
void contend_faults_after(struct contend_fault_thread *t, uint64_t idx);

#endif /* CONTEND_FAULTS_INJECT_H */
