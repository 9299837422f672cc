/* The SQLite backend: opening, closing, and its ops table. */
#include "store/sqlite/sqlite.h"
#include "core/metrics.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void sq_close(struct mni_store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    if (!s)
        return;
    sq_checkpoint_stop(s);
    for (int i = 0; i < s->nconns; i++)
        sq_conn_close(&s->conns[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    if (s->writer_ready)
        sq_writer_destroy(&s->writer);
    free(s->conns);
    free(s->idle);
    free(s->path);
    free(s);
}

static int sq_open(mn_db *db, const char *target, const mn_config *cfg, int *dim,
                   struct mni_store **out)
{
    *out = NULL;
    if (!target || !*target)
        return mni_seterr(db, MN_EINVAL, "the database URL names no file; give sqlite:PATH or a "
                         "path");
    struct stat sb;
    int exists = stat(target, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode))
        return mni_seterr(db, MN_EINVAL, "%s is a directory; give the path of a database file",
                         target);
    if (!exists && (cfg->flags & (MN_OPEN_NOCREATE | MN_OPEN_READONLY)))
        return mni_seterr(db, MN_ENOTFOUND, "%s does not exist (and the open was asked not to "
                         "create it)", target);

    struct sq_store *s = calloc(1, sizeof *s);
    if (!s)
        return mni_seterr(db, MN_ENOMEM, "out of memory opening %s", target);
    s->base.ops = &mni_store_sqlite;
    s->base.driver = &sq_driver;
    s->base.db = db;
    s->base.flags = cfg->flags;
    s->readonly = (cfg->flags & MN_OPEN_READONLY) != 0;
    s->busy_ms = cfg->busy_timeout_ms;
    /* Every connection to ":memory:" opens a database of its own: one connection, shared. */
    s->nconns = strcmp(target, ":memory:") == 0 ? 1 : cfg->pool_size;
    s->base.pool_kind = MNI_POOL_SQLITE;
    s->base.pool_max = s->nconns;
    s->path = strdup(target);
    s->conns = calloc((size_t)s->nconns, sizeof *s->conns);
    s->idle = calloc((size_t)s->nconns, sizeof *s->idle);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    s->writer_ready = sq_writer_init(&s->writer) == 0;
    if (!s->path || !s->conns || !s->idle || !s->writer_ready) {
        sq_close(&s->base);
        return mni_seterr(db, MN_ENOMEM, "out of memory opening %s", target);
    }
    for (int i = s->nconns - 1; i >= 0; i--)
        s->idle[s->nidle++] = i;
    sq_checkpoint_start(s);

    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc == MN_OK) {
        rc = sq_schema_prepare(s, c, cfg->embedder, dim);
        sq_conn_put(s, c);
    }
    return mni_store_opened(&s->base, rc, out);
}

static int sq_schema_version(struct mni_store *st, int *version)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    rc = sq_schema_version_on(s, c, version);
    sq_conn_put(s, c);
    return rc;
}

const struct mni_store_ops mni_store_sqlite = {
    .scheme = "sqlite",
    MNI_DRIVER_OPS,
    MNI_BACKEND_OPS(sq),
    .memory_keyword_merge = sq_memory_keyword_merge,
};
