/*
 * test_options.c - every option of every built-in target and workload has a
 * type and range (target.h) that its own default satisfies, and values
 * outside the range are refused with the range in the message (issue 11:
 * read_pct = 500, delay_ns = -1 and crash_at = x were accepted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "scenario.h"

/* Options whose value is free text by nature: a command, a file name. */
static bool free_text(const char *name)
{
    return strcmp(name, "cmd") == 0 || strcmp(name, "ledger_file") == 0;
}

static void check_table(const char *owner, const struct contend_option *o)
{
    for (; o && o->name; o++) {
        if (!o->choices && o->type == CONTEND_OPT_TEXT && !free_text(o->name))
            fail_msg("%s: option %s has neither a type nor choices", owner, o->name);
        char *why = contend_option_check(o, o->def ? o->def : "");
        if (why)
            fail_msg("%s: option %s: its default '%s' does not pass: %s", owner, o->name, o->def,
                     why);
    }
}

static void every_option_typed(void **state)
{
    (void)state;
    const struct contend_target *const *t;
    const struct contend_workload *const *w;
    size_t nt = contend_all_targets(&t), nw = contend_all_workloads(&w);
    assert_true(nt > 0 && nw > 0);
    for (size_t i = 0; i < nt; i++)
        check_table(t[i]->name, t[i]->options);
    for (size_t i = 0; i < nw; i++)
        check_table(w[i]->name, w[i]->options);
}

static const struct contend_option *find(const char *owner, const char *name, bool target)
{
    const struct contend_option *o =
        target ? contend_find_target(owner)->options : contend_find_workload(owner)->options;
    for (; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    fail_msg("%s has no option %s", owner, name);
    return NULL;
}

static void expect_bad(const struct contend_option *o, const char *value, const char *words)
{
    char *why = contend_option_check(o, value);
    if (!why)
        fail_msg("%s = '%s' was accepted", o->name, value);
    if (!strstr(why, words))
        fail_msg("%s = '%s': '%s' does not say '%s'", o->name, value, why, words);
    free(why);
}

static void expect_good(const struct contend_option *o, const char *value)
{
    char *why = contend_option_check(o, value);
    if (why)
        fail_msg("%s = '%s' was refused: %s", o->name, value, why);
}

static void ranges_enforced(void **state)
{
    (void)state;
    const struct contend_option *rp = find("counter", "read_pct", false);
    expect_bad(rp, "500", "from 0 to 100");
    expect_bad(rp, "-5", "from 0 to 100");
    expect_bad(rp, "x", "whole number");
    expect_bad(rp, "10k", "whole number");
    expect_bad(rp, "", "whole number");
    expect_good(rp, "100");
    expect_bad(find("null", "delay_ns", true), "-1", "from 0");
    expect_bad(find("null", "crash_at", true), "x", "whole number");
    const struct contend_option *vs = find("lru-cache", "value_size", true);
    expect_bad(vs, "36", "multiple of 8");
    expect_bad(vs, "8", "from 32 to 4096");
    expect_good(vs, "4096");
    const struct contend_option *ttl = find("lru-cache", "ttl", true);
    expect_bad(ttl, "0", "duration");
    expect_bad(ttl, "soon", "duration");
    expect_good(ttl, "250ms");
    /* An empty value is "not set" where the default is empty. */
    expect_good(find("sqlite", "cache_size", true), "");
    expect_good(find("sqlite", "cache_size", true), "-2000");
    expect_bad(find("sqlite", "busy_timeout", true), "-1", "from 0");
    expect_bad(find("cache", "zipf", false), "nan", "number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_typed),
        cmocka_unit_test(ranges_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
