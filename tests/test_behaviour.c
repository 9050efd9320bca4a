/* Behaviour tests (docs/behaviours.md B1, B2, B3, B5) at reduced size over
 * several seeds. Each states its tolerance; treated and control arms use
 * the same seeds (paired). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define MAXD 500

typedef struct {
    double bone[MAXD + 1], quiet[MAXD + 1], oc[MAXD + 1], ob[MAXD + 1], res[MAXD + 1], form[MAXD + 1];
} series;

/* Runs `scenario` with overrides for `days`, sampling once a day. */
static void run_series(const char *scenario, const char *const *sets, long seed, int days, series *out)
{
    bs_registry *reg;
    bs_paramset *ps = bs_test_params(&reg, scenario, sets);
    char s[64];
    snprintf(s, sizeof s, "run.seed=%ld", seed);
    bs_error err;
    if (bs_config_set(ps, s, &err) != BS_OK) fail_msg("%s", err.msg);
    bs_model *m = bs_test_model(ps);
    for (int d = 0; d <= days; d++) {
        double res = 0.0, form = 0.0;
        if (d > 0)
            for (int h = 0; h < 24; h++) {
                bs_model_step(m);
                res += m->last.resorbed_um2;
                form += m->last.formed_um2;
            }
        bs_obs o;
        bs_model_observe(m, &o, res, form, 1.0);
        out->bone[d] = o.bone_area_um2;
        out->quiet[d] = o.endosteum_quiescent_frac;
        out->oc[d] = (double)o.n_osteoclasts;
        out->ob[d] = (double)o.n_osteoblasts;
        out->res[d] = res;
        out->form[d] = form;
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static double mean(const double *a, int from, int to)
{
    double s = 0.0;
    for (int d = from; d <= to; d++) s += a[d];
    return s / (to - from + 1);
}

static const char *const small[] = { "lattice.width_sites=120", "lattice.height_sites=120", NULL };
static const char *const medium[] = { "lattice.width_sites=160", "lattice.height_sites=160", NULL };

/* B1 (1.6 x 1.6 mm, so that a handful of BMUs do not dominate): after a
 * 120-day burn-in, bone area stays within +-3% of its mean over days
 * 120-400 in every seed, and the mean of days 261-400 is within 2% of the
 * mean of days 120-260 (no trend); no trend in
 * osteoclast or osteoblast numbers (second-half mean within 50% of the
 * first-half mean, plus one cell for small counts). B2: the quiescent share
 * of the endosteum, averaged after burn-in, is 0.70-0.90 in every seed
 * (target about 0.80). */
static void test_b1_b2_homeostasis(void **state)
{
    (void)state;
    static series s;
    const long seeds[] = { 1, 2, 3 };
    for (int k = 0; k < 3; k++) {
        run_series("homeostasis", medium, seeds[k], 400, &s);
        double ref = mean(s.bone, 120, 400);
        for (int d = 120; d <= 400; d++) {
            double dev = s.bone[d] / ref - 1.0;
            if (fabs(dev) > 0.03)
                fail_msg("seed %ld day %d: bone area %+.2f%% from its post-burn-in mean (tolerance 3%%)", seeds[k], d,
                        100 * dev);
        }
        /* no trend: the two halves differ by less than 2% */
        assert_true(fabs(mean(s.bone, 261, 400) / mean(s.bone, 120, 260) - 1.0) < 0.02);
        double q = mean(s.quiet, 120, 400);
        printf("# B1/B2 seed %ld: bone %+.2f%% (day 400 vs mean), quiescent %.3f, OC %.1f/%.1f, OB %.1f/%.1f\n",
                seeds[k], 100 * (s.bone[400] / ref - 1), q, mean(s.oc, 120, 260), mean(s.oc, 261, 400),
                mean(s.ob, 120, 260), mean(s.ob, 261, 400));
        assert_true(q > 0.70 && q < 0.90);
        double oc1 = mean(s.oc, 120, 260), oc2 = mean(s.oc, 261, 400);
        double ob1 = mean(s.ob, 120, 260), ob2 = mean(s.ob, 261, 400);
        assert_true(fabs(oc2 - oc1) < 0.5 * oc1 + 1.0);
        assert_true(fabs(ob2 - ob1) < 0.5 * ob1 + 1.0);
        assert_true(oc1 > 0.0 && ob1 > 0.0); /* remodeling does happen */
    }
}

/* B3: one event on a flat surface. Resorption (days with bone removed)
 * lasts 10-35 days (target 2-4 weeks); formation starts after it and goes
 * on for at least 40 more days (target 3-4 months); by day 200 the cavity
 * is refilled to within 1% of the starting bone area. Three seeds. */
static void test_b3_single_bmu(void **state)
{
    (void)state;
    static series s;
    for (long seed = 1; seed <= 3; seed++) {
        run_series("single_bmu", NULL, seed, 200, &s);
        int first_res = -1, last_res = -1, first_form = -1, last_form = -1;
        for (int d = 1; d <= 200; d++) {
            if (s.res[d] > 0) {
                if (first_res < 0) first_res = d;
                last_res = d;
            }
            if (s.form[d] > 0) {
                if (first_form < 0) first_form = d;
                last_form = d;
            }
        }
        double min_bone = s.bone[0];
        for (int d = 0; d <= 200; d++) min_bone = s.bone[d] < min_bone ? s.bone[d] : min_bone;
        printf("# B3 seed %ld: resorption days %d-%d, formation days %d-%d, cavity %.0f um^2, end %+.2f%%\n", seed,
                first_res, last_res, first_form, last_form, s.bone[0] - min_bone, 100 * (s.bone[200] / s.bone[0] - 1));
        assert_true(first_res >= 0 && first_form >= 0);
        int res_len = last_res - first_res + 1;
        assert_true(res_len >= 10 && res_len <= 35);
        assert_true(last_form - first_form >= 40);
        assert_true(s.bone[0] - min_bone > 1000.0); /* a real cavity was dug */
        assert_true(fabs(s.bone[200] / s.bone[0] - 1.0) < 0.01);
    }
}

/* B5: paired seeds, 200 days at reduced size. Doubling the lining cells'
 * RANKL raises mean osteoclast numbers (days 50-200) by at least 30% and
 * lowers bone area at day 200; five-fold OPG and a basal IFN-gamma each
 * lower mean osteoclast numbers by at least 30%. The direction must hold
 * in every seed. */
static void test_b5_rankl_opg_ifng(void **state)
{
    (void)state;
    static series c, t;
    const char *const rankl[] = { "lattice.width_sites=120", "lattice.height_sites=120", "bmu.lining_rankl_per_h=0.4",
        NULL };
    const char *const opg[] = { "lattice.width_sites=120", "lattice.height_sites=120", "bmu.lining_opg_per_h=1.0",
        NULL };
    const char *const ifn[] = { "lattice.width_sites=120", "lattice.height_sites=120", "ifng.basal_per_h=0.5", NULL };
    for (long seed = 1; seed <= 2; seed++) {
        run_series("homeostasis", small, seed, 200, &c);
        double oc_c = mean(c.oc, 50, 200);
        run_series("homeostasis", rankl, seed, 200, &t);
        double oc_r = mean(t.oc, 50, 200), bone_r = t.bone[200];
        printf("# B5 seed %ld: OC control %.2f, RANKL x2 %.2f; bone %.4g vs %.4g\n", seed, oc_c, oc_r, c.bone[200],
                bone_r);
        assert_true(oc_r > 1.3 * oc_c);
        assert_true(bone_r < c.bone[200]);
        run_series("homeostasis", opg, seed, 200, &t);
        double oc_o = mean(t.oc, 50, 200);
        run_series("homeostasis", ifn, seed, 200, &t);
        double oc_i = mean(t.oc, 50, 200);
        printf("# B5 seed %ld: OC OPG x5 %.2f, IFN-gamma %.2f\n", seed, oc_o, oc_i);
        assert_true(oc_o < 0.7 * oc_c);
        assert_true(oc_i < 0.7 * oc_c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b3_single_bmu),
        cmocka_unit_test(test_b5_rankl_opg_ifng),
        cmocka_unit_test(test_b1_b2_homeostasis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
