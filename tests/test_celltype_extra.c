/* test_celltype_extra.c — a ninth cell type, added with one file
 * (celltype_probe.c) and one registry line (bs_celltype_register below),
 * runs, renders, checkpoints, is counted in the CSV, is killed by
 * radiotherapy as its descriptor says, and adds to the O2 field; a type
 * that does not state its radiosensitivity is refused. Built into this
 * test binary only; the shipped program has eight types. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "celltypes.h"
#include "checkpoint.h"
#include "output.h"
#include "render.h"
#include "spatial.h"
#include "test_util.h"

extern const bs_celltype bs_type_probe; /* celltype_probe.c */

static int probe;
static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    bs_error err;
    probe = bs_celltype_register(&bs_type_probe, &err); /* the registry line */
    if (probe < 0) fail_msg("%s", err.msg);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bs_test_extra_XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *const small[] = { "lattice.width_sites=64", "lattice.height_sites=64",
    "geometry.trab_spacing_um=400", "probe.arrival_per_d=2", NULL };

static bs_model *probe_model(bs_registry **reg, const char *const *sets)
{
    bs_paramset *ps = bs_test_params(reg, "homeostasis", sets);
    bs_model *m = bs_test_model(ps);
    bs_paramset_destroy(ps);
    return m;
}

static long count_probes(const bs_model *m)
{
    long n = 0;
    for (int i = 0; i < m->lat.w * m->lat.h; i++) {
        int s = m->store.occ[i];
        n += s >= 0 && m->store.type[s] == probe;
    }
    return n;
}

static void test_registered(void **state)
{
    (void)state;
    assert_int_equal(bs_celltype_count(), 9); /* the eight shipped types, then the probe */
    assert_int_equal(probe, 8);
    assert_int_equal(bs_celltype_find("probe"), probe);
    bs_error err;
    bs_registry *reg = bs_catalog_registry(&err);
    assert_non_null(reg);
    assert_true(bs_registry_find(reg, "probe.lifespan_d") >= 0); /* its parameter table is in the catalog */
    bs_registry_destroy(reg);
    /* twice, or without a stated radiosensitivity: refused */
    assert_int_equal(bs_celltype_register(&bs_type_probe, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));
    bs_celltype silent = bs_type_probe;
    silent.name = "silent";
    silent.radiation = (bs_rt_sensitivity){ 0 };
    assert_int_equal(bs_celltype_register(&silent, &err), -1);
    assert_non_null(strstr(err.msg, "radiotherapy sensitivity not stated"));
    assert_int_equal(bs_celltype_count(), 9);
}

/* It enters, acts (moves and dies), and takes up O2 through its sources. */
static void test_runs(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_model *m = probe_model(&reg, small);
    bs_test_run_days(m, 5.0);
    long n = count_probes(m);
    print_message("  probe cells after 5 days: %ld\n", n);
    /* about 20 expected; the draws depend on the type's id in the arrival
     * key (the probe is the ninth type since Tregs and macrophages) */
    assert_true(n >= 10);
    bs_obs o;
    bs_model_observe(m, &o, 0.0, 0.0, 1.0);
    assert_int_equal(o.by_state[probe][0], n);
    /* they move: some are no longer next to a vessel */
    long away = 0;
    for (int i = 0; i < m->lat.w * m->lat.h; i++) {
        int s = m->store.occ[i];
        away += s >= 0 && m->store.type[s] == probe && !bs_next_to_vessel(&m->lat, i);
    }
    assert_true(away > 0);
    /* their O2 uptake: the same run without it is better oxygenated */
    const char *no_uptake[] = { "lattice.width_sites=64", "lattice.height_sites=64", "geometry.trab_spacing_um=400",
        "probe.arrival_per_d=2", "probe.o2_uptake_per_h=0", NULL };
    bs_registry *reg2;
    bs_model *q = probe_model(&reg2, no_uptake);
    bs_test_run_days(q, 5.0);
    assert_int_equal(count_probes(q), n); /* O2 does not steer them: the same cells */
    double sa = 0.0, sq = 0.0;
    for (int i = 0; i < m->lat.w * m->lat.h; i++) {
        sa += (double)m->fields[BS_FIELD_O2].c[i];
        sq += (double)q->fields[BS_FIELD_O2].c[i];
    }
    assert_true(sa < sq);
    bs_model_destroy(q);
    bs_registry_destroy(reg2);
    bs_model_destroy(m);
    bs_registry_destroy(reg);
}

static void test_renders(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_model *m = probe_model(&reg, small);
    bs_test_run_days(m, 3.0);
    assert_true(count_probes(m) > 0);
    bs_render_input in = { .lat = &m->lat, .store = &m->store, .time_days = 3.0, .title = "probe", .px_per_site = 2 };
    bs_image im = { 0 };
    bs_error err;
    assert_int_equal(bs_render(&in, &im, &err), BS_OK);
    long magenta = 0;
    for (long p = 0; p < (long)im.w * im.h; p++)
        magenta += im.rgb[3 * p] == 0xFF && im.rgb[3 * p + 1] == 0x00 && im.rgb[3 * p + 2] == 0xFF;
    print_message("  magenta pixels: %ld\n", magenta);
    assert_true(magenta > count_probes(m)); /* every cell's marker, and the legend's */
    bs_image_free(&im);
    bs_model_destroy(m);
    bs_registry_destroy(reg);
}

static void test_checkpoints(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_model *a = probe_model(&reg, small);
    bs_test_run_days(a, 2.0);
    char path[128];
    snprintf(path, sizeof path, "%s/probe.ckpt", tmpdir);
    bs_error err;
    assert_int_equal(bs_model_save(a, NULL, 0, path, &err), BS_OK);
    bs_ckpt_reader *r = NULL;
    assert_int_equal(bs_ckpt_open(&r, path, &err), BS_OK);
    bs_paramset *ps = NULL;
    assert_int_equal(bs_model_load_params(r, reg, &ps, NULL, 0, &err), BS_OK);
    bs_model *b = NULL;
    if (bs_model_load(r, ps, &b, &err) != BS_OK) fail_msg("%s", err.msg);
    bs_ckpt_close(r);
    assert_true(count_probes(b) > 0);
    assert_int_equal(count_probes(b), count_probes(a));
    bs_test_run_days(a, 1.0);
    bs_test_run_days(b, 1.0);
    size_t c = (size_t)a->store.capacity;
    assert_memory_equal(a->store.type, b->store.type, c);
    assert_memory_equal(a->store.id, b->store.id, c * sizeof(uint64_t));
    assert_memory_equal(a->store.occ, b->store.occ, (size_t)a->lat.w * a->lat.h * sizeof(int32_t));
    assert_memory_equal(
            a->fields[BS_FIELD_O2].c, b->fields[BS_FIELD_O2].c, (size_t)a->lat.w * a->lat.h * sizeof(float));
    bs_model_destroy(a);
    bs_model_destroy(b);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static void test_csv(void **state)
{
    (void)state;
    const char *const *cols = bs_csv_column_names();
    int n = 0;
    while (cols[n]) n++;
    /* the shipped columns, then the new type's, once */
    assert_true(n > 22);
    assert_string_equal(cols[n - 1], "n_probe");
    assert_string_equal(bs_csv_column_unit(n - 1), "cells");
    for (int c = 0; c < n - 1; c++) assert_string_not_equal(cols[c], "n_probe");
    bs_registry *reg;
    bs_model *m = probe_model(&reg, small);
    bs_test_run_days(m, 2.0);
    bs_obs o;
    bs_model_observe(m, &o, 0.0, 0.0, 1.0);
    char dir[128], path[160], line[2][2048];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    bs_output out;
    bs_error err;
    assert_int_equal(bs_output_open(&out, dir, 1, &err), BS_OK);
    assert_int_equal(bs_output_row(&out, &o, &err), BS_OK);
    assert_int_equal(bs_output_close(&out, &err), BS_OK);
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line[0], sizeof line[0], f));
    assert_non_null(fgets(line[1], sizeof line[1], f));
    fclose(f);
    /* the shipped columns, then the probe's (a type added at run time comes last) */
    assert_non_null(strstr(line[0], ",kills_nk_per_day,store_full_refusals,"));
    assert_string_equal(strrchr(line[0], ','), ",n_probe\n");
    char want[64];
    snprintf(want, sizeof want, ",%ld\n", count_probes(m));
    assert_true(count_probes(m) > 0);
    assert_non_null(strstr(line[1], want));
    assert_string_equal(strrchr(line[1], ','), want);
    bs_model_destroy(m);
    bs_registry_destroy(reg);
}

/* Radiotherapy kills it as its descriptor says (LQ with its own alpha and
 * alpha/beta), and counts the kills under its id. */
static void test_radiotherapy(void **state)
{
    (void)state;
    bs_registry *reg;
    const char *sets[] = { "lattice.width_sites=64", "lattice.height_sites=64", "geometry.trab_spacing_um=400",
        "probe.arrival_per_d=2", "probe.rt_alpha_per_Gy=0.3", "probe.rt_alpha_beta_Gy=3", NULL };
    bs_model *m = probe_model(&reg, sets);
    double S = bs_therapy_rt_survival(&m->r.tx, probe, 0, 2.0f);
    assert_true(fabs(S - exp(-(0.3 * 2.0 + 0.1 * 4.0))) < 1e-6);
    bs_test_run_days(m, 3.0);
    long before = count_probes(m);
    bs_therapy_switch(m, BS_THERAPY_RADIOTHERAPY, 1);
    long after = count_probes(m);
    print_message("  probe cells before/after one fraction: %ld / %ld\n", before, after);
    assert_true(after < before);
    assert_int_equal((long)m->therapy.n_rt_killed[probe], before - after);
    bs_model_destroy(m);
    bs_registry_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_renders),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_radiotherapy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
