/* rng.h — counter-based random numbers.
 *
 * There is no generator state: every draw is a pure function of
 * (seed, stream, step, id, draw). Any agent can draw its numbers in any
 * order, on any thread, and get the same values — this is what makes runs
 * bit-identical at any thread count. Safe inside parallel regions. */
#ifndef BS_RNG_H
#define BS_RNG_H

#include <stdint.h>

/* Streams keep unrelated uses of the same (step, id) apart. */
enum {
    BS_STREAM_GEOMETRY = 1,
    BS_STREAM_SURFACE = 2,
    BS_STREAM_AGENT = 3,
    BS_STREAM_BIRTH = 4,
    BS_STREAM_ARRIVAL = 5,
    BS_STREAM_USER = 16, /* first free stream for later modules */
    BS_STREAM_THERAPY = 40 /* agents/therapy.c: radiotherapy, depletion, mobilisation */
};

/* 64 random bits. */
uint64_t bs_rng_u64(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id, uint32_t draw);

/* Uniform float in [0, 1): 24 random bits, exact in float. */
static inline float bs_rng_uniform(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id,
                                   uint32_t draw)
{
    return (float)(bs_rng_u64(seed, stream, step, id, draw) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32 for small n). */
static inline uint32_t bs_rng_below(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id,
                                    uint32_t draw, uint32_t n)
{
    uint64_t r = bs_rng_u64(seed, stream, step, id, draw) >> 32;
    return (uint32_t)((r * (uint64_t)n) >> 32);
}

/* Per-step probability of an event with a constant hazard:
 * p = 1 - exp(-rate * dt). rate and dt in the same time unit. */
float bs_rate_to_prob(double rate, double dt);

#endif
