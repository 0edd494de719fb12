/*
 * fatal.h - a target says the harness cannot go on with this case.
 *
 * Some failures are neither the store's nor an op's: the exec target's
 * program answered a request with a line that does not parse, or answered
 * nothing within `timeout`.  Judging the store on such a run would judge the
 * protocol instead, so the case ends as a harness error (exit 4) with the
 * target's own words.  In a worker thread the words go where the runner
 * looks (the thread's history header) and the worker exits at once; in the
 * runner (setup, the final state) they wait for the runner to take them.
 */
#ifndef CONTEND_FATAL_H
#define CONTEND_FATAL_H

#include <stdbool.h>
#include <stddef.h>

struct contend_history_header;

/* The calling worker thread's header, so that a fatal error lands there. */
void contend_fatal_bind(struct contend_history_header *hdr);

/* Say why the case cannot go on.  In a bound worker thread this records the
 * message and exits the worker with CONTEND_EXIT_HARNESS; elsewhere it keeps
 * the message for contend_fatal_take() and returns. */
void contend_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Keep a reason for contend_fatal_take() without ending anything, in any
 * thread: a store that refuses to open or recover is the store's failure,
 * which the worker reports as such, not the harness's. */
void contend_fatal_keep(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The kept message, if any, copied into buf; it is cleared. */
bool contend_fatal_take(char *buf, size_t len);

#endif /* CONTEND_FATAL_H */
