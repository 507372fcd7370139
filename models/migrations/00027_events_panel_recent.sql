-- The builder and the webhook form offer the names of a panel's recent
-- events and of their properties (issue 14): read newest first from this
-- index, a bounded range scan of the one panel's rows, never of the
-- table's other panels.

-- +goose Up
CREATE INDEX events_panel_recent ON events (panel_id, id);

-- +goose Down
DROP INDEX events_panel_recent;
