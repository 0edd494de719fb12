/*
 * control.h - the block the runner and its workers share.
 *
 * One small file per case, mapped MAP_SHARED by the runner and by every
 * worker (workers are exec'd, so an anonymous mapping would not reach them).
 * It carries the start barrier and the stop flag.  `go` is a futex word: the
 * workers sleep on it after opening the target, and the runner sets it and
 * wakes them all at once, so the clock starts together for everyone.
 */
#ifndef CONTEND_CONTROL_H
#define CONTEND_CONTROL_H

#include <stdint.h>

#include "schedule.h"

#define CONTEND_CONTROL_MAGIC 0x4c5254434e444e43ull

struct contend_control {
    uint64_t magic;
    uint32_t go;   /* futex: 0 until the runner starts the clock */
    uint32_t stop; /* duration mode: set when the time is up */
    uint64_t t_go; /* the start, on the monotonic clock, written before go */
    /* The controlled schedule (schedule.h); mode SCHED_OS when not in use. */
    struct contend_sched_shared sched;
};

int contend_control_create(const char *path, struct contend_control **out);
int contend_control_open(const char *path, struct contend_control **out);
void contend_control_close(struct contend_control *c);

/* Sleep until *word != val or the timeout (ns) passes; wake all sleepers. */
void contend_futex_wait(uint32_t *word, uint32_t val, uint64_t timeout_ns);
void contend_futex_wake_all(uint32_t *word);

#endif /* CONTEND_CONTROL_H */
