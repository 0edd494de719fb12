/*
 * fuzz_scenario.c - the scenario loader on any bytes.  Besides crashes, the
 * oracle: whatever loads has at least one case, and every name and value of
 * it can go into run.json (a case that cannot be serialized vanished from
 * run.json once: a silent pass).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "scenario.h"

static bool serializable(const char *s)
{
    json_t *j = s ? json_string(s) : json_null();
    bool ok = j != NULL;
    json_decref(j);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The loader reads a path: a memfd keeps the fuzzer off the disk. */
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("scenario.ini", 0);
        if (fd < 0)
            return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    /* target_path = X.so would dlopen whatever the fuzzer names. */
    if (memmem(data, size, "target_path", 11))
        return 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    struct contend_scenario sc;
    if (contend_scenario_load(path, NULL, NULL, &sc) == 0) {
        FUZZ_REQUIRE(sc.ncases > 0);
        for (size_t i = 0; i < sc.ncases; i++) {
            const struct contend_case *c = &sc.cases[i];
            FUZZ_REQUIRE(serializable(c->name));
            FUZZ_REQUIRE(serializable(c->description));
            FUZZ_REQUIRE(c->tg && c->wl);
            for (size_t k = 0; k < c->settings.n; k++)
                FUZZ_REQUIRE(serializable(c->settings.v[k].value));
        }
        contend_scenario_free(&sc);
    }
    return 0;
}
