/* validate.h — `bonesim validate`: every behaviour of docs/behaviours.md as
 * a paired virtual experiment described by a data file
 * (an .ini file per experiment in scenarios/validation, format in docs/validation.md), run on fresh
 * seeds (default from 1000, never the calibration seeds), with a report
 * (DIR/report.md, one PNG per experiment, DIR/results.json).
 *
 * The runs are children of this program through the job pool
 * (exp_pool.h); identical runs (same scenario, overrides, days and seed)
 * shared by several experiments run once. Every run is kept under
 * DIR/runs/, with a marker written when it finished, so --resume runs only
 * what is missing.
 *
 * Exit status: 0 when every run finished and no experiment failed its
 * expectation, BS_EXIT_VALIDATE_FAILED (3) when all runs finished but an
 * expectation failed, BS_EXIT_ERROR when a run failed, BS_EXIT_USAGE on bad
 * input (a bad experiment file is reported as file:line). */
#ifndef BS_VALIDATE_H
#define BS_VALIDATE_H

#include <stdio.h>

#define BS_EXIT_VALIDATE_FAILED 3

int bs_cmd_validate(int argc, char **argv);
void bs_usage_validate(FILE *f);

#endif
