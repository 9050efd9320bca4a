/* exp_table.h — a run's timeseries.csv read back into memory. */
#ifndef BS_EXP_TABLE_H
#define BS_EXP_TABLE_H

#include <stddef.h>

typedef struct {
    int ncol, nrow;
    double *v; /* nrow x ncol, row-major; owned */
} bs_table;

/* Reads DIR/timeseries.csv; its header must be exactly bs_csv_columns.
 * On failure fills why ("PATH: ...", "PATH:LINE: malformed row"). */
int bs_table_read(const char *dir, bs_table *t, char *why, size_t whyn);
void bs_table_free(bs_table *t);

static inline double bs_tv(const bs_table *t, int row, int col)
{
    return t->v[(size_t)row * (size_t)t->ncol + (size_t)col];
}

/* Index of a column of bs_csv_columns, or -1. */
int bs_column_index(const char *name);

/* Row whose time is nearest to day. */
int bs_table_nearest_row(const bs_table *t, double day);

#endif
