/* The audit chain, written once over the driver (driver.h, store/audit.h). Each entry's hash
 * is BLAKE2b over a canonical encoding of its fields and the previous entry's hash. The
 * chain's head (last seq and hash) is read in the appending write, which keeps two appenders,
 * in any process, from taking the same seq: PostgreSQL locks the tenant's head row and
 * advances it; SQLite's one write lock already serialises writers, and the head is the last
 * entry itself (driver.h, audit_head_row). Retention removes a chain's oldest entries and keeps
 * the last one removed (seq and hash) as its checkpoint, where verifying starts. */
#include "store/audit.h"
#include "store/driver.h"
#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BYTES 32
#define HASH_HEX (2 * HASH_BYTES + 1)

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    crypto_generichash_update(h, b, sizeof b);
}

/* A text as its length then its bytes; NULL as a length no text has, so that NULL and ""
 * never hash alike. */
static void put_text(crypto_generichash_state *h, const char *t)
{
    size_t n = t ? strlen(t) : 0;
    put_u64(h, t ? (uint64_t)n : UINT64_MAX);
    crypto_generichash_update(h, (const unsigned char *)t, n);
}

/* The entry's hash (hex) over a versioned encoding of every field but the hash itself. */
static void entry_hash(const struct mni_audit *au, int64_t seq, const char *prev_hash,
                       char hex[HASH_HEX])
{
    static const char domain[] = "manushya audit entry v1";
    unsigned char out[HASH_BYTES];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    put_text(&h, domain);
    put_text(&h, au->tenant_id);
    put_u64(&h, (uint64_t)seq);
    put_u64(&h, (uint64_t)au->at);
    put_text(&h, au->identity_id);
    put_text(&h, au->apikey_id);
    put_text(&h, au->action);
    put_text(&h, au->resources);
    put_text(&h, au->outcome);
    put_text(&h, au->policy_id);
    put_text(&h, au->context);
    put_text(&h, prev_hash);
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, HASH_HEX, out, sizeof out);
}

/* A point of a chain: an entry's seq and hash (its head, or retention's checkpoint). */
struct link {
    int found;
    int64_t seq;
    char hash[HASH_HEX];
};

static int read_link(void *ctx, const struct mni_row *r)
{
    struct link *l = ctx;
    char *hash = r->ops->text(r, 1);
    if (!hash)
        return -MN_ENOMEM;
    l->found = 1;
    l->seq = r->ops->integer(r, 0);
    snprintf(l->hash, sizeof l->hash, "%s", hash);
    free(hash);
    return 1;
}

/* Reads the link statement id returns for the tenant (in tx, or NULL: a read of its own). */
static int get_link(struct mni_store *s, struct mni_tx *tx, enum mni_stmt id,
                    const char *tenant_id, struct link *l, const char *doing)
{
    struct mni_args t = {0};
    mni_arg_text(&t, tenant_id);
    memset(l, 0, sizeof *l);
    return s->driver->read(s, tx, id, &t, read_link, l, doing);
}

static int out_of_memory(struct mni_store *s, int rc, const char *doing)
{
    return rc == MN_ENOMEM ? mni_seterr(s->db, rc, "%s: out of memory", doing) : rc;
}

int mni_audit_append(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au)
{
    if (!au)
        return MN_OK;
    const char *doing = "recording the change in the audit log";
    struct link h;
    int rc = get_link(s, tx, MNI_AUDIT_HEAD, au->tenant_id, &h, doing);
    /* No last entry: the chain starts here, or goes on from where retention cut it. A head
     * row is made by the read, so it is there. */
    if (rc == MN_OK && !h.found && s->driver->audit_head_row)
        rc = mni_seterr(s->db, MN_EBACKEND, "%s: the chain's head was not returned", doing);
    else if (rc == MN_OK && !h.found)
        rc = get_link(s, tx, MNI_AUDIT_CHECKPOINT_GET, au->tenant_id, &h, doing);
    rc = out_of_memory(s, rc, doing);
    if (rc != MN_OK)
        return rc;
    char hash[HASH_HEX];
    int64_t seq = h.seq + 1;
    entry_hash(au, seq, h.hash, hash);
    struct mni_args a = {0};
    mni_arg_text(&a, au->tenant_id);
    mni_arg_int(&a, seq);
    mni_arg_int(&a, au->at);
    mni_arg_text(&a, au->identity_id);
    mni_arg_text(&a, au->apikey_id);
    mni_arg_text(&a, au->action);
    mni_arg_text(&a, au->resources);
    mni_arg_text(&a, au->outcome);
    mni_arg_text(&a, au->policy_id);
    mni_arg_text(&a, au->context);
    mni_arg_text(&a, h.hash);
    mni_arg_text(&a, hash);
    rc = s->driver->exec(s, tx, MNI_AUDIT_INSERT, &a, NULL, NULL, doing);
    /* The change's webhook event, if it raises one, commits (or not) with it. */
    if (rc == MN_OK)
        rc = mni_webhook_outbox(s, tx, au);
    if (rc != MN_OK || !s->driver->audit_head_row)
        return rc;
    struct mni_args t = {0};
    mni_arg_text(&t, au->tenant_id);
    mni_arg_int(&t, seq);
    mni_arg_text(&t, hash);
    return s->driver->exec(s, tx, MNI_AUDIT_HEAD_SET, &t, NULL, NULL, doing);
}

int mni_audit_end(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au, int rc)
{
    if (rc == MN_OK)
        rc = mni_audit_append(s, tx, au);
    return s->driver->end(s, tx, rc);
}

int mni_op_audit_record(struct mni_store *s, const struct mni_audit *au)
{
    struct mni_tx *tx;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    return rc == MN_OK ? mni_audit_end(s, tx, au, MN_OK) : rc;
}

int mni_op_audited_exec(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                        int64_t *changed, const char *taken, const char *doing,
                        const struct mni_audit *au)
{
    struct mni_tx *tx;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    rc = s->driver->exec(s, tx, id, a, changed, taken, doing);
    /* A statement that changed no row changed nothing: there is nothing to record. */
    if (rc == MN_OK && !(changed && *changed == 0))
        rc = mni_audit_append(s, tx, au);
    return s->driver->end(s, tx, rc);
}

/* Walking a chain: the entry expected next and the hash it must follow. */
struct walk {
    mn_db *db;
    const char *tenant_id;
    int64_t upto, expect;
    char prev[HASH_HEX];
};

static int fail_at(struct walk *w, int64_t seq, const char *what)
{
    mni_seterr(w->db, MN_ECORRUPT, "the audit log of tenant %s is not intact: entry %lld %s",
               w->tenant_id, (long long)seq, what);
    return MN_ECORRUPT;
}

static int check_entry(void *ctx, const struct mni_row *r)
{
    struct walk *w = ctx;
    int64_t seq = r->ops->integer(r, 0);
    if (seq > w->upto)
        return 1;              /* appended after the head was read: not this walk's */
    if (seq != w->expect)
        return -fail_at(w, w->expect, "was deleted, or moved out of its place");
    char *col[11] = {0};
    int rc = MN_OK;
    for (int i = 2; i < 11; i++)
        if (!r->ops->is_null(r, i) && !(col[i] = r->ops->text(r, i)))
            rc = MN_ENOMEM;
    const struct mni_audit au = { w->tenant_id, r->ops->integer(r, 1), col[2], col[3], col[4],
                                  col[5], col[6], col[7], col[8] };
    char hash[HASH_HEX];
    if (rc == MN_OK) {
        entry_hash(&au, seq, col[9], hash);
        if (!col[9] || !col[10])
            rc = fail_at(w, seq, "has no hash");
        else if (strcmp(col[9], w->prev) != 0)
            rc = fail_at(w, seq, "does not follow the entry before it (reordered, or one "
                         "before it was deleted)");
        else if (strcmp(hash, col[10]) != 0)
            rc = fail_at(w, seq, "was edited (its hash does not match its fields)");
    }
    if (rc == MN_OK) {
        memcpy(w->prev, hash, sizeof w->prev);
        w->expect++;
    }
    for (int i = 0; i < 11; i++)
        free(col[i]);
    return -rc;
}

/* One walk from the checkpoint cp (not found: from the first entry) to the head h. */
static int walk_chain(struct mni_store *s, const char *tenant_id, const struct link *cp,
                      const struct link *h, int64_t *checked, const char *doing)
{
    struct walk w = { s->db, tenant_id, h->seq, cp->seq + 1, "" };
    if (cp->found)
        memcpy(w.prev, cp->hash, sizeof w.prev);
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    for (int i = 0; i < 4; i++)
        mni_arg_text(&a, NULL);
    mni_arg_int(&a, INT64_MIN);
    mni_arg_int(&a, INT64_MAX);
    mni_arg_int(&a, cp->seq);
    mni_arg_int(&a, 0);
    int rc = s->driver->read(s, NULL, MNI_AUDIT_LIST, &a, check_entry, &w, doing);
    *checked = w.expect - (cp->seq + 1);   /* the entries found intact */
    if (rc != MN_OK)
        return out_of_memory(s, rc, doing);
    /* A head row names the last entry: a chain cut short at its end is caught here (where the
     * head is the last entry itself, SQLite, only by comparing the count with one kept
     * elsewhere). */
    if (w.expect <= h->seq)
        return fail_at(&w, w.expect, "was deleted, or moved out of its place");
    if (h->seq > cp->seq && strcmp(w.prev, h->hash) != 0)
        return fail_at(&w, h->seq, "is not the entry the chain's head names");
    return MN_OK;
}

int mni_op_audit_verify(struct mni_store *s, const char *tenant_id, int64_t *checked)
{
    const char *doing = "verifying the audit log";
    *checked = 0;
    /* The checkpoint, then the head, then the entries, each read on its own: a prune between
     * them moves the checkpoint, and the walk that failed for it is made again. */
    for (int tries = 0;; tries++) {
        struct link cp, h, cp_after;
        int rc = get_link(s, NULL, MNI_AUDIT_CHECKPOINT_GET, tenant_id, &cp, doing);
        if (rc == MN_OK)
            rc = get_link(s, NULL, MNI_AUDIT_HEAD_GET, tenant_id, &h, doing);
        if (rc != MN_OK)
            return out_of_memory(s, rc, doing);
        if (!h.found)
            return MN_OK;      /* empty, or every entry pruned (SQLite) */
        mni_errmark walked = mni_err_mark();
        rc = walk_chain(s, tenant_id, &cp, &h, checked, doing);
        if (rc != MN_ECORRUPT || tries == 2)
            return rc;
        mni_errmark reread = mni_err_mark();
        if (get_link(s, NULL, MNI_AUDIT_CHECKPOINT_GET, tenant_id, &cp_after, doing) != MN_OK) {
            mni_err_forget(reread);
            return rc;
        }
        if (cp_after.seq == cp.seq)
            return rc;
        mni_err_forget(walked);
    }
}

/* Removes the oldest run of entries made before `before`; the last one removed becomes the
 * checkpoint, in the write that removes them. */
int mni_op_audit_prune(struct mni_store *s, const char *tenant_id, int64_t before,
                       int64_t *removed, const struct mni_audit *au)
{
    const char *doing = "pruning the audit log";
    struct mni_tx *tx;
    *removed = 0;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    struct link end = {0};
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, before);
    rc = s->driver->read(s, tx, MNI_AUDIT_PRUNE_END, &a, read_link, &end, doing);
    struct mni_args e = {0};
    mni_arg_text(&e, tenant_id);
    mni_arg_int(&e, end.seq);
    if (rc == MN_OK && end.found)
        rc = s->driver->exec(s, tx, MNI_AUDIT_PRUNE, &e, removed, NULL, doing);
    mni_arg_text(&e, end.hash);
    if (rc == MN_OK && end.found)
        rc = s->driver->exec(s, tx, MNI_AUDIT_CHECKPOINT_SET, &e, NULL, NULL, doing);
    /* The prune's own entry names the last seq removed; one that removed nothing changed
     * nothing, and is not recorded. */
    char last[32];
    snprintf(last, sizeof last, "[\"%lld\"]", (long long)end.seq);
    struct mni_audit named = au ? *au : (struct mni_audit){0};
    named.resources = last;
    rc = out_of_memory(s, rc, doing);
    rc = mni_audit_end(s, tx, au && *removed ? &named : NULL, rc);
    if (rc != MN_OK)
        *removed = 0;
    return rc;
}
