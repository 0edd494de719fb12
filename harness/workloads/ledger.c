/*
 * ledger.c - the ledger workload: appends to a hash-chained log.
 *
 * Each op is append(payload): the target adds one record naming the op (its
 * history op id in `op`, its writer in `writer`) to the chain, and returns
 * the record's seq.  Payloads are seeded text that mixes ASCII, escapes
 * ("quotes", back\slashes, tabs, newlines) and non-ASCII (accents, CJK, an
 * emoji), so every writer exercises the canonical escaping.
 *
 * The checker streams the target's file, store/ledger.jsonl (the format of
 * README.md's "Ledger record format"; a target that keeps its ledger
 * elsewhere exports it there in read_state), once, through chain.c - the
 * same code as `contend verify ledger` - and matches records to the history:
 *
 *   missing-append    acknowledged, not in the file
 *   duplicate-append  one op's record twice
 *   unknown-append    a record of an op never invoked (or one that failed)
 *
 * plus what chain.c finds in the file itself (torn-line, invalid-line,
 * bad-hash, chain-fork, chain-gap, writer-order).  Memory: for every invoked
 * op the line its record is on (4 bytes), and chain.c's index, capped at the
 * number of invoked ops; never the file.  Ops that are indeterminate (timed
 * out, in flight when a worker died) may be present or absent.
 *
 * A torn tail (a last line without "\n") is accepted only beyond the last
 * acknowledged append.  It is an append that never finished - its writer
 * was killed mid-write, the power went, its write failed part way - and the
 * program's recovery cuts it off at start-up (jsonl-ledger's recover()),
 * so by itself it loses nothing.  It is `torn-line` when it is the record
 * of an acknowledged append that is not in the ledger intact: that append
 * was torn after it was acknowledged, and it is also `missing-append` (the
 * faults extension turns a missing append that a power cut caused into
 * `lost-durable` when the store promised durability).  The fragment's op
 * is read from its own bytes (its top-level "op" member, when the tear left
 * it whole); a fragment too short to name one cannot hold an acknowledged
 * append that is not also reported missing.  `contend verify ledger`, which
 * has no history, reports every torn tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "result.h"
#include "workload.h"

#define LEDGER_FILE "ledger.jsonl"
#define FRAGMENT_MAX (64u << 10) /* bytes of a torn tail read to find its op */

enum { OPT_PAYLOAD = 0 };

static const struct contend_option ledger_options[] = {
    {"payload", "64", NULL, "payload bytes per append (UTF-8 text, at most 4000)", CONTEND_OPT_INT,
     1, 4000},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind ledger_kinds[] = {
    {"torn-line", "the last line of the ledger has no newline"},
    {"invalid-line", "a line that is not a JSON object with hash and prev_hash"},
    {"bad-hash", "a record's hash is not the SHA-256 of its canonical JSON"},
    {"chain-fork", "two records name the same prev_hash"},
    {"chain-gap", "a prev_hash that is no earlier record's hash"},
    {"missing-append", "an acknowledged append is not in the ledger"},
    {"duplicate-append", "an append is in the ledger twice"},
    {"unknown-append", "a record of an op that was never invoked, or that failed"},
    {"writer-order", "a writer's records are not in the order it appended them"},
    {NULL, NULL},
};

/* Words for payloads: plain, escaped, and non-ASCII in 2, 3 and 4 bytes. */
static const char *const words[] = {
    "audit",
    "entry",
    "ledger",
    "caf\xc3\xa9",
    "na\xc3\xafve",
    "\xce\xa9mega",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x98\x80",
    "\"quoted\"",
    "back\\slash",
    "tab\t",
    "new\nline",
    "a/b",
    "<&>",
};
#define NWORDS (sizeof words / sizeof words[0])

static void ledger_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                       struct contend_op *op)
{
    op->kind = CONTEND_OP_APPEND;
    op->key = seq;
    size_t want = g->opt[OPT_PAYLOAD] < 1 ? 1 : (size_t)g->opt[OPT_PAYLOAD];
    if (want > op->buf_cap - 1)
        want = op->buf_cap - 1;
    if (want > 4000)
        want = 4000;
    char *p = op->buf;
    size_t n = (size_t)snprintf(p, want + 1, "w%u #%llu", g->writer, (unsigned long long)seq);
    if (n > want)
        n = want;
    /* Whole words only, so a UTF-8 sequence is never cut. */
    for (;;) {
        const char *w = words[contend_rng_below(rng, NWORDS)];
        size_t len = strlen(w);
        if (n + 1 + len > want)
            break;
        p[n++] = ' ';
        memcpy(p + n, w, len);
        n += len;
    }
    while (n < want)
        p[n++] = '.';
    op->buf_len = (uint32_t)n;
}

/* First occurrence and count of one kind. */
struct acc {
    const char *kind;
    uint64_t count;
    char *first;
    struct contend_witness w[2];
    unsigned nw;
};

struct lstate {
    struct contend_check *chk;
    uint32_t **line; /* per writer, per op: the line of its record, 0 = not seen */
    struct acc acc[sizeof ledger_kinds / sizeof ledger_kinds[0]];
    uint64_t fork_line, fork_other; /* the first fork, for its witnesses */
    uint64_t torn_line, torn_off;   /* the torn tail, judged at the end; 0 = none */
};

static struct acc *acc_of(struct lstate *s, const char *kind)
{
    for (size_t i = 0; ledger_kinds[i].name; i++) {
        if (strcmp(ledger_kinds[i].name, kind) == 0) {
            s->acc[i].kind = ledger_kinds[i].name;
            return &s->acc[i];
        }
    }
    return NULL;
}

static void note(struct lstate *s, const char *kind, const struct contend_witness *w, unsigned nw,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void note(struct lstate *s, const char *kind, const struct contend_witness *w, unsigned nw,
                 const char *fmt, ...)
{
    struct acc *a = acc_of(s, kind);
    if (!a)
        return;
    if (a->count++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        a->first = contend_vasprintf(fmt, ap);
        va_end(ap);
        for (unsigned i = 0; i < nw && i < 2; i++)
            a->w[i] = w[i];
        a->nw = nw < 2 ? nw : 2;
    }
}

static void on_violation(void *ctx, const char *kind, uint64_t line, uint64_t offset,
                         uint64_t other, const char *reason)
{
    struct lstate *s = ctx;
    if (strcmp(kind, "torn-line") == 0) {
        s->torn_line = line; /* judged against the history in judge_torn() */
        s->torn_off = offset;
        return;
    }
    if (strcmp(kind, "chain-fork") == 0 && !s->fork_line) {
        s->fork_line = line;
        s->fork_other = other;
    }
    note(s, kind, NULL, 0, "line %llu (offset %llu): %s", (unsigned long long)line,
         (unsigned long long)offset, reason);
}

/* The history record behind a record's op id, or NULL. */
static const struct contend_record *op_record(const struct contend_check *chk, int64_t op,
                                              uint32_t *w, uint64_t *idx)
{
    uint64_t id = (uint64_t)op;
    *w = (uint32_t)(id >> 32);
    *idx = id & 0xffffffffu;
    if (op < 0 || *w >= chk->nw || *idx >= chk->w[*w].n)
        return NULL;
    const struct contend_record *r = &chk->w[*w].rec[*idx];
    return r->kind == CONTEND_OP_APPEND ? r : NULL;
}

static void on_record(void *ctx, const struct contend_chain_rec *r)
{
    struct lstate *s = ctx;
    const struct contend_check *chk = s->chk;
    uint32_t w;
    uint64_t idx;
    char a[256];

    if (!r->has_op) {
        note(s, "unknown-append", NULL, 0, "line %llu (offset %llu): a record without an op id",
             (unsigned long long)r->line, (unsigned long long)r->offset);
        return;
    }
    const struct contend_record *h = op_record(chk, r->op, &w, &idx);
    if (!h) {
        note(s, "unknown-append", NULL, 0,
             "line %llu (offset %llu): op %lld (writer %u, #%llu) was never invoked",
             (unsigned long long)r->line, (unsigned long long)r->offset, (long long)r->op, w,
             (unsigned long long)idx);
        return;
    }
    struct contend_witness wit = contend_witness_of(&chk->w[w], idx);
    /* A record that fails its hash is not the op's record intact (it may be
     * two writers' halves): the op counts as absent. */
    if (r->bad_hash)
        return;
    if (h->status == CONTEND_FAIL) {
        note(s, "unknown-append", &wit, 1,
             "line %llu (offset %llu): %s failed, yet its record is in the ledger",
             (unsigned long long)r->line, (unsigned long long)r->offset,
             contend_witness_str(&wit, chk->t0, a, sizeof a));
    }
    uint32_t *seen = &s->line[w][idx];
    if (*seen) {
        note(s, "duplicate-append", &wit, 1,
             "line %llu (offset %llu): %s is in the ledger again (first on line %u)",
             (unsigned long long)r->line, (unsigned long long)r->offset,
             contend_witness_str(&wit, chk->t0, a, sizeof a), *seen);
        return;
    }
    *seen = r->line > UINT32_MAX ? UINT32_MAX : (uint32_t)r->line;
}

/* The op whose record is on `line`, as a witness. */
static bool op_on_line(const struct lstate *s, uint64_t line, struct contend_witness *out)
{
    const struct contend_check *chk = s->chk;
    for (size_t w = 0; w < chk->nw; w++)
        for (uint64_t i = 0; i < chk->w[w].n; i++)
            if (s->line[w][i] == line) {
                *out = contend_witness_of(&chk->w[w], i);
                return true;
            }
    return false;
}

/* The torn tail chain.c found: a violation only when it is the record of an
 * acknowledged append that is not in the ledger intact (see the top). */
static void judge_torn(struct lstate *s, const char *path)
{
    const struct contend_check *chk = s->chk;
    struct stat st;
    char *buf = NULL;
    ssize_t got = -1;
    int64_t op;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size > s->torn_off) {
        size_t len = (uint64_t)st.st_size - s->torn_off;
        if (len > FRAGMENT_MAX)
            len = FRAGMENT_MAX;
        buf = contend_calloc(1, len);
        got = pread(fd, buf, len, (off_t)s->torn_off);
    }
    if (fd >= 0)
        close(fd);
    uint64_t bytes = got >= 0 ? (uint64_t)st.st_size - s->torn_off : 0;
    uint32_t w;
    uint64_t idx;
    const struct contend_record *h = NULL;
    if (got > 0 && contend_chain_fragment_int(buf, (size_t)got, "op", &op))
        h = op_record(chk, op, &w, &idx);
    free(buf);
    if (h && h->status == CONTEND_OK && !s->line[w][idx]) {
        char a[256];
        struct contend_witness wit = contend_witness_of(&chk->w[w], idx);
        note(s, "torn-line", &wit, 1,
             "line %llu (offset %llu): the last line (%llu bytes) has no newline, and it is "
             "the record of %s, acknowledged (seq %lld): torn after it was acknowledged",
             (unsigned long long)s->torn_line, (unsigned long long)s->torn_off,
             (unsigned long long)bytes, contend_witness_str(&wit, chk->t0, a, sizeof a),
             (long long)h->value);
        return;
    }
    /* Beyond every acknowledged append: recovery cuts it off. */
    contend_rep_add_stat(chk->rep, "ledger_torn_tail_bytes", (double)bytes);
}

static void check_missing(struct lstate *s)
{
    const struct contend_check *chk = s->chk;
    char a[256];
    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_APPEND || r->status != CONTEND_OK || s->line[w][i])
                continue;
            struct contend_witness wit = contend_witness_of(&chk->w[w], i);
            note(s, "missing-append", &wit, 1,
                 "%s was acknowledged (seq %lld) but its record is not in " LEDGER_FILE,
                 contend_witness_str(&wit, chk->t0, a, sizeof a), (long long)r->value);
        }
    }
}

static void report(struct lstate *s)
{
    struct contend_check *chk = s->chk;
    if (s->fork_line) {
        struct acc *a = acc_of(s, "chain-fork");
        struct contend_witness w[2];
        if (op_on_line(s, s->fork_other, &w[0]) && op_on_line(s, s->fork_line, &w[1])) {
            char x[256], y[256];
            char *more =
                contend_asprintf("%s; %s and %s both read the same last hash before either wrote",
                                 a->first, contend_witness_str(&w[0], chk->t0, x, sizeof x),
                                 contend_witness_str(&w[1], chk->t0, y, sizeof y));
            free(a->first);
            a->first = more;
            a->w[0] = w[0];
            a->w[1] = w[1];
            a->nw = 2;
        }
    }
    for (size_t i = 0; ledger_kinds[i].name; i++) {
        struct acc *a = &s->acc[i];
        if (!a->count)
            continue;
        if (a->count > 1)
            contend_check_report(chk, a->kind, a->count, a->w, a->nw, "%s (and %llu more)",
                                 a->first, (unsigned long long)(a->count - 1));
        else
            contend_check_report(chk, a->kind, a->count, a->w, a->nw, "%s", a->first);
        free(a->first);
    }
}

static int ledger_check(struct contend_check *chk)
{
    struct lstate s;
    struct contend_chain_stats st;
    uint64_t invoked = 0;
    char *path = contend_asprintf("%s/" LEDGER_FILE, chk->store_dir);

    memset(&s, 0, sizeof s);
    s.chk = chk;
    s.line = contend_calloc(chk->nw ? chk->nw : 1, sizeof *s.line);
    for (size_t w = 0; w < chk->nw; w++) {
        s.line[w] = contend_calloc(chk->w[w].n ? chk->w[w].n : 1, sizeof *s.line[w]);
        invoked += chk->w[w].n;
    }
    /* Records beyond the ops ever invoked cannot all be real; the index stops
     * there, so memory follows the history, not the file. */
    struct contend_chain_opts o = {.max_index = 2 * invoked + 1024};
    struct contend_chain_sink sink = {.ctx = &s, .violation = on_violation, .record = on_record};
    int rc = contend_chain_check_path(path, &o, &sink, &st);
    if (rc == -ENOENT) {
        rc = 0; /* no file: nothing was appended, which check_missing judges */
    } else if (rc != 0) {
        contend_check_report(chk, "corrupt-store", 1, NULL, 0, "cannot read %s: %s", path,
                             strerror(-rc));
    }
    if (rc == 0 && s.torn_line)
        judge_torn(&s, path);
    if (rc == 0)
        check_missing(&s);
    report(&s);
    contend_rep_add_stat(chk->rep, "ledger_lines", (double)st.lines);
    for (size_t w = 0; w < chk->nw; w++)
        free(s.line[w]);
    free(s.line);
    free(path);
    return 0;
}

const struct contend_workload contend_workload_ledger = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "ledger",
    .help = "append to a hash-chained log; every line valid, chain unforked, every "
            "acknowledged append present exactly once",
    .options = ledger_options,
    .kinds = ledger_kinds,
    .gen = ledger_gen,
    .check = ledger_check,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_ledger)
