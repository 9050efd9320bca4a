#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#if defined(MAP_ANONYMOUS) && defined(MAP_NORESERVE)
#define BS_STORE_HAVE_MMAP 1
#endif
#endif

/* The slot arrays, in this order, each starting on its own page of one
 * reservation. */
#define SLOT_ARRAYS 8
static size_t slot_array_elem(int k)
{
    static const size_t elem[SLOT_ARRAYS] = { sizeof(uint8_t), sizeof(uint8_t), sizeof(int32_t), sizeof(uint64_t),
        sizeof(float), sizeof(float), sizeof(uint32_t), sizeof(int32_t) };
    return elem[k];
}

size_t bs_store_bytes_per_slot(void)
{
    size_t b = 0;
    for (int k = 0; k < SLOT_ARRAYS; k++) b += slot_array_elem(k);
    return b;
}

double bs_store_slot_bytes(const bs_store *s)
{
    return (double)s->capacity * (double)bs_store_bytes_per_slot();
}

#define SLOT_PAGE 4096u

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Address space for the slot arrays: an anonymous private mapping whose
 * pages the system zero-fills and makes resident on first write, with no
 * swap reserved up front (MAP_NORESERVE), so an untouched slot costs no
 * memory. Where there is no mmap: calloc (on most systems also lazily
 * made resident for large sizes). */
void *bs_reserve(size_t bytes, int *mapped)
{
#if defined(BS_STORE_HAVE_MMAP)
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        *mapped = 1;
        return p;
    }
#endif
    *mapped = 0;
    return calloc(1, bytes);
}

void bs_unreserve(void *p, size_t bytes, int mapped)
{
    if (!p) return;
#if defined(BS_STORE_HAVE_MMAP)
    if (mapped) {
        munmap(p, bytes);
        return;
    }
#endif
    (void)bytes;
    (void)mapped;
    free(p);
}

bs_status bs_store_init(bs_store *s, int w, int h, int max_slots, bs_error *err)
{
    memset(s, 0, sizeof *s);
    if (max_slots < 1) return bs_fail(err, BS_ERR_INVALID, "agent capacity %d must be at least 1", max_slots);
    size_t n = (size_t)w * (size_t)h, c = (size_t)max_slots;
    s->max_slots = max_slots;
    s->capacity = 0;
    s->w = w;
    s->h = h;
    size_t off[SLOT_ARRAYS], total = 0;
    for (int k = 0; k < SLOT_ARRAYS; k++) {
        off[k] = total;
        total += round_up(c * slot_array_elem(k), SLOT_PAGE);
    }
    s->slot_mem = bs_reserve(total, &s->slot_mem_mapped);
    s->slot_mem_bytes = total;
    s->occ = malloc(n * sizeof *s->occ);
    s->bits_stride = (w + 63) / 64;
    s->occ_bits = calloc((size_t)s->bits_stride * (size_t)(h > 0 ? h : 1), sizeof *s->occ_bits);
    if (!s->slot_mem || !s->occ || !s->occ_bits) {
        bs_store_free(s);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory for %d agents on %d x %d sites", max_slots, w, h);
    }
    char *base = s->slot_mem;
    s->type = (uint8_t *)(base + off[0]);
    s->state = (uint8_t *)(base + off[1]);
    s->site = (int32_t *)(void *)(base + off[2]);
    s->id = (uint64_t *)(void *)(base + off[3]);
    s->age_h = (float *)(void *)(base + off[4]);
    s->aux = (float *)(void *)(base + off[5]);
    s->stamp = (uint32_t *)(void *)(base + off[6]);
    s->free_slots = (int32_t *)(void *)(base + off[7]);
    for (size_t i = 0; i < n; i++) s->occ[i] = -1;
    s->n_free = 0;
    return BS_OK;
}

void bs_store_free(bs_store *s)
{
    if (!s) return;
    bs_unreserve(s->slot_mem, s->slot_mem_bytes, s->slot_mem_mapped);
    free(s->occ);
    free(s->occ_bits);
    memset(s, 0, sizeof *s);
}

static inline uint64_t *bit_word(const bs_store *s, int site, uint64_t *bit)
{
    const int y = site / s->w, x = site - y * s->w;
    *bit = 1ull << (x & 63);
    return s->occ_bits + (size_t)y * (size_t)s->bits_stride + (size_t)(x >> 6);
}

static inline void bit_set(bs_store *s, int site)
{
    uint64_t b;
    uint64_t *wd = bit_word(s, site, &b);
    __atomic_fetch_or(wd, b, __ATOMIC_RELAXED);
}

static inline void bit_clear(bs_store *s, int site)
{
    uint64_t b;
    uint64_t *wd = bit_word(s, site, &b);
    __atomic_fetch_and(wd, ~b, __ATOMIC_RELAXED);
}

void bs_store_rebuild_bits(bs_store *s)
{
    for (int y = 0; y < s->h; y++) {
        uint64_t *row = s->occ_bits + (size_t)y * (size_t)s->bits_stride;
        memset(row, 0, (size_t)s->bits_stride * sizeof *row);
        for (int x = 0; x < s->w; x++)
            if (s->occ[(size_t)y * (size_t)s->w + (size_t)x] >= 0) row[x >> 6] |= 1ull << (x & 63);
    }
}

int bs_store_bits_consistent(const bs_store *s)
{
    for (int y = 0; y < s->h; y++) {
        const uint64_t *row = s->occ_bits + (size_t)y * (size_t)s->bits_stride;
        for (int x = 0; x < s->w; x++) {
            const int set = (int)((row[x >> 6] >> (x & 63)) & 1u);
            if (set != (s->occ[(size_t)y * (size_t)s->w + (size_t)x] >= 0)) return 0;
        }
        const int tail = s->w & 63;
        if (tail && (row[s->bits_stride - 1] >> tail) != 0) return 0;
    }
    return 1;
}

int bs_store_spawn(bs_store *s, int site, uint8_t type, uint8_t state, uint64_t id)
{
    if (s->occ[site] >= 0) return -1;
    int slot;
    if (s->n_free > 0) {
        slot = s->free_slots[--s->n_free]; /* the last freed first */
    } else if (s->capacity < s->max_slots) {
        slot = s->capacity++; /* first use of a slot: the lowest never used */
    } else {
        s->hard_cap_hit = 1;
        s->full_refusals++;
        return -1;
    }
    s->type[slot] = type;
    s->state[slot] = state;
    s->site[slot] = site;
    s->id[slot] = id;
    s->age_h[slot] = 0.0f;
    s->aux[slot] = 0.0f;
    s->stamp[slot] = 0;
    s->occ[site] = slot;
    bit_set(s, site);
    s->count++;
    if (type < 32) __atomic_fetch_or(&s->live_types, 1u << type, __ATOMIC_RELAXED);
    return slot;
}

int bs_store_spawn_locked(bs_store *s, int site, uint8_t type, uint8_t state, uint64_t id)
{
    int slot;
#pragma omp critical(bs_store_pool)
    slot = bs_store_spawn(s, site, type, state, id);
    return slot;
}

void bs_store_kill(bs_store *s, int slot)
{
    if (slot < 0 || slot >= s->capacity || s->type[slot] == 0xff) return;
    if (s->occ[s->site[slot]] == slot) {
        s->occ[s->site[slot]] = -1;
        bit_clear(s, s->site[slot]);
    }
    s->type[slot] = 0xff;
    s->free_slots[s->n_free++] = slot;
    s->count--;
}

void bs_store_retype(bs_store *s, int slot, uint8_t type)
{
    s->type[slot] = type;
    if (type < 32) __atomic_fetch_or(&s->live_types, 1u << type, __ATOMIC_RELAXED);
}

bs_status bs_store_canonicalise(bs_store *s, bs_error *err)
{
    const int n = s->count;
    const size_t sites = (size_t)s->w * (size_t)s->h;
    if (n <= 0) {
        for (int k = 0; k < s->capacity; k++) s->type[k] = 0xff;
        s->capacity = 0;
        s->n_free = 0;
        return BS_OK;
    }
    /* one block: the slot arrays of the n live agents, widest first */
    const size_t per = sizeof *s->id + sizeof *s->site + sizeof *s->age_h + sizeof *s->aux + sizeof *s->stamp +
            sizeof *s->type + sizeof *s->state;
    unsigned char *blk = malloc((size_t)n * per);
    if (!blk) return bs_fail(err, BS_ERR_NOMEM, "agent store: out of memory renumbering %d agents", n);
    uint64_t *id = (uint64_t *)(void *)blk;
    int32_t *site = (int32_t *)(void *)(id + n);
    float *age = (float *)(void *)(site + n), *aux = age + n;
    uint32_t *stamp = (uint32_t *)(void *)(aux + n);
    uint8_t *type = (uint8_t *)(void *)(stamp + n), *state = type + n;
    int k = 0;
    for (size_t i = 0; i < sites; i++) {
        const int32_t slot = s->occ[i];
        if (slot < 0) continue;
        id[k] = s->id[slot];
        site[k] = s->site[slot];
        age[k] = s->age_h[slot];
        aux[k] = s->aux[slot];
        stamp[k] = s->stamp[slot];
        type[k] = s->type[slot];
        state[k] = s->state[slot];
        k++;
    }
    if (k != n) { /* every live agent is on its site (store.h); else leave it */
        free(blk);
        return bs_fail(err, BS_ERR_INVALID, "agent store: %d agents on sites, count says %d", k, n);
    }
    for (int j = 0; j < n; j++) {
        s->id[j] = id[j];
        s->site[j] = site[j];
        s->age_h[j] = age[j];
        s->aux[j] = aux[j];
        s->stamp[j] = stamp[j];
        s->type[j] = type[j];
        s->state[j] = state[j];
        s->occ[site[j]] = j;
    }
    for (int j = n; j < s->capacity; j++) s->type[j] = 0xff;
    s->capacity = n;
    s->n_free = 0;
    free(blk);
    return BS_OK;
}

void bs_store_scan_types(bs_store *s)
{
    uint8_t seen[256] = { 0 };
    int k = 0;
    /* slots from capacity on were never used; free slots below it (0xff)
     * come in runs: skip them eight at a time */
    for (; k + 8 <= s->capacity; k += 8) {
        uint64_t word;
        memcpy(&word, s->type + k, sizeof word);
        if (word == UINT64_MAX) continue;
        for (int j = 0; j < 8; j++) seen[s->type[k + j]] = 1;
    }
    for (; k < s->capacity; k++) seen[s->type[k]] = 1;
    uint32_t mask = 0;
    for (int t = 0; t < 32; t++)
        if (seen[t]) mask |= 1u << t;
    __atomic_store_n(&s->live_types, mask, __ATOMIC_RELAXED);
}

void bs_store_kill_locked(bs_store *s, int slot)
{
#pragma omp critical(bs_store_pool)
    bs_store_kill(s, slot);
}

void bs_store_move(bs_store *s, int slot, int to)
{
    s->occ[s->site[slot]] = -1;
    bit_clear(s, s->site[slot]);
    s->occ[to] = slot;
    bit_set(s, to);
    s->site[slot] = to;
}

uint64_t bs_store_child_id(uint64_t parent_id, uint64_t step, uint32_t n)
{
    /* SplitMix64 finaliser over the triple: a 64-bit id that depends only on
     * the lineage, never on which thread or slot made it. */
    uint64_t z = parent_id * 0x9e3779b97f4a7c15ULL ^ (step << 8) ^ n;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    int w, h, tile, ox, oy, nx;
    bs_tile_fn fn;
    void *ctx;
} tile_grid;

static inline void one_tile(const tile_grid *g, int t)
{
    int tx = g->ox + 2 * (t % g->nx), ty = g->oy + 2 * (t / g->nx);
    int x0 = tx * g->tile, y0 = ty * g->tile;
    int x1 = x0 + g->tile - 1, y1 = y0 + g->tile - 1;
    if (x1 >= g->w) x1 = g->w - 1;
    if (y1 >= g->h) y1 = g->h - 1;
    g->fn(x0, y0, x1, y1, g->ctx);
}

/* The tiles of one colour, work-shared over the caller's team; the last
 * colour's loop has no barrier of its own (the region's end is one). */
static void tiles_of_colour(int w, int h, int tile, int ntx, int nty, int colour, bs_tile_fn fn, void *ctx)
{
    const int ox = colour & 1, oy = colour >> 1;
    const int nx = (ntx - ox + 1) / 2, ny = (nty - oy + 1) / 2;
    const int total = nx * ny;
    const tile_grid g = { w, h, tile, ox, oy, nx, fn, ctx };
    if (colour < 3) {
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < total; t++) one_tile(&g, t);
    } else {
#pragma omp for schedule(dynamic, 1) nowait
        for (int t = 0; t < total; t++) one_tile(&g, t);
    }
}

void bs_store_for_tiles(int w, int h, int tile, bs_tile_fn fn, void *ctx)
{
    const int ntx = (w + tile - 1) / tile, nty = (h + tile - 1) / tile;
    /* With an odd tile count, the last and first tile of a row wrap to the
     * same colour only across the domain edge, which no rule crosses.
     * One parallel region for the four colours (issue 19): each colour's
     * loop ends at a barrier (no tile of the next colour may start before
     * the neighbouring tiles of this one are done), but the threads are
     * woken once per step rather than once per colour. */
#pragma omp parallel
    for (int colour = 0; colour < 4; colour++) tiles_of_colour(w, h, tile, ntx, nty, colour, fn, ctx);
}
