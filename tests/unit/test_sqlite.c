/*
 * test_sqlite.c - the sqlite target through its ABI table: setup, open,
 * apply and read_state for each workload and variant; the busy path (fail
 * with EBUSY, retries counted); the scenario keys; and an `integrity`
 * violation for a damaged database file and for corruption a worker saw.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"

#include "sqlite_kit.h"

static const char *const all_variants[] = {
    "wal-immediate",       "wal-deferred",      "autocommit-rmw",         "rollback-immediate",
    "shared-conn-nomutex", "shared-conn-mutex", "shared-conn-serialized",
};

static void test_counter_every_variant(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_variants / sizeof all_variants[0]; i++) {
        char *dir = test_tmpdir("sqlite");
        struct env e;
        struct contend_op op;
        struct collected c;
        void *h;
        env_init(&e, dir, all_variants[i], "counter", 2);
        h = setup_open(&e);
        for (int n = 1; n <= 3; n++) {
            assert_int_equal(apply(h, CONTEND_OP_INCR, 1, 0, 0, &op), CONTEND_OK);
            assert_int_equal(op.value, n);
        }
        assert_int_equal(apply(h, CONTEND_OP_READ, 1, 0, 0, &op), CONTEND_OK);
        assert_int_equal(op.value, 3);
        assert_int_equal(apply(h, CONTEND_OP_ENQUEUE, 1, 0, 0, &op), CONTEND_FAIL);
        assert_int_equal(op.err, ENOTSUP);
        target()->close(h);
        assert_int_equal(read_state(&e.env, &c), 0);
        assert_int_equal(c.nviolations, 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(value_of(&c, 0), 0);
        assert_int_equal(value_of(&c, 1), 3);
        tmpdir_done(dir);
    }
}

static void test_bank(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_variants / sizeof all_variants[0]; i++) {
        char *dir = test_tmpdir("sqlite");
        struct env e;
        struct contend_op op;
        struct collected c;
        void *h;
        env_init(&e, dir, all_variants[i], "bank", 3);
        h = setup_open(&e);
        assert_int_equal(apply(h, CONTEND_OP_TRANSFER, 0, 2, 40, &op), CONTEND_OK);
        assert_int_equal(op.value, 1);
        assert_int_equal(apply(h, CONTEND_OP_TRANSFER, 0, 1, 61, &op), CONTEND_OK);
        assert_int_equal(op.value, 0); /* 60 left: declined */
        assert_int_equal(apply(h, CONTEND_OP_TRANSFER, 1, 1, 10, &op), CONTEND_OK);
        assert_int_equal(apply(h, CONTEND_OP_READ_ALL, 0, 0, 0, &op), CONTEND_OK);
        assert_int_equal(op.value, 3 * CONTEND_BANK_INITIAL);
        assert_int_equal((int64_t)op.value2, 60);
        assert_int_equal(apply(h, CONTEND_OP_TRANSFER, 0, 7, 1, &op), CONTEND_FAIL);
        target()->close(h);
        assert_int_equal(read_state(&e.env, &c), 0);
        assert_int_equal(c.nviolations, 0);
        assert_int_equal(value_of(&c, 0), 60);
        assert_int_equal(value_of(&c, 1), 100);
        assert_int_equal(value_of(&c, 2), 140);
        tmpdir_done(dir);
    }
}

static void test_claim(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_variants / sizeof all_variants[0]; i++) {
        char *dir = test_tmpdir("sqlite");
        struct env e;
        struct contend_op op;
        struct collected c;
        void *h;
        env_init(&e, dir, all_variants[i], "claim", 10);
        h = setup_open(&e);
        assert_int_equal(apply(h, CONTEND_OP_CLAIM, 5, 0, 0, &op), CONTEND_OK);
        assert_int_equal(op.value, 1);
        int64_t owner = (int64_t)op.id;
        assert_int_equal(apply(h, CONTEND_OP_CLAIM, 5, 0, 0, &op), CONTEND_OK);
        assert_int_equal(op.value, 0);
        target()->close(h);
        assert_int_equal(read_state(&e.env, &c), 0);
        assert_int_equal(c.nviolations, 0);
        assert_int_equal(c.n, 1);
        assert_int_equal(value_of(&c, 5), owner);
        tmpdir_done(dir);
    }
}

static void test_shared_variants_open_per_worker(void **state)
{
    (void)state;
    const struct contend_target *t = target();
    assert_true(t->flags & CONTEND_TARGET_OPEN_PER_THREAD);
    assert_true(t->flags & CONTEND_TARGET_NO_OVERDRAFT);
    for (const struct contend_variant *v = t->variants; v->name; v++) {
        bool shared = strncmp(v->name, "shared-conn-", 12) == 0;
        assert_int_equal(!!(v->flags & CONTEND_VARIANT_OPEN_PER_WORKER), shared);
    }
    assert_string_equal(t->variants[0].name, "wal-immediate");
    assert_false(t->variants[0].flags & CONTEND_VARIANT_BROKEN);
}

/* Hold the write lock from a connection of our own. */
static sqlite3 *hold_write_lock(const char *dir)
{
    char *path = contend_asprintf("%s/db.sqlite", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    free(path);
    return db;
}

static void test_busy_fails_and_retries(void **state)
{
    (void)state;
    static const char *const variants[] = {"wal-immediate", "wal-deferred", "rollback-immediate"};
    for (size_t i = 0; i < 3; i++) {
        char *dir = test_tmpdir("sqlite");
        struct env e;
        struct contend_op op;
        void *h;
        env_init(&e, dir, variants[i], "counter", 1);
        env_opt(&e, "busy_timeout", "0");
        env_opt(&e, "retry", "3");
        h = setup_open(&e);
        sqlite3 *other = hold_write_lock(dir);
        assert_int_equal(apply(h, CONTEND_OP_INCR, 0, 0, 0, &op), CONTEND_FAIL);
        assert_int_equal(op.err, EBUSY);
        assert_int_equal(op.retries, 3);
        sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(other);
        assert_int_equal(apply(h, CONTEND_OP_INCR, 0, 0, 0, &op), CONTEND_OK);
        assert_int_equal(op.retries, 0);
        assert_int_equal(op.value, 1);
        target()->close(h);
        tmpdir_done(dir);
    }
}

static void test_options(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlite");
    struct env e;
    struct contend_op op;
    void *h;

    env_init(&e, dir, "wal-immediate", "counter", 1);
    env_opt(&e, "journal_mode", "truncate");
    env_opt(&e, "synchronous", "FULL");
    env_opt(&e, "cache_size", "-4096");
    env_opt(&e, "mmap_size", "1048576");
    h = setup_open(&e);
    assert_int_equal(apply(h, CONTEND_OP_INCR, 0, 0, 0, &op), CONTEND_OK);
    target()->close(h);
    char *wal = contend_asprintf("%s/db.sqlite-wal", dir);
    assert_int_not_equal(access(wal, F_OK), 0); /* not WAL */
    free(wal);
    tmpdir_done(dir);

    /* Bad values: open refuses. */
    static const char *const bad[][2] = {
        {"busy_timeout", "soon"},
        {"cache_size", "x"},
        {"mmap_size", "-1"},
        {"retry", "-2"},
    };
    for (size_t i = 0; i < 4; i++) {
        dir = test_tmpdir("sqlite");
        env_init(&e, dir, "wal-immediate", "counter", 1);
        assert_int_equal(target()->setup(&e.env), 0);
        env_opt(&e, bad[i][0], bad[i][1]);
        assert_int_equal(target()->open(&e.env, &h), -EINVAL);
        tmpdir_done(dir);
    }
    /* Too many rows for setup; no database file for open. */
    dir = test_tmpdir("sqlite");
    env_init(&e, dir, "wal-immediate", "bank", 1ull << 30);
    assert_int_equal(target()->setup(&e.env), -EFBIG);
    assert_true(target()->open(&e.env, &h) < 0);
    tmpdir_done(dir);
}

static void test_relative_writes(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlite");
    struct env e;
    struct contend_op op;
    void *h;
    env_init(&e, dir, "autocommit-rmw", "counter", 1);
    env_opt(&e, "rmw_write", "relative");
    h = setup_open(&e);
    assert_int_equal(apply(h, CONTEND_OP_INCR, 0, 0, 0, &op), CONTEND_OK);
    assert_int_equal(apply(h, CONTEND_OP_INCR, 0, 0, 0, &op), CONTEND_OK);
    assert_int_equal(op.value, 2);
    target()->close(h);
    tmpdir_done(dir);
}

/* Overwrite the b-tree page type byte of page `page` with garbage. */
static void damage_page(const char *dir, long page)
{
    char *path = contend_asprintf("%s/db.sqlite", dir);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    static const unsigned char junk[16] = {0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                           0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
    assert_int_equal(pwrite(fd, junk, sizeof junk, (page - 1) * 4096), (ssize_t)sizeof junk);
    close(fd);
    free(path);
}

static void test_integrity_violation(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlite");
    struct env e;
    struct collected c;
    /* Rollback journal, so that the file is the whole database; enough rows
     * for several pages. */
    env_init(&e, dir, "rollback-immediate", "bank", 2000);
    assert_int_equal(target()->setup(&e.env), 0);
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_int_equal(c.nviolations, 0);
    assert_int_equal(c.n, 2000);

    damage_page(dir, 4);
    read_state(&e.env, &c);
    assert_non_null(strstr(c.kinds, "integrity"));
    assert_non_null(strstr(c.message, "PRAGMA integrity_check"));
    tmpdir_done(dir);

    /* Not a database at all: integrity_check cannot run, nor can the read. */
    dir = test_tmpdir("sqlite");
    env_init(&e, dir, "wal-immediate", "counter", 1);
    free(test_write(dir, "db.sqlite", "this is not an SQLite database, not even close....", 50));
    assert_true(read_state(&e.env, &c) < 0);
    assert_non_null(strstr(c.kinds, "integrity"));
    tmpdir_done(dir);
}

static void test_corruption_seen_by_a_worker(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlite");
    struct env e;
    struct collected c;
    struct contend_op op;
    void *h;
    env_init(&e, dir, "rollback-immediate", "bank", 2000);
    assert_int_equal(target()->setup(&e.env), 0);
    /* Pages 2, 3 and 4 are the roots of counters, accounts and claims; the
     * accounts' rows start after them. */
    damage_page(dir, 6);
    /* A fresh connection reads the damaged page in its read-all. */
    assert_int_equal(target()->open(&e.env, &h), 0);
    assert_int_equal(apply(h, CONTEND_OP_READ_ALL, 0, 0, 0, &op), CONTEND_FAIL);
    assert_int_equal(op.err, EBADMSG);
    target()->close(h);
    read_state(&e.env, &c);
    assert_non_null(strstr(c.kinds, "integrity"));
    assert_non_null(strstr(c.message, "got SQLITE_CORRUPT"));
    assert_true(c.corrupt >= 1);
    tmpdir_done(dir);
}

static void test_events_file(void **state)
{
    (void)state;
    char *dir = test_tmpdir("sqlite");
    struct env e;
    struct collected c;
    env_init(&e, dir, "shared-conn-nomutex", "claim", 4);
    assert_int_equal(target()->setup(&e.env), 0);
    static const char lines[] = "misuse 21 bad parameter or other API misuse\n"
                                "misuse 21 bad parameter or other API misuse\n"
                                "corrupt 11 database disk image is malformed\n";
    free(test_write(dir, "sqlite-events", lines, sizeof lines - 1));
    assert_int_equal(read_state(&e.env, &c), 0);
    assert_string_equal(c.kinds, "misuse,integrity");
    assert_non_null(strstr(c.message, "API misuse 2 time(s) during the run (bad parameter"));
    assert_non_null(strstr(c.message, "says ok afterwards, but during the run 1 op(s) got "
                                      "SQLITE_CORRUPT (database disk image is malformed)"));
    assert_true(c.misuse == 2 && c.corrupt == 1);
    tmpdir_done(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_every_variant),
        cmocka_unit_test(test_bank),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_shared_variants_open_per_worker),
        cmocka_unit_test(test_busy_fails_and_retries),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_relative_writes),
        cmocka_unit_test(test_integrity_violation),
        cmocka_unit_test(test_corruption_seen_by_a_worker),
        cmocka_unit_test(test_events_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
