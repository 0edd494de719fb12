/*
 * jsonl_ledger.c - a hash-chained JSONL audit ledger, the AuditLedger of the
 * field report.
 *
 * The store is one file, store/ledger.jsonl: one JSON object per line,
 *
 *   {"hash":H,"op":ID,"payload":TEXT,"prev_hash":P,"seq":N,"ts":T,"writer":W}
 *
 * keys sorted, no whitespace, non-ASCII escaped: the canonical form of
 * README.md's "Ledger record format".  H is the lowercase hex SHA-256 of the
 * same line without its "hash" member; P is the previous line's H, 64 zeros
 * for the first; N counts records from 0; T is wall-clock seconds with
 * millisecond resolution; ID is the history op id and W the writer.  Every
 * line is written already canonical, so checkers hash it from its bytes.
 *
 * To append, a writer must learn the last hash, then write a line that names
 * it.  The variants are the ways the field report's team did that:
 *
 *   readlines       exclusive flock, then re-read the *whole* file to find the
 *                   last line (the original _append()): correct, but every
 *                   append costs O(file), N appends O(N^2).
 *   nolock          tail-scan without a lock: two writers that read the same
 *                   last hash both chain onto it, and the chain forks.
 *   nolock-split    no lock, no O_APPEND, and the line written in two write()
 *                   calls at the offset the writer saw: writers overwrite and
 *                   interleave each other's halves (torn, invalid lines).
 *   flock-tailscan  the fix: exclusive flock around "read last hash + append";
 *                   the last hash comes from scanning back from EOF to the
 *                   last complete line (a few KiB read, whatever the size);
 *                   the line goes out in one write() on an O_APPEND
 *                   descriptor; fsync per `durability`.
 *   batched         group commit: the threads of a process queue their
 *                   records; the process's committer thread takes the lock
 *                   once for up to `batch` queued records, chains them,
 *                   writes them in one write(), unlocks, fsyncs once, then
 *                   wakes their owners.  Each append is still acknowledged
 *                   only once it is durable; the fsync is shared, not
 *                   skipped.  With one thread per process there is nothing
 *                   to share: it behaves like flock-tailscan.
 *
 * flock locks belong to an open file description, so every thread opens the
 * file itself (CONTEND_TARGET_OPEN_PER_THREAD): a flock then excludes the
 * other threads of the process too, as it must.
 *
 * A tail that does not end in "\n" is an append that never finished: its
 * writer died mid-write, or its write failed part way (the op was then not
 * acknowledged).  It is never glued to.  Every locked writer writes its
 * whole line (or group) while it holds the lock, so a writer that finds a
 * torn tail under the lock knows that no live writer is in the middle of
 * it: the fragment is dead, holds no acknowledged append, and is cut off
 * (ftruncate to the end of the last complete line) before the new line is
 * written.  recover() - what the program does at start-up after a crash -
 * cuts the ledger after its last good record, under the lock (see there:
 * after a power cut the damage need not be only the last line); it is also
 * what repairs the unlocked variants, whose writers do not look.  Each cut
 * is noted in store/ledger.recovery, one line per cut, which read_state
 * counts (`ledger_tails_cut`), so a run shows that torn tails happened and
 * went.
 *
 * Durability: an append is acknowledged after its fsync with
 * `durability = each` only.  With `batch` or `none` the ledger promises
 * nothing across a power cut, so the table's durable() callback (target.h)
 * tells the faults extension per case, not per variant.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "canon.h"
#include "target.h"

#define LEDGER_FILE "ledger.jsonl"
#define RECOVERY_FILE "ledger.recovery"
#define HASH_LEN 64
#define PREFIX_LEN 75 /* {"hash":"<64 hex>", */
#define BATCH_MAX 1024
#define TAIL_WINDOW 4096
#define TAIL_MAX (64u << 20) /* give up looking for a record this far back */

enum variant { V_FLOCK_TAILSCAN, V_READLINES, V_NOLOCK, V_NOLOCK_SPLIT, V_BATCHED, V_COUNT };
enum durability { D_EACH, D_BATCH, D_NONE };

static const struct contend_variant ledger_variants[] = {
    [V_FLOCK_TAILSCAN] = {"flock-tailscan",
                          "flock, find the last hash by scanning back from EOF, one write(), "
                          "fsync per durability",
                          CONTEND_VARIANT_DURABLE, NULL},
    [V_READLINES] = {"readlines",
                     "flock, re-read the whole file for the last hash on every "
                     "append (O(N) per append)",
                     CONTEND_VARIANT_BROKEN, "superlinear-growth"},
    [V_NOLOCK] = {"nolock", "tail-scan and append without a lock", CONTEND_VARIANT_BROKEN,
                  "chain-fork"},
    [V_NOLOCK_SPLIT] = {"nolock-split",
                        "no lock, no O_APPEND, the line written in two write() calls",
                        CONTEND_VARIANT_BROKEN, "invalid-line"},
    [V_BATCHED] = {"batched",
                   "group commit: one lock, write() and fsync for up to `batch` "
                   "queued records",
                   CONTEND_VARIANT_DURABLE, NULL},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};
/* A case without `variant` gets the first entry: it must be the correct one. */
_Static_assert(V_FLOCK_TAILSCAN == 0, "flock-tailscan is the default variant");

static const char *const ledger_workloads[] = {"ledger", NULL};

static const struct contend_option ledger_options[] = {
    {"durability", "each", "each|batch|none",
     "fsync after every append or group (each), after every `batch` of them (batch), never "
     "(none)"},
    {"batch", "32", NULL,
     "batched: most records per lock/write/fsync; durability=batch: writes per fsync "
     "(1..1024)",
     CONTEND_OPT_INT, 1, 1024},
    {NULL, NULL, NULL, NULL},
};

struct ledger {
    int variant;
    int fd;
    enum durability dur;
    unsigned batch;
    unsigned unsynced; /* writes since the last fsync (durability=batch) */
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    struct contend_sbuf out;  /* the line(s) to write */
    struct contend_sbuf scan; /* the tail, or the whole file for readlines */
    char path[PATH_MAX];
    char notes[PATH_MAX]; /* store/ledger.recovery */
};

/* What a writer learns before it appends. */
struct last {
    char hash[HASH_LEN + 1];
    int64_t next_seq;
    off_t size;      /* file size it saw */
    bool needs_nl;   /* the file ends in a torn line */
    off_t clean_end; /* the end of the last complete line (size unless torn) */
};

/* ---- records ---------------------------------------------------------------- */

static void ledger_path(char *out, size_t len, const char *store_dir)
{
    snprintf(out, len, "%s/" LEDGER_FILE, store_dir);
}

static void notes_path(char *out, size_t len, const char *store_dir)
{
    snprintf(out, len, "%s/" RECOVERY_FILE, store_dir);
}

static bool is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Read hash and seq from one of our own lines (canonical: "hash" is the
 * first member).  `,"seq":` cannot occur inside a canonical string, where
 * every quote is escaped. */
static bool parse_line(const char *p, size_t n, struct last *out)
{
    static const char head[] = "{\"hash\":\"", seqkey[] = ",\"seq\":";
    if (n < PREFIX_LEN || memcmp(p, head, sizeof head - 1) != 0 ||
        !is_hex(p + sizeof head - 1, HASH_LEN) || p[sizeof head - 1 + HASH_LEN] != '"')
        return false;
    const char *s = memmem(p, n, seqkey, sizeof seqkey - 1);
    if (!s)
        return false;
    char *end;
    long long seq = strtoll(s + sizeof seqkey - 1, &end, 10);
    if (end == s + sizeof seqkey - 1 || seq < 0)
        return false;
    memcpy(out->hash, p + sizeof head - 1, HASH_LEN);
    out->hash[HASH_LEN] = '\0';
    out->next_seq = seq + 1;
    return true;
}

static void no_record(struct last *out)
{
    memset(out->hash, '0', HASH_LEN);
    out->hash[HASH_LEN] = '\0';
    out->next_seq = 0;
}

/* The last record among the complete lines of buf[0..n), scanning back.
 * `whole` says buf starts at a line boundary (the file's start).  A file
 * without a complete line has no record yet: the chain starts from zeros. */
static int last_record_in(const char *buf, size_t n, bool whole, struct last *out)
{
    size_t end = n;
    while (end > 0 && buf[end - 1] != '\n')
        end--; /* a torn tail is no record */
    if (end == 0 && whole) {
        no_record(out);
        return 0;
    }
    while (end > 0) {
        size_t e = end - 1, s = e;
        while (s > 0 && buf[s - 1] != '\n')
            s--;
        if (s == 0 && !whole)
            return -EAGAIN; /* the line may begin before the window */
        if (parse_line(buf + s, e - s, out))
            return 0;
        end = s;
    }
    return whole ? -ENOENT : -EAGAIN;
}

static int read_at(int fd, char *buf, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t r = pread(fd, buf, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO; /* shorter than fstat said: someone truncated it */
        buf += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

/* Both ways of finding the last record start here: the file's size, and
 * for an empty file the start of the chain.  Returns 1 when the file is
 * empty (out is complete), 0 when there is something to scan. */
static int scan_start(struct ledger *l, struct last *out, struct stat *st)
{
    if (fstat(l->fd, st) < 0)
        return -errno;
    out->size = st->st_size;
    out->clean_end = st->st_size;
    out->needs_nl = false;
    if (st->st_size > 0)
        return 0;
    no_record(out);
    return 1;
}

/* The fix: read backwards from EOF, a window at a time, to the last complete
 * line.  Cost: one small pread, whatever the size of the file. */
static int tail_scan(struct ledger *l, struct last *out)
{
    struct stat st;
    int empty = scan_start(l, out, &st);
    if (empty)
        return empty < 0 ? empty : 0;
    for (size_t window = TAIL_WINDOW;; window *= 4) {
        size_t n = (size_t)st.st_size < window ? (size_t)st.st_size : window;
        l->scan.n = 0;
        contend_sbuf_reserve(&l->scan, n);
        int rc = read_at(l->fd, l->scan.p, n, st.st_size - (off_t)n);
        if (rc)
            return rc;
        out->needs_nl = l->scan.p[n - 1] != '\n';
        rc = last_record_in(l->scan.p, n, n == (size_t)st.st_size, out);
        if (rc == 0) {
            /* A record was found, so the window holds a newline (or is the
             * whole file, which then has none). */
            const char *nl = memrchr(l->scan.p, '\n', n);
            out->clean_end = nl ? st.st_size - (off_t)n + (nl - l->scan.p) + 1 : 0;
            return 0;
        }
        if (rc == -ENOENT || window >= TAIL_MAX)
            return -EBADMSG; /* lines, none a record: the real program raises */
    }
}

/* The original: read the whole file, every line of it, to find the last. */
static int read_all_lines(struct ledger *l, struct last *out)
{
    struct stat st;
    int empty = scan_start(l, out, &st);
    if (empty)
        return empty < 0 ? empty : 0;
    size_t n = (size_t)st.st_size;
    l->scan.n = 0;
    contend_sbuf_reserve(&l->scan, n);
    int rc = read_at(l->fd, l->scan.p, n, 0);
    if (rc)
        return rc;
    /* readlines(): split the whole text into lines, keep the last one. */
    const char *p = l->scan.p, *e = p + n, *last = NULL;
    size_t last_len = 0;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        last = p;
        last_len = (size_t)(nl - p);
        p = nl + 1;
    }
    out->needs_nl = (p < e);
    out->clean_end = (off_t)(p - l->scan.p);
    if (last && parse_line(last, last_len, out))
        return 0;
    return last_record_in(l->scan.p, n, true, out) == 0 ? 0 : -EBADMSG;
}

static void realtime_ts(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int frac = (int)(ms % 1000);
    /* Python's repr of the same double: no trailing zeros, at least ".0"
     * (13 significant digits, so the decimal is exactly what repr prints). */
    if (frac == 0)
        snprintf(buf, len, "%lld.0", ms / 1000);
    else if (frac % 100 == 0)
        snprintf(buf, len, "%lld.%d", ms / 1000, frac / 100);
    else if (frac % 10 == 0)
        snprintf(buf, len, "%lld.%02d", ms / 1000, frac / 10);
    else
        snprintf(buf, len, "%lld.%03d", ms / 1000, frac);
}

/* Append one canonical record naming `prev` to l->out; its hash to hash[]. */
static int add_record(struct ledger *l, const char *prev, int64_t seq, const struct contend_op *op,
                      char hash[HASH_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    struct contend_sbuf *b = &l->out;
    size_t start = b->n;
    char num[96], ts[40];

    contend_sbuf_reserve(b, PREFIX_LEN);
    b->n += PREFIX_LEN; /* the hash goes here once it is known */
    int n = snprintf(num, sizeof num, "\"op\":%llu,\"payload\":", (unsigned long long)op->id);
    contend_sbuf_add(b, num, (size_t)n);
    if (contend_canon_string(b, op->buf, op->buf_len) != 0) {
        b->n = start;
        return -EILSEQ;
    }
    contend_sbuf_add(b, ",\"prev_hash\":\"", 14);
    contend_sbuf_add(b, prev, HASH_LEN);
    realtime_ts(ts, sizeof ts);
    n = snprintf(num, sizeof num, "\",\"seq\":%lld,\"ts\":%s,\"writer\":%u}", (long long)seq, ts,
                 op->writer);
    contend_sbuf_add(b, num, (size_t)n);

    /* Hashed: the record without its hash member, '{' + the rest. */
    char *rec = b->p + start;
    rec[PREFIX_LEN - 1] = '{';
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (!EVP_DigestInit_ex2(l->ctx, l->md, NULL) ||
        !EVP_DigestUpdate(l->ctx, rec + PREFIX_LEN - 1, b->n - start - (PREFIX_LEN - 1)) ||
        !EVP_DigestFinal_ex(l->ctx, d, &dlen) || dlen != 32) {
        b->n = start;
        return -EIO;
    }
    for (int i = 0; i < 32; i++) {
        hash[2 * i] = digits[d[i] >> 4];
        hash[2 * i + 1] = digits[d[i] & 15];
    }
    hash[HASH_LEN] = '\0';
    memcpy(rec, "{\"hash\":\"", 9);
    memcpy(rec + 9, hash, HASH_LEN);
    memcpy(rec + 9 + HASH_LEN, "\",", 2);
    contend_sbuf_add(b, "\n", 1);
    return 0;
}

/* ---- I/O ---------------------------------------------------------------------- */

/* write() all of it; *wrote says whether any byte reached the file. */
static int write_all(int fd, const char *p, size_t n, bool *wrote)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        *wrote = true;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Note a cut in store/ledger.recovery, as a real program would log it.  Best
 * effort: the log is for the report, and failing to write it must not fail
 * the append or the recovery that made the cut. */
static void note_cut(const struct ledger *l, off_t at, off_t bytes, const char *who)
{
    char line[128];
    int n = snprintf(line, sizeof line, "cut %lld bytes at offset %lld (%s, pid %d)\n",
                     (long long)bytes, (long long)at, who, (int)getpid());
    int fd = open(l->notes, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    bool wrote = false;
    (void)write_all(fd, line, (size_t)n, &wrote);
    close(fd);
}

/* Cut the torn tail `last` found off the file.  Only under the lock, where
 * no live locked writer is mid-line (see the top of the file). */
static int cut_tail(struct ledger *l, const struct last *last)
{
    if (ftruncate(l->fd, last->clean_end) < 0)
        return -errno;
    note_cut(l, last->clean_end, last->size - last->clean_end, "append");
    return 0;
}

static int lock_ex(struct ledger *l)
{
    while (flock(l->fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static void unlock(struct ledger *l)
{
    flock(l->fd, LOCK_UN);
}

/* After a write: fsync as `durability` says.  0, or -errno. */
static int sync_after_write(struct ledger *l)
{
    if (l->dur == D_NONE)
        return 0;
    if (l->dur == D_BATCH && ++l->unsynced < l->batch)
        return 0;
    l->unsynced = 0;
    return fsync(l->fd) < 0 ? -errno : 0;
}

/* Write l->out: CONTEND_OK, CONTEND_FAIL (nothing reached the file) or
 * CONTEND_INFO (something may have). */
static int write_out(struct ledger *l, int32_t *err)
{
    bool wrote = false;
    int rc = write_all(l->fd, l->out.p, l->out.n, &wrote);
    if (rc) {
        *err = -rc;
        return wrote ? CONTEND_INFO : CONTEND_FAIL;
    }
    return CONTEND_OK;
}

/* After a successful write: fsync as asked.  A failed fsync leaves the
 * records written but maybe not durable, which the caller cannot know. */
static int make_durable(struct ledger *l, int32_t *err)
{
    int rc = sync_after_write(l);
    if (rc) {
        *err = -rc;
        return CONTEND_INFO;
    }
    return CONTEND_OK;
}

/* ---- variants ------------------------------------------------------------------- */

/* flock-tailscan, readlines, nolock: find the last hash, append one line. */
static int append_one(struct ledger *l, struct contend_op *op)
{
    bool locked = (l->variant != V_NOLOCK), held = false;
    struct last last;
    char hash[HASH_LEN + 1];
    int status = CONTEND_FAIL, rc;

    if (locked && (rc = lock_ex(l)) != 0)
        goto out;
    held = locked;
    rc = (l->variant == V_READLINES) ? read_all_lines(l, &last) : tail_scan(l, &last);
    if (rc == 0 && last.needs_nl && locked)
        rc = cut_tail(l, &last); /* nolock glues on: it does not know better */
    if (rc)
        goto out;
    /* Between reading the last hash and writing the line that names it. */
    contend_point("jsonl-ledger:read-last-hash->write");
    l->out.n = 0;
    if ((rc = add_record(l, last.hash, last.next_seq, op, hash)) != 0)
        goto out;
    int32_t err = 0;
    status = write_out(l, &err);
    if (status == CONTEND_OK)
        status = make_durable(l, &err); /* under the lock: acks follow the chain */
    rc = -err;
    if (status == CONTEND_OK)
        op->value = last.next_seq;
out:
    if (held)
        unlock(l);
    op->err = -rc;
    return status;
}

/* nolock-split: the line in two write()s at the offset the writer saw, with
 * no O_APPEND: another writer that saw the same size writes over it. */
static int append_split(struct ledger *l, struct contend_op *op)
{
    struct last last;
    char hash[HASH_LEN + 1];
    int rc = tail_scan(l, &last);
    if (rc == 0) {
        contend_point("jsonl-ledger:read-last-hash->write");
        l->out.n = 0;
        rc = add_record(l, last.hash, last.next_seq, op, hash);
    }
    if (rc) {
        op->err = -rc;
        return CONTEND_FAIL;
    }
    size_t half = l->out.n / 2;
    bool wrote = false;
    if (lseek(l->fd, last.size, SEEK_SET) < 0) {
        op->err = errno;
        return CONTEND_FAIL;
    }
    rc = write_all(l->fd, l->out.p, half, &wrote);
    contend_point("jsonl-ledger:between-writes");
    if (rc == 0)
        rc = write_all(l->fd, l->out.p + half, l->out.n - half, &wrote);
    if (rc == 0)
        rc = sync_after_write(l);
    if (rc) {
        op->err = -rc;
        return wrote ? CONTEND_INFO : CONTEND_FAIL;
    }
    op->value = last.next_seq;
    return CONTEND_OK;
}

/* batched: group commit among the threads of this process.
 *
 * Writers queue their records and sleep, each on its own condition variable;
 * one committer thread per process (started with the first handle, joined
 * with the last) takes up to `batch` queued records at a time, commits them
 * under one lock with one write() and one fsync, and wakes exactly their
 * owners.  While it waits for the disk, the next records queue up.  (A
 * rotating leader among the writers was measured first: handing the lead on
 * costs a context switch on the critical path of every round.) */
struct request {
    struct contend_op *op;
    int status;
    bool done;
    pthread_cond_t cv;
    struct request *next;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work; /* the committer waits here for records */
    struct request *head, *tail;
    unsigned users; /* open handles of the batched variant */
    bool quit;
    pthread_t tid;
    struct ledger *io; /* the committer's own handle */
} group = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, false, 0, NULL};

/* Held while the committer starts or stops.  Users can drop to zero and come
 * back: a worker restarted after a kill or a power cut has threads whose ops
 * are all done, which open and close at once while their siblings are still
 * opening.  Without it the last close of the first round and the first open
 * of the next would both own group.tid and group.io (a second committer
 * started over the first, a thread joined twice, io freed under a running
 * committer).  Taken before group.mu; the committer never takes it, so a
 * close may join the committer while holding it. */
static pthread_mutex_t group_life = PTHREAD_MUTEX_INITIALIZER;

/* The committer's work: one lock, one write, one fsync for k records. */
static void commit(struct ledger *l, struct request **req, unsigned k)
{
    struct last last;
    char hash[HASH_LEN + 1];
    int32_t err = 0;
    int rc = lock_ex(l), status = CONTEND_FAIL;
    bool held = (rc == 0);
    if (rc == 0)
        rc = tail_scan(l, &last);
    if (rc == 0 && last.needs_nl)
        rc = cut_tail(l, &last);
    if (rc == 0) {
        contend_point("jsonl-ledger:read-last-hash->write");
        l->out.n = 0;
        int64_t seq = last.next_seq;
        for (unsigned i = 0; i < k; i++) {
            /* A record that cannot be written fails alone; the rest chain on. */
            req[i]->op->value = -1;
            if (add_record(l, last.hash, seq, req[i]->op, hash) != 0) {
                req[i]->status = CONTEND_FAIL;
                req[i]->op->err = EILSEQ;
                continue;
            }
            req[i]->status = CONTEND_OK;
            req[i]->op->value = seq++;
            memcpy(last.hash, hash, sizeof hash);
        }
        status = write_out(l, &err);
    } else {
        err = -rc;
    }
    if (held)
        unlock(l);
    /* The next group (another process's) may write while this one waits
     * for the disk: its records come after these in the file, and its fsync
     * covers these too, so no record is acknowledged before it is durable. */
    if (status == CONTEND_OK)
        status = make_durable(l, &err);
    for (unsigned i = 0; i < k; i++) {
        if (status != CONTEND_OK && req[i]->status != CONTEND_FAIL) {
            req[i]->status = status;
            req[i]->op->err = err;
        }
    }
}

static void *committer(void *arg)
{
    struct ledger *l = arg;
    struct request *take[BATCH_MAX];

    pthread_mutex_lock(&group.mu);
    for (;;) {
        while (!group.head && !group.quit)
            pthread_cond_wait(&group.work, &group.mu);
        if (!group.head)
            break;
        unsigned k = 0;
        while (group.head && k < l->batch) {
            take[k++] = group.head;
            group.head = group.head->next;
        }
        if (!group.head)
            group.tail = NULL;
        pthread_mutex_unlock(&group.mu);
        commit(l, take, k);
        pthread_mutex_lock(&group.mu);
        for (unsigned i = 0; i < k; i++) {
            take[i]->done = true;
            pthread_cond_signal(&take[i]->cv);
        }
    }
    pthread_mutex_unlock(&group.mu);
    return NULL;
}

static int append_batched(struct contend_op *op)
{
    struct request me = {.op = op, .status = CONTEND_FAIL};

    pthread_cond_init(&me.cv, NULL);
    pthread_mutex_lock(&group.mu);
    if (group.tail)
        group.tail->next = &me;
    else
        group.head = &me;
    group.tail = &me;
    pthread_cond_signal(&group.work);
    while (!me.done)
        pthread_cond_wait(&me.cv, &group.mu);
    pthread_mutex_unlock(&group.mu);
    pthread_cond_destroy(&me.cv);
    return me.status;
}

/* ---- the table -------------------------------------------------------------------- */

static int ledger_apply(void *handle, struct contend_op *op)
{
    struct ledger *l = handle;
    if (op->kind != CONTEND_OP_APPEND) {
        op->err = ENOTSUP;
        return CONTEND_FAIL;
    }
    switch (l->variant) {
    case V_NOLOCK_SPLIT: return append_split(l, op);
    case V_BATCHED: return append_batched(op);
    default: return append_one(l, op);
    }
}

static void handle_free(struct ledger *l)
{
    if (l->fd >= 0)
        close(l->fd);
    EVP_MD_CTX_free(l->ctx);
    EVP_MD_free(l->md);
    contend_sbuf_free(&l->out);
    contend_sbuf_free(&l->scan);
    free(l);
}

static int handle_new(const struct contend_env *env, struct ledger **out)
{
    struct ledger *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->variant = env->variant_index;
    const char *d = contend_opt(env, "durability", "each");
    l->dur = strcmp(d, "none") == 0 ? D_NONE : strcmp(d, "batch") == 0 ? D_BATCH : D_EACH;
    long long b = contend_opt_int(env, "batch", 32);
    l->batch = (unsigned)(b < 1 ? 1 : b > BATCH_MAX ? BATCH_MAX : b);
    ledger_path(l->path, sizeof l->path, env->store_dir);
    notes_path(l->notes, sizeof l->notes, env->store_dir);
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (l->variant == V_NOLOCK_SPLIT ? 0 : O_APPEND);
    l->fd = open(l->path, flags, 0644);
    int rc = l->fd < 0 ? -errno : 0;
    l->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    l->ctx = EVP_MD_CTX_new();
    if (rc == 0 && (!l->md || !l->ctx))
        rc = -ENOSYS;
    if (rc) {
        handle_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

static int ledger_open(const struct contend_env *env, void **handle)
{
    struct ledger *l;
    int rc = handle_new(env, &l);
    if (rc || l->variant != V_BATCHED) {
        *handle = rc ? NULL : l;
        return rc;
    }
    /* The first batched handle of the process starts the committer. */
    pthread_mutex_lock(&group_life);
    pthread_mutex_lock(&group.mu);
    if (group.users == 0) {
        rc = handle_new(env, &group.io);
        if (rc == 0 && (rc = -pthread_create(&group.tid, NULL, committer, group.io)) != 0) {
            handle_free(group.io);
            group.io = NULL;
        }
    }
    if (rc == 0)
        group.users++;
    pthread_mutex_unlock(&group.mu);
    pthread_mutex_unlock(&group_life);
    if (rc) {
        handle_free(l);
        return rc;
    }
    *handle = l;
    return 0;
}

static void ledger_close(void *handle)
{
    struct ledger *l = handle;
    if (l->variant == V_BATCHED) {
        /* The last batched handle stops the committer (nothing is queued:
         * every append waits for its commit). */
        pthread_mutex_lock(&group_life);
        pthread_mutex_lock(&group.mu);
        bool last = (--group.users == 0);
        if (last) {
            group.quit = true;
            pthread_cond_signal(&group.work);
        }
        pthread_mutex_unlock(&group.mu);
        if (last) {
            pthread_join(group.tid, NULL);
            handle_free(group.io);
            pthread_mutex_lock(&group.mu);
            group.io = NULL;
            group.quit = false;
            pthread_mutex_unlock(&group.mu);
        }
        pthread_mutex_unlock(&group_life);
    }
    handle_free(l);
}

static int ledger_setup(const struct contend_env *env)
{
    char path[PATH_MAX];
    ledger_path(path, sizeof path, env->store_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* The end of the last complete line of a file of `size` bytes: scanning
 * back from EOF to the last newline, a window at a time (0 when there is
 * none).  Unlike tail_scan() it asks nothing of the lines: recovery must cut
 * a torn tail off a file whose lines are not records, too. */
static int complete_end(struct ledger *l, off_t size, off_t *end)
{
    off_t pos = size;
    contend_sbuf_reserve(&l->scan, TAIL_WINDOW);
    while (pos > 0) {
        size_t n = pos < TAIL_WINDOW ? (size_t)pos : TAIL_WINDOW;
        pos -= (off_t)n;
        int rc = read_at(l->fd, l->scan.p, n, pos);
        if (rc)
            return rc;
        const char *nl = memrchr(l->scan.p, '\n', n);
        if (nl) {
            *end = pos + (nl - l->scan.p) + 1;
            return 0;
        }
    }
    *end = 0;
    return 0;
}

/* One of our lines, on its own and against the hash before it: canonical
 * prefix, a hash that recomputes (over "{" and the line after the hash
 * member, as add_record() hashes it), and a prev_hash that names `prev`. */
static bool record_chains(struct ledger *l, const char *p, size_t n, const char *prev)
{
    static const char digits[] = "0123456789abcdef", pkey[] = ",\"prev_hash\":\"";
    struct last self;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (!parse_line(p, n, &self) || p[PREFIX_LEN - 1] != ',')
        return false;
    const char *pv = memmem(p, n, pkey, sizeof pkey - 1);
    if (!pv || (size_t)(p + n - pv) < sizeof pkey - 1 + HASH_LEN ||
        memcmp(pv + sizeof pkey - 1, prev, HASH_LEN) != 0)
        return false;
    if (!EVP_DigestInit_ex2(l->ctx, l->md, NULL) || !EVP_DigestUpdate(l->ctx, "{", 1) ||
        !EVP_DigestUpdate(l->ctx, p + PREFIX_LEN, n - PREFIX_LEN) ||
        !EVP_DigestFinal_ex(l->ctx, d, &dlen) || dlen != 32)
        return false;
    for (int i = 0; i < 32; i++)
        if (self.hash[2 * i] != digits[d[i] >> 4] || self.hash[2 * i + 1] != digits[d[i] & 15])
            return false;
    return true;
}

/* Forward from the start: the end of the longest prefix of complete lines
 * that are valid records, each chained to the one before.  Streams the file
 * through l->scan, a line at a time at most in memory. */
static int chained_end(struct ledger *l, off_t *end)
{
    char prev[HASH_LEN];
    off_t base = 0; /* file offset of scan.p[0] */
    bool eof = false;
    memset(prev, '0', HASH_LEN);
    *end = 0;
    l->scan.n = 0;
    contend_sbuf_reserve(&l->scan, 64u << 10);
    while (!eof) {
        if (l->scan.n == l->scan.cap)
            contend_sbuf_reserve(&l->scan, l->scan.cap); /* a line longer than the buffer */
        ssize_t r =
            pread(l->fd, l->scan.p + l->scan.n, l->scan.cap - l->scan.n, base + (off_t)l->scan.n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        eof = (r == 0);
        l->scan.n += (size_t)r;
        size_t pos = 0;
        const char *nl;
        while ((nl = memchr(l->scan.p + pos, '\n', l->scan.n - pos)) != NULL) {
            const char *line = l->scan.p + pos;
            size_t len = (size_t)(nl - line);
            if (!record_chains(l, line, len, prev))
                return 0; /* *end stays before this line */
            memcpy(prev, line + 9, HASH_LEN);
            pos += len + 1;
            *end = base + (off_t)pos;
        }
        memmove(l->scan.p, l->scan.p + pos, l->scan.n - pos);
        l->scan.n -= pos;
        base += (off_t)pos;
    }
    return 0;
}

/* recover(): what the program does when it starts after a crash, under the
 * lock (so that no locked writer is mid-line).
 *
 * The locked variants - the programs that keep a chain - walk it from the
 * start and cut the file after the last record that is whole, hashes right
 * and names the one before it.  A torn last line is the common case (a
 * writer killed mid-write), but after a power cut the damage need not be at
 * the very end: `batched` fsyncs outside the lock, so a group written after
 * another group's write and before that group's fsync can reach the disk
 * while the earlier one is torn or lost, leaving a hole of garbage with
 * whole records after it.  None of those records was acknowledged (an ack
 * waits for an fsync that would have covered them all), so everything from
 * the first bad line on is beyond the last durable append, and the cut
 * loses nothing that was promised.  Should a bug put a bad line among
 * durable records, the cut drops acknowledged appends, which the checker
 * reports (missing-append; lost-durable after a power cut): recovery
 * repairs, it does not hide.  Cost: one read of the file per start-up.
 *
 * The unlocked variants, which never look at their chain, only cut a torn
 * last line (they take the lock here, which their writers ignore: a real
 * program's start-up assumes it is alone, and with several nolock writers
 * it is not - they are broken anyway).
 *
 * With durability the cut is fsynced before anyone appends, so that a power
 * cut cannot bring the fragment back under a newer line. */
static int ledger_recover(const struct contend_env *env)
{
    struct ledger *l;
    struct stat st;
    off_t end = 0;
    bool chained = env->variant_index != V_NOLOCK && env->variant_index != V_NOLOCK_SPLIT;
    int rc = handle_new(env, &l);
    if (rc)
        return rc;
    if ((rc = lock_ex(l)) != 0)
        goto out;
    if (fstat(l->fd, &st) < 0)
        rc = -errno;
    else
        rc = chained ? chained_end(l, &end) : complete_end(l, st.st_size, &end);
    if (rc == 0 && end < st.st_size) {
        if (ftruncate(l->fd, end) < 0)
            rc = -errno;
        else if (l->dur != D_NONE && fsync(l->fd) < 0)
            rc = -errno;
        if (rc == 0)
            note_cut(l, end, st.st_size - end, "recover");
    }
    unlock(l);
out:
    handle_free(l);
    return rc;
}

/* Durable only when every append is fsynced before it is acknowledged:
 * `durability = each`, and a variant that waits for its fsync under the
 * lock or for its group's (flock-tailscan, batched).  With `batch` or
 * `none` an acknowledged append may be lost at a power cut, as promised. */
static int ledger_durable(const struct contend_env *env)
{
    const char *d = contend_opt(env, "durability", "each");
    return (ledger_variants[env->variant_index].flags & CONTEND_VARIANT_DURABLE) &&
           strcmp(d, "each") == 0;
}

/* Lines of a small text file, or -1 when it cannot be read. */
static long count_lines(const char *path)
{
    char buf[4096];
    long lines = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            lines += buf[i] == '\n';
    }
    close(fd);
    return lines;
}

/* The ledger's checker reads ledger.jsonl itself; here its size, and how
 * many torn tails writers and recoveries cut off. */
static int ledger_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    char path[PATH_MAX];
    struct stat st;
    ledger_path(path, sizeof path, env->store_dir);
    if (stat(path, &st) == 0)
        sink->stat(sink->ctx, "ledger_bytes", (double)st.st_size);
    notes_path(path, sizeof path, env->store_dir);
    long cuts = count_lines(path);
    if (cuts >= 0)
        sink->stat(sink->ctx, "ledger_tails_cut", (double)cuts);
    return 0;
}

const struct contend_target contend_target_jsonl_ledger = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "jsonl-ledger",
    .help = "a hash-chained JSONL audit ledger (the AuditLedger of the field report)",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD,
    .variants = ledger_variants,
    .workloads = ledger_workloads,
    .options = ledger_options,
    .setup = ledger_setup,
    .open = ledger_open,
    .apply = ledger_apply,
    .close = ledger_close,
    .recover = ledger_recover,
    .read_state = ledger_read_state,
    .durable = ledger_durable,
};
CONTEND_TARGET_REGISTER(contend_target_jsonl_ledger)
