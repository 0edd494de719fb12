/*
 * sqlite_kit.h - shared by the sqlite unit tests: drive the target through
 * its ABI table (an env with options, apply) and collect what read_state()
 * reports (values, violations with their messages, misuse/corrupt stats).
 */
#ifndef CONTEND_TEST_SQLITE_KIT_H
#define CONTEND_TEST_SQLITE_KIT_H

#include "registry.h"

#define MAXKV 4096

struct collected {
    struct contend_kv kv[MAXKV];
    size_t n;
    int nviolations;
    char kinds[256];
    char message[2048];
    double misuse, corrupt;
};

static inline void on_value(void *ctx, uint64_t key, int64_t value)
{
    struct collected *c = ctx;
    if (c->n < MAXKV)
        c->kv[c->n++] = (struct contend_kv){.key = key, .value = value};
}

static inline void on_violation(void *ctx, const char *kind, uint64_t count, const char *msg)
{
    (void)count;
    struct collected *c = ctx;
    size_t len = strlen(c->kinds);
    snprintf(c->kinds + len, sizeof c->kinds - len, "%s%s", len ? "," : "", kind);
    len = strlen(c->message);
    snprintf(c->message + len, sizeof c->message - len, "%s\n", msg);
    c->nviolations++;
}

static inline void on_stat(void *ctx, const char *name, double v)
{
    struct collected *c = ctx;
    if (strcmp(name, "sqlite_misuse") == 0)
        c->misuse += v;
    if (strcmp(name, "sqlite_corrupt") == 0)
        c->corrupt += v;
}

static inline const struct contend_target *target(void)
{
    const struct contend_target *t = contend_find_target("sqlite");
    assert_non_null(t);
    return t;
}

/* An environment with up to four options. */
struct env {
    struct contend_env env;
    const char *names[4], *values[4];
};

static inline void env_init(struct env *e, const char *dir, const char *variant,
                            const char *workload, uint64_t keys)
{
    memset(e, 0, sizeof *e);
    e->env = (struct contend_env){
        .store_dir = dir,
        .variant = variant,
        .variant_index = contend_variant_index(target(), variant),
        .workload = workload,
        .procs = 1,
        .threads = 1,
        .keys = keys,
        .worker = 0,
        .thread = 0,
        .opt_names = e->names,
        .opt_values = e->values,
    };
    assert_true(e->env.variant_index >= 0);
}

static inline void env_opt(struct env *e, const char *name, const char *value)
{
    e->names[e->env.nopts] = name;
    e->values[e->env.nopts] = value;
    e->env.nopts++;
}

static inline int read_state(const struct contend_env *env, struct collected *c)
{
    static const struct contend_sink proto = {NULL, on_value, on_violation, on_stat};
    struct contend_sink sink = proto;
    memset(c, 0, sizeof *c);
    sink.ctx = c;
    return target()->read_state(env, &sink);
}

static inline int64_t value_of(const struct collected *c, uint64_t key)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->kv[i].key == key)
            return c->kv[i].value;
    return INT64_MIN;
}

static inline int64_t total(const struct collected *c)
{
    int64_t t = 0;
    for (size_t i = 0; i < c->n; i++)
        t += c->kv[i].value;
    return t;
}

static inline int apply(void *h, uint32_t kind, uint64_t key, uint64_t key2, int64_t arg,
                        struct contend_op *op)
{
    static uint64_t next_id = 1;
    *op = (struct contend_op){.kind = kind, .key = key, .key2 = key2, .arg = arg, .id = next_id++};
    return target()->apply(h, op);
}

/* setup() and open() of the store `e` describes, both required to work. */
static inline void *setup_open(struct env *e)
{
    void *h = NULL;
    assert_int_equal(target()->setup(&e->env), 0);
    assert_int_equal(target()->open(&e->env, &h), 0);
    return h;
}

/* Remove a test_tmpdir() and free its name. */
static inline void tmpdir_done(char *dir)
{
    contend_rm_rf(dir);
    free(dir);
}

#endif
