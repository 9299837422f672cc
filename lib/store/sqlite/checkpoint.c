/* WAL checkpoints in the background.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold: that writer
 * then copies the WAL into the database and waits for fsync while holding up its caller. Here
 * commits only note the WAL's size (the WAL hook) and a checkpointer thread with its own
 * connection copies the pages back (PASSIVE: it never blocks readers or writers), so ingest
 * overlaps with the copying and syncing. If writers outrun the thread and the WAL passes
 * SQ_WAL_HARD_PAGES, the committing writer checkpoints itself, as SQLite would, so the WAL
 * stays bounded. */
#include "store/sqlite/sqlite.h"
#include "core/metrics.h"

#define SQ_WAL_SOFT_PAGES 1000   /* wake the checkpointer (SQLite's default threshold) */
#define SQ_WAL_HARD_PAGES 16384  /* 256 MiB of our 16 KiB pages: the writer helps */

static void *checkpointer(void *arg)
{
    struct sq_store *s = arg;
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        while (!s->ckpt_pending && !s->ckpt_stop)
            pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
        if (s->ckpt_stop)
            break;
        s->ckpt_pending = 0;
        pthread_mutex_unlock(&s->ckpt_mu);
        if (s->ckpt_conn.db || sq_conn_open(s, &s->ckpt_conn) == MN_OK) {
            sqlite3_wal_checkpoint_v2(s->ckpt_conn.db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                      NULL);
            mni_metrics_inc(s->base.metrics, MNI_S_MAINTENANCE + MNI_MAINT_WAL_CHECKPOINT);
        }
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sq_store *s = arg;
    if (pages >= SQ_WAL_HARD_PAGES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        mni_metrics_inc(s->base.metrics, MNI_S_MAINTENANCE + MNI_MAINT_WAL_CHECKPOINT);
    } else if (pages >= SQ_WAL_SOFT_PAGES) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_pending = 1;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
    }
    return SQLITE_OK;
}

void sq_checkpoint_attach(struct sq_store *s, sqlite3 *db)
{
    if (s->ckpt_started)
        sqlite3_wal_hook(db, wal_hook, s);
}

int sq_checkpoint_start(struct sq_store *s)
{
    s->ckpt_started = !s->readonly && pthread_create(&s->ckpt_thread, NULL, checkpointer, s) == 0;
    /* Without the thread, connections keep SQLite's own automatic checkpoints. */
    return MN_OK;
}

void sq_checkpoint_stop(struct sq_store *s)
{
    if (s->ckpt_started) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_stop = 1;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
        pthread_join(s->ckpt_thread, NULL);
        s->ckpt_started = 0;
    }
    if (s->ckpt_conn.db)
        sq_conn_close(&s->ckpt_conn);
}
