/* Freeing what the library returns that is no struct of its own. Both accept NULL. */
#include "manushya.h"

#include <stdlib.h>

void mn_free(void *p)
{
    free(p);
}

void mn_strings_free(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}
