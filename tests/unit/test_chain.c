/*
 * test_chain.c - the hash-chain checker on ledgers built here: every kind of
 * damage must be found on the right line (and byte offset), and a valid
 * ledger, an empty one and one of a single record must pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "canon.h"
#include "chain.h"
#include "helpers.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
#define MAXV 64

struct found {
    const char *kind;
    uint64_t line, offset, other;
    char reason[320];
};

struct result {
    struct found v[MAXV];
    size_t n;
    uint64_t records;
    struct contend_chain_stats st;
};

static void on_violation(void *ctx, const char *kind, uint64_t line, uint64_t offset,
                         uint64_t other, const char *reason)
{
    struct result *r = ctx;
    if (r->n < MAXV) {
        r->v[r->n] = (struct found){.kind = kind, .line = line, .offset = offset, .other = other};
        snprintf(r->v[r->n].reason, sizeof r->v[r->n].reason, "%s", reason);
    }
    r->n++;
}

static void on_record(void *ctx, const struct contend_chain_rec *rec)
{
    struct result *r = ctx;
    (void)rec;
    r->records++;
}

static void check_text(const char *text, size_t len, const struct contend_chain_opts *o,
                       struct result *r)
{
    memset(r, 0, sizeof *r);
    struct contend_chain_sink sink = {.ctx = r, .violation = on_violation, .record = on_record};
    struct contend_chain_opts def = {.dup_by_hash = true};
    assert_int_equal(contend_chain_check_buf(text, len, o ? o : &def, &sink, &r->st), 0);
}

static void check(const struct contend_sbuf *f, struct result *r)
{
    check_text(f->p ? f->p : "", f->n, NULL, r);
}

/* One canonical record appended to f; its hash into hash[65]. */
static void rec(struct contend_sbuf *f, const char *prev, int seq, int writer, long long op,
                const char *payload, char hash[65])
{
    char *body = contend_asprintf(
        "{\"op\":%lld,\"payload\":\"%s\",\"prev_hash\":\"%s\",\"seq\":%d,\"writer\":%d}", op,
        payload, prev, seq, writer);
    assert_int_equal(contend_chain_hash_line(body, strlen(body), "hash", hash), 0);
    char *line = contend_asprintf("{\"hash\":\"%s\",%s\n", hash, body + 1);
    contend_sbuf_add(f, line, strlen(line));
    free(line);
    free(body);
}

/* A valid chain of n records; hashes[i] of record i (line i + 1). */
static void chain(struct contend_sbuf *f, int n, char (*hashes)[65])
{
    char prev[65] = ZEROS;
    for (int i = 0; i < n; i++) {
        rec(f, prev, i, i % 2, i, "caf\\u00e9", hashes[i]);
        memcpy(prev, hashes[i], 65);
    }
}

static void expect_one(const struct result *r, const char *kind, uint64_t line)
{
    if (r->n != 1)
        fail_msg("expected one %s on line %llu, got %zu violations (first: %s on line %llu: %s)",
                 kind, (unsigned long long)line, r->n, r->n ? r->v[0].kind : "-",
                 r->n ? (unsigned long long)r->v[0].line : 0ull, r->n ? r->v[0].reason : "");
    assert_string_equal(r->v[0].kind, kind);
    assert_int_equal(r->v[0].line, line);
}

/* Byte offset where line `no` (1-based) starts. */
static uint64_t offset_of(const struct contend_sbuf *f, uint64_t no)
{
    uint64_t off = 0;
    for (uint64_t l = 1; l < no; l++)
        off = (uint64_t)((const char *)memchr(f->p + off, '\n', f->n - off) - f->p) + 1;
    return off;
}

static void test_valid_chain(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[5][65];
    struct result r;
    chain(&f, 5, h);
    check(&f, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.records, 5);
    assert_int_equal(r.st.fast, 5);
    contend_sbuf_free(&f);
}

static void test_empty_file_is_valid(void **state)
{
    (void)state;
    struct result r;
    check_text("", 0, NULL, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.st.lines, 0);
}

static void test_one_record_is_valid(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[1][65];
    struct result r;
    chain(&f, 1, h);
    check(&f, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.records, 1);
    contend_sbuf_free(&f);
}

static void test_fork_names_both_lines(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[3][65], x[65];
    struct result r;
    chain(&f, 3, h);
    rec(&f, h[1], 2, 1, 99, "second child of line 2", x); /* line 4 forks off line 2 */
    check(&f, &r);
    expect_one(&r, "chain-fork", 4);
    assert_int_equal(r.v[0].other, 3);
    assert_int_equal(r.v[0].offset, offset_of(&f, 4));
    assert_non_null(strstr(r.v[0].reason, "line 3 and line 4 both follow line 2"));
    contend_sbuf_free(&f);
}

static void test_two_genesis_records_fork(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[2][65], x[65];
    struct result r;
    chain(&f, 2, h);
    rec(&f, ZEROS, 0, 1, 5, "another start", x);
    check(&f, &r);
    expect_one(&r, "chain-fork", 3);
    assert_int_equal(r.v[0].other, 1);
    contend_sbuf_free(&f);
}

static void test_torn_last_line(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[3][65];
    struct result r;
    chain(&f, 3, h);
    f.n -= 40; /* the last append stopped short, newline and all */
    check(&f, &r);
    expect_one(&r, "torn-line", 3);
    assert_int_equal(r.v[0].offset, offset_of(&f, 3));
    assert_int_equal(r.records, 2);
    contend_sbuf_free(&f);
}

static void test_bad_hash(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[3][65];
    struct result r;
    chain(&f, 3, h);
    char *p = strstr(f.p + offset_of(&f, 2), "\"payload\":\"caf"); /* line 2's payload */
    p[11] = 'k';
    check(&f, &r);
    expect_one(&r, "bad-hash", 2);
    assert_non_null(strstr(r.v[0].reason, "is not the SHA-256 of the record"));
    contend_sbuf_free(&f);
}

static void test_gap(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[2][65], x[65], y[65];
    struct result r;
    chain(&f, 2, h);
    rec(&f, "1111111111111111111111111111111111111111111111111111111111111111", 2, 0, 2, "p", x);
    rec(&f, x, 3, 1, 3, "p", y); /* continues from the orphan: no second gap */
    check(&f, &r);
    expect_one(&r, "chain-gap", 3);
    contend_sbuf_free(&f);

    /* A first record that does not start from zeros. */
    memset(&f, 0, sizeof f);
    rec(&f, h[0], 0, 0, 0, "p", x);
    check(&f, &r);
    expect_one(&r, "chain-gap", 1);
    assert_non_null(strstr(r.v[0].reason, "must be 64 zeros"));
    contend_sbuf_free(&f);
}

static void test_duplicate_line(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[3][65];
    struct result r;
    chain(&f, 3, h);
    size_t a = offset_of(&f, 2), b = offset_of(&f, 3);
    char copy[700];
    memcpy(copy, f.p + a, b - a);
    contend_sbuf_add(&f, copy, b - a); /* line 4 = line 2 again */
    check(&f, &r);
    expect_one(&r, "duplicate-append", 4);
    assert_int_equal(r.v[0].other, 2);
    contend_sbuf_free(&f);
}

static void test_not_json(void **state)
{
    (void)state;
    struct contend_sbuf f = {0}, g = {0};
    char h[3][65];
    struct result r;
    chain(&f, 3, h);
    size_t two = offset_of(&f, 2);
    contend_sbuf_add(&g, f.p, two);
    contend_sbuf_add(&g, "this is not json\n", 17); /* line 2 */
    contend_sbuf_add(&g, f.p + two, f.n - two);
    check(&g, &r);
    expect_one(&r, "invalid-line", 2);
    assert_int_equal(r.v[0].offset, two);
    assert_non_null(strstr(r.v[0].reason, "not JSON"));

    /* JSON, but not a record. */
    const char *junk = "[1,2]\n{\"hash\":\"x\"}\n\n";
    check_text(junk, strlen(junk), NULL, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[0].kind, "invalid-line");
    assert_int_equal(r.v[0].line, 1);
    assert_non_null(strstr(r.v[0].reason, "not a JSON object"));
    assert_int_equal(r.v[1].line, 2);
    assert_non_null(strstr(r.v[1].reason, "no string member \"prev_hash\""));
    assert_int_equal(r.v[2].line, 3);
    assert_non_null(strstr(r.v[2].reason, "empty line"));
    contend_sbuf_free(&f);
    contend_sbuf_free(&g);
}

static void test_crlf(void **state)
{
    (void)state;
    struct contend_sbuf f = {0}, g = {0};
    char h[3][65];
    struct result r;
    chain(&f, 3, h);
    size_t three = offset_of(&f, 3);
    contend_sbuf_add(&g, f.p, three - 1);
    contend_sbuf_add(&g, "\r\n", 2); /* line 2 ends in CRLF */
    contend_sbuf_add(&g, f.p + three, f.n - three);
    check(&g, &r);
    expect_one(&r, "invalid-line", 2);
    assert_non_null(strstr(r.v[0].reason, "CRLF"));
    assert_int_equal(r.records, 3); /* the record itself still links */
    contend_sbuf_free(&f);
    contend_sbuf_free(&g);
}

static void test_writer_order(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char a[65], b[65], c[65];
    struct result r;
    rec(&f, ZEROS, 0, 1, 5, "p", a);
    rec(&f, a, 1, 2, 1, "p", b);
    rec(&f, b, 2, 1, 3, "p", c); /* writer 1: op 3 after op 5 */
    check(&f, &r);
    expect_one(&r, "writer-order", 3);
    assert_int_equal(r.v[0].other, 1);
    contend_sbuf_free(&f);
}

/* Lines as most programs write them (other key order, spaces) take the slow
 * path and hash the same. */
static void test_slow_path_lines(void **state)
{
    (void)state;
    const char *body0 = "{\"seq\": 0, \"payload\": {\"t\": \"caf\\u00e9 \\ud83d\\ude00\", "
                        "\"x\": 1e-7}, \"prev_hash\": \"" ZEROS "\"}";
    char h0[65], h1[65], text[2048];
    assert_int_equal(contend_chain_hash_line(body0, strlen(body0), "hash", h0), 0);
    const char *body1 = "{\"prev_hash\":\"%s\",\"seq\":1,\"payload\":\"\\u0041/\\/\"}";
    char b1[256];
    snprintf(b1, sizeof b1, body1, h0);
    assert_int_equal(contend_chain_hash_line(b1, strlen(b1), "hash", h1), 0);
    int n = snprintf(text, sizeof text, "{\"hash\": \"%s\", %s\n{\"hash\":\"%s\",%s\n", h0,
                     body0 + 1, h1, b1 + 1);
    struct result r;
    check_text(text, (size_t)n, NULL, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.st.slow, 2);
    assert_int_equal(r.st.fast, 0);
}

static void test_field_options(void **state)
{
    (void)state;
    char h[65], text[512];
    const char *body = "{\"parent\":\"" ZEROS "\",\"v\":1}";
    assert_int_equal(contend_chain_hash_line(body, strlen(body), "digest", h), 0);
    int n = snprintf(text, sizeof text, "{\"digest\":\"%s\",%s\n", h, body + 1);
    struct contend_chain_opts o = {.hash_field = "digest", .prev_field = "parent"};
    struct result r;
    check_text(text, (size_t)n, &o, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.records, 1);
    /* With the default names it is not a record at all. */
    check_text(text, (size_t)n, NULL, &r);
    expect_one(&r, "invalid-line", 1);
    /* --no-recompute: a wrong hash that still links is accepted. */
    text[12] = text[12] == 'a' ? 'b' : 'a';
    o.no_recompute = true;
    check_text(text, (size_t)n, &o, &r);
    assert_int_equal(r.n, 0);
    o.no_recompute = false;
    check_text(text, (size_t)n, &o, &r);
    expect_one(&r, "bad-hash", 1);
}

/* A file bigger than the read buffer, read by threads, with damage after the
 * first buffer and one line longer than the buffer. */
static void test_large_file_threads(void **state)
{
    (void)state;
    enum { N = 40000 };
    struct contend_sbuf f = {0};
    char(*h)[65] = calloc(N + 2, sizeof *h);
    char prev[65] = ZEROS;
    for (int i = 0; i < N; i++) {
        char payload[64];
        snprintf(payload, sizeof payload, "record %d with some padding text", i);
        rec(&f, prev, i, i % 7, i, payload, h[i]);
        memcpy(prev, h[i], 65);
    }
    /* A 5 MB payload: longer than the 4 MiB buffer. */
    char *big = malloc(5u << 20);
    memset(big, 'z', (5u << 20) - 1);
    big[(5u << 20) - 1] = '\0';
    rec(&f, prev, N, 0, N, big, h[N]);
    free(big);
    rec(&f, h[N - 5], N + 1, 1, N + 1, "fork", h[N + 1]); /* line N+2 forks off N-4 */

    char *dir = test_tmpdir("chain");
    char *path = test_write(dir, "ledger.jsonl", f.p, f.n);
    for (unsigned threads = 1; threads <= 3; threads++) {
        struct result r;
        memset(&r, 0, sizeof r);
        struct contend_chain_sink sink = {
            .ctx = &r, .violation = on_violation, .record = on_record};
        struct contend_chain_opts o = {.dup_by_hash = true, .threads = threads};
        assert_int_equal(contend_chain_check_path(path, &o, &sink, &r.st), 0);
        expect_one(&r, "chain-fork", N + 2);
        assert_int_equal(r.v[0].other, N - 3);
        assert_int_equal(r.v[0].offset, offset_of(&f, N + 2));
        assert_int_equal(r.records, N + 2);
        assert_int_equal(r.st.bytes, f.n);
    }
    struct contend_chain_stats st;
    assert_int_equal(contend_chain_check_path("/nonexistent/ledger", NULL, NULL, &st), -ENOENT);
    contend_rm_rf(dir);
    free(dir);
    free(path);
    free(h);
    contend_sbuf_free(&f);
}

/* The workload caps its index at the ops it knows of: past the cap, links
 * are not checked (and not reported as gaps). */
static void test_index_cap(void **state)
{
    (void)state;
    struct contend_sbuf f = {0};
    char h[6][65];
    chain(&f, 6, h);
    struct contend_chain_opts o = {.max_index = 3};
    struct result r;
    check_text(f.p, f.n, &o, &r);
    assert_int_equal(r.n, 0);
    assert_true(r.st.unindexed > 0);
    contend_sbuf_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_chain),
        cmocka_unit_test(test_empty_file_is_valid),
        cmocka_unit_test(test_one_record_is_valid),
        cmocka_unit_test(test_fork_names_both_lines),
        cmocka_unit_test(test_two_genesis_records_fork),
        cmocka_unit_test(test_torn_last_line),
        cmocka_unit_test(test_bad_hash),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_duplicate_line),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_writer_order),
        cmocka_unit_test(test_slow_path_lines),
        cmocka_unit_test(test_field_options),
        cmocka_unit_test(test_large_file_threads),
        cmocka_unit_test(test_index_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
