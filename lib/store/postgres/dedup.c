/* What a batch of adds repeats, in the PostgreSQL backend: the key holders and content twins
 * of all its inputs by one statement, not one per input. An add asks twice, before its write
 * and inside it (store/op_dedup.c), so a statement per input made a batch of 1000 cost 2000
 * round trips; on a loaded machine each waits for the server to be scheduled. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "core/json.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ANALYZE memories when a partition holding rows has no column statistics yet. Without them
 * the planner takes an owner's identity_id for as selective as a content hash, and the
 * lookups above walk every memory of the owner (memories_by_identity) instead of the content
 * index: a fresh database ingested 100 memories/s. Autovacuum analyzes in time, but late on a
 * busy server, and plans cached on a connection meanwhile stay bad. A user who may not
 * ANALYZE leaves it to autovacuum. */
#define ANALYZE_UNANALYZED \
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " \
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = 'memories'::regclass " \
    "AND pg_relation_size(c.oid) > 0 AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE " \
    "s.schemaname = n.nspname AND s.tablename = c.relname)) THEN ANALYZE memories; END IF; " \
    "EXCEPTION WHEN insufficient_privilege THEN NULL; END $$"

/* The wants as PGS_MEMORY_FIND_MANY's JSON array; NULL when out of memory. */
static char *wants_json(const struct mni_find *wants, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    int ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const struct mni_find *w = &wants[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(a, o) && cJSON_AddNumberToObject(o, "n", (double)i) &&
             cJSON_AddStringToObject(o, "i", w->identity_id) &&
             (!w->key || cJSON_AddStringToObject(o, "k", w->key)) &&
             (!w->type || (cJSON_AddStringToObject(o, "t", w->type) &&
                           cJSON_AddStringToObject(o, "h", w->hash)));
    }
    char *text = ok ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

int pgs_find_ids(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                 const struct mni_find *wants, size_t n, int64_t now, char **ids,
                 int64_t *keys, int64_t *seen_seq, const char *doing)
{
    struct pgs_store *s = (struct pgs_store *)st;
    (void)seen_seq; /* 0: writers run concurrently, a write cannot tell nothing came between */
    char *json = wants_json(wants, n);
    if (!json)
        return MN_ENOMEM;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, json);
    pgs_arg_int(&a, now);
    PGresult *res = NULL;
    int oom = 0;
    int rc = tx ? pgs_run(s, (struct pgs_conn *)tx, PGS_MEMORY_FIND_MANY, &a, &res, doing)
                : pgs_run_on(s, pgs_reads(s), PGS_MEMORY_FIND_MANY, &a, &res, doing);
    free(json);
    for (int r = 0; rc == MN_OK && r < PQntuples(res); r++) {
        int64_t i = pgs_int(res, r, 0);
        if (i < 0 || (size_t)i >= n || ids[i])
            rc = mni_seterr(st->db, MN_EBACKEND, "%s: the server answered for an input it "
                            "was not asked about", doing);
        else if (!(ids[i] = pgs_text(res, r, 1, &oom)))
            rc = MN_ENOMEM;
        else
            keys[i] = pgs_int(res, r, 2);
    }
    PQclear(res);
    return rc;
}

int pgs_analyze_once(struct pgs_store *s, struct pgs_conn *c)
{
    if (atomic_exchange(&s->analyzed, 1))
        return MN_OK;
    return pgs_exec_text(s, c, ANALYZE_UNANALYZED, "giving the memories table statistics");
}
