/* field.h — reaction-diffusion fields on the lattice.
 *
 * Each field c (float per site) obeys
 *     dc/dt = div(D(x) grad c) - (k + u(x)) c + s(x)
 * with D per tissue class (bone much less permeable than marrow), decay k,
 * per-site first-order uptake u (cells) and secretion s (cells, tissue),
 * Dirichlet sites (fixed[i] != 0 -> c = fixed_val[i], e.g. vessel pO2) and
 * a domain boundary that is zero-flux or held at a fixed value.
 *
 * Time stepping is backward Euler over the agent step dt (unconditionally
 * stable at dt ~ 1 h, where an explicit step would need dt < 0.25 s), or,
 * for fast fields like O2, the quasi-steady state (dt -> infinity). The
 * linear system is solved by red-black successive over-relaxation,
 * warm-started from the previous solution, until the largest change in a
 * sweep falls below tol (relative to the field's scale) or max_iters; after
 * the first sweep, only regions still changing by about tol (and their
 * neighbours) are swept again, so a local change costs local work.
 * Red-black ordering makes the result independent of the thread count:
 * every site of one colour depends only on sites of the other colour.
 *
 * Units: lengths um, time h for s and u and k, D given in um^2/s. */
#ifndef BS_FIELD_H
#define BS_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "bs_status.h"
#include "lattice.h"

typedef enum { BS_BC_ZERO_FLUX = 0, BS_BC_FIXED = 1 } bs_boundary;

typedef struct {
    const char *name; /* "o2", "rankl", ... (column/legend name) */
    const char *unit; /* "mmHg", "nM", "1" (normalised) */
    double D_um2_per_s; /* diffusivity in marrow */
    double D_factor[BS_TISSUE_COUNT]; /* multiplies D per tissue class; bone << 1 */
    double decay_per_h; /* k */
    int quasi_steady; /* 1: solve steady state every step */
    bs_boundary boundary;
    double boundary_value; /* for BS_BC_FIXED */
    double scale; /* typical magnitude, for the relative tolerance */
} bs_field_spec;

/* Whether the next solve may be skipped (field.c "Skipping settled
 * solves"). State, not scratch: whether a step solves or skips changes
 * the bits of c, so a checkpoint keeps it. Zeroed by bs_field_init. */
typedef struct {
    uint64_t hash; /* of c, the inputs, the tissue and the solve's settings after the last solve */
    float step; /* bound on the change one more solve would make, field units */
    float drift; /* sum of step over the solves skipped since the last one */
    int32_t armed; /* 1: the last solve settled in one sweep; hash is valid */
    int32_t skipped; /* solves skipped since the last one (diagnostic) */
} bs_field_skip;

typedef struct {
    bs_field_spec spec;
    int w, h;
    float *c; /* concentration, w*h */
    float *src; /* secretion, unit/h, w*h: the caller fills it each step */
    float *uptake; /* first-order uptake, 1/h, w*h: the caller fills it each step */
    uint8_t *fixed; /* w*h: 1 = Dirichlet site */
    float *fixed_val; /* w*h */
    /* Solver scratch and caches (field.c; bs_field_work_bytes per field),
     * owned by the field: never state, since every cached value equals what
     * a fresh field would compute, so checkpoints leave it out. */
    void *work;
    /* diagnostics of the last solve */
    int last_iters; /* sweeps (0: none was needed, e.g. an all-zero field) */
    float last_change; /* largest |change| in the last sweep, in field units */
    uint64_t last_site_updates; /* site relaxations done (sweeps skip settled regions) */
    int last_skipped; /* 1: the last call skipped the solve (c unchanged) */
    bs_field_skip skip;
    /* Non-NULL: uptake, fixed and fixed_val are one read-only zero block
     * shared with other fields (bs_field_share_zero_inputs), not arrays of
     * this field's own: never write them (bs_field_own_inputs first). */
    struct bs_field_zero *zero;
} bs_field;

typedef struct {
    double tol; /* relative to spec.scale, e.g. 1e-4 */
    int max_iters; /* per solve */
    double omega; /* SOR factor in (0, 2); 0 = choose automatically */
    /* Skipping settled solves (field.c): a solve whose inputs are those of
     * the last one, which settled in one sweep, is skipped while the
     * summed bound on the changes left out stays within skip_budget x tol
     * x scale. 0 (the default of a zero-initialised struct): never skip. */
    double skip_budget;
} bs_solver_opts;

bs_status bs_field_init(bs_field *f, const bs_field_spec *spec, int w, int h, float initial, bs_error *err);
void bs_field_free(bs_field *f);

/* Bytes of solver scratch that bs_field_init allocates for a w x h field
 * on top of the five public arrays (for memory estimates). */
size_t bs_field_work_bytes(int w, int h);

/* Lets fields[0 .. n-1] (n <= 64, one lattice size, each initialised and
 * not yet sharing) share the solver's per-solve arrays (the packed values,
 * right-hand sides, per-chunk changes: about 2 floats per site), keeping
 * only what is cached from solve to solve (conductances, scales, sinks,
 * copies of the tissue and Dirichlet maps) per field. `slots` sets of
 * per-solve arrays are made, one per thread that may solve at once: give
 * the thread count bs_field_solve_many will run at. A thread whose number
 * is beyond the slots shares one with a lock: slower, never different.
 * Same results as unshared fields (the shared arrays are written before
 * they are read in every solve). Call at set-up, not per step (it
 * allocates). */
bs_status bs_field_share_scratch(bs_field *fields, int n, int slots, bs_error *err);

/* How many per-solve sets to give bs_field_share_scratch for n w x h
 * fields that bs_field_solve_many will solve at up to `threads` threads:
 * 1 where at every such count it shares each solve's rows among the
 * threads (at least about a quarter of a million sites per thread, or a
 * single field), since the solves then run one after another on the
 * caller's set; else `threads`, one per thread that may solve a whole
 * field at once (issue 19: 8 bytes per site per set fewer on large
 * lattices; a thread beyond the sets waits for one, never a different
 * result). */
int bs_field_scratch_slots(int w, int h, int n, int threads);

/* Scratch bytes of nfields w x h fields sharing `slots` per-solve sets
 * (slots < 1: each its own, nfields x bs_field_work_bytes). */
size_t bs_field_work_bytes_shared(int w, int h, int nfields, int slots);

/* Lets fields[0 .. n-1] (n <= 64, one lattice size, each initialised and
 * not yet sharing these) keep one copy of the tissue map and one record of
 * which rows changed when, instead of a copy each (1 byte per site per
 * field), and lets fields with the same diffusivity, D_factor[] and
 * boundary kind share one set of cached conductances (about 8 bytes per
 * site each: issue 19). A shared set is rebuilt by whichever field solves
 * first after the tissue changed, in the changed rows only, and read by
 * the others: the same values, so the same results. A field whose D,
 * D_factor or boundary is changed afterwards still gets its own right
 * answer (the set is rebuilt for it), but fields that share a set then
 * stop being solved at once (bs_field_solve_many solves them one after
 * another: slower, never different). May be called before or after the
 * other sharing calls; at set-up (the caches start afresh). */
bs_status bs_field_share_conductances(bs_field *fields, int n, bs_error *err);

/* How many distinct conductance sets fields[0 .. n-1] use (n without
 * bs_field_share_conductances). */
int bs_field_conductance_sets(const bs_field *fields, int n);

/* Bytes of one set of cached conductances and of one tissue copy with its
 * row record, for w x h fields (both included per field in
 * bs_field_work_bytes and bs_field_work_bytes_shared), for estimates of
 * what bs_field_share_conductances saves. */
size_t bs_field_conductance_bytes(int w, int h);
size_t bs_field_tissue_copy_bytes(int w, int h);

/* Memory for fields that have no uptake and no Dirichlet site (issue 19:
 * in the model, every field but O2): their uptake, fixed and fixed_val,
 * 9 bytes per site each, are all zero for the whole run. This points those
 * three arrays of fields[0 .. n-1] (one lattice size, each initialised,
 * those arrays all zero and not yet shared) at one zero block of w*h
 * floats and frees their own. The block is mapped read-only where the
 * system allows (a write then faults at once instead of reaching every
 * field that shares it) and its pages are the system's zero page, so it
 * takes address space, not memory. The solver reads the arrays as before:
 * the same results. Error (and nothing changed) if any of those arrays
 * holds a non-zero byte. Call at set-up. */
bs_status bs_field_share_zero_inputs(bs_field *fields, int n, bs_error *err);

/* Whether f's uptake, fixed and fixed_val are the shared zero block. */
int bs_field_inputs_shared(const bs_field *f);

/* Gives f its own zeroed uptake, fixed and fixed_val again (no-op when it
 * has them), for a caller about to write them, e.g. a checkpoint that
 * holds a non-zero uptake for the field. */
bs_status bs_field_own_inputs(bs_field *f, bs_error *err);

/* Bytes of the zero block f shares (0: none), for memory figures; every
 * field that shares it reports the same block. */
size_t bs_field_zero_block_bytes(const bs_field *f);

/* Bytes of solver scratch a w x h field gives up when its inputs become
 * shared (the Dirichlet map's copy and all but one row of sinks: about 5
 * bytes per site), for memory estimates. */
size_t bs_field_work_bytes_zero_saved(int w, int h);

/* Advances c over dt_h hours (or to steady state if quasi_steady) with the
 * current src/uptake/fixed arrays and the lattice's tissue classes. Uses
 * OpenMP inside; call from serial code. Does not allocate. */
void bs_field_solve(bs_field *f, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt);

/* Solves fields[0 .. n-1] over the same lattice and step, with the same
 * results as calling bs_field_solve on each in turn, at any thread count.
 * On small lattices it gives each thread whole fields (no barriers inside
 * a solve), on large ones it shares each solve's rows among the threads.
 * Uses OpenMP inside; call from serial code. Does not allocate. */
void bs_field_solve_many(bs_field *fields, int n, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt);

/* The same solves from inside a parallel region the caller opened, so that
 * work before them (a model step's sources) shares one region with them
 * (issue 19: fewer thread wake-ups per step). Possible only where
 * bs_field_solve_many gives each thread whole fields at the current
 * thread count: bs_field_solve_many_in_team says whether it does and, if
 * so, fills order[0 .. n-1] (n <= 64) with the order to solve them in.
 * Call it from serial code, before the region; every thread of the team
 * must then call bs_field_solve_many_team with that order, as the last
 * work of the region: it has no barrier of its own (the region's end is
 * one). Same results as bs_field_solve_many. */
int bs_field_solve_many_in_team(const bs_field *fields, int n, const bs_lattice *lat, int *order);
void bs_field_solve_many_team(
        bs_field *fields, int n, const bs_lattice *lat, double dt_h, const bs_solver_opts *opt, const int *order);

#endif
