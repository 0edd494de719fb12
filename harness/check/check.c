/*
 * check.c - figures, final state and the workload's checker for one run.
 *
 * Growth (growth.c) is judged here for every workload.  A per-op cost that
 * rises with the store is a performance property, not an invariant: when the
 * case sets `max_growth` and does not expect it, a `superlinear-growth`
 * violation fails the case as a gate (exit 3), not as a broken invariant
 * (exit 1).  A case that expects it passes when it is found.
 */
#include "check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "fatal.h"
#include "util.h"

struct state_buf {
    struct contend_kv *kv;
    size_t n, cap;
    struct contend_rep *rep;
};

static void sink_value(void *ctx, uint64_t key, int64_t value)
{
    struct state_buf *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->kv = contend_realloc(s->kv, s->cap * sizeof s->kv[0]);
    }
    s->kv[s->n++] = (struct contend_kv){.key = key, .value = value};
}

static void sink_violation(void *ctx, const char *kind, uint64_t count, const char *message)
{
    struct state_buf *s = ctx;
    contend_rep_add_violation(s->rep, kind, count, NULL, 0, message);
}

static void sink_stat(void *ctx, const char *name, double value)
{
    struct state_buf *s = ctx;
    contend_rep_add_stat(s->rep, name, value);
}

static int cmp_kv(const void *a, const void *b)
{
    uint64_t x = ((const struct contend_kv *)a)->key, y = ((const struct contend_kv *)b)->key;
    return (x > y) - (x < y);
}

/* Did any worker run on a faked clock (time control)?  Then record times
 * are on that clock, and the run's duration comes from the real end times. */
static bool clock_faked(const struct contend_history *h, uint32_t nwriters)
{
    for (uint32_t i = 0; i < nwriters; i++)
        if (h[i].hdr->clock_faked)
            return true;
    return false;
}

/* The start barrier on the workers' clock: the runner's own t0, or with a
 * faked clock the earliest moment a thread saw the start. */
static uint64_t workers_t0(const struct contend_history *h, uint32_t nwriters, uint64_t t0)
{
    if (!clock_faked(h, nwriters))
        return t0;
    uint64_t first = 0;
    for (uint32_t i = 0; i < nwriters; i++)
        if (h[i].hdr->t_first && (first == 0 || h[i].hdr->t_first < first))
            first = h[i].hdr->t_first;
    return first ? first : t0;
}

static void figures(const struct contend_case *c, const struct contend_history *h,
                    uint32_t nwriters, uint64_t t0, struct contend_rep *out)
{
    uint64_t t_end = t0;
    size_t used = 0;
    const bool faked = clock_faked(h, nwriters);

    out->hist = contend_calloc(1, sizeof *out->hist);
    out->series = contend_calloc(CONTEND_SERIES_LEN, sizeof *out->series);
    for (uint32_t i = 0; i < nwriters; i++) {
        const struct contend_history *x = &h[i];
        uint64_t n = contend_history_count(x);
        for (uint64_t j = 0; j < n; j++) {
            const struct contend_record *r = &x->rec[j];
            switch (r->status) {
            case CONTEND_OK: out->n_ok++; break;
            case CONTEND_FAIL: out->n_fail++; break;
            default: out->n_info++; break;
            }
            out->retries += r->retries;
            if (r->status != CONTEND_OK && r->err == EBUSY)
                out->busy++;
            if (!faked && r->t_complete > t_end)
                t_end = r->t_complete;
        }
        if (!faked && x->hdr->t_end > t_end)
            t_end = x->hdr->t_end;
        if (faked && x->hdr->t_end_real > t_end)
            t_end = x->hdr->t_end_real;
        contend_hist_merge(out->hist, x->hist);
        for (size_t s = 0; s < CONTEND_SERIES_LEN; s++) {
            out->series[s] += x->series[s];
            if (x->series[s] && s + 1 > used)
                used = s + 1;
        }
        if (x->hdr->full)
            contend_rep_add_stat(out, "history_full_threads", 1);
    }
    out->nseries = used;
    out->duration_s = (double)(t_end - t0) / 1e9;
    out->tps = out->duration_s > 0 ? (double)out->n_ok / out->duration_s : 0;
    if (c->duration_ns == 0 && out->duration_s <= 0)
        out->duration_s = 0;
}

/* The exponent threshold of the case: max_growth, or the default when the
 * case only expects superlinear-growth; NAN when growth is not judged. */
static double growth_limit(const struct contend_case *c)
{
    if (!isnan(c->max_growth))
        return c->max_growth;
    return contend_case_expects(c, "superlinear-growth") ? CONTEND_GROWTH_DEFAULT_MAX : NAN;
}

/* A fit's cost for people: µs for times, plain counts otherwise. */
static void cost_str(enum contend_growth_measure m, double v, char *buf, size_t len)
{
    if (m == CONTEND_GROWTH_LATENCY || m == CONTEND_GROWTH_CPU)
        snprintf(buf, len, "%.1f us", v / 1e3);
    else
        snprintf(buf, len, "%.0f %s", v, contend_growth_measure_unit(m));
}

static void growth(const struct contend_case *c, const struct contend_history *h, uint32_t nwriters,
                   struct contend_rep *out)
{
    const struct contend_growths *gs = &out->growth;
    double limit = growth_limit(c);
    contend_growth_of_run(h, nwriters, &out->growth);
    if (isnan(limit) || !gs->valid || gs->exponent <= limit)
        return;
    const struct contend_growth *g = &gs->fit[gs->decided_by];
    const struct contend_growth *lat = &gs->fit[CONTEND_GROWTH_LATENCY];
    char first[48], last[48], latency[64] = "";
    cost_str(gs->decided_by, g->cost[0], first, sizeof first);
    cost_str(gs->decided_by, g->cost[g->npoints - 1], last, sizeof last);
    if (gs->decided_by != CONTEND_GROWTH_LATENCY && lat->valid)
        snprintf(latency, sizeof latency, "; latency grows as size^%.2f", lat->exponent);
    char *msg = contend_asprintf(
        "per-op %s grows as size^%.2f (limit %.2f): median %s per op at %.0f ops stored, "
        "%s at %.0f, so the total work of N ops grows as N^%.2f (decided by %s%s)",
        contend_growth_measure_name(gs->decided_by), gs->exponent, limit, first, g->size[0], last,
        g->size[g->npoints - 1], 1 + gs->exponent, contend_growth_measure_name(gs->decided_by),
        latency);
    contend_rep_add_violation(out, "superlinear-growth", 1, NULL, 0, msg);
    free(msg);
}

void contend_check_run(const struct contend_case *c, const struct contend_env *env,
                       const struct contend_history *h, uint32_t nwriters, uint64_t t0,
                       struct contend_rep *out)
{
    struct state_buf sb = {.rep = out};
    struct contend_sink sink = {
        .ctx = &sb,
        .value = sink_value,
        .violation = sink_violation,
        .stat = sink_stat,
    };
    struct contend_writer_hist *wh = contend_calloc(nwriters, sizeof *wh);

    figures(c, h, nwriters, t0, out);
    t0 = workers_t0(h, nwriters, t0);
    out->t0 = t0;
    growth(c, h, nwriters, out);
    for (uint32_t i = 0; i < nwriters; i++)
        wh[i] = (struct contend_writer_hist){
            .worker = h[i].hdr->worker,
            .thread = h[i].hdr->thread,
            .writer = i,
            .rec = h[i].rec,
            .n = contend_history_count(&h[i]),
        };

    bool has_state = !(c->tg->flags & CONTEND_TARGET_NO_STATE) && c->tg->read_state;
    if (has_state) {
        int rc = c->tg->read_state(env, &sink);
        char why[1024];
        if (rc != 0 && contend_fatal_take(why, sizeof why)) {
            /* Not the store's fault: the harness could not read it. */
            contend_rep_error(out, "target %s could not report its final state: %s", c->tg->name,
                              why);
            has_state = false;
        } else if (rc != 0) {
            char *msg = contend_asprintf("target %s could not read its final state: %s",
                                         c->tg->name, strerror(rc < 0 ? -rc : EIO));
            contend_rep_add_violation(out, "corrupt-store", 1, NULL, 0, msg);
            free(msg);
            has_state = false;
        }
        if (sb.n)
            qsort(sb.kv, sb.n, sizeof sb.kv[0], cmp_kv);
    }
    struct contend_check chk = {
        .c = c,
        .w = wh,
        .nw = nwriters,
        .state = sb.kv,
        .nstate = sb.n,
        .has_state = has_state,
        .store_dir = env->store_dir,
        .t0 = t0,
        .rep = out,
    };
    c->wl->check(&chk);
    contend_context_collect(out, wh, nwriters);
    free(sb.kv);
    free(wh);
}

static void gate(struct contend_rep *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void gate(struct contend_rep *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = contend_vasprintf(fmt, ap);
    va_end(ap);
    if (out->gate_msg) {
        char *both = contend_asprintf("%s; %s", out->gate_msg, msg);
        free(out->gate_msg);
        free(msg);
        msg = both;
    }
    out->gate_msg = msg;
    out->gate_failed = true;
}

/* One expected token: a kind, or alternatives "a|b|c" of which any will do
 * (a variant with undefined behaviour breaks in whichever way the schedule
 * picks: wrong results, or a crash before any). */
static bool rep_has_any(const struct contend_rep *out, const char *token)
{
    for (const char *p = token; *p;) {
        size_t len = strcspn(p, "|");
        for (size_t i = 0; i < out->nv; i++)
            if (strlen(out->v[i].kind) == len && strncmp(out->v[i].kind, p, len) == 0)
                return true;
        p += len + (p[len] == '|');
    }
    return false;
}

/*
 * No verdict without evidence.  A checker that saw no acknowledged op (a
 * program that answers nothing useful, a store that fails every call) finds
 * nothing and would pass; an expectation "not found" in such a run says
 * nothing about the store either.  Both become `inconclusive` (exit 1).  A
 * violation found without an expectation stays a failure: it is evidence.
 */
static bool evidence_too_thin(const struct contend_case *c, struct contend_rep *out)
{
    uint64_t floor = c->wl && c->wl->min_ok ? c->wl->min_ok : 1;
    bool silent = c->expect ? out->missing != NULL : out->ok;
    if (!silent || out->n_ok >= floor)
        return false;
    out->inconclusive = contend_asprintf(
        "the checker had too little to judge: %llu acknowledged op%s (ok), the %s workload "
        "needs at least %llu; %llu failed, %llu indeterminate",
        (unsigned long long)out->n_ok, out->n_ok == 1 ? "" : "s", c->wl ? c->wl->name : "case's",
        (unsigned long long)floor, (unsigned long long)out->n_fail,
        (unsigned long long)out->n_info);
    out->ok = false;
    return true;
}

void contend_judge(const struct contend_case *c, struct contend_rep *out)
{
    free(out->missing);
    out->missing = NULL;
    free(out->inconclusive);
    out->inconclusive = NULL;
    if (out->error) {
        out->ok = false;
        return;
    }
    if (c->expect) {
        char *copy = contend_strdup(c->expect);
        for (char *save = NULL, *k = strtok_r(copy, ", ", &save); k;
             k = strtok_r(NULL, ", ", &save)) {
            if (rep_has_any(out, k))
                continue;
            char *m = out->missing ? contend_asprintf("%s,%s", out->missing, k) : contend_strdup(k);
            free(out->missing);
            out->missing = m;
        }
        free(copy);
        /* With an expectation, other kinds are reported but do not fail the
         * case: a broken variant may break more than the one invariant. */
        out->ok = out->missing == NULL;
    } else {
        /* superlinear-growth is a gate (below), not a broken invariant. */
        size_t nv = out->nv;
        for (size_t i = 0; i < out->nv; i++)
            nv -= strcmp(out->v[i].kind, "superlinear-growth") == 0;
        out->ok = nv == 0;
    }
    if (evidence_too_thin(c, out))
        return;
    if (!out->ok)
        return;
    if (!isnan(c->min_tps) && out->tps < c->min_tps)
        gate(out, "min_tps: %.1f tx/s is below %.1f", out->tps, c->min_tps);
    if (!isnan(c->max_p99_us) && out->hist) {
        double p99 = (double)contend_hist_quantile(out->hist, 0.99) / 1e3;
        if (p99 > c->max_p99_us)
            gate(out, "max_p99_us: p99 %.1f us is above %.1f", p99, c->max_p99_us);
    }
    if (contend_rep_has(out, "superlinear-growth") &&
        !contend_case_expects(c, "superlinear-growth"))
        gate(out,
             "max_growth: per-op cost grows as size^%.2f, above %.2f, by %s "
             "(superlinear-growth)",
             out->growth.exponent, growth_limit(c),
             contend_growth_measure_name(out->growth.decided_by));
}

int contend_rep_exit_code(const struct contend_rep *rep)
{
    if (rep->error)
        return CONTEND_EXIT_HARNESS;
    if (!rep->ok)
        return CONTEND_EXIT_VIOLATION;
    if (rep->gate_failed)
        return CONTEND_EXIT_GATE;
    return CONTEND_EXIT_OK;
}

int contend_exit_merge(int a, int b)
{
    /* Worst first: the harness could not run, then an invariant, then a gate. */
    static const int order[] = {CONTEND_EXIT_HARNESS, CONTEND_EXIT_VIOLATION, CONTEND_EXIT_GATE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (a == order[i] || b == order[i])
            return order[i];
    return CONTEND_EXIT_OK;
}
