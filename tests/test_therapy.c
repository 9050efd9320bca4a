/* Unit tests of the therapies (agents/therapy.c): names and registry,
 * schedules, live switching, drug levels, and each mechanism on a small
 * flat-slab model, calling the rules directly where that isolates the
 * mechanism. Binomial counts are checked within 4 sd of the formula. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flat_fixture.h"
#include "celltypes.h"
#include "rules.h"
#include "session.h"
#include "therapy.h"

static bs_model *flat_model(const char *const *extra)
{
    static const char *const defaults[] = { "dtc.prolif_per_d=0", "dtc.apoptosis_per_d=0", NULL };
    return bs_flat_model(defaults, extra);
}

/* therapy bookkeeping only (no cells, no fields): n steps */
static void therapy_steps(bs_model *m, long n)
{
    for (long k = 0; k < n; k++) {
        bs_therapy_step(m);
        m->step++;
    }
}

/* |a - b| <= eps, in double, saying what was compared when it fails */
#define assert_close(a, b, eps) close_at((double)(a), (double)(b), (double)(eps), #a, __LINE__)
static void close_at(double a, double b, double eps, const char *what, int line)
{
    if (!(fabs(a - b) <= eps)) fail_msg("line %d: %s = %.9g, expected %.9g +- %.3g", line, what, a, b, eps);
}

static long steps_of_days(const bs_model *m, double d)
{
    return lround(d * 24.0 / m->dt_h);
}

/* a binomial count k of n at probability p, within 4 sd (and 2 counts) */
static void assert_binomial(long k, long n, double p)
{
    double mu = (double)n * p, sd = sqrt((double)n * p * (1.0 - p));
    print_message("  %ld of %ld (expected %.1f, sd %.1f)\n", k, n, mu, sd);
    assert_true(fabs((double)k - mu) <= 4.0 * sd + 2.0);
}

/* fills marrow rows 0..SURF_Y-1 (where free) with cells of one type;
 * returns how many */
static long fill_marrow(bs_model *m, uint8_t type, uint8_t state, uint64_t id0)
{
    long n = 0;
    for (int y = 0; y < SURF_Y; y++)
        for (int x = 0; x < W; x++) {
            int i = site(x, y);
            if (m->lat.tissue[i] != BS_TISSUE_MARROW || m->store.occ[i] >= 0) continue;
            uint8_t st = state;
            if (state == 0xff) st = (x % 2) ? BS_DTC_DORMANT : BS_DTC_PROLIFERATING;
            assert_true(bs_store_spawn(&m->store, i, type, st, id0 + (uint64_t)i) >= 0);
            n++;
        }
    return n;
}

static long count(const bs_model *m, int type, int state)
{
    long n = 0;
    for (int i = 0; i < W * H; i++) {
        int s = m->store.occ[i];
        if (s >= 0 && m->store.type[s] == type && (state < 0 || m->store.state[s] == state)) n++;
    }
    return n;
}

/* ---- names, registry, schedule ---------------------------------------------- */

static void test_names_and_registry(void **state)
{
    (void)state;
    static const char *const expect[] = { "zoledronic_acid", "denosumab", "anti_pd1", "anti_gr1", "cxcr4_antagonist",
        "radiotherapy", "hyperoxia", "mno2", "hdac_inhibitor", "chemotherapy" };
    bs_error err;
    bs_registry *r = bs_catalog_registry(&err);
    assert_non_null(r);
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        assert_string_equal(bs_therapy_names[k], expect[k]);
        assert_int_equal(bs_therapy_find(expect[k]), k);
        assert_true(strlen(bs_therapy_blurbs[k]) > 10);
        char key[96];
        snprintf(key, sizeof key, "therapy.%s.start_day", expect[k]);
        long i = bs_registry_find(r, key);
        assert_true(i >= 0);
        assert_true(bs_registry_at(r, (size_t)i)->def < 0.0); /* not scheduled by default */
        snprintf(key, sizeof key, "therapy.%s.stop_day", expect[k]);
        assert_true(bs_registry_find(r, key) >= 0);
    }
    assert_int_equal(bs_therapy_find("aspirin"), -1);
    assert_int_equal(bs_therapy_find(NULL), -1);
    /* every therapy parameter has a unit and a help text */
    size_t n = 0;
    const bs_param_def *d = bs_therapy_params(&n);
    assert_true(n > 40);
    for (size_t k = 0; k < n; k++) {
        assert_non_null(d[k].unit);
        assert_true(strlen(d[k].help) > 10);
    }
    bs_registry_destroy(r);
}

static void test_bad_schedules_refused(void **state)
{
    (void)state;
    const char *const bad[][3] = {
        { "therapy.denosumab.start_day=100", "therapy.denosumab.stop_day=50", "stop_day = 50 must be after" },
        { "therapy.radiotherapy.region=rectangle", "therapy.radiotherapy.x1_um=0", "x1_um > x0_um" },
        { "therapy.radiotherapy.region=circle", "therapy.radiotherapy.radius_um=0", "radius_um must be > 0" },
    };
    for (int k = 0; k < 3; k++) {
        const char *sets[] = { bad[k][0], bad[k][1], NULL };
        bs_registry *r;
        bs_paramset *p = bs_test_params(&r, NULL, sets);
        bs_model *m = NULL;
        bs_error err;
        assert_int_equal(bs_model_create(&m, p, NULL, &err), BS_ERR_INVALID);
        assert_null(m);
        print_message("  %s\n", err.msg);
        assert_non_null(strstr(err.msg, bad[k][2]));
        bs_paramset_destroy(p);
        bs_registry_destroy(r);
    }
    /* out-of-range day: the registry says so */
    bs_registry *r;
    bs_paramset *p = bs_test_params(&r, NULL, NULL);
    bs_error err;
    assert_int_not_equal(bs_config_set(p, "therapy.anti_pd1.start_day=-5", &err), BS_OK);
    assert_non_null(strstr(err.msg, "valid: -1"));
    bs_paramset_destroy(p);
    bs_registry_destroy(r);
}

/* Start at day 2.5 (step 60 with dt 1 h), a dose every 1 d, stop at day 5:
 * the switch turns on in step 60 and off in step 120; doses at days 2.5,
 * 3.5, 4.5 only. */
static void test_schedule_fires_at_the_right_step(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.denosumab.start_day=2.5", "therapy.denosumab.stop_day=5",
        "therapy.denosumab.interval_d=1", NULL };
    bs_model *m = flat_model(sets);
    double a, b;
    bs_therapy_window(m, BS_THERAPY_DENOSUMAB, &a, &b);
    assert_true(a == 2.5 && b == 5.0);
    bs_therapy_window(m, BS_THERAPY_ANTI_PD1, &a, &b);
    assert_true(a < 0.0 && isinf(b));
    therapy_steps(m, 60);
    assert_false(bs_therapy_is_on(&m->therapy, BS_THERAPY_DENOSUMAB));
    assert_true(m->therapy.level[BS_THERAPY_DENOSUMAB] == 0.0f);
    therapy_steps(m, 1);
    assert_true(bs_therapy_is_on(&m->therapy, BS_THERAPY_DENOSUMAB));
    assert_true(m->therapy.last_dose_d[BS_THERAPY_DENOSUMAB] == 2.5);
    therapy_steps(m, 23);
    assert_true(m->therapy.last_dose_d[BS_THERAPY_DENOSUMAB] == 2.5);
    therapy_steps(m, 1); /* step 84 = day 3.5 */
    assert_true(m->therapy.last_dose_d[BS_THERAPY_DENOSUMAB] == 3.5);
    therapy_steps(m, 120 - 85);
    assert_true(bs_therapy_is_on(&m->therapy, BS_THERAPY_DENOSUMAB));
    therapy_steps(m, 1); /* step 120: off */
    assert_false(bs_therapy_is_on(&m->therapy, BS_THERAPY_DENOSUMAB));
    assert_true(m->therapy.last_dose_d[BS_THERAPY_DENOSUMAB] == 4.5);
    therapy_steps(m, 200);
    assert_true(m->therapy.last_dose_d[BS_THERAPY_DENOSUMAB] == 4.5);
    /* three doses of 1, each decaying with the 26 d half-life */
    double k = log(2.0) / (26.0 * 24.0), t = (double)m->step;
    double expect = exp(-k * (t - 60.0)) + exp(-k * (t - 84.0)) + exp(-k * (t - 108.0));
    assert_close(m->therapy.level[BS_THERAPY_DENOSUMAB], expect, 1e-4);
    done(m);
}

/* Levels decay with their half-lives: a single dose, and an exposure after
 * it stops. */
static void test_levels_decay_with_half_life(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.denosumab.start_day=0", "therapy.denosumab.interval_d=0",
        "therapy.anti_pd1.start_day=0", "therapy.anti_pd1.interval_d=0", "therapy.cxcr4_antagonist.start_day=0",
        "therapy.cxcr4_antagonist.stop_day=1", NULL };
    bs_model *m = flat_model(sets);
    therapy_steps(m, 24);
    assert_close(m->therapy.level[BS_THERAPY_CXCR4_ANTAGONIST], 1.0, 1e-6);
    assert_close(m->r.fx.cxcr4_block, 0.9, 1e-6);
    therapy_steps(m, 4); /* off at step 24, then 4 h of wash-out: half-life 4 h */
    assert_close(m->therapy.level[BS_THERAPY_CXCR4_ANTAGONIST], 0.5, 1e-4);
    therapy_steps(m, steps_of_days(m, 25.0) - 28);
    assert_close(m->therapy.level[BS_THERAPY_ANTI_PD1], 0.5, 1e-3);
    therapy_steps(m, steps_of_days(m, 1.0));
    assert_close(m->therapy.level[BS_THERAPY_DENOSUMAB], 0.5, 1e-3);
    /* anti-PD-1 level -> PD-1 blockade and less exhaustion */
    float L = m->therapy.level[BS_THERAPY_ANTI_PD1];
    assert_close(m->r.fx.pd1_block, L / (L + 0.05f), 1e-3);
    assert_close(m->r.fx.pd1_exhaust_factor, 1.0f - 0.5f * m->r.fx.pd1_block, 1e-5);
    done(m);
}

/* ---- live switch == schedule ---------------------------------------------- */

static void assert_same_state(const bs_model *a, const bs_model *b)
{
    size_t n = (size_t)W * H, c = (size_t)a->store.capacity;
    assert_memory_equal(&a->therapy, &b->therapy, sizeof a->therapy);
    assert_memory_equal(a->lat.tissue, b->lat.tissue, n);
    assert_memory_equal(a->lat.mineral, b->lat.mineral, n * sizeof(float));
    assert_memory_equal(a->lat.za_load, b->lat.za_load, n * sizeof(float));
    assert_memory_equal(a->store.type, b->store.type, c);
    assert_memory_equal(a->store.state, b->store.state, c);
    assert_memory_equal(a->store.occ, b->store.occ, n * sizeof(int32_t));
    assert_memory_equal(a->store.aux, b->store.aux, c * sizeof(float));
    for (int f = 0; f < BS_FIELD_COUNT; f++) assert_memory_equal(a->fields[f].c, b->fields[f].c, n * sizeof(float));
}

static const char *const busy[] = { "bmu.activation_per_site_per_y=20", "dtc.seed_quiescent_n=30", "dtc.seed_brc_n=10",
    "dtc.prolif_per_d=0.3", "tcell.recruit_per_d=2", "mdsc.recruit_per_d=2", "nk.recruit_per_d=2",
    "geometry.sinusoid_spacing_um=150", NULL };

/* Every therapy switched on by its schedule at day 1 gives the same bytes
 * as the same switches made live between steps 23 and 24. */
static void test_live_switch_equals_schedule(void **state)
{
    (void)state;
    bs_registry *ra, *rb;
    bs_paramset *pa = bs_test_params(&ra, NULL, busy), *pb = bs_test_params(&rb, NULL, busy);
    bs_error err;
    const char *geo[] = { "geometry.source=flat", "lattice.width_sites=40", "lattice.height_sites=30",
        "geometry.slab_thickness_um=150", NULL };
    for (int k = 0; geo[k]; k++) {
        assert_int_equal(bs_config_set(pa, geo[k], &err), BS_OK);
        assert_int_equal(bs_config_set(pb, geo[k], &err), BS_OK);
    }
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        char kv[96];
        snprintf(kv, sizeof kv, "therapy.%s.start_day=1", bs_therapy_names[k]);
        assert_int_equal(bs_config_set(pa, kv, &err), BS_OK);
        snprintf(kv, sizeof kv, "therapy.%s.stop_day=3", bs_therapy_names[k]);
        assert_int_equal(bs_config_set(pa, kv, &err), BS_OK);
    }
    assert_int_equal(bs_config_set(pa, "therapy.radiotherapy.n_fractions=2", &err), BS_OK);
    assert_int_equal(bs_config_set(pb, "therapy.radiotherapy.n_fractions=2", &err), BS_OK);
    assert_int_equal(bs_config_set(pa, "therapy.radiotherapy.dose_Gy=2", &err), BS_OK);
    assert_int_equal(bs_config_set(pb, "therapy.radiotherapy.dose_Gy=2", &err), BS_OK);
    omp_set_num_threads(1);
    bs_model *a = bs_test_model(pa), *b = bs_test_model(pb);
    for (int s = 0; s < 24; s++) {
        bs_model_step(a);
        bs_model_step(b);
    }
    for (int k = 0; k < BS_THERAPY_COUNT; k++) bs_therapy_switch(b, (bs_therapy_id)k, 1);
    for (int s = 24; s < 72; s++) {
        bs_model_step(a);
        bs_model_step(b);
    }
    for (int k = 0; k < BS_THERAPY_COUNT; k++) bs_therapy_switch(b, (bs_therapy_id)k, 0);
    for (int s = 72; s < 96; s++) {
        bs_model_step(a);
        bs_model_step(b);
    }
    assert_true(a->therapy.rt_fractions_given == 2);
    assert_true(a->therapy.last_dose_d[BS_THERAPY_ZOLEDRONIC_ACID] == 1.0);
    assert_same_state(a, b);
    bs_model_destroy(a);
    bs_model_destroy(b);
    bs_paramset_destroy(pa);
    bs_paramset_destroy(pb);
    bs_registry_destroy(ra);
    bs_registry_destroy(rb);
}

/* Saved mid-therapy (drug levels, pools, a radiotherapy course half
 * given), restored, and stepped on: identical bytes. */
static void test_checkpoint_mid_therapy(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.denosumab.start_day=0.5", "therapy.zoledronic_acid.start_day=0.5",
        "therapy.anti_gr1.start_day=0.5", "therapy.radiotherapy.start_day=1", "therapy.radiotherapy.n_fractions=3",
        "therapy.radiotherapy.dose_Gy=1", "therapy.hyperoxia.start_day=1", "therapy.hyperoxia.stop_day=2.5", NULL };
    bs_registry *r;
    bs_paramset *p = bs_test_params(&r, NULL, busy);
    bs_error err;
    const char *geo[] = { "geometry.source=flat", "lattice.width_sites=40", "lattice.height_sites=30",
        "geometry.slab_thickness_um=150", NULL };
    for (int k = 0; geo[k]; k++) assert_int_equal(bs_config_set(p, geo[k], &err), BS_OK);
    for (int k = 0; sets[k]; k++) assert_int_equal(bs_config_set(p, sets[k], &err), BS_OK);
    bs_model *a = bs_test_model(p);
    bs_test_run_days(a, 2.25);
    assert_int_equal(a->therapy.rt_fractions_left, 1);
    assert_true(a->therapy.dmab_precursors > 0.0f && a->therapy.level[BS_THERAPY_HYPEROXIA] == 1.0f);
    char dir[] = "/tmp/bs_therapy_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    bs_run_state rs;
    memset(&rs, 0, sizeof rs);
    bs_ckpt_extra rx[BS_RUN_SECTIONS];
    bs_run_state_sections(&rs, rx);
    assert_int_equal(bs_model_save(a, rx, BS_RUN_SECTIONS, path, &err), BS_OK);
    bs_ckpt_reader *rd = NULL;
    assert_int_equal(bs_ckpt_open(&rd, path, &err), BS_OK);
    bs_paramset *p2 = NULL;
    bs_model *b = NULL;
    assert_int_equal(bs_model_load_params(rd, r, &p2, rx, BS_RUN_SECTIONS, &err), BS_OK);
    assert_int_equal(bs_model_load(rd, p2, &b, &err), BS_OK);
    bs_ckpt_close(rd);
    unlink(path);
    rmdir(dir);
    assert_same_state(a, b);
    bs_test_run_days(a, 1.5);
    bs_test_run_days(b, 1.5);
    assert_int_equal(b->therapy.rt_fractions_given, 3);
    assert_same_state(a, b);
    assert_true(a->r.fx.o2_sinusoid == b->r.fx.o2_sinusoid && a->r.fx.rankl_factor == b->r.fx.rankl_factor);
    bs_model_destroy(a);
    bs_model_destroy(b);
    bs_paramset_destroy(p);
    bs_paramset_destroy(p2);
    bs_registry_destroy(r);
}

/* ---- zoledronic acid ------------------------------------------------------ */

/* A dose circulates and binds the exposed bone surface (row 15) only, as
 * it leaves the plasma (t1/2 1.87 h): a fraction 1 - decay in the first
 * step, the full load within a day; the load decays with the 2-year bone
 * half-life; an osteoclast takes up half the drug of the mineral it
 * resorbs (the rest binds the bone around the lacuna: drug is conserved)
 * and then resorbs less and dies faster. */
static double za_total(const bs_model *m)
{
    double t = 0.0;
    for (int i = 0; i < W * H; i++)
        if (m->lat.tissue[i] == BS_TISSUE_BONE) t += (double)m->lat.za_load[i] * (double)m->lat.mineral[i];
    return t;
}

static void test_za_load_uptake_and_apoptosis(void **state)
{
    (void)state;
    /* unlimited binding capacity: the load is the dose's, drug conserved */
    const char *sets[] = { "therapy.zoledronic_acid.start_day=0", "therapy.zoledronic_acid.interval_d=0",
        "za.surface_capacity_doses=0", NULL };
    bs_model *m = flat_model(sets);
    therapy_steps(m, 1);
    float d1 = m->r.tx.za_bone_decay, f1 = 1.0f - m->r.tx.decay[BS_THERAPY_ZOLEDRONIC_ACID];
    assert_close(m->r.tx.decay[BS_THERAPY_ZOLEDRONIC_ACID], exp(-log(2.0) * m->dt_h / 1.87), 1e-6);
    for (int x = 0; x < W; x++) {
        assert_close(m->lat.za_load[site(x, SURF_Y + 1)], f1 * d1, 1e-6);
        assert_true(m->lat.za_load[site(x, SURF_Y + 2)] == 0.0f);
        assert_true(m->lat.za_load[site(x, SURF_Y)] == 0.0f);
    }
    therapy_steps(m, steps_of_days(m, 2.0) - 1);
    assert_true(m->therapy.level[BS_THERAPY_ZOLEDRONIC_ACID] == 0.0f); /* cleared (below the floor) */
    assert_close(m->lat.za_load[site(5, SURF_Y + 1)], 1.0, 3e-3);
    assert_true(m->lat.za_load[site(5, SURF_Y + 2)] == 0.0f);
    therapy_steps(m, steps_of_days(m, 728.0));
    assert_close(m->lat.za_load[site(5, SURF_Y + 1)], 0.5, 3e-3);
    double drug0 = za_total(m);
    /* uptake: one osteoclast on the endosteum, no death */
    m->r.p_oc_death = 0.0f;
    m->r.fx.za_oc_death = 0.0f;
    for (int x = 0; x < W; x++) m->lat.surface[site(x, SURF_Y)] = BS_SURF_RESORPTION;
    int slot = bs_store_spawn(&m->store, site(20, SURF_Y), BS_CELL_OSTEOCLAST, 0, 7);
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    for (int k = 0; k < 48; k++) bs_oc_act(m, slot, &tot);
    double removed = tot.resorbed_um2 / (m->lat.h_um * m->lat.h_um);
    print_message("  resorbed %.3f sites, uptake %.4f\n", removed, (double)m->store.aux[slot]);
    assert_true(removed > 1.0);
    /* half the drug of the first site (load ~0.5) went into the cell, the
     * rest bound the new cavity floor, so the cell kept taking it up */
    double floor_load = 0.0;
    for (int x = 17; x <= 23; x++) floor_load += (double)m->lat.za_load[site(x, SURF_Y + 2)];
    print_message("  drug: %.4f bound before, %.4f bound + %.4f taken up after; cavity floor %.4f\n", drug0,
            za_total(m), (double)m->store.aux[slot], floor_load);
    assert_true(m->store.aux[slot] > 0.25f);
    assert_true(floor_load > 0.0);
    assert_close(za_total(m) + (double)m->store.aux[slot], drug0, 1e-3);
    /* a loaded cell resorbs less: x (1 - za.activity_cut) at a full uptake */
    {
        float before = m->store.aux[slot];
        m->store.aux[slot] = 1.0f;
        bs_step_totals t2;
        memset(&t2, 0, sizeof t2);
        bs_oc_act(m, slot, &t2);
        assert_close(t2.resorbed_um2, 0.5 * (double)m->r.oc_resorb_per_step * m->lat.h_um * m->lat.h_um, 1e-3);
        m->store.aux[slot] = before;
    }
    /* extra apoptosis: 200 cells with a full uptake die at 1/14 + 0.5 per day */
    bs_model_destroy(m);
    m = bs_test_model(ps);
    m->r.fx.za_oc_death = m->r.tx.p_za_oc_death;
    m->r.p_oc_idle_death = 0.0f;
    m->r.p_oc_move = 0.0f; /* cells stay where they are counted */
    for (int x = 0; x < W; x++) m->lat.surface[site(x, SURF_Y)] = BS_SURF_RESORPTION;
    long dead = 0, n = 0;
    for (int round = 0; round < 5; round++) {
        for (int x = 0; x < W; x++) {
            int s = bs_store_spawn(&m->store, site(x, SURF_Y), BS_CELL_OSTEOCLAST, 0, 1000 + (uint64_t)(round * W + x));
            m->store.aux[s] = 1.0f;
            n++;
        }
        for (int k = 0; k < 24; k++) {
            m->step = (uint64_t)(round * 24 + k);
            for (int x = 0; x < W; x++) {
                int s = m->store.occ[site(x, SURF_Y)];
                if (s >= 0) bs_oc_act(m, s, &tot);
            }
        }
        for (int x = 0; x < W; x++) {
            int s = m->store.occ[site(x, SURF_Y)];
            if (s >= 0)
                bs_store_kill(&m->store, s);
            else
                dead++;
        }
    }
    double p_survive = pow(1.0 - (double)m->r.p_oc_death, 24) * pow(1.0 - (double)m->r.fx.za_oc_death, 24);
    assert_binomial(dead, n, 1.0 - p_survive);
    assert_true((double)dead / (double)n > 0.3); /* vs 0.07 without the drug */
    done(m);
}

/* Saturable (Langmuir) binding, za.surface_capacity_doses: a site binds
 * amount x (1 - load / capacity) and never more than its capacity; one
 * dose at capacity 1 loads the surface to about 1 - 1/e of it (not 1),
 * and monthly doses top the surface up towards the capacity instead of
 * stacking (6 doses: ~6 without a capacity). Rebinding next to a lacuna
 * obeys the same capacity. */
static void test_za_binding_saturates(void **state)
{
    (void)state;
    float L = 0.0f;
    assert_close(bs_za_bind_site(&L, 0.5f, 1.0f), 0.5, 1e-6);
    assert_close(bs_za_bind_site(&L, 0.5f, 1.0f), 0.25, 1e-6);
    assert_close(L, 0.75, 1e-6);
    for (int k = 0; k < 100; k++) bs_za_bind_site(&L, 10.0f, 1.0f);
    assert_true(L <= 1.0f && L > 0.999f);
    assert_true(bs_za_bind_site(&L, 1.0f, 1.0f) <= 1e-3f); /* full: binds (almost) nothing */
    L = 0.7f;
    assert_close(bs_za_bind_site(&L, 3.0f, 0.0f), 3.0, 1e-6); /* 0: unlimited */
    assert_close(L, 3.7, 1e-6);

    const char *one[] = { "therapy.zoledronic_acid.start_day=0", "therapy.zoledronic_acid.interval_d=0",
        "za.surface_capacity_doses=1", NULL };
    bs_model *m = flat_model(one);
    therapy_steps(m, steps_of_days(m, 2.0));
    double l1 = (double)m->lat.za_load[site(5, SURF_Y + 1)];
    print_message("  one dose at capacity 1: surface load %.3f (1 - 1/e = %.3f)\n", l1, 1.0 - exp(-1.0));
    assert_true(l1 > 0.55 && l1 < 0.75);
    assert_true(m->lat.za_load[site(5, SURF_Y + 2)] == 0.0f);
    bs_model_destroy(m);

    const char *rep[] = { "therapy.zoledronic_acid.start_day=0", "therapy.zoledronic_acid.interval_d=28",
        "za.surface_capacity_doses=1", NULL };
    const char *rep0[] = { "therapy.zoledronic_acid.start_day=0", "therapy.zoledronic_acid.interval_d=28",
        "za.surface_capacity_doses=0", NULL };
    m = flat_model(rep);
    bs_model *u = flat_model(rep0);
    long n6 = steps_of_days(m, 5 * 28.0 + 2.0);
    therapy_steps(m, n6);
    therapy_steps(u, n6);
    double l6 = (double)m->lat.za_load[site(5, SURF_Y + 1)], u6 = (double)u->lat.za_load[site(5, SURF_Y + 1)];
    print_message("  6 monthly doses: surface load %.3f at capacity 1, %.3f unlimited\n", l6, u6);
    assert_true(l6 <= 1.0 && l6 > 0.95);
    assert_true(u6 > 5.5);
    bs_model_destroy(u);

    /* rebinding around a lacuna: a full neighbour takes nothing more */
    for (int x = 0; x < W; x++) m->lat.surface[site(x, SURF_Y)] = BS_SURF_RESORPTION;
    m->r.p_oc_death = 0.0f;
    m->r.fx.za_oc_death = 0.0f;
    int slot = bs_store_spawn(&m->store, site(20, SURF_Y), BS_CELL_OSTEOCLAST, 0, 7);
    bs_step_totals tot;
    memset(&tot, 0, sizeof tot);
    for (int k = 0; k < 48; k++) bs_oc_act(m, slot, &tot);
    for (int i = 0; i < W * H; i++) assert_true(m->lat.za_load[i] <= 1.0f + 1e-6f);
    done(m);
}

/* ---- denosumab ---------------------------------------------------------- */

/* While on: RANKL signal x (1 - 0.95 x hill), the precursor pool fills.
 * After stopping: the pool converts and the signal overshoots 1. */
static void test_dmab_block_pool_and_rebound(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.denosumab.start_day=0", "therapy.denosumab.stop_day=365", NULL };
    bs_model *m = flat_model(sets);
    therapy_steps(m, 1);
    float L = m->therapy.level[BS_THERAPY_DENOSUMAB];
    float occ = 0.95f * (L / 0.1f) * (L / 0.1f) / (1.0f + (L / 0.1f) * (L / 0.1f));
    assert_close(bs_therapy_dmab_occupancy(m), occ, 1e-5);
    assert_true(m->r.fx.rankl_factor < 0.07f);
    /* RANKL signal at a site scales with it */
    int i = site(5, SURF_Y);
    m->fields[BS_FIELD_RANKL].c[i] = 0.1f;
    float sig_on = bs_rankl_signal(m, i);
    m->r.fx.rankl_factor = 1.0f;
    float sig_off = bs_rankl_signal(m, i);
    assert_close(sig_on / sig_off, (1.0f - occ) * (1.0f + 1.0f * m->therapy.dmab_precursors), 1e-4);
    therapy_steps(m, steps_of_days(m, 365.0) - 1);
    float P = m->therapy.dmab_precursors;
    print_message("  pool after a year on: %.3f, signal x %.3f\n", (double)P, (double)m->r.fx.rankl_factor);
    /* dP/dt = a occ (1 - P) - c (1 - occ) P, a = 0.01/d, c = 0.004/d */
    double o = (double)bs_therapy_dmab_occupancy(m), rate = 0.01 * o + 0.004 * (1.0 - o);
    assert_close(P, 0.01 * o / rate * (1.0 - exp(-rate * 365.0)), 0.02);
    assert_true(m->r.fx.rankl_factor < 0.2f);
    float peak = 0.0f, peak_d = 0.0f;
    for (int d = 0; d < 730; d++) {
        therapy_steps(m, 24);
        if (m->r.fx.rankl_factor > peak) {
            peak = m->r.fx.rankl_factor;
            peak_d = (float)d;
        }
    }
    print_message("  rebound: signal x %.2f peaking %.0f d after the stop\n", (double)peak, (double)peak_d);
    assert_true(peak > 1.5f);
    assert_true(peak_d > 60.0f && peak_d < 400.0f);
    /* the pool drains over 1-2 years: still raised a year after the stop,
     * close to baseline after two */
    assert_true(m->r.fx.rankl_factor < 1.2f);
    done(m);
}

/* ---- anti-Gr1 ------------------------------------------------------------ */

static void test_agr1_depletes_mdsc_and_builds_pool(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.anti_gr1.start_day=0", NULL };
    bs_model *m = flat_model(sets);
    long n0 = fill_marrow(m, BS_CELL_MDSC, 0, 5000);
    therapy_steps(m, 1);
    long dead1 = n0 - count(m, BS_CELL_MDSC, -1);
    assert_int_equal((long)m->therapy.n_gr1_depleted, dead1);
    assert_close((double)m->therapy.gr1_myeloid, 0.5 * (double)dead1, 1e-3);
    therapy_steps(m, 23);
    long dead = n0 - count(m, BS_CELL_MDSC, -1);
    assert_binomial(dead, n0, 1.0 - exp(-1.5));
    /* no denosumab: the RANKL-signal factor is the myeloid pool's share alone */
    assert_true(m->r.fx.rankl_factor > 1.0f);
    float K = m->r.tx.agr1_pool_K, G = m->therapy.gr1_myeloid;
    assert_close(m->r.fx.rankl_factor, 1.0f + 2.0f * G / (G + K), 1e-5);
    done(m);
}

/* anti-Gr1 spares the monocytic MDSC subset: with half the marrow
 * granulocytic and half monocytic MDSCs (lifespan 365 d, so deaths are
 * the antibody's), a day of anti-Gr1 depletes granulocytic ones at 1 -
 * e^-1.5 and not one monocytic; the pool grows by 0.5 per granulocytic
 * cell removed. Entering MDSCs are monocytic at mdsc.monocytic_frac. */
static void test_agr1_spares_monocytic_mdsc(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.anti_gr1.start_day=0", "mdsc.lifespan_d=365", NULL };
    bs_model *m = flat_model(sets);
    long n0[2] = { 0, 0 };
    for (int y = 0; y < SURF_Y; y++)
        for (int x = 0; x < W; x++) {
            int i = site(x, y);
            if (m->lat.tissue[i] != BS_TISSUE_MARROW || m->store.occ[i] >= 0) continue;
            uint8_t st = (x % 2) ? BS_MDSC_MONOCYTIC : BS_MDSC_GRANULOCYTIC;
            assert_true(bs_store_spawn(&m->store, i, BS_CELL_MDSC, st, 7000 + (uint64_t)i) >= 0);
            n0[st]++;
        }
    assert_true(n0[0] > 100 && n0[1] > 100);
    therapy_steps(m, steps_of_days(m, 1.0));
    long gone_g = n0[0] - count(m, BS_CELL_MDSC, BS_MDSC_GRANULOCYTIC);
    assert_int_equal(count(m, BS_CELL_MDSC, BS_MDSC_MONOCYTIC), n0[1]);
    assert_binomial(gone_g, n0[0], 1.0 - exp(-1.5));
    assert_int_equal((long)m->therapy.n_gr1_depleted, gone_g);
    done(m);
    /* entry: the monocytic share of MDSCs entering at saturating chemokine */
    const char *ent[] = { "geometry.sinusoid_spacing_um=150", "mdsc.recruit_per_d=24", NULL };
    m = flat_model(ent);
    assert_true(m->n_vessels > 0);
    for (int i = 0; i < W * H; i++) m->fields[BS_FIELD_CHEMOKINE].c[i] = 1000.0f;
    long in[2] = { 0, 0 };
    for (int h = 0; h < 40; h++) {
        m->step = (uint64_t)h;
        bs_celltype_of(BS_CELL_MDSC)->arrivals(m);
        for (int i = 0; i < W * H; i++) {
            int sl = m->store.occ[i];
            if (sl < 0 || m->store.type[sl] != BS_CELL_MDSC) continue;
            in[m->store.state[sl] ? 1 : 0]++;
            bs_store_kill(&m->store, sl);
        }
    }
    assert_true(in[0] + in[1] > 100);
    assert_binomial(in[1], in[0] + in[1], 0.25);
    done(m);
}

/* The anti-Gr1 pool becomes osteoclasts at agr1.pool_to_oc_per_d per cell
 * on endosteal sites weighted by Hill(RANKL signal, 1, n = 2): with cycling
 * tumour cells (PTHrP -> RANKL) over the left fifth of the surface and no
 * spontaneous BMUs, a pool of 100 cells loses one cell per conversion, the
 * number converted in a day is within the Poisson range of 100 x 0.2 (+-4
 * sd; sites next to an osteoclast are skipped, so it may fall short), BMUs
 * open and osteoclasts form, at least as many resorption sites in the
 * tumour's quarter of the surface as in the far quarter; without a pool
 * nothing opens. */
static void test_agr1_pool_seeds_osteoclasts(void **state)
{
    (void)state;
    long res[2][2] = { { 0, 0 }, { 0, 0 } }, oc[2] = { 0, 0 };
    double converted = 0.0;
    float sig_l = 0.0f, sig_r = 0.0f;
    for (int with = 0; with < 2; with++) {
        bs_model *m = flat_model(NULL);
        for (int y = 6; y < SURF_Y - 1; y++)
            for (int x = 0; x < 8; x++)
                if (m->lat.tissue[site(x, y)] == BS_TISSUE_MARROW && m->store.occ[site(x, y)] < 0)
                    bs_store_spawn(
                            &m->store, site(x, y), BS_CELL_DTC, BS_DTC_PROLIFERATING, 100 + (uint64_t)site(x, y));
        for (int k = 0; k < 48; k++) bs_model_step(m); /* PTHrP and RANKL build up */
        sig_l = bs_rankl_signal(m, site(4, SURF_Y - 1));
        sig_r = bs_rankl_signal(m, site(35, SURF_Y - 1));
        m->therapy.gr1_myeloid = with ? 100.0f : 0.0f;
        long n = steps_of_days(m, 1.0);
        double decay = pow((double)m->r.tx.agr1_pool_decay, (double)n);
        for (long k = 0; k < n; k++) bs_model_step(m);
        if (with) converted = 100.0 * decay - (double)m->therapy.gr1_myeloid; /* pool decays, then converts */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int i = site(x, y), sl = m->store.occ[i];
                if (x < W / 4) res[with][0] += m->lat.surface[i] == BS_SURF_RESORPTION;
                if (x >= 3 * W / 4) res[with][1] += m->lat.surface[i] == BS_SURF_RESORPTION;
                oc[with] += sl >= 0 && m->store.type[sl] == BS_CELL_OSTEOCLAST;
            }
        done(m);
    }
    print_message("  RANKL signal %.2f (tumour side) vs %.2f; pool -> osteoclasts %.1f in a day; resorption sites %ld "
                  "vs %ld (%ld, %ld without a pool); osteoclasts %ld (%ld)\n",
            (double)sig_l, (double)sig_r, converted, res[1][0], res[1][1], res[0][0], res[0][1], oc[1], oc[0]);
    assert_true(sig_l > sig_r);
    assert_true(fabs(converted - 20.0) <= 4.0 * sqrt(20.0));
    assert_true(res[1][0] >= res[1][1] && res[1][0] + res[1][1] > 0);
    assert_true(res[0][0] + res[0][1] == 0 && oc[0] == 0);
    assert_true(oc[1] >= 1);
}

/* ---- CXCR4 antagonist ----------------------------------------------------- */

static void test_cxcr4_blocks_and_mobilises(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.cxcr4_antagonist.start_day=0", "cxcr4i.mobilise_per_d=0.2", NULL };
    bs_model *m = flat_model(sets);
    long n0 = fill_marrow(m, BS_CELL_DTC, BS_DTC_DORMANT, 9000);
    for (int i = 0; i < W * H; i++) m->fields[BS_FIELD_CXCL12].c[i] = 1000.0f; /* fully anchored */
    therapy_steps(m, steps_of_days(m, 5.0));
    assert_close(m->r.fx.cxcr4_block, 0.9, 1e-6);
    long gone = n0 - count(m, BS_CELL_DTC, BS_DTC_DORMANT);
    assert_int_equal((long)m->therapy.n_mobilised, gone);
    assert_binomial(gone, n0, 1.0 - exp(-0.2 * 0.9 * 5.0));
    /* no CXCL12, no anchor to lose */
    done(m);
    m = flat_model(sets);
    n0 = fill_marrow(m, BS_CELL_DTC, BS_DTC_DORMANT, 9000);
    for (int i = 0; i < W * H; i++) m->fields[BS_FIELD_CXCL12].c[i] = 0.0f;
    therapy_steps(m, steps_of_days(m, 5.0));
    assert_int_equal(count(m, BS_CELL_DTC, BS_DTC_DORMANT), n0);
    done(m);
}

/* Mobilised cells go into the blood (egress counted per day) and leave it
 * at ln 2 / cxcr4i.ctc_half_life_h, a share cxcr4i.rehome_frac of them
 * coming back as arriving CTCs; arriving cells feel only
 * cxcr4i.entry_share of the block. */
static void test_cxcr4_egress_and_rehoming(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.cxcr4_antagonist.start_day=0", "cxcr4i.mobilise_per_d=0.2",
        "cxcr4i.rehome_frac=0.25", NULL };
    bs_model *m = flat_model(sets);
    fill_marrow(m, BS_CELL_DTC, BS_DTC_DORMANT, 9000);
    for (int i = 0; i < W * H; i++) m->fields[BS_FIELD_CXCL12].c[i] = 1000.0f;
    therapy_steps(m, steps_of_days(m, 2.0));
    long mob = (long)m->therapy.n_mobilised;
    assert_true(mob > 20);
    /* in the blood, back, or washed out: never more than were mobilised */
    assert_true((long)m->therapy.ctc_mobilised + (long)m->therapy.n_rehomed <= mob);
    bs_obs o;
    memset(&o, 0, sizeof o);
    bs_therapy_observe(m, &o.drugs, 2.0);
    assert_close(o.drugs.dtc_egress_per_day, (double)mob / 2.0, 1e-9);
    bs_therapy_observe(m, &o.drugs, 1.0);
    assert_close(o.drugs.dtc_egress_per_day, 0.0, 1e-12); /* counted from the last row */
    assert_close(m->r.fx.cxcr4_entry_block, 0.9 * 0.3, 1e-6);
    /* the circulating cells leave the blood: a quarter of the exits re-home */
    m->r.tx.cxcr4i_mobilise_h = 0.0f;
    /* a fresh batch in the blood (the step's own draw runs in bs_therapy_step) */
    m->therapy.ctc_mobilised = 400;
    long back = 0, n0 = (long)m->therapy.ctc_mobilised, r0 = (long)m->therapy.n_rehomed;
    for (int k = 0; k < 48; k++) {
        bs_therapy_step(m);
        back += (long)m->therapy.ctc_returning; /* what bs_dtc_arrivals adds as CTCs */
        m->step++;
    }
    print_message("  mobilised %ld, back %ld, still circulating %u\n", mob, back, m->therapy.ctc_mobilised);
    assert_true(m->therapy.ctc_mobilised < (uint32_t)(n0 / 100 + 2)); /* 24 half-lives */
    assert_int_equal((long)m->therapy.n_rehomed - r0, back);
    assert_binomial(back, n0, 0.25);
    done(m);
}

/* Chemotherapy kills cycling tumour cells at the hazard that kills
 * chemo.kill_frac_per_dose of them over one dose, and dormant ones at
 * chemo.dormant_factor of that hazard. */
static void test_chemotherapy_spares_dormant(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.chemotherapy.start_day=0", "therapy.chemotherapy.interval_d=0", NULL };
    bs_model *m = flat_model(sets);
    fill_marrow(m, BS_CELL_DTC, 0xff, 20000);
    long nd = count(m, BS_CELL_DTC, BS_DTC_DORMANT), np = count(m, BS_CELL_DTC, BS_DTC_PROLIFERATING);
    therapy_steps(m, steps_of_days(m, 20.0)); /* the dose is gone (11 h half-life) */
    long sd = count(m, BS_CELL_DTC, BS_DTC_DORMANT), sp = count(m, BS_CELL_DTC, BS_DTC_PROLIFERATING);
    print_message("  cycling %ld -> %ld, dormant %ld -> %ld\n", np, sp, nd, sd);
    double k_tau = -log(1.0 - 0.5); /* hazard x the dose's integral */
    assert_binomial(sp, np, exp(-k_tau));
    assert_binomial(sd, nd, exp(-0.1 * k_tau));
    assert_int_equal((long)m->therapy.n_chemo_killed, np + nd - sp - sd);
    done(m);
}

/* Osteoclast formation on a surface whose bone carries zoledronic acid is
 * x K / (K + load), K = za.formation_half_load. */
static void test_za_impairs_formation(void **state)
{
    (void)state;
    long formed[2] = { 0, 0 }, tries = 0;
    double p0 = 0.0;
    for (int loaded = 0; loaded < 2; loaded++) {
        bs_model *m = flat_model(NULL);
        m->r.fx.za_form_K = m->r.tx.za_form_K;
        float K = m->r.fx.za_form_K;
        assert_close(K, 2.0, 1e-6);
        for (int x = 0; x < W; x++) {
            m->lat.surface[site(x, SURF_Y)] = BS_SURF_RESORPTION;
            m->fields[BS_FIELD_RANKL].c[site(x, SURF_Y)] = 100.0f; /* saturated signal */
            if (loaded) m->lat.za_load[site(x, SURF_Y + 1)] = K;
        }
        float sig = bs_rankl_signal(m, site(0, SURF_Y));
        p0 = (double)m->r.p_oc_form * (double)(sig / (1.0f + sig));
        tries = 0;
        for (int k = 0; k < 4000; k++) {
            m->step = (uint64_t)k;
            for (int x = 0; x < W; x += 4) {
                int i = site(x, SURF_Y);
                tries++;
                if (bs_oc_try_form(m, i)) {
                    formed[loaded]++;
                    bs_store_kill(&m->store, m->store.occ[i]);
                }
            }
        }
        done(m);
    }
    print_message("  formed %ld on clean bone, %ld on bone loaded at K (of %ld tries)\n", formed[0], formed[1], tries);
    assert_binomial(formed[0], tries, p0);
    assert_binomial(formed[1], tries, 0.5 * p0);
    assert_true(formed[1] < formed[0]);
}

/* ---- radiotherapy ----------------------------------------------------------- */

static void test_rt_survival_formulas(void **state)
{
    (void)state;
    bs_model *m = flat_model(NULL);
    const bs_therapy_rules *x = &m->r.tx;
    float D = 8.0f;
    assert_close(bs_therapy_rt_survival(x, BS_CELL_DTC, BS_DTC_PROLIFERATING, D), exp(-0.3 * 8 - 0.03 * 64), 1e-6);
    double dd = 8.0 / 1.27; /* dormant cells: the dose / rt.dormant_dmf */
    assert_close(bs_therapy_rt_survival(x, BS_CELL_DTC, BS_DTC_DORMANT, D), exp(-0.3 * dd - 0.03 * dd * dd), 1e-6);
    assert_close(bs_therapy_rt_survival(x, BS_CELL_TCELL, 0, D), exp(-8.0 / 0.55), 1e-9);
    assert_close(bs_therapy_rt_survival(x, BS_CELL_NK, 0, D), exp(-8.0 / 5.5), 1e-6);
    assert_close(bs_therapy_rt_survival(x, BS_CELL_OSTEOBLAST, 0, D), exp(-8.0 / 30.0), 1e-6);
    /* the lineage is radioresistant: most of it survives one 8 Gy fraction */
    assert_true(bs_therapy_rt_survival(x, BS_CELL_OSTEOBLAST, 0, D) > 0.7f);
    /* ordering of B23 at 1-8 Gy per fraction: OB lineage > NK > CD8 */
    for (float d = 1.0f; d <= 8.0f; d += 1.0f)
        assert_true(bs_therapy_rt_survival(x, BS_CELL_OSTEOBLAST, 0, d) > bs_therapy_rt_survival(x, BS_CELL_NK, 0, d));
    for (float d = 1.0f; d <= 20.0f; d += 1.0f) {
        assert_true(bs_therapy_rt_survival(x, BS_CELL_NK, 0, d) > bs_therapy_rt_survival(x, BS_CELL_TCELL, 0, d));
        assert_true(bs_therapy_rt_survival(x, BS_CELL_DTC, BS_DTC_DORMANT, d) >
                bs_therapy_rt_survival(x, BS_CELL_DTC, BS_DTC_PROLIFERATING, d));
    }
    done(m);
}

/* Kills in a whole-domain fraction match the survival fractions
 * (binomial); dormant cells survive more (B11). */
static void test_rt_kills_by_radiosensitivity(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.radiotherapy.start_day=0", "therapy.radiotherapy.dose_Gy=2", NULL };
    for (int type = 0; type < 3; type++) {
        bs_model *m = flat_model(sets);
        uint8_t ct = type == 0 ? BS_CELL_DTC : type == 1 ? BS_CELL_TCELL : BS_CELL_NK;
        fill_marrow(m, ct, type == 0 ? 0xff : 0, 20000);
        long nd = count(m, ct, type == 0 ? BS_DTC_DORMANT : -1);
        long np = type == 0 ? count(m, ct, BS_DTC_PROLIFERATING) : 0;
        therapy_steps(m, 1);
        assert_int_equal(m->therapy.rt_fractions_given, 1);
        const bs_therapy_rules *x = &m->r.tx;
        if (type == 0) {
            long sd = count(m, ct, BS_DTC_DORMANT), sp = count(m, ct, BS_DTC_PROLIFERATING);
            assert_binomial(sd, nd, bs_therapy_rt_survival(x, ct, BS_DTC_DORMANT, 2.0f));
            assert_binomial(sp, np, bs_therapy_rt_survival(x, ct, BS_DTC_PROLIFERATING, 2.0f));
            assert_true((double)sd / (double)nd > (double)sp / (double)np);
            assert_int_equal((long)m->therapy.n_rt_killed[BS_CELL_DTC], nd + np - sd - sp);
        } else {
            assert_binomial(count(m, ct, -1), nd, bs_therapy_rt_survival(x, ct, 0, 2.0f));
        }
        therapy_steps(m, 100);
        assert_int_equal(m->therapy.rt_fractions_given, 1); /* one fraction by default */
        done(m);
    }
}

/* Rectangle and circle regions: cells outside are untouched. */
static void test_rt_region(void **state)
{
    (void)state;
    const char *rect[] = { "therapy.radiotherapy.start_day=0", "therapy.radiotherapy.dose_Gy=30",
        "therapy.radiotherapy.region=rectangle", "therapy.radiotherapy.x0_um=100", "therapy.radiotherapy.x1_um=200",
        "therapy.radiotherapy.y0_um=0", "therapy.radiotherapy.y1_um=50", NULL };
    bs_model *m = flat_model(rect);
    fill_marrow(m, BS_CELL_TCELL, 0, 1);
    therapy_steps(m, 1);
    for (int y = 0; y < SURF_Y; y++)
        for (int xx = 0; xx < W; xx++) {
            int in = xx >= 10 && xx < 20 && y < 5;
            if (m->lat.tissue[site(xx, y)] != BS_TISSUE_MARROW) continue;
            assert_int_equal(m->store.occ[site(xx, y)] < 0, in); /* 30 Gy kills every T cell */
        }
    done(m);
    const char *circ[] = { "therapy.radiotherapy.start_day=0", "therapy.radiotherapy.dose_Gy=30",
        "therapy.radiotherapy.region=circle", "therapy.radiotherapy.cx_um=200", "therapy.radiotherapy.cy_um=70",
        "therapy.radiotherapy.radius_um=40", NULL };
    m = flat_model(circ);
    fill_marrow(m, BS_CELL_TCELL, 0, 1);
    therapy_steps(m, 1);
    long killed = (long)m->therapy.n_rt_killed[BS_CELL_TCELL];
    print_message("  circle r = 4 sites killed %ld\n", killed);
    assert_true(killed >= 45 && killed <= 53); /* ~pi r^2 = 50 sites */
    assert_true(m->store.occ[site(20, 7)] < 0 && m->store.occ[site(0, 0)] >= 0);
    done(m);
}

/* Three fractions a day apart. */
static void test_rt_fractions(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.radiotherapy.start_day=1", "therapy.radiotherapy.n_fractions=3",
        "therapy.radiotherapy.interval_d=1", NULL };
    bs_model *m = flat_model(sets);
    double a, b;
    bs_therapy_window(m, BS_THERAPY_RADIOTHERAPY, &a, &b);
    assert_true(a == 1.0 && fabs(b - (3.0 + 1.0 / 24.0)) < 1e-9);
    therapy_steps(m, 24);
    assert_int_equal(m->therapy.rt_fractions_given, 0);
    therapy_steps(m, 1);
    assert_int_equal(m->therapy.rt_fractions_given, 1);
    assert_false(bs_therapy_is_on(&m->therapy, BS_THERAPY_RADIOTHERAPY));
    therapy_steps(m, 24);
    assert_int_equal(m->therapy.rt_fractions_given, 2);
    therapy_steps(m, 100);
    assert_int_equal(m->therapy.rt_fractions_given, 3);
    /* live: switching on starts a new course; off cancels the rest */
    bs_therapy_switch(m, BS_THERAPY_RADIOTHERAPY, 1);
    assert_int_equal(m->therapy.rt_fractions_given, 4);
    bs_therapy_switch(m, BS_THERAPY_RADIOTHERAPY, 0);
    therapy_steps(m, 100);
    assert_int_equal(m->therapy.rt_fractions_given, 4);
    done(m);
}

/* ---- re-oxygenation and HDAC inhibition -------------------------------------- */

static double mean_o2_at(const bs_model *m, int x0, int x1, int y0, int y1)
{
    double s = 0.0;
    int n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            s += (double)m->fields[BS_FIELD_O2].c[site(x, y)];
            n++;
        }
    return s / n;
}

static void test_hyperoxia_and_mno2_raise_o2(void **state)
{
    (void)state;
    const char *hyp[] = { "therapy.hyperoxia.start_day=0", "therapy.hyperoxia.stop_day=1",
        "geometry.sinusoid_spacing_um=150", NULL };
    bs_model *m = flat_model(hyp);
    float base = m->r.fx.o2_sinusoid;
    bs_model_step(m);
    assert_close(m->r.fx.o2_sinusoid, 2.0f * base, 1e-5);
    double on = mean_o2_at(m, 0, W - 1, 0, SURF_Y);
    bs_test_run_days(m, 1.5);
    assert_close(m->r.fx.o2_sinusoid, base, 1e-3);
    double off = mean_o2_at(m, 0, W - 1, 0, SURF_Y);
    print_message("  marrow O2 %.1f mmHg with hyperoxia, %.1f after\n", on, off);
    assert_true(on > 1.5 * off);
    done(m);
    /* MnO2: a compact 10 x 10 block of cycling tumour cells (denser than the
     * scenarios' lesions, whose tumour cells gain 5-15 mmHg at the default
     * source: test_therapy_behaviour B24). The source is proportional to the
     * cells, so the core's gain is linear in mno2.o2_per_cell_mmHg_per_h:
     * 50000 mmHg/h gives 5-15 mmHg, the default (80000) 1.6x that (+-15%). */
    double o2[3];
    for (int k = 0; k < 3; k++) {
        const char *mn[] = { k ? "therapy.mno2.start_day=0" : "therapy.mno2.start_day=-1",
            "geometry.sinusoid_spacing_um=150", k == 2 ? "mno2.o2_per_cell_mmHg_per_h=50000" : NULL, NULL };
        m = flat_model(mn);
        for (int y = 2; y < 12; y++)
            for (int x = 15; x < 25; x++)
                if (m->lat.tissue[site(x, y)] == BS_TISSUE_MARROW && m->store.occ[site(x, y)] < 0)
                    bs_store_spawn(
                            &m->store, site(x, y), BS_CELL_DTC, BS_DTC_PROLIFERATING, 100 + (uint64_t)site(x, y));
        bs_model_step(m);
        o2[k] = mean_o2_at(m, 17, 22, 4, 9);
        done(m);
    }
    double g_full = o2[1] - o2[0], g_50k = o2[2] - o2[0];
    print_message("  tumour core O2 %.1f -> %.1f mmHg with MnO2 (%.1f at 50000 mmHg/h)\n", o2[0], o2[1], o2[2]);
    assert_true(g_50k >= 5.0 && g_50k <= 15.0);
    assert_true(fabs(g_full / g_50k - 1.6) <= 0.24);
}

/* Hypoxic marrow (uptake 1200/h, fed by arterioles, the O2 supply since
 * sinusoids carry deoxygenated blood): hyperoxia lifts most marrow above
 * nk.hypoxia_mmHg, so the mean NK kill hazard over the marrow rises. */
static void test_hyperoxia_restores_nk_killing(void **state)
{
    (void)state;
    double rate[2], below[2];
    for (int k = 0; k < 2; k++) {
        const char *sets[] = { k ? "therapy.hyperoxia.start_day=0" : "therapy.hyperoxia.start_day=-1",
            "geometry.sinusoid_spacing_um=150", "o2.marrow_uptake_per_h=1200", "geometry.arteriole_spacing_um=300",
            NULL };
        bs_model *m = flat_model(sets);
        bs_model_step(m);
        double s = 0.0, nb = 0.0;
        int n = 0;
        for (int i = 0; i < W * H; i++) {
            if (m->lat.tissue[i] != BS_TISSUE_MARROW) continue;
            s += (double)bs_nk_kill_rate_h(m, i);
            nb += m->fields[BS_FIELD_O2].c[i] < m->r.immune.nk_hypoxia_mmHg;
            n++;
        }
        rate[k] = s / n;
        below[k] = nb / n;
        done(m);
    }
    print_message("  NK kill hazard %.3f/h -> %.3f/h; marrow below the NK threshold %.2f -> %.2f\n", rate[0], rate[1],
            below[0], below[1]);
    assert_true(below[0] > 0.3 && below[1] < 0.5 * below[0]);
    assert_true(rate[1] > 1.2 * rate[0]);
}

static void test_hdac_inhibitor_raises_lifr(void **state)
{
    (void)state;
    const char *sets[] = { "therapy.hdac_inhibitor.start_day=0", "therapy.hdac_inhibitor.stop_day=2", NULL };
    bs_model *m = flat_model(sets);
    int i = site(5, SURF_Y);
    for (int k = 0; k < W * H; k++) m->fields[BS_FIELD_O2].c[k] = 30.0f;
    float before = bs_dtc_lifr_signal(m, i);
    therapy_steps(m, 1);
    assert_close(m->r.fx.hdac_level, 1.0, 1e-6);
    float on = bs_dtc_lifr_signal(m, i);
    assert_close(on, 2.0f * before, 1e-5); /* dtc.hdac_lifr_gain = 2 */
    therapy_steps(m, 47 + 50); /* off at day 2, then one half-life */
    assert_close(m->r.fx.hdac_level, 0.5, 1e-3);
    done(m);
    /* a scenario's constant dtc.hdac_level stays the floor */
    const char *floor_sets[] = { "dtc.hdac_level=0.3", NULL };
    m = flat_model(floor_sets);
    therapy_steps(m, 5);
    assert_close(m->r.fx.hdac_level, 0.3, 1e-6);
    done(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_registry),
        cmocka_unit_test(test_bad_schedules_refused),
        cmocka_unit_test(test_schedule_fires_at_the_right_step),
        cmocka_unit_test(test_levels_decay_with_half_life),
        cmocka_unit_test(test_live_switch_equals_schedule),
        cmocka_unit_test(test_checkpoint_mid_therapy),
        cmocka_unit_test(test_za_load_uptake_and_apoptosis),
        cmocka_unit_test(test_za_binding_saturates),
        cmocka_unit_test(test_dmab_block_pool_and_rebound),
        cmocka_unit_test(test_agr1_depletes_mdsc_and_builds_pool),
        cmocka_unit_test(test_agr1_pool_seeds_osteoclasts),
        cmocka_unit_test(test_agr1_spares_monocytic_mdsc),
        cmocka_unit_test(test_cxcr4_blocks_and_mobilises),
        cmocka_unit_test(test_cxcr4_egress_and_rehoming),
        cmocka_unit_test(test_chemotherapy_spares_dormant),
        cmocka_unit_test(test_za_impairs_formation),
        cmocka_unit_test(test_rt_survival_formulas),
        cmocka_unit_test(test_rt_kills_by_radiosensitivity),
        cmocka_unit_test(test_rt_region),
        cmocka_unit_test(test_rt_fractions),
        cmocka_unit_test(test_hyperoxia_and_mno2_raise_o2),
        cmocka_unit_test(test_hyperoxia_restores_nk_killing),
        cmocka_unit_test(test_hdac_inhibitor_raises_lifr),
    };
    omp_set_num_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
