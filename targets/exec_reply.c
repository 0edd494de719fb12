/*
 * exec_reply.c - parse what a program over exec answers (exec_reply.h).
 *
 * The program is the user's code, so its replies are untrusted input: every
 * function here checks lengths and never assumes a shape.  A reply that
 * does not parse is never re-aligned or guessed at: the caller ends the case
 * with a protocol error that shows the line, because a misread reply (a
 * debug print taken for the answer) would turn real violations into `info`
 * ops that widen the checker's bounds until they hide.
 */
#include "exec_reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool contend_exec_word(const char *s, const char *w, const char **rest)
{
    size_t n = strlen(w);
    if (strncmp(s, w, n) != 0 || (s[n] != '\0' && s[n] != ' '))
        return false;
    *rest = s[n] ? s + n + 1 : s + n;
    return true;
}

int contend_exec_ints(const char *s, int64_t *v, int max)
{
    int n = 0;
    while (*s) {
        if (n == max)
            return -1;
        /* strtoll would skip leading blanks and take a '+': the grammar
         * has neither. */
        if (!(*s == '-' || (*s >= '0' && *s <= '9')))
            return -1;
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (end == s || errno || (*end != '\0' && *end != ' '))
            return -1;
        v[n++] = x;
        s = *end ? end + 1 : end;
    }
    return n;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int contend_exec_hex_decode(const char *s, unsigned char *out, uint32_t cap, uint32_t *len)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hex_digit(s[2 * i]), b = hex_digit(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i] = (unsigned char)(a << 4 | b);
    }
    *len = (uint32_t)(n / 2);
    return 0;
}

size_t contend_exec_hex_encode(const unsigned char *b, uint32_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    return 2 * (size_t)n;
}

/* What `ok` carries, per op kind: how many integers at least and at most,
 * and the text for messages. */
struct shape {
    int min, max;
    const char *expected;
};

static struct shape shape_of(uint32_t kind)
{
    switch (kind) {
    case CONTEND_OP_INCR: return (struct shape){0, 1, "ok VALUE, fail REASON or info REASON"};
    case CONTEND_OP_READ:
    case CONTEND_OP_CLAIM:
    case CONTEND_OP_TRANSFER: return (struct shape){1, 1, "ok N, fail REASON or info REASON"};
    case CONTEND_OP_READ_ALL:
        return (struct shape){2, 2, "ok TOTAL MIN_BALANCE, fail REASON or info REASON"};
    case CONTEND_OP_SIZE: return (struct shape){2, 2, "ok RESIDENT MOST_EVER, fail or info"};
    case CONTEND_OP_APPEND: return (struct shape){0, 1, "ok [SEQ], fail REASON or info REASON"};
    case CONTEND_OP_DEQUEUE: return (struct shape){1, 1, "ok MSG, empty, fail or info"};
    case CONTEND_OP_GET: return (struct shape){0, 0, "ok 0, ok 1 HEX, fail or info"};
    default: return (struct shape){0, 0, "ok, fail REASON or info REASON"};
    }
}

const char *contend_exec_expected(uint32_t kind)
{
    return shape_of(kind).expected;
}

int contend_exec_parse_reply(const char *reply, size_t len, struct contend_op *op)
{
    const char *rest;
    if (strlen(reply) != len)
        return -1;
    if (contend_exec_word(reply, "fail", &rest)) {
        op->err = EIO;
        return CONTEND_FAIL;
    }
    if (contend_exec_word(reply, "info", &rest)) {
        op->err = EPROTO;
        return CONTEND_INFO;
    }
    if (op->kind == CONTEND_OP_DEQUEUE && strcmp(reply, "empty") == 0) {
        op->value = -1;
        return CONTEND_OK;
    }
    if (!contend_exec_word(reply, "ok", &rest))
        return -1;
    if (op->kind == CONTEND_OP_GET) {
        /* ok 0 (miss) or ok 1 HEX (hit). */
        if (strcmp(rest, "0") == 0) {
            op->value = 0;
            op->buf_len = 0;
            return CONTEND_OK;
        }
        if (strncmp(rest, "1 ", 2) != 0 ||
            contend_exec_hex_decode(rest + 2, op->buf, op->buf_cap, &op->buf_len) != 0)
            return -1;
        op->value = 1;
        return CONTEND_OK;
    }
    struct shape sh = shape_of(op->kind);
    int64_t v[2] = {op->kind == CONTEND_OP_INCR || op->kind == CONTEND_OP_APPEND ? -1 : 0, 0};
    int n = contend_exec_ints(rest, v, sh.max);
    if (n < sh.min)
        return -1;
    op->value = v[0];
    op->value2 = (uint64_t)v[1];
    return CONTEND_OK;
}

bool contend_exec_take_line(const char *buf, size_t *start, size_t end, char *line, size_t *n)
{
    const char *s = buf + *start;
    const char *nl = memchr(s, '\n', end - *start);
    if (!nl)
        return false;
    size_t k = (size_t)(nl - s);
    if (k > CONTEND_EXEC_LINE_MAX - 1)
        k = CONTEND_EXEC_LINE_MAX - 1;
    memcpy(line, s, k);
    if (k && line[k - 1] == '\r')
        k--;
    line[k] = '\0';
    *n = k;
    *start += (size_t)(nl - s) + 1;
    return true;
}
