/*
 * control.c - the shared control block and its futex.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int map_control(int fd, struct contend_control **out)
{
    void *p = mmap(NULL, sizeof **out, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    *out = p;
    return 0;
}

int contend_control_create(const char *path, struct contend_control **out)
{
    int rc = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if ((rc = contend_file_reserve(fd, sizeof **out)) == 0)
        rc = map_control(fd, out);
    close(fd);
    if (rc == 0) {
        memset(*out, 0, sizeof **out);
        (*out)->magic = CONTEND_CONTROL_MAGIC;
    }
    return rc;
}

int contend_control_open(const char *path, struct contend_control **out)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = map_control(fd, out);
    close(fd);
    if (rc == 0 && (*out)->magic != CONTEND_CONTROL_MAGIC) {
        contend_control_close(*out);
        *out = NULL;
        rc = -EINVAL;
    }
    return rc;
}

void contend_control_close(struct contend_control *c)
{
    if (c)
        munmap(c, sizeof *c);
}

/* Not FUTEX_PRIVATE: the word lives in a file mapping shared by processes. */
void contend_futex_wait(uint32_t *word, uint32_t val, uint64_t timeout_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(timeout_ns / 1000000000ull),
        .tv_nsec = (long)(timeout_ns % 1000000000ull),
    };
    syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

void contend_futex_wake_all(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
