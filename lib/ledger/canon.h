/*
 * canon.h - canonical JSON, byte for byte what Python writes with
 *
 *     json.dumps(rec, sort_keys=True, separators=(",", ":"))    # ensure_ascii
 *
 * so that a ledger written by a Python program and one written by a C
 * program hash the same.  Three parts:
 *
 *   - writers: a string (from UTF-8), a double (Python's repr), any jansson
 *     value (keys sorted by code point, optionally leaving out one top-level
 *     member: the record "without its hash");
 *   - a scanner that decides whether a line of text already *is* canonical
 *     JSON, and where its hash and prev_hash members are, without building
 *     anything: the ledger checker's fast path (see chain.c for why);
 *   - a growable byte buffer the writers append to.
 */
#ifndef CONTEND_CANON_H
#define CONTEND_CANON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct contend_sbuf {
    char *p;
    size_t n, cap;
};

/* Make room for `more` bytes after p[n]; aborts on out-of-memory. */
void contend_sbuf_reserve(struct contend_sbuf *b, size_t more);
void contend_sbuf_add(struct contend_sbuf *b, const void *data, size_t n);
void contend_sbuf_free(struct contend_sbuf *b);

/* Append `s` (n bytes of UTF-8) as a JSON string, quotes included, escaped as
 * Python's ensure_ascii does.  Returns 0, or -EILSEQ when `s` is not valid
 * UTF-8 (nothing useful is appended then). */
int contend_canon_string(struct contend_sbuf *b, const char *s, size_t n);

/* The longest text contend_canon_double() writes, NUL included. */
#define CONTEND_CANON_DOUBLE_MAX 32
/* Python's repr(v) (as json.dumps writes floats): the shortest digits that
 * read back as v, "1.0" for integral values, exponent form outside
 * [1e-4, 1e16), NaN / Infinity / -Infinity.  Returns the length. */
int contend_canon_double(double v, char buf[CONTEND_CANON_DOUBLE_MAX]);

/* Append the canonical JSON of `v`.  When `skip_key` is not NULL and `v` is an
 * object, its top-level member of that name is left out.  Returns 0, or
 * -EILSEQ / -EINVAL for values JSON cannot hold. */
int contend_canon_dump(const json_t *v, const char *skip_key, struct contend_sbuf *b);

/* What the scanner found in a canonical line.  Pointers point into the line. */
struct contend_canon_scan {
    const char *hash, *prev;       /* string contents, without quotes; NULL if absent */
    size_t hash_len, prev_len;
    const char *cut, *cut_end;     /* the bytes to drop for "the record without hash" */
    bool has_op, has_writer, has_seq;
    int64_t op, writer, seq;       /* top-level integer members, when they fit */
};

/* Is line[0..n) an object in canonical form?  Returns true and fills `out`
 * (the members named hash_field and prev_field, when they are strings
 * without escapes, and the integer members op, writer and seq); false when the
 * line is not canonical or not an object, in which case the caller parses it
 * the slow way.  It never reads outside the line and never allocates. */
bool contend_canon_scan_line(const char *line, size_t n, const char *hash_field,
                             const char *prev_field, struct contend_canon_scan *out);

#endif /* CONTEND_CANON_H */
