/*
 * scenario.h - scenario files and the cases they define.
 *
 * A scenario is an INI file in fio's style: a [global] section of defaults and
 * one section per case.  Every setting keeps the file and line it came from,
 * so that any error names file:line.  The command line's --set key=value and
 * the one-case flags (--workload, --target, ...) are settings too, with the
 * origin "--set" or "--workload": a scenario key and the flag of the same name
 * are the same setting.
 *
 * Resolution of one case: built-in defaults, then [global], then the case's
 * section, then --set, in that order; later wins.  Keys are checked against
 * the core keys (below), the workload's options and the target's options;
 * anything else is an error.
 */
#ifndef CONTEND_SCENARIO_H
#define CONTEND_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workload.h"
#include "target.h"

struct contend_setting {
    char *key;
    char *value;
    char *origin; /* file name, or "--set" */
    int line;     /* 0 when not from a file */
};

struct contend_settings {
    struct contend_setting *v;
    size_t n, cap;
};

struct contend_case {
    char *name;
    char *origin;
    int line; /* the section header */

    /* Core keys, resolved. */
    char *workload, *target, *variant, *target_path;
    uint32_t procs, threads;
    uint64_t ops;         /* per worker thread; 0 when duration is set */
    uint64_t duration_ns; /* 0 when ops is set */
    uint64_t keys;
    uint64_t seed;
    uint64_t perturb_us;
    char *expect;                           /* comma-separated violation kinds, or NULL */
    uint64_t timeout_ns;                    /* no progress for this long is a hang */
    uint32_t repeat;                        /* repetitions, seeds seed .. seed + repeat - 1 */
    uint64_t history_cap;                   /* records per thread in duration mode */
    uint64_t thinktime_ns;                  /* pause after each op, on the worker's clock */
    double min_tps, max_p99_us, max_growth; /* gates; NAN when unset */
    char *description;

    const struct contend_workload *wl;
    const struct contend_target *tg;
    int variant_index;

    /* Target and workload options, resolved with defaults, in declaration order. */
    const char **topt_names, **topt_values;
    size_t ntopts;
    const char **wopt_names, **wopt_values;
    size_t nwopts;

    /* Every setting that applies to this case, after resolution order:
     * what case.json carries to the workers and what the repro line shows. */
    struct contend_settings settings;
};

struct contend_scenario {
    char *path;
    char *name; /* file stem, or "cli" */
    struct contend_case *cases;
    size_t ncases;
};

/* A core scenario key, for parsing, `contend list` and the README. */
struct contend_key {
    const char *name;
    const char *type; /* "count", "duration", "name", "kinds", "number", "text" */
    const char *def;
    const char *help;
};
extern const struct contend_key contend_core_keys[];

void contend_settings_add(struct contend_settings *s, const char *key, const char *value,
                          const char *origin, int line);
void contend_settings_free(struct contend_settings *s);

/* Load a scenario file.  On error returns -EINVAL (or -errno when the file
 * cannot be read) and prints "file:line: reason" to stderr. */
int contend_scenario_load(const char *path, const struct contend_settings *overrides,
                          const char *only_case, struct contend_scenario *out);
/* A one-case scenario from command-line settings. */
int contend_scenario_from_settings(const char *name, const struct contend_settings *settings,
                                   struct contend_scenario *out);
/* Resolve one case from an ordered list of settings (later wins). */
int contend_case_resolve(struct contend_case *c, const char *name, const char *origin, int line,
                         const struct contend_settings *settings);
void contend_case_free(struct contend_case *c);
void contend_scenario_free(struct contend_scenario *s);

/* The value of any setting of the case (an extension's key, say), the
 * extension's default when unset, or NULL. */
const char *contend_case_opt(const struct contend_case *c, const char *key);

/* True when `kind` is among the case's expected violation kinds. */
bool contend_case_expects(const struct contend_case *c, const char *kind);

/* Does `value` fit the type and range option `o` declares (target.h)?
 * NULL when it does, else why not ("expected a whole number from 0 to 100"),
 * malloc'ed. */
char *contend_option_check(const struct contend_option *o, const char *value);

#endif /* CONTEND_SCENARIO_H */
