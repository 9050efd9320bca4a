/* Tests for the parameter registry and paramsets (engine/params.c). */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, waitpid for the abort test */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "params.h"
#include "registry_fixture.h"


/* the shared test table plus one entry of this test */
static const bs_param_def bs_test_defs[] = {
    BS_TEST_COMMON_DEFS,
    { .name = "ob.rate_per_h",
            .type = BS_PT_REAL,
            .def = 0.1,
            .min = 0,
            .max = 0.5,
            .unit = "1/h",
            .help = "formation rate (test)" },
};
#define BS_TEST_NDEFS (sizeof bs_test_defs / sizeof bs_test_defs[0])

static int bs_setup(void **state)
{
    return bs_fixture_setup(state, bs_test_defs, BS_TEST_NDEFS);
}

static size_t bs_idx(const bs_fixture *fx, const char *name)
{
    long i = bs_registry_find(fx->reg, name);
    assert_true(i >= 0);
    return (size_t)i;
}

/* Sets text expecting failure; checks the message and that nothing changed. */
static void bs_expect_reject(bs_fixture *fx, const char *name, const char *text, const char *expected_msg)
{
    size_t i = bs_idx(fx, name);
    char before[1100], after[1100];
    bs_param_format(fx->ps, i, before, sizeof before);
    int was_set = bs_param_is_set(fx->ps, i);
    bs_error err = { { 0 } };
    bs_status st = bs_paramset_set_text(fx->ps, name, text, "t.ini:3", &err);
    assert_int_equal(st, BS_ERR_INVALID);
    assert_string_equal(err.msg, expected_msg);
    bs_param_format(fx->ps, i, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(bs_param_is_set(fx->ps, i), was_set);
}

static void test_defaults(void **state)
{
    bs_fixture *fx = *state;
    assert_int_equal(bs_registry_count(fx->reg), BS_TEST_NDEFS);
    assert_ptr_equal(bs_registry_at(fx->reg, 1), &bs_test_defs[1]);
    assert_null(bs_registry_at(fx->reg, BS_TEST_NDEFS));
    assert_int_equal(bs_registry_find(fx->reg, "oc.count"), 2);
    assert_int_equal(bs_registry_find(fx->reg, "oc.nope"), -1);
    assert_ptr_equal(bs_paramset_registry(fx->ps), fx->reg);

    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 14.0);
    assert_true(bs_param(fx->ps, "oc.count") == 10.0);
    assert_true(bs_param(fx->ps, "oc.fuse") == 1.0);
    assert_true(bs_param(fx->ps, "solver.method") == 0.0);
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "euler");
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "out");
    assert_true(bs_param_at(fx->ps, 6) == 0.1);
    assert_string_equal(bs_param_str_at(fx->ps, 5), "out");
    for (size_t i = 0; i < BS_TEST_NDEFS; i++) assert_int_equal(bs_param_is_set(fx->ps, i), 0);
}

static void test_set_in_range(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.lifespan_d", "7.5", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 7.5);
    assert_int_equal(bs_param_is_set(fx->ps, bs_idx(fx, "oc.lifespan_d")), 1);
    assert_int_equal(bs_param_is_set(fx->ps, bs_idx(fx, "oc.count")), 0);

    /* Bounds are inclusive; surrounding spaces are not junk. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.lifespan_d", " 5 ", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 5.0);
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.lifespan_d", "2.5e1", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 25.0);

    /* INT: any integral spelling. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.count", "42", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.count") == 42.0);
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.count", "1e2", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.count") == 100.0);
    assert_int_equal(bs_paramset_set_text(fx->ps, "seed", "4294967295", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "seed") == 4294967295.0);

    static const char *const yes[] = { "1", "true", "TRUE", "Yes", "on", "On" };
    static const char *const no[] = { "0", "false", "False", "no", "NO", "off" };
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
        assert_int_equal(bs_paramset_set_text(fx->ps, "oc.fuse", no[k], "t", &err), BS_OK);
        assert_true(bs_param(fx->ps, "oc.fuse") == 0.0);
        assert_int_equal(bs_paramset_set_text(fx->ps, "oc.fuse", yes[k], "t", &err), BS_OK);
        assert_true(bs_param(fx->ps, "oc.fuse") == 1.0);
    }

    assert_int_equal(bs_paramset_set_text(fx->ps, "solver.method", "rk4", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "solver.method") == 2.0);
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "rk4");

    assert_int_equal(bs_paramset_set_text(fx->ps, "output.dir", "runs/a b", "t", &err), BS_OK);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "runs/a b");
    assert_int_equal(bs_paramset_set_text(fx->ps, "output.dir", "", "t", &err), BS_OK);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "");
    assert_int_equal(bs_param_is_set(fx->ps, bs_idx(fx, "output.dir")), 1);

    char longest[1024];
    memset(longest, 'x', 1023);
    longest[1023] = '\0';
    assert_int_equal(bs_paramset_set_text(fx->ps, "output.dir", longest, "t", &err), BS_OK);
    assert_int_equal(strlen(bs_param_str(fx->ps, "output.dir")), 1023);
}

static void test_reject_range(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_reject(fx, "oc.lifespan_d", "900", "t.ini:3: oc.lifespan_d = 900 is out of range (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "4.999", "t.ini:3: oc.lifespan_d = 4.999 is out of range (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.count", "0", "t.ini:3: oc.count = 0 is out of range (valid: 1 .. 100)");
    bs_expect_reject(
            fx, "ob.rate_per_h", "-0.1", "t.ini:3: ob.rate_per_h = -0.1 is out of range (valid: 0 .. 0.5 1/h)");
}

static void test_reject_nonfinite(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_reject(
            fx, "oc.lifespan_d", "nan", "t.ini:3: oc.lifespan_d = 'nan' is not a finite number (valid: 5 .. 25 d)");
    bs_expect_reject(
            fx, "oc.lifespan_d", "NaN", "t.ini:3: oc.lifespan_d = 'NaN' is not a finite number (valid: 5 .. 25 d)");
    bs_expect_reject(
            fx, "oc.lifespan_d", "inf", "t.ini:3: oc.lifespan_d = 'inf' is not a finite number (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "-Infinity",
            "t.ini:3: oc.lifespan_d = '-Infinity' is not a finite number (valid: 5 .. 25 "
            "d)");
    bs_expect_reject(
            fx, "oc.lifespan_d", "1e999", "t.ini:3: oc.lifespan_d = '1e999' is not a finite number (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.count", "nan", "t.ini:3: oc.count = 'nan' is not a finite number (valid: 1 .. 100)");
}

static void test_reject_junk_and_empty(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_reject(fx, "oc.lifespan_d", "1.5x", "t.ini:3: oc.lifespan_d = '1.5x' is not a number (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "ten", "t.ini:3: oc.lifespan_d = 'ten' is not a number (valid: 5 .. 25 d)");
    bs_expect_reject(
            fx, "oc.lifespan_d", "10 12", "t.ini:3: oc.lifespan_d = '10 12' is not a number (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "10,5", "t.ini:3: oc.lifespan_d = '10,5' is not a number (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "", "t.ini:3: oc.lifespan_d has no value (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.lifespan_d", "   ", "t.ini:3: oc.lifespan_d has no value (valid: 5 .. 25 d)");
    bs_expect_reject(fx, "oc.count", "", "t.ini:3: oc.count has no value (valid: 1 .. 100)");
}

static void test_reject_non_integer(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_reject(fx, "oc.count", "2.5", "t.ini:3: oc.count = 2.5 is not an integer (valid: 1 .. 100)");
    bs_expect_reject(fx, "oc.count", "7x", "t.ini:3: oc.count = '7x' is not a number (valid: 1 .. 100)");
}

static void test_reject_bool_and_choice(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_reject(fx, "oc.fuse", "maybe",
            "t.ini:3: oc.fuse = 'maybe' is not a boolean (valid: true, false, yes, no, "
            "on, off, 1, 0)");
    bs_expect_reject(fx, "oc.fuse", "2",
            "t.ini:3: oc.fuse = '2' is not a boolean (valid: true, false, yes, no, on, "
            "off, 1, 0)");
    bs_expect_reject(fx, "oc.fuse", "",
            "t.ini:3: oc.fuse = '' is not a boolean (valid: true, false, yes, no, on, "
            "off, 1, 0)");
    bs_expect_reject(fx, "solver.method", "rk5",
            "t.ini:3: solver.method = 'rk5' is not a valid choice (valid: euler, rk2, "
            "rk4)");
    /* Choices are exact: a different case is a different word. */
    bs_expect_reject(fx, "solver.method", "RK4",
            "t.ini:3: solver.method = 'RK4' is not a valid choice (valid: euler, rk2, "
            "rk4)");
}

static void test_reject_long_string(void **state)
{
    bs_fixture *fx = *state;
    char text[1025];
    memset(text, 'x', 1024);
    text[1024] = '\0';
    bs_expect_reject(fx, "output.dir", text, "t.ini:3: output.dir is too long (valid: at most 1023 characters)");
}

static void test_unknown_name(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.lifspan_d", "10", "--set", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: unknown parameter 'oc.lifspan_d' (did you mean 'oc.lifespan_d'?)");

    /* A transposition counts as one edit. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.lifsepan_d", "10", "f.ini:9", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg,
            "f.ini:9: unknown parameter 'oc.lifsepan_d' (did you mean "
            "'oc.lifespan_d'?)");

    /* Right key, wrong section. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "osteoclast.count", "3", "f.ini:2", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg,
            "f.ini:2: unknown parameter 'osteoclast.count' (did you mean "
            "'oc.count'?)");

    /* Nothing close: the sections there are (here no section [tcell]). */
    assert_int_equal(bs_paramset_set_text(fx->ps, "tcell.kill_prob", "0.2", "--set", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg,
            "--set: unknown parameter 'tcell.kill_prob': there is no section [tcell] (sections: oc, solver, output, "
            "ob)");

    /* From code there is no location prefix. */
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan", 10.0, &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "unknown parameter 'oc.lifespan' (did you mean 'oc.lifespan_d'?)");

    /* A NULL err is allowed. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "nope", "1", NULL, NULL), BS_ERR_INVALID);
}

static void test_duplicate_registration(void **state)
{
    (void)state;
    bs_registry *reg = bs_registry_create();
    assert_non_null(reg);
    bs_error err = { { 0 } };
    assert_int_equal(bs_registry_add(reg, bs_test_defs, 3, &err), BS_OK);
    assert_int_equal(bs_registry_add(reg, bs_test_defs + 2, 2, &err), BS_ERR_INTERNAL);
    assert_string_equal(err.msg, "duplicate parameter 'oc.count'");
    /* A failed add adds nothing, not even the entries before the clash. */
    assert_int_equal(bs_registry_count(reg), 3);
    assert_int_equal(bs_registry_find(reg, "oc.fuse"), -1);

    /* Duplicates inside one table are caught too. */
    static const bs_param_def twice[] = {
        { .name = "x.a", .type = BS_PT_REAL, .def = 0, .min = 0, .max = 1, .unit = "1" },
        { .name = "x.a", .type = BS_PT_REAL, .def = 0, .min = 0, .max = 1, .unit = "1" },
    };
    assert_int_equal(bs_registry_add(reg, twice, 2, &err), BS_ERR_INTERNAL);
    assert_string_equal(err.msg, "duplicate parameter 'x.a'");
    assert_int_equal(bs_registry_count(reg), 3);

    /* Table mistakes are reported, not discovered later. */
    static const bs_param_def bad_default[] = {
        { .name = "x.b", .type = BS_PT_REAL, .def = 2, .min = 0, .max = 1, .unit = "1" },
    };
    assert_int_equal(bs_registry_add(reg, bad_default, 1, &err), BS_ERR_INTERNAL);
    assert_string_equal(err.msg, "parameter 'x.b': default outside its range");
    static const bs_param_def no_choices[] = {
        { .name = "x.c", .type = BS_PT_CHOICE, .unit = "1" },
    };
    assert_int_equal(bs_registry_add(reg, no_choices, 1, &err), BS_ERR_INTERNAL);
    assert_string_equal(err.msg, "parameter 'x.c': CHOICE without choices");

    /* Tables from several modules add up. */
    assert_int_equal(bs_registry_add(reg, bs_test_defs + 3, BS_TEST_NDEFS - 3, &err), BS_OK);
    assert_int_equal(bs_registry_count(reg), BS_TEST_NDEFS);
    bs_registry_destroy(reg);
    bs_registry_destroy(NULL);
    bs_paramset_destroy(NULL);
}

static void test_late_registration(void **state)
{
    (void)state;
    /* A paramset covers the tables registered when it was created; a name
     * added later is reported as a set-up bug, not read out of bounds. */
    bs_registry *reg = bs_registry_create();
    assert_non_null(reg);
    bs_error err = { { 0 } };
    assert_int_equal(bs_registry_add(reg, bs_test_defs, 3, &err), BS_OK);
    bs_paramset *ps = bs_paramset_create(reg);
    assert_non_null(ps);
    assert_int_equal(bs_registry_add(reg, bs_test_defs + 3, BS_TEST_NDEFS - 3, &err), BS_OK);
    assert_int_equal(bs_paramset_set_text(ps, "oc.fuse", "on", "--set", &err), BS_ERR_INTERNAL);
    assert_string_equal(err.msg,
            "--set: parameter 'oc.fuse' was registered after this paramset was "
            "created");
    assert_int_equal(bs_paramset_set_text(ps, "oc.count", "3", "--set", &err), BS_OK);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
}

static void test_clone_independence(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_paramset_set_text(fx->ps, "output.dir", "orig", "t", &err), BS_OK);
    bs_paramset *c = bs_paramset_clone(fx->ps);
    assert_non_null(c);
    assert_ptr_equal(bs_paramset_registry(c), fx->reg);
    assert_string_equal(bs_param_str(c, "output.dir"), "orig");
    assert_int_equal(bs_param_is_set(c, bs_idx(fx, "output.dir")), 1);

    assert_int_equal(bs_param_set(c, "oc.lifespan_d", 20.0, &err), BS_OK);
    assert_int_equal(bs_paramset_set_text(c, "output.dir", "copy", "t", &err), BS_OK);
    assert_int_equal(bs_paramset_set_text(c, "solver.method", "rk2", "t", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 14.0);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "orig");
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "euler");
    assert_int_equal(bs_param_is_set(fx->ps, bs_idx(fx, "oc.lifespan_d")), 0);

    assert_int_equal(bs_paramset_set_text(fx->ps, "output.dir", "orig2", "t", &err), BS_OK);
    assert_string_equal(bs_param_str(c, "output.dir"), "copy");
    assert_true(bs_param(c, "oc.lifespan_d") == 20.0);

    /* Swapping exchanges contents; both objects stay usable. */
    bs_paramset_swap(fx->ps, c);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 20.0);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "copy");
    assert_string_equal(bs_param_str(c, "output.dir"), "orig2");
    bs_paramset_destroy(c);
}

static void test_param_set_by_code(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", 6.25, &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 6.25);
    assert_int_equal(bs_param_is_set(fx->ps, bs_idx(fx, "oc.lifespan_d")), 1);

    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", 30.0, &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "oc.lifespan_d = 30 is out of range (valid: 5 .. 25 d)");
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", (double)NAN, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not a finite number (valid: 5 .. 25 d)"));
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", (double)INFINITY, &err), BS_ERR_INVALID);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 6.25);

    assert_int_equal(bs_param_set(fx->ps, "oc.count", 3.5, &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "oc.count = 3.5 is not an integer (valid: 1 .. 100)");
    assert_int_equal(bs_param_set(fx->ps, "oc.fuse", 0.5, &err), BS_ERR_INVALID);
    assert_int_equal(bs_param_set(fx->ps, "oc.fuse", 0.0, &err), BS_OK);
    assert_int_equal(bs_param_set(fx->ps, "solver.method", 3.0, &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "euler, rk2, rk4"));
    assert_int_equal(bs_param_set(fx->ps, "solver.method", 1.0, &err), BS_OK);
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "rk2");
    assert_int_equal(bs_param_set(fx->ps, "output.dir", 1.0, &err), BS_ERR_INVALID);
}

static void test_format_round_trip(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    char buf[64];

    /* Plain values print plainly. */
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", 7.5, &err), BS_OK);
    bs_param_format(fx->ps, bs_idx(fx, "oc.lifespan_d"), buf, sizeof buf);
    assert_string_equal(buf, "7.5");
    bs_param_format(fx->ps, bs_idx(fx, "ob.rate_per_h"), buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    bs_param_format(fx->ps, bs_idx(fx, "oc.count"), buf, sizeof buf);
    assert_string_equal(buf, "10");
    bs_param_format(fx->ps, bs_idx(fx, "seed"), buf, sizeof buf);
    assert_string_equal(buf, "1");
    bs_param_format(fx->ps, bs_idx(fx, "oc.fuse"), buf, sizeof buf);
    assert_string_equal(buf, "true");
    bs_param_format(fx->ps, bs_idx(fx, "solver.method"), buf, sizeof buf);
    assert_string_equal(buf, "euler");
    bs_param_format(fx->ps, bs_idx(fx, "output.dir"), buf, sizeof buf);
    assert_string_equal(buf, "out");

    /* Values that need more than %g's six digits keep every bit. */
    const double vals[] = { 0.1 + 0.2, 1.0 / 3.0, 5.000000000000001, 24.999999999999996, nextafter(7.5, 8.0),
        12.3456789, 5.0 };
    bs_paramset *other = bs_paramset_create(fx->reg);
    assert_non_null(other);
    size_t i = bs_idx(fx, "oc.lifespan_d");
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        double v = vals[k] < 5.0 ? vals[k] + 5.0 : vals[k];
        assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", v, &err), BS_OK);
        bs_param_format(fx->ps, i, buf, sizeof buf);
        assert_int_equal(bs_paramset_set_text(other, "oc.lifespan_d", buf, "t", &err), BS_OK);
        assert_memory_equal(&v, &(double){ bs_param(other, "oc.lifespan_d") }, sizeof v);
    }
    assert_int_equal(bs_param_set(fx->ps, "oc.lifespan_d", 12.3456789, &err), BS_OK);
    bs_param_format(fx->ps, i, buf, sizeof buf);
    assert_string_equal(buf, "12.3456789");

    /* Every parameter's formatted value reads back to the same text. */
    assert_int_equal(bs_paramset_set_text(fx->ps, "oc.fuse", "off", "t", &err), BS_OK);
    assert_int_equal(bs_paramset_set_text(fx->ps, "solver.method", "rk4", "t", &err), BS_OK);
    for (size_t j = 0; j < BS_TEST_NDEFS; j++) {
        char again[64];
        bs_param_format(fx->ps, j, buf, sizeof buf);
        assert_int_equal(bs_paramset_set_text(other, bs_registry_at(fx->reg, j)->name, buf, "t", &err), BS_OK);
        bs_param_format(other, j, again, sizeof again);
        assert_string_equal(buf, again);
    }

    /* Short buffers truncate safely. */
    bs_param_format(fx->ps, bs_idx(fx, "solver.method"), buf, 3);
    assert_string_equal(buf, "rk");
    bs_paramset_destroy(other);
}

/* Runs fn in a child and checks it aborts with `expected` on stderr. */
static void bs_expect_abort(void (*fn)(const bs_paramset *), const bs_paramset *ps, const char *expected)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn(ps);
        _exit(0); /* not reached when fn aborts */
    }
    close(fds[1]);
    char out[512];
    size_t used = 0;
    ssize_t r;
    while ((r = read(fds[0], out + used, sizeof out - 1 - used)) > 0) used += (size_t)r;
    out[used] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, expected));
}

static void bs_read_unknown(const bs_paramset *ps)
{
    (void)bs_param(ps, "oc.lifspan_d");
}

static void bs_read_unknown_str(const bs_paramset *ps)
{
    (void)bs_param_str(ps, "output.dri");
}

static void bs_read_string_as_number(const bs_paramset *ps)
{
    (void)bs_param(ps, "output.dir");
}

static void test_unknown_getter_aborts(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_abort(bs_read_unknown, fx->ps, "bonesim: internal error: unknown parameter oc.lifspan_d\n");
    bs_expect_abort(bs_read_unknown_str, fx->ps, "bonesim: internal error: unknown parameter output.dri\n");
    bs_expect_abort(bs_read_string_as_number, fx->ps, "bonesim: internal error:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_set_in_range, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_range, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_nonfinite, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_junk_and_empty, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_non_integer, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_bool_and_choice, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_reject_long_string, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_name, bs_setup, bs_teardown),
        cmocka_unit_test(test_duplicate_registration),
        cmocka_unit_test(test_late_registration),
        cmocka_unit_test_setup_teardown(test_clone_independence, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_param_set_by_code, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_format_round_trip, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_getter_aborts, bs_setup, bs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
