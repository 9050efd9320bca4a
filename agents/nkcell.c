/* nkcell.c — natural killer cells.
 *
 * NK cells enter from sinusoids near the tumour and move like T cells
 * (immune.h), but faster. They need no priming and kill the tumour cells
 * they touch (non-specific: no antigen needed) with a constant hazard;
 * quiescent, dormant cells show few NK-activating ligands and are
 * recognised less often (nk.dormant_factor). Their
 * activating receptors (NKp46, NKp30, NKp44, NKG2D) fall under hypoxia
 * (Balsamo 2013: 1% O2), so the hazard is cut below nk.hypoxia_mmHg and
 * comes back when the site is oxygenated again; TGF-beta and the
 * suppression field (IL-10/TGF-beta/PGE2) blunt it too (Xue 2024 3.2).
 * Cytotoxic NK cells secrete IFN-gamma. After nk.kills_to_exhaustion kills
 * (store.aux) a cell is spent: it stops killing and secreting. */
#include "immune.h"

const bs_param_def bs_nk_params[] = {
    { "nk.recruit_per_d", BS_PT_REAL, 0.0, 0.0, 1e3, "1/d",
            "NK cells entering per sinusoid site per day at saturating tumour chemokine. 0 (the default) = no NK "
            "cells; "
            "immune_surveillance sets 0.01 (A)",
            NULL, NULL },
    { "nk.chemokine_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level for half-maximal NK entry and receptor occupancy in chemotaxis (A)", NULL, NULL },
    { "nk.lifespan_d", BS_PT_REAL, 5.0, 0.1, 365.0, "d", "Mean life of an NK cell in the marrow (3-7 d, M~/A)", NULL,
            NULL },
    { "nk.speed_um_per_min", BS_PT_REAL, 10.0, 0.0, 100.0, "um/min",
            "Migration speed 5-15 um/min (PhysiCell table, Mod✓); sub-moves per step, at most 10", NULL, NULL },
    { "nk.persistence", BS_PT_REAL, 0.5, 0.0, 1.0, "1", "Chance that a sub-move keeps the last direction (A)", NULL,
            NULL },
    { "nk.chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Chemotactic sensitivity: sub-move weights exp(chemotaxis x change in chemokine receptor occupancy) (A)",
            NULL, NULL },
    { "nk.kill_rate_per_h_contact", BS_PT_REAL, 0.2, 0.0, 10.0, "1/h",
            "Kill hazard of a normoxic NK cell touching a tumour cell (serial killing of ~2-6 targets over hours in "
            "vitro, "
            "M~; A)",
            NULL, NULL },
    { "nk.dormant_factor", BS_PT_REAL, 0.2, 0.0, 1.0, "1",
            "Chance an NK cell recognises a dormant tumour cell, relative to a cycling one (quiescent latent cells "
            "lower their "
            "NK-activating ligands and evade NK cells, Malladi 2016 Cell, M~; value A)",
            NULL, NULL },
    { "nk.hypoxia_mmHg", BS_PT_REAL, 10.0, 0.1, 100.0, "mmHg",
            "Half-effect pO2 of the hypoxic brake on NK killing: the kill hazard is x(f + (1 - f) H), H = Hill(pO2, "
            "this, nk.hypoxia_hill) (activating receptors fall at 1% O2 ~ 7.6 mmHg, Balsamo 2013, M✓; 10 mmHg as for "
            "HIF-1a)",
            NULL, NULL },
    { "nk.hypoxia_hill", BS_PT_REAL, 3.0, 0.5, 20.0, "1",
            "Steepness of that brake (HIF-1a rises steeply below ~2% O2, Jiang 1996, M~; value A)", NULL, NULL },
    { "nk.hypoxia_kill_factor", BS_PT_REAL, 0.4, 0.0, 1.0, "1",
            "Kill hazard multiplier under hypoxia: x0.3-0.5 (Balsamo 2013, M✓ qualitative; A). "
            "Calibrated "
            "to B17",
            NULL, NULL },
    { "nk.suppr_half_au", BS_PT_REAL, 0.1, 1e-6, 1e6, "au",
            "Immunosuppression field level that halves NK killing (TGF-beta, PGE2, IL-10 lower NK activating "
            "receptors, Xue "
            "2024 3.2, qualitative; value A)",
            NULL, NULL },
    { "nk.tgfb_half_au", BS_PT_REAL, 0.05, 1e-6, 1e6, "au",
            "TGF-beta level that halves NK killing: TGF-beta lowers NKG2D/NKp30 and cytotoxicity through the same "
            "receptors (Castriconi 2003 PNAS, M~), half-effect as the tumour's dtc.tgfb_half_au (A)",
            NULL, NULL },
    { "nk.kills_to_exhaustion", BS_PT_INT, 5.0, 1.0, 1000.0, "kills",
            "Kills after which an NK cell is spent (serial killing of ~2-6 targets, M~; A)", NULL, NULL },
    { "nk.ifng_per_h", BS_PT_REAL, 20.0, 0.0, 1e4, "au/h",
            "IFN-gamma secreted by a cytotoxic NK cell (Xue 2024 3.2, qualitative; value A)", NULL, NULL },
};
const size_t bs_nk_nparams = sizeof bs_nk_params / sizeof bs_nk_params[0];

void bs_nk_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    bs_immune_rules *im = &r->immune;
    bs_immune_motility_derive(ps, "nk", &im->nk, dt_h, h_um);
    im->nk_kill_h = (float)bs_param(ps, "nk.kill_rate_per_h_contact");
    im->nk_dormant = (float)bs_param(ps, "nk.dormant_factor");
    im->nk_hypoxia_mmHg = (float)bs_param(ps, "nk.hypoxia_mmHg");
    im->nk_hypoxia_factor = (float)bs_param(ps, "nk.hypoxia_kill_factor");
    im->nk_hypoxia_n = (float)bs_param(ps, "nk.hypoxia_hill");
    im->nk_suppr_K = (float)bs_param(ps, "nk.suppr_half_au");
    im->nk_tgfb_K = (float)bs_param(ps, "nk.tgfb_half_au");
    im->nk_kills_max = (int)bs_param(ps, "nk.kills_to_exhaustion");
    im->nk_ifng = (float)bs_param(ps, "nk.ifng_per_h");
}

void bs_nk_arrivals(bs_model *m)
{
    bs_immune_recruit(m, &m->r.immune.nk, BS_CELL_NK, BS_NK_ACTIVE, 0.0f, 0);
}

float bs_nk_kill_rate_h(const bs_model *m, int i)
{
    const bs_immune_rules *im = &m->r.immune;
    float hyp = im->nk_hypoxia_factor +
            (1.0f - im->nk_hypoxia_factor) *
                    bs_o2_hill(m->fields[BS_FIELD_O2].c[i], im->nk_hypoxia_mmHg, im->nk_hypoxia_n);
    return im->nk_kill_h * hyp * bs_immune_field_brake(m, i, im->nk_suppr_K, im->nk_tgfb_K);
}

void bs_nk_act(bs_model *m, int slot, bs_step_totals *tot)
{
    bs_store *s = &m->store;
    const bs_immune_rules *im = &m->r.immune;
    uint64_t id = s->id[slot];
    s->age_h[slot] += im->dt_h;
    if (bs_draw_agent(m, id, 0) < im->nk.p_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    if (s->state[slot] != BS_NK_ACTIVE) {
        bs_immune_walk(m, slot, &im->nk, 0);
        return;
    }
    int target = bs_immune_engage(m, slot, im->nk_dormant);
    if (target < 0) {
        bs_immune_walk(m, slot, &im->nk, 1);
        return;
    }
    int i = s->site[slot];
    int hypoxic = m->fields[BS_FIELD_O2].c[i] < im->nk_hypoxia_mmHg;
    tot->nk_contact_h += (double)im->dt_h;
    if (hypoxic) tot->nk_contact_h_hypoxic += (double)im->dt_h;
    if (bs_draw_agent(m, id, 4) < 1.0f - expf(-bs_nk_kill_rate_h(m, i) * im->dt_h)) {
        bs_store_kill_locked(s, s->occ[target]);
        tot->kills_nk++;
        if (hypoxic) tot->kills_nk_hypoxic++;
        s->aux[slot] += 1.0f;
        if (s->aux[slot] >= (float)im->nk_kills_max) s->state[slot] = BS_NK_SPENT;
    }
}

/* cytotoxic NK cells secrete IFN-gamma */
static void nk_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)site;
    if (m->store.state[slot] == BS_NK_ACTIVE) acc->ifng += m->r.immune.nk_ifng;
}

const bs_celltype bs_type_nk = {
    .name = "nk",
    .plural = "NK cells",
    .n_states = 2,
    .state_names = { "cytotoxic", "spent" },
    .rgb = { { 0xE6, 0x9F, 0x00 }, { 0xE6, 0x9F, 0x00 } }, /* orange */
    .shape = { BS_SHAPE_DIAMOND, BS_SHAPE_RING },
    .footprint_sites = 1,
    .params = bs_nk_params,
    .n_params = sizeof bs_nk_params / sizeof bs_nk_params[0],
    .derive = bs_nk_derive,
    .act = bs_nk_act,
    .arrivals = bs_nk_arrivals,
    .sources = nk_sources,
    .radiation = { .model = BS_RT_D0, .d0_key = "rt.nk_D0_Gy" },
    .n_observables = 1,
    .observables = { { "n_nk", "cells", BS_ALL_STATES } },
};
