/* bmu.c — the bone surface and the life of each bone multicellular unit.
 *
 * An endosteal site is QUIESCENT (bone-lining cells) until a bone
 * multicellular unit (BMU) is activated there: a bone remodeling
 * compartment (BRC) opens over the quiescent surface within bmu.radius_um.
 * Each BMU is one record (bs_bmu_rec, in a pool, found by its origin site:
 * bs_bmu_at) and every
 * site it owns (canopy surface, the cavity it digs, the bone it refills)
 * carries its origin in lattice.bmu. Its life:
 *   RESORPTION  osteoclasts form on its surface (osteoclast.c) while the
 *               resorption window is open: bmu.resorption_phase_d at RANKL
 *               signal 1, longer with more RANKL (a saturating function,
 *               bmu.window_signal_half); afterwards the osteoclasts lose
 *               RANKL support and die off.
 *   REVERSAL    from the window's close; once the last osteoclast is gone,
 *               reversal cells clean the cavity for bmu.reversal_d and no
 *               bone is made.
 *   FORMATION   an osteoblast team is recruited to the BMU (osteoblast.c):
 *               one member per ob.team_spacing_um of cavity floor, missing
 *               members replaced at ob.recruit_per_d. The cavity refills
 *               as lamellae from its floor outward: a cavity site takes
 *               mineral only when it lies on finished bone (or is a layer
 *               already started), at the mineral apposition rate
 *               ob.form_um_per_day, and only under a team member once
 *               the team's osteoid seam mineralises
 *               (ob.mineralisation_lag_d after the team's first member
 *               arrived; a member that joins later, or replaces one that
 *               died, adds osteoid to a seam already mineralising and
 *               does not restart the lag). So the formation period is
 *               about the cavity depth over the apposition rate, plus the
 *               lag once.
 *   termination when nothing of its cavity is left to fill: the team
 *               retires (lining cells, osteocytes, apoptosis), the surface
 *               returns to QUIESCENT and the event goes into the log.
 *   stalled     a formation phase in which no mineral has been laid for
 *               bmu.formation_stall_d (counted from the start of formation
 *               or the last lamella) ends too: no osteoblast can reach what
 *               is left (tumour cells fill the cavity and the marrow beside
 *               the unfinished bone, say). The surface returns to lining
 *               cells (quiescent, making RANKL, activatable again); the
 *               unrefilled cavity becomes plain marrow, bone lost (the
 *               remodeling imbalance of an aborted event); a lamella
 *               already begun mineralises out (laid osteoid mineralises
 *               without its osteoblast). Without this a blocked BMU stayed
 *               in formation for good, its surface made no lining-cell
 *               RANKL and could not start a new event (issue 16).
 * Activation is driven by the local RANKL signal (RANKL, with OPG as its
 * decoy receptor), so more RANKL opens more BMUs and more OPG fewer.
 *
 * The phase logic, the refilling and the survey of each BMU's cells run in
 * bs_bmu_update, once per step after the tiled rules, serially in raster
 * order (deterministic at any thread count). Any fill target that belongs
 * to no BMU (a cavity left by a cell that moved away, say) is taken into a
 * BMU of its own in reversal, so every cavity site is refilled. */
#include <math.h>
#include <string.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"
#include "spatial.h"

const bs_param_def bs_bmu_params[] = {
    { "bmu.activation_per_site_per_y", BS_PT_REAL, 0.5, 0.0, 50.0, "1/y",
            "Rate at which a quiescent endosteal site is taken into a new remodeling compartment when the RANKL signal "
            "is 1. Starting value 0.7/y derived so ~20% of the surface remodels (Agerbaek 1991 gives "
            "0.93/y cortical); calibrated to B2",
            NULL, NULL },
    { "bmu.radius_um", BS_PT_REAL, 60.0, 10.0, 140.0, "um",
            "Radius of the surface a new BMU takes over (BRC canopy). BMU footprint ~200 um across is the literature "
            "value (M~); 120 um across chosen so one event is a single cavity (A)",
            NULL, NULL },
    { "bmu.resorption_phase_d", BS_PT_REAL, 15.0, 1.0, 120.0, "d",
            "Resorption window: how long osteoclasts form on a new BMU at RANKL signal 1 (scaled by "
            "bmu.window_signal_half); afterwards they lose RANKL support. Agerbaek 1991: resorption period 27 d "
            "cortical (M✓); calibrated to B3 on seeds 501-508 (resorption 17-22 d, erosion depth 50-80 um)",
            NULL, NULL },
    { "bmu.window_signal_half", BS_PT_REAL, 3.0, 0.01, 1e3, "1",
            "K of the window's dependence on the mean RANKL signal s of the BMU's surface: window x (1 + K) s / (K "
            "+ s), x1 at s = 1, at most x(1 + K) (RANKL prolongs osteoclastogenesis, the route by which PTHrP deepens "
            "lesions, Guise 2000 M✓ qualitative; K A)",
            NULL, NULL },
    { "bmu.reversal_d", BS_PT_REAL, 7.0, 0.0, 120.0, "d",
            "Reversal phase: after the last osteoclast of a BMU has gone, reversal cells clean the cavity and no "
            "osteoblast is recruited for this long (reversal ~1-2 wk, M~; with the mineralisation lag the gap from "
            "resorption to mineralised formation, 8 d + reversal in Agerbaek 1991, M✓)",
            NULL, NULL },
    { "bmu.rankl_half_au", BS_PT_REAL, 0.06, 1e-6, 1e6, "au",
            "Effective RANKL giving a RANKL signal of 1 (half-maximal osteoclast formation). Calibrated to B2 "
            "(normalised units)",
            NULL, NULL },
    { "bmu.opg_decoy_au", BS_PT_REAL, 1.0, 1e-6, 1e6, "au",
            "OPG level that halves effective RANKL (decoy receptor binding; Pivonka 2008 model, Mod✓ as a mechanism)",
            NULL, NULL },
    { "bmu.formation_stall_d", BS_PT_REAL, 30.0, 0.0, 3650.0, "d",
            "A formation phase in which no mineral has been laid for this long (from its start or its last lamella) "
            "ends with the rest of the cavity unrefilled: the surface returns to lining cells and the cavity is bone "
            "lost; 0 = never. Arrested reversal/formation surfaces without osteoblasts, left unrefilled, are the "
            "uncoupling seen under myeloma and when the BRC canopy is lost (Andersen 2010, Jensen 2014, M~ "
            "qualitative). Value A: well above a normal event's gap before its first mineral (team renewal ~1 d + "
            "mineralisation lag 8 d, Agerbaek 1991) and below the formation period (~100-150 d)",
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
    { "bmu.lining_cxcl12_per_h", BS_PT_REAL, 3.0, 0.0, 1e3, "au/h",
            "CXCL12 made by osteoblast-lineage lining cells per quiescent surface site (the endosteal niche: "
            "Shiozawa 2011, osteoblasts make CXCL12 and DTCs home to the HSC niche, M✓ qualitative; value A, "
            "calibrated with cxcl12.car_per_h to B7 on seeds 500-504)",
            NULL, NULL },
    { "bmu.brc_rankl_per_h", BS_PT_REAL, 0.2, 0.0, 1e3, "au/h",
            "RANKL made by BRC canopy/stromal cells per resorption-phase site (A)", NULL, NULL },
};
const size_t bs_bmu_nparams = sizeof bs_bmu_params / sizeof bs_bmu_params[0];

void bs_bmu_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    r->bmu_radius = (int)lround(bs_param(ps, "bmu.radius_um") / h_um);
    if (r->bmu_radius < 1) r->bmu_radius = 1; /* a BMU covers at least its origin site */
    /* A BMU opened at one site covers about 2R+1 surface sites, so the
     * per-origin hazard is the per-site activation rate over that count. */
    double per_site_per_h = bs_param(ps, "bmu.activation_per_site_per_y") / (365.25 * 24.0);
    r->p_activate_origin = bs_rate_to_prob(per_site_per_h / (2.0 * r->bmu_radius + 1.0), dt_h);
    r->resorption_steps = (uint32_t)lround(24.0 * bs_param(ps, "bmu.resorption_phase_d") / dt_h);
    r->window_K = (float)bs_param(ps, "bmu.window_signal_half");
    r->reversal_steps = (uint32_t)lround(24.0 * bs_param(ps, "bmu.reversal_d") / dt_h);
    r->formation_stall_steps = (uint32_t)lround(24.0 * bs_param(ps, "bmu.formation_stall_d") / dt_h);
    if (bs_param(ps, "bmu.formation_stall_d") > 0.0 && r->formation_stall_steps < 1) r->formation_stall_steps = 1;
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
        if (m->lat.surface[i] == BS_SURF_QUIESCENT) {
            bs_bmu_open(m, i);
            bs_bmu_tidy(m);
            return;
        }
    }
}

/* The record for a BMU opening at `origin`: the one already there (a
 * closed BMU's, reused as the per-site record was) or a new one at the end
 * of the pool. BMUs open inside the tile loop, in parallel: the pool never
 * moves, the count is taken under a lock, and which record a BMU gets
 * depends on the threads' timing, which nothing reads: bs_bmu_tidy puts
 * the pool in origin order after the step. */
static bs_bmu_rec *bmu_record(bs_model *m, int origin)
{
    int32_t k = m->bmu_idx[origin];
    if (k < 0) {
#pragma omp critical(bs_bmu_pool)
        k = m->bmu_n++;
        m->bmu_origin[k] = origin;
        m->bmu_idx[origin] = k;
    }
    return &m->bmu_pool[k];
}

void bs_bmu_tidy(bs_model *m)
{
    int32_t n = 0, sorted = 1;
    for (int32_t k = 0; k < m->bmu_n; k++) {
        const int32_t o = m->bmu_origin[k];
        if (m->bmu_pool[k].phase == 0) { /* closed: nothing refers to it after the survey */
            m->bmu_idx[o] = -1;
            continue;
        }
        if (n > 0 && o < m->bmu_origin[n - 1]) sorted = 0;
        if (n != k) {
            m->bmu_pool[n] = m->bmu_pool[k];
            m->bmu_origin[n] = o;
        }
        n++;
    }
    m->bmu_n = n;
    if (!sorted) {
        /* the few opened this step came at the end: insertion sort on the
         * origins, the records following */
        for (int32_t k = 1; k < n; k++) {
            const int32_t o = m->bmu_origin[k];
            const bs_bmu_rec rec = m->bmu_pool[k];
            int32_t j = k;
            for (; j > 0 && m->bmu_origin[j - 1] > o; j--) {
                m->bmu_origin[j] = m->bmu_origin[j - 1];
                m->bmu_pool[j] = m->bmu_pool[j - 1];
            }
            m->bmu_origin[j] = o;
            m->bmu_pool[j] = rec;
        }
    }
    for (int32_t k = 0; k < n; k++) m->bmu_idx[m->bmu_origin[k]] = k;
}

int bs_bmu_reindex(bs_model *m)
{
    const long sites = (long)m->lat.w * m->lat.h;
    if (m->bmu_n < 0 || m->bmu_n > m->bmu_cap) return 0;
    for (long i = 0; i < sites; i++) m->bmu_idx[i] = -1;
    for (int32_t k = 0; k < m->bmu_n; k++) {
        const int32_t o = m->bmu_origin[k];
        if (o < 0 || o >= sites || (k > 0 && o <= m->bmu_origin[k - 1])) return 0;
        m->bmu_idx[o] = k;
    }
    return 1;
}

static void bmu_start(bs_model *m, int origin, uint8_t phase)
{
    bs_bmu_rec *rec = bmu_record(m, origin);
    memset(rec, 0, sizeof *rec);
    rec->phase = phase;
    rec->t_open = (uint32_t)m->step;
    rec->t_window_end = rec->t_res_first = rec->t_res_last = rec->t_oc_gone = BS_BMU_UNSET;
    rec->t_team_first = rec->t_min_first = rec->t_min_last = rec->survey = BS_BMU_UNSET;
    if (phase != BS_SURF_RESORPTION) rec->t_window_end = rec->t_open;
    m->lat.bmu[origin] = origin;
}

/* A BMU opens: the quiescent surface within the radius becomes a BRC in
 * its resorption phase, owned by the new BMU (origin i). */
void bs_bmu_open(bs_model *m, int i)
{
    bs_lattice *lat = &m->lat;
    if (lat->bmu[i] >= 0 || bs_bmu_phase(m, i) != 0) return; /* already part of a BMU */
    bmu_start(m, i, BS_SURF_RESORPTION);
    int R = m->r.bmu_radius, x = i % lat->w, y = i / lat->w;
    for (int yy = y - R; yy <= y + R; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - R; xx <= x + R; xx++) {
            if (xx < 0 || xx >= lat->w) continue;
            if ((xx - x) * (xx - x) + (yy - y) * (yy - y) > R * R) continue;
            int j = yy * lat->w + xx;
            if ((lat->surface[j] == BS_SURF_QUIESCENT && lat->bmu[j] < 0) || j == i) {
                lat->surface[j] = BS_SURF_RESORPTION;
                lat->since[j] = (uint32_t)m->step;
                lat->bmu[j] = i;
            }
        }
    }
}

/* A one-site BMU in resorption at quiescent site i (an osteoclast made
 * there by another route, e.g. an MDSC turning into one, mdsc.c). */
void bs_bmu_claim(bs_model *m, int i)
{
    bs_lattice *lat = &m->lat;
    if (lat->bmu[i] >= 0 || bs_bmu_phase(m, i) != 0) return;
    bmu_start(m, i, BS_SURF_RESORPTION);
    lat->surface[i] = BS_SURF_RESORPTION;
    lat->since[i] = (uint32_t)m->step;
}

void bs_bmu_site(bs_model *m, int i, bs_step_totals *tot)
{
    (void)tot;
    bs_lattice *lat = &m->lat;
    const bs_rules *r = &m->r;
    int b = lat->bmu[i];
    switch (lat->surface[i]) {
    case BS_SURF_QUIESCENT: {
        if (b >= 0) break;
        float p = r->p_activate_origin * bs_rankl_signal(m, i);
        if (bs_draw_surface(m, (uint64_t)i, 0) < p) bs_bmu_open(m, i);
        break;
    }
    case BS_SURF_RESORPTION:
        /* osteoclasts form only while the BMU's window is open */
        if (b >= 0 && bs_bmu_phase(m, b) == BS_SURF_RESORPTION) bs_oc_try_form(m, i);
        break;
    case BS_SURF_FORMATION: bs_ob_try_recruit(m, i); break;
    default: break;
    }
}

/* Lays one step of lamella (the mineral apposition rate) into floor site j
 * of BMU rec: an empty cavity site becomes new bone. */
static void deposit(bs_model *m, int j, bs_bmu_rec *rec, bs_step_totals *tot)
{
    bs_lattice *lat = &m->lat;
    if (lat->tissue[j] != BS_TISSUE_BONE) {
        lat->tissue[j] = BS_TISSUE_BONE;
        lat->flags[j] &= (uint8_t)~BS_FLAG_CAVITY;
        lat->mineral[j] = 0.0f;
        lat->depth[j] = 0;
        int jx = j % lat->w, jy = j / lat->w;
        bs_lattice_refresh_surface(lat, jx - 1, jy - 1, jx + 1, jy + 1);
    }
    float add = m->r.ob_deposit_per_step;
    if (lat->mineral[j] + add > 1.0f) add = 1.0f - lat->mineral[j]; /* a site holds at most its own volume */
    lat->mineral[j] += add;
    double a = (double)add * lat->h_um * lat->h_um;
    tot->formed_um2 += a;
    rec->formed_um2 += (float)a;
    if (rec->t_min_first == BS_BMU_UNSET) rec->t_min_first = (uint32_t)m->step;
    rec->t_min_last = (uint32_t)m->step;
}

static void log_event(bs_model *m, int origin)
{
    uint64_t k = m->bmu_log.n % BS_BMU_LOG;
    m->bmu_log.rec[k] = *bs_bmu_at(m, origin);
    m->bmu_log.origin[k] = origin;
    m->bmu_log.n++;
}

void bs_bmu_update(bs_model *m, bs_step_totals *tot)
{
    bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    const bs_rules *r = &m->r;
    const int w = lat->w, n = lat->w * lat->h;
    const uint32_t now = (uint32_t)m->step;
    const double h2 = lat->h_um * lat->h_um;
    int32_t *list = m->bmu_work;
    int nl = 0;
    /* 1. survey, in raster order: cells, cavity, erosion of this step;
     * the surface takes its BMU's phase; floor sites under a mineralising
     * team member take their lamella */
    for (int i = 0; i < n; i++) {
        /* 64 or eight sites that would all be skipped below, skipped at
         * once (spatial.h; skipping changes nothing, so the same results) */
        if ((i & 63) == 0 && i + 64 <= n && bs_survey_idle64(lat, i)) {
            i += 63;
            continue;
        }
        if ((i & 7) == 0 && i + 8 <= n && bs_survey_idle8(lat, i)) {
            i += 7;
            continue;
        }
        int b = lat->bmu[i];
        if (b < 0) {
            if (!bs_is_fill_target(lat, s, i)) continue;
            /* a cavity or unfinished bone that no BMU owns: its own BMU,
             * past resorption, so it is refilled like any other */
            bmu_start(m, i, BS_SURF_REVERSAL);
            b = i;
        }
        bs_bmu_rec *rec = bs_bmu_at(m, b);
        if (!rec || rec->phase == 0) { /* left from a closed BMU */
            lat->bmu[i] = -1;
            m->eroded[i] = 0.0f;
            continue;
        }
        if (rec->survey != now) {
            rec->survey = now;
            rec->n_oc = rec->n_team = rec->n_targets = rec->n_floor = rec->n_uncovered = rec->n_cand = 0;
            rec->n_surface = 0;
            rec->sig_sum = 0.0f;
            list[nl++] = b;
        }
        uint8_t surf = lat->surface[i];
        if (surf != BS_SURF_NONE) {
            if (surf != rec->phase) lat->surface[i] = rec->phase;
            rec->n_surface++;
            if (rec->phase == BS_SURF_RESORPTION) rec->sig_sum += bs_rankl_signal(m, i);
        }
        float e = m->eroded[i];
        if (e > 0.0f) {
            rec->resorbed_um2 += (float)((double)e * h2);
            if (rec->t_res_first == BS_BMU_UNSET) rec->t_res_first = now;
            rec->t_res_last = now;
        } else if (e < 0.0f) {
            rec->formed_um2 -= (float)((double)e * h2); /* an osteocyte's lacuna */
        }
        m->eroded[i] = 0.0f;
        if ((lat->flags[i] & BS_FLAG_CAVITY) && lat->depth[i] > rec->max_depth) rec->max_depth = lat->depth[i];
        int slot = s->occ[i];
        if (slot >= 0) {
            if (s->type[slot] == BS_CELL_OSTEOCLAST) rec->n_oc++;
            if (s->type[slot] == BS_CELL_OSTEOBLAST) {
                rec->n_team++;
                if (rec->t_team_first == BS_BMU_UNSET) rec->t_team_first = now;
                if (lat->flags[i] & BS_FLAG_CAVITY) rec->n_targets++; /* a hole it is about to leave */
            }
        }
        if (bs_is_fill_target(lat, s, i)) {
            /* the team's seam mineralises ob.mineralisation_lag_d after
             * its first member arrived */
            const int seam = r->ob_lag_h <= 0.0f ||
                    (rec->t_team_first != BS_BMU_UNSET && now >= rec->t_team_first &&
                            (double)(now - rec->t_team_first) * m->dt_h >= (double)r->ob_lag_h);
            rec->n_targets++;
            if (bs_is_floor(lat, i)) {
                rec->n_floor++;
                int any, marrow;
                bs_ob_team_around(m, i, &any, &marrow);
                if (any == 0) rec->n_uncovered++;
                /* under a team member once the team's seam mineralises
                 * (the lag counted from the team's arrival, not from
                 * each member's: a member that replaces another adds
                 * osteoid to a seam already mineralising), or walled in
                 * by the lamellae around it: the next layer goes on */
                if (rec->phase == BS_SURF_FORMATION && ((any > 0 && seam) || marrow == 0)) deposit(m, i, rec, tot);
            }
            if (rec->phase == BS_SURF_FORMATION) {
                /* lining cells next to the cavity join the compartment */
                int x = i % w, y = i / w;
                for (int yy = y - 1; yy <= y + 1; yy++)
                    for (int xx = x - 1; xx <= x + 1; xx++) {
                        if (xx < 0 || yy < 0 || xx >= w || yy >= lat->h) continue;
                        int q = yy * w + xx;
                        if (lat->surface[q] == BS_SURF_QUIESCENT && lat->bmu[q] < 0) {
                            lat->bmu[q] = b;
                            lat->surface[q] = BS_SURF_FORMATION;
                        }
                    }
            }
        }
        if (rec->phase == BS_SURF_FORMATION && lat->surface[i] != BS_SURF_NONE && s->occ[i] < 0 &&
                lat->tissue[i] == BS_TISSUE_MARROW && bs_uncovered_floor_near(m, i))
            rec->n_cand++;
    }
    /* 2. phases */
    int closed = 0;
    for (int k = 0; k < nl; k++) {
        int b = list[k];
        bs_bmu_rec *rec = bs_bmu_at(m, b);
        int end = 0;
        switch (rec->phase) {
        case BS_SURF_RESORPTION: {
            float sig = rec->n_surface > 0 ? rec->sig_sum / (float)rec->n_surface : 0.0f;
            float win = (float)r->resorption_steps * (1.0f + r->window_K) * sig / (r->window_K + sig);
            if ((float)(now - rec->t_open) >= win) {
                rec->phase = BS_SURF_REVERSAL;
                rec->t_window_end = now;
            }
            break;
        }
        case BS_SURF_REVERSAL:
            if (rec->n_oc > 0) {
                rec->t_oc_gone = BS_BMU_UNSET;
                break;
            }
            if (rec->t_oc_gone == BS_BMU_UNSET) rec->t_oc_gone = now;
            if (now - rec->t_oc_gone >= r->reversal_steps) {
                if (rec->n_targets == 0)
                    end = 1; /* nothing was dug */
                else
                    rec->phase = BS_SURF_FORMATION;
            }
            break;
        case BS_SURF_FORMATION: {
            if (rec->n_targets == 0) {
                end = 1;
                break;
            }
            /* the stall clock: from the start of formation (the reversal's
             * end) or the last lamella laid, whichever is later */
            uint32_t last = rec->t_oc_gone + r->reversal_steps;
            if (rec->t_min_last != BS_BMU_UNSET && rec->t_min_last > last) last = rec->t_min_last;
            if (r->formation_stall_steps > 0 && now >= last && now - last >= r->formation_stall_steps) {
                end = 1;
                rec->stalled = 1;
            }
            break;
        }
        default: break;
        }
        if (end) {
            rec->phase = 0;
            closed = 1;
        }
    }
    /* 3. closed BMUs: their surface returns to lining cells; a stalled
     * one leaves its cavity unrefilled (plain marrow, so no new BMU takes
     * it up as a fill target) and its begun lamellae mineralise out */
    if (closed) {
        for (int i = 0; i < n; i++) {
            int b = lat->bmu[i];
            if (b < 0 || bs_bmu_phase(m, b) != 0) continue;
            bs_bmu_rec *rec = bs_bmu_at(m, b);
            if (rec && rec->stalled) {
                if (lat->tissue[i] == BS_TISSUE_MARROW && (lat->flags[i] & BS_FLAG_CAVITY)) {
                    lat->flags[i] &= (uint8_t)~BS_FLAG_CAVITY;
                    lat->depth[i] = 0;
                } else if (lat->tissue[i] == BS_TISSUE_BONE && lat->mineral[i] < 1.0f) {
                    double a = (double)(1.0f - lat->mineral[i]) * h2;
                    lat->mineral[i] = 1.0f;
                    tot->formed_um2 += a;
                    rec->formed_um2 += (float)a;
                }
            }
            lat->bmu[i] = -1;
            if (lat->surface[i] != BS_SURF_NONE) lat->surface[i] = BS_SURF_QUIESCENT;
        }
        /* 4. the log, in the survey's order */
        for (int k = 0; k < nl; k++)
            if (bs_bmu_phase(m, list[k]) == 0 && bs_bmu_at(m, list[k])) log_event(m, list[k]);
    }
    /* 5. no site refers to a closed BMU now: the pool keeps the open ones */
    bs_bmu_tidy(m);
}

static double step_days(const bs_model *m, uint32_t t)
{
    if (t == BS_BMU_UNSET) return NAN;
    return ((double)t - (double)m->step0) * m->dt_h / 24.0;
}

static void to_event(const bs_model *m, const bs_bmu_rec *rec, int origin, int done, bs_bmu_event *e)
{
    e->origin = origin;
    e->done = done;
    e->stalled = rec->stalled;
    e->open_d = step_days(m, rec->t_open);
    e->res_first_d = step_days(m, rec->t_res_first);
    e->res_last_d = step_days(m, rec->t_res_last);
    e->team_first_d = step_days(m, rec->t_team_first);
    e->min_first_d = step_days(m, rec->t_min_first);
    e->min_last_d = step_days(m, rec->t_min_last);
    e->end_d = done ? step_days(m, rec->survey) : (double)NAN;
    e->resorbed_um2 = (double)rec->resorbed_um2;
    e->formed_um2 = (double)rec->formed_um2;
    e->depth_um = rec->max_depth * m->lat.h_um;
}

size_t bs_bmu_events(const bs_model *m, bs_bmu_event *out, size_t max, int include_open)
{
    size_t k = 0;
    uint64_t first = m->bmu_log.n > BS_BMU_LOG ? m->bmu_log.n - BS_BMU_LOG : 0;
    for (uint64_t e = first; e < m->bmu_log.n; e++, k++) {
        uint64_t q = e % BS_BMU_LOG;
        if (k < max) to_event(m, &m->bmu_log.rec[q], m->bmu_log.origin[q], 1, &out[k]);
    }
    if (include_open)
        for (int i = 0; i < m->lat.w * m->lat.h; i++) {
            if (bs_bmu_phase(m, i) == 0) continue;
            if (k < max) to_event(m, bs_bmu_at(m, i), i, 0, &out[k]);
            k++;
        }
    return k;
}
