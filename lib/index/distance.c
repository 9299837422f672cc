#include "index/distance.h"

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
