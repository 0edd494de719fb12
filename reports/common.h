/*
 * common.h - what the renderers of run.json share: reading fields that may
 * be missing, formatting figures, escaping for HTML and XML, and the SVG
 * plots of the HTML report and of `contend sweep`.  Internal to reports/.
 */
#ifndef CONTEND_REPORTS_COMMON_H
#define CONTEND_REPORTS_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Fields of run.json.  A missing or mistyped field reads as "" / NAN / 0:
 * a report renders what is there, whichever version wrote the file. */
const char *contend_js(const json_t *o, const char *key);
double contend_jn(const json_t *o, const char *key);
long long contend_ji(const json_t *o, const char *key);
/* o[a][b] as a number, or NAN. */
double contend_jn2(const json_t *o, const char *a, const char *b);

/* A figure for people: "-" for NAN, 3 significant digits below 100,
 * grouped thousands above ("1 234 567" would be ambiguous; we print
 * "1234567").  Returns buf. */
const char *contend_fmt_fig(char *buf, size_t len, double v);
/* A latency in µs with a unit that fits: "850 ns", "12.3 µs", "4.10 ms". */
const char *contend_fmt_us(char *buf, size_t len, double us);
/* The faults injected into a case over its repetitions, by kind ("kill 2,
 * io 5"), or "-". */
const char *contend_fmt_faults(char *buf, size_t len, const json_t *c);
struct contend_case_result;
const char *contend_fmt_fault_counts(char *buf, size_t len, const struct contend_case_result *r);

/* Escape for HTML text and attribute values (also valid in SVG and XML):
 * & < > " ' become entities; control characters other than tab and newline,
 * which XML 1.0 forbids, become U+FFFD. */
void contend_put_escaped(FILE *out, const char *s);
/* The same for an XML attribute value, keeping newlines and tabs. */
void contend_put_attr(FILE *out, const char *s);
/* fprintf, then nothing else: for markup whose pieces are all our own. */
void contend_putf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* <!DOCTYPE html> up to <body>: charset, a Content-Security-Policy that
 * allows no script and no fetch, the title (escaped), the report's style. */
void contend_html_begin(FILE *out, const char *title_prefix, const char *title);

/* run.json's "machine", escaped: "host, 2 CPUs, model, os kernel". */
void contend_html_machine(FILE *out, const json_t *machine);

/* A line plot in SVG. */
struct contend_plot_series {
    const char *label; /* escaped when written */
    const double *x, *y;
    size_t n;
};

struct contend_plot_band {
    double x0, x1;     /* x1 == x0: a vertical line */
    const char *label; /* escaped when written */
};

struct contend_plot {
    const char *title, *xlabel, *ylabel; /* escaped when written */
    bool ylog;                           /* log10 y axis */
    bool x_from_zero;                    /* the x axis starts at 0 (time) */
    int width, height;
    const struct contend_plot_series *series;
    size_t nseries;
    const struct contend_plot_band *bands;
    size_t nbands;
    /* Optional fixed x ticks with labels (the percentile axis). */
    const double *xticks;
    const char *const *xtick_labels;
    size_t nxticks;
    bool ytick_us; /* label y ticks as latencies (the values are µs) */
};

void contend_svg_plot(FILE *out, const struct contend_plot *p);

/* Colours of the plots, by series index. */
const char *contend_plot_color(size_t i);

/* Render into `path` atomically ("-" = stdout).  0, or a negative errno. */
int contend_render_to(const char *path, void (*render)(const json_t *, FILE *), const json_t *doc);

#endif /* CONTEND_REPORTS_COMMON_H */
