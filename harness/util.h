/*
 * util.h - small helpers shared by the harness: clocks, errors, files,
 * number parsing.  Nothing here is on the hot path except contend_now_ns().
 */
#ifndef CONTEND_UTIL_H
#define CONTEND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Exit codes (docs/cli.md).  An operational error and an invariant failure
 * never share a code. */
enum contend_exit {
    CONTEND_EXIT_OK = 0,           /* every case as expected */
    CONTEND_EXIT_VIOLATION = 1,    /* invariant broken, or expected violation not found */
    CONTEND_EXIT_USAGE = 2,        /* bad usage or scenario */
    CONTEND_EXIT_GATE = 3,         /* a performance gate failed */
    CONTEND_EXIT_HARNESS = 4,      /* the harness could not run */
    CONTEND_EXIT_INTERRUPTED = 130 /* SIGINT/SIGTERM: 128 + SIGINT, as shells report it */
};

#define CONTEND_NS_PER_SEC 1000000000ull

/* Monotonic time in nanoseconds.  Under libfaketime this is the worker's
 * (possibly faked) clock, which is the clock the target saw. */
static inline uint64_t contend_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * CONTEND_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* "contend: " + message + newline on stderr. */
void contend_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* malloc'ed printf; aborts on out-of-memory (the harness cannot go on). */
char *contend_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *contend_vasprintf(const char *fmt, va_list ap);
char *contend_strdup(const char *s);
void *contend_calloc(size_t n, size_t size);
void *contend_realloc(void *p, size_t size);

/* Run `fn` on each signal of the 0-terminated list `sigs` (no SA_RESTART:
 * a wait is interrupted, so the caller notices the flag `fn` sets). */
void contend_catch_signals(void (*fn)(int), const int *sigs);

/* Files.  All return 0 or a negative errno. */
int contend_mkdir_p(const char *path, unsigned mode);
int contend_rm_rf(const char *path);
/* Write via temp file (mkstemp, beside the real target: symlinks are
 * followed, never replaced) + fsync + rename + directory fsync: readers see
 * the old or the new content, never a torn one.  A path that exists and is
 * not a regular file (device, FIFO, /dev/stdout) is written in place. */
int contend_write_atomic(const char *path, const void *data, size_t len);
/* Text checks for anything a user hands us (scenario names, run.json
 * strings).  contend_utf8_valid_len: the length of the longest valid UTF-8
 * prefix of s[0..n) (n when all of it is valid; overlong forms, surrogates
 * and code points above U+10FFFF are invalid).  contend_is_control: the
 * code point at s (of at most n bytes) is a C0 or C1 control or DEL, which
 * a terminal would act on; returns its length in bytes, or 0. */
size_t contend_utf8_valid_len(const char *s, size_t n);
size_t contend_is_control(const char *s, size_t n);
/* s with every control character (except newline and tab) and every byte
 * of invalid UTF-8 written as '?': safe to print on a terminal. */
void contend_put_terminal(FILE *out, const char *s, size_t n);

/* Size a file that will be mapped MAP_SHARED and give it its blocks now
 * (fallocate): a sparse mapping turns a full disk into SIGBUS at the first
 * store to a page without a block, in whichever process touches it.  A file
 * system without fallocate keeps the file sparse. */
int contend_file_reserve(int fd, uint64_t size);

/* Read a whole file into a NUL-terminated malloc'ed buffer. */
int contend_read_file(const char *path, char **out, size_t *len);

/* /proc/PID/NAME (stat, statm, ...) into buf, NUL-terminated: the number of
 * bytes read, or a negative errno (the process may be gone). */
long contend_read_proc(long pid, const char *name, char *buf, size_t len);

/* Parsing; return 0 or -EINVAL / -ERANGE. */
int contend_parse_u64(const char *s, uint64_t *out); /* 123, 0x7b, 10k, 2M, 1G */
int contend_parse_i64(const char *s, int64_t *out);
int contend_parse_double(const char *s, double *out);
int contend_parse_duration_ns(const char *s, uint64_t *out); /* 500ms, 10s, 2m, 1h; bare = s */

/* SplitMix64: the mixing function behind every seeded stream. */
static inline uint64_t contend_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A small, fast stream (xorshift-multiply on a SplitMix state).  Streams are
 * derived from (seed, writer, sequence) so that the same seed gives the same
 * operations, and a restarted worker continues where its predecessor was. */
struct contend_rng {
    uint64_t s;
};

static inline void contend_rng_init(struct contend_rng *r, uint64_t a, uint64_t b, uint64_t c)
{
    r->s = contend_mix64(contend_mix64(contend_mix64(a) ^ b) ^ c);
}

static inline uint64_t contend_rng_next(struct contend_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth caring about (Lemire). */
static inline uint64_t contend_rng_below(struct contend_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)contend_rng_next(r) * n) >> 64);
}

#endif /* CONTEND_UTIL_H */
