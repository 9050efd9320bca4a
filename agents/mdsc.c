/* mdsc.c — myeloid-derived suppressor cells.
 *
 * MDSCs are recruited by tumour-derived signals (the chemokine field,
 * immune.h) and crawl towards the tumour, where they settle in its stroma.
 * They suppress CD8 T cells within mdsc.suppress_radius_um: each multiplies
 * the T cell's activation and kill hazard by mdsc.suppress_factor and
 * hastens its exhaustion (the brake is applied in tcell.c), and they
 * secrete the lumped immunosuppression signal (IL-10/TGF-beta/PGE2,
 * BS_FIELD_SUPPR), as do tumour cells that are not dormant; both secrete
 * more under hypoxia (HIF-1a, suppr.hypoxia_*), so re-oxygenation lowers
 * the suppression. An MDSC with
 * bone within an osteoclast's reach (oc.reach_um) differentiates into an
 * osteoclast at a rate that saturates with the RANKL signal (Sawant 2013:
 * MDSCs from tumour-bearing mice form functional osteoclasts with RANKL and
 * M-CSF), unless another osteoclast is within oc.exclusion_um; on quiet
 * endosteum the new osteoclast opens its own one-site resorption pit.
 * MDSCs are short-lived (days). Two subsets enter (mdsc.monocytic_frac):
 * granulocytic (Ly6G+) and monocytic (Ly6C-high); they act alike here, but
 * anti-Gr1 depletes only the granulocytic ones (therapy.c), so the
 * monocytic share keeps braking T cells under the antibody
 * (mdsc.recruit_per_d = 0 removes both from the command line). An MDSC
 * that becomes an osteoclast takes the osteoclast's state 0. */
#include "immune.h"

const bs_param_def bs_mdsc_params[] = {
    { "mdsc.recruit_per_d", BS_PT_REAL, 0.0, 0.0, 1e3, "1/d",
            "MDSCs entering per sinusoid site per day at saturating tumour chemokine (2-3x more CD11b+Gr1+ cells in "
            "marrow "
            "with bone metastases, Sawant & Ponnazhagan 2013, M✓ qualitative). 0 (the default) = none; "
            "mdsc_suppression sets "
            "0.1 (A)",
            NULL, NULL },
    { "mdsc.chemokine_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level for half-maximal MDSC entry and receptor occupancy in chemotaxis (A)", NULL, NULL },
    { "mdsc.lifespan_d", BS_PT_REAL, 2.0, 0.1, 365.0, "d", "Mean life of an MDSC: 1-3 d (M~/A)", NULL, NULL },
    { "mdsc.speed_um_per_min", BS_PT_REAL, 3.0, 0.0, 100.0, "um/min",
            "Migration speed of a myeloid cell, 2-5 um/min (A); sub-moves per step, at most 10", NULL, NULL },
    { "mdsc.persistence", BS_PT_REAL, 0.3, 0.0, 1.0, "1", "Chance that a sub-move keeps the last direction (A)", NULL,
            NULL },
    { "mdsc.chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Chemotactic sensitivity: sub-move weights exp(chemotaxis x change in chemokine receptor occupancy) (A)",
            NULL, NULL },
    { "mdsc.monocytic_frac", BS_PT_REAL, 0.25, 0.0, 1.0, "1",
            "Share of entering MDSCs that are monocytic (CD11b+Ly6G-Ly6C-high); the rest are granulocytic "
            "(CD11b+Ly6G+Ly6C-low). In tumour-bearing mice the granulocytic subset is the majority, the monocytic "
            "about 20-30% (Youn 2008 J Immunol 181:5791, M~; 0.25, A). Both brake T cells alike in the model; "
            "anti-Gr1 depletes only the granulocytic ones: at depleting doses the RB6-8C5 antibody removes Ly6G-high "
            "cells but leaves Ly6C-high monocytic MDSCs (Ma 2012 J Leukoc Biol 92:1199, M~; Capietto 2021 Cancer "
            "Immunol Res 9:1400: Ly6C+ cells remain and expand under anti-Gr1, M~)",
            NULL, NULL },
    { "mdsc.suppress_radius_um", BS_PT_REAL, 30.0, 0.0, 50.0, "um",
            "T cells within this distance of an MDSC are suppressed: 20-50 um (A). At most 5 sites "
            "are "
            "used (the tile reach; matters only for lattice.h_um < 10)",
            NULL, NULL },
    { "mdsc.suppress_factor", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "T-cell activation and kill hazard multiplied by this per MDSC in range, saturating at 3 MDSCs (strong "
            "inhibition "
            "at MDSC:T 1:1 in vitro, M~; x0.3, A). Calibrated to B16",
            NULL, NULL },
    { "mdsc.suppr_per_h", BS_PT_REAL, 20.0, 0.0, 1e4, "au/h",
            "Immunosuppression signal (IL-10/TGF-beta/PGE2 lumped) secreted by an MDSC (MDSCs make ~2x TGF-beta in "
            "tumour-bearing mice, Danilin 2012, M✓ qualitative; value A)",
            NULL, NULL },
    { "mdsc.to_oc_rate_per_d", BS_PT_REAL, 0.02, 0.0, 10.0, "1/d",
            "Differentiation of an MDSC with bone within oc.reach_um into an osteoclast at saturating RANKL signal "
            "(Sawant "
            "2013 Cancer Res, M✓ qualitative; 0.005-0.1/d, A)",
            NULL, NULL },
    { "suppr.tumour_per_h", BS_PT_REAL, 2.0, 0.0, 1e4, "au/h",
            "Immunosuppression signal secreted by a cycling or homing (not dormant) tumour cell (TGF-beta, PGE2, "
            "IL-10, Xue "
            "2024 3.2 qualitative; value A)",
            NULL, NULL },
    { "suppr.hypoxia_gain", BS_PT_REAL, 2.0, 0.0, 100.0, "1",
            "Extra immunosuppression secreted by tumour cells and MDSCs under hypoxia: secretion x (1 + this x (1 - "
            "Hill(pO2, suppr.hypoxia_mmHg, suppr.hypoxia_hill))), x3 at anoxia. HIF-1a drives CD39/CD73 and so "
            "extracellular adenosine (Synnestvedt 2002 J Clin Invest, M~), raises MDSC suppressive activity (Corzo "
            "2010 J Exp Med, M~) and tumour TGF-beta; 60% O2 breathing lowers adenosine and TGF-beta and weakens "
            "suppression (Hatfield 2015 Sci Transl Med, M✓ qualitative); value A",
            NULL, NULL },
    { "suppr.hypoxia_mmHg", BS_PT_REAL, 10.0, 0.1, 100.0, "mmHg",
            "Half-effect pO2 of that rise (HIF-1a stabilised below ~2% O2 ~ 15 mmHg, steeply, Jiang 1996, M~; 10 "
            "mmHg as tcell.hypoxia_mmHg, A)",
            NULL, NULL },
    { "suppr.hypoxia_hill", BS_PT_REAL, 3.0, 0.5, 20.0, "1", "Steepness of that rise (as tcell.hypoxia_hill, A)", NULL,
            NULL },
};
const size_t bs_mdsc_nparams = sizeof bs_mdsc_params / sizeof bs_mdsc_params[0];

void bs_mdsc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    bs_immune_rules *im = &r->immune;
    bs_immune_motility_derive(ps, "mdsc", &im->md, dt_h, h_um);
    im->md_radius = (int)lround(bs_param(ps, "mdsc.suppress_radius_um") / h_um);
    if (im->md_radius > BS_IMMUNE_MAX_RADIUS) im->md_radius = BS_IMMUNE_MAX_RADIUS; /* only with h_um < 10 */
    im->md_factor = (float)bs_param(ps, "mdsc.suppress_factor");
    im->md_suppr = (float)bs_param(ps, "mdsc.suppr_per_h");
    im->md_mono_frac = (float)bs_param(ps, "mdsc.monocytic_frac");
    im->p_md_to_oc = bs_rate_to_prob(bs_param(ps, "mdsc.to_oc_rate_per_d") / 24.0, dt_h);
    im->suppr_tumour = (float)bs_param(ps, "suppr.tumour_per_h");
    im->suppr_hyp_gain = (float)bs_param(ps, "suppr.hypoxia_gain");
    im->suppr_hyp_mmHg = (float)bs_param(ps, "suppr.hypoxia_mmHg");
    im->suppr_hyp_n = (float)bs_param(ps, "suppr.hypoxia_hill");
}

void bs_mdsc_arrivals(bs_model *m)
{
    const bs_immune_rules *im = &m->r.immune;
    bs_immune_recruit(m, &im->md, BS_CELL_MDSC, BS_MDSC_GRANULOCYTIC, im->md_mono_frac, BS_MDSC_MONOCYTIC);
}

/* Is there bone within R sites (Euclidean) of site i? */
static int bone_within(const bs_lattice *lat, int i, int R)
{
    int x = i % lat->w, y = i / lat->w;
    for (int yy = y - R; yy <= y + R; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - R; xx <= x + R; xx++)
            if (xx >= 0 && xx < lat->w && (xx - x) * (xx - x) + (yy - y) * (yy - y) <= R * R &&
                    lat->tissue[yy * lat->w + xx] == BS_TISSUE_BONE)
                return 1;
    }
    return 0;
}

/* MDSC -> osteoclast at site i with bone within the osteoclast's reach
 * (draw 1). Runs before the MDSC moves, so the searches stay within the
 * tile reach. */
static int to_osteoclast(bs_model *m, int slot)
{
    bs_store *s = &m->store;
    bs_lattice *lat = &m->lat;
    int i = s->site[slot];
    if (m->r.immune.p_md_to_oc <= 0.0f || !bone_within(lat, i, m->r.oc_reach)) return 0;
    float sig = bs_rankl_signal(m, i);
    float p = m->r.immune.p_md_to_oc * sig / (1.0f + sig);
    if (bs_draw_agent(m, s->id[slot], 1) >= p) return 0;
    if (bs_agent_within(m, i, m->r.oc_exclusion, BS_CELL_OSTEOCLAST)) return 0;
    bs_store_retype(s, slot, BS_CELL_OSTEOCLAST);
    s->state[slot] = 0;
    s->age_h[slot] = 0.0f;
    s->aux[slot] = 0.0f;
    if (lat->surface[i] == BS_SURF_QUIESCENT) {
        bs_bmu_claim(m, i); /* a one-site BMU in resorption (bmu.c) */
    }
    return 1;
}

void bs_mdsc_act(bs_model *m, int slot, bs_step_totals *tot)
{
    bs_store *s = &m->store;
    const bs_immune_rules *im = &m->r.immune;
    s->age_h[slot] += im->dt_h;
    if (bs_draw_agent(m, s->id[slot], 0) < im->md.p_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    if (to_osteoclast(m, slot)) {
        tot->mdsc_to_oc++;
        return;
    }
    bs_immune_walk(m, slot, &im->md, 1); /* they gather in the tumour stroma */
}

/* MDSCs secrete the lumped immunosuppressive signal, more under hypoxia */
static void mdsc_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)slot;
    acc->suppr += m->r.immune.md_suppr * bs_immune_hypoxic_suppr(m, site);
}

const bs_celltype bs_type_mdsc = {
    .name = "mdsc",
    .plural = "MDSCs",
    .n_states = 2,
    .state_names = { "granulocytic", "monocytic" },
    /* greys (the palette's black would vanish on the marrow); the monocytic subset darker, as a diamond */
    .rgb = { { 0x99, 0x99, 0x99 }, { 0x6e, 0x6e, 0x6e } },
    .shape = { BS_SHAPE_SQUARE, BS_SHAPE_DIAMOND },
    .footprint_sites = 1,
    .params = bs_mdsc_params,
    .n_params = sizeof bs_mdsc_params / sizeof bs_mdsc_params[0],
    .derive = bs_mdsc_derive,
    .act = bs_mdsc_act,
    .arrivals = bs_mdsc_arrivals,
    .sources = mdsc_sources,
    .radiation = { .model = BS_RT_LQ,
            .alpha_key = "rt.mdsc_alpha_per_Gy",
            .alpha_beta_key = "rt.myeloid_alpha_beta_Gy" },
    .drugs = { .anti_gr1_depleted_states = 1u << BS_MDSC_GRANULOCYTIC },
    .n_observables = 1,
    .observables = { { "n_mdsc", "cells", BS_ALL_STATES } },
};
