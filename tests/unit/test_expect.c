/*
 * test_expect.c - expectations with alternatives: `expect = a|b` passes when
 * either kind is found, `a|b, c` needs c as well, and every alternative must
 * be a known kind.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "check.h"
#include "helpers.h"
#include "registry.h"
#include "result.h"

static bool judged_ok(const char *expect, const char *const *found, size_t n, char **missing)
{
    struct contend_case c;
    struct contend_rep rep;
    memset(&c, 0, sizeof c);
    memset(&rep, 0, sizeof rep);
    c.expect = (char *)expect;
    c.min_tps = c.max_p99_us = NAN;
    for (size_t i = 0; i < n; i++)
        contend_rep_add_violation(&rep, found[i], 1, NULL, 0, "synthetic");
    contend_judge(&c, &rep);
    bool ok = rep.ok;
    *missing = rep.missing ? contend_strdup(rep.missing) : NULL;
    contend_rep_free(&rep);
    return ok;
}

static void test_alternatives(void **state)
{
    (void)state;
    static const char *const crash[] = {"crash"};
    static const char *const lost[] = {"lost-update"};
    static const char *const both[] = {"crash", "lost-claim"};
    char *missing;

    assert_true(judged_ok("double-claim|crash", crash, 1, &missing));
    assert_null(missing);
    assert_false(judged_ok("double-claim|crash", lost, 1, &missing));
    assert_string_equal(missing, "double-claim|crash");
    free(missing);
    assert_false(judged_ok("double-claim|crash", NULL, 0, &missing));
    free(missing);
    /* A comma still means "and". */
    assert_false(judged_ok("double-claim|crash, lost-claim", crash, 1, &missing));
    assert_string_equal(missing, "lost-claim");
    free(missing);
    assert_true(judged_ok("double-claim|crash, lost-claim", both, 2, &missing));
    assert_null(missing);
}

static void test_case_expects_each_alternative(void **state)
{
    (void)state;
    struct contend_case c;
    memset(&c, 0, sizeof c);
    c.expect = (char *)"double-claim|crash, misuse";
    assert_true(contend_case_expects(&c, "crash"));
    assert_true(contend_case_expects(&c, "double-claim"));
    assert_true(contend_case_expects(&c, "misuse"));
    assert_false(contend_case_expects(&c, "hang"));
}

static int resolve_expect(const char *expect, char **err)
{
    struct contend_settings ss = {0};
    struct contend_scenario sc;
    struct test_capture cap;
    contend_settings_add(&ss, "workload", "claim", "--workload", 0);
    contend_settings_add(&ss, "target", "sqlite", "--target", 0);
    contend_settings_add(&ss, "expect", expect, "--expect", 0);
    capture_begin(&cap);
    int rc = contend_scenario_from_settings("cli", &ss, &sc);
    *err = capture_end(&cap);
    if (rc == 0)
        contend_scenario_free(&sc);
    contend_settings_free(&ss);
    return rc;
}

static void test_every_alternative_is_checked(void **state)
{
    (void)state;
    char *err;
    assert_int_equal(resolve_expect("double-claim|lost-claim|crash", &err), 0);
    free(err);
    assert_int_equal(resolve_expect("double-claim|nonsense", &err), -EINVAL);
    assert_non_null(strstr(err, "unknown violation kind 'nonsense'"));
    free(err);
    assert_int_equal(resolve_expect("|", &err), -EINVAL);
    assert_non_null(strstr(err, "expected a violation kind"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_case_expects_each_alternative),
        cmocka_unit_test(test_every_alternative_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
