/* tcell.c — CD8 T cells (cytotoxic T lymphocytes, CTLs).
 *
 * T cells enter from sinusoids at a basal (homeostatic) rate and more near
 * the tumour (its chemokine), and walk up the chemokine gradient
 * (immune.h). Most enter non-activated (a share
 * tcell.entry_activated_fraction arrives primed): non-activated cells
 * express RANKL and so feed osteoclast formation (Arellano 2022 via Xue
 * 2024 section 3.2). A T cell next to a tumour cell it recognises stops on
 * it; a non-activated one becomes activated, an activated one kills it with
 * a constant hazard (Breart 2008: about 6 h per kill) and secretes
 * IFN-gamma, which blunts RANK signalling on osteoclast precursors
 * (bs_rankl_signal) and slows tumour division (bs_rules.ifng_prolif_K).
 * Dormant tumour cells show less antigen and are recognised less often.
 *
 * Brakes on activation and killing: tumour PD-L1 (unless anti-PD-1,
 * bs_rules.fx.pd1_block), each MDSC within mdsc.suppress_radius_um (x
 * mdsc.suppress_factor, saturating at three), and the suppression and
 * TGF-beta fields; hypoxia (below tcell.hypoxia_mmHg, extracellular
 * adenosine on the A2A receptor: Ohta 2006, Hatfield 2015). An activated cell is exhausted after
 * tcell.kills_to_exhaustion kills (store.aux counts them), or by long
 * suppression at a hazard that grows as the brakes close; exhausted cells
 * neither kill nor make IFN-gamma, and express RANKL like non-activated
 * ones. Every T cell dies at a constant hazard (tcell.lifespan_d).
 *
 * TGF-beta excludes CD8 cells from the tumour: it lowers their CXCR3, the
 * receptor of the tumour chemokine's CXCL9/10 (Gunderson 2020 Nat Commun
 * 11:1749), and so their trafficking into the tumour (Mariathasan 2018,
 * Tauriello 2018: T cells held in the stroma; Jiao 2019: bone TGF-beta).
 * Local TGF-beta T multiplies the chemokine-driven part of entry (at the
 * sinusoid) and the chemotactic gain of the walk (at the cell's site) by
 * 1 / (1 + T / tcell.cxcr3_tgfb_half_au); basal (homeostatic) entry and
 * the random part of the walk stay. Where T is 0 (soft tissue, or no
 * TGF-beta at the site) the rules and their draws are those without it. */
#include "immune.h"

const bs_param_def bs_tcell_params[] = {
    { "tcell.recruit_per_d", BS_PT_REAL, 0.0, 0.0, 1e3, "1/d",
            "CD8 T cells entering per sinusoid site per day at saturating tumour chemokine. 0 (the default) = no CD8 T "
            "cells, "
            "as in CD8 depletion; immune_surveillance sets 0.05. Calibrated to B14 (A)",
            NULL, NULL },
    { "tcell.basal_entry_fraction", BS_PT_REAL, 0.2, 0.0, 1.0, "1",
            "Homeostatic CD8 entry without tumour chemokine, as a share of the saturated rate tcell.recruit_per_d: "
            "the marrow holds and recirculates CD8 T cells without antigen (a major reservoir of memory CD8 T "
            "cells, Mazo 2005 Immunity; Di Rosa & Pabst 2005 Trends Immunol, M~), and tumour chemokines "
            "(CXCL9/10) raise entry severalfold (A: 0.2 = at most 5x). They enter non-activated and express RANKL "
            "(B15); lymphocytes come back by this influx after radiotherapy. 0 = entry only with a tumour",
            NULL, NULL },
    { "tcell.chemokine_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level for half-maximal T-cell entry and receptor occupancy in chemotaxis (A)", NULL,
            NULL },
    { "tcell.lifespan_d", BS_PT_REAL, 5.0, 0.1, 365.0, "d",
            "Mean life of a T cell in the marrow (effector T/NK lifespan in tissue 3-7 d, M~/A)", NULL, NULL },
    { "tcell.speed_um_per_min", BS_PT_REAL, 6.0, 0.0, 100.0, "um/min",
            "Migration speed: 4-10 um/min in tissue (PhysiCell table, Mod✓). Sets the sub-moves per "
            "step, "
            "at most 10 (the tile reach)",
            NULL, NULL },
    { "tcell.persistence", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Chance that a sub-move keeps the direction of the last one (persistence 2-5 min, PhysiCell, Mod✓ "
            "qualitative; "
            "value A)",
            NULL, NULL },
    { "tcell.chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Chemotactic sensitivity: sub-move weights exp(chemotaxis x change in chemokine receptor occupancy) (A)",
            NULL, NULL },
    { "tcell.activation_per_h", BS_PT_REAL, 0.5, 0.0, 100.0, "1/h",
            "Activation of a non-activated T cell engaged on a tumour cell it recognises (antigen recognition in the "
            "tissue, "
            "lumped; 0 keeps every T cell non-activated). A; B15",
            NULL, NULL },
    { "tcell.entry_activated_fraction", BS_PT_REAL, 0.0, 0.0, 1.0, "1",
            "Share of T cells that arrive already activated (primed in lymph nodes; a T-cell-activating therapy raises "
            "it: "
            "Zhang 2011, activation lowers skeletal tumour burden, M✓ qualitative). 0 = all arrive non-activated (A)",
            NULL, NULL },
    { "tcell.kill_rate_per_h_contact", BS_PT_REAL, 0.6, 0.0, 10.0, "1/h",
            "Kill hazard of an activated CTL engaged on a recognised tumour cell, before brakes. ~6 h per kill in a "
            "solid tumour gives 0.17 (Breart 2008 JCI, M✓; D); calibrated to B14 (2-16 kills per CTL-day in contact, "
            "Halle 2016, M✓, soft tissue): 0.6 gives 14.4/d unbraked, 2.7/d pooled in a soft-tissue lesion and "
            "1.7-3.1/d per seed in a bone lesion, where matrix TGF-beta adds its brake to PD-L1, MDSCs and hypoxia "
            "(docs/calibration.md, Session 8, lesion)",
            NULL, NULL },
    { "tcell.dormant_antigen_factor", BS_PT_REAL, 0.2, 0.0, 1.0, "1",
            "Chance a dormant tumour cell is recognised, relative to a cycling one (lower antigen/MHC-I on dormant "
            "cells; A)",
            NULL, NULL },
    { "tcell.pdl1_kill_factor", BS_PT_REAL, 0.4, 0.0, 1.0, "1",
            "Kill hazard multiplier from tumour PD-L1 unless anti-PD-1 blocks it: x0.3-0.5 (A); 1 = "
            "no PD-L1",
            NULL, NULL },
    { "tcell.suppr_half_au", BS_PT_REAL, 0.1, 1e-6, 1e6, "au",
            "Immunosuppression field level (IL-10/TGF-beta/PGE2) that halves T-cell killing and activation (A; "
            "measured at CD8 cells in mdsc_suppression 0.02-0.06 au, so the brake takes 15-40 %, docs/calibration.md "
            "Immunity #17)",
            NULL, NULL },
    { "tcell.tgfb_half_au", BS_PT_REAL, 0.05, 1e-6, 1e6, "au",
            "TGF-beta level that halves T-cell killing and activation. TGF-beta shuts down the CTL cytotoxic "
            "programme (perforin, granzymes, IFN-gamma) through the same TbetaRII/ALK5-Smad receptors at the same "
            "ng/mL concentrations at which it acts on tumour cells (Thomas & Massague 2005 Cancer Cell 8:369, M~; "
            "Xue 2024 3.2), so its half-effect was set to the tumour's value of the time, 0.05 au (dtc.tgfb_half_au "
            "has since moved to 0.02 au; this one was kept, not re-chosen); measured lesion TGF-beta at CD8 cells "
            "0.002-0.03 au (docs/calibration.md, Immunity #17)",
            NULL, NULL },
    { "tcell.cxcr3_tgfb_half_au", BS_PT_REAL, 0.02, 1e-6, 1e6, "au",
            "TGF-beta level that halves the CD8 T cell's CXCR3-driven response to the tumour chemokine: the "
            "chemokine-driven part of entry at a sinusoid and the chemotactic gain of the walk, x 1 / (1 + TGF-beta / "
            "this). TGF-beta lowers CD8 CXCR3 and CXCR3-dependent trafficking into tumours (Gunderson 2020 Nat Commun "
            "11:1749, M~) and holds T cells in the stroma (Mariathasan 2018 Nature 554:544; Tauriello 2018 Nature "
            "554:538, M~ qualitative). The value is not measured; the field is in au, so it is set from the field as "
            "the tumour's and the osteoblast's are (dtc.tgfb_half_au, ob.tgfb_half_au = 0.02 au, the middle of the "
            "0.003-0.04 au at CD8 sites in bone; soft tissue 0). A, chosen on calibration seeds 500-531 between "
            "0.02 and 0.05 (tcell.tgfb_half_au) for B18d (docs/calibration.md, Session 10 b18). 1e6 = off",
            NULL, NULL },
    { "tcell.kills_to_exhaustion", BS_PT_INT, 10.0, 1.0, 1000.0, "kills",
            "Kills after which a CTL is exhausted (serial killing capacity; Halle 2016 2-16 per day, cap ~10, "
            "A)",
            NULL, NULL },
    { "tcell.suppressed_exhaustion_per_d", BS_PT_REAL, 0.5, 0.0, 100.0, "1/d",
            "Exhaustion hazard of an activated CTL under full suppression, scaled by 1 - (MDSC x field brake) (A)",
            NULL, NULL },
    { "tcell.hypoxia_mmHg", BS_PT_REAL, 10.0, 0.1, 100.0, "mmHg",
            "Half-effect pO2 of the hypoxic (adenosine, A2A receptor) brake on CD8 activation and killing: x(f + (1 - "
            "f) Hill(pO2, this, tcell.hypoxia_hill)) (Ohta 2006 PNAS; Hatfield 2015 Sci Transl Med, M✓ qualitative; "
            "as nk.hypoxia_mmHg, A)",
            NULL, NULL },
    { "tcell.hypoxia_hill", BS_PT_REAL, 3.0, 0.5, 20.0, "1",
            "Steepness of that brake (as nk.hypoxia_hill: HIF-1a rises steeply below ~2% O2, Jiang 1996, M~; A)", NULL,
            NULL },
    { "tcell.hypoxia_kill_factor", BS_PT_REAL, 0.4, 0.0, 1.0, "1",
            "Activation and kill hazard multiplier of a CD8 T cell under hypoxia (A2A adenosine brake; hyperoxia lifts "
            "it and "
            "lets CD8 cells reject tumours, Hatfield 2015, M✓ qualitative; value as nk.hypoxia_kill_factor, calibrated "
            "to "
            "B24)",
            NULL, NULL },
    { "tcell.ifng_per_h", BS_PT_REAL, 50.0, 0.0, 1e4, "au/h",
            "IFN-gamma secreted by an activated T cell (Takayanagi 2000: T-cell IFN-gamma suppresses "
            "osteoclastogenesis, M✓ "
            "qualitative; value A, calibrated to B15)",
            NULL, NULL },
    { "tcell.rankl_per_h", BS_PT_REAL, 5.0, 0.0, 1e4, "au/h",
            "RANKL expressed by a non-activated or exhausted T cell (Arellano 2022 via Xue 2024, M✓ qualitative; value "
            "A, "
            "calibrated to B15; lining cells make 0.2 per site)",
            NULL, NULL },
    { "chemokine.tumour_per_h", BS_PT_REAL, 50.0, 0.0, 1e5, "au/h",
            "Chemokine (CXCL9/10, CCL2/5, lumped) secreted by a cycling or homing tumour cell: recruits and guides T "
            "cells, "
            "NK cells and MDSCs (A)",
            NULL, NULL },
    { "chemokine.dormant_factor", BS_PT_REAL, 0.1, 0.0, 1.0, "1",
            "Chemokine secretion of a dormant tumour cell relative to a cycling one (A)", NULL, NULL },
};
const size_t bs_tcell_nparams = sizeof bs_tcell_params / sizeof bs_tcell_params[0];

void bs_tcell_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    bs_immune_rules *im = &r->immune;
    bs_immune_motility_derive(ps, "tcell", &im->t, dt_h, h_um);
    im->t.basal = (float)bs_param(ps, "tcell.basal_entry_fraction");
    im->t_activation_h = (float)bs_param(ps, "tcell.activation_per_h");
    im->t_entry_active = (float)bs_param(ps, "tcell.entry_activated_fraction");
    im->t_kill_h = (float)bs_param(ps, "tcell.kill_rate_per_h_contact");
    im->t_dormant_antigen = (float)bs_param(ps, "tcell.dormant_antigen_factor");
    im->t_pdl1 = (float)bs_param(ps, "tcell.pdl1_kill_factor");
    im->t_suppr_K = (float)bs_param(ps, "tcell.suppr_half_au");
    im->t_tgfb_K = (float)bs_param(ps, "tcell.tgfb_half_au");
    im->t_cxcr3_tgfb_K = (float)bs_param(ps, "tcell.cxcr3_tgfb_half_au");
    im->t_kills_max = (int)bs_param(ps, "tcell.kills_to_exhaustion");
    im->t_exhaust_suppr_h = (float)(bs_param(ps, "tcell.suppressed_exhaustion_per_d") / 24.0);
    im->t_ifng = (float)bs_param(ps, "tcell.ifng_per_h");
    im->t_rankl = (float)bs_param(ps, "tcell.rankl_per_h");
    im->t_hypoxia_mmHg = (float)bs_param(ps, "tcell.hypoxia_mmHg");
    im->t_hypoxia_factor = (float)bs_param(ps, "tcell.hypoxia_kill_factor");
    im->t_hypoxia_n = (float)bs_param(ps, "tcell.hypoxia_hill");
    im->chemokine_tumour = (float)bs_param(ps, "chemokine.tumour_per_h");
    im->chemokine_dormant = (float)bs_param(ps, "chemokine.dormant_factor");
    im->dt_h = (float)dt_h;
}

/* The CXCR3 factor at site i: 1 / (1 + TGF-beta / tcell.cxcr3_tgfb_half_au),
 * exactly 1 where there is no TGF-beta. */
float bs_tcell_cxcr3_factor(const bs_model *m, int i)
{
    float tg = m->fields[BS_FIELD_TGFB].c[i];
    return tg > 0.0f ? 1.0f / (1.0f + tg / m->r.immune.t_cxcr3_tgfb_K) : 1.0f;
}

/* Entry at vessel v: recruit_h x (basal + (1 - basal) x occupancy x CXCR3
 * factor); without TGF-beta at v, the shared chemokine-driven rate. */
static float tcell_entry_rate(const bs_model *m, const void *ctx, int v)
{
    const bs_immune_motility *mo = ctx;
    float f = bs_tcell_cxcr3_factor(m, v);
    if (f >= 1.0f) return bs_immune_chemokine_entry_rate(m, ctx, v);
    float occ = bs_immune_occupancy(m->fields[BS_FIELD_CHEMOKINE].c[v], mo->chemokine_K) * f;
    occ = mo->basal + (1.0f - mo->basal) * occ;
    return occ > 0.0f ? mo->recruit_h * occ : 0.0f;
}

void bs_tcell_arrivals(bs_model *m)
{
    const bs_immune_rules *im = &m->r.immune;
    bs_immune_recruit_at(m, &im->t, BS_CELL_TCELL, BS_TCELL_NAIVE, im->t_entry_active, BS_TCELL_ACTIVE,
            tcell_entry_rate, &im->t);
}

/* The walk up the tumour chemokine with the chemotactic gain x the CXCR3
 * factor at the cell's site; without TGF-beta there, bs_immune_walk. */
static void tcell_walk(bs_model *m, int slot, int stop_on_contact)
{
    const bs_immune_motility *mo = &m->r.immune.t;
    float f = bs_tcell_cxcr3_factor(m, m->store.site[slot]);
    if (f >= 1.0f) {
        bs_immune_walk(m, slot, mo, stop_on_contact);
        return;
    }
    bs_immune_gradient g = { .n = 1,
        .c = { m->fields[BS_FIELD_CHEMOKINE].c, NULL },
        .scale = { 1.0f, 0.0f },
        .K = { mo->chemokine_K, 1.0f },
        .gain = { mo->chemotaxis * f, 0.0f } };
    bs_immune_walk_up(m, slot, mo, &g, stop_on_contact);
}

/* MDSCs within the suppression radius of site i count towards the brake
 * up to this many (in vitro suppression saturates near 1 MDSC per T cell). */
#define MDSC_BRAKE_MAX_COUNT 3

float bs_tcell_mdsc_brake(const bs_model *m, int i)
{
    const bs_immune_rules *im = &m->r.immune;
    int R = im->md_radius, w = m->lat.w, x = i % w, y = i / w, n = 0;
    for (int yy = y - R; yy <= y + R && n < MDSC_BRAKE_MAX_COUNT; yy++) {
        if (yy < 0 || yy >= m->lat.h) continue;
        for (int xx = x - R; xx <= x + R; xx++) {
            if (xx < 0 || xx >= w || (xx - x) * (xx - x) + (yy - y) * (yy - y) > R * R) continue;
            int s = m->store.occ[yy * w + xx];
            if (s >= 0 && m->store.type[s] == BS_CELL_MDSC && ++n == MDSC_BRAKE_MAX_COUNT) break;
        }
    }
    float b = 1.0f;
    for (int k = 0; k < n; k++) b *= im->md_factor;
    return b;
}

/* All brakes on an engaged or walking T cell at site i except PD-L1. */
static float suppression(const bs_model *m, int i)
{
    const bs_immune_rules *im = &m->r.immune;
    return bs_tcell_mdsc_brake(m, i) * bs_immune_field_brake(m, i, im->t_suppr_K, im->t_tgfb_K);
}

/* Exhaustion by long suppression (draw 5). Returns 1 if exhausted. */
static int exhaust_by_suppression(bs_model *m, int slot, float brake)
{
    const bs_immune_rules *im = &m->r.immune;
    float rate = im->t_exhaust_suppr_h * (1.0f - brake) * m->r.fx.pd1_exhaust_factor; /* anti-PD-1 cuts it */
    if (rate > 0.0f && bs_draw_agent(m, m->store.id[slot], 5) < 1.0f - expf(-rate * im->dt_h)) {
        m->store.state[slot] = BS_TCELL_EXHAUSTED;
        return 1;
    }
    return 0;
}

void bs_tcell_act(bs_model *m, int slot, bs_step_totals *tot)
{
    bs_store *s = &m->store;
    const bs_immune_rules *im = &m->r.immune;
    uint64_t id = s->id[slot];
    s->age_h[slot] += im->dt_h;
    if (bs_draw_agent(m, id, 0) < im->t.p_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    uint8_t state = s->state[slot];
    if (state == BS_TCELL_EXHAUSTED) {
        tcell_walk(m, slot, 0);
        return;
    }
    int i = s->site[slot];
    int target = bs_immune_engage(m, slot, im->t_dormant_antigen);
    if (target < 0) {
        tcell_walk(m, slot, 1);
        if (state == BS_TCELL_ACTIVE) exhaust_by_suppression(m, slot, suppression(m, s->site[slot]));
        return;
    }
    /* engaged: the cell stays on its target this step */
    float brake = suppression(m, i);
    /* hypoxia (adenosine via A2AR) blunts activation and killing, not exhaustion */
    float hyp = im->t_hypoxia_factor +
            (1.0f - im->t_hypoxia_factor) *
                    bs_o2_hill(m->fields[BS_FIELD_O2].c[i], im->t_hypoxia_mmHg, im->t_hypoxia_n);
    if (state == BS_TCELL_NAIVE) {
        float rate = im->t_activation_h * brake * hyp;
        if (bs_draw_agent(m, id, 3) < 1.0f - expf(-rate * im->dt_h)) s->state[slot] = BS_TCELL_ACTIVE;
        return;
    }
    tot->tcell_contact_h += (double)im->dt_h;
    float pdl1 = im->t_pdl1 + (1.0f - im->t_pdl1) * m->r.fx.pd1_block;
    float rate = im->t_kill_h * pdl1 * brake * hyp;
    if (bs_draw_agent(m, id, 4) < 1.0f - expf(-rate * im->dt_h)) {
        bs_store_kill_locked(s, s->occ[target]);
        tot->kills_tcell++;
        s->aux[slot] += 1.0f;
        if (s->aux[slot] >= (float)im->t_kills_max) {
            s->state[slot] = BS_TCELL_EXHAUSTED;
            return;
        }
    }
    exhaust_by_suppression(m, slot, brake);
}

/* activated CD8 T cells secrete IFN-gamma; the others express RANKL */
static void tcell_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)site;
    if (m->store.state[slot] == BS_TCELL_ACTIVE)
        acc->ifng += m->r.immune.t_ifng;
    else
        acc->rankl += m->r.immune.t_rankl; /* non-activated or exhausted */
}

const bs_celltype bs_type_tcell = {
    .name = "tcell",
    .plural = "CD8 T cells",
    .n_states = 3,
    .state_names = { "non-activated", "activated", "exhausted" },
    .rgb = { { 0x00, 0x9E, 0x73 }, { 0x00, 0x9E, 0x73 },
            { 0x00, 0x00, 0x00 } }, /* bluish green; exhausted: burnt out */
    .shape = { BS_SHAPE_RING, BS_SHAPE_DISC, BS_SHAPE_SQUARE },
    .footprint_sites = 1,
    .params = bs_tcell_params,
    .n_params = sizeof bs_tcell_params / sizeof bs_tcell_params[0],
    .derive = bs_tcell_derive,
    .act = bs_tcell_act,
    .arrivals = bs_tcell_arrivals,
    .sources = tcell_sources,
    .radiation = { .model = BS_RT_D0, .d0_key = "rt.cd8_D0_Gy" },
    .n_observables = 2,
    .observables = { { "n_tcells", "cells", BS_ALL_STATES }, { "n_tcells_active", "cells", 1u << BS_TCELL_ACTIVE } },
};
