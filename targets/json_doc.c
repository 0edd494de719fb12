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
 *
 * The bank and claim workloads use sections of their own in the same
 * document, read-modify-written the same way as counters (see doc_rmw):
 *     {"counters": {}, "accounts": {"k0": 100, ...}}   bank: key -> balance
 *     {"counters": {}, "claims": {"k7": <op id>, ...}}  claim: id -> owner
 * read_state() reports the workload's section as (key, value) pairs.
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
    V_FLOCK,
    V_FLOCK_NOFSYNC,
    V_NOLOCK,
    V_STALE_READ,
    V_FLOCK_INPLACE,
    V_FLOCK_NODIRSYNC,
    V_FLOCK_UNCHECKED,
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

static const char *const doc_workloads[] = {"counter", "bank", "claim", NULL};

/* What each variant does, in one place: when it locks, how it saves. */
struct doc_mode {
    enum { LOCK_NEVER, LOCK_AFTER_READ, LOCK_AROUND } locking;
    enum { SAVE_REPLACE, SAVE_IN_PLACE, SAVE_TRUNCATE } save;
    bool fsync;         /* fsync the new document before it replaces the old */
    bool dirsync;       /* fsync the directory after the renames */
    bool ignore_errors; /* report success whatever the save said */
};

static const struct doc_mode doc_modes[V_COUNT] = {
    [V_FLOCK] = {LOCK_AROUND, SAVE_REPLACE, true, true, false},
    [V_FLOCK_NOFSYNC] = {LOCK_AROUND, SAVE_REPLACE, false, false, false},
    [V_NOLOCK] = {LOCK_NEVER, SAVE_IN_PLACE, false, false, false},
    [V_STALE_READ] = {LOCK_AFTER_READ, SAVE_REPLACE, false, false, false},
    [V_FLOCK_INPLACE] = {LOCK_AROUND, SAVE_TRUNCATE, true, false, false},
    [V_FLOCK_NODIRSYNC] = {LOCK_AROUND, SAVE_REPLACE, true, false, false},
    [V_FLOCK_UNCHECKED] = {LOCK_AROUND, SAVE_REPLACE, true, true, true},
};

struct doc {
    int variant;
    const struct doc_mode *mode;
    int lock_fd;
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

/* Replace the document: temp file, fsync, rename over it, fsync the
 * directory (each step as the variant does it).  With `rotate`, the current
 * document becomes .bak first.  Returns CONTEND_OK; CONTEND_FAIL when the
 * document was certainly not replaced; CONTEND_INFO when it may have been. */
static int save_replace(const struct doc *d, const char *text, size_t len, bool rotate,
                        int32_t *err)
{
    int fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = errno;
        return CONTEND_FAIL;
    }
    int rc = write_all(fd, text, len, 0);
    if (rc == 0 && d->mode->fsync && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    /* A missing current document (the first write) is fine. */
    if (rc == 0 && rotate && rename(d->path, d->bak) < 0 && errno != ENOENT)
        rc = -errno;
    if (rc == 0 && rename(d->tmp, d->path) < 0)
        rc = -errno;
    if (rc != 0) {
        unlink(d->tmp);
        *err = -rc;
        return CONTEND_FAIL;
    }
    /* The renames are durable only once the directory is. */
    if (d->mode->dirsync && (rc = fsync_dir(d->dir)) != 0) {
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

/* Write the changed document the variant's way. */
static int save(const struct doc *d, const char *text, size_t len, int32_t *err)
{
    int rc, status;
    switch (d->mode->save) {
    case SAVE_IN_PLACE:
        rc = save_in_place(d, text, len);
        /* In place, a failed write may have changed part of the file. */
        *err = -rc;
        return rc == 0 ? CONTEND_OK : CONTEND_INFO;
    case SAVE_TRUNCATE: return save_truncate(d, text, len, err);
    default:
        status = save_replace(d, text, len, true, err);
        if (d->mode->ignore_errors && status != CONTEND_OK) {
            *err = 0;
            return CONTEND_OK; /* flock-unchecked's bug: the error is dropped */
        }
        return status;
    }
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
    d->mode = &doc_modes[d->variant];
    d->lock_fd = -1;
    doc_paths(d, env->store_dir);
    if (d->mode->locking != LOCK_NEVER) {
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

/* Load for a read-only op: under a shared lock when the variant locks. */
static json_t *load_for_read(const struct doc *d, int *err)
{
    bool bak, locked = d->mode->locking == LOCK_AROUND;
    if (locked && (*err = -lock(d, LOCK_SH)) != 0)
        return NULL;
    json_t *doc = load_doc(d, err, &bak);
    if (locked)
        unlock(d);
    return doc;
}

static int doc_read(struct doc *d, struct contend_op *op)
{
    int err = 0;
    json_t *doc = load_for_read(d, &err);
    if (!doc) {
        op->err = err;
        return CONTEND_FAIL;
    }
    op->value = get_counter(doc, op->key);
    json_decref(doc);
    return CONTEND_OK;
}

/* ---- read-modify-write ---------------------------------------------------
 *
 * Every update (an increment, a transfer, a claim) is the same three steps
 * with the variant's locking around them: load, change, save.  Only the
 * change differs; it returns 0 or an errno, and sets *changed = false when
 * there is nothing to write (a declined transfer, a lost claim). */
typedef int (*doc_change_fn)(json_t *doc, struct contend_op *op, bool *changed);

static int change_incr(json_t *doc, struct contend_op *op, bool *changed)
{
    op->value = get_counter(doc, op->key) + 1;
    set_counter(doc, op->key, op->value);
    *changed = true;
    return 0;
}

static json_t *section_entry(json_t *doc, const char *section, uint64_t key)
{
    char name[32];
    snprintf(name, sizeof name, "k%" PRIu64, key);
    return json_object_get(json_object_get(doc, section), name);
}

static int section_set(json_t *doc, const char *section, uint64_t key, int64_t value)
{
    char name[32];
    json_t *sec = json_object_get(doc, section);
    if (!json_is_object(sec))
        return EBADMSG;
    snprintf(name, sizeof name, "k%" PRIu64, key);
    return json_object_set_new(sec, name, json_integer(value)) == 0 ? 0 : ENOMEM;
}

static int change_transfer(json_t *doc, struct contend_op *op, bool *changed)
{
    json_t *from = section_entry(doc, "accounts", op->key);
    json_t *to = section_entry(doc, "accounts", op->key2);
    if (!json_is_integer(from) || !json_is_integer(to))
        return EBADMSG;
    int64_t f = (int64_t)json_integer_value(from), t = (int64_t)json_integer_value(to);
    op->value = f >= op->arg;
    *changed = f >= op->arg && op->key != op->key2;
    if (!*changed)
        return 0;
    int err = section_set(doc, "accounts", op->key, f - op->arg);
    return err ? err : section_set(doc, "accounts", op->key2, t + op->arg);
}

static int change_claim(json_t *doc, struct contend_op *op, bool *changed)
{
    if (!json_is_object(json_object_get(doc, "claims")) &&
        json_object_set_new(doc, "claims", json_object()) != 0)
        return ENOMEM;
    /* is_seen() ... */
    *changed = section_entry(doc, "claims", op->key) == NULL;
    op->value = *changed;
    /* ... then mark_seen(): atomic only when the lock covers both. */
    return *changed ? section_set(doc, "claims", op->key, (int64_t)op->id) : 0;
}

static int doc_rmw(struct doc *d, struct contend_op *op, doc_change_fn change)
{
    bool bak, locked = false, changed = false;
    int err = 0, status = CONTEND_FAIL;
    int64_t result;
    json_t *doc = NULL;
    char *text = NULL;

    if (d->mode->locking == LOCK_AFTER_READ) {
        /* stale-read's bug: the document is read before the lock is held. */
        doc = load_doc(d, &err, &bak);
        contend_point("stale-read:before-lock");
    }
    if (d->mode->locking != LOCK_NEVER) {
        if ((err = -lock(d, LOCK_EX)) != 0)
            goto out;
        locked = true;
    }
    if (d->mode->locking != LOCK_AFTER_READ)
        doc = load_doc(d, &err, &bak);
    if (!doc || (err = change(doc, op, &changed)) != 0)
        goto out;
    result = op->value;
    if (!changed) {
        status = CONTEND_OK;
        goto out;
    }
    /* Between the read above and the write below is the race. */
    contend_point("json-doc:read-modify-write");
    if (!(text = json_dumps(doc, JSON_COMPACT))) {
        err = ENOMEM;
        goto out;
    }
    int32_t e = 0;
    status = save(d, text, strlen(text), &e);
    err = e;
    op->value = status == CONTEND_OK ? result : 0;
out:
    if (locked)
        unlock(d);
    op->err = status == CONTEND_OK ? 0 : err;
    free(text);
    json_decref(doc);
    return status;
}

/* Every balance from one load of the document. */
static int doc_read_all(struct doc *d, struct contend_op *op)
{
    int err = 0;
    json_t *doc = load_for_read(d, &err);
    json_t *acc = json_object_get(doc, "accounts");
    if (!json_is_object(acc)) {
        op->err = doc ? EBADMSG : err;
        json_decref(doc);
        return CONTEND_FAIL;
    }
    const char *name;
    json_t *v;
    int64_t sum = 0, min = INT64_MAX;
    json_object_foreach (acc, name, v) {
        int64_t b = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
        sum += b;
        min = b < min ? b : min;
    }
    op->value = sum;
    op->value2 = (uint64_t)(min == INT64_MAX ? 0 : min);
    json_decref(doc);
    return CONTEND_OK;
}

static int doc_apply(void *handle, struct contend_op *op)
{
    struct doc *d = handle;
    switch (op->kind) {
    case CONTEND_OP_INCR: return doc_rmw(d, op, change_incr);
    case CONTEND_OP_READ: return doc_read(d, op);
    case CONTEND_OP_TRANSFER: return doc_rmw(d, op, change_transfer);
    case CONTEND_OP_CLAIM: return doc_rmw(d, op, change_claim);
    case CONTEND_OP_READ_ALL: return doc_read_all(d, op);
    default: op->err = ENOTSUP; return CONTEND_FAIL;
    }
}

/* The first document: counters, plus the bank's accounts or the claims. */
static char *initial_doc(const struct contend_env *env)
{
    json_t *doc = json_pack("{s:{}}", "counters");
    if (doc && strcmp(env->workload, "claim") == 0)
        json_object_set_new(doc, "claims", json_object());
    if (doc && strcmp(env->workload, "bank") == 0) {
        json_object_set_new(doc, "accounts", json_object());
        for (uint64_t k = 0; k < env->keys; k++)
            section_set(doc, "accounts", k, CONTEND_BANK_INITIAL);
    }
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* Accounts a document may hold: each is a JSON member rewritten per op. */
#define DOC_MAX_ACCOUNTS (1u << 20)

static int doc_setup(const struct contend_env *env)
{
    struct doc d;
    doc_paths(&d, env->store_dir);
    if (strcmp(env->workload, "bank") == 0 && env->keys > DOC_MAX_ACCOUNTS)
        return -EFBIG;
    char *empty = initial_doc(env);
    if (!empty)
        return -ENOMEM;
    int fd = open(d.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(empty);
        return -errno;
    }
    int rc = write_all(fd, empty, strlen(empty), 0);
    free(empty);
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
    const char *name, *section = "counters";
    json_t *v;
    if (strcmp(env->workload, "bank") == 0)
        section = "accounts";
    else if (strcmp(env->workload, "claim") == 0)
        section = "claims";
    json_object_foreach (json_object_get(doc, section), name, v) {
        char *end;
        unsigned long long k = strtoull(name + 1, &end, 10);
        if (name[0] == 'k' && *end == '\0' && json_is_integer(v))
            sink->value(sink->ctx, k, (int64_t)json_integer_value(v));
    }
    json_decref(doc);
    return 0;
}

/* Put .bak back as the document, written the way the variant writes (a
 * variant without fsyncs recovers without them), leaving .bak as it is. */
static int restore_bak(const struct doc *d)
{
    int err = 0;
    int32_t e = 0;
    json_t *doc = load_file(d->bak, &err);
    if (!doc)
        return 0; /* nothing to restore from */
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return -ENOMEM;
    int status = save_replace(d, text, strlen(text), false, &e);
    free(text);
    return status == CONTEND_OK ? 0 : -(e ? e : EIO);
}

static int doc_recover(const struct contend_env *env)
{
    struct doc *d = NULL;
    int rc = doc_open(env, (void **)&d);
    if (rc)
        return rc;
    /* Writers that never replace the document keep no temp files, no .bak. */
    if (d->mode->save != SAVE_REPLACE) {
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
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_NO_OVERDRAFT,
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
