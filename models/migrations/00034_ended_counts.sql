-- A step counts the runs that ended there with an error ("ended": its
-- step was deleted, or the database refused its next step), so the
-- journey map can show them as failures where they happened.

-- +goose Up
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check
        CHECK (counter IN ('entered', 'next', 'happened', 'timeout', 'delivered', 'failed', 'ended'));

-- +goose Down
DELETE FROM journey_node_counts WHERE counter = 'ended';
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check
        CHECK (counter IN ('entered', 'next', 'happened', 'timeout', 'delivered', 'failed'));
