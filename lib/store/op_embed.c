/* The embedding cache, written once over the driver (driver.h): adding (one transaction for
 * all the vectors, keeping rows already there) and pruning what no memory uses. Reading it is
 * the backends' own (SQLite looks hashes up one by one, PostgreSQL all in one array). */
#include "store/driver.h"
#include "store/list.h"
#include "store/vault.h"
#include "core/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MNI_HASH_LEN 32

int mni_op_embed_cache_put(struct mni_store *s, const char *scope, const char *model, int dim,
                           const unsigned char *hashes, size_t n, const float *vecs,
                           int64_t now)
{
    size_t bytes = (size_t)dim * sizeof(float);
    struct mni_tx *tx;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        struct mni_args a = {0};
        mni_arg_text(&a, scope);
        mni_arg_text(&a, model);
        mni_arg_int(&a, dim);
        mni_arg_blob(&a, hashes + i * MNI_HASH_LEN, MNI_HASH_LEN);
        mni_arg_blob(&a, vecs + i * (size_t)dim, bytes);
        mni_arg_int(&a, now);
        rc = s->driver->exec(s, tx, MNI_EMBED_CACHE_PUT, &a, NULL, NULL,
                             "adding to the embedding cache");
    }
    return s->driver->end(s, tx, rc);
}

/* ---- pruning: the entries no memory uses ---- */

#define PAGE 1000

/* The content addresses of a tenant's memory texts, sorted. */
struct addresses {
    unsigned char *v;          /* n * MNI_HASH_LEN */
    size_t n, cap;
};

struct text_page {
    struct mni_store *s;
    const char *tenant_id;
    int64_t last_key;
    size_t rows;
    struct addresses *a;
    int rc;
};

static int add_text(void *ctx, const struct mni_row *r)
{
    struct text_page *p = ctx;
    p->last_key = r->ops->integer(r, r->at);
    p->rows++;
    char *id = r->ops->text(r, r->at + 1), *text = r->ops->text(r, r->at + 2);
    int rc = id && text ? MN_OK : MN_ENOMEM;
    if (rc == MN_OK && p->s->vault)
        rc = mni_vault_open_in_place(p->s, p->tenant_id, id, "text", &text);
    struct addresses *a = p->a;
    if (rc == MN_OK && a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        unsigned char *g = realloc(a->v, cap * MNI_HASH_LEN);
        if (g) {
            a->v = g;
            a->cap = cap;
        } else {
            rc = MN_ENOMEM;
        }
    }
    if (rc == MN_OK) {
        const char *t = text;
        size_t len = strlen(text);
        rc = mni_vault_text_hashes(p->s, p->tenant_id, &t, &len, 1, a->v + a->n * MNI_HASH_LEN);
        a->n += rc == MN_OK;
    }
    free(id);
    free(text);
    p->rc = rc;
    return rc == MN_OK ? 0 : -rc;
}

static int cmp_address(const void *x, const void *y)
{
    return memcmp(x, y, MNI_HASH_LEN);
}

static int tenant_addresses(struct mni_store *s, const char *tenant_id, struct addresses *a)
{
    struct text_page p = { s, tenant_id, INT64_MIN, 0, a, MN_OK };
    int rc;
    do {
        struct mni_args args = {0};
        mni_arg_text(&args, tenant_id);
        mni_arg_int(&args, p.last_key);
        mni_arg_int(&args, PAGE);
        p.rows = 0;
        rc = s->driver->read(s, NULL, MNI_MEMORY_TEXTS, &args, add_text, &p,
                             "reading memory texts");
        if (p.rc != MN_OK)
            rc = p.rc;
    } while (rc == MN_OK && p.rows == PAGE);
    if (rc == MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory pruning the embedding cache");
    if (rc == MN_OK && a->n)
        qsort(a->v, a->n, MNI_HASH_LEN, cmp_address);
    return rc;
}

/* An entry made before the cut, as read. */
struct old_entry {
    char *model;
    int64_t dim;
    unsigned char hash[MNI_HASH_LEN];
};
struct old_entries {
    struct old_entry *v;
    size_t n, cap;
};

static int add_old(void *ctx, const struct mni_row *r)
{
    struct old_entries *l = ctx;
    if (mni_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v) != MN_OK)
        return -MN_ENOMEM;
    struct old_entry *e = &l->v[l->n];
    char *hex = r->ops->text(r, r->at + 2);
    size_t got = 0;
    int ok = hex && sodium_hex2bin(e->hash, MNI_HASH_LEN, hex, strlen(hex), NULL, &got,
                                   NULL) == 0 && got == MNI_HASH_LEN;
    free(hex);
    if (!ok)
        return 0; /* not an address of ours: left alone */
    e->model = r->ops->text(r, r->at);
    e->dim = r->ops->integer(r, r->at + 1);
    if (!e->model)
        return -MN_ENOMEM;
    l->n++;
    return 0;
}

/* Deletes the scope's entries made before `before` whose address is not in keep (NULL:
 * every one), in one write. */
static int prune_scope(struct mni_store *s, const char *scope, int64_t before,
                       const struct addresses *keep, size_t *removed)
{
    struct old_entries l = {0};
    struct mni_args a = {0};
    mni_arg_text(&a, scope);
    mni_arg_int(&a, before);
    int rc = s->driver->read(s, NULL, MNI_EMBED_CACHE_OLD, &a, add_old, &l,
                             "reading the embedding cache");
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory pruning the embedding cache");
    struct mni_tx *tx = NULL;
    if (rc == MN_OK && l.n)
        rc = s->driver->begin(s, 0, NULL, &tx);
    for (size_t i = 0; tx && rc == MN_OK && i < l.n; i++) {
        if (keep && keep->n && bsearch(l.v[i].hash, keep->v, keep->n, MNI_HASH_LEN, cmp_address))
            continue;
        struct mni_args d = {0};
        mni_arg_text(&d, scope);
        mni_arg_text(&d, l.v[i].model);
        mni_arg_int(&d, l.v[i].dim);
        mni_arg_blob(&d, l.v[i].hash, MNI_HASH_LEN);
        int64_t changed = 0;
        rc = s->driver->exec(s, tx, MNI_EMBED_CACHE_DELETE, &d, &changed, NULL,
                             "pruning the embedding cache");
        *removed += (size_t)changed;
    }
    if (tx)
        rc = s->driver->end(s, tx, rc);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].model);
    free(l.v);
    return rc;
}

int mni_op_embed_cache_prune(struct mni_store *s, int64_t before, size_t *removed)
{
    *removed = 0;
    mn_tenants *t = NULL;
    int rc = s->ops->tenant_list(s, &t);
    for (size_t i = 0; rc == MN_OK && i < t->count; i++) {
        struct addresses keep = {0};
        rc = tenant_addresses(s, t->items[i]->id, &keep);
        if (rc == MN_OK)
            rc = prune_scope(s, t->items[i]->id, before, &keep, removed);
        free(keep.v);
    }
    mn_tenants_free(t);
    /* Calls made for no tenant (mn_embed): no memory has their texts. */
    return rc == MN_OK ? prune_scope(s, "", before, NULL, removed) : rc;
}
