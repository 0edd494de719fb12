/*
 * clock.c - the real monotonic clock under an interposed clock_gettime().
 */
#include "clock.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

typedef int (*gettime_fn)(clockid_t, struct timespec *);

static gettime_fn libc_gettime;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The raw system call is the fallback: slower (no vDSO), never faked. */
static int syscall_gettime(clockid_t id, struct timespec *ts)
{
    return (int)syscall(SYS_clock_gettime, id, ts);
}

static void resolve(void)
{
    /* dlsym() on libc's own handle searches libc only, not the preloaded
     * objects that come before it in the global scope. */
    void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    gettime_fn f = h ? (gettime_fn)dlsym(h, "clock_gettime") : NULL;
    libc_gettime = f ? f : syscall_gettime;
    if (h)
        dlclose(h);
}

uint64_t contend_real_now_ns(void)
{
    struct timespec ts;
    pthread_once(&once, resolve);
    libc_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * CONTEND_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

bool contend_clock_is_faked(void)
{
    uint64_t a = contend_real_now_ns();
    uint64_t f = contend_now_ns();
    uint64_t b = contend_real_now_ns();
    return f + CONTEND_NS_PER_SEC < a || f > b + CONTEND_NS_PER_SEC;
}
