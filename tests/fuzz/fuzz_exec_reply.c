/*
 * fuzz_exec_reply.c - the exec target's reply parser (targets/exec_reply.c)
 * on any bytes, taken as a program's stdout: split into lines as the target
 * splits them, each line parsed as the reply to every op kind and as a state
 * line.  Besides crashes, the oracles:
 *   - a line never outgrows the target's line buffer;
 *   - a reply accepted as `ok` never carries a NUL byte, and a cache hit's
 *     value fits the op's buffer and is exactly what its hex digits say
 *     (re-encoded, they are the reply's digits in lower case);
 *   - `fail` and `info` set an error, `ok` does not need one.
 */
#include <ctype.h>
#include <string.h>

#include "exec_reply.h"
#include "fuzz.h"

static const uint32_t kinds[] = {
    CONTEND_OP_INCR,       CONTEND_OP_READ,    CONTEND_OP_TRANSFER, CONTEND_OP_READ_ALL,
    CONTEND_OP_CLAIM,      CONTEND_OP_APPEND,  CONTEND_OP_PUT,      CONTEND_OP_GET,
    CONTEND_OP_SIZE,       CONTEND_OP_ENQUEUE, CONTEND_OP_DEQUEUE,  CONTEND_OP_ACK,
    CONTEND_OP_LOG_APPEND,
};

static void check_line(const char *line, size_t n)
{
    static unsigned char buf[64];
    static char hex[2 * sizeof buf + 1];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct contend_op op = {.kind = kinds[k], .buf = buf, .buf_cap = sizeof buf};
        int st = contend_exec_parse_reply(line, n, &op);
        FUZZ_REQUIRE(st == -1 || st == CONTEND_OK || st == CONTEND_FAIL || st == CONTEND_INFO);
        if (st != -1)
            FUZZ_REQUIRE(memchr(line, '\0', n) == NULL);
        if (st == CONTEND_FAIL || st == CONTEND_INFO)
            FUZZ_REQUIRE(op.err != 0);
        if (st == CONTEND_OK && op.kind == CONTEND_OP_GET && op.value == 1) {
            FUZZ_REQUIRE(op.buf_len <= op.buf_cap);
            size_t h = contend_exec_hex_encode(op.buf, op.buf_len, hex);
            FUZZ_REQUIRE(n == 5 + h); /* "ok 1 " and the digits */
            for (size_t i = 0; i < h; i++)
                FUZZ_REQUIRE(hex[i] == tolower((unsigned char)line[5 + i]));
        }
    }
    int64_t kv[2];
    int got = contend_exec_ints(line, kv, 2);
    FUZZ_REQUIRE(got >= -1 && got <= 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char line[CONTEND_EXEC_LINE_MAX];
    const char *buf = (const char *)data;
    size_t start = 0, n = 0;
    while (contend_exec_take_line(buf, &start, size, line, &n)) {
        FUZZ_REQUIRE(n < sizeof line && line[n] == '\0');
        FUZZ_REQUIRE(start <= size);
        check_line(line, n);
    }
    return 0;
}
