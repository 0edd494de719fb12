/*
 * test_lru.c - the LRU + TTL map behind lru-cache, on a clock the test
 * controls: capacity, eviction order, expiry (eager, on read, lazily never),
 * the variants' differences, snapshots, and recovery from an owner that died
 * holding the lock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "helpers.h"
#include "lru_cache.h"

static char *dir;
static uint64_t fake_now;

static uint64_t test_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static int setup(void **state)
{
    (void)state;
    dir = test_tmpdir("lru");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    contend_rm_rf(dir);
    free(dir);
    return 0;
}

static struct contend_lru *make(int variant, uint32_t cap, uint32_t pool, uint64_t ttl)
{
    struct contend_lru_config cfg = {
        .variant = variant,
        .capacity = cap,
        .pool = pool,
        .value_size = 32,
        .ttl_ns = ttl,
    };
    struct contend_lru *c = NULL;
    assert_int_equal(contend_lru_create(NULL, &cfg, &c), 0);
    contend_lru_set_clock(c, test_clock, NULL);
    fake_now = 1000;
    return c;
}

static void put(struct contend_lru *c, uint64_t key, uint64_t tag)
{
    uint64_t v[4] = {key, tag, 0, 0};
    assert_int_equal(contend_lru_put(c, key, v, sizeof v), 0);
}

/* The tag of key's value, or -1 on a miss. */
static int64_t get(struct contend_lru *c, uint64_t key)
{
    uint64_t v[4] = {0};
    uint32_t len = 0;
    int rc = contend_lru_get(c, key, v, sizeof v, &len);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0)
        return -1;
    assert_int_equal(len, 32);
    assert_int_equal(v[0], key);
    return (int64_t)v[1];
}

static uint32_t count(struct contend_lru *c)
{
    uint32_t n, hw;
    assert_int_equal(contend_lru_size(c, &n, &hw), 0);
    return n;
}

static void assert_order(struct contend_lru *c, const uint64_t *want, size_t n)
{
    uint64_t keys[16];
    assert_int_equal(contend_lru_keys(c, keys, 16), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(keys[i], want[i]);
    char why[256];
    assert_int_equal(contend_lru_check(c, why, sizeof why), 0);
}

static void test_capacity_and_eviction_order(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_MUTEX, 3, 8, 1000000);
    put(c, 1, 10);
    put(c, 2, 20);
    put(c, 3, 30);
    assert_order(c, (uint64_t[]){3, 2, 1}, 3);
    assert_int_equal(get(c, 1), 10); /* 1 becomes the most recently used */
    assert_order(c, (uint64_t[]){1, 3, 2}, 3);
    put(c, 4, 40); /* full: 2, the least recently used, goes */
    assert_order(c, (uint64_t[]){4, 1, 3}, 3);
    assert_int_equal(get(c, 2), -1);
    put(c, 3, 31); /* an update moves it to the front and takes no room */
    assert_order(c, (uint64_t[]){3, 4, 1}, 3);
    assert_int_equal(get(c, 3), 31);
    assert_int_equal(count(c), 3);
    struct contend_lru_stats st;
    contend_lru_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.high_water, 3);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.puts, 5);
    contend_lru_close(c);
}

static void test_ttl(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_MUTEX, 4, 8, 100);
    put(c, 1, 10);
    fake_now += 99;
    assert_int_equal(get(c, 1), 10); /* one ns before expiry: still there */
    fake_now += 1;
    assert_int_equal(get(c, 1), -1); /* at expiry: gone, and removed */
    assert_int_equal(count(c), 0);

    /* A put renews the time to live; a get does not. */
    put(c, 2, 20);
    fake_now += 60;
    assert_int_equal(get(c, 2), 20);
    put(c, 2, 21);
    fake_now += 60;
    assert_int_equal(get(c, 2), 21);
    fake_now += 40;
    assert_int_equal(get(c, 2), -1);
    struct contend_lru_stats st;
    contend_lru_stats(c, &st);
    assert_int_equal(st.expirations, 2);
    contend_lru_close(c);
}

static void test_eager_expiry_on_put(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_MUTEX, 8, 16, 100);
    put(c, 1, 10);
    put(c, 2, 20);
    fake_now += 50;
    put(c, 3, 30);
    fake_now += 60; /* 1 and 2 expired, 3 has 40 ns left */
    put(c, 4, 40);
    assert_int_equal(count(c), 2); /* removed without being read */
    assert_order(c, (uint64_t[]){4, 3}, 2);
    contend_lru_close(c);
}

static void test_lazy_expiry_leaks(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_LAZY_EXPIRY, 2, 16, 100);
    put(c, 1, 10);
    put(c, 2, 20);
    fake_now += 150; /* both expired, nobody reads them */
    for (uint64_t k = 3; k <= 6; k++)
        put(c, k, k * 10);
    /* The size check counted only 3..6, two at a time: 1 and 2 stay. */
    assert_int_equal(count(c), 4);
    struct contend_lru_stats st;
    contend_lru_stats(c, &st);
    assert_true(st.high_water > 2);
    assert_int_equal(get(c, 1), -1); /* read: now it goes */
    assert_int_equal(count(c), 3);
    assert_int_equal(get(c, 6), 60);
    contend_lru_close(c);

    /* The same puts on the correct variant never exceed the capacity. */
    c = make(CONTEND_LRU_MUTEX, 2, 16, 100);
    put(c, 1, 10);
    put(c, 2, 20);
    fake_now += 150;
    for (uint64_t k = 3; k <= 6; k++)
        put(c, k, k * 10);
    assert_int_equal(count(c), 2);
    contend_lru_stats(c, &st);
    assert_int_equal(st.high_water, 2);
    contend_lru_close(c);
}

static void test_unbounded_and_pool(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_UNBOUNDED, 2, 4, 1000);
    for (uint64_t k = 0; k < 4; k++)
        put(c, k, k);
    assert_int_equal(count(c), 4);
    uint64_t v[4] = {9, 9, 0, 0};
    assert_int_equal(contend_lru_put(c, 9, v, sizeof v), -ENOSPC); /* no slot left */
    uint64_t big[8] = {0};
    assert_int_equal(contend_lru_put(c, 1, big, sizeof big), -EMSGSIZE);
    fake_now += 2000;
    assert_int_equal(get(c, 0), -1); /* it still never serves an expired entry */
    contend_lru_close(c);
}

static void test_nolock_single_thread_is_correct(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_NOLOCK, 2, 8, 100);
    put(c, 1, 10);
    put(c, 2, 20);
    put(c, 3, 30);
    assert_int_equal(get(c, 1), -1);
    assert_int_equal(get(c, 3), 30);
    assert_int_equal(count(c), 2);
    contend_lru_close(c);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct contend_lru *c;
    struct contend_lru_config cfg = {.capacity = 4, .pool = 2, .value_size = 32, .ttl_ns = 1};
    assert_int_equal(contend_lru_create(NULL, &cfg, &c), -EINVAL); /* pool < capacity */
    cfg.pool = 8;
    cfg.value_size = 12;
    assert_int_equal(contend_lru_create(NULL, &cfg, &c), -EINVAL);
    cfg.value_size = 32;
    cfg.variant = CONTEND_LRU_VARIANTS;
    assert_int_equal(contend_lru_create(NULL, &cfg, &c), -EINVAL);
}

static void test_snapshot_and_open(void **state)
{
    (void)state;
    struct contend_lru *c = make(CONTEND_LRU_MUTEX, 4, 8, 1000);
    put(c, 5, 50);
    put(c, 6, 60);
    assert_int_equal(get(c, 5), 50);
    char *path = contend_asprintf("%s/snap", dir);
    assert_int_equal(contend_lru_snapshot(c, path), 0);
    contend_lru_close(c);

    struct contend_lru *r;
    assert_int_equal(contend_lru_open(path, false, &r), 0);
    struct contend_lru_stats st;
    contend_lru_stats(r, &st);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.used_slots, 2);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.capacity, 4);
    assert_int_equal(st.ttl_ns, 1000);
    assert_order(r, (uint64_t[]){5, 6}, 2);
    contend_lru_close(r);

    /* Not a cache: refused. */
    char *junk = test_write(dir, "junk",
                            "not a cache, just text that is long enough to have a "
                            "header's worth of bytes in it, and then some more of "
                            "them so that only the magic number can reject it; "
                            "padding padding padding padding padding padding",
                            200);
    assert_int_equal(contend_lru_open(junk, false, &r), -EBADMSG);
    free(junk);
    free(path);
}

/* A worker dies holding the shared cache's lock: the next user repairs it. */
static void test_owner_dead(void **state)
{
    (void)state;
    char *path = contend_asprintf("%s/shared.bin", dir);
    struct contend_lru_config cfg = {
        .variant = CONTEND_LRU_MUTEX,
        .capacity = 4,
        .pool = 8,
        .value_size = 32,
        .ttl_ns = 1000000000000ull,
        .shared = true,
    };
    struct contend_lru *c;
    assert_int_equal(contend_lru_create(path, &cfg, &c), 0);
    put(c, 1, 10);
    put(c, 2, 20);
    assert_int_equal(get(c, 1), 10); /* 1 is the most recently used */

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct contend_lru *x;
        if (contend_lru_open(path, true, &x) != 0 || contend_lru_debug_lock(x) != 0)
            _exit(1);
        _exit(0); /* with the lock held */
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    put(c, 3, 30); /* EOWNERDEAD inside: repaired, then the put */
    assert_order(c, (uint64_t[]){3, 1, 2}, 3);
    assert_int_equal(get(c, 2), 20);
    struct contend_lru_stats s;
    contend_lru_stats(c, &s);
    assert_int_equal(s.repairs, 1);
    assert_int_equal(s.count, 3);
    contend_lru_close(c);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_and_eviction_order),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_eager_expiry_on_put),
        cmocka_unit_test(test_lazy_expiry_leaks),
        cmocka_unit_test(test_unbounded_and_pool),
        cmocka_unit_test(test_nolock_single_thread_is_correct),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_snapshot_and_open),
        cmocka_unit_test(test_owner_dead),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
