/*
 * test_durable.c - contend_target_durable(): whether a case's acknowledged
 * ops are promised durable, from the target's durable() when its table has
 * one, else from the variant's flag.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "registry.h"

static const struct contend_variant variants[] = {
    {"durable", "flagged durable", CONTEND_VARIANT_DURABLE, NULL},
    {"plain", "not flagged", 0, NULL},
    {NULL, NULL, 0, NULL},
};

static int calls;

/* Durable exactly when the option fsync=yes is set. */
static int by_option(const struct contend_env *env)
{
    calls++;
    return strcmp(contend_opt(env, "fsync", "no"), "yes") == 0;
}

static int says_error(const struct contend_env *env)
{
    (void)env;
    calls++;
    return -EINVAL;
}

static struct contend_env env_of(int variant, const char *fsync)
{
    static const char *names[] = {"fsync"};
    static const char *values[1];
    values[0] = fsync;
    return (struct contend_env){
        .variant = variants[variant].name,
        .variant_index = variant,
        .opt_names = names,
        .opt_values = values,
        .nopts = fsync ? 1 : 0,
    };
}

static void test_variant_flag_without_the_member(void **state)
{
    (void)state;
    /* A table without durable(): the variant's flag decides. */
    struct contend_target t = {.name = "plain", .variants = variants};
    struct contend_env e = env_of(0, "no");
    assert_true(contend_target_durable(&t, &e));
    e = env_of(1, "yes");
    assert_false(contend_target_durable(&t, &e));
    e.variant_index = -1;
    assert_false(contend_target_durable(&t, &e));
}

static void test_the_member_decides(void **state)
{
    (void)state;
    struct contend_target t = {.name = "new", .variants = variants, .durable = by_option};
    struct contend_env e = env_of(0, "no");
    calls = 0;
    /* Flagged durable, but the options say no: the member wins. */
    assert_false(contend_target_durable(&t, &e));
    e = env_of(1, "yes");
    assert_true(contend_target_durable(&t, &e));
    e = env_of(1, NULL);
    assert_false(contend_target_durable(&t, &e));
    assert_int_equal(calls, 3);
    /* A negative answer is no promise. */
    t.durable = says_error;
    e = env_of(0, "yes");
    assert_false(contend_target_durable(&t, &e));
    /* Without the member: the variant's flag. */
    t.durable = NULL;
    assert_true(contend_target_durable(&t, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variant_flag_without_the_member),
        cmocka_unit_test(test_the_member_decides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
