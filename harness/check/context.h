/*
 * context.h - the ops around a violation, for the report's timeline.
 */
#ifndef CONTEND_CONTEXT_H
#define CONTEND_CONTEXT_H

#include <stddef.h>

#include "result.h"

/* Lanes (writers) and ops per lane a timeline shows at most. */
#define CONTEND_CONTEXT_LANES 8
#define CONTEND_CONTEXT_PER_LANE 12

/* For every violation of `rep` that has witnesses, copy the ops around them
 * from the histories into v->context. */
void contend_context_collect(struct contend_rep *rep, const struct contend_writer_hist *w,
                             size_t nw);

#endif /* CONTEND_CONTEXT_H */
