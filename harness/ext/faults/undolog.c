/*
 * undolog.c - creating, mapping and appending to the undo log (undolog.h).
 */
#include "undolog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static size_t log_size(uint64_t slots, uint64_t data)
{
    return CONTEND_ULOG_ENTRIES_OFF + slots * sizeof(struct contend_ulog_entry) + data;
}

int contend_ulog_create(const char *path, uint64_t slots, uint64_t data)
{
    struct contend_ulog_header h;
    int rc = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    memset(&h, 0, sizeof h);
    h.magic = CONTEND_ULOG_MAGIC;
    h.version = CONTEND_ULOG_VERSION;
    h.slots_cap = slots;
    h.data_cap = data;
    /* Sparse: only the entries and bytes actually logged take space. */
    if (ftruncate(fd, (off_t)log_size(slots, data)) < 0)
        rc = -errno;
    else if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

int contend_ulog_open(const char *path, struct contend_ulog *u)
{
    struct stat st;
    int rc = 0;
    memset(u, 0, sizeof *u);
    u->fd = -1;
    /* The raw system call: inside the shim, open() is the shim's own. */
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if ((size_t)st.st_size < CONTEND_ULOG_ENTRIES_OFF) {
        rc = -EINVAL;
        goto out;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        rc = -errno;
        goto out;
    }
    u->hdr = p;
    u->map_len = (size_t)st.st_size;
    if (u->hdr->magic != CONTEND_ULOG_MAGIC || u->hdr->version != CONTEND_ULOG_VERSION ||
        log_size(u->hdr->slots_cap, u->hdr->data_cap) > u->map_len) {
        munmap(p, u->map_len);
        memset(u, 0, sizeof *u);
        rc = -EINVAL;
        goto out;
    }
    u->ent = (struct contend_ulog_entry *)((char *)p + CONTEND_ULOG_ENTRIES_OFF);
    u->data = (unsigned char *)(u->ent + u->hdr->slots_cap);
    u->fd = fd;
    u->dev = (uint64_t)st.st_dev;
    u->ino = (uint64_t)st.st_ino;
    u->path = path;
    return 0;
out:
    close(fd);
    return rc;
}

void contend_ulog_close(struct contend_ulog *u)
{
    if (u->hdr)
        munmap(u->hdr, u->map_len);
    if (u->fd >= 0)
        close(u->fd);
    memset(u, 0, sizeof *u);
    u->fd = -1;
}

/*
 * Allocate the blocks of [off, off + len) of the log file now.  The log is
 * sparse (a gigabyte of room, most runs use kilobytes), so without this the
 * first store into a new page on a full disk raises SIGBUS in whatever
 * process logged the change: a worker, or the user's program over exec,
 * reported as its crash.  fallocate() says ENOSPC instead.
 *
 * The descriptor lives in the target's process, which may close it or reuse
 * its number: it is checked against the log's inode first and opened again
 * when it is not the log any more.  FALLOC_FL_KEEP_SIZE, and the range lies
 * inside the file's size anyway.  A file system without fallocate keeps the
 * old, sparse behaviour.
 */
static int back(struct contend_ulog *u, uint64_t off, uint64_t len)
{
    struct stat st;
    if (len == 0)
        return 0;
    if (u->fd < 0 || fstat(u->fd, &st) < 0 || (uint64_t)st.st_dev != u->dev ||
        (uint64_t)st.st_ino != u->ino) {
        if (!u->path)
            return 0;
        int fd = (int)syscall(SYS_openat, AT_FDCWD, u->path, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0)
            return 0; /* nothing to check with: as before, sparse */
        u->fd = fd;
    }
    if (fallocate(u->fd, FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    return errno == EOPNOTSUPP || errno == ENOSYS || errno == EINTR ? 0 : -errno;
}

void contend_ulog_reset(struct contend_ulog *u)
{
    uint64_t n = u->hdr->nslots < u->hdr->slots_cap ? u->hdr->nslots : u->hdr->slots_cap;
    memset(u->ent, 0, n * sizeof u->ent[0]);
    u->hdr->nslots = 0;
    u->hdr->data_used = 0;
    u->hdr->overflow = 0;
    /* Give the payload's pages back; the entries are few and were cleared. */
    madvise(u->data, u->hdr->data_cap, MADV_REMOVE);
}

struct contend_ulog_entry *contend_ulog_reserve(struct contend_ulog *u, uint32_t type,
                                                size_t data_len, unsigned char **data)
{
    struct contend_ulog_header *h = u->hdr;
    uint64_t slot = __atomic_fetch_add(&h->nslots, 1, __ATOMIC_RELAXED);
    /* 8-byte aligned payloads keep every entry's bytes apart. */
    uint64_t want = (data_len + 7) & ~7ull;
    uint64_t off = want ? __atomic_fetch_add(&h->data_used, want, __ATOMIC_RELAXED) : 0;
    if (slot >= h->slots_cap || off + want > h->data_cap) {
        __atomic_store_n(&h->overflow, CONTEND_ULOG_FULL, __ATOMIC_RELAXED);
        return NULL;
    }
    uint64_t ent_off = CONTEND_ULOG_ENTRIES_OFF + slot * sizeof(struct contend_ulog_entry);
    uint64_t data_off = CONTEND_ULOG_ENTRIES_OFF + h->slots_cap * sizeof(struct contend_ulog_entry);
    if (back(u, ent_off, sizeof(struct contend_ulog_entry)) != 0 ||
        back(u, data_off + off, want) != 0) {
        /* The reserved slot stays 0 ("reserved", never committed): the
         * rollback skips it, and the overflow flag ends the case. */
        __atomic_store_n(&h->overflow, CONTEND_ULOG_NOSPACE, __ATOMIC_RELAXED);
        return NULL;
    }
    struct contend_ulog_entry *e = &u->ent[slot];
    e->type = type;
    e->data = off;
    e->data_len = data_len;
    if (data)
        *data = u->data + off;
    return e;
}

int contend_ulog_farm_path(char *buf, size_t len, const char *farm, uint64_t dev, uint64_t ino)
{
    int n =
        snprintf(buf, len, "%s/%llx.%llu", farm, (unsigned long long)dev, (unsigned long long)ino);
    return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}
