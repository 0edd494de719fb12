/*
 * sweep.c - the scaling table and plot of `contend sweep`, from sweep.json.
 *
 * One row per case and grid point: the point's parameter values, tx/s, its
 * ratio to the case's first point (the scaling factor), p50, p99, verdict.
 * The plot puts the first parameter on the x axis, as categories in the
 * order given (values need not be numbers: `variant=flock,nolock` sweeps
 * too), with one line per case and combination of the other parameters:
 * tx/s on a linear axis from zero, so that ratios read true, and p99 on a
 * log axis, where contention moves it by orders of magnitude.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report.h"

#define esc contend_put_escaped

/* A line of the plot: a case at fixed values of the other parameters. */
struct line {
    char *label;
    double *tps, *p99; /* by value index of the first parameter */
};

struct lines {
    struct line *v;
    size_t n, nx;
};

static char *line_label(const json_t *sweep, const json_t *point, const json_t *c)
{
    size_t len = strlen(contend_js(c, "name")) + 1, i;
    json_t *p;
    json_array_foreach (json_object_get(sweep, "params"), i, p) {
        if (i == 0)
            continue;
        const char *k = contend_js(p, "key");
        len += strlen(k) + strlen(contend_js(json_object_get(point, "params"), k)) + 4;
    }
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    strcpy(s, contend_js(c, "name"));
    json_array_foreach (json_object_get(sweep, "params"), i, p) {
        if (i == 0)
            continue;
        const char *k = contend_js(p, "key");
        strcat(s, i == 1 ? ", " : " ");
        strcat(s, k);
        strcat(s, "=");
        strcat(s, contend_js(json_object_get(point, "params"), k));
    }
    return s;
}

static size_t x_index(const json_t *sweep, const json_t *point)
{
    const json_t *p0 = json_array_get(json_object_get(sweep, "params"), 0);
    const char *v = contend_js(json_object_get(point, "params"), contend_js(p0, "key"));
    size_t i;
    json_t *x;
    /* A sweep.json is input like any other: a value that is not a string
     * (edited or damaged by hand) matches nothing rather than crashing. */
    json_array_foreach (json_object_get(p0, "values"), i, x) {
        const char *s = json_string_value(x);
        if (s && strcmp(s, v) == 0)
            return i;
    }
    return SIZE_MAX;
}

static void build_lines(const json_t *sweep, struct lines *L)
{
    size_t i, j;
    json_t *pt, *c;
    L->nx = json_array_size(
        json_object_get(json_array_get(json_object_get(sweep, "params"), 0), "values"));
    json_array_foreach (json_object_get(sweep, "points"), i, pt) {
        json_array_foreach (json_object_get(pt, "cases"), j, c) {
            char *label = line_label(sweep, pt, c);
            size_t k = 0;
            if (!label)
                continue;
            while (k < L->n && strcmp(L->v[k].label, label) != 0)
                k++;
            if (k == L->n) {
                struct line *nv = realloc(L->v, (L->n + 1) * sizeof *nv);
                if (!nv) {
                    free(label);
                    continue;
                }
                L->v = nv;
                L->v[k] = (struct line){label, malloc(L->nx * sizeof(double)),
                                        malloc(L->nx * sizeof(double))};
                for (size_t x = 0; L->v[k].tps && L->v[k].p99 && x < L->nx; x++)
                    L->v[k].tps[x] = L->v[k].p99[x] = NAN;
                L->n++;
            } else {
                free(label);
            }
            size_t x = x_index(sweep, pt);
            if (L->v[k].tps && L->v[k].p99 && x < L->nx) {
                L->v[k].tps[x] = contend_jn(c, "throughput_tps");
                L->v[k].p99[x] = contend_jn(c, "p99_us");
            }
        }
    }
}

static void free_lines(struct lines *L)
{
    for (size_t i = 0; i < L->n; i++) {
        free(L->v[i].label);
        free(L->v[i].tps);
        free(L->v[i].p99);
    }
    free(L->v);
}

/* ---- the table ------------------------------------------------------------ */

#define MAXCOL 12

struct row {
    char cell[MAXCOL][96];
};

/* Rows grouped by case, in the order cases first appear. */
static size_t table(const json_t *sweep, struct row **rows_out, size_t *ncols)
{
    const json_t *params = json_object_get(sweep, "params");
    size_t np = json_array_size(params), nrows = 0, i, j, k;
    json_t *pt, *c, *p;
    size_t cols = 1 + (np < MAXCOL - 6 ? np : MAXCOL - 6) + 5;
    struct row *rows = NULL;
    json_t *names = json_array();

    json_array_foreach (json_object_get(sweep, "points"), i, pt) {
        json_array_foreach (json_object_get(pt, "cases"), j, c) {
            bool seen = false;
            json_t *n;
            json_array_foreach (names, k, n) {
                seen |= strcmp(json_string_value(n), contend_js(c, "name")) == 0;
            }
            if (!seen)
                json_array_append_new(names, json_string(contend_js(c, "name")));
        }
    }
    json_t *name;
    json_array_foreach (names, k, name) {
        double first = NAN;
        json_array_foreach (json_object_get(sweep, "points"), i, pt) {
            json_array_foreach (json_object_get(pt, "cases"), j, c) {
                if (strcmp(contend_js(c, "name"), json_string_value(name)) != 0)
                    continue;
                struct row *nr = realloc(rows, (nrows + 1) * sizeof *rows);
                if (!nr)
                    continue;
                rows = nr;
                struct row *r = &rows[nrows++];
                size_t col = 0;
                memset(r, 0, sizeof *r);
                snprintf(r->cell[col++], 96, "%s", contend_js(c, "name"));
                size_t pi;
                json_array_foreach (params, pi, p) {
                    if (col >= cols - 5)
                        break;
                    snprintf(r->cell[col++], 96, "%s",
                             contend_js(json_object_get(pt, "params"), contend_js(p, "key")));
                }
                double tps = contend_jn(c, "throughput_tps");
                if (isnan(first))
                    first = tps;
                contend_fmt_fig(r->cell[col++], 96, tps);
                if (first > 0 && !isnan(tps))
                    snprintf(r->cell[col++], 96, "%.2f", tps / first);
                else
                    snprintf(r->cell[col++], 96, "-");
                contend_fmt_us(r->cell[col++], 96, contend_jn(c, "p50_us"));
                contend_fmt_us(r->cell[col++], 96, contend_jn(c, "p99_us"));
                snprintf(r->cell[col++], 96, "%s", contend_js(c, "verdict"));
            }
        }
    }
    json_decref(names);
    *rows_out = rows;
    *ncols = cols;
    return nrows;
}

static void header(const json_t *sweep, struct row *h, size_t cols)
{
    const json_t *params = json_object_get(sweep, "params");
    size_t col = 0, i;
    json_t *p;
    memset(h, 0, sizeof *h);
    snprintf(h->cell[col++], 96, "case");
    json_array_foreach (params, i, p) {
        if (col >= cols - 5)
            break;
        snprintf(h->cell[col++], 96, "%s", contend_js(p, "key"));
    }
    static const char *const rest[] = {"tx/s", "x first", "p50", "p99", "verdict"};
    for (size_t k = 0; k < 5; k++)
        snprintf(h->cell[col++], 96, "%s", rest[k]);
}

/* Columns on a terminal: count characters, not bytes ("µs"). */
static int width_of(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void pad(FILE *out, const char *s, int width, bool right)
{
    int fill = width - width_of(s);
    if (right)
        fprintf(out, "%*s%s", fill > 0 ? fill : 0, "", s);
    else
        fprintf(out, "%s%*s", s, fill > 0 ? fill : 0, "");
}

void contend_sweep_text(const json_t *sweep, FILE *out)
{
    struct row *rows = NULL, head;
    size_t cols, n = table(sweep, &rows, &cols);
    int width[MAXCOL] = {0};
    header(sweep, &head, cols);
    for (size_t k = 0; k < cols; k++) {
        width[k] = width_of(head.cell[k]);
        for (size_t r = 0; r < n; r++)
            if (width_of(rows[r].cell[k]) > width[k])
                width[k] = width_of(rows[r].cell[k]);
    }
    fprintf(out, "sweep of %s over", contend_js(sweep, "scenario"));
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get(sweep, "params"), i, p) {
        fprintf(out, "%s %s", i ? "," : "", contend_js(p, "key"));
    }
    fputs(" (x first: tx/s relative to the case's first point)\n\n", out);
    for (size_t r = 0; r <= n; r++) {
        const struct row *row = r == 0 ? &head : &rows[r - 1];
        for (size_t k = 0; k < cols; k++) {
            bool num = k > 0 && k < cols - 1;
            if (k == cols - 1) {
                fprintf(out, "  %s", row->cell[k]);
            } else {
                fputs(k ? "  " : "", out);
                pad(out, row->cell[k], width[k], num);
            }
        }
        fputc('\n', out);
    }
    free(rows);
}

/* ---- the page ------------------------------------------------------------- */

enum what { TPS, SCALING, P99 };

/* tx/s goes on a log axis when the cases differ by more than 20 times: a
 * null target and a locked file on one linear axis leave the file at 0. */
static bool wide_range(const struct lines *L)
{
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < L->n; i++)
        for (size_t x = 0; x < L->nx; x++)
            if (L->v[i].tps[x] > 0) {
                lo = fmin(lo, L->v[i].tps[x]);
                hi = fmax(hi, L->v[i].tps[x]);
            }
    return hi > 20 * lo;
}

static void plot(FILE *out, const json_t *sweep, const struct lines *L, enum what what)
{
    const json_t *p0 = json_array_get(json_object_get(sweep, "params"), 0);
    const json_t *vals = json_object_get(p0, "values");
    double *xs = calloc(L->nx ? L->nx : 1, sizeof *xs);
    const char **tl = calloc(L->nx ? L->nx : 1, sizeof *tl);
    struct contend_plot_series *s = calloc(L->n ? L->n : 1, sizeof *s);
    double *rel = calloc((L->n ? L->n : 1) * (L->nx ? L->nx : 1), sizeof *rel);
    bool ylog = what == P99 || (what == TPS && wide_range(L));
    if (!xs || !tl || !s || !rel)
        goto out;
    for (size_t i = 0; i < L->nx; i++) {
        xs[i] = (double)i;
        tl[i] = json_string_value(json_array_get(vals, i));
    }
    for (size_t i = 0; i < L->n; i++) {
        const double *y = what == P99 ? L->v[i].p99 : L->v[i].tps;
        if (what == SCALING) {
            /* Relative to the line's first point that has a figure. */
            double first = NAN;
            for (size_t x = 0; x < L->nx; x++) {
                if (isnan(first) && L->v[i].tps[x] > 0)
                    first = L->v[i].tps[x];
                rel[i * L->nx + x] = L->v[i].tps[x] / first;
            }
            y = rel + i * L->nx;
        }
        s[i] = (struct contend_plot_series){L->v[i].label, xs, y, L->nx};
    }
    char title[160];
    snprintf(title, sizeof title, "%s against %s",
             what == P99       ? "p99 latency (log scale)"
             : what == SCALING ? "scaling: tx/s relative to the first point"
             : ylog            ? "throughput (log scale)"
                               : "throughput",
             contend_js(p0, "key"));
    struct contend_plot pl = {
        .title = title,
        .xlabel = contend_js(p0, "key"),
        .ylabel = what == P99       ? "p99 latency"
                  : what == SCALING ? "x first"
                                    : "tx/s",
        .ylog = ylog,
        .ytick_us = what == P99,
        .width = 540,
        .height = 300,
        .series = s,
        .nseries = L->n,
        .xticks = xs,
        .xtick_labels = tl,
        .nxticks = L->nx,
    };
    contend_svg_plot(out, &pl);
out:
    free(rel);
    free(s);
    free(tl);
    free(xs);
}

void contend_sweep_html(const json_t *sweep, FILE *out)
{
    struct lines L = {0};
    struct row *rows = NULL, head;
    size_t cols, n = table(sweep, &rows, &cols), i;
    json_t *p;

    build_lines(sweep, &L);
    header(sweep, &head, cols);
    contend_html_begin(out, "contend sweep: ", contend_js(sweep, "scenario"));
    fputs("<header>\n<h1>contend sweep: ", out);
    esc(out, contend_js(sweep, "scenario"));
    fputs(" over", out);
    json_array_foreach (json_object_get(sweep, "params"), i, p) {
        fputs(i ? ", " : " ", out);
        esc(out, contend_js(p, "key"));
    }
    fputs("</h1>\n<p class=\"muted\">", out);
    esc(out, contend_js(sweep, "scenario_path"));
    fputs(", started ", out);
    esc(out, contend_js(sweep, "started_at"));
    fputs(", ", out);
    contend_html_machine(out, json_object_get(sweep, "machine"));
    fputs("</p>\n</header>\n<main>\n<div class=\"plots\">\n", out);
    plot(out, sweep, &L, TPS);
    plot(out, sweep, &L, SCALING);
    plot(out, sweep, &L, P99);
    fputs("</div>\n<h2>Scaling table</h2>\n<table>\n<thead><tr>", out);
    for (size_t k = 0; k < cols; k++) {
        fputs("<th>", out);
        esc(out, head.cell[k]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t r = 0; r < n; r++) {
        fputs("<tr>", out);
        for (size_t k = 0; k < cols; k++) {
            fputs(k > 0 && k < cols - 1 ? "<td class=\"num\">" : "<td>", out);
            esc(out, rows[r].cell[k]);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n<p class=\"muted\">x first: tx/s relative to the case's first "
          "point. Each point's full report: <code>contend report POINT/run.json --html "
          "F</code>.</p>\n</main>\n<footer>Rendered from sweep.json by contend ",
          out);
    esc(out, contend_js(sweep, "version"));
    fputs(". Self-contained: no scripts, no network.</footer>\n</body>\n</html>\n", out);
    free(rows);
    free_lines(&L);
}
