/*
 * lru_cache.h - the bounded LRU + TTL map behind the lru-cache target.
 *
 * Internal to contend (not installed): the target in lru_cache.c is a thin
 * layer over these functions, and the unit tests drive them directly, with
 * a clock they control.  See lru_cache.c for the layout and the variants.
 */
#ifndef CONTEND_LRU_CACHE_H
#define CONTEND_LRU_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum contend_lru_variant {
    CONTEND_LRU_MUTEX = 0,         /* correct: one lock, eager expiry on put */
    CONTEND_LRU_NOLOCK = 1,        /* the same without the lock */
    CONTEND_LRU_LAZY_EXPIRY = 2,   /* expired entries leave only when read */
    CONTEND_LRU_UNBOUNDED = 3,     /* never evicts */
    CONTEND_LRU_WALLCLOCK_TTL = 4, /* TTL on CLOCK_REALTIME */
    CONTEND_LRU_VARIANTS
};

struct contend_lru_config {
    int variant;         /* enum contend_lru_variant */
    uint32_t capacity;   /* entries the cache may hold */
    uint32_t pool;       /* slots to reserve (>= capacity; more for the leaky variants) */
    uint32_t value_size; /* bytes per value, a multiple of 8 */
    uint64_t ttl_ns;     /* time to live from the put */
    bool shared;         /* process-shared robust mutex (the region is a shared file) */
};

struct contend_lru_stats {
    uint32_t capacity, count, high_water, used_slots;
    uint64_t ttl_ns;
    uint64_t hits, misses, puts, evictions, expirations, repairs;
};

struct contend_lru;

/* A new cache: in the file `path` (created, MAP_SHARED), or in anonymous
 * memory of this process when path is NULL.  0 or a negative errno. */
int contend_lru_create(const char *path, const struct contend_lru_config *cfg,
                       struct contend_lru **out);
/* Map a cache file created by contend_lru_create() or written by
 * contend_lru_snapshot(); read-only ones only answer stats and checks. */
int contend_lru_open(const char *path, bool writable, struct contend_lru **out);
void contend_lru_close(struct contend_lru *c);

/* 1 hit (the value copied to out, *len set), 0 miss, or a negative errno. */
int contend_lru_get(struct contend_lru *c, uint64_t key, void *out, uint32_t cap, uint32_t *len);
/* 0, or a negative errno (-ENOSPC when no slot is left, -EMSGSIZE). */
int contend_lru_put(struct contend_lru *c, uint64_t key, const void *value, uint32_t len);
/* Resident entries now and the most ever. */
int contend_lru_size(struct contend_lru *c, uint32_t *count, uint32_t *high_water);
void contend_lru_stats(struct contend_lru *c, struct contend_lru_stats *st);
/* Keys from most to least recently used; returns how many were written. */
size_t contend_lru_keys(struct contend_lru *c, uint64_t *keys, size_t max);
/* Structural check: 0, or -EUCLEAN with the first problem in why. */
int contend_lru_check(struct contend_lru *c, char *why, size_t len);
/* Write the whole cache to `path` atomically (temp file + rename). */
int contend_lru_snapshot(struct contend_lru *c, const char *path);

/* Tests: the clock the TTL is measured on, instead of the variant's. */
void contend_lru_set_clock(struct contend_lru *c, uint64_t (*now)(void *ctx), void *ctx);
/* Tests: take the lock and keep it (a process that then dies leaves the
 * mutex to its next owner with EOWNERDEAD). */
int contend_lru_debug_lock(struct contend_lru *c);

#endif /* CONTEND_LRU_CACHE_H */
