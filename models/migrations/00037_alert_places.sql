-- Alert e-mail takes turns across panels. The mail queue is first come,
-- first served and shared by every panel, so a panel holds at most a few
-- places in it (queued_at: the alert's task is in the queue), and an alert
-- whose sending failed waits for its next attempt (next_attempt_at) out of
-- the queue, in PostgreSQL, instead of as a task retried in Redis. Built
-- concurrently: a deployment whose alerts could not be mailed may hold
-- many of them.

-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS queued_at timestamptz,
    ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
UPDATE alerts SET next_attempt_at = created_at WHERE sent_at IS NULL AND next_attempt_at IS NULL;
-- Alerts written by the release before, still running while this one
-- starts, are due at once.
ALTER TABLE alerts ALTER COLUMN next_attempt_at SET DEFAULT now();
-- The alerts a panel may send next, the soonest due first.
DROP INDEX CONCURRENTLY IF EXISTS alerts_due;
CREATE INDEX CONCURRENTLY alerts_due ON alerts (panel_id, next_attempt_at) WHERE sent_at IS NULL AND queued_at IS NULL;
-- The places a panel holds in the queue.
DROP INDEX CONCURRENTLY IF EXISTS alerts_queued;
CREATE INDEX CONCURRENTLY alerts_queued ON alerts (panel_id) WHERE sent_at IS NULL AND queued_at IS NOT NULL;
-- A webhook's alerts go out in the order they were written.
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent_webhook;
CREATE INDEX CONCURRENTLY alerts_unsent_webhook ON alerts (webhook_id, id) INCLUDE (created_at) WHERE sent_at IS NULL;
-- The sweep steps from panel to panel through alerts_due now, and nothing
-- else reads alerts_unsent_panel (00036): every alert written kept it up
-- for nothing.
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent_panel;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS alerts_unsent_panel ON alerts (panel_id, id) WHERE sent_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent_webhook;
DROP INDEX CONCURRENTLY IF EXISTS alerts_queued;
DROP INDEX CONCURRENTLY IF EXISTS alerts_due;
ALTER TABLE alerts DROP COLUMN IF EXISTS next_attempt_at, DROP COLUMN IF EXISTS queued_at;
