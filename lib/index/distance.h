/* Distance kernels. Stored vectors are unit length, so cosine similarity is the dot product. */
#ifndef MN_INDEX_DISTANCE_H
#define MN_INDEX_DISTANCE_H

float mn_dot(const float *a, const float *b, int dim);
/* The same with b at any address (a row inside a database page, say). */
float mn_dot_unaligned(const float *a, const void *b, int dim);

#endif
