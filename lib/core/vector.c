/* Unit vectors: see vector.h. */
#include "core/vector.h"

#include <math.h>

int mni_vec_normalise(const float *v, int dim, float *out, int *at)
{
    double sum = 0;
    for (int i = 0; i < dim; i++) {
        if (!isfinite(v[i])) {
            *at = i;
            return MNI_VEC_NONFINITE;
        }
        sum += (double)v[i] * v[i];
    }
    if (sum == 0)
        return MNI_VEC_ZERO;
    if (!isfinite(sum))
        return MNI_VEC_HUGE;
    double inv = 1.0 / sqrt(sum);
    for (int i = 0; i < dim; i++)
        out[i] = (float)(v[i] * inv);
    return MNI_VEC_OK;
}

const char *mni_vec_fault_text(int fault)
{
    switch (fault) {
    case MNI_VEC_NONFINITE:
        return "has a non-finite value (NaN or infinity)";
    case MNI_VEC_ZERO:
        return "is all zeros, with no direction to compare";
    default:
        return "is too large to normalise";
    }
}
