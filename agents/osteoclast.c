/* osteoclast.c — bone resorption.
 *
 * Osteoclasts form from precursors on the surface of an open remodeling
 * compartment (resorption phase), at a rate set by the RANKL signal
 * (RANKL over its decoy OPG) and cut by IFN-gamma (Takayanagi 2000). Each
 * is a large multinucleated cell: one agent that erodes the bone within
 * oc.reach_um of its site (exposed surface only), nearest first, at oc.resorb_um_per_day over its
 * footprint width. Eroded matrix releases TGF-beta into the field (the
 * coupling signal and, later, the vicious cycle). A fully eroded site
 * becomes marrow marked as a cavity that osteoblasts will refill. With no
 * bone in reach the cell moves along the open compartment; it dies at a
 * constant hazard (mean life oc.lifespan_d), and sooner when it has taken up
 * zoledronic acid from the bone it resorbed (lattice.za_load, therapy.c).
 * Zoledronic acid also acts here in two more ways: a cell that has taken
 * it up resorbs less (za.activity_cut), and precursors form less on a
 * surface whose bone carries it (za.formation_half_load); the drug a cell
 * dissolves and does not take up binds again to the bone around the
 * lacuna (za.oc_uptake_frac), so the cavity floor stays loaded.
 * Regulatory T cells near the forming site brake formation
 * (bs_treg_oc_formation_factor, agents/treg.c). */
#include <math.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"
#include "shove.h"

const bs_param_def bs_oc_params[] = {
    { "oc.formation_per_d", BS_PT_REAL, 0.15, 0.0, 100.0, "1/d",
            "Maximal rate of osteoclast formation at a free resorption-phase surface site (saturating in the RANKL "
            "signal). "
            "Calibrated to B3/B4",
            NULL, NULL },
    { "oc.exclusion_um", BS_PT_REAL, 30.0, 0.0, 100.0, "um",
            "No new osteoclast forms within this distance of another (its footprint; OCs are 40-100 um, M~)", NULL,
            NULL },
    { "oc.resorb_um_per_day", BS_PT_REAL, 5.0, 0.0, 50.0, "um/d",
            "Erosion depth rate under an active osteoclast. Agerbaek 1991: 4.7 um/d (M✓)", NULL, NULL },
    { "oc.footprint_um", BS_PT_REAL, 30.0, 5.0, 100.0, "um",
            "Width of bone surface one osteoclast erodes (multi-site cell, 40-100 um diameter, M~)", NULL, NULL },
    { "oc.reach_um", BS_PT_REAL, 20.0, 10.0, 40.0, "um",
            "Bone within this distance of the cell's site can be eroded (ruffled border of a large cell; 20-30 um)",
            NULL, NULL },
    { "oc.lifespan_d", BS_PT_REAL, 14.0, 1.0, 100.0, "d",
            "Mean life of an active osteoclast (apoptosis hazard 1/lifespan). ~2 wk (Manolagas 2000, M~)", NULL, NULL },
    { "oc.idle_apoptosis_per_d", BS_PT_REAL, 1.0, 0.0, 100.0, "1/d",
            "Death hazard of an osteoclast with nothing to resorb, or on a compartment past its resorption phase "
            "(apoptosis "
            "after resorption, A)",
            NULL, NULL },
    { "oc.ifng_half_au", BS_PT_REAL, 0.2, 1e-6, 1e6, "au",
            "IFN-gamma level that halves the RANKL signal (BMU activation and osteoclast formation) (Takayanagi 2000, "
            "M✓ qualitative; value A)",
            NULL, NULL },
    { "oc.speed_um_per_h", BS_PT_REAL, 2.0, 0.0, 100.0, "um/h",
            "Speed at which an osteoclast with no bone in reach moves along its compartment (A)", NULL, NULL },
    { "oc.o2_uptake_per_h", BS_PT_REAL, 2000.0, 0.0, 1e6, "1/h",
            "O2 consumption of an osteoclast, first-order (A; same order as marrow cells)", NULL, NULL },
    { "oc.tgfb_release_au_per_site", BS_PT_REAL, 500.0, 0.0, 1e4, "au",
            "Matrix TGF-beta released per site of mineral resorbed (Pivonka 2008 alpha = 1, normalised; Mod✓ as a "
            "mechanism)",
            NULL, NULL },
};
const size_t bs_oc_nparams = sizeof bs_oc_params / sizeof bs_oc_params[0];

void bs_oc_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    r->p_oc_form = bs_rate_to_prob(bs_param(ps, "oc.formation_per_d") / 24.0, dt_h);
    r->oc_exclusion = (int)lround(bs_param(ps, "oc.exclusion_um") / h_um);
    /* area eroded per step (um^2) over the area of one site */
    double area = bs_param(ps, "oc.resorb_um_per_day") / 24.0 * dt_h * bs_param(ps, "oc.footprint_um");
    r->oc_resorb_per_step = (float)(area / (h_um * h_um));
    r->oc_reach = (int)lround(bs_param(ps, "oc.reach_um") / h_um);
    if (r->oc_reach < 1) r->oc_reach = 1;
    r->p_oc_death = bs_rate_to_prob(1.0 / (24.0 * bs_param(ps, "oc.lifespan_d")), dt_h);
    r->ifng_K = (float)bs_param(ps, "oc.ifng_half_au");
    r->p_oc_idle_death = bs_rate_to_prob(bs_param(ps, "oc.idle_apoptosis_per_d") / 24.0, dt_h);
    double move = bs_param(ps, "oc.speed_um_per_h") * dt_h / h_um;
    r->p_oc_move = (float)(move > 1.0 ? 1.0 : move);
    r->oc_o2_uptake = (float)bs_param(ps, "oc.o2_uptake_per_h");
    r->tgfb_per_mineral = (float)(bs_param(ps, "oc.tgfb_release_au_per_site") / dt_h);
}

/* Where a precursor recruited to surface site i settles: the site itself,
 * or, when another cell (a tumour cell) holds it, a free marrow neighbour —
 * the osteoclast's reach still covers the bone. -1 if none. */
static int oc_place(const bs_model *m, int i)
{
    if (m->store.occ[i] < 0) return i;
    /* north and south first, then west, east, the corners (bs_nb_dx order
     * permuted; the first free site wins, so the order is in the results) */
    static const int order[8] = { 2, 3, 0, 1, 4, 5, 6, 7 };
    int x = i % m->lat.w, y = i / m->lat.w;
    for (int k = 0; k < 8; k++) {
        int nx = x + bs_nb_dx[order[k]], ny = y + bs_nb_dy[order[k]];
        if (nx < 0 || ny < 0 || nx >= m->lat.w || ny >= m->lat.h) continue;
        int j = ny * m->lat.w + nx;
        if (m->store.occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW) return j;
    }
    return -1;
}

int bs_oc_try_form(bs_model *m, int i)
{
    const bs_rules *r = &m->r;
    if (m->store.occ[i] >= 0 && m->store.type[m->store.occ[i]] != BS_CELL_DTC) return 0;
    float sig = bs_rankl_signal(m, i);
    float p = r->p_oc_form * sig / (1.0f + sig);
    float K = r->fx.za_form_K;
    if (K > 0.0f) {
        /* the bone the precursors would seal onto: the most loaded of the
         * four sides */
        const bs_lattice *lat = &m->lat;
        int x = i % lat->w, y = i / lat->w;
        float L = 0.0f;
        if (x > 0 && lat->za_load[i - 1] > L) L = lat->za_load[i - 1];
        if (x < lat->w - 1 && lat->za_load[i + 1] > L) L = lat->za_load[i + 1];
        if (y > 0 && lat->za_load[i - lat->w] > L) L = lat->za_load[i - lat->w];
        if (y < lat->h - 1 && lat->za_load[i + lat->w] > L) L = lat->za_load[i + lat->w];
        p *= K / (K + L);
    }
    /* the Tregs' brake only lowers p: a draw at or above p without it
     * needs no count */
    const float u = bs_draw_surface(m, (uint64_t)i, 3);
    if (u >= p || u >= p * bs_treg_oc_formation_factor(m, i)) return 0;
    if (bs_agent_within(m, i, r->oc_exclusion, BS_CELL_OSTEOCLAST)) return 0;
    int at = oc_place(m, i);
    if (at < 0) {
        /* under a compact lesion: the precursor makes room by pushing the
         * tumour cell on the site, in the serial pass (agents/shove.c) */
        if (m->store.occ[i] >= 0) bs_shove_request_oc(m, i);
        return 0;
    }
    return bs_oc_spawn(m, at);
}

int bs_oc_spawn(bs_model *m, int i)
{
    uint64_t id = bs_store_child_id((uint64_t)i ^ 0x6f63000000000000ULL, m->step, 0);
    int slot = bs_store_spawn_locked(&m->store, i, BS_CELL_OSTEOCLAST, 0, id);
    if (slot >= 0) m->store.stamp[slot] = (uint32_t)(m->step + 1);
    return slot >= 0;
}

void bs_oc_form_held(bs_model *m)
{
    bs_shove *sh = &m->shove;
    for (int t = 0; t < m->ntiles; t++) {
        uint32_t n = sh->oc_n[t];
        sh->oc_n[t] = 0;
        for (uint32_t k = 0; k < n; k++) {
            int i = sh->oc_site[(size_t)t * (size_t)sh->seg + k];
            if (bs_agent_within(m, i, m->r.oc_exclusion, BS_CELL_OSTEOCLAST)) continue;
            if (bs_shove_free_site(m, i)) bs_oc_spawn(m, i);
        }
    }
}

/* Osteoclasts seal onto and dissolve exposed bone: a bone site with marrow
 * on one of its four sides. */
static int exposed(const bs_lattice *lat, int x, int y)
{
    if (x > 0 && lat->tissue[y * lat->w + x - 1] != BS_TISSUE_BONE) return 1;
    if (x < lat->w - 1 && lat->tissue[y * lat->w + x + 1] != BS_TISSUE_BONE) return 1;
    if (y > 0 && lat->tissue[(y - 1) * lat->w + x] != BS_TISSUE_BONE) return 1;
    if (y < lat->h - 1 && lat->tissue[(y + 1) * lat->w + x] != BS_TISSUE_BONE) return 1;
    return 0;
}

/* Zoledronic acid released from dissolved mineral at site b that the
 * osteoclast did not take up binds to the bone on b's four sides, each
 * up to its free capacity (bs_za_bind_site); what finds no bone or no
 * free capacity is lost to the circulation. */
static void za_rebind(bs_lattice *lat, int b, float amount, float capacity)
{
    int bx = b % lat->w, by = b / lat->w, nb[4], n = 0;
    static const int ddx[4] = { -1, 1, 0, 0 }, ddy[4] = { 0, 0, -1, 1 };
    for (int k = 0; k < 4; k++) {
        int nx = bx + ddx[k], ny = by + ddy[k];
        if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
        int q = ny * lat->w + nx;
        if (lat->tissue[q] == BS_TISSUE_BONE) nb[n++] = q;
    }
    for (int k = 0; k < n; k++) bs_za_bind_site(&lat->za_load[nb[k]], amount / (float)n, capacity);
}

/* Erodes up to `amount` of mineral from bone within reach, nearest first
 * (raster order breaks ties). Returns the mineral removed; *za gets the
 * zoledronic acid taken up with it (site load x mineral removed x the
 * uptake fraction; the rest binds again next to the site). */
static float resorb(bs_model *m, int i, float amount, float *za)
{
    bs_lattice *lat = &m->lat;
    int R = m->r.oc_reach, x = i % lat->w, y = i / lat->w;
    /* the BMU the cell works for: its site's, else a neighbour's (a cell
     * placed next to a site another cell holds) */
    int bmu = lat->bmu[i];
    for (int k = 0; bmu < 0 && k < 9; k++) {
        int nx = x - 1 + k % 3, ny = y - 1 + k / 3;
        if (nx >= 0 && ny >= 0 && nx < lat->w && ny < lat->h) bmu = lat->bmu[ny * lat->w + nx];
    }
    float removed = 0.0f;
    while (amount > 0.0f) {
        int best = -1, best_d = 1 << 30;
        for (int yy = y - R; yy <= y + R; yy++) {
            if (yy < 0 || yy >= lat->h) continue;
            for (int xx = x - R; xx <= x + R; xx++) {
                if (xx < 0 || xx >= lat->w) continue;
                int j = yy * lat->w + xx;
                int d = (xx - x) * (xx - x) + (yy - y) * (yy - y);
                if (lat->tissue[j] == BS_TISSUE_BONE && d <= R * R && d < best_d && exposed(lat, xx, yy)) {
                    best = j;
                    best_d = d;
                }
            }
        }
        if (best < 0) break;
        float take = lat->mineral[best] < amount ? lat->mineral[best] : amount;
        lat->mineral[best] -= take;
        amount -= take;
        removed += take;
        float drug = lat->za_load[best] * take;
        if (drug > 0.0f) {
            float up = drug * m->r.fx.za_oc_uptake;
            *za += up;
            za_rebind(lat, best, drug - up, m->r.fx.za_capacity);
        }
        m->eroded[best] += take; /* booked to the BMU by bs_bmu_update */
        if (lat->bmu[best] < 0) lat->bmu[best] = bmu;
        if (lat->mineral[best] <= 0.0f) {
            lat->mineral[best] = 0.0f;
            lat->za_load[best] = 0.0f; /* released with the last of its mineral */
            lat->tissue[best] = BS_TISSUE_MARROW;
            lat->flags[best] |= BS_FLAG_CAVITY;
            int bx = best % lat->w, by = best / lat->w;
            /* depth below the original surface: one more than the
             * shallowest marrow next to it (0 outside any cavity) */
            int dmin = 255;
            static const int ddx[4] = { -1, 1, 0, 0 }, ddy[4] = { 0, 0, -1, 1 };
            for (int k = 0; k < 4; k++) {
                int nx = bx + ddx[k], ny = by + ddy[k];
                if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
                int q = ny * lat->w + nx;
                if (lat->tissue[q] == BS_TISSUE_BONE || q == best) continue;
                int d = (lat->flags[q] & BS_FLAG_CAVITY) ? lat->depth[q] : 0;
                if (d < dmin) dmin = d;
            }
            lat->depth[best] = (uint8_t)(dmin < 254 ? dmin + 1 : 255);
            bs_lattice_refresh_surface(lat, bx - 1, by - 1, bx + 1, by + 1);
        }
    }
    return removed;
}

void bs_oc_act(bs_model *m, int slot, bs_step_totals *tot)
{
    bs_store *s = &m->store;
    const bs_rules *r = &m->r;
    uint64_t id = s->id[slot];
    int i = s->site[slot];
    s->age_h[slot] += (float)m->dt_h;
    if (bs_draw_agent(m, id, 0) < r->p_oc_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    /* Out of the resorption phase the cell has lost its RANKL support. */
    uint8_t surf = m->lat.surface[i];
    if (surf != BS_SURF_RESORPTION && surf != BS_SURF_NONE && bs_draw_agent(m, id, 3) < r->p_oc_idle_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    /* Zoledronic acid taken up from resorbed bone (store.aux holds the
     * cell's uptake, 1 = a full site's load) raises apoptosis. */
    if (m->r.fx.za_oc_death > 0.0f && s->aux[slot] > 0.0f) {
        float u = s->aux[slot] < 1.0f ? s->aux[slot] : 1.0f;
        if (bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, id, 5) < m->r.fx.za_oc_death * u) {
            bs_store_kill_locked(s, slot);
            return;
        }
    }
    float za = 0.0f, amount = r->oc_resorb_per_step;
    if (s->aux[slot] > 0.0f) amount *= 1.0f - m->r.fx.za_activity_cut * (s->aux[slot] < 1.0f ? s->aux[slot] : 1.0f);
    float removed = resorb(m, i, amount, &za);
    s->aux[slot] += za;
    if (removed > 0.0f) {
        tot->resorbed_um2 += (double)removed * m->lat.h_um * m->lat.h_um;
        m->release[i] += removed * r->tgfb_per_mineral;
        /* the row may now hold a non-zero release (agents/model.h); other
         * threads may mark the same row, never unmark it during the rules */
        __atomic_store_n(&m->release_row_nz[i / m->lat.w], (uint8_t)1, __ATOMIC_RELAXED);
        return;
    }
    /* Nothing in reach: crawl to a neighbouring open-compartment site, or
     * retire if there is none. */
    int cand[8], n = 0, x = i % m->lat.w, y = i / m->lat.w;
    for (int k = 0; k < 8; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= m->lat.w || ny >= m->lat.h) continue;
        int j = ny * m->lat.w + nx;
        if (s->occ[j] < 0 && m->lat.surface[j] == BS_SURF_RESORPTION) cand[n++] = j;
    }
    if (n == 0) {
        if (bs_draw_agent(m, id, 4) < r->p_oc_idle_death) bs_store_kill_locked(s, slot);
        return;
    }
    if (bs_draw_agent(m, id, 1) < r->p_oc_move)
        bs_store_move(s, slot, cand[bs_draw_agent_below(m, id, 2, (uint32_t)n)]);
}

static void oc_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)slot;
    (void)site;
    acc->o2_uptake += m->r.oc_o2_uptake;
}

const bs_celltype bs_type_osteoclast = {
    .name = "osteoclast",
    .plural = "osteoclasts",
    .n_states = 1,
    .state_names = { "resorbing" },
    .rgb = { { 0xD5, 0x5E, 0x00 } }, /* vermillion */
    .shape = { BS_SHAPE_DISC },
    .footprint_sites = 3,
    .params = bs_oc_params,
    .n_params = sizeof bs_oc_params / sizeof bs_oc_params[0],
    .derive = bs_oc_derive,
    .act = bs_oc_act,
    .sources = oc_sources,
    /* formed on the surface by bs_bmu_site (bs_oc_try_form), no arrivals */
    .radiation = { .model = BS_RT_LQ, .alpha_key = "rt.oc_alpha_per_Gy", .alpha_beta_key = "rt.myeloid_alpha_beta_Gy" },
    .n_observables = 1,
    .observables = { { "n_osteoclasts", "cells", BS_ALL_STATES } },
};
