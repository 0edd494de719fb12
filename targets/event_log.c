/*
 * event_log.c - delta events plus periodic snapshots, the ledger of the
 * field report's second design, for the `counter` and `bank` workloads.
 *
 * Files, in the store directory:
 *
 *   events.log      one delta event per line, "SEQ i KEY" (counter: key += 1)
 *                   or "SEQ t FROM TO AMOUNT" (bank: a transfer that moved);
 *                   SEQ counts events from 1 over the whole life of the store
 *   snapshot        "event-log snapshot\nseq S\nkeys K\n" K values, "end\n":
 *                   the state after events 1..S
 *   snapshot.tmp    the next snapshot while it is written
 *   events.lock     the lock file (snapshot is renamed, events.log truncated)
 *
 * The state is always "snapshot + replay of the events after it": that is
 * recovery after a crash, what read_state reports, and what each op starts
 * from.  Several processes share the store, so an op cannot trust a copy
 * in its memory: under an exclusive flock it loads the snapshot, replays
 * events.log (at most `snapshot_every` lines, so an op costs O(snapshot_every)),
 * decides (a transfer that would overdraw is declined and logs nothing),
 * appends its event in one write() and fdatasyncs it before it is
 * acknowledged.  When events.log holds `snapshot_every` events, the next op
 * first takes a snapshot and compacts: write snapshot.tmp, fsync it, rename it to
 * snapshot, fsync the directory, and only then truncate events.log (and
 * fsync it).  A crash anywhere in between is harmless: events whose SEQ is
 * at most the snapshot's S are skipped at replay, whether or not the
 * truncate happened.
 *
 * Variants (all promise that an acknowledged op survives kills and power
 * cuts: its event is fsynced before the ack):
 *
 *   snapshot              correct, as above.
 *   snapshot-without-offset
 *                         the snapshot does not record S, so replay applies
 *                         every event in events.log on top of it.  Harmless
 *                         while the truncate follows the rename; a crash
 *                         between them replays events the snapshot already
 *                         holds: phantom-update (counter), wrong-balance (bank).
 *   snapshot-nofsync      snapshot.tmp is renamed without an fsync: a power
 *                         cut leaves a snapshot without its bytes, while the
 *                         (fsynced) truncate already dropped the events it
 *                         covered.  Recovery falls back to the initial state
 *                         (an unreadable snapshot is no snapshot): the
 *                         acknowledged updates are lost (lost-durable).
 *   truncate-first        compacts in the wrong order: truncates events.log,
 *                         then writes the snapshot.  A kill between the two
 *                         loses every event since the last snapshot:
 *                         lost-update (counter), wrong-balance (bank).
 *
 * Compaction is done by the op that finds events.log full, before its own
 * event, so every event it covers is already acknowledged.  There are two
 * perturbation points: inside compaction, between its two halves, and
 * before the op's own event ("op").  A compacting op reaches the first one
 * first, every op reaches the second, so `fault_at = point` puts every kill
 * either exactly in the compaction window or before the op wrote anything:
 * no kill leaves an indeterminate op that took effect, which would widen
 * the counter's bounds and hide the loss (every op runs under the lock;
 * there is no other window to widen).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define EVENTS_FILE "events.log"
#define SNAP_FILE "snapshot"
#define SNAP_TMP "snapshot.tmp"
#define LOCK_FILE "events.lock"
#define SNAP_MAGIC "event-log snapshot\n"
#define MAX_KEYS (1u << 20)

enum variant { V_SNAPSHOT, V_NO_OFFSET, V_NOFSYNC, V_TRUNCATE_FIRST, V_COUNT };

static const struct contend_variant ev_variants[] = {
    [V_SNAPSHOT] = {"snapshot",
                    "events fsynced per op; snapshot with its event offset (temp + fsync + "
                    "rename), then truncate",
                    CONTEND_VARIANT_DURABLE | CONTEND_VARIANT_MONOTONIC, NULL},
    [V_NO_OFFSET] = {"snapshot-without-offset",
                     "the snapshot records no event offset: after a crash between rename and "
                     "truncate, replay applies events twice",
                     CONTEND_VARIANT_DURABLE | CONTEND_VARIANT_BROKEN, "phantom-update"},
    [V_NOFSYNC] = {"snapshot-nofsync",
                   "the snapshot is renamed without an fsync: lost at a "
                   "power cut",
                   CONTEND_VARIANT_DURABLE | CONTEND_VARIANT_BROKEN, "lost-durable"},
    [V_TRUNCATE_FIRST] = {"truncate-first",
                          "truncates the events before the snapshot is durable: a kill "
                          "between loses them",
                          CONTEND_VARIANT_DURABLE | CONTEND_VARIANT_BROKEN, "lost-update"},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};
_Static_assert(V_SNAPSHOT == 0, "snapshot is the default variant");

static const char *const ev_workloads[] = {"counter", "bank", NULL};

static const struct contend_option ev_options[] = {
    {"snapshot_every", "16", NULL,
     "take a snapshot and truncate when events.log holds this "
     "many events",
     CONTEND_OPT_INT, 1, 1e9},
    {NULL, NULL, NULL, NULL},
};

struct evlog {
    int variant;
    bool bank;
    uint64_t keys;
    unsigned every;
    int ev_fd, lock_fd;
    int64_t *state;
    uint64_t snap_seq, last_seq, lines;
    char dir[PATH_MAX];
    char events[PATH_MAX + 16], snap[PATH_MAX + 16], tmp[PATH_MAX + 16];
    char *buf; /* events.log while it is replayed */
    size_t buf_cap;
};

static int64_t initial(const struct evlog *l)
{
    return l->bank ? CONTEND_BANK_INITIAL : 0;
}

/* The snapshot into l->state and l->snap_seq; the initial state when there
 * is none, or it is unreadable (no "end": written but never made durable). */
static void load_snapshot(struct evlog *l)
{
    for (uint64_t k = 0; k < l->keys; k++)
        l->state[k] = initial(l);
    l->snap_seq = 0;
    FILE *f = fopen(l->snap, "re");
    if (!f)
        return;
    char line[64];
    unsigned long long seq = 0, keys = 0;
    bool ok = fgets(line, sizeof line, f) && strcmp(line, SNAP_MAGIC) == 0 &&
              fgets(line, sizeof line, f) &&
              (sscanf(line, "seq %llu", &seq) == 1 || strcmp(line, "seq -\n") == 0) &&
              fscanf(f, "keys %llu\n", &keys) == 1 && keys == l->keys;
    int64_t *vals = ok ? calloc(l->keys ? l->keys : 1, sizeof *vals) : NULL;
    for (uint64_t k = 0; ok && k < keys; k++)
        ok = vals && fscanf(f, "%" SCNd64 "\n", &vals[k]) == 1;
    ok = ok && fgets(line, sizeof line, f) && strcmp(line, "end\n") == 0;
    fclose(f);
    if (ok) {
        memcpy(l->state, vals, l->keys * sizeof *vals);
        l->snap_seq = seq;
    }
    free(vals);
}

static void apply_event(struct evlog *l, const char *p)
{
    unsigned long long seq, a, b;
    long long amount;
    char kind;
    int n = sscanf(p, "%llu %c %llu %llu %lld", &seq, &kind, &a, &b, &amount);
    if (n < 3)
        return;
    if (seq > l->last_seq)
        l->last_seq = seq;
    /* The correct replay skips what the snapshot holds; without an offset
     * there is nothing to skip by. */
    if (l->variant != V_NO_OFFSET && seq <= l->snap_seq)
        return;
    if (kind == 'i' && a < l->keys) {
        l->state[a]++;
    } else if (kind == 't' && n == 5 && a < l->keys && b < l->keys) {
        l->state[a] -= amount;
        l->state[b] += amount;
    }
}

/* Snapshot + replay of events.log: the state, the last seq, the lines. */
static int load(struct evlog *l)
{
    struct stat st;
    load_snapshot(l);
    l->last_seq = l->snap_seq;
    l->lines = 0;
    if (fstat(l->ev_fd, &st) < 0)
        return -errno;
    size_t size = (size_t)st.st_size;
    if (size + 1 > l->buf_cap) {
        char *nb = realloc(l->buf, size + 1);
        if (!nb)
            return -ENOMEM;
        l->buf = nb;
        l->buf_cap = size + 1;
    }
    ssize_t got = pread(l->ev_fd, l->buf, size, 0);
    if (got < 0)
        return -errno;
    l->buf[got] = '\0';
    /* Whole lines only: a torn tail is an append that never finished. */
    for (char *p = l->buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        apply_event(l, p);
        l->lines++;
    }
    return 0;
}

/* Plain write() calls, not stdio: the fault shim sees (and a power cut
 * undoes) only what goes through write(). */
static int write_snapshot(struct evlog *l)
{
    size_t cap = 64 + 24 * (size_t)l->keys, n = 0;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    n += (size_t)snprintf(text + n, cap - n, SNAP_MAGIC);
    if (l->variant == V_NO_OFFSET)
        n += (size_t)snprintf(text + n, cap - n, "seq -\n");
    else
        n += (size_t)snprintf(text + n, cap - n, "seq %llu\n", (unsigned long long)l->last_seq);
    n += (size_t)snprintf(text + n, cap - n, "keys %llu\n", (unsigned long long)l->keys);
    for (uint64_t k = 0; k < l->keys; k++)
        n += (size_t)snprintf(text + n, cap - n, "%" PRId64 "\n", l->state[k]);
    n += (size_t)snprintf(text + n, cap - n, "end\n");
    int fd = open(l->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : contend_write_all(fd, text, n);
    if (rc == 0 && l->variant != V_NOFSYNC && fsync(fd) < 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    free(text);
    if (rc == 0 && rename(l->tmp, l->snap) < 0)
        rc = -errno;
    if (rc == 0)
        rc = contend_fsync_dir(l->dir);
    return rc;
}

static int truncate_events(struct evlog *l)
{
    if (ftruncate(l->ev_fd, 0) < 0 || fsync(l->ev_fd) < 0)
        return -errno;
    return 0;
}

/* Snapshot the state after event last_seq, then drop the events. */
static int compact(struct evlog *l)
{
    int rc;
    if (l->variant == V_TRUNCATE_FIRST) {
        rc = truncate_events(l);
        contend_point("compact");
        if (rc == 0)
            rc = write_snapshot(l);
    } else {
        rc = write_snapshot(l);
        contend_point("compact");
        if (rc == 0)
            rc = truncate_events(l);
    }
    return rc;
}

/* Append the op's event and make it durable.  CONTEND_INFO once the
 * event may be in the file. */
static int log_event(struct evlog *l, struct contend_op *op, const char *fmt_tail)
{
    char line[128];
    int n =
        snprintf(line, sizeof line, "%llu %s\n", (unsigned long long)(l->last_seq + 1), fmt_tail);
    int rc = contend_write_all(l->ev_fd, line, (size_t)n);
    if (rc == 0 && fdatasync(l->ev_fd) < 0)
        rc = -errno;
    if (rc) {
        op->err = -rc;
        return CONTEND_INFO;
    }
    line[n - 1] = '\0';
    apply_event(l, line); /* the state the snapshot below must hold; last_seq + 1 */
    l->lines++;
    return CONTEND_OK;
}

static int do_op(struct evlog *l, struct contend_op *op)
{
    char ev[96];
    uint64_t a = op->key, b = op->key2;
    switch (op->kind) {
    case CONTEND_OP_INCR:
        if (a >= l->keys)
            break;
        snprintf(ev, sizeof ev, "i %llu", (unsigned long long)a);
        op->value = l->state[a] + 1;
        return log_event(l, op, ev);
    case CONTEND_OP_READ:
        if (a >= l->keys)
            break;
        op->value = l->state[a];
        return CONTEND_OK;
    case CONTEND_OP_TRANSFER:
        if (a >= l->keys || b >= l->keys)
            break;
        if (l->state[a] < op->arg || a == b) {
            op->value = 0; /* declined: nothing to log */
            return CONTEND_OK;
        }
        op->value = 1;
        snprintf(ev, sizeof ev, "t %llu %llu %lld", (unsigned long long)a, (unsigned long long)b,
                 (long long)op->arg);
        return log_event(l, op, ev);
    case CONTEND_OP_READ_ALL: {
        int64_t sum = 0, min = INT64_MAX;
        for (uint64_t k = 0; k < l->keys; k++) {
            sum += l->state[k];
            if (l->state[k] < min)
                min = l->state[k];
        }
        op->value = sum;
        op->value2 = (uint64_t)min;
        return CONTEND_OK;
    }
    default: op->err = ENOTSUP; return CONTEND_FAIL;
    }
    op->err = EINVAL;
    return CONTEND_FAIL;
}

static int ev_apply(void *handle, struct contend_op *op)
{
    struct evlog *l = handle;
    if (flock(l->lock_fd, LOCK_EX) < 0) {
        op->err = errno;
        return CONTEND_FAIL;
    }
    off_t cut = contend_cut_torn_tail(l->ev_fd);
    int rc = cut < 0 ? (int)cut : load(l);
    /* A full events.log is compacted first, by whichever op finds it full:
     * every event it covers belongs to an op that is already acknowledged. */
    if (rc == 0 && l->lines >= l->every)
        rc = compact(l);
    int status;
    if (rc) {
        op->err = -rc;
        status = CONTEND_FAIL;
    } else {
        contend_point("op");
        status = do_op(l, op);
    }
    flock(l->lock_fd, LOCK_UN);
    return status;
}

static void ev_close(void *handle)
{
    struct evlog *l = handle;
    if (l->ev_fd >= 0)
        close(l->ev_fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    free(l->state);
    free(l->buf);
    free(l);
}

static int ev_open(const struct contend_env *env, void **handle)
{
    struct evlog *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->variant = env->variant_index;
    l->bank = strcmp(env->workload, "bank") == 0;
    l->keys = env->keys < 1 ? 1 : env->keys > MAX_KEYS ? MAX_KEYS : env->keys;
    long long every = contend_opt_int(env, "snapshot_every", 16);
    l->every = (unsigned)(every < 1 ? 1 : every > 1000000 ? 1000000 : every);
    l->ev_fd = l->lock_fd = -1;
    snprintf(l->dir, sizeof l->dir, "%s", env->store_dir);
    snprintf(l->events, sizeof l->events, "%s/" EVENTS_FILE, env->store_dir);
    snprintf(l->snap, sizeof l->snap, "%s/" SNAP_FILE, env->store_dir);
    snprintf(l->tmp, sizeof l->tmp, "%s/" SNAP_TMP, env->store_dir);
    char lock[PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/" LOCK_FILE, env->store_dir);
    int rc = 0;
    l->state = calloc(l->keys, sizeof *l->state);
    if (!l->state)
        rc = -ENOMEM;
    if (rc == 0 && (l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
        rc = -errno;
    if (rc == 0 && (l->ev_fd = open(l->events, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
        rc = -errno;
    if (rc) {
        ev_close(l);
        return rc;
    }
    *handle = l;
    return 0;
}

/* The initial snapshot (seq 0) and an empty events.log, durable. */
static int ev_setup(const struct contend_env *env)
{
    void *h;
    int rc = ev_open(env, &h);
    if (rc)
        return rc;
    struct evlog *l = h;
    load_snapshot(l); /* no snapshot yet: the initial state */
    l->last_seq = 0;
    /* The variant that writes no offset writes none here either. */
    rc = write_snapshot(l);
    if (rc == 0 && fsync(l->ev_fd) < 0)
        rc = -errno;
    ev_close(l);
    return rc;
}

/* At start-up after a crash: cut a torn event a dead writer left.  The
 * state itself needs no repair: it is always snapshot + replay. */
static int ev_recover(const struct contend_env *env)
{
    void *h;
    int rc = ev_open(env, &h);
    if (rc)
        return rc;
    struct evlog *l = h;
    if (flock(l->lock_fd, LOCK_EX) < 0) {
        rc = -errno;
    } else {
        off_t cut = contend_cut_torn_tail(l->ev_fd);
        rc = cut < 0 ? (int)cut : 0;
        if (rc == 0 && cut > 0 && fsync(l->ev_fd) < 0)
            rc = -errno;
        flock(l->lock_fd, LOCK_UN);
    }
    ev_close(l);
    return rc;
}

/* Read only: the state a recovery would build. */
static int ev_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    void *h;
    int rc = ev_open(env, &h);
    if (rc)
        return rc;
    struct evlog *l = h;
    rc = load(l);
    for (uint64_t k = 0; rc == 0 && k < l->keys; k++)
        sink->value(sink->ctx, k, l->state[k]);
    if (rc == 0) {
        sink->stat(sink->ctx, "event_log_seq", (double)l->last_seq);
        sink->stat(sink->ctx, "event_log_snapshot_seq", (double)l->snap_seq);
    }
    ev_close(l);
    return rc;
}

const struct contend_target contend_target_event_log = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "event-log",
    .help = "delta events + periodic snapshots; recovery = latest snapshot + replay",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_NO_OVERDRAFT,
    .variants = ev_variants,
    .workloads = ev_workloads,
    .options = ev_options,
    .setup = ev_setup,
    .open = ev_open,
    .apply = ev_apply,
    .close = ev_close,
    .recover = ev_recover,
    .read_state = ev_read_state,
};
CONTEND_TARGET_REGISTER(contend_target_event_log)
