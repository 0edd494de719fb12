/*
 * history.h - the crash-proof operation history.
 *
 * Every worker thread owns one history file in the case directory, mapped
 * MAP_SHARED.  The file holds a header (progress, errors), the thread's
 * latency histogram and throughput series, and an array of fixed-size op
 * records.  The worker writes a record's invocation before calling the target
 * and its completion after; both are plain stores into the shared page cache,
 * so when the kernel kills the worker (SIGKILL, a crash) everything written
 * so far survives, and an op that was in flight stays marked "invoked": the
 * checker treats it as indeterminate, as Jepsen does with :info.
 *
 * Ordering: the record's fields are written first and `count` is published
 * with a release store, then `status` is published with a release store on
 * completion.  A reader (the watchdog, while workers run) that acquires
 * `count` sees complete invocations; one that acquires `status` sees the
 * completion fields.
 *
 * Nothing here allocates or locks after the file is mapped.
 */
#ifndef CONTEND_HISTORY_H
#define CONTEND_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "target.h"

#define CONTEND_HISTORY_MAGIC 0x5453494854444e43ull /* "CNDTHIST" little-endian */
#define CONTEND_HISTORY_VERSION 2

/* Status 0: invoked but not completed (in flight, or the worker died). */
#define CONTEND_STATUS_INVOKED 0

struct contend_record {
    uint64_t t_invoke;   /* ns, worker's monotonic clock */
    uint64_t t_complete; /* ns, 0 while in flight */
    uint8_t kind;        /* enum contend_op_kind */
    uint8_t status;      /* CONTEND_STATUS_INVOKED or enum contend_status */
    uint16_t retries;
    int32_t err;
    uint64_t key;
    uint64_t key2;
    int64_t arg;
    int64_t value;
    uint64_t value2;
};
_Static_assert(sizeof(struct contend_record) == 64, "a record is one cache line");

enum contend_thread_state {
    CONTEND_THREAD_CREATED = 0,
    CONTEND_THREAD_OPEN = 1, /* target opened, waiting at the barrier */
    CONTEND_THREAD_RUNNING = 2,
    CONTEND_THREAD_DONE = 3,
    CONTEND_THREAD_ERROR = 4, /* could not open the target: see error[] */
    /* A worker started again after a kill or a power cut: the target's
     * recover(), then open() again (state CREATED).  Each is a phase of its
     * own for the hang watchdog, bounded by the target's own deadlines. */
    CONTEND_THREAD_RECOVERING = 5,
};

struct contend_history_header {
    uint64_t magic;
    uint32_t version;
    uint32_t record_size;
    uint32_t worker, thread, writer;
    uint32_t starts;   /* how many times a worker process started on this history */
    uint64_t capacity; /* records */
    uint64_t count;    /* records invoked (atomic, release) */
    uint64_t done;     /* records completed (atomic, release): the watchdog's progress */
    uint64_t t_first;  /* first invocation */
    uint64_t t_end;    /* the thread finished its ops */
    uint32_t state;    /* enum contend_thread_state (atomic) */
    uint32_t full;     /* capacity ran out before the run ended */
    char error[512];   /* why the thread could not run */
    /* The worker's clock is not the runner's (libfaketime): record times are
     * on the worker's clock, latencies and the series on the real one, and
     * t_end_real says when the thread finished on the real monotonic clock. */
    uint32_t clock_faked;
    /* The worker measured each op's work (struct contend_work, below): only
     * when the case judges growth and the target runs in the worker. */
    uint32_t work_measured;
    uint64_t t_end_real;
};

#define CONTEND_HISTORY_HIST_OFF 4096ul
_Static_assert(sizeof(struct contend_history_header) <= CONTEND_HISTORY_HIST_OFF,
               "the header fits in its page");
#define CONTEND_HISTORY_SERIES_OFF                                                                 \
    ((CONTEND_HISTORY_HIST_OFF + sizeof(struct contend_hist) + 4095ul) & ~4095ul)
#define CONTEND_HISTORY_RECORDS_OFF                                                                \
    ((CONTEND_HISTORY_SERIES_OFF + CONTEND_SERIES_LEN * sizeof(uint32_t) + 4095ul) & ~4095ul)

/* The work one op did in its worker thread (growth.h): thread CPU time, and
 * the thread's I/O counters from /proc.  Record i's work is work[i]; the
 * array follows the records, so it takes no space unless it is written. */
struct contend_work {
    uint64_t cpu_ns;
    uint64_t read_bytes;  /* rchar: bytes passed to read(), pread(), ... */
    uint64_t write_bytes; /* wchar */
    uint64_t syscalls;    /* syscr + syscw */
};

struct contend_history {
    struct contend_history_header *hdr;
    struct contend_hist *hist;
    uint32_t *series;
    struct contend_record *rec;
    struct contend_work *work; /* NULL for histories made in memory (tests) */
    size_t map_len;
};

/* Parent: create a history file able to hold `capacity` records (sparse). */
/* Bytes of a history file of `capacity` records (its blocks are reserved). */
uint64_t contend_history_file_size(uint64_t capacity);
int contend_history_create(const char *path, uint32_t worker, uint32_t thread, uint32_t writer,
                           uint64_t capacity);
/* Map an existing history; writable for the worker, read-only for checkers. */
int contend_history_open(const char *path, bool writable, struct contend_history *h);
void contend_history_close(struct contend_history *h);

/* Records invoked so far; the checker's upper bound on valid records. */
static inline uint64_t contend_history_count(const struct contend_history *h)
{
    uint64_t n = __atomic_load_n(&h->hdr->count, __ATOMIC_ACQUIRE);
    return n < h->hdr->capacity ? n : h->hdr->capacity;
}

/* Hot path: write the invocation of `op` as record `idx` and publish it. */
static inline struct contend_record *contend_history_invoke(struct contend_history *h, uint64_t idx,
                                                            const struct contend_op *op,
                                                            uint64_t now)
{
    struct contend_record *r = &h->rec[idx];
    r->t_invoke = now;
    r->t_complete = 0;
    r->kind = (uint8_t)op->kind;
    r->retries = 0;
    r->err = 0;
    r->key = op->key;
    r->key2 = op->key2;
    r->arg = op->arg;
    r->value = 0;
    r->value2 = 0;
    __atomic_store_n(&r->status, CONTEND_STATUS_INVOKED, __ATOMIC_RELAXED);
    __atomic_store_n(&h->hdr->count, idx + 1, __ATOMIC_RELEASE);
    return r;
}

/* Hot path: write the completion and publish it. */
static inline void contend_history_complete(struct contend_history *h, struct contend_record *r,
                                            const struct contend_op *op, int status, uint64_t now)
{
    r->t_complete = now;
    r->retries = op->retries > UINT16_MAX ? UINT16_MAX : (uint16_t)op->retries;
    r->err = op->err;
    r->value = op->value;
    r->value2 = op->value2;
    __atomic_store_n(&r->status, (uint8_t)status, __ATOMIC_RELEASE);
    __atomic_store_n(&h->hdr->done, h->hdr->done + 1, __ATOMIC_RELEASE);
}

/* Op id of record `idx` of `writer`, the id a target sees in op->id. */
static inline uint64_t contend_op_id(uint32_t writer, uint64_t idx)
{
    return ((uint64_t)writer << 32) | (idx & 0xffffffffull);
}

/* contend_op_kind_name() is in target.h, with the kinds. */
const char *contend_status_name(unsigned status);

#endif /* CONTEND_HISTORY_H */
