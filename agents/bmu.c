/* bmu.c — the bone surface: where remodeling starts and ends.
 *
 * An endosteal site is QUIESCENT (bone-lining cells) until a bone
 * multicellular unit (BMU) is activated there: a bone remodeling
 * compartment (BRC) opens over the surface within bmu.radius_um, in the
 * RESORPTION phase, where osteoclasts form (osteoclast.c). The phase ends
 * bmu.resorption_phase_d after the BMU opened (the precursor recruitment
 * window closes) and the canopy enters REVERSAL; osteoblasts are recruited onto surfaces with a
 * cavity to refill (coupling, osteoblast.c) and the site enters FORMATION.
 * When nothing is left to fill, the canopy closes and lining cells return
 * (QUIESCENT). Activation is driven by the local RANKL signal (RANKL, with
 * OPG as its decoy receptor), so more RANKL opens more BMUs and more OPG
 * fewer. */
#include <math.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

/* Bounds on how far the RANKL signal stretches or shortens a resorption
 * window (x its length at signal 1): without a floor a compartment with no
 * RANKL would end at once, without a ceiling a lesion's PTHrP-driven RANKL
 * would keep it open for ever; x0.25 .. x4 spans 1-16 weeks around the
 * 2-4 week window of B3. */
#define RESORPTION_STRETCH_MIN 0.25f
#define RESORPTION_STRETCH_MAX 4.0f

const bs_param_def bs_bmu_params[] = {
    { "bmu.activation_per_site_per_y", BS_PT_REAL, 1.3, 0.0, 50.0, "1/y",
            "Rate at which a quiescent endosteal site is taken into a new remodeling compartment when the RANKL signal "
            "is 1. "
            "Starting value 0.7/y derived so ~20% of the surface remodels (Agerbaek 1991 gives "
            "0.93/y cortical); "
            "calibrated to B2",
            NULL, NULL },
    { "bmu.radius_um", BS_PT_REAL, 60.0, 10.0, 140.0, "um",
            "Radius of the surface a new BMU takes over (BRC canopy). BMU footprint ~200 um across is the literature "
            "value (M~); "
            "120 um across chosen so one event is a single cavity (A)",
            NULL, NULL },
    { "bmu.resorption_phase_d", BS_PT_REAL, 21.0, 1.0, 120.0, "d",
            "How long a BRC stays in the resorption phase after it opens, at RANKL signal 1 (scaled by the signal, "
            "x0.25-x4); "
            "osteoclasts form only then and afterwards lose RANKL support. Agerbaek 1991: resorption period 27 d (M✓); "
            "calibrated to B3",
            NULL, NULL },
    { "bmu.canopy_close_d", BS_PT_REAL, 10.0, 0.5, 120.0, "d",
            "Mean time for a BRC site with nothing left to refill to return to lining cells (A; reversal ~1-2 wk, M~)",
            NULL, NULL },
    { "bmu.rankl_half_au", BS_PT_REAL, 0.06, 1e-6, 1e6, "au",
            "Effective RANKL giving a RANKL signal of 1 (half-maximal osteoclast formation). Calibrated to B2 "
            "(normalised units)",
            NULL, NULL },
    { "bmu.opg_decoy_au", BS_PT_REAL, 1.0, 1e-6, 1e6, "au",
            "OPG level that halves effective RANKL (decoy receptor binding; Pivonka 2008 model, Mod✓ as a mechanism)",
            NULL, NULL },
    { "bmu.lining_rankl_per_h", BS_PT_REAL, 0.2, 0.0, 1e3, "au/h",
            "RANKL made by osteoblast-lineage lining cells per quiescent surface site (A)", NULL, NULL },
    { "bmu.lining_opg_per_h", BS_PT_REAL, 0.2, 0.0, 1e3, "au/h",
            "OPG made by lining cells per quiescent surface site (A; mature OBs and lining cells secrete OPG)", NULL,
            NULL },
    { "bmu.initial_bmu_x_frac", BS_PT_REAL, -1.0, -1.0, 1.0, "1",
            "Open one BMU at day 0 on the first bone surface below the top edge at this fraction of the width "
            "(teaching scenarios such as single_bmu); -1 = none",
            NULL, NULL },
    { "bmu.initial_bmu_y_frac", BS_PT_REAL, 0.0, 0.0, 1.0, "1",
            "Where the search for the initial BMU's surface starts, as a fraction of the height (searching downward)",
            NULL, NULL },
    { "bmu.lining_cxcl12_per_h", BS_PT_REAL, 2.0, 0.0, 1e3, "au/h",
            "CXCL12 made by osteoblast-lineage lining cells per quiescent surface site (the endosteal niche; A, "
            "calibrated to "
            "B7)",
            NULL, NULL },
    { "bmu.brc_rankl_per_h", BS_PT_REAL, 0.2, 0.0, 1e3, "au/h",
            "RANKL made by BRC canopy/stromal cells per resorption-phase site (A)", NULL, NULL },
};
const size_t bs_bmu_nparams = sizeof bs_bmu_params / sizeof bs_bmu_params[0];

void bs_bmu_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    r->bmu_radius = (int)lround(bs_param(ps, "bmu.radius_um") / h_um);
    if (r->bmu_radius < 1) r->bmu_radius = 1;
    /* A BMU opened at one site covers about 2R+1 surface sites, so the
     * per-origin hazard is the per-site activation rate over that count. */
    double per_site_per_h = bs_param(ps, "bmu.activation_per_site_per_y") / (365.25 * 24.0);
    r->p_activate_origin = bs_rate_to_prob(per_site_per_h / (2.0 * r->bmu_radius + 1.0), dt_h);
    r->resorption_steps = (uint32_t)lround(24.0 * bs_param(ps, "bmu.resorption_phase_d") / dt_h);
    r->p_reversal_quiesce = bs_rate_to_prob(1.0 / (24.0 * bs_param(ps, "bmu.canopy_close_d")), dt_h);
    r->rankl_K = (float)bs_param(ps, "bmu.rankl_half_au");
    r->opg_K = (float)bs_param(ps, "bmu.opg_decoy_au");
    r->lining_rankl = (float)bs_param(ps, "bmu.lining_rankl_per_h");
    r->lining_opg = (float)bs_param(ps, "bmu.lining_opg_per_h");
    r->brc_rankl = (float)bs_param(ps, "bmu.brc_rankl_per_h");
    r->lining_cxcl12 = (float)bs_param(ps, "bmu.lining_cxcl12_per_h");
}

void bs_bmu_open_initial(bs_model *m)
{
    double frac = bs_param(m->ps, "bmu.initial_bmu_x_frac");
    if (frac < 0.0) return;
    int x = (int)(frac * (m->lat.w - 1));
    for (int y = (int)(bs_param(m->ps, "bmu.initial_bmu_y_frac") * (m->lat.h - 1)); y < m->lat.h; y++) {
        int i = y * m->lat.w + x;
        if (m->lat.surface[i] != BS_SURF_NONE) {
            bs_bmu_open(m, i);
            return;
        }
    }
}

/* A BMU opens: the quiescent surface within the radius becomes a BRC in
 * its resorption phase. */
void bs_bmu_open(bs_model *m, int i)
{
    bs_lattice *lat = &m->lat;
    int R = m->r.bmu_radius, x = i % lat->w, y = i / lat->w;
    for (int yy = y - R; yy <= y + R; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - R; xx <= x + R; xx++) {
            if (xx < 0 || xx >= lat->w) continue;
            if ((xx - x) * (xx - x) + (yy - y) * (yy - y) > R * R) continue;
            int j = yy * lat->w + xx;
            if (lat->surface[j] == BS_SURF_QUIESCENT) {
                lat->surface[j] = BS_SURF_RESORPTION;
                lat->since[j] = (uint32_t)m->step;
            }
        }
    }
}

void bs_bmu_site(bs_model *m, int i, bs_step_totals *tot)
{
    (void)tot;
    bs_lattice *lat = &m->lat;
    const bs_rules *r = &m->r;
    uint64_t key = (uint64_t)i;
    switch (lat->surface[i]) {
    case BS_SURF_QUIESCENT: {
        /* A cavity left next to lining cells (eroded past the canopy's
         * edge) is uncovered again for the osteoblasts. */
        if (bs_has_fill_target(m, i)) {
            lat->surface[i] = BS_SURF_REVERSAL;
            break;
        }
        float p = r->p_activate_origin * bs_rankl_signal(m, i);
        if (bs_draw_surface(m, key, 0) < p) bs_bmu_open(m, i);
        break;
    }
    case BS_SURF_RESORPTION: {
        /* RANKL sustains osteoclastogenesis: the resorption window
         * stretches with the RANKL signal (x0.25 .. x4 of its length at
         * signal 1), which is how PTHrP-driven RANKL deepens lesions. */
        float sig = bs_rankl_signal(m, i);
        sig = sig < RESORPTION_STRETCH_MIN ? RESORPTION_STRETCH_MIN
                                           : (sig > RESORPTION_STRETCH_MAX ? RESORPTION_STRETCH_MAX : sig);
        if ((float)((uint32_t)m->step - lat->since[i]) >= (float)r->resorption_steps * sig) {
            lat->surface[i] = BS_SURF_REVERSAL;
            break;
        }
        bs_oc_try_form(m, i);
        break;
    }
    case BS_SURF_REVERSAL:
    case BS_SURF_FORMATION:
        if (bs_ob_try_recruit(m, i)) break;
        if (m->store.occ[i] < 0 && !bs_has_fill_target(m, i) && bs_draw_surface(m, key, 2) < r->p_reversal_quiesce)
            lat->surface[i] = BS_SURF_QUIESCENT;
        break;
    default: break;
    }
}
