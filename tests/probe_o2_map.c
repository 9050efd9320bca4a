/* probe_o2_map: the marrow O2 map of the homeostasis scenario, per seed.
 *
 *   probe_o2_map FIRST_SEED LAST_SEED [SIZE_SITES] [DAYS]
 *
 * Runs homeostasis on a SIZE x SIZE lattice (default 250, the scenario's
 * full size) for DAYS (default 2; the O2 field is quasi-steady), with any
 * trailing KEY=VALUE parameter overrides, and prints
 * the marrow pO2 median, 5th, 95th and 99th percentiles, the median of the
 * marrow next to a sinusoid (edge neighbour; as the CSV column
 * o2_perisinusoidal_mmHg), the same for the deep perisinusoidal marrow
 * only (no bone within 100 um: Spencer 2014 found the lowest pO2 in the
 * deeper perisinusoidal regions), the median of the marrow next to bone
 * (o2_endosteal_mmHg) and the median of the endosteal marrow within 50 um
 * of an arteriole, in mmHg; the last line is the median over the seeds.
 * A measurement, not a test: issue #15 asks for these percentiles. */
#include "model.h"
#include "probe_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEDS 1000

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank q-quantile of the sorted v[0..n-1] */
static double q_of(const float *v, long n, double q)
{
    return n > 0 ? (double)v[(long)floor(q * (double)(n - 1) + 0.5)] : (double)NAN;
}

static int is(const bs_lattice *L, int x, int y, int t)
{
    return x >= 0 && y >= 0 && x < L->w && y < L->h && L->tissue[y * L->w + x] == t;
}

int main(int argc, char **argv)
{
    long first, last, size = 250, days = 2;
    int nset = 0; /* trailing KEY=VALUE arguments: parameter overrides */
    while (argc - nset > 3 && strchr(argv[argc - 1 - nset], '=') != NULL) nset++;
    const int npos = argc - nset;
    if (npos < 3 || npos > 5 || probe_parse_long(argv[1], 0, 4000000000L, &first) != 0 ||
            probe_parse_long(argv[2], first, first + MAX_SEEDS - 1, &last) != 0 ||
            (npos > 3 && probe_parse_long(argv[3], 16, 4096, &size) != 0) ||
            (npos > 4 && probe_parse_long(argv[4], 1, 3650, &days) != 0)) {
        fprintf(stderr,
                "usage: probe_o2_map FIRST_SEED LAST_SEED [SIZE_SITES] [DAYS] [KEY=VALUE ...]\n"
                "  seeds: 0 .. 4000000000, at most %d, LAST >= FIRST; SIZE_SITES: 16 .. 4096 (default 250);\n"
                "  DAYS: 1 .. 3650 (default 2)\n",
                MAX_SEEDS);
        return 2;
    }
    static double col[8][MAX_SEEDS];
    int ns = 0;
    printf("seed,median,p5,p95,p99,perisinusoidal,deep_perisinusoidal,endosteal,endosteal_by_arteriole\n");
    for (long seed = first; seed <= last; seed++) {
        bs_error err;
        bs_registry *reg;
        bs_paramset *ps;
        if (probe_load_scenario("probe_o2_map", "homeostasis", seed, &reg, &ps)) return 1;
        char b[64], c[64];
        snprintf(b, sizeof b, "lattice.width_sites=%ld", size);
        snprintf(c, sizeof c, "lattice.height_sites=%ld", size);
        bs_model *m = NULL;
        if (bs_config_set(ps, b, &err) != BS_OK || bs_config_set(ps, c, &err) != BS_OK) {
            fprintf(stderr, "probe_o2_map: seed %ld: %s\n", seed, err.msg);
            return 1;
        }
        for (int k = npos; k < argc; k++)
            if (bs_config_set(ps, argv[k], &err) != BS_OK) {
                fprintf(stderr, "probe_o2_map: %s: %s\n", argv[k], err.msg);
                return 1;
            }
        if (bs_model_create(&m, ps, NULL, &err) != BS_OK) {
            fprintf(stderr, "probe_o2_map: seed %ld: %s\n", seed, err.msg);
            return 1;
        }
        long steps = lround((double)days * 24.0 / m->dt_h);
        for (long k = 0; k < steps; k++) bs_model_step(m);
        const bs_lattice *L = &m->lat;
        const float *o2 = m->fields[BS_FIELD_O2].c;
        long n = (long)L->w * L->h, na = 0, np = 0, npd = 0, ne = 0, nea = 0;
        float *all = malloc((size_t)n * 5 * sizeof(float));
        if (!all) {
            fprintf(stderr, "probe_o2_map: out of memory\n");
            return 1;
        }
        float *peri = all + n, *endo = all + 2 * n, *endo_a = all + 3 * n, *deep = all + 4 * n;
        for (long i = 0; i < n; i++) {
            if (L->tissue[i] != BS_TISSUE_MARROW) continue;
            int x = (int)(i % L->w), y = (int)(i / L->w);
            all[na++] = o2[i];
            int by_sin = 0, by_bone = 0, by_art = 0;
            for (int k = 0; k < 4; k++) {
                int xx = x + bs_nb_dx[k], yy = y + bs_nb_dy[k];
                by_sin |= is(L, xx, yy, BS_TISSUE_VESSEL);
                by_bone |= is(L, xx, yy, BS_TISSUE_BONE);
            }
            for (int yy = y - 5; yy <= y + 5 && by_bone; yy++)
                for (int xx = x - 5; xx <= x + 5; xx++) by_art |= is(L, xx, yy, BS_TISSUE_ARTERIOLE);
            if (by_sin) {
                peri[np++] = o2[i];
                int near_bone = 0;
                for (int yy = y - 10; yy <= y + 10 && !near_bone; yy++)
                    for (int xx = x - 10; xx <= x + 10; xx++)
                        if ((xx - x) * (xx - x) + (yy - y) * (yy - y) <= 100 && is(L, xx, yy, BS_TISSUE_BONE)) {
                            near_bone = 1;
                            break;
                        }
                if (!near_bone) deep[npd++] = o2[i];
            }
            if (by_bone) endo[ne++] = o2[i];
            if (by_art) endo_a[nea++] = o2[i];
        }
        qsort(all, (size_t)na, sizeof *all, cmp_float);
        qsort(peri, (size_t)np, sizeof *peri, cmp_float);
        qsort(deep, (size_t)npd, sizeof *deep, cmp_float);
        qsort(endo, (size_t)ne, sizeof *endo, cmp_float);
        qsort(endo_a, (size_t)nea, sizeof *endo_a, cmp_float);
        double v[8] = { q_of(all, na, 0.5), q_of(all, na, 0.05), q_of(all, na, 0.95), q_of(all, na, 0.99),
            q_of(peri, np, 0.5), q_of(deep, npd, 0.5), q_of(endo, ne, 0.5), q_of(endo_a, nea, 0.5) };
        printf("%ld,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f\n", seed, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        for (int k = 0; k < 8; k++) col[k][ns] = v[k];
        ns++;
        free(all);
        bs_model_destroy(m);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
    printf("median");
    for (int k = 0; k < 8; k++) {
        qsort(col[k], (size_t)ns, sizeof(double), cmp_double);
        printf(",%.1f", ns % 2 ? col[k][ns / 2] : 0.5 * (col[k][ns / 2 - 1] + col[k][ns / 2]));
    }
    printf("\n");
    return 0;
}
