/* image.h — RGB images, PNG files (libpng) and the bitmap font.
 * Only viz/ includes libpng; the engine never does. */
#ifndef BS_IMAGE_H
#define BS_IMAGE_H

#include <stdint.h>

#include "bs_status.h"

typedef struct {
    int w, h;
    uint8_t *rgb; /* w*h*3, row-major; owned */
} bs_image;

bs_status bs_image_init(bs_image *im, int w, int h, bs_error *err);
void bs_image_free(bs_image *im);
void bs_image_fill_rect(bs_image *im, int x, int y, int w, int h, const uint8_t rgb[3]);

/* Text (viz/image/text.c): UTF-8, in a TrueType font through FreeType when
 * one is found (see text.c for where it looks), else in the built-in 5x7
 * bitmap font (ASCII; the micro sign drawn as 'u', other characters as
 * '?'). `cap` is the height of capitals in pixels: text drawn at (x, y) has
 * its capitals from row y to y + cap (the baseline), descenders up to
 * bs_text_descent(cap) rows further down. Returns the width drawn (the
 * advance); im may be NULL to measure. The `scale` forms are the bitmap
 * font's sizes: cap = 7 * scale. */
int bs_image_text_px(bs_image *im, int x, int y, int cap, const uint8_t rgb[3], const char *s);
int bs_text_width_px(int cap, const char *s);
int bs_text_descent(int cap);
int bs_image_text(bs_image *im, int x, int y, int scale, const uint8_t rgb[3], const char *s);
int bs_text_width(int scale, const char *s);
int bs_text_height(int scale);
/* 1 when text is drawn in a TrueType font, 0 for the bitmap font. */
int bs_text_truetype(void);
/* Why text falls back to the bitmap font (no font found, built without
 * FreeType, ...), or NULL when a TrueType font is used or the bitmap font
 * was asked for; the command line prints it once. */
const char *bs_text_font_note(void);
/* The TrueType font file in use, or NULL. */
const char *bs_text_font_path(void);
/* Tests: 1 draws with the bitmap font whatever is installed, 0 undoes it. */
void bs_text_force_builtin(int on);
/* "µm" in UTF-8, for labels. */
#define BS_UM "\xC2\xB5m"

/* The font itself (viz/image/font5x7.c): glyph cells are BS_FONT_W x BS_FONT_H,
 * advancing BS_FONT_W + 1 columns per character. Row `row` (0 = top) of
 * character c as a bit mask, bit BS_FONT_W-1 = leftmost column; characters
 * outside 32..126 give the glyph of '?'. */
#define BS_FONT_W 5
#define BS_FONT_H 7
uint8_t bs_font5x7_row(int c, int row);

/* Writes an 8-bit RGB PNG atomically: to "path.tmp.<pid>", then rename.
 * Fixed compression settings and no time chunk, so equal images give
 * equal bytes. */
bs_status bs_png_write(const char *path, const bs_image *im, bs_error *err);
/* Reads any PNG libpng understands into 8-bit RGB (alpha dropped over
 * black). Corrupt or truncated files are errors, never crashes. Refuses
 * images over max_pixels (<= 0: no limit of ours). im is output only: it
 * is overwritten, not freed, and left empty (rgb NULL) on failure. */
bs_status bs_png_read(const char *path, bs_image *im, long max_pixels, bs_error *err);

#endif
