/* shove.c — growth by displacement ("shoving") of tumour cells.
 *
 * A cycling tumour cell that divides needs room for its daughter. Lattice
 * models of growing cell populations let the division push the cells
 * between the mother and the nearest free site one site outward, so that
 * a cell inside a mass can still divide as long as free space lies within
 * a distance (Drasdo & Hoehme 2005; Block, Schoell & Drasdo 2007 Phys Rev
 * Lett 99:248101, their range of pushing Delta L; Radszuweit et al. 2009
 * Phys Rev E 79:051907). The idea is theirs; this is our own rule:
 *
 *   1. the search: a breadth-first search over the 8 neighbours from the
 *      mother, through sites held by cells that can be pushed (tumour
 *      cells and the marrow's motile immune cells), never through bone,
 *      vessels or bone-bound cells (osteoclasts, osteoblasts), and never
 *      farther than dtc.push_radius_um from the mother (Euclidean);
 *   2. the target: of the free marrow sites the search reaches, the one
 *      nearest the mother; but a free resorption cavity (marrow where bone
 *      was) within dtc.cavity_reach_um comes first, so a lesion beside
 *      resorbing osteoclasts fills their pits, which then cannot be refilled
 *      while it is there; ties broken by a draw of the mother's;
 *   3. the push: every cell on the search's path from the mother to the
 *      target moves one site toward the target, and the daughter takes the
 *      site next to the mother. No free site within reach: no division
 *      (the cell waits, as before).
 *
 * Pushing crosses tile borders, so it cannot run inside the tiled pass:
 * there a dividing cell only records a request in its tile's own segment
 * of a preallocated list; this file's serial pass then carries the
 * requests out in tile order (and within a tile in raster order). The
 * result does not depend on the thread count, and the step allocates
 * nothing. */
#include "shove.h"

#include <math.h>
#include <stdlib.h>

#include "celltypes.h"
#include "rules.h"

/* the largest push radius the registry accepts (dtc.push_radius_um), in um */
#define PUSH_RADIUS_MAX_UM 1000.0
/* added to the rank of a free site that is not a cavity within
 * dtc.cavity_reach_um: larger than any squared distance in the window */
#define CAVITY_LAST (1 << 24)

bs_status bs_shove_init(bs_model *m, bs_error *err)
{
    bs_shove *sh = &m->shove;
    int w = m->lat.w, h = m->lat.h;
    int rmax = (int)ceil(PUSH_RADIUS_MAX_UM / m->lat.h_um);
    int big = w > h ? w : h;
    if (rmax > big) rmax = big;
    sh->win_max = 2 * rmax + 1;
    size_t nwin = (size_t)sh->win_max * (size_t)sh->win_max;
    sh->seg = BS_TILE * BS_TILE;
    size_t nreq = (size_t)m->ntiles * (size_t)sh->seg;
    sh->req_slot = malloc(nreq * sizeof *sh->req_slot);
    sh->req_id = malloc(nreq * sizeof *sh->req_id);
    sh->req_n = calloc((size_t)m->ntiles, sizeof *sh->req_n);
    sh->oc_site = malloc(nreq * sizeof *sh->oc_site);
    sh->oc_n = calloc((size_t)m->ntiles, sizeof *sh->oc_n);
    sh->queue = malloc(nwin * sizeof *sh->queue);
    sh->parent = malloc(nwin * sizeof *sh->parent);
    sh->mark = calloc(nwin, sizeof *sh->mark);
    sh->path = malloc(nwin * sizeof *sh->path);
    sh->search = 0;
    if (!sh->req_slot || !sh->req_id || !sh->req_n || !sh->oc_site || !sh->oc_n || !sh->queue || !sh->parent ||
            !sh->mark || !sh->path)
        return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    return BS_OK;
}

void bs_shove_free(bs_model *m)
{
    bs_shove *sh = &m->shove;
    free(sh->req_slot);
    free(sh->req_id);
    free(sh->req_n);
    free(sh->oc_site);
    free(sh->oc_n);
    free(sh->queue);
    free(sh->parent);
    free(sh->mark);
    free(sh->path);
    *sh = (bs_shove){ 0 };
}

void bs_shove_request(bs_model *m, int slot)
{
    bs_shove *sh = &m->shove;
    int i = m->store.site[slot], w = m->lat.w;
    int tile = (i / w / BS_TILE) * ((w + BS_TILE - 1) / BS_TILE) + (i % w) / BS_TILE;
    uint32_t k = sh->req_n[tile];
    if (k >= (uint32_t)sh->seg) return; /* cannot happen: one cell per site */
    size_t at = (size_t)tile * (size_t)sh->seg + k;
    sh->req_slot[at] = slot;
    sh->req_id[at] = m->store.id[slot];
    sh->req_n[tile] = k + 1;
}

void bs_shove_request_oc(bs_model *m, int i)
{
    bs_shove *sh = &m->shove;
    int w = m->lat.w;
    int tile = (i / w / BS_TILE) * ((w + BS_TILE - 1) / BS_TILE) + (i % w) / BS_TILE;
    uint32_t k = sh->oc_n[tile];
    if (k >= (uint32_t)sh->seg) return; /* cannot happen: one request per site */
    sh->oc_site[(size_t)tile * (size_t)sh->seg + k] = i;
    sh->oc_n[tile] = k + 1;
}

/* cells a division may push: tumour cells and the motile immune cells of
 * the marrow; osteoclasts and osteoblasts sit on bone and are obstacles */
static int pushable(uint8_t type)
{
    return type == BS_CELL_DTC || type == BS_CELL_TCELL || type == BS_CELL_NK || type == BS_CELL_MDSC;
}

/* the daughter of the cell in `slot` at free site j */
static int place_daughter(bs_model *m, int slot, int j)
{
    bs_store *s = &m->store;
    int c = bs_store_spawn(s, j, BS_CELL_DTC, BS_DTC_PROLIFERATING, bs_store_child_id(s->id[slot], m->step, 0));
    if (c < 0) return 0;
    s->stamp[c] = s->stamp[slot];
    s->aux[c] = s->aux[slot]; /* lineage and the commitment to cycling (dtc.c) */
    return 1;
}

/* One division of the tumour cell in `slot` (free_origin 0): returns 1 if
 * a daughter was placed. With free_origin 1 the cell in `slot` is pushed
 * itself, with the chain beyond it, so that its site comes free: returns
 * 1 if it did. */
static int shove_one(bs_model *m, int slot, int free_origin)
{
    bs_shove *sh = &m->shove;
    bs_store *s = &m->store;
    const bs_lattice *lat = &m->lat;
    const int w = lat->w, hgt = lat->h;
    int R = m->r.dtc.push_radius;
    if (R < 1) R = 1; /* a free neighbour is always in reach */
    if (2 * R + 1 > sh->win_max) R = (sh->win_max - 1) / 2;
    const int W = 2 * R + 1;
    const int i0 = s->site[slot], x0 = i0 % w, y0 = i0 / w;
    const int r2max = R * R;
    /* the draw that breaks ties: the division's, or the osteoclast's push */
    const uint32_t draw = free_origin ? 8 : 6;
    /* a resorption cavity within `cr` sites is taken before plain marrow */
    const int cr = m->r.dtc.cavity_reach < R ? m->r.dtc.cavity_reach : R, c2max = cr * cr;
    int cavity_near = 0;
    for (int y = y0 - cr; y <= y0 + cr && !cavity_near; y++)
        for (int x = x0 - cr; x <= x0 + cr; x++) {
            if (x < 0 || y < 0 || x >= w || y >= hgt) continue;
            int j = y * w + x;
            if ((lat->flags[j] & BS_FLAG_CAVITY) && lat->tissue[j] == BS_TISSUE_MARROW && s->occ[j] < 0 &&
                    (x - x0) * (x - x0) + (y - y0) * (y - y0) <= c2max) {
                cavity_near = 1;
                break;
            }
        }
    /* a free edge neighbour is as near as a site can be: no search (unless
     * a free cavity farther off but within reach comes first) */
    {
        int cand[4], n = 0, ncav = 0;
        for (int k = 0; k < 4; k++) {
            int nx = x0 + bs_nb_dx[k], ny = y0 + bs_nb_dy[k];
            if (nx < 0 || ny < 0 || nx >= w || ny >= hgt) continue;
            int j = ny * w + nx;
            if (s->occ[j] < 0 && lat->tissue[j] == BS_TISSUE_MARROW) {
                int cav = cavity_near && (lat->flags[j] & BS_FLAG_CAVITY);
                if (cav && ncav == 0) n = 0; /* cavities first */
                if (cav || ncav == 0) cand[n++] = j;
                ncav += cav;
            }
        }
        if (n > 0 && (!cavity_near || ncav > 0)) {
            int j = cand[n == 1 ? 0 : (int)bs_draw_agent_below(m, s->id[slot], draw, (uint32_t)n)];
            if (free_origin) {
                bs_store_move(s, slot, j);
                return 1;
            }
            return place_daughter(m, slot, j);
        }
    }
    /* window index of site (x, y): (y - y0 + R) * W + (x - x0 + R) */
    if (++sh->search == 0) { /* wrapped: clear the marks once */
        for (long k = 0; k < (long)sh->win_max * sh->win_max; k++) sh->mark[k] = 0;
        sh->search = 1;
    }
    const uint32_t now = sh->search;
    int head = 0, tail = 0, best_d2 = -1, nbest = 0;
    int c0 = R * W + R;
    sh->queue[tail++] = c0;
    sh->mark[c0] = now;
    sh->parent[c0] = -1;
    /* free candidates at the best distance are collected at the end of the
     * queue array, growing down from W*W - 1 (the queue never meets them:
     * a site is either queued or a candidate, once) */
    int cand_top = W * W;
    while (head < tail) {
        int c = sh->queue[head++];
        int cx = c % W - R + x0, cy = c / W - R + y0;
        for (int k = 0; k < 8; k++) {
            int nx = cx + bs_nb_dx[k], ny = cy + bs_nb_dy[k];
            if (nx < 0 || ny < 0 || nx >= w || ny >= hgt) continue;
            int dx = nx - x0, dy = ny - y0, d2 = dx * dx + dy * dy;
            if (d2 > r2max) continue;
            int cn = (dy + R) * W + (dx + R);
            if (sh->mark[cn] == now) continue;
            int j = ny * w + nx;
            if (lat->tissue[j] != BS_TISSUE_MARROW) continue;
            int o = s->occ[j];
            if (o < 0) {
                sh->mark[cn] = now;
                sh->parent[cn] = c;
                /* rank: a cavity within reach, then plain free marrow */
                int key = d2 + ((d2 <= c2max && (lat->flags[j] & BS_FLAG_CAVITY)) ? 0 : CAVITY_LAST);
                if (best_d2 < 0 || key < best_d2) {
                    best_d2 = key;
                    cand_top = W * W;
                    nbest = 0;
                }
                if (key == best_d2) {
                    sh->queue[--cand_top] = cn;
                    nbest++;
                }
                continue;
            }
            if (!pushable(s->type[o])) continue;
            /* a site farther than the best free one so far cannot lead to a
             * nearer free site only if every site beyond is farther; BFS
             * order is not distance order, so keep searching the window */
            sh->mark[cn] = now;
            sh->parent[cn] = c;
            if (tail >= cand_top) break; /* cannot happen: each site once */
            sh->queue[tail++] = cn;
        }
    }
    if (nbest == 0) return 0; /* crowded within reach: wait */
    /* the candidates were written in discovery order from W*W - 1 down */
    int pick = nbest == 1 ? 0 : (int)bs_draw_agent_below(m, s->id[slot], draw, (uint32_t)nbest);
    int target = sh->queue[W * W - 1 - pick];
    /* the chain from the target back to the mother */
    int len = 0;
    for (int c = target; c >= 0; c = sh->parent[c]) sh->path[len++] = c;
    /* path[len-1] is the mother, path[0] the free target; shift outward
     * (the mother too when her site is to come free) */
    for (int k = 1; k < (free_origin ? len : len - 1); k++) {
        int from = sh->path[k], to = sh->path[k - 1];
        int fs = (from / W - R + y0) * w + (from % W - R + x0);
        int ts = (to / W - R + y0) * w + (to % W - R + x0);
        bs_store_move(s, s->occ[fs], ts);
    }
    if (free_origin) return 1;
    int nb = sh->path[len - 2];
    return place_daughter(m, slot, (nb / W - R + y0) * w + (nb % W - R + x0));
}

int bs_shove_divisions(bs_model *m)
{
    bs_shove *sh = &m->shove;
    bs_store *s = &m->store;
    int placed = 0;
    for (int t = 0; t < m->ntiles; t++) {
        uint32_t n = sh->oc_n[t];
        sh->oc_n[t] = 0;
        for (uint32_t k = 0; k < n; k++) {
            int i = sh->oc_site[(size_t)t * (size_t)sh->seg + k];
            if (bs_agent_within(m, i, m->r.oc_exclusion, BS_CELL_OSTEOCLAST)) continue;
            int slot = s->occ[i];
            if (slot >= 0 && !(pushable(s->type[slot]) && shove_one(m, slot, 1))) continue;
            bs_oc_spawn(m, i);
        }
    }
    for (int t = 0; t < m->ntiles; t++) {
        uint32_t n = sh->req_n[t];
        sh->req_n[t] = 0;
        for (uint32_t k = 0; k < n; k++) {
            size_t at = (size_t)t * (size_t)sh->seg + k;
            int slot = sh->req_slot[at];
            /* killed later in the tile pass (or its slot reused): no division */
            if (s->type[slot] != BS_CELL_DTC || s->id[slot] != sh->req_id[at] || s->state[slot] != BS_DTC_PROLIFERATING)
                continue;
            placed += shove_one(m, slot, 0);
        }
    }
    return placed;
}
