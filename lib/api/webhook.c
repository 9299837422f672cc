/* Webhooks: subscribing, listing, removing, testing them and their deliveries (the public
 * calls). A subscription's secret exists outside the store only while it is made. Delivering
 * is api/webhook_run.c's. */
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/audit.h"
#include "api/handle.h"
#include "api/webhook.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/uuid.h"
#include "core/webhook_event.h"
#include "jobs/jobs.h"
#include "store/driver.h"
#include "store/store.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX 2048
#define SECRET_BYTES 32
#define SECRET_PREFIX "whsec_"
#define SECRET_LEN (sizeof SECRET_PREFIX - 1 + 2 * SECRET_BYTES)
#define DELIVERIES_DEFAULT 100
#define DELIVERIES_MAX 10000

/* Resolves the actor and checks it may `action` ("create", "read", "update", "delete")
 * webhooks (id: the one meant, or NULL). */
static int begin(mn_db *db, const mn_actor *actor, const char *action, const char *id,
                 struct mni_who *who)
{
    int rc = mni_who_resolve(db, actor, who);
    if (rc != MN_OK || !who->identity)
        return rc;
    cJSON *data = cJSON_CreateObject();
    rc = data && (!id || cJSON_AddStringToObject(data, "id", id))
             ? mni_access_check(db, who, action, "webhook", data)
             : mni_seterr(db, MN_ENOMEM, "out of memory");
    cJSON_Delete(data);
    return rc;
}

static int writable(mn_db *db, const char *what)
{
    return db->cfg.flags & MN_OPEN_READONLY
               ? mni_seterr(db, MN_EINVAL, "the handle is read-only: %s", what)
               : MN_OK;
}

/* http:// or https://, a host, no space or control character. */
static int check_url(mn_db *db, const char *url)
{
    const char *rest = NULL;
    if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    const char *why = NULL;
    if (!rest)
        why = "is not http:// or https://";
    else if (strlen(url) > URL_MAX)
        why = "is longer than 2048 bytes";
    else if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
        why = "names no host";
    for (const unsigned char *p = (const unsigned char *)url; !why && *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            why = "holds a space or a control character (escape it as %XX)";
    return why ? mni_seterr(db, MN_EINVAL, "the webhook's URL \"%.80s\" %s; give the http:// or "
                            "https:// URL that receives the events", url, why)
               : MN_OK;
}

/* The events, a JSON array of names, as bits. */
static int parse_events(mn_db *db, const char *text, unsigned *bits)
{
    *bits = 0;
    cJSON *arr = cJSON_Parse(text);
    const char *why = arr && cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > 0
                          ? NULL : "are not a JSON array of one or more names";
    const char *name = "";
    const cJSON *it, *names = why ? NULL : arr;
    cJSON_ArrayForEach(it, names) {
        unsigned bit = cJSON_IsString(it) ? mni_webhook_event_bit(it->valuestring) : 0;
        name = cJSON_IsString(it) ? it->valuestring : "";
        if (!bit)
            why = cJSON_IsString(it) ? "name an unknown event" : "hold something not a string";
        else if (*bits & bit)
            why = "name an event twice";
        if (why)
            break;
        *bits |= bit;
    }
    int rc = why ? mni_seterr(db, MN_EINVAL, "the webhook's events %s%s%.64s%s; give a JSON array "
                             "of one or more of " MNI_WEBHOOK_EVENT_NAMES, why,
                             *name ? " (\"" : "", name, *name ? "\")" : "")
                 : MN_OK;
    cJSON_Delete(arr);
    return rc;
}

/* The stored subscription with that id, as lists show it. */
static int read_back(mn_db *db, const char *tenant_id, const char *id, mn_webhook **out)
{
    mn_webhooks *l = NULL;
    int rc = db->store->ops->webhook_list(db->store, tenant_id, &l);
    for (size_t i = 0; rc == MN_OK && !*out && i < l->count; i++) {
        if (strcmp(l->items[i]->id, id) == 0) {
            *out = l->items[i];
            l->items[i] = l->items[--l->count];
        }
    }
    if (rc == MN_OK && !*out)
        rc = mni_seterr(db, MN_EBACKEND, "webhook %s vanished as it was made", id);
    mn_webhooks_free(l);
    return rc;
}

int mn_webhook_add(mn_db *db, const mn_actor *actor, const mn_webhook_input *input,
                   char **secret_out, mn_webhook **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    if (secret_out)
        *secret_out = NULL;
    if (out)
        *out = NULL;
    mn_webhook_input in;
    unsigned bits = 0;
    struct mni_who who = {0};
    int rc = mni_require(db, secret_out, "secret_out");
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_webhook_input, input, 0, &in, sizeof in);
    if (rc == MN_OK)
        rc = mni_require(db, in.url, "the webhook's URL (mn_webhook_input.url)");
    if (rc == MN_OK)
        rc = mni_require(db, in.events, "the webhook's events (mn_webhook_input.events)");
    if (rc == MN_OK)
        rc = check_url(db, in.url);
    if (rc == MN_OK)
        rc = parse_events(db, in.events, &bits);
    if (rc == MN_OK)
        rc = writable(db, "webhooks cannot be added");
    if (rc == MN_OK)
        rc = begin(db, actor, "create", NULL, &who);
    char id[MNI_UUID_LEN + 1], secret[SECRET_LEN + 1];
    unsigned char raw[SECRET_BYTES];
    mni_uuid7(id);
    randombytes_buf(raw, sizeof raw);
    memcpy(secret, SECRET_PREFIX, sizeof SECRET_PREFIX - 1);
    sodium_bin2hex(secret + sizeof SECRET_PREFIX - 1, 2 * SECRET_BYTES + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    const char *ids[] = { id };
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "webhook:create", ids, 1, &au);
    mn_webhook w = { .id = id, .tenant_id = rc == MN_OK ? who.tenant->id : NULL,
                     .url = (char *)in.url, .created_at = mni_now_ms() };
    if (rc == MN_OK)
        rc = db->store->ops->webhook_insert(db->store, &w, bits, secret, &au.au);
    mni_audit_call_release(&au);
    if (rc == MN_OK && out)
        rc = read_back(db, who.tenant->id, id, out);
    if (rc == MN_OK && !(*secret_out = strdup(secret)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc != MN_OK && out) {
        mn_webhook_free(*out);
        *out = NULL;
    }
    sodium_memzero(secret, sizeof secret);
    mni_who_release(&who);
    return rc;
}

int mn_webhook_list(mn_db *db, const mn_actor *actor, mn_webhooks **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK)
        rc = begin(db, actor, "read", NULL, &who);
    if (rc == MN_OK)
        rc = db->store->ops->webhook_list(db->store, who.tenant->id, out);
    mni_who_release(&who);
    return rc;
}

/* A change to one subscription: the id checked, the actor allowed to `action` it, the audit
 * entry of audit_action (a literal: the entry borrows it) made. */
static int begin_change(mn_db *db, const mn_actor *actor, const char *action,
                        const char *audit_action, const char *id, char key[MNI_UUID_LEN + 1],
                        struct mni_who *who, struct mni_audit_call *au)
{
    int rc = mni_require(db, id, "the webhook id");
    if (rc == MN_OK && !mni_uuid_valid(id))
        rc = mni_seterr(db, MN_EINVAL, "the webhook id \"%.64s\" is not a UUID; mn_webhook_list "
                        "shows the webhooks' ids", id);
    if (rc == MN_OK)
        mni_uuid_lower(id, key);
    if (rc == MN_OK)
        rc = writable(db, "webhooks cannot be changed");
    if (rc == MN_OK)
        rc = begin(db, actor, action, key, who);
    const char *ids[] = { key };
    if (rc == MN_OK)
        rc = mni_audit_call(db, who, audit_action, ids, 1, au);
    return rc;
}

int mn_webhook_remove(mn_db *db, const mn_actor *actor, const char *id)
{
    if (!db)
        return mni_err_no_db(__func__);
    char key[MNI_UUID_LEN + 1];
    struct mni_who who = {0};
    struct mni_audit_call au = {0};
    int rc = begin_change(db, actor, "delete", "webhook:delete", id, key, &who, &au);
    if (rc == MN_OK)
        rc = db->store->ops->webhook_delete(db->store, who.tenant->id, key, &au.au);
    mni_audit_call_release(&au);
    mni_who_release(&who);
    return rc;
}

int mn_webhook_test(mn_db *db, const mn_actor *actor, const char *id, int64_t *delivery_id)
{
    if (!db)
        return mni_err_no_db(__func__);
    char key[MNI_UUID_LEN + 1], event_id[MNI_UUID_LEN + 1], data[MNI_UUID_LEN + 32];
    struct mni_who who = {0};
    struct mni_audit_call au = {0};
    int64_t delivery = 0;
    int rc = begin_change(db, actor, "update", "webhook:test", id, key, &who, &au);
    char *body = NULL;
    if (rc == MN_OK) {
        mni_uuid7(event_id);
        snprintf(data, sizeof data, "{\"webhook_id\":\"%s\"}", key);
        if (!(body = mni_webhook_body(event_id, "webhook.test", who.tenant->id, au.au.at, data)))
            rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    }
    if (rc == MN_OK)
        rc = db->store->ops->webhook_test(db->store, who.tenant->id, key, event_id, body,
                                          au.au.at, &delivery, &au.au);
    if (rc == MN_OK)
        mni_jobs_wake(db->webhooks);
    if (rc == MN_OK && delivery_id)
        *delivery_id = delivery;
    free(body);
    mni_audit_call_release(&au);
    mni_who_release(&who);
    return rc;
}

int mn_webhook_deliveries_list(mn_db *db, const mn_actor *actor, const char *webhook_id,
                               int status, int limit, mn_webhook_deliveries **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK && webhook_id && !mni_uuid_valid(webhook_id))
        rc = mni_seterr(db, MN_EINVAL, "the webhook id \"%.64s\" is not a UUID; mn_webhook_list "
                        "shows the webhooks' ids", webhook_id);
    if (rc == MN_OK && webhook_id)
        mni_uuid_lower(webhook_id, key);
    if (rc == MN_OK && (status < 0 || status > MN_DELIVERY_DEAD))
        rc = mni_seterr(db, MN_EINVAL, "the delivery status %d is none of MN_DELIVERY_PENDING "
                        "(1), MN_DELIVERY_DONE (2), MN_DELIVERY_DEAD (3), or 0 for any", status);
    if (rc == MN_OK && (limit < 0 || limit > DELIVERIES_MAX))
        rc = mni_seterr(db, MN_EINVAL, "the deliveries' limit %d is out of range; give 1..%d "
                        "(0 = %d)", limit, DELIVERIES_MAX, DELIVERIES_DEFAULT);
    if (rc == MN_OK)
        rc = begin(db, actor, "read", webhook_id ? key : NULL, &who);
    if (rc == MN_OK)
        rc = db->store->ops->webhook_deliveries(db->store, who.tenant->id,
                                                webhook_id ? key : NULL, status,
                                                limit ? limit : DELIVERIES_DEFAULT, out);
    mni_who_release(&who);
    return rc;
}

int mn_webhook_retry(mn_db *db, const mn_actor *actor, int64_t delivery_id, size_t *retried)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    struct mni_audit_call au = {0};
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)delivery_id);
    const char *ids[] = { id };
    int rc = delivery_id < 0 ? mni_seterr(db, MN_EINVAL, "the delivery id %lld is negative; give "
                                          "a delivery's id, or 0 for every dead one",
                                          (long long)delivery_id)
                             : MN_OK;
    if (rc == MN_OK)
        rc = writable(db, "deliveries cannot be retried");
    if (rc == MN_OK)
        rc = begin(db, actor, "update", NULL, &who);
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "webhook:retry", ids, delivery_id ? 1 : 0, &au);
    size_t n = 0;
    if (rc == MN_OK)
        rc = db->store->ops->webhook_retry(db->store, who.tenant->id, delivery_id, au.au.at, &n,
                                           &au.au);
    if (rc == MN_OK && n)
        mni_jobs_wake(db->webhooks);
    if (retried)
        *retried = rc == MN_OK ? n : 0;
    mni_audit_call_release(&au);
    mni_who_release(&who);
    return rc;
}
