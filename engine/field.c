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
 * error varies in space and the flux terms keep it moving; an error
 * uniform over the whole domain is taken out by the uniform correction
 * below where nothing holds the field.
 *
 * Settled regions are not swept again. Each row is cut into chunks of
 * BS_CHUNK packed sites (2 BS_CHUNK lattice sites), and every sweep records
 * the largest change in each chunk. The first sweep of a solve covers the
 * whole grid; from the second on, a chunk is swept only if it, or one of
 * the four chunks beside it, changed by at least a quarter of the
 * tolerance in the previous sweep (BS_WAKE). A warm-started solve after a
 * local change (a cell born, a bone site resorbed, a burst of secretion)
 * then costs work near the change only. The stopping rule is unchanged
 * (the largest change of the last sweep is below tol), and so is what it
 * promises: a skipped chunk changed by less than tol/4, and so did its
 * neighbours, so its residual is below that in the units of a change, the
 * state the global rule stops in. What is swept depends only on the
 * changes, never on the threads.
 *
 * Uniform correction. Where nothing holds the field (no Dirichlet site,
 * zero-flux edge), SOR is slowest on the mode that is constant over the
 * whole domain: only the sink (1/dt + k + u, ~1e-3 of the diagonal for
 * D dt / h^2 ~ 1e3) acts on it, so a slowly varying field (OPG: a 2-day
 * half-life and a decay length beyond the domain) gained or lost its
 * step's level change at a few 1e-4 per sweep, stopped by the tolerance
 * long before it got there. Before the sweeps, each such solve therefore
 * makes the Galerkin correction for the constant vector over the live
 * sites: c += sum(r - q c) / sum(q) (the fluxes cancel in the sum, since G
 * is symmetric), which removes that mode exactly and lowers the error in
 * the energy norm in every case. The sums are made per row in BS_LANES
 * fixed running sums and added in row order, so the shift has the same
 * bits at any thread count. On the homeostasis scenario it cut OPG's
 * relaxations 5x and its mean error 3x (bench/README.md).
 *
 * Setup cost. A warm-started solve may need only a few sweeps, so the
 * per-solve setup must cost no more than a few: the conductances G_f (which
 * need per-face tissue look-ups) are cached and rebuilt only where the
 * tissue map changed (rows compared with a copy, once per
 * bs_field_solve_many or per solve, and the rows beside a changed one
 * rebuilt: see "Shared conductances"), or everywhere when the
 * diffusivities or h change; the omega estimate is cached likewise against
 * the tissue and Dirichlet maps, block row by block row, and its distance
 * transform is redone only when a block changed kind. The per-solve pass is
 * then branch-free arithmetic with one division per site (about two sweeps'
 * worth of time at 256 x 256); in rows with no uptake and no held site,
 * whose scales and sinks depend on cached data only, they are kept from
 * the last solve and the pass computes just c_old/dt + s and the packed
 * values (under one sweep's worth). A field that is zero everywhere with no
 * source, no held value and a zero boundary stays zero: it is recognised by
 * a scan and not solved (last_iters = 0).
 * Cached values are bit-identical to recomputed ones, so results never
 * depend on the cache.
 *
 * Conductances. A face's G is the same seen from either side (g_pair is
 * symmetric to the bit), so each site keeps only its east and north faces;
 * the sweep reads a site's west and south faces as the east face of its
 * west neighbour and the north face of the one below (both in the other
 * colour, at the index of cw and cs). Only the domain edge's west and
 * south faces have no neighbour to live at: they sit in the slot before a
 * row's first site and in a row -1. Two floats per site fewer for every
 * field (bench/README.md, issue 19), the same values and the same
 * arithmetic.
 *
 * Shared conductances. The conductances depend on the tissue map and on
 * D, D_factor[], the boundary kind and h only, so fields with the same of
 * those (in the model OPG and TGF-beta; IFN-gamma, PTHrP and suppression)
 * may share one cached set (bs_field_gset), and all fields one copy of
 * the tissue map they were built from (bs_field_tissue; issue 19: 8 bytes
 * per site for each field that shares a set, 1 for each that shares the
 * copy). The copy keeps, per row, the epoch of the last sync that found
 * the row changed; a set remembers the epoch it was built for and each
 * field the epoch its own caches (scales, omega estimate) caught up with,
 * so that each redoes what changed since it last looked, as a copy of its
 * own told it before: a row changed and changed back between two solves
 * of a field is now redone where it used to be left alone, which gives
 * the same values (the cached ones equal recomputed ones). A set is
 * rebuilt under its lock by the first field that solves after a change;
 * the others read it. A field on its own has a set and a copy of its own:
 * one code path.
 *
 * Skipping settled solves (bs_solver_opts.skip_budget > 0). Once a model
 * reaches its steady state, most steps change none of a field's inputs
 * (on homeostasis at 250 x 250 after 10 days, 11 recorded steps in a row
 * had the same sources, uptakes, held sites and tissue, bit for bit), and
 * each solve then settles in its one, whole-grid sweep: the per-solve pass
 * and that sweep cost about 100 bytes of memory traffic per site to
 * change c by less than the tolerance. A solve that settled in one sweep
 * (largest change d of that sweep, plus the uniform correction's shift)
 * arms the skip: it records a hash of c after the solve, of the inputs,
 * the tissue and the solve's settings (time step, spec, tolerance). The
 * next solve computes the same hash (18 bytes read per site, no writes)
 * and, if it is unchanged and drift + d <= skip_budget x tol x scale,
 * returns at once with c as it is and adds d to drift; otherwise it
 * solves, which resets drift. Why d bounds what a skipped solve would
 * have changed: with the inputs unchanged, the backward-Euler step maps
 * the change of one step to the next by (I + dt A)^-1 (A the diffusion,
 * decay and uptake operator: an M-matrix with a dominant diagonal), whose
 * max-norm is at most 1/(1 + k dt) <= 1, so successive exact changes do
 * not grow; a quasi-steady field with unchanged inputs has the same
 * system and the same answer. The summed bound therefore keeps a skipped
 * c within skip_budget tolerances of the c a solve would have given, on
 * top of the tolerance the stopping rule leaves; bench fields measures
 * the largest error against a converged solve with skipping on. The hash:
 * per site, (c ^ k1)(s ^ k2) + (u ^ k3)(v ^ k4) + (fixed | tissue << 8 ^
 * k5) k6 over the float bits, with keys from the site index (a Weyl
 * sequence: a value moved from one site to another changes the sum), all
 * products 32 x 32 -> 64 bits summed mod 2^64. A change at one site
 * changes one term by a product of two non-zero 32-bit factors, which is
 * never 0 mod 2^64, so any single-site change is always seen; several
 * changes could in principle cancel (a chance of order 2^-64 for
 * unrelated values). The sum is exact in any order, so the hash, and
 * every skip, is the same at any thread count and with either kernel;
 * the hash, d, drift and the flag are bs_field.skip, kept in checkpoints.
 *
 * Instruction sets. With GCC or clang on x86-64 the per-row kernels are
 * built twice (AVX2 and baseline SSE2) and picked at load time for the
 * CPU. Both do the same IEEE single-precision operations in the same order
 * (no FMA: the target list leaves it out, and ISO C mode does not contract),
 * so results are bit-identical whichever runs.
 *
 * Determinism: a site of one colour reads only sites of the other colour,
 * so a colour sweep gives the same bits however its rows are split among
 * threads; the convergence test and the per-chunk activity use maxima of
 * |change|, which are exact in any order. omega depends only on the inputs
 * of this solve (never on earlier solves), so a run restarted from a
 * checkpoint takes the same path. bs_field_solve_many hands whole fields
 * to the threads on small lattices (BS_ROWS_SHARED_SITES): each of those
 * solves runs on one thread and gives the same bits.
 *
 * Scratch memory: bs_field.work, one allocation made by bs_field_init
 * (about 4 floats and 1 byte per site: two cached, two per solve that
 * fields may share), laid out by bs_work_layout with the bs_work header
 * that locates its arrays first, plus the conductances (2 floats per
 * site) and the tissue copy (1 byte per site), which fields may share
 * (bs_field_work_bytes counts all three).
 *
 * Shared zero inputs: fields that never have uptake or Dirichlet sites may
 * point uptake, fixed and fixed_val at one read-only zero block
 * (bs_field_share_zero_inputs, bs_field_zero below). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "field.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#if defined(MAP_ANONYMOUS)
#define BS_FIELD_HAVE_MMAP 1
#endif
#endif

/* "omp simd" is a request for speed, not for correctness: clang warns when
 * it cannot honour one (it cannot under ASan/UBSan instrumentation), and
 * with -Werror that would fail the sanitizer build. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* Kernels built for AVX2 and for the baseline, chosen when the program
 * loads (see "Instruction sets" above). Off under the sanitizers, whose
 * start-up the load-time choice would run ahead of, and where not
 * supported; define BS_FIELD_NO_CLONES to switch it off. The sweep is
 * bound by arithmetic more than by memory at the sizes that fit in cache:
 * AVX2 makes it about 1.7x faster on a 2-core AMD EPYC (bench/README.md). */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(BS_FIELD_NO_CLONES) &&                                 \
        !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_UNDEFINED__)
#if __has_attribute(target_clones)
#define BS_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#if defined(__has_feature) && !defined(BS_FIELD_NO_CLONES)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#undef BS_CLONES
#endif
#endif
#ifndef BS_CLONES
#define BS_CLONES
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

/* Packed sites per activity chunk (2x as many lattice sites across). 64
 * floats are eight AVX2 vectors, so the activity test (five loads) costs
 * little next to a chunk's work, while a local change (a cell, a
 * resorption pit and the tens of sites its signal spreads over) still
 * wakes only a few chunks across. On the homeostasis scenario (250 and
 * 512 sites wide) 32 to 128 ran within noise of each other and 16 was
 * slower (more test overhead than relaxations saved). */
#define BS_CHUNK 64

/* The sweep works on BS_LANES floats at a time (one AVX2 vector, two SSE
 * vectors). Packed rows start BS_LANES floats into their stride and the
 * stride is a multiple of BS_LANES, so every row's first site is aligned and
 * a row can be swept in whole vectors: the slots past its last site are
 * ghosts whose coefficients are all 0, so an update leaves them as they are. */
#define BS_LANES 8

/* Rows are dealt to the threads in blocks of BS_ROW_BLOCK, round robin,
 * for the per-solve pass, the sweeps and the write-back (the same rows go
 * to the same thread in all three, so a row's data stays in its cache).
 * Contiguous halves would leave one thread idle while a local change is
 * being relaxed in the other's half: on the homeostasis scenario the
 * relaxations split 85:100 between two threads that way, 97:100 with
 * blocks of 8 rows, and blocks this size still keep most neighbouring
 * rows on the same thread. */
#define BS_ROW_BLOCK 8

/* Sub-arrays of the scratch start on 64-byte boundaries (a cache line), so
 * packed rows start on aligned data more often and no two arrays share a
 * line. */
#define BS_ALIGN 64
/* A chunk stays in the sweeps while it or a neighbour changes by at least
 * BS_WAKE x tol. With 1 (the stopping threshold itself) regions froze
 * while a slow mode was still creeping through them: on the homeostasis
 * scenario OPG then took 5x the sweeps and ended 1.4x further from the
 * converged answer. With 1/4 the answers matched those of full sweeps
 * (largest error per field within 2%) for 40% of the relaxations. */
#define BS_WAKE 0.25

/* What the cached conductances and omega estimate were built from. */
typedef struct {
    int g_valid; /* this field's caches were built from conductances for key (held in its set, bs_work.gs) */
    int r_valid; /* blk kinds, r_fast/r_slow match key, tissue and fixed copies */
    double key[BS_TISSUE_COUNT + 3]; /* D, D_factor[], boundary, h_um */
    float r_fast, r_slow; /* bs_auto_omega's distances, in blocks */
    int z_valid; /* row_z flags hold for z_key */
    float z_key[3]; /* 1/dt, decay and omega the per-site scales were built with */
} bs_cache;

/* The scratch: this header, then the arrays it points to, in one block. */
typedef struct {
    int w, h;
    int stride; /* packed row length in floats: BS_LANES, then (w+1)/2 sites and ghosts */
    int bw, bh; /* coarse blocks for the omega estimate */
    int nck; /* activity chunks per row */
    bs_cache cache;
    /* The conductances (g_e, g_n below point into it) and the copy of the
     * tissue map they were built from, with its record of which rows
     * changed when: shared by fields (bs_field_share_conductances), else
     * this field's own (see "Shared conductances" above). */
    struct bs_field_gset *gs;
    struct bs_field_tissue *trk;
    uint64_t seen; /* trk->epoch when this field's own caches last caught up with the tissue */
    uint8_t *fixed; /* w*h: the Dirichlet map the cached blk kinds were built from */
    uint8_t *row_t; /* h: row's tissue changed since this field's last solve (trk->row_epoch > seen) */
    uint8_t *row_f; /* h: row's Dirichlet map differs from the copy (this solve) */
    uint8_t *brow; /* bh: block row changed kind (this solve) */
    uint8_t *row_z; /* h: row's scale and sink were built with no uptake and no held site */
    /* 1: laid out for a field whose inputs are the shared zero block
     * (BS_PART_ZERO): fixed is that block (no copy: the map never changes)
     * and sink[0] = sink[1] is one row of stride floats, the sink every
     * site has (1/dt + k, no uptake), filled at the start of each solve */
    int zero_inputs;
    /* cached G_f per colour of the east (x+1) and north (y+1) faces, row y
     * at y*stride + BS_LANES; a site's west and south faces are the east
     * face of its west neighbour and the north face of the one below,
     * which lie in the other colour (see "Conductances" above). g_e rows
     * keep the domain edge's west face in the slot before their first
     * site; g_n has a row -1 (its pointer starts one stride into its
     * block) holding the south edge faces of row 0. */
    float *g_e[2], *g_n[2];
    float *pc[2]; /* packed c per colour: row y at (y+1)*stride + BS_LANES, ghosts around */
    float *wsc[2]; /* omega_i / diag, or 0 where the value must not change */
    float *rhs[2]; /* c_old/dt + s */
    float *sink[2]; /* 1/dt + k + u (zero_inputs: one row for all rows, both colours) */
    float *blk; /* 2*bw*bh: coarse block kinds, then distances */
    /* largest change per chunk (float bits), h*nck each: after the colour-0
     * half-sweep, and after both colours of a sweep (two, by parity) */
    uint32_t *chg0;
    uint32_t *chg[2];
    double *rsum; /* 2*h: per row, sums of the residual r - q c and of q (live sites) */
    /* Where pc, rhs, chg0, chg and rsum come from: NULL, this block; else
     * a slot of a pool shared by several fields (bs_field_share_scratch),
     * bound at the start of each solve. */
    struct bs_field_pool *pool;
} bs_work;

/* Which arrays bs_work_layout places: the cached ones (kept from solve to
 * solve, with the header) and the per-solve ones (written before they are
 * read in every solve, so fields solved one after another may share
 * them). */
enum { BS_PART_CACHED = 1, BS_PART_SOLVE = 2, BS_PART_ALL = 3, BS_PART_ZERO = 4 /* with CACHED: see zero_inputs */ };

/* Per-solve arrays shared by fields solved one after another: one slot per
 * thread that may solve at once, each guarded by a lock (a thread beyond
 * the slots, e.g. after the thread count was raised, waits for its slot:
 * slower, never different). Freed with the last field that uses it. */
typedef struct bs_field_pool {
    int refs, nslots, w, h;
    size_t slot_bytes;
    unsigned char *mem; /* nslots * slot_bytes, BS_ALIGN-aligned */
#ifdef _OPENMP
    omp_lock_t *locks;
#endif
} bs_field_pool;

/* The zero block behind the uptake, fixed and fixed_val of fields that
 * share it: `bytes` of zeros, read-only where mapped (mmap PROT_READ; its
 * pages all map the system's zero page, no memory), else from calloc
 * (writable: nothing then stops a stray write, but nothing writes).
 * Freed with the last field that uses it. */
typedef struct bs_field_zero {
    int refs;
    int mapped;
    size_t bytes;
    void *mem;
} bs_field_zero;

/* The copy of the tissue map behind the cached conductances of one or
 * more fields, and when each row last changed: `epoch` counts the syncs
 * (bs_tissue_sync) that found a row of the lattice different from the
 * copy, and row_epoch[y] is the epoch of the last one that changed row y.
 * A field or conductance set that caught up at epoch e needs the rows
 * with row_epoch > e (and their neighbours) redone. Freed with the last
 * field that uses it. */
typedef struct bs_field_tissue {
    int refs, w, h;
    int valid; /* copy holds the map of a sync (0 before the first) */
    uint64_t epoch;
    uint8_t *copy; /* w*h */
    uint64_t *row_epoch; /* h */
#ifdef _OPENMP
    omp_lock_t lock;
#endif
} bs_field_tissue;

/* Cached conductances, shared by the fields with the same diffusivities,
 * boundary and lattice (the key): built for tissue epoch `built`.
 * Freed with the last field that uses it. */
typedef struct bs_field_gset {
    int refs;
    int g_valid; /* the arrays hold key's conductances for epoch `built` */
    double key[BS_TISSUE_COUNT + 3];
    uint64_t built;
    float *g_e[2], *g_n[2]; /* as in bs_work */
    void *mem;
#ifdef _OPENMP
    omp_lock_t lock;
#endif
} bs_field_gset;

static size_t bs_round_up(size_t n)
{
    return (n + BS_ALIGN - 1) / BS_ALIGN * BS_ALIGN;
}

/* Lays the conductance arrays of a w x h field out from base (or only
 * measures them when base is NULL); returns their size in bytes. */
static size_t bs_gset_layout(float *g_e[2], float *g_n[2], int w, int h, unsigned char *base)
{
    const size_t stride = BS_LANES + ((size_t)(w + 1) / 2 + 1 + BS_LANES - 1) / BS_LANES * BS_LANES;
    const size_t coef = (size_t)h * stride * sizeof(float);
    size_t off = 0;
    for (int q = 0; q < 2; ++q) {
        g_e[q] = base ? (float *)(void *)(base + off) : NULL;
        off += bs_round_up(coef);
        /* g_n has a row -1 before row 0 (see bs_work) */
        g_n[q] = base ? (float *)(void *)(base + off) + stride : NULL;
        off += bs_round_up(coef + stride * sizeof(float));
    }
    return off;
}

/* Lays the scratch out from base (or only measures it when base is NULL);
 * returns its size in bytes. Used by init, to size it and to place the
 * arrays once. */
static size_t bs_work_layout(bs_work *wk, int w, int h, unsigned char *base, int parts)
{
    const size_t n = (size_t)w * (size_t)h;
    wk->w = w;
    wk->h = h;
    wk->stride = BS_LANES + ((w + 1) / 2 + 1 + BS_LANES - 1) / BS_LANES * BS_LANES;
    wk->bw = (w + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
    wk->bh = (h + BS_OMEGA_BLOCK - 1) / BS_OMEGA_BLOCK;
    wk->nck = ((w + 1) / 2 + BS_CHUNK - 1) / BS_CHUNK;
    size_t off = parts & BS_PART_CACHED ? bs_round_up(sizeof(bs_work)) : 0;
    int part = BS_PART_CACHED;
    const int zero = (parts & BS_PART_CACHED) && (parts & BS_PART_ZERO);
    if (parts & BS_PART_CACHED) wk->zero_inputs = zero;
#define BS_TAKE(ptr, type, bytes)                                                                                      \
    do {                                                                                                               \
        if (parts & part) {                                                                                            \
            (ptr) = base ? (type)(void *)(base + off) : NULL;                                                          \
            off += bs_round_up(bytes);                                                                                 \
        }                                                                                                              \
    } while (0)
    if (zero)
        wk->fixed = NULL; /* the caller points it at the zero block */
    else
        BS_TAKE(wk->fixed, uint8_t *, n);
    BS_TAKE(wk->row_t, uint8_t *, (size_t)h);
    BS_TAKE(wk->row_f, uint8_t *, (size_t)h);
    BS_TAKE(wk->brow, uint8_t *, (size_t)wk->bh);
    BS_TAKE(wk->row_z, uint8_t *, (size_t)h);
    const size_t packed = (size_t)(h + 2) * (size_t)wk->stride * sizeof(float);
    const size_t coef = (size_t)h * (size_t)wk->stride * sizeof(float);
    for (int q = 0; q < 2; ++q) {
        BS_TAKE(wk->wsc[q], float *, coef);
        if (!zero) BS_TAKE(wk->sink[q], float *, coef);
    }
    if (zero) {
        BS_TAKE(wk->sink[0], float *, (size_t)wk->stride * sizeof(float));
        wk->sink[1] = wk->sink[0];
    }
    BS_TAKE(wk->blk, float *, 2 * (size_t)wk->bw * (size_t)wk->bh * sizeof(float));
    part = BS_PART_SOLVE;
    for (int q = 0; q < 2; ++q) {
        BS_TAKE(wk->pc[q], float *, packed);
        BS_TAKE(wk->rhs[q], float *, coef);
    }
    const size_t chunks = (size_t)h * (size_t)wk->nck * sizeof(uint32_t);
    BS_TAKE(wk->chg0, uint32_t *, chunks);
    BS_TAKE(wk->chg[0], uint32_t *, chunks);
    BS_TAKE(wk->chg[1], uint32_t *, chunks);
    BS_TAKE(wk->rsum, double *, 2 * (size_t)h * sizeof(double));
#undef BS_TAKE
    return off;
}

/* A zeroed block of `bytes` on a BS_ALIGN boundary. From calloc, which
 * maps large blocks as zero pages the kernel makes resident only when
 * written, so scratch a solve never touches (or a block set up and freed
 * at once) costs no memory; aligned_alloc + memset wrote every page. The
 * raw pointer sits just before the aligned one (calloc's alignment is at
 * least 16, so there is room). */
static void *bs_zalloc(size_t bytes)
{
    unsigned char *raw = calloc(1, bytes + BS_ALIGN);
    if (!raw) return NULL;
    unsigned char *p = raw + (BS_ALIGN - (uintptr_t)raw % BS_ALIGN);
    memcpy(p - sizeof raw, &raw, sizeof raw);
    return p;
}

static void bs_zfree(void *p)
{
    if (!p) return;
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof raw, sizeof raw);
    free(raw);
}

/* A tissue copy for w x h fields, invalid until the first sync; NULL when
 * out of memory. */
static bs_field_tissue *bs_tissue_new(int w, int h)
{
    bs_field_tissue *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->copy = calloc((size_t)w * (size_t)h, 1);
    t->row_epoch = calloc((size_t)h, sizeof *t->row_epoch);
    if (!t->copy || !t->row_epoch) {
        free(t->copy);
        free(t->row_epoch);
        free(t);
        return NULL;
    }
    t->refs = 1;
    t->w = w;
    t->h = h;
#ifdef _OPENMP
    omp_init_lock(&t->lock);
#endif
    return t;
}

static void bs_tissue_release(bs_field_tissue *t)
{
    if (!t || --t->refs > 0) return;
#ifdef _OPENMP
    omp_destroy_lock(&t->lock);
#endif
    free(t->copy);
    free(t->row_epoch);
    free(t);
}

static size_t bs_tissue_bytes(int w, int h)
{
    return (size_t)w * (size_t)h + (size_t)h * sizeof(uint64_t) + sizeof(bs_field_tissue);
}

/* A conductance set for w x h fields, invalid (built at the first solve);
 * NULL when out of memory. */
static bs_field_gset *bs_gset_new(int w, int h)
{
    bs_field_gset *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->mem = bs_zalloc(bs_gset_layout(g->g_e, g->g_n, w, h, NULL));
    if (!g->mem) {
        free(g);
        return NULL;
    }
    bs_gset_layout(g->g_e, g->g_n, w, h, g->mem);
    g->refs = 1;
#ifdef _OPENMP
    omp_init_lock(&g->lock);
#endif
    return g;
}

static void bs_gset_release(bs_field_gset *g)
{
    if (!g || --g->refs > 0) return;
#ifdef _OPENMP
    omp_destroy_lock(&g->lock);
#endif
    bs_zfree(g->mem);
    free(g);
}

static size_t bs_gset_bytes(int w, int h)
{
    float *e[2], *n[2];
    return bs_gset_layout(e, n, w, h, NULL) + sizeof(bs_field_gset);
}

/* Points wk's conductance arrays at its set's. */
static void bs_work_bind_gset(bs_work *wk, bs_field_gset *g)
{
    wk->gs = g;
    for (int q = 0; q < 2; ++q) {
        wk->g_e[q] = g->g_e[q];
        wk->g_n[q] = g->g_n[q];
    }
}

size_t bs_field_work_bytes(int w, int h)
{
    bs_work wk;
    return w < 1 || h < 1 ? 0
                          : bs_work_layout(&wk, w, h, NULL, BS_PART_ALL) + bs_gset_bytes(w, h) + bs_tissue_bytes(w, h);
}

size_t bs_field_work_bytes_shared(int w, int h, int nfields, int slots)
{
    bs_work wk;
    if (w < 1 || h < 1 || nfields < 1) return 0;
    if (slots < 1) return (size_t)nfields * bs_field_work_bytes(w, h);
    return (size_t)nfields *
            (bs_work_layout(&wk, w, h, NULL, BS_PART_CACHED) + bs_gset_bytes(w, h) + bs_tissue_bytes(w, h)) +
            (size_t)slots * bs_work_layout(&wk, w, h, NULL, BS_PART_SOLVE) + sizeof(bs_field_pool);
}

size_t bs_field_conductance_bytes(int w, int h)
{
    return w < 1 || h < 1 ? 0 : bs_gset_bytes(w, h);
}

size_t bs_field_tissue_copy_bytes(int w, int h)
{
    return w < 1 || h < 1 ? 0 : bs_tissue_bytes(w, h);
}

bs_status bs_field_init(bs_field *f, const bs_field_spec *spec, int w, int h, float initial, bs_error *err)
{
    memset(f, 0, sizeof *f);
    if (!spec) return bs_fail(err, BS_ERR_INVALID, "field: no spec given");
    const char *name = spec->name ? spec->name : "(unnamed)";
    if (w < 1 || h < 1 || w > 65536 || h > 65536)
        return bs_fail(
                err, BS_ERR_INVALID, "field %s: grid %d x %d is out of range (valid: 1 .. 65536 per side)", name, w, h);
    if (!(spec->D_um2_per_s >= 0.0))
        return bs_fail(err, BS_ERR_INVALID, "field %s: diffusivity %g um^2/s is invalid (valid: >= 0)", name,
                spec->D_um2_per_s);
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        if (!(spec->D_factor[t] >= 0.0))
            return bs_fail(err, BS_ERR_INVALID, "field %s: D_factor[%d] = %g is invalid (valid: >= 0)", name, t,
                    spec->D_factor[t]);
    if (!(spec->decay_per_h >= 0.0))
        return bs_fail(err, BS_ERR_INVALID, "field %s: decay %g /h is invalid (valid: >= 0)", name, spec->decay_per_h);
    if (spec->boundary != BS_BC_ZERO_FLUX && spec->boundary != BS_BC_FIXED)
        return bs_fail(err, BS_ERR_INVALID, "field %s: boundary kind %d is invalid (valid: 0 zero-flux, 1 fixed)", name,
                (int)spec->boundary);

    size_t n = (size_t)w * (size_t)h;
    /* Zeroed, padding included: bs_work_layout sets the sizes and pointers
     * only, and this header is copied over the zeroed scratch below, so an
     * uninitialised cache here would be the solver's cache (a garbage key
     * equal to the real one would skip a rebuild). */
    bs_work wk;
    memset(&wk, 0, sizeof wk);
    size_t bytes = bs_work_layout(&wk, w, h, NULL, BS_PART_ALL);
    f->spec = *spec;
    f->w = w;
    f->h = h;
    /* a field starting at +0 (most of the model's) comes zeroed from
     * calloc, whose large blocks take memory only where written: a field
     * no solve or rule ever writes costs no resident memory (issue 19) */
    const int zero_start = initial == 0.0f && !signbit(initial);
    f->c = zero_start ? calloc(n, sizeof(float)) : malloc(n * sizeof(float));
    f->src = calloc(n, sizeof(float));
    f->uptake = calloc(n, sizeof(float));
    f->fixed = calloc(n, 1);
    f->fixed_val = calloc(n, sizeof(float));
    f->work = bs_zalloc(bytes);
    bs_field_gset *gs = bs_gset_new(w, h);
    bs_field_tissue *trk = bs_tissue_new(w, h);
    if (!f->c || !f->src || !f->uptake || !f->fixed || !f->fixed_val || !f->work || !gs || !trk) {
        bs_gset_release(gs);
        bs_tissue_release(trk);
        bs_field_free(f);
        return bs_fail(err, BS_ERR_NOMEM, "field %s: out of memory for a %d x %d grid", name, w, h);
    }
    /* zeroed: the cache starts invalid, and every scratch float is finite
     * before the first solve writes it */
    bs_work_layout(&wk, w, h, f->work, BS_PART_ALL);
    bs_work_bind_gset(&wk, gs);
    wk.trk = trk;
    memcpy(f->work, &wk, sizeof wk);
    if (!zero_start)
        for (size_t i = 0; i < n; ++i) f->c[i] = initial;
    return BS_OK;
}

static void bs_pool_release(bs_field_pool *pool)
{
    if (!pool || --pool->refs > 0) return;
#ifdef _OPENMP
    for (int i = 0; i < pool->nslots && pool->locks; ++i) omp_destroy_lock(&pool->locks[i]);
    free(pool->locks);
#endif
    bs_zfree(pool->mem);
    free(pool);
}

bs_status bs_field_share_scratch(bs_field *fields, int n, int slots, bs_error *err)
{
    if (!fields || n < 1 || slots < 1)
        return bs_fail(
                err, BS_ERR_INVALID, "field scratch: %d fields and %d slots (valid: at least 1 of each)", n, slots);
    const int w = fields[0].w, h = fields[0].h;
    for (int i = 0; i < n; ++i) {
        const bs_work *wk = fields[i].work;
        if (!wk || fields[i].w != w || fields[i].h != h || wk->pool)
            return bs_fail(err, BS_ERR_INVALID,
                    "field scratch: field %d is not an initialised %d x %d field with its own scratch", i, w, h);
    }
    bs_work probe;
    memset(&probe, 0, sizeof probe);
    const size_t slot_bytes = bs_work_layout(&probe, w, h, NULL, BS_PART_SOLVE);
    bs_field_pool *pool = calloc(1, sizeof *pool);
    void *blocks[64] = { 0 };
    int ok = pool && n <= 64;
    if (ok) {
        pool->nslots = slots;
        pool->w = w;
        pool->h = h;
        pool->slot_bytes = slot_bytes;
        pool->mem = bs_zalloc((size_t)slots * slot_bytes);
        ok = pool->mem != NULL;
#ifdef _OPENMP
        pool->locks = malloc((size_t)slots * sizeof *pool->locks);
        ok = ok && pool->locks;
#endif
    }
    /* a field with shared zero inputs keeps its zero_inputs layout */
    for (int i = 0; ok && i < n; ++i) {
        const int zparts = ((const bs_work *)fields[i].work)->zero_inputs ? BS_PART_ZERO : 0;
        ok = (blocks[i] = bs_zalloc(bs_work_layout(&probe, w, h, NULL, BS_PART_CACHED | zparts))) != NULL;
    }
    if (!ok) {
        for (int i = 0; i < n; ++i) bs_zfree(blocks[i]);
        if (pool) {
#ifdef _OPENMP
            free(pool->locks);
#endif
            bs_zfree(pool->mem);
        }
        free(pool);
        return bs_fail(err, n > 64 ? BS_ERR_INVALID : BS_ERR_NOMEM,
                n > 64 ? "field scratch: %d fields (valid: at most 64)" : "field scratch: out of memory for %d fields",
                n);
    }
#ifdef _OPENMP
    for (int i = 0; i < slots; ++i) omp_init_lock(&pool->locks[i]);
#endif
    /* Fresh scratch with every cache invalid (the first solve rebuilds
     * them; cached values equal recomputed ones, so no result changes). */
    for (int i = 0; i < n; ++i) {
        bs_work wk;
        memset(&wk, 0, sizeof wk);
        const int zparts = ((const bs_work *)fields[i].work)->zero_inputs ? BS_PART_ZERO : 0;
        bs_work_layout(&wk, w, h, blocks[i], BS_PART_CACHED | zparts);
        if (zparts) wk.fixed = (uint8_t *)fields[i].zero->mem;
        wk.pool = pool;
        bs_work_bind_gset(&wk, ((const bs_work *)fields[i].work)->gs);
        wk.trk = ((const bs_work *)fields[i].work)->trk;
        memcpy(blocks[i], &wk, sizeof wk);
        bs_zfree(fields[i].work);
        fields[i].work = blocks[i];
    }
    pool->refs = n;
    return BS_OK;
}

/* Points wk's per-solve arrays at slot i of its pool. */
static void bs_pool_bind(bs_work *wk, int i)
{
    bs_work tmp;
    const bs_field_pool *pool = wk->pool;
    bs_work_layout(&tmp, wk->w, wk->h, pool->mem + (size_t)i * pool->slot_bytes, BS_PART_SOLVE);
    for (int q = 0; q < 2; ++q) {
        wk->pc[q] = tmp.pc[q];
        wk->rhs[q] = tmp.rhs[q];
    }
    wk->chg0 = tmp.chg0;
    wk->chg[0] = tmp.chg[0];
    wk->chg[1] = tmp.chg[1];
    wk->rsum = tmp.rsum;
}


static void bs_zero_release(bs_field_zero *z)
{
    if (!z || --z->refs > 0) return;
#if defined(BS_FIELD_HAVE_MMAP)
    if (z->mapped) {
        munmap(z->mem, z->bytes);
        free(z);
        return;
    }
#endif
    free(z->mem);
    free(z);
}

/* Whether n bytes at p are all zero. */
static int bs_bytes_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned char acc = 0;
    for (size_t i = 0; i < n; ++i) acc |= b[i];
    return acc == 0;
}

/* Gives f a fresh, zeroed scratch block laid out for zero inputs (zero: 1,
 * fixed pointing at f->zero's block) or not: every cache starts invalid
 * and the first solve rebuilds them (cached values equal recomputed ones,
 * so no result changes). Keeps the per-solve pool f shares, if any.
 * Returns 0 (f unchanged) when out of memory. */
static int bs_work_relayout(bs_field *f, int zero)
{
    const bs_work *old = f->work;
    bs_field_pool *pool = old ? old->pool : NULL;
    const int parts = (pool ? BS_PART_CACHED : BS_PART_ALL) | (zero ? BS_PART_ZERO : 0);
    bs_work wk;
    memset(&wk, 0, sizeof wk);
    void *blk = bs_zalloc(bs_work_layout(&wk, f->w, f->h, NULL, parts));
    if (!blk) return 0;
    bs_work_layout(&wk, f->w, f->h, blk, parts);
    wk.pool = pool;
    bs_work_bind_gset(&wk, old->gs);
    wk.trk = old->trk;
    if (zero) wk.fixed = (uint8_t *)f->zero->mem;
    memcpy(blk, &wk, sizeof wk);
    bs_zfree(f->work);
    f->work = blk;
    return 1;
}

bs_status bs_field_share_zero_inputs(bs_field *fields, int n, bs_error *err)
{
    if (!fields || n < 1) return bs_fail(err, BS_ERR_INVALID, "field zero inputs: %d fields (valid: at least 1)", n);
    const int w = fields[0].w, h = fields[0].h;
    const size_t sites = (size_t)w * (size_t)h;
    for (int i = 0; i < n; ++i) {
        const bs_field *f = &fields[i];
        const char *name = f->spec.name ? f->spec.name : "(unnamed)";
        if (!f->c || f->w != w || f->h != h || f->zero)
            return bs_fail(err, BS_ERR_INVALID,
                    "field zero inputs: field %d (%s) is not an initialised %d x %d field with its own inputs", i, name,
                    w, h);
        if (!bs_bytes_zero(f->uptake, sites * sizeof(float)) || !bs_bytes_zero(f->fixed, sites) ||
                !bs_bytes_zero(f->fixed_val, sites * sizeof(float)))
            return bs_fail(err, BS_ERR_INVALID,
                    "field zero inputs: field %d (%s) has a non-zero uptake, Dirichlet flag or held value", i, name);
    }
    bs_field_zero *z = calloc(1, sizeof *z);
    if (!z) return bs_fail(err, BS_ERR_NOMEM, "field zero inputs: out of memory");
    z->bytes = sites * sizeof(float);
#if defined(BS_FIELD_HAVE_MMAP)
    void *p = mmap(NULL, z->bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        z->mem = p;
        z->mapped = 1;
    }
#endif
    if (!z->mem) z->mem = calloc(sites, sizeof(float));
    if (!z->mem) {
        free(z);
        return bs_fail(err, BS_ERR_NOMEM, "field zero inputs: out of memory for a %d x %d grid", w, h);
    }
    for (int i = 0; i < n; ++i) {
        bs_field *f = &fields[i];
        free(f->uptake);
        free(f->fixed);
        free(f->fixed_val);
        f->uptake = z->mem;
        f->fixed = z->mem;
        f->fixed_val = z->mem;
        f->zero = z;
    }
    z->refs = n;
    /* and the solver's scratch without the Dirichlet map's copy and with
     * one sink row (bs_work.zero_inputs): 5 bytes per site fewer. Out of
     * memory here leaves a field the layout it had, which works with
     * shared inputs too. */
    for (int i = 0; i < n; ++i)
        if (fields[i].work && !bs_work_relayout(&fields[i], 1))
            return bs_fail(err, BS_ERR_NOMEM, "field zero inputs: out of memory for a %d x %d grid", w, h);
    return BS_OK;
}

size_t bs_field_work_bytes_zero_saved(int w, int h)
{
    bs_work wk;
    if (w < 1 || h < 1) return 0;
    return bs_work_layout(&wk, w, h, NULL, BS_PART_CACHED) -
            bs_work_layout(&wk, w, h, NULL, BS_PART_CACHED | BS_PART_ZERO);
}

int bs_field_inputs_shared(const bs_field *f)
{
    return f && f->zero != NULL;
}

size_t bs_field_zero_block_bytes(const bs_field *f)
{
    return f && f->zero ? f->zero->bytes : 0;
}

bs_status bs_field_own_inputs(bs_field *f, bs_error *err)
{
    if (!f || !f->zero) return BS_OK;
    const size_t n = (size_t)f->w * (size_t)f->h;
    float *u = calloc(n, sizeof(float));
    uint8_t *fx = calloc(n, 1);
    float *fv = calloc(n, sizeof(float));
    if (!u || !fx || !fv) {
        free(u);
        free(fx);
        free(fv);
        return bs_fail(
                err, BS_ERR_NOMEM, "field %s: out of memory for its inputs", f->spec.name ? f->spec.name : "(unnamed)");
    }
    /* scratch with its own copy of the Dirichlet map and sinks per site
     * again, before the block its fixed points at may go */
    if (f->work && ((const bs_work *)f->work)->zero_inputs && !bs_work_relayout(f, 0)) {
        free(u);
        free(fx);
        free(fv);
        return bs_fail(err, BS_ERR_NOMEM, "field %s: out of memory for its scratch",
                f->spec.name ? f->spec.name : "(unnamed)");
    }
    bs_zero_release(f->zero);
    f->zero = NULL;
    f->uptake = u;
    f->fixed = fx;
    f->fixed_val = fv;
    return BS_OK;
}

void bs_field_free(bs_field *f)
{
    if (!f) return;
    free(f->c);
    free(f->src);
    if (f->zero) {
        bs_zero_release(f->zero);
        f->zero = NULL;
    } else {
        free(f->uptake);
        free(f->fixed);
        free(f->fixed_val);
    }
    if (f->work) {
        bs_pool_release(((bs_work *)f->work)->pool);
        bs_gset_release(((bs_work *)f->work)->gs);
        bs_tissue_release(((bs_work *)f->work)->trk);
    }
    bs_zfree(f->work);
    f->c = f->src = f->uptake = f->fixed_val = NULL;
    f->fixed = NULL;
    f->work = NULL;
}

/* What cached conductances depend on besides the tissue: D, D_factor[],
 * boundary, h_um. */
static void bs_conductance_key(const bs_field_spec *sp, double h_um, double key[BS_TISSUE_COUNT + 3])
{
    key[0] = sp->D_um2_per_s;
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) key[1 + t] = sp->D_factor[t];
    key[BS_TISSUE_COUNT + 1] = (double)sp->boundary;
    key[BS_TISSUE_COUNT + 2] = h_um;
}

static int bs_key_same(const double *a, const double *b)
{
    int same = 1;
    for (int j = 0; j < BS_TISSUE_COUNT + 3; ++j) same = same && a[j] == b[j];
    return same;
}

bs_status bs_field_share_conductances(bs_field *fields, int n, bs_error *err)
{
    if (!fields || n < 1 || n > 64)
        return bs_fail(err, BS_ERR_INVALID, "field conductances: %d fields (valid: 1 .. 64)", n);
    const int w = fields[0].w, h = fields[0].h;
    for (int i = 0; i < n; ++i) {
        const bs_work *wk = fields[i].work;
        if (!wk || fields[i].w != w || fields[i].h != h || !wk->gs || !wk->trk || wk->gs->refs != 1 ||
                wk->trk->refs != 1)
            return bs_fail(err, BS_ERR_INVALID,
                    "field conductances: field %d is not an initialised %d x %d field with conductances of its own", i,
                    w, h);
    }
    /* which set each field joins: the first field with its key (h_um is
     * the lattice's, the same for all: left out here, checked per solve) */
    int lead[64];
    for (int i = 0; i < n; ++i) {
        double ki[BS_TISSUE_COUNT + 3], kj[BS_TISSUE_COUNT + 3];
        bs_conductance_key(&fields[i].spec, 0.0, ki);
        lead[i] = i;
        for (int j = 0; j < i && lead[i] == i; ++j) {
            bs_conductance_key(&fields[j].spec, 0.0, kj);
            if (bs_key_same(ki, kj)) lead[i] = lead[j];
        }
    }
    /* nothing can fail from here: the sets and the copy are the fields'
     * own, handed over; every cache starts invalid (the first solve
     * rebuilds them, with the same values) */
    bs_field_tissue *trk = ((bs_work *)fields[0].work)->trk;
    trk->valid = 0;
    for (int i = 0; i < n; ++i) {
        bs_work *wk = fields[i].work;
        wk->cache.g_valid = 0;
        wk->cache.r_valid = 0;
        wk->cache.z_valid = 0;
        wk->seen = 0;
        if (i > 0) {
            bs_tissue_release(wk->trk);
            wk->trk = trk;
            trk->refs++;
        }
        if (lead[i] != i) {
            bs_field_gset *g = ((bs_work *)fields[lead[i]].work)->gs;
            bs_gset_release(wk->gs);
            bs_work_bind_gset(wk, g);
            g->refs++;
        }
        wk->gs->g_valid = 0;
        wk->gs->built = 0;
    }
    return BS_OK;
}

int bs_field_conductance_sets(const bs_field *fields, int n)
{
    int sets = 0;
    for (int i = 0; i < n; ++i) {
        const bs_work *wi = fields[i].work;
        int first = 1;
        for (int j = 0; j < i && first; ++j) first = ((const bs_work *)fields[j].work)->gs != wi->gs;
        sets += first;
    }
    return sets;
}

/* Brings the tissue copy up to date with lat (see bs_field_tissue): rows
 * that differ are copied and stamped with a new epoch. Under the copy's
 * lock (fields solved at once may share it); rows compared by nthreads. */
static void bs_tissue_sync(bs_field_tissue *t, const bs_lattice *lat, int nthreads)
{
    const int w = t->w, h = t->h;
#ifdef _OPENMP
    omp_set_lock(&t->lock);
#endif
    const uint64_t next = t->epoch + 1;
    int any = 0;
    if (!t->valid) {
        memcpy(t->copy, lat->tissue, (size_t)w * (size_t)h);
        for (int y = 0; y < h; ++y) t->row_epoch[y] = next;
        t->valid = 1;
        any = 1;
    } else {
#pragma omp parallel for schedule(static) reduction(| : any) num_threads(nthreads) if (nthreads > 1)
        for (int y = 0; y < h; ++y) {
            const size_t r = (size_t)y * (size_t)w;
            if (memcmp(t->copy + r, lat->tissue + r, (size_t)w) != 0) {
                memcpy(t->copy + r, lat->tissue + r, (size_t)w);
                t->row_epoch[y] = next;
                any = 1;
            }
        }
    }
    if (any) t->epoch = next;
#ifdef _OPENMP
    omp_unset_lock(&t->lock);
#endif
}

/* Whether row y or a row beside it changed after epoch e. */
static inline int bs_rows_changed(const bs_field_tissue *t, int y, uint64_t e)
{
    return t->row_epoch[y] > e || (y > 0 && t->row_epoch[y - 1] > e) || (y < t->h - 1 && t->row_epoch[y + 1] > e);
}

/* Everything the setup passes need, shared read-only by the threads. */
typedef struct {
    const bs_field *f;
    const uint8_t *tissue;
    bs_work *wk;
    float g_pair[BS_TISSUE_COUNT][BS_TISSUE_COUNT]; /* face conductance, 1/h */
    float g_edge[BS_TISSUE_COUNT]; /* domain-edge face, 1/h */
    float inv_dt; /* 0 for quasi-steady */
    float decay;
    float ghost; /* value behind the domain edge */
    uint8_t kind[BS_TISSUE_COUNT]; /* BS_KIND_* of each tissue class */
    int z_same; /* 1/dt, decay, omega as in z_key, and no full conductance rebuild */
} bs_prep;

/* Tissue class as a table index. The lattice guarantees valid classes; an
 * invalid byte is read as marrow rather than indexing out of the tables. */
static inline int bs_cls(uint8_t t)
{
    return t < BS_TISSUE_COUNT ? (int)t : (int)BS_TISSUE_MARROW;
}

/* Builds the cached conductances of row y (both colours) and records the
 * row's tissue. Table look-ups per face; runs only where the tissue changed. */
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
        const size_t j = (size_t)y * S + BS_LANES + (size_t)(x >> 1);
        const int t = bs_cls(t_row[x]);
        const float *gp = p->g_pair[t];
        const float ge = p->g_edge[t];
        const float g0 = x > 0 ? gp[bs_cls(t_row[x - 1])] : ge;
        const float g1 = x < w - 1 ? gp[bs_cls(t_row[x + 1])] : ge;
        const float g2 = t_lo ? gp[bs_cls(t_lo[x])] : ge;
        const float g3 = t_hi ? gp[bs_cls(t_hi[x])] : ge;
        /* G is symmetric to the bit (g_pair[t][u] == g_pair[u][t]), so
         * the neighbours' faces that the sweep reads as g0 and g2 hold
         * these same g0 and g2: only the domain edge's faces need a slot */
        if (x == 0) wk->g_e[q ^ 1][j - 1] = g0;
        if (y == 0) (wk->g_n[q ^ 1] - S)[j] = g2; /* the halo row before row 0 (g_n points one row in) */
        wk->g_e[q][j] = g1;
        wk->g_n[q][j] = g3;
    }
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
static inline void bs_site_setup(float c, float fval, uint8_t fixed, float src, float upt, float gsum, float inv_dt,
        float decay, float inv_omega, float *wsc, float *rhs, float *pc)
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
    *pc = fixed ? fval : c; /* the sink q is written by the caller (bs_sink_row) */
}

/* Builds the packed values, their ghosts and the per-solve data of row y
 * for relaxation factor omega; both colours in one pass, so each input is
 * read once. */
/* The arrays one half-sweep of colour q over row y works on. */
typedef struct {
    float *restrict cur;
    const float *restrict cw, *restrict ce, *restrict cs, *restrict cn;
    const float *restrict g0, *restrict g1, *restrict g2, *restrict g3;
    const float *restrict wsc, *restrict rhs, *restrict sink;
} bs_row_ptrs;

static inline bs_row_ptrs bs_row_arrays(const bs_work *wk, int q, int y)
{
    const size_t S = (size_t)wk->stride;
    const int o = (q + y) & 1;
    const float *oth = wk->pc[q ^ 1] + (size_t)(y + 1) * S + BS_LANES;
    const size_t r = (size_t)y * S + BS_LANES;
    bs_row_ptrs p = {
        .cur = wk->pc[q] + (size_t)(y + 1) * S + BS_LANES,
        .cw = oth + o - 1,
        .ce = oth + o,
        .cs = oth - S,
        .cn = oth + S,
        .g0 = wk->g_e[q ^ 1] + r + o - 1,
        .g1 = wk->g_e[q] + r,
        .g2 = wk->g_n[q ^ 1] + r - S,
        .g3 = wk->g_n[q] + r,
        .wsc = wk->wsc[q] + r,
        .rhs = wk->rhs[q] + r,
        .sink = wk->zero_inputs ? wk->sink[q] + BS_LANES : wk->sink[q] + r,
    };
    return p;
}

/* Sums over the live sites (scale > 0) of row y, both colours, of the
 * residual without the fluxes, r - q c, and of the sink q, into rs[0..1].
 * BS_LANES running sums, added in a fixed order: the same bits whichever
 * kernel runs. */
BS_CLONES static void bs_row_sums(const bs_work *wk, int y, double *rs)
{
    double ar[BS_LANES] = { 0 }, aq[BS_LANES] = { 0 };
    for (int q = 0; q < 2; ++q) {
        const int o = (q + y) & 1;
        const int nv = ((wk->w - o + 1) / 2 + BS_LANES - 1) / BS_LANES * BS_LANES;
        const bs_row_ptrs p = bs_row_arrays(wk, q, y);
        for (int kb = 0; kb < nv; kb += BS_LANES) {
#pragma omp simd
            for (int j = 0; j < BS_LANES; ++j) {
                const int k = kb + j;
                /* both conversions made unconditionally, then the dead
                 * sites' terms zeroed by a bit mask: a select (live ? r :
                 * 0.0) left control flow that kept GCC from vectorising
                 * this loop (issue 19: it was 15% of a homeostasis run, as
                 * much as the sweeps); the same sums to the bit */
                const uint64_t keep = 0 - (uint64_t)(p.wsc[k] > 0.0f);
                const double r = (double)(p.rhs[k] - p.sink[k] * p.cur[k]);
                const double qd = (double)p.sink[k];
                uint64_t rb, qb;
                memcpy(&rb, &r, sizeof rb);
                memcpy(&qb, &qd, sizeof qb);
                rb &= keep;
                qb &= keep;
                double rm, qm;
                memcpy(&rm, &rb, sizeof rm);
                memcpy(&qm, &qb, sizeof qm);
                ar[j] += rm;
                aq[j] += qm;
            }
        }
    }
    double a = 0.0, b = 0.0;
    for (int j = 0; j < BS_LANES; ++j) {
        a += ar[j];
        b += aq[j];
    }
    rs[0] = a;
    rs[1] = b;
}

/* What row y (w sites) has: bit 0 some uptake, bit 1 some held site. */
static int bs_row_kinds(const bs_field *f, int y, int w)
{
    const size_t r = (size_t)y * (size_t)w;
    const float *u = f->uptake + r;
    const uint8_t *fx = f->fixed + r;
    int up = 0, held = 0;
    for (int x = 0; x < w; ++x) {
        up |= u[x] != 0.0f;
        held |= fx[x] != 0;
    }
    return up | held << 1;
}

BS_CLONES static int bs_prepare_row_data(const bs_prep *p, int y, float omega)
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
    const size_t rj = (size_t)y * S + BS_LANES;
    /* the four faces of the even and odd sites (see "Conductances"): their
     * sum, the diagonal's conductance part, is formed here rather than
     * cached (4 bytes per site per field fewer; the same bits as the sum
     * bs_conductance_row formed when it was cached) */
    const float *restrict e0w = wk->g_e[q1] + rj - 1, *restrict e0 = wk->g_e[q0] + rj;
    const float *restrict n0s = wk->g_n[q1] + rj - S, *restrict n0 = wk->g_n[q0] + rj;
    const float *restrict e1w = wk->g_e[q0] + rj, *restrict e1 = wk->g_e[q1] + rj;
    const float *restrict n1s = wk->g_n[q0] + rj - S, *restrict n1 = wk->g_n[q1] + rj;
    float *restrict w0 = wk->wsc[q0] + rj;
    float *restrict w1 = wk->wsc[q1] + rj;
    float *restrict r0 = wk->rhs[q0] + rj;
    float *restrict r1 = wk->rhs[q1] + rj;
    float *restrict pc0 = wk->pc[q0] + (size_t)(y + 1) * S + BS_LANES;
    float *restrict pc1 = wk->pc[q1] + (size_t)(y + 1) * S + BS_LANES;
    const float inv_dt = p->inv_dt, decay = p->decay, inv_omega = 1.0f / omega;

    if (y == 0)
        for (size_t k = 0; k < S; ++k) wk->pc[0][k] = wk->pc[1][k] = ghost;
    if (y == h - 1)
        for (size_t k = 0; k < S; ++k) wk->pc[0][(size_t)(h + 1) * S + k] = wk->pc[1][(size_t)(h + 1) * S + k] = ghost;
    /* ghost slots: before the first site of each colour and after the last */
    for (ptrdiff_t k = -BS_LANES; k < 0; ++k) pc0[k] = pc1[k] = ghost;
    for (size_t k = (size_t)(w + 1) / 2; k + BS_LANES < S; ++k) pc0[k] = ghost;
    for (size_t k = (size_t)w / 2; k + BS_LANES < S; ++k) pc1[k] = ghost;

    /* BS_LANES even/odd pairs at a time: the bulk of the row straight from
     * the inputs (a whole number of vectors, so no scalar remainder runs),
     * then the last, partial group from a staging copy in which the sites
     * past the row's end are held at the ghost value, which makes their
     * slots inert (scale 0, value = ghost: see BS_LANES) */
    /* A plain row (no uptake, no held site) whose scales and sinks were
     * built plain, for the same 1/dt, decay and omega, from conductances
     * not rebuilt since, has them already: only c_old/dt + s and the
     * packed value (c itself: nothing is held) change. */
    const int kinds = bs_row_kinds(f, y, w);
    const int plain = kinds == 0;
    const uint8_t *rt = wk->row_t;
    const int same = p->z_same && wk->row_z[y] && plain && !rt[y] && !(y > 0 && rt[y - 1]) && !(y < h - 1 && rt[y + 1]);
    wk->row_z[y] = (uint8_t)plain;
    const int ne = (w + 1) / 2;
    if (same) {
#pragma omp simd
        for (int k = 0; k < w / 2; ++k) {
            r0[k] = c[2 * k] * inv_dt + src[2 * k];
            pc0[k] = c[2 * k];
            r1[k] = c[2 * k + 1] * inv_dt + src[2 * k + 1];
            pc1[k] = c[2 * k + 1];
        }
        if (w & 1) {
            r0[w / 2] = c[w - 1] * inv_dt + src[w - 1];
            pc0[w / 2] = c[w - 1];
        }
        return kinds;
    }
    const int kmain = w / 2 / BS_LANES * BS_LANES;
#pragma omp simd
    for (int k = 0; k < kmain; ++k) {
        const int x = 2 * k;
        const float gs0k = (e0w[k] + e0[k]) + (n0s[k] + n0[k]);
        const float gs1k = (e1w[k] + e1[k]) + (n1s[k] + n1[k]);
        bs_site_setup(c[x], fv[x], fx[x], src[x], upt[x], gs0k, inv_dt, decay, inv_omega, &w0[k], &r0[k], &pc0[k]);
        bs_site_setup(c[x + 1], fv[x + 1], fx[x + 1], src[x + 1], upt[x + 1], gs1k, inv_dt, decay, inv_omega, &w1[k],
                &r1[k], &pc1[k]);
    }
    for (int kb = kmain; kb < ne; kb += BS_LANES) {
        float tc[2 * BS_LANES], tv[2 * BS_LANES], ts[2 * BS_LANES], tu[2 * BS_LANES];
        uint8_t tf[2 * BS_LANES];
        for (int i = 0; i < 2 * BS_LANES; ++i) {
            const int x = 2 * kb + i;
            const int in = x < w;
            tc[i] = in ? c[x] : 0.0f;
            tv[i] = in ? fv[x] : ghost;
            ts[i] = in ? src[x] : 0.0f;
            tu[i] = in ? upt[x] : 0.0f;
            tf[i] = in ? fx[x] : 1;
        }
        for (int i = 0; i < BS_LANES; ++i) {
            const int k = kb + i;
            const float gs0k = (e0w[k] + e0[k]) + (n0s[k] + n0[k]);
            const float gs1k = (e1w[k] + e1[k]) + (n1s[k] + n1[k]);
            bs_site_setup(tc[2 * i], tv[2 * i], tf[2 * i], ts[2 * i], tu[2 * i], gs0k, inv_dt, decay, inv_omega, &w0[k],
                    &r0[k], &pc0[k]);
            bs_site_setup(tc[2 * i + 1], tv[2 * i + 1], tf[2 * i + 1], ts[2 * i + 1], tu[2 * i + 1], gs1k, inv_dt,
                    decay, inv_omega, &w1[k], &r1[k], &pc1[k]);
        }
    }
    /* the sinks q = 1/dt + k + u of both colours, the slots past the row's
     * end with u = 0 (as staged above); a zero_inputs field has one row of
     * them for all rows (bs_fill_sink_row) */
    if (!wk->zero_inputs) {
        float *restrict s0 = wk->sink[q0] + rj;
        float *restrict s1 = wk->sink[q1] + rj;
#pragma omp simd
        for (int k = 0; k < kmain; ++k) {
            s0[k] = inv_dt + decay + upt[2 * k];
            s1[k] = inv_dt + decay + upt[2 * k + 1];
        }
        for (int kb = kmain; kb < ne; kb += BS_LANES)
            for (int i = 0; i < BS_LANES; ++i) {
                const int k = kb + i, x = 2 * k;
                s0[k] = inv_dt + decay + (x < w ? upt[x] : 0.0f);
                s1[k] = inv_dt + decay + (x + 1 < w ? upt[x + 1] : 0.0f);
            }
    }
    return kinds;
}

/* The per-solve pass over row y; where the uniform correction may apply
 * (zero-flux edge, no held site in the row) it also sums the row's
 * residual while its data is in cache. Returns bs_row_kinds. */
static int bs_prepare_row(const bs_prep *p, int y, float omega)
{
    const int kinds = bs_prepare_row_data(p, y, omega);
    if (p->f->spec.boundary == BS_BC_ZERO_FLUX && !(kinds & 2)) bs_row_sums(p->wk, y, p->wk->rsum + 2 * (size_t)y);
    return kinds;
}

/* Coarse-block kinds for the omega estimate, by what dominates the block. */
enum {
    BS_KIND_NONE = 0, /* impermeable: every site its own equation */
    BS_KIND_SLOW = 1, /* permeable, but under half as much as marrow (bone) */
    BS_KIND_FAST = 2, /* marrow-like */
    BS_KIND_HELD = 3 /* holds a Dirichlet site */
};

/* Classifies the coarse blocks of one block row (see bs_auto_omega) and
 * records those rows of the Dirichlet map; returns 1 if a block changed
 * kind. Block rows are the unit of work so that exactly one thread writes
 * each entry. */
static int bs_classify_block_row(const bs_prep *p, int yb)
{
    const bs_work *wk = p->wk;
    const int w = wk->w, h = wk->h, bw = wk->bw;
    const uint8_t *fixed = p->f->fixed;
    float *cat = wk->blk + (size_t)yb * (size_t)bw;
    const int y0 = yb * BS_OMEGA_BLOCK;
    const int y1 = y0 + BS_OMEGA_BLOCK < h ? y0 + BS_OMEGA_BLOCK : h;
    int changed = 0;
    for (int bx = 0; bx < bw; ++bx) {
        int x1 = (bx + 1) * BS_OMEGA_BLOCK < w ? (bx + 1) * BS_OMEGA_BLOCK : w;
        int count[4] = { 0, 0, 0, 0 };
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
        changed |= cat[bx] != (float)k;
        cat[bx] = (float)k;
    }
    if (wk->fixed != fixed) /* zero_inputs: the map is the shared block itself */
        memcpy(wk->fixed + (size_t)y0 * (size_t)w, fixed + (size_t)y0 * (size_t)w, (size_t)(y1 - y0) * (size_t)w);
    return changed;
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
            if (bx > 0 && v[-1] + 1.0f < m) m = v[-1] + 1.0f;
            if (by > 0) {
                const float *u = v - bw;
                if (u[0] + 1.0f < m) m = u[0] + 1.0f;
                if (bx > 0 && u[-1] + diag < m) m = u[-1] + diag;
                if (bx < bw - 1 && u[1] + diag < m) m = u[1] + diag;
            }
            *v = m;
        }
    for (int by = bh - 1; by >= 0; --by)
        for (int bx = bw - 1; bx >= 0; --bx) {
            float *v = &d[(size_t)by * (size_t)bw + (size_t)bx];
            float m = *v;
            if (bx < bw - 1 && v[1] + 1.0f < m) m = v[1] + 1.0f;
            if (by < bh - 1) {
                const float *u = v + bw;
                if (u[0] + 1.0f < m) m = u[0] + 1.0f;
                if (bx > 0 && u[-1] + diag < m) m = u[-1] + diag;
                if (bx < bw - 1 && u[1] + diag < m) m = u[1] + diag;
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
        if ((int)cat[j] == over && d[j] > r) r = d[j];
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
static float bs_auto_omega(const bs_prep *p, float r_fast, float r_slow, float far, double d_ref, double h_um)
{
    float r = r_fast > r_slow ? r_fast : r_slow;
    double lambda = 0.0;
    if (r < 0.5f * far) {
        /* block distance to sites, plus half a block for where inside the
         * blocks the two ends lie (rounding R up, the safe direction) */
        double r_sites = ((double)r + 0.5) * BS_OMEGA_BLOCK;
        lambda = BS_OMEGA_SHAPE / (r_sites * r_sites);
    }
    if (!(d_ref > 0.0)) return 1.0f; /* no diffusion: every site is its own equation */
    double alpha = ((double)p->inv_dt + (double)p->decay) * h_um * h_um / d_ref;
    double rho = (4.0 - lambda) / (4.0 + alpha);
    if (rho < 0.0) rho = 0.0;
    double omega = 2.0 / (1.0 + sqrt(1.0 - rho * rho));
    /* keep omega - 1 (the contraction at and above the optimum) below 1 */
    if (omega > 1.99) omega = 1.99;
    if (omega < 1.0) omega = 1.0;
    return (float)omega;
}

/* One SOR half-sweep over packed sites k0 .. k1-1 of a row, k0 a multiple
 * of BS_LANES, k1 rounded up to one (the slots past the row's last site
 * are inert ghosts); returns the largest change (as the bits of a float
 * >= 0). */
static inline uint32_t bs_sweep_span(const bs_row_ptrs *p, int k0, int k1)
{
    float *restrict cur = p->cur;
    const float *restrict cw = p->cw, *restrict ce = p->ce, *restrict cs = p->cs, *restrict cn = p->cn;
    const float *restrict g0 = p->g0, *restrict g1 = p->g1, *restrict g2 = p->g2, *restrict g3 = p->g3;
    const float *restrict wsc = p->wsc, *restrict rhs = p->rhs, *restrict sink = p->sink;
    /* The largest change is kept as the bits of |change|: for floats >= 0
     * they order like the values, and an integer max is a reduction every
     * compiler vectorises (clang will not vectorise a float max without
     * -ffast-math). A NaN orders above everything, so it is reported and
     * blocks convergence rather than hiding. */
    uint32_t ml[BS_LANES] = { 0 };
    for (int kb = k0; kb < k1; kb += BS_LANES) {
#pragma omp simd
        for (int j = 0; j < BS_LANES; ++j) {
            const int k = kb + j;
            const float c0 = cur[k];
            const float flux =
                    g0[k] * (cw[k] - c0) + g1[k] * (ce[k] - c0) + g2[k] * (cs[k] - c0) + g3[k] * (cn[k] - c0);
            const float c1 = c0 + wsc[k] * ((rhs[k] - sink[k] * c0) + flux);
            cur[k] = c1;
            /* the change actually stored (exact): a step below half an ulp
             * of c changes nothing and must not hold off convergence */
            const float ch = fabsf(c1 - c0);
            uint32_t bits;
            memcpy(&bits, &ch, sizeof bits);
            ml[j] = bits > ml[j] ? bits : ml[j];
        }
    }
    uint32_t m = 0;
    for (int j = 0; j < BS_LANES; ++j) m = ml[j] > m ? ml[j] : m;
    return m;
}

/* Half-sweep of colour q over row y, chunk by chunk. prev (NULL in the
 * first sweep: all chunks) holds the largest change per chunk of the
 * previous sweep; a chunk is swept if it or a 4-neighbour chunk changed by
 * wake or more. Writes the largest change per chunk to out[] (0 for a chunk
 * not swept), or, when with0 is given, the larger of that and with0[] (the
 * colour-0 half-sweep of this sweep). Returns the row's largest change and
 * adds the sites relaxed to *count. */
BS_CLONES static uint32_t bs_sweep_row(const bs_work *wk, int q, int y, const uint32_t *prev, uint32_t wake,
        const uint32_t *with0, uint32_t *out, uint64_t *count)
{
    const int o = (q + y) & 1;
    const int n = (wk->w - o + 1) / 2;
    const int nck = wk->nck, h = wk->h;
    const size_t row = (size_t)y * (size_t)nck;
    const bs_row_ptrs ptr = bs_row_arrays(wk, q, y);
    uint32_t m = 0;
    uint64_t done = 0;
    for (int c = 0; c < nck; ++c) {
        const int k0 = c * BS_CHUNK;
        const int k1 = k0 + BS_CHUNK < n ? k0 + BS_CHUNK : n;
        uint32_t r = 0;
        int active = k0 < k1;
        if (active && prev) {
            const uint32_t *p = prev + row + (size_t)c;
            active = p[0] >= wake || (c > 0 && p[-1] >= wake) || (c < nck - 1 && p[1] >= wake) ||
                    (y > 0 && p[-nck] >= wake) || (y < h - 1 && p[nck] >= wake);
        }
        if (active) {
            r = bs_sweep_span(&ptr, k0, (k1 + BS_LANES - 1) / BS_LANES * BS_LANES);
            done += (uint64_t)(k1 - k0);
            m = r > m ? r : m;
        }
        if (with0) r = with0[row + (size_t)c] > r ? with0[row + (size_t)c] : r;
        out[row + (size_t)c] = r;
    }
    *count += done;
    return m;
}

/* Adds alpha to every live site of row y. */
BS_CLONES static void bs_row_shift(const bs_work *wk, int y, float alpha)
{
    for (int q = 0; q < 2; ++q) {
        const int n = (wk->w - ((q + y) & 1) + 1) / 2;
        const bs_row_ptrs p = bs_row_arrays(wk, q, y);
        float *restrict cur = p.cur;
        const float *restrict wsc = p.wsc;
#pragma omp simd
        for (int k = 0; k < n; ++k) cur[k] += wsc[k] > 0.0f ? alpha : 0.0f;
    }
}

/* Writes row y of the packed solution back to c. */
BS_CLONES static void bs_unpack_row(const bs_work *wk, float *c, int y)
{
    const size_t S = (size_t)wk->stride;
    const int w = wk->w;
    const float *p0 = wk->pc[y & 1] + (size_t)(y + 1) * S + BS_LANES; /* even x */
    const float *p1 = wk->pc[(y + 1) & 1] + (size_t)(y + 1) * S + BS_LANES; /* odd x */
    float *row = c + (size_t)y * (size_t)w;
    const int pairs = w / 2;
#pragma omp simd
    for (int k = 0; k < pairs; ++k) {
        row[2 * k] = p0[k];
        row[2 * k + 1] = p1[k];
    }
    if (w & 1) row[w - 1] = p0[pairs];
}

/* Does the solve have the answer 0 everywhere, which c already holds? True
 * when c and s are +0 everywhere, every held site holds +0, the domain
 * edge is zero-flux or held at 0, and every uptake is finite (a NaN or inf
 * would turn 0 into NaN, which the solve must report). The scan stops at
 * the first non-zero value, so a live field costs next to nothing. */
/* OR of the bits of n floats, in blocks, stopping at the first block with
 * a non-zero bit. */
BS_CLONES static uint32_t bs_any_bits(const float *restrict v, size_t n)
{
    const size_t step = 4096;
    for (size_t i0 = 0; i0 < n; i0 += step) {
        const size_t i1 = i0 + step < n ? i0 + step : n;
        uint32_t any = 0;
#pragma omp simd reduction(| : any)
        for (size_t i = i0; i < i1; ++i) {
            uint32_t b;
            memcpy(&b, &v[i], sizeof b);
            any |= b;
        }
        if (any) return any;
    }
    return 0;
}

/* Non-zero when an uptake is not finite or a held site holds anything but
 * +0. A kernel of its own, built for AVX2 too (issue 19: inlined in
 * bs_solve with the baseline's 16-byte vectors it was 4% of a homeostasis
 * run, which scans its four all-zero fields every step). */
BS_CLONES static uint32_t bs_bad_bits(
        const float *restrict u, const float *restrict v, const uint8_t *restrict fx, size_t n)
{
    uint32_t bad = 0;
#pragma omp simd reduction(| : bad)
    for (size_t i = 0; i < n; ++i) {
        uint32_t ub, vb;
        memcpy(&ub, &u[i], sizeof ub);
        memcpy(&vb, &v[i], sizeof vb);
        bad |= (uint32_t)((ub & 0x7f800000u) == 0x7f800000u) | (fx[i] ? vb : 0u);
    }
    return bad;
}

/* The per-site part of the skip hash (see "Skipping settled solves") over
 * sites i0 .. i1-1 of the flat grid. */
BS_CLONES static uint64_t bs_hash_span(const bs_field *f, const uint8_t *restrict tissue, size_t i0, size_t i1)
{
    const float *restrict c = f->c, *restrict s = f->src, *restrict u = f->uptake, *restrict v = f->fixed_val;
    const uint8_t *restrict fx = f->fixed;
    uint64_t acc = 0;
#pragma omp simd reduction(+ : acc)
    for (size_t i = i0; i < i1; ++i) {
        /* the float bits, read as memcpy does (no aliasing through a cast) */
        uint32_t cb, sb, ub, vb;
        memcpy(&cb, &c[i], sizeof cb);
        memcpy(&sb, &s[i], sizeof sb);
        memcpy(&ub, &u[i], sizeof ub);
        memcpy(&vb, &v[i], sizeof vb);
        const uint32_t k = (uint32_t)i * 0x9E3779B1u;
        const uint64_t a = (uint64_t)(cb ^ (k + 0x7F4A7C15u)) * (uint64_t)(sb ^ (k ^ 0x85EBCA77u));
        const uint64_t b = (uint64_t)(ub ^ (k + 0xC2B2AE3Du)) * (uint64_t)(vb ^ (k ^ 0x27D4EB2Fu));
        const uint64_t t = (uint64_t)(((uint32_t)fx[i] | (uint32_t)tissue[i] << 8) ^ (k + 0x165667B1u)) *
                (uint64_t)((k ^ 0xD3A2646Cu) | 1u);
        acc += a + b + t;
    }
    return acc;
}

/* 64-bit finaliser (SplitMix64's). */
static uint64_t bs_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t bs_mix_double(uint64_t h, double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return bs_mix64(h ^ b);
}

/* The skip hash of field f now: the per-site sum over the grid (rows
 * shared among nthreads; the sum is exact in any order) mixed with the
 * solve's settings. */
static uint64_t bs_skip_hash(
        const bs_field *f, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt, int nthreads)
{
    const bs_field_spec *sp = &f->spec;
    uint64_t h = bs_mix64(0x5EEDF1E1Dull ^ (uint64_t)f->w << 32 ^ (uint64_t)f->h);
    h = bs_mix_double(h, sp->quasi_steady ? 0.0 : dt_h);
    h = bs_mix_double(h, sp->D_um2_per_s);
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) h = bs_mix_double(h, sp->D_factor[t]);
    h = bs_mix_double(h, sp->decay_per_h);
    h = bs_mix_double(h, (double)sp->quasi_steady + 2.0 * (double)sp->boundary);
    h = bs_mix_double(h, sp->boundary_value);
    h = bs_mix_double(h, sp->scale);
    h = bs_mix_double(h, lat->h_um);
    h = bs_mix_double(h, opt->tol);
    h = bs_mix_double(h, opt->omega);
    h = bs_mix_double(h, (double)opt->max_iters);
    const size_t n = (size_t)f->w * (size_t)f->h;
    const size_t block = 16384;
    const long nb = (long)((n + block - 1) / block);
    uint64_t sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum) num_threads(nthreads) if (nthreads > 1)
    for (long b = 0; b < nb; ++b) {
        const size_t i0 = (size_t)b * block;
        sum += bs_hash_span(f, lat->tissue, i0, i0 + block < n ? i0 + block : n);
    }
    return bs_mix64(h ^ sum);
}

static int bs_all_zero(const bs_field *f)
{
    const bs_field_spec *sp = &f->spec;
    if (sp->boundary == BS_BC_FIXED && (sp->boundary_value != 0.0 || signbit(sp->boundary_value))) return 0;
    if (!isfinite(sp->D_um2_per_s) || !isfinite(sp->decay_per_h)) return 0;
    const size_t n = (size_t)f->w * (size_t)f->h;
    /* c first: a live field is non-zero almost everywhere, so this ends at
     * once for it */
    if (bs_any_bits(f->c, n) || bs_any_bits(f->src, n)) return 0;
    /* on the shared zero block (read-only zeros) no uptake and no held
     * site can be anything but +0: nothing to scan */
    if (f->zero) return 1;
    return !bs_bad_bits(f->uptake, f->fixed_val, f->fixed, n);
}

/* The one sink row of a zero_inputs field: every site's q = 1/dt + k + u
 * with u = 0, the same bits bs_prepare_row_data writes per site for a
 * field with its own inputs (the ghost slots' values only need to be
 * finite: their scale is 0). */
static void bs_fill_sink_row(bs_work *wk, float inv_dt, float decay)
{
    const float zero_uptake = 0.0f;
    for (int k = 0; k < wk->stride; ++k) wk->sink[0][k] = inv_dt + decay + zero_uptake;
}

static int bs_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* One solve on a team of nthreads (1: no parallel region work-sharing
 * beyond one thread, for bs_field_solve_many's field-level parallelism).
 * Notes to field.h: spec.scale <= 0 counts as 1; opt->omega outside (0, 2)
 * means automatic; max_iters < 1 counts as 1. A tolerance below a few ulp
 * of the field's largest values (tol * scale < ~4e-7 * max |c|) cannot be
 * met in float and runs to max_iters. */
static void bs_solve(bs_field *f, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt, int nthreads,
        int caller_thread, int synced)
{
    if (!f || !f->c || !f->work || !lat || !lat->tissue || !opt) return;
    f->last_iters = 0;
    f->last_change = 0.0f;
    f->last_site_updates = 0;
    /* Preconditions (checked by the callers' setup code); a violated one
     * leaves c untouched with last_iters = 0 rather than reading out of
     * bounds or dividing by zero. */
    if (lat->w != f->w || lat->h != f->h || !(lat->h_um > 0.0)) return;
    if (!f->spec.quasi_steady && !(dt_h > 0.0)) return;
    f->last_skipped = 0;
    if (bs_all_zero(f)) { /* the answer is 0, which c holds (see the file comment) */
        f->skip.armed = 0;
        return;
    }
    /* skipping settled solves (see the file comment) */
    const double skip_scale = f->spec.scale > 0.0 ? f->spec.scale : 1.0;
    const float budget = opt->skip_budget > 0.0 ? (float)(opt->skip_budget * opt->tol * skip_scale) : 0.0f;
    const int same = budget > 0.0f && f->skip.armed && bs_skip_hash(f, lat, dt_h, opt, nthreads) == f->skip.hash;
    if (same && f->skip.drift + f->skip.step <= budget) {
        f->skip.drift += f->skip.step;
        f->skip.skipped++;
        f->last_skipped = 1;
        return;
    }
    f->skip.armed = 0;
    /* With the inputs still the same, the solves skipped since the last one
     * left their time out, and this backward-Euler step covers it. Where
     * the inputs changed, it covers this step only: the time skipped under
     * the old inputs changed c by at most drift (<= the budget), which is
     * the error skipping admits. */
    const double dt_step = dt_h * (1.0 + (same && f->skip.skipped > 0 ? (double)f->skip.skipped : 0.0));

    const bs_field_spec *sp = &f->spec;
    const int w = f->w, h = f->h;
    bs_work *wk = f->work;
    const int pslot = wk->pool ? caller_thread % wk->pool->nslots : 0;
    if (wk->pool) {
#ifdef _OPENMP
        omp_set_lock(&wk->pool->locks[pslot]);
#endif
        bs_pool_bind(wk, pslot);
    }
    bs_cache *cache = &wk->cache;

    bs_prep p;
    p.f = f;
    p.z_same = 0;
    p.tissue = lat->tissue;
    p.wk = wk;
    p.inv_dt = sp->quasi_steady ? 0.0f : (float)(1.0 / dt_step);
    p.decay = (float)sp->decay_per_h;
    if (wk->zero_inputs) bs_fill_sink_row(wk, p.inv_dt, p.decay);
    /* + 0: a -0 boundary value becomes +0, so the inert ghost slots the
     * sweep passes over (c += 0) keep their bits */
    p.ghost = sp->boundary == BS_BC_FIXED ? (float)sp->boundary_value + 0.0f : 0.0f;
    const double h2 = lat->h_um * lat->h_um;
    double dt[BS_TISSUE_COUNT];
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) dt[t] = sp->D_um2_per_s * 3600.0 * sp->D_factor[t]; /* um^2/s -> um^2/h */
    for (int t = 0; t < BS_TISSUE_COUNT; ++t) {
        for (int u = 0; u < BS_TISSUE_COUNT; ++u)
            p.g_pair[t][u] = dt[t] > 0.0 && dt[u] > 0.0 ? (float)(2.0 * dt[t] * dt[u] / (dt[t] + dt[u]) / h2) : 0.0f;
        p.g_edge[t] = sp->boundary == BS_BC_FIXED ? (float)(2.0 * dt[t] / h2) : 0.0f;
    }
    /* the omega estimate is made for marrow, where nearly all the volume
     * is; if marrow is impermeable, for the most permeable class */
    double d_ref = dt[BS_TISSUE_MARROW];
    for (int t = 0; t < BS_TISSUE_COUNT && !(d_ref > 0.0); ++t)
        if (dt[t] > d_ref) d_ref = dt[t];
    for (int t = 0; t < BS_TISSUE_COUNT; ++t)
        p.kind[t] = !(dt[t] > 0.0) ? BS_KIND_NONE : dt[t] < 0.5 * d_ref ? BS_KIND_SLOW : BS_KIND_FAST;

    /* cache checks: what the conductances and the omega estimate depend on.
     * With the same key, only rows whose tissue (or, for omega, Dirichlet
     * map) differs from the copies are redone. */
    double key[BS_TISSUE_COUNT + 3];
    bs_conductance_key(sp, lat->h_um, key);
    /* g_all: this field's own caches (scales, omega estimate) start afresh */
    const int g_all = !(cache->g_valid && bs_key_same(key, cache->key));
    /* the tissue copy, then the conductance set: rebuilt whole for a new
     * key, else in the rows changed since it was built (see "Shared
     * conductances"); the set's lock is held until they are, so that a
     * field sharing it, solved at once, waits for them */
    bs_field_tissue *trk = wk->trk;
    bs_field_gset *gs = wk->gs;
    if (!synced) bs_tissue_sync(trk, lat, nthreads);
    const uint64_t epoch = trk->epoch, seen = wk->seen;
#ifdef _OPENMP
    omp_set_lock(&gs->lock);
#endif
    const int gs_all = !(gs->g_valid && bs_key_same(key, gs->key));
    const int gs_rows = !gs_all && gs->built != epoch;
    const uint64_t gs_built = gs->built;
    if (gs_all || gs_rows) {
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
        for (int y = 0; y < h; ++y)
            if (gs_all || bs_rows_changed(trk, y, gs_built)) bs_conductance_row(&p, y);
        gs->built = epoch;
        if (gs_all) {
            memcpy(gs->key, key, sizeof key);
            gs->g_valid = 1;
        }
    }
#ifdef _OPENMP
    omp_unset_lock(&gs->lock);
#endif
    const int auto_omega = !(opt->omega > 0.0 && opt->omega < 2.0);
    const int r_all = auto_omega && (g_all || !cache->r_valid);
    const int r_rows = auto_omega && !r_all;
    const float far = 1.0e30f;

    float omega = auto_omega ? 1.0f : (float)opt->omega;
    const double scale = sp->scale > 0.0 ? sp->scale : 1.0;
    const float thr = (float)(opt->tol * scale);
    uint32_t wake;
    const float wthr = thr * (float)BS_WAKE;
    memcpy(&wake, &wthr, sizeof wake);
    if (!(thr >= 0.0f)) wake = 0; /* a NaN tolerance: sweep everything (and never stop early) */
    const int max_it = opt->max_iters > 0 ? opt->max_iters : 1;
    /* Largest change of iteration it (as float bits, see bs_sweep_span)
     * collects in slot it & 1; the other slot is cleared mid-iteration,
     * after every thread has read it. */
    uint32_t slot[2] = { 0, 0 };
    int any_kind = 0;
    int iters = 0;
    float last = 0.0f;
    uint64_t updates = 0;
    int kinds = 0; /* bs_row_kinds of all rows */
    float shift = 0.0f; /* uniform correction */

#pragma omp parallel num_threads(nthreads)
    {
        if (!g_all) {
#pragma omp for schedule(static)
            for (int y = 0; y < h; ++y) {
                const size_t r = (size_t)y * (size_t)w;
                wk->row_t[y] = trk->row_epoch[y] > seen;
                wk->row_f[y] = r_rows && memcmp(wk->fixed + r, f->fixed + r, (size_t)w) != 0;
            }
        }
        if (auto_omega) {
#pragma omp for schedule(static) reduction(| : any_kind)
            for (int yb = 0; yb < wk->bh; ++yb) {
                int redo = r_all;
                for (int y = yb * BS_OMEGA_BLOCK; y < (yb + 1) * BS_OMEGA_BLOCK && y < h; ++y)
                    redo |= wk->row_t[y] | wk->row_f[y];
                if (redo) any_kind |= bs_classify_block_row(&p, yb);
            }
#pragma omp single
            {
                if (r_all || any_kind) {
                    cache->r_fast = bs_max_distance(wk, sp->boundary == BS_BC_FIXED, BS_KIND_HELD, BS_KIND_FAST, far);
                    cache->r_slow = bs_max_distance(wk, sp->boundary == BS_BC_FIXED, BS_KIND_FAST, BS_KIND_SLOW, far);
                }
                omega = bs_auto_omega(&p, cache->r_fast, cache->r_slow, far, d_ref, lat->h_um);
            }
        }
#pragma omp single
        p.z_same = cache->z_valid && !g_all && cache->z_key[0] == p.inv_dt && cache->z_key[1] == p.decay &&
                cache->z_key[2] == omega;
#pragma omp for schedule(static, BS_ROW_BLOCK) reduction(| : kinds)
        for (int y = 0; y < h; ++y) kinds |= bs_prepare_row(&p, y, omega);
#pragma omp single nowait
        {
            cache->z_key[0] = p.inv_dt;
            cache->z_key[1] = p.decay;
            cache->z_key[2] = omega;
        }

        /* uniform correction (see the file comment): with nothing held,
         * the Galerkin step for the constant vector */
        if (sp->boundary == BS_BC_ZERO_FLUX && !(kinds & 2)) {
#pragma omp single
            {
                double R = 0.0, Q = 0.0;
                for (int y = 0; y < h; ++y) {
                    R += wk->rsum[2 * (size_t)y];
                    Q += wk->rsum[2 * (size_t)y + 1];
                }
                shift = Q > 0.0 && isfinite(R / Q) ? (float)(R / Q) : 0.0f;
            }
            if (shift != 0.0f) {
#pragma omp for schedule(static, BS_ROW_BLOCK)
                for (int y = 0; y < h; ++y) bs_row_shift(wk, y, shift);
            }
        }

        int it = 0;
        float mx = 0.0f;
        uint64_t done = 0;
        while (it < max_it) {
            const uint32_t *prev = it > 0 ? wk->chg[(it + 1) & 1] : NULL;
            uint32_t *next = wk->chg[it & 1];
            uint32_t m = 0;
#pragma omp for schedule(static, BS_ROW_BLOCK)
            for (int y = 0; y < h; ++y) {
                uint32_t r = bs_sweep_row(wk, 0, y, prev, wake, NULL, wk->chg0, &done);
                m = r > m ? r : m;
            }
#pragma omp single nowait
            slot[(it + 1) & 1] = 0;
#pragma omp for schedule(static, BS_ROW_BLOCK) nowait
            for (int y = 0; y < h; ++y) {
                uint32_t r = bs_sweep_row(wk, 1, y, prev, wake, wk->chg0, next, &done);
                m = r > m ? r : m;
            }
#pragma omp critical(bs_field_max)
            {
                if (m > slot[it & 1]) slot[it & 1] = m;
            }
#pragma omp barrier
            memcpy(&mx, &slot[it & 1], sizeof mx);
            ++it;
            if (mx < thr) break;
        }
#pragma omp atomic
        updates += done;
        if (bs_thread_num() == 0) {
            iters = it;
            last = mx;
        }
#pragma omp for schedule(static, BS_ROW_BLOCK)
        for (int y = 0; y < h; ++y) bs_unpack_row(wk, f->c, y);
    }
    if (g_all) {
        memcpy(cache->key, key, sizeof key);
        cache->g_valid = 1;
    }
    /* explicit-omega solves leave the Dirichlet copy and block kinds
     * behind, so the next automatic one starts afresh */
    cache->r_valid = auto_omega;
    cache->z_valid = 1;
    wk->seen = epoch;
    f->last_iters = iters;
    f->last_change = last;
    f->last_site_updates = updates;
    /* arm the skip where the solve settled in its one sweep: its change,
     * shift included, bounds what the next would make */
    const float settled = fabsf(shift) + last;
    f->skip.drift = 0.0f;
    f->skip.skipped = 0;
    if (budget > 0.0f && iters == 1 && settled <= wthr && settled <= budget) {
        f->skip.step = settled;
        f->skip.hash = bs_skip_hash(f, lat, dt_h, opt, nthreads);
        f->skip.armed = 1;
    }
#ifdef _OPENMP
    if (wk->pool) omp_unset_lock(&wk->pool->locks[pslot]);
#endif
}

static int bs_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void bs_field_solve(bs_field *f, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt)
{
    bs_solve(f, lat, dt_h, opt, bs_max_threads(), bs_thread_num(), 0);
}

/* Whether fields that share a conductance set all have its key, so that
 * solving them at once never rebuilds the set under another's sweep (a
 * field whose D, D_factor or boundary changed after sharing; else they
 * are solved one after another: slower, never different). */
static int bs_sets_agree(const bs_field *fields, int n, const bs_lattice *lat)
{
    for (int i = 0; i < n; ++i) {
        const bs_work *wi = fields[i].work;
        if (!wi) continue;
        double ki[BS_TISSUE_COUNT + 3];
        bs_conductance_key(&fields[i].spec, lat->h_um, ki);
        for (int j = 0; j < i; ++j) {
            const bs_work *wj = fields[j].work;
            if (!wj || wj->gs != wi->gs) continue;
            double kj[BS_TISSUE_COUNT + 3];
            bs_conductance_key(&fields[j].spec, lat->h_um, kj);
            if (!bs_key_same(ki, kj)) return 0;
        }
    }
    return 1;
}

/* Syncs each tissue copy of fields[0 .. n-1] once (serial code). */
static void bs_sync_all(bs_field *fields, int n, const bs_lattice *lat, int nthreads)
{
    for (int i = 0; i < n; ++i) {
        const bs_work *wi = fields[i].work;
        if (!wi || !lat || !lat->tissue || lat->w != fields[i].w || lat->h != fields[i].h) continue;
        int first = 1;
        for (int j = 0; j < i && first; ++j)
            first = !fields[j].work || ((const bs_work *)fields[j].work)->trk != wi->trk;
        if (first) bs_tissue_sync(wi->trk, lat, nthreads);
    }
}

/* Sites per thread below which bs_field_solve_many gives each thread whole
 * fields instead of sharing every sweep: a sweep of a 250 x 250 field takes
 * ~30 us on one core, and with two threads its two barriers and the
 * setup's (each a few us, tens of us on a busy machine) cost more than
 * they save; from about a quarter of a million sites per thread the
 * sweeps are long enough, and the threads' caches hold their rows. */
#define BS_ROWS_SHARED_SITES 262144

static int by_field(int T, int n, const bs_lattice *lat)
{
    const double sites = lat ? (double)lat->w * (double)lat->h : 0.0;
    return !(T == 1 || n == 1 || n > 64 || sites >= (double)BS_ROWS_SHARED_SITES * T);
}

int bs_field_scratch_slots(int w, int h, int n, int threads)
{
    if (threads < 1) threads = 1;
    bs_lattice lat;
    memset(&lat, 0, sizeof lat);
    lat.w = w;
    lat.h = h;
    /* by_field is monotone in T: rows shared at `threads` means shared at
     * every count below it */
    return by_field(threads, n, &lat) ? threads : 1;
}

/* Largest expected cost first (the last solve's relaxations, plus the
 * per-solve pass), so the dynamic schedule balances: the order only
 * changes who solves what, never a result. */
static void cost_order(const bs_field *fields, int n, const bs_lattice *lat, int *order)
{
    const double sites = (double)lat->w * (double)lat->h;
    double cost[64];
    for (int i = 0; i < n; ++i) {
        cost[i] = (double)fields[i].last_site_updates + sites;
        int k = i;
        while (k > 0 && cost[order[k - 1]] < cost[i]) {
            order[k] = order[k - 1];
            --k;
        }
        order[k] = i;
    }
}

void bs_field_solve_many(bs_field *fields, int n, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt)
{
    if (!fields || n < 1) return;
    const int T = bs_max_threads();
    /* one tissue comparison per copy, not one per field */
    bs_sync_all(fields, n, lat, T);
    if (!by_field(T, n, lat) || !bs_sets_agree(fields, n, lat)) {
        for (int i = 0; i < n; ++i) bs_solve(&fields[i], lat, dt_h, opt, T, bs_thread_num(), 1);
        return;
    }
    int order[64] = { 0 };
    cost_order(fields, n, lat, order);
#pragma omp parallel for schedule(dynamic, 1) num_threads(T < n ? T : n)
    for (int k = 0; k < n; ++k) bs_solve(&fields[order[k]], lat, dt_h, opt, 1, bs_thread_num(), 1);
}

int bs_field_solve_many_in_team(const bs_field *fields, int n, const bs_lattice *lat, int *order)
{
    if (!fields || !lat || n < 1 || !by_field(bs_max_threads(), n, lat) || !bs_sets_agree(fields, n, lat)) return 0;
    cost_order(fields, n, lat, order);
    return 1;
}

void bs_field_solve_many_team(
        bs_field *fields, int n, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt, const int *order)
{
#pragma omp for schedule(dynamic, 1) nowait
    for (int k = 0; k < n; ++k) bs_solve(&fields[order[k]], lat, dt_h, opt, 1, bs_thread_num(), 0);
}
