/*
 * scenario.c - loading scenario files and resolving cases.
 *
 * inih does the INI syntax.  It does not tell a handler on which line a key
 * stood, so the file is fed to it through a reader that counts lines: inih
 * calls the handler right after reading the line that holds the key, so the
 * reader's count is that line.  The reader also notes [section] headers with
 * their lines, which gives empty sections and the line a case starts on.
 */
#include "scenario.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extension.h"
#include "registry.h"
#include "suggest.h"
#include "util.h"

const struct contend_key contend_core_keys[] = {
    {"workload", "name", NULL, "what the workers do (contend list shows them)"},
    {"target", "name", NULL, "the storage implementation; `T` or `T:VARIANT`"},
    {"variant", "name", NULL, "variant of the target (default: its first, correct one)"},
    {"target_path", "path", NULL, "a plug-in .so exporting `contend_target_plugin`"},
    {"procs", "count", "1", "worker processes"},
    {"threads", "count", "1", "threads per worker process"},
    {"ops", "count", "1000", "operations per worker thread"},
    {"duration", "duration", NULL, "run for this long instead of `ops` (500ms, 10s, 2m)"},
    {"keys", "count", "1", "number of keys the operations spread over"},
    {"seed", "count", "1", "root seed: same seed, same operations"},
    {"perturb", "count", "0", "max microseconds slept at a perturbation point; 0 = off"},
    {"expect", "kinds", NULL,
     "violation kind(s) the case must find, comma-separated; a|b = either"},
    {"timeout", "duration", "30s", "a worker without progress for this long is a hang"},
    {"repeat", "count", "1", "run the case N times, seeds seed .. seed+N-1"},
    {"history_cap", "count", "16M", "history records per thread when `duration` is set"},
    {"thinktime", "duration", "0", "pause between a thread's ops, on the worker's clock"},
    {"min_tps", "number", NULL, "gate: fail (exit 3) below this throughput"},
    {"max_p99_us", "number", NULL, "gate: fail (exit 3) above this p99 latency"},
    {"max_growth", "number", NULL,
     "gate: fail (exit 3) when per-op cost grows faster than size^this (superlinear-growth)"},
    {"description", "text", NULL, "one line for reports"},
    {NULL, NULL, NULL, NULL},
};

/* ---- settings lists --------------------------------------------------- */

void contend_settings_add(struct contend_settings *s, const char *key, const char *value,
                          const char *origin, int line)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = contend_realloc(s->v, s->cap * sizeof s->v[0]);
    }
    s->v[s->n++] = (struct contend_setting){
        .key = contend_strdup(key),
        .value = contend_strdup(value),
        .origin = contend_strdup(origin),
        .line = line,
    };
}

void contend_settings_free(struct contend_settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].value);
        free(s->v[i].origin);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- errors ------------------------------------------------------------ */

static void where_err(const char *origin, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void where_err(const char *origin, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = contend_vasprintf(fmt, ap);
    va_end(ap);
    if (line > 0)
        fprintf(stderr, "%s:%d: %s\n", origin, line, msg);
    else
        fprintf(stderr, "%s: %s\n", origin, msg);
    free(msg);
}

static void setting_err(const struct contend_setting *s, const char *why)
{
    if (s->line == 0)
        where_err(s->origin, 0, "%s=%s: %s", s->key, s->value, why);
    else
        where_err(s->origin, s->line, "%s = %s: %s", s->key, s->value, why);
}

/* ---- value parsing ----------------------------------------------------- */

static int set_count(const struct contend_setting *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc = contend_parse_u64(s->value, &v);
    if (rc == 0 && (v < min || v > max))
        rc = -ERANGE;
    if (rc) {
        char *why =
            (max == UINT64_MAX)
                ? contend_asprintf("expected a whole number >= %llu", (unsigned long long)min)
                : contend_asprintf("expected a whole number from %llu to %llu",
                                   (unsigned long long)min, (unsigned long long)max);
        setting_err(s, why);
        free(why);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int set_duration(const struct contend_setting *s, uint64_t *out)
{
    if (contend_parse_duration_ns(s->value, out) != 0 || *out == 0) {
        setting_err(s, "expected a positive duration such as 500ms, 10s or 2m");
        return -EINVAL;
    }
    return 0;
}

static int set_number(const struct contend_setting *s, double *out)
{
    if (contend_parse_double(s->value, out) != 0 || *out < 0) {
        setting_err(s, "expected a non-negative number");
        return -EINVAL;
    }
    return 0;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = contend_strdup(value);
}

/* ---- case resolution --------------------------------------------------- */

static bool is_core_key(const char *key)
{
    for (const struct contend_key *k = contend_core_keys; k->name; k++)
        if (strcmp(k->name, key) == 0)
            return true;
    return false;
}

static const struct contend_option *find_option(const struct contend_option *o, const char *key)
{
    for (; o && o->name; o++)
        if (strcmp(o->name, key) == 0)
            return o;
    return NULL;
}

/* A decimal whole number with an optional sign, nothing else: targets read
 * theirs with strtoll and workloads with contend_parse_i64, and the two agree
 * on exactly these. */
static bool parse_plain_int(const char *v, double *out)
{
    const char *p = v + (*v == '-' || *v == '+');
    if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 18)
        return false;
    *out = strtod(v, NULL);
    return true;
}

static char *fmt_bound(unsigned type, double v)
{
    if (type == CONTEND_OPT_DURATION) {
        if (v >= 1e9 && fmod(v, 1e9) == 0)
            return contend_asprintf("%.0fs", v / 1e9);
        if (v >= 1e6 && fmod(v, 1e6) == 0)
            return contend_asprintf("%.0fms", v / 1e6);
        return contend_asprintf("%.0fns", v);
    }
    return contend_asprintf(type == CONTEND_OPT_INT ? "%.0f" : "%g", v);
}

char *contend_option_check(const struct contend_option *o, const char *value)
{
    static const char *const what[] = {[CONTEND_OPT_INT] = "a whole number",
                                       [CONTEND_OPT_NUMBER] = "a number",
                                       [CONTEND_OPT_DURATION] =
                                           "a duration such as 500ms, 10s or 2m"};
    double v = 0;
    uint64_t ns;
    bool ok;
    if (!*value && (!o->def || !*o->def))
        return NULL; /* empty is the option's own "not set" */
    switch (o->type) {
    case CONTEND_OPT_INT: ok = parse_plain_int(value, &v); break;
    case CONTEND_OPT_NUMBER: ok = contend_parse_double(value, &v) == 0 && isfinite(v); break;
    case CONTEND_OPT_DURATION:
        ok = contend_parse_duration_ns(value, &ns) == 0;
        v = (double)ns;
        break;
    default: return NULL;
    }
    bool in_range = ok && v >= o->min && v <= o->max;
    if (in_range && o->type == CONTEND_OPT_INT && o->multiple_of &&
        fmod(v, (double)o->multiple_of) == 0)
        return NULL;
    if (in_range && !(o->type == CONTEND_OPT_INT && o->multiple_of))
        return NULL;
    char *lo = fmt_bound(o->type, o->min), *hi = fmt_bound(o->type, o->max);
    char *why = o->multiple_of
                    ? contend_asprintf("expected %s from %s to %s, a multiple of %u", what[o->type],
                                       lo, hi, o->multiple_of)
                    : contend_asprintf("expected %s from %s to %s", what[o->type], lo, hi);
    free(lo);
    free(hi);
    return why;
}

static bool choice_ok(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static int apply_core(struct contend_case *c, const struct contend_setting *s, bool *duration_last)
{
    const char *k = s->key;
    uint64_t v;
    int rc = 0;

    if (strcmp(k, "workload") == 0) {
        set_string(&c->workload, s->value);
    } else if (strcmp(k, "target") == 0) {
        /* target = T:VARIANT sets both. */
        char *colon = strchr(s->value, ':');
        if (colon) {
            free(c->target);
            c->target = strndup(s->value, (size_t)(colon - s->value));
            set_string(&c->variant, colon + 1);
        } else {
            set_string(&c->target, s->value);
        }
    } else if (strcmp(k, "variant") == 0) {
        set_string(&c->variant, s->value);
    } else if (strcmp(k, "target_path") == 0) {
        set_string(&c->target_path, s->value);
    } else if (strcmp(k, "procs") == 0) {
        if ((rc = set_count(s, 1, 4096, &v)) == 0)
            c->procs = (uint32_t)v;
    } else if (strcmp(k, "threads") == 0) {
        if ((rc = set_count(s, 1, 1024, &v)) == 0)
            c->threads = (uint32_t)v;
    } else if (strcmp(k, "ops") == 0) {
        if ((rc = set_count(s, 1, UINT32_MAX, &c->ops)) == 0)
            *duration_last = false;
    } else if (strcmp(k, "duration") == 0) {
        if ((rc = set_duration(s, &c->duration_ns)) == 0)
            *duration_last = true;
    } else if (strcmp(k, "keys") == 0) {
        rc = set_count(s, 1, UINT32_MAX, &c->keys);
    } else if (strcmp(k, "seed") == 0) {
        rc = set_count(s, 0, UINT64_MAX, &c->seed);
    } else if (strcmp(k, "perturb") == 0) {
        rc = set_count(s, 0, 10000000, &c->perturb_us);
    } else if (strcmp(k, "expect") == 0) {
        set_string(&c->expect, s->value);
    } else if (strcmp(k, "timeout") == 0) {
        rc = set_duration(s, &c->timeout_ns);
    } else if (strcmp(k, "repeat") == 0) {
        if ((rc = set_count(s, 1, 100000, &v)) == 0)
            c->repeat = (uint32_t)v;
    } else if (strcmp(k, "history_cap") == 0) {
        rc = set_count(s, 16, 1ull << 32, &c->history_cap);
    } else if (strcmp(k, "thinktime") == 0) {
        /* 0 is allowed here: it is the default, no pause. */
        if (strcmp(s->value, "0") != 0)
            rc = set_duration(s, &c->thinktime_ns);
        else
            c->thinktime_ns = 0;
    } else if (strcmp(k, "min_tps") == 0) {
        rc = set_number(s, &c->min_tps);
    } else if (strcmp(k, "max_p99_us") == 0) {
        rc = set_number(s, &c->max_p99_us);
    } else if (strcmp(k, "max_growth") == 0) {
        rc = set_number(s, &c->max_growth);
    } else if (strcmp(k, "description") == 0) {
        set_string(&c->description, s->value);
    }
    return rc;
}

static const struct contend_setting *last_setting(const struct contend_settings *ss,
                                                  const char *key)
{
    for (size_t i = ss->n; i-- > 0;)
        if (strcmp(ss->v[i].key, key) == 0)
            return &ss->v[i];
    return NULL;
}

/* The names as "a, b, c", each also offered to `sg`. */
static char *names_of_targets(struct contend_suggest *sg)
{
    const struct contend_target *const *t;
    size_t n = contend_all_targets(&t);
    char *s = contend_strdup("");
    for (size_t i = 0; i < n; i++) {
        contend_suggest_add(sg, t[i]->name);
        char *next = contend_asprintf("%s%s%s", s, i ? ", " : "", t[i]->name);
        free(s);
        s = next;
    }
    return s;
}

static char *names_of_workloads(struct contend_suggest *sg)
{
    const struct contend_workload *const *w;
    size_t n = contend_all_workloads(&w);
    char *s = contend_strdup("");
    for (size_t i = 0; i < n; i++) {
        contend_suggest_add(sg, w[i]->name);
        char *next = contend_asprintf("%s%s%s", s, i ? ", " : "", w[i]->name);
        free(s);
        s = next;
    }
    return s;
}

static char *names_of_variants(const struct contend_target *t, struct contend_suggest *sg)
{
    char *s = contend_strdup("");
    for (int i = 0; t->variants[i].name; i++) {
        contend_suggest_add(sg, t->variants[i].name);
        char *next = contend_asprintf("%s%s%s", s, i ? ", " : "", t->variants[i].name);
        free(s);
        s = next;
    }
    return s;
}

/* Find the workload and the target (built in or plug-in) and the variant. */
static int resolve_plugins(struct contend_case *c, const char *origin, int line,
                           const struct contend_settings *ss)
{
    const struct contend_setting *s;
    struct contend_suggest sg;
    char *names, hint[128];

    if (!c->workload) {
        where_err(origin, line, "case '%s': no workload set", c->name);
        return -EINVAL;
    }
    if (!c->target && !c->target_path) {
        where_err(origin, line, "case '%s': no target set", c->name);
        return -EINVAL;
    }
    c->wl = contend_find_workload(c->workload);
    if (!c->wl) {
        contend_suggest_init(&sg, c->workload);
        names = names_of_workloads(&sg);
        char *why = contend_asprintf("unknown workload%s (known: %s)",
                                     contend_suggest_hint(&sg, hint, sizeof hint), names);
        setting_err(last_setting(ss, "workload"), why);
        free(why);
        free(names);
        return -EINVAL;
    }
    if (c->target_path) {
        char *why = NULL;
        if (contend_load_plugin(c->target_path, &c->tg, &why) != 0) {
            setting_err(last_setting(ss, "target_path"), why);
            free(why);
            return -EINVAL;
        }
        if (!c->target)
            c->target = contend_strdup(c->tg->name);
    } else {
        c->tg = contend_find_target(c->target);
        if (!c->tg) {
            contend_suggest_init(&sg, c->target);
            names = names_of_targets(&sg);
            char *why = contend_asprintf("unknown target%s (known: %s)",
                                         contend_suggest_hint(&sg, hint, sizeof hint), names);
            setting_err(last_setting(ss, "target"), why);
            free(why);
            free(names);
            return -EINVAL;
        }
    }
    if (!c->variant)
        c->variant = contend_strdup(c->tg->variants[0].name);
    c->variant_index = contend_variant_index(c->tg, c->variant);
    if (c->variant_index < 0) {
        contend_suggest_init(&sg, c->variant);
        names = names_of_variants(c->tg, &sg);
        char *why =
            contend_asprintf("target %s has no variant '%s'%s (known: %s)", c->tg->name, c->variant,
                             contend_suggest_hint(&sg, hint, sizeof hint), names);
        s = last_setting(ss, "variant");
        const struct contend_setting *t = last_setting(ss, "target");
        if (!s || (t && t > s))
            s = t;
        setting_err(s, why);
        free(why);
        free(names);
        return -EINVAL;
    }
    if (!contend_target_supports(c->tg, c->wl->name)) {
        char *why =
            contend_asprintf("target %s does not support workload %s", c->tg->name, c->wl->name);
        setting_err(last_setting(ss, "workload"), why);
        free(why);
        return -EINVAL;
    }
    return 0;
}

/* " (did you mean 'K'?)" for a key no one owns: the closest core key,
 * option of the case's workload or target, or extension key. */
static const char *key_hint(const struct contend_case *c, const char *key, char *buf, size_t len)
{
    struct contend_suggest sg;
    const struct contend_extension *const *x;
    size_t nx = contend_all_extensions(&x);
    contend_suggest_init(&sg, key);
    for (const struct contend_key *k = contend_core_keys; k->name; k++)
        contend_suggest_add(&sg, k->name);
    for (const struct contend_option *o = c->tg->options; o && o->name; o++)
        contend_suggest_add(&sg, o->name);
    for (const struct contend_option *o = c->wl->options; o && o->name; o++)
        contend_suggest_add(&sg, o->name);
    for (size_t i = 0; i < nx; i++)
        for (const struct contend_option *o = x[i]->keys; o && o->name; o++)
            contend_suggest_add(&sg, o->name);
    return contend_suggest_hint(&sg, buf, len);
}

/* Resolve one option table against the settings: defaults, then later wins. */
static void resolve_options(const struct contend_option *opts, const struct contend_settings *ss,
                            const char ***names, const char ***values, size_t *n)
{
    size_t count = 0;
    for (const struct contend_option *o = opts; o && o->name; o++)
        count++;
    *names = contend_calloc(count, sizeof **names);
    *values = contend_calloc(count, sizeof **values);
    *n = count;
    for (size_t i = 0; i < count; i++) {
        const struct contend_setting *s = last_setting(ss, opts[i].name);
        (*names)[i] = opts[i].name;
        (*values)[i] = s ? s->value : (opts[i].def ? opts[i].def : "");
    }
}

static int check_expect(const struct contend_case *c, const struct contend_settings *ss)
{
    if (!c->expect)
        return 0;
    char *copy = contend_strdup(c->expect);
    int rc = 0;
    /* "a, b" needs both; "a|b" either. */
    for (char *save = NULL, *tok = strtok_r(copy, ", |", &save); tok;
         tok = strtok_r(NULL, ", |", &save)) {
        if (!contend_kind_known(tok)) {
            char *why =
                contend_asprintf("unknown violation kind '%s' (contend list shows them)", tok);
            setting_err(last_setting(ss, "expect"), why);
            free(why);
            rc = -EINVAL;
            break;
        }
    }
    free(copy);
    if (rc == 0 && strspn(c->expect, ", |") == strlen(c->expect)) {
        setting_err(last_setting(ss, "expect"), "expected a violation kind");
        rc = -EINVAL;
    }
    return rc;
}

/* Names and values end up in run.json (which must be UTF-8, or the case
 * could not be written and would vanish from it), in reports and on the
 * terminal: they must be UTF-8 without control characters.  A scenario file
 * was checked line by line already; this covers --set, --case and plug-ins. */
static bool text_ok(const char *s)
{
    size_t n = strlen(s);
    if (contend_utf8_valid_len(s, n) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (contend_is_control(s + i, n - i))
            return false;
    return true;
}

static int check_texts(const char *name, const char *origin, int line,
                       const struct contend_settings *ss)
{
    if (!text_ok(name)) {
        where_err(origin, line, "case name is not valid UTF-8 or holds a control character");
        return -EINVAL;
    }
    for (size_t i = 0; i < ss->n; i++) {
        const struct contend_setting *s = &ss->v[i];
        if (!text_ok(s->key) || !text_ok(s->value)) {
            where_err(s->origin, s->line,
                      "key or value is not valid UTF-8 or holds a control character");
            return -EINVAL;
        }
    }
    return 0;
}

int contend_case_resolve(struct contend_case *c, const char *name, const char *origin, int line,
                         const struct contend_settings *ss)
{
    bool duration_last = false;
    int rc = 0;

    memset(c, 0, sizeof *c);
    c->name = contend_strdup(name);
    c->origin = contend_strdup(origin);
    c->line = line;
    c->procs = 1;
    c->threads = 1;
    c->ops = 1000;
    c->keys = 1;
    c->seed = 1;
    c->timeout_ns = 30 * CONTEND_NS_PER_SEC;
    c->repeat = 1;
    c->history_cap = 16000000;
    c->min_tps = NAN;
    c->max_p99_us = NAN;
    c->max_growth = NAN;

    if ((rc = check_texts(name, origin, line, ss)) != 0)
        return rc;
    for (size_t i = 0; i < ss->n; i++) {
        contend_settings_add(&c->settings, ss->v[i].key, ss->v[i].value, ss->v[i].origin,
                             ss->v[i].line);
        if (is_core_key(ss->v[i].key) && apply_core(c, &ss->v[i], &duration_last) != 0)
            return -EINVAL;
    }
    if (duration_last)
        c->ops = 0;
    else
        c->duration_ns = 0;

    if ((rc = resolve_plugins(c, origin, line, ss)) != 0)
        return rc;

    /* Every other key must be an option of the workload or of the target. */
    for (size_t i = 0; i < ss->n; i++) {
        const struct contend_setting *s = &ss->v[i];
        if (is_core_key(s->key))
            continue;
        const struct contend_option *o = find_option(c->tg->options, s->key);
        const struct contend_extension *x = NULL;
        if (!o)
            o = find_option(c->wl->options, s->key);
        if (!o)
            x = contend_find_extension_key(s->key, &o);
        if (!o) {
            char hint[128];
            char *why =
                contend_asprintf("unknown key%s (not a core key, nor an option of "
                                 "workload %s or target %s)",
                                 key_hint(c, s->key, hint, sizeof hint), c->wl->name, c->tg->name);
            setting_err(s, why);
            free(why);
            return -EINVAL;
        }
        if (o->choices && !choice_ok(o->choices, s->value)) {
            char *why = contend_asprintf("expected one of %s", o->choices);
            setting_err(s, why);
            free(why);
            return -EINVAL;
        }
        char *bad = contend_option_check(o, s->value);
        if (bad) {
            setting_err(s, bad);
            free(bad);
            return -EINVAL;
        }
        char *why = NULL;
        if (x && x->validate && x->validate(s->key, s->value, &why) != 0) {
            setting_err(s, why ? why : "invalid value");
            free(why);
            return -EINVAL;
        }
    }
    if ((rc = check_expect(c, ss)) != 0)
        return rc;
    /* Values point into the case's own copy of the settings, which lives as long
     * as the case. */
    resolve_options(c->tg->options, &c->settings, &c->topt_names, &c->topt_values, &c->ntopts);
    resolve_options(c->wl->options, &c->settings, &c->wopt_names, &c->wopt_values, &c->nwopts);
    return 0;
}

void contend_case_free(struct contend_case *c)
{
    free(c->name);
    free(c->origin);
    free(c->workload);
    free(c->target);
    free(c->variant);
    free(c->target_path);
    free(c->expect);
    free(c->description);
    free(c->topt_names);
    free(c->topt_values);
    free(c->wopt_names);
    free(c->wopt_values);
    contend_settings_free(&c->settings);
    memset(c, 0, sizeof *c);
}

void contend_scenario_free(struct contend_scenario *s)
{
    for (size_t i = 0; i < s->ncases; i++)
        contend_case_free(&s->cases[i]);
    free(s->cases);
    free(s->path);
    free(s->name);
    memset(s, 0, sizeof *s);
}

const char *contend_case_opt(const struct contend_case *c, const char *key)
{
    for (size_t i = c->settings.n; i-- > 0;)
        if (strcmp(c->settings.v[i].key, key) == 0)
            return c->settings.v[i].value;
    const struct contend_option *o = NULL;
    if (contend_find_extension_key(key, &o) && o->def)
        return o->def;
    return NULL;
}

bool contend_case_expects(const struct contend_case *c, const char *kind)
{
    if (!c->expect)
        return false;
    size_t n = strlen(kind);
    for (const char *p = c->expect; *p;) {
        p += strspn(p, ", |");
        size_t len = strcspn(p, ", |");
        if (len == n && strncmp(p, kind, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* ---- file parsing ------------------------------------------------------ */

struct section {
    char *name;
    int line;
};

struct parse {
    const char *path;
    const char *buf; /* the file, NUL-terminated */
    size_t pos, len;
    int line; /* line of the text most recently handed to inih */
    int err;
    struct section *sec;
    size_t nsec;
    /* Raw key/value pairs with their section. */
    struct contend_settings kv;
    char **kv_section;
};

static bool is_global(const char *section)
{
    return section[0] == '\0' || strcmp(section, "global") == 0;
}

static void note_section(struct parse *p, const char *text)
{
    const char *s = text + strspn(text, " \t");
    if (*s != '[')
        return;
    const char *end = strchr(s, ']');
    if (!end)
        return; /* inih reports it as an error */
    p->sec = contend_realloc(p->sec, (p->nsec + 1) * sizeof p->sec[0]);
    p->sec[p->nsec].name = strndup(s + 1, (size_t)(end - s - 1));
    p->sec[p->nsec].line = p->line;
    p->nsec++;
}

/* An fgets() over the in-memory file that counts lines. */
static char *reader(char *str, int num, void *stream)
{
    struct parse *p = stream;
    if (p->pos >= p->len || num <= 1)
        return NULL;
    size_t i = 0;
    while (i < (size_t)num - 1 && p->pos < p->len) {
        char ch = p->buf[p->pos++];
        str[i++] = ch;
        if (ch == '\n')
            break;
    }
    str[i] = '\0';
    p->line++;
    note_section(p, str);
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    if (!name || !value)
        return 1;
    contend_settings_add(&p->kv, name, value, p->path, p->line);
    p->kv_section = contend_realloc(p->kv_section, p->kv.n * sizeof p->kv_section[0]);
    p->kv_section[p->kv.n - 1] = contend_strdup(section);
    return 1;
}

static void parse_free(struct parse *p)
{
    for (size_t i = 0; i < p->nsec; i++)
        free(p->sec[i].name);
    free(p->sec);
    for (size_t i = 0; i < p->kv.n; i++)
        free(p->kv_section[i]);
    free(p->kv_section);
    contend_settings_free(&p->kv);
}

/* inih's limits (ini.c, not in its header): a line longer than
 * INI_MAX_LINE - 1 bytes is split and its tail parsed as a line of its own,
 * a section name longer than MAX_SECTION - 1 is cut, and the cut name then
 * takes another section's keys, or none.  Both must be errors here, before
 * inih sees the file. */
#define SCENARIO_MAX_LINE (INI_MAX_LINE - 1)
#define SCENARIO_MAX_SECTION 49

/* A section header's name, as inih reads it: from '[' to the first ']'. */
static bool section_name(const char *line, size_t len, const char **name, size_t *nlen)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i + 3 <= len && memcmp(line + i, "\xef\xbb\xbf", 3) == 0)
        i += 3; /* a byte-order mark on the first line */
    if (i >= len || line[i] != '[')
        return false;
    const char *end = memchr(line + i, ']', len - i);
    if (!end)
        return false;
    *name = line + i + 1;
    *nlen = (size_t)(end - *name);
    return true;
}

static int check_line(const char *path, int line, const char *text, size_t len)
{
    size_t ok = contend_utf8_valid_len(text, len);
    if (ok < len) {
        where_err(path, line, "not valid UTF-8 (byte %zu of the line); scenario files are UTF-8",
                  ok + 1);
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        size_t k = contend_is_control(text + i, len - i);
        if (k && text[i] != '\t' && !(text[i] == '\r' && i + 1 == len)) {
            where_err(path, line, "control character U+%04X (byte %zu of the line)",
                      k == 1 ? (unsigned)(unsigned char)text[i]
                             : (unsigned)(unsigned char)text[i + 1],
                      i + 1);
            return -EINVAL;
        }
    }
    if (len > SCENARIO_MAX_LINE) {
        where_err(path, line, "line is %zu bytes long; the limit is %d", len, SCENARIO_MAX_LINE);
        return -EINVAL;
    }
    const char *name;
    size_t nlen;
    if (section_name(text, len, &name, &nlen) && nlen > SCENARIO_MAX_SECTION) {
        where_err(path, line, "section name is %zu bytes long; the limit is %d", nlen,
                  SCENARIO_MAX_SECTION);
        return -EINVAL;
    }
    return 0;
}

/* The file must be text (a NUL byte means someone passed a binary), UTF-8,
 * free of control characters (names reach terminals and reports), and within
 * inih's limits. */
static int check_text(const char *path, const char *buf, size_t len)
{
    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *q = buf; q < nul; q++)
            line += (*q == '\n');
        where_err(path, line, "not a scenario file: binary data (a NUL byte)");
        return -EINVAL;
    }
    int line = 1;
    for (size_t pos = 0; pos < len; line++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        int rc = check_line(path, line, buf + pos, n);
        if (rc)
            return rc;
        pos += n + 1;
    }
    return 0;
}

static int parse_file(const char *path, struct parse *p)
{
    char *buf = NULL;
    size_t len = 0;
    memset(p, 0, sizeof *p);
    int rc = contend_read_file(path, &buf, &len);
    if (rc) {
        where_err(path, 0, "cannot read scenario: %s", strerror(-rc));
        return rc;
    }
    p->path = path;
    p->buf = buf;
    p->len = len;
    if ((rc = check_text(path, buf, len)) != 0)
        goto out;

    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    int bad = ini_parse_stream(reader, p, handler, p);
    if (bad > 0) {
        where_err(path, bad, "expected `key = value` or `[section]`");
        rc = -EINVAL;
    } else if (bad < 0) {
        where_err(path, 0, "cannot parse scenario");
        rc = -EINVAL;
    }
out:
    free(buf);
    p->buf = NULL;
    return rc;
}

/* Sections that are not cases: [global], and those extensions own. */
static bool is_shared_section(const char *section)
{
    return is_global(section) || contend_find_extension_section(section) != NULL;
}

static void add_section_settings(const struct parse *p, const char *section,
                                 struct contend_settings *into)
{
    for (size_t i = 0; i < p->kv.n; i++) {
        const char *sec = p->kv_section[i];
        if (section ? strcmp(sec, section) != 0 : !is_shared_section(sec))
            continue;
        if (!section && !is_global(sec)) {
            /* [time] speed = 100 is the setting time.speed. */
            char *key = contend_asprintf("%s.%s", sec, p->kv.v[i].key);
            contend_settings_add(into, key, p->kv.v[i].value, p->kv.v[i].origin, p->kv.v[i].line);
            free(key);
        } else {
            contend_settings_add(into, p->kv.v[i].key, p->kv.v[i].value, p->kv.v[i].origin,
                                 p->kv.v[i].line);
        }
    }
}

static char *file_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? strndup(base, (size_t)(dot - base)) : contend_strdup(base);
}

static int add_case(struct contend_scenario *out, const char *name, const char *origin, int line,
                    const struct contend_settings *ss)
{
    out->cases = contend_realloc(out->cases, (out->ncases + 1) * sizeof out->cases[0]);
    struct contend_case *c = &out->cases[out->ncases];
    int rc = contend_case_resolve(c, name, origin, line, ss);
    if (rc) {
        contend_case_free(c);
        return rc;
    }
    out->ncases++;
    return 0;
}

static int check_sections(const struct parse *p)
{
    for (size_t i = 0; i < p->nsec; i++) {
        if (p->sec[i].name[0] == '\0') {
            where_err(p->path, p->sec[i].line, "empty section name");
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(p->sec[i].name, p->sec[j].name) == 0) {
                where_err(p->path, p->sec[i].line, "section [%s] appears twice (first at line %d)",
                          p->sec[i].name, p->sec[j].line);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* " (did you mean 'C'?)" for a --case that names no case of the file. */
static const char *case_hint(const struct parse *p, const char *name, char *buf, size_t len)
{
    struct contend_suggest sg;
    contend_suggest_init(&sg, name);
    for (size_t i = 0; i < p->nsec; i++)
        if (!is_shared_section(p->sec[i].name))
            contend_suggest_add(&sg, p->sec[i].name);
    return contend_suggest_hint(&sg, buf, len);
}

int contend_scenario_load(const char *path, const struct contend_settings *overrides,
                          const char *only_case, struct contend_scenario *out)
{
    struct parse p;
    char hint[160];
    int rc;
    size_t ncase_sections = 0;

    memset(out, 0, sizeof *out);
    if ((rc = parse_file(path, &p)) != 0)
        goto out;
    if ((rc = check_sections(&p)) != 0)
        goto out;
    out->path = contend_strdup(path);
    out->name = file_stem(path);

    for (size_t i = 0; i < p.nsec && rc == 0; i++) {
        if (is_shared_section(p.sec[i].name))
            continue;
        ncase_sections++;
        if (only_case && strcmp(only_case, p.sec[i].name) != 0)
            continue;
        struct contend_settings ss = {0};
        add_section_settings(&p, NULL, &ss);
        add_section_settings(&p, p.sec[i].name, &ss);
        for (size_t j = 0; overrides && j < overrides->n; j++)
            contend_settings_add(&ss, overrides->v[j].key, overrides->v[j].value,
                                 overrides->v[j].origin, overrides->v[j].line);
        rc = add_case(out, p.sec[i].name, path, p.sec[i].line, &ss);
        contend_settings_free(&ss);
    }
    if (rc)
        goto out;
    /* A file with only global settings is a one-case scenario. */
    if (ncase_sections == 0 && (!only_case || strcmp(only_case, out->name) == 0)) {
        struct contend_settings ss = {0};
        add_section_settings(&p, NULL, &ss);
        for (size_t j = 0; overrides && j < overrides->n; j++)
            contend_settings_add(&ss, overrides->v[j].key, overrides->v[j].value,
                                 overrides->v[j].origin, overrides->v[j].line);
        rc = add_case(out, out->name, path, 1, &ss);
        contend_settings_free(&ss);
        if (rc)
            goto out;
    }
    if (out->ncases == 0) {
        if (only_case)
            where_err(path, 0, "no case named '%s'%s", only_case,
                      case_hint(&p, only_case, hint, sizeof hint));
        else
            where_err(path, 0, "no cases");
        rc = -EINVAL;
    }
out:
    parse_free(&p);
    if (rc)
        contend_scenario_free(out);
    return rc;
}

int contend_scenario_from_settings(const char *name, const struct contend_settings *settings,
                                   struct contend_scenario *out)
{
    memset(out, 0, sizeof *out);
    out->name = contend_strdup(name);
    int rc = add_case(out, name, "command line", 0, settings);
    if (rc)
        contend_scenario_free(out);
    return rc;
}
