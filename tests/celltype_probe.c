/* celltype_probe.c — a cell type that exists only in a test binary
 * (test_celltype_extra): the proof that a new type is one file plus one
 * registry line. It is a made-up marrow cell, not biology: it enters at the
 * sinusoids, wanders, takes up O2, dies at a constant hazard and is
 * killed by radiotherapy by the linear-quadratic model. Everything the
 * program needs to know about it is the descriptor at the end of this
 * file; the parameter values are test values (no source). */
#include <math.h>

#include "celltypes.h"
#include "rng.h"
#include "rules.h"

static const bs_param_def probe_params[] = {
    { "probe.arrival_per_d", BS_PT_REAL, 0.5, 0.0, 100.0, "1/d",
            "Test type: entries per sinusoid site per day (test value)", NULL, NULL },
    { "probe.lifespan_d", BS_PT_REAL, 5.0, 0.1, 1000.0, "d", "Test type: mean life (test value)", NULL, NULL },
    { "probe.move_per_h", BS_PT_REAL, 0.5, 0.0, 1.0, "1/h",
            "Test type: chance per hour of a step to a free neighbour "
            "(test value)",
            NULL, NULL },
    { "probe.o2_uptake_per_h", BS_PT_REAL, 2000.0, 0.0, 1e6, "1/h",
            "Test type: O2 consumption, first order (test value)", NULL, NULL },
    { "probe.rt_alpha_per_Gy", BS_PT_REAL, 0.2, 0.0, 10.0, "1/Gy", "Test type: LQ alpha (test value)", NULL, NULL },
    { "probe.rt_alpha_beta_Gy", BS_PT_REAL, 5.0, 0.1, 1000.0, "Gy", "Test type: LQ alpha/beta (test value)", NULL,
            NULL },
};

/* the type's derived rules live in its own block (rules_bytes) */
typedef struct {
    float p_arrive, p_death, p_move, o2_uptake;
} probe_rules;

static probe_rules *rules_of(const bs_rules *r)
{
    return bs_type_rules(r, bs_celltype_find("probe"));
}

static void probe_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    (void)h_um;
    probe_rules *p = rules_of(r);
    p->p_arrive = bs_rate_to_prob(bs_param(ps, "probe.arrival_per_d") / 24.0, dt_h);
    p->p_death = bs_rate_to_prob(1.0 / (24.0 * bs_param(ps, "probe.lifespan_d")), dt_h);
    p->p_move = bs_rate_to_prob(bs_param(ps, "probe.move_per_h"), dt_h);
    p->o2_uptake = (float)bs_param(ps, "probe.o2_uptake_per_h");
}

static void probe_arrivals(bs_model *m)
{
    const probe_rules *p = rules_of(&m->r);
    int type = bs_celltype_find("probe"), w = m->lat.w;
    for (int k = 0; k < m->n_vessels; k++) {
        int v = m->vessels[k];
        uint64_t key = ((uint64_t)(type + 1) << 40) | (uint64_t)v;
        if (bs_rng_uniform(m->seed, BS_STREAM_USER, m->step, key, 0) >= p->p_arrive) continue;
        int d = (int)bs_rng_below(m->seed, BS_STREAM_USER, m->step, key, 1, 4);
        int x = v % w + bs_nb_dx[d], y = v / w + bs_nb_dy[d];
        if (x < 0 || y < 0 || x >= w || y >= m->lat.h) continue;
        int j = y * w + x;
        if (m->store.occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW)
            bs_store_spawn(&m->store, j, (uint8_t)type, 0, bs_store_child_id(key, m->step, 0));
    }
}

static void probe_act(bs_model *m, int slot, bs_step_totals *tot)
{
    (void)tot;
    const probe_rules *p = rules_of(&m->r);
    bs_store *s = &m->store;
    uint64_t id = s->id[slot];
    if (bs_draw_agent(m, id, 0) < p->p_death) {
        bs_store_kill_locked(s, slot);
        return;
    }
    if (bs_draw_agent(m, id, 1) >= p->p_move) return;
    int i = s->site[slot], w = m->lat.w, d = (int)bs_draw_agent_below(m, id, 2, 4);
    int x = i % w + bs_nb_dx[d], y = i / w + bs_nb_dy[d];
    if (x < 0 || y < 0 || x >= w || y >= m->lat.h) return;
    int j = y * w + x;
    if (s->occ[j] < 0 && m->lat.tissue[j] == BS_TISSUE_MARROW) bs_store_move(s, slot, j);
}

static void probe_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)slot;
    (void)site;
    acc->o2_uptake += rules_of(&m->r)->o2_uptake;
}

const bs_celltype bs_type_probe = {
    .name = "probe",
    .plural = "probe cells",
    .n_states = 1,
    .state_names = { "wandering" },
    .rgb = { { 0xFF, 0x00, 0xFF } }, /* magenta: no other type or tissue uses it */
    .shape = { BS_SHAPE_DIAMOND },
    .footprint_sites = 1,
    .params = probe_params,
    .n_params = sizeof probe_params / sizeof probe_params[0],
    .derive = probe_derive,
    .rules_bytes = sizeof(probe_rules),
    .act = probe_act,
    .arrivals = probe_arrivals,
    .sources = probe_sources,
    .radiation = { .model = BS_RT_LQ,
            .alpha_key = "probe.rt_alpha_per_Gy",
            .alpha_beta_key = "probe.rt_alpha_beta_Gy" },
    .n_observables = 1,
    .observables = { { "n_probe", "cells", BS_ALL_STATES } },
};
