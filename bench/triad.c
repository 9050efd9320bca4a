/* triad.c — STREAM triad, the memory-bandwidth yardstick of the fields
 * benchmark (McCalpin's STREAM: a = b + s c, 24 bytes per element). */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kernels.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The kernel on its own, so the compiler cannot fold passes together; the
 * static schedule matches the first-touch loop, so each thread streams the
 * pages it placed. */
static void triad(double *restrict a, const double *restrict b, const double *restrict c, double s, long n)
{
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

double bs_triad_gbps(size_t n, int reps, double *median_gbps)
{
    if (n < 1) n = 1;
    if (reps < 1) reps = 1;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!a || !b || !c || !t) {
        free(a);
        free(b);
        free(c);
        free(t);
        if (median_gbps) *median_gbps = 0.0;
        return 0.0;
    }
    const long ln = (long)n;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < ln; ++i) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    triad(a, b, c, 3.0, ln);
    for (int r = 0; r < reps; ++r) {
        double t0 = omp_get_wtime();
        triad(a, b, c, 3.0, ln);
        t[r] = omp_get_wtime() - t0;
    }
    /* the result is read, so the passes cannot be dropped */
    volatile double sink = a[ln / 2];
    (void)sink;
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    const double bytes = 24.0 * (double)n;
    if (median_gbps) *median_gbps = bytes / t[reps / 2] / 1e9;
    double best = bytes / (t[0] > 0.0 ? t[0] : 1e-9) / 1e9;
    free(a);
    free(b);
    free(c);
    free(t);
    return best;
}
