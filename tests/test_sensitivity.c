/* test_sensitivity.c — the sampling designs and the Morris analysis
 * (viz/cli/sensitivity.c) on synthetic functions with known effects. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "sensitivity.h"

static void make(bs_design *d, int method, long size, int k, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->method = method;
    d->size = size;
    d->nparams = k;
    for (int p = 0; p < k; p++) {
        snprintf(d->par[p].name, sizeof d->par[p].name, "s.p%d", p);
        d->par[p].lo = -1.0 - p;
        d->par[p].hi = 2.0 + 3.0 * p;
    }
    char why[512];
    if (bs_design_build(d, seed, why, sizeof why) != 0) fail_msg("%s", why);
}

static double U(const bs_design *d, long i, int p)
{
    return d->unit[(size_t)i * (size_t)d->nparams + (size_t)p];
}

/* Every stratum [j/N, (j+1)/N) of every parameter holds exactly one point. */
static void test_lhs_strata_each_hit_once(void **state)
{
    (void)state;
    for (long n = 2; n <= 97; n += 19) {
        bs_design d;
        make(&d, BS_SAMPLE_LHS, n, 6, 42);
        assert_int_equal(d.npoints, n);
        int *hit = calloc((size_t)n, sizeof *hit);
        for (int p = 0; p < d.nparams; p++) {
            memset(hit, 0, (size_t)n * sizeof *hit);
            for (long i = 0; i < n; i++) {
                double u = U(&d, i, p);
                assert_true(u >= 0.0 && u < 1.0);
                long s = (long)floor(u * (double)n);
                assert_true(s >= 0 && s < n);
                hit[s]++;
                double v = bs_design_value(&d, i, p);
                assert_true(v >= d.par[p].lo && v <= d.par[p].hi);
            }
            for (long s = 0; s < n; s++) assert_int_equal(hit[s], 1);
        }
        free(hit);
        bs_design_free(&d);
    }
}

/* A trajectory has k + 1 grid points; each step moves exactly one
 * parameter, by +-delta, and every parameter moves exactly once. */
static void test_morris_one_at_a_time_by_delta(void **state)
{
    (void)state;
    int k = 5;
    bs_design d;
    make(&d, BS_SAMPLE_MORRIS, 30, k, 7);
    assert_int_equal(d.levels, 4);
    assert_true(fabs(d.delta - 2.0 / 3.0) < 1e-15);
    assert_int_equal(d.npoints, 30 * (k + 1));
    int up = 0, down = 0;
    for (long t = 0; t < d.size; t++) {
        long b = t * (k + 1);
        assert_int_equal(d.changed[b], -1);
        int moved[8] = { 0 };
        for (int s = 0; s <= k; s++)
            for (int p = 0; p < k; p++) {
                double u = U(&d, b + s, p), lev = u * (d.levels - 1);
                assert_true(u >= 0.0 && u <= 1.0);
                assert_true(fabs(lev - round(lev)) < 1e-12); /* on the grid */
            }
        for (int s = 1; s <= k; s++) {
            int c = d.changed[b + s], nchg = 0;
            assert_true(c >= 0 && c < k);
            for (int p = 0; p < k; p++) {
                double du = U(&d, b + s, p) - U(&d, b + s - 1, p);
                if (du != 0.0) {
                    nchg++;
                    assert_int_equal(p, c);
                    assert_true(fabs(fabs(du) - d.delta) < 1e-12);
                    if (du > 0)
                        up++;
                    else
                        down++;
                }
            }
            assert_int_equal(nchg, 1);
            moved[c]++;
        }
        for (int p = 0; p < k; p++) assert_int_equal(moved[p], 1);
    }
    assert_true(up > 0 && down > 0); /* both directions occur */
    bs_design_free(&d);
}

/* Same seed, same design; another seed, another design. */
static void test_designs_deterministic_from_seed(void **state)
{
    (void)state;
    for (int m = BS_SAMPLE_LHS; m <= BS_SAMPLE_MORRIS; m++) {
        bs_design a, b, c;
        make(&a, m, 20, 4, 1);
        make(&b, m, 20, 4, 1);
        make(&c, m, 20, 4, 2);
        size_t n = (size_t)a.npoints * 4 * sizeof(double);
        assert_memory_equal(a.unit, b.unit, n);
        assert_true(memcmp(a.unit, c.unit, n) != 0);
        char *ta = bs_design_text(&a), *tb = bs_design_text(&b);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
        bs_design_free(&a);
        bs_design_free(&b);
        bs_design_free(&c);
    }
}

/* y = 3 u0 + 0 u1 + 4 u2 u3 + 10 (u4 - 1/2)^2: u0 linear (EE = 3 always:
 * mu* = mu = 3, sigma = 0, a zero-width interval), u1 inert (all zero),
 * u2 and u3 interact (EE varies: sigma > 0), u4 is non-monotonic (on the
 * 4-level grid with delta = 2/3 every EE is +-10/3: mu* = 10/3, |mu| <
 * mu*). */
static double synth(const double *u)
{
    return 3.0 * u[0] + 4.0 * u[2] * u[3] + 10.0 * (u[4] - 0.5) * (u[4] - 0.5);
}

static void test_morris_synthetic_function(void **state)
{
    (void)state;
    int k = 5;
    bs_design d;
    make(&d, BS_SAMPLE_MORRIS, 40, k, 11);
    double *y = malloc((size_t)d.npoints * sizeof *y);
    for (long i = 0; i < d.npoints; i++) y[i] = synth(d.unit + (size_t)i * (size_t)k);
    bs_morris_stat st[5];
    assert_int_equal(bs_morris_analyse(&d, y, st, 500, 1), 0);
    for (int p = 0; p < k; p++) assert_int_equal(st[p].n, 40);
    assert_true(fabs(st[0].mu_star - 3.0) < 1e-9 && fabs(st[0].mu - 3.0) < 1e-9 && st[0].sigma < 1e-9);
    assert_true(fabs(st[0].mu_star_lo - 3.0) < 1e-9 && fabs(st[0].mu_star_hi - 3.0) < 1e-9);
    assert_true(st[1].mu_star == 0.0 && st[1].mu == 0.0 && st[1].sigma == 0.0);
    /* EE of u2 is 4 u3 with u3 in {0, 1/3, 2/3, 1}: between 0 and 4, varying */
    assert_true(st[2].mu_star > 0.5 && st[2].mu_star < 3.5 && st[2].sigma > 0.3);
    assert_true(st[3].mu_star > 0.5 && st[3].mu_star < 3.5 && st[3].sigma > 0.3);
    assert_true(fabs(st[4].mu_star - 10.0 / 3.0) < 1e-9);
    assert_true(fabs(st[4].mu) < st[4].mu_star);
    for (int p = 0; p < k; p++) assert_true(st[p].mu_star_lo <= st[p].mu_star && st[p].mu_star <= st[p].mu_star_hi);
    /* ranking: u4 > u0 > interacting pair > inert */
    assert_true(st[4].mu_star > st[0].mu_star && st[0].mu_star > st[2].mu_star && st[2].mu_star > st[1].mu_star);
    /* a missing point drops the two effects that need it */
    y[3] = NAN;
    assert_int_equal(bs_morris_analyse(&d, y, st, 0, 1), 0);
    int total = 0;
    for (int p = 0; p < k; p++) total += st[p].n;
    assert_int_equal(total, 40 * k - 2);
    free(y);
    bs_design_free(&d);
}

/* The bootstrap interval is reproducible and narrows with more trajectories. */
static void test_morris_bootstrap_interval(void **state)
{
    (void)state;
    double width[2];
    for (int r = 0; r < 2; r++) {
        bs_design d;
        make(&d, BS_SAMPLE_MORRIS, r ? 400 : 20, 5, 3);
        double *y = malloc((size_t)d.npoints * sizeof *y);
        for (long i = 0; i < d.npoints; i++) y[i] = synth(d.unit + (size_t)i * 5);
        bs_morris_stat a[5], b[5];
        assert_int_equal(bs_morris_analyse(&d, y, a, 1000, 9), 0);
        assert_int_equal(bs_morris_analyse(&d, y, b, 1000, 9), 0);
        assert_memory_equal(a, b, sizeof a);
        width[r] = a[2].mu_star_hi - a[2].mu_star_lo;
        assert_true(width[r] > 0.0);
        free(y);
        bs_design_free(&d);
    }
    assert_true(width[1] < 0.5 * width[0]);
}

static void test_design_round_trip(void **state)
{
    (void)state;
    char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/bs_test_sens_XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    for (int m = BS_SAMPLE_LHS; m <= BS_SAMPLE_MORRIS; m++) {
        bs_design a, b;
        char why[512];
        make(&a, m, 9, 3, 5);
        assert_int_equal(bs_design_write(&a, dir, why, sizeof why), 0);
        if (bs_design_read(&b, dir, why, sizeof why) != 0) fail_msg("%s", why);
        assert_int_equal(b.method, a.method);
        assert_int_equal(b.npoints, a.npoints);
        assert_int_equal(b.nparams, 3);
        assert_memory_equal(a.unit, b.unit, (size_t)a.npoints * 3 * sizeof(double));
        assert_memory_equal(a.changed, b.changed, (size_t)a.npoints * sizeof(int));
        for (int p = 0; p < 3; p++) {
            assert_string_equal(a.par[p].name, b.par[p].name);
            assert_true(a.par[p].lo == b.par[p].lo && a.par[p].hi == b.par[p].hi);
        }
        bs_design_free(&a);
        bs_design_free(&b);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/design.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/design_ranges.csv", dir);
    unlink(p);
    rmdir(dir);
}

/* --sample and --range: good forms accepted, bad ones refused with a reason. */
static void test_parse_sample_and_range(void **state)
{
    (void)state;
    int m;
    long n;
    char why[512];
    assert_int_equal(bs_sample_parse("lhs:50", &m, &n, why, sizeof why), 0);
    assert_int_equal(m, BS_SAMPLE_LHS);
    assert_int_equal(n, 50);
    assert_int_equal(bs_sample_parse("morris:8", &m, &n, why, sizeof why), 0);
    assert_int_equal(m, BS_SAMPLE_MORRIS);
    const char *bad[] = { "lhs", "lhs:", "lhs:0", "lhs:1", "lhs:2.5", "morris:x", "sobol:10", "lhs:1000001", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(bs_sample_parse(bad[i], &m, &n, why, sizeof why), -1);
        assert_non_null(strstr(why, "--sample"));
    }
    bs_error err;
    bs_registry *reg = bs_catalog_registry(&err);
    assert_non_null(reg);
    bs_sample_range r;
    assert_int_equal(bs_sample_range_parse(reg, "bmu.lining_rankl_per_h=0.1:0.8", &r, why, sizeof why), 0);
    assert_string_equal(r.name, "bmu.lining_rankl_per_h");
    assert_true(r.lo == 0.1 && r.hi == 0.8);
    /* no bounds: the registry's range */
    long i = bs_registry_find(reg, "bmu.lining_rankl_per_h");
    assert_int_equal(bs_sample_range_parse(reg, "bmu.lining_rankl_per_h", &r, why, sizeof why), 0);
    assert_true(r.lo == bs_registry_at(reg, (size_t)i)->min && r.hi == bs_registry_at(reg, (size_t)i)->max);
    const char *badr[] = { "nosuch.key=0:1", "bmu.lining_rankl_per_h=0.8:0.1", "bmu.lining_rankl_per_h=1:1",
        "bmu.lining_rankl_per_h=-1:0.5", "bmu.lining_rankl_per_h=0:1e9",
        "bmu.lining_rankl_per_h=0:", "bmu.lining_rankl_per_h=a:b", "dtc.bolus_n=0:10", "dtc.lifr_enabled", "=0:1" };
    for (size_t q = 0; q < sizeof badr / sizeof badr[0]; q++) {
        why[0] = '\0';
        assert_int_equal(bs_sample_range_parse(reg, badr[q], &r, why, sizeof why), -1);
        assert_non_null(strstr(why, "--range"));
    }
    bs_registry_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lhs_strata_each_hit_once),
        cmocka_unit_test(test_morris_one_at_a_time_by_delta),
        cmocka_unit_test(test_designs_deterministic_from_seed),
        cmocka_unit_test(test_morris_synthetic_function),
        cmocka_unit_test(test_morris_bootstrap_interval),
        cmocka_unit_test(test_design_round_trip),
        cmocka_unit_test(test_parse_sample_and_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
