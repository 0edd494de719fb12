/*
 * jsonl.c - line framing shared by the ledger's chain checker and the log
 * checker (see jsonl.h), so that "torn" and "invalid" mean the same in both.
 */
#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define READ_CHUNK (256u << 10)

const char *contend_jsonl_frame(const char *line, size_t *len)
{
    if (*len > 0 && line[*len - 1] == '\r') {
        (*len)--;
        if (*len > 0)
            return "CRLF line ending: records end with \\n alone";
    }
    if (*len == 0)
        return "empty line";
    return NULL;
}

const char *contend_jsonl_torn_reason(size_t len, char *buf, size_t cap)
{
    snprintf(buf, cap, "the last line (%zu bytes) has no newline: an append that did not finish",
             len);
    return buf;
}

int contend_jsonl_each_path(const char *path, const struct contend_jsonl_sink *sink,
                            uint64_t *lines)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = READ_CHUNK, have = 0;
    char *buf = contend_realloc(NULL, cap);
    uint64_t no = 0, base = 0; /* base: file offset of buf[0] */
    int rc = 0;
    for (;;) {
        if (have == cap) {
            cap *= 2; /* a line longer than the buffer */
            buf = contend_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        have += (size_t)r;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (buf + pos));
            if (sink->line)
                sink->line(sink->ctx, buf + pos, len, ++no, base + pos);
            else
                ++no;
            pos += len + 1;
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        base += pos;
    }
    if (rc == 0 && have > 0) {
        ++no;
        if (sink->torn)
            sink->torn(sink->ctx, buf, have, no, base);
    }
    if (lines)
        *lines = no;
    free(buf);
    close(fd);
    return rc;
}
