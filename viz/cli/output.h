/* output.h — run outputs: CSV time series, manifest, snapshots.
 *
 * The CSV is appended in whole rows (one fputs + fflush per row), so an
 * interrupted run leaves a valid file of the rows finished. The manifest
 * and PNGs are written to a temporary name and renamed into place. */
#ifndef BS_OUTPUT_H
#define BS_OUTPUT_H

#include <stdio.h>

#include "image.h"
#include "model.h"

typedef struct {
    FILE *csv;
    char dir[4096];
} bs_output;

/* The CSV's column names, in order, NULL-terminated (from the column
 * table in output.c and the registered cell types' observables), and the
 * unit of column c. bs_csv_columns is the same list, for callers that
 * index it. Register every cell type before the first call. */
const char *const *bs_csv_column_names(void);
const char *bs_csv_column_unit(int c);
#define bs_csv_columns (bs_csv_column_names())

/* Creates dir and its parents (like mkdir -p). */
bs_status bs_output_mkdir(const char *dir, bs_error *err);
bs_status bs_output_open(bs_output *o, const char *dir, int force, bs_error *err);
bs_status bs_output_row(bs_output *o, const bs_obs *obs, bs_error *err);
bs_status bs_output_close(bs_output *o, bs_error *err);

typedef struct {
    const char *scenario; /* as given */
    const char *scenario_path; /* resolved */
    int threads;
    double days;
    /* The files this run wrote into the folder, by name (the manifest's
     * "outputs"; --force of a later run removes exactly these). */
    const char *const *outputs;
    int noutputs;
    long store_full_refusals; /* placements refused for want of room so far (engine/store.h) */
} bs_run_info;

bs_status bs_output_manifest(const bs_output *o, const bs_paramset *ps, const bs_run_info *info, bs_error *err);
/* region: the crop in sites (bs_render_input.region), or NULL for the
 * whole lattice. */
bs_status bs_output_png(const bs_output *o, const bs_model *m, const char *title, const int *region, bs_error *err);
/* The snapshot's picture (what bs_output_png writes) into im, which must be
 * a valid or zeroed image (reused when its size fits): video frames. */
bs_status bs_output_render(const bs_model *m, const char *title, const int *region, bs_image *im, bs_error *err);

/* Writes text to path atomically (temp file in the same folder + rename). */
bs_status bs_write_file_atomic(const char *path, const char *text, size_t len, bs_error *err);

#endif
