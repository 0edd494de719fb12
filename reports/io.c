/*
 * io.c - reading run.json back, and writing rendered reports.
 *
 * A report is rendered into memory and written with temp + fsync + rename,
 * so a CI step that reads report.xml never sees half of one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "common.h"
#include "report.h"

int contend_report_parse(const char *text, size_t len, const char *name, json_t **out)
{
    json_error_t err;
    *out = NULL;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (!doc) {
        contend_err("%s:%d: not JSON: %s", name, err.line, err.text);
        return -EINVAL;
    }
    bool sweep = json_is_array(json_object_get(doc, "points")) &&
                 strcmp(contend_js(doc, "kind"), "sweep") == 0;
    if (!json_is_object(doc) || (!json_is_array(json_object_get(doc, "cases")) && !sweep)) {
        contend_err("%s:1: not a contend run.json (no \"cases\" array)", name);
        json_decref(doc);
        return -EINVAL;
    }
    *out = doc;
    return 0;
}

int contend_report_load(const char *path, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    int rc = contend_read_file(path, &text, &len);
    *out = NULL;
    if (rc) {
        contend_err("cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    rc = contend_report_parse(text, len, path, out);
    free(text);
    return rc;
}

int contend_report_write(const char *path, void (*render)(const json_t *, FILE *),
                         const json_t *run)
{
    return contend_render_to(path, render, run);
}
