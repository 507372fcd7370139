-- Ingest stores events first and processes them for journeys in batches:
-- an event carries who it names until a worker resolves the contact.

-- +goose Up
ALTER TABLE events
    ADD COLUMN part            smallint NOT NULL DEFAULT 0, -- partition by the user's identity: one processor each, in order
    ADD COLUMN user_identity   jsonb,                       -- {"external_id", "email", "phone"} until processed
    ADD COLUMN user_attributes jsonb,                       -- to merge into the contact, until processed
    ADD COLUMN processed_at    timestamptz;
UPDATE events SET processed_at = received_at;              -- earlier events were processed as they came in
CREATE INDEX events_unprocessed ON events (panel_id, part, id) WHERE processed_at IS NULL;

-- +goose Down
DROP INDEX events_unprocessed;
ALTER TABLE events DROP COLUMN part, DROP COLUMN user_identity, DROP COLUMN user_attributes, DROP COLUMN processed_at;
