/*
 * lru_cache.c - a bounded LRU map with a TTL per entry (target `lru-cache`).
 *
 * The pattern of the field reports: an in-process cache with `max_size`
 * and a time to live, keys and values of fixed size, used by every thread
 * of a service (scope `worker`) or, through a shared file, by several
 * processes (scope `shared`, the fork-mode cache).  The variants are the
 * ways it was written:
 *
 *   mutex          the fix: one lock around every operation; a put first
 *                  evicts every expired entry (eagerly, so they never pile
 *                  up), then the least recently used ones while the cache is
 *                  full; a get never returns an expired entry.
 *   nolock         the same code without the lock ("not thread-safe by
 *                  design"): a get copies a value while a put is half-way
 *                  through writing it (torn value), two puts both see room
 *                  for one more entry (over capacity), counters lose updates.
 *   lazy-expiry    expired entries are removed only when a get reads them:
 *                  the size check counts live entries and evicts live ones,
 *                  so entries that expire unread stay resident forever, the
 *                  leak of the global price cache (over capacity, memory
 *                  grows with the number of distinct keys).
 *   unbounded      never evicts at all.
 *   wallclock-ttl  the mutex variant with the TTL measured on CLOCK_REALTIME:
 *                  when the wall clock steps back, entries live past their
 *                  TTL (stale reads); CLOCK_MONOTONIC never steps.
 *
 * Layout (one region: a file mapped MAP_SHARED, or anonymous memory):
 *
 *   header    parameters, the mutex, list heads, counters
 *   buckets   nbuckets (a power of two) chain heads
 *   slots     pool slots: key, expiry, LRU stamp, hash chain link, links of
 *             two lists, state, value
 *
 * Two intrusive lists order the resident entries: by use (the LRU list,
 * most recent at the head) and by put (the expiry list; every entry lives
 * ttl from its put, so put order is expiry order and eager expiry pops the
 * tail).  Indexes, not pointers, link everything, so the region means the
 * same at any address and in a snapshot file.
 *
 * Every field of the region is read and written with relaxed atomics.  Under
 * the lock that costs nothing (the mutex orders them) and changes nothing;
 * in the nolock variant it keeps the data race in the logic, where the bug
 * is (a read-modify-write of a list or a counter that is not atomic as a
 * whole, a value copied word by word), and out of the C memory model, so
 * the program stays defined and ThreadSanitizer lets the checker, not the
 * sanitizer, find the bug.
 *
 * A shared cache uses a process-shared robust mutex.  When a worker dies
 * holding it (kill -9), the next locker gets EOWNERDEAD with the structure
 * possibly half-updated; it rebuilds hash chains and lists from the slots,
 * drops the entry that was being written (its put never completed), marks
 * the mutex consistent and goes on.  That is what a real program must do,
 * and what the kill faults exercise.
 */
#include "lru_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "target.h"

#define LRU_MAGIC 0x5552524c444e4f43ull /* "CONDLRRU" */
#define LRU_VERSION 1
#define NIL 0xffffffffu

enum slot_state { SLOT_FREE = 0, SLOT_WRITING = 1, SLOT_READY = 2 };

/* Every entry is on two doubly linked lists of slot indexes: by use (LRU,
 * for eviction) and by put (EXP, for expiry: the oldest put expires first).
 * One pair of list functions serves both. */
enum { LRU = 0, EXP = 1, NLISTS = 2 };
struct lru_ends {
    uint32_t head, tail;
};
struct lru_link {
    uint32_t prev, next;
};

struct lru_header {
    uint64_t magic;
    uint32_t version;
    uint32_t variant;
    uint32_t capacity, pool, nbuckets, value_size, slot_size, shared;
    uint64_t ttl_ns;
    uint64_t buckets_off, slots_off, map_len;
    pthread_mutex_t lock;
    /* Below: under the lock (except in nolock). */
    uint32_t count, high_water;
    struct lru_ends list[NLISTS]; /* LRU: most .. least recently used; EXP: newest .. oldest put */
    uint32_t free_head;           /* recycled slots */
    uint32_t fresh;               /* slots from here on were never used */
    uint64_t tick;                /* use stamps, for the LRU order after a repair */
    uint64_t hits, misses, puts, evictions, expirations, repairs;
};

struct lru_slot {
    uint64_t key;
    uint64_t expires; /* on the variant's clock */
    uint64_t stamp;   /* tick of the last use */
    uint32_t hnext;   /* hash chain; the free list when free */
    struct lru_link link[NLISTS];
    uint32_t state;   /* enum slot_state */
    uint64_t value[]; /* value_size / 8 words */
};

struct contend_lru {
    struct lru_header *h;
    uint32_t *buckets;
    unsigned char *slots;
    size_t map_len;
    bool writable;
    bool locking;
    clockid_t clock;
    uint64_t (*test_now)(void *ctx);
    void *test_ctx;
};

/* ---- relaxed access (see the top) -------------------------------------- */

static inline uint32_t ld32(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline uint64_t ld64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void st32(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline void st64(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline void inc64(uint64_t *p)
{
    st64(p, ld64(p) + 1);
} /* not atomic: on purpose */

static struct lru_slot *slot(const struct contend_lru *c, uint32_t i)
{
    return (struct lru_slot *)(c->slots + (size_t)i * c->h->slot_size);
}

static bool valid(const struct contend_lru *c, uint32_t i)
{
    return i < c->h->pool;
}

/* Slots below this were ever used.  Read once: without the lock it moves. */
static uint32_t fresh_of(const struct contend_lru *c)
{
    uint32_t f = ld32(&c->h->fresh);
    return f < c->h->pool ? f : c->h->pool;
}

static uint64_t now_ns(const struct contend_lru *c)
{
    if (c->test_now)
        return c->test_now(c->test_ctx);
    struct timespec ts;
    clock_gettime(c->clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t bucket_of(const struct contend_lru *c, uint64_t key)
{
    uint64_t x = key + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((x ^ (x >> 31)) & (c->h->nbuckets - 1));
}

/* ---- lists ---------------------------------------------------------------
 * Every walk is bounded by the pool size and every index is checked: in the
 * nolock variant racing threads can leave a cycle or a stale link, and a
 * broken cache must give wrong answers for the checker, not hang or crash. */

static void list_unlink(struct contend_lru *c, int l, uint32_t i)
{
    struct lru_link *k = &slot(c, i)->link[l];
    struct lru_ends *e = &c->h->list[l];
    uint32_t p = ld32(&k->prev), n = ld32(&k->next);
    st32(valid(c, p) ? &slot(c, p)->link[l].next : &e->head, n);
    st32(valid(c, n) ? &slot(c, n)->link[l].prev : &e->tail, p);
    st32(&k->prev, NIL);
    st32(&k->next, NIL);
}

static void list_push(struct contend_lru *c, int l, uint32_t i)
{
    struct lru_link *k = &slot(c, i)->link[l];
    struct lru_ends *e = &c->h->list[l];
    uint32_t head = ld32(&e->head);
    st32(&k->prev, NIL);
    st32(&k->next, head);
    st32(valid(c, head) ? &slot(c, head)->link[l].prev : &e->tail, i);
    st32(&e->head, i);
}

static uint32_t find(const struct contend_lru *c, uint64_t key)
{
    uint32_t i = ld32(&c->buckets[bucket_of(c, key)]);
    for (uint32_t steps = 0; valid(c, i) && steps <= c->h->pool; steps++) {
        struct lru_slot *s = slot(c, i);
        if (ld32(&s->state) != SLOT_FREE && ld64(&s->key) == key)
            return i;
        i = ld32(&s->hnext);
    }
    return NIL;
}

static void hash_insert(struct contend_lru *c, uint32_t i)
{
    uint32_t *b = &c->buckets[bucket_of(c, ld64(&slot(c, i)->key))];
    st32(&slot(c, i)->hnext, ld32(b));
    st32(b, i);
}

static void hash_remove(struct contend_lru *c, uint32_t i)
{
    uint32_t *link = &c->buckets[bucket_of(c, ld64(&slot(c, i)->key))];
    for (uint32_t steps = 0; steps <= c->h->pool; steps++) {
        uint32_t j = ld32(link); /* once: without the lock it may change under us */
        if (!valid(c, j))
            return;
        if (j == i) {
            st32(link, ld32(&slot(c, i)->hnext));
            return;
        }
        link = &slot(c, j)->hnext;
    }
}

static void slot_free(struct contend_lru *c, uint32_t i)
{
    struct lru_slot *s = slot(c, i);
    st32(&s->state, SLOT_FREE);
    st32(&s->hnext, ld32(&c->h->free_head));
    st32(&c->h->free_head, i);
}

/* Recycled slots first, then never used ones in index order: a slot's page
 * becomes resident only when the cache first needs that many entries. */
static uint32_t slot_alloc(struct contend_lru *c)
{
    uint32_t i = ld32(&c->h->free_head);
    if (valid(c, i)) {
        st32(&c->h->free_head, ld32(&slot(c, i)->hnext));
        return i;
    }
    i = ld32(&c->h->fresh);
    if (!valid(c, i))
        return NIL;
    st32(&c->h->fresh, i + 1);
    return i;
}

static void remove_entry(struct contend_lru *c, uint32_t i)
{
    hash_remove(c, i);
    list_unlink(c, LRU, i);
    list_unlink(c, EXP, i);
    slot_free(c, i);
    uint32_t n = ld32(&c->h->count);
    st32(&c->h->count, n ? n - 1 : 0);
}

static bool expired(const struct contend_lru *c, uint32_t i, uint64_t now)
{
    return now >= ld64(&slot(c, i)->expires);
}

/* Eager expiry: the oldest puts expire first. */
static void evict_expired(struct contend_lru *c, uint64_t now)
{
    for (uint32_t steps = 0; steps <= c->h->pool; steps++) {
        uint32_t i = ld32(&c->h->list[EXP].tail);
        if (!valid(c, i) || !expired(c, i, now))
            return;
        remove_entry(c, i);
        inc64(&c->h->expirations);
    }
}

/* Resident entries that have not expired: lazy-expiry's idea of "full",
 * which is exactly its bug (expired entries take room but do not count). */
static uint32_t live_count(const struct contend_lru *c, uint64_t now)
{
    uint32_t dead = 0;
    uint32_t i = ld32(&c->h->list[EXP].tail);
    for (uint32_t steps = 0; valid(c, i) && steps <= c->h->pool && expired(c, i, now); steps++) {
        dead++;
        i = ld32(&slot(c, i)->link[EXP].prev);
    }
    uint32_t n = ld32(&c->h->count);
    return n > dead ? n - dead : 0;
}

static void evict_lru(struct contend_lru *c)
{
    uint32_t i = ld32(&c->h->list[LRU].tail);
    if (!valid(c, i))
        return;
    remove_entry(c, i);
    inc64(&c->h->evictions);
}

/* lazy-expiry evicts the least recently used *live* entry: an expired one
 * "is dead already and goes when somebody reads it", so it never does. */
static void evict_lru_live(struct contend_lru *c, uint64_t now)
{
    uint32_t i = ld32(&c->h->list[LRU].tail);
    for (uint32_t steps = 0; valid(c, i) && steps <= c->h->pool; steps++) {
        if (!expired(c, i, now)) {
            remove_entry(c, i);
            inc64(&c->h->evictions);
            return;
        }
        i = ld32(&slot(c, i)->link[LRU].prev);
    }
}

/* Make room for one new entry, the variant's way. */
static void make_room(struct contend_lru *c, uint64_t now)
{
    const uint32_t cap = c->h->capacity;
    switch (c->h->variant) {
    case CONTEND_LRU_UNBOUNDED: return;
    case CONTEND_LRU_LAZY_EXPIRY:
        for (uint32_t steps = 0; steps <= c->h->pool && live_count(c, now) >= cap; steps++)
            evict_lru_live(c, now);
        return;
    default:
        for (uint32_t steps = 0; steps <= c->h->pool && ld32(&c->h->count) >= cap; steps++)
            evict_lru(c);
        return;
    }
}

/* ---- the lock ------------------------------------------------------------ */

static int cmp_stamp(const void *a, const void *b, void *ctx)
{
    const struct contend_lru *c = ctx;
    uint64_t x = ld64(&slot(c, *(const uint32_t *)a)->stamp);
    uint64_t y = ld64(&slot(c, *(const uint32_t *)b)->stamp);
    return (x > y) - (x < y);
}

static int cmp_expires(const void *a, const void *b, void *ctx)
{
    const struct contend_lru *c = ctx;
    uint64_t x = ld64(&slot(c, *(const uint32_t *)a)->expires);
    uint64_t y = ld64(&slot(c, *(const uint32_t *)b)->expires);
    return (x > y) - (x < y);
}

/* The previous owner died inside a critical section: rebuild everything
 * derived (chains, lists, free list, count) from the slots themselves.  An
 * entry in the middle of being written is dropped: its put never returned. */
static int repair(struct contend_lru *c)
{
    struct lru_header *h = c->h;
    uint32_t *ready = malloc((size_t)h->pool * sizeof *ready);
    uint32_t n = 0;
    if (!ready)
        return -ENOMEM;
    for (uint32_t b = 0; b < h->nbuckets; b++)
        st32(&c->buckets[b], NIL);
    for (int l = 0; l < NLISTS; l++) {
        st32(&h->list[l].head, NIL);
        st32(&h->list[l].tail, NIL);
    }
    st32(&h->free_head, NIL);
    uint32_t fresh = fresh_of(c);
    for (uint32_t i = fresh; i-- > 0;) {
        struct lru_slot *s = slot(c, i);
        if (ld32(&s->state) == SLOT_READY)
            ready[n++] = i;
        else
            slot_free(c, i);
    }
    qsort_r(ready, n, sizeof *ready, cmp_stamp, c);
    for (uint32_t k = 0; k < n; k++) {
        hash_insert(c, ready[k]);
        list_push(c, LRU, ready[k]); /* the most recent stamp ends at the head */
    }
    qsort_r(ready, n, sizeof *ready, cmp_expires, c);
    for (uint32_t k = 0; k < n; k++)
        list_push(c, EXP, ready[k]);
    st32(&h->count, n);
    inc64(&h->repairs);
    free(ready);
    return 0;
}

static int lock(struct contend_lru *c)
{
    if (!c->locking)
        return 0;
    int rc = pthread_mutex_lock(&c->h->lock);
    if (rc == EOWNERDEAD) {
        int r = repair(c);
        pthread_mutex_consistent(&c->h->lock);
        if (r) {
            pthread_mutex_unlock(&c->h->lock);
            return r;
        }
        return 0;
    }
    return -rc;
}

static void unlock(struct contend_lru *c)
{
    if (c->locking)
        pthread_mutex_unlock(&c->h->lock);
}

/* ---- operations ---------------------------------------------------------- */

int contend_lru_get(struct contend_lru *c, uint64_t key, void *out, uint32_t cap, uint32_t *len)
{
    const uint32_t words = c->h->value_size / 8;
    int rc = lock(c);
    if (rc)
        return rc;
    uint32_t i = find(c, key);
    /* Between finding the entry and copying it: a put may rewrite it. */
    contend_point("lru-cache:get");
    if (i == NIL) {
        inc64(&c->h->misses);
        unlock(c);
        return 0;
    }
    if (expired(c, i, now_ns(c))) {
        remove_entry(c, i);
        inc64(&c->h->expirations);
        inc64(&c->h->misses);
        unlock(c);
        return 0;
    }
    uint64_t *dst = out;
    const struct lru_slot *s = slot(c, i);
    uint32_t n = cap / 8 < words ? cap / 8 : words;
    for (uint32_t w = 0; w < n; w++)
        dst[w] = ld64(&s->value[w]);
    *len = n * 8;
    list_unlink(c, LRU, i);
    list_push(c, LRU, i);
    st64(&slot(c, i)->stamp, ld64(&c->h->tick) + 1);
    inc64(&c->h->tick);
    inc64(&c->h->hits);
    unlock(c);
    return 1;
}

int contend_lru_put(struct contend_lru *c, uint64_t key, const void *value, uint32_t len)
{
    const uint32_t words = c->h->value_size / 8;
    const int variant = (int)c->h->variant;
    if (len > c->h->value_size)
        return -EMSGSIZE;
    int rc = lock(c);
    if (rc)
        return rc;
    uint64_t now = now_ns(c);
    if (variant != CONTEND_LRU_LAZY_EXPIRY && variant != CONTEND_LRU_UNBOUNDED)
        evict_expired(c, now);
    uint32_t i = find(c, key);
    if (i == NIL) {
        make_room(c, now);
        /* Between deciding there is room and taking it. */
        contend_point("lru-cache:put:insert");
        i = slot_alloc(c);
        if (i == NIL) {
            unlock(c);
            return -ENOSPC;
        }
        struct lru_slot *s = slot(c, i);
        st64(&s->key, key);
        st32(&s->state, SLOT_WRITING);
        hash_insert(c, i);
        list_push(c, LRU, i);
        list_push(c, EXP, i);
        uint32_t n = ld32(&c->h->count) + 1;
        st32(&c->h->count, n);
        if (n > ld32(&c->h->high_water))
            st32(&c->h->high_water, n);
    } else {
        st32(&slot(c, i)->state, SLOT_WRITING);
        list_unlink(c, LRU, i);
        list_push(c, LRU, i);
        list_unlink(c, EXP, i); /* a new put: a new time to live */
        list_push(c, EXP, i);
    }
    struct lru_slot *s = slot(c, i);
    st64(&s->expires, now + c->h->ttl_ns);
    /* Values are written in two halves, as any copy of more than a word is:
     * a reader between them sees half of each value. */
    const uint64_t *src = value;
    uint32_t have = len / 8, half = words / 2;
    for (uint32_t w = 0; w < half; w++)
        st64(&s->value[w], w < have ? src[w] : 0);
    contend_point("lru-cache:put:value");
    for (uint32_t w = half; w < words; w++)
        st64(&s->value[w], w < have ? src[w] : 0);
    st64(&s->stamp, ld64(&c->h->tick) + 1);
    inc64(&c->h->tick);
    st32(&s->state, SLOT_READY);
    inc64(&c->h->puts);
    unlock(c);
    return 0;
}

int contend_lru_size(struct contend_lru *c, uint32_t *count, uint32_t *high_water)
{
    int rc = lock(c);
    if (rc)
        return rc;
    *count = ld32(&c->h->count);
    *high_water = ld32(&c->h->high_water);
    unlock(c);
    return 0;
}

void contend_lru_stats(struct contend_lru *c, struct contend_lru_stats *st)
{
    const struct lru_header *h = c->h;
    memset(st, 0, sizeof *st);
    st->capacity = h->capacity;
    st->ttl_ns = h->ttl_ns;
    st->count = ld32(&h->count);
    st->high_water = ld32(&h->high_water);
    uint32_t fresh = fresh_of(c);
    for (uint32_t i = 0; i < fresh; i++)
        st->used_slots += ld32(&slot(c, i)->state) != SLOT_FREE;
    st->hits = ld64(&h->hits);
    st->misses = ld64(&h->misses);
    st->puts = ld64(&h->puts);
    st->evictions = ld64(&h->evictions);
    st->expirations = ld64(&h->expirations);
    st->repairs = ld64(&h->repairs);
}

size_t contend_lru_keys(struct contend_lru *c, uint64_t *keys, size_t max)
{
    size_t n = 0;
    uint32_t i = ld32(&c->h->list[LRU].head);
    for (uint32_t steps = 0; valid(c, i) && n < max && steps <= c->h->pool; steps++) {
        keys[n++] = ld64(&slot(c, i)->key);
        i = ld32(&slot(c, i)->link[LRU].next);
    }
    return n;
}

/* Count a list and check its back links. */
static int check_list(struct contend_lru *c, int l, uint32_t *n, char *why, size_t len)
{
    uint32_t prev = NIL, i = ld32(&c->h->list[l].head);
    *n = 0;
    while (valid(c, i)) {
        const struct lru_slot *s = slot(c, i);
        if (++*n > c->h->pool || ld32(&s->state) == SLOT_FREE || ld32(&s->link[l].prev) != prev) {
            snprintf(why, len, "the %s list is broken at slot %u", l == LRU ? "LRU" : "expiry", i);
            return -EUCLEAN;
        }
        prev = i;
        i = ld32(&s->link[l].next);
    }
    return 0;
}

int contend_lru_check(struct contend_lru *c, char *why, size_t len)
{
    struct contend_lru_stats st;
    uint32_t nl, ne;
    contend_lru_stats(c, &st);
    int rc = check_list(c, LRU, &nl, why, len);
    if (rc == 0)
        rc = check_list(c, EXP, &ne, why, len);
    if (rc)
        return rc;
    if (nl != st.used_slots || ne != st.used_slots || st.count != st.used_slots) {
        snprintf(why, len,
                 "%u slots in use, but the count says %u, the LRU list holds %u "
                 "and the expiry list %u",
                 st.used_slots, st.count, nl, ne);
        return -EUCLEAN;
    }
    uint32_t fresh = fresh_of(c);
    for (uint32_t i = 0; i < fresh; i++) {
        const struct lru_slot *s = slot(c, i);
        if (ld32(&s->state) != SLOT_FREE && find(c, ld64(&s->key)) == NIL) {
            snprintf(why, len, "key %llu (slot %u) is not in the hash table",
                     (unsigned long long)ld64(&s->key), i);
            return -EUCLEAN;
        }
    }
    return 0;
}

/* ---- regions ------------------------------------------------------------- */

static size_t region_size(const struct contend_lru_config *cfg, uint32_t nbuckets,
                          uint32_t slot_size, uint64_t *buckets_off, uint64_t *slots_off)
{
    *buckets_off = (sizeof(struct lru_header) + 63) & ~63ull;
    *slots_off = (*buckets_off + (uint64_t)nbuckets * 4 + 63) & ~63ull;
    return (size_t)(*slots_off + (uint64_t)cfg->pool * slot_size);
}

static void attach(struct contend_lru *c, void *base, size_t len)
{
    c->h = base;
    c->map_len = len;
    c->buckets = (uint32_t *)((char *)base + c->h->buckets_off);
    c->slots = (unsigned char *)base + c->h->slots_off;
    c->clock = c->h->variant == CONTEND_LRU_WALLCLOCK_TTL ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    c->locking = c->h->variant != CONTEND_LRU_NOLOCK;
}

static int init_mutex(pthread_mutex_t *m, bool shared)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc == 0 && shared)
        rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0 && shared)
        rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -rc;
}

int contend_lru_create(const char *path, const struct contend_lru_config *cfg,
                       struct contend_lru **out)
{
    if (cfg->variant < 0 || cfg->variant >= CONTEND_LRU_VARIANTS || cfg->capacity == 0 ||
        cfg->pool < cfg->capacity || cfg->pool >= NIL / 2 || cfg->value_size < 8 ||
        cfg->value_size % 8 || cfg->value_size > 65536)
        return -EINVAL;
    uint32_t nbuckets = 16;
    while (nbuckets < cfg->pool * 2u)
        nbuckets *= 2;
    uint32_t slot_size = (uint32_t)sizeof(struct lru_slot) + cfg->value_size;
    uint64_t boff, soff;
    size_t len = region_size(cfg, nbuckets, slot_size, &boff, &soff);
    void *base;
    int rc = 0;

    if (path) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
        if (ftruncate(fd, (off_t)len) < 0)
            rc = -errno;
        base = rc ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (!rc && base == MAP_FAILED)
            rc = -errno;
        close(fd);
        if (rc) {
            unlink(path);
            return rc;
        }
    } else {
        /* Anonymous memory: pages become resident as slots are first used,
         * so a cache that leaks shows it in the worker's memory. */
        base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED)
            return -errno;
    }
    struct lru_header *h = base;
    memset(h, 0, sizeof *h);
    h->magic = LRU_MAGIC;
    h->version = LRU_VERSION;
    h->variant = (uint32_t)cfg->variant;
    h->capacity = cfg->capacity;
    h->pool = cfg->pool;
    h->nbuckets = nbuckets;
    h->value_size = cfg->value_size;
    h->slot_size = slot_size;
    h->shared = cfg->shared;
    h->ttl_ns = cfg->ttl_ns;
    h->buckets_off = boff;
    h->slots_off = soff;
    h->map_len = len;
    for (int l = 0; l < NLISTS; l++)
        h->list[l].head = h->list[l].tail = NIL;
    h->free_head = NIL;
    if ((rc = init_mutex(&h->lock, cfg->shared)) != 0) {
        munmap(base, len);
        if (path)
            unlink(path);
        return rc;
    }
    struct contend_lru *c = calloc(1, sizeof *c);
    if (!c) {
        munmap(base, len);
        if (path)
            unlink(path);
        return -ENOMEM;
    }
    attach(c, base, len);
    c->writable = true;
    for (uint32_t b = 0; b < nbuckets; b++)
        c->buckets[b] = NIL;
    /* Slots are zero (SLOT_FREE) and handed out from index 0 up (h->fresh),
     * so pages of slots stay untouched until the cache really grows. */
    *out = c;
    return 0;
}

int contend_lru_open(const char *path, bool writable, struct contend_lru **out)
{
    struct stat st;
    int rc = 0;
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    size_t len = (size_t)st.st_size;
    if (len < sizeof(struct lru_header)) {
        close(fd);
        return -EBADMSG;
    }
    void *base = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    rc = base == MAP_FAILED ? -errno : 0;
    close(fd);
    if (rc)
        return rc;
    const struct lru_header *h = base;
    if (h->magic != LRU_MAGIC || h->version != LRU_VERSION || h->map_len != len ||
        h->slots_off + (uint64_t)h->pool * h->slot_size > len || h->nbuckets == 0 ||
        (h->nbuckets & (h->nbuckets - 1)) || h->buckets_off + 4ull * h->nbuckets > h->slots_off ||
        h->variant >= CONTEND_LRU_VARIANTS || h->value_size % 8) {
        munmap(base, len);
        return -EBADMSG;
    }
    struct contend_lru *c = calloc(1, sizeof *c);
    if (!c) {
        munmap(base, len);
        return -ENOMEM;
    }
    attach(c, base, len);
    c->writable = writable;
    if (!writable)
        c->locking = false;
    *out = c;
    return 0;
}

void contend_lru_close(struct contend_lru *c)
{
    if (!c)
        return;
    munmap(c->h, c->map_len);
    free(c);
}

int contend_lru_snapshot(struct contend_lru *c, const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = lock(c);
    const bool locked = rc == 0;
    const char *p = (const char *)c->h;
    size_t left = locked ? c->map_len : 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (locked)
        unlock(c);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

void contend_lru_set_clock(struct contend_lru *c, uint64_t (*now)(void *ctx), void *ctx)
{
    c->test_now = now;
    c->test_ctx = ctx;
}

int contend_lru_debug_lock(struct contend_lru *c)
{
    return lock(c);
}

/* ==== the target ========================================================== */

static const struct contend_variant lru_variants[] = {
    [CONTEND_LRU_MUTEX] = {"mutex", "one lock; expired entries evicted on put and never served", 0,
                           NULL},
    [CONTEND_LRU_NOLOCK] = {"nolock", "the same without a lock (\"not thread-safe by design\")",
                            CONTEND_VARIANT_BROKEN, "torn-value"},
    [CONTEND_LRU_LAZY_EXPIRY] = {"lazy-expiry", "expired entries removed only when read: the leak",
                                 CONTEND_VARIANT_BROKEN, "over-capacity"},
    [CONTEND_LRU_UNBOUNDED] = {"unbounded", "never evicts", CONTEND_VARIANT_BROKEN,
                               "over-capacity"},
    [CONTEND_LRU_WALLCLOCK_TTL] = {"wallclock-ttl",
                                   "TTL on CLOCK_REALTIME: a clock stepped back keeps entries",
                                   CONTEND_VARIANT_BROKEN, "stale-read"},
    [CONTEND_LRU_VARIANTS] = {NULL, NULL, 0, NULL},
};
_Static_assert(CONTEND_LRU_MUTEX == 0, "mutex is the default variant");

static const char *const lru_workloads[] = {"cache", NULL};

static const struct contend_option lru_options[] = {
    {"capacity", "64", NULL, "entries one cache may hold", CONTEND_OPT_INT, 1, 1 << 24},
    {"ttl", "1s", NULL, "time to live of an entry from its put (500ms, 10m, 1h)",
     CONTEND_OPT_DURATION, 1, 1e18},
    {"value_size", "64", NULL,
     "bytes per value, a multiple of 8 from 32 to 4096 (the cache workload reads it too)",
     CONTEND_OPT_INT, 32, 4096, 8},
    {"scope", "auto", "auto|worker|shared",
     "worker: a cache per worker process, shared by its threads; shared: one cache in a "
     "file for all processes; auto: shared when procs > 1"},
    {NULL, NULL, NULL, NULL},
};

/* 500ms, 10s, 10m, 2h, 250us, 100ns; a bare number is seconds. */
static int parse_ttl(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {{"ns", 1},   {"us", 1e3},   {"ms", 1e6}, {"s", 1e9},
                 {"m", 60e9}, {"h", 3600e9}, {"", 1e9}};
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0))
        return -EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double ns = v * units[i].ns;
            if (ns < 1 || ns > 1e19)
                return -ERANGE;
            *out = (uint64_t)ns;
            return 0;
        }
    }
    return -EINVAL;
}

static bool shared_scope(const struct contend_env *env)
{
    const char *scope = contend_opt(env, "scope", "auto");
    return strcmp(scope, "shared") == 0 || (strcmp(scope, "auto") == 0 && env->procs > 1);
}

static int config_of(const struct contend_env *env, struct contend_lru_config *cfg)
{
    long long cap = contend_opt_int(env, "capacity", 64);
    long long vs = contend_opt_int(env, "value_size", 64);
    memset(cfg, 0, sizeof *cfg);
    if (cap < 1 || cap > (1 << 24) || vs < 32 || vs > 4096 || vs % 8)
        return -EINVAL;
    if (parse_ttl(contend_opt(env, "ttl", "1s"), &cfg->ttl_ns) != 0)
        return -EINVAL;
    cfg->variant = env->variant_index;
    cfg->capacity = (uint32_t)cap;
    cfg->value_size = (uint32_t)vs;
    /* Room for every key once, plus slack for the duplicates a racing
     * nolock put can create: the leaky variants may hold every key. */
    uint64_t keys = env->keys < (1u << 24) ? env->keys : (1u << 24);
    cfg->pool = (uint32_t)(cap + (long long)keys + 64);
    cfg->shared = shared_scope(env);
    return 0;
}

struct lru_handle {
    struct contend_lru *c;
    bool worker_scope;
    char snap[PATH_MAX], live[PATH_MAX];
};

static void cache_path(const struct contend_env *env, char *buf, size_t len)
{
    snprintf(buf, len, "%s/cache.bin", env->store_dir);
}

static void worker_path(const struct contend_env *env, uint32_t w, const char *ext, char *buf,
                        size_t len)
{
    snprintf(buf, len, "%s/cache.w%u.%s", env->store_dir, w, ext);
}

static int lru_setup(const struct contend_env *env)
{
    struct contend_lru_config cfg;
    char path[PATH_MAX];
    int rc = config_of(env, &cfg);
    if (rc || !cfg.shared)
        return rc;
    struct contend_lru *c;
    cache_path(env, path, sizeof path);
    if ((rc = contend_lru_create(path, &cfg, &c)) == 0)
        contend_lru_close(c);
    return rc;
}

static int lru_open(const struct contend_env *env, void **handle)
{
    struct contend_lru_config cfg;
    char path[PATH_MAX];
    int rc = config_of(env, &cfg);
    if (rc)
        return rc;
    struct lru_handle *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    if (cfg.shared) {
        cache_path(env, path, sizeof path);
        rc = contend_lru_open(path, true, &h->c);
    } else {
        /* The cache lives in this process's memory.  Its final state is
         * written at close; the .live marker tells read_state (and the next
         * incarnation after a crash) that a worker died with its cache. */
        h->worker_scope = true;
        worker_path(env, env->worker, "snap", h->snap, sizeof h->snap);
        worker_path(env, env->worker, "live", h->live, sizeof h->live);
        if (access(h->live, F_OK) == 0) {
            worker_path(env, env->worker, "restarted", path, sizeof path);
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd >= 0)
                close(fd);
        }
        int fd = open(h->live, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            rc = -errno;
        else
            close(fd);
        if (rc == 0)
            rc = contend_lru_create(NULL, &cfg, &h->c);
    }
    if (rc) {
        free(h);
        return rc;
    }
    *handle = h;
    return 0;
}

static void lru_target_close(void *handle)
{
    struct lru_handle *h = handle;
    if (h->worker_scope && contend_lru_snapshot(h->c, h->snap) == 0)
        unlink(h->live);
    contend_lru_close(h->c);
    free(h);
}

static int lru_apply(void *handle, struct contend_op *op)
{
    struct lru_handle *h = handle;
    int rc;
    uint32_t len = 0, count = 0, hw = 0;
    switch (op->kind) {
    case CONTEND_OP_GET:
        rc = contend_lru_get(h->c, op->key, op->buf, op->buf_cap, &len);
        if (rc < 0)
            break;
        op->value = rc;
        op->buf_len = len;
        return CONTEND_OK;
    case CONTEND_OP_PUT:
        rc = contend_lru_put(h->c, op->key, op->buf, op->buf_len);
        if (rc < 0)
            break;
        return CONTEND_OK;
    case CONTEND_OP_SIZE:
        rc = contend_lru_size(h->c, &count, &hw);
        if (rc < 0)
            break;
        op->value = count;
        op->value2 = hw;
        return CONTEND_OK;
    default: rc = -ENOTSUP; break;
    }
    op->err = -rc;
    return CONTEND_FAIL;
}

struct state_sum {
    struct contend_lru_stats total;
    uint32_t caches, high_water;
    bool counts_complete;
};

static void report_one(struct contend_lru *c, uint32_t index, struct state_sum *sum,
                       const struct contend_sink *sink)
{
    struct contend_lru_stats st;
    char why[256];
    contend_lru_stats(c, &st);
    if (sum->caches++ == 0) {
        sink->value(sink->ctx, CONTEND_CACHE_CAPACITY, st.capacity);
        sink->value(sink->ctx, CONTEND_CACHE_TTL_NS, (int64_t)st.ttl_ns);
    }
    /* What is really resident: slots in use, whatever the count says. */
    uint32_t resident = st.used_slots > st.count ? st.used_slots : st.count;
    sink->value(sink->ctx, CONTEND_CACHE_RESIDENT + index, resident);
    if (st.high_water > sum->high_water)
        sum->high_water = st.high_water;
    sum->total.hits += st.hits;
    sum->total.misses += st.misses;
    sum->total.puts += st.puts;
    sum->total.evictions += st.evictions;
    sum->total.expirations += st.expirations;
    sum->total.repairs += st.repairs;
    if (contend_lru_check(c, why, sizeof why) != 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "cache %u is corrupt: %s", index, why);
        sink->violation(sink->ctx, "integrity", 1, msg);
    }
}

static int lru_read_state(const struct contend_env *env, const struct contend_sink *sink)
{
    struct contend_lru_config cfg;
    struct state_sum sum = {.counts_complete = true};
    char path[PATH_MAX];
    struct contend_lru *c;
    int rc = config_of(env, &cfg);
    if (rc)
        return rc;
    if (cfg.shared) {
        uint32_t count, hw;
        cache_path(env, path, sizeof path);
        if ((rc = contend_lru_open(path, true, &c)) != 0)
            return rc;
        /* Taking the lock repairs the cache if a worker died holding it,
         * as the next user of the cache would. */
        if ((rc = contend_lru_size(c, &count, &hw)) != 0) {
            contend_lru_close(c);
            return rc;
        }
        report_one(c, 0, &sum, sink);
        contend_lru_close(c);
    } else {
        for (uint32_t w = 0; w < env->procs; w++) {
            worker_path(env, w, "live", path, sizeof path);
            bool died = access(path, F_OK) == 0;
            worker_path(env, w, "restarted", path, sizeof path);
            died = died || access(path, F_OK) == 0;
            worker_path(env, w, "snap", path, sizeof path);
            if (died || contend_lru_open(path, false, &c) != 0) {
                /* A worker that died took its cache and its counts with it. */
                sum.counts_complete = false;
                continue;
            }
            report_one(c, w, &sum, sink);
            contend_lru_close(c);
        }
        if (sum.caches == 0)
            return -ENOENT;
    }
    if (sum.counts_complete) {
        sink->value(sink->ctx, CONTEND_CACHE_HITS, (int64_t)sum.total.hits);
        sink->value(sink->ctx, CONTEND_CACHE_MISSES, (int64_t)sum.total.misses);
    }
    sink->value(sink->ctx, CONTEND_CACHE_HIGH_WATER, sum.high_water);
    sink->stat(sink->ctx, "cache_puts", (double)sum.total.puts);
    sink->stat(sink->ctx, "cache_evictions", (double)sum.total.evictions);
    sink->stat(sink->ctx, "cache_expired", (double)sum.total.expirations);
    if (sum.total.repairs)
        sink->stat(sink->ctx, "cache_owner_dead_repairs", (double)sum.total.repairs);
    return 0;
}

const struct contend_target contend_target_lru_cache = {
    .abi_version = CONTEND_TARGET_ABI,
    .name = "lru-cache",
    .help = "a bounded LRU map with a TTL per entry, in memory or shared by processes",
    .flags = 0, /* opened once per worker: its threads share the cache */
    .variants = lru_variants,
    .workloads = lru_workloads,
    .options = lru_options,
    .setup = lru_setup,
    .open = lru_open,
    .apply = lru_apply,
    .close = lru_target_close,
    .read_state = lru_read_state,
};
CONTEND_TARGET_REGISTER(contend_target_lru_cache)
