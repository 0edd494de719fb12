/*
 * fatal.c - a target says the harness cannot go on with this case (fatal.h).
 */
#include "fatal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "history.h"
#include "util.h"

static __thread struct contend_history_header *bound;
static char kept[1024];
static bool have_kept;

void contend_fatal_bind(struct contend_history_header *hdr)
{
    bound = hdr;
}

static void keep(const char *msg)
{
    /* The first reason is the one that counts. */
    if (!have_kept) {
        snprintf(kept, sizeof kept, "%s", msg);
        have_kept = true;
    }
}

void contend_fatal_keep(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    keep(msg);
}

void contend_fatal(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!bound) {
        keep(msg);
        return;
    }
    snprintf(bound->error, sizeof bound->error, "%s", msg);
    __atomic_store_n(&bound->state, CONTEND_THREAD_ERROR, __ATOMIC_RELEASE);
    contend_err("%s", msg);
    /* The other threads' histories are MAP_SHARED: what they recorded is
     * kept; their ops in flight stay indeterminate. */
    _exit(CONTEND_EXIT_HARNESS);
}

bool contend_fatal_take(char *buf, size_t len)
{
    if (!have_kept)
        return false;
    snprintf(buf, len, "%s", kept);
    have_kept = false;
    kept[0] = '\0';
    return true;
}
