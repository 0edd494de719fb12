/*
 * file_queue.c - a job queue made of directories: inbox/, queue/<worker>/,
 * outbox/.
 *
 * The field report's layout: every job is one JSON file.  Producers drop it
 * into inbox/; a worker's polling loop lists inbox/, moves a job into its own
 * queue/<worker>/ while it processes it, and moves it to outbox/ when done.
 * The listing is the real one (readdir, then sorted by name as a program's
 * sorted(os.listdir()) is), so every take costs O(backlog): the growth fit of
 * the backlog case shows it.  The variants are the ways it was written:
 *
 *   rename-claim           the fix.  Enqueue: write inbox/.w<worker>.<name>,
 *                          fsync it, rename it to inbox/<name>, fsync inbox/.
 *                          Take: rename(inbox/x, queue/w<worker>/x); of two
 *                          workers that saw x only one rename succeeds, the
 *                          other gets ENOENT and tries the next name; then
 *                          fsync both directories.  Ack: rename into outbox/,
 *                          fsync both.  recover() (a worker starting again)
 *                          moves the jobs its dead predecessor held back to
 *                          inbox/ (by way of a hidden name, see
 *                          recover_worker): at-least-once, each job comes
 *                          back once.
 *   scan-read-delete       list, read the file, delete it, process from
 *                          memory; a delete that finds the file gone is
 *                          ignored (os.remove in try/except).  Two workers
 *                          that listed the same file both read it before
 *                          either deleted it: double-delivery.  A worker that
 *                          dies while processing loses the job as well.
 *   delete-before-process  takes exclusively (rename into queue/w<worker>/),
 *                          but reads the job and deletes the file at once,
 *                          then processes it from memory: a worker killed
 *                          while processing loses it (lost-job).
 *   nofsync                rename-claim without any fsync: correct while the
 *                          machine stays up; a power cut loses enqueued jobs
 *                          and acks (never promised durable).
 *
 * Files: inbox/<id>.json, queue/w<worker>/<id>.json, outbox/<id>.json, and
 * inbox/.w<worker>.<id>.json while an enqueue is between write and rename,
 * inbox/.r<worker>.<id>.json while recovery brings a job back
 * (no job name: the listing skips it); <id> is
 * the job id in 20 decimal digits, so that the name order is each
 * producer's order.  A job file holds {"id": <id>, "payload": "<payload>"}.
 *
 * read_state() lists the three directories: inbox/ = ready, queue/w<N>/ =
 * held by worker N, outbox/ = done (target.h, enum contend_queue_state).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"

enum variant { V_RENAME_CLAIM, V_SCAN_READ_DELETE, V_DELETE_BEFORE_PROCESS, V_NOFSYNC, V_COUNT };

static const struct contend_variant fq_variants[] = {
    [V_RENAME_CLAIM] = {"rename-claim",
                        "take by rename into queue/<worker>/, fsync files and directories, "
                        "recovery returns a dead worker's jobs",
                        CONTEND_VARIANT_DURABLE | CONTEND_VARIANT_AT_LEAST_ONCE, NULL},
    [V_SCAN_READ_DELETE] = {"scan-read-delete",
                            "list, read the job, delete it: two workers read the same job",
                            CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_DURABLE, "double-delivery"},
    [V_DELETE_BEFORE_PROCESS] = {"delete-before-process",
                                 "claim by rename, then delete before processing: a kill loses "
                                 "the job",
                                 CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_DURABLE, "lost-job"},
    [V_NOFSYNC] = {"nofsync", "rename-claim without fsync: a power cut loses jobs",
                   CONTEND_VARIANT_AT_LEAST_ONCE, NULL},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};

static const char *const fq_workloads[] = {"queue", NULL};

#define NAME_LEN 26 /* 20 digits + ".json" + NUL */
#define JOB_MAX 256 /* bytes of a job file */

struct fq {
    enum variant v;
    bool sync;
    uint32_t worker;
    char inbox[PATH_MAX], mine[PATH_MAX], outbox[PATH_MAX];
    /* The last listing of inbox/, reused from take to take. */
    char (*names)[NAME_LEN];
    size_t nnames, cap;
};

/* ---- small file helpers ------------------------------------------------- */

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static int sync_dir(const struct fq *q, const char *dir)
{
    return q->sync ? fsync_path(dir, O_RDONLY | O_DIRECTORY) : 0;
}

static void job_name(uint64_t id, char name[NAME_LEN])
{
    snprintf(name, NAME_LEN, "%020" PRIu64 ".json", id);
}

/* The id of a job file name, or -1 when it is not one. */
static int64_t id_of(const char *name)
{
    char *end;
    if (strlen(name) != NAME_LEN - 1 || name[0] < '0' || name[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (errno || strcmp(end, ".json") != 0 || v > INT64_MAX)
        return -1;
    return (int64_t)v;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read a job file and put its payload into op->buf (buf_len 0 when the file
 * is not a job: torn by a power cut, say). */
static int read_job(const char *path, struct contend_op *op)
{
    char text[JOB_MAX + 1];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while ((n = read(fd, text, JOB_MAX)) < 0 && errno == EINTR) {
    }
    int rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc)
        return rc;
    text[n] = '\0';
    op->buf_len = 0;
    const char *p = strstr(text, "\"payload\": \"");
    if (!p)
        return 0;
    p += strlen("\"payload\": \"");
    size_t len = strcspn(p, "\"");
    if (p[len] == '"' && len <= op->buf_cap) {
        memcpy(op->buf, p, len);
        op->buf_len = (uint32_t)len;
    }
    return 0;
}

/* ---- ops -------------------------------------------------------------------- */

static int fq_enqueue(struct fq *q, struct contend_op *op)
{
    char name[NAME_LEN], tmp[PATH_MAX + 64], dst[PATH_MAX + NAME_LEN + 1], text[JOB_MAX];
    int n = snprintf(text, sizeof text, "{\"id\": %" PRIu64 ", \"payload\": \"%.*s\"}\n", op->key,
                     (int)(op->buf_len < 128 ? op->buf_len : 128), (const char *)op->buf);
    job_name(op->key, name);
    snprintf(tmp, sizeof tmp, "%s/.w%u.%s", q->inbox, q->worker, name);
    snprintf(dst, sizeof dst, "%s/%s", q->inbox, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        op->err = errno;
        return CONTEND_FAIL;
    }
    int rc = write_all(fd, text, (size_t)n);
    if (rc == 0 && q->sync && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        op->err = -rc;
        return CONTEND_FAIL; /* the job never reached inbox/ */
    }
    /* Renamed: the job is queued, but durable only once inbox/ is.  The
     * temporary file is in inbox/ itself, so that one directory's fsync
     * makes the name durable: a temp directory would need its own, and a
     * consumer could move the job on (and fsync inbox/) in between. */
    if ((rc = sync_dir(q, q->inbox)) != 0) {
        op->err = -rc;
        return CONTEND_INFO;
    }
    return CONTEND_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* List inbox/ into q->names, sorted: the O(backlog) part of every take. */
static int scan(struct fq *q)
{
    DIR *d = opendir(q->inbox);
    struct dirent *e;
    if (!d)
        return -errno;
    q->nnames = 0;
    while ((e = readdir(d)) != NULL) {
        if (id_of(e->d_name) < 0)
            continue;
        if (q->nnames == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 256;
            void *p = realloc(q->names, cap * sizeof q->names[0]);
            if (!p) {
                closedir(d);
                return -ENOMEM;
            }
            q->names = p;
            q->cap = cap;
        }
        memcpy(q->names[q->nnames++], e->d_name, NAME_LEN);
    }
    closedir(d);
    if (q->nnames > 1) /* qsort(NULL, 0, ...) is undefined, and an empty inbox is common */
        qsort(q->names, q->nnames, sizeof q->names[0], cmp_name);
    return 0;
}

/* rename-claim, nofsync, delete-before-process: the rename decides. */
static int take_rename(struct fq *q, struct contend_op *op, const char *name)
{
    char src[PATH_MAX + NAME_LEN + 1], dst[PATH_MAX + NAME_LEN + 1];
    snprintf(src, sizeof src, "%s/%s", q->inbox, name);
    snprintf(dst, sizeof dst, "%s/%s", q->mine, name);
    /* Between the listing and the rename another worker may move it. */
    contend_point("file-queue:list-then-rename");
    if (rename(src, dst) != 0)
        return errno == ENOENT ? 1 : -errno; /* 1: gone, try the next one */
    op->value = id_of(name);
    int rc = sync_dir(q, q->mine);
    if (rc == 0)
        rc = sync_dir(q, q->inbox);
    if (rc == 0)
        rc = read_job(dst, op);
    if (rc == 0 && q->v == V_DELETE_BEFORE_PROCESS) {
        /* The job now lives only in this process's memory. */
        if (unlink(dst) != 0 || (rc = sync_dir(q, q->mine)) != 0)
            rc = rc ? rc : -errno;
    }
    return rc;
}

/* scan-read-delete: read first, delete after, a missing file ignored. */
static int take_read_delete(struct fq *q, struct contend_op *op, const char *name)
{
    char src[PATH_MAX + NAME_LEN + 1];
    snprintf(src, sizeof src, "%s/%s", q->inbox, name);
    int rc = read_job(src, op);
    if (rc == -ENOENT)
        return 1;
    if (rc)
        return rc;
    contend_point("file-queue:read-then-delete");
    if (unlink(src) != 0 && errno != ENOENT)
        return -errno;
    op->value = id_of(name);
    return sync_dir(q, q->inbox);
}

static int fq_take(struct fq *q, struct contend_op *op)
{
    int rc = scan(q);
    op->value = -1;
    if (rc) {
        op->err = -rc;
        return CONTEND_FAIL;
    }
    for (size_t i = 0; i < q->nnames; i++) {
        rc = q->v == V_SCAN_READ_DELETE ? take_read_delete(q, op, q->names[i])
                                        : take_rename(q, op, q->names[i]);
        if (rc == 1)
            continue;
        if (rc == 0)
            return CONTEND_OK;
        op->err = -rc;
        /* Before the job was ours nothing happened; after, it is held. */
        return op->value >= 0 ? CONTEND_INFO : CONTEND_FAIL;
    }
    return CONTEND_OK; /* empty */
}

static int fq_ack(struct fq *q, struct contend_op *op)
{
    char name[NAME_LEN], src[PATH_MAX + NAME_LEN + 1], dst[PATH_MAX + NAME_LEN + 1];
    int rc;
    job_name(op->key, name);
    snprintf(dst, sizeof dst, "%s/%s", q->outbox, name);
    contend_point("file-queue:ack");
    if (q->v == V_RENAME_CLAIM || q->v == V_NOFSYNC) {
        snprintf(src, sizeof src, "%s/%s", q->mine, name);
        if (rename(src, dst) != 0) {
            op->err = errno;
            return CONTEND_FAIL;
        }
        if ((rc = sync_dir(q, q->outbox)) != 0 || (rc = sync_dir(q, q->mine)) != 0) {
            op->err = -rc;
            return CONTEND_INFO;
        }
        return CONTEND_OK;
    }
    /* The job is in memory only: the result goes to outbox/. */
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        op->err = errno;
        return CONTEND_FAIL;
    }
    rc = write_all(fd, "{\"done\": true}\n", 15);
    if (rc == 0 && q->sync && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0)
        rc = sync_dir(q, q->outbox);
    if (rc) {
        op->err = -rc;
        return CONTEND_INFO;
    }
    return CONTEND_OK;
}

static int fq_apply(void *handle, struct contend_op *op)
{
    struct fq *q = handle;
    switch (op->kind) {
    case CONTEND_OP_ENQUEUE: return fq_enqueue(q, op);
    case CONTEND_OP_DEQUEUE: return fq_take(q, op);
    case CONTEND_OP_ACK: return fq_ack(q, op);
    default: op->err = ENOTSUP; return CONTEND_FAIL;
    }
}

/* ---- open, setup, recovery, state ------------------------------------------- */

static void paths(const struct contend_env *env, uint32_t worker, struct fq *q)
{
    snprintf(q->inbox, sizeof q->inbox, "%s/inbox", env->store_dir);
    snprintf(q->mine, sizeof q->mine, "%s/queue/w%u", env->store_dir, worker);
    snprintf(q->outbox, sizeof q->outbox, "%s/outbox", env->store_dir);
}

static void fq_close(void *handle)
{
    struct fq *q = handle;
    free(q->names);
    free(q);
}

static int fq_open(const struct contend_env *env, void **handle)
{
    struct fq *q = calloc(1, sizeof *q);
    if (!q)
        return -ENOMEM;
    q->v = (enum variant)env->variant_index;
    q->sync = q->v != V_NOFSYNC;
    q->worker = env->worker;
    paths(env, env->worker, q);
    *handle = q;
    return 0;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static int fq_setup(const struct contend_env *env)
{
    char path[PATH_MAX];
    const char *const dirs[] = {"inbox", "queue", "outbox"};
    int rc = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", env->store_dir, dirs[i]);
        rc = make_dir(path);
    }
    for (uint32_t w = 0; w < env->procs && rc == 0; w++) {
        snprintf(path, sizeof path, "%s/queue/w%u", env->store_dir, w);
        rc = make_dir(path);
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", env->store_dir, dirs[i]);
        rc = fsync_path(path, O_RDONLY | O_DIRECTORY);
    }
    if (rc == 0)
        rc = fsync_path(env->store_dir, O_RDONLY | O_DIRECTORY);
    return rc;
}

/* The job name inside a hidden name ".r<worker>.<name>" (a job on its way
 * back to inbox/, see recover_worker), or NULL. */
static const char *returning(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || id_of(name + n) < 0)
        return NULL;
    return name + n;
}

/* Bring inbox/.r<worker>.<name> to inbox/<name>: a rename inside inbox/,
 * durable with inbox/'s fsync, whoever makes it. */
static int publish(struct fq *q, const char *hidden, const char *name)
{
    char src[PATH_MAX + 300], dst[PATH_MAX + 300];
    snprintf(src, sizeof src, "%s/%s", q->inbox, hidden);
    snprintf(dst, sizeof dst, "%s/%s", q->inbox, name);
    if (rename(src, dst) != 0)
        return -errno;
    return sync_dir(q, q->inbox);
}

/* A worker starting again: remove its predecessor's temp files (enqueues
 * that never reached inbox/) and, for the variants that keep held jobs in
 * queue/w<worker>/, move them back to inbox/, where they are taken again.
 *
 * A job goes back in two steps: rename into inbox/ under a hidden name,
 * fsync both directories, then rename to its job name inside inbox/ and
 * fsync inbox/.  Moved straight to its name, a live worker could take it
 * (and fsync inbox/ and its own directory) before this move was durable
 * (queue/w<worker>/ not yet fsynced): a power cut then keeps the take and
 * loses the move it depends on. */
static int recover_worker(struct fq *q)
{
    char src[PATH_MAX + 300], dst[PATH_MAX + 300], tmp[32], back[32];
    DIR *d;
    struct dirent *e;
    int rc = 0;

    snprintf(tmp, sizeof tmp, ".w%u.", q->worker);
    snprintf(back, sizeof back, ".r%u.", q->worker);
    if ((d = opendir(q->inbox)) == NULL)
        return -errno;
    while ((e = readdir(d)) != NULL && rc == 0) {
        const char *name = returning(e->d_name, back);
        if (name) {
            rc = publish(q, e->d_name, name); /* a recovery cut short */
        } else if (strncmp(e->d_name, tmp, strlen(tmp)) == 0) {
            snprintf(src, sizeof src, "%s/%s", q->inbox, e->d_name);
            unlink(src);
        }
    }
    closedir(d);
    if (rc || q->v == V_SCAN_READ_DELETE || q->v == V_DELETE_BEFORE_PROCESS)
        return rc; /* what those held died with them */
    if ((d = opendir(q->mine)) == NULL)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) != NULL && rc == 0) {
        if (id_of(e->d_name) < 0)
            continue;
        char hidden[NAME_LEN + 32];
        snprintf(hidden, sizeof hidden, "%s%s", back, e->d_name);
        snprintf(src, sizeof src, "%s/%s", q->mine, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", q->inbox, hidden);
        if (rename(src, dst) != 0)
            rc = -errno;
        if (rc == 0)
            rc = sync_dir(q, q->mine);
        if (rc == 0)
            rc = sync_dir(q, q->inbox);
        if (rc == 0)
            rc = publish(q, hidden, e->d_name);
    }
    closedir(d);
    return rc;
}

static int fq_recover(const struct contend_env *env)
{
    struct fq q;
    memset(&q, 0, sizeof q);
    q.v = (enum variant)env->variant_index;
    q.sync = q.v != V_NOFSYNC;
    q.worker = env->worker == UINT32_MAX ? 0 : env->worker;
    paths(env, q.worker, &q);
    return recover_worker(&q);
}

/* Report every job file of `dir` as (id, where). */
static int list_dir(const char *dir, int64_t where, const struct contend_sink *sink)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while ((e = readdir(d)) != NULL) {
        int64_t id = id_of(e->d_name);
        /* inbox/.r<worker>.<name>: on its way back from a dead worker. */
        if (id < 0 && where == CONTEND_QUEUE_READY && strncmp(e->d_name, ".r", 2) == 0) {
            const char *dot = strchr(e->d_name + 2, '.');
            id = dot ? id_of(dot + 1) : -1;
        }
        if (id >= 0)
            sink->value(sink->ctx, (uint64_t)id, where);
    }
    closedir(d);
    return 0;
}

static int fq_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    char path[PATH_MAX];
    int rc;
    snprintf(path, sizeof path, "%s/inbox", env->store_dir);
    if ((rc = list_dir(path, CONTEND_QUEUE_READY, sink)) != 0)
        return rc;
    snprintf(path, sizeof path, "%s/outbox", env->store_dir);
    if ((rc = list_dir(path, CONTEND_QUEUE_DONE, sink)) != 0)
        return rc;
    for (uint32_t w = 0; w < env->procs; w++) {
        snprintf(path, sizeof path, "%s/queue/w%u", env->store_dir, w);
        if ((rc = list_dir(path, (int64_t)w, sink)) != 0)
            return rc;
    }
    return 0;
}

const struct contend_target contend_target_file_queue = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "file-queue",
    .help = "a job queue of files: inbox/, queue/<worker>/, outbox/, polled with readdir",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = fq_variants,
    .workloads = fq_workloads,
    .options = NULL,
    .setup = fq_setup,
    .open = fq_open,
    .apply = fq_apply,
    .close = fq_close,
    .recover = fq_recover,
    .read_state = fq_read_state,
};
CONTEND_TARGET_REGISTER(contend_target_file_queue)
