/* celltypes.h — the cell-type registry.
 *
 * Every cell type is described once here: name, states, colours (Okabe-Ito,
 * colour-blind safe), and its rules live in its own file (osteoclast.c,
 * osteoblast.c, ...). The renderer, the legend, the CSV counts and the
 * viewer read this table, so adding a cell type touches this registry and
 * one new file. */
#ifndef BS_CELLTYPES_H
#define BS_CELLTYPES_H

#include <stdint.h>

typedef enum {
    BS_CELL_OSTEOCLAST = 0,
    BS_CELL_OSTEOBLAST = 1,
    BS_CELL_DTC = 2,
    BS_CELL_TCELL = 3, /* CD8 T cell (CTL) */
    BS_CELL_NK = 4,
    BS_CELL_MDSC = 5,
    BS_CELL_TYPE_COUNT
} bs_cell_type;

#define BS_MAX_STATES 4

/* DTC states */
enum { BS_DTC_MIGRATING = 0, BS_DTC_DORMANT = 1, BS_DTC_PROLIFERATING = 2 };
/* CD8 T-cell states: non-activated cells express RANKL, activated ones
 * kill and secrete IFN-gamma, exhausted ones do neither (store.aux counts
 * kills) */
enum { BS_TCELL_NAIVE = 0, BS_TCELL_ACTIVE = 1, BS_TCELL_EXHAUSTED = 2 };
/* NK-cell states: a spent cell has used up its killing capacity */
enum { BS_NK_ACTIVE = 0, BS_NK_SPENT = 1 };
/* DTC lineage origin, kept in store.aux and inherited by daughters */
#define BS_DTC_FROM_VESSEL 1.0f
#define BS_DTC_FROM_QUIESCENT 2.0f
#define BS_DTC_FROM_BRC 3.0f

typedef enum { BS_SHAPE_SQUARE = 0, BS_SHAPE_DISC, BS_SHAPE_DIAMOND, BS_SHAPE_RING } bs_shape;

typedef struct {
    const char *name; /* "osteoclast" */
    const char *plural; /* legend text */
    int n_states;
    const char *state_names[BS_MAX_STATES]; /* "active", ... */
    uint8_t rgb[BS_MAX_STATES][3]; /* per state */
    bs_shape shape[BS_MAX_STATES]; /* marker drawn in a site */
    int footprint_sites; /* drawn size in sites (osteoclasts are big) */
} bs_cell_desc;

extern const bs_cell_desc bs_cell_types[BS_CELL_TYPE_COUNT];

#endif
