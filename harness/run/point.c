/*
 * point.c - perturbation points.
 *
 * A target calls contend_point("name") between a read and the write that
 * depends on it.  With `perturb` at 0 this is one load and a branch.  With it
 * on, the calling thread sleeps for a random time in [0, perturb] µs drawn
 * from a stream the worker reseeds from (seed, writer, op) before every
 * operation, so that the same op sleeps the same time on every run: races
 * that need a rare interleaving show up in milliseconds, and a seed replays.
 */
#include "point.h"

#include <errno.h>
#include <time.h>

#include "schedule.h"
#include "util.h"
#include "target.h"

static uint64_t point_max_us;
static __thread struct contend_rng point_rng;
static __thread void (*point_hook)(void *arg, const char *name);
static __thread void *point_hook_arg;

void contend_point_setup(uint64_t max_us)
{
    point_max_us = max_us;
}

void contend_point_seed(uint64_t seed, uint32_t writer, uint64_t idx)
{
    if (point_max_us)
        contend_rng_init(&point_rng, seed ^ 0x70657274757262ull, writer, idx);
}

void contend_point_hook(void (*fn)(void *arg, const char *name), void *arg)
{
    point_hook = fn;
    point_hook_arg = arg;
}

void contend_point(const char *name)
{
    if (point_hook)
        point_hook(point_hook_arg, name);
    /* Under a controlled schedule the point is where another thread may run. */
    contend_sched_yield(SCHED_POINT, name);
    if (!point_max_us)
        return;
    uint64_t us = contend_rng_below(&point_rng, point_max_us + 1);
    if (us == 0)
        return;
    struct timespec ts = {
        .tv_sec = (time_t)(us / 1000000),
        .tv_nsec = (long)(us % 1000000) * 1000,
    };
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
        /* A signal: sleep the rest. */
    }
}
