/*
 * file_counter.c - an example plug-in target, built outside the harness.
 *
 * Counters live in one binary file, eight bytes per key at offset 8 * key.
 * The `ofd-lock` variant locks just the key's eight bytes with an open file
 * description lock (F_OFD_SETLKW): per-key locking, so increments of
 * different keys proceed in parallel, and, unlike classic POSIX record locks,
 * the lock belongs to the descriptor, so threads of one process exclude each
 * other too.  `unlocked` does the same read and write without the lock.
 *
 * Build and run (see README.md, "Plug-in targets"): against the source tree's
 * targets/ or an installed contend's PREFIX/include/contend, the target.h of
 * the contend that loads it (the ABI version must match):
 *   cc -shared -fPIC -I targets -o file_counter.so examples/plugin/file_counter.c
 *   contend run --workload counter --target_path ./file_counter.so \
 *               --variant unlocked --procs 4 --ops 200 --perturb 100
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* F_OFD_SETLKW */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

enum { V_OFD_LOCK, V_UNLOCKED };

static const struct contend_variant fc_variants[] = {
    [V_OFD_LOCK] = {"ofd-lock", "lock the key's 8 bytes with F_OFD_SETLKW",
                    CONTEND_VARIANT_MONOTONIC, NULL},
    [V_UNLOCKED] = {"unlocked", "read and write without a lock", CONTEND_VARIANT_BROKEN,
                    "lost-update"},
    {NULL, NULL, 0, NULL},
};

static const char *const fc_workloads[] = {"counter", NULL};

struct fc {
    int fd;
    int variant;
};

static int fc_path(const struct contend_env *env, char *buf, size_t len)
{
    return snprintf(buf, len, "%s/counters.bin", env->store_dir) < (int)len ? 0 : -ENAMETOOLONG;
}

static int fc_setup(const struct contend_env *env)
{
    char path[4096];
    int rc = fc_path(env, path, sizeof path);
    if (rc)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    rc = ftruncate(fd, (off_t)(8 * env->keys)) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int fc_open(const struct contend_env *env, void **handle)
{
    char path[4096];
    int rc = fc_path(env, path, sizeof path);
    if (rc)
        return rc;
    struct fc *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->variant = env->variant_index;
    f->fd = open(path, O_RDWR | O_CLOEXEC);
    if (f->fd < 0) {
        rc = -errno;
        free(f);
        return rc;
    }
    *handle = f;
    return 0;
}

static int lock_key(const struct fc *f, uint64_t key, short type)
{
    struct flock l = {
        .l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)(8 * key), .l_len = 8};
    while (fcntl(f->fd, F_OFD_SETLKW, &l) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int fc_apply(void *handle, struct contend_op *op)
{
    struct fc *f = handle;
    bool locked = f->variant == V_OFD_LOCK;
    int64_t v;

    if (op->kind != CONTEND_OP_INCR && op->kind != CONTEND_OP_READ) {
        op->err = ENOTSUP;
        return CONTEND_FAIL;
    }
    if (locked &&
        (op->err = -lock_key(f, op->key, op->kind == CONTEND_OP_READ ? F_RDLCK : F_WRLCK)))
        return CONTEND_FAIL;
    int status = CONTEND_FAIL;
    if (pread(f->fd, &v, sizeof v, (off_t)(8 * op->key)) != (ssize_t)sizeof v) {
        op->err = errno ? errno : EIO;
        goto out;
    }
    if (op->kind == CONTEND_OP_READ) {
        op->value = v;
        status = CONTEND_OK;
        goto out;
    }
    contend_point("file-counter:read-modify-write");
    v++;
    ssize_t w = pwrite(f->fd, &v, sizeof v, (off_t)(8 * op->key));
    if (w == (ssize_t)sizeof v) {
        op->value = v;
        status = CONTEND_OK;
    } else {
        op->err = w < 0 ? errno : EIO;
        status = w == 0 ? CONTEND_FAIL : CONTEND_INFO; /* a short write changed something */
    }
out:
    if (locked)
        lock_key(f, op->key, F_UNLCK);
    return status;
}

static void fc_close(void *handle)
{
    struct fc *f = handle;
    close(f->fd);
    free(f);
}

static int fc_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    char path[4096];
    int rc = fc_path(env, path, sizeof path);
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

/* The one symbol contend looks for. */
const struct contend_target contend_target_plugin = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "file-counter",
    .help = "example plug-in: 8-byte counters in a binary file, per-key OFD locks",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = fc_variants,
    .workloads = fc_workloads,
    .setup = fc_setup,
    .open = fc_open,
    .apply = fc_apply,
    .close = fc_close,
    .read_state = fc_read_state,
};
