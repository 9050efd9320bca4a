/* spatial.h — shared questions about a site's neighbourhood, asked by the
 * rules of more than one cell type, the surface and the therapies. It
 * reads the model and calls no rule, so no rule file depends on another
 * through it (bmu.c <-> osteoclast.c/osteoblast.c used to, when these
 * lived in bmu.c). The one neighbour-offset table is bs_nb_dx/bs_nb_dy
 * (engine/lattice.h). */
#ifndef BS_SPATIAL_H
#define BS_SPATIAL_H

#include <string.h>

#include "lattice.h"
#include "store.h"

struct bs_model;

/* RANKL signal at site i: effective RANKL (OPG-decoy-corrected, IFN-gamma
 * damped, x the therapies' rankl_factor) relative to its half-activation
 * level; about 1 on the homeostatic surface. */
float bs_rankl_signal(const struct bs_model *m, int i);
/* any agent of `type` within the square of half-width radius around i */
int bs_agent_within(const struct bs_model *m, int i, int radius, int type);
/* an agent of `type` in `state` within the Euclidean disc of radius R
 * sites around i (0 when R < 0); reads only the store */
int bs_state_within_disc(const struct bs_model *m, int i, int R, int type, int state);
/* a cycling tumour cell within dtc.ob_inhibit_radius_um of site i: the
 * osteoblasts there are inhibited (osteoblast.c; the tumour's rule,
 * parameters in dtc.c) */
int bs_dtc_inhibits_ob(const struct bs_model *m, int i);
/* site j is something an osteoblast can fill: unfinished bone, or a free
 * cavity site in the marrow (inline: the surface rules ask it of up to
 * eight neighbours per surface site per step, issue 19) */
static inline int bs_is_fill_target(const bs_lattice *lat, const bs_store *s, int j)
{
    if (lat->tissue[j] == BS_TISSUE_BONE) return lat->mineral[j] < 1.0f;
    return (lat->flags[j] & BS_FLAG_CAVITY) && lat->tissue[j] == BS_TISSUE_MARROW && s->occ[j] < 0;
}
/* Sites i..i+7 hold nothing the BMU survey works on (bmu.c
 * bs_bmu_update): none belongs to a BMU and none can be a fill target (no
 * unfinished bone, no cavity flag). Conservative: 0 may still mean eight
 * idle sites. Branch-free over the eight, so the survey skips the plain
 * marrow and finished bone a block at a time (issue 19: the survey visits
 * every site every step). */
static inline int bs_survey_idle8(const bs_lattice *lat, int i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* a word at a time: the eight BMU indices all negative (sign bits of
     * the four pairs), no cavity flag, and every bone site's mineral full */
    uint64_t b[4], t, f;
    memcpy(b, lat->bmu + i, sizeof b);
    memcpy(&t, lat->tissue + i, sizeof t);
    memcpy(&f, lat->flags + i, sizeof f);
    const uint64_t ones = 0x0101010101010101ull, low7 = ones * 0x7fu, signs = 0x8000000080000000ull;
    if (((b[0] & b[1] & b[2] & b[3]) & signs) != signs || (f & (ones * BS_FLAG_CAVITY))) return 0;
    const uint64_t d = t ^ (ones * BS_TISSUE_BONE);
    uint64_t bone = ~(((d & low7) + low7) | d) & (ones * 0x80u); /* 0x80 in each bone byte */
    if (bone == ones * 0x80u) { /* all bone: all eight minerals exactly 1 (finished) is idle */
        uint64_t mn[4];
        const uint64_t full = 0x3f8000003f800000ull; /* two floats 1.0f */
        memcpy(mn, lat->mineral + i, sizeof mn);
        if (((mn[0] ^ full) | (mn[1] ^ full) | (mn[2] ^ full) | (mn[3] ^ full)) == 0) return 1;
    }
    for (; bone; bone &= bone - 1)
        if (lat->mineral[i + (__builtin_ctzll(bone) >> 3)] < 1.0f) return 0;
    return 1;
#else
    int32_t all = -1;
    int work = 0;
    for (int k = 0; k < 8; k++) {
        all &= lat->bmu[i + k];
        work |= (lat->tissue[i + k] == BS_TISSUE_BONE) & (lat->mineral[i + k] < 1.0f);
        work |= (lat->flags[i + k] & BS_FLAG_CAVITY) != 0;
    }
    return all < 0 && !work;
#endif
}
/* The same for the 64 sites i..i+63, as three loops the compiler
 * vectorises (reductions over the BMU indices, the flags and the bone
 * sites' minerals): the survey's first, coarser skip. */
static inline int bs_survey_idle64(const bs_lattice *lat, int i)
{
    const int32_t *bmu = lat->bmu + i;
    const uint8_t *flags = lat->flags + i, *tissue = lat->tissue + i;
    const float *mineral = lat->mineral + i;
    int32_t all = -1;
    uint8_t fl = 0;
    for (int k = 0; k < 64; k++) all &= bmu[k];
    for (int k = 0; k < 64; k++) fl |= flags[k];
    if (all >= 0 || (fl & BS_FLAG_CAVITY)) return 0;
    int unfinished = 0;
    for (int k = 0; k < 64; k++) unfinished |= (tissue[k] == BS_TISSUE_BONE) & (mineral[k] < 1.0f);
    return !unfinished;
}
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
/* one of the four edge neighbours of site (x, y) is a sinusoid or an
 * arteriole; bs_next_to_vessel takes the site index (two divisions more:
 * the sources pass, which asks it of every marrow site every step, passes
 * x and y, issue 19) */
static inline int bs_next_to_vessel_xy(const bs_lattice *lat, int x, int y)
{
    const int w = lat->w;
    const uint8_t *t = lat->tissue + (long)y * w + x;
#define BS_VESSEL_T(v) ((v) == BS_TISSUE_VESSEL || (v) == BS_TISSUE_ARTERIOLE)
    return (x > 0 && BS_VESSEL_T(t[-1])) || (x < w - 1 && BS_VESSEL_T(t[1])) || (y > 0 && BS_VESSEL_T(t[-w])) ||
            (y < lat->h - 1 && BS_VESSEL_T(t[w]));
#undef BS_VESSEL_T
}
static inline int bs_next_to_vessel(const bs_lattice *lat, int i)
{
    return bs_next_to_vessel_xy(lat, i % lat->w, i / lat->w);
}

#endif
