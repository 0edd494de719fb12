/*
 * args.h - the one command-line parser of every contend command.
 *
 * The convention (every command follows it):
 *  - `--help` or `-h` prints the command's usage to stdout and exits 0;
 *  - a usage error prints one line to stderr, "contend CMD: what was wrong",
 *    then the usage, and exits 2 (CONTEND_EXIT_USAGE);
 *  - options are GNU long options: `--name VALUE` or `--name=VALUE`, a
 *    unique prefix of a name is that name, `--` ends the options;
 *    positional arguments may stand anywhere, in order;
 *  - a misspelled option gets "did you mean" (suggest.h).
 *
 * It is getopt_long underneath, in the mode that returns every argument in
 * order ("-" optstring), which is the mode that lets `contend run` take
 * `--KEY VALUE` for any scenario key without listing them here ("open"
 * commands): an unknown `--KEY` is handed back with its value, and whether
 * KEY exists is decided later, where the workload's and target's keys are
 * known.  That mode never permutes argv, so taking the next argument as the
 * value is safe with glibc and musl alike.
 *
 * Use:
 *     struct contend_args p;
 *     contend_args_init(&p, "verify", verify_usage, verify_opts, false, argc, argv);
 *     for (int id; (id = contend_args_next(&p)) != CONTEND_ARG_END;)
 *         switch (id) {
 *         case CONTEND_ARG_HELP: return CONTEND_EXIT_OK;
 *         case CONTEND_ARG_ERROR: return CONTEND_EXIT_USAGE;
 *         case CONTEND_ARG_POSITIONAL: ... p.value ...
 *         case OPT_JOBS: ... p.value ...
 *         }
 */
#ifndef CONTEND_ARGS_H
#define CONTEND_ARGS_H

#include <getopt.h>
#include <stdbool.h>

#define CONTEND_ARGS_MAX 24 /* options per command */

/* One option of a command.  `id` is returned by contend_args_next(); it
 * must be >= 0. */
struct contend_argdef {
    const char *name; /* long name, without the dashes */
    char short_name;  /* 0 for none */
    bool value;       /* takes a value */
    int id;
};

enum {
    CONTEND_ARG_END = -1,        /* no more arguments */
    CONTEND_ARG_HELP = -2,       /* --help: the usage is printed to stdout; exit 0 */
    CONTEND_ARG_ERROR = -3,      /* a usage error, printed with the usage; exit 2 */
    CONTEND_ARG_POSITIONAL = -4, /* p.value is the argument */
    CONTEND_ARG_OTHER = -5,      /* open commands: --p.name [=] p.value, not in the table */
};

struct contend_args {
    const char *cmd;                   /* "run", for messages */
    const char *usage;                 /* the full usage text */
    const struct contend_argdef *defs; /* terminated by name NULL */
    bool open;
    int argc;
    char **argv;
    /* The argument contend_args_next() returned. */
    const char *name;  /* option name without dashes (CONTEND_ARG_OTHER: malloc'ed copy) */
    const char *value; /* its value, or the positional argument; NULL for flags */
    /* Private. */
    struct option longs[CONTEND_ARGS_MAX + 2];
    char shorts[3 * CONTEND_ARGS_MAX + 8];
    char *other; /* the name of the last CONTEND_ARG_OTHER */
    bool rest;   /* after `--`: everything is positional */
};

void contend_args_init(struct contend_args *p, const char *cmd, const char *usage,
                       const struct contend_argdef *defs, bool open, int argc, char **argv);
/* The next argument: an option's id, or one of CONTEND_ARG_*. */
int contend_args_next(struct contend_args *p);
void contend_args_free(struct contend_args *p);

/* Print "contend CMD: <message>" and the usage to stderr; returns
 * CONTEND_EXIT_USAGE, so that a command can `return contend_usage_error(...)`. */
int contend_usage_error(const struct contend_args *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The value of the option just returned as a number in [lo, hi] into *out;
 * else the usage error "--NAME expects a number in [lo, hi], got 'V'" and
 * CONTEND_EXIT_USAGE. */
int contend_args_number(const struct contend_args *p, double lo, double hi, double *out);

#endif /* CONTEND_ARGS_H */
