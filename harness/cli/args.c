/*
 * args.c - the command-line parser every command shares (see args.h).
 *
 * getopt_long keeps its state in globals (optind, optarg, optopt), so one
 * parse runs at a time, which is all a command needs; init resets them.
 * Options are registered with values >= 256 so that they never collide
 * with a short option's letter or with getopt's own 1, ':' and '?'.
 */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "util.h"

#define LONG_BASE 256

void contend_args_init(struct contend_args *p, const char *cmd, const char *usage,
                       const struct contend_argdef *defs, bool open, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->usage = usage;
    p->defs = defs;
    p->open = open;
    p->argc = argc;
    p->argv = argv;

    /* "-": every argument in order, positionals as 1; ":": a missing value
     * is ':' rather than '?', and getopt prints nothing itself. */
    size_t n = 0, s = 0;
    p->shorts[s++] = '-';
    p->shorts[s++] = ':';
    p->shorts[s++] = 'h';
    for (const struct contend_argdef *d = defs; d && d->name && n < CONTEND_ARGS_MAX; d++, n++) {
        p->longs[n] = (struct option){d->name, d->value ? required_argument : no_argument, NULL,
                                      LONG_BASE + (int)n};
        if (d->short_name) {
            p->shorts[s++] = d->short_name;
            if (d->value)
                p->shorts[s++] = ':';
        }
    }
    p->longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    p->longs[n] = (struct option){NULL, 0, NULL, 0};
    p->shorts[s] = '\0';
    optind = 0; /* a full reset, in glibc and musl */
    opterr = 0;
}

void contend_args_free(struct contend_args *p)
{
    free(p->other);
    p->other = NULL;
}

int contend_usage_error(const struct contend_args *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "contend %s: ", p->cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fputs(p->usage, stderr);
    return CONTEND_EXIT_USAGE;
}

int contend_args_number(const struct contend_args *p, double lo, double hi, double *out)
{
    if (contend_parse_double(p->value, out) != 0 || !(*out >= lo && *out <= hi))
        return contend_usage_error(p, "--%s expects a number in [%g, %g], got '%s'", p->name, lo,
                                   hi, p->value);
    return 0;
}

static const struct contend_argdef *def_of_short(const struct contend_args *p, int ch)
{
    for (const struct contend_argdef *d = p->defs; d && d->name; d++)
        if (d->short_name && d->short_name == ch)
            return d;
    return NULL;
}

/* An option getopt does not know: for an open command, a setting with its
 * value; otherwise an error with the closest known option. */
static int unknown_option(struct contend_args *p)
{
    const char *text = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "?";
    if (optopt != 0 || strncmp(text, "--", 2) != 0) {
        char letter[3] = {'-', (char)(optopt ? optopt : '?'), '\0'};
        contend_usage_error(p, "unknown option %s", optopt ? letter : text);
        return CONTEND_ARG_ERROR;
    }
    const char *eq = strchr(text, '=');
    size_t len = eq ? (size_t)(eq - text - 2) : strlen(text + 2);
    char *name = contend_strdup(text + 2);
    name[len] = '\0';
    if (!p->open || !*name) {
        struct contend_suggest sg;
        contend_suggest_init(&sg, name);
        for (const struct contend_argdef *d = p->defs; d && d->name; d++)
            contend_suggest_add(&sg, d->name);
        contend_suggest_add(&sg, "help");
        const char *best = contend_suggest_best(&sg);
        contend_usage_error(p, "unknown option --%s%s%s%s", name, best ? " (did you mean --" : "",
                            best ? best : "", best ? "?)" : "");
        free(name);
        return CONTEND_ARG_ERROR;
    }
    /* --max-p99-us is the key max_p99_us. */
    for (char *c = name; *c; c++)
        if (*c == '-')
            *c = '_';
    if (eq) {
        p->value = eq + 1;
    } else if (optind < p->argc) {
        p->value = p->argv[optind++];
    } else {
        contend_usage_error(p, "--%s needs a value", name);
        free(name);
        return CONTEND_ARG_ERROR;
    }
    p->other = name;
    p->name = name;
    return CONTEND_ARG_OTHER;
}

int contend_args_next(struct contend_args *p)
{
    contend_args_free(p);
    p->name = p->value = NULL;
    if (p->rest) {
        if (optind >= p->argc)
            return CONTEND_ARG_END;
        p->value = p->argv[optind++];
        return CONTEND_ARG_POSITIONAL;
    }
    int c = getopt_long(p->argc, p->argv, p->shorts, p->longs, NULL);
    if (c == -1) {
        /* After `--`, the rest is positional. */
        if (optind < p->argc) {
            p->rest = true;
            return contend_args_next(p);
        }
        return CONTEND_ARG_END;
    }
    if (c == 1) {
        p->value = optarg;
        return CONTEND_ARG_POSITIONAL;
    }
    if (c == 'h') {
        fputs(p->usage, stdout);
        return CONTEND_ARG_HELP;
    }
    if (c == ':') {
        const struct contend_argdef *d =
            optopt >= LONG_BASE ? &p->defs[optopt - LONG_BASE] : def_of_short(p, optopt);
        if (d)
            contend_usage_error(p, "--%s needs a value", d->name);
        else
            contend_usage_error(p, "-%c needs a value", optopt);
        return CONTEND_ARG_ERROR;
    }
    if (c == '?')
        return unknown_option(p);
    const struct contend_argdef *d = c >= LONG_BASE ? &p->defs[c - LONG_BASE] : def_of_short(p, c);
    if (!d) {
        contend_usage_error(p, "unknown option -%c", c);
        return CONTEND_ARG_ERROR;
    }
    p->name = d->name;
    p->value = d->value ? optarg : NULL;
    return d->id;
}
