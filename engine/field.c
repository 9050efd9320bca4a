/* field.c — backward-Euler / quasi-steady reaction-diffusion by red-black SOR.
 *
 * Discretisation (cell-centred finite volumes, site i at the centre of its
 * h x h square):
 *     (1/dt + k + u_i + sum_f G_f) c_i - sum_f G_f c_f = c_old_i/dt + s_i
 * over the four faces f. G_f = harmonic mean of the two sites' diffusivities
 * D * D_factor[tissue] (um^2/h) over h^2; the harmonic mean is the series
 * resistance of the two half-cells, so a bone wall limits the flux the way
 * it should, G is the same seen from either side (the scheme conserves
 * mass), and a face touching a zero-diffusivity site carries nothing (no
 * 0/0: the 4x4 tissue-pair table is built with that case spelled out).
 * Quasi-steady drops the 1/dt terms. Dirichlet sites (fixed[i]) hold
 * fixed_val[i].
 *
 * Domain boundary: the boundary is the outer face of the edge sites, half a
 * site from their centres. BS_BC_ZERO_FLUX omits that face; BS_BC_FIXED
 * puts a ghost at boundary_value behind it, at distance h/2, so the face
 * conductance is D_i / (h/2) / h = 2 D_i / h^2 (second-order accurate for
 * a value held on the domain edge).
 *
 * Solver layout. Values and coefficients are stored colour by colour
 * ("packed": row y of colour q holds the sites x = 2k + ((q + y) & 1)), so
 * the sweep runs over contiguous floats and vectorises; the neighbours of
 * site k are, in the other colour, k+o-1 and k+o in the same row
 * (o = (q + y) & 1) and k in the rows above and below. A ghost frame around
 * the packed values holds the boundary value (or 0 behind a zero-flux face,
 * whose conductance is 0), so the sweep has no edge branches. With, per
 * site, the conductances G_f, the sink q = 1/dt + k + u, the right-hand side
 * r = c_old/dt + s and the scale w = omega_i / diag, an SOR update is
 *     c += w (r - q c + sum_f G_f (c_f - c))    (= omega_i (GS value - c))
 * with no branches, divisions or table look-ups. The backward-Euler c_old
 * lives only inside r. Writing the update with the differences c_f - c
 * (exact in float for nearby values) instead of the textbook
 * omega (r + sum_f G_f c_f) / diag - (omega - 1) c matters: diffusion
 * outweighs the rest of the diagonal by D dt / h^2 ~ 1e3, and the textbook
 * form cancels two large terms, which left float solutions 1e-4
 * (relative) off and sweep changes stuck at ~20 ulp; the difference form
 * rounds at the size of the imbalance itself. One float limit remains: an
 * error component that is exactly uniform over a region has no flux
 * differences to act on and is corrected through the sink alone, by steps
 * w q e; once those fall below half an ulp of c the iteration stops there,
 * leaving e up to ~ ulp(c) (sum G / q) / 2 (2e-4 relative for D = 100
 * um^2/s, k = 2/h, h = 10 um in a 1-site-wide strip). In real fields the
 * error varies in space and the flux terms keep it moving (the uniform
 * decay test, with diffusion on, ends 2e-6 off).
 *
 * Setup cost. A warm-started solve may need only a few sweeps, so the
 * per-solve setup must cost no more than a few: the conductances G_f (which
 * need per-face tissue look-ups) are cached in the scratch and rebuilt only
 * when the tissue map, the diffusivities or h change (a memcmp of the
 * tissue bytes per solve); the omega estimate is cached likewise against
 * the tissue and Dirichlet maps. The per-solve pass is then branch-free
 * arithmetic with one division per site (about two sweeps' worth of time
 * at 256 x 256).
 * Cached values are bit-identical to recomputed ones, so results never
 * depend on the cache.
 *
 * Determinism: a site of one colour reads only sites of the other colour,
 * so a colour sweep gives the same bits however its rows are split among
 * threads; the convergence test uses the maximum of |change|, which is
 * exact in any order. omega depends only on the inputs of this solve
 * (never on earlier solves), so a run restarted from a checkpoint takes the
 * same path.
 *
 * Scratch memory (about 9 floats and 2 bytes per site). field.h has no
 * member for it, so it lives behind the fixed_val array in the same
 * allocation (fixed_val[0 .. w*h-1] is the public part). Callers must not
 * replace or reallocate f->fixed_val. */
#include "field.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* "omp simd" is a request for speed, not for correctness: clang warns when
 * it cannot honour one (it cannot under ASan/UBSan instrumentation), and
 * with -Werror that would fail the sanitizer build. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* Block edge (sites) of the coarse map used to estimate the distance to the
 * nearest Dirichlet site for the automatic SOR factor: 4 keeps that map at
 * 1/16 of the grid, so building it costs less than a sweep, while the
 * distance error (at most a few sites) only matters where distances are
 * short and convergence is fast anyway. */
#define BS_OMEGA_BLOCK 4

/* lambda ~ BS_OMEGA_SHAPE / R^2 in the omega estimate (see bs_auto_omega):
 * 2.47 is exact for a strip held at one end; fitted against the best omega
 * found by scanning, on 256 x 256 O2 fields with vessels every 60-250 um
 * and bone bands, the constant lay between 2.3 and 5.2. The low end is
 * taken because a too-large omega costs little and a too-small one a lot. */
#define BS_OMEGA_SHAPE 2.5

/* Sub-arrays of the scratch start on 64-byte boundaries (16 floats), so
 * packed rows start on aligned data more often. */
#define BS_ALIGN_FLOATS 16

/* What the cached conductances and omega estimate were built from. */
typedef struct {
    int g_valid;           /* g[][] and tissue copy match key */
    int r_valid;           /* r_fast/r_slow match key, tissue and fixed copies */
    double key[BS_TISSUE_COUNT + 3]; /* D, D_factor[], boundary, h_um */
    float r_fast, r_slow;  /* bs_auto_omega's distances, in blocks */
} bs_cache;

typedef struct {
    int w, h;
    int stride;       /* packed row length in floats: (w+1)/2 sites + 2 ghosts */
    int bw, bh;       /* coarse blocks for the omega estimate */
    bs_cache *cache;
    uint8_t *tissue;  /* w*h: the tissue map the cached g were built from */
    uint8_t *fixed;   /* w*h: the Dirichlet map the cached r were built from */
    float *g[2][4];   /* cached G_f per colour and face (x-1, x+1, y-1, y+1): row y at y*stride */
    float *gsum[2];   /* cached sum of the four, laid out like g */
    float *pc[2];     /* packed c per colour: row y at (y+1)*stride, site k at +1+k */
    float *wsc[2];    /* omega_i / diag, or 0 where the value must not change */
    float *rhs[2];    /* c_old/dt + s */
    float *sink[2];   /* 1/dt + k + u */
    float *blk;       /* 2*bw*bh: coarse block kinds, then distances */
} bs_work;

static size_t bs_round_floats(size_t n)
{
    return (n + BS_ALIGN_FLOATS - 1) / BS_ALIGN_FLOATS * BS_ALIGN_FLOATS;
}

/* Lays the scratch out from base (or only measures it when base is NULL);
 * returns its size in floats. Used by init (to size) and solve (to find).
 * The cache header is read through its own type only, never as floats. */
static size_t bs_work_layout(bs_work *wk, int w, int h, float *base)
{
    size_t off = 0;
    const size_t n = (size_t)w * (size_t)h;
    wk->w = w;
    wk->h = h;
    wk->stride = (w + 1) / 2 + 2;
    wk->bw = (w + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
    wk->bh = (h + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
#define BS_TAKE(ptr, type, nfloats)                                                              \
    do {                                                                                         \
        (ptr) = base ? (type)(void *)(base + off) : NULL;                                        \
        off += bs_round_floats(nfloats);                                                         \
    } while (0)
    BS_TAKE(wk->cache, bs_cache *, (sizeof(bs_cache) + sizeof(float) - 1) / sizeof(float));
    BS_TAKE(wk->tissue, uint8_t *, (n + sizeof(float) - 1) / sizeof(float));
    BS_TAKE(wk->fixed, uint8_t *, (n + sizeof(float) - 1) / sizeof(float));
    const size_t packed = (size_t)(h + 2) * (size_t)wk->stride;
    const size_t coef = (size_t)h * (size_t)wk->stride;
    for (int q = 0; q < 2; ++q) {
        for (int f = 0; f < 4; ++f)
            BS_TAKE(wk->g[q][f], float *, coef);
        BS_TAKE(wk->gsum[q], float *, coef);
        BS_TAKE(wk->pc[q], float *, packed);
        BS_TAKE(wk->wsc[q], float *, coef);
        BS_TAKE(wk->rhs[q], float *, coef);
        BS_TAKE(wk->sink[q], float *, coef);
    }
    BS_TAKE(wk->blk, float *, 2 * (size_t)wk->bw * (size_t)wk->bh);
#undef BS_TAKE
    return off;
}

/* Where the scratch starts inside the fixed_val allocation. */
static float *bs_work_base(const bs_field *f)
{
    return f->fixed_val + bs_round_floats((size_t)f->w * (size_t)f->h);
}

bs_status bs_field_init(bs_field *f, const bs_field_spec *spec, int w, int h, float initial,
                        bs_error *err)
{
    memset(f, 0, sizeof *f);
    if (!spec)
        return bs_fail(err, BS_ERR_INVALID, "field: no spec given");
    const char *name = spec->name ? spec->name : "(unnamed)";
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        return bs_fail(err, BS_ERR_INVALID,
                       "field %s: grid %d x %d is out of range (valid: 1 .. 65536 per side)", name,
                       w, h);
    if (!(spec->D_um2_per_s >= 0.0))
        return bs_fail(err, BS_ERR_INVALID,
                       "field %s: diffusivity %g um^2/s is invalid (valid: >= 0)", name,
                       spec->D_um2_per_s);
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        if (!(spec->D_factor[t] >= 0.0))
            return bs_fail(err, BS_ERR_INVALID,
                           "field %s: D_factor[%d] = %g is invalid (valid: >= 0)", name, t,
                           spec->D_factor[t]);
    if (!(spec->decay_per_h >= 0.0))
        return bs_fail(err, BS_ERR_INVALID, "field %s: decay %g /h is invalid (valid: >= 0)",
                       name, spec->decay_per_h);
    if (spec->boundary != BS_BC_ZERO_FLUX && spec->boundary != BS_BC_FIXED)
        return bs_fail(err, BS_ERR_INVALID,
                       "field %s: boundary kind %d is invalid (valid: 0 zero-flux, 1 fixed)",
                       name, (int)spec->boundary);

    size_t n = (size_t)w * (size_t)h;
    bs_work wk;
    size_t scratch = bs_work_layout(&wk, w, h, NULL);
    f->spec = *spec;
    f->w = w;
    f->h = h;
    f->c = malloc(n * sizeof(float));
    f->src = calloc(n, sizeof(float));
    f->uptake = calloc(n, sizeof(float));
    f->fixed = calloc(n, 1);
    /* calloc: the cache starts invalid, and every scratch float is finite
     * before the first solve writes it */
    f->fixed_val = calloc(bs_round_floats(n) + scratch, sizeof(float));
    if (!f->c || !f->src || !f->uptake || !f->fixed || !f->fixed_val) {
        bs_field_free(f);
        return bs_fail(err, BS_ERR_NOMEM, "field %s: out of memory for a %d x %d grid", name, w,
                       h);
    }
    for (size_t i = 0; i < n; ++i)
        f->c[i] = initial;
    return BS_OK;
}

void bs_field_free(bs_field *f)
{
    if (!f)
        return;
    free(f->c);
    free(f->src);
    free(f->uptake);
    free(f->fixed);
    free(f->fixed_val);
    f->c = f->src = f->uptake = f->fixed_val = NULL;
    f->fixed = NULL;
}

/* Everything the setup passes need, shared read-only by the threads. */
typedef struct {
    const bs_field *f;
    const uint8_t *tissue;
    const bs_work *wk;
    float g_pair[BS_TISSUE_COUNT][BS_TISSUE_COUNT]; /* face conductance, 1/h */
    float g_edge[BS_TISSUE_COUNT];                  /* domain-edge face, 1/h */
    float inv_dt;                                   /* 0 for quasi-steady */
    float decay;
    float ghost;                   /* value behind the domain edge */
    uint8_t kind[BS_TISSUE_COUNT]; /* BS_KIND_* of each tissue class */
} bs_prep;

/* Tissue class as a table index. The lattice guarantees valid classes; an
 * invalid byte is read as marrow rather than indexing out of the tables. */
static inline int bs_cls(uint8_t t)
{
    return t < BS_TISSUE_COUNT ? (int)t : (int)BS_TISSUE_MARROW;
}

/* Builds the cached conductances of row y (both colours) and records the
 * row's tissue. Table look-ups per face; runs only when the tissue changed. */
static void bs_conductance_row(const bs_prep *p, int y)
{
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h;
    const size_t S = (size_t)wk->stride;
    const uint8_t *t_row = p->tissue + (size_t)y * (size_t)w;
    const uint8_t *t_lo = y > 0 ? t_row - w : NULL;
    const uint8_t *t_hi = y < h - 1 ? t_row + w : NULL;
    for (int x = 0; x < w; ++x) {
        const int q = (x + y) & 1;
        const size_t j = (size_t)y * S + (size_t)(x >> 1);
        const int t = bs_cls(t_row[x]);
        const float *gp = p->g_pair[t];
        const float ge = p->g_edge[t];
        const float g0 = x > 0 ? gp[bs_cls(t_row[x - 1])] : ge;
        const float g1 = x < w - 1 ? gp[bs_cls(t_row[x + 1])] : ge;
        const float g2 = t_lo ? gp[bs_cls(t_lo[x])] : ge;
        const float g3 = t_hi ? gp[bs_cls(t_hi[x])] : ge;
        wk->g[q][0][j] = g0;
        wk->g[q][1][j] = g1;
        wk->g[q][2][j] = g2;
        wk->g[q][3][j] = g3;
        wk->gsum[q][j] = (g0 + g1) + (g2 + g3);
    }
    memcpy(wk->tissue + (size_t)y * (size_t)w, t_row, (size_t)w);
}

/* sqrt(u) for u >= 0 to within 1e-5 (relative), without a division:
 * u / sqrt(u) with 1/sqrt(u) from the classic exponent-halving first guess
 * (a few % off) and two Newton steps; sqrt(0) = 0 exactly ((hu * y) * y
 * stays 0 where y * y would overflow). sqrtf itself keeps the loop below
 * from vectorising (with errno semantics it may be a library call). */
static inline float bs_sqrt_fast(float u)
{
    uint32_t i;
    float y;
    memcpy(&i, &u, sizeof i);
    i = 0x5f375a86u - (i >> 1);
    memcpy(&y, &i, sizeof y);
    const float hu = 0.5f * u;
    y = y * (1.5f - (hu * y) * y);
    y = y * (1.5f - (hu * y) * y);
    return u * y;
}

/* Per-solve data of one site (see the file comment). Branch-free: GCC
 * vectorises the calling loop only if no floating-point operation sits in
 * the arm of a condition (under its default -ftrapping-math it will not
 * speculate one, and keeps a branch), so max is written as arithmetic and
 * the held/live tests become a 0/1 factor.
 *
 * Local relaxation: omega_i = min(omega, Young's optimum for the site's own
 * Jacobi row sum rho_i = gsum/diag). Where rho_i is well below the global
 * radius (no open face, low permeability, strong uptake) the full omega
 * would make the site ring, decaying only as (omega - 1)^n: ~80 sweeps at
 * omega 1.9 for an isolated site whose value must halve, where omega_i = 1
 * settles it in one. SOR with per-site factors in (0, 2) still converges
 * for this symmetric positive definite system (Ostrowski-Reich). Young's
 * optimum is 2 / (1 + sqrt(1 - rho_i^2)), and with
 * 1 - rho_i^2 = q (q + 2 gsum) / diag^2 (q = diag - gsum)
 *     omega_i / diag = 1 / max(diag / omega,
 *                              (diag + sqrt(q (q + 2 gsum))) / 2),
 * one division per site. */
static inline void bs_site_setup(float c, float fval, uint8_t fixed, float src, float upt,
                                 float gsum, float inv_dt, float decay, float inv_omega,
                                 float *wsc, float *rhs, float *sink, float *pc)
{
    const float q = inv_dt + decay + upt;
    const float diag = q + gsum;
    const float young = 0.5f * (diag + bs_sqrt_fast(fabsf(q * (q + 2.0f * gsum))));
    const float glob = diag * inv_omega;
    /* + FLT_MIN: finite where diag = 0 (no effect on any diag > 1e-30) */
    const float m = 0.5f * (young + glob + fabsf(young - glob)) + FLT_MIN;
    /* a held site, or a quasi-steady site with no decay, no uptake and no
     * open face (0 = s has no solution to find), gets scale 0: its value
     * never changes */
    const float live = (float)((fixed == 0) & (diag > 0.0f));
    *wsc = live / m;
    *rhs = c * inv_dt + src;
    *sink = q;
    *pc = fixed ? fval : c;
}

/* Builds the packed values, their ghosts and the per-solve data of row y
 * for relaxation factor omega; both colours in one pass, so each input is
 * read once. */
static void bs_prepare_row(const bs_prep *p, int y, float omega)
{
    const bs_field *f = p->f;
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h;
    const size_t S = (size_t)wk->stride;
    const float ghost = p->ghost;
    const size_t r = (size_t)y * (size_t)w;
    const float *restrict c = f->c + r;
    const float *restrict src = f->src + r;
    const float *restrict upt = f->uptake + r;
    const float *restrict fv = f->fixed_val + r;
    const uint8_t *restrict fx = f->fixed + r;
    /* colour of the even sites of this row (q0) and of the odd ones (q1);
     * even site x = 2k and odd site x = 2k + 1 are both index k */
    const int q0 = y & 1, q1 = q0 ^ 1;
    const size_t j = (size_t)y * S;
    const float *restrict gs0 = wk->gsum[q0] + j;
    const float *restrict gs1 = wk->gsum[q1] + j;
    float *restrict w0 = wk->wsc[q0] + j;
    float *restrict w1 = wk->wsc[q1] + j;
    float *restrict r0 = wk->rhs[q0] + j;
    float *restrict r1 = wk->rhs[q1] + j;
    float *restrict s0 = wk->sink[q0] + j;
    float *restrict s1 = wk->sink[q1] + j;
    float *restrict pc0 = wk->pc[q0] + (size_t)(y + 1) * S + 1;
    float *restrict pc1 = wk->pc[q1] + (size_t)(y + 1) * S + 1;
    const float inv_dt = p->inv_dt, decay = p->decay, inv_omega = 1.0f / omega;

    if (y == 0)
        for (size_t k = 0; k < S; ++k)
            wk->pc[0][k] = wk->pc[1][k] = ghost;
    if (y == h - 1)
        for (size_t k = 0; k < S; ++k)
            wk->pc[0][(size_t)(h + 1) * S + k] = wk->pc[1][(size_t)(h + 1) * S + k] = ghost;
    /* ghost slots: before the first site of each colour and after the last */
    pc0[-1] = pc1[-1] = ghost;
    for (size_t k = (size_t)(w + 1) / 2; k + 1 < S; ++k)
        pc0[k] = ghost;
    for (size_t k = (size_t)w / 2; k + 1 < S; ++k)
        pc1[k] = ghost;

    const int pairs = w / 2;
#pragma omp simd
    for (int k = 0; k < pairs; ++k) {
        const int x = 2 * k;
        bs_site_setup(c[x], fv[x], fx[x], src[x], upt[x], gs0[k], inv_dt, decay, inv_omega,
                      &w0[k], &r0[k], &s0[k], &pc0[k]);
        bs_site_setup(c[x + 1], fv[x + 1], fx[x + 1], src[x + 1], upt[x + 1], gs1[k], inv_dt,
                      decay, inv_omega, &w1[k], &r1[k], &s1[k], &pc1[k]);
    }
    if (w & 1) {
        const int x = w - 1;
        bs_site_setup(c[x], fv[x], fx[x], src[x], upt[x], gs0[pairs], inv_dt, decay, inv_omega,
                      &w0[pairs], &r0[pairs], &s0[pairs], &pc0[pairs]);
    }
}

/* Coarse-block kinds for the omega estimate, by what dominates the block. */
enum {
    BS_KIND_NONE = 0, /* impermeable: every site its own equation */
    BS_KIND_SLOW = 1, /* permeable, but under half as much as marrow (bone) */
    BS_KIND_FAST = 2, /* marrow-like */
    BS_KIND_HELD = 3  /* holds a Dirichlet site */
};

/* Classifies the coarse blocks of one block row (see bs_auto_omega) and
 * records those rows of the Dirichlet map. Block rows are the unit of work
 * so that exactly one thread writes each entry. */
static void bs_classify_block_row(const bs_prep *p, int yb)
{
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h, bw = wk->bw;
    const uint8_t *fixed = p->f->fixed;
    float *cat = wk->blk + (size_t)yb * (size_t)bw;
    const int y0 = yb * BS_OMEGA_BLOCK;
    const int y1 = y0 + BS_OMEGA_BLOCK < h ? y0 + BS_OMEGA_BLOCK : h;
    for (int bx = 0; bx < bw; ++bx) {
        int x1 = (bx + 1) * BS_OMEGA_BLOCK < w ? (bx + 1) * BS_OMEGA_BLOCK : w;
        int count[4] = {0, 0, 0, 0};
        for (int y = y0; y < y1; ++y)
            for (int x = bx * BS_OMEGA_BLOCK; x < x1; ++x) {
                size_t i = (size_t)y * (size_t)w + (size_t)x;
                count[fixed[i] ? BS_KIND_HELD : p->kind[bs_cls(p->tissue[i])]]++;
            }
        int k = BS_KIND_NONE;
        if (count[BS_KIND_HELD])
            k = BS_KIND_HELD;
        else if (count[BS_KIND_FAST] && count[BS_KIND_FAST] >= count[BS_KIND_SLOW])
            k = BS_KIND_FAST;
        else if (count[BS_KIND_SLOW])
            k = BS_KIND_SLOW;
        cat[bx] = (float)k;
    }
    memcpy(wk->fixed + (size_t)y0 * (size_t)w, fixed + (size_t)y0 * (size_t)w,
           (size_t)(y1 - y0) * (size_t)w);
}

/* Two-pass chamfer distance transform (steps 1 and sqrt 2: exact along
 * axes and diagonals, within 8% elsewhere, plenty for a rate estimate) on
 * the coarse grid; seeds hold their initial value, the rest start large. */
static void bs_chamfer(float *d, int bw, int bh)
{
    const float diag = 1.41421356f;
    for (int by = 0; by < bh; ++by)
        for (int bx = 0; bx < bw; ++bx) {
            float *v = &d[(size_t)by * (size_t)bw + (size_t)bx];
            float m = *v;
            if (bx > 0 && v[-1] + 1.0f < m)
                m = v[-1] + 1.0f;
            if (by > 0) {
                const float *u = v - bw;
                if (u[0] + 1.0f < m)
                    m = u[0] + 1.0f;
                if (bx > 0 && u[-1] + diag < m)
                    m = u[-1] + diag;
                if (bx < bw - 1 && u[1] + diag < m)
                    m = u[1] + diag;
            }
            *v = m;
        }
    for (int by = bh - 1; by >= 0; --by)
        for (int bx = bw - 1; bx >= 0; --bx) {
            float *v = &d[(size_t)by * (size_t)bw + (size_t)bx];
            float m = *v;
            if (bx < bw - 1 && v[1] + 1.0f < m)
                m = v[1] + 1.0f;
            if (by < bh - 1) {
                const float *u = v + bw;
                if (u[0] + 1.0f < m)
                    m = u[0] + 1.0f;
                if (bx > 0 && u[-1] + diag < m)
                    m = u[-1] + diag;
                if (bx < bw - 1 && u[1] + diag < m)
                    m = u[1] + diag;
            }
            *v = m;
        }
}

/* Largest distance (blocks) from a block of kind `over` to a seed block
 * (kind >= seed_min, or a fixed domain edge); `far` when there is none. */
static float bs_max_distance(const bs_work *wk, int fixed_edge, int seed_min, int over, float far)
{
    const int bw = wk->bw, bh = wk->bh;
    const float *cat = wk->blk;
    float *d = wk->blk + (size_t)bw * (size_t)bh;
    for (int by = 0; by < bh; ++by)
        for (int bx = 0; bx < bw; ++bx) {
            size_t j = (size_t)by * (size_t)bw + (size_t)bx;
            float v = far;
            if ((int)cat[j] >= seed_min) {
                v = 0.0f;
            } else if (fixed_edge) {
                int ex = bx < bw - 1 - bx ? bx : bw - 1 - bx;
                int ey = by < bh - 1 - by ? by : bh - 1 - by;
                v = (float)(ex < ey ? ex : ey) + 0.5f;
            }
            d[j] = v;
        }
    bs_chamfer(d, bw, bh);
    float r = 0.0f;
    for (size_t j = 0; j < (size_t)bw * (size_t)bh; ++j)
        if ((int)cat[j] == over && d[j] > r)
            r = d[j];
    return r;
}

/* Automatic SOR factor. For a uniform operator the Jacobi spectral radius
 * is rho_J = (4 - lambda) / (4 + alpha), where alpha = (1/dt + k) h^2 / D is
 * the decay relative to one face and lambda is the smallest eigenvalue of
 * the grid Laplacian (in units of 1/h^2) under the Dirichlet constraints;
 * Young's optimum is then omega = 2 / (1 + sqrt(1 - rho_J^2)). lambda is
 * estimated as BS_OMEGA_SHAPE / R^2 from R, the largest distance (sites)
 * from a site to where the field is held, measured on the coarse block map:
 *  - in marrow-like blocks, to the nearest Dirichlet site or fixed edge
 *    (bone walls bound marrow pockets almost like zero-flux walls);
 *  - in low-permeability blocks (bone), also to the nearest marrow: seen
 *    from inside bone, the far better connected marrow holds the value;
 *  - impermeable sites need no omega (they get omega_i = 1).
 * Where nothing holds the field (zero-flux box, no Dirichlet sites) lambda
 * is 0 and only the decay and 1/dt set rho_J. Uptake is left out: it only
 * lowers rho_J, and a too-large omega costs little (contraction omega - 1)
 * where a too-small one costs a lot. r_fast and r_slow (the two distances,
 * in blocks) come from bs_max_distance or the cache.
 *
 * The estimate targets the asymptotic rate (cold starts). Warm starts
 * after local changes converge fastest with a somewhat smaller omega
 * (1.5-1.8 where this gives 1.85-1.95) and take up to 1.5x the sweeps of
 * the best fixed value; a caller who knows its workload can pass omega. */
static float bs_auto_omega(const bs_prep *p, float r_fast, float r_slow, float far,
                           double d_ref, double h_um)
{
    float r = r_fast > r_slow ? r_fast : r_slow;
    double lambda = 0.0;
    if (r < 0.5f * far) {
        /* block distance to sites, plus half a block for where inside the
         * blocks the two ends lie (rounding R up, the safe direction) */
        double r_sites = ((double)r + 0.5) * BS_OMEGA_BLOCK;
        lambda = BS_OMEGA_SHAPE / (r_sites * r_sites);
    }
    if (!(d_ref > 0.0))
        return 1.0f; /* no diffusion: every site is its own equation */
    double alpha = ((double)p->inv_dt + (double)p->decay) * h_um * h_um / d_ref;
    double rho = (4.0 - lambda) / (4.0 + alpha);
    if (rho < 0.0)
        rho = 0.0;
    double omega = 2.0 / (1.0 + sqrt(1.0 - rho * rho));
    /* keep omega - 1 (the contraction at and above the optimum) below 1 */
    if (omega > 1.99)
        omega = 1.99;
    if (omega < 1.0)
        omega = 1.0;
    return (float)omega;
}

/* One SOR half-sweep of colour q over row y; returns the largest change
 * (as the bits of a float >= 0). */
static inline uint32_t bs_sweep_row(const bs_work *wk, int q, int y)
{
    const size_t S = (size_t)wk->stride;
    const int o = (q + y) & 1;
    const int n = (wk->w - o + 1) / 2;
    float *restrict cur = wk->pc[q] + (size_t)(y + 1) * S + 1;
    const float *oth = wk->pc[q ^ 1] + (size_t)(y + 1) * S + 1;
    const float *restrict cw = oth + o - 1;
    const float *restrict ce = oth + o;
    const float *restrict cs = oth - S;
    const float *restrict cn = oth + S;
    const size_t r = (size_t)y * S;
    const float *restrict g0 = wk->g[q][0] + r;
    const float *restrict g1 = wk->g[q][1] + r;
    const float *restrict g2 = wk->g[q][2] + r;
    const float *restrict g3 = wk->g[q][3] + r;
    const float *restrict wsc = wk->wsc[q] + r;
    const float *restrict rhs = wk->rhs[q] + r;
    const float *restrict sink = wk->sink[q] + r;
    /* The largest change is kept as the bits of |change|: for floats >= 0
     * they order like the values, and an integer max is a reduction every
     * compiler vectorises (clang will not vectorise a float max without
     * -ffast-math). A NaN orders above everything, so it is reported and
     * blocks convergence rather than hiding. */
    uint32_t m = 0;
#pragma omp simd reduction(max : m)
    for (int k = 0; k < n; ++k) {
        const float c0 = cur[k];
        const float flux = g0[k] * (cw[k] - c0) + g1[k] * (ce[k] - c0) + g2[k] * (cs[k] - c0) +
                           g3[k] * (cn[k] - c0);
        const float c1 = c0 + wsc[k] * ((rhs[k] - sink[k] * c0) + flux);
        cur[k] = c1;
        /* the change actually stored (exact): a step below half an ulp of
         * c changes nothing and must not hold off convergence */
        const float ch = fabsf(c1 - c0);
        uint32_t bits;
        memcpy(&bits, &ch, sizeof bits);
        m = bits > m ? bits : m;
    }
    return m;
}

/* Writes row y of the packed solution back to c. */
static void bs_unpack_row(const bs_work *wk, float *c, int y)
{
    const size_t S = (size_t)wk->stride;
    const int w = wk->w;
    const float *p0 = wk->pc[y & 1] + (size_t)(y + 1) * S + 1;       /* even x */
    const float *p1 = wk->pc[(y + 1) & 1] + (size_t)(y + 1) * S + 1; /* odd x */
    float *row = c + (size_t)y * (size_t)w;
    const int pairs = w / 2;
#pragma omp simd
    for (int k = 0; k < pairs; ++k) {
        row[2 * k] = p0[k];
        row[2 * k + 1] = p1[k];
    }
    if (w & 1)
        row[w - 1] = p0[pairs];
}

static int bs_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Notes to field.h: spec.scale <= 0 counts as 1; opt->omega outside (0, 2)
 * means automatic; max_iters < 1 counts as 1. A tolerance below a few ulp
 * of the field's largest values (tol * scale < ~4e-7 * max |c|) cannot be
 * met in float and runs to max_iters. */
void bs_field_solve(bs_field *f, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt)
{
    if (!f || !f->c || !lat || !lat->tissue || !opt)
        return;
    f->last_iters = 0;
    f->last_change = 0.0f;
    /* Preconditions (checked by the callers' setup code); a violated one
     * leaves c untouched with last_iters = 0 rather than reading out of
     * bounds or dividing by zero. */
    if (lat->w != f->w || lat->h != f->h || !(lat->h_um > 0.0))
        return;
    if (!f->spec.quasi_steady && !(dt_h > 0.0))
        return;

    const bs_field_spec *sp = &f->spec;
    const int w = f->w, h = f->h;
    const size_t n = (size_t)w * (size_t)h;
    bs_work wk;
    bs_work_layout(&wk, w, h, bs_work_base(f));
    bs_cache *cache = wk.cache;

    bs_prep p;
    p.f = f;
    p.tissue = lat->tissue;
    p.wk = &wk;
    p.inv_dt = sp->quasi_steady ? 0.0f : (float)(1.0 / dt_h);
    p.decay = (float)sp->decay_per_h;
    p.ghost = sp->boundary == BS_BC_FIXED ? (float)sp->boundary_value : 0.0f;
    const double h2 = lat->h_um * lat->h_um;
    double dt[BS_TISSUE_COUNT];
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        dt[t] = sp->D_um2_per_s * 3600.0 * sp->D_factor[t]; /* um^2/s -> um^2/h */
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) {
        for (int u = 0; u < BS_TISSUE_COUNT; ++u)
            p.g_pair[t][u] = dt[t] > 0.0 && dt[u] > 0.0
                                 ? (float)(2.0 * dt[t] * dt[u] / (dt[t] + dt[u]) / h2)
                                 : 0.0f;
        p.g_edge[t] = sp->boundary == BS_BC_FIXED ? (float)(2.0 * dt[t] / h2) : 0.0f;
    }
    /* the omega estimate is made for marrow, where nearly all the volume
     * is; if marrow is impermeable, for the most permeable class */
    double d_ref = dt[BS_TISSUE_MARROW];
    for (int t = 0; t < BS_TISSUE_COUNT && !(d_ref > 0.0); ++t)
        if (dt[t] > d_ref)
            d_ref = dt[t];
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        p.kind[t] = !(dt[t] > 0.0)         ? BS_KIND_NONE
                    : dt[t] < 0.5 * d_ref ? BS_KIND_SLOW
                                          : BS_KIND_FAST;

    /* cache checks: what the conductances and the omega estimate depend on */
    double key[BS_TISSUE_COUNT + 3];
    key[0] = sp->D_um2_per_s;
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        key[1 + t] = sp->D_factor[t];
    key[BS_TISSUE_COUNT + 1] = (double)sp->boundary;
    key[BS_TISSUE_COUNT + 2] = lat->h_um;
    int same_key = 1;
    for (int j = 0; j < BS_TISSUE_COUNT + 3; ++j)
        same_key = same_key && key[j] == cache->key[j];
    const int g_ok = cache->g_valid && same_key && memcmp(wk.tissue, lat->tissue, n) == 0;
    const int auto_omega = !(opt->omega > 0.0 && opt->omega < 2.0);
    const int r_ok = auto_omega && g_ok && cache->r_valid && memcmp(wk.fixed, f->fixed, n) == 0;
    const float far = 1.0e30f;

    float omega = auto_omega ? 1.0f : (float)opt->omega;
    const double scale = sp->scale > 0.0 ? sp->scale : 1.0;
    const float thr = (float)(opt->tol * scale);
    const int max_it = opt->max_iters > 0 ? opt->max_iters : 1;
    /* Largest change of iteration it (as float bits, see bs_sweep_row)
     * collects in slot it & 1; the other slot is cleared mid-iteration,
     * after every thread has read it. */
    uint32_t slot[2] = {0, 0};
    int iters = 0;
    float last = 0.0f;

#pragma omp parallel
    {
        if (!g_ok) {
#pragma omp for schedule(static)
            for (int y = 0; y < h; ++y)
                bs_conductance_row(&p, y);
        }
        if (auto_omega) {
            if (!r_ok) {
#pragma omp for schedule(static)
                for (int yb = 0; yb < wk.bh; ++yb)
                    bs_classify_block_row(&p, yb);
#pragma omp single
                {
                    cache->r_fast = bs_max_distance(&wk, sp->boundary == BS_BC_FIXED,
                                                    BS_KIND_HELD, BS_KIND_FAST, far);
                    cache->r_slow = bs_max_distance(&wk, sp->boundary == BS_BC_FIXED,
                                                    BS_KIND_FAST, BS_KIND_SLOW, far);
                }
            }
#pragma omp single
            omega = bs_auto_omega(&p, cache->r_fast, cache->r_slow, far, d_ref, lat->h_um);
        }
#pragma omp for schedule(static)
        for (int y = 0; y < h; ++y)
            bs_prepare_row(&p, y, omega);

        int it = 0;
        float mx = 0.0f;
        while (it < max_it) {
            uint32_t m = 0;
#pragma omp for schedule(static)
            for (int y = 0; y < h; ++y) {
                uint32_t r = bs_sweep_row(&wk, 0, y);
                m = r > m ? r : m;
            }
#pragma omp single nowait
            slot[(it + 1) & 1] = 0;
#pragma omp for schedule(static) nowait
            for (int y = 0; y < h; ++y) {
                uint32_t r = bs_sweep_row(&wk, 1, y);
                m = r > m ? r : m;
            }
#pragma omp critical(bs_field_max)
            {
                if (m > slot[it & 1])
                    slot[it & 1] = m;
            }
#pragma omp barrier
            memcpy(&mx, &slot[it & 1], sizeof mx);
            ++it;
            if (mx < thr)
                break;
        }
        if (bs_thread_num() == 0) {
            iters = it;
            last = mx;
        }
#pragma omp for schedule(static)
        for (int y = 0; y < h; ++y)
            bs_unpack_row(&wk, f->c, y);
    }
    if (!g_ok) {
        memcpy(cache->key, key, sizeof key);
        cache->g_valid = 1;
        cache->r_valid = 0;
    }
    if (auto_omega && !r_ok)
        cache->r_valid = 1;
    f->last_iters = iters;
    f->last_change = last;
}
