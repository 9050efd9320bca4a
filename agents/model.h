/* model.h — the simulated world and one step of it.
 *
 * A bs_model owns the lattice, the fields and the agent store, and the
 * derived (per-step) parameters of every rule. bs_model_step advances it by
 * dt in the order of docs/design.md: fields, arrivals, agents and surfaces (in
 * spatially coloured tiles, in parallel), tissue, observables.
 *
 * Everything that changes the state draws its random numbers from the
 * counter-based RNG keyed by (seed, step, agent id or site, draw), so a run
 * is a pure function of its parameters and seed, at any thread count. */
#ifndef BS_MODEL_H
#define BS_MODEL_H

#include <stdint.h>

#include "celltypes.h"
#include "field.h"
#include "lattice.h"
#include "pace.h"
#include "params.h"
#include "shove.h"
#include "store.h"
#include "therapy.h"

typedef enum {
    BS_FIELD_O2 = 0,
    BS_FIELD_CXCL12,
    BS_FIELD_RANKL,
    BS_FIELD_OPG,
    BS_FIELD_TGFB,
    BS_FIELD_IFNG,
    BS_FIELD_PTHRP,
    BS_FIELD_SUPPR, /* immunosuppression (IL-10/TGF-beta/PGE2 lumped): MDSCs, tumour */
    BS_FIELD_CHEMOKINE, /* tumour-derived chemokines that recruit and guide immune cells */
    BS_FIELD_COUNT
} bs_field_id;

/* The fields whose sources the model keeps zero-aware (bs_model.src_row_nz),
 * in this order */
enum {
    BS_ZSRC_RANKL = 0,
    BS_ZSRC_OPG,
    BS_ZSRC_TGFB,
    BS_ZSRC_IFNG,
    BS_ZSRC_PTHRP,
    BS_ZSRC_SUPPR,
    BS_ZSRC_CHEMOKINE,
    BS_ZSRC_COUNT
};

#define BS_TILE 32

/* Tumour-cell rule parameters (agents/dtc.c); rates per hour unless noted. */
typedef struct {
    float ctc_per_step; /* mean CTC arrivals per step */
    int bolus_n;
    uint64_t bolus_step;
    float cxcr4, adhesion, cxcl12_K;
    float p_move, chemotaxis, p_settle;
    float entry_rate_h, brc_factor, perivascular_factor;
    int lifr_on;
    float hypoxia_mmHg, hypoxia_lifr, hdac_level, hdac_gain;
    float exit_basal_h, exit_oc_h, exit_lowlifr_h;
    int wake_radius; /* sites */
    float prolif_h, o2_K, tgfb_gain, tgfb_K, p_apoptosis;
    float hypoxia_n; /* Hill steepness of the LIFR fall */
    float necrosis_mmHg, necrosis_h, necrosis_n; /* half-effect pO2, rate at anoxia (1/h), steepness */
    float o2_uptake, dormant_uptake;
    float pthrp, tgfb_pthrp_gain;
    int push_radius; /* sites a division may push cells across (agents/shove.c) */
    int cavity_reach; /* sites within which a free cavity is filled first */
    float commit_h; /* a woken cell's commitment to cycling, h (0: none) */
    float ob_factor; /* dormancy push of an active BMU's osteoblasts relative to lining */
    int ob_inhibit_radius; /* sites around a cycling tumour cell where osteoblasts are inhibited (-1: none) */
    float ob_recruit_keep; /* share of osteoblast recruitment left there */
    float p_ob_tumour_death; /* extra osteoblast death per step there */
    float dt_h;
} bs_dtc_rules;

/* What CD8 T cells, NK cells and MDSCs share: entry from sinusoids and
 * movement (agents/immune.h). Rates per hour, lengths in sites. */
typedef struct {
    float recruit_h; /* entries per vessel site per hour at saturating chemokine */
    float chemokine_K; /* chemokine for half receptor occupancy */
    float chemotaxis; /* move weights exp(chemotaxis x d(occupancy)) */
    float persistence; /* chance a sub-move keeps the last direction */
    int moves; /* sub-moves per step, <= BS_IMMUNE_MAX_MOVES */
    float p_death; /* per step */
    float basal; /* entry without chemokine, as a share of the saturated rate (CD8: homeostatic entry) */
} bs_immune_motility;

/* Immune-cell rule parameters (agents/tcell.c, nkcell.c, mdsc.c). */
typedef struct {
    bs_immune_motility t, nk, md;
    /* CD8 T cells */
    float t_activation_h, t_entry_active, t_kill_h, t_dormant_antigen, t_pdl1;
    float t_suppr_K, t_tgfb_K; /* field levels that halve killing and activation */
    float t_cxcr3_tgfb_K; /* TGF-beta that halves the CXCR3-driven chemokine response (entry, chemotaxis) */
    float t_exhaust_suppr_h; /* exhaustion hazard under full suppression */
    int t_kills_max; /* kills before exhaustion */
    float t_ifng, t_rankl; /* au/h: activated / non-activated cells */
    float t_hypoxia_mmHg, t_hypoxia_factor, t_hypoxia_n; /* adenosine brake: half-effect pO2, floor, Hill n */
    /* NK cells */
    float nk_kill_h, nk_dormant, nk_hypoxia_mmHg, nk_hypoxia_factor, nk_hypoxia_n, nk_suppr_K, nk_tgfb_K;
    int nk_kills_max;
    float nk_ifng; /* au/h */
    /* MDSCs */
    int md_radius; /* sites */
    float md_factor; /* T-cell kill/activation x factor per MDSC in range */
    float md_suppr; /* au/h into BS_FIELD_SUPPR */
    float p_md_to_oc; /* per step at saturating RANKL signal */
    float md_mono_frac; /* share of entering MDSCs that are monocytic (BS_MDSC_MONOCYTIC) */
    /* tumour sources of the immune fields, au/h per cell */
    float chemokine_tumour, chemokine_dormant, suppr_tumour;
    /* hypoxia-driven suppression (HIF-1a): secretion x (1 + gain (1 - Hill(pO2, mmHg, n))) */
    float suppr_hyp_gain, suppr_hyp_mmHg, suppr_hyp_n;
    float dt_h;
} bs_immune_rules;

/* One bone multicellular unit (agents/bmu.c), found by its origin site
 * (bs_bmu_at); times are model steps, BS_BMU_UNSET when not yet reached.
 * Counts are those of the last step's survey. */
#define BS_BMU_UNSET 0xffffffffu
typedef struct {
    uint8_t phase; /* BS_SURF_RESORPTION / REVERSAL / FORMATION; 0 = closed */
    uint8_t max_depth; /* deepest cavity site dug, in sites */
    uint8_t stalled; /* 1 = formation ended stalled (bmu.formation_stall_d): the cavity left unrefilled */
    uint8_t pad;
    uint32_t t_open, t_window_end; /* opened; resorption window closed */
    uint32_t t_res_first, t_res_last; /* first and last step with erosion */
    uint32_t t_oc_gone; /* first step with no osteoclast left after the window */
    uint32_t t_team_first; /* first osteoblast of the team (osteoid starts) */
    uint32_t t_min_first, t_min_last; /* first and last mineral deposited */
    uint32_t survey; /* step of the last survey (bs_bmu_update) */
    int32_t n_oc, n_team, n_targets, n_floor, n_uncovered, n_cand, n_surface;
    float sig_sum; /* sum of the RANKL signal over its surface sites */
    float resorbed_um2, formed_um2;
} bs_bmu_rec;

/* A finished remodeling event, as the probe (bs_bmu_events) reports it:
 * times in days of model time (negative: during the burn-in), NAN when
 * the phase never happened. */
typedef struct {
    int32_t origin; /* site where it opened */
    int done; /* 1 = terminated (lining cells back), 0 = still open */
    int stalled; /* 1 = its formation stalled and ended with the cavity unrefilled (bmu.formation_stall_d) */
    double open_d, res_first_d, res_last_d, team_first_d, min_first_d, min_last_d, end_d;
    double resorbed_um2, formed_um2, depth_um;
} bs_bmu_event;

#define BS_BMU_LOG 1024 /* finished events kept (the newest) */

/* Per-step rule parameters derived from the registry (probabilities per
 * step, lengths in sites). Filled by each module's derive function. */
typedef struct bs_rules {
    /* bone multicellular unit (agents/bmu.c) */
    float p_activate_origin; /* per quiescent site per step, at sigma = 1 */
    int bmu_radius; /* sites */
    uint32_t resorption_steps; /* length of the resorption phase */
    float window_K; /* resorption window x (1 + K) s / (K + s) at RANKL signal s */
    uint32_t reversal_steps; /* reversal: no osteoblasts until this long after the last osteoclast */
    uint32_t formation_stall_steps; /* formation with no mineral laid for this long ends; 0 = never */
    float rankl_K, opg_K; /* sigma = RANKL / (rankl_K * (1 + OPG / opg_K)) */
    float lining_rankl, lining_opg, lining_cxcl12; /* secretion per lining (quiescent) site, au/h */
    float brc_rankl; /* secretion per resorption-phase site, au/h */
    /* osteoclast (agents/osteoclast.c) */
    float p_oc_form; /* per free resorption site per step at full signal */
    int oc_exclusion; /* sites */
    float oc_resorb_per_step; /* mineral (site units) removed per step */
    int oc_reach; /* sites */
    float p_oc_death;
    float p_oc_idle_death;
    float ifng_K;
    float p_oc_move;
    float oc_o2_uptake; /* 1/h */
    float tgfb_per_mineral; /* au released per site of mineral resorbed, per h of step */
    /* osteoblast (agents/osteoblast.c) */
    float p_ob_recruit; /* per missing team member per step */
    float ob_team_spacing; /* sites of cavity floor per team member */
    float ob_lag_h; /* osteoid-to-mineral lag of a BMU's seam, from its team's first member (bmu.c) */
    float ob_recruit_basal;
    float ob_tgfb_K;
    float ob_deposit_per_step; /* mineral per step */
    float ob_lining_fraction;
    float p_ob_death;
    float ob_opg, ob_rankl, ob_cxcl12; /* au/h */
    float ob_o2_uptake;
    /* tissue and fields */
    float o2_sinusoid, o2_arteriole; /* mmHg: sinusoid blood, arteriole (held) */
    float o2_sinusoid_exchange; /* 1/h: sinusoid wall exchange */
    float o2_endosteal_sinusoid_frac; /* endosteal sinusoids' blood: this share of the way to arteriole pO2 */
    float o2_marrow_uptake, o2_bone_uptake; /* 1/h */
    float o2_perisinusoidal_uptake; /* 1/h: free perisinusoidal marrow (haematopoietic cords) */
    float cxcl12_endosteal; /* au/h at every endosteal marrow site (endosteal CAR/stroma) */
    float cxcl12_vessel; /* au/h at sinusoid-adjacent marrow (CAR cells) */
    float ifng_basal; /* au/h everywhere in marrow */
    /* PTHrP acting on the osteoblast lineage (model.c) */
    float pthrp_rankl_gain, pthrp_opg_cut, pthrp_K;
    bs_therapy_rules tx; /* the therapies' per-step constants (therapy.h) */
    /* what the therapies do to the rules this step, written only by
     * bs_therapy_step and bs_therapy_init (therapy.h), read by the rules */
    bs_therapy_effects fx;
    /* IFN-gamma slows tumour division: rate x 1 / (1 + IFNG / ifng_prolif_K)
     * (parameter ifng.prolif_half_au, au; applied in dtc.c) */
    float ifng_prolif_K;
    bs_dtc_rules dtc;
    bs_immune_rules immune;
    /* Per-step cache of the agent phase, filled by bs_model_step before the
     * tile loop (derived, not state): the id-free part of the key of each
     * AGENT and SURFACE draw (engine/rng.h bs_rng_prefix) for (seed, step).
     * Rules read it through bs_draw_* (rules.h), which fall back to the full
     * key when it is stale. */
    struct {
        int valid;
        uint64_t seed, step;
        uint64_t agent[8], surface[8];
    } pre;
    /* per-type rule blocks of the types that keep their derived
     * parameters in their own file (celltypes.h rules_bytes; owned by the
     * model, NULL for the others) */
    void *own[BS_MAX_CELL_TYPES];
} bs_rules;

/* Observables of one step, summed in a fixed order. */
typedef struct bs_step_totals {
    double resorbed_um2; /* bone area removed during the step */
    double formed_um2; /* bone area deposited during the step */
    uint64_t agents_acted;
    /* immunity: kills and the time killers spent on a target (h) */
    uint64_t kills_tcell, kills_nk, kills_nk_hypoxic;
    double tcell_contact_h, nk_contact_h, nk_contact_h_hypoxic;
    uint64_t mdsc_to_oc; /* MDSCs that became osteoclasts */
} bs_step_totals;

typedef struct bs_model {
    bs_paramset *ps; /* owned copy of the resolved parameters */
    bs_lattice lat;
    bs_store store;
    bs_field fields[BS_FIELD_COUNT];
    bs_rules r;
    bs_solver_opts solver;
    uint64_t seed;
    uint64_t step; /* steps done */
    double dt_h;
    /* per-tile accumulators (fixed-order reduction) */
    int ntiles;
    bs_step_totals *tile_totals;
    bs_step_totals last; /* totals of the last step */
    float *scratch; /* w*h floats for medians (between steps; also bmu_work, inside a step) */
    float *release; /* w*h: TGF-beta released from matrix during the step, au/h */
    /* Rows known to be zero (issue 19: memory written only where a value is
     * not zero). release_row_nz[y] is 0 only if row y of release is all
     * zero; src_row_nz[k * h + y] (k: BS_ZSRC_*) is 0 only if the interior
     * of row y (x = 1 .. w-2) of that field's sources is all zero. 1 means
     * "may hold a non-zero value". Whoever writes release or those source
     * arrays other than the model's own passes (a checkpoint being loaded)
     * calls bs_model_rows_unknown. */
    uint8_t *src_row_nz, *release_row_nz;
    int *vessels; /* sinusoid sites, where CTCs arrive */
    int n_vessels;
    uint64_t n_ctc_arrived, n_extravasated; /* cumulative since day 0 */
    uint64_t n_kills_tcell, n_kills_nk; /* cumulative since day 0 */
    uint64_t row_kills_tcell, row_kills_nk; /* their values at the last bs_model_observe */
    bs_step_totals row_sum; /* the steps' totals summed since the last bs_model_observe (contact hours, hypoxic
                               kills: agents/observe.c) */
    /* time spent per phase, seconds (for --timings) */
    double t_fields_s, t_agents_s;
    uint64_t field_site_updates; /* site relaxations done by the solver (all fields) */
    /* whole fields per thread: thread-seconds spent waiting for the last
     * field of the phase, and thread-seconds of the phase (--timings) */
    double t_fields_idle_s, t_fields_team_s;
    /* per field, for --timings (diagnostics, not state): relaxations, solves
     * done, their sweeps and solves skipped as settled since this process started */
    uint64_t field_updates_by[BS_FIELD_COUNT];
    uint32_t field_solves_by[BS_FIELD_COUNT], field_skips_by[BS_FIELD_COUNT], field_sweeps_by[BS_FIELD_COUNT];
    uint64_t agent_updates;
    bs_therapy_state therapy; /* drug levels, pools, switches (agents/therapy.c) */
    /* bone multicellular units (agents/bmu.c): a pool of records, one per
     * BMU (issue 19: not one per site), bmu_origin[k] the origin of record
     * k and bmu_idx[site] the record of the BMU that opened there or -1.
     * Between steps the pool holds the open BMUs in origin order
     * (bs_bmu_tidy), so its bytes do not depend on the thread count; the
     * records live in a reservation that takes memory only for the records
     * used (engine/store.h bs_reserve). The log of finished events is a
     * ring of the newest BS_BMU_LOG. */
    bs_bmu_rec *bmu_pool;
    int32_t *bmu_origin;
    int32_t *bmu_idx; /* w*h; derived from bmu_origin, not state */
    int32_t bmu_n; /* records in the pool */
    int32_t bmu_cap; /* room in the reservation: one per site */
    void *bmu_mem;
    size_t bmu_mem_bytes;
    int bmu_mem_mapped;
    struct {
        uint64_t n; /* events finished since the start (log index n % BS_BMU_LOG) */
        bs_bmu_rec rec[BS_BMU_LOG];
        int32_t origin[BS_BMU_LOG];
    } bmu_log;
    float *eroded; /* w*h, per step: mineral moved by cells at each site, + eroded by osteoclasts, - laid by an
                     osteoblast walled into its lacuna (bmu.c books and clears it) */
    int32_t *bmu_work; /* w*h scratch for the BMU survey: the memory of scratch (model.c) */
    bs_shove shove; /* tumour divisions by displacement: requests and search space (agents/shove.c); not state */
    uint64_t step0; /* step of model day 0 (after run.burn_in_d) */
    int burning; /* 1 while the burn-in runs: bone and fields only */
    bs_pace pace; /* threads per step: the caller's count or one, whichever is faster (engine/pace.h); not state:
                     no result depends on it, so checkpoints leave it out */
} bs_model;

/* Builds the world from resolved parameters. `classes` is an optional
 * tissue map (w*h, from a PNG mask) that replaces the procedural geometry;
 * its size must match lattice.width_sites x lattice.height_sites. */
bs_status bs_model_create(bs_model **out, const bs_paramset *ps, const uint8_t *classes, bs_error *err);
/* The same without the run.burn_in_d burn-in (a checkpoint restore fills
 * the state itself, agents/model_io.c). */
bs_status bs_model_create_unburnt(bs_model **out, const bs_paramset *ps, const uint8_t *classes, bs_error *err);
void bs_model_destroy(bs_model *m);

/* One step of dt_h hours. Does not allocate. */
void bs_model_step(bs_model *m);

/* Sets parameter `name` of m->ps (range-checked) and re-derives every
 * rule from it, without touching the state: the viewer's sliders and a
 * replayed log (agents/actions.h). Parameters fixed at creation
 * (lattice., geometry., run., field., solver.) are refused. Call between
 * steps. */
bs_status bs_model_set_param(bs_model *m, const char *name, double value, bs_error *err);

static inline double bs_model_time_days(const bs_model *m)
{
    return ((double)m->step - (double)m->step0) * m->dt_h / 24.0;
}

/* The remodeling-event probe (agents/bmu.c): the finished events still in
 * the log, oldest first, then (if include_open) the open ones in site
 * order; writes at most max into out and returns how many there are. */
size_t bs_bmu_events(const bs_model *m, bs_bmu_event *out, size_t max, int include_open);

/* The record of the BMU that opened at `origin`, NULL when none has. */
static inline bs_bmu_rec *bs_bmu_at(const bs_model *m, int origin)
{
    const int32_t k = m->bmu_idx[origin];
    return k >= 0 ? &m->bmu_pool[k] : NULL;
}
/* Its phase; 0 when no BMU is open there. */
static inline int bs_bmu_phase(const bs_model *m, int origin)
{
    const int32_t k = m->bmu_idx[origin];
    return k >= 0 ? m->bmu_pool[k].phase : 0;
}
/* The pool between steps (agents/bmu.c): closed records dropped, the rest
 * in origin order, bmu_idx rebuilt. Serial. */
void bs_bmu_tidy(bs_model *m);
/* bmu_idx from bmu_origin after a restore; 0 when the origins are not
 * valid sites in increasing order (a damaged checkpoint). */
int bs_bmu_reindex(bs_model *m);

/* Observables that need the spatial state (agents/observe.c), per CSV
 * row: validate's spatial derived quantities. */
#define BS_OBS_HYPOXIC_MMHG 5.0 /* a tumour cell below this pO2 counts as hypoxic (the lesion core of #15) */
#define BS_OBS_NEAR_LESION_UM 100.0 /* "near the lesion": a tumour cell within this (square window) */
typedef struct {
    double o2_p5_mmHg, o2_p95_mmHg; /* marrow pO2 percentiles */
    double o2_perisinusoidal_mmHg; /* median pO2 of marrow sites next to a sinusoid */
    double o2_endosteal_mmHg; /* median pO2 of marrow sites next to bone */
    double tumour_hypoxic_frac; /* tumour cells below BS_OBS_HYPOXIC_MMHG / tumour cells (0 without tumour) */
    double o2_tumour_min_mmHg; /* lowest pO2 at a tumour cell (0 without tumour) */
    long n_osteoclasts_near_tumour; /* osteoclasts with a tumour cell within BS_OBS_NEAR_LESION_UM */
    long n_dtc_lineage_blood, n_dtc_lineage_quiescent, n_dtc_lineage_brc; /* tumour cells by where the founder landed */
    /* dormant tumour cells by where the lineage's founder landed (the dormant share by landing site, B8) */
    long n_dtc_dormant_lineage_blood, n_dtc_dormant_lineage_quiescent, n_dtc_dormant_lineage_brc;
    double bone_lost_near_lesion_um2; /* missing mineral (open cavities, unfilled bone) within
                                         BS_OBS_NEAR_LESION_UM of a tumour cell, um^2 (0 without tumour) */
    long n_dtc_settled; /* tumour cells not migrating */
    double cxcl12_settled_dtc_au; /* mean CXCL12 at the settled tumour cells (0 without any) */
    /* finished remodeling events in the log (the newest BS_BMU_LOG) that opened at or after day 0, and the
     * medians over them of the phase lengths (days), erosion depth (um) and refill (formed / resorbed area of
     * the event, events that resorbed nothing left out); 0 while there are none */
    long bmu_events_done;
    double bmu_resorption_d, bmu_reversal_d, bmu_formation_d, bmu_event_d, bmu_depth_um, bmu_refill;
    /* killer-target contacts since the last row: contact hours / 24 / days, i.e. the mean number of
     * engaged killers (T cells: activated CTLs on a target; NK: active NK cells on a target, and those of
     * them at pO2 below nk.hypoxia_mmHg), and the NK kills made in hypoxia */
    double tcell_contacts_mean, nk_contacts_mean, nk_contacts_hypoxic_mean, kills_nk_hypoxic_per_day;
} bs_obs_spatial;

/* Observables for the CSV row (see bs_obs_columns). */
typedef struct {
    double time_days;
    double bone_area_um2;
    double bv_tv;
    double endosteum_quiescent_frac;
    long n_osteoclasts, n_osteoblasts;
    double resorbed_um2_per_day, formed_um2_per_day; /* averaged since the last row */
    double o2_median_mmHg;
    long n_dtc, n_dtc_dormant, n_dtc_proliferating;
    long n_ctc_arrived, n_extravasated;
    double tumour_area_um2;
    long n_dtc_endosteal, n_dtc_perivascular; /* settled DTCs on the endosteum; next to a vessel (not endosteal) */
    long n_tcells, n_tcells_active, n_nk, n_mdsc;
    double kills_tcell_per_day, kills_nk_per_day; /* since the last observe */
    long by_state[BS_MAX_CELL_TYPES][BS_MAX_STATES]; /* cells per type and state (celltypes.h) */
    long store_full_refusals; /* cumulative: placements refused for want of room (engine/store.h) */
    bs_obs_spatial sp;
    bs_therapy_obs drugs; /* drug levels and therapy counters (therapy.h) */
    /* immunity (#17): what the immune cells and the tumour see */
    double o2_tumour_mmHg; /* mean pO2 at tumour-cell sites (0 without a tumour) */
    double tgfb_tcell_au, suppr_tcell_au; /* mean TGF-beta / suppression field at CD8 T-cell sites */
    double myeloid_oc_pool; /* anti-Gr1: osteoclast-competent Gr1- myeloid pool, cells (therapy.c) */
} bs_obs;

/* Kill rates are averaged over window_days from the kill counters'
 * values at the previous call, which this call then records. */
void bs_model_observe(bs_model *m, bs_obs *o, double resorbed_um2, double formed_um2, double window_days);
/* the spatial observables (agents/observe.c); bs_model_observe calls it.
 * The contact rates are averaged over window_days from m->row_sum, which
 * this call then clears. */
void bs_observe_spatial(bs_model *m, bs_obs_spatial *sp, double window_days);
/* a += b, field by field (the per-step totals; agents/observe.c) */
void bs_step_totals_add(bs_step_totals *a, const bs_step_totals *b);
/* k-th smallest of a[0..n-1], reordering a (agents/observe.c) */
float bs_quickselect_f(float *a, long n, long k);

/* ---- checkpoint/restart and memory estimate (agents/model_io.c) --------
 * Maintained with issue 8 (reliability). Every piece of state that a step
 * reads from the previous one is listed ONCE, in the table in model_io.c;
 * a new state array in bs_model, bs_lattice, bs_store or bs_field (or a new
 * field: the table iterates over BS_FIELD_COUNT) is a new line there. */
#include "checkpoint.h"

/* A block a caller adds to a model checkpoint: `size` bytes at `data`,
 * saved as section `name` and read back whole (the session's run state,
 * viz/cli/session.c). The model does not look inside. */
typedef struct {
    const char *name;
    uint32_t size;
    void *data;
} bs_ckpt_extra;

/* Bytes the model of this parameter set allocates (lattice, agent store,
 * fields with solver scratch, per-site work arrays), estimated from the
 * same table as the checkpoint, before anything is allocated. */
double bs_model_estimate_bytes(const bs_paramset *ps);

/* How many sets of cached conductances the model's fields use: fields
 * with the same diffusivity and bone permeability share one
 * (engine/field.h bs_field_share_conductances). */
int bs_model_field_sets(const bs_paramset *ps);

/* Writes the model and the caller's extra sections to path (atomic, see
 * checkpoint.h). The model is read only; call between steps. */
bs_status bs_model_save(const bs_model *m, const bs_ckpt_extra *extra, size_t nextra, const char *path, bs_error *err);

/* Restoring is two calls on an open reader, so the caller can change what
 * only the run loop reads (run.days, output intervals) in between:
 * bs_model_load_params rebuilds the resolved parameters (caller destroys
 * *ps) and reads the caller's extra sections (each must be there, of its
 * size); bs_model_load builds the model from ps and fills
 * every state array from the file, checking that the agent store is
 * consistent. A file from another build (unknown, missing or re-sized
 * state, changed defaults) is refused with a message that says so. */
bs_status bs_model_load_params(bs_ckpt_reader *r, const bs_registry *reg, bs_paramset **ps, const bs_ckpt_extra *extra,
        size_t nextra, bs_error *err);
bs_status bs_model_load(bs_ckpt_reader *r, const bs_paramset *ps, bs_model **out, bs_error *err);
/* Marks every row of the release and of the sources kept zero-aware as
 * possibly non-zero (call after writing them from outside the step). */
void bs_model_rows_unknown(bs_model *m);
/* ---- end of the model_io.c block ---------------------------------------- */

#endif
