/*
 * Re-keying a tenant of an encrypted database (vault.h): a new data key seals every value of
 * its memories and their history again, in batches, each its own write, so that the store
 * stays open to everyone meanwhile; then the old keys are destroyed.
 *
 * Where it stands is kept in meta ("rekey:" tenant id = "VERSION PHASE CURSOR"), written by
 * each batch's own write: after a kill, the next call goes on from the last batch committed.
 * A batch re-seals a row only when nothing changed it since it was read (the update is
 * conditional on the values read); a writer meanwhile seals with the new key already.
 */
#include "store/driver.h"
#include "store/vault.h"
#include "store/keywords.h"
#include "core/error.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { MEMORIES, HISTORY, FINISH };

struct state {
    uint32_t version;          /* the new key's */
    int phase;
    int64_t cursor;            /* the last row key done in this phase */
};

static void state_key(char *buf, size_t size, const char *tenant_id)
{
    snprintf(buf, size, "rekey:%s", tenant_id);
}

static int state_get(struct mni_store *s, const char *tenant_id, struct state *st, int *found)
{
    char key[256], *v = NULL;
    state_key(key, sizeof key, tenant_id);
    int rc = s->ops->meta_get(s, key, &v);
    *found = 0;
    if (rc == MN_OK && v) {
        int64_t version;
        *found = sscanf(v, "%" SCNd64 " %d %" SCNd64, &version, &st->phase, &st->cursor) == 3 &&
                 version > 0 && version <= UINT32_MAX && st->phase >= MEMORIES &&
                 st->phase <= FINISH;
        st->version = (uint32_t)version;
        if (!*found)
            rc = mni_seterr(s->db, MN_ECORRUPT, "the re-key state of tenant %s reads \"%s\": "
                            "the database is damaged", tenant_id, v);
    }
    free(v);
    return rc;
}

/* In tx, or alone (NULL), or removed (st NULL). */
static int state_put(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                     const struct state *st)
{
    char key[256], v[64];
    state_key(key, sizeof key, tenant_id);
    struct mni_args a = {0};
    mni_arg_text(&a, key);
    if (st) {
        snprintf(v, sizeof v, "%" PRIu32 " %d %" PRId64, st->version, st->phase, st->cursor);
        mni_arg_text(&a, v);
    }
    return s->driver->exec(s, tx, st ? MNI_META_PUT : MNI_META_DELETE, &a, NULL, NULL,
                           "recording where a re-key stands");
}

/* One row read for re-sealing: its store key and the values (2: text and metadata of a
 * memory; before and after of a history entry), with the record they are bound to. */
struct row {
    int64_t key;
    char record[256];
    char *v[2];
};

struct rows {
    const enum mni_stmt stmt;
    struct row *r;
    size_t n;
    size_t cap;
};

static int read_row(void *ctx, const struct mni_row *r)
{
    struct rows *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct row *g = realloc(l->r, cap * sizeof *g);
        if (!g)
            return -MN_ENOMEM;
        l->r = g;
        l->cap = cap;
    }
    struct row *w = &l->r[l->n++];
    memset(w, 0, sizeof *w);
    w->key = r->ops->integer(r, r->at);
    char *id = r->ops->text(r, r->at + 1);
    int col = 2;
    if (id && l->stmt == MNI_REKEY_HISTORY)
        snprintf(w->record, sizeof w->record, "%s@%" PRId64, id,
                 r->ops->integer(r, r->at + col++));
    else if (id)
        snprintf(w->record, sizeof w->record, "%s", id);
    free(id);
    w->v[0] = r->ops->text(r, r->at + col);
    w->v[1] = r->ops->text(r, r->at + col + 1);
    return id && w->v[0] && w->v[1] ? 0 : -MN_ENOMEM;
}

static void rows_free(struct rows *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->r[i].v[0]);
        free(l->r[i].v[1]);
    }
    free(l->r);
}

/* value sealed again under k, or NULL in *out when it is sealed by k's version already; words
 * (NULL: not wanted) receives the blind words of the value under k (store/keywords.h), which
 * the keyword index must hold from then on. */
static int reseal(struct mni_store *s, const struct mni_data_key *k, const char *tenant_id,
                  const char *record, const char *column, const char *value, char **out,
                  char **words)
{
    uint32_t version;
    *out = NULL;
    if (mni_sealed_version(value, &version) && version == k->version)
        return MN_OK;
    char *plain = NULL;
    int rc = mni_vault_open(s, tenant_id, record, column, value, &plain);
    if (rc == MN_OK)
        rc = mni_vault_seal(s, k, tenant_id, record, column, plain, out);
    if (rc == MN_OK && words)
        rc = mni_keywords_blind(s, k, plain, words);
    if (plain)
        sodium_memzero(plain, strlen(plain));
    free(plain);
    return rc;
}

/* The content hash of a memory's stored text under k (store/vault.h): a re-sealed memory
 * is found by it again. */
static int rehash(struct mni_store *s, const struct mni_data_key *k, const char *tenant_id,
                  const char *record, const char *stored,
                  char out[MNI_CONTENT_HASH_HEX + 1])
{
    char *plain = NULL;
    int rc = mni_vault_open(s, tenant_id, record, "text", stored, &plain);
    if (rc == MN_OK && mni_vault_content_hash_with(k, plain, out) != MN_OK)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory re-sealing values");
    if (plain)
        sodium_memzero(plain, strlen(plain));
    free(plain);
    return rc;
}

/* Re-seals in tx the rows of one phase after *cursor, limit at most (0: all); *cursor
 * advances to the last read, *read counts them. */
static int reseal_rows(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                       const struct mni_data_key *k, int phase, int64_t *cursor, size_t limit,
                       size_t *read)
{
    static const char *const columns[2][2] = { { "text", "metadata" }, { "before", "after" } };
    struct rows l = { phase == MEMORIES ? MNI_REKEY_MEMORIES : MNI_REKEY_HISTORY, NULL, 0, 0 };
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, *cursor);
    mni_arg_int(&a, limit ? (int64_t)limit : INT64_MAX);
    int rc = s->driver->read(s, tx, l.stmt, &a, read_row, &l, "reading values to re-seal");
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory re-sealing values");
    for (size_t i = 0; rc == MN_OK && i < l.n; i++) {
        struct row *w = &l.r[i];
        char *again[2] = { NULL, NULL }, *words = NULL;
        for (int c = 0; rc == MN_OK && c < 2; c++)
            rc = reseal(s, k, tenant_id, w->record, columns[phase][c], w->v[c], &again[c],
                        phase == MEMORIES && c == 0 ? &words : NULL);
        char hash[MNI_CONTENT_HASH_HEX + 1];
        if (rc == MN_OK && (again[0] || again[1]) && phase == MEMORIES)
            rc = rehash(s, k, tenant_id, w->record, w->v[0], hash);
        if (rc == MN_OK && (again[0] || again[1])) {
            struct mni_args u = {0};
            mni_arg_text(&u, tenant_id);
            mni_arg_int(&u, w->key);
            mni_arg_text(&u, again[0] ? again[0] : w->v[0]);
            mni_arg_text(&u, again[1] ? again[1] : w->v[1]);
            if (phase == MEMORIES) {
                mni_arg_text(&u, w->v[0]);
                mni_arg_text(&u, w->v[1]);
                mni_arg_text(&u, hash);
                mni_arg_text(&u, words);
            }
            rc = s->driver->exec(s, tx, phase == MEMORIES ? MNI_REKEY_MEMORY_SET
                                                          : MNI_REKEY_HISTORY_SET,
                                 &u, NULL, NULL, "re-sealing values");
        }
        free(again[0]);
        free(again[1]);
        free(words);
        *cursor = w->key;
    }
    *read = l.n;
    rows_free(&l);
    return rc;
}

/* A tenant's webhook secrets, as stored: id and secret of each, in turn. */
struct secrets {
    char **v;
    size_t n, cap;
};

static int read_secret(void *ctx, const struct mni_row *r)
{
    struct secrets *l = ctx;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -MN_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = r->ops->text(r, 0);
    l->v[l->n++] = r->ops->text(r, 1);
    return l->v[l->n - 2] && l->v[l->n - 1] ? 0 : -MN_ENOMEM;
}

/* Seals the tenant's webhook secrets (store/op_webhook.c) again under k, in tx. */
static int reseal_webhooks(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                           const struct mni_data_key *k)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    struct secrets l = {0};
    int rc = s->driver->read(s, tx, MNI_REKEY_WEBHOOKS, &a, read_secret, &l,
                             "reading webhook secrets to re-seal");
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory re-sealing values");
    for (size_t i = 0; rc == MN_OK && i < l.n; i += 2) {
        char *again = NULL;
        rc = reseal(s, k, tenant_id, l.v[i], MNI_WEBHOOK_SECRET_COLUMN, l.v[i + 1], &again,
                    NULL);
        struct mni_args u = {0};
        mni_arg_text(&u, tenant_id);
        mni_arg_text(&u, l.v[i]);
        mni_arg_text(&u, again);
        if (rc == MN_OK && again)
            rc = s->driver->exec(s, tx, MNI_REKEY_WEBHOOK_SET, &u, NULL, NULL,
                                 "re-sealing webhook secrets");
        free(again);
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i])
            sodium_memzero(l.v[i], strlen(l.v[i]));
        free(l.v[i]);
    }
    free(l.v);
    return rc;
}

/* The last write: the old keys go first (PostgreSQL: after the writers that still seal with
 * them, whose key reads hold them, have committed), then whatever those writers sealed with
 * them is sealed again, and the embedding cache addressed through the old key goes. */
static int finish(struct mni_store *s, const char *tenant_id, const struct mni_data_key *k,
                  const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t last;
    /* A change number: new content hashes can make an add's lookup find what it did not
     * (mni_op_memory_claims). */
    int rc = s->driver->begin(s, 1, &last, &tx);
    if (rc != MN_OK)
        return rc;
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, k->version);
    rc = s->driver->exec(s, tx, MNI_DATAKEY_DROP_BELOW, &a, NULL, NULL,
                         "destroying the old data keys");
    for (int phase = MEMORIES; rc == MN_OK && phase <= HISTORY; phase++) {
        int64_t cursor = INT64_MIN;
        size_t read;
        rc = reseal_rows(s, tx, tenant_id, k, phase, &cursor, 0, &read);
    }
    if (rc == MN_OK)
        rc = reseal_webhooks(s, tx, tenant_id, k);
    struct mni_args t = {0};
    mni_arg_text(&t, tenant_id);
    if (rc == MN_OK)
        rc = s->driver->exec(s, tx, MNI_TENANT_DELETE_EMBED_CACHE, &t, NULL, NULL,
                             "emptying the tenant's embedding cache");
    if (rc == MN_OK)
        rc = state_put(s, tx, tenant_id, NULL);
    rc = mni_audit_end(s, tx, au, rc);
    if (rc == MN_OK)
        mni_vault_forget(s, tenant_id, k->version);
    return rc;
}

int mni_op_rekey_step(struct mni_store *s, const char *tenant_id, size_t batch,
                      const struct mni_audit *au, int *done)
{
    *done = 0;
    struct state st;
    int found;
    int rc = state_get(s, tenant_id, &st, &found);
    struct mni_data_key k;
    if (rc == MN_OK && !found) {
        /* A new key, which every writer uses from now on; the rows follow batch by batch. */
        rc = mni_vault_key(s, NULL, tenant_id, 0, &k);
        uint32_t next = rc == MN_OK ? k.version + 1 : 1;
        if (rc == MN_ENOTFOUND)
            rc = MN_OK; /* nothing sealed yet: its first key is the new one */
        st = (struct state){ next, MEMORIES, INT64_MIN };
        if (rc == MN_OK)
            rc = mni_vault_add_key(s, tenant_id, next);
        if (rc == MN_OK)
            rc = state_put(s, NULL, tenant_id, &st);
    }
    if (rc == MN_OK)
        rc = mni_vault_key(s, NULL, tenant_id, st.version, &k);
    if (rc == MN_ENOTFOUND)
        rc = mni_seterr(s->db, MN_ECORRUPT, "tenant %s is being re-keyed to data key %" PRIu32
                        ", which the database does not have: it is damaged", tenant_id,
                        st.version);
    if (rc == MN_OK && st.phase == FINISH) {
        rc = finish(s, tenant_id, &k, au);
        *done = rc == MN_OK;
    } else if (rc == MN_OK) {
        struct mni_tx *tx;
        size_t read = 0;
        int64_t last;
        rc = s->driver->begin(s, 1, &last, &tx); /* a change number: as in finish */
        if (rc == MN_OK) {
            rc = reseal_rows(s, tx, tenant_id, &k, st.phase, &st.cursor, batch, &read);
            if (rc == MN_OK && read < batch)
                st = (struct state){ st.version, st.phase + 1, INT64_MIN };
            if (rc == MN_OK)
                rc = state_put(s, tx, tenant_id, &st);
            rc = s->driver->end(s, tx, rc);
        }
    }
    sodium_memzero(&k, sizeof k);
    return rc;
}
