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
    const char *hash, *prev; /* string contents, without quotes; NULL if absent */
    size_t hash_len, prev_len;
    const char *cut, *cut_end; /* the bytes to drop for "the record without hash" */
    bool has_op, has_writer, has_seq;
    int64_t op, writer, seq; /* top-level integer members, when they fit */
};

/* Is line[0..n) an object in canonical form?  Returns true and fills `out`
 * (the members named hash_field and prev_field, when they are strings
 * without escapes, and the integer members op, writer and seq); false when the
 * line is not canonical or not an object, in which case the caller parses it
 * the slow way.  It never reads outside the line and never allocates. */
bool contend_canon_scan_line(const char *line, size_t n, const char *hash_field,
                             const char *prev_field, struct contend_canon_scan *out);

/* ---- the canonical bytes of any JSON object line, streamed --------------
 *
 * For lines that are not canonical already: the canonical form (what
 * contend_canon_dump() writes for the parsed value) is written through
 * put(arg, bytes, n) in pieces of up to 8 KiB, without building a tree.
 * Members named skip_key at the top level are left out; the members named
 * hash_field and prev_field (strings, decoded) and the integer members op,
 * writer and seq are noted in `top`.  Set put, arg and the three names,
 * zero the rest; reuse the struct from line to line; free it with
 * contend_canon_stream_free().  The names are measured on first use: to
 * change one, point at another string (do not rewrite the one in use). */
struct contend_canon_top {
    struct contend_sbuf hash, prev; /* decoded contents, when has_hash / has_prev */
    bool has_hash, has_prev, has_op, has_writer, has_seq;
    int64_t op, writer, seq;
};

struct contend_canon_name {
    const char *s;
    size_t n;
    uint64_t head;
};

struct contend_canon_stream {
    void (*put)(void *arg, const void *p, size_t n);
    void *arg;
    const char *skip_key, *hash_field, *prev_field;
    struct contend_canon_top top;
    const char *err; /* why the line was refused, and where (1-based column) */
    size_t err_col;
    /* private */
    const char *line;
    struct contend_canon_name names[6]; /* looked for at the top level */
    void *m, *refs;
    size_t nm, cap_m;
    struct contend_sbuf keys;
    size_t nout;
    char out[8192];
};

/* 0, or -EINVAL when the line is not a JSON object (err, err_col say why).
 * A line refused for its syntax has written nothing; one refused for data
 * after the object may have (start the digest afresh for the next line). */
int contend_canon_stream_line(struct contend_canon_stream *st, const char *line, size_t n);
void contend_canon_stream_free(struct contend_canon_stream *st);

#endif /* CONTEND_CANON_H */
