/*
 * null.c - the target that does nothing.
 *
 * Every op succeeds at once, so a run against it measures the harness
 * itself: op generation, two clock reads, the history record, the latency
 * histogram.  Two options exist for testing the harness, not a store:
 * `delay_ns` adds a busy wait per op, which gives tests of `contend compare`
 * a target whose speed they control, and `crash_at` makes worker 0 die of
 * SIGSEGV in its N-th op, which proves that a crashing target is reported as
 * a crash and not mistaken for a pass.  `fail_reopen` makes every open after
 * a worker's first fail (a marker file per worker in the store says it
 * opened before), as a store that a kill left unopenable would: the runner
 * must report that as the store's failure, not its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

struct null_handle {
    long long delay_ns;
    long long crash_at; /* ops left before the crash; 0 = never */
};

static const struct contend_variant null_variants[] = {
    {"default", "succeed at once", CONTEND_VARIANT_MONOTONIC, NULL},
    {NULL, NULL, 0, NULL},
};

static const char *const null_workloads[] = {"counter", NULL};

static const struct contend_option null_options[] = {
    {"delay_ns", "0", NULL, "busy-wait this long in every op (for testing comparisons)",
     CONTEND_OPT_INT, 0, 10e9},
    {"crash_at", "0", NULL, "worker 0 dies of SIGSEGV in its N-th op (for testing the harness)",
     CONTEND_OPT_INT, 0, 1e18},
    {"fail_reopen", "0", "0|1",
     "a worker's every open after its first fails (for testing the harness)"},
    {NULL, NULL, NULL, NULL},
};

/* fail_reopen: -EBADMSG when this worker thread has opened before. */
static int reopen_check(const struct contend_env *env)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/null-opened.%u.%u", env->store_dir, env->worker, env->thread);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? -EBADMSG : -errno;
    close(fd);
    return 0;
}

static int null_open(const struct contend_env *env, void **handle)
{
    if (contend_opt_int(env, "fail_reopen", 0)) {
        int rc = reopen_check(env);
        if (rc)
            return rc;
    }
    struct null_handle *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->delay_ns = contend_opt_int(env, "delay_ns", 0);
    if (env->worker == 0)
        h->crash_at = contend_opt_int(env, "crash_at", 0);
    *handle = h;
    return 0;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int null_apply(void *handle, struct contend_op *op)
{
    struct null_handle *h = handle;
    if (h->crash_at > 0 && --h->crash_at == 0) {
        /* The default action, not a sanitizer's handler: die of the signal. */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (h->delay_ns > 0) {
        long long until = now_ns() + h->delay_ns;
        while (now_ns() < until) {
            /* Spin: a sleep would measure the scheduler, not a slower target. */
        }
    }
    op->value = -1; /* no state, so no value to return */
    return CONTEND_OK;
}

static void null_close(void *handle)
{
    free(handle);
}

const struct contend_target contend_target_null = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "null",
    .help = "does nothing and succeeds: measures the harness's own overhead",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_NO_STATE,
    .variants = null_variants,
    .workloads = null_workloads,
    .options = null_options,
    .open = null_open,
    .apply = null_apply,
    .close = null_close,
};
CONTEND_TARGET_REGISTER(contend_target_null)
