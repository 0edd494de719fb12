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

/* The verdict cell of the table: "pass", "found lost-update", "FAIL ...". */
void contend_report_verdict(const json_t *kase, char *buf, size_t len);

/* One self-contained HTML page: verdicts, plots (inline SVG), violations
 * with timelines.  No script, no network. */
void contend_report_html(const json_t *run, FILE *out);
/* The two plots of one case of run.json (html.c), for pages that show
 * cases of several runs (the compare page). */
void contend_html_throughput_plot(const json_t *c, FILE *out);
void contend_html_latency_plot(const json_t *c, FILE *out);
/* The verdict and figures table in GitHub-flavoured Markdown, for a CI step
 * summary. */
void contend_report_markdown(const json_t *run, FILE *out);
/* JUnit XML: a testsuite per scenario, a testcase per case. */
void contend_report_junit(const json_t *run, FILE *out);

/* The scaling table and plot of `contend sweep`, from its sweep.json. */
void contend_sweep_text(const json_t *sweep, FILE *out);
void contend_sweep_html(const json_t *sweep, FILE *out);

/* Read a run.json (or any JSON contend wrote).  0; -EINVAL after printing
 * "file:line: reason" when it is not JSON or not a run; -errno when it
 * cannot be read (printed too). */
int contend_report_load(const char *path, json_t **out);
/* The same from memory (`name` for messages); the fuzz harnesses use it. */
int contend_report_parse(const char *text, size_t len, const char *name, json_t **out);
/* Render `run` with `render` into `path` atomically ("-" = stdout);
 * 0 or a negative errno. */
int contend_report_write(const char *path, void (*render)(const json_t *, FILE *),
                         const json_t *run);

#endif /* CONTEND_REPORT_H */
