/*
 * powercut.h - rolling a store back to what a disk holds after a power cut.
 *
 * The runner calls this with every worker dead: it reads the undo log the
 * shim kept (undolog.h), decides which changes were durable (a later fsync
 * of the file covers its data and size; a later fsync of the directory
 * covers a create, unlink or rename in it; sync covers everything) and
 * undoes the rest, newest first, under a policy:
 *
 *   drop    every change that was not durable is lost;
 *   prefix  a seeded prefix of the non-durable changes, in log order,
 *           survives (a disk that persists in order and stopped somewhere);
 *   torn    every non-durable write keeps a seeded prefix of itself cut at a
 *           `sector` boundary of the file offset (possibly all, possibly
 *           nothing, zeros where it had extended the file), independently
 *           of the others; metadata changes (names, truncations) keep a
 *           seeded prefix in log order, as a journaling file system
 *           commits them: a rename may survive while the data written
 *           before it, never fsynced, does not.
 *
 * Under `torn`, bytes a later surviving write put in place are not
 * overwritten by the undo of an earlier write: every byte ends up as the
 * newest surviving write left it, or as it was durably.
 */
#ifndef CONTEND_FAULTS_POWERCUT_H
#define CONTEND_FAULTS_POWERCUT_H

#include <stdbool.h>
#include <stdint.h>

enum contend_cut_policy {
    CONTEND_CUT_DROP = 0,
    CONTEND_CUT_PREFIX = 1,
    CONTEND_CUT_TORN = 2,
};

struct contend_cut_report {
    uint64_t entries;   /* committed changes in the log */
    uint64_t volatile_; /* of which not durable */
    uint64_t undone;    /* non-durable changes undone, wholly or in part */
    uint64_t bytes;     /* bytes put back (old bytes, or zeros past the old end) */
    uint64_t names;     /* directory entries put back */
    uint64_t errors;    /* undo steps that could not be done (see first_error) */
    uint32_t overflow;  /* some changes were not logged: enum contend_ulog_overflow */
    char first_error[256];
};

/* Parse "drop" | "prefix" | "torn"; -EINVAL otherwise. */
int contend_cut_policy_parse(const char *s, int *out);
const char *contend_cut_policy_name(int policy);

/* Undo the non-durable changes in the log at `ulog_path` (inodes reached
 * through the hard links in `farm`).  Returns 0 (details, including steps
 * that failed, in *rep) or a negative errno when the log cannot be read. */
int contend_powercut_rollback(const char *ulog_path, const char *farm, int policy, unsigned sector,
                              uint64_t seed, struct contend_cut_report *rep);

/* After a rollback: empty the log and the farm.  No worker may be alive. */
int contend_powercut_reset(const char *ulog_path, const char *farm);

#endif /* CONTEND_FAULTS_POWERCUT_H */
