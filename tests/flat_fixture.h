/* flat_fixture.h — the small flat-slab model the rule tests share.
 *
 * 40 x 30 sites, bone in rows 15..29, the endosteum is row 14; no
 * arterioles, one sinusoid, no spontaneous BMU activation. One model at a
 * time per test program: the fixture holds its registry and parameters. */
#ifndef BS_FLAT_FIXTURE_H
#define BS_FLAT_FIXTURE_H

#include <math.h>
#include <string.h>

#include "celltypes.h"
#include "test_util.h"

#define W 40
#define H 30
#define SURF_Y 14

static bs_registry *reg;
static bs_paramset *ps;

/* The flat geometry, then the test file's `defaults`, then the test's
 * `extra` settings ("section.key=value", NULL-terminated; either may be
 * NULL). Frees a model's parameters left from an earlier call. */
static inline bs_model *bs_flat_model(const char *const *defaults, const char *const *extra)
{
    static const char *const base[] = { "geometry.source=flat", "lattice.width_sites=40", "lattice.height_sites=30",
        "geometry.slab_thickness_um=150", "geometry.arteriole_spacing_um=0", "geometry.sinusoid_spacing_um=2000",
        "bmu.activation_per_site_per_y=0", NULL };
    if (ps) bs_paramset_destroy(ps);
    if (reg) bs_registry_destroy(reg);
    ps = bs_test_params(&reg, NULL, base);
    bs_error err;
    for (int k = 0; defaults && defaults[k]; k++)
        if (bs_config_set(ps, defaults[k], &err) != BS_OK) fail_msg("%s", err.msg);
    for (int k = 0; extra && extra[k]; k++)
        if (bs_config_set(ps, extra[k], &err) != BS_OK) fail_msg("%s", err.msg);
    return bs_test_model(ps);
}

/* Destroys the model and the fixture's parameters. */
static inline void done(bs_model *m)
{
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    ps = NULL;
    reg = NULL;
}

static inline int site(int x, int y)
{
    return y * W + x;
}

/* One call of the rule of the agent in `slot` (its type's act), with
 * scratch step totals. */
static inline void bs_flat_act(bs_model *m, int slot)
{
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    bs_celltype_of(m->store.type[slot])->act(m, slot, &tot);
}

/* A count of n events in `trials` draws of probability p lies within
 * 4 standard deviations (+1) of its expectation. */
static inline void bs_flat_assert_binomial(long n, long trials, double p)
{
    double mu = (double)trials * p, sd = sqrt((double)trials * p * (1.0 - p));
    print_message("  %ld of %ld (expected %.1f +- %.1f)\n", n, trials, mu, sd);
    assert_true(fabs((double)n - mu) <= 4.0 * sd + 1.0);
}

#endif
