/*
 * compare.h - `contend compare`: two run.json files, case by case, figure
 * by figure, with a Mann-Whitney U test on the repetitions.
 */
#ifndef CONTEND_COMPARE_H
#define CONTEND_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Up to this many values in both samples together, the p-value comes from
 * the exact permutation distribution; above it, from the normal
 * approximation with tie and continuity correction. */
#define CONTEND_MWU_EXACT_MAX 60

struct contend_mwu {
    double u;   /* U of the first sample: pairs (x, y) with x > y, ties count 1/2 */
    double p;   /* two-sided p-value */
    bool exact; /* exact distribution (else the normal approximation) */
};

/* Mann-Whitney U test of x against y (two-sided).  0, or -EINVAL when a
 * sample is empty. */
int contend_mwu(const double *x, size_t nx, const double *y, size_t ny, struct contend_mwu *out);

/* The normal approximation alone, for tests: same result fields. */
int contend_mwu_normal(const double *x, size_t nx, const double *y, size_t ny,
                       struct contend_mwu *out);

struct contend_compare_opts {
    double alpha;            /* significance level, default 0.05 */
    double max_slowdown_pct; /* noise threshold, default 5 */
};

/* Compare two run.json documents.  Returns the comparison as JSON (see
 * compare.c for its fields); "exit_code" in it is 3 when a case regressed. */
json_t *contend_compare(const json_t *base, const json_t *new_run, const char *base_path,
                        const char *new_path, const struct contend_compare_opts *o);

/* Load "a.json,b.json,...": the first run, with the repetitions of the
 * others' same-named cases pooled into its cases (other cases appended).
 * 0, or a negative errno after a message on stderr. */
int contend_compare_load(const char *spec, json_t **out);

void contend_compare_text(const json_t *cmp, FILE *out);
void contend_compare_markdown(const json_t *cmp, FILE *out);
/* The compare page: the verdict table, then per case both sides' plots side
 * by side (base_run and new_run are the two run.json documents). */
void contend_compare_html(const json_t *cmp, const json_t *base_run, const json_t *new_run,
                          FILE *out);

#endif /* CONTEND_COMPARE_H */
