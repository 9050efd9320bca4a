/* test_field.c — reaction-diffusion solver: accuracy against exact
 * solutions, conservation, tissue permeability, thread determinism,
 * warm starts, and the shortcuts (zero fields, settled regions, per-site
 * data kept between solves) giving the bits a full solve gives. Lattices are built by hand (tissue array only) so these
 * tests depend on field.c alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "field.h"

/* With BS_TEST_COUNT_ALLOCS the build wraps the allocator
 * (-Wl,--wrap=...; tests/CMakeLists.txt) so a test can count the heap
 * allocations the engine makes. */
#ifdef BS_TEST_COUNT_ALLOCS
#include "alloc_count.h"
#endif

/* ---- helpers ------------------------------------------------------------ */

static bs_lattice bs_test_lattice(int w, int h, double h_um)
{
    bs_lattice lat;
    memset(&lat, 0, sizeof lat);
    lat.w = w;
    lat.h = h;
    lat.h_um = h_um;
    lat.tissue = calloc((size_t)w * (size_t)h, 1); /* all marrow */
    assert_non_null(lat.tissue);
    return lat;
}

static void bs_test_lattice_free(bs_lattice *lat)
{
    free(lat->tissue);
    lat->tissue = NULL;
}

static bs_field_spec bs_test_spec(double d_um2_s, double decay_h, int quasi_steady)
{
    bs_field_spec s;
    memset(&s, 0, sizeof s);
    s.name = "test";
    s.unit = "1";
    s.D_um2_per_s = d_um2_s;
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) s.D_factor[t] = 1.0;
    s.decay_per_h = decay_h;
    s.quasi_steady = quasi_steady;
    s.boundary = BS_BC_ZERO_FLUX;
    s.scale = 1.0;
    return s;
}

static bs_solver_opts bs_test_opts(double tol, int max_iters)
{
    bs_solver_opts o = { tol, max_iters, 0.0, 0.0 };
    return o;
}

static double bs_test_sum(const bs_field *f)
{
    double s = 0.0;
    for (int i = 0; i < f->w * f->h; ++i) s += (double)f->c[i];
    return s;
}

/* ---- init / free -------------------------------------------------------- */

static void test_init_free(void **state)
{
    (void)state;
    bs_field f;
    memset(&f, 0, sizeof f);
    bs_field_free(&f); /* zeroed struct */
    bs_field_free(NULL);

    bs_field_spec s = bs_test_spec(50.0, 1.0, 0);
    bs_error err;
    assert_int_equal(bs_field_init(&f, &s, 7, 5, 2.5f, &err), BS_OK);
    assert_int_equal(f.w, 7);
    assert_int_equal(f.h, 5);
    for (int i = 0; i < 35; ++i) {
        assert_true(f.c[i] == 2.5f);
        assert_true(f.src[i] == 0.0f);
        assert_true(f.uptake[i] == 0.0f);
        assert_int_equal(f.fixed[i], 0);
    }
    bs_field_free(&f);
    bs_field_free(&f); /* twice */

    assert_int_equal(bs_field_init(&f, &s, 0, 5, 0.0f, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "valid"));
    s.D_factor[BS_TISSUE_BONE] = -1.0;
    assert_int_equal(bs_field_init(&f, &s, 4, 4, 0.0f, &err), BS_ERR_INVALID);
    bs_field_free(&f);
}

/* ---- 1. exact steady state in a strip ----------------------------------- */

/* Strip 400 um long at every h (W h = 400 um), 4 sites wide, all marrow;
 * the left column is held at 1, every other boundary is zero-flux, decay k,
 * quasi-steady. With x measured from the centre of the held column, the
 * zero-flux edge (the outer face of the last site) lies at L = (W - 1/2) h
 * and the exact solution is
 *     c(x) = cosh((L - x)/lambda) / cosh(L/lambda),  lambda = sqrt(D/k).
 * Each grid is compared with its own L (390, 395, 397.5 um). Returns the
 * largest error over the sites. */
static double bs_strip_error(double h_um)
{
    const double D = 100.0; /* um^2/s */
    const double lambda = 100.0; /* um */
    const double k = D * 3600.0 / (lambda * lambda); /* 1/h */
    const int w = (int)lround(400.0 / h_um), h = 4;
    bs_lattice lat = bs_test_lattice(w, h, h_um);
    bs_field_spec s = bs_test_spec(D, k, 1);
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    for (int y = 0; y < h; ++y) {
        f.fixed[y * w] = 1;
        f.fixed_val[y * w] = 1.0f;
    }
    bs_solver_opts o = bs_test_opts(1e-6, 200000);
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(f.last_iters > 0 && f.last_iters < 200000); /* converged */
    const double L = (w - 0.5) * h_um;
    double emax = 0.0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            double exact = cosh((L - x * h_um) / lambda) / cosh(L / lambda);
            double e = fabs((double)f.c[y * w + x] - exact);
            if (e > emax) emax = e;
        }
    printf("    strip h = %4.1f um: %3d sites, %6d sweeps, max error %.3e\n", h_um, w, f.last_iters, emax);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
    return emax;
}

static void test_analytic_strip(void **state)
{
    (void)state;
    double e20 = bs_strip_error(20.0);
    double e10 = bs_strip_error(10.0);
    double e5 = bs_strip_error(5.0);
    printf("    error ratios: 20->10 %.2f, 10->5 %.2f\n", e20 / e10, e10 / e5);
    assert_true(e20 / e10 > 2.5); /* second order gives about 4 */
    assert_true(e10 / e5 > 2.5);
    assert_true(e5 < 1e-3);
}

/* The fixed domain edge: a ghost at boundary_value half a site behind the
 * edge face. A 400 x 200 um box held at 1 on its edge with decay length
 * 100 um has no short closed form, but the total amount M(h) = sum c h^2
 * must converge at second order: (M20 - M10) / (M10 - M5) ~ 4. Putting the
 * ghost a whole site away would make it first order (ratio ~ 2). */
static double bs_box_mass(double h_um)
{
    const int w = (int)lround(400.0 / h_um), h = (int)lround(200.0 / h_um);
    bs_lattice lat = bs_test_lattice(w, h, h_um);
    bs_field_spec s = bs_test_spec(100.0, 36.0, 1);
    s.boundary = BS_BC_FIXED;
    s.boundary_value = 1.0;
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    bs_solver_opts o = bs_test_opts(1e-6, 100000);
    bs_field_solve(&f, &lat, 1.0, &o);
    double m = bs_test_sum(&f) * h_um * h_um;
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
    return m;
}

static void test_fixed_boundary_order(void **state)
{
    (void)state;
    double m20 = bs_box_mass(20.0), m10 = bs_box_mass(10.0), m5 = bs_box_mass(5.0);
    double ratio = (m20 - m10) / (m10 - m5);
    printf("    held-edge box: amount %.2f, %.2f, %.2f um^2 at h = 20, 10, 5; ratio %.2f\n", m20, m10, m5, ratio);
    assert_true(ratio > 3.0 && ratio < 5.0);
}

/* ---- 2. backward Euler, decay only -------------------------------------- */

/* A uniform field with decay and zero-flux edges stays uniform, so one
 * implicit step of length dt must give c0 / (1 + k dt). With D = 0 every
 * site is its own equation and the answer is exact to rounding; with
 * diffusion on, the uniform mode is the slowest SOR mode (only 1/dt + k
 * damps it), which the solver's uniform correction takes out before it
 * sweeps: the answer is again exact to a few roundings (it was ~20 ulp,
 * as exact as the stopping rule allowed, before the correction). */
static void bs_decay_step(double d_um2_s, double tol, double rel)
{
    const int w = 16, h = 12;
    const float c0 = 2.0f;
    const double k = 0.5, dt = 1.0;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    bs_field_spec s = bs_test_spec(d_um2_s, k, 0);
    s.scale = (double)c0;
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, c0, NULL), BS_OK);
    bs_solver_opts o = bs_test_opts(tol, 10000);
    bs_field_solve(&f, &lat, dt, &o);
    const double expect = (double)c0 / (1.0 + k * dt);
    double emax = 0.0;
    for (int i = 0; i < w * h; ++i) {
        double e = fabs((double)f.c[i] - expect) / expect;
        emax = e > emax ? e : emax;
    }
    printf("    D = %g: %d sweeps, relative error %.2e\n", d_um2_s, f.last_iters, emax);
    assert_true(f.last_iters < 10000);
    assert_true(emax <= rel);
    /* a second step continues the geometric decay */
    bs_field_solve(&f, &lat, dt, &o);
    for (int i = 0; i < w * h; ++i) assert_true(fabs((double)f.c[i] - expect / (1.0 + k * dt)) <= 2.0 * rel * expect);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

static void test_backward_euler_decay(void **state)
{
    (void)state;
    bs_decay_step(0.0, 1e-7, 1.2e-7); /* one rounding */
    bs_decay_step(50.0, 1e-7, 1e-6);
}

/* ---- 3. mass conservation ----------------------------------------------- */

/* Summing the implicit equations over the box, the face fluxes cancel in
 * pairs (the harmonic-mean conductance is the same seen from both sides),
 * so sum(c_new - c_old) = s dt exactly for the solved system, also across
 * tissue boundaries. The total is the uniform mode, the slowest one for
 * SOR (only 1/dt damps it); the solver's uniform correction sets it before
 * the sweeps, so with the usual stopping rule it is met to ~2e-5 here (it
 * was ~2e-4 without the correction), and iterated to the float noise floor
 * to ~5e-6. Returns the relative mass error. */
static double bs_mass_error(double tol, int max_iters)
{
    const int w = 32, h = 32;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    for (int y = 4; y < 28; ++y) /* a bone rod through the box */
        lat.tissue[y * w + 20] = BS_TISSUE_BONE;
    bs_field_spec s = bs_test_spec(50.0, 0.0, 0);
    s.D_factor[BS_TISSUE_BONE] = 0.05;
    s.scale = 10.0; /* the source site reaches ~8 */
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.25f, NULL), BS_OK);
    const double before = bs_test_sum(&f);
    const float rate = 100.0f;
    const double dt = 1.0;
    f.src[10 * w + 9] = rate;
    bs_solver_opts o = bs_test_opts(tol, max_iters);
    bs_field_solve(&f, &lat, dt, &o);
    double gained = bs_test_sum(&f) - before;
    double rel = fabs(gained - (double)rate * dt) / ((double)rate * dt);
    printf("    tol %g: mass gained %.6f, expected %.6f, relative error %.1e (%d sweeps)\n", tol, gained,
            (double)rate * dt, rel, f.last_iters);
    /* the source spread out: the far corner, behind the rod, received some */
    assert_true(f.c[(h - 1) * w + (w - 1)] > 0.25f);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
    return rel;
}

static void test_conservation(void **state)
{
    (void)state;
    assert_true(bs_mass_error(1e-7, 100000) < 1e-4);
    assert_true(bs_mass_error(0.0, 3000) < 2e-5);
}

/* ---- 4. bone permeability ----------------------------------------------- */

static void bs_wall_run(int with_wall, float *near, float *far)
{
    const int w = 60, h = 8;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    if (with_wall)
        for (int y = 0; y < h; ++y) {
            lat.tissue[y * w + 20] = BS_TISSUE_BONE;
            lat.tissue[y * w + 21] = BS_TISSUE_BONE;
        }
    bs_field_spec s = bs_test_spec(100.0, 36.0, 1); /* decay length 100 um */
    s.D_factor[BS_TISSUE_BONE] = 0.01;
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    for (int y = 0; y < h; ++y) {
        f.fixed[y * w] = 1;
        f.fixed_val[y * w] = 1.0f;
    }
    bs_solver_opts o = bs_test_opts(1e-7, 100000);
    bs_field_solve(&f, &lat, 1.0, &o);
    *near = f.c[4 * w + 15];
    *far = f.c[4 * w + 30];
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

static void test_bone_permeability(void **state)
{
    (void)state;
    float near_m, far_m, near_b, far_b;
    bs_wall_run(0, &near_m, &far_m);
    bs_wall_run(1, &near_b, &far_b);
    printf("    beyond the wall: %.4g (all marrow %.4g), ratio %.3f\n", (double)far_b, (double)far_m,
            (double)(far_b / far_m));
    assert_true(far_m > 0.0f);
    assert_true(far_b < 0.1f * far_m);
    /* the wall holds the field back on the source side */
    assert_true(near_b > near_m);
}

/* ---- 5. thread determinism ---------------------------------------------- */

/* A 2D problem with everything switched on: bone blocks, Dirichlet
 * vessels, sources, uptake, a fixed domain edge; odd sizes so the colours
 * have rows of different lengths. */
static void bs_busy_problem(bs_field *f, bs_lattice *lat, int quasi_steady)
{
    const int w = 97, h = 61;
    *lat = bs_test_lattice(w, h, 10.0);
    for (int y = 10; y < 25; ++y)
        for (int x = 30; x < 45; ++x) lat->tissue[y * w + x] = BS_TISSUE_BONE;
    bs_field_spec s = bs_test_spec(70.0, 0.7, quasi_steady);
    s.D_factor[BS_TISSUE_BONE] = 0.02;
    s.boundary = BS_BC_FIXED;
    s.boundary_value = 0.3;
    assert_int_equal(bs_field_init(f, &s, w, h, 0.1f, NULL), BS_OK);
    uint32_t r = 12345u;
    for (int i = 0; i < w * h; ++i) {
        r = r * 1664525u + 1013904223u;
        if ((r >> 24) < 8) f->src[i] = (float)(r >> 8 & 0xffff) / 655.36f;
        if ((r >> 16 & 0xff) < 30) f->uptake[i] = 5.0f;
    }
    for (int y = 40; y < 43; ++y)
        for (int x = 60; x < 63; ++x) {
            lat->tissue[y * w + x] = BS_TISSUE_VESSEL;
            f->fixed[y * w + x] = 1;
            f->fixed_val[y * w + x] = 2.0f;
        }
}

static void test_thread_determinism(void **state)
{
    (void)state;
#ifdef _OPENMP
    const int counts[3] = { 1, 2, 4 };
    const int prev = omp_get_max_threads();
    for (int variant = 0; variant < 2; ++variant) {
        /* variant 0: transient, stopped after 7 sweeps (mid-iteration state);
         * variant 1: quasi-steady, run to convergence */
        float *ref = NULL;
        int ref_iters = 0;
        for (int ti = 0; ti < 3; ++ti) {
            omp_set_num_threads(counts[ti]);
            bs_field f;
            bs_lattice lat;
            bs_busy_problem(&f, &lat, variant);
            bs_solver_opts o = variant ? bs_test_opts(1e-6, 100000) : bs_test_opts(0.0, 7);
            bs_field_solve(&f, &lat, 1.0, &o);
            bs_field_solve(&f, &lat, 1.0, &o);
            size_t bytes = (size_t)f.w * (size_t)f.h * sizeof(float);
            if (!ref) {
                ref = malloc(bytes);
                assert_non_null(ref);
                memcpy(ref, f.c, bytes);
                ref_iters = f.last_iters;
            } else {
                assert_int_equal(f.last_iters, ref_iters);
                assert_memory_equal(ref, f.c, bytes);
            }
            bs_field_free(&f);
            bs_test_lattice_free(&lat);
        }
        free(ref);
    }
    omp_set_num_threads(prev);
#else
    skip();
#endif
}

/* ---- 6. warm start ------------------------------------------------------ */

static void test_warm_start(void **state)
{
    (void)state;
    bs_field f;
    bs_lattice lat;
    bs_busy_problem(&f, &lat, 1);
    bs_solver_opts o = bs_test_opts(1e-5, 100000);
    bs_field_solve(&f, &lat, 1.0, &o);
    int first = f.last_iters;
    bs_field_solve(&f, &lat, 1.0, &o);
    int second = f.last_iters;
    printf("    cold start %d sweeps, warm start %d\n", first, second);
    assert_true(first >= 20);
    assert_true(second * 10 <= first);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

/* ---- further behaviour -------------------------------------------------- */

/* A fixed domain edge with nothing else going on fills the domain with the
 * edge value; Dirichlet sites keep their value to the bit. */
static void test_fixed_boundary_and_dirichlet(void **state)
{
    (void)state;
    const int w = 21, h = 13;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    bs_field_spec s = bs_test_spec(100.0, 0.0, 1);
    s.boundary = BS_BC_FIXED;
    s.boundary_value = 3.0;
    s.scale = 3.0;
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    bs_solver_opts o = bs_test_opts(1e-7, 100000);
    bs_field_solve(&f, &lat, 1.0, &o);
    for (int i = 0; i < w * h; ++i) assert_true(fabsf(f.c[i] - 3.0f) < 1e-4f);

    f.fixed[6 * w + 10] = 1;
    f.fixed_val[6 * w + 10] = 0.123f;
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(f.c[6 * w + 10] == 0.123f);
    assert_true(f.c[6 * w + 11] < 3.0f && f.c[6 * w + 11] > 0.123f);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

/* Impermeable tissue: faces between zero-diffusivity sites carry nothing
 * (no 0/0); with decay each site settles at s/k on its own; with nothing
 * to balance a quasi-steady site it is left alone, not turned into NaN. */
static void test_zero_diffusivity(void **state)
{
    (void)state;
    const int w = 8, h = 8;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    memset(lat.tissue, BS_TISSUE_BONE, (size_t)(w * h));
    bs_field_spec s = bs_test_spec(100.0, 2.0, 1);
    s.D_factor[BS_TISSUE_BONE] = 0.0;
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 1.0f, NULL), BS_OK);
    f.src[3] = 4.0f;
    bs_solver_opts o = bs_test_opts(1e-7, 1000);
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(fabsf(f.c[3] - 2.0f) < 1e-6f);
    assert_true(fabsf(f.c[4]) < 1e-6f);
    bs_field_free(&f);

    s.decay_per_h = 0.0;
    assert_int_equal(bs_field_init(&f, &s, w, h, 1.0f, NULL), BS_OK);
    f.src[3] = 4.0f;
    bs_field_solve(&f, &lat, 1.0, &o);
    for (int i = 0; i < w * h; ++i) assert_true(f.c[i] == 1.0f);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

/* A caller-chosen omega reaches the same solution as the automatic one. */
static void test_explicit_omega(void **state)
{
    (void)state;
    bs_field fa, fb;
    bs_lattice la, lb;
    bs_busy_problem(&fa, &la, 1);
    bs_busy_problem(&fb, &lb, 1);
    bs_solver_opts oa = bs_test_opts(1e-6, 100000);
    bs_solver_opts ob = oa;
    ob.omega = 1.5;
    bs_field_solve(&fa, &la, 1.0, &oa);
    bs_field_solve(&fb, &lb, 1.0, &ob);
    float cmax = 0.0f, dmax = 0.0f;
    for (int i = 0; i < fa.w * fa.h; ++i) {
        cmax = fa.c[i] > cmax ? fa.c[i] : cmax;
        float d = fabsf(fa.c[i] - fb.c[i]);
        dmax = d > dmax ? d : dmax;
    }
    printf("    auto omega %d sweeps, omega 1.5 %d sweeps; max c %g, max difference %g\n", fa.last_iters, fb.last_iters,
            (double)cmax, (double)dmax);
    assert_true(dmax < 1e-4f * cmax);
    bs_field_free(&fa);
    bs_field_free(&fb);
    bs_test_lattice_free(&la);
    bs_test_lattice_free(&lb);
}

/* The solver caches conductances and its omega estimate between solves.
 * After each kind of change the cache must notice, a solve must give the
 * very bytes a fresh field gives from the same state. */
enum { BS_MUT_TISSUE, BS_MUT_FIXED, BS_MUT_SPEC, BS_MUT_BOUNDARY, BS_MUT_COUNT };

static void bs_mutate(bs_field *f, bs_lattice *lat, int what)
{
    const int w = f->w;
    switch (what) {
    case BS_MUT_TISSUE:
        for (int y = 30; y < 50; ++y) lat->tissue[y * w + 15] = BS_TISSUE_BONE;
        break;
    case BS_MUT_FIXED:
        f->fixed[20 * w + 80] = 1;
        f->fixed_val[20 * w + 80] = 4.0f;
        break;
    case BS_MUT_SPEC: f->spec.D_factor[BS_TISSUE_BONE] = 0.5; break;
    default: f->spec.boundary = BS_BC_ZERO_FLUX; break;
    }
}

static void test_cache_matches_fresh(void **state)
{
    (void)state;
    bs_solver_opts o = bs_test_opts(1e-6, 100000);
    for (int what = 0; what < BS_MUT_COUNT; ++what) {
        bs_field fa, fb;
        bs_lattice la, lb;
        bs_busy_problem(&fa, &la, 1);
        bs_field_solve(&fa, &la, 1.0, &o); /* fills the cache */
        bs_busy_problem(&fb, &lb, 1);
        size_t bytes = (size_t)fa.w * (size_t)fa.h * sizeof(float);
        memcpy(fb.c, fa.c, bytes);
        bs_mutate(&fa, &la, what);
        bs_mutate(&fb, &lb, what);
        bs_field_solve(&fa, &la, 1.0, &o); /* cached field, changed input */
        bs_field_solve(&fb, &lb, 1.0, &o); /* fresh field */
        assert_true(fa.last_iters > 1);
        assert_int_equal(fa.last_iters, fb.last_iters);
        assert_memory_equal(fa.c, fb.c, bytes);
        bs_field_free(&fa);
        bs_field_free(&fb);
        bs_test_lattice_free(&la);
        bs_test_lattice_free(&lb);
    }
}

/* Degenerate shapes (one site, one row, one column, odd widths): no
 * out-of-bounds access (run under ASan) and sensible values. */
static void test_small_grids(void **state)
{
    (void)state;
    const int shapes[5][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 2, 3 }, { 3, 2 } };
    bs_solver_opts o = bs_test_opts(1e-7, 20000);
    for (int sh = 0; sh < 5; ++sh) {
        const int w = shapes[sh][0], h = shapes[sh][1];
        bs_lattice lat = bs_test_lattice(w, h, 10.0);
        bs_field_spec s = bs_test_spec(100.0, 2.0, 1);
        bs_field f;
        assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
        for (int i = 0; i < w * h; ++i) f.src[i] = 4.0f;
        bs_field_solve(&f, &lat, 1.0, &o);
        /* uniform source and decay, zero flux: c = s/k everywhere. An
         * exactly uniform error is corrected through the weak sink alone
         * (the fluxes are exactly 0) and stalls once a step is below half
         * an ulp, at up to ulp(c) * (G_sum / k) / 2 ~ 2e-4 here (field.c) */
        for (int i = 0; i < w * h; ++i) assert_true(fabsf(f.c[i] - 2.0f) < 4e-4f);
        if (w * h > 1) {
            /* one held site: values fall monotonically away from it */
            f.fixed[0] = 1;
            f.fixed_val[0] = 10.0f;
            bs_field_solve(&f, &lat, 1.0, &o);
            assert_true(f.c[0] == 10.0f);
            assert_true(f.c[w * h - 1] < f.c[(w > 1) ? 1 : w] || w * h == 2);
            for (int i = 1; i < w * h; ++i) assert_true(f.c[i] > 2.0f && f.c[i] < 10.0f);
        }
        bs_field_free(&f);
        bs_test_lattice_free(&lat);
    }
}


/* ---- settled regions, zero fields, reused per-site data ------------------ */

/* An all-zero field with no source, no held value and a zero boundary
 * stays zero without a sweep; anything that makes it non-trivial (a held
 * non-zero value, a NaN uptake that must be reported) is solved. */
static void test_zero_field_skipped(void **state)
{
    (void)state;
    const int w = 40, h = 30;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    bs_field_spec s = bs_test_spec(50.0, 1.0, 0);
    bs_field f;
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    f.fixed[5 * w + 5] = 1; /* held at 0 */
    bs_solver_opts o = bs_test_opts(1e-6, 1000);
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_int_equal(f.last_iters, 0);
    assert_true(f.last_site_updates == 0);
    for (int i = 0; i < w * h; ++i) assert_true(f.c[i] == 0.0f && !signbit(f.c[i]));

    f.fixed_val[5 * w + 5] = 2.0f; /* now something to solve */
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(f.last_iters > 0);
    assert_true(f.c[5 * w + 5] == 2.0f && f.c[5 * w + 6] > 0.0f);

    bs_field_free(&f);
    assert_int_equal(bs_field_init(&f, &s, w, h, 0.0f, NULL), BS_OK);
    f.uptake[7] = NAN;
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(f.last_iters > 0);
    assert_true(isnan(f.c[7]));
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
}

/* A point source switched on in a converged field: the re-solve relaxes the
 * region around it, not the whole grid, gives the same bits at 1, 2 and 4
 * threads, and lands within a few tolerances of the tightly converged
 * answer. */
static void bs_local_problem(bs_field *f, bs_lattice *lat)
{
    const int w = 300, h = 160;
    *lat = bs_test_lattice(w, h, 10.0);
    for (int y = 60; y < 100; ++y)
        for (int x = 140; x < 150; ++x) lat->tissue[y * w + x] = BS_TISSUE_BONE;
    /* decay length sqrt(D / (1/dt + k)) ~ 7 sites */
    bs_field_spec s = bs_test_spec(30.0, 20.0, 0);
    s.D_factor[BS_TISSUE_BONE] = 0.05;
    assert_int_equal(bs_field_init(f, &s, w, h, 0.0f, NULL), BS_OK);
    for (int i = 0; i < w * h; i += 7) f->src[i] = 10.0f;
}

static void test_local_change_local_work(void **state)
{
    (void)state;
#ifdef _OPENMP
    const int prev = omp_get_max_threads();
    const int counts[3] = { 1, 2, 4 };
    float *ref = NULL;
    int ref_iters = 0;
    uint64_t ref_updates = 0;
    bs_solver_opts o = bs_test_opts(1e-4, 5000);
    size_t bytes = 0;
    for (int ti = 0; ti < 3; ++ti) {
        omp_set_num_threads(counts[ti]);
        bs_field f;
        bs_lattice lat;
        bs_local_problem(&f, &lat);
        for (int k = 0; k < 40; ++k) /* reach the steady state of the sources */
            bs_field_solve(&f, &lat, 1.0, &o);
        f.src[20 * f.w + 30] = 100.0f;
        float *before = NULL;
        if (!ref) {
            before = malloc((size_t)f.w * (size_t)f.h * sizeof(float));
            assert_non_null(before);
            memcpy(before, f.c, (size_t)f.w * (size_t)f.h * sizeof(float));
        }
        bs_field_solve(&f, &lat, 1.0, &o);
        if (before) {
            /* the same step converged tightly, from the same start */
            bs_field g;
            bs_lattice lg;
            bs_local_problem(&g, &lg);
            memcpy(g.src, f.src, (size_t)f.w * (size_t)f.h * sizeof(float));
            memcpy(g.c, before, (size_t)f.w * (size_t)f.h * sizeof(float));
            bs_solver_opts tight = bs_test_opts(1e-8, 20000);
            bs_field_solve(&g, &lg, 1.0, &tight);
            float e = 0.0f;
            for (int i = 0; i < f.w * f.h; ++i) e = fmaxf(e, fabsf(f.c[i] - g.c[i]));
            printf("    largest difference from the tightly converged step: %.2e (tol 1e-4)\n", (double)e);
            assert_true(e < 1e-3f);
            bs_field_free(&g);
            bs_test_lattice_free(&lg);
            free(before);
        }
        const uint64_t full = (uint64_t)f.last_iters * (uint64_t)f.w * (uint64_t)f.h;
        bytes = (size_t)f.w * (size_t)f.h * sizeof(float);
        if (!ref) {
            printf("    point source: %d sweeps, %llu relaxations (%.1f%% of full sweeps)\n", f.last_iters,
                    (unsigned long long)f.last_site_updates, 100.0 * (double)f.last_site_updates / (double)full);
            assert_true(f.last_iters > 5);
            assert_true(f.last_site_updates * 4 < full);
            ref = malloc(bytes);
            assert_non_null(ref);
            memcpy(ref, f.c, bytes);
            ref_iters = f.last_iters;
            ref_updates = f.last_site_updates;
        } else {
            assert_int_equal(f.last_iters, ref_iters);
            assert_true(f.last_site_updates == ref_updates);
            assert_memory_equal(ref, f.c, bytes);
        }
        bs_field_free(&f);
        bs_test_lattice_free(&lat);
    }
    omp_set_num_threads(prev);
    free(ref);
#else
    skip();
#endif
}

/* Per-site data of rows with no uptake and no held site is kept between
 * solves; after each kind of change that touches it the solve must give
 * the very bytes a fresh field gives from the same state. */
enum { BS_PL_SRC, BS_PL_UPTAKE, BS_PL_HOLD, BS_PL_DT, BS_PL_TISSUE, BS_PL_OMEGA, BS_PL_COUNT };

static void bs_plain_problem(bs_field *f, bs_lattice *lat)
{
    const int w = 130, h = 50;
    *lat = bs_test_lattice(w, h, 10.0);
    for (int x = 40; x < 60; ++x) lat->tissue[25 * w + x] = BS_TISSUE_BONE;
    bs_field_spec s = bs_test_spec(40.0, 0.5, 0);
    s.D_factor[BS_TISSUE_BONE] = 0.1;
    assert_int_equal(bs_field_init(f, &s, w, h, 0.2f, NULL), BS_OK);
    for (int x = 0; x < w; x += 3) f->uptake[10 * w + x] = 4.0f; /* row 10 has uptake, the others none */
    f->src[30 * w + 70] = 20.0f;
}

static void test_plain_rows_match_fresh(void **state)
{
    (void)state;
    for (int what = 0; what < BS_PL_COUNT; ++what) {
        bs_field fa, fb;
        bs_lattice la, lb;
        bs_plain_problem(&fa, &la);
        bs_plain_problem(&fb, &lb);
        bs_solver_opts o = bs_test_opts(1e-6, 100000);
        double dt = 1.0;
        bs_field_solve(&fa, &la, dt, &o); /* fills the caches */
        bs_field_solve(&fa, &la, dt, &o);
        const int w = fa.w;
        bs_field *both[2] = { &fa, &fb };
        bs_lattice *lats[2] = { &la, &lb };
        for (int k = 0; k < 2; ++k) {
            bs_field *f = both[k];
            switch (what) {
            case BS_PL_SRC: f->src[40 * w + 100] = 5.0f; break;
            case BS_PL_UPTAKE: f->uptake[35 * w + 12] = 3.0f; break;
            case BS_PL_HOLD:
                f->fixed[5 * w + 120] = 1;
                f->fixed_val[5 * w + 120] = 1.5f;
                break;
            case BS_PL_DT: dt = 0.5; break;
            case BS_PL_TISSUE: lats[k]->tissue[40 * w + 90] = BS_TISSUE_BONE; break;
            default: o.omega = 1.7; break;
            }
        }
        memcpy(fb.c, fa.c, (size_t)w * (size_t)fa.h * sizeof(float));
        bs_field_solve(&fa, &la, dt, &o); /* cached field, changed input */
        bs_field_solve(&fb, &lb, dt, &o); /* fresh field */
        assert_true(fa.last_iters >= 1);
        assert_int_equal(fa.last_iters, fb.last_iters);
        assert_memory_equal(fa.c, fb.c, (size_t)w * (size_t)fa.h * sizeof(float));
        bs_field_free(&fa);
        bs_field_free(&fb);
        bs_test_lattice_free(&la);
        bs_test_lattice_free(&lb);
    }
}

/* Solving allocates nothing: every scratch array comes from bs_field_init
 * (STYLE.md: no allocation inside the step loop). Counted through the
 * wrapped allocator, across solves that rebuild every cache. */
static void test_solve_does_not_allocate(void **state)
{
    (void)state;
#ifdef BS_TEST_COUNT_ALLOCS
    bs_field f;
    bs_lattice lat;
    bs_busy_problem(&f, &lat, 0);
    bs_solver_opts o = bs_test_opts(1e-6, 500);
    bs_field_solve(&f, &lat, 1.0, &o);
    assert_true(bs_allocs > 0); /* the wrapper is live: init allocated */
    const long before = bs_allocs;
    for (int k = 0; k < 4; ++k) {
        lat.tissue[(10 + k) * f.w + 5] = BS_TISSUE_BONE; /* conductances rebuilt */
        f.fixed[(20 + k) * f.w + 50] = 1; /* omega estimate redone */
        f.spec.D_factor[BS_TISSUE_BONE] = 0.02 + 0.01 * k; /* everything rebuilt */
        bs_field_solve(&f, &lat, 1.0, &o);
        bs_field_solve(&f, &lat, 0.5, &o);
    }
    printf("    %ld allocations in 8 solves\n", bs_allocs - before);
    assert_int_equal(bs_allocs - before, 0);
    bs_field_free(&f);
    bs_test_lattice_free(&lat);
#else
    skip();
#endif
}

/* bs_field_solve_many gives the bits of one bs_field_solve after another,
 * at any thread count, whether it shares rows or hands out whole fields:
 * six different fields (transient and quasi-steady, held sites, a held
 * edge, an all-zero one) over one lattice, three steps. */
static void bs_many_fields(bs_field *f, int n, const bs_lattice *lat)
{
    for (int k = 0; k < n; ++k) {
        bs_field_spec s = bs_test_spec(20.0 + 30.0 * k, 0.3 * k, k == 1);
        s.D_factor[BS_TISSUE_BONE] = 0.02 * (k + 1);
        if (k == 3) {
            s.boundary = BS_BC_FIXED;
            s.boundary_value = 0.5;
        }
        assert_int_equal(bs_field_init(&f[k], &s, lat->w, lat->h, k == 5 ? 0.0f : 0.1f * k, NULL), BS_OK);
        if (k == 5) continue; /* stays all zero */
        uint32_t r = 777u + (uint32_t)k;
        for (int i = 0; i < lat->w * lat->h; ++i) {
            r = r * 1664525u + 1013904223u;
            if ((r >> 24) < 6) f[k].src[i] = (float)(r >> 8 & 0xffff) / 6553.6f;
            if (k == 1 && (r >> 16 & 0xff) < 40) f[k].uptake[i] = 3.0f;
        }
        if (k == 1 || k == 4)
            for (int y = 20; y < 23; ++y) {
                f[k].fixed[y * lat->w + 40] = 1;
                f[k].fixed_val[y * lat->w + 40] = 1.5f;
            }
    }
}

static void test_solve_many_matches_one_by_one(void **state)
{
    (void)state;
    enum { N = 6 };
    const int w = 120, h = 70;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    for (int y = 30; y < 40; ++y)
        for (int x = 50; x < 80; ++x) lat.tissue[y * w + x] = BS_TISSUE_BONE;
    const size_t bytes = (size_t)w * (size_t)h * sizeof(float);
    bs_solver_opts o = bs_test_opts(1e-5, 5000);
    bs_field ref[N];
    bs_many_fields(ref, N, &lat);
    for (int step = 0; step < 3; ++step)
        for (int k = 0; k < N; ++k) bs_field_solve(&ref[k], &lat, 1.0, &o);
#ifdef _OPENMP
    const int prev = omp_get_max_threads();
    const int counts[3] = { 1, 2, 4 };
#else
    const int counts[1] = { 1 };
#endif
    for (size_t ti = 0; ti < sizeof counts / sizeof counts[0]; ++ti) {
#ifdef _OPENMP
        omp_set_num_threads(counts[ti]);
#endif
        bs_field f[N];
        bs_many_fields(f, N, &lat);
        for (int step = 0; step < 3; ++step) bs_field_solve_many(f, N, &lat, 1.0, &o);
        /* and from inside the caller's parallel region (issue 19), where
         * the whole-field path applies (more than one thread) */
        bs_field g[N];
        bs_many_fields(g, N, &lat);
        int order[N], in_team = 0;
        for (int step = 0; step < 3; ++step) {
            if (bs_field_solve_many_in_team(g, N, &lat, order)) {
                in_team = 1;
#pragma omp parallel
                bs_field_solve_many_team(g, N, &lat, 1.0, &o, order);
            } else {
                bs_field_solve_many(g, N, &lat, 1.0, &o);
            }
        }
        assert_int_equal(in_team, counts[ti] > 1);
        for (int k = 0; k < N; ++k) {
            assert_int_equal(f[k].last_iters, ref[k].last_iters);
            assert_memory_equal(f[k].c, ref[k].c, bytes);
            assert_int_equal(g[k].last_iters, ref[k].last_iters);
            assert_memory_equal(g[k].c, ref[k].c, bytes);
            bs_field_free(&f[k]);
            bs_field_free(&g[k]);
        }
    }
#ifdef _OPENMP
    omp_set_num_threads(prev);
#endif
    assert_int_equal(ref[5].last_iters, 0); /* the all-zero field was skipped */
    for (int k = 0; k < N; ++k) bs_field_free(&ref[k]);
    bs_test_lattice_free(&lat);
}

/* Fields that share their per-solve arrays (bs_field_share_scratch, issue
 * 19) give the bits of fields with their own scratch, at 1, 2 and 4
 * threads over 1 and 2 slots (4 threads on 2 slots: two threads wait for
 * a slot), whole fields per thread and from the caller's region, with the
 * tissue changing between steps (the cached conductances rebuilt). */
static void test_shared_scratch_matches(void **state)
{
    (void)state;
    enum { N = 6 };
    const int w = 120, h = 70;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    for (int y = 30; y < 40; ++y)
        for (int x = 50; x < 80; ++x) lat.tissue[y * w + x] = BS_TISSUE_BONE;
    const size_t bytes = (size_t)w * (size_t)h * sizeof(float);
    bs_solver_opts o = bs_test_opts(1e-5, 5000);
    bs_field ref[N];
    bs_many_fields(ref, N, &lat);
    for (int step = 0; step < 4; ++step) {
        lat.tissue[(31 + step) * w + 60] = BS_TISSUE_MARROW;
        for (int k = 0; k < N; ++k) bs_field_solve(&ref[k], &lat, 1.0, &o);
    }
    const int counts[3] = { 1, 2, 4 };
    for (int slots = 1; slots <= 2; ++slots)
        for (int ti = 0; ti < 3; ++ti) {
            for (int y = 30; y < 40; ++y)
                for (int x = 50; x < 80; ++x) lat.tissue[y * w + x] = BS_TISSUE_BONE;
#ifdef _OPENMP
            const int prev = omp_get_max_threads();
            omp_set_num_threads(counts[ti]);
#endif
            bs_field f[N];
            bs_many_fields(f, N, &lat);
            assert_int_equal(bs_field_share_scratch(f, N, slots, NULL), BS_OK);
            assert_int_equal(bs_field_share_scratch(f, N, slots, NULL), BS_ERR_INVALID); /* already shared */
            for (int step = 0; step < 4; ++step) {
                lat.tissue[(31 + step) * w + 60] = BS_TISSUE_MARROW;
                int order[N];
                if (step & 1 && bs_field_solve_many_in_team(f, N, &lat, order)) {
#pragma omp parallel
                    bs_field_solve_many_team(f, N, &lat, 1.0, &o, order);
                } else {
                    bs_field_solve_many(f, N, &lat, 1.0, &o);
                }
            }
#ifdef _OPENMP
            omp_set_num_threads(prev);
#endif
            for (int k = 0; k < N; ++k) {
                assert_int_equal(f[k].last_iters, ref[k].last_iters);
                assert_memory_equal(f[k].c, ref[k].c, bytes);
            }
            for (int k = 0; k < N; ++k) bs_field_free(&f[k]); /* the last one frees the pool */
        }
    assert_true(bs_field_work_bytes_shared(w, h, N, 2) < (size_t)N * bs_field_work_bytes(w, h));
    /* one set per thread where whole fields go to the threads, one in all
     * where every solve shares its rows (a large lattice, a single field,
     * one thread) */
    assert_int_equal(bs_field_scratch_slots(w, h, N, 4), 4);
    assert_int_equal(bs_field_scratch_slots(w, h, N, 1), 1);
    assert_int_equal(bs_field_scratch_slots(w, h, 1, 4), 1);
    assert_int_equal(bs_field_scratch_slots(1024, 1024, 9, 2), 1);
    assert_int_equal(bs_field_scratch_slots(1024, 1024, 9, 8), 8);
    for (int k = 0; k < N; ++k) bs_field_free(&ref[k]);
    bs_test_lattice_free(&lat);
}

/* Fields whose uptake, fixed and fixed_val are the shared zero block
 * (bs_field_share_zero_inputs, issue 19: memory) give the bits of fields
 * with arrays of their own: a fixed and a zero-flux boundary, a decaying
 * and a quasi-steady field, an all-zero one; shared before or after the
 * per-solve scratch; at 1, 2 and 4 threads, one solve at a time (rows
 * shared by the threads) and many at once; the tissue changing between
 * steps; one field taken off the block mid-run (bs_field_own_inputs) and
 * given an uptake there and in the reference alike. A field with a
 * non-zero input is refused and left as it was. */
static void test_zero_inputs_match(void **state)
{
    (void)state;
    enum { N = 6, STEPS = 5 };
    const int w = 130, h = 70;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    const size_t n = (size_t)w * (size_t)h, bytes = n * sizeof(float);
    bs_solver_opts o = bs_test_opts(1e-5, 5000);
    const int zero[N] = { 1, 0, 1, 1, 0, 1 }; /* bs_many_fields: 1 has uptake, 1 and 4 held sites */
    for (int variant = 0; variant < 2; ++variant) {
        const int counts[3] = { 1, 2, 4 };
        for (int ti = 0; ti < 3; ++ti) {
            for (int y = 30; y < 40; ++y)
                for (int x = 50; x < 80; ++x) lat.tissue[y * w + x] = BS_TISSUE_BONE;
            bs_field ref[N], f[N];
            bs_many_fields(ref, N, &lat);
            bs_many_fields(f, N, &lat);
            if (variant == 1) assert_int_equal(bs_field_share_scratch(f, N, 2, NULL), BS_OK);
            bs_error err;
            assert_int_equal(bs_field_share_zero_inputs(f, 2, &err), BS_ERR_INVALID); /* field 1 has an uptake */
            assert_false(bs_field_inputs_shared(&f[0]));
            assert_int_equal(bs_field_share_zero_inputs(f + 2, 2, NULL), BS_OK); /* one block for 2 and 3 */
            assert_int_equal(bs_field_share_zero_inputs(f, 1, NULL), BS_OK); /* another for 0 */
            assert_int_equal(bs_field_share_zero_inputs(f + 5, 1, NULL), BS_OK);
            assert_int_equal(bs_field_share_zero_inputs(f + 5, 1, NULL), BS_ERR_INVALID); /* already shared */
            for (int k = 0; k < N; ++k) assert_int_equal(bs_field_inputs_shared(&f[k]), zero[k]);
            assert_ptr_equal(f[2].uptake, f[3].fixed_val);
            assert_int_equal(bs_field_zero_block_bytes(&f[2]), bytes);
            if (variant == 0) assert_int_equal(bs_field_share_scratch(f, N, 2, NULL), BS_OK);
#ifdef _OPENMP
            const int prev = omp_get_max_threads();
#endif
            for (int step = 0; step < STEPS; ++step) {
                lat.tissue[(31 + step) * w + 60] = BS_TISSUE_MARROW;
                if (step == 3) {
                    /* field 2 gets an uptake: off the block first */
                    assert_int_equal(bs_field_own_inputs(&f[2], NULL), BS_OK);
                    assert_false(bs_field_inputs_shared(&f[2]));
                    assert_true(bs_field_inputs_shared(&f[3]));
                    for (int i = 0; i < w; i += 3) f[2].uptake[10 * w + i] = ref[2].uptake[10 * w + i] = 2.0f;
                }
#ifdef _OPENMP
                omp_set_num_threads(1);
#endif
                for (int k = 0; k < N; ++k) bs_field_solve(&ref[k], &lat, 1.0, &o);
#ifdef _OPENMP
                omp_set_num_threads(counts[ti]);
#endif
                if (step & 1)
                    bs_field_solve_many(f, N, &lat, 1.0, &o);
                else
                    for (int k = 0; k < N; ++k) bs_field_solve(&f[k], &lat, 1.0, &o);
                for (int k = 0; k < N; ++k) {
                    assert_int_equal(f[k].last_iters, ref[k].last_iters);
                    assert_memory_equal(f[k].c, ref[k].c, bytes);
                }
            }
#ifdef _OPENMP
            omp_set_num_threads(prev);
#endif
            assert_true(ref[0].last_iters > 0 && ref[3].last_iters > 0);
            for (int k = 0; k < N; ++k) {
                bs_field_free(&ref[k]);
                bs_field_free(&f[k]); /* the last of a block frees it */
            }
        }
    }
    assert_true(bs_field_work_bytes_zero_saved(w, h) >= n); /* at least the Dirichlet map's copy */
    bs_test_lattice_free(&lat);
}

/* Fields sharing one tissue copy and, where D, D_factor and boundary
 * agree, one set of cached conductances (bs_field_share_conductances,
 * issue 19: memory) give the bits of fields with their own: four sets
 * among seven fields (one set differs from another by its boundary kind
 * only), a field that stays all zero (never solved) for three steps and
 * then has to catch up with every tissue change since, a tissue change
 * undone a step later, changes in the first and last rows (the halo
 * faces), one field's bone factor changed mid-run (its set is then
 * rebuilt for whichever field solves, and bs_field_solve_many solves one
 * after another); shared before and after the per-solve scratch and the
 * zero inputs; at 1, 2 and 4 threads, one at a time, many at once and
 * from the caller's region. */
static void bs_shared_g_fields(bs_field *f, int n, const bs_lattice *lat)
{
    /* set of each field: 0 1 0 2 3 1 ... by (D, bone factor, boundary) */
    const double D[7] = { 40.0, 40.0, 25.0, 25.0, 60.0, 40.0, 40.0 };
    const double bone[7] = { 0.05, 0.05, 0.1, 0.1, 0.05, 0.05, 0.05 };
    for (int k = 0; k < n; ++k) {
        bs_field_spec s = bs_test_spec(D[k], 0.2 + 0.3 * k, k == 3);
        s.D_factor[BS_TISSUE_BONE] = bone[k];
        if (k == 6) {
            s.boundary = BS_BC_FIXED;
            s.boundary_value = 0.25;
        }
        assert_int_equal(bs_field_init(&f[k], &s, lat->w, lat->h, k == 5 ? 0.0f : 0.1f * (float)k, NULL), BS_OK);
        if (k == 5) continue; /* all zero until step 3 */
        uint32_t r = 4242u + (uint32_t)k;
        for (int i = 0; i < lat->w * lat->h; ++i) {
            r = r * 1664525u + 1013904223u;
            if ((r >> 24) < 6) f[k].src[i] = (float)(r >> 8 & 0xffff) / 6553.6f;
            if (k == 1 && (r >> 16 & 0xff) < 40) f[k].uptake[i] = 2.0f;
        }
        if (k == 3)
            for (int y = 20; y < 23; ++y) {
                f[k].fixed[y * lat->w + 40] = 1;
                f[k].fixed_val[y * lat->w + 40] = 1.5f;
            }
    }
}

static void bs_shared_g_tissue(bs_lattice *lat, int step)
{
    const int w = lat->w, h = lat->h;
    if (step < 0) {
        memset(lat->tissue, BS_TISSUE_MARROW, (size_t)w * (size_t)h);
        for (int y = 30; y < 40; ++y)
            for (int x = 50; x < 80; ++x) lat->tissue[y * w + x] = BS_TISSUE_BONE;
        return;
    }
    lat->tissue[(31 + step) * w + 60] = BS_TISSUE_MARROW;
    if (step == 1) lat->tissue[5 * w + 7] = BS_TISSUE_BONE;
    if (step == 2) lat->tissue[5 * w + 7] = BS_TISSUE_MARROW; /* undone */
    if (step == 3) lat->tissue[0 * w + 20] = BS_TISSUE_BONE;
    if (step == 4) lat->tissue[(h - 1) * w + 21] = BS_TISSUE_BONE;
}

static void bs_shared_g_events(bs_field *f, int step)
{
    if (step == 3)
        for (int i = 100; i < f[5].w * f[5].h; i += 97) f[5].src[i] = 0.8f;
    if (step == 4) f[1].spec.D_factor[BS_TISSUE_BONE] = 0.2;
}

static void test_shared_conductances_match(void **state)
{
    (void)state;
    enum { N = 7, STEPS = 6 };
    const int w = 110, h = 64;
    bs_lattice lat = bs_test_lattice(w, h, 10.0);
    const size_t bytes = (size_t)w * (size_t)h * sizeof(float);
    bs_solver_opts o = bs_test_opts(1e-5, 5000);
    bs_field ref[N];
    float *cref[STEPS][N];
    int iref[STEPS][N];
    bs_shared_g_tissue(&lat, -1);
    bs_shared_g_fields(ref, N, &lat);
#ifdef _OPENMP
    const int prev = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    for (int step = 0; step < STEPS; ++step) {
        bs_shared_g_tissue(&lat, step);
        bs_shared_g_events(ref, step);
        for (int k = 0; k < N; ++k) {
            bs_field_solve(&ref[k], &lat, 1.0, &o);
            cref[step][k] = malloc(bytes);
            assert_non_null(cref[step][k]);
            memcpy(cref[step][k], ref[k].c, bytes);
            iref[step][k] = ref[k].last_iters;
        }
    }
    assert_int_equal(ref[5].last_iters > 0, 1); /* solved once it had a source */
    const int counts[3] = { 1, 2, 4 };
    for (int variant = 0; variant < 2; ++variant)
        for (int ti = 0; ti < 3; ++ti) {
            bs_shared_g_tissue(&lat, -1);
            bs_field f[N];
            bs_shared_g_fields(f, N, &lat);
            assert_int_equal(bs_field_conductance_sets(f, N), N);
            if (variant == 1) {
                assert_int_equal(bs_field_share_scratch(f, N, 2, NULL), BS_OK);
                assert_int_equal(bs_field_share_zero_inputs(f + 4, 2, NULL), BS_OK);
            }
            assert_int_equal(bs_field_share_conductances(f, N, NULL), BS_OK);
            assert_int_equal(bs_field_share_conductances(f, N, NULL), BS_ERR_INVALID); /* already shared */
            assert_int_equal(bs_field_conductance_sets(f, N), 4);
            if (variant == 0) {
                assert_int_equal(bs_field_share_zero_inputs(f + 4, 2, NULL), BS_OK);
                assert_int_equal(bs_field_share_scratch(f, N, 2, NULL), BS_OK);
            }
            assert_int_equal(bs_field_conductance_sets(f, N), 4);
#ifdef _OPENMP
            omp_set_num_threads(counts[ti]);
#endif
            for (int step = 0; step < STEPS; ++step) {
                bs_shared_g_tissue(&lat, step);
                bs_shared_g_events(f, step);
                int order[N];
                if (step % 3 == 0) {
                    bs_field_solve_many(f, N, &lat, 1.0, &o);
                } else if (step % 3 == 1 && bs_field_solve_many_in_team(f, N, &lat, order)) {
#pragma omp parallel
                    bs_field_solve_many_team(f, N, &lat, 1.0, &o, order);
                } else {
                    for (int k = N - 1; k >= 0; --k) bs_field_solve(&f[k], &lat, 1.0, &o);
                }
                for (int k = 0; k < N; ++k) {
                    assert_int_equal(f[k].last_iters, iref[step][k]);
                    assert_memory_equal(f[k].c, cref[step][k], bytes);
                }
            }
#ifdef _OPENMP
            omp_set_num_threads(1);
#endif
            for (int k = 0; k < N; ++k) bs_field_free(&f[k]); /* the last of a set frees it */
        }
#ifdef _OPENMP
    omp_set_num_threads(prev);
#endif
    assert_true(bs_field_conductance_bytes(w, h) >= bytes);
    assert_true(bs_field_tissue_copy_bytes(w, h) >= (size_t)w * (size_t)h);
    for (int step = 0; step < STEPS; ++step)
        for (int k = 0; k < N; ++k) free(cref[step][k]);
    for (int k = 0; k < N; ++k) bs_field_free(&ref[k]);
    bs_test_lattice_free(&lat);
}

/* Skipping settled solves (field.c): once a solve settles in one sweep,
 * the next with the same inputs is skipped (c unchanged, no relaxation)
 * while the summed bound stays within skip_budget x tol x scale; any
 * change of an input, of c, of the tissue or of the time step makes it
 * solve; against a tightly converged trajectory the skipped one is at most
 * the budget further off than one solved every step; skip_budget 0 never
 * skips; the same bits at 1 and 4 threads. */
static void bs_skip_problem(bs_field *f, bs_lattice *lat, int w, int h)
{
    *lat = bs_test_lattice(w, h, 10.0);
    for (int x = w / 4; x < w / 2; ++x) lat->tissue[(h / 2) * w + x] = BS_TISSUE_BONE;
    bs_field_spec s = bs_test_spec(20.0, 3.0, 0);
    s.D_factor[BS_TISSUE_BONE] = 0.2;
    s.scale = 2.0;
    assert_int_equal(bs_field_init(f, &s, w, h, 0.0f, NULL), BS_OK);
    for (int i = 3; i < w * h; i += 11) f->src[i] = 0.7f;
    f->uptake[5 * w + 9] = 0.3f;
    f->fixed[(h - 3) * w + 4] = 1;
    f->fixed_val[(h - 3) * w + 4] = 1.5f;
}

/* Steps f until a solve settles in one sweep; returns the steps taken. */
static int bs_settle(bs_field *f, const bs_lattice *lat, const bs_solver_opts *o)
{
    for (int k = 1; k <= 400; ++k) {
        bs_field_solve(f, lat, 1.0, o);
        if (f->last_iters == 1 && f->skip.armed) return k;
    }
    return -1;
}

static void test_settled_solve_skipped(void **state)
{
    (void)state;
    const int w = 90, h = 64;
    const size_t n = (size_t)w * h;
    bs_lattice lat;
    bs_field f, twin;
    bs_skip_problem(&f, &lat, w, h);
    bs_lattice lat2;
    bs_skip_problem(&twin, &lat2, w, h);
    bs_solver_opts o = bs_test_opts(1e-4, 5000), o0 = o;
    o.skip_budget = 1.0;
    const float budget = (float)(1e-4 * 2.0);
    const int k = bs_settle(&f, &lat, &o);
    assert_true(k > 0);
    for (int j = 0; j < k; ++j) bs_field_solve(&twin, &lat2, 1.0, &o0); /* the same until here */
    assert_memory_equal(f.c, twin.c, n * sizeof(float));
    bs_field ref;
    bs_lattice lr;
    bs_skip_problem(&ref, &lr, w, h);
    const bs_solver_opts tight = bs_test_opts(1e-6, 4000);
    for (int j = 0; j < k; ++j) bs_field_solve(&ref, &lr, 1.0, &tight);
    double e_arm = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double d = fabs((double)f.c[i] - (double)ref.c[i]);
        e_arm = d > e_arm ? d : e_arm;
    }
    bs_field probe;
    bs_lattice lp;
    bs_skip_problem(&probe, &lp, w, h);

    /* skipped while the bound allows; never beyond it */
    float *before = malloc(n * sizeof(float));
    assert_non_null(before);
    int skips = 0, solves = 0;
    for (int j = 0; j < 30; ++j) {
        memcpy(before, f.c, n * sizeof(float));
        bs_field_solve(&f, &lat, 1.0, &o);
        bs_field_solve(&twin, &lat2, 1.0, &o0);
        assert_false(twin.last_skipped);
        if (f.last_skipped) {
            skips++;
            assert_int_equal(f.last_iters, 0);
            assert_true(f.last_site_updates == 0);
            assert_memory_equal(before, f.c, n * sizeof(float));
            /* the state kept passes the stopping rule: a solve from it
             * stops after its first sweep */
            memcpy(probe.c, f.c, n * sizeof(float));
            bs_field_solve(&probe, &lp, 1.0, &o0);
            assert_int_equal(probe.last_iters, 1);
        } else {
            solves++;
        }
        assert_true(f.skip.drift <= budget);
        /* against a tightly converged trajectory: skipping never takes the
         * field further off than it was when the skip armed, plus the
         * budget (a field solved every step keeps converging by its one
         * sweep per step, so it gets closer: the cost of skipping, see
         * field.c) */
        bs_field_solve(&ref, &lr, 1.0, &tight);
        double es = 0.0, et = 0.0;
        for (size_t i = 0; i < n; ++i) {
            const double d1 = fabs((double)f.c[i] - (double)ref.c[i]), d2 = fabs((double)twin.c[i] - (double)ref.c[i]);
            es = d1 > es ? d1 : es;
            et = d2 > et ? d2 : et;
        }
        assert_true(es <= e_arm + (double)budget);
        assert_true(et <= e_arm + (double)budget);
    }
    assert_true(skips >= 10 && solves >= 1); /* a settled field: every other step or more skipped */
    bs_field_free(&ref);
    bs_test_lattice_free(&lr);
    bs_field_free(&probe);
    bs_test_lattice_free(&lp);

    /* any change makes it solve: a source by one ulp, c itself, the
     * tissue, the time step */
    const int probes = 4;
    for (int pcase = 0; pcase < probes; ++pcase) {
        assert_true(bs_settle(&f, &lat, &o) > 0);
        if (pcase == 0) f.src[17 * w + 33] = nextafterf(f.src[17 * w + 33], 1.0f);
        if (pcase == 1) f.c[40 * w + 2] = nextafterf(f.c[40 * w + 2], 10.0f);
        if (pcase == 2) lat.tissue[10 * w + 10] = BS_TISSUE_BONE;
        bs_field_solve(&f, &lat, pcase == 3 ? 2.0 : 1.0, &o);
        assert_false(f.last_skipped);
        assert_true(f.last_iters >= 1);
    }

    /* skip_budget 0: never */
    assert_true(bs_settle(&twin, &lat2, &o) > 0);
    for (int j = 0; j < 5; ++j) {
        bs_field_solve(&twin, &lat2, 1.0, &o0);
        assert_false(twin.last_skipped);
        assert_true(twin.last_iters >= 1);
    }
    free(before);
    bs_field_free(&f);
    bs_field_free(&twin);
    bs_test_lattice_free(&lat);
    bs_test_lattice_free(&lat2);

#ifdef _OPENMP
    /* the same skips and bits at 1 and 4 threads (rows shared, the hash
     * summed in blocks by the threads) */
    const int prev = omp_get_max_threads();
    float *cref = NULL;
    for (int tc = 0; tc < 2; ++tc) {
        omp_set_num_threads(tc ? 4 : 1);
        bs_field g;
        bs_lattice lg;
        bs_skip_problem(&g, &lg, 400, 130);
        unsigned char skipped[120];
        for (int j = 0; j < 120; ++j) {
            if (j == 70) g.src[90 * 400 + 200] = 3.0f; /* a new source mid-run */
            bs_field_solve(&g, &lg, 1.0, &o);
            skipped[j] = (unsigned char)(g.last_skipped != 0);
        }
        if (!cref) {
            cref = malloc(400 * 130 * sizeof(float));
            assert_non_null(cref);
            memcpy(cref, g.c, 400 * 130 * sizeof(float));
        } else {
            assert_memory_equal(cref, g.c, 400 * 130 * sizeof(float));
        }
        static unsigned char ref_skipped[120];
        if (tc == 0)
            memcpy(ref_skipped, skipped, sizeof skipped);
        else
            assert_memory_equal(ref_skipped, skipped, sizeof skipped);
        bs_field_free(&g);
        bs_test_lattice_free(&lg);
    }
    free(cref);
    omp_set_num_threads(prev);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_free),
        cmocka_unit_test(test_analytic_strip),
        cmocka_unit_test(test_fixed_boundary_order),
        cmocka_unit_test(test_backward_euler_decay),
        cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_bone_permeability),
        cmocka_unit_test(test_thread_determinism),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_fixed_boundary_and_dirichlet),
        cmocka_unit_test(test_zero_diffusivity),
        cmocka_unit_test(test_explicit_omega),
        cmocka_unit_test(test_cache_matches_fresh),
        cmocka_unit_test(test_small_grids),
        cmocka_unit_test(test_zero_field_skipped),
        cmocka_unit_test(test_local_change_local_work),
        cmocka_unit_test(test_plain_rows_match_fresh),
        cmocka_unit_test(test_solve_does_not_allocate),
        cmocka_unit_test(test_solve_many_matches_one_by_one),
        cmocka_unit_test(test_shared_scratch_matches),
        cmocka_unit_test(test_zero_inputs_match),
        cmocka_unit_test(test_shared_conductances_match),
        cmocka_unit_test(test_settled_solve_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
