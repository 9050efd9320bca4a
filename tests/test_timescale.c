/* Tests for run.species_timescale (issue 16 item 5): the mouse preset
 * scenarios/presets/mouse.ini fills the parameters a scenario and --set leave
 * unset, explicit values win, human changes nothing, and a bad preset is
 * refused with file:line. Runs through bs_resolve_params, the one path every
 * command (run, params, validate, compare, view) takes. */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "runner.h"

#ifndef BS_SCENARIOS_DIR
#error "define BS_SCENARIOS_DIR on the compile line"
#endif

#define PRESET BS_SCENARIOS_DIR "/presets/mouse.ini"

static bs_status resolve(const char *scenario, const char *set1, const char *set2, bs_registry **reg, bs_paramset **ps,
        char *msg, size_t n)
{
    bs_cli_opts c;
    memset(&c, 0, sizeof c);
    c.days = c.csv_every = c.png_every = c.ckpt_every = c.max_memory_mb = c.spatial_every = c.video_every = -1.0;
    c.seed = -1;
    c.pos[0] = scenario;
    c.npos = scenario ? 1 : 0;
    if (set1) c.sets[c.nsets++] = set1;
    if (set2) c.sets[c.nsets++] = set2;
    char path[4096];
    bs_error err = { { 0 } };
    bs_status st = bs_resolve_params(&c, reg, ps, path, sizeof path, &err);
    size_t len = strnlen(err.msg, n - 1);
    memcpy(msg, err.msg, len);
    msg[len] = '\0';
    return st;
}

/* The preset's own values, read as a scenario would be. */
static bs_paramset *load_preset(const bs_registry *reg)
{
    bs_paramset *pre = bs_paramset_create(reg);
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(pre, PRESET, &err), BS_OK);
    return pre;
}

static void test_human_is_the_default(void **state)
{
    (void)state;
    setenv("BONESIM_SCENARIOS", BS_SCENARIOS_DIR, 1);
    bs_registry *reg;
    bs_paramset *ps;
    char msg[1024];
    assert_int_equal(resolve("vicious_cycle", NULL, NULL, &reg, &ps, msg, sizeof msg), BS_OK);
    assert_string_equal(bs_param_str(ps, "run.species_timescale"), "human");
    bs_paramset *def = bs_paramset_create(reg);
    bs_paramset *pre = load_preset(reg);
    size_t n = bs_registry_count(reg), named = 0;
    for (size_t i = 0; i < n; i++)
        if (bs_param_is_set(pre, i)) { /* human: every preset key keeps its default */
            named++;
            assert_false(bs_param_is_set(ps, i));
            assert_true(bs_param_at(ps, i) == bs_param_at(def, i));
        }
    assert_true(named >= 5);
    bs_paramset_destroy(pre);
    bs_paramset_destroy(def);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static void test_mouse_preset_applies(void **state)
{
    (void)state;
    setenv("BONESIM_SCENARIOS", BS_SCENARIOS_DIR, 1);
    const char *ways[][2] = { { "vicious_cycle_mouse", NULL }, { "vicious_cycle", "run.species_timescale=mouse" } };
    for (int w = 0; w < 2; w++) {
        bs_registry *reg;
        bs_paramset *ps;
        char msg[1024];
        assert_int_equal(resolve(ways[w][0], ways[w][1], NULL, &reg, &ps, msg, sizeof msg), BS_OK);
        assert_string_equal(bs_param_str(ps, "run.species_timescale"), "mouse");
        bs_paramset *def = bs_paramset_create(reg);
        bs_paramset *pre = load_preset(reg);
        size_t n = bs_registry_count(reg), changed = 0;
        for (size_t i = 0; i < n; i++)
            if (bs_param_is_set(pre, i)) {
                assert_true(bs_param_at(ps, i) == bs_param_at(pre, i));
                if (bs_param_at(pre, i) != bs_param_at(def, i)) changed++;
            }
        assert_true(changed >= 5); /* the preset really changes kinetics */
        /* faster: shorter resorption phase, faster division than human */
        assert_true(bs_param(ps, "bmu.resorption_phase_d") < bs_param(def, "bmu.resorption_phase_d"));
        assert_true(bs_param(ps, "dtc.prolif_per_d") > 5.0 * bs_param(def, "dtc.prolif_per_d"));
        bs_paramset_destroy(pre);
        bs_paramset_destroy(def);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
    }
}

static void test_explicit_values_win(void **state)
{
    (void)state;
    setenv("BONESIM_SCENARIOS", BS_SCENARIOS_DIR, 1);
    bs_registry *reg;
    bs_paramset *ps;
    char msg[1024];
    /* --set after the scenario, and --set before the time scale is chosen */
    assert_int_equal(
            resolve("vicious_cycle", "dtc.prolif_per_d=0.2", "run.species_timescale=mouse", &reg, &ps, msg, sizeof msg),
            BS_OK);
    assert_true(bs_param(ps, "dtc.prolif_per_d") == 0.2);
    bs_paramset *pre = load_preset(reg);
    assert_true(bs_param(ps, "bmu.resorption_phase_d") == bs_param(pre, "bmu.resorption_phase_d"));
    bs_paramset_destroy(pre);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

/* A scenario folder of its own: mouse.ini with the given body. */
static void write_dir(char *dir, const char *preset_body)
{
    strcpy(dir, "/tmp/bs_ts_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char p[4200];
    snprintf(p, sizeof p, "%s/presets", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/presets/mouse.ini", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(preset_body, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/s.ini", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("[run]\nspecies_timescale = mouse\n", f);
    fclose(f);
    setenv("BONESIM_SCENARIOS", dir, 1);
}

static void remove_dir(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/presets/mouse.ini", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/presets", dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/s.ini", dir);
    unlink(p);
    rmdir(dir);
}

static void test_bad_preset_refused(void **state)
{
    (void)state;
    static const struct {
        const char *body, *want1, *want2;
    } cases[] = {
        { "# c\n[dtc]\nprolif_per_d = 99\n", "mouse.ini:3", "0 .. 10" }, /* out of range, with the range */
        { "[dtc]\nno_such_key = 1\n", "mouse.ini:2", "no_such_key" }, /* unknown name */
        { "[run]\ndays = 10\n", "mouse.ini", "not run.days" }, /* run.* is the scenario's */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char dir[64], scen[128], msg[1024];
        write_dir(dir, cases[k].body);
        snprintf(scen, sizeof scen, "%s/s.ini", dir);
        bs_registry *reg = NULL;
        bs_paramset *ps = NULL;
        assert_int_equal(resolve(scen, NULL, NULL, &reg, &ps, msg, sizeof msg), BS_ERR_INVALID);
        assert_null(ps);
        if (!strstr(msg, cases[k].want1) || !strstr(msg, cases[k].want2))
            fail_msg("case %zu: message '%s' lacks '%s' or '%s'", k, msg, cases[k].want1, cases[k].want2);
        remove_dir(dir);
    }
    /* no preset to be found: an error naming it, not the human kinetics */
    char dir[64] = "/tmp/bs_ts_XXXXXX", scen[128], msg[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(scen, sizeof scen, "%s/s.ini", dir);
    FILE *f = fopen(scen, "w");
    assert_non_null(f);
    fputs("[run]\nspecies_timescale = mouse\n", f);
    fclose(f);
    setenv("BONESIM_SCENARIOS", dir, 1);
    setenv("BONESIM_DATA", dir, 1);
    bs_registry *reg = NULL;
    bs_paramset *ps = NULL;
    if (chdir(dir) == 0) { /* away from any ./scenarios */
        bs_status st = resolve(scen, NULL, NULL, &reg, &ps, msg, sizeof msg);
        /* the build-tree folder next to the program may still hold the shipped preset */
        if (st != BS_OK)
            assert_non_null(strstr(msg, "presets/mouse.ini"));
        else {
            bs_paramset_destroy(ps);
            bs_registry_destroy(reg);
        }
    }
    unsetenv("BONESIM_DATA");
    unlink(scen);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_is_the_default),
        cmocka_unit_test(test_mouse_preset_applies),
        cmocka_unit_test(test_explicit_values_win),
        cmocka_unit_test(test_bad_preset_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
