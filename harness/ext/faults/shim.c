/*
 * shim.c - the fault shim: an LD_PRELOAD library loaded into workers only.
 *
 * It stands between a target and libc for the calls that change files:
 * open (creat, openat, the 64 and fortified _2 forms), write, pwrite, writev,
 * ftruncate, fsync, fdatasync, sync, syncfs, rename (renameat, renameat2),
 * unlink (unlinkat), close and dup2/dup3.  For files under the case's store
 * directory, and only there, it
 *
 *   - fails chosen calls with an explicit errno or makes a write short (the
 *     `io` rules, iorule.h), counted per writer and seeded per op, so that an
 *     injected error replays;
 *   - records in the undo log (undolog.h) what every change overwrites, and
 *     which fsyncs made what durable, so that the runner can roll the store
 *     back to what a disk would hold after a power cut;
 *   - kills its own process, or stops its process group for a power cut,
 *     inside an op's store-changing call, when the worker armed it for that
 *     op (contend_shim_op): a write is then cut at a page boundary, as the
 *     kernel does when a fatal signal arrives between pages.
 *
 * A delegate.  The exec target's program does its worker thread's ops in
 * another process.  With CONTEND_FAULTS_DELEGATE ("WRITER:WORKER_PID") in
 * its environment, the shim loaded into that program takes the op state
 * from the writer's mirror in the control block (published by the worker's
 * shim at each op's start and end) instead of from its own thread, so the
 * io rules fail the program's calls and an armed kill or cut fires inside
 * the program's own write.  A kill takes the worker down with the program
 * (the program dies with its worker through PR_SET_PDEATHSIG in any case),
 * so the runner restarts the worker as after any planned kill.
 *
 * Without CONTEND_FAULTS_CTL in the environment the shim only forwards:
 * one load and a branch per call, nothing else (README "Faults" has the
 * figure).  The shim sees calls through libc's exported symbols; stdio
 * streams (fwrite, fclose) write through libc's internal entry points and
 * are not seen, nor are mmap writes, fallocate or copy_file_range.
 *
 * Under a sanitizer the shim is built with the same flags, and the runner
 * preloads the sanitizer's runtime before it (faults.c), which is what ASan
 * requires of any preloaded library.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/file.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "ctl.h"
#include "iorule.h"
#include "undolog.h"
#include "schedchan.h"
#include "schedule.h"

#define PAGE 4096u
#define MAX_FD 4096
#define SALT_SITE 0x73697465ull
#define SALT_IO 0x696f6572ull
#define SALT_TEAR 0x74656172ull

/* ---- the real functions ------------------------------------------------ */

typedef int (*openat_fn)(int, const char *, int, ...);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*fsync_fn)(int);
typedef int (*fdatasync_fn)(int);
typedef int (*syncfs_fn)(int);
typedef int (*close_fn)(int);
typedef void (*sync_fn)(void);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*unlinkat_fn)(int, const char *, int);
typedef int (*dup3_fn)(int, int, int);

static struct {
    void *openat, *write, *pwrite, *writev, *ftruncate, *fsync, *fdatasync, *syncfs, *close, *sync,
        *renameat2, *unlinkat, *dup3;
} real;

/* Resolved on first use (another library's constructor may write before
 * ours); threads may race to resolve, and all store the same address. */
static void *resolve(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!p) {
        p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, p, __ATOMIC_RELAXED);
    }
    return p;
}

#define REAL(fn) ((fn##_fn)resolve(&real.fn, #fn))

/* ---- configuration and state ------------------------------------------- */

#define FD_TRACKED 0x1u
#define FD_DIR 0x2u
#define FD_APPEND 0x4u
#define FD_SYNC 0x8u

/* Per descriptor, written at open and close, read by any thread: atomics,
 * because the kernel's ordering of close and a reuse of the number is
 * invisible to a thread sanitizer. */
struct fdinfo {
    uint32_t flags;
    uint64_t dev, ino;
};
static struct fdinfo fds[MAX_FD];

static struct {
    int active; /* the control block is mapped */
    int track;  /* keep the undo log */
    struct contend_fault_ctl *ctl;
    size_t ctl_len;
    struct contend_ulog log;
    size_t store_len;
    struct contend_io_rule rules[CONTEND_FAULTS_MAX_RULES];
    size_t nrules;
    /* Tests only (CONTEND_SHIM_CREATE_DELAY_MS): sleep between seeing that
     * a file is absent and logging its create, to widen the race that
     * log_create() must survive. */
    unsigned create_delay_ms;
    /* A delegate's writer, its worker, and the mirror's generation when the
     * program started (a dead predecessor's op is not this program's). */
    int delegate;
    uint32_t dwriter;
    pid_t dworker_pid;
    uint64_t dgen_start;
} S;

/* The op the calling thread runs, set by the worker. */
static __thread struct {
    int in_op;
    int action; /* enum contend_fault_action still to fire */
    uint32_t worker, writer;
    uint64_t idx;
    uint32_t calls;      /* store-changing calls so far in this op */
    uint32_t at_call;    /* fire the action at this one */
    uint32_t prev_calls; /* store-changing calls of the last op that had any */
    uint32_t checks;     /* calls checked against the io rules in this op */
    uint64_t gen;        /* a delegate: the mirror generation T was loaded from */
} T;

static struct contend_fault_mirror *mirror(uint32_t writer)
{
    if (writer >= S.ctl->procs * S.ctl->threads)
        return NULL;
    return contend_fault_ctl_mirror(S.ctl, writer);
}

/* A delegate: the op its worker is in now, into T. */
static void delegate_sync(void)
{
    if (!S.delegate)
        return;
    struct contend_fault_mirror *m = mirror(S.dwriter);
    uint64_t g = m ? __atomic_load_n(&m->gen, __ATOMIC_ACQUIRE) : 0;
    if (!m || g == T.gen)
        return;
    T.gen = g;
    int live = g != S.dgen_start;
    T.in_op = live && m->in_op;
    T.worker = m->worker;
    T.writer = S.dwriter;
    T.idx = m->idx;
    T.action = T.in_op ? (int)m->action : CONTEND_ACT_NONE;
    T.at_call = m->at_call;
    T.calls = 0;
    T.checks = 0;
}

/* The worker's side: publish the op T now describes. */
static void mirror_publish(void)
{
    struct contend_fault_mirror *m = mirror(T.writer);
    if (!m)
        return;
    if (!T.in_op && m->calls)
        m->prev_calls = m->calls;
    m->idx = T.idx;
    m->in_op = (uint32_t)T.in_op;
    m->action = (uint32_t)T.action;
    m->at_call = T.at_call;
    m->worker = T.worker;
    if (T.in_op)
        m->calls = 0;
    __atomic_store_n(&m->gen, m->gen + 1, __ATOMIC_RELEASE);
}

static void shim_die(const char *msg)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "contend fault shim: %s\n", msg);
    if (n > 0)
        REAL(write)(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    _exit(4);
}

__attribute__((constructor)) static void shim_init(void)
{
    const char *path = getenv(CONTEND_FAULTS_ENV);
    char why[256];
    struct stat st;
    if (!path || !*path)
        return;
    int fd = REAL(openat)(AT_FDCWD, path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct contend_fault_ctl))
        shim_die("cannot open the fault control block named by " CONTEND_FAULTS_ENV);
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REAL(close)(fd);
    if (p == MAP_FAILED)
        shim_die("cannot map the fault control block");
    S.ctl = p;
    S.ctl_len = (size_t)st.st_size;
    if (S.ctl->magic != CONTEND_FAULTS_CTL_MAGIC || S.ctl->version != CONTEND_FAULTS_CTL_VERSION)
        shim_die("the fault control block has another version");
    if (contend_io_rules_parse(S.ctl->io, S.rules, CONTEND_FAULTS_MAX_RULES, &S.nrules, why,
                               sizeof why) != 0)
        shim_die(why);
    S.store_len = strlen(S.ctl->store);
    const char *del = getenv(CONTEND_FAULTS_DELEGATE_ENV);
    if (del && *del) {
        char *end;
        unsigned long w = strtoul(del, &end, 10);
        if (*end == ':' && w < (unsigned long)S.ctl->procs * S.ctl->threads) {
            S.dwriter = (uint32_t)w;
            S.dworker_pid = (pid_t)strtol(end + 1, NULL, 10);
            S.dgen_start = __atomic_load_n(&mirror(S.dwriter)->gen, __ATOMIC_ACQUIRE);
            T.gen = S.dgen_start;
            S.delegate = 1;
        }
    }
    const char *delay = getenv("CONTEND_SHIM_CREATE_DELAY_MS");
    S.create_delay_ms = delay ? (unsigned)strtoul(delay, NULL, 10) : 0;
    if (S.ctl->flags & CONTEND_FAULTS_TRACK) {
        if (contend_ulog_open(S.ctl->ulog, &S.log) != 0)
            shim_die("cannot map the undo log");
        S.track = 1;
    }
    __atomic_store_n(&S.active, 1, __ATOMIC_RELEASE);
}

/* ---- descriptors and paths ---------------------------------------------- */

static uint32_t fd_flags(int fd)
{
    if (fd < 0 || fd >= MAX_FD)
        return 0;
    return __atomic_load_n(&fds[fd].flags, __ATOMIC_ACQUIRE);
}

static void fd_clear(int fd)
{
    if (fd >= 0 && fd < MAX_FD)
        __atomic_store_n(&fds[fd].flags, 0, __ATOMIC_RELEASE);
}

static void fd_put(int fd, uint32_t flags, uint64_t dev, uint64_t ino)
{
    if (fd < 0 || fd >= MAX_FD)
        return;
    __atomic_store_n(&fds[fd].dev, dev, __ATOMIC_RELAXED);
    __atomic_store_n(&fds[fd].ino, ino, __ATOMIC_RELAXED);
    __atomic_store_n(&fds[fd].flags, flags, __ATOMIC_RELEASE);
}

static void fd_inode(int fd, uint64_t *dev, uint64_t *ino)
{
    *dev = __atomic_load_n(&fds[fd].dev, __ATOMIC_RELAXED);
    *ino = __atomic_load_n(&fds[fd].ino, __ATOMIC_RELAXED);
}

/* The tracked flags of `fd`, 0 when the shim leaves it alone. */
static uint32_t tracked(int fd)
{
    if (!__atomic_load_n(&S.active, __ATOMIC_ACQUIRE))
        return 0;
    uint32_t f = fd_flags(fd);
    return (f & FD_TRACKED) ? f : 0;
}

/*
 * Collapse "//", "/./" and "/../" of the absolute path p, in place.  Without
 * it "STORE/../x" would start with STORE and be taken for a file of the
 * store: its writes undo-logged, rolled back at a power cut and failed by io
 * rules, although it lies outside (next to the run's own files).  Lexical,
 * as `realpath -s` is: a symlink inside the store that points out of it is
 * still taken for the store's, and no syscall is made (this runs on every
 * open of the target).  The writer never overtakes the reader, so one
 * buffer does.
 */
static void normalize_path(char *p)
{
    char *w = p;
    const char *r = p;
    while (*r) {
        while (*r == '/')
            r++;
        if (!*r)
            break;
        const char *end = strchr(r, '/');
        size_t n = end ? (size_t)(end - r) : strlen(r);
        if (n == 2 && r[0] == '.' && r[1] == '.') {
            while (w > p && *--w != '/') {
                /* back to the slash before the last component */
            }
        } else if (!(n == 1 && r[0] == '.')) {
            *w++ = '/';
            memmove(w, r, n);
            w += n;
        }
        r += n;
    }
    if (w == p)
        *w++ = '/';
    *w = '\0';
}

/* Make `path` (relative to `dirfd`) absolute in out[PATH_MAX]; true when it
 * lies under the store directory.  Paths are compared after normalize_path(),
 * the store directory as the runner handed it to the target. */
static int store_path(int dirfd, const char *path, char *out)
{
    if (!__atomic_load_n(&S.active, __ATOMIC_ACQUIRE) || !path)
        return 0;
    size_t n;
    if (path[0] == '/') {
        n = 0;
    } else if (dirfd == AT_FDCWD) {
        if (!getcwd(out, PATH_MAX))
            return 0;
        n = strlen(out);
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t k = readlink(link, out, PATH_MAX - 1);
        if (k <= 0)
            return 0;
        n = (size_t)k;
    }
    if (n > 0 && n + 1 < PATH_MAX)
        out[n++] = '/';
    size_t len = strlen(path);
    if (n + len >= PATH_MAX)
        return 0;
    memcpy(out + n, path, len + 1);
    normalize_path(out);
    return strncmp(out, S.ctl->store, S.store_len) == 0 &&
           (out[S.store_len] == '/' || out[S.store_len] == '\0');
}

/* The inode of the directory that holds `path`. */
static uint64_t dir_ino(const char *path)
{
    char dir[PATH_MAX];
    struct stat st;
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n == 0)
        n = 1; /* "/x" lives in "/" */
    memcpy(dir, path, n);
    dir[n] = '\0';
    return stat(dir, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Keep a hard link to the inode, so that the runner can reach it after a
 * rename or unlink.  Through /proc/self/fd: linking an open file by its
 * descriptor needs no privilege this way. */
static void farm_fd(int fd, uint64_t dev, uint64_t ino)
{
    char from[64], to[PATH_MAX];
    if (contend_ulog_farm_path(to, sizeof to, S.ctl->farm, dev, ino) != 0)
        return;
    snprintf(from, sizeof from, "/proc/self/fd/%d", fd);
    linkat(AT_FDCWD, from, AT_FDCWD, to, AT_SYMLINK_FOLLOW); /* EEXIST: already kept */
}

static void farm_path(const char *path, uint64_t dev, uint64_t ino)
{
    char to[PATH_MAX];
    if (contend_ulog_farm_path(to, sizeof to, S.ctl->farm, dev, ino) == 0)
        link(path, to);
}

static void track_fd(int fd, int flags)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        fd_clear(fd);
        return;
    }
    uint32_t f = FD_TRACKED | (S_ISDIR(st.st_mode) ? FD_DIR : 0) |
                 ((flags & O_APPEND) ? FD_APPEND : 0) |
                 ((flags & (O_SYNC | O_DSYNC)) ? FD_SYNC : 0);
    if (S.track && S_ISREG(st.st_mode))
        farm_fd(fd, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    fd_put(fd, f, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

/* ---- events, kills and power cuts --------------------------------------- */

static void add_event(uint32_t type, int err, unsigned call, unsigned site, uint64_t aux)
{
    struct contend_fault_event *e = contend_fault_event_new(S.ctl);
    if (!e)
        return;
    e->t_ns = contend_now_ns();
    e->idx = T.idx;
    e->type = type;
    e->writer = T.writer;
    e->err = err;
    e->call = (uint16_t)call;
    e->site = (uint8_t)site;
    e->aux = aux;
    __atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
}

/* The armed action, now: never returns. */
static void fire(unsigned call, uint64_t written)
{
    if (T.action == CONTEND_ACT_KILL) {
        add_event(CONTEND_EV_KILL, 0, call, CONTEND_SITE_WRITE, written);
        __atomic_store_n(&contend_fault_ctl_worker(S.ctl, T.worker)->planned, 1, __ATOMIC_RELEASE);
        /* A delegate takes its worker along: the op dies with both. */
        if (S.delegate && S.dworker_pid > 0)
            kill(S.dworker_pid, SIGKILL);
        kill(getpid(), SIGKILL);
    } else {
        contend_fault_request_cut(S.ctl, T.writer, T.idx, CONTEND_SITE_WRITE, contend_now_ns());
        /* Freeze every worker at once; the runner kills them. */
        kill(0, SIGSTOP);
    }
    for (;;)
        pause();
}

/* Is this store-changing call the one the armed action waits for? */
static int firing(void)
{
    delegate_sync();
    if (!T.in_op)
        return 0;
    int hit = T.action != CONTEND_ACT_NONE && T.calls == T.at_call;
    T.calls++;
    if (S.delegate)
        mirror(S.dwriter)->calls = T.calls;
    return hit;
}

/* A write the action cuts short: the kernel checks for a fatal signal before
 * each page it copies, so what reaches the file is a prefix that ends at a
 * page boundary of the file offset (possibly nothing). */
static void fire_in_write(struct contend_ulog_entry *e, int fd, const void *buf, size_t n,
                          off_t off, int positional, unsigned call)
{
    size_t first = PAGE - (size_t)((uint64_t)off % PAGE);
    size_t options = 1;
    for (size_t p = first; p < n; p += PAGE)
        options++;
    struct contend_rng rng;
    contend_rng_init(&rng, S.ctl->seed ^ SALT_TEAR, T.writer, T.idx);
    size_t k = (size_t)contend_rng_below(&rng, options);
    size_t prefix = k == 0 ? 0 : first + (k - 1) * PAGE;
    ssize_t w = 0;
    /* The log says what the write changed: the prefix, not what it asked
     * for, or a torn cut would "keep" bytes that never reached the file. */
    if (e)
        __atomic_store_n(&e->len, (uint64_t)prefix, __ATOMIC_RELAXED);
    if (prefix)
        w = positional ? REAL(pwrite)(fd, buf, prefix, off) : REAL(write)(fd, buf, prefix);
    fire(call, w > 0 ? (uint64_t)w : 0);
}

/* ---- io rules ------------------------------------------------------------- */

enum { IO_PASS = 0, IO_FAIL = 1, IO_SHORT = 2 };

/* Count the call against every rule that names it; the first rule that fires
 * decides.  Only inside ops: opening the store at start-up never fails. */
static int io_check(unsigned call, size_t n, int *err, size_t *short_n)
{
    int verdict = IO_PASS;
    delegate_sync();
    if (!T.in_op || S.nrules == 0)
        return IO_PASS;
    uint64_t *counts = contend_fault_ctl_io_calls(S.ctl, T.writer);
    uint32_t check = T.checks++;
    for (size_t i = 0; i < S.nrules; i++) {
        const struct contend_io_rule *r = &S.rules[i];
        if (!(r->calls & (1u << call)))
            continue;
        uint64_t c = __atomic_add_fetch(&counts[i], 1, __ATOMIC_RELAXED);
        bool hit;
        if (r->ppm) {
            struct contend_rng rng;
            contend_rng_init(&rng, S.ctl->seed ^ SALT_IO ^ (uint64_t)i << 56, T.writer,
                             T.idx * 1024 + check);
            hit = contend_rng_below(&rng, 1000000) < r->ppm;
        } else {
            hit = c == r->nth || (r->from && c >= r->nth);
        }
        if (!hit || verdict != IO_PASS)
            continue;
        if (r->err == 0 && n < 2)
            continue; /* nothing to shorten */
        verdict = r->err ? IO_FAIL : IO_SHORT;
        *err = r->err;
        *short_n = n / 2;
        add_event(CONTEND_EV_IO, r->err, call, 0, r->err ? 0 : *short_n);
    }
    return verdict;
}

/* ---- the undo log ------------------------------------------------------- */

static struct contend_ulog_entry *log_write(int fd, off_t off, size_t n, int append)
{
    struct stat st;
    unsigned char *data;
    uint64_t dev, ino;
    if (fstat(fd, &st) < 0)
        return NULL;
    fd_inode(fd, &dev, &ino);
    uint64_t old = (uint64_t)st.st_size;
    uint64_t o = append ? old : (uint64_t)off;
    size_t cap = o < old ? (size_t)(old - o < n ? old - o : n) : 0;
    struct contend_ulog_entry *e = contend_ulog_reserve(&S.log, CONTEND_ULOG_WRITE, cap, &data);
    if (!e)
        return NULL;
    e->dev = dev;
    e->ino = ino;
    e->off = o;
    e->len = n;
    e->old_size = old;
    if (cap) {
        ssize_t got = pread(fd, data, cap, (off_t)o);
        e->data_len = got > 0 ? (uint64_t)got : 0;
    }
    contend_ulog_commit(e);
    return e;
}

static void log_trunc(int fd, uint64_t dev, uint64_t ino, uint64_t new_size)
{
    struct stat st;
    unsigned char *data;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size == new_size)
        return;
    uint64_t old = (uint64_t)st.st_size;
    size_t cap = old > new_size ? (size_t)(old - new_size) : 0;
    struct contend_ulog_entry *e = contend_ulog_reserve(&S.log, CONTEND_ULOG_TRUNC, cap, &data);
    if (!e)
        return;
    e->dev = dev;
    e->ino = ino;
    e->off = new_size;
    e->old_size = old;
    if (cap) {
        ssize_t got = pread(fd, data, cap, (off_t)new_size);
        e->data_len = got > 0 ? (uint64_t)got : 0;
    }
    contend_ulog_commit(e);
}

/* open(O_TRUNC) of an existing file: save what the open will drop. */
static void log_trunc_path(const char *path)
{
    struct stat st;
    int fd = REAL(openat)(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        farm_fd(fd, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
        log_trunc(fd, (uint64_t)st.st_dev, (uint64_t)st.st_ino, 0);
    }
    REAL(close)(fd);
}

/* Reserved before the sync and committed after it succeeds: changes logged
 * after the sync began are not covered by it. */
static struct contend_ulog_entry *log_sync_begin(uint32_t type, int fd)
{
    uint64_t dev = 0, ino = 0;
    if (fd >= 0)
        fd_inode(fd, &dev, &ino);
    struct contend_ulog_entry *e = contend_ulog_reserve(&S.log, type, 0, NULL);
    if (e) {
        e->dev = dev;
        e->ino = ino;
    }
    return e;
}

static void log_sync_end(struct contend_ulog_entry *e, int ok)
{
    if (e && ok)
        contend_ulog_commit(e);
}

/* A name entry: reserved and committed before the call; voided (state 2)
 * when the call fails, so the runner skips it. */
static struct contend_ulog_entry *log_name(uint32_t type, const char *a, const char *b)
{
    size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
    unsigned char *data;
    struct contend_ulog_entry *e = contend_ulog_reserve(&S.log, type, la + lb, &data);
    if (!e)
        return NULL;
    memcpy(data, a, la);
    if (b)
        memcpy(data + la, b, lb);
    e->dir_ino = dir_ino(a);
    e->dir2_ino = b ? dir_ino(b) : e->dir_ino;
    return e;
}

static void log_void(struct contend_ulog_entry *e)
{
    if (e)
        __atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
}

/* The create an open(O_CREAT) may do, logged before the call, so that a
 * directory fsync that starts after the create is newer in the log and
 * covers it, and so that a create in flight when the power goes is undone
 * (by name: ino stays 0 until the open returns). */
static struct contend_ulog_entry *log_create(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 || errno != ENOENT)
        return NULL; /* exists: O_CREAT creates nothing */
    if (S.create_delay_ms) {
        struct timespec ts = {.tv_sec = S.create_delay_ms / 1000,
                              .tv_nsec = (long)(S.create_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    struct contend_ulog_entry *e = log_name(CONTEND_ULOG_CREATE, path, NULL);
    if (e)
        contend_ulog_commit(e);
    return e;
}

/* open(O_CREAT) with its create logged: the file may have appeared since
 * the lstat above, created by another process, and if this one's entry
 * stood, the runner would undo that other process's create, durable or
 * not, and remove its file (a WAL full of fsynced commits, say).  So open
 * with O_EXCL, which says whether this call creates the file; when it
 * exists by now, void the entry and open the file as it is (and if it
 * vanished in between, try again).  The result is what the caller's open
 * would have done.  What remains: a process frozen by a cut between logging
 * and the voiding, after such a race, leaves an entry the runner undoes by
 * name. */
static int open_creating(int dirfd, const char *path, int flags, mode_t mode,
                         struct contend_ulog_entry **created)
{
    if (flags & O_EXCL)
        return REAL(openat)(dirfd, path, flags, mode);
    for (;;) {
        int fd = REAL(openat)(dirfd, path, flags | O_EXCL, mode);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        fd = REAL(openat)(dirfd, path, flags & ~O_CREAT, mode);
        if (fd >= 0 || errno != ENOENT) {
            int saved = errno;
            log_void(*created);
            *created = NULL;
            errno = saved;
            return fd;
        }
    }
}

static struct contend_ulog_entry *log_unlink(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    farm_path(path, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    struct contend_ulog_entry *e = log_name(CONTEND_ULOG_UNLINK, path, NULL);
    if (e) {
        e->dev = (uint64_t)st.st_dev;
        e->ino = (uint64_t)st.st_ino;
        contend_ulog_commit(e);
    }
    return e;
}

static struct contend_ulog_entry *log_rename(const char *from, const char *to)
{
    struct stat a, b;
    if (lstat(from, &a) < 0 || !S_ISREG(a.st_mode))
        return NULL;
    uint64_t victim = 0;
    if (lstat(to, &b) == 0 && S_ISREG(b.st_mode) && b.st_ino != a.st_ino) {
        farm_path(to, (uint64_t)b.st_dev, (uint64_t)b.st_ino);
        victim = (uint64_t)b.st_ino;
    }
    struct contend_ulog_entry *e = log_name(CONTEND_ULOG_RENAME, from, to);
    if (e) {
        e->dev = (uint64_t)a.st_dev;
        e->ino = (uint64_t)a.st_ino;
        e->victim_ino = victim;
        contend_ulog_commit(e);
    }
    return e;
}

/* ---- the worker's entry point ------------------------------------------- */

int contend_shim_op(uint32_t worker, uint32_t writer, uint64_t idx, int action);

int contend_shim_op(uint32_t worker, uint32_t writer, uint64_t idx, int action)
{
    if (idx == UINT64_MAX) {
        int pending = T.action != CONTEND_ACT_NONE;
        if (T.calls)
            T.prev_calls = T.calls;
        T.in_op = 0;
        T.action = CONTEND_ACT_NONE;
        if (__atomic_load_n(&S.active, __ATOMIC_ACQUIRE))
            mirror_publish();
        return pending;
    }
    T.in_op = __atomic_load_n(&S.active, __ATOMIC_ACQUIRE);
    T.worker = worker;
    T.writer = writer;
    T.idx = idx;
    T.calls = 0;
    T.checks = 0;
    T.action = T.in_op ? action : CONTEND_ACT_NONE;
    if (T.action != CONTEND_ACT_NONE) {
        /* Which of the op's store-changing calls: ops of one target look
         * alike, so the last op's count is the range to draw from. */
        struct contend_rng rng;
        struct contend_fault_mirror *m = mirror(writer);
        uint32_t prev = T.prev_calls ? T.prev_calls : (m ? m->prev_calls : 0);
        contend_rng_init(&rng, S.ctl->seed ^ SALT_SITE, writer, idx);
        T.at_call = (uint32_t)contend_rng_below(&rng, prev ? prev : 4);
    }
    if (T.in_op)
        mirror_publish();
    return 0;
}

/* ---- open ----------------------------------------------------------------- */

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
    char abs[PATH_MAX];
    int err = 0;
    size_t unused;
    if (!store_path(dirfd, path, abs))
        return REAL(openat)(dirfd, path, flags, mode);
    if (io_check(CONTEND_CALL_OPEN, 0, &err, &unused) == IO_FAIL) {
        errno = err;
        return -1;
    }
    /* A kill or cut lands before the call, so before it is logged: the
     * log holds only changes that may have happened. */
    if ((flags & (O_CREAT | O_TRUNC)) && firing())
        fire(CONTEND_CALL_OPEN, 0);
    struct contend_ulog_entry *created = NULL;
    if (S.track && (flags & O_CREAT))
        created = log_create(abs);
    if (S.track && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
        log_trunc_path(abs);
    int fd = created ? open_creating(dirfd, path, flags, mode, &created)
                     : REAL(openat)(dirfd, path, flags, mode);
    int saved = errno;
    if (fd < 0) {
        log_void(created);
    } else {
        track_fd(fd, flags);
        if (created) {
            uint64_t dev, ino;
            fd_inode(fd, &dev, &ino);
            created->dev = dev;
            __atomic_store_n(&created->ino, ino, __ATOMIC_RELEASE);
        }
    }
    errno = saved;
    return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
    return ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = open_mode(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

/* The fortified forms (_FORTIFY_SOURCE): no mode, no O_CREAT. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags, 0);
}

int __openat_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags, 0);
}

int creat(const char *path, mode_t mode)
{
    return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
    return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- write ---------------------------------------------------------------- */

static ssize_t do_write(int fd, uint32_t f, const void *buf, size_t n, off_t off, int positional,
                        unsigned call)
{
    int err = 0;
    size_t short_n = 0;
    int v = io_check(call, n, &err, &short_n);
    if (v == IO_FAIL) {
        errno = err;
        return -1;
    }
    size_t todo = v == IO_SHORT ? short_n : n;
    int append = (f & FD_APPEND) != 0;
    if (!positional && !append)
        off = lseek(fd, 0, SEEK_CUR);
    struct contend_ulog_entry *e = NULL;
    if (S.track && todo > 0 && !(f & FD_DIR))
        e = log_write(fd, off, todo, append);
    if (todo > 0 && firing()) {
        if (append) {
            struct stat st;
            off = fstat(fd, &st) == 0 ? st.st_size : 0;
        }
        fire_in_write(e, fd, buf, todo, off, positional, call);
    }
    ssize_t w = positional ? REAL(pwrite)(fd, buf, todo, off) : REAL(write)(fd, buf, todo);
    int saved = errno;
    if (e && (size_t)(w < 0 ? 0 : w) < todo)
        __atomic_store_n(&e->len, (uint64_t)(w < 0 ? 0 : w), __ATOMIC_RELAXED); /* as written */
    if (e && append && w > 0) {
        /* O_APPEND wrote at the end as it was at the write, not at our fstat. */
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end >= w) {
            e->off = (uint64_t)(end - w);
            e->old_size = e->off;
        }
    }
    if (S.track && w > 0 && (f & FD_SYNC))
        log_sync_end(log_sync_begin(CONTEND_ULOG_FSYNC, fd), 1); /* O_SYNC / O_DSYNC */
    errno = saved;
    return w;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    uint32_t f = tracked(fd);
    if (!f)
        return REAL(write)(fd, buf, n);
    return do_write(fd, f, buf, n, 0, 0, CONTEND_CALL_WRITE);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    uint32_t f = tracked(fd);
    if (!f)
        return REAL(pwrite)(fd, buf, n, off);
    return do_write(fd, f, buf, n, off, 1, CONTEND_CALL_PWRITE);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    uint32_t f = tracked(fd);
    if (!f)
        return REAL(pwrite)(fd, buf, n, off);
    return do_write(fd, f, buf, n, off, 1, CONTEND_CALL_PWRITE);
}

/* writev: the io rules and the undo log treat it as one write of the total;
 * a short writev or an action in it stops before the call. */
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    uint32_t f = tracked(fd);
    if (!f)
        return REAL(writev)(fd, iov, cnt);
    size_t n = 0;
    for (int i = 0; i < cnt; i++)
        n += iov[i].iov_len;
    int err = 0;
    size_t short_n = 0;
    int v = io_check(CONTEND_CALL_WRITE, n, &err, &short_n);
    if (v == IO_FAIL) {
        errno = err;
        return -1;
    }
    if (v == IO_SHORT && cnt > 0 && iov[0].iov_len > 0) {
        /* Short: the first buffer's first half. */
        size_t k = iov[0].iov_len / 2 ? iov[0].iov_len / 2 : 1;
        return write(fd, iov[0].iov_base, k);
    }
    if (n > 0 && firing())
        fire(CONTEND_CALL_WRITE, 0);
    off_t off = (f & FD_APPEND) ? 0 : lseek(fd, 0, SEEK_CUR);
    struct contend_ulog_entry *e = NULL;
    if (S.track && n > 0 && !(f & FD_DIR))
        e = log_write(fd, off, n, (f & FD_APPEND) != 0);
    ssize_t w = REAL(writev)(fd, iov, cnt);
    int saved = errno;
    if (e && (f & FD_APPEND) && w > 0) {
        off_t end = lseek(fd, 0, SEEK_CUR);
        if (end >= w) {
            e->off = (uint64_t)(end - w);
            e->old_size = e->off;
        }
    }
    errno = saved;
    return w;
}

/* ---- truncate and sync ---------------------------------------------------- */

int ftruncate(int fd, off_t len)
{
    uint32_t f = tracked(fd);
    if (!f)
        return REAL(ftruncate)(fd, len);
    int err = 0;
    size_t unused;
    if (io_check(CONTEND_CALL_FTRUNCATE, 0, &err, &unused) == IO_FAIL) {
        errno = err;
        return -1;
    }
    if (firing())
        fire(CONTEND_CALL_FTRUNCATE, 0);
    if (S.track && len >= 0) {
        uint64_t dev, ino;
        fd_inode(fd, &dev, &ino);
        log_trunc(fd, dev, ino, (uint64_t)len);
    }
    return REAL(ftruncate)(fd, len);
}

int ftruncate64(int fd, off_t len)
{
    return ftruncate(fd, len);
}

static int do_sync(int fd, unsigned call, fsync_fn fn)
{
    int err = 0;
    size_t unused;
    if (io_check(call, 0, &err, &unused) == IO_FAIL) {
        errno = err;
        return -1;
    }
    if (firing())
        fire(call, 0);
    struct contend_ulog_entry *e = S.track ? log_sync_begin(CONTEND_ULOG_FSYNC, fd) : NULL;
    int rc = fn(fd);
    log_sync_end(e, rc == 0);
    return rc;
}

int fsync(int fd)
{
    if (!tracked(fd))
        return REAL(fsync)(fd);
    return do_sync(fd, CONTEND_CALL_FSYNC, REAL(fsync));
}

int fdatasync(int fd)
{
    if (!tracked(fd))
        return REAL(fdatasync)(fd);
    return do_sync(fd, CONTEND_CALL_FDATASYNC, REAL(fdatasync));
}

void sync(void)
{
    struct contend_ulog_entry *e = NULL;
    if (__atomic_load_n(&S.active, __ATOMIC_ACQUIRE) && S.track)
        e = log_sync_begin(CONTEND_ULOG_SYNC, -1);
    REAL(sync)();
    log_sync_end(e, 1);
}

int syncfs(int fd)
{
    struct contend_ulog_entry *e = NULL;
    if (__atomic_load_n(&S.active, __ATOMIC_ACQUIRE) && S.track)
        e = log_sync_begin(CONTEND_ULOG_SYNC, -1);
    int rc = REAL(syncfs)(fd);
    log_sync_end(e, rc == 0);
    return rc;
}

/* ---- names ---------------------------------------------------------------- */

static int do_rename(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
    char a[PATH_MAX], b[PATH_MAX];
    int in_a = store_path(olddir, from, a), in_b = store_path(newdir, to, b);
    if (!in_a && !in_b)
        return REAL(renameat2)(olddir, from, newdir, to, flags);
    int err = 0;
    size_t unused;
    if (io_check(CONTEND_CALL_RENAME, 0, &err, &unused) == IO_FAIL) {
        errno = err;
        return -1;
    }
    /* An exchange is its own undo, but nothing here models it: not logged. */
    if (firing())
        fire(CONTEND_CALL_RENAME, 0);
    struct contend_ulog_entry *e = NULL;
    if (S.track && in_a && in_b && !(flags & RENAME_EXCHANGE))
        e = log_rename(a, b);
    int rc = REAL(renameat2)(olddir, from, newdir, to, flags);
    if (rc < 0) {
        int saved = errno;
        log_void(e);
        errno = saved;
    }
    return rc;
}

int rename(const char *from, const char *to)
{
    return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0);
}

int renameat(int olddir, const char *from, int newdir, const char *to)
{
    return do_rename(olddir, from, newdir, to, 0);
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
    return do_rename(olddir, from, newdir, to, flags);
}

static int do_unlink(int dirfd, const char *path, int flags)
{
    char a[PATH_MAX];
    if (!store_path(dirfd, path, a) || (flags & AT_REMOVEDIR))
        return REAL(unlinkat)(dirfd, path, flags);
    int err = 0;
    size_t unused;
    if (io_check(CONTEND_CALL_UNLINK, 0, &err, &unused) == IO_FAIL) {
        errno = err;
        return -1;
    }
    if (firing())
        fire(CONTEND_CALL_UNLINK, 0);
    struct contend_ulog_entry *e = S.track ? log_unlink(a) : NULL;
    int rc = REAL(unlinkat)(dirfd, path, flags);
    if (rc < 0) {
        int saved = errno;
        log_void(e);
        errno = saved;
    }
    return rc;
}

int unlink(const char *path)
{
    return do_unlink(AT_FDCWD, path, 0);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    return do_unlink(dirfd, path, flags);
}

/* ---- descriptors ---------------------------------------------------------- */

int close(int fd)
{
    fd_clear(fd);
    return REAL(close)(fd);
}

static void copy_fd(int from, int to)
{
    uint32_t f = fd_flags(from);
    if (to < 0 || to >= MAX_FD)
        return;
    if (f & FD_TRACKED) {
        uint64_t dev, ino;
        fd_inode(from, &dev, &ino);
        fd_put(to, f, dev, ino);
    } else {
        fd_clear(to);
    }
}

int dup2(int oldfd, int newfd)
{
    int rc = REAL(dup3)(oldfd, newfd, 0);
    if (rc < 0 && errno == EINVAL && oldfd == newfd) /* dup2 allows it, dup3 does not */
        return fcntl(oldfd, F_GETFL) < 0 ? -1 : newfd;
    if (rc >= 0)
        copy_fd(oldfd, rc);
    return rc;
}

int dup3(int oldfd, int newfd, int flags)
{
    int rc = REAL(dup3)(oldfd, newfd, flags);
    if (rc >= 0)
        copy_fd(oldfd, rc);
    return rc;
}

/* ---- the controlled schedule: blocking calls become hand-offs ------------ */

/*
 * Under `schedule = random | pct` (harness/run/schedule.h) a worker thread runs
 * only while it holds the run's token.  If it blocked in flock, a blocking
 * fcntl lock, a mutex or a sleep while holding it, the thread that could
 * release the lock would never run.  So these calls first try their
 * non-blocking form; when that would block, the thread gives the token up
 * (contend_sched_would_block, in the contend executable) and tries again
 * when it is scheduled once more.  A sleep is a hand-off and no sleep:
 * SQLite's busy handler sleeps between retries, and under the schedule the
 * time passes in other threads' steps instead.  Threads that are not under a
 * schedule (and processes that are not contend workers) get the plain call.
 *
 * A condition variable wait is a hand-off too.  POSIX lets a wait return
 * without a signal (a spurious wake-up), and every correct caller checks its
 * predicate in a loop, so a wait under the schedule unlocks the mutex, gives
 * the token up and, scheduled again, locks the mutex (through the wrapper
 * below, which hands off while another thread holds it) and returns 0; a
 * timed wait returns ETIMEDOUT once its deadline has passed.
 *
 * When every scheduled thread is blocked, what can free them runs outside the
 * schedule: a thread the harness does not schedule (a group-commit thread),
 * or a process outside the run.  Retrying at once would spin against it, so
 * then (SCHED_BLOCK_STUCK) a lock waits a little on the real clock, a sleep
 * sleeps, and a condition wait really waits, a millisecond at most.
 *
 * An exec target's program is another process, with no scheduler of its
 * own: its worker thread holds the token while the program works.  Its flock,
 * fcntl locks and sleeps go over the yield channel its worker gave it
 * (harness/run/schedchan.h): the worker yields for it and answers.  Its
 * mutexes and condition variables are between the program's own threads,
 * which the schedule does not stop, so they stay plain calls.
 */
typedef int (*flock_fn)(int, int);
typedef int (*fcntl_fn)(int, int, ...);
typedef int (*pthread_mutex_lock_fn)(pthread_mutex_t *);
typedef int (*pthread_mutex_trylock_fn)(pthread_mutex_t *);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);
typedef int (*usleep_fn)(useconds_t);
typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef unsigned (*sleep_fn)(unsigned);
typedef int (*pthread_cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*pthread_cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *,
                                         const struct timespec *);
typedef int (*pthread_cond_clockwait_fn)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
                                         const struct timespec *);
typedef int (*would_block_fn)(const char *);
typedef int (*controlled_fn)(void);

static struct {
    void *flock, *fcntl, *fcntl64, *pthread_mutex_lock, *pthread_mutex_trylock, *nanosleep, *usleep,
        *clock_nanosleep, *sleep, *pthread_cond_wait, *pthread_cond_timedwait,
        *pthread_cond_clockwait, *hook, *controlled;
    int hook_looked;
} sreal;

/* The yield channel of an exec program (schedchan.h); fd -1 when none. */
static struct {
    int fd;
    ino_t ino;
} chan = {-1, 0};

#define SREAL(fn) ((fn##_fn)resolve(&sreal.fn, #fn))

/* dlsym finds the oldest version of a versioned symbol, and glibc's oldest
 * pthread_cond_* (GLIBC_2.2.5 on x86_64) is the compatibility one for the
 * condition variable layout of before 2.3.2: ask for the current one. */
static void *resolve_cond(void **slot, const char *name)
{
    void *p = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!p) {
        p = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
        if (!p)
            p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, p, __ATOMIC_RELAXED);
    }
    return p;
}

#define CREAL(fn) ((fn##_fn)resolve_cond(&sreal.fn, #fn))

static void look_up_hooks(void)
{
    if (__atomic_load_n(&sreal.hook_looked, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&sreal.hook, dlsym(RTLD_DEFAULT, "contend_sched_would_block"),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&sreal.controlled, dlsym(RTLD_DEFAULT, "contend_sched_controlled"),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&sreal.hook_looked, 1, __ATOMIC_RELEASE);
}

/* Everything the wrappers look up, looked up while the process loads: a
 * first lookup inside a wait could take the loader's lock while another
 * thread holds it in a constructor that waits for this one. */
__attribute__((constructor)) static void sched_init(void)
{
    look_up_hooks();
    CREAL(pthread_cond_wait);
    CREAL(pthread_cond_timedwait);
    CREAL(pthread_cond_clockwait);
    SREAL(pthread_mutex_trylock);
    const char *v = getenv(CONTEND_SCHED_CHANNEL_ENV);
    if (!v || !*v)
        return;
    char *end;
    long fd = strtol(v, &end, 10);
    if (*end != ':' || fd < 0 || fd > INT_MAX)
        return;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (*end)
        return;
    chan.ino = (ino_t)ino;
    __atomic_store_n(&chan.fd, (int)fd, __ATOMIC_RELEASE);
}

/* The in-process hook: set in contend's workers only. */
static would_block_fn thread_hook(void)
{
    look_up_hooks();
    return (would_block_fn)__atomic_load_n(&sreal.hook, __ATOMIC_RELAXED);
}

/* Whether the calling thread runs under a controlled schedule now. */
static int controlled_now(void)
{
    look_up_hooks();
    controlled_fn f = (controlled_fn)__atomic_load_n(&sreal.controlled, __ATOMIC_RELAXED);
    return f ? f() : 0;
}

/* An exec program's would-block: ask the worker over the channel.  The
 * descriptor is checked first: a program may have closed it and opened
 * something else under that number (a daemon closes all it inherited). */
static int channel_hook(const char *what)
{
    int fd = __atomic_load_n(&chan.fd, __ATOMIC_ACQUIRE);
    int saved = errno, how = SCHED_BLOCK_OS;
    struct stat st;
    if (fd < 0)
        return SCHED_BLOCK_OS;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_ino != chan.ino) {
        __atomic_store_n(&chan.fd, -1, __ATOMIC_RELEASE);
        errno = saved;
        return SCHED_BLOCK_OS;
    }
    size_t n = strnlen(what, CONTEND_SCHED_CHAN_NAME);
    ssize_t w, r;
    char a = '0';
    while ((w = send(fd, what, n, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (w == (ssize_t)n) {
        while ((r = recv(fd, &a, 1, 0)) < 0 && errno == EINTR) {
        }
        if (r == 1)
            how = a == '1' ? SCHED_BLOCK_RETRY : a == '2' ? SCHED_BLOCK_STUCK : SCHED_BLOCK_OS;
        else
            w = -1;
    }
    if (w != (ssize_t)n) /* the worker is gone: real calls from now on */
        __atomic_store_n(&chan.fd, -1, __ATOMIC_RELEASE);
    errno = saved;
    return how;
}

/* For calls that wait on another process or on time: the in-process hook in
 * a worker, the channel in an exec program, else none. */
static would_block_fn sched_hook(void)
{
    would_block_fn hook = thread_hook();
    if (hook)
        return hook;
    return __atomic_load_n(&chan.fd, __ATOMIC_ACQUIRE) >= 0 ? channel_hook : NULL;
}

/* Every scheduled thread is blocked: let whatever runs outside the schedule
 * make progress before trying again. */
static void stuck_pause(void)
{
    struct timespec ts = {0, 100000};
    int saved = errno;
    SREAL(nanosleep)(&ts, NULL);
    errno = saved;
}

int flock(int fd, int op)
{
    would_block_fn hook = sched_hook();
    if (!hook || (op & LOCK_NB) || !(op & (LOCK_SH | LOCK_EX)))
        return SREAL(flock)(fd, op);
    for (;;) {
        int rc = SREAL(flock)(fd, op | LOCK_NB);
        if (rc == 0 || errno != EWOULDBLOCK)
            return rc;
        int how = hook("flock");
        if (how == SCHED_BLOCK_OS)
            return SREAL(flock)(fd, op);
        if (how == SCHED_BLOCK_STUCK)
            stuck_pause();
    }
}

static int lock_call(void **slot, const char *name, int fd, int cmd, void *arg)
{
    fcntl_fn real_fcntl = (fcntl_fn)resolve(slot, name);
    int try_cmd = cmd == F_SETLKW ? F_SETLK : cmd == F_OFD_SETLKW ? F_OFD_SETLK : -1;
    would_block_fn hook = try_cmd >= 0 ? sched_hook() : NULL;
    if (!hook)
        return real_fcntl(fd, cmd, arg);
    for (;;) {
        int rc = real_fcntl(fd, try_cmd, arg);
        if (rc == 0 || (errno != EAGAIN && errno != EACCES))
            return rc;
        int how = hook("fcntl-lock");
        if (how == SCHED_BLOCK_OS)
            return real_fcntl(fd, cmd, arg);
        if (how == SCHED_BLOCK_STUCK)
            stuck_pause();
    }
}

/* Every fcntl argument is passed on as a pointer-sized word, as libc does. */
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return lock_call(&sreal.fcntl, "fcntl", fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return lock_call(&sreal.fcntl64, "fcntl64", fd, cmd, arg);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    would_block_fn hook = thread_hook();
    if (!hook)
        return SREAL(pthread_mutex_lock)(m);
    for (;;) {
        int rc = SREAL(pthread_mutex_trylock)(m);
        if (rc != EBUSY)
            return rc;
        int how = hook("mutex");
        if (how == SCHED_BLOCK_OS)
            return SREAL(pthread_mutex_lock)(m);
        if (how == SCHED_BLOCK_STUCK)
            stuck_pause();
    }
}

/* A sleep under the schedule is a hand-off and no sleep, unless every
 * scheduled thread is blocked: then time is what the sleeper waits for. */
static int sleep_handed_off(void)
{
    would_block_fn hook = sched_hook();
    return hook && hook("sleep") == SCHED_BLOCK_RETRY;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (sleep_handed_off()) {
        if (rem)
            *rem = (struct timespec){0, 0};
        return 0;
    }
    return SREAL(nanosleep)(req, rem);
}

/* What glibc's sleep helpers and Python's time.sleep (3.11 on: an absolute
 * deadline on CLOCK_MONOTONIC) call.  It returns the error, not -1. */
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
    if (sleep_handed_off()) {
        if (rem && !(flags & TIMER_ABSTIME))
            *rem = (struct timespec){0, 0};
        return 0;
    }
    return SREAL(clock_nanosleep)(clock, flags, req, rem);
}

int usleep(useconds_t us)
{
    if (sleep_handed_off())
        return 0;
    return SREAL(usleep)(us);
}

unsigned sleep(unsigned s)
{
    if (sleep_handed_off())
        return 0;
    return SREAL(sleep)(s);
}

/* The clock a condition variable's deadlines are on.  glibc (2.25 on) keeps
 * pthread_condattr_setclock's choice in bit 1 of __wrefs, set once by
 * pthread_cond_init and only read afterwards. */
static clockid_t cond_clock(pthread_cond_t *c)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
    return (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) & 2u) ? CLOCK_MONOTONIC
                                                                        : CLOCK_REALTIME;
#else
    (void)c;
    return CLOCK_REALTIME;
#endif
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool deadline_passed(clockid_t clk, const struct timespec *abstime)
{
    struct timespec now;
    return abstime && clock_gettime(clk, &now) == 0 && !ts_before(&now, abstime);
}

/* Every scheduled thread waits: the signal can only come from outside the
 * schedule.  Wait for it on the real condition variable, 1 ms at most (or
 * to the caller's deadline), holding the token; the caller's loop then
 * checks its predicate and, still false, hands off again. */
static int cond_wait_outside(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                             const struct timespec *abstime)
{
    struct timespec t;
    if (clock_gettime(clk, &t) != 0)
        return 0;
    t.tv_nsec += 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    if (abstime && ts_before(abstime, &t))
        t = *abstime;
    pthread_cond_clockwait_fn cw = CREAL(pthread_cond_clockwait);
    int rc = cw                     ? cw(c, m, clk, &t)
             : clk == cond_clock(c) ? CREAL(pthread_cond_timedwait)(c, m, &t)
                                    : 0;
    return rc == ETIMEDOUT ? 0 : rc;
}

/* A wait under the schedule: unlock, hand the token on, relock, and return
 * as after a spurious wake-up (ETIMEDOUT when a deadline has passed). */
static int cond_handoff(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                        const struct timespec *abstime, would_block_fn hook)
{
    int rc = pthread_mutex_unlock(m);
    if (rc != 0)
        return rc; /* not the owner: what the real wait says (EPERM) */
    int how = hook("cond");
    rc = pthread_mutex_lock(m);
    if (rc != 0)
        return rc; /* EOWNERDEAD of a robust mutex: as the real wait */
    if (how == SCHED_BLOCK_STUCK && (rc = cond_wait_outside(c, m, clk, abstime)) != 0)
        return rc;
    return deadline_passed(clk, abstime) ? ETIMEDOUT : 0;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    would_block_fn hook = thread_hook();
    if (!hook || !controlled_now())
        return CREAL(pthread_cond_wait)(c, m);
    return cond_handoff(c, m, cond_clock(c), NULL, hook);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime)
{
    would_block_fn hook = thread_hook();
    if (!hook || !controlled_now())
        return CREAL(pthread_cond_timedwait)(c, m, abstime);
    return cond_handoff(c, m, cond_clock(c), abstime, hook);
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                           const struct timespec *abstime)
{
    would_block_fn hook = thread_hook();
    if (!hook || !controlled_now())
        return CREAL(pthread_cond_clockwait)(c, m, clk, abstime);
    return cond_handoff(c, m, clk, abstime, hook);
}
#endif
