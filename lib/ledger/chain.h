/*
 * chain.h - the hash-chained JSONL checker, shared by the `ledger` workload's
 * checker and `contend verify ledger`.
 *
 * It streams a file once and reports, each with its line number and the byte
 * offset where the line starts:
 *
 *   torn-line         the last line has no newline (an append that did not finish)
 *   invalid-line      not a JSON object, no hash / prev_hash string, an empty
 *                     line, a CRLF line ending
 *   bad-hash          the hash is not the SHA-256 of the canonical record without it
 *   chain-fork        two records name the same prev_hash (both lines are named)
 *   chain-gap         a prev_hash that is no earlier record's hash
 *   duplicate-append  a record whose hash an earlier line already has (optional:
 *                     the workload checker matches op ids instead)
 *   writer-order      a record whose integer `op` is not above the last `op` of the
 *                     same integer `writer`
 *
 * Memory: a read buffer (4 MiB, or the longest line), and an index of 16 bytes
 * per record (a 64-bit fingerprint of its hash, its line, its successor's
 * line) that forks and gaps are decided from.  The file itself is never held.
 */
#ifndef CONTEND_CHAIN_H
#define CONTEND_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct contend_chain_opts {
    const char *hash_field; /* "hash" when NULL */
    const char *prev_field; /* "prev_hash" when NULL */
    bool no_recompute;      /* trust the hashes; check only the links */
    bool dup_by_hash;       /* report a repeated hash as duplicate-append */
    uint64_t max_index;     /* index at most this many records; 0 = no limit */
    unsigned threads;       /* threads that analyse lines (hash, parse); 0 or 1 = this one */
    uint64_t max_line;      /* a longer line is an invalid-line, read past without being
                               held (bounded memory); 0 = CONTEND_CHAIN_MAX_LINE */
};

#define CONTEND_CHAIN_MAX_LINE (16u << 20)

/* A line that parsed as a record (its hash may still be bad). */
struct contend_chain_rec {
    uint64_t line, offset;
    bool has_op, has_writer, has_seq;
    int64_t op, writer, seq;
    uint64_t dup_of; /* an earlier line with the same hash, or 0 */
    bool bad_hash;   /* reported as bad-hash: its fields may be torn or forged */
};

struct contend_chain_sink {
    void *ctx;
    /* One violation at line:offset.  `other` is a second line the reason
     * names (the other side of a fork, the earlier copy), or 0. */
    void (*violation)(void *ctx, const char *kind, uint64_t line, uint64_t offset, uint64_t other,
                      const char *reason);
    /* Optional: every record, in file order. */
    void (*record)(void *ctx, const struct contend_chain_rec *r);
};

struct contend_chain_stats {
    uint64_t lines, records, bytes;
    uint64_t fast, slow; /* records hashed from their bytes / re-serialized */
    uint64_t violations;
    uint64_t unindexed; /* links not checked because the index was full */
};

/* Check a file.  Returns 0 (violations go to the sink), or a negative errno
 * when the file cannot be opened or read. */
int contend_chain_check_path(const char *path, const struct contend_chain_opts *o,
                             const struct contend_chain_sink *sink, struct contend_chain_stats *st);
int contend_chain_check_fd(int fd, const struct contend_chain_opts *o,
                           const struct contend_chain_sink *sink, struct contend_chain_stats *st);
/* Check text in memory (tests, small files). */
int contend_chain_check_buf(const char *buf, size_t len, const struct contend_chain_opts *o,
                            const struct contend_chain_sink *sink, struct contend_chain_stats *st);

/* The lowercase hex SHA-256 of the canonical JSON of `line` without its
 * `hash_field` member, into hex[65].  Returns 0, or -EINVAL when the line is
 * not a JSON object.  For tests and writers that want to double-check. */
int contend_chain_hash_line(const char *line, size_t len, const char *hash_field, char hex[65]);

/* The top-level integer member `key` of the first n bytes of a line that may
 * end anywhere (a torn write), into *out.  False when those bytes do not
 * hold it whole: a number the tear cut short might be the prefix of another.
 * The ledger checker reads a torn tail's "op" with it. */
bool contend_chain_fragment_int(const char *p, size_t n, const char *key, int64_t *out);

#endif /* CONTEND_CHAIN_H */
