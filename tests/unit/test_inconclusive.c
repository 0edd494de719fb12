/*
 * test_inconclusive.c - no verdict without evidence: a run with too few
 * acknowledged ops is `inconclusive` (exit 1) when its checker found nothing
 * or its expectation was not met, and every report says so; a violation
 * found, or an expectation met, is still judged as before.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "check.h"
#include "report.h"
#include "result.h"
#include "runjson.h"
#include "util.h"

static void judged(const char *expect, const char *found, uint64_t n_ok, struct contend_rep *rep)
{
    struct contend_case c;
    memset(&c, 0, sizeof c);
    memset(rep, 0, sizeof *rep);
    c.expect = (char *)expect;
    c.min_tps = c.max_p99_us = c.max_growth = NAN;
    rep->n_ok = n_ok;
    rep->n_fail = 3;
    if (found)
        contend_rep_add_violation(rep, found, 1, NULL, 0, "synthetic");
    contend_judge(&c, rep);
}

static void test_no_ok_op_is_inconclusive(void **state)
{
    (void)state;
    struct contend_rep rep;
    judged(NULL, NULL, 0, &rep);
    assert_false(rep.ok);
    assert_non_null(rep.inconclusive);
    assert_non_null(strstr(rep.inconclusive, "0 acknowledged ops"));
    assert_int_equal(contend_rep_exit_code(&rep), CONTEND_EXIT_VIOLATION);
    contend_rep_free(&rep);

    /* An expectation not met in a run that acknowledged nothing. */
    judged("lost-update", NULL, 0, &rep);
    assert_false(rep.ok);
    assert_non_null(rep.inconclusive);
    contend_rep_free(&rep);
}

static void test_evidence_is_judged(void **state)
{
    (void)state;
    struct contend_rep rep;
    judged(NULL, NULL, 5, &rep); /* acknowledged ops, nothing found: pass */
    assert_true(rep.ok);
    assert_null(rep.inconclusive);
    contend_rep_free(&rep);
    judged(NULL, "lost-update", 0, &rep); /* a violation is evidence: FAIL */
    assert_false(rep.ok);
    assert_null(rep.inconclusive);
    contend_rep_free(&rep);
    judged("crash", "crash", 0, &rep); /* expected and found */
    assert_true(rep.ok);
    assert_null(rep.inconclusive);
    contend_rep_free(&rep);
}

__attribute__((noinline)) static char *render(void (*fn)(const json_t *, FILE *), const json_t *doc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(doc, f);
    fclose(f);
    return buf;
}

static void test_every_report_shows_it(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"schema\": 1, \"tool\": \"contend\", \"version\": \"0.1.0\", \"scenario\": \"s\","
        " \"seed\": 1, \"machine\": {}, \"ok\": false, \"exit_code\": 1, \"cases\": ["
        "  {\"name\": \"silent\", \"workload\": \"counter\", \"target\": \"exec\","
        "   \"variant\": \"default\", \"procs\": 1, \"threads\": 1, \"seed\": 1, \"ok\": false,"
        "   \"verdict\": \"inconclusive\", \"exit_code\": 1,"
        "   \"inconclusive_reason\": \"the checker had too little to judge\","
        "   \"ops\": {\"ok\": 0, \"fail\": 10, \"info\": 0}, \"violations\": [],"
        "   \"runs\": [], \"case_dir\": \"/tmp/x\"}]}";
    json_error_t e;
    json_t *run = json_loads(doc, 0, &e);
    assert_non_null(run);
    char *text = render(contend_report_text, run);
    assert_non_null(strstr(text, "INCONCLUSIVE"));
    assert_non_null(strstr(text, "too little to judge"));
    char *md = render(contend_report_markdown, run);
    assert_non_null(strstr(md, "INCONCLUSIVE"));
    assert_non_null(strstr(md, "too little to judge"));
    char *html = render(contend_report_html, run);
    assert_non_null(strstr(html, "class=\"inconclusive\""));
    assert_non_null(strstr(html, "too little to judge"));
    char *junit = render(contend_report_junit, run);
    assert_non_null(strstr(junit, "<failure type=\"inconclusive\""));
    free(text);
    free(md);
    free(html);
    free(junit);
    json_decref(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_ok_op_is_inconclusive),
        cmocka_unit_test(test_evidence_is_judged),
        cmocka_unit_test(test_every_report_shows_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
