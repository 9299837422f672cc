/* Distance kernels. Stored vectors are unit length, so cosine similarity is the dot product. */
#ifndef MN_INDEX_DISTANCE_H
#define MN_INDEX_DISTANCE_H

float mn_dot(const float *a, const float *b, int dim);

#endif
