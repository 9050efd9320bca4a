/* Unit tests of each immune rule (agents/tcell.c, nkcell.c, mdsc.c,
 * immune.h), on a flat slab with spontaneous BMU activation off, calling
 * the rules directly. Binomial counts are checked within about 3 sd of
 * their expectation. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"

static bs_model *flat_model(const char *const *extra)
{
    static const char *const defaults[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", "tcell.lifespan_d=365",
        "tcell.kill_rate_per_h_contact=0.4", /* the hazard the expectations below are written for */
        "nk.lifespan_d=365", "mdsc.lifespan_d=365", "tcell.kills_to_exhaustion=1000", "nk.kills_to_exhaustion=1000",
        NULL };
    return bs_flat_model(defaults, extra);
}

static void fill_field(bs_model *m, int f, float v)
{
    for (int i = 0; i < W * H; i++) m->fields[f].c[i] = v;
}

/* Killer/target pairs in the marrow: a killer at (x, 5) above a tumour cell
 * at (x, 6), every 3 columns, so each killer touches only its own target.
 * Each step a killed target is replaced and every killer acts once.
 * Returns the kills (also checked against the step totals). */
#define NPAIRS 13
static int pair_x(int k)
{
    return 1 + 3 * k;
}

static void place_pairs(bs_model *m, uint8_t type, uint8_t state)
{
    for (int k = 0; k < NPAIRS; k++)
        assert_true(bs_store_spawn(&m->store, site(pair_x(k), 5), type, state, 100 + (uint64_t)k) >= 0);
}

static long run_pairs(bs_model *m, uint8_t dtc_state, int steps)
{
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    uint64_t next_id = 10000;
    for (int h = 0; h < steps; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < NPAIRS; k++)
            if (m->store.occ[site(pair_x(k), 6)] < 0)
                bs_store_spawn(&m->store, site(pair_x(k), 6), BS_CELL_DTC, dtc_state, next_id++);
        for (int k = 0; k < NPAIRS; k++) {
            int slot = m->store.occ[site(pair_x(k), 5)];
            if (slot < 0) continue;
            switch (m->store.type[slot]) {
            case BS_CELL_TCELL: bs_tcell_act(m, slot, &tot); break;
            case BS_CELL_NK: bs_nk_act(m, slot, &tot); break;
            default: fail_msg("unexpected cell type %d", m->store.type[slot]);
            }
        }
    }
    return (long)(tot.kills_tcell + tot.kills_nk);
}

/* The hypoxic brake on NK and CD8 killing and activation (nkcell.c,
 * tcell.c): x(0.4 + 0.6 Hill(pO2; 10 mmHg, n = 3)), the defaults. */
static double o2f(double p)
{
    double a = pow(p / 10.0, 3.0);
    return 0.4 + 0.6 * a / (1.0 + a);
}

static void assert_near(long n, double expect, double tol_frac)
{
    print_message("  %ld (expected %.0f)\n", n, expect);
    assert_true(fabs((double)n - expect) <= tol_frac * expect);
}

/* Contact kill: an activated CTL on a cycling tumour cell kills at
 * 0.4/h x PD-L1 0.4 (p = 0.148 per step); without PD-L1 at 0.4/h
 * (p = 0.330); anti-PD-1 (pd1_block = 1) lifts the brake exactly.
 * 13 pairs x 100 steps: sd ~13 and ~17. */
static void test_contact_kill_with_and_without_pdl1(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    double f = o2f((double)m->fields[BS_FIELD_O2].c[site(pair_x(0), 5)]); /* the field's start value */
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long with = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    assert_near(with, 1300 * (1.0 - exp(-0.16 * f)), 0.25);
    done(m);
    const char *nopdl1[] = { "tcell.pdl1_kill_factor=1", NULL };
    m = flat_model(nopdl1);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long without = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    assert_near(without, 1300 * (1.0 - exp(-0.4 * f)), 0.2);
    done(m);
    m = flat_model(NULL);
    m->r.fx.pd1_block = 1.0f;
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long blocked = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    assert_int_equal(blocked, without); /* same draws, same hazard */
    done(m);
    /* every kill is counted on the killer */
    m = flat_model(NULL);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long n = run_pairs(m, BS_DTC_PROLIFERATING, 30);
    float aux = 0.0f;
    for (int k = 0; k < NPAIRS; k++) aux += m->store.aux[m->store.occ[site(pair_x(k), 5)]];
    assert_true((long)aux == n && n > 0);
    done(m);
}

/* Non-activated cells do not kill; they become activated on contact
 * (0.5/h: within 24 h all but ~0). Exhausted cells neither kill nor
 * engage. */
static void test_activation_then_killing_and_exhaustion(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_NAIVE);
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    for (int k = 0; k < NPAIRS; k++)
        bs_store_spawn(&m->store, site(pair_x(k), 6), BS_CELL_DTC, BS_DTC_PROLIFERATING, 500 + (uint64_t)k);
    m->step = 0;
    for (int k = 0; k < NPAIRS; k++) bs_tcell_act(m, m->store.occ[site(pair_x(k), 5)], &tot);
    assert_int_equal(tot.kills_tcell, 0); /* non-activated: no kill in the step it activates */
    long n = run_pairs(m, BS_DTC_PROLIFERATING, 24);
    assert_true(n > 0);
    int active = 0;
    for (int k = 0; k < NPAIRS; k++) active += m->store.state[m->store.occ[site(pair_x(k), 5)]] == BS_TCELL_ACTIVE;
    assert_int_equal(active, NPAIRS);
    done(m);
    /* exhaustion after tcell.kills_to_exhaustion kills */
    const char *two[] = { "tcell.kills_to_exhaustion=2", "tcell.pdl1_kill_factor=1", NULL };
    m = flat_model(two);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    n = run_pairs(m, BS_DTC_PROLIFERATING, 200);
    assert_int_equal(n, 2 * NPAIRS);
    int exhausted = 0; /* exhausted cells walk off: find them anywhere */
    for (int i = 0; i < W * H; i++) {
        int s = m->store.occ[i];
        if (s >= 0 && m->store.type[s] == BS_CELL_TCELL) {
            assert_int_equal(m->store.state[s], BS_TCELL_EXHAUSTED);
            assert_true(m->store.aux[s] == 2.0f);
            exhausted++;
        }
    }
    assert_int_equal(exhausted, NPAIRS);
    done(m);
}

/* Dormant tumour cells are recognised with chance 0.2: kills x0.2 (the
 * killers are held in place: an unrecognised target does not stop them). */
static void test_dormant_cells_are_harder_to_see(void **state)
{
    (void)state;
    const char *nopdl1[] = { "tcell.pdl1_kill_factor=1", "tcell.speed_um_per_min=0", NULL };
    bs_model *m = flat_model(nopdl1);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long dormant = run_pairs(m, BS_DTC_DORMANT, 200);
    done(m);
    assert_near(dormant, 2600 * 0.2 * (1.0 - exp(-0.4)), 0.3); /* ~171, sd 13 */
}

/* MDSC brake: x0.3 per MDSC within 30 um (3 sites, Euclidean), none
 * outside, saturating at three; the kill count falls accordingly. */
static void test_mdsc_suppression_radius(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    int t = site(20, 5);
    assert_true(bs_tcell_mdsc_brake(m, t) == 1.0f);
    bs_store_spawn(&m->store, site(23, 7), BS_CELL_MDSC, 0, 1); /* distance^2 = 13 > 9: outside */
    assert_true(bs_tcell_mdsc_brake(m, t) == 1.0f);
    bs_store_spawn(&m->store, site(22, 7), BS_CELL_MDSC, 0, 2); /* distance^2 = 8: inside */
    assert_float_equal(bs_tcell_mdsc_brake(m, t), 0.3f, 1e-6f);
    bs_store_spawn(&m->store, site(17, 5), BS_CELL_MDSC, 0, 3);
    bs_store_spawn(&m->store, site(20, 2), BS_CELL_MDSC, 0, 4);
    bs_store_spawn(&m->store, site(18, 4), BS_CELL_MDSC, 0, 5);
    assert_float_equal(bs_tcell_mdsc_brake(m, t), 0.3f * 0.3f * 0.3f, 1e-6f);
    done(m);
    /* kills next to one MDSC each (at (x, 3), 2 sites from the killer):
     * p = 1 - exp(-0.16 x 0.3) = 0.047, ~61 of 1300 vs ~192 (exhaustion
     * off here) */
    const char *still[] = { "mdsc.speed_um_per_min=0", "tcell.suppressed_exhaustion_per_d=0", NULL };
    m = flat_model(still);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    for (int k = 0; k < NPAIRS; k++) bs_store_spawn(&m->store, site(pair_x(k), 3), BS_CELL_MDSC, 0, 700 + (uint64_t)k);
    long n = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    assert_near(n, 1300 * (1.0 - exp(-0.048)), 0.4);
    done(m);
}

/* Suppression hastens exhaustion: 0.5/d x (1 - 0.3) next to an MDSC, so
 * 1 - exp(-0.35 x 4) = 75% of the killers are exhausted after 4 days
 * (sd 12%); without MDSCs none (the kill cap is 1000 here). */
static void test_mdsc_hasten_exhaustion(void **state)
{
    (void)state;
    for (int with = 0; with <= 1; with++) {
        const char *still[] = { "mdsc.speed_um_per_min=0", "tcell.speed_um_per_min=0", NULL };
        bs_model *m = flat_model(still);
        place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
        if (with)
            for (int k = 0; k < NPAIRS; k++)
                bs_store_spawn(&m->store, site(pair_x(k), 3), BS_CELL_MDSC, 0, 700 + (uint64_t)k);
        run_pairs(m, BS_DTC_PROLIFERATING, 96);
        int ex = 0;
        for (int k = 0; k < NPAIRS; k++) ex += m->store.state[m->store.occ[site(pair_x(k), 5)]] == BS_TCELL_EXHAUSTED;
        print_message("  %d of %d exhausted after 4 d %s MDSCs\n", ex, NPAIRS, with ? "with" : "without");
        if (with)
            assert_true(ex >= 6);
        else
            assert_int_equal(ex, 0);
        done(m);
    }
}

/* MDSC -> osteoclast: on the endosteum with RANKL signal 10 and a rate of
 * 10/d (p = 0.34 x 10/11 per step) every MDSC converts within 2 days and
 * opens its own resorption pit; 2 sites from bone (oc.reach_um 20) too,
 * without a pit; 10 sites away, or without RANKL, none. */
static int mdsc_to_oc(float rankl, int y, int *pits)
{
    const char *x[] = { "mdsc.speed_um_per_min=0", "mdsc.to_oc_rate_per_d=10", NULL };
    bs_model *m = flat_model(x);
    fill_field(m, BS_FIELD_RANKL, rankl);
    fill_field(m, BS_FIELD_OPG, 0.0f);
    for (int k = 0; k < 8; k++) {
        assert_true(m->lat.surface[site(2 + 5 * k, SURF_Y)] == BS_SURF_QUIESCENT);
        bs_store_spawn(&m->store, site(2 + 5 * k, y), BS_CELL_MDSC, 0, 40 + (uint64_t)k);
    }
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    for (int h = 0; h < 48; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 8; k++) {
            int slot = m->store.occ[site(2 + 5 * k, y)];
            if (slot >= 0 && m->store.type[slot] == BS_CELL_MDSC) bs_mdsc_act(m, slot, &tot);
        }
    }
    int oc = 0;
    *pits = 0;
    for (int k = 0; k < 8; k++) {
        int slot = m->store.occ[site(2 + 5 * k, y)];
        oc += slot >= 0 && m->store.type[slot] == BS_CELL_OSTEOCLAST;
        *pits += m->lat.surface[site(2 + 5 * k, y)] == BS_SURF_RESORPTION;
    }
    assert_int_equal((long)tot.mdsc_to_oc, oc);
    done(m);
    return oc;
}

static void test_mdsc_to_osteoclast_near_bone(void **state)
{
    (void)state;
    int pits;
    assert_int_equal(mdsc_to_oc(0.6f, SURF_Y, &pits), 8);
    assert_int_equal(pits, 8);
    assert_int_equal(mdsc_to_oc(0.6f, SURF_Y - 1, &pits), 8);
    assert_int_equal(pits, 0);
    assert_int_equal(mdsc_to_oc(0.6f, 4, &pits), 0);
    assert_int_equal(mdsc_to_oc(0.0f, SURF_Y, &pits), 0);
}

/* NK killing: 0.2/h x the Hill brake, x0.93 at 20 mmHg, x0.47 at 5 mmHg
 * (o2f); back to normal when re-oxygenated. Dormant cells are
 * recognised with chance 0.2 (killers held in place for that part). */
static void test_nk_kill_lower_at_low_o2(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    fill_field(m, BS_FIELD_O2, 20.0f);
    float norm_rate = bs_nk_kill_rate_h(m, site(5, 5));
    fill_field(m, BS_FIELD_O2, 5.0f);
    assert_float_equal(bs_nk_kill_rate_h(m, site(5, 5)), (float)(o2f(5.0) / o2f(20.0)) * norm_rate, 1e-6f);
    place_pairs(m, BS_CELL_NK, BS_NK_ACTIVE);
    long hyp = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    fill_field(m, BS_FIELD_O2, 20.0f); /* re-oxygenation restores killing */
    long reox = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    m = flat_model(NULL);
    fill_field(m, BS_FIELD_O2, 20.0f);
    place_pairs(m, BS_CELL_NK, BS_NK_ACTIVE);
    long norm = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    const char *still[] = { "nk.speed_um_per_min=0", NULL };
    m = flat_model(still);
    fill_field(m, BS_FIELD_O2, 20.0f);
    place_pairs(m, BS_CELL_NK, BS_NK_ACTIVE);
    long dormant = run_pairs(m, BS_DTC_DORMANT, 200);
    done(m);
    assert_near(hyp, 1300 * (1.0 - exp(-0.2 * o2f(5.0))), 0.3);
    assert_near(norm, 1300 * (1.0 - exp(-0.2 * o2f(20.0))), 0.2);
    assert_near(reox, 1300 * (1.0 - exp(-0.2 * o2f(20.0))), 0.2);
    assert_near(dormant, 2600 * 0.2 * (1.0 - exp(-0.2 * o2f(20.0))), 0.35); /* ~88, sd 9 */
}

/* CD8 T cells under hypoxia (the adenosine brake, Hill in pO2 around
 * tcell.hypoxia_mmHg = 10): activated CTLs on cycling targets kill at
 * 0.4/h x PD-L1 0.4 x o2f = 0.075/h at 5 mmHg vs 0.149/h at 20 mmHg, and re-oxygenation restores
 * the rate; with tcell.hypoxia_kill_factor = 1 pO2 changes nothing
 * (same draws, same kills). Non-activated cells engaged on targets are
 * activated at 0.5/h x 0.4 under hypoxia: after 2 h, 1 - exp(-0.4) of them
 * vs 1 - exp(-1) at 20 mmHg. */
static void test_tcell_kill_and_activation_lower_at_low_o2(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    fill_field(m, BS_FIELD_O2, 5.0f);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long hyp = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    fill_field(m, BS_FIELD_O2, 20.0f);
    long reox = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    const char *off[] = { "tcell.hypoxia_kill_factor=1", NULL };
    m = flat_model(off);
    fill_field(m, BS_FIELD_O2, 5.0f);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long hyp_off = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    m = flat_model(off);
    fill_field(m, BS_FIELD_O2, 20.0f);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long norm_off = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    m = flat_model(NULL);
    fill_field(m, BS_FIELD_O2, 20.0f);
    place_pairs(m, BS_CELL_TCELL, BS_TCELL_ACTIVE);
    long norm = run_pairs(m, BS_DTC_PROLIFERATING, 100);
    done(m);
    assert_near(hyp, 1300 * (1.0 - exp(-0.16 * o2f(5.0))), 0.3);
    assert_near(norm, 1300 * (1.0 - exp(-0.16 * o2f(20.0))), 0.25);
    assert_near(reox, 1300 * (1.0 - exp(-0.16 * o2f(20.0))), 0.25);
    assert_int_equal(hyp_off, norm_off); /* no brake: pO2 changes nothing */
    /* activation: many pairs' worth of draws over 40 repeats of 2 h */
    long act[2] = { 0, 0 };
    for (int k = 0; k < 2; k++) {
        for (int rep = 0; rep < 40; rep++) {
            m = flat_model(NULL);
            m->seed = (uint64_t)(1000 + rep);
            fill_field(m, BS_FIELD_O2, k ? 20.0f : 5.0f);
            place_pairs(m, BS_CELL_TCELL, BS_TCELL_NAIVE);
            run_pairs(m, BS_DTC_PROLIFERATING, 2);
            for (int j = 0; j < NPAIRS; j++) {
                int sl = m->store.occ[site(pair_x(j), 5)];
                act[k] += sl >= 0 && m->store.type[sl] == BS_CELL_TCELL && m->store.state[sl] != BS_TCELL_NAIVE;
            }
            done(m);
        }
    }
    assert_near(act[0], 520 * (1.0 - exp(-1.0 * o2f(5.0))), 0.2);
    assert_near(act[1], 520 * (1.0 - exp(-1.0 * o2f(20.0))), 0.15);
}

/* Sources (model.c): IFN-gamma only from activated T cells and cytotoxic
 * NK cells; RANKL from non-activated and exhausted T cells; suppression
 * from MDSCs and cycling tumour cells; chemokine from tumour cells. */
static void test_secretion_by_state(void **state)
{
    (void)state;
    const char *still[] = { "tcell.speed_um_per_min=0", "nk.speed_um_per_min=0", "mdsc.speed_um_per_min=0",
        "suppr.hypoxia_gain=0", NULL }; /* hypoxia-driven suppression: test_hypoxia_raises_suppression */
    bs_model *m = flat_model(still);
    int naive = site(5, 5), act = site(15, 5), exh = site(25, 5), nk = site(35, 5), md = site(5, 10),
        dtc = site(20, 10), dorm = site(30, 10), empty = site(10, 8);
    bs_store_spawn(&m->store, naive, BS_CELL_TCELL, BS_TCELL_NAIVE, 1);
    bs_store_spawn(&m->store, act, BS_CELL_TCELL, BS_TCELL_ACTIVE, 2);
    bs_store_spawn(&m->store, exh, BS_CELL_TCELL, BS_TCELL_EXHAUSTED, 3);
    bs_store_spawn(&m->store, nk, BS_CELL_NK, BS_NK_ACTIVE, 4);
    bs_store_spawn(&m->store, md, BS_CELL_MDSC, 0, 5);
    bs_store_spawn(&m->store, dtc, BS_CELL_DTC, BS_DTC_PROLIFERATING, 6);
    bs_store_spawn(&m->store, dorm, BS_CELL_DTC, BS_DTC_DORMANT, 7);
    bs_model_step(m);
    const bs_immune_rules *im = &m->r.immune;
    const float *ifn = m->fields[BS_FIELD_IFNG].src, *rk = m->fields[BS_FIELD_RANKL].src;
    const float *sup = m->fields[BS_FIELD_SUPPR].src, *ch = m->fields[BS_FIELD_CHEMOKINE].src;
    assert_true(ifn[naive] == 0.0f && ifn[exh] == 0.0f && ifn[empty] == 0.0f && ifn[md] == 0.0f);
    assert_true(ifn[act] == im->t_ifng && im->t_ifng > 0.0f);
    assert_true(ifn[nk] == im->nk_ifng && im->nk_ifng > 0.0f);
    assert_true(rk[naive] == im->t_rankl && rk[exh] == im->t_rankl && im->t_rankl > 0.0f);
    assert_true(rk[act] == 0.0f && rk[empty] == 0.0f);
    assert_true(sup[md] == im->md_suppr && sup[dtc] == im->suppr_tumour && sup[dorm] == 0.0f && sup[empty] == 0.0f);
    assert_true(ch[dtc] == im->chemokine_tumour);
    assert_float_equal(ch[dorm], im->chemokine_tumour * im->chemokine_dormant, 1e-6f);
    assert_true(ch[empty] == 0.0f);
    /* after one step the activated cell's IFN-gamma is in the field */
    assert_true(m->fields[BS_FIELD_IFNG].c[act] > m->fields[BS_FIELD_IFNG].c[naive]);
    done(m);
}

/* Entry at sinusoids: more at saturating chemokine than at half
 * occupancy, and without chemokine only the basal share
 * (tcell.basal_entry_fraction b): rate x (b + (1 - b) occupancy); per
 * site and step 1 - e^(-rate) with rate 1 at saturation, so the expected
 * ratios are (1 - e^-0.5) / (1 - e^-1) = 0.62 at half occupancy with b = 0
 * and (1 - e^-0.2) / (1 - e^-1) = 0.29 without chemokine with b = 0.2. */
static int entries(float chem, const char *basal)
{
    const char *x[] = { "geometry.sinusoid_spacing_um=150", "tcell.recruit_per_d=24", basal, NULL };
    bs_model *m = flat_model(x);
    assert_true(m->n_vessels > 0);
    fill_field(m, BS_FIELD_CHEMOKINE, chem);
    int n = 0;
    for (int h = 0; h < 20; h++) {
        m->step = (uint64_t)h;
        bs_tcell_arrivals(m);
        for (int i = 0; i < W * H; i++) {
            int s = m->store.occ[i];
            if (s < 0) continue;
            assert_int_equal(m->store.type[s], BS_CELL_TCELL);
            assert_int_equal(m->store.state[s], BS_TCELL_NAIVE);
            assert_int_equal(m->lat.tissue[i], BS_TISSUE_MARROW);
            n++;
            bs_store_kill(&m->store, s);
        }
    }
    print_message("  %d T cells entered at chemokine %.2f (%s)\n", n, (double)chem, basal);
    done(m);
    return n;
}

static void test_recruitment_follows_chemokine(void **state)
{
    (void)state;
    const char *off = "tcell.basal_entry_fraction=0", *on = "tcell.basal_entry_fraction=0.2";
    assert_int_equal(entries(0.0f, off), 0);
    int half = entries(0.5f, off), full = entries(1000.0f, off);
    assert_true(half > 0 && full > half);
    assert_true((double)half / (double)full > 0.45 && (double)half / (double)full < 0.8);
    /* homeostatic entry: T cells come into an antigen-free marrow, non-activated */
    int basal = entries(0.0f, on), full_on = entries(1000.0f, on);
    assert_true(basal > 0);
    assert_true((double)basal / (double)full_on > 0.18 && (double)basal / (double)full_on < 0.40);
    /* NK cells and MDSCs still come only with a tumour */
    bs_model *m = flat_model((const char *[]){
            "geometry.sinusoid_spacing_um=150", "nk.recruit_per_d=24", "mdsc.recruit_per_d=24", NULL });
    fill_field(m, BS_FIELD_CHEMOKINE, 0.0f);
    for (int h = 0; h < 20; h++) {
        m->step = (uint64_t)h;
        bs_nk_arrivals(m);
        bs_mdsc_arrivals(m);
    }
    for (int i = 0; i < W * H; i++) assert_true(m->store.occ[i] < 0);
    done(m);
}

/* Hypoxia-driven suppression: MDSCs and awake tumour cells secrete x(1 +
 * gain (1 - Hill(pO2))), so more at 1 mmHg than at 40 mmHg, and the same
 * with the gain off. */
static void test_hypoxia_raises_suppression(void **state)
{
    (void)state;
    for (int g = 0; g < 2; g++) {
        bs_model *m = flat_model(g ? (const char *[]){ "suppr.hypoxia_gain=0", NULL } : NULL);
        const bs_immune_rules *im = &m->r.immune;
        int md = site(5, 5), dtc = site(20, 5);
        int smd = bs_store_spawn(&m->store, md, BS_CELL_MDSC, 0, 5);
        int sdtc = bs_store_spawn(&m->store, dtc, BS_CELL_DTC, BS_DTC_PROLIFERATING, 6);
        float got[2][2];
        const float o2[2] = { 1.0f, 40.0f };
        for (int k = 0; k < 2; k++) {
            fill_field(m, BS_FIELD_O2, o2[k]);
            bs_site_sources a = { 0 }, b = { 0 };
            bs_celltype_of(BS_CELL_MDSC)->sources(m, smd, md, &a);
            bs_celltype_of(BS_CELL_DTC)->sources(m, sdtc, dtc, &b);
            got[k][0] = a.suppr;
            got[k][1] = b.suppr;
        }
        if (g) {
            assert_float_equal(got[0][0], im->md_suppr, 1e-5f);
            assert_float_equal(got[1][1], im->suppr_tumour, 1e-5f);
            assert_float_equal(got[0][1], got[1][1], 1e-5f);
        } else {
            float low = 1.0f + im->suppr_hyp_gain * (1.0f - bs_o2_hill(1.0f, im->suppr_hyp_mmHg, im->suppr_hyp_n));
            float high = 1.0f + im->suppr_hyp_gain * (1.0f - bs_o2_hill(40.0f, im->suppr_hyp_mmHg, im->suppr_hyp_n));
            assert_true(im->suppr_hyp_gain > 0.0f && low > 2.5f && high < 1.05f);
            assert_float_equal(got[0][0], im->md_suppr * low, 1e-3f);
            assert_float_equal(got[1][0], im->md_suppr * high, 1e-3f);
            assert_float_equal(got[0][1], im->suppr_tumour * low, 1e-3f);
            assert_float_equal(got[1][1], im->suppr_tumour * high, 1e-3f);
        }
        done(m);
    }
}

/* geometry.source = soft: marrow-like tissue with sinusoids and arterioles
 * but no bone, no endosteum; a lesion is seeded in it in full, and no
 * osteoclast or MDSC -> osteoclast route exists. */
static void test_soft_tissue_control(void **state)
{
    (void)state;
    bs_registry *r2;
    bs_paramset *p2 = bs_test_params(&r2, NULL,
            (const char *[]){ "geometry.source=soft", "lattice.width_sites=64", "lattice.height_sites=64",
                    "dtc.seed_lesion_n=40", "mdsc.recruit_per_d=0.3", "mdsc.to_oc_rate_per_d=10", NULL });
    bs_model *m = bs_test_model(p2);
    long bone = 0, surf = 0, vessel = 0, arteriole = 0, dtc = 0;
    for (int i = 0; i < 64 * 64; i++) {
        bone += m->lat.tissue[i] == BS_TISSUE_BONE;
        surf += m->lat.surface[i] != BS_SURF_NONE;
        vessel += m->lat.tissue[i] == BS_TISSUE_VESSEL;
        arteriole += m->lat.tissue[i] == BS_TISSUE_ARTERIOLE;
        int s = m->store.occ[i];
        dtc += s >= 0 && m->store.type[s] == BS_CELL_DTC;
    }
    print_message("  soft: %ld vessel, %ld arteriole sites, %ld tumour cells\n", vessel, arteriole, dtc);
    assert_int_equal(bone, 0);
    assert_int_equal(surf, 0);
    assert_true(vessel > 0 && arteriole > 0);
    assert_int_equal(dtc, 40);
    assert_int_equal((long)m->store.full_refusals, 0);
    long mdsc_to_oc = 0;
    for (int h = 0; h < 24 * 10; h++) {
        bs_model_step(m);
        mdsc_to_oc += (long)m->last.mdsc_to_oc;
    }
    long oc = 0, md = 0;
    for (int i = 0; i < 64 * 64; i++) {
        int s = m->store.occ[i];
        oc += s >= 0 && m->store.type[s] == BS_CELL_OSTEOCLAST;
        md += s >= 0 && m->store.type[s] == BS_CELL_MDSC;
    }
    print_message("  after 10 d: %ld MDSCs, %ld osteoclasts\n", md, oc);
    assert_true(md > 0);
    assert_int_equal(oc, 0);
    assert_int_equal(mdsc_to_oc, 0);
    assert_true(bs_lattice_bone_area_um2(&m->lat) == 0.0);
    bs_model_destroy(m);
    bs_paramset_destroy(p2);
    bs_registry_destroy(r2);
}

/* Movement: up to 10 sites per step (6 um/min x 1 h / 10 um, capped), onto
 * free marrow only, drifting up a chemokine gradient. */
static void test_walk_speed_occupancy_chemotaxis(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    assert_int_equal(m->r.immune.t.moves, 10);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) m->fields[BS_FIELD_CHEMOKINE].c[site(x, y)] = 0.02f * (float)x;
    for (int k = 0; k < 10; k++)
        bs_store_spawn(&m->store, site(5, 2 + k), BS_CELL_TCELL, BS_TCELL_NAIVE, 60 + (uint64_t)k);
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    for (int h = 0; h < 20; h++) {
        m->step = (uint64_t)h;
        int from[10] = { 0 }, n = 0;
        for (int i = 0; i < W * H; i++)
            if (m->store.occ[i] >= 0) from[n++] = m->store.occ[i];
        assert_int_equal(n, 10);
        int before[10];
        for (int k = 0; k < n; k++) before[k] = m->store.site[from[k]];
        for (int k = 0; k < n; k++) bs_tcell_act(m, from[k], &tot);
        for (int k = 0; k < n; k++) {
            int a = before[k], b = m->store.site[from[k]];
            assert_true(abs(a % W - b % W) <= 10 && abs(a / W - b / W) <= 10);
            assert_int_equal(m->lat.tissue[b], BS_TISSUE_MARROW);
            assert_int_equal(m->store.occ[b], from[k]);
        }
    }
    double mean_x = 0;
    for (int i = 0; i < W * H; i++)
        if (m->store.occ[i] >= 0) mean_x += i % W;
    mean_x /= 10.0;
    print_message("  mean x after 20 h: %.1f (start 5)\n", mean_x);
    assert_true(mean_x > 25.0);
    done(m);
}

/* Same seed, same state at 1, 2 and 4 threads with the full immune cast
 * (kills reduced per tile in a fixed order, no atomics). */
static void test_immune_deterministic_across_threads(void **state)
{
    (void)state;
    const char *small[] = { "lattice.width_sites=96", "lattice.height_sites=80", "tcell.recruit_per_d=0.5",
        "nk.recruit_per_d=0.2", "mdsc.recruit_per_d=0.3", NULL };
    uint64_t kills[3][2];
    uint8_t *types[3];
    uint64_t *ids[3];
    float *ifng[3];
    int threads[3] = { 1, 2, 4 }, n = 96 * 80;
    for (int r = 0; r < 3; r++) {
        omp_set_num_threads(threads[r]);
        bs_registry *preg;
        bs_paramset *p = bs_test_params(&preg, "immune_surveillance", small);
        bs_model *m = bs_test_model(p);
        bs_test_run_days(m, 5);
        kills[r][0] = m->n_kills_tcell;
        kills[r][1] = m->n_kills_nk;
        types[r] = malloc((size_t)n);
        ids[r] = malloc((size_t)n * sizeof(uint64_t));
        ifng[r] = malloc((size_t)n * sizeof(float));
        for (int i = 0; i < n; i++) {
            int s = m->store.occ[i];
            types[r][i] = s >= 0 ? (uint8_t)(m->store.type[s] * 16 + m->store.state[s]) : 0xff;
        }
        /* slots differ with the thread count (free-list order), ids do not */
        for (int i = 0; i < n; i++) ids[r][i] = m->store.occ[i] >= 0 ? m->store.id[m->store.occ[i]] : 0;
        memcpy(ifng[r], m->fields[BS_FIELD_IFNG].c, (size_t)n * sizeof(float));
        if (r == 0) {
            long im = 0;
            for (int i = 0; i < n; i++) im += types[r][i] / 16 == BS_CELL_TCELL || types[r][i] / 16 == BS_CELL_NK;
            print_message("  %ld T/NK cells, kills %llu T, %llu NK at day 5\n", im, (unsigned long long)kills[0][0],
                    (unsigned long long)kills[0][1]);
            assert_true(im > 0 && kills[0][0] + kills[0][1] > 0);
        }
        bs_model_destroy(m);
        bs_paramset_destroy(p);
        bs_registry_destroy(preg);
    }
    omp_set_num_threads(1);
    for (int r = 1; r < 3; r++) {
        assert_memory_equal(kills[0], kills[r], sizeof kills[0]);
        assert_memory_equal(types[0], types[r], (size_t)n);
        assert_memory_equal(ids[0], ids[r], (size_t)n * sizeof(uint64_t));
        assert_memory_equal(ifng[0], ifng[r], (size_t)n * sizeof(float));
    }
    for (int r = 0; r < 3; r++) {
        free(types[r]);
        free(ids[r]);
        free(ifng[r]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_kill_with_and_without_pdl1),
        cmocka_unit_test(test_activation_then_killing_and_exhaustion),
        cmocka_unit_test(test_dormant_cells_are_harder_to_see),
        cmocka_unit_test(test_mdsc_suppression_radius),
        cmocka_unit_test(test_mdsc_hasten_exhaustion),
        cmocka_unit_test(test_mdsc_to_osteoclast_near_bone),
        cmocka_unit_test(test_nk_kill_lower_at_low_o2),
        cmocka_unit_test(test_tcell_kill_and_activation_lower_at_low_o2),
        cmocka_unit_test(test_secretion_by_state),
        cmocka_unit_test(test_recruitment_follows_chemokine),
        cmocka_unit_test(test_hypoxia_raises_suppression),
        cmocka_unit_test(test_soft_tissue_control),
        cmocka_unit_test(test_walk_speed_occupancy_chemotaxis),
        cmocka_unit_test(test_immune_deterministic_across_threads),
    };
    omp_set_num_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
