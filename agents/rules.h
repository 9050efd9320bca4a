/* rules.h — the rule functions of each cell type and of the bone surface,
 * as called by the scheduler in model.c. Internal to agents/.
 *
 * Every rule runs inside one tile of the spatial colouring
 * (bs_store_for_tiles): it may read and write sites up to BS_TILE_REACH
 * sites from its tile, and adds its observables to the tile's totals. */
#ifndef BS_RULES_H
#define BS_RULES_H

#include <math.h>
#include <stddef.h>

#include "model.h"
#include "rng.h"
#include "spatial.h"

/* parameter tables, one per module */
extern const bs_param_def bs_bmu_params[];
extern const size_t bs_bmu_nparams;
extern const bs_param_def bs_oc_params[];
extern const size_t bs_oc_nparams;
extern const bs_param_def bs_ob_params[];
extern const size_t bs_ob_nparams;
extern const bs_param_def bs_dtc_params[];
extern const size_t bs_dtc_nparams;
extern const bs_param_def bs_tcell_params[];
extern const size_t bs_tcell_nparams;
extern const bs_param_def bs_nk_params[];
extern const size_t bs_nk_nparams;
extern const bs_param_def bs_mdsc_params[];
extern const size_t bs_mdsc_nparams;
extern const bs_param_def bs_world_params[];
extern const size_t bs_world_nparams;

/* derive: registry values -> per-step rule parameters */
void bs_bmu_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_oc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_ob_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_dtc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_tcell_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_nk_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);
void bs_mdsc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um);

/* opens a BMU (BRC in resorption phase) around site i */
void bs_bmu_open(bs_model *m, int i);
/* the scenario's initial BMU, if bmu.initial_bmu_x_frac >= 0 */
void bs_bmu_open_initial(bs_model *m);

/* a one-site BMU in resorption at quiescent site i (an osteoclast made
 * there by another route) */
void bs_bmu_claim(bs_model *m, int i);

/* surface (bone multicellular unit) rules for endosteal site i */
void bs_bmu_site(bs_model *m, int i, bs_step_totals *tot);

/* The life of every BMU, once per step after the tiled rules (serial,
 * raster order): survey of its cells and cavity, erosion bookkeeping,
 * lamellar refilling under its osteoblast team, phase changes, closing
 * (agents/bmu.c). Formed bone goes into tot. */
void bs_bmu_update(bs_model *m, bs_step_totals *tot);

/* cell formation at a surface site (called by bs_bmu_site); return 1 if a
 * cell was made */
int bs_oc_try_form(bs_model *m, int i);
/* an osteoclast made at free site i (id from the site and step) */
int bs_oc_spawn(bs_model *m, int i);
/* serially after the tile pass: the osteoclasts that a tumour cell held
 * up (bs_shove_request_oc) form where the cell can be pushed away
 * (bs_shove_free_site), unless one formed within the exclusion distance
 * meanwhile; in tile order, then raster order */
void bs_oc_form_held(bs_model *m);
int bs_ob_try_recruit(bs_model *m, int i);

/* agent rules */
void bs_oc_act(bs_model *m, int slot, bs_step_totals *tot);
void bs_ob_act(bs_model *m, int slot, bs_step_totals *tot);
void bs_dtc_act(bs_model *m, int slot, bs_step_totals *tot);
void bs_tcell_act(bs_model *m, int slot, bs_step_totals *tot);
void bs_nk_act(bs_model *m, int slot, bs_step_totals *tot);
void bs_mdsc_act(bs_model *m, int slot, bs_step_totals *tot);

/* tumour: CTC arrivals in vessels (serial phase), initial cells */
void bs_dtc_arrivals(bs_model *m);
void bs_dtc_seed(bs_model *m);
/* LIFR pro-dormancy signal at site i (0 when knocked out; lower when
 * hypoxic; higher with HDAC inhibition) */
float bs_dtc_lifr_signal(const bs_model *m, int i);
/* dormancy push of the niche at site i (1 quiet endosteum/osteoblast) */
float bs_dtc_niche_dormancy(const bs_model *m, int i);
int bs_dtc_is_niche(const bs_model *m, int i);

/* immunity (agents/immune.h): entry of each type at the sinusoids
 * (serial phase); the MDSC brake on a T cell at site i (1 = none); an NK
 * cell's kill hazard at site i (1/h, hypoxia and suppression applied) */
void bs_tcell_arrivals(bs_model *m);
void bs_nk_arrivals(bs_model *m);
void bs_mdsc_arrivals(bs_model *m);
float bs_tcell_mdsc_brake(const bs_model *m, int i);
/* TGF-beta's cut of a CD8 cell's CXCR3-driven chemokine response at site i
 * (tcell.cxcr3_tgfb_half_au; 1 = none) */
float bs_tcell_cxcr3_factor(const bs_model *m, int i);
float bs_nk_kill_rate_h(const bs_model *m, int i);
/* the Tregs' brake on osteoclast formation at surface site i
 * (treg.oc_formation_cut, treg.oc_niche_um, treg.oc_niche_half_n; 1 = none) */
float bs_treg_oc_formation_factor(const bs_model *m, int i);

/* The random draws of the rules: bs_rng_uniform / bs_rng_below on the
 * AGENT stream (keyed by the agent's id) or the SURFACE stream (keyed by
 * the site), same bits, but one mix per draw while the step's prefixes are
 * cached: bs_model_step fills m->r.pre for (seed, step) and sets valid only
 * for its tile loop, so a rule called from anywhere else (a test, a
 * changed seed) takes the full key. */
static inline int bs_pre_ok(const bs_model *m, uint32_t draw)
{
    return m->r.pre.valid && draw < 8;
}
static inline float bs_draw_agent(const bs_model *m, uint64_t id, uint32_t draw)
{
    if (bs_pre_ok(m, draw)) return bs_rng_uniform_pre(m->r.pre.agent[draw], id);
    return bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, id, draw);
}
static inline uint32_t bs_draw_agent_below(const bs_model *m, uint64_t id, uint32_t draw, uint32_t n)
{
    if (bs_pre_ok(m, draw)) return bs_rng_below_pre(m->r.pre.agent[draw], id, n);
    return bs_rng_below(m->seed, BS_STREAM_AGENT, m->step, id, draw, n);
}
static inline float bs_draw_surface(const bs_model *m, uint64_t key, uint32_t draw)
{
    if (bs_pre_ok(m, draw)) return bs_rng_uniform_pre(m->r.pre.surface[draw], key);
    return bs_rng_uniform(m->seed, BS_STREAM_SURFACE, m->step, key, draw);
}

/* Hill-type O2 response: 0 at anoxia, 1/2 at half_mmHg, -> 1 when well
 * oxygenated, steepness n. Every O2-dependent rule uses it (no steps). */
static inline float bs_o2_hill(float o2, float half_mmHg, float n)
{
    if (!(o2 > 0.0f)) return 0.0f;
    float a = powf(o2 / half_mmHg, n);
    return a / (1.0f + a);
}

/* helpers shared by rules: spatial.h */

#endif
