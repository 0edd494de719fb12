/*
 * chain.c - streaming checker of hash-chained JSONL files.
 *
 * Format (README.md, "Ledger record format"): one JSON object per line, each
 * ending in "\n", with a `hash` and a `prev_hash` string.  `hash` is the
 * lowercase hex SHA-256 of the record's canonical JSON without `hash` (what
 * Python's json.dumps(rec, sort_keys=True, separators=(",", ":")) writes);
 * `prev_hash` is the hash of the record it follows, 64 zeros for the first.
 *
 * Speed, and why this file has a JSON scanner.  The project's rule is to
 * parse JSON with jansson, and `contend verify` must check at least a million
 * 200-byte records per second.  Measured on the CI machine (one core), jansson
 * parses about 220 000 such lines per second (json_loadb, 4.5 us a line) and
 * 136 000 when the record is also written back out for hashing (7.4 us);
 * SHA-256 of the ~130 bytes that are hashed costs 0.23 us.  Even on both
 * cores jansson would stay below half the budget: the parse, not the hash,
 * is the problem.
 * Every ledger that contend's own target or a Python program writes with
 * sort_keys and compact separators is *already* in canonical form, and for
 * those lines the canonical JSON without the hash is the line's own bytes
 * with the hash member cut out.  contend_canon_scan_line() checks, in one
 * pass and without building anything, that a line is canonical in every
 * respect (sorted unescaped keys, Python's escapes, integer and repr() float
 * forms, no whitespace) and where the hash and prev_hash are; such lines are
 * hashed straight from the bytes.  Every other line - other key order,
 * spaces, escaped keys, a float Python would write differently - goes the
 * slow way: jansson parses it and contend_canon_dump() writes the canonical
 * form, so the fast path is an optimisation that never changes a verdict
 * (tests/unit/test_chain.c checks both paths agree).
 *
 * Forks and gaps are decided from an index of fingerprints (a 64-bit hash of
 * the hash text): for each record, its line and the line of the first record
 * that named it as prev_hash.  A second record naming the same prev_hash is
 * a fork; a prev_hash that is in no entry is a gap.
 */
#include "chain.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canon.h"
#include "jsonl.h"
#include "util.h"

#define READ_BUF (4u << 20)
#define BIG_FILE (64 << 20) /* bytes: read buffers mapped in huge pages (batch_init) */
#define BATCH 32768         /* lines per batch at most */
#define MAX_THREADS 4
#define SHOWN_HASH 12 /* hex digits of a hash shown in a message */

struct slot {
    uint64_t fp;
    uint32_t line;
    uint32_t succ; /* the first line whose prev_hash is this record's hash */
};

struct wslot {
    int64_t writer, op;
    uint64_t line;
    bool used;
};

/* What hashing needs, one per thread. */
struct hasher {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
    struct contend_canon_stream stream; /* the slow path: canonical bytes into ctx */
    bool digest_failed;
    uint64_t fast, slow;
};

/* What one line says on its own, before it is linked to the others.  Every
 * field but `redo` is valid only when `record` is set. */
struct line_info {
    size_t off, len; /* in the buffer; len without the newline */
    bool record;     /* a record whose hash recomputes (or is not recomputed) */
    bool redo;       /* something is wrong: analyse again, reporting it */
    bool has_op, has_writer, has_seq, genesis, bad_hash;
    int64_t op, writer, seq;
    uint64_t fp, prev_fp; /* fingerprints of hash and prev_hash */
    size_t prev_len;
    char hash12[SHOWN_HASH], prev12[SHOWN_HASH];
};

/* Problems found on one line, for the report. */
struct problems {
    unsigned n;
    struct {
        const char *kind;
        char reason[320];
    } v[2];
};

struct chain {
    struct contend_chain_opts o;
    const char *hf, *pf;
    const struct contend_chain_sink *sink;
    struct contend_chain_stats *st;
    EVP_MD *md;
    struct hasher h;
    struct slot *idx;
    size_t idx_cap, idx_n;
    bool idx_full;
    struct wslot *wr;
    size_t wr_cap, wr_n;
    uint64_t genesis_line; /* the first record with prev_hash 64 zeros */
};

static void violation(struct chain *c, const char *kind, uint64_t line, uint64_t off,
                      uint64_t other, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void violation(struct chain *c, const char *kind, uint64_t line, uint64_t off,
                      uint64_t other, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    c->st->violations++;
    if (c->sink && c->sink->violation)
        c->sink->violation(c->sink->ctx, kind, line, off, other, reason);
}

static void problem(struct problems *pb, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct problems *pb, const char *kind, const char *fmt, ...)
{
    if (pb->n >= sizeof pb->v / sizeof pb->v[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pb->v[pb->n].reason, sizeof pb->v[pb->n].reason, fmt, ap);
    va_end(ap);
    pb->v[pb->n++].kind = kind;
}

/* ---- fingerprints and the index ------------------------------------------- */

/* A 64-bit hash of any string: 8 bytes at a time, multiply-xorshift. */
static uint64_t fingerprint(const char *s, size_t n)
{
    uint64_t h = 0x243f6a8885a308d3ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = contend_mix64(h ^ w);
    return h ? h : 1; /* 0 marks an empty slot */
}

/* The index is the one big allocation (16 bytes a slot, two slots a
 * record: 32 MiB for a million records), and on a virtual machine its page
 * faults cost more than everything else it does: a fault per 4 KiB page
 * exits to the hypervisor.  So it is mapped on its own, asked for in huge
 * pages where the kernel has them, and made present and writable in one call
 * (MADV_POPULATE_WRITE) rather than page by page.  Fresh anonymous memory is
 * zero, so there is no memset either; where the populate call is missing
 * (Linux before 5.14), writing the zeros makes the pages present instead. A
 * lookup before the first insert must not find the kernel's shared zero page:
 * the insert after it would take a second, copy-on-write fault. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void *big_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        contend_err("out of memory (%zu bytes for the ledger check)", bytes);
        _exit(CONTEND_EXIT_HARNESS);
    }
#ifdef MADV_HUGEPAGE
    if (bytes >= (2u << 20))
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    if (madvise(p, bytes, MADV_POPULATE_WRITE) != 0)
        memset(p, 0, bytes);
    return p;
}

static void big_unmap(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

static struct slot *idx_map(size_t cap)
{
    return big_map(cap * sizeof(struct slot));
}

static void idx_unmap(struct slot *s, size_t cap)
{
    big_unmap(s, cap * sizeof *s);
}

/* Grow (or first make) the index to at least `want` slots, a power of two. */
static void idx_resize(struct chain *c, size_t want)
{
    size_t cap = c->idx_cap ? c->idx_cap : 1024;
    while (cap < want)
        cap *= 2;
    if (cap == c->idx_cap)
        return;
    struct slot *s = idx_map(cap);
    for (size_t i = 0; i < c->idx_cap; i++) {
        if (!c->idx[i].fp)
            continue;
        size_t j = c->idx[i].fp & (cap - 1);
        while (s[j].fp)
            j = (j + 1) & (cap - 1);
        s[j] = c->idx[i];
    }
    idx_unmap(c->idx, c->idx_cap);
    c->idx = s;
    c->idx_cap = cap;
}

static void idx_grow(struct chain *c)
{
    idx_resize(c, c->idx_cap * 2);
}

static struct slot *idx_find(struct chain *c, uint64_t fp)
{
    if (!c->idx_cap)
        return NULL;
    for (size_t j = fp & (c->idx_cap - 1);; j = (j + 1) & (c->idx_cap - 1)) {
        if (c->idx[j].fp == fp)
            return &c->idx[j];
        if (!c->idx[j].fp)
            return NULL;
    }
}

static void idx_add(struct chain *c, uint64_t fp, uint64_t line)
{
    if (c->idx_full || line > UINT32_MAX || (c->o.max_index && c->idx_n >= c->o.max_index)) {
        c->idx_full = true;
        return;
    }
    if ((c->idx_n + 1) * 2 > c->idx_cap)
        idx_grow(c);
    size_t j = fp & (c->idx_cap - 1);
    while (c->idx[j].fp)
        j = (j + 1) & (c->idx_cap - 1);
    c->idx[j] = (struct slot){.fp = fp, .line = (uint32_t)line, .succ = 0};
    c->idx_n++;
}

/* Per writer, the last op id and its line. */
static struct wslot *writer_slot(struct chain *c, int64_t writer)
{
    if ((c->wr_n + 1) * 2 > c->wr_cap) {
        size_t cap = c->wr_cap ? c->wr_cap * 2 : 64;
        struct wslot *s = contend_calloc(cap, sizeof *s);
        for (size_t i = 0; i < c->wr_cap; i++) {
            if (!c->wr[i].used)
                continue;
            size_t j = contend_mix64((uint64_t)c->wr[i].writer) & (cap - 1);
            while (s[j].used)
                j = (j + 1) & (cap - 1);
            s[j] = c->wr[i];
        }
        free(c->wr);
        c->wr = s;
        c->wr_cap = cap;
    }
    size_t j = contend_mix64((uint64_t)writer) & (c->wr_cap - 1);
    while (c->wr[j].used && c->wr[j].writer != writer)
        j = (j + 1) & (c->wr_cap - 1);
    if (!c->wr[j].used) {
        c->wr[j] = (struct wslot){.writer = writer, .op = INT64_MIN, .used = true};
        c->wr_n++;
    }
    return &c->wr[j];
}

/* ---- hashing ---------------------------------------------------------------- */

/* Two hex digits a byte, from a table: every record's digest is written
 * out to be compared with the text of its hash. */
static void to_hex(const unsigned char *d, size_t n, char *hex)
{
#define H16(x)                                                                                     \
#x "0" #x "1" #x "2" #x "3" #x "4" #x "5" #x "6" #x "7" #x "8" #x "9" #x "a" #x "b" #x "c" #x  \
       "d" #x "e" #x "f"
    static const char pairs[513] = H16(0) H16(1) H16(2) H16(3) H16(4) H16(5) H16(6) H16(7) H16(8)
        H16(9) H16(a) H16(b) H16(c) H16(d) H16(e) H16(f);
#undef H16
    for (size_t i = 0; i < n; i++)
        memcpy(hex + 2 * i, pairs + 2 * d[i], 2);
    hex[2 * n] = '\0';
}

/* SHA-256 of a[0..an) followed by b[0..bn), as 64 hex digits. */
static int sha_hex(struct hasher *h, const char *a, size_t an, const char *b, size_t bn,
                   char hex[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL) || !EVP_DigestUpdate(h->ctx, a, an) ||
        (bn && !EVP_DigestUpdate(h->ctx, b, bn)) || !EVP_DigestFinal_ex(h->ctx, d, &len) ||
        len != 32)
        return -EIO;
    to_hex(d, 32, hex);
    return 0;
}

/* ---- one line on its own ---------------------------------------------------- */

static bool is_genesis(const char *p, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] != '0')
            return false;
    return true;
}

/* Fill the record fields of `li` from hash/prev text (which may live in a
 * jansson tree about to be freed). */
static void note_hashes(struct line_info *li, const char *hash, size_t hash_len, const char *prev,
                        size_t prev_len)
{
    li->fp = fingerprint(hash, hash_len);
    li->prev_fp = fingerprint(prev, prev_len);
    li->genesis = is_genesis(prev, prev_len);
    li->prev_len = prev_len;
    memset(li->hash12, 0, sizeof li->hash12);
    memset(li->prev12, 0, sizeof li->prev12);
    memcpy(li->hash12, hash, hash_len < SHOWN_HASH ? hash_len : SHOWN_HASH);
    memcpy(li->prev12, prev, prev_len < SHOWN_HASH ? prev_len : SHOWN_HASH);
}

static bool check_hash(const char *hf, const char *hash, size_t hash_len, const char hex[65],
                       struct problems *pb)
{
    if (hash_len == 64 && memcmp(hex, hash, 64) == 0)
        return true;
    if (hash_len != 64)
        problem(pb, "bad-hash", "%s is not 64 hex digits (%zu characters)", hf, hash_len);
    else
        problem(pb, "bad-hash", "%s %.*s... is not the SHA-256 of the record, which is %.*s...", hf,
                SHOWN_HASH, hash, SHOWN_HASH, hex);
    return false;
}

static void digest_put(void *arg, const void *p, size_t n)
{
    struct hasher *h = arg;
    if (!h->digest_failed && !EVP_DigestUpdate(h->ctx, p, n))
        h->digest_failed = true;
}

static void digest_none(void *arg, const void *p, size_t n)
{
    (void)arg;
    (void)p;
    (void)n;
}

/* The slow path, for lines that are not canonical already (keys in
 * insertion order, spaces): their canonical bytes streamed straight into
 * SHA-256 (canon.c, contend_canon_stream_line), no tree built. */
static void analyze_slow(const struct chain *c, struct hasher *h, const char *line, size_t len,
                         struct line_info *li, struct problems *pb)
{
    struct contend_canon_stream *st = &h->stream;
    const struct contend_canon_top *t = &st->top;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    char hex[65];

    st->put = c->o.no_recompute ? digest_none : digest_put;
    st->arg = h;
    st->skip_key = st->hash_field = c->hf;
    st->prev_field = c->pf;
    h->digest_failed = !c->o.no_recompute && !EVP_DigestInit_ex2(h->ctx, h->md, NULL);
    if (contend_canon_stream_line(st, line, len) != 0) {
        if (strcmp(st->err, "not a JSON object") == 0)
            problem(pb, "invalid-line", "not a JSON object");
        else
            problem(pb, "invalid-line", "not JSON: %s (column %zu)", st->err, st->err_col);
        return;
    }
    if (!t->has_hash || !t->has_prev) {
        problem(pb, "invalid-line", "no string member \"%s\"", t->has_hash ? c->pf : c->hf);
        return;
    }
    if (!c->o.no_recompute &&
        (h->digest_failed || !EVP_DigestFinal_ex(h->ctx, d, &dlen) || dlen != 32)) {
        problem(pb, "invalid-line", "cannot hash the record");
        return;
    }
    if (!c->o.no_recompute)
        to_hex(d, 32, hex);
    li->bad_hash = !c->o.no_recompute && !check_hash(c->hf, t->hash.p, t->hash.n, hex, pb);
    note_hashes(li, t->hash.p, t->hash.n, t->prev.p, t->prev.n);
    li->has_op = t->has_op;
    li->has_writer = t->has_writer;
    li->has_seq = t->has_seq;
    li->op = t->op;
    li->writer = t->writer;
    li->seq = t->seq;
    li->record = true;
    h->slow++;
}

/* Everything about line[0..len) that does not depend on other lines.  Pure
 * but for the hasher, so threads may run it on different lines at once. */
static void analyze(const struct chain *c, struct hasher *h, const char *line, size_t len,
                    struct line_info *li, struct problems *pb)
{
    struct contend_canon_scan s;
    char hex[65];

    li->record = false;
    li->bad_hash = false;
    pb->n = 0;
    /* The framing rules are jsonl.c's, shared with the log checker. */
    const char *bad_frame = contend_jsonl_frame(line, &len);
    if (bad_frame)
        problem(pb, "invalid-line", "%s", bad_frame);
    if (len == 0) {
        /* an empty line: reported above */
    } else if (len > c->o.max_line) {
        problem(pb, "invalid-line", "%zu bytes, longer than the limit of %llu", len,
                (unsigned long long)c->o.max_line);
    } else if (contend_canon_scan_line(line, len, c->hf, c->pf, &s) && s.hash && s.prev) {
        if (!c->o.no_recompute) {
            if (sha_hex(h, line, (size_t)(s.cut - line), s.cut_end,
                        (size_t)(line + len - s.cut_end), hex) != 0) {
                problem(pb, "invalid-line", "cannot hash the record");
                goto out;
            }
            li->bad_hash = !check_hash(c->hf, s.hash, s.hash_len, hex, pb);
        }
        note_hashes(li, s.hash, s.hash_len, s.prev, s.prev_len);
        li->has_op = s.has_op;
        li->has_writer = s.has_writer;
        li->has_seq = s.has_seq;
        li->op = s.op;
        li->writer = s.writer;
        li->seq = s.seq;
        li->record = true;
        h->fast++;
    } else {
        analyze_slow(c, h, line, len, li, pb);
    }
out:
    li->redo = pb->n > 0;
}

/* ---- linking ------------------------------------------------------------------ */

/* Link a record into the chain: duplicates, forks, gaps, writer order. */
static void link_record(struct chain *c, const struct line_info *li, uint64_t no, uint64_t off)
{
    struct contend_chain_rec rec = {
        .line = no,
        .offset = off,
        .has_op = li->has_op,
        .has_writer = li->has_writer,
        .has_seq = li->has_seq,
        .op = li->op,
        .writer = li->writer,
        .seq = li->seq,
        .bad_hash = li->bad_hash,
    };
    const char *more = li->prev_len > SHOWN_HASH ? "..." : "";
    int shown = (int)(li->prev_len < SHOWN_HASH ? li->prev_len : SHOWN_HASH);
    struct slot *same = idx_find(c, li->fp);

    c->st->records++;
    if (same) {
        /* The same record again (a retried write, a copied line): not a new
         * link in the chain. */
        rec.dup_of = same->line;
        if (c->o.dup_by_hash)
            violation(c, "duplicate-append", no, off, same->line,
                      "line %llu repeats line %llu (same hash %.*s...)", (unsigned long long)no,
                      (unsigned long long)same->line, SHOWN_HASH, li->hash12);
    } else {
        if (li->genesis) {
            if (c->genesis_line)
                violation(c, "chain-fork", no, off, c->genesis_line,
                          "line %llu and line %llu both start the chain (prev_hash is 64 "
                          "zeros)",
                          (unsigned long long)c->genesis_line, (unsigned long long)no);
            else
                c->genesis_line = no;
        } else {
            struct slot *p = idx_find(c, li->prev_fp);
            if (p && p->succ) {
                violation(c, "chain-fork", no, off, p->succ,
                          "line %llu and line %llu both follow line %llu (prev_hash "
                          "%.*s...): the chain forks",
                          (unsigned long long)p->succ, (unsigned long long)no,
                          (unsigned long long)p->line, SHOWN_HASH, li->prev12);
            } else if (p) {
                p->succ = no > UINT32_MAX ? UINT32_MAX : (uint32_t)no;
            } else if (c->idx_full) {
                c->st->unindexed++;
            } else {
                violation(c, "chain-gap", no, off, 0,
                          "prev_hash %.*s%s is the hash of no earlier line%s", shown, li->prev12,
                          more,
                          c->st->records == 1 ? " (the first record's prev_hash must be 64 "
                                                "zeros)"
                                              : "");
            }
        }
        idx_add(c, li->fp, no);
        /* A record with a bad hash may be two writers' halves spliced: its
         * writer and op need not belong together. */
        if (li->has_writer && li->has_op && !li->bad_hash) {
            struct wslot *w = writer_slot(c, li->writer);
            if (w->op != INT64_MIN && li->op <= w->op) {
                violation(c, "writer-order", no, off, w->line,
                          "writer %lld's op %lld comes after its op %lld (line %llu): the "
                          "writer's appends are out of order",
                          (long long)li->writer, (long long)li->op, (long long)w->op,
                          (unsigned long long)w->line);
            } else {
                w->op = li->op;
                w->line = no;
            }
        }
    }
    if (c->sink && c->sink->record)
        c->sink->record(c->sink->ctx, &rec);
}

/* Phase two for one line, in file order: report what analysis found (the
 * analysis runs again on the main thread for such lines, to word it), then
 * link. */
static void finish_line(struct chain *c, const char *buf, struct line_info *li, uint64_t base)
{
    uint64_t no = ++c->st->lines, off = base + li->off;
    if (li->redo) {
        struct problems pb;
        uint64_t fast = c->h.fast, slow = c->h.slow; /* counted once already */
        analyze(c, &c->h, buf + li->off, li->len, li, &pb);
        c->h.fast = fast;
        c->h.slow = slow;
        for (unsigned i = 0; i < pb.n; i++)
            violation(c, pb.v[i].kind, no, off, 0, "%s", pb.v[i].reason);
    }
    if (li->record)
        link_record(c, li, no, off);
}

static void torn_line(struct chain *c, size_t len, uint64_t off)
{
    uint64_t no = ++c->st->lines;
    char why[128];
    violation(c, "torn-line", no, off, 0, "%s", contend_jsonl_torn_reason(len, why, sizeof why));
}

/* ---- batches and threads ----------------------------------------------------- */

/* Lines are handled a buffer at a time.  Analysis (parse and hash, 3/4 of
 * the work) of a buffer's lines is shared out in chunks to whoever is free;
 * linking (the index, 1/4) runs on the main thread in file order.  While the
 * main thread links buffer k, the helpers already analyse buffer k + 1, and
 * when it is done linking it joins them: both cores stay busy.  Chunks are
 * handed out under one mutex; at 1024 lines a chunk that is a few hundred
 * lock round-trips per second. */
#define CHUNK 1024

struct batch {
    bool mapped;      /* buf and li by big_map (a big file), not malloc */
    char *buf;        /* owned when cap > 0 */
    size_t cap, have; /* bytes in buf */
    size_t used;      /* bytes up to the end of the last line taken */
    uint64_t base;    /* file offset of buf[0] */
    struct line_info *li;
    size_t n; /* lines taken */
    /* A line beyond max_line read past just before this batch's lines. */
    bool skipped, skipped_torn;
    uint64_t skip_off, skip_len;
};

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *cur; /* the batch being analysed, or NULL */
    size_t next, done; /* next line to hand out; lines analysed */
    bool quit;
    unsigned n;
    pthread_t tid[MAX_THREADS];
    struct hasher h[MAX_THREADS];
    struct chain *c;
};

static void analyze_range(const struct chain *c, struct hasher *h, const char *buf,
                          struct line_info *li, size_t n)
{
    struct problems pb;
    for (size_t i = 0; i < n; i++)
        analyze(c, h, buf + li[i].off, li[i].len, &li[i], &pb);
}

/* Take one chunk of the current batch and analyse it.  Called with the
 * mutex held; returns with it held.  False when there was nothing to take. */
static bool work_one(struct pool *p, struct hasher *h)
{
    struct batch *b = p->cur;
    if (!b || p->next >= b->n)
        return false;
    size_t from = p->next, to = from + CHUNK < b->n ? from + CHUNK : b->n;
    p->next = to;
    pthread_mutex_unlock(&p->mu);
    analyze_range(p->c, h, b->buf, b->li + from, to - from);
    pthread_mutex_lock(&p->mu);
    p->done += to - from;
    if (p->done == b->n)
        pthread_cond_broadcast(&p->cv);
    return true;
}

struct helper_arg {
    struct pool *p;
    unsigned i;
};

static void *helper_main(void *arg)
{
    struct pool *p = ((struct helper_arg *)arg)->p;
    struct hasher *h = &p->h[((struct helper_arg *)arg)->i];
    free(arg);
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        if (!work_one(p, h))
            pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void post(struct pool *p, struct batch *b)
{
    pthread_mutex_lock(&p->mu);
    p->cur = b;
    p->next = 0;
    p->done = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Help with the current batch until every line of it is analysed. */
static void finish_analysis(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (work_one(p, &p->c->h))
        ;
    while (p->cur && p->done < p->cur->n)
        pthread_cond_wait(&p->cv, &p->mu);
    p->cur = NULL;
    pthread_mutex_unlock(&p->mu);
}

static int hasher_init(struct hasher *h, const EVP_MD *md)
{
    memset(h, 0, sizeof *h);
    h->md = md;
    h->ctx = EVP_MD_CTX_new();
    return h->ctx ? 0 : -ENOMEM;
}

static void hasher_free(struct hasher *h, struct contend_chain_stats *st)
{
    st->fast += h->fast;
    st->slow += h->slow;
    EVP_MD_CTX_free(h->ctx);
    contend_canon_stream_free(&h->stream);
}

static void pool_start(struct pool *p, struct chain *c, unsigned threads)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (threads < 2)
        return;
    /* jansson seeds its hash function on the first object it creates: do it
     * here, before there is anyone to race with. */
    json_decref(json_object());
    for (unsigned i = 0; i + 1 < threads; i++) {
        struct helper_arg *a = contend_calloc(1, sizeof *a);
        *a = (struct helper_arg){.p = p, .i = p->n};
        if (hasher_init(&p->h[p->n], c->md) != 0) {
            free(a);
            break;
        }
        if (pthread_create(&p->tid[p->n], NULL, helper_main, a) != 0) {
            hasher_free(&p->h[p->n], c->st);
            free(a);
            break;
        }
        p->n++;
    }
}

static void pool_stop(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++) {
        pthread_join(p->tid[i], NULL);
        hasher_free(&p->h[i], p->c->st);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

/* ---- drivers ---------------------------------------------------------------- */

static int chain_init(struct chain *c, const struct contend_chain_opts *o,
                      const struct contend_chain_sink *sink, struct contend_chain_stats *st)
{
    memset(c, 0, sizeof *c);
    if (o)
        c->o = *o;
    if (!c->o.max_line)
        c->o.max_line = CONTEND_CHAIN_MAX_LINE;
    c->hf = c->o.hash_field && *c->o.hash_field ? c->o.hash_field : "hash";
    c->pf = c->o.prev_field && *c->o.prev_field ? c->o.prev_field : "prev_hash";
    c->sink = sink;
    c->st = st;
    memset(st, 0, sizeof *st);
    c->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!c->md)
        return -ENOSYS;
    return hasher_init(&c->h, c->md);
}

static void chain_free(struct chain *c)
{
    hasher_free(&c->h, c->st);
    EVP_MD_free(c->md);
    idx_unmap(c->idx, c->idx_cap);
    free(c->wr);
}

/* Take up to BATCH complete lines from b->buf[0..have). */
static void split(struct batch *b)
{
    size_t pos = 0, k = 0;
    while (k < BATCH && pos < b->have) {
        const char *nl = memchr(b->buf + pos, '\n', b->have - pos);
        if (!nl)
            break;
        b->li[k].off = pos;
        b->li[k].len = (size_t)(nl - (b->buf + pos));
        pos += b->li[k].len + 1;
        k++;
    }
    b->n = k;
    b->used = pos;
}

/* Link a batch's lines, in file order. */
static void link_batch(struct chain *c, struct batch *b)
{
    if (b->skipped) {
        uint64_t no = ++c->st->lines;
        if (b->skipped_torn)
            violation(c, "torn-line", no, b->skip_off, 0,
                      "the last line (%llu bytes, beyond the limit of %llu: not read into "
                      "memory) has no newline: an append that did not finish",
                      (unsigned long long)b->skip_len, (unsigned long long)c->o.max_line);
        else
            violation(c, "invalid-line", no, b->skip_off, 0,
                      "%llu bytes, longer than the limit of %llu (read past, not held)",
                      (unsigned long long)b->skip_len, (unsigned long long)c->o.max_line);
        b->skipped = b->skipped_torn = false;
    }
    for (size_t i = 0; i < b->n; i++) {
        /* Each record's own index slot is a cache miss (its prev_hash's slot
         * was written one line ago): ask for it a few lines early. */
        if (i + 8 < b->n && c->idx_cap && b->li[i + 8].record)
            __builtin_prefetch(&c->idx[b->li[i + 8].fp & (c->idx_cap - 1)]);
        finish_line(c, b->buf, &b->li[i], b->base);
    }
}

int contend_chain_check_buf(const char *buf, size_t len, const struct contend_chain_opts *o,
                            const struct contend_chain_sink *sink, struct contend_chain_stats *st)
{
    struct chain c;
    struct pool p;
    struct batch b = {.li = contend_realloc(NULL, BATCH * sizeof *b.li)};
    int rc = chain_init(&c, o, sink, st);
    size_t pos = 0;

    pool_start(&p, &c, rc == 0 ? c.o.threads : 1);
    while (rc == 0) {
        /* The caller's text is only read. */
        b.buf = (char *)(uintptr_t)(buf + pos);
        b.have = len - pos;
        b.base = pos;
        split(&b);
        if (b.n == 0)
            break;
        post(&p, &b);
        finish_analysis(&p);
        link_batch(&c, &b);
        pos += b.used;
    }
    if (rc == 0 && pos < len)
        torn_line(&c, len - pos, pos);
    st->bytes = len;
    pool_stop(&p);
    chain_free(&c);
    free(b.li);
    return rc;
}

/* Start batch b with `carry` (the bytes after the previous batch's last
 * line), then read until the buffer is full or the file ends, and take its
 * lines.  A line longer than the buffer doubles the buffer. */
/* The line at b->buf[0..have) has passed max_line without a newline: read
 * on, into the same buffer, until its newline (or the end of the file), and
 * keep only what follows it.  Memory stays what it was whatever the length:
 * a stream without newlines (/dev/zero) is read, never held. */
static int skip_long_line(int fd, struct batch *b, bool *eof, struct contend_chain_stats *st)
{
    uint64_t len = b->have;
    b->skipped = true;
    b->skip_off = b->base;
    for (;;) {
        ssize_t r = read(fd, b->buf, b->cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        st->bytes += (size_t)r;
        if (r == 0) {
            *eof = true;
            b->skipped_torn = true;
            b->skip_len = len;
            b->have = b->used = b->n = 0;
            b->base += len;
            return 0;
        }
        const char *nl = memchr(b->buf, '\n', (size_t)r);
        if (nl) {
            size_t head = (size_t)(nl - b->buf), rest = (size_t)r - head - 1;
            len += head;
            memmove(b->buf, nl + 1, rest);
            b->have = rest;
            b->skip_len = len;
            b->base += len + 1;
            return 0;
        }
        len += (uint64_t)r;
    }
}

/* A batch's read buffer and line array.  Not zeroed for a small file (it
 * touches only the pages it fills); for a big one, mapped in huge pages and
 * made present at once (big_map): thousands of page faults fewer, which on a
 * virtual machine is a few percent of the whole check. */
static void *buf_alloc(const struct batch *b, size_t bytes)
{
    return b->mapped ? big_map(bytes) : contend_realloc(NULL, bytes);
}

static void buf_free(struct batch *b)
{
    if (b->mapped)
        big_unmap(b->buf, b->cap);
    else
        free(b->buf);
    b->buf = NULL;
}

static void batch_init(struct batch *b, bool big)
{
    memset(b, 0, sizeof *b);
    b->mapped = big;
    b->li = big ? big_map(BATCH * sizeof *b->li) : contend_realloc(NULL, BATCH * sizeof *b->li);
}

static void batch_free(struct batch *b)
{
    buf_free(b);
    if (b->mapped)
        big_unmap(b->li, BATCH * sizeof *b->li);
    else
        free(b->li);
}

static int fill(int fd, struct batch *b, const char *carry, size_t carry_n, uint64_t base,
                bool *eof, uint64_t max_line, struct contend_chain_stats *st)
{
    if (b->cap < carry_n + READ_BUF / 2) {
        size_t cap = b->cap;
        while (cap < carry_n + READ_BUF / 2)
            cap = cap ? cap * 2 : READ_BUF;
        buf_free(b);
        b->buf = buf_alloc(b, cap);
        b->cap = cap;
    }
    if (carry_n)
        memcpy(b->buf, carry, carry_n);
    b->have = carry_n;
    b->base = base;
    for (;;) {
        while (b->have < b->cap && !*eof) {
            ssize_t r = read(fd, b->buf + b->have, b->cap - b->have);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return -errno;
            *eof = (r == 0);
            b->have += (size_t)r;
            st->bytes += (size_t)r;
        }
        split(b);
        if (b->n > 0 || *eof)
            return 0;
        if (b->have > max_line) {
            int rc = skip_long_line(fd, b, eof, st);
            if (rc || *eof)
                return rc;
            continue;
        }
        char *bigger = buf_alloc(b, b->cap * 2);
        memcpy(bigger, b->buf, b->have);
        buf_free(b);
        b->buf = bigger;
        b->cap *= 2;
    }
}

/* A regular file says how long it is, and its first batch how long its
 * lines are: size the index for the whole file at once, instead of doubling
 * it (and rehashing every record) a dozen times on the way.  A guess: lines
 * that get shorter later only mean the index grows as before. */
static void presize_index(struct chain *c, int fd, const struct batch *b)
{
    struct stat sb;
    if (b->n == 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size <= b->have)
        return;
    /* A record holds two 64-digit hashes with their names: no line that is
     * one is much shorter than this, whatever lines of junk or empty lines
     * the batch began with (each index slot costs 32 bytes). */
    size_t avg = b->used / b->n;
    if (avg < 128)
        avg = 128;
    uint64_t records = (uint64_t)sb.st_size / avg + 1;
    if (c->o.max_index && records > c->o.max_index)
        records = c->o.max_index;
    if (records > UINT32_MAX)
        records = UINT32_MAX;
    idx_resize(c, (size_t)records * 2 + 2);
}

int contend_chain_check_fd(int fd, const struct contend_chain_opts *o,
                           const struct contend_chain_sink *sink, struct contend_chain_stats *st)
{
    struct chain c;
    struct pool p;
    struct batch b[2];
    bool eof = false;
    int rc = chain_init(&c, o, sink, st);

    /* A file this big fills both buffers many times over: map them. */
    struct stat sb;
    bool big = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= BIG_FILE;
    batch_init(&b[0], big);
    batch_init(&b[1], big);
    pool_start(&p, &c, rc == 0 ? c.o.threads : 1);
    if (rc == 0)
        rc = fill(fd, &b[0], NULL, 0, 0, &eof, c.o.max_line, st);
    if (rc == 0)
        presize_index(&c, fd, &b[0]);
    struct batch *cur = &b[0];
    if (rc == 0)
        post(&p, cur);
    while (rc == 0) {
        finish_analysis(&p);
        const char *carry = cur->buf + cur->used;
        size_t carry_n = cur->have - cur->used;
        struct batch *next = NULL;
        if (!eof || memchr(carry, '\n', carry_n)) {
            next = (cur == &b[0]) ? &b[1] : &b[0];
            rc = fill(fd, next, carry, carry_n, cur->base + cur->used, &eof, c.o.max_line, st);
            if (rc == 0)
                post(&p, next);
        }
        /* The helpers analyse `next` while this thread links `cur`. */
        link_batch(&c, cur);
        if (!next) {
            if (carry_n)
                torn_line(&c, carry_n, cur->base + cur->used);
            break;
        }
        cur = next;
    }
    pool_stop(&p);
    chain_free(&c);
    batch_free(&b[0]);
    batch_free(&b[1]);
    return rc;
}

int contend_chain_check_path(const char *path, const struct contend_chain_opts *o,
                             const struct contend_chain_sink *sink, struct contend_chain_stats *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        memset(st, 0, sizeof *st);
        return -errno;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int rc = contend_chain_check_fd(fd, o, sink, st);
    close(fd);
    return rc;
}

/* A small lexer, not a parser: it tracks strings (with their escapes) and
 * nesting from the line's first byte, which is all it takes to tell a
 * top-level key from the same text inside a string or a nested object. */
bool contend_chain_fragment_int(const char *p, size_t n, const char *key, int64_t *out)
{
    size_t klen = strlen(key);
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '{' || p[i] == '[') {
            depth++;
        } else if (p[i] == '}' || p[i] == ']') {
            depth--;
        } else if (p[i] == '"') {
            size_t start = ++i;
            while (i < n && p[i] != '"')
                i += (p[i] == '\\') ? 2 : 1;
            if (i >= n)
                return false; /* torn inside a string */
            bool is_key = depth == 1 && i - start == klen && memcmp(p + start, key, klen) == 0;
            size_t j = i + 1;
            while (j < n && (p[j] == ' ' || p[j] == '\t'))
                j++;
            if (!is_key || j >= n || p[j] != ':')
                continue;
            for (j++; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
                ;
            char num[24];
            size_t k = 0;
            while (j < n && k < sizeof num - 1 && (p[j] == '-' || (p[j] >= '0' && p[j] <= '9')))
                num[k++] = p[j++];
            num[k] = '\0';
            if (k == 0 || j >= n || !(p[j] == ',' || p[j] == '}' || p[j] == ' ' || p[j] == '\t'))
                return false; /* not an integer, or cut by the tear */
            char *end;
            errno = 0;
            long long v = strtoll(num, &end, 10);
            if (errno || *end)
                return false;
            *out = v;
            return true;
        }
    }
    return false;
}

int contend_chain_hash_line(const char *line, size_t len, const char *hash_field, char hex[65])
{
    struct contend_chain_stats st;
    struct contend_chain_opts o = {.hash_field = hash_field};
    struct chain c;
    int rc = chain_init(&c, &o, NULL, &st);
    if (rc)
        return rc;
    struct contend_canon_stream *s = &c.h.stream;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    s->put = digest_put;
    s->arg = &c.h;
    s->skip_key = c.hf;
    c.h.digest_failed = !EVP_DigestInit_ex2(c.h.ctx, c.h.md, NULL);
    if (contend_canon_stream_line(s, line, len) != 0)
        rc = -EINVAL;
    else if (c.h.digest_failed || !EVP_DigestFinal_ex(c.h.ctx, d, &dlen) || dlen != 32)
        rc = -EIO;
    else
        to_hex(d, 32, hex);
    chain_free(&c);
    return rc;
}
