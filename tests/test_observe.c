/* The spatial observables that `bonesim validate` names (agents/observe.c,
 * issue 14), each checked against an independent count from the model
 * state or the step totals:
 *   - bone lost near the lesion: the missing-mineral bookkeeping it rests
 *     on conserves bone (the missing mineral over the whole lattice rises
 *     by exactly the bone area lost), and the near-lesion part is at most
 *     the whole and zero without a tumour;
 *   - per-event remodeling phases: on single_bmu's one event the columns
 *     equal the event probe's (bs_bmu_events) phase lengths;
 *   - killer contacts: the per-row contact means equal the step totals'
 *     contact hours / 24 / days, and the hypoxic part is at most the whole;
 *   - dormant cells by landing site and CXCL12 at the settled cells: equal
 *     to a direct count over the agent store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "test_util.h"

static bs_model *make(const char *scenario, const char *const *sets, long seed, bs_paramset **ps, bs_registry **reg)
{
    *ps = bs_test_params(reg, scenario, sets);
    char s[64];
    snprintf(s, sizeof s, "run.seed=%ld", seed);
    bs_error err;
    if (bs_config_set(*ps, s, &err) != BS_OK) fail_msg("%s", err.msg);
    return bs_test_model(*ps);
}

static void done(bs_model *m, bs_paramset *ps, bs_registry *reg)
{
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

/* the mineral missing from former bone over the whole lattice, um^2 (the
 * definition observe.c applies near the lesion) */
static double missing_um2(const bs_model *m)
{
    const bs_lattice *lat = &m->lat;
    double d = 0.0;
    for (long i = 0; i < (long)lat->w * lat->h; i++) {
        if (lat->tissue[i] == BS_TISSUE_BONE)
            d += 1.0 - (double)lat->mineral[i];
        else if (lat->tissue[i] == BS_TISSUE_MARROW && (lat->flags[i] & BS_FLAG_CAVITY))
            d += 1.0;
    }
    return d * lat->h_um * lat->h_um;
}

static void test_bone_lost_near_lesion(void **state)
{
    (void)state;
    static const char *const sets[] = { "lattice.width_sites=64", "lattice.height_sites=64", NULL };
    const char *scen[2] = { "homeostasis", "vicious_cycle" };
    for (int k = 0; k < 2; k++) {
        bs_paramset *ps;
        bs_registry *reg;
        bs_model *m = make(scen[k], sets, 3, &ps, &reg);
        bs_obs o;
        bs_model_observe(m, &o, 0, 0, 1.0);
        double bone0 = o.bone_area_um2, miss0 = missing_um2(m), worst = 0.0, near_max = 0.0;
        for (int d = 1; d <= 90; d++) {
            for (int h = 0; h < 24; h++) bs_model_step(m);
            bs_model_observe(m, &o, 0, 0, 1.0);
            double lost = bone0 - o.bone_area_um2, grown = missing_um2(m) - miss0;
            double err = fabs(lost - grown) / bone0 * 1e6; /* ppm of the bone */
            worst = err > worst ? err : worst;
            assert_true(o.sp.bone_lost_near_lesion_um2 >= 0.0);
            assert_true(o.sp.bone_lost_near_lesion_um2 <= missing_um2(m) + 1e-6);
            if (o.n_dtc == 0) assert_true(o.sp.bone_lost_near_lesion_um2 == 0.0);
            near_max = fmax(near_max, o.sp.bone_lost_near_lesion_um2);
        }
        printf("# %s: bone lost %.0f um^2, missing mineral grew %.0f um^2 (worst mismatch %.3g ppm of the bone)"
               ", largest loss near the lesion %.0f um^2\n",
                scen[k], bone0 - o.bone_area_um2, missing_um2(m) - miss0, worst, near_max);
        /* float mineral: allow a few ppm of the bone area */
        assert_true(worst < 5.0);
        if (k == 1) assert_true(near_max > 0.0); /* the vicious cycle digs next to its tumour */
        done(m, ps, reg);
    }
}

static void test_phases_per_event(void **state)
{
    (void)state;
    bs_paramset *ps;
    bs_registry *reg;
    bs_model *m = make("single_bmu", NULL, 1, &ps, &reg);
    bs_obs o;
    for (int d = 1; d <= 200; d++)
        for (int h = 0; h < 24; h++) bs_model_step(m);
    bs_model_observe(m, &o, 0, 0, 1.0);
    bs_bmu_event ev[4];
    size_t n = bs_bmu_events(m, ev, 4, 0);
    assert_int_equal(n, 1);
    assert_int_equal(o.sp.bmu_events_done, 1);
    const bs_bmu_event *e = &ev[0];
    printf("# single_bmu seed 1: resorption %.2f d, reversal %.2f d, formation %.2f d, event %.2f d, depth %.0f um\n",
            o.sp.bmu_resorption_d, o.sp.bmu_reversal_d, o.sp.bmu_formation_d, o.sp.bmu_event_d, o.sp.bmu_depth_um);
    assert_true(fabs(o.sp.bmu_resorption_d - (e->res_last_d - e->res_first_d)) < 1e-3);
    assert_true(fabs(o.sp.bmu_reversal_d - (e->team_first_d - e->res_last_d)) < 1e-3);
    assert_true(fabs(o.sp.bmu_formation_d - (e->min_last_d - e->team_first_d)) < 1e-3);
    assert_true(fabs(o.sp.bmu_event_d - (e->end_d - e->res_first_d)) < 1e-3);
    assert_true(fabs(o.sp.bmu_depth_um - e->depth_um) < 1e-3);
    assert_true(e->resorbed_um2 > 0.0 && fabs(o.sp.bmu_refill - e->formed_um2 / e->resorbed_um2) < 1e-6);
    done(m, ps, reg);
}

static void test_contacts(void **state)
{
    (void)state;
    static const char *const sets[] = { "lattice.width_sites=80", "lattice.height_sites=80", NULL };
    bs_paramset *ps;
    bs_registry *reg;
    bs_model *m = make("immune_surveillance", sets, 2, &ps, &reg);
    bs_obs o;
    bs_model_observe(m, &o, 0, 0, 1.0);
    double t_all = 0.0, nk_all = 0.0, kills_t = 0.0, contact_t = 0.0;
    for (int row = 0; row < 10; row++) {
        double th = 0.0, nh = 0.0, nhh = 0.0;
        uint64_t kh = 0;
        for (int h = 0; h < 48; h++) {
            bs_model_step(m);
            th += m->last.tcell_contact_h;
            nh += m->last.nk_contact_h;
            nhh += m->last.nk_contact_h_hypoxic;
            kh += m->last.kills_nk_hypoxic;
        }
        bs_model_observe(m, &o, 0, 0, 2.0); /* rows of two days */
        assert_true(fabs(o.sp.tcell_contacts_mean - th / 48.0) < 1e-9);
        assert_true(fabs(o.sp.nk_contacts_mean - nh / 48.0) < 1e-9);
        assert_true(fabs(o.sp.nk_contacts_hypoxic_mean - nhh / 48.0) < 1e-9);
        assert_true(fabs(o.sp.kills_nk_hypoxic_per_day - (double)kh / 2.0) < 1e-9);
        assert_true(o.sp.nk_contacts_hypoxic_mean <= o.sp.nk_contacts_mean + 1e-12);
        assert_true(o.sp.kills_nk_hypoxic_per_day <= o.kills_nk_per_day + 1e-12);
        t_all += th;
        nk_all += nh;
        kills_t += o.kills_tcell_per_day * 2.0;
        contact_t += th / 24.0;
    }
    printf("# immune_surveillance 80x80 seed 2, 20 days: %.1f CTL contact-h, %.1f NK contact-h, %.0f CTL kills "
           "(%.2f per contact-day)\n",
            t_all, nk_all, kills_t, contact_t > 0 ? kills_t / contact_t : 0.0);
    assert_true(t_all > 0.0); /* the lesion is engaged, so the test measures something */
    done(m, ps, reg);
}

static void test_dormant_by_landing_site_and_cxcl12(void **state)
{
    (void)state;
    static const char *const sets[] = { "lattice.width_sites=80", "lattice.height_sites=80", NULL };
    bs_paramset *ps;
    bs_registry *reg;
    bs_model *m = make("dormancy", sets, 4, &ps, &reg);
    long seen_dormant = 0;
    for (int d = 0; d <= 20; d++) {
        if (d > 0)
            for (int h = 0; h < 24; h++) bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0, 0, 1.0);
        long dorm[3] = { 0, 0, 0 }, settled = 0;
        double cx = 0.0;
        const bs_store *s = &m->store;
        for (long i = 0; i < (long)m->lat.w * m->lat.h; i++) {
            int slot = s->occ[i];
            if (slot < 0 || s->type[slot] != BS_CELL_DTC) continue;
            if (s->state[slot] != BS_DTC_MIGRATING) {
                settled++;
                cx += (double)m->fields[BS_FIELD_CXCL12].c[i];
            }
            if (s->state[slot] != BS_DTC_DORMANT) continue;
            int a = (int)s->aux[slot];
            dorm[0] += a == (int)BS_DTC_FROM_VESSEL;
            dorm[1] += a == (int)BS_DTC_FROM_QUIESCENT;
            dorm[2] += a == (int)BS_DTC_FROM_BRC;
        }
        assert_int_equal(o.sp.n_dtc_dormant_lineage_blood, dorm[0]);
        assert_int_equal(o.sp.n_dtc_dormant_lineage_quiescent, dorm[1]);
        assert_int_equal(o.sp.n_dtc_dormant_lineage_brc, dorm[2]);
        assert_true(o.sp.n_dtc_dormant_lineage_blood + o.sp.n_dtc_dormant_lineage_quiescent +
                        o.sp.n_dtc_dormant_lineage_brc <=
                o.n_dtc_dormant);
        assert_int_equal(o.sp.n_dtc_settled, settled);
        assert_true(fabs(o.sp.cxcl12_settled_dtc_au - (settled ? cx / (double)settled : 0.0)) < 1e-9);
        seen_dormant += dorm[0] + dorm[1] + dorm[2];
    }
    assert_true(seen_dormant > 0);
    done(m, ps, reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bone_lost_near_lesion),
        cmocka_unit_test(test_phases_per_event),
        cmocka_unit_test(test_contacts),
        cmocka_unit_test(test_dormant_by_landing_site_and_cxcl12),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
