/* osteoblast.c — bone formation.
 *
 * Coupling: on a compartment surface in reversal or formation with a
 * cavity next to it and no osteoclast close by, osteoblasts are recruited
 * at a rate that rises with the TGF-beta released from the resorbed matrix
 * (with a basal share, since other coupling factors exist). An osteoblast
 * deposits new bone at the mineral apposition rate into the neighbouring
 * site with the least missing mineral first (finishing layers), turning
 * cavity marrow back into bone, and moves out of the cavity when its own
 * site is the last hole (or, walled in, becomes an osteocyte). It secretes OPG, RANKL and CXCL12 (the fields
 * are assembled in model.c). With nothing left to fill it retires: into a
 * lining cell (the site turns quiescent) or by apoptosis. */
#include <math.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

const bs_param_def bs_ob_params[] = {
    { "ob.recruit_per_d", BS_PT_REAL, 0.5, 0.0, 100.0, "1/d",
            "Maximal osteoblast recruitment rate at a free reversal/formation surface site next to a cavity. "
            "Calibrated to B3",
            NULL, NULL },
    { "ob.recruit_basal_frac", BS_PT_REAL, 0.3, 0.0, 1.0, "1",
            "Share of the recruitment rate that does not need TGF-beta (other coupling factors, A)", NULL, NULL },
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
    r->p_ob_recruit = bs_rate_to_prob(bs_param(ps, "ob.recruit_per_d") / 24.0, dt_h);
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
    if (m->store.occ[i] >= 0 || !bs_has_fill_target(m, i)) return 0;
    float t = m->fields[BS_FIELD_TGFB].c[i];
    if (t < 0.0f) t = 0.0f;
    float p = r->p_ob_recruit * (r->ob_recruit_basal + (1.0f - r->ob_recruit_basal) * t / (t + r->ob_tgfb_K));
    if (bs_draw_surface(m, (uint64_t)i, 4) >= p) return 0;
    /* reversal: no bone formation while osteoclasts still work nearby */
    if (bs_agent_within(m, i, m->r.oc_exclusion, BS_CELL_OSTEOCLAST)) return 0;
    uint64_t id = bs_store_child_id((uint64_t)i ^ 0x6f62000000000000ULL, m->step, 0);
    int slot = bs_store_spawn_locked(&m->store, i, BS_CELL_OSTEOBLAST, 0, id);
    if (slot < 0) return 0;
    m->store.stamp[slot] = (uint32_t)(m->step + 1);
    m->lat.surface[i] = BS_SURF_FORMATION;
    return 1;
}

/* Neighbour to deposit into: partly mineralised bone first (the layer being
 * finished, most mineral first), else an empty cavity site. -1 if none. */
static int pick_target(const bs_model *m, int i)
{
    const bs_lattice *lat = &m->lat;
    int x = i % lat->w, y = i / lat->w, best = -1;
    float best_m = -1.0f;
    for (int k = 0; k < 4; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
        int j = ny * lat->w + nx;
        if (!bs_is_fill_target(lat, &m->store, j)) continue;
        float mm = lat->mineral[j]; /* 0 for cavity marrow */
        if (mm > best_m) {
            best_m = mm;
            best = j;
        }
    }
    return best;
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
        bs_store_kill_locked(s, slot);
        return;
    }
    int j = pick_target(m, i);
    if (j >= 0) {
        float add = r->ob_deposit_per_step;
        if (lat->tissue[j] != BS_TISSUE_BONE) {
            lat->tissue[j] = BS_TISSUE_BONE;
            lat->flags[j] &= (uint8_t)~BS_FLAG_CAVITY;
            lat->mineral[j] = 0.0f;
            int jx = j % lat->w, jy = j / lat->w;
            bs_lattice_refresh_surface(lat, jx - 1, jy - 1, jx + 1, jy + 1);
        }
        if (lat->mineral[j] + add > 1.0f) add = 1.0f - lat->mineral[j];
        lat->mineral[j] += add;
        tot->formed_um2 += (double)add * lat->h_um * lat->h_um;
        return;
    }
    int x = i % lat->w, y = i / lat->w;
    if (lat->flags[i] & BS_FLAG_CAVITY) {
        /* Its own site is the last hole: step out so it can be filled. */
        /* Out of the cavity if it can, else to another free cavity site,
         * so that every hole is eventually free to be filled. */
        int cand[4], n = 0, cav[4], nc = 0;
        for (int k = 0; k < 4; k++) {
            int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
            if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
            int q = ny * lat->w + nx;
            if (s->occ[q] >= 0 || lat->tissue[q] != BS_TISSUE_MARROW) continue;
            if (lat->flags[q] & BS_FLAG_CAVITY)
                cav[nc++] = q;
            else
                cand[n++] = q;
        }
        if (n == 0) {
            for (int k = 0; k < nc; k++) cand[k] = cav[k];
            n = nc;
        }
        if (n > 0) {
            int q = cand[bs_draw_agent_below(m, id, 1, (uint32_t)n)];
            bs_store_move(s, slot, q);
            if (lat->surface[q] == BS_SURF_QUIESCENT) lat->surface[q] = BS_SURF_FORMATION;
            return;
        }
        /* Walled in by its own matrix: it becomes an osteocyte, and its
         * lacuna counts as bone (the cavity is complete). */
        bs_store_kill_locked(s, slot);
        float add = 1.0f - lat->mineral[i];
        lat->tissue[i] = BS_TISSUE_BONE;
        lat->flags[i] &= (uint8_t)~BS_FLAG_CAVITY;
        lat->mineral[i] = 1.0f;
        tot->formed_um2 += (double)add * lat->h_um * lat->h_um;
        bs_lattice_refresh_surface(lat, x - 1, y - 1, x + 1, y + 1);
        return;
    }
    /* Done: retire as a lining cell or by apoptosis. */
    int lining = bs_draw_agent(m, id, 2) < r->ob_lining_fraction;
    bs_store_kill_locked(s, slot);
    if (lining && lat->surface[i] != BS_SURF_NONE) lat->surface[i] = BS_SURF_QUIESCENT;
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
    .radiation = { .model = BS_RT_LQ, .alpha_key = "rt.ob_alpha_per_Gy", .alpha_beta_key = "rt.ob_alpha_beta_Gy" },
    .n_observables = 1,
    .observables = { { "n_osteoblasts", "cells", BS_ALL_STATES } },
};
