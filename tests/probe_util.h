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
#include <stdlib.h>

/* Parses a whole decimal integer in lo .. hi into *out: 0, or -1 (nothing
 * stored) for an empty string, trailing characters or a value out of range. */
static inline int probe_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

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
