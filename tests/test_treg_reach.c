/* Unit tests of two rules of agents/treg.c added in session 9: the
 * contact distance of a Treg to an osteoclast (the osteoclast agent stands
 * for a cell oc.footprint_um wide: contact is a centre distance of at most
 * half that width plus half a site), and the Treg's walk ending next to a
 * cycling tumour cell (tumour-infiltrating Tregs arrest on antigen, Bauer
 * 2014). On the flat slab (10 um sites); binomial counts within about 4 sd
 * of their expectation. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"

static int treg;

static bs_model *flat_model(const char *const *extra)
{
    static const char *const defaults[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", "treg.lifespan_d=365",
        "treg.egress_per_d=0", "treg.speed_um_per_min=0", "treg.cd8_disarm_per_h=0", NULL };
    treg = bs_celltype_find("treg");
    return bs_flat_model(defaults, extra);
}

/* Deaths of a young osteoclast (10 h) kept at offset (dx, dy) from a Treg
 * at (20, 7), 400 steps, each step a fresh osteoclast where one died. */
static long oc_deaths(const char *const *extra, int dx, int dy, float age_h)
{
    bs_model *m = flat_model(extra);
    int t = bs_store_spawn(&m->store, site(20, 7), (uint8_t)treg, 0, 77);
    assert_true(t >= 0);
    int j = site(20 + dx, 7 + dy);
    uint64_t next = 1000;
    long died = 0;
    for (int h = 0; h < 400; h++) {
        m->step = (uint64_t)h;
        if (m->store.occ[j] < 0) assert_true(bs_store_spawn(&m->store, j, BS_CELL_OSTEOCLAST, 0, next++) >= 0);
        m->store.age_h[m->store.occ[j]] = age_h;
        bs_flat_act(m, m->store.occ[site(20, 7)]);
        died += m->store.occ[j] < 0;
    }
    done(m);
    return died;
}

/* oc.footprint_um = 30 on 10 um sites: contact up to 2 sites (15 + 5 um);
 * (2, 0) and (1, 1) touch, (2, 1) (22 um) and (0, 3) do not; a mature
 * osteoclast is spared at any distance. With a 10 um footprint only the
 * four orthogonal neighbours touch (10 um; the diagonal is 14 um). */
static void test_treg_oc_reach(void **state)
{
    (void)state;
    double p = 1.0 - exp(-0.1); /* treg.oc_contact_apoptosis_per_h x 1 h */
    bs_flat_assert_binomial(oc_deaths(NULL, 2, 0, 10.0f), 400, p);
    bs_flat_assert_binomial(oc_deaths(NULL, -1, 1, 10.0f), 400, p);
    bs_flat_assert_binomial(oc_deaths(NULL, 0, -2, 10.0f), 400, p);
    assert_int_equal(oc_deaths(NULL, 2, 1, 10.0f), 0);
    assert_int_equal(oc_deaths(NULL, 0, 3, 10.0f), 0);
    assert_int_equal(oc_deaths(NULL, 1, 0, 100.0f), 0); /* mature: older than treg.oc_precursor_age_h */
    const char *const small[] = { "oc.footprint_um=10", NULL };
    bs_flat_assert_binomial(oc_deaths(small, 1, 0, 10.0f), 400, p);
    assert_int_equal(oc_deaths(small, 1, 1, 10.0f), 0);
    assert_int_equal(oc_deaths(small, 2, 0, 10.0f), 0);
}

/* A random walk (no gradients) of 8 sub-moves from 3 sites beside a
 * column of tumour cells (x = 17, y = 3..11): with cycling cells the walk
 * stops on touching them, so far more walks end beside the column than
 * with dormant cells, past which the walk goes on. Fraction of 400
 * one-step walks (fresh cells) that end beside the column. */
static double ends_beside(int dtc_state)
{
    const char *const extra[] = { "treg.speed_um_per_min=1.34", "treg.chemotaxis=0", "treg.tumour_chemotaxis=0",
        "treg.oc_contact_apoptosis_per_h=0", NULL };
    bs_model *m = flat_model(extra);
    for (int y = 3; y <= 11; y++)
        assert_true(bs_store_spawn(&m->store, site(17, y), BS_CELL_DTC, (uint8_t)dtc_state, 50 + (uint64_t)y) >= 0);
    long beside = 0;
    for (int k = 0; k < 400; k++) {
        m->step = (uint64_t)k;
        int s = bs_store_spawn(&m->store, site(20, 7), (uint8_t)treg, 0, 9000 + (uint64_t)k);
        assert_true(s >= 0);
        bs_flat_act(m, s);
        int i = m->store.site[s], x = i % W, y = i / W;
        beside += x == 18 && y >= 2 && y <= 12;
        bs_store_kill(&m->store, s);
    }
    done(m);
    return (double)beside / 400.0;
}

static void test_treg_arrests_on_tumour(void **state)
{
    (void)state;
    double cycling = ends_beside(BS_DTC_PROLIFERATING), dormant = ends_beside(BS_DTC_DORMANT);
    print_message("  walks ending beside the tumour column: cycling %.3f, dormant %.3f\n", cycling, dormant);
    assert_true(cycling > 2.0 * dormant);
    assert_true(cycling - dormant > 0.1);
}

/* Formations in 1500 tries (one per step) of bs_oc_try_form at the
 * resorption-phase surface site (20, SURF_Y) under saturating RANKL, with
 * Tregs at the given offsets (n of them; none when n = 0). Each osteoclast
 * made is removed before the next try. */
static long formations(const int (*at)[2], int n)
{
    const char *const extra[] = { "oc.formation_per_d=12", "za.formation_half_load=0", NULL };
    bs_model *m = flat_model(extra);
    const int i = site(20, SURF_Y);
    for (int k = 0; k < n; k++)
        assert_true(bs_store_spawn(&m->store, site(20 + at[k][0], SURF_Y + at[k][1]), (uint8_t)treg, 0,
                            500 + (uint64_t)k) >= 0);
    for (int j = 0; j < W * H; j++) {
        m->fields[BS_FIELD_RANKL].c[j] = 1000.0f;
        m->fields[BS_FIELD_OPG].c[j] = 0.0f;
        m->fields[BS_FIELD_IFNG].c[j] = 0.0f;
    }
    m->lat.surface[i] = BS_SURF_RESORPTION;
    long made = 0;
    for (int h = 0; h < 1500; h++) {
        m->step = (uint64_t)h;
        if (!bs_oc_try_form(m, i)) continue;
        made++;
        for (int j = 0; j < W * H; j++)
            if (m->store.occ[j] >= 0 && m->store.type[m->store.occ[j]] == BS_CELL_OSTEOCLAST)
                bs_store_kill(&m->store, m->store.occ[j]);
    }
    done(m);
    return made;
}

/* treg.oc_formation_cut 0.8, treg.oc_niche_um 50 (5 sites), half at one
 * Treg: one Treg in the disc leaves 1 - 0.8 / 2 = 0.6 of the formation,
 * two 1 - 0.8 x 2 / 3; a Treg just outside (6 sites) none of the cut. */
static void test_treg_oc_formation_brake(void **state)
{
    (void)state;
    const int none[1][2] = { { 0, 0 } };
    const int near1[1][2] = { { 3, -4 } }; /* 5 sites: inside */
    const int near2[2][2] = { { 3, -4 }, { -2, -1 } };
    const int far1[1][2] = { { 6, 0 } };
    long base = formations(none, 0);
    /* 12/d for 1 h, x sig / (1 + sig) (a little below 1) */
    assert_true(base > 0.85 * 1500 * (1.0 - exp(-0.5)) && base <= 1500 * (1.0 - exp(-0.5)) + 60);
    double p0 = (double)base / 1500.0;
    bs_flat_assert_binomial(formations(near1, 1), 1500, p0 * 0.6);
    bs_flat_assert_binomial(formations(near2, 2), 1500, p0 * (1.0 - 0.8 * 2.0 / 3.0));
    bs_flat_assert_binomial(formations(far1, 1), 1500, p0);
    /* the brake off: the near Treg changes nothing */
    const char *const off[] = { "treg.oc_formation_cut=0", NULL };
    bs_model *m = flat_model(off);
    assert_true(bs_store_spawn(&m->store, site(23, SURF_Y - 4), (uint8_t)treg, 0, 9) >= 0);
    assert_true(bs_treg_oc_formation_factor(m, site(20, SURF_Y)) == 1.0f);
    done(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_treg_oc_reach),
        cmocka_unit_test(test_treg_arrests_on_tumour),
        cmocka_unit_test(test_treg_oc_formation_brake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
