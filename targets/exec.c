/*
 * exec.c - a target that is someone else's program, over a line protocol.
 *
 * The user's program (any language) is started with `/bin/sh -c "$cmd"`, once
 * per worker thread (and once each for setup, recover and state), with stdin,
 * stdout and stderr connected to the harness.  Each request is one line, each
 * reply one line, flushed (docs/exec-protocol.md has the table):
 *
 *   harness -> program               program -> harness
 *   setup                            ok | fail REASON        (once, in the runner)
 *   recover                          ok | fail REASON        (a new instance, after a
 *                                                             kill or power cut)
 *   open                             ok | fail REASON        (per thread, at start)
 *   incr KEY 0 0 ID                  ok VALUE                (VALUE -1: unknown)
 *   read KEY 0 0 ID                  ok VALUE
 *   transfer FROM TO AMOUNT ID       ok 1 (moved) | ok 0 (declined)
 *   read-all 0 0 0 ID                ok TOTAL MIN_BALANCE
 *   claim ITEM 0 0 ID                ok 1 (won) | ok 0 (taken)
 *   append SEQ 0 0 ID HEX            ok [SEQ_WRITTEN]        (ledger)
 *   log 0 0 0 ID HEX                 ok                      (log: HEX is the whole line,
 *                                                             without "\n"; files app.log,
 *                                                             app.log.1 ..; state: 0 BACKUPS)
 *   put KEY 0 0 ID HEX               ok                      (cache)
 *   get KEY 0 0 ID                   ok 1 HEX (hit) | ok 0 (miss)
 *   size 0 0 0 ID                    ok RESIDENT MOST_EVER
 *   enqueue MSG 0 0 ID HEX           ok                      (queue)
 *   take 0 0 0 ID                    ok MSG | empty
 *   ack MSG 0 0 ID                   ok
 *   any op                           fail REASON (certainly not done) |
 *                                    info REASON (may have been done)
 *   state                            KEY VALUE lines, then `end` |
 *                                    fail REASON (the store cannot be read:
 *                                    corrupt-store)
 *
 * Payloads and values travel as one token of lowercase or uppercase hex
 * (two digits per byte), so no byte of them can break the line.
 *
 * Why so strict.  A reply that does not parse for the request it answers
 * (a debug print on stdout, a missing value, a second line) is a
 * protocol-error: the case ends as a harness error naming the worker, the
 * request and the line.  Reading on, the next reply would be taken as the
 * answer to the wrong request, and ops turned indeterminate widen the
 * checkers' bounds until real bugs hide.  For the same reason every request
 * has a deadline: `timeout` (9/10 of it for open and ops, so that the
 * program's silence is named before the watchdog calls it a hang;
 * `setup_timeout` and `state_timeout` may differ), and a program that says
 * nothing in time is named with the usual cause, an unflushed stdout.
 * What the program writes to stderr is passed through, each line prefixed
 * with who wrote it.
 *
 * While it works on a request the program may write `point NAME`; the harness
 * then runs the perturbation point (a seeded sleep when `perturb` is on, and
 * a place where faults land) and answers `go`.
 *
 * Under a controlled schedule (`schedule = random | pct`) the worker thread
 * holds the token while its program works, so a program that blocked in its
 * own flock, fcntl lock or sleep would stop every other thread, the lock's
 * holder among them.  Each worker thread's program therefore gets a yield
 * channel (harness/run/schedchan.h, CONTEND_SCHED_CHANNEL): the preload shim
 * in the program sends the call's name over it instead of blocking, and the
 * worker, which waits for the reply and for the channel at once, gives the
 * token up as for a blocking call of its own, and answers once it has the
 * token again.  Setup, recover and state programs, and every program under
 * the OS's schedule, get no channel and run as before.
 *
 * The environment tells the program where it is: every variable of the
 * worker's own (the fault shim's control variables among them, so that `io`
 * rules and power cuts reach the program's calls), plus CONTEND_STORE_DIR,
 * CONTEND_WORKER, CONTEND_THREAD, CONTEND_WORKLOAD, CONTEND_SEED,
 * CONTEND_KEYS, CONTEND_PROCS, CONTEND_THREADS, CONTEND_BANK_INITIAL,
 * CONTEND_LEDGER_FILE, CONTEND_CACHE_CAPACITY and CONTEND_CACHE_TTL_NS.
 *
 * What a reply means is the target ABI's rule: `ok` only when the op took
 * effect.  If the program dies in the middle of an op, the op is
 * indeterminate (it may have written before dying), and every later op of
 * that thread fails: the harness cannot know more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_reply.h"
#include "fatal.h"
#include "history.h"
#include "schedchan.h"
#include "schedule.h"
#include "target.h"
#include "util.h"

#define LINE_MAX_LEN CONTEND_EXEC_LINE_MAX
#define SHOWN_BYTES 200 /* of an offending line, in messages */

static const struct contend_variant exec_variants[] = {
    {"default", "whatever the program does (say `expect` for a broken one)", 0, NULL},
    {NULL, NULL, 0, NULL},
};

static const char *const exec_workloads[] = {"counter", "bank",  "claim", "ledger",
                                             "cache",   "queue", "log",   NULL};

/* `timeout` is also a core key: the option sees the case's value. */
static const struct contend_option exec_options[] = {
    {"cmd", NULL, NULL, "the program, run with /bin/sh -c (required)"},
    {"timeout", "30s", NULL, "the case's timeout: a request unanswered for 9/10 of it is an error",
     CONTEND_OPT_DURATION, 1e6, 864e11},
    {"setup_timeout", NULL, NULL, "deadline of the setup request (default: timeout)",
     CONTEND_OPT_DURATION, 1e6, 864e11},
    {"state_timeout", NULL, NULL, "deadline of the state request (default: timeout)",
     CONTEND_OPT_DURATION, 1e6, 864e11},
    {"ledger_file", "ledger.jsonl", NULL, "ledger: the program's JSONL file in CONTEND_STORE_DIR"},
    {"capacity", "64", NULL, "cache: entries the program's cache may hold (CONTEND_CACHE_CAPACITY)",
     CONTEND_OPT_INT, 1, 1e9},
    {"ttl", "1s", NULL, "cache: time to live of an entry (CONTEND_CACHE_TTL_NS)",
     CONTEND_OPT_DURATION, 1, 864e13},
    {"durable", "no", "yes|no",
     "whether the program promises that acknowledged ops survive a power cut"},
    {NULL, NULL, NULL, NULL},
};

struct proc {
    pid_t pid;
    int in;   /* to the program's stdin */
    int out;  /* from its stdout */
    int err;  /* from its stderr, -1 once closed */
    int chan; /* the yield channel, -1 when none (schedchan.h) */
    bool dead;
    char who[48];        /* "worker 0.1", "setup", ... for messages */
    uint64_t timeout_ns; /* per request */
    size_t start, len;   /* unread bytes of buf */
    char buf[LINE_MAX_LEN];
    char line[LINE_MAX_LEN]; /* the current reply, NUL-terminated */
    size_t line_len;         /* its length: a NUL byte inside must not pass */
    size_t elen;
    char ebuf[1024]; /* a partial stderr line */
    char req[160];   /* the current request, for messages */
};

extern char **environ;

/* ---- the program's environment ------------------------------------------ */

#define NOWN 15

/* The program's environment: the worker's own plus where it is.  Inherited
 * CONTEND_ variables stay (the fault shim finds its control block through
 * them); those we set replace theirs.  Built before fork(), because after
 * fork() in a threaded worker only async-signal-safe calls are allowed. */
static char **build_env(const struct contend_env *env, const char *chan)
{
    uint64_t ttl_ns = 0;
    if (contend_parse_duration_ns(contend_opt(env, "ttl", "1s"), &ttl_ns) != 0)
        ttl_ns = 1000000000ull;
    char *own[NOWN] = {NULL};
    int bad = 0;
    bad |= asprintf(&own[0], "CONTEND_STORE_DIR=%s", env->store_dir) < 0;
    bad |= asprintf(&own[1], "CONTEND_WORKLOAD=%s", env->workload) < 0;
    bad |= asprintf(&own[2], "CONTEND_WORKER=%u", env->worker) < 0;
    bad |= asprintf(&own[3], "CONTEND_THREAD=%u", env->thread) < 0;
    bad |= asprintf(&own[4], "CONTEND_SEED=%" PRIu64, env->seed) < 0;
    bad |= asprintf(&own[5], "CONTEND_KEYS=%" PRIu64, env->keys) < 0;
    bad |= asprintf(&own[6], "CONTEND_PROCS=%u", env->procs) < 0;
    bad |= asprintf(&own[7], "CONTEND_THREADS=%u", env->threads) < 0;
    bad |= asprintf(&own[8], "CONTEND_BANK_INITIAL=%d", CONTEND_BANK_INITIAL) < 0;
    bad |= asprintf(&own[9], "CONTEND_LEDGER_FILE=%s",
                    contend_opt(env, "ledger_file", "ledger.jsonl")) < 0;
    bad |=
        asprintf(&own[10], "CONTEND_CACHE_CAPACITY=%lld", contend_opt_int(env, "capacity", 64)) < 0;
    bad |= asprintf(&own[11], "CONTEND_CACHE_TTL_NS=%" PRIu64, ttl_ns) < 0;
    bad |= asprintf(&own[12], "CONTEND_VARIANT=%s", env->variant ? env->variant : "default") < 0;
    /* The fault shim in the program faults its calls as this thread's
     * (harness/ext/faults/shim.c, "a delegate"); setup, recover and state
     * programs run outside ops and get an empty value. */
    if (env->worker != UINT32_MAX && env->thread != UINT32_MAX)
        bad |= asprintf(&own[13], "CONTEND_FAULTS_DELEGATE=%u:%ld",
                        env->worker * env->threads + env->thread, (long)getpid()) < 0;
    else
        bad |= asprintf(&own[13], "CONTEND_FAULTS_DELEGATE=") < 0;
    /* Empty when there is no channel: never one inherited from elsewhere. */
    bad |= asprintf(&own[14], CONTEND_SCHED_CHANNEL_ENV "=%s", chan) < 0;
    size_t n = 0;
    while (environ[n])
        n++;
    char **v = bad ? NULL : calloc(n + NOWN + 1, sizeof *v);
    if (!v) {
        for (int i = 0; i < NOWN; i++)
            free(own[i]);
        return NULL;
    }
    size_t k = 0;
    for (int i = 0; i < NOWN; i++)
        v[k++] = own[i];
    for (size_t i = 0; i < n; i++) {
        bool ours = false;
        for (int j = 0; j < NOWN && !ours; j++) {
            size_t len = strcspn(own[j], "=") + 1;
            ours = strncmp(environ[i], own[j], len) == 0;
        }
        if (!ours)
            v[k++] = environ[i];
    }
    v[k] = NULL;
    return v;
}

static void free_env(char **v)
{
    for (int i = 0; v && i < NOWN; i++)
        free(v[i]);
    free(v);
}

/* ---- the program's process ----------------------------------------------- */

static uint64_t opt_timeout(const struct contend_env *env, const char *key)
{
    uint64_t ns = 0;
    const char *v = key ? contend_opt(env, key, NULL) : NULL;
    if (v && *v && contend_parse_duration_ns(v, &ns) == 0 && ns > 0)
        return ns;
    if (contend_parse_duration_ns(contend_opt(env, "timeout", "30s"), &ns) != 0 || ns == 0)
        ns = 30000000000ull;
    return ns;
}

/* The yield channel, when this worker is under a controlled schedule: both
 * ends close-on-exec (other threads fork their programs at the same time);
 * the program's end is made inheritable in the child alone.  Its number is
 * kept above stderr, which the child's dup2() calls would overwrite.  *spec
 * gets the variable's value, FD:INODE. */
static int chan_open(int sv[2], char *spec, size_t cap)
{
    struct stat st;
    sv[0] = sv[1] = -1;
    spec[0] = '\0';
    if (!contend_sched_active())
        return 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (sv[1] <= STDERR_FILENO) {
        int fd = fcntl(sv[1], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        int e = fd < 0 ? -errno : 0;
        close(sv[1]);
        sv[1] = fd;
        if (e) {
            close(sv[0]);
            sv[0] = -1;
            return e;
        }
    }
    if (fstat(sv[1], &st) < 0) {
        int e = -errno;
        close(sv[0]);
        close(sv[1]);
        sv[0] = sv[1] = -1;
        return e;
    }
    snprintf(spec, cap, "%d:%llu", sv[1], (unsigned long long)st.st_ino);
    return 0;
}

static void close_fds(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int proc_start(const struct contend_env *env, struct proc *p, const char *who,
                      uint64_t timeout_ns, bool yield_channel)
{
    const char *cmd = contend_opt(env, "cmd", NULL);
    /* to[2], from[2], errp[2], chan[2]: closed on the one error path. */
    int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    int *to = fds, *from = fds + 2, *errp = fds + 4, *chan = fds + 6;
    char spec[48] = "";
    char **envp = NULL;
    char *line = NULL;
    int rc = 0;
    p->in = p->out = p->err = p->chan = -1;
    snprintf(p->who, sizeof p->who, "%s", who);
    p->timeout_ns = timeout_ns;
    if (!cmd || !*cmd) {
        contend_fatal("exec: no program: set cmd=\"...\" (the command line to run)");
        return -EINVAL;
    }
    /* A simple command is exec'd by the shell, so that the program itself is
     * our child and dies with us (PR_SET_PDEATHSIG below): a shell that
     * forks would leave it, stopped by a power cut, holding its locks.  A
     * list or a subshell is left to the shell: write `exec` in it. */
    bool simple = strpbrk(cmd, ";&|()`\n") == NULL;
    if (asprintf(&line, "%s%s", simple ? "exec " : "", cmd) < 0) {
        line = NULL;
        rc = -ENOMEM;
        goto fail;
    }
    if (yield_channel && (rc = chan_open(chan, spec, sizeof spec)) != 0)
        goto fail;
    if (!(envp = build_env(env, spec))) {
        rc = -ENOMEM;
        goto fail;
    }
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = -errno;
        goto fail;
    }
    char *argv[] = {"sh", "-c", line, NULL};
    pid_t parent = getpid();
    p->pid = fork();
    if (p->pid == 0) {
        /* dup2() clears FD_CLOEXEC on the copies, so only these survive exec.
         * The program stays in the worker's process group: a power cut that
         * stops the group stops it too, and a kill of the group kills it. */
        dup2(to[0], 0);
        dup2(from[1], 1);
        dup2(errp[1], 2);
        /* The channel keeps its number (the variable names it); a raw
         * system call, because after fork() only async-signal-safe calls
         * are allowed, and the shim's fcntl may look its target up. */
        if (chan[1] >= 0)
            syscall(SYS_fcntl, chan[1], F_SETFD, 0);
        /* Die with the thread that started it: a killed worker's program
         * must not finish its op, and a power cut's stopped program must not
         * survive holding its locks.  (A shell that forks instead of
         * exec'ing the command passes this on to nobody: write `exec cmd`
         * in compound commands.) */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    if (p->pid < 0) {
        rc = -errno;
        p->pid = 0;
        goto fail;
    }
    free_env(envp);
    free(line);
    close(to[0]);
    close(from[1]);
    close(errp[1]);
    if (chan[1] >= 0)
        close(chan[1]);
    p->in = to[1];
    p->out = from[0];
    p->err = errp[0];
    p->chan = chan[0];
    /* Reads never block: next_line() waits in poll() with a deadline. */
    fcntl(p->out, F_SETFL, O_NONBLOCK);
    fcntl(p->err, F_SETFL, O_NONBLOCK);
    return 0;
fail:
    close_fds(fds, 8);
    free_env(envp);
    free(line);
    return rc;
}

/* Pass complete stderr lines through, prefixed; at EOF the rest too. */
static void forward_stderr(struct proc *p, bool drain)
{
    while (p->err >= 0) {
        ssize_t n = read(p->err, p->ebuf + p->elen, sizeof p->ebuf - 1 - p->elen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(p->err);
                p->err = -1;
            }
            break;
        }
        p->elen += (size_t)n;
        char *s = p->ebuf, *nl;
        while ((nl = memchr(s, '\n', p->elen - (size_t)(s - p->ebuf))) != NULL) {
            fprintf(stderr, "[exec %s] %.*s\n", p->who, (int)(nl - s), s);
            s = nl + 1;
        }
        p->elen -= (size_t)(s - p->ebuf);
        memmove(p->ebuf, s, p->elen);
        if (p->elen == sizeof p->ebuf - 1) { /* a very long line: in pieces */
            fprintf(stderr, "[exec %s] %.*s\n", p->who, (int)p->elen, p->ebuf);
            p->elen = 0;
        }
        if (!drain)
            break;
    }
    if ((drain || p->err < 0) && p->elen) {
        fprintf(stderr, "[exec %s] %.*s\n", p->who, (int)p->elen, p->ebuf);
        p->elen = 0;
    }
}

/* ---- the yield channel ------------------------------------------------------ */

/* One request from the program's shim: its call would block, so this thread
 * gives the token up exactly as for a blocking call of its own (the
 * hand-off is recorded under the call's name) and answers how the token came
 * back.  A closed channel (the program, and whatever it shared the channel
 * with, exited or closed it) is closed here too. */
static void serve_yield(struct proc *p)
{
    char name[CONTEND_SCHED_CHAN_NAME + 1];
    ssize_t n;
    while ((n = recv(p->chan, name, CONTEND_SCHED_CHAN_NAME, MSG_DONTWAIT)) < 0 && errno == EINTR) {
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        close(p->chan);
        p->chan = -1;
        return;
    }
    /* The name goes into the schedule file, one word of a line. */
    for (ssize_t i = 0; i < n; i++)
        if (name[i] <= ' ' || name[i] > '~')
            name[i] = '_';
    name[n] = '\0';
    char how = (char)('0' + contend_sched_would_block(name));
    if (send(p->chan, &how, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
        close(p->chan);
        p->chan = -1;
    }
}

/* A program may still take a lock or sleep on its way out (a flush under
 * flock at exit): answer until it is gone, then close the channel, so that
 * nothing it left behind waits on it. */
static void serve_until_exit(struct proc *p)
{
    while (p->chan >= 0 && p->pid > 0) {
        struct pollfd f = {.fd = p->chan, .events = POLLIN};
        int r = poll(&f, 1, 100);
        if (r > 0 && (f.revents & POLLIN)) {
            serve_yield(p);
            continue;
        }
        if (r > 0)
            break; /* hung up: no process holds the program's end any more */
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            p->pid = 0;
    }
    if (p->chan >= 0)
        close(p->chan);
    p->chan = -1;
}

static void proc_stop(struct proc *p, bool kill_it)
{
    if (p->in >= 0)
        close(p->in); /* EOF tells the program to exit */
    p->in = -1;
    if (p->pid > 0 && kill_it)
        kill(p->pid, SIGKILL);
    if (p->out >= 0)
        close(p->out);
    if (kill_it && p->chan >= 0) {
        close(p->chan);
        p->chan = -1;
    }
    serve_until_exit(p);
    if (p->pid > 0) {
        int st;
        while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
        }
        p->pid = 0;
    }
    /* After the exit, so that its last words are all there. */
    if (p->err >= 0)
        forward_stderr(p, true);
    if (p->err >= 0)
        close(p->err);
    p->out = p->err = -1;
}

/* ---- lines ---------------------------------------------------------------- */

/* `s` as a C-like string literal of at most SHOWN_BYTES bytes. */
static const char *shown(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len && i < SHOWN_BYTES && o + 6 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
    }
    if (len > SHOWN_BYTES && o + 5 < cap)
        o += (size_t)snprintf(out + o, cap - o, "\"...");
    else
        out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* The request as it goes out, shortened for messages. */
static const char *req_shown(const struct proc *p, char *out, size_t cap)
{
    return shown(p->req, strlen(p->req), out, cap);
}

static int send_line(struct proc *p, const char *line, size_t len)
{
    if (p->dead)
        return -ENOTCONN;
    while (len) {
        ssize_t n = write(p->in, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            p->dead = true;
            return -EPIPE;
        }
        line += n;
        len -= (size_t)n;
    }
    return 0;
}

enum { GOT_LINE = 0, GOT_EOF = -1, GOT_TIMEOUT = -2, GOT_TOO_LONG = -3, GOT_YIELD = -4 };

/* The next line from the program's stdout into p->line, by the deadline;
 * GOT_YIELD when, with no line there, the program asks over its yield
 * channel. */
static int next_line(struct proc *p, uint64_t deadline)
{
    for (;;) {
        if (contend_exec_take_line(p->buf, &p->start, p->len, p->line, &p->line_len))
            return GOT_LINE;
        char *s = p->buf + p->start;
        if (p->start) {
            memmove(p->buf, s, p->len - p->start);
            p->len -= p->start;
            p->start = 0;
        }
        if (p->len == sizeof p->buf) {
            memcpy(p->line, p->buf, sizeof p->line - 1);
            p->line[sizeof p->line - 1] = '\0';
            p->line_len = sizeof p->line - 1;
            return GOT_TOO_LONG;
        }
        /* Most replies are already there: try before waiting. */
        ssize_t n = read(p->out, p->buf + p->len, sizeof p->buf - p->len);
        if (n > 0) {
            p->len += (size_t)n;
            continue;
        }
        if (n == 0) {
            memcpy(p->line, p->buf, p->len);
            p->line[p->len] = '\0';
            p->line_len = p->len;
            return GOT_EOF;
        }
        if (errno != EAGAIN && errno != EINTR)
            return GOT_EOF;
        uint64_t now = contend_now_ns();
        if (now >= deadline) {
            memcpy(p->line, p->buf, p->len);
            p->line[p->len] = '\0';
            p->line_len = p->len;
            return GOT_TIMEOUT;
        }
        /* stderr and the channel are polled only while open (fd -1 is
         * skipped by poll()). */
        struct pollfd fds[3] = {{.fd = p->out, .events = POLLIN},
                                {.fd = p->err, .events = POLLIN},
                                {.fd = p->chan, .events = POLLIN}};
        int ms = (int)((deadline - now + 999999) / 1000000);
        int r = poll(fds, 3, ms);
        if (r > 0 && p->err >= 0 && (fds[1].revents & (POLLIN | POLLHUP)))
            forward_stderr(p, false);
        if (r > 0 && p->chan >= 0 && fds[2].revents) {
            if (fds[2].revents & POLLIN)
                return GOT_YIELD;
            close(p->chan); /* hung up, never to be used again */
            p->chan = -1;
        }
    }
}

/* Why a request got no reply, as a message; `fatal` when the case must end. */
static void no_reply(struct proc *p, int got, bool fatal)
{
    char rq[SHOWN_BYTES * 4 + 16], ln[SHOWN_BYTES * 4 + 16];
    if (got == GOT_TIMEOUT) {
        contend_fatal("protocol-error: %s: request %s: no reply line within %.1f s (%s). Is "
                      "stdout flushed after every reply? (Python: print(..., flush=True); C: "
                      "fflush(stdout) or setvbuf line buffering); debug output belongs on stderr",
                      p->who, req_shown(p, rq, sizeof rq), (double)p->timeout_ns / 1e9,
                      p->line[0] ? "only part of one came back" : "no line came back");
    } else if (got == GOT_TOO_LONG) {
        contend_fatal("protocol-error: %s: request %s: reply longer than %d bytes: %s", p->who,
                      req_shown(p, rq, sizeof rq), LINE_MAX_LEN,
                      shown(p->line, strlen(p->line), ln, sizeof ln));
    } else if (fatal) {
        contend_fatal("protocol-error: %s: request %s: the program closed its stdout (exited?) "
                      "without a reply%s%s",
                      p->who, req_shown(p, rq, sizeof rq), p->line[0] ? "; partial line " : "",
                      p->line[0] ? shown(p->line, strlen(p->line), ln, sizeof ln) : "");
    } else {
        /* During an op the program may have died of a planned fault. */
        fprintf(stderr,
                "[exec %s] the program ended during request %s without a reply: that "
                "op is indeterminate and every later op of this thread fails\n",
                p->who, req_shown(p, rq, sizeof rq));
    }
}

/* Send a request and read its reply, serving `point NAME` lines on the way.
 * Returns GOT_LINE with the reply in p->line, or what went wrong (already
 * said, through no_reply()). */
static int exchange(struct proc *p, const char *line, size_t len, bool fatal)
{
    memcpy(p->req, line, len < sizeof p->req ? len : sizeof p->req - 1);
    p->req[len < sizeof p->req ? len - 1 : sizeof p->req - 1] = '\0';
    if (send_line(p, line, len) != 0) {
        p->line[0] = '\0';
        p->line_len = 0;
        no_reply(p, GOT_EOF, fatal);
        return GOT_EOF;
    }
    uint64_t deadline = contend_now_ns() + p->timeout_ns;
    for (;;) {
        int got = next_line(p, deadline);
        if (got == GOT_YIELD) {
            serve_yield(p);
            /* Waiting for the token is not the program's silence. */
            deadline = contend_now_ns() + p->timeout_ns;
            continue;
        }
        if (got != GOT_LINE) {
            p->dead = true;
            no_reply(p, got, fatal || got != GOT_EOF);
            return got;
        }
        if (strncmp(p->line, "point", 5) != 0 || (p->line[5] != ' ' && p->line[5] != '\0'))
            return GOT_LINE;
        contend_point(p->line[5] ? p->line + 6 : "exec");
        if (send_line(p, "go\n", 3) != 0) {
            no_reply(p, GOT_EOF, fatal);
            return GOT_EOF;
        }
    }
}

static void bad_reply(struct proc *p, const char *expected)
{
    char rq[SHOWN_BYTES * 4 + 16], ln[SHOWN_BYTES * 4 + 16];
    contend_fatal("protocol-error: %s: request %s: reply %s does not parse (expected %s; one "
                  "reply line per request, debug output on stderr)",
                  p->who, req_shown(p, rq, sizeof rq), shown(p->line, p->line_len, ln, sizeof ln),
                  expected);
}

/* ---- replies (parsed in exec_reply.c) ------------------------------------ */

/* ok / fail for setup, open, recover: 0, or -EIO with the program's reason
 * said; a reply that is neither is a protocol error. */
static int simple_request(struct proc *p, const char *req)
{
    char line[32];
    size_t n = (size_t)snprintf(line, sizeof line, "%s\n", req);
    if (exchange(p, line, n, true) != GOT_LINE)
        return -EPROTO;
    const char *rest;
    if (contend_exec_word(p->line, "ok", &rest))
        return 0;
    if (contend_exec_word(p->line, "fail", &rest)) {
        /* The store's refusal, not a protocol error: a restarted worker
         * reports it as corrupt-store. */
        fprintf(stderr, "[exec %s] %s: fail %s\n", p->who, req, rest);
        contend_fatal_keep("exec: %s: the program answered %s with: fail %s", p->who, req, rest);
        return -EIO;
    }
    bad_reply(p, "ok or fail REASON");
    return -EPROTO;
}

/* ---- the target ----------------------------------------------------------- */

/* A program started for one request (setup, recover), then told to exit. */
static int one_shot(const struct contend_env *env, const char *req, const char *key)
{
    struct proc *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int rc = proc_start(env, p, req, opt_timeout(env, key), false);
    if (rc == 0)
        rc = simple_request(p, req);
    proc_stop(p, rc != 0);
    free(p);
    return rc;
}

static int exec_setup(const struct contend_env *env)
{
    return one_shot(env, "setup", "setup_timeout");
}

static int exec_recover(const struct contend_env *env)
{
    return one_shot(env, "recover", NULL);
}

static int exec_open(const struct contend_env *env, void **handle)
{
    /* A program that dies must show up as EPIPE on our write, not kill the
     * worker with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    struct proc *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    char who[48];
    snprintf(who, sizeof who, "worker %u.%u", env->worker, env->thread);
    int rc = proc_start(env, p, who, opt_timeout(env, NULL) / 10 * 9, true);
    if (rc == 0)
        rc = simple_request(p, "open");
    if (rc) {
        proc_stop(p, true);
        free(p);
        return rc;
    }
    *handle = p;
    return 0;
}

static const char *request_word(uint32_t kind)
{
    return kind == CONTEND_OP_DEQUEUE ? "take" : contend_op_kind_name(kind);
}

static int exec_apply(void *handle, struct contend_op *op)
{
    struct proc *p = handle;
    if (p->dead) {
        op->err = ENOTCONN;
        return CONTEND_FAIL;
    }
    /* Built in the reply buffer's twin, p->line, which is free until the
     * reply comes: a request with a 4096-byte payload fits. */
    char *line = p->line;
    size_t n = (size_t)snprintf(line, 160, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu64,
                                request_word(op->kind), op->key, op->key2, op->arg, op->id);
    bool payload = op->kind == CONTEND_OP_APPEND || op->kind == CONTEND_OP_PUT ||
                   op->kind == CONTEND_OP_ENQUEUE || op->kind == CONTEND_OP_LOG_APPEND;
    if (payload) {
        line[n++] = ' ';
        n += contend_exec_hex_encode(op->buf, op->buf_len, line + n);
    }
    line[n++] = '\n';
    int got = exchange(p, line, n, false);
    if (got != GOT_LINE) {
        op->err = EPIPE;
        return CONTEND_INFO;
    }
    int status = contend_exec_parse_reply(p->line, p->line_len, op);
    if (status < 0) {
        bad_reply(p, contend_exec_expected(op->kind));
        p->dead = true;
        op->err = EPROTO;
        return CONTEND_INFO;
    }
    return status;
}

static void exec_close(void *handle)
{
    struct proc *p = handle;
    proc_stop(p, false);
    free(p);
}

/* The ledger checker reads store/ledger.jsonl; a program that keeps its
 * ledger under another name gets a link there.  Only a new name is made:
 * the program's file itself is not touched. */
static void link_ledger(const struct contend_env *env)
{
    const char *name = contend_opt(env, "ledger_file", "ledger.jsonl");
    if (strcmp(env->workload, "ledger") != 0 || strcmp(name, "ledger.jsonl") == 0)
        return;
    char *path = NULL;
    if (asprintf(&path, "%s/ledger.jsonl", env->store_dir) < 0)
        return;
    if (symlink(name, path) != 0 && errno != EEXIST)
        fprintf(stderr, "exec: cannot link %s to %s: %s\n", path, name, strerror(errno));
    free(path);
}

static int exec_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    struct proc *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    link_ledger(env);
    int rc = proc_start(env, p, "state", opt_timeout(env, "state_timeout"), false);
    if (rc == 0 && exchange(p, "state\n", 6, true) != GOT_LINE)
        rc = -EPROTO;
    const char *why;
    if (rc == 0 && contend_exec_word(p->line, "fail", &why)) {
        /* The program cannot read its store: the store's failure. */
        char *msg = NULL;
        if (asprintf(&msg, "the program could not report its state: %s", why) >= 0) {
            sink->violation(sink->ctx, "corrupt-store", 1, msg);
            free(msg);
        }
        rc = -EIO;
    }
    while (rc == 0) {
        if (strcmp(p->line, "end") == 0)
            break;
        int64_t kv[2];
        if (contend_exec_ints(p->line, kv, 2) != 2 || kv[0] < 0) {
            bad_reply(p, "KEY VALUE (two integers) or end");
            rc = -EPROTO;
            break;
        }
        sink->value(sink->ctx, (uint64_t)kv[0], kv[1]);
        int got = next_line(p, contend_now_ns() + p->timeout_ns);
        if (got != GOT_LINE) {
            no_reply(p, got, true);
            rc = -EPROTO;
        }
    }
    proc_stop(p, rc != 0);
    free(p);
    return rc;
}

static int exec_durable(const struct contend_env *env)
{
    return strcmp(contend_opt(env, "durable", "no"), "yes") == 0;
}

const struct contend_target contend_target_exec = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "exec",
    .help = "your own program over a line protocol (see docs/exec-protocol.md, examples/exec/)",
    .flags = CONTEND_TARGET_OPEN_PER_THREAD | CONTEND_TARGET_OUT_OF_PROCESS,
    .variants = exec_variants,
    .workloads = exec_workloads,
    .options = exec_options,
    .setup = exec_setup,
    .open = exec_open,
    .apply = exec_apply,
    .close = exec_close,
    .recover = exec_recover,
    .read_state = exec_read_state,
    .durable = exec_durable,
};
CONTEND_TARGET_REGISTER(contend_target_exec)
