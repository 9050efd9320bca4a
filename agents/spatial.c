/* spatial.c — what the rules of several cell types ask about the
 * neighbourhood of a site (spatial.h). Reads only; calls nothing in
 * agents/, so every rule file may use it without a circle. */
#include "spatial.h"

#include "celltypes.h"
#include "model.h"

float bs_rankl_signal(const bs_model *m, int i)
{
    float rankl = m->fields[BS_FIELD_RANKL].c[i];
    float opg = m->fields[BS_FIELD_OPG].c[i];
    if (rankl < 0.0f) rankl = 0.0f; /* solver round-off only */
    if (opg < 0.0f) opg = 0.0f;
    float ifn = m->fields[BS_FIELD_IFNG].c[i];
    if (ifn < 0.0f) ifn = 0.0f;
    /* IFN-gamma degrades TRAF6 and so blunts RANK signalling (Takayanagi
     * 2000): it scales the signal down rather than competing for RANKL. */
    /* rankl_factor: denosumab binds RANKL (x 1 - occupancy) and the
     * precursors it piled up convert when it washes out (therapy.c) */
    return m->r.fx.rankl_factor * rankl / (m->r.rankl_K * (1.0f + opg / m->r.opg_K)) / (1.0f + ifn / m->r.ifng_K);
}

int bs_agent_within(const bs_model *m, int i, int radius, int type)
{
    /* no agent of this type alive: nothing to find (store.h live_types) */
    if (!bs_store_may_hold(&m->store, type)) return 0;
    const bs_lattice *lat = &m->lat;
    const bs_store *st = &m->store;
    const int32_t *occ = st->occ;
    const uint8_t *ty = st->type;
    int x = i % lat->w, y = i / lat->w;
    int xa = x - radius < 0 ? 0 : x - radius, xb = x + radius >= lat->w ? lat->w - 1 : x + radius;
    int ya = y - radius < 0 ? 0 : y - radius, yb = y + radius >= lat->h ? lat->h - 1 : y + radius;
    /* only the occupied sites of the square, found a word of occupancy
     * bits at a time (issue 19: most sites of a neighbourhood are empty);
     * the answer is a yes/no, so the order of the visits does not matter.
     * The bits of the square are written by this thread only (a rule's
     * reach never meets another tile's, store.h), read relaxed like the
     * rest of the word. */
    const int wa = xa >> 6, wb = xb >> 6, stride = st->bits_stride;
    const uint64_t first = ~0ull << (xa & 63), last = ~0ull >> (63 - (xb & 63));
    const uint64_t *brow = st->occ_bits + (size_t)ya * (size_t)stride;
    const int32_t *row = occ + (long)ya * lat->w;
    if (wa == wb) { /* the square's columns in one word of each row */
        const uint64_t mask = first & last;
        brow += wa;
        row += wa << 6;
        for (int yy = ya; yy <= yb; yy++, brow += stride, row += lat->w) {
            uint64_t b = __atomic_load_n(brow, __ATOMIC_RELAXED) & mask;
            while (b) {
                const int s = row[__builtin_ctzll(b)];
                b &= b - 1;
                if (s >= 0 && ty[s] == type) return 1;
            }
        }
        return 0;
    }
    for (int yy = ya; yy <= yb; yy++, brow += stride, row += lat->w) {
        for (int wd = wa; wd <= wb; wd++) {
            uint64_t b = __atomic_load_n(&brow[wd], __ATOMIC_RELAXED);
            if (wd == wa) b &= first;
            if (wd == wb) b &= last;
            while (b) {
                const int s = row[(wd << 6) + __builtin_ctzll(b)];
                b &= b - 1;
                if (s >= 0 && ty[s] == type) return 1;
            }
        }
    }
    return 0;
}

int bs_state_within_disc(const bs_model *m, int i, int R, int type, int state)
{
    if (R < 0) return 0;
    const bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    int x = i % lat->w, y = i / lat->w;
    for (int yy = y - R; yy <= y + R; yy++) {
        if (yy < 0 || yy >= lat->h) continue;
        for (int xx = x - R; xx <= x + R; xx++) {
            if (xx < 0 || xx >= lat->w || (xx - x) * (xx - x) + (yy - y) * (yy - y) > R * R) continue;
            int sl = s->occ[yy * lat->w + xx];
            if (sl >= 0 && s->type[sl] == type && s->state[sl] == state) return 1;
        }
    }
    return 0;
}

int bs_dtc_inhibits_ob(const bs_model *m, int i)
{
    const int R = m->r.dtc.ob_inhibit_radius;
    if (R < 0 || !bs_store_may_hold(&m->store, BS_CELL_DTC)) return 0;
    return bs_state_within_disc(m, i, R, BS_CELL_DTC, BS_DTC_PROLIFERATING);
}

int bs_has_fill_target(const bs_model *m, int i)
{
    const bs_lattice *lat = &m->lat;
    int x = i % lat->w, y = i / lat->w;
    /* the 3 x 3 block: an osteoblast works the floor around it (bmu.c) */
    for (int yy = y - 1; yy <= y + 1; yy++)
        for (int xx = x - 1; xx <= x + 1; xx++) {
            if (xx < 0 || yy < 0 || xx >= lat->w || yy >= lat->h || (xx == x && yy == y)) continue;
            if (bs_is_fill_target(lat, &m->store, yy * lat->w + xx)) return 1;
        }
    return 0;
}

/* A site of the cavity where the next lamella goes: a layer already begun
 * (bone not yet fully mineralised), or an empty cavity site resting on
 * finished bone (4-neighbour). Occupancy is not checked here. */
int bs_is_floor(const bs_lattice *lat, int j)
{
    if (lat->tissue[j] == BS_TISSUE_BONE) return lat->mineral[j] < 1.0f;
    if (!(lat->flags[j] & BS_FLAG_CAVITY) || lat->tissue[j] != BS_TISSUE_MARROW) return 0;
    int x = j % lat->w, y = j / lat->w;
    for (int k = 0; k < 4; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
        int q = ny * lat->w + nx;
        if (lat->tissue[q] == BS_TISSUE_BONE && lat->mineral[q] >= 1.0f) return 1;
    }
    return 0;
}

/* Osteoblasts in the 3 x 3 block around j: *any counts all, the return
 * value those whose osteoid mineralises already (age >= the lag). *marrow
 * gets the number of marrow sites in the block (0: j is walled in). */
int bs_ob_team_around(const bs_model *m, int j, int *any, int *marrow)
{
    const bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    int x = j % lat->w, y = j / lat->w, mature = 0;
    *any = 0;
    *marrow = 0;
    for (int yy = y - 1; yy <= y + 1; yy++)
        for (int xx = x - 1; xx <= x + 1; xx++) {
            if (xx < 0 || yy < 0 || xx >= lat->w || yy >= lat->h || (xx == x && yy == y)) continue;
            int q = yy * lat->w + xx;
            if (lat->tissue[q] == BS_TISSUE_MARROW) (*marrow)++;
            int slot = s->occ[q];
            if (slot < 0 || s->type[slot] != BS_CELL_OSTEOBLAST) continue;
            (*any)++;
            if (s->age_h[slot] >= m->r.ob_lag_h) mature++;
        }
    return mature;
}

/* A floor site in the 3 x 3 block around i with no osteoblast next to it:
 * where a new team member is needed. */
int bs_uncovered_floor_near(const bs_model *m, int i)
{
    const bs_lattice *lat = &m->lat;
    int x = i % lat->w, y = i / lat->w;
    for (int yy = y - 1; yy <= y + 1; yy++)
        for (int xx = x - 1; xx <= x + 1; xx++) {
            if (xx < 0 || yy < 0 || xx >= lat->w || yy >= lat->h || (xx == x && yy == y)) continue;
            int j = yy * lat->w + xx;
            if (!bs_is_fill_target(lat, &m->store, j) || !bs_is_floor(lat, j)) continue;
            int any, marrow;
            bs_ob_team_around(m, j, &any, &marrow);
            if (any == 0) return 1;
        }
    return 0;
}
