/* waitpolicy.c — the spin count of bonesim's OpenMP threads (waitpolicy.h).
 *
 * Linked into the bonesim executable itself (not a library: a constructor
 * in an archive member nobody references would be dropped by the linker). */
#define _GNU_SOURCE
#include "waitpolicy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The variable that marks GOMP_SPINCOUNT as bonesim's own (inherited by
 * the program's child processes, e.g. the replicates of `bonesim compare`,
 * which therefore spin the same). */
#define BS_MARK "BONESIM_GOMP_SPINCOUNT"

static char g_desc[160] = "default";

const char *bs_wait_policy(void)
{
    return g_desc;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* Nanoseconds per spin round (a relaxed load and a PAUSE, as libgomp's
 * wait loop does): the fastest of a few short trials, so a preemption
 * during one trial does not count. */
static double spin_round_ns(void)
{
    volatile uint32_t flag = 0;
    double best = 1e30;
    for (int k = 0; k < 5; ++k) {
        double t0 = now_ns();
        for (int i = 0; i < 256; ++i) {
            if (flag) break;
            relax();
        }
        double dt = (now_ns() - t0) / 256.0;
        if (dt > 0.0 && dt < best) best = dt;
    }
    return best < 1e29 ? best : 1.0;
}

#if defined(BS_STATIC_LIBGOMP)
#define BS_CTOR_PRIORITY 101 /* before libgomp's own (default priority) constructor in the same executable */
#else
#define BS_CTOR_PRIORITY 65535
#endif

__attribute__((constructor(BS_CTOR_PRIORITY))) static void bs_wait_policy_init(int argc, char **argv)
{
    (void)argc;
#if !defined(BS_OMP_LIBGOMP)
    /* another OpenMP runtime: its own settings (see waitpolicy.h) */
    (void)argv;
    snprintf(g_desc, sizeof g_desc, "runtime default (not libgomp)");
    return;
#endif
    const char *mark = getenv(BS_MARK), *spin = getenv("GOMP_SPINCOUNT"), *pol = getenv("OMP_WAIT_POLICY");
    if (mark && spin && strcmp(mark, spin) == 0) {
        /* set by bonesim: this process's parent, or this process before
         * it started itself again */
        snprintf(g_desc, sizeof g_desc, "spin %s (set by bonesim, ~%d us)", spin, BS_WAIT_SPIN_US);
        return;
    }
    if (pol) {
        snprintf(g_desc, sizeof g_desc, "user: OMP_WAIT_POLICY=%.100s", pol);
        return;
    }
    if (spin) {
        snprintf(g_desc, sizeof g_desc, "user: GOMP_SPINCOUNT=%.100s", spin);
        return;
    }
    double per = spin_round_ns();
    double n = BS_WAIT_SPIN_US * 1000.0 / per;
    long count = n < 100.0 ? 100 : n > 1000000.0 ? 1000000 : (long)n;
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", count);
    if (setenv("GOMP_SPINCOUNT", buf, 1) != 0 || setenv(BS_MARK, buf, 1) != 0) return;
    snprintf(g_desc, sizeof g_desc, "spin %s (set by bonesim, ~%d us)", buf, BS_WAIT_SPIN_US);
#if !defined(BS_STATIC_LIBGOMP)
    /* libgomp has read its environment already: start again with it set
     * (once: the new process finds the mark). Where that fails the run
     * goes on with libgomp's defaults. */
    if (argv && argv[0]) execv("/proc/self/exe", argv);
    snprintf(g_desc, sizeof g_desc, "default (could not restart with GOMP_SPINCOUNT=%s)", buf);
#else
    (void)argv;
#endif
}
