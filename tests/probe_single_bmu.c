/* probe_single_bmu: the phases of one remodeling event, per seed.
 *
 * Runs the shipped single_bmu scenario (one BMU on a flat surface) for the
 * given seeds and prints, from the event probe (bs_bmu_events), the
 * durations issue #15 asks for: resorption (first to last erosion),
 * reversal (last erosion to the team's arrival), formation (team's arrival
 * to the last mineral), the whole event (first erosion to termination),
 * the erosion depth and the refill (formed / resorbed area), and the days
 * on which osteoclast and osteoblast numbers peak. The last line gives the
 * median over the seeds.
 *
 *   probe_single_bmu FIRST_SEED LAST_SEED [DAYS] [--check] [--set KEY=VALUE]...
 *
 * --set changes a parameter of the scenario for every seed (to see what a
 * phase is made of, e.g. --set ob.mineralisation_lag_d=0).
 * With --check the exit status is 1 when a seed's event lies outside the
 * literature bands of B3/B4 (docs/behaviours.md: resorption 14-35 d,
 * reversal 5-20 d, formation 60-130 d, whole event 90-200 d, depth 40-80
 * um, refill 0.9-1.05) or did not finish in DAYS; without it the probe
 * only measures. */
#include "model.h"
#include "probe_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 1000
#define MAX_DAYS 2000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static bs_status apply_sets(bs_paramset *ps, const char *const *sets, int n, bs_error *err)
{
    for (int k = 0; k < n; k++) {
        bs_status st = bs_config_set(ps, sets[k], err);
        if (st != BS_OK) return st;
    }
    return BS_OK;
}

int main(int argc, char **argv)
{
    long first, last, days = 260;
    int check = 0, npos = 0;
    const char *pos[3] = { NULL, NULL, NULL };
    const char *sets[32];
    int nsets = 0;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--check") == 0)
            check = 1;
        else if (strcmp(argv[k], "--set") == 0 && k + 1 < argc && nsets < 32)
            sets[nsets++] = argv[++k];
        else if (strcmp(argv[k], "--set") == 0)
            npos = 4;
        else if (npos < 3)
            pos[npos++] = argv[k];
        else
            npos = 4;
    }
    if (npos < 2 || npos > 3 || probe_parse_long(pos[0], 0, 4000000000L, &first) != 0 ||
            probe_parse_long(pos[1], first, first + MAX_SEEDS - 1, &last) != 0 ||
            (npos == 3 && probe_parse_long(pos[2], 1, MAX_DAYS, &days) != 0)) {
        fprintf(stderr,
                "usage: probe_single_bmu FIRST_SEED LAST_SEED [DAYS] [--check] [--set KEY=VALUE]...\n"
                "  seeds: 0 .. 4000000000, at most %d of them, LAST >= FIRST; DAYS: 1 .. %d (default 260); at most "
                "32 --set\n",
                MAX_SEEDS, MAX_DAYS);
        return 2;
    }
    static double oc[MAX_DAYS + 1], ob[MAX_DAYS + 1];
    static double col[6][MAX_SEEDS];
    int n = 0, bad = 0;
    printf("seed,resorption_d,reversal_d,formation_d,total_d,depth_um,refill,oc_peak_day,ob_peak_day,stalled\n");
    for (long seed = first; seed <= last; seed++) {
        bs_error err;
        bs_registry *reg;
        bs_paramset *ps;
        if (probe_load_scenario("probe_single_bmu", "single_bmu", seed, &reg, &ps)) return 1;
        bs_model *m = NULL;
        if (apply_sets(ps, sets, nsets, &err) != BS_OK || bs_model_create(&m, ps, NULL, &err) != BS_OK) {
            fprintf(stderr, "probe_single_bmu: seed %ld: %s\n", seed, err.msg);
            return 1;
        }
        long steps_per_day = lround(24.0 / m->dt_h);
        for (long d = 0; d <= days; d++) {
            if (d > 0)
                for (long h = 0; h < steps_per_day; h++) bs_model_step(m);
            bs_obs o;
            bs_model_observe(m, &o, 0.0, 0.0, 1.0);
            oc[d] = (double)o.n_osteoclasts;
            ob[d] = (double)o.n_osteoblasts;
        }
        bs_bmu_event ev[4];
        size_t ne = bs_bmu_events(m, ev, 4, 1);
        if (ne != 1 || !ev[0].done) {
            printf("%ld,event %s\n", seed, ne == 0 ? "never opened" : ne > 1 ? "not alone" : "not finished");
            bad = 1;
        } else {
            const bs_bmu_event *e = &ev[0];
            double v[6] = { e->res_last_d - e->res_first_d, e->team_first_d - e->res_last_d,
                e->min_last_d - e->team_first_d, e->end_d - e->res_first_d, e->depth_um,
                e->formed_um2 / e->resorbed_um2 };
            long ocp = 0, obp = 0;
            for (long d = 0; d <= days; d++) {
                if (oc[d] > oc[ocp]) ocp = d;
                if (ob[d] > ob[obp]) obp = d;
            }
            printf("%ld,%.1f,%.1f,%.1f,%.1f,%.0f,%.3f,%ld,%ld,%d\n", seed, v[0], v[1], v[2], v[3], v[4], v[5], ocp, obp,
                    e->stalled);
            for (int k = 0; k < 6; k++) col[k][n] = v[k];
            n++;
            if (!(v[0] >= 14 && v[0] <= 35 && v[1] >= 5 && v[1] <= 20 && v[2] >= 60 && v[2] <= 130 && v[3] >= 90 &&
                        v[3] <= 200 && v[4] >= 40 && v[4] <= 80 && v[5] >= 0.9 && v[5] <= 1.05 && !e->stalled))
                bad = 1;
        }
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    if (n > 0) {
        double md[6];
        for (int k = 0; k < 6; k++) md[k] = median(col[k], n);
        printf("median,%.1f,%.1f,%.1f,%.1f,%.0f,%.3f,,,\n", md[0], md[1], md[2], md[3], md[4], md[5]);
    }
    return check && bad ? 1 : 0;
}
