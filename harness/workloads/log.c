/*
 * log.c - the log workload: writers append lines to a (rotating) log file.
 *
 * Each op appends one line.  gen() writes the whole line, without its "\n",
 * into op->buf, so that a target is a plain "append this line" and never
 * needs to know the format (a Python logging handler driven over exec logs
 * the text it is given).  The line is canonical JSON, keys sorted:
 *
 *   {"op":ID,"p":"w<W>#<SEQ>:<filler>","w":W}
 *
 * ID is the history op id ((writer << 32) | SEQ), W the writer.  The filler
 * (`payload` bytes in all, lowercase letters) is a function of ID and the
 * position in it, so the checker can tell a line that is whole from one
 * made of two writers' halves even when both halves parse.
 *
 * Files.  The log lives in the target's store directory as app.log (the
 * current file) and app.log.1 .. app.log.N (backups, app.log.1 the newest),
 * the naming of Python's RotatingFileHandler and logrotate.  Rotation order
 * is time order: the checker reads the files oldest first (highest index
 * first, app.log last) as one sequence of lines.  A target that keeps at
 * most N backups says so in read_state with CONTEND_LOG_BACKUPS (target.h);
 * one that reports nothing promises to keep every line.
 *
 * The checker, from the history and all the files:
 *
 *   missing-line    an acknowledged line is in no file (beyond what the
 *                   backup limit lets rotation delete, below)
 *   duplicate-line  one op's line is in the log twice
 *   torn-line       a file ends in a line without "\n" that is the line of
 *                   an acknowledged op not intact anywhere else (the same
 *                   rule as the ledger's, jsonl.h; any other torn tail is an
 *                   append that never finished, counted in
 *                   log_torn_tail_bytes)
 *   invalid-line    framing (jsonl.h: empty, CRLF), not a JSON object with
 *                   integer op and w and string p, a payload that is not the
 *                   op's own, or the line of an op never invoked or that failed
 *   writer-order    lines out of order: a writer's own lines, or a line in
 *                   an older place than a line acknowledged before it was
 *                   even invoked (the rotating log promises that rotation
 *                   order is time order: o-append-no-rotate-check breaks
 *                   exactly that, see targets/rotating_log.c)
 *
 * and a log with more backups than the target reports keeping is
 * `corrupt-store` (no log kind fits; the store is not what it promises).
 *
 * What the backup limit allows to be gone.  A rotation that must delete the
 * oldest backup deletes the oldest lines, legitimately.  They are the lines
 * written before the first line of the oldest file that is left.  Without
 * the target's help the checker cannot see that point exactly, so it
 * excuses a missing acknowledged line X only when the log is at its limit
 * (app.log.N exists, N the reported backups) and X may have been written
 * before every line of the oldest kept file, which takes both: X was
 * invoked before every acknowledged line of the oldest kept file was
 * acknowledged (a line written after any of them would be in a kept file),
 * and, when X's writer still has lines in the log, X is earlier in its
 * sequence than all of them (a log that keeps its promise keeps each
 * writer's lines in order, so a deleted line of a writer precedes its kept
 * ones).  The count is log_lines_rotated_away.  Anything else missing
 * is missing-line.  Scenarios that hunt for losses give the log enough
 * backups that nothing needs to be deleted, so no loss can hide there.
 *
 * Memory: 4 bytes per invoked op (the position of its line) and 8 per line
 * read, never a file.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "jsonl.h"
#include "result.h"
#include "workload.h"

#define LOG_FILE "app.log"
#define MAX_FILES 4096

enum { OPT_PAYLOAD = 0 };

static const struct contend_option log_options[] = {
    {"payload", "64", NULL, "payload bytes per line (at most 3000)", CONTEND_OPT_INT, 0, 3000},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind log_kinds[] = {
    {"missing-line", "an acknowledged line is in no file of the log"},
    {"duplicate-line", "a line is in the log twice"},
    {"torn-line", "a file ends in a torn line that held an acknowledged append"},
    {"invalid-line", "a line that is not a whole log record of an invoked op"},
    {"writer-order", "lines out of order: a writer's own, or a line in an older place than "
                     "one acknowledged before it was invoked"},
    {NULL, NULL},
};

/* The filler letter at position i of op id's payload. */
static char filler(uint64_t id, size_t i)
{
    uint64_t x = (id ^ (id >> 29)) * 0x9e3779b97f4a7c15ull + i * 0x2545f4914f6cdd1dull;
    return (char)('a' + (x >> 40) % 26);
}

static void log_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                    struct contend_op *op)
{
    (void)rng;
    op->kind = CONTEND_OP_LOG_APPEND;
    op->key = seq;
    size_t want = g->opt[OPT_PAYLOAD] < 1 ? 1 : (size_t)g->opt[OPT_PAYLOAD];
    if (want > 3000)
        want = 3000;
    char *p = op->buf;
    size_t cap = op->buf_cap;
    int head = snprintf(p, cap, "{\"op\":%llu,\"p\":\"w%u#%llu:", (unsigned long long)op->id,
                        g->writer, (unsigned long long)seq);
    size_t n = (size_t)head;
    size_t tag = strlen(strchr(p, 'w')); /* "w<W>#<SEQ>:" counts towards the payload */
    for (size_t i = tag; i < want && n + 16 < cap; i++)
        p[n++] = filler(op->id, i);
    n += (size_t)snprintf(p + n, cap - n, "\",\"w\":%u}", g->writer);
    op->buf_len = (uint32_t)n;
}

/* ---- the checker ----------------------------------------------------------- */

struct logfile {
    unsigned index; /* 0 = app.log, k = app.log.k */
    char *path;
    uint64_t first_pos, lines;
};

struct torn {
    unsigned file;
    uint64_t off, bytes;
    bool has_op;
    int64_t op;
};

struct acc {
    uint64_t count;
    char *first;
    struct contend_witness w[2];
    unsigned nw;
};

struct lstate {
    struct contend_check *chk;
    uint32_t **pos;  /* per writer, per op: 1-based position of its line, 0 = none */
    uint64_t *order; /* per position: op id */
    uint64_t npos, cap_pos;
    struct logfile *files;
    size_t nfiles, cur; /* files oldest first; the one being read */
    struct torn *torn;
    size_t ntorn;
    struct acc acc[sizeof log_kinds / sizeof log_kinds[0]];
};

static struct acc *acc_of(struct lstate *s, const char *kind)
{
    for (size_t i = 0; log_kinds[i].name; i++)
        if (strcmp(log_kinds[i].name, kind) == 0)
            return &s->acc[i];
    return NULL;
}

static void note(struct lstate *s, const char *kind, const struct contend_witness *w, unsigned nw,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void note(struct lstate *s, const char *kind, const struct contend_witness *w, unsigned nw,
                 const char *fmt, ...)
{
    struct acc *a = acc_of(s, kind);
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

static const char *file_name(const struct lstate *s, size_t f, char *buf, size_t len)
{
    if (s->files[f].index == 0)
        snprintf(buf, len, LOG_FILE);
    else
        snprintf(buf, len, LOG_FILE ".%u", s->files[f].index);
    return buf;
}

/* The file a position is in. */
static size_t file_of_pos(const struct lstate *s, uint64_t pos)
{
    size_t f = 0;
    while (f + 1 < s->nfiles && s->files[f + 1].first_pos <= pos)
        f++;
    return f;
}

/* The history record of an op id, or NULL when it names no invoked append. */
static const struct contend_record *op_record(const struct contend_check *chk, int64_t op,
                                              uint32_t *w, uint64_t *idx)
{
    uint64_t id = (uint64_t)op;
    *w = (uint32_t)(id >> 32);
    *idx = id & 0xffffffffu;
    if (op < 0 || *w >= chk->nw || *idx >= chk->w[*w].n)
        return NULL;
    const struct contend_record *r = &chk->w[*w].rec[*idx];
    return r->kind == CONTEND_OP_LOG_APPEND ? r : NULL;
}

/* Why a parsed line is not a whole log record, or NULL. */
static const char *bad_record(json_t *v, int64_t *op)
{
    json_t *o = json_object_get(v, "op"), *w = json_object_get(v, "w"),
           *p = json_object_get(v, "p");
    if (!json_is_object(v))
        return "not a JSON object";
    if (!json_is_integer(o) || !json_is_integer(w) || !json_is_string(p))
        return "no integer \"op\" and \"w\" and string \"p\"";
    *op = json_integer_value(o);
    uint64_t id = (uint64_t)*op;
    if ((uint64_t)json_integer_value(w) != id >> 32)
        return "\"w\" is not the writer of \"op\"";
    char tag[48];
    int n = snprintf(tag, sizeof tag, "w%llu#%llu:", (unsigned long long)(id >> 32),
                     (unsigned long long)(id & 0xffffffffu));
    const char *text = json_string_value(p);
    size_t len = json_string_length(p);
    if (len < (size_t)n || memcmp(text, tag, (size_t)n) != 0)
        return "the payload does not name the line's op";
    for (size_t i = (size_t)n; i < len; i++)
        if (text[i] != filler(id, i))
            return "the payload is not the op's own (two writers' halves?)";
    return NULL;
}

static void on_line(void *ctx, const char *p, size_t len, uint64_t no, uint64_t off)
{
    struct lstate *s = ctx;
    const struct contend_check *chk = s->chk;
    char fname[64], a[256];
    const char *why = contend_jsonl_frame(p, &len);
    file_name(s, s->cur, fname, sizeof fname);
    if (why) {
        note(s, "invalid-line", NULL, 0, "%s line %llu (offset %llu): %s", fname,
             (unsigned long long)no, (unsigned long long)off, why);
        return;
    }
    json_error_t err;
    json_t *v = json_loadb(p, len, 0, &err);
    int64_t op = -1;
    why = v ? bad_record(v, &op) : "not JSON";
    json_decref(v);
    if (why) {
        note(s, "invalid-line", NULL, 0, "%s line %llu (offset %llu): %s: %.60s%s", fname,
             (unsigned long long)no, (unsigned long long)off, why, p, len > 60 ? "..." : "");
        return;
    }
    uint32_t w;
    uint64_t idx;
    const struct contend_record *h = op_record(chk, op, &w, &idx);
    if (!h) {
        note(s, "invalid-line", NULL, 0,
             "%s line %llu (offset %llu): op %lld (writer %u, #%llu) was never invoked", fname,
             (unsigned long long)no, (unsigned long long)off, (long long)op, w,
             (unsigned long long)idx);
        return;
    }
    struct contend_witness wit = contend_witness_of(&chk->w[w], idx);
    if (h->status == CONTEND_FAIL) {
        note(s, "invalid-line", &wit, 1,
             "%s line %llu (offset %llu): %s failed, yet its line "
             "is in the log",
             fname, (unsigned long long)no, (unsigned long long)off,
             contend_witness_str(&wit, chk->t0, a, sizeof a));
        return;
    }
    uint32_t *seen = &s->pos[w][idx];
    if (*seen) {
        char other[64];
        note(s, "duplicate-line", &wit, 1,
             "%s line %llu (offset %llu): %s is in the log again "
             "(first in %s)",
             fname, (unsigned long long)no, (unsigned long long)off,
             contend_witness_str(&wit, chk->t0, a, sizeof a),
             file_name(s, file_of_pos(s, *seen), other, sizeof other));
        return;
    }
    if (s->npos == s->cap_pos) {
        s->cap_pos = s->cap_pos ? 2 * s->cap_pos : 1024;
        s->order = contend_realloc(s->order, s->cap_pos * sizeof *s->order);
    }
    s->order[s->npos++] = (uint64_t)op;
    *seen = s->npos > UINT32_MAX ? UINT32_MAX : (uint32_t)s->npos;
    s->files[s->cur].lines++;
}

static void on_torn(void *ctx, const char *p, size_t len, uint64_t no, uint64_t off)
{
    struct lstate *s = ctx;
    (void)no;
    s->torn = contend_realloc(s->torn, (s->ntorn + 1) * sizeof *s->torn);
    struct torn *t = &s->torn[s->ntorn++];
    *t = (struct torn){.file = (unsigned)s->cur, .off = off, .bytes = len};
    t->has_op = contend_chain_fragment_int(p, len, "op", &t->op);
}

static int cmp_files(const void *a, const void *b)
{
    const struct logfile *x = a, *y = b;
    return (x->index < y->index) - (x->index > y->index); /* highest index (oldest) first */
}

/* app.log and every app.log.<k> in the store, oldest first. */
static int list_files(struct lstate *s)
{
    DIR *d = opendir(s->chk->store_dir);
    if (!d)
        return -errno;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d)) && s->nfiles < MAX_FILES) {
        const char *n = e->d_name;
        unsigned long index = 0;
        if (strncmp(n, LOG_FILE, strlen(LOG_FILE)) != 0)
            continue;
        n += strlen(LOG_FILE);
        if (*n == '.') {
            char *end;
            if (n[1] < '1' || n[1] > '9')
                continue;
            index = strtoul(n + 1, &end, 10);
            if (*end || index > 1000000)
                continue;
        } else if (*n) {
            continue;
        }
        if (s->nfiles == cap) {
            cap = cap ? 2 * cap : 16;
            s->files = contend_realloc(s->files, cap * sizeof *s->files);
        }
        s->files[s->nfiles++] =
            (struct logfile){.index = (unsigned)index,
                             .path = contend_asprintf("%s/%s", s->chk->store_dir, e->d_name)};
    }
    closedir(d);
    if (s->nfiles > 1) /* qsort(NULL, 0, ...) is undefined: a log with no file yet */
        qsort(s->files, s->nfiles, sizeof *s->files, cmp_files);
    return 0;
}

static void judge_torn(struct lstate *s)
{
    const struct contend_check *chk = s->chk;
    double dead = 0;
    for (size_t i = 0; i < s->ntorn; i++) {
        const struct torn *t = &s->torn[i];
        uint32_t w;
        uint64_t idx;
        const struct contend_record *h = t->has_op ? op_record(chk, t->op, &w, &idx) : NULL;
        if (h && h->status == CONTEND_OK && !s->pos[w][idx]) {
            char a[256], fname[64], why[128];
            struct contend_witness wit = contend_witness_of(&chk->w[w], idx);
            note(s, "torn-line", &wit, 1,
                 "%s offset %llu: %s, and it is the line of %s, "
                 "acknowledged: torn after it was acknowledged",
                 file_name(s, t->file, fname, sizeof fname), (unsigned long long)t->off,
                 contend_jsonl_torn_reason(t->bytes, why, sizeof why),
                 contend_witness_str(&wit, chk->t0, a, sizeof a));
        } else {
            dead += (double)t->bytes; /* an append that never finished */
        }
    }
    contend_rep_add_stat(chk->rep, "log_torn_tail_bytes", dead);
}

/* Per writer: its lines in its own order.  Across writers: no line is
 * placed before a line that was acknowledged before it was invoked.  Both
 * are judged on the one sequence of lines, oldest file first. */
static void check_order(struct lstate *s)
{
    const struct contend_check *chk = s->chk;
    char a[256], b[256], fa[64], fb[64];
    uint64_t *last = contend_calloc(chk->nw ? chk->nw : 1, sizeof *last); /* pos of last line */
    for (uint64_t p = 1; p <= s->npos; p++) {
        uint64_t id = s->order[p - 1];
        uint32_t w = (uint32_t)(id >> 32);
        uint64_t idx = id & 0xffffffffu;
        if (last[w]) {
            uint64_t prev = s->order[last[w] - 1] & 0xffffffffu;
            if (prev > idx) {
                struct contend_witness wit[2] = {contend_witness_of(&chk->w[w], prev),
                                                 contend_witness_of(&chk->w[w], idx)};
                note(s, "writer-order", wit, 2,
                     "writer %u: %s (in %s) comes after %s (in %s), "
                     "which it appended later",
                     w, contend_witness_str(&wit[1], chk->t0, a, sizeof a),
                     file_name(s, file_of_pos(s, p), fa, sizeof fa),
                     contend_witness_str(&wit[0], chk->t0, b, sizeof b),
                     file_name(s, file_of_pos(s, last[w]), fb, sizeof fb));
            }
        }
        last[w] = p;
    }
    free(last);

    /* From the newest line back: the earliest acknowledgement among the
     * lines placed after this one.  If it is before this op was invoked,
     * that line's op was done before this one began, yet sits after it. */
    uint64_t min_done = UINT64_MAX, min_pos = 0;
    for (uint64_t p = s->npos; p >= 1; p--) {
        uint64_t id = s->order[p - 1];
        uint32_t w = (uint32_t)(id >> 32);
        uint64_t idx = id & 0xffffffffu;
        const struct contend_record *r = &chk->w[w].rec[idx];
        uint64_t oid = min_pos ? s->order[min_pos - 1] : 0;
        uint32_t ow = (uint32_t)(oid >> 32);
        /* A writer's own lines are judged above. */
        if (min_done < r->t_invoke && ow != w) {
            struct contend_witness wit[2] = {contend_witness_of(&chk->w[w], idx),
                                             contend_witness_of(&chk->w[ow], oid & 0xffffffffu)};
            note(s, "writer-order", wit, 2,
                 "%s is in %s, before %s in %s, but that op was "
                 "acknowledged before this one was invoked: the log's files are not in time order",
                 contend_witness_str(&wit[0], chk->t0, a, sizeof a),
                 file_name(s, file_of_pos(s, p), fa, sizeof fa),
                 contend_witness_str(&wit[1], chk->t0, b, sizeof b),
                 file_name(s, file_of_pos(s, min_pos), fb, sizeof fb));
        }
        if (r->status == CONTEND_OK && r->t_complete && r->t_complete < min_done) {
            min_done = r->t_complete;
            min_pos = p;
        }
    }
}

/* Missing acknowledged lines, less those the backup limit lets go (top). */
static void check_missing(struct lstate *s, int64_t backups)
{
    const struct contend_check *chk = s->chk;
    bool at_limit = backups > 0 && s->nfiles > 0 && s->files[0].index >= (unsigned)backups;
    uint64_t oldest_done = UINT64_MAX, gone = 0;
    if (at_limit) {
        for (uint64_t p = s->files[0].first_pos; p < s->files[0].first_pos + s->files[0].lines;
             p++) {
            uint64_t id = s->order[p - 1];
            const struct contend_record *r = &chk->w[id >> 32].rec[id & 0xffffffffu];
            if (r->status == CONTEND_OK && r->t_complete && r->t_complete < oldest_done)
                oldest_done = r->t_complete;
        }
    }
    char a[256];
    for (size_t w = 0; w < chk->nw; w++) {
        uint64_t first_kept = UINT64_MAX;
        for (uint64_t i = 0; i < chk->w[w].n && first_kept == UINT64_MAX; i++)
            if (s->pos[w][i])
                first_kept = i;
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_LOG_APPEND || r->status != CONTEND_OK || s->pos[w][i])
                continue;
            if (at_limit && (first_kept == UINT64_MAX || i < first_kept) &&
                r->t_invoke < oldest_done) {
                gone++;
                continue;
            }
            struct contend_witness wit = contend_witness_of(&chk->w[w], i);
            note(s, "missing-line", &wit, 1,
                 "%s was acknowledged but its line is in no file of "
                 "the log%s",
                 contend_witness_str(&wit, chk->t0, a, sizeof a),
                 at_limit ? ", and it is newer than the oldest backup kept" : "");
        }
    }
    contend_rep_add_stat(chk->rep, "log_lines_rotated_away", (double)gone);
}

static void report(struct lstate *s)
{
    for (size_t i = 0; log_kinds[i].name; i++) {
        struct acc *a = &s->acc[i];
        if (!a->count)
            continue;
        if (a->count > 1)
            contend_check_report(s->chk, log_kinds[i].name, a->count, a->w, a->nw,
                                 "%s (and %llu more)", a->first,
                                 (unsigned long long)(a->count - 1));
        else
            contend_check_report(s->chk, log_kinds[i].name, a->count, a->w, a->nw, "%s", a->first);
        free(a->first);
    }
}

static int log_check(struct contend_check *chk)
{
    struct lstate s;
    memset(&s, 0, sizeof s);
    s.chk = chk;
    s.pos = contend_calloc(chk->nw ? chk->nw : 1, sizeof *s.pos);
    for (size_t w = 0; w < chk->nw; w++)
        s.pos[w] = contend_calloc(chk->w[w].n ? chk->w[w].n : 1, sizeof *s.pos[w]);

    int rc = chk->store_dir ? list_files(&s) : -ENOENT;
    if (rc != 0)
        contend_check_report(chk, "corrupt-store", 1, NULL, 0, "cannot list the log in %s: %s",
                             chk->store_dir ? chk->store_dir : "(no store)", strerror(-rc));
    struct contend_jsonl_sink sink = {.ctx = &s, .line = on_line, .torn = on_torn};
    for (s.cur = 0; rc == 0 && s.cur < s.nfiles; s.cur++) {
        s.files[s.cur].first_pos = s.npos + 1;
        int r = contend_jsonl_each_path(s.files[s.cur].path, &sink, NULL);
        if (r != 0 && r != -ENOENT) { /* a file rotated away between listing and reading */
            contend_check_report(chk, "corrupt-store", 1, NULL, 0, "cannot read %s: %s",
                                 s.files[s.cur].path, strerror(-r));
            rc = r;
        }
    }
    int64_t backups = chk->has_state ? contend_state_get(chk, CONTEND_LOG_BACKUPS, -1) : -1;
    if (rc == 0) {
        judge_torn(&s);
        check_order(&s);
        check_missing(&s, backups);
        if (backups >= 0 && s.nfiles > 0 && s.files[0].index > (unsigned)backups)
            contend_check_report(chk, "corrupt-store", 1, NULL, 0,
                                 "the log has " LOG_FILE ".%u but the target keeps at most %lld "
                                 "backups",
                                 s.files[0].index, (long long)backups);
    }
    report(&s);
    contend_rep_add_stat(chk->rep, "log_lines", (double)s.npos);
    contend_rep_add_stat(chk->rep, "log_files", (double)s.nfiles);
    for (size_t f = 0; f < s.nfiles; f++)
        free(s.files[f].path);
    for (size_t w = 0; w < chk->nw; w++)
        free(s.pos[w]);
    free(s.files);
    free(s.pos);
    free(s.order);
    free(s.torn);
    return 0;
}

const struct contend_workload contend_workload_log = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "log",
    .help = "append lines to a (rotating) log; every acknowledged line present once, whole, "
            "in order across the rotated files",
    .options = log_options,
    .kinds = log_kinds,
    .gen = log_gen,
    .check = log_check,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_log)
