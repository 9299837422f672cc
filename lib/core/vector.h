/* Unit vectors: what every vector the library stores or searches with must become. */
#ifndef MNI_CORE_VECTOR_H
#define MNI_CORE_VECTOR_H

/* The largest dimension a database, an index or an embedder may have. */
#define MNI_VEC_MAX_DIM 65536

/* Why a vector cannot be made unit length. */
enum mni_vec_fault {
    MNI_VEC_OK = 0,
    MNI_VEC_NONFINITE, /* a component is NaN or infinite */
    MNI_VEC_ZERO,      /* all zeros: no direction to compare */
    MNI_VEC_HUGE       /* its length overflows */
};

/* Writes v / |v| (dim floats) into out, which may be v. Returns MNI_VEC_OK, or the fault
 * (out then unspecified); *at is the index of a non-finite component. */
int mni_vec_normalise(const float *v, int dim, float *out, int *at);

/* The fault as a phrase that follows "the vector": "has a non-finite value", ... */
const char *mni_vec_fault_text(int fault);

#endif
