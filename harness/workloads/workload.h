/*
 * workload.h - what workers do and what must hold afterwards.
 *
 * A workload has two halves that never meet in memory.  In the worker, gen()
 * turns (seed, writer, sequence number) into the next operation; it is pure,
 * cheap and allocation-free, so the same seed gives the same operations and a
 * restarted worker continues the same stream.  In the parent, check() reads
 * the recorded histories and the target's final state and reports every
 * invariant that does not hold.  Checkers read histories, never worker memory.
 */
#ifndef CONTEND_WORKLOAD_H
#define CONTEND_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "util.h"
#include "target.h"

#define CONTEND_WORKLOAD_ABI 1
#define CONTEND_MAX_OPTS 16

/* A violation kind a checker can report, for `contend list` and the docs. */
struct contend_kind {
    const char *name; /* short, stable, kebab-case */
    const char *help;
};

/* What gen() needs to know; built once per worker thread. */
struct contend_gen {
    uint64_t seed;
    uint64_t keys;
    uint32_t writer, writers;
    /* The workload's options in declaration order, parsed as integers and as
     * doubles (0 when the text is not a number). */
    int64_t opt[CONTEND_MAX_OPTS];
    double optf[CONTEND_MAX_OPTS];
};

/* One writer's history, as the checker sees it. */
struct contend_writer_hist {
    uint32_t worker, thread, writer;
    const struct contend_record *rec;
    uint64_t n; /* records invoked */
};

/* One (key, value) of the final state. */
struct contend_kv {
    uint64_t key;
    int64_t value;
};

struct contend_check;

struct contend_workload {
    uint32_t abi_version; /* CONTEND_WORKLOAD_ABI */
    const char *name;
    const char *help;
    const struct contend_option *options; /* NULL or terminated by name NULL */
    const struct contend_kind *kinds;     /* terminated by name NULL */
    void (*gen)(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                struct contend_op *op);
    int (*check)(struct contend_check *chk);
    /* Optional, in the worker after apply() and before the completion is
     * recorded: look at what the target returned (op->buf) and put what the
     * checker needs into op->value / op->value2, since the history keeps no
     * payload.  Pure and allocation-free, like gen(). */
    void (*complete)(const struct contend_gen *g, struct contend_op *op, int status);
    /* The fewest acknowledged (ok) ops a run needs before its checker's
     * silence means anything; 0 means 1.  Below it the case is
     * `inconclusive` (check.c): a run that acknowledged nothing proved
     * nothing, whatever its checker says. */
    uint64_t min_ok;
};

void contend_register_workload(const struct contend_workload *w);
#define CONTEND_WORKLOAD_REGISTER(sym)                                                             \
    __attribute__((constructor)) static void contend_register_wl_##sym(void)                       \
    {                                                                                              \
        contend_register_workload(&(sym));                                                         \
    }

#endif /* CONTEND_WORKLOAD_H */
