/* pace.h — how many threads a model step uses (issue 19).
 *
 * Threads that meet at barriers go at the pace of the slowest: on a
 * machine where other programs hold cores, a thread descheduled for a
 * few milliseconds holds up its partners at every barrier of the step,
 * and two threads can run slower than one. The model therefore measures
 * its own steps and runs them at the caller's thread count or at one
 * thread, whichever is faster now:
 *
 *   - steps are timed in windows of BS_PACE_WINDOW steps (the first step
 *     after a change of count is not timed: threads are woken and caches
 *     refilled);
 *   - every `gap` windows one window runs at the other count (a probe);
 *     it is abandoned as soon as, after 3 steps, it is BS_PACE_ABORT times
 *     slower than the last window at the chosen count, and it wins only
 *     when BS_PACE_WIN times faster over the whole window;
 *   - a lost probe doubles the gap (up to BS_PACE_GAP_MAX windows), a won
 *     one switches the count and resets the gap to BS_PACE_GAP_MIN.
 * On an idle machine a probe at one thread costs about 3 slow steps every
 * 128-1024 steps (under 2%); under load the step stops waiting for
 * descheduled partners.
 *
 * Results never depend on it: every step gives the same bits at any
 * thread count (tests/determinism.sh). Set BONESIM_FIXED_THREADS=1 in the
 * environment to use the caller's count on every step (bench does so for
 * its per-thread-count figures). */
#ifndef BS_PACE_H
#define BS_PACE_H

#include <stdint.h>

#define BS_PACE_WINDOW 16
#define BS_PACE_ABORT 1.2
#define BS_PACE_WIN 0.95
#define BS_PACE_GAP_MIN 8
#define BS_PACE_GAP_MAX 64

typedef struct {
    int init, fixed;
    int max; /* the caller's thread count */
    int chosen; /* max or 1: the count that won the last comparison */
    int cur; /* the count of the step being run */
    int probing; /* the current window runs at the other count */
    int settle; /* the next step is not timed */
    int win_n; /* steps timed in the current window */
    double win_s; /* their wall time, s */
    double ref_s; /* wall time per step of the last full window at the chosen count */
    int gap, until_probe; /* windows between probes; windows left before the next */
    uint64_t steps, steps_reduced, probes, switches;
} bs_pace;

/* The thread count for the next step, given the caller's (>= 1). A zeroed
 * bs_pace is ready; it reads BONESIM_FIXED_THREADS at the first call. */
int bs_pace_threads(bs_pace *p, int max_threads);
/* The wall time of the step just run at that count, s. */
void bs_pace_done(bs_pace *p, double step_s);
/* Always the caller's count (no probes). */
void bs_pace_fix(bs_pace *p);

#endif
