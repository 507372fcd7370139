-- An event whose processing PostgreSQL refuses for the event's own data
-- (a value it cannot store, a row that breaks a constraint) fails its
-- whole batch, and every retry of it. Rather than hold up its partition's
-- later events for good, it is set aside: marked processed, with a row
-- here saying why, which the panel's settings page lists. The event's
-- names are copied so the row reads alone.

-- +goose Up
CREATE TABLE event_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    panel_id  bigint NOT NULL REFERENCES panels (id) ON DELETE CASCADE,
    event     uuid NOT NULL,          -- events.id
    event_id  text NOT NULL,
    source    text NOT NULL,
    name      text NOT NULL,
    reason    text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX event_failures_panel ON event_failures (panel_id, id);

-- +goose Down
DROP TABLE event_failures;
