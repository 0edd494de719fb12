/*
 * test_log.c - the log workload's checker on synthetic histories and
 * hand-made log files: what it must find, and what it must not.
 *
 * Each test writes app.log and its backups into a temporary store, with
 * lines made by the workload's own gen(), builds the history the writers
 * would have left, and runs the checker.
 */
#include "synth.h"

#include "canon.h"
#include "registry.h"
#include "util.h"

struct fx {
    struct synth s;
    char *dir;
    const struct contend_workload *wl;
};

static void fx_init(struct fx *f, uint32_t writers)
{
    synth_init(&f->s, "log", "rotating-log", NULL, writers, 0);
    f->dir = test_tmpdir("log");
    f->s.store_dir = f->dir;
    f->wl = f->s.c.wl;
}

static void fx_done(struct fx *f)
{
    contend_rm_rf(f->dir);
    free(f->dir);
    contend_rep_free(&f->s.rep);
}

/* The line gen() makes for writer w's op seq, with "\n". */
static void line_of(const struct fx *f, uint32_t w, uint64_t seq, struct contend_sbuf *out)
{
    char buf[512];
    struct contend_gen g = {.seed = 1, .writer = w, .writers = 4};
    g.opt[0] = 40;
    struct contend_op op = {
        .id = ((uint64_t)w << 32) | seq, .writer = w, .buf = buf, .buf_cap = sizeof buf};
    struct contend_rng rng;
    contend_rng_init(&rng, 1, w, seq);
    f->wl->gen(&g, seq, &rng, &op);
    contend_sbuf_add(out, buf, op.buf_len);
    contend_sbuf_add(out, "\n", 1);
}

/* Op seq of writer w, invoked at t, done at t + 5 with `status`. */
static void op_at(struct fx *f, uint32_t w, uint64_t t, uint8_t status)
{
    synth_append(&f->s, w,
                 (struct contend_record){.t_invoke = t,
                                         .t_complete = status ? t + 5 : 0,
                                         .kind = CONTEND_OP_LOG_APPEND,
                                         .status = status});
}

/* A file of the given (writer, seq) lines; extra text appended raw. */
static void file_of(struct fx *f, const char *name, const uint32_t (*ops)[2], size_t n,
                    const char *extra)
{
    struct contend_sbuf b = {0};
    for (size_t i = 0; i < n; i++)
        line_of(f, ops[i][0], ops[i][1], &b);
    if (extra)
        contend_sbuf_add(&b, extra, strlen(extra));
    free(test_write(f->dir, name, b.p ? b.p : "", b.n));
    contend_sbuf_free(&b);
}

/* Two writers, three ops each, one after the other in time: w0 #0 at 10,
 * w1 #0 at 20, w0 #1 at 30, ... */
static void six_ops(struct fx *f)
{
    for (uint64_t i = 0; i < 3; i++) {
        op_at(f, 0, 10 + 20 * i, CONTEND_OK);
        op_at(f, 1, 20 + 20 * i, CONTEND_OK);
    }
}

static const uint32_t OLD[][2] = {{0, 0}, {1, 0}, {0, 1}};
static const uint32_t NEW[][2] = {{1, 1}, {0, 2}, {1, 2}};

static void assert_clean(const struct fx *f)
{
    const char *kinds[] = {"missing-line", "duplicate-line", "torn-line",
                           "invalid-line", "writer-order",   "corrupt-store"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_null(synth_find(&f->s, kinds[i]));
}

static void test_clean_across_files(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 3, NULL);
    synth_state(&f.s, CONTEND_LOG_BACKUPS, 5);
    synth_check(&f.s);
    assert_clean(&f);
    assert_true(synth_stat(&f.s, "log_lines") == 6);
    assert_true(synth_stat(&f.s, "log_files") == 2);
    fx_done(&f);
}

static void test_missing_line(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 2, NULL); /* w1 #2 is not there */
    synth_check(&f.s);
    const struct contend_violation *v = synth_find(&f.s, "missing-line");
    assert_non_null(v);
    assert_int_equal(v->count, 1);
    fx_done(&f);
}

static void test_indeterminate_may_be_missing(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    for (uint64_t i = 0; i < 3; i++) {
        op_at(&f, 0, 10 + 20 * i, CONTEND_OK);
        op_at(&f, 1, 20 + 20 * i, i == 2 ? CONTEND_INFO : CONTEND_OK);
    }
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 2, NULL);
    synth_check(&f.s);
    assert_clean(&f);
    fx_done(&f);
}

static void test_duplicate_line(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t again[][2] = {{0, 1}, {1, 1}, {0, 2}, {1, 2}};
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", again, 4, NULL); /* w0 #1 in both files */
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "duplicate-line"));
    assert_null(synth_find(&f.s, "missing-line"));
    fx_done(&f);
}

static void test_torn_tail_of_acked_line(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    struct contend_sbuf last = {0};
    line_of(&f, 1, 2, &last);
    char *frag = contend_asprintf("%.*s", (int)(last.n / 2), last.p);
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 2, frag);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "torn-line"));
    assert_non_null(synth_find(&f.s, "missing-line"));
    free(frag);
    contend_sbuf_free(&last);
    fx_done(&f);
}

/* The fragment of an op that never completed: an append that did not
 * finish, which recovery cuts off.  Not a violation. */
static void test_torn_tail_of_unfinished_line(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    for (uint64_t i = 0; i < 3; i++) {
        op_at(&f, 0, 10 + 20 * i, CONTEND_OK);
        op_at(&f, 1, 20 + 20 * i, i == 2 ? CONTEND_STATUS_INVOKED : CONTEND_OK);
    }
    struct contend_sbuf last = {0};
    line_of(&f, 1, 2, &last);
    char *frag = contend_asprintf("%.*s", (int)(last.n / 2), last.p);
    file_of(&f, "app.log.1", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 2, frag);
    synth_check(&f.s);
    assert_clean(&f);
    assert_true(synth_stat(&f.s, "log_torn_tail_bytes") > 0);
    free(frag);
    contend_sbuf_free(&last);
    fx_done(&f);
}

static void test_invalid_lines(void **st)
{
    (void)st;
    const char *bad[] = {
        "\n",                                            /* empty */
        "not json\n",                                    /* not JSON */
        "[1,2]\n",                                       /* not an object */
        "{\"op\":0,\"p\":\"w0#0:zz\",\"w\":0}\n",        /* payload not the op's own */
        "{\"op\":4294967296,\"p\":\"w0#0:\",\"w\":0}\n", /* w is not op's writer */
        "{\"op\":99,\"p\":\"w0#99:\",\"w\":0}\n",        /* never invoked */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fx f;
        fx_init(&f, 2);
        six_ops(&f);
        file_of(&f, "app.log.1", OLD, 3, bad[i]);
        file_of(&f, "app.log", NEW, 3, NULL);
        synth_check(&f.s);
        assert_non_null(synth_find(&f.s, "invalid-line"));
        assert_null(synth_find(&f.s, "missing-line"));
        fx_done(&f);
    }
}

/* CRLF is invalid by the rule shared with the ledger (jsonl.c). */
static void test_crlf_is_invalid(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 1);
    op_at(&f, 0, 10, CONTEND_OK);
    struct contend_sbuf b = {0};
    line_of(&f, 0, 0, &b);
    b.p[b.n - 1] = '\r';
    contend_sbuf_add(&b, "\n", 1);
    free(test_write(f.dir, "app.log", b.p, b.n));
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "invalid-line"));
    contend_sbuf_free(&b);
    fx_done(&f);
}

static void test_failed_op_present(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 1);
    op_at(&f, 0, 10, CONTEND_FAIL);
    static const uint32_t one[][2] = {{0, 0}};
    file_of(&f, "app.log", one, 1, NULL);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "invalid-line"));
    fx_done(&f);
}

static void test_writer_order_own(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t swapped[][2] = {{0, 1}, {1, 0}, {0, 0}};
    file_of(&f, "app.log.1", swapped, 3, NULL);
    file_of(&f, "app.log", NEW, 3, NULL);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "writer-order"));
    fx_done(&f);
}

/* w1 #2 was invoked (at 60) after w0 #2 was acknowledged (at 55), yet it
 * sits in the older file: the files are not in time order. */
static void test_writer_order_across_files(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t old[][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {1, 2}};
    static const uint32_t cur[][2] = {{0, 2}};
    file_of(&f, "app.log.1", old, 5, NULL);
    file_of(&f, "app.log", cur, 1, NULL);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "writer-order"));
    fx_done(&f);
}

/* Overlapping ops may land in either order. */
static void test_concurrent_ops_any_order(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    op_at(&f, 0, 10, CONTEND_OK); /* 10..15 */
    op_at(&f, 1, 12, CONTEND_OK); /* 12..17 */
    static const uint32_t old[][2] = {{1, 0}};
    static const uint32_t cur[][2] = {{0, 0}};
    file_of(&f, "app.log.1", old, 1, NULL);
    file_of(&f, "app.log", cur, 1, NULL);
    synth_check(&f.s);
    assert_clean(&f);
    fx_done(&f);
}

/* At the backup limit the oldest lines may be gone: w0 #0 and w1 #0 were
 * in a file rotation deleted. */
static void test_rotated_away_at_limit(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t b2[][2] = {{0, 1}};
    static const uint32_t b1[][2] = {{1, 1}, {0, 2}};
    static const uint32_t cur[][2] = {{1, 2}};
    file_of(&f, "app.log.2", b2, 1, NULL);
    file_of(&f, "app.log.1", b1, 2, NULL);
    file_of(&f, "app.log", cur, 1, NULL);
    synth_state(&f.s, CONTEND_LOG_BACKUPS, 2);
    synth_check(&f.s);
    assert_clean(&f);
    assert_true(synth_stat(&f.s, "log_lines_rotated_away") == 2);
    fx_done(&f);
}

/* The same files when the target keeps 3 backups: app.log.3 does not
 * exist, so nothing had to be deleted. */
static void test_missing_below_limit(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t b2[][2] = {{0, 1}};
    static const uint32_t b1[][2] = {{1, 1}, {0, 2}};
    static const uint32_t cur[][2] = {{1, 2}};
    file_of(&f, "app.log.2", b2, 1, NULL);
    file_of(&f, "app.log.1", b1, 2, NULL);
    file_of(&f, "app.log", cur, 1, NULL);
    synth_state(&f.s, CONTEND_LOG_BACKUPS, 3);
    synth_check(&f.s);
    const struct contend_violation *v = synth_find(&f.s, "missing-line");
    assert_non_null(v);
    assert_int_equal(v->count, 2);
    fx_done(&f);
}

/* At the limit, a line newer than the oldest kept file is not excused:
 * w1 #1 (invoked at 40, after w0 #1 in app.log.2 was acknowledged at 35). */
static void test_missing_newer_than_oldest_kept(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    static const uint32_t b2[][2] = {{0, 1}};
    static const uint32_t b1[][2] = {{0, 2}};
    static const uint32_t cur[][2] = {{1, 2}};
    file_of(&f, "app.log.2", b2, 1, NULL);
    file_of(&f, "app.log.1", b1, 1, NULL);
    file_of(&f, "app.log", cur, 1, NULL);
    synth_state(&f.s, CONTEND_LOG_BACKUPS, 2);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "missing-line"));
    fx_done(&f);
}

static void test_too_many_backups(void **st)
{
    (void)st;
    struct fx f;
    fx_init(&f, 2);
    six_ops(&f);
    file_of(&f, "app.log.2", OLD, 3, NULL);
    file_of(&f, "app.log", NEW, 3, NULL);
    synth_state(&f.s, CONTEND_LOG_BACKUPS, 1);
    synth_check(&f.s);
    assert_non_null(synth_find(&f.s, "corrupt-store"));
    fx_done(&f);
}

static void test_gen_is_deterministic(void **st)
{
    (void)st;
    const struct contend_workload *wl = contend_find_workload("log");
    char a[512], b[512];
    struct contend_gen g = {.seed = 7, .writer = 3, .writers = 4};
    g.opt[0] = 100;
    struct contend_op x = {.id = (3ull << 32) | 5, .buf = a, .buf_cap = sizeof a};
    struct contend_op y = {.id = (3ull << 32) | 5, .buf = b, .buf_cap = sizeof b};
    struct contend_rng r1, r2;
    contend_rng_init(&r1, 7, 3, 5);
    contend_rng_init(&r2, 7, 3, 5);
    wl->gen(&g, 5, &r1, &x);
    wl->gen(&g, 5, &r2, &y);
    assert_int_equal(x.kind, CONTEND_OP_LOG_APPEND);
    assert_int_equal(x.buf_len, y.buf_len);
    assert_memory_equal(a, b, x.buf_len);
    a[x.buf_len] = '\0';
    assert_non_null(strstr(a, "\"p\":\"w3#5:"));
    assert_null(strchr(a, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_across_files),
        cmocka_unit_test(test_missing_line),
        cmocka_unit_test(test_indeterminate_may_be_missing),
        cmocka_unit_test(test_duplicate_line),
        cmocka_unit_test(test_torn_tail_of_acked_line),
        cmocka_unit_test(test_torn_tail_of_unfinished_line),
        cmocka_unit_test(test_invalid_lines),
        cmocka_unit_test(test_crlf_is_invalid),
        cmocka_unit_test(test_failed_op_present),
        cmocka_unit_test(test_writer_order_own),
        cmocka_unit_test(test_writer_order_across_files),
        cmocka_unit_test(test_concurrent_ops_any_order),
        cmocka_unit_test(test_rotated_away_at_limit),
        cmocka_unit_test(test_missing_below_limit),
        cmocka_unit_test(test_missing_newer_than_oldest_kept),
        cmocka_unit_test(test_too_many_backups),
        cmocka_unit_test(test_gen_is_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
