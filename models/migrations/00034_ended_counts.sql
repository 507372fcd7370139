-- A step counts the runs that ended there with an error ("ended": its
-- step was deleted, or the database refused its next step), so the
-- journey map can show them as failures where they happened. The runs
-- that ended before are counted once, here (a read of journey_runs).

-- +goose Up
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check
        CHECK (counter IN ('entered', 'next', 'happened', 'timeout', 'delivered', 'failed', 'ended'));
INSERT INTO journey_node_counts (journey_id, node, counter, shard, n)
SELECT journey_id, node, 'ended', 0, count(*) FROM journey_runs WHERE status = 'ended' GROUP BY journey_id, node
ON CONFLICT (journey_id, node, counter, shard) DO UPDATE SET n = journey_node_counts.n + excluded.n;

-- +goose Down
DELETE FROM journey_node_counts WHERE counter = 'ended';
ALTER TABLE journey_node_counts DROP CONSTRAINT journey_node_counts_counter_check,
    ADD CONSTRAINT journey_node_counts_counter_check
        CHECK (counter IN ('entered', 'next', 'happened', 'timeout', 'delivered', 'failed'));
