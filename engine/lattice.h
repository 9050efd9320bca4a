/* lattice.h — the 2D tissue grid.
 *
 * W x H square sites of edge h_um, row-major (i = y*W + x). Each site has a
 * tissue class; bone sites carry a mineral fraction (0..1], so resorption
 * and formation are gradual. Marrow sites 4-adjacent to bone form the
 * endosteum; each endosteal site has a surface state: QUIESCENT (covered by
 * bone-lining cells) or one of the remodeling phases of a bone remodeling
 * compartment (BRC). Arrays are plain and public: the step loop reads them
 * directly. */
#ifndef BS_LATTICE_H
#define BS_LATTICE_H

#include <stdint.h>

#include "bs_status.h"

typedef enum {
    BS_TISSUE_MARROW = 0,
    BS_TISSUE_BONE = 1,
    BS_TISSUE_VESSEL = 2, /* marrow sinusoid: low-pO2 Dirichlet source */
    BS_TISSUE_ARTERIOLE = 3, /* small endosteal artery: high-pO2 source */
    BS_TISSUE_COUNT
} bs_tissue;

/* Surface state of a marrow site (BS_SURF_NONE when not endosteal). */
typedef enum {
    BS_SURF_NONE = 0,
    BS_SURF_QUIESCENT = 1, /* lining cells: the quiet dormancy niche */
    BS_SURF_RESORPTION = 2, /* BRC open, osteoclasts may form here */
    BS_SURF_REVERSAL = 3, /* resorption over, waiting for osteoblasts */
    BS_SURF_FORMATION = 4 /* osteoblasts refilling the cavity */
} bs_surface;

/* Per-site flags. */
enum {
    BS_FLAG_CAVITY = 1u << 0, /* was bone, resorbed: a target for refilling */
    /* bone at day 0 (set once, after the burn-in, agents/model.c; never
     * cleared): a marrow site with this flag is bone lost since the start of
     * the run, which the renderer shows as eroded. Saved with the flags. */
    BS_FLAG_BONE0 = 1u << 1,
    BS_FLAG_PERISINUSOIDAL = 1u << 2, /* within the perisinusoidal range of a sinusoid (static: sinusoids never move) */
    /* a sinusoid site near the endosteum: the capillaries fed straight from
     * the endosteal arterioles (type H), carrying better-oxygenated blood
     * than the deep sinusoids (set once at creation; saved with the flags) */
    BS_FLAG_ENDOSTEAL_VESSEL = 1u << 3
};

typedef struct {
    int w, h; /* sites */
    double h_um; /* site edge */
    uint8_t *tissue; /* bs_tissue, w*h */
    uint8_t *surface; /* bs_surface, w*h */
    uint8_t *flags; /* BS_FLAG_*, w*h */
    float *mineral; /* 0..1; > 0 only on bone; cavity target on cavities */
    float *za_load; /* zoledronic acid bound to bone, normalised (0 when unused) */
    uint32_t *since; /* step at which the site's remodeling compartment opened */
    int32_t *bmu; /* the bone multicellular unit (agents/bmu.c) the site belongs to: its origin site, -1 none.
                     Surface sites of an open compartment, the cavity it dug and the bone it is refilling */
    uint8_t *depth; /* cavity sites: depth below the original surface in sites (1 = just under it) */
} bs_lattice;

bs_status bs_lattice_init(bs_lattice *lat, int w, int h, double h_um, bs_error *err);
void bs_lattice_free(bs_lattice *lat);

/* The neighbour offsets, the one table every rule and the geometry use:
 * the four edge neighbours (west, east, north, south), then the four
 * corners (north-west, north-east, south-west, south-east). A loop over
 * k < 4 visits the edge neighbours, k < 8 all of them; the order is part
 * of the results wherever the first match wins or a draw picks an index. */
__attribute__((unused)) static const int bs_nb_dx[8] = { -1, 1, 0, 0, -1, 1, -1, 1 };
__attribute__((unused)) static const int bs_nb_dy[8] = { 0, 0, -1, 1, -1, -1, 1, 1 };

/* Is marrow site i adjacent (4-neighbour) to bone? */
int bs_lattice_is_endosteal(const bs_lattice *lat, int i);

/* Recomputes surface states after tissue changed near (x0..x1, y0..y1)
 * (inclusive, clipped): marrow sites that became endosteal take the state
 * of an endosteal neighbour (or QUIESCENT), sites that stopped being
 * endosteal get NONE. Deterministic (raster order). */
void bs_lattice_refresh_surface(bs_lattice *lat, int x0, int y0, int x1, int y1);

/* Procedural trabecular geometry (seeded, reproducible). */
typedef struct {
    double trab_thickness_um; /* mean plate/rod thickness */
    double trab_spacing_um; /* mean marrow space between trabeculae */
    double sinusoid_spacing_um; /* mean distance between sinusoids */
    double sinusoid_radius_um;
    double arteriole_spacing_um; /* along the endosteum */
    int flat_surface; /* 1: a single flat bone slab along the bottom (single BMU) */
    double slab_thickness_um; /* for flat_surface */
    int no_bone; /* 1: soft tissue: marrow, sinusoids and arterioles, no bone (geometry.source = soft) */
} bs_geometry_opts;

bs_status bs_lattice_generate(bs_lattice *lat, const bs_geometry_opts *opt, uint64_t seed, bs_error *err);

/* Fills the lattice from a class map (w*h bytes of bs_tissue values, e.g.
 * decoded from a PNG mask by viz/). Bone gets mineral 1. */
bs_status bs_lattice_from_classes(bs_lattice *lat, const uint8_t *classes, bs_error *err);

/* Sets BS_FLAG_PERISINUSOIDAL on every non-vessel site whose centre lies
 * within range_um of a sinusoid site's centre (Euclidean), clears it
 * elsewhere. Sinusoids are fixed, so this runs once, after the geometry is
 * built; the flag travels with lattice.flags in checkpoints. */
void bs_lattice_mark_perisinusoidal(bs_lattice *lat, double range_um);

/* Sets BS_FLAG_ENDOSTEAL_VESSEL on every sinusoid site whose centre lies
 * within range_um of a bone site's centre (Euclidean), clears it elsewhere;
 * returns the number marked. Runs once on the geometry as built (before any
 * remodeling); vessels never move, and the flag travels with lattice.flags
 * in checkpoints, so later bone changes do not move it. */
long bs_lattice_mark_endosteal_vessels(bs_lattice *lat, double range_um);

/* Bone area (sum of mineral * h^2) in um^2, and counts. */
double bs_lattice_bone_area_um2(const bs_lattice *lat);

#endif
