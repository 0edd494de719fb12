/*
 * util.c - clocks, errors, files and number parsing for the harness.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void contend_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("contend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void out_of_memory(void)
{
    static const char msg[] = "contend: out of memory\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */
    }
    _exit(CONTEND_EXIT_HARNESS);
}

char *contend_vasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        out_of_memory();
    return s;
}

char *contend_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = contend_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

char *contend_strdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        out_of_memory();
    return d;
}

void *contend_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *contend_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        out_of_memory();
    return q;
}

void contend_catch_signals(void (*fn)(int), const int *sigs)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    for (; *sigs; sigs++)
        sigaction(*sigs, &sa, NULL);
}

int contend_mkdir_p(const char *path, unsigned mode)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return (rc < 0 && errno != ENOENT) ? -errno : 0;
}

int contend_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    int rc = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
    return rc < 0 ? -errno : rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Where a write to `path` really lands: symlinks are followed (a dangling
 * one names the file to create), the directory is resolved with realpath.
 * The temp file must sit beside that file, not beside the link, or the
 * rename would replace the link (or cross a file system). */
static int resolve_target(const char *path, char *out, size_t len)
{
    char cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX], base[PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return -ENAMETOOLONG;
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode))
            break;
        if (hops >= 40)
            return -ELOOP;
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0)
            return -errno;
        link[n] = '\0';
        if (link[0] == '/') {
            snprintf(cur, sizeof cur, "%s", link);
        } else {
            snprintf(dir, sizeof dir, "%s", cur);
            if (snprintf(cur, sizeof cur, "%s/%s", dirname(dir), link) >= (int)sizeof cur)
                return -ENAMETOOLONG;
        }
    }
    snprintf(dir, sizeof dir, "%s", cur);
    snprintf(base, sizeof base, "%s", cur);
    char real[PATH_MAX];
    if (!realpath(dirname(dir), real))
        return -errno;
    const char *b = basename(base);
    if (strcmp(b, "/") == 0 || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
        return -EISDIR;
    if (snprintf(out, len, "%s/%s", strcmp(real, "/") == 0 ? "" : real, b) >= (int)len)
        return -ENAMETOOLONG;
    return 0;
}

/* A device, FIFO or /dev/stdout is written in place: replacing it by a file
 * would destroy it (as root) or write where nobody reads. */
static int write_in_place(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int contend_write_atomic(const char *path, const void *data, size_t len)
{
    char real[PATH_MAX], tmp[PATH_MAX + 16], dir[PATH_MAX];
    struct stat st;
    int rc, fd;

    if ((rc = resolve_target(path, real, sizeof real)) != 0)
        return rc;
    if (stat(real, &st) == 0 && S_ISDIR(st.st_mode))
        return -EISDIR;
    if (stat(real, &st) == 0 && !S_ISREG(st.st_mode))
        return write_in_place(real, data, len);
    bool existed = stat(real, &st) == 0;

    /* mkstemp: an unpredictable name, created with O_EXCL, so nobody can
     * plant a link at the temp path. */
    snprintf(dir, sizeof dir, "%s", real);
    const char *d = dirname(dir);
    snprintf(tmp, sizeof tmp, "%s/.contend.XXXXXX", d);
    fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    /* mkstemp makes 0600; keep an existing file's mode, else what a plain
     * create would give under the umask. */
    mode_t mode = existed ? (st.st_mode & 07777) : 0;
    if (!existed) {
        mode_t um = umask(0);
        umask(um);
        mode = 0644 & ~um;
    }
    rc = fchmod(fd, mode) < 0 ? -errno : 0;
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, real) < 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    /* The rename is only durable once the directory entry is. */
    fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t contend_utf8_valid_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

size_t contend_is_control(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (p[0] < 0x20 || p[0] == 0x7f)
        return 1;
    if (n >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2; /* C1: U+0080..U+009F, e.g. the 8-bit CSI */
    return 0;
}

void contend_put_terminal(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        size_t ctl = contend_is_control(s + i, n - i);
        if (k == 0 || (ctl && p[i] != '\n' && p[i] != '\t')) {
            fputc('?', out);
            i += k ? k : 1;
            continue;
        }
        fwrite(p + i, 1, k, out);
        i += k;
    }
}

int contend_file_reserve(int fd, uint64_t size)
{
    if (ftruncate(fd, (off_t)size) < 0)
        return -errno;
    /* fallocate(2), not posix_fallocate: glibc emulates the latter by writing
     * zeros where the file system lacks it, which for a GiB history is slow
     * and reserves nothing more. */
    while (fallocate(fd, 0, 0, (off_t)size) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EOPNOTSUPP || errno == ENOSYS)
            return 0;
        return -errno;
    }
    return 0;
}

int contend_read_file(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = contend_calloc(1, cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = contend_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            free(buf);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

long contend_read_proc(long pid, const char *name, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = '\0';
    return (long)n;
}

int contend_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s)
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    uint64_t mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1000ull;
        end++;
        break;
    case 'M':
        mult = 1000000ull;
        end++;
        break;
    case 'G':
        mult = 1000000000ull;
        end++;
        break;
    default: break;
    }
    if (*end != '\0')
        return -EINVAL;
    if (v > UINT64_MAX / mult)
        return -ERANGE;
    *out = v * mult;
    return 0;
}

int contend_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    bool neg = (*s == '-');
    uint64_t v;
    int rc = contend_parse_u64(neg || *s == '+' ? s + 1 : s, &v);
    if (rc)
        return rc;
    if (v > (uint64_t)INT64_MAX)
        return -ERANGE;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int contend_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    *out = v;
    return 0;
}

int contend_parse_duration_ns(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    double mult;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mult = 1e9;
    else if (strcmp(end, "ms") == 0)
        mult = 1e6;
    else if (strcmp(end, "us") == 0)
        mult = 1e3;
    else if (strcmp(end, "ns") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60e9;
    else if (strcmp(end, "h") == 0)
        mult = 3600e9;
    else
        return -EINVAL;
    double ns = v * mult;
    if (ns > 1e18)
        return -ERANGE;
    *out = (uint64_t)llround(ns);
    return 0;
}
