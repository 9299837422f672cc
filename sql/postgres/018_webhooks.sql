-- Webhooks (as sql/sqlite/016_webhooks.sql): subscriptions, and the outbox of deliveries
-- written in the change's own transaction.
CREATE TABLE webhooks (
    id         text COLLATE "C" PRIMARY KEY,
    tenant_id  text COLLATE "C" NOT NULL,
    url        text NOT NULL,
    events     integer NOT NULL,
    secret     text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, events);

CREATE TABLE webhook_deliveries (
    id          bigserial PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL,
    webhook_id  text COLLATE "C" NOT NULL,
    event_id    text NOT NULL,
    event       text NOT NULL,
    body        text NOT NULL,
    status      integer NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    next_at     bigint NOT NULL,
    claim       text,
    http_status integer NOT NULL DEFAULT 0,
    error       text,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, webhook_id);
CREATE INDEX webhook_deliveries_by_claim ON webhook_deliveries (claim) WHERE claim IS NOT NULL;
