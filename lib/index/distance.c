#include "index/distance.h"

#include <string.h>

/* Eight independent sums: without -ffast-math the compiler may not reorder a single running
 * sum, and one chain of dependent additions leaves the FPU waiting on latency. Eight lanes let
 * it vectorise and pipeline. */
float mn_dot(const float *a, const float *b, int dim)
{
    float s[8] = { 0 };
    int i = 0;
    for (; i + 8 <= dim; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < dim; i++)
        sum += a[i] * b[i];
    return sum;
}

/* memcpy of eight floats compiles to one unaligned vector load: no copy, no misaligned access
 * in the C sense. */
float mn_dot_unaligned(const float *a, const void *b, int dim)
{
    const unsigned char *p = b;
    float s[8] = { 0 }, v[8];
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
        memcpy(v, p + (size_t)i * sizeof(float), sizeof v);
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * v[j];
    }
    float sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < dim; i++) {
        memcpy(v, p + (size_t)i * sizeof(float), sizeof(float));
        sum += a[i] * v[0];
    }
    return sum;
}
