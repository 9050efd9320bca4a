/* spatial.h — shared questions about a site's neighbourhood, asked by the
 * rules of more than one cell type, the surface and the therapies. It
 * reads the model and calls no rule, so no rule file depends on another
 * through it (bmu.c <-> osteoclast.c/osteoblast.c used to, when these
 * lived in bmu.c). The one neighbour-offset table is bs_nb_dx/bs_nb_dy
 * (engine/lattice.h). */
#ifndef BS_SPATIAL_H
#define BS_SPATIAL_H

#include "lattice.h"
#include "store.h"

struct bs_model;

/* RANKL signal at site i: effective RANKL (OPG-decoy-corrected, IFN-gamma
 * damped, x the therapies' rankl_factor) relative to its half-activation
 * level; about 1 on the homeostatic surface. */
float bs_rankl_signal(const struct bs_model *m, int i);
/* any agent of `type` within the square of half-width radius around i */
int bs_agent_within(const struct bs_model *m, int i, int radius, int type);
/* site j is something an osteoblast can fill: unfinished bone, or a free
 * cavity site in the marrow */
int bs_is_fill_target(const bs_lattice *lat, const bs_store *s, int j);
/* a fill target in the 3 x 3 block around i (i excluded) */
int bs_has_fill_target(const struct bs_model *m, int i);
/* site j is where the next lamella goes (an unfinished layer, or a cavity
 * site resting on finished bone, 4-neighbour); occupancy not checked */
int bs_is_floor(const bs_lattice *lat, int j);
/* osteoblasts in the 3 x 3 block around j: *any counts all, the return
 * value those whose osteoid mineralises already (age >= the lag); *marrow
 * gets the marrow sites of the block (0: j is walled in) */
int bs_ob_team_around(const struct bs_model *m, int j, int *any, int *marrow);
/* a floor site with no osteoblast next to it in the 3 x 3 block around i:
 * where the osteoblast team needs a new member */
int bs_uncovered_floor_near(const struct bs_model *m, int i);
/* one of the four edge neighbours of i is a sinusoid or an arteriole */
int bs_next_to_vessel(const bs_lattice *lat, int i);

#endif
