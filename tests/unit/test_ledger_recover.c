/*
 * test_ledger_recover.c - the jsonl-ledger under crashes: recover() and the
 * writers' cut of a torn tail, durable() per durability setting, and the
 * ledger checker's torn-tail rule on synthetic files and histories (a torn
 * tail beyond the last acknowledged append is no violation; an
 * acknowledged append that is torn or gone always is).
 *
 * Records are written by the target itself, so their hashes are real; the
 * damage (a torn tail, a hole of zeros, an edited byte) is made by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "chain.h"
#include "helpers.h"
#include "registry.h"
#include "result.h"
#include "synth.h"

static const char *const opt_names[] = {"durability", "batch"};

struct store {
    char *dir;
    char *path;
    const char *opt_values[2];
    struct contend_env env;
    const struct contend_target *t;
};

static void store_init(struct store *s, const char *variant, const char *durability)
{
    memset(s, 0, sizeof *s);
    s->t = contend_find_target("jsonl-ledger");
    assert_non_null(s->t);
    s->dir = test_tmpdir("ledger-recover");
    s->path = contend_asprintf("%s/ledger.jsonl", s->dir);
    s->opt_values[0] = durability;
    s->opt_values[1] = "32";
    s->env = (struct contend_env){
        .store_dir = s->dir,
        .variant = variant,
        .variant_index = contend_variant_index(s->t, variant),
        .workload = "ledger",
        .procs = 1,
        .threads = 1,
        .worker = 0,
        .thread = 0,
        .keys = 1,
        .opt_names = opt_names,
        .opt_values = s->opt_values,
        .nopts = 2,
    };
    assert_true(s->env.variant_index >= 0);
    assert_int_equal(s->t->setup(&s->env), 0);
}

static void store_free(struct store *s)
{
    contend_rm_rf(s->dir);
    free(s->dir);
    free(s->path);
}

/* Append the records of writer 0's ops first..first+n-1 through the target,
 * as records seq0..seq0+n-1. */
static void append_ops(struct store *s, uint64_t first, unsigned n, uint64_t seq0)
{
    void *h;
    char payload[64];
    assert_int_equal(s->t->open(&s->env, &h), 0);
    for (unsigned i = 0; i < n; i++) {
        int len = snprintf(payload, sizeof payload, "entry \"%llu\" caf\xc3\xa9",
                           (unsigned long long)(first + i));
        struct contend_op op = {
            .kind = CONTEND_OP_APPEND,
            .writer = 0,
            .id = first + i,
            .key = first + i,
            .buf = payload,
            .buf_len = (uint32_t)len,
            .buf_cap = sizeof payload,
        };
        assert_int_equal(s->t->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, (int64_t)(seq0 + i));
    }
    s->t->close(h);
}

/* The usual case: op i is record i. */
static void append(struct store *s, uint64_t first, unsigned n)
{
    append_ops(s, first, n, first);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void add_bytes(const char *path, const char *text, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Offset of the start of line `no` (1-based). */
static size_t line_start(const char *buf, size_t len, unsigned no)
{
    size_t off = 0;
    for (unsigned i = 1; i < no; i++) {
        const char *nl = memchr(buf + off, '\n', len - off);
        assert_non_null(nl);
        off = (size_t)(nl - buf) + 1;
    }
    return off;
}

/* The recovery notes, or NULL when there are none. */
static char *notes(const struct store *s)
{
    char *p = contend_asprintf("%s/ledger.recovery", s->dir);
    size_t n;
    char *text = access(p, F_OK) == 0 ? slurp(p, &n) : NULL;
    free(p);
    return text;
}

struct tally {
    unsigned violations;
    char kinds[256];
};

static void on_chain_violation(void *ctx, const char *kind, uint64_t line, uint64_t off,
                               uint64_t other, const char *reason)
{
    (void)line, (void)off, (void)other, (void)reason;
    struct tally *t = ctx;
    t->violations++;
    size_t n = strlen(t->kinds);
    snprintf(t->kinds + n, sizeof t->kinds - n, "%s ", kind);
}

static struct tally chain_of(const char *path, uint64_t *records)
{
    struct tally t = {0};
    struct contend_chain_sink sink = {.ctx = &t, .violation = on_chain_violation};
    struct contend_chain_stats st;
    assert_int_equal(contend_chain_check_path(path, NULL, &sink, &st), 0);
    *records = st.records;
    return t;
}

/* ---- recover() ------------------------------------------------------------------ */

static void test_recover_cuts_torn_tail(void **state)
{
    (void)state;
    struct store s;
    size_t n0, n1;
    store_init(&s, "flock-tailscan", "each");
    append(&s, 0, 3);
    char *before = slurp(s.path, &n0);
    add_bytes(s.path, "{\"hash\":\"0123", 13);
    assert_int_equal(s.t->recover(&s.env), 0);
    char *after = slurp(s.path, &n1);
    assert_int_equal(n1, n0);
    assert_memory_equal(after, before, n0);
    char *note = notes(&s);
    assert_non_null(note);
    char want[96];
    snprintf(want, sizeof want, "cut 13 bytes at offset %zu (recover", n0);
    assert_non_null(strstr(note, want));
    free(note);
    free(before);
    free(after);
    store_free(&s);
}

static void test_recover_leaves_clean_file(void **state)
{
    (void)state;
    struct store s;
    size_t n0, n1;
    store_init(&s, "flock-tailscan", "each");
    append(&s, 0, 4);
    char *before = slurp(s.path, &n0);
    assert_int_equal(s.t->recover(&s.env), 0);
    char *after = slurp(s.path, &n1);
    assert_int_equal(n1, n0);
    assert_memory_equal(after, before, n0);
    assert_null(notes(&s));
    free(before);
    free(after);
    store_free(&s);
}

static void test_recover_empty_file(void **state)
{
    (void)state;
    struct store s;
    struct stat st;
    store_init(&s, "flock-tailscan", "each");
    assert_int_equal(s.t->recover(&s.env), 0);
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_null(notes(&s));
    /* A file of nothing but a fragment goes back to empty. */
    add_bytes(s.path, "{\"ha", 4);
    assert_int_equal(s.t->recover(&s.env), 0);
    assert_int_equal(stat(s.path, &st), 0);
    assert_int_equal(st.st_size, 0);
    store_free(&s);
}

/* After a power cut the damage need not be the last line: a hole of zeros
 * where an un-fsynced group was, whole records of a later group after it.
 * The locked variants cut the chain after its last good record. */
static void test_recover_cuts_hole_and_what_follows(void **state)
{
    (void)state;
    struct store s;
    size_t n, m;
    uint64_t records;
    store_init(&s, "batched", "each");
    append(&s, 0, 5);
    char *buf = slurp(s.path, &n);
    size_t third = line_start(buf, n, 3), fourth = line_start(buf, n, 4);
    /* Zeros from the middle of line 3 into line 4, newline included. */
    memset(buf + third + 40, 0, fourth + 20 - (third + 40));
    FILE *f = fopen(s.path, "wb");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    add_bytes(s.path, "{\"hash\":\"99", 11); /* and a torn tail */
    assert_int_equal(s.t->recover(&s.env), 0);
    char *after = slurp(s.path, &m);
    assert_int_equal(m, third);
    assert_memory_equal(after, buf, third);
    struct tally t = chain_of(s.path, &records);
    assert_int_equal(t.violations, 0);
    assert_int_equal(records, 2);
    free(after);
    free(buf);
    store_free(&s);
}

/* A complete line whose hash does not recompute, or that names the wrong
 * predecessor, ends the good chain too. */
static void test_recover_cuts_at_bad_hash(void **state)
{
    (void)state;
    struct store s;
    size_t n, m;
    store_init(&s, "flock-tailscan", "each");
    append(&s, 0, 4);
    char *buf = slurp(s.path, &n);
    size_t second = line_start(buf, n, 2);
    char *e = strstr(buf + second, "entry");
    assert_non_null(e);
    e[0] = 'E'; /* the payload, not the hash: it no longer recomputes */
    FILE *f = fopen(s.path, "wb");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    assert_int_equal(s.t->recover(&s.env), 0);
    char *after = slurp(s.path, &m);
    assert_int_equal(m, second);
    free(after);
    free(buf);
    store_free(&s);
}

/* The unlocked variants never look at their chain: their recovery cuts a
 * torn last line and leaves every complete line as it is. */
static void test_recover_unlocked_cuts_only_torn_tail(void **state)
{
    (void)state;
    struct store s;
    size_t n, m;
    store_init(&s, "nolock-split", "each");
    append(&s, 0, 4);
    char *buf = slurp(s.path, &n);
    size_t second = line_start(buf, n, 2);
    memset(buf + second + 10, 0, 30);
    FILE *f = fopen(s.path, "wb");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    add_bytes(s.path, "{\"hash\"", 7);
    assert_int_equal(s.t->recover(&s.env), 0);
    char *after = slurp(s.path, &m);
    assert_int_equal(m, n);
    assert_memory_equal(after, buf, n);
    free(after);
    free(buf);
    store_free(&s);
}

/* A locked writer that finds a torn tail under the lock cuts it and chains
 * its record onto the last complete one. */
static void test_append_cuts_torn_tail(void **state)
{
    (void)state;
    struct store s;
    size_t n0, n1;
    uint64_t records;
    store_init(&s, "flock-tailscan", "none");
    append(&s, 0, 2);
    char *before = slurp(s.path, &n0);
    add_bytes(s.path, "{\"hash\":\"abc\",\"op\":7", 20);
    append(&s, 2, 1);
    char *after = slurp(s.path, &n1);
    assert_true(n1 > n0);
    assert_memory_equal(after, before, n0);
    assert_int_equal(after[n0], '{');
    struct tally t = chain_of(s.path, &records);
    assert_int_equal(t.violations, 0);
    assert_int_equal(records, 3);
    char *note = notes(&s);
    assert_non_null(note);
    assert_non_null(strstr(note, "cut 20 bytes"));
    assert_non_null(strstr(note, "(append"));
    free(note);
    free(before);
    free(after);
    store_free(&s);
}

/* ---- durable() -------------------------------------------------------------------- */

static void test_durable_only_with_fsync_per_append(void **state)
{
    (void)state;
    static const struct {
        const char *variant, *durability;
        int durable;
    } cases[] = {
        {"flock-tailscan", "each", 1}, {"flock-tailscan", "batch", 0},
        {"flock-tailscan", "none", 0}, {"batched", "each", 1},
        {"batched", "none", 0},        {"nolock", "each", 0},
        {"nolock-split", "each", 0},   {"readlines", "each", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store s;
        store_init(&s, cases[i].variant, cases[i].durability);
        assert_non_null(s.t->durable);
        assert_int_equal(contend_target_durable(s.t, &s.env), cases[i].durable);
        store_free(&s);
    }
    /* A table without the callback is judged by its variant's flag. */
    const struct contend_target *doc = contend_find_target("json-doc");
    struct contend_env env = {.variant_index = contend_variant_index(doc, "flock")};
    assert_int_equal(contend_target_durable(doc, &env), 1);
    env.variant_index = contend_variant_index(doc, "flock-nofsync");
    assert_int_equal(contend_target_durable(doc, &env), 0);
}

/* ---- the checker's torn-tail rule ------------------------------------------------ */

/* A ledger the target wrote, and the history of its one writer. */
struct ledger {
    struct store s;
    struct synth h;
};

/* Writer 0 appended ops 0..n-1 (records in the file), with these statuses. */
static void ledger_init(struct ledger *y, const uint8_t *status, unsigned n)
{
    store_init(&y->s, "flock-tailscan", "each");
    synth_init(&y->h, "ledger", "jsonl-ledger", y->s.env.variant, 1, 0);
    /* The checker reads the file itself, not a final state. */
    y->h.has_state = false;
    y->h.store_dir = y->s.dir;
    for (unsigned i = 0; i < n; i++)
        synth_append(&y->h, 0,
                     (struct contend_record){
                         .t_invoke = 100 * i,
                         .t_complete = status[i] ? 100 * i + 50 : 0,
                         .kind = CONTEND_OP_APPEND,
                         .status = status[i],
                         .key = i,
                         .value = i,
                     });
    append(&y->s, 0, n);
}

/* Cut the last `drop` bytes of the file: the last record torn. */
static void tear(struct ledger *y, size_t drop)
{
    struct stat st;
    assert_int_equal(stat(y->s.path, &st), 0);
    assert_int_equal(truncate(y->s.path, st.st_size - (off_t)drop), 0);
}

/* Replace the last record by a fragment of `text`. */
static void replace_last(struct ledger *y, const char *text)
{
    size_t n;
    char *buf = slurp(y->s.path, &n);
    assert_true(n > 0 && buf[n - 1] == '\n');
    size_t start = n - 1;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    assert_int_equal(truncate(y->s.path, (off_t)start), 0);
    add_bytes(y->s.path, text, strlen(text));
    free(buf);
}

static void ledger_free(struct ledger *y)
{
    contend_rep_free(&y->h.rep);
    store_free(&y->s);
}

/* The last append was in flight when its writer died: its torn record is
 * beyond every acknowledged append, and recovery removes it. */
static void test_torn_tail_of_indeterminate_append_accepted(void **state)
{
    (void)state;
    static const uint8_t st[] = {CONTEND_OK, CONTEND_OK, CONTEND_OK, CONTEND_STATUS_INVOKED};
    struct ledger y;
    ledger_init(&y, st, 4);
    tear(&y, 30);
    synth_check(&y.h);
    assert_int_equal(y.h.rep.nv, 0);
    assert_true(synth_stat(&y.h, "ledger_torn_tail_bytes") > 0);
    ledger_free(&y);
    /* Timed out (info) or failed: the same. */
    static const uint8_t st2[] = {CONTEND_OK, CONTEND_INFO};
    ledger_init(&y, st2, 2);
    tear(&y, 1); /* only the newline is missing */
    synth_check(&y.h);
    assert_int_equal(y.h.rep.nv, 0);
    ledger_free(&y);
    static const uint8_t st3[] = {CONTEND_OK, CONTEND_FAIL};
    ledger_init(&y, st3, 2);
    tear(&y, 100);
    synth_check(&y.h);
    assert_int_equal(y.h.rep.nv, 0);
    ledger_free(&y);
}

/* An acknowledged append torn: the tail is not beyond the last durable
 * append, it *is* it.  torn-line names the op, and it is missing. */
static void test_torn_tail_of_acknowledged_append_reported(void **state)
{
    (void)state;
    static const uint8_t st[] = {CONTEND_OK, CONTEND_OK, CONTEND_OK};
    struct ledger y;
    ledger_init(&y, st, 3);
    tear(&y, 30);
    synth_check(&y.h);
    const struct contend_violation *torn = synth_find(&y.h, "torn-line");
    assert_non_null(torn);
    assert_int_equal(torn->nwitness, 1);
    assert_int_equal(torn->witness[0].index, 2);
    assert_non_null(strstr(torn->message, "line 3 "));
    assert_non_null(strstr(torn->message, "torn after it was acknowledged"));
    const struct contend_violation *miss = synth_find(&y.h, "missing-append");
    assert_non_null(miss);
    assert_int_equal(miss->count, 1);
    assert_int_equal(miss->witness[0].index, 2);
    ledger_free(&y);
}

/* A fragment too short to name its op cannot be told apart: whatever it
 * was, an acknowledged append that is not in the ledger is missing. */
static void test_short_fragment_still_reports_missing_durable_append(void **state)
{
    (void)state;
    static const uint8_t st[] = {CONTEND_OK, CONTEND_OK, CONTEND_OK};
    struct ledger y;
    ledger_init(&y, st, 3);
    replace_last(&y, "{\"hash\":\"3f");
    synth_check(&y.h);
    assert_null(synth_find(&y.h, "torn-line"));
    const struct contend_violation *miss = synth_find(&y.h, "missing-append");
    assert_non_null(miss);
    assert_int_equal(miss->witness[0].index, 2);
    ledger_free(&y);
    /* The same file with that append indeterminate is clean. */
    static const uint8_t st2[] = {CONTEND_OK, CONTEND_OK, CONTEND_INFO};
    ledger_init(&y, st2, 3);
    replace_last(&y, "{\"hash\":\"3f");
    synth_check(&y.h);
    assert_int_equal(y.h.rep.nv, 0);
    ledger_free(&y);
}

/* The rule is about a torn *last* line only.  An acknowledged append that
 * vanished without a trace is missing, whatever the tail holds; and a
 * fragment that a later line ended (it has its newline now) is an invalid
 * line, even when the append it came from was indeterminate. */
static void test_damage_elsewhere_still_reported(void **state)
{
    (void)state;
    static const uint8_t st[] = {CONTEND_OK, CONTEND_OK, CONTEND_STATUS_INVOKED};
    struct ledger y;
    size_t n;
    ledger_init(&y, st, 3);
    char *buf = slurp(y.s.path, &n);
    assert_int_equal(truncate(y.s.path, (off_t)line_start(buf, n, 2)), 0); /* ops 1, 2 gone */
    add_bytes(y.s.path, "{\"hash\":\"3f", 11);
    free(buf);
    synth_check(&y.h);
    assert_null(synth_find(&y.h, "torn-line"));
    const struct contend_violation *miss = synth_find(&y.h, "missing-append");
    assert_non_null(miss);
    assert_int_equal(miss->count, 1);
    assert_int_equal(miss->witness[0].index, 1);
    ledger_free(&y);

    ledger_init(&y, st, 3);
    buf = slurp(y.s.path, &n);
    assert_int_equal(truncate(y.s.path, (off_t)line_start(buf, n, 3)), 0); /* op 2 gone */
    add_bytes(y.s.path, "{\"hash\":\"3f\n", 12);
    free(buf);
    synth_check(&y.h);
    assert_null(synth_find(&y.h, "torn-line"));
    assert_null(synth_find(&y.h, "missing-append"));
    assert_non_null(synth_find(&y.h, "invalid-line"));
    ledger_free(&y);
}

/* ---- the checker's history rules ------------------------------------------------- */

/* Every record must belong to an op the history shows succeeded or may have:
 * a record of an op never invoked, or of one that failed, is unknown-append;
 * an op's record twice is duplicate-append.  A clean ledger says neither. */
static void test_records_must_match_the_history(void **state)
{
    (void)state;
    static const uint8_t ok3[] = {CONTEND_OK, CONTEND_OK, CONTEND_OK};
    struct ledger y;

    ledger_init(&y, ok3, 3);
    synth_check(&y.h);
    assert_int_equal(y.h.rep.nv, 0);
    ledger_free(&y);

    /* Op #3 of writer 0 was never invoked, yet its record is there. */
    ledger_init(&y, ok3, 3);
    append(&y.s, 3, 1);
    synth_check(&y.h);
    const struct contend_violation *v = synth_find(&y.h, "unknown-append");
    assert_non_null(v);
    assert_non_null(strstr(v->message, "line 4 "));
    assert_non_null(strstr(v->message, "was never invoked"));
    assert_null(synth_find(&y.h, "duplicate-append"));
    ledger_free(&y);

    /* Op #1 failed: its record must not be there. */
    static const uint8_t failed[] = {CONTEND_OK, CONTEND_FAIL, CONTEND_OK};
    ledger_init(&y, failed, 3);
    synth_check(&y.h);
    v = synth_find(&y.h, "unknown-append");
    assert_non_null(v);
    assert_int_equal(v->nwitness, 1);
    assert_int_equal(v->witness[0].index, 1);
    assert_non_null(strstr(v->message, "failed, yet its record is in the ledger"));
    ledger_free(&y);

    /* Op #1 appended twice (a retry after an ack was lost, done wrong). */
    ledger_init(&y, ok3, 3);
    append_ops(&y.s, 1, 1, 3);
    synth_check(&y.h);
    v = synth_find(&y.h, "duplicate-append");
    assert_non_null(v);
    assert_int_equal(v->witness[0].index, 1);
    assert_non_null(strstr(v->message, "(first on line 2)"));
    assert_null(synth_find(&y.h, "unknown-append"));
    ledger_free(&y);
}

/* ---- reading a fragment ---------------------------------------------------------- */

static void test_fragment_int(void **state)
{
    (void)state;
    int64_t v = 0;
#define FRAG(s, key) contend_chain_fragment_int(s, strlen(s), key, &v)
    assert_true(FRAG("{\"hash\":\"ab\",\"op\":4294967298,\"payload\":\"x", "op"));
    assert_int_equal(v, 4294967298LL);
    assert_true(FRAG("{ \"op\" : -3 }", "op"));
    assert_int_equal(v, -3);
    /* Cut inside the number: it might have had more digits. */
    assert_false(FRAG("{\"hash\":\"ab\",\"op\":42949", "op"));
    /* Cut before the key, inside a string, before the value. */
    assert_false(FRAG("{\"hash\":\"ab", "op"));
    assert_false(FRAG("{\"hash\":\"ab\",\"op\":", "op"));
    /* The key inside a string value, or in a nested object, is not it. */
    assert_false(FRAG("{\"payload\":\"\\\"op\\\":5,\",\"x\":1", "op"));
    assert_false(FRAG("{\"payload\":{\"op\":5},\"x\":1", "op"));
    assert_true(FRAG("{\"payload\":{\"op\":5},\"op\":6,", "op"));
    assert_int_equal(v, 6);
    /* A string value "op" is not a key; nor is a non-integer value. */
    assert_false(FRAG("{\"kind\":\"op\",\"n\":1}", "op"));
    assert_false(FRAG("{\"op\":\"7\"}", "op"));
    assert_false(FRAG("{\"op\":1.5}", "op"));
    /* An escaped backslash before a closing quote ends the string. */
    assert_true(FRAG("{\"p\":\"a\\\\\",\"op\":9}", "op"));
    assert_int_equal(v, 9);
#undef FRAG
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recover_cuts_torn_tail),
        cmocka_unit_test(test_recover_leaves_clean_file),
        cmocka_unit_test(test_recover_empty_file),
        cmocka_unit_test(test_recover_cuts_hole_and_what_follows),
        cmocka_unit_test(test_recover_cuts_at_bad_hash),
        cmocka_unit_test(test_recover_unlocked_cuts_only_torn_tail),
        cmocka_unit_test(test_append_cuts_torn_tail),
        cmocka_unit_test(test_durable_only_with_fsync_per_append),
        cmocka_unit_test(test_torn_tail_of_indeterminate_append_accepted),
        cmocka_unit_test(test_torn_tail_of_acknowledged_append_reported),
        cmocka_unit_test(test_short_fragment_still_reports_missing_durable_append),
        cmocka_unit_test(test_damage_elsewhere_still_reported),
        cmocka_unit_test(test_records_must_match_the_history),
        cmocka_unit_test(test_fragment_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
