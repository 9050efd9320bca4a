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

/* SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix
 * with full avalanche. Chaining it over the counter words gives a
 * counter-based generator that passes the usual statistical batteries for
 * this use (independent uniform draws per key). Inline: the agent rules
 * draw several numbers per cell per step, and a call per draw showed in
 * profiles. */
static inline uint64_t bs_rng_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The part of a draw's key chain that does not depend on the id: the
 * same for every agent drawing (stream, draw) in one step, so a rule loop
 * can compute it once per step and pay one mix per draw instead of four
 * (bs_rng_u64_pre). Same bits as bs_rng_u64. */
static inline uint64_t bs_rng_prefix(uint64_t seed, uint32_t stream, uint64_t step, uint32_t draw)
{
    uint64_t h = bs_rng_mix64(seed ^ 0x243f6a8885a308d3ULL);
    h = bs_rng_mix64(h ^ (((uint64_t)stream << 32) | draw));
    return bs_rng_mix64(h ^ step);
}

/* 64 random bits from a prefix (bs_rng_prefix) and the id. */
static inline uint64_t bs_rng_u64_pre(uint64_t prefix, uint64_t id)
{
    return bs_rng_mix64(prefix ^ id);
}

/* 64 random bits. */
static inline uint64_t bs_rng_u64(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id, uint32_t draw)
{
    return bs_rng_u64_pre(bs_rng_prefix(seed, stream, step, draw), id);
}

/* Uniform float in [0, 1) from a prefix: as bs_rng_uniform. */
static inline float bs_rng_uniform_pre(uint64_t prefix, uint64_t id)
{
    return (float)(bs_rng_u64_pre(prefix, id) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) from a prefix: as bs_rng_below. */
static inline uint32_t bs_rng_below_pre(uint64_t prefix, uint64_t id, uint32_t n)
{
    uint64_t r = bs_rng_u64_pre(prefix, id) >> 32;
    return (uint32_t)((r * (uint64_t)n) >> 32);
}

/* Uniform float in [0, 1): 24 random bits, exact in float. */
static inline float bs_rng_uniform(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id, uint32_t draw)
{
    return (float)(bs_rng_u64(seed, stream, step, id, draw) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32 for small n). */
static inline uint32_t bs_rng_below(
        uint64_t seed, uint32_t stream, uint64_t step, uint64_t id, uint32_t draw, uint32_t n)
{
    uint64_t r = bs_rng_u64(seed, stream, step, id, draw) >> 32;
    return (uint32_t)((r * (uint64_t)n) >> 32);
}

/* Per-step probability of an event with a constant hazard:
 * p = 1 - exp(-rate * dt). rate and dt in the same time unit. */
float bs_rate_to_prob(double rate, double dt);

#endif
