/* exp_stats.h — the statistics of the virtual experiments: quantiles, a
 * percentile-bootstrap interval of the median with a fixed counter-based
 * RNG key (same data, same interval), and the one-sided Wilcoxon
 * signed-rank test. */
#ifndef BS_EXP_STATS_H
#define BS_EXP_STATS_H

#include <stdint.h>

#define BS_BOOT_N 2000 /* bootstrap resamples */
/* Fewer pairs than this: no bootstrap interval is reported and a spread
 * is the range (min .. max), not an IQR (compare; validate has its own
 * V_MIN_PAIRS_CI of the same value). */
#define BS_CI_MIN_PAIRS 5
#define BS_BOOT_SEED 0xB0075EEDu /* the bootstrap's fixed RNG seed */

int bs_cmp_dbl(const void *a, const void *b);

/* Quantile q of x[0..n) (linear interpolation between order statistics,
 * "type 7"); sorts x in place. */
double bs_quantile(double *x, int n, double q);

/* Median of x[0..n) without changing x (n <= 4096; NaN if n == 0). */
double bs_median_of(const double *x, int n);

/* Percentile bootstrap 95% interval of the median of e[0..n), with the
 * fixed counter-based RNG key `key`, so the same data give the same
 * interval. scratch holds n + BS_BOOT_N doubles. */
void bs_boot_median_ci(const double *e, int n, uint64_t key, double *scratch, double *lo, double *hi);

/* One-sided Wilcoxon signed-rank test of the paired differences d[0..n):
 * H1 is "d tends to be > 0" (alternative = +1) or "< 0" (-1). Zero
 * differences are dropped (Wilcoxon's convention); ties among |d| get
 * mid-ranks; the p-value is exact (the permutation distribution of W+
 * over the 2^m sign patterns, by dynamic programming on doubled ranks)
 * for m <= 200 non-zero differences, the normal approximation with tie
 * and continuity correction above. *m_used gets m; returns NaN when
 * m == 0. *w_plus (may be NULL) gets the statistic W+. */
double bs_wilcoxon_signed_rank(const double *d, int n, int alternative, int *m_used, double *w_plus);

#endif
