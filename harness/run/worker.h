/*
 * worker.h - the worker process (`contend __worker CASE_DIR INDEX`).
 */
#ifndef CONTEND_WORKER_H
#define CONTEND_WORKER_H

#include <stdint.h>

/* Runs worker `worker` of the case in `case_dir`; returns an exit code. */
int contend_worker_main(const char *case_dir, uint32_t worker);
/* `contend __worker CASE_DIR INDEX --recover`: run the target's recover()
 * once and exit: 0 done, 1 the target's recovery failed, 4 harness error. */
int contend_worker_recover(const char *case_dir, uint32_t worker);

#endif /* CONTEND_WORKER_H */
