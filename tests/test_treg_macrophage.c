/* Unit tests of the regulatory T cells (agents/treg.c) and macrophages
 * (agents/macrophage.c): on the flat slab, calling each type's rules
 * through its descriptor. Binomial counts are checked within about 4 sd
 * of their expectation; a checkpoint round trip of a run with both types
 * gives the same state as the uninterrupted run. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flat_fixture.h"
#include "catalog.h"
#include "celltypes.h"
#include "rules.h"

static int treg, mac;

static bs_model *flat_model(const char *const *extra)
{
    static const char *const defaults[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", "tcell.lifespan_d=365",
        "treg.lifespan_d=365", "treg.egress_per_d=0", "treg.speed_um_per_min=0", "macrophage.lifespan_d=365",
        "macrophage.speed_um_per_min=0", "macrophage.m1_revert_per_d=0", NULL };
    treg = bs_celltype_find("treg");
    mac = bs_celltype_find("macrophage");
    return bs_flat_model(defaults, extra);
}

static void fill_field(bs_model *m, int f, float v)
{
    for (int i = 0; i < W * H; i++) m->fields[f].c[i] = v;
}

/* Both types are shipped: registered after the six older ones, with their
 * parameters in the catalog, a stated radiosensitivity and their CSV
 * columns. */
static void test_registered(void **state)
{
    (void)state;
    bs_error err;
    assert_int_equal(bs_celltypes_check(&err), BS_OK);
    assert_int_equal(bs_celltype_find("treg"), 6);
    assert_int_equal(bs_celltype_find("macrophage"), 7);
    const bs_celltype *t = bs_celltype_of(6), *mc = bs_celltype_of(7);
    assert_int_equal(t->radiation.model, BS_RT_D0);
    assert_string_equal(t->radiation.d0_key, "treg.rt_D0_Gy");
    assert_int_equal(mc->radiation.model, BS_RT_LQ);
    assert_string_equal(t->observables[0].column, "n_tregs");
    assert_string_equal(mc->observables[0].column, "n_macrophages_m1");
    assert_string_equal(mc->observables[1].column, "n_macrophages_m2");
    assert_int_equal(mc->n_states, 2);
    bs_registry *r = bs_catalog_registry(&err);
    assert_non_null(r);
    assert_true(bs_registry_find(r, "treg.depletion_per_d") >= 0);
    assert_true(bs_registry_find(r, "macrophage.polarisation_block") >= 0);
    bs_registry_destroy(r);
}

/* Entry at the sinusoid on CXCL12: rate recruit x CXCR4 occupancy
 * (no tumour chemokine here); the CXCR4 antagonist's block removes it. */
static void test_treg_entry_cxcl12(void **state)
{
    (void)state;
    const char *const extra[] = { "treg.recruit_per_d=24", "geometry.sinusoid_spacing_um=200",
        NULL }; /* 1/h per vessel site at saturation */
    bs_model *m = flat_model(extra);
    assert_true(m->n_vessels > 0);
    fill_field(m, BS_FIELD_CXCL12, 0.2f); /* = treg.cxcl12_half_au: occupancy 1/2 */
    fill_field(m, BS_FIELD_CHEMOKINE, 0.0f);
    /* vessel sites with a marrow neighbour: the others let nothing in */
    int open_vessels = 0;
    for (int k = 0; k < m->n_vessels; k++) {
        int v = m->vessels[k], x = v % W, y = v / W, any = 0;
        for (int d = 0; d < 8; d++) {
            int nx = x + bs_nb_dx[d], ny = y + bs_nb_dy[d];
            any |= nx >= 0 && ny >= 0 && nx < W && ny < H && m->lat.tissue[ny * W + nx] == BS_TISSUE_MARROW;
        }
        open_vessels += any;
    }
    assert_true(open_vessels > 0);
    long trials = 0, in = 0;
    for (int k = 0; k < 400; k++) {
        m->step = (uint64_t)k;
        long before = 0, after = 0;
        for (int i = 0; i < W * H; i++) before += m->store.occ[i] >= 0 && m->store.type[m->store.occ[i]] == treg;
        bs_celltype_of(treg)->arrivals(m);
        for (int i = 0; i < W * H; i++) {
            int s = m->store.occ[i];
            after += s >= 0 && m->store.type[s] == treg;
            if (s >= 0 && m->store.type[s] == treg) bs_store_kill(&m->store, s); /* room for the next entry */
        }
        in += after - before;
        trials += open_vessels;
    }
    bs_flat_assert_binomial(in, trials, 1.0 - exp(-0.5));
    m->r.fx.cxcr4_block = 1.0f;
    long blocked = 0;
    for (int k = 400; k < 600; k++) {
        m->step = (uint64_t)k;
        bs_celltype_of(treg)->arrivals(m);
    }
    for (int i = 0; i < W * H; i++) blocked += m->store.occ[i] >= 0 && m->store.type[m->store.occ[i]] == treg;
    assert_int_equal(blocked, 0);
    done(m);
}

/* Retention: a Treg leaves at egress x (1 - CXCR4 occupancy); with the
 * sensing blocked it leaves at the full egress rate, with saturating
 * CXCL12 and no block (almost) never. Depletion adds its own hazard. */
static long survivors(const char *const *extra, float cxcl12, float block, int steps)
{
    bs_model *m = flat_model(extra);
    fill_field(m, BS_FIELD_CXCL12, cxcl12);
    m->r.fx.cxcr4_block = block;
    for (int k = 0; k < 200; k++)
        assert_true(bs_store_spawn(&m->store, site(k % W, k / W), (uint8_t)treg, 0, 500 + (uint64_t)k) >= 0);
    for (int h = 0; h < steps; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 200; k++) {
            int s = m->store.occ[site(k % W, k / W)];
            if (s >= 0) bs_flat_act(m, s);
        }
    }
    long n = 0;
    for (int k = 0; k < 200; k++) n += m->store.occ[site(k % W, k / W)] >= 0;
    done(m);
    return n;
}

static void test_treg_retention_and_depletion(void **state)
{
    (void)state;
    const char *const egress[] = { "treg.egress_per_d=2.4", NULL }; /* 0.1/h */
    bs_flat_assert_binomial(survivors(egress, 0.0f, 0.0f, 10), 200, exp(-1.0));
    bs_flat_assert_binomial(survivors(egress, 0.2f, 1.0f, 10), 200, exp(-1.0)); /* blocked: as without CXCL12 */
    bs_flat_assert_binomial(survivors(egress, 0.2f, 0.0f, 10), 200, exp(-0.5)); /* half occupancy: half the egress */
    const char *const dep[] = { "treg.depletion_per_d=2", NULL };
    bs_flat_assert_binomial(survivors(dep, 0.0f, 0.0f, 24), 200, exp(-2.0));
    assert_int_equal(survivors(NULL, 0.0f, 0.0f, 24), 200); /* no egress, no depletion, lifespan 365 d: few die */
}

/* The walk (immune.h bs_immune_walk_up with two gradients): a Treg climbs
 * CXCL12 as its CXCR4 senses it, so the antagonist's full block leaves an
 * unbiased walk; with CXCL12 flat it climbs the tumour chemokine instead.
 * 4 sub-moves per step; the mean displacement of 300 one-step walks from
 * the same site, each a fresh cell. */
static double mean_shift(bs_model *m, int along_x)
{
    int x0 = 20, y0 = 7;
    double sum = 0.0;
    for (int k = 0; k < 300; k++) {
        m->step = (uint64_t)k;
        int s = bs_store_spawn(&m->store, site(x0, y0), (uint8_t)treg, 0, 9000 + (uint64_t)k);
        assert_true(s >= 0);
        bs_flat_act(m, s);
        int i = m->store.site[s];
        sum += along_x ? (double)(i % W - x0) : (double)(y0 - i / W);
        bs_store_kill(&m->store, s);
    }
    return sum / 300.0;
}

static void test_treg_walk_gradients(void **state)
{
    (void)state;
    const char *const extra[] = { "treg.speed_um_per_min=0.67", "treg.chemotaxis=100", "treg.tumour_chemotaxis=100",
        "treg.cd8_disarm_per_h=0", "treg.oc_contact_apoptosis_per_h=0", NULL };
    bs_model *m = flat_model(extra);
    for (int y = 0; y < H; y++) /* no vessel or bone on the cells' way: 4 moves from (20, 7) */
        for (int x = 14; x <= 26; x++)
            if (y >= 3 && y <= 11) assert_int_equal(m->lat.tissue[site(x, y)], BS_TISSUE_MARROW);
    assert_int_equal(m->r.fx.cxcr4_block == 0.0f, 1);
    fill_field(m, BS_FIELD_CHEMOKINE, 0.0f);
    for (int i = 0; i < W * H; i++) m->fields[BS_FIELD_CXCL12].c[i] = 0.02f * (float)(i % W); /* rises with x */
    double up = mean_shift(m, 1);
    print_message("  CXCL12 ramp: mean shift %+.2f sites\n", up);
    assert_true(up > 1.5); /* 4 moves, most of them up the ramp */
    m->r.fx.cxcr4_block = 1.0f;
    double blind = mean_shift(m, 1);
    print_message("  CXCR4 blocked: mean shift %+.2f sites\n", blind);
    assert_true(fabs(blind) < 0.5); /* unbiased: sd of the mean ~0.15 */
    m->r.fx.cxcr4_block = 0.0f;
    fill_field(m, BS_FIELD_CXCL12, 0.2f);
    for (int i = 0; i < W * H; i++)
        m->fields[BS_FIELD_CHEMOKINE].c[i] = 0.05f * (float)(H - i / W); /* rises to y = 0 */
    double chem = mean_shift(m, 0);
    print_message("  chemokine ramp: mean shift %+.2f sites toward it\n", chem);
    assert_true(chem > 1.0);
    done(m);
}

/* Contact suppression: an activated CD8 cell next to a Treg returns to the
 * non-activated state with chance 1 - exp(-treg.cd8_disarm_per_h dt). */
static void test_treg_disarms_cd8(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    long disarmed = 0, trials = 0;
    for (int k = 0; k < 13; k++) {
        assert_true(bs_store_spawn(&m->store, site(1 + 3 * k, 5), (uint8_t)treg, 0, 100 + (uint64_t)k) >= 0);
        assert_true(
                bs_store_spawn(&m->store, site(1 + 3 * k, 6), BS_CELL_TCELL, BS_TCELL_ACTIVE, 200 + (uint64_t)k) >= 0);
    }
    for (int h = 0; h < 200; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 13; k++) {
            int tc = m->store.occ[site(1 + 3 * k, 6)];
            m->store.state[tc] = BS_TCELL_ACTIVE;
            bs_flat_act(m, m->store.occ[site(1 + 3 * k, 5)]);
            disarmed += m->store.state[tc] == BS_TCELL_NAIVE;
            trials++;
        }
    }
    bs_flat_assert_binomial(disarmed, trials, 1.0 - exp(-0.2));
    done(m);
    const char *const off[] = { "treg.cd8_disarm_per_h=0", NULL };
    m = flat_model(off);
    assert_true(bs_store_spawn(&m->store, site(5, 5), (uint8_t)treg, 0, 1) >= 0);
    int tc = bs_store_spawn(&m->store, site(5, 6), BS_CELL_TCELL, BS_TCELL_ACTIVE, 2);
    for (int h = 0; h < 100; h++) {
        m->step = (uint64_t)h;
        bs_flat_act(m, m->store.occ[site(5, 5)]);
    }
    assert_int_equal(m->store.state[tc], BS_TCELL_ACTIVE);
    done(m);
}

/* Contact with a differentiating osteoclast (younger than
 * treg.oc_precursor_age_h): it dies with chance 1 - exp(-0.1 dt); a mature
 * one is spared. */
static void test_treg_oc_contact(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    long died = 0, trials = 0;
    for (int k = 0; k < 13; k++)
        assert_true(bs_store_spawn(&m->store, site(1 + 3 * k, 12), (uint8_t)treg, 0, 100 + (uint64_t)k) >= 0);
    uint64_t next = 1000;
    for (int h = 0; h < 200; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 13; k++) {
            int j = site(1 + 3 * k, 13);
            if (m->store.occ[j] < 0) bs_store_spawn(&m->store, j, BS_CELL_OSTEOCLAST, 0, next++);
            m->store.age_h[m->store.occ[j]] = 10.0f;
            bs_flat_act(m, m->store.occ[site(1 + 3 * k, 12)]);
            died += m->store.occ[j] < 0;
            trials++;
        }
    }
    bs_flat_assert_binomial(died, trials, 1.0 - exp(-0.1));
    for (int k = 0; k < 13; k++) {
        int j = site(1 + 3 * k, 13);
        if (m->store.occ[j] < 0) bs_store_spawn(&m->store, j, BS_CELL_OSTEOCLAST, 0, next++);
        m->store.age_h[m->store.occ[j]] = 100.0f; /* mature */
    }
    for (int h = 200; h < 300; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 13; k++) bs_flat_act(m, m->store.occ[site(1 + 3 * k, 12)]);
    }
    for (int k = 0; k < 13; k++) assert_true(m->store.occ[site(1 + 3 * k, 13)] >= 0);
    done(m);
}

/* What the cells add to the fields (celltypes.h sources): a Treg, its
 * IL-10/TGF-beta to the suppression field and its anti-osteoclastogenic
 * signal to the OPG field; an M2 macrophage IL-10 and TGF-beta; an M1 one
 * nothing. */
static void test_sources(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    int st = bs_store_spawn(&m->store, site(5, 5), (uint8_t)treg, 0, 1);
    int m1 = bs_store_spawn(&m->store, site(8, 5), (uint8_t)mac, 0, 2);
    int m2 = bs_store_spawn(&m->store, site(11, 5), (uint8_t)mac, 1, 3);
    bs_site_sources a;
    memset(&a, 0, sizeof a);
    bs_celltype_of(treg)->sources(m, st, site(5, 5), &a);
    assert_true(fabs((double)a.suppr - bs_param(m->ps, "treg.suppr_per_h")) < 1e-6);
    assert_true(fabs((double)a.opg - bs_param(m->ps, "treg.oc_inhibit_per_h")) < 1e-6);
    memset(&a, 0, sizeof a);
    bs_celltype_of(mac)->sources(m, m1, site(8, 5), &a);
    assert_true(a.suppr == 0.0f && a.tgfb == 0.0f);
    bs_celltype_of(mac)->sources(m, m2, site(11, 5), &a);
    assert_true(fabs((double)a.suppr - bs_param(m->ps, "macrophage.m2_suppr_per_h")) < 1e-6);
    assert_true(fabs((double)a.tgfb - bs_param(m->ps, "macrophage.m2_tgfb_per_h")) < 1e-6);
    /* in the step, a Treg's OPG-equivalent lowers the RANKL signal around it */
    bs_model_step(m);
    float with = m->fields[BS_FIELD_OPG].c[site(5, 5)], tg_m2 = m->fields[BS_FIELD_TGFB].c[site(11, 5)],
          tg_m1 = m->fields[BS_FIELD_TGFB].c[site(8, 2)];
    assert_true(with > 0.0f);
    assert_true(tg_m2 > tg_m1);
    done(m);
}

/* M1: kills an engaged tumour cell at m1_kill_per_h_contact; polarises to
 * M2 at m2_polarise_per_d x occupancy of the chemokine x (1 - block); M2
 * does not kill. */
static void test_macrophage_kill_and_polarise(void **state)
{
    (void)state;
    const char *const nopol[] = { "macrophage.m2_polarise_per_d=0", "macrophage.m1_kill_per_h_contact=0.1", NULL };
    bs_model *m = flat_model(nopol);
    long kills = 0, trials = 0;
    uint64_t next = 10000;
    for (int k = 0; k < 13; k++)
        assert_true(bs_store_spawn(&m->store, site(1 + 3 * k, 5), (uint8_t)mac, 0, 100 + (uint64_t)k) >= 0);
    for (int h = 0; h < 300; h++) {
        m->step = (uint64_t)h;
        for (int k = 0; k < 13; k++) {
            if (m->store.occ[site(1 + 3 * k, 6)] < 0)
                bs_store_spawn(&m->store, site(1 + 3 * k, 6), BS_CELL_DTC, BS_DTC_PROLIFERATING, next++);
            bs_flat_act(m, m->store.occ[site(1 + 3 * k, 5)]);
            kills += m->store.occ[site(1 + 3 * k, 6)] < 0;
            trials++;
        }
    }
    bs_flat_assert_binomial(kills, trials, 1.0 - exp(-0.1));
    done(m);

    /* polarisation at chemokine = half: rate 24/d x 1/2 = 0.5/h */
    const char *const pol[] = { "macrophage.m2_polarise_per_d=24", NULL };
    for (int blocked = 0; blocked < 2; blocked++) {
        const char *const polb[] = { "macrophage.m2_polarise_per_d=24", "macrophage.polarisation_block=1", NULL };
        m = flat_model(blocked ? polb : pol);
        fill_field(m, BS_FIELD_CHEMOKINE, 0.5f);
        long m2 = 0;
        for (int k = 0; k < 200; k++)
            assert_true(bs_store_spawn(&m->store, site(k % W, k / W), (uint8_t)mac, 0, 500 + (uint64_t)k) >= 0);
        m->step = 7;
        for (int k = 0; k < 200; k++) bs_flat_act(m, m->store.occ[site(k % W, k / W)]);
        for (int k = 0; k < 200; k++) m2 += m->store.state[m->store.occ[site(k % W, k / W)]] == 1;
        if (blocked)
            assert_int_equal(m2, 0);
        else
            bs_flat_assert_binomial(m2, 200, 1.0 - exp(-0.5));
        done(m);
    }

    /* M2 next to a tumour cell does not kill */
    const char *const m2kill[] = { "macrophage.m1_kill_per_h_contact=10", NULL };
    m = flat_model(m2kill);
    int s2 = bs_store_spawn(&m->store, site(5, 5), (uint8_t)mac, 1, 1);
    bs_store_spawn(&m->store, site(5, 6), BS_CELL_DTC, BS_DTC_PROLIFERATING, 2);
    for (int h = 0; h < 50; h++) {
        m->step = (uint64_t)h;
        bs_flat_act(m, s2);
    }
    assert_true(m->store.occ[site(5, 6)] >= 0);
    done(m);
}

/* A run with both types resumed from a checkpoint ends in the same store
 * and fields as the uninterrupted run. */
static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    const char *const sets[] = { "lattice.width_sites=48", "lattice.height_sites=48", "treg.recruit_per_d=0.5",
        "macrophage.recruit_per_d=0.5", "tcell.recruit_per_d=0.2", "run.burn_in_d=0", NULL };
    bs_registry *r2;
    bs_paramset *p2 = bs_test_params(&r2, "immune_surveillance", sets);
    bs_model *a = bs_test_model(p2);
    bs_test_run_days(a, 6);
    char path[] = "/tmp/bs_test_cells_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    bs_error err;
    assert_int_equal(bs_model_save(a, NULL, 0, path, &err), BS_OK);
    bs_ckpt_reader *rd = NULL;
    assert_int_equal(bs_ckpt_open(&rd, path, &err), BS_OK);
    bs_paramset *p3 = NULL;
    assert_int_equal(bs_model_load_params(rd, r2, &p3, NULL, 0, &err), BS_OK);
    bs_model *b = NULL;
    assert_int_equal(bs_model_load(rd, p3, &b, &err), BS_OK);
    bs_ckpt_close(rd);
    unlink(path);
    bs_test_run_days(a, 6);
    bs_test_run_days(b, 6);
    long n_treg = 0, n_mac = 0;
    for (int i = 0; i < 48 * 48; i++) {
        int sa = a->store.occ[i], sb = b->store.occ[i];
        assert_int_equal(sa >= 0, sb >= 0);
        if (sa < 0) continue;
        assert_int_equal(a->store.type[sa], b->store.type[sb]);
        assert_int_equal(a->store.state[sa], b->store.state[sb]);
        assert_true(a->store.id[sa] == b->store.id[sb]);
        n_treg += a->store.type[sa] == treg;
        n_mac += a->store.type[sa] == mac;
        assert_true(a->fields[BS_FIELD_SUPPR].c[i] == b->fields[BS_FIELD_SUPPR].c[i]);
    }
    print_message("  %ld Tregs, %ld macrophages at day 12\n", n_treg, n_mac);
    assert_true(n_treg > 0 && n_mac > 0);
    bs_model_destroy(a);
    bs_model_destroy(b);
    bs_paramset_destroy(p2);
    bs_paramset_destroy(p3);
    bs_registry_destroy(r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),
        cmocka_unit_test(test_treg_entry_cxcl12),
        cmocka_unit_test(test_treg_retention_and_depletion),
        cmocka_unit_test(test_treg_walk_gradients),
        cmocka_unit_test(test_treg_disarms_cd8),
        cmocka_unit_test(test_treg_oc_contact),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_macrophage_kill_and_polarise),
        cmocka_unit_test(test_checkpoint_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
