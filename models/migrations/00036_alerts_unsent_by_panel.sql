-- The alert sweep takes each panel's oldest unsent alerts. It ranked every
-- unsent alert of every panel to do so, on every pass, and unsent alerts
-- pile up wherever mail cannot go out (issue 15's review): it now steps
-- from one panel with unsent alerts to the next through this index and
-- reads a few of each, so a pass costs what it takes, not what waits.
-- Built concurrently: a deployment whose alerts could not be mailed may
-- hold many of them.

-- +goose NO TRANSACTION
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent_panel;
CREATE INDEX CONCURRENTLY alerts_unsent_panel ON alerts (panel_id, id) WHERE sent_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent;
CREATE INDEX CONCURRENTLY alerts_unsent ON alerts (created_at) WHERE sent_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS alerts_unsent_panel;
