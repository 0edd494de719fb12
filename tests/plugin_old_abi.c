/*
 * plugin_old_abi.c - a plug-in whose table claims ABI 1, so that a test can
 * show the loader refusing it with a clear message instead of calling into
 * a table of another shape.  Only abi_version is read before the refusal.
 */
#include "target.h"

static const struct contend_variant old_variants[] = {
    {"default", "never used", 0, NULL},
    {NULL, NULL, 0, NULL},
};

const struct contend_target contend_target_plugin = {
    .abi_version = 1,
    .name = "old-abi",
    .help = "a table from ABI 1",
    .variants = old_variants,
};
