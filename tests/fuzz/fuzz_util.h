/* fuzz_util.h — shared by the fuzz targets (tests/fuzz/fuzz_*.c).
 *
 * Each target defines LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer it is a libFuzzer program (.ci/fuzz.sh); built with
 * replay.c it is a plain program that runs the given files once each, which
 * is how ctest replays the seed corpus and every crash ever found
 * (tests/fuzz/regressions/) in every build, sanitizers included.
 *
 * The loaders under test read files, so inputs are written to a private
 * temporary folder (tmpfs when there is one). */
#ifndef BS_FUZZ_UTIL_H
#define BS_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A folder of our own, made once per process and removed at exit. */
static char bs_fuzz_dir_buf[256];

static inline void bs_fuzz_cleanup(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", bs_fuzz_dir_buf);
    if (system(cmd) != 0) { /* best effort */
    }
}

static inline const char *bs_fuzz_dir(void)
{
    if (!bs_fuzz_dir_buf[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(bs_fuzz_dir_buf, sizeof bs_fuzz_dir_buf, "%s/bonesim-fuzz-XXXXXX", base);
        if (!mkdtemp(bs_fuzz_dir_buf)) {
            perror("mkdtemp");
            abort();
        }
        atexit(bs_fuzz_cleanup);
    }
    return bs_fuzz_dir_buf;
}

/* Writes data to DIR/name and returns the path (static buffer). */
static inline const char *bs_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", bs_fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* Property the checkpoint relies on: every value, written the way
 * bs_param_format writes it, reads back to exactly the same value.
 * Defaults are checked once (tests/test_params.c covers them); here only
 * what the input set. */
static inline void bs_fuzz_check_round_trip(const bs_paramset *ps)
{
    const bs_registry *reg = bs_paramset_registry(ps);
    bs_paramset *back = bs_paramset_create(reg);
    size_t n = bs_registry_count(reg);
    char a[1100], b[1100];
    bs_error err;
    for (size_t i = 0; i < n; i++) {
        if (!bs_param_is_set(ps, i)) continue;
        bs_param_format(ps, i, a, sizeof a);
        const char *name = bs_registry_at(reg, i)->name;
        if (bs_paramset_set_text(back, name, a, "round trip", &err) != BS_OK) {
            fprintf(stderr, "round trip: %s = '%s' does not read back: %s\n", name, a, err.msg);
            abort();
        }
        bs_param_format(back, i, b, sizeof b);
        if (strcmp(a, b) != 0 ||
                (bs_registry_at(reg, i)->type != BS_PT_STRING && bs_param_at(ps, i) != bs_param_at(back, i))) {
            fprintf(stderr, "round trip: %s = '%s' reads back as '%s'\n", name, a, b);
            abort();
        }
    }
    bs_paramset_destroy(back);
}

#endif
