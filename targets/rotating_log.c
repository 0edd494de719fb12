/*
 * rotating_log.c - a size-rotated log file shared by several processes, the
 * state-machine log of the field report (Python's RotatingFileHandler, 10 MB,
 * 5 backups), for the `log` workload.
 *
 * Files, in the store directory: app.log (current), app.log.1 .. app.log.N
 * (backups, app.log.1 the newest; N = `backups`), app.log.lock (the lock
 * file of the variants that lock; the log files themselves are renamed, so
 * a lock on them would not exclude anything).  A line goes to app.log; when
 * the line would take app.log past `max_bytes` (and app.log is not empty),
 * the log rotates first: app.log.(N-1) -> app.log.N (the old app.log.N is
 * deleted by the rename), ..., app.log -> app.log.1, a new app.log.  Every
 * line goes out in one write() on an O_APPEND descriptor.
 *
 * The promise of the log (what the `log` checker holds it to): every
 * acknowledged line is in app.log or a backup exactly once, whole, and the
 * files are in time order: a line is never in an older file, or earlier in
 * a file, than a line that was acknowledged before it was written.  Only
 * rotation may delete lines, the oldest ones, when app.log.N is replaced;
 * read_state reports N (CONTEND_LOG_BACKUPS) so that the checker knows.
 *
 * Variants:
 *
 *   flock-rotate        correct.  Every append takes an exclusive flock on
 *                       app.log.lock; under it the writer checks that its
 *                       descriptor is still app.log (same inode; else another
 *                       writer rotated: reopen), cuts a torn tail a killed
 *                       writer left, re-checks the size and rotates if the
 *                       line does not fit, then writes and (fsync = each)
 *                       fdatasyncs before it unlocks.  A rotation fsyncs the
 *                       directory before the first line goes into the new
 *                       file, so a power cut cannot undo it under
 *                       acknowledged lines.
 *   per-process-rotate  RotatingFileHandler in each process: no lock; each
 *                       writer checks the size of the file its own
 *                       descriptor is on and, when the line would not fit,
 *                       renames the files and reopens on its own.  Two
 *                       writers that decide together both rename: the
 *                       second shifts the first's fresh app.log into the
 *                       backups, overwrites backups, and writers keep
 *                       appending to files that were renamed or deleted
 *                       under them.  Lines vanish (missing-line), files
 *                       fall out of time order (writer-order).
 *   copytruncate        logrotate's copytruncate: the writer that sees the
 *                       file full takes the rotation lock, re-checks, copies
 *                       app.log to app.log.1 and truncates app.log in place;
 *                       the others keep appending without a lock.  Lines
 *                       written between the copy and the truncate are in
 *                       neither file: missing-line.
 *   o-append-no-rotate-check
 *                       rotates correctly, by the size of app.log, under the
 *                       lock, but writers append without it and never check
 *                       whether their descriptor still is app.log: after
 *                       another writer rotated, their O_APPEND writes go on
 *                       landing in app.log.1 (then .2, ...) until they
 *                       rotate themselves.  No line is lost
 *                       while backups last, but lines written after the
 *                       rotation sit in a backup, older than lines
 *                       acknowledged before them.  That breaks the log's
 *                       promise of time order (a reader of app.log, a log
 *                       shipper that treats rotated files as closed, misses
 *                       them): writer-order.  With few backups the stale
 *                       file is deleted with the lines in it.
 *
 * Durability: with fsync = each, flock-rotate acknowledges a line after its
 * fdatasync and promises that it survives a power cut (durable()); the
 * other variants and fsync = none promise nothing across one.
 *
 * Every thread opens its own descriptors (CONTEND_TARGET_OPEN_PER_THREAD):
 * a flock belongs to an open file description, so only then does it exclude
 * the other threads of the process, and a thread's "own handler" is then
 * what a process's RotatingFileHandler is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appendfile.h"
#include "target.h"

#define LOG_FILE "app.log"
#define LOCK_FILE "app.log.lock"
#define LINE_MAX_BYTES 8192
#define COPY_CHUNK (64u << 10)

enum variant { V_FLOCK_ROTATE, V_PER_PROCESS, V_COPYTRUNCATE, V_NO_ROTATE_CHECK, V_COUNT };

static const struct contend_variant log_variants[] = {
    [V_FLOCK_ROTATE] = {"flock-rotate",
                        "append and rotate under an exclusive flock; re-check size and inode "
                        "after taking it; reopen when the file was rotated",
                        CONTEND_VARIANT_DURABLE, NULL},
    [V_PER_PROCESS] = {"per-process-rotate",
                       "each process checks the size and renames on its own "
                       "(RotatingFileHandler shared by processes)",
                       CONTEND_VARIANT_BROKEN, "missing-line"},
    [V_COPYTRUNCATE] = {"copytruncate",
                        "copy app.log to app.log.1, then truncate it in place, while others "
                        "append",
                        CONTEND_VARIANT_BROKEN, "missing-line"},
    [V_NO_ROTATE_CHECK] = {"o-append-no-rotate-check",
                           "rotate under the lock, but writers keep their descriptor to the "
                           "renamed file: lines land in a backup",
                           CONTEND_VARIANT_BROKEN, "writer-order"},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};
_Static_assert(V_FLOCK_ROTATE == 0, "flock-rotate is the default variant");

static const char *const log_workloads[] = {"log", NULL};

static const struct contend_option log_options[] = {
    {"max_bytes", "4096", NULL, "rotate when a line would take app.log past this size",
     CONTEND_OPT_INT, 1, 1e12},
    {"backups", "5", NULL, "rotated files kept, app.log.1 .. app.log.N (1 or more)",
     CONTEND_OPT_INT, 1, 1000},
    {"fsync", "each", "each|none", "fdatasync after every line (each) or never (none)"},
    {NULL, NULL, NULL, NULL},
};

struct rlog {
    int variant;
    int fd;      /* the file this writer appends to */
    int lock_fd; /* app.log.lock */
    ino_t ino;   /* fd's inode */
    bool sync;
    long long max_bytes;
    unsigned backups;
    char dir[PATH_MAX];
    char path[PATH_MAX + 16];
    char line[LINE_MAX_BYTES + 1];
};

static long long opt_max_bytes(const struct contend_env *env)
{
    long long m = contend_opt_int(env, "max_bytes", 4096);
    return m < 1 ? 1 : m;
}

static unsigned opt_backups(const struct contend_env *env)
{
    long long b = contend_opt_int(env, "backups", 5);
    return (unsigned)(b < 1 ? 1 : b > 100000 ? 100000 : b);
}

static void backup_path(const struct rlog *l, unsigned k, char *out, size_t len)
{
    snprintf(out, len, "%s/" LOG_FILE ".%u", l->dir, k);
}

static int open_current(struct rlog *l)
{
    struct stat st;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = open(l->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (l->fd < 0)
        return -errno;
    if (fstat(l->fd, &st) < 0)
        return -errno;
    l->ino = st.st_ino;
    return 0;
}

/* Under the lock: is our descriptor still app.log?  Reopen if not. */
static int follow_rotation(struct rlog *l)
{
    struct stat st;
    if (stat(l->path, &st) == 0 && st.st_ino == l->ino)
        return 0;
    return open_current(l);
}

/* Shift the backups up by one, deleting the oldest: app.log.(N-1) ->
 * app.log.N, ..., app.log.1 -> app.log.2.  A missing one is skipped, as
 * RotatingFileHandler does. */
static int shift_backups(const struct rlog *l)
{
    char from[PATH_MAX + 32], to[PATH_MAX + 32];
    for (unsigned k = l->backups - 1; k >= 1; k--) {
        backup_path(l, k, from, sizeof from);
        backup_path(l, k + 1, to, sizeof to);
        if (rename(from, to) < 0 && errno != ENOENT)
            return -errno;
    }
    return 0;
}

/* Rename rotation: shift, app.log -> app.log.1, a new app.log. */
static int rotate_rename(struct rlog *l)
{
    char first[PATH_MAX + 32];
    int rc = shift_backups(l);
    backup_path(l, 1, first, sizeof first);
    if (rc == 0 && rename(l->path, first) < 0 && errno != ENOENT)
        rc = -errno;
    if (rc == 0)
        rc = open_current(l);
    /* The renames and the new file must be on disk before a line that is
     * acknowledged goes into it. */
    if (rc == 0 && l->sync)
        rc = contend_fsync_dir(l->dir);
    return rc;
}

static int copy_file(const char *from, const char *to, bool sync)
{
    char buf[COPY_CHUNK];
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = out < 0 ? -errno : 0;
    while (rc == 0) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        rc = contend_write_all(out, buf, (size_t)r);
    }
    if (rc == 0 && sync && fsync(out) < 0)
        rc = -errno;
    if (out >= 0)
        close(out);
    close(in);
    return rc;
}

/* logrotate's copytruncate, by the writer that saw the file full, under the
 * rotation lock (one rotator at a time, as logrotate is one process). */
static int rotate_copytruncate(struct rlog *l, size_t need)
{
    struct stat st;
    char first[PATH_MAX + 32];
    if (flock(l->lock_fd, LOCK_EX) < 0)
        return -errno;
    int rc = 0;
    if (stat(l->path, &st) == 0 && st.st_size > 0 && st.st_size + (off_t)need > l->max_bytes) {
        backup_path(l, 1, first, sizeof first);
        rc = shift_backups(l);
        if (rc == 0)
            rc = copy_file(l->path, first, l->sync);
        /* Other writers append here, between the copy and the truncate. */
        contend_point("copytruncate");
        if (rc == 0 && truncate(l->path, 0) < 0)
            rc = -errno;
        if (rc == 0 && l->sync)
            rc = contend_fsync_dir(l->dir);
    }
    flock(l->lock_fd, LOCK_UN);
    return rc;
}

static off_t fd_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) < 0 ? -errno : st.st_size;
}

/* Does a line of `need` bytes not fit in a file of `size`? */
static bool full(const struct rlog *l, off_t size, size_t need)
{
    return size > 0 && size + (off_t)need > l->max_bytes;
}

/* Write the line; CONTEND_INFO once bytes may have gone out. */
static int write_line(struct rlog *l, struct contend_op *op, size_t n)
{
    int rc = contend_write_all(l->fd, l->line, n);
    if (rc == 0 && l->sync && fdatasync(l->fd) < 0)
        rc = -errno;
    if (rc) {
        op->err = -rc;
        return CONTEND_INFO;
    }
    return CONTEND_OK;
}

static int append_locked(struct rlog *l, struct contend_op *op, size_t n)
{
    if (flock(l->lock_fd, LOCK_EX) < 0) {
        op->err = errno;
        return CONTEND_FAIL;
    }
    int rc = follow_rotation(l);
    off_t size = rc == 0 ? contend_cut_torn_tail(l->fd) : rc;
    if (size >= 0)
        size = fd_size(l->fd);
    rc = size < 0 ? (int)size : 0;
    if (rc == 0 && full(l, size, n))
        rc = rotate_rename(l);
    int status = CONTEND_FAIL;
    if (rc == 0) {
        contend_point("locked-append");
        status = write_line(l, op, n);
    } else {
        op->err = -rc;
    }
    flock(l->lock_fd, LOCK_UN);
    return status;
}

/* RotatingFileHandler.emit() in one process: shouldRollover() looks at its
 * own stream, doRollover() renames without asking anyone. */
static int append_per_process(struct rlog *l, struct contend_op *op, size_t n)
{
    off_t size = fd_size(l->fd);
    int rc = size < 0 ? (int)size : 0;
    if (rc == 0 && full(l, size, n)) {
        contend_point("should-rollover");
        rc = rotate_rename(l);
    }
    if (rc) {
        op->err = -rc;
        return CONTEND_FAIL;
    }
    contend_point("emit");
    return write_line(l, op, n);
}

static int append_copytruncate(struct rlog *l, struct contend_op *op, size_t n)
{
    off_t size = fd_size(l->fd);
    int rc = size < 0 ? (int)size : 0;
    if (rc == 0 && full(l, size, n))
        rc = rotate_copytruncate(l, n);
    if (rc) {
        op->err = -rc;
        return CONTEND_FAIL;
    }
    contend_point("emit");
    return write_line(l, op, n);
}

static off_t path_size(const struct rlog *l)
{
    struct stat st;
    return stat(l->path, &st) < 0 ? -errno : st.st_size;
}

/* The file is rotated correctly, by the size of app.log, under the lock;
 * but a writer reopens only after a rotation of its own, never when
 * another writer rotated: its descriptor stays on the renamed file. */
static int append_no_rotate_check(struct rlog *l, struct contend_op *op, size_t n)
{
    off_t size = path_size(l);
    int rc = size < 0 && size != -ENOENT ? (int)size : 0;
    if (rc == 0 && full(l, size, n)) {
        if (flock(l->lock_fd, LOCK_EX) < 0) {
            op->err = errno;
            return CONTEND_FAIL;
        }
        size = path_size(l);
        rc = size < 0 && size != -ENOENT ? (int)size : 0;
        if (rc == 0 && full(l, size, n))
            rc = rotate_rename(l);
        flock(l->lock_fd, LOCK_UN);
    }
    if (rc) {
        op->err = -rc;
        return CONTEND_FAIL;
    }
    contend_point("emit");
    return write_line(l, op, n);
}

static int rlog_apply(void *handle, struct contend_op *op)
{
    struct rlog *l = handle;
    if (op->kind != CONTEND_OP_LOG_APPEND || op->buf_len > LINE_MAX_BYTES) {
        op->err = op->kind != CONTEND_OP_LOG_APPEND ? ENOTSUP : EMSGSIZE;
        return CONTEND_FAIL;
    }
    memcpy(l->line, op->buf, op->buf_len);
    l->line[op->buf_len] = '\n';
    size_t n = op->buf_len + 1u;
    switch (l->variant) {
    case V_PER_PROCESS: return append_per_process(l, op, n);
    case V_COPYTRUNCATE: return append_copytruncate(l, op, n);
    case V_NO_ROTATE_CHECK: return append_no_rotate_check(l, op, n);
    default: return append_locked(l, op, n);
    }
}

static void rlog_close(void *handle)
{
    struct rlog *l = handle;
    if (l->fd >= 0)
        close(l->fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    free(l);
}

static int rlog_open(const struct contend_env *env, void **handle)
{
    struct rlog *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->variant = env->variant_index;
    l->fd = l->lock_fd = -1;
    l->sync = strcmp(contend_opt(env, "fsync", "each"), "each") == 0;
    l->max_bytes = opt_max_bytes(env);
    l->backups = opt_backups(env);
    snprintf(l->dir, sizeof l->dir, "%s", env->store_dir);
    snprintf(l->path, sizeof l->path, "%s/" LOG_FILE, env->store_dir);
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/" LOCK_FILE, env->store_dir);
    int rc = 0;
    l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = open_current(l);
    if (rc) {
        rlog_close(l);
        return rc;
    }
    *handle = l;
    return 0;
}

static int rlog_setup(const struct contend_env *env)
{
    char path[PATH_MAX + 16];
    const char *names[] = {LOG_FILE, LOCK_FILE};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", env->store_dir, names[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
        int rc = fsync(fd) < 0 ? -errno : 0;
        close(fd);
        if (rc)
            return rc;
    }
    return contend_fsync_dir(env->store_dir);
}

/* At start-up after a crash: the locked variants cut a torn tail a killed
 * writer left in app.log (their writers also do it under the lock before
 * each append).  RotatingFileHandler has no recovery, and an unlocked
 * variant cannot tell a dead writer's fragment from a live one's. */
static int rlog_recover(const struct contend_env *env)
{
    if (env->variant_index != V_FLOCK_ROTATE && env->variant_index != V_NO_ROTATE_CHECK)
        return 0;
    void *h;
    int rc = rlog_open(env, &h);
    if (rc)
        return rc;
    struct rlog *l = h;
    if (flock(l->lock_fd, LOCK_EX) < 0) {
        rc = -errno;
    } else {
        off_t cut = contend_cut_torn_tail(l->fd);
        rc = cut < 0 ? (int)cut : 0;
        if (rc == 0 && cut > 0 && fsync(l->fd) < 0)
            rc = -errno;
        flock(l->lock_fd, LOCK_UN);
    }
    rlog_close(l);
    return rc;
}

static int rlog_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    sink->value(sink->ctx, CONTEND_LOG_BACKUPS, (int64_t)opt_backups(env));
    return 0;
}

static int rlog_durable(const struct contend_env *env)
{
    return env->variant_index == V_FLOCK_ROTATE &&
           strcmp(contend_opt(env, "fsync", "each"), "each") == 0;
}

const struct contend_target contend_target_rotating_log = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "rotating-log",
    .help = "a size-rotated log file shared by processes (RotatingFileHandler, logrotate)",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = log_variants,
    .workloads = log_workloads,
    .options = log_options,
    .setup = rlog_setup,
    .open = rlog_open,
    .apply = rlog_apply,
    .close = rlog_close,
    .recover = rlog_recover,
    .read_state = rlog_read_state,
    .durable = rlog_durable,
};
CONTEND_TARGET_REGISTER(contend_target_rotating_log)
