-- Journey timers live in PostgreSQL (issue 15): the deadline of a waiting
-- run is its wait_until, already indexed on waiting runs
-- (journey_runs_timers). The sweep also looks for waiting runs whose
-- awaited event came while their journey was paused; without an index of
-- their own it read every waiting run every few seconds.
-- Built concurrently: journey_runs may hold millions of waiting runs.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS journey_runs_happened ON journey_runs (id) WHERE status = 'waiting' AND happened;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS journey_runs_happened;
