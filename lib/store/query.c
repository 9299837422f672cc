/* Reads through the driver into the public structs: one collector for every backend, which
 * maps each row with the shared mappers (rows.h) into a list of pointers (list.h). */
#include "store/driver.h"
#include "store/list.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

struct collect {
    const struct mni_row_map *map;
    size_t size;
    void (*clear)(void *);
    size_t limit;              /* rows kept at most; 0 = all */
    void **items;
    size_t n, cap;
};

static int keep(void *ctx, const struct mni_row *row)
{
    struct collect *c = ctx;
    if (c->limit && c->n == c->limit)
        return 1;
    if (mni_grow((void **)&c->items, &c->cap, c->n, sizeof *c->items) != MN_OK)
        return -MN_ENOMEM;
    void *item = calloc(1, c->size);
    if (!item)
        return -MN_ENOMEM;
    struct mni_row r = *row;
    r.at += c->map->at;
    int kept = c->map->map(&r, item);
    if (kept <= 0) {
        mni_one_free(item, c->clear);
        return kept;
    }
    c->items[c->n++] = item;
    return 0;
}

static int collect(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                   struct collect *c, const char *doing)
{
    int rc = s->driver->read(s, NULL, id, a, keep, c, doing);
    if (rc == MN_ENOMEM)
        mni_seterr(s->db, rc, "%s: out of memory", doing);
    if (rc != MN_OK) {
        mni_items_free(c->items, c->n, c->clear);
        c->items = NULL;
        c->n = 0;
    }
    return rc;
}

int mni_query_list(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                   const struct mni_row_map *map, size_t size, void (*clear)(void *),
                   void ***items, size_t *count, const char *doing)
{
    struct collect c = { map, size, clear, 0, NULL, 0, 0 };
    int rc = collect(s, id, a, &c, doing);
    *items = c.items;
    *count = c.n;
    return rc;
}

int mni_query_one(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                  const struct mni_row_map *map, size_t size, void (*clear)(void *),
                  void **out, const char *doing)
{
    struct collect c = { map, size, clear, 1, NULL, 0, 0 };
    int rc = collect(s, id, a, &c, doing);
    *out = c.n ? c.items[0] : NULL;
    free(c.items);
    return rc == MN_OK && !c.n ? MN_ENOTFOUND : rc;
}
