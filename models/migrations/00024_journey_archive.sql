-- Archiving a stopped or paused journey hides it from the journey list
-- (issue 14); a filter shows the archived ones. NULL: not archived.

-- +goose Up
ALTER TABLE journeys ADD COLUMN archived_at timestamptz;

-- +goose Down
ALTER TABLE journeys DROP COLUMN archived_at;
