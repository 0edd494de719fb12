/*
 * fuzz_ledger.c - `contend verify ledger`'s checker on any bytes, with and
 * without hash recomputation, one thread (the parallel path is exercised by
 * the unit tests; threads make fuzzing non-reproducible).  Oracle: every
 * violation has a kind, a reason and a line inside the input.
 */
#include <string.h>

#include "chain.h"
#include "fuzz.h"

struct seen {
    uint64_t lines;
};

static void on_violation(void *ctx, const char *kind, uint64_t line, uint64_t offset,
                         uint64_t other, const char *reason)
{
    struct seen *s = ctx;
    (void)offset;
    (void)other;
    FUZZ_REQUIRE(kind && reason);
    FUZZ_REQUIRE(line >= 1 && line <= s->lines + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {.lines = 0};
    for (size_t i = 0; i < size; i++)
        s.lines += data[i] == '\n';
    struct contend_chain_sink sink = {.ctx = &s, .violation = on_violation};
    struct contend_chain_stats st;
    struct contend_chain_opts o = {.dup_by_hash = true, .threads = 1};
    contend_chain_check_buf((const char *)data, size, &o, &sink, &st);
    o.no_recompute = true;
    o.dup_by_hash = false;
    contend_chain_check_buf((const char *)data, size, &o, &sink, &st);
    return 0;
}
