/*
 * plugin_cond_turn.c - a test plug-in whose threads wait for each other on
 * condition variables, for the controlled schedule's condition-wait hand-off
 * (harness/ext/faults/shim.c).
 *
 * The threads of one worker process take turns: thread t may apply an op
 * only when `turn` is t; it then increments the key's counter (8 bytes at
 * 8 * key in counters.bin) under the process's mutex, passes the turn on and
 * wakes the others.  A thread waits for its turn on a condition variable:
 * even threads in pthread_cond_wait on a CLOCK_REALTIME condition, odd ones
 * in pthread_cond_timedwait on a CLOCK_MONOTONIC one with a far deadline
 * (met only if something is badly wrong, and then simply waited again), so
 * both wrappers and the shim's reading of a condition's clock are used.
 * A perturbation point inside the mutex makes the other threads meet it
 * taken.  Under a controlled schedule without the hand-off, the first thread
 * to wait keeps the token and the watchdog has to fall back to the OS.
 *
 * One process only (the turn is per process, the file has no lock between
 * processes) and `ops`, not `duration`: every thread must take the same
 * number of turns, or the last ones would wait for a thread that finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

static const struct contend_variant turn_variants[] = {
    {"turns", "threads take turns through condition variables", CONTEND_VARIANT_MONOTONIC, NULL},
    {NULL, NULL, 0, NULL},
};

static const char *const turn_workloads[] = {"counter", NULL};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t even, odd; /* CLOCK_REALTIME / CLOCK_MONOTONIC */
    pthread_once_t once;
    uint32_t turn;
} T = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
       PTHREAD_ONCE_INIT, 0};

struct turn {
    int fd;
    uint32_t me, n;
};

static void init_odd(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_destroy(&T.odd);
    pthread_cond_init(&T.odd, &a);
    pthread_condattr_destroy(&a);
}

static int turn_path(const struct contend_env *env, char *buf, size_t len)
{
    return snprintf(buf, len, "%s/counters.bin", env->store_dir) < (int)len ? 0 : -ENAMETOOLONG;
}

static int turn_setup(const struct contend_env *env)
{
    char path[4096];
    int rc = turn_path(env, path, sizeof path);
    if (rc)
        return rc;
    if (env->procs != 1)
        return -EINVAL; /* the turn is per process */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    rc = ftruncate(fd, (off_t)(8 * env->keys)) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int turn_open(const struct contend_env *env, void **handle)
{
    char path[4096];
    int rc = turn_path(env, path, sizeof path);
    if (rc)
        return rc;
    pthread_once(&T.once, init_odd);
    struct turn *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->me = env->thread;
    t->n = env->threads;
    t->fd = open(path, O_RDWR | O_CLOEXEC);
    if (t->fd < 0) {
        rc = -errno;
        free(t);
        return rc;
    }
    *handle = t;
    return 0;
}

static void wait_turn(const struct turn *t)
{
    while (T.turn != t->me) {
        if (t->me % 2 == 0) {
            pthread_cond_wait(&T.even, &T.mu);
            continue;
        }
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += 600;
        pthread_cond_timedwait(&T.odd, &T.mu, &dl); /* ETIMEDOUT: wait again */
    }
}

static int turn_apply(void *handle, struct contend_op *op)
{
    struct turn *t = handle;
    int64_t v = 0;
    int status = CONTEND_OK;
    pthread_mutex_lock(&T.mu);
    wait_turn(t);
    if (pread(t->fd, &v, sizeof v, (off_t)(8 * op->key)) != (ssize_t)sizeof v) {
        op->err = EIO;
        status = CONTEND_FAIL;
    } else if (op->kind == CONTEND_OP_INCR) {
        contend_point("cond-turn:read-modify-write");
        v++;
        if (pwrite(t->fd, &v, sizeof v, (off_t)(8 * op->key)) != (ssize_t)sizeof v) {
            op->err = EIO;
            status = CONTEND_INFO;
        }
    }
    op->value = v;
    T.turn = (T.turn + 1) % t->n;
    pthread_cond_broadcast(&T.even);
    pthread_cond_broadcast(&T.odd);
    pthread_mutex_unlock(&T.mu);
    return status;
}

static void turn_close(void *handle)
{
    struct turn *t = handle;
    close(t->fd);
    free(t);
}

static int turn_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    char path[4096];
    int rc = turn_path(env, path, sizeof path);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (uint64_t k = 0; k < env->keys; k++) {
        int64_t v;
        if (pread(fd, &v, sizeof v, (off_t)(8 * k)) == (ssize_t)sizeof v)
            sink->value(sink->ctx, k, v);
    }
    close(fd);
    return 0;
}

const struct contend_target contend_target_plugin = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "cond-turn",
    .help = "test plug-in: threads take turns through condition variables",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = turn_variants,
    .workloads = turn_workloads,
    .setup = turn_setup,
    .open = turn_open,
    .apply = turn_apply,
    .close = turn_close,
    .read_state = turn_read_state,
};
