/* probe_bmu_events: every remodeling event of a homeostasis run, one line each.
 *
 * Runs the shipped homeostasis scenario for one seed and prints, from the
 * event probe (bs_bmu_events, finished events and those still open), each
 * event's origin (x, y in sites), the day it opened, its first and last
 * erosion, its end (NaN while open), the resorbed and formed areas (um^2)
 * and its erosion depth; then a daily series of bone area, open BMUs and
 * osteoclasts ("day," lines). For the statistics of activation (are BMUs
 * opened as a Poisson process, or in clusters?) in issue #15; it only
 * measures.
 *
 *   probe_bmu_events SEED DAYS [--set KEY=VALUE]...
 */
#include "model.h"
#include "probe_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EV 8192

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: probe_bmu_events SEED DAYS [--set KEY=VALUE]...\n");
        return 2;
    }
    long seed, days;
    if (probe_parse_long(argv[1], 0, 4000000000L, &seed) || probe_parse_long(argv[2], 1, 3650, &days)) {
        fprintf(stderr, "probe_bmu_events: SEED must be 0 .. 4000000000 and DAYS 1 .. 3650 (got %s %s)\n", argv[1],
                argv[2]);
        return 2;
    }
    bs_error err;
    bs_registry *reg;
    bs_paramset *ps;
    if (probe_load_scenario("probe_bmu_events", "homeostasis", seed, &reg, &ps)) return 1;
    for (int k = 3; k < argc; k++) {
        if (strcmp(argv[k], "--set") == 0 && k + 1 < argc) {
            if (bs_config_set(ps, argv[++k], &err) != BS_OK) {
                fprintf(stderr, "probe_bmu_events: %s\n", err.msg);
                return 1;
            }
        } else {
            fprintf(stderr, "probe_bmu_events: unknown argument %s\n", argv[k]);
            return 2;
        }
    }
    bs_model *m = NULL;
    if (bs_model_create(&m, ps, NULL, &err) != BS_OK) {
        fprintf(stderr, "probe_bmu_events: %s\n", err.msg);
        return 1;
    }
    long steps_per_day = (long)(24.0 / m->dt_h + 0.5);
    printf("day,bone_um2,open_bmus,osteoclasts\n");
    for (long d = 0; d <= days; d++) {
        if (d > 0)
            for (long h = 0; h < steps_per_day; h++) bs_model_step(m);
        bs_obs o;
        bs_model_observe(m, &o, 0.0, 0.0, 1.0);
        long open = 0;
        for (int i = 0; i < m->lat.w * m->lat.h; i++)
            if (bs_bmu_phase(m, i) != 0) open++;
        printf("day,%ld,%.1f,%ld,%ld\n", d, o.bone_area_um2, open, o.n_osteoclasts);
    }
    static bs_bmu_event ev[MAX_EV];
    size_t ne = bs_bmu_events(m, ev, MAX_EV, 1);
    if (ne > MAX_EV) ne = MAX_EV;
    printf("ev,x,y,open_d,res_first_d,res_last_d,end_d,resorbed_um2,formed_um2,depth_um,stalled\n");
    for (size_t k = 0; k < ne; k++) {
        const bs_bmu_event *e = &ev[k];
        printf("ev,%d,%d,%.2f,%.2f,%.2f,%.2f,%.0f,%.0f,%.0f,%d\n", e->origin % m->lat.w, e->origin / m->lat.w,
                e->open_d, e->res_first_d, e->res_last_d, e->end_d, e->resorbed_um2, e->formed_um2, e->depth_um,
                e->stalled);
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}
