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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        "{\"b\":1,\"a\":2}",    /* unsorted */
        "{\"a\":1,\"a\":2}",    /* duplicate key */
        "{\"a\": 1}",           /* whitespace */
        "{\"a\":\"\\/\"}",      /* Python does not escape / */
        "{\"a\":\"\\u00E9\"}",  /* uppercase hex */
        "{\"a\":\"\\u0041\"}",  /* printable ASCII escaped */
        "{\"a\":\"\\u000a\"}",  /* \n has a short form */
        "{\"a\":\"\xc3\xa9\"}", /* raw UTF-8 */
        "{\"a\":\"\\ud83d\"}",  /* lone high surrogate */
        "{\"a\":\"\\ude00\"}",  /* lone low surrogate */
        "{\"a\":1.50}",         /* trailing zero */
        "{\"a\":1E5}",          /* Python: 100000.0 */
        "{\"a\":1e5}",
        "{\"a\":-0}", /* Python: 0 */
        "{\"a\":01}",
        "{\"a\":0.00001}",              /* Python: 1e-05 */
        "{\"a\":1e+016}",               /* Python: 1e+16 */
        "{\"a\":100000000000000000.0}", /* Python: 1e+17 */
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

/* ---- the streamed canonical form (non-canonical lines) -------------------- */

/* Written from Python 3: json.dumps(json.loads(in) minus its "hash" member,
 * sort_keys=True, separators=(",", ":")). */
static const char *const stream_cases[][2] = {
    {"{\"b\": 1, \"a\": [1, 2.50, \"x\\u00e9\"], \"c\": {\"z\": null, \"y\": true}}",
     "{\"a\":[1,2.5,\"x\\u00e9\"],\"b\":1,\"c\":{\"y\":true,\"z\":null}}"},
    {"{\"big\": 123456789012345678901234567890, \"neg\": -98765432109876543210987654321, \"z\": -0, \"f\": -0.0}",
     "{\"big\":123456789012345678901234567890,\"f\":-0.0,\"neg\":-98765432109876543210987654321,\"z\":0}"},
    {"{\"s\": \"tab\\there \\\"q\\\" back\\\\slash \\/ \\u0001 \\u007f \\u00ff \\u20ac \\ud83d\\ude00 \\ud800 lone\", \"raw\": \"\xc3"
     "\xa9"
     "\xe2"
     "\x82"
     "\xac"
     "\xf0"
     "\x9f"
     "\x98"
     "\x80"
     "\"}",
     "{\"raw\":\"\\u00e9\\u20ac\\ud83d\\ude00\",\"s\":\"tab\\there \\\"q\\\" back\\\\slash / \\u0001 \\u007f \\u00ff \\u20ac \\ud83d\\ude00 \\ud800 lone\"}"},
    {"{\"floats\": [1e16, 1e-5, 0.0001, 123.456e10, 1E400, -1e400, 5e-324, 0.1, 100.0, 1.5e300]}",
     "{\"floats\":[1e+16,1e-05,0.0001,1234560000000.0,Infinity,-Infinity,5e-324,0.1,100.0,1.5e+300]}"},
    {"{\"nan\": NaN, \"inf\": Infinity, \"ninf\": -Infinity}",
     "{\"inf\":Infinity,\"nan\":NaN,\"ninf\":-Infinity}"},
    {"{\"dup\": 1, \"a\": 2, \"dup\": 3}", "{\"a\":2,\"dup\":3}"},
    {"{\"\\u00e9\": 1, \"z\": 2, \"\\u0041\": 3, \"\xc3"
     "\xa9"
     "2\": 4, \"\xf0"
     "\x9f"
     "\x98"
     "\x80"
     "\": 5, \"\\uffff\": 6}",
     "{\"A\":3,\"z\":2,\"\\u00e9\":1,\"\\u00e92\":4,\"\\uffff\":6,\"\\ud83d\\ude00\":5}"},
    {"{\"n\": {\"d\": {\"c\": {\"b\": [ {\"y\":1,\"x\":2}, [], {} ]}}}, \"e\": [], \"o\": {}}",
     "{\"e\":[],\"n\":{\"d\":{\"c\":{\"b\":[{\"x\":2,\"y\":1},[],{}]}}},\"o\":{}}"},
    {"  { \"sp\" :  1 ,\"a\":\"b\"  }  ", "{\"a\":\"b\",\"sp\":1}"},
    {"{\"hash\":\"abc\",\"x\":[{\"b\":1,\"a\":2}],\"prev_hash\":\"00\",\"op\":7,\"writer\":-2,\"seq\":18446744073709551616}",
     "{\"op\":7,\"prev_hash\":\"00\",\"seq\":18446744073709551616,\"writer\":-2,\"x\":[{\"a\":2,\"b\":1}]}"},
    {"{\"up\": \"\\u00E9\\u00c9\\uD83D\\uDE00\\u001F\", \"\\u00C9\": 1}",
     "{\"up\":\"\\u00e9\\u00c9\\ud83d\\ude00\\u001f\",\"\\u00c9\":1}"},
    {"{\"k\\u0000ey\": \"v\\u0000\", \"k\": 1}", "{\"k\":1,\"k\\u0000ey\":\"v\\u0000\"}"},
    {"{\"deep\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     "{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"},
};

/* Lines json.loads refuses, or that are not objects. */
static const char *const stream_bad[] = {
    "{\"a\": 1} x",
    "[1, 2]",
    "{\"a\": tru}",
    "{\"a\": \"\\x\"}",
    "{\"a\": 01}",
    "{\"a\": 1,}",
    "{\"a\" 1}",
    "{\"a\": \"\\ud83d\\u\"}",
    "{\"a\": -}",
    "{\"a\": 1.}",
    "{\"a\": .5}",
    "{\"a\": 1e}",
    "{\"a\": \"x\x01"
    "\"}",
    "{\"a\": \"\xff\"}", /* not UTF-8 */
    "{\"a\": [1 2]}",
    "{\"a\": \"unterminated}",
    "",
};

struct collect {
    struct contend_sbuf b;
    size_t calls;
};

static void collect_put(void *arg, const void *p, size_t n)
{
    struct collect *c = arg;
    contend_sbuf_add(&c->b, p, n);
    c->calls++;
}

static void add(struct contend_sbuf *b, const char *s)
{
    contend_sbuf_add(b, s, strlen(s));
}

static int stream(struct contend_canon_stream *st, struct collect *c, const char *line, size_t n)
{
    c->b.n = 0;
    c->calls = 0;
    st->put = collect_put;
    st->arg = c;
    st->skip_key = st->hash_field = "hash";
    st->prev_field = "prev_hash";
    int rc = contend_canon_stream_line(st, line, n);
    contend_sbuf_add(&c->b, "", 1);
    c->b.n--;
    return rc;
}

static void test_stream_matches_python(void **state)
{
    (void)state;
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    for (size_t i = 0; i < sizeof stream_cases / sizeof stream_cases[0]; i++) {
        int rc = stream(st, &c, stream_cases[i][0], strlen(stream_cases[i][0]));
        if (rc != 0)
            fail_msg("case %zu refused: %s at %zu", i, st->err, st->err_col);
        assert_string_equal(c.b.p, stream_cases[i][1]);
    }
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

static void test_stream_notes_the_record_fields(void **state)
{
    (void)state;
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    const char *line = "{\"seq\": 3, \"prev_hash\": \"0\\u0030\", \"op\": -7, "
                       "\"hash\": \"abc\", \"writer\": 99999999999999999999}";
    assert_int_equal(stream(st, &c, line, strlen(line)), 0);
    assert_true(st->top.has_hash && st->top.has_prev);
    assert_int_equal(st->top.hash.n, 3);
    assert_memory_equal(st->top.hash.p, "abc", 3);
    assert_int_equal(st->top.prev.n, 2);
    assert_memory_equal(st->top.prev.p, "00", 2);
    assert_true(st->top.has_op && st->top.op == -7);
    assert_true(st->top.has_seq && st->top.seq == 3);
    assert_false(st->top.has_writer); /* beyond int64: hashed, but no writer order */
    assert_string_equal(c.b.p, "{\"op\":-7,\"prev_hash\":\"00\",\"seq\":3,"
                               "\"writer\":99999999999999999999}");
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

static void test_stream_refuses_what_python_refuses(void **state)
{
    (void)state;
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    for (size_t i = 0; i < sizeof stream_bad / sizeof stream_bad[0]; i++) {
        if (stream(st, &c, stream_bad[i], strlen(stream_bad[i])) != -EINVAL)
            fail_msg("bad case %zu accepted: %s", i, stream_bad[i]);
        assert_non_null(st->err);
    }
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

/* A line far longer than the 8 KiB buffer, with escapes and a deep nest:
 * streamed in pieces, the same bytes as the tree serializer's. */
static void test_stream_agrees_with_dump_on_long_lines(void **state)
{
    (void)state;
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    struct contend_sbuf line = {0}, want = {0};
    add(&line, "{\"z\": \"");
    for (int i = 0; i < 5000; i++)
        add(&line, "ab\\u00e9\\n\xe2\x82\xac");
    add(&line, "\", \"a\": [");
    for (int i = 0; i < 200; i++)
        add(&line, "{\"y\": 1.50, \"x\": [");
    for (int i = 0; i < 200; i++)
        add(&line, "]}");
    add(&line, "]}");
    json_error_t err;
    json_t *v = json_loadb(line.p, line.n, 0, &err);
    assert_non_null(v);
    assert_int_equal(contend_canon_dump(v, "hash", &want), 0);
    json_decref(v);
    assert_int_equal(stream(st, &c, line.p, line.n), 0);
    assert_true(c.calls > 1);
    assert_int_equal(c.b.n, want.n);
    assert_memory_equal(c.b.p, want.p, want.n);
    contend_sbuf_free(&line);
    contend_sbuf_free(&want);
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

/* The streamed form copies what is canonical already and rewrites the rest,
 * and the string scanner takes 16 bytes a step: an escape, a raw UTF-8
 * character or a DEL at every position relative to a 16-byte block, in a
 * value and in a key, must come out as the tree serializer writes it. */
static void test_stream_escapes_at_every_block_offset(void **state)
{
    (void)state;
    static const char *const odd[] = {
        "\\n",      "\\\"",
        "\\\\",     "\\/",
        "\\u00e9",  "\\u00E9",
        "\\u0041",  "\\ud83d\\ude00",
        "\xc3\xa9", "\xf0\x9f\x98\x80",
        "\\u007f",  "\x7f",
        "\\t",      "\\u001F",
        "\\b",
    };
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    struct contend_sbuf line = {0}, want = {0};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int k = 0; k <= 40; k++) {
            line.n = 0;
            /* In a value, then in a key; "m" sorts between them. */
            add(&line, "{\"z\": \"");
            for (int j = 0; j < k; j++)
                add(&line, "x");
            add(&line, odd[i]);
            for (int j = 0; j < (k * 7) % 23; j++)
                add(&line, "y");
            add(&line, "\", \"m\": 1, \"");
            for (int j = 0; j < k; j++)
                add(&line, "k");
            add(&line, odd[i]);
            add(&line, "\": [\"");
            add(&line, odd[i]);
            add(&line, "\"]}");
            json_error_t err;
            json_t *v = json_loadb(line.p, line.n, JSON_ALLOW_NUL, &err);
            if (!v)
                fail_msg("jansson refused %.*s: %s", (int)line.n, line.p, err.text);
            want.n = 0;
            assert_int_equal(contend_canon_dump(v, "hash", &want), 0);
            json_decref(v);
            if (stream(st, &c, line.p, line.n) != 0)
                fail_msg("refused %.*s: %s", (int)line.n, line.p, st->err);
            if (c.b.n != want.n || memcmp(c.b.p, want.p, want.n) != 0)
                fail_msg("%.*s\n  streamed %s\n  expected %.*s", (int)line.n, line.p, c.b.p,
                         (int)want.n, want.p);
        }
    }
    contend_sbuf_free(&line);
    contend_sbuf_free(&want);
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

/* Keys are compared by their first 8 bytes as a number, then by the rest:
 * keys that are prefixes of each other, share 8 bytes, hold a NUL (which
 * the zero padding must not confuse with "shorter"), or are non-ASCII, in
 * sorted, reversed and shuffled order.  Expected: Python's
 * json.dumps({k: i for i, k in enumerate(keys)}, sort_keys=True, ...). */
static void test_stream_orders_keys_by_code_point(void **state)
{
    (void)state;
    static const char *const keys[] = {
        "\"a\"",         "\"a\\u0000\"",  "\"a\\u0000b\"",
        "\"abcdefgh\"",  "\"abcdefghi\"", "\"abcdefgh\\u0000\"",
        "\"abcdefgg~\"", "\"abcdefgh~\"", "\"\\u00e9\"",
        "\"z\"",         "\"\"",          "\"\\ud83d\\ude00\"",
        "\"\\uffff\"",   "\"ab\"",        "\"b\"",
    };
    static const char want[] =
        "{\"\":10,\"a\":0,\"a\\u0000\":1,\"a\\u0000b\":2,\"ab\":13,\"abcdefgg~\":6,"
        "\"abcdefgh\":3,\"abcdefgh\\u0000\":5,\"abcdefghi\":4,\"abcdefgh~\":7,\"b\":14,\"z\":9,"
        "\"\\u00e9\":8,\"\\uffff\":12,\"\\ud83d\\ude00\":11}";
    enum { N = sizeof keys / sizeof keys[0] };
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    struct contend_sbuf line = {0};
    size_t order[N];
    uint64_t rng = 42;
    for (int round = 0; round < 40; round++) {
        for (size_t i = 0; i < N; i++)
            order[i] = round == 1 ? N - 1 - i : i;
        if (round >= 2) {
            for (size_t i = N - 1; i > 0; i--) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                size_t j = (size_t)(rng >> 33) % (i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        line.n = 0;
        add(&line, "{");
        for (size_t i = 0; i < N; i++) {
            char num[32];
            if (i)
                add(&line, ", ");
            add(&line, keys[order[i]]);
            snprintf(num, sizeof num, ": %zu", order[i]);
            add(&line, num);
        }
        add(&line, "}");
        if (stream(st, &c, line.p, line.n) != 0)
            fail_msg("refused %.*s: %s", (int)line.n, line.p, st->err);
        if (strcmp(c.b.p, want) != 0)
            fail_msg("round %d: %.*s\n  streamed %s", round, (int)line.n, line.p, c.b.p);
    }
    contend_sbuf_free(&line);
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
}

/* More members than the insertion sort takes (qsort_r), sorted already and
 * not, nested, with a repeated key (the last wins): as the tree
 * serializer writes them. */
static void test_stream_big_objects(void **state)
{
    (void)state;
    struct contend_canon_stream *st = calloc(1, sizeof *st);
    struct collect c = {0};
    struct contend_sbuf line = {0}, want = {0};
    for (int shape = 0; shape < 3; shape++) {
        line.n = 0;
        add(&line, "{");
        for (int i = 0; i < 60; i++) {
            char m[96];
            int k = shape == 0 ? i : shape == 1 ? 59 - i : (i * 37) % 60;
            snprintf(m, sizeof m, "%s\"key_%02d_long_name\": {\"b%d\": %d, \"a\": [%d.50]}",
                     i ? ", " : "", k, k, i, k);
            add(&line, m);
        }
        add(&line, ", \"key_07_long_name\": \"again\"}");
        json_error_t err;
        json_t *v = json_loadb(line.p, line.n, 0, &err);
        assert_non_null(v);
        want.n = 0;
        assert_int_equal(contend_canon_dump(v, "hash", &want), 0);
        json_decref(v);
        assert_int_equal(stream(st, &c, line.p, line.n), 0);
        if (c.b.n != want.n || memcmp(c.b.p, want.p, want.n) != 0)
            fail_msg("shape %d\n  streamed %s\n  expected %.*s", shape, c.b.p, (int)want.n, want.p);
    }
    contend_sbuf_free(&line);
    contend_sbuf_free(&want);
    contend_sbuf_free(&c.b);
    contend_canon_stream_free(st);
    free(st);
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
        cmocka_unit_test(test_stream_matches_python),
        cmocka_unit_test(test_stream_notes_the_record_fields),
        cmocka_unit_test(test_stream_refuses_what_python_refuses),
        cmocka_unit_test(test_stream_agrees_with_dump_on_long_lines),
        cmocka_unit_test(test_stream_escapes_at_every_block_offset),
        cmocka_unit_test(test_stream_orders_keys_by_code_point),
        cmocka_unit_test(test_stream_big_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
