-- Issue 15: a claim no longer marks its rows sending; the webhook's send
-- lease is the claim and the rows stay pending until their outcome (see
-- claimSQL in models/delivery_claim.go). send_seq counts the changes of
-- the lease and the completions under it, so a claim can tell that the
-- rows it read may be stale. Rows a running worker left sending go back to
-- pending, at the head of their webhook's line, and are sent again: at
-- least once. The index of sending rows has no reader left.

-- +goose Up
ALTER TABLE webhooks ADD COLUMN send_seq bigint NOT NULL DEFAULT 0;
UPDATE deliveries SET status = 'pending', lease_until = NULL WHERE status = 'sending';
DROP INDEX deliveries_sending;

-- +goose Down
CREATE INDEX deliveries_sending ON deliveries (webhook_id, lease_until) WHERE status = 'sending';
ALTER TABLE webhooks DROP COLUMN send_seq;
