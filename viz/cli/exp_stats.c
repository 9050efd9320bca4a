/* exp_stats.c — statistics of the virtual experiments (exp_stats.h). */
#include "exp_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

int bs_cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bs_quantile(double *x, int n, double q)
{
    qsort(x, (size_t)n, sizeof *x, bs_cmp_dbl);
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    if (lo >= n - 1) return x[n - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

double bs_median_of(const double *x, int n)
{
    double tmp[4096];
    if (n <= 0 || n > 4096) return NAN;
    memcpy(tmp, x, (size_t)n * sizeof *x);
    return bs_quantile(tmp, n, 0.5);
}

void bs_boot_median_ci(const double *e, int n, uint64_t key, double *scratch, double *lo, double *hi)
{
    double *res = scratch, *meds = scratch + n;
    for (int b = 0; b < BS_BOOT_N; b++) {
        for (int i = 0; i < n; i++)
            res[i] = e[bs_rng_below(BS_BOOT_SEED, BS_STREAM_USER + 11, key, (uint64_t)b, (uint32_t)i, (uint32_t)n)];
        meds[b] = bs_quantile(res, n, 0.5);
    }
    *lo = bs_quantile(meds, BS_BOOT_N, 0.025);
    *hi = bs_quantile(meds, BS_BOOT_N, 0.975);
}

typedef struct {
    double a;
    int pos;
} absd;

static int cmp_absd(const void *x, const void *y)
{
    double a = ((const absd *)x)->a, b = ((const absd *)y)->a;
    return a < b ? -1 : a > b;
}

double bs_wilcoxon_signed_rank(const double *d, int n, int alternative, int *m_used, double *w_plus)
{
    *m_used = 0;
    if (w_plus) *w_plus = NAN;
    absd *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return NAN;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (d[i] != 0.0 && !isnan(d[i])) v[m++] = (absd){ fabs(d[i]), d[i] > 0.0 };
    *m_used = m;
    if (m == 0) {
        free(v);
        return NAN;
    }
    qsort(v, (size_t)m, sizeof *v, cmp_absd);
    /* doubled mid-ranks (integers): a tie group over ranks i+1..j gets i+j+1 */
    int *r2 = malloc((size_t)m * sizeof *r2);
    if (!r2) {
        free(v);
        return NAN;
    }
    long long wp2 = 0, total2 = 0;
    double tie = 0.0;
    for (int i = 0; i < m;) {
        int j = i;
        while (j < m && v[j].a == v[i].a) j++;
        for (int k = i; k < j; k++) r2[k] = i + j + 1;
        double t = j - i;
        tie += t * t * t - t;
        i = j;
    }
    for (int k = 0; k < m; k++) {
        total2 += r2[k];
        if (v[k].pos) wp2 += r2[k];
    }
    if (w_plus) *w_plus = 0.5 * (double)wp2;
    /* H1 "> 0": p = P(W+ >= observed); H1 "< 0": p = P(W+ <= observed) */
    double p;
    if (m <= 200) {
        double *pr = calloc((size_t)total2 + 1, sizeof *pr);
        if (!pr) {
            free(v);
            free(r2);
            return NAN;
        }
        pr[0] = 1.0;
        long long top = 0;
        for (int k = 0; k < m; k++) {
            for (long long s = top; s >= 0; s--) {
                double x = pr[s] * 0.5;
                pr[s] = x;
                pr[s + r2[k]] += x;
            }
            top += r2[k];
        }
        p = 0.0;
        if (alternative > 0)
            for (long long s = wp2; s <= total2; s++) p += pr[s];
        else
            for (long long s = 0; s <= wp2; s++) p += pr[s];
        free(pr);
    } else {
        double mu = (double)m * (m + 1) / 4.0, var = (double)m * (m + 1) * (2.0 * m + 1) / 24.0 - tie / 48.0;
        double w = 0.5 * (double)wp2, z = alternative > 0 ? (w - mu - 0.5) / sqrt(var) : (mu - w - 0.5) / sqrt(var);
        p = 0.5 * erfc(z / sqrt(2.0));
    }
    free(v);
    free(r2);
    return p > 1.0 ? 1.0 : p;
}
