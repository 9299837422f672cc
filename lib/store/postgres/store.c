/* The PostgreSQL backend: opening, closing, and its ops table. */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pgs_close(struct mni_store *st)
{
    struct pgs_store *s = (struct pgs_store *)st;
    if (!s)
        return;
    pgs_pool_close(&s->primary);
    pgs_pool_close(&s->replica);
    pgs_options_free(&s->opt);
    for (int i = 0; i < PGS_ONCE_KEYS; i++)
        free(s->once[i]);
    free(s);
}

static const struct mni_store_ops *pgvector_ops(void);

static int pgs_open(mn_db *db, const char *target, const mn_config *cfg, int *dim,
                    struct mni_store **out)
{
    *out = NULL;
    int rc = pgs_libpq_load(db);
    if (rc != MN_OK)
        return rc;
    struct pgs_store *s = calloc(1, sizeof *s);
    if (!s)
        return mni_seterr(db, MN_ENOMEM, "out of memory opening the PostgreSQL store");
    s->base.ops = &mni_store_postgres;
    s->base.driver = &pgs_driver;
    s->base.db = db;
    s->base.flags = cfg->flags;
    rc = pgs_options_parse(db, target, &s->opt);
    if (!s->opt.ef_search)
        s->opt.ef_search = cfg->hnsw_ef_search;
    if (rc == MN_OK)
        rc = pgs_pool_init(s, &s->primary, s->opt.conninfo, "the PostgreSQL primary");
    if (rc == MN_OK && s->opt.read_conninfo) {
        rc = pgs_pool_init(s, &s->replica, s->opt.read_conninfo, "the PostgreSQL read replica");
        s->has_replica = rc == MN_OK;
    }
    if (rc == MN_OK)
        rc = pgs_schema_prepare(s, cfg->embedder, dim);
    if (rc == MN_OK && s->vector == PGS_VEC_PGVECTOR)
        s->base.ops = pgvector_ops();
    return mni_store_opened(&s->base, rc, out);
}

static int pgs_schema_version(struct mni_store *st, int *version)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int rc = pgs_get(s, &s->primary, &c);
    if (rc != MN_OK)
        return rc;
    rc = pgs_schema_version_on(s, c, version);
    pgs_put(s, &s->primary, c);
    return rc;
}

/* No file: the server's disk is its own. */
static const char *pgs_file_path(struct mni_store *st)
{
    (void)st;
    return NULL;
}

/* The index files of vector=local (index/vindex.c) go where every process on this machine
 * finds them: under index_dir= or, by default, $XDG_CACHE_HOME/manushya/index (else
 * ~/.cache/manushya/index), in a directory named by an id the database gets once, at random,
 * in its meta table: two databases, or two schemas of one, never share files (a copy of a
 * database restored elsewhere keeps its id: the files' token, checked against the copy's
 * meta, still tells them apart). Without a place (index_dir=none, no home), or a read-only
 * handle of a database that never had an id: none. */
static int pgs_index_dir(struct mni_store *st, char **dir)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *dir = NULL;
    const char *base = s->opt.index_dir, *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *sub = "/manushya/index";
    if (s->vector != PGS_VEC_LOCAL || (base && !*base))
        return MN_OK;
    if (!base && xdg && *xdg == '/')
        base = xdg;
    else if (!base && home && *home == '/')
        base = home, sub = "/.cache/manushya/index";
    else if (!base)
        return MN_OK;
    else
        sub = "";
    char *id = NULL;
    int rc = st->ops->meta_get(st, "index_id", &id);
    if (rc == MN_OK && !id && !(s->base.flags & MN_OPEN_READONLY)) {
        unsigned char raw[12];
        char hex[2 * sizeof raw + 1];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
        rc = st->ops->meta_add(st, "index_id", hex);
        if (rc == MN_OK)
            rc = st->ops->meta_get(st, "index_id", &id);
    }
    if (rc == MN_OK && id) {
        size_t n = strlen(base) + strlen(sub) + strlen(id) + 2;
        if ((*dir = malloc(n)))
            snprintf(*dir, n, "%s%s/%s", base, sub, id);
        else
            rc = mni_seterr(st->db, MN_ENOMEM, "out of memory naming the index directory");
    }
    free(id);
    return rc;
}

const struct mni_store_ops mni_store_postgres = {
    .scheme = "postgres",
    MNI_DRIVER_OPS,
    MNI_BACKEND_OPS(pgs),
};

/* A database with pgvector columns: the same ops, and the server searches. */
static struct mni_store_ops with_search;
static pthread_once_t with_search_once = PTHREAD_ONCE_INIT;

static void make_with_search(void)
{
    with_search = mni_store_postgres;
    with_search.memory_search = pgs_memory_search;
}

static const struct mni_store_ops *pgvector_ops(void)
{
    pthread_once(&with_search_once, make_with_search);
    return &with_search;
}
