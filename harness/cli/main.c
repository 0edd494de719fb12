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
#include "suggest.h"
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
    {"ab", contend_cmd_ab, "two builds or settings interleaved in rounds, then compared"},
    {"sweep", contend_cmd_sweep, "run a scenario over a grid of settings: scaling table, plot"},
    {"replay", contend_cmd_replay, "run a case again under the schedule a run recorded"},
    {"shrink", contend_cmd_shrink, "find a smaller case that fails the same way"},
    {"__worker", cmd_worker, NULL},
    {"__faketime-shm", contend_cmd_faketime_shm, NULL},
};

static const char main_usage[] =
    "usage: contend COMMAND [ARGS]   (contend COMMAND --help for more)\n"
    "       contend --version\n\n"
    "contend forks workers against a storage target, records every operation,\n"
    "and proves invariants from the history and the final state.\n\ncommands:\n";

static void usage(FILE *out)
{
    fputs(main_usage, out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].help)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
}

/* The usage error convention of args.h, for the command word itself. */
static int usage_error(const char *what, const char *word)
{
    struct contend_suggest sg;
    char hint[96] = "";
    if (word) {
        contend_suggest_init(&sg, word);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (commands[i].help)
                contend_suggest_add(&sg, commands[i].name);
        contend_suggest_add(&sg, "version");
        contend_suggest_hint(&sg, hint, sizeof hint);
    }
    fprintf(stderr, "contend: %s%s%s%s%s\n", what, word ? " '" : "", word ? word : "",
            word ? "'" : "", hint);
    usage(stderr);
    return CONTEND_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    /* A file size limit (ulimit -f) must be an error we can report, EFBIG,
     * not a signal that kills the runner without a word. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2)
        return usage_error("no command given", NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CONTEND_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("contend %s\n", contend_version());
        return CONTEND_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    return usage_error(cmd[0] == '-' ? "unknown option" : "unknown command", cmd);
}
