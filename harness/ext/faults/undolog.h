/*
 * undolog.h - what a power cut would lose: the undo log the shim keeps.
 *
 * For every change a worker makes to a file under the store, the shim
 * records, *before* the change reaches the kernel, what it takes to undo it:
 * the bytes a write will overwrite and the file's size (so the appended tail
 * can be cut off), the bytes a truncation will drop, the name a create adds,
 * the name an unlink removes, the names a rename swaps and the inode it
 * replaces.  It also records every successful fsync/fdatasync of a file or a
 * directory.  A change is durable once a later fsync covers it: a file's
 * data and size by an fsync of that file, a directory entry (create, rename,
 * unlink) by an fsync of its directory.  Everything else is what a power cut
 * may lose, and the runner undoes it (harness/ext/faults/powercut.c).
 *
 * The log is one sparse file mapped MAP_SHARED by every worker: a header
 * with two atomic counters, an array of fixed-size entries and a data area.
 * A writer reserves an entry and its payload with two fetch-adds, fills
 * them and commits the entry with a release store.  A worker SIGKILLed
 * between reserve and commit leaves an uncommitted entry, which the reader
 * skips: its change never happened, because the change comes after the
 * commit.  The log's order (entry index) is the order of the changes as far
 * as the target's own locking orders them; two processes writing the same
 * bytes without a lock get an undo log as racy as their writes.
 *
 * Entries need the files' names at undo time, after renames and unlinks, so
 * the shim keeps one hard link per tracked inode in a "farm" directory
 * (faults/ino/<dev>.<ino>) next to the log; the runner opens inodes there.
 *
 * Shared by the shim and the harness: no allocation, no harness helpers.
 */
#ifndef CONTEND_FAULTS_UNDOLOG_H
#define CONTEND_FAULTS_UNDOLOG_H

#include <stddef.h>
#include <stdint.h>

#define CONTEND_ULOG_MAGIC 0x474f4c4f444e5543ull /* "CUNDOLOG" */
#define CONTEND_ULOG_VERSION 1
#define CONTEND_ULOG_DEFAULT_SLOTS (1ull << 20)
#define CONTEND_ULOG_DEFAULT_DATA (1ull << 30)

enum contend_ulog_type {
    CONTEND_ULOG_WRITE = 1,  /* ino: file; off, len; old_size; data = old bytes */
    CONTEND_ULOG_TRUNC = 2,  /* ino: file; off = new size; old_size; data = dropped bytes */
    CONTEND_ULOG_FSYNC = 3,  /* ino: file or directory made durable */
    CONTEND_ULOG_SYNC = 4,   /* sync()/syncfs(): everything before is durable */
    CONTEND_ULOG_CREATE = 5, /* dir_ino; ino: new file (0 until known); data = path */
    CONTEND_ULOG_UNLINK = 6, /* dir_ino; ino: removed inode; data = path */
    CONTEND_ULOG_RENAME = 7, /* dir_ino -> dir2_ino; ino: moved; victim_ino; data = src\0dst */
};

struct contend_ulog_header {
    uint64_t magic;
    uint32_t version;
    uint32_t overflow;  /* atomic: a change could not be logged (enum contend_ulog_overflow) */
    uint64_t slots_cap; /* entries */
    uint64_t data_cap;  /* payload bytes */
    uint64_t nslots;    /* atomic: entries reserved */
    uint64_t data_used; /* atomic: payload bytes reserved */
};

struct contend_ulog_entry {
    uint32_t type;  /* enum contend_ulog_type */
    uint32_t state; /* 0 reserved, 1 committed (release) */
    uint64_t dev, ino;
    uint64_t off;
    uint64_t len;
    uint64_t old_size;
    uint64_t data; /* payload offset in the data area */
    uint64_t data_len;
    uint64_t dir_ino;
    uint64_t dir2_ino;
    uint64_t victim_ino;
    uint64_t _pad[5];
};
_Static_assert(sizeof(struct contend_ulog_entry) == 128, "log entries are 128 bytes");

#define CONTEND_ULOG_ENTRIES_OFF 4096ul

enum contend_ulog_overflow {
    CONTEND_ULOG_FULL = 1,    /* more entries or bytes than the log holds */
    CONTEND_ULOG_NOSPACE = 2, /* the file system had no blocks for the log */
};

struct contend_ulog {
    struct contend_ulog_header *hdr;
    struct contend_ulog_entry *ent;
    unsigned char *data;
    size_t map_len;
    /* The log file, kept open to give its blocks before they are written
     * through the mapping (reserve): a store into a sparse mapping on a
     * full disk is a SIGBUS in the target's process, a fallocate that
     * fails is an error we can report. */
    int fd;
    uint64_t dev, ino;
    const char *path; /* the caller's string, for reopening */
};

/* Create an empty log (sparse) able to hold `slots` entries and `data` bytes. */
int contend_ulog_create(const char *path, uint64_t slots, uint64_t data);
int contend_ulog_open(const char *path, struct contend_ulog *u);
void contend_ulog_close(struct contend_ulog *u);
/* Forget every entry.  Only while no writer is alive (after a power cut). */
void contend_ulog_reset(struct contend_ulog *u);

/* Reserve an entry with `data_len` bytes of payload (*data points at it),
 * its blocks allocated.  NULL when the log is full or the disk has no room
 * for it; the overflow flag then says which. */
struct contend_ulog_entry *contend_ulog_reserve(struct contend_ulog *u, uint32_t type,
                                                size_t data_len, unsigned char **data);
static inline void contend_ulog_commit(struct contend_ulog_entry *e)
{
    __atomic_store_n(&e->state, 1, __ATOMIC_RELEASE);
}

/* The farm link of inode (dev, ino): "<farm>/<dev>.<ino>". */
int contend_ulog_farm_path(char *buf, size_t len, const char *farm, uint64_t dev, uint64_t ino);

#endif /* CONTEND_FAULTS_UNDOLOG_H */
