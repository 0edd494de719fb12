/*
 * test_sqlite_faults.c - the sqlite target under faults, and its ledger:
 *
 *   - durable(): which journal_mode x synchronous settings promise that an
 *     acknowledged commit survives a power cut;
 *   - read_state() leaves the store as the workers left it (a hot journal,
 *     an un-checkpointed WAL), reading a copy that SQLite recovers;
 *   - recover() rolls a hot journal back, and rebuilds the WAL index from
 *     the WAL whatever a stale -shm holds, also after the WAL lost frames;
 *   - the ledger: rows exported to store/ledger.jsonl that the chain
 *     checker accepts, a tampered row is a bad hash, and two appends that
 *     read the same last hash fork the chain in autocommit but not in an
 *     IMMEDIATE transaction (interleaved deterministically with the
 *     perturbation-point hook).
 *
 * A worker killed mid-transaction is a child process that _exit()s with its
 * connection open: no rollback, no checkpoint, as after SIGKILL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "chain.h"
#include "helpers.h"
#include "point.h"
#include "registry.h"

#include "sqlite_kit.h"

/* The bytes of a file, or NULL (*len = 0) when it does not exist. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char *path = contend_asprintf("%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    free(path);
    *len = 0;
    if (fd < 0)
        return NULL;
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = malloc((size_t)st.st_size + 1);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static bool exists(const char *dir, const char *name)
{
    char *path = contend_asprintf("%s/%s", dir, name);
    bool yes = access(path, F_OK) == 0;
    free(path);
    return yes;
}

/* Nothing but the store's own files: no copy left behind by read_state. */
static void assert_no_copies(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        assert_null(strstr(de->d_name, "read-state"));
    closedir(d);
}

static void run_sql(const char *dir, const char *sql)
{
    char *path = contend_asprintf("%s/db.sqlite", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(path);
}

/* ---- durable() ---------------------------------------------------------- */

static void test_durable_by_settings(void **state)
{
    (void)state;
    static const struct {
        const char *variant, *journal_mode, *synchronous;
        bool durable;
    } cases[] = {
        {"wal-immediate", NULL, NULL, false}, /* WAL, NORMAL: may roll back */
        {"wal-immediate", NULL, "full", true},
        {"wal-immediate", NULL, "EXTRA", true},
        {"wal-immediate", NULL, "off", false},
        {"rollback-immediate", NULL, NULL, true}, /* DELETE, FULL */
        {"rollback-immediate", NULL, "normal", false},
        {"rollback-immediate", NULL, "extra", true},
        {"rollback-immediate", "truncate", NULL, true},
        {"rollback-immediate", "memory", "full", false},
        {"rollback-immediate", "off", "extra", false},
        {"autocommit-rmw", NULL, "full", true},
        {"shared-conn-mutex", "delete", NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct env e;
        env_init(&e, "/nonexistent", cases[i].variant, "counter", 1);
        if (cases[i].journal_mode)
            env_opt(&e, "journal_mode", cases[i].journal_mode);
        if (cases[i].synchronous)
            env_opt(&e, "synchronous", cases[i].synchronous);
        if (contend_target_durable(target(), &e.env) != cases[i].durable)
            fail_msg("%s journal_mode=%s synchronous=%s: expected %s", cases[i].variant,
                     cases[i].journal_mode ? cases[i].journal_mode : "(variant's)",
                     cases[i].synchronous ? cases[i].synchronous : "(variant's)",
                     cases[i].durable ? "durable" : "not durable");
    }
    assert_non_null(target()->durable);
    for (const struct contend_variant *v = target()->variants; v->name; v++)
        assert_false(v->flags & CONTEND_VARIANT_DURABLE); /* durable() decides */
}

/* ---- a worker that dies mid-transaction ---------------------------------- */

/* In a child: a transaction on every account, spilled to the database file
 * (a one-page cache cannot hold it), never committed; then die. */
static void die_mid_transaction(const char *dir)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char path[4096];
        sqlite3 *db;
        snprintf(path, sizeof path, "%s/db.sqlite", dir);
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "PRAGMA cache_size=2; BEGIN IMMEDIATE; "
                         "UPDATE accounts SET balance = balance + 7",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_hot_journal(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlitef");
    struct env e;
    struct collected c;
    size_t db0_len, db1_len, j_len, db2_len, j2_len;
    env_init(&e, dir, "rollback-immediate", "bank", 2000);
    assert_int_equal(target()->setup(&e.env), 0);
    char *db0 = slurp(dir, "db.sqlite", &db0_len);

    die_mid_transaction(dir);
    char *db1 = slurp(dir, "db.sqlite", &db1_len);
    char *journal = slurp(dir, "db.sqlite-journal", &j_len);
    assert_non_null(journal);                                          /* hot: the dead writer's */
    assert_true(db1_len != db0_len || memcmp(db0, db1, db0_len) != 0); /* spilled */

    /* read_state sees the rolled-back state, in its copy... */
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(c.n, 2000);
    assert_int_equal(total(&c), 2000 * CONTEND_BANK_INITIAL);
    /* ...and leaves the store's files as they were. */
    char *db2 = slurp(dir, "db.sqlite", &db2_len);
    char *j2 = slurp(dir, "db.sqlite-journal", &j2_len);
    assert_non_null(j2);
    assert_true(db2_len == db1_len && memcmp(db1, db2, db1_len) == 0);
    assert_true(j2_len == j_len && memcmp(journal, j2, j_len) == 0);
    assert_no_copies(dir);

    /* recover() is SQLite's rollback of the hot journal, in the store. */
    assert_int_equal(target()->recover(&e.env), 0);
    assert_false(exists(dir, "db.sqlite-journal"));
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(value_of(&c, 1999), CONTEND_BANK_INITIAL);
    free(db0);
    free(db1);
    free(db2);
    free(journal);
    free(j2);
    tmpdir_done(dir);
}

/* In a child: `n` increments of key 0 through the target, then die with the
 * connection open: the WAL and its index stay, nothing checkpointed. */
static void commit_and_die(const struct env *e, int n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        void *h;
        struct contend_op op;
        if (target()->open(&e->env, &h) != 0)
            _exit(1);
        for (int i = 0; i < n; i++) {
            op = (struct contend_op){.kind = CONTEND_OP_INCR, .key = 0, .id = (uint64_t)i};
            if (target()->apply(h, &op) != CONTEND_OK)
                _exit(2);
        }
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void fill_file(const char *dir, const char *name, int byte)
{
    char *path = contend_asprintf("%s/%s", dir, name);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *junk = malloc((size_t)st.st_size);
    memset(junk, byte, (size_t)st.st_size);
    assert_int_equal(pwrite(fd, junk, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    free(junk);
    free(path);
}

static void truncate_file(const char *dir, const char *name, off_t len)
{
    char *path = contend_asprintf("%s/%s", dir, name);
    assert_int_equal(truncate(path, len), 0);
    free(path);
}

static void test_wal_and_a_stale_index(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlitef");
    struct env e;
    struct collected c;
    size_t wal_len, wal2_len, shm_len;
    env_init(&e, dir, "wal-immediate", "counter", 1);
    assert_int_equal(target()->setup(&e.env), 0);
    commit_and_die(&e, 20);
    char *wal = slurp(dir, "db.sqlite-wal", &wal_len);
    free(slurp(dir, "db.sqlite-shm", &shm_len));
    assert_true(wal_len > 32 && shm_len > 0);

    /* read_state reads the commits from the WAL, in its copy; the store's
     * WAL is not checkpointed or deleted. */
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(value_of(&c, 0), 20);
    char *wal2 = slurp(dir, "db.sqlite-wal", &wal2_len);
    assert_true(wal2_len == wal_len && memcmp(wal, wal2, wal_len) == 0);
    assert_no_copies(dir);

    /* An index full of junk, as if the power went while it was written: the
     * first connection resets it and rebuilds it from the WAL. */
    fill_file(dir, "db.sqlite-shm", 0xa5);
    assert_int_equal(target()->recover(&e.env), 0);
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(value_of(&c, 0), 20);

    /* A power cut took the WAL's frames (nothing was synced at NORMAL), but
     * the index still describes them: SQLite must not believe it. */
    commit_and_die(&e, 5);
    assert_int_equal(read_state(&e.env, &c), 0);
    int64_t before = value_of(&c, 0);
    assert_true(before >= 20 + 5);
    truncate_file(dir, "db.sqlite-wal", 0);
    assert_int_equal(target()->recover(&e.env), 0);
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_true(value_of(&c, 0) >= 0 && value_of(&c, 0) < before);
    free(wal);
    free(wal2);
    tmpdir_done(dir);
}

static void test_recover_reports_a_damaged_store(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlitef");
    struct env e;
    env_init(&e, dir, "wal-immediate", "claim", 4);
    free(test_write(dir, "db.sqlite", "this is not an SQLite database, not even close....", 50));
    assert_true(target()->recover(&e.env) < 0);
    tmpdir_done(dir);
}

/* ---- the ledger --------------------------------------------------------------- */

struct chain_seen {
    uint64_t records, violations;
    char kinds[256];
    int64_t op[16], seq[16];
};

static void chain_violation(void *ctx, const char *kind, uint64_t line, uint64_t offset,
                            uint64_t other, const char *reason)
{
    (void)line;
    (void)offset;
    (void)other;
    (void)reason;
    struct chain_seen *s = ctx;
    size_t len = strlen(s->kinds);
    snprintf(s->kinds + len, sizeof s->kinds - len, "%s%s", len ? "," : "", kind);
    s->violations++;
}

static void chain_record(void *ctx, const struct contend_chain_rec *r)
{
    struct chain_seen *s = ctx;
    if (s->records < 16) {
        s->op[s->records] = r->has_op ? r->op : -1;
        s->seq[s->records] = r->has_seq ? r->seq : -1;
    }
    s->records++;
}

static void check_chain(const char *dir, struct chain_seen *s)
{
    char *path = contend_asprintf("%s/ledger.jsonl", dir);
    struct contend_chain_opts o = {0};
    struct contend_chain_sink sink = {
        .ctx = s, .violation = chain_violation, .record = chain_record};
    struct contend_chain_stats st;
    memset(s, 0, sizeof *s);
    assert_int_equal(contend_chain_check_path(path, &o, &sink, &st), 0);
    free(path);
}

static int append(void *h, uint64_t id, uint32_t writer, const char *payload, struct contend_op *op)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s", payload);
    *op = (struct contend_op){.kind = CONTEND_OP_APPEND,
                              .id = id,
                              .writer = writer,
                              .buf = buf,
                              .buf_len = (uint32_t)strlen(buf),
                              .buf_cap = sizeof buf};
    return target()->apply(h, op);
}

static void test_ledger_export(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "plain",
        "\"quoted\" back\\slash tab\t new\nline",
        "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
        "a/b <&>",
        "",
    };
    char *dir = test_tmpdir("sqlitef");
    struct env e;
    struct collected c;
    struct contend_op op;
    struct chain_seen s;
    void *h;
    env_init(&e, dir, "rollback-immediate", "ledger", 1);
    assert_int_equal(target()->setup(&e.env), 0);
    /* An empty ledger exports an empty file: nothing to check, all valid. */
    assert_int_equal(read_state(&e.env, &c), 0);
    check_chain(dir, &s);
    assert_int_equal(s.records, 0);

    assert_int_equal(target()->open(&e.env, &h), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(append(h, (3ull << 32) | (uint64_t)i, 3, payloads[i], &op), CONTEND_OK);
        assert_int_equal(op.value, i); /* the seq written */
    }
    target()->close(h);
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(c.n, 0); /* the ledger goes to the file, not the sink */
    check_chain(dir, &s);
    assert_string_equal(s.kinds, "");
    assert_int_equal(s.records, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s.op[i], (int64_t)((3ull << 32) | (uint64_t)i));
        assert_int_equal(s.seq[i], i);
    }

    /* A row changed behind the program's back no longer hashes. */
    run_sql(dir, "UPDATE ledger SET payload = 'tampered' WHERE rowid = 3");
    assert_int_equal(read_state(&e.env, &c), 0);
    check_chain(dir, &s);
    assert_non_null(strstr(s.kinds, "bad-hash"));
    assert_no_copies(dir);
    tmpdir_done(dir);
}

/* Two appends interleaved at the first one's perturbation point: the second
 * runs entirely between the first's read of the last hash and its insert. */
struct interleave {
    void *other;
    int status;
    struct contend_op op;
};

static void run_other(void *arg, const char *name)
{
    struct interleave *x = arg;
    assert_string_equal(name, "sqlite:read-last-hash->insert");
    contend_point_hook(NULL, NULL);
    x->status = append(x->other, (2ull << 32) | 1, 2, "second", &x->op);
}

static void race(const char *variant, struct chain_seen *s, struct interleave *x, int *first_status)
{
    char *dir = test_tmpdir("sqlitef");
    struct env e;
    struct collected c;
    struct contend_op op;
    void *a, *b;
    env_init(&e, dir, variant, "ledger", 1);
    env_opt(&e, "busy_timeout", "0");
    assert_int_equal(target()->setup(&e.env), 0);
    assert_int_equal(target()->open(&e.env, &a), 0);
    assert_int_equal(target()->open(&e.env, &b), 0);
    assert_int_equal(append(a, 1ull << 32, 1, "first", &op), CONTEND_OK);
    *x = (struct interleave){.other = b};
    contend_point_hook(run_other, x);
    *first_status = append(a, (1ull << 32) | 1, 1, "racing", &op);
    contend_point_hook(NULL, NULL);
    target()->close(a);
    target()->close(b);
    assert_int_equal(read_state(&e.env, &c), 0);
    check_chain(dir, s);
    tmpdir_done(dir);
}

static void test_ledger_race(void **state)
{
    (void)state;
    struct chain_seen s;
    struct interleave x;
    int status;

    /* Autocommit: both read the first record's hash, both insert: a fork. */
    race("autocommit-rmw", &s, &x, &status);
    assert_int_equal(status, CONTEND_OK);
    assert_int_equal(x.status, CONTEND_OK);
    assert_int_equal(s.records, 3);
    assert_non_null(strstr(s.kinds, "chain-fork"));

    /* IMMEDIATE: the first holds the write lock from before its read; the
     * second cannot even begin (busy_timeout 0), and the chain holds. */
    race("wal-immediate", &s, &x, &status);
    assert_int_equal(status, CONTEND_OK);
    assert_int_equal(x.status, CONTEND_FAIL);
    assert_int_equal(x.op.err, EBUSY);
    assert_int_equal(s.records, 2);
    assert_string_equal(s.kinds, "");

    /* Deferred: the second commits first; the first's insert cannot upgrade
     * its stale snapshot and fails, rolled back: no fork either. */
    race("wal-deferred", &s, &x, &status);
    assert_int_equal(x.status, CONTEND_OK);
    assert_int_equal(status, CONTEND_FAIL);
    assert_int_equal(s.records, 2);
    assert_string_equal(s.kinds, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durable_by_settings),
        cmocka_unit_test(test_hot_journal),
        cmocka_unit_test(test_wal_and_a_stale_index),
        cmocka_unit_test(test_recover_reports_a_damaged_store),
        cmocka_unit_test(test_ledger_export),
        cmocka_unit_test(test_ledger_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
