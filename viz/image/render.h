/* render.h — draws the lattice, cells, legend, scale bar and time stamp.
 *
 * One renderer for headless PNGs and the live viewer: the same input gives
 * the same pixels. Pure function of its input (no globals), deterministic. */
#ifndef BS_RENDER_H
#define BS_RENDER_H

#include "field.h"
#include "image.h"
#include "lattice.h"
#include "store.h"

typedef struct {
    const bs_lattice *lat;
    const bs_store *store;
    double time_days;
    const char *title; /* scenario name, top of the legend */
    int px_per_site; /* integer scale, >= 1 */
    const bs_field *overlay; /* optional heat map instead of tissue colours, or NULL */
    int hide_agents; /* 1: draw tissue/overlay only */
    int palette; /* heat-map colours: BS_PALETTE_VIRIDIS (0, default) or _CIVIDIS */
    /* Optional crop, in sites: columns x0 .. x1-1 and rows y0 .. y1-1
     * (0 <= x0 < x1 <= w, 0 <= y0 < y1 <= h); all four 0 = the whole
     * lattice. Only the region is drawn, the scale bar measures it, the
     * legend counts the cells in it ("cells in view") and a heat map's
     * colour range is the region's. */
    int region[4];
} bs_render_input;

/* Perceptually uniform heat-map palettes, never a rainbow; cividis also
 * reads the same to red-green colour-blind viewers. */
enum { BS_PALETTE_VIRIDIS = 0, BS_PALETTE_CIVIDIS = 1, BS_PALETTE_COUNT };

/* The 256-entry colour table of a palette (index 0 = field minimum). */
void bs_render_palette(int palette, uint8_t lut[256][3]);
/* The range a heat map of f spans: smallest and largest finite value (both
 * 0 if none), and the table index of value v in it. The viewer's colour
 * bar uses these, so it always matches the image. */
void bs_render_field_range(const bs_field *f, double *mn, double *mx);
int bs_render_field_index(float v, double mn, double mx);
/* The colour bar's lower label: mn, or 0 when mn is a solver undershoot
 * below zero smaller than one colour step of the bar (1/256 of the range);
 * a larger negative value is shown as it is. */
double bs_render_label_min(double mn, double mx);
/* The tissue key, row by row (0 .. BS_RENDER_TISSUE_ROWS-1): the colour
 * bs_render gives it and its label, for the viewer's overlay legend. */
#define BS_RENDER_TISSUE_ROWS 9
void bs_render_tissue_key(int row, uint8_t rgb[3], const char **label);

/* Size of the image bs_render will produce for this input. */
void bs_render_size(const bs_render_input *in, int *w, int *h);
/* (Re)allocates out to the right size if needed and draws. out must be a
 * valid image or zeroed ({0}); the caller frees it with bs_image_free. The
 * size depends only on the lattice size, px_per_site and whether there is
 * an overlay, never on the cell counts. */
bs_status bs_render(const bs_render_input *in, bs_image *out, bs_error *err);

/* Decodes a PNG mask of a bone section into tissue classes (w*h bytes,
 * bs_tissue values). Documented mapping (docs/geometry.md):
 *   red-dominant pixel (R >= 128, G < 96, B < 96)  -> vessel (sinusoid)
 *   magenta (R >= 128, B >= 128, G < 96)           -> arteriole
 *   otherwise grey level (R+G+B)/3 >= 128          -> bone
 *   otherwise                                      -> marrow
 * The image must be exactly w x h pixels unless w == 0 on input, in which
 * case the lattice takes the image size. Caller frees *classes. */
bs_status bs_mask_load(const char *path, int *w, int *h, uint8_t **classes, bs_error *err);
/* The same, with the header read first: the size is checked before any
 * pixel is decoded, and a decode needing more than max_bytes
 * (bs_mask_decode_bytes; <= 0: no limit of ours) is refused. */
bs_status bs_mask_load_limited(const char *path, int *w, int *h, uint8_t **classes, double max_bytes, bs_error *err);
/* The size in the PNG header (the IHDR chunk), without decoding. Regular
 * files only (a FIFO is refused without blocking). */
bs_status bs_mask_size(const char *path, int *w, int *h, bs_error *err);
/* Peak bytes of decoding a w x h mask: RGBA rows and the class map. */
double bs_mask_decode_bytes(int w, int h);

#endif
