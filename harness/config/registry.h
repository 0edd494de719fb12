/*
 * registry.h - the built-in targets and workloads, and plug-in loading.
 *
 * Built-in targets and workloads register themselves from constructors
 * (CONTEND_TARGET_REGISTER, CONTEND_WORKLOAD_REGISTER), so adding one is adding
 * a file: no central list to edit.  Lookups are by name and happen outside
 * the hot path.
 */
#ifndef CONTEND_REGISTRY_H
#define CONTEND_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "extension.h"
#include "workload.h"
#include "target.h"

const struct contend_target *contend_find_target(const char *name);
const struct contend_workload *contend_find_workload(const char *name);
/* All registered ones, sorted by name. */
size_t contend_all_targets(const struct contend_target *const **out);
size_t contend_all_workloads(const struct contend_workload *const **out);

/* Violation kinds the harness itself reports (crash, hang, ...), and any kind
 * a target may report through its sink. */
extern const struct contend_kind contend_core_kinds[];
bool contend_kind_known(const char *name);

int contend_variant_index(const struct contend_target *t, const char *name);
bool contend_target_supports(const struct contend_target *t, const char *workload);
/* Whether `env`'s acknowledged ops are promised durable: the target's
 * durable() when its table has one, else the variant's
 * CONTEND_VARIANT_DURABLE flag. */
bool contend_target_durable(const struct contend_target *t, const struct contend_env *env);

/* The extension that owns scenario key `key` (and the key's spec), or NULL. */
const struct contend_extension *contend_find_extension_key(const char *key,
                                                           const struct contend_option **opt);
/* The extension that owns INI section `section`, or NULL. */
const struct contend_extension *contend_find_extension_section(const char *section);

/* Load a plug-in target (harness/config/plugin.c).  On error returns a negative errno
 * and sets *why to a malloc'ed reason. */
int contend_load_plugin(const char *path, const struct contend_target **out, char **why);

#endif /* CONTEND_REGISTRY_H */
