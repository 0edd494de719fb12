/*
 * ctl.h - the fault control block: what the runner, the workers and the
 * LD_PRELOAD shim share while faults are injected.
 *
 * One file per case, faults/ctl in the case directory, mapped MAP_SHARED by
 * the runner, by every worker (harness/ext/faults/inject.c) and by the shim
 * loaded into every worker (harness/ext/faults/shim.c).  Workers are exec'd and
 * die by SIGKILL on purpose, so nothing here may live in process memory:
 * a worker that marks its own death as planned, an I/O error the shim
 * injected, a power cut a worker asked for, all are stores into this page
 * cache mapping, which survives the process.
 *
 * The runner writes the configuration (seed, store directory, I/O rules)
 * before any worker starts and never changes it; the rest is atomics.  The
 * shim finds the file through one variable, CONTEND_FAULTS_CTL; a process
 * without it (the runner, any program the shim is loaded into by mistake)
 * sees a shim that only forwards calls.
 *
 * This header is shared by the shim, which is plain C with no harness code,
 * so it holds layout only.
 */
#ifndef CONTEND_FAULTS_CTL_H
#define CONTEND_FAULTS_CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTEND_FAULTS_ENV "CONTEND_FAULTS_CTL"
#define CONTEND_FAULTS_CTL_MAGIC 0x4c5443544c554146ull /* "FAULTCTL" */
#define CONTEND_FAULTS_CTL_VERSION 2
#define CONTEND_FAULTS_MAX_RULES 8
#define CONTEND_FAULTS_MAX_EVENTS 8192
#define CONTEND_FAULTS_IO_TEXT 1024
/* A fault plan keeps per-writer counters: cap the writers it supports. */
#define CONTEND_FAULTS_MAX_WRITERS 65536

/* ctl->flags */
#define CONTEND_FAULTS_TRACK 0x1u /* keep the undo log: power cuts are configured */

/* Where in an op a kill or power cut lands. */
enum contend_fault_site {
    CONTEND_SITE_ANY = 0,
    CONTEND_SITE_BEFORE = 1, /* invoked, target not yet called */
    CONTEND_SITE_POINT = 2,  /* at the target's first perturbation point */
    CONTEND_SITE_WRITE = 3,  /* inside one of the op's calls that change the store */
    CONTEND_SITE_AFTER = 4,  /* the target returned; the completion is not recorded */
};

/* What a worker asks the shim to do at the op's store-changing call. */
enum contend_fault_action {
    CONTEND_ACT_NONE = 0,
    CONTEND_ACT_KILL = 1,
    CONTEND_ACT_CUT = 2,
};

enum contend_fault_event_type {
    CONTEND_EV_KILL = 1,
    CONTEND_EV_PAUSE = 2,
    CONTEND_EV_IO = 3,
    CONTEND_EV_CUT = 4,
};

/* The calls the shim can fail (io rules) and counts as store changes. */
enum contend_io_call {
    CONTEND_CALL_WRITE = 0,  /* write, writev */
    CONTEND_CALL_PWRITE = 1, /* pwrite, pwrite64 */
    CONTEND_CALL_FSYNC = 2,
    CONTEND_CALL_FDATASYNC = 3,
    CONTEND_CALL_RENAME = 4, /* rename, renameat, renameat2 */
    CONTEND_CALL_OPEN = 5,   /* open, openat, creat and their 64 / _2 forms */
    CONTEND_CALL_FTRUNCATE = 6,
    CONTEND_CALL_UNLINK = 7, /* unlink, unlinkat */
    CONTEND_CALL_COUNT = 8,
};

/* One fault, recorded where it happened, turned into a run.json event by the
 * runner.  `ready` is stored last (release). */
struct contend_fault_event {
    uint64_t t_ns; /* CLOCK_MONOTONIC */
    uint64_t idx;  /* op index of the writer */
    uint32_t type; /* enum contend_fault_event_type */
    uint32_t writer;
    int32_t err;   /* io: the errno injected, 0 for a short write */
    uint16_t call; /* io: enum contend_io_call */
    uint8_t site;  /* kill, cut: enum contend_fault_site */
    uint8_t ready;
    uint64_t aux; /* io: bytes a short write wrote; kill in a write: bytes written */
};

/* Per worker process slot. */
struct contend_fault_worker {
    uint32_t planned; /* atomic: set just before the worker SIGKILLs itself */
    uint32_t pause_writer;
    /* atomic: when the worker stopped itself; 0 = running; UINT64_MAX while a
     * thread fills in pause_writer and pause_idx (threads race to pause) */
    uint64_t pause_t;
    uint64_t pause_idx;
};

struct contend_fault_ctl {
    uint64_t magic;
    uint32_t version;
    uint32_t flags; /* CONTEND_FAULTS_* */
    uint64_t seed;
    uint32_t procs, threads;
    uint64_t map_len;                /* size of the whole file */
    char store[PATH_MAX];            /* absolute store directory: only files under it are touched */
    char ulog[PATH_MAX];             /* the undo log (power cuts) */
    char farm[PATH_MAX];             /* directory of hard links, one per tracked inode */
    char io[CONTEND_FAULTS_IO_TEXT]; /* io rules, as the scenario wrote them */

    /* A power cut a worker asked for (contend_fault_request_cut), then
     * stopped its whole process group for.  1 when ready. */
    uint32_t cut_req;
    uint32_t cut_writer;
    uint64_t cut_idx;
    uint32_t cut_site;
    uint32_t _pad;
    uint64_t cut_t;

    uint64_t nevents; /* atomic: slots reserved in ev[]; beyond the end they are dropped */
    struct contend_fault_event ev[CONTEND_FAULTS_MAX_EVENTS];
    /* Followed by: struct contend_fault_worker w[procs], then
     * uint64_t io_calls[procs * threads][CONTEND_FAULTS_MAX_RULES], then
     * struct contend_fault_mirror m[procs * threads]. */
};

/* The variable that makes a shim a delegate: "WRITER:WORKER_PID".  The exec
 * target sets it for the program a worker thread talks to, so that the
 * program's own store calls are faulted as that writer's (shim.c). */
#define CONTEND_FAULTS_DELEGATE_ENV "CONTEND_FAULTS_DELEGATE"

/* Per writer: the op its worker thread is in, published by the worker's
 * shim at each op's start and end, read by the shim of a program that does
 * the op for it (the exec target's).  The worker changes it only while the
 * program waits for a request, and the pipe between them orders the two. */
struct contend_fault_mirror {
    uint64_t gen; /* bumped after every change (release) */
    uint64_t idx;
    uint32_t in_op;
    uint32_t action;     /* enum contend_fault_action */
    uint32_t at_call;    /* fire it at this store-changing call of the program */
    uint32_t calls;      /* the program's store-changing calls in this op */
    uint32_t prev_calls; /* ... in the last op that had any */
    uint32_t worker;
};

static inline size_t contend_fault_ctl_size(uint32_t procs, uint32_t threads)
{
    return sizeof(struct contend_fault_ctl) + (size_t)procs * sizeof(struct contend_fault_worker) +
           (size_t)procs * threads * CONTEND_FAULTS_MAX_RULES * sizeof(uint64_t) +
           (size_t)procs * threads * sizeof(struct contend_fault_mirror);
}

static inline struct contend_fault_worker *contend_fault_ctl_worker(struct contend_fault_ctl *c,
                                                                    uint32_t w)
{
    return (struct contend_fault_worker *)(c + 1) + w;
}

static inline uint64_t *contend_fault_ctl_io_calls(struct contend_fault_ctl *c, uint32_t writer)
{
    uint64_t *base = (uint64_t *)(contend_fault_ctl_worker(c, c->procs));
    return base + (size_t)writer * CONTEND_FAULTS_MAX_RULES;
}

static inline struct contend_fault_mirror *contend_fault_ctl_mirror(struct contend_fault_ctl *c,
                                                                    uint32_t writer)
{
    uint64_t *end = contend_fault_ctl_io_calls(c, c->procs * c->threads);
    return (struct contend_fault_mirror *)end + writer;
}

/* Reserve an event slot; NULL when the ring is full (the event is dropped
 * and counted by nevents running past the end). */
static inline struct contend_fault_event *contend_fault_event_new(struct contend_fault_ctl *c)
{
    uint64_t i = __atomic_fetch_add(&c->nevents, 1, __ATOMIC_RELAXED);
    return i < CONTEND_FAULTS_MAX_EVENTS ? &c->ev[i] : NULL;
}

/* Ask for a power cut: the first thread (of any worker) to ask describes it;
 * cut_req goes 0 -> 2 (being written) -> 1 (ready, release), so the runner
 * never reads a half-written request.  The caller then stops its group. */
static inline void contend_fault_request_cut(struct contend_fault_ctl *c, uint32_t writer,
                                             uint64_t idx, uint32_t site, uint64_t now)
{
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&c->cut_req, &idle, 2, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return; /* someone else's cut is under way */
    c->cut_writer = writer;
    c->cut_idx = idx;
    c->cut_site = site;
    c->cut_t = now;
    __atomic_store_n(&c->cut_req, 1, __ATOMIC_RELEASE);
}

/* The shim's entry points, found by the worker with dlsym(RTLD_DEFAULT). */
#define CONTEND_SHIM_OP_SYMBOL "contend_shim_op"
/* contend_shim_op(worker, writer, idx, action): an op of `writer` begins
 * (action: what to do at one of its store-changing calls) or, with
 * idx == UINT64_MAX, ends; returns 1 when the action is still pending. */
typedef int (*contend_shim_op_fn)(uint32_t worker, uint32_t writer, uint64_t idx, int action);

#endif /* CONTEND_FAULTS_CTL_H */
