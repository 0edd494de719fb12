/*
 * main.c - the contend executable: dispatch to a subcommand.
 *
 * `contend __worker CASE_DIR N` is the worker mode the runner execs; it is not
 * meant for people and is not listed.
 */
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "runjson.h"
#include "util.h"
#include "worker.h"

static int cmd_worker(int argc, char **argv)
{
    uint64_t w;
    bool recover = argc == 4 && strcmp(argv[3], "--recover") == 0;
    if ((argc != 3 && !recover) || contend_parse_u64(argv[2], &w) != 0 || w > UINT32_MAX) {
        contend_err("__worker: usage: contend __worker CASE_DIR INDEX [--recover]");
        return CONTEND_EXIT_USAGE;
    }
    if (recover)
        return contend_worker_recover(argv[1], (uint32_t)w);
    return contend_worker_main(argv[1], (uint32_t)w);
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"run", contend_cmd_run, "run a scenario, or one case from flags"},
    {"list", contend_cmd_list, "targets, variants, workloads, violations, scenario keys"},
    {"verify", contend_cmd_verify, "check a hash-chained JSONL ledger written by anyone"},
    {"report", contend_cmd_report, "render a run's HTML, Markdown, JUnit or text report"},
    {"compare", contend_cmd_compare, "compare two runs: slower, faster, no change, or noise"},
    {"sweep", contend_cmd_sweep, "run a scenario over a grid of settings: scaling table, plot"},
    {"__worker", cmd_worker, NULL},
    {"__faketime-shm", contend_cmd_faketime_shm, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: contend COMMAND [ARGS]   (contend COMMAND --help for more)\n\n"
                 "contend forks workers against a storage target, records every operation,\n"
                 "and proves invariants from the history and the final state.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].help)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    /* A file size limit (ulimit -f) must be an error we can report, EFBIG,
     * not a signal that kills the runner without a word. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CONTEND_EXIT_USAGE : CONTEND_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("contend %s\n", contend_version());
        return CONTEND_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    contend_err("unknown command '%s'", argv[1]);
    usage(stderr);
    return CONTEND_EXIT_USAGE;
}
