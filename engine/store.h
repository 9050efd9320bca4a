/* store.h — the agent store: struct-of-arrays pools plus an occupancy grid.
 *
 * At most one agent per site: occ[site] holds the slot of the agent there,
 * or -1. Dead slots go on a free list and are handed out again first.
 *
 * Sized by agents (issue 19): the slot arrays are one reservation of
 * address space for max_slots slots, made at creation (the step loop never
 * allocates, and the arrays never move, so a spawn inside a parallel
 * region may extend them). Only slots [0, capacity) have ever been handed
 * out; a spawn with an empty free list takes slot `capacity` and raises it.
 * Pages of the reservation are made resident by the system when first
 * written, so the memory the slots take follows the largest number of
 * agents alive at once (30 bytes per slot, bs_store_slot_bytes), not the
 * number of sites. A spawn beyond max_slots is refused and counted.
 *
 * Results never depend on slot numbers: rules visit agents by scanning
 * sites in a fixed order (see bs_store_for_tiles), and every random draw is
 * keyed by the agent's id, which is derived deterministically from its
 * parent and birth step. */
#ifndef BS_STORE_H
#define BS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bs_status.h"

typedef struct {
    int capacity; /* slots handed out so far (live or on the free list): count + n_free */
    int max_slots; /* the reservation: capacity never exceeds it */
    int count; /* live agents */
    int w, h; /* lattice size for occ */
    /* hot data, indexed by slot */
    uint8_t *type; /* cell type (agents/celltypes.h); 0xff = free slot */
    uint8_t *state; /* type-specific state */
    int32_t *site; /* site index */
    uint64_t *id; /* stable id: the key of this agent's random draws */
    float *age_h; /* time since birth */
    float *aux; /* type-specific scalar (e.g. kills, load) */
    uint32_t *stamp; /* last step this agent acted (avoids acting twice when it moves) */
    int32_t *occ; /* w*h: slot or -1 */
    /* free list: slots below capacity whose agent died, the last one freed on top */
    int32_t *free_slots;
    int n_free;
    void *slot_mem; /* the reservation behind the slot arrays and the free list */
    size_t slot_mem_bytes;
    int slot_mem_mapped; /* 1: slot_mem is an address-space reservation (mmap), 0: calloc */
    int hard_cap_hit; /* a spawn failed because the store was full */
    /* Placements refused for want of room, cumulative: spawns into a full
     * store, and cells a scenario asked for at set-up (initial DTCs) that
     * found no free site. Reported (CSV store_full_refusals, manifest,
     * summary, stderr), never silent. Ordinary crowding (a division or an
     * arrival with no free neighbour) is biology and is not counted. */
    uint64_t full_refusals;
    /* Bit t set when an agent of type t (< 32) may be alive: set by every
     * spawn (and bs_store_retype), recomputed exactly by
     * bs_store_scan_types; never cleared by a kill. Rules skip searches for
     * a type whose bit is clear. Derived, not state. Read and written with
     * relaxed atomics (spawns inside a parallel region). */
    uint32_t live_types;
    /* Occupancy bits: bit x % 64 of word y * bits_stride + x / 64 is set
     * exactly when occ[y * w + x] >= 0. Kept by spawn, kill and move (with
     * atomic read-modify-writes: neighbouring tiles may share a word, never
     * a bit), so a scan finds the live cells of a row a word at a time
     * instead of reading every site (issue 19). Derived, not state. */
    uint64_t *occ_bits;
    int bits_stride; /* words per row */
} bs_store;

/* Address space for `bytes` that takes memory only where written (an
 * anonymous mapping without swap reserved; calloc where there is none);
 * zero-filled. *mapped says which, for bs_unreserve. Used for the slot
 * arrays and for the BMU records (agents/bmu.c). */
void *bs_reserve(size_t bytes, int *mapped);
void bs_unreserve(void *p, size_t bytes, int mapped);

/* A store for a w x h lattice with room for at most max_slots agents. */
bs_status bs_store_init(bs_store *s, int w, int h, int max_slots, bs_error *err);
void bs_store_free(bs_store *s);
/* Bytes of one slot across the slot arrays and the free list. */
size_t bs_store_bytes_per_slot(void);
/* Bytes the slot arrays hold now: capacity slots (what has been written;
 * the rest of the reservation is address space, not memory). The per-site
 * occupancy (occ, occ_bits) is separate: 4.125 bytes per site. */
double bs_store_slot_bytes(const bs_store *s);

/* Places a new agent on a free site; returns its slot or -1 (site taken or
 * store full; sets hard_cap_hit when full). Safe in parallel regions only
 * inside bs_store's critical section: use bs_store_spawn_locked. */
int bs_store_spawn(bs_store *s, int site, uint8_t type, uint8_t state, uint64_t id);
int bs_store_spawn_locked(bs_store *s, int site, uint8_t type, uint8_t state, uint64_t id);
void bs_store_kill(bs_store *s, int slot);
/* Changes a live agent's type (e.g. MDSC -> osteoclast) and sets its bit. */
void bs_store_retype(bs_store *s, int slot, uint8_t type);
/* occ_bits from occ (serial; after occ was written other than by spawn,
 * kill and move, e.g. restored from a checkpoint). */
void bs_store_rebuild_bits(bs_store *s);
/* Renumbers the live agents' slots in the raster order of their sites
 * (the agent on the lowest site index gets slot 0) and empties the free
 * list, so that the slot layout depends only on which agent is where, not
 * on the order in which threads took and freed slots during the steps.
 * Results do not depend on slot numbers (above), so a run goes on exactly
 * as before; a checkpoint written after it holds the same bytes at any
 * thread count. Needs scratch for the live agents: allocates, so call
 * between steps; on failure the store is unchanged. */
bs_status bs_store_canonicalise(bs_store *s, bs_error *err);
/* Whether occ_bits agrees with occ everywhere (for tests). */
int bs_store_bits_consistent(const bs_store *s);
/* live_types from the slots (serial; cost: one byte per slot). */
void bs_store_scan_types(bs_store *s);
/* Whether an agent of `type` may be alive (0: certainly none). */
static inline int bs_store_may_hold(const bs_store *s, int type)
{
    return type < 32 && ((__atomic_load_n(&s->live_types, __ATOMIC_RELAXED) >> type) & 1u);
}
void bs_store_kill_locked(bs_store *s, int slot);
/* Moves agent to a free site (caller checked occ[to] < 0). */
void bs_store_move(bs_store *s, int slot, int to);

/* Deterministic id for a child born from `parent_id` at `step` (draw n). */
uint64_t bs_store_child_id(uint64_t parent_id, uint64_t step, uint32_t n);

/* Spatial colouring. The lattice is cut into tiles of tile x tile sites,
 * coloured in a 2x2 pattern. fn(tile_x0, tile_y0, tile_x1, tile_y1, ctx) is
 * called for every tile of colour 0, then 1, 2, 3; tiles of one colour run
 * in parallel (OpenMP). A rule may read and write sites up to
 * BS_TILE_REACH sites outside its own tile; same-colour tiles are one tile
 * apart, so with reach < tile/2 they never touch the same site. Inside a tile the callback scans sites in raster
 * order. Call from serial code. */
#define BS_TILE_REACH 15
typedef void (*bs_tile_fn)(int x0, int y0, int x1, int y1, void *ctx);
void bs_store_for_tiles(int w, int h, int tile, bs_tile_fn fn, void *ctx);

#endif
