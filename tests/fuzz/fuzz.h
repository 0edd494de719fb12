/*
 * fuzz.h - shared by the fuzz harnesses (tests/fuzz/README.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput.  Built with clang and
 * -DCONTEND_FUZZ=ON they are libFuzzer programs; in every other build they
 * are linked with driver.c, which feeds them the files of the regression
 * corpus, so CI replays every input that ever crashed on every run.
 *
 * An oracle failure (a silent pass: something accepted that must not be)
 * aborts, which libFuzzer reports like a crash.
 */
#ifndef CONTEND_FUZZ_H
#define CONTEND_FUZZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson seeds its hash function from /dev/urandom on first use, so the
 * order in which an object's keys are visited, and with it the paths a
 * harness takes, would change from process to process.  A fixed seed makes
 * `ci/fuzz.sh --ci` (libFuzzer's -seed=1, a fixed count) explore the same
 * inputs on every run. */
__attribute__((constructor)) static void fuzz_fixed_hash_seed(void)
{
    json_object_seed(1);
}

#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
