-- +goose Up
-- How many runs entered each step of a journey and left by each exit.
-- The engine adds to these in the transaction that moves the runs, so the
-- canvas reads a few rows instead of walking journey_runs. A transaction
-- writes under one shard chosen at random: concurrent ingest workers
-- rarely queue for the same counter row, and the reader sums the shards.
CREATE TABLE journey_node_counts (
    journey_id bigint   NOT NULL,
    node       text     NOT NULL,
    counter    text     NOT NULL CHECK (counter IN ('entered', 'next', 'happened', 'timeout')),
    shard      smallint NOT NULL,
    n          bigint   NOT NULL,
    PRIMARY KEY (journey_id, node, counter, shard)
);

-- The webhook node a journey delivery came from, so the canvas counts each
-- node's deliveries by status ('' for deliveries made through the API).
ALTER TABLE deliveries ADD COLUMN journey_node text NOT NULL DEFAULT '';
CREATE INDEX deliveries_journey_node ON deliveries (journey_id, journey_node, status) WHERE journey_id IS NOT NULL;

-- Runs waiting at each step of a journey.
CREATE INDEX journey_runs_waiting_node ON journey_runs (journey_id, node) WHERE status = 'waiting';

-- The panel's time zone (an IANA name) for the times the web UI shows.
ALTER TABLE panels ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- +goose Down
ALTER TABLE panels DROP COLUMN time_zone;
DROP INDEX journey_runs_waiting_node;
DROP INDEX deliveries_journey_node;
ALTER TABLE deliveries DROP COLUMN journey_node;
DROP TABLE journey_node_counts;
