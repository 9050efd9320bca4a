/* Lattice: geometry generation, endosteum, surface refresh, bone area. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lattice.h"

static bs_geometry_opts trab_opts(void)
{
    bs_geometry_opts o = { .trab_thickness_um = 150,
        .trab_spacing_um = 800,
        .sinusoid_spacing_um = 200,
        .sinusoid_radius_um = 12,
        .arteriole_spacing_um = 300,
        .flat_surface = 0,
        .slab_thickness_um = 200 };
    return o;
}

static void test_init_rejects_bad_sizes(void **state)
{
    (void)state;
    bs_lattice lat;
    bs_error err;
    assert_int_equal(bs_lattice_init(&lat, 0, 10, 10.0, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "valid"));
    assert_int_equal(bs_lattice_init(&lat, 100, 100000, 10.0, &err), BS_ERR_INVALID);
    assert_int_equal(bs_lattice_init(&lat, 100, 100, -1.0, &err), BS_ERR_INVALID);
}

static void test_procedural_is_reproducible_and_plausible(void **state)
{
    (void)state;
    bs_lattice a, b;
    bs_error err;
    bs_geometry_opts o = trab_opts();
    assert_int_equal(bs_lattice_init(&a, 250, 250, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_init(&b, 250, 250, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_generate(&a, &o, 3, &err), BS_OK);
    assert_int_equal(bs_lattice_generate(&b, &o, 3, &err), BS_OK);
    assert_memory_equal(a.tissue, b.tissue, 250 * 250);
    long bone = 0, vessel = 0, art = 0, surf = 0;
    for (int i = 0; i < 250 * 250; i++) {
        bone += a.tissue[i] == BS_TISSUE_BONE;
        vessel += a.tissue[i] == BS_TISSUE_VESSEL;
        art += a.tissue[i] == BS_TISSUE_ARTERIOLE;
        surf += a.surface[i] == BS_SURF_QUIESCENT;
    }
    double bvtv = (double)bone / (250.0 * 250.0);
    /* human trabecular BV/TV is ~10-35% */
    assert_true(bvtv > 0.08 && bvtv < 0.45);
    assert_true(vessel > 0);
    assert_true(art > 0);
    assert_true(surf > 0);
    /* another seed gives another pattern */
    assert_int_equal(bs_lattice_generate(&b, &o, 4, &err), BS_OK);
    assert_true(memcmp(a.tissue, b.tissue, 250 * 250) != 0);
    bs_lattice_free(&a);
    bs_lattice_free(&b);
}

/* Mean trabecular thickness from the bone run lengths along rows. */
static void test_trabecular_thickness(void **state)
{
    (void)state;
    bs_lattice a;
    bs_error err;
    bs_geometry_opts o = trab_opts();
    assert_int_equal(bs_lattice_init(&a, 300, 300, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_generate(&a, &o, 11, &err), BS_OK);
    /* The distance from a bone site to the nearest marrow, maxed over a
     * run, approximates half the thickness; use the median of the
     * per-row run lengths perpendicular-ish: the shorter of the row and
     * column run through each bone site. */
    long n = 0;
    double sum = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++) {
            if (a.tissue[y * 300 + x] != BS_TISSUE_BONE) continue;
            int l = x, r = x, u = y, d = y;
            while (l > 0 && a.tissue[y * 300 + l - 1] == BS_TISSUE_BONE) l--;
            while (r < 299 && a.tissue[y * 300 + r + 1] == BS_TISSUE_BONE) r++;
            while (u > 0 && a.tissue[(u - 1) * 300 + x] == BS_TISSUE_BONE) u--;
            while (d < 299 && a.tissue[(d + 1) * 300 + x] == BS_TISSUE_BONE) d++;
            int run = (r - l + 1) < (d - u + 1) ? (r - l + 1) : (d - u + 1);
            sum += run;
            n++;
        }
    double mean_um = 10.0 * sum / (double)n;
    /* the shorter axis-aligned chord overestimates an oblique plate by up to
     * sqrt(2); accept 80-300 um around the 150 um asked for */
    assert_true(mean_um > 80.0 && mean_um < 300.0);
    bs_lattice_free(&a);
}

static void test_flat_slab_and_surface(void **state)
{
    (void)state;
    bs_lattice a;
    bs_error err;
    bs_geometry_opts o = trab_opts();
    o.flat_surface = 1;
    o.arteriole_spacing_um = 0;
    assert_int_equal(bs_lattice_init(&a, 40, 30, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_generate(&a, &o, 1, &err), BS_OK);
    /* slab of 20 rows at the bottom; the row above is endosteum */
    for (int x = 0; x < 40; x++) {
        assert_int_equal(a.tissue[29 * 40 + x], BS_TISSUE_BONE);
        assert_int_equal(a.tissue[10 * 40 + x], BS_TISSUE_BONE);
        int above = 9 * 40 + x;
        if (a.tissue[above] == BS_TISSUE_MARROW) {
            assert_true(bs_lattice_is_endosteal(&a, above));
            assert_int_equal(a.surface[above], BS_SURF_QUIESCENT);
        }
    }
    assert_true(fabs(bs_lattice_bone_area_um2(&a) - 40 * 20 * 100.0) < 1e-6);
    /* resorb one bone site: the marrow site above stays endosteal, the
     * site below becomes endosteal and inherits the BRC phase */
    a.surface[9 * 40 + 20] = BS_SURF_RESORPTION;
    a.tissue[10 * 40 + 20] = BS_TISSUE_MARROW;
    a.mineral[10 * 40 + 20] = 0.0f;
    bs_lattice_refresh_surface(&a, 19, 9, 21, 11);
    assert_int_equal(a.surface[10 * 40 + 20], BS_SURF_RESORPTION);
    assert_true(bs_lattice_is_endosteal(&a, 9 * 40 + 20) == 0 || a.surface[9 * 40 + 20] != BS_SURF_NONE);
    bs_lattice_free(&a);
}

static void test_from_classes(void **state)
{
    (void)state;
    bs_lattice a;
    bs_error err;
    uint8_t cls[8 * 8];
    memset(cls, BS_TISSUE_MARROW, sizeof cls);
    for (int x = 0; x < 8; x++) cls[7 * 8 + x] = BS_TISSUE_BONE;
    cls[2 * 8 + 2] = BS_TISSUE_VESSEL;
    assert_int_equal(bs_lattice_init(&a, 8, 8, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_from_classes(&a, cls, &err), BS_OK);
    assert_int_equal(a.surface[6 * 8 + 3], BS_SURF_QUIESCENT);
    assert_true(a.mineral[7 * 8 + 3] == 1.0f);
    cls[0] = 9;
    assert_int_equal(bs_lattice_from_classes(&a, cls, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "valid"));
    bs_lattice_free(&a);
    bs_lattice_free(NULL);
}

/* A 20 x 20 lattice of 10 um sites from the classes given, with one
 * unrelated flag (a cavity at site 0) that the zone markers must keep. */
static void flagged_20x20(bs_lattice *lat, const uint8_t *cls)
{
    bs_error err;
    assert_int_equal(bs_lattice_init(lat, 20, 20, 10.0, &err), BS_OK);
    assert_int_equal(bs_lattice_from_classes(lat, cls, &err), BS_OK);
    lat->flags[0] = BS_FLAG_CAVITY;
}

/* The perisinusoidal zone: every non-vessel site within the range of a
 * sinusoid site's centre, nothing else; other flags are kept; a range of 0
 * clears it. */
static void test_perisinusoidal_zone(void **state)
{
    (void)state;
    uint8_t cls[400];
    memset(cls, BS_TISSUE_MARROW, sizeof cls);
    cls[10 * 20 + 10] = BS_TISSUE_VESSEL;
    bs_lattice lat;
    flagged_20x20(&lat, cls);
    bs_lattice_mark_perisinusoidal(&lat, 20.0); /* 2 sites */
    int n = 0;
    for (int i = 0; i < 400; i++) n += (lat.flags[i] & BS_FLAG_PERISINUSOIDAL) != 0;
    assert_int_equal(n, 12); /* distance^2 <= 4 sites^2: 4 + 4 diagonal + 4 at two sites */
    assert_false(lat.flags[10 * 20 + 10] & BS_FLAG_PERISINUSOIDAL); /* the vessel itself */
    assert_true(lat.flags[12 * 20 + 10] & BS_FLAG_PERISINUSOIDAL); /* 2 sites south */
    assert_true(lat.flags[11 * 20 + 11] & BS_FLAG_PERISINUSOIDAL); /* diagonal */
    assert_false(lat.flags[11 * 20 + 12] & BS_FLAG_PERISINUSOIDAL); /* sqrt(5) sites */
    assert_int_equal(lat.flags[0], BS_FLAG_CAVITY);
    bs_lattice_mark_perisinusoidal(&lat, 0.0);
    for (int i = 0; i < 400; i++) assert_false(lat.flags[i] & BS_FLAG_PERISINUSOIDAL);
    assert_int_equal(lat.flags[0], BS_FLAG_CAVITY);
    bs_lattice_free(&lat);
}

/* The endosteal sinusoids: sinusoid sites within the range of a bone
 * site's centre, no other site; other flags kept; the count returned. */
static void test_endosteal_vessels(void **state)
{
    (void)state;
    uint8_t cls[400];
    memset(cls, BS_TISSUE_MARROW, sizeof cls);
    for (int x = 0; x < 20; x++) cls[19 * 20 + x] = BS_TISSUE_BONE;
    cls[15 * 20 + 10] = BS_TISSUE_VESSEL; /* 4 sites (40 um) above the bone row */
    cls[14 * 20 + 10] = BS_TISSUE_VESSEL; /* 5 sites */
    cls[3 * 20 + 10] = BS_TISSUE_VESSEL; /* 16 sites: deep */
    cls[16 * 20 + 3] = BS_TISSUE_ARTERIOLE; /* not a sinusoid */
    bs_lattice lat;
    flagged_20x20(&lat, cls);
    assert_int_equal(bs_lattice_mark_endosteal_vessels(&lat, 40.0), 1);
    assert_true(lat.flags[15 * 20 + 10] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_false(lat.flags[14 * 20 + 10] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_int_equal(bs_lattice_mark_endosteal_vessels(&lat, 50.0), 2);
    assert_true(lat.flags[14 * 20 + 10] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_false(lat.flags[3 * 20 + 10] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_false(lat.flags[16 * 20 + 3] & BS_FLAG_ENDOSTEAL_VESSEL);
    for (int i = 0; i < 400; i++)
        if (lat.tissue[i] != BS_TISSUE_VESSEL) assert_false(lat.flags[i] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_int_equal(lat.flags[0], BS_FLAG_CAVITY);
    assert_int_equal(bs_lattice_mark_endosteal_vessels(&lat, 0.0), 0);
    for (int i = 0; i < 400; i++) assert_false(lat.flags[i] & BS_FLAG_ENDOSTEAL_VESSEL);
    assert_int_equal(lat.flags[0], BS_FLAG_CAVITY);
    bs_lattice_free(&lat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_sizes),
        cmocka_unit_test(test_procedural_is_reproducible_and_plausible),
        cmocka_unit_test(test_trabecular_thickness),
        cmocka_unit_test(test_flat_slab_and_surface),
        cmocka_unit_test(test_from_classes),
        cmocka_unit_test(test_perisinusoidal_zone),
        cmocka_unit_test(test_endosteal_vessels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
