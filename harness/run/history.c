/*
 * history.c - creating and mapping history files.
 */
#include "history.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t file_size(uint64_t capacity)
{
    return CONTEND_HISTORY_RECORDS_OFF +
           capacity * (sizeof(struct contend_record) + sizeof(struct contend_work));
}

int contend_history_create(const char *path, uint32_t worker, uint32_t thread, uint32_t writer,
                           uint64_t capacity)
{
    struct contend_history_header hdr;
    int rc = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    memset(&hdr, 0, sizeof hdr);
    hdr.magic = CONTEND_HISTORY_MAGIC;
    hdr.version = CONTEND_HISTORY_VERSION;
    hdr.record_size = sizeof(struct contend_record);
    hdr.worker = worker;
    hdr.thread = thread;
    hdr.writer = writer;
    hdr.capacity = capacity;
    /* Every block up front: the file is mapped, and a record written to a
     * hole on a full disk would be a SIGBUS in the worker (reported as the
     * target's crash) or in the runner, never an error message. */
    if ((rc = contend_file_reserve(fd, file_size(capacity))) != 0)
        ;
    else if (pwrite(fd, &hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

int contend_history_open(const char *path, bool writable, struct contend_history *h)
{
    struct stat st;
    int rc = 0;
    memset(h, 0, sizeof *h);
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if ((size_t)st.st_size < CONTEND_HISTORY_RECORDS_OFF) {
        rc = -EINVAL;
        goto out;
    }
    void *p = mmap(NULL, (size_t)st.st_size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        rc = -errno;
        goto out;
    }
    h->hdr = p;
    h->map_len = (size_t)st.st_size;
    if (h->hdr->magic != CONTEND_HISTORY_MAGIC || h->hdr->version != CONTEND_HISTORY_VERSION ||
        h->hdr->record_size != sizeof(struct contend_record) ||
        file_size(h->hdr->capacity) > h->map_len) {
        munmap(p, h->map_len);
        memset(h, 0, sizeof *h);
        rc = -EINVAL;
        goto out;
    }
    h->hist = (struct contend_hist *)((char *)p + CONTEND_HISTORY_HIST_OFF);
    h->series = (uint32_t *)((char *)p + CONTEND_HISTORY_SERIES_OFF);
    h->rec = (struct contend_record *)((char *)p + CONTEND_HISTORY_RECORDS_OFF);
    h->work = (struct contend_work *)(h->rec + h->hdr->capacity);
out:
    close(fd);
    return rc;
}

void contend_history_close(struct contend_history *h)
{
    if (h->hdr)
        munmap(h->hdr, h->map_len);
    memset(h, 0, sizeof *h);
}

uint64_t contend_history_file_size(uint64_t capacity)
{
    return file_size(capacity);
}

const char *contend_status_name(unsigned status)
{
    switch (status) {
    case CONTEND_OK: return "ok";
    case CONTEND_FAIL: return "fail";
    case CONTEND_INFO: return "info";
    case CONTEND_STATUS_INVOKED: return "in-flight";
    default: return "?";
    }
}
