/* test_image.c — images, the bitmap font, PNG write/read (viz/image/image.c). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, under -std=c17 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* ---- helpers ------------------------------------------------------------ */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/bs_test_image_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes everything in tmpdir (one level: the tests make no subfolders
 * except where they remove them themselves). */
static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            if (remove(p) != 0) rmdir(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

/* A deterministic test pattern with many distinct colours, so compression
 * and filtering are exercised and a wrong pixel cannot hide. */
static void make_pattern(bs_image *im, int w, int h)
{
    assert_int_equal(bs_image_init(im, w, h, NULL), BS_OK);
    uint32_t s = 12345u;
    for (int i = 0; i < w * h * 3; i++) {
        s = s * 1664525u + 1013904223u;
        im->rgb[i] = (uint8_t)((i % 3 == 0) ? (uint32_t)((i / 3) % w * 7) : (s >> 24));
    }
}

static uint8_t *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)*n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return buf;
}

static void spit(const char *path, const uint8_t *data, long n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n > 0) assert_int_equal(fwrite(data, 1, (size_t)n, f), (size_t)n);
    assert_int_equal(fclose(f), 0);
}

/* Counts files in tmpdir whose name contains needle. */
static int count_files_with(const char *needle)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, needle)) n++;
    closedir(d);
    return n;
}

/* PNG chunk CRC (ISO 3309), so a test can forge a header libpng accepts. */
static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* Sets the IHDR width (bytes 16..19) and fixes the chunk's CRC. */
static void forge_width(uint8_t *png, uint32_t w)
{
    png[16] = (uint8_t)(w >> 24);
    png[17] = (uint8_t)(w >> 16);
    png[18] = (uint8_t)(w >> 8);
    png[19] = (uint8_t)w;
    uint32_t crc = crc32_png(png + 12, 17);
    png[29] = (uint8_t)(crc >> 24);
    png[30] = (uint8_t)(crc >> 16);
    png[31] = (uint8_t)(crc >> 8);
    png[32] = (uint8_t)crc;
}

static void expect_invalid_png(const char *path)
{
    bs_image im = { 1, 1, (uint8_t *)&im }; /* garbage in: must be reset */
    bs_error err = { { 0 } };
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not a valid PNG ("));
    assert_null(im.rgb);
    assert_int_equal(im.w, 0);
}

/* ---- image basics --------------------------------------------------------- */

static void test_init_rejects_bad_sizes(void **state)
{
    (void)state;
    bs_image im;
    bs_error err = { { 0 } };
    assert_int_equal(bs_image_init(&im, 0, 5, &err), BS_ERR_INVALID);
    assert_null(im.rgb);
    assert_int_equal(bs_image_init(&im, 5, -1, &err), BS_ERR_INVALID);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(bs_image_init(&im, 3, 2, &err), BS_OK);
    for (int i = 0; i < 18; i++) assert_int_equal(im.rgb[i], 0);
    bs_image_free(&im);
    assert_null(im.rgb);
    bs_image_free(&im); /* twice is harmless */
    bs_image_free(NULL);
}

static void test_fill_rect_clips(void **state)
{
    (void)state;
    bs_image im;
    assert_int_equal(bs_image_init(&im, 4, 3, NULL), BS_OK);
    const uint8_t c[3] = { 9, 8, 7 };
    bs_image_fill_rect(&im, -10, -10, 11, 12, c); /* covers (0,0) and (0,1) */
    bs_image_fill_rect(&im, 3, 2, 100, 100, c); /* covers (3,2) */
    bs_image_fill_rect(&im, 5, 0, 2, 2, c); /* fully outside */
    bs_image_fill_rect(&im, 0, 0, 0, 3, c); /* empty */
    bs_image_fill_rect(&im, 2147483600, 0, 2147483600, 1, c);
    int inked = 0;
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++) {
            const uint8_t *p = im.rgb + (y * 4 + x) * 3;
            int on = p[0] == 9 && p[1] == 8 && p[2] == 7;
            inked += on;
            if ((x == 0 && y <= 1) || (x == 3 && y == 2)) assert_true(on);
        }
    assert_int_equal(inked, 3);
    bs_image_free(&im);
}

/* ---- font ------------------------------------------------------------------- */

static void test_text_width_matches_drawing(void **state)
{
    (void)state;
    bs_text_force_builtin(1); /* the bitmap font's exact geometry */
    const char *samples[] = { "", "A", "day 123.4", "osteoclasts 17", "~{|}`@#" };
    for (int scale = 1; scale <= 4; scale++)
        for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
            const char *s = samples[k];
            int w = bs_text_width(scale, s), h = bs_text_height(scale);
            assert_int_equal(h, 7 * scale);
            assert_int_equal(w, s[0] ? ((int)strlen(s) * 6 - 1) * scale : 0);
            bs_image im;
            int ox = 3, oy = 2;
            assert_int_equal(bs_image_init(&im, w + 2 * ox + 1, h + 2 * oy, NULL), BS_OK);
            const uint8_t white[3] = { 255, 255, 255 };
            assert_int_equal(bs_image_text(&im, ox, oy, scale, white, s), w);
            /* All ink lies inside the advertised box. */
            int minx = im.w, maxx = -1, miny = im.h, maxy = -1;
            for (int y = 0; y < im.h; y++)
                for (int x = 0; x < im.w; x++)
                    if (im.rgb[(y * im.w + x) * 3]) {
                        minx = x < minx ? x : minx;
                        maxx = x > maxx ? x : maxx;
                        miny = y < miny ? y : miny;
                        maxy = y > maxy ? y : maxy;
                    }
            if (maxx >= 0) {
                assert_true(minx >= ox && maxx < ox + w);
                assert_true(miny >= oy && maxy < oy + h);
            }
            bs_image_free(&im);
        }
    assert_int_equal(bs_text_width(0, "abc"), 0);
    assert_int_equal(bs_image_text(NULL, 0, 0, 2, (const uint8_t[3]){ 1, 2, 3 }, "ab"),
            bs_text_width(2, "ab")); /* NULL image: measures only */
    /* UTF-8: the micro sign is one character, drawn as 'u' */
    assert_int_equal(bs_text_width(1, "5 " BS_UM), bs_text_width(1, "5 um"));
    bs_text_force_builtin(0);
}

/* TrueType text (when a font is found): the ink lies in the box the
 * measures promise (capitals from y to y + cap, descenders to cap +
 * descent, a pixel of slack for anti-aliasing at the sides), drawing twice
 * gives the same pixels, and the micro sign is its own glyph, not 'u'. */
static int ink_box(const bs_image *im, int box[4])
{
    int n = 0;
    box[0] = im->w;
    box[1] = im->h;
    box[2] = box[3] = -1;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            if (im->rgb[(y * im->w + x) * 3]) {
                n++;
                box[0] = x < box[0] ? x : box[0];
                box[1] = y < box[1] ? y : box[1];
                box[2] = x > box[2] ? x : box[2];
                box[3] = y > box[3] ? y : box[3];
            }
    return n;
}

static void test_truetype_text(void **state)
{
    (void)state;
    if (!bs_text_truetype()) {
        print_message("no TrueType font here (%s): skipped\n", bs_text_font_note() ? bs_text_font_note() : "?");
        skip();
    }
    const uint8_t white[3] = { 255, 255, 255 };
    const char *samples[] = { "HEIGHT", "day 123.4", "typography", "500 " BS_UM };
    for (int cap = 10; cap <= 30; cap += 10)
        for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
            const char *s = samples[k];
            int w = bs_text_width_px(cap, s), d = bs_text_descent(cap), ox = 8, oy = 8;
            assert_true(w > 0);
            assert_true(d > 0 && d < cap);
            bs_image a, b;
            assert_int_equal(bs_image_init(&a, w + 2 * ox, cap + d + 2 * oy, NULL), BS_OK);
            assert_int_equal(bs_image_init(&b, w + 2 * ox, cap + d + 2 * oy, NULL), BS_OK);
            assert_int_equal(bs_image_text_px(&a, ox, oy, cap, white, s), w);
            bs_image_text_px(&b, ox, oy, cap, white, s);
            assert_memory_equal(a.rgb, b.rgb, (size_t)a.w * a.h * 3);
            int box[4];
            assert_true(ink_box(&a, box) > 0);
            assert_true(box[0] >= ox - 1 && box[2] <= ox + w);
            assert_true(box[1] >= oy - 1 && box[3] <= oy + cap + d);
            if (k == 0) { /* capitals only: top and baseline within a pixel of the box */
                assert_true(box[1] <= oy + 1);
                assert_true(box[3] >= oy + cap - 2 && box[3] <= oy + cap);
            }
            bs_image_free(&a);
            bs_image_free(&b);
        }
    /* the micro sign is drawn with its own glyph (a descender 'u' has not) */
    bs_image mu, u;
    assert_int_equal(bs_image_init(&mu, 40, 40, NULL), BS_OK);
    assert_int_equal(bs_image_init(&u, 40, 40, NULL), BS_OK);
    bs_image_text_px(&mu, 4, 4, 20, white, "\xC2\xB5");
    bs_image_text_px(&u, 4, 4, 20, white, "u");
    int bm[4], bu[4];
    ink_box(&mu, bm);
    ink_box(&u, bu);
    assert_true(bm[3] > bu[3]);
    bs_image_free(&mu);
    bs_image_free(&u);
}

/* Catches slips in the hand-drawn table: every printable glyph has ink, no
 * two glyphs are the same, and only space is blank. */
static void test_font_glyphs_distinct(void **state)
{
    (void)state;
    uint8_t g[95][7];
    for (int c = 32; c <= 126; c++) {
        int ink = 0;
        for (int r = 0; r < 7; r++) {
            g[c - 32][r] = bs_font5x7_row(c, r);
            assert_true(g[c - 32][r] < 32);
            ink += g[c - 32][r] != 0;
        }
        if (c == ' ')
            assert_int_equal(ink, 0);
        else
            assert_true(ink > 0);
    }
    for (int a = 0; a < 95; a++)
        for (int b = a + 1; b < 95; b++) assert_true(memcmp(g[a], g[b], 7) != 0);
    /* Outside 32..126 draws as '?'. */
    for (int r = 0; r < 7; r++) {
        assert_int_equal(bs_font5x7_row(200, r), bs_font5x7_row('?', r));
        assert_int_equal(bs_font5x7_row('\n', r), bs_font5x7_row('?', r));
    }
    assert_int_equal(bs_font5x7_row('A', 7), 0);
}

/* ---- PNG write/read ---------------------------------------------------------- */

static void test_png_round_trip(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "rt.png");
    bs_image a, b;
    make_pattern(&a, 37, 23);
    bs_error err = { { 0 } };
    assert_int_equal(bs_png_write(path, &a, &err), BS_OK);
    assert_int_equal(bs_png_read(path, &b, 37 * 23, &err), BS_OK);
    assert_int_equal(b.w, 37);
    assert_int_equal(b.h, 23);
    assert_memory_equal(a.rgb, b.rgb, 37 * 23 * 3);
    bs_image_free(&a);
    bs_image_free(&b);
    assert_int_equal(count_files_with(".tmp."), 0);
}

static void test_png_bytes_reproducible(void **state)
{
    (void)state;
    char p1[512], p2[512];
    path_in(p1, sizeof p1, "same1.png");
    path_in(p2, sizeof p2, "same2.png");
    bs_image a;
    make_pattern(&a, 64, 40);
    assert_int_equal(bs_png_write(p1, &a, NULL), BS_OK);
    assert_int_equal(bs_png_write(p2, &a, NULL), BS_OK);
    long n1, n2;
    uint8_t *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, (size_t)n1);
    /* No time chunk: the bytes must not carry the wall clock. */
    for (long i = 0; i + 4 <= n1; i++) assert_false(memcmp(b1 + i, "tIME", 4) == 0);
    /* Overwriting an existing file works and gives the same bytes. */
    assert_int_equal(bs_png_write(p1, &a, NULL), BS_OK);
    long n3;
    uint8_t *b3 = slurp(p1, &n3);
    assert_int_equal(n3, n1);
    assert_memory_equal(b1, b3, (size_t)n1);
    free(b1);
    free(b2);
    free(b3);
    bs_image_free(&a);
}

static void test_png_truncated_rejected(void **state)
{
    (void)state;
    char good[512], bad[512];
    path_in(good, sizeof good, "whole.png");
    path_in(bad, sizeof bad, "cut.png");
    bs_image a;
    make_pattern(&a, 50, 30);
    assert_int_equal(bs_png_write(good, &a, NULL), BS_OK);
    bs_image_free(&a);
    long n;
    uint8_t *bytes = slurp(good, &n);
    /* Every cut point: inside the signature, IHDR, IDAT, and just before
     * the end of IEND. None may crash or be accepted. */
    for (long cut = 0; cut < n; cut += (cut < 64 || cut > n - 16) ? 1 : 97) {
        spit(bad, bytes, cut);
        expect_invalid_png(bad);
    }
    free(bytes);
}

static void test_png_garbage_rejected(void **state)
{
    (void)state;
    char bad[512];
    path_in(bad, sizeof bad, "garbage.png");
    uint8_t junk[4096];
    uint32_t s = 99u;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (uint8_t)(s >> 16);
    }
    spit(bad, junk, sizeof junk);
    expect_invalid_png(bad);

    /* A PNG signature followed by junk gets past the first check. */
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    memcpy(junk, sig, 8);
    spit(bad, junk, sizeof junk);
    expect_invalid_png(bad);

    /* A plain text file, and an empty one. */
    spit(bad, (const uint8_t *)"hello, not a picture\n", 21);
    expect_invalid_png(bad);
    spit(bad, junk, 0);
    expect_invalid_png(bad);
}

static void test_png_corrupt_data_rejected(void **state)
{
    (void)state;
    char good[512], bad[512];
    path_in(good, sizeof good, "c_whole.png");
    path_in(bad, sizeof bad, "c_flip.png");
    bs_image a;
    make_pattern(&a, 40, 40);
    assert_int_equal(bs_png_write(good, &a, NULL), BS_OK);
    bs_image_free(&a);
    long n;
    uint8_t *bytes = slurp(good, &n);
    /* Flip a byte inside IDAT: the chunk CRC no longer matches. */
    long idat = -1;
    for (long i = 0; i + 4 <= n; i++)
        if (memcmp(bytes + i, "IDAT", 4) == 0) {
            idat = i;
            break;
        }
    assert_true(idat > 0);
    bytes[idat + 20] ^= 0x5a;
    spit(bad, bytes, n);
    expect_invalid_png(bad);
    /* Forged sizes in IHDR (CRC fixed up) must be refused cleanly: a width
     * libpng itself refuses, and a plausible one whose pixel data is
     * missing, once with and once without our limit. */
    free(bytes);
    bytes = slurp(good, &n);
    forge_width(bytes, 0x7f000028u);
    spit(bad, bytes, n);
    expect_invalid_png(bad);
    forge_width(bytes, 100000u);
    spit(bad, bytes, n);
    expect_invalid_png(bad);
    bs_image im;
    bs_error err = { { 0 } };
    assert_int_equal(bs_png_read(bad, &im, 1000000, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, bad));
    assert_non_null(strstr(err.msg, "over the limit"));
    assert_null(im.rgb);
    free(bytes);
}

static void test_png_over_limit_rejected(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "big.png");
    bs_image a, b;
    make_pattern(&a, 20, 10);
    assert_int_equal(bs_png_write(path, &a, NULL), BS_OK);
    bs_error err = { { 0 } };
    assert_int_equal(bs_png_read(path, &b, 199, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "20x10"));
    assert_non_null(strstr(err.msg, "199"));
    assert_null(b.rgb);
    assert_int_equal(bs_png_read(path, &b, 200, &err), BS_OK);
    bs_image_free(&b);
    bs_image_free(&a);
}

static void test_png_missing_file_is_io_error(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "does-not-exist.png");
    bs_image b;
    bs_error err = { { 0 } };
    assert_int_equal(bs_png_read(path, &b, 0, &err), BS_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
}

static void test_png_write_failure_leaves_nothing(void **state)
{
    (void)state;
    bs_image a;
    make_pattern(&a, 8, 8);
    bs_error err = { { 0 } };
    char path[512];

    /* Directory that does not exist. */
    path_in(path, sizeof path, "no-such-dir/x.png");
    assert_int_equal(bs_png_write(path, &a, &err), BS_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));

    /* The target is a directory: writing the temp file works, the rename
     * fails, and the temp file must be gone afterwards. */
    path_in(path, sizeof path, "a-dir.png");
    assert_int_equal(mkdir(path, 0700), 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(bs_png_write(path, &a, &err), BS_ERR_IO);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(count_files_with(".tmp."), 0);
    assert_int_equal(rmdir(path), 0);

    /* Nothing to write. */
    bs_image empty = { 0, 0, NULL };
    path_in(path, sizeof path, "empty.png");
    assert_int_equal(bs_png_write(path, &empty, &err), BS_ERR_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    bs_image_free(&a);
}

/* Writes a PNG of any colour type straight through libpng, so the reader's
 * conversions can be checked against files it did not write itself. */
static void write_raw_png(const char *path, int w, int h, int color_type, int depth, const uint8_t *rows,
        size_t rowbytes, const png_color *palette, int npal, const uint8_t *trns, int ntrns)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng failed writing a test file");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
            PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (palette) png_set_PLTE(png, info, palette, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, rows + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void expect_rgb(const bs_image *im, int x, int y, int r, int g, int b)
{
    const uint8_t *p = im->rgb + ((size_t)y * im->w + x) * 3;
    assert_int_equal(p[0], r);
    assert_int_equal(p[1], g);
    assert_int_equal(p[2], b);
}

static void test_png_read_converts_formats(void **state)
{
    (void)state;
    char path[512];
    path_in(path, sizeof path, "fmt.png");
    bs_image im;
    bs_error err = { { 0 } };

    /* 8-bit grey. */
    const uint8_t grey[2] = { 0, 200 };
    write_raw_png(path, 2, 1, PNG_COLOR_TYPE_GRAY, 8, grey, 2, NULL, 0, NULL, 0);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 0, 0, 0);
    expect_rgb(&im, 1, 0, 200, 200, 200);
    bs_image_free(&im);

    /* 1-bit grey: 0 -> black, 1 -> white. */
    const uint8_t bits[1] = { 0x40 }; /* pixels 0,1,0 */
    write_raw_png(path, 3, 1, PNG_COLOR_TYPE_GRAY, 1, bits, 1, NULL, 0, NULL, 0);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 0, 0, 0);
    expect_rgb(&im, 1, 0, 255, 255, 255);
    expect_rgb(&im, 2, 0, 0, 0, 0);
    bs_image_free(&im);

    /* 4-bit palette with one half-transparent entry (over black). */
    const png_color pal[3] = { { 255, 0, 0 }, { 0, 0, 255 }, { 200, 100, 50 } };
    const uint8_t trns[3] = { 255, 255, 128 };
    const uint8_t idx[2] = { 0x01, 0x20 }; /* pixels 0,1,2,0 */
    write_raw_png(path, 4, 1, PNG_COLOR_TYPE_PALETTE, 4, idx, 2, pal, 3, trns, 3);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 255, 0, 0);
    expect_rgb(&im, 1, 0, 0, 0, 255);
    expect_rgb(&im, 2, 0, 100, 50, 25);
    expect_rgb(&im, 3, 0, 255, 0, 0);
    bs_image_free(&im);

    /* 16-bit RGB: the high byte survives. */
    const uint8_t rgb16[12] = { 0x12, 0x34, 0xab, 0xcd, 0xff, 0xff, 0, 0, 0x80, 0x00, 0x01, 0x00 };
    write_raw_png(path, 2, 1, PNG_COLOR_TYPE_RGB, 16, rgb16, 12, NULL, 0, NULL, 0);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 0x12, 0xab, 0xff);
    expect_rgb(&im, 1, 0, 0x00, 0x80, 0x01);
    bs_image_free(&im);

    /* 8-bit RGBA: alpha composited over black. */
    const uint8_t rgba[8] = { 200, 100, 50, 255, 200, 100, 50, 0 };
    write_raw_png(path, 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0, NULL, 0);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 200, 100, 50);
    expect_rgb(&im, 1, 0, 0, 0, 0);
    bs_image_free(&im);

    /* Grey + alpha, 8 bit. */
    const uint8_t ga[2] = { 255, 51 };
    write_raw_png(path, 1, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, 2, NULL, 0, NULL, 0);
    assert_int_equal(bs_png_read(path, &im, 0, &err), BS_OK);
    expect_rgb(&im, 0, 0, 51, 51, 51);
    bs_image_free(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_sizes),
        cmocka_unit_test(test_fill_rect_clips),
        cmocka_unit_test(test_text_width_matches_drawing),
        cmocka_unit_test(test_truetype_text),
        cmocka_unit_test(test_font_glyphs_distinct),
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_png_bytes_reproducible),
        cmocka_unit_test(test_png_truncated_rejected),
        cmocka_unit_test(test_png_garbage_rejected),
        cmocka_unit_test(test_png_corrupt_data_rejected),
        cmocka_unit_test(test_png_over_limit_rejected),
        cmocka_unit_test(test_png_missing_file_is_io_error),
        cmocka_unit_test(test_png_write_failure_leaves_nothing),
        cmocka_unit_test(test_png_read_converts_formats),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
