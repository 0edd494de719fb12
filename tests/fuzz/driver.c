/*
 * driver.c - runs a fuzz harness over files, for builds without libFuzzer:
 * `fuzz_x FILE|DIR...` feeds every file (every file of a directory) to
 * LLVMFuzzerTestOneInput once.  Exit 0 when none crashed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

static int run_file(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = contend_read_file(path, &buf, &len);
    if (rc) {
        fprintf(stderr, "%s: %s\n", path, strerror(-rc));
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **names;
            int k = scandir(argv[i], &names, NULL, alphasort);
            for (int j = 0; j < k; j++) {
                if (names[j]->d_name[0] != '.') {
                    char *p = contend_asprintf("%s/%s", argv[i], names[j]->d_name);
                    bad |= run_file(p);
                    n++;
                    free(p);
                }
                free(names[j]);
            }
            free(names);
        } else {
            bad |= run_file(argv[i]);
            n++;
        }
    }
    printf("%d inputs, no crash\n", n);
    return bad;
}
