/* datadir.h — where the program finds its shipped data (scenarios).
 *
 * Never a path baked in at build time: the folders are found at run time,
 * in this order,
 *   1. $BONESIM_SCENARIOS            a folder of scenario files
 *   2. $BONESIM_DATA/scenarios       a data folder (an installed share/bonesim)
 *   3. ./scenarios                   the current folder (a source checkout)
 *   4. EXE/../share/bonesim/scenarios  relative to the executable, as
 *                                    `cmake --install` lays it out
 *   5. EXE/../scenarios              the executable in build/ of a source tree
 * where EXE is the folder of the running executable (Linux:
 * /proc/self/exe; elsewhere 4 and 5 are skipped). */
#ifndef BS_DATADIR_H
#define BS_DATADIR_H

#include <stddef.h>

#define BS_DATADIR_MAX 5

/* The candidate folders in search order (whether or not they exist); the
 * strings stay valid until the next call. Returns how many. */
int bs_scenario_dirs(const char *dirs[BS_DATADIR_MAX]);
/* The first candidate that is a folder, or "scenarios" if none is. */
const char *bs_scenario_dir(void);
/* Finds scenario `name` (NAME.ini or NAME) in the candidates: 1 and the
 * path in out, or 0. */
int bs_scenario_find(const char *name, char *out, size_t n);

#endif
