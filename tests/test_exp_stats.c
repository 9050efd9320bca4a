/* The statistics of the virtual experiments (viz/cli/exp_stats.c) on cases
 * whose answers are known by hand: type-7 quantiles, the exact one-sided
 * Wilcoxon signed-rank p-value (with ties and zeros), its normal
 * approximation above 200 pairs, and the bootstrap interval's
 * determinism. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "exp_stats.h"

static void test_quantiles(void **state)
{
    (void)state;
    double x[] = { 4, 1, 3, 2 };
    assert_true(fabs(bs_quantile(x, 4, 0.5) - 2.5) < 1e-12);
    assert_true(fabs(bs_quantile(x, 4, 0.25) - 1.75) < 1e-12); /* 1 + 0.75 * (2 - 1) */
    assert_true(fabs(bs_quantile(x, 4, 1.0) - 4.0) < 1e-12);
    const double y[] = { 5, 1, 9 };
    assert_true(bs_median_of(y, 3) == 5.0);
    assert_true(y[0] == 5.0); /* not sorted in place */
}

static void test_wilcoxon_exact(void **state)
{
    (void)state;
    int m;
    double w;
    /* all five positive: W+ = 15, the only pattern as large: p = 1/32 */
    const double a[] = { 0.5, 1.0, 1.5, 2.0, 2.5 };
    double p = bs_wilcoxon_signed_rank(a, 5, +1, &m, &w);
    assert_int_equal(m, 5);
    assert_true(fabs(w - 15.0) < 1e-12);
    assert_true(fabs(p - 1.0 / 32.0) < 1e-12);
    /* the other direction: every pattern has W+ <= 15: p = 1 */
    assert_true(fabs(bs_wilcoxon_signed_rank(a, 5, -1, &m, &w) - 1.0) < 1e-12);
    /* the smallest negative: W+ = 14; sums >= 14 of ranks 1..5 are 14 and 15: p = 2/32 */
    const double b[] = { -0.5, 1.0, 1.5, 2.0, 2.5 };
    p = bs_wilcoxon_signed_rank(b, 5, +1, &m, &w);
    assert_true(fabs(w - 14.0) < 1e-12);
    assert_true(fabs(p - 2.0 / 32.0) < 1e-12);
    /* zeros are dropped: m = 3, all positive: p = 1/8 */
    const double c[] = { 0.0, 2.0, 0.0, 3.0, 1.0 };
    p = bs_wilcoxon_signed_rank(c, 5, +1, &m, &w);
    assert_int_equal(m, 3);
    assert_true(fabs(p - 0.125) < 1e-12);
    /* ties get mid-ranks: |d| = 1, 1, 2 -> ranks 1.5, 1.5, 3; the negative
     * one of the tied pair: W+ = 4.5; patterns with W+ >= 4.5: {1.5, 3},
     * {1.5', 3}, {1.5, 1.5', 3}: 3/8 */
    const double d[] = { 1.0, -1.0, 2.0 };
    p = bs_wilcoxon_signed_rank(d, 3, +1, &m, &w);
    assert_true(fabs(w - 4.5) < 1e-12);
    assert_true(fabs(p - 3.0 / 8.0) < 1e-12);
    /* nothing usable */
    const double z[] = { 0.0, 0.0 };
    assert_true(isnan(bs_wilcoxon_signed_rank(z, 2, +1, &m, &w)));
    assert_int_equal(m, 0);
}

static void test_wilcoxon_symmetric_and_large(void **state)
{
    (void)state;
    int m;
    double w;
    /* a symmetric sample: P(W+ >= w) + P(W+ <= w) = 1 + P(W+ = w) > 1 */
    const double s[] = { -3, -1, 2, 4, -5, 6 };
    double up = bs_wilcoxon_signed_rank(s, 6, +1, &m, &w), dn = bs_wilcoxon_signed_rank(s, 6, -1, &m, &w);
    assert_true(up + dn > 1.0 && up + dn < 1.2);
    /* 300 pairs (normal approximation): all positive gives a tiny p; a
     * sign pattern alternating over ranks gives p near 0.5 */
    double *x = malloc(300 * sizeof *x);
    for (int i = 0; i < 300; i++) x[i] = i + 1.0;
    assert_true(bs_wilcoxon_signed_rank(x, 300, +1, &m, &w) < 1e-40);
    for (int i = 0; i < 300; i++) x[i] = (i % 2 ? -1.0 : 1.0) * (i + 1.0);
    double p = bs_wilcoxon_signed_rank(x, 300, +1, &m, &w);
    assert_true(p > 0.4 && p < 0.7);
    free(x);
}

static void test_bootstrap_deterministic(void **state)
{
    (void)state;
    const double e[] = { 0.8, 0.9, 1.0, 1.1, 1.2, 0.95 };
    double *scr = malloc((6 + BS_BOOT_N) * sizeof *scr);
    double lo1, hi1, lo2, hi2;
    bs_boot_median_ci(e, 6, 42, scr, &lo1, &hi1);
    bs_boot_median_ci(e, 6, 42, scr, &lo2, &hi2);
    assert_true(lo1 == lo2 && hi1 == hi2);
    assert_true(lo1 >= 0.8 && hi1 <= 1.2 && lo1 < hi1);
    /* a constant sample has a zero-width interval */
    const double c[] = { 2, 2, 2, 2, 2 };
    bs_boot_median_ci(c, 5, 7, scr, &lo1, &hi1);
    assert_true(lo1 == 2.0 && hi1 == 2.0);
    free(scr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_wilcoxon_exact),
        cmocka_unit_test(test_wilcoxon_symmetric_and_large),
        cmocka_unit_test(test_bootstrap_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
