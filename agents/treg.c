/* treg.c — regulatory T cells (CD4+CD25+FoxP3+ Tregs).
 *
 * Homing. Tregs reach the marrow through CXCR4 on CXCL12 (Zou 2004: the
 * bone marrow is a Treg reservoir held there by CXCL12/CXCR4; Xue 2024
 * section 3.2: active Tregs migrate to the marrow on CXCR4/CXCL12 and
 * accumulate in bone lesions). Every sinusoid site lets a Treg into a free
 * marrow neighbour at treg.recruit_per_d x CXCR4 occupancy of the CXCL12 at
 * that site (c (1 - CXCR4 block) / (c (1 - block) + treg.cxcl12_half_au)),
 * x (1 + treg.tumour_recruit_gain x occupancy of the tumour chemokine:
 * tumour CCL22/CCL5 recruit Tregs, Curiel 2004). Inside the marrow a Treg
 * walks up both gradients (weights exp(chemotaxis x change of CXCL12
 * occupancy + tumour_chemotaxis x change of chemokine occupancy)) and is
 * kept by CXCL12: it leaves the marrow at treg.egress_per_d x (1 - its
 * CXCL12 occupancy), so a CXCR4 antagonist (bs_rules.fx.cxcr4_block) both
 * lowers entry and lets resident Tregs go. Its walk ends next to a cycling
 * tumour cell, as an effector's does (bs_immune_walk_up stop_on_contact):
 * tumour-infiltrating Tregs recognise tumour antigen and make long
 * TCR-dependent contacts in the lesion (Bauer 2014 J Clin Invest), and
 * they accumulate in bone lesions (Xue 2024 3.2; Zhang 2019). Without the
 * stop the CXCL12 pull held them at the endosteum and they were no denser
 * at the lesion than elsewhere (docs/calibration.md, "Session 9, treg").
 * Tregs die at a constant hazard (treg.lifespan_d) and, when depleted (anti-CD25, or diphtheria toxin in
 * FoxP3-DTR mice), at treg.depletion_per_d more.
 *
 * Suppression of CD8 killing, two routes: (1) a Treg secretes IL-10,
 * TGF-beta and IL-35 (lumped into the immunosuppression field,
 * BS_FIELD_SUPPR, treg.suppr_per_h) that brakes CD8 and NK activation and
 * killing where it is (tcell.c, nkcell.c); (2) in contact it disarms an
 * activated CD8 T cell: Tregs reversibly suppress CTL cytolysis without
 * undoing their differentiation (Mempel 2006), so an activated CD8 cell on
 * one of the 8 neighbours returns to the non-activated state at
 * treg.cd8_disarm_per_h (it can be re-activated on antigen, tcell.c, and
 * expresses RANKL meanwhile, as the suppressed T cells of Arellano 2022).
 *
 * Bone. Tregs inhibit osteoclast differentiation and their depletion
 * lowers bone density (Zhao 2012 in prostate cancer, via Xue 2024 3.2).
 * Two routes. (1) Contact, the main one in co-culture: CTLA-4 on CD80/86
 * of the precursors (Zaiss 2007: dependent on cell contact, not on the
 * RANKL/OPG balance), which induces IDO and the precursors' apoptosis
 * (Bozec 2014). An osteoclast younger than treg.oc_precursor_age_h (still
 * differentiating) that the Treg touches dies at
 * treg.oc_contact_apoptosis_per_h. The osteoclast agent stands for a cell
 * oc.footprint_um wide on one site, so "touches" is a centre distance of at
 * most half that width plus half a site (the Treg): with 30 um and 10 um
 * sites the 12 sites within 2 sites, not the 8 neighbours of a point.
 * (2) Soluble IL-10 and TGF-beta1 (Luo
 * 2011: dose-dependent, reversed by blocking them): carried as an
 * anti-osteoclastogenic signal on the OPG field (treg.oc_inhibit_per_h au/h
 * of OPG-equivalent), which lowers the RANKL signal of precursors as OPG
 * does (spatial.c bs_rankl_signal), with OPG's long range: a stand-in for
 * the cytokines' effect, not a claim that Tregs make OPG. */
#include "immune.h"

static const bs_param_def treg_params[] = {
    { "treg.recruit_per_d", BS_PT_REAL, 0.0, 0.0, 1e3, "1/d",
            "Tregs entering per sinusoid site per day at saturating CXCL12 (CXCR4 occupancy 1). 0 (the default) = no "
            "Tregs in the model; tregs sets 0.02 (Tregs home to the marrow on CXCL12/CXCR4, Zou 2004 Cancer Res, "
            "M✓ qualitative; value A)",
            NULL, NULL },
    { "treg.cxcl12_half_au", BS_PT_REAL, 0.2, 1e-6, 1e6, "au",
            "CXCL12 level for half CXCR4 occupancy on a Treg (as dtc.cxcl12_half_au: one receptor, A)", NULL, NULL },
    { "treg.tumour_recruit_gain", BS_PT_REAL, 2.0, 0.0, 100.0, "1",
            "Extra Treg entry at saturating tumour chemokine: entry x (1 + gain x occupancy) (tumour CCL22 recruits "
            "Tregs, Curiel 2004 Nat Med, M✓ qualitative; value A)",
            NULL, NULL },
    { "treg.chemokine_half_au", BS_PT_REAL, 0.5, 1e-6, 1e6, "au",
            "Tumour chemokine level for half-maximal Treg receptor occupancy (as tcell.chemokine_half_au, A)", NULL,
            NULL },
    { "treg.lifespan_d", BS_PT_REAL, 7.0, 0.1, 365.0, "d",
            "Mean life of a Treg in the marrow (human Tregs turn over fast: doubling ~8 d, Vukmanovic-Stejic 2006 "
            "JCI, M~; value A)",
            NULL, NULL },
    { "treg.egress_per_d", BS_PT_REAL, 0.5, 0.0, 100.0, "1/d",
            "Rate at which a Treg leaves the marrow when its CXCR4 is not engaged, x (1 - CXCL12 occupancy): lower "
            "marrow CXCL12 sends Tregs into the blood (Zou 2004, M✓ qualitative; value A)",
            NULL, NULL },
    { "treg.speed_um_per_min", BS_PT_REAL, 6.0, 0.0, 100.0, "um/min",
            "Migration speed, as CD8 T cells (4-10 um/min in tissue, PhysiCell table, Mod✓); sub-moves per step, "
            "at most 10",
            NULL, NULL },
    { "treg.persistence", BS_PT_REAL, 0.5, 0.0, 1.0, "1",
            "Chance that a sub-move keeps the last direction (as tcell.persistence, A)", NULL, NULL },
    { "treg.chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Sensitivity to CXCL12: sub-move weights exp(chemotaxis x change in CXCR4 occupancy) (A)", NULL, NULL },
    { "treg.tumour_chemotaxis", BS_PT_REAL, 20.0, 0.0, 1000.0, "1",
            "Sensitivity to the tumour chemokine: weights x exp(this x change in its occupancy) (A)", NULL, NULL },
    { "treg.suppr_per_h", BS_PT_REAL, 20.0, 0.0, 1e4, "au/h",
            "IL-10/TGF-beta/IL-35 secreted by a Treg into the immunosuppression field, which brakes CD8 and NK "
            "killing (Xue 2024 3.2: Tregs attenuate CD8 activity, M✓ qualitative; value as mdsc.suppr_per_h: Tregs "
            "and MDSCs suppress T cells about equally per cell at 1:1 in vitro, A)",
            NULL, NULL },
    { "treg.cd8_disarm_per_h", BS_PT_REAL, 0.2, 0.0, 100.0, "1/h",
            "Hazard that an activated CD8 T cell next to a Treg returns to the non-activated state (Tregs reversibly "
            "suppress CTL cytolysis in the tumour within hours, Mempel 2006 Immunity, M✓ qualitative; value A)",
            NULL, NULL },
    { "treg.oc_contact_apoptosis_per_h", BS_PT_REAL, 0.1, 0.0, 100.0, "1/h",
            "Apoptosis hazard of a differentiating osteoclast next to a Treg (CTLA-4 on CD80/86 -> IDO -> precursor "
            "apoptosis; contact-dependent, Zaiss 2007 Arthritis Rheum, Bozec 2014 Sci Transl Med, M✓ qualitative; "
            "Tregs cut pit formation up to 80% in co-culture, Zaiss 2007; value A)",
            NULL, NULL },
    { "treg.oc_precursor_age_h", BS_PT_REAL, 48.0, 0.0, 1e4, "h",
            "Osteoclasts younger than this are still differentiating and sensitive to Treg contact (mature "
            "osteoclasts are not; fusion and maturation take 2-3 d in culture, A)",
            NULL, NULL },
    { "treg.oc_inhibit_per_h", BS_PT_REAL, 0.2, 0.0, 1e3, "au/h",
            "Soluble anti-osteoclastogenic signal of a Treg (IL-10, TGF-beta1: Luo 2011 Cell Mol Immunol, dose-"
            "dependent, M✓ qualitative) as OPG-equivalent au/h on the OPG field; 0.2 = what one lining site makes "
            "(bmu.lining_opg_per_h), A",
            NULL, NULL },
    { "treg.oc_formation_cut", BS_PT_REAL, 0.8, 0.0, 1.0, "1",
            "Largest fraction of osteoclast formation a surface site loses to the Tregs of its cytokine niche "
            "(IL-10, TGF-beta1 and CTLA-4 on the precursors gathering there: Tregs cut osteoclast formation dose-"
            "dependently and pit formation by up to 80%, Zaiss 2007 Arthritis Rheum; Luo 2011 Cell Mol Immunol, "
            "M~). 0 = no formation brake",
            NULL, NULL },
    { "treg.oc_niche_um", BS_PT_REAL, 50.0, 0.0, 150.0, "um",
            "Reach of a Treg's brake on osteoclast formation: Tregs within this distance of a forming site count "
            "(cytokine niches of single secreting cells span ~30-100 um in lymphoid tissue, Oyler-Yaniv 2017 "
            "Immunity, M~; the osteoclast precursors meet the Treg there before they fuse, A). At most 150 um "
            "(the tile reach)",
            NULL, NULL },
    { "treg.oc_niche_half_n", BS_PT_REAL, 1.0, 0.01, 100.0, "cells",
            "Tregs in that niche for half the largest cut: formation x (1 - cut x n / (n + this)) (one Treg already "
            "acts on the precursors around it, A)",
            NULL, NULL },
    { "treg.depletion_per_d", BS_PT_REAL, 0.0, 0.0, 100.0, "1/d",
            "Extra death of Tregs under depletion (anti-CD25 or diphtheria toxin in FoxP3-DTR mice remove >90% of "
            "Tregs within 1-2 d and keep them down, Kim 2007 Nat Immunol, M~). 0 (the default) = no depletion; the "
            "B25 experiments use 4/d, which holds the marrow pool >90% below the untreated one against the influx "
            "(x0.06-0.09 on seeds 500-509; 2/d left x0.15, docs/calibration.md)",
            NULL, NULL },
    { "treg.rt_D0_Gy", BS_PT_REAL, 1.1, 0.01, 100.0, "Gy",
            "Tregs: S = exp(-D/D0), a lymphocyte without shoulder but less sensitive than CD8 cells (Tregs are "
            "relatively radioresistant, Qu 2010 J Immunol, M~; 2 x rt.cd8_D0_Gy, A)",
            NULL, NULL },
};

typedef struct {
    int type; /* this type's id in the registry */
    bs_immune_motility mo; /* recruit_h at saturating CXCL12, moves, persistence, p_death */
    float cxcl12_K, tumour_gain, tumour_chemotaxis;
    float egress_h, depletion_h, dt_h;
    float suppr, oc_inhibit, disarm_h, oc_apoptosis_h, oc_precursor_age_h;
    float oc_form_cut, oc_niche_half_n;
    int oc_niche; /* sites: radius of the disc counted for the formation brake */
    int oc_reach; /* sites: the square searched for osteoclasts in contact */
    float oc_touch2; /* squared centre distance of contact, in sites^2 */
} treg_rules;

static treg_rules *rules_of(const bs_rules *r)
{
    /* its own block (rules_bytes), reached without a call into the registry
     * (celltypes.c lists this file: a call back would close a circle) */
    return r->own[BS_CELL_TREG];
}

static void treg_derive(const bs_paramset *ps, bs_rules *r, double dt_h, double h_um)
{
    treg_rules *p = rules_of(r);
    p->type = BS_CELL_TREG;
    /* recruit_per_d, chemokine_half_au, chemotaxis (on CXCL12),
     * persistence, speed, lifespan */
    bs_immune_motility_derive(ps, "treg", &p->mo, dt_h, h_um);
    p->cxcl12_K = (float)bs_param(ps, "treg.cxcl12_half_au");
    p->tumour_gain = (float)bs_param(ps, "treg.tumour_recruit_gain");
    p->tumour_chemotaxis = (float)bs_param(ps, "treg.tumour_chemotaxis");
    p->egress_h = (float)(bs_param(ps, "treg.egress_per_d") / 24.0);
    p->depletion_h = (float)(bs_param(ps, "treg.depletion_per_d") / 24.0);
    p->suppr = (float)bs_param(ps, "treg.suppr_per_h");
    p->oc_inhibit = (float)bs_param(ps, "treg.oc_inhibit_per_h");
    p->disarm_h = (float)bs_param(ps, "treg.cd8_disarm_per_h");
    p->oc_apoptosis_h = (float)bs_param(ps, "treg.oc_contact_apoptosis_per_h");
    p->oc_precursor_age_h = (float)bs_param(ps, "treg.oc_precursor_age_h");
    p->oc_form_cut = (float)bs_param(ps, "treg.oc_formation_cut");
    p->oc_niche_half_n = (float)bs_param(ps, "treg.oc_niche_half_n");
    p->oc_niche = (int)floor(bs_param(ps, "treg.oc_niche_um") / h_um);
    /* the forming site is on a tile; what it counts stays within the tile reach */
    if (p->oc_niche > BS_TILE_REACH) p->oc_niche = BS_TILE_REACH;
    /* contact with an osteoclast: its half width plus the Treg's half site */
    double touch = 0.5 * bs_param(ps, "oc.footprint_um") / h_um + 0.5;
    p->oc_touch2 = (float)(touch * touch);
    p->oc_reach = (int)floor(touch);
    if (p->oc_reach < 1) p->oc_reach = 1;
    /* a walked Treg plus what it touches stays within the tile reach */
    if (p->oc_reach > BS_IMMUNE_MAX_RADIUS) p->oc_reach = BS_IMMUNE_MAX_RADIUS;
    p->dt_h = (float)dt_h;
}

/* The Tregs' brake on osteoclast formation at surface site i: the Tregs
 * within the disc of radius oc_niche sites are counted (n), and formation
 * is multiplied by 1 - cut x n / (n + half_n); exactly 1 with no Treg
 * there (or none alive). Reads the store only. */
float bs_treg_oc_formation_factor(const bs_model *m, int i)
{
    const treg_rules *p = rules_of(&m->r);
    if (!(p->oc_form_cut > 0.0f) || !bs_store_may_hold(&m->store, BS_CELL_TREG)) return 1.0f;
    const bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    const int R = p->oc_niche, x = i % lat->w, y = i / lat->w;
    int n = 0;
    for (int yy = y - R; yy <= y + R; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - R; xx <= x + R; xx++) {
            if (xx < 0 || xx >= lat->w || (xx - x) * (xx - x) + (yy - y) * (yy - y) > R * R) continue;
            int sl = s->occ[yy * lat->w + xx];
            n += sl >= 0 && s->type[sl] == BS_CELL_TREG;
        }
    }
    if (n == 0) return 1.0f;
    return 1.0f - p->oc_form_cut * (float)n / ((float)n + p->oc_niche_half_n);
}

/* CXCR4 occupancy of a Treg at site i (the antagonist blocks sensing) */
static float cxcr4_occupancy(const bs_model *m, const treg_rules *p, int i)
{
    float c = m->fields[BS_FIELD_CXCL12].c[i] * (1.0f - m->r.fx.cxcr4_block);
    return bs_immune_occupancy(c, p->cxcl12_K);
}

/* Entry at vessel site v: CXCR4 occupancy x (1 + tumour chemokine gain) */
static float treg_entry_rate(const bs_model *m, const void *ctx, int v)
{
    const treg_rules *p = ctx;
    float occ = cxcr4_occupancy(m, p, v);
    if (occ <= 0.0f) return 0.0f;
    return p->mo.recruit_h * occ *
            (1.0f + p->tumour_gain * bs_immune_occupancy(m->fields[BS_FIELD_CHEMOKINE].c[v], p->mo.chemokine_K));
}

static void treg_arrivals(bs_model *m)
{
    const treg_rules *p = rules_of(&m->r);
    if (p->mo.recruit_h <= 0.0f) return;
    bs_immune_entry e = { .type = (uint8_t)p->type, .id_salt = 0x7472656700000000ULL };
    bs_immune_arrive(m, &e, treg_entry_rate, p);
}

/* A persistent random walk up CXCL12 (as the Treg's CXCR4 senses it) and
 * the tumour chemokine (bs_immune_walk_up: draws 16 + 2k, 17 + 2k of
 * sub-move k), ending next to a cycling tumour cell. */
static void treg_walk(bs_model *m, int slot, const treg_rules *p)
{
    bs_immune_gradient g = { .n = 2,
        .c = { m->fields[BS_FIELD_CXCL12].c, m->fields[BS_FIELD_CHEMOKINE].c },
        .scale = { 1.0f - m->r.fx.cxcr4_block, 1.0f },
        .K = { p->cxcl12_K, p->mo.chemokine_K },
        .gain = { p->mo.chemotaxis, p->tumour_chemotaxis } };
    bs_immune_walk_up(m, slot, &p->mo, &g, 1); /* arrests on tumour antigen */
}

/* Contact (keyed by the Treg; draws 0-2 are death, depletion and egress,
 * 16-35 the walk): an activated CD8 T cell on one of the 8 neighbours of
 * the Treg (draw 8 + direction) returns to the non-activated state with
 * chance 1 - exp(-cd8_disarm_per_h dt); a differentiating osteoclast
 * (younger than oc_precursor_age_h) within the contact distance of the
 * Treg (offset (dx, dy) of the square of half side oc_reach: draw 40 +
 * its index in that square) dies with chance 1 - exp(-oc_contact_
 * apoptosis_per_h dt). A site holds one cell, so each draw is used once.
 * The square's half side is at most BS_IMMUNE_MAX_RADIUS, so a walked
 * Treg and what it touches stay within BS_TILE_REACH of its tile. */
static void contact(bs_model *m, int slot, const treg_rules *p)
{
    bs_store *s = &m->store;
    int i = s->site[slot], w = m->lat.w, x = i % w, y = i / w;
    if (p->disarm_h > 0.0f) {
        float p_disarm = 1.0f - expf(-p->disarm_h * p->dt_h);
        for (int d = 0; d < 8; d++) {
            int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
            if (nx < 0 || ny < 0 || nx >= w || ny >= m->lat.h) continue;
            int o = s->occ[ny * w + nx];
            if (o < 0 || s->type[o] != BS_CELL_TCELL || s->state[o] != BS_TCELL_ACTIVE) continue;
            if (bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, s->id[slot], 8 + (uint32_t)d) < p_disarm)
                s->state[o] = BS_TCELL_NAIVE;
        }
    }
    if (p->oc_apoptosis_h <= 0.0f || !bs_store_may_hold(s, BS_CELL_OSTEOCLAST)) return;
    float p_oc = 1.0f - expf(-p->oc_apoptosis_h * p->dt_h);
    int R = p->oc_reach, side = 2 * R + 1;
    for (int dy = -R; dy <= R; dy++) {
        for (int dx = -R; dx <= R; dx++) {
            if ((dx == 0 && dy == 0) || (float)(dx * dx + dy * dy) > p->oc_touch2) continue;
            int nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= w || ny >= m->lat.h) continue;
            int o = s->occ[ny * w + nx];
            if (o < 0 || s->type[o] != BS_CELL_OSTEOCLAST || s->age_h[o] >= p->oc_precursor_age_h) continue;
            uint32_t draw = 40u + (uint32_t)((dy + R) * side + (dx + R));
            if (bs_rng_uniform(m->seed, BS_STREAM_AGENT, m->step, s->id[slot], draw) < p_oc) bs_store_kill_locked(s, o);
        }
    }
}

static void treg_act(bs_model *m, int slot, bs_step_totals *tot)
{
    (void)tot;
    const treg_rules *p = rules_of(&m->r);
    if (bs_immune_age_or_die(m, slot, p->mo.p_death, p->dt_h)) return;
    uint64_t id = m->store.id[slot];
    /* depletion (draw 1); egress into the blood where CXCR4 holds the cell
     * less (draw 2) */
    if (bs_immune_hazard(m, id, 1, p->depletion_h, p->dt_h) ||
            bs_immune_hazard(m, id, 2, p->egress_h * (1.0f - cxcr4_occupancy(m, p, m->store.site[slot])), p->dt_h)) {
        bs_store_kill_locked(&m->store, slot);
        return;
    }
    treg_walk(m, slot, p);
    contact(m, slot, p);
}

/* IL-10/TGF-beta/IL-35 into the suppression field; the
 * anti-osteoclastogenic signal as OPG-equivalent */
static void treg_sources(const bs_model *m, int slot, int site, bs_site_sources *acc)
{
    (void)slot;
    (void)site;
    const treg_rules *p = rules_of(&m->r);
    acc->suppr += p->suppr;
    acc->opg += p->oc_inhibit;
}

const bs_celltype bs_type_treg = {
    .name = "treg",
    .plural = "regulatory T cells",
    .n_states = 1,
    .state_names = { "suppressive" },
    .rgb = { { 0x00, 0x9E, 0x73 } }, /* bluish green as the CD8 cells (a T cell), drawn as a diamond */
    .shape = { BS_SHAPE_DIAMOND },
    .footprint_sites = 1,
    .params = treg_params,
    .n_params = sizeof treg_params / sizeof treg_params[0],
    .derive = treg_derive,
    .rules_bytes = sizeof(treg_rules),
    .act = treg_act,
    .arrivals = treg_arrivals,
    .sources = treg_sources,
    .radiation = { .model = BS_RT_D0, .d0_key = "treg.rt_D0_Gy" },
    .n_observables = 1,
    .observables = { { "n_tregs", "cells", BS_ALL_STATES } },
};
