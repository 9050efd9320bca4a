/* celltypes.h — the cell-type registry: one descriptor per cell type.
 *
 * A descriptor (bs_celltype) carries everything the rest of the program
 * needs to know about a type: its name, states, colours and marker shapes,
 * its parameter table and derive function, its rule (act), its recruitment
 * (arrivals) and initial cells (seed), what it adds to the fields at its
 * site (sources and uptake), how radiotherapy and the cell-directed drugs
 * act on it, and its observables (CSV columns). The step, the parameter
 * catalog, the therapies, the renderer and legend, the viewer, the action
 * log, the checkpoint check and the CSV all read the registry; nothing
 * else counts types.
 *
 * Adding a type = one new file in agents/ that defines a `const
 * bs_celltype` (see osteoblast.c for a small one) + one line in the list
 * in celltypes.c. A program that embeds the engine (or a test) may also
 * add a type at run time with bs_celltype_register, before the first
 * model is built. The type id is the position in the registry; the shipped
 * types keep the ids of the enum below (the checkpoint stores ids). */
#ifndef BS_CELLTYPES_H
#define BS_CELLTYPES_H

#include <stddef.h>
#include <stdint.h>

#include "bs_status.h"
#include "params.h"

/* ids of the shipped types (their position in the registry) */
typedef enum {
    BS_CELL_OSTEOCLAST = 0,
    BS_CELL_OSTEOBLAST = 1,
    BS_CELL_DTC = 2,
    BS_CELL_TCELL = 3, /* CD8 T cell (CTL) */
    BS_CELL_NK = 4,
    BS_CELL_MDSC = 5,
    BS_CELL_TREG = 6, /* regulatory T cell */
    BS_CELL_MACROPHAGE = 7,
} bs_cell_type;

/* Capacity of the registry, not a count of types: store.type is one byte
 * and store.live_types one bit per type in 32 bits; 16 leaves room and
 * keeps the per-type arrays (observations, radiotherapy kills) small. */
#define BS_MAX_CELL_TYPES 16
#define BS_MAX_STATES 4
#define BS_MAX_TYPE_OBSERVABLES 4

/* DTC states */
enum { BS_DTC_MIGRATING = 0, BS_DTC_DORMANT = 1, BS_DTC_PROLIFERATING = 2 };
/* CD8 T-cell states: non-activated cells express RANKL, activated ones
 * kill and secrete IFN-gamma, exhausted ones do neither (store.aux counts
 * kills) */
enum { BS_TCELL_NAIVE = 0, BS_TCELL_ACTIVE = 1, BS_TCELL_EXHAUSTED = 2 };
/* NK-cell states: a spent cell has used up its killing capacity */
enum { BS_NK_ACTIVE = 0, BS_NK_SPENT = 1 };
/* MDSC subsets: granulocytic (Ly6G+, anti-Gr1 depletes them) and monocytic (Ly6C-high, spared) */
enum { BS_MDSC_GRANULOCYTIC = 0, BS_MDSC_MONOCYTIC = 1 };
/* macrophage states: M1 (kills tumour cells) and M2 (immunosuppressive,
 * trophic; agents/macrophage.c, and the tumour's M2 route in dtc.c) */
enum { BS_MAC_M1 = 0, BS_MAC_M2 = 1 };
/* DTC lineage origin, kept in store.aux and inherited by daughters */
#define BS_DTC_FROM_VESSEL 1.0f
#define BS_DTC_FROM_QUIESCENT 2.0f
#define BS_DTC_FROM_BRC 3.0f

typedef enum { BS_SHAPE_SQUARE = 0, BS_SHAPE_DISC, BS_SHAPE_DIAMOND, BS_SHAPE_RING } bs_shape;

struct bs_model;
struct bs_rules;
struct bs_step_totals;

/* What the cells at one site add to the fields this step, summed by
 * model.c (assemble_sources) after the tissue's and the surface's own
 * terms. The two lineage factors are inputs: PTHrP's effect on the
 * osteoblast lineage at this site (x RANKL, x OPG expression). */
typedef struct {
    float o2_uptake, o2_src; /* 1/h, mmHg/h */
    float cxcl12, rankl, opg, ifng, suppr, chemokine, pthrp; /* au/h */
    float tgfb; /* au/h secreted by cells, added to what resorption releases from the matrix */
    float lineage_rankl, lineage_opg; /* inputs, 1 without PTHrP */
} bs_site_sources;

/* How radiotherapy kills the type (survival S of one fraction of D Gy).
 * Every type states one; BS_RT_UNSET is refused at registration, so a new
 * type cannot be silently immune. */
typedef enum {
    BS_RT_UNSET = 0,
    BS_RT_LQ, /* S = exp(-f (alpha D + beta D^2)), beta = alpha / (alpha/beta) */
    BS_RT_D0, /* S = exp(-D / D0): lymphocytes, no shoulder */
    BS_RT_SPARED, /* S = 1: radiotherapy does not kill this type (say why in `why`) */
} bs_rt_model;

typedef struct {
    bs_rt_model model;
    const char *alpha_key; /* BS_RT_LQ: alpha, 1/Gy */
    const char *alpha_beta_key; /* BS_RT_LQ: alpha/beta, Gy */
    const char *d0_key; /* BS_RT_D0: D0, Gy */
    /* cells in `factor_states` (a bit per state) survive a dose D as the
     * type's other cells survive D / dmf, dmf the parameter factor_key (a
     * dose-modifying factor >= 1: dormant tumour cells are radioresistant) */
    uint8_t factor_states;
    const char *factor_key;
    const char *why; /* BS_RT_SPARED: the reason, for the docs */
} bs_rt_sensitivity;

/* Drugs that act on cells of the type directly (kill or move them);
 * drugs that change a rule act through bs_therapy_effects (therapy.h). */
typedef struct {
    uint8_t anti_gr1_depleted_states; /* a bit per state: anti-Gr1 depletes them (Ly6G-high myeloid cells) */
    uint8_t cxcr4i_mobilised_states; /* a bit per state: the CXCR4 antagonist releases them into the blood */
    uint8_t chemo_cycling_states; /* a bit per state: cycle-specific chemotherapy kills them at its full hazard */
    uint8_t chemo_quiescent_states; /* ... at chemo.dormant_factor of it (non-dividing cells are spared) */
} bs_drug_sensitivity;

/* An observable of the type: cells of the type in the states of
 * `states` (a bit per state), one CSV column (viz/cli/output.c). */
typedef struct {
    const char *column; /* "n_dtc_dormant" */
    const char *unit; /* "cells" */
    uint8_t states;
} bs_type_observable;
#define BS_ALL_STATES 0xffu

typedef struct bs_celltype {
    const char *name; /* "osteoclast": injection, logs, checkpoints */
    const char *plural; /* legend text */
    int n_states;
    const char *state_names[BS_MAX_STATES]; /* "active", ... */
    uint8_t rgb[BS_MAX_STATES][3]; /* per state */
    bs_shape shape[BS_MAX_STATES]; /* marker drawn in a site */
    int footprint_sites; /* drawn size in sites (osteoclasts are big) */
    /* parameters (added to the registry by catalog.c, in registry order)
     * and their per-step form: derive writes the type's part of bs_rules,
     * or, for a type whose rules live only in its own file, the block of
     * `rules_bytes` bytes at bs_type_rules(r, id) */
    const bs_param_def *params;
    size_t n_params;
    void (*derive)(const bs_paramset *ps, struct bs_rules *r, double dt_h, double h_um);
    size_t rules_bytes;
    /* one agent's step, inside a tile (rules.h); NULL: the type does nothing */
    void (*act)(struct bs_model *m, int slot, struct bs_step_totals *tot);
    /* entries of new cells, serial, after the fields (NULL: none) */
    void (*arrivals)(struct bs_model *m);
    /* cells placed at day 0 (NULL: none) */
    void (*seed)(struct bs_model *m);
    /* what a cell of the type at `site` adds to the fields (NULL: nothing) */
    void (*sources)(const struct bs_model *m, int slot, int site, bs_site_sources *acc);
    bs_rt_sensitivity radiation;
    bs_drug_sensitivity drugs;
    int n_observables;
    bs_type_observable observables[BS_MAX_TYPE_OBSERVABLES];
} bs_celltype;

/* Number of registered types; ids are 0 .. count-1. */
int bs_celltype_count(void);
/* The descriptor of type id (NULL when out of range). */
const bs_celltype *bs_celltype_of(int id);
/* Id of a type by name, or -1. */
int bs_celltype_find(const char *name);
/* Adds a type after the shipped ones and returns its id; refuses a
 * duplicate name, a full registry, an unset radiotherapy sensitivity or
 * bad state tables (err says which). Call before building any model or
 * parameter registry, from one thread. */
int bs_celltype_register(const bs_celltype *t, bs_error *err);
/* Checks every registered descriptor (called by the parameter catalog,
 * so a shipped type with a gap fails every command at once). */
bs_status bs_celltypes_check(bs_error *err);
/* The rule block of type id in r (rules_bytes bytes, zeroed at model
 * creation; NULL when the type has none). */
void *bs_type_rules(const struct bs_rules *r, int id);

#endif
