-- Webhooks (lib/api/webhook*.c, store/op_webhook.c). A subscription of a tenant: where to
-- POST (url), which events (a bit per event, core/webhook_event.h) and the secret signing its
-- requests (sealed under the tenant's data key in an encrypted database).
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    url        TEXT NOT NULL,
    events     INTEGER NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, events);

-- The outbox: a delivery per event and subscription, written in the change's own write.
-- status 1 pending, 2 delivered, 3 dead (its attempts ran out). A claimed delivery carries the
-- claim token and is due again (next_at) when the claim's lease runs out.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event       TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    claim       TEXT,
    http_status INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, webhook_id);
CREATE INDEX webhook_deliveries_by_claim ON webhook_deliveries (claim) WHERE claim IS NOT NULL;
