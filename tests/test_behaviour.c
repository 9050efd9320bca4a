/* Behaviour tests (docs/behaviours.md B1, B2, B3, B4, B5 bone, B6) at reduced size over
 * several seeds. Each states its tolerance; treated and control arms use
 * the same seeds (paired). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "spatial.h"
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

/* B5 compares directions, paired from the same start: no burn-in needed */
static const char *const small_cold[] = { "lattice.width_sites=120", "lattice.height_sites=120", "run.burn_in_d=0",
    NULL };
/* B1/B2: from a steady state, after a bone burn-in of about one BMU life */
static const char *const medium[] = { "lattice.width_sites=160", "lattice.height_sites=160", "run.burn_in_d=250",
    NULL };

/* B1/B2 (1.6 x 1.6 mm, seeds 1-2): a 250-day bone burn-in
 * (run.burn_in_d) puts day 0 at a steady state, so from day 0 on, over a
 * year, bone area stays within B1_TOL of its mean over the year (B1:
 * within about +-3% over 1-3 years on the full section) and its
 * least-squares slope is within +-3 %/y; no trend in
 * osteoclast or osteoblast numbers (second-half mean within 50% of the
 * first-half mean, plus one cell for small counts). B2: the quiescent
 * share of the endosteum, averaged over the year, is 0.70-0.90 (target
 * about 0.80). */
/* B1's +-3% is for the default 2.5 x 2.5 mm section; the BMUs' own
 * fluctuation of bone area scales as 1 / side, so on 1.6 mm the same
 * remodeling moves bone by 250/160 as much: +-3% x 1.56 = +-4.7%. */
#define B1_TOL (0.03 * 250.0 / 160.0)

static void test_b1_b2_homeostasis(void **state)
{
    (void)state;
    static series s;
    const long seeds[] = { 1, 2 };
    for (int k = 0; k < 2; k++) {
        run_series("homeostasis", medium, seeds[k], 365, &s);
        double ref = mean(s.bone, 0, 365), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int d = 0; d <= 365; d++) {
            double dev = s.bone[d] / ref - 1.0;
            if (fabs(dev) > B1_TOL)
                fail_msg("seed %ld day %d: bone area %+.2f%% from its mean over the year (tolerance %.1f%%)", seeds[k],
                        d, 100 * dev, 100 * B1_TOL);
            double x = d / 365.25, y = 100.0 * (s.bone[d] / s.bone[0] - 1.0);
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double nn = 366.0, slope = (nn * sxy - sx * sy) / (nn * sxx - sx * sx);
        double q = mean(s.quiet, 0, 365);
        double oc1 = mean(s.oc, 0, 182), oc2 = mean(s.oc, 183, 365);
        double ob1 = mean(s.ob, 0, 182), ob2 = mean(s.ob, 183, 365);
        printf("# B1/B2 seed %ld: bone %+.2f%% at day 365, slope %+.2f %%/y, quiescent %.3f, OC %.1f/%.1f, OB "
               "%.1f/%.1f\n",
                seeds[k], 100 * (s.bone[365] / s.bone[0] - 1), slope, q, oc1, oc2, ob1, ob2);
        assert_true(fabs(slope) < 3.0);
        assert_true(q > 0.70 && q < 0.90);
        assert_true(fabs(oc2 - oc1) < 0.5 * oc1 + 1.0);
        assert_true(fabs(ob2 - ob1) < 0.5 * ob1 + 1.0);
        assert_true(oc1 + oc2 > 0.0 && ob1 > 0.0); /* remodeling does happen */
    }
}

/* B3/B4: one remodeling event on a flat surface (single_bmu), seeds 1-5,
 * measured by the event probe (bs_bmu_events). Literature bands
 *: resorption 14-35 d, reversal 5-20 d (last erosion
 * to the team's arrival), formation 60-130 d (team's arrival to the last
 * mineral), erosion depth 40-80 um, refill (formed / resorbed) 0.9-1.05,
 * whole event 90-200 d; osteoclasts peak first and are back to none
 * within 5 weeks of their peak, osteoblasts peak later and are present
 * for at least 2 months; no bone is laid while an osteoclast is present.
 * The apposition rate implied by depth over formation time (after the
 * lag) is printed, not asserted: it includes the team's recruitment, so
 * it is not the mineral apposition rate of B4 (a parameter, 0.63 um/d,
 * applied per floor site in bmu.c and checked in test_rules). */
static void test_b3_b4_single_bmu(void **state)
{
    (void)state;
    static series s;
    for (long seed = 1; seed <= 5; seed++) {
        bs_registry *reg;
        bs_paramset *ps = bs_test_params(&reg, "single_bmu", NULL);
        char sd[64];
        snprintf(sd, sizeof sd, "run.seed=%ld", seed);
        bs_error err;
        if (bs_config_set(ps, sd, &err) != BS_OK) fail_msg("%s", err.msg);
        bs_model *m = bs_test_model(ps);
        int overlap_h = 0;
        for (int d = 0; d <= 220; d++) {
            double res = 0.0, form = 0.0;
            if (d > 0)
                for (int h = 0; h < 24; h++) {
                    bs_model_step(m);
                    res += m->last.resorbed_um2;
                    form += m->last.formed_um2;
                    bs_obs o;
                    if (m->last.formed_um2 > 0.0) {
                        bs_model_observe(m, &o, 0, 0, 1.0);
                        overlap_h += o.n_osteoclasts > 0;
                    }
                }
            bs_obs o;
            bs_model_observe(m, &o, res, form, 1.0);
            s.oc[d] = (double)o.n_osteoclasts;
            s.ob[d] = (double)o.n_osteoblasts;
        }
        bs_bmu_event ev[4];
        size_t n = bs_bmu_events(m, ev, 4, 1);
        assert_int_equal(n, 1); /* one event, and it has finished */
        const bs_bmu_event *e = &ev[0];
        assert_true(e->done);
        double res_d = e->res_last_d - e->res_first_d, rev_d = e->team_first_d - e->res_last_d;
        double form_d = e->min_last_d - e->team_first_d, total_d = e->end_d - e->res_first_d;
        double refill = e->formed_um2 / e->resorbed_um2;
        int oc_peak = 0, ob_peak = 0, oc_gone = -1, ob_days = 0;
        for (int d = 0; d <= 220; d++) {
            if (s.oc[d] > s.oc[oc_peak]) oc_peak = d;
            if (s.ob[d] > s.ob[ob_peak]) ob_peak = d;
            ob_days += s.ob[d] > 0;
        }
        for (int d = oc_peak; d <= 220 && oc_gone < 0; d++)
            if (s.oc[d] == 0) oc_gone = d;
        /* the apposition rate the formation period implies (depth over
         * formation minus the lag; includes the team's recruitment) */
        double mar = e->depth_um / (form_d - bs_param(m->ps, "ob.mineralisation_lag_d"));
        printf("# B3 seed %ld: resorption %.1f d, reversal %.1f d, formation %.1f d, total %.1f d, depth %.0f um, "
               "refill %.3f; OC peak day %d (%.0f), none from day %d; OB peak day %d (%.0f), present %d d; "
               "apposition %.2f um/d; hours with bone laid and an osteoclast present: %d\n",
                seed, res_d, rev_d, form_d, total_d, e->depth_um, refill, oc_peak, s.oc[oc_peak], oc_gone, ob_peak,
                s.ob[ob_peak], ob_days, mar, overlap_h);
        assert_true(res_d >= 14 && res_d <= 35);
        assert_true(rev_d >= 5 && rev_d <= 20);
        assert_true(form_d >= 60 && form_d <= 130);
        assert_true(total_d >= 90 && total_d <= 200);
        assert_true(e->depth_um >= 40 && e->depth_um <= 80);
        assert_true(refill >= 0.9 && refill <= 1.05);
        assert_true(oc_peak < ob_peak);
        assert_true(oc_gone >= 0 && oc_gone - oc_peak <= 35);
        assert_true(ob_days >= 60);
        assert_int_equal(overlap_h, 0); /* the reversal separates resorption from formation */
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
}

/* B5: the osteoclast claims (more RANKL: more osteoclasts; five-fold OPG
 * and a basal IFN-gamma: fewer) are the experiment files B5a, B5c and
 * B5d, run on this test's seeds 1-5 by the ctest behaviour_B5
 * (tests/behaviour_experiments.sh: one definition serves the test and
 * `bonesim validate`). What stays here is the bone claim (B5b: more RANKL,
 * less bone at day 200), which needs a larger section than the quick
 * experiment's 80 x 80 sites (there its median is x0.998, not significant,
 * on seeds 1-5): paired seeds 1-2 at 120 x 120, bone area at day 200 lower
 * with RANKL doubled in every seed. */
static void test_b5_rankl_less_bone(void **state)
{
    (void)state;
    static series c, t;
    const char *const rankl[] = { "lattice.width_sites=120", "lattice.height_sites=120", "run.burn_in_d=0",
        "bmu.lining_rankl_per_h=0.4", NULL };
    for (long seed = 1; seed <= 2; seed++) {
        run_series("homeostasis", small_cold, seed, 200, &c);
        run_series("homeostasis", rankl, seed, 200, &t);
        printf("# B5 seed %ld: bone at day 200 %.4g (RANKL x2) vs %.4g; OC %.2f vs %.2f\n", seed, t.bone[200],
                c.bone[200], mean(t.oc, 50, 200), mean(c.oc, 50, 200));
        assert_true(t.bone[200] < c.bone[200]);
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static float median_of(float *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return n > 0 ? v[n / 2] : -1.0f;
}

/* B6, the O2 map (1.2 x 1.2 mm homeostasis, seeds 1-3, after one day):
 * marrow median 15-30 mmHg; the marrow next to sinusoids (deoxygenated
 * blood) below the marrow median; the endosteum within 50 um of an
 * arteriole above it (Spencer 2014). And a lesion of radius 160 um of
 * cycling tumour cells grows a core below 5 mmHg. */
static void test_b6_oxygen_map(void **state)
{
    (void)state;
    static float all[120 * 120], peri[120 * 120], endo[120 * 120];
    for (long seed = 1; seed <= 3; seed++) {
        bs_registry *reg;
        bs_paramset *ps = bs_test_params(&reg, "homeostasis", small_cold);
        char sd[64];
        snprintf(sd, sizeof sd, "run.seed=%ld", seed);
        bs_error err;
        if (bs_config_set(ps, sd, &err) != BS_OK) fail_msg("%s", err.msg);
        bs_model *m = bs_test_model(ps);
        bs_test_run_days(m, 1.0);
        const bs_lattice *L = &m->lat;
        const float *c = m->fields[BS_FIELD_O2].c;
        int na = 0, np = 0, ne = 0;
        for (int i = 0; i < L->w * L->h; i++) {
            if (L->tissue[i] != BS_TISSUE_MARROW) continue;
            all[na++] = c[i];
            int x = i % L->w, y = i / L->w, by_sinusoid = 0, by_arteriole = 0;
            for (int yy = y - 5; yy <= y + 5; yy++)
                for (int xx = x - 5; xx <= x + 5; xx++) {
                    if (xx < 0 || yy < 0 || xx >= L->w || yy >= L->h) continue;
                    uint8_t t = L->tissue[yy * L->w + xx];
                    if (t == BS_TISSUE_VESSEL && abs(xx - x) <= 1 && abs(yy - y) <= 1) by_sinusoid = 1;
                    if (t == BS_TISSUE_ARTERIOLE) by_arteriole = 1;
                }
            if (by_sinusoid) peri[np++] = c[i];
            if (L->surface[i] != BS_SURF_NONE && by_arteriole) endo[ne++] = c[i];
        }
        float med = median_of(all, na), p5 = all[na * 5 / 100], p99 = all[na * 99 / 100];
        float mp = median_of(peri, np), me = median_of(endo, ne);
        printf("# B6 seed %ld: marrow pO2 median %.1f (5th %.1f, 99th %.1f), perisinusoidal %.1f, endosteal by "
               "arterioles %.1f mmHg\n",
                seed, (double)med, (double)p5, (double)p99, (double)mp, (double)me);
        assert_true(med >= 15.0f && med <= 30.0f);
        assert_true(np > 0 && mp < med);
        assert_true(ne > 0 && me > med);
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    /* the lesion: a disc of cycling cells, radius 16 sites, on a flat slab */
    const char *const flat[] = { "geometry.source=flat", "lattice.width_sites=80", "lattice.height_sites=80",
        "bmu.activation_per_site_per_y=0", NULL };
    bs_registry *reg;
    bs_paramset *ps = bs_test_params(&reg, NULL, flat);
    bs_model *m = bs_test_model(ps);
    int cx = 40, cy = 30, R = 16, placed = 0;
    for (int y = cy - R; y <= cy + R; y++)
        for (int x = cx - R; x <= cx + R; x++) {
            int i = y * m->lat.w + x;
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > R * R || m->lat.tissue[i] != BS_TISSUE_MARROW) continue;
            if (bs_store_spawn(&m->store, i, BS_CELL_DTC, BS_DTC_PROLIFERATING, 1000u + (uint64_t)i) >= 0) placed++;
        }
    bs_model_step(m); /* the O2 field is solved with the lesion in place */
    float core = m->fields[BS_FIELD_O2].c[cy * m->lat.w + cx];
    printf("# B6 lesion: %d cells, radius 160 um, core pO2 %.2f mmHg\n", placed, (double)core);
    assert_true(core < 5.0f);
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

/* The perisinusoidal haematopoietic consumption (o2.perisinusoidal_*):
 * free marrow in the zone takes up O2 at its own rate, a model cell on such
 * a site displaces it (the site takes the marrow rate plus the cell's), and
 * the zone is what makes the marrow next to the sinusoids the lowest: with
 * the zone's rate set to the marrow's the perisinusoidal median is higher. */
static void test_b6_perisinusoidal_consumption(void **state)
{
    (void)state;
    float med[2];
    for (int arm = 0; arm < 2; arm++) {
        bs_registry *reg;
        bs_paramset *ps = bs_test_params(&reg, "homeostasis", small_cold);
        bs_error err;
        if (bs_config_set(ps, "run.seed=2", &err) != BS_OK) fail_msg("%s", err.msg);
        if (arm == 1 && bs_config_set(ps, "o2.perisinusoidal_uptake_per_h=40", &err) != BS_OK) fail_msg("%s", err.msg);
        const double peri = bs_param(ps, "o2.perisinusoidal_uptake_per_h");
        const double marrow = bs_param(ps, "o2.marrow_uptake_per_h");
        bs_model *m = bs_test_model(ps);
        const bs_lattice *L = &m->lat;
        /* a tumour cell on the first free perisinusoidal marrow site */
        int cell_site = -1;
        for (int i = 0; i < L->w * L->h && cell_site < 0; i++)
            if ((L->flags[i] & BS_FLAG_PERISINUSOIDAL) && L->tissue[i] == BS_TISSUE_MARROW && m->store.occ[i] < 0)
                cell_site = i;
        assert_true(cell_site >= 0);
        assert_true(bs_store_spawn(&m->store, cell_site, BS_CELL_DTC, BS_DTC_DORMANT, 77u) >= 0);
        bs_model_step(m);
        const float *up = m->fields[BS_FIELD_O2].uptake, *c = m->fields[BS_FIELD_O2].c;
        static float v[120 * 120];
        int n = 0, checked = 0;
        for (int i = 0; i < L->w * L->h; i++) {
            if (L->tissue[i] != BS_TISSUE_MARROW || m->store.occ[i] >= 0) continue;
            if (L->flags[i] & BS_FLAG_PERISINUSOIDAL) {
                assert_float_equal(up[i], (float)peri, 1e-3f);
                checked++;
            } else {
                assert_float_equal(up[i], (float)marrow, 1e-3f);
            }
            if (bs_next_to_vessel_xy(L, i % L->w, i / L->w)) v[n++] = c[i];
        }
        assert_true(checked > 0 && n > 0);
        assert_true(m->store.occ[cell_site] >= 0);
        assert_true(up[cell_site] > (float)marrow && fabsf(up[cell_site] - (float)peri) > 1.0f);
        med[arm] = median_of(v, n);
        printf("# B6 perisinusoidal zone uptake %.0f /h: marrow next to sinusoids %.1f mmHg\n", peri, (double)med[arm]);
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    assert_true(med[0] < med[1] - 1.0f);
}

/* The endosteal sinusoids (o2.endosteal_sinusoid_*): a flagged sinusoid's
 * blood is the set share of the way from sinusoid to arteriole pO2 (its
 * source is the wall exchange times that), the others keep the sinusoid
 * pO2; with the share at 0 every sinusoid is the same, and the share is what
 * lifts the marrow next to the endosteal sinusoids and the marrow median. */
static void test_b6_endosteal_sinusoids(void **state)
{
    (void)state;
    float med[2], near_h[2];
    for (int arm = 0; arm < 2; arm++) {
        bs_registry *reg;
        bs_paramset *ps = bs_test_params(&reg, "homeostasis", small_cold);
        bs_error err;
        if (bs_config_set(ps, "run.seed=2", &err) != BS_OK) fail_msg("%s", err.msg);
        if (arm == 1 && bs_config_set(ps, "o2.endosteal_sinusoid_arterial_frac=0", &err) != BS_OK)
            fail_msg("%s", err.msg);
        const double f = bs_param(ps, "o2.endosteal_sinusoid_arterial_frac");
        const double ex = bs_param(ps, "o2.sinusoid_exchange_per_h"), ps_ = bs_param(ps, "o2.sinusoid_mmHg");
        const double pa = bs_param(ps, "o2.arteriole_mmHg");
        bs_model *m = bs_test_model(ps);
        bs_model_step(m);
        const bs_lattice *L = &m->lat;
        const float *src = m->fields[BS_FIELD_O2].src, *c = m->fields[BS_FIELD_O2].c;
        static float all[120 * 120], nh[120 * 120];
        int na = 0, nn = 0, nflag = 0, nplain = 0;
        for (int i = 0; i < L->w * L->h; i++) {
            if (L->tissue[i] == BS_TISSUE_VESSEL) {
                const int h = (L->flags[i] & BS_FLAG_ENDOSTEAL_VESSEL) != 0;
                const double want = ex * (ps_ + (h ? f * (pa - ps_) : 0.0));
                assert_float_equal(src[i], (float)want, 1e-3f * (float)want);
                nflag += h;
                nplain += !h;
            } else if (L->tissue[i] == BS_TISSUE_MARROW) {
                all[na++] = c[i];
                const int x = i % L->w, y = i / L->w;
                int by_h = 0;
                for (int d = 0; d < 4; d++) {
                    const int xx = x + (d == 0) - (d == 1), yy = y + (d == 2) - (d == 3);
                    if (xx >= 0 && yy >= 0 && xx < L->w && yy < L->h && L->tissue[yy * L->w + xx] == BS_TISSUE_VESSEL &&
                            (L->flags[yy * L->w + xx] & BS_FLAG_ENDOSTEAL_VESSEL))
                        by_h = 1;
                }
                if (by_h) nh[nn++] = c[i];
            }
        }
        assert_true(nflag > 0 && nplain > 0 && nn > 0);
        med[arm] = median_of(all, na);
        near_h[arm] = median_of(nh, nn);
        printf("# B6 endosteal sinusoids (%d of %d sinusoid sites), arterial share %.2f: marrow median %.2f, next "
               "to them %.2f mmHg\n",
                nflag, nflag + nplain, f, (double)med[arm], (double)near_h[arm]);
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    assert_true(near_h[0] > near_h[1] + 1.0f);
    assert_true(med[0] > med[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b3_b4_single_bmu),
        cmocka_unit_test(test_b6_oxygen_map),
        cmocka_unit_test(test_b6_perisinusoidal_consumption),
        cmocka_unit_test(test_b6_endosteal_sinusoids),
        cmocka_unit_test(test_b5_rankl_less_bone),
        cmocka_unit_test(test_b1_b2_homeostasis),
    };
    /* BS_TEST_FILTER=pattern runs only the matching tests (cmocka wildcards) */
    if (getenv("BS_TEST_FILTER")) cmocka_set_test_filter(getenv("BS_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
