/* probe_util.h: the set-up the measurement probes (probe_*.c) share.
 *
 * Each probe loads one shipped scenario, sets its seed and then its own
 * overrides; this opens the registry and the parameter set for that, so the
 * probes differ only in what they measure. Header-only: the probes are
 * separate executables.
 */
#ifndef BS_PROBE_UTIL_H
#define BS_PROBE_UTIL_H

#include "catalog.h"
#include "config.h"

#include <stdio.h>

/* Loads BS_SCENARIOS_DIR/<scenario>.ini with run.seed = seed into a new
 * parameter set. On success returns 0 with *reg and *ps set (the caller
 * destroys both); on failure prints "prog: message" on stderr and returns 1
 * with nothing left allocated. */
static inline int probe_load_scenario(const char *prog, const char *scenario, long seed,
                                      bs_registry **reg, bs_paramset **ps)
{
    bs_error err;
    *reg = bs_catalog_registry(&err);
    *ps = NULL;
    if (!*reg) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        return 1;
    }
    *ps = bs_paramset_create(*reg);
    char path[1024], sd[64];
    snprintf(path, sizeof path, "%s/%s.ini", BS_SCENARIOS_DIR, scenario);
    snprintf(sd, sizeof sd, "run.seed=%ld", seed);
    if (!*ps) {
        fprintf(stderr, "%s: out of memory\n", prog);
    } else if (bs_config_load(*ps, path, &err) != BS_OK || bs_config_set(*ps, sd, &err) != BS_OK) {
        fprintf(stderr, "%s: seed %ld: %s\n", prog, seed, err.msg);
    } else {
        return 0;
    }
    bs_paramset_destroy(*ps);
    bs_registry_destroy(*reg);
    *ps = NULL;
    *reg = NULL;
    return 1;
}

#endif
