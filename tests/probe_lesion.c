/* probe_lesion: what happens at the bone under a tumour lesion, per seed.
 *
 * Runs a scenario (vicious_cycle by default) and prints every EVERY days:
 * the tumour count; day-0 bone lost within 100 um of a tumour cell (sites
 * that were bone after the burn-in and are marrow now, stalled cavities
 * included, which bone_lost_near_lesion_um2 does not count once a stalled
 * event has turned them into plain marrow); how deep that loss goes (the
 * largest distance, in sites, from a lost site to the nearest marrow site
 * that was never bone); the interface (surface sites with a tumour cell on
 * them or on one of their 8 neighbours) by phase; the osteoclasts within 2
 * sites of a tumour cell; and the mean RANKL signal and PTHrP on the
 * interface's quiescent and resorption sites.
 *
 *   probe_lesion SEED DAYS EVERY [SCENARIO] [key=value ...]
 *
 * SCENARIO is a name in scenarios/ (default vicious_cycle); key=value
 * pairs are --set overrides (e.g. lattice.width_sites=120). Measures only;
 * no verdict. */
#include "model.h"
#include "probe_util.h"
#include "spatial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* largest distance (4-neighbour steps through former bone) from a lost
 * day-0 bone site to marrow that was never bone; dist is w*h ints */
static int loss_depth(const bs_model *m, const unsigned char *near, int *dist, int *queue)
{
    const bs_lattice *lat = &m->lat;
    const int w = lat->w, h = lat->h, n = w * h;
    int head = 0, tail = 0, best = 0;
    for (int i = 0; i < n; i++) {
        int lost = lat->tissue[i] == BS_TISSUE_MARROW && (lat->flags[i] & BS_FLAG_BONE0);
        int plain = lat->tissue[i] != BS_TISSUE_BONE && !(lat->flags[i] & BS_FLAG_BONE0);
        dist[i] = plain ? 0 : lost ? -1 : -2;
        if (plain) queue[tail++] = i;
    }
    static const int dx[4] = { -1, 1, 0, 0 }, dy[4] = { 0, 0, -1, 1 };
    while (head < tail) {
        int i = queue[head++], x = i % w, y = i / w;
        for (int k = 0; k < 4; k++) {
            int nx = x + dx[k], ny = y + dy[k];
            if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
            int j = ny * w + nx;
            if (dist[j] != -1) continue;
            dist[j] = dist[i] + 1;
            if (near[j] && dist[j] > best) best = dist[j];
            queue[tail++] = j;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    long seed, days, every;
    if (argc < 4 || probe_parse_long(argv[1], 0, 4000000000L, &seed) || probe_parse_long(argv[2], 1, 5000, &days) ||
            probe_parse_long(argv[3], 1, 5000, &every)) {
        fprintf(stderr, "usage: probe_lesion SEED DAYS EVERY [SCENARIO] [key=value ...]\n");
        return 2;
    }
    int a = 4;
    const char *scen = "vicious_cycle";
    if (a < argc && !strchr(argv[a], '=')) scen = argv[a++];
    bs_error err;
    bs_registry *reg;
    bs_paramset *ps;
    if (probe_load_scenario("probe_lesion", scen, seed, &reg, &ps)) return 1;
    for (; a < argc; a++)
        if (bs_config_set(ps, argv[a], &err) != BS_OK) {
            fprintf(stderr, "probe_lesion: %s: %s\n", argv[a], err.msg);
            return 1;
        }
    bs_model *m = NULL;
    if (bs_model_create(&m, ps, NULL, &err) != BS_OK) {
        fprintf(stderr, "probe_lesion: %s\n", err.msg);
        return 1;
    }
    const int n = m->lat.w * m->lat.h;
    const int R = (int)lround(100.0 / m->lat.h_um);
    unsigned char *near = calloc((size_t)n, 1);
    int *dist = malloc((size_t)n * sizeof *dist), *queue = malloc((size_t)n * sizeof *queue);
    if (!near || !dist || !queue) return 1;
    printf("day,n_dtc,lost0_near_sites,loss_depth_sites,iface_q,iface_r,iface_v,iface_f,oc_near,sig_q,sig_r,pthrp_"
           "q,pthrp_r,iface_r_free\n");
    long spd = lround(24.0 / m->dt_h);
    for (long d = 0; d <= days; d++) {
        if (d > 0)
            for (long k = 0; k < spd; k++) bs_model_step(m);
        if (d % every) continue;
        const bs_store *s = &m->store;
        long ndtc = 0, lost = 0, ifc[5] = { 0 }, ocn = 0, rfree = 0;
        double sig[5] = { 0 }, pth[5] = { 0 };
        memset(near, 0, (size_t)n);
        for (int i = 0; i < n; i++) {
            int sl = s->occ[i];
            if (sl >= 0 && s->type[sl] == BS_CELL_DTC) ndtc++;
        }
        for (int i = 0; i < n; i++) {
            int lost0 = m->lat.tissue[i] == BS_TISSUE_MARROW && (m->lat.flags[i] & BS_FLAG_BONE0);
            if (lost0 && bs_agent_within(m, i, R, BS_CELL_DTC)) {
                near[i] = 1;
                lost++;
            }
            uint8_t sf = m->lat.surface[i];
            if (sf != BS_SURF_NONE && bs_agent_within(m, i, 1, BS_CELL_DTC)) {
                ifc[sf]++;
                sig[sf] += (double)bs_rankl_signal(m, i);
                pth[sf] += (double)m->fields[BS_FIELD_PTHRP].c[i];
                if (sf == BS_SURF_RESORPTION && s->occ[i] < 0) rfree++;
            }
            int sl = s->occ[i];
            if (sl >= 0 && s->type[sl] == BS_CELL_OSTEOCLAST && bs_agent_within(m, i, 2, BS_CELL_DTC)) ocn++;
        }
        int depth = loss_depth(m, near, dist, queue);
        printf("%ld,%ld,%ld,%d,%ld,%ld,%ld,%ld,%ld,%.3f,%.3f,%.3f,%.3f,%ld\n", d, ndtc, lost, depth,
                ifc[BS_SURF_QUIESCENT], ifc[BS_SURF_RESORPTION], ifc[BS_SURF_REVERSAL], ifc[BS_SURF_FORMATION], ocn,
                ifc[1] ? sig[1] / (double)ifc[1] : 0.0, ifc[2] ? sig[2] / (double)ifc[2] : 0.0,
                ifc[1] ? pth[1] / (double)ifc[1] : 0.0, ifc[2] ? pth[2] / (double)ifc[2] : 0.0, rfree);
        fflush(stdout);
    }
    free(near);
    free(dist);
    free(queue);
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}
