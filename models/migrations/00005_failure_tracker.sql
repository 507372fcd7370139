-- Failure tracker: health per webhook, thresholds per panel and asset,
-- alert recipients, and the alerts outbox.

-- +goose Up
ALTER TABLE webhooks
    ADD COLUMN health             jsonb NOT NULL DEFAULT '{}',  -- package jobs/health; written by the send-lease holder
    ADD COLUMN health_settings    jsonb NOT NULL DEFAULT '{}',  -- thresholds overriding the panel's
    ADD COLUMN disabled_at        timestamptz,                   -- re-enabling needs a test passed after this
    ADD COLUMN auto_probe_minutes integer NOT NULL DEFAULT 0 CHECK (auto_probe_minutes BETWEEN 0 AND 1440),
    ADD COLUMN last_probe_at      timestamptz;
ALTER TABLE panels ADD COLUMN health_settings jsonb NOT NULL DEFAULT '{}';

-- Who hears about a webhook: the panel's recipients (webhook_id NULL) and
-- the webhook's own.
CREATE TABLE alert_recipients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id   bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    webhook_id bigint REFERENCES webhooks (id) ON DELETE CASCADE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alert_recipients_unique ON alert_recipients (panel_id, coalesce(webhook_id, 0), lower(email));

-- Alerts are written with the change of state that calls for them and sent
-- by a retried task; unsent ones are found again by a sweep. At most one a
-- webhook and state an hour.
CREATE TABLE alerts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id   bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    state      text NOT NULL CHECK (state IN ('degraded', 'disabled', 'recovered')),
    details    jsonb NOT NULL,               -- the facts the e-mail states, as they were
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    recipients text[] NOT NULL DEFAULT '{}',
    attempts   integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX alerts_throttle ON alerts (webhook_id, state, created_at DESC);
CREATE INDEX alerts_unsent ON alerts (created_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE alerts;
DROP TABLE alert_recipients;
ALTER TABLE panels DROP COLUMN health_settings;
ALTER TABLE webhooks DROP COLUMN health, DROP COLUMN health_settings, DROP COLUMN disabled_at,
    DROP COLUMN auto_probe_minutes, DROP COLUMN last_probe_at;
