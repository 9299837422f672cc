/* The optional backends' libraries (libpq, libcurl), loaded when a handle first needs them
 * rather than by the dynamic loader at every start: with theirs (OpenSSL, GnuTLS, Kerberos,
 * LDAP, ...) they are about 30 shared objects, ~10 ms of symbol binding before main() in every
 * process, that an embedded one-shot `manushya memory search` never uses.
 *
 * A backend lists the functions it calls (MNI_DL_FUNC lines in one X-macro) and defines them
 * once with MNI_DL_DEFINE: each is a hidden function of the same name and prototype as the
 * library's (the compiler checks them against its header), forwarding to the loaded one. The
 * backend's code calls them as ever; its entry point calls mni_dl_load first, so that a missing
 * library is a clear error there (MN_EUNSUPPORTED), never a crash later. */
#ifndef MNI_CORE_DL_H
#define MNI_CORE_DL_H

#include <stddef.h>

struct mni_dl {
    const char *soname;        /* "libpq.so.5" */
    const char *const *names;  /* the functions, n of them */
    size_t n;
    void **fns;                /* n pointers, set by mni_dl_load */
    int (*loaded)(void);       /* NULL, or the library's own setup, run once after loading;
                                * nonzero: failed (then the load did) */
    int state;                 /* 0: not tried yet, 1: loaded, -1: failed (why says why) */
    char why[256];
};

/* Loads dl's library and functions once (thread-safe); MN_OK, or MN_EUNSUPPORTED with dl->why
 * naming the library and the loader's reason. */
int mni_dl_load(struct mni_dl *dl);

/* The loaded function i, after a successful mni_dl_load; a call before it (a program that
 * bypassed the backend's entry point) loads it, and one that cannot be loaded aborts with
 * dl->why: there is no error to return from a function of another library's signature. */
void *mni_dl_fn(struct mni_dl *dl, size_t i);

/* In the X-macro LIST(F) of a library, one line per function:
 *   F(RET_KW, ret_type, name, (params), (args))
 * RET_KW is `return`, or empty for a void function. */
#define MNI_DL_ENUM(kw, ret, name, params, args) MNI_DL_##name,
#define MNI_DL_NAME(kw, ret, name, params, args) #name,
#define MNI_DL_WRAP(dl, kw, ret, name, params, args)                                             \
    ret name params                                                                               \
    {                                                                                             \
        kw((ret(*) params)mni_dl_fn(&dl, MNI_DL_##name)) args;                                    \
    }

/* Defines the table DL (struct mni_dl, soname SONAME, setup LOADED or NULL) for LIST, and
 * every function of LIST (WRAP_ONE: a macro (kw, ret, name, params, args) expanding
 * MNI_DL_WRAP(DL, ...)). */
#define MNI_DL_DEFINE(DL, SONAME, LOADED, LIST, WRAP_ONE)                                         \
    enum { LIST(MNI_DL_ENUM) DL##_COUNT };                                                        \
    static const char *const DL##_names[] = { LIST(MNI_DL_NAME) };                                \
    static void *DL##_fns[DL##_COUNT];                                                            \
    static struct mni_dl DL = { SONAME, DL##_names, DL##_COUNT, DL##_fns, LOADED, 0, "" };     \
    LIST(WRAP_ONE)

#endif
