/*
 * common.c - helpers shared by the renderers of run.json, and SVG plots.
 *
 * Everything a renderer takes from run.json is data, never markup: a case
 * name can be `<script>` and a violation message can hold quotes.  Every
 * such string goes through contend_put_escaped(), which is safe in HTML text,
 * in attribute values in double or single quotes, in SVG and in XML.  The
 * plots are plain SVG drawn from numbers; the only strings in them (title,
 * labels, legend) are escaped on the way out.  Nothing here needs a script
 * or a network: a report opened from disk shows everything.
 */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
#include "util.h"

const char *contend_js(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

double contend_jn(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

long long contend_ji(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v)
           : json_is_real(v)  ? (long long)json_real_value(v)
                              : 0;
}

double contend_jn2(const json_t *o, const char *a, const char *b)
{
    return contend_jn(json_object_get(o, a), b);
}

const char *contend_fmt_fig(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (a >= 100 || v == 0)
        snprintf(buf, len, "%.0f", v);
    else if (a >= 10)
        snprintf(buf, len, "%.1f", v);
    else if (a >= 1)
        snprintf(buf, len, "%.2f", v);
    else
        snprintf(buf, len, "%.3g", v);
    return buf;
}

const char *contend_fmt_us(char *buf, size_t len, double us)
{
    char n[32];
    if (isnan(us))
        snprintf(buf, len, "-");
    else if (us < 1)
        snprintf(buf, len, "%s ns", contend_fmt_fig(n, sizeof n, us * 1e3));
    else if (us < 1e3)
        snprintf(buf, len, "%s µs", contend_fmt_fig(n, sizeof n, us));
    else if (us < 1e6)
        snprintf(buf, len, "%s ms", contend_fmt_fig(n, sizeof n, us / 1e3));
    else
        snprintf(buf, len, "%s s", contend_fmt_fig(n, sizeof n, us / 1e6));
    return buf;
}

/* XML 1.0 allows neither C0 controls (but tab and newline) nor U+FFFE and
 * U+FFFF (EF BF BE / EF BF BF in UTF-8): a JUnit file holding one is not
 * XML, and CI drops the whole report.  They are written as U+FFFD. */
static void put_xml(FILE *out, const char *s, bool attr)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        /* An XML parser turns a raw newline in an attribute into a space. */
        case '\t': attr ? fputs("&#9;", out) : fputc(*p, out); break;
        case '\n': attr ? fputs("&#10;", out) : fputc(*p, out); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fputs("\xef\xbf\xbd", out);
            } else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
                fputs("\xef\xbf\xbd", out);
                p += 2;
            } else {
                fputc(*p, out);
            }
        }
    }
}

void contend_put_escaped(FILE *out, const char *s)
{
    put_xml(out, s, false);
}

void contend_put_attr(FILE *out, const char *s)
{
    put_xml(out, s, true);
}

void contend_putf(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

const char *contend_plot_color(size_t i)
{
    /* Distinguishable for the common colour-vision deficiencies (Okabe-Ito). */
    static const char *const colors[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                         "#e69f00", "#56b4e9", "#000000", "#f0e442"};
    return colors[i % (sizeof colors / sizeof colors[0])];
}

int contend_render_to(const char *path, void (*render)(const json_t *, FILE *), const json_t *doc)
{
    char *buf = NULL;
    size_t len = 0;
    if (strcmp(path, "-") == 0) {
        render(doc, stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
    }
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -errno;
    render(doc, f);
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    int rc = contend_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;"
    "padding:0 1em;color:#222;line-height:1.4}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}"
    "h3{margin-bottom:.3em}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.92em}"
    "th,td{border:1px solid #ccc;padding:.25em .55em;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".pass,.found{background:#e3f4e1}.fail,.error{background:#fbe0dc}.gate,.inconclusive{background:#fdf0d2}"
    ".badge{display:inline-block;padding:.1em .6em;border-radius:.8em;font-size:.8em;"
    "font-weight:bold;vertical-align:middle}"
    ".overall{font-size:1.2em;font-weight:bold;padding:.4em .8em;display:inline-block}"
    "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}"
    ".msg{white-space:pre-wrap}.muted{color:#666}.plots{display:flex;flex-wrap:wrap;gap:1em}"
    "dl.facts{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.5em 0}"
    "dl.facts dt{color:#555}dl.facts dd{margin:0}"
    "svg{max-width:100%;height:auto;border:1px solid #eee}"
    ".violation{border-left:4px solid #d55e00;padding-left:.8em;margin:1em 0}"
    "footer{margin-top:3em;color:#777;font-size:.85em}";

void contend_html_machine(FILE *out, const json_t *m)
{
    contend_put_escaped(out, contend_js(m, "hostname"));
    contend_putf(out, ", %lld CPUs, ", contend_ji(m, "cpus"));
    contend_put_escaped(out, contend_js(m, "cpu_model"));
    fputs(", ", out);
    contend_put_escaped(out, contend_js(m, "os"));
    fputs(" ", out);
    contend_put_escaped(out, contend_js(m, "kernel"));
}

void contend_html_begin(FILE *out, const char *title_prefix, const char *title)
{
    /* The policy forbids every script and every fetch: the page can neither
     * run code nor load anything, whatever a string in it might say. */
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n<title>",
          out);
    contend_put_escaped(out, title_prefix);
    contend_put_escaped(out, title);
    contend_putf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", html_style);
}

/* ---- plots -------------------------------------------------------------- */

struct axis {
    double lo, hi; /* in plot units (log10 of the value on a log axis) */
    bool log;
};

struct frame {
    double x0, y0, w, h; /* the plot area in pixels */
    struct axis ax, ay;
};

static double px(const struct frame *f, double x)
{
    return f->x0 + (x - f->ax.lo) / (f->ax.hi - f->ax.lo) * f->w;
}

static double py(const struct frame *f, double y)
{
    double v = f->ay.log ? log10(y) : y;
    return f->y0 + f->h - (v - f->ay.lo) / (f->ay.hi - f->ay.lo) * f->h;
}

static bool usable(const struct axis *a, double v)
{
    return isfinite(v) && (!a->log || v > 0);
}

/* A step of 1, 2 or 5 times a power of ten giving about `n` ticks. */
static double nice_step(double span, int n)
{
    double raw = span / n;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Tick labels are round numbers: "10M", "2.5k", "100 µs", "1 ms". */
static void fmt_tick(char *buf, size_t len, double v, bool us)
{
    double a = fabs(v);
    if (us) {
        if (a < 1)
            snprintf(buf, len, "%.4g ns", v * 1e3);
        else if (a < 1e3)
            snprintf(buf, len, "%.4g µs", v);
        else if (a < 1e6)
            snprintf(buf, len, "%.4g ms", v / 1e3);
        else
            snprintf(buf, len, "%.4g s", v / 1e6);
    } else if (a >= 1e9) {
        snprintf(buf, len, "%.4gG", v / 1e9);
    } else if (a >= 1e6) {
        snprintf(buf, len, "%.4gM", v / 1e6);
    } else if (a >= 1e4) {
        snprintf(buf, len, "%.4gk", v / 1e3);
    } else {
        snprintf(buf, len, "%.4g", v);
    }
}

static void data_range(const struct contend_plot *p, bool xaxis, bool log, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t s = 0; s < p->nseries; s++) {
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            double v = xaxis ? x : y;
            if (!isfinite(x) || !isfinite(y) || (log && v <= 0))
                continue;
            if (log)
                v = log10(v);
            *lo = v < *lo ? v : *lo;
            *hi = v > *hi ? v : *hi;
        }
    }
    if (xaxis) {
        for (size_t b = 0; b < p->nbands; b++) {
            *lo = p->bands[b].x0 < *lo ? p->bands[b].x0 : *lo;
            *hi = p->bands[b].x1 > *hi ? p->bands[b].x1 : *hi;
        }
        for (size_t t = 0; t < p->nxticks; t++) {
            *lo = p->xticks[t] < *lo ? p->xticks[t] : *lo;
            *hi = p->xticks[t] > *hi ? p->xticks[t] : *hi;
        }
    }
}

static void make_axes(const struct contend_plot *p, struct frame *f)
{
    double lo, hi;
    data_range(p, true, false, &lo, &hi);
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (p->x_from_zero && lo > 0)
        lo = 0;
    if (hi - lo < 1e-12) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.5 : 1;
        lo -= d;
        hi += d;
    }
    f->ax = (struct axis){lo, hi, false};

    data_range(p, false, p->ylog, &lo, &hi);
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (p->ylog) {
        lo = floor(lo);
        hi = ceil(hi);
        if (hi - lo < 1)
            hi = lo + 1;
    } else {
        /* Throughput and latency are positive: start at 0 to show ratios honestly. */
        lo = lo > 0 ? 0 : lo;
        if (hi - lo < 1e-12)
            hi = lo + 1;
        double step = nice_step(hi - lo, 5);
        hi = ceil(hi / step) * step;
    }
    f->ay = (struct axis){lo, hi, p->ylog};
}

static void text(FILE *out, double x, double y, const char *anchor, const char *extra,
                 const char *s)
{
    contend_putf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor,
                 extra ? extra : "");
    contend_put_escaped(out, s);
    fputs("</text>\n", out);
}

static void y_ticks(FILE *out, const struct contend_plot *p, const struct frame *f)
{
    char label[48];
    if (f->ay.log) {
        for (double e = f->ay.lo; e <= f->ay.hi + 1e-9; e += 1) {
            double v = pow(10, e), y = py(f, v);
            contend_putf(out,
                         "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                         "stroke=\"#ddd\"/>\n",
                         f->x0, f->x0 + f->w, y, y);
            fmt_tick(label, sizeof label, v, p->ytick_us);
            text(out, f->x0 - 6, y + 4, "end", NULL, label);
        }
        return;
    }
    double step = nice_step(f->ay.hi - f->ay.lo, 5);
    for (double v = ceil(f->ay.lo / step) * step; v <= f->ay.hi + step * 1e-9; v += step) {
        double y = py(f, v);
        contend_putf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#ddd\"/>\n",
                     f->x0, f->x0 + f->w, y, y);
        fmt_tick(label, sizeof label, fabs(v) < step * 1e-9 ? 0 : v, p->ytick_us);
        text(out, f->x0 - 6, y + 4, "end", NULL, label);
    }
}

static void x_ticks(FILE *out, const struct contend_plot *p, const struct frame *f)
{
    char label[48];
    double base = f->y0 + f->h;
    if (p->nxticks) {
        for (size_t i = 0; i < p->nxticks; i++) {
            double x = px(f, p->xticks[i]);
            contend_putf(out,
                         "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                         "stroke=\"#ddd\"/>\n",
                         x, x, f->y0, base);
            text(out, x, base + 16, "middle", NULL, p->xtick_labels[i]);
        }
        return;
    }
    double step = nice_step(f->ax.hi - f->ax.lo, 6);
    for (double v = ceil(f->ax.lo / step) * step; v <= f->ax.hi + step * 1e-9; v += step) {
        double x = px(f, v);
        contend_putf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#ddd\"/>\n",
                     x, x, f->y0, base);
        fmt_tick(label, sizeof label, fabs(v) < step * 1e-9 ? 0 : v, false);
        text(out, x, base + 16, "middle", NULL, label);
    }
}

static void bands(FILE *out, const struct contend_plot *p, const struct frame *f)
{
    for (size_t b = 0; b < p->nbands; b++) {
        const struct contend_plot_band *bd = &p->bands[b];
        double a = px(f, bd->x0), z = px(f, bd->x1);
        fputs("<g class=\"band\">", out);
        if (z - a < 1.5)
            contend_putf(out,
                         "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                         "stroke=\"#d55e00\" stroke-width=\"1.5\" "
                         "stroke-dasharray=\"4 3\">",
                         a, a, f->y0, f->y0 + f->h);
        else
            contend_putf(out,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                         "fill=\"#e69f00\" fill-opacity=\"0.25\">",
                         a, f->y0, z - a, f->h);
        fputs("<title>", out);
        contend_put_escaped(out, bd->label);
        fputs(z - a < 1.5 ? "</title></line>" : "</title></rect>", out);
        fputs("</g>\n", out);
    }
}

/*
 * The bands' labels.  A run with faults can have dozens of events within a
 * few pixels of each other (a kill every 50 ops), and labels written at
 * their band's x overlap into an unreadable smear.  So each label takes the
 * first of BAND_ROWS text rows where it does not touch the label before it
 * (greedy, in x order, widths estimated from the character count: SVG has
 * no text metrics before layout), written left of its band where it would
 * leave the plot; a label that finds no free row is not written, and a last line says
 * how many were left out.  Every band keeps its full label as a tooltip.
 */
#define BAND_ROWS 4
#define BAND_LABEL_CHARS 44 /* longer labels end in "..." */
#define BAND_CHAR_PX 6.0    /* font-size 10 sans-serif, a generous average advance */

struct band_at {
    double x, w; /* where its label starts, and its estimated width */
    size_t i;
};

static int by_x(const void *a, const void *b)
{
    const struct band_at *l = a, *r = b;
    return l->x < r->x ? -1 : l->x > r->x ? 1 : l->i < r->i ? -1 : l->i > r->i;
}

/* Copies at most BAND_LABEL_CHARS characters of s (UTF-8: a character is
 * never cut in two); returns the number of characters written. */
static size_t short_label(char *dst, size_t cap, const char *s)
{
    size_t n = 0, chars = 0;
    while (s[n] && chars < BAND_LABEL_CHARS && n + 8 < cap) {
        n++;
        while ((s[n] & 0xC0) == 0x80 && n + 8 < cap)
            n++;
        chars++;
    }
    memcpy(dst, s, n);
    if (s[n]) {
        memcpy(dst + n, "...", 3);
        n += 3;
        chars += 3;
    }
    dst[n] = '\0';
    return chars;
}

static void band_labels(FILE *out, const struct contend_plot *p, const struct frame *f)
{
    const char *style = " font-size=\"10\" fill=\"#8a3b00\"";
    struct band_at *order = p->nbands ? malloc(p->nbands * sizeof *order) : NULL;
    double row_end[BAND_ROWS];
    size_t hidden = 0;
    char label[4 * BAND_LABEL_CHARS + 16];

    if (!order)
        return; /* nothing to label, or no memory: the tooltips still say it all */
    for (size_t b = 0; b < p->nbands; b++) {
        double a = px(f, p->bands[b].x0);
        double w = BAND_CHAR_PX * (double)short_label(label, sizeof label, p->bands[b].label);
        /* Right of the band, or left of it where the plot ends. */
        double x = a + 3 + w <= f->x0 + f->w ? a + 3 : fmax(a - 3 - w, f->x0 + 2);
        order[b] = (struct band_at){.x = x, .w = w, .i = b};
    }
    qsort(order, p->nbands, sizeof *order, by_x);
    for (int r = 0; r < BAND_ROWS; r++)
        row_end[r] = -INFINITY;
    for (size_t k = 0; k < p->nbands; k++) {
        int r = 0;
        while (r < BAND_ROWS && row_end[r] + 6 > order[k].x)
            r++;
        if (r == BAND_ROWS) {
            hidden++;
            continue;
        }
        row_end[r] = order[k].x + order[k].w;
        short_label(label, sizeof label, p->bands[order[k].i].label);
        text(out, order[k].x, f->y0 + 12 + 11.0 * r, "start", style, label);
    }
    if (hidden) {
        snprintf(label, sizeof label, "+%zu more (hover the bands)", hidden);
        text(out, f->x0 + f->w - 2, f->y0 + 12 + 11.0 * BAND_ROWS, "end", style, label);
    }
    free(order);
}

static void series(FILE *out, const struct contend_plot *p, const struct frame *f, size_t s)
{
    const struct contend_plot_series *se = &p->series[s];
    const char *color = contend_plot_color(s);
    bool pen = false;
    char xv[48], yv[48];

    contend_putf(out,
                 "<g class=\"series\"><path fill=\"none\" stroke=\"%s\" "
                 "stroke-width=\"2\" d=\"",
                 color);
    for (size_t i = 0; i < se->n; i++) {
        if (!usable(&f->ax, se->x[i]) || !usable(&f->ay, se->y[i])) {
            pen = false;
            continue;
        }
        contend_putf(out, "%s%.1f %.1f ", pen ? "L" : "M", px(f, se->x[i]), py(f, se->y[i]));
        pen = true;
    }
    fputs("\"/>\n", out);
    /* Markers when there are few points: one point is no line. */
    for (size_t i = 0; se->n <= 40 && i < se->n; i++) {
        if (!usable(&f->ax, se->x[i]) || !usable(&f->ay, se->y[i]))
            continue;
        contend_putf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
                     px(f, se->x[i]), py(f, se->y[i]), color);
        contend_put_escaped(out, se->label);
        fmt_tick(xv, sizeof xv, se->x[i], false);
        for (size_t t = 0; t < p->nxticks; t++)
            if (p->xticks[t] == se->x[i])
                snprintf(xv, sizeof xv, "%s", p->xtick_labels[t]);
        fmt_tick(yv, sizeof yv, se->y[i], p->ytick_us);
        fputs(": ", out);
        contend_put_escaped(out, xv);
        fputs(", ", out);
        contend_put_escaped(out, yv);
        fputs("</title></circle>\n", out);
    }
    fputs("</g>\n", out);
}

void contend_svg_plot(FILE *out, const struct contend_plot *p)
{
    const double left = 72, right = 16, top = 30, bottom = 48, legend_line = 16;
    int width = p->width ? p->width : 560, height = p->height ? p->height : 260;
    size_t nlegend = p->nseries > 1 ? p->nseries : 0;
    double total_h = height + legend_line * (double)nlegend;
    struct frame f = {.x0 = left, .y0 = top, .w = width - left - right, .h = height - top - bottom};

    make_axes(p, &f);
    contend_putf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" role=\"img\" "
                 "width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
                 "font-family=\"sans-serif\" font-size=\"11\">\n<title>",
                 width, total_h, width, total_h);
    contend_put_escaped(out, p->title);
    fputs("</title>\n", out);
    contend_putf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" fill=\"#fff\"/>\n", width,
                 total_h);
    text(out, left, 16, "start", " font-size=\"13\" font-weight=\"bold\"", p->title);
    y_ticks(out, p, &f);
    x_ticks(out, p, &f);
    bands(out, p, &f);
    contend_putf(out,
                 "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                 "fill=\"none\" stroke=\"#888\"/>\n",
                 f.x0, f.y0, f.w, f.h);
    for (size_t s = 0; s < p->nseries; s++)
        series(out, p, &f, s);
    band_labels(out, p, &f);
    text(out, f.x0 + f.w / 2, f.y0 + f.h + 36, "middle", NULL, p->xlabel);
    char rot[96];
    snprintf(rot, sizeof rot, " transform=\"rotate(-90 14 %.1f)\"", f.y0 + f.h / 2);
    text(out, 14, f.y0 + f.h / 2, "middle", rot, p->ylabel);
    for (size_t s = 0; s < nlegend; s++) {
        double y = height + legend_line * (double)s;
        contend_putf(out,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" "
                     "fill=\"%s\"/>\n",
                     left, y - 6, contend_plot_color(s));
        text(out, left + 20, y, "start", NULL, p->series[s].label);
    }
    fputs("</svg>\n", out);
}

/* Faults injected into a case, over all its repetitions, by kind: "kill 2,
 * pause 1, powercut 1, io 5"; "-" when none.  The kinds are the events'
 * own (faults.c and the time extension name them). */
const char *contend_fmt_fault_counts(char *buf, size_t len, const struct contend_case_result *r)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->nfaults && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s %llu", i ? ", " : "",
                                 r->faults[i].kind, (unsigned long long)r->faults[i].count);
    if (!r->nfaults)
        snprintf(buf, len, "-");
    return buf;
}

const char *contend_fmt_faults(char *buf, size_t len, const json_t *c)
{
    struct contend_case_result r;
    contend_case_result_read(c, &r);
    contend_fmt_fault_counts(buf, len, &r);
    contend_case_result_free(&r);
    return buf;
}
