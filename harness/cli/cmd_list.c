/*
 * cmd_list.c - `contend list`: what this build can do.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "extension.h"
#include "registry.h"
#include "scenario.h"
#include "util.h"

static void list_options(const struct contend_option *o)
{
    for (; o && o->name; o++) {
        printf("      %-14s %s (default %s", o->name, o->help, o->def && *o->def ? o->def : "none");
        if (o->choices)
            printf("; one of %s", o->choices);
        printf(")\n");
    }
}

static void list_targets(void)
{
    const struct contend_target *const *t;
    size_t n = contend_all_targets(&t);
    printf("targets:\n");
    for (size_t i = 0; i < n; i++) {
        printf("  %-14s %s\n", t[i]->name, t[i]->help);
        printf("    workloads: ");
        for (const char *const *w = t[i]->workloads; w && *w; w++)
            printf("%s%s", *w, w[1] ? ", " : "\n");
        for (const struct contend_variant *v = t[i]->variants; v->name; v++) {
            printf("    %-16s %s", v->name, v->help);
            if (v->flags & CONTEND_VARIANT_BROKEN)
                printf(" [broken: %s]", v->breaks ? v->breaks : "yes");
            printf("%s\n", v == t[i]->variants ? " (default)" : "");
        }
        if (t[i]->options && t[i]->options->name) {
            printf("    options:\n");
            list_options(t[i]->options);
        }
    }
}

static void list_workloads(void)
{
    const struct contend_workload *const *w;
    size_t n = contend_all_workloads(&w);
    printf("\nworkloads:\n");
    for (size_t i = 0; i < n; i++) {
        printf("  %-14s %s\n", w[i]->name, w[i]->help);
        if (w[i]->options && w[i]->options->name) {
            printf("    options:\n");
            list_options(w[i]->options);
        }
    }
}

static void list_kinds(void)
{
    const struct contend_workload *const *w;
    size_t n = contend_all_workloads(&w);
    printf("\nviolations:\n");
    for (const struct contend_kind *k = contend_core_kinds; k->name; k++)
        printf("  %-20s %s\n", k->name, k->help);
    for (size_t i = 0; i < n; i++)
        for (const struct contend_kind *k = w[i]->kinds; k && k->name; k++)
            printf("  %-20s %s (%s)\n", k->name, k->help, w[i]->name);
}

static void list_keys(void)
{
    printf("\nscenario keys (also --KEY VALUE on `contend run`):\n");
    for (const struct contend_key *k = contend_core_keys; k->name; k++)
        printf("  %-14s %-9s %s%s%s%s\n", k->name, k->type, k->help, k->def ? " (default " : "",
               k->def ? k->def : "", k->def ? ")" : "");
}

static void list_extensions(void)
{
    const struct contend_extension *const *x;
    size_t n = contend_all_extensions(&x);
    for (size_t i = 0; i < n; i++) {
        printf("\n%s: %s\n", x[i]->name, x[i]->help);
        if (x[i]->section)
            printf("    (keys also go in a [%s] section without the '%s.' prefix)\n", x[i]->section,
                   x[i]->section);
        list_options(x[i]->keys);
    }
}

static const char list_usage[] =
    "usage: contend list\n"
    "\n"
    "Targets and their variants, workloads, violation kinds and scenario keys.\n";

int contend_cmd_list(int argc, char **argv)
{
    static const struct contend_argdef none[] = {{NULL, 0, false, 0}};
    struct contend_args p;
    contend_args_init(&p, "list", list_usage, none, false, argc, argv);
    for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;) {
        if (id == CONTEND_ARG_HELP)
            return CONTEND_EXIT_OK;
        if (id == CONTEND_ARG_POSITIONAL)
            return contend_usage_error(&p, "takes no arguments ('%s')", p.value);
        return CONTEND_EXIT_USAGE; /* CONTEND_ARG_ERROR: already said */
    }
    list_targets();
    list_workloads();
    list_kinds();
    list_keys();
    list_extensions();
    return CONTEND_EXIT_OK;
}
