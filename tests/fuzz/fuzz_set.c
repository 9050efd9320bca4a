/* fuzz_set.c — the command line: option parsing of run, resume and params
 * (viz/cli/runner.c) and the values of --set, --days, --seed, --csv-every and
 * --png-every applied to the registry. The input is the argument list,
 * one argument per line. Parsing must reject bad input with a message and
 * never crash; accepted values must survive a format/parse round trip. */
#include "fuzz_util.h"
#include "runner.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *p = text; argc < MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    bs_error err;
    for (int c = 0; c < 3; c++) {
        bs_cli_opts o;
        bs_status st = bs_cli_parse((bs_cmd)c, argc, argv, &o, &err);
        if (st != BS_OK) {
            if (!err.msg[0]) abort(); /* a rejection always says why */
            continue;
        }
        if (c == BS_CMD_RESUME || o.help) continue;
        o.npos = 0; /* no scenario files: fuzz_config covers those */
        bs_registry *reg = NULL;
        bs_paramset *ps = NULL;
        char path[16];
        if (bs_resolve_params(&o, &reg, &ps, path, sizeof path, &err) == BS_OK) bs_fuzz_check_round_trip(ps);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    free(text);
    return 0;
}
