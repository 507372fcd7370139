-- A journey step may not name an event longer than 200 bytes, as no
-- ingested event is named so (journey validation, since this release). A
-- wait kept the name in journey_runs_waiting, whose entries have a size
-- limit, so every run that reached such a step failed, and every event
-- that started the journey was set aside unprocessed (event_failures).
-- Live journeys saved before the check are paused: they start no run, the
-- journeys page shows them paused, and publishing one again shows the
-- step's error. (Down leaves them paused: a person publishes them.)

-- +goose Up
UPDATE journeys SET status = 'paused', updated_at = now()
WHERE status = 'live' AND EXISTS (
    SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(definition->'nodes') = 'array' THEN definition->'nodes' ELSE '[]' END) n
    WHERE octet_length(n->>'event') > 200);

-- +goose Down
SELECT 1;
