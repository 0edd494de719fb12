/*
 * suggest.h - "did you mean": the closest of a set of names to a misspelled
 * one, by edit distance.
 *
 * Used where names are resolved (targets, variants, workloads, case names,
 * scenario keys, command-line options) so that a typo gets the right name
 * back instead of a list to read.  Candidates are fed one at a time because
 * they live in different shapes (tables of structs, arrays of pointers).
 */
#ifndef CONTEND_SUGGEST_H
#define CONTEND_SUGGEST_H

#include <stddef.h>

struct contend_suggest {
    const char *word;
    const char *best; /* closest candidate so far, NULL if none is close */
    size_t best_d;
};

/* Edit distance (insert, delete, substitute, swap of neighbours) of a and
 * b, ignoring case and treating '-' and '_' as the same; at most 255. */
size_t contend_edit_distance(const char *a, const char *b);

void contend_suggest_init(struct contend_suggest *s, const char *word);
void contend_suggest_add(struct contend_suggest *s, const char *candidate);
/* The candidate close enough to be what was meant, or NULL. */
const char *contend_suggest_best(const struct contend_suggest *s);
/* " (did you mean 'X'?)" into buf, or "" when nothing is close; returns buf. */
const char *contend_suggest_hint(const struct contend_suggest *s, char *buf, size_t len);

#endif /* CONTEND_SUGGEST_H */
