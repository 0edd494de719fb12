/*
 * probe.c - the machine probe: how fast is this machine right now?
 *
 * Two runs of one build differ when the machine's load differs between them
 * (other jobs on a shared runner, a disk busy with someone else's writes).
 * The probe measures the two resources a storage test spends: CPU, as the
 * rate of a fixed integer loop, and durable writes, as the rate of small
 * write + fdatasync pairs in the case's own directory.  Both are measured in
 * wall time on purpose: the case's figures are wall-time figures, and a
 * CPU shared with another job shows as a slower loop only on the wall clock.
 *
 * Each half takes a fixed slice of time (not a fixed amount of work), so a
 * slow disk cannot make the probe itself slow: ~10 ms of loop, at most
 * ~15 ms or 32 syncs of fsync.  Taken before and after every repetition,
 * that is ~50 ms per repetition.
 */
#include "probe.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CPU_SLICE_NS 10000000ull
#define FSYNC_SLICE_NS 15000000ull
#define FSYNC_MAX 32
#define CPU_CHUNK 20000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift steps in chunks until the slice is over; the result is handed
 * to an empty asm so the compiler cannot drop the loop. */
static double cpu_rate(void)
{
    uint64_t x = 88172645463325252ull, iters = 0, t0 = now_ns(), t;
    do {
        for (int i = 0; i < CPU_CHUNK; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        iters += CPU_CHUNK;
        t = now_ns();
    } while (t - t0 < CPU_SLICE_NS);
    __asm__ volatile("" : : "r"(x));
    return (double)iters / ((double)(t - t0) / 1e3); /* per µs = millions per s */
}

static double fsync_rate(const char *dir)
{
    char path[4096], block[4096];
    snprintf(path, sizeof path, "%s/.probe-fsync", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    memset(block, 'p', sizeof block);
    uint64_t t0 = now_ns(), t = t0;
    int n = 0;
    while (n < FSYNC_MAX && t - t0 < FSYNC_SLICE_NS) {
        if (pwrite(fd, block, sizeof block, (off_t)(n % 4) * (off_t)sizeof block) !=
                (ssize_t)sizeof block ||
            fdatasync(fd) != 0)
            break;
        n++;
        t = now_ns();
    }
    close(fd);
    unlink(path);
    return n && t > t0 ? (double)n / ((double)(t - t0) / 1e9) : 0;
}

void contend_probe_measure(const char *dir, struct contend_probe *out)
{
    out->cpu_mops = cpu_rate();
    out->fsync_per_s = fsync_rate(dir);
}
