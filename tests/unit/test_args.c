/*
 * test_args.c - the shared argument parser (harness/cli/args.c) and "did
 * you mean" (harness/config/suggest.c): the convention every command
 * follows, checked once here rather than per command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"
#include "suggest.h"
#include "util.h"

enum { OPT_CASE, OPT_KEEP, OPT_JOBS };

static const struct contend_argdef defs[] = {
    {"case", 0, true, OPT_CASE},
    {"keep", 0, false, OPT_KEEP},
    {"jobs", 'j', true, OPT_JOBS},
    {NULL, 0, false, 0},
};

/* Parse argv (NULL-terminated, argv[0] the command) into a log line such as
 * "P:a O:case=x OTHER:ops=5 END". */
static void parse(bool open, char **argv, char *log, size_t len)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    struct contend_args p;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w"); /* the usage a failing parse prints */
    contend_args_init(&p, "test", "usage: test\n", defs, open, argc, argv);
    log[0] = '\0';
    for (int id;;) {
        id = contend_args_next(&p);
        char item[128];
        if (id == CONTEND_ARG_END)
            snprintf(item, sizeof item, "END");
        else if (id == CONTEND_ARG_ERROR)
            snprintf(item, sizeof item, "ERROR");
        else if (id == CONTEND_ARG_POSITIONAL)
            snprintf(item, sizeof item, "P:%s ", p.value);
        else if (id == CONTEND_ARG_OTHER)
            snprintf(item, sizeof item, "OTHER:%s=%s ", p.name, p.value);
        else
            snprintf(item, sizeof item, "O:%s%s%s ", p.name, p.value ? "=" : "",
                     p.value ? p.value : "");
        strncat(log, item, len - strlen(log) - 1);
        if (id == CONTEND_ARG_END || id == CONTEND_ARG_ERROR)
            break;
    }
    contend_args_free(&p);
    fclose(stderr);
    stderr = saved;
}

#define ARGV(...) ((char *[]){"cmd", __VA_ARGS__, NULL})

static void test_in_order(void **state)
{
    (void)state;
    char log[512];
    parse(false, ARGV("a", "--case", "x", "b", "--keep", "-j", "3", "--case=y"), log, sizeof log);
    assert_string_equal(log, "P:a O:case=x P:b O:keep O:jobs=3 O:case=y END");
    /* After --, everything is positional, dashes or not. */
    parse(false, ARGV("--keep", "--", "--case", "-"), log, sizeof log);
    assert_string_equal(log, "O:keep P:--case P:- END");
}

static void test_errors(void **state)
{
    (void)state;
    char log[512];
    parse(false, ARGV("--case"), log, sizeof log);
    assert_string_equal(log, "ERROR");
    parse(false, ARGV("a", "--frobnicate", "1"), log, sizeof log);
    assert_string_equal(log, "P:a ERROR");
    parse(false, ARGV("-z"), log, sizeof log);
    assert_string_equal(log, "ERROR");
}

static void test_open_settings(void **state)
{
    (void)state;
    char log[512];
    /* An open command takes any --KEY VALUE or --KEY=VALUE, '-' as '_'. */
    parse(true, ARGV("f.ini", "--ops", "5", "--max-p99-us=10", "--keep", "--perturb", "-1"), log,
          sizeof log);
    assert_string_equal(log, "P:f.ini OTHER:ops=5 OTHER:max_p99_us=10 O:keep OTHER:perturb=-1 END");
    parse(true, ARGV("--ops"), log, sizeof log);
    assert_string_equal(log, "ERROR");
}

static void test_help(void **state)
{
    (void)state;
    char *argv[] = {"cmd", "x", "--help", NULL};
    struct contend_args p;
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    contend_args_init(&p, "test", "usage: test\n", defs, false, 3, argv);
    assert_int_equal(contend_args_next(&p), CONTEND_ARG_POSITIONAL);
    assert_int_equal(contend_args_next(&p), CONTEND_ARG_HELP);
    fclose(stdout);
    stdout = saved;
}

static void test_suggest(void **state)
{
    (void)state;
    assert_int_equal(contend_edit_distance("flock", "flock"), 0);
    assert_int_equal(contend_edit_distance("flok", "flock"), 1);
    assert_int_equal(contend_edit_distance("fclok", "flock"), 2);
    assert_int_equal(contend_edit_distance("lfock", "flock"), 1); /* a swap */
    assert_int_equal(contend_edit_distance("json_doc", "json-doc"), 0);
    assert_int_equal(contend_edit_distance("", "abc"), 3);

    static const char *const targets[] = {"exec", "json-doc", "jsonl-ledger", "null", "sqlite"};
    struct contend_suggest sg;
    char hint[64];
    contend_suggest_init(&sg, "jsondoc");
    for (size_t i = 0; i < 5; i++)
        contend_suggest_add(&sg, targets[i]);
    assert_string_equal(contend_suggest_best(&sg), "json-doc");
    assert_string_equal(contend_suggest_hint(&sg, hint, sizeof hint),
                        " (did you mean 'json-doc'?)");
    /* Nothing close: no guess. */
    contend_suggest_init(&sg, "mysql");
    for (size_t i = 0; i < 5; i++)
        contend_suggest_add(&sg, targets[i]);
    assert_null(contend_suggest_best(&sg));
    assert_string_equal(contend_suggest_hint(&sg, hint, sizeof hint), "");
    /* A short word allows one edit only. */
    contend_suggest_init(&sg, "nul");
    contend_suggest_add(&sg, "bank");
    contend_suggest_add(&sg, "null");
    assert_string_equal(contend_suggest_best(&sg), "null");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_open_settings), cmocka_unit_test(test_help),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
