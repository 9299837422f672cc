/* Arrays of structs into lists of pointers: see list.h. */
#include "store/list.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int mni_list_point(mn_db *db, void **items, size_t *count, size_t size, void (*clear)(void *),
                   const char *doing)
{
    char *arr = *items;
    size_t n = *count;
    void **ptrs = n ? calloc(n, sizeof *ptrs) : NULL;
    size_t done = 0;
    while (ptrs && done < n && (ptrs[done] = malloc(size)) != NULL) {
        memcpy(ptrs[done], arr + done * size, size);
        done++;
    }
    if (done == n) {
        free(arr);
        *items = ptrs;
        return MN_OK;
    }
    /* Out of memory: the structs are all still in arr (the copies own nothing of their own). */
    for (size_t i = 0; i < done; i++)
        free(ptrs[i]);
    free(ptrs);
    for (size_t i = 0; clear && i < n; i++)
        clear(arr + i * size);
    free(arr);
    *items = NULL;
    *count = 0;
    return mni_seterr(db, MN_ENOMEM, "%s: out of memory", doing);
}
