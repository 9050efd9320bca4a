#include "catalog.h"

#include "actions.h"
#include "rules.h"

bs_registry *bs_catalog_registry(bs_error *err)
{
    size_t n_therapy = 0;
    const bs_param_def *therapy_defs = bs_therapy_params(&n_therapy);
    bs_registry *reg = bs_registry_create();
    if (!reg) {
        bs_fail(err, BS_ERR_NOMEM, "out of memory for the parameter registry");
        return NULL;
    }
    if (bs_registry_add(reg, bs_world_params, bs_world_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_bmu_params, bs_bmu_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_oc_params, bs_oc_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_ob_params, bs_ob_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_dtc_params, bs_dtc_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_tcell_params, bs_tcell_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_nk_params, bs_nk_nparams, err) != BS_OK ||
            bs_registry_add(reg, bs_mdsc_params, bs_mdsc_nparams, err) != BS_OK ||
            bs_registry_add(reg, therapy_defs, n_therapy, err) != BS_OK) {
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
