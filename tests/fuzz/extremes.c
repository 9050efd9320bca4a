/* extremes.c — every parameter at the ends of its valid range, one at a
 * time: each must give a model that builds (or a clear error), steps and
 * draws without a crash or, under the sanitizers, undefined behaviour.
 * "Valid" must mean "safe", however absurd the value. Run by ctest
 * (param_extremes); prints what it tried. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "model.h"
#include "render.h"

#define STEPS 6

/* Left at defaults: run.* only steers the run loop, and the lattice size
 * and solver effort at their maxima are only slow (the memory check and
 * docs/reliability.md cover those). */
static int skipped(const char *name, int at_max)
{
    if (strncmp(name, "run.", 4) == 0 && strcmp(name, "run.dt_h") != 0) return 1;
    if (at_max &&
            (strcmp(name, "lattice.width_sites") == 0 || strcmp(name, "lattice.height_sites") == 0 ||
                    strcmp(name, "solver.max_iters") == 0))
        return 1;
    return 0;
}

static int try_one(const bs_registry *reg, const char *name, double v, const char *text)
{
    bs_error err;
    bs_paramset *ps = bs_paramset_create(reg);
    if (!ps) return 1;
    /* small, and with a BMU open from the start so every cell rule runs */
    const char *base[] = { "lattice.width_sites=32", "lattice.height_sites=24", "bmu.initial_bmu_x_frac=0.5", NULL };
    for (int k = 0; base[k]; k++) {
        char key[64];
        const char *eq = strchr(base[k], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - base[k]), base[k]);
        if (strcmp(key, name) != 0 && bs_paramset_set_text(ps, key, eq + 1, "base", &err) != BS_OK) {
            fprintf(stderr, "extremes: %s\n", err.msg);
            bs_paramset_destroy(ps);
            return 1;
        }
    }
    bs_status st = text ? bs_paramset_set_text(ps, name, text, "extremes", &err) : bs_param_set(ps, name, v, &err);
    if (st != BS_OK) {
        fprintf(stderr, "extremes: %s = %g refused at its own range limit: %s\n", name, v, err.msg);
        bs_paramset_destroy(ps);
        return 1;
    }
    bs_model *m = NULL;
    if (bs_model_create(&m, ps, NULL, &err) == BS_OK) {
        for (int k = 0; k < STEPS; k++) bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
        bs_render_input in = { .lat = &m->lat,
            .store = &m->store,
            .time_days = bs_model_time_days(m),
            .title = "extremes",
            .px_per_site = 1 };
        bs_image im = { 0 };
        if (bs_render(&in, &im, &err) == BS_OK) bs_image_free(&im);
        bs_model_destroy(m);
    } else {
        printf("  %s = %s: not built (%s)\n", name, text ? text : "limit", err.msg);
    }
    bs_paramset_destroy(ps);
    return 0;
}

int main(void)
{
    bs_error err;
    bs_registry *reg = bs_catalog_registry(&err);
    if (!reg) {
        fprintf(stderr, "extremes: %s\n", err.msg);
        return 1;
    }
    int failures = 0, tried = 0;
    size_t n = bs_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        const bs_param_def *d = bs_registry_at(reg, i);
        switch (d->type) {
        case BS_PT_REAL:
        case BS_PT_INT:
            for (int at_max = 0; at_max < 2; at_max++) {
                if (skipped(d->name, at_max)) continue;
                failures += try_one(reg, d->name, at_max ? d->max : d->min, NULL);
                tried++;
            }
            break;
        case BS_PT_BOOL:
            for (int b = 0; b < 2; b++, tried++) failures += try_one(reg, d->name, b, NULL);
            break;
        case BS_PT_CHOICE:
            for (int c = 0; d->choices[c]; c++, tried++) failures += try_one(reg, d->name, 0, d->choices[c]);
            break;
        default: break;
        }
    }
    printf("extremes: %d settings of %zu parameters built, stepped and drawn\n", tried, n);
    bs_registry_destroy(reg);
    return failures ? 1 : 0;
}
