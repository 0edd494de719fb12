/*
 * cmd_verify.c - `contend verify ledger FILE`: the ledger workload's chain
 * checker (chain.c) on any hash-chained JSONL file, for users who keep their
 * own ledgers.
 *
 * It prints the first violations as "LINE:OFFSET: KIND: reason" (OFFSET is
 * the byte offset where the line starts), then a count per kind, and exits
 * 0 when the file is a valid chain, 1 when it is not, 2 when it cannot be read
 * or the command line is wrong.  A summary line on stderr gives the speed.
 *
 * Why it is fast enough (>= 1 M records/s of 200 bytes), and why that needs a
 * scanner next to jansson: see the top of chain.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "chain.h"
#include "commands.h"
#include "util.h"

#define SHOW_MAX 20

static const char verify_usage[] =
    "usage: contend verify ledger FILE [--hash-field F] [--prev-field F] [--no-recompute]\n"
    "                                   [--jobs N] [--max-line BYTES]\n"
    "\n"
    "Checks a hash-chained JSONL file (- for standard input): one JSON object per\n"
    "line, each with a hash (lowercase hex SHA-256 of the record's canonical JSON\n"
    "without the hash, as Python's json.dumps(rec, sort_keys=True,\n"
    "separators=(\",\", \":\")) writes it) and a prev_hash (the previous record's\n"
    "hash; 64 zeros for the first record).\n"
    "\n"
    "  --hash-field F   the member holding the hash (default: hash)\n"
    "  --prev-field F   the member holding the previous hash (default: prev_hash)\n"
    "  --no-recompute   trust the hashes; check only how records link\n"
    "  --jobs N         threads that parse and hash (default: the CPUs, at most 4)\n"
    "  --max-line BYTES a longer line is an invalid-line, read past without being\n"
    "                   held in memory (default 16M; k, M, G suffixes)\n"
    "\n"
    "Reports torn-line, invalid-line, bad-hash, chain-fork, chain-gap,\n"
    "duplicate-append and writer-order (records with integer `writer` and `op`),\n"
    "each as LINE:OFFSET: KIND: reason, then a count per kind.\n"
    "\n"
    "Exit: 0 valid, 1 violations found, 2 unreadable file or bad usage.\n";

static const char *const kinds[] = {"torn-line", "invalid-line",     "bad-hash",    "chain-fork",
                                    "chain-gap", "duplicate-append", "writer-order"};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct tally {
    uint64_t count[NKINDS];
    uint64_t shown;
};

static void on_violation(void *ctx, const char *kind, uint64_t line, uint64_t offset,
                         uint64_t other, const char *reason)
{
    (void)other;
    struct tally *t = ctx;
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i], kind) == 0)
            t->count[i]++;
    if (t->shown++ < SHOW_MAX)
        printf("%llu:%llu: %s: %s\n", (unsigned long long)line, (unsigned long long)offset, kind,
               reason);
}

enum { OPT_HASH_FIELD, OPT_PREV_FIELD, OPT_NO_RECOMPUTE, OPT_JOBS, OPT_MAX_LINE };

static const struct contend_argdef verify_opts[] = {
    {"hash-field", 0, true, OPT_HASH_FIELD},      {"prev-field", 0, true, OPT_PREV_FIELD},
    {"no-recompute", 0, false, OPT_NO_RECOMPUTE}, {"jobs", 'j', true, OPT_JOBS},
    {"max-line", 0, true, OPT_MAX_LINE},          {NULL, 0, false, 0},
};

int contend_cmd_verify(int argc, char **argv)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct contend_chain_opts o = {.dup_by_hash = true, .threads = cpus > 1 ? (unsigned)cpus : 1};
    const char *what = NULL, *file = NULL;
    struct contend_args p;
    uint64_t j;

    contend_args_init(&p, "verify", verify_usage, verify_opts, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        switch (id) {
        case CONTEND_ARG_HELP: return CONTEND_EXIT_OK;
        case CONTEND_ARG_ERROR: return CONTEND_EXIT_USAGE;
        case OPT_NO_RECOMPUTE: o.no_recompute = true; break;
        case OPT_JOBS:
            if (contend_parse_u64(p.value, &j) != 0 || j < 1 || j > 64)
                return contend_usage_error(&p,
                                           "--jobs needs a number of threads from 1 to 64, "
                                           "got '%s'",
                                           p.value);
            o.threads = (unsigned)j;
            break;
        case OPT_MAX_LINE: {
            uint64_t m;
            if (contend_parse_u64(p.value, &m) != 0 || m < 1)
                return contend_usage_error(&p, "--max-line needs a size in bytes (e.g. 16M)");
            o.max_line = m;
            break;
        }
        case OPT_HASH_FIELD:
        case OPT_PREV_FIELD:
            if (!*p.value)
                return contend_usage_error(&p, "--%s needs a field name", p.name);
            *(id == OPT_HASH_FIELD ? &o.hash_field : &o.prev_field) = p.value;
            break;
        case CONTEND_ARG_POSITIONAL:
            if (!what)
                what = p.value;
            else if (!file)
                file = p.value;
            else
                return contend_usage_error(&p, "one file at a time ('%s' and '%s')", file, p.value);
            break;
        }
    }
    if (!what || !file)
        return contend_usage_error(&p,
                                   !what ? "no kind of file and no file given" : "no file given");
    if (strcmp(what, "ledger") != 0)
        return contend_usage_error(&p, "unknown kind of file '%s' (only: ledger)", what);
    if (o.hash_field && o.prev_field && strcmp(o.hash_field, o.prev_field) == 0)
        return contend_usage_error(&p, "--hash-field and --prev-field must differ");

    struct tally t;
    memset(&t, 0, sizeof t);
    struct contend_chain_sink sink = {.ctx = &t, .violation = on_violation};
    struct contend_chain_stats st;
    uint64_t t0 = contend_now_ns();
    int rc = strcmp(file, "-") == 0 ? contend_chain_check_fd(0, &o, &sink, &st)
                                    : contend_chain_check_path(file, &o, &sink, &st);
    double secs = (double)(contend_now_ns() - t0) / 1e9;
    if (rc != 0) {
        contend_err("verify: cannot read %s: %s", file, strerror(-rc));
        return CONTEND_EXIT_USAGE;
    }
    if (t.shown > SHOW_MAX)
        printf("... %llu more\n", (unsigned long long)(t.shown - SHOW_MAX));
    printf("%s: %llu records in %llu lines: %s\n", file, (unsigned long long)st.records,
           (unsigned long long)st.lines, st.violations ? "INVALID" : "valid");
    for (size_t i = 0; i < NKINDS; i++)
        if (t.count[i])
            printf("  %-17s %llu\n", kinds[i], (unsigned long long)t.count[i]);
    fprintf(stderr,
            "contend: verified %.1f MB in %.3f s: %.0f records/s (%llu canonical, %llu "
            "re-serialized)\n",
            (double)st.bytes / 1e6, secs, secs > 0 ? (double)st.records / secs : 0,
            (unsigned long long)st.fast, (unsigned long long)st.slow);
    return st.violations ? CONTEND_EXIT_VIOLATION : CONTEND_EXIT_OK;
}
