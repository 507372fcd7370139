-- The event object as the sender wrote it (issue 12: with body_format json
-- and batch_size 1, a subscribed asset receives it byte for byte). text,
-- not jsonb, which would reorder keys and respace it. Kept only until the
-- event is processed, as user_identity is.

-- +goose Up
ALTER TABLE events ADD COLUMN raw text;

-- +goose Down
ALTER TABLE events DROP COLUMN raw;
