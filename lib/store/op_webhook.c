/* Webhooks, written once over the driver (driver.h): subscriptions (table webhooks) and the
 * outbox of their deliveries (webhook_deliveries; sqlite 015, postgres 017). The outbox is
 * filled inside the write of the change that raises an event, from its audit entry, so that a
 * delivery exists exactly when its change committed. */
#include "store/driver.h"
#include "store/notfound.h"
#include "store/types.h"
#include "store/vault.h"
#include "core/error.h"
#include "core/uuid.h"
#include "core/webhook_event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mni_webhook_body(const char *event_id, const char *type, const char *tenant_id,
                       int64_t at, const char *data)
{
    static const char fmt[] = "{\"id\":\"%s\",\"type\":\"%s\",\"created_at\":%lld,"
                              "\"tenant_id\":\"%s\",\"data\":%s}";
    int n = snprintf(NULL, 0, fmt, event_id, type, (long long)at, tenant_id, data);
    char *body = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (body)
        snprintf(body, (size_t)n + 1, fmt, event_id, type, (long long)at, tenant_id, data);
    return body;
}

/* Queues body as a new event to the tenant's subscriptions that want bit (only webhook_id's,
 * when not NULL); *changed counts the deliveries. */
static int enqueue(struct mni_store *s, struct mni_tx *tx, const char *tenant_id, unsigned bit,
                   const char *event_id, const char *name, const char *body, int64_t now,
                   const char *webhook_id, int64_t *changed)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, bit);
    mni_arg_text(&a, event_id);
    mni_arg_text(&a, name);
    mni_arg_text(&a, body);
    mni_arg_int(&a, now);
    mni_arg_text(&a, webhook_id);
    return s->driver->exec(s, tx, MNI_WEBHOOK_ENQUEUE, &a, changed, NULL,
                           "queueing webhook deliveries");
}

int mni_webhook_outbox(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au)
{
    const char *name = NULL;
    unsigned bit = strcmp(au->outcome, "ok") == 0 ? mni_webhook_action_event(au->action, &name)
                                                  : 0;
    if (!bit)
        return MN_OK;
    static const char fmt[] = "{\"ids\":%s,\"identity_id\":%s%s%s}";
    const char *q = au->identity_id ? "\"" : "";
    const char *who = au->identity_id ? au->identity_id : "null";
    int n = snprintf(NULL, 0, fmt, au->resources, q, who, q);
    char *data = n > 0 ? malloc((size_t)n + 1) : NULL, *body = NULL;
    char event_id[MNI_UUID_LEN + 1];
    mni_uuid7(event_id);
    if (data) {
        snprintf(data, (size_t)n + 1, fmt, au->resources, q, who, q);
        body = mni_webhook_body(event_id, name, au->tenant_id, au->at, data);
    }
    int rc = body ? enqueue(s, tx, au->tenant_id, bit, event_id, name, body, au->at, NULL, NULL)
                  : mni_seterr(s->db, MN_ENOMEM, "out of memory queueing a webhook event");
    free(data);
    free(body);
    return rc;
}

int mni_op_webhook_insert(struct mni_store *s, const mn_webhook *w, unsigned events,
                          const char *secret, const struct mni_audit *au)
{
    struct mni_tx *tx;
    char *sealed = NULL;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    if (s->vault) {
        struct mni_data_key k;
        rc = mni_vault_write_key(s, tx, w->tenant_id, &k);
        if (rc == MN_OK)
            rc = mni_vault_seal(s, &k, w->tenant_id, w->id, MNI_WEBHOOK_SECRET_COLUMN, secret, &sealed);
        if (rc == MN_ENOMEM)
            rc = mni_seterr(s->db, rc, "out of memory sealing a webhook's secret");
    }
    struct mni_args a = {0};
    mni_arg_text(&a, w->id);
    mni_arg_text(&a, w->tenant_id);
    mni_arg_text(&a, w->url);
    mni_arg_int(&a, events);
    mni_arg_text(&a, sealed ? sealed : secret);
    mni_arg_int(&a, w->created_at);
    if (rc == MN_OK)
        rc = s->driver->exec(s, tx, MNI_WEBHOOK_INSERT, &a, NULL,
                             "a new webhook's random id is taken; add it again",
                             "storing a webhook");
    free(sealed);
    return mni_audit_end(s, tx, au, rc);
}

/* A subscription's columns (id, tenant_id, url, events as bits, created_at). */
static int row_webhook(const struct mni_row *r, void *item)
{
    mn_webhook *w = item;
    w->id = r->ops->text(r, 0);
    w->tenant_id = r->ops->text(r, 1);
    w->url = r->ops->text(r, 2);
    w->events = mni_webhook_events_json((unsigned)r->ops->integer(r, 3));
    w->created_at = r->ops->integer(r, 4);
    return w->id && w->tenant_id && w->url && w->events ? 1 : -MN_ENOMEM;
}

/* A delivery's columns (MNI_WEBHOOK_DELIVERIES). */
static int row_delivery(const struct mni_row *r, void *item)
{
    mn_webhook_delivery *d = item;
    d->id = r->ops->integer(r, 0);
    d->webhook_id = r->ops->text(r, 1);
    d->event_id = r->ops->text(r, 2);
    d->event = r->ops->text(r, 3);
    d->status = (int)r->ops->integer(r, 4);
    d->attempts = (int)r->ops->integer(r, 5);
    d->next_at = d->status == MN_DELIVERY_PENDING ? r->ops->integer(r, 6) : 0;
    d->http_status = (int)r->ops->integer(r, 7);
    int oom = 0;
    if (!r->ops->is_null(r, 8) && !(d->error = r->ops->text(r, 8)))
        oom = 1;
    d->created_at = r->ops->integer(r, 9);
    d->updated_at = r->ops->integer(r, 10);
    return oom || !d->webhook_id || !d->event_id || !d->event ? -MN_ENOMEM : 1;
}

static const struct mni_row_map map_webhook = { row_webhook, 0 };
static const struct mni_row_map map_delivery = { row_delivery, 0 };

int mni_op_webhook_list(struct mni_store *s, const char *tenant_id, mn_webhooks **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mn_webhooks *l = calloc(1, sizeof *l);
    int rc = l ? mni_query_list(s, MNI_WEBHOOK_LIST, &a, &map_webhook, sizeof(mn_webhook),
                                mni_webhook_clear, (void ***)&l->items, &l->count,
                                "reading webhooks")
               : mni_seterr(s->db, MN_ENOMEM, "out of memory reading webhooks");
    if (rc != MN_OK) {
        mn_webhooks_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int mni_op_webhook_delete(struct mni_store *s, const char *tenant_id, const char *id,
                          const struct mni_audit *au)
{
    static const enum mni_stmt steps[] = { MNI_WEBHOOK_DROP_DELIVERIES, MNI_WEBHOOK_DELETE };
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    int rc = mni_erase(s, 0, steps, 2, &a, "removing a webhook", au);
    return rc == MN_ENOTFOUND ? mni_store_no_webhook(s->db, id) : rc;
}

static int read_id(void *ctx, const struct mni_row *r)
{
    *(int64_t *)ctx = r->ops->integer(r, 0);
    return 1;
}

int mni_op_webhook_test(struct mni_store *s, const char *tenant_id, const char *id,
                        const char *event_id, const char *body, int64_t now,
                        int64_t *delivery, const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t changed = 0;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    rc = enqueue(s, tx, tenant_id, MNI_WEBHOOK_EVENTS_ALL, event_id, "webhook.test", body, now,
                 id, &changed);
    if (rc == MN_OK && changed == 0)
        rc = mni_store_no_webhook(s->db, id);
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    mni_arg_text(&a, event_id);
    if (rc == MN_OK)
        rc = s->driver->read(s, tx, MNI_WEBHOOK_DELIVERY_ID, &a, read_id, delivery,
                             "reading a new webhook delivery's id");
    return mni_audit_end(s, tx, au, rc);
}

int mni_op_webhook_deliveries(struct mni_store *s, const char *tenant_id,
                              const char *webhook_id, int status, int limit,
                              mn_webhook_deliveries **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, webhook_id);
    mni_arg_int(&a, status);
    mni_arg_int(&a, limit);
    mn_webhook_deliveries *l = calloc(1, sizeof *l);
    int rc = l ? mni_query_list(s, MNI_WEBHOOK_DELIVERIES, &a, &map_delivery,
                                sizeof(mn_webhook_delivery), mni_webhook_delivery_clear,
                                (void ***)&l->items, &l->count, "reading webhook deliveries")
               : mni_seterr(s->db, MN_ENOMEM, "out of memory reading webhook deliveries");
    if (rc != MN_OK) {
        mn_webhook_deliveries_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int mni_op_webhook_retry(struct mni_store *s, const char *tenant_id, int64_t id, int64_t now,
                         size_t *retried, const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, id);
    mni_arg_int(&a, now);
    int64_t changed = 0;
    int rc = mni_op_audited_exec(s, MNI_WEBHOOK_RETRY, &a, &changed, NULL,
                                 "retrying webhook deliveries", au);
    *retried = rc == MN_OK ? (size_t)changed : 0;
    if (rc == MN_OK && id && !changed)
        rc = mni_store_no_delivery(s->db, id);
    return rc;
}

struct claimed {
    struct mni_webhook_task *t;
    size_t n, cap;
};

static int read_task(void *ctx, const struct mni_row *r)
{
    struct claimed *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct mni_webhook_task *t = realloc(c->t, cap * sizeof *t);
        if (!t)
            return -MN_ENOMEM;
        c->t = t;
        c->cap = cap;
    }
    struct mni_webhook_task *t = &c->t[c->n++];
    memset(t, 0, sizeof *t);
    t->id = r->ops->integer(r, 0);
    t->attempts = (int)r->ops->integer(r, 6);
    char **text[] = { &t->tenant_id, &t->webhook_id, &t->event_id, &t->event, &t->body };
    for (int i = 0; i < 5; i++)
        if (!(*text[i] = r->ops->text(r, 1 + i)))
            return -MN_ENOMEM;
    return (t->url = r->ops->text(r, 7)) && (t->secret = r->ops->text(r, 8)) ? 0 : -MN_ENOMEM;
}

int mni_op_webhook_claim(struct mni_store *s, const char *claim, int64_t now,
                         int64_t lease_until, size_t limit, struct mni_webhook_task **out,
                         size_t *n)
{
    const char *doing = "claiming webhook deliveries";
    struct claimed c = {0};
    struct mni_args a = {0};
    mni_arg_text(&a, claim);
    mni_arg_int(&a, now);
    mni_arg_int(&a, lease_until);
    mni_arg_int(&a, (int64_t)limit);
    int64_t changed = 0;
    int rc = s->driver->exec(s, NULL, MNI_WEBHOOK_CLAIM, &a, &changed, NULL, doing);
    struct mni_args k = {0};
    mni_arg_text(&k, claim);
    if (rc == MN_OK && changed > 0)
        rc = s->driver->read(s, NULL, MNI_WEBHOOK_CLAIMED, &k, read_task, &c, doing);
    if (rc == MN_ENOMEM)
        rc = mni_seterr(s->db, rc, "out of memory %s", doing);
    for (size_t i = 0; rc == MN_OK && s->vault && i < c.n; i++)
        rc = mni_vault_open_in_place(s, c.t[i].tenant_id, c.t[i].webhook_id, MNI_WEBHOOK_SECRET_COLUMN,
                                     &c.t[i].secret);
    if (rc != MN_OK) {
        mni_webhook_tasks_free(c.t, c.n);
        c.t = NULL;
        c.n = 0;
    }
    *out = c.t;
    *n = c.n;
    return rc;
}

int mni_op_webhook_settle(struct mni_store *s, const char *claim,
                          const struct mni_webhook_task *t, const struct mni_webhook_result *r)
{
    struct mni_args a = {0};
    mni_arg_int(&a, t->id);
    mni_arg_text(&a, claim);
    mni_arg_int(&a, r->status);
    mni_arg_int(&a, r->http_status);
    mni_arg_text(&a, r->error);
    mni_arg_int(&a, r->next_at);
    mni_arg_int(&a, r->now);
    return s->driver->exec(s, NULL, MNI_WEBHOOK_SETTLE, &a, NULL, NULL,
                           "recording a webhook delivery");
}
