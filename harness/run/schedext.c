/*
 * schedext.c - the runner's side of the controlled schedule, as an extension.
 *
 * Keys: `schedule = os | random | pct`, `depth` (PCT's bug depth, default 2),
 * `round_ops` (ops per thread in a PCT round, default 1; 0 = one round)
 * and `schedule_file` (set by `contend replay`: follow that file's decisions).
 *
 * Before the workers start it sets up the scheduler's block in the control
 * file and creates the decision log (case_dir/schedule.log, one 8-byte entry
 * per decision, mapped by every worker).  It preloads the shim into the
 * workers, which turns blocking lock and sleep calls into hand-offs.  While
 * the case runs it is the watchdog: a token holder that makes no decision for
 * a long while (it blocks in a call the shim does not know, or died) is named,
 * and the schedule falls back to the OS for the rest of the case, so the case
 * ends instead of hanging.  At the end it writes the decisions as text next
 * to the case directory (CASE_DIR.schedule, kept when the case directory is
 * removed), with its SHA-256, for run.json and `contend replay`.
 *
 * Schedule file format, one decision a line after a header:
 *   # contend schedule 1
 *   mode pct / seed N / depth D / round_ops R / writers N / steps N
 *   STEP WRITER FROM REASON POINT      (FROM and POINT are - when none)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "control.h"
#include "extension.h"
#include "faults.h"
#include "schedule.h"
#include "util.h"

static const struct contend_option sched_keys[] = {
    {"schedule", "os", "os|random|pct",
     "who runs when: os = the kernel; random or pct = one thread at a time, handed over at "
     "perturbation points, op boundaries and blocking calls, chosen from the seed (README "
     "\"Controlled schedule\")"},
    {"depth", "2", NULL, "pct: the bug depth d (d-1 priority change points per round)",
     CONTEND_OPT_INT, 1, CONTEND_SCHED_MAX_DEPTH},
    {"round_ops", "1", NULL,
     "pct: a new PCT round (fresh priorities and change points) every N ops per thread; 0 = the "
     "whole run is one round",
     CONTEND_OPT_INT, 0, 1e6},
    {"schedule_file", "", NULL, "follow the decisions of this schedule file (contend replay)"},
    {NULL, NULL, NULL, NULL},
};

struct sstate {
    struct contend_control *ctl;
    struct contend_sched_entry *log;
    uint64_t log_cap;
    int mode;
    uint64_t last_step, last_change;
    char *shim;
};

static int mode_of_case(const struct contend_case *c)
{
    return contend_sched_mode_of(contend_case_opt(c, "schedule"));
}

static bool sched_active(const struct contend_case *c)
{
    return mode_of_case(c) > SCHED_OS;
}

/* Room for every decision of an ops run: an op boundary, a few points and a
 * few blocked retries per op.  A run that overflows it is not replayable
 * (reported), and runs on. */
static uint64_t log_capacity(const struct contend_case *c, uint32_t n)
{
    uint64_t per = c->duration_ns ? c->history_cap : c->ops;
    uint64_t cap = (uint64_t)n * (per + 2) * 16 + 1024;
    return cap > (64ull << 20) ? (64ull << 20) : cap;
}

static int map_log(const char *path, uint64_t cap, struct contend_sched_entry **out)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t len = cap * sizeof **out;
    int rc = ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
    void *p = rc ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rc == 0 && p == MAP_FAILED)
        rc = -errno;
    close(fd);
    if (rc == 0)
        *out = p;
    return rc;
}

/* Load a schedule file's decisions into the log for a replay. */
static int load_schedule(const char *path, struct sstate *s, struct contend_rep *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        contend_rep_error(out, "cannot read schedule %s: %s", path, strerror(errno));
        return -errno;
    }
    char line[256];
    uint64_t n = 0;
    int rc = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        unsigned long long step;
        unsigned writer;
        if (line[0] == '#' || sscanf(line, "%llu %u", &step, &writer) != 2)
            continue;
        if (step != n || n >= s->log_cap) {
            contend_rep_error(out, "%s:%d: decision %llu out of order or beyond the log", path,
                              lineno, step);
            rc = -EINVAL;
            break;
        }
        s->log[n++].writer = (uint16_t)writer;
    }
    fclose(f);
    s->ctl->sched.replay = 1;
    s->ctl->sched.replay_len = n;
    return rc;
}

static int sched_prepare(struct contend_run_info *ri, void **state)
{
    const struct contend_case *c = ri->c;
    char path[PATH_MAX];
    int rc;
    struct sstate *s = contend_calloc(1, sizeof *s);
    *state = s;
    s->mode = mode_of_case(c);
    if (ri->nwriters > CONTEND_SCHED_MAX_WRITERS) {
        contend_rep_error(ri->out,
                          "schedule = %s runs at most %d threads in all (procs x threads "
                          "= %u)",
                          contend_sched_mode_name(s->mode), CONTEND_SCHED_MAX_WRITERS,
                          ri->nwriters);
        return -EINVAL;
    }
    s->shim = contend_faults_shim_path();
    if (!s->shim) {
        contend_rep_error(ri->out, "schedule = %s needs the preload shim %s, which is missing",
                          contend_sched_mode_name(s->mode), "contend-faultshim.so");
        return -ENOENT;
    }
    snprintf(path, sizeof path, "%s/control", ri->case_dir);
    if ((rc = contend_control_open(path, &s->ctl)) != 0) {
        contend_rep_error(ri->out, "cannot map %s: %s", path, strerror(-rc));
        return rc;
    }
    s->log_cap = log_capacity(c, ri->nwriters);
    snprintf(path, sizeof path, "%s/schedule.log", ri->case_dir);
    if ((rc = map_log(path, s->log_cap, &s->log)) != 0) {
        contend_rep_error(ri->out, "cannot create %s: %s", path, strerror(-rc));
        return rc;
    }
    const char *file = contend_case_opt(c, "schedule_file");
    if (file && *file && (rc = load_schedule(file, s, ri->out)) != 0)
        return rc;
    uint64_t depth = 2;
    contend_parse_u64(contend_case_opt(c, "depth"), &depth);
    /* PCT's k, the ops over which the change points are drawn: under PCT the
     * threads mostly run one after the other, so the last 1/n of the ops are
     * the last thread's alone, where a priority change cannot reorder
     * anything.  k counts the ops before that: ops x (n - 1) (schedule.c). */
    uint64_t per = c->duration_ns ? c->history_cap : c->ops;
    uint64_t k = per * (ri->nwriters > 1 ? ri->nwriters - 1 : 1);
    uint64_t round_ops = 0;
    contend_parse_u64(contend_case_opt(c, "round_ops"), &round_ops);
    contend_sched_setup(&s->ctl->sched, s->mode, ri->seed, ri->nwriters, (uint32_t)depth, k,
                        round_ops, s->log, s->log_cap);
    return 0;
}

static void sched_environ(void *state, const struct contend_run_info *ri,
                          struct contend_envlist *env)
{
    struct sstate *s = state;
    (void)ri;
    const char *have = contend_envlist_get(env, "LD_PRELOAD");
    if (have && strstr(have, s->shim))
        return; /* the faults extension preloads it already */
    char *pre = contend_faults_preload(s->shim, have);
    contend_envlist_set(env, "LD_PRELOAD", pre);
    free(pre);
}

/* The watchdog: progress is a decision.  A holder that makes none for a
 * quarter of the hang timeout (1 to 5 s) is stuck in a call the shim does
 * not turn into a hand-off; the OS takes over for the rest of the case. */
static void sched_tick(void *state, struct contend_run_info *ri, uint64_t now)
{
    struct sstate *s = state;
    struct contend_sched_shared *sh = &s->ctl->sched;
    if (!ri->t_go || __atomic_load_n(&sh->off, __ATOMIC_ACQUIRE))
        return;
    uint64_t step = __atomic_load_n(&sh->step, __ATOMIC_ACQUIRE);
    uint32_t holder = __atomic_load_n(&sh->token, __ATOMIC_ACQUIRE);
    if (step != s->last_step || s->last_change == 0 || holder == CONTEND_SCHED_NONE) {
        s->last_step = step;
        s->last_change = now;
        return;
    }
    uint64_t grace = ri->c->timeout_ns / 4;
    grace = grace < 1000000000ull ? 1000000000ull : grace > 5000000000ull ? 5000000000ull : grace;
    if (now - s->last_change < grace)
        return;
    uint32_t threads = ri->c->threads ? ri->c->threads : 1;
    char *msg = contend_asprintf("worker %u thread %u held the token for %.1f s without a "
                                 "scheduling point or a known blocking call (after %llu "
                                 "decisions); the OS schedules the rest of this case",
                                 holder / threads, holder % threads,
                                 (double)(now - s->last_change) / 1e9, (unsigned long long)step);
    contend_err("schedule: %s", msg);
    contend_rep_add_event(ri->out, now - ri->t_go, 0, "schedule-fallback", msg);
    free(ri->out->sched.fallback);
    ri->out->sched.fallback = msg;
    contend_sched_fall_back(sh);
}

static int sha256_file(const char *path, char *hex)
{
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return -EIO;
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int write_schedule(const struct sstate *s, const struct contend_run_info *ri,
                          const char *path)
{
    const struct contend_sched_shared *sh = &s->ctl->sched;
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    uint64_t n = sh->step < s->log_cap ? sh->step : s->log_cap;
    fprintf(f,
            "# contend schedule 1\n# mode %s\n# seed %llu\n# depth %u\n# round_ops %llu\n"
            "# writers %u\n# steps %llu\n# step writer from reason point\n",
            contend_sched_mode_name((int)sh->mode), (unsigned long long)ri->seed, sh->depth,
            (unsigned long long)sh->round_ops, sh->n, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const struct contend_sched_entry *e = &s->log[i];
        char from[16] = "-";
        if (e->from != 0xffff)
            snprintf(from, sizeof from, "%u", e->from);
        const char *name = e->name < sh->nnames ? sh->names[e->name] : "-";
        if (e->writer == 0xffff)
            fprintf(f, "%llu - %s %s %s\n", (unsigned long long)i, from,
                    contend_sched_reason_name(e->reason), name);
        else
            fprintf(f, "%llu %u %s %s %s\n", (unsigned long long)i, e->writer, from,
                    contend_sched_reason_name(e->reason), name);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

static void sched_finish(void *state, struct contend_run_info *ri)
{
    struct sstate *s = state;
    if (s->ctl && s->log && ri->t_go) {
        const struct contend_sched_shared *sh = &s->ctl->sched;
        struct contend_sched_info *si = &ri->out->sched;
        char abs[PATH_MAX];
        /* Absolute, so that run.json names it from anywhere. */
        char *path =
            contend_asprintf("%s.schedule", realpath(ri->case_dir, abs) ? abs : ri->case_dir);
        si->mode = contend_sched_mode_name((int)sh->mode);
        si->steps = sh->step;
        si->handoffs = sh->handoffs;
        si->window_handoffs = sh->window_handoffs;
        si->block_yields = sh->block_yields;
        si->replayable = !sh->log_full && !sh->off;
        si->diverged = sh->diverged;
        int rc = write_schedule(s, ri, path);
        if (rc == 0)
            rc = sha256_file(path, si->sha256);
        if (rc == 0) {
            si->file = path;
        } else {
            contend_err("cannot write %s: %s", path, strerror(-rc));
            free(path);
        }
        contend_rep_add_stat(ri->out, "schedule.handoffs", (double)sh->handoffs);
        contend_rep_add_stat(ri->out, "schedule.window_handoffs", (double)sh->window_handoffs);
    }
    if (s->log)
        munmap(s->log, s->log_cap * sizeof *s->log);
    contend_control_close(s->ctl);
    free(s->shim);
    free(s);
}

static const struct contend_extension sched_extension = {
    .name = "schedule",
    .help = "a controlled schedule: one thread at a time, chosen from the seed (random, pct)",
    .keys = sched_keys,
    .active = sched_active,
    .prepare = sched_prepare,
    .environ = sched_environ,
    .tick = sched_tick,
    .finish = sched_finish,
};
CONTEND_EXTENSION_REGISTER(sched_extension)
