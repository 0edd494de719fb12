/*
 * test_history.c - a history survives the SIGKILL of the process writing it,
 * with the op in flight marked as invoked (indeterminate).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "helpers.h"
#include "history.h"

static void test_survives_sigkill(void **state)
{
    (void)state;
    char *dir = test_tmpdir("history");
    char *path = contend_asprintf("%s/w0.t0", dir);
    assert_int_equal(contend_history_create(path, 0, 0, 0, 1000), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct contend_history h;
        if (contend_history_open(path, true, &h) != 0)
            _exit(2);
        struct contend_op op = {.kind = CONTEND_OP_INCR};
        for (uint64_t i = 0; i < 100; i++) {
            op.key = i % 3;
            op.value = (int64_t)i + 1;
            struct contend_record *r = contend_history_invoke(&h, i, &op, 1000 + i);
            contend_history_complete(&h, r, &op, CONTEND_OK, 1001 + i);
        }
        /* Op 100 begins and never ends: the process dies in the middle. */
        op.key = 7;
        contend_history_invoke(&h, 100, &op, 5000);
        kill(getpid(), SIGKILL);
        _exit(3);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    struct contend_history h;
    assert_int_equal(contend_history_open(path, false, &h), 0);
    assert_int_equal(contend_history_count(&h), 101);
    assert_int_equal(h.hdr->done, 100);
    for (uint64_t i = 0; i < 100; i++) {
        assert_int_equal(h.rec[i].status, CONTEND_OK);
        assert_int_equal(h.rec[i].value, (int64_t)i + 1);
        assert_int_equal(h.rec[i].t_complete, 1001 + i);
    }
    assert_int_equal(h.rec[100].status, CONTEND_STATUS_INVOKED);
    assert_int_equal(h.rec[100].key, 7);
    assert_int_equal(h.rec[100].t_complete, 0);
    contend_history_close(&h);
    contend_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_rejects_garbage(void **state)
{
    (void)state;
    char *dir = test_tmpdir("history");
    char junk[8192] = "not a history";
    char *path = test_write(dir, "junk", junk, sizeof junk);
    struct contend_history h;
    assert_int_equal(contend_history_open(path, false, &h), -EINVAL);
    char *small = test_write(dir, "small", "x", 1);
    assert_int_equal(contend_history_open(small, false, &h), -EINVAL);
    assert_int_equal(contend_history_open("/nonexistent/h", false, &h), -ENOENT);
    /* Creating over an existing file is refused: histories are never reused. */
    assert_int_equal(contend_history_create(path, 0, 0, 0, 10), -EEXIST);
    contend_rm_rf(dir);
    free(path);
    free(small);
    free(dir);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(contend_op_kind_name(CONTEND_OP_INCR), "incr");
    assert_string_equal(contend_op_kind_name(200), "op");
    assert_string_equal(contend_status_name(CONTEND_STATUS_INVOKED), "in-flight");
    assert_string_equal(contend_status_name(CONTEND_INFO), "info");
    assert_int_equal(contend_op_id(3, 5), (3ull << 32) | 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survives_sigkill),
        cmocka_unit_test(test_rejects_garbage),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
