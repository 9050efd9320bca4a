/* Unit tests of each remodeling rule, on a flat slab with spontaneous
 * activation off, calling the rule functions directly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"

static bs_model *flat_model(const char *const *extra)
{
    return bs_flat_model(NULL, extra);
}

static int teardown(void **state)
{
    (void)state;
    if (ps) bs_paramset_destroy(ps);
    if (reg) bs_registry_destroy(reg);
    ps = NULL;
    reg = NULL;
    return 0;
}

static void test_geometry_of_fixture(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    assert_int_equal(m->lat.tissue[site(20, SURF_Y + 1)], BS_TISSUE_BONE);
    assert_int_equal(m->lat.surface[site(20, SURF_Y)], BS_SURF_QUIESCENT);
    bs_model_destroy(m);
}

static void test_osteoclast_resorbs_nearest_bone_and_releases_tgfb(void **state)
{
    (void)state;
    const char *x[] = { "oc.lifespan_d=100", NULL };
    bs_model *m = flat_model(x);
    int i = site(20, SURF_Y);
    int slot = bs_store_spawn(&m->store, i, BS_CELL_OSTEOCLAST, 0, 1234);
    bs_step_totals tot = { 0 };
    bs_oc_act(m, slot, &tot);
    float expect = m->r.oc_resorb_per_step; /* 5 um/d x 30 um / 100 um^2 per h */
    assert_true(fabsf(expect - 5.0f / 24.0f * 30.0f / 100.0f) < 1e-6f);
    assert_true(fabsf(m->lat.mineral[site(20, SURF_Y + 1)] - (1.0f - expect)) < 1e-6f);
    assert_true(fabs(tot.resorbed_um2 - (double)expect * 100.0) < 1e-4);
    assert_true(m->release[i] > 0.0f);
    /* keep eroding: the site turns into marrow marked as a cavity */
    for (int k = 0; k < 16; k++) bs_oc_act(m, slot, &tot); /* 1 / 0.0625 steps */
    assert_int_equal(m->lat.tissue[site(20, SURF_Y + 1)], BS_TISSUE_MARROW);
    assert_true(m->lat.flags[site(20, SURF_Y + 1)] & BS_FLAG_CAVITY);
    assert_true(m->lat.surface[site(20, SURF_Y + 1)] != BS_SURF_NONE); /* new endosteum */
    bs_model_destroy(m);
}

/* Count osteoclasts formed at resorption-phase sites with the fields set
 * by hand: the count must follow the RANKL signal. */
static int count_formed(bs_model *m, float rankl, float opg, float ifng)
{
    int n = 0;
    for (int k = 0; k < W * 30; k++) {
        m->fields[BS_FIELD_RANKL].c[k] = rankl;
        m->fields[BS_FIELD_OPG].c[k] = opg;
        m->fields[BS_FIELD_IFNG].c[k] = ifng;
    }
    for (int x = 0; x < W; x++) m->lat.surface[site(x, SURF_Y)] = BS_SURF_RESORPTION;
    for (int step = 0; step < 200; step++) {
        m->step = (uint64_t)step;
        for (int x = 0; x < W; x++) {
            int i = site(x, SURF_Y);
            if (bs_oc_try_form(m, i)) {
                n++;
                bs_store_kill(&m->store, m->store.occ[i]);
            }
        }
    }
    return n;
}

static void test_osteoclast_formation_follows_rankl_opg_ifng(void **state)
{
    (void)state;
    const char *x[] = { "oc.exclusion_um=0", "oc.formation_per_d=2", NULL };
    /* p = p_max s/(1+s), s = R/(K (1+O/K_O) (1+I/K_I)) */
    bs_model *m = flat_model(x);
    float K = m->r.rankl_K;
    int base = count_formed(m, K, 0.0f, 0.0f); /* signal 1: p = p_max / 2 */
    int high = count_formed(m, 10.0f * K, 0.0f, 0.0f); /* signal 10: p = p_max * 10/11 */
    int opg = count_formed(m, K, 3.0f * m->r.opg_K, 0.0f);
    int ifn = count_formed(m, K, 0.0f, 4.0f * m->r.ifng_K);
    double expect = 8000.0 * (double)m->r.p_oc_form * 0.5; /* 40 sites x 200 steps */
    assert_true(fabs(base - expect) < 4.0 * sqrt(expect) + 1.0);
    assert_true(high > base * 1.4);
    assert_true(opg < base * 0.75);
    assert_true(ifn < base * 0.6); /* s = 1/5: p_max/6 vs p_max/2 */
    bs_model_destroy(m);
}

static void test_osteoclast_exclusion(void **state)
{
    (void)state;
    const char *x[] = { "oc.formation_per_d=100", NULL };
    bs_model *m = flat_model(x);
    for (int k = 0; k < W * 30; k++) m->fields[BS_FIELD_RANKL].c[k] = 100.0f;
    m->lat.surface[site(20, SURF_Y)] = BS_SURF_RESORPTION;
    m->lat.surface[site(21, SURF_Y)] = BS_SURF_RESORPTION;
    bs_store_spawn(&m->store, site(21, SURF_Y), BS_CELL_OSTEOCLAST, 0, 1);
    int formed = 0;
    for (int s = 0; s < 100; s++) {
        m->step = (uint64_t)s;
        formed += bs_oc_try_form(m, site(20, SURF_Y));
    }
    assert_int_equal(formed, 0); /* within 30 um of another osteoclast */
    bs_model_destroy(m);
}

/* Digs a w x d pit under the surface by hand (cavity marrow), owned by a
 * BMU opened at (20, SURF_Y); returns the origin. */
static int dig_pit(bs_model *m, int x0, int x1, int depth)
{
    int origin = site(20, SURF_Y);
    bs_bmu_open(m, origin);
    for (int y = SURF_Y + 1; y <= SURF_Y + depth; y++)
        for (int x = x0; x <= x1; x++) {
            int j = site(x, y);
            m->lat.tissue[j] = BS_TISSUE_MARROW;
            m->lat.mineral[j] = 0.0f;
            m->lat.flags[j] |= BS_FLAG_CAVITY;
            m->lat.bmu[j] = origin;
        }
    bs_lattice_refresh_surface(&m->lat, x0 - 1, SURF_Y, x1 + 1, SURF_Y + depth + 1);
    return origin;
}

/* Formation by a team: the team stays near its size (one per
 * ob.team_spacing_um of floor, plus one while floor is uncovered), no
 * mineral before the osteoid lag, lamellae from the floor outward (the
 * top-middle site of the pit starts only after the layer under it), a
 * floor site gains one apposition step per step however many cells are
 * near, the pit cannot refill faster than its depth over the apposition
 * rate, and when it is full the BMU closes to lining cells. */
static void test_team_refills_pit_from_floor(void **state)
{
    (void)state;
    const char *x[] = { "ob.apoptosis_per_d=0", "bmu.reversal_d=0", NULL };
    bs_model *m = flat_model(x);
    double bone0 = bs_lattice_bone_area_um2(&m->lat); /* before the pit */
    int origin = dig_pit(m, 18, 22, 3);
    bs_bmu_at(m, origin)->phase = BS_SURF_REVERSAL; /* resorption over, no osteoclast: formation follows */
    double lag_d = bs_param(m->ps, "ob.mineralisation_lag_d"), first_min_d = -1, full_d = -1;
    int max_team = 0;
    for (int h = 0; h < 24 * 200 && full_d < 0; h++) {
        bs_model_step(m);
        double d = (h + 1) / 24.0;
        int team = 0;
        for (int k = 0; k < W * H; k++)
            team += m->store.occ[k] >= 0 && m->store.type[m->store.occ[k]] == BS_CELL_OSTEOBLAST;
        if (team > max_team) max_team = team;
        if (first_min_d < 0 && m->last.formed_um2 > 0) {
            first_min_d = d;
            /* the first lamellae go on finished bone, one step's apposition
             * each, not in mid-pit */
            assert_int_equal(m->lat.tissue[site(20, SURF_Y + 1)], BS_TISSUE_MARROW);
            for (int yy = SURF_Y + 1; yy <= SURF_Y + 3; yy++)
                for (int xx = 18; xx <= 22; xx++)
                    if (m->lat.tissue[site(xx, yy)] == BS_TISSUE_BONE)
                        assert_true(fabsf(m->lat.mineral[site(xx, yy)] - m->r.ob_deposit_per_step) < 1e-6f);
        }
        if (fabs(bs_lattice_bone_area_um2(&m->lat) - bone0) < 1e-3) full_d = d;
    }
    printf("# team at most %d cells, first mineral day %.1f, pit full day %.1f\n", max_team, first_min_d, full_d);
    /* floor of a 5 x 3 pit: 11 sites at most -> 6 members, +1 while uncovered */
    assert_true(max_team >= 1 && max_team <= 7);
    assert_true(first_min_d >= lag_d);
    assert_true(full_d > 3 * 10.0 / 0.63 && full_d < 150.0);
    for (int k = 0; k < 48; k++) bs_model_step(m);
    assert_int_equal(bs_bmu_phase(m, origin), 0); /* closed */
    assert_int_equal(m->lat.surface[site(20, SURF_Y)], BS_SURF_QUIESCENT);
    bs_bmu_event e;
    assert_int_equal(bs_bmu_events(m, &e, 1, 1), 1);
    assert_true(e.done && fabs(e.formed_um2 - 1500.0) < 1.0);
    bs_model_destroy(m);
}

/* The mineralisation lag belongs to the team's osteoid seam (bmu.c): a
 * new osteoblast (age 0) next to floor lets it take mineral in the same
 * step when its BMU's team arrived more than the lag ago (it replaces a
 * member on a seam already mineralising), and on a BMU whose team it is
 * the first of, not before the lag has passed. */
static void test_seam_lag_counted_once_per_team(void **state)
{
    (void)state;
    const char *x[] = { "ob.apoptosis_per_d=0", "ob.recruit_per_d=0", NULL };
    for (int old_team = 0; old_team <= 1; old_team++) {
        bs_model *m = flat_model(x);
        int origin = dig_pit(m, 18, 22, 3);
        bs_bmu_rec *rec = bs_bmu_at(m, origin);
        rec->phase = BS_SURF_FORMATION;
        const uint32_t lag_steps = (uint32_t)lround((double)m->r.ob_lag_h / m->dt_h);
        assert_true(lag_steps > 1);
        m->step = 10 * lag_steps;
        rec->t_oc_gone = (uint32_t)m->step - m->r.reversal_steps; /* formation begins now (stall clock) */
        if (old_team) rec->t_team_first = (uint32_t)m->step - lag_steps - 1; /* earlier members, since gone */
        /* in mid-pit, over the bottom layer (floor: it rests on bone) */
        int slot = bs_store_spawn(&m->store, site(20, SURF_Y + 2), BS_CELL_OSTEOBLAST, 0, 77);
        assert_true(slot >= 0 && m->store.age_h[slot] == 0.0f);
        bs_step_totals tot = { 0 };
        bs_bmu_update(m, &tot);
        if (old_team) {
            /* the three bottom sites under it, one apposition step each */
            assert_true(fabs(tot.formed_um2 - 3.0 * (double)m->r.ob_deposit_per_step * 100.0) < 1e-3);
        } else {
            assert_true(tot.formed_um2 == 0.0);
            assert_int_equal(rec->t_team_first, (uint32_t)m->step);
            m->step += lag_steps - 1;
            m->store.age_h[slot] = (float)((lag_steps - 1) * m->dt_h); /* the cell ages with the steps */
            bs_bmu_update(m, &tot);
            assert_true(tot.formed_um2 == 0.0); /* one step short of the lag */
            m->step += 1;
            m->store.age_h[slot] = (float)(lag_steps * m->dt_h);
            bs_bmu_update(m, &tot);
            assert_true(tot.formed_um2 > 0.0);
        }
        bs_model_destroy(m);
    }
}

/* No osteoblast is recruited while the BMU resorbs or reverses; in
 * formation a free site by uncovered floor recruits. */
static void test_recruitment_waits_for_formation(void **state)
{
    (void)state;
    const char *x[] = { "ob.recruit_per_d=100", "ob.recruit_basal_frac=1", NULL };
    bs_model *m = flat_model(x);
    int origin = dig_pit(m, 19, 21, 2), i = site(19, SURF_Y + 1), made = 0; /* in the pit, by its wall */
    bs_step_totals tot = { 0 };
    for (uint8_t ph = BS_SURF_RESORPTION; ph <= BS_SURF_FORMATION; ph++) {
        bs_bmu_at(m, origin)->phase = ph;
        bs_bmu_update(m, &tot); /* survey: floor, candidates, the surface takes the phase */
        for (int s = 0; s < 50 && !made; s++) {
            m->step++;
            made += bs_ob_try_recruit(m, i);
        }
        if (ph != BS_SURF_FORMATION) assert_int_equal(made, 0);
    }
    assert_int_equal(made, 1);
    assert_int_equal(m->lat.surface[i], BS_SURF_FORMATION);
    bs_model_destroy(m);
}

/* A hole walled in by bone on every side, owned by no BMU, is taken into
 * a BMU of its own and refilled (issue: walled-in cavities were never
 * refilled). */
static void test_walled_in_hole_refilled(void **state)
{
    (void)state;
    const char *x[] = { "bmu.reversal_d=1", NULL };
    bs_model *m = flat_model(x);
    int j = site(10, SURF_Y + 6);
    double bone0 = bs_lattice_bone_area_um2(&m->lat);
    m->lat.tissue[j] = BS_TISSUE_MARROW;
    m->lat.mineral[j] = 0.0f;
    m->lat.flags[j] |= BS_FLAG_CAVITY;
    bs_test_run_days(m, 1.0 + 10.0 / 0.63 + 2.0);
    assert_int_equal(m->lat.tissue[j], BS_TISSUE_BONE);
    assert_true(fabs(bs_lattice_bone_area_um2(&m->lat) - bone0) < 1e-3);
    bs_model_destroy(m);
}

/* A formation phase no osteoblast can continue ends after
 * bmu.formation_stall_d (issue 16): the pit's floor lamella has begun,
 * tumour cells (inert here) hold the rest of the pit and the marrow over
 * it, so no team member can reach the unfinished bone. The BMU closes as
 * stalled, its surface returns to lining cells and stays so (the cavity
 * left is plain marrow, no fill target for a new BMU), the begun lamella
 * mineralises out. With the stall rule off (0) it stays in formation. */
static void stalled_pit(bs_model *m, int *origin)
{
    *origin = dig_pit(m, 18, 22, 3);
    for (int x = 18; x <= 22; x++) { /* the floor layer, half mineralised */
        int j = site(x, SURF_Y + 3);
        m->lat.tissue[j] = BS_TISSUE_BONE;
        m->lat.mineral[j] = 0.5f;
        m->lat.flags[j] &= (uint8_t)~BS_FLAG_CAVITY;
    }
    bs_lattice_refresh_surface(&m->lat, 17, SURF_Y, 23, SURF_Y + 4);
    for (int y = SURF_Y - 1; y <= SURF_Y + 2; y++)
        for (int x = 15; x <= 25; x++)
            if (m->lat.tissue[site(x, y)] == BS_TISSUE_MARROW)
                bs_store_spawn(&m->store, site(x, y), BS_CELL_DTC, BS_DTC_PROLIFERATING, 5000 + (uint64_t)site(x, y));
    bs_bmu_at(m, *origin)->phase = BS_SURF_REVERSAL; /* resorption over, no osteoclast */
}

static void test_stalled_formation_ends(void **state)
{
    (void)state;
    const char *inert[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", "dtc.necrosis_per_h=0",
        "dtc.dormancy_entry_per_h=0", "dtc.speed_um_per_h=0", "dtc.lifr_enabled=0", "bmu.reversal_d=2",
        "bmu.formation_stall_d=30", NULL };
    bs_model *m = flat_model(inert);
    int origin, n0;
    stalled_pit(m, &origin);
    n0 = m->store.count;
    bs_test_run_days(m, 2.0 + 25.0);
    assert_int_equal(bs_bmu_phase(m, origin), BS_SURF_FORMATION); /* still waiting */
    bs_test_run_days(m, 10.0);
    assert_int_equal(m->store.count, n0); /* the blockers stayed */
    assert_int_equal(bs_bmu_phase(m, origin), 0);
    bs_bmu_event e;
    assert_int_equal(bs_bmu_events(m, &e, 1, 1), 1);
    assert_true(e.done && e.stalled);
    assert_true(fabs(e.formed_um2 - 5 * 0.5 * 100.0) < 1.0); /* the begun lamella, mineralised out */
    for (int x = 18; x <= 22; x++) {
        assert_true(m->lat.mineral[site(x, SURF_Y + 3)] == 1.0f);
        assert_false(m->lat.flags[site(x, SURF_Y + 2)] & BS_FLAG_CAVITY); /* bone lost */
    }
    bs_test_run_days(m, 20.0);
    assert_int_equal(m->lat.surface[site(20, SURF_Y + 2)], BS_SURF_QUIESCENT); /* the pit floor: lining cells */
    assert_int_equal(m->lat.surface[site(17, SURF_Y)], BS_SURF_QUIESCENT);
    assert_int_equal(m->lat.bmu[site(20, SURF_Y + 3)], -1); /* no new BMU took the pit up */
    bs_model_destroy(m);

    const char *off[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", "dtc.necrosis_per_h=0",
        "dtc.dormancy_entry_per_h=0", "dtc.speed_um_per_h=0", "dtc.lifr_enabled=0", "bmu.reversal_d=2",
        "bmu.formation_stall_d=0", NULL };
    m = flat_model(off);
    stalled_pit(m, &origin);
    bs_test_run_days(m, 120.0);
    assert_int_equal(bs_bmu_phase(m, origin), BS_SURF_FORMATION); /* without the rule: in formation for good */
    assert_int_equal(m->lat.surface[site(20, SURF_Y + 2)], BS_SURF_FORMATION);
    bs_model_destroy(m);
}

static void test_bmu_open_covers_radius(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL); /* radius 60 um = 6 sites */
    bs_bmu_open(m, site(20, SURF_Y));
    for (int x = 0; x < W; x++) {
        int expect = abs(x - 20) <= 6 ? BS_SURF_RESORPTION : BS_SURF_QUIESCENT;
        assert_int_equal(m->lat.surface[site(x, SURF_Y)], expect);
    }
    bs_model_destroy(m);
}

static void test_rankl_signal_monotone(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    int i = site(5, SURF_Y);
    m->fields[BS_FIELD_RANKL].c[i] = 0.1f;
    m->fields[BS_FIELD_OPG].c[i] = 0.0f;
    float s0 = bs_rankl_signal(m, i);
    m->fields[BS_FIELD_RANKL].c[i] = 0.2f;
    float s1 = bs_rankl_signal(m, i);
    m->fields[BS_FIELD_OPG].c[i] = 1.0f;
    float s2 = bs_rankl_signal(m, i);
    assert_true(s1 > s0);
    assert_true(fabsf(s1 - 2.0f * s0) < 1e-5f);
    assert_true(s2 < s1);
    bs_model_destroy(m);
}

/* The sources pass writes the zero-aware sources and the matrix release
 * only where a value is not zero, and skips zeroing rows it knows to be
 * zero (bs_model.src_row_nz / release_row_nz, issue 19). A model told
 * before every step that nothing is known (so it zeroes every row, as
 * before) must hold the same bits in every field's sources and values and
 * in the release after every step: a lesion (tumour chemokine and
 * suppression moving with the cells), resorption (TGF-beta release). */
static void test_zero_rows_match_full_writes(void **state)
{
    (void)state;
    const char *x[] = { "lattice.width_sites=64", "lattice.height_sites=64", "geometry.trab_spacing_um=400", NULL };
    bs_registry *reg_a = NULL, *reg_b = NULL;
    bs_paramset *ps_a = bs_test_params(&reg_a, "vicious_cycle", x);
    bs_paramset *ps_b = bs_test_params(&reg_b, "vicious_cycle", x);
    bs_model *a = bs_test_model(ps_a), *b = bs_test_model(ps_b);
    const size_t n = (size_t)a->lat.w * (size_t)a->lat.h, h = (size_t)a->lat.h;
    int known_zero = 0, chem_live = 0, release_live = 0;
    for (int k = 0; k < 96; k++) {
        bs_model_rows_unknown(b);
        bs_model_step(a);
        bs_model_step(b);
        for (int f = 0; f < BS_FIELD_COUNT; f++) {
            assert_memory_equal(a->fields[f].src, b->fields[f].src, n * sizeof(float));
            assert_memory_equal(a->fields[f].c, b->fields[f].c, n * sizeof(float));
        }
        assert_memory_equal(a->release, b->release, n * sizeof(float));
        for (size_t y = 0; y < h; y++) {
            known_zero += a->src_row_nz[BS_ZSRC_PTHRP * h + y] == 0;
            release_live += a->release_row_nz[y] != 0;
        }
        for (size_t i = 0; i < n; i++) chem_live += a->fields[BS_FIELD_CHEMOKINE].src[i] != 0.0f;
    }
    /* not vacuous: rows were skipped, and the sources and the release moved */
    assert_true(known_zero > 0);
    assert_true(chem_live > 0);
    assert_true(release_live > 0);
    bs_model_destroy(a);
    bs_model_destroy(b);
    bs_paramset_destroy(ps_a);
    bs_paramset_destroy(ps_b);
    bs_registry_destroy(reg_a);
    bs_registry_destroy(reg_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_geometry_of_fixture, teardown),
        cmocka_unit_test_teardown(test_osteoclast_resorbs_nearest_bone_and_releases_tgfb, teardown),
        cmocka_unit_test_teardown(test_osteoclast_formation_follows_rankl_opg_ifng, teardown),
        cmocka_unit_test_teardown(test_osteoclast_exclusion, teardown),
        cmocka_unit_test_teardown(test_team_refills_pit_from_floor, teardown),
        cmocka_unit_test_teardown(test_seam_lag_counted_once_per_team, teardown),
        cmocka_unit_test_teardown(test_recruitment_waits_for_formation, teardown),
        cmocka_unit_test_teardown(test_walled_in_hole_refilled, teardown),
        cmocka_unit_test_teardown(test_stalled_formation_ends, teardown),
        cmocka_unit_test_teardown(test_bmu_open_covers_radius, teardown),
        cmocka_unit_test_teardown(test_rankl_signal_monotone, teardown),
        cmocka_unit_test(test_zero_rows_match_full_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
