/*
 * fuzz_report.c - `contend report` on any bytes: run.json (or sweep.json)
 * parsing and every renderer (text, HTML, Markdown, JUnit; the sweep's text
 * and HTML).  Oracle: the JUnit output never holds a byte XML 1.0 forbids,
 * and the terminal table no control character.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "report.h"

typedef void (*render_fn)(const json_t *, FILE *);

static char *render(render_fn fn, const json_t *doc, size_t *len)
{
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    if (!mem)
        return NULL;
    fn(doc, mem);
    fclose(mem);
    return buf;
}

static void check_junit(const char *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)x[i];
        FUZZ_REQUIRE(c >= 0x20 || c == '\n' || c == '\t' || c == '\r');
        if (c == 0xef && i + 2 < n)
            FUZZ_REQUIRE(!((unsigned char)x[i + 1] == 0xbf &&
                           ((unsigned char)x[i + 2] == 0xbe || (unsigned char)x[i + 2] == 0xbf)));
    }
}

static void check_terminal(const char *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)x[i];
        FUZZ_REQUIRE(c >= 0x20 || c == '\n' || c == '\t');
        FUZZ_REQUIRE(c != 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc;
    if (contend_report_parse((const char *)data, size, "fuzz", &doc) != 0)
        return 0;
    size_t n = 0;
    char *out;
    if (json_is_array(json_object_get(doc, "points"))) {
        free(render(contend_sweep_text, doc, &n));
        free(render(contend_sweep_html, doc, &n));
    } else {
        if ((out = render(contend_report_text, doc, &n)) != NULL)
            check_terminal(out, n);
        free(out);
        free(render(contend_report_html, doc, &n));
        free(render(contend_report_markdown, doc, &n));
        if ((out = render(contend_report_junit, doc, &n)) != NULL)
            check_junit(out, n);
        free(out);
    }
    json_decref(doc);
    return 0;
}
