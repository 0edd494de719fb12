/*
 * iorule.c - parsing the `io` fault key (syntax in iorule.h).
 *
 * Compiled into both the harness (to reject a bad rule with file:line before
 * anything runs) and the shim (which reads the rules from the control block
 * in every worker), so it uses no allocation and no harness helpers.
 */
#include "iorule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const call_names[CONTEND_CALL_COUNT] = {
    [CONTEND_CALL_WRITE] = "write",         [CONTEND_CALL_PWRITE] = "pwrite",
    [CONTEND_CALL_FSYNC] = "fsync",         [CONTEND_CALL_FDATASYNC] = "fdatasync",
    [CONTEND_CALL_RENAME] = "rename",       [CONTEND_CALL_OPEN] = "open",
    [CONTEND_CALL_FTRUNCATE] = "ftruncate", [CONTEND_CALL_UNLINK] = "unlink",
};

static const struct {
    const char *name;
    int err;
} errors[] = {
    {"EIO", EIO},     {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT},
    {"EFBIG", EFBIG}, {"EROFS", EROFS},   {"short", 0},
};

const char *contend_io_call_name(unsigned call)
{
    return call < CONTEND_CALL_COUNT ? call_names[call] : "?";
}

static int fail(char *why, size_t len, const char *rule, size_t rlen, const char *msg)
{
    snprintf(why, len, "io rule '%.*s': %s", (int)rlen, rule, msg);
    return -EINVAL;
}

static int parse_calls(const char *s, size_t len, uint32_t *calls)
{
    *calls = 0;
    while (len > 0) {
        const char *plus = memchr(s, '+', len);
        size_t n = plus ? (size_t)(plus - s) : len;
        int found = -1;
        for (unsigned i = 0; i < CONTEND_CALL_COUNT; i++)
            if (strlen(call_names[i]) == n && strncmp(call_names[i], s, n) == 0)
                found = (int)i;
        if (found < 0)
            return -EINVAL;
        *calls |= 1u << found;
        if (!plus)
            break;
        len -= n + 1;
        s = plus + 1;
        if (len == 0)
            return -EINVAL; /* "write+" */
    }
    return *calls ? 0 : -EINVAL;
}

static int parse_when(const char *s, size_t len, struct contend_io_rule *r)
{
    char buf[32], *end;
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[len - 1] == '%') {
        buf[len - 1] = '\0';
        double p = strtod(buf, &end);
        if (end == buf || *end || !(p > 0) || p > 100)
            return -EINVAL;
        r->ppm = (uint32_t)(p * 10000.0 + 0.5);
        return r->ppm ? 0 : -EINVAL;
    }
    if (buf[len - 1] == '+') {
        r->from = 1;
        buf[len - 1] = '\0';
    }
    if (buf[0] < '0' || buf[0] > '9')
        return -EINVAL;
    unsigned long long n = strtoull(buf, &end, 10);
    if (*end || n == 0)
        return -EINVAL;
    r->nth = n;
    return 0;
}

static int parse_rule(const char *s, size_t len, struct contend_io_rule *r, char *why,
                      size_t whylen)
{
    const char *colon = memchr(s, ':', len);
    const char *at = memchr(s, '@', len);
    if (!colon || !at || at < colon)
        return fail(why, whylen, s, len, "expected CALL:ERROR@WHEN, e.g. fsync:EIO@3");
    memset(r, 0, sizeof *r);
    if (parse_calls(s, (size_t)(colon - s), &r->calls) != 0)
        return fail(why, whylen, s, len,
                    "unknown call (write, pwrite, fsync, fdatasync, rename, open, ftruncate, "
                    "unlink; join with +)");
    size_t elen = (size_t)(at - colon - 1);
    int found = 0;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        if (strlen(errors[i].name) == elen && strncmp(errors[i].name, colon + 1, elen) == 0) {
            r->err = errors[i].err;
            found = 1;
        }
    }
    if (!found)
        return fail(why, whylen, s, len,
                    "unknown error (EIO, ENOSPC, EDQUOT, EFBIG, EROFS, short)");
    if (r->err == 0 && (r->calls & ~((1u << CONTEND_CALL_WRITE) | (1u << CONTEND_CALL_PWRITE))))
        return fail(why, whylen, s, len, "short applies to write and pwrite only");
    if (parse_when(at + 1, (size_t)(s + len - at - 1), r) != 0)
        return fail(why, whylen, s, len,
                    "expected WHEN = N (N-th call), N+ (from the N-th on) "
                    "or P% (probability)");
    return 0;
}

int contend_io_rules_parse(const char *text, struct contend_io_rule *out, size_t max, size_t *n,
                           char *why, size_t whylen)
{
    *n = 0;
    for (const char *p = text ? text : ""; *p;) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (*n == max) {
            snprintf(why, whylen, "at most %zu io rules", max);
            return -EINVAL;
        }
        int rc = parse_rule(p, len, &out[*n], why, whylen);
        if (rc)
            return rc;
        (*n)++;
        p += strcspn(p, ",");
    }
    return 0;
}
