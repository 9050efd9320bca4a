#include "lattice.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

bs_status bs_lattice_init(bs_lattice *lat, int w, int h, double h_um, bs_error *err)
{
    memset(lat, 0, sizeof *lat);
    if (w < 8 || h < 8 || w > 16384 || h > 16384)
        return bs_fail(err, BS_ERR_INVALID, "lattice %d x %d sites is out of range (valid: 8 .. 16384 per side)", w, h);
    if (!(h_um > 0.0)) return bs_fail(err, BS_ERR_INVALID, "site edge %g um must be positive", h_um);
    size_t n = (size_t)w * (size_t)h;
    lat->w = w;
    lat->h = h;
    lat->h_um = h_um;
    lat->tissue = calloc(n, 1);
    lat->surface = calloc(n, 1);
    lat->flags = calloc(n, 1);
    lat->mineral = calloc(n, sizeof(float));
    lat->za_load = calloc(n, sizeof(float));
    lat->since = calloc(n, sizeof(uint32_t));
    lat->bmu = malloc(n * sizeof(int32_t));
    lat->depth = calloc(n, 1);
    if (!lat->tissue || !lat->surface || !lat->flags || !lat->mineral || !lat->za_load || !lat->since || !lat->bmu ||
            !lat->depth) {
        bs_lattice_free(lat);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory for a %d x %d lattice", w, h);
    }
    for (size_t i = 0; i < n; i++) lat->bmu[i] = -1;
    return BS_OK;
}

void bs_lattice_free(bs_lattice *lat)
{
    if (!lat) return;
    free(lat->tissue);
    free(lat->surface);
    free(lat->flags);
    free(lat->mineral);
    free(lat->za_load);
    free(lat->since);
    free(lat->bmu);
    free(lat->depth);
    memset(lat, 0, sizeof *lat);
}

int bs_lattice_is_endosteal(const bs_lattice *lat, int i)
{
    if (lat->tissue[i] != BS_TISSUE_MARROW) return 0;
    int x = i % lat->w, y = i / lat->w;
    if (x > 0 && lat->tissue[i - 1] == BS_TISSUE_BONE) return 1;
    if (x < lat->w - 1 && lat->tissue[i + 1] == BS_TISSUE_BONE) return 1;
    if (y > 0 && lat->tissue[i - lat->w] == BS_TISSUE_BONE) return 1;
    if (y < lat->h - 1 && lat->tissue[i + lat->w] == BS_TISSUE_BONE) return 1;
    return 0;
}

/* State a newly exposed endosteal site inherits: a neighbour's remodeling
 * phase if it has one (the BRC canopy extends over the fresh surface, and
 * the site joins that neighbour's BMU), otherwise quiescent. A site that
 * already belongs to a BMU (a cavity it dug) keeps its BMU. Checked in a
 * fixed neighbour order. */
static void inherit_state(bs_lattice *lat, int x, int y)
{
    int i = y * lat->w + x, from = -1;
    uint8_t best = BS_SURF_QUIESCENT;
    for (int k = 0; k < 8; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
        uint8_t s = lat->surface[ny * lat->w + nx];
        if (s > best) {
            best = s;
            from = ny * lat->w + nx;
        }
    }
    lat->surface[i] = best;
    if (from >= 0) {
        lat->since[i] = lat->since[from];
        if (lat->bmu[i] < 0) lat->bmu[i] = lat->bmu[from];
    }
}

void bs_lattice_refresh_surface(bs_lattice *lat, int x0, int y0, int x1, int y1)
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 >= lat->w) x1 = lat->w - 1;
    if (y1 >= lat->h) y1 = lat->h - 1;
    /* Two passes: new surface inherits from the old states before sites
     * that stopped being endosteal drop theirs (a site just eroded takes the
     * phase of the surface that was above it). */
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            int i = y * lat->w + x;
            if (lat->surface[i] == BS_SURF_NONE && bs_lattice_is_endosteal(lat, i)) inherit_state(lat, x, y);
        }
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            int i = y * lat->w + x;
            if (lat->surface[i] != BS_SURF_NONE && !bs_lattice_is_endosteal(lat, i)) lat->surface[i] = BS_SURF_NONE;
        }
}

/* Distance (in sites, 3-4 chamfer / 3) from every site to the nearest bone
 * site; 0 on bone. Two raster passes, deterministic. */
static void distance_to_bone(const bs_lattice *lat, float *d)
{
    int w = lat->w, h = lat->h;
    const float big = 1e9f;
    for (int i = 0; i < w * h; i++) d[i] = lat->tissue[i] == BS_TISSUE_BONE ? 0.0f : big;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float *c = &d[y * w + x];
            if (x > 0 && d[y * w + x - 1] + 1.0f < *c) *c = d[y * w + x - 1] + 1.0f;
            if (y > 0 && d[(y - 1) * w + x] + 1.0f < *c) *c = d[(y - 1) * w + x] + 1.0f;
            if (x > 0 && y > 0 && d[(y - 1) * w + x - 1] + 1.4142f < *c) *c = d[(y - 1) * w + x - 1] + 1.4142f;
            if (x < w - 1 && y > 0 && d[(y - 1) * w + x + 1] + 1.4142f < *c) *c = d[(y - 1) * w + x + 1] + 1.4142f;
        }
    for (int y = h - 1; y >= 0; y--)
        for (int x = w - 1; x >= 0; x--) {
            float *c = &d[y * w + x];
            if (x < w - 1 && d[y * w + x + 1] + 1.0f < *c) *c = d[y * w + x + 1] + 1.0f;
            if (y < h - 1 && d[(y + 1) * w + x] + 1.0f < *c) *c = d[(y + 1) * w + x] + 1.0f;
            if (x < w - 1 && y < h - 1 && d[(y + 1) * w + x + 1] + 1.4142f < *c) *c = d[(y + 1) * w + x + 1] + 1.4142f;
            if (x > 0 && y < h - 1 && d[(y + 1) * w + x - 1] + 1.4142f < *c) *c = d[(y + 1) * w + x - 1] + 1.4142f;
        }
}

/* Jittered grid point (cell cx, cy of size s sites) for a seeded pattern. */
static void jitter_point(uint64_t seed, uint32_t stream, int cx, int cy, double s, double *px, double *py)
{
    uint64_t key = ((uint64_t)(uint32_t)cx << 32) | (uint32_t)cy;
    double jx = (double)bs_rng_uniform(seed, stream, 0, key, 0);
    double jy = (double)bs_rng_uniform(seed, stream, 0, key, 1);
    *px = (cx + 0.15 + 0.7 * jx) * s;
    *py = (cy + 0.15 + 0.7 * jy) * s;
}

/* Trabeculae as the ridges of a jittered Voronoi diagram: a site is bone
 * when its distance to the bisector between its two nearest cell centres
 * is under half the local thickness. This gives a connected plate/rod
 * network with marrow cavities about `spacing` across, which is what a
 * 2D section of cancellous bone looks like. A share of ridges is dropped
 * (keyed by the seed pair) so the network is irregular, as real trabeculae
 * are. */
static void make_trabeculae(bs_lattice *lat, const bs_geometry_opts *o, uint64_t seed)
{
    double s = o->trab_spacing_um / lat->h_um;
    double half_t = 0.5 * o->trab_thickness_um / lat->h_um;
    for (int y = 0; y < lat->h; y++)
        for (int x = 0; x < lat->w; x++) {
            double px = x + 0.5, py = y + 0.5;
            int cx = (int)floor(px / s), cy = (int)floor(py / s);
            double d1 = 1e30, d2 = 1e30, p1x = 0, p1y = 0, p2x = 0, p2y = 0;
            int k1x = 0, k1y = 0, k2x = 0, k2y = 0;
            for (int j = -2; j <= 2; j++)
                for (int k = -2; k <= 2; k++) {
                    double qx, qy;
                    jitter_point(seed, BS_STREAM_GEOMETRY, cx + k, cy + j, s, &qx, &qy);
                    double d = (qx - px) * (qx - px) + (qy - py) * (qy - py);
                    if (d < d1) {
                        d2 = d1;
                        p2x = p1x;
                        p2y = p1y;
                        k2x = k1x;
                        k2y = k1y;
                        d1 = d;
                        p1x = qx;
                        p1y = qy;
                        k1x = cx + k;
                        k1y = cy + j;
                    } else if (d < d2) {
                        d2 = d;
                        p2x = qx;
                        p2y = qy;
                        k2x = cx + k;
                        k2y = cy + j;
                    }
                }
            double sep = sqrt((p2x - p1x) * (p2x - p1x) + (p2y - p1y) * (p2y - p1y));
            double dist = (d2 - d1) / (2.0 * sep);
            /* ridge identity: unordered pair of cells */
            uint64_t a = ((uint64_t)(uint32_t)k1x << 32) | (uint32_t)k1y;
            uint64_t b = ((uint64_t)(uint32_t)k2x << 32) | (uint32_t)k2y;
            uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
            uint64_t pair = lo * 0x9e3779b97f4a7c15ULL ^ hi;
            double keep = (double)bs_rng_uniform(seed, BS_STREAM_GEOMETRY + 100, 0, pair, 0);
            double thick = half_t * (0.75 + 0.5 * (double)bs_rng_uniform(seed, BS_STREAM_GEOMETRY + 101, 0, pair, 0));
            int i = y * lat->w + x;
            if (keep < 0.8 && dist < thick) {
                lat->tissue[i] = BS_TISSUE_BONE;
                lat->mineral[i] = 1.0f;
            }
        }
}

static bs_status make_slab(bs_lattice *lat, const bs_geometry_opts *o, bs_error *err)
{
    int rows = (int)lround(o->slab_thickness_um / lat->h_um);
    if (rows < 1) rows = 1;
    if (rows >= lat->h)
        return bs_fail(err, BS_ERR_INVALID,
                "geometry.slab_thickness_um = %g fills the whole lattice (valid: less than %g um, the lattice "
                "height minus one site)",
                o->slab_thickness_um, (lat->h - 1) * lat->h_um);
    for (int y = lat->h - rows; y < lat->h; y++)
        for (int x = 0; x < lat->w; x++) {
            lat->tissue[y * lat->w + x] = BS_TISSUE_BONE;
            lat->mineral[y * lat->w + x] = 1.0f;
        }
    return BS_OK;
}

/* Sinusoids: discs at jittered grid points, kept only where the whole disc
 * plus a margin lies in marrow (sinusoids run through the marrow space,
 * not along the bone surface). */
static void make_sinusoids(bs_lattice *lat, const bs_geometry_opts *o, uint64_t seed, const float *dist)
{
    double s = o->sinusoid_spacing_um / lat->h_um;
    double r = o->sinusoid_radius_um / lat->h_um;
    double margin = r + 3.0;
    int ncx = (int)ceil(lat->w / s) + 1, ncy = (int)ceil(lat->h / s) + 1;
    for (int cy = 0; cy < ncy; cy++)
        for (int cx = 0; cx < ncx; cx++) {
            double qx, qy;
            jitter_point(seed, BS_STREAM_GEOMETRY + 2, cx, cy, s, &qx, &qy);
            int ix = (int)qx, iy = (int)qy;
            if (ix < 1 || iy < 1 || ix >= lat->w - 1 || iy >= lat->h - 1) continue;
            if ((double)dist[iy * lat->w + ix] < margin) continue;
            int R = (int)ceil(r);
            for (int y = iy - R; y <= iy + R; y++)
                for (int x = ix - R; x <= ix + R; x++) {
                    if (x < 0 || y < 0 || x >= lat->w || y >= lat->h) continue;
                    double dx = x + 0.5 - qx, dy = y + 0.5 - qy;
                    if (dx * dx + dy * dy <= r * r + 0.25) lat->tissue[y * lat->w + x] = BS_TISSUE_VESSEL;
                }
        }
}

/* No vessel within r sites (Chebyshev) of (x, y)? */
static int far_from_vessel(const bs_lattice *lat, int x, int y, int r)
{
    for (int yy = y - r; yy <= y + r; yy++)
        for (int xx = x - r; xx <= x + r; xx++)
            if (xx >= 0 && yy >= 0 && xx < lat->w && yy < lat->h && lat->tissue[yy * lat->w + xx] != BS_TISSUE_MARROW)
                return 0;
    return 1;
}

/* Arterioles: single sites two sites away from bone, one per jittered cell
 * of the arteriole spacing (the small nestin+ arteries that feed the
 * endosteal region, which is why it is less hypoxic than the sinusoidal
 * marrow). In soft tissue (no bone) one per cell at a seeded marrow site
 * at least 3 sites from a sinusoid, so the O2 supply is the same in kind. */
static void make_arterioles(bs_lattice *lat, const bs_geometry_opts *o, uint64_t seed, const float *dist)
{
    if (!(o->arteriole_spacing_um > 0.0)) return;
    int s = (int)lround(o->arteriole_spacing_um / lat->h_um);
    if (s < 4) s = 4;
    for (int cy = 0; cy * s < lat->h; cy++)
        for (int cx = 0; cx * s < lat->w; cx++) {
            int best = -1;
            uint32_t best_r = 0;
            for (int y = cy * s; y < (cy + 1) * s && y < lat->h; y++)
                for (int x = cx * s; x < (cx + 1) * s && x < lat->w; x++) {
                    int i = y * lat->w + x;
                    if (lat->tissue[i] != BS_TISSUE_MARROW) continue;
                    if (o->no_bone ? !far_from_vessel(lat, x, y, 3) : (dist[i] < 1.9f || dist[i] > 2.6f)) continue;
                    uint32_t r = (uint32_t)bs_rng_u64(seed, BS_STREAM_GEOMETRY + 3, 0, (uint64_t)i, 0);
                    if (best < 0 || r < best_r) {
                        best = i;
                        best_r = r;
                    }
                }
            if (best >= 0) lat->tissue[best] = BS_TISSUE_ARTERIOLE;
        }
}

static void init_surface(bs_lattice *lat)
{
    for (int i = 0; i < lat->w * lat->h; i++)
        lat->surface[i] = bs_lattice_is_endosteal(lat, i) ? BS_SURF_QUIESCENT : BS_SURF_NONE;
}

bs_status bs_lattice_generate(bs_lattice *lat, const bs_geometry_opts *o, uint64_t seed, bs_error *err)
{
    size_t n = (size_t)lat->w * (size_t)lat->h;
    memset(lat->tissue, BS_TISSUE_MARROW, n);
    memset(lat->flags, 0, n);
    memset(lat->mineral, 0, n * sizeof(float));
    if (o->no_bone) {
        /* soft tissue: no bone at all */
    } else if (o->flat_surface) {
        bs_status st = make_slab(lat, o, err);
        if (st != BS_OK) return st;
    } else {
        make_trabeculae(lat, o, seed);
    }
    float *dist = malloc(n * sizeof(float));
    if (!dist) return bs_fail(err, BS_ERR_NOMEM, "out of memory generating geometry");
    distance_to_bone(lat, dist);
    make_sinusoids(lat, o, seed, dist);
    make_arterioles(lat, o, seed, dist);
    free(dist);
    init_surface(lat);
    return BS_OK;
}

bs_status bs_lattice_from_classes(bs_lattice *lat, const uint8_t *classes, bs_error *err)
{
    size_t n = (size_t)lat->w * (size_t)lat->h;
    for (size_t i = 0; i < n; i++) {
        if (classes[i] >= BS_TISSUE_COUNT)
            return bs_fail(err, BS_ERR_INVALID, "tissue class %d at site %zu is not valid (valid: 0 .. %d)", classes[i],
                    i, BS_TISSUE_COUNT - 1);
        lat->tissue[i] = classes[i];
        lat->mineral[i] = classes[i] == BS_TISSUE_BONE ? 1.0f : 0.0f;
        lat->flags[i] = 0;
    }
    init_surface(lat);
    return BS_OK;
}

/* The disc of radius rs sites around (x, y), clipped to the lattice, in
 * raster order: visit(lat, j, ctx) for each site j in it until a visit
 * returns nonzero; returns that value (0 when every site was visited).
 * Shared by the two markers below, which walk the same disc around each
 * vessel site. */
static int disc_walk(bs_lattice *lat, int x, int y, double rs, int (*visit)(bs_lattice *, int, void *), void *ctx)
{
    const int w = lat->w, h = lat->h, r = (int)floor(rs);
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
            const int xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            if ((double)(dx * dx + dy * dy) > rs * rs) continue;
            const int v = visit(lat, yy * w + xx, ctx);
            if (v) return v;
        }
    return 0;
}

static int mark_perisinusoidal(bs_lattice *lat, int j, void *ctx)
{
    (void)ctx;
    if (lat->tissue[j] != BS_TISSUE_VESSEL) lat->flags[j] |= BS_FLAG_PERISINUSOIDAL;
    return 0;
}

static int is_bone(bs_lattice *lat, int j, void *ctx)
{
    (void)ctx;
    return lat->tissue[j] == BS_TISSUE_BONE;
}

void bs_lattice_mark_perisinusoidal(bs_lattice *lat, double range_um)
{
    const int w = lat->w, h = lat->h;
    const double rs = range_um / lat->h_um;
    for (long i = 0; i < (long)w * h; i++) lat->flags[i] &= (uint8_t)~BS_FLAG_PERISINUSOIDAL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (lat->tissue[y * w + x] == BS_TISSUE_VESSEL) disc_walk(lat, x, y, rs, mark_perisinusoidal, NULL);
}

long bs_lattice_mark_endosteal_vessels(bs_lattice *lat, double range_um)
{
    const int w = lat->w, h = lat->h;
    const double rs = range_um / lat->h_um;
    long n = 0;
    for (long i = 0; i < (long)w * h; i++) lat->flags[i] &= (uint8_t)~BS_FLAG_ENDOSTEAL_VESSEL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (lat->tissue[y * w + x] != BS_TISSUE_VESSEL) continue;
            if (disc_walk(lat, x, y, rs, is_bone, NULL)) {
                lat->flags[y * w + x] |= BS_FLAG_ENDOSTEAL_VESSEL;
                n++;
            }
        }
    return n;
}

double bs_lattice_bone_area_um2(const bs_lattice *lat)
{
    /* Fixed-order sum in double: identical at any thread count. */
    double a = 0.0;
    size_t n = (size_t)lat->w * (size_t)lat->h;
    for (size_t i = 0; i < n; i++) a += (double)lat->mineral[i];
    return a * lat->h_um * lat->h_um;
}
