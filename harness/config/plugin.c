/*
 * plugin.c - loading a target from a shared object.
 *
 * A plug-in exports `const struct contend_target contend_target_plugin`.  It
 * is linked against nothing of ours: contend_point() resolves to the contend
 * executable, which exports it and the other functions target.h marks
 * CONTEND_EXPORT, and nothing else (ENABLE_EXPORTS and -fvisibility=hidden in
 * CMakeLists.txt).  The
 * table's abi_version must match ours exactly: a mismatch would call
 * functions with the wrong arguments, so it is refused.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"
#include "target.h"

int contend_load_plugin(const char *path, const struct contend_target **out, char **why)
{
    /* dlopen() searches the library path for a bare name; a plug-in is a file. */
    char *file = strchr(path, '/') ? contend_strdup(path) : contend_asprintf("./%s", path);
    void *lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    free(file);
    if (!lib) {
        *why = contend_asprintf("cannot load plug-in: %s", dlerror());
        return -ENOENT;
    }
    const struct contend_target *t = dlsym(lib, "contend_target_plugin");
    if (!t) {
        *why = contend_strdup("plug-in does not export contend_target_plugin");
        dlclose(lib);
        return -EINVAL;
    }
    /* abi_version is the first member in every ABI, so it can be read
     * before anything else is trusted. */
    if (t->abi_version != CONTEND_TARGET_ABI) {
        *why = contend_asprintf("plug-in built for target ABI %u, this contend speaks ABI %u "
                                "only: rebuild it against this contend's target.h",
                                t->abi_version, CONTEND_TARGET_ABI);
        dlclose(lib);
        return -EINVAL;
    }
    if (!t->name || !t->variants || !t->variants[0].name || !t->open || !t->apply || !t->close) {
        *why = contend_strdup("plug-in table lacks a name, a variant, open, apply or close");
        dlclose(lib);
        return -EINVAL;
    }
    /* The library stays loaded for the life of the process. */
    *out = t;
    return 0;
}
