/*
 * compare.c - is NEW slower than BASE, or is that noise?
 *
 * On a shared CI runner two runs of the same build differ by several
 * percent, and a comparison of two medians raises false alarms.  So every
 * figure (tx/s, p50, p99) of every case is judged on the repetitions of
 * both runs (run.json "runs"), twice:
 *
 *   - practical: is the change of the medians beyond the noise threshold
 *     (--max-slowdown, default 5 %)?
 *   - statistical: would a difference this consistent arise by chance?  A
 *     Mann-Whitney U test (rank-based: no assumption of normal figures, and
 *     one outlier repetition cannot decide it), two-sided, at alpha 0.05.
 *
 * A figure is `slower` (or `faster`) only when both say so; `no change` when
 * the change is within the threshold; `noisy — re-run` when it is beyond the
 * threshold but not significant.  Significance holds for the comparison as a
 * whole: alpha is the family-wise error rate over all figures of all cases
 * (Holm's correction, see decide()).  With fewer than 9 repetitions on a side
 * the result is flagged unreliable: with 3 against 3 the smallest possible
 * p-value is 0.1, so nothing can ever be significant, and with 5 against 5
 * only complete separation is.  A case regressed when any figure is slower;
 * then the command exits 3.
 *
 * The p-value is exact for up to CONTEND_MWU_EXACT_MAX values in all: the
 * distribution of the rank sum over every way of splitting the pooled,
 * mid-ranked values into the two samples (with no ties this is the
 * classical U distribution; with ties it is the exact conditional one),
 * counted by dynamic programming over doubled ranks, which are integers.
 * Above that, the normal approximation with tie and continuity correction.
 *
 * Cases and their repetitions are read from run.json through
 * contend_case_result_read and contend_run_result_read (caseresult.h).
 */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caseresult.h"
#include "stats.h"
#include "util.h"
#include "common.h"
#include "report.h"

#define RELIABLE_RUNS 9
#define NOISY "noisy — re-run"

/* ---- the test ------------------------------------------------------------ */

struct ranked {
    double v;
    size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
    return (x > y) - (x < y);
}

/* Doubled mid-ranks of the pooled sample (integers), and sum(t^3 - t) over
 * the groups of ties. */
static long *doubled_ranks(const double *x, size_t nx, const double *y, size_t ny, double *ties)
{
    size_t n = nx + ny;
    struct ranked *s = contend_calloc(n, sizeof *s);
    long *r2 = contend_calloc(n, sizeof *r2);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct ranked){i < nx ? x[i] : y[i - nx], i};
    qsort(s, n, sizeof *s, cmp_ranked);
    *ties = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b + 1 < n && s[b + 1].v == s[a].v)
            b++;
        /* Ranks a+1 .. b+1 share their mean; doubled: a + b + 2. */
        for (size_t k = a; k <= b; k++)
            r2[s[k].i] = (long)(a + b + 2);
        double t = (double)(b - a + 1);
        *ties += t * t * t - t;
        a = b + 1;
    }
    free(s);
    return r2;
}

static bool all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

int contend_mwu_normal(const double *x, size_t nx, const double *y, size_t ny,
                       struct contend_mwu *out)
{
    double ties;
    if (!nx || !ny || !all_finite(x, nx) || !all_finite(y, ny))
        return -EINVAL;
    long *r2 = doubled_ranks(x, nx, y, ny, &ties);
    double r1 = 0, n1 = (double)nx, n2 = (double)ny, n = n1 + n2;
    for (size_t i = 0; i < nx; i++)
        r1 += (double)r2[i] / 2;
    free(r2);
    out->u = r1 - n1 * (n1 + 1) / 2;
    out->exact = false;
    double var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)));
    if (var <= 0) {
        out->p = 1; /* every value equal: no evidence of any difference */
        return 0;
    }
    double z = (fabs(out->u - n1 * n2 / 2) - 0.5) / sqrt(var);
    out->p = z <= 0 ? 1 : fmin(1, erfc(z / sqrt(2)));
    return 0;
}

int contend_mwu(const double *x, size_t nx, const double *y, size_t ny, struct contend_mwu *out)
{
    double ties;
    if (!nx || !ny || !all_finite(x, nx) || !all_finite(y, ny))
        return -EINVAL;
    size_t n = nx + ny;
    if (n > CONTEND_MWU_EXACT_MAX)
        return contend_mwu_normal(x, nx, y, ny, out);

    long *r2 = doubled_ranks(x, nx, y, ny, &ties);
    long w2 = 0, smax = 0;
    for (size_t i = 0; i < n; i++) {
        smax += r2[i];
        if (i < nx)
            w2 += r2[i];
    }
    /* cnt[k][s]: ways to pick k of the values seen so far with doubled rank
     * sum s.  Doubles: C(60, 30) is 1.2e17, beyond 2^53 only by rounding. */
    size_t width = (size_t)smax + 1;
    double *cnt = contend_calloc((nx + 1) * width, sizeof *cnt);
    cnt[0] = 1;
    for (size_t j = 0; j < n; j++) {
        size_t top = j + 1 < nx ? j + 1 : nx;
        for (size_t k = top; k >= 1; k--) {
            double *to = cnt + k * width, *from = cnt + (k - 1) * width;
            for (long s = smax; s >= r2[j]; s--)
                to[s] += from[s - r2[j]];
        }
    }
    const double *last = cnt + nx * width;
    double total = 0, le = 0, ge = 0;
    for (long s = 0; s <= smax; s++) {
        total += last[s];
        if (s <= w2)
            le += last[s];
        if (s >= w2)
            ge += last[s];
    }
    out->u = (double)w2 / 2 - (double)nx * ((double)nx + 1) / 2;
    out->p = fmin(1, 2 * fmin(le, ge) / total);
    out->exact = true;
    free(cnt);
    free(r2);
    return 0;
}

/* ---- comparing two runs -------------------------------------------------- */

static const struct figure {
    const char *name, *label;
    enum contend_fig fig;
    bool higher_better, latency;
} figures[] = {
    {.name = "throughput_tps", .label = "tx/s", .fig = CONTEND_FIG_TPS, .higher_better = true},
    {.name = "p50_us", .label = "p50", .fig = CONTEND_FIG_P50, .latency = true},
    {.name = "p99_us", .label = "p99", .fig = CONTEND_FIG_P99, .latency = true},
};
#define NFIG (sizeof figures / sizeof figures[0])

/* The figure of every repetition that ran (a harness error has none), and
 * beside it the repetition's machine probe (the mean of before and after),
 * NAN where the run.json has none. */
static size_t values(const struct contend_case_result *c, const struct figure *f, double **out,
                     double **cpu, double **fsync)
{
    size_t n = 0, i, cap = json_array_size(c->runs) + 1;
    json_t *r;
    *out = contend_calloc(cap, sizeof **out);
    *cpu = contend_calloc(cap, sizeof **cpu);
    *fsync = contend_calloc(cap, sizeof **fsync);
    json_array_foreach (c->runs, i, r) {
        struct contend_run_result rr;
        contend_run_result_read(r, &rr);
        if (rr.verdict == CONTEND_VERDICT_ERROR)
            continue;
        double v = rr.fig[f->fig];
        if (!isfinite(v))
            continue;
        (*cpu)[n] = (rr.probe_cpu[0] + rr.probe_cpu[1]) / 2;
        (*fsync)[n] = (rr.probe_fsync[0] + rr.probe_fsync[1]) / 2;
        if (!((*cpu)[n] > 0))
            (*cpu)[n] = NAN;
        if (!((*fsync)[n] > 0))
            (*fsync)[n] = NAN;
        (*out)[n++] = v;
    }
    return n;
}

/* The cases of a run.json, read; free with free_cases(). */
static struct contend_case_result *read_cases(const json_t *run, size_t *n)
{
    const json_t *cases = json_object_get(run, "cases");
    *n = json_array_size(cases);
    struct contend_case_result *r = contend_calloc(*n ? *n : 1, sizeof *r);
    for (size_t i = 0; i < *n; i++)
        contend_case_result_read(json_array_get(cases, i), &r[i]);
    return r;
}

static void free_cases(struct contend_case_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        contend_case_result_free(&r[i]);
    free(r);
}

static const char *case_name(const struct contend_case_result *c)
{
    return c->name ? c->name : "";
}

static const struct contend_case_result *find_case(const struct contend_case_result *r, size_t n,
                                                   const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(case_name(&r[i]), name) == 0)
            return &r[i];
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the finite values among v[0..n) (linear interpolation),
 * NAN when there are none. */
static double quantile(const double *v, size_t n, double q)
{
    double *s = contend_calloc(n + 1, sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[k++] = v[i];
    double out = NAN;
    if (k) {
        qsort(s, k, sizeof *s, cmp_double);
        double pos = q * (double)(k - 1);
        size_t lo = (size_t)pos;
        out = lo + 1 < k ? s[lo] + (pos - (double)lo) * (s[lo + 1] - s[lo]) : s[lo];
    }
    free(s);
    return out;
}

/* The noise of one side: its interquartile range as a percentage of its
 * median.  Robust: one disturbed repetition of nine moves it little. */
static double spread_pct(const double *v, size_t n)
{
    double m = quantile(v, n, 0.5);
    if (!(m != 0) || n < 2)
        return NAN;
    return (quantile(v, n, 0.75) - quantile(v, n, 0.25)) / fabs(m) * 100;
}

static void set_num(json_t *j, const char *key, double v)
{
    json_object_set_new(j, key, isfinite(v) ? json_real(round(v * 100) / 100) : json_null());
}

/*
 * The change with the machine taken out.  How much a figure follows the
 * machine differs from figure to figure (a throughput drops with a busy
 * CPU, a median of a busy wait does not), so it is estimated from the
 * repetitions themselves: least squares over both sides' repetitions of
 *
 *     log(figure) = a + beta * side + g_cpu * log(cpu probe) + g_fsync * log(fsync probe)
 *
 * and exp(beta) - 1 is the change at equal machine speed.  A probe missing
 * from the runs, or one that does not vary, drops out of the model; a
 * sensitivity of the wrong sign (a faster machine making a figure worse) or
 * beyond 1.5 is not believed and that probe drops out too.  Returns the
 * corrected change in percent (NAN when nothing could be fitted) and the
 * sensitivities in g[2] (0 for a probe not used).
 */
#define MAXP 4

static bool solve(double m[MAXP][MAXP + 1], int k, double *x)
{
    for (int c = 0; c < k; c++) {
        int piv = c;
        for (int r = c + 1; r < k; r++)
            if (fabs(m[r][c]) > fabs(m[piv][c]))
                piv = r;
        if (fabs(m[piv][c]) < 1e-12)
            return false;
        for (int j = 0; j <= k; j++) {
            double t = m[c][j];
            m[c][j] = m[piv][j];
            m[piv][j] = t;
        }
        for (int r = 0; r < k; r++) {
            if (r == c)
                continue;
            double f = m[r][c] / m[c][c];
            for (int j = c; j <= k; j++)
                m[r][j] -= f * m[c][j];
        }
    }
    for (int c = 0; c < k; c++)
        x[c] = m[c][k] / m[c][c];
    return true;
}

static double fit(const struct figure *f, const double *v[2], const size_t n[2],
                  const double *pr[2][2], bool use[2], double g[2])
{
    double m[MAXP][MAXP + 1] = {{0}}, x[MAXP];
    int k = 2 + use[0] + use[1];
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < n[s]; i++) {
            double row[MAXP];
            int c = 0;
            row[c++] = 1;
            row[c++] = s;
            for (int p = 0; p < 2; p++)
                if (use[p])
                    row[c++] = log(pr[s][p][i]);
            double y = log(v[s][i]);
            for (int r = 0; r < k; r++) {
                for (int j = 0; j < k; j++)
                    m[r][j] += row[r] * row[j];
                m[r][k] += row[r] * y;
            }
        }
    }
    g[0] = g[1] = 0;
    if (!solve(m, k, x))
        return NAN;
    for (int p = 0, c = 2; p < 2; p++) {
        if (!use[p])
            continue;
        g[p] = x[c++];
        /* A faster machine must not make the figure worse. */
        bool plausible = f->higher_better ? g[p] >= 0 && g[p] <= 1.5 : g[p] <= 0 && g[p] >= -1.5;
        if (!plausible) {
            use[p] = false;
            return fit(f, v, n, pr, use, g);
        }
    }
    return (exp(x[1]) - 1) * 100;
}

static double corrected_change(const struct figure *f, const double *v[2], const size_t n[2],
                               const double *pr[2][2], double g[2])
{
    bool use[2] = {true, true};
    g[0] = g[1] = 0;
    if (n[0] + n[1] < 6)
        return NAN;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < n[s]; i++) {
            if (!(v[s][i] > 0))
                return NAN;
            for (int p = 0; p < 2; p++)
                use[p] &= pr[s][p][i] > 0;
        }
    return fit(f, v, n, pr, use, g);
}

/* The median drift of one probe from base to new, in percent. */
static double drift(const double *pb, size_t nb, const double *pn, size_t nn)
{
    double qb = quantile(pb, nb, 0.5), qn = quantile(pn, nn, 0.5);
    return qb > 0 && qn > 0 ? (qn / qb - 1) * 100 : NAN;
}

/*
 * When the fit cannot tell the machine from the code: two runs measured at
 * different times, the load shifted between them, the probe saw it, but the
 * repetitions within each run vary too little with the probe to estimate how
 * much of the change it explains.  A figure that visibly follows the load
 * (its spread beyond the floor) and changed in the direction the machine
 * moved, by no more than twice the machine's move, cannot be called slower
 * or faster from these runs.  A figure that does not move with the load
 * (the median of a busy wait: no spread) is still judged.
 */
static bool machine_moved(double change, bool higher_better, double drift_cpu, double drift_fsync,
                          double effect, double spread, double floor_pct, int *which)
{
    const double d[2] = {drift_cpu, drift_fsync};
    if (!(spread > floor_pct))
        return false;
    /* The figure got better when it rose (tx/s) or fell (latency). */
    bool figure_better = higher_better ? change > 0 : change < 0;
    for (int k = 0; k < 2; k++) {
        if (!isfinite(d[k]) || fabs(d[k]) <= floor_pct)
            continue;
        bool machine_faster = d[k] > 0;
        if (machine_faster == figure_better && effect <= 2 * fabs(d[k])) {
            *which = k;
            return true;
        }
    }
    return false;
}

/*
 * One figure of one case.  The evidence is the repetitions: each is one
 * independent measurement (the 100 ms intervals of one run are not: they
 * share the run's warm-up, its neighbours on the machine, its file system
 * state).  A figure is called `slower` (or `faster`) only when all hold:
 *
 *   1. the change of the medians is beyond the floor (--max-slowdown);
 *   2. it stays beyond the floor when the machine's drift, as the probes
 *      measured it, is taken out (corrected_change): a machine that got
 *      slower between the two runs is not a regression;
 *   3. it is larger than the noise of the runs themselves: the sum of both
 *      sides' spreads (interquartile ranges, in percent of their medians).
 *      On a shared machine the load shifts over seconds, so two runs a few
 *      seconds apart can differ far more than the repetitions within each
 *      run do; a shift of that kind shows as a wide spread on at least one
 *      side, and then only a change wider than both boxes together counts;
 *   4. it is significant across repetitions (Mann-Whitney U, Holm-adjusted
 *      over the whole comparison: decide()).
 *
 * Failing 1 or 2 it is `no change`; failing 3 or 4, or when the machine
 * moved between the runs in a way the fit could not take out
 * (machine_moved), it is `noisy — re-run`.
 * "why" says which rule decided.
 */
static json_t *compare_figure(const struct figure *f, const struct contend_case_result *cb,
                              const struct contend_case_result *cn,
                              const struct contend_compare_opts *o, size_t *nb_out, size_t *nn_out)
{
    double *b, *n, *bc, *bf, *nc, *nf;
    size_t nb = values(cb, f, &b, &bc, &bf), nn = values(cn, f, &n, &nc, &nf);
    double mb = nb ? contend_median(b, nb) : NAN, mn = nn ? contend_median(n, nn) : NAN;
    double change = mb != 0 ? (mn - mb) / mb * 100 : (mn == mb ? 0 : NAN);
    double worse = f->higher_better ? -change : change;
    double sb = spread_pct(b, nb), sn = spread_pct(n, nn);
    double drift_cpu = drift(bc, nb, nc, nn), drift_fsync = drift(bf, nb, nf, nn), g[2];
    const double *vv[2] = {b, n}, *pr[2][2] = {{bc, bf}, {nc, nf}};
    const size_t nv[2] = {nb, nn};
    double corr = corrected_change(f, vv, nv, pr, g);
    struct contend_mwu t = {NAN, NAN, false};
    const char *verdict, *why = NULL;
    char whybuf[240];
    int moved_by = 0;

    /* The effect: the smallest change in the direction of the raw one among
     * the raw and the drift-corrected changes; 0 when a correction turns it
     * round. */
    double effect = fabs(change);
    if (isfinite(corr) && isfinite(change))
        effect = fmin(effect, (change < 0) == (corr < 0) ? fabs(corr) : 0);
    double noise = (isfinite(sb) ? sb : 0) + (isfinite(sn) ? sn : 0);

    *nb_out = nb;
    *nn_out = nn;
    if (nb < 2 || nn < 2) {
        verdict = "not compared";
    } else {
        contend_mwu(b, nb, n, nn, &t);
        if (isnan(change)) {
            verdict = NOISY;
            why = "no figure to compare";
        } else if (fabs(change) <= o->max_slowdown_pct) {
            verdict = "no change";
            snprintf(whybuf, sizeof whybuf, "within the floor of %g %%", o->max_slowdown_pct);
            why = whybuf;
        } else if (effect <= o->max_slowdown_pct) {
            verdict = "no change";
            snprintf(whybuf, sizeof whybuf,
                     "the machine moved (probe cpu %+.1f %%, fsync %+.1f %%); at equal "
                     "machine speed the change is %+.1f %%, within %g %%",
                     drift_cpu, drift_fsync, corr, o->max_slowdown_pct);
            why = whybuf;
        } else if (machine_moved(change, f->higher_better, drift_cpu, drift_fsync, effect,
                                 fmax(isfinite(sb) ? sb : 0, isfinite(sn) ? sn : 0),
                                 o->max_slowdown_pct, &moved_by)) {
            verdict = NOISY;
            snprintf(whybuf, sizeof whybuf,
                     "the machine moved between the runs (%s probe %+.1f %%) and this figure "
                     "follows the load (spread up to %.1f %%): re-run, or measure with "
                     "contend ab",
                     moved_by == 0 ? "cpu" : "fsync", moved_by == 0 ? drift_cpu : drift_fsync,
                     fmax(isfinite(sb) ? sb : 0, isfinite(sn) ? sn : 0));
            why = whybuf;
        } else if (effect <= noise) {
            verdict = NOISY;
            snprintf(whybuf, sizeof whybuf,
                     "change %.1f %% is within the spread of the runs (IQR base %.1f %% + "
                     "new %.1f %%)",
                     effect, sb, sn);
            why = whybuf;
        } else {
            verdict = worse > 0 ? "slower" : "faster"; /* if significant: see decide() */
        }
    }
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:i, s:i}", "figure", f->name, "label", f->label, "better",
                  f->higher_better ? "higher" : "lower", "runs_base", (int)nb, "runs_new", (int)nn);
    json_object_set_new(j, "base_median", isnan(mb) ? json_null() : json_real(mb));
    json_object_set_new(j, "new_median", isnan(mn) ? json_null() : json_real(mn));
    set_num(j, "change_pct", change);
    set_num(j, "spread_base_pct", sb);
    set_num(j, "spread_new_pct", sn);
    set_num(j, "corrected_change_pct", corr);
    set_num(j, "sensitivity_cpu", g[0]);
    set_num(j, "sensitivity_fsync", g[1]);
    set_num(j, "effect_pct", isfinite(change) ? effect : NAN);
    json_object_set_new(j, "u", isnan(t.u) ? json_null() : json_real(t.u));
    json_object_set_new(j, "p_value", isnan(t.p) ? json_null() : json_real(t.p));
    json_object_set_new(j, "method",
                        json_string(isnan(t.p) ? "none"
                                    : t.exact  ? "exact"
                                               : "normal"));
    json_object_set_new(j, "verdict", json_string(verdict));
    if (why)
        json_object_set_new(j, "why", json_string(why));
    free(b);
    free(n);
    free(bc);
    free(bf);
    free(nc);
    free(nf);
    return j;
}

/* The machine probe of both sides of a case: medians over the repetitions,
 * and the drift from base to new in percent (null where a side has none). */
static json_t *probe_drift(const struct contend_case_result *cb,
                           const struct contend_case_result *cn)
{
    static const struct figure any = {.name = "throughput_tps", .fig = CONTEND_FIG_TPS};
    double *vb, *vn, *pb[2], *pn[2];
    size_t nb = values(cb, &any, &vb, &pb[0], &pb[1]), nn = values(cn, &any, &vn, &pn[0], &pn[1]);
    static const char *const names[2] = {"cpu_mops", "fsync_per_s"};
    json_t *o = json_object();
    for (int k = 0; k < 2; k++) {
        double b = quantile(pb[k], nb, 0.5), n = quantile(pn[k], nn, 0.5);
        json_t *x = json_object();
        set_num(x, "base", b);
        set_num(x, "new", n);
        set_num(x, "drift_pct", b > 0 && n > 0 ? (n / b - 1) * 100 : NAN);
        json_object_set_new(o, names[k], x);
        free(pb[k]);
        free(pn[k]);
    }
    free(vb);
    free(vn);
    return o;
}

static json_t *compare_case(const char *name, const struct contend_case_result *cb,
                            const struct contend_case_result *cn,
                            const struct contend_compare_opts *o)
{
    json_t *j = json_pack("{s:s}", "name", name);
    if (!cb || !cn) {
        json_object_set_new(j, "status", json_string(cb ? "only in base" : "only in new"));
        json_object_set_new(j, "verdict", json_string("not compared"));
        json_object_set_new(j, "regressed", json_false());
        return j;
    }
    json_t *figs = json_array();
    size_t nb = 0, nn = 0, minb = SIZE_MAX, minn = SIZE_MAX;
    bool compared = true;
    for (size_t f = 0; f < NFIG; f++) {
        json_t *x = compare_figure(&figures[f], cb, cn, o, &nb, &nn);
        compared &= strcmp(contend_js(x, "verdict"), "not compared") != 0;
        minb = nb < minb ? nb : minb;
        minn = nn < minn ? nn : minn;
        json_array_append_new(figs, x);
    }
    json_object_set_new(j, "status", json_string(compared ? "compared" : "too few runs"));
    json_object_set_new(j, "runs_base", json_integer((json_int_t)minb));
    json_object_set_new(j, "runs_new", json_integer((json_int_t)minn));
    json_object_set_new(j, "ok_base", json_boolean(cb->ok));
    json_object_set_new(j, "ok_new", json_boolean(cn->ok));
    if (!compared)
        json_object_set_new(j, "warning",
                            json_string("needs at least 2 repetitions on each side "
                                        "(run with --repeat 9)"));
    else if (minb < RELIABLE_RUNS || minn < RELIABLE_RUNS)
        json_object_set_new(j, "warning",
                            json_string("fewer than 9 repetitions on a side: results are "
                                        "unreliable"));
    json_object_set_new(j, "figures", figs);
    json_object_set_new(j, "probe", probe_drift(cb, cn));
    return j;
}

/*
 * Significance over the whole comparison.  Every figure of every case is a
 * test, and at alpha 0.05 one test in twenty is "significant" by chance: six
 * figures of two cases on an overloaded machine, whose noise is far beyond
 * the threshold, would call something slower one time in four.  So alpha is
 * the family-wise error rate, held by Holm's step-down correction: the k-th
 * smallest of m p-values is multiplied by (m - k + 1), and the adjusted
 * values are made non-decreasing.  A regression as clear as 9 repetitions
 * all slower (p = 4e-5) stays significant among hundreds of tests.
 */
struct ptest {
    json_t *fig;
    double p;
};

static int cmp_ptest(const void *a, const void *b)
{
    double x = ((const struct ptest *)a)->p, y = ((const struct ptest *)b)->p;
    return (x > y) - (x < y);
}

static void decide(json_t *cases, const struct contend_compare_opts *o)
{
    size_t i, j, m = 0;
    json_t *c, *f;
    json_array_foreach (cases, i, c) {
        m += json_array_size(json_object_get(c, "figures"));
    }
    struct ptest *t = contend_calloc(m ? m : 1, sizeof *t);
    m = 0;
    json_array_foreach (cases, i, c) {
        json_array_foreach (json_object_get(c, "figures"), j, f) {
            if (json_is_number(json_object_get(f, "p_value")))
                t[m++] = (struct ptest){f, json_number_value(json_object_get(f, "p_value"))};
        }
    }
    qsort(t, m, sizeof *t, cmp_ptest);
    double running = 0;
    for (size_t k = 0; k < m; k++) {
        double adj = fmin(1, t[k].p * (double)(m - k));
        running = fmax(running, adj);
        json_object_set_new(t[k].fig, "p_adjusted", json_real(running));
        const char *v = contend_js(t[k].fig, "verdict");
        bool moved = strcmp(v, "slower") == 0 || strcmp(v, "faster") == 0;
        if (moved && !(running < o->alpha)) {
            char why[120];
            snprintf(why, sizeof why, "not significant across repetitions (p = %.4f adjusted)",
                     running);
            json_object_set_new(t[k].fig, "verdict", json_string(NOISY));
            json_object_set_new(t[k].fig, "why", json_string(why));
        }
    }
    free(t);

    json_array_foreach (cases, i, c) {
        const json_t *figs = json_object_get(c, "figures");
        bool slower = false, faster = false, noisy = false;
        if (!figs)
            continue;
        json_array_foreach (figs, j, f) {
            const char *v = contend_js(f, "verdict");
            slower |= strcmp(v, "slower") == 0;
            faster |= strcmp(v, "faster") == 0;
            noisy |= strcmp(v, NOISY) == 0;
        }
        bool compared = strcmp(contend_js(c, "status"), "compared") == 0;
        json_object_set_new(c, "verdict",
                            json_string(!compared ? "not compared"
                                        : slower  ? "slower"
                                        : faster  ? "faster"
                                        : noisy   ? NOISY
                                                  : "no change"));
        json_object_set_new(c, "regressed", json_boolean(slower));
    }
}

static json_t *side(const json_t *run, const char *path)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "path", path ? path : "", "scenario",
                     contend_js(run, "scenario"), "started_at", contend_js(run, "started_at"),
                     "version", contend_js(run, "version"));
}

json_t *contend_compare(const json_t *base, const json_t *new_run, const char *base_path,
                        const char *new_path, const struct contend_compare_opts *o)
{
    json_t *cases = json_array(), *regressed = json_array();
    size_t i, nb, nn;
    json_t *c;
    struct contend_case_result *rb = read_cases(base, &nb), *rn = read_cases(new_run, &nn);

    for (i = 0; i < nb; i++) {
        const char *name = case_name(&rb[i]);
        json_array_append_new(cases, compare_case(name, &rb[i], find_case(rn, nn, name), o));
    }
    for (i = 0; i < nn; i++) {
        const char *name = case_name(&rn[i]);
        if (!find_case(rb, nb, name))
            json_array_append_new(cases, compare_case(name, NULL, &rn[i], o));
    }
    free_cases(rb, nb);
    free_cases(rn, nn);
    decide(cases, o);
    json_array_foreach (cases, i, c) {
        if (json_is_true(json_object_get(c, "regressed")))
            json_array_append_new(regressed, json_string(contend_js(c, "name")));
    }
    json_t *out =
        json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:f, s:f, s:o, s:o, s:i}", "schema", 1, "tool",
                  "contend", "kind", "compare", "version", contend_js(base, "version"), "base",
                  side(base, base_path), "new", side(new_run, new_path), "alpha", o->alpha,
                  "max_slowdown_pct", o->max_slowdown_pct, "regressed", regressed, "cases", cases,
                  "exit_code", json_array_size(regressed) ? CONTEND_EXIT_GATE : 0);
    return out;
}

/* Load "a.json,b.json,...": the first run, with the repetitions of the
 * others' cases added to its same-named cases (or their cases appended). */
int contend_compare_load(const char *spec, json_t **out)
{
    char *copy = contend_strdup(spec);
    json_t *pooled = NULL;
    int rc = 0;
    for (char *save = NULL, *f = strtok_r(copy, ",", &save); f && rc == 0;
         f = strtok_r(NULL, ",", &save)) {
        json_t *run;
        if ((rc = contend_report_load(f, &run)) != 0)
            break;
        if (!pooled) {
            pooled = run;
            continue;
        }
        size_t i, j;
        json_t *c, *have;
        json_array_foreach (json_object_get(run, "cases"), i, c) {
            json_t *same = NULL;
            json_array_foreach (json_object_get(pooled, "cases"), j, have) {
                if (json_equal(json_object_get(have, "name"), json_object_get(c, "name")))
                    same = have;
            }
            if (!same) {
                json_array_append(json_object_get(pooled, "cases"), c);
                continue;
            }
            json_array_extend(json_object_get(same, "runs"), json_object_get(c, "runs"));
            if (!json_is_true(json_object_get(c, "ok")))
                json_object_set_new(same, "ok", json_false());
        }
        json_decref(run);
    }
    free(copy);
    if (rc == 0 && !pooled) {
        contend_err("compare: no file in '%s'", spec);
        rc = -EINVAL;
    }
    if (rc)
        json_decref(pooled);
    *out = rc ? NULL : pooled;
    return rc;
}

/* ---- rendering ----------------------------------------------------------- */

static void fmt_value(char *buf, size_t len, const json_t *fig, const char *key)
{
    double v = contend_jn(fig, key);
    if (strcmp(contend_js(fig, "better"), "lower") == 0)
        contend_fmt_us(buf, len, v);
    else
        contend_fmt_fig(buf, len, v);
}

static void fmt_change(char *buf, size_t len, const json_t *fig)
{
    double v = contend_jn(fig, "change_pct");
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%+.1f %%", v);
}

static void fmt_p(char *buf, size_t len, const json_t *fig)
{
    double p = contend_jn(fig, "p_adjusted");
    if (isnan(p))
        snprintf(buf, len, "-");
    else if (p < 0.0001)
        snprintf(buf, len, "<0.0001");
    else
        snprintf(buf, len, "%.4f", p);
}

static void summary_line(const json_t *cmp, FILE *out, bool markdown)
{
    const json_t *reg = json_object_get(cmp, "regressed");
    size_t i;
    json_t *c;
    if (json_array_size(reg) == 0) {
        fprintf(out, "%sno case regressed%s\n", markdown ? "**" : "", markdown ? "**" : "");
        return;
    }
    fprintf(out, "%s%zu case%s regressed%s:", markdown ? "**" : "", json_array_size(reg),
            json_array_size(reg) == 1 ? "" : "s", markdown ? "**" : "");
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        if (!json_is_true(json_object_get(c, "regressed")))
            continue;
        fprintf(out, " %s (", contend_js(c, "name"));
        size_t j, k = 0;
        json_t *f;
        json_array_foreach (json_object_get(c, "figures"), j, f) {
            if (strcmp(contend_js(f, "verdict"), "slower") != 0)
                continue;
            char ch[32];
            fmt_change(ch, sizeof ch, f);
            fprintf(out, "%s%s %s", k++ ? ", " : "", contend_js(f, "label"), ch);
        }
        fputc(')', out);
    }
    fputc('\n', out);
}

void contend_compare_text(const json_t *cmp, FILE *out)
{
    const json_t *b = json_object_get(cmp, "base"), *n = json_object_get(cmp, "new");
    size_t i, w = 4;
    json_t *c;
    fprintf(out, "base: %s (%s, %s)\nnew:  %s (%s, %s)\n", contend_js(b, "path"),
            contend_js(b, "scenario"), contend_js(b, "started_at"), contend_js(n, "path"),
            contend_js(n, "scenario"), contend_js(n, "started_at"));
    fprintf(out,
            "slower = beyond the floor of %g %% after the machine probe's drift, beyond "
            "the spread of either side,\nand significant (Mann-Whitney U over "
            "repetitions, two-sided, alpha %g over all figures, p Holm-adjusted)\n\n",
            contend_jn(cmp, "max_slowdown_pct"), contend_jn(cmp, "alpha"));
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        size_t l = strlen(contend_js(c, "name"));
        w = l > w ? l : w;
    }
    fprintf(out, "%-*s  %-5s  %5s  %12s  %12s  %9s  %8s  %s\n", (int)w, "case", "figure", "runs",
            "base", "new", "change", "p", "verdict");
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        const json_t *figs = json_object_get(c, "figures");
        size_t j;
        json_t *f;
        if (!figs) {
            fprintf(out, "%-*s  %s\n", (int)w, contend_js(c, "name"), contend_js(c, "status"));
            continue;
        }
        json_array_foreach (figs, j, f) {
            char vb[32], vn[32], ch[32], p[32], runs[32];
            fmt_value(vb, sizeof vb, f, "base_median");
            fmt_value(vn, sizeof vn, f, "new_median");
            fmt_change(ch, sizeof ch, f);
            fmt_p(p, sizeof p, f);
            snprintf(runs, sizeof runs, "%lldv%lld", contend_ji(f, "runs_base"),
                     contend_ji(f, "runs_new"));
            fprintf(out, "%-*s  %-5s  %5s  %12s  %12s  %9s  %8s  %s\n", (int)w,
                    j ? "" : contend_js(c, "name"), contend_js(f, "label"), runs, vb, vn, ch, p,
                    contend_js(f, "verdict"));
        }
        json_array_foreach (figs, j, f) {
            const char *v = contend_js(f, "verdict");
            if (json_is_string(json_object_get(f, "why")) &&
                (strcmp(v, NOISY) == 0 || strstr(contend_js(f, "why"), "machine moved")))
                fprintf(out, "%-*s  %s: %s\n", (int)w, "", contend_js(f, "label"),
                        contend_js(f, "why"));
        }
        const json_t *pr = json_object_get(c, "probe");
        double dc = contend_jn2(pr, "cpu_mops", "drift_pct"),
               df = contend_jn2(pr, "fsync_per_s", "drift_pct");
        if (isfinite(dc) || isfinite(df))
            fprintf(out, "%-*s  machine probe drift: cpu %+.1f %%, fsync %+.1f %%\n", (int)w, "",
                    dc, df);
        if (json_is_string(json_object_get(c, "warning")))
            fprintf(out, "%-*s  warning: %s\n", (int)w, "", contend_js(c, "warning"));
        if (json_is_true(json_object_get(c, "ok_base")) &&
            !json_is_true(json_object_get(c, "ok_new")))
            fprintf(out, "%-*s  note: the case passed in base and FAILS in new\n", (int)w, "");
    }
    fputc('\n', out);
    summary_line(cmp, out, false);
}

static void md_text(FILE *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strchr("|*_`[]\\~#!", *p))
            fputc('\\', out);
        if (*p == '<')
            fputs("&lt;", out);
        else if (*p == '>')
            fputs("&gt;", out);
        else if (*p == '&')
            fputs("&amp;", out);
        else if ((unsigned char)*p >= 0x20)
            fputc(*p, out);
    }
}

void contend_compare_markdown(const json_t *cmp, FILE *out)
{
    size_t i;
    json_t *c;
    bool reg = json_array_size(json_object_get(cmp, "regressed")) > 0;
    fprintf(out, "### %s contend compare: ", reg ? "❌" : "✅");
    md_text(out, contend_js(json_object_get(cmp, "base"), "scenario"));
    fputs(" → ", out);
    md_text(out, contend_js(json_object_get(cmp, "new"), "scenario"));
    fprintf(out,
            "\n\nMann-Whitney U (two-sided, α = %g over all figures, p Holm-adjusted), "
            "noise threshold %g %%.\n\n",
            contend_jn(cmp, "alpha"), contend_jn(cmp, "max_slowdown_pct"));
    fputs("| case | figure | runs | base | new | change | p | verdict |\n"
          "|---|---|--:|--:|--:|--:|--:|---|\n",
          out);
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        const json_t *figs = json_object_get(c, "figures");
        size_t j;
        json_t *f;
        if (!figs) {
            fputs("| ", out);
            md_text(out, contend_js(c, "name"));
            fputs(" | | | | | | | ", out);
            md_text(out, contend_js(c, "status"));
            fputs(" |\n", out);
            continue;
        }
        json_array_foreach (figs, j, f) {
            char vb[32], vn[32], ch[32], p[32];
            fmt_value(vb, sizeof vb, f, "base_median");
            fmt_value(vn, sizeof vn, f, "new_median");
            fmt_change(ch, sizeof ch, f);
            fmt_p(p, sizeof p, f);
            fputs("| ", out);
            if (j == 0)
                md_text(out, contend_js(c, "name"));
            fprintf(out, " | %s | %lld/%lld | %s | %s | %s | %s | %s%s%s |\n",
                    contend_js(f, "label"), contend_ji(f, "runs_base"), contend_ji(f, "runs_new"),
                    vb, vn, ch, p, strcmp(contend_js(f, "verdict"), "slower") == 0 ? "**" : "",
                    contend_js(f, "verdict"),
                    strcmp(contend_js(f, "verdict"), "slower") == 0 ? "**" : "");
        }
    }
    fputc('\n', out);
    json_array_foreach (json_object_get(cmp, "cases"), i, c) {
        if (!json_is_string(json_object_get(c, "warning")))
            continue;
        fputs("- ", out);
        md_text(out, contend_js(c, "name"));
        fputs(": ", out);
        md_text(out, contend_js(c, "warning"));
        fputc('\n', out);
    }
    fputc('\n', out);
    summary_line(cmp, out, true);
}
