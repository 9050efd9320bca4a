/* Tests for scenario files and --set (engine/config.c). Fixtures live in
 * tests/data/config/; a few files that would be awkward to keep in the
 * repository (deep include chains, CRLF, over-long lines) are written to a
 * temporary directory by the tests themselves. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, unlink, rmdir, mkfifo, alarm */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "registry_fixture.h"

#ifndef BS_TEST_DATA_DIR
#error "define BS_TEST_DATA_DIR (the tests/data folder) on the compile line"
#endif

#define CFG(name) BS_TEST_DATA_DIR "/config/" name


/* the shared test table plus one entry of this test */
static const bs_param_def bs_test_defs[] = {
    BS_TEST_COMMON_DEFS,
    { .name = "therapy.denosumab.start_day",
            .type = BS_PT_REAL,
            .def = 0,
            .min = 0,
            .max = 3650,
            .unit = "d",
            .help = "treatment start (test)" },
};
#define BS_TEST_NDEFS (sizeof bs_test_defs / sizeof bs_test_defs[0])

static int bs_setup(void **state)
{
    return bs_fixture_setup(state, bs_test_defs, BS_TEST_NDEFS);
}

static int bs_is_set(const bs_fixture *fx, const char *name)
{
    long i = bs_registry_find(fx->reg, name);
    assert_true(i >= 0);
    return bs_param_is_set(fx->ps, (size_t)i);
}

/* Loads path expecting failure with exactly `expected`, and checks that
 * nothing was applied. */
static void bs_expect_load_error(bs_fixture *fx, const char *path, bs_status code, const char *expected)
{
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, path, &err), code);
    assert_string_equal(err.msg, expected);
    for (size_t i = 0; i < BS_TEST_NDEFS; i++) assert_int_equal(bs_param_is_set(fx->ps, i), 0);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 14.0);
}

/* ---- temporary files --------------------------------------------------- */

typedef struct {
    char dir[64];
    char paths[16][128];
    int n;
} bs_tmp;

static void bs_tmp_init(bs_tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/bs_test_config_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    t->n = 0;
}

static const char *bs_tmp_write(bs_tmp *t, const char *name, const char *text)
{
    assert_true(t->n < 16);
    /* Built in a local first: gcc's -Wrestrict cannot tell t->dir and
     * t->paths[] apart. */
    char path[sizeof t->paths[0]];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    char *p = t->paths[t->n++];
    memcpy(p, path, sizeof path);
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return p;
}

/* Like bs_tmp_write, for text with NUL bytes in it. */
static const char *bs_tmp_write_n(bs_tmp *t, const char *name, const char *bytes, size_t n)
{
    const char *p = bs_tmp_write(t, name, "");
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
    return p;
}

static void bs_tmp_cleanup(bs_tmp *t)
{
    for (int i = 0; i < t->n; i++) unlink(t->paths[i]);
    rmdir(t->dir);
}

/* ---- loading ----------------------------------------------------------- */

static void test_load_basic(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, CFG("basic.ini"), &err), BS_OK);
    assert_true(bs_param(fx->ps, "seed") == 42.0);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 20.5); /* inline comment stripped */
    assert_true(bs_param(fx->ps, "oc.count") == 7.0); /* indented: its own key */
    assert_true(bs_param(fx->ps, "oc.fuse") == 0.0);
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "rk2"); /* "[ solver ]" */
    assert_true(bs_param(fx->ps, "therapy.denosumab.start_day") == 30.0);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "results/basic");
    for (size_t i = 0; i < BS_TEST_NDEFS; i++) assert_int_equal(bs_param_is_set(fx->ps, i), 1);
}

static void test_include_overridden_by_includer(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, CFG("child.ini"), &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 8.0); /* child overrides base */
    assert_true(bs_param(fx->ps, "oc.count") == 5.0); /* from base */
    assert_true(bs_param(fx->ps, "seed") == 3.0);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "from-base");
    assert_int_equal(bs_is_set(fx, "oc.fuse"), 0);

    /* The include applies where it stands: later lines win, so here the
     * included seed replaces the one set before the include. */
    bs_paramset_destroy(fx->ps);
    fx->ps = bs_paramset_create(fx->reg);
    assert_int_equal(bs_config_load(fx->ps, CFG("order.ini"), &err), BS_OK);
    assert_true(bs_param(fx->ps, "seed") == 3.0);
}

static void test_nested_include(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, CFG("nested/top.ini"), &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 20.0); /* base, two levels down */
    assert_true(bs_param(fx->ps, "oc.count") == 9.0); /* top overrides base */
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "rk4"); /* mid */
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "from-base");
}

static void test_include_cycle(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(fx, CFG("cycle_a.ini"), BS_ERR_INVALID,
            CFG("cycle_b.ini") ":2: include cycle (" CFG("cycle_a.ini") " -> " CFG("cycle_b.ini") " -> " CFG(
                    "cycle_a.ini") ")");
    bs_expect_load_error(fx, CFG("self_include.ini"), BS_ERR_INVALID,
            CFG("self_include.ini") ":1: include cycle (" CFG("self_include.ini") " -> " CFG("self_include.ini") ")");
}

static void test_include_depth_limit(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    /* a0 -> a1 -> ... -> a8: eight levels of include is the limit. */
    for (int i = 0; i <= 8; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "a%d.ini", i);
        if (i < 8)
            snprintf(text, sizeof text, "include = a%d.ini\n", i + 1);
        else
            snprintf(text, sizeof text, "seed = 8\n");
        bs_tmp_write(&t, name, text);
    }
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, t.paths[0], &err), BS_OK);
    assert_true(bs_param(fx->ps, "seed") == 8.0);

    /* One more level fails at the include line of the eighth file. */
    bs_tmp_write(&t, "a8.ini", "include = a9.ini\n");
    bs_tmp_write(&t, "a9.ini", "seed = 9\n");
    char expected[512];
    snprintf(expected, sizeof expected,
            "%s/a8.ini:1: includes nested too deeply at '%s/a9.ini' (valid: at most 8 levels)", t.dir, t.dir);
    bs_paramset_destroy(fx->ps);
    fx->ps = bs_paramset_create(fx->reg);
    bs_expect_load_error(fx, t.paths[0], BS_ERR_INVALID, expected);
    bs_tmp_cleanup(&t);
}

static void test_unknown_key_line(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(fx, CFG("unknown_key.ini"), BS_ERR_INVALID,
            CFG("unknown_key.ini") ":5: unknown parameter 'oc.lifspan_d' (did you "
                                   "mean 'oc.lifespan_d'?)");
}

static void test_out_of_range_line(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(fx, CFG("range.ini"), BS_ERR_INVALID,
            CFG("range.ini") ":3: oc.lifespan_d = 900 is out of range (valid: 5 .. "
                             "25 d)");
    /* In an included file the error names that file and its line. */
    bs_expect_load_error(fx, CFG("include_bad.ini"), BS_ERR_INVALID,
            CFG("range.ini") ":3: oc.lifespan_d = 900 is out of range (valid: 5 .. "
                             "25 d)");
}

static void test_syntax_error_line(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(fx, CFG("syntax.ini"), BS_ERR_INVALID,
            CFG("syntax.ini") ":4: syntax error (expected 'key = value' or "
                              "'[section]')");

    bs_tmp t;
    bs_tmp_init(&t);
    const char *p = bs_tmp_write(&t, "bracket.ini", "seed = 2\n[oc\ncount = 3\n");
    char expected[512];
    snprintf(expected, sizeof expected, "%s:2: syntax error (expected 'key = value' or '[section]')", p);
    bs_expect_load_error(fx, p, BS_ERR_INVALID, expected);

    p = bs_tmp_write(&t, "nokey.ini", "[oc]\n= 3\n");
    snprintf(expected, sizeof expected, "%s:2: syntax error (expected 'key = value' or '[section]')", p);
    bs_expect_load_error(fx, p, BS_ERR_INVALID, expected);
    bs_tmp_cleanup(&t);
}

static void test_duplicate_key(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(
            fx, CFG("dup.ini"), BS_ERR_INVALID, CFG("dup.ini") ":5: 'oc.lifespan_d' already set at line 2");
}

static void test_missing_file(void **state)
{
    bs_fixture *fx = *state;
    bs_expect_load_error(fx, CFG("no_such_file.ini"), BS_ERR_IO,
            CFG("no_such_file.ini") ": cannot open (No such file or directory)");
    bs_expect_load_error(fx, CFG("include_missing.ini"), BS_ERR_IO,
            CFG("include_missing.ini") ":2: cannot open include file '" CFG(
                    "does_not_exist.ini") "' (No such file or directory)");
    bs_expect_load_error(fx, CFG("nested"), BS_ERR_IO, CFG("nested") ": cannot open (Is a directory)");
    bs_expect_load_error(fx, CFG("include_in_section.ini"), BS_ERR_INVALID,
            CFG("include_in_section.ini") ":2: include must come before the first "
                                          "[section] (found in [oc])");
}

static void test_failed_load_changes_nothing(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_set(fx->ps, "oc.count=20", &err), BS_OK);
    assert_int_equal(bs_config_load(fx->ps, CFG("partial.ini"), &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "partial.ini:5: oc.fuse = 'sometimes' is not a boolean"));
    assert_true(bs_param(fx->ps, "oc.count") == 20.0);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 14.0);
    assert_int_equal(bs_is_set(fx, "oc.lifespan_d"), 0);
    assert_int_equal(bs_config_load(fx->ps, CFG("partial.ini"), NULL), BS_ERR_INVALID);
}

static void test_crlf_and_long_lines(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    const char *p = bs_tmp_write(&t, "crlf.ini",
            "# Windows line ends\r\n[oc]\r\ncount = 4\r\n"
            "[output]\r\ndir = a b\r\n");
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, p, &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.count") == 4.0);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "a b");

    /* inih's line buffer is fixed; a longer line must be an error, not
     * split silently into two lines. */
    char text[600];
    int w = snprintf(text, sizeof text, "[output]\ndir = ");
    memset(text + w, 'x', 400);
    snprintf(text + w + 400, sizeof text - (size_t)w - 400, "\n");
    p = bs_tmp_write(&t, "long.ini", text);
    assert_int_equal(bs_config_load(fx->ps, p, &err), BS_ERR_INVALID);
    char expected[512];
    snprintf(expected, sizeof expected, "%s:2: line too long (valid: at most", p);
    assert_memory_equal(err.msg, expected, strlen(expected));
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "a b");
    bs_tmp_cleanup(&t);
}

/* ---- what inih alone would misread (issue 13 item 2) -------------------- */

/* Writes text to a temporary file and expects loading it to fail with
 * "<path>:<line>: <msg>" exactly. */
static void bs_expect_text_error(
        bs_fixture *fx, bs_tmp *t, const char *name, const char *text, int line, const char *msg)
{
    const char *p = bs_tmp_write(t, name, text);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s:%d: %s", p, line, msg);
    bs_expect_load_error(fx, p, BS_ERR_INVALID, expected);
}

static void test_text_after_section(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    /* inih drops "lifespan_d = 20" and the file loads with the default. */
    bs_expect_text_error(fx, &t, "after.ini", "seed = 2\n[oc] lifespan_d = 20\n", 2,
            "text after ']' ('lifespan_d = 20'): a section line holds only [section] and an optional '; comment'; "
            "put each key = value on a line of its own");
    bs_expect_text_error(fx, &t, "after2.ini", "[oc]]\ncount = 3\n", 1,
            "text after ']' (']'): a section line holds only [section] and an optional '; comment'; put each key = "
            "value on a line of its own");
    /* a comment after the section is fine */
    const char *p = bs_tmp_write(&t, "comment.ini", "[oc] ; osteoclasts\ncount = 3\n[ solver ];x\nmethod = rk4\n");
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, p, &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.count") == 3.0);
    assert_string_equal(bs_param_str(fx->ps, "solver.method"), "rk4");
    bs_tmp_cleanup(&t);
}

static void test_cr_only_and_nul(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    /* Classic Mac line ends: inih sees one line, "[oc]" and nothing else. */
    bs_expect_text_error(fx, &t, "cr.ini", "[oc]\rlifespan_d = 20\rcount = 3\r", 1,
            "carriage return without a line feed at column 5 (valid line ends: LF or CRLF; a file with CR-only line "
            "ends must be converted, e.g. tr '\\r' '\\n')");
    /* a stray CR inside a line, after good lines */
    bs_expect_text_error(fx, &t, "cr2.ini", "[oc]\r\ncount = 3\r\nlifespan_d = 2\r0\r\n", 3,
            "carriage return without a line feed at column 15 (valid line ends: LF or CRLF; a file with CR-only line "
            "ends must be converted, e.g. tr '\\r' '\\n')");
    /* NUL bytes: in a value, in a comment, alone at the end */
    static const char nul1[] = "[oc]\ncount = 3\0 junk\n";
    static const char nul2[] = "# a comment\0\n[oc]\ncount = 3\n";
    static const char nul3[] = "[oc]\ncount = 3\n\0";
    const struct {
        const char *name, *bytes;
        size_t n;
        int line, col;
    } cases[] = {
        { "nul1.ini", nul1, sizeof nul1 - 1, 2, 10 },
        { "nul2.ini", nul2, sizeof nul2 - 1, 1, 12 },
        { "nul3.ini", nul3, sizeof nul3 - 1, 3, 1 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *p = bs_tmp_write_n(&t, cases[k].name, cases[k].bytes, cases[k].n);
        char expected[512];
        snprintf(expected, sizeof expected, "%s:%d: NUL byte at column %d (a scenario file is text)", p, cases[k].line,
                cases[k].col);
        bs_expect_load_error(fx, p, BS_ERR_INVALID, expected);
    }
    bs_tmp_cleanup(&t);
}

static void test_colon_separator(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    /* One separator, '=': "key: value" is refused, not taken as '='. */
    bs_expect_text_error(
            fx, &t, "colon.ini", "[oc]\ncount: 3\n", 2, "'key: value' is not accepted (valid: 'key = value')");
    bs_expect_text_error(
            fx, &t, "colon2.ini", "[output]\ndir: a = b\n", 2, "'key: value' is not accepted (valid: 'key = value')");
    /* a ':' in a value is just text */
    const char *p = bs_tmp_write(&t, "value.ini", "[output]\ndir = C:/runs: first\n");
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_load(fx->ps, p, &err), BS_OK);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "C:/runs: first");
    bs_tmp_cleanup(&t);
}

static void test_hex_and_underflow(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    bs_expect_text_error(fx, &t, "hex.ini", "[oc]\ncount = 0x10\n", 2,
            "oc.count = '0x10' is hexadecimal (valid: a decimal number, 1 .. 100)");
    bs_expect_text_error(fx, &t, "hexf.ini", "[oc]\nlifespan_d = 0x1p3\n", 2,
            "oc.lifespan_d = '0x1p3' is hexadecimal (valid: a decimal number, 5 .. 25 d)");
    char msg[512];
    snprintf(msg, sizeof msg,
            "therapy.denosumab.start_day = '1e-400' underflows (below %g, it would not be read exactly; write 0 for "
            "zero; valid: 0 .. 3650 d)",
            2.2250738585072014e-308);
    bs_expect_text_error(fx, &t, "under.ini", "[therapy.denosumab]\nstart_day = 1e-400\n", 2, msg);
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_set(fx->ps, "oc.count=0X20", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: oc.count = '0X20' is hexadecimal (valid: a decimal number, 1 .. 100)");
    assert_int_equal(bs_config_set(fx->ps, "therapy.denosumab.start_day=-1e-320", &err), BS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'-1e-320' underflows"));
    /* exact zeros, however written, are zero */
    assert_int_equal(bs_config_set(fx->ps, "therapy.denosumab.start_day=0e-400", &err), BS_OK);
    assert_int_equal(bs_config_set(fx->ps, "therapy.denosumab.start_day=0.0", &err), BS_OK);
    assert_true(bs_param(fx->ps, "therapy.denosumab.start_day") == 0.0);
    bs_tmp_cleanup(&t);
}

static void bs_alarm(int sig)
{
    (void)sig;
    fail_msg("loading a FIFO blocked");
}

static void test_not_a_regular_file(void **state)
{
    bs_fixture *fx = *state;
    bs_tmp t;
    bs_tmp_init(&t);
    /* A FIFO without a writer: fopen would block forever. */
    const char *fifo = bs_tmp_write(&t, "fifo.ini", "");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    signal(SIGALRM, bs_alarm);
    alarm(20);
    char expected[512];
    snprintf(expected, sizeof expected, "%s: not a regular file (a FIFO)", fifo);
    bs_expect_load_error(fx, fifo, BS_ERR_IO, expected);
    const char *inc = bs_tmp_write(&t, "inc.ini", "include = fifo.ini\n[oc]\ncount = 3\n");
    snprintf(expected, sizeof expected, "%s:1: include file '%s' is not a regular file (a FIFO)", inc, fifo);
    bs_expect_load_error(fx, inc, BS_ERR_IO, expected);
    char head[64];
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_header(fifo, head, sizeof head, &err), BS_ERR_IO);
    /* a device: never opened */
    inc = bs_tmp_write(&t, "dev.ini", "include = /dev/zero\n");
    snprintf(expected, sizeof expected, "%s:1: include file '/dev/zero' is not a regular file (a character device)",
            inc);
    bs_expect_load_error(fx, inc, BS_ERR_IO, expected);
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    bs_tmp_cleanup(&t);
}

static void test_unknown_key_lists_keys(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    /* no likely typo: the section's keys */
    assert_int_equal(bs_config_set(fx->ps, "oc.number_of_cells=3", &err), BS_ERR_INVALID);
    assert_string_equal(
            err.msg, "--set: unknown parameter 'oc.number_of_cells' (valid keys in [oc]: lifespan_d, count, fuse)");
    assert_int_equal(bs_config_set(fx->ps, "random_seed=3", &err), BS_ERR_INVALID);
    assert_string_equal(
            err.msg, "--set: unknown parameter 'random_seed' (valid keys before the first [section]: seed)");
    /* an unknown section: the sections */
    assert_int_equal(bs_config_set(fx->ps, "osteo.count_x=3", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg,
            "--set: unknown parameter 'osteo.count_x': there is no section [osteo] (sections: oc, solver, output, "
            "therapy.denosumab)");
    bs_tmp t;
    bs_tmp_init(&t);
    bs_expect_text_error(fx, &t, "unk.ini", "[solver]\nintegrator = rk4\n", 2,
            "unknown parameter 'solver.integrator' (valid keys in [solver]: method)");
    bs_tmp_cleanup(&t);
}

/* ---- --set ------------------------------------------------------------- */

static void test_set_assignment(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_set(fx->ps, "oc.lifespan_d=7", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 7.0);
    assert_int_equal(bs_is_set(fx, "oc.lifespan_d"), 1);
    assert_int_equal(bs_config_set(fx->ps, " oc.count = 12 ", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.count") == 12.0);
    /* Only the first '=' splits. */
    assert_int_equal(bs_config_set(fx->ps, "output.dir=a=b", &err), BS_OK);
    assert_string_equal(bs_param_str(fx->ps, "output.dir"), "a=b");
    assert_int_equal(bs_config_set(fx->ps, "therapy.denosumab.start_day=180", &err), BS_OK);
    assert_true(bs_param(fx->ps, "therapy.denosumab.start_day") == 180.0);
    assert_int_equal(bs_config_set(fx->ps, "seed=99", &err), BS_OK);
    assert_true(bs_param(fx->ps, "seed") == 99.0);

    /* --set after a file wins over the file. */
    assert_int_equal(bs_config_load(fx->ps, CFG("base.ini"), &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 20.0);
    assert_int_equal(bs_config_set(fx->ps, "oc.lifespan_d=9", &err), BS_OK);
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 9.0);
}

static void test_set_errors(void **state)
{
    bs_fixture *fx = *state;
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_set(fx->ps, "xyz", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: expected section.key=value, got 'xyz'");
    assert_int_equal(bs_config_set(fx->ps, " =5", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: expected section.key=value, got ' =5'");
    assert_int_equal(bs_config_set(fx->ps, "oc.lifspan_d=10", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: unknown parameter 'oc.lifspan_d' (did you mean 'oc.lifespan_d'?)");
    assert_int_equal(bs_config_set(fx->ps, "oc.lifespan_d=900", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: oc.lifespan_d = 900 is out of range (valid: 5 .. 25 d)");
    assert_int_equal(bs_config_set(fx->ps, "oc.lifespan_d=", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg, "--set: oc.lifespan_d has no value (valid: 5 .. 25 d)");
    assert_int_equal(bs_config_set(fx->ps, "solver.method=rk3", &err), BS_ERR_INVALID);
    assert_string_equal(err.msg,
            "--set: solver.method = 'rk3' is not a valid choice (valid: euler, rk2, "
            "rk4)");
    assert_true(bs_param(fx->ps, "oc.lifespan_d") == 14.0);
}

/* ---- header ------------------------------------------------------------ */

static void test_header(void **state)
{
    (void)state;
    char buf[512];
    bs_error err = { { 0 } };
    assert_int_equal(bs_config_header(CFG("header.ini"), buf, sizeof buf, &err), BS_OK);
    assert_string_equal(buf,
            "Osteoclast lifespan sweep.\n"
            "  indented text\n"
            "\n"
            "What it shows: a semicolon marker.\n"
            "Things to notice: no space after the marker.");

    assert_int_equal(bs_config_header(CFG("basic.ini"), buf, sizeof buf, &err), BS_OK);
    assert_string_equal(buf,
            "Basic scenario: one parameter of every type.\n"
            "What it shows: sections, preamble keys and comments.");

    assert_int_equal(bs_config_header(CFG("noheader.ini"), buf, sizeof buf, &err), BS_OK);
    assert_string_equal(buf, "");

    /* A short buffer gets the start (the one-line summary), terminated. */
    char small[12];
    assert_int_equal(bs_config_header(CFG("header.ini"), small, sizeof small, &err), BS_OK);
    assert_string_equal(small, "Osteoclast ");

    assert_int_equal(bs_config_header(CFG("no_such_file.ini"), buf, sizeof buf, &err), BS_ERR_IO);
    assert_string_equal(err.msg,
            CFG("no_such_file.ini") ": cannot open (No such file or "
                                    "directory)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_basic, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_include_overridden_by_includer, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_nested_include, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_include_cycle, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_include_depth_limit, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_line, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range_line, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_line, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_failed_load_changes_nothing, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_crlf_and_long_lines, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_text_after_section, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_cr_only_and_nul, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_colon_separator, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_hex_and_underflow, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_regular_file, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_lists_keys, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_set_assignment, bs_setup, bs_teardown),
        cmocka_unit_test_setup_teardown(test_set_errors, bs_setup, bs_teardown),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
