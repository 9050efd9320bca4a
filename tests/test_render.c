/* test_render.c — the renderer and mask loader (viz/image/render.c).
 *
 * Lattices and stores are built by hand here (arrays malloc'ed directly),
 * so these tests do not depend on engine/lattice.c or engine/store.c. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, under -std=c17 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

#include "celltypes.h"
#include "render.h"

/* ---- fixtures ------------------------------------------------------------ */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/bs_test_render_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

static void make_lattice(bs_lattice *lat, int w, int h)
{
    size_t n = (size_t)w * h;
    lat->w = w;
    lat->h = h;
    lat->h_um = 10.0;
    lat->tissue = calloc(n, 1);
    lat->surface = calloc(n, 1);
    lat->flags = calloc(n, 1);
    lat->mineral = calloc(n, sizeof(float));
    lat->za_load = calloc(n, sizeof(float));
    assert_non_null(lat->tissue);
    assert_non_null(lat->surface);
    assert_non_null(lat->flags);
    assert_non_null(lat->mineral);
    assert_non_null(lat->za_load);
}

static void free_lattice(bs_lattice *lat)
{
    free(lat->tissue);
    free(lat->surface);
    free(lat->flags);
    free(lat->mineral);
    free(lat->za_load);
}

static void set_bone(bs_lattice *lat, int x, int y, float mineral)
{
    int i = y * lat->w + x;
    lat->tissue[i] = BS_TISSUE_BONE;
    lat->mineral[i] = mineral;
}

static void make_store(bs_store *st, int w, int h, int capacity)
{
    memset(st, 0, sizeof *st);
    st->capacity = capacity;
    st->w = w;
    st->h = h;
    st->type = malloc((size_t)capacity);
    st->state = calloc((size_t)capacity, 1);
    st->site = malloc(sizeof(int32_t) * (size_t)capacity);
    st->occ = malloc(sizeof(int32_t) * (size_t)w * h);
    assert_non_null(st->type);
    assert_non_null(st->state);
    assert_non_null(st->site);
    assert_non_null(st->occ);
    memset(st->type, 0xff, (size_t)capacity);
    for (int i = 0; i < w * h; i++) st->occ[i] = -1;
}

static void free_store(bs_store *st)
{
    free(st->type);
    free(st->state);
    free(st->site);
    free(st->occ);
}

static void place(bs_store *st, int slot, int x, int y, int type, int state)
{
    int i = y * st->w + x;
    st->type[slot] = (uint8_t)type;
    st->state[slot] = (uint8_t)state;
    st->site[slot] = i;
    st->occ[i] = slot;
    st->count++;
}

/* The pixel at the centre of site (x, y). */
static const uint8_t *site_px(const bs_image *im, int px, int x, int y)
{
    int X = x * px + px / 2, Y = y * px + px / 2;
    return im->rgb + ((size_t)Y * im->w + X) * 3;
}

static int rgb_eq(const uint8_t *a, const uint8_t *b)
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static void render_ok(const bs_render_input *in, bs_image *im)
{
    bs_error err = { { 0 } };
    bs_status st = bs_render(in, im, &err);
    if (st != BS_OK) fail_msg("bs_render: %s", err.msg);
    int w, h;
    bs_render_size(in, &w, &h);
    assert_int_equal(im->w, w);
    assert_int_equal(im->h, h);
}

/* ---- renderer -------------------------------------------------------------- */

static void test_size_matches_render(void **state)
{
    (void)state;
    bs_lattice lat;
    make_lattice(&lat, 30, 20);
    bs_store st;
    make_store(&st, 30, 20, 16);
    place(&st, 0, 3, 3, BS_CELL_OSTEOCLAST, 0);
    bs_field f;
    memset(&f, 0, sizeof f);
    f.spec.name = "rankl";
    f.spec.unit = "nM";
    f.w = 30;
    f.h = 20;
    f.c = calloc(600, sizeof(float));
    assert_non_null(f.c);
    for (int i = 0; i < 600; i++) f.c[i] = (float)i;

    bs_image im = { 0, 0, NULL };
    for (int px = 1; px <= 6; px++)
        for (int variant = 0; variant < 4; variant++) {
            bs_render_input in = { .lat = &lat,
                .store = variant & 1 ? &st : NULL,
                .overlay = variant & 2 ? &f : NULL,
                .time_days = 1.5,
                .title = "size test",
                .px_per_site = px };
            render_ok(&in, &im); /* also reuses / reallocates im */
            /* a legend panel beside the lattice, wide enough for its
             * longest label at the smallest text size (10 px capitals) */
            assert_true(im.w > 30 * px + bs_text_width_px(10, "non-activated"));
            assert_true(im.h >= 20 * px);
        }
    bs_image_free(&im);
    free(f.c);
    free_store(&st);
    free_lattice(&lat);
}

static void test_tissue_colours(void **state)
{
    (void)state;
    bs_lattice lat;
    make_lattice(&lat, 16, 12);
    set_bone(&lat, 2, 2, 1.0f);
    set_bone(&lat, 3, 2, 0.5f);
    set_bone(&lat, 4, 2, 0.1f);
    lat.tissue[8 * 16 + 8] = BS_TISSUE_VESSEL;
    lat.tissue[8 * 16 + 10] = BS_TISSUE_ARTERIOLE;
    lat.surface[3 * 16 + 2] = BS_SURF_QUIESCENT;
    lat.surface[3 * 16 + 3] = BS_SURF_RESORPTION;
    bs_render_input in = { .lat = &lat, .px_per_site = 3, .title = "t" };
    bs_image im = { 0, 0, NULL };
    render_ok(&in, &im);

    const uint8_t *bone = site_px(&im, 3, 2, 2), *bone_half = site_px(&im, 3, 3, 2);
    const uint8_t *bone_low = site_px(&im, 3, 4, 2), *marrow = site_px(&im, 3, 12, 10);
    const uint8_t *vessel = site_px(&im, 3, 8, 8), *art = site_px(&im, 3, 10, 8);
    const uint8_t *lining = site_px(&im, 3, 2, 3), *brc = site_px(&im, 3, 3, 3);
    assert_false(rgb_eq(bone, marrow));
    assert_false(rgb_eq(vessel, marrow));
    assert_false(rgb_eq(art, marrow));
    assert_false(rgb_eq(art, vessel));
    assert_false(rgb_eq(lining, marrow));
    assert_false(rgb_eq(brc, marrow));
    assert_false(rgb_eq(brc, lining));
    /* Bone is light and darkens as mineral falls; marrow is darker still. */
    int sum_full = bone[0] + bone[1] + bone[2], sum_half = bone_half[0] + bone_half[1] + bone_half[2];
    int sum_low = bone_low[0] + bone_low[1] + bone_low[2], sum_m = marrow[0] + marrow[1] + marrow[2];
    assert_true(sum_full > sum_half);
    assert_true(sum_half > sum_low);
    assert_true(sum_low > sum_m);
    /* Every pixel of a site has the site's colour (no cells here). */
    for (int dy = 0; dy < 3; dy++)
        for (int dx = 0; dx < 3; dx++) assert_true(rgb_eq(im.rgb + ((size_t)(6 + dy) * im.w + 6 + dx) * 3, bone));
    bs_image_free(&im);
    free_lattice(&lat);
}

/* Bone lost since day 0 (marrow with BS_FLAG_BONE0) has its own colour, the
 * one the tissue key gives it, and the day-0 surface across the pit is drawn
 * over a tumour cell that fills it. */
static void test_eroded_bone_shown(void **state)
{
    (void)state;
    const int W = 16, H = 16, PX = 8;
    bs_lattice lat;
    make_lattice(&lat, W, H);
    for (int x = 0; x < W; x++)
        for (int y = 8; y < H; y++) {
            set_bone(&lat, x, y, 1.0f);
            lat.flags[y * W + x] |= BS_FLAG_BONE0;
        }
    for (int x = 5; x <= 7; x++) /* a pit two sites deep */
        for (int y = 8; y <= 9; y++) {
            lat.tissue[y * W + x] = BS_TISSUE_MARROW;
            lat.mineral[y * W + x] = 0.0f;
        }
    lat.surface[9 * W + 5] = BS_SURF_RESORPTION;
    bs_store st;
    make_store(&st, W, H, 4);
    place(&st, 0, 6, 8, BS_CELL_DTC, 2); /* proliferating: a disc */
    bs_render_input in = { .lat = &lat, .store = &st, .px_per_site = PX, .time_days = 3 };
    bs_image im = { 0, 0, NULL };
    render_ok(&in, &im);
    uint8_t key[3];
    const char *label = NULL;
    bs_render_tissue_key(BS_RENDER_TISSUE_ROWS - 1, key, &label);
    assert_non_null(strstr(label, "lost"));
    const uint8_t *pit = site_px(&im, PX, 7, 9), *marrow = site_px(&im, PX, 3, 3), *bone = site_px(&im, PX, 3, 12);
    assert_true(rgb_eq(pit, key));
    assert_false(rgb_eq(pit, marrow));
    assert_false(rgb_eq(pit, bone));
    /* lost bone wins over the surface tint of an open compartment */
    assert_true(rgb_eq(site_px(&im, PX, 5, 9), key));
    /* the tumour cell is drawn, and the day-0 surface line crosses its top */
    assert_true(rgb_eq(site_px(&im, PX, 6, 8), bs_celltype_of(BS_CELL_DTC)->rgb[2]));
    assert_true(rgb_eq(im.rgb + ((size_t)(8 * PX) * im.w + 6 * PX + PX / 2) * 3, bone));
    /* no line inside the pit or between day-0 marrow sites */
    assert_true(rgb_eq(im.rgb + ((size_t)(9 * PX) * im.w + 7 * PX + PX / 2) * 3, key));
    assert_true(rgb_eq(im.rgb + ((size_t)(4 * PX) * im.w + 3 * PX + PX / 2) * 3, marrow));
    /* without the flag the same hole is plain marrow */
    lat.flags[9 * W + 7] &= (uint8_t)~BS_FLAG_BONE0;
    render_ok(&in, &im);
    assert_true(rgb_eq(site_px(&im, PX, 7, 9), marrow));
    bs_image_free(&im);
    free_store(&st);
    free_lattice(&lat);
}

static void test_cells_drawn_in_their_colour(void **state)
{
    (void)state;
    const int W = 40, H = 30, PX = 4;
    bs_lattice lat;
    make_lattice(&lat, W, H);
    for (int x = 0; x < W; x++)
        for (int y = 20; y < H; y++) set_bone(&lat, x, y, 1.0f);
    bs_store st;
    make_store(&st, W, H, 8);
    place(&st, 5, 10, 19, BS_CELL_OSTEOCLAST, 0); /* next to bone */
    place(&st, 2, 30, 10, BS_CELL_OSTEOBLAST, 0);
    bs_render_input in = { .lat = &lat, .store = &st, .px_per_site = PX, .time_days = 3 };
    bs_image im = { 0, 0, NULL };
    render_ok(&in, &im);

    const uint8_t *oc = bs_celltype_of(BS_CELL_OSTEOCLAST)->rgb[0];
    const uint8_t *ob = bs_celltype_of(BS_CELL_OSTEOBLAST)->rgb[0];
    assert_true(rgb_eq(site_px(&im, PX, 10, 19), oc));
    assert_true(rgb_eq(site_px(&im, PX, 30, 10), ob));
    /* Osteoclasts are multi-site: the marker covers neighbouring sites too,
     * including the bone it sits on. */
    assert_true(bs_celltype_of(BS_CELL_OSTEOCLAST)->footprint_sites > 1);
    assert_true(rgb_eq(site_px(&im, PX, 11, 19), oc));
    assert_true(rgb_eq(site_px(&im, PX, 10, 20), oc));
    /* Far from any cell, tissue shows. */
    assert_false(rgb_eq(site_px(&im, PX, 20, 5), oc));
    assert_false(rgb_eq(site_px(&im, PX, 20, 5), ob));

    /* hide_agents: the same sites show tissue again. */
    bs_image bare = { 0, 0, NULL };
    bs_render_input in2 = in;
    in2.hide_agents = 1;
    render_ok(&in2, &bare);
    assert_false(rgb_eq(site_px(&bare, PX, 10, 19), oc));
    assert_false(rgb_eq(site_px(&bare, PX, 30, 10), ob));
    assert_true(rgb_eq(site_px(&bare, PX, 10, 19), site_px(&bare, PX, 20, 5)));
    assert_int_equal(bare.w, im.w);
    assert_int_equal(bare.h, im.h);

    bs_image_free(&bare);
    bs_image_free(&im);
    free_store(&st);
    free_lattice(&lat);
}

static void test_cells_visible_at_px2(void **state)
{
    (void)state;
    bs_lattice lat;
    make_lattice(&lat, 20, 20);
    bs_store st;
    make_store(&st, 20, 20, 4);
    place(&st, 0, 10, 10, BS_CELL_OSTEOBLAST, 0);
    bs_render_input in = { .lat = &lat, .store = &st, .px_per_site = 2 };
    bs_image im = { 0, 0, NULL };
    render_ok(&in, &im);
    /* A one-site cell must show more than a 2x2 dot: count pixels that
     * differ from marrow around it. */
    const uint8_t *marrow = site_px(&im, 2, 2, 2);
    int changed = 0;
    for (int y = 14; y < 28; y++)
        for (int x = 14; x < 28; x++) changed += !rgb_eq(im.rgb + ((size_t)y * im.w + x) * 3, marrow);
    assert_true(changed >= 16);
    assert_true(rgb_eq(site_px(&im, 2, 10, 10), bs_celltype_of(BS_CELL_OSTEOBLAST)->rgb[0]));
    bs_image_free(&im);
    free_store(&st);
    free_lattice(&lat);
}

static void test_render_deterministic(void **state)
{
    (void)state;
    const int W = 25, H = 18;
    bs_lattice lat;
    make_lattice(&lat, W, H);
    for (int x = 0; x < W; x++) set_bone(&lat, x, 15, (float)x / (float)W);
    lat.surface[14 * W + 4] = BS_SURF_FORMATION;
    bs_store a, b;
    make_store(&a, W, H, 10);
    make_store(&b, W, H, 10);
    /* Same cells, different slot numbers: the picture may not care. */
    place(&a, 0, 4, 14, BS_CELL_OSTEOCLAST, 0);
    place(&a, 1, 5, 14, BS_CELL_OSTEOBLAST, 0);
    place(&a, 2, 12, 3, BS_CELL_OSTEOBLAST, 0);
    place(&b, 7, 12, 3, BS_CELL_OSTEOBLAST, 0);
    place(&b, 3, 5, 14, BS_CELL_OSTEOBLAST, 0);
    place(&b, 9, 4, 14, BS_CELL_OSTEOCLAST, 0);
    bs_render_input in = { .lat = &lat, .store = &a, .px_per_site = 3, .time_days = 42.25, .title = "determinism" };
    bs_image i1 = { 0, 0, NULL }, i2 = { 0, 0, NULL };
    render_ok(&in, &i1);
    render_ok(&in, &i2);
    assert_memory_equal(i1.rgb, i2.rgb, (size_t)i1.w * i1.h * 3);
    render_ok(&in, &i2); /* into an image of the right size: reused */
    assert_memory_equal(i1.rgb, i2.rgb, (size_t)i1.w * i1.h * 3);
    in.store = &b;
    render_ok(&in, &i2);
    assert_memory_equal(i1.rgb, i2.rgb, (size_t)i1.w * i1.h * 3);
    bs_image_free(&i1);
    bs_image_free(&i2);
    free_store(&a);
    free_store(&b);
    free_lattice(&lat);
}

static void test_legend_counts_change_legend_only(void **state)
{
    (void)state;
    const int W = 30, H = 30, PX = 2;
    bs_lattice lat;
    make_lattice(&lat, W, H);
    bs_store st;
    make_store(&st, W, H, 4);
    place(&st, 0, 5, 5, BS_CELL_OSTEOCLAST, 0);
    bs_render_input in = { .lat = &lat, .store = &st, .px_per_site = PX, .hide_agents = 1 };
    bs_image one = { 0, 0, NULL }, two = { 0, 0, NULL };
    render_ok(&in, &one);
    place(&st, 1, 20, 20, BS_CELL_OSTEOCLAST, 0);
    render_ok(&in, &two);
    /* Same size whatever the counts, so snapshot series stack into video. */
    assert_int_equal(one.w, two.w);
    assert_int_equal(one.h, two.h);
    /* With agents hidden, only the legend (right of the lattice) changes. */
    int lattice_diff = 0, legend_diff = 0;
    for (int y = 0; y < one.h; y++)
        for (int x = 0; x < one.w; x++) {
            size_t k = ((size_t)y * one.w + x) * 3;
            int d = memcmp(one.rgb + k, two.rgb + k, 3) != 0;
            if (x < W * PX)
                lattice_diff += d;
            else
                legend_diff += d;
        }
    assert_int_equal(lattice_diff, 0);
    assert_true(legend_diff > 0);
    bs_image_free(&one);
    bs_image_free(&two);
    free_store(&st);
    free_lattice(&lat);
}

static void test_overlay_uses_viridis(void **state)
{
    (void)state;
    const int W = 10, H = 8, PX = 3;
    bs_lattice lat;
    make_lattice(&lat, W, H);
    bs_field f;
    memset(&f, 0, sizeof f);
    f.spec.name = "o2";
    f.spec.unit = "mmHg";
    f.w = W;
    f.h = H;
    f.c = malloc(sizeof(float) * W * H);
    assert_non_null(f.c);
    for (int i = 0; i < W * H; i++) f.c[i] = 20.0f;
    f.c[0] = 5.0f; /* minimum */
    f.c[W * H - 1] = 45.0f; /* maximum */
    bs_render_input in = { .lat = &lat, .overlay = &f, .px_per_site = PX };
    bs_image im = { 0, 0, NULL };
    render_ok(&in, &im);
    static const uint8_t lo[3] = { 0x44, 0x01, 0x54 }, hi[3] = { 0xFD, 0xE7, 0x25 };
    assert_true(rgb_eq(site_px(&im, PX, 0, 0), lo));
    assert_true(rgb_eq(site_px(&im, PX, W - 1, H - 1), hi));
    const uint8_t *mid = site_px(&im, PX, 4, 4);
    assert_false(rgb_eq(mid, lo));
    assert_false(rgb_eq(mid, hi));

    /* A flat field (and NaNs) must not divide by zero or crash. */
    for (int i = 0; i < W * H; i++) f.c[i] = 1.0f;
    f.c[3] = (float)NAN;
    render_ok(&in, &im);
    assert_true(rgb_eq(site_px(&im, PX, 5, 5), lo));
    bs_image_free(&im);
    free(f.c);
    free_lattice(&lat);
}

static void test_bad_input_rejected(void **state)
{
    (void)state;
    bs_lattice lat;
    make_lattice(&lat, 10, 10);
    bs_store st;
    make_store(&st, 9, 10, 4);
    bs_image im = { 0, 0, NULL };
    bs_error err = { { 0 } };
    int w = -1, h = -1;

    bs_render_input in = { .lat = &lat, .px_per_site = 0 };
    assert_int_equal(bs_render(&in, &im, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "px_per_site"));
    bs_render_size(&in, &w, &h);
    assert_int_equal(w, 0);
    assert_int_equal(h, 0);

    in.px_per_site = 2;
    in.store = &st; /* 9x10 store on a 10x10 lattice */
    assert_int_equal(bs_render(&in, &im, &err), BS_ERR_INVALID);
    assert_null(im.rgb);

    in.store = NULL;
    in.px_per_site = 100000; /* absurd image */
    assert_int_equal(bs_render(&in, &im, &err), BS_ERR_INVALID);

    /* Slots that are free or out of range in occ are skipped, not read. */
    free_store(&st);
    make_store(&st, 10, 10, 4);
    st.occ[5] = 3; /* free slot: type 0xff */
    st.occ[6] = 99; /* beyond capacity */
    st.occ[7] = -7;
    in.store = &st;
    in.px_per_site = 2;
    assert_int_equal(bs_render(&in, &im, &err), BS_OK);

    bs_image_free(&im);
    free_store(&st);
    free_lattice(&lat);
}

static void test_render_example_png(void **state)
{
    (void)state;
    /* End to end: render and write a PNG, read it back unchanged. */
    bs_lattice lat;
    make_lattice(&lat, 24, 16);
    for (int x = 0; x < 24; x++) set_bone(&lat, x, 12, 1.0f);
    bs_store st;
    make_store(&st, 24, 16, 4);
    place(&st, 0, 6, 11, BS_CELL_OSTEOCLAST, 0);
    bs_render_input in = { .lat = &lat, .store = &st, .px_per_site = 4, .title = "png" };
    bs_image im = { 0, 0, NULL }, back;
    render_ok(&in, &im);
    char path[512];
    snprintf(path, sizeof path, "%s/render.png", tmpdir);
    assert_int_equal(bs_png_write(path, &im, NULL), BS_OK);
    assert_int_equal(bs_png_read(path, &back, 0, NULL), BS_OK);
    assert_int_equal(back.w, im.w);
    assert_memory_equal(back.rgb, im.rgb, (size_t)im.w * im.h * 3);
    remove(path);
    bs_image_free(&back);
    bs_image_free(&im);
    free_store(&st);
    free_lattice(&lat);
}

/* ---- masks --------------------------------------------------------------- */

static const struct {
    uint8_t rgb[3];
    uint8_t cls;
} mask_cases[] = {
    { { 255, 0, 0 }, BS_TISSUE_VESSEL },
    { { 200, 50, 60 }, BS_TISSUE_VESSEL },
    { { 128, 95, 95 }, BS_TISSUE_VESSEL },
    { { 255, 0, 255 }, BS_TISSUE_ARTERIOLE },
    { { 128, 95, 128 }, BS_TISSUE_ARTERIOLE },
    { { 255, 255, 255 }, BS_TISSUE_BONE },
    { { 128, 128, 128 }, BS_TISSUE_BONE },
    { { 255, 200, 0 }, BS_TISSUE_BONE },
    { { 127, 127, 127 }, BS_TISSUE_MARROW },
    { { 0, 0, 0 }, BS_TISSUE_MARROW },
    { { 0, 0, 255 }, BS_TISSUE_MARROW },
    { { 127, 0, 0 }, BS_TISSUE_MARROW },
    { { 128, 96, 0 }, BS_TISSUE_MARROW },
};
#define N_MASK_CASES ((int)(sizeof mask_cases / sizeof *mask_cases))

static void write_mask(const char *path, int w, int h)
{
    bs_image im;
    assert_int_equal(bs_image_init(&im, w, h, NULL), BS_OK);
    for (int i = 0; i < w * h; i++) memcpy(im.rgb + i * 3, mask_cases[i % N_MASK_CASES].rgb, 3);
    assert_int_equal(bs_png_write(path, &im, NULL), BS_OK);
    bs_image_free(&im);
}

static void test_mask_maps_colours(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/mask.png", tmpdir);
    const int W = N_MASK_CASES, H = 3;
    write_mask(path, W, H);

    /* w == 0: the lattice takes the mask's size. */
    int w = 0, h = 0;
    uint8_t *cls = NULL;
    bs_error err = { { 0 } };
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_OK);
    assert_int_equal(w, W);
    assert_int_equal(h, H);
    for (int i = 0; i < W * H; i++)
        if (cls[i] != mask_cases[i % N_MASK_CASES].cls)
            fail_msg("pixel %d (%d,%d,%d): class %d, expected %d", i, mask_cases[i % N_MASK_CASES].rgb[0],
                    mask_cases[i % N_MASK_CASES].rgb[1], mask_cases[i % N_MASK_CASES].rgb[2], cls[i],
                    mask_cases[i % N_MASK_CASES].cls);
    free(cls);

    /* The exact size is accepted. */
    w = W;
    h = H;
    cls = NULL;
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_OK);
    assert_non_null(cls);
    free(cls);
    remove(path);
}

static void test_mask_wrong_size_rejected(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/mask2.png", tmpdir);
    write_mask(path, 12, 7);
    int w = 12, h = 8;
    uint8_t *cls = NULL;
    bs_error err = { { 0 } };
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_INVALID);
    assert_null(cls);
    assert_int_equal(w, 12);
    assert_int_equal(h, 8);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "12x7"));
    assert_non_null(strstr(err.msg, "12x8"));

    w = 13;
    h = 7;
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_INVALID);
    assert_null(cls);

    /* Not a PNG at all. */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("P1 3 3 not a png", f);
    fclose(f);
    w = 0;
    h = 0;
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a valid PNG"));
    assert_null(cls);
    remove(path);

    /* Missing file. */
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_IO);
    assert_null(cls);
}

/* A PNG that is only a signature and an IHDR chunk claiming w x h pixels:
 * what a huge image costs a loader that decodes before it checks. */
static void write_png_header(const char *path, uint32_t w, uint32_t h)
{
    unsigned char b[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
    for (int k = 0; k < 4; k++) {
        b[16 + k] = (unsigned char)(w >> (24 - 8 * k));
        b[20 + k] = (unsigned char)(h >> (24 - 8 * k));
    }
    b[24] = 8; /* bit depth; colour type 0 (grey), compression, filter, interlace 0 */
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b + 12, 17);
    for (int k = 0; k < 4; k++) b[29 + k] = (unsigned char)(crc >> (24 - 8 * k));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, sizeof b, f), sizeof b);
    fclose(f);
}

static void test_mask_header_checked_first(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/huge.png", tmpdir);
    /* 8192 x 8192 claimed, for a 64 x 64 lattice: the size error comes from
     * the header, before any decoding (which would reserve 256 MiB and then
     * fail on the missing pixel data with a vaguer message). */
    write_png_header(path, 8192, 8192);
    int w = 64, h = 64;
    uint8_t *cls = NULL;
    bs_error err = { { 0 } };
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_INVALID);
    assert_null(cls);
    assert_non_null(strstr(err.msg, "mask is 8192x8192 pixels (valid: exactly 64x64"));
    /* over the pixel limit, lattice size from the mask */
    write_png_header(path, 8193, 8192);
    w = h = 0;
    assert_int_equal(bs_mask_load(path, &w, &h, &cls, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "mask is 8193x8192 pixels, over the limit of"));
    remove(path);
}

static void test_mask_decode_counts_against_limit(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/mask3.png", tmpdir);
    write_mask(path, 300, 200);
    int w = 0, h = 0;
    assert_int_equal(bs_mask_size(path, &w, &h, NULL), BS_OK);
    assert_int_equal(w, 300);
    assert_int_equal(h, 200);
    /* 300 x 200 x 5 bytes and the row pointers: about 0.29 MiB */
    double need = bs_mask_decode_bytes(300, 200);
    assert_true(need >= 300.0 * 200 * 5 && need < 300.0 * 200 * 6);
    uint8_t *cls = NULL;
    bs_error err = { { 0 } };
    w = h = 0;
    assert_int_equal(bs_mask_load_limited(path, &w, &h, &cls, need - 1.0, &err), BS_ERR_NOMEM);
    assert_null(cls);
    assert_non_null(strstr(err.msg,
            "decoding the 300x200 mask needs about 1 MiB, more than the limit of 0 MiB (set by --max-memory-mb)"));
    assert_int_equal(bs_mask_load_limited(path, &w, &h, &cls, need, &err), BS_OK);
    assert_non_null(cls);
    free(cls);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_matches_render),
        cmocka_unit_test(test_tissue_colours),
        cmocka_unit_test(test_eroded_bone_shown),
        cmocka_unit_test(test_cells_drawn_in_their_colour),
        cmocka_unit_test(test_cells_visible_at_px2),
        cmocka_unit_test(test_render_deterministic),
        cmocka_unit_test(test_legend_counts_change_legend_only),
        cmocka_unit_test(test_overlay_uses_viridis),
        cmocka_unit_test(test_bad_input_rejected),
        cmocka_unit_test(test_render_example_png),
        cmocka_unit_test(test_mask_header_checked_first),
        cmocka_unit_test(test_mask_decode_counts_against_limit),
        cmocka_unit_test(test_mask_maps_colours),
        cmocka_unit_test(test_mask_wrong_size_rejected),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
