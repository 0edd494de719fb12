/*
 * fault_probe.c - a program for the fault shim to be loaded into.
 *
 * tests/unit/test_shim.c runs it with LD_PRELOAD=contend-faultshim.so and a
 * fault control block, and it performs the file calls its arguments name,
 * one per argument, printing one line per call: "<result> <errno name>".
 * That way the tests see the shim exactly as a target does: through libc's
 * symbols, in another process.
 *
 *   open:PATH:FLAGS     FLAGS from c (O_CREAT), t (O_TRUNC), a (O_APPEND),
 *                       w (O_WRONLY), r (O_RDONLY), d (O_DIRECTORY), else O_RDWR;
 *                       the descriptor is remembered as the "current" one, and
 *                       0 printed for it (descriptor numbers vary)
 *   write:TEXT          write(current, TEXT)
 *   pwrite:OFF:TEXT     pwrite(current, TEXT, OFF)
 *   fill:OFF:N:CH       pwrite(current, N bytes of CH, OFF)
 *   writev:A:B          writev(current, {A, B})
 *   trunc:LEN           ftruncate(current, LEN)
 *   fsync / fdatasync / close
 *   rename:A:B / unlink:A / creat:A
 *   op:WRITER:IDX:ACT   the worker's call: an op begins (ACT 0 none, 1 kill, 2 cut)
 *   end                 the op ends; prints whether the action is still pending
 *   sync
 *   bench:PATH:N        N 64-byte pwrites to PATH; prints wall and user ns per call
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

typedef int (*shim_op_fn)(uint32_t, uint32_t, uint64_t, int);

static int cur = -1;

static void result(long rc)
{
    printf("%ld %s\n", rc, rc < 0 ? strerrorname_np(errno) : "-");
    fflush(stdout);
}

static int flags_of(const char *s)
{
    int f = 0;
    int acc = O_RDWR;
    for (; *s; s++) {
        switch (*s) {
        case 'c': f |= O_CREAT; break;
        case 't': f |= O_TRUNC; break;
        case 'a': f |= O_APPEND; break;
        case 'w': acc = O_WRONLY; break;
        case 'r': acc = O_RDONLY; break;
        case 'd':
            acc = O_RDONLY;
            f |= O_DIRECTORY;
            break;
        default: break;
        }
    }
    return f | acc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(const char *path, long n)
{
    char buf[64];
    memset(buf, 'x', sizeof buf);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        result(-1);
        return;
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (pwrite(fd, buf, sizeof buf, (off_t)((i % 64) * 64)) != (ssize_t)sizeof buf)
            break;
    double t1 = now_s();
    close(fd);
    /* User time apart: the shim's own work is user time, the syscall's is not. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    printf("%.1f ns %.1f ns-user\n", (t1 - t0) / (double)n * 1e9, user / (double)n * 1e9);
}

int main(int argc, char **argv)
{
    shim_op_fn shim_op = (shim_op_fn)dlsym(RTLD_DEFAULT, "contend_shim_op");
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        char *f[4] = {NULL, NULL, NULL, NULL};
        int nf = 0;
        for (char *save = NULL, *t = strtok_r(a, ":", &save); t && nf < 4;
             t = strtok_r(NULL, ":", &save))
            f[nf++] = t;
        const char *cmd = f[0] ? f[0] : "";
        errno = 0;
        if (strcmp(cmd, "open") == 0 && nf >= 2) {
            cur = open(f[1], flags_of(nf > 2 ? f[2] : ""), 0644);
            result(cur < 0 ? -1 : 0);
        } else if (strcmp(cmd, "write") == 0 && nf >= 2) {
            result(write(cur, f[1], strlen(f[1])));
        } else if (strcmp(cmd, "pwrite") == 0 && nf >= 3) {
            result(pwrite(cur, f[2], strlen(f[2]), atol(f[1])));
        } else if (strcmp(cmd, "fill") == 0 && nf >= 4) {
            size_t n = (size_t)atol(f[2]);
            char *buf = malloc(n ? n : 1);
            memset(buf, f[3][0], n);
            result(pwrite(cur, buf, n, atol(f[1])));
            free(buf);
        } else if (strcmp(cmd, "writev") == 0 && nf >= 3) {
            struct iovec iov[2] = {{f[1], strlen(f[1])}, {f[2], strlen(f[2])}};
            result(writev(cur, iov, 2));
        } else if (strcmp(cmd, "trunc") == 0 && nf >= 2) {
            result(ftruncate(cur, atol(f[1])));
        } else if (strcmp(cmd, "fsync") == 0) {
            result(fsync(cur));
        } else if (strcmp(cmd, "fdatasync") == 0) {
            result(fdatasync(cur));
        } else if (strcmp(cmd, "close") == 0) {
            result(close(cur));
        } else if (strcmp(cmd, "rename") == 0 && nf >= 3) {
            result(rename(f[1], f[2]));
        } else if (strcmp(cmd, "unlink") == 0 && nf >= 2) {
            result(unlink(f[1]));
        } else if (strcmp(cmd, "creat") == 0 && nf >= 2) {
            cur = creat(f[1], 0644);
            result(cur < 0 ? -1 : 0);
        } else if (strcmp(cmd, "sync") == 0) {
            sync();
            result(0);
        } else if (strcmp(cmd, "op") == 0 && nf >= 4) {
            result(shim_op ? shim_op((uint32_t)atoi(f[1]), (uint32_t)atoi(f[1]),
                                     (uint64_t)atoll(f[2]), atoi(f[3]))
                           : -2);
        } else if (strcmp(cmd, "end") == 0) {
            result(shim_op ? shim_op(0, 0, UINT64_MAX, 0) : -2);
        } else if (strcmp(cmd, "bench") == 0 && nf >= 3) {
            bench(f[1], atol(f[2]));
        } else {
            fprintf(stderr, "fault_probe: bad command %s\n", argv[i]);
            return 2;
        }
    }
    return 0;
}
