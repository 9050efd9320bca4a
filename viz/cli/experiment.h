/* experiment.h — virtual experiments: `bonesim compare` (two arms over
 * paired seeds) and `bonesim sweep` (a parameter grid x replicates).
 *
 * Every simulation is a child process of this same program
 * (`/proc/self/exe run SCENARIO ... --threads 1 --quiet --no-png`), at
 * most --jobs at once. A crash of one run cannot take the others down, and
 * each run goes through the one run path (parameter validation, CSV,
 * manifest) of `bonesim run`; the parent only schedules, reads the CSVs
 * back and summarises.
 *
 * Seeds: replicate i of a compare uses seed S + i in both arms (paired);
 * run r of a sweep (r = grid_point x replicates + replicate) uses seed
 * S + r, so no two runs of a sweep share a seed. S is --seed (default 1);
 * S + (number of runs - 1) must not exceed 2^53 - 1, the largest seed
 * `bonesim run --seed` takes.
 *
 * Both functions print errors as "bonesim compare: ..." and return an
 * exit code (BS_EXIT_*); only main() exits. */
#ifndef BS_EXPERIMENT_H
#define BS_EXPERIMENT_H

#include <stdio.h>

int bs_cmd_compare(int argc, char **argv);
int bs_cmd_sweep(int argc, char **argv);
void bs_usage_compare(FILE *f);
void bs_usage_sweep(FILE *f);

/* One panel of narms (1 or 2) arms over time: median line and a band
 * (lo..hi per row; NaN rows are skipped), the window [w0, w1] shaded when
 * w1 > w0, under nlines of heading text and one legend line per arm.
 * Writes a PNG to path; on failure fills why and returns -1. */
int bs_plot_arms(const char *path, const char *const *lines, int nlines, const char *const *labels, int narms,
        const char *ylabel, const double *t, int nrow, const double *const *med, const double *const *lo,
        const double *const *hi, double t_end, double w0, double w1, char *why, size_t whyn);

#endif
