/*
 * helpers.h - shared by the unit tests: temporary directories, capturing
 * what a function prints on stderr, and looking up what a checker reported.
 */
#ifndef CONTEND_TEST_HELPERS_H
#define CONTEND_TEST_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "result.h"
#include "util.h"

/* A fresh directory under $TMPDIR; remove with contend_rm_rf(). */
static inline char *test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = contend_asprintf("%s/contend-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

static inline char *test_write(const char *dir, const char *name, const char *text, size_t len)
{
    char *path = contend_asprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len) {
        perror(path);
        abort();
    }
    fclose(f);
    return path;
}

/* Capture stderr around a call: begin, call, end returns what was printed. */
struct test_capture {
    int saved;
    FILE *tmp;
};

static inline void capture_begin(struct test_capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    c->saved = dup(2);
    dup2(fileno(c->tmp), 2);
}

static inline char *capture_end(struct test_capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    /* stderr wrote to the descriptor, so ask the descriptor, not the FILE. */
    int fd = fileno(c->tmp);
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    if (n > 0 && pread(fd, buf, (size_t)n, 0) != (ssize_t)n)
        buf[0] = '\0';
    fclose(c->tmp);
    return buf;
}

/* The first violation of `kind` a checker reported, or NULL. */
static inline const struct contend_violation *test_violation(const struct contend_rep *rep,
                                                             const char *kind)
{
    for (size_t i = 0; i < rep->nv; i++)
        if (strcmp(rep->v[i].kind, kind) == 0)
            return &rep->v[i];
    return NULL;
}

/* A stat a checker reported, or -1 when it did not. */
static inline double test_stat(const struct contend_rep *rep, const char *name)
{
    for (size_t i = 0; i < rep->nstats; i++)
        if (strcmp(rep->stats[i].name, name) == 0)
            return rep->stats[i].value;
    return -1;
}

#endif
