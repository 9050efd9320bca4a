#define _POSIX_C_SOURCE 200809L
/* test_actions.c — the live-change log (agents/actions.h): parser,
 * formatter, replay plan, bad input with file:line, applying actions and
 * bs_model_set_param. */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "celltypes.h"
#include "rules.h"
#include "therapy.h"

static bs_action parse_ok(const char *line)
{
    bs_action a;
    bs_error err = { { 0 } };
    int r = bs_action_parse_line(line, "t:1", &a, &err);
    if (r != 1) fail_msg("'%s' did not parse: %s", line, err.msg);
    return a;
}

static void parse_bad(const char *line, const char *must_contain)
{
    bs_action a;
    bs_error err = { { 0 } };
    int r = bs_action_parse_line(line, "log.txt:7", &a, &err);
    if (r != -1) fail_msg("'%s' was accepted", line);
    if (!strstr(err.msg, "log.txt:7: ")) fail_msg("'%s': message lacks file:line: %s", line, err.msg);
    if (!strstr(err.msg, must_contain)) fail_msg("'%s': message '%s' lacks '%s'", line, err.msg, must_contain);
}

static void test_parse_valid(void **state)
{
    (void)state;
    bs_action a = parse_ok("12 therapy denosumab on");
    assert_int_equal(a.kind, BS_ACT_THERAPY);
    assert_int_equal(a.step, 12);
    assert_int_equal(a.id, bs_therapy_find("denosumab"));
    assert_int_equal(a.on, 1);
    a = parse_ok("  0\ttherapy   anti_pd1 off  ");
    assert_int_equal(a.on, 0);
    assert_int_equal(a.id, BS_THERAPY_ANTI_PD1);

    a = parse_ok("5 inject dtc 3 4");
    assert_int_equal(a.kind, BS_ACT_INJECT);
    assert_int_equal(a.id, BS_CELL_DTC);
    assert_int_equal(a.on, 0);
    assert_int_equal(a.x, 3);
    assert_int_equal(a.y, 4);
    a = parse_ok("5 inject tcell.activated 0 0");
    assert_int_equal(a.id, BS_CELL_TCELL);
    assert_int_equal(a.on, BS_TCELL_ACTIVE);
    a = parse_ok("5 inject dtc.1 0 0");
    assert_int_equal(a.on, BS_DTC_DORMANT);

    a = parse_ok("99 set oc.lifespan_d 12.5");
    assert_int_equal(a.kind, BS_ACT_SET);
    assert_string_equal(a.name, "oc.lifespan_d");
    assert_true(a.value == 12.5);

    a = parse_ok("7 reset 42");
    assert_int_equal(a.kind, BS_ACT_RESET);
    assert_true(a.value == 42.0);
    a = parse_ok("100 end");
    assert_int_equal(a.kind, BS_ACT_END);

    bs_error err;
    assert_int_equal(bs_action_parse_line("", "t", &a, &err), 0);
    assert_int_equal(bs_action_parse_line("   ", "t", &a, &err), 0);
    assert_int_equal(bs_action_parse_line("# comment 1 2 3", "t", &a, &err), 0);
}

static void test_parse_bad(void **state)
{
    (void)state;
    parse_bad("x therapy denosumab on", "not a step number");
    parse_bad("-3 therapy denosumab on", "not a step number");
    parse_bad("1.5 end", "not a step number");
    parse_bad("99999999999999999999999 end", "not a step number");
    parse_bad("12", "has no action");
    parse_bad("12 therapyy denosumab on", "unknown action 'therapyy'");
    parse_bad("12 therapy aspirin on", "unknown therapy 'aspirin'");
    parse_bad("12 therapy aspirin on", "denosumab"); /* lists the valid names */
    parse_bad("12 therapy denosumab yes", "valid: on, off");
    parse_bad("12 therapy denosumab", "takes 2 arguments, got 1");
    parse_bad("12 inject neutrophil 1 1", "unknown cell type 'neutrophil'");
    parse_bad("12 inject neutrophil 1 1", "osteoclast");
    parse_bad("12 inject dtc.sleepy 1 1", "no state 'sleepy'");
    parse_bad("12 inject dtc.3 1 1", "no state '3'");
    parse_bad("12 inject dtc -1 1", "site '-1 1'");
    parse_bad("12 inject dtc 1 y", "site '1 y'");
    parse_bad("12 inject dtc 1", "takes 3 arguments");
    parse_bad("12 set oc.lifespan_d abc", "not a finite number");
    parse_bad("12 set oc.lifespan_d nan", "not a finite number");
    parse_bad("12 set oc.lifespan_d inf", "not a finite number");
    parse_bad("12 set lifespan 3", "not a parameter name");
    parse_bad("12 reset -1", "seed '-1'");
    parse_bad("12 reset 9007199254740993", "seed");
    parse_bad("12 end now", "takes 0 arguments");
    parse_bad("1 2 3 4 5 6 7 8 9", "too many fields");
    char longline[700];
    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    parse_bad(longline, "characters long");
}

static void test_format_round_trip(void **state)
{
    (void)state;
    static const char *const lines[] = { "3 therapy hyperoxia on", "4 inject nk.spent 10 11", "4 inject treg 1 2",
        "4 inject mdsc.monocytic 1 2", "9 set dtc.prolif_per_d 0.10000000000000001", "10 reset 5", "11 end" };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        bs_action a = parse_ok(lines[k]);
        char buf[256];
        bs_action_format(&a, buf, sizeof buf);
        size_t n = strlen(buf);
        assert_true(n > 0 && buf[n - 1] == '\n');
        buf[n - 1] = '\0';
        assert_string_equal(buf, lines[k]);
        bs_action b = parse_ok(buf);
        assert_int_equal(b.kind, a.kind);
        assert_true(b.value == a.value);
    }
}

static char *write_tmpn(const char *text, size_t n)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/bs_test_actions_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static char *write_tmp(const char *text)
{
    return write_tmpn(text, strlen(text));
}

static void log_bad_n(const char *text, size_t n, const char *line_tag, const char *must_contain)
{
    char *path = write_tmpn(text, n);
    bs_action_log log;
    bs_error err = { { 0 } };
    assert_int_not_equal(bs_action_log_read(path, &log, &err), BS_OK);
    char want[128];
    snprintf(want, sizeof want, "%s:%s: ", path, line_tag);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    if (!strstr(err.msg, must_contain)) fail_msg("message '%s' lacks '%s'", err.msg, must_contain);
    assert_null(log.a);
    unlink(path);
}

static void log_bad(const char *text, const char *line_tag, const char *must_contain)
{
    log_bad_n(text, strlen(text), line_tag, must_contain);
}

static void test_log_file(void **state)
{
    (void)state;
    char *path = write_tmp("# header\n\n0 therapy denosumab on\n5 inject dtc 1 1\n5 set oc.lifespan_d 10\n"
                           "9 reset 77\n2 inject nk 3 3\n4 end\n");
    bs_action_log log;
    bs_error err = { { 0 } };
    if (bs_action_log_read(path, &log, &err) != BS_OK) fail_msg("%s", err.msg);
    assert_int_equal(log.n, 6);
    assert_int_equal(log.a[0].line, 3);
    assert_int_equal(log.a[5].line, 8);
    size_t first;
    long long seed, end;
    bs_action_log_replay_plan(&log, &first, &seed, &end);
    assert_int_equal(first, 4); /* after the reset */
    assert_int_equal(seed, 77);
    assert_int_equal(end, 4);
    bs_action_log_free(&log);
    unlink(path);

    /* no reset, no end */
    path = write_tmp("1 therapy anti_pd1 on\n");
    if (bs_action_log_read(path, &log, &err) != BS_OK) fail_msg("%s", err.msg);
    bs_action_log_replay_plan(&log, &first, &seed, &end);
    assert_int_equal(first, 0);
    assert_int_equal(seed, -1);
    assert_int_equal(end, -1);
    bs_action_log_free(&log);
    unlink(path);

    log_bad("5 end\n6 therapy denosumab on\n", "2", "after 'end'");
    log_bad("5 inject dtc 1 1\n4 inject dtc 2 2\n", "2", "before the previous action's step 5");
    log_bad("1 end\n\n3 bogus\n", "3", "unknown action");
    static const char nul[] = "1 therapy denosumab on\n2 therapy denos\0umab on\n";
    log_bad_n(nul, sizeof nul - 1, "2", "NUL byte");

    assert_int_equal(bs_action_log_read("/nonexistent/dir/x.log", &log, &err), BS_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.log"));
}

/* A small model with no cells, for applying actions. */
static bs_model *small_model(bs_registry **reg, bs_paramset **ps)
{
    static const char *const sets[] = { "lattice.width_sites=40", "lattice.height_sites=40", NULL };
    *ps = bs_test_params(reg, NULL, sets);
    return bs_test_model(*ps);
}

static void test_apply(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_paramset *ps;
    bs_model *m = small_model(&reg, &ps);
    bs_error err = { { 0 } };
    /* a free marrow site */
    int x = -1, y = -1;
    for (int i = 0; i < m->lat.w * m->lat.h && x < 0; i++)
        if (m->lat.tissue[i] == BS_TISSUE_MARROW && m->store.occ[i] < 0) {
            x = i % m->lat.w;
            y = i / m->lat.w;
        }
    assert_true(x >= 0);
    int before = m->store.count;
    bs_action a = parse_ok("0 inject tcell.activated 0 0");
    a.x = x;
    a.y = y;
    assert_true(bs_action_can_inject(m, x, y));
    if (bs_action_apply(m, &a, &err) != BS_OK) fail_msg("%s", err.msg);
    assert_int_equal(m->store.count, before + 1);
    int slot = m->store.occ[y * m->lat.w + x];
    assert_true(slot >= 0);
    assert_int_equal(m->store.type[slot], BS_CELL_TCELL);
    assert_int_equal(m->store.state[slot], BS_TCELL_ACTIVE);
    /* the site is now taken: a second inject is refused, with the site */
    assert_false(bs_action_can_inject(m, x, y));
    assert_int_equal(bs_action_apply(m, &a, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a free marrow site"));
    a.x = m->lat.w;
    assert_int_equal(bs_action_apply(m, &a, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "outside the 40 x 40 lattice"));

    /* a therapy switch goes through bs_therapy_switch */
    bs_action t = parse_ok("0 therapy cxcr4_antagonist on");
    if (bs_action_apply(m, &t, &err) != BS_OK) fail_msg("%s", err.msg);
    assert_true(bs_therapy_is_on(&m->therapy, BS_THERAPY_CXCR4_ANTAGONIST));
    t.on = 0;
    bs_action_apply(m, &t, &err);
    assert_false(bs_therapy_is_on(&m->therapy, BS_THERAPY_CXCR4_ANTAGONIST));

    /* reset and end are the run loop's */
    bs_action r = parse_ok("0 reset 3");
    assert_int_equal(bs_action_apply(m, &r, &err), BS_ERR_INVALID);
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static void test_set_param(void **state)
{
    (void)state;
    bs_registry *reg;
    bs_paramset *ps;
    bs_model *m = small_model(&reg, &ps);
    bs_error err = { { 0 } };
    float p0 = m->r.p_oc_death;
    bs_model_step(m);
    uint64_t step = m->step;
    int count = m->store.count;
    bs_action a = parse_ok("1 set oc.lifespan_d 2");
    if (bs_action_apply(m, &a, &err) != BS_OK) fail_msg("%s", err.msg);
    assert_true(bs_param(m->ps, "oc.lifespan_d") == 2.0);
    assert_true(m->r.p_oc_death > 5.0f * p0); /* the rule was re-derived */
    assert_int_equal(m->step, step); /* no state touched */
    assert_int_equal(m->store.count, count);
    /* range from the registry, never clamped */
    assert_int_equal(bs_model_set_param(m, "oc.lifespan_d", 1e9, &err), BS_ERR_INVALID);
    assert_true(bs_param(m->ps, "oc.lifespan_d") == 2.0);
    /* what was built at creation cannot change */
    assert_int_equal(bs_model_set_param(m, "lattice.width_sites", 50, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "cannot change while the model runs"));
    assert_int_equal(bs_model_set_param(m, "run.dt_h", 0.5, &err), BS_ERR_INVALID);
    /* the O2 zones are marked on the lattice at creation */
    assert_int_equal(bs_model_set_param(m, "o2.endosteal_sinusoid_range_um", 50, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "marked on the lattice"));
    assert_int_equal(bs_model_set_param(m, "o2.perisinusoidal_range_um", 30, &err), BS_ERR_INVALID);
    assert_int_equal(bs_model_set_param(m, "o2.endosteal_sinusoid_arterial_frac", 0.5, &err), BS_OK);
    assert_int_equal(bs_model_set_param(m, "no.such_param", 1, &err), BS_ERR_INVALID);
    /* therapies are switched, not re-parameterised, mid-run */
    assert_int_equal(bs_model_set_param(m, "therapy.denosumab.start_day", 3, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "switched on and off live"));
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_log_file),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_set_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
