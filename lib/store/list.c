/* Arrays of structs into lists of pointers, growing and ending a read into one, and the end of
 * a page of memories: see list.h. */
#include "store/list.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/types.h"

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

int mni_grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return MN_OK;
    size_t more = *cap ? *cap * 2 : 16;
    void *grown = realloc(*arr, more * size);
    if (!grown)
        return MN_ENOMEM;
    *arr = grown;
    *cap = more;
    return MN_OK;
}

int mni_array_done(mn_db *db, int rc, void *arr, size_t n, size_t size, void (*clear)(void *),
                   void **items, size_t *count, const char *doing)
{
    if (rc == MN_ENOMEM)
        mni_seterr(db, rc, "%s: out of memory", doing);
    if (rc != MN_OK) {
        mni_array_free(arr, n, size, clear);
        return rc;
    }
    *items = arr;
    *count = n;
    return MN_OK;
}

int mni_memories_page(mn_db *db, void **items, size_t count, int more, int rc,
                      mn_memories **out)
{
    mn_memories *l = rc == MN_OK ? calloc(1, sizeof *l) : NULL;
    if (rc == MN_OK && !l)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory listing memories");
    if (!l) {
        mni_items_free(items, count, mni_memory_clear);
        *out = NULL;
        return rc;
    }
    l->items = (mn_memory **)items;
    l->count = count;
    if (more && count) {
        l->next_cursor = strdup(l->items[count - 1]->id);
        if (!l->next_cursor) {
            mn_memories_free(l);
            l = NULL;
            rc = mni_seterr(db, MN_ENOMEM, "out of memory listing memories");
        }
    }
    *out = l;
    return rc;
}
