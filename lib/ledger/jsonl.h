/*
 * jsonl.h - the line rules every JSONL file contend checks shares: the
 * hash-chained ledger (chain.c) and the rotating log (the `log` workload).
 *
 * A line ends in "\n" alone.  A last line without one is torn: an append
 * that did not finish (its writer died mid-write, the power went, its write
 * failed part way).  An empty line or one that ends in "\r\n" is invalid,
 * whatever the line holds.  What a valid line must hold beyond that is the
 * caller's business (a hash chain, a log record).
 *
 * Whether a torn tail is a violation depends on the history, and the rule
 * is the same for both checkers: it is `torn-line` only when it is the
 * record of an acknowledged op that is not intact anywhere else (the op it
 * names is read from the fragment's own bytes, with
 * contend_chain_fragment_int); otherwise it is an append that never
 * finished, which the program's recovery cuts off.
 */
#ifndef CONTEND_JSONL_H
#define CONTEND_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The framing of one line, without its "\n": returns NULL when it is
 * framed right, else why it is an invalid-line.  *len drops a final "\r"
 * (reported) so that the caller can still parse what the line holds. */
const char *contend_jsonl_frame(const char *line, size_t *len);

/* The reason text of a torn tail of `len` bytes, into buf. */
const char *contend_jsonl_torn_reason(size_t len, char *buf, size_t cap);

struct contend_jsonl_sink {
    void *ctx;
    /* Every complete line (without its "\n"), 1-based line number, the byte
     * offset where it starts. */
    void (*line)(void *ctx, const char *p, size_t len, uint64_t no, uint64_t off);
    /* The torn tail, if the file has one. */
    void (*torn)(void *ctx, const char *p, size_t len, uint64_t no, uint64_t off);
};

/* Stream a file line by line.  Returns 0, or a negative errno (-ENOENT when
 * it does not exist).  Memory: the longest line, never the file. */
int contend_jsonl_each_path(const char *path, const struct contend_jsonl_sink *sink,
                            uint64_t *lines);

#endif /* CONTEND_JSONL_H */
