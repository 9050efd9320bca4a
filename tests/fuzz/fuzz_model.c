/* fuzz_model.c — a scenario all the way to a running model: any bytes as a
 * scenario file; when it loads, the model is built (geometry generation
 * included), stepped and drawn. Valid but absurd parameter combinations
 * must give an error or a model that steps safely. */
#include "catalog.h"
#include "config.h"
#include "fuzz_util.h"
#include "model.h"
#include "render.h"

/* Bounds that keep one input fast; bigger lattices and slower solvers are
 * the same code, only slower. */
#define MAX_SITES 6400
#define MAX_SWEEPS 500
#define STEPS 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bs_registry *reg;
    bs_error err;
    if (!reg && !(reg = bs_catalog_registry(&err))) abort();
    const char *path = bs_fuzz_file("model.ini", data, size);
    bs_paramset *ps = bs_paramset_create(reg);
    bs_model *m = NULL;
    if (bs_config_load(ps, path, &err) == BS_OK &&
            bs_param(ps, "lattice.width_sites") * bs_param(ps, "lattice.height_sites") <= MAX_SITES &&
            bs_param(ps, "solver.max_iters") <= MAX_SWEEPS && bs_model_create(&m, ps, NULL, &err) == BS_OK) {
        for (int k = 0; k < STEPS; k++) bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
        bs_render_input in = {
            .lat = &m->lat, .store = &m->store, .time_days = bs_model_time_days(m), .title = "fuzz", .px_per_site = 1
        };
        bs_image im = { 0 };
        if (bs_render(&in, &im, &err) == BS_OK) bs_image_free(&im);
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    return 0;
}
