#include "rng.h"

#include <math.h>

/* bs_rng_u64 is inline in rng.h. */

float bs_rate_to_prob(double rate, double dt)
{
    if (rate <= 0.0 || dt <= 0.0) return 0.0f;
    return (float)(-expm1(-rate * dt));
}
