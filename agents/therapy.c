/* therapy.c — the therapies of the review as mechanisms on the rules.
 *
 * Every therapy has a schedule in the registry (therapy.NAME.start_day,
 * stop_day and, for dosed drugs, interval_d and dose) and a level in the
 * model's therapy state. Three kinds:
 *   - dosed drugs (zoledronic acid, denosumab, anti-PD-1): switching on
 *     gives a dose at once and another every interval_d while on; each dose
 *     adds `dose` to the level (1 = the standard dose), which decays with
 *     the drug's half-life whether on or off;
 *   - exposures (anti-Gr1, CXCR4 antagonist, hyperoxia, MnO2, HDAC
 *     inhibitor): level 1 while on, washing out with a half-life after;
 *   - radiotherapy: switching on starts a course: a fraction of dose_Gy now
 *     and the rest of n_fractions every interval_d, each killing cells in
 *     its region by their radiosensitivity; the switch itself stays off.
 * bs_therapy_step runs first in every step: schedule events, repeat doses,
 * level decay, the therapies' own actions (MDSC depletion, mobilisation of
 * dormant cells), and then it writes the rule effects (bs_rules.cxcr4_block,
 * pd1_block, rankl_factor, ...) from the state, so nothing a therapy does
 * lives only in bs_rules (model_io.c's rule: recomputed each step, or
 * state). Serial, no allocation. */
#include "therapy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "celltypes.h"
#include "model.h"
#include "rng.h"
#include "rules.h"

/* A day that falls within this many steps of a step boundary is that step
 * (round-off in day x 24 / dt must not push a dose one step late). */
#define STEP_ROUNDING 1e-9
#define MM2_PER_UM2 1e-6
/* Drug levels, the denosumab precursor pool (both 0..1) and the anti-Gr1
 * myeloid pool (cells) below these are set to exactly 0: a washed-out drug
 * then reads as off (level > 0 tests) instead of decaying for ever through
 * subnormal floats, far below any effect it could have. */
#define LEVEL_FLOOR 1e-6f
#define PRECURSOR_FLOOR 1e-7f
#define MYELOID_POOL_FLOOR_CELLS 1e-4f
/* CXCL12 anchoring of a dormant cell: the same Hill exponent as its CXCR4
 * signalling (dtc.cxcl12_half_au, n = 2). */
#define CXCR4_HILL_N 2.0f

const char *const bs_therapy_names[BS_THERAPY_COUNT] = {
    "zoledronic_acid",
    "denosumab",
    "anti_pd1",
    "anti_gr1",
    "cxcr4_antagonist",
    "radiotherapy",
    "hyperoxia",
    "mno2",
    "hdac_inhibitor",
    "chemotherapy",
};

const char *const bs_therapy_blurbs[BS_THERAPY_COUNT] = {
    "bisphosphonate: binds bone for years, kills osteoclasts that resorb it",
    "anti-RANKL antibody: blocks osteoclasts while on, rebound after stopping",
    "checkpoint inhibitor: lifts the PD-L1 brake on CD8 T cells",
    "anti-Gr1 antibody: depletes MDSCs, their myeloid relatives feed osteoclasts",
    "CXCR4 antagonist (plerixafor): blocks CXCL12 homing and retention of DTCs",
    "radiotherapy: a dose in Gy to a region, survival by radiosensitivity",
    "hyperoxia: breathing 60% O2 raises the O2 of the vessels",
    "MnO2 nanoparticles: make O2 from tumour H2O2 inside lesions",
    "HDAC inhibitor (entinostat): raises LIFR signalling, more dormancy",
    "chemotherapy (docetaxel-like): kills cycling tumour cells, dormant ones are spared",
};

int bs_therapy_find(const char *name)
{
    if (!name) return -1;
    for (int k = 0; k < BS_THERAPY_COUNT; k++)
        if (strcmp(name, bs_therapy_names[k]) == 0) return k;
    return -1;
}

enum { KIND_DOSED, KIND_EXPOSURE, KIND_COURSE };
static const int therapy_kind[BS_THERAPY_COUNT] = {
    KIND_DOSED,
    KIND_DOSED,
    KIND_DOSED,
    KIND_EXPOSURE,
    KIND_EXPOSURE,
    KIND_COURSE,
    KIND_EXPOSURE,
    KIND_EXPOSURE,
    KIND_EXPOSURE,
    KIND_DOSED,
};

static const char *const rt_regions[] = { "domain", "rectangle", "circle", NULL };

#define NOT_SCHEDULED "; -1 = not scheduled"
#define SCHEDULE(NAME, WHAT)                                                                                           \
    { "therapy." NAME ".start_day", BS_PT_REAL, -1.0, -1.0, 36525.0, "d",                                              \
        "Day " WHAT " starts (fires at the first step starting at or after it)" NOT_SCHEDULED, NULL, NULL },           \
    {                                                                                                                  \
        "therapy." NAME ".stop_day", BS_PT_REAL, -1.0, -1.0, 36525.0, "d",                                             \
                "Day " WHAT " stops (must be after start_day); -1 = never stops", NULL, NULL                           \
    }
#define DOSING(NAME, INTERVAL, SRC)                                                                                    \
    { "therapy." NAME ".interval_d", BS_PT_REAL, INTERVAL, 0.0, 3650.0, "d",                                           \
        "Days between doses while on (0 = a single dose at start_day). " SRC, NULL, NULL },                            \
    {                                                                                                                  \
        "therapy." NAME ".dose", BS_PT_REAL, 1.0, 0.0, 10.0, "1",                                                      \
                "Dose relative to the standard dose (1 = the standard dose; the level a dose adds)", NULL, NULL        \
    }

static const bs_param_def therapy_params[] = {
    /* zoledronic acid */
    SCHEDULE("zoledronic_acid", "zoledronic acid dosing"),
    DOSING("zoledronic_acid", 28.0, "Standard dose 4 mg IV every 3-4 weeks (Scagliotti 2012, M✓)"),
    { "za.plasma_half_life_h", BS_PT_REAL, 1.87, 0.01, 1e5, "h",
            "Half-life of circulating zoledronic acid in its early disposition phase, t1/2 beta 1.87 h: plasma falls "
            "below 1% of Cmax within 24 h (Zometa label, M✓). While it circulates, the drug leaving the plasma binds "
            "every exposed bone site, new cavity floors included. The terminal phase (t1/2 gamma 146 h, < 1% of "
            "Cmax) is drug coming back off bone and is not a second binding source here",
            NULL, NULL },
    { "za.bone_load_per_dose", BS_PT_REAL, 1.0, 0.0, 100.0, "1",
            "Load an exposed bone site binds from one standard dose cleared from plasma (40-50% of a dose is excreted, "
            "the rest binds bone; Zometa label; normalised: 1 = one dose's surface load, M✓/A)",
            NULL, NULL },
    { "za.surface_capacity_doses", BS_PT_REAL, 1.0, 0.0, 100.0, "1",
            "Binding capacity of an exposed bone site, in standard doses' loads; 0 = unlimited. Bisphosphonates adsorb "
            "to hydroxyapatite as a saturable (Langmuir) isotherm (Nancollas 2006 Bone 38:617, M~), so binding slows "
            "as a site fills, load added = amount x (1 - load / capacity), and drug that finds no free site (also "
            "drug released by resorption) stays in the circulation and is excreted. Repeated monthly doses then top "
            "up the surface instead of stacking, and resorption markers plateau at about -60 to -70 % under monthly "
            "zoledronic acid in bone metastases (uNTx, Stopeck 2010 J Clin Oncol 28:5132; Lipton 2007 Cancer "
            "110:2104, M~); value A, calibrated to that plateau (docs/calibration.md, Session 4, drugs)",
            NULL, NULL },
    { "za.bone_half_life_d", BS_PT_REAL, 730.0, 365.0, 36525.0, "d",
            "Half-life of zoledronic acid bound to bone (skeletal retention for years, M~)", NULL, NULL },
    { "za.oc_apoptosis_per_d", BS_PT_REAL, 2.0, 0.0, 100.0, "1/d",
            "Extra apoptosis of an osteoclast that has taken up a full site's load (FPPS inhibition: N-bisphosphonates "
            "induce osteoclast apoptosis in vitro and in vivo, Hughes 1995 J Bone Miner Res 10:1478, M~; value A: "
            "dead within about a day of a full uptake)",
            NULL, NULL },
    { "za.oc_uptake_frac", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Fraction of the drug in the mineral an osteoclast dissolves that the cell internalises; the rest is "
            "released into the lacuna and binds again to the bone exposed around it, so the new cavity floor carries "
            "drug (bisphosphonate concentrated under resorbing osteoclasts and taken up by them, Sato 1991 J Clin "
            "Invest 88:2095, M~ qualitative; value A)",
            NULL, NULL },
    { "za.formation_half_load", BS_PT_REAL, 2.0, 0.0, 100.0, "1",
            "Load of the bone next to a surface site that halves osteoclast formation there, K / (K + load); 0 = no "
            "effect. Precursors fusing on loaded bone take the drug up and fail (Hughes 1995, M~); with a single "
            "dose the activation frequency falls by about two thirds for a year (Recker 2008 J Bone Miner Res 23:6, "
            "M~). Value A, calibrated to B19d",
            NULL, NULL },
    { "za.activity_cut", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Fraction of its resorption an osteoclast loses at a full uptake (FPPS inhibition disrupts the ruffled "
            "border before the cell dies, Sato 1991, M~ qualitative; value A)",
            NULL, NULL },
    /* denosumab */
    SCHEDULE("denosumab", "denosumab dosing"),
    DOSING("denosumab", 28.0, "Standard dose 120 mg SC every 4 weeks in oncology (Scagliotti 2012, M✓)"),
    { "dmab.half_life_d", BS_PT_REAL, 26.0, 0.1, 1e4, "d", "Serum half-life of denosumab (Tay & Tay 2022, M✓)", NULL,
            NULL },
    { "dmab.occupancy_max", BS_PT_REAL, 0.95, 0.0, 1.0, "1",
            "Fraction of RANKL bound while the level is well above EC50 (A)", NULL, NULL },
    { "dmab.ec50", BS_PT_REAL, 0.1, 1e-6, 10.0, "1",
            "Level (fraction of a standard dose) giving half the maximal RANKL occupancy (A)", NULL, NULL },
    { "dmab.hill", BS_PT_REAL, 2.0, 0.5, 10.0, "1", "Hill coefficient of RANKL occupancy vs level (A)", NULL, NULL },
    { "dmab.precursor_build_per_d", BS_PT_REAL, 0.01, 0.0, 10.0, "1/d",
            "Rate at which the osteoclast-precursor pool fills (towards 1) while RANKL is blocked (mechanism of the "
            "rebound, "
            "Anastasilakis 2021 / Tsourdi 2021 qualitative; value A, calibrated to B20)",
            NULL, NULL },
    { "dmab.precursor_convert_per_d", BS_PT_REAL, 0.004, 0.0, 10.0, "1/d",
            "Rate at which the pool is used up once RANKL is free again (the pool of osteoclast precursors and "
            "recycled osteoclast fragments, McDonald 2021 Cell 184:1330, M~ qualitative): turnover stays above the "
            "pre-treatment level and the bone gained is lost over 12-24 months after discontinuation (Anastasilakis "
            "2021 J Clin Med 10:152; Tsourdi 2021 JCEM 106:264, M✓). Value A, calibrated to B20 (half-time ~6 months)",
            NULL, NULL },
    { "dmab.precursor_gain", BS_PT_REAL, 1.0, 0.0, 100.0, "1",
            "RANKL signal x (1 + gain x pool): a full precursor pool drives this much more BMU activation and "
            "osteoclast "
            "formation (rebound above pre-treatment turnover; calibrated to B20)",
            NULL, NULL },
    /* anti-PD-1 */
    SCHEDULE("anti_pd1", "anti-PD-1 dosing"),
    DOSING("anti_pd1", 14.0, "Nivolumab 240 mg IV every 2 weeks (label; Landi 2019 cohort, M✓)"),
    { "pd1.half_life_d", BS_PT_REAL, 25.0, 0.1, 1e4, "d", "Serum half-life of an IgG4 anti-PD-1 (M~)", NULL, NULL },
    { "pd1.ec50", BS_PT_REAL, 0.05, 1e-6, 10.0, "1",
            "Level (fraction of a standard dose) that gives half the PD-1 blockade (receptor occupancy stays high for "
            "weeks; A)",
            NULL, NULL },
    { "pd1.exhaustion_cut", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Fraction of the suppression-driven exhaustion hazard removed at full blockade (anti-PD-1 "
            "cuts exhaustion, A)",
            NULL, NULL },
    /* anti-Gr1 */
    SCHEDULE("anti_gr1", "anti-Gr1 exposure"),
    { "agr1.half_life_d", BS_PT_REAL, 2.0, 0.01, 1e4, "d",
            "Wash-out half-life of the anti-Gr1 effect after stopping (mouse antibody given every 2-3 d; A)", NULL,
            NULL },
    { "agr1.kill_per_d", BS_PT_REAL, 1.5, 0.0, 100.0, "1/d", "Depletion hazard of MDSCs while exposed (A)", NULL,
            NULL },
    { "agr1.pool_per_depleted", BS_PT_REAL, 0.5, 0.0, 10.0, "cells",
            "Osteoclast-competent CD11b+Ly6C-int cells that build up per MDSC depleted (Capietto 2021 build-up; 0.5x, "
            "A)",
            NULL, NULL },
    { "agr1.pool_life_d", BS_PT_REAL, 10.0, 0.1, 1e4, "d", "Mean life of a cell of that pool (myeloid turnover, A)",
            NULL, NULL },
    { "agr1.oc_gain", BS_PT_REAL, 2.0, 0.0, 100.0, "1",
            "RANKL signal x (1 + gain x pool / (pool + half)): the pool adds osteoclast precursors, so more BMUs open "
            "and "
            "more osteoclasts form (Capietto 2021 qualitative; calibrated to B21)",
            NULL, NULL },
    { "agr1.pool_half_per_mm2", BS_PT_REAL, 20.0, 1e-6, 1e6, "1/mm^2",
            "Pool density (cells per mm^2 of section) for half the extra formation (A)", NULL, NULL },
    { "agr1.pool_to_oc_per_d", BS_PT_REAL, 0.2, 0.0, 100.0, "1/d",
            "Rate at which a cell of that pool becomes an osteoclast on the endosteum, drawn towards high RANKL signal "
            "(the "
            "tumour's PTHrP-driven sites): the Ly6C-int cells are osteoclast-competent (Capietto 2021, M~ qualitative; "
            "value as mdsc.to_oc_rate_per_d in mdsc_suppression, calibrated to B21)",
            NULL, NULL },
    /* CXCR4 antagonist */
    SCHEDULE("cxcr4_antagonist", "CXCR4-antagonist exposure"),
    { "cxcr4i.entry_share", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "Share of the CXCL12-sensing block that reaches arriving CTCs (1 = extravasation blocked as much as "
            "anchoring): E-selectin governs entry and CXCL12/CXCR4 anchors cells in their niche (Price 2016 Sci "
            "Transl Med 8:340ra73, M✓); given before seeding, AMD3100 did not prevent and even raised short-term "
            "homing "
            "(Zalucha 2015 J Cancer Stem Cell Res 3:e1005, M✓). Value A",
            NULL, NULL },
    { "cxcr4i.ctc_half_life_h", BS_PT_REAL, 2.0, 0.01, 1e4, "h",
            "Half-life of a mobilised cell in the blood before it re-homes or washes out (CTC half-life 1-2.4 h, Meng "
            "2004 Clin Cancer Res 10:8152, M~)",
            NULL, NULL },
    { "cxcr4i.rehome_frac", BS_PT_REAL, 0.1, 0.0, 0.99, "1",
            "Fraction of mobilised cells that come back to marrow like this section's (they arrive again as CTCs and "
            "must extravasate); the rest die or settle elsewhere (A: most CTCs are cleared, Meng 2004)",
            NULL, NULL },
    { "cxcr4i.half_life_h", BS_PT_REAL, 4.0, 0.01, 1e4, "h", "Plasma half-life of plerixafor, 3-5 h (M~)", NULL, NULL },
    { "cxcr4i.block", BS_PT_REAL, 0.9, 0.0, 1.0, "1", "Fraction of CXCL12 sensing blocked at full exposure (A)", NULL,
            NULL },
    { "cxcr4i.mobilise_per_d", BS_PT_REAL, 0.05, 0.0, 100.0, "1/d",
            "Rate at which dormant DTCs anchored by CXCL12 leave into the blood at full block x their CXCL12 anchoring "
            "(Shiozawa 2011, Price 2016: AMD3100 mobilises DTCs, M✓ qualitative; value A, calibrated to B22)",
            NULL, NULL },
    /* radiotherapy */
    SCHEDULE("radiotherapy", "the radiotherapy course"),
    { "therapy.radiotherapy.dose_Gy", BS_PT_REAL, 8.0, 0.0, 100.0, "Gy",
            "Dose per fraction (palliative 8 Gy x 1, or 20-30 Gy in 5-10 fractions; Xue 2024, M~)", NULL, NULL },
    { "therapy.radiotherapy.n_fractions", BS_PT_INT, 1.0, 1.0, 100.0, "1", "Fractions in a course", NULL, NULL },
    { "therapy.radiotherapy.interval_d", BS_PT_REAL, 1.0, 0.0, 365.0, "d",
            "Days between fractions (daily on weekdays clinically; 1 here)", NULL, NULL },
    { "therapy.radiotherapy.region", BS_PT_CHOICE, 0.0, 0.0, 2.0, "",
            "Irradiated region: the whole domain, a rectangle (x0_um..x1_um, y0_um..y1_um) or a circle (cx_um, cy_um, "
            "radius_um); um from the top-left corner",
            NULL, rt_regions },
    { "therapy.radiotherapy.x0_um", BS_PT_REAL, 0.0, 0.0, 1e7, "um", "Rectangle: left edge", NULL, NULL },
    { "therapy.radiotherapy.y0_um", BS_PT_REAL, 0.0, 0.0, 1e7, "um", "Rectangle: top edge", NULL, NULL },
    { "therapy.radiotherapy.x1_um", BS_PT_REAL, 1000.0, 0.0, 1e7, "um", "Rectangle: right edge (> x0_um)", NULL, NULL },
    { "therapy.radiotherapy.y1_um", BS_PT_REAL, 1000.0, 0.0, 1e7, "um", "Rectangle: bottom edge (> y0_um)", NULL,
            NULL },
    { "therapy.radiotherapy.cx_um", BS_PT_REAL, 1250.0, 0.0, 1e7, "um", "Circle: centre x", NULL, NULL },
    { "therapy.radiotherapy.cy_um", BS_PT_REAL, 1250.0, 0.0, 1e7, "um", "Circle: centre y", NULL, NULL },
    { "therapy.radiotherapy.radius_um", BS_PT_REAL, 500.0, 0.0, 1e7, "um", "Circle: radius (> 0)", NULL, NULL },
    { "rt.tumour_alpha_per_Gy", BS_PT_REAL, 0.3, 0.0, 10.0, "1/Gy",
            "Linear-quadratic alpha of cycling tumour cells, S = exp(-alpha D - beta D^2) (M~)", NULL, NULL },
    { "rt.tumour_alpha_beta_Gy", BS_PT_REAL, 10.0, 0.1, 1000.0, "Gy",
            "alpha/beta of tumour cells (early-responding tissue ~10 Gy, M~)", NULL, NULL },
    { "rt.dormant_dmf", BS_PT_REAL, 1.27, 1.0, 10.0, "1",
            "Dose-modifying factor of dormant (quiescent, G0) tumour cells: they survive a dose D as cycling cells "
            "survive D / dmf (S = exp(-alpha D/dmf - beta (D/dmf)^2)). Quiescent plateau-phase 9L cells: survival "
            "shoulder Dq 5.71 Gy vs 4.48 Gy when growing, from more repair of potentially lethal damage (Radiat Res, "
            "'Quiescence in 9L cells and correlation with radiosensitivity and PLD repair', M~): 5.71 / 4.48 = 1.27",
            NULL, NULL },
    { "rt.cd8_D0_Gy", BS_PT_REAL, 0.55, 0.01, 100.0, "Gy",
            "CD8 T cells: S = exp(-D/D0) (lymphocytes very radiosensitive, M~)", NULL, NULL },
    { "rt.nk_D0_Gy", BS_PT_REAL, 5.5, 0.01, 100.0, "Gy", "NK cells: S = exp(-D/D0) (less sensitive, M~)", NULL, NULL },
    { "rt.ob_D0_Gy", BS_PT_REAL, 30.0, 0.01, 1000.0, "Gy",
            "Osteoblast lineage (non-dividing osteoblasts on the surface): S = exp(-D/D0), interphase death only. "
            "Marrow MSCs are radioresistant and evade apoptosis (Nicolay 2015 Oncotarget 6:19366, M✓); stromal-cell "
            "viability is unchanged a week after 5 Gy and falls after 10 Gy (adipose MSCs, J Biomed Phys Eng "
            "doi:10.31661/jbpe.v0i0.1212, M~). D0 30 Gy: 85% after 5 Gy, 77% after 8 Gy, 72% after 10 Gy (A within "
            "those bounds). Lining cells are the quiescent surface itself and are not killed",
            NULL, NULL },
    { "rt.mdsc_alpha_per_Gy", BS_PT_REAL, 0.15, 0.0, 10.0, "1/Gy",
            "LQ alpha of MDSCs (myeloid cells are more radioresistant than lymphocytes, and MDSCs expand after "
            "radiotherapy; "
            "A)",
            NULL, NULL },
    { "rt.oc_alpha_per_Gy", BS_PT_REAL, 0.05, 0.0, 10.0, "1/Gy",
            "LQ alpha of mature osteoclasts (post-mitotic, radioresistant; A)", NULL, NULL },
    { "rt.myeloid_alpha_beta_Gy", BS_PT_REAL, 10.0, 0.1, 1000.0, "Gy", "alpha/beta of MDSCs and osteoclasts (A)", NULL,
            NULL },
    /* hyperoxia */
    SCHEDULE("hyperoxia", "breathing of 60% O2"),
    { "hyperoxia.vessel_pO2_factor", BS_PT_REAL, 2.0, 1.0, 10.0, "1",
            "Vessel O2 (sinusoid and arteriole Dirichlet values) x factor while on (1.5-2.5, A; "
            "Hatfield "
            "2015)",
            NULL, NULL },
    { "hyperoxia.washout_h", BS_PT_REAL, 0.25, 0.01, 1e3, "h", "Half-time for vessel O2 to return after stopping (A)",
            NULL, NULL },
    /* MnO2 */
    SCHEDULE("mno2", "MnO2-particle exposure"),
    { "mno2.half_life_d", BS_PT_REAL, 3.0, 0.01, 1e4, "d",
            "Half-life of the particles' O2 production after the last dose (A; particles accumulate in long bones, "
            "Murphy 2024)",
            NULL, NULL },
    { "mno2.o2_per_cell_mmHg_per_h", BS_PT_REAL, 80000.0, 0.0, 1e7, "mmHg/h",
            "O2 made per tumour cell from its H2O2 (source proportional to tumour density), calibrated so lesions gain "
            "+5-15 mmHg (Murphy 2021 design band; calibrated to B24 on seeds 500-505: +9.3 mmHg mean at tumour cells "
            "in the 100-cell hypoxic_marrow lesion, 120 x 120)",
            NULL, NULL },
    /* HDAC inhibitor */
    SCHEDULE("hdac_inhibitor", "HDAC-inhibitor exposure"),
    { "hdac.half_life_h", BS_PT_REAL, 50.0, 0.1, 1e4, "h", "Half-life of entinostat, ~2 d (M~)", NULL, NULL },
    /* chemotherapy */
    SCHEDULE("chemotherapy", "chemotherapy"),
    DOSING("chemotherapy", 21.0,
            "Docetaxel 75 mg/m^2 IV every 3 weeks, second-line NSCLC (Shepherd 2000 J Clin Oncol 18:2095, M~)"),
    { "chemo.half_life_h", BS_PT_REAL, 11.0, 0.01, 1e4, "h",
            "Terminal plasma half-life of docetaxel, ~11 h (Taxotere label, M~): the level that kills", NULL, NULL },
    { "chemo.kill_frac_per_dose", BS_PT_REAL, 0.5, 0.0, 0.999, "1",
            "Fraction of cycling tumour cells one standard dose kills (log cell kill per cycle, Skipper's fractional "
            "kill; A: half a log-unit would be 0.68, NSCLC responds in a minority of patients)",
            NULL, NULL },
    { "chemo.dormant_factor", BS_PT_REAL, 0.1, 0.0, 1.0, "1",
            "Kill hazard of quiescent (dormant or homing) tumour cells relative to cycling ones: cycle-specific drugs "
            "spare non-dividing cells (Lawson 2015 Nat Commun 6:8983, M✓ qualitative; x0.1, A)",
            NULL, NULL },
};

const bs_param_def *bs_therapy_params(size_t *n)
{
    *n = sizeof therapy_params / sizeof therapy_params[0];
    return therapy_params;
}

/* ---- set-up ---------------------------------------------------------------- */

static double pget(const bs_paramset *ps, bs_therapy_id id, const char *key)
{
    char name[96];
    snprintf(name, sizeof name, "therapy.%s.%s", bs_therapy_names[id], key);
    return bs_param(ps, name);
}

bs_status bs_therapy_check(const bs_paramset *ps, bs_error *err)
{
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        double a = pget(ps, (bs_therapy_id)k, "start_day"), b = pget(ps, (bs_therapy_id)k, "stop_day");
        if (b >= 0.0 && a >= 0.0 && b <= a)
            return bs_fail(err, BS_ERR_INVALID,
                    "therapy.%s.stop_day = %g must be after therapy.%s.start_day = %g (or -1: never stops)",
                    bs_therapy_names[k], b, bs_therapy_names[k], a);
    }
    const char *reg = bs_param_str(ps, "therapy.radiotherapy.region");
    if (strcmp(reg, "rectangle") == 0) {
        double x0 = bs_param(ps, "therapy.radiotherapy.x0_um"), x1 = bs_param(ps, "therapy.radiotherapy.x1_um");
        double y0 = bs_param(ps, "therapy.radiotherapy.y0_um"), y1 = bs_param(ps, "therapy.radiotherapy.y1_um");
        if (x1 <= x0 || y1 <= y0)
            return bs_fail(err, BS_ERR_INVALID,
                    "therapy.radiotherapy: rectangle needs x1_um > x0_um and y1_um > y0_um (got x %g..%g, y "
                    "%g..%g)",
                    x0, x1, y0, y1);
    } else if (strcmp(reg, "circle") == 0 && !(bs_param(ps, "therapy.radiotherapy.radius_um") > 0.0)) {
        return bs_fail(err, BS_ERR_INVALID, "therapy.radiotherapy.radius_um must be > 0 for region = circle");
    }
    return BS_OK;
}

static int64_t day_to_step(double d, double dt_h)
{
    if (d < 0.0) return -1;
    /* the first step whose start time (step x dt) is at or after day d */
    return (int64_t)ceil(d * 24.0 / dt_h - STEP_ROUNDING);
}

static float decay_per_step(double half_h, double dt_h)
{
    return (float)exp(-log(2.0) * dt_h / half_h);
}

void bs_therapy_init(bs_model *m)
{
    bs_therapy_state *t = &m->therapy;
    memset(t, 0, sizeof *t);
    for (int k = 0; k < BS_THERAPY_COUNT; k++) t->last_dose_d[k] = -1.0;
    bs_therapy_derive(m);
    /* untreated */
    bs_therapy_effects *fx = &m->r.fx;
    memset(fx, 0, sizeof *fx);
    fx->pd1_exhaust_factor = 1.0f;
    fx->rankl_factor = 1.0f;
    fx->o2_sinusoid = m->r.tx.o2_sinusoid_base;
    fx->o2_arteriole = m->r.tx.o2_arteriole_base;
    fx->hdac_level = m->r.tx.hdac_base;
}

void bs_therapy_derive(bs_model *m)
{
    const bs_paramset *ps = m->ps;
    bs_therapy_rules *x = &m->r.tx;
    double dt = m->dt_h, h_um = m->lat.h_um;
    memset(x, 0, sizeof *x);
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        bs_therapy_id id = (bs_therapy_id)k;
        x->start_step[k] = day_to_step(pget(ps, id, "start_day"), dt);
        x->stop_step[k] = day_to_step(pget(ps, id, "stop_day"), dt);
        if (therapy_kind[k] == KIND_DOSED) {
            double iv = pget(ps, id, "interval_d");
            x->interval_steps[k] = iv > 0.0 ? (int64_t)llround(iv * 24.0 / dt) : 0;
            if (iv > 0.0 && x->interval_steps[k] < 1) x->interval_steps[k] = 1;
            x->dose[k] = (float)pget(ps, id, "dose");
        } else {
            x->dose[k] = 1.0f;
        }
    }
    x->decay[BS_THERAPY_ZOLEDRONIC_ACID] = decay_per_step(bs_param(ps, "za.plasma_half_life_h"), dt);
    x->decay[BS_THERAPY_DENOSUMAB] = decay_per_step(24.0 * bs_param(ps, "dmab.half_life_d"), dt);
    x->decay[BS_THERAPY_ANTI_PD1] = decay_per_step(24.0 * bs_param(ps, "pd1.half_life_d"), dt);
    x->decay[BS_THERAPY_ANTI_GR1] = decay_per_step(24.0 * bs_param(ps, "agr1.half_life_d"), dt);
    x->decay[BS_THERAPY_CXCR4_ANTAGONIST] = decay_per_step(bs_param(ps, "cxcr4i.half_life_h"), dt);
    x->decay[BS_THERAPY_RADIOTHERAPY] = 0.0f;
    x->decay[BS_THERAPY_HYPEROXIA] = decay_per_step(bs_param(ps, "hyperoxia.washout_h"), dt);
    x->decay[BS_THERAPY_MNO2] = decay_per_step(24.0 * bs_param(ps, "mno2.half_life_d"), dt);
    x->decay[BS_THERAPY_HDAC_INHIBITOR] = decay_per_step(bs_param(ps, "hdac.half_life_h"), dt);
    double chemo_half_h = bs_param(ps, "chemo.half_life_h");
    x->decay[BS_THERAPY_CHEMOTHERAPY] = decay_per_step(chemo_half_h, dt);
    /* a dose's level integrates to dose x tau (tau = half-life / ln 2):
     * a cell cycling throughout dies with 1 - exp(-k tau) = kill_frac */
    x->chemo_kill_h = (float)(-log(1.0 - bs_param(ps, "chemo.kill_frac_per_dose")) / (chemo_half_h / log(2.0)));
    x->chemo_dormant_factor = (float)bs_param(ps, "chemo.dormant_factor");
    /* zoledronic acid */
    x->za_bone_decay = decay_per_step(24.0 * bs_param(ps, "za.bone_half_life_d"), dt);
    x->za_load_per_dose = (float)bs_param(ps, "za.bone_load_per_dose");
    x->za_capacity = (float)bs_param(ps, "za.surface_capacity_doses");
    x->p_za_oc_death = bs_rate_to_prob(bs_param(ps, "za.oc_apoptosis_per_d") / 24.0, dt);
    x->za_oc_uptake = (float)bs_param(ps, "za.oc_uptake_frac");
    x->za_form_K = (float)bs_param(ps, "za.formation_half_load");
    x->za_activity_cut = (float)bs_param(ps, "za.activity_cut");
    /* denosumab */
    x->dmab_occ_max = (float)bs_param(ps, "dmab.occupancy_max");
    x->dmab_ec50 = (float)bs_param(ps, "dmab.ec50");
    x->dmab_hill = (float)bs_param(ps, "dmab.hill");
    x->p_dmab_accumulate = bs_rate_to_prob(bs_param(ps, "dmab.precursor_build_per_d") / 24.0, dt);
    x->p_dmab_convert = bs_rate_to_prob(bs_param(ps, "dmab.precursor_convert_per_d") / 24.0, dt);
    x->dmab_gain = (float)bs_param(ps, "dmab.precursor_gain");
    /* anti-PD-1 */
    x->pd1_ec50 = (float)bs_param(ps, "pd1.ec50");
    x->pd1_exhaust_cut = (float)bs_param(ps, "pd1.exhaustion_cut");
    /* anti-Gr1 */
    x->agr1_kill_h = (float)(bs_param(ps, "agr1.kill_per_d") / 24.0);
    x->agr1_pool_per_kill = (float)bs_param(ps, "agr1.pool_per_depleted");
    x->agr1_pool_decay = decay_per_step(24.0 * bs_param(ps, "agr1.pool_life_d") * log(2.0), dt);
    x->agr1_oc_gain = (float)bs_param(ps, "agr1.oc_gain");
    double area_mm2 = (double)m->lat.w * m->lat.h * h_um * h_um * MM2_PER_UM2;
    x->agr1_pool_K = (float)(bs_param(ps, "agr1.pool_half_per_mm2") * area_mm2);
    x->agr1_seed_h = (float)(bs_param(ps, "agr1.pool_to_oc_per_d") / 24.0);
    /* CXCR4 antagonist */
    x->cxcr4i_block = (float)bs_param(ps, "cxcr4i.block");
    x->cxcr4i_mobilise_h = (float)(bs_param(ps, "cxcr4i.mobilise_per_d") / 24.0);
    x->cxcr4i_entry_share = (float)bs_param(ps, "cxcr4i.entry_share");
    /* a circulating mobilised cell leaves the blood at ln 2 / half-life:
     * a share rehome_frac of those exits are re-homing */
    double out_h = log(2.0) / bs_param(ps, "cxcr4i.ctc_half_life_h"), f = bs_param(ps, "cxcr4i.rehome_frac");
    x->p_ctc_return = bs_rate_to_prob(out_h * f, dt);
    x->p_ctc_clear = bs_rate_to_prob(out_h * (1.0 - f), dt);
    /* radiotherapy */
    const char *reg = bs_param_str(ps, "therapy.radiotherapy.region");
    x->rt_region = strcmp(reg, "rectangle") == 0 ? 1 : strcmp(reg, "circle") == 0 ? 2 : 0;
    x->rt_x0 = (int)ceil(bs_param(ps, "therapy.radiotherapy.x0_um") / h_um - 0.5);
    x->rt_y0 = (int)ceil(bs_param(ps, "therapy.radiotherapy.y0_um") / h_um - 0.5);
    x->rt_x1 = (int)ceil(bs_param(ps, "therapy.radiotherapy.x1_um") / h_um - 0.5) - 1;
    x->rt_y1 = (int)ceil(bs_param(ps, "therapy.radiotherapy.y1_um") / h_um - 0.5) - 1;
    x->rt_cx = (float)(bs_param(ps, "therapy.radiotherapy.cx_um") / h_um - 0.5);
    x->rt_cy = (float)(bs_param(ps, "therapy.radiotherapy.cy_um") / h_um - 0.5);
    x->rt_r = (float)(bs_param(ps, "therapy.radiotherapy.radius_um") / h_um);
    x->rt_dose_Gy = (float)bs_param(ps, "therapy.radiotherapy.dose_Gy");
    x->rt_n_fractions = (int)bs_param(ps, "therapy.radiotherapy.n_fractions");
    double riv = bs_param(ps, "therapy.radiotherapy.interval_d");
    x->interval_steps[BS_THERAPY_RADIOTHERAPY] = (int64_t)llround(riv * 24.0 / dt);
    if (x->interval_steps[BS_THERAPY_RADIOTHERAPY] < 1) x->interval_steps[BS_THERAPY_RADIOTHERAPY] = 1;
    /* each type's radiosensitivity, as its descriptor states it */
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_rt_sensitivity *rs = &bs_celltype_of(t)->radiation;
        x->rt_model[t] = (uint8_t)rs->model;
        x->rt_factor[t] = 1.0f;
        x->rt_factor_states[t] = rs->factor_states;
        if (rs->factor_states) x->rt_factor[t] = (float)(1.0 / bs_param(ps, rs->factor_key));
        if (rs->model == BS_RT_LQ) {
            x->rt_alpha[t] = (float)bs_param(ps, rs->alpha_key);
            x->rt_beta[t] = x->rt_alpha[t] / (float)bs_param(ps, rs->alpha_beta_key);
        } else if (rs->model == BS_RT_D0) {
            x->rt_d0[t] = (float)bs_param(ps, rs->d0_key);
        }
    }
    /* re-oxygenation: the vessel values hyperoxia multiplies */
    x->o2_sinusoid_base = (float)bs_param(ps, "o2.sinusoid_mmHg");
    x->o2_arteriole_base = (float)bs_param(ps, "o2.arteriole_mmHg");
    x->hyperoxia_factor = (float)bs_param(ps, "hyperoxia.vessel_pO2_factor");
    x->mno2_o2 = (float)bs_param(ps, "mno2.o2_per_cell_mmHg_per_h");
    /* HDAC inhibitor: the scenario's constant level is the floor */
    x->hdac_base = (float)bs_param(ps, "dtc.hdac_level");
}

void bs_therapy_window(const bs_model *m, bs_therapy_id id, double *start_d, double *stop_d)
{
    double a = pget(m->ps, id, "start_day"), b = pget(m->ps, id, "stop_day");
    *start_d = a;
    *stop_d = b >= 0.0 ? b : HUGE_VAL;
    if (a >= 0.0 && id == BS_THERAPY_RADIOTHERAPY) {
        const bs_therapy_rules *x = &m->r.tx;
        double last = a + (double)(x->rt_n_fractions - 1) * (double)x->interval_steps[id] * m->dt_h / 24.0;
        double end = last + m->dt_h / 24.0;
        if (end < *stop_d) *stop_d = end;
    }
}

/* ---- mechanisms --------------------------------------------------------- */

/* Survival fraction of one cell after a fraction of D Gy. */
float bs_therapy_rt_survival(const bs_therapy_rules *x, int type, int state, float D)
{
    if (type < 0 || type >= bs_celltype_count()) return 1.0f; /* not a cell */
    switch ((bs_rt_model)x->rt_model[type]) {
    case BS_RT_LQ: {
        /* a dose-modified state survives D as the others survive D x factor */
        float d = (x->rt_factor_states[type] >> state) & 1u ? D * x->rt_factor[type] : D;
        return expf(-(x->rt_alpha[type] * d + x->rt_beta[type] * d * d));
    }
    case BS_RT_D0: return expf(-D / x->rt_d0[type]);
    case BS_RT_SPARED: return 1.0f;
    case BS_RT_UNSET: break; /* refused at registration */
    }
    return 1.0f;
}

int bs_therapy_rt_in_region(const bs_therapy_rules *x, int px, int py)
{
    switch (x->rt_region) {
    case 1: return px >= x->rt_x0 && px <= x->rt_x1 && py >= x->rt_y0 && py <= x->rt_y1;
    case 2: {
        float dx = (float)px - x->rt_cx, dy = (float)py - x->rt_cy;
        return dx * dx + dy * dy <= x->rt_r * x->rt_r;
    }
    default: return 1;
    }
}

void bs_therapy_rebase(bs_model *m)
{
    m->r.tx.o2_sinusoid_base = m->r.o2_sinusoid;
    m->r.tx.o2_arteriole_base = m->r.o2_arteriole;
    m->r.tx.hdac_base = m->r.dtc.hdac_level;
}

/* One radiotherapy fraction: every cell in the region survives with its
 * probability (draws keyed by step and cell id: order-free). */
static void rt_fraction(bs_model *m)
{
    const bs_therapy_rules *x = &m->r.tx;
    bs_store *s = &m->store;
    int w = m->lat.w, n = m->lat.w * m->lat.h;
    for (int i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0 || !bs_therapy_rt_in_region(x, i % w, i / w)) continue;
        float S = bs_therapy_rt_survival(x, s->type[slot], s->state[slot], x->rt_dose_Gy);
        if (bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, s->id[slot], 0) < S) continue;
        if (s->type[slot] < BS_MAX_CELL_TYPES) m->therapy.n_rt_killed[s->type[slot]]++;
        bs_store_kill(s, slot);
    }
    m->therapy.rt_fractions_given++;
    m->therapy.last_dose_d[BS_THERAPY_RADIOTHERAPY] = bs_model_time_days(m);
}

/* Circulating zoledronic acid binds the exposed bone surface (a bone site
 * with marrow on one of its four sides) as it leaves the plasma: every
 * site exposed now gains `amount` (the load per dose x the fraction of a
 * dose cleared this step) x its free capacity (bs_za_bind_site), so a
 * surface exposed while the drug circulates carries it, one exposed later
 * does not, and a loaded surface takes up less. */
static void za_bind(bs_model *m, float amount, float capacity)
{
    bs_lattice *lat = &m->lat;
    int w = lat->w, h = lat->h;
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            int i = y * w + xx;
            if (lat->tissue[i] != BS_TISSUE_BONE) continue;
            int ex = (xx > 0 && lat->tissue[i - 1] != BS_TISSUE_BONE) ||
                    (xx < w - 1 && lat->tissue[i + 1] != BS_TISSUE_BONE) ||
                    (y > 0 && lat->tissue[i - w] != BS_TISSUE_BONE) ||
                    (y < h - 1 && lat->tissue[i + w] != BS_TISSUE_BONE);
            if (ex) bs_za_bind_site(&lat->za_load[i], amount, capacity);
        }
}

static void give_dose(bs_model *m, bs_therapy_id id)
{
    bs_therapy_state *t = &m->therapy;
    const bs_therapy_rules *x = &m->r.tx;
    t->level[id] += x->dose[id];
    t->last_dose_d[id] = bs_model_time_days(m);
}

void bs_therapy_switch(bs_model *m, bs_therapy_id id, int on)
{
    if ((int)id < 0 || id >= BS_THERAPY_COUNT) return;
    bs_therapy_state *t = &m->therapy;
    switch (therapy_kind[id]) {
    case KIND_COURSE:
        if (on) {
            t->rt_fractions_left = m->r.tx.rt_n_fractions - 1;
            rt_fraction(m);
        } else {
            t->rt_fractions_left = 0;
        }
        t->on[id] = 0;
        break;
    case KIND_DOSED:
        if (on && !t->on[id]) give_dose(m, id);
        t->on[id] = on != 0;
        break;
    default:
        if (on) {
            if (!t->on[id]) t->last_dose_d[id] = bs_model_time_days(m);
            t->level[id] = 1.0f;
        }
        t->on[id] = on != 0;
        break;
    }
}

static float hill(float v, float K, float n)
{
    if (v <= 0.0f) return 0.0f;
    float a = powf(v / K, n);
    return a / (1.0f + a);
}

/* anti-Gr1: MDSCs die at the depletion hazard; each leaves
 * agr1.pool_per_depleted osteoclast-competent cells behind. */
static void agr1_deplete(bs_model *m)
{
    bs_therapy_state *t = &m->therapy;
    const bs_therapy_rules *x = &m->r.tx;
    float p = bs_rate_to_prob((double)(x->agr1_kill_h * t->level[BS_THERAPY_ANTI_GR1]), m->dt_h);
    if (!(p > 0.0f)) return;
    bs_store *s = &m->store;
    int n = m->lat.w * m->lat.h;
    for (int i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0 || !((bs_celltype_of(s->type[slot])->drugs.anti_gr1_depleted_states >> s->state[slot]) & 1u))
            continue;
        if (bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, s->id[slot], 1) >= p) continue;
        bs_store_kill(s, slot);
        t->gr1_myeloid += x->agr1_pool_per_kill;
        t->n_gr1_depleted++;
    }
}

/* Weight of an endosteal site for the anti-Gr1 pool's osteoclasts: a Hill
 * function (n = 2, half at signal 1) of the RANKL signal, so the cells
 * settle where the tumour's PTHrP has raised RANKL. */
static float agr1_site_weight(const bs_model *m, int i)
{
    float sig = bs_rankl_signal(m, i); /* Hill, n = 2 written out as sig^2, half at signal 1 */
    return sig * sig / (1.0f + sig * sig);
}

/* anti-Gr1 pool -> osteoclasts: pool x agr1.pool_to_oc_per_d cells per hour
 * become osteoclasts, spread over the endosteal sites in proportion to
 * their weight. Each one opens a BMU there if the surface was quiet (so
 * osteoclasts form on it by the ordinary rule, which RANKL sustains) and
 * leaves the pool. Serial: two passes over the lattice, no allocation. */
static void agr1_seed_osteoclasts(bs_model *m)
{
    bs_therapy_state *t = &m->therapy;
    const bs_therapy_rules *x = &m->r.tx;
    if (!(t->gr1_myeloid > 0.0f) || !(x->agr1_seed_h > 0.0f)) return;
    bs_lattice *lat = &m->lat;
    int n = lat->w * lat->h;
    double W = 0.0;
    for (int i = 0; i < n; i++)
        if (lat->surface[i] != BS_SURF_NONE) W += (double)agr1_site_weight(m, i);
    if (!(W > 0.0)) return;
    double expect = (double)t->gr1_myeloid * (double)x->agr1_seed_h * m->dt_h; /* conversions this step */
    for (int i = 0; i < n && t->gr1_myeloid >= 1.0f; i++) {
        if (lat->surface[i] == BS_SURF_NONE) continue;
        double p = expect * (double)agr1_site_weight(m, i) / W;
        if ((double)bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, (uint64_t)i, 3) >= p) continue;
        if (bs_agent_within(m, i, m->r.oc_exclusion, BS_CELL_OSTEOCLAST)) continue;
        if (lat->surface[i] == BS_SURF_QUIESCENT) bs_bmu_open(m, i);
        if (lat->surface[i] == BS_SURF_RESORPTION) bs_oc_try_form(m, i);
        t->gr1_myeloid -= 1.0f;
    }
}

/* CXCR4 antagonist: dormant DTCs held by CXCL12 lose their anchor and
 * leave into the blood, at a rate x the block x their CXCR4 occupancy. */
static void cxcr4_mobilise(bs_model *m, float block)
{
    const bs_therapy_rules *x = &m->r.tx;
    const bs_dtc_rules *d = &m->r.dtc;
    if (!(block > 0.0f) || !(x->cxcr4i_mobilise_h > 0.0f)) return;
    bs_store *s = &m->store;
    const float *cx = m->fields[BS_FIELD_CXCL12].c;
    int n = m->lat.w * m->lat.h;
    for (int i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0 || !((bs_celltype_of(s->type[slot])->drugs.cxcr4i_mobilised_states >> s->state[slot]) & 1u))
            continue;
        float anchor = hill(cx[i] * d->cxcr4, d->cxcl12_K, CXCR4_HILL_N);
        float p = bs_rate_to_prob((double)(x->cxcr4i_mobilise_h * block * anchor), m->dt_h);
        if (bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, s->id[slot], 2) >= p) continue;
        bs_store_kill(s, slot); /* it leaves the section into the blood */
        m->therapy.n_mobilised++;
        if (m->therapy.ctc_mobilised < UINT32_MAX) m->therapy.ctc_mobilised++;
    }
}

int bs_therapy_ctc_returning(bs_model *m)
{
    bs_therapy_state *t = &m->therapy;
    const bs_therapy_rules *x = &m->r.tx;
    uint32_t n = t->ctc_mobilised, left = 0;
    int back = 0;
    for (uint32_t k = 0; k < n; k++) {
        float u = bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, (uint64_t)k, 4);
        if (u < x->p_ctc_return)
            back++;
        else if (u >= x->p_ctc_return + x->p_ctc_clear)
            left++;
    }
    t->ctc_mobilised = left;
    t->n_rehomed += (uint64_t)back;
    return back;
}

/* Chemotherapy: a cycle-specific drug kills tumour cells while its level
 * lasts, cycling ones at the full hazard and quiescent ones (dormant,
 * homing) at chemo.dormant_factor of it (draws keyed by step and cell id:
 * order-free). */
static void chemo_kill(bs_model *m, float level)
{
    const bs_therapy_rules *x = &m->r.tx;
    float p_cyc = bs_rate_to_prob((double)(x->chemo_kill_h * level), m->dt_h);
    float p_q = bs_rate_to_prob((double)(x->chemo_kill_h * x->chemo_dormant_factor * level), m->dt_h);
    if (!(p_cyc > 0.0f)) return;
    bs_store *s = &m->store;
    int n = m->lat.w * m->lat.h;
    for (int i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0) continue;
        const bs_drug_sensitivity *ds = &bs_celltype_of(s->type[slot])->drugs;
        uint8_t bit = (uint8_t)(1u << s->state[slot]);
        float p = (ds->chemo_cycling_states & bit) ? p_cyc : (ds->chemo_quiescent_states & bit) ? p_q : 0.0f;
        if (!(p > 0.0f) || bs_rng_uniform(m->seed, BS_STREAM_THERAPY, m->step, s->id[slot], 6) >= p) continue;
        bs_store_kill(s, slot);
        m->therapy.n_chemo_killed++;
    }
}

void bs_therapy_observe(bs_model *m, bs_therapy_obs *o, double window_days)
{
    bs_therapy_state *t = &m->therapy;
    const bs_lattice *lat = &m->lat;
    o->serum_za_doses = t->level[BS_THERAPY_ZOLEDRONIC_ACID];
    o->serum_denosumab_doses = t->level[BS_THERAPY_DENOSUMAB];
    o->dmab_precursor_pool_frac = t->dmab_precursors;
    o->serum_anti_pd1_doses = t->level[BS_THERAPY_ANTI_PD1];
    o->serum_chemo_doses = t->level[BS_THERAPY_CHEMOTHERAPY];
    double load = 0.0;
    long ns = 0;
    int w = lat->w, h = lat->h;
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
            int i = y * w + xx;
            if (lat->tissue[i] != BS_TISSUE_BONE) continue;
            int ex = (xx > 0 && lat->tissue[i - 1] != BS_TISSUE_BONE) ||
                    (xx < w - 1 && lat->tissue[i + 1] != BS_TISSUE_BONE) ||
                    (y > 0 && lat->tissue[i - w] != BS_TISSUE_BONE) ||
                    (y < h - 1 && lat->tissue[i + w] != BS_TISSUE_BONE);
            if (!ex) continue;
            load += (double)lat->za_load[i];
            ns++;
        }
    o->bone_za_surface_load_doses = ns > 0 ? load / (double)ns : 0.0;
    o->dtc_egress_per_day = window_days > 0.0 ? (double)(t->n_mobilised - t->row_mobilised) / window_days : 0.0;
    t->row_mobilised = t->n_mobilised;
    o->ctc_mobilised_circulating = (long)t->ctc_mobilised;
    o->n_chemo_killed = (long)t->n_chemo_killed;
}

float bs_therapy_dmab_occupancy(const bs_model *m)
{
    const bs_therapy_rules *x = &m->r.tx;
    return x->dmab_occ_max * hill(m->therapy.level[BS_THERAPY_DENOSUMAB], x->dmab_ec50, x->dmab_hill);
}

void bs_therapy_step(bs_model *m)
{
    bs_therapy_state *t = &m->therapy;
    const bs_therapy_rules *x = &m->r.tx;
    int64_t step = (int64_t)(m->step - m->step0); /* schedules count from day 0, after any burn-in */
    /* 1. schedule events: stop, then start */
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        if (x->stop_step[k] == step) bs_therapy_switch(m, (bs_therapy_id)k, 0);
        if (x->start_step[k] == step) bs_therapy_switch(m, (bs_therapy_id)k, 1);
    }
    /* 2. repeat doses and fractions */
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        if (therapy_kind[k] != KIND_DOSED || !t->on[k] || x->interval_steps[k] <= 0) continue;
        int64_t last = (int64_t)llround(t->last_dose_d[k] * 24.0 / m->dt_h);
        if (step >= last + x->interval_steps[k]) give_dose(m, (bs_therapy_id)k);
    }
    if (t->rt_fractions_left > 0) {
        int64_t last = (int64_t)llround(t->last_dose_d[BS_THERAPY_RADIOTHERAPY] * 24.0 / m->dt_h);
        if (step >= last + x->interval_steps[BS_THERAPY_RADIOTHERAPY]) {
            t->rt_fractions_left--;
            rt_fraction(m);
        }
    }
    /* 3. levels over the step */
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        if (therapy_kind[k] == KIND_COURSE) continue;
        if (therapy_kind[k] == KIND_EXPOSURE && t->on[k]) {
            t->level[k] = 1.0f;
            continue;
        }
        float before = t->level[k];
        t->level[k] *= x->decay[k];
        if (t->level[k] < LEVEL_FLOOR) t->level[k] = 0.0f;
        /* zoledronic acid leaving the plasma binds the exposed bone */
        if (k == BS_THERAPY_ZOLEDRONIC_ACID && before > 0.0f)
            za_bind(m, (before - t->level[k]) * x->za_load_per_dose, x->za_capacity);
    }
    if (t->last_dose_d[BS_THERAPY_ZOLEDRONIC_ACID] >= 0.0) {
        long n = (long)m->lat.w * m->lat.h;
        float *za = m->lat.za_load;
        for (long i = 0; i < n; i++) za[i] *= x->za_bone_decay;
    }
    /* denosumab: precursors pile up while RANKL is blocked and convert
     * when it is free again */
    float occ = bs_therapy_dmab_occupancy(m);
    float P = t->dmab_precursors;
    P += x->p_dmab_accumulate * occ * (1.0f - P) - x->p_dmab_convert * (1.0f - occ) * P;
    t->dmab_precursors = P < 0.0f ? 0.0f : (P > 1.0f ? 1.0f : P);
    if (t->dmab_precursors < PRECURSOR_FLOOR) t->dmab_precursors = 0.0f;
    /* anti-Gr1 pool turns over */
    t->gr1_myeloid *= x->agr1_pool_decay;
    if (t->gr1_myeloid < MYELOID_POOL_FLOOR_CELLS) t->gr1_myeloid = 0.0f;
    /* 4. actions on cells */
    if (t->level[BS_THERAPY_ANTI_GR1] > 0.0f) agr1_deplete(m);
    agr1_seed_osteoclasts(m);
    float block = x->cxcr4i_block * t->level[BS_THERAPY_CXCR4_ANTAGONIST];
    t->ctc_returning = (uint32_t)bs_therapy_ctc_returning(m); /* the cells in the blood before this step's mobilised */
    cxcr4_mobilise(m, block);
    if (t->level[BS_THERAPY_CHEMOTHERAPY] > 0.0f) chemo_kill(m, t->level[BS_THERAPY_CHEMOTHERAPY]);
    /* 5. rule effects, all from the state above */
    bs_therapy_effects *fx = &m->r.fx;
    fx->cxcr4_block = block;
    fx->pd1_block = hill(t->level[BS_THERAPY_ANTI_PD1], x->pd1_ec50, 1.0f);
    fx->pd1_exhaust_factor = 1.0f - x->pd1_exhaust_cut * fx->pd1_block;
    /* both precursor pools (denosumab's, anti-Gr1's myeloid cells) add
     * osteoclast precursors wherever RANKL is: BMU activation, formation
     * and the length of the resorption window all follow the signal */
    float gr1_share = 1.0f + x->agr1_oc_gain * t->gr1_myeloid / (t->gr1_myeloid + x->agr1_pool_K);
    fx->rankl_factor = (1.0f - occ) * (1.0f + x->dmab_gain * t->dmab_precursors) * gr1_share;
    fx->za_oc_death = x->p_za_oc_death;
    fx->za_oc_uptake = x->za_oc_uptake;
    fx->za_form_K = x->za_form_K;
    fx->za_activity_cut = x->za_activity_cut;
    fx->za_capacity = x->za_capacity;
    fx->cxcr4_entry_block = block * x->cxcr4i_entry_share;
    float hyp = 1.0f + (x->hyperoxia_factor - 1.0f) * t->level[BS_THERAPY_HYPEROXIA];
    fx->o2_sinusoid = x->o2_sinusoid_base * hyp;
    fx->o2_arteriole = x->o2_arteriole_base * hyp;
    fx->mno2_o2 = x->mno2_o2 * t->level[BS_THERAPY_MNO2];
    float hd = t->level[BS_THERAPY_HDAC_INHIBITOR];
    fx->hdac_level = hd > x->hdac_base ? hd : x->hdac_base;
}
