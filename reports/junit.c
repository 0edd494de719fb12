/*
 * junit.c - JUnit XML for CI systems: a testsuite per scenario, a testcase
 * per case, a failure carrying the violations.
 *
 * There is no official JUnit XML schema; CI systems (Jenkins, GitLab,
 * Azure, GitHub test reporters) read the Ant format, whose strictest
 * description is the Windy Road JUnit.xsd.  We write what it requires, which
 * every reader accepts:
 *   - <testsuites> without attributes, each <testsuite> with name, package,
 *     id, tests, failures, errors, skipped, time, timestamp (no time zone)
 *     and hostname;
 *   - children in order: <properties>, the <testcase>s, <system-out>,
 *     <system-err>, all present;
 *   - a <testcase> has name, classname and time, and at most ONE child:
 *     <failure> or <error>, each with a type.  So all of a case's violations
 *     go into one failure.
 * A case that found its expected violation passed.  A failed gate is a
 * failure of type "gate"; a case the harness could not run is an <error>.
 * Each case is read through contend_case_result_read (caseresult.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
#include "common.h"
#include "report.h"

#define esc contend_put_escaped

static double case_time(const struct contend_case_result *c)
{
    /* What the case took: every repetition. */
    double t = 0;
    size_t i;
    json_t *r;
    json_array_foreach (c->runs, i, r) {
        double d = contend_jn(r, "duration_s");
        t += isnan(d) ? 0 : d;
    }
    if (t == 0 && !isnan(c->fig[CONTEND_FIG_DURATION]))
        t = c->fig[CONTEND_FIG_DURATION];
    return t;
}

/* "2024-05-01T12:00:00Z" -> "2024-05-01T12:00:00": the schema allows no zone. */
static void timestamp(const json_t *run, char *buf, size_t len)
{
    const char *s = contend_js(run, "started_at");
    bool ok = strlen(s) >= 19;
    for (size_t i = 0; ok && i < 19; i++) {
        char ch = s[i];
        bool digit = ch >= '0' && ch <= '9';
        ok = (i == 4 || i == 7)     ? ch == '-'
             : i == 10              ? ch == 'T'
             : (i == 13 || i == 16) ? ch == ':'
                                    : digit;
    }
    snprintf(buf, len, "%.19s", ok ? s : "1970-01-01T00:00:00");
}

static void property(FILE *out, const char *name, const char *value)
{
    fputs("      <property name=\"", out);
    contend_put_attr(out, name);
    fputs("\" value=\"", out);
    contend_put_attr(out, value);
    fputs("\"/>\n", out);
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The failure's one-line message: what failed first. */
static void failure_message(const struct contend_case_result *c, char **msg, const char **type)
{
    if (c->verdict == CONTEND_VERDICT_GATE) {
        *type = "gate";
        *msg = strdup(or_empty(c->gate));
    } else if (c->verdict == CONTEND_VERDICT_INCONCLUSIVE) {
        *type = "inconclusive";
        *msg = strdup(or_empty(c->inconclusive_reason));
    } else if (c->missing) {
        *type = "expectation-not-met";
        size_t n = strlen(c->missing) + 32;
        *msg = malloc(n);
        if (*msg)
            snprintf(*msg, n, "expected %s, not found", c->missing);
    } else if (c->nviolations) {
        const struct contend_case_violation *v = &c->violations[0];
        *type = v->kind;
        size_t n = strlen(v->kind) + strlen(or_empty(v->message)) + 48;
        *msg = malloc(n);
        if (*msg)
            snprintf(*msg, n, "%s (%llu): %s", v->kind, (unsigned long long)v->count,
                     or_empty(v->message));
    } else {
        *type = "failure";
        *msg = strdup("the case did not pass");
    }
}

static void failure_body(const struct contend_case_result *c, FILE *out)
{
    size_t k;
    json_t *op;
    for (size_t j = 0; j < c->nviolations; j++) {
        const struct contend_case_violation *v = &c->violations[j];
        esc(out, v->kind);
        contend_putf(out, " (%llu", (unsigned long long)v->count);
        if (v->runs > 1)
            contend_putf(out, ", in %lu runs", (unsigned long)v->runs);
        fputs("): ", out);
        esc(out, or_empty(v->message));
        fputc('\n', out);
        json_array_foreach (json_object_get(v->entry, "ops"), k, op) {
            contend_putf(out, "  witness: worker %lld.%lld op #%lld ", contend_ji(op, "worker"),
                         contend_ji(op, "thread"), contend_ji(op, "index"));
            esc(out, contend_js(op, "op"));
            contend_putf(out, " k%lld ", contend_ji(op, "key"));
            esc(out, contend_js(op, "status"));
            contend_putf(out, " at +%.3f ms\n", contend_jn(op, "t_invoke_ms"));
        }
    }
    const struct {
        const char *key, *value;
    } story[] = {{"error", c->error},     {"inconclusive_reason", c->inconclusive_reason},
                 {"missing", c->missing}, {"gate", c->gate},
                 {"repro", c->repro},     {"case_dir", c->case_dir}};
    for (size_t i = 0; i < sizeof story / sizeof story[0]; i++) {
        if (!story[i].value)
            continue;
        esc(out, story[i].key);
        fputs(": ", out);
        esc(out, story[i].value);
        fputc('\n', out);
    }
}

static void testcase(const json_t *run, const struct contend_case_result *c, FILE *out)
{
    bool error = c->verdict == CONTEND_VERDICT_ERROR;
    bool failed = !error && !c->ok;
    const char *name = or_empty(c->name);

    fputs("    <testcase name=\"", out);
    contend_put_attr(out, *name ? name : "(unnamed)");
    fputs("\" classname=\"contend.", out);
    contend_put_attr(out, *contend_js(run, "scenario") ? contend_js(run, "scenario") : "run");
    contend_putf(out, "\" time=\"%.3f\"", case_time(c));
    if (!error && !failed) {
        fputs("/>\n", out);
        return;
    }
    char *msg = NULL;
    const char *type = "error";
    if (error)
        msg = strdup(c->error ? c->error : "the harness could not run");
    else
        failure_message(c, &msg, &type);
    contend_putf(out, ">\n      <%s type=\"", error ? "error" : "failure");
    contend_put_attr(out, *type ? type : "failure");
    fputs("\" message=\"", out);
    contend_put_attr(out, msg ? msg : "");
    fputs("\">", out);
    failure_body(c, out);
    contend_putf(out, "</%s>\n    </testcase>\n", error ? "error" : "failure");
    free(msg);
}

void contend_report_junit(const json_t *run, FILE *out)
{
    const json_t *cases = json_object_get(run, "cases");
    size_t i, n = json_array_size(cases), failures = 0, errors = 0;
    double total = 0;
    char ts[32], num[32];
    const char *scenario = contend_js(run, "scenario");
    const char *host = contend_js(json_object_get(run, "machine"), "hostname");
    struct contend_case_result *res = calloc(n ? n : 1, sizeof *res);

    if (!res)
        return;
    for (i = 0; i < n; i++) {
        const struct contend_case_result *c = &res[i];
        contend_case_result_read(json_array_get(cases, i), &res[i]);
        if (c->verdict == CONTEND_VERDICT_ERROR)
            errors++;
        else if (!c->ok)
            failures++;
        total += case_time(c);
    }
    timestamp(run, ts, sizeof ts);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", out);
    contend_put_attr(out, *scenario ? scenario : "contend");
    fputs("\" package=\"contend\" id=\"0\"", out);
    contend_putf(out,
                 " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" "
                 "time=\"%.3f\" timestamp=\"%s\" hostname=\"",
                 n, failures, errors, total, ts);
    contend_put_attr(out, *host ? host : "localhost");
    fputs("\">\n    <properties>\n", out);
    property(out, "contend.version", contend_js(run, "version"));
    snprintf(num, sizeof num, "%lld", contend_ji(run, "seed"));
    property(out, "seed", num);
    snprintf(num, sizeof num, "%lld", contend_ji(run, "exit_code"));
    property(out, "exit_code", num);
    if (json_is_string(json_object_get(run, "scenario_path")))
        property(out, "scenario_path", contend_js(run, "scenario_path"));
    property(out, "run_dir", contend_js(run, "run_dir"));
    fputs("    </properties>\n", out);
    for (i = 0; i < n; i++) {
        testcase(run, &res[i], out);
        contend_case_result_free(&res[i]);
    }
    free(res);
    /* The terminal table, for people reading the raw report. */
    char *text = NULL;
    size_t len = 0;
    FILE *t = open_memstream(&text, &len);
    if (t) {
        contend_report_text(run, t);
        fclose(t);
    }
    fputs("    <system-out>", out);
    esc(out, text ? text : "");
    fputs("</system-out>\n    <system-err></system-err>\n  </testsuite>\n</testsuites>\n", out);
    free(text);
}
