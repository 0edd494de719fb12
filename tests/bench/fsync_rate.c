/*
 * fsync_rate.c - the raw rate of this disk for what a ledger append costs at
 * the least: write() one 256-byte line to an O_APPEND file, fsync().  The
 * yardstick for jsonl-ledger:flock-tailscan with durability=each, which adds
 * a flock, a tail read and a SHA-256 to each append.
 *
 *   fsync_rate DIR [N] [BYTES]    N appends (default 1000) into a file in DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fsync_rate DIR [N] [BYTES]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 1000, len = argc > 3 ? atol(argv[3]) : 256;
    if (n < 1 || len < 1 || len > 65536) {
        fprintf(stderr, "fsync_rate: N >= 1, 1 <= BYTES <= 65536\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_rate.%d", argv[1], (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "fsync_rate: %s: %s\n", path, strerror(errno));
        return 4;
    }
    char *line = malloc((size_t)len);
    memset(line, 'x', (size_t)len - 1);
    line[len - 1] = '\n';
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (write(fd, line, (size_t)len) != len || fsync(fd) != 0) {
            fprintf(stderr, "fsync_rate: %s: %s\n", path, strerror(errno));
            return 4;
        }
    }
    double secs = now() - t0;
    close(fd);
    unlink(path);
    free(line);
    printf("write+fsync: %ld appends of %ld bytes in %.3f s: %.1f/s\n", n, len, secs,
           (double)n / secs);
    return 0;
}
