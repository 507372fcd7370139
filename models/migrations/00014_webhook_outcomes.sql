-- A journey's webhook node may wait for its delivery's outcome (exits
-- "delivered" and "failed") and save fields of the response into the
-- contact (issue 12).
--
-- deliveries.run_awaits: the run (run_id) waits at its webhook node for
-- this delivery to be delivered or failed for good; its completion asks for
-- the run to move on. deliveries.keep_response: the node saves from the
-- response, so the body of the 2xx that delivered it (at most 64 KiB, of a
-- request that carried this delivery alone) is kept in deliveries.response
-- by the statement that completes it. Other deliveries keep no body.
--
-- journey_runs.awaits_delivery: the delivery a run waiting at a webhook
-- node waits for. The sweep finds the runs whose delivery completed (or
-- vanished with its webhook) but that did not move: their task was lost.

-- +goose Up
ALTER TABLE deliveries
    ADD COLUMN run_awaits boolean NOT NULL DEFAULT false,
    ADD COLUMN keep_response boolean NOT NULL DEFAULT false,
    ADD COLUMN response text;
ALTER TABLE journey_runs ADD COLUMN awaits_delivery uuid;
CREATE INDEX journey_runs_awaiting_delivery ON journey_runs (awaits_delivery)
    WHERE status = 'waiting' AND awaits_delivery IS NOT NULL;

-- +goose Down
DROP INDEX journey_runs_awaiting_delivery;
ALTER TABLE journey_runs DROP COLUMN awaits_delivery;
ALTER TABLE deliveries DROP COLUMN response, DROP COLUMN keep_response, DROP COLUMN run_awaits;
