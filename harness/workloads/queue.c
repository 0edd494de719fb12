/*
 * queue.c - the queue workload: producers enqueue jobs, consumers take one,
 * process it and acknowledge it.
 *
 * This is the job queue of the field report: a file queue (inbox/, queue/,
 * outbox/) polled by workers, and the SQLite table that replaced it.  What
 * goes wrong with such queues is a job delivered to two consumers (both saw
 * it before either moved it), a job lost when its consumer dies between
 * taking and finishing it, a job lost at a power cut, and jobs coming out in
 * an order the queue promised not to use.
 *
 * Ops.  enqueue(key) with key = the op's own id, so every job id is unique
 * and names its producer, and the payload "job:<id>" in op->buf; take() ->
 * value = the job's id or -1 when the queue was empty (payload in op->buf
 * when the target returns it); ack(key) after the job was processed.  A
 * consumer holds at most one job: after a successful take its next op is the
 * ack of that job, preceded by a seeded processing time (up to `process_us`)
 * with a perturbation point inside.  Which job a thread holds is the one bit
 * of state gen() keeps (thread-local, see `held`): a restarted worker starts
 * with none, so a job its predecessor held is never acknowledged by it -
 * exactly what a consumer that died does.  Writers below `producers` only
 * enqueue and the others only consume; with producers = 0 every writer
 * enqueues `produce_pct` percent of the ops it does not spend acknowledging.
 *
 * Final state (target.h, enum contend_queue_state): one pair per job still in
 * the store, key = job id, value = ready, done, or the owner holding it.
 *
 * The checker, per job J (failed ops certainly did nothing; indeterminate
 * ones may have done anything):
 *   phantom-job      a take returned J, or the store holds J, but no enqueue of
 *                    J was ever invoked (or every one failed); or a take
 *                    returned a payload that is not J's.
 *   lost-job         J was certainly enqueued (an acknowledged enqueue, or a
 *                    take returned it), no ack of J may have happened, and the
 *                    store no longer has it.
 *   double-delivery  J was acknowledged as done and is then delivered again
 *                    (a take starts after the ack completed) or is still
 *                    waiting or held in the store; or more takes returned J
 *                    than the queue's promise allows: one, or for an
 *                    at-least-once target (CONTEND_VARIANT_AT_LEAST_ONCE) one
 *                    plus one per take whose consumer died holding the job
 *                    (its next op is not the job's ack, or the ack was cut
 *                    short), since such a job comes back.  Those redeliveries are counted
 *                    (stat queue_redelivered).
 *   out-of-order     for targets promising FIFO (CONTEND_VARIANT_FIFO): J1 and
 *                    J2 of one producer, J1 enqueued (acknowledged) before J2,
 *                    and J2's first take completed before J1's first take
 *                    began, or J2 was taken while J1 stayed waiting to the end.
 *                    A take that may have taken something without saying
 *                    what (indeterminate) before J2's take excuses the pair.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "result.h"
#include "workload.h"

enum { OPT_PRODUCE_PCT = 0, OPT_PRODUCERS, OPT_PROCESS_US };

static const struct contend_option queue_options[] = {
    {"produce_pct", "50", NULL,
     "with producers = 0: percent of a writer's ops (when it holds no job) that enqueue",
     CONTEND_OPT_INT, 0, 100},
    {"producers", "0", NULL,
     "writers 0..N-1 only enqueue, the others only take and ack; 0 = every writer mixes",
     CONTEND_OPT_INT, 0, 1e6},
    {"process_us", "200", NULL, "a taken job is processed for a seeded time up to this (µs)",
     CONTEND_OPT_INT, 0, 1e9},
    {NULL, NULL, NULL, NULL},
};

static const struct contend_kind queue_kinds[] = {
    {"lost-job", "an enqueued job was neither acknowledged nor still in the queue"},
    {"double-delivery", "a job was held by two consumers, or delivered again after its ack"},
    {"phantom-job", "a job was taken (or is in the store) that was never enqueued"},
    {"out-of-order", "a FIFO queue delivered a producer's jobs out of order"},
    {NULL, NULL},
};

/* The job this thread's consumer holds, -1 for none.  Thread-local, not in
 * the op stream: see the top of the file. */
static _Thread_local int64_t held = -1;

#define PAYLOAD_MAX 32

static uint32_t payload_of(uint64_t id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "job:%" PRIu64, id);
    return n > 0 && (size_t)n < cap ? (uint32_t)n : 0;
}

/* The seeded processing time of a job, on the worker's clock. */
static void process(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                          .tv_nsec = (long)(us % 1000000u) * 1000L};
    while (us && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        /* A signal: sleep the rest. */
    }
}

static bool is_producer(const struct contend_gen *g, struct contend_rng *rng)
{
    if (g->opt[OPT_PRODUCERS] > 0)
        return g->writer < (uint64_t)g->opt[OPT_PRODUCERS];
    return contend_rng_below(rng, 100) < (uint64_t)g->opt[OPT_PRODUCE_PCT];
}

static void queue_gen(const struct contend_gen *g, uint64_t seq, struct contend_rng *rng,
                      struct contend_op *op)
{
    if (held >= 0) {
        uint64_t max_us = g->opt[OPT_PROCESS_US] > 0 ? (uint64_t)g->opt[OPT_PROCESS_US] : 0;
        process(max_us ? contend_rng_below(rng, max_us + 1) : 0);
        contend_point("queue:process");
        op->kind = CONTEND_OP_ACK;
        op->key = (uint64_t)held;
        held = -1;
        return;
    }
    if (is_producer(g, rng)) {
        op->kind = CONTEND_OP_ENQUEUE;
        op->key = contend_op_id(g->writer, seq);
        if (op->buf && op->buf_cap >= PAYLOAD_MAX)
            op->buf_len = payload_of(op->key, op->buf, op->buf_cap);
        return;
    }
    op->kind = CONTEND_OP_DEQUEUE;
    op->value = -1;
}

/* After a take: remember the job, and see whether its payload is its own
 * (value2: 0 not returned, 1 matches, 2 another job's or garbage). */
static void queue_complete(const struct contend_gen *g, struct contend_op *op, int status)
{
    (void)g;
    if (op->kind != CONTEND_OP_DEQUEUE || status != CONTEND_OK || op->value < 0)
        return;
    held = op->value;
    op->value2 = 0;
    if (op->buf && op->buf_len > 0) {
        char want[PAYLOAD_MAX];
        uint32_t n = payload_of((uint64_t)op->value, want, sizeof want);
        op->value2 = (op->buf_len == n && memcmp(op->buf, want, n) == 0) ? 1 : 2;
    }
}

/* ---- the checker ------------------------------------------------------------ */

enum ref_type { R_ENQ, R_TAKE, R_ACK, R_STATE };

/* One record (or state entry) that concerns job `job`. */
struct ref {
    uint64_t job;
    uint32_t type; /* enum ref_type */
    uint32_t w;    /* writer, for records */
    uint64_t idx;  /* record index, or state index */
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->job != y->job)
        return (x->job > y->job) - (x->job < y->job);
    if (x->type != y->type)
        return (x->type > y->type) - (x->type < y->type);
    if (x->w != y->w)
        return (x->w > y->w) - (x->w < y->w);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* What the checker keeps per job for the FIFO pass. */
struct job {
    uint64_t id;
    bool taken, waiting; /* taken by some acknowledged take; ready in the final store */
    uint64_t ft_invoke, ft_complete;
    struct ref first;
};

/* The first example of a kind and how many jobs have it. */
struct finding {
    uint64_t jobs;
    struct contend_witness w[2];
    unsigned nw;
    char *why;
};

struct scan {
    struct contend_check *chk;
    struct ref *refs;
    size_t n, cap;
    struct job *jobs;
    size_t njobs;
    uint64_t t_info;      /* earliest invocation of a take that did not say what it took */
    uint64_t redelivered; /* allowed redeliveries (at-least-once) */
    struct finding lost, dbl, phantom, order;
};

static void add_ref(struct scan *s, struct ref r)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->refs = contend_realloc(s->refs, s->cap * sizeof s->refs[0]);
    }
    s->refs[s->n++] = r;
}

static const struct contend_record *rec_of(const struct scan *s, const struct ref *r)
{
    return &s->chk->w[r->w].rec[r->idx];
}

static struct contend_witness wit(const struct scan *s, const struct ref *r)
{
    return contend_witness_of(&s->chk->w[r->w], r->idx);
}

static const char *wstr(const struct scan *s, const struct ref *r, char *buf, size_t len)
{
    struct contend_witness w = wit(s, r);
    return contend_witness_str(&w, s->chk->t0, buf, len);
}

/* Note job `job` under finding f; the first one gives the example. */
static void note(struct finding *f, const struct scan *s, const struct ref *a, const struct ref *b,
                 char *why)
{
    if (f->jobs++ > 0) {
        free(why);
        return;
    }
    f->why = why;
    if (a)
        f->w[f->nw++] = wit(s, a);
    if (b)
        f->w[f->nw++] = wit(s, b);
}

static void collect(struct scan *s)
{
    const struct contend_check *chk = s->chk;
    s->t_info = UINT64_MAX;
    for (size_t w = 0; w < chk->nw; w++) {
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            struct ref ref = {.w = (uint32_t)w, .idx = i};
            if (r->kind == CONTEND_OP_ENQUEUE || r->kind == CONTEND_OP_ACK) {
                ref.job = r->key;
                ref.type = r->kind == CONTEND_OP_ENQUEUE ? R_ENQ : R_ACK;
            } else if (r->kind == CONTEND_OP_DEQUEUE && r->status == CONTEND_OK) {
                if (r->value < 0)
                    continue; /* the queue was empty */
                ref.job = (uint64_t)r->value;
                ref.type = R_TAKE;
            } else {
                if (r->kind == CONTEND_OP_DEQUEUE && r->status != CONTEND_FAIL &&
                    r->t_invoke < s->t_info)
                    s->t_info = r->t_invoke;
                continue;
            }
            add_ref(s, ref);
        }
    }
    for (size_t i = 0; chk->has_state && i < chk->nstate; i++)
        add_ref(s, (struct ref){.job = chk->state[i].key, .type = R_STATE, .idx = i});
    if (s->n > 1)
        qsort(s->refs, s->n, sizeof s->refs[0], cmp_ref);
}

/* Everything about one job, from its group of refs. */
struct group {
    const struct ref *r;
    size_t n;
    const struct ref *enq_ok, *enq_any;   /* an acknowledged enqueue; any not failed */
    const struct ref *ack_ok, *ack_maybe; /* an acknowledged ack; one that may have happened */
    const struct ref *take[2];            /* the first two takes (by invocation) */
    uint64_t takes, released;             /* takes; of them, whose consumer died holding it */
    uint64_t in_queue, done;              /* state entries: waiting or held; done */
    const struct ref *bad_payload;
    const struct ref *after_ack; /* a take that began after an ack completed */
};

/* Did the consumer that took the job die holding it?  Its ack is its very
 * next op (gen() makes it so): a restarted worker's next op is something
 * else, and an ack cut short (indeterminate) is a death as well.  An ack
 * that certainly failed leaves a live consumer holding the job: no
 * redelivery is due. */
static bool released(const struct scan *s, const struct ref *take)
{
    const struct contend_writer_hist *h = &s->chk->w[take->w];
    if (take->idx + 1 >= h->n)
        return true;
    const struct contend_record *r = &h->rec[take->idx + 1];
    if (r->kind != CONTEND_OP_ACK || r->key != take->job)
        return true;
    return r->status != CONTEND_OK && r->status != CONTEND_FAIL;
}

static void summarize(const struct scan *s, struct group *g)
{
    uint64_t ack_done = UINT64_MAX;
    for (size_t i = 0; i < g->n; i++) {
        const struct ref *r = &g->r[i];
        if (r->type == R_STATE) {
            int64_t v = s->chk->state[r->idx].value;
            if (v == CONTEND_QUEUE_DONE)
                g->done++;
            else
                g->in_queue++;
            continue;
        }
        const struct contend_record *rec = rec_of(s, r);
        if (r->type == R_ENQ && rec->status != CONTEND_FAIL) {
            g->enq_any = g->enq_any ? g->enq_any : r;
            if (rec->status == CONTEND_OK)
                g->enq_ok = g->enq_ok ? g->enq_ok : r;
        } else if (r->type == R_ACK && rec->status != CONTEND_FAIL) {
            g->ack_maybe = g->ack_maybe ? g->ack_maybe : r;
            if (rec->status == CONTEND_OK) {
                g->ack_ok = g->ack_ok ? g->ack_ok : r;
                if (rec->t_complete < ack_done)
                    ack_done = rec->t_complete;
            }
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct ref *r = &g->r[i];
        if (r->type != R_TAKE)
            continue;
        const struct contend_record *rec = rec_of(s, r);
        g->takes++;
        if (released(s, r))
            g->released++;
        if (rec->value2 == 2 && !g->bad_payload)
            g->bad_payload = r;
        if (!g->take[0] || rec->t_invoke < rec_of(s, g->take[0])->t_invoke) {
            g->take[1] = g->take[0];
            g->take[0] = r;
        } else if (!g->take[1] || rec->t_invoke < rec_of(s, g->take[1])->t_invoke) {
            g->take[1] = r;
        }
    }
    for (size_t i = 0; i < g->n && ack_done != UINT64_MAX; i++) {
        const struct ref *r = &g->r[i];
        if (r->type == R_TAKE && rec_of(s, r)->t_invoke > ack_done) {
            g->after_ack = r;
            break;
        }
    }
}

static void judge_phantom(struct scan *s, const struct group *g, uint64_t job)
{
    char a[256];
    if (g->bad_payload) {
        note(&s->phantom, s, g->bad_payload, NULL,
             contend_asprintf("%s returned job j%llu with a payload that is not the one it was "
                              "enqueued with",
                              wstr(s, g->bad_payload, a, sizeof a), (unsigned long long)job));
        return;
    }
    if (g->enq_any || (!g->takes && !g->in_queue && !g->done))
        return;
    if (g->takes)
        note(&s->phantom, s, g->take[0], NULL,
             contend_asprintf("%s returned job j%llu, which no enqueue %s",
                              wstr(s, g->take[0], a, sizeof a), (unsigned long long)job,
                              g->n && g->r[0].type == R_ENQ ? "successfully added" : "ever added"));
    else
        note(&s->phantom, s, NULL, NULL,
             contend_asprintf("the store holds job j%llu, which no enqueue ever added",
                              (unsigned long long)job));
}

static void judge_lost(struct scan *s, const struct group *g, uint64_t job)
{
    char a[256], b[256];
    if (!(g->enq_ok || g->takes) || g->ack_maybe || g->in_queue || g->done)
        return;
    if (!s->chk->has_state)
        return;
    if (g->takes)
        note(&s->lost, s, g->enq_ok, g->take[0],
             contend_asprintf("job j%llu was taken by %s, never acknowledged, and is no longer "
                              "in the store: its consumer died holding it, or a power cut "
                              "took it",
                              (unsigned long long)job, wstr(s, g->take[0], a, sizeof a)));
    else
        note(&s->lost, s, g->enq_ok, NULL,
             contend_asprintf("job j%llu was enqueued by %s, no take returned it, and it "
                              "is not in the queue (a take cut short may have removed it)",
                              (unsigned long long)job, wstr(s, g->enq_ok, b, sizeof b)));
}

static void judge_double(struct scan *s, const struct group *g, uint64_t job, bool at_least_once)
{
    char a[256], b[256];
    uint64_t allowed = 1 + (at_least_once ? g->released : 0);
    if (g->takes > allowed && g->take[1]) {
        note(&s->dbl, s, g->take[0], g->take[1],
             contend_asprintf("job j%llu was delivered %llu times (%s allowed): %s and %s both "
                              "got it",
                              (unsigned long long)job, (unsigned long long)g->takes,
                              at_least_once ? "one plus one per consumer that died "
                                              "holding it"
                                            : "once",
                              wstr(s, g->take[0], a, sizeof a), wstr(s, g->take[1], b, sizeof b)));
        return;
    }
    if (g->after_ack && g->ack_ok) {
        note(&s->dbl, s, g->ack_ok, g->after_ack,
             contend_asprintf("job j%llu was acknowledged as done by %s and then delivered again "
                              "to %s",
                              (unsigned long long)job, wstr(s, g->ack_ok, a, sizeof a),
                              wstr(s, g->after_ack, b, sizeof b)));
        return;
    }
    if (g->ack_ok && g->in_queue) {
        note(&s->dbl, s, g->ack_ok, NULL,
             contend_asprintf("job j%llu was acknowledged as done by %s but is still in the "
                              "queue, to be delivered again",
                              (unsigned long long)job, wstr(s, g->ack_ok, a, sizeof a)));
        return;
    }
    if (g->in_queue > 1 || (g->in_queue && g->done)) {
        note(&s->dbl, s, NULL, NULL,
             contend_asprintf("job j%llu is in the store %llu times (%llu waiting or held, "
                              "%llu done): it will be delivered again",
                              (unsigned long long)job, (unsigned long long)(g->in_queue + g->done),
                              (unsigned long long)g->in_queue, (unsigned long long)g->done));
        return;
    }
    if (g->takes > 1)
        s->redelivered += g->takes - 1;
}

static void keep_job(struct scan *s, const struct group *g, uint64_t job)
{
    struct job *j = &s->jobs[s->njobs++];
    memset(j, 0, sizeof *j);
    j->id = job;
    for (size_t i = 0; i < g->n; i++)
        if (g->r[i].type == R_STATE && s->chk->state[g->r[i].idx].value == CONTEND_QUEUE_READY)
            j->waiting = true;
    if (g->take[0]) {
        const struct contend_record *r = rec_of(s, g->take[0]);
        j->taken = true;
        j->ft_invoke = r->t_invoke;
        j->ft_complete = r->t_complete;
        j->first = *g->take[0];
    }
}

static const struct job *find_job(const struct scan *s, uint64_t id)
{
    size_t lo = 0, hi = s->njobs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->jobs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->njobs && s->jobs[lo].id == id ? &s->jobs[lo] : NULL;
}

/* FIFO per producer: walk each producer's acknowledged enqueues in order,
 * keeping the earlier job whose first take began last (or that never left
 * the queue); a later job taken before that is out of order. */
static void check_order(struct scan *s)
{
    char a[256], b[256];
    const struct contend_check *chk = s->chk;
    for (size_t w = 0; w < chk->nw; w++) {
        const struct job *late = NULL; /* the earlier job taken last so far */
        uint64_t late_t = 0;
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_ENQUEUE || r->status != CONTEND_OK)
                continue;
            const struct job *j = find_job(s, r->key);
            if (!j)
                continue;
            if (j->taken && late && late_t > j->ft_complete && j->ft_complete < s->t_info) {
                struct ref rj = {.w = (uint32_t)w, .idx = i};
                if (late->taken) {
                    char c[256];
                    note(&s->order, s, &j->first, &late->first,
                         contend_asprintf("producer %s: job j%llu, enqueued later, was taken by "
                                          "%s before j%llu, enqueued earlier, was taken by %s",
                                          wstr(s, &rj, a, sizeof a), (unsigned long long)j->id,
                                          wstr(s, &j->first, b, sizeof b),
                                          (unsigned long long)late->id,
                                          wstr(s, &late->first, c, sizeof c)));
                } else {
                    note(&s->order, s, &j->first, NULL,
                         contend_asprintf("job j%llu was taken by %s while j%llu, enqueued "
                                          "earlier by the same producer, stayed in the queue "
                                          "to the end",
                                          (unsigned long long)j->id,
                                          wstr(s, &j->first, b, sizeof b),
                                          (unsigned long long)late->id));
                }
            }
            uint64_t t = j->taken ? j->ft_invoke : (j->waiting ? UINT64_MAX : 0);
            if (t > late_t || !late) {
                late = j;
                late_t = t;
            }
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Completion times of the acknowledged ops of `kind` (takes: those that
 * returned a job), sorted; *n of them. */
static uint64_t *done_times(const struct contend_check *chk, unsigned kind, size_t *n)
{
    size_t cap = 0;
    for (size_t w = 0; w < chk->nw; w++)
        cap += chk->w[w].n;
    uint64_t *t = contend_calloc(cap ? cap : 1, sizeof *t);
    *n = 0;
    for (size_t w = 0; w < chk->nw; w++)
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind == kind && r->status == CONTEND_OK &&
                (kind != CONTEND_OP_DEQUEUE || r->value >= 0))
                t[(*n)++] = r->t_complete;
        }
    qsort(t, *n, sizeof *t, cmp_u64);
    return t;
}

/* How many of the sorted times t[0..n) are before `at`. */
static size_t before(const uint64_t *t, size_t n, uint64_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t[mid] < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The cost of a take against the backlog it faced (jobs enqueued and not
 * yet taken when it began), fitted as cost ~ backlog^exponent (growth.h):
 * a queue that scans its backlog on every take shows an exponent near 1,
 * an indexed one near 0.  Reported as stats, never judged. */
static void take_growth(struct contend_check *chk)
{
    size_t ne, nt, ns = 0;
    uint64_t *enq = done_times(chk, CONTEND_OP_ENQUEUE, &ne);
    uint64_t *took = done_times(chk, CONTEND_OP_DEQUEUE, &nt);
    size_t cap = 0;
    for (size_t w = 0; w < chk->nw; w++)
        cap += chk->w[w].n;
    struct contend_growth_sample *smp = contend_calloc(cap ? cap : 1, sizeof *smp);
    uint64_t most = 0;
    for (size_t w = 0; w < chk->nw; w++)
        for (uint64_t i = 0; i < chk->w[w].n; i++) {
            const struct contend_record *r = &chk->w[w].rec[i];
            if (r->kind != CONTEND_OP_DEQUEUE || r->status != CONTEND_OK)
                continue;
            size_t e = before(enq, ne, r->t_invoke), t = before(took, nt, r->t_invoke);
            uint64_t backlog = e > t ? e - t : 0;
            most = backlog > most ? backlog : most;
            smp[ns++] = (struct contend_growth_sample){
                .size = backlog, .cost = r->t_complete - r->t_invoke}; /* ns */
        }
    struct contend_growth g;
    memset(&g, 0, sizeof g);
    if (ns > 0)
        contend_growth_fit(smp, ns, &g);
    contend_rep_add_stat(chk->rep, "queue_backlog_max", (double)most);
    if (g.valid) {
        contend_rep_add_stat(chk->rep, "queue_take_growth", g.exponent);
        contend_rep_add_stat(chk->rep, "queue_take_us_at_max",
                             g.npoints ? g.cost[g.npoints - 1] / 1e3 : 0);
        contend_rep_add_stat(chk->rep, "queue_take_us_at_min", g.npoints ? g.cost[0] / 1e3 : 0);
    }
    free(smp);
    free(enq);
    free(took);
}

static void report(struct scan *s, struct finding *f, const char *kind, const char *what)
{
    if (!f->jobs)
        return;
    contend_check_report(s->chk, kind, f->jobs, f->w, f->nw, "%llu job(s) %s; %s",
                         (unsigned long long)f->jobs, what, f->why);
    free(f->why);
}

/* Jobs finished: acknowledged acks (jobs/s = this over the run's time). */
static uint64_t acked(const struct contend_check *chk)
{
    uint64_t n = 0;
    for (size_t w = 0; w < chk->nw; w++)
        for (uint64_t i = 0; i < chk->w[w].n; i++)
            n += chk->w[w].rec[i].kind == CONTEND_OP_ACK && chk->w[w].rec[i].status == CONTEND_OK;
    return n;
}

static int queue_check(struct contend_check *chk)
{
    struct scan s;
    memset(&s, 0, sizeof s);
    s.chk = chk;
    uint32_t vflags = chk->c->tg ? chk->c->tg->variants[chk->c->variant_index].flags : 0;
    bool at_least_once = (vflags & CONTEND_VARIANT_AT_LEAST_ONCE) != 0;

    collect(&s);
    s.jobs = contend_calloc(s.n ? s.n : 1, sizeof s.jobs[0]);
    for (size_t i = 0; i < s.n;) {
        struct group g;
        memset(&g, 0, sizeof g);
        g.r = &s.refs[i];
        uint64_t job = s.refs[i].job;
        while (i + g.n < s.n && s.refs[i + g.n].job == job)
            g.n++;
        summarize(&s, &g);
        judge_phantom(&s, &g, job);
        judge_lost(&s, &g, job);
        judge_double(&s, &g, job, at_least_once);
        keep_job(&s, &g, job);
        i += g.n;
    }
    if (vflags & CONTEND_VARIANT_FIFO)
        check_order(&s);
    report(&s, &s.lost, "lost-job", "were lost");
    report(&s, &s.dbl, "double-delivery", "were delivered more than the queue allows");
    report(&s, &s.phantom, "phantom-job", "were delivered or stored but never enqueued");
    report(&s, &s.order, "out-of-order", "were taken before an earlier job of their producer");
    contend_rep_add_stat(chk->rep, "queue_redelivered", (double)s.redelivered);
    contend_rep_add_stat(chk->rep, "queue_acked", (double)acked(chk));
    take_growth(chk);
    free(s.jobs);
    free(s.refs);
    return 0;
}

const struct contend_workload contend_workload_queue = {
    .abi_version = CONTEND_WORKLOAD_ABI,
    .name = "queue",
    .help = "enqueue / take / ack jobs; none lost, none delivered twice, none invented",
    .options = queue_options,
    .kinds = queue_kinds,
    .gen = queue_gen,
    .check = queue_check,
    .complete = queue_complete,
};
CONTEND_WORKLOAD_REGISTER(contend_workload_queue)
