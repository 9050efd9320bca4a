/* macrophage.c — tumour-associated macrophages, M1 and M2.
 *
 * Monocytes are drawn from the sinusoids by the tumour's chemokine (CCL2
 * and CCL5 are part of the lumped chemokine field, immune.h) and become
 * macrophages in the lesion; they enter pro-inflammatory (M1) and crawl
 * up the chemokine gradient, stopping at tumour cells. Two states:
 *
 * - M1 (pro-inflammatory): kills or phagocytoses a tumour cell it is
 *   engaged on at macrophage.m1_kill_per_h_contact (M1 macrophages mediate
 *   anti-tumour responses in bone, Xue 2024 section 3.2);
 * - M2 (immunosuppressive): secretes IL-10 into the immunosuppression
 *   field (macrophage.m2_suppr_per_h), which brakes CD8 and NK killing
 *   (tcell.c, nkcell.c), and TGF-beta1 into the TGF-beta field
 *   (macrophage.m2_tgfb_per_h), which speeds tumour division and PTHrP
 *   (dtc.c) and brakes CD8 and NK cells; it does not kill. It also feeds
 *   the tumour cells next to it (EGF, IL-6): a cycling tumour cell within
 *   macrophage.m2_trophic_radius_um of an M2 cell divides x (1 +
 *   macrophage.m2_trophic_gain) (the hook is in dtc.c; the parameters are
 *   here because they describe the macrophage).
 *
 * Polarisation. Tumour signals turn M1 into M2: in lung adenocarcinoma
 * bone metastases CD74-ROS1 tumour cells polarise macrophages to M2
 * through STAT3 and CCL5 (Wang 2024 Oncogene, via Xue 2024 3.2). A
 * macrophage turns M2 at macrophage.m2_polarise_per_d x occupancy of the
 * tumour chemokine at its site (CCL5 is part of it) x (1 -
 * macrophage.polarisation_block), and back to M1 at
 * macrophage.m1_revert_per_d (polarisation is reversible). The block
 * stands for crizotinib (ROS1) or maraviroc (CCR5, the CCL5 receptor),
 * which slowed bone metastasis in Wang 2024. Macrophages die at a
 * constant hazard (macrophage.lifespan_d). */
#include "immune.h"


static const bs_param_def macrophage_params[] = {
    { "macrophage.recruit_per_d", BS_PT_REAL, 0.0, 0.0, 1e3, "1/d",
            "Monocytes entering per sinusoid site per day at saturating tumour chemokine (CCL2/CCL5 recruit "
            "monocytes to tumours, M✓ qualitative). 0 (the default) = no macrophages in the model; macrophages "
            "sets 0.03 (A)",
            NULL, NULL },
    { "macrophage.chemokine_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level for half-maximal monocyte entry and receptor occupancy in chemotaxis (as "
            "tcell.chemokine_half_au, A)",
            NULL, NULL },
    { "macrophage.lifespan_d", BS_PT_REAL, 14.0, 0.5, 365.0, "d",
            "Mean life of a monocyte-derived macrophage in a tumour (weeks; A)", NULL, NULL },
    { "macrophage.speed_um_per_min", BS_PT_REAL, 2.0, 0.0, 100.0, "um/min",
            "Migration speed of a macrophage in tissue, 1-3 um/min (A); sub-moves per step, at most 10", NULL, NULL },
    { "macrophage.persistence", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "Chance that a sub-move keeps the last direction (as mdsc.persistence, A)", NULL, NULL },
    { "macrophage.chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Chemotactic sensitivity: sub-move weights exp(chemotaxis x change in chemokine receptor occupancy) (A)",
            NULL, NULL },
    { "macrophage.m1_kill_per_h_contact", BS_PT_REAL, 0.01, 0.0, 10.0, "1/h",
            "Kill (phagocytosis, NO/TNF) hazard of an M1 macrophage engaged on a tumour cell: about a quarter of a "
            "kill per day in contact (activated macrophages need effector:target ratios of 5-20:1 over 1-3 days to "
            "kill tumour cells in vitro, M~; far slower than a CTL's 2-16 per day). M1 macrophages mediate anti-tumour "
            "responses in bone (Xue 2024 3.2, M✓ qualitative); value A",
            NULL, NULL },
    { "macrophage.dormant_antigen_factor", BS_PT_REAL, 0.2, 0.0, 1.0, "1",
            "Chance a dormant tumour cell is engaged by an M1 macrophage, relative to a cycling one (as "
            "tcell.dormant_antigen_factor, A)",
            NULL, NULL },
    { "macrophage.m2_polarise_per_d", BS_PT_REAL, 1.0, 0.0, 100.0, "1/d",
            "M1 -> M2 polarisation at saturating tumour signal (CD74-ROS1/STAT3/CCL5 axis, Wang 2024 Oncogene via "
            "Xue 2024 3.2, M✓ qualitative; M2 polarisation takes 1-2 d in vitro, A)",
            NULL, NULL },
    { "macrophage.polarise_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level (CCL5 is part of it) for half-maximal M2 polarisation (A)", NULL, NULL },
    { "macrophage.m1_revert_per_d", BS_PT_REAL, 0.1, 0.0, 100.0, "1/d",
            "M2 -> M1 return rate (polarisation is reversible; A)", NULL, NULL },
    { "macrophage.polarisation_block", BS_PT_REAL, 0.0, 0.0, 1.0, "1",
            "Share of the tumour-driven M2 polarisation blocked (crizotinib on ROS1 or maraviroc on CCR5 slowed LUAD "
            "bone metastasis, Wang 2024 Oncogene, M✓ qualitative). 0 (the default) = no block",
            NULL, NULL },
    { "macrophage.m2_suppr_per_h", BS_PT_REAL, 20.0, 0.0, 1e4, "au/h",
            "IL-10 secreted by an M2 macrophage into the immunosuppression field (M2 cells secrete IL-10 and "
            "TGF-beta to downregulate immune responses, Xue 2024 3.2, M✓ qualitative; value as mdsc.suppr_per_h, A)",
            NULL, NULL },
    { "macrophage.m2_tgfb_per_h", BS_PT_REAL, 5.0, 0.0, 1e4, "au/h",
            "TGF-beta1 secreted by an M2 macrophage into the TGF-beta field (M2 cells make high TGF-beta1 that drives "
            "LUAD invasion through SMAD2/3, Wang 2024 via Xue 2024 3.2, M✓ qualitative; value A)",
            NULL, NULL },
    { "macrophage.m2_trophic_gain", BS_PT_REAL, 0.5, 0.0, 10.0, "1",
            "Extra division of a cycling tumour cell within macrophage.m2_trophic_radius_um of an M2 macrophage: "
            "rate x (1 + gain). M2 tumour-associated macrophages feed tumour growth through growth factors (EGF, "
            "IL-6, VEGF) besides IL-10/TGF-beta (Xue 2024 3.2): the EGF/CSF-1 paracrine loop between macrophages "
            "and tumour cells (Wyckoff 2004 Cancer Res 64:7022, M✓ qualitative), macrophage IL-6 activating STAT3 "
            "and proliferation in lung cancer cells (SCLC co-culture, anti-IL-6R blocks it, M✓ qualitative), M2 "
            "co-culture raising A549/H1975 proliferation (CCK-8, colonies; PMC9843413 Fig 2, M~). Value A: 0.5 "
            "(1.5x next to an M2 cell), within the 1.2-2x gains such co-cultures report, not fitted. 0: no route",
            NULL, NULL },
    { "macrophage.m2_trophic_radius_um", BS_PT_REAL, 20.0, 0.0, 50.0, "um",
            "Reach of the M2 trophic route (short-range paracrine EGF/IL-6 and contact: tumour cells next to "
            "macrophages, Wyckoff 2004 paired migration; STAT3 activation seen in tumour cells nearest the TAMs, "
            "M~); value A: about two cell diameters. Below half a site: no route",
            NULL, NULL },
    { "macrophage.rt_alpha_per_Gy", BS_PT_REAL, 0.05, 0.0, 10.0, "1/Gy",
            "Macrophages: LQ alpha (macrophages are radioresistant, survive single doses up to ~10 Gy, Teresa Pinto "
            "2016 Oncotarget, M~; A); alpha/beta as the other myeloid cells (rt.myeloid_alpha_beta_Gy)",
            NULL, NULL },
};

typedef struct {
    int type;
    bs_immune_motility mo;
    float kill_h, dormant_antigen;
    float m2_h, polarise_K, revert_h, block;
    float suppr, tgfb, dt_h;
} macrophage_rules;

static macrophage_rules *rules_of(const bs_rules *r)
{
    /* its own block (rules_bytes), reached without a call into the registry
     * (celltypes.c lists this file: a call back would close a circle) */
    return r->own[BS_CELL_MACROPHAGE];
}

static void macrophage_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    macrophage_rules *p = rules_of(r);
    p->type = BS_CELL_MACROPHAGE;
    bs_immune_motility_derive(ps, "macrophage", &p->mo, dt_h, h_um);
    p->kill_h = (float)bs_param(ps, "macrophage.m1_kill_per_h_contact");
    p->dormant_antigen = (float)bs_param(ps, "macrophage.dormant_antigen_factor");
    p->m2_h = (float)(bs_param(ps, "macrophage.m2_polarise_per_d") / 24.0);
    p->polarise_K = (float)bs_param(ps, "macrophage.polarise_half_au");
    p->revert_h = (float)(bs_param(ps, "macrophage.m1_revert_per_d") / 24.0);
    p->block = (float)bs_param(ps, "macrophage.polarisation_block");
    p->suppr = (float)bs_param(ps, "macrophage.m2_suppr_per_h");
    p->tgfb = (float)bs_param(ps, "macrophage.m2_tgfb_per_h");
    p->dt_h = (float)dt_h;
}

static void macrophage_arrivals(bs_model *m)
{
    const macrophage_rules *p = rules_of(&m->r);
    bs_immune_recruit(m, &p->mo, (uint8_t)p->type, BS_MAC_M1, 0.0f, BS_MAC_M1);
}

/* Draws (keyed by the macrophage): 0 death, 1-2 engagement (immune.h), 3
 * polarisation, 4 kill, 16 and up the walk. */
static void macrophage_act(bs_model *m, int slot, bs_step_totals *tot)
{
    (void)tot;
    const macrophage_rules *p = rules_of(&m->r);
    if (bs_immune_age_or_die(m, slot, p->mo.p_death, p->dt_h)) return;
    bs_store *s = &m->store;
    uint64_t id = s->id[slot];
    if (s->state[slot] == BS_MAC_M1) {
        float sig = bs_immune_occupancy(m->fields[BS_FIELD_CHEMOKINE].c[s->site[slot]], p->polarise_K);
        if (bs_immune_hazard(m, id, 3, p->m2_h * sig * (1.0f - p->block), p->dt_h)) s->state[slot] = BS_MAC_M2;
    } else if (bs_immune_hazard(m, id, 3, p->revert_h, p->dt_h)) {
        s->state[slot] = BS_MAC_M1;
    }
    if (s->state[slot] == BS_MAC_M1 && p->kill_h > 0.0f) {
        int target = bs_immune_engage(m, slot, p->dormant_antigen);
        if (target >= 0) { /* engaged: stays on its target this step */
            if (bs_immune_hazard(m, id, 4, p->kill_h, p->dt_h)) bs_store_kill_locked(s, s->occ[target]);
            return;
        }
    }
    bs_immune_walk(m, slot, &p->mo, 1); /* both states settle in the tumour stroma */
}

/* M2 macrophages secrete IL-10 (suppression field) and TGF-beta1 */
static void macrophage_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)site;
    if (m->store.state[slot] != BS_MAC_M2) return;
    const macrophage_rules *p = rules_of(&m->r);
    acc->suppr += p->suppr;
    acc->tgfb += p->tgfb;
}

const bs_celltype bs_type_macrophage = {
    .name = "macrophage",
    .plural = "macrophages",
    .n_states = 2,
    .state_names = { "M1", "M2" },
    .rgb = { { 0xFF, 0xFF, 0xFF }, { 0xCC, 0x79, 0xA7 } }, /* M1 white, M2 reddish purple; drawn as big squares */
    .shape = { BS_SHAPE_SQUARE, BS_SHAPE_SQUARE },
    .footprint_sites = 2,
    .params = macrophage_params,
    .n_params = sizeof macrophage_params / sizeof macrophage_params[0],
    .derive = macrophage_derive,
    .rules_bytes = sizeof(macrophage_rules),
    .act = macrophage_act,
    .arrivals = macrophage_arrivals,
    .sources = macrophage_sources,
    .radiation = { .model = BS_RT_LQ,
            .alpha_key = "macrophage.rt_alpha_per_Gy",
            .alpha_beta_key = "rt.myeloid_alpha_beta_Gy" },
    .n_observables = 2,
    .observables = { { "n_macrophages_m1", "cells", 1u << BS_MAC_M1 },
            { "n_macrophages_m2", "cells", 1u << BS_MAC_M2 } },
};
