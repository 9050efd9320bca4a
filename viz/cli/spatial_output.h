/* spatial_output.h — spatial snapshots of a run for analysis: one HDF5 file per
 * run (OUT/spatial.h5) and, optionally, a CSV cell table per snapshot.
 *
 * A snapshot holds every cell (id, position in um, type, state, age, DTC
 * landing origin and the per-type variables) and every lattice array
 * (fields, tissue class, mineral, surface state, cavity flag, bound
 * zoledronic acid) as 2D arrays [y][x], chunked and deflate-compressed,
 * with units as attributes. The layout is documented in docs/analysis.md.
 *
 * Safety (docs/analysis.md, "How the file is written"): the file is kept
 * closed between snapshots. It is created, and rebuilt on resume, under a
 * temporary name and renamed into place; each snapshot is appended with
 * SIGINT/SIGTERM blocked, its data flushed first and its group's
 * `complete` attribute and the root's `snapshots_complete` written last,
 * then the file is closed and synced. Readers take only groups with
 * complete = 1; the root's `run_complete` is 1 only after the run's last
 * snapshot. A resumed run rebuilds the file from the complete snapshots
 * taken before the checkpoint and continues it, so its datasets equal those
 * of an uninterrupted run.
 *
 * Built without libhdf5 (BONESIM_WITH_HDF5=OFF, or AUTO without the
 * package) bs_spatial_check refuses spatial output and names the package. */
#ifndef BS_SPATIAL_OUTPUT_H
#define BS_SPATIAL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct bs_spatial {
    double every_d; /* run.spatial_every_d: interval between snapshots */
    double next_d; /* the schedule (bs_run_due in viz/cli/runner.c) */
    int cells_csv; /* also write OUT/cells_dayNNNN.NNN.csv */
    long long n_snapshots; /* complete snapshots in the file */
    char dir[4096];
    char path[4200]; /* OUT/spatial.h5 */
    void *priv; /* unused without HDF5 */
} bs_spatial;

/* 1 when this build writes HDF5. */
int bs_spatial_available(void);

/* Checks the spatial options before a run creates anything: a positive
 * run.spatial_every_d needs an HDF5 build (the message names the Debian
 * package); cells_csv needs run.spatial_every_d > 0. BS_ERR_INVALID (a usage
 * error) otherwise. */
bs_status bs_spatial_check(const bs_paramset *ps, int cells_csv, bs_error *err);

/* Opens the run's spatial output in dir when run.spatial_every_d > 0
 * (*out stays NULL otherwise). A new run (src_dir NULL) creates
 * dir/spatial.h5 with the run's manifest (dir/manifest.json, which must
 * exist). A resumed run (src_dir = the checkpoint's folder, which may be
 * dir itself) rebuilds dir/spatial.h5 from src_dir/spatial.h5's complete
 * snapshots before the model's current time and continues its schedule; a
 * source file that is missing or unreadable starts the file, and the
 * schedule, at the checkpoint (with a note on stderr unless quiet).
 * cells_csv turns CSV tables on (a resumed file keeps them on if its run
 * had them). */
bs_status bs_spatial_open(bs_spatial **out, const char *dir, const char *src_dir, const bs_model *m, int cells_csv,
        int quiet, bs_error *err);

/* Appends one snapshot of m (and its CSV table when on). last = the run's
 * final snapshot: marks the file run_complete. */
bs_status bs_spatial_write(bs_spatial *s, const bs_model *m, int last, bs_error *err);

/* The cell table's path of the snapshot of m (OUT/cells_dayNNNN.NNN.csv). */
void bs_spatial_cells_path(const bs_spatial *s, const bs_model *m, char *buf, size_t n);

void bs_spatial_free(bs_spatial *s);

#endif
