/* runner.h — `bonesim run` and `bonesim resume`: the command-line options
 * they share, their set-up and summaries; the loop they drive is the one
 * session loop (session.h), the headless front end.
 *
 * The loop is a fixed step (bs_model_step) with outputs on their own
 * schedules: a CSV row every run.csv_every_d, a PNG every run.png_every_d,
 * a checkpoint every --checkpoint-every days. A checkpoint is taken at the
 * top of a loop iteration, before that time's outputs, so a resumed run
 * re-enters the loop at exactly the same point and writes the same bytes.
 *
 * Reliability (docs/reliability.md): outputs are whole rows or atomic
 * files; SIGINT/SIGTERM finish the step, write a checkpoint and return
 * BS_EXIT_SIGINT/BS_EXIT_SIGTERM; a second signal stops at once; the
 * model's memory is estimated and checked against a limit before anything
 * is allocated.
 *
 * Functions here print progress and summaries; errors come back as
 * bs_status/bs_error or exit codes, and only main() exits. */
#ifndef BS_RUNNER_H
#define BS_RUNNER_H

#include <stddef.h>

#include "bs_status.h"
#include "params.h"

/* Exit codes of the program (documented in `bonesim --help`). */
#define BS_EXIT_OK 0
#define BS_EXIT_ERROR 1 /* I/O failure, out of memory, bad checkpoint */
#define BS_EXIT_USAGE 2 /* bad option, scenario or parameter */
#define BS_EXIT_SIGINT 130 /* stopped by SIGINT; a checkpoint was written */
#define BS_EXIT_SIGTERM 143 /* stopped by SIGTERM; a checkpoint was written */

typedef enum { BS_CMD_RUN, BS_CMD_RESUME, BS_CMD_PARAMS } bs_cmd;

#define BS_CLI_MAX_SETS 256

/* Parsed options. Negative numbers (0 for threads) mean "not given". */
typedef struct {
    const char *pos[2]; /* positional arguments */
    int npos;
    const char *sets[BS_CLI_MAX_SETS];
    int nsets;
    double days;
    long long seed;
    int threads;
    const char *out;
    double csv_every, png_every, ckpt_every;
    double max_memory_mb;
    const char *replay; /* run --replay LOG: a live session's action log (agents/actions.h) */
    int force, quiet, timings, markdown, help;
    int no_png; /* run --no-png: write no PNG snapshots */
    double spatial_every; /* --spatial-every DAYS: OUT/spatial.h5 (viz/cli/spatial_output.h) */
    int cells_csv; /* --cells-csv: a CSV cell table per spatial snapshot */
    int has_region; /* --png-region X0,Y0,X1,Y1 given */
    double png_region_um[4]; /* x0, y0, x1, y1 in um from the lattice's top-left corner */
    const char *video; /* run --video FILE.mp4|FILE.gif */
    double video_every; /* --video-every DAYS (< 0: not given) */
    int video_fps; /* --video-fps N (0: not given) */
} bs_cli_opts;

/* --png-region in sites of a w x h lattice of h_um sites: x0, y0 rounded
 * down, x1, y1 up, so the crop holds every site the rectangle touches.
 * An error names the option, the value and the valid range in um. */
bs_status bs_png_region_sites(const bs_cli_opts *o, int w, int h, double h_um, int region[4], bs_error *err);

/* Parses argv (the arguments after the command name) for cmd. Options a
 * command does not take, bad numbers (NaN, inf, out of range, trailing
 * junk), missing values and extra positional arguments are errors. Never
 * exits, never prints. */
bs_status bs_cli_parse(bs_cmd cmd, int argc, char **argv, bs_cli_opts *o, bs_error *err);

/* Where shipped scenarios live: bs_scenario_dir (engine/datadir.h). */
#include "datadir.h"
/* File name without folder and ".ini". */
void bs_scenario_name(const char *path, char *out, size_t n);

/* Registry + scenario (o->pos[0], may be absent for params) + --set +
 * --days/--seed/--csv-every/--png-every. The resolved scenario path goes to
 * scenario_path ("" without a scenario). Caller destroys *ps, *reg. */
bs_status bs_resolve_params(
        const bs_cli_opts *o, bs_registry **reg, bs_paramset **ps, char *scenario_path, size_t n, bs_error *err);

/* The output intervals of a run: run.csv_every_d and run.png_every_d in
 * ps, and ckpt_every (days, < 0: not given) must each be 0 or at least one
 * step (run.dt_h); an error names where the value came from (the option,
 * the --set, or scenario_path:line). o may be NULL. */
bs_status bs_check_intervals(
        const bs_cli_opts *o, const bs_paramset *ps, double ckpt_every, const char *scenario_path, bs_error *err);

/* The subcommands; they return an exit code (BS_EXIT_*) after printing any
 * error as "bonesim: ...". The loop itself is the session's (session.h). */

int bs_cmd_run(const bs_cli_opts *o);
int bs_cmd_resume(const bs_cli_opts *o);

#endif
