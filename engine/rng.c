#include "rng.h"

#include <math.h>

/* SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix
 * with full avalanche. Chaining it over the counter words gives a
 * counter-based generator that passes the usual statistical batteries for
 * this use (independent uniform draws per key). */
static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t bs_rng_u64(uint64_t seed, uint32_t stream, uint64_t step, uint64_t id, uint32_t draw)
{
    uint64_t h = mix64(seed ^ 0x243f6a8885a308d3ULL);
    h = mix64(h ^ (((uint64_t)stream << 32) | draw));
    h = mix64(h ^ step);
    h = mix64(h ^ id);
    return h;
}

float bs_rate_to_prob(double rate, double dt)
{
    if (rate <= 0.0 || dt <= 0.0) return 0.0f;
    return (float)(-expm1(-rate * dt));
}
