/* Agent store: spawn/kill/move, occupancy, free list, capacity, tiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <omp.h>

#include "model.h"
#include "spatial.h"
#include "store.h"

static void test_spawn_move_kill(void **state)
{
    (void)state;
    bs_store s;
    bs_error err;
    assert_int_equal(bs_store_init(&s, 10, 10, 3, &err), BS_OK);
    int a = bs_store_spawn(&s, 5, 1, 0, 100);
    assert_true(a >= 0);
    assert_int_equal(s.occ[5], a);
    assert_int_equal(bs_store_spawn(&s, 5, 1, 0, 101), -1); /* site taken */
    bs_store_move(&s, a, 6);
    assert_int_equal(s.occ[5], -1);
    assert_int_equal(s.occ[6], a);
    assert_int_equal(s.site[a], 6);
    int b = bs_store_spawn(&s, 7, 0, 0, 102), c = bs_store_spawn(&s, 8, 0, 0, 103);
    assert_true(b >= 0 && c >= 0);
    assert_int_equal(s.count, 3);
    assert_int_equal(bs_store_spawn(&s, 9, 0, 0, 104), -1); /* full: reported, no crash */
    assert_true(s.hard_cap_hit);
    assert_int_equal(s.full_refusals, 1); /* counted */
    assert_int_equal(bs_store_spawn(&s, 9, 0, 0, 104), -1);
    assert_int_equal(s.full_refusals, 2);
    assert_int_equal(bs_store_spawn(&s, 6, 0, 0, 105), -1); /* a taken site is not a full store */
    assert_int_equal(s.full_refusals, 2);
    bs_store_kill(&s, b);
    assert_int_equal(s.occ[7], -1);
    assert_int_equal(s.count, 2);
    assert_true(bs_store_spawn(&s, 9, 0, 0, 104) == b); /* slot reused */
    bs_store_free(&s);
    bs_store_free(NULL);
}

static void test_child_ids_distinct(void **state)
{
    (void)state;
    uint64_t a = bs_store_child_id(1, 10, 0), b = bs_store_child_id(1, 10, 1), c = bs_store_child_id(1, 11, 0),
             d = bs_store_child_id(2, 10, 0);
    assert_true(a != b && a != c && a != d && b != c);
    assert_true(a == bs_store_child_id(1, 10, 0));
}

/* Every site is visited exactly once per sweep, and no two tiles that run
 * at the same time are within reach of each other. */
typedef struct {
    int w, h;
    int *visits;
    int *colour_of_tile_run; /* not needed beyond counting */
} tile_ctx;

static void count_tile(int x0, int y0, int x1, int y1, void *vctx)
{
    tile_ctx *c = vctx;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
#pragma omp atomic
            c->visits[y * c->w + x]++;
}

static void test_tiles_cover_once(void **state)
{
    (void)state;
    static int visits[77 * 53];
    memset(visits, 0, sizeof visits);
    tile_ctx c = { 77, 53, visits, NULL };
    omp_set_num_threads(4);
    bs_store_for_tiles(77, 53, 16, count_tile, &c);
    for (int i = 0; i < 77 * 53; i++) assert_int_equal(visits[i], 1);
}

/* live_types: a spawn or retype sets the type's bit, a kill leaves it (may
 * hold), a scan makes it exact; searches trust a clear bit. */
static void test_live_types(void **state)
{
    (void)state;
    bs_store s;
    bs_error err;
    assert_int_equal(bs_store_init(&s, 10, 10, 4, &err), BS_OK);
    assert_false(bs_store_may_hold(&s, 0));
    int a = bs_store_spawn(&s, 3, 2, 0, 1);
    assert_true(a >= 0);
    assert_true(bs_store_may_hold(&s, 2));
    assert_false(bs_store_may_hold(&s, 0));
    bs_store_retype(&s, a, 5);
    assert_int_equal(s.type[a], 5);
    assert_true(bs_store_may_hold(&s, 5));
    bs_store_scan_types(&s);
    assert_false(bs_store_may_hold(&s, 2)); /* none of type 2 left */
    assert_true(bs_store_may_hold(&s, 5));
    bs_store_kill(&s, a);
    assert_true(bs_store_may_hold(&s, 5)); /* kills never clear */
    bs_store_scan_types(&s);
    assert_false(bs_store_may_hold(&s, 5));
    assert_false(bs_store_may_hold(&s, 40)); /* out of the mask: none */
    bs_store_free(&s);
}

/* The occupancy bits (issue 19) follow every spawn, kill and move, on a
 * lattice whose width is not a multiple of 64 (a row's last word partly
 * used), and a rebuild from occ gives the same bits. */
static void test_occupancy_bits(void **state)
{
    (void)state;
    const int w = 70, h = 9;
    bs_store s;
    assert_int_equal(bs_store_init(&s, w, h, w * h, NULL), BS_OK);
    assert_true(bs_store_bits_consistent(&s));
    uint32_t r = 12345u;
    int live[64];
    int nlive = 0;
    for (int k = 0; k < 4000; k++) {
        r = r * 1664525u + 1013904223u;
        const int site = (int)((r >> 8) % (uint32_t)(w * h)), op = (int)(r >> 29);
        if (op < 4 && nlive < 64) {
            const int slot = bs_store_spawn(&s, site, 1, 0, (uint64_t)k);
            if (slot >= 0) live[nlive++] = slot;
        } else if (op < 6 && nlive > 0) {
            const int j = (int)(r % (uint32_t)nlive);
            if (s.occ[site] < 0) bs_store_move(&s, live[j], site);
        } else if (nlive > 0) {
            const int j = (int)(r % (uint32_t)nlive);
            bs_store_kill(&s, live[j]);
            live[j] = live[--nlive];
        }
        if (k % 97 == 0) assert_true(bs_store_bits_consistent(&s));
    }
    assert_true(bs_store_bits_consistent(&s));
    assert_true(nlive > 10);
    /* a stale copy (as after occ is written wholesale) is caught, and the
     * rebuild gives back what spawn, kill and move kept */
    uint64_t keep[2 * 9];
    memcpy(keep, s.occ_bits, sizeof keep);
    s.occ_bits[0] ^= 1u;
    assert_false(bs_store_bits_consistent(&s));
    bs_store_rebuild_bits(&s);
    assert_memory_equal(keep, s.occ_bits, sizeof keep);
    bs_store_free(&s);
}

/* Sized by agents (issue 19): slots are handed out lowest first and the
 * last freed first, capacity counts the slots handed out, and the slot
 * arrays of a store with room for every site of a 4096 x 4096 lattice take
 * memory for the agents placed, not for the sites. */
static long resident_bytes(void)
{
    long pages = 0, res = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = -1;
    fclose(f);
    return res < 0 ? -1 : res * 4096L;
}

static void test_sized_by_agents(void **state)
{
    (void)state;
    bs_store s;
    assert_int_equal(bs_store_init(&s, 20, 20, 400, NULL), BS_OK);
    assert_int_equal(s.capacity, 0);
    assert_true(bs_store_slot_bytes(&s) == 0.0);
    int a = bs_store_spawn(&s, 1, 0, 0, 1), b = bs_store_spawn(&s, 2, 0, 0, 2), c = bs_store_spawn(&s, 3, 0, 0, 3);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(c, 2);
    assert_int_equal(s.capacity, 3);
    bs_store_kill(&s, b);
    bs_store_kill(&s, a);
    assert_int_equal(s.n_free, 2);
    assert_int_equal(s.capacity, 3); /* freed slots stay handed out */
    assert_int_equal(bs_store_spawn(&s, 4, 0, 0, 4), a); /* the last freed first */
    assert_int_equal(bs_store_spawn(&s, 5, 0, 0, 5), b);
    assert_int_equal(bs_store_spawn(&s, 6, 0, 0, 6), 3); /* then the lowest never used */
    assert_int_equal(s.count + s.n_free, s.capacity);
    assert_true(bs_store_slot_bytes(&s) == 4.0 * (double)bs_store_bytes_per_slot());
    bs_store_free(&s);

    const int w = 4096, h = 4096, n = 100000;
    const long r0 = resident_bytes();
    if (r0 < 0) skip();
    assert_int_equal(bs_store_init(&s, w, h, w * h, NULL), BS_OK);
    for (int k = 0; k < n; k++) assert_int_equal(bs_store_spawn(&s, k * 167, 1, 0, (uint64_t)k), k);
    const long grown = resident_bytes() - r0;
    /* the per-site occupancy (occ, written at creation, and its bits) plus
     * n slots and slack for the allocator; every slot of the reservation
     * made resident would add 30 x 16.8 M = 503 MB */
    const double site_bytes = (double)w * h * (sizeof(int32_t) + 1.0 / 8.0);
    const double bound = site_bytes + n * (double)bs_store_bytes_per_slot() + 32e6;
    print_message("store at 4096^2 with %d agents: %.1f MB resident (bound %.1f MB, the slots alone %.1f MB)\n", n,
            grown / 1e6, bound / 1e6, bs_store_slot_bytes(&s) / 1e6);
    assert_true(s.slot_mem_mapped ? (double)grown < bound : 1);
    bs_store_free(&s);
}

/* bs_agent_within finds occupied sites through the occupancy bits (issue
 * 19): the same answer as reading every site of the square, for squares
 * inside one word of bits and across two or three, at the lattice's edges,
 * and for types present and absent. */
static int within_by_sites(const bs_store *s, int w, int h, int i, int radius, int type)
{
    const int x = i % w, y = i / w;
    for (int yy = y - radius; yy <= y + radius; yy++)
        for (int xx = x - radius; xx <= x + radius; xx++) {
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            const int slot = s->occ[yy * w + xx];
            if (slot >= 0 && s->type[slot] == type) return 1;
        }
    return 0;
}

static void test_agent_within_bits(void **state)
{
    (void)state;
    static bs_model m; /* only the lattice size and the store are read */
    const int w = 150, h = 9;
    m.lat.w = w;
    m.lat.h = h;
    assert_int_equal(bs_store_init(&m.store, w, h, w * h, NULL), BS_OK);
    uint32_t r = 7u;
    for (int k = 0; k < 60; k++) {
        r = r * 1664525u + 1013904223u;
        bs_store_spawn(&m.store, (int)((r >> 8) % (uint32_t)(w * h)), (uint8_t)(r >> 30 & 1u), 0, (uint64_t)k);
    }
    /* one agent of type 2 at the first word's last column, then moved
     * across the word border */
    const int lone = bs_store_spawn(&m.store, 4 * w + 63, 2, 0, 999);
    assert_true(lone >= 0);
    static const int radii[] = { 0, 1, 2, 5, 20, 70 };
    long hits = 0, checks = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < w * h; i++)
            for (int k = 0; k < (int)(sizeof radii / sizeof radii[0]); k++)
                for (int type = 0; type < 4; type++) {
                    const int want = within_by_sites(&m.store, w, h, i, radii[k], type);
                    assert_int_equal(bs_agent_within(&m, i, radii[k], type), want);
                    hits += want;
                    checks++;
                }
        if (m.store.occ[4 * w + 64] >= 0) bs_store_kill(&m.store, m.store.occ[4 * w + 64]);
        bs_store_move(&m.store, lone, 4 * w + 64);
    }
    assert_true(hits > 0 && hits < checks); /* both answers were asked for */
    bs_store_free(&m.store);
}

/* bs_survey_idle8 and bs_survey_idle64 (the BMU survey's skips of eight
 * and 64 sites, bmu.c) say 1
 * exactly when all eight belong to no BMU, none has the cavity flag and no
 * bone site among them has its mineral below 1: then bs_bmu_update would
 * skip each of them (no BMU, no fill target). Blocks are drawn all bone,
 * all marrow and mixed, so each branch of the word-wise test is taken. */
static void test_survey_idle8(void **state)
{
    (void)state;
    enum { N = 64 };
    uint8_t tissue[N], flags[N], surface[N] = { 0 };
    float mineral[N];
    int32_t bmu[N];
    bs_lattice lat = {
        .w = N, .h = 1, .tissue = tissue, .flags = flags, .surface = surface, .mineral = mineral, .bmu = bmu
    };
    uint32_t r = 11u;
    int idle = 0, busy = 0, idle64 = 0;
    for (int trial = 0; trial < 20000; trial++) {
        for (int i = 0; i < N; i++) {
            r = r * 1664525u + 1013904223u;
            const int kind = (int)(r >> 28) & 3; /* per block of 8: mostly one kind */
            const int bone = (trial & 3) == 0 ? 1 : (trial & 3) == 1 ? 0 : kind < 2;
            tissue[i] = bone ? BS_TISSUE_BONE : (r >> 20 & 7u) == 0 ? BS_TISSUE_VESSEL : BS_TISSUE_MARROW;
            mineral[i] = bone ? ((r >> 8 & 63u) == 0 ? 0.5f : (r >> 8 & 63u) == 1 ? 1.25f : 1.0f) : 0.0f;
            flags[i] = (uint8_t)((r >> 14 & 127u) == 0 ? BS_FLAG_CAVITY : 0u) | (uint8_t)((r >> 3) & 2u);
            bmu[i] = (r >> 22 & 127u) == 0 ? (int32_t)(r >> 12 & 1023u) : -1 - (int32_t)(r & 3u);
        }
        int want64 = 1;
        for (int k = 0; k < N; k++)
            if (bmu[k] >= 0 || (flags[k] & BS_FLAG_CAVITY) || (tissue[k] == BS_TISSUE_BONE && mineral[k] < 1.0f))
                want64 = 0;
        assert_int_equal(bs_survey_idle64(&lat, 0), want64);
        idle64 += want64;
        for (int b = 0; b < N; b += 8) {
            int want = 1;
            for (int k = b; k < b + 8; k++)
                if (bmu[k] >= 0 || (flags[k] & BS_FLAG_CAVITY) || (tissue[k] == BS_TISSUE_BONE && mineral[k] < 1.0f))
                    want = 0;
            assert_int_equal(bs_survey_idle8(&lat, b), want);
            idle += want;
            busy += !want;
        }
    }
    assert_true(idle > 1000 && busy > 1000);
    assert_true(idle64 > 100 && idle64 < 19900); /* both answers for 64 sites too */
}

/* Two stores holding the same agents, their slots taken and freed in
 * different orders (as two thread counts do), are the same arrays after
 * bs_store_canonicalise: slot k is the agent on the k-th occupied site,
 * the free list is empty, and the next spawn takes slot count. */
static void test_canonicalise(void **state)
{
    (void)state;
    bs_store a, b;
    bs_error err;
    assert_int_equal(bs_store_init(&a, 12, 9, 64, &err), BS_OK);
    assert_int_equal(bs_store_init(&b, 12, 9, 64, &err), BS_OK);
    const int sites[] = { 40, 3, 77, 12, 100, 58, 21, 9 };
    int sa[8], sb[8];
    for (int k = 0; k < 8; k++) sa[k] = bs_store_spawn(&a, sites[k], (uint8_t)(k % 3), (uint8_t)(k % 2), 1000u + (uint64_t)k);
    for (int k = 7; k >= 0; k--) sb[k] = bs_store_spawn(&b, sites[k], (uint8_t)(k % 3), (uint8_t)(k % 2), 1000u + (uint64_t)k);
    for (int k = 0; k < 8; k++) {
        a.age_h[sa[k]] = b.age_h[sb[k]] = 0.5f * (float)k;
        a.aux[sa[k]] = b.aux[sb[k]] = 3.0f - (float)k;
        a.stamp[sa[k]] = b.stamp[sb[k]] = 7u * (uint32_t)k;
    }
    bs_store_kill(&a, sa[2]); /* site 77 */
    bs_store_kill(&a, sa[5]);
    bs_store_kill(&b, sb[5]);
    bs_store_kill(&b, sb[2]);
    bs_store_move(&a, sa[0], 41);
    bs_store_move(&b, sb[0], 41);
    assert_memory_not_equal(a.id, b.id, 6 * sizeof *a.id); /* different layouts to begin with */
    assert_int_equal(bs_store_canonicalise(&a, &err), BS_OK);
    assert_int_equal(bs_store_canonicalise(&b, &err), BS_OK);
    assert_int_equal(a.count, 6);
    assert_int_equal(a.capacity, 6);
    assert_int_equal(a.n_free, 0);
    assert_int_equal(b.capacity, 6);
    assert_memory_equal(a.type, b.type, 6);
    assert_memory_equal(a.state, b.state, 6);
    assert_memory_equal(a.site, b.site, 6 * sizeof *a.site);
    assert_memory_equal(a.id, b.id, 6 * sizeof *a.id);
    assert_memory_equal(a.age_h, b.age_h, 6 * sizeof *a.age_h);
    assert_memory_equal(a.aux, b.aux, 6 * sizeof *a.aux);
    assert_memory_equal(a.stamp, b.stamp, 6 * sizeof *a.stamp);
    assert_memory_equal(a.occ, b.occ, 12 * 9 * sizeof *a.occ);
    for (int k = 1; k < 6; k++) assert_true(a.site[k - 1] < a.site[k]); /* site order */
    for (int k = 0; k < 6; k++) assert_int_equal(a.occ[a.site[k]], k);
    assert_int_equal(a.site[0], 3);
    assert_int_equal(a.id[0], 1001u); /* the agent on site 3 */
    assert_true(a.stamp[0] == 7u && a.aux[0] == 2.0f);
    assert_int_equal(bs_store_spawn(&a, 50, 1, 0, 2000), 6);
    bs_store_free(&a);
    bs_store_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_move_kill),
        cmocka_unit_test(test_child_ids_distinct),
        cmocka_unit_test(test_tiles_cover_once),
        cmocka_unit_test(test_live_types),
        cmocka_unit_test(test_occupancy_bits),
        cmocka_unit_test(test_sized_by_agents),
        cmocka_unit_test(test_agent_within_bits),
        cmocka_unit_test(test_survey_idle8),
        cmocka_unit_test(test_canonicalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
