/* Seeding of a scenario's tumour cells (agents/dtc.c bs_dtc_seed, issue
 * 16): a scenario asking for cells on quiescent endosteum and cells in
 * fresh BRCs gets both kinds. The BMUs opened under the BRC-placed cells
 * must not take the quiet surface from the quiescent-placed ones: at step
 * 0 each quiescent-placed cell sits on quiescent surface, dormancy push 1
 * (dormant-eligible), outside every seeding BMU; what does not fit is
 * counted in store.full_refusals. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "celltypes.h"
#include "rules.h"

typedef struct {
    long quiet, quiet_eligible, brc, brc_in_bmu, other;
} seed_count;

static seed_count count_seeded(const bs_model *m)
{
    seed_count c = { 0 };
    for (int slot = 0; slot < m->store.capacity; slot++) {
        if (m->store.type[slot] != BS_CELL_DTC) continue;
        int i = m->store.site[slot];
        int origin = (int)m->store.aux[slot];
        if (origin == (int)BS_DTC_FROM_QUIESCENT) {
            c.quiet++;
            if (m->lat.surface[i] == BS_SURF_QUIESCENT && m->lat.bmu[i] < 0 && bs_dtc_niche_dormancy(m, i) == 1.0f &&
                    m->store.state[slot] == BS_DTC_PROLIFERATING)
                c.quiet_eligible++;
        } else if (origin == (int)BS_DTC_FROM_BRC) {
            c.brc++;
            if (m->lat.surface[i] == BS_SURF_RESORPTION && m->lat.bmu[i] >= 0) c.brc_in_bmu++;
        } else {
            c.other++;
        }
    }
    return c;
}

static bs_model *seeded(uint64_t seed, int size, int nq, int nb, bs_registry **reg, bs_paramset **ps)
{
    char s_seed[64], s_w[64], s_h[64], s_q[64], s_b[64];
    snprintf(s_seed, sizeof s_seed, "run.seed=%llu", (unsigned long long)seed);
    snprintf(s_w, sizeof s_w, "lattice.width_sites=%d", size);
    snprintf(s_h, sizeof s_h, "lattice.height_sites=%d", size);
    snprintf(s_q, sizeof s_q, "dtc.seed_quiescent_n=%d", nq);
    snprintf(s_b, sizeof s_b, "dtc.seed_brc_n=%d", nb);
    const char *const sets[] = { s_seed, s_w, s_h, s_q, s_b, NULL };
    *ps = bs_test_params(reg, "dormancy", sets);
    return bs_test_model(*ps);
}

static void done(bs_model *m, bs_paramset *ps, bs_registry *reg)
{
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

/* The dormancy scenario's 40 + 40 on its own 250 x 250 lattice and on the
 * 80 x 80 and 120 x 120 of the quick validation (B8b, B22b/B22d): every
 * quiescent-placed cell is dormant-eligible at step 0, every BRC-placed
 * cell sits in a BMU, and placed + refused is what was asked; at 250 x 250
 * all 80 fit. The old seeding (BRC cells first, each BMU turning the quiet
 * surface around it to resorption) placed no quiescent cell at 80 x 80
 * and 0-2 on some seeds at 120 x 120. */
static void test_both_kinds_placed(void **state)
{
    (void)state;
    const int sizes[] = { 250, 120, 80 };
    for (int k = 0; k < 3; k++)
        for (uint64_t seed = 1000; seed <= 1004; seed++) {
            bs_registry *reg;
            bs_paramset *ps;
            bs_model *m = seeded(seed, sizes[k], 40, 40, &reg, &ps);
            seed_count c = count_seeded(m);
            print_message("size %d seed %llu: quiet %ld (eligible %ld), brc %ld (in bmu %ld), refused %llu\n", sizes[k],
                    (unsigned long long)seed, c.quiet, c.quiet_eligible, c.brc, c.brc_in_bmu,
                    (unsigned long long)m->store.full_refusals);
            assert_int_equal(c.other, 0);
            assert_int_equal(c.quiet, 40);
            assert_int_equal(c.quiet_eligible, 40);
            assert_int_equal(c.brc, c.brc_in_bmu);
            if (sizes[k] == 250) assert_int_equal(c.brc, 40);
            assert_int_equal((long)m->store.full_refusals, 80 - c.quiet - c.brc);
            done(m, ps, reg);
        }
}

/* Same seed, same cells: the seeding is serial and deterministic. */
static void test_seeding_deterministic(void **state)
{
    (void)state;
    bs_registry *ra, *rb;
    bs_paramset *pa, *pb;
    bs_model *a = seeded(1001, 80, 40, 40, &ra, &pa);
    bs_model *b = seeded(1001, 80, 40, 40, &rb, &pb);
    assert_int_equal(a->store.capacity, b->store.capacity);
    long n = (long)a->lat.w * a->lat.h;
    for (long i = 0; i < n; i++) {
        int sa = a->store.occ[i], sb = b->store.occ[i];
        assert_int_equal(sa >= 0, sb >= 0);
        if (sa >= 0) {
            assert_int_equal(a->store.type[sa], b->store.type[sb]);
            assert_true(a->store.id[sa] == b->store.id[sb]);
        }
        assert_int_equal(a->lat.surface[i], b->lat.surface[i]);
    }
    done(a, pa, ra);
    done(b, pb, rb);
}

/* A lattice too small for both: the quiescent cells come first, BRC
 * cells that find no quiet site far enough from them are refused and
 * counted, never dropped silently. */
static void test_refusals_counted_when_crowded(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_paramset *ps;
    bs_model *m = seeded(1000, 32, 200, 200, &reg, &ps);
    seed_count c = count_seeded(m);
    assert_int_equal(c.quiet, c.quiet_eligible);
    assert_true(c.quiet > 0);
    assert_true(c.quiet + c.brc < 400);
    assert_int_equal((long)m->store.full_refusals, 400 - c.quiet - c.brc);
    done(m, ps, reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_kinds_placed),
        cmocka_unit_test(test_seeding_deterministic),
        cmocka_unit_test(test_refusals_counted_when_crowded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
