/* sensitivity.h — sampling designs for `bonesim sweep --sample` and the
 * Morris analysis behind `bonesim sensitivity` (docs/sensitivity.md).
 *
 * A design is a list of points in the unit hypercube [0,1]^k, one
 * coordinate per sampled parameter; a parameter's value at a point is
 * lo + u * (hi - lo) over its range.
 *
 *  - lhs:N (Latin hypercube, McKay, Beckman & Conover 1979): each
 *    parameter's range is cut into N equal strata and every stratum holds
 *    exactly one of the N points; the pairing of strata across parameters
 *    is a random permutation per parameter, the position inside a stratum
 *    uniform.
 *  - morris:R (elementary effects, Morris 1991): R trajectories of k + 1
 *    points on a grid of `levels` levels per parameter (default 4). A
 *    trajectory starts at a random grid point and then moves one parameter
 *    at a time, in a random order, by +delta or -delta (whichever stays in
 *    [0,1]), delta = levels / (2 (levels - 1)). Each trajectory gives one
 *    elementary effect per parameter, EE = dy / du.
 *
 * Everything is a pure function of (seed, method, size, ranges): the
 * counter-based generator of rng.h, no state. */
#ifndef BS_SENSITIVITY_H
#define BS_SENSITIVITY_H

#include <stdint.h>
#include <stdio.h>

#include "params.h"

#define BS_SAMPLE_MAX_PARAMS 64
#define BS_SAMPLE_MAX_POINTS 100000

enum { BS_SAMPLE_LHS = 1, BS_SAMPLE_MORRIS = 2 };

typedef struct {
    char name[128];
    double lo, hi;
} bs_sample_range;

typedef struct {
    int method; /* BS_SAMPLE_LHS or BS_SAMPLE_MORRIS */
    long size; /* lhs: N points; morris: R trajectories */
    int levels; /* morris grid levels (even, >= 2) */
    double delta; /* morris step in unit coordinates */
    int nparams;
    bs_sample_range par[BS_SAMPLE_MAX_PARAMS];
    long npoints; /* lhs: N; morris: R * (k + 1) */
    double *unit; /* npoints x nparams, row-major, in [0, 1]; owned */
    int *changed; /* morris: parameter moved to reach this point, -1 at a trajectory's start; lhs: -1 */
    long replicates; /* runs per point in the sweep (written to design_ranges.csv; 0 means 1) */
} bs_design;

/* "lhs:N" or "morris:R"; errors name the valid forms. */
int bs_sample_parse(const char *spec, int *method, long *size, char *why, size_t whyn);

/* "section.key=LO:HI" or "section.key" (the registry's min:max). The
 * parameter must exist, be real-valued, and LO < HI within its registry
 * range. */
int bs_sample_range_parse(const bs_registry *reg, const char *arg, bs_sample_range *r, char *why, size_t whyn);

/* Fills d->unit and d->changed from d->method, size, levels, nparams and
 * par[]; 0 on success, -1 (why) on bad sizes or memory. */
int bs_design_build(bs_design *d, uint64_t seed, char *why, size_t whyn);
void bs_design_free(bs_design *d);

/* Value of parameter p at point i. */
double bs_design_value(const bs_design *d, long i, int p);

/* DIR/design.csv: point,method,trajectory,step,changed,<param>_unit...
 * (the unit coordinates, %.17g) and DIR/design_ranges.csv:
 * parameter,lo,hi,method,size,levels,delta,replicates. Both written atomically. The text of design.csv
 * is also returned by bs_design_text for --resume's "same design" check
 * (caller frees). */
char *bs_design_text(const bs_design *d);
int bs_design_write(const bs_design *d, const char *dir, char *why, size_t whyn);
/* Reads DIR/design.csv (and the ranges) back into d. */
int bs_design_read(bs_design *d, const char *dir, char *why, size_t whyn);

/* For `bonesim sweep`: from --sample SPEC, the --range arguments, --levels
 * (0: default) and the seed, builds the design (parameters checked against
 * the registry) and the value text (%.17g) of every parameter at every
 * point: (*strings)[p * npoints + i], pointing into one block that starts at
 * (*strings)[0] (free((*strings)[0]), then free(*strings)).
 * --range or --levels without --sample, or --sample without --range, are
 * errors. */
int bs_sweep_design(const char *sample, const char *const *ranges, int nranges, int levels, uint64_t seed, bs_design *d,
        char ***strings, char *why, size_t whyn);
/* Writes the design into the sweep folder dir, or (resume) checks that the
 * one there is the same; prints "bonesim sweep: ..." and returns -1 if not. */
int bs_sweep_design_check(const bs_design *d, const char *dir, int resume);

/* Morris statistics of one output: y[i] is the output at design point i
 * (NAN where the point has no result; the effects that need it are
 * skipped). mu* = mean |EE|, mu = mean EE, sigma = sample standard
 * deviation of EE (Campolongo, Cariboni & Saltelli 2007), and a 95%
 * percentile bootstrap interval of mu* over trajectories (boot_n
 * resamples, a fixed counter-based key: same data, same interval). */
typedef struct {
    double mu_star, mu, sigma, mu_star_lo, mu_star_hi;
    int n; /* elementary effects used */
} bs_morris_stat;

int bs_morris_analyse(const bs_design *d, const double *y, bs_morris_stat *out /* nparams */, int boot_n, uint64_t key);

/* `bonesim sensitivity SWEEP_DIR ...` */
int bs_cmd_sensitivity(int argc, char **argv);
void bs_usage_sensitivity(FILE *f);

#endif
