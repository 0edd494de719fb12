/*
 * fuzz_compare.c - `contend compare BASE NEW` on any bytes: the input is
 * split at its first NUL (or in the middle) into the two run.json texts,
 * which are parsed, compared, and the comparison rendered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "fuzz.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t cut = nul ? (size_t)(nul - text) : size / 2;
    size_t rest = nul ? size - cut - 1 : size - cut;
    json_t *base = NULL, *cur = NULL;
    if (contend_report_parse(text, cut, "base", &base) == 0 &&
        contend_report_parse(text + size - rest, rest, "new", &cur) == 0) {
        struct contend_compare_opts o = {.alpha = 0.05, .max_slowdown_pct = 5};
        json_t *cmp = contend_compare(base, cur, "base.json", "new.json", &o);
        if (cmp) {
            char *buf = NULL;
            size_t n = 0;
            FILE *mem = open_memstream(&buf, &n);
            if (mem) {
                contend_compare_text(cmp, mem);
                contend_compare_markdown(cmp, mem);
                fclose(mem);
            }
            free(buf);
            json_decref(cmp);
        }
    }
    json_decref(base);
    json_decref(cur);
    return 0;
}
