/*
 * test_exec_reply.c - the exec reply grammar (targets/exec_reply.c): what a
 * program's reply must parse to, and what must be refused (a reply misread
 * as a value turns a violation into a pass).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "exec_reply.h"

static int parse(uint32_t kind, const char *reply, size_t len, struct contend_op *op)
{
    static unsigned char buf[8];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->buf = buf;
    op->buf_cap = sizeof buf;
    return contend_exec_parse_reply(reply, len, op);
}

static void accepts_the_grammar(void **state)
{
    (void)state;
    struct contend_op op;
    assert_int_equal(parse(CONTEND_OP_INCR, "ok 5", 4, &op), CONTEND_OK);
    assert_int_equal(op.value, 5);
    assert_int_equal(parse(CONTEND_OP_INCR, "ok", 2, &op), CONTEND_OK);
    assert_int_equal(op.value, -1); /* unknown */
    assert_int_equal(parse(CONTEND_OP_READ_ALL, "ok 400 -3", 9, &op), CONTEND_OK);
    assert_int_equal(op.value, 400);
    assert_int_equal((int64_t)op.value2, -3);
    assert_int_equal(parse(CONTEND_OP_GET, "ok 1 4A62", 9, &op), CONTEND_OK);
    assert_int_equal(op.buf_len, 2);
    assert_memory_equal(op.buf, "Jb", 2);
    assert_int_equal(parse(CONTEND_OP_DEQUEUE, "empty", 5, &op), CONTEND_OK);
    assert_int_equal(op.value, -1);
    assert_int_equal(parse(CONTEND_OP_CLAIM, "fail busy", 9, &op), CONTEND_FAIL);
    assert_int_equal(parse(CONTEND_OP_CLAIM, "info timed out", 14, &op), CONTEND_INFO);
}

static void refuses_what_is_not_the_grammar(void **state)
{
    (void)state;
    struct contend_op op;
    /* A NUL byte inside the line: "ok 5" followed by junk is not "ok 5". */
    assert_int_equal(parse(CONTEND_OP_INCR, "ok 5\0junk", 9, &op), -1);
    assert_int_equal(parse(CONTEND_OP_INCR, "ok  5", 5, &op), -1);
    assert_int_equal(parse(CONTEND_OP_INCR, "ok +5", 5, &op), -1);
    assert_int_equal(parse(CONTEND_OP_INCR, "ok 5 6", 6, &op), -1);
    assert_int_equal(parse(CONTEND_OP_INCR, "done", 4, &op), -1);
    assert_int_equal(parse(CONTEND_OP_READ, "ok", 2, &op), -1); /* needs a value */
    assert_int_equal(parse(CONTEND_OP_INCR, "ok 99999999999999999999", 23, &op), -1);
    assert_int_equal(parse(CONTEND_OP_GET, "ok 1 4G", 7, &op), -1);
    assert_int_equal(parse(CONTEND_OP_GET, "ok 1 abc", 8, &op), -1);
    /* Nine bytes for an eight-byte buffer. */
    assert_int_equal(parse(CONTEND_OP_GET, "ok 1 000000000000000000", 23, &op), -1);
    assert_int_equal(parse(CONTEND_OP_INCR, "empty", 5, &op), -1);
}

static void splits_lines_as_the_target_reads_them(void **state)
{
    (void)state;
    static char line[CONTEND_EXEC_LINE_MAX];
    const char buf[] = "ok 1\r\nok 2\npartial";
    size_t start = 0, n = 0;
    assert_true(contend_exec_take_line(buf, &start, sizeof buf - 1, line, &n));
    assert_string_equal(line, "ok 1");
    assert_int_equal(n, 4);
    assert_true(contend_exec_take_line(buf, &start, sizeof buf - 1, line, &n));
    assert_string_equal(line, "ok 2");
    assert_false(contend_exec_take_line(buf, &start, sizeof buf - 1, line, &n));
    assert_string_equal(buf + start, "partial");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_the_grammar),
        cmocka_unit_test(refuses_what_is_not_the_grammar),
        cmocka_unit_test(splits_lines_as_the_target_reads_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
