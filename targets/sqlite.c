/*
 * sqlite.c - one SQLite database file shared by worker processes and threads.
 *
 * The field reports: a usage/budget tracker that worker processes share
 * through one SQLite file (WAL, a connection per thread, BEGIN IMMEDIATE so
 * that no budget call is lost); a "seen store" whose one connection was
 * opened with check_same_thread=False and used from many threads without a
 * lock (duplicate alerts, corruption); and the advice to turn on WAL,
 * synchronous=NORMAL and busy timeouts everywhere.  The variants are those
 * choices, each as a C program would make it:
 *
 *   wal-immediate       WAL; every op is BEGIN IMMEDIATE ... COMMIT on the
 *                       thread's own connection.  IMMEDIATE takes the write
 *                       lock before the read, so nobody writes between this
 *                       transaction's read and its write.  Correct.
 *   wal-deferred        the same with a plain (deferred) BEGIN.  The read runs
 *                       on a snapshot; when another connection commits before
 *                       this one writes, the upgrade to a writer fails with
 *                       SQLITE_BUSY(_SNAPSHOT) at once - the busy handler is
 *                       not called, waiting could not help.  Correct but
 *                       loud: the op fails, and `retry` runs it again.
 *   autocommit-rmw      SELECT, compute in C, UPDATE: separate autocommit
 *                       statements, so two writers read the same value and
 *                       one update is lost.  Claims are is_seen() then
 *                       mark_seen(), both callers win.  Broken.
 *   rollback-immediate  journal_mode=DELETE, synchronous=FULL, IMMEDIATE:
 *                       correct, the slow baseline; durable across a power
 *                       cut only with synchronous=EXTRA (see below).
 *   shared-conn-nomutex the threads of a worker share one connection opened
 *                       with SQLITE_OPEN_NOMUTEX and no lock of their own:
 *                       the seen-store bug.  Transactions, statements and
 *                       sqlite3_changes() belong to the connection, not the
 *                       thread: one thread's ROLLBACK (after its BEGIN failed
 *                       because another thread's transaction was open) undoes
 *                       that other transaction, whose writes then commit in
 *                       autocommit or inside a third thread's transaction;
 *                       changes() reports another thread's insert; and two
 *                       threads inside the library at once corrupt its memory.
 *                       Broken, in whatever way the schedule picks: wrong
 *                       results, misuse errors, a crash of the worker.
 *   shared-conn-mutex   the same connection with a mutex held for each whole
 *                       op.  Correct.
 *   shared-conn-serialized  the same connection in SQLite's serialized mode
 *                       (SQLITE_OPEN_FULLMUTEX) and no lock of the program's:
 *                       Python's check_same_thread=False.  Every call is
 *                       safe, and each statement runs whole (stmt_lock), so
 *                       nothing crashes, but the transaction and changes()
 *                       are still the connection's, so the results are wrong
 *                       just the same.  Broken, deterministically.
 *
 * Per-thread variants open one connection per thread; the shared ones set
 * CONTEND_VARIANT_OPEN_PER_WORKER, so a worker opens once and its threads
 * share the handle.  Connections are opened with SQLITE_OPEN_NOMUTEX (but
 * for shared-conn-serialized): a connection used by one thread at a time
 * needs no library mutex (SQLite's multi-thread mode), and for
 * shared-conn-nomutex that is the point.
 *
 * Every error path rolls back, the way `try: ... except: rollback` code and
 * Python's `with conn:` do.  On a connection of one's own that is always
 * right; on a shared one it is what turns a failed BEGIN into somebody
 * else's lost transaction.
 *
 * The store: db.sqlite (+ -wal, -shm in WAL mode, -journal in rollback mode)
 * in the store directory, with tables
 *     counters(k INTEGER PRIMARY KEY, v INTEGER)         counter: rows 0..keys-1
 *     accounts(id INTEGER PRIMARY KEY, balance INTEGER)  bank: rows 0..keys-1
 *     claims(id INTEGER PRIMARY KEY, owner INTEGER)      claim: owner = op id
 *     ledger(seq, writer, op, ts, payload, prev_hash, hash)   ledger, by rowid
 *     jobs(id, priority, status, owner, payload, created_at)  queue (below)
 * read_state() runs PRAGMA integrity_check (anything but "ok" is an
 * `integrity` violation) and reports the workload's table as (key, value):
 * counter k -> v, account id -> balance, claimed id -> owner op id; the
 * ledger it exports instead, row by row in rowid order, to store/ledger.jsonl
 * in the record format of README.md's "The audit ledger", where the ledger
 * checker reads it.
 *
 * The queue (the field report's fix for its file queue) is the table
 *     jobs(id PRIMARY KEY, priority, status, owner, payload, created_at)
 * with status 'queued', 'taken' (owner = the consumer's writer index) or
 * 'done'.  A take is UPDATE ... SET status = 'taken', owner = ? WHERE id =
 * (SELECT ... ORDER BY priority, id LIMIT 1) RETURNING id, payload inside the
 * variant's transaction; autocommit-rmw SELECTs the next job and UPDATEs it
 * in two statements, so two consumers take the same job (double-delivery).
 * An ack sets 'done' only while this consumer holds the job.  recover()
 * puts the jobs of the restarting worker's dead consumers back to 'queued'
 * (at-least-once).  read_state() reports every job as ready, done or held.
 *
 * The ledger is the jsonl-ledger's chain kept as rows: an append reads the
 * last row's seq and hash, then inserts a row whose prev_hash is that hash
 * and whose hash is the SHA-256 of the record's canonical JSON without it,
 * byte for byte the line jsonl-ledger would write.  seq is a plain column,
 * not a key, as in a program that never thought two appends could race: in
 * one IMMEDIATE transaction nobody appends between the read and the insert;
 * in autocommit-rmw two writers read the same last row and both chain onto
 * it, and the chain forks.
 *
 * Durability is the `synchronous` setting's, not the variant's, so the table
 * answers durable() for the case's options (target.h) instead of flagging
 * variants.  The promise it states is the one a program's author reads into
 * synchronous=FULL: "all content is safely written to the disk surface prior
 * to continuing".  FULL and EXTRA promise it in every journal mode that has a
 * journal on disk (WAL, DELETE, TRUNCATE, PERSIST); NORMAL and OFF do not:
 * SQLite's documentation says a WAL commit at NORMAL may roll back after a
 * power loss, and OFF never syncs.  The power-cut scenarios then show where
 * SQLite keeps the promise and where it does not: in DELETE mode FULL does
 * not fsync the directory after unlinking the journal, so a cut right after
 * a commit can bring the journal back, hot, and the commit is rolled back
 * (`lost-durable`); SQLite documents EXTRA as the setting that adds that
 * fsync, and EXTRA is clean.
 *
 * recover() is what a program does when it starts after a crash: it opens
 * the database and runs a query.  SQLite does the rest itself: it rolls a
 * hot journal back, or rebuilds the WAL index (-shm, written through mmap,
 * which the fault shim neither sees nor rolls back) from the WAL, ignoring
 * frames after the last valid commit.  The first connection to open a WAL
 * database resets the -shm whatever it holds, so a stale one after a power
 * cut is harmless (tests/unit/test_sqlite_faults.c checks it).  mmap_size
 * only maps the database for reads (this SQLite is built without
 * SQLITE_MMAP_READWRITE): writes still go through pwrite(), where the shim
 * sees them, so power-cut cases may set it.
 *
 * read_state() must not change the store (target.h): with power cuts the
 * runner calls it between the cut and the roll-back.  Opening the database
 * there would roll a hot journal back, or checkpoint the WAL into the
 * database and delete it on close, in the runner, unseen by the shim: the
 * roll-back would then leave those writes in place and a lost commit would
 * look kept.  So read_state() copies the files (db, -journal, -wal, -shm)
 * to a fresh directory and opens the copy, which SQLite recovers as it would
 * the store.
 *
 * Two errors a correct program never gets are noted while the workers run,
 * one line each in sqlite-events in the store directory (O_APPEND, so lines
 * of several processes do not mix, and a crashed worker's lines stay):
 * SQLITE_CORRUPT, SQLite finding a damaged page in the middle of an op
 * (reported as `integrity` even when the file checks out afterwards: the
 * damage may have been in a connection's memory), and SQLITE_MISUSE, SQLite
 * catching a connection used wrongly (`misuse`).  A broken shared connection
 * that only ever fails its ops has then still been caught.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "canon.h"
#include "target.h"

enum variant {
    V_WAL_IMMEDIATE,
    V_WAL_DEFERRED,
    V_AUTOCOMMIT_RMW,
    V_ROLLBACK_IMMEDIATE,
    V_SHARED_NOMUTEX,
    V_SHARED_MUTEX,
    V_SHARED_SERIALIZED,
    V_COUNT
};

/* What every variant promises the queue workload: jobs come out by
 * (priority, id), and recover() hands a dead consumer's jobs out again. */
#define SQ_QUEUE (CONTEND_VARIANT_AT_LEAST_ONCE | CONTEND_VARIANT_FIFO)

static const struct contend_variant sq_variants[] = {
    [V_WAL_IMMEDIATE] = {"wal-immediate", "WAL, BEGIN IMMEDIATE per op, a connection per thread",
                         CONTEND_VARIANT_MONOTONIC | SQ_QUEUE, NULL},
    [V_WAL_DEFERRED] = {"wal-deferred",
                        "WAL, deferred BEGIN: SQLITE_BUSY on the lock upgrade fails the op",
                        CONTEND_VARIANT_MONOTONIC | SQ_QUEUE, NULL},
    [V_AUTOCOMMIT_RMW] = {"autocommit-rmw", "SELECT, compute in C, UPDATE, each autocommit",
                          CONTEND_VARIANT_BROKEN | SQ_QUEUE,
                          "lost-update, wrong-total, double-claim, chain-fork, double-delivery"},
    /* Durable or not by `synchronous`: sq_durable() says, not a flag. */
    [V_ROLLBACK_IMMEDIATE] = {"rollback-immediate",
                              "journal_mode=DELETE, synchronous=FULL, BEGIN IMMEDIATE",
                              CONTEND_VARIANT_MONOTONIC | SQ_QUEUE, NULL},
    [V_SHARED_NOMUTEX] = {"shared-conn-nomutex",
                          "threads share one SQLITE_OPEN_NOMUTEX connection, no lock",
                          CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_OPEN_PER_WORKER | SQ_QUEUE,
                          "double-claim, lost-claim (threads > 1)"},
    [V_SHARED_MUTEX] = {"shared-conn-mutex", "threads share one connection under a mutex",
                        CONTEND_VARIANT_MONOTONIC | CONTEND_VARIANT_OPEN_PER_WORKER | SQ_QUEUE,
                        NULL},
    [V_SHARED_SERIALIZED] = {"shared-conn-serialized",
                             "threads share one SQLITE_OPEN_FULLMUTEX connection, no lock",
                             CONTEND_VARIANT_BROKEN | CONTEND_VARIANT_OPEN_PER_WORKER | SQ_QUEUE,
                             "double-claim, lost-claim (threads > 1)"},
    [V_COUNT] = {NULL, NULL, 0, NULL},
};
_Static_assert(V_WAL_IMMEDIATE == 0, "wal-immediate is the default variant");

enum tx { TX_IMMEDIATE, TX_DEFERRED, TX_NONE };

/* What a variant does unless the scenario's keys say otherwise. */
struct variant_cfg {
    const char *journal_mode;
    const char *synchronous;
    enum tx tx;
    bool mutex;     /* hold the handle's mutex for each whole op */
    bool fullmutex; /* SQLite's own mutex around every call */
};

static const struct variant_cfg sq_cfg[V_COUNT] = {
    [V_WAL_IMMEDIATE] = {"wal", "normal", TX_IMMEDIATE, false},
    [V_WAL_DEFERRED] = {"wal", "normal", TX_DEFERRED, false},
    [V_AUTOCOMMIT_RMW] = {"wal", "normal", TX_NONE, false},
    [V_ROLLBACK_IMMEDIATE] = {"delete", "full", TX_IMMEDIATE, false},
    [V_SHARED_NOMUTEX] = {"wal", "normal", TX_IMMEDIATE, false},
    [V_SHARED_MUTEX] = {"wal", "normal", TX_IMMEDIATE, true},
    [V_SHARED_SERIALIZED] = {"wal", "normal", TX_IMMEDIATE, false, true},
};

static const char *const sq_workloads[] = {"counter", "bank", "claim", "ledger", "queue", NULL};

static const struct contend_option sq_options[] = {
    {"journal_mode", "",
     "delete|truncate|persist|memory|wal|off|DELETE|TRUNCATE|PERSIST|MEMORY|WAL|OFF",
     "PRAGMA journal_mode (default: the variant's, wal or delete)"},
    {"synchronous", "", "off|normal|full|extra|OFF|NORMAL|FULL|EXTRA",
     "PRAGMA synchronous (default: the variant's, normal for WAL, full for rollback)"},
    {"busy_timeout", "10000", NULL, "ms a connection waits for a lock before SQLITE_BUSY",
     CONTEND_OPT_INT, 0, 2147483647},
    {"cache_size", "", NULL, "PRAGMA cache_size: pages, or -KiB (default SQLite's)",
     CONTEND_OPT_INT, -1e15, 1e15},
    {"mmap_size", "", NULL, "PRAGMA mmap_size in bytes (default SQLite's, 0)", CONTEND_OPT_INT, 0,
     1e18},
    {"retry", "0", NULL, "on SQLITE_BUSY roll back and run the op again, up to N times",
     CONTEND_OPT_INT, 0, 1e6},
    {"rmw_write", "absolute", "absolute|relative",
     "autocommit-rmw writes the value computed in C (absolute: lost updates) or "
     "`x = x + d` after its check (relative: overdrafts)"},
    {NULL, NULL, NULL, NULL},
};

enum stmt {
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_CTR_GET,
    ST_CTR_SET,
    ST_CTR_ADD,
    ST_ACC_GET,
    ST_ACC_SET,
    ST_ACC_ADD,
    ST_ACC_ALL,
    ST_CLAIM_GET,
    ST_CLAIM_INS,
    ST_LEDGER_LAST,
    ST_LEDGER_INS,
    ST_JOB_ADD,
    ST_JOB_TAKE,
    ST_JOB_NEXT,
    ST_JOB_MARK,
    ST_JOB_ACK,
    ST_COUNT
};

static const char *const sq_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CTR_GET] = "SELECT v FROM counters WHERE k = ?1",
    [ST_CTR_SET] = "UPDATE counters SET v = ?2 WHERE k = ?1",
    [ST_CTR_ADD] = "UPDATE counters SET v = v + 1 WHERE k = ?1 RETURNING v",
    [ST_ACC_GET] = "SELECT balance FROM accounts WHERE id = ?1",
    [ST_ACC_SET] = "UPDATE accounts SET balance = ?2 WHERE id = ?1",
    [ST_ACC_ADD] = "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1",
    [ST_ACC_ALL] = "SELECT coalesce(sum(balance), 0), coalesce(min(balance), 0) FROM accounts",
    [ST_CLAIM_GET] = "SELECT owner FROM claims WHERE id = ?1",
    [ST_CLAIM_INS] = "INSERT OR IGNORE INTO claims(id, owner) VALUES (?1, ?2)",
    [ST_LEDGER_LAST] = "SELECT seq, hash FROM ledger ORDER BY rowid DESC LIMIT 1",
    [ST_LEDGER_INS] = "INSERT INTO ledger(seq, writer, op, ts, payload, prev_hash, hash) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_JOB_ADD] = "INSERT INTO jobs(id, priority, status, payload, created_at) "
                   "VALUES (?1, 0, 'queued', ?2, julianday('now'))",
    /* The report's fix: choose and take in one statement. */
    [ST_JOB_TAKE] = "UPDATE jobs SET status = 'taken', owner = ?1 WHERE id = "
                    "(SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority, id LIMIT 1) "
                    "RETURNING id, payload",
    [ST_JOB_NEXT] = "SELECT id, payload FROM jobs WHERE status = 'queued' "
                    "ORDER BY priority, id LIMIT 1",
    [ST_JOB_MARK] = "UPDATE jobs SET status = 'taken', owner = ?2 WHERE id = ?1",
    [ST_JOB_ACK] = "UPDATE jobs SET status = 'done' WHERE id = ?1 AND owner = ?2 "
                   "AND status = 'taken'",
};

static const char sq_schema[] =
    "CREATE TABLE IF NOT EXISTS counters(k INTEGER PRIMARY KEY, v INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS claims(id INTEGER PRIMARY KEY, owner INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS ledger(seq INTEGER NOT NULL, writer INTEGER NOT NULL, "
    "op INTEGER NOT NULL, ts REAL NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL);";

/* Only for the queue workload, so that the other workloads' files keep their
 * page layout (tests/unit/test_sqlite.c damages chosen pages). */
static const char sq_queue_schema[] =
    "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY, priority INTEGER NOT NULL, "
    "status TEXT NOT NULL, owner INTEGER, payload TEXT NOT NULL, created_at REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS jobs_ready ON jobs(status, priority, id);";

#define HASH_HEX 64 /* lowercase hex SHA-256 */
#define LEDGER_FILE "ledger.jsonl"

/* Rows setup() creates for counter and bank; more is a scenario mistake. */
#define SQ_MAX_ROWS (1u << 24)

struct sq {
    sqlite3 *db;
    char events[PATH_MAX]; /* sqlite-events in the store directory */
    const struct variant_cfg *cfg;
    long long retry;
    bool relative;
    pthread_mutex_t mu;
    sqlite3_stmt *st[ST_COUNT];
};

/* ---- small things ------------------------------------------------------- */

static int errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return EBUSY;
    case SQLITE_IOERR: return EIO;
    case SQLITE_FULL: return ENOSPC;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return EBADMSG;
    case SQLITE_MISUSE: return EINVAL;
    case SQLITE_NOMEM: return ENOMEM;
    case SQLITE_CANTOPEN: return ENOENT;
    case SQLITE_READONLY:
    case SQLITE_PERM: return EACCES;
    case SQLITE_CONSTRAINT: return EEXIST;
    default: return EPROTO;
    }
}

static bool is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static void db_path(const struct contend_env *env, char *buf, size_t len)
{
    snprintf(buf, len, "%s/db.sqlite", env->store_dir);
}

static void events_path(const struct contend_env *env, char *buf, size_t len)
{
    snprintf(buf, len, "%s/sqlite-events", env->store_dir);
}

/* Note an error no correct program gets (see the top of the file).  The
 * message is sqlite3_errstr()'s: sqlite3_errmsg() of a shared connection
 * may be another thread's. */
static void note_error(const struct sq *s, int rc)
{
    const char *what = NULL;
    if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
        what = "corrupt";
    else if ((rc & 0xff) == SQLITE_MISUSE)
        what = "misuse";
    if (!what)
        return;
    char line[256];
    int n = snprintf(line, sizeof line, "%s %d %s\n", what, rc, sqlite3_errstr(rc));
    int fd = open(s->events, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) < 0) {
        /* Nothing to do: the op's own error is recorded in the history. */
    }
    close(fd);
}

/* A whole number, or -EINVAL. */
static int parse_ll(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (errno || end == text || *end)
        return -EINVAL;
    *out = v;
    return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run a PRAGMA that answers with one row, e.g. journal_mode, and copy it. */
static int pragma_answer(sqlite3 *db, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    out[0] = '\0';
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The journal mode and synchronous setting in force: the case's keys, or
 * the variant's defaults. */
static void modes(const struct contend_env *env, const struct variant_cfg *cfg, const char **jm,
                  const char **sync)
{
    *jm = contend_opt(env, "journal_mode", "");
    *sync = contend_opt(env, "synchronous", "");
    if (!**jm)
        *jm = cfg->journal_mode;
    if (!**sync)
        *sync = cfg->synchronous;
}

/* The case's busy_timeout (ms), for ops; -EINVAL when it is not a number. */
static int op_busy_timeout(const struct contend_env *env, int *ms)
{
    long long busy = 0;
    if (parse_ll(contend_opt(env, "busy_timeout", "10000"), &busy) != 0 || busy < 0 ||
        busy > INT_MAX)
        return -EINVAL;
    *ms = (int)busy;
    return 0;
}

/* Opening a connection (journal mode, schema, prepared statements) and
 * recovering after a kill wait for locks at least this long, whatever the
 * case's busy_timeout: that key is about ops.  With a short one (5 ms) four
 * workers opening at once on a loaded machine, or a restarted worker that
 * recovers while another commits, got SQLITE_BUSY and the case failed with
 * "cannot open target" or corrupt-store: a verdict of the machine's speed. */
#define SETUP_BUSY_MS 10000

/* Connection settings: the variant's defaults, overridden by the case's
 * keys.  Returns 0, or -EINVAL for a bad value, or -EIO when SQLite refuses
 * (the journal mode could not be set, say).  The connection is left with
 * the setup busy timeout: sq_open() sets the case's once it is ready. */
static int configure(sqlite3 *db, const struct contend_env *env, const struct variant_cfg *cfg)
{
    const char *jm, *sync;
    const char *cache = contend_opt(env, "cache_size", "");
    const char *mmap = contend_opt(env, "mmap_size", "");
    long long n;
    int busy;
    char sql[128], got[32];

    if (op_busy_timeout(env, &busy) != 0)
        return -EINVAL;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy > SETUP_BUSY_MS ? busy : SETUP_BUSY_MS);
    modes(env, cfg, &jm, &sync);

    /* WAL is a property of the file and needs no lock once set; the other
     * modes are per connection, so every connection sets its own. */
    snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", jm);
    if (pragma_answer(db, sql, got, sizeof got) != SQLITE_OK || strcasecmp(got, jm) != 0)
        return -EIO;
    snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", sync);
    if (exec_sql(db, sql) != SQLITE_OK)
        return -EIO;
    if (*cache) {
        if (parse_ll(cache, &n) != 0)
            return -EINVAL;
        snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", n);
        if (exec_sql(db, sql) != SQLITE_OK)
            return -EIO;
    }
    if (*mmap) {
        if (parse_ll(mmap, &n) != 0 || n < 0)
            return -EINVAL;
        snprintf(sql, sizeof sql, "PRAGMA mmap_size=%lld", n);
        if (exec_sql(db, sql) != SQLITE_OK)
            return -EIO;
    }
    return 0;
}

/* ---- statements ---------------------------------------------------------- */

/* A statement is used from bind to reset as one piece.  The threads of a
 * shared-conn-serialized worker share the connection's prepared statements,
 * and SQLite serializes each call but not the sequence: between one thread's
 * bind and its step, or its step and its column read, another could rebind,
 * step or reset the statement (and free the row being read).  Those would be
 * bugs of this file, not the variant's: the program it stands for (Python
 * with check_same_thread=False) has a cursor per thread and shares only the
 * connection, whose transaction and changes() are the bug.  So the sequence
 * holds the connection's own mutex.  Every other variant opens its
 * connections SQLITE_OPEN_NOMUTEX, whose mutex is NULL, and entering a NULL
 * mutex does nothing. */
static sqlite3_mutex *stmt_lock(struct sq *s)
{
    sqlite3_mutex *m = sqlite3_db_mutex(s->db);
    sqlite3_mutex_enter(m);
    return m;
}

/* Bind up to two integers, step to the end, keep the first row's first
 * `ncols` columns, reset.  Returns SQLITE_OK or the (extended) error. */
static int run(struct sq *s, enum stmt i, int nargs, int64_t a1, int64_t a2, int64_t *out,
               int ncols, bool *found)
{
    sqlite3_stmt *st = s->st[i];
    sqlite3_mutex *m = stmt_lock(s);
    int rc = SQLITE_OK;
    bool row = false;

    if (nargs > 0)
        rc = sqlite3_bind_int64(st, 1, a1);
    if (rc == SQLITE_OK && nargs > 1)
        rc = sqlite3_bind_int64(st, 2, a2);
    /* Step to SQLITE_DONE even after the row: a RETURNING statement in
     * autocommit commits only when it is run to completion. */
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < ncols && !row; c++)
            out[c] = sqlite3_column_int64(st, c);
        row = true;
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    sqlite3_mutex_leave(m);
    if (found)
        *found = row;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int simple(struct sq *s, enum stmt i)
{
    return run(s, i, 0, 0, 0, NULL, 0, NULL);
}

/* ---- ops ------------------------------------------------------------------ */

/* One attempt at an op's body, inside the transaction when the variant has
 * one.  Returns CONTEND_OK, or CONTEND_FAIL / CONTEND_INFO with *rc set;
 * sets *wrote once a write statement has succeeded. */
typedef int (*body_fn)(struct sq *s, struct contend_op *op, int *rc, bool *wrote);

static int fail_status(const struct sq *s, bool wrote)
{
    /* Inside a transaction the rollback undoes what was written; in
     * autocommit a write that succeeded is committed, so an op that failed
     * after one may have half happened. */
    return (wrote && s->cfg->tx == TX_NONE) ? CONTEND_INFO : CONTEND_FAIL;
}

static int attempt(struct sq *s, struct contend_op *op, body_fn body, int *rc)
{
    bool in_tx = s->cfg->tx != TX_NONE, wrote = false;
    int status;

    *rc = SQLITE_OK;
    if (in_tx) {
        *rc = simple(s, s->cfg->tx == TX_IMMEDIATE ? ST_BEGIN_IMMEDIATE : ST_BEGIN);
        if (*rc != SQLITE_OK) {
            status = CONTEND_FAIL;
            goto rollback;
        }
    }
    status = body(s, op, rc, &wrote);
    if (status != CONTEND_OK)
        goto rollback;
    if (in_tx && (*rc = simple(s, ST_COMMIT)) != SQLITE_OK) {
        /* A busy COMMIT leaves the transaction open and uncommitted; any
         * other failure may come after the commit record was written. */
        status = is_busy(*rc) ? CONTEND_FAIL : CONTEND_INFO;
        goto rollback;
    }
    return CONTEND_OK;
rollback:
    /* Always, as `except: rollback` code does: on a connection of one's own
     * a no-op after a failed BEGIN; on a shared one, another thread's loss. */
    if (in_tx)
        simple(s, ST_ROLLBACK);
    return status == CONTEND_FAIL ? fail_status(s, wrote) : status;
}

/* Run an op, again after SQLITE_BUSY when `retry` allows, counting retries. */
static int with_retry(struct sq *s, struct contend_op *op, body_fn body)
{
    for (;;) {
        int rc, status = attempt(s, op, body, &rc);
        if (status == CONTEND_OK)
            return status;
        note_error(s, rc);
        op->err = errno_of(rc);
        if (status != CONTEND_FAIL || !is_busy(rc) || op->retries >= s->retry)
            return status;
        op->retries++;
        op->err = 0;
    }
}

static int incr_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    int64_t v = 0;
    bool found;
    if (s->relative && s->cfg->tx == TX_NONE) {
        /* One statement: the read and the write cannot be separated. */
        if ((*rc = run(s, ST_CTR_ADD, 1, (int64_t)op->key, 0, &v, 1, &found)) != SQLITE_OK)
            return CONTEND_FAIL;
        op->value = found ? v : -1;
        return CONTEND_OK;
    }
    if ((*rc = run(s, ST_CTR_GET, 1, (int64_t)op->key, 0, &v, 1, &found)) != SQLITE_OK)
        return CONTEND_FAIL;
    v = (found ? v : 0) + 1;
    /* Between the read above and the write below is the race, unless the
     * transaction holds the write lock. */
    contend_point("sqlite:read-modify-write");
    if ((*rc = run(s, ST_CTR_SET, 2, (int64_t)op->key, v, NULL, 0, NULL)) != SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = true;
    op->value = v;
    return CONTEND_OK;
}

static int read_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    int64_t v = 0;
    bool found;
    (void)wrote;
    if ((*rc = run(s, ST_CTR_GET, 1, (int64_t)op->key, 0, &v, 1, &found)) != SQLITE_OK)
        return CONTEND_FAIL;
    op->value = found ? v : 0;
    return CONTEND_OK;
}

static int transfer_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    int64_t from = 0, to = 0, amount = op->arg;
    bool found_from, found_to;
    if ((*rc = run(s, ST_ACC_GET, 1, (int64_t)op->key, 0, &from, 1, &found_from)) != SQLITE_OK ||
        (*rc = run(s, ST_ACC_GET, 1, (int64_t)op->key2, 0, &to, 1, &found_to)) != SQLITE_OK)
        return CONTEND_FAIL;
    if (!found_from || !found_to) {
        *rc = SQLITE_NOTFOUND;
        return CONTEND_FAIL;
    }
    if (from < amount || op->key == op->key2) {
        op->value = from >= amount; /* declined, or a transfer to itself */
        return CONTEND_OK;
    }
    /* The check above and the writes below must be one atomic step. */
    contend_point("sqlite:transfer");
    if (s->relative && s->cfg->tx == TX_NONE) {
        *rc = run(s, ST_ACC_ADD, 2, (int64_t)op->key, -amount, NULL, 0, NULL);
        if (*rc == SQLITE_OK) {
            *wrote = true;
            *rc = run(s, ST_ACC_ADD, 2, (int64_t)op->key2, amount, NULL, 0, NULL);
        }
    } else {
        *rc = run(s, ST_ACC_SET, 2, (int64_t)op->key, from - amount, NULL, 0, NULL);
        if (*rc == SQLITE_OK) {
            *wrote = true;
            *rc = run(s, ST_ACC_SET, 2, (int64_t)op->key2, to + amount, NULL, 0, NULL);
        }
    }
    if (*rc != SQLITE_OK)
        return CONTEND_FAIL;
    op->value = 1;
    return CONTEND_OK;
}

static int read_all_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    int64_t v[2] = {0, 0};
    (void)wrote;
    /* One statement reads every balance from one snapshot. */
    if ((*rc = run(s, ST_ACC_ALL, 0, 0, 0, v, 2, NULL)) != SQLITE_OK)
        return CONTEND_FAIL;
    op->value = v[0];
    op->value2 = (uint64_t)v[1];
    return CONTEND_OK;
}

/* Done right: the insert itself says whether it inserted. */
static int claim_insert_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    if ((*rc = run(s, ST_CLAIM_INS, 2, (int64_t)op->key, (int64_t)op->id, NULL, 0, NULL)) !=
        SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = true;
    /* changes() belongs to the connection: on a shared one, another thread's
     * statement may have run since ours. */
    contend_point("sqlite:claim-changes");
    op->value = sqlite3_changes(s->db) > 0;
    return CONTEND_OK;
}

/* is_seen() then mark_seen().  In a deferred transaction the insert fails
 * with SQLITE_BUSY when another claim committed since the read, and
 * changes() has the last word; in autocommit the caller trusts its read. */
static int claim_select_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    int64_t owner;
    bool taken;
    if ((*rc = run(s, ST_CLAIM_GET, 1, (int64_t)op->key, 0, &owner, 1, &taken)) != SQLITE_OK)
        return CONTEND_FAIL;
    if (taken) {
        op->value = 0;
        return CONTEND_OK;
    }
    contend_point("sqlite:claim-check-then-insert");
    if ((*rc = run(s, ST_CLAIM_INS, 2, (int64_t)op->key, (int64_t)op->id, NULL, 0, NULL)) !=
        SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = true;
    op->value = s->cfg->tx == TX_NONE ? 1 : sqlite3_changes(s->db) > 0;
    return CONTEND_OK;
}

/* ---- the ledger ------------------------------------------------------------ */

/* A record without its hash member, in canonical form (keys sorted, no
 * whitespace, non-ASCII escaped, ts as Python's repr of the double):
 *   {"op":ID,"payload":TEXT,"prev_hash":P,"seq":N,"ts":T,"writer":W}
 * The append hashes exactly these bytes; the export writes them back from
 * the row with the stored hash in front, so the checker recomputes the same
 * hash from the line, or finds the row was not the append's.  Returns 0, or
 * -EILSEQ when a text is not UTF-8. */
static int record_body(struct contend_sbuf *b, int64_t op, const char *payload, size_t plen,
                       const char *prev, size_t prev_len, int64_t seq, double ts, int64_t writer)
{
    char num[64], tsbuf[CONTEND_CANON_DOUBLE_MAX];
    int n = snprintf(num, sizeof num, "{\"op\":%lld,\"payload\":", (long long)op);
    contend_sbuf_add(b, num, (size_t)n);
    if (contend_canon_string(b, payload, plen) != 0)
        return -EILSEQ;
    contend_sbuf_add(b, ",\"prev_hash\":", 13);
    if (contend_canon_string(b, prev, prev_len) != 0)
        return -EILSEQ;
    n = snprintf(num, sizeof num, ",\"seq\":%lld,\"ts\":", (long long)seq);
    contend_sbuf_add(b, num, (size_t)n);
    contend_sbuf_add(b, tsbuf, (size_t)contend_canon_double(ts, tsbuf));
    n = snprintf(num, sizeof num, ",\"writer\":%lld}", (long long)writer);
    contend_sbuf_add(b, num, (size_t)n);
    return 0;
}

static int sha256_hex(const void *p, size_t n, char hex[HASH_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(p, n, d, &len, EVP_sha256(), NULL) || len != HASH_HEX / 2)
        return -EIO;
    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[HASH_HEX] = '\0';
    return 0;
}

/* Wall-clock seconds, to the millisecond, as jsonl-ledger writes them. */
static double ledger_ts(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) / 1000.0;
}

/* The last row's seq and hash; for an empty ledger seq -1 and 64 zeros, the
 * first record's prev_hash.  The hash is a pointer into the statement's row,
 * copied before the reset: under stmt_lock() (see run()). */
static int last_record(struct sq *s, int64_t *seq, char hash[HASH_HEX + 1])
{
    sqlite3_stmt *st = s->st[ST_LEDGER_LAST];
    sqlite3_mutex *m = stmt_lock(s);
    int rc = sqlite3_step(st);
    *seq = -1;
    memset(hash, '0', HASH_HEX);
    hash[HASH_HEX] = '\0';
    if (rc == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        if (!h || sqlite3_column_bytes(st, 1) != HASH_HEX)
            rc = SQLITE_MISMATCH; /* not a hash: the program stops, as a real one would */
        else
            memcpy(hash, h, HASH_HEX);
        if (rc == SQLITE_ROW)
            rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    sqlite3_mutex_leave(m);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_record(struct sq *s, const struct contend_op *op, int64_t seq, double ts,
                         const char *prev, const char *hash)
{
    sqlite3_stmt *st = s->st[ST_LEDGER_INS];
    sqlite3_mutex *m = stmt_lock(s);
    int rc = sqlite3_bind_int64(st, 1, seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, op->writer);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, (int64_t)op->id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_double(st, 4, ts);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 5, op->buf, (int)op->buf_len, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 6, prev, HASH_HEX, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 7, hash, HASH_HEX, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->db);
    sqlite3_reset(st);
    sqlite3_mutex_leave(m);
    return rc;
}

/* append(payload): read the last hash, chain a record onto it.  The record
 * is built per op (the variants that share a connection across threads
 * must not share a buffer of ours too: their bug is SQLite's, not this
 * file's). */
static int append_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    struct contend_sbuf b = {0};
    char prev[HASH_HEX + 1], hash[HASH_HEX + 1];
    int64_t seq;

    if ((*rc = last_record(s, &seq, prev)) != SQLITE_OK)
        return CONTEND_FAIL;
    /* Between learning the last hash and inserting the row that names it
     * is the race, unless the transaction holds the write lock. */
    contend_point("sqlite:read-last-hash->insert");
    seq++;
    double ts = ledger_ts();
    int e =
        record_body(&b, (int64_t)op->id, op->buf, op->buf_len, prev, HASH_HEX, seq, ts, op->writer);
    if (e == 0)
        e = sha256_hex(b.p, b.n, hash);
    contend_sbuf_free(&b);
    if (e != 0) {
        *rc = SQLITE_MISMATCH;
        return CONTEND_FAIL;
    }
    if ((*rc = insert_record(s, op, seq, ts, prev, hash)) != SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = true;
    op->value = seq;
    return CONTEND_OK;
}

/* ---- the job queue ---------------------------------------------------------- */

/* Run a job statement: ?1 = a1, ?2 = the payload (text) or a2 (integer);
 * the first row's (id, payload) go to op->value and op->buf.  Like run(),
 * stepped to the end so that an autocommit RETURNING commits. */
static int job_run(struct sq *s, enum stmt i, int64_t a1, int64_t a2, bool text,
                   struct contend_op *op, bool *found)
{
    sqlite3_stmt *st = s->st[i];
    sqlite3_mutex *m = stmt_lock(s);
    int np = sqlite3_bind_parameter_count(st), rc = SQLITE_OK;
    bool row = false;

    if (np > 0)
        rc = sqlite3_bind_int64(st, 1, a1);
    if (rc == SQLITE_OK && np > 1)
        rc = text ? sqlite3_bind_text(st, 2, op->buf, (int)op->buf_len, SQLITE_STATIC)
                  : sqlite3_bind_int64(st, 2, a2);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!row && sqlite3_column_count(st) >= 2) {
            const void *p = sqlite3_column_text(st, 1);
            int n = sqlite3_column_bytes(st, 1);
            op->value = sqlite3_column_int64(st, 0);
            op->buf_len = p && n > 0 && (uint32_t)n <= op->buf_cap ? (uint32_t)n : 0;
            if (op->buf_len)
                memcpy(op->buf, p, op->buf_len);
        }
        row = true;
        rc = SQLITE_OK;
    }
    sqlite3_clear_bindings(st);
    sqlite3_reset(st);
    sqlite3_mutex_leave(m);
    if (found)
        *found = row;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int enqueue_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    if ((*rc = job_run(s, ST_JOB_ADD, (int64_t)op->key, 0, true, op, NULL)) != SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = true;
    return CONTEND_OK;
}

/* Done right: one UPDATE ... RETURNING chooses the job and takes it. */
static int take_update_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    bool found;
    op->value = -1;
    op->buf_len = 0;
    if ((*rc = job_run(s, ST_JOB_TAKE, op->writer, 0, false, op, &found)) != SQLITE_OK)
        return CONTEND_FAIL;
    *wrote = found;
    if (!found)
        op->value = -1;
    return CONTEND_OK;
}

/* SELECT the next job, then UPDATE it as taken: in autocommit two
 * consumers select the same job and both take it. */
static int take_select_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    bool found;
    op->value = -1;
    op->buf_len = 0;
    if ((*rc = job_run(s, ST_JOB_NEXT, 0, 0, false, op, &found)) != SQLITE_OK)
        return CONTEND_FAIL;
    if (!found) {
        op->value = -1;
        return CONTEND_OK;
    }
    contend_point("sqlite:select-then-take");
    uint32_t len = op->buf_len; /* the statement below returns no row */
    if ((*rc = job_run(s, ST_JOB_MARK, op->value, op->writer, false, op, NULL)) != SQLITE_OK)
        return CONTEND_FAIL;
    op->buf_len = len;
    *wrote = true;
    return CONTEND_OK;
}

/* An ack changes the job only while this consumer holds it. */
static int ack_body(struct sq *s, struct contend_op *op, int *rc, bool *wrote)
{
    if ((*rc = job_run(s, ST_JOB_ACK, (int64_t)op->key, op->writer, false, op, NULL)) != SQLITE_OK)
        return CONTEND_FAIL;
    if (sqlite3_changes(s->db) == 0) {
        *rc = SQLITE_NOTFOUND;
        return CONTEND_FAIL;
    }
    *wrote = true;
    return CONTEND_OK;
}

static int dispatch(struct sq *s, struct contend_op *op)
{
    bool queue_op = op->kind == CONTEND_OP_ENQUEUE || op->kind == CONTEND_OP_DEQUEUE ||
                    op->kind == CONTEND_OP_ACK;
    if (queue_op && !s->st[ST_JOB_ADD]) {
        op->err = ENOTSUP; /* opened for another workload */
        return CONTEND_FAIL;
    }
    switch (op->kind) {
    case CONTEND_OP_INCR: return with_retry(s, op, incr_body);
    case CONTEND_OP_TRANSFER: return with_retry(s, op, transfer_body);
    case CONTEND_OP_CLAIM:
        return with_retry(s, op,
                          s->cfg->tx == TX_IMMEDIATE ? claim_insert_body : claim_select_body);
    case CONTEND_OP_APPEND: return with_retry(s, op, append_body);
    case CONTEND_OP_ENQUEUE: return with_retry(s, op, enqueue_body);
    case CONTEND_OP_DEQUEUE:
        return with_retry(s, op, s->cfg->tx == TX_NONE ? take_select_body : take_update_body);
    case CONTEND_OP_ACK: return with_retry(s, op, ack_body);
    default: break;
    }
    /* Reads are one statement, a consistent snapshot without a transaction. */
    int rc, status = CONTEND_FAIL;
    bool wrote = false;
    if (op->kind == CONTEND_OP_READ)
        status = read_body(s, op, &rc, &wrote);
    else if (op->kind == CONTEND_OP_READ_ALL)
        status = read_all_body(s, op, &rc, &wrote);
    else
        rc = SQLITE_MISUSE;
    bool known = op->kind == CONTEND_OP_READ || op->kind == CONTEND_OP_READ_ALL;
    if (status != CONTEND_OK && known)
        note_error(s, rc);
    if (status != CONTEND_OK)
        op->err = known ? errno_of(rc) : ENOTSUP;
    return status;
}

static int sq_apply(void *handle, struct contend_op *op)
{
    struct sq *s = handle;
    if (!s->cfg->mutex)
        return dispatch(s, op);
    pthread_mutex_lock(&s->mu);
    int status = dispatch(s, op);
    pthread_mutex_unlock(&s->mu);
    return status;
}

/* ---- open, close, setup ------------------------------------------------- */

static void sq_close(void *handle)
{
    struct sq *s = handle;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int sq_open(const struct contend_env *env, void **handle)
{
    char path[PATH_MAX];
    struct sq *s = calloc(1, sizeof *s);
    int rc = 0;

    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->cfg = &sq_cfg[env->variant_index];
    s->relative = strcmp(contend_opt(env, "rmw_write", "absolute"), "relative") == 0;
    if (parse_ll(contend_opt(env, "retry", "0"), &s->retry) != 0 || s->retry < 0) {
        rc = -EINVAL;
        goto fail;
    }
    db_path(env, path, sizeof path);
    events_path(env, s->events, sizeof s->events);
    int flags =
        SQLITE_OPEN_READWRITE | (s->cfg->fullmutex ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = -errno_of(sqlite3_errcode(s->db));
        goto fail;
    }
    if ((rc = configure(s->db, env, s->cfg)) != 0)
        goto fail;
    bool queue = strcmp(env->workload, "queue") == 0;
    for (int i = 0; i < ST_COUNT; i++) {
        bool job_stmt = i >= ST_JOB_ADD && i <= ST_JOB_ACK;
        if (job_stmt && !queue)
            continue; /* no jobs table: queue ops are not supported */
        if (sqlite3_prepare_v3(s->db, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
            SQLITE_OK) {
            rc = -errno_of(sqlite3_errcode(s->db));
            goto fail;
        }
    }
    int busy = 0;
    if ((rc = op_busy_timeout(env, &busy)) != 0)
        goto fail;
    sqlite3_busy_timeout(s->db, busy);
    *handle = s;
    return 0;
fail:
    sq_close(s);
    return rc;
}

/* Rows 0..n-1 of `sql` (an INSERT with ?1 = row, ?2 = value) in one
 * transaction. */
static int fill(sqlite3 *db, const char *sql, uint64_t n, int64_t value)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    for (uint64_t i = 0; i < n && rc == SQLITE_OK; i++) {
        sqlite3_bind_int64(st, 1, (int64_t)i);
        sqlite3_bind_int64(st, 2, value);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_setup(const struct contend_env *env)
{
    char path[PATH_MAX];
    sqlite3 *db = NULL;
    bool counter = strcmp(env->workload, "counter") == 0;
    bool bank = strcmp(env->workload, "bank") == 0;
    int rc;

    if ((counter || bank) && env->keys > SQ_MAX_ROWS)
        return -EFBIG;
    db_path(env, path, sizeof path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = -errno_of(sqlite3_errcode(db));
        goto out;
    }
    if ((rc = configure(db, env, &sq_cfg[env->variant_index])) != 0)
        goto out;
    rc = exec_sql(db, "BEGIN");
    if (rc == SQLITE_OK)
        rc = exec_sql(db, sq_schema);
    if (rc == SQLITE_OK && strcmp(env->workload, "queue") == 0)
        rc = exec_sql(db, sq_queue_schema);
    if (rc == SQLITE_OK && counter)
        rc = fill(db, "INSERT INTO counters(k, v) VALUES (?1, ?2)", env->keys, 0);
    if (rc == SQLITE_OK && bank)
        rc = fill(db, "INSERT INTO accounts(id, balance) VALUES (?1, ?2)", env->keys,
                  CONTEND_BANK_INITIAL);
    if (rc == SQLITE_OK)
        rc = exec_sql(db, "COMMIT");
    rc = rc == SQLITE_OK ? 0 : -errno_of(rc);
out:
    sqlite3_close_v2(db);
    return rc;
}

/* The table a workload's ops go to. */
static const char *table_of(const char *workload)
{
    if (strcmp(workload, "bank") == 0)
        return "accounts";
    if (strcmp(workload, "claim") == 0)
        return "claims";
    if (strcmp(workload, "ledger") == 0)
        return "ledger";
    if (strcmp(workload, "queue") == 0)
        return "jobs";
    return "counters";
}

/* What the program does when it starts again after a crash: open the
 * database and query it.  The first read rolls a hot journal back, or
 * rebuilds the WAL index from the WAL; SQLite's own recovery, nothing of
 * ours.  An error here (SQLITE_CORRUPT, say) is a store the program cannot
 * start on. */
static int sq_recover(const struct contend_env *env)
{
    char path[PATH_MAX], sql[192];
    sqlite3 *db = NULL;
    int rc;

    db_path(env, path, sizeof path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = -errno_of(sqlite3_errcode(db));
        goto out;
    }
    if ((rc = configure(db, env, &sq_cfg[env->variant_index])) != 0)
        goto out;
    if (strcmp(env->workload, "queue") == 0) {
        /* The consumers of this worker died: their jobs go back to the queue
         * (at-least-once).  After a power cut the recovery worker runs as
         * worker 0; the others release theirs as they restart. */
        uint32_t w = env->worker == UINT32_MAX ? 0 : env->worker;
        snprintf(sql, sizeof sql,
                 "UPDATE jobs SET status = 'queued', owner = NULL WHERE status = 'taken' "
                 "AND owner BETWEEN %llu AND %llu",
                 (unsigned long long)w * env->threads,
                 (unsigned long long)w * env->threads + env->threads - 1);
    } else {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table_of(env->workload));
    }
    rc = exec_sql(db, sql);
    rc = rc == SQLITE_OK ? 0 : -errno_of(rc);
out:
    sqlite3_close_v2(db);
    return rc;
}

/* Whether the case's settings promise that a commit, once acknowledged,
 * survives a power cut (see the top of the file): synchronous FULL or EXTRA
 * with a journal on disk. */
static int sq_durable(const struct contend_env *env)
{
    const char *jm, *sync;
    if (env->variant_index < 0 || env->variant_index >= V_COUNT)
        return 0;
    modes(env, &sq_cfg[env->variant_index], &jm, &sync);
    if (strcasecmp(jm, "memory") == 0 || strcasecmp(jm, "off") == 0)
        return 0;
    return strcasecmp(sync, "full") == 0 || strcasecmp(sync, "extra") == 0;
}

/* ---- final state ---------------------------------------------------------- */

/* What the workers noted in sqlite-events. */
struct events {
    uint64_t corrupt, misuse;
    char first_corrupt[160], first_misuse[160];
};

static void read_events(const struct contend_env *env, struct events *ev)
{
    char path[PATH_MAX], line[256];
    memset(ev, 0, sizeof *ev);
    events_path(env, path, sizeof path);
    FILE *f = fopen(path, "re");
    while (f && fgets(line, sizeof line, f)) {
        /* "corrupt 11 database disk image is malformed" */
        line[strcspn(line, "\n")] = '\0';
        char *msg = line + strcspn(line, " ");
        msg += strspn(msg, " ");
        msg += strcspn(msg, " ");
        msg += strspn(msg, " ");
        if (strncmp(line, "corrupt ", 8) == 0 && ev->corrupt++ == 0)
            snprintf(ev->first_corrupt, sizeof ev->first_corrupt, "%s", msg);
        else if (strncmp(line, "misuse ", 7) == 0 && ev->misuse++ == 0)
            snprintf(ev->first_misuse, sizeof ev->first_misuse, "%s", msg);
    }
    if (f)
        fclose(f);
}

static void report_misuse(const struct events *ev, const struct contend_sink *sink)
{
    char why[512];
    if (ev->corrupt)
        sink->stat(sink->ctx, "sqlite_corrupt", (double)ev->corrupt);
    if (!ev->misuse)
        return;
    sink->stat(sink->ctx, "sqlite_misuse", (double)ev->misuse);
    snprintf(why, sizeof why,
             "SQLite reported API misuse %llu time(s) during the run (%s): a "
             "connection was used in a way SQLite forbids, such as by two threads at once",
             (unsigned long long)ev->misuse, ev->first_misuse);
    sink->violation(sink->ctx, "misuse", ev->misuse, why);
}

/* PRAGMA integrity_check must answer one row, "ok".  Anything else, or a
 * worker's op that got SQLITE_CORRUPT, is the store's own verdict that it is
 * damaged (on disk or in a connection's memory). */
static void check_integrity(sqlite3 *db, const struct events *ev, const struct contend_sink *sink)
{
    sqlite3_stmt *st;
    char msg[1024] = "";
    size_t used = 0;
    uint64_t problems = 0;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);

    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            if (t && strcmp(t, "ok") == 0)
                continue;
            if (problems++ < 3 && used < sizeof msg)
                used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s", used ? "; " : "",
                                         t ? t : "?");
        }
        sqlite3_finalize(st);
    }
    char live[256] = "", why[1500];
    if (ev->corrupt)
        snprintf(live, sizeof live, "; during the run %llu op(s) got SQLITE_CORRUPT (%s)",
                 (unsigned long long)ev->corrupt, ev->first_corrupt);
    if (rc != SQLITE_DONE) {
        snprintf(why, sizeof why, "PRAGMA integrity_check could not run: %s%s", sqlite3_errmsg(db),
                 live);
        sink->violation(sink->ctx, "integrity", 1 + ev->corrupt, why);
    } else if (problems) {
        snprintf(why, sizeof why, "PRAGMA integrity_check found %llu problem(s): %s%s%s",
                 (unsigned long long)problems, msg, problems > 3 ? "; ..." : "", live);
        sink->violation(sink->ctx, "integrity", problems + ev->corrupt, why);
    } else if (ev->corrupt) {
        snprintf(why, sizeof why,
                 "PRAGMA integrity_check says ok afterwards, but %s: a "
                 "connection found damaged pages in its own memory",
                 live + 2);
        sink->violation(sink->ctx, "integrity", ev->corrupt, why);
    }
}

/* The files of a database: SQLite's names for them. */
static const char *const sq_files[] = {"db.sqlite", "db.sqlite-journal", "db.sqlite-wal",
                                       "db.sqlite-shm", NULL};

/* Copy `from` to the new file `to`.  -ENOENT when `from` does not exist. */
static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int rc = 0, out = -1, in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
        rc = -errno;
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        for (ssize_t done = 0; rc == 0 && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR)
                rc = -errno;
            else if (w > 0)
                done += w;
        }
    }
    if (out >= 0)
        close(out);
    close(in);
    return rc;
}

/* Remove a copy's directory and whatever SQLite left in it. */
static void remove_copy(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dirfd(d), de->d_name, 0);
    if (d)
        closedir(d);
    rmdir(dir);
}

/* The store's database files, copied into a fresh directory `dir` inside
 * the store (see the top of the file for why).  Returns 0, or -errno; on
 * error nothing is left behind. */
static int copy_store(const struct contend_env *env, char *dir, size_t len)
{
    char from[PATH_MAX], to[PATH_MAX];
    int rc = 0;
    if ((size_t)snprintf(dir, len, "%s/.read-state-XXXXXX", env->store_dir) >= len)
        return -ENAMETOOLONG;
    if (!mkdtemp(dir))
        return -errno;
    for (size_t i = 0; rc == 0 && sq_files[i]; i++) {
        snprintf(from, sizeof from, "%s/%s", env->store_dir, sq_files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, sq_files[i]);
        rc = copy_file(from, to);
        if (rc == -ENOENT && i > 0)
            rc = 0; /* no journal, no WAL: nothing to copy */
    }
    if (rc)
        remove_copy(dir);
    return rc;
}

/* Write the ledger table, in rowid order, to store/ledger.jsonl: one record
 * a line, canonical, with the stored hash (export_line below). */
static int export_ledger(sqlite3 *db, const struct contend_env *env)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    struct contend_sbuf b = {0};
    sqlite3_stmt *st = NULL;
    FILE *f = NULL;
    int rc;

    snprintf(path, sizeof path, "%s/" LEDGER_FILE, env->store_dir);
    snprintf(tmp, sizeof tmp, "%s/" LEDGER_FILE ".export", env->store_dir);
    rc = sqlite3_prepare_v2(db,
                            "SELECT seq, writer, op, ts, payload, prev_hash, hash FROM ledger "
                            "ORDER BY rowid",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -errno_of(rc);
    if (!(f = fopen(tmp, "we"))) {
        rc = -errno;
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *payload = (const char *)sqlite3_column_text(st, 4);
        int plen = sqlite3_column_bytes(st, 4);
        const char *prev = (const char *)sqlite3_column_text(st, 5);
        int prev_len = sqlite3_column_bytes(st, 5);
        const char *hash = (const char *)sqlite3_column_text(st, 6);
        int hash_len = sqlite3_column_bytes(st, 6);
        b.n = 0;
        contend_sbuf_add(&b, "{\"hash\":", 8);
        /* A damaged row is exported as it is, for the checker to judge; a
         * text that is not UTF-8 is written as an empty string. */
        if (contend_canon_string(&b, hash ? hash : "", (size_t)hash_len) != 0)
            contend_sbuf_add(&b, "\"\"", 2);
        contend_sbuf_add(&b, ",", 1);
        size_t body = b.n;
        if (record_body(&b, sqlite3_column_int64(st, 2), payload ? payload : "", (size_t)plen,
                        prev ? prev : "", (size_t)prev_len, sqlite3_column_int64(st, 0),
                        sqlite3_column_double(st, 3), sqlite3_column_int64(st, 1)) != 0) {
            b.n = body;
            record_body(&b, sqlite3_column_int64(st, 2), "", 0, "", 0, sqlite3_column_int64(st, 0),
                        sqlite3_column_double(st, 3), sqlite3_column_int64(st, 1));
        }
        /* "{"hash":H," + the body without its '{'. */
        memmove(b.p + body, b.p + body + 1, b.n - body - 1);
        b.n -= 1;
        contend_sbuf_add(&b, "\n", 1);
        if (fwrite(b.p, 1, b.n, f) != b.n) {
            rc = -EIO;
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -errno_of(rc);
out:
    if (f && fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    contend_sbuf_free(&b);
    sqlite3_finalize(st);
    return rc;
}

/* Report every row of the workload's table through the sink. */
static int report_rows(sqlite3 *db, const struct contend_env *env, const struct contend_sink *sink)
{
    const char *sql = "SELECT k, v FROM counters";
    sqlite3_stmt *st = NULL;
    if (strcmp(env->workload, "bank") == 0)
        sql = "SELECT id, balance FROM accounts";
    else if (strcmp(env->workload, "claim") == 0)
        sql = "SELECT id, owner FROM claims";
    else if (strcmp(env->workload, "queue") == 0)
        sql = "SELECT id, CASE status WHEN 'queued' THEN -1 WHEN 'done' THEN -2 "
              "ELSE coalesce(owner, -3) END FROM jobs";
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sink->value(sink->ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -errno_of(rc);
}

static int sq_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    char copy[PATH_MAX], path[PATH_MAX + 16];
    sqlite3 *db = NULL;
    struct events ev;
    int rc;

    read_events(env, &ev);
    report_misuse(&ev, sink);
    if ((rc = copy_store(env, copy, sizeof copy)) != 0)
        return rc;
    snprintf(path, sizeof path, "%s/db.sqlite", copy);
    /* Read-write: a worker that died mid-transaction left a hot journal or
     * WAL that opening rolls back or recovers, as the real program would;
     * in the copy, so the store stays as the workers left it. */
    rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        check_integrity(db, &ev, sink);
        rc = strcmp(env->workload, "ledger") == 0 ? export_ledger(db, env)
                                                  : report_rows(db, env, sink);
    } else {
        rc = -errno_of(rc);
    }
    sqlite3_close_v2(db);
    remove_copy(copy);
    return rc;
}

const struct contend_target contend_target_sqlite = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "sqlite",
    .help = "an SQLite database (WAL or rollback journal) shared by processes and threads",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_NO_OVERDRAFT,
    .variants = sq_variants,
    .workloads = sq_workloads,
    .options = sq_options,
    .setup = sq_setup,
    .open = sq_open,
    .apply = sq_apply,
    .close = sq_close,
    .recover = sq_recover,
    .read_state = sq_read_state,
    .durable = sq_durable,
};
CONTEND_TARGET_REGISTER(contend_target_sqlite)
