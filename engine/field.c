/* field.c — backward-Euler / quasi-steady reaction-diffusion by red-black SOR.
 *
 * Discretisation (cell-centred finite volumes, site i at the centre of its
 * h x h square):
 *     (1/dt + k + u_i + sum_f G_f) c_i - sum_f G_f c_f = c_old_i/dt + s_i
 * over the four faces f. G_f = harmonic mean of the two sites' diffusivities
 * D * D_factor[tissue] (um^2/h) over h^2; the harmonic mean is the series
 * resistance of the two half-cells, so a bone wall limits the flux the way
 * it should and a face touching a zero-diffusivity site carries nothing.
 * Quasi-steady drops the 1/dt terms. Dirichlet sites (fixed[i]) hold
 * fixed_val[i].
 *
 * Domain boundary: the boundary is the outer face of the edge sites, half a
 * site from their centres. BS_BC_ZERO_FLUX omits that face; BS_BC_FIXED
 * puts a ghost at boundary_value behind it, at distance h/2, so the face
 * conductance is D_i / (h/2) / h = 2 D_i / h^2 (second-order accurate for
 * a value held on the domain edge).
 *
 * Solver layout. Every solve first builds, per site, the coefficients
 *     a_f = omega_i G_f / diag,  e = omega_i (1/dt + k + u) / diag,
 *     b = omega_i (c_old/dt + s) / diag,
 * so an SOR update is
 *     c += b + sum_f a_f (c_f - c) - e c       (= omega_i (GS value - c))
 * with no branches, divisions or table look-ups (the 4x4 tissue-pair
 * conductance table is used once per site while building them). The
 * backward-Euler c_old lives only inside b. Writing the update with the
 * differences c_f - c (exact in float for nearby values) instead of
 * sum a_f c_f - omega c matters: diffusion dominates the diagonal by a
 * factor ~ D dt / h^2 ~ 1e3, and the latter form cancels two large terms,
 * which left the float solution 1e-4 (relative) off the exact one and the
 * sweep changes stuck at ~20 ulp; the difference form rounds at the size
 * of the imbalance itself, so it converges to within a few ulp. Values and coefficients are stored colour by colour
 * ("packed": row y of colour q holds the sites x = 2k + ((q + y) & 1)),
 * so the inner loop runs over contiguous floats and vectorises; the
 * neighbours of site k are, in the other colour, k+o-1 and k+o in the same
 * row (o = (q + y) & 1) and k in the rows above and below. A one-site ghost
 * frame around the packed arrays holds the boundary value (or 0 behind a
 * zero-flux face, where the coefficient is 0), which removes the edge
 * branches from the sweep.
 *
 * Determinism: a site of one colour reads only sites of the other colour,
 * so a colour sweep gives the same bits however its rows are split among
 * threads; the convergence test uses the maximum of |change|, which is
 * exact in any order. The SOR factor depends only on the inputs of this
 * solve (never on earlier solves), so a run restarted from a checkpoint
 * takes the same path.
 *
 * Scratch memory. field.h has no member for it, so it lives behind the
 * fixed_val array in the same allocation (fixed_val[0 .. w*h-1] is the
 * public part). Callers must not replace or reallocate f->fixed_val. */
#include "field.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Block edge (sites) of the coarse map used to estimate the distance to the
 * nearest Dirichlet site for the automatic SOR factor: 4 keeps that map at
 * 1/16 of the grid, so building it costs far less than one sweep, while the
 * distance error (at most a few sites) only matters where distances are
 * short and convergence is fast anyway. */
#define BS_OMEGA_BLOCK 4

/* Sub-arrays of the scratch start on 64-byte boundaries (16 floats) so the
 * vectorised sweep starts rows on aligned data more often. */
#define BS_ALIGN_FLOATS 16

typedef struct {
    int w, h;
    int stride;     /* packed row length in floats: (w+1)/2 sites + 2 ghosts */
    int bw, bh;     /* coarse blocks for the omega estimate */
    float *pc[2];   /* packed c per colour: row y at (y+1)*stride, site k at +1+k */
    float *a[2][4]; /* omega_i a_f per colour and face (x-1, x+1, y-1, y+1): row y at y*stride */
    float *b[2];    /* omega_i (c_old/dt + s) / diag */
    float *e[2];    /* omega_i (1/dt + k + u) / diag: the site's own sink */
    float *blk;     /* 2*bw*bh: coarse block kinds, then distances */
} bs_work;

static size_t bs_round_floats(size_t n)
{
    return (n + BS_ALIGN_FLOATS - 1) / BS_ALIGN_FLOATS * BS_ALIGN_FLOATS;
}

/* Lays the scratch out from base (or only measures it when base is NULL);
 * returns its size in floats. Used by init (to size) and solve (to find). */
static size_t bs_work_layout(bs_work *wk, int w, int h, float *base)
{
    size_t off = 0;
    wk->w = w;
    wk->h = h;
    wk->stride = (w + 1) / 2 + 2;
    wk->bw = (w + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
    wk->bh = (h + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
    size_t packed = bs_round_floats((size_t)(h + 2) * (size_t)wk->stride);
    size_t coef = bs_round_floats((size_t)h * (size_t)wk->stride);
    for (int q = 0; q < 2; ++q) {
        wk->pc[q] = base ? base + off : NULL;
        off += packed;
        for (int f = 0; f < 4; ++f) {
            wk->a[q][f] = base ? base + off : NULL;
            off += coef;
        }
        wk->b[q] = base ? base + off : NULL;
        off += coef;
        wk->e[q] = base ? base + off : NULL;
        off += coef;
    }
    wk->blk = base ? base + off : NULL;
    off += bs_round_floats(2 * (size_t)wk->bw * (size_t)wk->bh);
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
    /* calloc: the ghost frame and unused packed slots must hold finite
     * values even before the first solve writes them. */
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

/* Everything the setup needs, shared read-only by the threads. */
typedef struct {
    const bs_field *f;
    const uint8_t *tissue;
    const bs_work *wk;
    float g_pair[BS_TISSUE_COUNT][BS_TISSUE_COUNT]; /* face conductance, 1/h */
    float g_edge[BS_TISSUE_COUNT];                  /* domain-edge face, 1/h */
    float inv_dt;                                   /* 0 for quasi-steady */
    float decay;
    float ghost;                     /* value behind the domain edge */
    uint8_t kind[BS_TISSUE_COUNT];   /* BS_KIND_* of each tissue class */
} bs_prep;

/* Tissue class as a table index. The lattice guarantees valid classes; an
 * invalid byte is read as marrow rather than indexing out of the tables. */
static inline int bs_cls(uint8_t t)
{
    return t < BS_TISSUE_COUNT ? (int)t : (int)BS_TISSUE_MARROW;
}

/* Coarse-block kinds for the omega estimate, by what dominates the block. */
enum {
    BS_KIND_NONE = 0,  /* impermeable: every site its own equation */
    BS_KIND_SLOW = 1,  /* permeable, but under half as much as marrow (bone) */
    BS_KIND_FAST = 2,  /* marrow-like */
    BS_KIND_HELD = 3   /* holds a Dirichlet site */
};

/* Classifies the coarse blocks of one block row (see bs_auto_omega).
 * Block rows are the unit of work so that exactly one thread writes each
 * entry. */
static void bs_classify_block_row(const bs_prep *p, int yb)
{
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h, bw = wk->bw;
    float *cat = wk->blk + (size_t)yb * (size_t)bw;
    int y1 = (yb + 1) * BS_OMEGA_BLOCK < h ? (yb + 1) * BS_OMEGA_BLOCK : h;
    for (int bx = 0; bx < bw; ++bx) {
        int x1 = (bx + 1) * BS_OMEGA_BLOCK < w ? (bx + 1) * BS_OMEGA_BLOCK : w;
        int count[4] = {0, 0, 0, 0};
        for (int y = yb * BS_OMEGA_BLOCK; y < y1; ++y)
            for (int x = bx * BS_OMEGA_BLOCK; x < x1; ++x) {
                size_t i = (size_t)y * (size_t)w + (size_t)x;
                count[p->f->fixed[i] ? BS_KIND_HELD : p->kind[bs_cls(p->tissue[i])]]++;
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
}

/* Builds the packed values, their ghosts and the relaxed coefficients of
 * row y for relaxation factor omega (rho_opt: the Jacobi radius for which
 * omega is Young's optimum). Float arithmetic and one division per site:
 * this runs once per solve, and a warm-started solve may need only a few
 * sweeps, so it must cost no more than a few sweeps itself. */
static void bs_prepare_row(const bs_prep *p, int y, float omega, float rho_opt)
{
    const bs_field *f = p->f;
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h;
    const size_t S = (size_t)wk->stride;
    const size_t r = (size_t)y * (size_t)w;
    const uint8_t *t_row = p->tissue + r;
    const uint8_t *t_lo = y > 0 ? t_row - w : NULL;
    const uint8_t *t_hi = y < h - 1 ? t_row + w : NULL;
    const float *c = f->c + r, *src = f->src + r, *upt = f->uptake + r, *fv = f->fixed_val + r;
    const uint8_t *fx = f->fixed + r;
    const float inv_dt = p->inv_dt, decay = p->decay, ghost = p->ghost;

    if (y == 0)
        for (size_t k = 0; k < S; ++k)
            wk->pc[0][k] = wk->pc[1][k] = ghost;
    if (y == h - 1)
        for (size_t k = 0; k < S; ++k)
            wk->pc[0][(size_t)(h + 1) * S + k] = wk->pc[1][(size_t)(h + 1) * S + k] = ghost;

    for (int q = 0; q < 2; ++q) {
        const int o = (q + y) & 1;
        const int n = (w - o + 1) / 2;
        float *restrict pc = wk->pc[q] + (size_t)(y + 1) * S + 1;
        float *restrict a0 = wk->a[q][0] + (size_t)y * S;
        float *restrict a1 = wk->a[q][1] + (size_t)y * S;
        float *restrict a2 = wk->a[q][2] + (size_t)y * S;
        float *restrict a3 = wk->a[q][3] + (size_t)y * S;
        float *restrict b = wk->b[q] + (size_t)y * S;
        float *restrict e = wk->e[q] + (size_t)y * S;
        /* ghost slots: before the first site and after the last */
        pc[-1] = ghost;
        for (size_t k = (size_t)n; k + 1 < S; ++k)
            pc[k] = ghost;
        for (int k = 0; k < n; ++k) {
            const int x = 2 * k + o;
            pc[k] = c[x];
            if (fx[x]) {
                /* all-zero coefficients: the packed value never changes */
                pc[k] = fv[x];
                a0[k] = a1[k] = a2[k] = a3[k] = b[k] = e[k] = 0.0f;
                continue;
            }
            const int t = bs_cls(t_row[x]);
            const float *gp = p->g_pair[t];
            const float ge = p->g_edge[t];
            const float g0 = x > 0 ? gp[bs_cls(t_row[x - 1])] : ge;
            const float g1 = x < w - 1 ? gp[bs_cls(t_row[x + 1])] : ge;
            const float g2 = t_lo ? gp[bs_cls(t_lo[x])] : ge;
            const float g3 = t_hi ? gp[bs_cls(t_hi[x])] : ge;
            const float gsum = (g0 + g1) + (g2 + g3);
            const float sink = inv_dt + decay + upt[x];
            const float diag = sink + gsum;
            if (!(diag > 0.0f)) {
                /* Quasi-steady site with no decay, no uptake and no open
                 * face: its equation (0 = s) has no solution to find, so
                 * the value is left as it is. */
                a0[k] = a1[k] = a2[k] = a3[k] = b[k] = e[k] = 0.0f;
                continue;
            }
            const float inv = 1.0f / diag;
            /* Local relaxation: a site whose own Jacobi row sum
             * rho_i = gsum/diag is below the global radius (no open face,
             * low permeability, strong uptake) gets the omega that is
             * optimal for rho_i instead. With the full omega such a site
             * would ring, decaying only as (omega - 1)^n, e.g. ~80 sweeps
             * at omega 1.9 for an isolated site whose value must fall by
             * half, where omega_i = 1 settles it in one. SOR with per-site
             * factors in (0, 2) still converges for this symmetric positive
             * definite system (Ostrowski-Reich). */
            const float rho = gsum * inv;
            float om = omega;
            if (rho < rho_opt) {
                const float oi = 2.0f / (1.0f + sqrtf(1.0f - rho * rho));
                om = oi < omega ? oi : omega;
            }
            const float sc = om * inv;
            a0[k] = g0 * sc;
            a1[k] = g1 * sc;
            a2[k] = g2 * sc;
            a3[k] = g3 * sc;
            e[k] = sink * sc;
            b[k] = (c[x] * inv_dt + src[x]) * sc;
        }
    }
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
 * (kind >= seed_min, or a fixed domain edge); "far" when there is none. */
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

/* SOR factor from the inputs of this solve. For a uniform operator the
 * Jacobi spectral radius is rho_J = (4 - lambda) / (4 + alpha), where
 * alpha = (1/dt + k) h^2 / D is the decay relative to one face and lambda
 * is the smallest eigenvalue of the grid Laplacian (in units of 1/h^2)
 * under the Dirichlet constraints; Young's optimum is then
 * omega = 2 / (1 + sqrt(1 - rho_J^2)). lambda is estimated as 1/R^2 from R,
 * the largest distance (sites) from a site to where the field is held,
 * measured on a coarse block map:
 *  - in marrow-like blocks, to the nearest Dirichlet site or fixed edge
 *    (bone walls bound marrow pockets almost like zero-flux walls);
 *  - in low-permeability blocks (bone), also to the nearest marrow: seen
 *    from inside bone, the far better connected marrow holds the value;
 *  - impermeable sites need no omega (they get omega_i = 1).
 * 1/R^2 errs low (the exact value for a 1D strip held at one end is
 * 2.47/R^2, for a lattice of small vessels 2-4/R^2): a too-large omega
 * costs little (contraction omega - 1) while a too-small one costs a lot.
 * Uptake is left out for the same reason. Measured on a 256 x 256 O2
 * field with sinusoids every 100 um and bone bands, the estimate (1.84)
 * sat at the empirical optimum (1.80-1.85). */
static float bs_auto_omega(const bs_prep *p, double d_ref, double h_um)
{
    const bs_work *wk = p->wk;
    const float far = 1.0e30f;
    const int fixed_edge = p->f->spec.boundary == BS_BC_FIXED;
    float r_fast = bs_max_distance(wk, fixed_edge, BS_KIND_HELD, BS_KIND_FAST, far);
    float r_slow = bs_max_distance(wk, fixed_edge, BS_KIND_FAST, BS_KIND_SLOW, far);
    float r = r_fast > r_slow ? r_fast : r_slow;

    double lambda = 0.0;
    if (r < 0.5f * far) {
        /* block distance to sites, plus half a block for where inside the
         * blocks the two ends lie (rounding R up, the safe direction) */
        double r_sites = ((double)r + 0.5) * BS_OMEGA_BLOCK;
        lambda = 1.0 / (r_sites * r_sites);
    }
    if (!(d_ref > 0.0))
        return 1.0f; /* no diffusion: every site is its own equation */
    double alpha = ((double)p->inv_dt + (double)p->decay) * h_um * h_um / d_ref;
    double rho = (4.0 - lambda) / (4.0 + alpha);
    if (rho < 0.0)
        rho = 0.0;
    double omega = 2.0 / (1.0 + sqrt(1.0 - rho * rho));
    /* keep omega - 1 (the worst-case contraction above the optimum) below 1 */
    if (omega > 1.99)
        omega = 1.99;
    if (omega < 1.0)
        omega = 1.0;
    return (float)omega;
}

/* One SOR half-sweep of colour q over row y; returns the largest |change|. */
static inline float bs_sweep_row(const bs_work *wk, int q, int y)
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
    const float *restrict a0 = wk->a[q][0] + r;
    const float *restrict a1 = wk->a[q][1] + r;
    const float *restrict a2 = wk->a[q][2] + r;
    const float *restrict a3 = wk->a[q][3] + r;
    const float *restrict b = wk->b[q] + r;
    const float *restrict e = wk->e[q] + r;
    float m = 0.0f;
#pragma omp simd reduction(max : m)
    for (int k = 0; k < n; ++k) {
        const float c0 = cur[k];
        /* = omega_i * (Gauss-Seidel value - c), coefficients pre-scaled */
        const float d = b[k] + a0[k] * (cw[k] - c0) + a1[k] * (ce[k] - c0) +
                        a2[k] * (cs[k] - c0) + a3[k] * (cn[k] - c0) - e[k] * c0;
        const float c1 = c0 + d;
        cur[k] = c1;
        /* the change actually stored (exact): a d below half an ulp of c
         * changes nothing and must not hold off convergence */
        const float ch = fabsf(c1 - c0);
        m = ch > m ? ch : m;
    }
    return m;
}

static int bs_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

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
    bs_work wk;
    bs_work_layout(&wk, w, h, bs_work_base(f));

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

    const int auto_omega = !(opt->omega > 0.0 && opt->omega < 2.0);
    float omega = auto_omega ? 1.0f : (float)opt->omega;
    const double scale = sp->scale > 0.0 ? sp->scale : 1.0;
    const float thr = (float)(opt->tol * scale);
    const int max_it = opt->max_iters > 0 ? opt->max_iters : 1;
    /* Largest change of iteration it collects in slot it & 1; the other
     * slot is cleared mid-iteration, after every thread has read it. */
    float slot[2] = {0.0f, 0.0f};
    int iters = 0;
    float last = 0.0f;

#pragma omp parallel
    {
        if (auto_omega) {
#pragma omp for schedule(static)
            for (int yb = 0; yb < wk.bh; ++yb)
                bs_classify_block_row(&p, yb);
#pragma omp single
            omega = bs_auto_omega(&p, d_ref, lat->h_um);
        }
        /* the Jacobi radius for which omega is Young's optimum */
        const float rho_opt =
            omega > 1.0f ? sqrtf(1.0f - (2.0f / omega - 1.0f) * (2.0f / omega - 1.0f)) : 0.0f;
#pragma omp for schedule(static)
        for (int y = 0; y < h; ++y)
            bs_prepare_row(&p, y, omega, rho_opt);
        int it = 0;
        float mx = 0.0f;
        while (it < max_it) {
            float m = 0.0f;
#pragma omp for schedule(static)
            for (int y = 0; y < h; ++y) {
                float r = bs_sweep_row(&wk, 0, y);
                m = r > m ? r : m;
            }
#pragma omp single nowait
            slot[(it + 1) & 1] = 0.0f;
#pragma omp for schedule(static) nowait
            for (int y = 0; y < h; ++y) {
                float r = bs_sweep_row(&wk, 1, y);
                m = r > m ? r : m;
            }
#pragma omp critical(bs_field_max)
            {
                if (m > slot[it & 1])
                    slot[it & 1] = m;
            }
#pragma omp barrier
            mx = slot[it & 1];
            ++it;
            if (mx < thr)
                break;
        }
        if (bs_thread_num() == 0) {
            iters = it;
            last = mx;
        }
#pragma omp for schedule(static)
        for (int y = 0; y < h; ++y) {
            float *c = f->c + (size_t)y * (size_t)w;
            const float *p0 = wk.pc[y & 1] + (size_t)(y + 1) * (size_t)wk.stride + 1;
            const float *p1 = wk.pc[(y + 1) & 1] + (size_t)(y + 1) * (size_t)wk.stride + 1;
            for (int x = 0; x < w; ++x)
                c[x] = (x & 1) ? p1[x >> 1] : p0[x >> 1];
        }
    }
    f->last_iters = iters;
    f->last_change = last;
}
