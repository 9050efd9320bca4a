/* The thread count of a model step (engine/pace.h): with synthetic step
 * times, the pace settles on the faster count and spends little time
 * probing the slower one. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pace.h"

/* Runs n steps where a step at one thread takes t1 and at max threads tT
 * (switching to tT2 after `change` steps); returns the steps run at one
 * thread, and the total time in *total. */
static long run(bs_pace *p, int max, long n, double t1, double tT, long change, double tT2, double *total)
{
    long at1 = 0;
    *total = 0.0;
    for (long s = 0; s < n; ++s) {
        int t = bs_pace_threads(p, max);
        assert_true(t == 1 || t == max);
        double dt = t == 1 ? t1 : (s < change ? tT : tT2);
        /* a step after a change of count is slower (threads woken) */
        *total += dt;
        at1 += t == 1;
        bs_pace_done(p, dt);
    }
    return at1;
}

static void test_idle_keeps_threads(void **state)
{
    (void)state;
    bs_pace p = { 0 };
    unsetenv("BONESIM_FIXED_THREADS");
    double total;
    long at1 = run(&p, 2, 8760, 2.0e-3, 1.05e-3, 1L << 40, 0.0, &total);
    /* probes at one thread: a few steps every 128..1024 */
    assert_true(at1 < 8760 / 50);
    assert_true(total < 1.02 * 8760 * 1.05e-3 + 8760 * 0.0 + at1 * 2.0e-3);
    assert_true(total < 1.03 * 8760 * 1.05e-3);
    assert_true(p.switches == 0);
    assert_true(p.probes > 3);
}

static void test_contention_drops_to_one(void **state)
{
    (void)state;
    bs_pace p = { 0 };
    double total;
    /* two threads three times slower than one (partners descheduled) */
    long at1 = run(&p, 2, 8760, 2.0e-3, 6.0e-3, 1L << 40, 0.0, &total);
    assert_true(at1 > 8760 * 95 / 100);
    assert_true(total < 1.05 * 8760 * 2.0e-3);
    assert_true(p.switches == 1);
}

static void test_load_goes_away(void **state)
{
    (void)state;
    bs_pace p = { 0 };
    double total;
    /* slow at two threads for 2000 steps, then fast: back to two */
    run(&p, 2, 6000, 2.0e-3, 6.0e-3, 2000, 1.05e-3, &total);
    assert_true(p.cur == 2 && p.chosen == 2);
    assert_true(p.switches == 2);
    /* back within a couple of probe gaps (64 windows of 16 steps at most) */
    assert_true(total < 2000 * 2.0e-3 * 1.05 + 4000 * 1.05e-3 + 1100 * (2.0e-3 - 1.05e-3));
}

static void test_fixed_and_one_thread(void **state)
{
    (void)state;
    bs_pace p = { 0 };
    setenv("BONESIM_FIXED_THREADS", "1", 1);
    double total;
    assert_true(run(&p, 2, 2000, 2.0e-3, 6.0e-3, 1L << 40, 0.0, &total) == 0);
    unsetenv("BONESIM_FIXED_THREADS");
    bs_pace q = { 0 };
    bs_pace_fix(&q);
    assert_true(run(&q, 4, 2000, 1.0e-3, 9.0e-3, 1L << 40, 0.0, &total) == 0);
    bs_pace r = { 0 };
    assert_true(bs_pace_threads(&r, 1) == 1);
    /* a new caller count starts afresh at that count */
    bs_pace u = { 0 };
    run(&u, 2, 3000, 2.0e-3, 6.0e-3, 1L << 40, 0.0, &total);
    assert_true(u.chosen == 1);
    assert_true(bs_pace_threads(&u, 4) == 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_keeps_threads),
        cmocka_unit_test(test_contention_drops_to_one),
        cmocka_unit_test(test_load_goes_away),
        cmocka_unit_test(test_fixed_and_one_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
