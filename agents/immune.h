/* immune.h — what CD8 T cells (tcell.c), NK cells (nkcell.c) and MDSCs
 * (mdsc.c) share: entry from the sinusoids and movement. Internal to
 * agents/.
 *
 * Entry. Proliferating tumour cells secrete a lumped chemokine
 * (BS_FIELD_CHEMOKINE: CXCL9/10, CCL2/5, ...); every sinusoid site lets
 * immune cells of a type into a free marrow neighbour at a rate
 * recruit_h x (basal + (1 - basal) x occupancy), occupancy = c / (c +
 * chemokine_K) of the chemokine at that site. Influx therefore rises with
 * tumour burden (more tumour, more sinusoids in its chemokine halo) and
 * lands near the tumour. `basal` is the homeostatic entry without any
 * chemokine, as a share of the saturated rate: CD8 T cells
 * (tcell.basal_entry_fraction) patrol an antigen-free marrow and come back
 * after radiotherapy; NK cells and MDSCs (basal 0) come only with a tumour.
 *
 * Movement. A cell moves several sites per step (docs/design.md; T cells about
 * 10 um/min against a 1 h step): up to `moves` sub-moves of one 8-neighbour
 * site each, onto free marrow sites only (no pushing). Each sub-move keeps
 * the last direction with chance `persistence`, otherwise picks a free
 * neighbour with weight exp(chemotaxis x (occupancy there - occupancy
 * here)): a persistent random walk up the chemokine gradient. Sub-moves are
 * capped at BS_IMMUNE_MAX_MOVES so that a cell plus what it senses after
 * moving (contacts, MDSCs within mdsc.suppress_radius_um <= 5 sites) stays
 * within BS_TILE_REACH of its tile; the speed parameters say how many of
 * them a cell uses.
 *
 * Random draws of the immune rules (BS_STREAM_AGENT, keyed by agent id):
 * 0 death, 1-7 the cell's own rule, 16 + 2k and 17 + 2k the k-th sub-move. */
#ifndef BS_IMMUNE_H
#define BS_IMMUNE_H

#include <math.h>
#include <stdio.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

#define BS_IMMUNE_MAX_MOVES 10
/* Largest MDSC suppression radius the tile reach allows after a walk. */
#define BS_IMMUNE_MAX_RADIUS (BS_TILE_REACH - BS_IMMUNE_MAX_MOVES)


static inline float bs_immune_occupancy(float c, float K)
{
    return c > 0.0f ? c / (c + K) : 0.0f;
}

/* Fills the derived motility of one type from its registry section
 * ("tcell", "nk", "mdsc"): <sec>.recruit_per_d, chemokine_half_au,
 * chemotaxis, persistence, speed_um_per_min, lifespan_d. */
static inline void bs_immune_motility_derive(
        const bs_paramset *ps, const char *sec, bs_immune_motility *mo, double dt_h, double h_um)
{
    char k[64];
    snprintf(k, sizeof k, "%s.recruit_per_d", sec);
    mo->recruit_h = (float)(bs_param(ps, k) / 24.0);
    snprintf(k, sizeof k, "%s.chemokine_half_au", sec);
    mo->chemokine_K = (float)bs_param(ps, k);
    snprintf(k, sizeof k, "%s.chemotaxis", sec);
    mo->chemotaxis = (float)bs_param(ps, k);
    snprintf(k, sizeof k, "%s.persistence", sec);
    mo->persistence = (float)bs_param(ps, k);
    snprintf(k, sizeof k, "%s.speed_um_per_min", sec);
    double moves = bs_param(ps, k) * 60.0 * dt_h / h_um;
    mo->moves = moves >= BS_IMMUNE_MAX_MOVES ? BS_IMMUNE_MAX_MOVES : (int)lround(moves);
    snprintf(k, sizeof k, "%s.lifespan_d", sec);
    mo->p_death = bs_rate_to_prob(1.0 / (24.0 * bs_param(ps, k)), dt_h);
    mo->basal = 0.0f; /* a type with homeostatic entry sets it after (tcell.c) */
}

/* A free marrow site on one of the 8 neighbours of vessel site v for a
 * cell entering there (arrival draw 1 of `key`), or -1 if there is none. */
static inline int bs_immune_entry_site(const bs_model *m, int v, uint64_t key)
{
    int w = m->lat.w, h = m->lat.h, x = v % w, y = v / w, cand[8], n = 0;
    for (int d = 0; d < 8; d++) {
        int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        int j = ny * w + nx;
        if (m->store.occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW) cand[n++] = j;
    }
    if (n == 0) return -1;
    return cand[bs_rng_below(m->seed, BS_STREAM_ARRIVAL, m->step, key, 1, (uint32_t)n)];
}

/* How one type enters: in `state`, or in `alt_state` with chance alt_frac
 * (arrival draw 2); new ids from bs_store_child_id(key ^ id_salt, step,
 * id_index), key = (type + 1) << 40 | vessel site. */
typedef struct {
    uint8_t type, state, alt_state;
    float alt_frac;
    uint64_t id_salt;
    uint32_t id_index;
} bs_immune_entry;

/* Entry per hour at vessel site v (0: none there). */
typedef float (*bs_immune_entry_rate)(const bs_model *m, const void *ctx, int v);

/* Entry of one cell type at every sinusoid site (serial phase): a cell
 * enters at vessel v with chance 1 - exp(-rate(v) dt) (arrival draw 0). */
static inline void bs_immune_arrive(bs_model *m, const bs_immune_entry *e, bs_immune_entry_rate rate_h, const void *ctx)
{
    const float dt = (float)m->dt_h;
    for (int k = 0; k < m->n_vessels; k++) {
        int v = m->vessels[k];
        float rate = rate_h(m, ctx, v);
        if (rate <= 0.0f) continue;
        uint64_t key = ((uint64_t)(e->type + 1) << 40) | (uint64_t)v;
        if (bs_rng_uniform(m->seed, BS_STREAM_ARRIVAL, m->step, key, 0) >= 1.0f - expf(-rate * dt)) continue;
        int j = bs_immune_entry_site(m, v, key);
        if (j < 0) continue;
        uint8_t st = e->state;
        if (e->alt_frac > 0.0f && bs_rng_uniform(m->seed, BS_STREAM_ARRIVAL, m->step, key, 2) < e->alt_frac)
            st = e->alt_state;
        bs_store_spawn(&m->store, j, e->type, st, bs_store_child_id(key ^ e->id_salt, m->step, e->id_index));
    }
}

/* The chemokine-driven entry of the header comment */
static inline float bs_immune_chemokine_entry_rate(const bs_model *m, const void *ctx, int v)
{
    const bs_immune_motility *mo = ctx;
    float occ =
            mo->basal + (1.0f - mo->basal) * bs_immune_occupancy(m->fields[BS_FIELD_CHEMOKINE].c[v], mo->chemokine_K);
    return occ > 0.0f ? mo->recruit_h * occ : 0.0f;
}

/* Entry of one immune cell type at every sinusoid site (serial phase) at
 * rate_h(m, ctx, v): in `state`, or in `alt_state` with chance alt_frac;
 * nothing when mo->recruit_h is 0. */
static inline void bs_immune_recruit_at(bs_model *m, const bs_immune_motility *mo, uint8_t type, uint8_t state,
        float alt_frac, uint8_t alt_state, bs_immune_entry_rate rate_h, const void *ctx)
{
    if (mo->recruit_h <= 0.0f) return;
    bs_immune_entry e = { .type = type,
        .state = state,
        .alt_state = alt_state,
        .alt_frac = alt_frac,
        .id_salt = 0x696d6d756e650000ULL,
        .id_index = type };
    bs_immune_arrive(m, &e, rate_h, ctx);
}

/* The same at the chemokine-driven rate of the header comment */
static inline void bs_immune_recruit(
        bs_model *m, const bs_immune_motility *mo, uint8_t type, uint8_t state, float alt_frac, uint8_t alt_state)
{
    bs_immune_recruit_at(m, mo, type, state, alt_frac, alt_state, bs_immune_chemokine_entry_rate, mo);
}

/* Is a tumour cell on one of the 8 neighbours of site i? With
 * cycling_only, dormant cells (low antigen) do not count. */
static inline int bs_immune_touches_dtc(const bs_model *m, int i, int cycling_only)
{
    int w = m->lat.w, x = i % w, y = i / w;
    for (int d = 0; d < 8; d++) {
        int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
        if (nx < 0 || ny < 0 || nx >= w || ny >= m->lat.h) continue;
        int s = m->store.occ[ny * w + nx];
        if (s >= 0 && m->store.type[s] == BS_CELL_DTC && (!cycling_only || m->store.state[s] != BS_DTC_DORMANT))
            return 1;
    }
    return 0;
}

/* The tumour cell a killer at the slot's site engages: among its 8
 * neighbours, those with the most antigen (cycling or homing 1, dormant
 * dormant_antigen), recognised with that chance (draw 1), one picked at
 * random (draw 2). Returns its site, or -1. */
static inline int bs_immune_engage(const bs_model *m, int slot, float dormant_antigen)
{
    const bs_store *s = &m->store;
    int i = s->site[slot], w = m->lat.w, x = i % w, y = i / w, cand[8], n = 0;
    float best = 0.0f;
    for (int d = 0; d < 8; d++) {
        int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
        if (nx < 0 || ny < 0 || nx >= w || ny >= m->lat.h) continue;
        int j = ny * w + nx, o = s->occ[j];
        if (o < 0 || s->type[o] != BS_CELL_DTC) continue;
        float a = s->state[o] == BS_DTC_DORMANT ? dormant_antigen : 1.0f;
        if (a > best) {
            best = a;
            n = 0;
        }
        if (a == best && a > 0.0f) cand[n++] = j;
    }
    if (n == 0) return -1;
    uint64_t id = s->id[slot];
    if (best < 1.0f && bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, id, 1) >= best) return -1;
    return n == 1 ? cand[0] : cand[bs_rng_below(m->seed, BS_STREAM_AGENT, m->step, id, 2, (uint32_t)n)];
}

/* What a walker climbs: n (1 or 2) fields, each sensed as the receptor
 * occupancy of c x scale (scale < 1: a receptor antagonist) with half
 * occupancy at K; a sub-move's weight is exp(sum of gain x (occupancy there -
 * occupancy here)). */
typedef struct {
    int n;
    const float *c[2];
    float scale[2], K[2], gain[2];
} bs_immune_gradient;

static inline float bs_immune_sense(const bs_immune_gradient *g, int k, int i)
{
    return bs_immune_occupancy(g->c[k][i] * g->scale[k], g->K[k]);
}

/* Up to mo->moves sub-moves up the gradient g (see the header comment);
 * with stop_on_contact the walk ends next to a cycling tumour cell
 * (effector cells arrest on antigen, Boissonnas 2007). Returns the number
 * of moves made. */
static inline int bs_immune_walk_up(
        bs_model *m, int slot, const bs_immune_motility *mo, const bs_immune_gradient *g, int stop_on_contact)
{
    bs_store *s = &m->store;
    int w = m->lat.w, h = m->lat.h, dir = -1, moved = 0;
    uint64_t id = s->id[slot];
    for (int k = 0; k < mo->moves; k++) {
        int i = s->site[slot], x = i % w, y = i / w, to = -1, to_dir = -1;
        if (dir >= 0 && bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, id, 16 + 2 * (uint32_t)k) < mo->persistence) {
            int nx = x + bs_nb_dx[dir], ny = y + bs_nb_dy[dir];
            if (nx >= 0 && ny >= 0 && nx < w && ny < h) {
                int j = ny * w + nx;
                if (s->occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW) {
                    to = j;
                    to_dir = dir;
                }
            }
        }
        if (to < 0) {
            float wt[8], total = 0.0f, here[2] = { 0.0f, 0.0f };
            for (int f = 0; f < g->n; f++) here[f] = bs_immune_sense(g, f, i);
            int cand[8], cdir[8], n = 0;
            for (int d = 0; d < 8; d++) {
                int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                int j = ny * w + nx;
                if (s->occ[j] >= 0 || m->lat.tissue[j] != BS_TISSUE_MARROW) continue;
                float e = 0.0f;
                for (int f = 0; f < g->n; f++) e += g->gain[f] * (bs_immune_sense(g, f, j) - here[f]);
                e = e > 20.0f ? 20.0f : (e < -20.0f ? -20.0f : e);
                wt[n] = expf(e);
                total += wt[n];
                cdir[n] = d;
                cand[n++] = j;
            }
            if (n == 0) break; /* boxed in */
            float u = bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, id, 17 + 2 * (uint32_t)k) * total;
            int pick = n - 1;
            for (int q = 0; q < n; q++) {
                if (u < wt[q]) {
                    pick = q;
                    break;
                }
                u -= wt[q];
            }
            to = cand[pick];
            to_dir = cdir[pick];
        }
        bs_store_move(s, slot, to);
        dir = to_dir;
        moved++;
        if (stop_on_contact && bs_immune_touches_dtc(m, to, 1)) break;
    }
    return moved;
}

/* The walk up the tumour chemokine alone (CD8, NK, MDSC, macrophages) */
static inline int bs_immune_walk(bs_model *m, int slot, const bs_immune_motility *mo, int stop_on_contact)
{
    bs_immune_gradient g = { .n = 1,
        .c = { m->fields[BS_FIELD_CHEMOKINE].c, NULL },
        .scale = { 1.0f, 0.0f },
        .K = { mo->chemokine_K, 1.0f },
        .gain = { mo->chemotaxis, 0.0f } };
    return bs_immune_walk_up(m, slot, mo, &g, stop_on_contact);
}

/* The per-step boilerplate of an immune cell's rule: it ages by dt_h and
 * dies at p_death (agent draw 0). Returns 1 if it died. */
static inline int bs_immune_age_or_die(bs_model *m, int slot, float p_death, float dt_h)
{
    bs_store *s = &m->store;
    s->age_h[slot] += dt_h;
    if (bs_draw_agent(m, s->id[slot], 0) < p_death) {
        bs_store_kill_locked(s, slot);
        return 1;
    }
    return 0;
}

/* A constant hazard rate_h (1/h) over dt_h: does it strike this step
 * (agent draw `draw`)? Never when the rate is 0 (the draw is not made). */
static inline int bs_immune_hazard(const bs_model *m, uint64_t id, uint32_t draw, float rate_h, float dt_h)
{
    return rate_h > 0.0f && bs_draw_agent(m, id, draw) < 1.0f - expf(-rate_h * dt_h);
}

/* Hypoxia-driven immunosuppression at site i: the factor on the
 * suppression secreted by tumour cells and MDSCs there, 1 + gain x (1 -
 * Hill(pO2)) (HIF-1a: adenosine via CD39/CD73, TGF-beta, MDSC activity;
 * re-oxygenation lowers it, suppr.hypoxia_* in mdsc.c). */
static inline float bs_immune_hypoxic_suppr(const bs_model *m, int i)
{
    const bs_immune_rules *im = &m->r.immune;
    return 1.0f +
            im->suppr_hyp_gain * (1.0f - bs_o2_hill(m->fields[BS_FIELD_O2].c[i], im->suppr_hyp_mmHg, im->suppr_hyp_n));
}

/* Brake on killing by the suppression field and TGF-beta at site i:
 * 1 / (1 + S / suppr_K + T / tgfb_K). */
static inline float bs_immune_field_brake(const bs_model *m, int i, float suppr_K, float tgfb_K)
{
    float sp = m->fields[BS_FIELD_SUPPR].c[i], tg = m->fields[BS_FIELD_TGFB].c[i];
    sp = sp > 0.0f ? sp : 0.0f;
    tg = tg > 0.0f ? tg : 0.0f;
    return 1.0f / (1.0f + sp / suppr_K + tg / tgfb_K);
}

#endif
