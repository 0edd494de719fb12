/*
 * result.c - building the result of one run: violations, stats, witnesses.
 */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void contend_rep_add_violation(struct contend_rep *rep, const char *kind, uint64_t count,
                               const struct contend_witness *w, unsigned nw, const char *msg)
{
    rep->v = contend_realloc(rep->v, (rep->nv + 1) * sizeof rep->v[0]);
    struct contend_violation *v = &rep->v[rep->nv++];
    memset(v, 0, sizeof *v);
    v->kind = contend_strdup(kind);
    v->count = count;
    v->message = contend_strdup(msg);
    if (nw > CONTEND_MAX_WITNESS)
        nw = CONTEND_MAX_WITNESS;
    if (w && nw)
        memcpy(v->witness, w, nw * sizeof w[0]);
    v->nwitness = w ? nw : 0;
}

void contend_check_report(struct contend_check *chk, const char *kind, uint64_t count,
                          const struct contend_witness *w, unsigned nw, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = contend_vasprintf(fmt, ap);
    va_end(ap);
    contend_rep_add_violation(chk->rep, kind, count, w, nw, msg);
    free(msg);
}

void contend_rep_add_stat(struct contend_rep *rep, const char *name, double value)
{
    for (size_t i = 0; i < rep->nstats; i++) {
        if (strcmp(rep->stats[i].name, name) == 0) {
            rep->stats[i].value += value;
            return;
        }
    }
    rep->stats = contend_realloc(rep->stats, (rep->nstats + 1) * sizeof rep->stats[0]);
    rep->stats[rep->nstats].name = contend_strdup(name);
    rep->stats[rep->nstats].value = value;
    rep->nstats++;
}

void contend_rep_add_event(struct contend_rep *rep, uint64_t t_ns, uint64_t dur_ns,
                           const char *kind, const char *detail)
{
    rep->events = contend_realloc(rep->events, (rep->nevents + 1) * sizeof rep->events[0]);
    rep->events[rep->nevents++] = (struct contend_event){
        .t_ns = t_ns,
        .dur_ns = dur_ns,
        .kind = contend_strdup(kind),
        .detail = contend_strdup(detail),
    };
}

void contend_rep_error(struct contend_rep *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = contend_vasprintf(fmt, ap);
    va_end(ap);
    if (rep->error) {
        free(msg);
        return;
    }
    rep->error = true;
    rep->error_msg = msg;
}

bool contend_rep_has(const struct contend_rep *rep, const char *kind)
{
    for (size_t i = 0; i < rep->nv; i++)
        if (strcmp(rep->v[i].kind, kind) == 0)
            return true;
    return false;
}

void contend_rep_free(struct contend_rep *rep)
{
    for (size_t i = 0; i < rep->nv; i++) {
        free(rep->v[i].kind);
        free(rep->v[i].message);
        free(rep->v[i].context);
    }
    for (size_t i = 0; i < rep->nstats; i++)
        free(rep->stats[i].name);
    for (size_t i = 0; i < rep->nevents; i++) {
        free(rep->events[i].kind);
        free(rep->events[i].detail);
    }
    free(rep->events);
    free(rep->v);
    free(rep->stats);
    free(rep->hist);
    free(rep->series);
    free(rep->error_msg);
    free(rep->gate_msg);
    free(rep->missing);
    free(rep->inconclusive);
    free(rep->case_dir);
    free(rep->repro);
    free(rep->sched.file);
    free(rep->sched.fallback);
    free(rep->conc.inconclusive);
    memset(rep, 0, sizeof *rep);
}

struct contend_witness contend_witness_of(const struct contend_writer_hist *w, uint64_t idx)
{
    struct contend_witness x = {
        .worker = w->worker,
        .thread = w->thread,
        .writer = w->writer,
        .index = idx,
        .rec = w->rec[idx],
    };
    return x;
}

const char *contend_witness_str(const struct contend_witness *w, uint64_t t0, char *buf, size_t len)
{
    const struct contend_record *r = &w->rec;
    double a = r->t_invoke > t0 ? (double)(r->t_invoke - t0) / 1e6 : 0;
    double b = r->t_complete > t0 ? (double)(r->t_complete - t0) / 1e6 : 0;
    char who[32], when[64], result[48], what[80];

    /* Name the thread only when the worker has several. */
    if (w->writer != w->worker || w->thread > 0)
        snprintf(who, sizeof who, "worker %u.%u", w->worker, w->thread);
    else
        snprintf(who, sizeof who, "worker %u", w->worker);
    if (r->status == CONTEND_STATUS_INVOKED)
        snprintf(when, sizeof when, "+%.3f ms, never completed", a);
    else
        snprintf(when, sizeof when, "+%.3f..%.3f ms", a, b);
    if (r->status == CONTEND_OK && (r->kind == CONTEND_OP_INCR || r->kind == CONTEND_OP_READ))
        snprintf(result, sizeof result, " = %lld", (long long)r->value);
    else if (r->status == CONTEND_OK && r->kind == CONTEND_OP_TRANSFER)
        snprintf(result, sizeof result, "%s", r->value ? "" : " declined");
    else if (r->status == CONTEND_OK && r->kind == CONTEND_OP_READ_ALL)
        snprintf(result, sizeof result, " = total %lld, min %lld", (long long)r->value,
                 (long long)(int64_t)r->value2);
    else if (r->status == CONTEND_OK && r->kind == CONTEND_OP_CLAIM)
        snprintf(result, sizeof result, " = %s", r->value ? "won" : "lost");
    else if (r->status == CONTEND_OK && r->kind == CONTEND_OP_DEQUEUE && r->value >= 0)
        snprintf(result, sizeof result, " = j%lld", (long long)r->value);
    else if (r->status == CONTEND_OK && r->kind == CONTEND_OP_DEQUEUE)
        snprintf(result, sizeof result, " = empty");
    else if (r->status == CONTEND_OK)
        result[0] = '\0';
    else
        snprintf(result, sizeof result, " %s", contend_status_name(r->status));
    /* The op and its arguments: "incr k0", "transfer k1->k3 20", "read-all". */
    if (r->kind == CONTEND_OP_TRANSFER)
        snprintf(what, sizeof what, "%s k%llu->k%llu %lld", contend_op_kind_name(r->kind),
                 (unsigned long long)r->key, (unsigned long long)r->key2, (long long)r->arg);
    else if (r->kind == CONTEND_OP_READ_ALL)
        snprintf(what, sizeof what, "%s", contend_op_kind_name(r->kind));
    else if (r->kind == CONTEND_OP_DEQUEUE)
        snprintf(what, sizeof what, "take");
    else if (r->kind == CONTEND_OP_ENQUEUE || r->kind == CONTEND_OP_ACK)
        snprintf(what, sizeof what, "%s j%llu", contend_op_kind_name(r->kind),
                 (unsigned long long)r->key);
    else
        snprintf(what, sizeof what, "%s k%llu", contend_op_kind_name(r->kind),
                 (unsigned long long)r->key);
    snprintf(buf, len, "%s op #%llu (%s%s, %s)", who, (unsigned long long)w->index, what, result,
             when);
    return buf;
}

int64_t contend_state_get(const struct contend_check *chk, uint64_t key, int64_t def)
{
    size_t lo = 0, hi = chk->nstate;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (chk->state[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < chk->nstate && chk->state[lo].key == key) ? chk->state[lo].value : def;
}
