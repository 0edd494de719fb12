/*
 * report.h - renderers of run.json.  Each takes the parsed run.json and
 * nothing else, so `contend report` can re-render any past run.
 */
#ifndef CONTEND_REPORT_H
#define CONTEND_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The terminal table: one row per case, then what went wrong and how to
 * reproduce it. */
void contend_report_text(const json_t *run, FILE *out);
/* One line for a finished case, for progress on stderr. */
void contend_report_case_line(const json_t *kase, size_t index, size_t total, FILE *out);

#endif /* CONTEND_REPORT_H */
