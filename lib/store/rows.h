/*
 * Result rows to public structs, written once for every backend: a backend hands a row over
 * as a struct mni_row (its column getters and the row), and the mapper of each type reads the
 * columns in the order the backends' statements select them (their sql.c).
 */
#ifndef MNI_STORE_ROWS_H
#define MNI_STORE_ROWS_H

#include "manushya.h"

#include <stdint.h>

struct mni_row;
struct mni_row_ops {
    int (*is_null)(const struct mni_row *r, int col);
    /* A malloc'd, NUL-terminated copy of a non-NULL column; NULL when out of memory. */
    char *(*text)(const struct mni_row *r, int col);
    int64_t (*integer)(const struct mni_row *r, int col);
    double (*real)(const struct mni_row *r, int col);
};

struct mni_row {
    const struct mni_row_ops *ops;
    const void *res;           /* the backend's result (a statement, a result set) */
    int row;                   /* its row, for a backend whose result holds several */
    int at;                    /* the column where the mapped columns start (a join) */
};

/* A memory's columns but its embedding (column 14, which the backend stores its own way):
 * MN_OK or MN_ENOMEM. */
int mni_row_memory(const struct mni_row *r, mn_memory *m);

/* An actor's tenant (actor_get): the tenant (columns 0..2) and its policy generation (3). On
 * failure (MN_ENOMEM, its message set on db) *t is NULL. */
int mni_row_actor(mn_db *db, const struct mni_row *r, mn_tenant **t, int64_t *policy_gen);

/* A mapper and where its columns start: what a backend's generic row reader is given. */
struct mni_row_map {
    int (*map)(const struct mni_row *r, void *item);
    int at;
};
extern const struct mni_row_map mni_map_tenant, mni_map_identity, mni_map_history,
    mni_map_policy, mni_map_limit, mni_map_job, mni_map_apikey, mni_map_apikey_row,
    mni_map_audit;

#endif
