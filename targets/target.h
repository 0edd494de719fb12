/*
 * target.h - the contend target plug-in ABI.
 *
 * A target is one storage implementation (a JSON document behind flock, a
 * hash-chained JSONL file, an SQLite database, ...), described by one const
 * table, the way fio describes an ioengine:
 *
 *     const struct contend_target contend_target_null = {
 *         .abi_version = CONTEND_TARGET_ABI,
 *         .name        = "null",
 *         ...
 *     };
 *
 * The harness never knows a target's file format.  It hands the target a
 * store directory at setup, opens it once per worker process or once per
 * worker thread, and calls apply() for every operation a workload generates.
 * After the run it asks read_state() for the final state, which the
 * workload's checker compares against the recorded history.
 *
 * Built-in targets register themselves with CONTEND_TARGET_REGISTER().  A
 * plug-in is a shared object that exports a symbol named
 * "contend_target_plugin" of type const struct contend_target; it is loaded
 * with `--set target_path=/path/to/plugin.so` (see examples/).
 *
 * Rules every target follows:
 *  - apply() returns CONTEND_OK only when the operation took effect (and, for
 *    targets that promise durability, is durable); CONTEND_FAIL only when it
 *    certainly did not; CONTEND_INFO when it cannot know (a timeout, an error
 *    after a write was issued).  Lying here is exactly the bug class contend
 *    looks for, so a target must never turn an error into success.
 *  - Inside a critical window (between a read and the write that depends on
 *    it) a target calls contend_point("name").  With perturbation off this is
 *    a load and a branch; with it on, the harness sleeps there for a seeded
 *    random time, which makes rare interleavings common.
 *  - Functions return 0 or a negative errno, except apply().
 *
 * The ABI is versioned: the harness refuses a table whose abi_version differs
 * from CONTEND_TARGET_ABI.  While contend is 0.x the version moves whenever
 * the table or the structs it hands out change shape, and a plug-in is
 * rebuilt against the new header; there are no compatibility shims.
 *   ABI 1  the first table.
 *   ABI 2  durable() is an ordinary optional member (ABI 1 read it only with
 *          a flag, CONTEND_TARGET_HAS_DURABLE, now gone); op kinds have
 *          names here (contend_op_kind_name); the harness exports only what
 *          is marked CONTEND_EXPORT below.
 */
#ifndef CONTEND_TARGET_H
#define CONTEND_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONTEND_TARGET_ABI 2

/* What the contend executable exports to plug-ins.  The harness is built
 * with -fvisibility=hidden, so a plug-in can call exactly the functions
 * marked with this and nothing else of ours. */
#define CONTEND_EXPORT __attribute__((visibility("default")))

/* Outcome of one operation: Jepsen's ok / fail / info.  Zero is reserved for
 * "invoked, not completed" in the history. */
enum contend_status {
    CONTEND_OK = 1,   /* took effect */
    CONTEND_FAIL = 2, /* certainly did not take effect */
    CONTEND_INFO = 3, /* indeterminate: may or may not have taken effect */
};

/* Operation kinds.  One list for all workloads so that a history record is
 * self-describing; a workload uses the kinds it needs and a target
 * implements the kinds of the workloads it declares. */
enum contend_op_kind {
    CONTEND_OP_NONE = 0,
    CONTEND_OP_INCR = 1,        /* counter: key += 1; value = new value (or -1 if unknown) */
    CONTEND_OP_READ = 2,        /* counter: value = current value of key */
    CONTEND_OP_APPEND = 3,      /* ledger: append a record for op id; value = seq written */
    CONTEND_OP_TRANSFER = 4,    /* bank: move arg from account key to key2; value = 1 moved,
                              * 0 declined (the source held less than arg) */
    CONTEND_OP_READ_ALL = 5,    /* bank: value = sum of all balances seen in one read,
                              * value2 = (uint64_t) the smallest balance seen */
    CONTEND_OP_CLAIM = 6,       /* claim: insert id key if absent, owned by op->id;
                              * value = 1 won, 0 lost */
    CONTEND_OP_PUT = 7,         /* cache: put key -> buf */
    CONTEND_OP_GET = 8,         /* cache: get key -> buf; value = 1 hit, 0 miss */
    CONTEND_OP_ENQUEUE = 9,     /* queue: enqueue job id key with the payload in buf */
    CONTEND_OP_DEQUEUE = 10,    /* queue: take a job; value = its id, -1 if the queue was
                              * empty; its payload in buf when the target returns it */
    CONTEND_OP_ACK = 11,        /* queue: job key is done (processed by this writer) */
    CONTEND_OP_SIZE = 12,       /* cache: value = resident entries now, value2 = most ever */
    CONTEND_OP_LOG_APPEND = 13, /* log: append one line for op id (buf = payload) */
    CONTEND_OP_KIND_MAX = 32
};

/* The name of an op kind, as histories, reports and the exec protocol spell
 * it; "op" for a kind without one.  A new kind gets its name here, in the
 * same change. */
static inline const char *contend_op_kind_name(unsigned kind)
{
    switch (kind) {
    case CONTEND_OP_NONE: return "none";
    case CONTEND_OP_INCR: return "incr";
    case CONTEND_OP_READ: return "read";
    case CONTEND_OP_APPEND: return "append";
    case CONTEND_OP_TRANSFER: return "transfer";
    case CONTEND_OP_READ_ALL: return "read-all";
    case CONTEND_OP_CLAIM: return "claim";
    case CONTEND_OP_PUT: return "put";
    case CONTEND_OP_GET: return "get";
    case CONTEND_OP_ENQUEUE: return "enqueue";
    case CONTEND_OP_DEQUEUE: return "dequeue";
    case CONTEND_OP_ACK: return "ack";
    case CONTEND_OP_SIZE: return "size";
    case CONTEND_OP_LOG_APPEND: return "log";
    default: return "op";
    }
}

/* What a cache target reports from read_state(), through sink->value(), so
 * that the cache workload's checker can judge the final state without
 * knowing the target.  A target with several caches (one per worker
 * process) sums the counters and reports each cache's resident entries. */
enum contend_cache_state_key {
    CONTEND_CACHE_CAPACITY = 0,   /* entries one cache may hold */
    CONTEND_CACHE_TTL_NS = 1,     /* time to live of an entry */
    CONTEND_CACHE_HITS = 2,       /* gets the target answered with a value */
    CONTEND_CACHE_MISSES = 3,     /* gets it answered with nothing */
    CONTEND_CACHE_HIGH_WATER = 4, /* most entries any cache ever held */
    CONTEND_CACHE_RESIDENT = 16,  /* + i: entries cache i holds at the end */
};

/* What a queue target reports from read_state(), through sink->value(): one
 * pair per job still in the store, key = the job id, value = where it is:
 * CONTEND_QUEUE_READY (waiting to be taken), CONTEND_QUEUE_DONE (acknowledged
 * and kept, e.g. in outbox/), or a value >= 0: held (taken, not acknowledged)
 * by that owner (a worker or writer index, the target's choice).  A job in
 * two places is reported twice. */
enum contend_queue_state {
    CONTEND_QUEUE_READY = -1,
    CONTEND_QUEUE_DONE = -2,
};

/* What a log target reports from read_state() through sink->value(), so
 * that the log workload's checker knows what the target promises to keep.
 * A target that reports nothing keeps every line in one file or in backups
 * without limit. */
enum contend_log_state_key {
    CONTEND_LOG_BACKUPS = 0, /* rotated files kept at most (app.log.1 .. app.log.N) */
};

/* One operation, as the worker hands it to apply().  The worker owns the
 * struct and its buffer; nothing here is allocated per operation. */
struct contend_op {
    uint32_t kind;   /* enum contend_op_kind */
    uint32_t writer; /* global writer index: worker * threads + thread */
    uint64_t id;     /* unique op id: (writer << 32) | sequence number */
    uint64_t key;    /* counter key, source account, claim id, cache key */
    uint64_t key2;   /* destination account, ... */
    int64_t arg;     /* transfer amount, ... */
    /* Results, filled by apply(). */
    int64_t value;    /* see the kinds above */
    uint64_t value2;  /* workload-defined */
    uint32_t retries; /* busy/lock retries the target made for this op */
    int32_t err;      /* errno-style reason when the op is not CONTEND_OK */
    /* Scratch payload owned by the worker (ledger payload, cache value). */
    void *buf;
    uint32_t buf_len; /* bytes valid in buf */
    uint32_t buf_cap; /* capacity of buf */
};

/* Where a target reports the final state and anything it noticed. */
struct contend_sink {
    void *ctx;
    /* One (key, value) pair of the final state: a counter, a balance, ... */
    void (*value)(void *ctx, uint64_t key, int64_t value);
    /* A store-level violation the target can see and the history cannot:
     * a corrupt document, a failed integrity check. */
    void (*violation)(void *ctx, const char *kind, uint64_t count, const char *message);
    /* A named figure for the report: busy retries, .bak fallbacks, ... */
    void (*stat)(void *ctx, const char *name, double value);
};

/* Everything a target learns about the run.  Valid for the call only,
 * except store_dir and the option strings, which live for the process. */
struct contend_env {
    const char *store_dir;   /* the target's own directory inside the run directory */
    const char *variant;     /* variant name, one of the table's variants */
    int variant_index;       /* index into the table's variants */
    const char *workload;    /* workload name */
    uint64_t seed;           /* root seed of the case */
    uint32_t procs, threads; /* worker processes and threads per process */
    uint32_t worker;         /* this worker process, or UINT32_MAX in the parent */
    uint32_t thread;         /* this thread, or UINT32_MAX when opened per worker */
    uint64_t keys;           /* number of keys the workload spreads over */
    /* The case's target options, resolved with their defaults:
     * opt_names[i] = opt_values[i], for i < nopts. */
    const char *const *opt_names;
    const char *const *opt_values;
    size_t nopts;
};

/* A scenario key the target understands (durability, batch, ...). */
struct contend_option {
    const char *name;
    const char *def;     /* default value as text, NULL = empty */
    const char *choices; /* "a|b|c" to restrict the value, NULL for free text */
    const char *help;
    /* Appended: the value's type and inclusive range, checked when the
     * scenario is read (exit 2 with file:line and the range).  A table that
     * leaves them 0 takes free text. */
    unsigned type;        /* enum contend_option_type */
    double min, max;      /* CONTEND_OPT_DURATION: in nanoseconds */
    unsigned multiple_of; /* CONTEND_OPT_INT: the value is a multiple of this; 0 = any */
};

enum contend_option_type {
    CONTEND_OPT_TEXT = 0,     /* anything (or one of `choices`) */
    CONTEND_OPT_INT = 1,      /* a decimal whole number, optionally signed */
    CONTEND_OPT_NUMBER = 2,   /* a decimal number */
    CONTEND_OPT_DURATION = 3, /* 500ms, 10s, 2m, 250us, 100ns; bare = seconds */
};

#define CONTEND_VARIANT_BROKEN 0x1u    /* a known-broken variant: the harness's teeth */
#define CONTEND_VARIANT_MONOTONIC 0x2u /* reads never go backwards per key per worker */
#define CONTEND_VARIANT_DURABLE 0x4u   /* acknowledged ops survive a power cut (see durable) */
/* queue: the target promises at-least-once delivery: a job held by a consumer
 * that died is delivered again (recovery, a lease), which the checker then
 * allows and counts instead of calling it a double delivery. */
#define CONTEND_VARIANT_AT_LEAST_ONCE 0x10u
/* queue: the target promises FIFO order per producer (out-of-order). */
#define CONTEND_VARIANT_FIFO 0x20u
/* open() once per worker process even when the target opens per thread: the
 * worker's threads share one handle (the shared-connection variants). */
#define CONTEND_VARIANT_OPEN_PER_WORKER 0x100u

struct contend_variant {
    const char *name;
    const char *help;
    uint32_t flags;     /* CONTEND_VARIANT_* */
    const char *breaks; /* for broken variants: the violation it is known to cause */
};

#define CONTEND_TARGET_OPEN_PER_THREAD 0x1u /* open() once per thread, else once per worker */
#define CONTEND_TARGET_NO_STATE 0x2u        /* no final state: checkers skip state checks */
/* bank: a transfer that would take its source below zero is declined, so the
 * checker reports any negative balance (negative-balance). */
#define CONTEND_TARGET_NO_OVERDRAFT 0x100u
/* The store's work runs in another process (exec): the worker thread's CPU
 * time and I/O counters do not see it, so growth is judged on latency. */
#define CONTEND_TARGET_OUT_OF_PROCESS 0x400u

/* bank: every account holds this much after setup(), so the total of `keys`
 * accounts is keys * CONTEND_BANK_INITIAL for the whole run. */
#define CONTEND_BANK_INITIAL 100

struct contend_target {
    uint32_t abi_version; /* CONTEND_TARGET_ABI */
    const char *name;
    const char *help;
    uint32_t flags;                         /* CONTEND_TARGET_* */
    const struct contend_variant *variants; /* terminated by an entry with name NULL */
    const char *const *workloads;           /* supported workloads, NULL-terminated */
    const struct contend_option *options;   /* NULL or terminated by name NULL */

    /* Parent, once per case, before any worker starts: create the store. */
    int (*setup)(const struct contend_env *env);
    /* Worker: open the store (per worker or per thread, see flags). */
    int (*open)(const struct contend_env *env, void **handle);
    /* One operation.  Returns enum contend_status; never allocates on the
     * harness's behalf (the target may, as the real program would). */
    int (*apply)(void *handle, struct contend_op *op);
    void (*close)(void *handle);
    /* Optional: what the real program does at start-up after a crash. */
    int (*recover)(const struct contend_env *env);
    /* Parent, after every worker has exited: report the final state.  With
     * power cuts it also runs in the middle of one (after the workers died,
     * before the store is rolled back to what the disk held, and again after
     * recovery), so it must not change the store: the fault shim does not
     * see the parent's writes, and the roll-back would miss them. */
    int (*read_state)(const struct contend_env *env, const struct contend_sink *sink);
    /* Optional: whether the ops this env acknowledges are promised durable
     * (must survive a power cut): 1 yes, 0 no.  When set, it replaces the
     * variants' CONTEND_VARIANT_DURABLE flag.  A target needs
     * it when an option decides durability (SQLite's `synchronous`, an
     * fsync policy), which a flag fixed per variant cannot say.  Called in
     * the parent with the case's options resolved. */
    int (*durable)(const struct contend_env *env);
};

/* A perturbation point.  Implemented by the harness. */
CONTEND_EXPORT void contend_point(const char *name);

/* The option named `name`, or `def` when the case does not set it. */
static inline const char *contend_opt(const struct contend_env *env, const char *name,
                                      const char *def)
{
    for (size_t i = 0; i < env->nopts; i++)
        if (strcmp(env->opt_names[i], name) == 0)
            return env->opt_values[i];
    return def;
}

static inline long long contend_opt_int(const struct contend_env *env, const char *name,
                                        long long def)
{
    const char *v = contend_opt(env, name, NULL);
    return (v && *v) ? strtoll(v, NULL, 0) : def;
}

/* Built-in targets register themselves at load time. */
CONTEND_EXPORT void contend_register_target(const struct contend_target *t);
#define CONTEND_TARGET_REGISTER(sym)                                                               \
    __attribute__((constructor)) static void contend_register_##sym(void)                          \
    {                                                                                              \
        contend_register_target(&(sym));                                                           \
    }

#ifdef __cplusplus
}
#endif
#endif /* CONTEND_TARGET_H */
