/* model.c — building the world and the order of one step. */
#include "model.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

/* The field solver's tolerance is relative to a field's typical size
 * (solver.tol x scale): about 20 mmHg for marrow O2 (B6), 1 for the fields
 * in arbitrary units, whose sources are normalised to about 1. */
#define O2_SCALE_MMHG 20.0

static const char *const geometry_sources[] = { "procedural", "flat", "mask", "soft", NULL };
static const char *const species_timescales[] = { "human", "mouse", NULL };

#define FIELD_PARAMS(NAME, D, HALF, BONE, SRC)                                                                         \
    { "field." NAME ".D_um2_per_s", BS_PT_REAL, D, 0.0, 1e5, "um^2/s", "Diffusivity in marrow. " SRC, NULL, NULL },    \
            { "field." NAME ".half_life_h", BS_PT_REAL, HALF, 0.001, 1e5, "h", "Half-life (first-order decay). " SRC,  \
                NULL, NULL },                                                                                          \
    {                                                                                                                  \
        "field." NAME ".bone_permeability", BS_PT_REAL, BONE, 0.0, 1.0, "1",                                           \
                "Diffusivity in mineralised bone relative to marrow (bone is far less permeable, A)", NULL, NULL       \
    }

const bs_param_def bs_world_params[] = {
    { "run.days", BS_PT_REAL, 365.0, 0.0, 36525.0, "d", "Simulated time to run (overridden by --days)", NULL, NULL },
    { "run.burn_in_d", BS_PT_REAL, 0.0, 0.0, 3650.0, "d",
            "Bone-only burn-in before day 0: the surface, its BMUs and the fields run this long (no tumour cells, "
            "immune cells or therapies; their clocks start at day 0), so remodeling starts from a steady state of "
            "BMUs spread over their phases (about one BMU life, 200-300 d, A)",
            NULL, NULL },
    { "run.seed", BS_PT_INT, 1.0, 0.0, 9007199254740991.0, "1", "Random seed (overridden by --seed)", NULL, NULL },
    { "run.dt_h", BS_PT_REAL, 1.0, 0.25, 2.0, "h",
            "Agent step (about an hour: slow enough for the fields, fast movers take sub-steps)", NULL, NULL },
    { "run.csv_every_d", BS_PT_REAL, 1.0, 0.0, 36525.0, "d", "Interval between CSV rows (0: only the end)", NULL,
            NULL },
    { "run.png_every_d", BS_PT_REAL, 30.0, 0.0, 36525.0, "d", "Interval between PNG snapshots (0: only the end)", NULL,
            NULL },
    { "run.png_px_per_site", BS_PT_INT, 2.0, 1.0, 16.0, "px", "PNG pixels per lattice site (integer scaling)", NULL,
            NULL },
    { "run.spatial_every_d", BS_PT_REAL, 0.0, 0.0, 36525.0, "d",
            "Interval between spatial snapshots in OUT/spatial.h5 (0: none; an output setting, no biology)", NULL,
            NULL },
    { "run.species_timescale", BS_PT_CHOICE, 0.0, 0.0, 1.0, "-",
            "Time scale of the kinetics: human (the registry defaults) or mouse (the preset "
            "scenarios/presets/mouse.ini, "
            "found like a scenario, sets every parameter it names that the scenario, its includes and --set leave "
            "unset: explicit values win; faster remodeling and tumour kinetics, docs/calibration.md 'Mouse time "
            "scale')",
            NULL, species_timescales },
    { "lattice.width_sites", BS_PT_INT, 250.0, 8.0, 16384.0, "sites", "Lattice width (250 x 10 um = 2.5 mm)", NULL,
            NULL },
    { "lattice.height_sites", BS_PT_INT, 250.0, 8.0, 16384.0, "sites", "Lattice height", NULL, NULL },
    { "lattice.h_um", BS_PT_REAL, 10.0, 5.0, 20.0, "um", "Site edge, about one cell (Casarin 2020 used 20.8 um, Mod✓)",
            NULL, NULL },
    { "geometry.source", BS_PT_CHOICE, 0.0, 0.0, 3.0, "",
            "Where the tissue comes from: procedural trabeculae, a flat bone slab (one surface), a PNG mask, or "
            "soft: the same marrow-like tissue (sinusoids, arterioles) with no bone, the soft-tissue control of the "
            "immunity experiments (docs/geometry.md)",
            NULL, geometry_sources },
    { "geometry.mask_png", BS_PT_STRING, 0.0, 0.0, 0.0, "",
            "PNG mask of a bone section when geometry.source = mask (path relative to the scenario file)", "", NULL },
    { "geometry.trab_thickness_um", BS_PT_REAL, 150.0, 30.0, 400.0, "um",
            "Mean trabecular thickness: 100-200 um (micro-CT histomorphometry, M~)", NULL, NULL },
    { "geometry.trab_spacing_um", BS_PT_REAL, 800.0, 200.0, 2000.0, "um",
            "Mean trabecular separation (marrow cavity size): 500-1000 um (M~)", NULL, NULL },
    { "geometry.slab_thickness_um", BS_PT_REAL, 200.0, 20.0, 2000.0, "um",
            "Bone slab thickness for geometry.source = flat", NULL, NULL },
    { "geometry.sinusoid_spacing_um", BS_PT_REAL, 200.0, 50.0, 2000.0, "um",
            "Mean distance between marrow sinusoids (A; dense sinusoidal network)", NULL, NULL },
    { "geometry.sinusoid_radius_um", BS_PT_REAL, 12.0, 5.0, 50.0, "um", "Sinusoid radius (A)", NULL, NULL },
    { "geometry.arteriole_spacing_um", BS_PT_REAL, 250.0, 0.0, 5000.0, "um",
            "Spacing of small endosteal arterioles (Spencer 2014: endosteum fed by small arteries, M✓ qualitative; "
            "spacing A, calibrated to B6 with o2.marrow_uptake_per_h on seeds 500-504); 0 = none",
            NULL, NULL },
    { "o2.sinusoid_mmHg", BS_PT_REAL, 10.0, 0.0, 760.0, "mmHg",
            "pO2 of the partly deoxygenated blood in the sinusoids: Spencer 2014 measured the deep perisinusoidal "
            "marrow at ~10 mmHg, the most hypoxic (M✓); the 20-30 mmHg start value (A) left the "
            "perisinusoidal marrow above the median. Calibrated to B6",
            NULL, NULL },
    { "o2.sinusoid_exchange_per_h", BS_PT_REAL, 100000.0, 0.0, 1e7, "1/h",
            "O2 exchange through the sinusoid wall per sinusoid site: a flux exchange x (blood pO2 - tissue pO2) "
            "(wall permeability x wall area per site volume, A; calibrated to B6 so the perisinusoidal marrow is "
            "the most hypoxic, Spencer 2014 M✓)",
            NULL, NULL },
    { "o2.endosteal_sinusoid_range_um", BS_PT_REAL, 100.0, 0.0, 500.0, "um",
            "Sinusoid sites within this distance of bone (the geometry as built) are the endosteal capillaries fed "
            "straight from the arterioles (type H vessels along the endosteum, Kusumbe 2014 Nature 507:323, M~ "
            "qualitative: less hypoxic than the deep type L sinusoids); their blood is o2.endosteal_sinusoid_"
            "arterial_frac of the way from sinusoid to arteriole pO2. 100 um A (the probe's deep marrow starts "
            "there); 0 = none",
            NULL, NULL },
    { "o2.endosteal_sinusoid_arterial_frac", BS_PT_REAL, 0.25, 0.0, 1.0, "1",
            "Blood pO2 of the endosteal sinusoids (o2.endosteal_sinusoid_range_um) as a fraction of the way from "
            "o2.sinusoid_mmHg (0) to o2.arteriole_mmHg (1): arteriolar blood entering the capillary bed there "
            "(Kusumbe 2014, M~ qualitative; Spencer 2014: the endosteum, fed by small arteries, is the less hypoxic "
            "region, M✓ qualitative); calibrated to B6 on seeds 500-504 (every seed's marrow median >= 15 mmHg at "
            "quick size, deep perisinusoidal marrow kept near 10 mmHg)",
            NULL, NULL },
    { "o2.arteriole_mmHg", BS_PT_REAL, 45.0, 0.0, 760.0, "mmHg", "pO2 held at arteriole sites (40-50 mmHg, A)", NULL,
            NULL },
    { "o2.marrow_uptake_per_h", BS_PT_REAL, 40.0, 0.0, 1e6, "1/h",
            "First-order O2 consumption of haematopoietic marrow; calibrated to B6 on seeds 500-504 (median marrow "
            "pO2 15-30 mmHg, perisinusoidal marrow the lowest compartment, Spencer 2014, M✓)",
            NULL, NULL },
    { "o2.perisinusoidal_uptake_per_h", BS_PT_REAL, 3000.0, 0.0, 1e6, "1/h",
            "O2 consumption of the marrow within o2.perisinusoidal_range_um of a sinusoid, where no model cell sits "
            "(replaces o2.marrow_uptake_per_h there): the haematopoietic cords, erythroblastic islands and "
            "megakaryocytes lie along the sinusoids (A), and Spencer 2014 ascribes the deep perisinusoidal minimum "
            "(~10 mmHg) to the O2 consumption of the densely cellular marrow (M✓ qualitative); value calibrated to B6 "
            "on seeds 500-504 (deep perisinusoidal marrow ~10 mmHg with the marrow median kept in 15-30)",
            NULL, NULL },
    { "o2.perisinusoidal_range_um", BS_PT_REAL, 20.0, 0.0, 200.0, "um",
            "Reach of the perisinusoidal haematopoietic cords from a sinusoid's centre line (1-3 cell diameters, A); "
            "0 = no perisinusoidal zone",
            NULL, NULL },
    { "o2.bone_uptake_per_h", BS_PT_REAL, 20.0, 0.0, 1e6, "1/h", "O2 consumption of bone (osteocytes), A", NULL, NULL },
    { "field.o2.D_um2_per_s", BS_PT_REAL, 2000.0, 1.0, 1e5, "um^2/s",
            "O2 diffusivity in tissue 1.5-2.5e-9 m^2/s (M~). Solved at quasi-steady state", NULL, NULL },
    { "field.o2.bone_permeability", BS_PT_REAL, 0.2, 0.0, 1.0, "1", "O2 diffusivity in bone relative to marrow (A)",
            NULL, NULL },
    FIELD_PARAMS("cxcl12", 5.0, 0.5, 0.05,
            "CXCL12 8 kDa: 20-70 um^2/s free in tissue, /4-10 for heparan-sulfate binding (D then A); t1/2 30 min, "
            "cleaved by CD26/MMPs (A). Calibrated to B7 so perivascular niches stand out (decay length ~110 um)"),
    FIELD_PARAMS("rankl", 0.2, 1.64, 0.05,
            "RANKL is mostly membrane-bound: D chosen for a decay length ~40 um; t1/2 1.6 h (Pivonka 2008, Mod✓)"),
    FIELD_PARAMS("opg", 30.0, 48.0, 0.05, "OPG 110 kDa: 3e-11 m^2/s, t1/2 2 d (Pivonka 2008, Mod✓): a regional field"),
    FIELD_PARAMS("tgfb", 30.0, 1.0, 0.05, "TGF-beta: 1-5e-11 m^2/s, active-form t1/2 0.5-2 h in tissue (D/A)"),
    FIELD_PARAMS("ifng", 40.0, 1.0, 0.05, "IFN-gamma 34 kDa: 4e-11 m^2/s, t1/2 0.5-2 h (A; Hoekstra 2020 spread, M✓)"),
    FIELD_PARAMS("pthrp", 40.0, 0.5, 0.05, "PTHrP 16 kDa: 3-6e-11 m^2/s, t1/2 15-60 min (D/A)"),
    FIELD_PARAMS("suppr", 40.0, 1.0, 0.05, "Immunosuppression (IL-10/TGF-beta/PGE2 lumped): 4e-11 m^2/s, t1/2 1 h (A)"),
    FIELD_PARAMS("chemokine", 50.0, 0.75, 0.05,
            "Tumour chemokines (CXCL9/10, CCL2/5 lumped; 8-10 kDa like CXCL12): 20-70 um^2/s, t1/2 30-60 min (D/A)"),
    { "pthrp.rankl_gain", BS_PT_REAL, 4.0, 0.0, 1e3, "1",
            "Extra RANKL made by osteoblast-lineage cells (lining cells, osteoblasts and the canopy over a BRC in "
            "resorption, osteoblast lineage too: Hauge 2001 J Bone Miner Res 16:1575) at saturating PTHrP (Guise "
            "2000, M✓ qualitative; value A)",
            NULL, NULL },
    { "pthrp.opg_cut", BS_PT_REAL, 3.0, 0.0, 1e3, "1",
            "OPG divided by 1 + opg_cut at saturating PTHrP (Guise 2000, M✓ qualitative; value A)", NULL, NULL },
    { "pthrp.half_au", BS_PT_REAL, 0.2, 1e-6, 1e6, "au", "PTHrP level for half its effect on RANKL and OPG (A)", NULL,
            NULL },
    { "cxcl12.car_per_h", BS_PT_REAL, 3.0, 0.0, 1e3, "au/h",
            "CXCL12 secreted at marrow sites next to vessels (perisinusoidal/periarteriolar CAR cells, the largest "
            "CXCL12 source per cell: Sugiyama 2006, Greenbaum 2013, M✓ qualitative). With bmu.lining_cxcl12_per_h and "
            "cxcl12.endosteal_stroma_per_h it sets the homing balance perivascular vs endosteal; calibrated to B7 on "
            "seeds 500-504 (docs/calibration.md, Niche)",
            NULL, NULL },
    { "cxcl12.endosteal_stroma_per_h", BS_PT_REAL, 1.0, 0.0, 1e3, "au/h",
            "CXCL12 secreted at every endosteal marrow site, quiet or remodeling, by the CAR/stromal reticular cells "
            "that line the bone (Sugiyama 2006: CAR cells also along the endosteum, M✓ qualitative; value A, "
            "calibrated with cxcl12.car_per_h to B7)",
            NULL, NULL },
    { "ifng.basal_per_h", BS_PT_REAL, 0.0, 0.0, 1e3, "au/h",
            "IFN-gamma secreted at every marrow site (an experimental knob; immune cells add their own)", NULL, NULL },
    { "ifng.prolif_half_au", BS_PT_REAL, 1.0, 1e-6, 1e6, "au",
            "IFN-gamma level that halves tumour-cell division (IFN-gamma from NK and T cells inhibits tumour "
            "proliferation, "
            "Xue 2024 3.2, M✓ qualitative; value A)",
            NULL, NULL },
    { "solver.tol", BS_PT_REAL, 1e-4, 1e-8, 1e-1, "1",
            "Field solver: stop when the largest change in a sweep is below tol x the field's scale", NULL, NULL },
    { "solver.max_iters", BS_PT_INT, 200.0, 1.0, 100000.0, "1", "Field solver: sweeps per solve at most", NULL, NULL },
    { "solver.skip_budget", BS_PT_REAL, 1.0, 0.0, 10.0, "1",
            "Field solver: a solve whose inputs are the last one's, which settled in one sweep, is skipped while "
            "the summed bound on the changes left out stays below skip_budget x tol x the field's scale (0: "
            "never skip; numerical choice, issue 19: 1 keeps a skipped field within one tolerance of a solved "
            "one; error measured against a converged solve in bench/README.md)",
            NULL, NULL },
};
const size_t bs_world_nparams = sizeof bs_world_params / sizeof bs_world_params[0];

static double decay_from_half_life(double half_h)
{
    return log(2.0) / half_h;
}

static const char *const field_names[BS_FIELD_COUNT] = { "o2", "cxcl12", "rankl", "opg", "tgfb", "ifng", "pthrp",
    "suppr", "chemokine" };

int bs_model_field_sets(const bs_paramset *ps)
{
    /* init_fields: every field's D_factor is 1 but in bone, the boundary
     * zero-flux, so the key is (D, bone permeability) */
    double d[BS_FIELD_COUNT], b[BS_FIELD_COUNT];
    char key[96];
    int sets = 0;
    for (int f = 0; f < BS_FIELD_COUNT; f++) {
        snprintf(key, sizeof key, "field.%s.D_um2_per_s", field_names[f]);
        d[f] = bs_param(ps, key);
        snprintf(key, sizeof key, "field.%s.bone_permeability", field_names[f]);
        b[f] = bs_param(ps, key);
        int first = 1;
        for (int g = 0; g < f && first; g++) first = !(d[g] == d[f] && b[g] == b[f]);
        sets += first;
    }
    return sets;
}

static bs_status init_fields(bs_model *m, bs_error *err)
{
    const bs_paramset *ps = m->ps;
    const char *const *names = field_names;
    static const char *const units[BS_FIELD_COUNT] = { "mmHg", "au", "au", "au", "au", "au", "au", "au", "au" };
    static const double scales[BS_FIELD_COUNT] = { O2_SCALE_MMHG, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 };
    char key[96];
    for (int f = 0; f < BS_FIELD_COUNT; f++) {
        bs_field_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.name = names[f];
        spec.unit = units[f];
        snprintf(key, sizeof key, "field.%s.D_um2_per_s", names[f]);
        spec.D_um2_per_s = bs_param(ps, key);
        snprintf(key, sizeof key, "field.%s.bone_permeability", names[f]);
        double bone = bs_param(ps, key);
        for (int t = 0; t < BS_TISSUE_COUNT; t++) spec.D_factor[t] = 1.0;
        spec.D_factor[BS_TISSUE_BONE] = bone;
        if (f == BS_FIELD_O2) {
            spec.decay_per_h = 0.0;
            spec.quasi_steady = 1;
        } else {
            snprintf(key, sizeof key, "field.%s.half_life_h", names[f]);
            spec.decay_per_h = decay_from_half_life(bs_param(ps, key));
        }
        spec.boundary = BS_BC_ZERO_FLUX;
        spec.scale = scales[f];
        float init = f == BS_FIELD_O2 ? (float)bs_param(ps, "o2.sinusoid_mmHg") : 0.0f;
        bs_status st = bs_field_init(&m->fields[f], &spec, m->lat.w, m->lat.h, init, err);
        if (st != BS_OK) return st;
    }
    /* the fields are solved one after another on each thread, so they
     * share the solver's per-solve arrays, one set per thread that may
     * solve a whole field at once, one in all on lattices whose solves
     * share their rows among the threads (issue 19: memory; the same
     * results) */
    const int slots = bs_field_scratch_slots(m->lat.w, m->lat.h, BS_FIELD_COUNT, omp_get_max_threads());
    bs_status st = bs_field_share_scratch(m->fields, BS_FIELD_COUNT, slots, err);
    if (st != BS_OK) return st;
    /* one tissue copy for all fields, one set of conductances per
     * diffusivity (with the defaults OPG and TGF-beta share one, IFN-gamma,
     * PTHrP and suppression another; issue 19: memory, the same results) */
    st = bs_field_share_conductances(m->fields, BS_FIELD_COUNT, err);
    if (st != BS_OK) return st;
    /* No rule gives a field other than O2 an uptake or a Dirichlet site
     * (assemble_sources writes only O2's): those eight fields share one
     * read-only zero block for the three arrays (issue 19: 9 bytes per
     * site per field; the same results). A rule that starts writing one
     * must move that field out of this range (a write to the block
     * faults). */
    _Static_assert(BS_FIELD_O2 == 0, "the fields after O2 share zero inputs");
    return bs_field_share_zero_inputs(m->fields + 1, BS_FIELD_COUNT - 1, err);
}

static void derive_world(bs_model *m)
{
    const bs_paramset *ps = m->ps;
    bs_rules *r = &m->r;
    r->o2_sinusoid = (float)bs_param(ps, "o2.sinusoid_mmHg");
    r->o2_sinusoid_exchange = (float)bs_param(ps, "o2.sinusoid_exchange_per_h");
    r->o2_endosteal_sinusoid_frac = (float)bs_param(ps, "o2.endosteal_sinusoid_arterial_frac");
    r->o2_arteriole = (float)bs_param(ps, "o2.arteriole_mmHg");
    r->o2_marrow_uptake = (float)bs_param(ps, "o2.marrow_uptake_per_h");
    r->o2_bone_uptake = (float)bs_param(ps, "o2.bone_uptake_per_h");
    r->o2_perisinusoidal_uptake = (float)bs_param(ps, "o2.perisinusoidal_uptake_per_h");
    r->cxcl12_vessel = (float)bs_param(ps, "cxcl12.car_per_h");
    r->cxcl12_endosteal = (float)bs_param(ps, "cxcl12.endosteal_stroma_per_h");
    r->ifng_basal = (float)bs_param(ps, "ifng.basal_per_h");
    r->pthrp_rankl_gain = (float)bs_param(ps, "pthrp.rankl_gain");
    r->pthrp_opg_cut = (float)bs_param(ps, "pthrp.opg_cut");
    r->pthrp_K = (float)bs_param(ps, "pthrp.half_au");
    r->ifng_prolif_K = (float)bs_param(ps, "ifng.prolif_half_au");
    m->solver.tol = bs_param(ps, "solver.tol");
    m->solver.max_iters = (int)bs_param(ps, "solver.max_iters");
    m->solver.omega = 0.0;
    m->solver.skip_budget = bs_param(ps, "solver.skip_budget");
}

/* Every rule's per-step parameters from m->ps: the world, the surface,
 * then each cell type in registry order. */
static void derive_rules(bs_model *m)
{
    double h_um = bs_param(m->ps, "lattice.h_um");
    derive_world(m);
    bs_bmu_derive(m->ps, &m->r, m->dt_h, h_um);
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_celltype *ct = bs_celltype_of(t);
        if (ct->derive) ct->derive(m->ps, &m->r, m->dt_h, h_um);
    }
}

static bs_status list_vessels(bs_model *m, bs_error *err)
{
    long n = (long)m->lat.w * m->lat.h, k = 0;
    for (long i = 0; i < n; i++) k += m->lat.tissue[i] == BS_TISSUE_VESSEL;
    m->vessels = malloc((size_t)(k > 0 ? k : 1) * sizeof *m->vessels);
    if (!m->vessels) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    m->n_vessels = 0;
    for (long i = 0; i < n; i++)
        if (m->lat.tissue[i] == BS_TISSUE_VESSEL) m->vessels[m->n_vessels++] = (int)i;
    return BS_OK;
}

static bs_status model_create(bs_model **out, const bs_paramset *ps, const uint8_t *classes, int burn, bs_error *err)
{
    *out = NULL;
    bs_model *m = calloc(1, sizeof *m);
    if (!m) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    m->ps = bs_paramset_clone(ps);
    if (!m->ps) {
        free(m);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    }
    int w = (int)bs_param(ps, "lattice.width_sites"), h = (int)bs_param(ps, "lattice.height_sites");
    double h_um = bs_param(ps, "lattice.h_um");
    m->seed = (uint64_t)bs_param(ps, "run.seed");
    m->dt_h = bs_param(ps, "run.dt_h");
    bs_status st = bs_lattice_init(&m->lat, w, h, h_um, err);
    if (st != BS_OK) goto fail;
    const char *src = bs_param_str(ps, "geometry.source");
    if (classes) {
        st = bs_lattice_from_classes(&m->lat, classes, err);
    } else if (strcmp(src, "mask") == 0) {
        st = bs_fail(err, BS_ERR_INVALID, "geometry.source = mask but no mask image was loaded");
    } else {
        bs_geometry_opts g = {
            .trab_thickness_um = bs_param(ps, "geometry.trab_thickness_um"),
            .trab_spacing_um = bs_param(ps, "geometry.trab_spacing_um"),
            .sinusoid_spacing_um = bs_param(ps, "geometry.sinusoid_spacing_um"),
            .sinusoid_radius_um = bs_param(ps, "geometry.sinusoid_radius_um"),
            .arteriole_spacing_um = bs_param(ps, "geometry.arteriole_spacing_um"),
            .flat_surface = strcmp(src, "flat") == 0,
            .no_bone = strcmp(src, "soft") == 0,
            .slab_thickness_um = bs_param(ps, "geometry.slab_thickness_um"),
        };
        st = bs_lattice_generate(&m->lat, &g, m->seed, err);
    }
    if (st != BS_OK) goto fail;
    bs_lattice_mark_perisinusoidal(&m->lat, bs_param(ps, "o2.perisinusoidal_range_um"));
    (void)bs_lattice_mark_endosteal_vessels(&m->lat, bs_param(ps, "o2.endosteal_sinusoid_range_um"));
    /* At most one agent per site, so w*h slots can never overflow; the
     * slots take memory only as agents appear (engine/store.h). */
    st = bs_store_init(&m->store, w, h, w * h, err);
    if (st != BS_OK) goto fail;
    st = init_fields(m, err);
    if (st != BS_OK) goto fail;
    m->ntiles = ((w + BS_TILE - 1) / BS_TILE) * ((h + BS_TILE - 1) / BS_TILE);
    m->tile_totals = calloc((size_t)m->ntiles, sizeof *m->tile_totals);
    m->scratch = malloc((size_t)w * (size_t)h * sizeof(float));
    m->release = calloc((size_t)w * (size_t)h, sizeof(float));
    m->src_row_nz = malloc((size_t)(BS_ZSRC_COUNT + 1) * (size_t)h);
    if (m->src_row_nz) {
        m->release_row_nz = m->src_row_nz + (size_t)BS_ZSRC_COUNT * (size_t)h;
        /* the sources and the release start as calloc's zeros: known zero
         * (marking them unknown would have the first step zero, and so
         * make resident, every page of them) */
        memset(m->src_row_nz, 0, (size_t)(BS_ZSRC_COUNT + 1) * (size_t)h);
    }
    /* BMU records: a pool with room for one per site, memory only for
     * those used (agents/bmu.c) */
    m->bmu_cap = w * h;
    m->bmu_mem_bytes = (size_t)m->bmu_cap * (sizeof *m->bmu_pool + sizeof *m->bmu_origin);
    m->bmu_mem = bs_reserve(m->bmu_mem_bytes, &m->bmu_mem_mapped);
    if (m->bmu_mem) {
        m->bmu_pool = m->bmu_mem;
        m->bmu_origin = (int32_t *)(void *)(m->bmu_pool + m->bmu_cap);
    }
    m->bmu_idx = malloc((size_t)w * (size_t)h * sizeof *m->bmu_idx);
    if (m->bmu_idx)
        for (long i = 0; i < (long)w * h; i++) m->bmu_idx[i] = -1;
    m->eroded = calloc((size_t)w * (size_t)h, sizeof(float));
    /* the BMU survey's site list (inside bs_bmu_update) and the observers'
     * medians (between steps) are never in use at once: one buffer
     * (issue 19: 4 bytes per site) */
    _Static_assert(sizeof(float) == sizeof(int32_t), "one scratch buffer for floats and int32s");
    m->bmu_work = (int32_t *)(void *)m->scratch;
    if (!m->tile_totals || !m->scratch || !m->release || !m->src_row_nz || !m->bmu_mem || !m->bmu_idx || !m->eroded || !m->bmu_work) {
        st = bs_fail(err, BS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st = bs_shove_init(m, err);
    if (st != BS_OK) goto fail;
    for (int t = 0; t < bs_celltype_count(); t++) {
        size_t nb = bs_celltype_of(t)->rules_bytes;
        if (nb == 0) continue;
        m->r.own[t] = calloc(1, nb);
        if (!m->r.own[t]) {
            st = bs_fail(err, BS_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    derive_rules(m);
    st = bs_therapy_check(ps, err);
    if (st != BS_OK) goto fail;
    bs_therapy_init(m);
    st = list_vessels(m, err);
    if (st != BS_OK) goto fail;
    if (burn) {
        /* bone and fields only; day 0 (and every other clock) starts after */
        uint64_t n = (uint64_t)llround(24.0 * bs_param(ps, "run.burn_in_d") / m->dt_h);
        m->burning = 1;
        for (uint64_t k = 0; k < n; k++) bs_model_step(m);
        m->burning = 0;
        m->step0 = m->step;
        m->last = (bs_step_totals){ 0 };
    }
    /* the day-0 bone, against which the images show what was lost */
    for (long i = 0; i < (long)m->lat.w * m->lat.h; i++)
        if (m->lat.tissue[i] == BS_TISSUE_BONE) m->lat.flags[i] |= BS_FLAG_BONE0;
    bs_bmu_open_initial(m);
    for (int t = 0; t < bs_celltype_count(); t++)
        if (bs_celltype_of(t)->seed) bs_celltype_of(t)->seed(m);
    *out = m;
    return BS_OK;
fail:
    bs_model_destroy(m);
    return st;
}

bs_status bs_model_create(bs_model **out, const bs_paramset *ps, const uint8_t *classes, bs_error *err)
{
    return model_create(out, ps, classes, 1, err);
}

bs_status bs_model_create_unburnt(bs_model **out, const bs_paramset *ps, const uint8_t *classes, bs_error *err)
{
    return model_create(out, ps, classes, 0, err);
}

/* Live parameter change (the viewer's sliders, a replayed log): the
 * derived rules are rebuilt from the changed set; no state is touched.
 * What was built into the world at creation (lattice, geometry, field
 * solver set-up, time step, seed) cannot change mid-run. */
bs_status bs_model_set_param(bs_model *m, const char *name, double value, bs_error *err)
{
    static const char *const fixed[] = { "lattice.", "geometry.", "run.", "field.", "solver." };
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        if (strncmp(name, fixed[k], strlen(fixed[k])) == 0)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s cannot change while the model runs (valid: parameters of rules, not %s*)", name, fixed[k]);
    /* the O2 zones marked on the lattice when the model is created */
    static const char *const built[] = { "o2.perisinusoidal_range_um", "o2.endosteal_sinusoid_range_um" };
    for (size_t k = 0; k < sizeof built / sizeof built[0]; k++)
        if (strcmp(name, built[k]) == 0)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s cannot change while the model runs (valid: parameters of rules; this one is marked on the "
                    "lattice when the model is created)",
                    name);
    /* Therapy parameters are read once into m->r.tx together with the
     * therapy state (bs_therapy_init); a live change goes through
     * bs_therapy_switch instead. */
    size_t ntp;
    const bs_param_def *tp = bs_therapy_params(&ntp);
    for (size_t k = 0; k < ntp; k++)
        if (strcmp(tp[k].name, name) == 0)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s cannot change while the model runs (valid: parameters of rules; therapies are "
                    "switched on and off live instead)",
                    name);
    bs_status st = bs_param_set(m->ps, name, value, err);
    if (st != BS_OK) return st;
    derive_rules(m);
    /* The therapies scale these from their untreated values at every
     * step (bs_therapy_step): the untreated values follow the change. */
    bs_therapy_rebase(m);
    return BS_OK;
}

void bs_model_rows_unknown(bs_model *m)
{
    if (m && m->src_row_nz) memset(m->src_row_nz, 1, (size_t)(BS_ZSRC_COUNT + 1) * (size_t)m->lat.h);
}

void bs_model_destroy(bs_model *m)
{
    if (!m) return;
    for (int f = 0; f < BS_FIELD_COUNT; f++) bs_field_free(&m->fields[f]);
    bs_store_free(&m->store);
    bs_lattice_free(&m->lat);
    bs_paramset_destroy(m->ps);
    free(m->tile_totals);
    free(m->scratch);
    free(m->release);
    free(m->src_row_nz); /* release_row_nz is part of it */
    free(m->vessels);
    bs_unreserve(m->bmu_mem, m->bmu_mem_bytes, m->bmu_mem_mapped);
    free(m->bmu_idx);
    free(m->eroded); /* bmu_work is m->scratch */
    bs_shove_free(m);
    for (int t = 0; t < BS_MAX_CELL_TYPES; t++) free(m->r.own[t]);
    free(m);
}

/* Phase 1a: sources, sinks and Dirichlet sites of every field from the
 * tissue and the cells on it. Each site writes only itself. Work-shared
 * over the rows of the caller's parallel region (bs_model_step); ends at
 * the loop's barrier.
 *
 * Two passes per row (issue 19: the one general loop, with its switch and
 * a dozen pointers spilled to the stack, was 23% of a homeostasis run at
 * one thread): a branch-free pass gives every site of the row's interior
 * the sources of a bare site (tissue, vessel neighbours, flags), then the
 * general code, sources_at, redoes the sites that carry a surface or a
 * cell and the row's two edge sites. sources_at is the former loop body,
 * term by term in the same order, and the bare pass computes the same
 * expressions the general code computes for a bare site (0.0f + car, the
 * release plus a zero tumour term), so the bits are those of the single
 * loop. The matrix release is cleared after both passes.
 *
 * Zero rows (issue 19): seven sources (RANKL, OPG, TGF-beta, IFN-gamma,
 * PTHrP, suppression, tumour chemokine) are zero at a bare site (TGF-beta
 * where the row released nothing, IFN-gamma while its basal source is 0),
 * and in many runs zero everywhere. For each of them and each row the
 * model keeps whether the row's interior may hold a non-zero value
 * (bs_model.src_row_nz); the bare pass zeroes a row only where it may, and
 * sources_at writes a site only where the bits change, marking the row
 * when the value is not +0.0f. The release is cleared the same way
 * (release_row_nz, marked by the osteoclast that resorbs). The values are
 * the same; pages of a source that stays zero are never written, so they
 * cost no memory (calloc's zero pages), and a step stores less. */
typedef struct {
    const bs_model *m;
    const bs_rules *r;
    void (*src_of[BS_MAX_CELL_TYPES])(const bs_model *, int, int, bs_site_sources *);
    const bs_lattice *lat;
    const uint8_t *tissue, *surface, *type, *flags;
    const int32_t *occ;
    const float *pthrp_c;
    float *release;
    float *o2_uptake, *o2_src_a, *o2_fixed_val;
    uint8_t *o2_fixed;
    float *cx_a, *rk_a, *og_a, *tgfb_a, *ifn_a, *pthrp_a, *sup_a, *chem_a;
    float exchange, exchange_src, exchange_src_h, arteriole, bone_up, marrow_up, peri_up;
    float ifng_basal, car, endosteal;
    uint8_t *nz, *release_nz; /* bs_model.src_row_nz, release_row_nz */
    int ifng_bare_zero; /* the bare-site IFN-gamma source is +0.0f */
} src_ctx;

static inline uint32_t bits_of(float v)
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* *a = v, writing memory only where the bits change, and marking the row
 * (*row_nz) when v is not +0.0f: a source that stays zero leaves its pages
 * unwritten (issue 19), the same values either way */
static inline void put_z(float *a, float v, uint8_t *row_nz)
{
    const uint32_t vb = bits_of(v);
    if (vb) *row_nz = 1;
    if (bits_of(*a) != vb) *a = v;
}

/* every source of site (x, y), from scratch: the general case */
static void sources_at(const src_ctx *c, int x, int y)
{
    const bs_lattice *lat = c->lat;
    const bs_rules *r = c->r;
    const int i = y * lat->w + x;
    const uint8_t *const flags = c->flags;
    const int32_t *const occ = c->occ;
    const uint8_t *const type = c->type;
    const float exchange = c->exchange, exchange_src = c->exchange_src, exchange_src_h = c->exchange_src_h;
    const float arteriole = c->arteriole, bone_up = c->bone_up, marrow_up = c->marrow_up, peri_up = c->peri_up;
    const float ifng_basal = c->ifng_basal, car = c->car, endosteal = c->endosteal;
    const uint8_t t = c->tissue[i], surf = c->surface[i];
    float o2_src = 0.0f, o2_up = 0.0f, cx = 0.0f, rk = 0.0f, og = 0.0f, ifn = 0.0f, sup = 0.0f, chem = 0.0f;
    uint8_t fixed = 0;
    float fixed_val = 0.0f;
    switch (t) {
    case BS_TISSUE_VESSEL:
        /* sinusoid: partly deoxygenated blood exchanging O2 through
         * its wall, a flux r (pO2_blood - pO2), not a held value */
        o2_up = exchange;
        o2_src = flags[i] & BS_FLAG_ENDOSTEAL_VESSEL ? exchange_src_h : exchange_src;
        break;
    case BS_TISSUE_ARTERIOLE:
        fixed = 1;
        fixed_val = arteriole;
        break;
    case BS_TISSUE_BONE: o2_up = bone_up; break;
    default:
        /* the haematopoietic cords along the sinusoids consume
         * more; a model cell on the site displaces them */
        o2_up = (flags[i] & BS_FLAG_PERISINUSOIDAL) && occ[i] < 0 ? peri_up : marrow_up;
        ifn = ifng_basal;
        if (bs_next_to_vessel_xy(lat, x, y)) cx += car;
        break;
    }
    float pthrp_src = 0.0f, tgfb_src = 0.0f;
    const int slot = occ[i];
    const int agent = slot >= 0 && type[slot] < BS_MAX_CELL_TYPES && c->src_of[type[slot]];
    if (surf != BS_SURF_NONE || agent) {
        /* PTHrP makes the osteoblast lineage (lining cells,
         * osteoblasts) express more RANKL and less OPG */
        const float pt = c->pthrp_c[i];
        const float pth = pt > 0.0f ? pt / (pt + r->pthrp_K) : 0.0f;
        const float lin_rk = 1.0f + r->pthrp_rankl_gain * pth, lin_og = 1.0f / (1.0f + r->pthrp_opg_cut * pth);
        if (surf != BS_SURF_NONE) cx += endosteal;
        if (surf == BS_SURF_QUIESCENT) {
            rk += r->lining_rankl * lin_rk;
            og += r->lining_opg * lin_og;
            cx += r->lining_cxcl12;
        } else if (surf == BS_SURF_RESORPTION) {
            /* the canopy over a BRC is osteoblast lineage too */
            rk += r->brc_rankl * lin_rk;
        }
        if (agent) {
            bs_site_sources a = { .o2_uptake = o2_up,
                .o2_src = o2_src,
                .cxcl12 = cx,
                .rankl = rk,
                .opg = og,
                .ifng = ifn,
                .suppr = sup,
                .chemokine = chem,
                .pthrp = pthrp_src,
                .tgfb = tgfb_src,
                .lineage_rankl = lin_rk,
                .lineage_opg = lin_og };
            c->src_of[type[slot]](c->m, slot, i, &a);
            o2_up = a.o2_uptake;
            o2_src = a.o2_src;
            cx = a.cxcl12;
            rk = a.rankl;
            og = a.opg;
            ifn = a.ifng;
            sup = a.suppr;
            chem = a.chemokine;
            pthrp_src = a.pthrp;
            tgfb_src = a.tgfb;
        }
    }
    c->o2_uptake[i] = o2_up;
    c->o2_src_a[i] = o2_src;
    c->o2_fixed[i] = fixed;
    c->o2_fixed_val[i] = fixed_val;
    c->cx_a[i] = cx;
    uint8_t *nz = c->nz + y;
    const size_t h = (size_t)lat->h;
    put_z(c->rk_a + i, rk, nz + BS_ZSRC_RANKL * h);
    put_z(c->og_a + i, og, nz + BS_ZSRC_OPG * h);
    put_z(c->tgfb_a + i, c->release[i] + tgfb_src, nz + BS_ZSRC_TGFB * h);
    if (bits_of(c->release[i])) c->release[i] = 0.0f;
    put_z(c->ifn_a + i, ifn, nz + BS_ZSRC_IFNG * h);
    put_z(c->pthrp_a + i, pthrp_src, nz + BS_ZSRC_PTHRP * h);
    put_z(c->sup_a + i, sup, nz + BS_ZSRC_SUPPR * h);
    put_z(c->chem_a + i, chem, nz + BS_ZSRC_CHEMOKINE * h);
}

/* Kernels of the bare pass: one output each, so the compiler vectorises
 * them (one loop writing thirteen arrays from bytes did not vectorise and
 * spilled its pointers). */
static void bare_o2(const uint8_t *restrict t, const uint8_t *restrict fl, float *restrict up, float *restrict os,
        uint8_t *restrict fx, float *restrict fv, int n, const src_ctx *c)
{
    const float exchange = c->exchange, exchange_src = c->exchange_src, exchange_src_h = c->exchange_src_h;
    const float arteriole = c->arteriole, bone_up = c->bone_up, marrow_up = c->marrow_up, peri_up = c->peri_up;
    for (int x = 0; x < n; ++x) {
        const uint8_t ti = t[x];
        const float marrow_o2 = (fl[x] & BS_FLAG_PERISINUSOIDAL) ? peri_up : marrow_up;
        up[x] = ti == BS_TISSUE_VESSEL      ? exchange
                : ti == BS_TISSUE_BONE      ? bone_up
                : ti == BS_TISSUE_ARTERIOLE ? 0.0f
                                            : marrow_o2;
    }
    for (int x = 0; x < n; ++x) {
        const float v = (fl[x] & BS_FLAG_ENDOSTEAL_VESSEL) ? exchange_src_h : exchange_src;
        os[x] = t[x] == BS_TISSUE_VESSEL ? v : 0.0f;
    }
    for (int x = 0; x < n; ++x) fx[x] = (uint8_t)(t[x] == BS_TISSUE_ARTERIOLE);
    for (int x = 0; x < n; ++x) fv[x] = t[x] == BS_TISSUE_ARTERIOLE ? arteriole : 0.0f;
}

#define BS_VES(v) ((v) == BS_TISSUE_VESSEL || (v) == BS_TISSUE_ARTERIOLE)
#define BS_MARROW(v) ((v) != BS_TISSUE_VESSEL && (v) != BS_TISSUE_ARTERIOLE && (v) != BS_TISSUE_BONE)
/* CXCL12 of the perivascular (CAR) cells: t points at the row's first
 * site, u and d at the rows above and below (or at t, with has_u / has_d 0) */
static void bare_cxcl12(const uint8_t *restrict t, const uint8_t *restrict u, const uint8_t *restrict d, int has_u,
        int has_d, float *restrict cx, int n, float car_sum)
{
    for (int x = 0; x < n; ++x) {
        const int nv = BS_VES(t[x - 1]) | BS_VES(t[x + 1]) | (has_u & BS_VES(u[x])) | (has_d & BS_VES(d[x]));
        cx[x] = (BS_MARROW(t[x]) & nv) ? car_sum : 0.0f;
    }
}

static void bare_ifng(const uint8_t *restrict t, float *restrict ifn, int n, float basal)
{
    for (int x = 0; x < n; ++x) ifn[x] = BS_MARROW(t[x]) ? basal : 0.0f;
}
#undef BS_VES
#undef BS_MARROW

static void bare_tgfb(const float *restrict rel, float *restrict tg, int n)
{
    for (int x = 0; x < n; ++x) tg[x] = rel[x] + 0.0f; /* the release plus a zero tumour term */
}

/* Zeroes a row's interior unless it is known to be zero already (then its
 * pages, if never written, stay unwritten); sources_at marks it again if it
 * writes a value that is not zero */
static void zero_row(float *a, size_t bytes, uint8_t *row_nz)
{
    if (!*row_nz) return;
    memset(a, 0, bytes);
    *row_nz = 0;
}

/* The bare-site sources of sites x0 .. x1-1 of row y (0 < x0, x1 < w: every
 * site has its four edge neighbours), the tissue's terms only. */
static void bare_sources_row(const src_ctx *c, int y, int x0, int x1)
{
    const int w = c->lat->w, h = c->lat->h, n = x1 - x0;
    const size_t i0 = (size_t)y * (size_t)w + (size_t)x0;
    const uint8_t *t = c->tissue + i0;
    const int has_up = y > 0, has_dn = y < h - 1;
    const size_t zb = (size_t)n * sizeof(float);
    bare_o2(t, c->flags + i0, c->o2_uptake + i0, c->o2_src_a + i0, c->o2_fixed + i0, c->o2_fixed_val + i0, n, c);
    bare_cxcl12(t, has_up ? t - w : t, has_dn ? t + w : t, has_up, has_dn, c->cx_a + i0, n, 0.0f + c->car);
    uint8_t *nz = c->nz + y;
    const size_t hh = (size_t)h;
    /* a bare site's IFN-gamma is the basal source (zero by default) and its
     * TGF-beta the matrix release (zero in a row where nothing resorbed):
     * either is then a zero row like the other five */
    if (c->ifng_bare_zero)
        zero_row(c->ifn_a + i0, zb, nz + BS_ZSRC_IFNG * hh);
    else {
        bare_ifng(t, c->ifn_a + i0, n, c->ifng_basal);
        nz[BS_ZSRC_IFNG * hh] = 1;
    }
    if (!c->release_nz[y])
        zero_row(c->tgfb_a + i0, zb, nz + BS_ZSRC_TGFB * hh);
    else {
        bare_tgfb(c->release + i0, c->tgfb_a + i0, n);
        nz[BS_ZSRC_TGFB * hh] = 1;
    }
    zero_row(c->rk_a + i0, zb, nz + BS_ZSRC_RANKL * hh);
    zero_row(c->og_a + i0, zb, nz + BS_ZSRC_OPG * hh);
    zero_row(c->pthrp_a + i0, zb, nz + BS_ZSRC_PTHRP * hh);
    zero_row(c->sup_a + i0, zb, nz + BS_ZSRC_SUPPR * hh);
    zero_row(c->chem_a + i0, zb, nz + BS_ZSRC_CHEMOKINE * hh);
}

static void assemble_sources(bs_model *m)
{
    const bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    const bs_rules *r = &m->r;
    bs_field *F = m->fields;
    const int w = lat->w, h = lat->h;
    src_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.r = r;
    c.lat = lat;
    /* each type's contribution (celltypes.h), looked up once */
    for (int t = 0; t < bs_celltype_count(); t++) c.src_of[t] = bs_celltype_of(t)->sources;
    c.tissue = lat->tissue;
    c.surface = lat->surface;
    c.type = s->type;
    c.flags = lat->flags;
    c.occ = s->occ;
    c.pthrp_c = F[BS_FIELD_PTHRP].c;
    c.release = m->release;
    c.o2_uptake = F[BS_FIELD_O2].uptake;
    c.o2_src_a = F[BS_FIELD_O2].src;
    c.o2_fixed = F[BS_FIELD_O2].fixed;
    c.o2_fixed_val = F[BS_FIELD_O2].fixed_val;
    c.cx_a = F[BS_FIELD_CXCL12].src;
    c.rk_a = F[BS_FIELD_RANKL].src;
    c.og_a = F[BS_FIELD_OPG].src;
    c.tgfb_a = F[BS_FIELD_TGFB].src;
    c.ifn_a = F[BS_FIELD_IFNG].src;
    c.pthrp_a = F[BS_FIELD_PTHRP].src;
    c.sup_a = F[BS_FIELD_SUPPR].src;
    c.chem_a = F[BS_FIELD_CHEMOKINE].src;
    c.exchange = r->o2_sinusoid_exchange;
    c.exchange_src = r->o2_sinusoid_exchange * r->fx.o2_sinusoid;
    /* endosteal (type H) sinusoids: blood part of the way to the arterioles'
     * pO2; both ends already carry any therapy's factor (hyperoxia) */
    c.exchange_src_h = r->o2_sinusoid_exchange *
            (r->fx.o2_sinusoid + r->o2_endosteal_sinusoid_frac * (r->fx.o2_arteriole - r->fx.o2_sinusoid));
    c.arteriole = r->fx.o2_arteriole;
    c.bone_up = r->o2_bone_uptake;
    c.marrow_up = r->o2_marrow_uptake;
    c.peri_up = r->o2_perisinusoidal_uptake;
    c.ifng_basal = r->ifng_basal;
    c.car = r->cxcl12_vessel;
    c.endosteal = r->cxcl12_endosteal;
    c.nz = m->src_row_nz;
    c.release_nz = m->release_row_nz;
    c.ifng_bare_zero = bits_of(c.ifng_basal) == 0;
    const uint8_t *const surface = lat->surface;
    const int32_t *const occ = s->occ;
#pragma omp for schedule(static)
    for (int y = 0; y < h; y++) {
        const size_t i0 = (size_t)y * (size_t)w;
        if (w > 2) bare_sources_row(&c, y, 1, w - 1);
        sources_at(&c, 0, y);
        /* the sites with a surface or a cell: eight at a time, by the
         * surface bytes and the occupancy bits (engine/store.h) */
        const uint8_t *srow = surface + i0;
        const uint64_t *bits = s->occ_bits + (size_t)y * (size_t)s->bits_stride;
        int x = 1;
        while (x < w - 1) {
            if (x % 8 == 0 && x + 8 <= w - 1) {
                uint64_t sb;
                memcpy(&sb, srow + x, sizeof sb);
                if (sb == 0 && ((bits[x / 64] >> (x % 64)) & 0xffu) == 0) {
                    x += 8;
                    continue;
                }
            }
            if (srow[x] != BS_SURF_NONE || occ[i0 + (size_t)x] >= 0) sources_at(&c, x, y);
            x++;
        }
        if (w > 1) sources_at(&c, w - 1, y);
        if (m->release_row_nz[y]) {
            memset(m->release + i0, 0, (size_t)w * sizeof(float));
            m->release_row_nz[y] = 0;
        }
    }
}

typedef struct {
    bs_model *m;
    uint32_t stamp;
    void (*act[BS_MAX_CELL_TYPES])(bs_model *, int, bs_step_totals *); /* by type (celltypes.h) */
} tile_ctx;
_Static_assert(BS_SURF_NONE == 0, "tile_rules skips runs of eight zero surface bytes");
_Static_assert(BS_TILE - BS_TILE_REACH >= 8,
        "tile_rules reads up to seven surface bytes past its tile, inside the gap no other thread writes");
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tile_rules finds the first surface byte of eight by counting trailing zero bits (little-endian)"
#endif

/* Phase 3: surface rules and cell rules, site by site in raster order
 * inside one tile (the sites with a surface or an agent: the store's
 * occupancy bits and the surface bytes say which). An agent that moved
 * into a site not yet scanned has already acted this step (stamp). */
static void tile_rules(int x0, int y0, int x1, int y1, void *vctx)
{
    tile_ctx *ctx = vctx;
    bs_model *m = ctx->m;
    bs_store *s = &m->store;
    int tile = (y0 / BS_TILE) * ((m->lat.w + BS_TILE - 1) / BS_TILE) + x0 / BS_TILE;
    bs_step_totals *tot = &m->tile_totals[tile];
    memset(tot, 0, sizeof *tot);
    uint64_t acted = 0;
    /* the arrays never move during a step; their contents do (the rules
     * write them), so every element is still read afresh */
    const int w = m->lat.w;
    const uint32_t now = ctx->stamp;
    const uint8_t *surface = m->lat.surface, *type = s->type;
    const int32_t *occ = s->occ;
    uint32_t *stamp = s->stamp;
    for (int y = y0; y <= y1; y++) {
        const uint64_t *bits = s->occ_bits + (size_t)y * (size_t)s->bits_stride;
        const uint8_t *srow = surface + (size_t)y * (size_t)w;
        int x = x0;
        while (x <= x1) {
            /* the next site at or after x with a surface or an agent, read
             * afresh after every visit (a rule may place an agent or a
             * surface ahead): sites in between hold neither, and visiting
             * them would change nothing (issue 19: live cells found a word
             * of occupancy bits at a time, not site by site) */
            const int span = 64 - (x & 63) < x1 - x + 1 ? 64 - (x & 63) : x1 - x + 1;
            const uint64_t ob = __atomic_load_n(&bits[x >> 6], __ATOMIC_RELAXED) >> (x & 63);
            /* the next agent in the span, else the span's end: the surface
             * need only be searched before it */
            const int lim = ob && (int)__builtin_ctzll(ob) < span ? (int)__builtin_ctzll(ob) : span;
            int next = lim;
            for (int k = 0; k < lim; k += 8) {
                uint64_t s8 = 0;
                if (x + k + 8 <= w) {
                    /* eight bytes, up to seven past the tile's edge but
                     * inside the row: never a site another thread writes
                     * (same-colour tiles are BS_TILE apart, their reach is
                     * BS_TILE_REACH); bytes at or past lim are ignored */
                    memcpy(&s8, srow + x + k, sizeof s8);
                } else {
                    for (int j = 0; j < w - x - k; j++) s8 |= (uint64_t)srow[x + k + j] << (8 * j);
                }
                if (s8) {
                    const int f = k + __builtin_ctzll(s8) / 8;
                    next = f < next ? f : next;
                    break;
                }
            }
            if (next >= span) {
                x += span;
                continue;
            }
            x += next;
            const int i = y * w + x;
            if (surface[i] != BS_SURF_NONE) bs_bmu_site(m, i, tot);
            const int slot = occ[i];
            x++;
            if (slot < 0 || stamp[slot] == now) continue;
            stamp[slot] = now;
            acted++;
            if (type[slot] < BS_MAX_CELL_TYPES && ctx->act[type[slot]]) ctx->act[type[slot]](m, slot, tot);
        }
    }
    tot->agents_acted = acted;
}

/* The id-free half of every AGENT and SURFACE draw key of this step
 * (rules.h bs_draw_*): 16 x 3 mixes here instead of 3 extra mixes per
 * draw in the rules. */
static void fill_draw_cache(bs_model *m)
{
    for (uint32_t d = 0; d < 8; d++) {
        m->r.pre.agent[d] = bs_rng_prefix(m->seed, BS_STREAM_AGENT, m->step, d);
        m->r.pre.surface[d] = bs_rng_prefix(m->seed, BS_STREAM_SURFACE, m->step, d);
    }
    m->r.pre.seed = m->seed; /* for debugging: the key the prefixes are for */
    m->r.pre.step = m->step;
    m->r.pre.valid = 1;
}

void bs_model_step(bs_model *m)
{
    double t0 = omp_get_wtime();
    /* the caller's thread count, or one thread while that is faster
     * (engine/pace.h); the same bits either way */
    const int t_caller = omp_get_max_threads(), t_step = bs_pace_threads(&m->pace, t_caller);
    if (t_step != t_caller) omp_set_num_threads(t_step);
    if (!m->burning) bs_therapy_step(m);
    /* whole fields per thread on small lattices, shared rows on large ones;
     * the same bits either way (engine/field.h). With whole fields, the
     * sources and the solves share one parallel region (issue 19). */
    int order[BS_FIELD_COUNT];
    if (bs_field_solve_many_in_team(m->fields, BS_FIELD_COUNT, &m->lat, order)) {
        /* when each thread ran out of fields (timings only) */
        double done[BS_FIELD_COUNT] = { 0 };
        int team = 1;
#pragma omp parallel
        {
            assemble_sources(m);
            bs_field_solve_many_team(m->fields, BS_FIELD_COUNT, &m->lat, m->dt_h, &m->solver, order);
            const int me = omp_get_thread_num();
            if (me < BS_FIELD_COUNT) done[me] = omp_get_wtime();
#pragma omp single nowait
            team = omp_get_num_threads();
        }
        if (team > 1 && team <= BS_FIELD_COUNT) {
            double last = done[0];
            for (int k = 1; k < team; k++) last = done[k] > last ? done[k] : last;
            for (int k = 0; k < team; k++) m->t_fields_idle_s += last - done[k];
            m->t_fields_team_s += team * (last - t0);
        }
    } else {
#pragma omp parallel
        assemble_sources(m);
        bs_field_solve_many(m->fields, BS_FIELD_COUNT, &m->lat, m->dt_h, &m->solver);
    }
    for (int f = 0; f < BS_FIELD_COUNT; f++) {
        const bs_field *fd = &m->fields[f];
        m->field_site_updates += fd->last_site_updates;
        m->field_updates_by[f] += fd->last_site_updates;
        if (fd->last_skipped)
            m->field_skips_by[f]++;
        else if (fd->last_iters > 0) {
            m->field_solves_by[f]++;
            m->field_sweeps_by[f] += (uint32_t)fd->last_iters;
        }
    }
    if (!m->burning) /* the burn-in runs bone and fields only */
        for (int t = 0; t < bs_celltype_count(); t++)
            if (bs_celltype_of(t)->arrivals) bs_celltype_of(t)->arrivals(m);
    double t1 = omp_get_wtime();
    fill_draw_cache(m);
    bs_store_scan_types(&m->store);
    tile_ctx ctx = { m, (uint32_t)(m->step + 1), { 0 } };
    for (int t = 0; t < bs_celltype_count(); t++) ctx.act[t] = bs_celltype_of(t)->act;
    bs_store_for_tiles(m->lat.w, m->lat.h, BS_TILE, tile_rules, &ctx);
    m->r.pre.valid = 0; /* the prefixes are for this step's tile loop only */
    bs_oc_form_held(m); /* osteoclasts held up by tumour cells (serial, agents/osteoclast.c) */
    bs_shove_divisions(m); /* tumour divisions that push cells across tiles (serial, agents/shove.c) */
    /* fixed-order reduction over tiles */
    bs_step_totals sum = { 0 };
    bs_bmu_update(m, &sum); /* the BMUs' phases and refilling (serial, agents/bmu.c) */
    for (int t = 0; t < m->ntiles; t++) {
        sum.resorbed_um2 += m->tile_totals[t].resorbed_um2;
        sum.formed_um2 += m->tile_totals[t].formed_um2;
        sum.agents_acted += m->tile_totals[t].agents_acted;
        sum.kills_tcell += m->tile_totals[t].kills_tcell;
        sum.kills_nk += m->tile_totals[t].kills_nk;
        sum.kills_nk_hypoxic += m->tile_totals[t].kills_nk_hypoxic;
        sum.tcell_contact_h += m->tile_totals[t].tcell_contact_h;
        sum.nk_contact_h += m->tile_totals[t].nk_contact_h;
        sum.nk_contact_h_hypoxic += m->tile_totals[t].nk_contact_h_hypoxic;
        sum.mdsc_to_oc += m->tile_totals[t].mdsc_to_oc;
    }
    m->last = sum;
    bs_step_totals_add(&m->row_sum, &sum); /* per-row contact hours (agents/observe.c) */
    m->n_kills_tcell += sum.kills_tcell;
    m->n_kills_nk += sum.kills_nk;
    m->agent_updates += sum.agents_acted;
    m->step++;
    double t2 = omp_get_wtime();
    m->t_fields_s += t1 - t0;
    m->t_agents_s += t2 - t1;
    if (t_step != t_caller) omp_set_num_threads(t_caller);
    bs_pace_done(&m->pace, t2 - t0);
}

void bs_model_observe(bs_model *m, bs_obs *o, double resorbed_um2, double formed_um2, double window_days)
{
    const bs_lattice *lat = &m->lat;
    long n = (long)lat->w * lat->h, surf = 0, quiet = 0, nm = 0, dormant = 0, cycling = 0, t_active = 0;
    long dtc_endo = 0, dtc_peri = 0;
    long counts[BS_MAX_CELL_TYPES] = { 0 };
    double o2_dtc = 0.0, tgfb_t = 0.0, suppr_t = 0.0; /* fixed-order sums: any thread count */
    int ntypes = bs_celltype_count();
    memset(o->by_state, 0, sizeof o->by_state);
    for (long i = 0; i < n; i++) {
        if (lat->surface[i] != BS_SURF_NONE) {
            surf++;
            if (lat->surface[i] == BS_SURF_QUIESCENT) quiet++;
        }
        int slot = m->store.occ[i];
        if (slot >= 0 && m->store.type[slot] < ntypes) {
            counts[m->store.type[slot]]++;
            if (m->store.state[slot] < BS_MAX_STATES) o->by_state[m->store.type[slot]][m->store.state[slot]]++;
            if (m->store.type[slot] == BS_CELL_DTC) {
                dormant += m->store.state[slot] == BS_DTC_DORMANT;
                cycling += m->store.state[slot] == BS_DTC_PROLIFERATING;
                o2_dtc += (double)m->fields[BS_FIELD_O2].c[i];
                /* where the settled cells sit (B7): on the endosteum, else
                 * next to a vessel (perivascular) */
                if (m->store.state[slot] != BS_DTC_MIGRATING) {
                    if (lat->surface[i] != BS_SURF_NONE)
                        dtc_endo++;
                    else if (bs_next_to_vessel(lat, (int)i))
                        dtc_peri++;
                }
            }
            if (m->store.type[slot] == BS_CELL_TCELL) {
                t_active += m->store.state[slot] == BS_TCELL_ACTIVE;
                tgfb_t += (double)m->fields[BS_FIELD_TGFB].c[i];
                suppr_t += (double)m->fields[BS_FIELD_SUPPR].c[i];
            }
        }
        if (lat->tissue[i] == BS_TISSUE_MARROW) m->scratch[nm++] = m->fields[BS_FIELD_O2].c[i];
    }
    o->time_days = bs_model_time_days(m);
    o->bone_area_um2 = bs_lattice_bone_area_um2(lat);
    o->bv_tv = o->bone_area_um2 / ((double)n * lat->h_um * lat->h_um);
    o->endosteum_quiescent_frac = surf > 0 ? (double)quiet / (double)surf : 0.0;
    o->n_osteoclasts = counts[BS_CELL_OSTEOCLAST];
    o->n_osteoblasts = counts[BS_CELL_OSTEOBLAST];
    o->resorbed_um2_per_day = window_days > 0.0 ? resorbed_um2 / window_days : 0.0;
    o->formed_um2_per_day = window_days > 0.0 ? formed_um2 / window_days : 0.0;
    o->n_dtc = counts[BS_CELL_DTC];
    o->n_dtc_dormant = dormant;
    o->n_dtc_proliferating = cycling;
    o->n_ctc_arrived = (long)m->n_ctc_arrived;
    o->n_extravasated = (long)m->n_extravasated;
    o->tumour_area_um2 = (double)counts[BS_CELL_DTC] * lat->h_um * lat->h_um;
    o->o2_median_mmHg = nm > 0 ? (double)bs_quickselect_f(m->scratch, nm, nm / 2) : 0.0;
    o->n_dtc_endosteal = dtc_endo;
    o->n_dtc_perivascular = dtc_peri;
    o->n_tcells = counts[BS_CELL_TCELL];
    o->n_tcells_active = t_active;
    o->n_nk = counts[BS_CELL_NK];
    o->n_mdsc = counts[BS_CELL_MDSC];
    o->kills_tcell_per_day = window_days > 0.0 ? (double)(m->n_kills_tcell - m->row_kills_tcell) / window_days : 0.0;
    o->kills_nk_per_day = window_days > 0.0 ? (double)(m->n_kills_nk - m->row_kills_nk) / window_days : 0.0;
    m->row_kills_tcell = m->n_kills_tcell;
    m->row_kills_nk = m->n_kills_nk;
    o->store_full_refusals = (long)m->store.full_refusals;
    long nd = counts[BS_CELL_DTC], nt = counts[BS_CELL_TCELL];
    o->o2_tumour_mmHg = nd > 0 ? o2_dtc / (double)nd : 0.0;
    o->tgfb_tcell_au = nt > 0 ? tgfb_t / (double)nt : 0.0;
    o->suppr_tcell_au = nt > 0 ? suppr_t / (double)nt : 0.0;
    o->myeloid_oc_pool = (double)m->therapy.gr1_myeloid;
    bs_observe_spatial(m, &o->sp, window_days);
    bs_therapy_observe(m, &o->drugs, window_days);
}
