/* Placeholder CPU reference: only the E2M1 rule so far. */
#include <math.h>

#include "runtime/fp4rt.h"

uint8_t fp4rt_ref_e2m1_encode(float x)
{
    if (isnan(x))
        return 7;
    float a = fabsf(x);
    uint8_t c = a <= 0.25f ? 0 : a < 0.75f ? 1 : a <= 1.25f ? 2
              : a < 1.75f ? 3 : a <= 2.5f ? 4 : a < 3.5f ? 5
              : a <= 5.0f ? 6 : 7;
    return (uint8_t)(c | (signbit(x) ? 8 : 0));
}
