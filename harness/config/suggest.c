/*
 * suggest.c - the closest name to a misspelled one (see suggest.h).
 *
 * The distance is Damerau's (optimal string alignment): a swap of two
 * neighbouring letters is one edit, because that is the commonest typo.
 * A candidate counts as meant when it is at most a third of the word's
 * length away (at least 1, at most 3 edits): closer than that, unrelated
 * short names ("null", "bank") would be offered for anything.
 */
#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAXLEN 64

static int fold(int ch)
{
    return ch == '_' ? '-' : tolower(ch);
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t contend_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXLEN || m > MAXLEN)
        return 255;
    /* Three rows: the one before last is needed for swaps. */
    size_t rows[3][MAXLEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = fold(a[i - 1]) != fold(b[j - 1]);
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] > 255 ? 255 : prev[m];
}

void contend_suggest_init(struct contend_suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->best_d = 256;
}

void contend_suggest_add(struct contend_suggest *s, const char *candidate)
{
    if (!s->word || !candidate)
        return;
    size_t len = strlen(s->word), limit = len / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    size_t d = contend_edit_distance(s->word, candidate);
    /* d == 0 is a spelling that differs only in case or '-' vs '_': the
     * best hint of all. */
    if (d <= limit && d < s->best_d) {
        s->best = candidate;
        s->best_d = d;
    }
}

const char *contend_suggest_best(const struct contend_suggest *s)
{
    return s->best;
}

const char *contend_suggest_hint(const struct contend_suggest *s, char *buf, size_t len)
{
    if (s->best)
        snprintf(buf, len, " (did you mean '%s'?)", s->best);
    else if (len)
        buf[0] = '\0';
    return buf;
}
