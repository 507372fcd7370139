-- A send lease on the webhook: the claim statement takes it, so claiming is
-- one statement and one request per webhook is in flight at a time.

-- +goose Up
-- Not indexed: the lease changes on every claim, and an index on it would
-- stop those updates from being HOT. The reconciler scans webhooks instead.
ALTER TABLE webhooks ADD COLUMN send_lease_until timestamptz;
-- Room on each page for the lease's updated row versions (HOT updates).
ALTER TABLE webhooks SET (fillfactor = 50);

-- +goose Down
ALTER TABLE webhooks RESET (fillfactor);
ALTER TABLE webhooks DROP COLUMN send_lease_until;
