/*
 * test_scenario.c - scenario files: resolution order, and every malformed
 * input giving file:line and -EINVAL (exit 2), never a crash.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "extension.h"
#include "helpers.h"
#include "scenario.h"

/* An extension with a section and a validator, as faults and time control use. */
static int fake_validate(const char *key, const char *value, char **why)
{
    (void)key;
    if (strcmp(value, "bad") != 0)
        return 0;
    *why = contend_strdup("bad is not a level");
    return -EINVAL;
}

static const struct contend_option fake_keys[] = {
    {"fake.level", "3", NULL, "a level"},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_extension fake_ext = {
    .name = "fake",
    .help = "test",
    .section = "fake",
    .keys = fake_keys,
    .validate = fake_validate,
};
CONTEND_EXTENSION_REGISTER(fake_ext)

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = test_tmpdir("scenario");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    contend_rm_rf(dir);
    free(dir);
    return 0;
}

/* Load `text` as a scenario; returns rc and what was printed. */
static int load(const char *text, size_t len, const struct contend_settings *over,
                struct contend_scenario *sc, char **err, char **path)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "s%d.ini", n++);
    *path = test_write(dir, name, text, len);
    struct test_capture cap;
    capture_begin(&cap);
    int rc = contend_scenario_load(*path, over, NULL, sc);
    *err = capture_end(&cap);
    return rc;
}

/* The message must name file:line. */
static void expect_error(const char *text, int line, const char *needle)
{
    struct contend_scenario sc;
    char *err, *path;
    int rc = load(text, strlen(text), NULL, &sc, &err, &path);
    assert_int_equal(rc, -EINVAL);
    char *where = contend_asprintf("%s:%d:", path, line);
    if (!strstr(err, where) || (needle && !strstr(err, needle)))
        fail_msg("expected '%s' and '%s' in: %s", where, needle ? needle : "", err);
    free(where);
    free(err);
    free(path);
}

static void test_resolution_order(void **state)
{
    (void)state;
    const char *text = "; comment\n"
                       "[global]\n"
                       "workload = counter\n"
                       "target = json-doc\n"
                       "procs = 3\n"
                       "ops = 10k\n"
                       "\n"
                       "[a]\n"
                       "variant = nolock\n"
                       "procs = 2\n"
                       "expect = lost-update\n"
                       "[b]\n"
                       "target = json-doc:stale-read\n"
                       "duration = 1500ms\n"
                       "read_pct = 25\n";
    struct contend_settings over = {0};
    contend_settings_add(&over, "threads", "4", "--set", 0);
    struct contend_scenario sc;
    char *err, *path;
    assert_int_equal(load(text, strlen(text), &over, &sc, &err, &path), 0);
    assert_int_equal(sc.ncases, 2);
    const struct contend_case *a = &sc.cases[0], *b = &sc.cases[1];
    assert_string_equal(a->name, "a");
    assert_int_equal(a->line, 8);
    assert_string_equal(a->variant, "nolock");
    assert_int_equal(a->procs, 2);
    assert_int_equal(a->threads, 4);
    assert_int_equal(a->ops, 10000);
    assert_true(contend_case_expects(a, "lost-update"));
    assert_false(contend_case_expects(a, "lost"));
    assert_string_equal(b->variant, "stale-read");
    assert_int_equal(b->procs, 3);
    assert_int_equal(b->ops, 0);
    assert_int_equal(b->duration_ns, 1500000000ull);
    assert_string_equal(b->wopt_names[0], "read_pct");
    assert_string_equal(b->wopt_values[0], "25");
    assert_true(isnan(b->min_tps));
    contend_scenario_free(&sc);
    contend_settings_free(&over);
    free(err);
    free(path);
}

static void test_global_only_is_one_case(void **state)
{
    (void)state;
    const char *text = "workload = counter\ntarget = null\n";
    struct contend_scenario sc;
    char *err, *path;
    assert_int_equal(load(text, strlen(text), NULL, &sc, &err, &path), 0);
    assert_int_equal(sc.ncases, 1);
    assert_string_equal(sc.cases[0].variant, "default");
    contend_scenario_free(&sc);
    free(err);
    free(path);
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error("[global]\nworkload = counter\ntarget = null\n[x]\nprocz = 2\n", 5, "unknown key");
}

static void test_procs_zero(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = null\nprocs = 0\n", 4, "procs = 0");
}

static void test_procs_negative(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = null\nprocs = -3\n", 4, "whole number");
}

static void test_ops_abc(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = null\n\nops = abc\n", 5, "ops = abc");
}

static void test_missing_target(void **state)
{
    (void)state;
    expect_error("[global]\nworkload = counter\n\n[x]\nprocs = 2\n", 4, "no target");
}

static void test_missing_workload(void **state)
{
    (void)state;
    expect_error("[x]\ntarget = null\n", 1, "no workload");
}

static void test_unknown_variant(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = json-doc:nope\n", 3, "no variant 'nope'");
    expect_error("[x]\nworkload = counter\ntarget = json-doc\nvariant = nope\n", 4, "flock");
    expect_error("[x]\nworkload = counter\ntarget = json-doc:flok\n", 3,
                 "no variant 'flok' (did you mean 'flock'?)");
}

static void test_unknown_target_and_workload(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = mysql\n", 3, "unknown target");
    expect_error("[x]\nworkload = countr\ntarget = null\n", 2, "unknown workload");
    /* A near miss gets the name back; a far one only the list. */
    expect_error("[x]\nworkload = countr\ntarget = null\n", 2, "did you mean 'counter'?");
    expect_error("[x]\nworkload = counter\ntarget = jsondoc\n", 3, "did you mean 'json-doc'?");
    expect_error("[x]\nworkload = counter\ntarget = null\nprocz = 2\n", 4,
                 "unknown key (did you mean 'procs'?)");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\ntarget = null\nduration = soon\n", 4, "duration");
    expect_error("[x]\nworkload = counter\ntarget = null\nexpect = lost\n", 4, "unknown violation");
    expect_error("[x]\nworkload = counter\ntarget = null\nmin_tps = -1\n", 4, "non-negative");
    expect_error("[x]\nworkload = counter\ntarget = null\nthreads = 99999\n", 4, "1 to 1024");
    expect_error("[x]\nworkload = counter\ntarget = null\nops = 1.5\n", 4, "whole number");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("[x]\nworkload = counter\nthis is not a key\n", 3, "key = value");
    expect_error("[x\nworkload = counter\n", 1, "key = value");
    expect_error("[x]\nworkload = counter\ntarget = null\n[x]\nprocs = 2\n", 4, "twice");
}

static void test_binary_file(void **state)
{
    (void)state;
    static const char bin[] = "\x7f"
                              "ELF\x02\x01\x01\n\x00\x00\x03\x00>\x00";
    struct contend_scenario sc;
    char *err, *path;
    assert_int_equal(load(bin, sizeof bin - 1, NULL, &sc, &err, &path), -EINVAL);
    assert_non_null(strstr(err, ":2: not a scenario file"));
    free(err);
    free(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct contend_scenario sc;
    struct test_capture cap;
    capture_begin(&cap);
    int rc = contend_scenario_load("/nonexistent/x.ini", NULL, NULL, &sc);
    char *err = capture_end(&cap);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(err, "cannot read"));
    free(err);
}

static void test_set_error_names_origin(void **state)
{
    (void)state;
    struct contend_settings ss = {0};
    struct contend_scenario sc;
    contend_settings_add(&ss, "workload", "counter", "--workload", 0);
    contend_settings_add(&ss, "target", "null", "--target", 0);
    contend_settings_add(&ss, "procs", "x", "--set", 0);
    struct test_capture cap;
    capture_begin(&cap);
    int rc = contend_scenario_from_settings("cli", &ss, &sc);
    char *err = capture_end(&cap);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, "--set: procs=x"));
    free(err);
    contend_settings_free(&ss);
}

static void test_only_case(void **state)
{
    (void)state;
    const char *text = "[global]\nworkload = counter\ntarget = null\n[a]\n[b]\nops = 5\n";
    char *path = test_write(dir, "only.ini", text, strlen(text));
    struct contend_scenario sc;
    assert_int_equal(contend_scenario_load(path, NULL, "b", &sc), 0);
    assert_int_equal(sc.ncases, 1);
    assert_int_equal(sc.cases[0].ops, 5);
    contend_scenario_free(&sc);
    struct test_capture cap;
    capture_begin(&cap);
    int rc = contend_scenario_load(path, NULL, "zzz", &sc);
    char *err = capture_end(&cap);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, "no case named 'zzz'"));
    assert_null(strstr(err, "did you mean"));
    free(err);
    capture_begin(&cap);
    rc = contend_scenario_load(path, NULL, "bb", &sc);
    err = capture_end(&cap);
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(err, "no case named 'bb' (did you mean 'b'?)"));
    free(err);
    free(path);
}

static void test_extension_section_and_keys(void **state)
{
    (void)state;
    const char *text = "[fake]\nlevel = 7\n[a]\nworkload = counter\ntarget = null\n"
                       "[b]\nworkload = counter\ntarget = null\nfake.level = 9\n";
    struct contend_scenario sc;
    char *err, *path;
    assert_int_equal(load(text, strlen(text), NULL, &sc, &err, &path), 0);
    assert_int_equal(sc.ncases, 2); /* [fake] is not a case */
    assert_string_equal(contend_case_opt(&sc.cases[0], "fake.level"), "7");
    assert_string_equal(contend_case_opt(&sc.cases[1], "fake.level"), "9");
    assert_null(contend_case_opt(&sc.cases[0], "nothing"));
    contend_scenario_free(&sc);
    free(err);
    free(path);

    text = "[a]\nworkload = counter\ntarget = null\n";
    assert_int_equal(load(text, strlen(text), NULL, &sc, &err, &path), 0);
    assert_string_equal(contend_case_opt(&sc.cases[0], "fake.level"), "3"); /* the default */
    contend_scenario_free(&sc);
    free(err);
    free(path);

    expect_error("[fake]\nlevel = bad\n[a]\nworkload = counter\ntarget = null\n", 2,
                 "bad is not a level");
    expect_error("[fake]\nlevels = 1\n[a]\nworkload = counter\ntarget = null\n", 2, "unknown key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolution_order),
        cmocka_unit_test(test_global_only_is_one_case),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_procs_zero),
        cmocka_unit_test(test_procs_negative),
        cmocka_unit_test(test_ops_abc),
        cmocka_unit_test(test_missing_target),
        cmocka_unit_test(test_missing_workload),
        cmocka_unit_test(test_unknown_variant),
        cmocka_unit_test(test_unknown_target_and_workload),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_binary_file),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_set_error_names_origin),
        cmocka_unit_test(test_only_case),
        cmocka_unit_test(test_extension_section_and_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
