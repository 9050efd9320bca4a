#include "celltypes.h"

/* Okabe & Ito (2008) colour-blind-safe palette:
 * orange E69F00, sky blue 56B4E9, bluish green 009E73, yellow F0E442,
 * blue 0072B2, vermillion D55E00, reddish purple CC79A7, black.
 * Black would vanish on the dark marrow, so MDSCs take the grey 999999 that
 * the common variant of the palette puts in its place. */
const bs_cell_desc bs_cell_types[BS_CELL_TYPE_COUNT] = {
    [BS_CELL_OSTEOCLAST] = {
        .name = "osteoclast", .plural = "osteoclasts", .n_states = 1,
        .state_names = {"resorbing"},
        .rgb = {{0xD5, 0x5E, 0x00}},
        .shape = {BS_SHAPE_DISC},
        .footprint_sites = 3,
    },
    [BS_CELL_OSTEOBLAST] = {
        .name = "osteoblast", .plural = "osteoblasts", .n_states = 1,
        .state_names = {"forming"},
        .rgb = {{0x00, 0x72, 0xB2}},
        .shape = {BS_SHAPE_SQUARE},
        .footprint_sites = 1,
    },
    [BS_CELL_DTC] = {
        .name = "dtc", .plural = "tumour cells", .n_states = 3,
        .state_names = {"homing", "dormant", "proliferating"},
        .rgb = {{0xF0, 0xE4, 0x42}, {0x56, 0xB4, 0xE9}, {0xCC, 0x79, 0xA7}},
        .shape = {BS_SHAPE_DIAMOND, BS_SHAPE_RING, BS_SHAPE_DISC},
        .footprint_sites = 1,
    },
    [BS_CELL_TCELL] = {
        .name = "tcell", .plural = "CD8 T cells", .n_states = 3,
        .state_names = {"non-activated", "activated", "exhausted"},
        .rgb = {{0x00, 0x9E, 0x73}, {0x00, 0x9E, 0x73}, {0x00, 0x00, 0x00}}, /* exhausted: burnt out */
        .shape = {BS_SHAPE_RING, BS_SHAPE_DISC, BS_SHAPE_SQUARE},
        .footprint_sites = 1,
    },
    [BS_CELL_NK] = {
        .name = "nk", .plural = "NK cells", .n_states = 2,
        .state_names = {"cytotoxic", "spent"},
        .rgb = {{0xE6, 0x9F, 0x00}, {0xE6, 0x9F, 0x00}},
        .shape = {BS_SHAPE_DIAMOND, BS_SHAPE_RING},
        .footprint_sites = 1,
    },
    [BS_CELL_MDSC] = {
        .name = "mdsc", .plural = "MDSCs", .n_states = 1,
        .state_names = {"suppressive"},
        .rgb = {{0x99, 0x99, 0x99}},
        .shape = {BS_SHAPE_SQUARE},
        .footprint_sites = 1,
    },
};
