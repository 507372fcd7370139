-- A second's timers are ended per panel: one task for each panel with
-- deadlines in it, so a panel that sets 100,000 waits to run out in the
-- same second (a campaign's "wait until 9:00") holds up only its own
-- runs, not another panel's due in that second (issue 15, found by a
-- review). Every timer query now names its panel: the seconds with
-- deadlines are found panel by panel, the sweep takes a few overdue runs
-- of each panel. The index on the deadline alone has no reader left, so
-- it goes: a waiting run still costs one timer index entry.
-- Built concurrently: journey_runs may hold millions of waiting runs, and
-- journeys write them all the time. A run that failed half way starts
-- again cleanly.

-- +goose NO TRANSACTION
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_panel_timers;
CREATE INDEX CONCURRENTLY journey_runs_panel_timers ON journey_runs (panel_id, wait_until) WHERE status = 'waiting';
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_timers;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_timers;
CREATE INDEX CONCURRENTLY journey_runs_timers ON journey_runs (wait_until) WHERE status = 'waiting';
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_panel_timers;
