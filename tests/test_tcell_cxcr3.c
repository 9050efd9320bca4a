/* Unit test of TGF-beta's cut of the CD8 T cell's CXCR3-driven response
 * to the tumour chemokine (session 10, b18; agents/tcell.c): local
 * TGF-beta T multiplies the chemokine-driven part of entry at a sinusoid
 * and the chemotactic gain of the walk by 1 / (1 + T /
 * tcell.cxcr3_tgfb_half_au). On the flat slab (40 x 30 sites, marrow in
 * rows 0..13), calling the rules directly:
 *  - entry at saturating chemokine with T at the half-effect: rate x
 *    (b + (1 - b) / 2) instead of x 1; homeostatic (basal) entry without
 *    chemokine is untouched; with the half-effect set out of reach (1e6)
 *    the entries are those without TGF-beta, draw for draw;
 *  - the walk with T at the half-effect is the walk without TGF-beta at
 *    half the chemotactic gain, step for step (same draws), and climbs the
 *    chemokine gradient less far than without TGF-beta. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"

static void fill_field(bs_model *m, int f, float v)
{
    for (int i = 0; i < W * H; i++) m->fields[f].c[i] = v;
}

/* T cells entering over 200 one-hour steps at chemokine `chem` and
 * TGF-beta `tgfb` everywhere (each entered cell removed at once), with
 * the extra settings x0, x1 (may be NULL). *trials: vessel-steps. */
static long entries(float chem, float tgfb, const char *x0, const char *x1, long *trials)
{
    const char *x[] = { "geometry.sinusoid_spacing_um=150", "tcell.recruit_per_d=12", "tcell.lifespan_d=365", x0, x1,
        NULL };
    if (!x0) x[3] = NULL;
    else if (!x1) x[4] = NULL;
    bs_model *m = bs_flat_model(NULL, x);
    assert_true(m->n_vessels > 0);
    assert_true(fabs(m->dt_h - 1.0) < 1e-9);
    fill_field(m, BS_FIELD_CHEMOKINE, chem);
    fill_field(m, BS_FIELD_TGFB, tgfb);
    long n = 0;
    const int steps = 200;
    for (int h = 0; h < steps; h++) {
        m->step = (uint64_t)h;
        bs_tcell_arrivals(m);
        for (int i = 0; i < W * H; i++) {
            int s = m->store.occ[i];
            if (s < 0 || m->store.type[s] != BS_CELL_TCELL) continue;
            n++;
            bs_store_kill(&m->store, s);
        }
    }
    *trials = (long)steps * m->n_vessels;
    print_message("  %ld T cells entered at chemokine %.3g, TGF-beta %.3g (%s %s)\n", n, (double)chem, (double)tgfb,
            x0 ? x0 : "", x1 ? x1 : "");
    done(m);
    return n;
}

static void test_tgfb_cuts_chemokine_driven_entry(void **state)
{
    (void)state;
    const char *b0 = "tcell.basal_entry_fraction=0", *b2 = "tcell.basal_entry_fraction=0.2";
    const float K = 0.02f; /* tcell.cxcr3_tgfb_half_au, the default */
    long tr;
    /* saturating chemokine (occupancy ~1), no basal share: rate 0.5/h per vessel */
    long none = entries(1e6f, 0.0f, b0, NULL, &tr);
    bs_flat_assert_binomial(none, tr, 1.0 - exp(-0.5));
    long half = entries(1e6f, K, b0, NULL, &tr);
    bs_flat_assert_binomial(half, tr, 1.0 - exp(-0.25)); /* x 1/2 at the half-effect */
    long quarter = entries(1e6f, 3.0f * K, b0, NULL, &tr);
    bs_flat_assert_binomial(quarter, tr, 1.0 - exp(-0.125)); /* x 1/4 at three times it */
    /* with the basal share 0.2 only the chemokine-driven 0.8 is cut: 0.2 + 0.8 / 2 */
    long half_b = entries(1e6f, K, b2, NULL, &tr);
    bs_flat_assert_binomial(half_b, tr, 1.0 - exp(-0.5 * 0.6));
    /* homeostatic entry (no chemokine) is not CXCR3-driven: the same cells, draw for draw */
    assert_int_equal(entries(0.0f, 3.0f * K, b2, NULL, &tr), entries(0.0f, 0.0f, b2, NULL, &tr));
    /* the half-effect out of reach: as without TGF-beta, draw for draw */
    assert_int_equal(entries(1e6f, K, b0, "tcell.cxcr3_tgfb_half_au=1e6", &tr), none);
    /* the half-effect is the parameter's: at 0.04 au, TGF-beta 0.02 cuts to 2/3 */
    long third = entries(1e6f, K, b0, "tcell.cxcr3_tgfb_half_au=0.04", &tr);
    bs_flat_assert_binomial(third, tr, 1.0 - exp(-0.5 / 1.5));
}

/* Ten non-activated T cells from x = 5 up a chemokine ramp in x (no tumour
 * cells, so they only walk) for 20 one-hour steps, at TGF-beta `tgfb`
 * everywhere; their sites after the walk go to `end` (ordered by id).
 * Returns their mean x. */
static double walk(float tgfb, const char *chemotaxis, int end[10])
{
    const char *x[] = { "tcell.lifespan_d=365" /* the draws of death are shared by every walk */, chemotaxis, NULL };
    bs_model *m = bs_flat_model(NULL, x);
    assert_int_equal(m->r.immune.t.moves, 10);
    for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++) m->fields[BS_FIELD_CHEMOKINE].c[site(xx, y)] = 0.02f * (float)xx;
    fill_field(m, BS_FIELD_TGFB, tgfb);
    int slot[10];
    for (int k = 0; k < 10; k++) {
        slot[k] = bs_store_spawn(&m->store, site(5, 2 + k), BS_CELL_TCELL, BS_TCELL_NAIVE, 60 + (uint64_t)k);
        assert_true(slot[k] >= 0);
    }
    for (int h = 0; h < 20; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 10; k++) bs_flat_act(m, slot[k]);
    }
    double mean_x = 0.0;
    for (int k = 0; k < 10; k++) {
        assert_int_equal(m->store.type[slot[k]], BS_CELL_TCELL);
        end[k] = m->store.site[slot[k]];
        mean_x += (double)(end[k] % W);
    }
    mean_x /= 10.0;
    print_message("  mean x after 20 h at TGF-beta %.3g, %s: %.1f (start 5)\n", (double)tgfb, chemotaxis, mean_x);
    done(m);
    return mean_x;
}

static void test_tgfb_cuts_chemotactic_gain(void **state)
{
    (void)state;
    int a[10], b[10], c[10];
    double free_x = walk(0.0f, "tcell.chemotaxis=20", a);
    /* at the half-effect the gain is 20 / 2: the walk of gain 10 without TGF-beta, site for site */
    double half_x = walk(0.02f, "tcell.chemotaxis=20", b);
    double ten_x = walk(0.0f, "tcell.chemotaxis=10", c);
    for (int k = 0; k < 10; k++) assert_int_equal(b[k], c[k]);
    assert_true(fabs(half_x - ten_x) < 1e-12);
    /* and it climbs less far than without TGF-beta */
    assert_true(free_x > 25.0);
    assert_true(half_x < free_x - 3.0);
    /* far above the half-effect (x 1/41) the walk is nearly random */
    double high_x = walk(2.0f, "tcell.chemotaxis=20", c);
    assert_true(high_x < half_x);
    /* the half-effect out of reach: the walk without TGF-beta, site for site */
    const char *x[] = { "tcell.lifespan_d=365", "tcell.chemotaxis=20", "tcell.cxcr3_tgfb_half_au=1e6", NULL };
    int d[10];
    bs_model *m = bs_flat_model(NULL, x);
    m->fields[BS_FIELD_TGFB].c[site(5, 5)] = 0.0f;
    assert_true(bs_tcell_cxcr3_factor(m, site(5, 5)) == 1.0f);
    m->fields[BS_FIELD_TGFB].c[site(5, 5)] = 0.02f;
    assert_true(bs_tcell_cxcr3_factor(m, site(5, 5)) == 1.0f); /* 1 + 2e-8 rounds to 1 */
    done(m);
    walk(0.02f, "tcell.cxcr3_tgfb_half_au=1e6", d);
    for (int k = 0; k < 10; k++) assert_int_equal(d[k], a[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tgfb_cuts_chemokine_driven_entry),
        cmocka_unit_test(test_tgfb_cuts_chemotactic_gain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
