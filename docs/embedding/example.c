/* example.c — build a bonesim model, step it and read its state, using
 * the installed library (docs/embedding.md). */
#include <stdio.h>

#include "catalog.h"
#include "celltypes.h"
#include "config.h"
#include "model.h"

int main(void)
{
    bs_error err = { { 0 } };
    bs_registry *reg = bs_catalog_registry(&err); /* every parameter, with defaults */
    bs_paramset *ps = reg ? bs_paramset_create(reg) : NULL;
    const char *sets[] = { "lattice.width_sites=64", "lattice.height_sites=64", "run.seed=7" };
    for (int i = 0; ps && i < 3; i++)
        if (bs_config_set(ps, sets[i], &err) != BS_OK) ps = NULL;
    bs_model *m = NULL;
    if (!ps || bs_model_create(&m, ps, NULL, &err) != BS_OK) {
        fprintf(stderr, "example: %s\n", err.msg);
        return 1;
    }
    for (int day = 1; day <= 10; day++) {
        for (int k = 0; k < (int)(24.0 / m->dt_h); k++) bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
        long oc = 0; /* or walk the agent store directly */
        for (int slot = 0; slot < m->store.capacity; slot++) oc += m->store.type[slot] == BS_CELL_OSTEOCLAST;
        printf("day %5.1f  BV/TV %.3f  osteoclasts %ld (store: %ld)  median pO2 %.1f mmHg\n", o.time_days, o.bv_tv,
                o.n_osteoclasts, oc, o.o2_median_mmHg);
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}
