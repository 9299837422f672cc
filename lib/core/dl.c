/* Optional libraries loaded on first use (see dl.h). */
#include "core/dl.h"
#include "manushya.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* One lock for every table: a load happens once per library and process. */
static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;

static void load_locked(struct mni_dl *dl)
{
    /* RTLD_LOCAL: its symbols serve this table only, never another library's lookups. The
     * handle is kept for the life of the process, as a linked library would be. RTLD_LAZY, as
     * the dynamic linker binds a program's libraries: the functions of the libraries it brings
     * that are never called are never looked up (libpq brings twenty, Kerberos and LDAP among
     * them: binding them all, through the scope of every library this process has loaded
     * already, cost a one-shot process ~3 ms of CPU on its way to its first statement); what
     * this table calls is looked up by dlsym below anyway. */
    void *h = dlopen(dl->soname, RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        snprintf(dl->why, sizeof dl->why, "cannot load %s (%s): install it", dl->soname,
                 dlerror());
        __atomic_store_n(&dl->state, -1, __ATOMIC_RELEASE);
        return;
    }
    for (size_t i = 0; i < dl->n; i++)
        if (!dlsym(h, dl->names[i])) {
            snprintf(dl->why, sizeof dl->why, "%s lacks %s: a newer version is needed",
                     dl->soname, dl->names[i]);
            dlclose(h);
            __atomic_store_n(&dl->state, -1, __ATOMIC_RELEASE);
            return;
        }
    /* The functions are callable from here on (mni_dl_fn reads them without the lock): the
     * setup calls them; the other threads wait for it at the lock. */
    for (size_t i = 0; i < dl->n; i++)
        __atomic_store_n(&dl->fns[i], dlsym(h, dl->names[i]), __ATOMIC_RELEASE);
    int failed = dl->loaded && dl->loaded();
    if (failed)
        snprintf(dl->why, sizeof dl->why, "%s failed to initialise", dl->soname);
    __atomic_store_n(&dl->state, failed ? -1 : 1, __ATOMIC_RELEASE);
}

int mni_dl_load(struct mni_dl *dl)
{
    int state = __atomic_load_n(&dl->state, __ATOMIC_ACQUIRE);
    if (!state) {
        pthread_mutex_lock(&load_mu);
        if (!dl->state)
            load_locked(dl);
        pthread_mutex_unlock(&load_mu);
        state = __atomic_load_n(&dl->state, __ATOMIC_ACQUIRE);
    }
    return state > 0 ? MN_OK : MN_EUNSUPPORTED;
}

void *mni_dl_fn(struct mni_dl *dl, size_t i)
{
    void *f = __atomic_load_n(&dl->fns[i], __ATOMIC_ACQUIRE);
    if (!f) {
        mni_dl_load(dl);
        if (!(f = __atomic_load_n(&dl->fns[i], __ATOMIC_ACQUIRE))) {
            fprintf(stderr, "libmanushya: %s\n", dl->why);
            abort();
        }
    }
    return f;
}
