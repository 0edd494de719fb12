/*
 * commands.h - the subcommands of the contend executable.
 * Each takes (argc, argv) with argv[0] the subcommand and returns an exit code.
 */
#ifndef CONTEND_COMMANDS_H
#define CONTEND_COMMANDS_H

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

#endif /* CONTEND_COMMANDS_H */
