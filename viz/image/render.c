/* render.c — lattice, cells, legend, scale bar and time stamp as one image.
 *
 * Layout (all sizes derive from px_per_site and the text size cap, which
 * follows the lattice's height so the legend fits beside it):
 *
 *   +------------------------------+-----------------+
 *   | lattice: w*px x h*px         | legend panel    |
 *   | (tissue or field heat map,   | title, day,     |
 *   |  cells on top)               | tissue/field,   |
 *   +------------------------------+ cells + counts  |
 *   | scale bar strip              |                 |
 *   +------------------------------+-----------------+
 *
 * The image is as tall as the taller column. Nothing in the layout depends
 * on the simulation state (counts reserve room for the largest possible
 * number), so a snapshot series keeps one size and can be made into a video.
 *
 * Every colour is computed in integers from fixed tables, so the same input
 * gives the same bytes on any machine. */
#define _POSIX_C_SOURCE 200809L /* read, close */

#include "render.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "celltypes.h"
#include "config.h" /* bs_open_regular */

/* ---- palette ------------------------------------------------------------
 * Tissue colours are muted so the saturated Okabe-Ito cell colours stand
 * out: marrow is dark, bone light, and the endosteal tints are half-blends
 * into marrow so they read as a thin coloured lining, not as cells. */
static const uint8_t COL_PANEL[3] = { 0x1C, 0x1C, 0x22 };
static const uint8_t COL_TEXT[3] = { 0xF2, 0xF2, 0xF2 };
static const uint8_t COL_DIM[3] = { 0xA8, 0xA8, 0xB8 };
static const uint8_t COL_MARROW[3] = { 0x3A, 0x22, 0x24 };
static const uint8_t COL_BONE_FULL[3] = { 0xEE, 0xE4, 0xC6 };
static const uint8_t COL_BONE_LOW[3] = { 0x7A, 0x75, 0x70 };
static const uint8_t COL_VESSEL[3] = { 0xC8, 0x10, 0x28 };
static const uint8_t COL_ARTERIOLE[3] = { 0xB0, 0x40, 0xD8 };
static const uint8_t COL_UNKNOWN[3] = { 0x00, 0x00, 0x00 };
/* bone lost since day 0 (BS_FLAG_BONE0 on marrow): a bright lime no cell
 * type, surface state or tissue uses, so the pit reads at a glance */
static const uint8_t COL_ERODED[3] = { 0xA8, 0xE8, 0x20 };
static const uint8_t COL_NAN[3] = { 0x60, 0x60, 0x60 };
static const uint8_t COL_EDGE[3] = { 0xFF, 0xFF, 0xFF };
static const uint8_t COL_OUTLINE_LIGHT[3] = { 0xF4, 0xF4, 0xF4 };
static const uint8_t COL_OUTLINE_DARK[3] = { 0x14, 0x14, 0x14 };

/* Tint of each surface state, blended into marrow by SURF_BLEND/255. */
static const uint8_t COL_SURF[5][3] = {
    [BS_SURF_NONE] = { 0x3A, 0x22, 0x24 },
    [BS_SURF_QUIESCENT] = { 0xC8, 0xB4, 0x96 }, /* lining cells: pale tan */
    [BS_SURF_RESORPTION] = { 0xFF, 0x40, 0x90 }, /* BRC digging: hot pink */
    [BS_SURF_REVERSAL] = { 0xF0, 0xE0, 0x40 }, /* BRC waiting: yellow */
    [BS_SURF_FORMATION] = { 0x30, 0xD8, 0xC8 }, /* BRC refilling: teal */
};
#define SURF_BLEND 150

/* Viridis (van der Walt & Smith, matplotlib 2.0) sampled at 9 evenly spaced
 * points; the 256-entry map interpolates linearly between them, which is
 * within a few units of the full table and keeps it perceptually uniform. */
static const uint8_t VIRIDIS_ANCHORS[9][3] = {
    { 0x44, 0x01, 0x54 },
    { 0x47, 0x2D, 0x7B },
    { 0x3B, 0x52, 0x8B },
    { 0x2C, 0x72, 0x8E },
    { 0x21, 0x90, 0x8C },
    { 0x27, 0xAD, 0x81 },
    { 0x5D, 0xC8, 0x63 },
    { 0xAA, 0xDC, 0x32 },
    { 0xFD, 0xE7, 0x25 },
};

/* Cividis (Nuñez, Anderton & Renslow 2018) sampled the same way. */
static const uint8_t CIVIDIS_ANCHORS[9][3] = {
    { 0x00, 0x22, 0x4E },
    { 0x12, 0x35, 0x70 },
    { 0x3B, 0x49, 0x6C },
    { 0x57, 0x5D, 0x6D },
    { 0x70, 0x71, 0x73 },
    { 0x8A, 0x86, 0x78 },
    { 0xA5, 0x9C, 0x74 },
    { 0xC3, 0xB3, 0x69 },
    { 0xFE, 0xE8, 0x38 },
};

/* Limits that keep every pixel index in int and memory sane; a lattice that
 * needs more should be rendered with a smaller px_per_site. */
#define MAX_SIDE_PX 65536L
#define MAX_IMAGE_PX (1L << 28)

typedef struct {
    int px; /* pixels per site */
    int rx0, ry0, rx1, ry1; /* the sites drawn (the region, or all) */
    int lat_w, lat_h; /* lattice area, pixels */
    int cap; /* text size: capital height, pixels */
    int cap_day; /* the day's, larger */
    int tissue_cols; /* the tissue key in 1 or 2 columns */
    int ts; /* small unit: cap / 7, at least 1 (the bitmap font's pixel) */
    int m; /* margin */
    int row_h; /* legend row height */
    int sw_w, sw_h; /* legend swatch */
    int gap; /* between swatch, label and count */
    int count_w; /* room reserved for the widest possible count */
    int panel_x, panel_w;
    int strip_h; /* scale bar strip under the lattice */
    int legend_h;
    int img_w, img_h;
} layout;

/* ---- small drawing helpers --------------------------------------------- */

/* Width of the line that marks the day-0 bone surface across a pit. */
static int erode_line_px(int px)
{
    return px / 4 > 1 ? px / 4 : 1;
}

static void lerp_rgb(const uint8_t a[3], const uint8_t b[3], int t255, uint8_t out[3])
{
    for (int k = 0; k < 3; k++) out[k] = (uint8_t)((a[k] * (255 - t255) + b[k] * t255 + 127) / 255);
}

static void anchors_lut(const uint8_t anchors[9][3], uint8_t lut[256][3])
{
    for (int i = 0; i < 256; i++) {
        int seg = i * 8 / 255, num = i * 8 - seg * 255;
        if (seg >= 8) {
            seg = 7;
            num = 255;
        }
        lerp_rgb(anchors[seg], anchors[seg + 1], num, lut[i]);
    }
}

void bs_render_palette(int palette, uint8_t lut[256][3])
{
    anchors_lut(palette == BS_PALETTE_CIVIDIS ? CIVIDIS_ANCHORS : VIRIDIS_ANCHORS, lut);
}

static void put_px(bs_image *im, int x, int y, const uint8_t rgb[3])
{
    uint8_t *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    p[0] = rgb[0];
    p[1] = rgb[1];
    p[2] = rgb[2];
}

/* snprintf's %f follows the C locale's decimal point; a viewer that calls
 * setlocale() must not change the bytes of a snapshot. */
static void fix_decimal_point(char *s)
{
    for (; *s; s++)
        if (*s == ',') *s = '.';
}

/* Copies s into buf, cut with ".." so it is at most max_w pixels wide. */
static const char *fit_text(char *buf, size_t n, const char *s, int cap, int max_w)
{
    snprintf(buf, n, "%s", s ? s : "");
    size_t len = strlen(buf);
    if (bs_text_width_px(cap, buf) <= max_w) return buf;
    while (len > 0 && bs_text_width_px(cap, buf) > max_w) {
        len--;
        buf[len] = '\0';
        if (len >= 2) {
            buf[len - 2] = '.';
            buf[len - 1] = '.';
        }
    }
    return buf;
}

/* ---- markers -------------------------------------------------------------
 * Shapes are tested at pixel centres in half-pixel units (centre of an S-px
 * box at S, radius S), so everything is integer and exactly symmetric. */
static int in_shape(bs_shape sh, int i, int j, int S)
{
    if (i < 0 || j < 0 || i >= S || j >= S) return 0;
    int dx = 2 * i + 1 - S, dy = 2 * j + 1 - S;
    int r2 = dx * dx + dy * dy;
    switch (sh) {
    case BS_SHAPE_SQUARE: {
        int k = S >= 8 ? S / 8 : 0; /* small inset: neighbours stay apart */
        return i >= k && i < S - k && j >= k && j < S - k;
    }
    case BS_SHAPE_DISC: return r2 <= S * S;
    case BS_SHAPE_DIAMOND: return abs(dx) + abs(dy) <= S;
    case BS_SHAPE_RING:
        /* Below 6 px a hole would swallow the marker; draw a disc. */
        return r2 <= S * S && (S < 6 || 100 * r2 >= 30 * S * S);
    }
    return 0;
}

/* Draws a marker in the S x S box at (bx, by), clipped to [0,cw) x [0,ch).
 * Markers of 5 px and more get a 1-px outline in black or white, whichever
 * contrasts with the fill, so a cell stays visible on bone, on marrow and
 * on any heat-map colour. */
static void draw_marker(bs_image *im, int cw, int ch, int bx, int by, int S, bs_shape sh, const uint8_t rgb[3])
{
    /* Rec. 709 weights on the encoded values: close enough to pick a side. */
    int luma = (2126 * rgb[0] + 7152 * rgb[1] + 722 * rgb[2]) / 10000;
    const uint8_t *outline = luma < 128 ? COL_OUTLINE_LIGHT : COL_OUTLINE_DARK;
    int outlined = S >= 5 && !(sh == BS_SHAPE_RING && S < 10);
    for (int j = 0; j < S; j++) {
        int y = by + j;
        if (y < 0 || y >= ch) continue;
        for (int i = 0; i < S; i++) {
            int x = bx + i;
            if (x < 0 || x >= cw || !in_shape(sh, i, j, S)) continue;
            int edge = outlined &&
                    (!in_shape(sh, i - 1, j, S) || !in_shape(sh, i + 1, j, S) || !in_shape(sh, i, j - 1, S) ||
                            !in_shape(sh, i, j + 1, S));
            put_px(im, x, y, edge ? outline : rgb);
        }
    }
}

/* ---- input checks and layout --------------------------------------------- */

static bs_status check_input(const bs_render_input *in, bs_error *err)
{
    if (!in || !in->lat) return bs_fail(err, BS_ERR_INVALID, "render: no lattice");
    const bs_lattice *lat = in->lat;
    if (lat->w <= 0 || lat->h <= 0 || !lat->tissue || !lat->surface || !lat->mineral)
        return bs_fail(err, BS_ERR_INVALID, "render: lattice %dx%d is empty", lat->w, lat->h);
    if (in->px_per_site < 1)
        return bs_fail(err, BS_ERR_INVALID, "render: px_per_site = %d (valid: >= 1)", in->px_per_site);
    const int *r = in->region;
    int cropped = r[0] || r[1] || r[2] || r[3];
    if (cropped && !(r[0] >= 0 && r[1] >= 0 && r[0] < r[2] && r[1] < r[3] && r[2] <= lat->w && r[3] <= lat->h))
        return bs_fail(err, BS_ERR_INVALID,
                "render: region x %d .. %d, y %d .. %d (valid: 0 <= x0 < x1 <= %d, 0 <= y0 < y1 <= %d)", r[0], r[2],
                r[1], r[3], lat->w, lat->h);
    long wpx = (long)(cropped ? r[2] - r[0] : lat->w) * in->px_per_site,
         hpx = (long)(cropped ? r[3] - r[1] : lat->h) * in->px_per_site;
    if (wpx > MAX_SIDE_PX || hpx > MAX_SIDE_PX || wpx * hpx > MAX_IMAGE_PX)
        return bs_fail(err, BS_ERR_INVALID,
                "render: lattice area would be %ldx%ld pixels (valid: at most %ld per "
                "side and %ld in all; lower px_per_site)",
                wpx, hpx, MAX_SIDE_PX, MAX_IMAGE_PX);
    const bs_store *st = in->store;
    if (st && (st->w != lat->w || st->h != lat->h || !st->occ || !st->type || !st->state))
        return bs_fail(err, BS_ERR_INVALID, "render: store is %dx%d, lattice is %dx%d", st->w, st->h, lat->w, lat->h);
    const bs_field *f = in->overlay;
    if (f && (f->w != lat->w || f->h != lat->h || !f->c))
        return bs_fail(err, BS_ERR_INVALID, "render: field %s is %dx%d, lattice is %dx%d",
                f->spec.name ? f->spec.name : "?", f->w, f->h, lat->w, lat->h);
    return BS_OK;
}

static const char *type_label(const bs_celltype *d)
{
    if (d->plural) return d->plural;
    return d->name ? d->name : "?";
}

static int n_states_of(const bs_celltype *d)
{
    if (d->n_states < 1) return 1;
    return d->n_states > BS_MAX_STATES ? BS_MAX_STATES : d->n_states;
}

static const char *state_label(const bs_celltype *d, int s)
{
    return d->state_names[s] ? d->state_names[s] : "?";
}

static int draw_legend(const bs_render_input *in, const layout *L, bs_image *im,
        const long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES], const uint8_t lut[256][3], double fmin, double fmax);

static int tissue_col_w(const layout *L);

static void compute_layout(const bs_render_input *in, layout *L)
{
    memset(L, 0, sizeof *L);
    const bs_lattice *lat = in->lat;
    L->px = in->px_per_site;
    const int *r = in->region;
    if (r[0] || r[1] || r[2] || r[3]) {
        L->rx0 = r[0];
        L->ry0 = r[1];
        L->rx1 = r[2];
        L->ry1 = r[3];
    } else {
        L->rx1 = lat->w;
        L->ry1 = lat->h;
    }
    L->lat_w = (L->rx1 - L->rx0) * L->px;
    L->lat_h = (L->ry1 - L->ry0) * L->px;
    /* Text grows with the picture so a projected snapshot stays readable,
     * and is small enough that the legend (about 40 capital heights tall)
     * fits beside the lattice: cap = lattice height / 52, 10 .. 36 px. The
     * bitmap font only has multiples of 7 (its scales). */
    int cap = L->lat_h / 52;
    cap = cap < 10 ? 10 : cap > 36 ? 36 : cap;
    if (!bs_text_truetype()) cap = 7 * ((cap + 3) / 7 < 2 ? 2 : (cap + 3) / 7);
    L->cap = cap;
    L->cap_day = bs_text_truetype() ? (3 * cap + 1) / 2 : cap + 7;
    L->ts = cap / 7 > 1 ? cap / 7 : 1;
    int ts = L->ts;
    L->m = (6 * cap + 3) / 7;
    L->row_h = (10 * cap + 3) / 7;
    L->sw_h = (8 * cap + 3) / 7;
    L->sw_w = (12 * cap + 3) / 7;
    L->gap = (4 * cap + 3) / 7;
    (void)ts;

    /* One agent per site at most, so w*h bounds every count. */
    char digits[32];
    snprintf(digits, sizeof digits, "%ld", (long)lat->w * lat->h);
    memset(digits, '9', strlen(digits));
    L->count_w = bs_text_width_px(cap, digits);

    /* the day's widest label; the cell rows below; then the tissue key in
     * two columns where that does not widen the panel, else in one */
    int need = 2 * L->m + bs_text_width_px(L->cap_day, "day 99999.9");
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_celltype *d = bs_celltype_of(t);
        int row = L->m + L->sw_w + L->gap + bs_text_width_px(cap, type_label(d)) + L->gap + L->count_w + L->m;
        if (row > need) need = row;
        if (n_states_of(d) > 1)
            for (int s = 0; s < n_states_of(d); s++) {
                row = L->m + L->gap + L->sw_w + L->gap + bs_text_width_px(cap, state_label(d, s)) + L->gap +
                        L->count_w + L->m;
                if (row > need) need = row;
            }
    }
    L->tissue_cols = 2 * L->m + 2 * tissue_col_w(L) <= need ? 2 : 1;
    if (2 * L->m + L->tissue_cols * tissue_col_w(L) > need) need = 2 * L->m + L->tissue_cols * tissue_col_w(L);
    L->panel_w = need;
    L->panel_x = L->lat_w;
    L->strip_h = 2 * L->m + L->cap + bs_text_descent(L->cap);
    uint8_t no_lut[256][3] = { { 0 } }; /* measuring draws nothing */
    L->legend_h = draw_legend(in, L, NULL, NULL, no_lut, 0.0, 0.0);
    L->img_w = L->lat_w + L->panel_w;
    L->img_h = L->lat_h + L->strip_h;
    if (L->legend_h > L->img_h) L->img_h = L->legend_h;
}

void bs_render_size(const bs_render_input *in, int *w, int *h)
{
    if (check_input(in, NULL) != BS_OK) {
        *w = 0;
        *h = 0;
        return;
    }
    layout L;
    compute_layout(in, &L);
    *w = L.img_w;
    *h = L.img_h;
}

/* ---- lattice ------------------------------------------------------------ */

static void tissue_rgb(const bs_lattice *lat, int i, uint8_t out[3])
{
    switch (lat->tissue[i]) {
    case BS_TISSUE_BONE: {
        float m = lat->mineral[i];
        int t = !(m > 0.0f) ? 0 : m >= 1.0f ? 255 : (int)(m * 255.0f + 0.5f);
        lerp_rgb(COL_BONE_LOW, COL_BONE_FULL, t, out);
        return;
    }
    case BS_TISSUE_MARROW: {
        int s = lat->surface[i];
        if (lat->flags[i] & BS_FLAG_BONE0)
            memcpy(out, COL_ERODED, 3);
        else if (s > BS_SURF_NONE && s <= BS_SURF_FORMATION)
            lerp_rgb(COL_MARROW, COL_SURF[s], SURF_BLEND, out);
        else
            memcpy(out, COL_MARROW, 3);
        return;
    }
    case BS_TISSUE_VESSEL: memcpy(out, COL_VESSEL, 3); return;
    case BS_TISSUE_ARTERIOLE: memcpy(out, COL_ARTERIOLE, 3); return;
    default: memcpy(out, COL_UNKNOWN, 3); return;
    }
}

/* Smallest and largest finite value; both 0 when there is none. */
void bs_render_field_range(const bs_field *f, double *mn, double *mx)
{
    int any = 0;
    double lo = 0.0, hi = 0.0;
    size_t n = (size_t)f->w * (size_t)f->h;
    for (size_t i = 0; i < n; i++) {
        float v = f->c[i];
        if (!isfinite(v)) continue;
        double d = (double)v;
        if (!any || d < lo) lo = d;
        if (!any || d > hi) hi = d;
        any = 1;
    }
    *mn = lo;
    *mx = hi;
}

double bs_render_label_min(double mn, double mx)
{
    return mn < 0.0 && -mn * 256.0 <= (mx - mn) ? 0.0 : mn;
}

void bs_render_tissue_key(int row, uint8_t rgb[3], const char **label)
{
    static const char *const labels[BS_RENDER_TISSUE_ROWS] = { "bone (mineralised)", "bone, low mineral", "marrow",
        "sinusoid", "arteriole", "lining cells", "BRC resorption (digging)", "BRC formation (refilling)",
        "bone lost since day 0" };
    static const int surfs[3] = { BS_SURF_QUIESCENT, BS_SURF_RESORPTION, BS_SURF_FORMATION };
    if (row < 0 || row >= BS_RENDER_TISSUE_ROWS) row = 2;
    *label = labels[row];
    switch (row) {
    case 0: memcpy(rgb, COL_BONE_FULL, 3); break;
    case 1: memcpy(rgb, COL_BONE_LOW, 3); break;
    case 2: memcpy(rgb, COL_MARROW, 3); break;
    case 3: memcpy(rgb, COL_VESSEL, 3); break;
    case 4: memcpy(rgb, COL_ARTERIOLE, 3); break;
    case 8: memcpy(rgb, COL_ERODED, 3); break;
    default: lerp_rgb(COL_MARROW, COL_SURF[surfs[row - 5]], SURF_BLEND, rgb); break;
    }
}

int bs_render_field_index(float v, double mn, double mx)
{
    if (!(mx > mn)) return 0;
    double t = ((double)v - mn) / (mx - mn) * 255.0 + 0.5;
    if (t <= 0.0) return 0;
    if (t >= 255.0) return 255;
    return (int)t;
}

static void draw_lattice(
        const bs_render_input *in, const layout *L, bs_image *im, const uint8_t lut[256][3], double fmin, double fmax)
{
    const bs_lattice *lat = in->lat;
    const bs_field *f = in->overlay;
    int px = L->px;
    for (int y = L->ry0; y < L->ry1; y++)
        for (int x = L->rx0; x < L->rx1; x++) {
            int i = y * lat->w + x;
            uint8_t c[3];
            if (f) {
                float v = f->c[i];
                memcpy(c, isfinite(v) ? lut[bs_render_field_index(v, fmin, fmax)] : COL_NAN, 3);
            } else {
                tissue_rgb(lat, i, c);
            }
            bs_image_fill_rect(im, (x - L->rx0) * px, (y - L->ry0) * px, px, px, c);
        }
    if (!f) return;
    /* A heat map hides the geometry; outline the bone so the field can be
     * read against it (drawn on the bone side of each bone/non-bone edge). */
    int t = px / 4 > 1 ? px / 4 : 1;
    for (int y = L->ry0; y < L->ry1; y++)
        for (int x = L->rx0; x < L->rx1; x++) {
            int i = y * lat->w + x;
            if (lat->tissue[i] != BS_TISSUE_BONE) continue;
            int x0 = (x - L->rx0) * px, y0 = (y - L->ry0) * px;
            if (x > 0 && lat->tissue[i - 1] != BS_TISSUE_BONE) bs_image_fill_rect(im, x0, y0, t, px, COL_EDGE);
            if (x + 1 < lat->w && lat->tissue[i + 1] != BS_TISSUE_BONE)
                bs_image_fill_rect(im, x0 + px - t, y0, t, px, COL_EDGE);
            if (y > 0 && lat->tissue[i - lat->w] != BS_TISSUE_BONE) bs_image_fill_rect(im, x0, y0, px, t, COL_EDGE);
            if (y + 1 < lat->h && lat->tissue[i + lat->w] != BS_TISSUE_BONE)
                bs_image_fill_rect(im, x0, y0 + px - t, px, t, COL_EDGE);
        }
}

/* The cell in the slot at occ, or 0 if the slot is not a valid live agent. */
static int live_cell(const bs_store *st, int32_t slot, int *type, int *state)
{
    if (slot < 0 || slot >= st->capacity) return 0;
    int t = st->type[slot], s = st->state[slot];
    if (t >= bs_celltype_count() || s >= n_states_of(bs_celltype_of(t))) return 0;
    *type = t;
    *state = s;
    return 1;
}

static void count_cells(const bs_store *st, const layout *L, long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES])
{
    memset(counts, 0, sizeof(long) * BS_MAX_CELL_TYPES * BS_MAX_STATES);
    if (!st) return;
    /* Scan sites, not slots: the count is then independent of slot order. */
    for (int y = L->ry0; y < L->ry1; y++)
        for (int x = L->rx0; x < L->rx1; x++) {
            int t, s;
            if (live_cell(st, st->occ[(size_t)y * (size_t)st->w + (size_t)x], &t, &s)) counts[t][s]++;
        }
}

static int footprint_of(const bs_celltype *d)
{
    return d->footprint_sites < 1 ? 1 : d->footprint_sites;
}

static void draw_cells(const bs_render_input *in, const layout *L, bs_image *im)
{
    const bs_store *st = in->store;
    if (!st || in->hide_agents) return;
    int px = L->px, maxf = 1;
    for (int t = 0; t < bs_celltype_count(); t++)
        if (footprint_of(bs_celltype_of(t)) > maxf) maxf = footprint_of(bs_celltype_of(t));
    /* Biggest cells first: a small cell next to an osteoclast is drawn on
     * top of the osteoclast's footprint instead of vanishing under it. */
    /* a big cell just outside a region may reach into it: look a footprint further */
    int ya = L->ry0 - maxf > 0 ? L->ry0 - maxf : 0, yb = L->ry1 + maxf < st->h ? L->ry1 + maxf : st->h;
    int xa = L->rx0 - maxf > 0 ? L->rx0 - maxf : 0, xb = L->rx1 + maxf < st->w ? L->rx1 + maxf : st->w;
    for (int f = maxf; f >= 1; f--)
        for (int y = ya; y < yb; y++)
            for (int x = xa; x < xb; x++) {
                int t, s;
                if (!live_cell(st, st->occ[y * st->w + x], &t, &s)) continue;
                const bs_celltype *d = bs_celltype_of(t);
                if (footprint_of(d) != f) continue;
                /* One-site cells would be a 2x2 dot at px 2; give markers a
                 * floor of 5 px (3 at px 1), enough for a rim around a 3x3
                 * core, even if neighbours then overlap a little. */
                int S = f * px, S_min = 2 * px + 1 < 5 ? 2 * px + 1 : 5;
                if (S < S_min) S = S_min;
                /* Centred on the site; the division rounds toward zero,
                 * which is fine as long as it is always the same. */
                int bx = (x - L->rx0) * px + (px - S) / 2, by = (y - L->ry0) * px + (px - S) / 2;
                draw_marker(im, L->lat_w, L->lat_h, bx, by, S, d->shape[s], d->rgb[s]);
            }
}

/* The day-0 bone surface across the pit, drawn over the cells: a line on
 * each edge between a site lost since day 0 and a site that was marrow at
 * day 0, so the outline of the erosion stays readable where tumour cells
 * fill the pit. */
static void draw_pit_edge(const bs_render_input *in, const layout *L, bs_image *im)
{
    const bs_lattice *lat = in->lat;
    if (in->overlay) return;
    int px = L->px, t = erode_line_px(px);
    for (int y = L->ry0; y < L->ry1; y++)
        for (int x = L->rx0; x < L->rx1; x++) {
            int i = y * lat->w + x;
            if (lat->tissue[i] != BS_TISSUE_MARROW || !(lat->flags[i] & BS_FLAG_BONE0)) continue;
            int x0 = (x - L->rx0) * px, y0 = (y - L->ry0) * px;
            for (int k = 0; k < 4; k++) {
                int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
                if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
                int j = ny * lat->w + nx;
                if (lat->tissue[j] == BS_TISSUE_BONE || (lat->flags[j] & BS_FLAG_BONE0)) continue;
                if (k == 0) bs_image_fill_rect(im, x0, y0, t, px, COL_BONE_FULL);
                if (k == 1) bs_image_fill_rect(im, x0 + px - t, y0, t, px, COL_BONE_FULL);
                if (k == 2) bs_image_fill_rect(im, x0, y0, px, t, COL_BONE_FULL);
                if (k == 3) bs_image_fill_rect(im, x0, y0 + px - t, px, t, COL_BONE_FULL);
            }
        }
}

/* ---- scale bar ------------------------------------------------------------ */

/* A 1-2-5 length near a fifth of the lattice width (nearest on a log
 * scale), shrunk if its bar would not fit. 0 if none fits. */
static long scale_bar_um(const bs_lattice *lat, int sites_w, int px, int max_px)
{
    double width_um = sites_w * lat->h_um, target = width_um / 5.0;
    if (!(target >= 1.0)) return 0;
    long best = 0;
    double best_d = 0.0;
    static const int mult[3] = { 1, 2, 5 };
    for (long p = 1; p <= 100000000L; p *= 10)
        for (int k = 0; k < 3; k++) {
            long v = mult[k] * p;
            double bar = (double)v / lat->h_um * px;
            if (bar > max_px) continue;
            double d = (double)v > target ? (double)v / target : target / (double)v;
            if (!best || d < best_d) {
                best = v;
                best_d = d;
            }
        }
    return best;
}

static void draw_scale_bar(const bs_render_input *in, const layout *L, bs_image *im)
{
    const bs_lattice *lat = in->lat;
    if (!(lat->h_um > 0.0)) return;
    int ts = L->ts;
    long len = scale_bar_um(lat, L->rx1 - L->rx0, L->px, L->lat_w - 2 * L->m);
    if (len <= 0) return;
    int bar = (int)lrint((double)len / lat->h_um * L->px);
    if (bar < 1) return;
    int y = L->lat_h + L->m, ch = L->cap;
    int th = 2 * ts;
    /* A bar with end ticks, like a microscope's: readable on any background. */
    bs_image_fill_rect(im, L->m, y + (ch - th) / 2, bar, th, COL_TEXT);
    bs_image_fill_rect(im, L->m, y, ts, ch, COL_TEXT);
    bs_image_fill_rect(im, L->m + bar - ts, y, ts, ch, COL_TEXT);
    char label[32];
    if (len >= 1000 && len % 1000 == 0)
        snprintf(label, sizeof label, "%ld mm", len / 1000);
    else
        snprintf(label, sizeof label, "%ld " BS_UM, len);
    bs_image_text_px(im, L->m + bar + L->gap, y, ch, COL_TEXT, label);
}

/* ---- legend ----------------------------------------------------------------
 * One function both measures (im == NULL) and draws, so bs_render_size can
 * never disagree with bs_render. Returns the bottom of the legend. */

typedef struct {
    bs_image *im; /* NULL: measure only */
    const layout *L;
    int x0, y; /* panel left, cursor */
} pen;

static void pen_text(pen *p, int x, int y, const uint8_t rgb[3], const char *s)
{
    if (p->im) bs_image_text_px(p->im, x, y, p->L->cap, rgb, s);
}

static void pen_rect(pen *p, int x, int y, int w, int h, const uint8_t rgb[3])
{
    if (p->im) bs_image_fill_rect(p->im, x, y, w, h, rgb);
}

static void pen_count(pen *p, long n)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", n);
    const layout *L = p->L;
    int x = p->x0 + L->panel_w - L->m - bs_text_width_px(L->cap, buf);
    pen_text(p, x, p->y + L->ts + L->ts / 2, COL_TEXT, buf);
}

/* Swatch at indent, label after it; returns the swatch's x. */
static int pen_row(pen *p, int indent, const uint8_t sw[3], const uint8_t fg[3], const char *label)
{
    const layout *L = p->L;
    int sx = p->x0 + L->m + indent;
    if (sw) pen_rect(p, sx, p->y + L->ts, L->sw_w, L->sw_h, sw);
    pen_text(p, sx + (sw ? L->sw_w + L->gap : 0), p->y + L->ts + L->ts / 2, fg, label);
    return sx;
}

static void pen_header(pen *p, const char *s)
{
    char buf[256];
    const layout *L = p->L;
    fit_text(buf, sizeof buf, s, L->cap, L->panel_w - 2 * L->m);
    pen_text(p, p->x0 + L->m, p->y + L->ts + L->ts / 2, COL_DIM, buf);
    p->y += L->row_h;
}

/* The tissue key: two columns of (swatch, label); the header rows say
 * what the pairs are. */
static const char *const TISSUE_LABELS[8] = { "bone", "marrow", "sinusoid", "arteriole", "lining", "resorption",
    "reversal", "formation" };

static int tissue_col_w(const layout *L)
{
    int w = 0;
    for (int k = 0; k < 8; k++) {
        int t = bs_text_width_px(L->cap, TISSUE_LABELS[k]);
        if (t > w) w = t;
    }
    return L->sw_w + L->gap + w + L->gap;
}

static void legend_tissue(pen *p)
{
    const layout *L = p->L;
    int ts = L->ts, col = tissue_col_w(L), nc = L->tissue_cols;
    static const int surfs[4] = { BS_SURF_QUIESCENT, BS_SURF_RESORPTION, BS_SURF_REVERSAL, BS_SURF_FORMATION };
    for (int k = 0; k < 8; k++) {
        if (k == 4) pen_header(p, "bone surface (BRC)");
        int x0 = p->x0 + (k % nc) * col;
        pen q = *p;
        q.x0 = x0;
        if (k == 0) {
            /* Bone's swatch is a ramp: the colour encodes the mineral fraction. */
            if (p->im) {
                int sx = x0 + L->m;
                for (int i = 0; i < L->sw_w; i++) {
                    uint8_t c[3];
                    lerp_rgb(COL_BONE_LOW, COL_BONE_FULL, L->sw_w > 1 ? i * 255 / (L->sw_w - 1) : 255, c);
                    bs_image_fill_rect(p->im, sx + i, p->y + ts, 1, L->sw_h, c);
                }
            }
            pen_text(&q, x0 + L->m + L->sw_w + L->gap, p->y + ts + ts / 2, COL_TEXT, TISSUE_LABELS[k]);
        } else if (k < 4) {
            const uint8_t *c = k == 1 ? COL_MARROW : k == 2 ? COL_VESSEL : COL_ARTERIOLE;
            pen_row(&q, 0, c, COL_TEXT, TISSUE_LABELS[k]);
        } else {
            /* Surface swatches show the lining as it appears: a tinted
             * marrow strip against bone. */
            uint8_t c[3];
            lerp_rgb(COL_MARROW, COL_SURF[surfs[k - 4]], SURF_BLEND, c);
            int sx = pen_row(&q, 0, COL_MARROW, COL_TEXT, TISSUE_LABELS[k]);
            pen_rect(&q, sx, p->y + ts, L->sw_w / 3, L->sw_h, COL_BONE_FULL);
            pen_rect(&q, sx + L->sw_w / 3, p->y + ts, L->sw_w / 3, L->sw_h, c);
        }
        if (k % nc == nc - 1) p->y += L->row_h;
    }
    if (8 % nc) p->y += L->row_h;
    /* the pit: swatch with the day-0 surface line across it */
    int sx = pen_row(p, 0, COL_ERODED, COL_TEXT, "bone lost since day 0");
    pen_rect(p, sx, p->y + ts, L->sw_w, erode_line_px(L->sw_h / 2), COL_BONE_FULL);
    p->y += L->row_h;
}

static void legend_field(pen *p, const bs_field *f, const uint8_t lut[256][3], double fmin, double fmax)
{
    const layout *L = p->L;
    int ts = L->ts;
    char head[256];
    const char *unit = f->spec.unit;
    if (unit && *unit)
        snprintf(head, sizeof head, "%s (%s)", f->spec.name ? f->spec.name : "field", unit);
    else
        snprintf(head, sizeof head, "%s", f->spec.name ? f->spec.name : "field");
    pen_header(p, head);

    int bx = p->x0 + L->m, bw = L->panel_w - 2 * L->m, bh = L->sw_h;
    if (p->im)
        for (int i = 0; i < bw; i++)
            bs_image_fill_rect(p->im, bx + i, p->y, 1, bh, lut[bw > 1 ? i * 255 / (bw - 1) : 0]);
    p->y += bh + ts;

    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "%.3g", bs_render_label_min(fmin, fmax));
    snprintf(hi, sizeof hi, "%.3g", fmax);
    fix_decimal_point(lo);
    fix_decimal_point(hi);
    pen_text(p, bx, p->y + ts, COL_TEXT, lo);
    pen_text(p, bx + bw - bs_text_width_px(L->cap, hi), p->y + ts, COL_TEXT, hi);
    p->y += L->row_h;

    int sx = pen_row(p, 0, lut[128], COL_TEXT, "bone surface");
    pen_rect(p, sx + L->sw_w / 2 - ts / 2, p->y + ts, ts, L->sw_h, COL_EDGE);
    p->y += L->row_h;
}

static void legend_cells(pen *p, const long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES])
{
    const layout *L = p->L;
    int ts = L->ts;
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_celltype *d = bs_celltype_of(t);
        int ns = n_states_of(d);
        long total = 0;
        for (int s = 0; s < ns; s++) total += counts ? counts[t][s] : 0;
        /* A one-state type is one row; otherwise a header row with the
         * total and an indented row per state. */
        int shown = ns == 1 ? 1 : 0;
        for (int r = 0; r < ns + 1 - shown; r++) {
            int s = shown ? 0 : r - 1;
            int header = !shown && r == 0;
            if (header) {
                pen_row(p, 0, NULL, COL_TEXT, type_label(d));
            } else {
                int indent = shown ? 0 : L->gap;
                int sx = pen_row(p, indent, COL_MARROW, COL_TEXT, shown ? type_label(d) : state_label(d, s));
                if (p->im)
                    draw_marker(p->im, p->im->w, p->im->h, sx + (L->sw_w - L->sw_h) / 2, p->y + ts, L->sw_h,
                            d->shape[s], d->rgb[s]);
            }
            pen_count(p, header || shown ? total : (counts ? counts[t][s] : 0));
            p->y += L->row_h;
        }
    }
}

static int draw_legend(const bs_render_input *in, const layout *L, bs_image *im,
        const long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES], const uint8_t lut[256][3], double fmin, double fmax)
{
    pen p = { .im = im, .L = L, .x0 = L->panel_x, .y = L->m };
    int ts = L->ts;
    char buf[256];

    fit_text(buf, sizeof buf, in->title ? in->title : "bonesim", L->cap, L->panel_w - 2 * L->m);
    pen_text(&p, p.x0 + L->m, p.y, COL_TEXT, buf);
    p.y += L->row_h;
    /* the day, larger: the one number a lecture audience looks for */
    snprintf(buf, sizeof buf, "day %.1f", in->time_days);
    fix_decimal_point(buf);
    if (p.im) bs_image_text_px(p.im, p.x0 + L->m, p.y, L->cap_day, COL_TEXT, buf);
    p.y += (10 * L->cap_day + 3) / 7 + L->gap;

    if (in->overlay) {
        legend_field(&p, in->overlay, lut, fmin, fmax);
    } else {
        pen_header(&p, "tissue");
        legend_tissue(&p);
    }
    p.y += L->gap;
    int cropped = L->rx0 || L->ry0 || L->rx1 != in->lat->w || L->ry1 != in->lat->h;
    pen_header(&p, in->hide_agents ? "cells (hidden)" : cropped ? "cells in view" : "cells");
    legend_cells(&p, counts);
    return p.y + L->m - ts;
}

bs_status bs_render(const bs_render_input *in, bs_image *out, bs_error *err)
{
    bs_status st = check_input(in, err);
    if (st != BS_OK) return st;
    layout L;
    compute_layout(in, &L);
    if (!out->rgb || out->w != L.img_w || out->h != L.img_h) {
        bs_image_free(out);
        st = bs_image_init(out, L.img_w, L.img_h, err);
        if (st != BS_OK) return st;
    }

    uint8_t lut[256][3];
    bs_render_palette(in->palette, lut);
    double fmin = 0.0, fmax = 0.0;
    if (in->overlay) {
        bs_render_field_range(in->overlay, &fmin, &fmax);
        if (L.rx0 || L.ry0 || L.rx1 != in->lat->w || L.ry1 != in->lat->h) {
            /* a crop's colours span the values in view */
            int any = 0;
            for (int y = L.ry0; y < L.ry1; y++)
                for (int x = L.rx0; x < L.rx1; x++) {
                    double v = (double)in->overlay->c[(size_t)y * (size_t)in->lat->w + (size_t)x];
                    if (!isfinite(v)) continue;
                    if (!any || v < fmin) fmin = v;
                    if (!any || v > fmax) fmax = v;
                    any = 1;
                }
        }
    }
    long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES];
    count_cells(in->store, &L, counts);

    bs_image_fill_rect(out, 0, 0, out->w, out->h, COL_PANEL);
    draw_lattice(in, &L, out, lut, fmin, fmax);
    draw_cells(in, &L, out);
    draw_pit_edge(in, &L, out);
    draw_scale_bar(in, &L, out);
    /* Repaint the panel: a long scale-bar label may have run into it. */
    bs_image_fill_rect(out, L.panel_x, 0, L.panel_w, out->h, COL_PANEL);
    draw_legend(in, &L, out, counts, lut, fmin, fmax);
    return BS_OK;
}

/* ---- masks ----------------------------------------------------------------- */

/* Largest mask accepted: far beyond any lattice bonesim can step, small
 * enough that a mistaken file cannot exhaust memory (192 MiB of RGB). */
#define MASK_MAX_PIXELS (8192L * 8192L)

bs_status bs_mask_size(const char *path, int *w, int *h, bs_error *err)
{
    *w = *h = 0;
    int e;
    const char *kind;
    int fd = bs_open_regular(path, &e, &kind);
    if (fd < 0 && kind) return bs_fail(err, BS_ERR_IO, "%s: not a regular file (%s)", path, kind);
    if (fd < 0) return bs_fail(err, BS_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
    /* signature (8), then the IHDR chunk, which must come first: length 13
     * (4), "IHDR" (4), width (4), height (4), all big-endian */
    unsigned char b[24];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = read(fd, b + got, sizeof b - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            e = errno;
            close(fd);
            return bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (got == 0) return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (file is empty)", path);
    if (got < sizeof sig || memcmp(b, sig, sizeof sig) != 0)
        return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (no PNG signature)", path);
    if (got < sizeof b || memcmp(b + 8, "\0\0\0\x0dIHDR", 8) != 0)
        return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (no IHDR chunk after the signature)", path);
    uint32_t pw = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
    uint32_t ph = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
    if (pw == 0 || ph == 0 || pw > 0x7fffffffu || ph > 0x7fffffffu)
        return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (header gives %lu x %lu pixels)", path,
                (unsigned long)pw, (unsigned long)ph);
    *w = (int)pw;
    *h = (int)ph;
    return BS_OK;
}

double bs_mask_decode_bytes(int w, int h)
{
    /* RGBA rows (libpng's output before alpha is dropped), a row pointer
     * per row, and the class map */
    return (double)w * h * 4.0 + (double)h * sizeof(void *) + (double)w * h;
}

bs_status bs_mask_load(const char *path, int *w, int *h, uint8_t **classes, bs_error *err)
{
    return bs_mask_load_limited(path, w, h, classes, 0.0, err);
}

bs_status bs_mask_load_limited(const char *path, int *w, int *h, uint8_t **classes, double max_bytes, bs_error *err)
{
    *classes = NULL;
    if (*w < 0 || (*w > 0 && *h <= 0))
        return bs_fail(err, BS_ERR_INVALID,
                "%s: lattice size %dx%d (valid: 0 to take the "
                "mask's size, or both >= 1)",
                path, *w, *h);
    /* The header first: a wrong size or a huge image is refused before a
     * single pixel is decoded. */
    int pw, ph;
    bs_status st = bs_mask_size(path, &pw, &ph, err);
    if (st != BS_OK) return st;
    if (*w != 0 && (pw != *w || ph != *h))
        return bs_fail(err, BS_ERR_INVALID,
                "%s: mask is %dx%d pixels (valid: exactly %dx%d, one pixel per site, or leave "
                "lattice.width_sites and lattice.height_sites unset, in the scenario and on the command line, to "
                "take the mask's size)",
                path, pw, ph, *w, *h);
    if ((double)pw * ph > (double)MASK_MAX_PIXELS)
        return bs_fail(err, BS_ERR_INVALID, "%s: mask is %dx%d pixels, over the limit of %ld pixels", path, pw, ph,
                MASK_MAX_PIXELS);
    double need = bs_mask_decode_bytes(pw, ph);
    if (max_bytes > 0.0 && need > max_bytes)
        return bs_fail(err, BS_ERR_NOMEM,
                "%s: decoding the %dx%d mask needs about %.0f MiB, more than the limit of %.0f MiB (set by "
                "--max-memory-mb)",
                path, pw, ph, ceil(need / 1048576.0), floor(max_bytes / 1048576.0));
    bs_image im;
    /* the header's size is the limit: a file changed since is refused */
    st = bs_png_read(path, &im, (long)pw * ph, err);
    if (st != BS_OK) return st;
    if (im.w != pw || im.h != ph) {
        bs_image_free(&im);
        return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (image size changed while reading)", path);
    }
    size_t n = (size_t)im.w * (size_t)im.h;
    uint8_t *c = malloc(n);
    if (!c) {
        bs_image_free(&im);
        return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory for a %dx%d mask", path, im.w, im.h);
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = im.rgb + i * 3;
        int r = p[0], g = p[1], b = p[2];
        if (r >= 128 && g < 96 && b < 96)
            c[i] = BS_TISSUE_VESSEL;
        else if (r >= 128 && b >= 128 && g < 96)
            c[i] = BS_TISSUE_ARTERIOLE;
        else if (r + g + b >= 3 * 128)
            c[i] = BS_TISSUE_BONE;
        else
            c[i] = BS_TISSUE_MARROW;
    }
    *w = im.w;
    *h = im.h;
    *classes = c;
    bs_image_free(&im);
    return BS_OK;
}
