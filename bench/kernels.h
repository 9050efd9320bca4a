/* kernels.h — reference kernels that `bonesim bench` measures next to
 * bonesim's own code, so every figure comes with the machine's yardstick
 * from the same run: STREAM triad (memory bandwidth) and one ADI step in
 * double precision (the field solver used by lattice-ABM peers such as the
 * Hybrid Automata Library). Internal to bench/. */
#ifndef BS_BENCH_KERNELS_H
#define BS_BENCH_KERNELS_H

#include <stddef.h>

/* STREAM triad a[i] = b[i] + s c[i] over three double arrays of n elements
 * (3 * 8 * n bytes of footprint), on the current OpenMP thread count,
 * arrays first touched by the threads that use them. Runs `reps` timed
 * passes after one untimed pass and returns the best bandwidth in GB/s
 * (10^9 bytes/s), counting 24 bytes per element as STREAM does (no
 * write-allocate traffic); *median_gbps gets the median pass. Returns 0 if
 * the arrays cannot be allocated. */
double bs_triad_gbps(size_t n, int reps, double *median_gbps);

/* One Peaceman-Rachford ADI step (two half steps, a Thomas solve per row
 * then per column) of dc/dt = D lap c - k c + s on a w x h grid with
 * zero-flux edges, in double, single-threaded (the per-core yardstick),
 * with precomputed Thomas factors. Times `steps` steps three times after
 * one untimed step and returns the best rate in site-updates per second
 * (w h per step), or 0 if out of memory. */
double bs_adi_site_updates_per_s(int w, int h, int steps);

#endif
