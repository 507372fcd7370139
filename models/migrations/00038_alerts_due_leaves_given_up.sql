-- A given-up alert (next_attempt_at NULL: its recipients refused for good,
-- or a day old) is never due again. The index of due alerts leaves such
-- alerts out, so the sweep's walk from panel to panel through it does not
-- step through the panels that hold only given-up alerts, every pass, for
-- good. Built concurrently, under a new name, before the old one goes.

-- +goose NO TRANSACTION
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS alerts_due_tried;
CREATE INDEX CONCURRENTLY alerts_due_tried ON alerts (panel_id, next_attempt_at)
    WHERE sent_at IS NULL AND queued_at IS NULL AND next_attempt_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS alerts_due;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS alerts_due ON alerts (panel_id, next_attempt_at) WHERE sent_at IS NULL AND queued_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS alerts_due_tried;
