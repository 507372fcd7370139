-- A webhook node that waits for its delivery counts the runs that left it
-- by its outcome exits, "delivered" and "failed" (issue 12), as a wait
-- counts "happened" and "timeout".

-- +goose Up
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check
        CHECK (counter IN ('entered', 'next', 'happened', 'timeout', 'delivered', 'failed'));

-- +goose Down
DELETE FROM journey_node_counts WHERE counter IN ('delivered', 'failed');
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check CHECK (counter IN ('entered', 'next', 'happened', 'timeout'));
