/*
 * casefile.c - writing and reading case.json.
 */
#include "casefile.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int contend_casefile_write(const char *path, const struct contend_case *c, uint64_t seed)
{
    json_t *settings = json_array();
    for (size_t i = 0; i < c->settings.n; i++)
        json_array_append_new(settings,
                              json_pack("[ss]", c->settings.v[i].key, c->settings.v[i].value));
    /* The repetition's seed overrides whatever the settings say. */
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%llu", (unsigned long long)seed);
    json_array_append_new(settings, json_pack("[ss]", "seed", seedbuf));
    json_t *root = json_pack("{s:s, s:o}", "name", c->name, "settings", settings);
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!text)
        return -ENOMEM;
    int rc = contend_write_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

int contend_casefile_read(const char *path, struct contend_case *c)
{
    json_error_t jerr;
    struct contend_settings ss = {0};
    json_t *root = json_load_file(path, 0, &jerr);
    const char *name = NULL;
    json_t *settings = NULL;
    int rc = -EINVAL;

    if (!root || json_unpack(root, "{s:s, s:o}", "name", &name, "settings", &settings) != 0 ||
        !json_is_array(settings)) {
        contend_err("%s: not a case file: %s", path, root ? "missing fields" : jerr.text);
        goto out;
    }
    size_t i;
    json_t *pair;
    json_array_foreach (settings, i, pair) {
        const char *k, *v;
        if (json_unpack(pair, "[ss]", &k, &v) != 0) {
            contend_err("%s: setting %zu is not a [key, value] pair", path, i);
            goto out;
        }
        contend_settings_add(&ss, k, v, path, 0);
    }
    rc = contend_case_resolve(c, name, path, 0, &ss);
out:
    contend_settings_free(&ss);
    json_decref(root);
    return rc;
}
