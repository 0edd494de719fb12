/*
 * exec_noop.c - an exec-protocol program that does nothing: `ok` to setup,
 * open and recover, `ok 1` to every op, `end` to state.  The benchmark
 * (exec_overhead.sh) times contend's side of the protocol with it.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[65536];
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "state", 5) == 0)
            fputs("end\n", stdout);
        else if (strncmp(line, "setup", 5) == 0 || strncmp(line, "open", 4) == 0 ||
                 strncmp(line, "recover", 7) == 0)
            fputs("ok\n", stdout);
        else
            fputs("ok 1\n", stdout);
        fflush(stdout);
    }
    return 0;
}
