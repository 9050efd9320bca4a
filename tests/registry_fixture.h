/* registry_fixture.h — the small made-up parameter table and the
 * registry + paramset fixture shared by the registry tests (test_params.c)
 * and the scenario-file tests (test_config.c). The values are test values,
 * not model values: one parameter of every type. Include after cmocka.h. */
#ifndef BS_REGISTRY_FIXTURE_H
#define BS_REGISTRY_FIXTURE_H

#include <stdlib.h>

#include "params.h"

static const char *const bs_test_methods[] = { "euler", "rk2", "rk4", NULL };

/* the entries both tables start with; each test adds its own after them */
#define BS_TEST_COMMON_DEFS                                                                                            \
    { .name = "seed",                                                                                                  \
        .type = BS_PT_INT,                                                                                             \
        .def = 1,                                                                                                      \
        .min = 0,                                                                                                      \
        .max = 4294967295.0,                                                                                           \
        .unit = "1",                                                                                                   \
        .help = "random seed (test)" },                                                                                \
            { .name = "oc.lifespan_d",                                                                                 \
                .type = BS_PT_REAL,                                                                                    \
                .def = 14,                                                                                             \
                .min = 5,                                                                                              \
                .max = 25,                                                                                             \
                .unit = "d",                                                                                           \
                .help = "osteoclast lifespan (test)" },                                                                \
            { .name = "oc.count",                                                                                      \
                .type = BS_PT_INT,                                                                                     \
                .def = 10,                                                                                             \
                .min = 1,                                                                                              \
                .max = 100,                                                                                            \
                .unit = "1",                                                                                           \
                .help = "initial osteoclasts (test)" },                                                                \
            { .name = "oc.fuse",                                                                                       \
                .type = BS_PT_BOOL,                                                                                    \
                .def = 1,                                                                                              \
                .min = 0,                                                                                              \
                .max = 1,                                                                                              \
                .unit = "1",                                                                                           \
                .help = "allow fusion (test)" },                                                                       \
            { .name = "solver.method",                                                                                 \
                .type = BS_PT_CHOICE,                                                                                  \
                .def = 0,                                                                                              \
                .min = 0,                                                                                              \
                .max = 2,                                                                                              \
                .unit = "1",                                                                                           \
                .help = "integrator (test)",                                                                           \
                .choices = bs_test_methods },                                                                          \
    {                                                                                                                  \
        .name = "output.dir", .type = BS_PT_STRING, .unit = "1", .help = "output folder (test)", .def_str = "out"      \
    }

typedef struct {
    bs_registry *reg;
    bs_paramset *ps;
} bs_fixture;

/* a registry of defs[0..n-1] and a paramset of it in *state */
static inline int bs_fixture_setup(void **state, const bs_param_def *defs, size_t n)
{
    bs_fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->reg = bs_registry_create();
    assert_non_null(fx->reg);
    bs_error err = { { 0 } };
    assert_int_equal(bs_registry_add(fx->reg, defs, n, &err), BS_OK);
    fx->ps = bs_paramset_create(fx->reg);
    assert_non_null(fx->ps);
    *state = fx;
    return 0;
}

static inline int bs_teardown(void **state)
{
    bs_fixture *fx = *state;
    bs_paramset_destroy(fx->ps);
    bs_registry_destroy(fx->reg);
    free(fx);
    return 0;
}

#endif
