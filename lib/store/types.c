/* The freeing loops every public result type shares (store/types.h). */
#include "store/types.h"

#include <stdlib.h>

void mni_items_free(void **items, size_t n, void (*clear)(void *))
{
    for (size_t i = 0; items && i < n; i++)
        mni_one_free(items[i], clear);
    free(items);
}

void mni_array_free(void *items, size_t n, size_t size, void (*clear)(void *))
{
    for (size_t i = 0; items && clear && i < n; i++)
        clear((char *)items + i * size);
    free(items);
}

void mni_one_free(void *item, void (*clear)(void *))
{
    if (item && clear)
        clear(item);
    free(item);
}
