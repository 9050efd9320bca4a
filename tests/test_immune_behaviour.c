/* Immune behaviour tests (docs/behaviours.md B14-B18) on the immune_surveillance
 * and mdsc_suppression scenarios at reduced size (100 x 100 sites, 40
 * days), treated vs control with the same seeds. Each test states its
 * tolerance. Runs are cached by arm and seed, so an arm shared by two tests
 * (the full cast, the CD8-depleted arm) runs once. One thread: the runs are
 * small and the thread count does not change results. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "celltypes.h"
#include "rules.h"

#define DAYS 40
#define NSEEDS 3

typedef struct {
    int done;
    double dtc_burden; /* mean tumour cells over days 15..DAYS (daily samples) */
    long dtc_final;
    double oc_mean; /* mean osteoclasts over days 1..DAYS */
    double tcells_mean, active_mean, mdsc_mean;
    double kills_t, contact_t_h, kills_nk, contact_nk_h, kills_nk_hyp, contact_nk_hyp_h;
    long mdsc_to_oc;
} result;

typedef enum {
    ARM_FULL, /* immune_surveillance */
    ARM_NO_T, /* CD8 depletion */
    ARM_OC_FULL, /* osteoclasts blocked */
    ARM_OC_NO_T, /* osteoclasts blocked, CD8 depletion */
    ARM_NONACT, /* more T cells, never activated, no killing */
    ARM_ACT, /* more T cells, all arriving activated, no killing */
    ARM_MDSC, /* mdsc_suppression */
    ARM_MDSC_NONE, /* mdsc_suppression with MDSCs depleted */
    ARM_NK_OXY, /* CD8-depleted, five times the NK cells */
    ARM_NK_HYP, /* the same in hypoxic marrow */
    ARM_PD1, /* anti_pd1 (mdsc_suppression + anti-PD-1 from day 0) */
    ARM_MDSC_NOBRAKE, /* mdsc_suppression without the PD-L1 brake */
    ARM_PD1_NOBRAKE, /* anti_pd1 without the PD-L1 brake */
    ARM_SOFT, /* immune_surveillance in soft tissue (no bone, no matrix TGF-beta) */
    ARM_NO_MATRIX_TGFB, /* immune_surveillance without TGF-beta released from resorbed matrix */
    ARM_COUNT
} arm;

static const char *const arm_scenario[ARM_COUNT] = { "immune_surveillance", "immune_surveillance",
    "immune_surveillance", "immune_surveillance", "immune_surveillance", "immune_surveillance", "mdsc_suppression",
    "mdsc_suppression", "immune_surveillance", "immune_surveillance", "anti_pd1", "mdsc_suppression", "anti_pd1",
    "immune_surveillance", "immune_surveillance" };
static const char *const arm_sets[ARM_COUNT][5] = {
    [ARM_FULL] = { NULL },
    [ARM_NO_T] = { "tcell.recruit_per_d=0", NULL },
    [ARM_OC_FULL] = { "oc.formation_per_d=0", "mdsc.to_oc_rate_per_d=0", NULL },
    [ARM_OC_NO_T] = { "oc.formation_per_d=0", "mdsc.to_oc_rate_per_d=0", "tcell.recruit_per_d=0", NULL },
    [ARM_NONACT] = { "tcell.recruit_per_d=0.5", "tcell.activation_per_h=0", "tcell.kill_rate_per_h_contact=0", NULL },
    [ARM_ACT] = { "tcell.recruit_per_d=0.5", "tcell.entry_activated_fraction=1", "tcell.kill_rate_per_h_contact=0",
            NULL },
    [ARM_MDSC] = { NULL },
    [ARM_MDSC_NONE] = { "mdsc.recruit_per_d=0", NULL },
    [ARM_NK_OXY] = { "tcell.recruit_per_d=0", "nk.recruit_per_d=0.05", NULL },
    [ARM_NK_HYP] = { "tcell.recruit_per_d=0", "nk.recruit_per_d=0.05", "o2.marrow_uptake_per_h=2000", NULL },
    [ARM_PD1] = { NULL },
    [ARM_MDSC_NOBRAKE] = { "tcell.pdl1_kill_factor=1", NULL },
    [ARM_PD1_NOBRAKE] = { "tcell.pdl1_kill_factor=1", NULL },
    [ARM_SOFT] = { "geometry.source=soft", NULL },
    [ARM_NO_MATRIX_TGFB] = { "oc.tgfb_release_au_per_site=0", NULL },
};

static result cache[ARM_COUNT][NSEEDS + 1];

static const result *run(arm a, long seed)
{
    result *r = &cache[a][seed];
    if (r->done) return r;
    bs_registry *reg;
    const char *size[] = { "lattice.width_sites=100", "lattice.height_sites=100", NULL };
    bs_paramset *ps = bs_test_params(&reg, arm_scenario[a], size);
    bs_error err;
    for (int k = 0; arm_sets[a][k]; k++)
        if (bs_config_set(ps, arm_sets[a][k], &err) != BS_OK) fail_msg("%s", err.msg);
    char s[64];
    snprintf(s, sizeof s, "run.seed=%ld", seed);
    if (bs_config_set(ps, s, &err) != BS_OK) fail_msg("%s", err.msg);
    bs_model *m = bs_test_model(ps);
    memset(r, 0, sizeof *r);
    long steps_per_day = (long)(24.0 / m->dt_h + 0.5), burden_days = 0;
    for (int d = 1; d <= DAYS; d++) {
        for (long k = 0; k < steps_per_day; k++) {
            bs_model_step(m);
            const bs_step_totals *t = &m->last;
            r->kills_t += (double)t->kills_tcell;
            r->contact_t_h += t->tcell_contact_h;
            r->kills_nk += (double)t->kills_nk;
            r->contact_nk_h += t->nk_contact_h;
            r->kills_nk_hyp += (double)t->kills_nk_hypoxic;
            r->contact_nk_hyp_h += t->nk_contact_h_hypoxic;
            r->mdsc_to_oc += (long)t->mdsc_to_oc;
        }
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
        r->oc_mean += (double)o.n_osteoclasts / DAYS;
        r->tcells_mean += (double)o.n_tcells / DAYS;
        r->active_mean += (double)o.n_tcells_active / DAYS;
        r->mdsc_mean += (double)o.n_mdsc / DAYS;
        if (d >= 15) {
            r->dtc_burden += (double)o.n_dtc;
            burden_days++;
        }
        r->dtc_final = o.n_dtc;
    }
    r->dtc_burden /= (double)burden_days;
    r->done = 1;
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return r;
}

/* kills per killer-day spent on a target */
static double per_contact_day(double kills, double contact_h)
{
    return contact_h > 0.0 ? kills / (contact_h / 24.0) : 0.0;
}

/* B14: CD8 depletion raises tumour burden (mean tumour cells, days 15-40)
 * in every seed, with osteoclasts working and with osteoclasts blocked
 * (oc.formation_per_d = 0, the zoledronic-acid stand-in).
 *
 * Kills per CTL-day in contact, pooled over the seeds: 2-16 (Halle et al.
 * 2016 Immunity 44:233, two-photon imaging of CTLs killing virus-infected
 * cells in mouse soft tissue) is asserted where the model matches that
 * setting: the same lesion and immune cast in soft tissue
 * (geometry.source = soft: no bone, no osteoclasts, no TGF-beta released
 * from resorbed matrix). On resorbing bone the matrix TGF-beta brakes the
 * kill (tcell.tgfb_half_au), a bone-specific effect Halle's measurement
 * does not contain, so there only the direction is asserted: the pooled
 * rate in the bone lesion is below that of the same lesion with the matrix
 * release off (oc.tgfb_release_au_per_site = 0), which attributes the
 * difference to the matrix TGF-beta. Measured per seed in
 * docs/calibration.md (Session 8, lesion). */
static void test_b14_cd8_control_tumour_burden(void **state)
{
    (void)state;
    double kills = 0, contact = 0, ks = 0, cs = 0, km = 0, cm = 0;
    for (long seed = 1; seed <= NSEEDS; seed++) {
        const result *f = run(ARM_FULL, seed), *d = run(ARM_NO_T, seed);
        const result *so = run(ARM_SOFT, seed), *nm = run(ARM_NO_MATRIX_TGFB, seed);
        printf("# B14 seed %ld: tumour burden %.1f with CD8 T cells (mean %.1f T cells, %.0f kills) vs %.1f depleted; "
               "final %ld vs %ld; kills per CTL-day in contact %.2f in bone, %.2f without matrix TGF-beta, %.2f in "
               "soft tissue\n",
                seed, f->dtc_burden, f->tcells_mean, f->kills_t, d->dtc_burden, f->dtc_final, d->dtc_final,
                per_contact_day(f->kills_t, f->contact_t_h), per_contact_day(nm->kills_t, nm->contact_t_h),
                per_contact_day(so->kills_t, so->contact_t_h));
        assert_true(d->dtc_burden > f->dtc_burden);
        kills += f->kills_t;
        contact += f->contact_t_h;
        ks += so->kills_t;
        cs += so->contact_t_h;
        km += nm->kills_t;
        cm += nm->contact_t_h;
    }
    for (long seed = 1; seed <= 2; seed++) {
        const result *f = run(ARM_OC_FULL, seed), *d = run(ARM_OC_NO_T, seed);
        printf("# B14 osteoclasts blocked, seed %ld: tumour burden %.1f with CD8 T cells vs %.1f depleted (osteoclasts "
               "%.1f)\n",
                seed, f->dtc_burden, d->dtc_burden, f->oc_mean);
        assert_true(d->dtc_burden > f->dtc_burden);
    }
    double rate = per_contact_day(kills, contact), soft = per_contact_day(ks, cs), nomat = per_contact_day(km, cm);
    printf("# B14 kills per CTL-day in contact, pooled: %.2f in soft tissue (%.0f kills in %.0f CTL-hours on "
           "targets; band 2-16), %.2f in the bone lesion (%.0f in %.0f h), %.2f there without matrix TGF-beta "
           "(%.0f in %.0f h)\n",
            soft, ks, cs, rate, kills, contact, nomat, km, cm);
    /* both arms must have measured something (a day of contact each) */
    assert_true(cs >= 24.0 && contact >= 24.0 && cm >= 24.0);
    assert_true(soft >= 2.0 && soft <= 16.0);
    assert_true(rate < nomat);
}

/* B15: with killing off (so the tumour is the same) and ten times the T
 * cells, T cells kept non-activated (RANKL) give more osteoclasts than T
 * cells that all arrive activated (IFN-gamma): mean osteoclasts summed over
 * the seeds at least 1.2x, and more than with no T cells, which in turn
 * have more than with activated T cells. */
static void test_b15_tcell_state_and_osteoclasts(void **state)
{
    (void)state;
    double non = 0, act = 0, none = 0;
    for (long seed = 1; seed <= NSEEDS; seed++) {
        const result *n = run(ARM_NONACT, seed), *a = run(ARM_ACT, seed), *z = run(ARM_NO_T, seed);
        printf("# B15 seed %ld: mean osteoclasts %.2f with non-activated T cells (%.1f), %.2f with activated (%.1f "
               "active), %.2f without T cells\n",
                seed, n->oc_mean, n->tcells_mean, a->oc_mean, a->active_mean, z->oc_mean);
        non += n->oc_mean;
        act += a->oc_mean;
        none += z->oc_mean;
    }
    printf("# B15 summed: %.2f non-activated, %.2f none, %.2f activated\n", non, none, act);
    assert_true(non >= 1.2 * act);
    assert_true(non > none);
    assert_true(none > act);
}

/* B16: with MDSCs (mdsc_suppression) vs MDSCs depleted, same seeds: fewer
 * kills per CTL-day in contact (pooled, at most 0.8x), a higher tumour
 * burden and more osteoclasts (summed over seeds); some MDSCs turn into
 * osteoclasts. */
static void test_b16_mdsc_suppress_killing(void **state)
{
    (void)state;
    double kw = 0, cw = 0, kn = 0, cn = 0, bw = 0, bn = 0, ow = 0, on = 0;
    long conv = 0;
    for (long seed = 1; seed <= NSEEDS; seed++) {
        const result *w = run(ARM_MDSC, seed), *n = run(ARM_MDSC_NONE, seed);
        printf("# B16 seed %ld: tumour burden %.1f with MDSCs (mean %.1f) vs %.1f without; CTL kills per contact-day "
               "%.2f vs %.2f; MDSC->osteoclast %ld; osteoclasts %.2f vs %.2f\n",
                seed, w->dtc_burden, w->mdsc_mean, n->dtc_burden, per_contact_day(w->kills_t, w->contact_t_h),
                per_contact_day(n->kills_t, n->contact_t_h), w->mdsc_to_oc, w->oc_mean, n->oc_mean);
        kw += w->kills_t;
        cw += w->contact_t_h;
        kn += n->kills_t;
        cn += n->contact_t_h;
        bw += w->dtc_burden;
        bn += n->dtc_burden;
        conv += w->mdsc_to_oc;
        ow += w->oc_mean;
        on += n->oc_mean;
    }
    double rw = per_contact_day(kw, cw), rn = per_contact_day(kn, cn);
    printf("# B16 pooled: kills per CTL-day in contact %.2f with MDSCs vs %.2f without; burden %.1f vs %.1f; "
           "osteoclasts %.2f vs %.2f; %ld MDSC->osteoclast\n",
            rw, rn, bw, bn, ow, on, conv);
    assert_true(rw <= 0.8 * rn);
    assert_true(bw > bn);
    assert_true(ow > on);
    assert_true(conv > 0);
}

/* B17: with CD8 T cells depleted and five times the NK cells, NK cells
 * kill less per day on a target in hypoxic marrow (median pO2 ~5 mmHg) than
 * in the normal, oxygenated marrow of the same seeds: the pooled rate is
 * lower, and so is the rate in a majority of the seeds (Balsamo 2013 gives
 * the direction; its in-vitro loss of cytotoxicity is no effect size for a
 * per-contact kill rate in marrow, so the size is printed, not asserted:
 * the former "at most 0.7x" was set just past these seeds' values, issue
 * #13). Pooled plus majority rather than every seed: a seed's rate rests on
 * a few tens of kills (Poisson noise of ~20%). A seed counts only where both
 * arms have >= 1 day of NK contact (a seed whose NK cells never reach a
 * target measures nothing), and at least 2 seeds must count; over both,
 * contacts below nk.hypoxia_mmHg kill less than those above; both kinds
 * of contact must occur for at least 2 days (else the test fails: it would
 * measure nothing). */
static void test_b17_nk_hypoxia(void **state)
{
    (void)state;
    double kh = 0, ch = 0, ko = 0, co = 0, in_h = 0, in_hc = 0, in_o = 0, in_oc = 0;
    int lower = 0, measured = 0;
    for (long seed = 1; seed <= NSEEDS; seed++) {
        const result *h = run(ARM_NK_HYP, seed), *o = run(ARM_NK_OXY, seed);
        double sh = per_contact_day(h->kills_nk, h->contact_nk_h), so = per_contact_day(o->kills_nk, o->contact_nk_h);
        if (h->contact_nk_h >= 24.0 && o->contact_nk_h >= 24.0) {
            measured++;
            if (sh < so) lower++;
        }
        printf("# B17 seed %ld: NK kills per contact-day %.2f in hypoxic marrow (%.0f kills, %.0f h) vs %.2f "
               "oxygenated (%.0f kills, %.0f h), x%.2f; tumour burden %.1f vs %.1f\n",
                seed, sh, h->kills_nk, h->contact_nk_h, so, o->kills_nk, o->contact_nk_h, so > 0.0 ? sh / so : 0.0,
                h->dtc_burden, o->dtc_burden);
        kh += h->kills_nk;
        ch += h->contact_nk_h;
        ko += o->kills_nk;
        co += o->contact_nk_h;
        const result *both[2] = { h, o };
        for (int k = 0; k < 2; k++) {
            in_h += both[k]->kills_nk_hyp;
            in_hc += both[k]->contact_nk_hyp_h;
            in_o += both[k]->kills_nk - both[k]->kills_nk_hyp;
            in_oc += both[k]->contact_nk_h - both[k]->contact_nk_hyp_h;
        }
    }
    double rh = per_contact_day(kh, ch), ro = per_contact_day(ko, co);
    printf("# B17 pooled: %.2f (hypoxic marrow) vs %.2f (oxygenated), x%.2f, lower in %d of %d seeds with contact in "
           "both arms; by site: %.2f "
           "below vs %.2f above the threshold (%.0f h vs %.0f h)\n",
            rh, ro, ro > 0.0 ? rh / ro : 0.0, lower, measured, per_contact_day(in_h, in_hc),
            per_contact_day(in_o, in_oc), in_hc, in_oc);
    assert_true(ch > 48.0 && co > 48.0);
    assert_true(rh < ro);
    assert_true(measured >= 2 && 2 * lower > measured);
    /* Both kinds of contact must occur (>= 2 days each) for the by-site
     * comparison to mean anything: too little contact is a failure of the
     * set-up, not a pass. */
    assert_true(in_hc > 48.0 && in_oc > 48.0);
    assert_true(per_contact_day(in_h, in_hc) < per_contact_day(in_o, in_oc));
}

/* B18: anti-PD-1 (anti_pd1 = mdsc_suppression with the antibody from day
 * 0) vs mdsc_suppression, same seeds: the PD-L1 brake scales a CTL's kill
 * rate on a PD-L1+ target, so blocking PD-1 raises the kills per CTL-day
 * in contact (pooled over the seeds, and in a majority of seeds with
 * contact in both arms) and lowers the tumour burden (summed). The
 * literature gives the direction (Iwai 2002 PNAS 99:12293), not a size: the
 * size is printed, not asserted. Attribution: with the brake taken out of
 * both arms (tcell.pdl1_kill_factor = 1) the pooled rise must be smaller
 * than with it, so the rise is the brake's and not the smaller lesion's. */
static void test_b18_antipd1_kills_per_contact(void **state)
{
    (void)state;
    double kc = 0, cc = 0, kp = 0, cp = 0, bc = 0, bp = 0, kc0 = 0, cc0 = 0, kp0 = 0, cp0 = 0;
    int higher = 0, measured = 0;
    for (long seed = 1; seed <= NSEEDS; seed++) {
        const result *c = run(ARM_MDSC, seed), *p = run(ARM_PD1, seed);
        const result *c0 = run(ARM_MDSC_NOBRAKE, seed), *p0 = run(ARM_PD1_NOBRAKE, seed);
        double sc = per_contact_day(c->kills_t, c->contact_t_h), sp = per_contact_day(p->kills_t, p->contact_t_h);
        if (c->contact_t_h >= 24.0 && p->contact_t_h >= 24.0) {
            measured++;
            if (sp > sc) higher++;
        }
        printf("# B18 seed %ld: CTL kills per contact-day %.2f with anti-PD-1 (%.0f kills, %.0f h) vs %.2f without "
               "(%.0f kills, %.0f h); tumour burden %.1f vs %.1f; without the PD-L1 brake %.2f vs %.2f\n",
                seed, sp, p->kills_t, p->contact_t_h, sc, c->kills_t, c->contact_t_h, p->dtc_burden, c->dtc_burden,
                per_contact_day(p0->kills_t, p0->contact_t_h), per_contact_day(c0->kills_t, c0->contact_t_h));
        kc += c->kills_t;
        cc += c->contact_t_h;
        kp += p->kills_t;
        cp += p->contact_t_h;
        bc += c->dtc_burden;
        bp += p->dtc_burden;
        kc0 += c0->kills_t;
        cc0 += c0->contact_t_h;
        kp0 += p0->kills_t;
        cp0 += p0->contact_t_h;
    }
    double rc = per_contact_day(kc, cc), rp = per_contact_day(kp, cp);
    double rc0 = per_contact_day(kc0, cc0), rp0 = per_contact_day(kp0, cp0);
    printf("# B18 pooled: kills per CTL contact-day %.2f with anti-PD-1 vs %.2f without (x%.2f), higher in %d of %d "
           "seeds; burden %.1f vs %.1f; without the brake %.2f vs %.2f (x%.2f)\n",
            rp, rc, rc > 0.0 ? rp / rc : 0.0, higher, measured, bp, bc, rp0, rc0, rc0 > 0.0 ? rp0 / rc0 : 0.0);
    assert_true(cc > 48.0 && cp > 48.0 && cc0 > 48.0 && cp0 > 48.0);
    assert_true(rp > rc);
    assert_true(measured >= 2 && 2 * higher > measured);
    assert_true(bp < bc);
    assert_true(rp / rc > rp0 / rc0);
}

int main(void)
{
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b14_cd8_control_tumour_burden),
        cmocka_unit_test(test_b15_tcell_state_and_osteoclasts),
        cmocka_unit_test(test_b16_mdsc_suppress_killing),
        cmocka_unit_test(test_b17_nk_hypoxia),
        cmocka_unit_test(test_b18_antipd1_kills_per_contact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
