/* fuzz_config.c — the scenario parser (engine/config.c via libinih):
 * any bytes as a scenario file, with include targets next to it. Loading
 * must fail cleanly or give values that survive a format/parse round trip. */
#include "catalog.h"
#include "config.h"
#include "fuzz_util.h"

static const bs_registry *registry(void)
{
    static bs_registry *reg;
    if (!reg) {
        bs_error err;
        reg = bs_catalog_registry(&err);
        if (!reg) abort();
        /* files an input can include by name */
        static const char base[] = "[run]\ndays = 3\nseed = 2\n[oc]\nlifespan_d = 10\n";
        static const char loop[] = "include = scenario.ini\n";
        bs_fuzz_file("base.ini", (const uint8_t *)base, sizeof base - 1);
        bs_fuzz_file("loop.ini", (const uint8_t *)loop, sizeof loop - 1);
    }
    return reg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const bs_registry *reg = registry();
    const char *path = bs_fuzz_file("scenario.ini", data, size);
    bs_paramset *ps = bs_paramset_create(reg);
    bs_error err;
    if (bs_config_load(ps, path, &err) == BS_OK)
        bs_fuzz_check_round_trip(ps);
    else if (!strchr(err.msg, ':'))
        abort(); /* every message names where */
    char head[256];
    (void)bs_config_header(path, head, sizeof head, &err);
    bs_paramset_destroy(ps);
    return 0;
}
