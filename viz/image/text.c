/* text.c — text in images: a TrueType font through FreeType when one is
 * found, else the built-in 5x7 bitmap font (font5x7.c).
 *
 * Which font: $BONESIM_IMAGE_FONT ("builtin" or a .ttf/.otf file), else
 * $BONESIM_FONT (the viewer's), else the first readable file of
 * FONT_PATHS (DejaVu Sans where the distributions put it), else what
 * fontconfig matches for "DejaVu Sans:style=Book" (when built with it).
 * Nothing found, or built without FreeType: the bitmap font, and
 * bs_text_font_note() says why (the command line prints it once).
 *
 * Geometry is the bitmap font's, so every layout works with either: text
 * drawn at (x, y) with size `cap` (capital height in pixels; the bitmap
 * font at scale s has cap 7 s) has its capitals from y to y + cap, the
 * baseline at y + cap; descenders reach up to bs_text_descent(cap) below.
 *
 * Deterministic: glyphs are rasterised by FreeType in 8-bit coverage and
 * blended in integers; pen positions are 26.6 fixed point. The same font
 * file and FreeType version give the same pixels (a different FreeType may
 * hint differently: compare images across machines by eye, not by hash).
 * Not thread-safe: the face and its glyph cache are process-wide, used from
 * the thread that draws images. */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#ifdef BS_HAVE_FREETYPE
#include <ft2build.h>
#include FT_FREETYPE_H
#ifdef BS_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif
#endif

/* ---- UTF-8 -------------------------------------------------------------------------- */

/* The next code point of s (advancing *s); malformed bytes give U+FFFD. */
static unsigned utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    unsigned c = p[0];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0) {
        *s += 1;
        return 0xFFFD;
    }
    unsigned cp = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
    for (int k = 1; k <= n; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            *s += k;
            return 0xFFFD;
        }
        cp = cp << 6 | (p[k] & 0x3F);
    }
    *s += n + 1;
    return cp;
}

/* The bitmap font's stand-in for a code point: ASCII as it is, the micro
 * sign and Greek mu as 'u' ("um"), anything else as '?'. */
static int bitmap_char(unsigned cp)
{
    if (cp >= 32 && cp <= 126) return (int)cp;
    if (cp == 0xB5 || cp == 0x3BC) return 'u';
    return '?';
}

/* ---- the font ------------------------------------------------------------------------ */

#ifdef BS_HAVE_FREETYPE
/* The documented places (README, "Figures and video"), in order. */
static const char *const FONT_PATHS[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", /* Debian/Ubuntu: fonts-dejavu-core */
    "/usr/share/fonts/dejavu/DejaVuSans.ttf", /* Fedora */
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf", /* Fedora >= 36 */
    "/usr/share/fonts/TTF/DejaVuSans.ttf", /* Arch */
    "/usr/local/share/fonts/DejaVuSans.ttf",
};
#endif

static struct {
    int init, force_builtin;
    char path[4096];
    char note[3072];
#ifdef BS_HAVE_FREETYPE
    FT_Library lib;
    FT_Face face;
    int cur_px; /* pixel size set on the face, 0 = none */
    double cap_em; /* capital height / em */
    int kerning;
#endif
} g_font;

#ifdef BS_HAVE_FREETYPE
static int try_face(const char *path, char *why, size_t n)
{
    FT_Face f = NULL;
    FT_Error e = FT_New_Face(g_font.lib, path, 0, &f);
    if (e || !f) {
        snprintf(why, n, "FreeType cannot load it (error %d)", (int)e);
        return 0;
    }
    if (!FT_IS_SCALABLE(f) || FT_Get_Char_Index(f, 'A') == 0) {
        FT_Done_Face(f);
        snprintf(why, n, "not a scalable font with Latin letters");
        return 0;
    }
    g_font.face = f;
    snprintf(g_font.path, sizeof g_font.path, "%s", path);
    /* capital height from the font's OS/2 table, else the height of 'H' */
    g_font.cap_em = 0.0;
    if (f->units_per_EM > 0 && FT_Load_Char(f, 'H', FT_LOAD_NO_SCALE) == 0)
        g_font.cap_em = (double)f->glyph->metrics.height / f->units_per_EM;
    if (!(g_font.cap_em > 0.3 && g_font.cap_em < 1.0)) g_font.cap_em = 0.72;
    g_font.kerning = FT_HAS_KERNING(f) ? 1 : 0;
    return 1;
}

static int readable(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}
#endif

static void font_init(void)
{
    if (g_font.init) return;
    g_font.init = 1;
    g_font.note[0] = '\0';
    const char *img_env = getenv("BONESIM_IMAGE_FONT");
    if (img_env && strcmp(img_env, "builtin") == 0) {
        snprintf(g_font.note, sizeof g_font.note, "BONESIM_IMAGE_FONT=builtin: images use the built-in 5x7 font");
        return;
    }
#ifndef BS_HAVE_FREETYPE
    snprintf(g_font.note, sizeof g_font.note,
            "built without FreeType (BONESIM_WITH_FREETYPE=OFF or libfreetype-dev missing): images use the built-in "
            "5x7 font");
#else
    if (FT_Init_FreeType(&g_font.lib) != 0) {
        g_font.lib = NULL;
        snprintf(g_font.note, sizeof g_font.note, "FreeType failed to start: images use the built-in 5x7 font");
        return;
    }
    char why[256];
    const char *env = img_env && *img_env ? img_env : getenv("BONESIM_FONT");
    const char *envname = img_env && *img_env ? "BONESIM_IMAGE_FONT" : "BONESIM_FONT";
    if (env && *env) {
        if (try_face(env, why, sizeof why)) return;
        snprintf(
                g_font.note, sizeof g_font.note, "%s=%.2000s: %s; images use the built-in 5x7 font", envname, env, why);
        return;
    }
    char tried[2048] = "";
    size_t k = 0;
    for (size_t i = 0; i < sizeof FONT_PATHS / sizeof FONT_PATHS[0]; i++) {
        if (readable(FONT_PATHS[i]) && try_face(FONT_PATHS[i], why, sizeof why)) return;
        if (k < sizeof tried) k += (size_t)snprintf(tried + k, sizeof tried - k, "%s%s", i ? ", " : "", FONT_PATHS[i]);
    }
#ifdef BS_HAVE_FONTCONFIG
    if (FcInit()) {
        FcPattern *pat = FcNameParse((const FcChar8 *)"DejaVu Sans:style=Book");
        if (pat) {
            FcConfigSubstitute(NULL, pat, FcMatchPattern);
            FcDefaultSubstitute(pat);
            FcResult res;
            FcPattern *m = FcFontMatch(NULL, pat, &res);
            FcChar8 *file = NULL;
            int ok = m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch && file &&
                    try_face((const char *)file, why, sizeof why);
            if (m) FcPatternDestroy(m);
            FcPatternDestroy(pat);
            if (ok) return;
        }
    }
    if (k < sizeof tried) snprintf(tried + k, sizeof tried - k, ", fontconfig");
#endif
    snprintf(g_font.note, sizeof g_font.note,
            "no TrueType font found (tried %.2000s): images use the built-in 5x7 font; install fonts-dejavu-core or "
            "set "
            "BONESIM_IMAGE_FONT=FILE.ttf",
            tried);
#endif
}

const char *bs_text_font_note(void)
{
    font_init();
    if (g_font.force_builtin) return NULL; /* asked for by the caller: nothing to say */
    return g_font.note[0] ? g_font.note : NULL;
}

const char *bs_text_font_path(void)
{
    font_init();
#ifdef BS_HAVE_FREETYPE
    if (g_font.face && !g_font.force_builtin) return g_font.path;
#endif
    return NULL;
}

void bs_text_force_builtin(int on)
{
    g_font.force_builtin = on ? 1 : 0;
}

#ifdef BS_HAVE_FREETYPE
static FT_Face active_face(void)
{
    font_init();
    return g_font.force_builtin ? NULL : g_font.face;
}

/* Em size in pixels for capitals `cap` pixels tall. */
static int em_px(int cap)
{
    int px = (int)(cap / g_font.cap_em + 0.5);
    return px < 4 ? 4 : px > 400 ? 400 : px;
}

static int set_size(int cap)
{
    int px = em_px(cap);
    if (px != g_font.cur_px) {
        if (FT_Set_Pixel_Sizes(g_font.face, 0, (FT_UInt)px) != 0) return -1;
        g_font.cur_px = px;
    }
    return 0;
}

/* ---- glyph cache: direct-mapped on (size, code point); a glyph's coverage
 * bitmap, offsets and advance as FreeType rendered them. */
#define GCACHE 1024
typedef struct {
    int px; /* 0: empty */
    unsigned cp;
    FT_UInt index;
    int left, top, w, h;
    long adv; /* 26.6 */
    uint8_t *bits; /* w*h */
} glyph;
static glyph g_cache[GCACHE];

static const glyph *get_glyph(unsigned cp)
{
    unsigned slot = (cp * 2654435761u ^ (unsigned)g_font.cur_px * 40503u) % GCACHE;
    glyph *g = &g_cache[slot];
    if (g->px == g_font.cur_px && g->cp == cp) return g;
    FT_Face f = g_font.face;
    FT_UInt gi = FT_Get_Char_Index(f, cp);
    if (gi == 0) gi = FT_Get_Char_Index(f, '?');
    if (FT_Load_Glyph(f, gi, FT_LOAD_DEFAULT | FT_LOAD_TARGET_LIGHT) != 0 ||
            FT_Render_Glyph(f->glyph, FT_RENDER_MODE_NORMAL) != 0)
        return NULL;
    FT_Bitmap *b = &f->glyph->bitmap;
    int w = (int)b->width, h = (int)b->rows;
    uint8_t *bits = w > 0 && h > 0 ? malloc((size_t)w * (size_t)h) : NULL;
    if (w > 0 && h > 0 && !bits) return NULL;
    for (int y = 0; y < h; y++) memcpy(bits + (size_t)y * w, b->buffer + (ptrdiff_t)y * b->pitch, (size_t)w);
    free(g->bits);
    g->px = g_font.cur_px;
    g->cp = cp;
    g->index = gi;
    g->left = f->glyph->bitmap_left;
    g->top = f->glyph->bitmap_top;
    g->w = w;
    g->h = h;
    g->adv = f->glyph->advance.x;
    g->bits = bits;
    return g;
}

static void blend(bs_image *im, int x, int y, const uint8_t rgb[3], unsigned a)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h || a == 0) return;
    uint8_t *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (uint8_t)((p[k] * (255u - a) + rgb[k] * a + 127u) / 255u);
}

/* Draws (im != NULL) or measures; returns the advance width in pixels. */
static int ft_text(bs_image *im, int x, int y, int cap, const uint8_t rgb[3], const char *s)
{
    if (set_size(cap) != 0) return 0;
    long pen = 0; /* 26.6 */
    FT_UInt prev = 0;
    for (const char *p = s; *p;) {
        unsigned cp = utf8_next(&p);
        const glyph *g = get_glyph(cp);
        if (!g) continue;
        if (g_font.kerning && prev) {
            FT_Vector kv;
            if (FT_Get_Kerning(g_font.face, prev, g->index, FT_KERNING_DEFAULT, &kv) == 0) pen += kv.x;
        }
        if (im && im->rgb) {
            int gx = x + (int)((pen + 32) >> 6) + g->left, gy = y + cap - g->top;
            for (int j = 0; j < g->h; j++)
                for (int i = 0; i < g->w; i++) blend(im, gx + i, gy + j, rgb, g->bits[(size_t)j * g->w + i]);
        }
        pen += g->adv;
        prev = g->index;
    }
    long w = (pen + 63) >> 6;
    return w > INT_MAX ? INT_MAX : (int)w;
}
#endif

/* ---- the bitmap font -------------------------------------------------------------- */

static int bitmap_scale(int cap)
{
    int s = (cap + BS_FONT_H / 2) / BS_FONT_H;
    return s < 1 ? 1 : s;
}

static long count_chars(const char *s)
{
    long n = 0;
    for (const char *p = s; *p; n++) utf8_next(&p);
    return n;
}

static int bitmap_width(int scale, const char *s)
{
    /* n glyphs and the n-1 gaps between them; no trailing gap, so centred
     * and right-aligned text lines up with the ink. */
    long n = count_chars(s);
    if (n == 0) return 0;
    long w = (n * (BS_FONT_W + 1) - 1) * scale;
    return w > INT_MAX ? INT_MAX : (int)w;
}

static int bitmap_text(bs_image *im, int x, int y, int scale, const uint8_t rgb[3], const char *s)
{
    int cx = x;
    for (const char *p = s; *p;) {
        int c = bitmap_char(utf8_next(&p));
        for (int row = 0; row < BS_FONT_H; row++) {
            uint8_t bits = bs_font5x7_row(c, row);
            for (int col = 0; col < BS_FONT_W; col++)
                if (bits & (1u << (BS_FONT_W - 1 - col)))
                    bs_image_fill_rect(im, cx + col * scale, y + row * scale, scale, scale, rgb);
        }
        cx += (BS_FONT_W + 1) * scale;
    }
    return bitmap_width(scale, s);
}

/* ---- the API ------------------------------------------------------------------------- */

int bs_text_truetype(void)
{
#ifdef BS_HAVE_FREETYPE
    return active_face() != NULL;
#else
    return 0;
#endif
}

int bs_text_width_px(int cap, const char *s)
{
    if (cap < 1 || !s || !*s) return 0;
#ifdef BS_HAVE_FREETYPE
    if (active_face()) return ft_text(NULL, 0, 0, cap, NULL, s);
#endif
    return bitmap_width(bitmap_scale(cap), s);
}

int bs_text_descent(int cap)
{
    if (cap < 1) return 0;
#ifdef BS_HAVE_FREETYPE
    if (active_face()) {
        FT_Face f = g_font.face;
        double d = f->units_per_EM > 0 ? -(double)f->descender / f->units_per_EM : 0.24;
        return (int)(d * em_px(cap) + 0.999);
    }
#endif
    return 0; /* the bitmap font's descenders stay inside its 7 rows */
}

int bs_image_text_px(bs_image *im, int x, int y, int cap, const uint8_t rgb[3], const char *s)
{
    if (cap < 1 || !s) return 0;
#ifdef BS_HAVE_FREETYPE
    if (active_face()) return ft_text(im, x, y, cap, rgb, s);
#endif
    int sc = bitmap_scale(cap);
    /* a bitmap glyph of scale sc is 7 sc tall: centre it on the cap box */
    return bitmap_text(im, x, y + (cap - BS_FONT_H * sc) / 2, sc, rgb, s);
}

int bs_text_width(int scale, const char *s)
{
    return scale < 1 ? 0 : bs_text_width_px(BS_FONT_H * scale, s);
}

int bs_text_height(int scale)
{
    return scale < 1 ? 0 : BS_FONT_H * scale;
}

int bs_image_text(bs_image *im, int x, int y, int scale, const uint8_t rgb[3], const char *s)
{
    return scale < 1 ? 0 : bs_image_text_px(im, x, y, BS_FONT_H * scale, rgb, s);
}
