/*
 * registry.c - tables of targets and workloads filled by constructors.
 */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64

static const struct contend_target *targets[MAX_ENTRIES];
static size_t ntargets;
static const struct contend_workload *workloads[MAX_ENTRIES];
static size_t nworkloads;
static const struct contend_extension *extensions[MAX_ENTRIES];
static size_t nextensions;

const struct contend_kind contend_core_kinds[] = {
    {"crash", "a worker died by a signal it was not sent by a fault"},
    {"hang", "a worker made no progress for `timeout`"},
    {"corrupt-store", "the store could not be read back at the end of the run"},
    {"integrity", "the store's own integrity check failed"},
    {"misuse", "the store's library reported that it was used wrongly (SQLITE_MISUSE)"},
    {"lost-durable", "an op acknowledged as durable was gone after a power cut and recovery"},
    {"superlinear-growth", "per-op cost grows with the store (max_growth, or expected)"},
    {NULL, NULL},
};

/* Constructors run before main(), when stderr is usable but nothing else is
 * set up: a full table is a build mistake, so say so and stop. */
static void table_full(const char *what)
{
    fprintf(stderr, "contend: too many %s registered (raise MAX_ENTRIES)\n", what);
    abort();
}

void contend_register_target(const struct contend_target *t)
{
    if (ntargets == MAX_ENTRIES)
        table_full("targets");
    targets[ntargets++] = t;
}

void contend_register_workload(const struct contend_workload *w)
{
    if (nworkloads == MAX_ENTRIES)
        table_full("workloads");
    workloads[nworkloads++] = w;
}

void contend_register_extension(const struct contend_extension *x)
{
    if (nextensions == MAX_ENTRIES)
        table_full("extensions");
    extensions[nextensions++] = x;
}

size_t contend_all_extensions(const struct contend_extension *const **out)
{
    *out = extensions;
    return nextensions;
}

const struct contend_extension *contend_find_extension_key(const char *key,
                                                           const struct contend_option **opt)
{
    for (size_t i = 0; i < nextensions; i++) {
        for (const struct contend_option *o = extensions[i]->keys; o && o->name; o++) {
            if (strcmp(o->name, key) == 0) {
                if (opt)
                    *opt = o;
                return extensions[i];
            }
        }
    }
    return NULL;
}

const struct contend_extension *contend_find_extension_section(const char *section)
{
    for (size_t i = 0; i < nextensions; i++)
        if (extensions[i]->section && strcmp(extensions[i]->section, section) == 0)
            return extensions[i];
    return NULL;
}

static int cmp_target(const void *a, const void *b)
{
    return strcmp((*(const struct contend_target *const *)a)->name,
                  (*(const struct contend_target *const *)b)->name);
}

static int cmp_workload(const void *a, const void *b)
{
    return strcmp((*(const struct contend_workload *const *)a)->name,
                  (*(const struct contend_workload *const *)b)->name);
}

const struct contend_target *contend_find_target(const char *name)
{
    for (size_t i = 0; i < ntargets; i++)
        if (strcmp(targets[i]->name, name) == 0)
            return targets[i];
    return NULL;
}

const struct contend_workload *contend_find_workload(const char *name)
{
    for (size_t i = 0; i < nworkloads; i++)
        if (strcmp(workloads[i]->name, name) == 0)
            return workloads[i];
    return NULL;
}

size_t contend_all_targets(const struct contend_target *const **out)
{
    qsort(targets, ntargets, sizeof targets[0], cmp_target);
    *out = targets;
    return ntargets;
}

size_t contend_all_workloads(const struct contend_workload *const **out)
{
    qsort(workloads, nworkloads, sizeof workloads[0], cmp_workload);
    *out = workloads;
    return nworkloads;
}

static bool kind_in(const struct contend_kind *k, const char *name)
{
    for (; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return true;
    return false;
}

bool contend_kind_known(const char *name)
{
    if (kind_in(contend_core_kinds, name))
        return true;
    for (size_t i = 0; i < nworkloads; i++)
        if (kind_in(workloads[i]->kinds, name))
            return true;
    return false;
}

int contend_variant_index(const struct contend_target *t, const char *name)
{
    for (int i = 0; t->variants && t->variants[i].name; i++)
        if (strcmp(t->variants[i].name, name) == 0)
            return i;
    return -1;
}

bool contend_target_supports(const struct contend_target *t, const char *workload)
{
    for (const char *const *w = t->workloads; w && *w; w++)
        if (strcmp(*w, workload) == 0)
            return true;
    return false;
}

bool contend_target_durable(const struct contend_target *t, const struct contend_env *env)
{
    if (t->durable)
        return t->durable(env) > 0;
    if (env->variant_index < 0)
        return false;
    return (t->variants[env->variant_index].flags & CONTEND_VARIANT_DURABLE) != 0;
}
