/*
 * appendfile.c - see appendfile.h.
 */
#include "appendfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACK_CHUNK 4096

off_t contend_cut_torn_tail(int fd)
{
    struct stat st;
    char buf[BACK_CHUNK];
    if (fstat(fd, &st) < 0)
        return -errno;
    off_t end = st.st_size;
    if (end == 0)
        return 0;
    if (pread(fd, buf, 1, end - 1) != 1)
        return -EIO;
    if (buf[0] == '\n')
        return 0;
    /* Scan back for the end of the last complete line. */
    off_t keep = 0;
    for (off_t hi = end; hi > 0 && keep == 0;) {
        off_t lo = hi > BACK_CHUNK ? hi - BACK_CHUNK : 0;
        ssize_t r = pread(fd, buf, (size_t)(hi - lo), lo);
        if (r != hi - lo)
            return r < 0 ? -errno : -EIO;
        for (ssize_t i = r - 1; i >= 0; i--) {
            if (buf[i] == '\n') {
                keep = lo + i + 1;
                break;
            }
        }
        hi = lo;
    }
    if (ftruncate(fd, keep) < 0)
        return -errno;
    return end - keep;
}

int contend_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int contend_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
