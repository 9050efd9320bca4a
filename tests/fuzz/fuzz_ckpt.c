/* fuzz_ckpt.c — restoring a model from a checkpoint (engine/checkpoint.c,
 * agents/model_io.c). Accidental damage is caught by the checksum, so the
 * harness re-signs every input (recomputes the FNV-1a trailer) to reach
 * what a hand-made or buggy file could do: a restored model must either be
 * refused with a message or be safe to step. */
#include "catalog.h"
#include "fuzz_util.h"
#include "model.h"
#include "session.h"

/* Lattices above this are skipped (the CLI checks memory first), and so
 * are solver settings that make a step take seconds: slow, not wrong. */
#define MAX_SITES 4096
#define MAX_SWEEPS 500

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bs_registry *reg;
    bs_error err;
    if (!reg && !(reg = bs_catalog_registry(&err))) abort();
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (size >= 48) {
        uint64_t h = bs_fnv1a(BS_FNV1A_INIT, copy, size - 8);
        memcpy(copy + size - 8, &h, 8);
    }
    const char *path = bs_fuzz_file("fuzz.ckpt", copy, size);
    free(copy);
    bs_ckpt_reader *r = NULL;
    if (bs_ckpt_open(&r, path, &err) != BS_OK) return 0;
    bs_paramset *ps = NULL;
    bs_run_state rs;
    bs_ckpt_extra rx[BS_RUN_SECTIONS];
    bs_run_state_sections(&rs, rx);
    bs_model *m = NULL;
    if (bs_model_load_params(r, reg, &ps, rx, BS_RUN_SECTIONS, &err) == BS_OK &&
            bs_param(ps, "lattice.width_sites") * bs_param(ps, "lattice.height_sites") <= MAX_SITES &&
            bs_param(ps, "solver.max_iters") <= MAX_SWEEPS && bs_model_load(r, ps, &m, &err) == BS_OK) {
        bs_model_step(m);
        bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_ckpt_close(r);
    return 0;
}
