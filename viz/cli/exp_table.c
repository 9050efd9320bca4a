/* exp_table.c — reading a run's timeseries.csv back (exp_table.h). */
#define _POSIX_C_SOURCE 200809L
#include "exp_table.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

int bs_column_index(const char *name)
{
    for (int c = 0; bs_csv_columns[c]; c++)
        if (strcmp(bs_csv_columns[c], name) == 0) return c;
    return -1;
}

void bs_table_free(bs_table *t)
{
    free(t->v);
    t->v = NULL;
    t->nrow = t->ncol = 0;
}

int bs_table_nearest_row(const bs_table *t, double day)
{
    int best = 0;
    for (int r = 1; r < t->nrow; r++)
        if (fabs(bs_tv(t, r, 0) - day) < fabs(bs_tv(t, best, 0) - day)) best = r;
    return best;
}

/* Reads DIR/timeseries.csv; its header must be exactly bs_csv_columns. */
int bs_table_read(const char *dir, bs_table *t, char *why, size_t whyn)
{
    memset(t, 0, sizeof *t);
    char path[4200];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whyn, "%s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int ncol = 0;
    while (bs_csv_columns[ncol]) ncol++;
    char want[8192];
    size_t k = 0;
    for (int c = 0; c < ncol; c++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%s%s", c ? "," : "", bs_csv_columns[c]);
    if (!fgets(line, sizeof line, f) || (line[strcspn(line, "\r\n")] = '\0', strcmp(line, want) != 0)) {
        snprintf(why, whyn, "%s: unexpected header (not written by this bonesim?)", path);
        fclose(f);
        return -1;
    }
    int cap = 0;
    t->ncol = ncol;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (t->nrow == cap) {
            cap = cap ? cap * 2 : 256;
            double *nv = realloc(t->v, (size_t)cap * (size_t)ncol * sizeof *nv);
            if (!nv) {
                snprintf(why, whyn, "out of memory");
                fclose(f);
                return -1;
            }
            t->v = nv;
        }
        char *p = line;
        for (int c = 0; c < ncol; c++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p || (c < ncol - 1 && *end != ',')) {
                snprintf(why, whyn, "%s:%d: malformed row", path, t->nrow + 2);
                fclose(f);
                return -1;
            }
            t->v[(size_t)t->nrow * (size_t)ncol + (size_t)c] = x;
            p = end + 1;
        }
        t->nrow++;
    }
    fclose(f);
    if (t->nrow == 0) {
        snprintf(why, whyn, "%s: no rows", path);
        return -1;
    }
    return 0;
}
