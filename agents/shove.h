/* shove.h — growth by displacement: tumour divisions that push a chain of
 * cells to the nearest free marrow site (agents/shove.c). Internal to
 * agents/. */
#ifndef BS_SHOVE_H
#define BS_SHOVE_H

#include <stdint.h>

#include "bs_status.h"

struct bs_model;

/* Preallocated work space of the division pass: per-tile request lists
 * (written inside the tile pass, each tile its own segment) and the
 * bounded breadth-first search window (used by the serial pass). */
typedef struct bs_shove {
    int32_t *req_slot; /* ntiles x seg: the slot of each requesting cell */
    int32_t *oc_site; /* ntiles x seg: surface sites where an osteoclast must push a tumour cell away */
    uint32_t *oc_n; /* ntiles: such requests this step */
    uint64_t *req_id; /* its id when it asked (a slot reused later is not it) */
    uint32_t *req_n; /* ntiles: requests recorded this step */
    int seg; /* requests a tile can hold: one per site of the tile */
    int win_max; /* edge of the largest search window (2 R_max + 1) */
    int32_t *queue, *parent; /* win_max^2: window indices */
    uint32_t *mark; /* win_max^2: search number that last visited a site */
    uint32_t search; /* number of the current search */
    int32_t *path; /* win_max^2: the chain to shift, mother first */
} bs_shove;

/* Allocates the work space for model m (lattice and tiles already set);
 * the largest push radius the registry allows fixes the window size, so a
 * parameter change later never needs more. */
bs_status bs_shove_init(struct bs_model *m, bs_error *err);
void bs_shove_free(struct bs_model *m);

/* Inside the tile pass: cell `slot` (a cycling tumour cell) asks to divide
 * this step; the request goes to the list of the tile that holds its site
 * (the tile that runs it). Never fails: a tile's segment has room for one
 * request per site. */
void bs_shove_request(struct bs_model *m, int slot);

/* Inside the tile pass: an osteoclast is to form at surface site i, but a
 * tumour cell holds it and every neighbour is full (bs_oc_try_form). */
void bs_shove_request_oc(struct bs_model *m, int i);

/* After the tile pass, serially, in tile order and within a tile in the
 * order made (raster order): first the osteoclasts held up by tumour
 * cells (the cell on the site is pushed, with the chain behind it, toward
 * the nearest free marrow site within dtc.push_radius_um, and the
 * osteoclast forms there unless one has formed within its exclusion
 * distance meanwhile); then the divisions: a daughter next to its mother,
 * the chain of cells between them and the nearest free marrow site pushed
 * one site outward. Returns the number of daughters placed. Does not
 * allocate. */
int bs_shove_divisions(struct bs_model *m);

#endif
