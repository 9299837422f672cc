/* Webhooks and their deliveries: freeing them. Every function accepts NULL. */
#include "store/store.h"
#include "store/types.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void mni_webhook_clear(void *item)
{
    mn_webhook *w = item;
    free(w->id);
    free(w->tenant_id);
    free(w->url);
    free(w->events);
}

void mni_webhook_delivery_clear(void *item)
{
    mn_webhook_delivery *d = item;
    free(d->webhook_id);
    free(d->event_id);
    free(d->event);
    free(d->error);
}

void mn_webhook_free(mn_webhook *w)
{
    mni_one_free(w, mni_webhook_clear);
}

void mn_webhooks_free(mn_webhooks *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_webhook_clear);
    free(l);
}

void mn_webhook_deliveries_free(mn_webhook_deliveries *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_webhook_delivery_clear);
    free(l);
}

void mni_webhook_tasks_free(struct mni_webhook_task *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        if (t[i].secret)
            sodium_memzero(t[i].secret, strlen(t[i].secret));
        char *own[] = { t[i].tenant_id, t[i].webhook_id, t[i].event_id, t[i].event,
                        t[i].body, t[i].url, t[i].secret };
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
            free(own[k]);
    }
    free(t);
}
