/*
 * test_json_doc_bank_claim.c - bank and claim on the json-doc target: the
 * sections setup writes, transfers (moved, declined, to itself), read-all,
 * claims (won, lost), read_state reporting the workload's section, and a
 * document without the section failing the op instead of inventing money.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "registry.h"

struct collected {
    struct contend_kv kv[16];
    size_t n;
    int nviolations;
};

static void on_value(void *ctx, uint64_t key, int64_t value)
{
    struct collected *c = ctx;
    if (c->n < 16)
        c->kv[c->n++] = (struct contend_kv){.key = key, .value = value};
}

static void on_violation(void *ctx, const char *kind, uint64_t count, const char *msg)
{
    (void)kind;
    (void)count;
    (void)msg;
    ((struct collected *)ctx)->nviolations++;
}

static void on_stat(void *ctx, const char *name, double v)
{
    (void)ctx;
    (void)name;
    (void)v;
}

static const struct contend_target *target(void)
{
    return contend_find_target("json-doc");
}

static struct contend_env env_for(const char *dir, const char *variant, const char *workload,
                                  uint64_t keys)
{
    struct contend_env env = {
        .store_dir = dir,
        .variant = variant,
        .variant_index = contend_variant_index(target(), variant),
        .workload = workload,
        .procs = 1,
        .threads = 1,
        .keys = keys,
    };
    assert_true(env.variant_index >= 0);
    return env;
}

static struct collected read_state(const struct contend_env *env)
{
    struct collected c = {0};
    struct contend_sink sink = {&c, on_value, on_violation, on_stat};
    assert_int_equal(target()->read_state(env, &sink), 0);
    return c;
}

static int64_t value_of(const struct collected *c, uint64_t key)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->kv[i].key == key)
            return c->kv[i].value;
    return INT64_MIN;
}

static const char *const variants[] = {"flock", "flock-nofsync", "nolock", "stale-read"};

static void test_bank(void **state)
{
    (void)state;
    assert_true(target()->flags & CONTEND_TARGET_NO_OVERDRAFT);
    for (size_t v = 0; v < 4; v++) {
        char *dir = test_tmpdir("jsonbank");
        struct contend_env env = env_for(dir, variants[v], "bank", 3);
        void *h;
        assert_int_equal(target()->setup(&env), 0);
        assert_int_equal(target()->open(&env, &h), 0);
        struct contend_op op = {.kind = CONTEND_OP_TRANSFER, .key = 0, .key2 = 2, .arg = 30};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, 1);
        op = (struct contend_op){.kind = CONTEND_OP_TRANSFER, .key = 0, .key2 = 1, .arg = 71};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, 0); /* 70 left: declined */
        op = (struct contend_op){.kind = CONTEND_OP_TRANSFER, .key = 1, .key2 = 1, .arg = 5};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        op = (struct contend_op){.kind = CONTEND_OP_TRANSFER, .key = 0, .key2 = 9, .arg = 5};
        assert_int_equal(target()->apply(h, &op), CONTEND_FAIL); /* no account 9 */
        assert_int_equal(op.err, EBADMSG);
        op = (struct contend_op){.kind = CONTEND_OP_READ_ALL};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, 300);
        assert_int_equal((int64_t)op.value2, 70);
        target()->close(h);
        struct collected c = read_state(&env);
        assert_int_equal(c.n, 3);
        assert_int_equal(value_of(&c, 0), 70);
        assert_int_equal(value_of(&c, 1), 100);
        assert_int_equal(value_of(&c, 2), 130);
        assert_int_equal(c.nviolations, 0);
        contend_rm_rf(dir);
        free(dir);
    }
}

static void test_claim(void **state)
{
    (void)state;
    for (size_t v = 0; v < 4; v++) {
        char *dir = test_tmpdir("jsonclaim");
        struct contend_env env = env_for(dir, variants[v], "claim", 10);
        void *h;
        assert_int_equal(target()->setup(&env), 0);
        assert_int_equal(target()->open(&env, &h), 0);
        struct contend_op op = {.kind = CONTEND_OP_CLAIM, .key = 4, .id = 77};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, 1);
        op = (struct contend_op){.kind = CONTEND_OP_CLAIM, .key = 4, .id = 78};
        assert_int_equal(target()->apply(h, &op), CONTEND_OK);
        assert_int_equal(op.value, 0);
        target()->close(h);
        struct collected c = read_state(&env);
        assert_int_equal(c.n, 1);
        assert_int_equal(value_of(&c, 4), 77);
        contend_rm_rf(dir);
        free(dir);
    }
}

static void test_document_without_the_section(void **state)
{
    (void)state;
    char *dir = test_tmpdir("jsonbank");
    /* A counter document: no accounts, no claims yet. */
    struct contend_env env = env_for(dir, "flock", "counter", 3);
    void *h;
    assert_int_equal(target()->setup(&env), 0);
    assert_int_equal(target()->open(&env, &h), 0);
    struct contend_op op = {.kind = CONTEND_OP_READ_ALL};
    assert_int_equal(target()->apply(h, &op), CONTEND_FAIL);
    assert_int_equal(op.err, EBADMSG);
    op = (struct contend_op){.kind = CONTEND_OP_TRANSFER, .key = 0, .key2 = 1, .arg = 1};
    assert_int_equal(target()->apply(h, &op), CONTEND_FAIL);
    /* A claim adds its section. */
    op = (struct contend_op){.kind = CONTEND_OP_CLAIM, .key = 2, .id = 5};
    assert_int_equal(target()->apply(h, &op), CONTEND_OK);
    assert_int_equal(op.value, 1);
    target()->close(h);
    env.workload = "claim";
    struct collected c = read_state(&env);
    assert_int_equal(value_of(&c, 2), 5);
    contend_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bank),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_document_without_the_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
