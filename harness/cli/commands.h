/*
 * commands.h - the subcommands of the contend executable.
 * Each takes (argc, argv) with argv[0] the subcommand and returns an exit code.
 */
#ifndef CONTEND_COMMANDS_H
#define CONTEND_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>

int contend_cmd_run(int argc, char **argv);
int contend_cmd_list(int argc, char **argv);
/* Hidden: run under libfaketime by time control to create its shared clock. */
int contend_cmd_faketime_shm(int argc, char **argv);
int contend_cmd_verify(int argc, char **argv);
int contend_cmd_report(int argc, char **argv);
int contend_cmd_compare(int argc, char **argv);
int contend_cmd_sweep(int argc, char **argv);
int contend_cmd_replay(int argc, char **argv);
int contend_cmd_shrink(int argc, char **argv);
int contend_cmd_ab(int argc, char **argv);

/* Compare two loaded runs and write the outcome: the table on stdout
 * (unless quiet, or a file is "-"), and each file named.  Returns the exit
 * code of `contend compare`.  Shared by compare and ab. */
struct contend_compare_opts;
struct contend_compare_out {
    const char *json, *markdown, *html;
    bool quiet;
};
int contend_compare_emit(const json_t *base, const json_t *new_run, const char *base_name,
                         const char *new_name, const struct contend_compare_opts *o,
                         const struct contend_compare_out *out);

#endif /* CONTEND_COMMANDS_H */
