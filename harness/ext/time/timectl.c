/*
 * timectl.c - time control: workers on a sped-up or stepped clock.
 *
 * Checking a TTL for real means waiting for it.  Instead the workers of a
 * case run under libfaketime (LD_PRELOAD), configured by the [time] section:
 *
 *   speed = 100        every clock of every worker runs 100x: FAKETIME is
 *                      "+0 x100", so a 10 minute TTL passes in 6 s;
 *   jump = -30m@50%    the wall clock (CLOCK_REALTIME) steps by -30 minutes
 *                      when half of the case's ops are done (or @2s: two real
 *                      seconds after the start); several jumps are separated
 *                      by commas.
 *
 * Jumps.  A real clock step (NTP, an operator, a VM restore) moves the wall
 * clock only; CLOCK_MONOTONIC never steps, and that difference is exactly
 * what a TTL on the wrong clock gets wrong.  libfaketime applies its offset
 * to every clock it fakes, so with jumps the workers get
 * FAKETIME_DONT_FAKE_MONOTONIC=1: the monotonic clock stays real and only the
 * wall clock steps.  The offset lives in a file (FAKETIME_TIMESTAMP_FILE in
 * the case directory, replaced by rename so a reader never sees half of it);
 * libfaketime caches what it read for 10 s by default, so the workers get
 * FAKETIME_NO_CACHE=1 and re-read it on every clock read: a jump is seen at
 * the next clock read after the rename, at the cost of a small read per
 * clock read.  Because the monotonic clock must then stay real, speed and
 * jump are not combined: libfaketime cannot speed up CLOCK_MONOTONIC without
 * also stepping it.
 *
 * One clock for all workers.  Under "x100" libfaketime computes each
 * process's time from the moment it started, so two workers exec'd 10 ms
 * apart would disagree by a second, and a cache shared by processes would
 * expire entries on two different clocks.  libfaketime shares its start time
 * between processes that name the same semaphore and shared memory in
 * FAKETIME_SHARED.  A helper (`contend __faketime-shm`, this binary under the
 * same environment) lets libfaketime create them with their start time, then
 * leaves with _exit() so its destructor does not remove them; every worker
 * gets FAKETIME_SHARED, so all of them compute the same clock and none
 * creates objects of its own.  The helper also proves that the library
 * really loads: a library that ld.so ignores leaves FAKETIME_SHARED unset.
 *
 * Cleanup.  finish() runs whatever happened to the run (failure, crash,
 * Ctrl-C): it removes the timestamp file, the helper's /dev/shm objects and
 * those of any worker pid it saw (a worker would only create its own if the
 * shared ones vanished).  Only a SIGKILLed runner leaves anything behind.
 *
 * Latency.  Under x100 an op that takes 10 us takes 1 ms on the worker's
 * clock.  The history keeps the worker's clock (checkers judge TTLs on the
 * clock the target saw); latencies, the throughput series and the duration
 * are measured on the real clock (harness/run/clock.h), so the figures stay
 * what the machine did.  Sleeps the target or `thinktime` asks for are on
 * the worker's clock, so they are sped up with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "extension.h"
#include "registry.h"
#include "util.h"

extern char **environ;

#define MAX_JUMPS 8

static const struct contend_option time_keys[] = {
    {"time.speed", NULL, NULL, "run every worker's clocks this many times faster (libfaketime)"},
    {"time.jump", NULL, NULL,
     "step the wall clock, e.g. -30m@50% (at half the ops) or +2h@3s; comma-separated"},
    {NULL, NULL, NULL, NULL},
};

struct jump {
    double offset_s; /* the step */
    double pct;      /* at this percentage of the ops (or of `duration`) */
    uint64_t at_ns;  /* or this long after the start, real time */
    bool by_pct, done;
    char text[48];
};

struct timectl {
    char lib[PATH_MAX];
    double speed; /* 0 = not set */
    struct jump jumps[MAX_JUMPS];
    size_t njumps;
    double offset_s; /* the wall clock's offset now */
    char rc_path[PATH_MAX];
    bool rc_written;
    char sem[128], shm[128]; /* libfaketime's shared objects, from the helper */
    pid_t *pids;             /* every process that ran under libfaketime */
    size_t npids, cap;
};

/* ---- parsing -------------------------------------------------------------- */

static int parse_speed(const char *s, double *out)
{
    if (contend_parse_double(s, out) != 0 || !(*out > 0) || *out > 1e6)
        return -EINVAL;
    return 0;
}

/* "+2h@50%", "-30m@3s", "-90@10%": seconds when no unit. */
static int parse_jump(const char *s, struct jump *j)
{
    const char *at = strchr(s, '@');
    char *end;
    memset(j, 0, sizeof *j);
    if (!at || (s[0] != '+' && s[0] != '-'))
        return -EINVAL;
    double v = strtod(s, &end);
    if (end == s + 1 || !isfinite(v))
        return -EINVAL;
    double mult = 1;
    size_t unit = (size_t)(at - end);
    if (unit == 1 && *end == 'm')
        mult = 60;
    else if (unit == 1 && *end == 'h')
        mult = 3600;
    else if (unit == 1 && *end == 'd')
        mult = 86400;
    else if (!(unit == 0 || (unit == 1 && *end == 's')))
        return -EINVAL;
    j->offset_s = v * mult;
    if (fabs(j->offset_s) > 100.0 * 365 * 86400)
        return -ERANGE;
    const char *when = at + 1;
    size_t n = strlen(when);
    if (n > 1 && when[n - 1] == '%') {
        char num[32];
        if (n - 1 >= sizeof num)
            return -EINVAL;
        memcpy(num, when, n - 1);
        num[n - 1] = '\0';
        if (contend_parse_double(num, &j->pct) != 0 || j->pct < 0 || j->pct > 100)
            return -EINVAL;
        j->by_pct = true;
    } else if (contend_parse_duration_ns(when, &j->at_ns) != 0) {
        return -EINVAL;
    }
    snprintf(j->text, sizeof j->text, "%s", s);
    j->text[strcspn(j->text, " ")] = '\0';
    return 0;
}

/* A comma-separated list of jumps; returns how many, or -EINVAL. */
static int parse_jumps(const char *s, struct jump *out, size_t max)
{
    char *copy = contend_strdup(s);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if ((size_t)n == max || parse_jump(tok, &out[n]) != 0) {
            n = -EINVAL;
            break;
        }
        n++;
    }
    free(copy);
    return n == 0 ? -EINVAL : n;
}

static int time_validate(const char *key, const char *value, char **why)
{
    struct jump j[MAX_JUMPS];
    double d;
    if (strcmp(key, "time.speed") == 0 && parse_speed(value, &d) != 0) {
        *why = contend_strdup("expected a speed factor > 0, such as 100 or 0.5");
        return -EINVAL;
    }
    if (strcmp(key, "time.jump") == 0 && parse_jumps(value, j, MAX_JUMPS) < 0) {
        *why = contend_asprintf("expected up to %d steps [+-]N[s|m|h|d]@P%% or @DURATION, "
                                "such as -30m@50%% or +2h@3s",
                                MAX_JUMPS);
        return -EINVAL;
    }
    return 0;
}

static bool time_active(const struct contend_case *c)
{
    return contend_case_opt(c, "time.speed") || contend_case_opt(c, "time.jump");
}

/* ---- finding libfaketime ------------------------------------------------ */

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define MULTIARCH "i386-linux-gnu"
#elif defined(__arm__)
#define MULTIARCH "arm-linux-gnueabihf"
#else
#define MULTIARCH "unknown"
#endif

/* The multi-threaded build first: it serializes libfaketime's own state
 * (the cache of what it read) between the threads of a worker. */
static int find_lib(char *out, size_t len, char **why)
{
    static const char *const dirs[] = {
        "/usr/lib/" MULTIARCH "/faketime", "/usr/lib64/faketime",       "/usr/lib/faketime",
        "/usr/local/lib/faketime",         "/usr/local/lib64/faketime",
    };
    static const char *const names[] = {"libfaketimeMT.so.1", "libfaketime.so.1"};
    const char *forced = getenv("CONTEND_LIBFAKETIME");
    if (forced && *forced) {
        if (access(forced, R_OK) != 0) {
            *why = contend_asprintf("CONTEND_LIBFAKETIME=%s: %s", forced, strerror(errno));
            return -ENOENT;
        }
        snprintf(out, len, "%s", forced);
        return 0;
    }
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
            snprintf(out, len, "%s/%s", dirs[d], names[n]);
            if (access(out, R_OK) == 0)
                return 0;
        }
    }
    *why = contend_strdup("no libfaketimeMT.so.1 or libfaketime.so.1 in /usr/lib/" MULTIARCH
                          "/faketime, /usr/lib64/faketime, /usr/lib/faketime or "
                          "/usr/local/lib*/faketime (install the Debian package libfaketime, "
                          "or set CONTEND_LIBFAKETIME to the library)");
    return -ENOENT;
}

/* ---- the workers' environment ---------------------------------------------- */

static void env_unset(struct contend_envlist *e, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < e->n; i++) {
        if (strncmp(e->v[i], name, len) == 0 && e->v[i][len] == '=') {
            free(e->v[i]);
            memmove(&e->v[i], &e->v[i + 1], (e->n - i) * sizeof e->v[0]); /* with the NULL */
            e->n--;
            return;
        }
    }
}

/* Add `item` to a list variable (LD_PRELOAD, ASAN_OPTIONS), keeping what
 * other extensions or the user put there. */
static void env_append(struct contend_envlist *e, const char *name, const char *item, char sep)
{
    const char *old = contend_envlist_get(e, name);
    if (old && *old) {
        if (strstr(old, item))
            return;
        char *v = contend_asprintf("%s%c%s", old, sep, item);
        contend_envlist_set(e, name, v);
        free(v);
    } else {
        contend_envlist_set(e, name, item);
    }
}

static void faketime_vars(const struct timectl *t, struct contend_envlist *e, bool shared)
{
    char buf[128];
    /* Inherited settings would change what the workers see. */
    static const char *const drop[] = {
        "FAKETIME",
        "FAKETIME_TIMESTAMP_FILE",
        "FAKETIME_NO_CACHE",
        "FAKETIME_CACHE_DURATION",
        "FAKETIME_DONT_FAKE_MONOTONIC",
        "FAKETIME_SHARED",
        "FAKETIME_XRESET",
        "FAKETIME_START_AFTER_SECONDS",
        "FAKETIME_STOP_AFTER_SECONDS",
        "FAKETIME_START_AFTER_NUMCALLS",
        "FAKETIME_STOP_AFTER_NUMCALLS",
        "FAKETIME_DONT_RESET",
    };
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        env_unset(e, drop[i]);
    env_append(e, "LD_PRELOAD", t->lib, ':');
#if defined(__SANITIZE_ADDRESS__)
    /* A preloaded library comes before the ASan runtime in the link order;
     * ASan refuses that unless told it is fine (it is: libfaketime does not
     * allocate through malloc before ASan is up). */
    env_append(e, "ASAN_OPTIONS", "verify_asan_link_order=0", ':');
#endif
    if (t->njumps) {
        contend_envlist_set(e, "FAKETIME_TIMESTAMP_FILE", t->rc_path);
        contend_envlist_set(e, "FAKETIME_NO_CACHE", "1");
        contend_envlist_set(e, "FAKETIME_DONT_FAKE_MONOTONIC", "1");
    } else {
        snprintf(buf, sizeof buf, "+0 x%.6g", t->speed);
        contend_envlist_set(e, "FAKETIME", buf);
    }
    if (shared && t->sem[0]) {
        snprintf(buf, sizeof buf, "%s %s", t->sem, t->shm);
        contend_envlist_set(e, "FAKETIME_SHARED", buf);
    }
}

static void envlist_free(struct contend_envlist *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static void time_environ(void *state, const struct contend_run_info *ri,
                         struct contend_envlist *env)
{
    (void)ri;
    faketime_vars(state, env, true);
}

/* ---- files ------------------------------------------------------------------ */

/* What libfaketime reads: "+0" style offsets in seconds, no unit letters
 * (it looks for m, h, d and y anywhere in the line). */
static int write_rc(struct timectl *t)
{
    char text[64], tmp[PATH_MAX + 8];
    int n = snprintf(text, sizeof text, "%+.3f\n", t->offset_s);
    snprintf(tmp, sizeof tmp, "%s.tmp", t->rc_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write(fd, text, (size_t)n) == n ? 0 : -EIO;
    close(fd);
    t->rc_written = true;
    if (rc == 0 && rename(tmp, t->rc_path) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

static void note_pid(struct timectl *t, pid_t pid)
{
    for (size_t i = 0; i < t->npids; i++)
        if (t->pids[i] == pid)
            return;
    if (t->npids == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->pids = contend_realloc(t->pids, t->cap * sizeof t->pids[0]);
    }
    t->pids[t->npids++] = pid;
}

/* libfaketime's objects are /faketime_sem_PID and /faketime_shm_PID. */
static void remove_shared(const char *sem, const char *shm)
{
    if (sem[0])
        sem_unlink(sem);
    if (shm[0])
        shm_unlink(shm);
}

/* ---- the helper that creates the shared start time ---------------------- */

int contend_cmd_faketime_shm(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *s = getenv("FAKETIME_SHARED");
    if (!s) {
        fputs("contend: libfaketime did not load (FAKETIME_SHARED is not set)\n", stderr);
        _exit(CONTEND_EXIT_HARNESS);
    }
    printf("%s\n", s);
    fflush(stdout);
    /* Not exit(): libfaketime's destructor would remove what it created. */
    _exit(CONTEND_EXIT_OK);
}

/* Well-formed names only: finish() unlinks them. */
static bool parse_shared(const char *line, struct timectl *t)
{
    char sem[128], shm[128];
    if (sscanf(line, "%127s %127s", sem, shm) != 2 || strncmp(sem, "/faketime_sem_", 14) != 0 ||
        strncmp(shm, "/faketime_shm_", 14) != 0 || strchr(sem + 1, '/') || strchr(shm + 1, '/'))
        return false;
    snprintf(t->sem, sizeof t->sem, "%s", sem);
    snprintf(t->shm, sizeof t->shm, "%s", shm);
    return true;
}

static int run_helper(struct timectl *t, struct contend_rep *out)
{
    char self[PATH_MAX], buf[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    int fds[2];
    if (n <= 0 || pipe2(fds, O_CLOEXEC) < 0) {
        contend_rep_error(out, "time: cannot start the libfaketime helper: %s", strerror(errno));
        return -errno;
    }
    self[n] = '\0';
    struct contend_envlist env = {0};
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq) {
            char *name = strndup(*e, (size_t)(eq - *e));
            contend_envlist_set(&env, name, eq + 1);
            free(name);
        }
    }
    faketime_vars(t, &env, false);
    char *argv[] = {self, "__faketime-shm", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        execve(self, argv, env.v);
        _exit(127);
    }
    int err = errno;
    envlist_free(&env);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        contend_rep_error(out, "time: cannot fork the libfaketime helper: %s", strerror(err));
        return -err;
    }
    note_pid(t, pid);
    size_t got = 0;
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    while (got < sizeof buf - 1) {
        int r = poll(&p, 1, 10000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t k = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    close(fds[0]);
    int st = 0;
    kill(pid, SIGKILL); /* it has exited already unless it hung */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!parse_shared(buf, t)) {
        contend_rep_error(out,
                          "time: libfaketime (%s) did not load in a worker process: it "
                          "should have created its shared clock (helper %s)",
                          t->lib, WIFEXITED(st) ? "exited with an error" : "was killed");
        return -ENOEXEC;
    }
    return 0;
}

/* ---- the run --------------------------------------------------------------- */

static void add_event(struct contend_run_info *ri, uint64_t now, const char *kind,
                      const char *detail)
{
    uint64_t t = ri->t_go && now > ri->t_go ? now - ri->t_go : 0;
    contend_rep_add_event(ri->out, t, 0, kind, detail);
}

static int time_prepare(struct contend_run_info *ri, void **state)
{
    struct timectl *t = contend_calloc(1, sizeof *t);
    const char *speed = contend_case_opt(ri->c, "time.speed");
    const char *jumps = contend_case_opt(ri->c, "time.jump");
    char *why = NULL;
    int rc;

    *state = t;
    if (speed && parse_speed(speed, &t->speed) != 0)
        return -EINVAL; /* validated at load time */
    if (jumps) {
        int n = parse_jumps(jumps, t->jumps, MAX_JUMPS);
        if (n < 0)
            return -EINVAL;
        t->njumps = (size_t)n;
    }
    if (speed && jumps) {
        contend_rep_error(ri->out, "time: speed and jump cannot be combined: with a jump the "
                                   "monotonic clock stays real (a clock step never moves it), "
                                   "and libfaketime cannot speed it up without stepping it too");
        return -EINVAL;
    }
    if ((rc = find_lib(t->lib, sizeof t->lib, &why)) != 0) {
        contend_rep_error(ri->out, "time control needs libfaketime: %s", why);
        free(why);
        return rc;
    }
    if (t->njumps) {
        snprintf(t->rc_path, sizeof t->rc_path, "%s/faketime.rc", ri->case_dir);
        if ((rc = write_rc(t)) != 0) {
            contend_rep_error(ri->out, "time: cannot write %s: %s", t->rc_path, strerror(-rc));
            return rc;
        }
    }
    if ((rc = run_helper(t, ri->out)) != 0)
        return rc;
    char *detail =
        t->njumps ? contend_asprintf("libfaketime %s: wall clock steps %s; monotonic clock real "
                                     "(shared start: %s)",
                                     t->lib, jumps, t->shm)
                  : contend_asprintf("libfaketime %s: every clock runs x%g (shared start: %s)",
                                     t->lib, t->speed, t->shm);
    add_event(ri, 0, t->njumps ? "clock-control" : "clock-speed", detail);
    free(detail);
    if (t->speed)
        contend_rep_add_stat(ri->out, "time_speed", t->speed);
    return 0;
}

/* How far the case is, in percent: of its ops, or of its duration. */
static double progress(const struct contend_run_info *ri, uint64_t now)
{
    const struct contend_case *c = ri->c;
    if (c->duration_ns)
        return 100.0 * (double)(now - ri->t_go) / (double)c->duration_ns;
    uint64_t done = 0;
    for (uint32_t i = 0; i < ri->nwriters; i++)
        done += __atomic_load_n(&ri->h[i].hdr->done, __ATOMIC_ACQUIRE);
    double total = (double)c->ops * ri->nwriters;
    return total > 0 ? 100.0 * (double)done / total : 100.0;
}

static void time_tick(void *state, struct contend_run_info *ri, uint64_t now)
{
    struct timectl *t = state;
    for (uint32_t w = 0; w < ri->c->procs; w++)
        if (ri->pids[w] > 0)
            note_pid(t, ri->pids[w]);
    if (!t->njumps || !ri->t_go)
        return;
    double pct = progress(ri, now);
    for (size_t i = 0; i < t->njumps; i++) {
        struct jump *j = &t->jumps[i];
        if (j->done || (j->by_pct ? pct < j->pct : now - ri->t_go < j->at_ns))
            continue;
        j->done = true;
        t->offset_s += j->offset_s;
        int rc = write_rc(t);
        char *detail =
            rc == 0 ? contend_asprintf("wall clock %s (at %.1f%% of the %s); offset now %+.0f s",
                                       j->text, pct, ri->c->duration_ns ? "duration" : "ops",
                                       t->offset_s)
                    : contend_asprintf("wall clock %s failed: cannot write %s: %s", j->text,
                                       t->rc_path, strerror(-rc));
        add_event(ri, now, "clock-jump", detail);
        free(detail);
    }
}

static void time_finish(void *state, struct contend_run_info *ri)
{
    struct timectl *t = state;
    char sem[64], shm[64];
    if (!t)
        return;
    for (size_t i = 0; i < t->njumps && ri->t_go; i++) {
        if (t->jumps[i].done)
            continue;
        char *detail =
            contend_asprintf("wall clock %s never happened: the run ended first", t->jumps[i].text);
        add_event(ri, contend_now_ns(), "clock-jump-missed", detail);
        free(detail);
    }
    if (t->rc_written) {
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", t->rc_path);
        unlink(tmp);
        unlink(t->rc_path);
    }
    remove_shared(t->sem, t->shm);
    for (size_t i = 0; i < t->npids; i++) {
        snprintf(sem, sizeof sem, "/faketime_sem_%ld", (long)t->pids[i]);
        snprintf(shm, sizeof shm, "/faketime_shm_%ld", (long)t->pids[i]);
        remove_shared(sem, shm);
    }
    free(t->pids);
    free(t);
}

static const struct contend_extension time_extension = {
    .name = "time",
    .help = "time control: workers on a sped-up or stepped clock (libfaketime)",
    .section = "time",
    .keys = time_keys,
    .validate = time_validate,
    .active = time_active,
    .prepare = time_prepare,
    .environ = time_environ,
    .tick = time_tick,
    .finish = time_finish,
};
CONTEND_EXTENSION_REGISTER(time_extension)
