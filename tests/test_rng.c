/* Counter-based RNG: pure function of its key, uniform, independent keys. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rng.h"

static void test_pure_function(void **state)
{
    (void)state;
    assert_true(bs_rng_u64(7, 1, 2, 3, 4) == bs_rng_u64(7, 1, 2, 3, 4));
    /* changing any one word of the key changes the output */
    uint64_t a = bs_rng_u64(7, 1, 2, 3, 4);
    assert_true(a != bs_rng_u64(8, 1, 2, 3, 4));
    assert_true(a != bs_rng_u64(7, 2, 2, 3, 4));
    assert_true(a != bs_rng_u64(7, 1, 3, 3, 4));
    assert_true(a != bs_rng_u64(7, 1, 2, 4, 4));
    assert_true(a != bs_rng_u64(7, 1, 2, 3, 5));
    /* known answers: the stream of numbers is part of every saved result
     * (checkpoints, published runs), so a change to the mixer must show */
    assert_true(a == 0x9a25407cd55c1a56ULL);
    assert_true(bs_rng_u64(42, 3, 123456, 987654321, 9) == 0xda30942de5aaf639ULL);
}

static void test_uniform_moments(void **state)
{
    (void)state;
    const int n = 200000;
    double sum = 0.0, sum2 = 0.0;
    int bins[10] = { 0 };
    for (int i = 0; i < n; i++) {
        float u = bs_rng_uniform(42, BS_STREAM_AGENT, (uint64_t)i / 100, (uint64_t)i % 100, 0);
        assert_true(u >= 0.0f && u < 1.0f);
        sum += (double)u;
        sum2 += (double)u * (double)u;
        bins[(int)(u * 10.0f)]++;
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    assert_true(fabs(mean - 0.5) < 0.005); /* sd of mean ~0.0006 */
    assert_true(fabs(var - 1.0 / 12.0) < 0.002);
    /* chi-square with 9 dof: 99.9% quantile is 27.9 */
    double chi = 0.0, e = n / 10.0;
    for (int b = 0; b < 10; b++) chi += (bins[b] - e) * (bins[b] - e) / e;
    assert_true(chi < 27.9);
}

static void test_adjacent_keys_uncorrelated(void **state)
{
    (void)state;
    /* neighbouring ids (agents side by side) must not give correlated draws */
    const int n = 100000;
    double sxy = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++) {
        double x = (double)bs_rng_uniform(1, 3, 10, (uint64_t)i, 0);
        double y = (double)bs_rng_uniform(1, 3, 10, (uint64_t)i + 1, 0);
        sx += x;
        sy += y;
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
    }
    double cov = sxy / n - (sx / n) * (sy / n);
    double r = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    assert_true(fabs(r) < 0.015); /* sd ~0.003 */
}

static void test_below_range(void **state)
{
    (void)state;
    int counts[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint32_t k = bs_rng_below(5, 1, 0, (uint64_t)i, 0, 7);
        assert_true(k < 7);
        counts[k]++;
    }
    for (int k = 0; k < 7; k++) assert_true(counts[k] > 9500 && counts[k] < 10500);
}

static void test_rate_to_prob(void **state)
{
    (void)state;
    assert_true(bs_rate_to_prob(0.0, 1.0) == 0.0f);
    assert_true(fabsf(bs_rate_to_prob(1.0, 1.0) - 0.6321206f) < 1e-6f);
    /* two half steps compose to one step: 1-(1-p/2)^2 = p */
    float half = bs_rate_to_prob(0.3, 0.5), full = bs_rate_to_prob(0.3, 1.0);
    assert_true(fabsf(1.0f - (1.0f - half) * (1.0f - half) - full) < 1e-6f);
}

/* The per-step prefix cache of the agent phase (bs_rng_prefix +
 * bs_rng_*_pre) gives the very same bits as the full key, and the full key
 * still gives the values it gave before the split (pinned: runs must not
 * change when the rules switch to the cached form). */
static void test_prefix_same_bits(void **state)
{
    (void)state;
    assert_true(bs_rng_u64(7, 1, 2, 3, 4) == 0x9a25407cd55c1a56ULL);
    assert_true(bs_rng_u64(3, 3, 1234, 0xdeadbeefULL, 7) == 0xa0b078a153bb4623ULL);
    for (uint64_t step = 0; step < 50; step += 7)
        for (uint32_t draw = 0; draw < 8; draw++) {
            uint64_t pre = bs_rng_prefix(3, BS_STREAM_AGENT, step, draw);
            for (uint64_t id = 0; id < 2000; id += 13) {
                assert_true(bs_rng_u64_pre(pre, id) == bs_rng_u64(3, BS_STREAM_AGENT, step, id, draw));
                assert_true(bs_rng_uniform_pre(pre, id) == bs_rng_uniform(3, BS_STREAM_AGENT, step, id, draw));
                assert_true(bs_rng_below_pre(pre, id, 5) == bs_rng_below(3, BS_STREAM_AGENT, step, id, draw, 5));
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pure_function),
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_adjacent_keys_uncorrelated),
        cmocka_unit_test(test_below_range),
        cmocka_unit_test(test_rate_to_prob),
        cmocka_unit_test(test_prefix_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
