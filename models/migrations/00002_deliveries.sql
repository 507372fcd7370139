-- Delivery pipeline: the outbox of deliveries, the attempt log, and the
-- per-asset settings of retries, rate and body size.

-- +goose Up
ALTER TABLE webhooks
    ADD COLUMN max_attempts     integer NOT NULL DEFAULT 9 CHECK (max_attempts BETWEEN 1 AND 30),
    ADD COLUMN give_up_after_s  integer NOT NULL DEFAULT 259200 CHECK (give_up_after_s BETWEEN 60 AND 2592000),
    ADD COLUMN rate_limit_per_s integer NOT NULL DEFAULT 0 CHECK (rate_limit_per_s BETWEEN 0 AND 10000),
    ADD COLUMN max_body_bytes   integer NOT NULL DEFAULT 1048576 CHECK (max_body_bytes BETWEEN 16384 AND 10485760);

-- One row per event for one webhook. A row is written before anything is
-- enqueued, so Redis only ever carries hints about work that Postgres holds.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,      -- a ULID: time-ordered; "dlv_" + its text is the delivery_id
    panel_id         bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    webhook_id       bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    journey_id       bigint,
    run_id           bigint,
    item             json NOT NULL,          -- the batch item as sent; json, not jsonb, keeps its key order
    status           text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'held')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_until      timestamptz,           -- while sending: after this the claim is void
    last_error       text NOT NULL DEFAULT '',
    last_status_code integer NOT NULL DEFAULT 0,
    last_attempt_id  bigint,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    delivered_at     timestamptz
);
-- The claim: the oldest pending rows of one webhook.
CREATE INDEX deliveries_pending ON deliveries (webhook_id, id) WHERE status = 'pending';
-- "Is a request of this webhook in flight?" and the lease sweep.
CREATE INDEX deliveries_sending ON deliveries (webhook_id, lease_until) WHERE status = 'sending';
-- Listing a webhook's deliveries, newest first (ids sort by time).
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);

-- One row per HTTP request.
CREATE TABLE attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id        bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    batch_id        text NOT NULL,          -- the webhook-id header: stable across retries of the same batch
    item_count      integer NOT NULL,
    request_headers jsonb NOT NULL,         -- secrets redacted
    status_code     integer NOT NULL DEFAULT 0,
    latency_ms      integer NOT NULL DEFAULT 0,
    response_body   text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    error_class     text NOT NULL DEFAULT '',
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    created_at      timestamptz NOT NULL
);
CREATE INDEX attempts_webhook ON attempts (webhook_id, id);

-- +goose Down
DROP TABLE attempts;
DROP TABLE deliveries;
ALTER TABLE webhooks DROP COLUMN max_attempts, DROP COLUMN give_up_after_s,
    DROP COLUMN rate_limit_per_s, DROP COLUMN max_body_bytes;
