/* waitpolicy.h — how long an idle OpenMP thread of bonesim spins (issue 19).
 *
 * An OpenMP thread that reaches a barrier, or the end of a parallel region,
 * before its partners first spins, then sleeps. GNU libgomp spins 300,000
 * rounds by default (about 19 ms on a Zen 4 core, where a round is one
 * PAUSE of ~62 ns): harmless on an idle machine, ruinous on a busy one,
 * where the partner it waits for has been descheduled and the spinning
 * thread takes the very core the partner needs. A model step has several
 * such waits, so two threads with one core taken by another program ran
 * many times slower than one thread.
 *
 * libgomp reads its settings (OMP_WAIT_POLICY, GOMP_SPINCOUNT) from the
 * environment once, in its own start-up code, before main. The bonesim
 * program therefore sets GOMP_SPINCOUNT in a constructor that runs before
 * libgomp's: the build links libgomp into the executable (static archive,
 * CMake option BONESIM_STATIC_LIBGOMP) and the constructor has a higher
 * priority than libgomp's. Where libgomp is a shared library the
 * constructor would run too late, and the program instead starts itself
 * again once (execv of /proc/self/exe) with the variable set.
 *
 * The spin count is calibrated at start-up to BS_WAIT_SPIN_US microseconds
 * of PAUSE rounds: long enough for the short imbalances of an idle
 * machine's barriers, short enough that a waiting thread gives its core
 * back within a scheduler tick's small fraction. A user's own
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT is never overridden.
 *
 * Results never depend on it: it only decides how threads wait. */
#ifndef BS_WAITPOLICY_H
#define BS_WAITPOLICY_H

/* Target spin time of a waiting thread, microseconds. */
#define BS_WAIT_SPIN_US 50

/* What the start-up code did, for `bonesim bench` lines and --version:
 * "spin N (set by bonesim, ~U us)", "user: OMP_WAIT_POLICY=..." or
 * "user: GOMP_SPINCOUNT=...", or "default" where the program could not set
 * it (a libgomp it could not start before and /proc/self/exe missing). */
const char *bs_wait_policy(void);

#endif
