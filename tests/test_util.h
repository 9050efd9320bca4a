/* test_util.h — shared set-up for tests that build a model. */
#ifndef BS_TEST_UTIL_H
#define BS_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "catalog.h"
#include "config.h"
#include "model.h"

/* Registry + defaults + the named scenario (or none) + "k=v" overrides. */
static inline bs_paramset *bs_test_params(bs_registry **reg, const char *scenario, const char *const *sets)
{
    bs_error err;
    *reg = bs_catalog_registry(&err);
    assert_non_null(*reg);
    bs_paramset *ps = bs_paramset_create(*reg);
    assert_non_null(ps);
    if (scenario) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.ini", BS_SCENARIOS_DIR, scenario);
        if (bs_config_load(ps, path, &err) != BS_OK) fail_msg("%s", err.msg);
    }
    for (int k = 0; sets && sets[k]; k++)
        if (bs_config_set(ps, sets[k], &err) != BS_OK) fail_msg("%s", err.msg);
    return ps;
}

static inline bs_model *bs_test_model(const bs_paramset *ps)
{
    bs_error err;
    bs_model *m = NULL;
    if (bs_model_create(&m, ps, NULL, &err) != BS_OK) fail_msg("%s", err.msg);
    return m;
}

static inline void bs_test_run_days(bs_model *m, double days)
{
    long steps = (long)(days * 24.0 / m->dt_h + 0.5);
    for (long k = 0; k < steps; k++) bs_model_step(m);
}

#endif
