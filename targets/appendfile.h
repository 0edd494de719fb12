/*
 * appendfile.h - small helpers for targets that append lines to files and
 * rename them (rotating-log, event-log).
 */
#ifndef CONTEND_APPENDFILE_H
#define CONTEND_APPENDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* If the file ends in a line without "\n" (an append whose writer died or
 * whose power went mid-write), cut it off, so that the next line is not
 * glued to it.  The caller holds whatever lock keeps other writers out:
 * under it no live writer is in the middle of a line, so the fragment is
 * dead.  Returns the bytes cut (0 when none), or a negative errno. */
off_t contend_cut_torn_tail(int fd);

/* fsync the directory `dir`, so that creates and renames in it survive a
 * power cut.  0 or a negative errno. */
int contend_fsync_dir(const char *dir);

/* write() all of it, retrying short writes.  0 or a negative errno. */
int contend_write_all(int fd, const void *p, size_t n);

#endif /* CONTEND_APPENDFILE_H */
