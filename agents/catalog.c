#include "catalog.h"

#include "actions.h"
#include "celltypes.h"
#include "rules.h"

bs_registry *bs_catalog_registry(bs_error *err)
{
    size_t n_therapy = 0;
    const bs_param_def *therapy_defs = bs_therapy_params(&n_therapy);
    if (bs_celltypes_check(err) != BS_OK) return NULL;
    bs_registry *reg = bs_registry_create();
    if (!reg) {
        bs_fail(err, BS_ERR_NOMEM, "out of memory for the parameter registry");
        return NULL;
    }
    bs_status st = bs_registry_add(reg, bs_world_params, bs_world_nparams, err);
    if (st == BS_OK) st = bs_registry_add(reg, bs_bmu_params, bs_bmu_nparams, err);
    /* each cell type's table, in registry order */
    for (int t = 0; st == BS_OK && t < bs_celltype_count(); t++) {
        const bs_celltype *ct = bs_celltype_of(t);
        if (ct->n_params > 0) st = bs_registry_add(reg, ct->params, ct->n_params, err);
    }
    if (st == BS_OK) st = bs_registry_add(reg, therapy_defs, n_therapy, err);
    if (st != BS_OK) {
        bs_registry_destroy(reg);
        return NULL;
    }
    size_t n_live;
    const bs_param_def *live = bs_live_params(&n_live);
    if (bs_registry_add(reg, live, n_live, err) != BS_OK) {
        bs_registry_destroy(reg);
        return NULL;
    }
    return reg;
}
