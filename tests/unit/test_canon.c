/*
 * test_canon.c - canonical JSON against what Python writes.
 *
 * Every expected string below is Python 3's output for the same value:
 * json.dumps(v, sort_keys=True, separators=(",", ":")) (ensure_ascii), and
 * repr(float).  The scanner must accept exactly what that writer produces and
 * send everything else to the slow path.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "canon.h"
#include "helpers.h"

static void test_string_escapes(void **state)
{
    (void)state;
    struct contend_sbuf b = {0};
    static const char in[] = "\x7f\x00\x1f\b\t\n\f\r\"\\/\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80 ~";
    assert_int_equal(contend_canon_string(&b, in, sizeof in - 1), 0);
    contend_sbuf_add(&b, "", 1);
    assert_string_equal(b.p, "\"\\u007f\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\\u00e9\\u65e5"
                             "\\ud83d\\ude00 ~\"");
    contend_sbuf_free(&b);
}

static void test_string_rejects_bad_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xc3",             /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* a surrogate in UTF-8 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct contend_sbuf b = {0};
        assert_int_equal(contend_canon_string(&b, bad[i], strlen(bad[i])), -EILSEQ);
        contend_sbuf_free(&b);
    }
}

static void test_double_repr(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *py;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0, "1.0"},
        {0.1, "0.1"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {1.5e300, "1.5e+300"},
        {1712345678.1234567, "1712345678.1234567"},
        {123456789012345680.0, "1.2345678901234568e+17"},
        {5e-324, "5e-324"},
        {1.7976931348623157e+308, "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004"},
        {100.0, "100.0"},
        {2.5, "2.5"},
        {-1.5e-07, "-1.5e-07"},
        {1712345678.125, "1712345678.125"},
        {123456789.0, "123456789.0"},
        {9007199254740993.0, "9007199254740992.0"},
        {1180591620717411303424.0, "1.1805916207174113e+21"},
        {1.0 / 3, "0.3333333333333333"},
    };
    char buf[CONTEND_CANON_DOUBLE_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = contend_canon_double(cases[i].v, buf);
        assert_string_equal(buf, cases[i].py);
        assert_int_equal(n, (int)strlen(cases[i].py));
    }
    contend_canon_double(NAN, buf);
    assert_string_equal(buf, "NaN");
    contend_canon_double(-INFINITY, buf);
    assert_string_equal(buf, "-Infinity");
}

static void test_dump_sorts_and_skips(void **state)
{
    (void)state;
    json_error_t err;
    json_t *v = json_loads("{\"b\":1,\"a\":-0.0,\"c\":1.5e300,\"\\u00e9\":1,\"z\":2,"
                           "\"A\":[true,false,null,{\"y\":\"x\",\"x\":[]}],\"hash\":\"h\"}",
                           0, &err);
    assert_non_null(v);
    struct contend_sbuf b = {0};
    assert_int_equal(contend_canon_dump(v, "hash", &b), 0);
    contend_sbuf_add(&b, "", 1);
    assert_string_equal(b.p, "{\"A\":[true,false,null,{\"x\":[],\"y\":\"x\"}],\"a\":-0.0,\"b\":1,"
                             "\"c\":1.5e+300,\"z\":2,\"\\u00e9\":1}");
    /* Only the top-level member is skipped. */
    b.n = 0;
    json_t *nested = json_pack("{s:{s:i}}", "x", "hash", 1);
    assert_int_equal(contend_canon_dump(nested, "hash", &b), 0);
    contend_sbuf_add(&b, "", 1);
    assert_string_equal(b.p, "{\"x\":{\"hash\":1}}");
    json_decref(nested);
    json_decref(v);
    contend_sbuf_free(&b);
}

static bool scan(const char *line, struct contend_canon_scan *s)
{
    return contend_canon_scan_line(line, strlen(line), "hash", "prev_hash", s);
}

static void test_scan_accepts_canonical(void **state)
{
    (void)state;
    struct contend_canon_scan s;
    const char *line = "{\"hash\":\"ab\",\"op\":7,\"payload\":{\"t\":\"caf\\u00e9 \\ud83d\\ude00 "
                       "\\\"q\\\" \\\\ / \\n\\t\\u007f\\u0001\",\"x\":[1.5,0.0001,1e-05,"
                       "1712345678.1234567,true,null,-3]},\"prev_hash\":\"cd\",\"seq\":-2,"
                       "\"writer\":3}";
    assert_true(scan(line, &s));
    assert_int_equal(s.hash_len, 2);
    assert_memory_equal(s.hash, "ab", 2);
    assert_memory_equal(s.prev, "cd", 2);
    assert_true(s.has_op && s.op == 7);
    assert_true(s.has_seq && s.seq == -2);
    assert_true(s.has_writer && s.writer == 3);
    /* The cut leaves the canonical text without the hash member. */
    char rest[512];
    size_t a = (size_t)(s.cut - line);
    memcpy(rest, line, a);
    strcpy(rest + a, s.cut_end);
    char want[512];
    snprintf(want, sizeof want, "{%s", line + strlen("{\"hash\":\"ab\","));
    assert_string_equal(rest, want);

    /* The hash last, or alone. */
    assert_true(scan("{\"a\":1,\"hash\":\"x\",\"prev_hash\":\"y\"}", &s));
    assert_string_equal(s.cut_end, ",\"prev_hash\":\"y\"}");
    assert_true(scan("{\"hash\":\"x\"}", &s));
    assert_string_equal(s.cut_end, "}");
    assert_true(scan("{}", &s));
    assert_null(s.hash);
}

static void test_scan_rejects_what_python_would_rewrite(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"b\":1,\"a\":2}",              /* unsorted */
        "{\"a\":1,\"a\":2}",              /* duplicate key */
        "{\"a\": 1}",                     /* whitespace */
        "{\"a\":\"\\/\"}",                /* Python does not escape / */
        "{\"a\":\"\\u00E9\"}",            /* uppercase hex */
        "{\"a\":\"\\u0041\"}",            /* printable ASCII escaped */
        "{\"a\":\"\\u000a\"}",            /* \n has a short form */
        "{\"a\":\"\xc3\xa9\"}",           /* raw UTF-8 */
        "{\"a\":\"\\ud83d\"}",            /* lone high surrogate */
        "{\"a\":\"\\ude00\"}",            /* lone low surrogate */
        "{\"a\":1.50}",                   /* trailing zero */
        "{\"a\":1E5}",                    /* Python: 100000.0 */
        "{\"a\":1e5}",
        "{\"a\":-0}",                     /* Python: 0 */
        "{\"a\":01}",
        "{\"a\":0.00001}",                /* Python: 1e-05 */
        "{\"a\":1e+016}",                 /* Python: 1e+16 */
        "{\"a\":100000000000000000.0}",   /* Python: 1e+17 */
        "{\"a\":tru}",
        "{\"a\":1",
        "{\"a\":1}x",
        "[1,2]",
        "{\"h\\u0061sh\":\"x\"}", /* escaped key: left to the slow path */
        "{\"hash\":\"a\\nb\"}",   /* a hash with escapes */
        "{\"hash\":1}",
    };
    struct contend_canon_scan s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (scan(bad[i], &s))
            fail_msg("accepted as canonical: %s", bad[i]);
    }
    /* ... and accepts the repr forms of the same values. */
    assert_true(scan("{\"a\":1.5,\"b\":100000.0,\"c\":0,\"d\":1e-05,\"e\":1e+16}", &s));
}

/* Whatever the scanner accepts, the canonical dump of the parsed value
 * reproduces byte for byte. */
static void test_scan_agrees_with_dump(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{\"a\":[1,2.5,-0.0,1e+300,5e-324,0.30000000000000004,{}],\"b\":\"\\u0000\\u00ff\"}",
        "{\"hash\":\"0\",\"op\":1,\"payload\":\"\\\"\\\\\\b\\f\\n\\r\\t\",\"prev_hash\":\"1\"}",
        "{\"x\":{\"a\":{\"b\":[[],[null]]}},\"y\":false}",
        "{\"t\":1712345678.1234567,\"u\":1712345678.12}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct contend_canon_scan s;
        assert_true(scan(lines[i], &s));
        json_error_t err;
        json_t *v = json_loads(lines[i], JSON_ALLOW_NUL, &err);
        assert_non_null(v);
        struct contend_sbuf b = {0};
        assert_int_equal(contend_canon_dump(v, NULL, &b), 0);
        contend_sbuf_add(&b, "", 1);
        assert_string_equal(b.p, lines[i]);
        contend_sbuf_free(&b);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_string_rejects_bad_utf8),
        cmocka_unit_test(test_double_repr),
        cmocka_unit_test(test_dump_sorts_and_skips),
        cmocka_unit_test(test_scan_accepts_canonical),
        cmocka_unit_test(test_scan_rejects_what_python_would_rewrite),
        cmocka_unit_test(test_scan_agrees_with_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
