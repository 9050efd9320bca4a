/* Unit test of the M2 macrophage trophic route (session 9, m2): a cycling
 * tumour cell within macrophage.m2_trophic_radius_um of an M2 macrophage
 * divides at rate x (1 + macrophage.m2_trophic_gain) (the hook in
 * agents/dtc.c bs_dtc_act, the parameters in agents/macrophage.c). On the
 * flat slab (10 um sites): one tumour cell at (20, 5), a fresh one (a new
 * id) each trial, one step of its rule and the division pass; the
 * divisions are counted. The trials of every arm use the same ids and
 * steps, so the arms share their random draws. Binomial counts within
 * about 4 sd of their expectation. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"
#include "shove.h"

#define TRIALS 2000
enum { MAC_M1 = 0, MAC_M2 = 1 }; /* agents/macrophage.c state_names */

static void fill_field(bs_model *m, int f, float v)
{
    for (int i = 0; i < W * H; i++) m->fields[f].c[i] = v;
}

/* Divisions in TRIALS one-step trials of a cycling tumour cell at (20, 5),
 * with a macrophage in state `mstate` at (20 + dx, 5) (dx 0: none). */
static long divisions(const char *gain, int dx, int mstate, double *p_basal)
{
    const char *const defaults[] = { "dtc.prolif_per_d=2.4", "dtc.apoptosis_per_d=0", "dtc.lifr_enabled=0",
        "dtc.necrosis_per_h=0", "macrophage.m2_trophic_radius_um=20", gain, NULL };
    bs_model *m = bs_flat_model(defaults, NULL);
    int mac = bs_celltype_find("macrophage");
    assert_true(mac >= 0);
    fill_field(m, BS_FIELD_O2, 40.0f);
    fill_field(m, BS_FIELD_TGFB, 0.0f);
    fill_field(m, BS_FIELD_IFNG, 0.0f);
    const int i = site(20, 5);
    if (dx) assert_true(bs_store_spawn(&m->store, site(20 + dx, 5), (uint8_t)mac, (uint8_t)mstate, 9) >= 0);
    const bs_dtc_rules *d = &m->r.dtc;
    *p_basal = 1.0 - exp(-(double)d->prolif_h * 40.0 / (40.0 + (double)d->o2_K) * (double)d->dt_h);
    long n = 0;
    for (int k = 0; k < TRIALS; k++) {
        m->step = (uint64_t)k + 1;
        int slot = bs_store_spawn(&m->store, i, BS_CELL_DTC, BS_DTC_PROLIFERATING, 1000 + (uint64_t)k);
        assert_true(slot >= 0);
        bs_step_totals tot = { 0 };
        bs_dtc_act(m, slot, &tot);
        int before = m->store.count;
        bs_shove_divisions(m);
        n += m->store.count > before;
        /* remove the tumour cells (the mother and any daughter), keep the macrophage */
        for (int j = 0; j < W * H; j++) {
            int s = m->store.occ[j];
            if (s >= 0 && m->store.type[s] == BS_CELL_DTC) bs_store_kill(&m->store, s);
        }
    }
    done(m);
    return n;
}

static void assert_binomial(long n, long trials, double p)
{
    double mu = (double)trials * p, sd = sqrt((double)trials * p * (1.0 - p));
    print_message("  %ld of %ld (expected %.1f +- %.1f)\n", n, trials, mu, sd);
    assert_true(fabs((double)n - mu) <= 4.0 * sd + 1.0);
}

static void test_m2_neighbour_speeds_division(void **state)
{
    (void)state;
    double p0;
    long none = divisions("macrophage.m2_trophic_gain=0.5", 0, MAC_M2, &p0);
    assert_binomial(none, TRIALS, p0);
    /* an M2 cell next to the tumour cell: rate x 1.5 */
    long m2 = divisions("macrophage.m2_trophic_gain=0.5", 1, MAC_M2, &p0);
    double p1 = 1.0 - pow(1.0 - p0, 1.5);
    assert_binomial(m2, TRIALS, p1);
    assert_true(m2 > none + (long)(0.5 * ((double)TRIALS * (p1 - p0)))); /* shared draws: the gain shows */
    /* two sites away (20 um): still within the radius */
    long m2b = divisions("macrophage.m2_trophic_gain=0.5", 2, MAC_M2, &p0);
    assert_binomial(m2b, TRIALS, p1);
    /* an M1 cell feeds nothing; an M2 cell three sites away (30 um) is out of reach */
    assert_int_equal(divisions("macrophage.m2_trophic_gain=0.5", 1, MAC_M1, &p0), none);
    assert_int_equal(divisions("macrophage.m2_trophic_gain=0.5", 3, MAC_M2, &p0), none);
    /* gain 0: the route is off */
    assert_int_equal(divisions("macrophage.m2_trophic_gain=0", 1, MAC_M2, &p0), none);
    /* gain 1: rate x 2 */
    long m2x2 = divisions("macrophage.m2_trophic_gain=1", 1, MAC_M2, &p0);
    assert_binomial(m2x2, TRIALS, 1.0 - pow(1.0 - p0, 2.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_m2_neighbour_speeds_division),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
