/* celltypes.c — the registry of cell types: the shipped ones, in id order
 * (bs_cell_type), then any added at run time by bs_celltype_register.
 *
 * Colours: Okabe & Ito (2008) colour-blind-safe palette, orange E69F00,
 * sky blue 56B4E9, bluish green 009E73, yellow F0E442, blue 0072B2,
 * vermillion D55E00, reddish purple CC79A7, black; each type's file picks
 * its colours from it (MDSCs take the grey 999999 that the common variant
 * puts in place of black, which would vanish on the dark marrow). */
#include "celltypes.h"

#include <string.h>

#include "model.h"

/* THE registry of shipped types: one line per type, in id order (the
 * first eight match bs_cell_type in celltypes.h). X(name) refers to the
 * descriptor bs_type_<name> defined at the end of agents/<file>.c. */
#define SHIPPED_TYPES(X)                                                                                               \
    X(osteoclast)                                                                                                      \
    X(osteoblast)                                                                                                      \
    X(dtc)                                                                                                             \
    X(tcell)                                                                                                           \
    X(nk)                                                                                                              \
    X(mdsc)                                                                                                            \
    X(treg)                                                                                                            \
    X(macrophage)

#define DECLARE(n) extern const bs_celltype bs_type_##n;
SHIPPED_TYPES(DECLARE)
#define ENTRY(n) &bs_type_##n,
static const bs_celltype *registry[BS_MAX_CELL_TYPES] = { SHIPPED_TYPES(ENTRY) };
#undef DECLARE
#undef ENTRY

static int n_registered = -1; /* counted on first use */

int bs_celltype_count(void)
{
    if (n_registered < 0) {
        n_registered = 0;
        while (n_registered < BS_MAX_CELL_TYPES && registry[n_registered]) n_registered++;
    }
    return n_registered;
}

const bs_celltype *bs_celltype_of(int id)
{
    return id >= 0 && id < bs_celltype_count() ? registry[id] : NULL;
}

int bs_celltype_find(const char *name)
{
    for (int t = 0; t < bs_celltype_count(); t++)
        if (strcmp(registry[t]->name, name) == 0) return t;
    return -1;
}

/* What every descriptor must state; err names the type and the gap. */
static int check_type(const bs_celltype *t, bs_error *err)
{
    if (!t || !t->name || !t->name[0]) {
        bs_fail(err, BS_ERR_INVALID, "cell type without a name");
        return 0;
    }
    if (t->n_states < 1 || t->n_states > BS_MAX_STATES) {
        bs_fail(err, BS_ERR_INVALID, "cell type %s: %d states (valid: 1 .. %d)", t->name, t->n_states, BS_MAX_STATES);
        return 0;
    }
    for (int k = 0; k < t->n_states; k++)
        if (!t->state_names[k]) {
            bs_fail(err, BS_ERR_INVALID, "cell type %s: state %d has no name", t->name, k);
            return 0;
        }
    const bs_rt_sensitivity *rt = &t->radiation;
    int rt_ok = (rt->model == BS_RT_LQ && rt->alpha_key && rt->alpha_beta_key) ||
            (rt->model == BS_RT_D0 && rt->d0_key) || (rt->model == BS_RT_SPARED && rt->why);
    if (!rt_ok || (rt->factor_states && !rt->factor_key)) {
        bs_fail(err, BS_ERR_INVALID,
                "cell type %s: radiotherapy sensitivity not stated (valid: BS_RT_LQ with alpha and alpha/beta keys, "
                "BS_RT_D0 with a D0 key, or BS_RT_SPARED with a reason)",
                t->name);
        return 0;
    }
    if (t->n_observables < 0 || t->n_observables > BS_MAX_TYPE_OBSERVABLES) {
        bs_fail(err, BS_ERR_INVALID, "cell type %s: %d observables (valid: 0 .. %d)", t->name, t->n_observables,
                BS_MAX_TYPE_OBSERVABLES);
        return 0;
    }
    for (int k = 0; k < t->n_observables; k++)
        if (!t->observables[k].column || !t->observables[k].unit) {
            bs_fail(err, BS_ERR_INVALID, "cell type %s: observable %d lacks a column name or unit", t->name, k);
            return 0;
        }
    return 1;
}

bs_status bs_celltypes_check(bs_error *err)
{
    /* the ids other files name (bs_cell_type) are where the list puts them */
    static const struct {
        int id;
        const char *name;
    } named[] = { { BS_CELL_OSTEOCLAST, "osteoclast" }, { BS_CELL_OSTEOBLAST, "osteoblast" }, { BS_CELL_DTC, "dtc" },
        { BS_CELL_TCELL, "tcell" }, { BS_CELL_NK, "nk" }, { BS_CELL_MDSC, "mdsc" }, { BS_CELL_TREG, "treg" },
        { BS_CELL_MACROPHAGE, "macrophage" } };
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
        if (!bs_celltype_of(named[k].id) || strcmp(bs_celltype_of(named[k].id)->name, named[k].name) != 0)
            return bs_fail(err, BS_ERR_INTERNAL,
                    "cell type id %d is not %s: the registry list in celltypes.c and "
                    "bs_cell_type in celltypes.h disagree",
                    named[k].id, named[k].name);
    for (int t = 0; t < bs_celltype_count(); t++) {
        if (!check_type(registry[t], err)) return BS_ERR_INVALID;
        for (int u = 0; u < t; u++)
            if (strcmp(registry[u]->name, registry[t]->name) == 0)
                return bs_fail(err, BS_ERR_INVALID, "cell type %s is registered twice", registry[t]->name);
    }
    return BS_OK;
}

int bs_celltype_register(const bs_celltype *t, bs_error *err)
{
    int n = bs_celltype_count();
    if (!check_type(t, err)) return -1;
    if (n >= BS_MAX_CELL_TYPES) {
        bs_fail(err, BS_ERR_INVALID, "cell type %s: the registry holds at most %d types", t->name, BS_MAX_CELL_TYPES);
        return -1;
    }
    if (bs_celltype_find(t->name) >= 0) {
        bs_fail(err, BS_ERR_INVALID, "cell type %s is registered twice", t->name);
        return -1;
    }
    registry[n] = t;
    n_registered = n + 1;
    return n;
}

void *bs_type_rules(const bs_rules *r, int id)
{
    return id >= 0 && id < BS_MAX_CELL_TYPES ? r->own[id] : NULL;
}
