/* dtc.c — disseminated tumour cells: arrival, homing, dormancy,
 * reactivation, growth and the vicious cycle.
 *
 * Circulating tumour cells (CTCs) arrive in sinusoids and cross into the
 * marrow with a chance that rises with local CXCL12 (CXCR4 level) and
 * endothelial adhesion; the rest wash out. A DTC then walks up the CXCL12
 * gradient until it settles in a niche (endosteal surface or next to a
 * vessel). A settled cell's fate depends on its place: on quiescent
 * endosteum (lining cells) or next to osteoblasts, with LIFR signalling
 * intact, it tends to go dormant; in an active BRC it keeps cycling.
 * Hypoxia lowers LIFR signalling and an HDAC-inhibitor level raises it;
 * dtc.lifr_enabled knocks the pathway out. Dormant cells wake when an
 * osteoclast remodels next to them, through the hypoxia/LIFR route, or
 * spontaneously; a woken cell and its daughters are committed to cycling
 * for dtc.wake_commit_d (no dormancy entry meanwhile). Cycling cells divide
 * by displacement: the daughter goes next to the mother and the cells
 * between it and the nearest free marrow site within dtc.push_radius_um
 * are pushed one site outward (agents/shove.c, a serial pass after the
 * tiles; the tile pass only records the request), faster with O2 and with TGF-beta
 * from resorbed bone, slower with IFN-gamma; they consume O2, die of severe hypoxia, and secrete
 * PTHrP, which raises RANKL and lowers OPG from the osteoblast lineage
 * (model.c): the vicious cycle. */
#include <math.h>
#include <stdlib.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"
#include "shove.h"

/* Salt of the ids of arriving CTCs ("ctc" in ASCII): keeps them apart from
 * the ids of cells born in the marrow, which derive from a parent's id. */
#define CTC_ID_SALT 0x637463ULL
/* Where a scenario's initial lesion goes across the width when it names no
 * BMU position (bmu.initial_bmu_x_frac < 0): the middle. */
#define LESION_DEFAULT_X_FRAC 0.5

/* A tumour cell's store.aux holds two things: its lineage origin
 * (BS_DTC_FROM_*, the integer part, inherited by daughters) and what is
 * left of its commitment to cycling after a wake-up (the fraction, 0..
 * COMMIT_FULL of dtc.wake_commit_d, inherited too). (int)aux stays the
 * origin. */
#define COMMIT_FULL 0.9990234375f /* 1 - 2^-10: exact, and below 1 */
static float commit_left(float aux)
{
    return aux - floorf(aux);
}

const bs_param_def bs_dtc_params[] = {
    { "dtc.ctc_per_d", BS_PT_REAL, 0.0, 0.0, 1e4, "1/d",
            "Circulating tumour cells arriving in the domain's sinusoids per day (DTCs are rare: 1e-5-1e-6 of marrow "
            "cells, "
            "Pantel 1996, M✓; seed explicitly per scenario)",
            NULL, NULL },
    { "dtc.bolus_n", BS_PT_INT, 0.0, 0.0, 1e5, "cells",
            "CTCs arriving at once on dtc.bolus_day (intracardiac-injection-like)", NULL, NULL },
    { "dtc.bolus_day", BS_PT_REAL, 0.0, 0.0, 36525.0, "d", "Day of the CTC bolus", NULL, NULL },
    { "dtc.cxcr4_level", BS_PT_REAL, 1.0, 0.0, 10.0, "1",
            "CXCR4 expression of the tumour, relative (scales CXCL12 sensing: extravasation, homing, retention; A)",
            NULL, NULL },
    { "dtc.adhesion", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Lumped endothelial adhesion (CX3CL1, ICAM-1, E-selectin): extravasation chance at saturating CXCL12 (A)",
            NULL, NULL },
    { "dtc.cxcl12_half_au", BS_PT_REAL, 0.2, 1e-6, 1e6, "au",
            "CXCL12 level giving half-maximal CXCR4 signalling (Hill n = 2; A)", NULL, NULL },
    { "dtc.speed_um_per_h", BS_PT_REAL, 10.0, 0.0, 1000.0, "um/h", "Migration speed of a homing DTC (A)", NULL, NULL },
    { "dtc.chemotaxis", BS_PT_REAL, 50.0, 0.0, 1000.0, "1/au",
            "Chemotactic sensitivity: move weights exp(chemotaxis x CXCR4 x dCXCL12) (A)", NULL, NULL },
    { "dtc.settle_per_h", BS_PT_REAL, 0.2, 0.0, 100.0, "1/h",
            "Rate at which a homing DTC anchors in a niche (endosteum, perivascular) at saturating CXCL12 (A)", NULL,
            NULL },
    { "dtc.dormancy_entry_per_h", BS_PT_REAL, 0.05, 0.0, 10.0, "1/h",
            "Dormancy entry on quiescent endosteum or next to osteoblasts, LIFR signalling 1 (most dormant within 1-2 "
            "d; "
            "Lawson 2015, Croucher 2016 qualitative; A)",
            NULL, NULL },
    { "dtc.brc_dormancy_factor", BS_PT_REAL, 0.02, 0.0, 1.0, "1",
            "Dormancy entry in an active BRC relative to quiescent endosteum (BRCs favour proliferation, A)", NULL,
            NULL },
    { "dtc.perivascular_dormancy_factor", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "Dormancy entry in the perivascular niche relative to quiescent endosteum (Price 2016: dormant DTCs in "
            "perisinusoidal E-selectin/SDF-1 regions, M✓ qualitative; value A)",
            NULL, NULL },
    { "dtc.lifr_enabled", BS_PT_BOOL, 1.0, 0.0, 1.0, "1",
            "LIFR:STAT3 pro-dormancy pathway on (1) or knocked out (0) (Johnson 2016 Nat Cell Biol, M✓)", NULL, NULL },
    { "dtc.hypoxia_mmHg", BS_PT_REAL, 10.0, 0.1, 100.0, "mmHg",
            "Half-effect pO2 of the fall of LIFR signalling under hypoxia: LIFR x(f + (1 - f) Hill(pO2, this, "
            "dtc.hypoxia_hill)) (HIF-1a, ~1.3% O2, M~/A)",
            NULL, NULL },
    { "dtc.hypoxia_hill", BS_PT_REAL, 3.0, 0.5, 20.0, "1",
            "Steepness of that fall (HIF-1a rises steeply below ~2% O2, Jiang 1996, M~; value A)", NULL, NULL },
    { "dtc.hypoxia_lifr_factor", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "LIFR signalling under hypoxia relative to normoxia (Johnson 2016, M✓ qualitative; value A)", NULL, NULL },
    { "dtc.hdac_level", BS_PT_REAL, 0.0, 0.0, 1.0, "1",
            "HDAC-inhibitor level 0..1 (the hdac_inhibitor therapy sets it); raises LIFR signalling", NULL, NULL },
    { "dtc.hdac_lifr_gain", BS_PT_REAL, 2.0, 1.0, 10.0, "1",
            "LIFR signalling multiplier at full HDAC inhibition (entry x2, Clements 2021, A)", NULL, NULL },
    { "dtc.dormancy_exit_basal_per_d", BS_PT_REAL, 1e-4, 0.0, 1.0, "1/d",
            "Spontaneous reactivation of a dormant DTC (mean ~27 y; A)", NULL, NULL },
    { "dtc.dormancy_exit_oc_per_d", BS_PT_REAL, 0.1, 0.0, 100.0, "1/d",
            "Reactivation when an osteoclast works within dtc.oc_wake_radius_um, remodeling the niche (Lawson 2015 Nat "
            "Commun, M✓ qualitative; 0.05-0.2/d, A)",
            NULL, NULL },
    { "dtc.oc_wake_radius_um", BS_PT_REAL, 20.0, 0.0, 100.0, "um",
            "Distance within which osteoclast remodeling wakes a "
            "dormant cell (1-2 sites)",
            NULL, NULL },
    { "dtc.dormancy_exit_lowlifr_per_d", BS_PT_REAL, 0.02, 0.0, 10.0, "1/d",
            "Reactivation rate when LIFR signalling is lost entirely (hypoxia route; scaled by 1 - LIFR signal; "
            "Johnson 2016, "
            "A)",
            NULL, NULL },
    { "dtc.prolif_per_d", BS_PT_REAL, 0.015, 0.0, 10.0, "1/d",
            "Division rate of a cycling DTC at normoxia without bone-derived factors (an effective rate of the "
            "cycling pool on the human scale, far below the 1-5 d cycle of a single cell). Calibrated with "
            "dtc.apoptosis_per_d to B13 (lesion doubling 60-260 d, seeds 500-509) and B8b (BRC-landed colonies, "
            "seeds 500-504), docs/calibration.md; was 0.025",
            NULL, NULL },
    { "dtc.o2_half_mmHg", BS_PT_REAL, 0.8, 0.0, 100.0, "mmHg",
            "pO2 that halves division: tumour cells keep their cell cycle at 1-8% O2 and arrest only at 0.1% O2 ~ 0.8 "
            "mmHg (Richards 2016 PeerJ 4:e1755, M~); was 5 (A), which made re-oxygenation feed the tumour itself "
            "(issue 17, B24d)",
            NULL, NULL },
    { "dtc.tgfb_prolif_gain", BS_PT_REAL, 1.0, 0.0, 100.0, "1",
            "Extra division at saturating TGF-beta/IGF from bone (the vicious cycle; Guise 2000, M✓ qualitative; value "
            "A)",
            NULL, NULL },
    { "dtc.tgfb_half_au", BS_PT_REAL, 0.02, 1e-6, 1e6, "au",
            "TGF-beta level for half the extra division and PTHrP: the middle of the 0.005-0.04 au the solver gives at "
            "tumour cells beside active resorption (vicious_cycle, seeds 500-504, docs/calibration.md; the matrix "
            "release is in au, so the value is set from the field, not from ng/ml; A)",
            NULL, NULL },
    { "dtc.apoptosis_per_d", BS_PT_REAL, 0.0095, 0.0, 10.0, "1/d",
            "Death of cycling cells from other causes; with dtc.prolif_per_d sets net growth. Calibrated to B13 "
            "(seeds 500-509, docs/calibration.md): 0.63 of the basal division rate, inside the cell loss factor of "
            "54-99% measured in human lung tumours (Br J Cancer 1984 50:343, M~); was 0.008 (a loss factor of 0.32)",
            NULL, NULL },
    { "dtc.necrosis_mmHg", BS_PT_REAL, 0.8, 0.1, 100.0, "mmHg",
            "Half-effect pO2 of necrosis: the hazard is dtc.necrosis_per_h x (1 - Hill(pO2, this, dtc.necrosis_hill)). "
            "Viability is unchanged at 1% O2 and falls a little at 0.1% ~ 0.8 mmHg (Richards 2016 PeerJ 4:e1755, M~); "
            "PhysiCell-style thresholds are 1-2.5 mmHg (Mod✓); was 2",
            NULL, NULL },
    { "dtc.necrosis_hill", BS_PT_REAL, 4.0, 0.5, 20.0, "1",
            "Steepness of necrosis in pO2 (A; PhysiCell uses a threshold, this smooths it)", NULL, NULL },
    { "dtc.necrosis_per_h", BS_PT_REAL, 0.05, 0.0, 100.0, "1/h", "Necrotic death rate at anoxia (A)", NULL, NULL },
    { "dtc.o2_uptake_per_h", BS_PT_REAL, 3000.0, 0.0, 1e6, "1/h",
            "O2 consumption of a cycling tumour cell, first-order (gives a 100-200 um viable rim; A)", NULL, NULL },
    { "dtc.dormant_uptake_factor", BS_PT_REAL, 0.2, 0.0, 1.0, "1", "O2 uptake of dormant cells relative to cycling (A)",
            NULL, NULL },
    { "dtc.pthrp_per_h", BS_PT_REAL, 20.0, 0.0, 1e3, "au/h",
            "PTHrP secreted by a cycling DTC; 0 knocks the vicious cycle's PTHrP arm out (Guise 2000, M✓ qualitative)",
            NULL, NULL },
    { "dtc.tgfb_pthrp_gain", BS_PT_REAL, 2.0, 0.0, 100.0, "1",
            "Extra PTHrP secretion at saturating TGF-beta (TGF-beta induces PTHrP via Smad, Guise 2000, M✓ "
            "qualitative)",
            NULL, NULL },
    { "dtc.push_radius_um", BS_PT_REAL, 600.0, 0.0, 1000.0, "um",
            "Growth by displacement: how far a dividing tumour cell can push the cells around it to reach free "
            "marrow (the range of pushing of lattice growth models, Block et al. 2007 Phys Rev Lett 99:248101, "
            "Radszuweit et al. 2009 Phys Rev E 79:051907, Mod). Not the proliferating rim: the 100-200 um rim "
            "of spheroids (Freyer & Sutherland 1986 Cancer Res 46:3504) comes from O2 and nutrient limits, "
            "which the model has separately (division a Hill function of pO2, necrosis), so the range is set "
            "wide enough not to limit growth before O2 does. Calibrated to B13c on seeds 500-504 (docs/calibration.md "
            "Session 8, push): the smallest of 400, 600, 1000 um at which the doubling from 10x to 100x the "
            "seed no longer changes with the range; the search costs more per division the wider it is. 0: "
            "only a free neighbour",
            NULL, NULL },
    { "dtc.cavity_reach_um", BS_PT_REAL, 30.0, 0.0, 1000.0, "um",
            "A dividing tumour cell fills a free resorption cavity within this distance before plain marrow "
            "(tumour cells occupy the space osteoclasts open: osteolytic lesions are bone replaced by tumour, "
            "Mundy 2002 Nat Rev Cancer 2:584, Roodman 2004 N Engl J Med 350:1655, M qualitative; value A: the "
            "cells on an eroded surface, 1-3 sites). 0: cavities are plain marrow",
            NULL, NULL },
    { "dtc.wake_commit_d", BS_PT_REAL, 30.0, 0.0, 3650.0, "d",
            "A cell woken from dormancy, and its daughters, keep cycling this long before dormancy entry is "
            "possible again (reactivated cells go on to form colonies, Lawson 2015 Nat Commun 6:8983, M "
            "qualitative; value A, about one human-scale cell cycle)",
            NULL, NULL },
    { "dtc.osteoblast_dormancy_factor", BS_PT_REAL, 0.2, 0.0, 1.0, "1",
            "Dormancy push next to an osteoblast of an active BMU relative to quiet lining (osteoblast GAS6 and "
            "BMP7 favour dormancy, Shiozawa 2010 Neoplasia 12:116, Kobayashi 2011 J Exp Med 208:2641, M "
            "qualitative; but the lining is gone until the surface is lined again; value A)",
            NULL, NULL },
    { "dtc.ob_inhibit_radius_um", BS_PT_REAL, 100.0, 0.0, 150.0, "um",
            "Osteoblasts within this distance of a cycling tumour cell are inhibited (the two dtc.ob_* effects "
            "below): tumour-derived Wnt antagonists (DKK1, a secreted ~35 kDa protein) act on the bone around "
            "the lesion (value A: the paracrine range of a secreted factor of that size, below the ~300 um decay "
            "length of the PTHrP field; 30 um left most of a cavity refilled under a lesion, docs/calibration.md). "
            "0: no inhibition",
            NULL, NULL },
    { "dtc.ob_recruit_cut", BS_PT_REAL, 0.9, 0.0, 1.0, "1",
            "Share of osteoblast recruitment blocked within dtc.ob_inhibit_radius_um of a cycling tumour cell: "
            "tumour DKK1 blocks osteoblast differentiation (Bu et al. 2008 Int J Cancer 123:1034, breast; Pang et "
            "al. 2017 Oncol Res 25:35, lung; osteolytic lesions form through reduced osteoblast activity, Gregory "
            "et al. 2013 PLoS One 8:e68103, M qualitative; value A). 0: none",
            NULL, NULL },
    { "dtc.ob_apoptosis_per_d", BS_PT_REAL, 0.1, 0.0, 100.0, "1/d",
            "Extra death hazard of an osteoblast within dtc.ob_inhibit_radius_um of a cycling tumour cell "
            "(metastatic breast cancer cells induce osteoblast apoptosis, Mastro et al. 2004 J Cell Biochem "
            "91:265, M qualitative; value A: ~10 d next to the tumour against a ~200 d active life). 0: none",
            NULL, NULL },
    { "dtc.seed_quiescent_n", BS_PT_INT, 0.0, 0.0, 1e5, "cells", "DTCs placed on random quiescent endosteum at day 0",
            NULL, NULL },
    { "dtc.seed_brc_n", BS_PT_INT, 0.0, 0.0, 1e5, "cells",
            "DTCs placed at day 0 in new BRCs (a BMU is opened under each)", NULL, NULL },
    { "dtc.seed_lesion_n", BS_PT_INT, 0.0, 0.0, 1e5, "cells",
            "Cycling DTCs placed at day 0 as a cluster on the bone surface at the initial BMU (bmu.initial_bmu_x_frac)",
            NULL, NULL },
};
const size_t bs_dtc_nparams = sizeof bs_dtc_params / sizeof bs_dtc_params[0];

/* The tumour's response to M2 macrophages next to it (the trophic route,
 * parameters macrophage.m2_trophic_*, agents/macrophage.c): kept in the
 * type's own rule block (celltypes.h rules_bytes), read by bs_dtc_act. */
typedef struct {
    float m2_gain; /* division x (1 + m2_gain) next to an M2 macrophage */
    int m2_radius; /* sites (Euclidean); -1: route off */
} dtc_own_rules;

void bs_dtc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    bs_dtc_rules *d = &r->dtc;
    dtc_own_rules *o = r->own[BS_CELL_DTC];
    if (o) {
        o->m2_gain = (float)bs_param(ps, "macrophage.m2_trophic_gain");
        o->m2_radius = (int)lround(bs_param(ps, "macrophage.m2_trophic_radius_um") / h_um);
        if (o->m2_gain <= 0.0f || o->m2_radius < 1) o->m2_radius = -1;
    }
    d->ctc_per_step = (float)(bs_param(ps, "dtc.ctc_per_d") / 24.0 * dt_h);
    d->bolus_n = (int)bs_param(ps, "dtc.bolus_n");
    d->bolus_step = (uint64_t)llround(bs_param(ps, "dtc.bolus_day") * 24.0 / dt_h);
    d->cxcr4 = (float)bs_param(ps, "dtc.cxcr4_level");
    d->adhesion = (float)bs_param(ps, "dtc.adhesion");
    d->cxcl12_K = (float)bs_param(ps, "dtc.cxcl12_half_au");
    double move = bs_param(ps, "dtc.speed_um_per_h") * dt_h / h_um;
    d->p_move = (float)(move > 1.0 ? 1.0 : move);
    d->chemotaxis = (float)bs_param(ps, "dtc.chemotaxis");
    d->p_settle = bs_rate_to_prob(bs_param(ps, "dtc.settle_per_h"), dt_h);
    d->entry_rate_h = (float)bs_param(ps, "dtc.dormancy_entry_per_h");
    d->brc_factor = (float)bs_param(ps, "dtc.brc_dormancy_factor");
    d->perivascular_factor = (float)bs_param(ps, "dtc.perivascular_dormancy_factor");
    d->lifr_on = bs_param(ps, "dtc.lifr_enabled") != 0.0;
    d->hypoxia_mmHg = (float)bs_param(ps, "dtc.hypoxia_mmHg");
    d->hypoxia_lifr = (float)bs_param(ps, "dtc.hypoxia_lifr_factor");
    d->hypoxia_n = (float)bs_param(ps, "dtc.hypoxia_hill");
    d->necrosis_n = (float)bs_param(ps, "dtc.necrosis_hill");
    d->hdac_level = (float)bs_param(ps, "dtc.hdac_level");
    d->hdac_gain = (float)bs_param(ps, "dtc.hdac_lifr_gain");
    d->exit_basal_h = (float)(bs_param(ps, "dtc.dormancy_exit_basal_per_d") / 24.0);
    d->exit_oc_h = (float)(bs_param(ps, "dtc.dormancy_exit_oc_per_d") / 24.0);
    d->wake_radius = (int)lround(bs_param(ps, "dtc.oc_wake_radius_um") / h_um);
    d->exit_lowlifr_h = (float)(bs_param(ps, "dtc.dormancy_exit_lowlifr_per_d") / 24.0);
    d->prolif_h = (float)(bs_param(ps, "dtc.prolif_per_d") / 24.0);
    d->o2_K = (float)bs_param(ps, "dtc.o2_half_mmHg");
    d->tgfb_gain = (float)bs_param(ps, "dtc.tgfb_prolif_gain");
    d->tgfb_K = (float)bs_param(ps, "dtc.tgfb_half_au");
    d->p_apoptosis = bs_rate_to_prob(bs_param(ps, "dtc.apoptosis_per_d") / 24.0, dt_h);
    d->necrosis_mmHg = (float)bs_param(ps, "dtc.necrosis_mmHg");
    d->necrosis_h = (float)bs_param(ps, "dtc.necrosis_per_h");
    d->o2_uptake = (float)bs_param(ps, "dtc.o2_uptake_per_h");
    d->dormant_uptake = (float)bs_param(ps, "dtc.dormant_uptake_factor");
    d->pthrp = (float)bs_param(ps, "dtc.pthrp_per_h");
    d->tgfb_pthrp_gain = (float)bs_param(ps, "dtc.tgfb_pthrp_gain");
    d->push_radius = (int)lround(bs_param(ps, "dtc.push_radius_um") / h_um);
    d->cavity_reach = (int)lround(bs_param(ps, "dtc.cavity_reach_um") / h_um);
    d->commit_h = (float)(bs_param(ps, "dtc.wake_commit_d") * 24.0);
    d->ob_factor = (float)bs_param(ps, "dtc.osteoblast_dormancy_factor");
    d->ob_inhibit_radius = (int)lround(bs_param(ps, "dtc.ob_inhibit_radius_um") / h_um);
    if (bs_param(ps, "dtc.ob_inhibit_radius_um") <= 0.0) d->ob_inhibit_radius = -1;
    d->ob_recruit_keep = (float)(1.0 - bs_param(ps, "dtc.ob_recruit_cut"));
    d->p_ob_tumour_death = bs_rate_to_prob(bs_param(ps, "dtc.ob_apoptosis_per_d") / 24.0, dt_h);
    d->dt_h = (float)dt_h;
}

static float hill2(float c, float K)
{
    if (c < 0.0f) c = 0.0f;
    return c * c / (c * c + K * K);
}

float bs_dtc_lifr_signal(const bs_model *m, int i)
{
    const bs_dtc_rules *d = &m->r.dtc;
    if (!d->lifr_on) return 0.0f;
    float l = 1.0f;
    l *= d->hypoxia_lifr +
            (1.0f - d->hypoxia_lifr) * bs_o2_hill(m->fields[BS_FIELD_O2].c[i], d->hypoxia_mmHg, d->hypoxia_n);
    return l * (1.0f + m->r.fx.hdac_level * (d->hdac_gain - 1.0f));
}

int bs_dtc_is_niche(const bs_model *m, int i)
{
    return m->lat.surface[i] != BS_SURF_NONE || bs_next_to_vessel(&m->lat, i);
}

/* How strongly the place of site i pushes a settled cell into dormancy:
 * quiet endosteum (lining cells): 1; an active BRC, whose lining the
 * osteoclasts removed, until it is lined again: brc_factor, or
 * ob_factor next to one of its osteoblasts if that is more; perivascular:
 * perivascular_factor; elsewhere 0 (or ob_factor next to an osteoblast). */
float bs_dtc_niche_dormancy(const bs_model *m, int i)
{
    const bs_dtc_rules *d = &m->r.dtc;
    uint8_t s = m->lat.surface[i];
    if (s == BS_SURF_QUIESCENT) return 1.0f;
    float f = 0.0f;
    if (s != BS_SURF_NONE)
        f = d->brc_factor;
    else if (bs_next_to_vessel(&m->lat, i))
        f = d->perivascular_factor;
    if (d->ob_factor > f && bs_agent_within(m, i, 1, BS_CELL_OSTEOBLAST)) f = d->ob_factor;
    return f;
}

/* Biased random walk up the CXCL12 gradient over free marrow neighbours. */
static void home(bs_model *m, int slot)
{
    bs_store *s = &m->store;
    const bs_dtc_rules *d = &m->r.dtc;
    uint64_t id = s->id[slot];
    int i = s->site[slot], x = i % m->lat.w, y = i / m->lat.w;
    const float *cx = m->fields[BS_FIELD_CXCL12].c;
    if (bs_dtc_is_niche(m, i)) {
        float p = d->p_settle * hill2(cx[i] * d->cxcr4 * (1.0f - m->r.fx.cxcr4_block), d->cxcl12_K);
        if (bs_draw_agent(m, id, 1) < p) {
            s->state[slot] = BS_DTC_PROLIFERATING;
            return;
        }
    }
    if (bs_draw_agent(m, id, 2) >= d->p_move) return;
    float chi = d->chemotaxis * d->cxcr4 * (1.0f - m->r.fx.cxcr4_block);
    float w[4], total = 0.0f;
    int cand[4], n = 0;
    for (int k = 0; k < 4; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= m->lat.w || ny >= m->lat.h) continue;
        int j = ny * m->lat.w + nx;
        if (s->occ[j] >= 0 || m->lat.tissue[j] != BS_TISSUE_MARROW) continue;
        float e = chi * (cx[j] - cx[i]);
        if (e > 20.0f) e = 20.0f;
        if (e < -20.0f) e = -20.0f;
        w[n] = expf(e);
        total += w[n];
        cand[n++] = j;
    }
    if (n == 0) return;
    float u = bs_draw_agent(m, id, 3) * total;
    int pick = n - 1;
    for (int k = 0; k < n; k++) {
        if (u < w[k]) {
            pick = k;
            break;
        }
        u -= w[k];
    }
    bs_store_move(s, slot, cand[pick]);
}

/* Does a hazard with expected count x = rate x dt (>= 0) strike a cell
 * whose draw is u, i.e. u < 1 - expf(-x)? Exact shortcut: 1 - e^-x <= x,
 * and the float expression is within 1e-6 (absolute) and 1e-6 (relative)
 * of the real one, so a draw at or above x (1 + 1e-6) + 1e-6 never hits and
 * expf is skipped; below that bound the same float test as before decides.
 * A NaN x never hits, as before. */
static inline int bs_hazard_hits(float u, float x)
{
    if (!(u < x * 1.000001f + 1e-6f)) return 0;
    return u < 1.0f - expf(-x);
}

/* expf with a one-entry memo per call site and thread: the dormancy exit
 * and entry hazards take only a handful of values in a step (they depend on
 * hypoxy, the niche class and whether an osteoclast is near), so most cells
 * reuse the last value. Exact: the same expf of the same float. */
typedef struct {
    float x, e;
    int ok;
} expf_memo;
static _Thread_local expf_memo memo_exit, memo_entry;
static inline float memo_expf(expf_memo *c, float x)
{
    if (!c->ok || c->x != x) {
        c->x = x;
        c->e = expf(x);
        c->ok = 1;
    }
    return c->e;
}

/* An M2 macrophage within the trophic radius of site i (Euclidean disc,
 * at most BS_TILE_REACH: the radius parameter's upper bound is 50 um and
 * lattice.h_um >= 5). Reads only the store; a yes/no, so the order of the
 * visits does not matter, and no allocation. Skipped at once when no
 * macrophage is alive (every scenario without them). */
static int m2_within(const bs_model *m, int i, int R)
{
    if (!bs_store_may_hold(&m->store, BS_CELL_MACROPHAGE) || !bs_agent_within(m, i, R, BS_CELL_MACROPHAGE)) return 0;
    return bs_state_within_disc(m, i, R, BS_CELL_MACROPHAGE, BS_MAC_M2);
}

void bs_dtc_act(bs_model *m, int slot, bs_step_totals *tot)
{
    (void)tot;
    bs_store *s = &m->store;
    const bs_dtc_rules *d = &m->r.dtc;
    uint64_t id = s->id[slot];
    int i = s->site[slot];
    float o2 = m->fields[BS_FIELD_O2].c[i];
    s->age_h[slot] += d->dt_h;
    if (d->necrosis_h > 0.0f) {
        /* the hazard is at most necrosis_h x dt_h (1 - Hill <= 1 and float
         * products are monotone): a draw above that bound skips the powf of
         * the Hill term and the expf (bs_hazard_hits); the same test below */
        float u = bs_draw_agent(m, id, 0);
        float cap = d->necrosis_h * d->dt_h;
        if (u < cap * 1.000001f + 1e-6f &&
                u < 1.0f - expf(-d->necrosis_h * d->dt_h * (1.0f - bs_o2_hill(o2, d->necrosis_mmHg, d->necrosis_n)))) {
            bs_store_kill_locked(s, slot);
            return;
        }
    }
    switch (s->state[slot]) {
    case BS_DTC_MIGRATING: home(m, slot); break;
    case BS_DTC_DORMANT: {
        float lifr = bs_dtc_lifr_signal(m, i);
        float low = 1.0f - (lifr < 1.0f ? lifr : 1.0f);
        float rate = d->exit_basal_h + d->exit_lowlifr_h * low;
        if (bs_agent_within(m, i, d->wake_radius, BS_CELL_OSTEOCLAST)) rate += d->exit_oc_h;
        /* HDACi keeps cells asleep (exit x0.3-0.5), through LIFR (B10): no
         * effect on a cell whose pathway is knocked out */
        if (d->lifr_on) rate /= 1.0f + m->r.fx.hdac_level * (d->hdac_gain - 1.0f);
        if (bs_draw_agent(m, id, 4) < 1.0f - memo_expf(&memo_exit, -rate * d->dt_h)) {
            s->state[slot] = BS_DTC_PROLIFERATING;
            /* committed to cycling: no dormancy entry for dtc.wake_commit_d */
            if (d->commit_h > 0.0f) s->aux[slot] = floorf(s->aux[slot]) + COMMIT_FULL;
        }
        break;
    }
    case BS_DTC_PROLIFERATING: {
        float left = commit_left(s->aux[slot]);
        if (left > 0.0f) {
            /* the commitment runs out over dtc.wake_commit_d */
            float step = d->commit_h > 0.0f ? COMMIT_FULL * d->dt_h / d->commit_h : COMMIT_FULL;
            s->aux[slot] = floorf(s->aux[slot]) + (left > step ? left - step : 0.0f);
        } else {
            float entry = d->entry_rate_h * bs_dtc_niche_dormancy(m, i) * bs_dtc_lifr_signal(m, i);
            if (entry > 0.0f && bs_draw_agent(m, id, 4) < 1.0f - memo_expf(&memo_entry, -entry * d->dt_h)) {
                s->state[slot] = BS_DTC_DORMANT;
                break;
            }
        }
        if (bs_draw_agent(m, id, 5) < d->p_apoptosis) {
            bs_store_kill_locked(s, slot);
            return;
        }
        float t = m->fields[BS_FIELD_TGFB].c[i];
        if (t < 0.0f) t = 0.0f;
        float o = o2 > 0.0f ? o2 : 0.0f;
        float ifn = m->fields[BS_FIELD_IFNG].c[i];
        ifn = ifn > 0.0f ? ifn : 0.0f;
        float rate = d->prolif_h * o / (o + d->o2_K) * (1.0f + d->tgfb_gain * t / (t + d->tgfb_K)) /
                (1.0f + ifn / m->r.ifng_prolif_K); /* IFN-gamma is cytostatic */
        /* M2 macrophages next to the cell feed its division (EGF, IL-6;
         * macrophage.m2_trophic_gain) */
        const dtc_own_rules *own = m->r.own[BS_CELL_DTC];
        if (own && own->m2_radius > 0 && m2_within(m, i, own->m2_radius)) rate *= 1.0f + own->m2_gain;
        /* the division itself runs after the tiles (agents/shove.c) */
        if (bs_hazard_hits(bs_draw_agent(m, id, 7), rate * d->dt_h)) bs_shove_request(m, slot);
        break;
    }
    default: break;
    }
}

/* Extravasation of one CTC arriving at vessel site v: returns 1 if it
 * crossed into a free marrow site next to the vessel. */
static int extravasate(bs_model *m, int v, uint64_t key)
{
    const bs_dtc_rules *d = &m->r.dtc;
    /* a CXCR4 antagonist blocks entry less than anchoring (therapy.c) */
    float c = m->fields[BS_FIELD_CXCL12].c[v] * d->cxcr4 * (1.0f - m->r.fx.cxcr4_entry_block);
    float p = d->adhesion * hill2(c, d->cxcl12_K);
    if (bs_rng_uniform(m->seed, BS_STREAM_ARRIVAL, m->step, key, 1) >= p) return 0;
    int x = v % m->lat.w, y = v / m->lat.w, cand[8], n = 0;
    for (int k = 0; k < 8; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= m->lat.w || ny >= m->lat.h) continue;
        int j = ny * m->lat.w + nx;
        if (m->store.occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW) cand[n++] = j;
    }
    if (n == 0) return 0;
    int j = cand[bs_rng_below(m->seed, BS_STREAM_ARRIVAL, m->step, key, 2, (uint32_t)n)];
    uint64_t id = bs_store_child_id(CTC_ID_SALT ^ key, m->step, 1);
    int slot = bs_store_spawn(&m->store, j, BS_CELL_DTC, BS_DTC_MIGRATING, id);
    if (slot >= 0) m->store.aux[slot] = BS_DTC_FROM_VESSEL;
    return slot >= 0;
}

void bs_dtc_arrivals(bs_model *m)
{
    const bs_dtc_rules *d = &m->r.dtc;
    if (m->n_vessels == 0) return;
    int n = 0;
    if (d->ctc_per_step > 0.0f) {
        /* Poisson count by inversion (rates are small per step). */
        float u = bs_rng_uniform(m->seed, BS_STREAM_ARRIVAL, m->step, 0, 0);
        float p = expf(-d->ctc_per_step), cdf = p;
        while (u > cdf && n < 1000) {
            n++;
            p *= d->ctc_per_step / (float)n;
            cdf += p;
        }
    }
    if (d->bolus_n > 0 && m->step - m->step0 == d->bolus_step) n += d->bolus_n;
    n += (int)m->therapy.ctc_returning; /* cells a CXCR4 antagonist mobilised, re-homing (therapy.c) */
    for (int k = 0; k < n; k++) {
        uint64_t key = (uint64_t)k + 1;
        int v = m->vessels[bs_rng_below(m->seed, BS_STREAM_ARRIVAL, m->step, key, 0, (uint32_t)m->n_vessels)];
        m->n_ctc_arrived++;
        if (extravasate(m, v, key)) m->n_extravasated++;
    }
}

/* Initial DTCs of a scenario (serial, at set-up). A random free site of
 * the given surface state, outside any BMU and not marked in `blocked`
 * (NULL: none marked), or -1 if there is none. */
static int random_site_with(bs_model *m, uint8_t surface_state, const uint8_t *blocked, uint64_t key)
{
    long n = (long)m->lat.w * m->lat.h, count = 0;
#define SEED_SITE_OK(i)                                                                                                \
    (m->lat.surface[i] == surface_state && m->store.occ[i] < 0 && m->lat.bmu[i] < 0 && !(blocked && blocked[i]))
    for (long i = 0; i < n; i++)
        if (SEED_SITE_OK(i)) count++;
    if (count == 0) return -1;
    long pick = (long)bs_rng_below(m->seed, BS_STREAM_ARRIVAL, 0, key, 7, (uint32_t)count);
    for (long i = 0; i < n; i++)
        if (SEED_SITE_OK(i) && pick-- == 0) return (int)i;
#undef SEED_SITE_OK
    return -1;
}

/* Mark the sites within distance r (sites, Euclidean) of site i. */
static void mark_disc(const bs_lattice *lat, uint8_t *mask, int i, int r)
{
    int x = i % lat->w, y = i / lat->w;
    for (int yy = y - r; yy <= y + r; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - r; xx <= x + r; xx++) {
            if (xx < 0 || xx >= lat->w) continue;
            if ((xx - x) * (xx - x) + (yy - y) * (yy - y) > r * r) continue;
            mask[yy * lat->w + xx] = 1;
        }
    }
}

void bs_dtc_seed(bs_model *m)
{
    const bs_paramset *ps = m->ps;
    int nq = (int)bs_param(ps, "dtc.seed_quiescent_n"), nb = (int)bs_param(ps, "dtc.seed_brc_n");
    int nl = (int)bs_param(ps, "dtc.seed_lesion_n");
    uint64_t key = 1000;
    /* A cell asked for that finds no room is counted (store.full_refusals,
     * which the runner prints at set-up), never dropped silently.
     *
     * The quiescent-endosteum cells come first, then the BRC cells, each at
     * a quiet site farther than bmu.radius_um + dtc.oc_wake_radius_um from
     * every quiescent-placed cell: the BMU opened under a BRC cell turns
     * the quiet surface within bmu.radius_um to resorption, and its
     * osteoclasts, working at that edge, wake dormant cells within
     * dtc.oc_wake_radius_um of them. So each quiescent-placed cell starts on
     * quiet surface that no seeding BMU takes or reaches (issue 16: BRCs
     * first used up the quiet surface of small lattices, and the quiescent
     * cells were refused). */
    uint8_t *blocked = NULL;
    if (nb > 0 && nq > 0) {
        blocked = calloc((size_t)m->lat.w * (size_t)m->lat.h, 1);
        if (!blocked) {
            /* no memory for the mask at set-up: the BRC cells are refused,
             * counted, rather than placed where they would take the quiet
             * cells' surface */
            m->store.full_refusals += (uint64_t)nb;
            nb = 0;
        }
    }
    const int keep_out = m->r.bmu_radius + (m->r.dtc.wake_radius > 0 ? m->r.dtc.wake_radius : 0);
    for (int k = 0; k < nq; k++, key++) {
        int i = random_site_with(m, BS_SURF_QUIESCENT, NULL, key);
        if (i < 0) {
            m->store.full_refusals += (uint64_t)(nq - k);
            break;
        }
        int slot = bs_store_spawn(&m->store, i, BS_CELL_DTC, BS_DTC_PROLIFERATING, bs_store_child_id(key, 0, 3));
        if (slot >= 0) {
            m->store.aux[slot] = BS_DTC_FROM_QUIESCENT;
            if (blocked) mark_disc(&m->lat, blocked, i, keep_out);
        }
    }
    for (int k = 0; k < nb; k++, key++) {
        int i = random_site_with(m, BS_SURF_QUIESCENT, blocked, key);
        if (i < 0) {
            m->store.full_refusals += (uint64_t)(nb - k);
            break;
        }
        bs_bmu_open(m, i);
        int slot = bs_store_spawn(&m->store, i, BS_CELL_DTC, BS_DTC_PROLIFERATING, bs_store_child_id(key, 0, 2));
        if (slot >= 0) m->store.aux[slot] = BS_DTC_FROM_BRC;
    }
    free(blocked);
    if (nl > 0) {
        /* a cluster grown outward from the initial BMU's surface site */
        double frac = bs_param(ps, "bmu.initial_bmu_x_frac");
        int x0 = (int)((frac < 0.0 ? LESION_DEFAULT_X_FRAC : frac) * (m->lat.w - 1)), y0 = -1;
        for (int y = (int)(bs_param(ps, "bmu.initial_bmu_y_frac") * (m->lat.h - 1)); y < m->lat.h; y++)
            if (m->lat.surface[y * m->lat.w + x0] != BS_SURF_NONE) {
                y0 = y;
                break;
            }
        if (y0 < 0) {
            /* no bone surface below the point in that column (small
             * lattices): the nearest surface site to it instead, so a
             * scenario's lesion is never silently left out */
            const int xc = x0, yc = (int)(bs_param(ps, "bmu.initial_bmu_y_frac") * (m->lat.h - 1));
            long best = -1;
            for (int y = 0; y < m->lat.h; y++)
                for (int x = 0; x < m->lat.w; x++) {
                    if (m->lat.surface[y * m->lat.w + x] == BS_SURF_NONE) continue;
                    long d2 = (long)(x - xc) * (x - xc) + (long)(y - yc) * (y - yc);
                    if (best < 0 || d2 < best) {
                        best = d2;
                        x0 = x;
                        y0 = y;
                    }
                }
            if (y0 < 0) {
                /* no bone surface at all (geometry.source = soft, the
                 * soft-tissue control): the lesion grows in the marrow-like
                 * tissue from the point itself */
                x0 = xc;
                y0 = yc;
            }
        }
        int placed = 0;
        for (int r = 0; r < 64 && placed < nl; r++)
            for (int y = y0 - r; y <= y0 + r && placed < nl; y++)
                for (int x = x0 - r; x <= x0 + r && placed < nl; x++) {
                    if (x < 0 || y < 0 || x >= m->lat.w || y >= m->lat.h) continue;
                    if ((x - x0) * (x - x0) + (y - y0) * (y - y0) > r * r) continue;
                    int i = y * m->lat.w + x;
                    if (m->lat.tissue[i] != BS_TISSUE_MARROW || m->store.occ[i] >= 0) continue;
                    int slot = bs_store_spawn(&m->store, i, BS_CELL_DTC, BS_DTC_PROLIFERATING,
                            bs_store_child_id(key + (uint64_t)placed, 0, 4));
                    if (slot >= 0) {
                        m->store.aux[slot] = BS_DTC_FROM_BRC;
                        placed++;
                    }
                }
        m->store.full_refusals += (uint64_t)(nl - placed);
    }
}

/* Tumour cells take up O2 (dormant ones less), attract immune cells
 * (dormant ones less), and, when awake, suppress immunity and, when
 * dividing, secrete PTHrP (more under TGF-beta: the vicious cycle). MnO2
 * particles make O2 from the tumour's H2O2 (therapy.c). */
static void dtc_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    const bs_rules *r = &m->r;
    uint8_t st = m->store.state[slot];
    if (st == BS_DTC_DORMANT) {
        acc->o2_uptake += r->dtc.o2_uptake * r->dtc.dormant_uptake;
        acc->chemokine += r->immune.chemokine_tumour * r->immune.chemokine_dormant;
        return;
    }
    acc->o2_uptake += r->dtc.o2_uptake;
    acc->o2_src += r->fx.mno2_o2;
    acc->chemokine += r->immune.chemokine_tumour;
    /* more under hypoxia (HIF-1a; agents/immune.h bs_immune_hypoxic_suppr) */
    acc->suppr += r->immune.suppr_tumour *
            (1.0f +
                    r->immune.suppr_hyp_gain *
                            (1.0f -
                                    bs_o2_hill(m->fields[BS_FIELD_O2].c[site], r->immune.suppr_hyp_mmHg,
                                            r->immune.suppr_hyp_n)));
    if (st == BS_DTC_PROLIFERATING) {
        float tg = m->fields[BS_FIELD_TGFB].c[site];
        tg = tg > 0.0f ? tg / (tg + r->dtc.tgfb_K) : 0.0f;
        acc->pthrp += r->dtc.pthrp * (1.0f + r->dtc.tgfb_pthrp_gain * tg);
    }
}

const bs_celltype bs_type_dtc = {
    .name = "dtc",
    .plural = "tumour cells",
    .n_states = 3,
    .state_names = { "homing", "dormant", "proliferating" },
    .rgb = { { 0xF0, 0xE4, 0x42 }, { 0x56, 0xB4, 0xE9 }, { 0xCC, 0x79, 0xA7 } }, /* yellow, sky blue, reddish purple */
    .shape = { BS_SHAPE_DIAMOND, BS_SHAPE_RING, BS_SHAPE_DISC },
    .footprint_sites = 1,
    .params = bs_dtc_params,
    .n_params = sizeof bs_dtc_params / sizeof bs_dtc_params[0],
    .derive = bs_dtc_derive,
    .rules_bytes = sizeof(dtc_own_rules),
    .act = bs_dtc_act,
    .arrivals = bs_dtc_arrivals,
    .seed = bs_dtc_seed,
    .sources = dtc_sources,
    .radiation = { .model = BS_RT_LQ,
            .alpha_key = "rt.tumour_alpha_per_Gy",
            .alpha_beta_key = "rt.tumour_alpha_beta_Gy",
            .factor_states = 1u << BS_DTC_DORMANT,
            .factor_key = "rt.dormant_dmf" },
    .drugs = { .cxcr4i_mobilised_states = 1u << BS_DTC_DORMANT,
            .chemo_cycling_states = 1u << BS_DTC_PROLIFERATING,
            .chemo_quiescent_states = (1u << BS_DTC_DORMANT) | (1u << BS_DTC_MIGRATING) },
    .n_observables = 3,
    .observables = { { "n_dtc", "cells", BS_ALL_STATES }, { "n_dtc_dormant", "cells", 1u << BS_DTC_DORMANT },
            { "n_dtc_proliferating", "cells", 1u << BS_DTC_PROLIFERATING } },
};
