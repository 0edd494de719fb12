/*
 * iorule.h - the `io` fault key: which calls fail, how, and when.
 *
 *   io = RULE[, RULE]...
 *   RULE = CALL[+CALL]...:ERROR@WHEN
 *   CALL = write | pwrite | fsync | fdatasync | rename | open | ftruncate | unlink
 *   ERROR = EIO | ENOSPC | EDQUOT | EFBIG | EROFS | short
 *   WHEN = N      the N-th matching call of each writer (1-based)
 *        | N+     every matching call from the N-th on
 *        | P%     each matching call with probability P percent, drawn from the seed
 *
 * `short` makes a write or pwrite write the first half of its buffer (at
 * least one byte) and return that count.  Calls are counted per writer
 * (worker thread) over the whole run, across restarts, and only while an op
 * runs and only on files under the case's store directory.
 *
 * The parser allocates nothing: the LD_PRELOAD shim runs it too.
 */
#ifndef CONTEND_FAULTS_IORULE_H
#define CONTEND_FAULTS_IORULE_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

struct contend_io_rule {
    uint32_t calls; /* bit (1 << enum contend_io_call) per call */
    int err;        /* errno to inject; 0 = a short write */
    uint64_t nth;   /* WHEN = N or N+; 0 with ppm */
    int from;       /* N+: every call from the N-th on */
    uint32_t ppm;   /* WHEN = P%: probability in parts per million */
};

/* Parse `text` into at most `max` rules.  Returns 0, or -EINVAL with a reason
 * in why[whylen].  Empty text is zero rules. */
int contend_io_rules_parse(const char *text, struct contend_io_rule *out, size_t max, size_t *n,
                           char *why, size_t whylen);

const char *contend_io_call_name(unsigned call);

#endif /* CONTEND_FAULTS_IORULE_H */
