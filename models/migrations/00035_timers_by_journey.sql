-- A second's timers task moves the due runs of every live journey, a fair
-- share of each panel a batch, rather than in deadline order: a panel that
-- sets 100,000 waits to run out in one second (a campaign's "wait until
-- 9:00") no longer holds up another panel's runs due in that second until
-- its own have moved (found by review). The task reads each live journey's
-- due runs through this index, after a cursor (deadline, id) of its own,
-- so runs already moved, and runs of paused journeys, are not read again;
-- the sweep for lost timers reads each live journey's earliest overdue
-- runs the same way, so a paused journey's runs no longer fill it.
-- The runs that saw their awaited event while their journey was paused
-- are read the same way, a few of each live journey (the index on them
-- is rebuilt on the journey), so one panel's many never hide another's.
-- Built concurrently: journey_runs may hold millions of waiting runs, and
-- journeys write them all the time. A run that failed half way starts
-- again cleanly.

-- +goose NO TRANSACTION
-- +goose Up
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_journey_timers;
CREATE INDEX CONCURRENTLY journey_runs_journey_timers ON journey_runs (journey_id, wait_until, id) WHERE status = 'waiting';
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_happened_by_journey;
CREATE INDEX CONCURRENTLY journey_runs_happened_by_journey ON journey_runs (journey_id, id) WHERE status = 'waiting' AND happened;
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_happened;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS journey_runs_happened ON journey_runs (id) WHERE status = 'waiting' AND happened;
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_happened_by_journey;
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_journey_timers;
