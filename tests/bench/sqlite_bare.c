/*
 * sqlite_bare.c - the yardstick for contend's own overhead on SQLite.
 *
 * A bare C loop that does exactly what the sqlite target's wal-immediate
 * variant does for one counter increment - BEGIN IMMEDIATE, SELECT the
 * value, UPDATE it to value + 1, COMMIT, with the same prepared statements,
 * the same connection flags (SQLITE_OPEN_NOMUTEX) and the same pragmas
 * (journal_mode=WAL, synchronous=NORMAL, busy_timeout 10 s) - and nothing
 * else: no history, no clock per op, no perturbation point.  If contend's
 * tx/s for the same work is close to this loop's, contend measures the
 * target, not itself.  tests/bench/sqlite_bare.sh runs both.
 *
 * usage: sqlite_bare DB_PATH OPS        prints "bare: N ops in S s: T tx/s"
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BEGIN, SELECT, UPDATE, COMMIT, NSTMT };

static const char *const sql[NSTMT] = {
    [BEGIN] = "BEGIN IMMEDIATE",
    [SELECT] = "SELECT v FROM counters WHERE k = ?1",
    [UPDATE] = "UPDATE counters SET v = ?2 WHERE k = ?1",
    [COMMIT] = "COMMIT",
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_bare: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

static int done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
    sqlite3 *db;
    sqlite3_stmt *st[NSTMT];
    if (argc != 3) {
        fprintf(stderr, "usage: sqlite_bare DB_PATH OPS\n");
        return 2;
    }
    long ops = atol(argv[2]);
    if (sqlite3_open_v2(argv[1], &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return fail(db, "open");
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS counters(k INTEGER PRIMARY KEY, "
                     "v INTEGER NOT NULL);"
                     "INSERT OR REPLACE INTO counters(k, v) VALUES (0, 0);",
                     NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, "schema");
    for (int i = 0; i < NSTMT; i++)
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
            SQLITE_OK)
            return fail(db, sql[i]);

    double t0 = now_s();
    for (long i = 0; i < ops; i++) {
        if (done(st[BEGIN]) != 0)
            return fail(db, "BEGIN IMMEDIATE");
        sqlite3_bind_int64(st[SELECT], 1, 0);
        if (sqlite3_step(st[SELECT]) != SQLITE_ROW)
            return fail(db, "SELECT");
        sqlite3_int64 v = sqlite3_column_int64(st[SELECT], 0);
        sqlite3_reset(st[SELECT]);
        sqlite3_bind_int64(st[UPDATE], 1, 0);
        sqlite3_bind_int64(st[UPDATE], 2, v + 1);
        if (done(st[UPDATE]) != 0)
            return fail(db, "UPDATE");
        if (done(st[COMMIT]) != 0)
            return fail(db, "COMMIT");
    }
    double secs = now_s() - t0;
    printf("bare: %ld ops in %.3f s: %.1f tx/s\n", ops, secs, secs > 0 ? (double)ops / secs : 0);
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(st[i]);
    sqlite3_close(db);
    return 0;
}
