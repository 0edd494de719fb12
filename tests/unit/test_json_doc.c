/*
 * test_json_doc.c - the json-doc target through its ABI table: increments,
 * the .bak it keeps, and load falling back to .bak when the document is
 * corrupt or missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"

struct collected {
    int64_t k0;
    int nvalues, nviolations;
    double bak_fallback;
    char kind[64];
};

static void on_value(void *ctx, uint64_t key, int64_t value)
{
    struct collected *c = ctx;
    if (key == 0)
        c->k0 = value;
    c->nvalues++;
}

static void on_violation(void *ctx, const char *kind, uint64_t count, const char *msg)
{
    (void)count;
    (void)msg;
    struct collected *c = ctx;
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    c->nviolations++;
}

static void on_stat(void *ctx, const char *name, double v)
{
    struct collected *c = ctx;
    if (strcmp(name, "bak_fallback") == 0)
        c->bak_fallback += v;
}

static struct collected read_state(const struct contend_env *env)
{
    struct collected c = {0};
    struct contend_sink sink = {&c, on_value, on_violation, on_stat};
    assert_int_equal(contend_find_target("json-doc")->read_state(env, &sink), 0);
    return c;
}

static struct contend_env env_for(const char *dir, const char *variant)
{
    const struct contend_target *t = contend_find_target("json-doc");
    struct contend_env env = {
        .store_dir = dir,
        .variant = variant,
        .variant_index = contend_variant_index(t, variant),
        .workload = "counter",
        .procs = 1,
        .threads = 1,
        .keys = 1,
    };
    return env;
}

static void test_incr_keeps_bak(void **state)
{
    (void)state;
    const struct contend_target *t = contend_find_target("json-doc");
    char *dir = test_tmpdir("jsondoc");
    struct contend_env env = env_for(dir, "flock");
    void *h;
    assert_int_equal(t->setup(&env), 0);
    assert_int_equal(t->open(&env, &h), 0);
    for (int i = 1; i <= 3; i++) {
        struct contend_op op = {.kind = CONTEND_OP_INCR, .key = 0};
        assert_int_equal(t->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, i);
    }
    struct contend_op rd = {.kind = CONTEND_OP_READ, .key = 0};
    assert_int_equal(t->apply(h, &rd), CONTEND_OK);
    assert_int_equal(rd.value, 3);
    struct contend_op bad = {.kind = CONTEND_OP_APPEND};
    assert_int_equal(t->apply(h, &bad), CONTEND_FAIL);
    t->close(h);

    char *bak = contend_asprintf("%s/doc.json.bak", dir), *text = NULL;
    assert_int_equal(contend_read_file(bak, &text, NULL), 0);
    assert_string_equal(text, "{\"counters\":{\"k0\":2}}"); /* the state before the last write */
    struct collected c = read_state(&env);
    assert_int_equal(c.k0, 3);
    assert_int_equal(c.nviolations, 0);
    assert_true(c.bak_fallback == 0);
    free(text);
    free(bak);
    contend_rm_rf(dir);
    free(dir);
}

static void test_corrupt_doc_falls_back_to_bak(void **state)
{
    (void)state;
    char *dir = test_tmpdir("jsondoc");
    struct contend_env env = env_for(dir, "flock");
    /* A writer died half-way through an in-place write. */
    free(test_write(dir, "doc.json", "{\"counters\":{\"k0\":", 18));
    free(test_write(dir, "doc.json.bak", "{\"counters\":{\"k0\":7}}", 21));
    struct collected c = read_state(&env);
    assert_int_equal(c.k0, 7);
    assert_true(c.bak_fallback == 1);
    assert_int_equal(c.nviolations, 0);

    /* An increment continues from .bak and writes a good document. */
    const struct contend_target *t = contend_find_target("json-doc");
    void *h;
    assert_int_equal(t->open(&env, &h), 0);
    struct contend_op op = {.kind = CONTEND_OP_INCR, .key = 0};
    assert_int_equal(t->apply(h, &op), CONTEND_OK);
    assert_int_equal(op.value, 8);
    t->close(h);
    c = read_state(&env);
    assert_int_equal(c.k0, 8);
    assert_true(c.bak_fallback == 0);
    contend_rm_rf(dir);
    free(dir);
}

static void test_missing_doc_falls_back_to_bak(void **state)
{
    (void)state;
    char *dir = test_tmpdir("jsondoc");
    struct contend_env env = env_for(dir, "flock");
    /* A crash between "doc -> .bak" and "tmp -> doc". */
    free(test_write(dir, "doc.json.bak", "{\"counters\":{\"k0\":4}}", 21));
    struct collected c = read_state(&env);
    assert_int_equal(c.k0, 4);
    assert_true(c.bak_fallback == 1);
    contend_rm_rf(dir);
    free(dir);
}

static void test_both_corrupt_is_a_violation(void **state)
{
    (void)state;
    char *dir = test_tmpdir("jsondoc");
    struct contend_env env = env_for(dir, "flock");
    free(test_write(dir, "doc.json", "[1,2", 4));
    free(test_write(dir, "doc.json.bak", "{\"other\":1}", 11));
    struct collected c = read_state(&env);
    assert_int_equal(c.nviolations, 1);
    assert_string_equal(c.kind, "corrupt-store");
    assert_int_equal(c.nvalues, 0);

    /* An increment on an unreadable store fails and writes nothing. */
    const struct contend_target *t = contend_find_target("json-doc");
    void *h;
    assert_int_equal(t->open(&env, &h), 0);
    struct contend_op op = {.kind = CONTEND_OP_INCR};
    assert_int_equal(t->apply(h, &op), CONTEND_FAIL);
    assert_int_equal(op.err, EBADMSG);
    t->close(h);
    contend_rm_rf(dir);
    free(dir);
}

static void test_broken_variants_work_alone(void **state)
{
    (void)state;
    static const char *const variants[] = {"nolock", "stale-read", "flock-nofsync"};
    const struct contend_target *t = contend_find_target("json-doc");
    for (size_t v = 0; v < 3; v++) {
        char *dir = test_tmpdir("jsondoc");
        struct contend_env env = env_for(dir, variants[v]);
        void *h;
        assert_int_equal(t->setup(&env), 0);
        assert_int_equal(t->open(&env, &h), 0);
        /* One writer alone never loses an update, whatever the variant. */
        for (int i = 1; i <= 5; i++) {
            struct contend_op op = {.kind = CONTEND_OP_INCR, .key = 0};
            assert_int_equal(t->apply(h, &op), CONTEND_OK);
            assert_int_equal(op.value, i);
        }
        struct contend_op rd = {.kind = CONTEND_OP_READ};
        assert_int_equal(t->apply(h, &rd), CONTEND_OK);
        assert_int_equal(rd.value, 5);
        t->close(h);
        assert_int_equal(read_state(&env).k0, 5);
        contend_rm_rf(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incr_keeps_bak),
        cmocka_unit_test(test_corrupt_doc_falls_back_to_bak),
        cmocka_unit_test(test_missing_doc_falls_back_to_bak),
        cmocka_unit_test(test_both_corrupt_is_a_violation),
        cmocka_unit_test(test_broken_variants_work_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
