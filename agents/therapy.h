/* therapy.h — therapies as mechanisms on the rules, with schedules.
 *
 * Each therapy of the review is a mechanism acting on the model's rules
 * (agents/therapy.c): a systemic drug level with its half-life, a per-site
 * bone load, a one-off dose to a region, a changed vessel O2. Its schedule
 * comes from the parameter registry, section `therapy.NAME` (keys
 * start_day, stop_day and the drug's dose/interval keys), so it works from
 * a scenario file and from `--set therapy.NAME.start_day=...` on any
 * scenario.
 *
 * The schedule and a live switch (the viewer's keys, a replayed log) go
 * through the same function, bs_therapy_switch. Scheduled events fire at
 * the first step whose start time is at or after the scheduled day; a live
 * switch takes effect at the next step. What a therapy leaves in the model
 * (drug levels, pools, switch state) is model state: it lives in
 * bs_model.therapy and is checkpointed (agents/model_io.c). */
#ifndef BS_THERAPY_H
#define BS_THERAPY_H

#include <stddef.h>
#include <stdint.h>

#include "celltypes.h"
#include "params.h"

typedef enum {
    BS_THERAPY_ZOLEDRONIC_ACID = 0,
    BS_THERAPY_DENOSUMAB,
    BS_THERAPY_ANTI_PD1,
    BS_THERAPY_ANTI_GR1,
    BS_THERAPY_CXCR4_ANTAGONIST,
    BS_THERAPY_RADIOTHERAPY,
    BS_THERAPY_HYPEROXIA,
    BS_THERAPY_MNO2,
    BS_THERAPY_HDAC_INHIBITOR,
    BS_THERAPY_CHEMOTHERAPY,
    BS_THERAPY_COUNT
} bs_therapy_id;

/* What every therapy has; therapy.c may add what its mechanisms need
 * (everything here is state: model_io.c saves the struct as one section,
 * "model.therapy"). */
typedef struct {
    uint8_t on[BS_THERAPY_COUNT]; /* switched on now (dosing / exposure) */
    float level[BS_THERAPY_COUNT]; /* systemic level 0..1 (1 = a full dose's effect) */
    double last_dose_d[BS_THERAPY_COUNT]; /* day of the last dose, -1 = never */
    float dmab_precursors; /* denosumab: osteoclast-precursor pool built up under RANKL blockade, 0..1 */
    float gr1_myeloid; /* anti-Gr1: osteoclast-competent myeloid pool, cells */
    int32_t rt_fractions_left; /* radiotherapy: fractions of the running course still to give */
    int32_t rt_fractions_given; /* radiotherapy: fractions given since day 0 */
    uint64_t n_mobilised; /* CXCR4 antagonist: dormant DTCs released into the blood, cumulative */
    uint64_t row_mobilised; /* n_mobilised at the last CSV row (dtc_egress_per_day) */
    uint32_t ctc_mobilised; /* mobilised cells still circulating (they re-home or wash out) */
    uint64_t n_rehomed; /* mobilised cells that came back to the section as arriving CTCs, cumulative */
    uint32_t ctc_returning; /* of those, the ones arriving this step (bs_dtc_arrivals adds them to its CTCs) */
    uint64_t n_chemo_killed; /* chemotherapy: tumour cells killed, cumulative */
    uint64_t n_rt_killed[BS_MAX_CELL_TYPES]; /* radiotherapy: cells killed per cell type (by id), cumulative */
    uint64_t n_gr1_depleted; /* anti-Gr1: MDSCs depleted, cumulative */
} bs_therapy_state;

/* Per-step constants of the therapies, derived from the registry by
 * bs_therapy_derive (not state: recomputed from the parameters). Steps
 * are model steps; probabilities are per step. */
typedef struct {
    int64_t start_step[BS_THERAPY_COUNT], stop_step[BS_THERAPY_COUNT]; /* -1: none */
    int64_t interval_steps[BS_THERAPY_COUNT]; /* repeat doses / fractions; 0: one dose */
    float dose[BS_THERAPY_COUNT]; /* level added per dose (relative dose) */
    float decay[BS_THERAPY_COUNT]; /* level multiplier per step (half-life) */
    /* zoledronic acid */
    float za_bone_decay; /* za_load multiplier per step */
    float za_load_per_dose; /* load an exposed bone site binds from one standard dose cleared from plasma */
    float za_capacity; /* binding capacity of a bone site, in dose loads (0: unlimited) */
    float p_za_oc_death; /* extra OC death per step at uptake >= 1 */
    float za_oc_uptake; /* fraction of the drug in dissolved mineral the osteoclast internalises */
    float za_form_K; /* surface load that halves osteoclast formation */
    float za_activity_cut; /* fraction of resorption lost at an uptake >= 1 */
    /* denosumab */
    float dmab_occ_max, dmab_ec50, dmab_hill;
    float p_dmab_accumulate, p_dmab_convert; /* per step */
    float dmab_gain; /* RANKL-signal multiplier 1 + gain x pool */
    /* anti-PD-1 */
    float pd1_ec50, pd1_exhaust_cut;
    /* anti-Gr1 */
    float agr1_kill_h; /* 1/h at level 1 */
    float agr1_pool_per_kill, agr1_pool_decay, agr1_oc_gain, agr1_pool_K;
    float agr1_seed_h; /* pool -> osteoclast conversion, 1/h per pool cell */
    /* CXCR4 antagonist */
    float cxcr4i_block, cxcr4i_mobilise_h;
    float cxcr4i_entry_share; /* share of the block that reaches CTC extravasation */
    float p_ctc_return, p_ctc_clear; /* per step, per mobilised circulating cell */
    /* chemotherapy */
    float chemo_kill_h; /* 1/h hazard of a cycling tumour cell at level 1 */
    float chemo_dormant_factor; /* x that hazard for quiescent (dormant, homing) cells */
    /* radiotherapy */
    int rt_region; /* 0 domain, 1 rectangle, 2 circle */
    int rt_x0, rt_y0, rt_x1, rt_y1; /* sites, inclusive (rectangle) */
    float rt_cx, rt_cy, rt_r; /* sites (circle) */
    float rt_dose_Gy;
    int rt_n_fractions;
    /* per cell type (by id), from its descriptor's radiation entry
     * (celltypes.h): LQ alpha and beta, D0, the factor on the exponent of
     * the states in rt_factor_states[] */
    uint8_t rt_model[BS_MAX_CELL_TYPES], rt_factor_states[BS_MAX_CELL_TYPES];
    float rt_alpha[BS_MAX_CELL_TYPES], rt_beta[BS_MAX_CELL_TYPES], rt_d0[BS_MAX_CELL_TYPES];
    float rt_factor[BS_MAX_CELL_TYPES];
    /* hyperoxia, MnO2 */
    float o2_sinusoid_base, o2_arteriole_base, hyperoxia_factor;
    float mno2_o2; /* mmHg/h O2 source per tumour cell at level 1 */
    /* HDAC inhibitor */
    float hdac_base; /* dtc.hdac_level (the scenario's constant level) */
} bs_therapy_rules;

/* What the therapies do to the rules now: written only by therapy.c
 * (bs_therapy_init: the untreated values; bs_therapy_step: every step,
 * from the therapy state), read by the rules as m->r.fx. Nothing else
 * writes it, so the rules' derive functions and the therapies never
 * overwrite each other. */
typedef struct {
    float cxcr4_block; /* 0..1: CXCL12 sensing blocked (CXCR4 antagonist) */
    float pd1_block; /* 0..1: anti-PD-1 lifts the PD-L1 brake on CD8 killing */
    float pd1_exhaust_factor; /* x the T-cell exhaustion hazard (anti-PD-1) */
    float rankl_factor; /* x the RANKL signal (denosumab block x precursor pools) */
    float za_oc_death; /* extra OC death per step at a full zoledronic-acid uptake */
    float za_oc_uptake; /* fraction of dissolved zoledronic acid the osteoclast takes up */
    float za_form_K; /* surface ZA load that halves osteoclast formation (0: no effect) */
    float za_activity_cut; /* fraction of resorption lost by an OC at a full uptake */
    float za_capacity; /* binding capacity of a bone site, in dose loads (0: unlimited) */
    float cxcr4_entry_block; /* 0..1: the part of cxcr4_block felt by extravasating CTCs */
    float mno2_o2; /* mmHg/h O2 made per tumour cell (MnO2 particles) */
    float o2_sinusoid, o2_arteriole; /* vessel pO2 now, mmHg (hyperoxia) */
    float hdac_level; /* HDAC inhibition now, 0..1 (at least dtc.hdac_level) */
} bs_therapy_effects;

/* Names exactly as in the scenario files ("zoledronic_acid", ...). */
extern const char *const bs_therapy_names[BS_THERAPY_COUNT];
/* One line each, for help screens and the viewer ("bisphosphonate: ..."). */
extern const char *const bs_therapy_blurbs[BS_THERAPY_COUNT];
/* Index of a name, or -1. */
int bs_therapy_find(const char *name);

/* Parameter definitions of all therapies (schedules and mechanisms), added
 * to the registry by agents/catalog.c. */
const bs_param_def *bs_therapy_params(size_t *n);

struct bs_model;

/* Registry-wide checks the per-value ranges cannot express (stop after
 * start, a rectangle with x1 > x0, ...): an error names the keys. */
bs_status bs_therapy_check(const bs_paramset *ps, bs_error *err);
/* Sets the therapy state to its start (nothing on, levels 0) and derives
 * m->r.tx. Called by bs_model_create. */
void bs_therapy_init(struct bs_model *m);
/* Re-derives m->r.tx from m->ps only, keeping the therapy state: for a
 * caller that changed parameters mid-run (viewer sliders); the schedule,
 * dose and mechanism values take effect from the next step. */
void bs_therapy_derive(struct bs_model *m);

/* After a live parameter change (bs_model_set_param): the untreated
 * values the therapies scale (vessel pO2, the HDAC floor) follow the
 * re-derived rules from the next step on. */
void bs_therapy_rebase(struct bs_model *m);

/* Switches a therapy on (1) or off (0) now: what a schedule's start/stop
 * does and what the viewer's key does. Switching a dosed drug on gives its
 * first dose at once; radiotherapy delivers its dose (to its region) at
 * once and stays "off". Call between steps. */
void bs_therapy_switch(struct bs_model *m, bs_therapy_id id, int on);
static inline int bs_therapy_is_on(const bs_therapy_state *t, bs_therapy_id id)
{
    return t->on[id] != 0;
}

/* Called by bs_model_step before anything else: fires the events
 * scheduled for this step (start, repeat doses, stop), advances drug
 * levels over the step and sets the rule effects (m->r.fx). Serial; does not allocate. */
void bs_therapy_step(struct bs_model *m);

/* The scheduled window of a therapy in days ([start, stop); start < 0 when
 * it is not scheduled; stop = HUGE_VAL when it never stops; for
 * radiotherapy the course from the first to the last fraction) — for
 * plots that mark therapy periods. */
void bs_therapy_window(const struct bs_model *m, bs_therapy_id id, double *start_d, double *stop_d);

/* Mechanism pieces, exposed for tests and the viewer's readouts:
 * survival fraction of a cell of `type` (celltypes.h) in `state` after
 * one fraction of D Gy, by the type's radiation entry (LQ, exp(-D/D0) for
 * lymphocytes, 1 for a type radiotherapy spares); whether site
 * (x, y) is in the radiotherapy region; denosumab's RANKL occupancy now. */
float bs_therapy_rt_survival(const bs_therapy_rules *x, int type, int state, float D);
int bs_therapy_rt_in_region(const bs_therapy_rules *x, int x_site, int y_site);
float bs_therapy_dmab_occupancy(const struct bs_model *m);
/* Saturable (Langmuir) binding of zoledronic acid to one bone site:
 * *load += amount x (1 - *load / capacity), never above capacity;
 * capacity <= 0: unlimited (*load += amount). Returns the load bound. */
static inline float bs_za_bind_site(float *load, float amount, float capacity)
{
    if (amount <= 0.0f) return 0.0f;
    if (capacity <= 0.0f) {
        *load += amount;
        return amount;
    }
    float free_frac = 1.0f - *load / capacity;
    if (free_frac <= 0.0f) return 0.0f;
    float add = amount * free_frac;
    if (add > capacity - *load) add = capacity - *load;
    *load += add;
    return add;
}

/* Mobilised cells (CXCR4 antagonist) that come back this step as CTCs
 * arriving at the section's vessels: each circulating mobilised cell
 * returns or washes out at its per-step chance (draws keyed by step and
 * cell). Called once per step by bs_therapy_step, serial; the count is left
 * in m->therapy.ctc_returning for bs_dtc_arrivals (dtc.c reads the state,
 * it does not call therapy.c). */
int bs_therapy_ctc_returning(struct bs_model *m);

/* Drug levels and therapy counters for the CSV row (viz/cli/output.c):
 * levels in standard doses (1 = the level one standard dose gives at its
 * peak), bound zoledronic acid as the mean load of the exposed bone
 * surface (1 = what one dose binds there). */
typedef struct {
    double serum_za_doses, bone_za_surface_load_doses, serum_denosumab_doses, dmab_precursor_pool_frac;
    double serum_anti_pd1_doses, serum_chemo_doses;
    double dtc_egress_per_day; /* dormant DTCs mobilised into the blood per day since the last row */
    long ctc_mobilised_circulating;
    long n_chemo_killed; /* cumulative */
} bs_therapy_obs;
/* Fills o; egress is averaged over window_days from the count at the
 * previous call, which this call then records. */
void bs_therapy_observe(struct bs_model *m, bs_therapy_obs *o, double window_days);

#endif
