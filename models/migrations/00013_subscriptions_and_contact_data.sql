-- Event-type subscriptions: an asset receives the events it names without
-- a journey. And per-contact data-table rows, which webhook nodes send as
-- udt_params.

-- +goose Up
ALTER TABLE webhooks ADD COLUMN subscriptions jsonb NOT NULL DEFAULT '[]'; -- [{"event", "source"?, "channel"?}]
CREATE INDEX webhooks_subscribed ON webhooks (panel_id) WHERE subscriptions <> '[]'::jsonb;

CREATE TABLE contact_data (
    panel_id   bigint      NOT NULL,
    contact_id bigint      NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    table_name text        NOT NULL,
    rows       jsonb       NOT NULL, -- [{column: value}], in the order given
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (panel_id, contact_id, table_name)
);

-- +goose Down
DROP TABLE contact_data;
DROP INDEX webhooks_subscribed;
ALTER TABLE webhooks DROP COLUMN subscriptions;
