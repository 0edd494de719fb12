/*
 * json_doc.c - a JSON document of counters, updated read-modify-write.
 *
 * This is the pattern of the field reports' atomic_io helpers and cost
 * trackers: a small JSON file, {"counters": {"k0": 41, ...}}, that several
 * processes load, change and save.  The variants are the ways teams wrote it:
 *
 *   nolock         load, change, write the file in place.  Two writers that
 *                  load the same value both write value + 1: a lost update.
 *   stale-read     load first, then take the lock and write.  The lock covers
 *                  the write but not the read it depends on (check-then-act),
 *                  so updates are lost exactly as without a lock.
 *   flock          the fix: exclusive flock on a lock file, load *under* the
 *                  lock, write a temporary file, fsync it, move the current
 *                  document to .bak, rename the temporary file over the
 *                  document, fsync the directory.  A reader sees the old or
 *                  the new document, never half of one; a crash leaves either
 *                  document or .bak intact, and load() falls back to .bak.
 *   flock-nofsync  flock without the fsyncs: correct while the machine stays
 *                  up, and a power cut may lose acknowledged updates.
 *
 * Variants that only faults expose (scenarios/crash.ini, powercut.ini):
 *
 *   flock-inplace    flock, but the document is rewritten where it is:
 *                    open with O_TRUNC, write, fsync.  A kill between the
 *                    truncation and the end of the write leaves an empty or
 *                    partial document, and this writer never keeps a .bak,
 *                    so neither load() nor recover() has anything to fall
 *                    back to: corrupt-store.
 *   flock-nodirsync  flock with temp + fsync + rename, but the directory is
 *                    never fsynced: the renames live only in the page cache,
 *                    and a power cut takes the document back to an old
 *                    version although every update was acknowledged as
 *                    durable: lost-durable.
 *   flock-unchecked  flock, but the writer does not check its writes: an
 *                    I/O error becomes an acknowledged op (io faults).
 *
 * recover() is what the program does when it starts after a crash: under the
 * lock, remove the temporary files dead writers left, and put doc.json.bak
 * back when doc.json is missing or not a document.
 *
 * Files in the store directory: doc.json, doc.json.bak, doc.lock, and
 * doc.json.tmp.<pid>.<tid> while a writer is between write and rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"

enum variant {
    V_FLOCK, V_FLOCK_NOFSYNC, V_NOLOCK, V_STALE_READ,
    V_FLOCK_INPLACE, V_FLOCK_NODIRSYNC, V_FLOCK_UNCHECKED,
    V_COUNT
};

static const struct contend_variant doc_variants[] = {
    [V_FLOCK] = {"flock", "flock, load under the lock, temp file + fsync + rename, .bak",
                 CONTEND_VARIANT_MONOTONIC | CONTEND_VARIANT_DURABLE, NULL},
    [V_FLOCK_NOFSYNC] = {"flock-nofsync", "flock without fsync: loses updates at a power cut",
                         CONTEND_VARIANT_MONOTONIC, NULL},
    [V_NOLOCK] = {"nolock", "load, modify, write in place without a lock", CONTEND_VARIANT_BROKEN,
                  "lost-update"},
    [V_STALE_READ] = {"stale-read", "load before taking the lock, write under it",
                      CONTEND_VARIANT_BROKEN, "lost-update"},
    [V_FLOCK_INPLACE] = {"flock-inplace",
                         "flock, rewrite the document in place (truncate, write, fsync), no .bak",
                         CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_MONOTONIC |
                             CONTEND_VARIANT_DURABLE,
                         "corrupt-store"},
    [V_FLOCK_NODIRSYNC] = {"flock-nodirsync",
                           "flock, temp + fsync + rename, but no fsync of the directory",
                           CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_MONOTONIC |
                               CONTEND_VARIANT_DURABLE,
                           "lost-durable"},
    [V_FLOCK_UNCHECKED] = {"flock-unchecked", "flock, but write errors are ignored",
                           CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_MONOTONIC |
                               CONTEND_VARIANT_DURABLE,
                           "lost-update"},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};
/* A case without `variant` gets the first entry: it must be the correct one. */
_Static_assert(V_FLOCK == 0, "flock is the default variant");

static const char *const doc_workloads[] = {"counter", NULL};

struct doc {
    int variant;
    int lock_fd;
    bool fsync;
    bool dirsync;
    char path[PATH_MAX], bak[PATH_MAX], tmp[PATH_MAX], lock[PATH_MAX], dir[PATH_MAX];
};

static void doc_paths(struct doc *d, const char *store_dir)
{
    snprintf(d->dir, sizeof d->dir, "%s", store_dir);
    snprintf(d->path, sizeof d->path, "%s/doc.json", store_dir);
    snprintf(d->bak, sizeof d->bak, "%s/doc.json.bak", store_dir);
    snprintf(d->lock, sizeof d->lock, "%s/doc.lock", store_dir);
    snprintf(d->tmp, sizeof d->tmp, "%s/doc.json.tmp.%d.%d", store_dir, (int)getpid(),
             (int)gettid());
}

/* Parse one file as a document; NULL when missing or not a valid document. */
static json_t *load_file(const char *path, int *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        *err = (access(path, F_OK) == 0) ? EBADMSG : ENOENT;
        return NULL;
    }
    if (!json_is_object(json_object_get(doc, "counters"))) {
        json_decref(doc);
        *err = EBADMSG;
        return NULL;
    }
    return doc;
}

/* Load the document, falling back to .bak when it is missing or corrupt.
 * Returns NULL with *err set when neither can be read. */
static json_t *load_doc(const struct doc *d, int *err, bool *used_bak)
{
    int e1 = 0, e2 = 0;
    *used_bak = false;
    json_t *doc = load_file(d->path, &e1);
    if (doc)
        return doc;
    doc = load_file(d->bak, &e2);
    if (doc) {
        *used_bak = true;
        return doc;
    }
    if (e1 == ENOENT && e2 == ENOENT)
        return json_pack("{s:{}}", "counters"); /* nothing written yet */
    *err = EBADMSG;
    return NULL;
}

static int64_t get_counter(json_t *doc, uint64_t key)
{
    char name[32];
    snprintf(name, sizeof name, "k%" PRIu64, key);
    json_t *v = json_object_get(json_object_get(doc, "counters"), name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void set_counter(json_t *doc, uint64_t key, int64_t value)
{
    char name[32];
    snprintf(name, sizeof name, "k%" PRIu64, key);
    json_object_set_new(json_object_get(doc, "counters"), name, json_integer(value));
}

static int write_all(int fd, const char *p, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* The broken writer: overwrite the document where it is. */
static int save_in_place(const struct doc *d, const char *text, size_t len)
{
    int fd = open(d->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, text, len, 0);
    if (rc == 0 && ftruncate(fd, (off_t)len) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* The correct writer.  Returns CONTEND_OK, or CONTEND_FAIL when the document
 * was certainly not replaced, or CONTEND_INFO when it may have been. */
static int save_atomic(const struct doc *d, const char *text, size_t len, int32_t *err)
{
    int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = errno;
        return CONTEND_FAIL;
    }
    int rc = write_all(fd, text, len, 0);
    if (rc == 0 && d->fsync && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    /* The current document becomes .bak; a missing one (first write) is fine. */
    if (rc == 0 && rename(d->path, d->bak) < 0 && errno != ENOENT)
        rc = -errno;
    if (rc == 0 && rename(d->tmp, d->path) < 0)
        rc = -errno;
    if (rc != 0) {
        unlink(d->tmp);
        *err = -rc;
        return CONTEND_FAIL;
    }
    /* The renames are durable only once the directory is. */
    if (d->dirsync && (rc = fsync_dir(d->dir)) != 0) {
        *err = -rc;
        return CONTEND_INFO;
    }
    return CONTEND_OK;
}

/* flock-inplace's writer: the document itself is truncated, then written.
 * Between the two, and until the write ends, there is no valid document. */
static int save_truncate(const struct doc *d, const char *text, size_t len, int32_t *err)
{
    int fd = open(d->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = errno;
        return CONTEND_FAIL;
    }
    int rc = write_all(fd, text, len, 0);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    *err = -rc;
    return rc == 0 ? CONTEND_OK : CONTEND_INFO; /* truncated: the document has changed */
}

static int lock(const struct doc *d, int how)
{
    while (flock(d->lock_fd, how) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static void unlock(const struct doc *d)
{
    flock(d->lock_fd, LOCK_UN);
}

static int doc_open(const struct contend_env *env, void **handle)
{
    struct doc *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->variant = env->variant_index;
    d->fsync = (d->variant == V_FLOCK || d->variant == V_FLOCK_INPLACE ||
                d->variant == V_FLOCK_NODIRSYNC || d->variant == V_FLOCK_UNCHECKED);
    d->dirsync = (d->variant == V_FLOCK || d->variant == V_FLOCK_UNCHECKED);
    d->lock_fd = -1;
    doc_paths(d, env->store_dir);
    if (d->variant != V_NOLOCK) {
        d->lock_fd = open(d->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (d->lock_fd < 0) {
            int e = -errno;
            free(d);
            return e;
        }
    }
    *handle = d;
    return 0;
}

static void doc_close(void *handle)
{
    struct doc *d = handle;
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    free(d);
}

static int doc_read(struct doc *d, struct contend_op *op)
{
    bool bak;
    int err = 0;
    bool locked = (d->variant == V_FLOCK || d->variant == V_FLOCK_NOFSYNC ||
                   d->variant == V_FLOCK_INPLACE || d->variant == V_FLOCK_NODIRSYNC ||
                   d->variant == V_FLOCK_UNCHECKED);
    if (locked && (err = -lock(d, LOCK_SH)) != 0) {
        op->err = err;
        return CONTEND_FAIL;
    }
    json_t *doc = load_doc(d, &err, &bak);
    if (locked)
        unlock(d);
    if (!doc) {
        op->err = err;
        return CONTEND_FAIL;
    }
    op->value = get_counter(doc, op->key);
    json_decref(doc);
    return CONTEND_OK;
}

static int doc_incr(struct doc *d, struct contend_op *op)
{
    bool bak, locked = false;
    int err = 0, status = CONTEND_FAIL;
    json_t *doc = NULL;
    char *text = NULL;

    if (d->variant == V_STALE_READ) {
        /* The bug: the value is read before the lock is held. */
        doc = load_doc(d, &err, &bak);
        contend_point("stale-read:before-lock");
        if ((err = -lock(d, LOCK_EX)) != 0)
            goto out;
        locked = true;
    } else if (d->variant != V_NOLOCK) {
        if ((err = -lock(d, LOCK_EX)) != 0)
            goto out;
        locked = true;
        doc = load_doc(d, &err, &bak);
    } else {
        doc = load_doc(d, &err, &bak);
    }
    if (!doc)
        goto out;
    int64_t v = get_counter(doc, op->key) + 1;
    /* Between the read above and the write below is the race. */
    contend_point("json-doc:read-modify-write");
    set_counter(doc, op->key, v);
    text = json_dumps(doc, JSON_COMPACT);
    if (!text) {
        err = ENOMEM;
        goto out;
    }
    if (d->variant == V_NOLOCK) {
        int rc = save_in_place(d, text, strlen(text));
        /* In place, a failed write may have changed part of the file. */
        status = rc == 0 ? CONTEND_OK : CONTEND_INFO;
        err = -rc;
    } else if (d->variant == V_FLOCK_INPLACE) {
        int32_t e = 0;
        status = save_truncate(d, text, strlen(text), &e);
        err = e;
    } else {
        int32_t e = 0;
        status = save_atomic(d, text, strlen(text), &e);
        err = e;
        if (d->variant == V_FLOCK_UNCHECKED && status != CONTEND_OK) {
            status = CONTEND_OK; /* the bug: the error is dropped */
            err = 0;
        }
    }
    if (status == CONTEND_OK)
        op->value = v;
out:
    if (locked)
        unlock(d);
    op->err = err;
    free(text);
    json_decref(doc);
    return status;
}

static int doc_apply(void *handle, struct contend_op *op)
{
    struct doc *d = handle;
    switch (op->kind) {
    case CONTEND_OP_INCR:
        return doc_incr(d, op);
    case CONTEND_OP_READ:
        return doc_read(d, op);
    default:
        op->err = ENOTSUP;
        return CONTEND_FAIL;
    }
}

static int doc_setup(const struct contend_env *env)
{
    struct doc d;
    doc_paths(&d, env->store_dir);
    static const char empty[] = "{\"counters\":{}}";
    int fd = open(d.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, empty, sizeof empty - 1, 0);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int doc_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    struct doc d;
    bool bak;
    int err = 0;
    doc_paths(&d, env->store_dir);
    json_t *doc = load_doc(&d, &err, &bak);
    if (!doc) {
        sink->violation(sink->ctx, "corrupt-store", 1,
                        "doc.json and doc.json.bak are both unreadable or not documents");
        return 0;
    }
    if (bak)
        sink->stat(sink->ctx, "bak_fallback", 1);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(doc, "counters"), name, v) {
        char *end;
        unsigned long long k = strtoull(name + 1, &end, 10);
        if (name[0] == 'k' && *end == '\0' && json_is_integer(v))
            sink->value(sink->ctx, k, (int64_t)json_integer_value(v));
    }
    json_decref(doc);
    return 0;
}

/* Put .bak back as the document: temp + fsync + rename + directory fsync,
 * as the variant writes (a variant without fsyncs recovers without them). */
static int restore_bak(const struct doc *d)
{
    char *text = NULL;
    int err = 0;
    json_t *doc = load_file(d->bak, &err);
    if (!doc)
        return 0; /* nothing to restore from */
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return -ENOMEM;
    int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : write_all(fd, text, strlen(text), 0);
    if (rc == 0 && d->fsync && fsync(fd) < 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(d->tmp, d->path) < 0)
        rc = -errno;
    if (rc)
        unlink(d->tmp);
    else if (d->dirsync)
        rc = fsync_dir(d->dir);
    free(text);
    return rc;
}

static int doc_recover(const struct contend_env *env)
{
    struct doc *d = NULL;
    int rc = doc_open(env, (void **)&d);
    if (rc)
        return rc;
    /* Writers without a lock keep no temporary files and no .bak. */
    if (d->variant == V_NOLOCK || d->variant == V_FLOCK_INPLACE) {
        doc_close(d);
        return 0;
    }
    /* Under the lock no live writer is between its temp file and its rename,
     * so every temp file there is is a dead writer's. */
    if ((rc = lock(d, LOCK_EX)) != 0) {
        doc_close(d);
        return rc;
    }
    DIR *dir = opendir(d->dir);
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL)
        if (strncmp(de->d_name, "doc.json.tmp.", 13) == 0)
            unlinkat(dirfd(dir), de->d_name, 0);
    if (dir)
        closedir(dir);
    int err = 0;
    json_t *doc = load_file(d->path, &err);
    if (doc)
        json_decref(doc);
    else
        rc = restore_bak(d);
    unlock(d);
    doc_close(d);
    return rc;
}

const struct contend_target contend_target_json_doc = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "json-doc",
    .help = "a JSON document of counters, read-modify-write (the atomic_io pattern)",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = doc_variants,
    .workloads = doc_workloads,
    .setup = doc_setup,
    .open = doc_open,
    .apply = doc_apply,
    .close = doc_close,
    .recover = doc_recover,
    .read_state = doc_read_state,
};
CONTEND_TARGET_REGISTER(contend_target_json_doc)
