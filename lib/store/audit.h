/*
 * The audit log, written once over the driver (store/op_audit.c): an entry per change, made
 * by the API and appended by the store inside the change's own write, so that a change and
 * its entry commit (or roll back) together. Entries chain per tenant by BLAKE2b hash.
 */
#ifndef MNI_STORE_AUDIT_H
#define MNI_STORE_AUDIT_H

#include <stdint.h>

struct mni_store;
struct mni_tx;

/* One entry as the API makes it; every string is borrowed. */
struct mni_audit {
    const char *tenant_id;
    int64_t at;                /* ms since the epoch */
    const char *identity_id;   /* NULL: the tenant's system actor */
    const char *apikey_id;     /* NULL: not made by an API key */
    const char *action;        /* "memory:create", ... */
    const char *resources;     /* JSON array of the ids acted on */
    const char *outcome;       /* "ok" or "denied" */
    const char *policy_id;     /* the deciding policy, NULL for none */
    const char *context;       /* the actor's context JSON, NULL for none */
};

/* What a list selects (mn_audit_filter, checked and resolved); NULL or 0: any. */
struct mni_audit_query {
    const char *action;        /* a prefix of the action */
    const char *identity_id, *resource, *outcome;
    int64_t since, until;      /* until 0: no end */
    int64_t after_seq, limit;  /* limit 0: all */
};

/* In tx: appends au (NULL: nothing, for a write no caller asked for) at the head of its
 * tenant's chain, locking the head until the write ends. */
int mni_audit_append(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au);
/* Ends a write the way the driver's end does, appending au first when rc is MN_OK. */
int mni_audit_end(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au, int rc);

#endif
