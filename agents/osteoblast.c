/* osteoblast.c — bone formation by a BMU's osteoblast team.
 *
 * Coupling: once a BMU's reversal is over (bmu.c), osteoblasts are
 * recruited to its team, not to every free site: the team has one member
 * per ob.team_spacing_um of cavity floor (the sites where the next lamella
 * goes), and each missing member is replaced at ob.recruit_per_d, faster
 * with the TGF-beta released from the resorbed matrix (with a basal share,
 * since other coupling factors exist). A recruit settles on a free surface
 * site of the BMU (in the cavity or on its rim) next to floor that no
 * osteoblast covers yet. The team
 * lays osteoid first; ob.mineralisation_lag_d after its first member
 * arrived the seam mineralises, and from then on the floor sites next to
 * any member take mineral at the apposition rate (a member that joins
 * later or replaces one that died adds to a seam already mineralising:
 * the lag is the matrix's, counted once per team, not restarted by each
 * recruit) (the deposition itself is done by the BMU survey,
 * bmu.c, so a site gets one lamella's rate however many cells are near).
 * A member whose surroundings are filled, its own site the last hole,
 * climbs out of the cavity onto the marrow side; walled in by its own
 * matrix, it becomes an osteocyte.
 * It secretes OPG, RANKL and CXCL12 (fields assembled in model.c). With
 * nothing left to fill around it, or when its BMU has closed, it retires:
 * into a lining cell (ob.lining_fraction) or by apoptosis. */
#include <math.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

const bs_param_def bs_ob_params[] = {
    { "ob.recruit_per_d", BS_PT_REAL, 1.0, 0.0, 100.0, "1/d",
            "Team renewal: rate at which each missing member of a BMU's osteoblast team is replaced at full TGF-beta "
            "(osteoblast precursors are recruited over days from the canopy and the marrow, Hauge 2001 / Parfitt "
            "1994, M~; value A, calibrated to B3)",
            NULL, NULL },
    { "ob.team_spacing_um", BS_PT_REAL, 20.0, 5.0, 200.0, "um",
            "Team size: one osteoblast per this length of cavity floor (cuboidal osteoblasts 15-30 um wide cover the "
            "forming surface as one layer, M~)",
            NULL, NULL },
    { "ob.mineralisation_lag_d", BS_PT_REAL, 8.0, 0.0, 60.0, "d",
            "Osteoid-to-mineral lag: a BMU's osteoid seam starts to mineralise this long after its osteoblast team's "
            "first member arrived; later members add to that seam (mineralisation lag 8 d, Agerbaek 1991, M✓)",
            NULL, NULL },
    { "ob.recruit_basal_frac", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Share of the recruitment rate that does not need TGF-beta (other coupling factors; by the end of the "
            "reversal the released TGF-beta has decayed, A; calibrated with ob.recruit_per_d to B3)",
            NULL, NULL },
    { "ob.tgfb_half_au", BS_PT_REAL, 0.02, 1e-6, 1e6, "au",
            "TGF-beta level giving half the TGF-beta-driven recruitment (A; Pivonka 2008 uses TGF-beta for OB "
            "commitment, Mod✓)",
            NULL, NULL },
    { "ob.form_um_per_day", BS_PT_REAL, 0.63, 0.0, 10.0, "um/d",
            "Mineral apposition rate under an osteoblast: 0.63 (trabecular) - 1.2 (cortical) um/d (Agerbaek 1991, "
            "Kragstrup 1983, "
            "M✓)",
            NULL, NULL },
    { "ob.lining_fraction", BS_PT_REAL, 0.6, 0.0, 1.0, "1",
            "Share of osteoblasts that end as lining cells when formation is done (0.6; rest osteocytes/apoptosis, M~)",
            NULL, NULL },
    { "ob.apoptosis_per_d", BS_PT_REAL, 0.005, 0.0, 10.0, "1/d",
            "Death hazard of an active osteoblast before it finishes (A; active life ~3 months, Manolagas 2000, M~)",
            NULL, NULL },
    { "ob.opg_per_h", BS_PT_REAL, 0.02, 0.0, 1e3, "au/h", "OPG secreted by an osteoblast (mature OBs secrete OPG; A)",
            NULL, NULL },
    { "ob.rankl_per_h", BS_PT_REAL, 0.1, 0.0, 1e3, "au/h",
            "RANKL expressed by an osteoblast (osteoblast lineage; Guise 2000, M✓ qualitative; value A)", NULL, NULL },
    { "ob.cxcl12_per_h", BS_PT_REAL, 5.0, 0.0, 1e3, "au/h", "CXCL12 secreted by an osteoblast (A)", NULL, NULL },
    { "ob.o2_uptake_per_h", BS_PT_REAL, 2000.0, 0.0, 1e6, "1/h", "O2 consumption of an osteoblast, first-order (A)",
            NULL, NULL },
};
const size_t bs_ob_nparams = sizeof bs_ob_params / sizeof bs_ob_params[0];

void bs_ob_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    r->p_ob_recruit = (float)(bs_param(ps, "ob.recruit_per_d") / 24.0 * dt_h); /* hazard per member per step */
    r->ob_team_spacing = (float)(bs_param(ps, "ob.team_spacing_um") / h_um);
    r->ob_lag_h = (float)(24.0 * bs_param(ps, "ob.mineralisation_lag_d"));
    r->ob_recruit_basal = (float)bs_param(ps, "ob.recruit_basal_frac");
    r->ob_tgfb_K = (float)bs_param(ps, "ob.tgfb_half_au");
    r->ob_deposit_per_step = (float)(bs_param(ps, "ob.form_um_per_day") / 24.0 * dt_h / h_um);
    r->ob_lining_fraction = (float)bs_param(ps, "ob.lining_fraction");
    r->p_ob_death = bs_rate_to_prob(bs_param(ps, "ob.apoptosis_per_d") / 24.0, dt_h);
    r->ob_opg = (float)bs_param(ps, "ob.opg_per_h");
    r->ob_rankl = (float)bs_param(ps, "ob.rankl_per_h");
    r->ob_cxcl12 = (float)bs_param(ps, "ob.cxcl12_per_h");
    r->ob_o2_uptake = (float)bs_param(ps, "ob.o2_uptake_per_h");
}

int bs_ob_try_recruit(bs_model *m, int i)
{
    const bs_rules *r = &m->r;
    const bs_lattice *lat = &m->lat;
    int b = lat->bmu[i];
    if (b < 0 || m->store.occ[i] >= 0 || lat->tissue[i] != BS_TISSUE_MARROW || lat->surface[i] == BS_SURF_NONE)
        return 0;
    const bs_bmu_rec *rec = bs_bmu_at(m, b);
    if (!rec || rec->phase != BS_SURF_FORMATION || rec->n_cand <= 0) return 0;
    /* the team's size follows the floor still to be covered, and it takes
     * one more member while some floor has no osteoblast next to it */
    int deficit = (int)ceilf((float)rec->n_floor / r->ob_team_spacing) - rec->n_team;
    if (deficit < 1 && rec->n_uncovered > 0) deficit = 1;
    if (deficit < 1) return 0;
    if (!bs_uncovered_floor_near(m, i)) return 0;
    float t = m->fields[BS_FIELD_TGFB].c[i];
    if (t < 0.0f) t = 0.0f;
    float tg = r->ob_recruit_basal + (1.0f - r->ob_recruit_basal) * t / (t + r->ob_tgfb_K);
    /* the missing members' hazard, shared among the candidate sites */
    float p = 1.0f - expf(-r->p_ob_recruit * tg * (float)deficit / (float)rec->n_cand);
    /* next to a cycling tumour cell its Wnt antagonists block the
     * precursors' differentiation (dtc.ob_recruit_cut) */
    if (r->dtc.ob_recruit_keep < 1.0f && bs_dtc_inhibits_ob(m, i)) p *= r->dtc.ob_recruit_keep;
    if (bs_draw_surface(m, (uint64_t)i, 4) >= p) return 0;
    uint64_t id = bs_store_child_id((uint64_t)i ^ 0x6f62000000000000ULL, m->step, 0);
    int slot = bs_store_spawn_locked(&m->store, i, BS_CELL_OSTEOBLAST, 0, id);
    if (slot < 0) return 0;
    m->store.stamp[slot] = (uint32_t)(m->step + 1);
    return 1;
}


static void retire(bs_model *m, int slot, uint64_t id)
{
    bs_lattice *lat = &m->lat;
    int i = m->store.site[slot];
    int lining = bs_draw_agent(m, id, 2) < m->r.ob_lining_fraction;
    bs_store_kill_locked(&m->store, slot);
    if (lining && lat->surface[i] != BS_SURF_NONE && lat->bmu[i] < 0) lat->surface[i] = BS_SURF_QUIESCENT;
}

void bs_ob_act(bs_model *m, int slot, bs_step_totals *tot)
{
    bs_store *s = &m->store;
    bs_lattice *lat = &m->lat;
    const bs_rules *r = &m->r;
    uint64_t id = s->id[slot];
    int i = s->site[slot];
    s->age_h[slot] += (float)m->dt_h;
    if (bs_draw_agent(m, id, 0) < r->p_ob_death) {
        bs_store_kill_locked(s, slot); /* the team replaces it (bs_ob_try_recruit) */
        return;
    }
    /* tumour cells beside it drive it into apoptosis (dtc.ob_apoptosis_per_d) */
    if (r->dtc.p_ob_tumour_death > 0.0f && bs_draw_agent(m, id, 5) < r->dtc.p_ob_tumour_death &&
            bs_dtc_inhibits_ob(m, i)) {
        bs_store_kill_locked(s, slot);
        return;
    }
    int b = lat->bmu[i];
    if (b < 0 || bs_bmu_phase(m, b) != BS_SURF_FORMATION) {
        retire(m, slot, id); /* its BMU has closed */
        return;
    }
    int x = i % lat->w, y = i / lat->w;
    /* at work while floor around it takes its lamellae (bmu.c); cavity
     * that is not floor yet waits for the layer under it, which may be
     * this cell's own site */
    for (int yy = y - 1; yy <= y + 1; yy++)
        for (int xx = x - 1; xx <= x + 1; xx++) {
            if (xx < 0 || yy < 0 || xx >= lat->w || yy >= lat->h || (xx == x && yy == y)) continue;
            int j = yy * lat->w + xx;
            if (bs_is_fill_target(lat, s, j) && bs_is_floor(lat, j)) return;
        }
    if ((lat->flags[i] & BS_FLAG_CAVITY) && bs_is_floor(lat, i)) {
        /* Everything around it is filled and its own site is next: out
         * of the cavity if it can, else to another free marrow site. */
        int cand[4], n = 0, cav[4], nc = 0, marrow = 0;
        for (int k = 0; k < 4; k++) {
            int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
            if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
            int q = ny * lat->w + nx;
            if (lat->tissue[q] != BS_TISSUE_MARROW) continue;
            int held = s->occ[q] >= 0;
            /* a neighbour hole held by another walled-in osteoblast is no way out */
            if (!held || !(lat->flags[q] & BS_FLAG_CAVITY) || s->type[s->occ[q]] != BS_CELL_OSTEOBLAST) marrow++;
            if (held) continue;
            if (!(lat->flags[q] & BS_FLAG_CAVITY))
                cand[n++] = q;
            else if (!bs_is_floor(lat, q))
                cav[nc++] = q;
        }
        if (n == 0) {
            for (int k = 0; k < nc; k++) cand[k] = cav[k];
            n = nc;
        }
        if (n > 0) {
            int q = cand[bs_draw_agent_below(m, id, 1, (uint32_t)n)];
            bs_store_move(s, slot, q);
            if (lat->bmu[q] < 0) lat->bmu[q] = b;
            if (lat->surface[q] == BS_SURF_QUIESCENT) lat->surface[q] = BS_SURF_FORMATION;
            return;
        }
        if (marrow > 0) return; /* the way out is taken for now */
        /* Walled in by its own matrix: it becomes an osteocyte, and its
         * lacuna counts as bone. */
        bs_store_kill_locked(s, slot);
        float add = 1.0f - lat->mineral[i];
        lat->tissue[i] = BS_TISSUE_BONE;
        lat->flags[i] &= (uint8_t)~BS_FLAG_CAVITY;
        lat->mineral[i] = 1.0f;
        lat->depth[i] = 0;
        double a = (double)add * lat->h_um * lat->h_um;
        tot->formed_um2 += a;
        m->eroded[i] -= add; /* laid, not eroded: the BMU survey books it (bmu.c) */
        bs_lattice_refresh_surface(lat, x - 1, y - 1, x + 1, y + 1);
        return;
    }
    /* Nothing left to fill around it: its part of the work is done. */
    if (!bs_has_fill_target(m, i)) retire(m, slot, id);
}

/* osteoblasts secrete OPG, RANKL (both scaled by PTHrP on the lineage)
 * and CXCL12 */
static void ob_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)slot;
    (void)site;
    const bs_rules *r = &m->r;
    acc->o2_uptake += r->ob_o2_uptake;
    acc->opg += r->ob_opg * acc->lineage_opg;
    acc->rankl += r->ob_rankl * acc->lineage_rankl;
    acc->cxcl12 += r->ob_cxcl12;
}

const bs_celltype bs_type_osteoblast = {
    .name = "osteoblast",
    .plural = "osteoblasts",
    .n_states = 1,
    .state_names = { "forming" },
    .rgb = { { 0x00, 0x72, 0xB2 } }, /* blue */
    .shape = { BS_SHAPE_SQUARE },
    .footprint_sites = 1,
    .params = bs_ob_params,
    .n_params = sizeof bs_ob_params / sizeof bs_ob_params[0],
    .derive = bs_ob_derive,
    .act = bs_ob_act,
    .sources = ob_sources,
    /* recruited on the surface by bs_bmu_site (bs_ob_try_recruit), no arrivals */
    .radiation = { .model = BS_RT_D0, .d0_key = "rt.ob_D0_Gy" }, /* non-dividing, radioresistant */
    .n_observables = 1,
    .observables = { { "n_osteoblasts", "cells", BS_ALL_STATES } },
};
