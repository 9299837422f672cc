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

int mni_memories_page(mn_db *db, mn_memories *l, int more, int rc, mn_memories **out)
{
    if (rc == MN_OK && more && l->count) {
        l->next_cursor = strdup(l->items[l->count - 1]->id);
        if (!l->next_cursor)
            rc = mni_seterr(db, MN_ENOMEM, "out of memory listing memories");
    }
    if (rc != MN_OK) {
        mn_memories_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
