/* Typed statement arguments for the driver (driver.h). */
#include "store/driver.h"

static struct mni_arg *next(struct mni_args *a, enum mni_arg_type type)
{
    struct mni_arg *v = &a->v[a->n++];
    *v = (struct mni_arg){ .type = type };
    return v;
}

void mni_arg_text(struct mni_args *a, const char *v)
{
    next(a, MNI_ARG_TEXT)->p = v;
}

void mni_arg_int(struct mni_args *a, int64_t v)
{
    next(a, MNI_ARG_INT)->i = v;
}

void mni_arg_real(struct mni_args *a, double v)
{
    next(a, MNI_ARG_REAL)->d = v;
}

void mni_arg_blob(struct mni_args *a, const void *p, size_t len)
{
    struct mni_arg *v = next(a, MNI_ARG_BLOB);
    v->p = p;
    v->len = len;
}

void mni_arg_vec(struct mni_args *a, const float *vec)
{
    next(a, MNI_ARG_VEC)->p = vec;
}
