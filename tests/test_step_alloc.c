/* The step loop allocates nothing (issue 7, STYLE.md lesson 4).
 *
 * The build wraps malloc/calloc/realloc/aligned_alloc for this test
 * (-Wl,--wrap=...; tests/CMakeLists.txt), so every heap allocation made by
 * bonesim's own code is counted; the OpenMP runtime is a shared library and
 * is not. A full cast (bone cells, tumour cells with arrivals, CD8 T cells,
 * NK cells, MDSCs) runs a few days to warm up, then the allocations of the
 * next days of steps must be zero. */
#include "test_util.h"

#include <string.h>

#include "alloc_count.h"

static void count_step_allocations(const char *scenario, const char *const *sets, int full_cast)
{
    bs_registry *reg;
    bs_paramset *ps = bs_test_params(&reg, scenario, sets);
    long before_create = bs_allocs;
    bs_model *m = bs_test_model(ps);
    assert_true(bs_allocs > before_create); /* the wrapper is live */
    bs_test_run_days(m, 3.0);
    long before = bs_allocs;
    long steps = (long)(10.0 * 24.0 / m->dt_h + 0.5);
    for (long k = 0; k < steps; k++) bs_model_step(m);
    long made = bs_allocs - before;
    bs_obs o;
    bs_model_observe(m, &o, 0.0, 0.0, 1.0);
    printf("# %s: %ld steps, %ld allocations; %ld tumour cells, %ld T, %ld NK, %ld MDSC, %ld OC, %ld OB\n", scenario,
            steps, made, o.n_dtc, o.n_tcells, o.n_nk, o.n_mdsc, o.n_osteoclasts, o.n_osteoblasts);
    assert_int_equal(made, 0);
    /* a step that did nothing would pass trivially: make sure cells acted */
    assert_true(m->agent_updates > 0);
    assert_true(o.n_dtc > 0);
    if (full_cast)
        assert_true(o.n_tcells + o.n_nk + o.n_mdsc > 0 && o.n_osteoblasts > 0);
    else /* the therapies were on during the counted steps */
        for (int t = 0; t < BS_THERAPY_COUNT; t++)
            if (t != BS_THERAPY_RADIOTHERAPY && t != BS_THERAPY_DENOSUMAB)
                assert_true(bs_therapy_is_on(&m->therapy, t));
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static void test_full_cast_steps_do_not_allocate(void **state)
{
    (void)state;
    /* a bone burn-in, so BMUs are in every phase (osteoblasts come ~4 weeks
     * after a BMU opens) */
    static const char *const sets[] = { "lattice.width_sites=120", "lattice.height_sites=120", "dtc.ctc_per_d=5",
        "run.burn_in_d=60", "treg.recruit_per_d=0.1", "macrophage.recruit_per_d=0.03", NULL };
    count_step_allocations("mdsc_suppression", sets, 1);
}

/* Every therapy starts (and radiotherapy fires two fractions, denosumab
 * stops) inside the counted days: doses, levels, pools, regions. */
static void test_steps_under_every_therapy_do_not_allocate(void **state)
{
    (void)state;
    static const char *const sets[] = { "lattice.width_sites=120", "lattice.height_sites=120", "dtc.ctc_per_d=5",
        "therapy.zoledronic_acid.start_day=4", "therapy.zoledronic_acid.interval_d=3", "therapy.denosumab.start_day=4",
        "therapy.denosumab.stop_day=8", "therapy.anti_pd1.start_day=4", "therapy.anti_gr1.start_day=5",
        "therapy.cxcr4_antagonist.start_day=5", "therapy.radiotherapy.start_day=6", "therapy.radiotherapy.dose_Gy=2",
        "therapy.radiotherapy.n_fractions=2", "therapy.radiotherapy.region=circle", "therapy.radiotherapy.cx_um=600",
        "therapy.radiotherapy.cy_um=600", "therapy.hyperoxia.start_day=4", "therapy.mno2.start_day=4",
        "therapy.hdac_inhibitor.start_day=4", "treg.recruit_per_d=0.1", "macrophage.recruit_per_d=0.03", NULL };
    count_step_allocations("mdsc_suppression", sets, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_cast_steps_do_not_allocate),
        cmocka_unit_test(test_steps_under_every_therapy_do_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
