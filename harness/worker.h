/*
 * worker.h - the worker process (`contend __worker CASE_DIR INDEX`).
 */
#ifndef CONTEND_WORKER_H
#define CONTEND_WORKER_H

#include <stdint.h>

/* Runs worker `worker` of the case in `case_dir`; returns an exit code. */
int contend_worker_main(const char *case_dir, uint32_t worker);

#endif /* CONTEND_WORKER_H */
