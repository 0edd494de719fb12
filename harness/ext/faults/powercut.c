/*
 * powercut.c - undoing what a power cut loses (see powercut.h).
 *
 * Three passes over the committed entries of the undo log.  Backwards, to
 * find what is durable: walking from the newest entry, every fsync seen so
 * far covers the older changes of its inode (or directory).  Then the policy
 * decides, per non-durable change, how much of it survives.  Then backwards
 * again, undoing.  Undoing newest first means every step finds the store as
 * it was right after the change it undoes: a write's old bytes go back over
 * exactly what the write changed, a rename is reversed while its name still
 * holds the moved inode.
 *
 * Files are opened through the farm (one hard link per inode the shim saw),
 * never by name, because the name a write went to may have been renamed or
 * unlinked since.  Names are restored by the full paths the shim recorded.
 */
#include "powercut.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "undolog.h"

#define SALT_CUT 0x706f776572637574ull /* "powercut" */

int contend_cut_policy_parse(const char *s, int *out)
{
    static const char *const names[] = {"drop", "prefix", "torn"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *contend_cut_policy_name(int policy)
{
    switch (policy) {
    case CONTEND_CUT_PREFIX: return "prefix";
    case CONTEND_CUT_TORN: return "torn";
    default: return "drop";
    }
}

/* ---- a small map from (dev, ino) to an index ---------------------------- */

struct ikey {
    uint64_t dev, ino;
    uint32_t val; /* index + 1; 0 = empty */
};

struct imap {
    struct ikey *k;
    size_t cap, n;
};

static size_t ihash(uint64_t dev, uint64_t ino, size_t cap)
{
    return (size_t)(contend_mix64(dev * 31 + ino) & (cap - 1));
}

static uint32_t imap_get(const struct imap *m, uint64_t dev, uint64_t ino)
{
    if (!m->cap)
        return 0;
    for (size_t i = ihash(dev, ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->k[i].val)
            return 0;
        if (m->k[i].dev == dev && m->k[i].ino == ino)
            return m->k[i].val;
    }
}

static void imap_put(struct imap *m, uint64_t dev, uint64_t ino, uint32_t val);

static void imap_grow(struct imap *m)
{
    struct imap bigger = {.cap = m->cap ? m->cap * 2 : 64};
    bigger.k = contend_calloc(bigger.cap, sizeof bigger.k[0]);
    for (size_t i = 0; i < m->cap; i++)
        if (m->k[i].val)
            imap_put(&bigger, m->k[i].dev, m->k[i].ino, m->k[i].val);
    free(m->k);
    *m = bigger;
}

static void imap_put(struct imap *m, uint64_t dev, uint64_t ino, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap)
        imap_grow(m);
    for (size_t i = ihash(dev, ino, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->k[i].val) {
            m->k[i] = (struct ikey){.dev = dev, .ino = ino, .val = val};
            m->n++;
            return;
        }
        if (m->k[i].dev == dev && m->k[i].ino == ino) {
            m->k[i].val = val;
            return;
        }
    }
}

/* ---- per-inode undo state ----------------------------------------------- */

struct range {
    uint64_t a, b;
};

/* Bytes of an inode that a surviving write decided, and how far they reach. */
struct inode {
    uint64_t dev, ino;
    uint64_t keep_end;
    struct range *kept;
    size_t nkept;
};

struct undo {
    const struct contend_ulog *log;
    const char *farm;
    struct imap map;
    struct inode *in;
    size_t nin;
    struct contend_cut_report *rep;
};

static void undo_error(struct undo *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void undo_error(struct undo *u, const char *fmt, ...)
{
    if (u->rep->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->rep->first_error, sizeof u->rep->first_error, fmt, ap);
        va_end(ap);
    }
}

static struct inode *inode_of(struct undo *u, uint64_t dev, uint64_t ino)
{
    uint32_t v = imap_get(&u->map, dev, ino);
    if (v)
        return &u->in[v - 1];
    u->in = contend_realloc(u->in, (u->nin + 1) * sizeof u->in[0]);
    u->in[u->nin] = (struct inode){.dev = dev, .ino = ino};
    imap_put(&u->map, dev, ino, (uint32_t)++u->nin);
    return &u->in[u->nin - 1];
}

static void keep_range(struct inode *in, uint64_t a, uint64_t b)
{
    if (a >= b)
        return;
    in->kept = contend_realloc(in->kept, (in->nkept + 1) * sizeof in->kept[0]);
    in->kept[in->nkept++] = (struct range){a, b};
    if (b > in->keep_end)
        in->keep_end = b;
}

/* Put back [a, b) of the file from the entry's saved bytes (zeros past the
 * old end), skipping every range a surviving later write decided. */
static void restore(struct undo *u, int fd, const struct inode *in,
                    const struct contend_ulog_entry *e, uint64_t base, uint64_t a, uint64_t b)
{
    static const unsigned char zeros[4096];
    for (size_t i = 0; i < in->nkept; i++) {
        const struct range *k = &in->kept[i];
        if (k->a < b && a < k->b) {
            if (a < k->a)
                restore(u, fd, in, e, base, a, k->a);
            if (k->b < b)
                restore(u, fd, in, e, base, k->b, b);
            return;
        }
    }
    const unsigned char *saved = u->log->data + e->data;
    while (a < b) {
        const void *src;
        size_t n;
        if (a - base < e->data_len) {
            src = saved + (a - base);
            n = (size_t)(e->data_len - (a - base));
        } else {
            src = zeros;
            n = sizeof zeros;
        }
        if (n > b - a)
            n = (size_t)(b - a);
        ssize_t w = pwrite(fd, src, n, (off_t)a);
        if (w <= 0) {
            undo_error(u, "cannot restore bytes of inode %llu: %s", (unsigned long long)in->ino,
                       strerror(w < 0 ? errno : EIO));
            return;
        }
        u->rep->bytes += (uint64_t)w;
        a += (uint64_t)w;
    }
}

static int open_inode(struct undo *u, uint64_t dev, uint64_t ino)
{
    char path[PATH_MAX];
    if (contend_ulog_farm_path(path, sizeof path, u->farm, dev, ino) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        undo_error(u, "cannot open inode %llu through %s: %s", (unsigned long long)ino, path,
                   strerror(errno));
    return fd;
}

/* Undo a write or a truncation, keeping its first `keep` bytes (writes). */
static void undo_data(struct undo *u, const struct contend_ulog_entry *e, uint64_t keep)
{
    struct inode *in = inode_of(u, e->dev, e->ino);
    int fd = open_inode(u, e->dev, e->ino);
    if (fd < 0)
        return;
    if (e->type == CONTEND_ULOG_WRITE) {
        uint64_t end = e->off + e->len;
        restore(u, fd, in, e, e->off, e->off + keep, end);
        keep_range(in, e->off, e->off + keep);
    } else if (e->old_size > e->off) {
        restore(u, fd, in, e, e->off, e->off, e->old_size); /* a shrink: the dropped bytes */
    }
    uint64_t size = e->old_size > in->keep_end ? e->old_size : in->keep_end;
    if (ftruncate(fd, (off_t)size) < 0)
        undo_error(u, "cannot truncate inode %llu: %s", (unsigned long long)e->ino,
                   strerror(errno));
    close(fd);
    u->rep->undone++;
}

static bool name_is(const char *path, uint64_t ino)
{
    struct stat st;
    return lstat(path, &st) == 0 && (ino == 0 || (uint64_t)st.st_ino == ino);
}

static void relink(struct undo *u, uint64_t dev, uint64_t ino, const char *path)
{
    char from[PATH_MAX];
    if (contend_ulog_farm_path(from, sizeof from, u->farm, dev, ino) != 0 || link(from, path) < 0)
        undo_error(u, "cannot put back %s: %s", path, strerror(errno));
    else
        u->rep->names++;
}

static void undo_name(struct undo *u, const struct contend_ulog_entry *e)
{
    const char *a = (const char *)u->log->data + e->data;
    const char *b = a + strlen(a) + 1;
    u->rep->undone++;
    switch (e->type) {
    case CONTEND_ULOG_CREATE:
        /* Gone already: two processes raced to create it (O_CREAT without
         * O_EXCL), both logged the create, and the newer undo removed it. */
        if (!name_is(a, 0) && errno == ENOENT)
            break;
        if (!name_is(a, e->ino))
            undo_error(u, "created %s was replaced", a);
        else if (unlink(a) < 0)
            undo_error(u, "cannot remove %s: %s", a, strerror(errno));
        else
            u->rep->names++;
        break;
    case CONTEND_ULOG_UNLINK: relink(u, e->dev, e->ino, a); break;
    case CONTEND_ULOG_RENAME:
        /* In flight at the cut: logged, but the process was stopped before
         * the call moved anything (the source is still there, the same
         * file).  Nothing to undo. */
        if (!name_is(b, e->ino) && e->ino != 0 && name_is(a, e->ino))
            break;
        /* In flight, and lost the race: the process was stopped between
         * logging and the call while another moved the same file away (two
         * consumers of a file queue renaming one job).  Entries are undone
         * newest first, so every later change is already undone: if the
         * destination does not hold the file now, this rename never took
         * effect, wherever the file went.  Nothing to undo. */
        if (!name_is(b, e->ino))
            break;
        if (rename(b, a) < 0) {
            undo_error(u, "cannot rename %s back to %s: %s", b, a, strerror(errno));
            break;
        }
        u->rep->names++;
        if (e->victim_ino)
            relink(u, e->dev, e->victim_ino, b);
        break;
    default: break;
    }
}

/* ---- durability ------------------------------------------------------------ */

static bool is_change(uint32_t type)
{
    return type != CONTEND_ULOG_FSYNC && type != CONTEND_ULOG_SYNC;
}

/* Mark which changes are durable: durable[i] for entry idx[i]. */
static void find_durable(const struct contend_ulog *log, const uint64_t *idx, size_t n,
                         bool *durable)
{
    struct imap synced = {0};
    bool all = false;
    for (size_t i = n; i-- > 0;) {
        const struct contend_ulog_entry *e = &log->ent[idx[i]];
        switch (e->type) {
        case CONTEND_ULOG_FSYNC: imap_put(&synced, e->dev, e->ino, 1); break;
        case CONTEND_ULOG_SYNC: all = true; break;
        case CONTEND_ULOG_WRITE:
        case CONTEND_ULOG_TRUNC: durable[i] = all || imap_get(&synced, e->dev, e->ino); break;
        case CONTEND_ULOG_CREATE:
        case CONTEND_ULOG_UNLINK:
        case CONTEND_ULOG_RENAME:
            /* A name is durable once its directory (both, for a move) is. */
            durable[i] = all || (imap_get(&synced, e->dev, e->dir_ino) &&
                                 imap_get(&synced, e->dev, e->dir2_ino ? e->dir2_ino : e->dir_ino));
            break;
        default: durable[i] = true; break;
        }
    }
    free(synced.k);
}

/* How much of a non-durable change survives: for writes, a byte count; for
 * anything else, 0 (undone) or 1 (survives).  `pos` is the change's place
 * among the non-durable changes (prefix) or among the non-durable metadata
 * changes (torn: names and truncations persist in order, as a journal
 * would keep them, while data writes tear independently). */
static uint64_t survives(const struct contend_ulog_entry *e, int policy, unsigned sector,
                         uint64_t seed, uint64_t i, uint64_t pos, uint64_t prefix)
{
    if (policy == CONTEND_CUT_DROP)
        return 0;
    bool whole = pos < prefix;
    if (policy == CONTEND_CUT_PREFIX || e->type != CONTEND_ULOG_WRITE)
        return whole ? (e->type == CONTEND_ULOG_WRITE ? e->len : 1) : 0;
    struct contend_rng rng;
    contend_rng_init(&rng, seed ^ SALT_CUT, CONTEND_CUT_TORN, i);
    /* Cut points: 0, the first sector boundary after off, every sector after
     * it, and the whole write. */
    uint64_t first = sector - e->off % sector;
    uint64_t options = 2;
    for (uint64_t p = first; p < e->len; p += sector)
        options++;
    uint64_t k = contend_rng_below(&rng, options);
    if (k == 0)
        return 0;
    if (k == options - 1)
        return e->len;
    return first + (k - 1) * sector;
}

int contend_powercut_rollback(const char *ulog_path, const char *farm, int policy, unsigned sector,
                              uint64_t seed, struct contend_cut_report *rep)
{
    struct contend_ulog log;
    memset(rep, 0, sizeof *rep);
    int rc = contend_ulog_open(ulog_path, &log);
    if (rc)
        return rc;
    if (sector == 0)
        sector = 512;
    rep->overflow = __atomic_load_n(&log.hdr->overflow, __ATOMIC_ACQUIRE);
    if (rep->overflow) {
        /* Some change went unlogged, so no rollback can be right; and on a
         * full disk the entries reserved last have no blocks behind them:
         * reading their pages through the mapping would be a SIGBUS here.
         * The caller reports the case as a harness error. */
        contend_ulog_close(&log);
        return 0;
    }
    uint64_t n = log.hdr->nslots < log.hdr->slots_cap ? log.hdr->nslots : log.hdr->slots_cap;
    uint64_t *idx = contend_calloc(n, sizeof *idx);
    size_t m = 0;
    for (uint64_t i = 0; i < n; i++)
        if (__atomic_load_n(&log.ent[i].state, __ATOMIC_ACQUIRE) == 1)
            idx[m++] = i;
    bool *durable = contend_calloc(m, sizeof *durable);
    find_durable(&log, idx, m, durable);

    /* Position of each non-durable change among those the prefix counts:
     * all of them (prefix), or the metadata changes (torn). */
    uint64_t *pos = contend_calloc(m, sizeof *pos);
    uint64_t nvol = 0, npos = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t type = log.ent[idx[i]].type;
        if (!is_change(type))
            continue;
        rep->entries++;
        if (durable[i])
            continue;
        nvol++;
        if (policy != CONTEND_CUT_TORN || type != CONTEND_ULOG_WRITE)
            pos[i] = npos++;
    }
    rep->volatile_ = nvol;
    struct contend_rng prng;
    contend_rng_init(&prng, seed ^ SALT_CUT, CONTEND_CUT_PREFIX, 0);
    uint64_t prefix = contend_rng_below(&prng, npos + 1);

    struct undo u = {.log = &log, .farm = farm, .rep = rep};
    for (size_t i = m; i-- > 0;) {
        const struct contend_ulog_entry *e = &log.ent[idx[i]];
        if (durable[i] || !is_change(e->type))
            continue;
        uint64_t keep = survives(e, policy, sector, seed, idx[i], pos[i], prefix);
        if (e->type == CONTEND_ULOG_WRITE || e->type == CONTEND_ULOG_TRUNC) {
            if (e->type == CONTEND_ULOG_WRITE ? keep < e->len : keep == 0)
                undo_data(&u, e, e->type == CONTEND_ULOG_WRITE ? keep : 0);
            else if (e->type == CONTEND_ULOG_WRITE)
                keep_range(inode_of(&u, e->dev, e->ino), e->off, e->off + e->len);
        } else if (keep == 0) {
            undo_name(&u, e);
        }
    }
    for (size_t i = 0; i < u.nin; i++)
        free(u.in[i].kept);
    free(u.in);
    free(u.map.k);
    free(pos);
    free(durable);
    free(idx);
    contend_ulog_close(&log);
    return 0;
}

int contend_powercut_reset(const char *ulog_path, const char *farm)
{
    struct contend_ulog log;
    int rc = contend_ulog_open(ulog_path, &log);
    if (rc)
        return rc;
    contend_ulog_reset(&log);
    contend_ulog_close(&log);
    if ((rc = contend_rm_rf(farm)) != 0 && rc != -ENOENT)
        return rc;
    return mkdir(farm, 0755) < 0 ? -errno : 0;
}
