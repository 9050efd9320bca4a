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

/* Text in the built-in 5x7 bitmap font, each font pixel drawn as
 * scale x scale pixels; returns the width drawn. ASCII 32..126. */
int bs_image_text(bs_image *im, int x, int y, int scale, const uint8_t rgb[3], const char *s);
int bs_text_width(int scale, const char *s);
int bs_text_height(int scale);

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
