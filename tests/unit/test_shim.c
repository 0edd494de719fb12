/*
 * test_shim.c - the fault shim and the power-cut rollback, end to end.
 *
 * Each test writes a fault control block, runs tests/fault_probe with the
 * shim preloaded (as the runner runs a worker: the sanitizer runtime first
 * when there is one), lets it make file calls in a store directory, and then
 * rolls the store back or looks at what the calls returned.  The shim is
 * only ever exercised in another process, through libc's symbols, the way a
 * target meets it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ctl.h"
#include "faults.h"
#include "iorule.h"
#include "powercut.h"
#include "undolog.h"
#include "helpers.h"

#ifndef CONTEND_FAULT_PROBE
#error "CONTEND_FAULT_PROBE must name tests/fault_probe"
#endif
#ifndef CONTEND_FAULT_SHIM_SO
#error "CONTEND_FAULT_SHIM_SO must name the shim"
#endif

struct fx {
    char *dir, *store, *ctl_path, *ulog, *farm;
    struct contend_fault_ctl *ctl;
    size_t ctl_len;
};

static struct fx F;

static void make_ctl(const char *io, bool track, uint64_t seed)
{
    F.ctl_len = contend_fault_ctl_size(1, 1);
    int fd = open(F.ctl_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(ftruncate(fd, (off_t)F.ctl_len), 0);
    F.ctl = mmap(NULL, F.ctl_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(F.ctl != MAP_FAILED);
    F.ctl->magic = CONTEND_FAULTS_CTL_MAGIC;
    F.ctl->version = CONTEND_FAULTS_CTL_VERSION;
    F.ctl->flags = track ? CONTEND_FAULTS_TRACK : 0;
    F.ctl->seed = seed;
    F.ctl->procs = F.ctl->threads = 1;
    F.ctl->map_len = F.ctl_len;
    snprintf(F.ctl->store, sizeof F.ctl->store, "%s", F.store);
    snprintf(F.ctl->ulog, sizeof F.ctl->ulog, "%s", F.ulog);
    snprintf(F.ctl->farm, sizeof F.ctl->farm, "%s", F.farm);
    snprintf(F.ctl->io, sizeof F.ctl->io, "%s", io ? io : "");
    unlink(F.ulog);
    if (track)
        assert_int_equal(contend_ulog_create(F.ulog, 4096, 1 << 20), 0);
}

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    F.dir = test_tmpdir("shim");
    F.store = contend_asprintf("%s/store", F.dir);
    F.ctl_path = contend_asprintf("%s/ctl", F.dir);
    F.ulog = contend_asprintf("%s/undo.log", F.dir);
    F.farm = contend_asprintf("%s/ino", F.dir);
    assert_int_equal(mkdir(F.store, 0755), 0);
    assert_int_equal(mkdir(F.farm, 0755), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (F.ctl)
        munmap(F.ctl, F.ctl_len);
    contend_rm_rf(F.dir);
    free(F.dir);
    free(F.store);
    free(F.ctl_path);
    free(F.ulog);
    free(F.farm);
    return 0;
}

/* Every "%s" in an argument is replaced by the store directory. */
static char *arg(const char *fmt)
{
    char *s = contend_strdup(fmt);
    for (char *p; (p = strstr(s, "%s")) != NULL;) {
        *p = '\0';
        char *next = contend_asprintf("%s%s%s", s, F.store, p + 2);
        free(s);
        s = next;
    }
    return s;
}

/* Run the probe; returns its output, *status its wait status.  It runs in
 * its own process group: a power cut stops the caller's whole group. */
static char *probe(bool preload, int *status, ...)
{
    char *argv[64];
    int n = 0;
    va_list ap;
    argv[n++] = contend_strdup(CONTEND_FAULT_PROBE);
    va_start(ap, status);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 63;)
        argv[n++] = arg(a);
    va_end(ap);
    argv[n] = NULL;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    char *pre = contend_faults_preload(CONTEND_FAULT_SHIM_SO, NULL);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pfd[1], 1);
        close(pfd[0]);
        if (preload) {
            setenv("LD_PRELOAD", pre, 1);
            setenv(CONTEND_FAULTS_ENV, F.ctl_path, 1);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    char *out = contend_calloc(1, 65536);
    size_t len = 0;
    int st = 0;
    bool stopped = false;
    /* Read until EOF; a probe that stopped itself never closes the pipe. */
    for (;;) {
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            ssize_t k = read(pfd[0], out + len, 65535 - len);
            if (k <= 0)
                break;
            len += (size_t)k;
            continue;
        }
        if (!stopped && waitpid(pid, &st, WNOHANG | WUNTRACED) == pid && WIFSTOPPED(st)) {
            stopped = true;
            kill(pid, SIGKILL);
        }
    }
    close(pfd[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    *status = stopped ? -1 : st; /* -1: it stopped itself (a power cut) */
    free(pre);
    for (int i = 0; i < n; i++)
        free(argv[i]);
    return out;
}

static char *slurp(const char *name)
{
    char *path = contend_asprintf("%s/%s", F.store, name);
    char *buf = NULL;
    size_t len = 0;
    if (contend_read_file(path, &buf, &len) != 0)
        buf = NULL;
    free(path);
    return buf;
}

static bool exists(const char *name)
{
    char *path = contend_asprintf("%s/%s", F.store, name);
    bool e = access(path, F_OK) == 0;
    free(path);
    return e;
}

static void rollback(int policy, unsigned sector, uint64_t seed, struct contend_cut_report *r)
{
    assert_int_equal(contend_powercut_rollback(F.ulog, F.farm, policy, sector, seed, r), 0);
    assert_int_equal(r->errors, 0);
}

/* `st` by address: the probe's call, in the same argument list, sets it. */
static void expect_exit0(char *out, const int *st)
{
    if (!WIFEXITED(*st) || WEXITSTATUS(*st) != 0)
        fail_msg("probe failed (status %d): %s", *st, out);
    free(out);
}

/* ---- undo log roll-back ----------------------------------------------------- */

static void test_overwrite_and_append_roll_back(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    /* Durable: the file, its name (directory fsynced) and "hello world". */
    expect_exit0(probe(true, &st, "open:%s:d", "fsync", "close", "open:%s/f:c",
                       "pwrite:0:hello world", "fsync", "open:%s:d", "fsync", "close",
                       /* Not durable: an overwrite and an append. */
                       "open:%s/f", "pwrite:0:HELLO", "pwrite:11:!!!", "write:x", NULL),
                 &st);
    char *s = slurp("f");
    assert_string_equal(s, "xELLO world!!!"); /* write() at the offset, 0 */
    free(s);
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    s = slurp("f");
    assert_string_equal(s, "hello world");
    free(s);
    assert_int_equal(r.volatile_, 3);
    assert_int_equal(r.undone, 3);
}

static void test_prefix_keeps_an_ordered_prefix(void **state)
{
    (void)state;
    const char *states[] = {"aaaa", "baaa", "bbaa", "bbba", "bbbb"};
    bool seen[5] = {false};
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct contend_cut_report r;
        int st;
        char *path = contend_asprintf("%s/f", F.store);
        unlink(path);
        free(path);
        contend_rm_rf(F.farm);
        mkdir(F.farm, 0755);
        make_ctl(NULL, true, seed);
        expect_exit0(probe(true, &st, "open:%s/f:c", "pwrite:0:aaaa", "fsync", "open:%s:d", "fsync",
                           "open:%s/f", "pwrite:0:b", "pwrite:1:b", "pwrite:2:b", "pwrite:3:b",
                           NULL),
                     &st);
        rollback(CONTEND_CUT_PREFIX, 512, seed, &r);
        char *s = slurp("f");
        int which = -1;
        for (int i = 0; i < 5; i++)
            if (strcmp(s, states[i]) == 0)
                which = i;
        if (which < 0)
            fail_msg("seed %llu: %s is no prefix of the writes", (unsigned long long)seed, s);
        seen[which] = true;
        free(s);
        munmap(F.ctl, F.ctl_len);
        F.ctl = NULL;
    }
    int distinct = 0;
    for (int i = 0; i < 5; i++)
        distinct += seen[i];
    assert_true(distinct >= 3); /* the seed chooses the prefix */
}

static void test_torn_writes_tear_at_sector_boundaries(void **state)
{
    (void)state;
    int torn_seen = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct contend_cut_report r;
        int st;
        char *path = contend_asprintf("%s/f", F.store);
        unlink(path);
        free(path);
        make_ctl(NULL, true, seed);
        /* 1000 durable bytes of 'o', then 2000 bytes of 'n' from offset 100. */
        expect_exit0(probe(true, &st, "open:%s/f:c", "fill:0:1000:o", "fsync", "open:%s:d", "fsync",
                           "open:%s/f", "fill:100:2000:n", NULL),
                     &st);
        rollback(CONTEND_CUT_TORN, 512, seed, &r);
        char *s = slurp("f");
        size_t len = strlen(s);
        /* new bytes from 100 up to a cut p in {100, 512, 1024, 1536, 2048, 2100};
         * old bytes from p up to 1000; the size is max(1000, p). */
        size_t p = 100;
        while (p < len && s[p] == 'n')
            p++;
        assert_true(p == 100 || p == 2100 || p % 512 == 0);
        assert_int_equal(len, p > 1000 ? p : 1000);
        for (size_t i = 0; i < len; i++)
            assert_int_equal(s[i], i < 100 || i >= p ? 'o' : 'n');
        torn_seen += p != 100 && p != 2100;
        free(s);
        munmap(F.ctl, F.ctl_len);
        F.ctl = NULL;
    }
    assert_true(torn_seen > 0);
}

static void test_truncation_and_o_trunc_roll_back(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    expect_exit0(probe(true, &st, "open:%s/f:c", "write:0123456789", "fsync", "open:%s/g:c",
                       "write:keep me", "fsync", "open:%s:d", "fsync", "open:%s/f", "trunc:4",
                       "open:%s/g:wt", "write:new", NULL),
                 &st);
    char *f = slurp("f"), *g = slurp("g");
    assert_string_equal(f, "0123");
    assert_string_equal(g, "new");
    free(f);
    free(g);
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    f = slurp("f");
    g = slurp("g");
    assert_string_equal(f, "0123456789");
    assert_string_equal(g, "keep me");
    free(f);
    free(g);
}

static void test_fdatasync_and_sync_make_durable(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    expect_exit0(probe(true, &st, "open:%s:d", "fsync", "open:%s/f:c", "write:one", "fdatasync",
                       "write:two", "sync", "write:three", NULL),
                 &st);
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    char *s = slurp("f");
    assert_string_equal(s, "onetwo"); /* sync covered the create, too */
    free(s);
}

/* ---- directory entries ----------------------------------------------------------- */

static void test_directory_entries_roll_back(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    expect_exit0(probe(true, &st,
                       /* Durable: a, x, y with their contents and names. */
                       "open:%s/a:c", "write:A", "fsync", "open:%s/x:c", "write:X", "fsync",
                       "open:%s/y:c", "write:Y", "fsync", "open:%s:d", "fsync",
                       /* Not durable: a new file b renamed to c, a removed, x over y. */
                       "open:%s/b:c", "write:B", "fsync", "rename:%s/b:%s/c", "unlink:%s/a",
                       "rename:%s/x:%s/y", "creat:%s/t", NULL),
                 &st);
    assert_false(exists("a"));
    assert_true(exists("c"));
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    char *a = slurp("a"), *x = slurp("x"), *y = slurp("y");
    assert_non_null(a);
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(a, "A");
    assert_string_equal(x, "X");
    assert_string_equal(y, "Y");
    free(a);
    free(x);
    free(y);
    assert_false(exists("b"));
    assert_false(exists("c"));
    assert_false(exists("t"));
    assert_int_equal(r.names, 6); /* create b, rename b, unlink a, rename x + victim y, create t */
}

static void test_directory_fsync_makes_a_rename_durable(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    expect_exit0(probe(true, &st, "open:%s/tmp:c", "write:new", "fsync", "close",
                       "rename:%s/tmp:%s/doc", "open:%s:d", "fsync", NULL),
                 &st);
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    char *s = slurp("doc");
    assert_string_equal(s, "new");
    free(s);
    assert_int_equal(r.volatile_, 0);
}

/* Two processes open(O_CREAT) the same file: B sees it absent, then A
 * creates it and makes it durable (file and directory fsynced), then B opens
 * it.  B created nothing, so a cut must not undo a create of B's: the file
 * stays.  CONTEND_SHIM_CREATE_DELAY_MS holds B between its look and its log
 * entry, so A runs in between (given half a second to start: on a machine
 * too slow for that, A runs after B and the test passes without the race). */
static void test_a_create_raced_by_another_process_is_not_undone(void **state)
{
    (void)state;
    struct contend_cut_report r;
    int st;
    make_ctl(NULL, true, 1);
    fflush(NULL);
    pid_t b = fork();
    assert_true(b >= 0);
    if (b == 0) {
        setenv("CONTEND_SHIM_CREATE_DELAY_MS", "1500", 1);
        char *out = probe(true, &st, "open:%s/f:c", "close", NULL);
        _exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strncmp(out, "0 -", 3) == 0 ? 0 : 1);
    }
    struct timespec half = {.tv_sec = 0, .tv_nsec = 500000000L};
    nanosleep(&half, NULL);
    expect_exit0(probe(true, &st, "open:%s/f:c", "write:A", "fsync", "open:%s:d", "fsync", NULL),
                 &st);
    assert_int_equal(waitpid(b, &st, 0), b);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    rollback(CONTEND_CUT_DROP, 512, 1, &r);
    char *f = slurp("f");
    assert_non_null(f);
    assert_string_equal(f, "A");
    free(f);
    assert_int_equal(r.names, 0);
}

/* ---- io errors --------------------------------------------------------------------- */

static void test_nth_call_errors(void **state)
{
    (void)state;
    int st;
    make_ctl("pwrite:EIO@3, fsync:ENOSPC@2+", false, 1);
    char *out =
        probe(true, &st, "open:%s/f:c",
              /* Outside an op: never failed, never counted. */
              "pwrite:0:a", "pwrite:0:a", "pwrite:0:a", "fsync", "fsync", "op:0:0:0", "pwrite:0:a",
              "pwrite:0:b", "pwrite:0:c", "pwrite:0:d", "fsync", "fsync", "fsync", "end", NULL);
    assert_string_equal(out, "0 -\n1 -\n1 -\n1 -\n0 -\n0 -\n0 -\n"
                             "1 -\n1 -\n-1 EIO\n1 -\n0 -\n-1 ENOSPC\n-1 ENOSPC\n0 -\n");
    expect_exit0(out, &st);
    assert_int_equal(F.ctl->nevents, 3);
    assert_int_equal(F.ctl->ev[0].err, EIO);
    assert_int_equal(F.ctl->ev[0].call, CONTEND_CALL_PWRITE);
    assert_int_equal(F.ctl->ev[1].err, ENOSPC);
    /* Counted per writer over the run: a later op does not start again. */
    assert_int_equal(contend_fault_ctl_io_calls(F.ctl, 0)[0], 4);
}

static void test_short_writes(void **state)
{
    (void)state;
    int st;
    make_ctl("write:short@1, pwrite:short@2", false, 1);
    char *out = probe(true, &st, "open:%s/f:c", "op:0:0:0", "write:0123456789", "writev:xy:z",
                      "pwrite:8:abcdef", "pwrite:8:ABCDEF", "end", NULL);
    assert_string_equal(out, "0 -\n0 -\n5 -\n3 -\n6 -\n3 -\n0 -\n");
    expect_exit0(out, &st);
    char *s = slurp("f");
    assert_string_equal(s, "01234xyzABCdef");
    free(s);
    assert_int_equal(F.ctl->ev[0].aux, 5);
    assert_int_equal(F.ctl->ev[1].aux, 3);
}

static void test_errors_on_names_and_opens(void **state)
{
    (void)state;
    int st;
    make_ctl("open:EROFS@2, rename+unlink:EIO@1+, ftruncate:EFBIG@1", false, 1);
    char *out = probe(true, &st, "op:0:0:0", "open:%s/f:c", "trunc:0", "open:%s/g:c",
                      "rename:%s/f:%s/h", "unlink:%s/f", "end", NULL);
    assert_string_equal(out, "0 -\n0 -\n-1 EFBIG\n-1 EROFS\n-1 EIO\n-1 EIO\n0 -\n");
    expect_exit0(out, &st);
    assert_true(exists("f"));
}

static void test_probability_is_seeded(void **state)
{
    (void)state;
    char *outs[2];
    for (int k = 0; k < 2; k++) {
        int st;
        make_ctl("pwrite:EIO@50%", false, 7);
        const char *args[40];
        int n = 0;
        args[n++] = "open:%s/f:c";
        args[n++] = "op:0:0:0";
        for (int i = 0; i < 30; i++)
            args[n++] = "pwrite:0:z";
        char *out = probe(true, &st, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                          args[7], args[8], args[9], args[10], args[11], args[12], args[13],
                          args[14], args[15], args[16], args[17], args[18], args[19], args[20],
                          args[21], args[22], args[23], args[24], args[25], args[26], args[27],
                          args[28], args[29], args[30], args[31], NULL);
        assert_true(WIFEXITED(st));
        outs[k] = out;
        munmap(F.ctl, F.ctl_len);
        F.ctl = NULL;
    }
    assert_string_equal(outs[0], outs[1]); /* same seed, same failures */
    int failed = 0;
    for (char *p = outs[0]; (p = strstr(p, "EIO")) != NULL; p++)
        failed++;
    assert_true(failed > 3 && failed < 27);
    free(outs[0]);
    free(outs[1]);
}

static void test_io_rule_syntax(void **state)
{
    (void)state;
    struct contend_io_rule r[CONTEND_FAULTS_MAX_RULES];
    size_t n;
    char why[256];
    assert_int_equal(
        contend_io_rules_parse("write+pwrite:ENOSPC@5+, fsync:EIO@0.5%", r, 8, &n, why, sizeof why),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].calls, (1u << CONTEND_CALL_WRITE) | (1u << CONTEND_CALL_PWRITE));
    assert_int_equal(r[0].err, ENOSPC);
    assert_int_equal(r[0].nth, 5);
    assert_true(r[0].from);
    assert_int_equal(r[1].ppm, 5000);
    assert_int_equal(contend_io_rules_parse("", r, 8, &n, why, sizeof why), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {
        "fsync",       "fsync:EIO",   "read:EIO@1",     "fsync:EWHAT@1", "fsync:short@1",
        "fsync:EIO@0", "fsync:EIO@x", "fsync:EIO@101%", "write+:EIO@1",  "fsync:EIO@1%%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (contend_io_rules_parse(bad[i], r, 8, &n, why, sizeof why) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(contend_io_rules_parse("fsync:EIO@1,fsync:EIO@1", r, 1, &n, why, sizeof why),
                     -EINVAL);
    assert_string_equal(contend_io_call_name(CONTEND_CALL_RENAME), "rename");
}

/* ---- kills and power cuts inside a write --------------------------------------- */

static void test_kill_inside_a_write(void **state)
{
    (void)state;
    int st;
    make_ctl(NULL, true, 3);
    /* The first store-changing call of op 5 is the pwrite (prev_calls = 0:
     * the call is drawn from 4, so make the op's first four calls writes). */
    char *out = probe(true, &st, "open:%s/f:c", "op:0:5:1", "fill:100:10000:k", "fill:100:10000:k",
                      "fill:100:10000:k", "fill:100:10000:k", "end", NULL);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(F.ctl->nevents, 1);
    const struct contend_fault_event *e = &F.ctl->ev[0];
    assert_int_equal(e->type, CONTEND_EV_KILL);
    assert_int_equal(e->idx, 5);
    assert_int_equal(e->site, CONTEND_SITE_WRITE);
    /* A page-aligned prefix: 0, 3996 (up to 4096) or 8092 bytes. */
    assert_true(e->aux == 0 || e->aux == 3996 || e->aux == 8092);
    assert_int_equal(contend_fault_ctl_worker(F.ctl, 0)->planned, 1);
    /* The undo log says what the write did, not what it asked for: a torn
     * cut must not "keep" bytes that never reached the file. */
    struct contend_ulog log;
    assert_int_equal(contend_ulog_open(F.ulog, &log), 0);
    const struct contend_ulog_entry *last = NULL;
    for (uint64_t i = 0; i < log.hdr->nslots; i++)
        if (log.ent[i].type == CONTEND_ULOG_WRITE)
            last = &log.ent[i];
    assert_non_null(last);
    assert_int_equal(last->len, e->aux);
    contend_ulog_close(&log);
    free(out);
}

static void test_cut_inside_a_rename(void **state)
{
    (void)state;
    int st;
    make_ctl(NULL, true, 3);
    char *out = probe(true, &st, "open:%s/a:c", "write:a", "op:0:9:2", "rename:%s/a:%s/b",
                      "rename:%s/b:%s/c", "rename:%s/c:%s/d", "rename:%s/d:%s/e", "end", NULL);
    assert_int_equal(st, -1); /* stopped its process group */
    assert_int_equal(F.ctl->cut_req, 1);
    assert_int_equal(F.ctl->cut_idx, 9);
    assert_int_equal(F.ctl->cut_site, CONTEND_SITE_WRITE);
    free(out);
}

static void test_pending_action_when_the_op_changes_nothing(void **state)
{
    (void)state;
    int st;
    make_ctl(NULL, false, 3);
    char *out = probe(true, &st, "op:0:1:1", "end", "op:0:2:0", "end", NULL);
    assert_string_equal(out, "0 -\n1 -\n0 -\n0 -\n");
    expect_exit0(out, &st);
}

static void test_without_the_control_block_the_shim_forwards(void **state)
{
    (void)state;
    int st;
    make_ctl("pwrite:EIO@1+", true, 1);
    char *pre = contend_faults_preload(CONTEND_FAULT_SHIM_SO, NULL);
    setenv("LD_PRELOAD", pre, 1); /* for the probe only: unset below */
    unsetenv(CONTEND_FAULTS_ENV);
    char *out = probe(false, &st, "open:%s/f:c", "op:0:0:0", "pwrite:0:abc", "end", NULL);
    unsetenv("LD_PRELOAD");
    free(pre);
    assert_string_equal(out, "0 -\n0 -\n3 -\n0 -\n");
    expect_exit0(out, &st);
    struct contend_ulog log;
    assert_int_equal(contend_ulog_open(F.ulog, &log), 0);
    assert_int_equal(log.hdr->nslots, 0);
    contend_ulog_close(&log);
}

static void test_files_outside_the_store_are_left_alone(void **state)
{
    (void)state;
    int st;
    make_ctl("pwrite:EIO@1+", true, 1);
    char *out = probe(true, &st, "op:0:0:0", "open:%s-outside:c", "pwrite:0:abc", "end", NULL);
    assert_string_equal(out, "0 -\n0 -\n3 -\n0 -\n");
    expect_exit0(out, &st);
    /* A path that starts with the store's but leaves it through "..". */
    out = probe(true, &st, "op:0:0:0", "open:%s/../dotdot-outside:c", "pwrite:0:abc",
                "open:%s/./..//dotdot-outside2:c", "pwrite:0:abc", "end", NULL);
    assert_string_equal(out, "0 -\n0 -\n3 -\n0 -\n3 -\n0 -\n");
    expect_exit0(out, &st);
    /* ...and one that only looks odd stays inside: its write fails. */
    out = probe(true, &st, "op:0:0:0", "open:%s//.//f:c", "pwrite:0:abc", "end", NULL);
    assert_string_equal(out, "0 -\n0 -\n-1 EIO\n0 -\n");
    expect_exit0(out, &st);
}

/* ---- helpers of the extension ---------------------------------------------------- */

static void test_policy_names_and_preload(void **state)
{
    (void)state;
    int p = -1;
    assert_int_equal(contend_cut_policy_parse("torn", &p), 0);
    assert_int_equal(p, CONTEND_CUT_TORN);
    assert_int_equal(contend_cut_policy_parse("maybe", &p), -EINVAL);
    assert_string_equal(contend_cut_policy_name(CONTEND_CUT_PREFIX), "prefix");
    assert_string_equal(contend_cut_policy_name(CONTEND_CUT_DROP), "drop");
    char *s = contend_faults_preload("/x/shim.so", "/y/other.so");
    assert_non_null(strstr(s, "/x/shim.so /y/other.so"));
    free(s);
    setenv("CONTEND_FAULT_SHIM", CONTEND_FAULT_SHIM_SO, 1);
    s = contend_faults_shim_path();
    assert_string_equal(s, CONTEND_FAULT_SHIM_SO);
    free(s);
    setenv("CONTEND_FAULT_SHIM", "/nonexistent/shim.so", 1);
    assert_null(contend_faults_shim_path());
    unsetenv("CONTEND_FAULT_SHIM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overwrite_and_append_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_keeps_an_ordered_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_writes_tear_at_sector_boundaries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncation_and_o_trunc_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fdatasync_and_sync_make_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_entries_roll_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_create_raced_by_another_process_is_not_undone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_directory_fsync_makes_a_rename_durable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nth_call_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_on_names_and_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probability_is_seeded, setup, teardown),
        cmocka_unit_test(test_io_rule_syntax),
        cmocka_unit_test_setup_teardown(test_kill_inside_a_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_inside_a_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_action_when_the_op_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_without_the_control_block_the_shim_forwards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_files_outside_the_store_are_left_alone, setup,
                                        teardown),
        cmocka_unit_test(test_policy_names_and_preload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
