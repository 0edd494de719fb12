/*
 * extension.c - the workers' environment list.
 */
#include "extension.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void contend_envlist_set(struct contend_envlist *e, const char *name, const char *value)
{
    size_t len = strlen(name);
    char *entry = contend_asprintf("%s=%s", name, value);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
            free(e->v[i]);
            e->v[i] = entry;
            return;
        }
    }
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = contend_realloc(e->v, e->cap * sizeof e->v[0]);
    }
    e->v[e->n++] = entry;
    e->v[e->n] = NULL;
}

const char *contend_envlist_get(const struct contend_envlist *e, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < e->n; i++)
        if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=')
            return e->v[i] + len + 1;
    return NULL;
}
